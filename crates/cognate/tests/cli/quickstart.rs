//! The README's quick starts, run exactly as written: the shell blocks marked
//! `<!-- quickstart: NAME -->` and the files marked `<!-- quickstart-file: NAME -->`. The only
//! change is the port: the blocks say 9339 (on 127.0.0.1 or localhost), the test listens wherever
//! it can.
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use crate::BIN;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The marked blocks of the README, by kind and name.
struct Readme {
    commands: BTreeMap<String, String>,
    files: BTreeMap<String, String>,
}

fn readme() -> Readme {
    let text = std::fs::read_to_string(repo_root().join("README.md")).expect("README.md");
    let mut readme = Readme {
        commands: BTreeMap::new(),
        files: BTreeMap::new(),
    };
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.trim();
        let (is_file, name) = if let Some(rest) = line.strip_prefix("<!-- quickstart-file:") {
            (true, rest)
        } else if let Some(rest) = line.strip_prefix("<!-- quickstart:") {
            (false, rest)
        } else {
            continue;
        };
        let name = name.trim_end_matches("-->").trim().to_owned();
        let fence = lines.next().unwrap_or_default();
        assert!(fence.starts_with("```"), "a code block must follow the {name} marker");
        let body: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with("```")).collect();
        let body = body.join("\n") + "\n";
        let kind = if is_file {
            &mut readme.files
        } else {
            &mut readme.commands
        };
        assert!(kind.insert(name.clone(), body).is_none(), "two blocks named {name}");
    }
    readme
}

