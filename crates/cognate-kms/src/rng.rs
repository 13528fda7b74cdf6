//! Injected randomness: the workspace's one [`Random`] trait, and the operating system's
//! CSPRNG for callers (and tests) that have no source of their own.
pub use cognate_crypto::random::Random;

/// The operating system's CSPRNG (through aws-lc).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRandomSource;

impl Random for SystemRandomSource {
    fn fill(&self, dest: &mut [u8]) {
        // aws-lc's RNG only fails if the OS entropy source is unusable, which no caller can
        // recover from.
        aws_lc_rs::rand::fill(dest).expect("system random number generator failed");
    }
}
