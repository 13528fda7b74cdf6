//! Trigger conformance (spec/triggers.md §6.5–§6.7, §7.7): the CUSTOM_AUTH flow with
//! DefineAuthChallenge (Node callback style), CreateAuthChallenge (Node ESM) and
//! VerifyAuthChallengeResponse (Python). The handlers run a quiz: "2+3?", answer "5", two
//! attempts; CreateAuthChallenge labels each challenge `QUIZ-<n>`.

use std::collections::HashMap;

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{AuthFlowType, ChallengeNameType};
use cognate_sdk_tests::triggers::*;
use cognate_sdk_tests::*;
use serde_json::{Value, json};

const FIXTURE: &str = "triggers";

fn define_response_defaults() -> Value {
    json!({"challengeName": null, "issueTokens": null, "failAuthentication": null})
}

fn create_response_defaults() -> Value {
    json!({"publicChallengeParameters": null, "privateChallengeParameters": null, "challengeMetadata": null})
}

fn entry(result: bool, metadata: &str) -> Value {
    json!({"challengeName": "CUSTOM_CHALLENGE", "challengeResult": result, "challengeMetadata": metadata})
}

/// Asserts the public challenge parameters: what CreateAuthChallenge returned (USERNAME may be
/// added, §6.6).
#[track_caller]
fn assert_public_parameters(params: Option<&HashMap<String, String>>, attempt: &str) {
    let params = params.expect("ChallengeParameters");
    assert_eq!(params.get("question").map(String::as_str), Some("2+3?"), "{params:?}");
    assert_eq!(params.get("attempt").map(String::as_str), Some(attempt), "{params:?}");
    for k in params.keys() {
        assert!(
            ["question", "attempt", "USERNAME"].contains(&k.as_str()),
            "unexpected challenge parameter {k}: {params:?}"
        );
    }
}

async fn start_custom_auth(
    t: &TriggerApp,
    username: &str,
) -> Result<
    aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthOutput,
    aws_sdk_cognitoidentityprovider::error::SdkError<
        aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthError,
    >,
> {
    t.c.idp
        .initiate_auth()
        .client_id(&t.pool.client_id)
        .auth_flow(AuthFlowType::CustomAuth)
        .auth_parameters("USERNAME", username)
        .client_metadata("entry", "initiate")
        .send()
        .await
}

async fn answer(
    t: &TriggerApp,
    username: &str,
    session: &str,
    answer: &str,
) -> Result<
    aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeOutput,
    aws_sdk_cognitoidentityprovider::error::SdkError<
        aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeError,
    >,
> {
    t.c.idp
        .respond_to_auth_challenge()
        .client_id(&t.pool.client_id)
        .challenge_name(ChallengeNameType::CustomChallenge)
        .session(session)
        .challenge_responses("USERNAME", username)
        .challenge_responses("ANSWER", answer)
        .client_metadata("step", "answer")
        .send()
        .await
}

