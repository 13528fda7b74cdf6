//! Remote functions: the Lambda `Invoke` HTTP API, optionally signed with SigV4.

use std::time::{Duration, SystemTime};

use cognate_crypto::{hex, hmac_sha256, sha256};
use serde_json::Value;

use crate::error::{FunctionError, InvokeError, parse_output};
use crate::time::UtcTime;
use crate::{AwsCredentials, RemoteSpec};

pub(crate) struct RemoteFunction {
    spec: RemoteSpec,
    region: String,
    http: reqwest::Client,
}

impl RemoteFunction {
    pub fn new(spec: RemoteSpec, region: String, http: reqwest::Client) -> Self {
        Self { spec, region, http }
    }

    /// `POST {endpoint}/2015-03-31/functions/{name}/invocations`, as `RequestResponse`, or as
    /// `Event` when `event` is set (then the result is `null`).
    pub async fn invoke(&self, payload: &Value, timeout: Duration, event: bool) -> Result<Value, InvokeError> {
        let body = serde_json::to_vec(payload).unwrap_or_default();
        let path = format!(
            "/2015-03-31/functions/{}/invocations",
            uri_encode(&self.spec.function_name)
        );
        let url = format!("{}{path}", self.spec.endpoint.trim_end_matches('/'));
        let invocation_type = if event { "Event" } else { "RequestResponse" };
        let mut request = self
            .http
            .post(&url)
            .timeout(timeout)
            .header("content-type", "application/json")
            .header("x-amz-invocation-type", invocation_type);
        if let Some(credentials) = &self.spec.credentials {
            let parsed = reqwest::Url::parse(&url).map_err(|e| InvokeError::Unavailable {
                reason: "InvalidEndpoint".to_owned(),
                detail: format!("{url}: {e}"),
                retryable: false,
            })?;
            let host = match (parsed.host_str(), parsed.port()) {
                (Some(h), Some(p)) => format!("{h}:{p}"),
                (Some(h), None) => h.to_owned(),
                (None, _) => String::new(),
            };
            let signed = sign(&SigningRequest {
                method: "POST",
                // Lambda, like every service but S3, signs the encoded path encoded once more.
                canonical_uri: &uri_encode_path(parsed.path()),
                query: "",
                headers: vec![
                    ("content-type".to_owned(), "application/json".to_owned()),
                    ("host".to_owned(), host),
                    ("x-amz-invocation-type".to_owned(), invocation_type.to_owned()),
                ],
                payload: &body,
                service: "lambda",
                region: &self.region,
                credentials,
                time: crate::time::wall_clock(),
            });
            for (name, value) in signed {
                request = request.header(name, value);
            }
        }
        let response = request
            .body(body)
            .send()
            .await
            .map_err(|e| transport_error(e, timeout))?;
        let status = response.status();
        let function_error = response
            .headers()
            .get("x-amz-function-error")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let error_type_header = response
            .headers()
            .get("x-amzn-errortype")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(':').next().unwrap_or(v).to_owned());
        let bytes = response.bytes().await.map_err(|e| transport_error(e, timeout))?;
        if status.is_success() {
            if let Some(kind) = function_error {
                return Err(InvokeError::Function(FunctionError::from_body(&bytes, &kind)));
            }
            if event {
                return Ok(Value::Null);
            }
            return parse_output(&bytes);
        }
        Err(service_error(status.as_u16(), error_type_header, &bytes))
    }
}

fn transport_error(e: reqwest::Error, timeout: Duration) -> InvokeError {
    if e.is_timeout() {
        // The caller's timeout; the client has no other.
        return InvokeError::Timeout(timeout);
    }
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    InvokeError::Unavailable {
        reason: "Unable to execute HTTP request".to_owned(),
        detail,
        retryable: true,
    }
}

