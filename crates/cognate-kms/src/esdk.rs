//! AWS Encryption SDK messages, as Cognito builds them for custom sender triggers.
//!
//! [`encrypt_code`] produces a message with: format version 1, type 0x80, algorithm suite 0x0378
//! (AES-256-GCM, HKDF-SHA384, ECDSA P-384), an encryption context of `aws-crypto-public-key`
//! (base64 of the compressed P-384 verification key) and `userpool-id`, one encrypted data key
//! from KMS `GenerateDataKey` (provider id `aws-kms`, provider info = key ARN), framed content
//! (frame length 4096, IV length 12) and a signature footer. Any ESDK (Node, Python, Java, …)
//! with a KMS keyring naming the key decrypts it.
//!
//! Layout (all integers big-endian):
//!
//! ```text
//! header body : 01 80 0378 message-id[16]
//!               u16 ctx-len [u16 count (u16 len key u16 len value)*]   sorted by key
//!               u16 edk-count (u16 len provider-id u16 len provider-info u16 len ciphertext)*
//!               02 00000000 0c u32 frame-length
//! header auth : iv[12] = 0…0, tag[16] = AES-GCM(k, iv, aad = header body, "")
//! frames      : u32 seq iv[12] content[frame-length] tag[16]                (regular)
//!               FFFFFFFF u32 seq iv[12] u32 len content[len] tag[16]        (final)
//!               frame iv = 0…0 || u32 seq; aad = message-id || "AWSKMSEncryptionClient Frame"
//!               (or "… Final Frame") || u32 seq || u64 content length
//! footer      : u16 len, DER ECDSA-P384-SHA384 signature of header || body
//! ```
//!
//! The content key is `HKDF-SHA384(salt = none, ikm = data key, info = suite id || message id)`,
//! 32 bytes (the non-committing derivation of the ESDK specification).

use std::collections::BTreeMap;

use aws_lc_rs::agreement;
use aws_lc_rs::hkdf;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use crate::blob::{gcm_open, gcm_seal};
use crate::error::KmsError;
use crate::kms::{DataKeySpec, EncryptionContext, Kms};
use crate::rng::Random;
use crate::secret::SecretBytes;

/// Message format version 1.
pub const MESSAGE_VERSION: u8 = 0x01;
/// "Customer authenticated encrypted data".
pub const MESSAGE_TYPE: u8 = 0x80;
/// AES-256-GCM, IV 12, tag 16, HKDF-SHA384, ECDSA P-384.
pub const ALGORITHM_SUITE_ID: u16 = 0x0378;
/// Encryption context key holding the verification key.
pub const PUBLIC_KEY_CONTEXT_KEY: &str = "aws-crypto-public-key";
/// Encryption context key Cognito adds.
pub const USERPOOL_ID_CONTEXT_KEY: &str = "userpool-id";
/// Provider id of KMS encrypted data keys.
pub const KMS_PROVIDER_ID: &str = "aws-kms";
/// Frame length Cognito (and the ESDKs by default) use.
pub const FRAME_LENGTH: u32 = 4096;

const CONTENT_TYPE_FRAMED: u8 = 0x02;
const IV_LEN: usize = 12;
const TAG_LEN: usize = 16;
const DATA_KEY_LEN: usize = 32;
const MESSAGE_ID_LEN: usize = 16;
const P384_SCALAR_LEN: usize = 48;
const FINAL_FRAME_MARKER: u32 = 0xFFFF_FFFF;
const FRAME_AAD: &[u8] = b"AWSKMSEncryptionClient Frame";
const FINAL_FRAME_AAD: &[u8] = b"AWSKMSEncryptionClient Final Frame";
const RESERVED_CONTEXT_PREFIX: &str = "aws-crypto-";

