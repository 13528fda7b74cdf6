//! Access-token operations and account recovery: ForgotPassword, ConfirmForgotPassword,
//! ChangePassword, GetUser, UpdateUserAttributes, DeleteUserAttributes, DeleteUser,
//! GetUserAttributeVerificationCode, VerifyUserAttribute, GlobalSignOut, RevokeToken.

use std::time::Duration;

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, DeliveryMediumType, MessageActionType, UserAttributeUpdateSettingsType, UserStatusType,
    VerifiedAttributeType,
};
use cognate_sdk_tests::*;

#[tokio::test]
async fn forgot_password_and_confirm() {
    let c = Cognate::start().await;
    let pool = c.create_pool("forgot").await;
    c.sign_up_confirmed(&pool, "alice", "alice@example.com").await;
    let out = c
        .idp
        .forgot_password()
        .client_id(&pool.client_id)
        .username("alice")
        .send()
        .await
        .expect("ForgotPassword");
    let cdd = out.code_delivery_details().expect("CodeDeliveryDetails");
    assert_eq!(cdd.delivery_medium(), Some(&DeliveryMediumType::Email));
    assert_eq!(cdd.attribute_name(), Some("email"));
    assert!(
        cdd.destination().is_some_and(|d| d != "alice@example.com"),
        "masked: {cdd:?}"
    );

    let msg = c.last_message("alice@example.com").await;
    assert_eq!(msg["trigger_source"], "CustomMessage_ForgotPassword");
    assert_eq!(msg["channel"], "email");
    let code = extract_code(msg["body"].as_str().unwrap()).expect("6-digit code");

    let wrong = if code == "000000" { "111111" } else { "000000" };
    expect_err(
        c.idp
            .confirm_forgot_password()
            .client_id(&pool.client_id)
            .username("alice")
            .confirmation_code(wrong)
            .password(NEW_PASSWORD)
            .send()
            .await,
        "CodeMismatchException",
    );
    expect_err(
        c.idp
            .confirm_forgot_password()
            .client_id(&pool.client_id)
            .username("alice")
            .confirmation_code(&code)
            .password("weak")
            .send()
            .await,
        "InvalidPasswordException",
    );
    c.idp
        .confirm_forgot_password()
        .client_id(&pool.client_id)
        .username("alice")
        .confirmation_code(&code)
        .password(NEW_PASSWORD)
        .send()
        .await
        .expect("ConfirmForgotPassword");

    c.sign_in(&pool, "alice", NEW_PASSWORD).await;
    expect_err_msg(
        c.idp
            .initiate_auth()
            .client_id(&pool.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "alice")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "NotAuthorizedException",
        "Incorrect username or password.",
    );
    // The code is used up.
    let err = aws_err(
        c.idp
            .confirm_forgot_password()
            .client_id(&pool.client_id)
            .username("alice")
            .confirmation_code(&code)
            .password("An0ther-Passw0rd!")
            .send()
            .await,
    );
    assert!(
        err.code == "CodeMismatchException" || err.code == "ExpiredCodeException",
        "a used code must be refused: {err:?}"
    );
}

#[tokio::test]
async fn forgot_password_code_expires_after_one_hour() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("forgot-expiry").await;
    c.admin_user(&pool, "bert", "bert@example.com").await;
    c.idp
        .forgot_password()
        .client_id(&pool.client_id)
        .username("bert")
        .send()
        .await
        .unwrap();
    let code = c.last_code("bert@example.com").await;
    c.advance(Duration::from_secs(3600 + 60));
    expect_err(
        c.idp
            .confirm_forgot_password()
            .client_id(&pool.client_id)
            .username("bert")
            .confirmation_code(&code)
            .password(NEW_PASSWORD)
            .send()
            .await,
        "ExpiredCodeException",
    );
    c.sign_in(&pool, "bert", PASSWORD).await;
}

