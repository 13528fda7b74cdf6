//! A [`Store`] kept in memory, for domain tests: one mutex over ordered maps, so every
//! method is atomic and listings come out in key order like the SQL backends.
use crate::model::*;
use crate::store::{DeclarationsLock, Page, Store, StoreError, StoreResult};
use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

#[derive(Default)]
struct Tables {
    pools: BTreeMap<String, UserPool>,
    clients: BTreeMap<String, AppClient>,
    /// (pool id, user key) → user, with its current version.
    users: BTreeMap<(String, String), User>,
    groups: BTreeMap<(String, String), Group>,
    /// (pool id, group name, user key).
    members: BTreeSet<(String, String, String)>,
    token_sessions: BTreeMap<String, TokenSession>,
    challenges: BTreeMap<String, ChallengeSession>,
    secrets: BTreeMap<(String, String), Vec<u8>>,
    /// (pool id, credential id) → passkey.
    passkeys: BTreeMap<(String, String), Passkey>,
    outbox: Vec<OutboxMessage>,
}

#[derive(Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tables> {
        // A test that panicked while holding the lock leaves consistent data: every method
        // finishes its writes before it could panic.
        self.tables.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// At most `limit` items; `next` is the key of the last one when more follow.
fn page<T>(items: impl Iterator<Item = (String, T)>, limit: usize) -> Page<T> {
    let mut rows: Vec<(String, T)> = items.take(limit + 1).collect();
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|(key, _)| key.clone())
    } else {
        None
    };
    Page {
        items: rows.into_iter().map(|(_, item)| item).collect(),
        next,
    }
}

fn after_ok(key: &str, after: Option<&str>) -> bool {
    after.is_none_or(|a| key > a)
}

