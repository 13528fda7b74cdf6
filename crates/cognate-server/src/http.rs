//! Routes and the AWS JSON error shape. Core errors become HTTP responses here and only here.
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cognate_core::{CallContext, Cognito, Error, ErrorKind};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use tower_http::cors::{Any, CorsLayer};

/// Cognito refuses request bodies this large; nothing legitimate comes close.
const MAX_BODY: usize = 1024 * 1024;
const COGNITO_PREFIX: &str = "AWSCognitoIdentityProviderService.";
const JSON_11: &str = "application/x-amz-json-1.1";

const KMS_PREFIX: &str = "TrentService.";

/// What the routes share.
pub struct AppState {
    pub service: Arc<Cognito>,
    pub kms: Arc<cognate_kms::Kms>,
    /// Whether `GET /_cognate/messages` is served (development profile only).
    pub outbox: bool,
    /// This server's own URL (`http://ADDR`): where the JWKS is served, whatever the issuer.
    pub local_base: String,
}

type Shared = Arc<AppState>;

pub fn router(state: AppState) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(Any)
        .expose_headers(Any);
    Router::new()
        .route("/", post(api))
        .route("/{pool_id}/.well-known/jwks.json", get(jwks))
        .route("/{pool_id}/.well-known/openid-configuration", get(openid_configuration))
        .route("/_cognate/messages", get(messages))
        .route("/_cognate/code", get(latest_code))
        .route("/_cognate/health", get(|| async { "ok" }))
        .layer(cors)
        .with_state(Arc::new(state))
}

fn request_id() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).ok();
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn aws_json(status: StatusCode, body: Value, error_type: Option<&str>) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_11));
    if let Ok(v) = HeaderValue::from_str(&request_id()) {
        h.insert("x-amzn-requestid", v);
    }
    if let Some(t) = error_type.and_then(|t| HeaderValue::from_str(t).ok()) {
        h.insert("x-amzn-errortype", t);
    }
    resp
}

fn error_response(e: &Error) -> Response {
    let status = match e.kind {
        ErrorKind::InternalErrorException => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    };
    aws_json(
        status,
        json!({"__type": e.kind.name(), "message": e.message}),
        Some(e.kind.name()),
    )
}

async fn api(State(state): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    let service = &state.service;
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return aws_json(
                StatusCode::PAYLOAD_TOO_LARGE,
                json!({"__type": "SerializationException", "message": "Request body is too large."}),
                Some("SerializationException"),
            );
        }
    };
    if let Some(operation) = target.strip_prefix(KMS_PREFIX) {
        let r = state.kms.handle(operation, &bytes).await;
        let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, r.body).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_11));
        if let Some(t) = r.error_type.and_then(|t| HeaderValue::from_str(t).ok()) {
            resp.headers_mut().insert("x-amzn-errortype", t);
        }
        return resp;
    }
    let Some(operation) = target.strip_prefix(COGNITO_PREFIX) else {
        let e = Error::new(
            ErrorKind::UnknownOperationException,
            format!("Unknown operation {target}"),
        );
        return error_response(&e);
    };
    let body: Value = if bytes.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(_) => {
                return error_response(&Error::new(
                    ErrorKind::SerializationException,
                    "Malformed request body: not valid JSON.",
                ));
            }
        }
    };
    let ctx = CallContext {
        user_agent: headers
            .get("x-amz-user-agent")
            .or_else(|| headers.get(header::USER_AGENT))
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    match service.call(operation, body, &ctx).await {
        None => error_response(&Error::new(
            ErrorKind::UnknownOperationException,
            format!("Unknown operation {target}"),
        )),
        Some(Ok(v)) => aws_json(StatusCode::OK, v, None),
        Some(Err(e)) => {
            if e.kind == ErrorKind::InternalErrorException {
                tracing::error!(operation, "operation failed with an internal error");
            } else {
                tracing::debug!(operation, error = %e, "operation refused");
            }
            error_response(&e)
        }
    }
}

async fn jwks(State(state): State<Shared>, Path(pool_id): Path<String>) -> Response {
    match state.service.jwks(&pool_id).await {
        Ok(v) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            v.to_string(),
        )
            .into_response(),
        Err(_) => not_found(&pool_id),
    }
}

fn not_found(pool_id: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"message": format!("User pool {pool_id} does not exist.")}).to_string(),
    )
        .into_response()
}

async fn openid_configuration(
    State(state): State<Shared>,
    Path(pool_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let service = &state.service;
    if service.pool(&pool_id).await.is_err() {
        return not_found(&pool_id);
    }
    let issuer = service.issuer(&pool_id);
    // The keys are served here even when tokens carry AWS's issuer (`--aws-issuer`): point at
    // this server as the client reached it.
    let base = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['/', ' ', '"']))
        .map_or_else(|| state.local_base.clone(), |host| format!("http://{host}"));
    let doc = json!({
        "issuer": issuer,
        "jwks_uri": format!("{base}/{pool_id}/.well-known/jwks.json"),
        "response_types_supported": ["code", "token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "auth_time", "token_use", "cognito:username", "cognito:groups", "email", "email_verified", "phone_number", "phone_number_verified"],
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        doc.to_string(),
    )
        .into_response()
}

#[derive(Deserialize)]
struct MessagesQuery {
    to: Option<String>,
}

fn no_outbox() -> Response {
    (
        StatusCode::NOT_FOUND,
        "the outbox exists only in the development profile",
    )
        .into_response()
}

/// The code in the newest message to `to`, as plain text: `CODE=$(curl -s …/_cognate/code?to=…)`.
async fn latest_code(State(state): State<Shared>, Query(q): Query<MessagesQuery>) -> Response {
    if !state.outbox {
        return no_outbox();
    }
    let Some(to) = q.to.as_deref().filter(|t| !t.is_empty()) else {
        return (StatusCode::BAD_REQUEST, "give the address: ?to=EMAIL_OR_PHONE\n").into_response();
    };
    match state.service.store().list_messages(Some(to)).await {
        Ok(list) => match list.into_iter().rev().find_map(|m| m.code) {
            Some(code) => (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], code).into_response(),
            None => (StatusCode::NOT_FOUND, format!("no code has been sent to {to}\n")).into_response(),
        },
        Err(e) => error_response(&Error::internal(e)),
    }
}

async fn messages(State(state): State<Shared>, Query(q): Query<MessagesQuery>) -> Response {
    if !state.outbox {
        return no_outbox();
    }
    match state.service.store().list_messages(q.to.as_deref()).await {
        Ok(list) => {
            let items: Vec<Value> = list
                .into_iter()
                .map(|m| {
                    json!({
                        "pool_id": m.pool_id,
                        "channel": m.channel,
                        "to": m.to,
                        "subject": m.subject,
                        "body": m.body,
                        "trigger_source": m.trigger_source,
                        "username": m.username,
                        "code": m.code,
                        "created_at": m.created_ms as f64 / 1000.0,
                    })
                })
                .collect();
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                Value::Array(items).to_string(),
            )
                .into_response()
        }
        Err(e) => error_response(&Error::internal(e)),
    }
}
