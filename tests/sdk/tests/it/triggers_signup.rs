//! Trigger conformance (spec/triggers.md §6.1, §6.2): PreSignUp and PostConfirmation, run by
//! the real handlers of `fixtures/triggers` (PreSignUp: Node CommonJS async; PostConfirmation:
//! Python).

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    DeliveryMediumType, MessageActionType, UserStatusType,
};
use cognate_sdk_tests::triggers::*;
use cognate_sdk_tests::*;
use serde_json::json;

const FIXTURE: &str = "triggers";

fn pre_sign_up_response_defaults() -> serde_json::Value {
    json!({"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false})
}

#[tokio::test]
async fn pre_sign_up_sign_up_event_and_auto_confirm() {
    let t = TriggerApp::start(FIXTURE).await;
    t.behave(json!({"PreSignUp": {"merge": {"autoConfirmUser": true, "autoVerifyEmail": true}}}));
    let out =
        t.c.idp
            .sign_up()
            .client_id(&t.pool.client_id)
            .username("ann")
            .password(PASSWORD)
            .user_attributes(attr("email", "ann@example.com"))
            .user_attributes(attr("name", "Ann"))
            .validation_data(attr("captcha", "xyz"))
            .client_metadata("plan", "free")
            .send()
            .await
            .expect("SignUp");

    // The event (§6.1): only the submitted attributes, validationData and clientMetadata
    // routed from SignUp, the three flags pre-populated as false.
    let ev = t.event("PreSignUp_SignUp");
    assert_envelope(
        &ev,
        "1",
        "PreSignUp_SignUp",
        &t.pool.pool_id,
        "ann",
        Some(&t.pool.client_id),
    );
    assert_keys(
        &ev["request"],
        &["userAttributes", "validationData", "clientMetadata"],
        &[],
    );
    assert_eq!(
        ev["request"]["userAttributes"],
        string_map(&[("email", "ann@example.com"), ("name", "Ann")]),
        "PreSignUp sees only the submitted attributes (no sub, no cognito:user_status)"
    );
    assert_eq!(ev["request"]["validationData"], string_map(&[("captcha", "xyz")]));
    assert_eq!(ev["request"]["clientMetadata"], string_map(&[("plan", "free")]));
    assert_eq!(ev["response"], pre_sign_up_response_defaults());

    // The effect: confirmed, email verified, no confirmation code sent.
    assert!(out.user_confirmed(), "autoConfirmUser ⇒ UserConfirmed");
    assert!(out.code_delivery_details().is_none(), "{out:?}");
    assert!(t.c.messages(Some("ann@example.com")).await.is_empty());
    let user =
        t.c.idp
            .admin_get_user()
            .user_pool_id(&t.pool.pool_id)
            .username("ann")
            .send()
            .await
            .expect("AdminGetUser");
    assert_eq!(user.user_status(), Some(&UserStatusType::Confirmed));
    let attrs = pairs(user.user_attributes());
    assert_eq!(lookup(&attrs, "email_verified").as_deref(), Some("true"));

    // Auto-confirmation runs PostConfirmation_ConfirmSignUp with SignUp's ClientMetadata.
    let pc = t.event("PostConfirmation_ConfirmSignUp");
    assert_envelope(
        &pc,
        "1",
        "PostConfirmation_ConfirmSignUp",
        &t.pool.pool_id,
        "ann",
        Some(&t.pool.client_id),
    );
    assert_keys(&pc["request"], &["userAttributes", "clientMetadata"], &[]);
    let ua = assert_user_attributes(&pc, out.user_sub(), "CONFIRMED");
    assert_eq!(ua.get("email"), Some(&json!("ann@example.com")));
    assert_eq!(ua.get("email_verified"), Some(&json!("true")));
    assert_eq!(ua.get("name"), Some(&json!("Ann")));
    assert_eq!(pc["request"]["clientMetadata"], string_map(&[("plan", "free")]));
    assert_eq!(pc["response"], json!({}));

    // Order: PreSignUp first, no CustomMessage (no code is sent), then PostConfirmation.
    assert_eq!(t.sources(), ["PreSignUp_SignUp", "PostConfirmation_ConfirmSignUp"]);

    // The user can sign in straight away.
    t.c.sign_in(&t.pool, "ann", PASSWORD).await;
    t.shutdown().await;
}

#[tokio::test]
async fn pre_sign_up_defaults_leave_user_unconfirmed() {
    let t = TriggerApp::start(FIXTURE).await;
    let out =
        t.c.idp
            .sign_up()
            .client_id(&t.pool.client_id)
            .username("bo")
            .password(PASSWORD)
            .user_attributes(attr("email", "bo@example.com"))
            .send()
            .await
            .expect("SignUp");
    assert!(!out.user_confirmed());

    let ev = t.event("PreSignUp_SignUp");
    // Without ValidationData the key is sent as null; without ClientMetadata it is omitted.
    assert_keys(&ev["request"], &["userAttributes", "validationData"], &[]);
    assert!(ev["request"]["validationData"].is_null(), "{ev}");
    assert_eq!(
        ev["request"]["userAttributes"],
        string_map(&[("email", "bo@example.com")])
    );
    assert_eq!(ev["response"], pre_sign_up_response_defaults());

    // Normal flow: a code goes out, nothing is confirmed.
    let msg = t.c.last_message("bo@example.com").await;
    assert_eq!(msg["trigger_source"], "CustomMessage_SignUp");
    assert!(t.events_of("PostConfirmation_ConfirmSignUp").is_empty());
    let user =
        t.c.idp
            .admin_get_user()
            .user_pool_id(&t.pool.pool_id)
            .username("bo")
            .send()
            .await
            .expect("AdminGetUser");
    assert_eq!(user.user_status(), Some(&UserStatusType::Unconfirmed));
    t.shutdown().await;
}

#[tokio::test]
async fn pre_sign_up_auto_verify_email_without_confirming() {
    let t = TriggerApp::start(FIXTURE).await;
    t.behave(json!({"PreSignUp": {"merge": {"autoVerifyEmail": true}}}));
    let out =
        t.c.idp
            .sign_up()
            .client_id(&t.pool.client_id)
            .username("cy")
            .password(PASSWORD)
            .user_attributes(attr("email", "cy@example.com"))
            .send()
            .await
            .expect("SignUp");
    assert!(!out.user_confirmed(), "autoVerifyEmail alone does not confirm");
    let user =
        t.c.idp
            .admin_get_user()
            .user_pool_id(&t.pool.pool_id)
            .username("cy")
            .send()
            .await
            .expect("AdminGetUser");
    assert_eq!(user.user_status(), Some(&UserStatusType::Unconfirmed));
    let attrs = pairs(user.user_attributes());
    assert_eq!(lookup(&attrs, "email_verified").as_deref(), Some("true"));
    assert!(t.events_of("PostConfirmation_ConfirmSignUp").is_empty());
    t.shutdown().await;
}

#[tokio::test]
async fn pre_sign_up_error_rejects_sign_up_and_creates_nobody() {
    let t = TriggerApp::start(FIXTURE).await;
    t.behave(json!({"PreSignUp": {"throw": "Domain not allowed"}}));
    let res =
        t.c.idp
            .sign_up()
            .client_id(&t.pool.client_id)
            .username("dee")
            .password(PASSWORD)
            .user_attributes(attr("email", "dee@blocked.example"))
            .send()
            .await;
    expect_err_msg(
        res,
        "UserLambdaValidationException",
        "PreSignUp failed with error Domain not allowed.",
    );
    expect_err(
        t.c.idp
            .admin_get_user()
            .user_pool_id(&t.pool.pool_id)
            .username("dee")
            .send()
            .await,
        "UserNotFoundException",
    );
    assert!(t.c.messages(Some("dee@blocked.example")).await.is_empty());
    assert_eq!(t.sources(), ["PreSignUp_SignUp"]);

    // A period is appended even when the handler's message already ends with one.
    t.behave(json!({"PreSignUp": {"throw": "Not allowed."}}));
    let res =
        t.c.idp
            .sign_up()
            .client_id(&t.pool.client_id)
            .username("dee")
            .password(PASSWORD)
            .user_attributes(attr("email", "dee@blocked.example"))
            .send()
            .await;
    expect_err_msg(
        res,
        "UserLambdaValidationException",
        "PreSignUp failed with error Not allowed..",
    );

    // Once the handler accepts, the same name is free.
    t.behave(json!({}));
    t.c.idp
        .sign_up()
        .client_id(&t.pool.client_id)
        .username("dee")
        .password(PASSWORD)
        .user_attributes(attr("email", "dee@blocked.example"))
        .send()
        .await
        .expect("SignUp after the handler accepts");
    t.shutdown().await;
}

#[tokio::test]
async fn pre_sign_up_admin_create_user_flags_are_ignored() {
    let t = TriggerApp::start(FIXTURE).await;
    t.behave(json!({"PreSignUp": {"merge": {"autoConfirmUser": true, "autoVerifyEmail": true}}}));
    t.c.idp
        .admin_create_user()
        .user_pool_id(&t.pool.pool_id)
        .username("eve")
        .user_attributes(attr("email", "eve@example.com"))
        .validation_data(attr("source", "import"))
        .client_metadata("batch", "7")
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .expect("AdminCreateUser");

    let ev = t.event("PreSignUp_AdminCreateUser");
    assert_envelope(&ev, "1", "PreSignUp_AdminCreateUser", &t.pool.pool_id, "eve", None);
    assert_keys(
        &ev["request"],
        &["userAttributes", "validationData", "clientMetadata"],
        &[],
    );
    assert_eq!(
        ev["request"]["userAttributes"],
        string_map(&[("email", "eve@example.com")])
    );
    assert_eq!(ev["request"]["validationData"], string_map(&[("source", "import")]));
    assert_eq!(ev["request"]["clientMetadata"], string_map(&[("batch", "7")]));
    assert_eq!(ev["response"], pre_sign_up_response_defaults());

    // autoConfirmUser / autoVerifyEmail have no effect on AdminCreateUser.
    let user =
        t.c.idp
            .admin_get_user()
            .user_pool_id(&t.pool.pool_id)
            .username("eve")
            .send()
            .await
            .expect("AdminGetUser");
    assert_eq!(user.user_status(), Some(&UserStatusType::ForceChangePassword));
    let attrs = pairs(user.user_attributes());
    assert_ne!(lookup(&attrs, "email_verified").as_deref(), Some("true"));
    // No PostConfirmation for admin-created users.
    assert_eq!(t.sources(), ["PreSignUp_AdminCreateUser"]);

    // A failing handler stops AdminCreateUser.
    t.behave(json!({"PreSignUp": {"throw": "no imports today"}}));
    expect_err_msg(
        t.c.idp
            .admin_create_user()
            .user_pool_id(&t.pool.pool_id)
            .username("fay")
            .user_attributes(attr("email", "fay@example.com"))
            .message_action(MessageActionType::Suppress)
            .send()
            .await,
        "UserLambdaValidationException",
        "PreSignUp failed with error no imports today.",
    );
    expect_err(
        t.c.idp
            .admin_get_user()
            .user_pool_id(&t.pool.pool_id)
            .username("fay")
            .send()
            .await,
        "UserNotFoundException",
    );
    t.shutdown().await;
}

/// SignUp, then the code from the outbox.
async fn sign_up_pending(t: &TriggerApp, username: &str, email: &str) -> (String, String) {
    let out =
        t.c.idp
            .sign_up()
            .client_id(&t.pool.client_id)
            .username(username)
            .password(PASSWORD)
            .user_attributes(attr("email", email))
            .send()
            .await
            .expect("SignUp");
    let code = t.c.last_code(email).await;
    (out.user_sub().to_string(), code)
}

#[tokio::test]
async fn post_confirmation_confirm_sign_up_event() {
    let t = TriggerApp::start(FIXTURE).await;
    let (sub, code) = sign_up_pending(&t, "gil", "gil@example.com").await;
    t.clear();
    t.c.idp
        .confirm_sign_up()
        .client_id(&t.pool.client_id)
        .username("gil")
        .confirmation_code(code)
        .client_metadata("plan", "pro")
        .send()
        .await
        .expect("ConfirmSignUp");

    let ev = t.event("PostConfirmation_ConfirmSignUp");
    assert_envelope(
        &ev,
        "1",
        "PostConfirmation_ConfirmSignUp",
        &t.pool.pool_id,
        "gil",
        Some(&t.pool.client_id),
    );
    assert_keys(&ev["request"], &["userAttributes", "clientMetadata"], &[]);
    let ua = assert_user_attributes(&ev, &sub, "CONFIRMED");
    assert_eq!(ua.get("email"), Some(&json!("gil@example.com")));
    assert_eq!(
        ua.get("email_verified"),
        Some(&json!("true")),
        "post-confirmation state: the code verified the email"
    );
    assert_eq!(ev["request"]["clientMetadata"], string_map(&[("plan", "pro")]));
    assert_eq!(ev["response"], json!({}));
    assert_eq!(t.sources(), ["PostConfirmation_ConfirmSignUp"]);
    t.shutdown().await;
}

#[tokio::test]
async fn post_confirmation_admin_confirm_sign_up_event() {
    let t = TriggerApp::start(FIXTURE).await;
    let (sub, _code) = sign_up_pending(&t, "hal", "hal@example.com").await;
    t.clear();
    t.c.idp
        .admin_confirm_sign_up()
        .user_pool_id(&t.pool.pool_id)
        .username("hal")
        .client_metadata("by", "support")
        .send()
        .await
        .expect("AdminConfirmSignUp");
    let ev = t.event("PostConfirmation_ConfirmSignUp");
    assert_envelope(&ev, "1", "PostConfirmation_ConfirmSignUp", &t.pool.pool_id, "hal", None);
    assert_keys(&ev["request"], &["userAttributes", "clientMetadata"], &[]);
    assert_user_attributes(&ev, &sub, "CONFIRMED");
    assert_eq!(ev["request"]["clientMetadata"], string_map(&[("by", "support")]));
    assert_eq!(ev["response"], json!({}));

    // Without ClientMetadata the key is omitted.
    let (_, _) = sign_up_pending(&t, "ida", "ida@example.com").await;
    t.clear();
    t.c.idp
        .admin_confirm_sign_up()
        .user_pool_id(&t.pool.pool_id)
        .username("ida")
        .send()
        .await
        .expect("AdminConfirmSignUp");
    let ev = t.event("PostConfirmation_ConfirmSignUp");
    assert_keys(&ev["request"], &["userAttributes"], &[]);
    t.shutdown().await;
}

#[tokio::test]
async fn post_confirmation_error_fails_the_call_but_keeps_the_confirmation() {
    let t = TriggerApp::start(FIXTURE).await;
    let (_, code) = sign_up_pending(&t, "jo", "jo@example.com").await;
    t.behave(json!({"PostConfirmation": {"throw": "crm is down"}}));
    expect_err_msg(
        t.c.idp
            .confirm_sign_up()
            .client_id(&t.pool.client_id)
            .username("jo")
            .confirmation_code(code)
            .send()
            .await,
        "UserLambdaValidationException",
        "PostConfirmation failed with error crm is down.",
    );
    let user =
        t.c.idp
            .admin_get_user()
            .user_pool_id(&t.pool.pool_id)
            .username("jo")
            .send()
            .await
            .expect("AdminGetUser");
    assert_eq!(
        user.user_status(),
        Some(&UserStatusType::Confirmed),
        "the confirmation is persisted before PostConfirmation runs"
    );
    t.behave(json!({}));
    t.c.sign_in(&t.pool, "jo", PASSWORD).await;

    // Same through AdminConfirmSignUp.
    let (_, _) = sign_up_pending(&t, "kim", "kim@example.com").await;
    t.behave(json!({"PostConfirmation": {"throw": "crm is down"}}));
    expect_err_msg(
        t.c.idp
            .admin_confirm_sign_up()
            .user_pool_id(&t.pool.pool_id)
            .username("kim")
            .send()
            .await,
        "UserLambdaValidationException",
        "PostConfirmation failed with error crm is down.",
    );
    let user =
        t.c.idp
            .admin_get_user()
            .user_pool_id(&t.pool.pool_id)
            .username("kim")
            .send()
            .await
            .expect("AdminGetUser");
    assert_eq!(user.user_status(), Some(&UserStatusType::Confirmed));
    t.shutdown().await;
}

#[tokio::test]
async fn post_confirmation_confirm_forgot_password_event() {
    let t = TriggerApp::start(FIXTURE).await;
    let sub = t.c.admin_user(&t.pool, "lee", "lee@example.com").await;
    let out =
        t.c.idp
            .forgot_password()
            .client_id(&t.pool.client_id)
            .username("lee")
            .send()
            .await
            .expect("ForgotPassword");
    assert_eq!(
        out.code_delivery_details().and_then(|d| d.delivery_medium()),
        Some(&DeliveryMediumType::Email)
    );
    let code = t.c.last_code("lee@example.com").await;
    t.clear();
    t.c.idp
        .confirm_forgot_password()
        .client_id(&t.pool.client_id)
        .username("lee")
        .confirmation_code(code)
        .password(NEW_PASSWORD)
        .client_metadata("reason", "forgot")
        .send()
        .await
        .expect("ConfirmForgotPassword");
    let ev = t.event("PostConfirmation_ConfirmForgotPassword");
    assert_envelope(
        &ev,
        "1",
        "PostConfirmation_ConfirmForgotPassword",
        &t.pool.pool_id,
        "lee",
        Some(&t.pool.client_id),
    );
    assert_keys(&ev["request"], &["userAttributes", "clientMetadata"], &[]);
    let ua = assert_user_attributes(&ev, &sub, "CONFIRMED");
    assert_eq!(ua.get("email"), Some(&json!("lee@example.com")));
    assert_eq!(ev["request"]["clientMetadata"], string_map(&[("reason", "forgot")]));
    assert_eq!(ev["response"], json!({}));
    assert_eq!(t.sources(), ["PostConfirmation_ConfirmForgotPassword"]);
    t.c.sign_in(&t.pool, "lee", NEW_PASSWORD).await;
    t.shutdown().await;
}

#[tokio::test]
async fn email_as_username_events_carry_the_generated_user_name() {
    let t = TriggerApp::start_edited(FIXTURE, |yml| {
        with_pool_properties(yml, "UsernameAttributes:\n  - email")
    })
    .await;
    let out =
        t.c.idp
            .sign_up()
            .client_id(&t.pool.client_id)
            .username("uma@example.com")
            .password(PASSWORD)
            .send()
            .await
            .expect("SignUp with an email as username");
    let sub = out.user_sub().to_string();
    // §3: for email/phone-as-username pools userName is the generated UUID, equal to sub.
    let ev = t.event("PreSignUp_SignUp");
    assert_envelope(
        &ev,
        "1",
        "PreSignUp_SignUp",
        &t.pool.pool_id,
        &sub,
        Some(&t.pool.client_id),
    );
    assert!(is_uuid(ev["userName"].as_str().unwrap()), "{ev}");
    let ua = string_attributes(&ev);
    assert_eq!(ua.get("email"), Some(&json!("uma@example.com")), "{ev}");
    assert!(
        ua.get("sub").is_none() && ua.get("cognito:user_status").is_none(),
        "{ev}"
    );

    let cm = t.event("CustomMessage_SignUp");
    assert_eq!(cm["userName"], sub.as_str());
    let code = t.c.last_code("uma@example.com").await;
    t.c.idp
        .confirm_sign_up()
        .client_id(&t.pool.client_id)
        .username("uma@example.com")
        .confirmation_code(code)
        .send()
        .await
        .expect("ConfirmSignUp");
    let pc = t.event("PostConfirmation_ConfirmSignUp");
    assert_envelope(
        &pc,
        "1",
        "PostConfirmation_ConfirmSignUp",
        &t.pool.pool_id,
        &sub,
        Some(&t.pool.client_id),
    );
    let ua = assert_user_attributes(&pc, &sub, "CONFIRMED");
    assert_eq!(ua.get("email"), Some(&json!("uma@example.com")));
    t.shutdown().await;
}