#[tokio::test]
async fn custom_auth_full_flow_wrong_then_right_answer() {
    let t = TriggerApp::start(FIXTURE).await;
    let sub = t.c.admin_user(&t.pool, "quinn", "quinn@example.com").await;
    t.clear();

    // InitiateAuth CUSTOM_AUTH → Define (empty session) → Create → CUSTOM_CHALLENGE.
    let first = start_custom_auth(&t, "quinn").await.expect("InitiateAuth CUSTOM_AUTH");
    assert_eq!(first.challenge_name(), Some(&ChallengeNameType::CustomChallenge));
    assert_public_parameters(first.challenge_parameters(), "1");
    let session1 = first.session().expect("Session").to_string();
    assert!(!session1.is_empty());
    assert!(first.authentication_result().is_none());

    let defines = t.events_of("DefineAuthChallenge_Authentication");
    assert_eq!(defines.len(), 1, "{:?}", t.sources());
    let d = &defines[0];
    assert_envelope(
        d,
        "1",
        "DefineAuthChallenge_Authentication",
        &t.pool.pool_id,
        "quinn",
        Some(&t.pool.client_id),
    );
    // InitiateAuth's ClientMetadata does not reach the challenge triggers (§4).
    assert_keys(&d["request"], &["userAttributes", "session", "userNotFound"], &[]);
    let ua = assert_user_attributes(d, &sub, "CONFIRMED");
    assert_eq!(ua.get("email"), Some(&json!("quinn@example.com")));
    assert_eq!(d["request"]["session"], json!([]));
    assert_eq!(d["request"]["userNotFound"], json!(false));
    assert_eq!(d["response"], define_response_defaults());

    let creates = t.events_of("CreateAuthChallenge_Authentication");
    assert_eq!(creates.len(), 1, "{:?}", t.sources());
    let c = &creates[0];
    assert_envelope(
        c,
        "1",
        "CreateAuthChallenge_Authentication",
        &t.pool.pool_id,
        "quinn",
        Some(&t.pool.client_id),
    );
    assert_keys(
        &c["request"],
        &["userAttributes", "challengeName", "session", "userNotFound"],
        &[],
    );
    assert_user_attributes(c, &sub, "CONFIRMED");
    assert_eq!(c["request"]["challengeName"], "CUSTOM_CHALLENGE");
    assert_eq!(c["request"]["session"], json!([]));
    assert_eq!(c["request"]["userNotFound"], json!(false));
    assert_eq!(c["response"], create_response_defaults());
    assert!(t.events_of("VerifyAuthChallengeResponse_Authentication").is_empty());
    assert!(t.events_of("TokenGeneration_Authentication").is_empty());

    // Wrong answer → Verify (false) → Define sees [false] → Create → another challenge.
    t.clear();
    let second = answer(&t, "quinn", &session1, "4")
        .await
        .expect("RespondToAuthChallenge (wrong answer)");
    assert_eq!(second.challenge_name(), Some(&ChallengeNameType::CustomChallenge));
    assert_public_parameters(second.challenge_parameters(), "2");
    let session2 = second.session().expect("Session").to_string();
    assert!(second.authentication_result().is_none());
    assert_eq!(
        t.sources(),
        [
            "VerifyAuthChallengeResponse_Authentication",
            "DefineAuthChallenge_Authentication",
            "CreateAuthChallenge_Authentication"
        ]
    );
    let v = t.event("VerifyAuthChallengeResponse_Authentication");
    assert_envelope(
        &v,
        "1",
        "VerifyAuthChallengeResponse_Authentication",
        &t.pool.pool_id,
        "quinn",
        Some(&t.pool.client_id),
    );
    assert_keys(
        &v["request"],
        &[
            "userAttributes",
            "privateChallengeParameters",
            "challengeAnswer",
            "clientMetadata",
            "userNotFound",
        ],
        &[],
    );
    assert_user_attributes(&v, &sub, "CONFIRMED");
    assert_eq!(
        v["request"]["privateChallengeParameters"],
        string_map(&[("answer", "5")])
    );
    assert_eq!(v["request"]["challengeAnswer"], "4");
    assert_eq!(v["request"]["clientMetadata"], string_map(&[("step", "answer")]));
    assert_eq!(v["request"]["userNotFound"], json!(false));
    assert_eq!(v["response"], json!({"answerCorrect": null}));

    let d = t.event("DefineAuthChallenge_Authentication");
    assert_keys(
        &d["request"],
        &["userAttributes", "session", "clientMetadata", "userNotFound"],
        &[],
    );
    assert_eq!(d["request"]["session"], json!([entry(false, "QUIZ-1")]));
    assert_eq!(d["request"]["clientMetadata"], string_map(&[("step", "answer")]));
    assert_eq!(d["response"], define_response_defaults());
    let c = t.event("CreateAuthChallenge_Authentication");
    assert_eq!(c["request"]["session"], json!([entry(false, "QUIZ-1")]));
    assert_eq!(c["request"]["clientMetadata"], string_map(&[("step", "answer")]));
    assert_eq!(c["response"], create_response_defaults());

    // Right answer → Verify (true) → Define issues tokens → PreTokenGeneration + PostAuthentication.
    t.clear();
    let done = answer(&t, "quinn", &session2, "5")
        .await
        .expect("RespondToAuthChallenge (right answer)");
    assert!(done.challenge_name().is_none(), "{done:?}");
    let tokens = done.authentication_result().expect("tokens");
    let id =
        t.c.verify_jwt(&t.pool.pool_id, tokens.id_token().expect("id token"))
            .await;
    assert_eq!(id.claims["sub"], sub.as_str());
    assert!(tokens.refresh_token().is_some());

    let v = t.event("VerifyAuthChallengeResponse_Authentication");
    assert_eq!(v["request"]["challengeAnswer"], "5");
    let d = t.event("DefineAuthChallenge_Authentication");
    assert_eq!(
        d["request"]["session"],
        json!([entry(false, "QUIZ-1"), entry(true, "QUIZ-2")])
    );
    assert!(t.events_of("CreateAuthChallenge_Authentication").is_empty());
    let tg = t.event("TokenGeneration_Authentication");
    assert_eq!(tg["request"]["clientMetadata"], string_map(&[("step", "answer")]));
    let pa = t.event("PostAuthentication_Authentication");
    assert_eq!(pa["request"]["clientMetadata"], string_map(&[("step", "answer")]));
    assert_eq!(
        &t.sources()[..2],
        [
            "VerifyAuthChallengeResponse_Authentication",
            "DefineAuthChallenge_Authentication"
        ]
    );

    // The consumed session cannot be answered again.
    let err = aws_err(answer(&t, "quinn", &session2, "5").await);
    assert_eq!(err.code, "NotAuthorizedException", "{err:?}");
    t.shutdown().await;
}

