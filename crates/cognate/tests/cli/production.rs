//! `serve --profile production` as an operator runs it: the access-keys file, start-up refusals
//! and warnings, and the AWS CLI signing requests against it.
use super::{BIN, private_keys_file, read_ready, signed_call};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn serve_output(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["serve", "--port", "0", "--memory"])
        .args(args)
        .output()
        .expect("cognate runs")
}

/// Starts `serve`, waits until it is ready, stops it and returns what it logged.
fn start_log(args: &[&str]) -> String {
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0", "--memory"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cognate starts");
    read_ready(&mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    log
}

#[test]
fn production_refuses_to_start_without_private_access_keys() {
    let out = serve_output(&["--profile", "production"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--access-keys"), "{stderr}");

    let dir = tempfile::tempdir().unwrap();
    let keys = private_keys_file(dir.path(), "AKIDADMIN very-secret-value\n");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&keys, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = serve_output(&["--profile", "production", "--access-keys", keys.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("chmod 600"), "{stderr}");
    assert!(!stderr.contains("very-secret-value"), "{stderr}");
}

#[test]
fn start_warns_about_open_development_servers_and_undeliverable_codes() {
    let log = start_log(&["--host", "0.0.0.0"]);
    assert!(log.contains("LISTENING BEYOND THIS MACHINE"), "{log}");
    assert!(log.contains("any credentials (or none) are accepted"), "{log}");

    let dir = tempfile::tempdir().unwrap();
    let keys = private_keys_file(dir.path(), "AKIDADMIN very-secret-value\n");
    let log = start_log(&["--profile", "production", "--access-keys", keys.to_str().unwrap()]);
    assert!(log.contains("codes cannot be delivered"), "{log}");
    assert!(!log.contains("very-secret-value"), "{log}");
}

fn aws(home: &Path, endpoint: &str, key: (&str, &str), args: &[&str]) -> Output {
    let venv_bin = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/python/.venv/bin");
    let aws = venv_bin.join("aws");
    assert!(
        aws.is_file(),
        "the AWS CLI is missing from {}: run `bash scripts/test`, which installs it",
        venv_bin.display()
    );
    let mut cmd = Command::new(aws);
    for (name, _) in std::env::vars() {
        if name.starts_with("AWS_") {
            cmd.env_remove(name);
        }
    }
    cmd.args(args)
        .env("HOME", home)
        .env("AWS_ACCESS_KEY_ID", key.0)
        .env("AWS_SECRET_ACCESS_KEY", key.1)
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", endpoint)
        .env("AWS_ENDPOINT_URL_KMS", endpoint)
        .env("AWS_MAX_ATTEMPTS", "1")
        .output()
        .expect("aws runs")
}

#[test]
fn the_aws_cli_signs_with_the_right_keys_and_fails_with_wrong_ones() {
    let dir = tempfile::tempdir().unwrap();
    let keys: PathBuf = private_keys_file(dir.path(), "AKIDADMIN admin-secret\n");
    let (mut child, addr) = super::serve(&[
        "--memory",
        "--profile",
        "production",
        "--access-keys",
        keys.to_str().unwrap(),
    ]);
    let endpoint = format!("http://{addr}");
    let right = ("AKIDADMIN", "admin-secret");

    let out = aws(
        dir.path(),
        &endpoint,
        right,
        &["cognito-idp", "create-user-pool", "--pool-name", "cli"],
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = aws(dir.path(), &endpoint, right, &["kms", "create-key"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let out = aws(
        dir.path(),
        &endpoint,
        ("AKIDADMIN", "wrong-secret"),
        &["cognito-idp", "list-user-pools", "--max-results", "10"],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("InvalidSignatureException"), "{stderr}");
    let out = aws(
        dir.path(),
        &endpoint,
        ("AKIDNOBODY", "admin-secret"),
        &["cognito-idp", "list-user-pools", "--max-results", "10"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("UnrecognizedClientException"), "{stderr}");

    // The CLI and aws-sigv4 agree: what the CLI created, a signed raw call lists.
    let (status, pools) = signed_call(&addr, "ListUserPools", r#"{"MaxResults": 10}"#, right);
    assert_eq!(status, 200, "{pools}");
    assert_eq!(pools["UserPools"][0]["Name"], "cli");
    child.kill().unwrap();
    child.wait().unwrap();
}
