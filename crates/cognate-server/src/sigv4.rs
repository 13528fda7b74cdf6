//! AWS Signature Version 4 verification (`Authorization: AWS4-HMAC-SHA256 …`), so the
//! production profile answers signed operations only for holders of a configured access key,
//! with AWS's own error codes and messages. The expected signature is recomputed from the
//! request as received (canonical request, credential scope, HMAC-SHA256 key chain) and compared
//! in constant time; the tests check it against the AWS SDK's and the AWS CLI's signatures.
use crate::access_keys::{AccessKey, AccessKeys};
use axum::http::{HeaderMap, StatusCode};
use cognate_crypto::calendar::{civil_from_days, days_from_civil};
use cognate_crypto::{hex, hmac_sha256};
use std::fmt::Write;
use std::sync::Arc;

/// How far `X-Amz-Date` may be from the server's clock, as on AWS.
const MAX_SKEW_SECS: i64 = 5 * 60;
const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Why a request is refused: AWS's error code, message and HTTP status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub code: &'static str,
    pub message: String,
    pub status: StatusCode,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: StatusCode::BAD_REQUEST,
        }
    }

    fn mismatch() -> Self {
        Self::new(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided. Check your AWS \
             Secret Access Key and signing method. Consult the service documentation for details.",
        )
    }

    /// AWS's wording for an IAM denial, with the access key in place of the IAM user.
    pub fn access_denied(key_id: &str, action: &str) -> Self {
        Self::new(
            "AccessDeniedException",
            format!("User: {key_id} is not authorized to perform: {action}"),
        )
    }
}

/// What the signature covers.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub query: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// What the server expects of a signature.
pub struct Expectation<'a> {
    pub region: &'a str,
    /// `cognito-idp` or `kms`.
    pub service: &'a str,
    /// The server's clock, seconds since the Unix epoch.
    pub now_secs: i64,
}

/// Checks the request's signature; returns the key that signed it.
pub fn verify(req: &SignedRequest, expect: &Expectation, keys: &AccessKeys) -> Result<Arc<AccessKey>, Refusal> {
    let Some(auth) = req.headers.get("authorization") else {
        let mut r = Refusal::new("MissingAuthenticationTokenException", "Missing Authentication Token");
        r.status = StatusCode::FORBIDDEN;
        return Err(r);
    };
    let auth = auth
        .to_str()
        .map_err(|_| Refusal::new("IncompleteSignatureException", "Authorization header is not ASCII."))?;
    let parsed = parse_authorization(auth, req.headers)?;
    let date = header(req.headers, "x-amz-date").unwrap_or_default();

    // The credential scope: DATE/REGION/SERVICE/aws4_request, matching this server.
    let scope: Vec<&str> = parsed.credential.split('/').collect();
    let [key_id, scope_date, region, service, terminator] = scope[..] else {
        return Err(Refusal::new(
            "IncompleteSignatureException",
            format!(
                "Credential should be scoped to a valid region. Authorization header requires 'Credential' \
                 parameter of the form ACCESS_KEY/DATE/REGION/SERVICE/aws4_request. Authorization={auth}"
            ),
        ));
    };
    if terminator != "aws4_request" {
        return Err(Refusal::new(
            "InvalidSignatureException",
            format!("Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'."),
        ));
    }
    if service != expect.service {
        return Err(Refusal::new(
            "InvalidSignatureException",
            format!("Credential should be scoped to correct service: '{}'. ", expect.service),
        ));
    }
    if region != expect.region {
        return Err(Refusal::new(
            "InvalidSignatureException",
            format!("Credential should be scoped to a valid region, not '{region}'. "),
        ));
    }
    let Some(signed_at) = parse_amz_date(date) else {
        return Err(Refusal::new(
            "IncompleteSignatureException",
            format!("Date must be in ISO-8601 'basic format'. Got '{date}'. See http://en.wikipedia.org/wiki/ISO_8601"),
        ));
    };
    if !date.starts_with(scope_date) || scope_date.len() != 8 {
        return Err(Refusal::new(
            "InvalidSignatureException",
            format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: \
                 '{scope_date}' != '{}', from '{date}'.",
                &date[..8]
            ),
        ));
    }
    let now = expect.now_secs;
    if signed_at < now - MAX_SKEW_SECS {
        return Err(Refusal::new(
            "InvalidSignatureException",
            format!(
                "Signature expired: {date} is now earlier than {} ({} - 5 min.)",
                amz_date(now - MAX_SKEW_SECS),
                amz_date(now)
            ),
        ));
    }
    if signed_at > now + MAX_SKEW_SECS {
        return Err(Refusal::new(
            "InvalidSignatureException",
            format!(
                "Signature not yet current: {date} is still later than {} ({} + 5 min.)",
                amz_date(now + MAX_SKEW_SECS),
                amz_date(now)
            ),
        ));
    }
    let Some(key) = keys.get(key_id) else {
        return Err(Refusal::new(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ));
    };

    // The body must be the one that was signed, whatever x-amz-content-sha256 claims.
    let payload_hash = hex(&cognate_crypto::sha256(req.body));
    if let Some(claimed) = header(req.headers, "x-amz-content-sha256")
        && claimed != payload_hash
    {
        return Err(Refusal::mismatch());
    }
    let canonical = canonical_request(req, &parsed.signed_headers, &payload_hash);
    let credential_scope = format!("{scope_date}/{region}/{service}/aws4_request");
    let string_to_sign = format!(
        "{ALGORITHM}\n{date}\n{credential_scope}\n{}",
        hex(&cognate_crypto::sha256(canonical.as_bytes()))
    );
    let signing_key = key.signing_key(scope_date, region, service);
    let expected = hex(&hmac_sha256(&signing_key, &[string_to_sign.as_bytes()]));
    if cognate_crypto::ct_eq(expected.as_bytes(), parsed.signature.to_ascii_lowercase().as_bytes()) {
        Ok(key)
    } else {
        Err(Refusal::mismatch())
    }
}

