//! Request hygiene through real sockets: incomplete requests and idle connections are closed
//! after the request timeout, heads are bounded, connections are capped, hostile JSON is
//! refused, SIGTERM lets requests in flight finish; and `/health` and `/metrics`.
use super::{call, get, private_keys_file, serve};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::Child;
use std::time::{Duration, Instant};

/// A generous bound for what should take about a second: only a hang exceeds it.
const PATIENCE: Duration = Duration::from_secs(30);

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Reads until the server closes the connection; `Err` when it is still open after `PATIENCE`.
fn read_until_closed(s: &mut TcpStream) -> Result<String, String> {
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Ok(String::from_utf8_lossy(&raw).into_owned()),
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return Err(format!(
                    "still open after {PATIENCE:?}; got {:?}",
                    String::from_utf8_lossy(&raw)
                ));
            }
            // Reset by the server: closed too.
            Err(_) => return Ok(String::from_utf8_lossy(&raw).into_owned()),
        }
    }
}

/// Reads one response with a `Content-Length` from a connection that stays open; returns
/// (status, body), or `None` if nothing complete came within `wait`.
fn read_response(s: &mut TcpStream, wait: Duration) -> Option<(u16, String)> {
    s.set_read_timeout(Some(wait)).unwrap();
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&raw).into_owned();
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().to_owned())
                })
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if body.len() >= length {
                let status = head.split_whitespace().nth(1)?.parse().ok()?;
                return Some((status, body.to_owned()));
            }
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
        }
    }
}

/// A GET whose body is returned as text.
fn get_text(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let raw = read_until_closed(&mut s).unwrap();
    let status = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    (
        status,
        raw.split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default(),
    )
}

