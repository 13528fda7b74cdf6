//! MFA: the pool's MfaConfiguration, software-token enrolment (AssociateSoftwareToken,
//! VerifySoftwareToken), Set/AdminSetUserMFAPreference, the MFA members of GetUser and
//! AdminGetUser, and the challenges after the first factor: SOFTWARE_TOKEN_MFA, SMS_MFA,
//! EMAIL_OTP, SELECT_MFA_TYPE and MFA_SETUP; challenge sessions expire and are used once.

use std::time::Duration;

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ChallengeNameType, EmailMfaConfigType, EmailMfaSettingsType, MessageActionType, SmsConfigurationType,
    SmsMfaConfigType, SmsMfaSettingsType, SoftwareTokenMfaConfigType, SoftwareTokenMfaSettingsType, UserPoolMfaType,
};
use cognate_sdk_tests::cognate::Clock;
use cognate_sdk_tests::*;

pub(crate) const PHONE: &str = "+15555550123";

/// Which factors a test pool offers.
#[derive(Clone, Copy, Default)]
pub(crate) struct Factors {
    pub sms: bool,
    pub totp: bool,
    pub email: bool,
}

pub(crate) const TOTP_ONLY: Factors = Factors {
    sms: false,
    totp: true,
    email: false,
};
pub(crate) const ALL: Factors = Factors {
    sms: true,
    totp: true,
    email: true,
};

/// A pool (defaults of the suite) with the given MFA configuration.
pub(crate) async fn mfa_pool(c: &Cognate, mode: UserPoolMfaType, f: Factors) -> TestPool {
    let pool = c.create_pool("mfa").await;
    let mut req = c
        .idp
        .set_user_pool_mfa_config()
        .user_pool_id(&pool.pool_id)
        .mfa_configuration(mode)
        .software_token_mfa_configuration(SoftwareTokenMfaConfigType::builder().enabled(f.totp).build());
    if f.sms {
        req = req.sms_mfa_configuration(
            SmsMfaConfigType::builder()
                .sms_authentication_message("Your sign-in code is {####}")
                .sms_configuration(
                    SmsConfigurationType::builder()
                        .sns_caller_arn("arn:aws:iam::123456789012:role/sms")
                        .external_id("cognate")
                        .build(),
                )
                .build(),
        );
    }
    if f.email {
        req = req.email_mfa_configuration(
            EmailMfaConfigType::builder()
                .message("Your email code is {####}")
                .subject("Sign-in code")
                .build(),
        );
    }
    req.send().await.expect("SetUserPoolMfaConfig");
    pool
}

/// The manual clock's time in epoch seconds.
pub(crate) fn now_secs(c: &Cognate) -> u64 {
    (c.clock.as_ref().expect("manual clock").now_millis() / 1000) as u64
}

/// The TOTP code for `secret` at the server's current time, `offset` seconds away.
pub(crate) fn totp_code(c: &Cognate, secret: &str, offset: i64) -> String {
    cognate_crypto::totp::code_at(secret, (now_secs(c) as i64 + offset) as u64).expect("TOTP code")
}

/// Moves to the next 30-second step (a TOTP code counts once per step).
pub(crate) fn next_step(c: &Cognate) {
    c.advance(Duration::from_secs(30));
}

/// Enrols a software token with an access token and makes it the user's preferred MFA.
/// Returns the secret.
pub(crate) async fn enrol_totp(c: &Cognate, access_token: &str) -> String {
    let assoc = c
        .idp
        .associate_software_token()
        .access_token(access_token)
        .send()
        .await
        .expect("AssociateSoftwareToken");
    let secret = assoc.secret_code().expect("SecretCode").to_string();
    let verified = c
        .idp
        .verify_software_token()
        .access_token(access_token)
        .user_code(totp_code(c, &secret, 0))
        .friendly_device_name("phone")
        .send()
        .await
        .expect("VerifySoftwareToken");
    assert_eq!(verified.status().map(|s| s.as_str()), Some("SUCCESS"));
    assert!(verified.session().is_none());
    c.idp
        .set_user_mfa_preference()
        .access_token(access_token)
        .software_token_mfa_settings(
            SoftwareTokenMfaSettingsType::builder()
                .enabled(true)
                .preferred_mfa(true)
                .build(),
        )
        .send()
        .await
        .expect("SetUserMFAPreference");
    next_step(c);
    secret
}

