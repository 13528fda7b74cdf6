//! The `cognito_request` harness: a service shared by inputs until one changes its fixture (see
//! [`run`]), deterministic ids (so seeds can name the pool, client and user), and a small input
//! format that lets one input run a few operations in a row.
//!
//! Input: records separated by `0xFF` (a byte no JSON text contains), at most
//! [`MAX_RECORDS`]. A record's first byte picks the operation (`OPERATIONS[b % len]`), the rest
//! is the request body exactly as the HTTP layer receives it (empty means `{}`). Before a body
//! that is UTF-8 is decoded, placeholders are replaced: `@POOL`, `@CLIENT`, `@USER`,
//! `@PASSWORD`, and the latest `@ACCESS`, `@ID`, `@REFRESH` token, `@SESSION`, `@SRP_B` and
//! `@SECRET_BLOCK` seen in an answer.
use async_trait::async_trait;
use cognate_core::clock::ManualClock;
use cognate_core::ops::OPERATIONS;
use cognate_core::rng::Random;
use cognate_core::triggers::NoFunctions;
use cognate_core::{CallContext, Cognito, Compute, Error, ErrorKind, Result, Settings};
use cognate_crypto::password::{self, HashParams};
use serde_json::{Value, json};
use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

pub const MAX_RECORDS: usize = 6;
pub const SEPARATOR: u8 = 0xFF;
pub const USERNAME: &str = "alice";
pub const PASSWORD: &str = "Passw0rd!";
/// 2026-01-01T00:00:00Z.
pub const NOW_MS: i64 = 1_767_225_600_000;

/// argon2id at its minimum cost: the fuzzer is after parsing bugs, not hash strength.
const CHEAP: HashParams = HashParams {
    m_cost: 8,
    t_cost: 1,
    p_cost: 1,
};

/// Hashes inline (no thread pool that would turn a panic into an internal error), with one
/// RSA key generated per process.
pub struct InlineCompute;

#[async_trait]
impl Compute for InlineCompute {
    async fn hash_password(&self, password: String, salt: [u8; 16]) -> Result<String> {
        password::hash_password(&password, &salt, CHEAP).map_err(Error::internal)
    }
    async fn verify_password(&self, password: String, phc: String) -> Result<bool> {
        password::verify_password(&password, &phc).map_err(Error::internal)
    }
    async fn generate_rsa_key(&self) -> Result<Vec<u8>> {
        static KEY: OnceLock<Vec<u8>> = OnceLock::new();
        Ok(KEY
            .get_or_init(|| {
                cognate_crypto::jwt::generate_rsa_pkcs8()
                    .expect("generating an RSA key")
                    .to_vec()
            })
            .clone())
    }
}

/// splitmix64 from a fixed seed: the same ids, codes and salts on every run.
pub struct CounterRandom(AtomicU64);

impl Random for CounterRandom {
    fn fill(&self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let mut z = self.0.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
    }
}

