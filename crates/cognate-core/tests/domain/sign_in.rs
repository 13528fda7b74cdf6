//! The sign-in state machine: flows started by InitiateAuth and AdminInitiateAuth, challenges
//! answered by RespondToAuthChallenge, and the state kept between them.
use crate::{WRONG, claims, err_text};
use cognate_core::clock::Clock;
use cognate_core::testkit::{Kit, PASSWORD, START_MS, service};
use serde_json::{Value, json};
use std::time::Duration;

const NEW_PASSWORD: &str = "N3w-Passw0rd!";

/// A user `tom` made by an administrator with a temporary password.
async fn user_with_temporary_password(kit: &Kit) -> (String, String) {
    let pool = kit.create_pool(json!({})).await;
    let client = kit.create_client(&pool, json!({})).await;
    kit.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "tom", "TemporaryPassword": PASSWORD, "MessageAction": "SUPPRESS"}),
    )
    .await;
    (pool, client)
}

fn respond(client: &str, name: &str, session: &Value, responses: Value) -> Value {
    json!({"ClientId": client, "ChallengeName": name, "Session": session, "ChallengeResponses": responses})
}

#[tokio::test]
async fn a_temporary_password_asks_for_a_new_one_and_the_answer_signs_in() {
    let kit = service();
    let (pool, client) = user_with_temporary_password(&kit).await;
    let out = kit.sign_in(&client, "tom", PASSWORD).await.expect("first step");
    assert_eq!(out["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    assert!(out.get("AuthenticationResult").is_none());
    assert_eq!(out["ChallengeParameters"]["USER_ID_FOR_SRP"], "tom");

    let answer = respond(
        &client,
        "NEW_PASSWORD_REQUIRED",
        &out["Session"],
        json!({"USERNAME": "tom", "NEW_PASSWORD": NEW_PASSWORD}),
    );
    let done = kit.ok("RespondToAuthChallenge", answer).await;
    assert_eq!(done["ChallengeParameters"], json!({}));
    let access = claims(
        done["AuthenticationResult"]["AccessToken"]
            .as_str()
            .expect("access token"),
    );
    assert_eq!(access["username"], "tom");
    assert_eq!(access["token_use"], "access");

    let user = kit
        .ok("AdminGetUser", json!({"UserPoolId": pool, "Username": "tom"}))
        .await;
    assert_eq!(user["UserStatus"], "CONFIRMED");
    kit.sign_in(&client, "tom", NEW_PASSWORD)
        .await
        .expect("the new password is the password now");
}

#[tokio::test]
async fn a_rejected_new_password_leaves_the_challenge_open_for_another_try() {
    let kit = service();
    let (_, client) = user_with_temporary_password(&kit).await;
    let out = kit.sign_in(&client, "tom", PASSWORD).await.expect("first step");
    let weak = respond(
        &client,
        "NEW_PASSWORD_REQUIRED",
        &out["Session"],
        json!({"USERNAME": "tom", "NEW_PASSWORD": "short"}),
    );
    let r = kit.call("RespondToAuthChallenge", weak).await;
    assert!(err_text(r).starts_with("InvalidPasswordException: "));

    let good = respond(
        &client,
        "NEW_PASSWORD_REQUIRED",
        &out["Session"],
        json!({"USERNAME": "tom", "NEW_PASSWORD": NEW_PASSWORD}),
    );
    let done = kit.ok("RespondToAuthChallenge", good).await;
    assert!(done["AuthenticationResult"]["IdToken"].is_string());
}

#[tokio::test]
async fn a_session_is_answered_once_and_expires_after_three_minutes() {
    let kit = service();
    let (_, client) = user_with_temporary_password(&kit).await;
    let out = kit.sign_in(&client, "tom", PASSWORD).await.expect("first step");
    let answer = respond(
        &client,
        "NEW_PASSWORD_REQUIRED",
        &out["Session"],
        json!({"USERNAME": "tom", "NEW_PASSWORD": NEW_PASSWORD}),
    );
    kit.clock.advance(Duration::from_secs(181));
    let r = kit.call("RespondToAuthChallenge", answer.clone()).await;
    assert_eq!(
        err_text(r),
        "NotAuthorizedException: Invalid session for the user, session is expired."
    );

    let out = kit.sign_in(&client, "tom", PASSWORD).await.expect("a new sign-in");
    let answer = respond(
        &client,
        "NEW_PASSWORD_REQUIRED",
        &out["Session"],
        json!({"USERNAME": "tom", "NEW_PASSWORD": NEW_PASSWORD}),
    );
    kit.ok("RespondToAuthChallenge", answer.clone()).await;
    let replay = kit.call("RespondToAuthChallenge", answer).await;
    assert!(
        err_text(replay).starts_with("NotAuthorizedException: Invalid session for the user"),
        "an answered session cannot be answered again"
    );
}

#[tokio::test]
async fn each_operation_starts_only_its_own_flows() {
    let kit = service();
    let (pool, client) = kit.pool_client_user().await;
    let client_flow_on_admin_entry = kit
        .call(
            "AdminInitiateAuth",
            json!({
                "UserPoolId": pool, "ClientId": client, "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD},
            }),
        )
        .await;
    assert_eq!(
        err_text(client_flow_on_admin_entry),
        "InvalidParameterException: Initiate Auth method not supported."
    );
    let admin_flow_on_client_entry = kit
        .call(
            "InitiateAuth",
            json!({
                "ClientId": client, "AuthFlow": "ADMIN_USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD},
            }),
        )
        .await;
    assert_eq!(
        err_text(admin_flow_on_client_entry),
        "InvalidParameterException: Initiate Auth method not supported."
    );
}

#[tokio::test]
async fn a_flow_the_client_does_not_allow_is_refused() {
    let kit = service();
    let pool = kit.create_pool(json!({})).await;
    let client = kit
        .create_client(
            &pool,
            json!({"ExplicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
        )
        .await;
    kit.create_user(&pool, "bea", PASSWORD, &[]).await;
    assert_eq!(
        err_text(kit.sign_in(&client, "bea", PASSWORD).await),
        "InvalidParameterException: USER_PASSWORD_AUTH flow not enabled for this client"
    );
}

/// A pool that requires TOTP, with `alice` signed in up to MFA_SETUP; returns
/// (client, the MFA_SETUP session).
async fn at_mfa_setup(kit: &Kit) -> (String, Value) {
    let pool = kit.create_pool(json!({"AutoVerifiedAttributes": ["email"]})).await;
    kit.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "ON", "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    )
    .await;
    let client = kit.create_client(&pool, json!({})).await;
    kit.create_user(&pool, "alice", PASSWORD, &[("email", "alice@example.com")])
        .await;
    let out = kit.sign_in(&client, "alice", PASSWORD).await.expect("first factor");
    assert_eq!(out["ChallengeName"], "MFA_SETUP");
    (client, out["Session"].clone())
}

fn totp_now(kit: &Kit, secret: &str) -> String {
    let secs = u64::try_from(kit.clock.now_millis() / 1000).expect("after 1970");
    cognate_crypto::totp::code_at(secret, secs).expect("a base32 secret")
}

#[tokio::test]
async fn required_totp_is_set_up_inside_the_sign_in_and_asked_for_on_the_next() {
    let kit = service();
    let (client, session) = at_mfa_setup(&kit).await;
    let associated = kit.ok("AssociateSoftwareToken", json!({"Session": session})).await;
    let secret = associated["SecretCode"].as_str().expect("a secret").to_owned();
    let verified = kit
        .ok(
            "VerifySoftwareToken",
            json!({"Session": associated["Session"], "UserCode": totp_now(&kit, &secret)}),
        )
        .await;
    assert_eq!(verified["Status"], "SUCCESS");
    let done = kit
        .ok(
            "RespondToAuthChallenge",
            respond(&client, "MFA_SETUP", &verified["Session"], json!({"USERNAME": "alice"})),
        )
        .await;
    assert!(done["AuthenticationResult"]["AccessToken"].is_string());

    // The next sign-in asks for a code; a code from the next 30-second step is accepted once.
    kit.clock.advance(Duration::from_secs(31));
    let out = kit.sign_in(&client, "alice", PASSWORD).await.expect("first factor");
    assert_eq!(out["ChallengeName"], "SOFTWARE_TOKEN_MFA");
    let wrong = respond(
        &client,
        "SOFTWARE_TOKEN_MFA",
        &out["Session"],
        json!({"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": "000000"}),
    );
    let r = kit.call("RespondToAuthChallenge", wrong).await;
    assert!(err_text(r).starts_with("CodeMismatchException: "));
    let right = respond(
        &client,
        "SOFTWARE_TOKEN_MFA",
        &out["Session"],
        json!({"USERNAME": "alice", "SOFTWARE_TOKEN_MFA_CODE": totp_now(&kit, &secret)}),
    );
    let done = kit.ok("RespondToAuthChallenge", right).await;
    let access = claims(
        done["AuthenticationResult"]["AccessToken"]
            .as_str()
            .expect("access token"),
    );
    assert_eq!(access["username"], "alice");
}

#[tokio::test]
async fn refreshing_gives_new_access_and_id_tokens_but_no_new_refresh_token() {
    let kit = service();
    let (_, client) = kit.pool_client_user().await;
    let out = kit.sign_in(&client, "alice", PASSWORD).await.expect("signed in");
    let refresh = out["AuthenticationResult"]["RefreshToken"].clone();
    assert!(refresh.is_string());
    kit.clock.advance(Duration::from_secs(60));
    let again = kit
        .ok(
            "InitiateAuth",
            json!({"ClientId": client, "AuthFlow": "REFRESH_TOKEN_AUTH", "AuthParameters": {"REFRESH_TOKEN": refresh}}),
        )
        .await;
    let result = &again["AuthenticationResult"];
    assert!(result.get("RefreshToken").is_none());
    let access = claims(result["AccessToken"].as_str().expect("access token"));
    assert_eq!(access["username"], "alice");
    assert_eq!(access["iat"], json!((START_MS / 1000) + 60));
    assert_eq!(
        err_text(kit.sign_in(&client, "alice", WRONG).await),
        "NotAuthorizedException: Incorrect username or password.",
        "refreshing does not touch the password"
    );
}

const DEFINE: &str = "arn:aws:lambda:us-east-1:123456789012:function:define";
const CREATE: &str = "arn:aws:lambda:us-east-1:123456789012:function:create";
const VERIFY: &str = "arn:aws:lambda:us-east-1:123456789012:function:verify";

/// Custom auth with one question whose answer is "42": tokens after one right answer, failure
/// after three wrong ones.
async fn custom_auth_pool(kit: &Kit) -> String {
    let pool = kit
        .create_pool(json!({"LambdaConfig": {
            "DefineAuthChallenge": DEFINE, "CreateAuthChallenge": CREATE, "VerifyAuthChallengeResponse": VERIFY,
        }}))
        .await;
    let client = kit
        .create_client(
            &pool,
            json!({"ExplicitAuthFlows": ["ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
        )
        .await;
    kit.create_user(&pool, "cat", PASSWORD, &[]).await;
    kit.triggers.on(DEFINE, |event| {
        let session = event["request"]["session"].as_array().cloned().unwrap_or_default();
        let mut out = event.clone();
        let passed = session.last().is_some_and(|c| c["challengeResult"] == true);
        out["response"] = if passed {
            json!({"issueTokens": true, "failAuthentication": false})
        } else if session.len() >= 3 {
            json!({"issueTokens": false, "failAuthentication": true})
        } else {
            json!({"challengeName": "CUSTOM_CHALLENGE", "issueTokens": false, "failAuthentication": false})
        };
        Ok(out)
    });
    kit.triggers.respond(
        CREATE,
        json!({"publicChallengeParameters": {"question": "6 x 7?"}, "privateChallengeParameters": {"answer": "42"}, "challengeMetadata": "Q1"}),
    );
    kit.triggers.on(VERIFY, |event| {
        let mut out = event.clone();
        out["response"]["answerCorrect"] =
            json!(event["request"]["challengeAnswer"] == event["request"]["privateChallengeParameters"]["answer"]);
        Ok(out)
    });
    client
}

fn start_custom(client: &str) -> Value {
    json!({"ClientId": client, "AuthFlow": "CUSTOM_AUTH", "AuthParameters": {"USERNAME": "cat"}})
}

#[tokio::test]
async fn custom_auth_loops_through_the_three_triggers_until_define_decides() {
    let kit = service();
    let client = custom_auth_pool(&kit).await;
    let out = kit.ok("InitiateAuth", start_custom(&client)).await;
    assert_eq!(out["ChallengeName"], "CUSTOM_CHALLENGE");
    assert_eq!(out["ChallengeParameters"]["question"], "6 x 7?");
    assert_eq!(out["ChallengeParameters"]["USERNAME"], "cat");

    let wrong = respond(
        &client,
        "CUSTOM_CHALLENGE",
        &out["Session"],
        json!({"USERNAME": "cat", "ANSWER": "41"}),
    );
    let second = kit.ok("RespondToAuthChallenge", wrong).await;
    assert_eq!(
        second["ChallengeName"], "CUSTOM_CHALLENGE",
        "a wrong answer gets another round"
    );

    let right = respond(
        &client,
        "CUSTOM_CHALLENGE",
        &second["Session"],
        json!({"USERNAME": "cat", "ANSWER": "42"}),
    );
    let done = kit.ok("RespondToAuthChallenge", right).await;
    assert!(done["AuthenticationResult"]["AccessToken"].is_string());

    // DefineAuthChallenge saw the history grow by one result each round.
    let defines = kit.triggers.events_of("DefineAuthChallenge_Authentication");
    let history: Vec<Value> = defines
        .iter()
        .map(|e| {
            e["request"]["session"]
                .as_array()
                .map(|s| s.iter().map(|c| c["challengeResult"].clone()).collect())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(history, vec![json!([]), json!([false]), json!([false, true])]);
    let last_round = &defines[2]["request"]["session"][1];
    assert_eq!(last_round["challengeName"], "CUSTOM_CHALLENGE");
    assert_eq!(last_round["challengeMetadata"], "Q1");
}

#[tokio::test]
async fn custom_auth_fails_when_define_says_so() {
    let kit = service();
    let client = custom_auth_pool(&kit).await;
    let mut out = kit.ok("InitiateAuth", start_custom(&client)).await;
    for round in 1..=3 {
        let wrong = respond(
            &client,
            "CUSTOM_CHALLENGE",
            &out["Session"],
            json!({"USERNAME": "cat", "ANSWER": "nope"}),
        );
        let r = kit.call("RespondToAuthChallenge", wrong).await;
        if round < 3 {
            out = r.expect("another round");
        } else {
            assert_eq!(err_text(r), "NotAuthorizedException: Incorrect username or password.");
        }
    }
}
