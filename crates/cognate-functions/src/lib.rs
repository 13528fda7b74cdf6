//! Cognate's function host: runs a user pool's Lambda triggers.
//!
//! A [`FunctionHost`] holds named functions ([`FunctionDef`]) and invokes them with a JSON payload.
//! A function is one of three [`FunctionTarget`]s:
//!
//! - [`FunctionTarget::Process`]: handler code on this machine, run unchanged the way AWS Lambda
//!   runs it. The host serves the [AWS Lambda Runtime API] to each process: `nodejs*` and
//!   `python3.*` handlers run under small bootstraps that ship inside this crate (standard library
//!   only, no npm or pip packages), `provided.*` runs the function's own `bootstrap` executable (a
//!   Rust Lambda built with `lambda_runtime`, a Go Lambda, …). Processes start on the first
//!   invocation and stay warm; overlapping invocations start more instances, up to
//!   [`HostOptions::max_instances_per_function`], then queue.
//! - [`FunctionTarget::Remote`]: a function behind the Lambda `Invoke` HTTP API (AWS Lambda,
//!   `sam local start-lambda`, LocalStack).
//! - [`FunctionTarget::InProcess`]: an async Rust closure.
//!
//! A process gets a clean environment, like Lambda's sandbox: `PATH`, `HOME`, `USER`, `TMPDIR`
//! and the TLS trust variables (`SSL_CERT_FILE`, `SSL_CERT_DIR`, `NODE_EXTRA_CA_CERTS`) of the
//! host; then what Lambda sets (`AWS_LAMBDA_FUNCTION_NAME`, `AWS_LAMBDA_FUNCTION_VERSION`,
//! `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, `AWS_LAMBDA_LOG_GROUP_NAME`, `AWS_LAMBDA_LOG_STREAM_NAME`,
//! `AWS_LAMBDA_RUNTIME_API`, `AWS_REGION`, `AWS_DEFAULT_REGION`, `AWS_EXECUTION_ENV`,
//! `LAMBDA_TASK_ROOT`, `LAMBDA_RUNTIME_DIR`, `_HANDLER`, `TZ=:UTC`, `LANG`, dummy
//! `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`, `NODE_PATH` for Node,
//! `PYTHONUNBUFFERED` for Python); then [`HostOptions::env_for_functions`]; then the function's
//! own [`ProcessSpec::environment`]. Each line a process writes to stdout or stderr becomes a
//! `tracing` event (target `cognate_functions::handler`, fields `function` and `stream`).
//!
//! Dropping an [`FunctionHost::invoke`] future before it completes stops the process instance
//! that was running it.
//!
//! The host returns what the function returned, as raw JSON; it knows nothing of Cognito. Its
//! [`InvokeError`] tells apart the three failure families Cognito reports differently
//! ([`InvokeError::class`]).
//!
//! ```ignore
//! let host = FunctionHost::start(HostOptions::default())?;
//! host.register(FunctionDef::new(
//!     "svc-dev-preSignUp",
//!     FunctionTarget::Process(ProcessSpec::new("nodejs20.x", "handler.preSignUp", "./app")),
//! ));
//! let out = host.invoke("svc-dev-preSignUp", event, Duration::from_secs(5)).await?;
//! ```
//!
//! [AWS Lambda Runtime API]: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html

mod error;
mod process;
mod remote;
mod runtime_api;
mod time;

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde_json::Value;

pub use error::{ErrorClass, FunctionError, InvokeError, SOCKET_TIMEOUT_REASON};

/// The future an in-process handler returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<Value, FunctionError>> + Send>>;

/// An in-process handler: takes the event, returns the response or a function error.
pub type InProcessHandler = Arc<dyn Fn(Value) -> HandlerFuture + Send + Sync>;

