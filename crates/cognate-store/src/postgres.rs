//! PostgreSQL backend, for several stateless Cognate nodes sharing one database. The schema
//! mirrors SQLite's; text columns that are compared by range use the "C" collation so prefix
//! filters and pagination order bytes exactly as SQLite does.
use crate::common::*;
use async_trait::async_trait;
use cognate_core::model::*;
use cognate_core::store::{DeclarationsLock, Page, Store, StoreError, StoreResult};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;
use tokio_postgres::types::ToSql;

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE pools (id TEXT COLLATE "C" PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE clients (client_id TEXT COLLATE "C" PRIMARY KEY, pool_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX clients_by_pool ON clients(pool_id, client_id);
CREATE TABLE users (
    pool_id TEXT NOT NULL,
    key TEXT COLLATE "C" NOT NULL,
    username TEXT COLLATE "C" NOT NULL,
    sub TEXT NOT NULL,
    email TEXT COLLATE "C",
    phone_number TEXT COLLATE "C",
    preferred_username TEXT COLLATE "C",
    name TEXT COLLATE "C",
    given_name TEXT COLLATE "C",
    family_name TEXT COLLATE "C",
    user_status TEXT COLLATE "C" NOT NULL,
    enabled TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (pool_id, key)
);
CREATE INDEX users_by_sub ON users(pool_id, sub);
CREATE INDEX users_by_email ON users(pool_id, email, key);
CREATE INDEX users_by_phone ON users(pool_id, phone_number, key);
CREATE INDEX users_by_preferred ON users(pool_id, preferred_username, key);
CREATE INDEX users_by_name ON users(pool_id, name, key);
CREATE INDEX users_by_given_name ON users(pool_id, given_name, key);
CREATE INDEX users_by_family_name ON users(pool_id, family_name, key);
CREATE INDEX users_by_status ON users(pool_id, user_status, key);
CREATE INDEX users_by_enabled ON users(pool_id, enabled, key);
CREATE INDEX users_by_username ON users(pool_id, username, key);
CREATE TABLE groups (pool_id TEXT NOT NULL, name TEXT COLLATE "C" NOT NULL, data TEXT NOT NULL, PRIMARY KEY (pool_id, name));
CREATE TABLE memberships (pool_id TEXT NOT NULL, group_name TEXT COLLATE "C" NOT NULL, user_key TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (pool_id, group_name, user_key));
CREATE INDEX memberships_by_user ON memberships(pool_id, user_key);
CREATE TABLE token_sessions (id TEXT PRIMARY KEY, pool_id TEXT NOT NULL, username TEXT NOT NULL,
    refresh_digest TEXT NOT NULL, revoked BOOLEAN NOT NULL, data TEXT NOT NULL);
CREATE INDEX sessions_by_digest ON token_sessions(pool_id, refresh_digest);
CREATE INDEX sessions_by_user ON token_sessions(pool_id, username);
CREATE TABLE challenges (id TEXT PRIMARY KEY, pool_id TEXT NOT NULL, expires_ms BIGINT NOT NULL, data TEXT NOT NULL);
CREATE TABLE secrets (scope TEXT NOT NULL, name TEXT COLLATE "C" NOT NULL, value BYTEA NOT NULL, PRIMARY KEY (scope, name));
CREATE TABLE messages (seq BIGSERIAL PRIMARY KEY, to_addr TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX messages_by_to ON messages(to_addr, seq);
"#,
    // Expired challenges (and authorization codes) are swept by expiry on every insert.
    "CREATE INDEX challenges_by_expiry ON challenges(expires_ms);",
    // Passkeys: the credential id is unique in its pool.
    r#"
CREATE TABLE passkeys (pool_id TEXT NOT NULL, credential_id TEXT COLLATE "C" NOT NULL, user_sub TEXT NOT NULL,
    created_ms BIGINT NOT NULL, sign_count BIGINT NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (pool_id, credential_id));
CREATE INDEX passkeys_by_user ON passkeys(pool_id, user_sub, created_ms, credential_id);
"#,
];

/// Advisory lock keys (per database): one node migrates at a time, and one node applies its
/// declared configuration at a time.
const MIGRATION_LOCK: i64 = 7370836617;
const DECLARATIONS_LOCK: i64 = 7370836618;

fn sql_error(e: tokio_postgres::Error) -> StoreError {
    if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
        StoreError::AlreadyExists
    } else {
        backend(e)
    }
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> StoreResult<T> {
    serde_json::from_str(s).map_err(backend)
}

fn user_from_row(row: &tokio_postgres::Row) -> StoreResult<User> {
    let mut user: User = from_json(row.get::<_, &str>("data"))?;
    user.version = row.get("version");
    Ok(user)
}

pub struct PostgresStore {
    pool: Pool,
    /// For connections outside the pool (the declarations lock).
    config: tokio_postgres::Config,
}

/// The connection that holds the declarations lock. Dropping the client closes the connection,
/// and PostgreSQL releases a session's advisory locks when it ends (also when the process dies).
struct LockConnection {
    _client: tokio_postgres::Client,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user[:password]@host[:port]/database[?options=…]`) and
    /// brings the schema up to date (one node at a time, under an advisory lock).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let config: tokio_postgres::Config = url.parse().map_err(backend)?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager).max_size(16).build().map_err(backend)?;
        let store = Self { pool, config };
        store.migrate().await?;
        Ok(store)
    }

    async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.pool.get().await.map_err(backend)
    }

    async fn migrate(&self) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await
            .map_err(backend)?;
        tx.execute("CREATE TABLE IF NOT EXISTS cognate_schema (version INT NOT NULL)", &[])
            .await
            .map_err(backend)?;
        let version: i32 = match tx
            .query_opt("SELECT version FROM cognate_schema", &[])
            .await
            .map_err(backend)?
        {
            Some(r) => r.get(0),
            None => {
                tx.execute("INSERT INTO cognate_schema (version) VALUES (0)", &[])
                    .await
                    .map_err(backend)?;
                0
            }
        };
        check_schema_version(version.into(), MIGRATIONS.len())?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.batch_execute(sql).await.map_err(backend)?;
            tx.execute("UPDATE cognate_schema SET version = $1", &[&(i as i32 + 1)])
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn exec(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<u64> {
        self.client().await?.execute(sql, params).await.map_err(sql_error)
    }

    async fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Vec<tokio_postgres::Row>> {
        self.client().await?.query(sql, params).await.map_err(backend)
    }

    async fn query_opt(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> StoreResult<Option<tokio_postgres::Row>> {
        self.client().await?.query_opt(sql, params).await.map_err(backend)
    }

    async fn data_opt<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<Option<T>> {
        match self.query_opt(sql, params).await? {
            Some(r) => from_json(r.get::<_, &str>(0)).map(Some),
            None => Ok(None),
        }
    }

    async fn data_list<T: serde::de::DeserializeOwned>(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> StoreResult<Vec<T>> {
        self.query(sql, params)
            .await?
            .iter()
            .map(|r| from_json(r.get::<_, &str>(0)))
            .collect()
    }
}

#[async_trait]
impl Store for PostgresStore {
    async fn insert_pool(&self, pool: &UserPool) -> StoreResult<()> {
        self.exec(
            "INSERT INTO pools (id, data) VALUES ($1, $2)",
            &[&pool.id, &to_json(pool)?],
        )
        .await
        .map(drop)
    }

    async fn update_pool(&self, pool: &UserPool) -> StoreResult<()> {
        self.exec("UPDATE pools SET data = $2 WHERE id = $1", &[&pool.id, &to_json(pool)?])
            .await
            .map(drop)
    }

    async fn get_pool(&self, pool_id: &str) -> StoreResult<Option<UserPool>> {
        self.data_opt("SELECT data FROM pools WHERE id = $1", &[&pool_id]).await
    }

    async fn list_pools(&self, after: Option<&str>, limit: usize) -> StoreResult<Page<UserPool>> {
        let items: Vec<UserPool> = self
            .data_list(
                "SELECT data FROM pools WHERE id > $1 ORDER BY id LIMIT $2",
                &[&after.unwrap_or(""), &(limit as i64 + 1)],
            )
            .await?;
        Ok(page(items, limit, |p| p.id.clone()))
    }

    async fn delete_pool(&self, pool_id: &str) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        for sql in [
            "DELETE FROM pools WHERE id = $1",
            "DELETE FROM clients WHERE pool_id = $1",
            "DELETE FROM users WHERE pool_id = $1",
            "DELETE FROM groups WHERE pool_id = $1",
            "DELETE FROM memberships WHERE pool_id = $1",
            "DELETE FROM token_sessions WHERE pool_id = $1",
            "DELETE FROM challenges WHERE pool_id = $1",
            "DELETE FROM secrets WHERE scope = $1",
            "DELETE FROM passkeys WHERE pool_id = $1",
        ] {
            tx.execute(sql, &[&pool_id]).await.map_err(backend)?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn count_users(&self, pool_id: &str) -> StoreResult<u64> {
        let row = self
            .query_opt("SELECT COUNT(*) FROM users WHERE pool_id = $1", &[&pool_id])
            .await?;
        Ok(row.map(|r| r.get::<_, i64>(0) as u64).unwrap_or(0))
    }

    async fn put_client(&self, client: &AppClient) -> StoreResult<()> {
        self.exec(
            "INSERT INTO clients (client_id, pool_id, data) VALUES ($1, $2, $3)
             ON CONFLICT (client_id) DO UPDATE SET data = excluded.data",
            &[&client.client_id, &client.pool_id, &to_json(client)?],
        )
        .await
        .map(drop)
    }

    async fn get_client(&self, client_id: &str) -> StoreResult<Option<AppClient>> {
        self.data_opt("SELECT data FROM clients WHERE client_id = $1", &[&client_id])
            .await
    }

    async fn list_clients(&self, pool_id: &str, after: Option<&str>, limit: usize) -> StoreResult<Page<AppClient>> {
        let items: Vec<AppClient> = self
            .data_list(
                "SELECT data FROM clients WHERE pool_id = $1 AND client_id > $2 ORDER BY client_id LIMIT $3",
                &[&pool_id, &after.unwrap_or(""), &(limit as i64 + 1)],
            )
            .await?;
        Ok(page(items, limit, |c| c.client_id.clone()))
    }

    async fn delete_client(&self, client_id: &str) -> StoreResult<()> {
        self.exec("DELETE FROM clients WHERE client_id = $1", &[&client_id])
            .await
            .map(drop)
    }

    async fn insert_user(&self, key: &str, u: &User) -> StoreResult<()> {
        let a = |k: &str| u.attributes.get(k).cloned();
        self.exec(
            "INSERT INTO users (pool_id, key, username, sub, email, phone_number, preferred_username, name,
                given_name, family_name, user_status, enabled, version, data)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1, $13)",
            &[
                &u.pool_id,
                &key,
                &u.username,
                &u.sub,
                &a("email"),
                &a("phone_number"),
                &a("preferred_username"),
                &a("name"),
                &a("given_name"),
                &a("family_name"),
                &u.status.as_str(),
                &enabled_text(u),
                &to_json(u)?,
            ],
        )
        .await
        .map(drop)
    }

    async fn update_user(&self, key: &str, u: &User) -> StoreResult<()> {
        let a = |k: &str| u.attributes.get(k).cloned();
        let n = self
            .exec(
                "UPDATE users SET sub = $3, email = $4, phone_number = $5, preferred_username = $6, name = $7,
                    given_name = $8, family_name = $9, user_status = $10, enabled = $11, data = $12,
                    version = version + 1
                 WHERE pool_id = $1 AND key = $2 AND version = $13",
                &[
                    &u.pool_id,
                    &key,
                    &u.sub,
                    &a("email"),
                    &a("phone_number"),
                    &a("preferred_username"),
                    &a("name"),
                    &a("given_name"),
                    &a("family_name"),
                    &u.status.as_str(),
                    &enabled_text(u),
                    &to_json(u)?,
                    &u.version,
                ],
            )
            .await?;
        if n == 1 { Ok(()) } else { Err(StoreError::Conflict) }
    }

    async fn get_user(&self, pool_id: &str, key: &str) -> StoreResult<Option<User>> {
        match self
            .query_opt(
                "SELECT data, version FROM users WHERE pool_id = $1 AND key = $2",
                &[&pool_id, &key],
            )
            .await?
        {
            Some(r) => user_from_row(&r).map(Some),
            None => Ok(None),
        }
    }

    async fn find_users(&self, pool_id: &str, name: &str, value: &str) -> StoreResult<Vec<User>> {
        let Some(column) = attribute_column(name) else {
            return Ok(vec![]);
        };
        let sql =
            format!("SELECT data, version FROM users WHERE pool_id = $1 AND {column} = $2 ORDER BY key LIMIT 100");
        self.query(&sql, &[&pool_id, &value])
            .await?
            .iter()
            .map(user_from_row)
            .collect()
    }

    async fn delete_user(&self, pool_id: &str, key: &str) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        tx.execute(
            "DELETE FROM passkeys WHERE pool_id = $1
             AND user_sub IN (SELECT sub FROM users WHERE pool_id = $1 AND key = $2)",
            &[&pool_id, &key],
        )
        .await
        .map_err(backend)?;
        tx.execute("DELETE FROM users WHERE pool_id = $1 AND key = $2", &[&pool_id, &key])
            .await
            .map_err(backend)?;
        tx.execute(
            "DELETE FROM memberships WHERE pool_id = $1 AND user_key = $2",
            &[&pool_id, &key],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Page<User>> {
        let (condition, value, upper) = match filter {
            None => (
                "$2::text IS NOT DISTINCT FROM $2 AND $3::text IS NOT DISTINCT FROM $3".to_owned(),
                String::new(),
                String::new(),
            ),
            Some(f) => {
                let column = filter_column(f);
                if f.prefix {
                    (
                        format!("{column} >= $2 AND {column} < $3"),
                        f.value.clone(),
                        prefix_upper_bound(&f.value),
                    )
                } else {
                    (
                        format!("{column} = $2 AND $3::text IS NOT DISTINCT FROM $3"),
                        f.value.clone(),
                        String::new(),
                    )
                }
            }
        };
        let sql = format!(
            "SELECT data, version, key FROM users WHERE pool_id = $1 AND {condition} AND key > $4 ORDER BY key LIMIT $5"
        );
        let rows = self
            .query(
                &sql,
                &[&pool_id, &value, &upper, &after.unwrap_or(""), &(limit as i64 + 1)],
            )
            .await?;
        let items = rows
            .iter()
            .map(|r| Ok((user_from_row(r)?, r.get::<_, String>("key"))))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(user_page(items, limit))
    }

    async fn insert_group(&self, group: &Group) -> StoreResult<()> {
        self.exec(
            "INSERT INTO groups (pool_id, name, data) VALUES ($1, $2, $3)",
            &[&group.pool_id, &group.name, &to_json(group)?],
        )
        .await
        .map(drop)
    }

    async fn update_group(&self, group: &Group) -> StoreResult<()> {
        self.exec(
            "UPDATE groups SET data = $3 WHERE pool_id = $1 AND name = $2",
            &[&group.pool_id, &group.name, &to_json(group)?],
        )
        .await
        .map(drop)
    }

    async fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<Group>> {
        self.data_opt(
            "SELECT data FROM groups WHERE pool_id = $1 AND name = $2",
            &[&pool_id, &name],
        )
        .await
    }

    async fn list_groups(&self, pool_id: &str, after: Option<&str>, limit: usize) -> StoreResult<Page<Group>> {
        let items: Vec<Group> = self
            .data_list(
                "SELECT data FROM groups WHERE pool_id = $1 AND name > $2 ORDER BY name LIMIT $3",
                &[&pool_id, &after.unwrap_or(""), &(limit as i64 + 1)],
            )
            .await?;
        Ok(page(items, limit, |g| g.name.clone()))
    }

    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        tx.execute(
            "DELETE FROM groups WHERE pool_id = $1 AND name = $2",
            &[&pool_id, &name],
        )
        .await
        .map_err(backend)?;
        tx.execute(
            "DELETE FROM memberships WHERE pool_id = $1 AND group_name = $2",
            &[&pool_id, &name],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn add_member(&self, pool_id: &str, group: &str, user_key: &str) -> StoreResult<()> {
        self.exec(
            "INSERT INTO memberships (pool_id, group_name, user_key) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&pool_id, &group, &user_key],
        )
        .await
        .map(drop)
    }

    async fn remove_member(&self, pool_id: &str, group: &str, user_key: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM memberships WHERE pool_id = $1 AND group_name = $2 AND user_key = $3",
            &[&pool_id, &group, &user_key],
        )
        .await
        .map(drop)
    }

    async fn groups_of(&self, pool_id: &str, user_key: &str) -> StoreResult<Vec<Group>> {
        self.data_list(
            "SELECT g.data FROM memberships m JOIN groups g ON g.pool_id = m.pool_id AND g.name = m.group_name
             WHERE m.pool_id = $1 AND m.user_key = $2 ORDER BY g.name",
            &[&pool_id, &user_key],
        )
        .await
    }

    async fn members_of(
        &self,
        pool_id: &str,
        group: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Page<User>> {
        let rows = self
            .query(
                "SELECT u.data, u.version, u.key FROM memberships m JOIN users u ON u.pool_id = m.pool_id AND u.key = m.user_key
                 WHERE m.pool_id = $1 AND m.group_name = $2 AND m.user_key > $3 ORDER BY m.user_key LIMIT $4",
                &[&pool_id, &group, &after.unwrap_or(""), &(limit as i64 + 1)],
            )
            .await?;
        let items = rows
            .iter()
            .map(|r| Ok((user_from_row(r)?, r.get::<_, String>("key"))))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(user_page(items, limit))
    }

    async fn put_token_session(&self, s: &TokenSession) -> StoreResult<()> {
        self.exec(
            "INSERT INTO token_sessions (id, pool_id, username, refresh_digest, revoked, data) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, revoked = excluded.revoked",
            &[&s.id, &s.pool_id, &s.username, &s.refresh_digest, &s.revoked, &to_json(s)?],
        )
        .await
        .map(drop)
    }

    async fn get_token_session(&self, id: &str) -> StoreResult<Option<TokenSession>> {
        self.data_opt("SELECT data FROM token_sessions WHERE id = $1", &[&id])
            .await
    }

    async fn find_token_session(&self, pool_id: &str, refresh_digest: &str) -> StoreResult<Option<TokenSession>> {
        self.data_opt(
            "SELECT data FROM token_sessions WHERE pool_id = $1 AND refresh_digest = $2",
            &[&pool_id, &refresh_digest],
        )
        .await
    }

    async fn revoke_user_sessions(&self, pool_id: &str, username: &str) -> StoreResult<u64> {
        self.exec(
            "UPDATE token_sessions SET revoked = TRUE, data = jsonb_set(data::jsonb, '{revoked}', 'true')::text
             WHERE pool_id = $1 AND username = $2 AND NOT revoked",
            &[&pool_id, &username],
        )
        .await
    }

    async fn put_challenge(&self, s: &ChallengeSession) -> StoreResult<()> {
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(backend)?;
        tx.execute(
            "DELETE FROM challenges WHERE expires_ms < $1",
            &[&(s.expires_ms - 3_600_000)],
        )
        .await
        .map_err(backend)?;
        tx.execute(
            "INSERT INTO challenges (id, pool_id, expires_ms, data) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_ms = excluded.expires_ms",
            &[&s.id, &s.pool_id, &s.expires_ms, &to_json(s)?],
        )
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn take_challenge(&self, id: &str) -> StoreResult<Option<ChallengeSession>> {
        self.data_opt("DELETE FROM challenges WHERE id = $1 RETURNING data", &[&id])
            .await
    }

    async fn put_secret(&self, scope: &str, name: &str, sealed: &[u8]) -> StoreResult<()> {
        self.exec(
            "INSERT INTO secrets (scope, name, value) VALUES ($1, $2, $3)
             ON CONFLICT (scope, name) DO UPDATE SET value = excluded.value",
            &[&scope, &name, &sealed],
        )
        .await
        .map(drop)
    }

    async fn get_secret(&self, scope: &str, name: &str) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .query_opt(
                "SELECT value FROM secrets WHERE scope = $1 AND name = $2",
                &[&scope, &name],
            )
            .await?
            .map(|r| r.get(0)))
    }

    async fn put_secret_if_absent(&self, scope: &str, name: &str, sealed: &[u8]) -> StoreResult<Vec<u8>> {
        self.exec(
            "INSERT INTO secrets (scope, name, value) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[&scope, &name, &sealed],
        )
        .await?;
        self.get_secret(scope, name)
            .await?
            .ok_or_else(|| backend("secret vanished"))
    }

    async fn list_secrets(&self, scope: &str) -> StoreResult<Vec<(String, Vec<u8>)>> {
        Ok(self
            .query(
                "SELECT name, value FROM secrets WHERE scope = $1 ORDER BY name",
                &[&scope],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    async fn delete_secret(&self, scope: &str, name: &str) -> StoreResult<bool> {
        Ok(self
            .exec("DELETE FROM secrets WHERE scope = $1 AND name = $2", &[&scope, &name])
            .await?
            > 0)
    }

    async fn insert_passkey(&self, p: &Passkey) -> StoreResult<()> {
        self.exec(
            "INSERT INTO passkeys (pool_id, credential_id, user_sub, created_ms, sign_count, data)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                &p.pool_id,
                &p.credential_id,
                &p.user_sub,
                &p.created_ms,
                &i64::from(p.sign_count),
                &to_json(p)?,
            ],
        )
        .await
        .map(drop)
    }

    async fn get_passkey(&self, pool_id: &str, credential_id: &str) -> StoreResult<Option<Passkey>> {
        self.data_opt(
            "SELECT data FROM passkeys WHERE pool_id = $1 AND credential_id = $2",
            &[&pool_id, &credential_id],
        )
        .await
    }

    async fn passkeys_of(&self, pool_id: &str, user_sub: &str) -> StoreResult<Vec<Passkey>> {
        self.query(
            "SELECT data FROM passkeys WHERE pool_id = $1 AND user_sub = $2 ORDER BY created_ms, credential_id",
            &[&pool_id, &user_sub],
        )
        .await?
        .iter()
        .map(|r| from_json(r.get::<_, &str>(0)))
        .collect()
    }

    async fn update_passkey(&self, p: &Passkey, seen_sign_count: u32) -> StoreResult<()> {
        let n = self
            .exec(
                "UPDATE passkeys SET sign_count = $3, data = $4
                 WHERE pool_id = $1 AND credential_id = $2 AND sign_count = $5",
                &[
                    &p.pool_id,
                    &p.credential_id,
                    &i64::from(p.sign_count),
                    &to_json(p)?,
                    &i64::from(seen_sign_count),
                ],
            )
            .await?;
        if n == 1 { Ok(()) } else { Err(StoreError::Conflict) }
    }

    async fn delete_passkey(&self, pool_id: &str, credential_id: &str) -> StoreResult<bool> {
        let n = self
            .exec(
                "DELETE FROM passkeys WHERE pool_id = $1 AND credential_id = $2",
                &[&pool_id, &credential_id],
            )
            .await?;
        Ok(n > 0)
    }

    async fn push_message(&self, message: &OutboxMessage) -> StoreResult<()> {
        self.exec(
            "INSERT INTO messages (to_addr, data) VALUES ($1, $2)",
            &[&message.to, &to_json(message)?],
        )
        .await
        .map(drop)
    }

    async fn list_messages(&self, to: Option<&str>) -> StoreResult<Vec<OutboxMessage>> {
        match to {
            Some(addr) => {
                self.data_list("SELECT data FROM messages WHERE to_addr = $1 ORDER BY seq", &[&addr])
                    .await
            }
            None => self.data_list("SELECT data FROM messages ORDER BY seq", &[]).await,
        }
    }

    async fn lock_declarations(&self) -> StoreResult<DeclarationsLock> {
        // A connection of its own: the lock belongs to its session, which must serve nothing
        // else meanwhile and must end (releasing it) when the lock is dropped.
        let (client, connection) = self.config.connect(NoTls).await.map_err(backend)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "the declarations lock's connection ended");
            }
        });
        let free: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&DECLARATIONS_LOCK])
            .await
            .map_err(backend)?
            .get(0);
        if !free {
            tracing::info!("another node is applying its configuration: waiting until it is done");
            client
                .execute("SELECT pg_advisory_lock($1)", &[&DECLARATIONS_LOCK])
                .await
                .map_err(backend)?;
        }
        Ok(DeclarationsLock::holding(LockConnection { _client: client }))
    }
}
