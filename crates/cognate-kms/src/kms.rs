//! The KMS itself: keys, aliases and the cryptographic operations, as an async Rust API.
//! [`Kms::handle`](crate::Kms::handle) (in `wire.rs`) maps the JSON protocol onto it.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::blob::{blob_key_id, decrypt_blob, encrypt_blob, open_material, seal_material};
use crate::error::KmsError;
use crate::rng::Random;
use crate::secret::{MasterKey, SecretBytes};
use crate::store::{KeyStore, StoredAlias, StoredKey};

/// An encryption context: sorted by key, as both KMS and the ESDK need it.
pub type EncryptionContext = BTreeMap<String, String>;

/// Length of the key material of every key.
const MATERIAL_LEN: usize = 32;
/// KMS limits.
const MAX_ENCRYPT_PLAINTEXT: usize = 4096;
const MAX_CIPHERTEXT_BLOB: usize = 6144;
const MAX_DATA_KEY_BYTES: usize = 1024;
const MAX_DESCRIPTION: usize = 8192;
const MAX_ALIAS_NAME: usize = 256;
const MAX_KEY_ID: usize = 255;

/// State of a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Enabled,
    Disabled,
    PendingDeletion,
}

impl KeyState {
    /// The KMS name (`Enabled`, `Disabled`, `PendingDeletion`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enabled => "Enabled",
            Self::Disabled => "Disabled",
            Self::PendingDeletion => "PendingDeletion",
        }
    }

    /// Parses a KMS state name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Enabled" => Some(Self::Enabled),
            "Disabled" => Some(Self::Disabled),
            "PendingDeletion" => Some(Self::PendingDeletion),
            _ => None,
        }
    }
}

/// A resource tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

/// Input of [`Kms::create_key`].
#[derive(Debug, Clone, Default)]
pub struct CreateKeyInput {
    pub description: Option<String>,
    /// Only `SYMMETRIC_DEFAULT` (the default) is supported.
    pub key_spec: Option<String>,
    /// Only `ENCRYPT_DECRYPT` (the default) is supported.
    pub key_usage: Option<String>,
    pub tags: Vec<Tag>,
}

/// What `DescribeKey` tells about a key.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyMetadata {
    pub key_id: String,
    pub arn: String,
    pub account: String,
    pub description: String,
    /// Milliseconds since the Unix epoch.
    pub created_ms: i64,
    pub state: KeyState,
}

impl KeyMetadata {
    pub fn enabled(&self) -> bool {
        self.state == KeyState::Enabled
    }
}

/// An entry of `ListKeys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyListEntry {
    pub key_id: String,
    pub key_arn: String,
}

/// An alias as `ListAliases` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alias {
    /// `alias/NAME`.
    pub name: String,
    pub arn: String,
    pub target_key_id: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// Size of a data key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataKeySpec {
    Aes256,
    Aes128,
    /// `NumberOfBytes` (1..=1024).
    Bytes(usize),
}

impl DataKeySpec {
    fn len(self) -> usize {
        match self {
            Self::Aes256 => 32,
            Self::Aes128 => 16,
            Self::Bytes(n) => n,
        }
    }
}

/// Result of `Encrypt` / `GenerateDataKeyWithoutPlaintext`.
#[derive(Debug, Clone)]
pub struct EncryptOutput {
    pub ciphertext_blob: Vec<u8>,
    /// ARN of the key that encrypted.
    pub key_arn: String,
}

/// Result of `Decrypt`.
#[derive(Debug, Clone)]
pub struct DecryptOutput {
    pub plaintext: SecretBytes,
    pub key_arn: String,
}

/// Result of `GenerateDataKey`.
#[derive(Debug, Clone)]
pub struct DataKey {
    pub plaintext: SecretBytes,
    pub ciphertext_blob: Vec<u8>,
    pub key_arn: String,
}

