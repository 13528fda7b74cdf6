//! Remembered devices: NewDeviceMetadata in pools with a DeviceConfiguration, ConfirmDevice,
//! GetDevice, ListDevices, ForgetDevice, UpdateDeviceStatus and their admin twins, and the
//! sign-in on a remembered device (DEVICE_SRP_AUTH / DEVICE_PASSWORD_VERIFIER instead of MFA),
//! with the device side computed by `aws-cognito-srp` (Rust) and by amazon-cognito-identity-js
//! (Node, which remembers the device itself).

use std::path::Path;

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeOutput;
use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, AuthenticationResultType, ChallengeNameType, DeviceConfigurationType, DeviceRememberedStatusType,
    DeviceSecretVerifierConfigType, DeviceType, SmsConfigurationType, SmsMfaConfigType, SmsMfaSettingsType,
    SoftwareTokenMfaConfigType, UserPoolMfaType,
};
use cognate_sdk_tests::*;

use crate::mfa::{PHONE, totp_code};
use crate::protections::client_with;
use crate::srp_clients::{repo_root, run};

/// A pool that tracks devices, with a client that allows SRP (returned as the pool's client).
async fn device_pool(c: &Cognate, challenge_required: bool, on_prompt: bool) -> TestPool {
    let builder = c.pool_builder("devices").device_configuration(
        DeviceConfigurationType::builder()
            .challenge_required_on_new_device(challenge_required)
            .device_only_remembered_on_user_prompt(on_prompt)
            .build(),
    );
    let pool = c.finish_pool(builder).await;
    let client_id = client_with(c, &pool.pool_id, false).await;
    TestPool {
        pool_id: pool.pool_id,
        client_id,
    }
}

/// MFA required with software tokens (and SMS when `sms`).
async fn require_mfa(c: &Cognate, pool: &TestPool, sms: bool) {
    let mut req = c
        .idp
        .set_user_pool_mfa_config()
        .user_pool_id(&pool.pool_id)
        .mfa_configuration(UserPoolMfaType::On)
        .software_token_mfa_configuration(SoftwareTokenMfaConfigType::builder().enabled(true).build());
    if sms {
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
    req.send().await.expect("SetUserPoolMfaConfig");
}

/// The device side of ConfirmDevice and DEVICE_SRP_AUTH, as `aws-cognito-srp` computes it.
struct RustDevice {
    key: String,
    group_key: String,
    password: String,
}

/// ConfirmDevice for the device of `tokens`' NewDeviceMetadata, with a verifier from
/// `aws-cognito-srp`; returns the device and UserConfirmationNecessary.
async fn confirm(c: &Cognate, pool: &TestPool, tokens: &AuthenticationResultType, name: &str) -> (RustDevice, bool) {
    let meta = tokens.new_device_metadata().expect("NewDeviceMetadata");
    let key = meta.device_key().expect("DeviceKey").to_string();
    let group_key = meta.device_group_key().expect("DeviceGroupKey").to_string();
    let untracked = aws_cognito_srp::UntrackedDevice::new(&pool.pool_id, &group_key, &key);
    let v = aws_cognito_srp::SrpClient::new(untracked, &pool.client_id, None).get_password_verifier();
    let out = c
        .idp
        .confirm_device()
        .access_token(tokens.access_token().unwrap())
        .device_key(&key)
        .device_name(name)
        .device_secret_verifier_config(
            DeviceSecretVerifierConfigType::builder()
                .password_verifier(v.verifier)
                .salt(v.salt)
                .build(),
        )
        .send()
        .await
        .expect("ConfirmDevice");
    (
        RustDevice {
            key,
            group_key,
            password: v.password,
        },
        out.user_confirmation_necessary(),
    )
}

/// USER_SRP_AUTH naming `device`, up to the answer of PASSWORD_VERIFIER (DEVICE_KEY in both).
async fn srp_with_device(
    c: &Cognate,
    pool: &TestPool,
    username: &str,
    device_key: &str,
) -> Result<RespondToAuthChallengeOutput, AwsError> {
    let client = aws_cognito_srp::SrpClient::new(
        aws_cognito_srp::User::new(&pool.pool_id, username, PASSWORD),
        &pool.client_id,
        None,
    );
    let params = client.get_auth_parameters();
    let out = c
        .idp
        .initiate_auth()
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::UserSrpAuth)
        .auth_parameters("USERNAME", &params.username)
        .auth_parameters("SRP_A", &params.a)
        .auth_parameters("DEVICE_KEY", device_key)
        .send()
        .await
        .map_err(|e| aws_err::<(), _>(Err(e)))?;
    let p = out.challenge_parameters().expect("ChallengeParameters");
    let user_id = &p["USER_ID_FOR_SRP"];
    let v = client
        .verify(&p["SECRET_BLOCK"], user_id, &p["SALT"], &p["SRP_B"])
        .expect("client-side SRP");
    c.idp
        .respond_to_auth_challenge()
        .client_id(&pool.client_id)
        .challenge_name(ChallengeNameType::PasswordVerifier)
        .set_session(out.session().map(str::to_string))
        .challenge_responses("USERNAME", user_id)
        .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", v.password_claim_secret_block)
        .challenge_responses("PASSWORD_CLAIM_SIGNATURE", v.password_claim_signature)
        .challenge_responses("TIMESTAMP", v.timestamp)
        .challenge_responses("DEVICE_KEY", device_key)
        .send()
        .await
        .map_err(|e| aws_err::<(), _>(Err(e)))
}

