//! SQLite backend: WAL, one writer connection and a few readers, every write one
//! transaction committed with `synchronous=FULL`, so an acknowledged write survives a crash.
use crate::common::*;
use async_trait::async_trait;
use cognate_core::model::*;
use cognate_core::store::{DeclarationsLock, Page, Store, StoreError, StoreResult};
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// Creates the database file with mode 0600 when absent and takes group and other access away
/// from the database, `-wal` and `-shm` files that have it (logging each change).
#[cfg(unix)]
fn private_database_files(path: &Path) -> StoreResult<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(backend(format!("creating {}: {e}", path.display()))),
    }
    let mut files = vec![path.to_path_buf()];
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        files.push(name.into());
    }
    for file in files {
        let Ok(meta) = std::fs::metadata(&file) else { continue };
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| backend(format!("restricting {}: {e}", file.display())))?;
            tracing::info!("restricted {} from mode {mode:04o} to 0600", file.display());
        }
    }
    Ok(())
}

/// How many migrations this version knows (a database's `user_version` above it is newer).
pub(crate) const MIGRATION_COUNT: usize = MIGRATIONS.len();

const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE pools (id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE clients (client_id TEXT PRIMARY KEY, pool_id TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX clients_by_pool ON clients(pool_id, client_id);
CREATE TABLE users (
    pool_id TEXT NOT NULL,
    key TEXT NOT NULL,
    username TEXT NOT NULL,
    sub TEXT NOT NULL,
    email TEXT,
    phone_number TEXT,
    preferred_username TEXT,
    name TEXT,
    given_name TEXT,
    family_name TEXT,
    user_status TEXT NOT NULL,
    enabled TEXT NOT NULL,
    version INTEGER NOT NULL,
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
CREATE TABLE groups (pool_id TEXT NOT NULL, name TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (pool_id, name));
CREATE TABLE memberships (pool_id TEXT NOT NULL, group_name TEXT NOT NULL, user_key TEXT NOT NULL,
    PRIMARY KEY (pool_id, group_name, user_key));
CREATE INDEX memberships_by_user ON memberships(pool_id, user_key);
CREATE TABLE token_sessions (id TEXT PRIMARY KEY, pool_id TEXT NOT NULL, username TEXT NOT NULL,
    refresh_digest TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX sessions_by_digest ON token_sessions(pool_id, refresh_digest);
CREATE INDEX sessions_by_user ON token_sessions(pool_id, username);
CREATE TABLE challenges (id TEXT PRIMARY KEY, pool_id TEXT NOT NULL, expires_ms INTEGER NOT NULL, data TEXT NOT NULL);
CREATE TABLE secrets (scope TEXT NOT NULL, name TEXT NOT NULL, value BLOB NOT NULL, PRIMARY KEY (scope, name));
CREATE TABLE messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, to_addr TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX messages_by_to ON messages(to_addr, seq);
"#,
    // Expired challenges (and authorization codes) are swept by expiry on every insert.
    "CREATE INDEX challenges_by_expiry ON challenges(expires_ms);",
    // Passkeys: the credential id is unique in its pool.
    r#"
CREATE TABLE passkeys (pool_id TEXT NOT NULL, credential_id TEXT NOT NULL, user_sub TEXT NOT NULL,
    created_ms INTEGER NOT NULL, sign_count INTEGER NOT NULL, data TEXT NOT NULL,
    PRIMARY KEY (pool_id, credential_id));
CREATE INDEX passkeys_by_user ON passkeys(pool_id, user_sub, created_ms, credential_id);
"#,
];

fn sql_error(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && f.code == rusqlite::ErrorCode::ConstraintViolation
    {
        return StoreError::AlreadyExists;
    }
    backend(e)
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> rusqlite::Result<T> {
    serde_json::from_str(s)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e)))
}

fn user_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    let data: String = row.get("data")?;
    let mut user: User = from_json(&data)?;
    user.version = row.get("version")?;
    Ok(user)
}

