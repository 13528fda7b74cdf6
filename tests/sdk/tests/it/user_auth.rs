//! Choice-based sign-in (AuthFlow USER_AUTH): SELECT_CHALLENGE and its AvailableChallenges,
//! PASSWORD and PASSWORD_SRP in one step, EMAIL_OTP and SMS_OTP codes, MFA after a password,
//! and the refusals (client without ALLOW_USER_AUTH, factors the pool does not allow, email
//! without Amazon SES, wrong codes). Passkeys (WEB_AUTHN) are `passkey_sign_in.rs`.

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthOutput;
use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::AuthFactorType;
use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ChallengeNameType, EmailConfigurationType, EmailSendingAccountType, ExplicitAuthFlowsType,
    MessageActionType, SignInPolicyType, SmsMfaSettingsType, UserPoolMfaType, UserPoolPolicyType,
};
use cognate_sdk_tests::*;

use crate::mfa::PHONE;

/// A pool allowing `factors` first (email sent through SES when `ses`), and a client with
/// ALLOW_USER_AUTH (and refresh).
pub(crate) async fn passwordless_pool(c: &Cognate, factors: &[AuthFactorType], ses: bool) -> TestPool {
    let mut b = c.pool_builder("passwordless").policies(
        UserPoolPolicyType::builder()
            .sign_in_policy(
                SignInPolicyType::builder()
                    .set_allowed_first_auth_factors(Some(factors.to_vec()))
                    .build(),
            )
            .build(),
    );
    if ses {
        b = b.email_configuration(
            EmailConfigurationType::builder()
                .email_sending_account(EmailSendingAccountType::Developer)
                .source_arn("arn:aws:ses:us-east-1:123456789012:identity/example.com")
                .build(),
        );
    }
    let pool = c.finish_pool(b).await;
    let client_id = user_auth_client(c, &pool.pool_id).await;
    TestPool { client_id, ..pool }
}

pub(crate) async fn user_auth_client(c: &Cognate, pool_id: &str) -> String {
    c.idp
        .create_user_pool_client()
        .user_pool_id(pool_id)
        .client_name("choice")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .expect("CreateUserPoolClient")
        .user_pool_client()
        .and_then(|c| c.client_id())
        .expect("client id")
        .to_string()
}

const ALL_FACTORS: [AuthFactorType; 3] = [
    AuthFactorType::Password,
    AuthFactorType::EmailOtp,
    AuthFactorType::SmsOtp,
];

/// A confirmed user with a verified phone number (and email, as `admin_user` makes).
async fn phone_user(c: &Cognate, pool: &TestPool, name: &str, email: &str) {
    c.admin_user(pool, name, email).await;
    c.idp
        .admin_update_user_attributes()
        .user_pool_id(&pool.pool_id)
        .username(name)
        .user_attributes(attr("phone_number", PHONE))
        .user_attributes(attr("phone_number_verified", "true"))
        .send()
        .await
        .expect("AdminUpdateUserAttributes");
}

pub(crate) async fn user_auth(
    c: &Cognate,
    pool: &TestPool,
    params: &[(&str, &str)],
) -> Result<InitiateAuthOutput, AwsError> {
    let mut req = c
        .idp
        .initiate_auth()
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::UserAuth);
    for (k, v) in params {
        req = req.auth_parameters(*k, *v);
    }
    req.send().await.map_err(|e| aws_err::<(), _>(Err(e)))
}

async fn respond(
    c: &Cognate,
    pool: &TestPool,
    name: ChallengeNameType,
    session: Option<&str>,
    responses: &[(&str, &str)],
) -> Result<cognate_sdk_tests::aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeOutput, AwsError>{
    let mut req = c
        .idp
        .respond_to_auth_challenge()
        .client_id(&pool.client_id)
        .challenge_name(name)
        .set_session(session.map(str::to_owned));
    for (k, v) in responses {
        req = req.challenge_responses(*k, *v);
    }
    req.send().await.map_err(|e| aws_err::<(), _>(Err(e)))
}