/// Answers DEVICE_SRP_AUTH and DEVICE_PASSWORD_VERIFIER with `password` (the device's).
async fn device_srp(
    c: &Cognate,
    pool: &TestPool,
    username: &str,
    device: &RustDevice,
    password: &str,
    (name, session): (Option<&ChallengeNameType>, Option<&str>),
) -> Result<RespondToAuthChallengeOutput, AwsError> {
    assert_eq!(name, Some(&ChallengeNameType::DeviceSrpAuth));
    let tracked = aws_cognito_srp::TrackedDevice::new(&pool.pool_id, &device.group_key, &device.key, password);
    let client = aws_cognito_srp::SrpClient::new(tracked, &pool.client_id, None);
    let params = client.get_auth_parameters();
    let out = c
        .idp
        .respond_to_auth_challenge()
        .client_id(&pool.client_id)
        .challenge_name(ChallengeNameType::DeviceSrpAuth)
        .set_session(session.map(str::to_string))
        .challenge_responses("USERNAME", username)
        .challenge_responses("DEVICE_KEY", &params.device_key)
        .challenge_responses("SRP_A", &params.a)
        .send()
        .await
        .map_err(|e| aws_err::<(), _>(Err(e)))?;
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::DevicePasswordVerifier));
    let p = out.challenge_parameters().expect("ChallengeParameters");
    let v = client
        .verify(&p["SECRET_BLOCK"], &p["SALT"], &p["SRP_B"])
        .expect("client-side device SRP");
    c.idp
        .respond_to_auth_challenge()
        .client_id(&pool.client_id)
        .challenge_name(ChallengeNameType::DevicePasswordVerifier)
        .set_session(out.session().map(str::to_string))
        .challenge_responses("USERNAME", username)
        .challenge_responses("DEVICE_KEY", &device.key)
        .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", v.password_claim_secret_block)
        .challenge_responses("PASSWORD_CLAIM_SIGNATURE", v.password_claim_signature)
        .challenge_responses("TIMESTAMP", v.timestamp)
        .send()
        .await
        .map_err(|e| aws_err::<(), _>(Err(e)))
}

/// A user with a verified phone number and SMS as their MFA.
async fn sms_user(c: &Cognate, pool: &TestPool, username: &str) {
    c.admin_user(pool, username, &format!("{username}@example.com")).await;
    c.idp
        .admin_update_user_attributes()
        .user_pool_id(&pool.pool_id)
        .username(username)
        .user_attributes(attr("phone_number", PHONE))
        .user_attributes(attr("phone_number_verified", "true"))
        .send()
        .await
        .unwrap();
    c.idp
        .admin_set_user_mfa_preference()
        .user_pool_id(&pool.pool_id)
        .username(username)
        .sms_mfa_settings(SmsMfaSettingsType::builder().enabled(true).preferred_mfa(true).build())
        .send()
        .await
        .unwrap();
}

