//! What every page and endpoint shares: reading query strings and forms, cookies, the CSRF
//! token, the domain a request came to, and writing pages and redirects with the headers that
//! keep them safe (no framing, no caching, no sniffing).
use crate::IdpState;
use crate::html::{self, Look};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cognate_core::CallContext;
use cognate_core::oauth::AuthorizeParams;
use std::collections::BTreeMap;

pub type Shared = std::sync::Arc<IdpState>;

const CSRF_COOKIE: &str = "cognate-csrf";
const TOKEN_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A query string read as authorize parameters (unknown names ignored; a malformed string
/// reads as no parameters, which every handler refuses).
pub fn authorize_params(query: Option<&str>) -> AuthorizeParams {
    serde_urlencoded::from_str(query.unwrap_or_default()).unwrap_or_default()
}

/// A form body (`application/x-www-form-urlencoded`); the last of repeated names wins.
pub fn form(body: &[u8]) -> Option<BTreeMap<String, String>> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()
        .map(|pairs| pairs.into_iter().collect())
}

pub fn call_context(headers: &HeaderMap) -> CallContext {
    CallContext {
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    }
}

/// The value of cookie `name`.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Lax, Path=/, Secure under TLS. `max_age` 0
/// deletes it.
pub fn set_cookie(state: &IdpState, name: &str, value: &str, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if state.secure_cookies {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("cognate-invalid=1"))
}

/// The browser-session cookie of a pool (one per pool: pools share the server's host).
pub fn session_cookie_name(pool_id: &str) -> String {
    format!("cognate-session-{pool_id}")
}

/// The CSRF token of this browser (double-submit: a cookie, echoed by every form), and the
/// `Set-Cookie` that creates it when the browser has none yet.
pub struct Csrf {
    pub token: String,
    pub set: Option<HeaderValue>,
}

fn well_formed_token(t: &str) -> bool {
    t.len() == 43 && t.bytes().all(|b| TOKEN_ALPHABET.contains(&b))
}

pub fn csrf(state: &IdpState, headers: &HeaderMap) -> Csrf {
    match cookie(headers, CSRF_COOKIE).filter(|t| well_formed_token(t)) {
        Some(token) => Csrf { token, set: None },
        None => {
            let token = state.service.random_string(TOKEN_ALPHABET, 43);
            let set = Some(set_cookie(state, CSRF_COOKIE, &token, None));
            Csrf { token, set }
        }
    }
}

/// Whether a form carries this browser's CSRF token (compared in constant time).
pub fn csrf_ok(headers: &HeaderMap, form: &BTreeMap<String, String>) -> bool {
    match (cookie(headers, CSRF_COOKIE), form.get("_csrf")) {
        (Some(c), Some(f)) => well_formed_token(&c) && cognate_crypto::ct_eq(c.as_bytes(), f.as_bytes()),
        _ => false,
    }
}

fn secure_headers(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// A rendered page.
pub fn page(status: StatusCode, title: &str, look: &Look, body: &str, cookies: Vec<HeaderValue>) -> Response {
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html::page(title, look, body),
    )
        .into_response();
    secure_headers(&mut resp);
    for c in cookies {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

/// A 302 to `location` (an absolute redirect URI, or a path on this server).
pub fn redirect(location: &str, cookies: Vec<HeaderValue>) -> Response {
    let mut resp = StatusCode::FOUND.into_response();
    match HeaderValue::from_str(&ascii_location(location)) {
        Ok(v) => {
            resp.headers_mut().insert(header::LOCATION, v);
        }
        Err(_) => return error_page_response("invalid_request", None),
    }
    secure_headers(&mut resp);
    for c in cookies {
        resp.headers_mut().append(header::SET_COOKIE, c);
    }
    resp
}

/// A `Location` value: bytes outside visible ASCII (a callback URL may hold any Unicode
/// letter) percent-encoded, as a browser would send them.
fn ascii_location(location: &str) -> String {
    let mut out = String::with_capacity(location.len());
    for b in location.bytes() {
        if b.is_ascii_graphic() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A redirect to Cognito's error page.
pub fn to_error_page(error: &str, client_id: Option<&str>) -> Response {
    let mut params = vec![("error", error)];
    if let Some(c) = client_id {
        params.push(("client_id", c));
    }
    redirect(&cognate_core::oauth::with_params("/error", &params, false), vec![])
}

/// Cognito's error page.
pub fn error_page_response(error: &str, client_id: Option<&str>) -> Response {
    let mut body = html::heading("An error was encountered with the requested page.");
    body.push_str(&html::error(Some(error)));
    if let Some(c) = client_id {
        body.push_str(&html::description(&format!("App client: {c}")));
    }
    page(StatusCode::BAD_REQUEST, "Error", &Look::default(), &body, vec![])
}

/// The pool whose domain the request's `Host` names, if it names one.
pub async fn domain_pool(state: &IdpState, headers: &HeaderMap) -> Option<String> {
    let host = headers.get(header::HOST)?.to_str().ok()?.to_ascii_lowercase();
    let name = match host.rsplit_once(':') {
        Some((n, port)) if port.bytes().all(|b| b.is_ascii_digit()) => n.to_owned(),
        _ => host,
    };
    if name.parse::<std::net::IpAddr>().is_ok() || name.starts_with('[') || name == "localhost" {
        return None;
    }
    let labels: Vec<&str> = name.split('.').collect();
    let domain = if labels.len() >= 4 && labels[1] == "auth" {
        labels[0].to_owned()
    } else {
        name.clone()
    };
    state.service.pool_id_of_domain(&domain).await.ok().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_with_unicode_are_percent_encoded() {
        assert_eq!(ascii_location("myapp://callback/é x"), "myapp://callback/%C3%A9%20x");
        assert_eq!(
            ascii_location("https://a/cb?code=1&state=2"),
            "https://a/cb?code=1&state=2"
        );
    }

    #[test]
    fn cookies_are_found_among_several_headers() {
        let mut h = HeaderMap::new();
        h.append(header::COOKIE, HeaderValue::from_static("a=1; cognate-csrf=xyz"));
        h.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&h, "cognate-csrf").as_deref(), Some("xyz"));
        assert_eq!(cookie(&h, "b").as_deref(), Some("2"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn a_form_without_the_cookie_token_is_refused() {
        let token = "a".repeat(43);
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("cognate-csrf={token}")).unwrap(),
        );
        let mut f = BTreeMap::new();
        assert!(!csrf_ok(&h, &f));
        f.insert("_csrf".to_owned(), "b".repeat(43));
        assert!(!csrf_ok(&h, &f));
        f.insert("_csrf".to_owned(), token);
        assert!(csrf_ok(&h, &f));
    }
}
