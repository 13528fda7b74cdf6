//! Process functions: pools of warm handler processes, each talking to its own Runtime API
//! listener.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::{Notify, Semaphore, mpsc, watch};

use crate::error::{FunctionError, InvokeError, parse_output};
use crate::runtime_api::{Current, InstanceState, RuntimeEvent, Slot};
use crate::time::UtcTime;
use crate::{ProcessSpec, find_program};

const NODE_BOOTSTRAP: &str = include_str!("bootstrap/node.cjs");
const PYTHON_BOOTSTRAP: &str = include_str!("bootstrap/python.py");

/// Host variables passed through to function processes (everything else of the host's
/// environment is withheld, as Lambda's sandbox would).
const PASSED_THROUGH: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "TMPDIR",
    "SYSTEMROOT",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
];

/// The bootstraps written to disk.
#[derive(Debug)]
pub(crate) struct Bootstraps {
    pub dir: PathBuf,
    pub node: PathBuf,
    pub python: PathBuf,
}

impl Bootstraps {
    /// Writes the bootstraps under `work_dir`, in a folder named after their content so that
    /// hosts of different versions never overwrite each other's files.
    pub fn install(work_dir: &Path) -> std::io::Result<Self> {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in NODE_BOOTSTRAP.bytes().chain(PYTHON_BOOTSTRAP.bytes()) {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        let dir = work_dir.join(format!("runtime-{hash:016x}"));
        std::fs::create_dir_all(&dir)?;
        let node = write_if_changed(&dir, "cognate-bootstrap.cjs", NODE_BOOTSTRAP)?;
        let python = write_if_changed(&dir, "cognate_bootstrap.py", PYTHON_BOOTSTRAP)?;
        Ok(Self { dir, node, python })
    }
}

fn write_if_changed(dir: &Path, name: &str, content: &str) -> std::io::Result<PathBuf> {
    let path = dir.join(name);
    if std::fs::read_to_string(&path).is_ok_and(|existing| existing == content) {
        return Ok(path);
    }
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".{name}.{}.{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&tmp, content)?;
    std::fs::rename(&tmp, &path)?;
    Ok(path)
}

/// What process functions share from the host.
#[derive(Debug)]
pub(crate) struct HostContext {
    pub bind_ip: IpAddr,
    pub env: BTreeMap<String, String>,
    pub region: String,
    pub account: String,
    pub max_instances: usize,
    pub bootstraps: Bootstraps,
    /// Python interpreters found so far, by runtime id.
    pub pythons: tokio::sync::Mutex<HashMap<String, Option<PathBuf>>>,
}

impl HostContext {
    /// The interpreter for a `python3.*` runtime: the one named like the runtime if it works,
    /// else `python3`. Resolved to the real executable (`sys.executable`), so that version
    /// manager shims (pyenv) are not in the way of the function's clean environment.
    pub async fn python(&self, runtime: &str) -> Option<PathBuf> {
        let mut found = self.pythons.lock().await;
        if let Some(path) = found.get(runtime) {
            return path.clone();
        }
        let mut path = None;
        for candidate in [runtime, "python3"] {
            let Some(program) = find_program(candidate) else {
                continue;
            };
            let probe = tokio::process::Command::new(&program)
                .args(["-c", "import sys; print(sys.executable)"])
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .output();
            if let Ok(Ok(output)) = tokio::time::timeout(Duration::from_secs(10), probe).await
                && output.status.success()
            {
                let printed = String::from_utf8_lossy(&output.stdout).trim().to_owned();
                path = Some(if printed.is_empty() {
                    program
                } else {
                    PathBuf::from(printed)
                });
                break;
            }
        }
        found.insert(runtime.to_owned(), path.clone());
        path
    }

