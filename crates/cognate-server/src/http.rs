//! Routes. Core and KMS errors become HTTP responses here and only here (written by
//! [`crate::aws_json`]), and internal ones are logged here, once.
use crate::access_keys::{AccessKey, AccessKeys};
use crate::aws_json;
use crate::sigv4::{self, Refusal};
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use cognate_core::clock::Clock;
use cognate_core::{CallContext, Cognito, Error, ErrorKind};
use cognate_kms::{KmsError, KmsResponse};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tower_http::cors::{Any, CorsLayer};

/// Cognito refuses request bodies this large; nothing legitimate comes close.
const MAX_BODY: usize = 1024 * 1024;
const COGNITO_PREFIX: &str = "AWSCognitoIdentityProviderService.";

const KMS_PREFIX: &str = "TrentService.";

/// Deepest nesting of arrays and objects a request body may have. Cognito's and KMS's request
/// shapes nest a few levels at most; bounding it keeps recursive parsing and walking of a
/// hostile body shallow.
const MAX_JSON_DEPTH: usize = 32;

/// KMS operations and their metric labels (a fixed set, like Cognito's operations).
const KMS_OPERATIONS: &[(&str, &str)] = &[
    ("CreateKey", "kms:CreateKey"),
    ("DescribeKey", "kms:DescribeKey"),
    ("ListKeys", "kms:ListKeys"),
    ("ListResourceTags", "kms:ListResourceTags"),
    ("EnableKey", "kms:EnableKey"),
    ("Encrypt", "kms:Encrypt"),
    ("Decrypt", "kms:Decrypt"),
    ("ReEncrypt", "kms:ReEncrypt"),
    ("GenerateDataKey", "kms:GenerateDataKey"),
    ("GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyWithoutPlaintext"),
    ("GenerateRandom", "kms:GenerateRandom"),
    ("CreateAlias", "kms:CreateAlias"),
    ("DeleteAlias", "kms:DeleteAlias"),
    ("ListAliases", "kms:ListAliases"),
];

/// Whether `body` nests arrays and objects deeper than `max` (strings are skipped, so brackets
/// inside them do not count). Linear, no recursion: runs before any parsing.
fn nested_deeper_than(body: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

fn too_deep() -> Response {
    aws_json::error(
        StatusCode::BAD_REQUEST,
        "SerializationException",
        &format!("Malformed request body: nested more than {MAX_JSON_DEPTH} levels deep."),
        &aws_json::request_id(),
    )
}

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
    /// This server's own URL (`http://ADDR`, `https://` with TLS): where the JWKS is served,
    /// whatever the issuer.
    pub local_base: String,
    /// The base URL clients use, without a trailing slash: the public URL (`--public-url`) when
    /// one was given, else `http(s)://HOST:PORT` of the listener (https with TLS).
    pub public_base: String,
    /// Whether clients reach this server over HTTPS: it serves TLS, or the public URL is https
    /// (TLS ends at a proxy). Pages set `Secure` on their cookies then.
    pub tls: bool,
    /// Production profile: signed operations need a valid SigV4 signature by one of these keys.
    /// `None` (development profile): any credentials, or none, are accepted.
    pub auth: Option<Auth>,
    /// A request must be answered within this (408 otherwise).
    pub request_timeout: Duration,
    /// Counters served at `GET /metrics`; `None`: not served (404) and not counted.
    pub metrics: Option<Arc<crate::metrics::Metrics>>,
    /// The function host and the functions it was given, for `GET /health`.
    pub functions: Option<(cognate_functions::FunctionHost, Vec<String>)>,
    /// Which `Host` headers are served (DNS rebinding protection).
    pub hosts: HostPolicy,
}

/// Which `Host` headers are served. A web page on an attacker's domain that resolves to
/// 127.0.0.1 (DNS rebinding) reaches a server on loopback as "same origin", but its requests
/// carry the attacker's name in `Host`: a server listening on loopback serves only loopback
/// names and the names it was given (`--allowed-host`, e.g. a docker-compose service name).
/// One listening beyond loopback serves any `Host`, unless names were given.
#[derive(Clone, Debug, Default)]
pub struct HostPolicy {
    restricted: bool,
    allowed: Vec<String>,
}

