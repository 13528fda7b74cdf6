//! Trigger conformance (spec/triggers.md §6.11): CustomMessage for every message source, run by
//! the Node CommonJS handler of `fixtures/triggers`. The fixture pool sends email as DEVELOPER
//! (SES), so the handler may set emailSubject / emailMessage; its text must reach the outbox
//! with the code (and username) substituted.

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{DeliveryMediumType, MessageActionType};
use cognate_sdk_tests::triggers::*;
use cognate_sdk_tests::*;
use serde_json::{Value, json};

const FIXTURE: &str = "triggers";

fn message_response_defaults() -> Value {
    json!({"smsMessage": null, "emailMessage": null, "emailSubject": null})
}

/// Asserts a CustomMessage event; returns its userAttributes.
#[track_caller]
#[allow(clippy::too_many_arguments)]
fn assert_custom_message(
    ev: &Value,
    source: &str,
    pool_id: &str,
    user_name: &str,
    client_id: Option<&str>,
    sub: &str,
    status: &str,
    metadata: Option<Value>,
) -> serde_json::Map<String, Value> {
    assert_envelope(ev, "1", source, pool_id, user_name, client_id);
    let mut required = vec!["userAttributes", "codeParameter", "linkParameter", "usernameParameter"];
    if metadata.is_some() {
        required.push("clientMetadata");
    }
    assert_keys(&ev["request"], &required, &[]);
    assert_eq!(ev["request"]["codeParameter"], "{####}");
    assert_eq!(ev["request"]["linkParameter"], "{##Click Here##}");
    if source == "CustomMessage_AdminCreateUser" {
        assert_eq!(ev["request"]["usernameParameter"], "{username}");
    } else {
        assert!(ev["request"]["usernameParameter"].is_null(), "{ev}");
    }
    if let Some(md) = metadata {
        assert_eq!(ev["request"]["clientMetadata"], md);
    }
    assert_eq!(ev["response"], message_response_defaults());
    assert_user_attributes(ev, sub, status)
}

/// A handler answer that sets subject and body using the request's placeholders.
fn custom_email(source: &str, subject: &str, body: &str) -> Value {
    json!({ (source): {"merge": {"emailSubject": subject, "emailMessage": body}} })
}

/// The newest outbox message to `to`: asserts its source and returns (subject, body).
async fn outbox(t: &TriggerApp, to: &str, source: &str) -> (String, String) {
    let msg = t.c.last_message(to).await;
    assert_eq!(msg["trigger_source"], source, "{msg}");
    assert_eq!(msg["channel"], "email", "{msg}");
    assert_eq!(msg["pool_id"], t.pool.pool_id.as_str());
    (
        msg["subject"].as_str().unwrap_or_default().to_string(),
        msg["body"].as_str().expect("body").to_string(),
    )
}

/// Checks `body` is `prefix` + a six-digit code + `suffix`; returns the code.
#[track_caller]
fn code_between(body: &str, prefix: &str, suffix: &str) -> String {
    let code = body
        .strip_prefix(prefix)
        .and_then(|r| r.strip_suffix(suffix))
        .unwrap_or_else(|| panic!("body {body:?} is not {prefix:?}<code>{suffix:?}"));
    assert!(
        code.len() == 6 && code.chars().all(|c| c.is_ascii_digit()),
        "code {code:?} in {body:?}"
    );
    code.to_string()
}