/// Settings of a [`FunctionHost`].
#[derive(Debug, Clone)]
pub struct HostOptions {
    /// Address the Runtime API listeners bind to. Every process instance gets its own listener
    /// on an ephemeral port of this address (runtime clients build their URLs as
    /// `http://{AWS_LAMBDA_RUNTIME_API}/2018-06-01/...`, so a port is the only thing that can tell
    /// instances apart). Default `127.0.0.1`.
    pub bind_ip: IpAddr,
    /// Variables given to every process, after the Lambda-defined ones and before the
    /// function's own `environment`; e.g. `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER` and
    /// `AWS_ENDPOINT_URL_KMS` pointing at Cognate.
    pub env_for_functions: BTreeMap<String, String>,
    /// `AWS_REGION` of the functions, the region of their ARNs and of request signing for
    /// remote functions. Default `us-east-1`.
    pub region: String,
    /// Account id in function ARNs. Default `123456789012`.
    pub account: String,
    /// Most process instances of one function running at once; further invocations queue.
    /// Default 4.
    pub max_instances_per_function: usize,
    /// Where the Node and Python bootstraps are written. Default: `cognate-functions` in the
    /// system temporary directory.
    pub work_dir: Option<PathBuf>,
}

impl Default for HostOptions {
    fn default() -> Self {
        Self {
            bind_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            env_for_functions: BTreeMap::new(),
            region: "us-east-1".to_owned(),
            account: "123456789012".to_owned(),
            max_instances_per_function: 4,
            work_dir: None,
        }
    }
}

/// A named function.
#[derive(Clone)]
pub struct FunctionDef {
    /// The physical function name, e.g. `svc-dev-preSignUp` (`AWS_LAMBDA_FUNCTION_NAME`).
    pub name: String,
    /// How it runs.
    pub target: FunctionTarget,
}

impl FunctionDef {
    /// A function named `name` (its physical name) that runs as `target`.
    pub fn new(name: impl Into<String>, target: FunctionTarget) -> Self {
        Self {
            name: name.into(),
            target,
        }
    }
}

/// How a function runs.
#[derive(Clone)]
pub enum FunctionTarget {
    /// Handler code run as a local process through the Lambda Runtime API.
    Process(ProcessSpec),
    /// A function behind the Lambda `Invoke` HTTP API.
    Remote(RemoteSpec),
    /// An async closure in this process.
    InProcess(InProcessHandler),
}

impl FunctionTarget {
    /// An in-process function from an async closure.
    pub fn in_process<F, Fut>(handler: F) -> Self
    where
        F: Fn(Value) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Value, FunctionError>> + Send + 'static,
    {
        Self::InProcess(Arc::new(move |event| Box::pin(handler(event))))
    }
}

impl std::fmt::Debug for FunctionTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Process(spec) => f.debug_tuple("Process").field(spec).finish(),
            Self::Remote(spec) => f.debug_tuple("Remote").field(spec).finish(),
            Self::InProcess(_) => f.write_str("InProcess(..)"),
        }
    }
}

impl std::fmt::Debug for FunctionDef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FunctionDef")
            .field("name", &self.name)
            .field("target", &self.target)
            .finish()
    }
}