impl HostPolicy {
    /// The policy of a server listening on a loopback address (or not), with the names of
    /// `--allowed-host` (any port, any case).
    pub fn new(listening_on_loopback: bool, allowed: &[String]) -> Self {
        let allowed: Vec<String> = allowed.iter().map(|n| host_name(n)).filter(|n| !n.is_empty()).collect();
        Self {
            restricted: listening_on_loopback || !allowed.is_empty(),
            allowed,
        }
    }

    /// Whether a request with this `Host` header value is served.
    fn allows(&self, host: &str) -> bool {
        if !self.restricted {
            return true;
        }
        let name = host_name(host);
        is_loopback_name(&name) || self.allowed.contains(&name)
    }
}

/// The name of a `Host` header value: lower case, without port or trailing dot (IPv6
/// addresses keep their brackets).
fn host_name(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    let name = if host.starts_with('[') {
        match host.find(']') {
            Some(end) => host[..=end].to_owned(),
            None => host,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name.to_owned(),
            _ => host,
        }
    };
    name.trim_end_matches('.').to_owned()
}

/// `localhost`, `*.localhost`, `127.x.x.x` and `[::1]`: names only this machine answers to.
fn is_loopback_name(name: &str) -> bool {
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    if let Ok(ip) = name.parse::<std::net::Ipv4Addr>() {
        return ip.is_loopback();
    }
    name.strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .and_then(|n| n.parse::<std::net::Ipv6Addr>().ok())
        .is_some_and(|ip| ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()))
}

/// Refuses requests whose `Host` the [`HostPolicy`] does not serve, before anything runs. A
/// request without `Host` (HTTP/1.0; browsers always send one) is served.
async fn allowed_hosts_only(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned());
    match host {
        Some(host) if !state.hosts.allows(&host) && !is_user_pool_domain(&state, &host).await => {
            let name = host_name(&host);
            tracing::warn!(host = %name, path = req.uri().path(), "request for a host that is not allowed refused");
            refusal_response(&Refusal {
                code: "AccessDeniedException",
                message: format!("Host '{name}' is not allowed; start cognate with --allowed-host {name} to allow it."),
                status: StatusCode::FORBIDDEN,
            })
        }
        _ => next.run(req).await,
    }
}

/// A user pool domain by name: Cognito's prefix form (`PREFIX.auth.REGION.amazoncognito.com`,
/// which no attacker's DNS answers for) or a custom domain the operator gave a pool. Requests
/// that a proxy forwards under these names are served without `--allowed-host`.
async fn is_user_pool_domain(state: &AppState, host: &str) -> bool {
    let name = host_name(host);
    let labels: Vec<&str> = name.split('.').collect();
    if labels.len() == 5 && labels[1] == "auth" && name.ends_with(".amazoncognito.com") {
        return true;
    }
    name.contains('.') && matches!(state.service.pool_id_of_domain(&name).await, Ok(Some(_)))
}

type Shared = Arc<AppState>;

pub fn router(state: AppState) -> Router {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers(Any)
        .expose_headers(Any);
    let state = Arc::new(state);
    let idp = cognate_idp::router(cognate_idp::IdpState {
        service: state.service.clone(),
        secure_cookies: state.tls,
    });
    Router::new()
        .route("/", post(api))
        .route("/{pool_id}/.well-known/jwks.json", get(jwks))
        .route("/{pool_id}/.well-known/openid-configuration", get(openid_configuration))
        .route("/_cognate/messages", get(messages))
        .route("/_cognate/code", get(latest_code))
        .route("/_cognate/ui/{pool_id}/{client_id}/{version}/logo", get(ui_logo))
        .route("/_cognate/health", get(|| async { "ok" }))
        .route("/_cognate/user-import/{pool_id}/{job_id}", put(user_import_upload))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .with_state(state.clone())
        .merge(idp)
        .layer(cors)
        .layer(middleware::from_fn(same_origin_only))
        .layer(middleware::from_fn_with_state(state.clone(), allowed_hosts_only))
        .layer(middleware::from_fn_with_state(state.clone(), request_deadline))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
}

