//! Custom sender triggers end to end (spec/triggers.md §6.12, §6.13, §9), and the built-in KMS
//! driven by the AWS SDK's KMS client.
//!
//! `fixtures/custom-senders` is a serverless.yml project shaped like the seed's custom-senders
//! example: a Node CustomEmailSender whose `kmsKeyId` is a key ARN string, a Python
//! CustomSMSSender whose `kmsKeyId` is `Fn::GetAtt` of an `AWS::KMS::Key`, and a Node sender that
//! always fails. The handlers are unchanged AWS-documentation handlers: they decrypt
//! `request.code` with the AWS Encryption SDK (`@aws-crypto/client-node`, `aws-encryption-sdk`)
//! through KMS at `AWS_ENDPOINT_URL_KMS` and record what they would send. The tests drive the
//! pools with the AWS SDK for Rust and use the decrypted codes the way a user would.
//!
//! Needs the Node and Python test dependencies (`npm ci --prefix tests/node`, and
//! `tests/python/.venv` from `tests/python/requirements.txt`); the tests say so when missing.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_sdk_kms as kms;
use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ChallengeNameType, DeliveryMediumType, LambdaConfigType,
};
use cognate_sdk_tests::cognate::Storage;
use cognate_sdk_tests::triggers::fixture_dir;
use cognate_sdk_tests::*;
use kms::primitives::Blob;
use kms::types::DataKeySpec;
use serde_json::{Value, json};

const FIXTURE: &str = "custom-senders";
/// The `kmsKeyId` (an ARN string) of the email sender pool, as in the seed.
const EMAIL_KEY_ARN: &str = "arn:aws:kms:eu-west-1:111111111111:key/12345678-9abc-def0-1234-56789abcdef1";
/// How long an asynchronous sender invocation may take to show up (cold start included).
const RECORD_DEADLINE: Duration = Duration::from_secs(30);