#[tokio::test]
async fn custom_message_sign_up_and_resend_code() {
    let t = TriggerApp::start(FIXTURE).await;
    t.behave(custom_email(
        "CustomMessage_SignUp",
        "Welcome aboard",
        "<b>Hello!</b> Your code is @code@ - enjoy",
    ));
    let out =
        t.c.idp
            .sign_up()
            .client_id(&t.pool.client_id)
            .username("mia")
            .password(PASSWORD)
            .user_attributes(attr("email", "mia@example.com"))
            .client_metadata("lang", "en")
            .send()
            .await
            .expect("SignUp");
    let ev = t.event("CustomMessage_SignUp");
    let ua = assert_custom_message(
        &ev,
        "CustomMessage_SignUp",
        &t.pool.pool_id,
        "mia",
        Some(&t.pool.client_id),
        out.user_sub(),
        "UNCONFIRMED",
        Some(string_map(&[("lang", "en")])),
    );
    assert_eq!(ua.get("email"), Some(&json!("mia@example.com")));
    let (subject, body) = outbox(&t, "mia@example.com", "CustomMessage_SignUp").await;
    assert_eq!(subject, "Welcome aboard");
    let first_code = code_between(&body, "<b>Hello!</b> Your code is ", " - enjoy");

    // ResendConfirmationCode: its own source, its own ClientMetadata.
    t.behave(custom_email(
        "CustomMessage_ResendCode",
        "Again",
        "Here it is again: @code@",
    ));
    t.clear();
    t.c.idp
        .resend_confirmation_code()
        .client_id(&t.pool.client_id)
        .username("mia")
        .client_metadata("lang", "de")
        .send()
        .await
        .expect("ResendConfirmationCode");
    let ev = t.event("CustomMessage_ResendCode");
    assert_custom_message(
        &ev,
        "CustomMessage_ResendCode",
        &t.pool.pool_id,
        "mia",
        Some(&t.pool.client_id),
        out.user_sub(),
        "UNCONFIRMED",
        Some(string_map(&[("lang", "de")])),
    );
    let (subject, body) = outbox(&t, "mia@example.com", "CustomMessage_ResendCode").await;
    assert_eq!(subject, "Again");
    let code = code_between(&body, "Here it is again: ", "");
    let _ = first_code;
    // The substituted code is the real one.
    t.c.idp
        .confirm_sign_up()
        .client_id(&t.pool.client_id)
        .username("mia")
        .confirmation_code(code)
        .send()
        .await
        .expect("ConfirmSignUp with the code from the custom message");
    t.shutdown().await;
}

#[tokio::test]
async fn custom_message_forgot_password() {
    let t = TriggerApp::start(FIXTURE).await;
    let sub = t.c.admin_user(&t.pool, "ned", "ned@example.com").await;
    t.behave(custom_email(
        "CustomMessage_ForgotPassword",
        "Reset your password",
        "Reset code: @code@",
    ));
    t.clear();
    t.c.idp
        .forgot_password()
        .client_id(&t.pool.client_id)
        .username("ned")
        .client_metadata("origin", "app")
        .send()
        .await
        .expect("ForgotPassword");
    let ev = t.event("CustomMessage_ForgotPassword");
    assert_custom_message(
        &ev,
        "CustomMessage_ForgotPassword",
        &t.pool.pool_id,
        "ned",
        Some(&t.pool.client_id),
        &sub,
        "CONFIRMED",
        Some(string_map(&[("origin", "app")])),
    );
    let (subject, body) = outbox(&t, "ned@example.com", "CustomMessage_ForgotPassword").await;
    assert_eq!(subject, "Reset your password");
    let code = code_between(&body, "Reset code: ", "");
    t.c.idp
        .confirm_forgot_password()
        .client_id(&t.pool.client_id)
        .username("ned")
        .confirmation_code(code)
        .password(NEW_PASSWORD)
        .send()
        .await
        .expect("ConfirmForgotPassword with the code from the custom message");
    t.c.sign_in(&t.pool, "ned", NEW_PASSWORD).await;
    t.shutdown().await;
}

