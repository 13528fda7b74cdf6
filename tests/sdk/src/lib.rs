//! Shared harness for the black-box conformance suite.
//!
//! Every test starts its own Cognate server (in memory, ephemeral port), talks to it through the
//! real AWS SDK for Rust, and reads the development outbox / JWKS over plain HTTP.

use std::fmt::Debug;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cognitoidentityprovider as idp;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use cognate::{Clock, ManualClock, RunningServer, ServeOptions, Storage};
use idp::config::retry::RetryConfig;
use idp::config::timeout::TimeoutConfig;
use idp::config::{BehaviorVersion, Credentials, Region};
use idp::error::ProvideErrorMetadata;
use idp::operation::create_user_pool::builders::CreateUserPoolFluentBuilder;
use idp::types::{
    AttributeDataType, AttributeType, AuthFlowType, AuthenticationResultType, ExplicitAuthFlowsType, MessageActionType,
    SchemaAttributeType, StringAttributeConstraintsType, VerifiedAttributeType,
};
use serde_json::Value;

pub mod triggers;

pub use aws_sdk_cognitoidentityprovider;
pub use cognate;

/// A password that satisfies Cognito's default policy (8+, upper, lower, digit, symbol).
pub const PASSWORD: &str = "Passw0rd!Initial";
/// A second valid password, for changes and resets.
pub const NEW_PASSWORD: &str = "N3w-Passw0rd!Later";

pub const REGION: &str = "us-east-1";
pub const ACCOUNT: &str = "123456789012";

/// A running Cognate plus the clients that talk to it.
pub struct Cognate {
    server: Option<RunningServer>,
    /// `http://127.0.0.1:PORT`
    pub endpoint: String,
    /// Cognito Identity Provider client from the AWS SDK, pointed at `endpoint`.
    pub idp: idp::Client,
    /// Plain HTTP client for the JWKS, OIDC discovery, outbox and raw wire tests.
    pub http: reqwest::Client,
    /// Present when the server was started with a manual clock.
    pub clock: Option<Arc<ManualClock>>,
}

/// A user pool and one app client with USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH and
/// REFRESH_TOKEN_AUTH enabled (no secret).
#[derive(Clone, Debug)]
pub struct TestPool {
    pub pool_id: String,
    pub client_id: String,
}

/// A decoded JWT.
#[derive(Clone, Debug)]
pub struct Jwt {
    pub header: Value,
    pub claims: Value,
}

/// The code and message of a service error.
#[derive(Clone, Debug)]
pub struct AwsError {
    pub code: String,
    pub message: Option<String>,
}

/// Current wall-clock time in epoch milliseconds.
#[allow(clippy::disallowed_methods)] // the suite talks to a real server on real time
pub fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock before 1970")
        .as_millis() as i64
}

/// Base options for a test server: loopback, ephemeral port, in memory, us-east-1 / 123456789012.
pub fn base_options() -> ServeOptions {
    ServeOptions {
        host: "127.0.0.1".to_string(),
        port: 0,
        storage: Storage::Memory,
        region: REGION.to_string(),
        account: ACCOUNT.to_string(),
        ..Default::default()
    }
}

/// Builds an SDK client for `endpoint`: us-east-1, static dummy credentials, no retries (a 5xx
/// must show up as a failure, not be retried away), and a generous operation timeout.
pub fn sdk_client(endpoint: &str) -> idp::Client {
    let config = idp::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "cognate-tests"))
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(60))
                .build(),
        )
        .build();
    idp::Client::from_conf(config)
}

impl Cognate {
    /// In-memory server on an ephemeral port, real clock.
    pub async fn start() -> Self {
        Self::start_with(base_options(), None).await
    }

    /// In-memory server whose clock only moves when the test calls [`Cognate::advance`].
    /// The clock starts at the current wall-clock time.
    pub async fn start_with_clock() -> Self {
        let clock = ManualClock::new(now_millis());
        Self::start_with(base_options(), Some(clock)).await
    }