fn matches_filter(user: &User, filter: Option<&UserFilter>) -> bool {
    let Some(f) = filter else { return true };
    match f.attribute.value_of(user) {
        Some(v) if f.prefix => v.starts_with(&f.value),
        Some(v) => v == f.value,
        None => false,
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn insert_pool(&self, pool: &UserPool) -> StoreResult<()> {
        let mut t = self.lock();
        if t.pools.contains_key(&pool.id) {
            return Err(StoreError::AlreadyExists);
        }
        t.pools.insert(pool.id.clone(), pool.clone());
        Ok(())
    }

    async fn update_pool(&self, pool: &UserPool) -> StoreResult<()> {
        let mut t = self.lock();
        if let Some(stored) = t.pools.get_mut(&pool.id) {
            *stored = pool.clone();
        }
        Ok(())
    }

    async fn get_pool(&self, pool_id: &str) -> StoreResult<Option<UserPool>> {
        Ok(self.lock().pools.get(pool_id).cloned())
    }

    async fn list_pools(&self, after: Option<&str>, limit: usize) -> StoreResult<Page<UserPool>> {
        let t = self.lock();
        let rows = t
            .pools
            .iter()
            .filter(|(id, _)| after_ok(id, after))
            .map(|(id, p)| (id.clone(), p.clone()));
        Ok(page(rows, limit))
    }

    async fn delete_pool(&self, pool_id: &str) -> StoreResult<()> {
        let mut t = self.lock();
        t.pools.remove(pool_id);
        t.clients.retain(|_, c| c.pool_id != pool_id);
        t.users.retain(|(pool, _), _| pool != pool_id);
        t.groups.retain(|(pool, _), _| pool != pool_id);
        t.members.retain(|(pool, _, _)| pool != pool_id);
        t.token_sessions.retain(|_, s| s.pool_id != pool_id);
        t.challenges.retain(|_, c| c.pool_id != pool_id);
        t.passkeys.retain(|(pool, _), _| pool != pool_id);
        Ok(())
    }

    async fn count_users(&self, pool_id: &str) -> StoreResult<u64> {
        Ok(self.lock().users.keys().filter(|(pool, _)| pool == pool_id).count() as u64)
    }

    async fn put_client(&self, client: &AppClient) -> StoreResult<()> {
        self.lock().clients.insert(client.client_id.clone(), client.clone());
        Ok(())
    }

    async fn get_client(&self, client_id: &str) -> StoreResult<Option<AppClient>> {
        Ok(self.lock().clients.get(client_id).cloned())
    }

    async fn list_clients(&self, pool_id: &str, after: Option<&str>, limit: usize) -> StoreResult<Page<AppClient>> {
        let t = self.lock();
        let rows = t
            .clients
            .iter()
            .filter(|(id, c)| c.pool_id == pool_id && after_ok(id, after))
            .map(|(id, c)| (id.clone(), c.clone()));
        Ok(page(rows, limit))
    }

    async fn delete_client(&self, client_id: &str) -> StoreResult<()> {
        self.lock().clients.remove(client_id);
        Ok(())
    }

    async fn insert_user(&self, key: &str, user: &User) -> StoreResult<()> {
        let mut t = self.lock();
        let id = (user.pool_id.clone(), key.to_owned());
        if t.users.contains_key(&id) {
            return Err(StoreError::AlreadyExists);
        }
        let mut stored = user.clone();
        stored.version = 0;
        t.users.insert(id, stored);
        Ok(())
    }

    async fn update_user(&self, key: &str, user: &User) -> StoreResult<()> {
        let mut t = self.lock();
        match t.users.get_mut(&(user.pool_id.clone(), key.to_owned())) {
            Some(stored) if stored.version == user.version => {
                *stored = user.clone();
                stored.version += 1;
                Ok(())
            }
            _ => Err(StoreError::Conflict),
        }
    }

    async fn get_user(&self, pool_id: &str, key: &str) -> StoreResult<Option<User>> {
        Ok(self.lock().users.get(&(pool_id.to_owned(), key.to_owned())).cloned())
    }

    async fn find_users(&self, pool_id: &str, name: &str, value: &str) -> StoreResult<Vec<User>> {
        let t = self.lock();
        Ok(t.users
            .iter()
            .filter(|((pool, _), u)| pool == pool_id && u.attr(name) == Some(value))
            .map(|(_, u)| u.clone())
            .collect())
    }

    async fn delete_user(&self, pool_id: &str, key: &str) -> StoreResult<()> {
        let mut t = self.lock();
        if let Some(user) = t.users.remove(&(pool_id.to_owned(), key.to_owned())) {
            t.passkeys
                .retain(|(pool, _), p| !(pool == pool_id && p.user_sub == user.sub));
        }
        t.members
            .retain(|(pool, _, member)| !(pool == pool_id && member == key));
        Ok(())
    }

    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Page<User>> {
        let t = self.lock();
        let rows = t
            .users
            .iter()
            .filter(|((pool, key), u)| pool == pool_id && after_ok(key, after) && matches_filter(u, filter))
            .map(|((_, key), u)| (key.clone(), u.clone()));
        Ok(page(rows, limit))
    }

    async fn insert_group(&self, group: &Group) -> StoreResult<()> {
        let mut t = self.lock();
        let id = (group.pool_id.clone(), group.name.clone());
        if t.groups.contains_key(&id) {
            return Err(StoreError::AlreadyExists);
        }
        t.groups.insert(id, group.clone());
        Ok(())
    }

    async fn update_group(&self, group: &Group) -> StoreResult<()> {
        let mut t = self.lock();
        if let Some(stored) = t.groups.get_mut(&(group.pool_id.clone(), group.name.clone())) {
            *stored = group.clone();
        }
        Ok(())
    }

    async fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<Group>> {
        Ok(self.lock().groups.get(&(pool_id.to_owned(), name.to_owned())).cloned())
    }

    async fn list_groups(&self, pool_id: &str, after: Option<&str>, limit: usize) -> StoreResult<Page<Group>> {
        let t = self.lock();
        let rows = t
            .groups
            .iter()
            .filter(|((pool, name), _)| pool == pool_id && after_ok(name, after))
            .map(|((_, name), g)| (name.clone(), g.clone()));
        Ok(page(rows, limit))
    }

    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<()> {
        let mut t = self.lock();
        t.groups.remove(&(pool_id.to_owned(), name.to_owned()));
        t.members.retain(|(pool, group, _)| !(pool == pool_id && group == name));
        Ok(())
    }

    async fn add_member(&self, pool_id: &str, group: &str, user_key: &str) -> StoreResult<()> {
        self.lock()
            .members
            .insert((pool_id.to_owned(), group.to_owned(), user_key.to_owned()));
        Ok(())
    }

    async fn remove_member(&self, pool_id: &str, group: &str, user_key: &str) -> StoreResult<()> {
        self.lock()
            .members
            .remove(&(pool_id.to_owned(), group.to_owned(), user_key.to_owned()));
        Ok(())
    }

    async fn groups_of(&self, pool_id: &str, user_key: &str) -> StoreResult<Vec<Group>> {
        let t = self.lock();
        // `members` is ordered by group name within a pool, so the result is too.
        Ok(t.members
            .iter()
            .filter(|(pool, _, member)| pool == pool_id && member == user_key)
            .filter_map(|(pool, group, _)| t.groups.get(&(pool.clone(), group.clone())).cloned())
            .collect())
    }

    async fn members_of(
        &self,
        pool_id: &str,
        group: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Page<User>> {
        let t = self.lock();
        let rows = t
            .members
            .iter()
            .filter(|(pool, g, member)| pool == pool_id && g == group && after_ok(member, after))
            .filter_map(|(pool, _, member)| {
                let user = t.users.get(&(pool.clone(), member.clone()))?;
                Some((member.clone(), user.clone()))
            });
        Ok(page(rows, limit))
    }

    async fn put_token_session(&self, session: &TokenSession) -> StoreResult<()> {
        self.lock().token_sessions.insert(session.id.clone(), session.clone());
        Ok(())
    }

    async fn get_token_session(&self, id: &str) -> StoreResult<Option<TokenSession>> {
        Ok(self.lock().token_sessions.get(id).cloned())
    }

    async fn find_token_session(&self, pool_id: &str, refresh_digest: &str) -> StoreResult<Option<TokenSession>> {
        let t = self.lock();
        Ok(t.token_sessions
            .values()
            .find(|s| s.pool_id == pool_id && s.refresh_digest == refresh_digest)
            .cloned())
    }

    async fn revoke_user_sessions(&self, pool_id: &str, username: &str) -> StoreResult<u64> {
        let mut t = self.lock();
        let mut revoked = 0;
        for s in t.token_sessions.values_mut() {
            if s.pool_id == pool_id && s.username == username && !s.revoked {
                s.revoked = true;
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    async fn put_challenge(&self, session: &ChallengeSession) -> StoreResult<()> {
        self.lock().challenges.insert(session.id.clone(), session.clone());
        Ok(())
    }

    async fn take_challenge(&self, id: &str) -> StoreResult<Option<ChallengeSession>> {
        Ok(self.lock().challenges.remove(id))
    }

    async fn put_secret(&self, scope: &str, name: &str, sealed: &[u8]) -> StoreResult<()> {
        self.lock()
            .secrets
            .insert((scope.to_owned(), name.to_owned()), sealed.to_vec());
        Ok(())
    }

    async fn get_secret(&self, scope: &str, name: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.lock().secrets.get(&(scope.to_owned(), name.to_owned())).cloned())
    }

    async fn put_secret_if_absent(&self, scope: &str, name: &str, sealed: &[u8]) -> StoreResult<Vec<u8>> {
        let mut t = self.lock();
        let stored = t
            .secrets
            .entry((scope.to_owned(), name.to_owned()))
            .or_insert_with(|| sealed.to_vec());
        Ok(stored.clone())
    }

    async fn list_secrets(&self, scope: &str) -> StoreResult<Vec<(String, Vec<u8>)>> {
        let t = self.lock();
        Ok(t.secrets
            .iter()
            .filter(|((s, _), _)| s == scope)
            .map(|((_, name), value)| (name.clone(), value.clone()))
            .collect())
    }

    async fn delete_secret(&self, scope: &str, name: &str) -> StoreResult<bool> {
        Ok(self
            .lock()
            .secrets
            .remove(&(scope.to_owned(), name.to_owned()))
            .is_some())
    }

    async fn insert_passkey(&self, passkey: &Passkey) -> StoreResult<()> {
        let mut t = self.lock();
        let key = (passkey.pool_id.clone(), passkey.credential_id.clone());
        if t.passkeys.contains_key(&key) {
            return Err(StoreError::AlreadyExists);
        }
        t.passkeys.insert(key, passkey.clone());
        Ok(())
    }

    async fn get_passkey(&self, pool_id: &str, credential_id: &str) -> StoreResult<Option<Passkey>> {
        Ok(self
            .lock()
            .passkeys
            .get(&(pool_id.to_owned(), credential_id.to_owned()))
            .cloned())
    }

    async fn passkeys_of(&self, pool_id: &str, user_sub: &str) -> StoreResult<Vec<Passkey>> {
        let mut out: Vec<Passkey> = self
            .lock()
            .passkeys
            .iter()
            .filter(|((pool, _), p)| pool == pool_id && p.user_sub == user_sub)
            .map(|(_, p)| p.clone())
            .collect();
        out.sort_by(|a, b| (a.created_ms, &a.credential_id).cmp(&(b.created_ms, &b.credential_id)));
        Ok(out)
    }

    async fn update_passkey(&self, passkey: &Passkey, seen_sign_count: u32) -> StoreResult<()> {
        let mut t = self.lock();
        match t
            .passkeys
            .get_mut(&(passkey.pool_id.clone(), passkey.credential_id.clone()))
        {
            Some(stored) if stored.sign_count == seen_sign_count => {
                *stored = passkey.clone();
                Ok(())
            }
            _ => Err(StoreError::Conflict),
        }
    }

    async fn delete_passkey(&self, pool_id: &str, credential_id: &str) -> StoreResult<bool> {
        Ok(self
            .lock()
            .passkeys
            .remove(&(pool_id.to_owned(), credential_id.to_owned()))
            .is_some())
    }

    async fn push_message(&self, message: &OutboxMessage) -> StoreResult<()> {
        self.lock().outbox.push(message.clone());
        Ok(())
    }

    async fn list_messages(&self, to: Option<&str>) -> StoreResult<Vec<OutboxMessage>> {
        let t = self.lock();
        Ok(t.outbox
            .iter()
            .filter(|m| to.is_none_or(|to| m.to == to))
            .cloned()
            .collect())
    }

    async fn lock_declarations(&self) -> StoreResult<DeclarationsLock> {
        Ok(DeclarationsLock::unshared())
    }
}
