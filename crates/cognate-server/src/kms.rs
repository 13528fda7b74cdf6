//! The built-in KMS: its keys live in Cognate's store (key material sealed by the KMS under a
//! key derived from Cognate's master key), and it encrypts custom sender codes.
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cognate_core::messages::CodeEncryptor;
use cognate_core::store::Store;
use cognate_core::{Error, Result};
use cognate_kms::{KeyStore, Kms, StoreError, StoredAlias, StoredKey};
use serde_json::{Value, json};
use std::sync::Arc;

const KEYS: &str = "kms:key";
const ALIASES: &str = "kms:alias";

/// KMS keys and aliases in Cognate's store (SQLite or PostgreSQL), so they survive restarts
/// and are shared by nodes sharing a database.
pub struct StoreKeyStore(pub Arc<dyn Store>);

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::new(e)
}

fn key_to_bytes(k: &StoredKey) -> Vec<u8> {
    json!({
        "key_id": k.key_id,
        "arn": k.arn,
        "account": k.account,
        "description": k.description,
        "created_ms": k.created_ms,
        "state": k.state,
        "tags": k.tags,
        "sealed_material": STANDARD.encode(&k.sealed_material),
    })
    .to_string()
    .into_bytes()
}

fn key_from_bytes(b: &[u8]) -> Result<StoredKey, StoreError> {
    let v: Value = serde_json::from_slice(b).map_err(err)?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    Ok(StoredKey {
        key_id: s("key_id"),
        arn: s("arn"),
        account: s("account"),
        description: s("description"),
        created_ms: v.get("created_ms").and_then(Value::as_i64).unwrap_or(0),
        state: s("state"),
        tags: serde_json::from_value(v.get("tags").cloned().unwrap_or(json!([]))).map_err(err)?,
        sealed_material: STANDARD.decode(s("sealed_material")).map_err(err)?,
    })
}

fn alias_to_bytes(a: &StoredAlias) -> Vec<u8> {
    json!({"name": a.name, "target_key_id": a.target_key_id, "created_ms": a.created_ms, "updated_ms": a.updated_ms})
        .to_string()
        .into_bytes()
}

fn alias_from_bytes(b: &[u8]) -> Result<StoredAlias, StoreError> {
    let v: Value = serde_json::from_slice(b).map_err(err)?;
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let n = |k: &str| v.get(k).and_then(Value::as_i64).unwrap_or(0);
    Ok(StoredAlias {
        name: s("name"),
        target_key_id: s("target_key_id"),
        created_ms: n("created_ms"),
        updated_ms: n("updated_ms"),
    })
}

#[async_trait]
impl KeyStore for StoreKeyStore {
    async fn insert_key(&self, key: &StoredKey) -> Result<bool, StoreError> {
        let bytes = key_to_bytes(key);
        let stored = self
            .0
            .put_secret_if_absent(KEYS, &key.key_id, &bytes)
            .await
            .map_err(err)?;
        Ok(stored == bytes)
    }

    async fn update_key(&self, key: &StoredKey) -> Result<bool, StoreError> {
        let existed = self.0.get_secret(KEYS, &key.key_id).await.map_err(err)?.is_some();
        if existed {
            self.0
                .put_secret(KEYS, &key.key_id, &key_to_bytes(key))
                .await
                .map_err(err)?;
        }
        Ok(existed)
    }

    async fn get_key(&self, key_id: &str) -> Result<Option<StoredKey>, StoreError> {
        match self.0.get_secret(KEYS, key_id).await.map_err(err)? {
            Some(b) => key_from_bytes(&b).map(Some),
            None => Ok(None),
        }
    }

    async fn list_keys(&self) -> Result<Vec<StoredKey>, StoreError> {
        let rows = self.0.list_secrets(KEYS).await.map_err(err)?;
        rows.iter().map(|(_, b)| key_from_bytes(b)).collect()
    }

    async fn insert_alias(&self, alias: &StoredAlias) -> Result<bool, StoreError> {
        let bytes = alias_to_bytes(alias);
        let stored = self
            .0
            .put_secret_if_absent(ALIASES, &alias.name, &bytes)
            .await
            .map_err(err)?;
        Ok(stored == bytes)
    }

    async fn update_alias(&self, alias: &StoredAlias) -> Result<bool, StoreError> {
        let existed = self.0.get_secret(ALIASES, &alias.name).await.map_err(err)?.is_some();
        if existed {
            self.0
                .put_secret(ALIASES, &alias.name, &alias_to_bytes(alias))
                .await
                .map_err(err)?;
        }
        Ok(existed)
    }

    async fn get_alias(&self, name: &str) -> Result<Option<StoredAlias>, StoreError> {
        match self.0.get_secret(ALIASES, name).await.map_err(err)? {
            Some(b) => alias_from_bytes(&b).map(Some),
            None => Ok(None),
        }
    }

    async fn list_aliases(&self) -> Result<Vec<StoredAlias>, StoreError> {
        let rows = self.0.list_secrets(ALIASES).await.map_err(err)?;
        rows.iter().map(|(_, b)| alias_from_bytes(b)).collect()
    }

    async fn delete_alias(&self, name: &str) -> Result<bool, StoreError> {
        self.0.delete_secret(ALIASES, name).await.map_err(err)
    }
}

/// Encrypts custom sender codes under the pool's KMSKeyID, creating that key here the first
/// time a configuration names it.
pub struct KmsEncryptor {
    pub kms: Arc<Kms>,
    /// The server's injected randomness (data keys and the message's signing key).
    pub random: Arc<dyn cognate_core::rng::Random>,
}

#[async_trait]
impl CodeEncryptor for KmsEncryptor {
    async fn encrypt_code(&self, key_id: &str, pool_id: &str, plaintext: &str) -> Result<String> {
        let key = self.kms.ensure_key_for_arn(key_id).await.map_err(|e| {
            // A key that cannot be used is the pool's configuration, not a server fault
            // (pools saved before KMSKeyID was validated may hold any string).
            tracing::warn!(%key_id, error = %e, "the pool's KMSKeyID cannot be used");
            Error::new(
                cognate_core::ErrorKind::InvalidUserPoolConfigurationException,
                format!("The KMS key {key_id} of the user pool's LambdaConfig cannot be used."),
            )
        })?;
        cognate_kms::encrypt_code(&self.kms, &key.arn, pool_id, plaintext.as_bytes(), self.random.as_ref())
            .await
            .map_err(|e| Error::internal(format!("encrypting a code: {e}")))
    }
}
