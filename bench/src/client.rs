//! A lean Cognito JSON API client: one keep-alive HTTP/1.1 connection per client (one per
//! simulated user), reconnecting when the server closes it.
use anyhow::{Context, anyhow, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use serde_json::Value;
use std::net::SocketAddr;
use tokio::net::TcpStream;

/// Admin calls carry a SigV4-shaped Authorization header: servers that route by the
/// credential scope (moto) need it, the others accept any credentials.
const FAKE_SIGV4: &str = "AWS4-HMAC-SHA256 Credential=AKIDBENCHMARK/20250101/us-east-1/cognito-idp/aws4_request, \
SignedHeaders=content-type;host;x-amz-date;x-amz-target, \
Signature=0000000000000000000000000000000000000000000000000000000000000000";

pub struct Client {
    addr: SocketAddr,
    host: String,
    sender: Option<http1::SendRequest<Full<Bytes>>>,
    /// This client's SRP secret, once made.
    pub srp: Option<std::sync::Arc<crate::srp::ClientSecret>>,
}

/// An error the server answered with (HTTP status ≥ 300).
#[derive(Debug)]
pub struct ApiError {
    pub status: u16,
    pub kind: String,
    pub message: String,
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {} {}: {}", self.status, self.kind, self.message)
    }
}

impl std::error::Error for ApiError {}

impl Client {
    pub fn new(addr: SocketAddr) -> Self {
        Self {
            addr,
            host: addr.to_string(),
            sender: None,
            srp: None,
        }
    }

    async fn connect(&mut self) -> anyhow::Result<()> {
        let stream = TcpStream::connect(self.addr)
            .await
            .with_context(|| format!("connecting to {}", self.addr))?;
        stream.set_nodelay(true)?;
        let (sender, conn) = http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        self.sender = Some(sender);
        Ok(())
    }

    /// Calls `AWSCognitoIdentityProviderService.{op}`; `Ok` holds the parsed response of a 2xx.
    pub async fn call(&mut self, op: &str, body: &Value, admin: bool) -> anyhow::Result<Value> {
        let payload = Bytes::from(serde_json::to_vec(body)?);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let alive = match &mut self.sender {
                Some(s) => s.ready().await.is_ok(),
                None => false,
            };
            if !alive {
                self.connect().await?;
            }
            let reused = alive;
            let mut req = hyper::Request::post("/")
                .header("host", &self.host)
                .header("content-type", "application/x-amz-json-1.1")
                .header("x-amz-target", format!("AWSCognitoIdentityProviderService.{op}"));
            if admin {
                req = req
                    .header("authorization", FAKE_SIGV4)
                    .header("x-amz-date", "20250101T000000Z");
            }
            let req = req.body(Full::new(payload.clone()))?;
            let sender = self.sender.as_mut().context("no connection")?;
            let resp = match sender.send_request(req).await {
                Ok(r) => r,
                Err(e) => {
                    self.sender = None;
                    // A keep-alive connection the server closed while we were idle: retry once.
                    if reused && attempt == 1 {
                        continue;
                    }
                    bail!("{op}: {e}");
                }
            };
            let status = resp.status().as_u16();
            let close = resp
                .headers()
                .get("connection")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"))
                || resp.version() == hyper::Version::HTTP_10;
            let bytes = resp
                .into_body()
                .collect()
                .await
                .map_err(|e| anyhow!("{op}: reading the body: {e}"))?
                .to_bytes();
            if close {
                self.sender = None;
            }
            let value: Value = if bytes.is_empty() {
                Value::Null
            } else {
                serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
            };
            if status >= 300 {
                let kind = value
                    .get("__type")
                    .and_then(Value::as_str)
                    .or_else(|| value.get("code").and_then(Value::as_str))
                    .unwrap_or("")
                    .rsplit('#')
                    .next()
                    .unwrap_or("")
                    .to_owned();
                let message = value
                    .get("message")
                    .or_else(|| value.get("Message"))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .unwrap_or_else(|| value.to_string().chars().take(200).collect());
                return Err(ApiError { status, kind, message }.into());
            }
            return Ok(value);
        }
    }
}
