//! Sign-in: InitiateAuth USER_PASSWORD_AUTH, AdminInitiateAuth ADMIN_USER_PASSWORD_AUTH and
//! ADMIN_NO_SRP_AUTH, REFRESH_TOKEN_AUTH / REFRESH_TOKEN, alias and email-as-username sign-in,
//! and the sign-in errors.

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AliasAttributeType, AuthFlowType, MessageActionType, UsernameAttributeType, VerifiedAttributeType,
};
use cognate_sdk_tests::*;

#[tokio::test]
async fn user_password_auth_returns_tokens() {
    let c = Cognate::start().await;
    let pool = c.create_pool("auth").await;
    c.sign_up_confirmed(&pool, "alice", "alice@example.com").await;
    let out = c
        .idp
        .initiate_auth()
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "alice")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("InitiateAuth");
    assert!(out.challenge_name().is_none());
    assert!(out.session().is_none());
    let r = out.authentication_result().expect("AuthenticationResult");
    assert!(r.access_token().is_some());
    assert!(r.id_token().is_some());
    assert!(r.refresh_token().is_some());
    assert_eq!(r.expires_in(), 3600);
    assert_eq!(r.token_type(), Some("Bearer"));
    c.idp
        .get_user()
        .access_token(r.access_token().unwrap())
        .send()
        .await
        .expect("the access token works");
}

#[tokio::test]
async fn admin_initiate_auth_flows() {
    let c = Cognate::start().await;
    let pool = c.create_pool("admin-auth").await;
    c.admin_user(&pool, "bob", "bob@example.com").await;
    for flow in [AuthFlowType::AdminUserPasswordAuth, AuthFlowType::AdminNoSrpAuth] {
        let out = c
            .idp
            .admin_initiate_auth()
            .user_pool_id(&pool.pool_id)
            .client_id(&pool.client_id)
            .auth_flow(flow.clone())
            .auth_parameters("USERNAME", "bob")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await
            .unwrap_or_else(|e| panic!("AdminInitiateAuth {flow:?}: {e:?}"));
        let r = out.authentication_result().expect("AuthenticationResult");
        assert!(r.access_token().is_some() && r.id_token().is_some() && r.refresh_token().is_some());
        assert_eq!(r.expires_in(), 3600);
    }
    expect_err_msg(
        c.idp
            .admin_initiate_auth()
            .user_pool_id(&pool.pool_id)
            .client_id(&pool.client_id)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", "bob")
            .auth_parameters("PASSWORD", "Wr0ng-Passw0rd!")
            .send()
            .await,
        "NotAuthorizedException",
        "Incorrect username or password.",
    );
}

#[tokio::test]
async fn refresh_token_flows() {
    let c = Cognate::start().await;
    let pool = c.create_pool("refresh").await;
    let sub = c.admin_user(&pool, "cleo", "cleo@example.com").await;
    let tokens = c.sign_in(&pool, "cleo", PASSWORD).await;
    let refresh = tokens.refresh_token().unwrap();

    let out = c.refresh(&pool, refresh).await.expect("REFRESH_TOKEN_AUTH");
    let r = out.authentication_result().expect("AuthenticationResult");
    assert!(r.refresh_token().is_none(), "no new refresh token without rotation");
    assert_eq!(r.expires_in(), 3600);
    let access = r.access_token().expect("new access token");
    let id = r.id_token().expect("new ID token");
    let claims = c.verify_jwt(&pool.pool_id, id).await.claims;
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["cognito:username"], "cleo");
    c.idp
        .get_user()
        .access_token(access)
        .send()
        .await
        .expect("refreshed access token");

    let out = c
        .idp
        .initiate_auth()
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::RefreshToken)
        .auth_parameters("REFRESH_TOKEN", refresh)
        .send()
        .await
        .expect("REFRESH_TOKEN (legacy name)");
    let r = out.authentication_result().unwrap();
    assert!(r.refresh_token().is_none());
    assert!(r.access_token().is_some());

    let out = c
        .idp
        .admin_initiate_auth()
        .user_pool_id(&pool.pool_id)
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", refresh)
        .send()
        .await
        .expect("AdminInitiateAuth REFRESH_TOKEN_AUTH");
    assert!(out.authentication_result().and_then(|r| r.access_token()).is_some());

    // The refresh token keeps working after being used.
    c.refresh(&pool, refresh).await.expect("refresh token is reusable");

    expect_err_msg(
        c.refresh(&pool, "garbage").await,
        "NotAuthorizedException",
        "Invalid Refresh Token",
    );
    // A refresh token belongs to the client that it was issued to.
    let (other_client, _) = c.create_client(&pool.pool_id, "other", false).await;
    let other = TestPool {
        pool_id: pool.pool_id.clone(),
        client_id: other_client,
    };
    expect_err(c.refresh(&other, refresh).await, "NotAuthorizedException");
}

