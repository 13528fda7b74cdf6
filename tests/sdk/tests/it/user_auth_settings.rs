//! The settings of choice-based sign-in, checked as AWS checks them (SignInPolicy,
//! UserPoolTier and FeatureUnavailableInTierException, WebAuthnConfiguration), set from a
//! serverless.yml; GetUserAuthFactors and AdminGetUserAuthFactors; and the triggers an email
//! code sign-in runs.

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AuthFactorType, ChallengeNameType, EmailMfaSettingsType, UserVerificationType, WebAuthnConfigurationType,
};
use cognate_sdk_tests::triggers::{TriggerApp, with_pool_properties};
use cognate_sdk_tests::*;
use serde_json::{Value, json};

use crate::user_auth::{passwordless_pool, user_auth, user_auth_client};

/// Calls `op` with `body`; expects an error and returns (`__type`, message).
async fn call_err(c: &Cognate, op: &str, body: Value) -> (String, String) {
    let resp = c
        .raw(&format!("AWSCognitoIdentityProviderService.{op}"), body.to_string())
        .await;
    assert_eq!(resp.status(), 400, "{op} should fail");
    let v: Value = resp.json().await.unwrap();
    (
        v["__type"].as_str().unwrap_or_default().to_owned(),
        v["message"].as_str().unwrap_or_default().to_owned(),
    )
}

fn policy(factors: Value) -> Value {
    json!({"SignInPolicy": {"AllowedFirstAuthFactors": factors}})
}

