//! Randomness is injected: ids, codes, salts and tokens come from a `Random` source.
pub use cognate_crypto::random::Random;

/// The operating system's CSPRNG.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Random for OsRandom {
    #[allow(clippy::disallowed_methods)] // the real implementation of the injected randomness
    fn fill(&self, buf: &mut [u8]) {
        getrandom::fill(buf).expect("the operating system's random source failed");
    }
}

/// Helpers built on any [`Random`].
pub trait RandomExt: Random {
    fn bytes<const N: usize>(&self) -> [u8; N] {
        let mut b = [0u8; N];
        self.fill(&mut b);
        b
    }

    /// A uniformly random string over `alphabet` (rejection sampling, no modulo bias).
    fn string_from(&self, alphabet: &[u8], len: usize) -> String {
        let limit = 256 - (256 % alphabet.len());
        let mut out = String::with_capacity(len);
        while out.len() < len {
            let mut buf = [0u8; 32];
            self.fill(&mut buf);
            for b in buf {
                if (b as usize) < limit && out.len() < len {
                    out.push(alphabet[b as usize % alphabet.len()] as char);
                }
            }
        }
        out
    }

    fn digits(&self, len: usize) -> String {
        self.string_from(b"0123456789", len)
    }

    /// A version-4 UUID, as Cognito uses for `sub`.
    fn uuid_v4(&self) -> String {
        cognate_crypto::uuid::format_v4(self.bytes())
    }
}

impl<T: Random + ?Sized> RandomExt for T {}