/// Answers 408 to a request whose body and answer take longer than the request timeout (a
/// body trickled in byte by byte, say); the connection is closed after it.
async fn request_deadline(State(state): State<Shared>, req: Request, next: Next) -> Response {
    match tokio::time::timeout(state.request_timeout, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            let mut resp = aws_json::error(
                StatusCode::REQUEST_TIMEOUT,
                "RequestTimeoutException",
                "The request did not complete in time.",
                &aws_json::request_id(),
            );
            resp.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            resp
        }
    }
}

/// The metric label of a request: its operation (from a fixed set) or its route.
fn metric_label(method: &Method, path: &str, headers: &HeaderMap) -> &'static str {
    if path == "/" && method == Method::POST {
        let target = headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let known = if let Some(op) = target.strip_prefix(COGNITO_PREFIX) {
            cognate_core::ops::OPERATIONS.iter().find(|o| **o == op).copied()
        } else if let Some(op) = target.strip_prefix(KMS_PREFIX) {
            KMS_OPERATIONS.iter().find(|(o, _)| *o == op).map(|(_, label)| *label)
        } else {
            None
        };
        return known.unwrap_or("unknown_operation");
    }
    match path {
        "/health" | "/_cognate/health" => "health",
        "/metrics" => "metrics",
        p if p.starts_with("/_cognate/ui/") => "ui_logo",
        p if p.starts_with("/_cognate/user-import/") => "user_import_upload",
        p if p.starts_with("/_cognate/") => "outbox",
        p if p.ends_with("/.well-known/jwks.json") => "jwks",
        p if p.ends_with("/.well-known/openid-configuration") => "openid_configuration",
        _ => "other",
    }
}

async fn observe(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let Some(metrics) = state.metrics.clone() else {
        return next.run(req).await;
    };
    let label = metric_label(req.method(), req.uri().path(), req.headers());
    let started = Instant::now();
    let resp = next.run(req).await;
    metrics.observe_request(label, resp.status().as_u16(), started.elapsed());
    resp
}

/// How long `/health` waits for the store before calling it failed.
const HEALTH_STORE_TIMEOUT: Duration = Duration::from_secs(5);

/// The answer of `/health`: 200 when every part is "ok", 503 naming the failed parts otherwise.
fn health_answer(store: &str, functions: &str) -> (StatusCode, Value) {
    let ok = store == "ok" && functions == "ok";
    let status = if ok { "ok" } else { "unavailable" };
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, json!({"status": status, "store": store, "functions": functions}))
}

/// Liveness and readiness: the store answers a trivial query and the function host (if any)
/// is running.
async fn health(State(state): State<Shared>) -> Response {
    let query = state.service.store().get_pool("cognate-health-check");
    let store = match tokio::time::timeout(HEALTH_STORE_TIMEOUT, query).await {
        Ok(Ok(_)) => "ok",
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health check: the store failed");
            "error"
        }
        Err(_) => {
            tracing::warn!("health check: the store did not answer in time");
            "timeout"
        }
    };
    let functions = match &state.functions {
        Some((host, names)) if !names.iter().all(|n| host.contains(n)) => "stopped",
        _ => "ok",
    };
    let (code, body) = health_answer(store, functions);
    (code, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

async fn metrics(State(state): State<Shared>) -> Response {
    match &state.metrics {
        Some(m) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
            m.render(),
        )
            .into_response(),
        None => (
            StatusCode::NOT_FOUND,
            "metrics are off: the production profile serves them with --metrics\n",
        )
            .into_response(),
    }
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
    let internal = req.uri().path().starts_with("/_cognate/") || req.uri().path() == "/metrics";
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
    aws_json::error(r.status, r.code, &r.message, &aws_json::request_id())
}

/// Writes a core error. An internal one is logged here, once, with its detail, the operation
/// and the request id the caller sees; the caller gets only the generic message.
fn error_response(operation: &str, e: &Error) -> Response {
    let request_id = aws_json::request_id();
    let status = if e.kind == ErrorKind::InternalErrorException {
        let detail = e.detail().unwrap_or_default();
        tracing::error!(operation, %request_id, detail, "operation failed with an internal error");
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        tracing::debug!(operation, error = %e, "operation refused");
        StatusCode::BAD_REQUEST
    };
    aws_json::error(status, e.kind.name(), &e.message, &request_id)
}