#[test]
fn incomplete_requests_and_idle_connections_are_closed_after_the_request_timeout() {
    let (child, addr) = serve(&["--memory", "--request-timeout", "1"]);
    let body = r#"{"MaxResults": 10}"#;
    let mut held: Vec<(&str, TcpStream)> = Vec::new();
    for i in 0..60 {
        let mut s = TcpStream::connect(&addr).unwrap();
        let kind = match i % 4 {
            // Connects and sends nothing.
            0 => "silent",
            // Half a request head (slowloris).
            1 => {
                write!(s, "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: AWSCognitoIdentityProviderService.ListUserPools\r\n").unwrap();
                "partial head"
            }
            // A whole head and part of the body it announces.
            2 => {
                write!(
                    s,
                    "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: AWSCognitoIdentityProviderService.ListUserPools\r\n\
                     Content-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n{}",
                    body.len(),
                    &body[..5]
                )
                .unwrap();
                "partial body"
            }
            // A whole request on a keep-alive connection, then nothing.
            _ => {
                write!(s, "GET /_cognate/health HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
                "idle keep-alive"
            }
        };
        held.push((kind, s));
    }
    // The server answers others while those are held open.
    let (status, out) = call(&addr, "ListUserPools", body);
    assert_eq!(status, 200, "{out}");

    for (kind, mut s) in held {
        let got = read_until_closed(&mut s).unwrap_or_else(|e| panic!("{kind} connection: {e}"));
        match kind {
            "partial body" => assert!(got.starts_with("HTTP/1.1 408"), "{kind}: {got:?}"),
            "idle keep-alive" => assert!(got.starts_with("HTTP/1.1 200"), "{kind}: {got:?}"),
            _ => assert!(!got.contains(" 200 "), "{kind}: {got:?}"),
        }
    }
    let (status, out) = call(&addr, "ListUserPools", body);
    assert_eq!(status, 200, "{out}");
    stop(child);
}

#[test]
fn oversized_request_heads_are_refused() {
    let (child, addr) = serve(&["--memory"]);
    let mut s = TcpStream::connect(&addr).unwrap();
    let big = "a".repeat(32 * 1024);
    write!(
        s,
        "GET /health HTTP/1.1\r\nHost: {addr}\r\nX-Big: {big}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let got = read_until_closed(&mut s).unwrap();
    assert!(got.starts_with("HTTP/1.1 431"), "{got:?}");
    // A head of ordinary size is fine.
    let (status, body) = get(&addr, "/health");
    assert_eq!(status, 200, "{body}");
    stop(child);
}

#[test]
fn connections_past_the_cap_wait_for_a_free_slot() {
    let (child, addr) = serve(&["--memory", "--max-connections", "2", "--request-timeout", "120"]);
    // Two keep-alive connections, each answered once (so both are accepted) and then held.
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut s = TcpStream::connect(&addr).unwrap();
        write!(s, "GET /_cognate/health HTTP/1.1\r\nHost: {addr}\r\n\r\n").unwrap();
        let (status, _) = read_response(&mut s, PATIENCE).expect("an answer under the cap");
        assert_eq!(status, 200);
        held.push(s);
    }
    let mut third = TcpStream::connect(&addr).unwrap();
    write!(
        third,
        "GET /_cognate/health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    assert!(
        read_response(&mut third, Duration::from_millis(1500)).is_none(),
        "a third connection is not served while two are open"
    );
    drop(held.pop());
    let (status, body) = read_response(&mut third, PATIENCE).expect("served once a slot is free");
    assert_eq!((status, body.as_str()), (200, "ok"));
    stop(child);
}

#[test]
fn deeply_nested_json_is_a_serialization_exception() {
    let (child, addr) = serve(&["--memory"]);
    let nest = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    for depth in [40, 100, 200_000] {
        let body = format!(r#"{{"MaxResults": 10, "Extra": {}}}"#, nest(depth));
        let (status, out) = call(&addr, "ListUserPools", &body);
        assert_eq!(status, 400, "depth {depth}: {out}");
        assert_eq!(out["__type"], "SerializationException", "depth {depth}: {out}");
    }
    // The KMS decoder too.
    let mut s = TcpStream::connect(&addr).unwrap();
    let body = format!(r#"{{"KeyId": "alias/x", "EncryptionContext": {}}}"#, nest(100_000));
    write!(
        s,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: TrentService.Encrypt\r\n\
         Content-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let raw = read_until_closed(&mut s).unwrap();
    assert!(raw.starts_with("HTTP/1.1 400"), "{raw:.300}");
    assert!(raw.contains("SerializationException"), "{raw:.300}");
    // Shallow bodies are as before, and the server is still there.
    let (status, out) = call(
        &addr,
        "ListUserPools",
        r#"{"MaxResults": 10, "Extra": [[{"a": ["[[["]}]]}"#,
    );
    assert_eq!(status, 200, "{out}");
    stop(child);
}

#[test]
fn sigterm_finishes_requests_in_flight_and_exits_despite_stalled_clients() {
    let (mut child, addr) = serve(&["--memory", "--request-timeout", "5"]);
    // A stalled client: half a request head.
    let mut stalled = TcpStream::connect(&addr).unwrap();
    write!(stalled, "POST / HTTP/1.1\r\nHost: {addr}\r\n").unwrap();
    // A request in flight: its head and the start of its body.
    let body = r#"{"MaxResults": 10}"#;
    let mut in_flight = TcpStream::connect(&addr).unwrap();
    write!(
        in_flight,
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: AWSCognitoIdentityProviderService.ListUserPools\r\n\
         Content-Type: application/x-amz-json-1.1\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..5]
    )
    .unwrap();
    in_flight.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    // Once the server stops accepting, the request in flight completes.
    let started = Instant::now();
    while TcpStream::connect(&addr).is_ok() {
        assert!(
            started.elapsed() < PATIENCE,
            "still accepting connections after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    in_flight.write_all(&body.as_bytes()[5..]).unwrap();
    let got = read_until_closed(&mut in_flight).unwrap();
    assert!(got.starts_with("HTTP/1.1 200"), "{got:?}");
    assert!(got.contains("UserPools"), "{got:?}");
    // The stalled client does not keep the process alive.
    let exited = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > PATIENCE * 2 {
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(stalled);
    match exited {
        Some(status) => assert!(status.success(), "{status}"),
        None => {
            stop(child);
            panic!("still running a minute after SIGTERM");
        }
    }
}

#[test]
fn health_and_metrics() {
    let (child, addr) = serve(&["--memory"]);
    let (status, body) = get(&addr, "/health");
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body,
        serde_json::json!({"status": "ok", "store": "ok", "functions": "ok"})
    );
    assert_eq!(get_text(&addr, "/_cognate/health"), (200, "ok".to_owned()));
    for _ in 0..3 {
        assert_eq!(call(&addr, "ListUserPools", r#"{"MaxResults": 10}"#).0, 200);
    }
    assert_eq!(call(&addr, "ListUserPools", r#"{}"#).0, 400);
    assert_eq!(call(&addr, "NoSuchOperation", r#"{}"#).0, 400);
    let (status, text) = get_text(&addr, "/metrics");
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("# TYPE cognate_requests_total counter"), "{text}");
    assert!(
        text.contains("cognate_requests_total{operation=\"ListUserPools\",status=\"200\"} 3\n"),
        "{text}"
    );
    assert!(
        text.contains("cognate_requests_total{operation=\"ListUserPools\",status=\"400\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("cognate_requests_total{operation=\"unknown_operation\",status=\"400\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("cognate_request_duration_seconds_count{operation=\"ListUserPools\"} 4\n"),
        "{text}"
    );
    assert!(
        text.contains("cognate_request_duration_seconds_bucket{operation=\"ListUserPools\",le=\"+Inf\"} 4\n"),
        "{text}"
    );
    assert!(text.contains("cognate_password_hash_queue_depth 0\n"), "{text}");
    // Store calls are timed by store operation: one listing per answered ListUserPools (the
    // refused one never reached the store).
    assert!(
        text.contains("cognate_store_duration_seconds_count{operation=\"list_pools\"} 3\n"),
        "{text}"
    );
    // A web page of another origin may not read them.
    let mut s = TcpStream::connect(&addr).unwrap();
    write!(
        s,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nOrigin: http://evil.example\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let raw = read_until_closed(&mut s).unwrap();
    assert!(raw.starts_with("HTTP/1.1 403"), "{raw}");
    // Every sample line is `name{labels} value` or `name value`.
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let value = line.rsplit_once(' ').map(|(_, v)| v).unwrap_or_default();
        assert!(value.parse::<f64>().is_ok(), "{line:?}");
    }
    stop(child);

    // Production: /health always, /metrics only with --metrics.
    let dir = tempfile::tempdir().unwrap();
    let keys = private_keys_file(dir.path(), "AKIDADMIN admin-secret\n");
    let keys = keys.to_str().unwrap();
    let (child, addr) = serve(&["--memory", "--profile", "production", "--access-keys", keys]);
    assert_eq!(get(&addr, "/health").0, 200);
    assert_eq!(get_text(&addr, "/metrics").0, 404);
    stop(child);
    let (child, addr) = serve(&[
        "--memory",
        "--profile",
        "production",
        "--access-keys",
        keys,
        "--metrics",
    ]);
    let (status, text) = get_text(&addr, "/metrics");
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("cognate_requests_total"), "{text}");
    stop(child);
}

#[test]
fn trigger_invocations_are_counted() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let pre = cognate::FunctionDef::new(
        "pre",
        cognate::FunctionTarget::in_process(|mut event: serde_json::Value| async move {
            event["response"]["autoConfirmUser"] = true.into();
            Ok(event)
        }),
    );
    let server = runtime
        .block_on(cognate::start(cognate::ServeOptions {
            port: 0,
            functions: vec![pre],
            ..Default::default()
        }))
        .unwrap();
    let addr = server.addr().to_string();
    let arn = |name: &str| format!("arn:aws:lambda:us-east-1:123456789012:function:{name}");
    for (function, expected) in [("pre", 200), ("missing", 400)] {
        let (_, pool) = call(
            &addr,
            "CreateUserPool",
            &format!(
                r#"{{"PoolName": "{function}", "LambdaConfig": {{"PreSignUp": "{}"}}}}"#,
                arn(function)
            ),
        );
        let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
        let (_, client) = call(
            &addr,
            "CreateUserPoolClient",
            &format!(r#"{{"UserPoolId": "{pool_id}", "ClientName": "c"}}"#),
        );
        let client_id = client["UserPoolClient"]["ClientId"].as_str().unwrap().to_owned();
        let (status, out) = call(
            &addr,
            "SignUp",
            &format!(r#"{{"ClientId": "{client_id}", "Username": "ann", "Password": "Passw0rd!"}}"#),
        );
        assert_eq!(status, expected, "{function}: {out}");
    }
    let (status, text) = get_text(&addr, "/metrics");
    assert_eq!(status, 200, "{text}");
    assert!(
        text.contains("cognate_trigger_invocations_total{function=\"pre\",outcome=\"success\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("cognate_trigger_invocations_total{function=\"missing\",outcome=\"unexpected\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("cognate_trigger_duration_seconds_count{function=\"pre\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("cognate_requests_total{operation=\"SignUp\",status=\"200\"} 1\n"),
        "{text}"
    );
    runtime.block_on(server.shutdown());
}