fn names(list: &[ChallengeNameType]) -> Vec<&str> {
    list.iter().map(ChallengeNameType::as_str).collect()
}

#[tokio::test]
async fn select_challenge_offers_what_the_pool_allows_and_the_user_can_use() {
    let c = Cognate::start().await;
    let pool = passwordless_pool(&c, &ALL_FACTORS, true).await;
    phone_user(&c, &pool, "pia", "pia@example.com").await;
    let out = user_auth(&c, &pool, &[("USERNAME", "pia")]).await.unwrap();
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::SelectChallenge));
    assert!(out.session().is_some());
    assert_eq!(
        names(out.available_challenges()),
        ["PASSWORD_SRP", "PASSWORD", "EMAIL_OTP", "SMS_OTP"]
    );
    // Nothing is sent until a code factor is chosen.
    assert!(c.messages(None).await.is_empty());

    // An unverified email is no sign-in factor.
    c.idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username("uma")
        .temporary_password(PASSWORD)
        .message_action(MessageActionType::Suppress)
        .user_attributes(attr("email", "uma@example.com"))
        .send()
        .await
        .unwrap();
    let out = user_auth(&c, &pool, &[("USERNAME", "uma")]).await.unwrap();
    assert_eq!(names(out.available_challenges()), ["PASSWORD_SRP", "PASSWORD"]);

    // A pool that allows only passwords offers only passwords.
    let only_password = passwordless_pool(&c, &[AuthFactorType::Password], true).await;
    c.admin_user(&only_password, "pat", "pat@example.com").await;
    let out = user_auth(&c, &only_password, &[("USERNAME", "pat")]).await.unwrap();
    assert_eq!(names(out.available_challenges()), ["PASSWORD_SRP", "PASSWORD"]);
    c.shutdown().await;
}

#[tokio::test]
async fn email_otp_sends_one_code_and_signs_in() {
    let c = Cognate::start().await;
    let pool = passwordless_pool(&c, &ALL_FACTORS, true).await;
    c.admin_user(&pool, "eve", "eve@example.com").await;
    let out = user_auth(&c, &pool, &[("USERNAME", "eve"), ("PREFERRED_CHALLENGE", "EMAIL_OTP")])
        .await
        .unwrap();
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::EmailOtp));
    let p = out.challenge_parameters().unwrap();
    assert_eq!(p["CODE_DELIVERY_DELIVERY_MEDIUM"], "EMAIL");
    assert_eq!(p["CODE_DELIVERY_DESTINATION"], "e***@e***");
    assert!(out.available_challenges().is_empty());
    assert_eq!(c.messages(Some("eve@example.com")).await.len(), 1);
    let code = c.last_code("eve@example.com").await;

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let err = respond(
        &c,
        &pool,
        ChallengeNameType::EmailOtp,
        out.session(),
        &[("USERNAME", "eve"), ("EMAIL_OTP_CODE", wrong)],
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "CodeMismatchException");
    let done = respond(
        &c,
        &pool,
        ChallengeNameType::EmailOtp,
        out.session(),
        &[("USERNAME", "eve"), ("EMAIL_OTP_CODE", &code)],
    )
    .await
    .unwrap();
    let tokens = done.authentication_result().expect("tokens");
    let access = c.verify_jwt(&pool.pool_id, tokens.access_token().unwrap()).await;
    assert_eq!(access.claims["username"], "eve");
    assert!(tokens.refresh_token().is_some());
    // Still one message: the wrong answer sent nothing.
    assert_eq!(c.messages(Some("eve@example.com")).await.len(), 1);
    c.shutdown().await;
}