#[tokio::test]
async fn custom_message_admin_create_user() {
    let t = TriggerApp::start(FIXTURE).await;
    t.behave(custom_email(
        "CustomMessage_AdminCreateUser",
        "Your new account",
        "Sign in as @username@ with @code@ today",
    ));
    let created =
        t.c.idp
            .admin_create_user()
            .user_pool_id(&t.pool.pool_id)
            .username("ola")
            .user_attributes(attr("email", "ola@example.com"))
            .desired_delivery_mediums(DeliveryMediumType::Email)
            .client_metadata("invited_by", "admin")
            .send()
            .await
            .expect("AdminCreateUser");
    let sub = attr_value(created.user().unwrap().attributes(), "sub").unwrap();
    let ev = t.event("CustomMessage_AdminCreateUser");
    assert_custom_message(
        &ev,
        "CustomMessage_AdminCreateUser",
        &t.pool.pool_id,
        "ola",
        None,
        &sub,
        "FORCE_CHANGE_PASSWORD",
        Some(string_map(&[("invited_by", "admin")])),
    );
    let (subject, body) = outbox(&t, "ola@example.com", "CustomMessage_AdminCreateUser").await;
    assert_eq!(subject, "Your new account");
    let rest = body
        .strip_prefix("Sign in as ola with ")
        .and_then(|r| r.strip_suffix(" today"))
        .unwrap_or_else(|| panic!("username and temporary password not substituted: {body:?}"));
    assert!(!rest.contains('{'), "placeholder left in {body:?}");
    // The substituted temporary password works.
    let out =
        t.c.idp
            .initiate_auth()
            .client_id(&t.pool.client_id)
            .auth_flow(aws_sdk_cognitoidentityprovider::types::AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "ola")
            .auth_parameters("PASSWORD", rest)
            .send()
            .await
            .expect("sign in with the temporary password from the custom message");
    assert_eq!(out.challenge_name().map(|c| c.as_str()), Some("NEW_PASSWORD_REQUIRED"));

    // MessageAction=SUPPRESS: no message, no CustomMessage.
    t.clear();
    t.c.idp
        .admin_create_user()
        .user_pool_id(&t.pool.pool_id)
        .username("pam")
        .user_attributes(attr("email", "pam@example.com"))
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .expect("AdminCreateUser SUPPRESS");
    assert!(t.events_of("CustomMessage_AdminCreateUser").is_empty());
    assert!(t.c.messages(Some("pam@example.com")).await.is_empty());
    t.shutdown().await;
}

#[tokio::test]
async fn custom_message_update_and_verify_user_attribute() {
    let t = TriggerApp::start(FIXTURE).await;
    let sub = t.c.admin_user(&t.pool, "pia", "pia@example.com").await;
    let tokens = t.c.sign_in(&t.pool, "pia", PASSWORD).await;
    let access = tokens.access_token().unwrap().to_string();

    t.behave(custom_email(
        "CustomMessage_UpdateUserAttribute",
        "Confirm your new address",
        "New address code @code@",
    ));
    t.clear();
    t.c.idp
        .update_user_attributes()
        .access_token(&access)
        .user_attributes(attr("email", "pia.new@example.com"))
        .client_metadata("why", "moved")
        .send()
        .await
        .expect("UpdateUserAttributes");
    let ev = t.event("CustomMessage_UpdateUserAttribute");
    assert_custom_message(
        &ev,
        "CustomMessage_UpdateUserAttribute",
        &t.pool.pool_id,
        "pia",
        Some(&t.pool.client_id),
        &sub,
        "CONFIRMED",
        Some(string_map(&[("why", "moved")])),
    );
    let (subject, body) = outbox(&t, "pia.new@example.com", "CustomMessage_UpdateUserAttribute").await;
    assert_eq!(subject, "Confirm your new address");
    let code = code_between(&body, "New address code ", "");
    t.c.idp
        .verify_user_attribute()
        .access_token(&access)
        .attribute_name("email")
        .code(code)
        .send()
        .await
        .expect("VerifyUserAttribute with the code from the custom message");

    // GetUserAttributeVerificationCode → CustomMessage_VerifyUserAttribute.
    t.behave(custom_email(
        "CustomMessage_VerifyUserAttribute",
        "Verify",
        "Verification code @code@",
    ));
    t.clear();
    t.c.idp
        .get_user_attribute_verification_code()
        .access_token(&access)
        .attribute_name("email")
        .client_metadata("why", "recheck")
        .send()
        .await
        .expect("GetUserAttributeVerificationCode");
    let ev = t.event("CustomMessage_VerifyUserAttribute");
    let ua = assert_custom_message(
        &ev,
        "CustomMessage_VerifyUserAttribute",
        &t.pool.pool_id,
        "pia",
        Some(&t.pool.client_id),
        &sub,
        "CONFIRMED",
        Some(string_map(&[("why", "recheck")])),
    );
    assert_eq!(ua.get("email"), Some(&json!("pia.new@example.com")));
    let (subject, body) = outbox(&t, "pia.new@example.com", "CustomMessage_VerifyUserAttribute").await;
    assert_eq!(subject, "Verify");
    let code = code_between(&body, "Verification code ", "");
    t.c.idp
        .verify_user_attribute()
        .access_token(&access)
        .attribute_name("email")
        .code(code)
        .send()
        .await
        .expect("VerifyUserAttribute");
    // VerifyUserAttribute itself invokes nothing.
    assert_eq!(t.sources(), ["CustomMessage_VerifyUserAttribute"]);
    t.shutdown().await;
}