    /// Starts a server with the given options; `clock`, when given, replaces `opts.clock`.
    pub async fn start_with(mut opts: ServeOptions, clock: Option<Arc<ManualClock>>) -> Self {
        if let Some(c) = &clock {
            let dyn_clock: Arc<dyn Clock> = c.clone();
            opts.clock = Some(dyn_clock);
        }
        let server = cognate::start(opts).await.expect("cognate server failed to start");
        let endpoint = server.endpoint();
        let idp = sdk_client(&endpoint);
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("reqwest client");
        Cognate {
            server: Some(server),
            endpoint,
            idp,
            http,
            clock,
        }
    }

    /// The running server (declared pool ids, the service).
    pub fn server(&self) -> &RunningServer {
        self.server.as_ref().expect("server is running")
    }

    /// The listening port.
    pub fn port(&self) -> u16 {
        self.server.as_ref().expect("server running").addr().port()
    }

    /// Moves the manual clock forward. Panics when the server was started without one.
    pub fn advance(&self, by: Duration) {
        self.clock
            .as_ref()
            .expect("this server was started without a ManualClock")
            .advance(by);
    }

    /// Stops the server and waits until it has shut down.
    pub async fn shutdown(mut self) {
        if let Some(server) = self.server.take() {
            server.shutdown().await;
        }
    }

    // ----------------------------------------------------------------------------------------
    // Pools and clients
    // ----------------------------------------------------------------------------------------

    /// A CreateUserPool request with the suite's defaults: email auto-verified, and one custom
    /// string attribute `tier` (so `custom:tier` exists). Tests may add to it.
    pub fn pool_builder(&self, name: &str) -> CreateUserPoolFluentBuilder {
        self.idp
            .create_user_pool()
            .pool_name(name)
            .auto_verified_attributes(VerifiedAttributeType::Email)
            .schema(custom_string_attribute("tier"))
    }

    /// Sends a CreateUserPool request and adds the default app client.
    pub async fn finish_pool(&self, builder: CreateUserPoolFluentBuilder) -> TestPool {
        let out = builder.send().await.expect("CreateUserPool");
        let pool_id = out.user_pool().and_then(|p| p.id()).expect("pool id").to_string();
        let client_id = self.create_client(&pool_id, "app", false).await.0;
        TestPool { pool_id, client_id }
    }

    /// A pool with the suite's defaults and the default app client.
    pub async fn create_pool(&self, name: &str) -> TestPool {
        self.finish_pool(self.pool_builder(name)).await
    }

    /// Creates an app client with USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH and
    /// REFRESH_TOKEN_AUTH; returns (client id, client secret when `secret`).
    pub async fn create_client(&self, pool_id: &str, name: &str, secret: bool) -> (String, Option<String>) {
        let out = self
            .idp
            .create_user_pool_client()
            .user_pool_id(pool_id)
            .client_name(name)
            .generate_secret(secret)
            .set_explicit_auth_flows(Some(default_flows()))
            .send()
            .await
            .expect("CreateUserPoolClient");
        let client = out.user_pool_client().expect("client in response");
        (
            client.client_id().expect("client id").to_string(),
            client.client_secret().map(str::to_string),
        )
    }

    // ----------------------------------------------------------------------------------------
    // Users
    // ----------------------------------------------------------------------------------------

    /// Creates a CONFIRMED user through the admin API, with a verified email and a permanent
    /// [`PASSWORD`]; nothing is sent. Returns the user's `sub`.
    pub async fn admin_user(&self, pool: &TestPool, username: &str, email: &str) -> String {
        let out = self
            .idp
            .admin_create_user()
            .user_pool_id(&pool.pool_id)
            .username(username)
            .message_action(MessageActionType::Suppress)
            .user_attributes(attr("email", email))
            .user_attributes(attr("email_verified", "true"))
            .send()
            .await
            .expect("AdminCreateUser");
        self.idp
            .admin_set_user_password()
            .user_pool_id(&pool.pool_id)
            .username(username)
            .password(PASSWORD)
            .permanent(true)
            .send()
            .await
            .expect("AdminSetUserPassword");
        let user = out.user().expect("user in response");
        attr_value(user.attributes(), "sub").expect("sub attribute")
    }