#[tokio::test]
async fn select_challenge_then_sms_otp() {
    let c = Cognate::start().await;
    let pool = passwordless_pool(&c, &ALL_FACTORS, true).await;
    phone_user(&c, &pool, "sam", "sam@example.com").await;
    let out = user_auth(&c, &pool, &[("USERNAME", "sam")]).await.unwrap();
    let sms = respond(
        &c,
        &pool,
        ChallengeNameType::SelectChallenge,
        out.session(),
        &[("USERNAME", "sam"), ("ANSWER", "SMS_OTP")],
    )
    .await
    .unwrap();
    assert_eq!(sms.challenge_name(), Some(&ChallengeNameType::SmsOtp));
    assert_eq!(
        sms.challenge_parameters().unwrap()["CODE_DELIVERY_DELIVERY_MEDIUM"],
        "SMS"
    );
    let code = c.last_code(PHONE).await;
    let done = respond(
        &c,
        &pool,
        ChallengeNameType::SmsOtp,
        sms.session(),
        &[("USERNAME", "sam"), ("SMS_OTP_CODE", &code)],
    )
    .await
    .unwrap();
    assert!(done.authentication_result().is_some());
    c.shutdown().await;
}

#[tokio::test]
async fn password_signs_in_in_one_step() {
    let c = Cognate::start().await;
    let pool = passwordless_pool(&c, &ALL_FACTORS, true).await;
    c.admin_user(&pool, "ola", "ola@example.com").await;
    let out = user_auth(
        &c,
        &pool,
        &[
            ("USERNAME", "ola"),
            ("PREFERRED_CHALLENGE", "PASSWORD"),
            ("PASSWORD", PASSWORD),
        ],
    )
    .await
    .unwrap();
    assert!(out.authentication_result().is_some(), "{out:?}");
    let err = user_auth(
        &c,
        &pool,
        &[
            ("USERNAME", "ola"),
            ("PREFERRED_CHALLENGE", "PASSWORD"),
            ("PASSWORD", "Wr0ng!pass"),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "NotAuthorizedException");

    // Or as the answer to SELECT_CHALLENGE, with the password.
    let out = user_auth(&c, &pool, &[("USERNAME", "ola")]).await.unwrap();
    let done = respond(
        &c,
        &pool,
        ChallengeNameType::SelectChallenge,
        out.session(),
        &[("USERNAME", "ola"), ("ANSWER", "PASSWORD"), ("PASSWORD", PASSWORD)],
    )
    .await
    .unwrap();
    assert!(done.authentication_result().is_some());
    // No code was sent for a password sign-in.
    assert!(c.messages(Some("ola@example.com")).await.is_empty());
    c.shutdown().await;
}

#[tokio::test]
async fn password_srp_goes_on_to_password_verifier() {
    let c = Cognate::start().await;
    let pool = passwordless_pool(&c, &ALL_FACTORS, true).await;
    c.admin_user(&pool, "rita", "rita@example.com").await;
    let srp = aws_cognito_srp::SrpClient::new(
        aws_cognito_srp::User::new(&pool.pool_id, "rita", PASSWORD),
        &pool.client_id,
        None,
    );
    let a = srp.get_auth_parameters().a;
    let out = user_auth(
        &c,
        &pool,
        &[
            ("USERNAME", "rita"),
            ("PREFERRED_CHALLENGE", "PASSWORD_SRP"),
            ("SRP_A", &a),
        ],
    )
    .await
    .unwrap();
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::PasswordVerifier));
    let p = out.challenge_parameters().unwrap();
    let v = srp
        .verify(&p["SECRET_BLOCK"], &p["USER_ID_FOR_SRP"], &p["SALT"], &p["SRP_B"])
        .unwrap();
    let done = respond(
        &c,
        &pool,
        ChallengeNameType::PasswordVerifier,
        out.session(),
        &[
            ("USERNAME", &p["USER_ID_FOR_SRP"]),
            ("PASSWORD_CLAIM_SECRET_BLOCK", &v.password_claim_secret_block),
            ("PASSWORD_CLAIM_SIGNATURE", &v.password_claim_signature),
            ("TIMESTAMP", &v.timestamp),
        ],
    )
    .await
    .unwrap();
    assert!(done.authentication_result().is_some());
    c.shutdown().await;
}