/// USER_PASSWORD_AUTH that must end in a challenge: (name, session, parameters).
pub(crate) async fn sign_in_challenge(
    c: &Cognate,
    pool: &TestPool,
    username: &str,
) -> (ChallengeNameType, String, std::collections::HashMap<String, String>) {
    let out = c
        .idp
        .initiate_auth()
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("InitiateAuth");
    assert!(out.authentication_result().is_none(), "expected a challenge: {out:?}");
    (
        out.challenge_name().cloned().expect("ChallengeName"),
        out.session().expect("Session").to_string(),
        out.challenge_parameters().cloned().unwrap_or_default(),
    )
}

async fn respond(
    c: &Cognate,
    pool: &TestPool,
    name: ChallengeNameType,
    session: &str,
    username: &str,
    key: &str,
    value: &str,
) -> Result<
    aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeOutput,
    aws_sdk_cognitoidentityprovider::error::SdkError<
        aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeError,
    >,
> {
    c.idp
        .respond_to_auth_challenge()
        .client_id(&pool.client_id)
        .challenge_name(name)
        .session(session)
        .challenge_responses("USERNAME", username)
        .challenge_responses(key, value)
        .send()
        .await
}

async fn admin_get(
    c: &Cognate,
    pool: &TestPool,
    username: &str,
) -> aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput {
    c.idp
        .admin_get_user()
        .user_pool_id(&pool.pool_id)
        .username(username)
        .send()
        .await
        .expect("AdminGetUser")
}

async fn add_phone(c: &Cognate, pool: &TestPool, username: &str) {
    c.idp
        .admin_update_user_attributes()
        .user_pool_id(&pool.pool_id)
        .username(username)
        .user_attributes(attr("phone_number", PHONE))
        .user_attributes(attr("phone_number_verified", "true"))
        .send()
        .await
        .expect("AdminUpdateUserAttributes");
}

#[tokio::test]
async fn mfa_config_round_trips() {
    let c = Cognate::start().await;
    let pool = mfa_pool(&c, UserPoolMfaType::Optional, ALL).await;
    let out = c
        .idp
        .get_user_pool_mfa_config()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .expect("GetUserPoolMfaConfig");
    assert_eq!(out.mfa_configuration(), Some(&UserPoolMfaType::Optional));
    assert!(out.software_token_mfa_configuration().unwrap().enabled());
    assert_eq!(
        out.sms_mfa_configuration().unwrap().sms_authentication_message(),
        Some("Your sign-in code is {####}")
    );
    assert_eq!(
        out.email_mfa_configuration().unwrap().message(),
        Some("Your email code is {####}")
    );
}

