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

/// An access key that signs admin calls with a real AWS Signature Version 4 (as the AWS SDKs
/// do: a fresh signature per request), for Cognate's production profile.
pub struct Signer {
    pub key_id: String,
    pub secret: String,
    pub region: String,
}

/// `YYYYMMDDTHHMMSSZ` of a Unix time (UTC).
fn amz_date(unix: u64) -> String {
    let (days, secs) = (unix / 86_400, unix % 86_400);
    let (year, month, day) = cognate_crypto::calendar::civil_from_days(days as i64);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

impl Signer {
    /// The `Authorization` and `x-amz-date` headers of a `POST /` with these headers and body,
    /// signed for service `cognito-idp` at Unix time `now`.
    pub fn sign(&self, host: &str, target: &str, body: &[u8], now: u64) -> (String, String) {
        use cognate_crypto::{hex, hmac_sha256, sha256};
        let date_time = amz_date(now);
        let date = &date_time[..8];
        let signed_headers = "content-type;host;x-amz-date;x-amz-target";
        let canonical = format!(
            "POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:{host}\nx-amz-date:{date_time}\n\
             x-amz-target:{target}\n\n{signed_headers}\n{}",
            hex(&sha256(body))
        );
        let scope = format!("{date}/{}/cognito-idp/aws4_request", self.region);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{date_time}\n{scope}\n{}",
            hex(&sha256(canonical.as_bytes()))
        );
        let k_date = hmac_sha256(format!("AWS4{}", self.secret).as_bytes(), &[date.as_bytes()]);
        let k_region = hmac_sha256(&k_date, &[self.region.as_bytes()]);
        let k_service = hmac_sha256(&k_region, &[b"cognito-idp".as_slice()]);
        let k_signing = hmac_sha256(&k_service, &[b"aws4_request".as_slice()]);
        let signature = hex(&hmac_sha256(&k_signing, &[to_sign.as_bytes()]));
        (
            format!(
                "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
                self.key_id
            ),
            date_time,
        )
    }
}

pub struct Client {
    addr: SocketAddr,
    host: String,
    sender: Option<http1::SendRequest<Full<Bytes>>>,
    /// Signs admin calls for real when set (else they carry [`FAKE_SIGV4`]).
    signer: Option<std::sync::Arc<Signer>>,
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
            signer: None,
            srp: None,
        }
    }

    /// A client whose admin calls `signer` signs, if given.
    pub fn signed(addr: SocketAddr, signer: Option<std::sync::Arc<Signer>>) -> Self {
        Self {
            signer,
            ..Self::new(addr)
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

    /// Sends one request over this client's keep-alive connection (reconnecting once when the
    /// server closed it while idle) and reads the whole answer. `what` names the request in errors.
    async fn send(
        &mut self,
        method: hyper::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Bytes,
        what: &str,
    ) -> anyhow::Result<Response> {
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
            let mut req = hyper::Request::builder()
                .method(method.clone())
                .uri(path)
                .header("host", &self.host);
            for (k, v) in headers {
                req = req.header(*k, *v);
            }
            let req = req.body(Full::new(body.clone()))?;
            let sender = self.sender.as_mut().context("no connection")?;
            let resp = match sender.send_request(req).await {
                Ok(r) => r,
                Err(e) => {
                    self.sender = None;
                    // A keep-alive connection the server closed while we were idle: retry once.
                    if reused && attempt == 1 {
                        continue;
                    }
                    bail!("{what}: {e}");
                }
            };
            let status = resp.status().as_u16();
            let close = resp
                .headers()
                .get("connection")
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close"))
                || resp.version() == hyper::Version::HTTP_10;
            let (parts, body) = resp.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| anyhow!("{what}: reading the body: {e}"))?
                .to_bytes();
            if close {
                self.sender = None;
            }
            return Ok(Response {
                status,
                headers: parts.headers,
                body,
            });
        }
    }

    /// A plain HTTP request (the OAuth endpoints and hosted pages): any status is `Ok`.
    pub async fn http(
        &mut self,
        method: hyper::Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> anyhow::Result<Response> {
        let what = format!("{method} {}", path.split('?').next().unwrap_or(path));
        self.send(method, path, headers, Bytes::copy_from_slice(body), &what)
            .await
    }

    /// Calls `AWSCognitoIdentityProviderService.{op}`; `Ok` holds the parsed response of a 2xx.
    pub async fn call(&mut self, op: &str, body: &Value, admin: bool) -> anyhow::Result<Value> {
        let payload = Bytes::from(serde_json::to_vec(body)?);
        let target = format!("AWSCognitoIdentityProviderService.{op}");
        let mut headers = vec![
            ("content-type", "application/x-amz-json-1.1".to_owned()),
            ("x-amz-target", target.clone()),
        ];
        match (&self.signer, admin) {
            (Some(signer), true) => {
                #[allow(clippy::disallowed_methods)] // a client of a real server, on real time
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs());
                let (authorization, date) = signer.sign(&self.host, &target, &payload, now);
                headers.push(("authorization", authorization));
                headers.push(("x-amz-date", date));
            }
            (None, true) => {
                headers.push(("authorization", FAKE_SIGV4.to_owned()));
                headers.push(("x-amz-date", "20250101T000000Z".to_owned()));
            }
            (_, false) => {}
        }
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let resp = self.send(hyper::Method::POST, "/", &headers, payload, op).await?;
        let (status, bytes) = (resp.status, resp.body);
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
        Ok(value)
    }
}

/// A whole HTTP answer.
pub struct Response {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Response {
    /// The `Location` header.
    pub fn location(&self) -> Option<&str> {
        self.headers.get("location").and_then(|v| v.to_str().ok())
    }

    /// The `name=value` pairs of the `Set-Cookie` headers (attributes dropped).
    pub fn cookies(&self) -> Vec<(String, String)> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next()?.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect()
    }

    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amz_dates() {
        assert_eq!(amz_date(0), "19700101T000000Z");
        assert_eq!(amz_date(1_440_938_160), "20150830T123600Z");
        assert_eq!(amz_date(951_782_400), "20000229T000000Z");
        assert_eq!(amz_date(1_798_761_599), "20261231T235959Z");
    }
}
