//! The suite's harness: a PostgreSQL database of the test's own (dropped when the test ends,
//! also when it fails), real `cognate serve` processes on it, and AWS SDK clients for each.
use aws_sdk_cognitoidentityprovider as idp;
use idp::config::retry::RetryConfig;
use idp::config::timeout::TimeoutConfig;
use idp::config::{BehaviorVersion, Credentials, Region};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use crate::BIN;

const PG_DEFAULT: &str = "postgres://postgres@127.0.0.1:5432/test";
/// Every node of a test seals secrets with this key (nodes sharing a database must share it).
const MASTER_KEY: &str = "6d756c74692d6e6f64652d746573742d6d61737465722d6b65792d3332627974";
/// What a password-checking request may take on a loaded 2-core machine before the SDK gives
/// up: generous, so that only a hang fails on it.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(60);

/// The server the suite uses: `COGNATE_TEST_POSTGRES_URL`, else the local one.
fn admin_url() -> String {
    std::env::var("COGNATE_TEST_POSTGRES_URL").unwrap_or_else(|_| PG_DEFAULT.to_owned())
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let (rest, query) = match rest.split_once('?') {
        Some((r, q)) => (r, Some(q)),
        None => (rest, None),
    };
    let authority = rest.split('/').next().unwrap_or(rest);
    match query {
        Some(q) => format!("{scheme}://{authority}/{name}?{q}"),
        None => format!("{scheme}://{authority}/{name}"),
    }
}

async fn connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// A uniquely named database on the test server, dropped (with every connection to it) when
/// this is dropped, whether the test passed or panicked.
pub struct TestDatabase {
    pub name: String,
    /// The URL nodes are given.
    pub url: String,
    admin_url: String,
}

impl TestDatabase {
    /// A fresh database for `test`; `None`, after printing why, when PostgreSQL cannot be
    /// reached (the test is then skipped).
    pub async fn create(test: &str) -> Option<Self> {
        let admin_url = admin_url();
        let admin = match connect(&admin_url).await {
            Ok(c) => c,
            Err(e) => {
                // Written to stderr itself, not through the test harness's capture: a skip
                // must be seen in a passing run.
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr(),
                    "multinode: skipped {test}: PostgreSQL at {admin_url} is unreachable ({e})"
                );
                return None;
            }
        };
        let mut suffix = [0u8; 6];
        getrandom(&mut suffix);
        let hex: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
        let name = format!("cognate_mn_{}_{hex}", test.chars().take(24).collect::<String>());
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap_or_else(|e| panic!("creating database {name}: {e}"));
        Some(Self {
            url: with_database(&admin_url, &name),
            name,
            admin_url,
        })
    }

    /// A connection to this database (for what the test checks or breaks underneath).
    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.url).await.expect("connecting to the test database")
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop may run inside the test's runtime, or while a panic unwinds it: a thread with a
        // runtime of its own drops the database (and ends whatever still uses it).
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                let admin = connect(&admin_url).await?;
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}: {dropped:?}", self.name);
        }
    }
}

/// Random bytes without a dependency: the std hasher's random keys, mixed with the time.
pub fn getrandom(buf: &mut [u8]) {
    use std::hash::{BuildHasher, Hasher};
    for chunk in buf.chunks_mut(8) {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("after 1970")
                .as_nanos(),
        );
        let v = h.finish().to_le_bytes();
        chunk.copy_from_slice(&v[..chunk.len()]);
    }
}

/// A `cognate serve` process that is starting: spawned, readiness line not yet read.
pub struct Starting {
    child: Child,
    log: Arc<Mutex<String>>,
}

/// A running `cognate serve` process (SIGKILLed when dropped) and an SDK client for it.
pub struct Node {
    child: Child,
    /// `127.0.0.1:PORT`
    pub addr: String,
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    pub idp: idp::Client,
    log: Arc<Mutex<String>>,
}