#[tokio::test]
async fn sign_in_errors() {
    let c = Cognate::start().await;
    let pool = c.create_pool("errors").await;
    c.admin_user(&pool, "dora", "dora@example.com").await;
    c.idp
        .sign_up()
        .client_id(&pool.client_id)
        .username("unconfirmed")
        .password(PASSWORD)
        .user_attributes(attr("email", "u@example.com"))
        .send()
        .await
        .unwrap();
    let auth = |user: &'static str, password: &'static str| {
        c.idp
            .initiate_auth()
            .client_id(&pool.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", user)
            .auth_parameters("PASSWORD", password)
            .send()
    };
    expect_err_msg(
        auth("dora", "Wr0ng-Passw0rd!").await,
        "NotAuthorizedException",
        "Incorrect username or password.",
    );
    expect_err_msg(
        auth("ghost", PASSWORD).await,
        "UserNotFoundException",
        "User does not exist.",
    );
    expect_err_msg(
        auth("unconfirmed", PASSWORD).await,
        "UserNotConfirmedException",
        "User is not confirmed.",
    );
    // An unconfirmed user with the wrong password gets the password error, not the status.
    expect_err(auth("unconfirmed", "Wr0ng-Passw0rd!").await, "NotAuthorizedException");
    // Missing PASSWORD.
    expect_err(
        c.idp
            .initiate_auth()
            .client_id(&pool.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "dora")
            .send()
            .await,
        "InvalidParameterException",
    );
}

#[tokio::test]
async fn sign_in_by_verified_email_alias() {
    let c = Cognate::start().await;
    let pool = c
        .finish_pool(c.pool_builder("alias").alias_attributes(AliasAttributeType::Email))
        .await;
    let sub = c.sign_up_confirmed(&pool, "erin", "erin@example.com").await;
    let tokens = c.sign_in(&pool, "erin@example.com", PASSWORD).await;
    let id = c.verify_jwt(&pool.pool_id, tokens.id_token().unwrap()).await;
    assert_eq!(id.claims["cognito:username"], "erin");
    assert_eq!(id.claims["sub"], sub.as_str());
    let access = c.verify_jwt(&pool.pool_id, tokens.access_token().unwrap()).await;
    assert_eq!(access.claims["username"], "erin");
    // AdminGetUser also resolves the alias.
    let out = c
        .idp
        .admin_get_user()
        .user_pool_id(&pool.pool_id)
        .username("erin@example.com")
        .send()
        .await
        .expect("AdminGetUser by alias");
    assert_eq!(out.username(), "erin");

    // An unverified email is not an alias.
    c.idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username("fay")
        .message_action(MessageActionType::Suppress)
        .user_attributes(attr("email", "fay@example.com"))
        .send()
        .await
        .unwrap();
    c.idp
        .admin_set_user_password()
        .user_pool_id(&pool.pool_id)
        .username("fay")
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .unwrap();
    expect_err(
        c.idp
            .initiate_auth()
            .client_id(&pool.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "fay@example.com")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "UserNotFoundException",
    );
    c.sign_in(&pool, "fay", PASSWORD).await;
}

#[tokio::test]
async fn verified_alias_must_be_unique() {
    let c = Cognate::start().await;
    let pool = c
        .finish_pool(
            c.pool_builder("alias-unique")
                .alias_attributes(AliasAttributeType::Email),
        )
        .await;
    c.sign_up_confirmed(&pool, "gina", "shared@example.com").await;
    c.idp
        .sign_up()
        .client_id(&pool.client_id)
        .username("gail")
        .password(PASSWORD)
        .user_attributes(attr("email", "shared@example.com"))
        .send()
        .await
        .expect("SignUp with an email that is another user's alias");
    let code = c.last_code("shared@example.com").await;
    // Confirming would make the email a second user's alias: AliasExistsException
    // ("An account with the email already exists.").
    expect_err(
        c.idp
            .confirm_sign_up()
            .client_id(&pool.client_id)
            .username("gail")
            .confirmation_code(&code)
            .send()
            .await,
        "AliasExistsException",
    );
}

#[tokio::test]
async fn email_as_username() {
    let c = Cognate::start().await;
    let pool = c
        .finish_pool(
            c.idp
                .create_user_pool()
                .pool_name("email-username")
                .username_attributes(UsernameAttributeType::Email)
                .auto_verified_attributes(VerifiedAttributeType::Email),
        )
        .await;
    let out = c
        .idp
        .sign_up()
        .client_id(&pool.client_id)
        .username("hana@example.com")
        .password(PASSWORD)
        .send()
        .await
        .expect("SignUp with an email as the username");
    let sub = out.user_sub().to_string();
    let code = c.last_code("hana@example.com").await;
    c.idp
        .confirm_sign_up()
        .client_id(&pool.client_id)
        .username("hana@example.com")
        .confirmation_code(code)
        .send()
        .await
        .expect("ConfirmSignUp by email");

    let user = c
        .idp
        .admin_get_user()
        .user_pool_id(&pool.pool_id)
        .username("hana@example.com")
        .send()
        .await
        .expect("AdminGetUser by email");
    // The stored username is generated (a UUID, the sub in AWS), not the email.
    assert!(is_uuid(user.username()), "username {} is not a UUID", user.username());
    assert_eq!(user.username(), sub, "the generated username is the sub");
    let attrs = pairs(user.user_attributes());
    assert_eq!(lookup(&attrs, "email").as_deref(), Some("hana@example.com"));

    let tokens = c.sign_in(&pool, "hana@example.com", PASSWORD).await;
    let id = c.verify_jwt(&pool.pool_id, tokens.id_token().unwrap()).await;
    assert_eq!(id.claims["cognito:username"], sub.as_str());
    assert_eq!(id.claims["email"], "hana@example.com");
    let access = c.verify_jwt(&pool.pool_id, tokens.access_token().unwrap()).await;
    assert_eq!(access.claims["username"], sub.as_str());

    // The username must be an email in such a pool.
    expect_err(
        c.idp
            .sign_up()
            .client_id(&pool.client_id)
            .username("not-an-email")
            .password(PASSWORD)
            .send()
            .await,
        "InvalidParameterException",
    );
    // The email is unique.
    expect_err(
        c.idp
            .sign_up()
            .client_id(&pool.client_id)
            .username("hana@example.com")
            .password(PASSWORD)
            .send()
            .await,
        "UsernameExistsException",
    );
}

#[tokio::test]
async fn unsupported_auth_flow_parameters() {
    let c = Cognate::start().await;
    let pool = c.create_pool("flow-params").await;
    c.admin_user(&pool, "ivan", "ivan@example.com").await;
    // ADMIN_* flows are not valid on the public InitiateAuth.
    expect_err(
        c.idp
            .initiate_auth()
            .client_id(&pool.client_id)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", "ivan")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "InvalidParameterException",
    );
}