    pub fn function_arn(&self, name: &str) -> String {
        format!("arn:aws:lambda:{}:{}:function:{name}", self.region, self.account)
    }
}

type LiveMap = Arc<Mutex<HashMap<u64, (Arc<Notify>, watch::Receiver<Option<ExitInfo>>)>>>;

/// The instances of one process function.
pub(crate) struct ProcessPool {
    name: String,
    spec: ProcessSpec,
    context: Arc<HostContext>,
    /// One permit per instance that may run.
    permits: Semaphore,
    idle: Mutex<Vec<Instance>>,
    /// Every running process, to stop them on shutdown.
    live: LiveMap,
    next_id: AtomicU64,
}

/// How an instance's process ended.
#[derive(Debug, Clone)]
pub(crate) struct ExitInfo {
    /// `exit status 3`, `signal: killed`, …
    description: String,
    /// Whether it exited with status 0.
    success: bool,
}

impl ExitInfo {
    fn from_status(status: std::io::Result<ExitStatus>) -> Self {
        match status {
            Ok(status) => Self {
                description: describe_exit(status),
                success: status.success(),
            },
            Err(e) => Self {
                description: format!("wait failed: {e}"),
                success: false,
            },
        }
    }
}

fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exit status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                1 => "hangup",
                2 => "interrupt",
                3 => "quit",
                4 => "illegal instruction",
                6 => "aborted",
                7 => "bus error",
                8 => "floating point exception",
                9 => "killed",
                11 => "segmentation fault",
                13 => "broken pipe",
                15 => "terminated",
                _ => return format!("signal: {signal}"),
            };
            return format!("signal: {name}");
        }
    }
    status.to_string()
}

/// What to do with an instance after an invocation.
enum Disposition {
    /// Keep it warm.
    Reuse,
    /// Stop it.
    Discard,
    /// It died before receiving the event: try again on another instance.
    Retry,
}

impl ProcessPool {
    pub fn new(name: &str, spec: ProcessSpec, context: Arc<HostContext>) -> Self {
        Self {
            name: name.to_owned(),
            spec,
            permits: Semaphore::new(context.max_instances),
            context,
            idle: Mutex::new(Vec::new()),
            live: Arc::new(Mutex::new(HashMap::new())),
            next_id: AtomicU64::new(1),
        }
    }

    pub async fn invoke(&self, payload: &Value, timeout: Duration) -> Result<Value, InvokeError> {
        let started = Instant::now();
        let deadline = started + timeout;
        let caller_deadline = crate::time::wall_clock() + timeout;
        let body = Bytes::from(serde_json::to_vec(payload).unwrap_or_default());
        let _permit = match tokio::time::timeout_at(deadline.into(), self.permits.acquire()).await {
            Ok(Ok(permit)) => permit,
            Ok(Err(_closed)) => {
                return Err(InvokeError::Unavailable {
                    reason: "ServiceException".to_owned(),
                    detail: format!("function {} is shut down", self.name),
                    retryable: false,
                });
            }
            Err(_elapsed) => return Err(InvokeError::Timeout(timeout)),
        };
        let request_id = uuid::Uuid::new_v4().to_string();
        loop {
            let (instance, fresh) = match self.take_idle() {
                Some(instance) => (instance, false),
                None => match self.spawn().await {
                    Ok(instance) => (instance, true),
                    Err(message) => {
                        return Err(InvokeError::Function(FunctionError::new(
                            "Runtime.InvalidEntrypoint",
                            format!("RequestId: {request_id} Error: {message}"),
                        )));
                    }
                },
            };
            let (result, disposition) = instance
                .run(
                    &request_id,
                    body.clone(),
                    deadline,
                    caller_deadline,
                    timeout,
                    self.spec.timeout,
                    fresh,
                )
                .await;
            match disposition {
                Disposition::Reuse => self.put_idle(instance),
                Disposition::Discard => drop(instance),
                Disposition::Retry => {
                    tracing::debug!(function = %self.name, "warm instance had exited; starting another");
                    continue;
                }
            }
            return result;
        }
    }

