//! Admin user management: AdminCreateUser (invitations, SUPPRESS, RESEND, delivery mediums,
//! NEW_PASSWORD_REQUIRED), AdminGetUser, AdminDeleteUser, AdminEnableUser/AdminDisableUser,
//! AdminConfirmSignUp, AdminSetUserPassword, AdminResetUserPassword,
//! AdminUpdateUserAttributes, AdminDeleteUserAttributes, AdminUserGlobalSignOut.

use std::time::Duration;

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ChallengeNameType, DeliveryMediumType, MessageActionType, UserStatusType,
};
use cognate_sdk_tests::*;

async fn status(c: &Cognate, pool: &TestPool, username: &str) -> UserStatusType {
    c.idp
        .admin_get_user()
        .user_pool_id(&pool.pool_id)
        .username(username)
        .send()
        .await
        .expect("AdminGetUser")
        .user_status()
        .cloned()
        .expect("UserStatus")
}

#[tokio::test]
async fn admin_create_user_with_temporary_password_sends_invitation() {
    let c = Cognate::start().await;
    let pool = c.create_pool("invite").await;
    let out = c
        .idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username("alice")
        .temporary_password("Temp0rary!Pass")
        .desired_delivery_mediums(DeliveryMediumType::Email)
        .user_attributes(attr("email", "alice@example.com"))
        .user_attributes(attr("email_verified", "true"))
        .user_attributes(attr("custom:tier", "gold"))
        .send()
        .await
        .expect("AdminCreateUser");
    let user = out.user().expect("User");
    assert_eq!(user.username(), Some("alice"));
    assert_eq!(user.user_status(), Some(&UserStatusType::ForceChangePassword));
    assert!(user.enabled());
    assert!(user.user_create_date().is_some());
    let attrs = pairs(user.attributes());
    assert!(lookup(&attrs, "sub").is_some_and(|s| is_uuid(&s)), "{attrs:?}");
    assert_eq!(lookup(&attrs, "email").as_deref(), Some("alice@example.com"));
    assert_eq!(lookup(&attrs, "custom:tier").as_deref(), Some("gold"));

    let msgs = c.messages(Some("alice@example.com")).await;
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    let msg = &msgs[0];
    assert_eq!(msg["trigger_source"], "CustomMessage_AdminCreateUser");
    assert_eq!(msg["channel"], "email");
    assert_eq!(msg["pool_id"], pool.pool_id.as_str());
    let body = msg["body"].as_str().unwrap();
    assert!(body.contains("alice"), "invitation names the user: {body}");
    assert!(
        body.contains("Temp0rary!Pass"),
        "invitation carries the password: {body}"
    );

    let err = expect_err(
        c.idp
            .admin_create_user()
            .user_pool_id(&pool.pool_id)
            .username("alice")
            .temporary_password("Temp0rary!Pass")
            .message_action(MessageActionType::Suppress)
            .send()
            .await,
        "UsernameExistsException",
    );
    assert_eq!(err, "User account already exists");
}

#[tokio::test]
async fn generated_temporary_password_and_new_password_required() {
    let c = Cognate::start().await;
    let pool = c.create_pool("generated").await;
    c.idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username("bob")
        .desired_delivery_mediums(DeliveryMediumType::Email)
        .user_attributes(attr("email", "bob@example.com"))
        .send()
        .await
        .expect("AdminCreateUser");
    let msg = c.last_message("bob@example.com").await;
    assert_eq!(msg["trigger_source"], "CustomMessage_AdminCreateUser");
    let body = msg["body"].as_str().unwrap();
    let temp = extract_temp_password(body).unwrap_or_else(|| panic!("default invitation template expected: {body}"));
    assert!(temp.len() >= 8, "generated password satisfies the policy: {temp}");

    let out = c
        .idp
        .initiate_auth()
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "bob")
        .auth_parameters("PASSWORD", &temp)
        .send()
        .await
        .expect("InitiateAuth with the temporary password");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::NewPasswordRequired));
    assert!(out.authentication_result().is_none());
    let session = out.session().expect("Session").to_string();

    // A weak new password is refused.
    expect_err(
        c.idp
            .respond_to_auth_challenge()
            .client_id(&pool.client_id)
            .challenge_name(ChallengeNameType::NewPasswordRequired)
            .session(&session)
            .challenge_responses("USERNAME", "bob")
            .challenge_responses("NEW_PASSWORD", "weak")
            .send()
            .await,
        "InvalidPasswordException",
    );
    let out = c
        .idp
        .respond_to_auth_challenge()
        .client_id(&pool.client_id)
        .challenge_name(ChallengeNameType::NewPasswordRequired)
        .session(&session)
        .challenge_responses("USERNAME", "bob")
        .challenge_responses("NEW_PASSWORD", NEW_PASSWORD)
        .send()
        .await
        .expect("RespondToAuthChallenge NEW_PASSWORD_REQUIRED");
    let result = out.authentication_result().expect("tokens after the new password");
    assert!(result.access_token().is_some());
    assert!(result.id_token().is_some());
    assert!(result.refresh_token().is_some());
    assert_eq!(status(&c, &pool, "bob").await, UserStatusType::Confirmed);
    c.sign_in(&pool, "bob", NEW_PASSWORD).await;
}