/// An ESDK failure.
#[derive(Debug, thiserror::Error)]
pub enum EsdkError {
    /// The KMS refused to generate a data key.
    #[error("KMS: {0}")]
    Kms(#[from] KmsError),
    #[error("malformed ESDK message: {0}")]
    Malformed(String),
    #[error("unsupported ESDK message: {0}")]
    Unsupported(String),
    /// A tag or the signature did not verify: the message was altered, or the context differs.
    #[error("ESDK message failed authentication: {0}")]
    Authentication(&'static str),
    /// No encrypted data key could be decrypted (with the last KMS error, if any).
    #[error("no encrypted data key could be decrypted{}", .0.as_ref().map(|e| format!(": {} ({})", e.error_type(), e)).unwrap_or_default())]
    NoDecryptableKey(Option<KmsError>),
    #[error("invalid input: {0}")]
    InvalidInput(String),
    #[error("cryptographic failure: {0}")]
    Crypto(&'static str),
}

/// A decrypted message.
#[derive(Debug, Clone)]
pub struct DecryptedMessage {
    pub plaintext: SecretBytes,
    /// The full encryption context, including `aws-crypto-public-key`.
    pub encryption_context: EncryptionContext,
    /// ARN of the KMS key that decrypted the data key.
    pub key_arn: String,
    pub message_id: [u8; MESSAGE_ID_LEN],
}

/// What Cognito puts in `request.code`: `plaintext` (the code or temporary password)
/// encrypted under `key_arn` with encryption context `userpool-id` = `pool_id`, base64-encoded.
///
/// Cognito HTML-escapes temporary passwords (`<` → `&lt;`, `>` → `&gt;`) before encrypting them;
/// that is the caller's job, `plaintext` is encrypted as given. The data key comes from
/// [`Kms::generate_data_key`] under the full encryption context (including
/// `aws-crypto-public-key`), which is what ESDK keyrings send back to `Decrypt`.
pub async fn encrypt_code(
    kms: &Kms,
    key_arn: &str,
    pool_id: &str,
    plaintext: &[u8],
    rng: &dyn Random,
) -> Result<String, EsdkError> {
    let mut context = EncryptionContext::new();
    context.insert(USERPOOL_ID_CONTEXT_KEY.to_owned(), pool_id.to_owned());
    let message = encrypt_message(kms, key_arn, context, plaintext, rng).await?;
    Ok(STANDARD.encode(message))
}

/// Encrypts `plaintext` into an ESDK message (suite 0x0378, framed) under the KMS key `key_id`,
/// with the caller's encryption context plus `aws-crypto-public-key`.
pub async fn encrypt_message(
    kms: &Kms,
    key_id: &str,
    mut context: EncryptionContext,
    plaintext: &[u8],
    rng: &dyn Random,
) -> Result<Vec<u8>, EsdkError> {
    if let Some(k) = context.keys().find(|k| k.starts_with(RESERVED_CONTEXT_PREFIX)) {
        return Err(EsdkError::InvalidInput(format!(
            "encryption context key {k} is reserved"
        )));
    }
    let (signer, public_key) = signing_key(rng)?;
    context.insert(PUBLIC_KEY_CONTEXT_KEY.to_owned(), STANDARD.encode(public_key));

    let data_key = kms
        .generate_data_key(key_id, DataKeySpec::Bytes(DATA_KEY_LEN), &context)
        .await?;
    let mut message_id = [0u8; MESSAGE_ID_LEN];
    rng.fill(&mut message_id);
    let content_key = derive_key(&data_key.plaintext, &message_id)?;

    let mut out = Vec::with_capacity(512 + plaintext.len() + plaintext.len() / 4096 * 32);
    out.push(MESSAGE_VERSION);
    out.push(MESSAGE_TYPE);
    out.extend_from_slice(&ALGORITHM_SUITE_ID.to_be_bytes());
    out.extend_from_slice(&message_id);
    write_context(&mut out, &context)?;
    out.extend_from_slice(&1u16.to_be_bytes());
    write_field(&mut out, KMS_PROVIDER_ID.as_bytes())?;
    write_field(&mut out, data_key.key_arn.as_bytes())?;
    write_field(&mut out, &data_key.ciphertext_blob)?;
    out.push(CONTENT_TYPE_FRAMED);
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.push(IV_LEN as u8);
    out.extend_from_slice(&FRAME_LENGTH.to_be_bytes());

    // Header authentication: a tag over the header body, IV all zeros.
    let header_tag = gcm_seal(&content_key[..], [0u8; IV_LEN], &out, &[]).ok_or(EsdkError::Crypto("AES-GCM"))?;
    out.extend_from_slice(&[0u8; IV_LEN]);
    out.extend_from_slice(&header_tag);

    // Framed body: full regular frames, then a final frame with the rest (possibly a full frame,
    // never more; empty only for an empty plaintext).
    let frame_len = FRAME_LENGTH as usize;
    let frames = plaintext.len().div_ceil(frame_len).max(1);
    if u32::try_from(frames).is_err() {
        return Err(EsdkError::InvalidInput("plaintext too long".to_owned()));
    }
    for index in 0..frames {
        let seq = (index + 1) as u32;
        let start = index * frame_len;
        let chunk = &plaintext[start..plaintext.len().min(start + frame_len)];
        let is_final = index + 1 == frames;
        let iv = frame_iv(seq);
        let aad = frame_aad(&message_id, is_final, seq, chunk.len());
        let sealed = gcm_seal(&content_key[..], iv, &aad, chunk).ok_or(EsdkError::Crypto("AES-GCM"))?;
        if is_final {
            out.extend_from_slice(&FINAL_FRAME_MARKER.to_be_bytes());
        }
        out.extend_from_slice(&seq.to_be_bytes());
        out.extend_from_slice(&iv);
        if is_final {
            out.extend_from_slice(&(chunk.len() as u32).to_be_bytes());
        }
        out.extend_from_slice(&sealed);
    }

    // Footer: signature over everything before it.
    let signature = signer
        .sign(&SystemRandom::new(), &out)
        .map_err(|_| EsdkError::Crypto("ECDSA signing"))?;
    write_field(&mut out, signature.as_ref())?;
    Ok(out)
}

/// Decrypts a base64 ESDK message (a custom sender's `request.code`).
pub async fn decrypt_code(kms: &Kms, code: &str) -> Result<DecryptedMessage, EsdkError> {
    let message = STANDARD
        .decode(code.trim().as_bytes())
        .map_err(|_| EsdkError::Malformed("not base64".to_owned()))?;
    decrypt_message(kms, &message).await
}

/// Decrypts an ESDK message of format version 1, suite 0x0378, framed content, whose data key
/// was encrypted by this KMS (provider id `aws-kms`). Verifies the header tag, every frame and
/// the signature before returning anything.
pub async fn decrypt_message(kms: &Kms, message: &[u8]) -> Result<DecryptedMessage, EsdkError> {
    let mut r = Reader { buf: message, pos: 0 };
    let version = r.u8()?;
    if version != MESSAGE_VERSION {
        return Err(EsdkError::Unsupported(format!("message format version {version:#04x}")));
    }
    let kind = r.u8()?;
    if kind != MESSAGE_TYPE {
        return Err(EsdkError::Malformed(format!("message type {kind:#04x}")));
    }
    let suite = r.u16()?;
    if suite != ALGORITHM_SUITE_ID {
        return Err(EsdkError::Unsupported(format!("algorithm suite {suite:#06x}")));
    }
    let message_id: [u8; MESSAGE_ID_LEN] = r.take(MESSAGE_ID_LEN)?.try_into().map_err(|_| truncated())?;
    let context = read_context(&mut r)?;
    let edk_count = r.u16()?;
    if edk_count == 0 {
        return Err(EsdkError::Malformed("no encrypted data keys".to_owned()));
    }
    let mut edks = Vec::with_capacity(edk_count as usize);
    for _ in 0..edk_count {
        let provider_id = r.field()?;
        let provider_info = r.field()?;
        let ciphertext = r.field()?;
        edks.push((provider_id, provider_info, ciphertext));
    }
    let content_type = r.u8()?;
    if content_type != CONTENT_TYPE_FRAMED {
        return Err(EsdkError::Unsupported(format!(
            "content type {content_type:#04x} (only framed)"
        )));
    }
    if r.take(4)? != [0, 0, 0, 0] {
        return Err(EsdkError::Malformed("reserved bytes are not zero".to_owned()));
    }
    let iv_len = r.u8()?;
    if iv_len as usize != IV_LEN {
        return Err(EsdkError::Malformed(format!("IV length {iv_len}")));
    }
    let frame_len = r.u32()? as usize;
    if frame_len == 0 {
        return Err(EsdkError::Malformed("frame length 0 for framed content".to_owned()));
    }
    let header_body = &message[..r.pos];
    let header_iv: [u8; IV_LEN] = r.take(IV_LEN)?.try_into().map_err(|_| truncated())?;
    let header_tag = r.take(TAG_LEN)?;

    // The data key: the first KMS EDK that KMS decrypts under the message's context.
    let mut last_error = None;
    let mut found = None;
    for (provider_id, provider_info, ciphertext) in &edks {
        if *provider_id != KMS_PROVIDER_ID.as_bytes() {
            continue;
        }
        let Ok(key_arn) = std::str::from_utf8(provider_info) else {
            continue;
        };
        match kms.decrypt(ciphertext, &context, Some(key_arn)).await {
            Ok(out) if out.plaintext.len() == DATA_KEY_LEN && out.key_arn == key_arn => {
                found = Some(out);
                break;
            }
            Ok(_) => last_error = Some(KmsError::InvalidCiphertext("unexpected data key".to_owned())),
            Err(e) => last_error = Some(e),
        }
    }
    let data_key = found.ok_or(EsdkError::NoDecryptableKey(last_error))?;
    let content_key = derive_key(&data_key.plaintext, &message_id)?;
    if gcm_open(&content_key[..], header_iv, header_body, header_tag).is_none() {
        return Err(EsdkError::Authentication("header authentication tag"));
    }

    let mut plaintext = Zeroizing::new(Vec::new());
    let mut expected_seq: u32 = 1;
    loop {
        let first = r.u32()?;
        let is_final = first == FINAL_FRAME_MARKER;
        let seq = if is_final { r.u32()? } else { first };
        if seq != expected_seq {
            return Err(EsdkError::Malformed(format!(
                "frame sequence number {seq}, expected {expected_seq}"
            )));
        }
        let iv: [u8; IV_LEN] = r.take(IV_LEN)?.try_into().map_err(|_| truncated())?;
        let len = if is_final { r.u32()? as usize } else { frame_len };
        if len > frame_len {
            return Err(EsdkError::Malformed(
                "final frame longer than the frame length".to_owned(),
            ));
        }
        let sealed = r.take(len + TAG_LEN)?;
        let aad = frame_aad(&message_id, is_final, seq, len);
        let chunk = gcm_open(&content_key[..], iv, &aad, sealed).ok_or(EsdkError::Authentication("frame tag"))?;
        plaintext.extend_from_slice(&chunk);
        if is_final {
            break;
        }
        expected_seq = expected_seq
            .checked_add(1)
            .filter(|s| *s != FINAL_FRAME_MARKER)
            .ok_or_else(|| EsdkError::Malformed("too many frames".to_owned()))?;
    }

    let signed = &message[..r.pos];
    let signature = r.field()?;
    if r.pos != message.len() {
        return Err(EsdkError::Malformed("trailing bytes after the footer".to_owned()));
    }
    let public_key = context
        .get(PUBLIC_KEY_CONTEXT_KEY)
        .and_then(|k| STANDARD.decode(k).ok())
        .ok_or_else(|| EsdkError::Malformed(format!("missing or invalid {PUBLIC_KEY_CONTEXT_KEY}")))?;
    signature::UnparsedPublicKey::new(&signature::ECDSA_P384_SHA384_ASN1, &public_key)
        .verify(signed, signature)
        .map_err(|_| EsdkError::Authentication("signature"))?;

    Ok(DecryptedMessage {
        plaintext: SecretBytes::new(std::mem::take(&mut *plaintext)),
        encryption_context: context,
        key_arn: data_key.key_arn,
        message_id,
    })
}

/// A P-384 signing key from `rng`, and its compressed public point.
fn signing_key(rng: &dyn Random) -> Result<(EcdsaKeyPair, Vec<u8>), EsdkError> {
    for _ in 0..8 {
        let mut scalar = Zeroizing::new([0u8; P384_SCALAR_LEN]);
        rng.fill(&mut scalar[..]);
        let Ok(private) = agreement::PrivateKey::from_private_key(&agreement::ECDH_P384, &scalar[..]) else {
            continue;
        };
        let Ok(public) = private.compute_public_key() else {
            continue;
        };
        let Ok(pair) = EcdsaKeyPair::from_private_key_and_public_key(
            &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
            &scalar[..],
            public.as_ref(),
        ) else {
            continue;
        };
        let point = pair.public_key().as_ref();
        // Uncompressed SEC1: 04 || X || Y. Compressed: (02 | parity of Y) || X.
        if point.len() != 1 + 2 * P384_SCALAR_LEN || point[0] != 0x04 {
            return Err(EsdkError::Crypto("unexpected public key encoding"));
        }
        let mut compressed = Vec::with_capacity(1 + P384_SCALAR_LEN);
        compressed.push(0x02 | (point[2 * P384_SCALAR_LEN] & 1));
        compressed.extend_from_slice(&point[1..=P384_SCALAR_LEN]);
        return Ok((pair, compressed));
    }
    Err(EsdkError::Crypto(
        "could not generate a P-384 signing key from the random source",
    ))
}

struct KeyLen(usize);

impl hkdf::KeyType for KeyLen {
    fn len(&self) -> usize {
        self.0
    }
}

fn derive_key(data_key: &[u8], message_id: &[u8; MESSAGE_ID_LEN]) -> Result<Zeroizing<[u8; DATA_KEY_LEN]>, EsdkError> {
    let mut info = [0u8; 2 + MESSAGE_ID_LEN];
    info[..2].copy_from_slice(&ALGORITHM_SUITE_ID.to_be_bytes());
    info[2..].copy_from_slice(message_id);
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA384, &[]).extract(data_key);
    let info_parts = [&info[..]];
    let okm = prk
        .expand(&info_parts, KeyLen(DATA_KEY_LEN))
        .map_err(|_| EsdkError::Crypto("HKDF"))?;
    let mut key = Zeroizing::new([0u8; DATA_KEY_LEN]);
    okm.fill(&mut key[..]).map_err(|_| EsdkError::Crypto("HKDF"))?;
    Ok(key)
}

fn frame_iv(seq: u32) -> [u8; IV_LEN] {
    let mut iv = [0u8; IV_LEN];
    iv[IV_LEN - 4..].copy_from_slice(&seq.to_be_bytes());
    iv
}

fn frame_aad(message_id: &[u8; MESSAGE_ID_LEN], is_final: bool, seq: u32, len: usize) -> Vec<u8> {
    let label = if is_final { FINAL_FRAME_AAD } else { FRAME_AAD };
    let mut aad = Vec::with_capacity(MESSAGE_ID_LEN + label.len() + 12);
    aad.extend_from_slice(message_id);
    aad.extend_from_slice(label);
    aad.extend_from_slice(&seq.to_be_bytes());
    aad.extend_from_slice(&(len as u64).to_be_bytes());
    aad
}

fn write_field(out: &mut Vec<u8>, bytes: &[u8]) -> Result<(), EsdkError> {
    let len =
        u16::try_from(bytes.len()).map_err(|_| EsdkError::InvalidInput("field longer than 65535 bytes".to_owned()))?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

/// The header AAD: u16 length, then (when not empty) u16 count and the entries sorted by key.
fn write_context(out: &mut Vec<u8>, context: &EncryptionContext) -> Result<(), EsdkError> {
    if context.is_empty() {
        out.extend_from_slice(&0u16.to_be_bytes());
        return Ok(());
    }
    let count =
        u16::try_from(context.len()).map_err(|_| EsdkError::InvalidInput("encryption context too large".to_owned()))?;
    let mut pairs = count.to_be_bytes().to_vec();
    // BTreeMap<String, _> iterates in byte order of the UTF-8 keys, as the format requires.
    for (k, v) in context {
        write_field(&mut pairs, k.as_bytes())?;
        write_field(&mut pairs, v.as_bytes())?;
    }
    write_field(out, &pairs).map_err(|_| EsdkError::InvalidInput("encryption context too large".to_owned()))
}

fn read_context(r: &mut Reader<'_>) -> Result<EncryptionContext, EsdkError> {
    let bytes = r.field()?;
    let mut context = BTreeMap::new();
    if bytes.is_empty() {
        return Ok(context);
    }
    let mut c = Reader { buf: bytes, pos: 0 };
    let count = c.u16()?;
    if count == 0 {
        return Err(EsdkError::Malformed("encryption context count is 0".to_owned()));
    }
    for _ in 0..count {
        let key = utf8(c.field()?)?;
        let value = utf8(c.field()?)?;
        if context.insert(key, value).is_some() {
            return Err(EsdkError::Malformed("duplicate encryption context key".to_owned()));
        }
    }
    if c.pos != bytes.len() {
        return Err(EsdkError::Malformed("encryption context length mismatch".to_owned()));
    }
    Ok(context)
}

fn utf8(bytes: &[u8]) -> Result<String, EsdkError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| EsdkError::Malformed("encryption context is not UTF-8".to_owned()))
}

fn truncated() -> EsdkError {
    EsdkError::Malformed("truncated".to_owned())
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], EsdkError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(truncated)?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    fn u8(&mut self) -> Result<u8, EsdkError> {
        Ok(self.take(1)?[0])
    }

    fn u16(&mut self) -> Result<u16, EsdkError> {
        Ok(u16::from_be_bytes(self.take(2)?.try_into().map_err(|_| truncated())?))
    }

    fn u32(&mut self) -> Result<u32, EsdkError> {
        Ok(u32::from_be_bytes(self.take(4)?.try_into().map_err(|_| truncated())?))
    }

    /// A u16-length-prefixed field.
    fn field(&mut self) -> Result<&'a [u8], EsdkError> {
        let len = self.u16()? as usize;
        self.take(len)
    }
}
