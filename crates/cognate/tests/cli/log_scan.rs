//! No secret in any log line: a full scenario through the real binary with `COGNATE_LOG=trace`,
//! then every password, code, token and secret used or issued is looked for in what it logged.
//!
//! The lines of the trigger handlers' own output (target `cognate_functions::handler`) are left
//! out of the scan: they are the user's code logging what it chooses (here `console.log(event)`),
//! passed through unchanged as Lambda passes a function's output to CloudWatch Logs. Every other
//! line is Cognate's, or a library's it runs, and must hold no secret.
use super::{BIN, private_keys_file, read_ready, signed_call};
use serde_json::{Value, json};
use std::io::{Read, Seek, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CONFIG: &str = r#"service: logscan
provider:
  name: aws
  runtime: nodejs20.x
functions:
  preSignUp:
    handler: handler.preSignUp
    events:
      - cognitoUserPool:
          pool: ScanPool
          trigger: PreSignUp
  migrate:
    handler: handler.migrate
    events:
      - cognitoUserPool:
          pool: ScanPool
          trigger: UserMigration
resources:
  Resources:
    CognitoUserPoolScanPool:
      Type: AWS::Cognito::UserPool
      Properties:
        AutoVerifiedAttributes: [email]
    WebClient:
      Type: AWS::Cognito::UserPoolClient
      Properties:
        UserPoolId: !Ref CognitoUserPoolScanPool
        ExplicitAuthFlows: [ALLOW_USER_PASSWORD_AUTH, ALLOW_REFRESH_TOKEN_AUTH]
"#;

/// Both handlers log their whole event (the UserMigration one holds the user's password); the
/// PreSignUp one also leaves the secret access key Cognate gave it where the test can read it.
const HANDLER: &str = r#"const fs = require('fs');
exports.preSignUp = async (event) => {
  console.log(JSON.stringify(event));
  console.log(event);
  if (process.env.AWS_SECRET_ACCESS_KEY) {
    fs.writeFileSync(__dirname + '/own-secret', process.env.AWS_SECRET_ACCESS_KEY);
  }
  return event;
};
exports.migrate = async (event) => {
  console.log(JSON.stringify(event));
  event.response.userAttributes = { email: 'migrant@example.com', email_verified: 'true' };
  event.response.finalUserStatus = 'CONFIRMED';
  event.response.messageAction = 'SUPPRESS';
  return event;
};
"#;

/// One request over a plain HTTP/1.1 connection; returns (status, body as text).
fn http(addr: &str, method: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status: u16 = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    (
        status,
        raw.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default(),
    )
}

/// A Cognito call that must succeed; its answer.
fn ok(addr: &str, op: &str, body: Value) -> Value {
    let headers =
        format!("X-Amz-Target: AWSCognitoIdentityProviderService.{op}\r\nContent-Type: application/x-amz-json-1.1\r\n");
    let (status, text) = http(addr, "POST", "/", &headers, &body.to_string());
    assert_eq!(status, 200, "{op}: {text}");
    serde_json::from_str(&text).unwrap()
}

/// A Cognito call that must fail; its error type.
fn refused(addr: &str, op: &str, body: Value) -> String {
    let headers =
        format!("X-Amz-Target: AWSCognitoIdentityProviderService.{op}\r\nContent-Type: application/x-amz-json-1.1\r\n");
    let (status, text) = http(addr, "POST", "/", &headers, &body.to_string());
    assert_eq!(status, 400, "{op}: {text}");
    serde_json::from_str::<Value>(&text).unwrap()["__type"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The latest code (or temporary password) the outbox holds for `to`.
fn code(addr: &str, to: &str) -> String {
    let (status, text) = http(addr, "GET", &format!("/_cognate/code?to={to}"), "", "");
    assert_eq!(status, 200, "code for {to}: {text}");
    text.trim().to_owned()
}

/// Cognito's SECRET_HASH, computed as an app would (with Node's crypto).
fn secret_hash(secret: &str, username: &str, client_id: &str) -> String {
    let out = Command::new("node")
        .args([
            "-e",
            "process.stdout.write(require('crypto').createHmac('sha256', process.argv[1])\
             .update(process.argv[2]).digest('base64'))",
            secret,
            &format!("{username}{client_id}"),
        ])
        .output()
        .expect("node runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// `cognate serve --memory --port 0 --config serverless.yml ARGS` in `app`, logging everything
/// (`COGNATE_LOG=trace`) to a file.
fn serve_traced(app: &Path, args: &[&str]) -> (Child, String, std::fs::File) {
    let log = tempfile::tempfile().unwrap();
    let mut child = Command::new(BIN)
        .args(["serve", "--memory", "--port", "0", "--config", "serverless.yml"])
        .args(args)
        .current_dir(app)
        .env("COGNATE_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(log.try_clone().unwrap())
        .spawn()
        .expect("cognate starts");
    let addr = read_ready(&mut child);
    (child, addr, log)
}

fn stop(mut child: Child, mut log: std::fs::File) -> String {
    child.kill().unwrap();
    child.wait().unwrap();
    let mut text = String::new();
    log.rewind().unwrap();
    log.read_to_string(&mut text).unwrap();
    text
}

fn app_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("serverless.yml"), CONFIG).unwrap();
    std::fs::write(dir.path().join("handler.js"), HANDLER).unwrap();
    dir
}

/// Whether `line` holds `secret`; an all-digit secret (a code) only as a whole number, so that
/// it is not found inside longer numbers.
fn holds(line: &str, secret: &str) -> bool {
    if !secret.bytes().all(|b| b.is_ascii_digit()) {
        return line.contains(secret);
    }
    line.match_indices(secret).any(|(at, _)| {
        let before = line[..at].bytes().next_back();
        let after = line[at + secret.len()..].bytes().next();
        !before.is_some_and(|b| b.is_ascii_digit()) && !after.is_some_and(|b| b.is_ascii_digit())
    })
}

/// The lines of Cognate's own log (the handlers' output left out, see the module's comment)
/// that hold one of `secrets` (what, value); fails listing them.
fn assert_no_secret(log: &str, secrets: &[(String, String)]) {
    assert!(
        log.lines().any(|l| l.contains("cognate_functions::handler")),
        "the handlers' output is logged (and left out of the scan):\n{log}"
    );
    assert!(log.lines().count() > 20, "a trace-level log:\n{log}");
    let mut leaks = Vec::new();
    for line in log.lines().filter(|l| !l.contains(" cognate_functions::handler: ")) {
        // The timestamp's digits are no code.
        let text = line.split_once(' ').map_or(line, |(_, rest)| rest);
        for (what, secret) in secrets {
            assert!(secret.len() >= 6, "{what} is too short to look for: {secret:?}");
            if holds(text, secret) {
                leaks.push(format!("{what} in: {line}"));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets in the log:\n{}", leaks.join("\n"));
}

fn token(v: &Value, result: &str, name: &str) -> String {
    v[result][name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} in {v}"))
        .to_owned()
}

#[test]
fn development_scenario_logs_no_secret() {
    let app = app_dir();
    let (child, addr, log) = serve_traced(app.path(), &[]);
    let mut secrets: Vec<(String, String)> = Vec::new();
    let mut keep = |what: &str, value: &str| secrets.push((what.to_owned(), value.to_owned()));

    let pools = ok(&addr, "ListUserPools", json!({"MaxResults": 10}));
    let pool = pools["UserPools"][0]["Id"].as_str().unwrap().to_owned();
    let clients = ok(&addr, "ListUserPoolClients", json!({"UserPoolId": pool}));
    let web = clients["UserPoolClients"][0]["ClientId"].as_str().unwrap().to_owned();
    let created = ok(
        &addr,
        "CreateUserPoolClient",
        json!({"UserPoolId": pool, "ClientName": "backend", "GenerateSecret": true,
               "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    let client = created["UserPoolClient"]["ClientId"].as_str().unwrap().to_owned();
    let client_secret = created["UserPoolClient"]["ClientSecret"].as_str().unwrap().to_owned();
    keep("the client secret", &client_secret);
    let described = ok(
        &addr,
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool, "ClientId": client}),
    );
    assert_eq!(described["UserPoolClient"]["ClientSecret"], client_secret.as_str());
    let hash = secret_hash(&client_secret, "ann", &client);

    // Sign-up (the PreSignUp handler logs its event), confirmation code, sign-in, refresh.
    let password = "Sign-up-Passw0rd!";
    keep("the sign-up password", password);
    ok(
        &addr,
        "SignUp",
        json!({"ClientId": client, "Username": "ann", "Password": password, "SecretHash": hash,
               "UserAttributes": [{"Name": "email", "Value": "ann@example.com"}]}),
    );
    let confirmation = code(&addr, "ann@example.com");
    keep("the confirmation code", &confirmation);
    assert_eq!(
        refused(
            &addr,
            "ConfirmSignUp",
            json!({"ClientId": client, "Username": "ann", "ConfirmationCode": "000000", "SecretHash": hash}),
        ),
        "CodeMismatchException"
    );
    ok(
        &addr,
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "ann", "ConfirmationCode": confirmation, "SecretHash": hash}),
    );
    let wrong = "Wrong-Passw0rd!";
    keep("a wrong password", wrong);
    assert_eq!(
        refused(
            &addr,
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": "ann", "PASSWORD": wrong, "SECRET_HASH": hash}}),
        ),
        "NotAuthorizedException"
    );
    let signed_in = ok(
        &addr,
        "InitiateAuth",
        json!({"ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "ann", "PASSWORD": password, "SECRET_HASH": hash}}),
    );
    let access = token(&signed_in, "AuthenticationResult", "AccessToken");
    let refresh = token(&signed_in, "AuthenticationResult", "RefreshToken");
    keep("an access token", &access);
    keep("an ID token", &token(&signed_in, "AuthenticationResult", "IdToken"));
    keep("a refresh token", &refresh);
    ok(&addr, "GetUser", json!({"AccessToken": access}));
    let refreshed = ok(
        &addr,
        "InitiateAuth",
        json!({"ClientId": client, "AuthFlow": "REFRESH_TOKEN_AUTH",
               "AuthParameters": {"REFRESH_TOKEN": refresh, "USERNAME": "ann", "SECRET_HASH": hash}}),
    );
    keep(
        "a refreshed access token",
        &token(&refreshed, "AuthenticationResult", "AccessToken"),
    );
    keep(
        "a refreshed ID token",
        &token(&refreshed, "AuthenticationResult", "IdToken"),
    );
    let again = ok(
        &addr,
        "GetTokensFromRefreshToken",
        json!({"ClientId": client, "ClientSecret": client_secret, "RefreshToken": refresh}),
    );
    keep(
        "an access token from GetTokensFromRefreshToken",
        &token(&again, "AuthenticationResult", "AccessToken"),
    );

    // A password reset: its code and the new password.
    ok(
        &addr,
        "ForgotPassword",
        json!({"ClientId": client, "Username": "ann", "SecretHash": hash}),
    );
    let reset = code(&addr, "ann@example.com");
    keep("the password-reset code", &reset);
    let new_password = "Reset-Passw0rd!";
    keep("the new password", new_password);
    ok(
        &addr,
        "ConfirmForgotPassword",
        json!({"ClientId": client, "Username": "ann", "ConfirmationCode": reset, "Password": new_password,
               "SecretHash": hash}),
    );

    // Admin-created users: a given temporary password, and one Cognate makes up.
    let temporary = "Temp-Passw0rd!1";
    keep("a given temporary password", temporary);
    ok(
        &addr,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "bob", "TemporaryPassword": temporary,
               "UserAttributes": [{"Name": "email", "Value": "bob@example.com"}]}),
    );
    ok(
        &addr,
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "cat",
               "UserAttributes": [{"Name": "email", "Value": "cat@example.com"}]}),
    );
    let generated = code(&addr, "cat@example.com");
    keep("a generated temporary password", &generated);
    let challenge = ok(
        &addr,
        "InitiateAuth",
        json!({"ClientId": web, "AuthFlow": "USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "bob", "PASSWORD": temporary}}),
    );
    assert_eq!(challenge["ChallengeName"], "NEW_PASSWORD_REQUIRED", "{challenge}");
    let chosen = "Chosen-Passw0rd!";
    keep("a password chosen at the first sign-in", chosen);
    let answered = ok(
        &addr,
        "RespondToAuthChallenge",
        json!({"ClientId": web, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": challenge["Session"],
               "ChallengeResponses": {"USERNAME": "bob", "NEW_PASSWORD": chosen}}),
    );
    keep(
        "bob's access token",
        &token(&answered, "AuthenticationResult", "AccessToken"),
    );
    keep(
        "bob's refresh token",
        &token(&answered, "AuthenticationResult", "RefreshToken"),
    );

    // UserMigration: the event carries the password the user typed.
    let migrated = "Migrant-Passw0rd!";
    keep("a migrating user's password", migrated);
    let signed_in = ok(
        &addr,
        "InitiateAuth",
        json!({"ClientId": web, "AuthFlow": "USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "migrant", "PASSWORD": migrated}}),
    );
    keep(
        "the migrated user's ID token",
        &token(&signed_in, "AuthenticationResult", "IdToken"),
    );

    let log = stop(child, log);
    assert!(
        log.contains(migrated),
        "the UserMigration handler's own output (its event) is passed through:\n{log}"
    );
    assert_no_secret(&log, &secrets);
}

#[test]
fn production_scenario_logs_no_access_key_secret() {
    let app = app_dir();
    let key_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYLOGSCANKEY";
    let keys = private_keys_file(app.path(), &format!("AKIDLOGSCAN {key_secret}\n"));
    let (child, addr, log) = serve_traced(
        app.path(),
        &["--profile", "production", "--access-keys", keys.to_str().unwrap()],
    );
    let key = ("AKIDLOGSCAN", key_secret);
    let (status, pools) = signed_call(&addr, "ListUserPools", r#"{"MaxResults": 10}"#, key);
    assert_eq!(status, 200, "{pools}");
    let pool = pools["UserPools"][0]["Id"].as_str().unwrap().to_owned();
    let (status, clients) = signed_call(
        &addr,
        "ListUserPoolClients",
        &json!({"UserPoolId": pool}).to_string(),
        key,
    );
    assert_eq!(status, 200, "{clients}");
    let web = clients["UserPoolClients"][0]["ClientId"].as_str().unwrap().to_owned();
    let temporary = "Temp-Passw0rd!2";
    let (status, out) = signed_call(
        &addr,
        "AdminCreateUser",
        &json!({"UserPoolId": pool, "Username": "dan", "TemporaryPassword": temporary,
                "MessageAction": "SUPPRESS"})
        .to_string(),
        key,
    );
    assert_eq!(status, 200, "{out}");
    // Signed with a wrong secret: refused, and neither secret (nor the signature expected) said.
    let (status, out) = signed_call(
        &addr,
        "ListUserPools",
        r#"{"MaxResults": 10}"#,
        ("AKIDLOGSCAN", "not-the-secret-at-all"),
    );
    assert_eq!(out["__type"], "InvalidSignatureException", "{status} {out}");
    // A sign-up runs the PreSignUp handler, which is given a key of Cognate's own.
    let password = "Prod-Passw0rd!";
    let headers =
        "X-Amz-Target: AWSCognitoIdentityProviderService.SignUp\r\nContent-Type: application/x-amz-json-1.1\r\n";
    let body = json!({"ClientId": web, "Username": "eve", "Password": password}).to_string();
    let (status, text) = http(&addr, "POST", "/", headers, &body);
    assert_eq!(status, 200, "{text}");
    let own = std::fs::read_to_string(app.path().join("own-secret")).expect("the handler got a secret access key");
    let log = stop(child, log);
    assert_no_secret(
        &log,
        &[
            ("the access key's secret".to_owned(), key_secret.to_owned()),
            ("the secret access key given to handlers".to_owned(), own),
            ("a temporary password".to_owned(), temporary.to_owned()),
            ("the sign-up password".to_owned(), password.to_owned()),
        ],
    );
}

/// Settings Cognate stores without acting on them are named in the log, once per pool or client.
#[test]
fn unenforced_settings_are_reported_once() {
    let app = app_dir();
    let (child, addr, log) = serve_traced(app.path(), &[]);
    let pool = ok(
        &addr,
        "CreateUserPool",
        json!({"PoolName": "risky", "UserPoolAddOns": {"AdvancedSecurityMode": "ENFORCED"}}),
    );
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
    ok(
        &addr,
        "UpdateUserPool",
        json!({"UserPoolId": pool_id, "UserPoolAddOns": {"AdvancedSecurityMode": "AUDIT"}}),
    );
    let client = ok(
        &addr,
        "CreateUserPoolClient",
        json!({"UserPoolId": pool_id, "ClientName": "web", "EnablePropagateAdditionalUserContextData": true}),
    );
    let client_id = client["UserPoolClient"]["ClientId"].as_str().unwrap().to_owned();
    // A pool that uses nothing unenforced is not mentioned.
    let quiet = ok(&addr, "CreateUserPool", json!({"PoolName": "plain"}));
    let quiet_id = quiet["UserPool"]["Id"].as_str().unwrap().to_owned();
    let text = stop(child, log);
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("setting stored but not enforced"))
        .collect();
    let about = |owner: &str, setting: &str| {
        lines
            .iter()
            .filter(|l| l.contains(owner) && l.contains(setting))
            .count()
    };
    assert_eq!(about(&pool_id, "UserPoolAddOns.AdvancedSecurityMode"), 1, "{lines:#?}");
    assert_eq!(
        about(&client_id, "EnablePropagateAdditionalUserContextData"),
        1,
        "{lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.contains(&quiet_id)), "{lines:#?}");
}