/// A service with one pool, one client, one confirmed user (`alice` / `Passw0rd!`, in group
/// `admins`), and what a request may refer to.
pub struct Fixture {
    pub service: Cognito,
    pub clock: Arc<ManualClock>,
    pub vars: Vec<(&'static str, String)>,
}

/// Operations whose success may change the fixture for later inputs (the user, its password,
/// the client's flows, the pool's MFA): after one, the next input gets a fresh fixture.
const CHANGES_FIXTURE: &[&str] = &[
    "DeleteUserPool",
    "DeleteUserPoolClient",
    "AdminDeleteUser",
    "DeleteUser",
    "ChangePassword",
    "ConfirmForgotPassword",
    "AdminSetUserPassword",
    "AdminResetUserPassword",
    "AdminDisableUser",
    "UpdateUserPool",
    "UpdateUserPoolClient",
    "SetUserPoolMfaConfig",
    "AdminSetUserMFAPreference",
    "SetUserMFAPreference",
    "VerifySoftwareToken",
    "DeleteGroup",
    "AdminRemoveUserFromGroup",
    "AdminUpdateUserAttributes",
    "UpdateUserAttributes",
    "AdminDeleteUserAttributes",
    "DeleteUserAttributes",
    "VerifyUserAttribute",
];

/// Inputs one fixture serves at most (bounds the database's growth).
const REBUILD_EVERY: u32 = 2000;

/// What the fixture's setup calls; a failure here is a harness bug.
async fn must(service: &Cognito, op: &str, body: Value) -> Value {
    let t = std::time::Instant::now();
    let r = service.call(op, body, &CallContext::default()).await;
    if verbose() {
        eprintln!("fixture {op}: {:?}", t.elapsed());
    }
    match r {
        Some(Ok(v)) => v,
        other => panic!("fixture {op} failed: {other:?}"),
    }
}

pub async fn fixture() -> Fixture {
    let store = Arc::new(cognate_store::SqliteStore::memory().expect("in-memory SQLite"));
    let clock = ManualClock::new(NOW_MS);
    let service = Cognito::new(
        store,
        clock.clone(),
        Arc::new(CounterRandom(AtomicU64::new(1))),
        Arc::new(InlineCompute),
        Arc::new(NoFunctions),
        &[7u8; 32],
        Settings {
            region: "us-east-1".into(),
            account: "123456789012".into(),
            issuer_base: "http://127.0.0.1:9339".into(),
            public_base: "http://127.0.0.1:9339".into(),
        },
    )
    .expect("building the service");
    let pool = must(
        &service,
        "CreateUserPool",
        json!({
            "PoolName": "fuzz",
            "AutoVerifiedAttributes": ["email"],
            "Schema": [{"Name": "tier", "AttributeDataType": "String", "Mutable": true}],
        }),
    )
    .await["UserPool"]["Id"]
        .as_str()
        .expect("pool id")
        .to_owned();
    let client = must(
        &service,
        "CreateUserPoolClient",
        json!({
            "UserPoolId": pool,
            "ClientName": "web",
            "ExplicitAuthFlows": [
                "ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                "ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_CUSTOM_AUTH",
            ],
        }),
    )
    .await["UserPoolClient"]["ClientId"]
        .as_str()
        .expect("client id")
        .to_owned();
    must(
        &service,
        "AdminCreateUser",
        json!({
            "UserPoolId": pool,
            "Username": USERNAME,
            "MessageAction": "SUPPRESS",
            "UserAttributes": [
                {"Name": "email", "Value": "alice@example.com"},
                {"Name": "email_verified", "Value": "true"},
            ],
        }),
    )
    .await;
    must(
        &service,
        "AdminSetUserPassword",
        json!({"UserPoolId": pool, "Username": USERNAME, "Password": PASSWORD, "Permanent": true}),
    )
    .await;
    must(
        &service,
        "CreateGroup",
        json!({"UserPoolId": pool, "GroupName": "admins"}),
    )
    .await;
    must(
        &service,
        "AdminAddUserToGroup",
        json!({"UserPoolId": pool, "Username": USERNAME, "GroupName": "admins"}),
    )
    .await;
    Fixture {
        service,
        clock,
        vars: vec![
            ("@POOL", pool),
            ("@CLIENT", client),
            ("@USER", USERNAME.to_owned()),
            ("@PASSWORD", PASSWORD.to_owned()),
        ],
    }
}

/// The operation a record's first byte names.
pub fn operation(byte: u8) -> &'static str {
    OPERATIONS[byte as usize % OPERATIONS.len()]
}

/// The byte that names `op` (for writing seeds).
pub fn operation_byte(op: &str) -> u8 {
    OPERATIONS.iter().position(|o| *o == op).expect("known operation") as u8
}

/// Remembers what later records may refer to.
fn remember(vars: &mut Vec<(&'static str, String)>, answer: &Value) {
    let mut set = |name: &'static str, v: Option<&Value>| {
        if let Some(s) = v.and_then(Value::as_str) {
            vars.retain(|(n, _)| *n != name);
            vars.push((name, s.to_owned()));
        }
    };
    let auth = &answer["AuthenticationResult"];
    set("@ACCESS", auth.get("AccessToken"));
    set("@ID", auth.get("IdToken"));
    set("@REFRESH", auth.get("RefreshToken"));
    set("@SESSION", answer.get("Session"));
    set("@SRP_B", answer["ChallengeParameters"].get("SRP_B"));
    set("@SECRET_BLOCK", answer["ChallengeParameters"].get("SECRET_BLOCK"));
}

/// Decodes a body as the HTTP layer does (empty is `{}`, else JSON or SerializationException).
fn decode(body: &[u8]) -> std::result::Result<Value, Error> {
    if body.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(body).map_err(|_| {
        Error::new(
            ErrorKind::SerializationException,
            "Malformed request body: not valid JSON.",
        )
    })
}

