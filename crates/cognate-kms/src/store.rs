//! Persistence of KMS keys and aliases.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use async_trait::async_trait;

/// A KMS key as persisted. `sealed_material` is the key's 256-bit material sealed under the
/// master key (see [`crate::MasterKey`]); the store never sees it in the clear.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// The key id (a UUID for keys created here; whatever the ARN named for
    /// [`crate::Kms::ensure_key_for_arn`]). Unique.
    pub key_id: String,
    /// `arn:aws:kms:REGION:ACCOUNT:key/KEY_ID`.
    pub arn: String,
    /// The account in the ARN.
    pub account: String,
    pub description: String,
    /// Creation time, milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// `Enabled`, `Disabled`, … (see [`crate::KeyState`]).
    pub state: String,
    /// Tags in the order given at creation.
    pub tags: Vec<(String, String)>,
    /// Sealed key material (opaque).
    pub sealed_material: Vec<u8>,
}

impl fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredKey")
            .field("key_id", &self.key_id)
            .field("arn", &self.arn)
            .field("account", &self.account)
            .field("description", &self.description)
            .field("created_ms", &self.created_ms)
            .field("state", &self.state)
            .field("tags", &self.tags)
            .field(
                "sealed_material",
                &format_args!("<{} bytes>", self.sealed_material.len()),
            )
            .finish()
    }
}

/// An alias (`alias/NAME`) pointing at a key id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAlias {
    /// Full alias name, including the `alias/` prefix. Unique.
    pub name: String,
    /// The key id (not ARN) the alias points at.
    pub target_key_id: String,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// A storage failure; its message is logged by callers, never sent to clients.
#[derive(Debug, Clone, thiserror::Error)]
#[error("key store: {message}")]
pub struct StoreError {
    message: String,
}

impl StoreError {
    pub fn new(message: impl fmt::Display) -> Self {
        Self {
            message: message.to_string(),
        }
    }
}

/// Where the KMS keeps its keys and aliases. Implementations must make `insert_*` atomic
/// (insert-if-absent), so that several Cognate nodes sharing one database agree on who created
/// a key or alias.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Inserts `key` unless a key with the same `key_id` exists; returns whether it inserted.
    async fn insert_key(&self, key: &StoredKey) -> Result<bool, StoreError>;
    /// Replaces the key with the same `key_id`; returns whether one existed.
    async fn update_key(&self, key: &StoredKey) -> Result<bool, StoreError>;
    async fn get_key(&self, key_id: &str) -> Result<Option<StoredKey>, StoreError>;
    /// All keys, sorted by `key_id`.
    async fn list_keys(&self) -> Result<Vec<StoredKey>, StoreError>;

    /// Inserts `alias` unless one with the same name exists; returns whether it inserted.
    async fn insert_alias(&self, alias: &StoredAlias) -> Result<bool, StoreError>;
    /// Replaces the alias with the same name; returns whether one existed.
    async fn update_alias(&self, alias: &StoredAlias) -> Result<bool, StoreError>;
    async fn get_alias(&self, name: &str) -> Result<Option<StoredAlias>, StoreError>;
    /// All aliases, sorted by name.
    async fn list_aliases(&self) -> Result<Vec<StoredAlias>, StoreError>;
    /// Deletes the alias; returns whether it existed.
    async fn delete_alias(&self, name: &str) -> Result<bool, StoreError>;
}

/// A [`KeyStore`] in memory (for `--memory` and tests).
#[derive(Debug, Default)]
pub struct MemoryKeyStore {
    inner: Mutex<MemoryInner>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    keys: BTreeMap<String, StoredKey>,
    aliases: BTreeMap<String, StoredAlias>,
}

impl MemoryKeyStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, MemoryInner>, StoreError> {
        self.inner
            .lock()
            .map_err(|_| StoreError::new("memory key store lock poisoned"))
    }
}

#[async_trait]
impl KeyStore for MemoryKeyStore {
    async fn insert_key(&self, key: &StoredKey) -> Result<bool, StoreError> {
        let mut inner = self.lock()?;
        if inner.keys.contains_key(&key.key_id) {
            return Ok(false);
        }
        inner.keys.insert(key.key_id.clone(), key.clone());
        Ok(true)
    }

    async fn update_key(&self, key: &StoredKey) -> Result<bool, StoreError> {
        let mut inner = self.lock()?;
        match inner.keys.get_mut(&key.key_id) {
            Some(slot) => {
                *slot = key.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn get_key(&self, key_id: &str) -> Result<Option<StoredKey>, StoreError> {
        Ok(self.lock()?.keys.get(key_id).cloned())
    }

    async fn list_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        Ok(self.lock()?.keys.values().cloned().collect())
    }

    async fn insert_alias(&self, alias: &StoredAlias) -> Result<bool, StoreError> {
        let mut inner = self.lock()?;
        if inner.aliases.contains_key(&alias.name) {
            return Ok(false);
        }
        inner.aliases.insert(alias.name.clone(), alias.clone());
        Ok(true)
    }

    async fn update_alias(&self, alias: &StoredAlias) -> Result<bool, StoreError> {
        let mut inner = self.lock()?;
        match inner.aliases.get_mut(&alias.name) {
            Some(slot) => {
                *slot = alias.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn get_alias(&self, name: &str) -> Result<Option<StoredAlias>, StoreError> {
        Ok(self.lock()?.aliases.get(name).cloned())
    }

    async fn list_aliases(&self) -> Result<Vec<StoredAlias>, StoreError> {
        Ok(self.lock()?.aliases.values().cloned().collect())
    }

    async fn delete_alias(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.lock()?.aliases.remove(name).is_some())
    }
}
