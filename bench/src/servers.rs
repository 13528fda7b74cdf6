//! The servers under test: installing them, starting them on loopback, reading their memory
//! and CPU from /proc, and stopping them.
use anyhow::{Context, bail};
use serde::Serialize;
use std::collections::VecDeque;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

/// moto, pinned so that runs compare.
pub const MOTO_SPEC: &str = "moto[server]==5.2.5";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Cognate,
    CognatePg,
    Moto,
    CognitoLocal,
}

impl Kind {
    pub fn parse(s: &str) -> anyhow::Result<Self> {
        Ok(match s.trim() {
            "cognate" => Kind::Cognate,
            "cognate-pg" => Kind::CognatePg,
            "moto" => Kind::Moto,
            "cognito-local" => Kind::CognitoLocal,
            other => bail!("unknown server {other:?} (cognate, cognate-pg, moto, cognito-local)"),
        })
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Cognate => "Cognate (SQLite)",
            Kind::CognatePg => "Cognate (PostgreSQL)",
            Kind::Moto => "moto (server mode)",
            Kind::CognitoLocal => "cognito-local",
        }
    }

    pub fn is_cognate(self) -> bool {
        matches!(self, Kind::Cognate | Kind::CognatePg)
    }
}

/// Paths the harness works with.
pub struct Env {
    pub bench_dir: PathBuf,
    pub cognate_bin: PathBuf,
    pub scratch: PathBuf,
    /// `--argon2` for Cognate, when the harness was given one.
    pub argon2: Option<String>,
    /// The private PostgreSQL cluster for Cognate (PostgreSQL), once started.
    pub pg: Mutex<Option<Postgres>>,
    /// Whether Cognate has been built in this run.
    pub built: std::sync::atomic::AtomicBool,
}