#[tokio::test]
async fn admin_respond_to_new_password_challenge() {
    let c = Cognate::start().await;
    let pool = c.create_pool("admin-respond").await;
    c.idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username("cara")
        .temporary_password("Temp0rary!Pass")
        .message_action(MessageActionType::Suppress)
        .user_attributes(attr("email", "cara@example.com"))
        .send()
        .await
        .unwrap();
    let out = c
        .idp
        .admin_initiate_auth()
        .user_pool_id(&pool.pool_id)
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", "cara")
        .auth_parameters("PASSWORD", "Temp0rary!Pass")
        .send()
        .await
        .expect("AdminInitiateAuth");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::NewPasswordRequired));
    let session = out.session().expect("Session").to_string();

    expect_err(
        c.idp
            .admin_respond_to_auth_challenge()
            .user_pool_id(&pool.pool_id)
            .client_id(&pool.client_id)
            .challenge_name(ChallengeNameType::NewPasswordRequired)
            .session("bogus-session")
            .challenge_responses("USERNAME", "cara")
            .challenge_responses("NEW_PASSWORD", NEW_PASSWORD)
            .send()
            .await,
        "NotAuthorizedException",
    );

    let out = c
        .idp
        .admin_respond_to_auth_challenge()
        .user_pool_id(&pool.pool_id)
        .client_id(&pool.client_id)
        .challenge_name(ChallengeNameType::NewPasswordRequired)
        .session(&session)
        .challenge_responses("USERNAME", "cara")
        .challenge_responses("NEW_PASSWORD", NEW_PASSWORD)
        .send()
        .await
        .expect("AdminRespondToAuthChallenge");
    assert!(out.authentication_result().and_then(|r| r.access_token()).is_some());
    assert_eq!(status(&c, &pool, "cara").await, UserStatusType::Confirmed);
}

#[tokio::test]
async fn message_action_suppress_and_resend() {
    let c = Cognate::start().await;
    let pool = c.create_pool("suppress").await;
    c.idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username("dan")
        .temporary_password("Temp0rary!Pass")
        .message_action(MessageActionType::Suppress)
        .desired_delivery_mediums(DeliveryMediumType::Email)
        .user_attributes(attr("email", "dan@example.com"))
        .send()
        .await
        .unwrap();
    assert!(c.messages(None).await.is_empty(), "SUPPRESS sends nothing");

    c.idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username("dan")
        .message_action(MessageActionType::Resend)
        .desired_delivery_mediums(DeliveryMediumType::Email)
        .send()
        .await
        .expect("AdminCreateUser RESEND");
    let msgs = c.messages(Some("dan@example.com")).await;
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert_eq!(msgs[0]["trigger_source"], "CustomMessage_AdminCreateUser");
    assert_eq!(status(&c, &pool, "dan").await, UserStatusType::ForceChangePassword);

    expect_err(
        c.idp
            .admin_create_user()
            .user_pool_id(&pool.pool_id)
            .username("nobody")
            .message_action(MessageActionType::Resend)
            .send()
            .await,
        "UserNotFoundException",
    );
}

#[tokio::test]
async fn invitation_by_sms() {
    let c = Cognate::start().await;
    let pool = c.create_pool("sms").await;
    c.idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username("eli")
        .temporary_password("Temp0rary!Pass")
        .desired_delivery_mediums(DeliveryMediumType::Sms)
        .user_attributes(attr("phone_number", "+15555550100"))
        .send()
        .await
        .expect("AdminCreateUser by SMS");
    let msg = c.last_message("+15555550100").await;
    assert_eq!(msg["channel"], "sms");
    assert_eq!(msg["trigger_source"], "CustomMessage_AdminCreateUser");
    assert!(msg["body"].as_str().unwrap().contains("Temp0rary!Pass"));
}