fn device_attr(d: &DeviceType, name: &str) -> Option<String> {
    attr_value(d.device_attributes(), name)
}

async fn get_device(c: &Cognate, access_token: &str, key: &str) -> DeviceType {
    c.idp
        .get_device()
        .access_token(access_token)
        .device_key(key)
        .send()
        .await
        .expect("GetDevice")
        .device()
        .cloned()
        .expect("Device")
}

#[tokio::test]
async fn sign_in_gives_a_new_device_only_where_the_pool_tracks_devices() {
    let c = Cognate::start().await;
    let plain = c.create_pool("no-devices").await;
    c.admin_user(&plain, "ann", "ann@example.com").await;
    let tokens = c.sign_in(&plain, "ann", PASSWORD).await;
    assert!(tokens.new_device_metadata().is_none());
    let access = c.verify_jwt(&plain.pool_id, tokens.access_token().unwrap()).await;
    assert!(access.claims.get("device_key").is_none());

    let pool = device_pool(&c, false, false).await;
    c.admin_user(&pool, "bob", "bob@example.com").await;
    let described = c
        .idp
        .describe_user_pool()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .unwrap();
    let dc = described
        .user_pool()
        .unwrap()
        .device_configuration()
        .expect("DeviceConfiguration");
    assert!(!dc.challenge_required_on_new_device() && !dc.device_only_remembered_on_user_prompt());
    let tokens = c.sign_in(&pool, "bob", PASSWORD).await;
    let meta = tokens.new_device_metadata().expect("NewDeviceMetadata");
    let key = meta.device_key().unwrap();
    let (region, uuid) = key.split_once('_').expect("REGION_uuid");
    assert_eq!(region, REGION);
    assert!(is_uuid(uuid), "{key}");
    let group = meta.device_group_key().unwrap();
    assert!(group.starts_with('-') && group.len() == 10, "{group}");
    let access = c.verify_jwt(&pool.pool_id, tokens.access_token().unwrap()).await;
    assert_eq!(access.claims["device_key"], key);
    // Each sign-in without a DEVICE_KEY is a new device.
    let again = c.sign_in(&pool, "bob", PASSWORD).await;
    assert_ne!(again.new_device_metadata().unwrap().device_key(), Some(key));
}