/// A PATH where `cognate` is the binary under test and `aws` the CLI from tests/python/.venv
/// (installed by scripts/test), then the usual tools.
fn path_with_tools() -> String {
    let venv_bin = repo_root().join("tests/python/.venv/bin");
    assert!(
        venv_bin.join("aws").is_file(),
        "the AWS CLI is missing from {}: run `bash scripts/test`, which installs it",
        venv_bin.display()
    );
    let bin_dir = Path::new(BIN).parent().unwrap();
    format!(
        "{}:{}:{}",
        bin_dir.display(),
        venv_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Runs a block with bash as a user would paste it, but stopping at the first failure.
fn run_block(block: &str, port: u16, home: &Path) -> Output {
    let script = block
        .replace("127.0.0.1:9339", &format!("127.0.0.1:{port}"))
        .replace("localhost:9339", &format!("localhost:{port}"));
    let mut cmd = Command::new("bash");
    cmd.args(["-euo", "pipefail", "-c", &script])
        .current_dir(home)
        .env("PATH", path_with_tools())
        .env("HOME", home);
    // The user's own AWS settings must not leak into the run.
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.output().expect("bash runs")
}

fn assert_ran(out: &Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The last JSON document a block printed (each AWS CLI command prints its own).
fn last_json(stdout: &str) -> serde_json::Value {
    serde_json::Deserializer::from_str(stdout)
        .into_iter::<serde_json::Value>()
        .map(|v| v.unwrap_or_else(|e| panic!("not JSON output ({e}):\n{stdout}")))
        .last()
        .unwrap_or_else(|| panic!("no JSON output:\n{stdout}"))
}

/// Reads `listening on http://127.0.0.1:PORT` and returns the port.
fn wait_ready(child: &mut Child) -> u16 {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("a readiness line");
    line.trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
}

struct Stop(Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn aws_cli_quick_start_runs_as_written() {
    let readme = readme();
    let home = tempfile::tempdir().unwrap();
    let mut server = Command::new(BIN)
        .args(["serve", "--memory", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cognate starts");
    let port = wait_ready(&mut server);
    let _server = Stop(server);

    let out = run_block(&readme.commands["aws-cli"], port, home.path());
    let stdout = assert_ran(&out, "the AWS CLI quick start");
    let result = last_json(&stdout);
    let auth = &result["AuthenticationResult"];
    assert!(auth["AccessToken"].is_string(), "{result}");
    assert!(auth["RefreshToken"].is_string(), "{result}");
}

#[test]
fn passwordless_quick_start_runs_as_written() {
    let readme = readme();
    let home = tempfile::tempdir().unwrap();
    let mut server = Command::new(BIN)
        .args(["serve", "--memory", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cognate starts");
    let port = wait_ready(&mut server);
    let _server = Stop(server);

    let out = run_block(&readme.commands["passwordless"], port, home.path());
    let stdout = assert_ran(&out, "the passwordless quick start");
    let result = last_json(&stdout);
    let auth = &result["AuthenticationResult"];
    assert!(auth["AccessToken"].is_string(), "{result}");
    assert!(auth["RefreshToken"].is_string(), "{result}");
}

#[test]
fn serverless_quick_start_runs_as_written_from_the_app_folder() {
    let readme = readme();
    let app = tempfile::tempdir().unwrap();
    for (name, content) in &readme.files {
        std::fs::write(app.path().join(name), content).unwrap();
    }
    let serve = readme.commands["serverless-serve"].trim();
    assert_eq!(serve.lines().count(), 1, "one command starts the server: {serve:?}");
    // COGNATE_PORT=0 stands in for the README's default port.
    let mut server = Command::new("bash")
        .args(["-c", &format!("exec {serve}")])
        .current_dir(app.path())
        .env("PATH", path_with_tools())
        .env("COGNATE_PORT", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the serve command starts");
    let port = wait_ready(&mut server);
    let _server = Stop(server);

    let out = run_block(&readme.commands["serverless-try"], port, app.path());
    let stdout = assert_ran(&out, "the serverless quick start");
    let claims = last_json(&stdout);
    assert_eq!(claims["plan"], "free", "the PreTokenGeneration handler ran: {claims}");
    assert_eq!(claims["email"], "bob@example.com");
    assert_eq!(
        claims["email_verified"], true,
        "the PreSignUp handler verified the email"
    );
    assert!(app.path().join(".cognate").is_dir(), "data is kept in the app's folder");
}

#[test]
fn https_quick_start_runs_as_written() {
    let readme = readme();
    let app = tempfile::tempdir().unwrap();
    let serve = readme.commands["https-serve"].trim();
    assert_eq!(serve.lines().count(), 1, "one command starts the server: {serve:?}");
    let mut server = Command::new("bash")
        .args(["-c", &format!("exec {serve}")])
        .current_dir(app.path())
        .env("PATH", path_with_tools())
        .env("COGNATE_PORT", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the serve command starts");
    let port = wait_ready(&mut server);
    let _server = Stop(server);
    assert!(
        app.path().join(".cognate/tls/ca.pem").is_file(),
        "the development CA is in the data folder"
    );

    // The AWS CLI (AWS_CA_BUNDLE) and curl (--cacert) reach it over https, trusting the CA.
    let out = run_block(&readme.commands["https-try"], port, app.path());
    let stdout = assert_ran(&out, "the HTTPS quick start");
    let jwks = last_json(&stdout);
    assert_eq!(jwks["keys"][0]["kty"], "RSA", "{jwks}");
}

#[test]
fn oauth_quick_start_runs_as_written() {
    let readme = readme();
    let home = tempfile::tempdir().unwrap();
    let mut server = Command::new(BIN)
        .args(["serve", "--memory", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cognate starts");
    let port = wait_ready(&mut server);
    let _server = Stop(server);

    let out = run_block(&readme.commands["oauth"], port, home.path());
    let stdout = assert_ran(&out, "the OAuth quick start");
    let tokens = last_json(&stdout);
    assert_eq!(tokens["token_type"], "Bearer", "{tokens}");
    assert!(tokens["id_token"].is_string(), "{tokens}");
    assert!(tokens["access_token"].is_string(), "{tokens}");
    assert!(tokens["refresh_token"].is_string(), "{tokens}");
}