/// Writes a KMS answer; an internal error is logged here, once, as for Cognito.
fn kms_response(operation: &str, result: Result<KmsResponse, KmsError>) -> Response {
    let request_id = aws_json::request_id();
    match result {
        Ok(r) => aws_json::answer(StatusCode::OK, r.body, None, &request_id),
        Err(e) => {
            if let KmsError::Internal(detail) = &e {
                tracing::error!(operation = %format!("kms:{operation}"), %request_id, %detail, "operation failed with an internal error");
            }
            let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            aws_json::error(status, e.error_type(), &e.client_message(), &request_id)
        }
    }
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
            return aws_json::error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "SerializationException",
                "Request body is too large.",
                &aws_json::request_id(),
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
    if nested_deeper_than(&bytes, MAX_JSON_DEPTH) {
        return too_deep();
    }
    if let Some(operation) = target.strip_prefix(KMS_PREFIX) {
        // KMS keys belong to no pool: a key limited to pools may not use them.
        if let Some(key) = signer.as_ref().filter(|k| k.pools().is_some()) {
            return refusal_response(&Refusal::access_denied(&key.id, &format!("kms:{operation}")));
        }
        return kms_response(operation, state.kms.handle(operation, &bytes).await);
    }
    let Some(operation) = target.strip_prefix(COGNITO_PREFIX) else {
        let e = Error::new(
            ErrorKind::UnknownOperationException,
            format!("Unknown operation {target}"),
        );
        return error_response(&target, &e);
    };
    let body: Value = if bytes.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(_) => {
                return error_response(
                    operation,
                    &Error::new(
                        ErrorKind::SerializationException,
                        "Malformed request body: not valid JSON.",
                    ),
                );
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
        None => error_response(
            operation,
            &Error::new(
                ErrorKind::UnknownOperationException,
                format!("Unknown operation {target}"),
            ),
        ),
        Some(Ok(mut v)) => {
            // A key limited to pools lists only those.
            if let (Some((_, pools)), "ListUserPools") = (limited_to, operation)
                && let Some(list) = v.get_mut("UserPools").and_then(Value::as_array_mut)
            {
                list.retain(|p| p["Id"].as_str().is_some_and(|id| pools.iter().any(|x| x == id)));
            }
            aws_json::answer(StatusCode::OK, v.to_string(), None, &aws_json::request_id())
        }
        Some(Err(e)) => error_response(operation, &e),
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
    // With a public URL every advertised address derives from it (several nodes behind one
    // name advertise the same); otherwise they point at this server as the client reached it,
    // which is also where the keys are when tokens carry AWS's issuer (`--aws-issuer`).
    let base = if state.public_base != state.local_base {
        state.public_base.clone()
    } else {
        let scheme = if state.local_base.starts_with("https://") {
            "https"
        } else {
            "http"
        };
        headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| !h.is_empty() && !h.contains(['/', ' ', '"']))
            .map_or_else(|| state.local_base.clone(), |host| format!("{scheme}://{host}"))
    };
    let mut doc = json!({
        "issuer": issuer,
        "jwks_uri": format!("{base}/{pool_id}/.well-known/jwks.json"),
        "response_types_supported": ["code", "token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "phone", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    });
    // The domain's endpoints, only while the pool has a domain (as Cognito). They are served
    // at this server's root (the pool is the client's), so they resolve wherever the issuer does.
    if let Ok(pool) = service.pool(&pool_id).await
        && cognate_core::ops::domains::domain_of_pool(&pool).is_some()
    {
        for (key, path) in [
            ("authorization_endpoint", "/oauth2/authorize"),
            ("token_endpoint", "/oauth2/token"),
            ("userinfo_endpoint", "/oauth2/userInfo"),
            ("revocation_endpoint", "/oauth2/revoke"),
            ("end_session_endpoint", "/logout"),
        ] {
            doc[key] = json!(format!("{base}{path}"));
        }
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        doc.to_string(),
    )
        .into_response()
}

/// A hosted UI logo (the `ImageUrl` of Get/SetUICustomization): `client_id` is an app client
/// or `ALL`, `version` the style's version, so the answer may be cached for good. Only PNG and
/// JPEG are ever stored; the headers keep a browser from reading the bytes as anything else.
async fn ui_logo(
    State(state): State<Shared>,
    Path((pool_id, client_id, version)): Path<(String, String, String)>,
) -> Response {
    match state.service.ui_logo(&pool_id, &client_id, &version).await {
        Ok(Some(logo)) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, logo.content_type),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'",
                ),
            ],
            logo.bytes,
        )
            .into_response(),
        Ok(None) => (StatusCode::NOT_FOUND, "no such logo\n").into_response(),
        Err(e) => error_response("ui:logo", &e),
    }
}