pub struct SqliteStore {
    writer: Arc<Mutex<Connection>>,
    readers: Vec<Arc<Mutex<Connection>>>,
    next_reader: AtomicUsize,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file `path`.
    /// On Unix the database is created readable by its owner only (SQLite gives the `-wal`
    /// and `-shm` files the database's mode), and existing files readable by others are
    /// tightened to 0600.
    pub fn open(path: &Path) -> StoreResult<Self> {
        #[cfg(unix)]
        private_database_files(path)?;
        let writer = Connection::open(path).map_err(backend)?;
        writer
            .execute_batch(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
            )
            .map_err(backend)?;
        migrate(&writer)?;
        let mut readers = Vec::new();
        for _ in 0..3 {
            let r = Connection::open(path).map_err(backend)?;
            r.execute_batch("PRAGMA busy_timeout=5000;").map_err(backend)?;
            readers.push(Arc::new(Mutex::new(r)));
        }
        Ok(Self {
            writer: Arc::new(Mutex::new(writer)),
            readers,
            next_reader: AtomicUsize::new(0),
        })
    }

    /// An in-memory database: nothing is kept after the process ends.
    pub fn memory() -> StoreResult<Self> {
        let conn = Connection::open_in_memory().map_err(backend)?;
        migrate(&conn)?;
        let writer = Arc::new(Mutex::new(conn));
        Ok(Self {
            readers: vec![writer.clone()],
            writer,
            next_reader: AtomicUsize::new(0),
        })
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let conn = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = conn.lock().map_err(|_| backend("connection lock poisoned"))?;
            f(&mut c)
        })
        .await
        .map_err(backend)?
    }

    async fn read<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let i = self.next_reader.fetch_add(1, Ordering::Relaxed) % self.readers.len();
        let conn = self.readers[i].clone();
        tokio::task::spawn_blocking(move || {
            let c = conn.lock().map_err(|_| backend("connection lock poisoned"))?;
            f(&c)
        })
        .await
        .map_err(backend)?
    }
}