#[tokio::test]
async fn sign_in_policy_is_checked_as_aws_checks_it() {
    let c = Cognate::start().await;
    let create = |factors: Value| json!({"PoolName": "p", "Policies": policy(factors)});
    let (t, m) = call_err(&c, "CreateUserPool", create(json!(["EMAIL_OTP"]))).await;
    assert_eq!(t, "InvalidParameterException");
    assert!(m.contains("PASSWORD"), "{m}");
    let (t, m) = call_err(&c, "CreateUserPool", create(json!(["PASSWORD", "SOFTWARE_TOKEN"]))).await;
    assert_eq!(
        (t.as_str(), m.contains("SOFTWARE_TOKEN")),
        ("InvalidParameterException", true)
    );
    let (_, m) = call_err(&c, "CreateUserPool", create(json!(["PASSWORD", "MAGIC_LINK"]))).await;
    assert_eq!(
        m,
        "1 validation error detected: Value '[PASSWORD, MAGIC_LINK]' at 'policies.signInPolicy.allowedFirstAuthFactors' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [PASSWORD, EMAIL_OTP, SMS_OTP, WEB_AUTHN, SOFTWARE_TOKEN]]"
    );
    let (_, m) = call_err(&c, "CreateUserPool", create(json!([]))).await;
    assert!(m.contains("Member must have length greater than or equal to 1"), "{m}");

    // Kept as given, and by an UpdateUserPool that leaves Policies out.
    let out = c
        .call(
            "CreateUserPool",
            create(json!(["PASSWORD", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN"])),
        )
        .await;
    let id = out["UserPool"]["Id"].as_str().unwrap().to_owned();
    assert_eq!(out["UserPool"]["UserPoolTier"], "ESSENTIALS");
    c.call(
        "UpdateUserPool",
        json!({"UserPoolId": id, "DeletionProtection": "INACTIVE"}),
    )
    .await;
    let d = c.call("DescribeUserPool", json!({"UserPoolId": id})).await;
    assert_eq!(
        d["UserPool"]["Policies"]["SignInPolicy"]["AllowedFirstAuthFactors"],
        json!(["PASSWORD", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN"])
    );
    c.shutdown().await;
}

#[tokio::test]
async fn lite_pools_refuse_passwordless_and_email_mfa() {
    let c = Cognate::start().await;
    let body =
        json!({"PoolName": "lite", "UserPoolTier": "LITE", "Policies": policy(json!(["PASSWORD", "EMAIL_OTP"]))});
    let (t, m) = call_err(&c, "CreateUserPool", body).await;
    assert_eq!(t, "FeatureUnavailableInTierException");
    assert_eq!(
        m,
        "The following features need to be disabled for the LITE pricing tier configured: Passwordless Sign-In"
    );
    let (t, m) = call_err(&c, "CreateUserPool", json!({"PoolName": "x", "UserPoolTier": "GOLD"})).await;
    assert_eq!(t, "InvalidParameterException");
    assert!(m.contains("[LITE, ESSENTIALS, PLUS]"), "{m}");

    let out = c
        .call("CreateUserPool", json!({"PoolName": "lite", "UserPoolTier": "LITE"}))
        .await;
    let id = out["UserPool"]["Id"].as_str().unwrap().to_owned();
    let body = json!({"UserPoolId": id, "MfaConfiguration": "OPTIONAL", "EmailMfaConfiguration": {"Message": "{####}", "Subject": "s"}});
    let (t, _) = call_err(&c, "SetUserPoolMfaConfig", body).await;
    assert_eq!(t, "FeatureUnavailableInTierException");
    // Moving to ESSENTIALS makes both possible.
    c.call(
        "UpdateUserPool",
        json!({"UserPoolId": id, "UserPoolTier": "ESSENTIALS", "Policies": policy(json!(["PASSWORD", "EMAIL_OTP"]))}),
    )
    .await;
    c.shutdown().await;
}

#[tokio::test]
async fn web_authn_configuration_is_set_checked_and_read_back() {
    let c = Cognate::start().await;
    let pool = c.create_pool("passkeys").await;
    let out = c
        .idp
        .set_user_pool_mfa_config()
        .user_pool_id(&pool.pool_id)
        .web_authn_configuration(
            WebAuthnConfigurationType::builder()
                .relying_party_id("auth.example.com")
                .user_verification(UserVerificationType::Required)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let w = out.web_authn_configuration().unwrap();
    assert_eq!(w.relying_party_id(), Some("auth.example.com"));
    assert_eq!(w.user_verification(), Some(&UserVerificationType::Required));
    let got = c
        .idp
        .get_user_pool_mfa_config()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        got.web_authn_configuration().unwrap().relying_party_id(),
        Some("auth.example.com")
    );
    // UpdateUserPool does not take it, so it keeps it.
    c.call("UpdateUserPool", json!({"UserPoolId": pool.pool_id})).await;
    let got = c
        .idp
        .get_user_pool_mfa_config()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .unwrap();
    assert!(got.web_authn_configuration().is_some());

    let bad = json!({"UserPoolId": pool.pool_id, "WebAuthnConfiguration": {"UserVerification": "always"}});
    let (t, m) = call_err(&c, "SetUserPoolMfaConfig", bad).await;
    assert_eq!(t, "InvalidParameterException");
    assert_eq!(
        m,
        "1 validation error detected: Value 'always' at 'webAuthnConfiguration.userVerification' failed to satisfy constraint: Member must satisfy enum value set: [required, preferred]"
    );
    let long = "a".repeat(128);
    let bad = json!({"UserPoolId": pool.pool_id, "WebAuthnConfiguration": {"RelyingPartyId": long}});
    let (_, m) = call_err(&c, "SetUserPoolMfaConfig", bad).await;
    assert!(m.contains("Member must have length less than or equal to 127"), "{m}");
    c.shutdown().await;
}

#[tokio::test]
async fn user_auth_factors_list_what_the_user_can_sign_in_with() {
    let c = Cognate::start().await;
    let pool = passwordless_pool(&c, &[AuthFactorType::Password, AuthFactorType::EmailOtp], true).await;
    c.admin_user(&pool, "fay", "fay@example.com").await;
    let out = user_auth(
        &c,
        &pool,
        &[
            ("USERNAME", "fay"),
            ("PREFERRED_CHALLENGE", "PASSWORD"),
            ("PASSWORD", PASSWORD),
        ],
    )
    .await
    .unwrap();
    let access = out.authentication_result().unwrap().access_token().unwrap().to_owned();
    let f = c
        .idp
        .get_user_auth_factors()
        .access_token(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(f.username(), "fay");
    let configured: Vec<&str> = f.configured_user_auth_factors().iter().map(|a| a.as_str()).collect();
    assert_eq!(configured, ["PASSWORD", "EMAIL_OTP"]);
    assert!(f.user_mfa_setting_list().is_empty());
    assert!(f.preferred_mfa_setting().is_none());

    // With email MFA turned on the code is an MFA factor, not a first one.
    c.call(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool.pool_id, "MfaConfiguration": "OPTIONAL", "EmailMfaConfiguration": {}}),
    )
    .await;
    c.idp
        .admin_set_user_mfa_preference()
        .user_pool_id(&pool.pool_id)
        .username("fay")
        .email_mfa_settings(
            EmailMfaSettingsType::builder()
                .enabled(true)
                .preferred_mfa(true)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let f = c
        .idp
        .admin_get_user_auth_factors()
        .user_pool_id(&pool.pool_id)
        .username("fay")
        .send()
        .await
        .unwrap();
    let configured: Vec<&str> = f.configured_user_auth_factors().iter().map(|a| a.as_str()).collect();
    assert_eq!(configured, ["PASSWORD", "EMAIL_OTP"]);
    let mfa: Vec<&str> = f.user_mfa_setting_list().iter().map(String::as_str).collect();
    assert_eq!(mfa, ["EMAIL_OTP"]);
    assert_eq!(f.preferred_mfa_setting(), Some("EMAIL_OTP"));

    let err = c.idp.get_user_auth_factors().access_token("not-a-token").send().await;
    expect_err(err, "NotAuthorizedException");
    c.shutdown().await;
}

/// SignInPolicy, UserPoolTier and the WebAuthn properties from a serverless.yml (whose pool
/// sends email with SES); then an email code sign-in runs PreAuthentication, CustomMessage,
/// PreTokenGeneration and PostAuthentication.
#[tokio::test]
async fn email_code_sign_in_from_a_serverless_yml_runs_the_triggers() {
    let props = "UserPoolTier: ESSENTIALS
Policies:
  SignInPolicy:
    AllowedFirstAuthFactors: [PASSWORD, EMAIL_OTP]
WebAuthnRelyingPartyID: auth.example.com
WebAuthnUserVerification: preferred";
    let t = TriggerApp::start_edited("triggers", |y| with_pool_properties(y, props)).await;
    let c = &t.c;
    let d = c.call("DescribeUserPool", json!({"UserPoolId": t.pool.pool_id})).await;
    assert_eq!(
        d["UserPool"]["Policies"]["SignInPolicy"]["AllowedFirstAuthFactors"],
        json!(["PASSWORD", "EMAIL_OTP"])
    );
    let m = c
        .call("GetUserPoolMfaConfig", json!({"UserPoolId": t.pool.pool_id}))
        .await;
    assert_eq!(
        m["WebAuthnConfiguration"],
        json!({"RelyingPartyId": "auth.example.com", "UserVerification": "preferred"})
    );
    let pool = TestPool {
        client_id: user_auth_client(c, &t.pool.pool_id).await,
        ..t.pool.clone()
    };
    c.admin_user(&pool, "gus", "gus@example.com").await;
    t.clear();
    let out = user_auth(c, &pool, &[("USERNAME", "gus"), ("PREFERRED_CHALLENGE", "EMAIL_OTP")])
        .await
        .unwrap();
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::EmailOtp));
    assert_eq!(
        t.sources(),
        ["PreAuthentication_Authentication", "CustomMessage_Authentication"]
    );
    let code = c.last_code("gus@example.com").await;
    let done = c
        .idp
        .respond_to_auth_challenge()
        .client_id(&pool.client_id)
        .challenge_name(ChallengeNameType::EmailOtp)
        .set_session(out.session().map(str::to_owned))
        .challenge_responses("USERNAME", "gus")
        .challenge_responses("EMAIL_OTP_CODE", code)
        .send()
        .await
        .unwrap();
    assert!(done.authentication_result().is_some());
    let mut sources = t.sources();
    sources.sort();
    assert_eq!(
        sources,
        [
            "CustomMessage_Authentication",
            "PostAuthentication_Authentication",
            "PreAuthentication_Authentication",
            "TokenGeneration_Authentication"
        ]
    );
    t.shutdown().await;
}