#[tokio::test]
async fn invitation_by_email_and_sms() {
    let c = Cognate::start().await;
    let pool = c.create_pool("both").await;
    c.idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username("flo")
        .temporary_password("Temp0rary!Pass")
        .desired_delivery_mediums(DeliveryMediumType::Email)
        .desired_delivery_mediums(DeliveryMediumType::Sms)
        .user_attributes(attr("email", "flo@example.com"))
        .user_attributes(attr("phone_number", "+15555550101"))
        .send()
        .await
        .unwrap();
    assert_eq!(c.last_message("flo@example.com").await["channel"], "email");
    assert_eq!(c.last_message("+15555550101").await["channel"], "sms");
}

#[tokio::test]
async fn temporary_password_expires() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("temp-expiry").await; // default TemporaryPasswordValidityDays = 7
    c.idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username("gil")
        .temporary_password("Temp0rary!Pass")
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    c.advance(Duration::from_secs(8 * 24 * 3600));
    expect_err_msg(
        c.idp
            .initiate_auth()
            .client_id(&pool.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "gil")
            .auth_parameters("PASSWORD", "Temp0rary!Pass")
            .send()
            .await,
        "NotAuthorizedException",
        "Temporary password has expired and must be reset by an administrator.",
    );
}

#[tokio::test]
async fn admin_get_user_fields_and_unknown_user() {
    let c = Cognate::start().await;
    let pool = c.create_pool("get").await;
    let sub = c.admin_user(&pool, "hugo", "hugo@example.com").await;
    let out = c
        .idp
        .admin_get_user()
        .user_pool_id(&pool.pool_id)
        .username("hugo")
        .send()
        .await
        .unwrap();
    assert_eq!(out.username(), "hugo");
    assert_eq!(out.user_status(), Some(&UserStatusType::Confirmed));
    assert!(out.enabled());
    assert!(out.user_create_date().is_some());
    assert!(out.user_last_modified_date().is_some());
    let attrs = pairs(out.user_attributes());
    assert_eq!(lookup(&attrs, "sub").as_deref(), Some(sub.as_str()));
    assert_eq!(lookup(&attrs, "email_verified").as_deref(), Some("true"));

    expect_err_msg(
        c.idp
            .admin_get_user()
            .user_pool_id(&pool.pool_id)
            .username("nobody")
            .send()
            .await,
        "UserNotFoundException",
        "User does not exist.",
    );
}

#[tokio::test]
async fn admin_delete_user() {
    let c = Cognate::start().await;
    let pool = c.create_pool("delete").await;
    c.admin_user(&pool, "ida", "ida@example.com").await;
    let tokens = c.sign_in(&pool, "ida", PASSWORD).await;
    c.idp
        .admin_delete_user()
        .user_pool_id(&pool.pool_id)
        .username("ida")
        .send()
        .await
        .expect("AdminDeleteUser");
    expect_err(
        c.idp
            .admin_get_user()
            .user_pool_id(&pool.pool_id)
            .username("ida")
            .send()
            .await,
        "UserNotFoundException",
    );
    expect_err(
        c.idp
            .admin_delete_user()
            .user_pool_id(&pool.pool_id)
            .username("ida")
            .send()
            .await,
        "UserNotFoundException",
    );
    expect_err(
        c.refresh(&pool, tokens.refresh_token().unwrap()).await,
        "NotAuthorizedException",
    );
}

