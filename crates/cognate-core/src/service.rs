//! The user pool service: every Cognito operation is a method on [`Cognito`], named after it
//! (see `ops/`). This file holds the parts they share.
use crate::clock::Clock;
use crate::error::{Error, ErrorKind, Result};
use crate::model::*;
use crate::rng::{Random, RandomExt};
use crate::store::{Store, StoreError};
use crate::triggers::TriggerInvoker;
use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cognate_crypto::jwt::SigningKey;
use cognate_crypto::seal::Sealer;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// CPU-heavy work (password hashing, RSA key generation) runs off the request threads;
/// the server supplies an implementation backed by a bounded blocking pool.
#[async_trait]
pub trait Compute: Send + Sync + 'static {
    async fn hash_password(&self, password: String, salt: [u8; 16]) -> Result<String>;
    async fn verify_password(&self, password: String, phc: String) -> Result<bool>;
    async fn generate_rsa_key(&self) -> Result<Vec<u8>>;
}

/// Settings that shape what the service answers.
#[derive(Debug, Clone)]
pub struct Settings {
    pub region: String,
    pub account: String,
    /// Issuer base; a pool's issuer is `{issuer_base}/{pool_id}`.
    pub issuer_base: String,
    /// This server's own URL as clients reach it (`http://HOST:PORT`), where what it hosts
    /// is served: the hosted UI's logos (the `ImageUrl` of GetUICustomization).
    pub public_base: String,
}

/// Who called, for trigger events (callerContext.awsSdkVersion).
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    pub user_agent: Option<String>,
}

pub struct Cognito {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) random: Arc<dyn Random>,
    pub(crate) compute: Arc<dyn Compute>,
    pub(crate) triggers: Arc<dyn TriggerInvoker>,
    pub(crate) sealer: Sealer,
    /// Key of the MAC that pending codes are stored as (see `messages::Cognito::code_digest`),
    /// derived from the master key and distinct from the sealing key.
    pub(crate) code_key: [u8; 32],
    pub(crate) settings: Settings,
    pub(crate) sink: Arc<dyn crate::messages::MessageSink>,
    pub(crate) encryptor: Option<Arc<dyn crate::messages::CodeEncryptor>>,
    /// Requests to other servers (federation: discovery, token exchange, metadata).
    pub(crate) outbound: Arc<dyn crate::outbound::Outbound>,
    keys: Mutex<HashMap<String, Arc<PoolKeys>>>,
    /// Request-rate quotas, when enforced; see `quotas.rs`.
    pub(crate) quotas: Option<crate::quotas::Quotas>,
    /// Serialises guesses (passwords, codes) and code requests per user; see `locks.rs`.
    pub(crate) guess_locks: crate::locks::KeyedLocks,
    /// The clients `client_credentials` serves, read briefly from memory; see `oauth/machines.rs`.
    pub(crate) machine_clients: crate::oauth::machines::MachineClients,
    /// Counters for names that match no user (PreventUserExistenceErrors); see `ops/limits.rs`.
    pub(crate) ghosts: Mutex<HashMap<String, crate::ops::limits::Ghost>>,
    /// Unenforced settings already reported in the log; see `ops/unenforced.rs`.
    pub(crate) unenforced: crate::ops::unenforced::Reported,
    /// Where started user import jobs run; unset, they run before StartUserImportJob answers.
    pub(crate) job_runner: std::sync::OnceLock<crate::ops::import_jobs::JobRunner>,
}

/// A pool's two signing keys: ID and access tokens are signed with different keys.
pub struct PoolKeys {
    pub id: SigningKey,
    pub access: SigningKey,
}

/// Marks a client secret sealed at rest: `sealed:v1:` then base64 of nonce, ciphertext and tag.
const SEALED_SECRET_PREFIX: &str = "sealed:v1:";

fn client_secret_context(client_id: &str) -> String {
    format!("{client_id}/client-secret")
}

pub const ID_KEY: &str = "id-token-key";
pub const ACCESS_KEY: &str = "access-token-key";