#[tokio::test]
async fn forgot_password_code_valid_within_the_hour() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("forgot-in-time").await;
    c.admin_user(&pool, "bea", "bea@example.com").await;
    c.idp
        .forgot_password()
        .client_id(&pool.client_id)
        .username("bea")
        .send()
        .await
        .unwrap();
    let code = c.last_code("bea@example.com").await;
    c.advance(Duration::from_secs(50 * 60));
    c.idp
        .confirm_forgot_password()
        .client_id(&pool.client_id)
        .username("bea")
        .confirmation_code(&code)
        .password(NEW_PASSWORD)
        .send()
        .await
        .expect("code valid after 50 minutes");
}

#[tokio::test]
async fn forgot_password_errors() {
    let c = Cognate::start().await;
    let pool = c.create_pool("forgot-errors").await;
    expect_err(
        c.idp
            .forgot_password()
            .client_id(&pool.client_id)
            .username("ghost")
            .send()
            .await,
        "UserNotFoundException",
    );
    // No email or phone to send the code to: AWS answers InvalidParameterException ("Cannot reset
    // password for the user as there is no registered/verified email or phone_number").
    c.idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username("nomail")
        .temporary_password(PASSWORD)
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    c.idp
        .admin_set_user_password()
        .user_pool_id(&pool.pool_id)
        .username("nomail")
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .unwrap();
    expect_err(
        c.idp
            .forgot_password()
            .client_id(&pool.client_id)
            .username("nomail")
            .send()
            .await,
        "InvalidParameterException",
    );
}

#[tokio::test]
async fn change_password() {
    let c = Cognate::start().await;
    let pool = c.create_pool("change").await;
    c.admin_user(&pool, "cleo", "cleo@example.com").await;
    let tokens = c.sign_in(&pool, "cleo", PASSWORD).await;
    let access = tokens.access_token().unwrap();
    expect_err_msg(
        c.idp
            .change_password()
            .access_token(access)
            .previous_password("Wr0ng-Passw0rd!")
            .proposed_password(NEW_PASSWORD)
            .send()
            .await,
        "NotAuthorizedException",
        "Incorrect username or password.",
    );
    expect_err(
        c.idp
            .change_password()
            .access_token(access)
            .previous_password(PASSWORD)
            .proposed_password("short")
            .send()
            .await,
        "InvalidPasswordException",
    );
    c.idp
        .change_password()
        .access_token(access)
        .previous_password(PASSWORD)
        .proposed_password(NEW_PASSWORD)
        .send()
        .await
        .expect("ChangePassword");
    c.sign_in(&pool, "cleo", NEW_PASSWORD).await;
    expect_err(
        c.idp
            .initiate_auth()
            .client_id(&pool.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "cleo")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "NotAuthorizedException",
    );
}

#[tokio::test]
async fn get_user_returns_username_and_attributes() {
    let c = Cognate::start().await;
    let pool = c.create_pool("getuser").await;
    let sub = c.sign_up_confirmed(&pool, "dina", "dina@example.com").await;
    let tokens = c.sign_in(&pool, "dina", PASSWORD).await;
    let out = c
        .idp
        .get_user()
        .access_token(tokens.access_token().unwrap())
        .send()
        .await
        .expect("GetUser");
    assert_eq!(out.username(), "dina");
    let attrs = pairs(out.user_attributes());
    assert_eq!(lookup(&attrs, "sub").as_deref(), Some(sub.as_str()));
    assert_eq!(lookup(&attrs, "email").as_deref(), Some("dina@example.com"));
    assert_eq!(lookup(&attrs, "email_verified").as_deref(), Some("true"));

    expect_err_msg(
        c.idp.get_user().access_token("not-a-token").send().await,
        "NotAuthorizedException",
        "Invalid Access Token",
    );
}

