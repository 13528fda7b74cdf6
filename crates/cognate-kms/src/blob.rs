//! Byte formats of the KMS: sealed key material at rest and symmetric ciphertext blobs.
//!
//! Ciphertext blob (what `Encrypt` / `GenerateDataKey` return, what `Decrypt` takes):
//!
//! ```text
//! 0x01 | key id length (u8) | key id (ASCII) | IV (12) | AES-256-GCM ciphertext | tag (16)
//! ```
//!
//! The AAD is the blob prefix (version, length, key id) followed by the canonical encoding of the
//! encryption context, so a blob names its key (like real KMS blobs) and only decrypts under the
//! same context.
//!
//! Sealed key material: `0x01 | IV (12) | AES-256-GCM(master key, material) | tag (16)` with AAD
//! `"cognate-kms/key-material/v1" 0x00 key id`.

use std::collections::BTreeMap;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use crate::rng::Random;

pub(crate) const BLOB_VERSION: u8 = 0x01;
const SEAL_VERSION: u8 = 0x01;
const TAG_LEN: usize = 16;
const SEAL_AAD_PREFIX: &[u8] = b"cognate-kms/key-material/v1\0";

/// AES-256-GCM encrypt; returns ciphertext || tag.
pub(crate) fn gcm_seal(key: &[u8], nonce: [u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Option<Vec<u8>> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).ok()?);
    let mut buf = plaintext.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buf)
        .ok()?;
    Some(buf)
}

/// AES-256-GCM decrypt of ciphertext || tag; `None` when authentication fails.
pub(crate) fn gcm_open(key: &[u8], nonce: [u8; NONCE_LEN], aad: &[u8], ciphertext_and_tag: &[u8]) -> Option<Vec<u8>> {
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).ok()?);
    let mut buf = ciphertext_and_tag.to_vec();
    let len = key
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buf)
        .ok()?
        .len();
    buf.truncate(len);
    Some(buf)
}

/// Canonical encoding of an encryption context for use as AAD: count, then each entry sorted by
/// key as `len(key) key len(value) value` (u32 big-endian lengths).
pub(crate) fn context_aad(ctx: &BTreeMap<String, String>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(ctx.len() as u32).to_be_bytes());
    for (k, v) in ctx {
        out.extend_from_slice(&(k.len() as u32).to_be_bytes());
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&(v.len() as u32).to_be_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    out
}

fn blob_prefix(key_id: &str) -> Vec<u8> {
    let mut prefix = Vec::with_capacity(2 + key_id.len());
    prefix.push(BLOB_VERSION);
    prefix.push(key_id.len() as u8);
    prefix.extend_from_slice(key_id.as_bytes());
    prefix
}

/// Encrypts `plaintext` under the key material of `key_id`.
pub(crate) fn encrypt_blob(
    key_id: &str,
    material: &[u8],
    ctx: &BTreeMap<String, String>,
    plaintext: &[u8],
    rng: &dyn Random,
) -> Option<Vec<u8>> {
    if key_id.len() > u8::MAX as usize {
        return None;
    }
    let mut blob = blob_prefix(key_id);
    let mut aad = blob.clone();
    aad.extend_from_slice(&context_aad(ctx));
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce);
    let sealed = gcm_seal(material, nonce, &aad, plaintext)?;
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&sealed);
    Some(blob)
}

/// The key id a ciphertext blob names, if it is one of ours.
pub(crate) fn blob_key_id(blob: &[u8]) -> Option<&str> {
    if blob.len() < 2 || blob[0] != BLOB_VERSION {
        return None;
    }
    let len = blob[1] as usize;
    let id = blob.get(2..2 + len)?;
    if blob.len() < 2 + len + NONCE_LEN + TAG_LEN {
        return None;
    }
    std::str::from_utf8(id).ok()
}

/// Decrypts a blob (whose key id the caller already resolved to `material`).
pub(crate) fn decrypt_blob(blob: &[u8], material: &[u8], ctx: &BTreeMap<String, String>) -> Option<Vec<u8>> {
    let key_id = blob_key_id(blob)?;
    let prefix_len = 2 + key_id.len();
    let mut aad = blob[..prefix_len].to_vec();
    aad.extend_from_slice(&context_aad(ctx));
    let nonce: [u8; NONCE_LEN] = blob[prefix_len..prefix_len + NONCE_LEN].try_into().ok()?;
    gcm_open(material, nonce, &aad, &blob[prefix_len + NONCE_LEN..])
}

fn seal_aad(key_id: &str) -> Vec<u8> {
    let mut aad = SEAL_AAD_PREFIX.to_vec();
    aad.extend_from_slice(key_id.as_bytes());
    aad
}

/// Seals key material under the master key.
pub(crate) fn seal_material(master: &[u8; 32], key_id: &str, material: &[u8], rng: &dyn Random) -> Option<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce);
    let sealed = gcm_seal(master, nonce, &seal_aad(key_id), material)?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
    out.push(SEAL_VERSION);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Some(out)
}

/// Opens sealed key material; `None` if it was sealed under another master key or altered.
pub(crate) fn open_material(master: &[u8; 32], key_id: &str, sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != SEAL_VERSION {
        return None;
    }
    let nonce: [u8; NONCE_LEN] = sealed[1..1 + NONCE_LEN].try_into().ok()?;
    gcm_open(master, nonce, &seal_aad(key_id), &sealed[1 + NONCE_LEN..])
}