#[tokio::test]
async fn mfa_follows_a_password_and_hides_passwordless_factors() {
    let c = Cognate::start().await;
    let pool = passwordless_pool(&c, &ALL_FACTORS, true).await;
    c.idp
        .set_user_pool_mfa_config()
        .user_pool_id(&pool.pool_id)
        .mfa_configuration(UserPoolMfaType::Optional)
        .sms_mfa_configuration(
            cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::SmsMfaConfigType::builder()
                .sms_configuration(
                    cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::SmsConfigurationType::builder()
                        .sns_caller_arn("arn:aws:iam::123456789012:role/sms")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    phone_user(&c, &pool, "max", "max@example.com").await;
    c.idp
        .admin_set_user_mfa_preference()
        .user_pool_id(&pool.pool_id)
        .username("max")
        .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).preferred_mfa(true).build())
        .send()
        .await
        .unwrap();
    // A user with MFA is offered passwords only.
    let out = user_auth(&c, &pool, &[("USERNAME", "max")]).await.unwrap();
    assert_eq!(names(out.available_challenges()), ["PASSWORD_SRP", "PASSWORD"]);
    let out = user_auth(
        &c,
        &pool,
        &[
            ("USERNAME", "max"),
            ("PREFERRED_CHALLENGE", "PASSWORD"),
            ("PASSWORD", PASSWORD),
        ],
    )
    .await
    .unwrap();
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::SmsMfa));
    let code = c.last_code(PHONE).await;
    let done = respond(
        &c,
        &pool,
        ChallengeNameType::SmsMfa,
        out.session(),
        &[("USERNAME", "max"), ("SMS_MFA_CODE", &code)],
    )
    .await
    .unwrap();
    assert!(done.authentication_result().is_some());
    c.shutdown().await;
}

#[tokio::test]
async fn client_without_allow_user_auth_is_refused() {
    let c = Cognate::start().await;
    let pool = passwordless_pool(&c, &ALL_FACTORS, true).await;
    c.admin_user(&pool, "ned", "ned@example.com").await;
    let default_client = TestPool {
        client_id: c.create_client(&pool.pool_id, "old", false).await.0,
        ..pool.clone()
    };
    let err = user_auth(
        &c,
        &default_client,
        &[("USERNAME", "ned"), ("PREFERRED_CHALLENGE", "EMAIL_OTP")],
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "InvalidParameterException");
    assert_eq!(
        err.message.as_deref(),
        Some("USER_AUTH flow not enabled for this client")
    );
    assert!(c.messages(None).await.is_empty());
    c.shutdown().await;
}

#[tokio::test]
async fn factors_the_pool_does_not_allow_are_never_started() {
    let c = Cognate::start().await;
    let pool = passwordless_pool(&c, &[AuthFactorType::Password, AuthFactorType::EmailOtp], true).await;
    phone_user(&c, &pool, "zoe", "zoe@example.com").await;
    // SMS_OTP preferred but not allowed: the choice instead, and no SMS.
    let out = user_auth(&c, &pool, &[("USERNAME", "zoe"), ("PREFERRED_CHALLENGE", "SMS_OTP")])
        .await
        .unwrap();
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::SelectChallenge));
    assert_eq!(
        names(out.available_challenges()),
        ["PASSWORD_SRP", "PASSWORD", "EMAIL_OTP"]
    );
    let err = respond(
        &c,
        &pool,
        ChallengeNameType::SelectChallenge,
        out.session(),
        &[("USERNAME", "zoe"), ("ANSWER", "SMS_OTP")],
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "InvalidParameterException");
    assert!(c.messages(None).await.is_empty());
    // The challenge is still open after the refused answer.
    let email = respond(
        &c,
        &pool,
        ChallengeNameType::SelectChallenge,
        out.session(),
        &[("USERNAME", "zoe"), ("ANSWER", "EMAIL_OTP")],
    )
    .await
    .unwrap();
    assert_eq!(email.challenge_name(), Some(&ChallengeNameType::EmailOtp));
    c.shutdown().await;
}