#[tokio::test]
async fn device_operations_and_their_refusals() {
    let c = Cognate::start().await;
    let pool = device_pool(&c, true, true).await;
    c.admin_user(&pool, "dora", "dora@example.com").await;
    let tokens = c.sign_in(&pool, "dora", PASSWORD).await;
    let access = tokens.access_token().unwrap().to_string();
    let first_key = tokens.new_device_metadata().unwrap().device_key().unwrap().to_string();

    // Handed out but not confirmed: not listed, not found.
    let listed = c.idp.list_devices().access_token(&access).send().await.unwrap();
    assert!(listed.devices().is_empty());
    expect_err_msg(
        c.idp
            .get_device()
            .access_token(&access)
            .device_key(&first_key)
            .send()
            .await,
        "ResourceNotFoundException",
        "Device does not exist.",
    );
    // A key nobody was given cannot be confirmed.
    expect_err_msg(
        c.idp
            .confirm_device()
            .access_token(&access)
            .device_key("us-east-1_00000000-0000-4000-8000-000000000000")
            .device_secret_verifier_config(
                DeviceSecretVerifierConfigType::builder()
                    .password_verifier("AQ==")
                    .salt("AQ==")
                    .build(),
            )
            .send()
            .await,
        "ResourceNotFoundException",
        "Device does not exist.",
    );

    // Confirmed: on user prompt, so not remembered until the user says so.
    let (first, necessary) = confirm(&c, &pool, &tokens, "laptop").await;
    assert!(
        necessary,
        "UserConfirmationNecessary with DeviceOnlyRememberedOnUserPrompt"
    );
    let d = get_device(&c, &access, &first.key).await;
    assert_eq!(d.device_key(), Some(first.key.as_str()));
    assert_eq!(device_attr(&d, "device_status").as_deref(), Some("not_remembered"));
    assert_eq!(device_attr(&d, "device_name").as_deref(), Some("laptop"));
    assert!(d.device_create_date().is_some() && d.device_last_modified_date().is_some());
    assert!(d.device_last_authenticated_date().is_none());

    c.idp
        .update_device_status()
        .access_token(&access)
        .device_key(&first.key)
        .device_remembered_status(DeviceRememberedStatusType::Remembered)
        .send()
        .await
        .expect("UpdateDeviceStatus");
    let d = get_device(&c, &access, &first.key).await;
    assert_eq!(device_attr(&d, "device_status").as_deref(), Some("remembered"));

    // A second device; the admin side sees both, one page at a time.
    let second_tokens = c.sign_in(&pool, "dora", PASSWORD).await;
    let (second, _) = confirm(&c, &pool, &second_tokens, "phone").await;
    let all = c
        .idp
        .admin_list_devices()
        .user_pool_id(&pool.pool_id)
        .username("dora")
        .send()
        .await
        .unwrap();
    let mut keys: Vec<&str> = all.devices().iter().filter_map(|d| d.device_key()).collect();
    keys.sort_unstable();
    let mut expected = vec![first.key.as_str(), second.key.as_str()];
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert!(all.pagination_token().is_none());
    let page1 = c
        .idp
        .list_devices()
        .access_token(&access)
        .limit(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page1.devices().len(), 1);
    let token = page1.pagination_token().expect("PaginationToken");
    let page2 = c
        .idp
        .list_devices()
        .access_token(&access)
        .limit(1)
        .pagination_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(page2.devices().len(), 1);
    assert!(page2.pagination_token().is_none());
    assert_ne!(page1.devices()[0].device_key(), page2.devices()[0].device_key());

    let admin = c
        .idp
        .admin_get_device()
        .user_pool_id(&pool.pool_id)
        .username("dora")
        .device_key(&second.key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        device_attr(admin.device().unwrap(), "device_name").as_deref(),
        Some("phone")
    );
    c.idp
        .admin_update_device_status()
        .user_pool_id(&pool.pool_id)
        .username("dora")
        .device_key(&first.key)
        .device_remembered_status(DeviceRememberedStatusType::NotRemembered)
        .send()
        .await
        .expect("AdminUpdateDeviceStatus");
    let d = get_device(&c, &access, &first.key).await;
    assert_eq!(device_attr(&d, "device_status").as_deref(), Some("not_remembered"));

    // Another user's device is not found through this user.
    c.admin_user(&pool, "eve", "eve@example.com").await;
    let eve = c.sign_in(&pool, "eve", PASSWORD).await;
    expect_err_msg(
        c.idp
            .get_device()
            .access_token(eve.access_token().unwrap())
            .device_key(&first.key)
            .send()
            .await,
        "ResourceNotFoundException",
        "Device does not exist.",
    );

    // Forgotten, twice.
    c.idp
        .forget_device()
        .access_token(&access)
        .device_key(&first.key)
        .send()
        .await
        .expect("ForgetDevice");
    expect_err_msg(
        c.idp
            .forget_device()
            .access_token(&access)
            .device_key(&first.key)
            .send()
            .await,
        "ResourceNotFoundException",
        "Device does not exist.",
    );
    c.idp
        .admin_forget_device()
        .user_pool_id(&pool.pool_id)
        .username("dora")
        .device_key(&second.key)
        .send()
        .await
        .expect("AdminForgetDevice");
    let listed = c.idp.list_devices().access_token(&access).send().await.unwrap();
    assert!(listed.devices().is_empty());

    // AWS's request validation.
    let bad_key = expect_err(
        c.idp
            .get_device()
            .access_token(&access)
            .device_key("no-underscore")
            .send()
            .await,
        "InvalidParameterException",
    );
    assert!(
        bad_key.contains("Value 'no-underscore' at 'deviceKey' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-f-]+"),
        "{bad_key}"
    );
    let bad_status = expect_err(
        c.idp
            .update_device_status()
            .access_token(&access)
            .device_key(&second.key)
            .device_remembered_status(DeviceRememberedStatusType::from("forgotten"))
            .send()
            .await,
        "InvalidParameterException",
    );
    assert!(
        bad_status.contains("Member must satisfy enum value set: [remembered, not_remembered]"),
        "{bad_status}"
    );
    let bad_limit = expect_err(
        c.idp.list_devices().access_token(&access).limit(61).send().await,
        "InvalidParameterException",
    );
    assert!(
        bad_limit.contains("Member must have value less than or equal to 60"),
        "{bad_limit}"
    );
    expect_err_msg(
        c.idp.list_devices().access_token("not-a-token").send().await,
        "NotAuthorizedException",
        "Invalid Access Token",
    );
}

