//! One-time codes: sign-up confirmation codes expire after 24 hours, wrong guesses are
//! limited, and code requests are limited per hour.
use crate::err_text;
use cognate_core::testkit::{Kit, PASSWORD, service};
use serde_json::{Value, json};
use std::time::Duration;

const EXPIRED: &str = "ExpiredCodeException: Invalid code provided, please request a code again.";
const ATTEMPT_LIMIT: &str = "LimitExceededException: Attempt limit exceeded, please try after some time.";

/// A pool verifying emails, a client, and `carl` signed up (unconfirmed); returns the client.
async fn signed_up(kit: &Kit) -> String {
    let pool = kit.create_pool(json!({"AutoVerifiedAttributes": ["email"]})).await;
    let client = kit.create_client(&pool, json!({})).await;
    kit.ok(
        "SignUp",
        json!({
            "ClientId": client, "Username": "carl", "Password": PASSWORD,
            "UserAttributes": [{"Name": "email", "Value": "carl@example.com"}],
        }),
    )
    .await;
    client
}

fn code(kit: &Kit) -> String {
    kit.messages.last_code_to("carl@example.com").expect("a code was sent")
}

fn wrong(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

async fn confirm(kit: &Kit, client: &str, code: &str) -> cognate_core::Result<Value> {
    kit.call(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "carl", "ConfirmationCode": code}),
    )
    .await
}

#[tokio::test]
async fn sign_up_sends_a_six_digit_code_that_confirms() {
    let kit = service();
    let client = signed_up(&kit).await;
    let code = code(&kit);
    assert!(code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()), "{code}");
    confirm(&kit, &client, &code).await.expect("ConfirmSignUp");
    kit.sign_in(&client, "carl", PASSWORD)
        .await
        .expect("a confirmed user signs in");
}

#[tokio::test]
async fn a_confirmation_code_is_valid_just_under_24_hours() {
    let kit = service();
    let client = signed_up(&kit).await;
    kit.clock.advance(Duration::from_secs(24 * 3600 - 60));
    confirm(&kit, &client, &code(&kit)).await.expect("still valid");
}

#[tokio::test]
async fn a_confirmation_code_expires_after_24_hours_and_a_new_one_works() {
    let kit = service();
    let client = signed_up(&kit).await;
    let old = code(&kit);
    kit.clock.advance(Duration::from_secs(24 * 3600 + 60));
    assert_eq!(err_text(confirm(&kit, &client, &old).await), EXPIRED);
    kit.ok(
        "ResendConfirmationCode",
        json!({"ClientId": client, "Username": "carl"}),
    )
    .await;
    confirm(&kit, &client, &code(&kit))
        .await
        .expect("the new code confirms");
}

#[tokio::test]
async fn five_wrong_codes_spend_the_attempts_even_for_the_right_code() {
    let kit = service();
    let client = signed_up(&kit).await;
    let right = code(&kit);
    for _ in 0..5 {
        let r = confirm(&kit, &client, wrong(&right)).await;
        assert!(err_text(r).starts_with("CodeMismatchException"));
    }
    assert!(err_text(confirm(&kit, &client, &right).await).starts_with("LimitExceededException"));
}

#[tokio::test]
async fn a_new_code_within_the_hour_brings_no_new_guesses() {
    let kit = service();
    let client = signed_up(&kit).await;
    let first = code(&kit);
    for _ in 0..5 {
        confirm(&kit, &client, wrong(&first)).await.unwrap_err();
    }
    let resend = json!({"ClientId": client, "Username": "carl"});
    kit.ok("ResendConfirmationCode", resend.clone()).await;
    assert!(err_text(confirm(&kit, &client, &code(&kit)).await).starts_with("LimitExceededException"));
    kit.clock.advance(Duration::from_secs(3601));
    kit.ok("ResendConfirmationCode", resend).await;
    confirm(&kit, &client, &code(&kit))
        .await
        .expect("a code asked for an hour later");
}

#[tokio::test]
async fn code_requests_are_limited_to_five_an_hour() {
    let kit = service();
    let (_, client) = kit.pool_client_user().await;
    let forgot = json!({"ClientId": client, "Username": "alice"});
    for i in 0..5 {
        kit.call("ForgotPassword", forgot.clone())
            .await
            .unwrap_or_else(|e| panic!("request {i}: {e}"));
    }
    assert_eq!(
        err_text(kit.call("ForgotPassword", forgot.clone()).await),
        ATTEMPT_LIMIT
    );
    assert_eq!(kit.messages.messages().len(), 5, "the refused request sent nothing");
    kit.clock.advance(Duration::from_secs(3601));
    kit.ok("ForgotPassword", forgot).await;
}

#[tokio::test]
async fn confirming_an_unknown_user_names_the_username_client_pair() {
    let kit = service();
    let client = signed_up(&kit).await;
    let r = kit
        .call(
            "ConfirmSignUp",
            json!({"ClientId": client, "Username": "ghost", "ConfirmationCode": "123456"}),
        )
        .await;
    assert_eq!(
        err_text(r),
        "UserNotFoundException: Username/client id combination not found."
    );
}

#[tokio::test]
async fn forgot_password_code_resets_the_password() {
    let kit = service();
    let (_, client) = kit.pool_client_user().await;
    kit.ok("ForgotPassword", json!({"ClientId": client, "Username": "alice"}))
        .await;
    let code = kit.messages.last_code_to("alice@example.com").expect("a reset code");
    let reset = |code: &str, password: &str| json!({"ClientId": client, "Username": "alice", "ConfirmationCode": code, "Password": password});
    let r = kit
        .call("ConfirmForgotPassword", reset(wrong(&code), "N3w-Passw0rd!"))
        .await;
    assert!(err_text(r).starts_with("CodeMismatchException"));
    kit.ok("ConfirmForgotPassword", reset(&code, "N3w-Passw0rd!")).await;
    kit.sign_in(&client, "alice", "N3w-Passw0rd!")
        .await
        .expect("the new password works");
    assert!(
        kit.sign_in(&client, "alice", PASSWORD).await.is_err(),
        "the old one does not"
    );
}
