//! `serve --config` and `validate` with the paths people type: a bare file name from the app's
//! folder, `./serverless.yml`, a folder, an absolute path, a symlinked folder. Handlers must run
//! in the config's folder whichever it is, and what goes wrong with them must be said.
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};

use serde_json::Value;

use crate::{BIN, call, get, read_ready};

const CONFIG: &str = r#"service: paths
provider:
  name: aws
  runtime: nodejs20.x
functions:
  preSignUp:
    handler: HANDLER
    events:
      - cognitoUserPool:
          pool: PathsPool
          trigger: PreSignUp
resources:
  Resources:
    WebClient:
      Type: AWS::Cognito::UserPoolClient
      Properties:
        UserPoolId: !Ref CognitoUserPoolPathsPool
"#;

const HANDLER: &str =
    "exports.preSignUp = async (event) => {\n  event.response.autoConfirmUser = true;\n  return event;\n};\n";

/// An app folder `<root>/app` with serverless.yml and handler.js.
fn app(handler: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let app = root.path().join("app");
    std::fs::create_dir(&app).unwrap();
    std::fs::write(app.join("serverless.yml"), CONFIG.replace("HANDLER", handler)).unwrap();
    std::fs::write(app.join("handler.js"), HANDLER).unwrap();
    root
}

/// `cognate serve --memory --port 0 --config <config>` run in `cwd`; stderr goes to a file.
fn serve_config(cwd: &Path, config: &str, path_var: Option<&str>) -> (Child, String, std::fs::File) {
    let log = tempfile::tempfile().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--memory", "--port", "0", "--config", config])
        .current_dir(cwd)
        .stdout(Stdio::piped())
        .stderr(log.try_clone().unwrap());
    if let Some(p) = path_var {
        cmd.env("PATH", p);
    }
    let mut child = cmd.spawn().expect("cognate starts");
    let addr = read_ready(&mut child);
    (child, addr, log)
}

fn stop(mut child: Child, mut log: std::fs::File) -> String {
    child.kill().unwrap();
    child.wait().unwrap();
    let mut text = String::new();
    use std::io::Seek;
    log.rewind().unwrap();
    log.read_to_string(&mut text).unwrap();
    text
}

/// Signs up through the declared pool's client; the answer's status and body.
fn sign_up(addr: &str) -> (u16, Value) {
    let (_, pools) = call(addr, "ListUserPools", r#"{"MaxResults": 10}"#);
    let pool_id = pools["UserPools"][0]["Id"]
        .as_str()
        .expect("the declared pool")
        .to_owned();
    let (_, clients) = call(
        addr,
        "ListUserPoolClients",
        &format!(r#"{{"UserPoolId": "{pool_id}"}}"#),
    );
    let client_id = clients["UserPoolClients"][0]["ClientId"]
        .as_str()
        .expect("the declared client")
        .to_owned();
    call(
        addr,
        "SignUp",
        &format!(r#"{{"ClientId": "{client_id}", "Username": "ann", "Password": "Passw0rd!x"}}"#),
    )
}

#[test]
fn every_form_of_the_config_path_runs_the_handlers() {
    let root = app("handler.preSignUp");
    let app_dir = root.path().join("app");
    std::os::unix::fs::symlink(&app_dir, root.path().join("linked")).unwrap();
    let absolute = app_dir.join("serverless.yml");
    let forms: [(&Path, &str); 6] = [
        (&app_dir, "serverless.yml"),
        (&app_dir, "./serverless.yml"),
        (&app_dir, "."),
        (root.path(), "app"),
        (root.path(), absolute.to_str().unwrap()),
        (root.path(), "linked/serverless.yml"),
    ];
    for (cwd, config) in forms {
        let (child, addr, log) = serve_config(cwd, config, None);
        let (status, out) = sign_up(&addr);
        let log = stop(child, log);
        assert_eq!(status, 200, "--config {config} from {}: {out}\n{log}", cwd.display());
        assert_eq!(
            out["UserConfirmed"], true,
            "--config {config}: the PreSignUp handler ran"
        );
    }
}

#[test]
fn a_handler_process_that_cannot_start_is_logged_with_its_cause() {
    let root = app("handler.preSignUp");
    let empty = tempfile::tempdir().unwrap();
    // No `node` on this PATH.
    let (child, addr, log) = serve_config(
        &root.path().join("app"),
        "serverless.yml",
        Some(empty.path().to_str().unwrap()),
    );
    let (status, out) = sign_up(&addr);
    let log = stop(child, log);
    assert_eq!(status, 400, "{out}");
    assert!(out["__type"].as_str().is_some_and(|t| t.contains("Lambda")), "{out}");
    assert!(
        log.contains("could not start the function's process") && log.contains("node"),
        "the log says why: {log}"
    );
}

#[test]
fn a_missing_handler_file_is_warned_about_at_validate_and_at_start() {
    let root = app("handlr.preSignUp");
    let app_dir = root.path().join("app");
    let out = Command::new(BIN)
        .args(["validate", "--config", "serverless.yml"])
        .current_dir(&app_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "a warning, not an error: {stderr}");
    assert!(
        stderr.contains(
            r#"Warning: function "preSignUp": handler "handlr.preSignUp" needs handlr.js, handlr.mjs or handlr.cjs"#
        ),
        "{stderr}"
    );

    let (child, _addr, log) = serve_config(&app_dir, "serverless.yml", None);
    let log = stop(child, log);
    assert!(log.contains("needs handlr.js, handlr.mjs or handlr.cjs"), "{log}");

    // A correct handler gives no such warning.
    let fine = app("handler.preSignUp");
    let out = Command::new(BIN)
        .args(["validate", "--config", "app"])
        .current_dir(fine.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("Warning"));
}

#[test]
fn with_aws_issuer_the_discovery_document_points_at_this_server_for_keys() {
    let mut child = Command::new(BIN)
        .args(["serve", "--memory", "--port", "0", "--aws-issuer"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = read_ready(&mut child);
    let (_, pool) = call(&addr, "CreateUserPool", r#"{"PoolName": "issuer"}"#);
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
    let (status, doc) = get(&addr, &format!("/{pool_id}/.well-known/openid-configuration"));
    assert_eq!(status, 200);
    assert_eq!(
        doc["issuer"],
        format!("https://cognito-idp.us-east-1.amazonaws.com/{pool_id}")
    );
    let jwks_uri = doc["jwks_uri"].as_str().unwrap();
    assert_eq!(jwks_uri, format!("http://{addr}/{pool_id}/.well-known/jwks.json"));
    let (status, jwks) = get(&addr, jwks_uri.strip_prefix(&format!("http://{addr}")).unwrap());
    assert_eq!(status, 200);
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(2), "{jwks}");
    child.kill().unwrap();
    child.wait().unwrap();
}
