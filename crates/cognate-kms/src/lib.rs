//! Cognate's built-in KMS and AWS Encryption SDK (ESDK) message encryption.
//!
//! Cognito encrypts the secret it hands to `CustomEmailSender` / `CustomSMSSender` triggers
//! (`request.code`) as an ESDK message under the pool's KMS key. Handlers decrypt it with the
//! ESDK and a KMS keyring, unchanged, when their KMS client points at this KMS
//! (`AWS_ENDPOINT_URL_KMS`). This crate provides both halves:
//!
//! * [`Kms`]: a KMS with the `TrentService` JSON 1.1 protocol ([`Kms::handle`]) and the same
//!   operations as a plain async Rust API. Key material is generated from a caller-supplied
//!   [`Random`], sealed at rest under a [`MasterKey`] and persisted through a [`KeyStore`]
//!   ([`MemoryKeyStore`] here; SQL backends live elsewhere).
//! * [`esdk`]: [`encrypt_code`] builds the message Cognito builds (format version 1, algorithm
//!   suite 0x0378, framed, ECDSA P-384 signed); [`decrypt_message`] reads such messages back.
//!
//! Key material and plaintexts never appear in `Debug` output, error messages or responses other
//! than the ones that carry them by design (`Decrypt`, `GenerateDataKey`).

mod blob;
mod error;
pub mod esdk;
mod kms;
mod rng;
mod secret;
mod store;
mod wire;

pub use error::KmsError;
pub use esdk::{DecryptedMessage, EsdkError, decrypt_code, decrypt_message, encrypt_code, encrypt_message};
pub use kms::{
    Alias, CreateKeyInput, DataKey, DataKeySpec, DecryptOutput, EncryptOutput, EncryptionContext, KeyListEntry,
    KeyMetadata, KeyState, Kms, ReEncryptOutput, Tag,
};
pub use rng::{Random, SystemRandomSource};
pub use secret::{MasterKey, SecretBytes};
pub use store::{KeyStore, MemoryKeyStore, StoreError, StoredAlias, StoredKey};
pub use wire::{CONTENT_TYPE, KmsResponse, TARGET_PREFIX};

#[cfg(test)]
mod tests;