struct Authorization<'a> {
    credential: &'a str,
    signed_headers: Vec<&'a str>,
    signature: &'a str,
}

/// `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`; what is missing is named as
/// AWS names it.
fn parse_authorization<'a>(auth: &'a str, headers: &HeaderMap) -> Result<Authorization<'a>, Refusal> {
    let rest = auth
        .strip_prefix(ALGORITHM)
        .filter(|r| r.starts_with(' '))
        .unwrap_or("");
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        match part.trim().split_once('=') {
            Some(("Credential", v)) => credential = Some(v),
            Some(("SignedHeaders", v)) => signed = Some(v),
            Some(("Signature", v)) => signature = Some(v),
            _ => {}
        }
    }
    let mut missing = Vec::new();
    if credential.is_none() {
        missing.push("Authorization header requires 'Credential' parameter.");
    }
    if signature.is_none() {
        missing.push("Authorization header requires 'Signature' parameter.");
    }
    if signed.is_none() {
        missing.push("Authorization header requires 'SignedHeaders' parameter.");
    }
    if header(headers, "x-amz-date").is_none() {
        missing.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
    }
    if !missing.is_empty() {
        return Err(Refusal::new(
            "IncompleteSignatureException",
            format!("{} Authorization={auth}", missing.join(" ")),
        ));
    }
    let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature) else {
        unreachable!("checked above")
    };
    let signed_headers: Vec<&str> = signed.split(';').collect();
    if !signed_headers.contains(&"host") {
        return Err(Refusal::new(
            "InvalidSignatureException",
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    Ok(Authorization {
        credential,
        signed_headers,
        signature,
    })
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The canonical request of SigV4 (non-S3 rules: the path is URI-encoded once more).
fn canonical_request(req: &SignedRequest, signed_headers: &[&str], payload_hash: &str) -> String {
    let path = if req.path.is_empty() { "/" } else { req.path };
    let canonical_path = path.split('/').map(uri_encode).collect::<Vec<_>>().join("/");
    let mut out = format!("{}\n{canonical_path}\n{}\n", req.method, canonical_query(req.query));
    for name in signed_headers {
        let values: Vec<String> = req
            .headers
            .get_all(*name)
            .iter()
            .map(|v| {
                String::from_utf8_lossy(v.as_bytes())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .collect();
        let _ = writeln!(out, "{name}:{}", values.join(","));
    }
    let _ = write!(out, "\n{}\n{payload_hash}", signed_headers.join(";"));
    out
}

fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (uri_encode(&percent_decode(k)), uri_encode(&percent_decode(v)))
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// RFC 3986 encoding of everything but the unreserved characters, as SigV4 requires.
fn uri_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `YYYYMMDDTHHMMSSZ` → seconds since the Unix epoch.
fn parse_amz_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = &s[r];
        t.bytes().all(|c| c.is_ascii_digit()).then(|| t.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + se)
}

/// Seconds since the Unix epoch → `YYYYMMDDTHHMMSSZ`.
fn amz_date(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        for s in [
            "19700101T000000Z",
            "20150830T123600Z",
            "20240229T235959Z",
            "21000301T010203Z",
        ] {
            assert_eq!(amz_date(parse_amz_date(s).unwrap()), s);
        }
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(1_440_938_160));
        assert_eq!(parse_amz_date("2015-08-30T12:36:00Z"), None);
    }

    /// AWS's documented example (IAM ListUsers, "Create a signed AWS API request" in the IAM
    /// user guide / the SigV4 test suite's key).
    #[test]
    fn matches_the_documented_example() {
        let mut headers = HeaderMap::new();
        headers.insert("host", "iam.amazonaws.com".parse().unwrap());
        headers.insert(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8".parse().unwrap(),
        );
        headers.insert("x-amz-date", "20150830T123600Z".parse().unwrap());
        let req = SignedRequest {
            method: "GET",
            path: "/",
            query: "Version=2010-05-08&Action=ListUsers",
            headers: &headers,
            body: b"",
        };
        let payload = hex(&cognate_crypto::sha256(b""));
        let canonical = canonical_request(&req, &["content-type", "host", "x-amz-date"], &payload);
        assert_eq!(
            hex(&cognate_crypto::sha256(canonical.as_bytes())),
            "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59"
        );
    }
}
