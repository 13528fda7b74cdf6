//! The endpoints apps call directly: `/oauth2/token`, `/oauth2/userInfo`, `/oauth2/revoke`; and
//! the browser's `/logout` and `/error`.
use crate::web::{self, Shared};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cognate_core::oauth::userinfo::LogoutAction;
use cognate_core::oauth::{OAuthError, TokenForm};
use serde_json::json;

/// Cognito's `{"error": …}` answer.
fn oauth_error(e: OAuthError) -> Response {
    if let Some(cause) = &e.cause {
        tracing::error!(
            error = e.error,
            detail = cause.detail().unwrap_or_default(),
            "OAuth endpoint failed"
        );
    }
    let mut body = json!({"error": e.error});
    if let Some(d) = &e.description {
        body["error_description"] = json!(d);
    }
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = (
        status,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body.to_string(),
    )
        .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

fn json_ok(body: String) -> Response {
    let mut resp = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
        body,
    )
        .into_response();
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    resp
}

/// `Authorization: Basic base64(client_id:client_secret)` (each part form-decoded, as RFC 6749
/// asks of clients).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| OAuthError::new(400, "invalid_client"))?;
    let Some(encoded) = value.strip_prefix("Basic ").or_else(|| value.strip_prefix("basic ")) else {
        return Ok(None);
    };
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| OAuthError::new(400, "invalid_client"))?;
    let (id, secret) = decoded
        .split_once(':')
        .ok_or_else(|| OAuthError::new(400, "invalid_client"))?;
    // Clients that form-encode the parts first (RFC 6749 §2.3.1) send `+` as `%2B`; most send
    // them raw, and Cognito's secrets contain `+`: decode `%XX` only, never `+` as a space.
    let unescape = |s: &str| -> String {
        if !s.contains('%') {
            return s.to_owned();
        }
        serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={}", s.replace('+', "%2B")))
            .ok()
            .and_then(|v| v.into_iter().next().map(|(_, v)| v))
            .unwrap_or_else(|| s.to_owned())
    };
    Ok(Some((unescape(id), unescape(secret))))
}

/// A form request's body, which must be `application/x-www-form-urlencoded`.
fn token_form(headers: &HeaderMap, body: &[u8]) -> Result<TokenForm, OAuthError> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(OAuthError::invalid_request(
            "Content-Type must be application/x-www-form-urlencoded",
        ));
    }
    let form = web::form(body).ok_or_else(|| OAuthError::invalid_request("malformed form body"))?;
    Ok(TokenForm {
        form,
        basic: basic_credentials(headers)?,
    })
}

/// `POST /oauth2/token`.
pub(crate) async fn token(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let req = match token_form(&headers, &body) {
        Ok(r) => r,
        Err(e) => return oauth_error(e),
    };
    let domain_pool = web::domain_pool(&state, &headers).await;
    let ctx = web::call_context(&headers);
    match state.service.token_endpoint(&req, domain_pool.as_deref(), &ctx).await {
        Ok(tokens) => json_ok(serde_json::to_string(&tokens).unwrap_or_default()),
        Err(e) => oauth_error(e),
    }
}

/// `GET|POST /oauth2/userInfo`: `Authorization: Bearer ACCESS_TOKEN`.
pub(crate) async fn user_info(State(state): State<Shared>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim);
    let Some(token) = bearer.filter(|t| !t.is_empty()) else {
        let mut resp = StatusCode::BAD_REQUEST.into_response();
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(
                r#"error="invalid_request", error_description="Bad OAuth2 request at UserInfo Endpoint""#,
            ),
        );
        return resp;
    };
    match state.service.user_info(token).await {
        Ok(claims) => json_ok(serde_json::Value::Object(claims).to_string()),
        Err(e) => {
            let challenge = format!(
                r#"error="{}", error_description="{}""#,
                e.error,
                e.description.as_deref().unwrap_or_default()
            );
            let mut resp = oauth_error(e);
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                resp.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            resp
        }
    }
}

/// `POST /oauth2/revoke`: 200 with an empty body when revoked (or unknown).
pub(crate) async fn revoke(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let req = match token_form(&headers, &body) {
        Ok(r) => r,
        Err(e) => return oauth_error(e),
    };
    let domain_pool = web::domain_pool(&state, &headers).await;
    match state.service.revoke_endpoint(&req, domain_pool.as_deref()).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => oauth_error(e),
    }
}

/// `GET /logout`: ends the browser's session at the hosted pages and goes to `logout_uri`, or
/// back to the sign-in page (`redirect_uri` + `response_type`).
pub(crate) async fn logout(State(state): State<Shared>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let params = web::authorize_params(query.as_deref());
    let logout_uri: Option<String> =
        serde_urlencoded::from_str::<Vec<(String, String)>>(query.as_deref().unwrap_or_default())
            .ok()
            .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "logout_uri").map(|(_, v)| v));
    let domain_pool = web::domain_pool(&state, &headers).await;
    let (action, found) = match state
        .service
        .logout_action(&params, logout_uri.as_deref(), domain_pool.as_deref())
        .await
    {
        Ok(x) => x,
        Err(e) => return oauth_error(e),
    };
    let mut cookies = vec![];
    if let (LogoutAction::SignedOut(_) | LogoutAction::SignInAgain(_), Some((_, pool))) = (&action, &found) {
        let name = web::session_cookie_name(&pool.id);
        if let Some(cookie) = web::cookie(&headers, &name)
            && let Err(e) = state.service.end_browser_session(pool, &cookie).await
        {
            tracing::error!(
                detail = e.detail().unwrap_or_default(),
                "ending a browser session failed"
            );
        }
        cookies.push(web::set_cookie(&state, &name, "", Some(0)));
    }
    match action {
        LogoutAction::SignedOut(uri) => web::redirect(&uri, cookies),
        LogoutAction::SignInAgain(p) => web::redirect(&format!("/login?{}", p.to_query()), cookies),
        LogoutAction::Error(message) => web::to_error_page(&message, params.client_id.as_deref()),
    }
}

/// `GET /error?error=…&client_id=…`: Cognito's error page.
pub(crate) async fn error_page(RawQuery(query): RawQuery) -> Response {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    web::error_page_response(get("error").unwrap_or("invalid_request"), get("client_id"))
}
