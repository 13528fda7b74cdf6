//! SignUp, ConfirmSignUp, ResendConfirmationCode and the sign-up policy checks.

use std::time::Duration;

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AdminCreateUserConfigType, DeliveryMediumType, PasswordPolicyType, UserPoolPolicyType, UserStatusType,
};
use cognate_sdk_tests::*;

#[tokio::test]
async fn sign_up_creates_unconfirmed_user_and_sends_code() {
    let c = Cognate::start().await;
    let pool = c.create_pool("signup").await;
    let out = c
        .idp
        .sign_up()
        .client_id(&pool.client_id)
        .username("alice")
        .password(PASSWORD)
        .user_attributes(attr("email", "alice@example.com"))
        .user_attributes(attr("name", "Alice"))
        .send()
        .await
        .expect("SignUp");
    assert!(!out.user_confirmed());
    assert!(is_uuid(out.user_sub()), "UserSub {} is not a UUID", out.user_sub());
    let cdd = out
        .code_delivery_details()
        .expect("CodeDeliveryDetails when email is auto-verified");
    assert_eq!(cdd.delivery_medium(), Some(&DeliveryMediumType::Email));
    assert_eq!(cdd.attribute_name(), Some("email"));
    let dest = cdd.destination().expect("Destination");
    assert_ne!(dest, "alice@example.com", "the destination is masked");
    assert!(dest.contains('@') && dest.contains('*'), "masked destination: {dest}");

    let msg = c.last_message("alice@example.com").await;
    assert_eq!(msg["pool_id"], pool.pool_id.as_str());
    assert_eq!(msg["channel"], "email");
    assert_eq!(msg["trigger_source"], "CustomMessage_SignUp");
    assert!(msg["subject"].is_string());
    let body = msg["body"].as_str().unwrap();
    assert!(extract_code(body).is_some(), "no 6-digit code in {body:?}");

    let user = c
        .idp
        .admin_get_user()
        .user_pool_id(&pool.pool_id)
        .username("alice")
        .send()
        .await
        .expect("AdminGetUser");
    assert_eq!(user.user_status(), Some(&UserStatusType::Unconfirmed));
    assert!(user.enabled());
    let attrs = pairs(user.user_attributes());
    assert_eq!(lookup(&attrs, "sub").as_deref(), Some(out.user_sub()));
    assert_eq!(lookup(&attrs, "name").as_deref(), Some("Alice"));
    assert_eq!(lookup(&attrs, "email_verified").as_deref().unwrap_or("false"), "false");
}

#[tokio::test]
async fn sign_up_without_auto_verification_sends_nothing() {
    let c = Cognate::start().await;
    let pool = c.finish_pool(c.idp.create_user_pool().pool_name("no-verify")).await;
    let out = c
        .idp
        .sign_up()
        .client_id(&pool.client_id)
        .username("quiet")
        .password(PASSWORD)
        .user_attributes(attr("email", "quiet@example.com"))
        .send()
        .await
        .expect("SignUp");
    assert!(!out.user_confirmed());
    assert!(out.code_delivery_details().is_none());
    assert!(c.messages(Some("quiet@example.com")).await.is_empty());
}

#[tokio::test]
async fn sign_up_existing_username_fails() {
    let c = Cognate::start().await;
    let pool = c.create_pool("dup").await;
    c.sign_up_confirmed(&pool, "bob", "bob@example.com").await;
    expect_err_msg(
        c.idp
            .sign_up()
            .client_id(&pool.client_id)
            .username("bob")
            .password(PASSWORD)
            .user_attributes(attr("email", "bob2@example.com"))
            .send()
            .await,
        "UsernameExistsException",
        "User already exists",
    );
}