#[tokio::test]
async fn totp_enrolment_and_sign_in() {
    let c = Cognate::start_with_clock().await;
    let pool = mfa_pool(&c, UserPoolMfaType::Optional, TOTP_ONLY).await;
    c.admin_user(&pool, "tina", "tina@example.com").await;
    // OPTIONAL and nothing enrolled: tokens straight away.
    let tokens = c.sign_in(&pool, "tina", PASSWORD).await;
    let access = tokens.access_token().unwrap();

    let assoc = c
        .idp
        .associate_software_token()
        .access_token(access)
        .send()
        .await
        .expect("AssociateSoftwareToken");
    let secret = assoc.secret_code().unwrap().to_string();
    assert!(assoc.session().is_none());
    assert_eq!(secret.len(), 32, "160-bit base32 secret: {secret}");
    assert!(
        secret
            .chars()
            .all(|ch| ch.is_ascii_uppercase() || ('2'..='7').contains(&ch))
    );
    let bytes = cognate_crypto::totp::base32_decode(&secret).unwrap();
    assert_eq!(bytes.len(), 20);

    // Not verified yet: it cannot be turned on.
    let msg = expect_err(
        c.idp
            .set_user_mfa_preference()
            .access_token(access)
            .software_token_mfa_settings(SoftwareTokenMfaSettingsType::builder().enabled(true).build())
            .send()
            .await,
        "InvalidParameterException",
    );
    assert!(msg.contains("software token"), "{msg}");

    let wrong = if totp_code(&c, &secret, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    expect_err(
        c.idp
            .verify_software_token()
            .access_token(access)
            .user_code(wrong)
            .send()
            .await,
        "EnableSoftwareTokenMFAException",
    );
    let ok = c
        .idp
        .verify_software_token()
        .access_token(access)
        .user_code(totp_code(&c, &secret, 0))
        .send()
        .await
        .expect("VerifySoftwareToken");
    assert_eq!(ok.status().map(|s| s.as_str()), Some("SUCCESS"));
    // Verified but not enabled: no MFA yet.
    let user = admin_get(&c, &pool, "tina").await;
    assert!(user.user_mfa_setting_list().is_empty(), "{user:?}");
    c.sign_in(&pool, "tina", PASSWORD).await;

    c.idp
        .set_user_mfa_preference()
        .access_token(access)
        .software_token_mfa_settings(
            SoftwareTokenMfaSettingsType::builder()
                .enabled(true)
                .preferred_mfa(true)
                .build(),
        )
        .send()
        .await
        .expect("SetUserMFAPreference");
    let user = admin_get(&c, &pool, "tina").await;
    assert_eq!(user.user_mfa_setting_list(), ["SOFTWARE_TOKEN_MFA"]);
    assert_eq!(user.preferred_mfa_setting(), Some("SOFTWARE_TOKEN_MFA"));
    let me = c.idp.get_user().access_token(access).send().await.expect("GetUser");
    assert_eq!(me.user_mfa_setting_list(), ["SOFTWARE_TOKEN_MFA"]);
    assert_eq!(me.preferred_mfa_setting(), Some("SOFTWARE_TOKEN_MFA"));
    assert!(me.mfa_options().is_empty());

    next_step(&c);
    let (name, session, params) = sign_in_challenge(&c, &pool, "tina").await;
    assert_eq!(name, ChallengeNameType::SoftwareTokenMfa);
    assert_eq!(params.get("USER_ID_FOR_SRP").map(String::as_str), Some("tina"));
    expect_err_msg(
        respond(
            &c,
            &pool,
            name.clone(),
            &session,
            "tina",
            "SOFTWARE_TOKEN_MFA_CODE",
            wrong,
        )
        .await,
        "CodeMismatchException",
        "Invalid code received for user",
    );
    // The session survives a wrong code.
    let code = totp_code(&c, &secret, 0);
    let out = respond(
        &c,
        &pool,
        name.clone(),
        &session,
        "tina",
        "SOFTWARE_TOKEN_MFA_CODE",
        &code,
    )
    .await
    .expect("SOFTWARE_TOKEN_MFA answer");
    let result = out.authentication_result().expect("tokens after MFA");
    c.verify_jwt(&pool.pool_id, result.id_token().unwrap()).await;

    // The same code cannot be used twice in its step.
    let (name, session, _) = sign_in_challenge(&c, &pool, "tina").await;
    expect_err(
        respond(
            &c,
            &pool,
            name.clone(),
            &session,
            "tina",
            "SOFTWARE_TOKEN_MFA_CODE",
            &code,
        )
        .await,
        "CodeMismatchException",
    );
    // A code from the next step (clock skew of one step) is accepted.
    let ahead = totp_code(&c, &secret, 30);
    respond(&c, &pool, name, &session, "tina", "SOFTWARE_TOKEN_MFA_CODE", &ahead)
        .await
        .expect("a code one step ahead");
    // Two steps away is outside the window.
    c.advance(Duration::from_secs(90));
    let (name, session, _) = sign_in_challenge(&c, &pool, "tina").await;
    let far = totp_code(&c, &secret, -60);
    if far != totp_code(&c, &secret, 0) && far != totp_code(&c, &secret, 30) && far != totp_code(&c, &secret, -30) {
        expect_err(
            respond(&c, &pool, name, &session, "tina", "SOFTWARE_TOKEN_MFA_CODE", &far).await,
            "CodeMismatchException",
        );
    }
}

#[tokio::test]
async fn totp_challenge_through_admin_initiate_auth() {
    let c = Cognate::start_with_clock().await;
    let pool = mfa_pool(&c, UserPoolMfaType::Optional, TOTP_ONLY).await;
    c.admin_user(&pool, "adam", "adam@example.com").await;
    let tokens = c.sign_in(&pool, "adam", PASSWORD).await;
    let secret = enrol_totp(&c, tokens.access_token().unwrap()).await;
    let out = c
        .idp
        .admin_initiate_auth()
        .user_pool_id(&pool.pool_id)
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", "adam")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("AdminInitiateAuth");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::SoftwareTokenMfa));
    let out = c
        .idp
        .admin_respond_to_auth_challenge()
        .user_pool_id(&pool.pool_id)
        .client_id(&pool.client_id)
        .challenge_name(ChallengeNameType::SoftwareTokenMfa)
        .session(out.session().unwrap())
        .challenge_responses("USERNAME", "adam")
        .challenge_responses("SOFTWARE_TOKEN_MFA_CODE", totp_code(&c, &secret, 0))
        .send()
        .await
        .expect("AdminRespondToAuthChallenge");
    assert!(out.authentication_result().and_then(|r| r.access_token()).is_some());
}

#[tokio::test]
async fn sms_mfa_sends_a_code() {
    let c = Cognate::start_with_clock().await;
    let pool = mfa_pool(&c, UserPoolMfaType::Optional, ALL).await;
    c.admin_user(&pool, "sam", "sam@example.com").await;
    // No phone number: SMS MFA cannot be turned on.
    expect_err(
        c.idp
            .admin_set_user_mfa_preference()
            .user_pool_id(&pool.pool_id)
            .username("sam")
            .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).build())
            .send()
            .await,
        "InvalidParameterException",
    );
    add_phone(&c, &pool, "sam").await;
    c.idp
        .admin_set_user_mfa_preference()
        .user_pool_id(&pool.pool_id)
        .username("sam")
        .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).preferred_mfa(true).build())
        .send()
        .await
        .expect("AdminSetUserMFAPreference");
    let user = admin_get(&c, &pool, "sam").await;
    assert_eq!(user.user_mfa_setting_list(), ["SMS_MFA"]);
    assert_eq!(user.preferred_mfa_setting(), Some("SMS_MFA"));
    let options = user.mfa_options();
    assert_eq!(options.len(), 1);
    assert_eq!(options[0].attribute_name(), Some("phone_number"));
    assert_eq!(options[0].delivery_medium().map(|m| m.as_str()), Some("SMS"));

    let (name, session, params) = sign_in_challenge(&c, &pool, "sam").await;
    assert_eq!(name, ChallengeNameType::SmsMfa);
    assert_eq!(params["CODE_DELIVERY_DELIVERY_MEDIUM"], "SMS");
    let dest = &params["CODE_DELIVERY_DESTINATION"];
    assert!(dest.ends_with("0123") && dest.contains('*'), "{dest}");
    let msg = c.last_message(PHONE).await;
    assert_eq!(msg["channel"], "sms");
    assert_eq!(msg["trigger_source"], "CustomMessage_Authentication");
    assert!(
        msg["body"].as_str().unwrap().starts_with("Your sign-in code is "),
        "{msg}"
    );
    let code = c.last_code(PHONE).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    expect_err_msg(
        respond(&c, &pool, name.clone(), &session, "sam", "SMS_MFA_CODE", wrong).await,
        "CodeMismatchException",
        "Invalid code or auth state for the user.",
    );
    let out = respond(&c, &pool, name, &session, "sam", "SMS_MFA_CODE", &code)
        .await
        .expect("SMS_MFA answer");
    assert!(out.authentication_result().is_some());
}

