//! The production profile: signed operations need an AWS SigV4 signature by a key of the
//! `--access-keys` file, checked against the AWS SDK's own signatures (and aws-sigv4's, for a
//! raw request whose body is swapped after signing). Unsigned operations stay open; CORS keeps
//! foreign web pages away from signed operations and `/_cognate/*`.

use aws_sdk_cognitoidentityprovider as idp;
use aws_sdk_kms as kms;
use cognate_sdk_tests::*;
use idp::config::retry::RetryConfig;
use idp::config::{BehaviorVersion, Credentials, Region};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

const PREFIX: &str = "AWSCognitoIdentityProviderService.";
const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your \
                        AWS Secret Access Key and signing method. Consult the service documentation for details.";

/// Replaces the key file at once (a new file renamed over the old), readable by its owner only.
fn write_keys(path: &Path, text: &str) {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f.sync_all().unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// A production server whose key file holds the suite's default key (`AKIDTEST`/`secret`, the
/// credentials of `c.idp`) plus `extra` lines.
async fn production(dir: &tempfile::TempDir, extra: &str) -> (Cognate, PathBuf) {
    let path = dir.path().join("keys");
    write_keys(&path, &format!("# the suite's client\nAKIDTEST secret\n{extra}"));
    let opts = cognate::ServeOptions {
        production: true,
        access_keys: Some(path.clone()),
        ..base_options()
    };
    (Cognate::start_with(opts, None).await, path)
}

fn client_with(endpoint: &str, id: &str, secret: &str, clock: Option<SkewedClock>) -> idp::Client {
    let mut b = idp::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .credentials_provider(Credentials::new(id, secret, None, None, "sigv4-tests"))
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::disabled());
    if let Some(c) = clock {
        b = b.time_source(c);
    }
    idp::Client::from_conf(b.build())
}

fn kms_client(endpoint: &str, id: &str, secret: &str) -> kms::Client {
    let config = kms::Config::builder()
        .behavior_version(kms::config::BehaviorVersion::latest())
        .region(kms::config::Region::new(REGION))
        .credentials_provider(kms::config::Credentials::new(id, secret, None, None, "sigv4-tests"))
        .endpoint_url(endpoint)
        .retry_config(kms::config::retry::RetryConfig::disabled())
        .build();
    kms::Client::from_conf(config)
}

/// A client clock that runs `behind` the real one.
#[derive(Debug, Clone, Copy)]
struct SkewedClock {
    behind: Duration,
}

impl aws_smithy_async::time::TimeSource for SkewedClock {
    fn now(&self) -> SystemTime {
        SystemTime::now() - self.behind
    }
}