#[tokio::test]
async fn update_email_requires_verification() {
    let c = Cognate::start().await;
    let pool = c.create_pool("update-email").await;
    c.sign_up_confirmed(&pool, "emil", "emil@example.com").await;
    let tokens = c.sign_in(&pool, "emil", PASSWORD).await;
    let access = tokens.access_token().unwrap();

    let out = c
        .idp
        .update_user_attributes()
        .access_token(access)
        .user_attributes(attr("email", "emil.new@example.com"))
        .user_attributes(attr("name", "Emil"))
        .send()
        .await
        .expect("UpdateUserAttributes");
    let list = out.code_delivery_details_list();
    assert_eq!(list.len(), 1, "{list:?}");
    assert_eq!(list[0].attribute_name(), Some("email"));
    assert_eq!(list[0].delivery_medium(), Some(&DeliveryMediumType::Email));

    // Without AttributesRequireVerificationBeforeUpdate the new value applies at once, unverified.
    let user = c.idp.get_user().access_token(access).send().await.unwrap();
    let attrs = pairs(user.user_attributes());
    assert_eq!(lookup(&attrs, "email").as_deref(), Some("emil.new@example.com"));
    assert_eq!(lookup(&attrs, "email_verified").as_deref(), Some("false"));
    assert_eq!(lookup(&attrs, "name").as_deref(), Some("Emil"));

    let msg = c.last_message("emil.new@example.com").await;
    assert_eq!(msg["trigger_source"], "CustomMessage_UpdateUserAttribute");
    let code = extract_code(msg["body"].as_str().unwrap()).expect("code");

    let wrong = if code == "000000" { "111111" } else { "000000" };
    expect_err(
        c.idp
            .verify_user_attribute()
            .access_token(access)
            .attribute_name("email")
            .code(wrong)
            .send()
            .await,
        "CodeMismatchException",
    );
    c.idp
        .verify_user_attribute()
        .access_token(access)
        .attribute_name("email")
        .code(&code)
        .send()
        .await
        .expect("VerifyUserAttribute");
    let attrs = c.admin_attrs(&pool, "emil").await;
    assert_eq!(lookup(&attrs, "email").as_deref(), Some("emil.new@example.com"));
    assert_eq!(lookup(&attrs, "email_verified").as_deref(), Some("true"));
}

#[tokio::test]
async fn update_email_with_verification_before_update_keeps_old_value() {
    let c = Cognate::start().await;
    let pool = c
        .finish_pool(
            c.pool_builder("verify-before").user_attribute_update_settings(
                UserAttributeUpdateSettingsType::builder()
                    .attributes_require_verification_before_update(VerifiedAttributeType::Email)
                    .build(),
            ),
        )
        .await;
    c.sign_up_confirmed(&pool, "fred", "fred@example.com").await;
    let tokens = c.sign_in(&pool, "fred", PASSWORD).await;
    let access = tokens.access_token().unwrap();
    c.idp
        .update_user_attributes()
        .access_token(access)
        .user_attributes(attr("email", "fred.new@example.com"))
        .send()
        .await
        .expect("UpdateUserAttributes");

    // "Amazon Cognito doesn't change the value of the attribute until your user responds to the
    // verification message and confirms the new value."
    let attrs = c.admin_attrs(&pool, "fred").await;
    assert_eq!(lookup(&attrs, "email").as_deref(), Some("fred@example.com"));
    assert_eq!(lookup(&attrs, "email_verified").as_deref(), Some("true"));
    // The verification code went to the new address.
    let msg = c.last_message("fred.new@example.com").await;
    assert_eq!(msg["trigger_source"], "CustomMessage_UpdateUserAttribute");
    let code = extract_code(msg["body"].as_str().unwrap()).expect("code");

    c.idp
        .verify_user_attribute()
        .access_token(access)
        .attribute_name("email")
        .code(&code)
        .send()
        .await
        .expect("VerifyUserAttribute");
    let attrs = c.admin_attrs(&pool, "fred").await;
    assert_eq!(lookup(&attrs, "email").as_deref(), Some("fred.new@example.com"));
    assert_eq!(lookup(&attrs, "email_verified").as_deref(), Some("true"));
}