#[tokio::test]
async fn sign_up_password_policy_messages() {
    let c = Cognate::start().await;
    let pool = c
        .finish_pool(
            c.pool_builder("policy").policies(
                UserPoolPolicyType::builder()
                    .password_policy(
                        PasswordPolicyType::builder()
                            .minimum_length(10)
                            .require_uppercase(true)
                            .require_lowercase(true)
                            .require_numbers(true)
                            .require_symbols(true)
                            .build(),
                    )
                    .build(),
            ),
        )
        .await;
    let cases = [
        ("Ab1!", "Password did not conform with policy: Password not long enough"),
        (
            "abcdefgh1!x",
            "Password did not conform with policy: Password must have uppercase characters",
        ),
        (
            "ABCDEFGH1!X",
            "Password did not conform with policy: Password must have lowercase characters",
        ),
        (
            "Abcdefgh!!x",
            "Password did not conform with policy: Password must have numeric characters",
        ),
        (
            "Abcdefgh11x",
            "Password did not conform with policy: Password must have symbol characters",
        ),
    ];
    for (i, (password, message)) in cases.into_iter().enumerate() {
        expect_err_msg(
            c.idp
                .sign_up()
                .client_id(&pool.client_id)
                .username(format!("weak{i}"))
                .password(password)
                .user_attributes(attr("email", &format!("weak{i}@example.com")))
                .send()
                .await,
            "InvalidPasswordException",
            message,
        );
    }
    // Nothing was created.
    expect_err(
        c.idp
            .admin_get_user()
            .user_pool_id(&pool.pool_id)
            .username("weak0")
            .send()
            .await,
        "UserNotFoundException",
    );
}

#[tokio::test]
async fn sign_up_not_permitted_when_admin_only() {
    let c = Cognate::start().await;
    let pool = c
        .finish_pool(
            c.pool_builder("admin-only").admin_create_user_config(
                AdminCreateUserConfigType::builder()
                    .allow_admin_create_user_only(true)
                    .build(),
            ),
        )
        .await;
    // AWS: "SignUp is not permitted for this user pool".
    expect_err(
        c.idp
            .sign_up()
            .client_id(&pool.client_id)
            .username("eve")
            .password(PASSWORD)
            .user_attributes(attr("email", "eve@example.com"))
            .send()
            .await,
        "NotAuthorizedException",
    );
}

#[tokio::test]
async fn sign_up_rejects_unknown_attribute() {
    let c = Cognate::start().await;
    let pool = c.create_pool("attrs").await;
    expect_err(
        c.idp
            .sign_up()
            .client_id(&pool.client_id)
            .username("ivy")
            .password(PASSWORD)
            .user_attributes(attr("email", "ivy@example.com"))
            .user_attributes(attr("custom:nope", "x"))
            .send()
            .await,
        "InvalidParameterException",
    );
}

#[tokio::test]
async fn confirm_sign_up_verifies_email_and_code_is_single_use() {
    let c = Cognate::start().await;
    let pool = c.create_pool("confirm").await;
    c.idp
        .sign_up()
        .client_id(&pool.client_id)
        .username("carl")
        .password(PASSWORD)
        .user_attributes(attr("email", "carl@example.com"))
        .send()
        .await
        .unwrap();
    let code = c.last_code("carl@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    expect_err_msg(
        c.idp
            .confirm_sign_up()
            .client_id(&pool.client_id)
            .username("carl")
            .confirmation_code(wrong)
            .send()
            .await,
        "CodeMismatchException",
        "Invalid verification code provided, please try again.",
    );
    c.idp
        .confirm_sign_up()
        .client_id(&pool.client_id)
        .username("carl")
        .confirmation_code(&code)
        .send()
        .await
        .expect("ConfirmSignUp");
    let user = c
        .idp
        .admin_get_user()
        .user_pool_id(&pool.pool_id)
        .username("carl")
        .send()
        .await
        .unwrap();
    assert_eq!(user.user_status(), Some(&UserStatusType::Confirmed));
    assert_eq!(
        lookup(&pairs(user.user_attributes()), "email_verified").as_deref(),
        Some("true"),
        "confirming with the emailed code verifies the email"
    );
    // The same code again: the user is already confirmed. AWS answers
    // NotAuthorizedException ("User cannot be confirmed. Current status is CONFIRMED").
    expect_err(
        c.idp
            .confirm_sign_up()
            .client_id(&pool.client_id)
            .username("carl")
            .confirmation_code(&code)
            .send()
            .await,
        "NotAuthorizedException",
    );
    // And the user can sign in.
    c.sign_in(&pool, "carl", PASSWORD).await;
}