impl Cognito {
    pub fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        random: Arc<dyn Random>,
        compute: Arc<dyn Compute>,
        triggers: Arc<dyn TriggerInvoker>,
        master_key: &[u8],
        settings: Settings,
    ) -> Result<Self> {
        let sealer = Sealer::new(master_key).map_err(Error::internal)?;
        let code_key = cognate_crypto::hmac_sha256(master_key, &[b"cognate/code-mac/v1"]);
        let sink = Arc::new(crate::messages::StoreOutbox(store.clone()));
        Ok(Self {
            sink,
            encryptor: None,
            outbound: Arc::new(crate::outbound::NoOutbound),
            store,
            clock,
            random,
            compute,
            triggers,
            sealer,
            code_key,
            settings,
            keys: Mutex::new(HashMap::new()),
            quotas: None,
            guess_locks: Default::default(),
            machine_clients: Default::default(),
            unenforced: Default::default(),
            job_runner: Default::default(),
            ghosts: Mutex::new(HashMap::new()),
        })
    }

    /// Sends messages somewhere other than the development outbox.
    pub fn with_message_sink(mut self, sink: Arc<dyn crate::messages::MessageSink>) -> Self {
        self.sink = sink;
        self
    }

    /// Sends requests to other servers (identity providers) through `outbound`.
    pub fn with_outbound(mut self, outbound: Arc<dyn crate::outbound::Outbound>) -> Self {
        self.outbound = outbound;
        self
    }

    /// Enforces Cognito's request-rate quotas at these rates.
    pub fn with_quotas(mut self, settings: crate::quotas::QuotaSettings) -> Self {
        self.quotas = Some(crate::quotas::Quotas::new(settings));
        self
    }

    /// Encrypts codes for custom sender triggers.
    pub fn with_code_encryptor(mut self, encryptor: Arc<dyn crate::messages::CodeEncryptor>) -> Self {
        self.encryptor = Some(encryptor);
        self
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_millis()
    }

    pub fn issuer(&self, pool_id: &str) -> String {
        format!("{}/{}", self.settings.issuer_base.trim_end_matches('/'), pool_id)
    }

    pub(crate) fn nonce(&self) -> [u8; 12] {
        self.random.bytes()
    }

    // ---- lookups -------------------------------------------------------------------

    pub async fn pool(&self, pool_id: &str) -> Result<UserPool> {
        self.store
            .get_pool(pool_id)
            .await?
            .ok_or_else(|| Error::resource_not_found(format!("User pool {pool_id} does not exist.")))
    }

    pub async fn client(&self, client_id: &str) -> Result<AppClient> {
        let client = self
            .store
            .get_client(client_id)
            .await?
            .ok_or_else(|| Error::resource_not_found(format!("User pool client {client_id} does not exist.")))?;
        self.open_client_secret(client)
    }

    /// The client, with its secret in clear, if it exists.
    pub async fn find_client(&self, client_id: &str) -> Result<Option<AppClient>> {
        match self.store.get_client(client_id).await? {
            Some(client) => self.open_client_secret(client).map(Some),
            None => Ok(None),
        }
    }

    /// Stores a client, its secret sealed with the master key (bound to the client id).
    pub(crate) async fn put_client(&self, client: &AppClient) -> Result<()> {
        let mut stored = client.clone();
        if let Some(secret) = &client.secret {
            let sealed = self.sealer.seal(
                secret.as_bytes(),
                client_secret_context(&client.client_id).as_bytes(),
                self.nonce(),
            );
            stored.secret = Some(format!("{SEALED_SECRET_PREFIX}{}", STANDARD.encode(sealed)));
        }
        self.store.put_client(&stored).await?;
        Ok(())
    }

    /// The client with its secret in clear. A secret stored before secrets were sealed (plain
    /// text: lowercase letters and digits, never the sealed prefix) is taken as it is.
    fn open_client_secret(&self, mut client: AppClient) -> Result<AppClient> {
        if let Some(sealed) = client
            .secret
            .as_deref()
            .and_then(|s| s.strip_prefix(SEALED_SECRET_PREFIX))
        {
            let bytes = STANDARD.decode(sealed).map_err(Error::internal)?;
            let plain = self
                .sealer
                .open(&bytes, client_secret_context(&client.client_id).as_bytes())
                .map_err(Error::internal)?;
            client.secret = Some(String::from_utf8(plain.to_vec()).map_err(Error::internal)?);
        }
        Ok(client)
    }

    /// The client and its pool, for operations that name only a client.
    pub async fn client_and_pool(&self, client_id: &str) -> Result<(AppClient, UserPool)> {
        let client = self.client(client_id).await?;
        let pool = self.pool(&client.pool_id).await?;
        Ok((client, pool))
    }

    /// A client that must belong to `pool_id`.
    pub async fn client_of(&self, pool_id: &str, client_id: &str) -> Result<AppClient> {
        let client = self.client(client_id).await?;
        if client.pool_id != pool_id {
            return Err(Error::resource_not_found(format!(
                "User pool client {client_id} does not exist."
            )));
        }
        Ok(client)
    }

    /// The key under which the store indexes a username in this pool.
    pub fn user_key(pool: &UserPool, username: &str) -> String {
        if pool.case_sensitive() {
            username.to_owned()
        } else {
            username.to_lowercase()
        }
    }

    /// Finds a user by what they typed: the username, or (per the pool's settings) a verified
    /// alias, an email/phone username attribute, or the sub.
    pub async fn find_user(&self, pool: &UserPool, login: &str) -> Result<Option<User>> {
        if let Some(u) = self.store.get_user(&pool.id, &Self::user_key(pool, login)).await? {
            return Ok(Some(u));
        }
        let username_attrs = pool.username_attributes();
        for attr in &username_attrs {
            let users = self.store.find_users(&pool.id, attr, login).await?;
            if let Some(u) = users.into_iter().next() {
                return Ok(Some(u));
            }
        }
        for attr in pool.alias_attributes() {
            let users = self.store.find_users(&pool.id, &attr, login).await?;
            let found = users
                .into_iter()
                .find(|u| attr == "preferred_username" || u.is_verified(&attr));
            if let Some(u) = found {
                return Ok(Some(u));
            }
        }
        if (!username_attrs.is_empty() || !pool.alias_attributes().is_empty())
            && let Some(u) = self.store.find_users(&pool.id, "sub", login).await?.into_iter().next()
        {
            return Ok(Some(u));
        }
        Ok(None)
    }

    pub async fn require_user(&self, pool: &UserPool, login: &str) -> Result<User> {
        self.find_user(pool, login).await?.ok_or_else(Error::user_not_found)
    }

    /// Writes a changed user, mapping a lost race to a retryable error.
    pub async fn save_user(&self, pool: &UserPool, user: &mut User) -> Result<()> {
        user.modified_ms = self.now_ms();
        self.save_user_quietly(pool, user).await
    }

    /// Writes state that is not a modification of the user (lockout counters, the last TOTP
    /// step): UserLastModifiedDate stays as it was.
    pub(crate) async fn save_user_quietly(&self, pool: &UserPool, user: &mut User) -> Result<()> {
        match self
            .store
            .update_user(&Self::user_key(pool, &user.username), user)
            .await
        {
            Ok(()) => {
                user.version += 1;
                Ok(())
            }
            Err(StoreError::Conflict) => Err(Error::new(
                ErrorKind::TooManyRequestsException,
                "The user was modified concurrently; retry the request.",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Checks SECRET_HASH when the client has a secret.
    pub fn check_secret_hash(&self, client: &AppClient, username: &str, given: Option<&str>) -> Result<()> {
        let Some(secret) = &client.secret else { return Ok(()) };
        let ok = given
            .is_some_and(|g| cognate_crypto::secret_hash::verify_secret_hash(secret, username, &client.client_id, g));
        if ok {
            Ok(())
        } else {
            Err(Error::not_authorized(format!(
                "Unable to verify secret hash for client {}",
                client.client_id
            )))
        }
    }

    /// SECRET_HASH may be computed over any name the user is known by.
    pub fn check_secret_hash_for_user(&self, client: &AppClient, names: &[&str], given: Option<&str>) -> Result<()> {
        let Some(secret) = &client.secret else { return Ok(()) };
        let ok = given.is_some_and(|g| {
            names
                .iter()
                .any(|n| cognate_crypto::secret_hash::verify_secret_hash(secret, n, &client.client_id, g))
        });
        if ok {
            Ok(())
        } else {
            Err(Error::not_authorized(format!(
                "Unable to verify secret hash for client {}",
                client.client_id
            )))
        }
    }

    // ---- keys ------------------------------------------------------------------------

    /// The pool's signing keys, created on first use and kept sealed in the store.
    pub async fn pool_keys(&self, pool_id: &str) -> Result<Arc<PoolKeys>> {
        if let Some(k) = self.keys.lock().expect("key cache poisoned").get(pool_id) {
            return Ok(k.clone());
        }
        let id = self.load_or_create_key(pool_id, ID_KEY).await?;
        let access = self.load_or_create_key(pool_id, ACCESS_KEY).await?;
        let keys = Arc::new(PoolKeys { id, access });
        self.keys
            .lock()
            .expect("key cache poisoned")
            .insert(pool_id.to_owned(), keys.clone());
        Ok(keys)
    }

    pub(crate) fn forget_keys(&self, pool_id: &str) {
        self.keys.lock().expect("key cache poisoned").remove(pool_id);
    }

    async fn load_or_create_key(&self, pool_id: &str, name: &str) -> Result<SigningKey> {
        let context = format!("{pool_id}/{name}");
        let sealed = match self.store.get_secret(pool_id, name).await? {
            Some(s) => s,
            None => {
                let der = self.compute.generate_rsa_key().await?;
                let sealed = self.sealer.seal(&der, context.as_bytes(), self.nonce());
                self.store.put_secret_if_absent(pool_id, name, &sealed).await?
            }
        };
        let der = self.sealer.open(&sealed, context.as_bytes()).map_err(Error::internal)?;
        SigningKey::from_pkcs8(&der).map_err(Error::internal)
    }

    /// The pool's JWKS document.
    pub async fn jwks(&self, pool_id: &str) -> Result<serde_json::Value> {
        self.pool(pool_id).await?;
        let keys = self.pool_keys(pool_id).await?;
        Ok(serde_json::json!({ "keys": [keys.id.jwk(), keys.access.jwk()] }))
    }

    /// A random id of `len` characters from `alphabet`.
    pub fn random_string(&self, alphabet: &[u8], len: usize) -> String {
        self.random.string_from(alphabet, len)
    }
}

pub const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
pub const LOWER_ALNUM: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// Epoch seconds with millisecond precision, as Cognito's JSON timestamps.
pub fn epoch(ms: i64) -> serde_json::Value {
    serde_json::json!(ms as f64 / 1000.0)
}