    /// SignUp + ConfirmSignUp (with the code from the outbox) with [`PASSWORD`]. Returns the sub.
    pub async fn sign_up_confirmed(&self, pool: &TestPool, username: &str, email: &str) -> String {
        let out = self
            .idp
            .sign_up()
            .client_id(&pool.client_id)
            .username(username)
            .password(PASSWORD)
            .user_attributes(attr("email", email))
            .send()
            .await
            .expect("SignUp");
        let code = self.last_code(email).await;
        self.idp
            .confirm_sign_up()
            .client_id(&pool.client_id)
            .username(username)
            .confirmation_code(code)
            .send()
            .await
            .expect("ConfirmSignUp");
        out.user_sub().to_string()
    }

    /// InitiateAuth USER_PASSWORD_AUTH; panics unless tokens come back.
    pub async fn sign_in(&self, pool: &TestPool, username: &str, password: &str) -> AuthenticationResultType {
        let out = self
            .idp
            .initiate_auth()
            .client_id(&pool.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password)
            .send()
            .await
            .expect("InitiateAuth USER_PASSWORD_AUTH");
        assert!(out.challenge_name().is_none(), "unexpected challenge: {out:?}");
        out.authentication_result().cloned().expect("AuthenticationResult")
    }

    /// REFRESH_TOKEN_AUTH through InitiateAuth.
    pub async fn refresh(
        &self,
        pool: &TestPool,
        refresh_token: &str,
    ) -> Result<
        idp::operation::initiate_auth::InitiateAuthOutput,
        idp::error::SdkError<idp::operation::initiate_auth::InitiateAuthError>,
    > {
        self.idp
            .initiate_auth()
            .client_id(&pool.client_id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", refresh_token)
            .send()
            .await
    }

    /// AdminGetUser's attributes as (name, value) pairs.
    pub async fn admin_attrs(&self, pool: &TestPool, username: &str) -> Vec<(String, String)> {
        let out = self
            .idp
            .admin_get_user()
            .user_pool_id(&pool.pool_id)
            .username(username)
            .send()
            .await
            .expect("AdminGetUser");
        pairs(out.user_attributes())
    }

    // ----------------------------------------------------------------------------------------
    // Outbox
    // ----------------------------------------------------------------------------------------

    /// `GET /_cognate/messages[?to=ADDRESS]`, oldest first.
    pub async fn messages(&self, to: Option<&str>) -> Vec<Value> {
        let mut req = self.http.get(format!("{}/_cognate/messages", self.endpoint));
        if let Some(to) = to {
            req = req.query(&[("to", to)]);
        }
        let resp = req.send().await.expect("GET /_cognate/messages");
        assert!(resp.status().is_success(), "outbox status {}", resp.status());
        let v: Value = resp.json().await.expect("outbox JSON");
        let list = v.as_array().expect("outbox is a JSON array").clone();
        // Whatever the server does with `to`, only return messages for that address.
        match to {
            Some(to) => list.into_iter().filter(|m| m["to"] == to).collect(),
            None => list,
        }
    }

    /// The newest message sent to `to`; panics when there is none.
    pub async fn last_message(&self, to: &str) -> Value {
        self.messages(Some(to))
            .await
            .pop()
            .unwrap_or_else(|| panic!("no message was sent to {to}"))
    }

    /// The 6-digit code in the newest message sent to `to`.
    pub async fn last_code(&self, to: &str) -> String {
        let msg = self.last_message(to).await;
        let body = msg["body"].as_str().expect("message body");
        extract_code(body).unwrap_or_else(|| panic!("no 6-digit code in {body:?}"))
    }

    // ----------------------------------------------------------------------------------------
    // Tokens
    // ----------------------------------------------------------------------------------------

    /// `GET /{poolId}/.well-known/jwks.json`
    pub async fn jwks(&self, pool_id: &str) -> Value {
        self.get_json(&format!("/{pool_id}/.well-known/jwks.json")).await
    }

    /// `GET /{poolId}/.well-known/openid-configuration`
    pub async fn openid_configuration(&self, pool_id: &str) -> Value {
        self.get_json(&format!("/{pool_id}/.well-known/openid-configuration"))
            .await
    }

    async fn get_json(&self, path: &str) -> Value {
        let resp = self
            .http
            .get(format!("{}{}", self.endpoint, path))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert!(resp.status().is_success(), "GET {path}: status {}", resp.status());
        resp.json()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: not JSON: {e}"))
    }

    /// Verifies an RS256 JWT against the pool's JWKS and returns it decoded.
    pub async fn verify_jwt(&self, pool_id: &str, token: &str) -> Jwt {
        let jwks = self.jwks(pool_id).await;
        verify_jwt_with(&jwks, token)
    }

    // ----------------------------------------------------------------------------------------
    // Raw wire
    // ----------------------------------------------------------------------------------------

    /// `POST /` with `X-Amz-Target: AWSCognitoIdentityProviderService.{op}` and a raw body.
    /// Returns the response (status and headers intact).
    pub async fn raw(&self, target: &str, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.http
            .post(format!("{}/", self.endpoint))
            .header("Content-Type", "application/x-amz-json-1.1")
            .header("X-Amz-Target", target)
            .body(body)
            .send()
            .await
            .expect("raw POST /")
    }

    /// Calls `op` with exactly this JSON body (the shape another SDK sends, e.g. the AWS SDK for
    /// Go, which leaves false and zero members out) and returns the JSON answer; panics unless
    /// the call succeeds.
    pub async fn call(&self, op: &str, body: Value) -> Value {
        let resp = self
            .raw(&format!("AWSCognitoIdentityProviderService.{op}"), body.to_string())
            .await;
        let status = resp.status();
        let text = resp.text().await.expect("response body");
        assert!(status.is_success(), "{op} failed ({status}): {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{op}: answer is not JSON ({e}): {text}"))
    }
}