/// A raw POST signed by aws-sigv4 over `signed_body`, sending `sent_body`.
async fn raw_signed(
    c: &Cognate,
    op: &str,
    signed_body: &str,
    sent_body: &str,
    id: &str,
    secret: &str,
) -> reqwest::Response {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let url = format!("{}/", c.endpoint);
    let host = c.endpoint.trim_start_matches("http://").to_owned();
    let target = format!("{PREFIX}{op}");
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", target.as_str()),
    ];
    let identity = Credentials::new(id, secret, None, None, "sigv4-tests").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("cognito-idp")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let signable = SignableRequest::new(
        "POST",
        &url,
        headers.iter().copied(),
        SignableBody::Bytes(signed_body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut req = c.http.post(&url).body(sent_body.to_owned());
    for (name, value) in headers.iter().skip(1) {
        req = req.header(*name, *value);
    }
    for h in instructions.into_parts().0 {
        req = req.header(h.name(), h.value());
    }
    req.send().await.unwrap()
}

/// (status, __type, message) of a raw error answer.
async fn error_of(resp: reqwest::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    let header = resp
        .headers()
        .get("x-amzn-errortype")
        .map(|h| h.to_str().unwrap().to_owned());
    let body: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    let name = body["__type"].as_str().unwrap_or_default().to_owned();
    assert_eq!(header.as_deref(), Some(name.as_str()), "{body}");
    (status, name, body["message"].as_str().unwrap_or_default().to_owned())
}

#[tokio::test]
async fn right_keys_run_signed_operations_and_unsigned_ones_need_none() {
    let dir = tempfile::tempdir().unwrap();
    let (c, _) = production(&dir, "").await;
    // CreateUserPool, CreateUserPoolClient, AdminCreateUser, AdminSetUserPassword, signed by the SDK.
    let pool = c.create_pool("signed").await;
    c.admin_user(&pool, "ann", "ann@example.com").await;
    let pools = c
        .idp
        .list_user_pools()
        .max_results(10)
        .send()
        .await
        .expect("ListUserPools");
    assert_eq!(pools.user_pools().len(), 1);
    // KMS is signed too (service name `kms`).
    let kms = kms_client(&c.endpoint, "AKIDTEST", "secret");
    let key = kms.create_key().send().await.expect("CreateKey");
    let key_id = key.key_metadata().unwrap().key_id().to_owned();
    kms.encrypt()
        .key_id(&key_id)
        .plaintext(aws_sdk_kms::primitives::Blob::new(b"hi".to_vec()))
        .send()
        .await
        .expect("Encrypt");
    let unsigned_kms = c
        .http
        .post(format!("{}/", c.endpoint))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "TrentService.ListKeys")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(unsigned_kms).await.1, "MissingAuthenticationTokenException");

    // Unsigned operations: raw requests without any Authorization header.
    let resp = c
        .raw(
            &format!("{PREFIX}SignUp"),
            json!({"ClientId": pool.client_id, "Username": "bob", "Password": PASSWORD,
                   "UserAttributes": [{"Name": "email", "Value": "bob@example.com"}]})
            .to_string(),
        )
        .await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    let resp = c
        .raw(
            &format!("{PREFIX}InitiateAuth"),
            json!({"ClientId": pool.client_id, "AuthFlow": "USER_PASSWORD_AUTH",
                   "AuthParameters": {"USERNAME": "ann", "PASSWORD": PASSWORD}})
            .to_string(),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let out: Value = resp.json().await.unwrap();
    assert!(out["AuthenticationResult"]["AccessToken"].is_string(), "{out}");
    // JWKS and discovery are open.
    assert!(c.jwks(&pool.pool_id).await["keys"].is_array());
    assert!(c.openid_configuration(&pool.pool_id).await["issuer"].is_string());
    c.shutdown().await;
}