    /// Stops every instance and refuses further invocations.
    pub async fn shutdown(&self) {
        self.permits.close();
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).clear();
        let live: Vec<_> = self
            .live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
            .cloned()
            .collect();
        for (kill, mut exit) in live {
            kill.notify_one();
            let _ = exit.wait_for(Option::is_some).await;
        }
    }

    fn take_idle(&self) -> Option<Instance> {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(instance) = idle.pop() {
            if instance.exit.borrow().is_none() {
                return Some(instance);
            }
        }
        None
    }

    fn put_idle(&self, instance: Instance) {
        if self.permits.is_closed() {
            return;
        }
        self.idle.lock().unwrap_or_else(PoisonError::into_inner).push(instance);
    }

    /// Starts a process and its Runtime API listener. The error is the text Lambda would put
    /// after `Error: `; it is also logged, since the caller only sees Lambda's generic answer.
    async fn spawn(&self) -> Result<Instance, String> {
        let started = self.start_process().await;
        if let Err(cause) = &started {
            tracing::error!(
                function = %self.name,
                runtime = %self.spec.runtime,
                code_dir = %self.spec.code_dir.display(),
                "could not start the function's process: {cause}"
            );
        }
        started
    }

    async fn start_process(&self) -> Result<Instance, String> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let state = Arc::new(InstanceState {
            function_name: self.name.clone(),
            function_arn: self.context.function_arn(&self.name),
            function_timeout: self.spec.timeout,
            slot: Mutex::new(Slot::default()),
            wake: Notify::new(),
            closed: watch::Sender::new(false),
        });
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(self.context.bind_ip, 0))
            .await
            .map_err(|e| format!("could not bind the Runtime API: {e}"))?;
        let api_addr = listener
            .local_addr()
            .map_err(|e| format!("could not bind the Runtime API: {e}"))?;
        let router = crate::runtime_api::router(state.clone());
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, router).await {
                tracing::warn!(error = %e, "Runtime API listener failed");
            }
        })
        .abort_handle();

        let python = if self.spec.runtime.starts_with("python") {
            self.context.python(&self.spec.runtime).await
        } else {
            None
        };
        let mut command = match self.command(&api_addr, python) {
            Ok(command) => command,
            Err(e) => {
                server.abort();
                return Err(e);
            }
        };
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                server.abort();
                let program = command.as_std().get_program().to_string_lossy().into_owned();
                return Err(format!("fork/exec {program}: {e}"));
            }
        };
        let pid = child.id();
        tracing::debug!(function = %self.name, pid, runtime_api = %api_addr, "started function process");
        if let Some(stdout) = child.stdout.take() {
            tokio::spawn(forward_lines(self.name.clone(), "stdout", stdout));
        }
        if let Some(stderr) = child.stderr.take() {
            tokio::spawn(forward_lines(self.name.clone(), "stderr", stderr));
        }

        let kill = Arc::new(Notify::new());
        let (exit_tx, exit_rx) = watch::channel(None);
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, (kill.clone(), exit_rx.clone()));
        let live = self.live.clone();
        let name = self.name.clone();
        let kill_signal = kill.clone();
        let watched = state.clone();
        tokio::spawn(async move {
            let status = tokio::select! {
                status = child.wait() => status,
                () = kill_signal.notified() => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            let info = ExitInfo::from_status(status);
            tracing::debug!(function = %name, pid, status = %info.description, "function process ended");
            server.abort();
            watched.closed.send_replace(true);
            live.lock().unwrap_or_else(PoisonError::into_inner).remove(&id);
            let _ = exit_tx.send(Some(info));
        });
        Ok(Instance {
            state,
            exit: exit_rx,
            kill,
        })
    }

    fn command(&self, api_addr: &SocketAddr, python: Option<PathBuf>) -> Result<tokio::process::Command, String> {
        let spec = &self.spec;
        // An empty folder (the parent of a bare `serverless.yml`) is the current one.
        let declared = if spec.code_dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            spec.code_dir.as_path()
        };
        let code_dir = std::fs::canonicalize(declared)
            .or_else(|_| std::path::absolute(declared))
            .unwrap_or_else(|_| declared.to_path_buf());
        let runtime = spec.runtime.as_str();
        let bootstraps = &self.context.bootstraps;
        let mut command = if runtime.starts_with("nodejs") {
            let node = find_program("node").ok_or("fork/exec node: executable file not found in $PATH")?;
            let mut c = tokio::process::Command::new(node);
            c.arg(&bootstraps.node);
            c
        } else if runtime.starts_with("python") {
            let python = python.ok_or("fork/exec python3: executable file not found in $PATH")?;
            let mut c = tokio::process::Command::new(python);
            c.arg("-u").arg(&bootstraps.python);
            c
        } else if runtime.starts_with("provided") {
            let bootstrap = code_dir.join("bootstrap");
            let named = code_dir.join(&spec.handler);
            let program = if bootstrap.is_file() {
                bootstrap
            } else if !spec.handler.is_empty() && named.is_file() {
                named
            } else {
                return Err(format!("Couldn't find valid bootstrap(s): [{}]", bootstrap.display()));
            };
            tokio::process::Command::new(program)
        } else {
            return Err(format!("unsupported runtime {runtime:?}"));
        };
        command
            .current_dir(&code_dir)
            .env_clear()
            .envs(self.environment(runtime, &code_dir, api_addr))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        Ok(command)
    }

    /// The process environment: passed-through host variables, what Lambda sets, the host's
    /// `env_for_functions`, then the function's own variables.
    fn environment(&self, runtime: &str, code_dir: &Path, api_addr: &SocketAddr) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        for key in PASSED_THROUGH {
            if let Ok(value) = std::env::var(key) {
                env.insert((*key).to_owned(), value);
            }
        }
        let mut set = |k: &str, v: String| {
            env.insert(k.to_owned(), v);
        };
        let task_root = code_dir.display().to_string();
        let stream_suffix = uuid::Uuid::new_v4().simple().to_string();
        set("AWS_LAMBDA_FUNCTION_NAME", self.name.clone());
        set("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned());
        set("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", self.spec.memory_mb.to_string());
        set("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{}", self.name));
        set(
            "AWS_LAMBDA_LOG_STREAM_NAME",
            format!(
                "{}/[$LATEST]{stream_suffix}",
                UtcTime::from_system(crate::time::wall_clock()).slashed_date()
            ),
        );
        set("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned());
        set("AWS_LAMBDA_RUNTIME_API", api_addr.to_string());
        set("AWS_REGION", self.context.region.clone());
        set("AWS_DEFAULT_REGION", self.context.region.clone());
        set("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE".to_owned());
        set(
            "AWS_SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".to_owned(),
        );
        set("AWS_SESSION_TOKEN", "cognate-local-session-token".to_owned());
        set("LAMBDA_TASK_ROOT", task_root.clone());
        set("LAMBDA_RUNTIME_DIR", self.context.bootstraps.dir.display().to_string());
        set("_HANDLER", self.spec.handler.clone());
        set("TZ", ":UTC".to_owned());
        set("LANG", "en_US.UTF-8".to_owned());
        if !runtime.starts_with("provided") {
            set("AWS_EXECUTION_ENV", format!("AWS_Lambda_{runtime}"));
        }
        if runtime.starts_with("nodejs") {
            set(
                "NODE_PATH",
                format!("{}:{task_root}", code_dir.join("node_modules").display()),
            );
        }
        if runtime.starts_with("python") {
            set("PYTHONUNBUFFERED", "1".to_owned());
        }
        for (k, v) in self.context.env.iter().chain(&self.spec.environment) {
            env.insert(k.clone(), v.clone());
        }
        env
    }
}

