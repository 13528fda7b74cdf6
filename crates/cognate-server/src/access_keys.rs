//! The `--access-keys` file: which AWS access keys may call signed operations, and on which
//! pools. One key a line, `ACCESS_KEY_ID SECRET_ACCESS_KEY [POOL_ID …]` (no pool ids: every
//! pool; `#` starts a comment). The file is checked on every use and re-read when its
//! modification time or size changes, so keys rotate without a restart. Secrets never leave
//! this module except to compute a signature, and are never logged.
use anyhow::{Context, bail};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::SystemTime;

/// One access key.
pub struct AccessKey {
    pub id: String,
    secret: String,
    /// `None`: every pool.
    pools: Option<Vec<String>>,
    /// The last SigV4 signing key derived from the secret, by its scope (`DATE/REGION/SERVICE`):
    /// a client signs all day under one scope, so the four HMACs of the derivation are done once.
    signing_key: Mutex<Option<(String, [u8; 32])>>,
}

impl AccessKey {
    pub fn new(id: impl Into<String>, secret: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            secret: secret.into(),
            pools: None,
            signing_key: Mutex::new(None),
        }
    }

    pub(crate) fn secret(&self) -> &str {
        &self.secret
    }

    /// The SigV4 signing key for a credential scope: HMAC chain of `AWS4<secret>` over the date,
    /// region, service and `aws4_request`.
    pub(crate) fn signing_key(&self, date: &str, region: &str, service: &str) -> [u8; 32] {
        let scope = format!("{date}/{region}/{service}");
        let mut cached = self.signing_key.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((s, key)) = cached.as_ref()
            && *s == scope
        {
            return *key;
        }
        let mut key = cognate_crypto::hmac_sha256(format!("AWS4{}", self.secret).as_bytes(), &[date.as_bytes()]);
        for part in [region, service, "aws4_request"] {
            key = cognate_crypto::hmac_sha256(&key, &[part.as_bytes()]);
        }
        *cached = Some((scope, key));
        key
    }

    /// The pools this key is limited to; `None` when it may act on every pool.
    pub fn pools(&self) -> Option<&[String]> {
        self.pools.as_deref()
    }

    pub fn allows(&self, pool_id: &str) -> bool {
        self.pools.as_ref().is_none_or(|p| p.iter().any(|x| x == pool_id))
    }
}

impl std::fmt::Debug for AccessKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKey")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .field("pools", &self.pools)
            .finish()
    }
}

/// What tells a changed file: modification time and size, and (unix) the inode and the status
/// change time, which a `chmod` or a rename over the file moves.
type Stamp = (Option<SystemTime>, u64, [i64; 3]);

struct Loaded {
    /// The file's state when it was read; `None` when it could not be examined.
    stamp: Option<Stamp>,
    keys: HashMap<String, Arc<AccessKey>>,
}

/// The keys of an access-keys file, kept current with the file.
pub struct AccessKeys {
    path: PathBuf,
    loaded: RwLock<Loaded>,
    /// Keys that are not in the file (the one given to hosted trigger functions).
    extra: HashMap<String, Arc<AccessKey>>,
}

impl std::fmt::Debug for AccessKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeys")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl AccessKeys {
    /// Reads the file; an error (unreadable, readable by other users, malformed) stops the start.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let (stamp, keys) = read(path)?;
        Ok(Self {
            path: path.to_path_buf(),
            loaded: RwLock::new(Loaded {
                stamp: Some(stamp),
                keys,
            }),
            extra: HashMap::new(),
        })
    }

    /// Adds a key that is not in the file.
    pub fn with_key(mut self, key: AccessKey) -> Self {
        self.extra.insert(key.id.clone(), Arc::new(key));
        self
    }

    /// The key with this id, as the file says now.
    pub fn get(&self, id: &str) -> Option<Arc<AccessKey>> {
        if let Some(k) = self.extra.get(id) {
            return Some(k.clone());
        }
        // The file is examined on every use (a rotated or revoked key counts at once), outside
        // the lock; only a change takes the write lock.
        let now = stamp(&self.path).ok();
        {
            let loaded = self.loaded.read().unwrap_or_else(|e| e.into_inner());
            if now == loaded.stamp {
                return loaded.keys.get(id).cloned();
            }
        }
        let mut loaded = self.loaded.write().unwrap_or_else(|e| e.into_inner());
        if now != loaded.stamp {
            match read(&self.path) {
                Ok((stamp, keys)) => {
                    tracing::info!(path = %self.path.display(), keys = keys.len(), "access keys reloaded");
                    *loaded = Loaded {
                        stamp: Some(stamp),
                        keys,
                    };
                }
                Err(e) => {
                    // Fail closed: a file that became unreadable, public or malformed grants
                    // nothing until it is fixed.
                    tracing::warn!(error = %format!("{e:#}"), "access keys file rejected: no key is accepted");
                    *loaded = Loaded {
                        stamp: now,
                        keys: HashMap::new(),
                    };
                }
            }
        }
        loaded.keys.get(id).cloned()
    }
}