/// Result of `ReEncrypt`.
#[derive(Debug, Clone)]
pub struct ReEncryptOutput {
    pub ciphertext_blob: Vec<u8>,
    pub source_key_arn: String,
    pub key_arn: String,
}

type Clock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// The built-in KMS.
pub struct Kms {
    master: MasterKey,
    store: Arc<dyn KeyStore>,
    region: String,
    account: String,
    rng: Arc<dyn Random>,
    clock: Clock,
}

impl fmt::Debug for Kms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Kms")
            .field("region", &self.region)
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

/// A parsed `KeyId` parameter.
enum KeyRef<'a> {
    Id(&'a str),
    KeyArn {
        arn: &'a str,
        id: &'a str,
        account: &'a str,
    },
    Alias {
        name: String,
        region: Option<&'a str>,
        account: Option<&'a str>,
    },
}

struct ParsedArn<'a> {
    region: &'a str,
    account: &'a str,
    resource: &'a str,
}

fn parse_arn(s: &str) -> Option<ParsedArn<'_>> {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    if parts.len() != 6
        || parts[0] != "arn"
        || parts[2] != "kms"
        || parts[1].is_empty()
        || parts[3].is_empty()
        || parts[4].is_empty()
    {
        return None;
    }
    Some(ParsedArn {
        region: parts[3],
        account: parts[4],
        resource: parts[5],
    })
}

fn parse_key_ref(s: &str) -> Result<KeyRef<'_>, KmsError> {
    if s.is_empty() {
        return Err(validation_null("keyId"));
    }
    if s.starts_with("arn:") {
        let arn = parse_arn(s).ok_or_else(|| KmsError::NotFound(format!("Invalid arn {s}")))?;
        if let Some(id) = arn.resource.strip_prefix("key/") {
            return Ok(KeyRef::KeyArn {
                arn: s,
                id,
                account: arn.account,
            });
        }
        if arn.resource.starts_with("alias/") {
            return Ok(KeyRef::Alias {
                name: arn.resource.to_owned(),
                region: Some(arn.region),
                account: Some(arn.account),
            });
        }
        return Err(KmsError::NotFound(format!("Invalid arn {s}")));
    }
    if s.starts_with("alias/") {
        return Ok(KeyRef::Alias {
            name: s.to_owned(),
            region: None,
            account: None,
        });
    }
    Ok(KeyRef::Id(s))
}

fn validation_null(member: &str) -> KmsError {
    KmsError::Validation(format!(
        "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
    ))
}

fn valid_key_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= MAX_KEY_ID && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn uuid_v4(rng: &dyn Random) -> String {
    let mut b = [0u8; 16];
    rng.fill(&mut b);
    cognate_crypto::uuid::format_v4(b)
}

fn check_alias_name(name: &str) -> Result<(), KmsError> {
    let Some(rest) = name.strip_prefix("alias/") else {
        return Err(KmsError::Validation(format!(
            "Alias must start with the prefix \"alias/\": {name}"
        )));
    };
    if rest.is_empty()
        || name.len() > MAX_ALIAS_NAME
        || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_-".contains(&b))
    {
        return Err(KmsError::Validation(format!(
            "1 validation error detected: Value '{name}' at 'aliasName' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"
        )));
    }
    Ok(())
}

fn check_plaintext(len: usize, max: usize) -> Result<(), KmsError> {
    if len == 0 || len > max {
        return Err(KmsError::Validation(format!(
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: \
             Member must have length between 1 and {max}"
        )));
    }
    Ok(())
}

fn invalid_ciphertext() -> KmsError {
    KmsError::InvalidCiphertext(
        "The ciphertext is invalid, or its encryption context does not match the one given".to_owned(),
    )
}