#[derive(Deserialize)]
struct UploadQuery {
    #[serde(default)]
    token: String,
}

/// A user import job's `PreSignedUrl`: takes the CSV file by `PUT`, as S3 would, authorised by
/// the token in the address.
async fn user_import_upload(
    State(state): State<Shared>,
    Path((pool_id, job_id)): Path<(String, String)>,
    Query(query): Query<UploadQuery>,
    body: Body,
) -> Response {
    let limit = cognate_core::ops::import_jobs::MAX_IMPORT_FILE_BYTES;
    let Ok(file) = to_bytes(body, limit).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "the import file is larger than 100 MB\n").into_response();
    };
    match state
        .service
        .upload_user_import_file(&pool_id, &job_id, &query.token, &file)
        .await
    {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) if e.kind == ErrorKind::InternalErrorException => error_response("user-import:upload", &e),
        Err(e) => {
            let status = if e.kind == ErrorKind::NotAuthorizedException {
                StatusCode::FORBIDDEN
            } else if e.kind == ErrorKind::ResourceNotFoundException {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::CONFLICT
            };
            (status, format!("{}\n", e.message)).into_response()
        }
    }
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
        Err(e) => error_response("outbox:code", &Error::internal(e)),
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
        Err(e) => error_response("outbox:messages", &Error::internal(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_depth_ignores_brackets_in_strings() {
        assert!(!nested_deeper_than(br#"{"a": [{"b": "[[[[[[["}]}"#, 3));
        assert!(nested_deeper_than(br#"{"a": [{"b": [1]}]}"#, 3));
        assert!(!nested_deeper_than(br#"{"a": "\\", "b": "\"[[[["}"#, 1));
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(nested_deeper_than(deep.as_bytes(), MAX_JSON_DEPTH));
    }

    #[test]
    fn host_policy_serves_loopback_names_and_allowed_hosts_only() {
        let loopback = HostPolicy::new(true, &["Web:8080".to_owned()]);
        for ok in [
            "localhost",
            "localhost:9339",
            "LOCALHOST.",
            "app.localhost:3000",
            "127.0.0.1:9339",
            "127.1.2.3",
            "[::1]:9339",
            "[::1]",
            "web",
            "web:9339",
        ] {
            assert!(loopback.allows(ok), "{ok}");
        }
        for refused in [
            "evil.example",
            "evil.example:9339",
            "127.0.0.1.evil.example",
            "localhost.evil.example",
            "evillocalhost",
            "10.0.0.5:9339",
            "[::2]:9339",
            "",
        ] {
            assert!(!loopback.allows(refused), "{refused}");
        }
        assert!(HostPolicy::new(false, &[]).allows("evil.example"));
        let named = HostPolicy::new(false, &["cognate".to_owned()]);
        assert!(named.allows("cognate:9339") && named.allows("localhost"));
        assert!(!named.allows("evil.example"));
    }

    #[test]
    fn health_names_the_failed_part() {
        assert_eq!(health_answer("ok", "ok").0, StatusCode::OK);
        let (code, body) = health_answer("timeout", "ok");
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            body,
            json!({"status": "unavailable", "store": "timeout", "functions": "ok"})
        );
        let (code, body) = health_answer("ok", "stopped");
        assert_eq!(code, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["functions"], "stopped");
    }
}
