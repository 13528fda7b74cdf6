//! The `cognate` binary as users run it: `serve` (readiness line, durability across a
//! SIGKILL, config paths, HTTPS), `validate` and `package`, the README's quick starts,
//! Terraform, and several nodes sharing one PostgreSQL database (`multinode`).

// Test code: a failed unwrap is the test's report, and clients sign with the real time.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]
#[path = "cli/amplify.rs"]
mod amplify;
#[path = "cli/config_paths.rs"]
mod config_paths;
#[path = "cli/hosts.rs"]
mod hosts;
#[path = "cli/hygiene.rs"]
mod hygiene;
#[path = "cli/log_scan.rs"]
mod log_scan;
#[path = "cli/multinode/mod.rs"]
mod multinode;
#[path = "cli/production.rs"]
mod production;
#[path = "cli/quickstart.rs"]
mod quickstart;
#[path = "cli/terraform.rs"]
mod terraform;
#[path = "cli/tls.rs"]
mod tls;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_cognate");

fn fixtures() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/serverless-fixtures");
    assert!(p.is_dir(), "serverless fixtures not found at {}", p.display());
    p
}

/// Starts `cognate serve` with `args` and returns the process and its endpoint address.
fn serve(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(["--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cognate starts");
    let addr = read_ready(&mut child);
    (child, addr)
}

/// Reads the readiness line (`listening on http://ADDR`) and returns ADDR.
fn read_ready(child: &mut Child) -> String {
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).expect("a readiness line");
    line.trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned()
}

/// A GET over a plain HTTP/1.1 connection; returns (status, JSON body).
fn get(addr: &str, path: &str) -> (u16, serde_json::Value) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status: u16 = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    let json = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("{}");
    (status, serde_json::from_str(json).unwrap_or(serde_json::Value::Null))
}

/// One Cognito API call over a plain HTTP/1.1 connection; returns (status, body).
fn call(addr: &str, op: &str, body: &str) -> (u16, serde_json::Value) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: AWSCognitoIdentityProviderService.{op}\r\n\
         Content-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status: u16 = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    let json = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("{}");
    (status, serde_json::from_str(json).unwrap_or(serde_json::Value::Null))
}