#[tokio::test]
async fn email_otp_sends_a_code() {
    let c = Cognate::start_with_clock().await;
    let pool = mfa_pool(&c, UserPoolMfaType::Optional, ALL).await;
    c.admin_user(&pool, "emma", "emma@example.com").await;
    let tokens = c.sign_in(&pool, "emma", PASSWORD).await;
    c.idp
        .set_user_mfa_preference()
        .access_token(tokens.access_token().unwrap())
        .email_mfa_settings(EmailMfaSettingsType::builder().enabled(true).build())
        .send()
        .await
        .expect("SetUserMFAPreference");
    let user = admin_get(&c, &pool, "emma").await;
    assert_eq!(user.user_mfa_setting_list(), ["EMAIL_OTP"]);
    assert_eq!(user.preferred_mfa_setting(), None);

    let (name, session, params) = sign_in_challenge(&c, &pool, "emma").await;
    assert_eq!(name, ChallengeNameType::EmailOtp);
    assert_eq!(params["CODE_DELIVERY_DELIVERY_MEDIUM"], "EMAIL");
    assert_eq!(params["CODE_DELIVERY_DESTINATION"], "e***@e***");
    let msg = c.last_message("emma@example.com").await;
    assert_eq!(msg["subject"], "Sign-in code");
    assert_eq!(msg["trigger_source"], "CustomMessage_Authentication");
    let code = c.last_code("emma@example.com").await;
    let out = respond(&c, &pool, name, &session, "emma", "EMAIL_OTP_CODE", &code)
        .await
        .expect("EMAIL_OTP answer");
    assert!(out.authentication_result().is_some());
}

