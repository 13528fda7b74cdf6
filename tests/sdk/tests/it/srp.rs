//! USER_SRP_AUTH with a real client implementation of Cognito's SRP (the `aws-cognito-srp`
//! crate): username and email-as-username pools, wrong passwords, MFA after
//! PASSWORD_VERIFIER, and the lockout applied to SRP.

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeOutput;
use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ChallengeNameType, UserPoolMfaType, UsernameAttributeType,
};
use cognate_sdk_tests::*;

use crate::mfa::{TOTP_ONLY, enrol_totp, mfa_pool, totp_code};
use crate::protections::client_with;

/// USER_SRP_AUTH then PASSWORD_VERIFIER, computed by `aws-cognito-srp`.
pub(crate) async fn srp_sign_in(
    c: &Cognate,
    pool_id: &str,
    client_id: &str,
    username: &str,
    password: &str,
) -> Result<RespondToAuthChallengeOutput, AwsError> {
    let client =
        aws_cognito_srp::SrpClient::new(aws_cognito_srp::User::new(pool_id, username, password), client_id, None);
    let params = client.get_auth_parameters();
    let out = c
        .idp
        .initiate_auth()
        .client_id(client_id)
        .auth_flow(AuthFlowType::UserSrpAuth)
        .auth_parameters("USERNAME", &params.username)
        .auth_parameters("SRP_A", &params.a)
        .send()
        .await
        .map_err(|e| aws_err::<(), _>(Err(e)))?;
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::PasswordVerifier));
    let p = out.challenge_parameters().expect("ChallengeParameters");
    let user_id = &p["USER_ID_FOR_SRP"];
    let v = client
        .verify(&p["SECRET_BLOCK"], user_id, &p["SALT"], &p["SRP_B"])
        .expect("client-side SRP");
    c.idp
        .respond_to_auth_challenge()
        .client_id(client_id)
        .challenge_name(ChallengeNameType::PasswordVerifier)
        .set_session(out.session().map(str::to_string))
        .challenge_responses("USERNAME", user_id)
        .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", v.password_claim_secret_block)
        .challenge_responses("PASSWORD_CLAIM_SIGNATURE", v.password_claim_signature)
        .challenge_responses("TIMESTAMP", v.timestamp)
        .send()
        .await
        .map_err(|e| aws_err::<(), _>(Err(e)))
}

#[tokio::test]
async fn srp_sign_in_with_a_username() {
    let c = Cognate::start().await;
    let pool = c.create_pool("srp").await;
    let client_id = client_with(&c, &pool.pool_id, false).await;
    c.admin_user(&pool, "sara", "sara@example.com").await;
    let out = srp_sign_in(&c, &pool.pool_id, &client_id, "sara", PASSWORD)
        .await
        .expect("SRP sign-in");
    let tokens = out.authentication_result().expect("tokens");
    let id = c.verify_jwt(&pool.pool_id, tokens.id_token().unwrap()).await;
    assert_eq!(id.claims["cognito:username"], "sara");

    let err = srp_sign_in(&c, &pool.pool_id, &client_id, "sara", "Wr0ng-Passw0rd!")
        .await
        .unwrap_err();
    assert_eq!(err.code, "NotAuthorizedException");
    assert_eq!(err.message.as_deref(), Some("Incorrect username or password."));
}

#[tokio::test]
async fn srp_sign_in_with_email_as_username() {
    let c = Cognate::start().await;
    let pool = c
        .finish_pool(
            c.pool_builder("srp-email")
                .username_attributes(UsernameAttributeType::Email),
        )
        .await;
    let client_id = client_with(&c, &pool.pool_id, true).await;
    let sub = c.admin_user(&pool, "erin@example.com", "erin@example.com").await;
    let out = srp_sign_in(&c, &pool.pool_id, &client_id, "erin@example.com", PASSWORD)
        .await
        .expect("SRP sign-in by email");
    let id = c
        .verify_jwt(&pool.pool_id, out.authentication_result().unwrap().id_token().unwrap())
        .await;
    assert_eq!(id.claims["sub"], sub.as_str());
    assert_eq!(id.claims["email"], "erin@example.com");
    let err = srp_sign_in(&c, &pool.pool_id, &client_id, "erin@example.com", "Wr0ng-Passw0rd!")
        .await
        .unwrap_err();
    assert_eq!(err.code, "NotAuthorizedException");
}

#[tokio::test]
async fn srp_then_software_token_mfa() {
    let c = Cognate::start_with_clock().await;
    let pool = mfa_pool(&c, UserPoolMfaType::Optional, TOTP_ONLY).await;
    let client_id = client_with(&c, &pool.pool_id, false).await;
    c.admin_user(&pool, "mona", "mona@example.com").await;
    let tokens = c.sign_in(&pool, "mona", PASSWORD).await;
    let secret = enrol_totp(&c, tokens.access_token().unwrap()).await;
    let out = srp_sign_in(&c, &pool.pool_id, &client_id, "mona", PASSWORD)
        .await
        .expect("PASSWORD_VERIFIER");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::SoftwareTokenMfa));
    let done = c
        .idp
        .respond_to_auth_challenge()
        .client_id(&client_id)
        .challenge_name(ChallengeNameType::SoftwareTokenMfa)
        .session(out.session().unwrap())
        .challenge_responses("USERNAME", "mona")
        .challenge_responses("SOFTWARE_TOKEN_MFA_CODE", totp_code(&c, &secret, 0))
        .send()
        .await
        .expect("SOFTWARE_TOKEN_MFA");
    assert!(done.authentication_result().is_some());
}

#[tokio::test]
async fn srp_failures_count_towards_the_lockout() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("srp-lock").await;
    let client_id = client_with(&c, &pool.pool_id, false).await;
    c.admin_user(&pool, "lara", "lara@example.com").await;
    for _ in 0..5 {
        let err = srp_sign_in(&c, &pool.pool_id, &client_id, "lara", "Wr0ng-Passw0rd!")
            .await
            .unwrap_err();
        assert_eq!(err.message.as_deref(), Some("Incorrect username or password."));
    }
    let err = srp_sign_in(&c, &pool.pool_id, &client_id, "lara", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(err.code, "NotAuthorizedException");
    assert_eq!(err.message.as_deref(), Some("Password attempts exceeded"));
    expect_err_msg(
        c.idp
            .initiate_auth()
            .client_id(&pool.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "lara")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "NotAuthorizedException",
        "Password attempts exceeded",
    );
    c.advance(std::time::Duration::from_secs(2));
    srp_sign_in(&c, &pool.pool_id, &client_id, "lara", PASSWORD)
        .await
        .expect("SRP after the lockout");
}

/// The client signs TIMESTAMP with its own (real) clock; a server clock an hour ahead makes
/// that TIMESTAMP stale, and the claim is refused although the password is right.
#[tokio::test]
async fn stale_timestamp_is_refused() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("srp-time").await;
    let client_id = client_with(&c, &pool.pool_id, false).await;
    c.admin_user(&pool, "tess", "tess@example.com").await;
    srp_sign_in(&c, &pool.pool_id, &client_id, "tess", PASSWORD)
        .await
        .expect("SRP sign-in with a current TIMESTAMP");
    c.advance(std::time::Duration::from_secs(3600));
    let err = srp_sign_in(&c, &pool.pool_id, &client_id, "tess", PASSWORD)
        .await
        .unwrap_err();
    assert_eq!(err.code, "NotAuthorizedException");
    assert_eq!(err.message.as_deref(), Some("Incorrect username or password."));
}