#[tokio::test]
async fn email_codes_need_amazon_ses() {
    let c = Cognate::start().await;
    let pool = passwordless_pool(&c, &ALL_FACTORS, false).await;
    c.admin_user(&pool, "cleo", "cleo@example.com").await;
    let err = user_auth(&c, &pool, &[("USERNAME", "cleo"), ("PREFERRED_CHALLENGE", "EMAIL_OTP")])
        .await
        .unwrap_err();
    assert_eq!(err.code, "InvalidParameterException");
    assert!(err.message.unwrap().contains("DEVELOPER"));
    let out = user_auth(&c, &pool, &[("USERNAME", "cleo")]).await.unwrap();
    assert_eq!(names(out.available_challenges()), ["PASSWORD_SRP", "PASSWORD"]);
    assert!(c.messages(None).await.is_empty());
    c.shutdown().await;
}

#[tokio::test]
async fn wrong_codes_run_out() {
    let c = Cognate::start().await;
    let pool = passwordless_pool(&c, &ALL_FACTORS, true).await;
    c.admin_user(&pool, "wes", "wes@example.com").await;
    let out = user_auth(&c, &pool, &[("USERNAME", "wes"), ("PREFERRED_CHALLENGE", "EMAIL_OTP")])
        .await
        .unwrap();
    let code = c.last_code("wes@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        let err = respond(
            &c,
            &pool,
            ChallengeNameType::EmailOtp,
            out.session(),
            &[("USERNAME", "wes"), ("EMAIL_OTP_CODE", wrong)],
        )
        .await
        .unwrap_err();
        assert_eq!(err.code, "CodeMismatchException");
    }
    // The session is gone: even the right code is refused now.
    let err = respond(
        &c,
        &pool,
        ChallengeNameType::EmailOtp,
        out.session(),
        &[("USERNAME", "wes"), ("EMAIL_OTP_CODE", &code)],
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "NotAuthorizedException");
    c.shutdown().await;
}

/// Amplify v6: `signIn` with `authFlowType: 'USER_AUTH'` and `preferredChallenge: 'EMAIL_OTP'`,
/// then `confirmSignIn` with the code from the outbox (`tests/node/amplify-email-otp.mjs`).
#[tokio::test]
async fn amplify_v6_signs_in_with_an_email_code() {
    let dir = crate::srp_clients::repo_root().join("tests/node");
    assert!(
        dir.join("node_modules/aws-amplify").is_dir(),
        "{}/node_modules is missing or incomplete: run `npm ci --prefix tests/node` in the repository root",
        dir.display()
    );
    let c = Cognate::start().await;
    let pool = passwordless_pool(&c, &ALL_FACTORS, true).await;
    let sub = c.admin_user(&pool, "amy", "amy@example.com").await;
    let args = [
        "amplify-email-otp.mjs",
        &c.endpoint,
        &pool.pool_id,
        &pool.client_id,
        "amy",
        "amy@example.com",
    ];
    let out = crate::srp_clients::run(std::path::Path::new("node"), &args, &dir).await;
    let result: serde_json::Value =
        serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    assert_eq!(result["username"], "amy");
    assert_eq!(result["userId"], sub.as_str());
    assert_eq!(result["delivery"]["deliveryMedium"], "EMAIL");
    assert_eq!(result["delivery"]["destination"], "a***@e***");
    assert_eq!(
        result["operations"],
        serde_json::json!(["InitiateAuth", "RespondToAuthChallenge"]),
        "{result}"
    );
    let access = c.verify_jwt(&pool.pool_id, result["access"].as_str().unwrap()).await;
    assert_eq!(access.claims["client_id"], pool.client_id.as_str());
    assert_eq!(c.messages(Some("amy@example.com")).await.len(), 1);
    c.shutdown().await;
}