impl Env {
    /// How a server stores passwords: printed beside the password sign-in figure.
    pub async fn password_hashing(&self, kind: Kind) -> String {
        if !kind.is_cognate() {
            return "none (plaintext compare)".into();
        }
        if let Some(p) = &self.argon2 {
            return format!("argon2id {p} (KiB)");
        }
        // The default, as `cognate serve --help` states it ("Default m=7168,t=5,p=1").
        let help = Command::new(&self.cognate_bin)
            .args(["serve", "--help"])
            .output()
            .await
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        help.split_once("Default m=")
            .and_then(|(_, rest)| rest.split([' ', '\n']).next())
            .map(|p| format!("argon2id m={} (KiB; Cognate's default)", p.trim_end_matches(',')))
            .unwrap_or_else(|| "argon2id (Cognate's default)".into())
    }
    pub fn venv(&self) -> PathBuf {
        self.bench_dir.join(".venv")
    }
    pub fn node_dir(&self) -> PathBuf {
        self.bench_dir.join("node")
    }
    pub fn trigger_fixture(&self) -> PathBuf {
        self.bench_dir.join("fixtures").join("trigger")
    }
    fn cognito_local_start(&self) -> PathBuf {
        self.node_dir().join("node_modules/cognito-local/lib/bin/start.js")
    }
    /// A fresh folder under the scratch folder.
    pub fn fresh_dir(&self, name: &str) -> anyhow::Result<PathBuf> {
        let dir = self.scratch.join(name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(dir)
    }
}

async fn run_step(mut cmd: Command, what: &str) -> anyhow::Result<()> {
    eprintln!("  {what}");
    // Install steps print to stderr: stdout carries only the report.
    use std::os::fd::AsFd;
    let to_stderr = std::io::stderr().as_fd().try_clone_to_owned()?;
    let status = cmd
        .stdout(Stdio::from(to_stderr))
        .stderr(Stdio::inherit())
        .status()
        .await
        .with_context(|| format!("running {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

/// Builds Cognate, or installs moto / cognito-local, when they are not there yet.
pub async fn install(kind: Kind, env: &Env, build_cognate: bool) -> anyhow::Result<()> {
    match kind {
        Kind::Cognate | Kind::CognatePg => {
            // Built once per run, so that both Cognate backends run the same binary.
            if build_cognate && !env.built.swap(true, std::sync::atomic::Ordering::Relaxed) {
                let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
                let mut cmd = Command::new(cargo);
                cmd.args(["build", "--release", "-p", "cognate", "--bin", "cognate"]);
                run_step(cmd, "cargo build --release -p cognate").await?;
            }
            if !env.cognate_bin.exists() {
                bail!(
                    "{} does not exist (build it, or pass --cognate-bin)",
                    env.cognate_bin.display()
                );
            }
            if kind == Kind::CognatePg {
                start_postgres(env).await?;
            }
        }
        Kind::Moto => {
            let moto = env.venv().join("bin/moto_server");
            if !moto.exists() {
                let mut venv = Command::new("python3");
                venv.arg("-m").arg("venv").arg(env.venv());
                run_step(venv, "python3 -m venv bench/.venv").await?;
                let mut pip = Command::new(env.venv().join("bin/pip"));
                pip.args(["install", "--quiet", MOTO_SPEC]);
                run_step(pip, &format!("pip install '{MOTO_SPEC}'")).await?;
            }
        }
        Kind::CognitoLocal => {
            if !env.cognito_local_start().exists() {
                let mut npm = Command::new("npm");
                npm.args(["ci", "--no-audit", "--no-fund"]).current_dir(env.node_dir());
                run_step(npm, "npm ci (bench/node: cognito-local)").await?;
            }
        }
    }
    Ok(())
}

/// The version string of what runs, for the report.
pub async fn version(kind: Kind, env: &Env) -> String {
    let out = match kind {
        Kind::Cognate | Kind::CognatePg => Command::new(&env.cognate_bin).arg("--version").output().await,
        Kind::Moto => {
            Command::new(env.venv().join("bin/python"))
                .args(["-c", "import moto; print('moto ' + moto.__version__)"])
                .output()
                .await
        }
        Kind::CognitoLocal => {
            let pkg = env.node_dir().join("node_modules/cognito-local/package.json");
            let v = std::fs::read_to_string(pkg)
                .ok()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
                .and_then(|v| v["version"].as_str().map(str::to_owned))
                .unwrap_or_else(|| "?".into());
            return format!("cognito-local {v}");
        }
    };
    out.ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "?".into())
}

pub fn free_port() -> anyhow::Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.port())
}

/// A server process started by the harness.
pub struct Running {
    pub pid: u32,
    pub addr: SocketAddr,
    /// From spawn to the server's "ready" line.
    pub ready: Duration,
    child: Child,
    tail: Arc<Mutex<VecDeque<String>>>,
}

/// What to start.
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<String>,
    pub envs: Vec<(String, String)>,
    pub cwd: PathBuf,
    /// A line on stdout or stderr containing this means the server is ready.
    pub ready_marker: &'static str,
    pub port: u16,
}

impl Launch {
    /// The main instance of a server, with empty storage.
    pub fn main(kind: Kind, env: &Env, dir: &Path) -> anyhow::Result<Self> {
        let port = free_port()?;
        Ok(match kind {
            Kind::Cognate | Kind::CognatePg => {
                let mut args = vec!["serve".into()];
                if kind == Kind::CognatePg {
                    args.push("--database".into());
                    args.push(postgres_database(env, dir)?);
                } else {
                    args.push("--data".into());
                    args.push(dir.join("data").display().to_string());
                }
                args.push("--port".into());
                args.push(port.to_string());
                if let Some(p) = &env.argon2 {
                    args.push("--argon2".into());
                    args.push(p.clone());
                }
                Launch {
                    program: env.cognate_bin.clone(),
                    args,
                    // Nodes sharing a database share a master key (else it is kept in the database).
                    envs: vec![("COGNATE_MASTER_KEY".into(), "42".repeat(32))],
                    cwd: dir.to_owned(),
                    ready_marker: "listening on",
                    port,
                }
            }
            Kind::Moto => Launch {
                program: env.venv().join("bin/moto_server"),
                args: vec!["-H".into(), "127.0.0.1".into(), "-p".into(), port.to_string()],
                envs: vec![],
                cwd: dir.to_owned(),
                ready_marker: "Running on",
                port,
            },
            Kind::CognitoLocal => {
                write_cognito_local_config(dir, serde_json::json!({}))?;
                Launch {
                    program: "node".into(),
                    args: vec![env.cognito_local_start().display().to_string()],
                    envs: vec![("PORT".into(), port.to_string()), ("HOST".into(), "127.0.0.1".into())],
                    cwd: dir.to_owned(),
                    ready_marker: "Cognito Local running on",
                    port,
                }
            }
        })
    }
}