fn function_arn(key: &str) -> String {
    format!("arn:aws:lambda:{REGION}:{ACCOUNT}:function:cup-custom-senders-dev-{key}")
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

/// `tests/node/node_modules`, checked to hold the handlers' packages and to load them as
/// CommonJS through NODE_PATH (what the Node handler relies on).
async fn node_modules() -> PathBuf {
    let dir = repo_root().join("tests/node/node_modules");
    let install = "run `npm ci --prefix tests/node` from the repository root";
    for package in ["@aws-crypto/client-node", "@aws-sdk/client-kms"] {
        assert!(
            dir.join(package).is_dir(),
            "the custom sender tests need {package} in {}: {install}",
            dir.display()
        );
    }
    let out = tokio::process::Command::new("node")
        .args([
            "-e",
            "require('@aws-crypto/client-node'); require('@aws-sdk/client-kms')",
        ])
        .env("NODE_PATH", &dir)
        .current_dir(std::env::temp_dir())
        .output()
        .await
        .unwrap_or_else(|e| panic!("the custom sender tests need `node` on PATH: {e}"));
    assert!(
        out.status.success(),
        "node cannot load the handler's packages from {}: {install}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// The site-packages of `tests/python/.venv`, checked to be importable (with PYTHONPATH) by the
/// interpreter the function host runs `python3.11` handlers with.
async fn site_packages() -> PathBuf {
    let lib = repo_root().join("tests/python/.venv/lib");
    let install = "create it with `python3 -m venv tests/python/.venv && \
                   tests/python/.venv/bin/pip install -r tests/python/requirements.txt`";
    let dir = std::fs::read_dir(&lib)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("python3."))
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.join("aws_encryption_sdk").is_dir() && p.join("boto3").is_dir())
        .unwrap_or_else(|| {
            panic!(
                "the custom sender tests need aws-encryption-sdk and boto3 in {}/python3.*/site-packages: {install}",
                lib.display()
            )
        });
    // The host prefers an interpreter named like the runtime, else python3.
    let mut last_error = String::new();
    for python in ["python3.11", "python3"] {
        match tokio::process::Command::new(python)
            .args(["-c", "import aws_encryption_sdk, boto3"])
            .env("PYTHONPATH", &dir)
            .output()
            .await
        {
            Ok(out) if out.status.success() => return dir,
            Ok(out) => {
                last_error = format!("{python}: {}", String::from_utf8_lossy(&out.stderr));
                break;
            }
            Err(e) => last_error = format!("{python}: {e}"),
        }
    }
    panic!(
        "the Python handler cannot import aws_encryption_sdk and boto3 from {} \
         (the venv must match the system python3.11 / python3): {install}\n{last_error}",
        dir.display()
    );
}

/// Cognate started from a copy of the fixture.
struct SenderApp {
    c: Cognate,
    record_file: PathBuf,
    _dir: tempfile::TempDir,
}

impl SenderApp {
    async fn start() -> Self {
        let node_modules = node_modules().await;
        let site_packages = site_packages().await;
        let dir = tempfile::Builder::new()
            .prefix("cognate-custom-senders-")
            .tempdir()
            .expect("temp dir");
        let root = dir.path().join("service");
        std::fs::create_dir_all(&root).expect("service folder");
        for entry in std::fs::read_dir(fixture_dir(FIXTURE)).expect("read the fixture") {
            let entry = entry.expect("fixture entry");
            std::fs::copy(entry.path(), root.join(entry.file_name())).expect("copy the fixture");
        }
        let record_file = dir.path().join("sent.jsonl");
        std::fs::write(&record_file, "").expect("record file");
        let yml_path = root.join("serverless.yml");
        let yml = std::fs::read_to_string(&yml_path)
            .expect("serverless.yml")
            .replace("__RECORD_FILE__", record_file.to_str().expect("utf-8 path"))
            .replace("__NODE_MODULES__", node_modules.to_str().expect("utf-8 path"))
            .replace("__SITE_PACKAGES__", site_packages.to_str().expect("utf-8 path"));
        std::fs::write(&yml_path, yml).expect("write serverless.yml");

        let mut opts = base_options();
        opts.config = Some(root);
        opts.stage = "dev".to_string();
        let c = Cognate::start_with(opts, None).await;
        SenderApp {
            c,
            record_file,
            _dir: dir,
        }
    }

    /// The declared pool `name` (found with ListUserPools, as a client would) and a new app
    /// client for it.
    async fn pool(&self, name: &str) -> TestPool {
        let out = self
            .c
            .idp
            .list_user_pools()
            .max_results(60)
            .send()
            .await
            .expect("ListUserPools");
        let pool_id = out
            .user_pools()
            .iter()
            .find(|p| p.name() == Some(name))
            .and_then(|p| p.id())
            .unwrap_or_else(|| panic!("the fixture declares no pool {name:?}"))
            .to_string();
        let client_id = self.c.create_client(&pool_id, "app", false).await.0;
        TestPool { pool_id, client_id }
    }

    async fn lambda_config(&self, pool: &TestPool) -> LambdaConfigType {
        let out = self
            .c
            .idp
            .describe_user_pool()
            .user_pool_id(&pool.pool_id)
            .send()
            .await
            .expect("DescribeUserPool");
        out.user_pool()
            .and_then(|p| p.lambda_config())
            .cloned()
            .expect("the pool has a LambdaConfig")
    }

    /// What the handlers recorded so far, oldest first.
    fn records(&self) -> Vec<Value> {
        std::fs::read_to_string(&self.record_file)
            .expect("read the record file")
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad record {l:?}: {e}")))
            .collect()
    }

    fn sources(&self) -> Vec<String> {
        self.records()
            .iter()
            .map(|r| r["triggerSource"].as_str().unwrap_or("?").to_string())
            .collect()
    }

    /// Waits (the invocation is asynchronous) for the one record of `source` for `user_name`.
    async fn record(&self, source: &str, user_name: &str) -> Value {
        let deadline = Instant::now() + RECORD_DEADLINE;
        loop {
            let mut found: Vec<Value> = self
                .records()
                .into_iter()
                .filter(|r| r["triggerSource"] == source && r["userName"] == user_name)
                .collect();
            match found.len() {
                1 => return found.remove(0),
                0 if Instant::now() < deadline => tokio::time::sleep(Duration::from_millis(100)).await,
                0 => panic!(
                    "the sender never handled {source} for {user_name} within {RECORD_DEADLINE:?}: \
                     it failed or never ran (its output goes to Cognate's log, target \
                     cognate_functions::handler); recorded: {:?}",
                    self.sources()
                ),
                n => panic!("{source} for {user_name} was sent {n} times: {found:?}"),
            }
        }
    }

    async fn shutdown(self) {
        self.c.shutdown().await;
    }
}

/// The decrypted code of a record; asserts the parts of the event every sender relies on.
#[track_caller]
fn sent_code(record: &Value, kind: &str, pool: &TestPool) -> String {
    assert_eq!(record["type"], kind, "{record}");
    assert_eq!(record["userPoolId"], pool.pool_id.as_str(), "{record}");
    // Key policies scope Cognito's grant with kms:EncryptionContext:userpool-id.
    assert_eq!(
        record["userpoolIdInContext"],
        pool.pool_id.as_str(),
        "encryption context userpool-id: {record}"
    );
    record["code"]
        .as_str()
        .unwrap_or_else(|| panic!("the handler decrypted no code: {record}"))
        .to_string()
}

#[track_caller]
fn assert_six_digits(code: &str) {
    assert!(
        code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()),
        "a verification code is 6 digits, got {code:?}"
    );
}

