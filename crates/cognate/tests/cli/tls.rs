//! HTTPS as users run it: `--tls-dev` (a development CA kept in the data folder, trusted by
//! clients that trust nothing else), AWS's `aws-jwt-verify` fetching the JWKS over https itself,
//! `--public-url` as the tokens' issuer, and `--tls-cert`/`--tls-key` with their start errors.
use crate::BIN;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

pub(crate) struct Server {
    child: Child,
    /// `127.0.0.1:PORT`
    pub(crate) addr: String,
    /// The lines printed after `listening on …` at start (the development CA's line).
    pub(crate) banner: Vec<String>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `cognate serve --port 0 ARGS` and reads its start lines: `listening on https://ADDR`
/// and, with `--tls-dev`, the CA line.
pub(crate) fn serve_https(args: &[&str]) -> Server {
    let mut child = Command::new(BIN)
        .arg("serve")
        .args(["--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cognate starts");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).expect("a readiness line");
    let addr = line
        .trim()
        .strip_prefix("listening on https://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    let mut banner = Vec::new();
    if args.contains(&"--tls-dev") {
        let mut ca = String::new();
        out.read_line(&mut ca).expect("the CA line");
        banner.push(ca.trim().to_owned());
    }
    Server { child, addr, banner }
}

/// A TLS client that trusts only the certificates in `ca_pem`.
pub(crate) fn client_trusting(ca_pem: &[u8]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// One HTTP/1.1 request over TLS to `addr`, verifying the server as `name`; returns (status,
/// JSON body), or the TLS error.
fn https(
    client: &Arc<rustls::ClientConfig>,
    addr: &str,
    name: &str,
    head: &str,
    body: &str,
) -> Result<(u16, Value), std::io::Error> {
    let tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let conn = rustls::ClientConnection::new(client.clone(), ServerName::try_from(name.to_owned()).unwrap()).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    // One write: a server that answers early (431) must not find the client still sending.
    let request = format!(
        "{head}\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes())?;
    tls.flush()?;
    let mut raw = Vec::new();
    match tls.read_to_end(&mut raw) {
        Ok(_) => {}
        // The server closes without close_notify after `Connection: close`; what came is whole.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !raw.is_empty() => {}
        Err(e) => return Err(e),
    }
    let raw = String::from_utf8_lossy(&raw);
    let status: u16 = raw.split_whitespace().nth(1).unwrap().parse().unwrap();
    let json = raw.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("{}");
    Ok((status, serde_json::from_str(json).unwrap_or(Value::Null)))
}

fn https_get(client: &Arc<rustls::ClientConfig>, addr: &str, path: &str) -> (u16, Value) {
    https(client, addr, "localhost", &format!("GET {path} HTTP/1.1"), "").unwrap()
}

pub(crate) fn https_call(client: &Arc<rustls::ClientConfig>, addr: &str, op: &str, body: &Value) -> (u16, Value) {
    let head = format!(
        "POST / HTTP/1.1\r\nX-Amz-Target: AWSCognitoIdentityProviderService.{op}\r\n\
         Content-Type: application/x-amz-json-1.1"
    );
    let (status, out) = https(client, addr, "127.0.0.1", &head, &body.to_string()).unwrap();
    assert_eq!(status, 200, "{op}: {out}");
    (status, out)
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn tls_dev_serves_https_to_clients_trusting_only_its_ca_and_keeps_the_ca() {
    let data = tempfile::tempdir().unwrap();
    let data_arg = data.path().to_str().unwrap();
    let server = serve_https(&["--data", data_arg, "--tls-dev"]);
    let tls_dir = data.path().join("tls");
    let ca_file = tls_dir.join("ca.pem");
    assert_eq!(
        server.banner,
        [format!(
            "development CA: {0} (trust it: NODE_EXTRA_CA_CERTS={0}, curl --cacert {0}; see README, HTTPS)",
            ca_file.display()
        )]
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&tls_dir.join("ca-key.pem")), 0o600);
        assert_eq!(mode(&tls_dir.join("localhost-key.pem")), 0o600);
        assert_eq!(mode(&tls_dir), 0o700);
    }
    let ca = std::fs::read(&ca_file).unwrap();
    let client = client_trusting(&ca);

    let (_, pool) = https_call(&client, &server.addr, "CreateUserPool", &json!({"PoolName": "tls"}));
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
    let (status, jwks) = https_get(&client, &server.addr, &format!("/{pool_id}/.well-known/jwks.json"));
    assert_eq!(status, 200, "{jwks}");
    assert_eq!(jwks["keys"][0]["kty"], "RSA", "{jwks}");

    // Plain HTTP on the HTTPS port is told what to use instead.
    let mut plain = TcpStream::connect(&server.addr).unwrap();
    plain.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    plain
        .write_all(format!("GET /health HTTP/1.1\r\nHost: {}\r\n\r\n", server.addr).as_bytes())
        .unwrap();
    let mut answer = String::new();
    plain.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert!(answer.contains("use https://"), "{answer}");

    // A client that trusts another CA refuses the server.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let stranger = client_trusting(other.cert.pem().as_bytes());
    let refused = https(&stranger, &server.addr, "localhost", "GET /health HTTP/1.1", "");
    assert!(refused.is_err(), "an unknown CA must be refused: {refused:?}");

    // A second start reuses the CA and its still-fresh server certificate, and keeps the data.
    let leaf = std::fs::read(tls_dir.join("localhost.pem")).unwrap();
    drop(server);
    let server = serve_https(&["--data", data_arg, "--tls-dev"]);
    assert_eq!(std::fs::read(&ca_file).unwrap(), ca, "the CA users trust is kept");
    assert_eq!(std::fs::read(tls_dir.join("localhost.pem")).unwrap(), leaf);
    let (status, jwks) = https_get(&client, &server.addr, &format!("/{pool_id}/.well-known/jwks.json"));
    assert_eq!(status, 200, "{jwks}");
}

pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A pool, a client and a confirmed user, signed in: (pool id, client id, ID token, access token).
fn signed_in(client: &Arc<rustls::ClientConfig>, addr: &str) -> (String, String, String, String) {
    let (_, pool) = https_call(client, addr, "CreateUserPool", &json!({"PoolName": "verify"}));
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
    let (_, app) = https_call(
        client,
        addr,
        "CreateUserPoolClient",
        &json!({"UserPoolId": pool_id, "ClientName": "api", "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
    );
    let client_id = app["UserPoolClient"]["ClientId"].as_str().unwrap().to_owned();
    https_call(
        client,
        addr,
        "AdminCreateUser",
        &json!({"UserPoolId": pool_id, "Username": "vera", "MessageAction": "SUPPRESS"}),
    );
    https_call(
        client,
        addr,
        "AdminSetUserPassword",
        &json!({"UserPoolId": pool_id, "Username": "vera", "Password": "Passw0rd!", "Permanent": true}),
    );
    let (_, auth) = https_call(
        client,
        addr,
        "InitiateAuth",
        &json!({"ClientId": client_id, "AuthFlow": "USER_PASSWORD_AUTH", "AuthParameters": {"USERNAME": "vera", "PASSWORD": "Passw0rd!"}}),
    );
    let result = &auth["AuthenticationResult"];
    (
        pool_id,
        client_id,
        result["IdToken"].as_str().unwrap().to_owned(),
        result["AccessToken"].as_str().unwrap().to_owned(),
    )
}

/// The issue's promise: aws-jwt-verify fetches JWKS over https only, and with TLS on it works
/// unchanged, the development CA trusted through NODE_EXTRA_CA_CERTS.
#[test]
fn aws_jwt_verify_fetches_the_jwks_over_https_trusting_the_dev_ca() {
    let node_dir = repo_root().join("tests/node");
    assert!(
        node_dir.join("node_modules/aws-jwt-verify").is_dir(),
        "aws-jwt-verify is not installed: run `npm ci --prefix tests/node`"
    );
    let data = tempfile::tempdir().unwrap();
    let server = serve_https(&["--data", data.path().to_str().unwrap(), "--tls-dev"]);
    let ca_file = data.path().join("tls/ca.pem");
    let client = client_trusting(&std::fs::read(&ca_file).unwrap());
    let (pool_id, client_id, id_token, access_token) = signed_in(&client, &server.addr);
    let issuer = format!("https://{}/{pool_id}", server.addr);
    let claims = |token: &str| -> Value {
        use base64::Engine;
        let payload = token.split('.').nth(1).unwrap();
        serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(claims(&id_token)["iss"], issuer.as_str());

    let verify = |extra_ca: Option<&Path>| {
        let mut cmd = Command::new("node");
        cmd.args(["verify-tokens.mjs", &issuer, &client_id, &id_token, &access_token])
            .current_dir(&node_dir)
            .env_remove("NODE_EXTRA_CA_CERTS")
            .env("NO_PROXY", "127.0.0.1,localhost")
            .stdin(Stdio::null());
        if let Some(ca) = extra_ca {
            cmd.env("NODE_EXTRA_CA_CERTS", ca);
        }
        cmd.output().expect("node runs")
    };
    let out = verify(Some(&ca_file));
    assert!(
        out.status.success(),
        "verify-tokens.mjs failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).expect("the script's JSON line");
    assert_eq!(result["id"], "vera");
    assert_eq!(result["access"], "vera");
    assert_eq!(result["idAsAccessRefused"], true);
    assert_eq!(result["accessAsIdRefused"], true);
    assert_eq!(result["tamperedRefused"], true);

    // Without the CA, Node refuses the server: the trust above came from ca.pem.
    let out = verify(None);
    assert!(
        !out.status.success(),
        "Node must not trust the development CA by itself"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("certificate") || stderr.contains("UNABLE_TO") || stderr.contains("self-signed"),
        "{stderr}"
    );
}

#[test]
fn public_url_is_the_issuer_of_tokens() {
    let data = tempfile::tempdir().unwrap();
    let server = serve_https(&[
        "--data",
        data.path().to_str().unwrap(),
        "--tls-dev",
        "--public-url",
        "https://Auth.Example.test/",
    ]);
    let client = client_trusting(&std::fs::read(data.path().join("tls/ca.pem")).unwrap());
    let (pool_id, _, id_token, access_token) = signed_in(&client, &server.addr);
    for token in [&id_token, &access_token] {
        use base64::Engine;
        let payload = token.split('.').nth(1).unwrap();
        let claims: Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(claims["iss"], format!("https://auth.example.test/{pool_id}"));
    }
    // The development certificate also names the public host (a client told to use it can).
    let leaf = std::fs::read(data.path().join("tls/localhost.pem")).unwrap();
    let leaf = String::from_utf8_lossy(&leaf);
    assert!(leaf.contains("BEGIN CERTIFICATE"));
    let (status, _) = https(&client, &server.addr, "auth.example.test", "GET /health HTTP/1.1", "").unwrap();
    assert_eq!(status, 200);
}

/// `cognate serve ARGS` that must fail at start: its stderr.
fn start_error(args: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("serve")
        .args(["--port", "0", "--memory"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("cognate runs");
    assert!(!out.status.success(), "{args:?} must not start");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn tls_cert_and_key_files_serve_https_and_bad_ones_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    // The user's own certificate (self-signed here; any chain the clients trust will do).
    let own = rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let cert = write("cert.pem", &own.cert.pem());
    let key = write("key.pem", &own.signing_key.serialize_pem());
    {
        let server = serve_https(&["--memory", "--tls-cert", &cert, "--tls-key", &key]);
        let client = client_trusting(own.cert.pem().as_bytes());
        let (_, pools) = https_call(&client, &server.addr, "ListUserPools", &json!({"MaxResults": 5}));
        assert_eq!(pools["UserPools"], json!([]));
    }

    let missing = dir.path().join("nowhere.pem");
    let err = start_error(&["--tls-cert", missing.to_str().unwrap(), "--tls-key", &key]);
    assert!(
        err.contains(&format!("reading the TLS certificate {}", missing.display())),
        "{err}"
    );
    // A folder where the key should be cannot be read.
    let err = start_error(&["--tls-cert", &cert, "--tls-key", dir.path().to_str().unwrap()]);
    assert!(
        err.contains(&format!("reading the TLS key {}", dir.path().display())),
        "{err}"
    );
    let garbage = write("garbage.pem", "not a certificate\n");
    let err = start_error(&["--tls-cert", &garbage, "--tls-key", &key]);
    assert!(
        err.contains(&format!("the TLS certificate {garbage} holds no")),
        "{err}"
    );
    let err = start_error(&["--tls-cert", &cert, "--tls-key", &garbage]);
    assert!(
        err.contains(&format!("the TLS key {garbage} holds no PEM private key")),
        "{err}"
    );
    let other = rcgen::KeyPair::generate().unwrap();
    let other_key = write("other-key.pem", &other.serialize_pem());
    let err = start_error(&["--tls-cert", &cert, "--tls-key", &other_key]);
    assert!(
        err.contains(&format!(
            "the TLS key {other_key} does not belong to the certificate {cert}"
        )),
        "{err}"
    );
    // Both or neither.
    let err = start_error(&["--tls-cert", &cert]);
    assert!(err.contains("--tls-key"), "{err}");
}

#[test]
fn a_public_url_with_a_path_is_refused() {
    let err = start_error(&["--public-url", "https://auth.example.test/prefix"]);
    assert!(err.contains("--public-url"), "{err}");
    assert!(err.contains("scheme://host[:port]"), "{err}");
    let err = start_error(&["--public-url", "ftp://auth.example.test"]);
    assert!(err.contains("http or https"), "{err}");
}

/// The limits of plain HTTP hold over TLS, and a handshake that does not finish is cut off at
/// the request timeout.
#[test]
fn stalled_handshakes_are_closed_and_limits_hold_over_tls() {
    let data = tempfile::tempdir().unwrap();
    let server = serve_https(&[
        "--data",
        data.path().to_str().unwrap(),
        "--tls-dev",
        "--request-timeout",
        "1",
        "--max-header-bytes",
        "2048",
    ]);
    let closed_within = |mut s: TcpStream| {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let started = std::time::Instant::now();
        let mut buf = [0u8; 64];
        // End of stream (or a reset) once the server gives up on the handshake.
        let _ = s.read(&mut buf);
        started.elapsed()
    };
    // Silent after connecting.
    let silent = TcpStream::connect(&server.addr).unwrap();
    assert!(closed_within(silent) < Duration::from_secs(5));
    // The first byte of a handshake record, then nothing.
    let mut stalled = TcpStream::connect(&server.addr).unwrap();
    stalled.write_all(&[0x16, 0x03, 0x01]).unwrap();
    assert!(closed_within(stalled) < Duration::from_secs(5));

    let client = client_trusting(&std::fs::read(data.path().join("tls/ca.pem")).unwrap());
    let big = format!("GET /health HTTP/1.1\r\nX-Padding: {}", "a".repeat(4096));
    let (status, _) = https(&client, &server.addr, "localhost", &big, "").unwrap();
    assert_eq!(status, 431);
    let (status, _) = https_get(&client, &server.addr, "/health");
    assert_eq!(status, 200);
}

/// Trigger handlers Cognate runs reach it over https, trusting the development CA.
#[test]
fn handlers_call_back_over_https_trusting_the_dev_ca() {
    let app = tempfile::tempdir().unwrap();
    std::fs::write(
        app.path().join("serverless.yml"),
        r#"service: tls
provider:
  name: aws
  runtime: nodejs20.x
functions:
  preSignUp:
    handler: handler.preSignUp
    events:
      - cognitoUserPool:
          pool: TlsPool
          trigger: PreSignUp
resources:
  Resources:
    WebClient:
      Type: AWS::Cognito::UserPoolClient
      Properties:
        UserPoolId: !Ref CognitoUserPoolTlsPool
"#,
    )
    .unwrap();
    // The handler calls the Cognito API at the endpoint it was given, as an AWS SDK would.
    std::fs::write(
        app.path().join("handler.js"),
        r#"exports.preSignUp = async (event) => {
  const endpoint = process.env.AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER;
  if (!endpoint.startsWith('https://')) throw new Error(`endpoint ${endpoint}`);
  const res = await fetch(endpoint, {
    method: 'POST',
    headers: {
      'X-Amz-Target': 'AWSCognitoIdentityProviderService.ListUserPools',
      'Content-Type': 'application/x-amz-json-1.1',
    },
    body: JSON.stringify({ MaxResults: 5 }),
  }).catch((e) => { throw new Error(`fetch failed: ${e.cause ?? e}`); });
  const pools = await res.json();
  event.response.autoConfirmUser = pools.UserPools.length === 1;
  return event;
};
"#,
    )
    .unwrap();
    let data = app.path().join(".cognate");
    let server = serve_https(&[
        "--config",
        app.path().join("serverless.yml").to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
        "--tls-dev",
    ]);
    let client = client_trusting(&std::fs::read(data.join("tls/ca.pem")).unwrap());
    let (_, pools) = https_call(&client, &server.addr, "ListUserPools", &json!({"MaxResults": 5}));
    let pool_id = pools["UserPools"][0]["Id"].as_str().unwrap().to_owned();
    let (_, clients) = https_call(
        &client,
        &server.addr,
        "ListUserPoolClients",
        &json!({"UserPoolId": pool_id}),
    );
    let client_id = clients["UserPoolClients"][0]["ClientId"].as_str().unwrap().to_owned();
    let (_, out) = https_call(
        &client,
        &server.addr,
        "SignUp",
        &json!({"ClientId": client_id, "Username": "hal", "Password": "Passw0rd!x"}),
    );
    assert_eq!(out["UserConfirmed"], true, "{out}");
}
