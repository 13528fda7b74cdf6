//! Cognate's HTTP server: one port serves the Cognito JSON API (`POST /` with
//! `X-Amz-Target`), JWKS and OpenID discovery per pool, and the development outbox.
mod compute;
pub mod declare;
mod functions;
mod http;
mod kms;

use anyhow::Context;
use cognate_core::clock::{Clock, SystemClock};
use cognate_core::rng::{OsRandom, Random};
use cognate_core::triggers::{NoFunctions, TriggerInvoker};
use cognate_core::{Cognito, Settings};
use cognate_crypto::password::HashParams;
use cognate_store::SqliteStore;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::oneshot;

pub use cognate_config;
use cognate_functions::{FunctionDef, FunctionHost, HostOptions};
pub use compute::BlockingCompute;
pub use declare::{Declarations, PoolDeclaration};
pub use functions::function_name;
use std::collections::BTreeMap;

/// Where Cognate keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// Nothing is kept after the process ends.
    Memory,
    /// A SQLite database in this folder (`cognate.db`, plus `master.key`).
    Data(PathBuf),
    /// A database URL: `sqlite:///path/to/file.db` (PostgreSQL is planned).
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
    /// Issuer base of tokens; `http://HOST:PORT` when `None`.
    pub issuer_base: Option<String>,
    /// argon2id parameters for new password hashes.
    pub hash_params: HashParams,
    /// Runs trigger functions instead of the built-in function host.
    pub triggers: Option<Arc<dyn TriggerInvoker>>,
    /// Functions to host (besides those a `config` declares).
    pub functions: Vec<FunctionDef>,
    /// Pools to create or update at start (besides those a `config` declares).
    pub pools: Vec<PoolDeclaration>,
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
            hash_params: HashParams::OWASP,
            triggers: None,
            functions: Vec::new(),
            pools: Vec::new(),
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
            .finish_non_exhaustive()
    }
}

/// A server that is accepting requests.
pub struct RunningServer {
    addr: SocketAddr,
    service: Arc<Cognito>,
    host: Option<FunctionHost>,
    pool_ids: BTreeMap<String, String>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://HOST:PORT`, the endpoint clients use.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
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

    /// Stops accepting requests and waits for in-flight ones to finish.
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

fn random_key(random: &dyn Random) -> [u8; 32] {
    let mut k = [0u8; 32];
    random.fill(&mut k);
    k
}

fn parse_hex_key(s: &str) -> anyhow::Result<[u8; 32]> {
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

/// The master key that seals secrets at rest: `COGNATE_MASTER_KEY` (hex) when set, else a
/// `master.key` file beside the database (created once, readable only by its owner).
fn master_key(dir: Option<&std::path::Path>, random: &dyn Random) -> anyhow::Result<[u8; 32]> {
    if let Ok(hex) = std::env::var("COGNATE_MASTER_KEY") {
        return parse_hex_key(&hex);
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

fn open_store(storage: &Storage) -> anyhow::Result<(SqliteStore, Option<PathBuf>)> {
    match storage {
        Storage::Memory => Ok((SqliteStore::memory()?, None)),
        Storage::Data(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating data folder {}", dir.display()))?;
            Ok((SqliteStore::open(&dir.join("cognate.db"))?, Some(dir.clone())))
        }
        Storage::Database(url) => {
            if let Some(path) = url.strip_prefix("sqlite://") {
                let path = PathBuf::from(path);
                let dir = path
                    .parent()
                    .map(|p| p.to_path_buf())
                    .unwrap_or_else(|| PathBuf::from("."));
                std::fs::create_dir_all(&dir)?;
                Ok((SqliteStore::open(&path)?, Some(dir)))
            } else {
                anyhow::bail!("unsupported database URL {url:?}: this version of Cognate supports sqlite:// URLs")
            }
        }
    }
}

/// Opens the storage, binds the port and starts serving.
pub async fn start(opts: ServeOptions) -> anyhow::Result<RunningServer> {
    // The configuration is read first: a bad one stops the start before any data is touched.
    let mut decls = Declarations {
        functions: opts.functions.clone(),
        pools: opts.pools.clone(),
    };
    if let Some(path) = &opts.config {
        let from_file = declare::from_serverless(path, &opts.stage, &opts.region, &opts.account)?;
        decls.functions.extend(from_file.functions);
        decls.pools.extend(from_file.pools);
    }
    let random: Arc<dyn Random> = Arc::new(OsRandom);
    let (store, dir) = open_store(&opts.storage)?;
    let key = master_key(dir.as_deref(), random.as_ref())?;
    let listener = tokio::net::TcpListener::bind((opts.host.as_str(), opts.port))
        .await
        .with_context(|| format!("binding {}:{}", opts.host, opts.port))?;
    let addr = listener.local_addr()?;
    let issuer_base = opts.issuer_base.clone().unwrap_or_else(|| format!("http://{addr}"));
    let clock: Arc<dyn Clock> = opts.clock.clone().unwrap_or_else(|| Arc::new(SystemClock));
    let mut host = None;
    let triggers: Arc<dyn TriggerInvoker> = match (&opts.triggers, decls.functions.is_empty()) {
        (Some(t), _) => t.clone(),
        (None, true) => Arc::new(NoFunctions),
        (None, false) => {
            let endpoint = format!("http://{addr}");
            let env = BTreeMap::from([
                (
                    "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER".to_owned(),
                    endpoint.clone(),
                ),
                ("AWS_ENDPOINT_URL_KMS".to_owned(), endpoint),
            ]);
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
            host = Some(h.clone());
            Arc::new(functions::HostedTriggers::new(h))
        }
    };
    let store: Arc<dyn cognate_core::store::Store> = Arc::new(store);
    let kms = Arc::new(cognate_kms::Kms::new(
        cognate_kms::MasterKey::new(cognate_crypto::sha256(&[b"cognate-kms:".as_slice(), &key].concat())),
        Arc::new(kms::StoreKeyStore(store.clone())),
        opts.region.clone(),
        opts.account.clone(),
        Arc::new(cognate_kms::SystemRandomSource),
    ));
    let service = Arc::new(
        Cognito::new(
            store,
            clock,
            random,
            Arc::new(BlockingCompute::new(opts.hash_params)),
            triggers,
            &key,
            Settings {
                region: opts.region.clone(),
                account: opts.account.clone(),
                issuer_base,
            },
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_code_encryptor(Arc::new(kms::KmsEncryptor(kms.clone()))),
    );
    let pool_ids = declare::apply_pools(&service, &decls.pools).await?;
    let app = http::router(http::AppState {
        service: service.clone(),
        kms,
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            let _ = stopped.await;
        });
        if let Err(e) = server.await {
            tracing::error!(error = %e, "server stopped with an error");
        }
    });
    Ok(RunningServer {
        addr,
        service,
        host,
        pool_ids,
        stop: Some(stop),
        task,
    })
}
