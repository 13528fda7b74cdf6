//! SigV4 verification (`Authorization`, `X-Amz-Date`, `X-Amz-Content-Sha256`, one more header,
//! the query and the body) against a fixed access key and clock. No input may panic.
//!
//! Input: newline-separated `authorization`, `x-amz-date`, `x-amz-content-sha256` (empty: not
//! sent), `name:value` of one more header (empty: none), the query string, then the body (the
//! rest, newlines included).
#![no_main]
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use cognate_fuzz::access_keys::AccessKeys;
use cognate_fuzz::sigv4::{Expectation, SignedRequest, verify};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// 2026-01-01T00:00:00Z.
const NOW_SECS: i64 = 1_767_225_600;

fn keys() -> &'static AccessKeys {
    static KEYS: OnceLock<AccessKeys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("cognate-fuzz-sigv4-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("creating the fuzz folder");
        let path = dir.join("access-keys");
        std::fs::write(
            &path,
            "AKIDEXAMPLE wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY\nAKIDLIMITED secret2 us-east-1_EXAMPLE1\n",
        )
        .expect("writing the access keys");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
        }
        AccessKeys::open(&path).expect("reading the access keys")
    })
}

fn insert(headers: &mut HeaderMap, name: &str, value: &[u8]) {
    if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name.as_bytes()), HeaderValue::from_bytes(value)) {
        headers.append(n, v);
    }
}

fuzz_target!(init: { keys(); }, |data: &[u8]| {
    let mut parts = data.splitn(6, |b| *b == b'\n');
    let auth = parts.next().unwrap_or_default();
    let date = parts.next().unwrap_or_default();
    let sha = parts.next().unwrap_or_default();
    let extra = parts.next().unwrap_or_default();
    let query = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let Ok(query) = std::str::from_utf8(query) else { return };

    let mut headers = HeaderMap::new();
    insert(&mut headers, "host", b"127.0.0.1:9339");
    insert(&mut headers, "content-type", b"application/x-amz-json-1.1");
    insert(&mut headers, "x-amz-target", b"AWSCognitoIdentityProviderService.ListUserPools");
    insert(&mut headers, "authorization", auth);
    insert(&mut headers, "x-amz-date", date);
    if !sha.is_empty() {
        insert(&mut headers, "x-amz-content-sha256", sha);
    }
    if let Some(colon) = extra.iter().position(|b| *b == b':')
        && let Ok(name) = std::str::from_utf8(&extra[..colon])
    {
        insert(&mut headers, name, &extra[colon + 1..]);
    }
    let req = SignedRequest {
        method: "POST",
        path: "/",
        query,
        headers: &headers,
        body,
    };
    let expect = Expectation {
        region: "us-east-1",
        service: "cognito-idp",
        now_secs: NOW_SECS,
    };
    if let Ok(key) = verify(&req, &expect, keys()) {
        panic!("a fuzzed request verified as {key:?}");
    }
});