/// What a handler does with a temporary password before showing it (Cognito HTML-escapes it).
fn html_unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// USER_PASSWORD_AUTH for a user with a temporary password: expects NEW_PASSWORD_REQUIRED.
async fn expect_new_password_required(c: &Cognate, pool: &TestPool, username: &str, password: &str) {
    let out = c
        .idp
        .initiate_auth()
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .unwrap_or_else(|e| panic!("sign-in with the sent temporary password {password:?}: {e:?}"));
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::NewPasswordRequired));
}

async fn sign_up(c: &Cognate, pool: &TestPool, username: &str, attrs: &[(&str, &str)]) -> String {
    let mut req = c
        .idp
        .sign_up()
        .client_id(&pool.client_id)
        .username(username)
        .password(PASSWORD);
    for (name, value) in attrs {
        req = req.user_attributes(attr(name, value));
    }
    let out = req.send().await.expect("SignUp");
    assert!(!out.user_confirmed(), "the user waits for a code");
    out.user_sub().to_string()
}

async fn confirm_sign_up(c: &Cognate, pool: &TestPool, username: &str, code: &str) {
    c.idp
        .confirm_sign_up()
        .client_id(&pool.client_id)
        .username(username)
        .confirmation_code(code)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ConfirmSignUp with the code the sender decrypted ({code}): {e:?}"));
}