fn stamp(path: &Path) -> std::io::Result<Stamp> {
    Ok(stamp_of(&std::fs::metadata(path)?))
}

fn stamp_of(m: &std::fs::Metadata) -> Stamp {
    #[cfg(unix)]
    let more = {
        use std::os::unix::fs::MetadataExt;
        [m.ino() as i64, m.ctime(), m.ctime_nsec()]
    };
    #[cfg(not(unix))]
    let more = [0; 3];
    (m.modified().ok(), m.len(), more)
}

fn read(path: &Path) -> anyhow::Result<(Stamp, HashMap<String, Arc<AccessKey>>)> {
    let meta = std::fs::metadata(path).with_context(|| format!("reading access keys {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            bail!(
                "access keys {} are open to other users (mode {mode:03o}), so they grant nothing: \
                 run `chmod 600 {}`",
                path.display(),
                path.display()
            );
        }
    }
    let text = std::fs::read_to_string(path).with_context(|| format!("reading access keys {}", path.display()))?;
    let keys = parse(&text).with_context(|| format!("in access keys {}", path.display()))?;
    Ok((stamp_of(&meta), keys))
}

/// Parses the file's text. Errors name the line, never a secret.
fn parse(text: &str) -> anyhow::Result<HashMap<String, Arc<AccessKey>>> {
    let mut keys = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split_once('#').map_or(line, |(before, _)| before);
        let mut words = line.split_whitespace();
        let Some(id) = words.next() else { continue };
        let Some(secret) = words.next() else {
            bail!("line {}: expected ACCESS_KEY_ID SECRET_ACCESS_KEY [POOL_ID …]", n + 1);
        };
        let pools: Vec<String> = words.map(str::to_owned).collect();
        let key = AccessKey {
            signing_key: Mutex::new(None),
            id: id.to_owned(),
            secret: secret.to_owned(),
            pools: (!pools.is_empty()).then_some(pools),
        };
        if keys.insert(id.to_owned(), Arc::new(key)).is_some() {
            bail!("line {}: access key {id} is listed twice", n + 1);
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_keys_pools_and_comments() {
        let keys = parse("# admin\nAKIDALL secretall\n\n  AKIDONE  s1 us-east-1_a us-east-1_b # two pools\n").unwrap();
        assert_eq!(keys.len(), 2);
        assert!(keys["AKIDALL"].allows("anything"));
        assert_eq!(keys["AKIDONE"].secret(), "s1");
        assert!(keys["AKIDONE"].allows("us-east-1_b"));
        assert!(!keys["AKIDONE"].allows("us-east-1_c"));
    }

    #[test]
    fn errors_name_the_line_not_the_secret() {
        let e = parse("AKID s3cr3t\nlonely\n").unwrap_err().to_string();
        assert!(e.contains("line 2"), "{e}");
        let e = parse("AKID s3cr3t\nAKID other\n").unwrap_err().to_string();
        assert!(
            e.contains("line 2") && !e.contains("s3cr3t") && !e.contains("other"),
            "{e}"
        );
        assert!(!format!("{:?}", AccessKey::new("AKID", "s3cr3t")).contains("s3cr3t"));
    }
}
