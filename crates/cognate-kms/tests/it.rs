//! Interop: real clients against `Kms::handle` behind a tiny HTTP server.
//!
//! * `@aws-crypto/client-node` and Python's `aws-encryption-sdk` decrypt codes made by
//!   `encrypt_code`, with their KMS clients pointed at the server (`AWS_ENDPOINT_URL_KMS`);
//! * our `decrypt_code` reads a message made by `@aws-crypto/client-node`;
//! * `@aws-sdk/client-kms` drives the KMS operations.
//!
//! Needs `npm ci --prefix tests/node` and the Python venv (see `tests/python/requirements.txt`).

// Test code: a failed unwrap is the test's report, and clients sign with the real time.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use cognate_kms::{
    CONTENT_TYPE, Kms, MasterKey, MemoryKeyStore, SystemRandomSource, TARGET_PREFIX, decrypt_code, encrypt_code,
};

const REGION: &str = "us-east-1";
const ACCOUNT: &str = "123456789012";
/// A key ARN as a serverless.yml would name it.
const KEY_ARN: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const POOL_ID: &str = "us-east-1_EXAMPLE1";
const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

async fn kms_endpoint(State(kms): State<Arc<Kms>>, headers: HeaderMap, body: Bytes) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(operation) = target.strip_prefix(TARGET_PREFIX) else {
        return (StatusCode::BAD_REQUEST, format!("unknown X-Amz-Target {target:?}")).into_response();
    };
    // Written as Cognate's server writes KMS answers.
    let (status, body, error_type) = match kms.handle(operation, &body).await {
        Ok(resp) => (200, resp.body, None),
        Err(e) => {
            let body = serde_json::json!({ "__type": e.error_type(), "message": e.client_message() });
            (e.status(), body.to_string().into_bytes(), Some(e.error_type()))
        }
    };
    let mut builder = Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, CONTENT_TYPE)
        .header("x-amzn-RequestId", "00000000-0000-4000-8000-000000000000");
    if let Some(error_type) = error_type {
        builder = builder.header("x-amzn-ErrorType", error_type);
    }
    builder.body(Body::from(body)).expect("valid response")
}

/// Starts a KMS on 127.0.0.1:0 with the pool key present; returns its URL and the KMS.
async fn start_kms() -> (String, Arc<Kms>) {
    let kms = Arc::new(Kms::new(
        MasterKey::new([0x42; 32]),
        Arc::new(MemoryKeyStore::new()),
        REGION,
        ACCOUNT,
        Arc::new(SystemRandomSource),
    ));
    kms.ensure_key_for_arn(KEY_ARN).await.expect("pool key");
    let app = Router::new().route("/", post(kms_endpoint)).with_state(kms.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    (format!("http://{addr}"), kms)
}

fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = manifest.canonicalize().unwrap_or_else(|_| manifest.to_path_buf());
    manifest.join("../..").canonicalize().expect("repository root")
}

fn node_dir() -> PathBuf {
    let dir = repo_root().join("tests/node");
    assert!(
        dir.join("node_modules/@aws-crypto/client-node").is_dir()
            && dir.join("node_modules/@aws-sdk/client-kms").is_dir(),
        "{}/node_modules is missing or incomplete: run `npm ci --prefix tests/node` in the repository root",
        dir.display()
    );
    dir
}

fn python_dir() -> PathBuf {
    repo_root().join("tests/python")
}

fn python() -> PathBuf {
    let venv = python_dir().join(".venv/bin/python");
    if venv.exists() { venv } else { PathBuf::from("python3") }
}

/// Runs a client with AWS settings pointing at `endpoint`; returns stdout, panics with stderr.
async fn run(program: &Path, args: &[&str], cwd: &Path, endpoint: &str) -> String {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(cwd)
        .env("AWS_ENDPOINT_URL_KMS", endpoint)
        .env("AWS_ACCESS_KEY_ID", "cognate-test")
        .env("AWS_SECRET_ACCESS_KEY", "cognate-test")
        .env("AWS_REGION", REGION)
        .env("AWS_DEFAULT_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = match tokio::time::timeout(SCRIPT_TIMEOUT, cmd.output()).await {
        Ok(Ok(output)) => output,
        Ok(Err(e)) => panic!(
            "could not run {}: {e} (is it installed and on PATH?)",
            program.display()
        ),
        Err(_) => panic!(
            "{} {args:?} did not finish within {SCRIPT_TIMEOUT:?}",
            program.display()
        ),
    };
    let stdout = String::from_utf8(output.stdout).expect("UTF-8 stdout");
    assert!(
        output.status.success(),
        "{} {:?} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        program.display(),
        args.iter()
            .map(|a| if a.len() > 80 { &a[..80] } else { a })
            .collect::<Vec<_>>(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Plaintexts a custom sender sees: a code, an HTML-escaped temporary password with non-ASCII
/// text, and something long enough for several frames.
fn samples() -> Vec<String> {
    let long: String = (0..10_000).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
    vec!["123456".to_owned(), "P&amp;ss&lt;wörd&gt;1".to_owned(), long]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_encryption_sdk_decrypts_codes() {
    let dir = node_dir();
    let (url, kms) = start_kms().await;
    for plaintext in samples() {
        let code = encrypt_code(&kms, KEY_ARN, POOL_ID, plaintext.as_bytes(), &SystemRandomSource)
            .await
            .unwrap();
        let args = [
            "decrypt-code.mjs",
            "--key-arn",
            KEY_ARN,
            "--code",
            &code,
            "--pool-id",
            POOL_ID,
        ];
        let out = run(Path::new("node"), &args, &dir, &url).await;
        assert_eq!(out, plaintext);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_encryption_sdk_decrypts_codes() {
    let dir = python_dir();
    let python = python();
    let probe = std::process::Command::new(&python)
        .args(["-c", "import aws_encryption_sdk, boto3"])
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", python.display()));
    assert!(
        probe.status.success(),
        "{} cannot import aws_encryption_sdk/boto3: install them with\n  python3 -m venv tests/python/.venv && \
         tests/python/.venv/bin/pip install -r tests/python/requirements.txt\n{}",
        python.display(),
        String::from_utf8_lossy(&probe.stderr)
    );
    let (url, kms) = start_kms().await;
    for plaintext in samples() {
        let code = encrypt_code(&kms, KEY_ARN, POOL_ID, plaintext.as_bytes(), &SystemRandomSource)
            .await
            .unwrap();
        let args = [
            "decrypt_code.py",
            "--key-arn",
            KEY_ARN,
            "--code",
            &code,
            "--pool-id",
            POOL_ID,
        ];
        let out = run(&python, &args, &dir, &url).await;
        assert_eq!(out, plaintext);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_from_node_encryption_sdk_decrypt_here() {
    let dir = node_dir();
    let (url, kms) = start_kms().await;
    for plaintext in samples() {
        let args = [
            "encrypt-code.mjs",
            "--key-arn",
            KEY_ARN,
            "--pool-id",
            POOL_ID,
            "--plaintext",
            &plaintext,
        ];
        let code = run(Path::new("node"), &args, &dir, &url).await;
        let out = decrypt_code(&kms, &code).await.unwrap();
        assert_eq!(out.plaintext.expose(), plaintext.as_bytes());
        assert_eq!(out.key_arn, KEY_ARN);
        assert_eq!(out.encryption_context["userpool-id"], POOL_ID);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_sdk_kms_client_drives_the_endpoint() {
    let dir = node_dir();
    let (url, _kms) = start_kms().await;
    let out = run(Path::new("node"), &["kms-sdk.mjs"], &dir, &url).await;
    assert_eq!(out.trim(), "ok");
}