/// Node CustomEmailSender, `kmsKeyId` an ARN string: every email Cognito would send reaches the
/// handler instead, and the code it decrypts is the one the API accepts.
#[tokio::test]
async fn node_email_sender_decrypts_codes_that_confirm_reset_and_invite() {
    let app = SenderApp::start().await;
    let c = &app.c;
    let pool = app.pool("MyUserPool1").await;

    let lc = app.lambda_config(&pool).await;
    let sender = lc.custom_email_sender().expect("CustomEmailSender in LambdaConfig");
    assert_eq!(sender.lambda_arn(), function_arn("customEmailSenderFunction"));
    assert_eq!(sender.lambda_version().as_str(), "V1_0");
    assert_eq!(lc.kms_key_id(), Some(EMAIL_KEY_ARN));

    // SignUp (with client metadata) → CustomEmailSender_SignUp → ConfirmSignUp → sign-in.
    let alice = "alice@example.com";
    let out = c
        .idp
        .sign_up()
        .client_id(&pool.client_id)
        .username(alice)
        .password(PASSWORD)
        .user_attributes(attr("email", alice))
        .client_metadata("locale", "fr")
        .send()
        .await
        .expect("SignUp");
    assert!(!out.user_confirmed());
    let delivery = out.code_delivery_details().expect("CodeDeliveryDetails");
    assert_eq!(delivery.delivery_medium(), Some(&DeliveryMediumType::Email));
    let alice_sub = out.user_sub().to_string();
    // Email is the username attribute: Cognito's userName is the sub.
    let rec = app.record("CustomEmailSender_SignUp", &alice_sub).await;
    let code = sent_code(&rec, "customEmailSenderRequestV1", &pool);
    assert_six_digits(&code);
    assert_eq!(rec["userAttributes"]["email"], alice, "{rec}");
    assert_eq!(rec["userAttributes"]["sub"], alice_sub.as_str(), "{rec}");
    assert_eq!(rec["userAttributes"]["cognito:user_status"], "UNCONFIRMED", "{rec}");
    assert_eq!(rec["clientMetadata"], json!({"locale": "fr"}), "{rec}");
    confirm_sign_up(c, &pool, alice, &code).await;
    c.sign_in(&pool, alice, PASSWORD).await;

    // ResendConfirmationCode → CustomEmailSender_ResendCode; the resent code confirms.
    let bob = "bob@example.com";
    let bob_sub = sign_up(c, &pool, bob, &[("email", bob)]).await;
    app.record("CustomEmailSender_SignUp", &bob_sub).await;
    c.idp
        .resend_confirmation_code()
        .client_id(&pool.client_id)
        .username(bob)
        .send()
        .await
        .expect("ResendConfirmationCode");
    let rec = app.record("CustomEmailSender_ResendCode", &bob_sub).await;
    let resent = sent_code(&rec, "customEmailSenderRequestV1", &pool);
    assert_six_digits(&resent);
    assert_eq!(rec["clientMetadata"], Value::Null, "no ClientMetadata: null: {rec}");
    confirm_sign_up(c, &pool, bob, &resent).await;
    c.sign_in(&pool, bob, PASSWORD).await;

    // ForgotPassword → CustomEmailSender_ForgotPassword → ConfirmForgotPassword → new password.
    c.idp
        .forgot_password()
        .client_id(&pool.client_id)
        .username(alice)
        .send()
        .await
        .expect("ForgotPassword");
    let rec = app.record("CustomEmailSender_ForgotPassword", &alice_sub).await;
    let reset = sent_code(&rec, "customEmailSenderRequestV1", &pool);
    assert_six_digits(&reset);
    assert_eq!(rec["userAttributes"]["cognito:user_status"], "CONFIRMED", "{rec}");
    c.idp
        .confirm_forgot_password()
        .client_id(&pool.client_id)
        .username(alice)
        .confirmation_code(&reset)
        .password(NEW_PASSWORD)
        .send()
        .await
        .expect("ConfirmForgotPassword with the code the sender decrypted");
    c.sign_in(&pool, alice, NEW_PASSWORD).await;

    // AdminCreateUser with a temporary password holding < and >: it arrives HTML-escaped.
    let carol = "carol@example.com";
    let temporary = "Tmp<Pass>w0rd!";
    let created = c
        .idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username(carol)
        .temporary_password(temporary)
        .user_attributes(attr("email", carol))
        .user_attributes(attr("email_verified", "true"))
        .desired_delivery_mediums(DeliveryMediumType::Email)
        .send()
        .await
        .expect("AdminCreateUser");
    let carol_sub = attr_value(created.user().expect("user").attributes(), "sub").expect("sub");
    let rec = app.record("CustomEmailSender_AdminCreateUser", &carol_sub).await;
    let sent = sent_code(&rec, "customEmailSenderRequestV1", &pool);
    assert_eq!(sent, "Tmp&lt;Pass&gt;w0rd!");
    assert_eq!(
        rec["userAttributes"]["cognito:user_status"], "FORCE_CHANGE_PASSWORD",
        "{rec}"
    );
    expect_new_password_required(c, &pool, carol, &html_unescape(&sent)).await;

    // AdminCreateUser without a password: the generated one the sender gets lets the user in.
    let dan = "dan@example.com";
    let created = c
        .idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username(dan)
        .user_attributes(attr("email", dan))
        .user_attributes(attr("email_verified", "true"))
        .send()
        .await
        .expect("AdminCreateUser");
    let dan_sub = attr_value(created.user().expect("user").attributes(), "sub").expect("sub");
    let rec = app.record("CustomEmailSender_AdminCreateUser", &dan_sub).await;
    let generated = html_unescape(&sent_code(&rec, "customEmailSenderRequestV1", &pool));
    expect_new_password_required(c, &pool, dan, &generated).await;

    // One invocation per message, and Cognate itself sent nothing.
    assert_eq!(
        app.sources(),
        [
            "CustomEmailSender_SignUp",
            "CustomEmailSender_SignUp",
            "CustomEmailSender_ResendCode",
            "CustomEmailSender_ForgotPassword",
            "CustomEmailSender_AdminCreateUser",
            "CustomEmailSender_AdminCreateUser",
        ]
    );
    assert!(
        app.records().iter().all(|r| r["runtime"] == "node"),
        "{:?}",
        app.records()
    );
    let outbox = c.messages(None).await;
    assert!(
        outbox.is_empty(),
        "the custom sender replaces Cognate's email: {outbox:?}"
    );
    app.shutdown().await;
}