#[tokio::test]
async fn bad_signatures_are_refused_as_aws_refuses_them() {
    let dir = tempfile::tempdir().unwrap();
    let (c, _) = production(&dir, "").await;

    let wrong = client_with(&c.endpoint, "AKIDTEST", "not-the-secret", None);
    expect_err_msg(
        wrong.list_user_pools().max_results(10).send().await,
        "InvalidSignatureException",
        MISMATCH,
    );

    let unknown = client_with(&c.endpoint, "AKIDNOBODY", "secret", None);
    expect_err_msg(
        unknown.list_user_pools().max_results(10).send().await,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    );

    let stale = client_with(
        &c.endpoint,
        "AKIDTEST",
        "secret",
        Some(SkewedClock {
            behind: Duration::from_secs(600),
        }),
    );
    let message = expect_err(
        stale.list_user_pools().max_results(10).send().await,
        "InvalidSignatureException",
    );
    assert!(
        message.starts_with("Signature expired: ")
            && message.contains(" is now earlier than ")
            && message.ends_with(" - 5 min.)"),
        "{message}"
    );

    // No Authorization header at all.
    let resp = c.raw(&format!("{PREFIX}ListUserPools"), r#"{"MaxResults": 10}"#).await;
    assert_eq!(
        error_of(resp).await,
        (
            403,
            "MissingAuthenticationTokenException".into(),
            "Missing Authentication Token".into()
        )
    );
    // An Authorization header that is not a SigV4 one.
    let resp = c
        .http
        .post(format!("{}/", c.endpoint))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("{PREFIX}ListUserPools"))
        .header("authorization", "Bearer abc")
        .body(r#"{"MaxResults": 10}"#)
        .send()
        .await
        .unwrap();
    let (status, name, message) = error_of(resp).await;
    assert_eq!((status, name.as_str()), (400, "IncompleteSignatureException"));
    assert!(
        message.contains("Authorization header requires 'Credential' parameter."),
        "{message}"
    );

    // A body swapped after signing.
    let signed = r#"{"PoolName": "mine"}"#;
    let resp = raw_signed(
        &c,
        "CreateUserPool",
        signed,
        r#"{"PoolName": "evil"}"#,
        "AKIDTEST",
        "secret",
    )
    .await;
    assert_eq!(
        error_of(resp).await,
        (400, "InvalidSignatureException".into(), MISMATCH.into())
    );
    // The same signer, with the body it signed, is accepted: the refusal is the swap's doing.
    let resp = raw_signed(&c, "CreateUserPool", signed, signed, "AKIDTEST", "secret").await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    c.shutdown().await;
}

#[tokio::test]
async fn keys_limited_to_pools_and_key_file_changes() {
    let dir = tempfile::tempdir().unwrap();
    let (c, path) = production(&dir, "").await;
    let mine = c.create_pool("mine").await;
    let other = c.create_pool("other").await;
    let scoped = client_with(&c.endpoint, "AKIDPOOL", "pool-secret", None);
    expect_err(
        scoped.list_user_pools().max_results(10).send().await,
        "UnrecognizedClientException",
    );

    // A key added to the file works at once, on its pool only.
    write_keys(
        &path,
        &format!("AKIDTEST secret\nAKIDPOOL pool-secret {}  # one pool\n", mine.pool_id),
    );
    scoped
        .admin_create_user()
        .user_pool_id(&mine.pool_id)
        .username("ok")
        .send()
        .await
        .expect("AdminCreateUser in its pool");
    expect_err_msg(
        scoped
            .admin_create_user()
            .user_pool_id(&other.pool_id)
            .username("no")
            .send()
            .await,
        "AccessDeniedException",
        "User: AKIDPOOL is not authorized to perform: cognito-idp:AdminCreateUser",
    );
    let listed = scoped
        .list_user_pools()
        .max_results(10)
        .send()
        .await
        .expect("ListUserPools");
    let ids: Vec<_> = listed.user_pools().iter().filter_map(|p| p.id()).collect();
    assert_eq!(ids, [mine.pool_id.as_str()], "a scoped key lists only its pools");
    expect_err(
        scoped.create_user_pool().pool_name("new").send().await,
        "AccessDeniedException",
    );
    let scoped_kms = kms_client(&c.endpoint, "AKIDPOOL", "pool-secret");
    expect_err(scoped_kms.list_keys().send().await, "AccessDeniedException");

    // A file others can read grants nothing, until it is private again.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    expect_err(
        c.idp.list_user_pools().max_results(10).send().await,
        "UnrecognizedClientException",
    );
    // Removing a key revokes it.
    write_keys(&path, "AKIDTEST secret\n");
    c.idp
        .list_user_pools()
        .max_results(10)
        .send()
        .await
        .expect("the file is private again");
    expect_err(
        scoped.list_user_pools().max_results(10).send().await,
        "UnrecognizedClientException",
    );
    c.shutdown().await;
}

#[tokio::test]
async fn production_refuses_to_start_without_private_keys() {
    let err = cognate::start(cognate::ServeOptions {
        production: true,
        ..base_options()
    })
    .await
    .err()
    .expect("no keys: no start");
    assert!(format!("{err:#}").contains("--access-keys"), "{err:#}");

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys");
    std::fs::write(&path, "AKIDTEST secret\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = cognate::start(cognate::ServeOptions {
        production: true,
        access_keys: Some(path.clone()),
        ..base_options()
    })
    .await
    .err()
    .expect("a key file others can read: no start");
    let msg = format!("{err:#}");
    assert!(msg.contains("chmod 600") && !msg.contains("secret\n"), "{msg}");
}