/// Like [`call`], signed with SigV4 (aws-sigv4, as the AWS SDKs sign) by `key` = (id, secret).
fn signed_call(addr: &str, op: &str, body: &str, key: (&str, &str)) -> (u16, serde_json::Value) {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let target = format!("AWSCognitoIdentityProviderService.{op}");
    let headers = [
        ("host", addr),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", target.as_str()),
    ];
    let identity =
        aws_sdk_cognitoidentityprovider::config::Credentials::new(key.0, key.1, None, None, "cli-tests").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("cognito-idp")
        .time(std::time::SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let url = format!("http://{addr}/");
    let signable = SignableRequest::new(
        "POST",
        &url,
        headers.iter().copied(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut head = String::new();
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    for h in instructions.into_parts().0 {
        head.push_str(&format!("{}: {}\r\n", h.name(), h.value()));
    }
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    write!(
        s,
        "POST / HTTP/1.1\r\n{head}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status: u16 = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    let json = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("{}");
    (status, serde_json::from_str(json).unwrap_or(serde_json::Value::Null))
}

/// An access-keys file readable by its owner only.
fn private_keys_file(dir: &Path, text: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("access-keys");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    path
}

#[test]
fn serve_prints_readiness_and_answers() {
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let (mut child, addr) = serve(&["--data", dir.path().to_str().unwrap()]);
    let ready = started.elapsed();
    let (status, body) = call(&addr, "ListUserPools", r#"{"MaxResults": 10}"#);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["UserPools"], serde_json::json!([]));
    child.kill().unwrap();
    child.wait().unwrap();
    eprintln!("ready after {ready:?}");
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let (mut child, addr) = serve(&["--data", data]);
    let (status, pool) = call(&addr, "CreateUserPool", r#"{"PoolName": "durable"}"#);
    assert_eq!(status, 200, "{pool}");
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
    let mut created = Vec::new();
    for i in 0..15 {
        let body = format!(r#"{{"UserPoolId": "{pool_id}", "Username": "user{i}", "MessageAction": "SUPPRESS"}}"#);
        let (status, out) = call(&addr, "AdminCreateUser", &body);
        assert_eq!(status, 200, "{out}");
        created.push(format!("user{i}"));
    }
    // Kill without any chance to flush or shut down.
    child.kill().unwrap();
    child.wait().unwrap();

    let (mut child, addr) = serve(&["--data", data]);
    for name in &created {
        let (status, out) = call(
            &addr,
            "AdminGetUser",
            &format!(r#"{{"UserPoolId": "{pool_id}", "Username": "{name}"}}"#),
        );
        assert_eq!(status, 200, "{name} was acknowledged before the kill: {out}");
        assert_eq!(out["UserStatus"], "FORCE_CHANGE_PASSWORD");
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn serve_refuses_a_bad_config_before_touching_data() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--port", "0", "--data"])
        .arg(dir.path().join("data"))
        .arg("--config")
        .arg(fixtures().join("bad-two-kms-keys"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Only one KMS Key"), "{stderr}");
    assert!(
        !dir.path().join("data").exists(),
        "no data folder is created for a config that fails"
    );
}

#[test]
fn validate_reports_serverless_errors() {
    for (case, ok) in [
        ("simple", true),
        ("bad-two-kms-keys", false),
        ("bad-kms-not-arn-strict", false),
        ("bad-kms-not-arn", true),
    ] {
        let out = Command::new(BIN)
            .args(["validate", "--config"])
            .arg(fixtures().join(case))
            .output()
            .unwrap();
        assert_eq!(
            out.status.success(),
            ok,
            "{case}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        if !ok {
            let expected = std::fs::read_to_string(fixtures().join(case).join("expected-error.txt")).unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let first_error_line = stdout.lines().nth(1).unwrap_or_default();
            assert!(
                expected.contains(first_error_line),
                "{case}: {stdout:?} not in {expected:?}"
            );
            assert_eq!(out.status.code(), Some(1));
        }
    }
}

#[test]
fn package_prints_the_serverless_template() {
    let out = Command::new(BIN)
        .args(["package", "--config"])
        .arg(fixtures().join("simple-noversion"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ours: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixtures().join("simple-noversion/expected.json")).unwrap())
            .unwrap();
    let pool = |t: &serde_json::Value| t["Resources"]["CognitoUserPoolMyUserPool"].clone();
    assert_eq!(pool(&ours), pool(&expected));
    assert!(pool(&ours).is_object());
}

/// A minimal SMTP server that accepts every message and hands its DATA to the test.
fn smtp_sink() -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut out = stream.try_clone().unwrap();
            let mut lines = BufReader::new(stream);
            writeln!(out, "220 sink ESMTP\r").unwrap();
            let mut data = String::new();
            let mut in_data = false;
            let mut line = String::new();
            while lines.read_line(&mut line).unwrap_or(0) > 0 {
                let l = line.trim_end().to_owned();
                line.clear();
                if in_data {
                    if l == "." {
                        in_data = false;
                        tx.send(std::mem::take(&mut data)).unwrap();
                        write!(out, "250 queued\r\n").unwrap();
                    } else {
                        data.push_str(&l);
                        data.push('\n');
                    }
                    continue;
                }
                let verb = l.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
                let reply = match verb.as_str() {
                    "EHLO" | "HELO" => "250 sink\r\n",
                    "DATA" => {
                        in_data = true;
                        "354 go ahead\r\n"
                    }
                    "QUIT" => {
                        write!(out, "221 bye\r\n").unwrap();
                        break;
                    }
                    _ => "250 ok\r\n",
                };
                out.write_all(reply.as_bytes()).unwrap();
            }
        }
    });
    (addr, rx)
}

/// A minimal HTTP server that records the bodies POSTed to it.
fn webhook_sink() -> (String, std::sync::mpsc::Receiver<String>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0;
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 0 {
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                line.clear();
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            tx.send(String::from_utf8(body).unwrap()).unwrap();
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .unwrap();
        }
    });
    (format!("http://{addr}/sms"), rx)
}

#[test]
fn production_profile_delivers_email_and_sms() {
    let (smtp, mails) = smtp_sink();
    let (webhook, texts) = webhook_sink();
    let smtp_url = format!("smtp://{smtp}");
    let dir = tempfile::tempdir().unwrap();
    let keys = private_keys_file(dir.path(), "AKIDADMIN admin-secret\n");
    const KEY: (&str, &str) = ("AKIDADMIN", "admin-secret");
    let (mut child, addr) = serve(&[
        "--memory",
        "--profile",
        "production",
        "--access-keys",
        keys.to_str().unwrap(),
        "--smtp-url",
        &smtp_url,
        "--smtp-from",
        "Cognate <no-reply@example.com>",
        "--sms-webhook",
        &webhook,
    ]);
    let (_, pool) = signed_call(
        &addr,
        "CreateUserPool",
        r#"{"PoolName": "prod", "AutoVerifiedAttributes": ["email"],
            "VerificationMessageTemplate": {"EmailSubject": "Welcome", "EmailMessage": "Your code: {####}"}}"#,
        KEY,
    );
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
    let (_, client) = signed_call(
        &addr,
        "CreateUserPoolClient",
        &format!(r#"{{"UserPoolId": "{pool_id}", "ClientName": "c"}}"#),
        KEY,
    );
    let client_id = client["UserPoolClient"]["ClientId"].as_str().unwrap().to_owned();
    let (status, out) = call(
        &addr,
        "SignUp",
        &format!(
            r#"{{"ClientId": "{client_id}", "Username": "mia", "Password": "Passw0rd!",
                "UserAttributes": [{{"Name": "email", "Value": "mia@example.com"}}]}}"#
        ),
    );
    assert_eq!(status, 200, "{out}");
    let mail = mails
        .recv_timeout(Duration::from_secs(20))
        .expect("an email reaches the SMTP server");
    assert!(mail.contains("Subject: Welcome"), "{mail}");
    assert!(mail.contains("To: mia@example.com"), "{mail}");
    assert!(mail.contains("From: Cognate <no-reply@example.com>"), "{mail}");
    let code: String = mail
        .split("Your code: ")
        .nth(1)
        .expect("the body")
        .chars()
        .take(6)
        .collect();
    assert!(code.chars().all(|c| c.is_ascii_digit()) && code.len() == 6, "{mail}");
    let (status, out) = call(
        &addr,
        "ConfirmSignUp",
        &format!(r#"{{"ClientId": "{client_id}", "Username": "mia", "ConfirmationCode": "{code}"}}"#),
    );
    assert_eq!(status, 200, "the emailed code confirms the user: {out}");

    // SMS goes to the webhook.
    let (_, pool) = signed_call(
        &addr,
        "CreateUserPool",
        r#"{"PoolName": "sms", "AutoVerifiedAttributes": ["phone_number"]}"#,
        KEY,
    );
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
    let (_, client) = signed_call(
        &addr,
        "CreateUserPoolClient",
        &format!(r#"{{"UserPoolId": "{pool_id}", "ClientName": "c"}}"#),
        KEY,
    );
    let client_id = client["UserPoolClient"]["ClientId"].as_str().unwrap().to_owned();
    let (status, out) = call(
        &addr,
        "SignUp",
        &format!(
            r#"{{"ClientId": "{client_id}", "Username": "max", "Password": "Passw0rd!",
                "UserAttributes": [{{"Name": "phone_number", "Value": "+12065550100"}}]}}"#
        ),
    );
    assert_eq!(status, 200, "{out}");
    let text: serde_json::Value = serde_json::from_str(
        &texts
            .recv_timeout(Duration::from_secs(20))
            .expect("an SMS reaches the webhook"),
    )
    .unwrap();
    assert_eq!(text["to"], "+12065550100");
    assert_eq!(text["trigger_source"], "CustomMessage_SignUp");
    assert!(
        text["body"].as_str().unwrap().contains("Your verification code is"),
        "{text}"
    );

    // No outbox in production.
    let mut s = TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "GET /_cognate/messages HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 404"), "{raw}");
    child.kill().unwrap();
    child.wait().unwrap();
}

/// `cognate backup` under write load gives one consistent snapshot: restored into another
/// folder, it holds every user acknowledged before the backup began, each of them whole, and the
/// pool's sealed keys still open.
#[test]
fn a_backup_taken_under_write_load_restores_whole() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (mut child, addr) = serve(&["--data", data.to_str().unwrap()]);
    let (status, pool) = call(&addr, "CreateUserPool", r#"{"PoolName": "backed-up"}"#);
    assert_eq!(status, 200, "{pool}");
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();

    // Writers create users until told to stop; `done` counts the acknowledged ones.
    let (stop, done) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let (addr, pool_id, stop, done) = (addr.clone(), pool_id.clone(), stop.clone(), done.clone());
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                for i in 0.. {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let name = format!("w{w}-{i}");
                    let body = format!(
                        r#"{{"UserPoolId": "{pool_id}", "Username": "{name}", "MessageAction": "SUPPRESS",
                            "UserAttributes": [{{"Name": "email", "Value": "{name}@example.com"}}]}}"#
                    );
                    let (status, out) = call(&addr, "AdminCreateUser", &body);
                    assert_eq!(status, 200, "{out}");
                    mine.push(name);
                    done.fetch_add(1, Ordering::SeqCst);
                }
                mine
            })
        })
        .collect();
    while done.load(Ordering::SeqCst) < 30 {
        std::thread::sleep(Duration::from_millis(10));
    }
    let acknowledged_before = done.load(Ordering::SeqCst);
    let file = dir.path().join("snapshot.db");
    let out = Command::new(BIN)
        .args(["backup", "--data", data.to_str().unwrap(), file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // Writing went on during the backup.
    let after_backup = done.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::SeqCst);
    let written: usize = writers.into_iter().map(|w| w.join().unwrap().len()).sum();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        written > after_backup,
        "no writes after the backup: the test proves nothing"
    );

    // A backup does not overwrite, and a restore refuses a folder that has a database.
    let again = Command::new(BIN)
        .args(["backup", "--data", data.to_str().unwrap(), file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!again.status.success());
    let onto_live = Command::new(BIN)
        .args(["restore", "--data", data.to_str().unwrap(), file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!onto_live.status.success());

    let restored = dir.path().join("restored");
    let out = Command::new(BIN)
        .args(["restore", "--data", restored.to_str().unwrap(), file.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (mut child, addr) = serve(&["--data", restored.to_str().unwrap()]);
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let body = match &token {
            Some(t) => format!(r#"{{"UserPoolId": "{pool_id}", "PaginationToken": "{t}"}}"#),
            None => format!(r#"{{"UserPoolId": "{pool_id}"}}"#),
        };
        let (status, page) = call(&addr, "ListUsers", &body);
        assert_eq!(status, 200, "{page}");
        for u in page["Users"].as_array().unwrap() {
            let email = u["Attributes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|a| a["Name"] == "email")
                .map(|a| a["Value"].as_str().unwrap().to_owned());
            let name = u["Username"].as_str().unwrap().to_owned();
            assert_eq!(
                email,
                Some(format!("{name}@example.com")),
                "a user restored half-written"
            );
            names.push(name);
        }
        match page["PaginationToken"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert!(
        names.len() >= acknowledged_before && names.len() <= written,
        "restored {} users; {acknowledged_before} were acknowledged before the backup, {written} in all",
        names.len()
    );
    // The master key came with it: the pool's sealed signing keys open (the JWKS is made from them).
    let (status, jwks) = get(&addr, &format!("/{pool_id}/.well-known/jwks.json"));
    assert_eq!(status, 200);
    assert_eq!(jwks["keys"].as_array().map(Vec::len), Some(2));
    child.kill().unwrap();
    child.wait().unwrap();
}