#[tokio::test]
async fn select_mfa_type_when_several_and_none_preferred() {
    let c = Cognate::start_with_clock().await;
    let pool = mfa_pool(&c, UserPoolMfaType::Optional, ALL).await;
    c.admin_user(&pool, "sel", "sel@example.com").await;
    add_phone(&c, &pool, "sel").await;
    let tokens = c.sign_in(&pool, "sel", PASSWORD).await;
    let secret = enrol_totp(&c, tokens.access_token().unwrap()).await;
    c.idp
        .admin_set_user_mfa_preference()
        .user_pool_id(&pool.pool_id)
        .username("sel")
        .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).build())
        .software_token_mfa_settings(
            SoftwareTokenMfaSettingsType::builder()
                .enabled(true)
                .preferred_mfa(false)
                .build(),
        )
        .send()
        .await
        .expect("AdminSetUserMFAPreference");
    let user = admin_get(&c, &pool, "sel").await;
    assert_eq!(user.user_mfa_setting_list(), ["SMS_MFA", "SOFTWARE_TOKEN_MFA"]);
    assert_eq!(user.preferred_mfa_setting(), None);
    // Two preferred at once is refused.
    expect_err(
        c.idp
            .admin_set_user_mfa_preference()
            .user_pool_id(&pool.pool_id)
            .username("sel")
            .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).preferred_mfa(true).build())
            .software_token_mfa_settings(
                SoftwareTokenMfaSettingsType::builder()
                    .enabled(true)
                    .preferred_mfa(true)
                    .build(),
            )
            .send()
            .await,
        "InvalidParameterException",
    );

    let (name, session, params) = sign_in_challenge(&c, &pool, "sel").await;
    assert_eq!(name, ChallengeNameType::SelectMfaType);
    let choices: Vec<String> = serde_json::from_str(&params["MFAS_CAN_CHOOSE"]).unwrap();
    assert_eq!(choices, ["SMS_MFA", "SOFTWARE_TOKEN_MFA"]);
    let out = respond(&c, &pool, name.clone(), &session, "sel", "ANSWER", "SMS_MFA")
        .await
        .expect("SELECT_MFA_TYPE answer");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::SmsMfa));
    let code = c.last_code(PHONE).await;
    let done = respond(
        &c,
        &pool,
        ChallengeNameType::SmsMfa,
        out.session().unwrap(),
        "sel",
        "SMS_MFA_CODE",
        &code,
    )
    .await
    .expect("SMS_MFA answer");
    assert!(done.authentication_result().is_some());

    // The other choice: the software token.
    let (name, session, _) = sign_in_challenge(&c, &pool, "sel").await;
    let out = respond(&c, &pool, name, &session, "sel", "ANSWER", "SOFTWARE_TOKEN_MFA")
        .await
        .expect("SELECT_MFA_TYPE answer");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::SoftwareTokenMfa));
    let done = respond(
        &c,
        &pool,
        ChallengeNameType::SoftwareTokenMfa,
        out.session().unwrap(),
        "sel",
        "SOFTWARE_TOKEN_MFA_CODE",
        &totp_code(&c, &secret, 0),
    )
    .await
    .expect("SOFTWARE_TOKEN_MFA answer");
    assert!(done.authentication_result().is_some());
}