/// Writes `.cognito/config.json` in `dir` (cognito-local's working folder). Pools take plain
/// usernames, as Cognito's and the other servers' do by default (cognito-local's own default
/// makes every pool's usernames email addresses); `extra` adds keys (triggers).
pub fn write_cognito_local_config(dir: &Path, extra: serde_json::Value) -> anyhow::Result<()> {
    let mut config = serde_json::json!({"UserPoolDefaults": {"UsernameAttributes": []}});
    if let (Some(c), Some(e)) = (config.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            c.insert(k.clone(), v.clone());
        }
    }
    std::fs::create_dir_all(dir.join(".cognito"))?;
    std::fs::write(dir.join(".cognito/config.json"), serde_json::to_string_pretty(&config)?)?;
    Ok(())
}

async fn pump<R: AsyncRead + Unpin>(
    reader: R,
    marker: &'static str,
    ready: mpsc::UnboundedSender<Instant>,
    tail: Arc<Mutex<VecDeque<String>>>,
) {
    let mut lines = BufReader::new(reader).lines();
    let mut seen = false;
    while let Ok(Some(line)) = lines.next_line().await {
        if !seen && line.contains(marker) {
            seen = true;
            let _ = ready.send(Instant::now());
        }
        let mut t = tail.lock().unwrap_or_else(|e| e.into_inner());
        if t.len() >= 40 {
            t.pop_front();
        }
        t.push_back(line);
    }
}

pub async fn start(launch: Launch) -> anyhow::Result<Running> {
    let mut cmd = Command::new(&launch.program);
    cmd.args(&launch.args)
        .current_dir(&launch.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for (k, v) in &launch.envs {
        cmd.env(k, v);
    }
    let t0 = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", launch.program.display()))?;
    let pid = child.id().context("the server exited at once")?;
    let tail = Arc::new(Mutex::new(VecDeque::new()));
    let (tx, mut rx) = mpsc::unbounded_channel();
    if let Some(out) = child.stdout.take() {
        tokio::spawn(pump(out, launch.ready_marker, tx.clone(), tail.clone()));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(pump(err, launch.ready_marker, tx.clone(), tail.clone()));
    }
    drop(tx);
    let ready_at = tokio::select! {
        at = rx.recv() => at,
        _ = tokio::time::sleep(Duration::from_secs(60)) => None,
    };
    let mut running = Running {
        pid,
        addr: SocketAddr::from(([127, 0, 0, 1], launch.port)),
        ready: Duration::ZERO,
        child,
        tail,
    };
    let Some(at) = ready_at else {
        let tail = running.tail_text();
        running.stop().await;
        bail!(
            "{} did not print {:?}; its last output:\n{tail}",
            launch.program.display(),
            launch.ready_marker
        );
    };
    running.ready = at - t0;
    // The marker may come a moment before the socket accepts (werkzeug prints first).
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(running.addr).await.is_ok() {
            return Ok(running);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let tail = running.tail_text();
    running.stop().await;
    bail!(
        "{} never accepted connections on {}:\n{tail}",
        launch.program.display(),
        running.addr
    )
}

impl Running {
    pub fn tail_text(&self) -> String {
        let t = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        t.iter().map(|l| format!("    {l}\n")).collect()
    }

    /// SIGTERM, then SIGKILL after 5 s.
    pub async fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .status()
            .await;
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
    }

    pub fn mem(&self) -> Mem {
        Mem::read(self.pid)
    }

    /// Resets the peak RSS (VmHWM) to the current RSS, so that the next reading is the peak
    /// of what follows. Returns false where the kernel refuses.
    pub fn reset_peak(&self) -> bool {
        std::fs::write(format!("/proc/{}/clear_refs", self.pid), "5").is_ok()
    }

    /// CPU seconds (user + system) the server process has used so far.
    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(self.pid)
    }
}