/// The client auth flows the default app client gets.
pub fn default_flows() -> Vec<ExplicitAuthFlowsType> {
    vec![
        ExplicitAuthFlowsType::AllowUserPasswordAuth,
        ExplicitAuthFlowsType::AllowAdminUserPasswordAuth,
        ExplicitAuthFlowsType::AllowRefreshTokenAuth,
    ]
}

/// A mutable custom string attribute definition (name without the `custom:` prefix).
pub fn custom_string_attribute(name: &str) -> SchemaAttributeType {
    SchemaAttributeType::builder()
        .name(name)
        .attribute_data_type(AttributeDataType::String)
        .mutable(true)
        .string_attribute_constraints(
            StringAttributeConstraintsType::builder()
                .min_length("0")
                .max_length("256")
                .build(),
        )
        .build()
}

/// `AttributeType { Name, Value }`.
pub fn attr(name: &str, value: &str) -> AttributeType {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .expect("attribute")
}

/// The value of attribute `name`, if present.
pub fn attr_value(attrs: &[AttributeType], name: &str) -> Option<String> {
    attrs
        .iter()
        .find(|a| a.name() == name)
        .and_then(|a| a.value())
        .map(str::to_string)
}

/// Attributes as (name, value) pairs.
pub fn pairs(attrs: &[AttributeType]) -> Vec<(String, String)> {
    attrs
        .iter()
        .map(|a| (a.name().to_string(), a.value().unwrap_or_default().to_string()))
        .collect()
}

/// Looks a name up in (name, value) pairs.
pub fn lookup(pairs: &[(String, String)], name: &str) -> Option<String> {
    pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
}

/// The first run of exactly six ASCII digits in `body`.
pub fn extract_code(body: &str) -> Option<String> {
    let bytes = body.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if i - start == 6 {
                return Some(body[start..i].to_string());
            }
        } else {
            i += 1;
        }
    }
    None
}

/// The temporary password in an invitation built from the default template
/// ("Your username is {username} and temporary password is {####}.").
pub fn extract_temp_password(body: &str) -> Option<String> {
    const MARKER: &str = "temporary password is ";
    let start = body.find(MARKER)? + MARKER.len();
    let rest = &body[start..];
    let token = rest.split_whitespace().next()?;
    // The template puts a full stop right after the password.
    let token = token.strip_suffix('.').unwrap_or(token);
    Some(token.to_string())
}

