//! Trigger conformance (spec/triggers.md §2, §8): how invocation failures reach API callers.
//! A handler that answers too late is an UnexpectedLambdaException; one that answers with
//! something other than an object is an InvalidLambdaResponseException.

use std::time::{Duration, Instant};

use cognate_sdk_tests::triggers::*;
use cognate_sdk_tests::*;
use serde_json::json;

const FIXTURE: &str = "triggers";

async fn try_sign_up(
    t: &TriggerApp,
    username: &str,
) -> Result<
    aws_sdk_cognitoidentityprovider::operation::sign_up::SignUpOutput,
    aws_sdk_cognitoidentityprovider::error::SdkError<aws_sdk_cognitoidentityprovider::operation::sign_up::SignUpError>,
> {
    t.c.idp
        .sign_up()
        .client_id(&t.pool.client_id)
        .username(username)
        .password(PASSWORD)
        .user_attributes(attr("email", &format!("{username}@example.com")))
        .send()
        .await
}

#[tokio::test]
async fn handler_past_five_seconds_is_unexpected_lambda_exception() {
    let t = TriggerApp::start(FIXTURE).await;
    t.behave(json!({"PreSignUp": {"sleepMs": 6500}}));
    let started = Instant::now();
    let err = aws_err(try_sign_up(&t, "slowpoke").await);
    let took = started.elapsed();
    assert_eq!(err.code, "UnexpectedLambdaException", "{err:?}");
    let msg = err.message.unwrap_or_default();
    assert!(
        msg.starts_with("PreSignUp invocation failed due to error ") && msg.ends_with('.'),
        "message: {msg:?}"
    );
    assert!(
        took >= Duration::from_secs(5),
        "gave up after {took:?}, before the 5 s budget"
    );
    let attempts = t.sources().iter().filter(|s| *s == "PreSignUp_SignUp").count();
    assert!((1..=3).contains(&attempts), "{attempts} attempts: at most three");
    expect_err(
        t.c.idp
            .admin_get_user()
            .user_pool_id(&t.pool.pool_id)
            .username("slowpoke")
            .send()
            .await,
        "UserNotFoundException",
    );
    t.shutdown().await;
}

#[tokio::test]
async fn non_object_output_is_invalid_lambda_response() {
    let t = TriggerApp::start(FIXTURE).await;
    // Node CommonJS async (PreSignUp): a number, null, a string, an array.
    for (i, raw) in [json!(42), json!(null), json!("accepted"), json!([1, 2])]
        .into_iter()
        .enumerate()
    {
        t.behave(json!({"PreSignUp": {"raw": raw}}));
        let err = aws_err(try_sign_up(&t, &format!("raw{i}")).await);
        assert_eq!(
            err.code, "InvalidLambdaResponseException",
            "PreSignUp answering {raw}: {err:?}"
        );
        expect_err(
            t.c.idp
                .admin_get_user()
                .user_pool_id(&t.pool.pool_id)
                .username(format!("raw{i}"))
                .send()
                .await,
            "UserNotFoundException",
        );
    }
    t.shutdown().await;
}

#[tokio::test]
async fn invalid_output_from_callback_and_python_handlers() {
    let t = TriggerApp::start(FIXTURE).await;
    t.c.admin_user(&t.pool, "val", "val@example.com").await;
    // Node callback style (PreAuthentication): callback(null, null).
    t.behave(json!({"PreAuthentication": {"raw": null}}));
    let res =
        t.c.idp
            .initiate_auth()
            .client_id(&t.pool.client_id)
            .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "val")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await;
    let err = aws_err(res);
    assert_eq!(err.code, "InvalidLambdaResponseException", "{err:?}");

    // Python (PostAuthentication): returns a list.
    t.behave(json!({"PostAuthentication": {"raw": ["not", "an", "event"]}}));
    let res =
        t.c.idp
            .initiate_auth()
            .client_id(&t.pool.client_id)
            .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "val")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await;
    let err = aws_err(res);
    assert_eq!(err.code, "InvalidLambdaResponseException", "{err:?}");

    // Node ESM (PreTokenGeneration): a string.
    t.behave(json!({"TokenGeneration": {"raw": "token please"}}));
    let res =
        t.c.idp
            .initiate_auth()
            .client_id(&t.pool.client_id)
            .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "val")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await;
    let err = aws_err(res);
    assert_eq!(err.code, "InvalidLambdaResponseException", "{err:?}");

    // Back to normal.
    t.behave(json!({}));
    t.c.sign_in(&t.pool, "val", PASSWORD).await;
    t.shutdown().await;
}
