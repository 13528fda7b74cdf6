//! The hosted sign-in pages end to end, with real clients: Chromium (Debian's `/usr/bin/chromium`,
//! driven by `playwright-core`) signs up, confirms, signs in and passes an MFA page, and
//! `openid-client` v6 discovers the pool, builds the PKCE authorization request and redeems,
//! checks, uses and refreshes the tokens (`tests/node/hosted-ui.mjs`).
//!
//! Needs `npm ci --prefix tests/node` and `chromium` (`scripts/test` installs both). Screenshots
//! of the pages land in `$CARGO_TARGET_DIR/screenshots/hosted-ui` (or `target/…` in the
//! repository); the test prints the folder.

use std::path::{Path, PathBuf};

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, AuthFlowType, ExplicitAuthFlowsType, OAuthFlowType, SchemaAttributeType,
    SoftwareTokenMfaConfigType, SoftwareTokenMfaSettingsType, UserPoolMfaType, VerifiedAttributeType,
};
use cognate_sdk_tests::*;
use serde_json::Value;

use crate::srp_clients::{repo_root, run};

const CHROMIUM: &str = "/usr/bin/chromium";

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { repo_root().join(p) })
        .unwrap_or_else(|| repo_root().join("target"));
    target.join("screenshots/hosted-ui")
}

/// A port nobody listens on now (the script's callback server takes it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The RFC 6238 code of `secret` for the 30-second step `steps_back` steps ago.
fn totp_now(secret: &str, steps_back: u64) -> String {
    let now = (now_millis() / 1000) as u64;
    cognate_crypto::totp::code_at(secret, now - 30 * steps_back).expect("TOTP code")
}

/// A pool whose sign-up asks for an email (required) beside a plain username, with authenticator
/// apps as its MFA factor (`mfa`), a domain, and a public web client allowed the code flow.
async fn hosted_pool(c: &Cognate, name: &str, mfa: UserPoolMfaType, callback: &str, logout: &str) -> TestPool {
    let pool_id = c
        .idp
        .create_user_pool()
        .pool_name(name)
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .schema(
            SchemaAttributeType::builder()
                .name("email")
                .attribute_data_type(AttributeDataType::String)
                .required(true)
                .mutable(true)
                .build(),
        )
        .send()
        .await
        .expect("CreateUserPool")
        .user_pool()
        .and_then(|p| p.id())
        .expect("pool id")
        .to_string();
    c.idp
        .set_user_pool_mfa_config()
        .user_pool_id(&pool_id)
        .mfa_configuration(mfa)
        .software_token_mfa_configuration(SoftwareTokenMfaConfigType::builder().enabled(true).build())
        .send()
        .await
        .expect("SetUserPoolMfaConfig");
    c.idp
        .create_user_pool_domain()
        .user_pool_id(&pool_id)
        .domain(format!("{name}-e2e"))
        .send()
        .await
        .expect("CreateUserPoolDomain");
    let client_id = c
        .idp
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("web")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .supported_identity_providers("COGNITO")
        .allowed_o_auth_flows_user_pool_client(true)
        .allowed_o_auth_flows(OAuthFlowType::Code)
        .allowed_o_auth_scopes("openid")
        .allowed_o_auth_scopes("email")
        .allowed_o_auth_scopes("profile")
        .callback_urls(callback)
        .logout_urls(logout)
        .send()
        .await
        .expect("CreateUserPoolClient")
        .user_pool_client()
        .and_then(|c| c.client_id())
        .expect("client id")
        .to_string();
    TestPool { pool_id, client_id }
}

