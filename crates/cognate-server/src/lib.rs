//! Cognate's HTTP server: one port serves the Cognito JSON API (`POST /` with
//! `X-Amz-Target`), JWKS and OpenID discovery per pool, and the development outbox.
pub mod access_keys;
mod aws_json;
mod compute;
pub mod declare;
pub mod delivery;
mod functions;
mod http;
mod kms;
mod listen;
mod metered_store;
mod metrics;
mod outbound;
mod sigv4;
mod tls;

use anyhow::Context;
use cognate_core::clock::{Clock, SystemClock};
use cognate_core::rng::{OsRandom, Random};
use cognate_core::store::Store;
use cognate_core::triggers::{NoFunctions, TriggerInvoker};
use cognate_core::{Cognito, Compute, Settings};
pub use cognate_crypto::password::HashParams;
use cognate_store::SqliteStore;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::oneshot;

pub use cognate_config;
use cognate_functions::{FunctionDef, FunctionHost, HostOptions};
pub use cognate_store;
pub use compute::BlockingCompute;
pub use declare::{Declarations, PoolDeclaration};
pub use functions::function_name;
pub use listen::Limits;
use std::collections::BTreeMap;
pub use tls::{DEV_CA_FILE, TlsSource};

/// Where Cognate keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// Nothing is kept after the process ends.
    Memory,
    /// A SQLite database in this folder (`cognate.db`, plus `master.key`).
    Data(PathBuf),
    /// A database URL: `postgres://user@host/db` or `sqlite:///path/to/file.db`.
    Database(String),
}

/// How to run a server.
#[derive(Clone)]
pub struct ServeOptions {
    pub host: String,
    /// 0 picks a free port.
    pub port: u16,
    pub storage: Storage,
    pub region: String,
    pub account: String,
    /// A serverless.yml (or a folder holding one) declaring pools and triggers.
    pub config: Option<PathBuf>,
    pub stage: String,
    /// Injected time (tests move it); the wall clock when `None`.
    pub clock: Option<Arc<dyn Clock>>,
    /// Issuer base of tokens (`--aws-issuer`); the public URL, else `http(s)://HOST:PORT`, when
    /// `None`.
    pub issuer_base: Option<String>,
    /// The URL clients reach this server at when it runs behind a proxy or load balancer,
    /// `scheme://host[:port]` (see [`parse_public_url`]): the issuer base of tokens unless
    /// `issuer_base` is given, and the base of the URLs pages and discovery give out.
    pub public_url: Option<String>,
    /// Serve HTTPS (on the one port) with this certificate.
    pub tls: Option<TlsSource>,
    /// argon2id parameters for new password hashes.
    pub hash_params: HashParams,
    /// Password hashing and key generation; dedicated hashing threads with `hash_params` when
    /// `None` (tests wrap them to observe what work a request does).
    pub compute: Option<Arc<dyn Compute>>,
    /// Runs trigger functions instead of the built-in function host.
    pub triggers: Option<Arc<dyn TriggerInvoker>>,
    /// Functions to host (besides those a `config` declares).
    pub functions: Vec<FunctionDef>,
    /// Pools to create or update at start (besides those a `config` declares).
    pub pools: Vec<PoolDeclaration>,
    /// The production profile delivers email and SMS for real and has no development
    /// outbox endpoint; the default (development) profile records messages in the outbox.
    pub production: bool,
    /// Email delivery (production profile).
    pub smtp: Option<delivery::SmtpSettings>,
    /// SMS delivery: messages are POSTed as JSON to this URL (production profile).
    pub sms_webhook: Option<String>,
    /// The access keys that may call signed operations (production profile, where it is
    /// required): `ACCESS_KEY_ID SECRET_ACCESS_KEY [POOL_ID …]` a line.
    pub access_keys: Option<PathBuf>,
    /// Cognito's request-rate quotas at these rates (`None`: not enforced).
    pub quotas: Option<cognate_core::quotas::QuotaSettings>,
    /// Timeouts, header size and connection cap (see [`Limits`]).
    pub limits: Limits,
    /// Whether `GET /metrics` is served (and requests counted); `None`: in the development
    /// profile only.
    pub metrics: Option<bool>,
    /// Names besides loopback ones that requests may carry in `Host` (`--allowed-host`). On a
    /// loopback address only loopback names and these are served (DNS rebinding); elsewhere any
    /// name is served when this is empty.
    pub allowed_hosts: Vec<String>,
    /// The master key that seals secrets at rest (the CLI reads `COGNATE_MASTER_KEY`, see
    /// [`parse_master_key`]). `None`: `master.key` beside a SQLite database, the database itself
    /// for PostgreSQL, a fresh key in memory. Never printed by `Debug`.
    pub master_key: Option<[u8; 32]>,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            port: 9339,
            storage: Storage::Memory,
            region: "us-east-1".into(),
            account: "123456789012".into(),
            config: None,
            stage: "dev".into(),
            clock: None,
            issuer_base: None,
            public_url: None,
            tls: None,
            hash_params: HashParams::default(),
            compute: None,
            triggers: None,
            functions: Vec::new(),
            pools: Vec::new(),
            production: false,
            smtp: None,
            sms_webhook: None,
            access_keys: None,
            quotas: None,
            limits: Limits::default(),
            metrics: None,
            allowed_hosts: Vec::new(),
            master_key: None,
        }
    }
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("storage", &self.storage)
            .field("region", &self.region)
            .field("account", &self.account)
            .field("config", &self.config)
            .field("stage", &self.stage)
            .field("issuer_base", &self.issuer_base)
            .field("public_url", &self.public_url)
            .field("tls", &self.tls)
            .field("production", &self.production)
            .field("access_keys", &self.access_keys)
            .field("limits", &self.limits)
            .field("metrics", &self.metrics)
            .finish_non_exhaustive()
    }
}