/// Memory of a process in MiB, from /proc/PID/status.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Mem {
    pub rss_mb: f64,
    pub peak_rss_mb: f64,
}

impl Mem {
    pub fn read(pid: u32) -> Self {
        let text = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kb| kb.parse::<f64>().ok())
                .map(|kb| kb / 1024.0)
                .unwrap_or(0.0)
        };
        Mem {
            rss_mb: field("VmRSS:"),
            peak_rss_mb: field("VmHWM:"),
        }
    }
}

/// utime + stime of a process, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at ") ".
    let Some((_, rest)) = text.rsplit_once(") ") else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state); utime is field 14, stime field 15.
    let ticks = |i: usize| f.get(i - 3).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(14) + ticks(15)) / 100.0
}

/// Processes whose parent is `pid` (the trigger instances a server runs), with their RSS.
pub fn children_rss_mb(pid: u32) -> f64 {
    let mut total = 0.0;
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    for e in dir.flatten() {
        let Some(child) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
        let ppid = stat
            .rsplit_once(") ")
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(pid) {
            total += Mem::read(child).rss_mb;
        }
    }
    total
}

/// A PostgreSQL cluster the harness runs for Cognate (PostgreSQL): initdb in the scratch
/// folder, as the `postgres` user, on a free loopback port; defaults otherwise (fsync on).
pub struct Postgres {
    pub port: u16,
    data: PathBuf,
    running: Running,
}

fn as_postgres(program: &str) -> Command {
    let mut cmd = Command::new("runuser");
    cmd.args(["-u", "postgres", "--", program]);
    cmd
}

async fn start_postgres(env: &Env) -> anyhow::Result<()> {
    if env.pg.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
        return Ok(());
    }
    let dir = env.fresh_dir("postgres")?;
    let data = dir.join("data");
    let status = Command::new("chown").arg("postgres:").arg(&dir).status().await?;
    if !status.success() {
        bail!("chown postgres {} failed", dir.display());
    }
    let mut initdb = as_postgres("initdb");
    initdb
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync", "-D"])
        .arg(&data)
        .stdout(Stdio::null());
    run_step(initdb, "initdb (a private PostgreSQL cluster)").await?;
    let port = free_port()?;
    let mut args: Vec<String> = ["-u", "postgres", "--", "postgres", "-D"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.push(data.display().to_string());
    for a in [
        "-p",
        &port.to_string(),
        "-k",
        &dir.display().to_string(),
        "-c",
        "listen_addresses=127.0.0.1",
    ] {
        args.push(a.to_owned());
    }
    let running = start(Launch {
        program: "runuser".into(),
        args,
        envs: vec![],
        cwd: dir.clone(),
        ready_marker: "ready to accept connections",
        port,
    })
    .await?;
    let version = Command::new("postgres").arg("--version").output().await?;
    eprintln!(
        "  {} on 127.0.0.1:{port}",
        String::from_utf8_lossy(&version.stdout).trim()
    );
    *env.pg.lock().unwrap_or_else(|e| e.into_inner()) = Some(Postgres { port, data, running });
    Ok(())
}

/// A database for one Cognate instance (its scratch folder's name); kept if it exists, so a
/// restart on the same folder finds its data.
fn postgres_database(env: &Env, dir: &Path) -> anyhow::Result<String> {
    let port = env
        .pg
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .as_ref()
        .map(|p| p.port)
        .context("PostgreSQL is not running")?;
    let name: String = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("bench")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    let out = std::process::Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-c",
        ])
        .arg(format!("CREATE DATABASE \"{name}\""))
        .output()?;
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() && !err.contains("already exists") {
        bail!("creating database {name}: {err}");
    }
    Ok(format!("postgres://postgres@127.0.0.1:{port}/{name}"))
}

/// Stops the private PostgreSQL cluster, if one runs.
pub async fn stop_postgres(env: &Env) {
    let pg = env.pg.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(mut pg) = pg {
        let mut stop = as_postgres("pg_ctl");
        stop.args(["-m", "fast", "-w", "-D"])
            .arg(&pg.data)
            .arg("stop")
            .stdout(Stdio::null());
        let _ = stop.status().await;
        pg.running.stop().await;
    }
}