/// Handler code run as a local process, the way Lambda runs a function of `runtime`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessSpec {
    /// Lambda runtime id: `nodejs*` (e.g. `nodejs20.x`), `python3.*` (e.g. `python3.12`) or
    /// `provided*` (e.g. `provided.al2023`).
    pub runtime: String,
    /// Lambda handler string, relative to `code_dir`: `file.export` or `dir/file.export` for
    /// Node, `dir/module.function` for Python; passed as `_HANDLER` to `provided` runtimes.
    pub handler: String,
    /// The function's code (`LAMBDA_TASK_ROOT` and working directory of the process).
    pub code_dir: PathBuf,
    /// The function's own environment variables (applied last).
    pub environment: BTreeMap<String, String>,
    /// The function's own timeout, counted from the moment the runtime receives the event; when
    /// it elapses before the caller's timeout the invocation fails with a function error
    /// (`Sandbox.Timedout`), as on Lambda. Default 6 s (Serverless Framework's default).
    pub timeout: Duration,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`; informational. Default 1024.
    pub memory_mb: u32,
}

impl ProcessSpec {
    /// A spec with no extra environment, a 6 s timeout and 1024 MB.
    pub fn new(runtime: impl Into<String>, handler: impl Into<String>, code_dir: impl Into<PathBuf>) -> Self {
        Self {
            runtime: runtime.into(),
            handler: handler.into(),
            code_dir: code_dir.into(),
            environment: BTreeMap::new(),
            timeout: Duration::from_secs(6),
            memory_mb: 1024,
        }
    }
}

/// A function behind the Lambda `Invoke` HTTP API
/// (`POST {endpoint}/2015-03-31/functions/{function_name}/invocations`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSpec {
    /// Base URL, e.g. `https://lambda.us-east-1.amazonaws.com` or `http://127.0.0.1:3001`
    /// (`sam local start-lambda`).
    pub endpoint: String,
    /// Function name or ARN at that endpoint.
    pub function_name: String,
    /// When set, requests are signed with SigV4 (service `lambda`); when `None` they are sent
    /// unsigned, which `sam local` and LocalStack accept and AWS rejects.
    pub credentials: Option<AwsCredentials>,
    /// Signing region; default: the host's region.
    pub region: Option<String>,
}

impl RemoteSpec {
    /// An unsigned remote function.
    pub fn new(endpoint: impl Into<String>, function_name: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            function_name: function_name.into(),
            credentials: None,
            region: None,
        }
    }
}

/// AWS credentials for signing remote invocations.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
    /// Session token of temporary credentials.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

enum Registered {
    Process(Arc<process::ProcessPool>),
    Remote(Arc<remote::RemoteFunction>),
    InProcess(InProcessHandler),
}

impl Clone for Registered {
    fn clone(&self) -> Self {
        match self {
            Self::Process(p) => Self::Process(p.clone()),
            Self::Remote(r) => Self::Remote(r.clone()),
            Self::InProcess(h) => Self::InProcess(h.clone()),
        }
    }
}

struct HostInner {
    context: Arc<process::HostContext>,
    http: reqwest::Client,
    functions: Mutex<HashMap<String, Registered>>,
    closed: std::sync::atomic::AtomicBool,
}

/// Runs functions. Cheap to clone (all clones share the same functions and processes).
#[derive(Clone)]
pub struct FunctionHost {
    inner: Arc<HostInner>,
}

impl FunctionHost {
    /// A host with no functions. Writes the Node and Python bootstraps to the work directory;
    /// starts no process and binds no port until a process function is first invoked.
    pub fn start(options: HostOptions) -> std::io::Result<Self> {
        let work_dir = options
            .work_dir
            .clone()
            .unwrap_or_else(|| std::env::temp_dir().join("cognate-functions"));
        let bootstraps = process::Bootstraps::install(&work_dir)?;
        let http = reqwest::Client::builder().build().map_err(std::io::Error::other)?;
        let context = Arc::new(process::HostContext {
            bind_ip: options.bind_ip,
            env: options.env_for_functions,
            region: options.region,
            account: options.account,
            max_instances: options.max_instances_per_function.max(1),
            bootstraps,
            pythons: tokio::sync::Mutex::new(HashMap::new()),
        });
        Ok(Self {
            inner: Arc::new(HostInner {
                context,
                http,
                functions: Mutex::new(HashMap::new()),
                closed: std::sync::atomic::AtomicBool::new(false),
            }),
        })
    }

    /// Adds a function, or replaces the one of the same name (the old one's idle processes
    /// stop; invocations already running finish on it).
    pub fn register(&self, def: FunctionDef) {
        let registered = match def.target {
            FunctionTarget::Process(spec) => Registered::Process(Arc::new(process::ProcessPool::new(
                &def.name,
                spec,
                self.inner.context.clone(),
            ))),
            FunctionTarget::Remote(spec) => {
                let region = spec.region.clone().unwrap_or_else(|| self.inner.context.region.clone());
                Registered::Remote(Arc::new(remote::RemoteFunction::new(
                    spec,
                    region,
                    self.inner.http.clone(),
                )))
            }
            FunctionTarget::InProcess(handler) => Registered::InProcess(handler),
        };
        self.functions().insert(def.name, registered);
    }