/// A server that is accepting requests.
pub struct RunningServer {
    addr: SocketAddr,
    /// Whether the listener speaks TLS.
    tls: bool,
    public_base: String,
    dev_ca: Option<PathBuf>,
    service: Arc<Cognito>,
    host: Option<FunctionHost>,
    pool_ids: BTreeMap<String, String>,
    declared: declare::Applied,
    kms_keys: Vec<String>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT` (`https://` with TLS): the listener's own endpoint.
    pub fn endpoint(&self) -> String {
        format!("{}://{}", if self.tls { "https" } else { "http" }, self.addr)
    }

    /// The base URL clients use: the public URL when one was given, else [`Self::endpoint`].
    pub fn public_base(&self) -> &str {
        &self.public_base
    }

    /// Whether the listener serves HTTPS.
    pub fn tls(&self) -> bool {
        self.tls
    }

    /// The development CA's certificate (the file users trust) when serving with one.
    pub fn dev_ca(&self) -> Option<&std::path::Path> {
        self.dev_ca.as_deref()
    }

    pub fn service(&self) -> &Arc<Cognito> {
        &self.service
    }

    /// The id of a pool declared by name (in the config or the options).
    pub fn pool_id(&self, name: &str) -> Option<&str> {
        self.pool_ids.get(name).map(String::as_str)
    }

    /// Declared pool names and their ids.
    pub fn pool_ids(&self) -> &BTreeMap<String, String> {
        &self.pool_ids
    }

    /// The id of an `AWS::Cognito::UserPoolClient` of the config, by logical id.
    pub fn client_id(&self, logical_id: &str) -> Option<&str> {
        self.declared.client_ids.get(logical_id).map(String::as_str)
    }

    /// The physical id (what `Ref` gives) of a resource of the config, by logical id.
    pub fn resource_id(&self, logical_id: &str) -> Option<&str> {
        self.declared.resource_ids.get(logical_id).map(String::as_str)
    }

    /// The ARNs of the config's `AWS::KMS::Key` resources.
    pub fn kms_keys(&self) -> &[String] {
        &self.kms_keys
    }

    /// Stops accepting requests and waits for in-flight ones to finish (at most the request
    /// timeout; connections still open then are closed).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
        if let Some(host) = self.host.take() {
            host.shutdown().await;
        }
    }

    /// Waits until the server stops (it runs until shut down).
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// The KMS's clock (creation dates) read from the server's, so that tests moving one move both.
fn kms_clock(clock: Arc<dyn Clock>) -> impl Fn() -> std::time::SystemTime + Send + Sync + 'static {
    move || std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(clock.now_millis()).unwrap_or(0))
}

fn random_key(random: &dyn Random) -> [u8; 32] {
    let mut k = [0u8; 32];
    random.fill(&mut k);
    k
}