/// Spawns `cognate serve --port 0 ARGS` (logs at info level, the suite's master key), with its
/// stderr collected and its readiness line still to be read.
pub fn spawn(args: &[&str]) -> Starting {
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0"])
        .args(args)
        .env("COGNATE_MASTER_KEY", MASTER_KEY)
        .env("COGNATE_LOG", "info")
        .env_remove("COGNATE_PUBLIC_URL")
        .env_remove("COGNATE_PORT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("cognate starts");
    let log = Arc::new(Mutex::new(String::new()));
    let mut stderr = child.stderr.take().expect("piped stderr");
    let sink = log.clone();
    tokio::spawn(async move {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut buf).await {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    Starting { child, log }
}

impl Starting {
    /// Waits for the readiness line; panics with the node's log when it exits instead.
    pub async fn ready(mut self) -> Node {
        let stdout = self.child.stdout.take().expect("piped stdout");
        let mut lines = BufReader::new(stdout).lines();
        let first = lines.next_line().await.ok().flatten().unwrap_or_default();
        let Some(addr) = first.trim().strip_prefix("listening on http://").map(str::to_owned) else {
            let status = self.child.wait().await;
            panic!(
                "the node did not start ({status:?}); stdout {first:?}; its log:\n{}",
                self.log.lock().unwrap()
            );
        };
        // Keep draining stdout so the node never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let endpoint = format!("http://{addr}");
        Node {
            child: self.child,
            idp: sdk_client(&endpoint),
            addr,
            endpoint,
            log: self.log,
        }
    }

    /// Waits for the process to exit (it must not become ready); returns whether it succeeded
    /// and what it logged.
    pub async fn exit(mut self) -> (bool, String) {
        let status = tokio::time::timeout(OPERATION_TIMEOUT, self.child.wait())
            .await
            .expect("the node exits rather than serving")
            .expect("waiting for the node");
        // Let the stderr reader take the last bytes.
        for _ in 0..100 {
            if !self.log.lock().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let log = self.log.lock().unwrap().clone();
        (status.success(), log)
    }
}

impl Node {
    /// Starts a node on `database_url` with `extra` arguments and waits until it serves.
    pub async fn start(database_url: &str, extra: &[&str]) -> Node {
        let mut args = vec!["--database", database_url];
        args.extend_from_slice(extra);
        spawn(&args).ready().await
    }

    /// Everything the node has written to stderr so far.
    pub fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// Kills the process with SIGKILL (no chance to finish anything) and waits for it.
    pub async fn sigkill(&mut self) {
        self.child.start_kill().expect("SIGKILL");
        self.child.wait().await.expect("the killed node is reaped");
    }

    /// The newest code the development outbox holds for `to` (shared by every node: it is in
    /// the database).
    pub async fn latest_code(&self, to: &str) -> String {
        let (status, body) = http_get(&self.addr, &format!("/_cognate/code?to={to}")).await;
        assert_eq!(status, 200, "no code for {to}: {body}");
        body.trim().to_owned()
    }

    /// A built-in KMS client for this node.
    pub fn kms(&self) -> aws_sdk_kms::Client {
        let config = aws_sdk_kms::Config::builder()
            .behavior_version(aws_sdk_kms::config::BehaviorVersion::latest())
            .region(aws_sdk_kms::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_kms::config::Credentials::new(
                "AKIDTEST",
                "secret",
                None,
                None,
                "multinode",
            ))
            .endpoint_url(&self.endpoint)
            .retry_config(aws_sdk_kms::config::retry::RetryConfig::disabled())
            .build();
        aws_sdk_kms::Client::from_conf(config)
    }
}

/// An SDK client for `endpoint`: no retries (a failure must show as one) and a generous
/// operation timeout (only a hang fails on it).
pub fn sdk_client(endpoint: &str) -> idp::Client {
    let config = idp::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "multinode"))
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::disabled())
        .timeout_config(TimeoutConfig::builder().operation_timeout(OPERATION_TIMEOUT).build())
        .build();
    idp::Client::from_conf(config)
}

/// A GET over one HTTP/1.1 connection; returns the status and the body.
pub async fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(OPERATION_TIMEOUT, s.read_to_end(&mut raw))
        .await
        .expect("an answer")
        .unwrap();
    let raw = String::from_utf8_lossy(&raw).into_owned();
    let status = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = raw
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Nodes sharing one fresh database. Fields drop in order: the nodes are killed before the
/// database is dropped.
pub struct Cluster {
    pub nodes: Vec<Node>,
    pub db: TestDatabase,
}

impl Cluster {
    /// `n` nodes on a database of the test's own, started one after the other; `None` when
    /// PostgreSQL is unreachable (the test is skipped).
    pub async fn start(test: &str, n: usize, extra: &[&str]) -> Option<Cluster> {
        let db = TestDatabase::create(test).await?;
        let mut nodes = Vec::new();
        for _ in 0..n {
            nodes.push(Node::start(&db.url, extra).await);
        }
        Some(Cluster { nodes, db })
    }

    /// Node `i` modulo the number of nodes (for spreading requests).
    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i % self.nodes.len()]
    }
}