/// An error reply of the Invoke API: the error code from `x-amzn-ErrorType` or the body's
/// `__type`/`Type`/`code`, and its message.
fn service_error(status: u16, header: Option<String>, body: &[u8]) -> InvokeError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let field = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| json.get(*k).and_then(Value::as_str))
            .map(str::to_owned)
    };
    let code = header
        .or_else(|| field(&["__type", "Type", "code"]))
        .map(|c| c.rsplit('#').next().unwrap_or(&c).to_owned())
        .filter(|c| !c.is_empty());
    let message =
        field(&["message", "Message", "errorMessage"]).unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let reason = code.unwrap_or_else(|| format!("HTTP {status}"));
    InvokeError::Unavailable {
        retryable: status == 429 || reason == "TooManyRequestsException",
        detail: format!("HTTP {status}: {message}"),
        reason,
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

fn uri_encode_path(path: &str) -> String {
    path.split('/').map(uri_encode).collect::<Vec<_>>().join("/")
}

pub(crate) struct SigningRequest<'a> {
    pub method: &'a str,
    /// Already in canonical form.
    pub canonical_uri: &'a str,
    /// Already in canonical form (sorted, encoded).
    pub query: &'a str,
    /// Headers to sign; names lower case.
    pub headers: Vec<(String, String)>,
    pub payload: &'a [u8],
    pub service: &'a str,
    pub region: &'a str,
    pub credentials: &'a AwsCredentials,
    pub time: SystemTime,
}

/// SigV4: returns the headers to add (`x-amz-date`, `x-amz-security-token`, `authorization`).
pub(crate) fn sign(request: &SigningRequest<'_>) -> Vec<(String, String)> {
    let time = UtcTime::from_system(request.time);
    let amz_date = time.amz_date();
    let date = time.date_stamp();
    let mut added = vec![("x-amz-date".to_owned(), amz_date.clone())];
    if let Some(token) = &request.credentials.session_token {
        added.push(("x-amz-security-token".to_owned(), token.clone()));
    }
    let mut headers: Vec<(String, String)> = request
        .headers
        .iter()
        .chain(&added)
        .map(|(k, v)| {
            (
                k.to_ascii_lowercase(),
                v.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect();
    headers.sort();
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let signed_headers = headers.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>().join(";");
    let canonical_request = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        request.method,
        request.canonical_uri,
        request.query,
        hex(&sha256(request.payload)),
    );
    let scope = format!("{date}/{}/{}/aws4_request", request.region, request.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&sha256(canonical_request.as_bytes()))
    );
    let mac = |key: &[u8], data: &str| hmac_sha256(key, &[data.as_bytes()]);
    let secret = format!("AWS4{}", request.credentials.secret_access_key);
    let key = mac(secret.as_bytes(), &date);
    let key = mac(&key, request.region);
    let key = mac(&key, request.service);
    let key = mac(&key, "aws4_request");
    let signature = hex(&mac(&key, &string_to_sign));
    added.push((
        "authorization".to_owned(),
        format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
            request.credentials.access_key_id
        ),
    ));
    added
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example_credentials() -> AwsCredentials {
        AwsCredentials {
            access_key_id: "AKIDEXAMPLE".to_owned(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".to_owned(),
            session_token: None,
        }
    }

    #[test]
    fn signs_like_the_sigv4_test_suite() {
        // aws-signing-test-suite v4/post-vanilla
        let credentials = example_credentials();
        let headers = sign(&SigningRequest {
            method: "POST",
            canonical_uri: "/",
            query: "",
            headers: vec![("host".to_owned(), "example.amazonaws.com".to_owned())],
            payload: b"",
            service: "service",
            region: "us-east-1",
            credentials: &credentials,
            time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160),
        });
        assert_eq!(headers[0], ("x-amz-date".to_owned(), "20150830T123600Z".to_owned()));
        assert_eq!(
            headers[1].1,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
        );
    }

    #[test]
    fn encodes_paths() {
        assert_eq!(uri_encode("arn:aws:lambda:f"), "arn%3Aaws%3Alambda%3Af");
        assert_eq!(
            uri_encode_path("/2015-03-31/functions/a%3Ab/invocations"),
            "/2015-03-31/functions/a%253Ab/invocations"
        );
    }

    #[test]
    fn maps_service_errors() {
        let e = service_error(
            403,
            None,
            br#"{"__type":"com.amazon#AccessDeniedException","message":"no"}"#,
        );
        assert_eq!(e.message(), "AccessDeniedException");
        assert!(!e.is_retryable());
        let e = service_error(429, Some("TooManyRequestsException".to_owned()), b"{}");
        assert!(e.is_retryable());
        assert_eq!(service_error(502, None, b"").message(), "HTTP 502");
    }
}