/// `base64(HMAC-SHA256(secret, username + clientId))`
pub fn secret_hash(client_secret: &str, username: &str, client_id: &str) -> String {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, client_secret.as_bytes());
    let tag = aws_lc_rs::hmac::sign(&key, format!("{username}{client_id}").as_bytes());
    STANDARD.encode(tag.as_ref())
}

/// Decodes a JWT without verifying it.
pub fn decode_jwt(token: &str) -> Jwt {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a JWS has three parts: {token}");
    let part = |s: &str| -> Value {
        let bytes = URL_SAFE_NO_PAD
            .decode(s.trim_end_matches('='))
            .unwrap_or_else(|e| panic!("JWT part is not base64url: {e}"));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("JWT part is not JSON: {e}"))
    };
    Jwt {
        header: part(parts[0]),
        claims: part(parts[1]),
    }
}

/// Verifies an RS256 JWT against a JWKS document (`{"keys": [...]}`) and returns it decoded.
pub fn verify_jwt_with(jwks: &Value, token: &str) -> Jwt {
    let jwt = decode_jwt(token);
    assert_eq!(jwt.header["alg"], "RS256", "header: {}", jwt.header);
    let kid = jwt.header["kid"].as_str().expect("kid in header");
    let key = jwks["keys"]
        .as_array()
        .expect("JWKS keys array")
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap_or_else(|| panic!("kid {kid} is not in the JWKS {jwks}"));
    assert_eq!(key["kty"], "RSA");
    let b64 = |name: &str| {
        URL_SAFE_NO_PAD
            .decode(key[name].as_str().unwrap_or_else(|| panic!("JWK without {name}")))
            .unwrap_or_else(|e| panic!("JWK {name} is not base64url: {e}"))
    };
    let (n, e) = (b64("n"), b64("e"));
    let (signing_input, sig) = token.rsplit_once('.').expect("JWT");
    let sig = URL_SAFE_NO_PAD.decode(sig).expect("signature is base64url");
    aws_lc_rs::signature::RsaPublicKeyComponents { n: &n, e: &e }
        .verify(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            signing_input.as_bytes(),
            &sig,
        )
        .unwrap_or_else(|_| panic!("RS256 signature does not verify with kid {kid}"));
    jwt
}

/// Expects an error; returns its service error code and message.
#[track_caller]
pub fn aws_err<T: Debug, E: ProvideErrorMetadata + Debug>(result: Result<T, E>) -> AwsError {
    match result {
        Ok(v) => panic!("expected an error, got Ok({v:?})"),
        Err(e) => match e.code() {
            Some(code) => AwsError {
                code: code.to_string(),
                message: e.message().map(str::to_string),
            },
            None => panic!("expected a service error with a code, got {e:?}"),
        },
    }
}

/// Expects the service error `code`; returns its message (empty when none).
#[track_caller]
pub fn expect_err<T: Debug, E: ProvideErrorMetadata + Debug>(result: Result<T, E>, code: &str) -> String {
    let err = aws_err(result);
    assert_eq!(err.code, code, "wrong error (message: {:?})", err.message);
    err.message.unwrap_or_default()
}

/// Expects the service error `code` with exactly `message`.
#[track_caller]
pub fn expect_err_msg<T: Debug, E: ProvideErrorMetadata + Debug>(result: Result<T, E>, code: &str, message: &str) {
    let got = expect_err(result, code);
    assert_eq!(got, message, "wrong message for {code}");
}

/// True when `s` looks like an AWS user pool id: `us-east-1_` + 9 alphanumerics.
pub fn is_pool_id(s: &str) -> bool {
    match s.strip_prefix("us-east-1_") {
        Some(rest) => rest.len() == 9 && rest.chars().all(|c| c.is_ascii_alphanumeric()),
        None => false,
    }
}

/// True when `s` is a canonical (lowercase, hyphenated) UUID.
pub fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && s.chars()
            .all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c))
}

/// Epoch seconds as i64 from a JSON claim.
pub fn claim_i64(jwt: &Jwt, name: &str) -> i64 {
    jwt.claims[name]
        .as_i64()
        .unwrap_or_else(|| panic!("claim {name} is not an integer: {}", jwt.claims))
}