/// `COGNATE_FUZZ_VERBOSE=1` prints each operation's outcome (to check seeds).
fn verbose() -> bool {
    static V: OnceLock<bool> = OnceLock::new();
    *V.get_or_init(|| std::env::var_os("COGNATE_FUZZ_VERBOSE").is_some())
}

thread_local! {
    static SHARED: RefCell<Option<(Fixture, u32)>> = const { RefCell::new(None) };
}

/// Runs one input on the process's fixture (built on first use, rebuilt after an input that
/// changed it and every [`REBUILD_EVERY`] inputs; its clock moves one hour per input, so
/// lockouts and codes expire). Setting up a fixture costs ~50 ms (SRP verifiers), so the
/// fuzzer shares one; [`run_fresh`] replays an input on a fixture of its own.
pub async fn run(data: &[u8]) {
    let (fx, served) = match SHARED.with(|s| s.borrow_mut().take()) {
        Some((fx, n)) if n < REBUILD_EVERY => (fx, n),
        _ => (fixture().await, 0),
    };
    fx.clock.advance(Duration::from_secs(3600));
    if !run_on(&fx, data).await {
        SHARED.with(|s| *s.borrow_mut() = Some((fx, served + 1)));
    }
}

/// Runs one input on a fixture of its own (for replaying a crash).
pub async fn run_fresh(data: &[u8]) {
    let fx = fixture().await;
    run_on(&fx, data).await;
}

/// Runs the input's records; panics on an `InternalErrorException` (a 500 for a client's
/// input). Returns whether an operation that changes the fixture succeeded.
async fn run_on(fx: &Fixture, data: &[u8]) -> bool {
    let mut vars = fx.vars.clone();
    let mut changed = false;
    let ctx = CallContext {
        user_agent: Some("aws-sdk-js/3.0.0".into()),
    };
    for record in data.split(|b| *b == SEPARATOR).take(MAX_RECORDS) {
        let Some((&first, body)) = record.split_first() else {
            continue;
        };
        let op = operation(first);
        let substituted;
        let body = match std::str::from_utf8(body) {
            Ok(text) if text.contains('@') => {
                let mut t = text.to_owned();
                for (name, value) in &vars {
                    t = t.replace(name, value);
                }
                substituted = t;
                substituted.as_bytes()
            }
            _ => body,
        };
        let Ok(body) = decode(body) else { continue };
        let answer = fx.service.call(op, body, &ctx).await;
        if verbose() {
            match &answer {
                Some(Ok(v)) => eprintln!("{op}: ok {}", v.to_string().chars().take(160).collect::<String>()),
                Some(Err(e)) => eprintln!("{op}: {:?} {}", e.kind, e.message),
                None => {}
            }
        }
        match answer {
            None => panic!("{op} is in OPERATIONS but call() does not know it"),
            Some(Ok(answer)) => {
                changed |= CHANGES_FIXTURE.contains(&op);
                remember(&mut vars, &answer);
            }
            Some(Err(e)) => {
                if e.kind == ErrorKind::InternalErrorException {
                    panic!("{op} answered InternalErrorException: {}", e.message);
                }
            }
        }
    }
    changed
}

/// Builds an input from `(operation, body)` records.
pub fn encode(records: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, (op, body)) in records.iter().enumerate() {
        if i > 0 {
            out.push(SEPARATOR);
        }
        out.push(operation_byte(op));
        out.extend_from_slice(body.as_bytes());
    }
    out
}