/// Runs MFA_SETUP with a software token from a challenge session; returns the secret.
async fn complete_mfa_setup(c: &Cognate, pool: &TestPool, username: &str, session: &str) -> String {
    let assoc = c
        .idp
        .associate_software_token()
        .session(session)
        .send()
        .await
        .expect("AssociateSoftwareToken with a session");
    let secret = assoc.secret_code().unwrap().to_string();
    let session = assoc.session().expect("a new session").to_string();
    let wrong = if totp_code(c, &secret, 0) == "000000" {
        "111111"
    } else {
        "000000"
    };
    expect_err(
        c.idp
            .verify_software_token()
            .session(&session)
            .user_code(wrong)
            .send()
            .await,
        "EnableSoftwareTokenMFAException",
    );
    let verified = c
        .idp
        .verify_software_token()
        .session(&session)
        .user_code(totp_code(c, &secret, 0))
        .send()
        .await
        .expect("VerifySoftwareToken with a session");
    assert_eq!(verified.status().map(|s| s.as_str()), Some("SUCCESS"));
    let session = verified.session().expect("a session for MFA_SETUP").to_string();
    let out = respond(
        c,
        pool,
        ChallengeNameType::MfaSetup,
        &session,
        username,
        "USERNAME",
        username,
    )
    .await
    .expect("MFA_SETUP answer");
    assert!(out.authentication_result().and_then(|r| r.id_token()).is_some());
    secret
}