    /// Whether a function of this name is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.functions().contains_key(name)
    }

    /// The ARN the host gives a function: `arn:aws:lambda:{region}:{account}:function:{name}`.
    pub fn function_arn(&self, name: &str) -> String {
        self.inner.context.function_arn(name)
    }

    /// Invokes a function synchronously (`RequestResponse`) and returns the JSON it returned.
    ///
    /// `timeout` bounds the whole call, including waiting for a free instance and starting a
    /// process; when it elapses the process instance is stopped and
    /// [`InvokeError::Timeout`] is returned.
    pub async fn invoke(&self, name: &str, payload: Value, timeout: Duration) -> Result<Value, InvokeError> {
        let function = self.lookup(name)?;
        match function {
            Registered::Process(pool) => pool.invoke(&payload, timeout).await,
            Registered::Remote(remote) => remote.invoke(&payload, timeout, false).await,
            Registered::InProcess(handler) => invoke_in_process(&handler, payload, timeout).await,
        }
    }

    /// Invokes a function asynchronously (`Event`): returns at once, the result is discarded and
    /// failures are logged. Fails only if the function is not registered.
    pub fn invoke_async(&self, name: &str, payload: Value, timeout: Duration) -> Result<(), InvokeError> {
        let function = self.lookup(name)?;
        let name = name.to_owned();
        tokio::spawn(async move {
            let result = match function {
                Registered::Process(pool) => pool.invoke(&payload, timeout).await,
                Registered::Remote(remote) => remote.invoke(&payload, timeout, true).await,
                Registered::InProcess(handler) => invoke_in_process(&handler, payload, timeout).await,
            };
            if let Err(error) = result {
                tracing::warn!(function = %name, %error, "asynchronous invocation failed");
            }
        });
        Ok(())
    }

    /// Stops every process and refuses further invocations.
    pub async fn shutdown(&self) {
        self.inner.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        let functions: Vec<Registered> = self.functions().drain().map(|(_, f)| f).collect();
        for function in functions {
            if let Registered::Process(pool) = function {
                pool.shutdown().await;
            }
        }
    }

    fn functions(&self) -> std::sync::MutexGuard<'_, HashMap<String, Registered>> {
        self.inner.functions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lookup(&self, name: &str) -> Result<Registered, InvokeError> {
        if self.inner.closed.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(InvokeError::Unavailable {
                reason: "ServiceException".to_owned(),
                detail: "the function host is shut down".to_owned(),
                retryable: false,
            });
        }
        self.functions()
            .get(name)
            .cloned()
            .ok_or_else(|| InvokeError::NotFound(name.to_owned()))
    }
}

impl std::fmt::Debug for FunctionHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<String> = self.functions().keys().cloned().collect();
        names.sort();
        f.debug_struct("FunctionHost")
            .field("functions", &names)
            .finish_non_exhaustive()
    }
}

async fn invoke_in_process(
    handler: &InProcessHandler,
    payload: Value,
    timeout: Duration,
) -> Result<Value, InvokeError> {
    let task = tokio::spawn(handler(payload));
    let abort = task.abort_handle();
    match tokio::time::timeout(timeout, task).await {
        Ok(Ok(result)) => result.map_err(InvokeError::Function),
        Ok(Err(join_error)) => {
            let detail = if join_error.is_panic() {
                let panic = join_error.into_panic();
                panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "handler panicked".to_owned())
            } else {
                "handler was cancelled".to_owned()
            };
            Err(InvokeError::Function(FunctionError::new("Runtime.Panic", detail)))
        }
        Err(_) => {
            abort.abort();
            Err(InvokeError::Timeout(timeout))
        }
    }
}

/// Resolves `program` through `PATH` (or as given when it contains a `/`).
fn find_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let path = Path::new(program);
        return path.is_file().then(|| path.to_path_buf());
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths)
        .map(|dir| dir.join(program))
        .find(|candidate| candidate.is_file())
}