fn migrate(conn: &Connection) -> StoreResult<()> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(backend)?;
    check_schema_version(version, MIGRATIONS.len())?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.unchecked_transaction().map_err(backend)?;
        tx.execute_batch(sql).map_err(backend)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))
            .map_err(backend)?;
        tx.commit().map_err(backend)?;
    }
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn insert_pool(&self, pool: &UserPool) -> StoreResult<()> {
        let (id, data) = (pool.id.clone(), to_json(pool)?);
        self.write(move |c| {
            c.execute("INSERT INTO pools (id, data) VALUES (?1, ?2)", params![id, data])
                .map_err(sql_error)?;
            Ok(())
        })
        .await
    }

    async fn update_pool(&self, pool: &UserPool) -> StoreResult<()> {
        let (id, data) = (pool.id.clone(), to_json(pool)?);
        self.write(move |c| {
            c.execute("UPDATE pools SET data = ?2 WHERE id = ?1", params![id, data])
                .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn get_pool(&self, pool_id: &str) -> StoreResult<Option<UserPool>> {
        let id = pool_id.to_owned();
        self.read(move |c| {
            c.query_row("SELECT data FROM pools WHERE id = ?1", [id], |r| {
                from_json(&r.get::<_, String>(0)?)
            })
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn list_pools(&self, after: Option<&str>, limit: usize) -> StoreResult<Page<UserPool>> {
        let after = after.unwrap_or("").to_owned();
        self.read(move |c| {
            let mut st = c
                .prepare("SELECT data FROM pools WHERE id > ?1 ORDER BY id LIMIT ?2")
                .map_err(backend)?;
            let items = st
                .query_map(params![after, limit as i64 + 1], |r| {
                    from_json::<UserPool>(&r.get::<_, String>(0)?)
                })
                .map_err(backend)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(backend)?;
            Ok(page(items, limit, |p| p.id.clone()))
        })
        .await
    }

    async fn delete_pool(&self, pool_id: &str) -> StoreResult<()> {
        let id = pool_id.to_owned();
        self.write(move |c| {
            let tx = c.transaction().map_err(backend)?;
            for sql in [
                "DELETE FROM pools WHERE id = ?1",
                "DELETE FROM clients WHERE pool_id = ?1",
                "DELETE FROM users WHERE pool_id = ?1",
                "DELETE FROM groups WHERE pool_id = ?1",
                "DELETE FROM memberships WHERE pool_id = ?1",
                "DELETE FROM token_sessions WHERE pool_id = ?1",
                "DELETE FROM challenges WHERE pool_id = ?1",
                "DELETE FROM secrets WHERE scope = ?1",
                "DELETE FROM passkeys WHERE pool_id = ?1",
            ] {
                tx.execute(sql, [&id]).map_err(backend)?;
            }
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn count_users(&self, pool_id: &str) -> StoreResult<u64> {
        let id = pool_id.to_owned();
        self.read(move |c| {
            c.query_row("SELECT COUNT(*) FROM users WHERE pool_id = ?1", [id], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n as u64)
            .map_err(backend)
        })
        .await
    }

    async fn put_client(&self, client: &AppClient) -> StoreResult<()> {
        let (id, pool, data) = (client.client_id.clone(), client.pool_id.clone(), to_json(client)?);
        self.write(move |c| {
            c.execute(
                "INSERT INTO clients (client_id, pool_id, data) VALUES (?1, ?2, ?3)
                 ON CONFLICT (client_id) DO UPDATE SET data = excluded.data",
                params![id, pool, data],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn get_client(&self, client_id: &str) -> StoreResult<Option<AppClient>> {
        let id = client_id.to_owned();
        self.read(move |c| {
            c.query_row("SELECT data FROM clients WHERE client_id = ?1", [id], |r| {
                from_json(&r.get::<_, String>(0)?)
            })
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn list_clients(&self, pool_id: &str, after: Option<&str>, limit: usize) -> StoreResult<Page<AppClient>> {
        let (pool, after) = (pool_id.to_owned(), after.unwrap_or("").to_owned());
        self.read(move |c| {
            let mut st = c
                .prepare("SELECT data FROM clients WHERE pool_id = ?1 AND client_id > ?2 ORDER BY client_id LIMIT ?3")
                .map_err(backend)?;
            let items = st
                .query_map(params![pool, after, limit as i64 + 1], |r| {
                    from_json::<AppClient>(&r.get::<_, String>(0)?)
                })
                .map_err(backend)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(backend)?;
            Ok(page(items, limit, |c| c.client_id.clone()))
        })
        .await
    }

    async fn delete_client(&self, client_id: &str) -> StoreResult<()> {
        let id = client_id.to_owned();
        self.write(move |c| {
            c.execute("DELETE FROM clients WHERE client_id = ?1", [id])
                .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn insert_user(&self, key: &str, user: &User) -> StoreResult<()> {
        let (key, u, data) = (key.to_owned(), user.clone(), to_json(user)?);
        self.write(move |c| {
            c.execute(
                "INSERT INTO users (pool_id, key, username, sub, email, phone_number, preferred_username, name,
                    given_name, family_name, user_status, enabled, version, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 1, ?13)",
                params![
                    u.pool_id,
                    key,
                    u.username,
                    u.sub,
                    u.attributes.get("email"),
                    u.attributes.get("phone_number"),
                    u.attributes.get("preferred_username"),
                    u.attributes.get("name"),
                    u.attributes.get("given_name"),
                    u.attributes.get("family_name"),
                    u.status.as_str(),
                    enabled_text(&u),
                    data
                ],
            )
            .map_err(sql_error)?;
            Ok(())
        })
        .await
    }

    async fn update_user(&self, key: &str, user: &User) -> StoreResult<()> {
        let (key, u, data) = (key.to_owned(), user.clone(), to_json(user)?);
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE users SET sub = ?3, email = ?4, phone_number = ?5, preferred_username = ?6, name = ?7,
                        given_name = ?8, family_name = ?9, user_status = ?10, enabled = ?11, data = ?12,
                        version = version + 1
                     WHERE pool_id = ?1 AND key = ?2 AND version = ?13",
                    params![
                        u.pool_id,
                        key,
                        u.sub,
                        u.attributes.get("email"),
                        u.attributes.get("phone_number"),
                        u.attributes.get("preferred_username"),
                        u.attributes.get("name"),
                        u.attributes.get("given_name"),
                        u.attributes.get("family_name"),
                        u.status.as_str(),
                        enabled_text(&u),
                        data,
                        u.version
                    ],
                )
                .map_err(backend)?;
            if n == 1 { Ok(()) } else { Err(StoreError::Conflict) }
        })
        .await
    }

    async fn get_user(&self, pool_id: &str, key: &str) -> StoreResult<Option<User>> {
        let (pool, key) = (pool_id.to_owned(), key.to_owned());
        self.read(move |c| {
            c.query_row(
                "SELECT data, version FROM users WHERE pool_id = ?1 AND key = ?2",
                [pool, key],
                user_from_row,
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn find_users(&self, pool_id: &str, name: &str, value: &str) -> StoreResult<Vec<User>> {
        let Some(column) = attribute_column(name) else {
            return Ok(vec![]);
        };
        let (pool, value) = (pool_id.to_owned(), value.to_owned());
        self.read(move |c| {
            let mut st = c
                .prepare(&format!(
                    "SELECT data, version FROM users WHERE pool_id = ?1 AND {column} = ?2 ORDER BY key LIMIT 100"
                ))
                .map_err(backend)?;
            let rows = st.query_map([pool, value], user_from_row).map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn delete_user(&self, pool_id: &str, key: &str) -> StoreResult<()> {
        let (pool, key) = (pool_id.to_owned(), key.to_owned());
        self.write(move |c| {
            let tx = c.transaction().map_err(backend)?;
            tx.execute(
                "DELETE FROM passkeys WHERE pool_id = ?1
                 AND user_sub IN (SELECT sub FROM users WHERE pool_id = ?1 AND key = ?2)",
                [&pool, &key],
            )
            .map_err(backend)?;
            tx.execute("DELETE FROM users WHERE pool_id = ?1 AND key = ?2", [&pool, &key])
                .map_err(backend)?;
            tx.execute(
                "DELETE FROM memberships WHERE pool_id = ?1 AND user_key = ?2",
                [&pool, &key],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn list_users(
        &self,
        pool_id: &str,
        filter: Option<&UserFilter>,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Page<User>> {
        let (pool, after, filter) = (pool_id.to_owned(), after.unwrap_or("").to_owned(), filter.cloned());
        self.read(move |c| {
            // A prefix filter is a range on the indexed column; equality uses the same shape.
            let (condition, value, upper) = match &filter {
                None => ("?2 = ?2 AND ?3 = ?3".to_owned(), String::new(), String::new()),
                Some(f) => {
                    let column = filter_column(f);
                    if f.prefix {
                        (format!("{column} >= ?2 AND {column} < ?3"), f.value.clone(), prefix_upper_bound(&f.value))
                    } else {
                        (format!("{column} = ?2 AND ?3 = ?3"), f.value.clone(), String::new())
                    }
                }
            };
            let sql = format!(
                "SELECT data, version, key FROM users WHERE pool_id = ?1 AND {condition} AND key > ?4 ORDER BY key LIMIT ?5"
            );
            let mut st = c.prepare(&sql).map_err(backend)?;
            let rows = st
                .query_map(params![pool, value, upper, after, limit as i64 + 1], |r| {
                    Ok((user_from_row(r)?, r.get::<_, String>("key")?))
                })
                .map_err(backend)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(backend)?;
            Ok(user_page(rows, limit))
        })
        .await
    }

    async fn insert_group(&self, group: &Group) -> StoreResult<()> {
        let (pool, name, data) = (group.pool_id.clone(), group.name.clone(), to_json(group)?);
        self.write(move |c| {
            c.execute(
                "INSERT INTO groups (pool_id, name, data) VALUES (?1, ?2, ?3)",
                params![pool, name, data],
            )
            .map_err(sql_error)?;
            Ok(())
        })
        .await
    }

    async fn update_group(&self, group: &Group) -> StoreResult<()> {
        let (pool, name, data) = (group.pool_id.clone(), group.name.clone(), to_json(group)?);
        self.write(move |c| {
            c.execute(
                "UPDATE groups SET data = ?3 WHERE pool_id = ?1 AND name = ?2",
                params![pool, name, data],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn get_group(&self, pool_id: &str, name: &str) -> StoreResult<Option<Group>> {
        let (pool, name) = (pool_id.to_owned(), name.to_owned());
        self.read(move |c| {
            c.query_row(
                "SELECT data FROM groups WHERE pool_id = ?1 AND name = ?2",
                [pool, name],
                |r| from_json(&r.get::<_, String>(0)?),
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn list_groups(&self, pool_id: &str, after: Option<&str>, limit: usize) -> StoreResult<Page<Group>> {
        let (pool, after) = (pool_id.to_owned(), after.unwrap_or("").to_owned());
        self.read(move |c| {
            let mut st = c
                .prepare("SELECT data FROM groups WHERE pool_id = ?1 AND name > ?2 ORDER BY name LIMIT ?3")
                .map_err(backend)?;
            let items = st
                .query_map(params![pool, after, limit as i64 + 1], |r| {
                    from_json::<Group>(&r.get::<_, String>(0)?)
                })
                .map_err(backend)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(backend)?;
            Ok(page(items, limit, |g| g.name.clone()))
        })
        .await
    }

    async fn delete_group(&self, pool_id: &str, name: &str) -> StoreResult<()> {
        let (pool, name) = (pool_id.to_owned(), name.to_owned());
        self.write(move |c| {
            let tx = c.transaction().map_err(backend)?;
            tx.execute("DELETE FROM groups WHERE pool_id = ?1 AND name = ?2", [&pool, &name])
                .map_err(backend)?;
            tx.execute(
                "DELETE FROM memberships WHERE pool_id = ?1 AND group_name = ?2",
                [&pool, &name],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn add_member(&self, pool_id: &str, group: &str, user_key: &str) -> StoreResult<()> {
        let (pool, group, key) = (pool_id.to_owned(), group.to_owned(), user_key.to_owned());
        self.write(move |c| {
            c.execute(
                "INSERT OR IGNORE INTO memberships (pool_id, group_name, user_key) VALUES (?1, ?2, ?3)",
                [pool, group, key],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn remove_member(&self, pool_id: &str, group: &str, user_key: &str) -> StoreResult<()> {
        let (pool, group, key) = (pool_id.to_owned(), group.to_owned(), user_key.to_owned());
        self.write(move |c| {
            c.execute(
                "DELETE FROM memberships WHERE pool_id = ?1 AND group_name = ?2 AND user_key = ?3",
                [pool, group, key],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn groups_of(&self, pool_id: &str, user_key: &str) -> StoreResult<Vec<Group>> {
        let (pool, key) = (pool_id.to_owned(), user_key.to_owned());
        self.read(move |c| {
            let mut st = c
                .prepare(
                    "SELECT g.data FROM memberships m JOIN groups g ON g.pool_id = m.pool_id AND g.name = m.group_name
                     WHERE m.pool_id = ?1 AND m.user_key = ?2 ORDER BY g.name",
                )
                .map_err(backend)?;
            let rows = st
                .query_map([pool, key], |r| from_json::<Group>(&r.get::<_, String>(0)?))
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn members_of(
        &self,
        pool_id: &str,
        group: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Page<User>> {
        let (pool, group, after) = (pool_id.to_owned(), group.to_owned(), after.unwrap_or("").to_owned());
        self.read(move |c| {
            let mut st = c
                .prepare(
                    "SELECT u.data, u.version, u.key FROM memberships m JOIN users u ON u.pool_id = m.pool_id AND u.key = m.user_key
                     WHERE m.pool_id = ?1 AND m.group_name = ?2 AND m.user_key > ?3 ORDER BY m.user_key LIMIT ?4",
                )
                .map_err(backend)?;
            let rows = st
                .query_map(params![pool, group, after, limit as i64 + 1], |r| {
                    Ok((user_from_row(r)?, r.get::<_, String>("key")?))
                })
                .map_err(backend)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(backend)?;
            Ok(user_page(rows, limit))
        })
        .await
    }

    async fn put_token_session(&self, session: &TokenSession) -> StoreResult<()> {
        let s = session.clone();
        let data = to_json(session)?;
        self.write(move |c| {
            c.execute(
                "INSERT INTO token_sessions (id, pool_id, username, refresh_digest, data) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                params![s.id, s.pool_id, s.username, s.refresh_digest, data],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn get_token_session(&self, id: &str) -> StoreResult<Option<TokenSession>> {
        let id = id.to_owned();
        self.read(move |c| {
            c.query_row("SELECT data FROM token_sessions WHERE id = ?1", [id], |r| {
                from_json(&r.get::<_, String>(0)?)
            })
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn find_token_session(&self, pool_id: &str, refresh_digest: &str) -> StoreResult<Option<TokenSession>> {
        let (pool, digest) = (pool_id.to_owned(), refresh_digest.to_owned());
        self.read(move |c| {
            c.query_row(
                "SELECT data FROM token_sessions WHERE pool_id = ?1 AND refresh_digest = ?2",
                [pool, digest],
                |r| from_json(&r.get::<_, String>(0)?),
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn revoke_user_sessions(&self, pool_id: &str, username: &str) -> StoreResult<u64> {
        let (pool, user) = (pool_id.to_owned(), username.to_owned());
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE token_sessions SET data = json_set(data, '$.revoked', json('true'))
                     WHERE pool_id = ?1 AND username = ?2 AND json_extract(data, '$.revoked') = 0",
                    [pool, user],
                )
                .map_err(backend)?;
            Ok(n as u64)
        })
        .await
    }

    async fn put_challenge(&self, session: &ChallengeSession) -> StoreResult<()> {
        let s = session.clone();
        let data = to_json(session)?;
        self.write(move |c| {
            let tx = c.transaction().map_err(backend)?;
            // Expired challenges are swept as new ones arrive.
            tx.execute(
                "DELETE FROM challenges WHERE expires_ms < ?1",
                [s.expires_ms - 3_600_000],
            )
            .map_err(backend)?;
            tx.execute(
                "INSERT OR REPLACE INTO challenges (id, pool_id, expires_ms, data) VALUES (?1, ?2, ?3, ?4)",
                params![s.id, s.pool_id, s.expires_ms, data],
            )
            .map_err(backend)?;
            tx.commit().map_err(backend)
        })
        .await
    }

    async fn take_challenge(&self, id: &str) -> StoreResult<Option<ChallengeSession>> {
        let id = id.to_owned();
        self.write(move |c| {
            c.query_row("DELETE FROM challenges WHERE id = ?1 RETURNING data", [id], |r| {
                from_json(&r.get::<_, String>(0)?)
            })
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn put_secret(&self, scope: &str, name: &str, sealed: &[u8]) -> StoreResult<()> {
        let (scope, name, value) = (scope.to_owned(), name.to_owned(), sealed.to_vec());
        self.write(move |c| {
            c.execute(
                "INSERT INTO secrets (scope, name, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT (scope, name) DO UPDATE SET value = excluded.value",
                params![scope, name, value],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn get_secret(&self, scope: &str, name: &str) -> StoreResult<Option<Vec<u8>>> {
        let (scope, name) = (scope.to_owned(), name.to_owned());
        self.read(move |c| {
            c.query_row(
                "SELECT value FROM secrets WHERE scope = ?1 AND name = ?2",
                [scope, name],
                |r| r.get(0),
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn put_secret_if_absent(&self, scope: &str, name: &str, sealed: &[u8]) -> StoreResult<Vec<u8>> {
        let (scope, name, value) = (scope.to_owned(), name.to_owned(), sealed.to_vec());
        self.write(move |c| {
            c.execute(
                "INSERT OR IGNORE INTO secrets (scope, name, value) VALUES (?1, ?2, ?3)",
                params![scope, name, value],
            )
            .map_err(backend)?;
            c.query_row(
                "SELECT value FROM secrets WHERE scope = ?1 AND name = ?2",
                [scope, name],
                |r| r.get(0),
            )
            .map_err(backend)
        })
        .await
    }

    async fn list_secrets(&self, scope: &str) -> StoreResult<Vec<(String, Vec<u8>)>> {
        let scope = scope.to_owned();
        self.read(move |c| {
            let mut st = c
                .prepare("SELECT name, value FROM secrets WHERE scope = ?1 ORDER BY name")
                .map_err(backend)?;
            let rows = st.query_map([scope], |r| Ok((r.get(0)?, r.get(1)?))).map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn delete_secret(&self, scope: &str, name: &str) -> StoreResult<bool> {
        let (scope, name) = (scope.to_owned(), name.to_owned());
        self.write(move |c| {
            let n = c
                .execute("DELETE FROM secrets WHERE scope = ?1 AND name = ?2", [scope, name])
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn insert_passkey(&self, passkey: &Passkey) -> StoreResult<()> {
        let p = passkey.clone();
        let data = to_json(passkey)?;
        self.write(move |c| {
            c.execute(
                "INSERT INTO passkeys (pool_id, credential_id, user_sub, created_ms, sign_count, data)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![p.pool_id, p.credential_id, p.user_sub, p.created_ms, p.sign_count, data],
            )
            .map_err(sql_error)?;
            Ok(())
        })
        .await
    }

    async fn get_passkey(&self, pool_id: &str, credential_id: &str) -> StoreResult<Option<Passkey>> {
        let (pool, id) = (pool_id.to_owned(), credential_id.to_owned());
        self.read(move |c| {
            c.query_row(
                "SELECT data FROM passkeys WHERE pool_id = ?1 AND credential_id = ?2",
                [pool, id],
                |r| from_json(&r.get::<_, String>(0)?),
            )
            .optional()
            .map_err(backend)
        })
        .await
    }

    async fn passkeys_of(&self, pool_id: &str, user_sub: &str) -> StoreResult<Vec<Passkey>> {
        let (pool, sub) = (pool_id.to_owned(), user_sub.to_owned());
        self.read(move |c| {
            let mut st = c
                .prepare(
                    "SELECT data FROM passkeys WHERE pool_id = ?1 AND user_sub = ?2
                     ORDER BY created_ms, credential_id",
                )
                .map_err(backend)?;
            let rows = st
                .query_map([pool, sub], |r| from_json(&r.get::<_, String>(0)?))
                .map_err(backend)?;
            rows.collect::<rusqlite::Result<Vec<_>>>().map_err(backend)
        })
        .await
    }

    async fn update_passkey(&self, passkey: &Passkey, seen_sign_count: u32) -> StoreResult<()> {
        let p = passkey.clone();
        let data = to_json(passkey)?;
        self.write(move |c| {
            let n = c
                .execute(
                    "UPDATE passkeys SET sign_count = ?3, data = ?4
                     WHERE pool_id = ?1 AND credential_id = ?2 AND sign_count = ?5",
                    params![p.pool_id, p.credential_id, p.sign_count, data, seen_sign_count],
                )
                .map_err(backend)?;
            if n == 1 { Ok(()) } else { Err(StoreError::Conflict) }
        })
        .await
    }

    async fn delete_passkey(&self, pool_id: &str, credential_id: &str) -> StoreResult<bool> {
        let (pool, id) = (pool_id.to_owned(), credential_id.to_owned());
        self.write(move |c| {
            let n = c
                .execute(
                    "DELETE FROM passkeys WHERE pool_id = ?1 AND credential_id = ?2",
                    [pool, id],
                )
                .map_err(backend)?;
            Ok(n > 0)
        })
        .await
    }

    async fn push_message(&self, message: &OutboxMessage) -> StoreResult<()> {
        let (to, data) = (message.to.clone(), to_json(message)?);
        self.write(move |c| {
            c.execute("INSERT INTO messages (to_addr, data) VALUES (?1, ?2)", [to, data])
                .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn list_messages(&self, to: Option<&str>) -> StoreResult<Vec<OutboxMessage>> {
        let to = to.map(str::to_owned);
        self.read(move |c| {
            let mut out = Vec::new();
            match to {
                Some(addr) => {
                    let mut st = c
                        .prepare("SELECT data FROM messages WHERE to_addr = ?1 ORDER BY seq")
                        .map_err(backend)?;
                    for r in st
                        .query_map([addr], |r| from_json::<OutboxMessage>(&r.get::<_, String>(0)?))
                        .map_err(backend)?
                    {
                        out.push(r.map_err(backend)?);
                    }
                }
                None => {
                    let mut st = c.prepare("SELECT data FROM messages ORDER BY seq").map_err(backend)?;
                    for r in st
                        .query_map([], |r| from_json::<OutboxMessage>(&r.get::<_, String>(0)?))
                        .map_err(backend)?
                    {
                        out.push(r.map_err(backend)?);
                    }
                }
            }
            Ok(out)
        })
        .await
    }

    /// One process per database file: nothing to wait for.
    async fn lock_declarations(&self) -> StoreResult<DeclarationsLock> {
        Ok(DeclarationsLock::unshared())
    }
}
