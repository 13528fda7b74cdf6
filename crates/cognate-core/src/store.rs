//! The storage boundary. Implementations (SQLite, PostgreSQL) live in `cognate-store`; the
//! domain only sees this trait. Every method is one atomic step: a user record and its
//! secondary keys are written together or not at all.
use crate::model::*;
use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key is taken (username, group name, …).
    #[error("already exists")]
    AlreadyExists,
    /// The record changed since it was read (optimistic concurrency).
    #[error("concurrent modification")]
    Conflict,
    #[error("storage backend failure: {0}")]
    Backend(String),
    /// The database was migrated by a newer Cognate: this one does not know its schema.
    #[error(
        "the database's schema is version {found}, newer than this Cognate knows (version {known}): it was \
         migrated by a newer Cognate; run that version, or a newer one, against it (a schema is never downgraded)"
    )]
    NewerSchema { found: i64, known: i64 },
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Held while this node applies its declared configuration (see [`Store::lock_declarations`]):
/// no other node sharing the store applies one meanwhile. Dropping it releases the lock.
#[must_use = "the lock is released as soon as this is dropped"]
pub struct DeclarationsLock(Option<Box<dyn std::any::Any + Send + Sync>>);

impl DeclarationsLock {
    /// Nothing to hold: a store that one process uses alone.
    pub fn unshared() -> Self {
        Self(None)
    }

    /// Holds `held` (e.g. the connection that owns a database lock) until dropped.
    pub fn holding(held: impl std::any::Any + Send + Sync) -> Self {
        Self(Some(Box::new(held)))
    }

    /// Whether a lock shared with other nodes is held.
    pub fn is_shared(&self) -> bool {
        self.0.is_some()
    }
}

