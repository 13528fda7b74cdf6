//! Times every store call for `/metrics` (`cognate_store_duration_seconds{operation}`) on the
//! way to the real store. The forwarding is generated from the list of the trait's methods, so
//! a method added to `Store` without a line here fails to compile.
use crate::metrics::Metrics;
use async_trait::async_trait;
use cognate_core::model::*;
use cognate_core::store::{DeclarationsLock, Page, Store, StoreResult};
use std::sync::Arc;
use std::time::Instant;

pub struct MeteredStore {
    pub inner: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
}

macro_rules! metered {
    ($( fn $name:ident(&self $(, $arg:ident : $ty:ty)*) -> $ret:ty; )*) => {
        #[async_trait]
        impl Store for MeteredStore {
            $(
                async fn $name(&self $(, $arg: $ty)*) -> $ret {
                    let started = Instant::now();
                    let out = self.inner.$name($($arg),*).await;
                    self.metrics.observe_store(stringify!($name), started.elapsed());
                    out
                }
            )*
        }
    };
}

metered! {
    fn insert_pool(&self, pool: &UserPool) -> StoreResult<()>;
    fn update_pool(&self, pool: &UserPool) -> StoreResult<()>;
    fn get_pool(&self, pool_id: &str) -> StoreResult<Option<UserPool>>;
    fn list_pools(&self, after: Option<&str>, limit: usize) -> StoreResult<Page<UserPool>>;
    fn delete_pool(&self, pool_id: &str) -> StoreResult<()>;
    fn count_users(&self, pool_id: &str) -> StoreResult<u64>;
    fn put_client(&self, client: &AppClient) -> StoreResult<()>;
    fn get_client(&self, client_id: &str) -> StoreResult<Option<AppClient>>;
    fn list_clients(&self, pool_id: &str, after: Option<&str>, limit: usize) -> StoreResult<Page<AppClient>>;
    fn delete_client(&self, client_id: &str) -> StoreResult<()>;
    fn insert_user(&self, key: &str, user: &User) -> StoreResult<()>;
    fn update_user(&self, key: &str, user: &User) -> StoreResult<()>;
    fn get_user(&self, pool_id: &str, key: &str) -> StoreResult<Option<User>>;
    fn find_users(&self, pool_id: &str, name: &str, value: &str) -> StoreResult<Vec<User>>;
    fn delete_user(&self, pool_id: &str, key: &str) -> StoreResult<()>;
    fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        after: Option<&str>,
        limit: usize
    ) -> StoreResult<Page<User>>;
    fn insert_group(&self, group: &Group) -> StoreResult<()>;
    fn update_group(&self, group: &Group) -> StoreResult<()>;
    fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<Group>>;
    fn list_groups(&self, pool_id: &str, after: Option<&str>, limit: usize) -> StoreResult<Page<Group>>;
    fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<()>;
    fn add_member(&self, pool_id: &str, group: &str, user_key: &str) -> StoreResult<()>;
    fn remove_member(&self, pool_id: &str, group: &str, user_key: &str) -> StoreResult<()>;
    fn groups_of(&self, pool_id: &str, user_key: &str) -> StoreResult<Vec<Group>>;
    fn members_of(&self, pool_id: &str, group: &str, after: Option<&str>, limit: usize) -> StoreResult<Page<User>>;
    fn put_token_session(&self, session: &TokenSession) -> StoreResult<()>;
    fn get_token_session(&self, id: &str) -> StoreResult<Option<TokenSession>>;
    fn find_token_session(&self, pool_id: &str, refresh_digest: &str) -> StoreResult<Option<TokenSession>>;
    fn revoke_user_sessions(&self, pool_id: &str, username: &str) -> StoreResult<u64>;
    fn put_challenge(&self, session: &ChallengeSession) -> StoreResult<()>;
    fn take_challenge(&self, id: &str) -> StoreResult<Option<ChallengeSession>>;
    fn put_secret(&self, scope: &str, name: &str, sealed: &[u8]) -> StoreResult<()>;
    fn get_secret(&self, scope: &str, name: &str) -> StoreResult<Option<Vec<u8>>>;
    fn put_secret_if_absent(&self, scope: &str, name: &str, sealed: &[u8]) -> StoreResult<Vec<u8>>;
    fn list_secrets(&self, scope: &str) -> StoreResult<Vec<(String, Vec<u8>)>>;
    fn delete_secret(&self, scope: &str, name: &str) -> StoreResult<bool>;
    fn insert_passkey(&self, passkey: &Passkey) -> StoreResult<()>;
    fn get_passkey(&self, pool_id: &str, credential_id: &str) -> StoreResult<Option<Passkey>>;
    fn passkeys_of(&self, pool_id: &str, user_sub: &str) -> StoreResult<Vec<Passkey>>;
    fn update_passkey(&self, passkey: &Passkey, seen_sign_count: u32) -> StoreResult<()>;
    fn delete_passkey(&self, pool_id: &str, credential_id: &str) -> StoreResult<bool>;
    fn push_message(&self, message: &OutboxMessage) -> StoreResult<()>;
    fn list_messages(&self, to: Option<&str>) -> StoreResult<Vec<OutboxMessage>>;
    fn lock_declarations(&self) -> StoreResult<DeclarationsLock>;
}