#[tokio::test]
async fn custom_message_null_response_uses_the_pool_template() {
    let t = TriggerApp::start(FIXTURE).await;
    // The handler returns the event unchanged (all three fields null).
    t.c.idp
        .sign_up()
        .client_id(&t.pool.client_id)
        .username("rex")
        .password(PASSWORD)
        .user_attributes(attr("email", "rex@example.com"))
        .send()
        .await
        .expect("SignUp");
    t.event("CustomMessage_SignUp");
    let msg = t.c.last_message("rex@example.com").await;
    assert_eq!(msg["trigger_source"], "CustomMessage_SignUp");
    let body = msg["body"].as_str().unwrap();
    assert!(extract_code(body).is_some(), "default template with the code: {body:?}");
    assert!(!body.contains("{####}"), "{body:?}");
    t.shutdown().await;
}

#[tokio::test]
async fn custom_message_error_fails_the_call() {
    let t = TriggerApp::start(FIXTURE).await;
    t.behave(json!({"CustomMessage": {"throw": "template store down"}}));
    expect_err_msg(
        t.c.idp
            .sign_up()
            .client_id(&t.pool.client_id)
            .username("sid")
            .password(PASSWORD)
            .user_attributes(attr("email", "sid@example.com"))
            .send()
            .await,
        "UserLambdaValidationException",
        "CustomMessage failed with error template store down.",
    );
    assert!(t.c.messages(Some("sid@example.com")).await.is_empty());
    t.shutdown().await;
}

#[tokio::test]
async fn custom_message_email_fields_need_developer_sending_account() {
    // §6.11 [D]: emailMessage / emailSubject are honoured only with EmailSendingAccount
    // DEVELOPER; with COGNITO_DEFAULT returning them is an InvalidLambdaResponseException.
    let t = TriggerApp::start_edited(FIXTURE, |yml| {
        yml.replace("EmailSendingAccount: DEVELOPER", "EmailSendingAccount: COGNITO_DEFAULT")
            .replace(
                "          SourceArn: arn:aws:ses:us-east-1:123456789012:identity/example.com\n",
                "",
            )
            .replace("          From: no-reply@example.com\n", "")
    })
    .await;
    t.behave(custom_email("CustomMessage_SignUp", "Hi", "Code @code@"));
    let err = aws_err(
        t.c.idp
            .sign_up()
            .client_id(&t.pool.client_id)
            .username("tia")
            .password(PASSWORD)
            .user_attributes(attr("email", "tia@example.com"))
            .send()
            .await,
    );
    assert_eq!(err.code, "InvalidLambdaResponseException", "{err:?}");
    t.shutdown().await;
}
