//! SRP with the client libraries apps use: `amazon-cognito-identity-js` (Node) and
//! `pycognito` + `pyotp` (Python), run against a server started here.
//!
//! Needs `npm ci --prefix tests/node` and the Python venv (`tests/python/requirements.txt`);
//! `scripts/test` installs both.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::UserPoolMfaType;
use cognate_sdk_tests::*;

use crate::mfa::{TOTP_ONLY, mfa_pool};
use crate::protections::client_with;

const SCRIPT_TIMEOUT: Duration = Duration::from_secs(120);

pub(crate) fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = manifest.canonicalize().unwrap_or_else(|_| manifest.to_path_buf());
    manifest.join("../..").canonicalize().expect("repository root")
}

fn python() -> PathBuf {
    let venv = repo_root().join("tests/python/.venv/bin/python");
    if venv.exists() { venv } else { PathBuf::from("python3") }
}

/// Runs a client script; returns stdout, panics with stderr.
pub(crate) async fn run(program: &Path, args: &[&str], cwd: &Path) -> String {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .current_dir(cwd)
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
        .env_remove("COGNITO_JWKS")
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
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{} {args:?} failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{}",
        program.display(),
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test]
async fn amazon_cognito_identity_js_signs_in_with_srp() {
    let dir = repo_root().join("tests/node");
    assert!(
        dir.join("node_modules/amazon-cognito-identity-js").is_dir(),
        "{}/node_modules is missing or incomplete: run `npm ci --prefix tests/node` in the repository root",
        dir.display()
    );
    let c = Cognate::start().await;
    let pool = c.create_pool("identity-js").await;
    let client_id = client_with(&c, &pool.pool_id, true).await;
    c.admin_user(&pool, "nina", "nina@example.com").await;
    let out = run(
        Path::new("node"),
        &[
            "srp-identity-js.mjs",
            &c.endpoint,
            &pool.pool_id,
            &client_id,
            "nina",
            PASSWORD,
        ],
        &dir,
    )
    .await;
    assert_eq!(out.trim(), "ok");
}

#[tokio::test]
async fn pycognito_signs_in_with_srp_and_totp() {
    let dir = repo_root().join("tests/python");
    let python = python();
    let probe = std::process::Command::new(&python)
        .args(["-c", "import pycognito, pyotp"])
        .output()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", python.display()));
    assert!(
        probe.status.success(),
        "{} cannot import pycognito/pyotp: install them with\n  python3 -m venv tests/python/.venv && \
         tests/python/.venv/bin/pip install -r tests/python/requirements.txt\n{}",
        python.display(),
        String::from_utf8_lossy(&probe.stderr)
    );
    let c = Cognate::start().await;
    let pool = mfa_pool(&c, UserPoolMfaType::Optional, TOTP_ONLY).await;
    let client_id = client_with(&c, &pool.pool_id, true).await;
    c.admin_user(&pool, "pia", "pia@example.com").await;
    let out = run(
        &python,
        &[
            "srp_pycognito.py",
            &c.endpoint,
            &pool.pool_id,
            &client_id,
            "pia",
            PASSWORD,
        ],
        &dir,
    )
    .await;
    assert_eq!(out.trim(), "ok");
}