impl Kms {
    /// A KMS for `region` / `account` whose key material is sealed under `master_key`, kept in
    /// `store`, and generated from `rng`; creation dates come from the wall clock unless
    /// [`Kms::with_clock`] gives another.
    #[allow(clippy::disallowed_methods)] // the default clock; servers inject theirs
    pub fn new(
        master_key: MasterKey,
        store: Arc<dyn KeyStore>,
        region: impl Into<String>,
        account: impl Into<String>,
        rng: Arc<dyn Random>,
    ) -> Self {
        Self {
            master: master_key,
            store,
            region: region.into(),
            account: account.into(),
            rng,
            clock: Arc::new(SystemTime::now),
        }
    }

    /// Replaces the clock used for creation dates.
    pub fn with_clock(mut self, clock: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    /// `arn:aws:kms:REGION:ACCOUNT:key/KEY_ID` in this KMS's region and account.
    pub fn key_arn(&self, key_id: &str) -> String {
        format!("arn:aws:kms:{}:{}:key/{key_id}", self.region, self.account)
    }

    /// `arn:aws:kms:REGION:ACCOUNT:alias/NAME` for `alias/NAME`.
    pub fn alias_arn(&self, alias_name: &str) -> String {
        format!("arn:aws:kms:{}:{}:{alias_name}", self.region, self.account)
    }

    fn now_ms(&self) -> i64 {
        (self.clock)()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0)
    }

    fn metadata(key: &StoredKey) -> KeyMetadata {
        KeyMetadata {
            key_id: key.key_id.clone(),
            arn: key.arn.clone(),
            account: key.account.clone(),
            description: key.description.clone(),
            created_ms: key.created_ms,
            state: KeyState::parse(&key.state).unwrap_or(KeyState::Disabled),
        }
    }

    fn key_not_found(arn: &str) -> KmsError {
        KmsError::NotFound(format!("Key '{arn}' does not exist"))
    }

    fn alias_not_found(&self, name: &str) -> KmsError {
        KmsError::NotFound(format!("Alias {} is not found.", self.alias_arn(name)))
    }

    async fn resolve(&self, key_id: &str) -> Result<StoredKey, KmsError> {
        match parse_key_ref(key_id)? {
            KeyRef::Id(id) => match self.store.get_key(id).await? {
                Some(k) => Ok(k),
                None if valid_key_id(id) => Err(Self::key_not_found(&self.key_arn(id))),
                None => Err(KmsError::NotFound(format!("Invalid keyId '{id}'"))),
            },
            KeyRef::KeyArn { arn, id, .. } => match self.store.get_key(id).await? {
                Some(k) if k.arn == arn => Ok(k),
                _ => Err(Self::key_not_found(arn)),
            },
            KeyRef::Alias { name, region, account } => {
                if region.is_some_and(|r| r != self.region) || account.is_some_and(|a| a != self.account) {
                    return Err(KmsError::NotFound(format!("Alias {key_id} is not found.")));
                }
                let alias = self
                    .store
                    .get_alias(&name)
                    .await?
                    .ok_or_else(|| self.alias_not_found(&name))?;
                self.store
                    .get_key(&alias.target_key_id)
                    .await?
                    .ok_or_else(|| Self::key_not_found(&self.key_arn(&alias.target_key_id)))
            }
        }
    }

    fn check_usable(key: &StoredKey) -> Result<(), KmsError> {
        match KeyState::parse(&key.state) {
            Some(KeyState::Enabled) => Ok(()),
            Some(KeyState::Disabled) => Err(KmsError::Disabled(format!("{} is disabled.", key.arn))),
            Some(KeyState::PendingDeletion) => Err(KmsError::InvalidState(format!("{} is pending deletion.", key.arn))),
            None => Err(KmsError::InvalidState(format!("{} is in an unknown state.", key.arn))),
        }
    }

    fn material(&self, key: &StoredKey) -> Result<SecretBytes, KmsError> {
        open_material(self.master.bytes(), &key.key_id, &key.sealed_material)
            .map(SecretBytes::new)
            .ok_or_else(|| {
                KmsError::Internal(format!(
                    "material of key {} cannot be unsealed (different master key, or altered)",
                    key.key_id
                ))
            })
    }

