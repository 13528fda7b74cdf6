//! The typed builder, driven through the AWS SDK for Rust: pools declared with closure triggers
//! behave as Cognito pools with those Lambda triggers.

// Test code: a failed unwrap is the test's report, and clients sign with the real time.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]
use aws_sdk_cognitoidentityprovider as idp;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cognate::events::{
    AccessTokenGeneration, ClaimsAndScopeOverrideDetails, ClaimsOverrideDetails, CreateAuthChallengeEvent,
    DefineAuthChallengeEvent, IdTokenGeneration, PreSignUpEvent, PreTokenGenerationEvent, PreTokenGenerationV2Event,
    UserMigrationEvent, VerifyAuthChallengeResponseEvent,
};
use cognate::{App, Function, ServeOptions, Storage, Triggers, UserPool};
use idp::config::retry::RetryConfig;
use idp::config::{BehaviorVersion, Credentials, Region};
use idp::error::{ProvideErrorMetadata, SdkError};
use idp::types::{AuthFlowType, ExplicitAuthFlowsType, UserStatusType};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const PASSWORD: &str = "Passw0rd!Initial";

fn sdk(endpoint: &str) -> idp::Client {
    let config = idp::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "cognate-tests"))
        .endpoint_url(endpoint)
        .retry_config(RetryConfig::disabled())
        .build();
    idp::Client::from_conf(config)
}

/// A client that signs in with USER_PASSWORD_AUTH.
async fn client(idp: &idp::Client, pool_id: &str) -> String {
    idp.create_user_pool_client()
        .user_pool_id(pool_id)
        .client_name("app")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .expect("CreateUserPoolClient")
        .user_pool_client()
        .and_then(|c| c.client_id())
        .expect("client id")
        .to_owned()
}

fn error_of<E: ProvideErrorMetadata, R>(e: SdkError<E, R>) -> (String, String) {
    (
        e.code().unwrap_or_default().to_owned(),
        e.message().unwrap_or_default().to_owned(),
    )
}

fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON claims")
}

async fn sign_up(idp: &idp::Client, client_id: &str, username: &str) -> Result<bool, (String, String)> {
    idp.sign_up()
        .client_id(client_id)
        .username(username)
        .password(PASSWORD)
        .send()
        .await
        .map(|out| out.user_confirmed())
        .map_err(error_of)
}