#[tokio::test]
async fn custom_auth_fail_authentication_after_two_wrong_answers() {
    let t = TriggerApp::start(FIXTURE).await;
    t.c.admin_user(&t.pool, "rae", "rae@example.com").await;
    let first = start_custom_auth(&t, "rae").await.expect("InitiateAuth CUSTOM_AUTH");
    let second = answer(&t, "rae", first.session().unwrap(), "1")
        .await
        .expect("first wrong answer");
    assert_eq!(second.challenge_name(), Some(&ChallengeNameType::CustomChallenge));
    t.clear();
    // The second wrong answer: Define answers failAuthentication.
    expect_err_msg(
        answer(&t, "rae", second.session().unwrap(), "2").await,
        "NotAuthorizedException",
        "Incorrect username or password.",
    );
    let d = t.event("DefineAuthChallenge_Authentication");
    assert_eq!(
        d["request"]["session"],
        json!([entry(false, "QUIZ-1"), entry(false, "QUIZ-2")])
    );
    assert!(t.events_of("CreateAuthChallenge_Authentication").is_empty());
    assert!(t.events_of("TokenGeneration_Authentication").is_empty());
    assert!(t.events_of("PostAuthentication_Authentication").is_empty());
    t.shutdown().await;
}

#[tokio::test]
async fn custom_auth_define_fails_at_once() {
    let t = TriggerApp::start(FIXTURE).await;
    t.c.admin_user(&t.pool, "sam", "sam@example.com").await;
    t.behave(json!({"DefineAuthChallenge": {"merge": {"failAuthentication": true, "issueTokens": false}}}));
    t.clear();
    expect_err_msg(
        start_custom_auth(&t, "sam").await,
        "NotAuthorizedException",
        "Incorrect username or password.",
    );
    assert!(t.events_of("CreateAuthChallenge_Authentication").is_empty());

    // Define may also issue tokens straight away (no challenge at all).
    t.behave(json!({"DefineAuthChallenge": {"merge": {"issueTokens": true, "failAuthentication": false}}}));
    let out = start_custom_auth(&t, "sam").await.expect("InitiateAuth CUSTOM_AUTH");
    assert!(out.authentication_result().is_some(), "{out:?}");

    // A failing Define handler.
    t.behave(json!({"DefineAuthChallenge": {"throw": "no challenges today"}}));
    expect_err_msg(
        start_custom_auth(&t, "sam").await,
        "UserLambdaValidationException",
        "DefineAuthChallenge failed with error no challenges today.",
    );
    t.shutdown().await;
}

#[tokio::test]
async fn custom_auth_unknown_user_with_prevent_user_existence_errors() {
    // §6.5 / S12: with PreventUserExistenceErrors ENABLED the challenge triggers run for an
    // unknown user with userNotFound: true, so the handlers can simulate a challenge.
    let t = TriggerApp::start(FIXTURE).await;
    let client_id = create_trigger_client_with(
        &t.c,
        &t.pool.pool_id,
        "hidden",
        aws_sdk_cognitoidentityprovider::types::PreventUserExistenceErrorTypes::Enabled,
    )
    .await;
    let first =
        t.c.idp
            .initiate_auth()
            .client_id(&client_id)
            .auth_flow(AuthFlowType::CustomAuth)
            .auth_parameters("USERNAME", "nobody")
            .send()
            .await
            .expect("InitiateAuth CUSTOM_AUTH for an unknown user looks like a normal challenge");
    assert_eq!(first.challenge_name(), Some(&ChallengeNameType::CustomChallenge));
    assert_public_parameters(first.challenge_parameters(), "1");
    let d = t.event("DefineAuthChallenge_Authentication");
    assert_eq!(d["userName"], "nobody");
    assert_eq!(d["request"]["userNotFound"], json!(true), "{d}");
    assert_eq!(d["request"]["session"], json!([]));
    let c = t.event("CreateAuthChallenge_Authentication");
    assert_eq!(c["request"]["userNotFound"], json!(true), "{c}");

    let respond = |session: String, answer: &'static str| {
        let idp = t.c.idp.clone();
        let client_id = client_id.clone();
        async move {
            idp.respond_to_auth_challenge()
                .client_id(client_id)
                .challenge_name(ChallengeNameType::CustomChallenge)
                .session(session)
                .challenge_responses("USERNAME", "nobody")
                .challenge_responses("ANSWER", answer)
                .send()
                .await
        }
    };
    let second = respond(first.session().unwrap().to_string(), "1")
        .await
        .expect("first wrong answer");
    assert_eq!(second.challenge_name(), Some(&ChallengeNameType::CustomChallenge));
    let v = t.event("VerifyAuthChallengeResponse_Authentication");
    assert_eq!(v["request"]["userNotFound"], json!(true), "{v}");
    expect_err_msg(
        respond(second.session().unwrap().to_string(), "2").await,
        "NotAuthorizedException",
        "Incorrect username or password.",
    );
    t.shutdown().await;
}
