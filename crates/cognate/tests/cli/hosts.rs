//! DNS rebinding: a server on loopback serves only requests whose `Host` is a loopback name or
//! one given with `--allowed-host` (or `COGNATE_ALLOWED_HOSTS`); one listening beyond loopback
//! serves any `Host` unless names are given.
use super::{BIN, call, get, read_ready, serve};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A request to `addr` carrying `host` in its `Host` header, as a browser sends it after DNS
/// rebinding; `target`: a Cognito operation (POST /), else a GET of `path`. Returns (status, body).
fn with_host(addr: &str, host: &str, path: &str, target: Option<&str>) -> (u16, serde_json::Value) {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    match target {
        Some(op) => write!(
            s,
            "POST / HTTP/1.1\r\nHost: {host}\r\nX-Amz-Target: AWSCognitoIdentityProviderService.{op}\r\n\
             Content-Type: application/x-amz-json-1.1\r\nContent-Length: 16\r\nConnection: close\r\n\r\n\
             {{\"MaxResults\":5}}"
        ),
        None => write!(s, "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    }
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let status: u16 = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    let json = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("{}");
    (status, serde_json::from_str(json).unwrap_or(serde_json::Value::Null))
}

fn port(addr: &str) -> &str {
    addr.rsplit_once(':').unwrap().1
}

fn assert_refused(addr: &str, host: &str, path: &str, target: Option<&str>) {
    let (status, body) = with_host(addr, host, path, target);
    assert_eq!(status, 403, "Host {host} {path}: {body}");
    assert_eq!(body["__type"], "AccessDeniedException", "{body}");
    let name = host.rsplit_once(':').map_or(host, |(n, _)| n);
    assert_eq!(
        body["message"],
        format!("Host '{name}' is not allowed; start cognate with --allowed-host {name} to allow it."),
        "{body}"
    );
}

fn stop(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn loopback_server_serves_loopback_hosts_and_refuses_foreign_ones() {
    let (child, addr) = serve(&["--memory"]);
    let p = port(&addr);
    // The helpers of cli.rs send `Host: 127.0.0.1:PORT`.
    assert_eq!(call(&addr, "ListUserPools", r#"{"MaxResults":5}"#).0, 200);
    assert_eq!(get(&addr, "/_cognate/messages").0, 200);
    for host in [
        format!("localhost:{p}"),
        "localhost".to_owned(),
        format!("app.localhost:{p}"),
        format!("127.0.0.2:{p}"),
        format!("[::1]:{p}"),
    ] {
        let (status, body) = with_host(&addr, &host, "/", Some("ListUserPools"));
        assert_eq!(status, 200, "Host {host}: {body}");
        assert_eq!(
            with_host(&addr, &host, "/_cognate/messages", None).0,
            200,
            "Host {host}"
        );
    }
    // A page of evil.example whose name now resolves to 127.0.0.1 may not manage pools, read
    // the outbox (every code and temporary password), or anything else.
    let evil = format!("evil.example:{p}");
    assert_refused(&addr, &evil, "/", Some("ListUserPools"));
    assert_refused(&addr, &evil, "/", Some("SignUp"));
    assert_refused(&addr, &evil, "/_cognate/messages", None);
    assert_refused(&addr, &evil, "/_cognate/code?to=a@example.com", None);
    assert_refused(&addr, &evil, "/metrics", None);
    assert_refused(&addr, &evil, "/us-east-1_x/.well-known/jwks.json", None);
    assert_refused(&addr, "127.0.0.1.evil.example", "/_cognate/messages", None);
    assert_refused(&addr, "localhost.evil.example", "/_cognate/messages", None);
    stop(child);
}

#[test]
fn allowed_host_names_are_served() {
    let (child, addr) = serve(&["--memory", "--allowed-host", "cognate", "--allowed-host", "Auth.Test"]);
    for host in ["cognate:9339", "cognate", "auth.test:80", "localhost:9339"] {
        let (status, body) = with_host(&addr, host, "/", Some("ListUserPools"));
        assert_eq!(status, 200, "Host {host}: {body}");
        assert_eq!(with_host(&addr, host, "/_cognate/messages", None).0, 200, "Host {host}");
    }
    assert_refused(&addr, "evil.example:9339", "/_cognate/messages", None);
    stop(child);

    // The environment variable, comma-separated.
    let mut child = Command::new(BIN)
        .args(["serve", "--port", "0", "--memory"])
        .env("COGNATE_ALLOWED_HOSTS", "cognate,web")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cognate starts");
    let addr = read_ready(&mut child);
    for host in ["cognate:9339", "web"] {
        assert_eq!(with_host(&addr, host, "/_cognate/messages", None).0, 200, "Host {host}");
    }
    assert_refused(&addr, "evil.example", "/_cognate/messages", None);
    stop(child);
}

#[test]
fn server_beyond_loopback_serves_any_host_unless_names_are_given() {
    let (child, addr) = serve(&["--memory", "--host", "0.0.0.0"]);
    let addr = format!("127.0.0.1:{}", port(&addr));
    assert_eq!(
        with_host(&addr, "cognate.internal:9339", "/", Some("ListUserPools")).0,
        200
    );
    stop(child);

    let (child, addr) = serve(&["--memory", "--host", "0.0.0.0", "--allowed-host", "cognate.internal"]);
    let addr = format!("127.0.0.1:{}", port(&addr));
    assert_eq!(
        with_host(&addr, "cognate.internal:9339", "/", Some("ListUserPools")).0,
        200
    );
    assert_eq!(with_host(&addr, &addr, "/", Some("ListUserPools")).0, 200);
    assert_refused(&addr, "evil.example", "/", Some("ListUserPools"));
    stop(child);
}