#[tokio::test]
async fn delete_user_attributes() {
    let c = Cognate::start().await;
    let pool = c.create_pool("del-attrs").await;
    c.admin_user(&pool, "gail", "gail@example.com").await;
    c.idp
        .admin_update_user_attributes()
        .user_pool_id(&pool.pool_id)
        .username("gail")
        .user_attributes(attr("name", "Gail"))
        .user_attributes(attr("custom:tier", "silver"))
        .send()
        .await
        .unwrap();
    let tokens = c.sign_in(&pool, "gail", PASSWORD).await;
    c.idp
        .delete_user_attributes()
        .access_token(tokens.access_token().unwrap())
        .user_attribute_names("name")
        .user_attribute_names("custom:tier")
        .send()
        .await
        .expect("DeleteUserAttributes");
    let attrs = c.admin_attrs(&pool, "gail").await;
    assert!(lookup(&attrs, "name").is_none(), "{attrs:?}");
    assert!(lookup(&attrs, "custom:tier").is_none(), "{attrs:?}");
    assert_eq!(lookup(&attrs, "email").as_deref(), Some("gail@example.com"));
}

#[tokio::test]
async fn delete_user() {
    let c = Cognate::start().await;
    let pool = c.create_pool("delete-self").await;
    c.admin_user(&pool, "hank", "hank@example.com").await;
    let tokens = c.sign_in(&pool, "hank", PASSWORD).await;
    c.idp
        .delete_user()
        .access_token(tokens.access_token().unwrap())
        .send()
        .await
        .expect("DeleteUser");
    expect_err(
        c.idp
            .admin_get_user()
            .user_pool_id(&pool.pool_id)
            .username("hank")
            .send()
            .await,
        "UserNotFoundException",
    );
    expect_err(
        c.idp
            .initiate_auth()
            .client_id(&pool.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "hank")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "UserNotFoundException",
    );
    // The deleted user's refresh token is useless.
    expect_err(
        c.refresh(&pool, tokens.refresh_token().unwrap()).await,
        "NotAuthorizedException",
    );
    // The name is free again.
    c.admin_user(&pool, "hank", "hank@example.com").await;
}

#[tokio::test]
async fn get_user_attribute_verification_code_and_verify() {
    let c = Cognate::start().await;
    let pool = c.create_pool("verify-attr").await;
    // A user whose email is not verified yet.
    c.idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username("iris")
        .message_action(MessageActionType::Suppress)
        .user_attributes(attr("email", "iris@example.com"))
        .send()
        .await
        .unwrap();
    c.idp
        .admin_set_user_password()
        .user_pool_id(&pool.pool_id)
        .username("iris")
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .unwrap();
    let tokens = c.sign_in(&pool, "iris", PASSWORD).await;
    let access = tokens.access_token().unwrap();
    let out = c
        .idp
        .get_user_attribute_verification_code()
        .access_token(access)
        .attribute_name("email")
        .send()
        .await
        .expect("GetUserAttributeVerificationCode");
    let cdd = out.code_delivery_details().expect("CodeDeliveryDetails");
    assert_eq!(cdd.attribute_name(), Some("email"));
    assert_eq!(cdd.delivery_medium(), Some(&DeliveryMediumType::Email));
    let msg = c.last_message("iris@example.com").await;
    assert_eq!(msg["trigger_source"], "CustomMessage_VerifyUserAttribute");
    let code = extract_code(msg["body"].as_str().unwrap()).expect("code");
    c.idp
        .verify_user_attribute()
        .access_token(access)
        .attribute_name("email")
        .code(&code)
        .send()
        .await
        .expect("VerifyUserAttribute");
    let attrs = c.admin_attrs(&pool, "iris").await;
    assert_eq!(lookup(&attrs, "email_verified").as_deref(), Some("true"));
}

#[tokio::test]
async fn global_sign_out_revokes_tokens() {
    let c = Cognate::start().await;
    let pool = c.create_pool("signout").await;
    c.admin_user(&pool, "jack", "jack@example.com").await;
    let first = c.sign_in(&pool, "jack", PASSWORD).await;
    let second = c.sign_in(&pool, "jack", PASSWORD).await;
    c.idp
        .global_sign_out()
        .access_token(first.access_token().unwrap())
        .send()
        .await
        .expect("GlobalSignOut");
    for tokens in [&first, &second] {
        expect_err_msg(
            c.idp
                .get_user()
                .access_token(tokens.access_token().unwrap())
                .send()
                .await,
            "NotAuthorizedException",
            "Access Token has been revoked",
        );
        expect_err(
            c.refresh(&pool, tokens.refresh_token().unwrap()).await,
            "NotAuthorizedException",
        );
    }
    // Signing in again works and gives working tokens.
    let fresh = c.sign_in(&pool, "jack", PASSWORD).await;
    c.idp
        .get_user()
        .access_token(fresh.access_token().unwrap())
        .send()
        .await
        .expect("new session after GlobalSignOut");
}