/// A master key given as 64 hex digits (`COGNATE_MASTER_KEY`).
pub fn parse_master_key(s: &str) -> anyhow::Result<[u8; 32]> {
    let s = s.trim();
    anyhow::ensure!(
        s.len() == 64 && s.chars().all(|c| c.is_ascii_hexdigit()),
        "COGNATE_MASTER_KEY must be 64 hex digits"
    );
    let mut out = [0u8; 32];
    for (i, b) in out.iter_mut().enumerate() {
        *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16)?;
    }
    Ok(out)
}

/// Checks a public URL (`--public-url`): `http://` or `https://`, a host, an optional port, and
/// nothing more (no path, query, fragment or user). Returns it with the scheme and host in lower
/// case, without the scheme's default port and without a trailing slash.
pub fn parse_public_url(url: &str) -> anyhow::Result<String> {
    let bad = |why: &str| {
        anyhow::anyhow!("--public-url {url:?}: {why}; give scheme://host[:port], e.g. https://auth.example.com")
    };
    let (scheme, rest) = url.trim().split_once("://").ok_or_else(|| bad("no scheme"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(bad("the scheme must be http or https"));
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    if authority.contains(['/', '?', '#']) {
        return Err(bad("a path, query or fragment is not supported"));
    }
    if authority.contains('@') {
        return Err(bad("user information is not allowed"));
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (ip, after) = v6.split_once(']').ok_or_else(|| bad("unclosed [ in the host"))?;
        ip.parse::<std::net::Ipv6Addr>()
            .map_err(|_| bad("the bracketed host is not an IPv6 address"))?;
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| bad("unexpected text after the host"))?,
            ),
        };
        (format!("[{ip}]"), port)
    } else {
        match authority.split_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (authority.to_owned(), None),
        }
    };
    let valid_name = |h: &str| {
        !h.is_empty()
            && h.len() <= 253
            && h.split('.').all(|label| {
                !label.is_empty() && label.len() <= 63 && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    };
    if !host.starts_with('[') && !valid_name(&host) {
        return Err(bad("the host is not a valid name"));
    }
    let port = match port {
        None => String::new(),
        Some(p) => match p.parse::<u16>() {
            // The scheme's default port is dropped, as URLs are compared without it.
            Ok(n) if (scheme == "https" && n == 443) || (scheme == "http" && n == 80) => String::new(),
            Ok(n) if n > 0 && p.bytes().all(|b| b.is_ascii_digit()) => format!(":{n}"),
            _ => return Err(bad("the port must be a number from 1 to 65535")),
        },
    };
    Ok(format!("{scheme}://{}{port}", host.to_ascii_lowercase()))
}

/// The host of a URL `parse_public_url` accepted (brackets of an IPv6 address removed).
fn url_host(url: &str) -> String {
    let authority = url.split_once("://").map_or(url, |(_, a)| a);
    match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default().to_owned(),
        None => authority.split(':').next().unwrap_or_default().to_owned(),
    }
}

