//! The one randomness trait of the workspace. The domain (`cognate-core`) and the KMS take an
//! injected `Random`, so ids, codes, salts, keys and tokens are reproducible in tests; the
//! implementations that ask the operating system live with their users.

/// A source of cryptographically secure random bytes.
pub trait Random: Send + Sync + 'static {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}