#[tokio::test]
async fn a_remembered_device_signs_in_without_mfa() {
    let c = Cognate::start_with_clock().await;
    let pool = device_pool(&c, true, false).await;
    require_mfa(&c, &pool, false).await;
    c.admin_user(&pool, "mia", "mia@example.com").await;

    // First sign-in: MFA_SETUP is due, so enrol a token with an admin-issued sign-in instead.
    let out = c
        .idp
        .admin_initiate_auth()
        .user_pool_id(&pool.pool_id)
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::AdminUserPasswordAuth)
        .auth_parameters("USERNAME", "mia")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .unwrap();
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::MfaSetup));
    let assoc = c
        .idp
        .associate_software_token()
        .session(out.session().unwrap())
        .send()
        .await
        .unwrap();
    let secret = assoc.secret_code().unwrap().to_string();
    let verified = c
        .idp
        .verify_software_token()
        .session(assoc.session().unwrap())
        .user_code(totp_code(&c, &secret, 0))
        .send()
        .await
        .unwrap();
    crate::mfa::next_step(&c);
    let tokens = c
        .idp
        .respond_to_auth_challenge()
        .client_id(&pool.client_id)
        .challenge_name(ChallengeNameType::MfaSetup)
        .session(verified.session().unwrap())
        .challenge_responses("USERNAME", "mia")
        .send()
        .await
        .expect("MFA_SETUP answered")
        .authentication_result()
        .cloned()
        .expect("tokens");

    let (device, necessary) = confirm(&c, &pool, &tokens, "desk").await;
    assert!(!necessary, "always remembered");
    let access = tokens.access_token().unwrap().to_string();
    assert_eq!(
        device_attr(&get_device(&c, &access, &device.key).await, "device_status").as_deref(),
        Some("remembered")
    );

    // SRP naming the remembered device: DEVICE_SRP_AUTH instead of SOFTWARE_TOKEN_MFA.
    let challenge = srp_with_device(&c, &pool, "mia", &device.key).await.unwrap();
    assert_eq!(challenge.challenge_name(), Some(&ChallengeNameType::DeviceSrpAuth));
    let out = device_srp(
        &c,
        &pool,
        "mia",
        &device,
        &device.password,
        (challenge.challenge_name(), challenge.session()),
    )
    .await
    .expect("device SRP");
    let tokens = out.authentication_result().expect("tokens without MFA");
    assert!(tokens.new_device_metadata().is_none(), "a known device gets no new key");
    let claims = c.verify_jwt(&pool.pool_id, tokens.access_token().unwrap()).await.claims;
    assert_eq!(claims["device_key"], device.key.as_str());
    let d = get_device(&c, &access, &device.key).await;
    assert!(d.device_last_authenticated_date().is_some());

    // The wrong device password fails.
    let challenge = srp_with_device(&c, &pool, "mia", &device.key).await.unwrap();
    let err = device_srp(
        &c,
        &pool,
        "mia",
        &device,
        "not-the-device-password",
        (challenge.challenge_name(), challenge.session()),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code, "NotAuthorizedException");
    assert_eq!(err.message.as_deref(), Some("Incorrect username or password."));

    // USER_PASSWORD_AUTH with the device key: the device stands in for MFA there too.
    let out = c
        .idp
        .initiate_auth()
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "mia")
        .auth_parameters("PASSWORD", PASSWORD)
        .auth_parameters("DEVICE_KEY", &device.key)
        .send()
        .await
        .unwrap();
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::DeviceSrpAuth));

    // Not remembered any more: MFA first, then the device proves itself.
    c.idp
        .update_device_status()
        .access_token(&access)
        .device_key(&device.key)
        .device_remembered_status(DeviceRememberedStatusType::NotRemembered)
        .send()
        .await
        .unwrap();
    let out = srp_with_device(&c, &pool, "mia", &device.key).await.unwrap();
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::SoftwareTokenMfa));
    let out = c
        .idp
        .respond_to_auth_challenge()
        .client_id(&pool.client_id)
        .challenge_name(ChallengeNameType::SoftwareTokenMfa)
        .session(out.session().unwrap())
        .challenge_responses("USERNAME", "mia")
        .challenge_responses("SOFTWARE_TOKEN_MFA_CODE", totp_code(&c, &secret, 0))
        .send()
        .await
        .expect("TOTP");
    let out = device_srp(
        &c,
        &pool,
        "mia",
        &device,
        &device.password,
        (out.challenge_name(), out.session()),
    )
    .await
    .expect("device SRP after MFA");
    let refresh = out
        .authentication_result()
        .unwrap()
        .refresh_token()
        .unwrap()
        .to_string();

    // The refresh token belongs to the device.
    expect_err_msg(
        c.refresh(&pool, &refresh).await,
        "NotAuthorizedException",
        "Invalid Refresh Token",
    );
    let refreshed = c
        .idp
        .initiate_auth()
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", &refresh)
        .auth_parameters("DEVICE_KEY", &device.key)
        .send()
        .await
        .expect("refresh on the device");
    let claims = c
        .verify_jwt(
            &pool.pool_id,
            refreshed.authentication_result().unwrap().access_token().unwrap(),
        )
        .await
        .claims;
    assert_eq!(claims["device_key"], device.key.as_str());
    c.idp
        .get_tokens_from_refresh_token()
        .client_id(&pool.client_id)
        .refresh_token(&refresh)
        .device_key(&device.key)
        .send()
        .await
        .expect("GetTokensFromRefreshToken on the device");

    // Forgotten: its refresh tokens stop working and a sign-in naming it is refused.
    c.idp
        .forget_device()
        .access_token(&access)
        .device_key(&device.key)
        .send()
        .await
        .unwrap();
    expect_err_msg(
        c.idp
            .get_tokens_from_refresh_token()
            .client_id(&pool.client_id)
            .refresh_token(&refresh)
            .device_key(&device.key)
            .send()
            .await,
        "NotAuthorizedException",
        "Invalid Refresh Token",
    );
    let err = srp_with_device(&c, &pool, "mia", &device.key).await.unwrap_err();
    assert_eq!(err.code, "ResourceNotFoundException");
    assert_eq!(err.message.as_deref(), Some("Device does not exist."));
}