    fn new_stored_key(
        &self,
        key_id: String,
        arn: String,
        account: String,
        description: String,
        tags: Vec<Tag>,
    ) -> Result<StoredKey, KmsError> {
        let mut bytes = vec![0u8; MATERIAL_LEN];
        self.rng.fill(&mut bytes);
        let material = SecretBytes::new(bytes);
        let sealed = seal_material(self.master.bytes(), &key_id, &material, self.rng.as_ref())
            .ok_or_else(|| KmsError::Internal("sealing key material failed".to_owned()))?;
        Ok(StoredKey {
            key_id,
            arn,
            account,
            description,
            created_ms: self.now_ms(),
            state: KeyState::Enabled.as_str().to_owned(),
            tags: tags.into_iter().map(|t| (t.key, t.value)).collect(),
            sealed_material: sealed,
        })
    }

    /// `CreateKey`: a new symmetric key with fresh 256-bit material.
    pub async fn create_key(&self, input: CreateKeyInput) -> Result<KeyMetadata, KmsError> {
        if let Some(spec) = input.key_spec.as_deref().filter(|s| *s != "SYMMETRIC_DEFAULT") {
            return Err(KmsError::UnsupportedOperation(format!(
                "KeySpec {spec} is not supported by Cognate's built-in KMS (only SYMMETRIC_DEFAULT)"
            )));
        }
        if let Some(usage) = input.key_usage.as_deref().filter(|s| *s != "ENCRYPT_DECRYPT") {
            return Err(KmsError::UnsupportedOperation(format!(
                "KeyUsage {usage} is not supported by Cognate's built-in KMS (only ENCRYPT_DECRYPT)"
            )));
        }
        let description = input.description.unwrap_or_default();
        if description.len() > MAX_DESCRIPTION {
            return Err(KmsError::Validation(format!(
                "1 validation error detected: Value at 'description' failed to satisfy constraint: \
                 Member must have length less than or equal to {MAX_DESCRIPTION}"
            )));
        }
        for tag in &input.tags {
            if tag.key.is_empty() || tag.key.len() > 128 || tag.value.len() > 256 {
                return Err(KmsError::Validation(format!("Invalid tag: key '{}'", tag.key)));
            }
        }
        let key_id = uuid_v4(self.rng.as_ref());
        let arn = self.key_arn(&key_id);
        let key = self.new_stored_key(key_id, arn, self.account.clone(), description, input.tags)?;
        if !self.store.insert_key(&key).await? {
            return Err(KmsError::Internal(format!(
                "generated key id {} already exists",
                key.key_id
            )));
        }
        Ok(Self::metadata(&key))
    }