#[tokio::test]
async fn confirm_sign_up_unknown_user() {
    let c = Cognate::start().await;
    let pool = c.create_pool("confirm-unknown").await;
    expect_err_msg(
        c.idp
            .confirm_sign_up()
            .client_id(&pool.client_id)
            .username("ghost")
            .confirmation_code("123456")
            .send()
            .await,
        "UserNotFoundException",
        // Observed on AWS (amazon-cognito-identity-js#537, amplify-js#10157):
        "Username/client id combination not found.",
    );
}

#[tokio::test]
async fn confirmation_code_expires_after_24_hours() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("expiry").await;
    c.idp
        .sign_up()
        .client_id(&pool.client_id)
        .username("dora")
        .password(PASSWORD)
        .user_attributes(attr("email", "dora@example.com"))
        .send()
        .await
        .unwrap();
    let code = c.last_code("dora@example.com").await;
    c.advance(Duration::from_secs(24 * 3600 + 60));
    expect_err_msg(
        c.idp
            .confirm_sign_up()
            .client_id(&pool.client_id)
            .username("dora")
            .confirmation_code(&code)
            .send()
            .await,
        "ExpiredCodeException",
        "Invalid code provided, please request a code again.",
    );

    // A fresh code works.
    c.idp
        .resend_confirmation_code()
        .client_id(&pool.client_id)
        .username("dora")
        .send()
        .await
        .expect("ResendConfirmationCode");
    let code = c.last_code("dora@example.com").await;
    c.idp
        .confirm_sign_up()
        .client_id(&pool.client_id)
        .username("dora")
        .confirmation_code(&code)
        .send()
        .await
        .expect("ConfirmSignUp with the new code");
}

#[tokio::test]
async fn confirmation_code_valid_just_before_24_hours() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("not-yet").await;
    c.idp
        .sign_up()
        .client_id(&pool.client_id)
        .username("ed")
        .password(PASSWORD)
        .user_attributes(attr("email", "ed@example.com"))
        .send()
        .await
        .unwrap();
    let code = c.last_code("ed@example.com").await;
    c.advance(Duration::from_secs(23 * 3600));
    c.idp
        .confirm_sign_up()
        .client_id(&pool.client_id)
        .username("ed")
        .confirmation_code(&code)
        .send()
        .await
        .expect("code still valid after 23 h");
}

#[tokio::test]
async fn resend_confirmation_code() {
    let c = Cognate::start().await;
    let pool = c.create_pool("resend").await;
    c.idp
        .sign_up()
        .client_id(&pool.client_id)
        .username("finn")
        .password(PASSWORD)
        .user_attributes(attr("email", "finn@example.com"))
        .send()
        .await
        .unwrap();
    let out = c
        .idp
        .resend_confirmation_code()
        .client_id(&pool.client_id)
        .username("finn")
        .send()
        .await
        .expect("ResendConfirmationCode");
    let cdd = out.code_delivery_details().expect("CodeDeliveryDetails");
    assert_eq!(cdd.delivery_medium(), Some(&DeliveryMediumType::Email));
    assert_eq!(cdd.attribute_name(), Some("email"));

    let msgs = c.messages(Some("finn@example.com")).await;
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    assert_eq!(msgs[0]["trigger_source"], "CustomMessage_SignUp");
    assert_eq!(msgs[1]["trigger_source"], "CustomMessage_ResendCode");
    let code = extract_code(msgs[1]["body"].as_str().unwrap()).expect("code");
    c.idp
        .confirm_sign_up()
        .client_id(&pool.client_id)
        .username("finn")
        .confirmation_code(code)
        .send()
        .await
        .expect("ConfirmSignUp with the resent code");

    expect_err(
        c.idp
            .resend_confirmation_code()
            .client_id(&pool.client_id)
            .username("nobody")
            .send()
            .await,
        "UserNotFoundException",
    );
}

#[tokio::test]
async fn sign_up_users_are_counted_and_listed() {
    let c = Cognate::start().await;
    let pool = c.create_pool("count").await;
    for name in ["u1", "u2", "u3"] {
        c.sign_up_confirmed(&pool, name, &format!("{name}@example.com")).await;
    }
    let out = c.idp.list_users().user_pool_id(&pool.pool_id).send().await.unwrap();
    assert_eq!(out.users().len(), 3);
    let d = c
        .idp
        .describe_user_pool()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .unwrap();
    assert_eq!(d.user_pool().unwrap().estimated_number_of_users(), 3);
}