#[tokio::test]
async fn mfa_setup_when_required_and_nothing_enrolled() {
    let c = Cognate::start_with_clock().await;
    let pool = mfa_pool(&c, UserPoolMfaType::On, TOTP_ONLY).await;
    c.admin_user(&pool, "newbie", "newbie@example.com").await;
    let (name, session, params) = sign_in_challenge(&c, &pool, "newbie").await;
    assert_eq!(name, ChallengeNameType::MfaSetup);
    assert_eq!(params["MFAS_CAN_SETUP"], r#"["SOFTWARE_TOKEN_MFA"]"#);
    // Answering before setting anything up is refused, and the session stays usable.
    expect_err(
        respond(&c, &pool, name, &session, "newbie", "USERNAME", "newbie").await,
        "InvalidParameterException",
    );
    let secret = complete_mfa_setup(&c, &pool, "newbie", &session).await;
    let user = admin_get(&c, &pool, "newbie").await;
    assert_eq!(user.user_mfa_setting_list(), ["SOFTWARE_TOKEN_MFA"]);
    assert_eq!(user.preferred_mfa_setting(), Some("SOFTWARE_TOKEN_MFA"));

    next_step(&c);
    let (name, session, _) = sign_in_challenge(&c, &pool, "newbie").await;
    assert_eq!(name, ChallengeNameType::SoftwareTokenMfa);
    respond(
        &c,
        &pool,
        name,
        &session,
        "newbie",
        "SOFTWARE_TOKEN_MFA_CODE",
        &totp_code(&c, &secret, 0),
    )
    .await
    .expect("SOFTWARE_TOKEN_MFA answer");
}

#[tokio::test]
async fn required_mfa_uses_a_phone_number_as_it_is() {
    let c = Cognate::start_with_clock().await;
    let pool = mfa_pool(&c, UserPoolMfaType::On, ALL).await;
    c.admin_user(&pool, "phil", "phil@example.com").await;
    let (name, _, params) = sign_in_challenge(&c, &pool, "phil").await;
    assert_eq!(name, ChallengeNameType::MfaSetup);
    let can: Vec<String> = serde_json::from_str(&params["MFAS_CAN_SETUP"]).unwrap();
    assert_eq!(can, ["SMS_MFA", "SOFTWARE_TOKEN_MFA", "EMAIL_OTP"]);
    add_phone(&c, &pool, "phil").await;
    let (name, session, _) = sign_in_challenge(&c, &pool, "phil").await;
    assert_eq!(name, ChallengeNameType::SmsMfa);
    let code = c.last_code(PHONE).await;
    respond(&c, &pool, name, &session, "phil", "SMS_MFA_CODE", &code)
        .await
        .expect("SMS_MFA answer");
}

#[tokio::test]
async fn new_password_required_then_mfa_setup() {
    let c = Cognate::start_with_clock().await;
    let pool = mfa_pool(&c, UserPoolMfaType::On, TOTP_ONLY).await;
    c.idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username("temp")
        .temporary_password("Temp0rary!Pass")
        .message_action(MessageActionType::Suppress)
        .user_attributes(attr("email", "temp@example.com"))
        .send()
        .await
        .expect("AdminCreateUser");
    let out = c
        .idp
        .initiate_auth()
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "temp")
        .auth_parameters("PASSWORD", "Temp0rary!Pass")
        .send()
        .await
        .expect("InitiateAuth");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::NewPasswordRequired));
    let out = respond(
        &c,
        &pool,
        ChallengeNameType::NewPasswordRequired,
        out.session().unwrap(),
        "temp",
        "NEW_PASSWORD",
        PASSWORD,
    )
    .await
    .expect("NEW_PASSWORD_REQUIRED answer");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::MfaSetup));
    complete_mfa_setup(&c, &pool, "temp", out.session().unwrap()).await;
}