/// Python CustomSMSSender, `kmsKeyId` from `Fn::GetAtt` of the project's `AWS::KMS::Key`: the
/// SMS code it decrypts confirms the user, and the phone number is verified.
#[tokio::test]
async fn python_sms_sender_with_getatt_key_decrypts_the_sign_up_code() {
    let app = SenderApp::start().await;
    let c = &app.c;
    let pool = app.pool("MyUserPool2").await;

    let lc = app.lambda_config(&pool).await;
    let sender = lc.custom_sms_sender().expect("CustomSMSSender in LambdaConfig");
    assert_eq!(sender.lambda_arn(), function_arn("customSMSSenderFunction"));
    // Fn::GetAtt resolved to the declared key's ARN.
    let key_arn = lc.kms_key_id().expect("KMSKeyID").to_string();
    let key_prefix = format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/");
    let key_id = key_arn
        .strip_prefix(&key_prefix)
        .unwrap_or_else(|| panic!("KMSKeyID {key_arn:?} is not a key ARN of this account"));
    assert!(is_uuid(key_id), "{key_arn}");

    let phone = "+12065550100";
    let sub = sign_up(c, &pool, "dave", &[("phone_number", phone)]).await;
    let rec = app.record("CustomSMSSender_SignUp", "dave").await;
    assert_eq!(rec["runtime"], "python", "{rec}");
    // The handler's KEY_ARN (Fn::GetAtt in its environment) names the same key.
    assert_eq!(rec["keyArn"], key_arn.as_str(), "{rec}");
    let code = sent_code(&rec, "customSMSSenderRequestV1", &pool);
    assert_six_digits(&code);
    assert_eq!(rec["userAttributes"]["phone_number"], phone, "{rec}");
    assert_eq!(rec["userAttributes"]["sub"], sub.as_str(), "{rec}");
    assert_eq!(rec["clientMetadata"], Value::Null, "{rec}");

    confirm_sign_up(c, &pool, "dave", &code).await;
    let attrs = c.admin_attrs(&pool, "dave").await;
    assert_eq!(lookup(&attrs, "phone_number_verified").as_deref(), Some("true"));
    c.sign_in(&pool, "dave", PASSWORD).await;

    // The key is a key of the built-in KMS, as the deployed AWS::KMS::Key would be.
    let described = kms_client(&c.endpoint)
        .describe_key()
        .key_id(&key_arn)
        .send()
        .await
        .expect("DescribeKey of the pool's KMSKeyID");
    let meta = described.key_metadata().expect("KeyMetadata");
    assert_eq!(meta.arn(), Some(key_arn.as_str()));
    assert!(meta.enabled());

    assert_eq!(app.sources(), ["CustomSMSSender_SignUp"]);
    let outbox = c.messages(None).await;
    assert!(
        outbox.is_empty(),
        "the custom sender replaces Cognate's SMS: {outbox:?}"
    );
    app.shutdown().await;
}

/// The project's `AWS::KMS::Key` is deployed with the project, as CloudFormation would: the
/// built-in KMS knows it, and it encrypts, before any code was ever sent under it.
#[tokio::test]
async fn declared_kms_key_is_usable_before_any_code_is_sent() {
    let app = SenderApp::start().await;
    let pool = app.pool("MyUserPool2").await;
    let key_arn = app
        .lambda_config(&pool)
        .await
        .kms_key_id()
        .expect("KMSKeyID")
        .to_string();
    let kms = kms_client(&app.c.endpoint);
    let described = kms
        .describe_key()
        .key_id(&key_arn)
        .send()
        .await
        .unwrap_or_else(|e| panic!("DescribeKey of the declared key {key_arn} right after start: {e:?}"));
    let meta = described.key_metadata().expect("KeyMetadata");
    assert_eq!(meta.arn(), Some(key_arn.as_str()));
    assert!(meta.enabled());
    let encrypted = kms
        .encrypt()
        .key_id(&key_arn)
        .plaintext(Blob::new(b"app data".to_vec()))
        .send()
        .await
        .expect("Encrypt under the declared key");
    assert_eq!(encrypted.key_id(), Some(key_arn.as_str()));
    app.shutdown().await;
}