/// One process and its Runtime API listener. Dropping it stops the process.
struct Instance {
    state: Arc<InstanceState>,
    exit: watch::Receiver<Option<ExitInfo>>,
    kill: Arc<Notify>,
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill.notify_one();
    }
}

impl Instance {
    #[allow(clippy::too_many_arguments)]
    async fn run(
        &self,
        request_id: &str,
        payload: Bytes,
        deadline: Instant,
        caller_deadline: SystemTime,
        caller_timeout: Duration,
        function_timeout: Duration,
        fresh: bool,
    ) -> (Result<Value, InvokeError>, Disposition) {
        let (events_tx, mut events) = mpsc::unbounded_channel();
        {
            let mut slot = self.state.slot();
            if let Some(error) = slot.init_error.clone() {
                return (Err(InvokeError::Function(error)), Disposition::Discard);
            }
            slot.current = Some(Current {
                request_id: request_id.to_owned(),
                payload: Some(payload),
                caller_deadline,
                trace_id: trace_id(),
                events: events_tx,
            });
        }
        self.state.wake.notify_one();
        let mut exit = self.exit.clone();
        let mut function_deadline: Option<Instant> = None;
        loop {
            let wake_at = function_deadline.map_or(deadline, |d| d.min(deadline));
            tokio::select! {
                biased;
                event = events.recv() => match event {
                    Some(RuntimeEvent::Delivered(at)) => {
                        function_deadline = Some(at + function_timeout);
                    }
                    Some(RuntimeEvent::Response(body)) => {
                        return (parse_output(&body), Disposition::Reuse);
                    }
                    Some(RuntimeEvent::Error(error)) => {
                        return (Err(InvokeError::Function(error)), Disposition::Reuse);
                    }
                    Some(RuntimeEvent::InitError(error)) => {
                        return (Err(InvokeError::Function(error)), Disposition::Discard);
                    }
                    None => {
                        // The slot was cleared without an answer; treat like a crash.
                        let info = wait_exit(&mut exit).await;
                        return (Err(exit_error(request_id, info.as_ref())), Disposition::Discard);
                    }
                },
                info = wait_exit(&mut exit) => {
                    self.state.slot().current = None;
                    if function_deadline.is_none() && !fresh {
                        return (Err(exit_error(request_id, info.as_ref())), Disposition::Retry);
                    }
                    return (Err(exit_error(request_id, info.as_ref())), Disposition::Discard);
                }
                () = tokio::time::sleep_until(wake_at.into()) => {
                    self.state.slot().current = None;
                    let error = match function_deadline {
                        Some(fd) if fd < deadline => InvokeError::Function(FunctionError::new(
                            "Sandbox.Timedout",
                            format!(
                                "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                                function_timeout.as_secs_f64()
                            ),
                        )),
                        _ => InvokeError::Timeout(caller_timeout),
                    };
                    return (Err(error), Disposition::Discard);
                }
            }
        }
    }
}

