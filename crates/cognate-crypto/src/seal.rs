//! AES-256-GCM sealing of secrets at rest (signing keys, SRP verifiers, KMS key material).
//! Sealed form: nonce (12 bytes) || ciphertext || tag; the caller supplies the nonce bytes.
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("sealed data could not be opened (wrong master key or corrupted)")]
    Open,
    #[error("master key must be 32 bytes")]
    KeyLength,
}

/// A master key that seals and opens small secrets. Its Debug output hides the key.
pub struct Sealer {
    key: LessSafeKey,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

impl Sealer {
    pub fn new(master_key: &[u8]) -> Result<Self, SealError> {
        let key = UnboundKey::new(&AES_256_GCM, master_key).map_err(|_| SealError::KeyLength)?;
        Ok(Self {
            key: LessSafeKey::new(key),
        })
    }

    /// Seals `plaintext`, binding it to `context` (e.g. the row it belongs to).
    pub fn seal(&self, plaintext: &[u8], context: &[u8], nonce: [u8; 12]) -> Vec<u8> {
        let mut buf = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut buf)
            .expect("AES-GCM sealing cannot fail for in-memory buffers");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        out
    }

    pub fn open(&self, sealed: &[u8], context: &[u8]) -> Result<Zeroizing<Vec<u8>>, SealError> {
        if sealed.len() < 12 + 16 {
            return Err(SealError::Open);
        }
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&sealed[..12]);
        let mut buf = Zeroizing::new(sealed[12..].to_vec());
        let plain_len = self
            .key
            .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(context), &mut buf)
            .map_err(|_| SealError::Open)?
            .len();
        buf.truncate(plain_len);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_context_binding() {
        let s = Sealer::new(&[7u8; 32]).unwrap();
        let sealed = s.seal(b"top secret", b"row-1", [1u8; 12]);
        assert_eq!(&s.open(&sealed, b"row-1").unwrap()[..], b"top secret");
        assert!(s.open(&sealed, b"row-2").is_err());
        let other = Sealer::new(&[8u8; 32]).unwrap();
        assert!(other.open(&sealed, b"row-1").is_err());
        assert!(Sealer::new(&[0u8; 16]).is_err());
    }
}