/// A sender that throws never fails the API call: the sign-up stands and can be resent.
#[tokio::test]
async fn failing_sender_never_fails_the_api_call() {
    let app = SenderApp::start().await;
    let c = &app.c;
    let pool = app.pool("MyUserPool3").await;

    let sub = sign_up(c, &pool, "erin", &[("email", "erin@example.com")]).await;
    let rec = app.record("CustomEmailSender_SignUp", "erin").await;
    assert_eq!(rec["failed"], true, "{rec}");
    let user = c
        .idp
        .admin_get_user()
        .user_pool_id(&pool.pool_id)
        .username("erin")
        .send()
        .await
        .expect("AdminGetUser: the user exists");
    assert_eq!(user.user_status().map(|s| s.as_str()), Some("UNCONFIRMED"));
    assert_eq!(attr_value(user.user_attributes(), "sub").as_deref(), Some(sub.as_str()));

    c.idp
        .resend_confirmation_code()
        .client_id(&pool.client_id)
        .username("erin")
        .send()
        .await
        .expect("ResendConfirmationCode succeeds although the sender fails");
    app.record("CustomEmailSender_ResendCode", "erin").await;
    // No fallback: Cognate does not send the email itself.
    let outbox = c.messages(None).await;
    assert!(outbox.is_empty(), "{outbox:?}");
    app.shutdown().await;
}

/// A KMS client from the AWS SDK for Rust pointed at Cognate (the same port as Cognito).
fn kms_client(endpoint: &str) -> kms::Client {
    let config = kms::Config::builder()
        .behavior_version(kms::config::BehaviorVersion::latest())
        .region(kms::config::Region::new(REGION))
        .credentials_provider(kms::config::Credentials::new(
            "AKIDTEST",
            "secret",
            None,
            None,
            "cognate-tests",
        ))
        .endpoint_url(endpoint)
        .retry_config(kms::config::retry::RetryConfig::disabled())
        .build();
    kms::Client::from_conf(config)
}

fn kms_error_code<T: std::fmt::Debug, E: kms::error::ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, E>,
) -> String {
    match result {
        Ok(v) => panic!("expected a KMS error, got {v:?}"),
        Err(e) => e
            .code()
            .unwrap_or_else(|| panic!("expected a service error, got {e:?}"))
            .to_string(),
    }
}