async fn wait_exit(exit: &mut watch::Receiver<Option<ExitInfo>>) -> Option<ExitInfo> {
    match exit.wait_for(Option::is_some).await {
        Ok(info) => info.clone(),
        Err(_) => None,
    }
}

/// The error Lambda reports when the runtime process exits during an invocation.
fn exit_error(request_id: &str, info: Option<&ExitInfo>) -> InvokeError {
    let message = match info {
        Some(info) if !info.success => format!(
            "RequestId: {request_id} Error: Runtime exited with error: {}",
            info.description
        ),
        _ => format!("RequestId: {request_id} Error: Runtime exited without providing a reason"),
    };
    InvokeError::Function(FunctionError::new("Runtime.ExitError", message))
}

/// An X-Ray style trace header: `Root=1-{time}-{96 bits};Parent={64 bits};Sampled=0`.
fn trace_id() -> String {
    let secs = crate::time::wall_clock()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!("Root=1-{secs:08x}-{};Parent={};Sampled=0", &a[..24], &b[..16])
}

/// Forwards a process's output to `tracing`, one event per line, tagged with the function name.
async fn forward_lines(function: String, stream: &'static str, output: impl AsyncRead + Unpin) {
    let mut reader = BufReader::new(output);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {
                let text = String::from_utf8_lossy(&line);
                let text = text.trim_end_matches(['\n', '\r']);
                tracing::info!(
                    target: "cognate_functions::handler",
                    function = %function,
                    stream,
                    "{text}"
                );
            }
        }
    }
}
