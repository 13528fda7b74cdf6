//! Trigger conformance (spec/triggers.md §6.3, §6.4, §6.8–§6.10): PreAuthentication (Node
//! callback style), PostAuthentication (Python), PreTokenGeneration V1 / V2 (Node ESM) and
//! UserMigration (Python), run by the real handlers of `fixtures/triggers`.

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ChallengeNameType, DeliveryMediumType, MessageActionType, UserStatusType,
};
use cognate_sdk_tests::triggers::*;
use cognate_sdk_tests::*;
use serde_json::{Value, json};

const FIXTURE: &str = "triggers";

/// InitiateAuth USER_PASSWORD_AUTH with optional ClientMetadata.
async fn password_auth(
    t: &TriggerApp,
    username: &str,
    password: &str,
    metadata: &[(&str, &str)],
) -> Result<
    aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthOutput,
    aws_sdk_cognitoidentityprovider::error::SdkError<
        aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthError,
    >,
> {
    let mut req =
        t.c.idp
            .initiate_auth()
            .client_id(&t.pool.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password);
    for (k, v) in metadata {
        req = req.client_metadata(*k, *v);
    }
    req.send().await
}

// ---------------------------------------------------------------------------------------------
// PreAuthentication
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn pre_authentication_event_gets_client_metadata_as_validation_data() {
    let t = TriggerApp::start(FIXTURE).await;
    let sub = t.c.admin_user(&t.pool, "amy", "amy@example.com").await;
    t.clear();
    let out = password_auth(&t, "amy", PASSWORD, &[("captcha", "ok")])
        .await
        .expect("InitiateAuth");
    assert!(out.authentication_result().is_some());

    let ev = t.event("PreAuthentication_Authentication");
    assert_envelope(
        &ev,
        "1",
        "PreAuthentication_Authentication",
        &t.pool.pool_id,
        "amy",
        Some(&t.pool.client_id),
    );
    assert_keys(
        &ev["request"],
        &["userAttributes", "validationData", "userNotFound"],
        &[],
    );
    let ua = assert_user_attributes(&ev, &sub, "CONFIRMED");
    assert_eq!(ua.get("email"), Some(&json!("amy@example.com")));
    assert_eq!(ua.get("email_verified"), Some(&json!("true")));
    assert_eq!(ev["request"]["validationData"], string_map(&[("captcha", "ok")]));
    assert_eq!(ev["request"]["userNotFound"], json!(false));
    assert_eq!(ev["response"], json!({}));

    // Without ClientMetadata: validationData is null.
    t.clear();
    password_auth(&t, "amy", PASSWORD, &[]).await.expect("InitiateAuth");
    let ev = t.event("PreAuthentication_Authentication");
    assert!(ev["request"]["validationData"].is_null(), "{ev}");
    t.shutdown().await;
}

#[tokio::test]
async fn pre_authentication_admin_initiate_auth_and_wrong_password() {
    let t = TriggerApp::start(FIXTURE).await;
    let sub = t.c.admin_user(&t.pool, "ben", "ben@example.com").await;
    t.clear();
    t.c.idp
        .admin_initiate_auth()
        .user_pool_id(&t.pool.pool_id)
        .client_id(&t.pool.client_id)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", "ben")
        .auth_parameters("PASSWORD", PASSWORD)
        .client_metadata("ip", "192.0.2.1")
        .send()
        .await
        .expect("AdminInitiateAuth");
    let ev = t.event("PreAuthentication_Authentication");
    assert_envelope(
        &ev,
        "1",
        "PreAuthentication_Authentication",
        &t.pool.pool_id,
        "ben",
        Some(&t.pool.client_id),
    );
    assert_user_attributes(&ev, &sub, "CONFIRMED");
    assert_eq!(ev["request"]["validationData"], string_map(&[("ip", "192.0.2.1")]));

    // PreAuthentication runs before the password check: it sees wrong passwords too.
    t.clear();
    expect_err_msg(
        password_auth(&t, "ben", "Wr0ng!Password", &[]).await,
        "NotAuthorizedException",
        "Incorrect username or password.",
    );
    assert_eq!(t.sources(), ["PreAuthentication_Authentication"]);
    t.shutdown().await;
}