/// The built-in KMS through the AWS SDK's KMS client: keys, envelope encryption and aliases,
/// kept across a restart on the same data folder.
#[tokio::test]
async fn kms_endpoint_serves_the_aws_sdk_kms_client_and_keeps_keys_across_restarts() {
    let data = tempfile::Builder::new()
        .prefix("cognate-kms-")
        .tempdir()
        .expect("temp dir");
    let mut opts = base_options();
    opts.storage = Storage::Data(data.path().to_path_buf());
    let c = Cognate::start_with(opts.clone(), None).await;
    let kms = kms_client(&c.endpoint);

    // CreateKey / DescribeKey
    let created = kms
        .create_key()
        .description("custom sender codes")
        .send()
        .await
        .expect("CreateKey");
    let meta = created.key_metadata().expect("KeyMetadata");
    let key_id = meta.key_id().to_string();
    assert!(is_uuid(&key_id), "{key_id}");
    let key_arn = format!("arn:aws:kms:{REGION}:{ACCOUNT}:key/{key_id}");
    assert_eq!(meta.arn(), Some(key_arn.as_str()));
    assert!(meta.enabled());
    assert_eq!(meta.description(), Some("custom sender codes"));
    for id in [key_id.as_str(), key_arn.as_str()] {
        let described = kms.describe_key().key_id(id).send().await.expect("DescribeKey");
        let m = described.key_metadata().expect("KeyMetadata");
        assert_eq!(m.key_id(), key_id);
        assert_eq!(m.arn(), Some(key_arn.as_str()));
    }
    let unknown = kms
        .describe_key()
        .key_id("00000000-0000-4000-8000-000000000000")
        .send()
        .await;
    assert_eq!(kms_error_code(unknown), "NotFoundException");

    // Encrypt / Decrypt, bound to the encryption context.
    let plaintext = b"123456".to_vec();
    let encrypted = kms
        .encrypt()
        .key_id(&key_id)
        .plaintext(Blob::new(plaintext.clone()))
        .encryption_context("userpool-id", "us-east-1_EXAMPLE")
        .send()
        .await
        .expect("Encrypt");
    assert_eq!(encrypted.key_id(), Some(key_arn.as_str()));
    let ciphertext = encrypted.ciphertext_blob().expect("CiphertextBlob").clone();
    assert_ne!(ciphertext.as_ref(), plaintext.as_slice());
    let decrypted = kms
        .decrypt()
        .ciphertext_blob(ciphertext.clone())
        .encryption_context("userpool-id", "us-east-1_EXAMPLE")
        .send()
        .await
        .expect("Decrypt");
    assert_eq!(decrypted.plaintext().expect("Plaintext").as_ref(), plaintext.as_slice());
    assert_eq!(decrypted.key_id(), Some(key_arn.as_str()));
    let wrong_context = kms
        .decrypt()
        .ciphertext_blob(ciphertext.clone())
        .encryption_context("userpool-id", "us-east-1_OTHER")
        .send()
        .await;
    assert_eq!(kms_error_code(wrong_context), "InvalidCiphertextException");

    // GenerateDataKey: a 256-bit key and its encrypted copy, which Decrypt opens.
    let data_key = kms
        .generate_data_key()
        .key_id(&key_arn)
        .key_spec(DataKeySpec::Aes256)
        .send()
        .await
        .expect("GenerateDataKey");
    let data_plain = data_key.plaintext().expect("Plaintext").as_ref().to_vec();
    assert_eq!(data_plain.len(), 32);
    assert_eq!(data_key.key_id(), Some(key_arn.as_str()));
    let data_cipher = data_key.ciphertext_blob().expect("CiphertextBlob").clone();
    let opened = kms
        .decrypt()
        .ciphertext_blob(data_cipher.clone())
        .send()
        .await
        .expect("Decrypt the data key");
    assert_eq!(opened.plaintext().expect("Plaintext").as_ref(), data_plain.as_slice());

    // CreateAlias / ListAliases; the alias names the key.
    kms.create_alias()
        .alias_name("alias/custom-sender")
        .target_key_id(&key_id)
        .send()
        .await
        .expect("CreateAlias");
    let alias_arn = format!("arn:aws:kms:{REGION}:{ACCOUNT}:alias/custom-sender");
    let aliases = |out: &kms::operation::list_aliases::ListAliasesOutput| -> Vec<(String, String, String)> {
        out.aliases()
            .iter()
            .map(|a| {
                (
                    a.alias_name().unwrap_or_default().to_string(),
                    a.alias_arn().unwrap_or_default().to_string(),
                    a.target_key_id().unwrap_or_default().to_string(),
                )
            })
            .collect()
    };
    let expected_alias = vec![("alias/custom-sender".to_string(), alias_arn.clone(), key_id.clone())];
    let listed = kms.list_aliases().key_id(&key_id).send().await.expect("ListAliases");
    assert_eq!(aliases(&listed), expected_alias);
    let via_alias = kms
        .encrypt()
        .key_id("alias/custom-sender")
        .plaintext(Blob::new(b"via alias".to_vec()))
        .send()
        .await
        .expect("Encrypt through the alias");
    assert_eq!(via_alias.key_id(), Some(key_arn.as_str()));

    // Restart on the same data folder: the key, its alias and what it encrypted are still there.
    c.shutdown().await;
    let c = Cognate::start_with(opts, None).await;
    let kms = kms_client(&c.endpoint);
    let described = kms
        .describe_key()
        .key_id("alias/custom-sender")
        .send()
        .await
        .expect("DescribeKey through the alias after a restart");
    let m = described.key_metadata().expect("KeyMetadata");
    assert_eq!(m.key_id(), key_id);
    assert_eq!(m.description(), Some("custom sender codes"));
    assert!(m.enabled());
    let decrypted = kms
        .decrypt()
        .ciphertext_blob(ciphertext)
        .encryption_context("userpool-id", "us-east-1_EXAMPLE")
        .send()
        .await
        .expect("Decrypt after a restart");
    assert_eq!(decrypted.plaintext().expect("Plaintext").as_ref(), plaintext.as_slice());
    let opened = kms
        .decrypt()
        .ciphertext_blob(data_cipher)
        .send()
        .await
        .expect("Decrypt the data key after a restart");
    assert_eq!(opened.plaintext().expect("Plaintext").as_ref(), data_plain.as_slice());
    let decrypted = kms
        .decrypt()
        .ciphertext_blob(via_alias.ciphertext_blob().expect("CiphertextBlob").clone())
        .send()
        .await
        .expect("Decrypt what the alias encrypted");
    assert_eq!(decrypted.plaintext().expect("Plaintext").as_ref(), b"via alias");
    let listed = kms.list_aliases().send().await.expect("ListAliases");
    assert!(aliases(&listed).contains(&expected_alias[0]), "{:?}", aliases(&listed));
    c.shutdown().await;
}