/// The master key that seals secrets at rest: the `configured` one when given, else a
/// `master.key` file beside the database (created once, readable only by its owner).
fn master_key(
    configured: Option<[u8; 32]>,
    dir: Option<&std::path::Path>,
    random: &dyn Random,
) -> anyhow::Result<[u8; 32]> {
    if let Some(key) = configured {
        return Ok(key);
    }
    let Some(dir) = dir else { return Ok(random_key(random)) };
    let path = dir.join("master.key");
    match std::fs::read(&path) {
        Ok(bytes) if bytes.len() == 32 => {
            let mut k = [0u8; 32];
            k.copy_from_slice(&bytes);
            Ok(k)
        }
        Ok(_) => anyhow::bail!("{} is not a 32-byte key", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let k = random_key(random);
            write_private(&path, &k)?;
            Ok(k)
        }
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

fn write_private(path: &std::path::Path, data: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(data)?;
    f.sync_all()?;
    Ok(())
}

/// Opens the configured storage and finds the master key that goes with it.
async fn open_store(
    storage: &Storage,
    configured_key: Option<[u8; 32]>,
    random: &dyn Random,
) -> anyhow::Result<(Arc<dyn Store>, [u8; 32])> {
    // `own_dir`: the folder is Cognate's data folder (`--data`), made private even when it
    // exists; the parent folder of a `sqlite://` file may be shared and is only created private.
    let sqlite =
        |path: &std::path::Path, dir: &std::path::Path, own_dir: bool| -> anyhow::Result<(Arc<dyn Store>, [u8; 32])> {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
                builder.mode(0o700);
                if own_dir && let Ok(meta) = std::fs::metadata(dir) {
                    let mode = meta.permissions().mode() & 0o7777;
                    if meta.is_dir() && mode & 0o077 != 0 {
                        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                            .with_context(|| format!("restricting data folder {}", dir.display()))?;
                        tracing::info!("restricted data folder {} from mode {mode:04o} to 0700", dir.display());
                    }
                }
            }
            builder
                .create(dir)
                .with_context(|| format!("creating data folder {}", dir.display()))?;
            let store = SqliteStore::open(path).map_err(|e| match e {
                cognate_core::store::StoreError::NewerSchema { .. } => {
                    anyhow::anyhow!("refusing to start on {}: {e}", path.display())
                }
                e => anyhow::anyhow!("opening {}: {e}", path.display()),
            })?;
            Ok((Arc::new(store), master_key(configured_key, Some(dir), random)?))
        };
    match storage {
        Storage::Memory => Ok((
            Arc::new(SqliteStore::memory()?),
            master_key(configured_key, None, random)?,
        )),
        Storage::Data(dir) => sqlite(&dir.join("cognate.db"), dir, true),
        Storage::Database(url) if url.starts_with("sqlite://") => {
            let path = PathBuf::from(&url["sqlite://".len()..]);
            let dir = path
                .parent()
                .map(|p| p.to_path_buf())
                .unwrap_or_else(|| PathBuf::from("."));
            sqlite(&path, &dir, false)
        }
        Storage::Database(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            let store: Arc<dyn Store> =
                Arc::new(cognate_store::PostgresStore::connect(url).await.map_err(|e| match e {
                    cognate_core::store::StoreError::NewerSchema { .. } => anyhow::anyhow!("refusing to start: {e}"),
                    e => anyhow::anyhow!("connecting to PostgreSQL: {e}"),
                })?);
            let key = match configured_key {
                Some(key) => key,
                None => {
                    // Nodes sharing the database must share the key: without COGNATE_MASTER_KEY
                    // the first node stores one in the database (weaker: key beside the data).
                    tracing::warn!("COGNATE_MASTER_KEY is not set: keeping the master key in the database");
                    let fresh = random_key(random);
                    let stored = store.put_secret_if_absent("cognate", "master-key", &fresh).await?;
                    stored
                        .as_slice()
                        .try_into()
                        .context("the stored master key is not 32 bytes")?
                }
            };
            Ok((store, key))
        }
        Storage::Database(url) => {
            anyhow::bail!("unsupported database URL {url:?}: use postgres://… or sqlite:///path/to/file.db")
        }
    }
}

/// Refuses what would leave the server open or useless, warns about what is risky, and reads
/// the access keys of the production profile (with a random key of this process, for the
/// trigger functions it hosts).
fn check_profile(
    opts: &ServeOptions,
    random: &dyn Random,
) -> anyhow::Result<Option<(access_keys::AccessKeys, access_keys::AccessKey)>> {
    let loopback = opts.host == "localhost" || opts.host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !opts.production {
        tracing::warn!(
            "development profile: any credentials (or none) are accepted and messages go to the outbox; \
             use --profile production for a server others can reach"
        );
        if !loopback {
            tracing::warn!(
                host = %opts.host,
                "THE DEVELOPMENT PROFILE IS LISTENING BEYOND THIS MACHINE: anyone who can reach it can \
                 manage every pool and read every code in /_cognate/messages"
            );
        }
        return Ok(None);
    }
    let Some(path) = &opts.access_keys else {
        anyhow::bail!(
            "the production profile needs --access-keys FILE (ACCESS_KEY_ID SECRET_ACCESS_KEY [POOL_ID …] \
             a line): without keys, no signed operation could be called"
        );
    };
    let keys = access_keys::AccessKeys::open(path)?;
    if opts.smtp.is_none() && opts.sms_webhook.is_none() {
        tracing::warn!(
            "production profile without --smtp-url or --sms-webhook: confirmation and reset codes cannot be delivered"
        );
    }
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let own = access_keys::AccessKey::new(
        format!("ASIACOGNATE{}", hex(&random_key(random)[..8]).to_uppercase()),
        hex(&random_key(random)),
    );
    Ok(Some((keys, own)))
}

/// What pools and functions to set up: the options' and those a `config` declares.
fn declarations(opts: &ServeOptions) -> anyhow::Result<Declarations> {
    let mut decls = Declarations {
        functions: opts.functions.clone(),
        pools: opts.pools.clone(),
        ..Default::default()
    };
    if let Some(path) = &opts.config {
        let from_file = declare::from_serverless(path, &opts.stage, &opts.region, &opts.account)?;
        decls.functions.extend(from_file.functions);
        decls.pools.extend(from_file.pools);
        decls.stack = from_file.stack;
        decls.kms_keys.extend(from_file.kms_keys);
    }
    Ok(decls)
}

/// How triggers run: the options' invoker, none, or a function host (started here, returned
/// too) whose handlers reach this server at `endpoint` (with `extra_env`, e.g. the development
/// CA to trust), signing with `own_key` when given.
fn trigger_invoker(
    opts: &ServeOptions,
    decls: &Declarations,
    endpoint: String,
    extra_env: Vec<(String, String)>,
    own_key: Option<&access_keys::AccessKey>,
) -> anyhow::Result<(Arc<dyn TriggerInvoker>, Option<FunctionHost>)> {
    Ok(match (&opts.triggers, decls.functions.is_empty()) {
        (Some(t), _) => (t.clone(), None),
        (None, true) => (Arc::new(NoFunctions), None),
        (None, false) => {
            let mut env = BTreeMap::from([
                (
                    "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER".to_owned(),
                    endpoint.clone(),
                ),
                ("AWS_ENDPOINT_URL_KMS".to_owned(), endpoint),
            ]);
            env.extend(extra_env);
            // Handlers call Cognate with the credentials Lambda gives them: in the production
            // profile, a key of this process's own that signed operations accept.
            if let Some(own) = own_key {
                env.insert("AWS_ACCESS_KEY_ID".to_owned(), own.id.clone());
                env.insert("AWS_SECRET_ACCESS_KEY".to_owned(), own.secret().to_owned());
            }
            let h = FunctionHost::start(HostOptions {
                env_for_functions: env,
                region: opts.region.clone(),
                account: opts.account.clone(),
                ..Default::default()
            })
            .context("starting the function host")?;
            for f in &decls.functions {
                h.register(f.clone());
            }
            (Arc::new(functions::HostedTriggers::new(h.clone())), Some(h))
        }
    })
}

/// The built-in KMS: its master key derived from the server's, its keys in `store`, its clock
/// the server's. The keys a configuration declares exist from the start, as a deployed
/// stack's would.
async fn start_kms(
    opts: &ServeOptions,
    store: &Arc<dyn Store>,
    key: &[u8; 32],
    clock: Arc<dyn Clock>,
    random: Arc<dyn Random>,
    declared_keys: &[String],
) -> anyhow::Result<Arc<cognate_kms::Kms>> {
    let kms = Arc::new(
        cognate_kms::Kms::new(
            cognate_kms::MasterKey::new(cognate_crypto::sha256(&[b"cognate-kms:".as_slice(), key].concat())),
            Arc::new(kms::StoreKeyStore(store.clone())),
            opts.region.clone(),
            opts.account.clone(),
            random,
        )
        .with_clock(kms_clock(clock)),
    );
    for arn in declared_keys {
        kms.ensure_key_for_arn(arn)
            .await
            .map_err(|e| anyhow::anyhow!("creating KMS key {arn}: {e}"))?;
    }
    Ok(kms)
}

/// The server's TLS configuration, and the development CA's file when it is one.
fn load_tls(
    opts: &ServeOptions,
    public_url: Option<&str>,
    now_secs: i64,
    random: &dyn Random,
) -> anyhow::Result<Option<(Arc<rustls::ServerConfig>, Option<PathBuf>)>> {
    match &opts.tls {
        None => Ok(None),
        Some(TlsSource::Files { cert, key }) => Ok(Some((tls::server_config(cert, key)?, None))),
        Some(TlsSource::Development { dir }) => {
            if opts.production {
                tracing::warn!(
                    "the production profile is serving a development certificate: clients trust it only if told \
                     to; give --tls-cert and --tls-key for a server others use"
                );
            }
            let dir = match dir {
                Some(d) => d.clone(),
                None => tls::default_dev_dir(match &opts.storage {
                    Storage::Data(d) => Some(d.as_path()),
                    Storage::Memory | Storage::Database(_) => None,
                })?,
            };
            // Besides this machine's names: those clients are told to use.
            let mut names = opts.allowed_hosts.clone();
            names.extend(public_url.map(url_host));
            if !opts
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_unspecified())
            {
                names.push(opts.host.clone());
            }
            let dev = tls::development(&dir, &names, now_secs, random)?;
            Ok(Some((dev.config, Some(dev.ca_file))))
        }
    }
}