#[tokio::test]
async fn a_browser_signs_up_signs_in_and_an_oidc_client_gets_the_tokens() {
    if !Path::new(CHROMIUM).exists() {
        println!("SKIPPED: {CHROMIUM} is missing (install it with `apt-get install chromium`; scripts/test does)");
        return;
    }
    let dir = repo_root().join("tests/node");
    for module in ["playwright-core", "openid-client"] {
        assert!(
            dir.join("node_modules").join(module).is_dir(),
            "{}/node_modules/{module} is missing: run `npm ci --prefix tests/node` in the repository root",
            dir.display()
        );
    }

    let c = Cognate::start().await;
    let port = free_port();
    let callback = format!("http://localhost:{port}/cb");
    let logout = format!("http://localhost:{port}/signed-out");
    let pool = hosted_pool(&c, "hosted-ui", UserPoolMfaType::Optional, &callback, &logout).await;
    let (pool_id, client_id) = (pool.pool_id.clone(), pool.client_id.clone());
    // A pool that requires an authenticator app, and a user who has none yet.
    let strict = hosted_pool(&c, "hosted-ui-mfa", UserPoolMfaType::On, &callback, &logout).await;
    let setup_user = "setup-user";
    c.admin_user(&strict, setup_user, "setup-user@example.com").await;

    // A second user with an authenticator app, enrolled through the API. The enrolment uses the
    // previous step's code, so the browser's code (this step's) is still unused.
    let mfa_user = "totp-user";
    c.admin_user(&pool, mfa_user, "totp-user@example.com").await;
    let signed_in = c
        .idp
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", mfa_user)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("InitiateAuth");
    let access = signed_in
        .authentication_result()
        .and_then(|r| r.access_token())
        .expect("tokens before MFA is enabled");
    let secret = c
        .idp
        .associate_software_token()
        .access_token(access)
        .send()
        .await
        .expect("AssociateSoftwareToken")
        .secret_code()
        .expect("SecretCode")
        .to_string();
    c.idp
        .verify_software_token()
        .access_token(access)
        .user_code(totp_now(&secret, 1))
        .send()
        .await
        .expect("VerifySoftwareToken");
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

    let screenshots = screenshot_dir();
    let shots = screenshots.to_string_lossy().into_owned();
    let out = run(
        Path::new("node"),
        &[
            "hosted-ui.mjs",
            &c.endpoint,
            &pool_id,
            &client_id,
            &callback,
            &shots,
            mfa_user,
            PASSWORD,
            &secret,
            &strict.pool_id,
            &strict.client_id,
            setup_user,
        ],
        &dir,
    )
    .await;
    println!("screenshots: {shots}");
    let line = out.lines().last().unwrap_or_default();
    println!("{line}");
    let r: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    assert_eq!(r["ok"], true, "{r:#}");
    assert_eq!(r["issuer"], format!("{}/{pool_id}", c.endpoint));
    let id = &r["idToken"];
    assert_eq!(id["token_use"], "id");
    assert_eq!(id["nonce_matches"], true);
    assert_eq!(id["email_verified"], true, "the confirmation code verified the email");
    assert_eq!(id["at_hash"], true, "an OAuth ID token carries at_hash");
    assert!(id["email"].as_str().is_some_and(|e| e.ends_with("@example.com")));
    let username = id["cognito:username"].as_str().expect("cognito:username");
    assert_eq!(r["userInfo"]["username"], username);
    assert_eq!(r["userInfo"]["email"], id["email"]);
    assert_eq!(r["userInfo"]["email_verified"], "true", "userInfo has strings");
    assert_eq!(r["accessTokenScope"], "openid email");
    assert_eq!(r["refreshed"]["id_token"], true);
    assert_eq!(r["loggedOut"], true);
    assert!(r["wrongPassword"]["status"].as_u64().is_some_and(|s| s < 500));
    assert_eq!(r["wrongPassword"]["error"], "Incorrect username or password.");
    assert_eq!(r["mfa"]["username"], mfa_user);
    assert!(r["mfa"]["wrongCode"]["status"].as_u64().is_some_and(|s| s < 500));
    assert_eq!(r["mfa"]["wrongCode"]["error"], "Invalid code received for user");
    assert_eq!(r["mfaSetup"]["username"], setup_user);

    // The user the browser created is a confirmed user of the pool, with a verified email.
    let user = c
        .idp
        .admin_get_user()
        .user_pool_id(&pool_id)
        .username(username)
        .send()
        .await
        .expect("AdminGetUser");
    assert_eq!(user.user_status().map(|s| s.as_str()), Some("CONFIRMED"));
    assert_eq!(
        attr_value(user.user_attributes(), "email_verified").as_deref(),
        Some("true")
    );

    for name in ["sign-in", "sign-up", "confirm", "sign-in-error", "mfa", "mfa-setup"] {
        let png = screenshots.join(format!("{name}.png"));
        let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
        assert!(bytes.starts_with(b"\x89PNG"), "{} is not a PNG", png.display());
    }
}
