//! Online copies of a SQLite database: `VACUUM INTO` from a connection of its own reads one
//! consistent snapshot (WAL mode lets the serving process keep writing meanwhile), and a copy is
//! checked before it is put back.
use cognate_core::store::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Writes a consistent copy of the database `from` to the new file `to` (which must not exist).
pub fn backup_sqlite(from: &Path, to: &Path) -> StoreResult<()> {
    if to.exists() {
        return Err(backend(format!("{} exists already", to.display())));
    }
    let conn = Connection::open_with_flags(from, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
        .map_err(backend)?;
    conn.busy_timeout(std::time::Duration::from_secs(30)).map_err(backend)?;
    let target = to.to_str().ok_or_else(|| backend("the backup path is not UTF-8"))?;
    conn.execute("VACUUM INTO ?1", [target]).map_err(backend)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600)).map_err(backend)?;
    }
    Ok(())
}

/// Checks that `file` is an intact Cognate database this version can open: SQLite's
/// integrity check passes and its schema is not newer than this Cognate's.
pub fn check_sqlite_backup(file: &Path) -> StoreResult<()> {
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(backend)?;
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| backend(format!("{} is not a SQLite database: {e}", file.display())))?;
    if verdict != "ok" {
        return Err(backend(format!("{} is damaged: {verdict}", file.display())));
    }
    let has_users: bool = conn
        .query_row(
            "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'users'",
            [],
            |r| r.get(0),
        )
        .map_err(backend)?;
    if !has_users {
        return Err(backend(format!("{} is not a Cognate database", file.display())));
    }
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(backend)?;
    crate::common::check_schema_version(version, crate::sqlite::MIGRATION_COUNT)
}