#[tokio::test]
async fn disable_and_enable_user() {
    let c = Cognate::start().await;
    let pool = c.create_pool("disable").await;
    c.admin_user(&pool, "jon", "jon@example.com").await;
    let tokens = c.sign_in(&pool, "jon", PASSWORD).await;
    c.idp
        .admin_disable_user()
        .user_pool_id(&pool.pool_id)
        .username("jon")
        .send()
        .await
        .expect("AdminDisableUser");
    let out = c
        .idp
        .admin_get_user()
        .user_pool_id(&pool.pool_id)
        .username("jon")
        .send()
        .await
        .unwrap();
    assert!(!out.enabled());
    expect_err_msg(
        c.idp
            .initiate_auth()
            .client_id(&pool.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "jon")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "NotAuthorizedException",
        "User is disabled.",
    );
    // AWS: AdminDisableUser "deactivates a user and revokes all access tokens for the user".
    expect_err(
        c.idp
            .get_user()
            .access_token(tokens.access_token().unwrap())
            .send()
            .await,
        "NotAuthorizedException",
    );
    expect_err(
        c.refresh(&pool, tokens.refresh_token().unwrap()).await,
        "NotAuthorizedException",
    );

    c.idp
        .admin_enable_user()
        .user_pool_id(&pool.pool_id)
        .username("jon")
        .send()
        .await
        .expect("AdminEnableUser");
    c.sign_in(&pool, "jon", PASSWORD).await;
    expect_err(
        c.idp
            .admin_disable_user()
            .user_pool_id(&pool.pool_id)
            .username("nobody")
            .send()
            .await,
        "UserNotFoundException",
    );
}

#[tokio::test]
async fn admin_confirm_sign_up() {
    let c = Cognate::start().await;
    let pool = c.create_pool("admin-confirm").await;
    c.idp
        .sign_up()
        .client_id(&pool.client_id)
        .username("kai")
        .password(PASSWORD)
        .user_attributes(attr("email", "kai@example.com"))
        .send()
        .await
        .unwrap();
    expect_err_msg(
        c.idp
            .initiate_auth()
            .client_id(&pool.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "kai")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "UserNotConfirmedException",
        "User is not confirmed.",
    );
    c.idp
        .admin_confirm_sign_up()
        .user_pool_id(&pool.pool_id)
        .username("kai")
        .send()
        .await
        .expect("AdminConfirmSignUp");
    assert_eq!(status(&c, &pool, "kai").await, UserStatusType::Confirmed);
    c.sign_in(&pool, "kai", PASSWORD).await;
    // Confirming a confirmed user is refused (AWS: "User cannot be confirmed. Current status is
    // CONFIRMED").
    expect_err(
        c.idp
            .admin_confirm_sign_up()
            .user_pool_id(&pool.pool_id)
            .username("kai")
            .send()
            .await,
        "NotAuthorizedException",
    );
    expect_err(
        c.idp
            .admin_confirm_sign_up()
            .user_pool_id(&pool.pool_id)
            .username("nobody")
            .send()
            .await,
        "UserNotFoundException",
    );
}

#[tokio::test]
async fn admin_set_user_password() {
    let c = Cognate::start().await;
    let pool = c.create_pool("set-password").await;
    c.admin_user(&pool, "lou", "lou@example.com").await;

    c.idp
        .admin_set_user_password()
        .user_pool_id(&pool.pool_id)
        .username("lou")
        .password(NEW_PASSWORD)
        .permanent(false)
        .send()
        .await
        .expect("AdminSetUserPassword temporary");
    assert_eq!(status(&c, &pool, "lou").await, UserStatusType::ForceChangePassword);
    let out = c
        .idp
        .initiate_auth()
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "lou")
        .auth_parameters("PASSWORD", NEW_PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::NewPasswordRequired));

    c.idp
        .admin_set_user_password()
        .user_pool_id(&pool.pool_id)
        .username("lou")
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .expect("AdminSetUserPassword permanent");
    assert_eq!(status(&c, &pool, "lou").await, UserStatusType::Confirmed);
    c.sign_in(&pool, "lou", PASSWORD).await;

    expect_err(
        c.idp
            .admin_set_user_password()
            .user_pool_id(&pool.pool_id)
            .username("lou")
            .password("weak")
            .permanent(true)
            .send()
            .await,
        "InvalidPasswordException",
    );
    expect_err(
        c.idp
            .admin_set_user_password()
            .user_pool_id(&pool.pool_id)
            .username("nobody")
            .password(PASSWORD)
            .permanent(true)
            .send()
            .await,
        "UserNotFoundException",
    );
}