/// An address this machine can connect to for `addr`: loopback for an unspecified one.
fn connectable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        std::net::IpAddr::V4(ip) if ip.is_unspecified() => (std::net::Ipv4Addr::LOCALHOST, addr.port()).into(),
        std::net::IpAddr::V6(ip) if ip.is_unspecified() => (std::net::Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

/// Opens the storage, binds the port and starts serving.
pub async fn start(opts: ServeOptions) -> anyhow::Result<RunningServer> {
    // The configuration is read first: a bad one stops the start before any data is touched.
    let public_url = opts.public_url.as_deref().map(parse_public_url).transpose()?;
    let decls = declarations(&opts)?;
    let random: Arc<dyn Random> = Arc::new(OsRandom);
    let access_keys = check_profile(&opts, random.as_ref())?;
    let (store, key) = open_store(&opts.storage, opts.master_key, random.as_ref()).await?;
    let clock: Arc<dyn Clock> = opts.clock.clone().unwrap_or_else(|| Arc::new(SystemClock));
    let tls = load_tls(&opts, public_url.as_deref(), clock.now_secs(), random.as_ref())?;
    let (tls, dev_ca) = match tls {
        Some((config, ca)) => (Some(config), ca),
        None => (None, None),
    };
    let listener = tokio::net::TcpListener::bind((opts.host.as_str(), opts.port))
        .await
        .with_context(|| format!("binding {}:{}", opts.host, opts.port))?;
    let addr = listener.local_addr()?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let local_base = format!("{scheme}://{addr}");
    let public_base = public_url.clone().unwrap_or_else(|| local_base.clone());
    let issuer_base = opts
        .issuer_base
        .clone()
        .or_else(|| public_url.clone())
        .unwrap_or_else(|| local_base.clone());
    let clock_for_auth = clock.clone();
    // Handlers reach this server directly, over TLS when it serves TLS, trusting the development
    // CA when it is one (Node adds it to its roots; botocore's AWS_CA_BUNDLE replaces them).
    let function_env = dev_ca
        .iter()
        .flat_map(|ca| {
            let ca = ca.display().to_string();
            [
                ("NODE_EXTRA_CA_CERTS".to_owned(), ca.clone()),
                ("AWS_CA_BUNDLE".to_owned(), ca),
            ]
        })
        .collect();
    let (triggers, mut host) = trigger_invoker(
        &opts,
        &decls,
        format!("{scheme}://{}", connectable(addr)),
        function_env,
        access_keys.as_ref().map(|(_, own)| own),
    )?;
    let builtin_compute = opts
        .compute
        .is_none()
        .then(|| Arc::new(BlockingCompute::new(opts.hash_params)));
    let metrics = opts
        .metrics
        .unwrap_or(!opts.production)
        .then(|| Arc::new(metrics::Metrics::new(builtin_compute.as_ref().map(|c| c.queue_depth()))));
    let triggers: Arc<dyn TriggerInvoker> = match &metrics {
        Some(m) => Arc::new(metrics::MeteredTriggers {
            inner: triggers,
            metrics: m.clone(),
        }),
        None => triggers,
    };
    let store: Arc<dyn Store> = match &metrics {
        Some(m) => Arc::new(metered_store::MeteredStore {
            inner: store,
            metrics: m.clone(),
        }),
        None => store,
    };
    let kms = start_kms(&opts, &store, &key, clock.clone(), random.clone(), &decls.kms_keys).await?;
    let code_random = random.clone();
    let service = Cognito::new(
        store,
        clock,
        random,
        match (&opts.compute, builtin_compute) {
            (Some(c), _) => c.clone(),
            (None, Some(c)) => c,
            (None, None) => Arc::new(BlockingCompute::new(opts.hash_params)),
        },
        triggers,
        &key,
        Settings {
            region: opts.region.clone(),
            account: opts.account.clone(),
            issuer_base,
            public_base: public_base.clone(),
        },
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?
    .with_code_encryptor(Arc::new(kms::KmsEncryptor {
        kms: kms.clone(),
        random: code_random,
    }))
    .with_outbound(Arc::new(outbound::HttpOutbound::new()?));
    let service = match &opts.quotas {
        Some(q) => service.with_quotas(q.clone()),
        None => service,
    };
    let service = if opts.production {
        service.with_message_sink(Arc::new(delivery::RealDelivery::new(
            opts.smtp.clone(),
            opts.sms_webhook.clone(),
        )?))
    } else {
        service
    };
    let service = Arc::new(service);
    // Started user import jobs run in their own task; the runner holds the service weakly, so
    // that it does not keep a stopped server alive.
    let weak = Arc::downgrade(&service);
    service.set_job_runner(Arc::new(move |pool_id, job_id| {
        if let Some(service) = weak.upgrade() {
            tokio::spawn(async move {
                if let Err(e) = service.run_user_import_job(&pool_id, &job_id).await {
                    tracing::error!(job = %job_id, error = %e.message, "user import job failed");
                }
            });
        }
    }));
    let declared = match declare::apply(&service, &decls).await {
        Ok(d) => d,
        Err(e) => {
            if let Some(h) = host.take() {
                h.shutdown().await;
            }
            return Err(e);
        }
    };
    // Environments that referred to resources now have their values; processes start on
    // first use, so re-registering before the server answers is enough.
    if let Some(h) = &host {
        for f in &decls.functions {
            if let (Some(env), cognate_functions::FunctionTarget::Process(spec)) =
                (declared.function_environments.get(&f.name), &f.target)
            {
                let mut spec = spec.clone();
                spec.environment = env.clone();
                h.register(FunctionDef::new(
                    f.name.clone(),
                    cognate_functions::FunctionTarget::Process(spec),
                ));
            }
        }
    }
    let pool_ids = declared.pool_ids.clone();
    let app = http::router(http::AppState {
        service: service.clone(),
        kms,
        outbox: !opts.production,
        local_base,
        public_base: public_base.clone(),
        tls: tls.is_some() || public_base.starts_with("https://"),
        auth: access_keys.map(|(keys, own)| http::Auth {
            keys: Arc::new(keys.with_key(own)),
            region: opts.region.clone(),
            clock: clock_for_auth,
        }),
        request_timeout: opts.limits.request_timeout,
        metrics,
        functions: host
            .clone()
            .map(|h| (h, decls.functions.iter().map(|f| f.name.clone()).collect())),
        hosts: http::HostPolicy::new(addr.ip().is_loopback(), &opts.allowed_hosts),
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let serving_tls = tls.is_some();
    let task = tokio::spawn(listen::serve(listener, app, opts.limits, tls, stopped));
    Ok(RunningServer {
        addr,
        tls: serving_tls,
        public_base,
        dev_ca,
        service,
        host,
        pool_ids,
        declared,
        kms_keys: decls.kms_keys,
        stop: Some(stop),
        task,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_urls_are_scheme_host_and_port_only() {
        for (given, kept) in [
            ("https://auth.example.com", "https://auth.example.com"),
            ("https://Auth.Example.COM/", "https://auth.example.com"),
            ("HTTP://localhost:8080", "http://localhost:8080"),
            ("https://[::1]:9339/", "https://[::1]:9339"),
            ("https://10.0.0.5", "https://10.0.0.5"),
            ("https://auth.example.com:443/", "https://auth.example.com"),
            ("http://auth.example.com:443", "http://auth.example.com:443"),
        ] {
            assert_eq!(parse_public_url(given).unwrap(), kept, "{given}");
        }
        for bad in [
            "auth.example.com",
            "ftp://auth.example.com",
            "https://auth.example.com/prefix",
            "https://auth.example.com?x=1",
            "https://user@auth.example.com",
            "https://auth.example.com:0",
            "https://auth.example.com:99999",
            "https://auth.example.com:",
            "https://",
            "https://auth..example.com",
            "https://[nope]",
        ] {
            let err = parse_public_url(bad).err().map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|e| e.contains("scheme://host[:port]")),
                "{bad}: {err:?}"
            );
        }
        assert_eq!(url_host("https://[::1]:9339"), "::1");
        assert_eq!(url_host("https://auth.example.com:8443"), "auth.example.com");
    }
}