/// One page of a listing; `next` is the opaque key to continue from.
#[derive(Debug, Clone)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    // Pools
    async fn insert_pool(&self, pool: &UserPool) -> StoreResult<()>;
    async fn update_pool(&self, pool: &UserPool) -> StoreResult<()>;
    async fn get_pool(&self, pool_id: &str) -> StoreResult<Option<UserPool>>;
    /// Pools ordered by id, starting after `after`.
    async fn list_pools(&self, after: Option<&str>, limit: usize) -> StoreResult<Page<UserPool>>;
    /// Deletes the pool and everything in it.
    async fn delete_pool(&self, pool_id: &str) -> StoreResult<()>;
    async fn count_users(&self, pool_id: &str) -> StoreResult<u64>;

    // App clients
    async fn put_client(&self, client: &AppClient) -> StoreResult<()>;
    async fn get_client(&self, client_id: &str) -> StoreResult<Option<AppClient>>;
    async fn list_clients(&self, pool_id: &str, after: Option<&str>, limit: usize) -> StoreResult<Page<AppClient>>;
    async fn delete_client(&self, client_id: &str) -> StoreResult<()>;

    // Users. `key` is the username as the pool compares it (lower-cased when the pool is
    // case-insensitive); implementations index `email`, `phone_number`,
    // `preferred_username` and `sub` for lookups and ListUsers filters.
    async fn insert_user(&self, key: &str, user: &User) -> StoreResult<()>;
    /// Writes `user` if its `version` is still current; bumps the version.
    async fn update_user(&self, key: &str, user: &User) -> StoreResult<()>;
    async fn get_user(&self, pool_id: &str, key: &str) -> StoreResult<Option<User>>;
    /// Users whose attribute `name` (email, phone_number, preferred_username or sub) equals `value`.
    async fn find_users(&self, pool_id: &str, name: &str, value: &str) -> StoreResult<Vec<User>>;
    /// Deletes the user, its group memberships and its passkeys.
    async fn delete_user(&self, pool_id: &str, key: &str) -> StoreResult<()>;
    /// Users ordered by key, filtered, starting after `after`.
    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Page<User>>;

    // Groups and membership
    async fn insert_group(&self, group: &Group) -> StoreResult<()>;
    async fn update_group(&self, group: &Group) -> StoreResult<()>;
    async fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<Group>>;
    async fn list_groups(&self, pool_id: &str, after: Option<&str>, limit: usize) -> StoreResult<Page<Group>>;
    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<()>;
    async fn add_member(&self, pool_id: &str, group: &str, user_key: &str) -> StoreResult<()>;
    async fn remove_member(&self, pool_id: &str, group: &str, user_key: &str) -> StoreResult<()>;
    /// Groups of a user, ordered by name.
    async fn groups_of(&self, pool_id: &str, user_key: &str) -> StoreResult<Vec<Group>>;
    async fn members_of(
        &self,
        pool_id: &str,
        group: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Page<User>>;

    // Token sessions (refresh tokens)
    async fn put_token_session(&self, session: &TokenSession) -> StoreResult<()>;
    async fn get_token_session(&self, id: &str) -> StoreResult<Option<TokenSession>>;
    async fn find_token_session(&self, pool_id: &str, refresh_digest: &str) -> StoreResult<Option<TokenSession>>;
    /// Revokes every session of a user; returns how many.
    async fn revoke_user_sessions(&self, pool_id: &str, username: &str) -> StoreResult<u64>;

    // Challenge sessions
    async fn put_challenge(&self, session: &ChallengeSession) -> StoreResult<()>;
    /// Removes and returns the session: a challenge session is answered once.
    async fn take_challenge(&self, id: &str) -> StoreResult<Option<ChallengeSession>>;

    // Secrets (sealed by the caller) and small settings
    async fn put_secret(&self, scope: &str, name: &str, sealed: &[u8]) -> StoreResult<()>;
    async fn get_secret(&self, scope: &str, name: &str) -> StoreResult<Option<Vec<u8>>>;
    /// Stores `sealed` unless a value exists; returns the value that is stored now.
    async fn put_secret_if_absent(&self, scope: &str, name: &str, sealed: &[u8]) -> StoreResult<Vec<u8>>;

    /// Every secret of a scope, ordered by name.
    async fn list_secrets(&self, scope: &str) -> StoreResult<Vec<(String, Vec<u8>)>>;
    /// Deletes a secret; returns whether it existed.
    async fn delete_secret(&self, scope: &str, name: &str) -> StoreResult<bool>;

    // Passkeys (WebAuthn credentials). A credential id is unique in its pool; deleting the
    // user (`delete_user`) or the pool deletes its passkeys.
    /// Stores a new passkey; `AlreadyExists` when its credential id is taken in the pool.
    async fn insert_passkey(&self, passkey: &Passkey) -> StoreResult<()>;
    async fn get_passkey(&self, pool_id: &str, credential_id: &str) -> StoreResult<Option<Passkey>>;
    /// The passkeys of the user whose `sub` is `user_sub`, oldest first.
    async fn passkeys_of(&self, pool_id: &str, user_sub: &str) -> StoreResult<Vec<Passkey>>;
    /// Writes `passkey` (its counter and credential) if its stored counter is still
    /// `seen_sign_count`; `Conflict` otherwise (another sign-in moved it), or when it is gone.
    async fn update_passkey(&self, passkey: &Passkey, seen_sign_count: u32) -> StoreResult<()>;
    /// Deletes a passkey; returns whether it existed.
    async fn delete_passkey(&self, pool_id: &str, credential_id: &str) -> StoreResult<bool>;

    // Outbox
    async fn push_message(&self, message: &OutboxMessage) -> StoreResult<()>;
    async fn list_messages(&self, to: Option<&str>) -> StoreResult<Vec<OutboxMessage>>;

    // Start-up
    /// Waits until no other node sharing this store is applying its declared configuration
    /// (pools, clients, domains… of a serverless.yml), then keeps the others waiting until the
    /// returned lock is dropped: nodes starting at once with the same configuration create each
    /// resource once. A store only one process uses returns at once.
    async fn lock_declarations(&self) -> StoreResult<DeclarationsLock>;
}
