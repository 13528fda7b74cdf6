//! Routes and the AWS JSON error shape. Core errors become HTTP responses here and only here.
use crate::access_keys::{AccessKey, AccessKeys};
use crate::sigv4::{self, Refusal};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cognate_core::clock::Clock;
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

/// The Cognito operations AWS does not sign (`"authtype": "none"` in botocore's
/// `cognito-idp/2016-04-18/service-2.json`): the ones apps call on behalf of a user, with a
/// client id or a user's token. Every other operation, and every KMS one, is signed.
const UNSIGNED_OPERATIONS: &[&str] = &[
    "AssociateSoftwareToken",
    "ChangePassword",
    "CompleteWebAuthnRegistration",
    "ConfirmDevice",
    "ConfirmForgotPassword",
    "ConfirmSignUp",
    "DeleteUser",
    "DeleteUserAttributes",
    "DeleteWebAuthnCredential",
    "ForgetDevice",
    "ForgotPassword",
    "GetDevice",
    "GetTokensFromRefreshToken",
    "GetUser",
    "GetUserAttributeVerificationCode",
    "GetUserAuthFactors",
    "GlobalSignOut",
    "InitiateAuth",
    "ListDevices",
    "ListUserSessions",
    "ListWebAuthnCredentials",
    "ResendConfirmationCode",
    "RespondToAuthChallenge",
    "RevokeToken",
    "RevokeUserSession",
    "SetUserMFAPreference",
    "SetUserSettings",
    "SignUp",
    "StartWebAuthnRegistration",
    "UpdateAuthEventFeedback",
    "UpdateDeviceStatus",
    "UpdateUserAttributes",
    "VerifySoftwareToken",
    "VerifyUserAttribute",
];

/// Whether the operation named by an `X-Amz-Target` is one AWS requires a signature for.
fn is_signed_target(target: &str) -> bool {
    match target.strip_prefix(COGNITO_PREFIX) {
        Some(op) => !UNSIGNED_OPERATIONS.contains(&op),
        // KMS, and anything unknown, counts as signed.
        None => true,
    }
}

/// Signature checking of the production profile.
pub struct Auth {
    pub keys: Arc<AccessKeys>,
    pub region: String,
    pub clock: Arc<dyn Clock>,
}

/// What the routes share.
pub struct AppState {
    pub service: Arc<Cognito>,
    pub kms: Arc<cognate_kms::Kms>,
    /// Whether `GET /_cognate/messages` is served (development profile only).
    pub outbox: bool,
    /// This server's own URL (`http://ADDR`): where the JWKS is served, whatever the issuer.
    pub local_base: String,
    /// Production profile: signed operations need a valid SigV4 signature by one of these keys.
    /// `None` (development profile): any credentials, or none, are accepted.
    pub auth: Option<Auth>,
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
        .layer(middleware::from_fn(same_origin_only))
        .with_state(Arc::new(state))
}

/// CORS: browser apps may call the unsigned operations, JWKS and discovery from any origin (as
/// on AWS), but a web page of another origin must not reach signed operations or `/_cognate/*`:
/// their preflights (recognised by the path, or by asking to send `Authorization`) and requests
/// carrying a foreign `Origin` are refused before anything runs.
async fn same_origin_only(req: Request, next: Next) -> Response {
    let headers = req.headers();
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else {
        return next.run(req).await;
    };
    let own = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(|host| origin == format!("http://{host}") || origin == format!("https://{host}"));
    if own {
        return next.run(req).await;
    }
    let internal = req.uri().path().starts_with("/_cognate/");
    let refused = if req.method() == Method::OPTIONS {
        let wants_auth = headers
            .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|h| h.split(',').any(|n| n.trim().eq_ignore_ascii_case("authorization")));
        internal || wants_auth
    } else {
        let target = headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        internal || (req.uri().path() == "/" && req.method() == Method::POST && is_signed_target(target))
    };
    if refused {
        tracing::debug!(origin, path = req.uri().path(), "cross-origin request refused");
        return refusal_response(&Refusal {
            code: "AccessDeniedException",
            message: "Cross-origin requests are not allowed for this operation.".into(),
            status: StatusCode::FORBIDDEN,
        });
    }
    next.run(req).await
}

fn refusal_response(r: &Refusal) -> Response {
    aws_json(r.status, json!({"__type": r.code, "message": r.message}), Some(r.code))
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

async fn api(State(state): State<Shared>, method: Method, uri: Uri, headers: HeaderMap, body: Body) -> Response {
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
    let signer = match (&state.auth, is_signed_target(&target)) {
        (Some(auth), true) => {
            let request = sigv4::SignedRequest {
                method: method.as_str(),
                path: uri.path(),
                query: uri.query().unwrap_or_default(),
                headers: &headers,
                body: &bytes,
            };
            let expect = sigv4::Expectation {
                region: &auth.region,
                service: if target.starts_with(KMS_PREFIX) {
                    "kms"
                } else {
                    "cognito-idp"
                },
                now_secs: auth.clock.now_secs(),
            };
            match sigv4::verify(&request, &expect, &auth.keys) {
                Ok(key) => Some(key),
                Err(r) => {
                    tracing::debug!(target, error = r.code, "signature refused");
                    return refusal_response(&r);
                }
            }
        }
        _ => None,
    };
    if let Some(operation) = target.strip_prefix(KMS_PREFIX) {
        // KMS keys belong to no pool: a key limited to pools may not use them.
        if let Some(key) = signer.as_ref().filter(|k| k.pools().is_some()) {
            return refusal_response(&Refusal::access_denied(&key.id, &format!("kms:{operation}")));
        }
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
    let limited_to = signer.as_ref().and_then(|k| k.pools().map(|p| (k, p)));
    if let Some((key, _)) = limited_to
        && !pool_allowed(service, key, operation, &body).await
    {
        return refusal_response(&Refusal::access_denied(&key.id, &format!("cognito-idp:{operation}")));
    }
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
        Some(Ok(mut v)) => {
            // A key limited to pools lists only those.
            if let (Some((_, pools)), "ListUserPools") = (limited_to, operation)
                && let Some(list) = v.get_mut("UserPools").and_then(Value::as_array_mut)
            {
                list.retain(|p| p["Id"].as_str().is_some_and(|id| pools.iter().any(|x| x == id)));
            }
            aws_json(StatusCode::OK, v, None)
        }
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

/// Whether a key limited to some pools may run `operation` with this body: the pool is the
/// body's `UserPoolId`, the pool of a `ResourceArn` or of a `ClientId`. ListUserPools is allowed
/// (its answer is filtered); CreateUserPool and operations that name no pool are not.
async fn pool_allowed(service: &Cognito, key: &AccessKey, operation: &str, body: &Value) -> bool {
    if operation == "ListUserPools" {
        return true;
    }
    if let Some(pool) = body["UserPoolId"].as_str() {
        return key.allows(pool);
    }
    if let Some(pool) = body["ResourceArn"]
        .as_str()
        .and_then(|arn| arn.rsplit_once(":userpool/"))
    {
        return key.allows(pool.1);
    }
    if let Some(client_id) = body["ClientId"].as_str() {
        return match service.client(client_id).await {
            Ok(client) => key.allows(&client.pool_id),
            // Unknown client: the operation answers ResourceNotFoundException itself.
            Err(_) => true,
        };
    }
    false
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