/// Signs up (confirming as admin) and in; returns (id token claims, access token claims).
async fn tokens(idp: &idp::Client, pool_id: &str, client_id: &str, username: &str) -> (Value, Value) {
    sign_up(idp, client_id, username).await.expect("SignUp");
    idp.admin_confirm_sign_up()
        .user_pool_id(pool_id)
        .username(username)
        .send()
        .await
        .expect("AdminConfirmSignUp");
    let out = idp
        .initiate_auth()
        .client_id(client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("InitiateAuth");
    let result = out.authentication_result().expect("tokens");
    (
        claims(result.id_token().expect("ID token")),
        claims(result.access_token().expect("access token")),
    )
}

async fn user_status(idp: &idp::Client, pool_id: &str, username: &str) -> UserStatusType {
    idp.admin_get_user()
        .user_pool_id(pool_id)
        .username(username)
        .send()
        .await
        .expect("AdminGetUser")
        .user_status()
        .cloned()
        .expect("a status")
}

#[tokio::test]
async fn pre_sign_up_auto_confirms_and_sees_cognitos_event() {
    let seen: Arc<Mutex<Vec<PreSignUpEvent>>> = Arc::default();
    let record = seen.clone();
    let mut app = App::new();
    UserPool::new(&mut app, "UserPool")
        .auto_verified_attributes(["email"])
        .lambda_triggers(Triggers {
            pre_sign_up: Some(Function::new(move |mut ev: PreSignUpEvent| {
                record.lock().unwrap().push(ev.clone());
                async move {
                    ev.response.auto_confirm_user = true;
                    Ok::<_, String>(ev)
                }
            })),
            ..Default::default()
        });
    let server = app.serve("127.0.0.1:0").await.expect("serve");
    let pool_id = server.pool_id("UserPool").expect("declared pool").to_owned();
    let idp = sdk(&server.endpoint());

    let described = idp.describe_user_pool().user_pool_id(&pool_id).send().await.unwrap();
    let pool = described.user_pool().unwrap();
    assert_eq!(pool.name(), Some("UserPool"));
    assert_eq!(pool.auto_verified_attributes().len(), 1);
    let arn = pool.lambda_config().and_then(|l| l.pre_sign_up()).unwrap();
    assert_eq!(arn, "arn:aws:lambda:us-east-1:123456789012:function:UserPool-preSignUp");

    let client_id = client(&idp, &pool_id).await;
    let confirmed = idp
        .sign_up()
        .client_id(&client_id)
        .username("alice")
        .password(PASSWORD)
        .user_attributes(
            idp::types::AttributeType::builder()
                .name("email")
                .value("alice@example.com")
                .build()
                .unwrap(),
        )
        .validation_data(
            idp::types::AttributeType::builder()
                .name("captcha")
                .value("ok")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("SignUp")
        .user_confirmed();
    assert!(confirmed, "autoConfirmUser takes effect");
    assert_eq!(user_status(&idp, &pool_id, "alice").await, UserStatusType::Confirmed);

    let ev = seen.lock().unwrap().pop().expect("the handler ran");
    assert_eq!(ev.version, "1");
    assert_eq!(ev.trigger_source, "PreSignUp_SignUp");
    assert_eq!(ev.region, "us-east-1");
    assert_eq!(ev.user_pool_id, pool_id);
    assert_eq!(ev.user_name, "alice");
    assert_eq!(ev.caller_context.client_id, client_id);
    assert_eq!(ev.request.user_attributes["email"], "alice@example.com");
    assert_eq!(
        ev.request.validation_data,
        Some(HashMap::from([("captcha".to_owned(), "ok".to_owned())]))
    );
    assert!(
        !ev.response.auto_confirm_user,
        "handlers get the response pre-filled with false"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn a_pre_sign_up_error_rejects_the_sign_up() {
    let mut app = App::new();
    let pool = UserPool::new(&mut app, "Strict");
    pool.on_pre_sign_up(Function::new(|ev: PreSignUpEvent| async move {
        if ev.user_name.starts_with("bot") {
            return Err(format!("{} looks like a bot", ev.user_name));
        }
        Ok(ev)
    }));
    let server = app.serve("127.0.0.1:0").await.expect("serve");
    let pool_id = server.pool_id("Strict").unwrap().to_owned();
    let idp = sdk(&server.endpoint());
    let client_id = client(&idp, &pool_id).await;

    let (code, message) = sign_up(&idp, &client_id, "bot42").await.unwrap_err();
    assert_eq!(code, "UserLambdaValidationException");
    assert_eq!(message, "PreSignUp failed with error bot42 looks like a bot.");
    let missing = idp
        .admin_get_user()
        .user_pool_id(&pool_id)
        .username("bot42")
        .send()
        .await;
    assert_eq!(error_of(missing.unwrap_err()).0, "UserNotFoundException");

    assert_eq!(
        sign_up(&idp, &client_id, "human").await,
        Ok(false),
        "not auto-confirmed"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn pre_token_generation_v1_adds_an_id_token_claim() {
    let mut app = App::new();
    let pool = UserPool::new(&mut app, "Tokens");
    pool.on_pre_token_generation(Function::new(|mut ev: PreTokenGenerationEvent| async move {
        assert_eq!(ev.version, "1");
        assert_eq!(ev.trigger_source, "TokenGeneration_Authentication");
        let tenant = format!("tenant-of-{}", ev.user_name);
        ev.response.claims_override_details = Some(ClaimsOverrideDetails {
            claims_to_add_or_override: Some(HashMap::from([("tenant".to_owned(), tenant)])),
            claims_to_suppress: Some(vec!["email_verified".to_owned()]),
            ..Default::default()
        });
        Ok::<_, anyhow::Error>(ev)
    }));
    let server = app.serve("127.0.0.1:0").await.expect("serve");
    let pool_id = server.pool_id("Tokens").unwrap().to_owned();
    let idp = sdk(&server.endpoint());
    let client_id = client(&idp, &pool_id).await;

    let (id, access) = tokens(&idp, &pool_id, &client_id, "bob").await;
    assert_eq!(id["tenant"], "tenant-of-bob");
    assert_eq!(id["cognito:username"], "bob");
    assert!(access.get("tenant").is_none(), "V1 does not change the access token");
    server.shutdown().await;
}

#[tokio::test]
async fn pre_token_generation_v2_edits_the_access_token_and_scopes() {
    let mut app = App::new();
    let pool = UserPool::new(&mut app, "TokensV2");
    pool.on(
        cognate::PRE_TOKEN_GENERATION_V2,
        Function::new(|mut ev: PreTokenGenerationV2Event| async move {
            assert_eq!(ev.version, "2");
            assert!(ev.request.scopes.iter().any(|s| s == "aws.cognito.signin.user.admin"));
            ev.response.claims_and_scope_override_details = Some(ClaimsAndScopeOverrideDetails {
                id_token_generation: Some(IdTokenGeneration {
                    claims_to_add_or_override: Some(HashMap::from([("level".to_owned(), json!(3))])),
                    ..Default::default()
                }),
                access_token_generation: Some(AccessTokenGeneration {
                    claims_to_add_or_override: Some(HashMap::from([("roles".to_owned(), json!(["reader", "writer"]))])),
                    scopes_to_add: Some(vec!["orders/read".to_owned()]),
                    ..Default::default()
                }),
                group_override_details: None,
            });
            Ok::<_, String>(ev)
        }),
    );
    let server = app.serve("127.0.0.1:0").await.expect("serve");
    let pool_id = server.pool_id("TokensV2").unwrap().to_owned();
    let idp = sdk(&server.endpoint());

    let described = idp.describe_user_pool().user_pool_id(&pool_id).send().await.unwrap();
    let config = described
        .user_pool()
        .and_then(|p| p.lambda_config())
        .and_then(|l| l.pre_token_generation_config())
        .expect("PreTokenGenerationConfig");
    assert_eq!(config.lambda_version().as_str(), "V2_0");

    let client_id = client(&idp, &pool_id).await;
    let (id, access) = tokens(&idp, &pool_id, &client_id, "carol").await;
    assert_eq!(id["level"], 3);
    assert_eq!(access["roles"], json!(["reader", "writer"]));
    let scopes: Vec<&str> = access["scope"].as_str().unwrap().split(' ').collect();
    assert!(scopes.contains(&"orders/read"), "{scopes:?}");
    assert!(scopes.contains(&"aws.cognito.signin.user.admin"), "{scopes:?}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_json_function_attached_by_name() {
    let mut app = App::new();
    let pool = UserPool::new(&mut app, "ByName");
    pool.on(
        "preSignUp",
        Function::json(|mut event: Value| async move {
            event["response"]["autoConfirmUser"] = json!(true);
            event["response"]["autoVerifyEmail"] = json!(false);
            Ok::<_, String>(event)
        }),
    );
    let server = app.serve("127.0.0.1:0").await.expect("serve");
    let pool_id = server.pool_id("ByName").unwrap().to_owned();
    let idp = sdk(&server.endpoint());
    let client_id = client(&idp, &pool_id).await;
    assert_eq!(sign_up(&idp, &client_id, "dave").await, Ok(true));
    assert_eq!(user_status(&idp, &pool_id, "dave").await, UserStatusType::Confirmed);
    server.shutdown().await;
}

#[tokio::test]
async fn from_existing_attaches_triggers_to_a_pool_made_through_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let options = || ServeOptions {
        storage: Storage::Data(dir.path().to_path_buf()),
        ..Default::default()
    };

    // A pool and client created through the API, with no triggers.
    let first = App::with_options(options()).serve("127.0.0.1:0").await.expect("serve");
    let idp = sdk(&first.endpoint());
    let pool_id = idp
        .create_user_pool()
        .pool_name("legacy")
        .send()
        .await
        .unwrap()
        .user_pool()
        .and_then(|p| p.id())
        .unwrap()
        .to_owned();
    let client_id = client(&idp, &pool_id).await;
    assert_eq!(sign_up(&idp, &client_id, "before").await, Ok(false));
    first.shutdown().await;

    // The same storage, attaching a trigger by pool id.
    let mut app = App::with_options(options());
    let legacy = UserPool::from_existing(&mut app, &pool_id);
    legacy.on_pre_sign_up(Function::new(|mut ev: PreSignUpEvent| async move {
        ev.response.auto_confirm_user = true;
        Ok::<_, String>(ev)
    }));
    let second = app.serve("127.0.0.1:0").await.expect("serve");
    assert_eq!(second.pool_id(&pool_id), Some(pool_id.as_str()));
    let idp = sdk(&second.endpoint());
    assert_eq!(sign_up(&idp, &client_id, "after").await, Ok(true));
    assert_eq!(user_status(&idp, &pool_id, "before").await, UserStatusType::Unconfirmed);
    second.shutdown().await;

    // By name; a PreSignUp error shows the new function replaced the old one.
    let mut app = App::with_options(options());
    UserPool::from_existing(&mut app, "legacy").on(
        cognate::PRE_SIGN_UP,
        Function::new(|_ev: PreSignUpEvent| async move { Err::<PreSignUpEvent, _>("closed") }),
    );
    let third = app.serve("127.0.0.1:0").await.expect("serve");
    assert_eq!(third.pool_id("legacy"), Some(pool_id.as_str()));
    let idp = sdk(&third.endpoint());
    let (code, message) = sign_up(&idp, &client_id, "later").await.unwrap_err();
    assert_eq!(
        (code.as_str(), message.as_str()),
        ("UserLambdaValidationException", "PreSignUp failed with error closed.")
    );
    third.shutdown().await;

    // An existing pool that does not exist.
    let mut app = App::with_options(options());
    UserPool::from_existing(&mut app, "us-east-1_Nope12345");
    let err = app.serve("127.0.0.1:0").await.unwrap_err();
    assert!(format!("{err:#}").contains("does not exist"), "{err:#}");
}

#[tokio::test]
async fn custom_auth_with_typed_challenge_triggers() {
    let defined: Arc<Mutex<Vec<DefineAuthChallengeEvent>>> = Arc::default();
    let record = defined.clone();
    let mut app = App::new();
    let pool = UserPool::new(&mut app, "Challenges").lambda_triggers(Triggers {
        define_auth_challenge: Some(Function::new(move |mut ev: DefineAuthChallengeEvent| {
            record.lock().unwrap().push(ev.clone());
            async move {
                let session = &ev.request.session;
                match session.last() {
                    Some(last) if last.challenge_name == "CUSTOM_CHALLENGE" && last.challenge_result => {
                        ev.response.issue_tokens = Some(true);
                        ev.response.fail_authentication = Some(false);
                    }
                    _ if session.len() >= 3 => ev.response.fail_authentication = Some(true),
                    _ => ev.response.challenge_name = Some("CUSTOM_CHALLENGE".to_owned()),
                }
                Ok::<_, String>(ev)
            }
        })),
        ..Default::default()
    });
    pool.on_create_auth_challenge(Function::new(|mut ev: CreateAuthChallengeEvent| async move {
        assert_eq!(ev.request.challenge_name, "CUSTOM_CHALLENGE");
        ev.response.public_challenge_parameters = Some(HashMap::from([("question".to_owned(), "2+2".to_owned())]));
        ev.response.private_challenge_parameters = Some(HashMap::from([("answer".to_owned(), "4".to_owned())]));
        ev.response.challenge_metadata = Some("MATH".to_owned());
        Ok::<_, String>(ev)
    }));
    pool.on(
        cognate::VERIFY_AUTH_CHALLENGE_RESPONSE,
        Function::new(|mut ev: VerifyAuthChallengeResponseEvent| async move {
            let expected = ev.request.private_challenge_parameters.get("answer");
            ev.response.answer_correct = Some(expected == Some(&ev.request.challenge_answer));
            Ok::<_, String>(ev)
        }),
    );
    let server = app.serve("127.0.0.1:0").await.expect("serve");
    let pool_id = server.pool_id("Challenges").unwrap().to_owned();
    let idp = sdk(&server.endpoint());
    let client_id = idp
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("custom")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowCustomAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .send()
        .await
        .unwrap()
        .user_pool_client()
        .and_then(|c| c.client_id())
        .unwrap()
        .to_owned();
    sign_up(&idp, &client_id, "erin").await.unwrap();
    idp.admin_confirm_sign_up()
        .user_pool_id(&pool_id)
        .username("erin")
        .send()
        .await
        .unwrap();

    let started = idp
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::CustomAuth)
        .auth_parameters("USERNAME", "erin")
        .send()
        .await
        .expect("InitiateAuth CUSTOM_AUTH");
    assert_eq!(started.challenge_name().map(|c| c.as_str()), Some("CUSTOM_CHALLENGE"));
    assert_eq!(
        started
            .challenge_parameters()
            .and_then(|p| p.get("question"))
            .map(String::as_str),
        Some("2+2")
    );
    let answer = |session: Option<&str>, answer: &str| {
        idp.respond_to_auth_challenge()
            .client_id(&client_id)
            .challenge_name(idp::types::ChallengeNameType::CustomChallenge)
            .set_session(session.map(str::to_owned))
            .challenge_responses("USERNAME", "erin")
            .challenge_responses("ANSWER", answer)
            .send()
    };
    let wrong = answer(started.session(), "5").await.expect("a wrong answer");
    assert!(wrong.authentication_result().is_none());
    assert_eq!(wrong.challenge_name().map(|c| c.as_str()), Some("CUSTOM_CHALLENGE"));
    let right = answer(wrong.session(), "4").await.expect("the right answer");
    let id = claims(
        right
            .authentication_result()
            .and_then(|r| r.id_token())
            .expect("tokens"),
    );
    assert_eq!(id["cognito:username"], "erin");

    let last = defined.lock().unwrap().last().cloned().unwrap();
    assert_eq!(last.trigger_source, "DefineAuthChallenge_Authentication");
    let steps: Vec<(&str, bool, Option<&str>)> = last
        .request
        .session
        .iter()
        .map(|s| {
            (
                s.challenge_name.as_str(),
                s.challenge_result,
                s.challenge_metadata.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("CUSTOM_CHALLENGE", false, Some("MATH")),
            ("CUSTOM_CHALLENGE", true, Some("MATH"))
        ]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn user_migration_creates_the_user_from_a_typed_response() {
    let mut app = App::new();
    let pool = UserPool::new(&mut app, "Migrating");
    pool.on_user_migration(Function::new(|mut ev: UserMigrationEvent| async move {
        assert_eq!(ev.trigger_source, "UserMigration_Authentication");
        if ev.request.password.as_deref() != Some(PASSWORD) {
            return Err("Bad password".to_owned());
        }
        ev.response.user_attributes = Some(HashMap::from([
            ("email".to_owned(), format!("{}@legacy.example", ev.user_name)),
            ("email_verified".to_owned(), "true".to_owned()),
        ]));
        ev.response.final_user_status = Some("CONFIRMED".to_owned());
        ev.response.message_action = Some("SUPPRESS".to_owned());
        Ok(ev)
    }));
    let server = app.serve("127.0.0.1:0").await.expect("serve");
    let pool_id = server.pool_id("Migrating").unwrap().to_owned();
    let idp = sdk(&server.endpoint());
    let client_id = client(&idp, &pool_id).await;
    let out = idp
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "frank")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("a migrated sign-in");
    let id = claims(out.authentication_result().and_then(|r| r.id_token()).unwrap());
    assert_eq!(id["email"], "frank@legacy.example");
    assert_eq!(user_status(&idp, &pool_id, "frank").await, UserStatusType::Confirmed);
    server.shutdown().await;
}
