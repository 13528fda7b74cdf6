//! Injected randomness.

/// A source of cryptographically secure random bytes, supplied by the caller so that tests can
/// make key generation reproducible. Any `Fn(&mut [u8]) + Send + Sync` closure is one.
pub trait RandomSource: Send + Sync {
    /// Fills `dest` with random bytes.
    fn fill(&self, dest: &mut [u8]);
}

impl<F: Fn(&mut [u8]) + Send + Sync> RandomSource for F {
    fn fill(&self, dest: &mut [u8]) {
        self(dest);
    }
}

/// The operating system's CSPRNG (through aws-lc).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemRandomSource;

impl RandomSource for SystemRandomSource {
    fn fill(&self, dest: &mut [u8]) {
        // aws-lc's RNG only fails if the OS entropy source is unusable, which no caller can
        // recover from.
        aws_lc_rs::rand::fill(dest).expect("system random number generator failed");
    }
}
