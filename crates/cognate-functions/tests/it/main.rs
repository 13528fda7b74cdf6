//! Integration tests of cognate-functions: real Node, Python and Rust handlers run through the
//! Lambda Runtime API host, a fake Lambda Invoke API, and in-process closures.

// Test code: a failed unwrap is the test's report, and clients sign with the real time.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod in_process;
mod node;
mod pool;
mod provided;
mod python;
mod remote;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Mutex, Once};
use std::time::Duration;

use cognate_functions::{FunctionDef, FunctionHost, FunctionTarget, HostOptions, ProcessSpec};

/// Everything logged so far (handler output arrives as `tracing` events).
static LOGS: Mutex<String> = Mutex::new(String::new());

struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        LOGS.lock().unwrap().push_str(&text);
        eprint!("{text}");
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

pub fn init_logs() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        tracing_subscriber::fmt()
            .with_env_filter("cognate_functions=debug")
            .with_writer(|| LogWriter)
            .with_ansi(false)
            .init();
    });
}

pub fn logs() -> String {
    LOGS.lock().unwrap().clone()
}

pub fn handlers(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/handlers")
        .join(dir)
}

pub const SECOND: Duration = Duration::from_secs(1);

/// A host with `FROM_HOST` and `SHARED` in its environment for functions.
pub fn host(max_instances: usize) -> FunctionHost {
    init_logs();
    let mut env = BTreeMap::new();
    env.insert("FROM_HOST".to_owned(), "host-value".to_owned());
    env.insert("SHARED".to_owned(), "from-host".to_owned());
    FunctionHost::start(HostOptions {
        env_for_functions: env,
        region: "eu-west-1".to_owned(),
        max_instances_per_function: max_instances,
        ..HostOptions::default()
    })
    .expect("host starts")
}

/// Registers a process function and returns its name.
pub fn register(host: &FunctionHost, name: &str, runtime: &str, dir: &str, handler: &str) -> String {
    register_spec(host, name, ProcessSpec::new(runtime, handler, handlers(dir)))
}

pub fn register_spec(host: &FunctionHost, name: &str, spec: ProcessSpec) -> String {
    host.register(FunctionDef::new(name, FunctionTarget::Process(spec)));
    name.to_owned()
}

/// Whether a process is alive (`kill -0`).
/// Whether `done` holds within `limit`, checked every 50 ms (a loaded machine may be slow to
/// get there; the limit only bounds how long a failing test waits).
pub async fn eventually(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while !done() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

pub fn alive(pid: u64) -> bool {
    std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}
