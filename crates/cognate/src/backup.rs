//! `cognate backup` and `cognate restore`: a data folder's SQLite database copied while the
//! server runs, and put back into a folder with no database. The master key travels with the
//! copy (`FILE.master.key`): without it the sealed secrets (signing keys, client secrets, TOTP
//! secrets) of the copy cannot be opened.
use anyhow::{Context, bail};
use cognate_server::cognate_store::backup::{backup_sqlite, check_sqlite_backup};
use std::path::{Path, PathBuf};

const DATABASE: &str = "cognate.db";
const MASTER_KEY: &str = "master.key";

fn key_file(backup: &Path) -> PathBuf {
    let mut name = backup.as_os_str().to_owned();
    name.push(".master.key");
    PathBuf::from(name)
}

/// Copies a file readable by its owner only.
fn copy_private(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::copy(from, to).with_context(|| format!("copying {} to {}", from.display(), to.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(())
}

pub fn backup(data: &Path, file: &Path) -> anyhow::Result<String> {
    let db = data.join(DATABASE);
    if !db.exists() {
        bail!("{} has no database ({DATABASE})", data.display());
    }
    backup_sqlite(&db, file).with_context(|| format!("backing up {}", db.display()))?;
    let key = data.join(MASTER_KEY);
    if key.exists() {
        copy_private(&key, &key_file(file))?;
        Ok(format!(
            "backed up {} to {} (master key: {})",
            db.display(),
            file.display(),
            key_file(file).display()
        ))
    } else {
        Ok(format!(
            "backed up {} to {} (the master key comes from COGNATE_MASTER_KEY: keep it with the backup)",
            db.display(),
            file.display()
        ))
    }
}

pub fn restore(data: &Path, file: &Path) -> anyhow::Result<String> {
    check_sqlite_backup(file).with_context(|| format!("checking {}", file.display()))?;
    let db = data.join(DATABASE);
    if db.exists() {
        bail!(
            "{} already has a database: stop the server and move {} away first",
            data.display(),
            db.display()
        );
    }
    let key = data.join(MASTER_KEY);
    let saved_key = key_file(file);
    if saved_key.exists() && key.exists() && std::fs::read(&saved_key)? != std::fs::read(&key)? {
        bail!(
            "{} holds another master key than the backup's ({}): the backup's secrets could not be opened",
            key.display(),
            saved_key.display()
        );
    }
    let mut folder = std::fs::DirBuilder::new();
    folder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        folder.mode(0o700);
    }
    folder
        .create(data)
        .with_context(|| format!("creating {}", data.display()))?;
    copy_private(file, &db)?;
    if saved_key.exists() && !key.exists() {
        copy_private(&saved_key, &key)?;
    }
    Ok(format!("restored {} into {}", file.display(), db.display()))
}