#[tokio::test]
async fn revoke_token_revokes_one_session() {
    let c = Cognate::start().await;
    let pool = c.create_pool("revoke").await;
    c.admin_user(&pool, "kim", "kim@example.com").await;
    let one = c.sign_in(&pool, "kim", PASSWORD).await;
    let two = c.sign_in(&pool, "kim", PASSWORD).await;

    // Access tokens are not revocable through RevokeToken.
    expect_err(
        c.idp
            .revoke_token()
            .client_id(&pool.client_id)
            .token(one.access_token().unwrap())
            .send()
            .await,
        "UnsupportedTokenTypeException",
    );

    c.idp
        .revoke_token()
        .client_id(&pool.client_id)
        .token(one.refresh_token().unwrap())
        .send()
        .await
        .expect("RevokeToken");
    // AWS says "Refresh Token has been revoked"; only the name is asserted.
    expect_err(
        c.refresh(&pool, one.refresh_token().unwrap()).await,
        "NotAuthorizedException",
    );
    // Access tokens issued with that refresh token are revoked too.
    expect_err_msg(
        c.idp.get_user().access_token(one.access_token().unwrap()).send().await,
        "NotAuthorizedException",
        "Access Token has been revoked",
    );
    // "The other refresh tokens issued to the user are not affected."
    c.refresh(&pool, two.refresh_token().unwrap())
        .await
        .expect("other session still refreshes");
    c.idp
        .get_user()
        .access_token(two.access_token().unwrap())
        .send()
        .await
        .expect("other session's access token still works");
}

#[tokio::test]
async fn revoke_token_also_revokes_refreshed_access_tokens() {
    let c = Cognate::start().await;
    let pool = c.create_pool("revoke-refreshed").await;
    c.admin_user(&pool, "lea", "lea@example.com").await;
    let tokens = c.sign_in(&pool, "lea", PASSWORD).await;
    let refreshed = c.refresh(&pool, tokens.refresh_token().unwrap()).await.unwrap();
    let new_access = refreshed
        .authentication_result()
        .and_then(|r| r.access_token())
        .unwrap()
        .to_string();
    c.idp
        .get_user()
        .access_token(&new_access)
        .send()
        .await
        .expect("refreshed token works");
    c.idp
        .revoke_token()
        .client_id(&pool.client_id)
        .token(tokens.refresh_token().unwrap())
        .send()
        .await
        .unwrap();
    expect_err(
        c.idp.get_user().access_token(&new_access).send().await,
        "NotAuthorizedException",
    );
}

#[tokio::test]
async fn confirmed_status_after_forgot_password_on_unverified_reset_user() {
    // AdminResetUserPassword + ConfirmForgotPassword brings a RESET_REQUIRED user back to
    // CONFIRMED (the self-service half of the admin reset flow).
    let c = Cognate::start().await;
    let pool = c.create_pool("reset-confirm").await;
    c.admin_user(&pool, "mia", "mia@example.com").await;
    c.idp
        .admin_reset_user_password()
        .user_pool_id(&pool.pool_id)
        .username("mia")
        .send()
        .await
        .expect("AdminResetUserPassword");
    let code = c.last_code("mia@example.com").await;
    c.idp
        .confirm_forgot_password()
        .client_id(&pool.client_id)
        .username("mia")
        .confirmation_code(code)
        .password(NEW_PASSWORD)
        .send()
        .await
        .expect("ConfirmForgotPassword");
    let user = c
        .idp
        .admin_get_user()
        .user_pool_id(&pool.pool_id)
        .username("mia")
        .send()
        .await
        .unwrap();
    assert_eq!(user.user_status(), Some(&UserStatusType::Confirmed));
    c.sign_in(&pool, "mia", NEW_PASSWORD).await;
}