#[tokio::test]
async fn challenge_sessions_expire_and_are_used_once() {
    let c = Cognate::start_with_clock().await;
    let pool = mfa_pool(&c, UserPoolMfaType::Optional, TOTP_ONLY).await;
    c.admin_user(&pool, "exp", "exp@example.com").await;
    let tokens = c.sign_in(&pool, "exp", PASSWORD).await;
    let secret = enrol_totp(&c, tokens.access_token().unwrap()).await;

    let (name, session, _) = sign_in_challenge(&c, &pool, "exp").await;
    c.advance(Duration::from_secs(3 * 60 + 1));
    expect_err_msg(
        respond(
            &c,
            &pool,
            name,
            &session,
            "exp",
            "SOFTWARE_TOKEN_MFA_CODE",
            &totp_code(&c, &secret, 0),
        )
        .await,
        "NotAuthorizedException",
        "Invalid session for the user, session is expired.",
    );

    // Within the 3 minutes it works, once.
    let (name, session, _) = sign_in_challenge(&c, &pool, "exp").await;
    c.advance(Duration::from_secs(2 * 60));
    let code = totp_code(&c, &secret, 0);
    respond(
        &c,
        &pool,
        name.clone(),
        &session,
        "exp",
        "SOFTWARE_TOKEN_MFA_CODE",
        &code,
    )
    .await
    .expect("answer within AuthSessionValidity");
    next_step(&c);
    expect_err_msg(
        respond(
            &c,
            &pool,
            name,
            &session,
            "exp",
            "SOFTWARE_TOKEN_MFA_CODE",
            &totp_code(&c, &secret, 0),
        )
        .await,
        "NotAuthorizedException",
        "Invalid session for the user, session is expired.",
    );

    // An MFA_SETUP-style session cannot be used by AssociateSoftwareToken once expired either.
    let pool_on = mfa_pool(&c, UserPoolMfaType::On, TOTP_ONLY).await;
    c.admin_user(&pool_on, "late", "late@example.com").await;
    let (_, session, _) = sign_in_challenge(&c, &pool_on, "late").await;
    c.advance(Duration::from_secs(3 * 60 + 1));
    expect_err(
        c.idp.associate_software_token().session(&session).send().await,
        "NotAuthorizedException",
    );
}

#[tokio::test]
async fn mfa_codes_have_an_attempt_limit() {
    let c = Cognate::start_with_clock().await;
    let pool = mfa_pool(&c, UserPoolMfaType::Optional, ALL).await;
    c.admin_user(&pool, "guess", "guess@example.com").await;
    c.idp
        .admin_set_user_mfa_preference()
        .user_pool_id(&pool.pool_id)
        .username("guess")
        .email_mfa_settings(
            EmailMfaSettingsType::builder()
                .enabled(true)
                .preferred_mfa(true)
                .build(),
        )
        .send()
        .await
        .expect("AdminSetUserMFAPreference");
    let (name, session, _) = sign_in_challenge(&c, &pool, "guess").await;
    let code = c.last_code("guess@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        expect_err(
            respond(&c, &pool, name.clone(), &session, "guess", "EMAIL_OTP_CODE", wrong).await,
            "CodeMismatchException",
        );
    }
    // The session is gone after five wrong codes, even for the right one.
    expect_err(
        respond(&c, &pool, name, &session, "guess", "EMAIL_OTP_CODE", &code).await,
        "NotAuthorizedException",
    );
}

#[tokio::test]
async fn custom_auth_then_mfa() {
    use cognate_sdk_tests::triggers::TriggerApp;
    let t = TriggerApp::start("triggers").await;
    t.c.idp
        .set_user_pool_mfa_config()
        .user_pool_id(&t.pool.pool_id)
        .mfa_configuration(UserPoolMfaType::On)
        .software_token_mfa_configuration(SoftwareTokenMfaConfigType::builder().enabled(true).build())
        .send()
        .await
        .expect("SetUserPoolMfaConfig");
    t.c.admin_user(&t.pool, "cora", "cora@example.com").await;
    let out =
        t.c.idp
            .initiate_auth()
            .client_id(&t.pool.client_id)
            .auth_flow(AuthFlowType::CustomAuth)
            .auth_parameters("USERNAME", "cora")
            .send()
            .await
            .expect("InitiateAuth CUSTOM_AUTH");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::CustomChallenge));
    let out =
        t.c.idp
            .respond_to_auth_challenge()
            .client_id(&t.pool.client_id)
            .challenge_name(ChallengeNameType::CustomChallenge)
            .session(out.session().unwrap())
            .challenge_responses("USERNAME", "cora")
            .challenge_responses("ANSWER", "5")
            .send()
            .await
            .expect("the right answer");
    // issueTokens from DefineAuthChallenge is followed by MFA when the pool requires it.
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::MfaSetup), "{out:?}");
    assert!(out.authentication_result().is_none());
    t.shutdown().await;
}