#[tokio::test]
async fn deleting_a_user_deletes_their_devices() {
    let c = Cognate::start().await;
    let pool = device_pool(&c, false, false).await;
    c.admin_user(&pool, "olaf", "olaf@example.com").await;
    let tokens = c.sign_in(&pool, "olaf", PASSWORD).await;
    let (device, _) = confirm(&c, &pool, &tokens, "tv").await;
    c.idp
        .admin_delete_user()
        .user_pool_id(&pool.pool_id)
        .username("olaf")
        .send()
        .await
        .unwrap();
    c.admin_user(&pool, "olaf", "olaf@example.com").await;
    let listed = c
        .idp
        .admin_list_devices()
        .user_pool_id(&pool.pool_id)
        .username("olaf")
        .send()
        .await
        .unwrap();
    assert!(listed.devices().is_empty());
    let out = c
        .idp
        .initiate_auth()
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "olaf")
        .auth_parameters("PASSWORD", PASSWORD)
        .auth_parameters("DEVICE_KEY", &device.key)
        .send()
        .await;
    expect_err_msg(out, "ResourceNotFoundException", "Device does not exist.");
}

/// amazon-cognito-identity-js remembers the device after an SMS-MFA sign-in (its own
/// ConfirmDevice with its own verifier), and signs in again through DEVICE_SRP_AUTH with no MFA.
#[tokio::test]
async fn amazon_cognito_identity_js_remembers_a_device_and_skips_mfa() {
    let dir = repo_root().join("tests/node");
    assert!(
        dir.join("node_modules/amazon-cognito-identity-js").is_dir(),
        "{}/node_modules is missing: run `npm ci --prefix tests/node` in the repository root",
        dir.display()
    );
    let c = Cognate::start().await;
    let pool = device_pool(&c, true, true).await;
    require_mfa(&c, &pool, true).await;
    sms_user(&c, &pool, "noor").await;
    let out = run(
        Path::new("node"),
        &[
            "devices-identity-js.mjs",
            &c.endpoint,
            &pool.pool_id,
            &pool.client_id,
            "noor",
            PASSWORD,
            PHONE,
        ],
        &dir,
    )
    .await;
    assert_eq!(out.trim().lines().last(), Some("ok"), "{out}");
    let devices = c
        .idp
        .admin_list_devices()
        .user_pool_id(&pool.pool_id)
        .username("noor")
        .send()
        .await
        .unwrap();
    assert_eq!(devices.devices().len(), 1);
    let d = &devices.devices()[0];
    assert_eq!(device_attr(d, "device_status").as_deref(), Some("remembered"));
    assert!(d.device_last_authenticated_date().is_some());
}