#[tokio::test]
async fn cross_origin_pages_reach_unsigned_operations_only() {
    // The development profile has the outbox, so /_cognate/* matters most there.
    let c = Cognate::start().await;
    let pool = c.create_pool("cors").await;
    let url = format!("{}/", c.endpoint);
    let evil = "https://evil.example";
    let preflight = |headers: &'static str| {
        c.http
            .request(reqwest::Method::OPTIONS, &url)
            .header("origin", evil)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", headers)
            .send()
    };
    // What amazon-cognito-identity-js sends before InitiateAuth.
    let ok = preflight("content-type,x-amz-target,x-amz-user-agent").await.unwrap();
    assert!(ok.status().is_success(), "{}", ok.status());
    assert_eq!(ok.headers()["access-control-allow-origin"], "*");
    // A signed call needs Authorization: refused before it is sent.
    let refused = preflight("authorization,content-type,x-amz-date,x-amz-target")
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.headers().get("access-control-allow-origin").is_none());

    let post = |target: String, body: Value, origin: &'static str| {
        c.http
            .post(&url)
            .header("origin", origin)
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", target)
            .body(body.to_string())
            .send()
    };
    let resp = post(
        format!("{PREFIX}InitiateAuth"),
        json!({"ClientId": pool.client_id, "AuthFlow": "USER_PASSWORD_AUTH",
               "AuthParameters": {"USERNAME": "nobody", "PASSWORD": PASSWORD}}),
        evil,
    )
    .await
    .unwrap();
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    let (status, name, _) = error_of(resp).await;
    assert_eq!(status, 400, "the operation ran and refused the unknown user ({name})");
    let resp = post(format!("{PREFIX}CreateUserPool"), json!({"PoolName": "x"}), evil)
        .await
        .unwrap();
    assert_eq!(error_of(resp).await.0, 403);
    let pools = c.idp.list_user_pools().max_results(10).send().await.unwrap();
    assert_eq!(
        pools.user_pools().len(),
        1,
        "the cross-origin CreateUserPool did not run"
    );

    let outbox = |origin: String| {
        c.http
            .get(format!("{}/_cognate/messages", c.endpoint))
            .header("origin", origin)
            .send()
    };
    assert_eq!(outbox(evil.into()).await.unwrap().status(), 403);
    assert_eq!(outbox(c.endpoint.clone()).await.unwrap().status(), 200, "same origin");
    c.shutdown().await;
}

#[tokio::test]
async fn hosted_handlers_call_signed_operations_with_a_key_of_the_server() {
    let node_modules = Path::new(env!("CARGO_MANIFEST_DIR")).join("../node/node_modules");
    assert!(
        node_modules.join("@aws-sdk/client-kms").is_dir(),
        "run `npm ci --prefix tests/node` (scripts/test does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app");
    std::fs::create_dir(&app).unwrap();
    std::fs::write(
        app.join("serverless.yml"),
        format!(
            "service: signed-handler\nprovider:\n  name: aws\n  runtime: nodejs20.x\nfunctions:\n  preSignUp:\n    \
             handler: handler.preSignUp\n    environment:\n      NODE_PATH: {}\n    events:\n      - cognitoUserPool:\n          \
             pool: Signed\n          trigger: PreSignUp\n",
            node_modules.display()
        ),
    )
    .unwrap();
    // A handler as deployed to Lambda: the SDK takes credentials and endpoint from the environment.
    std::fs::write(
        app.join("handler.js"),
        "const { KMSClient, ListKeysCommand } = require('@aws-sdk/client-kms');\n\
         exports.preSignUp = async (event) => {\n  \
           await new KMSClient({}).send(new ListKeysCommand({}));\n  \
           event.response.autoConfirmUser = true;\n  return event;\n};\n",
    )
    .unwrap();
    let keys = dir.path().join("keys");
    write_keys(&keys, "AKIDTEST secret\n");
    let opts = cognate::ServeOptions {
        production: true,
        access_keys: Some(keys),
        config: Some(app),
        ..base_options()
    };
    let c = Cognate::start_with(opts, None).await;
    let pool_id = c.server().pool_id("Signed").expect("declared pool").to_owned();
    let (client_id, _) = c.create_client(&pool_id, "app", false).await;
    let out = c
        .idp
        .sign_up()
        .client_id(&client_id)
        .username("carol")
        .password(PASSWORD)
        .send()
        .await
        .expect("the handler's signed KMS call succeeded");
    assert!(out.user_confirmed());
    c.shutdown().await;
}