    /// Makes sure the key a pool's configuration names exists, creating it with exactly that id
    /// and ARN (region and account taken from the ARN) if needed, so trigger handlers configured
    /// with the ARN can decrypt. Accepts a key ARN, a bare key id (this KMS's region/account), or
    /// an alias name / alias ARN in this KMS's region and account (a new key is created behind a
    /// missing alias).
    pub async fn ensure_key_for_arn(&self, arn: &str) -> Result<KeyMetadata, KmsError> {
        let (key_id, key_arn, account) = match parse_key_ref(arn)? {
            KeyRef::Id(id) => (id.to_owned(), self.key_arn(id), self.account.clone()),
            KeyRef::KeyArn { arn, id, account } => (id.to_owned(), arn.to_owned(), account.to_owned()),
            KeyRef::Alias { name, region, account } => {
                check_alias_name(&name)?;
                if region.is_some_and(|r| r != self.region) || account.is_some_and(|a| a != self.account) {
                    return Err(KmsError::Validation(format!(
                        "{arn} is outside this KMS's region and account ({} {}); name the key ARN instead",
                        self.region, self.account
                    )));
                }
                match self.resolve(arn).await {
                    Ok(key) => return Ok(Self::metadata(&key)),
                    Err(KmsError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
                let meta = self
                    .create_key(CreateKeyInput {
                        description: Some(format!("Created by Cognate for {name}")),
                        ..Default::default()
                    })
                    .await?;
                let now = self.now_ms();
                let alias = StoredAlias {
                    name: name.clone(),
                    target_key_id: meta.key_id.clone(),
                    created_ms: now,
                    updated_ms: now,
                };
                if self.store.insert_alias(&alias).await? {
                    return Ok(meta);
                }
                // Another node won the race: use its key.
                return Ok(Self::metadata(&self.resolve(arn).await?));
            }
        };
        if !valid_key_id(&key_id) {
            return Err(KmsError::Validation(format!("Invalid key id '{key_id}' in {arn}")));
        }
        for _ in 0..2 {
            if let Some(existing) = self.store.get_key(&key_id).await? {
                if existing.arn == key_arn {
                    return Ok(Self::metadata(&existing));
                }
                return Err(KmsError::AlreadyExists(format!(
                    "Key id {key_id} already exists as {}, not {key_arn}",
                    existing.arn
                )));
            }
            let key = self.new_stored_key(
                key_id.clone(),
                key_arn.clone(),
                account.clone(),
                "Created by Cognate for a user pool's KMSKeyID".to_owned(),
                Vec::new(),
            )?;
            if self.store.insert_key(&key).await? {
                return Ok(Self::metadata(&key));
            }
        }
        Err(KmsError::Internal(format!("could not create or read key {key_id}")))
    }

    /// `DescribeKey` by key id, key ARN, alias name or alias ARN.
    pub async fn describe_key(&self, key_id: &str) -> Result<KeyMetadata, KmsError> {
        Ok(Self::metadata(&self.resolve(key_id).await?))
    }

    /// `ListKeys` (all keys, sorted by key id).
    pub async fn list_keys(&self) -> Result<Vec<KeyListEntry>, KmsError> {
        Ok(self
            .store
            .list_keys()
            .await?
            .into_iter()
            .map(|k| KeyListEntry {
                key_id: k.key_id,
                key_arn: k.arn,
            })
            .collect())
    }

    /// `ListResourceTags`.
    pub async fn list_resource_tags(&self, key_id: &str) -> Result<Vec<Tag>, KmsError> {
        let key = self.resolve_key_not_alias(key_id).await?;
        Ok(key.tags.into_iter().map(|(key, value)| Tag { key, value }).collect())
    }

    async fn resolve_key_not_alias(&self, key_id: &str) -> Result<StoredKey, KmsError> {
        if matches!(parse_key_ref(key_id)?, KeyRef::Alias { .. }) {
            return Err(KmsError::Validation(format!(
                "{key_id} is an alias; a key id or key ARN is required"
            )));
        }
        self.resolve(key_id).await
    }

    async fn set_state(&self, key_id: &str, state: KeyState) -> Result<(), KmsError> {
        let mut key = self.resolve_key_not_alias(key_id).await?;
        if KeyState::parse(&key.state) == Some(KeyState::PendingDeletion) {
            return Err(KmsError::InvalidState(format!("{} is pending deletion.", key.arn)));
        }
        key.state = state.as_str().to_owned();
        if !self.store.update_key(&key).await? {
            return Err(Self::key_not_found(&key.arn));
        }
        Ok(())
    }

    /// `EnableKey`.
    pub async fn enable_key(&self, key_id: &str) -> Result<(), KmsError> {
        self.set_state(key_id, KeyState::Enabled).await
    }

    /// `DisableKey`.
    pub async fn disable_key(&self, key_id: &str) -> Result<(), KmsError> {
        self.set_state(key_id, KeyState::Disabled).await
    }

    async fn encrypt_under(
        &self,
        key: &StoredKey,
        plaintext: &[u8],
        ctx: &EncryptionContext,
    ) -> Result<EncryptOutput, KmsError> {
        Self::check_usable(key)?;
        let material = self.material(key)?;
        let blob = encrypt_blob(&key.key_id, &material, ctx, plaintext, self.rng.as_ref())
            .ok_or_else(|| KmsError::Internal("encryption failed".to_owned()))?;
        Ok(EncryptOutput {
            ciphertext_blob: blob,
            key_arn: key.arn.clone(),
        })
    }

    /// `Encrypt` up to 4096 bytes under a key, bound to `ctx`.
    pub async fn encrypt(
        &self,
        key_id: &str,
        plaintext: &[u8],
        ctx: &EncryptionContext,
    ) -> Result<EncryptOutput, KmsError> {
        check_plaintext(plaintext.len(), MAX_ENCRYPT_PLAINTEXT)?;
        let key = self.resolve(key_id).await?;
        self.encrypt_under(&key, plaintext, ctx).await
    }

    /// `Decrypt`. The blob names its key; `key_id`, when given, must identify that same key.
    pub async fn decrypt(
        &self,
        blob: &[u8],
        ctx: &EncryptionContext,
        key_id: Option<&str>,
    ) -> Result<DecryptOutput, KmsError> {
        if blob.is_empty() || blob.len() > MAX_CIPHERTEXT_BLOB {
            return Err(KmsError::Validation(format!(
                "1 validation error detected: Value at 'ciphertextBlob' failed to satisfy constraint: \
                 Member must have length between 1 and {MAX_CIPHERTEXT_BLOB}"
            )));
        }
        let blob_id = blob_key_id(blob).ok_or_else(invalid_ciphertext)?;
        let key = match key_id {
            Some(requested) => {
                let key = self.resolve(requested).await?;
                if key.key_id != blob_id {
                    return Err(KmsError::IncorrectKey(
                        "The key ID in the request does not identify a CMK that can perform this operation.".to_owned(),
                    ));
                }
                key
            }
            None => self.store.get_key(blob_id).await?.ok_or_else(invalid_ciphertext)?,
        };
        Self::check_usable(&key)?;
        let material = self.material(&key)?;
        let plaintext = decrypt_blob(blob, &material, ctx).ok_or_else(invalid_ciphertext)?;
        Ok(DecryptOutput {
            plaintext: SecretBytes::new(plaintext),
            key_arn: key.arn,
        })
    }

    /// `ReEncrypt`: decrypts under the source key and context, encrypts under the destination.
    pub async fn re_encrypt(
        &self,
        blob: &[u8],
        source_ctx: &EncryptionContext,
        source_key_id: Option<&str>,
        destination_key_id: &str,
        destination_ctx: &EncryptionContext,
    ) -> Result<ReEncryptOutput, KmsError> {
        let destination = self.resolve(destination_key_id).await?;
        let source = self.decrypt(blob, source_ctx, source_key_id).await?;
        let out = self
            .encrypt_under(&destination, &source.plaintext, destination_ctx)
            .await?;
        Ok(ReEncryptOutput {
            ciphertext_blob: out.ciphertext_blob,
            source_key_arn: source.key_arn,
            key_arn: out.key_arn,
        })
    }

    fn random_data_key(&self, spec: DataKeySpec) -> Result<SecretBytes, KmsError> {
        let len = spec.len();
        if len == 0 || len > MAX_DATA_KEY_BYTES {
            return Err(KmsError::Validation(format!(
                "1 validation error detected: Value '{len}' at 'numberOfBytes' failed to satisfy constraint: \
                 Member must have value between 1 and {MAX_DATA_KEY_BYTES}"
            )));
        }
        let mut bytes = vec![0u8; len];
        self.rng.fill(&mut bytes);
        Ok(SecretBytes::new(bytes))
    }

    /// `GenerateDataKey`: a random data key, in the clear and encrypted under the key with `ctx`.
    pub async fn generate_data_key(
        &self,
        key_id: &str,
        spec: DataKeySpec,
        ctx: &EncryptionContext,
    ) -> Result<DataKey, KmsError> {
        let plaintext = self.random_data_key(spec)?;
        let key = self.resolve(key_id).await?;
        let out = self.encrypt_under(&key, &plaintext, ctx).await?;
        Ok(DataKey {
            plaintext,
            ciphertext_blob: out.ciphertext_blob,
            key_arn: out.key_arn,
        })
    }

    /// `GenerateDataKeyWithoutPlaintext`.
    pub async fn generate_data_key_without_plaintext(
        &self,
        key_id: &str,
        spec: DataKeySpec,
        ctx: &EncryptionContext,
    ) -> Result<EncryptOutput, KmsError> {
        let plaintext = self.random_data_key(spec)?;
        let key = self.resolve(key_id).await?;
        self.encrypt_under(&key, &plaintext, ctx).await
    }

    /// `GenerateRandom` (1..=1024 bytes).
    pub fn generate_random(&self, number_of_bytes: usize) -> Result<SecretBytes, KmsError> {
        self.random_data_key(DataKeySpec::Bytes(number_of_bytes))
    }

    async fn alias_target(&self, target_key_id: &str) -> Result<StoredKey, KmsError> {
        if matches!(parse_key_ref(target_key_id)?, KeyRef::Alias { .. }) {
            return Err(KmsError::Validation(
                "Aliases must refer to keys. Not aliases".to_owned(),
            ));
        }
        self.resolve(target_key_id).await
    }

    /// `CreateAlias`.
    pub async fn create_alias(&self, alias_name: &str, target_key_id: &str) -> Result<(), KmsError> {
        check_alias_name(alias_name)?;
        if alias_name.starts_with("alias/aws/") {
            return Err(KmsError::Validation(format!(
                "Alias names starting with alias/aws/ are reserved for AWS managed keys: {alias_name}"
            )));
        }
        let key = self.alias_target(target_key_id).await?;
        let now = self.now_ms();
        let alias = StoredAlias {
            name: alias_name.to_owned(),
            target_key_id: key.key_id,
            created_ms: now,
            updated_ms: now,
        };
        if !self.store.insert_alias(&alias).await? {
            return Err(KmsError::AlreadyExists(format!(
                "An alias with the name {} already exists",
                self.alias_arn(alias_name)
            )));
        }
        Ok(())
    }

    /// `UpdateAlias`: points an existing alias at another key.
    pub async fn update_alias(&self, alias_name: &str, target_key_id: &str) -> Result<(), KmsError> {
        check_alias_name(alias_name)?;
        let key = self.alias_target(target_key_id).await?;
        let mut alias = self
            .store
            .get_alias(alias_name)
            .await?
            .ok_or_else(|| self.alias_not_found(alias_name))?;
        alias.target_key_id = key.key_id;
        alias.updated_ms = self.now_ms();
        if !self.store.update_alias(&alias).await? {
            return Err(self.alias_not_found(alias_name));
        }
        Ok(())
    }

    /// `DeleteAlias`.
    pub async fn delete_alias(&self, alias_name: &str) -> Result<(), KmsError> {
        check_alias_name(alias_name)?;
        if !self.store.delete_alias(alias_name).await? {
            return Err(self.alias_not_found(alias_name));
        }
        Ok(())
    }

    /// `ListAliases`, optionally only those pointing at `key_id`; sorted by name.
    pub async fn list_aliases(&self, key_id: Option<&str>) -> Result<Vec<Alias>, KmsError> {
        let only = match key_id {
            Some(k) => Some(self.resolve_key_not_alias(k).await?.key_id),
            None => None,
        };
        Ok(self
            .store
            .list_aliases()
            .await?
            .into_iter()
            .filter(|a| only.as_ref().is_none_or(|id| *id == a.target_key_id))
            .map(|a| Alias {
                arn: self.alias_arn(&a.name),
                name: a.name,
                target_key_id: a.target_key_id,
                created_ms: a.created_ms,
                updated_ms: a.updated_ms,
            })
            .collect())
    }
}