/// The triggers of a device sign-in: `newDeviceUsed` in PostAuthentication when a new device
/// key is handed out, and PreTokenGeneration as `TokenGeneration_AuthenticateDevice` after
/// DEVICE_PASSWORD_VERIFIER.
#[tokio::test]
async fn device_sign_in_triggers() {
    use cognate_sdk_tests::triggers::{POOL_PROPERTIES, TriggerApp};
    let t = TriggerApp::start_edited("triggers", |yml| {
        yml.replace(
            POOL_PROPERTIES,
            "DeviceConfiguration:\n          ChallengeRequiredOnNewDevice: true\n          DeviceOnlyRememberedOnUserPrompt: false",
        )
    })
    .await;
    t.c.admin_user(&t.pool, "tia", "tia@example.com").await;
    let tokens = t.c.sign_in(&t.pool, "tia", PASSWORD).await;
    let post = t.event("PostAuthentication_Authentication");
    assert_eq!(post["request"]["newDeviceUsed"], serde_json::json!(true));
    let (device, _) = confirm(&t.c, &t.pool, &tokens, "kiosk").await;

    t.clear();
    let out =
        t.c.idp
            .initiate_auth()
            .client_id(&t.pool.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "tia")
            .auth_parameters("PASSWORD", PASSWORD)
            .auth_parameters("DEVICE_KEY", &device.key)
            .send()
            .await
            .unwrap();
    let out = device_srp(
        &t.c,
        &t.pool,
        "tia",
        &device,
        &device.password,
        (out.challenge_name(), out.session()),
    )
    .await
    .expect("device SRP");
    assert!(out.authentication_result().is_some());
    assert_eq!(
        t.sources(),
        [
            "PreAuthentication_Authentication",
            "TokenGeneration_AuthenticateDevice",
            "PostAuthentication_Authentication"
        ]
    );
    let post = t.event("PostAuthentication_Authentication");
    assert_eq!(post["request"]["newDeviceUsed"], serde_json::json!(false));
    t.shutdown().await;
}

/// Amplify v6: a sign-in with SMS MFA confirms the device, `rememberDevice` remembers it, and
/// the next sign-in goes through DEVICE_SRP_AUTH without MFA (`tests/node/amplify-devices.mjs`).
#[tokio::test]
async fn amplify_remembers_a_device_and_skips_mfa() {
    let dir = repo_root().join("tests/node");
    assert!(
        dir.join("node_modules/aws-amplify").is_dir(),
        "{}/node_modules is missing: run `npm ci --prefix tests/node` in the repository root",
        dir.display()
    );
    let c = Cognate::start().await;
    let pool = device_pool(&c, true, true).await;
    require_mfa(&c, &pool, true).await;
    sms_user(&c, &pool, "ada").await;
    let out = run(
        Path::new("node"),
        &[
            "amplify-devices.mjs",
            &c.endpoint,
            &pool.pool_id,
            &pool.client_id,
            "ada",
            PASSWORD,
            PHONE,
        ],
        &dir,
    )
    .await;
    assert_eq!(out.trim().lines().last(), Some("ok"), "{out}");
}