/// Valid requests for most operations (placeholders filled in at run time).
pub fn seeds() -> Vec<(String, Vec<u8>)> {
    let pool = r#""UserPoolId":"@POOL""#;
    let user = r#""UserPoolId":"@POOL","Username":"@USER""#;
    let login = r#"{"AuthFlow":"USER_PASSWORD_AUTH","ClientId":"@CLIENT","AuthParameters":{"USERNAME":"@USER","PASSWORD":"@PASSWORD"}}"#;
    let srp_a = cognate_crypto::srp::to_hex(&cognate_crypto::srp::client_public_a(&[4u8; 32]).expect("A"));
    let srp_login = format!(
        r#"{{"AuthFlow":"USER_SRP_AUTH","ClientId":"@CLIENT","AuthParameters":{{"USERNAME":"@USER","SRP_A":"{srp_a}"}}}}"#
    );
    let single: Vec<(&str, String)> = vec![
        ("CreateUserPool", r#"{"PoolName":"p2","Policies":{"PasswordPolicy":{"MinimumLength":8,"RequireSymbols":true}},"UsernameAttributes":["email"],"MfaConfiguration":"OPTIONAL","SmsConfiguration":{"SnsCallerArn":"arn:aws:iam::123456789012:role/sms"},"Schema":[{"Name":"n","AttributeDataType":"Number","NumberAttributeConstraints":{"MinValue":"1","MaxValue":"9"}}]}"#.into()),
        ("DescribeUserPool", format!("{{{pool}}}")),
        ("UpdateUserPool", format!(r#"{{{pool},"AutoVerifiedAttributes":["email"],"UserAttributeUpdateSettings":{{"AttributesRequireVerificationBeforeUpdate":["email"]}}}}"#)),
        ("ListUserPools", r#"{"MaxResults":10}"#.into()),
        ("AddCustomAttributes", format!(r#"{{{pool},"CustomAttributes":[{{"Name":"x","AttributeDataType":"String","StringAttributeConstraints":{{"MaxLength":"5"}}}}]}}"#)),
        ("SetUserPoolMfaConfig", format!(r#"{{{pool},"SoftwareTokenMfaConfiguration":{{"Enabled":true}},"MfaConfiguration":"OPTIONAL"}}"#)),
        ("TagResource", r#"{"ResourceArn":"arn:aws:cognito-idp:us-east-1:123456789012:userpool/@POOL","Tags":{"a":"b"}}"#.into()),
        ("ListTagsForResource", r#"{"ResourceArn":"arn:aws:cognito-idp:us-east-1:123456789012:userpool/@POOL"}"#.into()),
        ("CreateUserPoolClient", format!(r#"{{{pool},"ClientName":"c2","GenerateSecret":true,"AllowedOAuthFlows":["code"],"CallbackURLs":["https://x"],"TokenValidityUnits":{{"AccessToken":"minutes"}},"AccessTokenValidity":5}}"#)),
        ("UpdateUserPoolClient", format!(r#"{{{pool},"ClientId":"@CLIENT","ReadAttributes":["email"],"WriteAttributes":["email"]}}"#)),
        ("ListUserPoolClients", format!(r#"{{{pool},"MaxResults":1}}"#)),
        ("SignUp", r#"{"ClientId":"@CLIENT","Username":"bob","Password":"Passw0rd!x","UserAttributes":[{"Name":"email","Value":"bob@example.com"},{"Name":"custom:tier","Value":"gold"}],"ClientMetadata":{"k":"v"}}"#.into()),
        ("ForgotPassword", r#"{"ClientId":"@CLIENT","Username":"@USER"}"#.into()),
        ("ConfirmForgotPassword", r#"{"ClientId":"@CLIENT","Username":"@USER","ConfirmationCode":"123456","Password":"N3wPassw0rd!"}"#.into()),
        ("AdminCreateUser", format!(r#"{{{pool},"Username":"carol","TemporaryPassword":"Temp0rary!","UserAttributes":[{{"Name":"phone_number","Value":"+15555550100"}}],"DesiredDeliveryMediums":["EMAIL"]}}"#)),
        ("AdminGetUser", format!("{{{user}}}")),
        ("AdminUpdateUserAttributes", format!(r#"{{{user},"UserAttributes":[{{"Name":"email","Value":"a2@example.com"}},{{"Name":"custom:tier","Value":"x"}}]}}"#)),
        ("AdminDeleteUserAttributes", format!(r#"{{{user},"UserAttributeNames":["custom:tier"]}}"#)),
        ("AdminResetUserPassword", format!("{{{user}}}")),
        ("AdminDisableUser", format!("{{{user}}}")),
        ("ListUsers", format!(r#"{{{pool},"Filter":"email ^= \"alice\"","Limit":5,"AttributesToGet":["email"]}}"#)),
        ("ListUsers", format!(r#"{{{pool},"Filter":"status = \"Enabled\"","PaginationToken":"abc"}}"#)),
        ("GetGroup", format!(r#"{{{pool},"GroupName":"admins"}}"#)),
        ("CreateGroup", format!(r#"{{{pool},"GroupName":"g2","Precedence":1,"RoleArn":"arn:aws:iam::123456789012:role/r"}}"#)),
        ("ListUsersInGroup", format!(r#"{{{pool},"GroupName":"admins","Limit":1}}"#)),
        ("AdminListGroupsForUser", format!("{{{user}}}")),
        ("InitiateAuth", login.into()),
        ("InitiateAuth", srp_login.clone()),
        ("AdminInitiateAuth", format!(r#"{{{pool},"ClientId":"@CLIENT","AuthFlow":"ADMIN_USER_PASSWORD_AUTH","AuthParameters":{{"USERNAME":"@USER","PASSWORD":"@PASSWORD"}}}}"#)),
        ("InitiateAuth", r#"{"AuthFlow":"CUSTOM_AUTH","ClientId":"@CLIENT","AuthParameters":{"USERNAME":"@USER"}}"#.into()),
        ("InitiateAuth", r#"{"AuthFlow":"REFRESH_TOKEN_AUTH","ClientId":"@CLIENT","AuthParameters":{"REFRESH_TOKEN":"eyJ"}}"#.into()),
        ("RespondToAuthChallenge", r#"{"ChallengeName":"NEW_PASSWORD_REQUIRED","ClientId":"@CLIENT","Session":"x","ChallengeResponses":{"USERNAME":"@USER","NEW_PASSWORD":"Passw0rd!2"}}"#.into()),
        ("GetUser", r#"{"AccessToken":"eyJhbGciOiJSUzI1NiJ9.e30.sig"}"#.into()),
        ("SetUserMFAPreference", r#"{"AccessToken":"x","SoftwareTokenMfaSettings":{"Enabled":true,"PreferredMfa":true}}"#.into()),
        ("AdminSetUserMFAPreference", format!(r#"{{{user},"SMSMfaSettings":{{"Enabled":true}}}}"#)),
        ("RevokeToken", r#"{"Token":"abc","ClientId":"@CLIENT"}"#.into()),
    ];
    let mut out: Vec<(String, Vec<u8>)> = single
        .iter()
        .enumerate()
        .map(|(i, (op, body))| (format!("{i:02}-{op}"), encode(&[(op, body)])))
        .collect();
    // Sequences that use an answer: tokens, sessions.
    let seqs: Vec<(&str, Vec<(&str, String)>)> = vec![
        ("login-getuser", vec![("InitiateAuth", login.into()), ("GetUser", r#"{"AccessToken":"@ACCESS"}"#.into())]),
        ("login-update", vec![
            ("InitiateAuth", login.into()),
            ("UpdateUserAttributes", r#"{"AccessToken":"@ACCESS","UserAttributes":[{"Name":"email","Value":"n@example.com"}]}"#.into()),
            ("VerifyUserAttribute", r#"{"AccessToken":"@ACCESS","AttributeName":"email","Code":"123456"}"#.into()),
        ]),
        ("login-refresh", vec![
            ("InitiateAuth", login.into()),
            ("InitiateAuth", r#"{"AuthFlow":"REFRESH_TOKEN_AUTH","ClientId":"@CLIENT","AuthParameters":{"REFRESH_TOKEN":"@REFRESH"}}"#.into()),
            ("GetTokensFromRefreshToken", r#"{"ClientId":"@CLIENT","RefreshToken":"@REFRESH"}"#.into()),
            ("RevokeToken", r#"{"Token":"@REFRESH","ClientId":"@CLIENT"}"#.into()),
        ]),
        ("login-totp", vec![
            ("SetUserPoolMfaConfig", format!(r#"{{{pool},"SoftwareTokenMfaConfiguration":{{"Enabled":true}},"MfaConfiguration":"OPTIONAL"}}"#)),
            ("InitiateAuth", login.into()),
            ("AssociateSoftwareToken", r#"{"AccessToken":"@ACCESS"}"#.into()),
            ("VerifySoftwareToken", r#"{"AccessToken":"@ACCESS","UserCode":"123456","FriendlyDeviceName":"phone"}"#.into()),
        ]),
        ("login-password", vec![
            ("InitiateAuth", login.into()),
            ("ChangePassword", r#"{"AccessToken":"@ACCESS","PreviousPassword":"@PASSWORD","ProposedPassword":"An0therPass!"}"#.into()),
            ("GlobalSignOut", r#"{"AccessToken":"@ACCESS"}"#.into()),
        ]),
        ("login-delete", vec![
            ("InitiateAuth", login.into()),
            ("DeleteUserAttributes", r#"{"AccessToken":"@ACCESS","UserAttributeNames":["custom:tier"]}"#.into()),
            ("GetUserAttributeVerificationCode", r#"{"AccessToken":"@ACCESS","AttributeName":"email"}"#.into()),
            ("DeleteUser", r#"{"AccessToken":"@ACCESS"}"#.into()),
        ]),
        ("srp-verifier", vec![
            ("InitiateAuth", srp_login),
            ("RespondToAuthChallenge", r#"{"ChallengeName":"PASSWORD_VERIFIER","ClientId":"@CLIENT","Session":"@SESSION","ChallengeResponses":{"USERNAME":"@USER","PASSWORD_CLAIM_SECRET_BLOCK":"@SECRET_BLOCK","PASSWORD_CLAIM_SIGNATURE":"AAAA","TIMESTAMP":"Thu Jan 1 00:00:00 UTC 2026"}}"#.into()),
        ]),
        ("signup-confirm", vec![
            ("SignUp", r#"{"ClientId":"@CLIENT","Username":"dave","Password":"Passw0rd!d","UserAttributes":[{"Name":"email","Value":"d@example.com"}]}"#.into()),
            ("ResendConfirmationCode", r#"{"ClientId":"@CLIENT","Username":"dave"}"#.into()),
            ("ConfirmSignUp", r#"{"ClientId":"@CLIENT","Username":"dave","ConfirmationCode":"000000"}"#.into()),
            ("AdminConfirmSignUp", format!(r#"{{{pool},"Username":"dave"}}"#)),
        ]),
        ("admin-lifecycle", vec![
            ("AdminCreateUser", format!(r#"{{{pool},"Username":"erin","TemporaryPassword":"Temp0rary!","MessageAction":"SUPPRESS"}}"#)),
            ("AdminInitiateAuth", format!(r#"{{{pool},"ClientId":"@CLIENT","AuthFlow":"ADMIN_USER_PASSWORD_AUTH","AuthParameters":{{"USERNAME":"erin","PASSWORD":"Temp0rary!"}}}}"#)),
            ("AdminRespondToAuthChallenge", format!(r#"{{{pool},"ClientId":"@CLIENT","ChallengeName":"NEW_PASSWORD_REQUIRED","Session":"@SESSION","ChallengeResponses":{{"USERNAME":"erin","NEW_PASSWORD":"Passw0rd!e"}}}}"#)),
            ("AdminUserGlobalSignOut", format!(r#"{{{pool},"Username":"erin"}}"#)),
        ]),
        ("groups", vec![
            ("UpdateGroup", format!(r#"{{{pool},"GroupName":"admins","Description":"d","Precedence":3}}"#)),
            ("ListGroups", format!(r#"{{{pool},"Limit":1}}"#)),
            ("AdminRemoveUserFromGroup", format!(r#"{{{user},"GroupName":"admins"}}"#)),
            ("DeleteGroup", format!(r#"{{{pool},"GroupName":"admins"}}"#)),
        ]),
        ("teardown", vec![
            ("AdminDeleteUser", format!("{{{user}}}")),
            ("DeleteUserPoolClient", format!(r#"{{{pool},"ClientId":"@CLIENT"}}"#)),
            ("UntagResource", r#"{"ResourceArn":"arn:aws:cognito-idp:us-east-1:123456789012:userpool/@POOL","TagKeys":["a"]}"#.into()),
            ("DeleteUserPool", format!("{{{pool}}}")),
        ]),
        ("enable", vec![
            ("AdminEnableUser", format!("{{{user}}}")),
            ("AdminSetUserPassword", format!(r#"{{{user},"Password":"Passw0rd!","Permanent":false}}"#)),
            ("GetUserPoolMfaConfig", format!("{{{pool}}}")),
            ("DescribeUserPoolClient", format!(r#"{{{pool},"ClientId":"@CLIENT"}}"#)),
        ]),
    ];
    for (name, records) in seqs {
        let records: Vec<(&str, &str)> = records.iter().map(|(o, b)| (*o, b.as_str())).collect();
        out.push((name.to_owned(), encode(&records)));
    }
    out
}