#[tokio::test]
async fn pre_authentication_error_rejects_sign_in() {
    let t = TriggerApp::start(FIXTURE).await;
    t.c.admin_user(&t.pool, "cat", "cat@example.com").await;
    t.behave(json!({"PreAuthentication": {"throw": "account locked"}}));
    t.clear();
    expect_err_msg(
        password_auth(&t, "cat", PASSWORD, &[]).await,
        "UserLambdaValidationException",
        "PreAuthentication failed with error account locked.",
    );
    // Rejected before anything else ran.
    assert_eq!(t.sources(), ["PreAuthentication_Authentication"]);
    t.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// PostAuthentication
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn post_authentication_event_has_no_initiate_auth_metadata() {
    let t = TriggerApp::start(FIXTURE).await;
    let sub = t.c.admin_user(&t.pool, "dan", "dan@example.com").await;
    t.clear();
    password_auth(&t, "dan", PASSWORD, &[("captcha", "ok")])
        .await
        .expect("InitiateAuth");
    let ev = t.event("PostAuthentication_Authentication");
    assert_envelope(
        &ev,
        "1",
        "PostAuthentication_Authentication",
        &t.pool.pool_id,
        "dan",
        Some(&t.pool.client_id),
    );
    // InitiateAuth's ClientMetadata is not passed on as clientMetadata (§4).
    assert_keys(&ev["request"], &["userAttributes", "newDeviceUsed"], &[]);
    let ua = assert_user_attributes(&ev, &sub, "CONFIRMED");
    assert_eq!(ua.get("email"), Some(&json!("dan@example.com")));
    assert_eq!(ev["request"]["newDeviceUsed"], json!(false));
    assert_eq!(ev["response"], json!({}));
    let mut sources = t.sources();
    sources.sort();
    assert_eq!(
        sources,
        [
            "PostAuthentication_Authentication",
            "PreAuthentication_Authentication",
            "TokenGeneration_Authentication"
        ]
    );
    assert_eq!(t.sources()[0], "PreAuthentication_Authentication");

    // Refresh runs only PreTokenGeneration.
    t.clear();
    let tokens = t.c.sign_in(&t.pool, "dan", PASSWORD).await;
    t.clear();
    t.c.refresh(&t.pool, tokens.refresh_token().expect("refresh token"))
        .await
        .expect("REFRESH_TOKEN_AUTH");
    assert_eq!(t.sources(), ["TokenGeneration_RefreshTokens"]);
    t.shutdown().await;
}

#[tokio::test]
async fn post_authentication_error_fails_sign_in() {
    let t = TriggerApp::start(FIXTURE).await;
    t.c.admin_user(&t.pool, "eli", "eli@example.com").await;
    t.behave(json!({"PostAuthentication": {"throw": "audit log unavailable"}}));
    expect_err_msg(
        password_auth(&t, "eli", PASSWORD, &[]).await,
        "UserLambdaValidationException",
        "PostAuthentication failed with error audit log unavailable.",
    );
    t.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// PreTokenGeneration V1
// ---------------------------------------------------------------------------------------------

async fn user_in_group(t: &TriggerApp, username: &str, email: &str, group: &str) -> String {
    let sub = t.c.admin_user(&t.pool, username, email).await;
    t.c.idp
        .create_group()
        .user_pool_id(&t.pool.pool_id)
        .group_name(group)
        .send()
        .await
        .expect("CreateGroup");
    t.c.idp
        .admin_add_user_to_group()
        .user_pool_id(&t.pool.pool_id)
        .username(username)
        .group_name(group)
        .send()
        .await
        .expect("AdminAddUserToGroup");
    sub
}

#[tokio::test]
async fn token_generation_authentication_v1_event_and_claims() {
    let t = TriggerApp::start(FIXTURE).await;
    let sub = user_in_group(&t, "fox", "fox@example.com", "admins").await;
    t.behave(json!({"TokenGeneration": {"merge": {"claimsOverrideDetails": {
        "claimsToAddOrOverride": {"tenant": "acme", "email": "alias@example.com", "both": "x"},
        "claimsToSuppress": ["email_verified", "both"],
        "groupOverrideDetails": {
            "groupsToOverride": ["readers", "writers"],
            "iamRolesToOverride": [],
            "preferredRole": null
        }
    }}}}));
    t.clear();
    let tokens = t.c.sign_in(&t.pool, "fox", PASSWORD).await;

    let ev = t.event("TokenGeneration_Authentication");
    assert_envelope(
        &ev,
        "1",
        "TokenGeneration_Authentication",
        &t.pool.pool_id,
        "fox",
        Some(&t.pool.client_id),
    );
    // V1: no scopes; clientMetadata only when supplied (InitiateAuth's is not).
    assert_keys(&ev["request"], &["userAttributes", "groupConfiguration"], &[]);
    let ua = assert_user_attributes(&ev, &sub, "CONFIRMED");
    assert_eq!(ua.get("email"), Some(&json!("fox@example.com")));
    assert_eq!(
        ev["request"]["groupConfiguration"],
        json!({"groupsToOverride": ["admins"], "iamRolesToOverride": [], "preferredRole": null})
    );
    assert_eq!(ev["response"], json!({"claimsOverrideDetails": null}));

    let id =
        t.c.verify_jwt(&t.pool.pool_id, tokens.id_token().expect("id token"))
            .await;
    assert_eq!(id.claims["tenant"], "acme");
    assert_eq!(id.claims["email"], "alias@example.com");
    assert!(id.claims.get("email_verified").is_none(), "suppressed: {}", id.claims);
    assert!(id.claims.get("both").is_none(), "suppress wins over add: {}", id.claims);
    assert_eq!(id.claims["cognito:groups"], json!(["readers", "writers"]));
    assert_eq!(id.claims["sub"], sub.as_str());
    let access =
        t.c.verify_jwt(&t.pool.pool_id, tokens.access_token().expect("access token"))
            .await;
    assert_eq!(
        access.claims["cognito:groups"],
        json!(["readers", "writers"]),
        "groupOverrideDetails drives cognito:groups in the access token too"
    );
    assert!(
        access.claims.get("tenant").is_none(),
        "V1 cannot add access-token claims: {}",
        access.claims
    );
    assert_eq!(access.claims["email"], Value::Null);
    t.shutdown().await;
}

#[tokio::test]
async fn token_generation_v1_protected_claims_cannot_change() {
    let t = TriggerApp::start(FIXTURE).await;
    let sub = t.c.admin_user(&t.pool, "gus", "gus@example.com").await;
    t.behave(json!({"TokenGeneration": {"merge": {"claimsOverrideDetails": {
        "claimsToAddOrOverride": {
            "sub": "not-the-sub", "iss": "https://evil.example", "aud": "other-client",
            "token_use": "access", "cognito:username": "mallory", "tenant": "acme"
        },
        "claimsToSuppress": ["exp", "iat", "auth_time"]
    }}}}));
    // Whether AWS ignores these silently or rejects the output is undocumented (§6.8); either
    // way the protected claims must come out unchanged.
    let res = password_auth(&t, "gus", PASSWORD, &[]).await;
    let out = match res {
        Ok(out) => out,
        Err(e) => {
            let err = aws_err::<(), _>(Err(e));
            assert_eq!(err.code, "InvalidLambdaResponseException", "{err:?}");
            return;
        }
    };
    let tokens = out.authentication_result().expect("tokens");
    let id =
        t.c.verify_jwt(&t.pool.pool_id, tokens.id_token().expect("id token"))
            .await;
    assert_eq!(id.claims["sub"], sub.as_str());
    assert_eq!(id.claims["iss"], format!("{}/{}", t.c.endpoint, t.pool.pool_id));
    assert_eq!(id.claims["aud"], t.pool.client_id.as_str());
    assert_eq!(id.claims["token_use"], "id");
    assert_eq!(id.claims["cognito:username"], "gus");
    assert!(id.claims["exp"].is_i64() && id.claims["iat"].is_i64() && id.claims["auth_time"].is_i64());
    assert_eq!(id.claims["tenant"], "acme", "non-protected claims still apply");
    t.shutdown().await;
}

#[tokio::test]
async fn token_generation_v1_null_group_override_suppresses_groups() {
    let t = TriggerApp::start(FIXTURE).await;
    user_in_group(&t, "hap", "hap@example.com", "admins").await;
    t.behave(json!({"TokenGeneration": {"merge": {"claimsOverrideDetails": {
        "claimsToAddOrOverride": {"tenant": "acme"},
        "groupOverrideDetails": null
    }}}}));
    let tokens = t.c.sign_in(&t.pool, "hap", PASSWORD).await;
    let id = decode_jwt(tokens.id_token().unwrap());
    assert_eq!(id.claims["tenant"], "acme");
    assert!(id.claims.get("cognito:groups").is_none(), "{}", id.claims);
    let access = decode_jwt(tokens.access_token().unwrap());
    assert!(access.claims.get("cognito:groups").is_none(), "{}", access.claims);

    // Without groupOverrideDetails the groups stay.
    t.behave(json!({"TokenGeneration": {"merge": {"claimsOverrideDetails": {
        "claimsToAddOrOverride": {"tenant": "acme"}
    }}}}));
    let tokens = t.c.sign_in(&t.pool, "hap", PASSWORD).await;
    let id = decode_jwt(tokens.id_token().unwrap());
    assert_eq!(id.claims["cognito:groups"], json!(["admins"]));
    t.shutdown().await;
}

#[tokio::test]
async fn token_generation_refresh_tokens_v1() {
    let t = TriggerApp::start(FIXTURE).await;
    let sub = t.c.admin_user(&t.pool, "ivy", "ivy@example.com").await;
    let tokens = t.c.sign_in(&t.pool, "ivy", PASSWORD).await;
    t.behave(
        json!({"TokenGeneration_RefreshTokens": {"merge": {"claimsOverrideDetails": {
            "claimsToAddOrOverride": {"refreshed": "yes"}
        }}}}),
    );
    t.clear();
    let out =
        t.c.refresh(&t.pool, tokens.refresh_token().unwrap())
            .await
            .expect("REFRESH_TOKEN_AUTH");
    let ev = t.event("TokenGeneration_RefreshTokens");
    assert_envelope(
        &ev,
        "1",
        "TokenGeneration_RefreshTokens",
        &t.pool.pool_id,
        "ivy",
        Some(&t.pool.client_id),
    );
    assert_keys(&ev["request"], &["userAttributes", "groupConfiguration"], &[]);
    assert_user_attributes(&ev, &sub, "CONFIRMED");
    assert_eq!(
        ev["request"]["groupConfiguration"],
        json!({"groupsToOverride": [], "iamRolesToOverride": [], "preferredRole": null})
    );
    assert_eq!(ev["response"], json!({"claimsOverrideDetails": null}));
    let id =
        t.c.verify_jwt(
            &t.pool.pool_id,
            out.authentication_result().unwrap().id_token().unwrap(),
        )
        .await;
    assert_eq!(id.claims["refreshed"], "yes");
    // No PreAuthentication / PostAuthentication on refresh.
    assert_eq!(t.sources(), ["TokenGeneration_RefreshTokens"]);
    t.shutdown().await;
}

#[tokio::test]
async fn token_generation_get_tokens_from_refresh_token_gets_client_metadata() {
    let t = TriggerApp::start(FIXTURE).await;
    let sub = t.c.admin_user(&t.pool, "ike", "ike@example.com").await;
    let tokens = t.c.sign_in(&t.pool, "ike", PASSWORD).await;
    t.behave(
        json!({"TokenGeneration_RefreshTokens": {"merge": {"claimsOverrideDetails": {
            "claimsToAddOrOverride": {"refreshed": "via-get-tokens"}
        }}}}),
    );
    t.clear();
    let out =
        t.c.idp
            .get_tokens_from_refresh_token()
            .client_id(&t.pool.client_id)
            .refresh_token(tokens.refresh_token().unwrap())
            .client_metadata("device", "kiosk-7")
            .client_metadata("reason", "expired")
            .send()
            .await
            .expect("GetTokensFromRefreshToken");
    let ev = t.event("TokenGeneration_RefreshTokens");
    assert_envelope(
        &ev,
        "1",
        "TokenGeneration_RefreshTokens",
        &t.pool.pool_id,
        "ike",
        Some(&t.pool.client_id),
    );
    assert_keys(
        &ev["request"],
        &["userAttributes", "groupConfiguration", "clientMetadata"],
        &[],
    );
    assert_user_attributes(&ev, &sub, "CONFIRMED");
    assert_eq!(
        ev["request"]["clientMetadata"],
        string_map(&[("device", "kiosk-7"), ("reason", "expired")])
    );
    let id =
        t.c.verify_jwt(
            &t.pool.pool_id,
            out.authentication_result().unwrap().id_token().unwrap(),
        )
        .await;
    assert_eq!(id.claims["refreshed"], "via-get-tokens");
    // Only PreTokenGeneration runs.
    assert_eq!(t.sources(), ["TokenGeneration_RefreshTokens"]);

    // A failing handler fails the refresh.
    t.behave(json!({"TokenGeneration_RefreshTokens": {"throw": "session under review"}}));
    expect_err_msg(
        t.c.idp
            .get_tokens_from_refresh_token()
            .client_id(&t.pool.client_id)
            .refresh_token(tokens.refresh_token().unwrap())
            .send()
            .await,
        "UserLambdaValidationException",
        "PreTokenGeneration failed with error session under review.",
    );
    t.shutdown().await;
}

#[tokio::test]
async fn token_generation_new_password_challenge() {
    let t = TriggerApp::start(FIXTURE).await;
    let created =
        t.c.idp
            .admin_create_user()
            .user_pool_id(&t.pool.pool_id)
            .username("jay")
            .temporary_password("Temp0rary!Pass")
            .user_attributes(attr("email", "jay@example.com"))
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .expect("AdminCreateUser");
    let sub = attr_value(created.user().unwrap().attributes(), "sub").unwrap();
    let out = password_auth(&t, "jay", "Temp0rary!Pass", &[])
        .await
        .expect("InitiateAuth");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::NewPasswordRequired));
    t.behave(json!({"TokenGeneration": {"merge": {"claimsOverrideDetails": {
        "claimsToAddOrOverride": {"onboarded": "true"}
    }}}}));
    t.clear();
    let done =
        t.c.idp
            .respond_to_auth_challenge()
            .client_id(&t.pool.client_id)
            .challenge_name(ChallengeNameType::NewPasswordRequired)
            .session(out.session().unwrap())
            .challenge_responses("USERNAME", "jay")
            .challenge_responses("NEW_PASSWORD", NEW_PASSWORD)
            .client_metadata("flow", "onboarding")
            .send()
            .await
            .expect("RespondToAuthChallenge NEW_PASSWORD_REQUIRED");
    let ev = t.event("TokenGeneration_NewPasswordChallenge");
    assert_envelope(
        &ev,
        "1",
        "TokenGeneration_NewPasswordChallenge",
        &t.pool.pool_id,
        "jay",
        Some(&t.pool.client_id),
    );
    // RespondToAuthChallenge's ClientMetadata reaches PreTokenGeneration and PostAuthentication.
    assert_keys(
        &ev["request"],
        &["userAttributes", "groupConfiguration", "clientMetadata"],
        &[],
    );
    assert_user_attributes(&ev, &sub, "CONFIRMED");
    assert_eq!(ev["request"]["clientMetadata"], string_map(&[("flow", "onboarding")]));
    let post = t.event("PostAuthentication_Authentication");
    assert_keys(
        &post["request"],
        &["userAttributes", "newDeviceUsed", "clientMetadata"],
        &[],
    );
    assert_eq!(post["request"]["clientMetadata"], string_map(&[("flow", "onboarding")]));
    // PostConfirmation never fires for admin-created users.
    assert!(
        t.events_of("PostConfirmation_ConfirmSignUp").is_empty(),
        "{:?}",
        t.sources()
    );
    let id = decode_jwt(done.authentication_result().unwrap().id_token().unwrap());
    assert_eq!(id.claims["onboarded"], "true");
    t.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// PreTokenGeneration V2
// ---------------------------------------------------------------------------------------------

fn v2_config(yml: String) -> String {
    with_pool_properties(
        yml,
        &format!(
            "LambdaConfig:\n  PreTokenGenerationConfig:\n    LambdaArn: {}\n    LambdaVersion: V2_0",
            function_arn("preTokenGeneration")
        ),
    )
}

#[tokio::test]
async fn token_generation_v2_event_access_claims_and_scopes() {
    let t = TriggerApp::start_edited(FIXTURE, v2_config).await;
    let described =
        t.c.idp
            .describe_user_pool()
            .user_pool_id(&t.pool.pool_id)
            .send()
            .await
            .expect("DescribeUserPool");
    let ptg = described
        .user_pool()
        .and_then(|p| p.lambda_config())
        .and_then(|l| l.pre_token_generation_config())
        .expect("PreTokenGenerationConfig from the resources override");
    assert_eq!(ptg.lambda_version().as_str(), "V2_0");

    let sub = user_in_group(&t, "kai", "kai@example.com", "admins").await;
    t.behave(json!({"TokenGeneration": {"merge": {"claimsAndScopeOverrideDetails": {
        "idTokenGeneration": {
            "claimsToAddOrOverride": {"plan": {"tier": "gold", "seats": 5}},
            "claimsToSuppress": ["email_verified"]
        },
        "accessTokenGeneration": {
            "claimsToAddOrOverride": {"tenant": "acme", "roles": ["a", "b"], "n": 3, "flag": true},
            "claimsToSuppress": [],
            "scopesToAdd": ["orders/read", "orders/write"],
            "scopesToSuppress": []
        },
        "groupOverrideDetails": {
            "groupsToOverride": ["ops"],
            "iamRolesToOverride": [],
            "preferredRole": null
        }
    }}}}));
    t.clear();
    let tokens = t.c.sign_in(&t.pool, "kai", PASSWORD).await;

    let ev = t.event("TokenGeneration_Authentication");
    assert_envelope(
        &ev,
        "2",
        "TokenGeneration_Authentication",
        &t.pool.pool_id,
        "kai",
        Some(&t.pool.client_id),
    );
    assert_keys(&ev["request"], &["userAttributes", "groupConfiguration", "scopes"], &[]);
    assert_user_attributes(&ev, &sub, "CONFIRMED");
    assert_eq!(
        ev["request"]["groupConfiguration"],
        json!({"groupsToOverride": ["admins"], "iamRolesToOverride": [], "preferredRole": null})
    );
    assert_eq!(ev["request"]["scopes"], json!(["aws.cognito.signin.user.admin"]));
    assert_eq!(ev["response"], json!({"claimsAndScopeOverrideDetails": null}));

    let access = t.c.verify_jwt(&t.pool.pool_id, tokens.access_token().unwrap()).await;
    assert_eq!(access.claims["tenant"], "acme");
    assert_eq!(access.claims["roles"], json!(["a", "b"]));
    assert_eq!(access.claims["n"], json!(3));
    assert_eq!(access.claims["flag"], json!(true));
    assert_eq!(access.claims["cognito:groups"], json!(["ops"]));
    let scopes: Vec<&str> = access.claims["scope"]
        .as_str()
        .expect("scope claim")
        .split(' ')
        .collect();
    for s in ["aws.cognito.signin.user.admin", "orders/read", "orders/write"] {
        assert!(scopes.contains(&s), "scope {s} missing from {scopes:?}");
    }
    let id = t.c.verify_jwt(&t.pool.pool_id, tokens.id_token().unwrap()).await;
    assert_eq!(id.claims["plan"], json!({"tier": "gold", "seats": 5}));
    assert!(id.claims.get("email_verified").is_none(), "{}", id.claims);
    assert!(
        id.claims.get("tenant").is_none(),
        "access-token claims stay out of the ID token"
    );
    assert_eq!(id.claims["cognito:groups"], json!(["ops"]));
    t.shutdown().await;
}

#[tokio::test]
async fn token_generation_v2_suppressed_admin_scope_blocks_self_service() {
    let t = TriggerApp::start_edited(FIXTURE, v2_config).await;
    t.c.admin_user(&t.pool, "lou", "lou@example.com").await;
    t.behave(json!({"TokenGeneration": {"merge": {"claimsAndScopeOverrideDetails": {
        "accessTokenGeneration": {
            "scopesToAdd": ["orders/read"],
            "scopesToSuppress": ["aws.cognito.signin.user.admin"]
        }
    }}}}));
    let tokens = t.c.sign_in(&t.pool, "lou", PASSWORD).await;
    let access = decode_jwt(tokens.access_token().unwrap());
    assert_eq!(access.claims["scope"], "orders/read");
    // §6.9: without aws.cognito.signin.user.admin the token cannot call the user APIs.
    let err = aws_err(
        t.c.idp
            .get_user()
            .access_token(tokens.access_token().unwrap())
            .send()
            .await,
    );
    assert_eq!(err.code, "NotAuthorizedException", "{err:?}");
    t.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// UserMigration
// ---------------------------------------------------------------------------------------------

fn migration_response_defaults() -> Value {
    json!({
        "userAttributes": null, "finalUserStatus": null, "messageAction": null,
        "desiredDeliveryMediums": null, "forceAliasCreation": null, "enableSMSMFA": null
    })
}

#[tokio::test]
async fn user_migration_authentication_creates_the_user() {
    let t = TriggerApp::start(FIXTURE).await;
    t.behave(json!({"UserMigration": {"merge": {
        "userAttributes": {
            "email": "legacy@example.com",
            "email_verified": "true",
            "custom:tier": "gold"
        },
        "finalUserStatus": "CONFIRMED",
        "messageAction": "SUPPRESS"
    }}}));
    let out = password_auth(&t, "legacy.user", "Old-Passw0rd!", &[("source", "app")])
        .await
        .expect("InitiateAuth for an unknown user migrates it");
    let tokens = out.authentication_result().expect("tokens in the same call");

    let ev = t.event("UserMigration_Authentication");
    assert_envelope(
        &ev,
        "1",
        "UserMigration_Authentication",
        &t.pool.pool_id,
        "legacy.user",
        Some(&t.pool.client_id),
    );
    // No userAttributes: the user does not exist yet.
    assert_keys(&ev["request"], &["password", "validationData"], &["clientMetadata"]);
    assert!(ev["request"].get("clientMetadata").is_none_or(Value::is_null));
    assert_eq!(ev["request"]["password"], "Old-Passw0rd!");
    assert_eq!(ev["request"]["validationData"], string_map(&[("source", "app")]));
    assert_eq!(ev["response"], migration_response_defaults());

    let user =
        t.c.idp
            .admin_get_user()
            .user_pool_id(&t.pool.pool_id)
            .username("legacy.user")
            .send()
            .await
            .expect("the migrated user exists");
    assert_eq!(user.user_status(), Some(&UserStatusType::Confirmed));
    let attrs = pairs(user.user_attributes());
    assert_eq!(lookup(&attrs, "email").as_deref(), Some("legacy@example.com"));
    assert_eq!(lookup(&attrs, "custom:tier").as_deref(), Some("gold"));
    let sub = lookup(&attrs, "sub").expect("sub");
    let id = t.c.verify_jwt(&t.pool.pool_id, tokens.id_token().unwrap()).await;
    assert_eq!(id.claims["sub"], sub.as_str());
    assert_eq!(id.claims["cognito:username"], "legacy.user");
    assert!(t.c.messages(Some("legacy@example.com")).await.is_empty(), "SUPPRESS");

    // The migrated password works from now on, without the trigger.
    t.clear();
    t.c.sign_in(&t.pool, "legacy.user", "Old-Passw0rd!").await;
    assert!(
        t.events_of("UserMigration_Authentication").is_empty(),
        "{:?}",
        t.sources()
    );
    t.shutdown().await;
}

#[tokio::test]
async fn user_migration_without_attributes_is_user_not_found() {
    let t = TriggerApp::start(FIXTURE).await;
    // The handler returns the event unchanged: no userAttributes.
    let err = aws_err(password_auth(&t, "ghost", "Whatever-1!", &[]).await);
    assert_eq!(err.code, "UserNotFoundException", "{err:?}");
    let ev = t.event("UserMigration_Authentication");
    assert_eq!(ev["userName"], "ghost");
    assert!(ev["request"]["validationData"].is_null(), "{ev}");
    expect_err(
        t.c.idp
            .admin_get_user()
            .user_pool_id(&t.pool.pool_id)
            .username("ghost")
            .send()
            .await,
        "UserNotFoundException",
    );

    // A failing handler.
    t.behave(json!({"UserMigration": {"throw": "legacy db unreachable"}}));
    expect_err_msg(
        password_auth(&t, "ghost", "Whatever-1!", &[]).await,
        "UserLambdaValidationException",
        "UserMigration failed with error legacy db unreachable.",
    );
    t.shutdown().await;
}

#[tokio::test]
async fn user_migration_forgot_password() {
    let t = TriggerApp::start(FIXTURE).await;
    t.behave(json!({"UserMigration_ForgotPassword": {"merge": {
        "userAttributes": {"email": "old.timer@example.com", "email_verified": "true"},
        "finalUserStatus": "RESET_REQUIRED",
        "messageAction": "SUPPRESS"
    }}}));
    let out =
        t.c.idp
            .forgot_password()
            .client_id(&t.pool.client_id)
            .username("old.timer")
            .client_metadata("origin", "reset-page")
            .send()
            .await
            .expect("ForgotPassword for an unknown user migrates it");
    assert_eq!(
        out.code_delivery_details().and_then(|d| d.delivery_medium()),
        Some(&DeliveryMediumType::Email)
    );
    let ev = t.event("UserMigration_ForgotPassword");
    assert_envelope(
        &ev,
        "1",
        "UserMigration_ForgotPassword",
        &t.pool.pool_id,
        "old.timer",
        Some(&t.pool.client_id),
    );
    // No password on the ForgotPassword source; ClientMetadata arrives as clientMetadata.
    assert_keys(&ev["request"], &["clientMetadata"], &["validationData"]);
    assert_eq!(ev["request"]["clientMetadata"], string_map(&[("origin", "reset-page")]));
    assert_eq!(ev["response"], migration_response_defaults());

    // The reset code goes to the migrated email; confirming sets the password.
    let msg = t.c.last_message("old.timer@example.com").await;
    assert_eq!(msg["trigger_source"], "CustomMessage_ForgotPassword");
    let code = extract_code(msg["body"].as_str().unwrap()).expect("code");
    t.c.idp
        .confirm_forgot_password()
        .client_id(&t.pool.client_id)
        .username("old.timer")
        .confirmation_code(code)
        .password(NEW_PASSWORD)
        .send()
        .await
        .expect("ConfirmForgotPassword");
    t.c.sign_in(&t.pool, "old.timer", NEW_PASSWORD).await;
    t.shutdown().await;
}

#[tokio::test]
async fn pre_authentication_unknown_user_with_prevent_user_existence_errors() {
    // §6.3: PreAuthentication is not invoked for an unknown user, unless the client has
    // PreventUserExistenceErrors ENABLED: then it runs with userNotFound: true.
    let t = TriggerApp::start(FIXTURE).await;
    let err = aws_err(password_auth(&t, "nobody", PASSWORD, &[]).await);
    assert_eq!(err.code, "UserNotFoundException", "{err:?}");
    assert!(
        t.events_of("PreAuthentication_Authentication").is_empty(),
        "{:?}",
        t.sources()
    );

    let client_id = create_trigger_client_with(
        &t.c,
        &t.pool.pool_id,
        "hidden",
        aws_sdk_cognitoidentityprovider::types::PreventUserExistenceErrorTypes::Enabled,
    )
    .await;
    t.clear();
    expect_err_msg(
        t.c.idp
            .initiate_auth()
            .client_id(&client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "nobody")
            .auth_parameters("PASSWORD", PASSWORD)
            .client_metadata("captcha", "ok")
            .send()
            .await,
        "NotAuthorizedException",
        "Incorrect username or password.",
    );
    let ev = t.event("PreAuthentication_Authentication");
    assert_eq!(ev["userName"], "nobody");
    assert_eq!(ev["callerContext"]["clientId"], client_id.as_str());
    assert_eq!(ev["request"]["userNotFound"], json!(true), "{ev}");
    assert_eq!(ev["request"]["validationData"], string_map(&[("captcha", "ok")]));
    t.shutdown().await;
}

#[tokio::test]
async fn every_handler_style_runs() {
    // The fixture runs PreSignUp with a CommonJS async handler, PostConfirmation with Python,
    // PreAuthentication with a callback-style handler and PreTokenGeneration with an ES module.
    let t = TriggerApp::start(FIXTURE).await;
    t.behave(json!({"PreSignUp": {"merge": {"autoConfirmUser": true}}}));
    t.c.idp
        .sign_up()
        .client_id(&t.pool.client_id)
        .username("zed")
        .password(PASSWORD)
        .user_attributes(attr("email", "zed@example.com"))
        .send()
        .await
        .expect("SignUp");
    t.c.sign_in(&t.pool, "zed", PASSWORD).await;
    let seen: Vec<(String, String, String)> = t
        .invocations()
        .iter()
        .map(|i| {
            (
                i["event"]["triggerSource"].as_str().unwrap_or("?").to_string(),
                i["runtime"].as_str().unwrap_or("?").to_string(),
                i["fn"].as_str().unwrap_or("?").to_string(),
            )
        })
        .collect();
    for (source, runtime, function) in [
        ("PreSignUp_SignUp", "node-cjs-async", "trig-dev-preSignUp"),
        ("PostConfirmation_ConfirmSignUp", "python", "trig-dev-postConfirmation"),
        (
            "PreAuthentication_Authentication",
            "node-callback",
            "trig-dev-preAuthentication",
        ),
        (
            "TokenGeneration_Authentication",
            "node-esm",
            "trig-dev-preTokenGeneration",
        ),
        (
            "PostAuthentication_Authentication",
            "python",
            "trig-dev-postAuthentication",
        ),
    ] {
        assert!(
            seen.iter()
                .any(|(s, r, f)| s == source && r == runtime && f == function),
            "{source} by {runtime} in {function}: {seen:?}"
        );
    }
    t.shutdown().await;
}