#[tokio::test]
async fn admin_reset_user_password() {
    let c = Cognate::start().await;
    let pool = c.create_pool("reset").await;
    c.admin_user(&pool, "max", "max@example.com").await;
    c.idp
        .admin_reset_user_password()
        .user_pool_id(&pool.pool_id)
        .username("max")
        .send()
        .await
        .expect("AdminResetUserPassword");
    assert_eq!(status(&c, &pool, "max").await, UserStatusType::ResetRequired);
    let msg = c.last_message("max@example.com").await;
    assert_eq!(msg["trigger_source"], "CustomMessage_ForgotPassword");
    assert!(extract_code(msg["body"].as_str().unwrap()).is_some());
    expect_err_msg(
        c.idp
            .initiate_auth()
            .client_id(&pool.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "max")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "PasswordResetRequiredException",
        "Password reset required for the user",
    );
}

#[tokio::test]
async fn admin_update_and_delete_user_attributes() {
    let c = Cognate::start().await;
    let pool = c.create_pool("admin-attrs").await;
    c.admin_user(&pool, "nia", "nia@example.com").await;
    c.idp
        .admin_update_user_attributes()
        .user_pool_id(&pool.pool_id)
        .username("nia")
        .user_attributes(attr("name", "Nia"))
        .user_attributes(attr("custom:tier", "bronze"))
        .send()
        .await
        .expect("AdminUpdateUserAttributes");
    let attrs = c.admin_attrs(&pool, "nia").await;
    assert_eq!(lookup(&attrs, "name").as_deref(), Some("Nia"));
    assert_eq!(lookup(&attrs, "custom:tier").as_deref(), Some("bronze"));

    // Changing the email without marking it verified makes it unverified.
    c.idp
        .admin_update_user_attributes()
        .user_pool_id(&pool.pool_id)
        .username("nia")
        .user_attributes(attr("email", "nia.new@example.com"))
        .send()
        .await
        .unwrap();
    let attrs = c.admin_attrs(&pool, "nia").await;
    assert_eq!(lookup(&attrs, "email").as_deref(), Some("nia.new@example.com"));
    assert_eq!(lookup(&attrs, "email_verified").as_deref(), Some("false"));

    // Changing it and marking it verified in one call.
    c.idp
        .admin_update_user_attributes()
        .user_pool_id(&pool.pool_id)
        .username("nia")
        .user_attributes(attr("email", "nia.third@example.com"))
        .user_attributes(attr("email_verified", "true"))
        .send()
        .await
        .unwrap();
    let attrs = c.admin_attrs(&pool, "nia").await;
    assert_eq!(lookup(&attrs, "email").as_deref(), Some("nia.third@example.com"));
    assert_eq!(lookup(&attrs, "email_verified").as_deref(), Some("true"));

    // sub is immutable.
    expect_err(
        c.idp
            .admin_update_user_attributes()
            .user_pool_id(&pool.pool_id)
            .username("nia")
            .user_attributes(attr("sub", "00000000-0000-0000-0000-000000000000"))
            .send()
            .await,
        "InvalidParameterException",
    );

    c.idp
        .admin_delete_user_attributes()
        .user_pool_id(&pool.pool_id)
        .username("nia")
        .user_attribute_names("name")
        .user_attribute_names("custom:tier")
        .send()
        .await
        .expect("AdminDeleteUserAttributes");
    let attrs = c.admin_attrs(&pool, "nia").await;
    assert!(lookup(&attrs, "name").is_none(), "{attrs:?}");
    assert!(lookup(&attrs, "custom:tier").is_none(), "{attrs:?}");

    expect_err(
        c.idp
            .admin_update_user_attributes()
            .user_pool_id(&pool.pool_id)
            .username("nobody")
            .user_attributes(attr("name", "x"))
            .send()
            .await,
        "UserNotFoundException",
    );
}

#[tokio::test]
async fn admin_user_global_sign_out() {
    let c = Cognate::start().await;
    let pool = c.create_pool("admin-signout").await;
    c.admin_user(&pool, "otto", "otto@example.com").await;
    let tokens = c.sign_in(&pool, "otto", PASSWORD).await;
    c.idp
        .admin_user_global_sign_out()
        .user_pool_id(&pool.pool_id)
        .username("otto")
        .send()
        .await
        .expect("AdminUserGlobalSignOut");
    expect_err(
        c.refresh(&pool, tokens.refresh_token().unwrap()).await,
        "NotAuthorizedException",
    );
    expect_err_msg(
        c.idp
            .get_user()
            .access_token(tokens.access_token().unwrap())
            .send()
            .await,
        "NotAuthorizedException",
        "Access Token has been revoked",
    );
    c.sign_in(&pool, "otto", PASSWORD).await;
}
