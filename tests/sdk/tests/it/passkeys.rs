//! Passkeys, registration and management: StartWebAuthnRegistration and
//! CompleteWebAuthnRegistration with a software authenticator (a real ES256 key, attestation
//! `none` and `packed`), ListWebAuthnCredentials with pages, DeleteWebAuthnCredential, the
//! pool's relying party id, and the refusals (passkeys not allowed, no relying party, expired
//! or reused challenge, another app client, origin, relying party, user verification, 20 a
//! user). Sign-in with them is `passkey_sign_in.rs`.

use aws_smithy_types::{Document, Number};
use cognate_crypto::webauthn::authenticator::{Attestation, SoftwareAuthenticator};
use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AuthFactorType, UserVerificationType, WebAuthnConfigurationType, WebAuthnCredentialDescription,
};
use cognate_sdk_tests::*;
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::user_auth::{passwordless_pool, user_auth, user_auth_client};

/// The relying party id the test pools configure, and the page origin that goes with it.
pub(crate) const RP: &str = "app.example.com";
pub(crate) const ORIGIN: &str = "https://app.example.com";

pub(crate) fn to_json(d: &Document) -> Value {
    match d {
        Document::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Document::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Document::Number(Number::PosInt(n)) => json!(n),
        Document::Number(Number::NegInt(n)) => json!(n),
        Document::Number(Number::Float(f)) => json!(f),
        Document::String(s) => json!(s),
        Document::Bool(b) => json!(b),
        Document::Null => Value::Null,
    }
}

pub(crate) fn to_document(v: &Value) -> Document {
    match v {
        Value::Object(m) => Document::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), to_document(v)))
                .collect::<HashMap<_, _>>(),
        ),
        Value::Array(a) => Document::Array(a.iter().map(to_document).collect()),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Document::Number(Number::PosInt(u)),
            (None, Some(i)) => Document::Number(Number::NegInt(i)),
            _ => Document::Number(Number::Float(n.as_f64().unwrap_or_default())),
        },
        Value::String(s) => Document::String(s.clone()),
        Value::Bool(b) => Document::Bool(*b),
        Value::Null => Document::Null,
    }
}

/// Sets the pool's WebAuthnConfiguration.
pub(crate) async fn set_relying_party(c: &Cognate, pool: &TestPool, rp_id: &str, verification: UserVerificationType) {
    c.idp
        .set_user_pool_mfa_config()
        .user_pool_id(&pool.pool_id)
        .web_authn_configuration(
            WebAuthnConfigurationType::builder()
                .relying_party_id(rp_id)
                .user_verification(verification)
                .build(),
        )
        .send()
        .await
        .expect("SetUserPoolMfaConfig");
}

/// A pool allowing passwords and passkeys, relying party [`RP`], and a USER_AUTH client.
pub(crate) async fn passkey_pool(c: &Cognate) -> TestPool {
    let pool = passwordless_pool(c, &[AuthFactorType::Password, AuthFactorType::WebAuthn], false).await;
    set_relying_party(c, &pool, RP, UserVerificationType::Preferred).await;
    pool
}

/// The access token of a password sign-in (USER_AUTH, PREFERRED_CHALLENGE=PASSWORD).
pub(crate) async fn password_access(c: &Cognate, pool: &TestPool, username: &str) -> String {
    let out = user_auth(
        c,
        pool,
        &[
            ("USERNAME", username),
            ("PREFERRED_CHALLENGE", "PASSWORD"),
            ("PASSWORD", PASSWORD),
        ],
    )
    .await
    .expect("password sign-in");
    out.authentication_result()
        .and_then(|r| r.access_token())
        .expect("tokens")
        .to_owned()
}

pub(crate) async fn start(c: &Cognate, access: &str) -> Result<Value, AwsError> {
    c.idp
        .start_web_authn_registration()
        .access_token(access)
        .send()
        .await
        .map(|o| to_json(o.credential_creation_options()))
        .map_err(|e| aws_err::<(), _>(Err(e)))
}

pub(crate) async fn complete(c: &Cognate, access: &str, credential: &Value) -> Result<(), AwsError> {
    c.idp
        .complete_web_authn_registration()
        .access_token(access)
        .credential(to_document(credential))
        .send()
        .await
        .map(drop)
        .map_err(|e| aws_err::<(), _>(Err(e)))
}

/// Registers a new passkey for the token's user, from `origin`.
pub(crate) async fn register_from(
    c: &Cognate,
    access: &str,
    origin: &str,
    attestation: Attestation,
) -> SoftwareAuthenticator {
    let options = start(c, access).await.expect("StartWebAuthnRegistration");
    let mut device = SoftwareAuthenticator::new().unwrap();
    let response = device.register(&options, origin, attestation).unwrap();
    complete(c, access, &response)
        .await
        .expect("CompleteWebAuthnRegistration");
    device
}

pub(crate) async fn register(c: &Cognate, access: &str) -> SoftwareAuthenticator {
    register_from(c, access, ORIGIN, Attestation::None).await
}

async fn list(
    c: &Cognate,
    access: &str,
    max: Option<i32>,
    next: Option<&str>,
) -> (Vec<WebAuthnCredentialDescription>, Option<String>) {
    let out = c
        .idp
        .list_web_authn_credentials()
        .access_token(access)
        .set_max_results(max)
        .set_next_token(next.map(str::to_owned))
        .send()
        .await
        .expect("ListWebAuthnCredentials");
    (out.credentials().to_vec(), out.next_token().map(str::to_owned))
}

fn ids(list: &[WebAuthnCredentialDescription]) -> Vec<String> {
    list.iter().map(|c| c.credential_id().to_owned()).collect()
}

#[tokio::test]
async fn a_passkey_is_registered_listed_and_deleted() {
    let c = Cognate::start().await;
    let pool = passkey_pool(&c).await;
    let sub = c.admin_user(&pool, "pat", "pat@example.com").await;
    let access = password_access(&c, &pool, "pat").await;

    let options = start(&c, &access).await.unwrap();
    assert_eq!(options["rp"], json!({"id": RP, "name": "passwordless"}));
    assert_eq!(options["user"]["name"], "pat");
    assert_eq!(options["user"]["displayName"], "pat");
    use base64::Engine;
    let handle = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(options["user"]["id"].as_str().unwrap())
        .unwrap();
    assert_eq!(handle, sub.as_bytes(), "the user handle is the sub");
    assert_eq!(options["challenge"].as_str().map(str::len), Some(43), "32 random bytes");
    assert_eq!(
        options["pubKeyCredParams"],
        json!([{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}])
    );
    assert_eq!(
        options["authenticatorSelection"],
        json!({"requireResidentKey": true, "residentKey": "required", "userVerification": "preferred"})
    );
    assert_eq!(options["excludeCredentials"], json!([]));
    assert!(options["timeout"].as_u64().is_some());

    let mut first = SoftwareAuthenticator::new().unwrap();
    let response = first.register(&options, ORIGIN, Attestation::None).unwrap();
    complete(&c, &access, &response).await.unwrap();
    // The challenge is answered once.
    let err = complete(&c, &access, &response).await.unwrap_err();
    assert_eq!(err.code, "WebAuthnChallengeNotFoundException");

    let (listed, next) = list(&c, &access, None, None).await;
    assert_eq!(next, None);
    assert_eq!(ids(&listed), [first.credential_id()]);
    let d = &listed[0];
    assert_eq!(d.relying_party_id(), RP);
    assert_eq!(d.authenticator_attachment(), Some("platform"));
    assert_eq!(d.authenticator_transports(), ["internal"]);
    assert!(!d.friendly_credential_name().is_empty());
    let age = now_millis() / 1000 - d.created_at().secs();
    assert!((0..300).contains(&age), "created now: {age} s ago");

    // The next registration excludes the passkey the user has; a packed self-attestation is
    // accepted too.
    let options = start(&c, &access).await.unwrap();
    assert_eq!(
        options["excludeCredentials"],
        json!([{"type": "public-key", "id": first.credential_id(), "transports": ["internal"]}])
    );
    let mut second = SoftwareAuthenticator::new().unwrap();
    let response = second.register(&options, ORIGIN, Attestation::PackedSelf).unwrap();
    complete(&c, &access, &response).await.unwrap();

    let (page, next) = list(&c, &access, Some(1), None).await;
    assert_eq!(ids(&page), [first.credential_id()]);
    let (page, last) = list(&c, &access, Some(1), next.as_deref()).await;
    assert_eq!(ids(&page), [second.credential_id()]);
    assert_eq!(last, None);

    let factors = c
        .idp
        .get_user_auth_factors()
        .access_token(&access)
        .send()
        .await
        .unwrap();
    let factors: Vec<&str> = factors
        .configured_user_auth_factors()
        .iter()
        .map(|f| f.as_str())
        .collect();
    assert_eq!(factors, ["PASSWORD", "WEB_AUTHN"]);

    c.idp
        .delete_web_authn_credential()
        .access_token(&access)
        .credential_id(first.credential_id())
        .send()
        .await
        .unwrap();
    assert_eq!(ids(&list(&c, &access, None, None).await.0), [second.credential_id()]);
    let again = c
        .idp
        .delete_web_authn_credential()
        .access_token(&access)
        .credential_id(first.credential_id())
        .send()
        .await;
    expect_err(again, "ResourceNotFoundException");

    // Another user's passkey is not theirs to delete.
    c.admin_user(&pool, "quin", "quin@example.com").await;
    let other = password_access(&c, &pool, "quin").await;
    assert!(list(&c, &other, None, None).await.0.is_empty());
    let theirs = c
        .idp
        .delete_web_authn_credential()
        .access_token(&other)
        .credential_id(second.credential_id())
        .send()
        .await;
    expect_err(theirs, "ResourceNotFoundException");
    assert_eq!(ids(&list(&c, &access, None, None).await.0), [second.credential_id()]);
    c.shutdown().await;
}

#[tokio::test]
async fn the_relying_party_is_the_configured_one_else_the_domain() {
    let c = Cognate::start().await;
    // Passkeys not allowed by the pool's SignInPolicy.
    let plain = passwordless_pool(&c, &[AuthFactorType::Password], false).await;
    set_relying_party(&c, &plain, RP, UserVerificationType::Preferred).await;
    c.admin_user(&plain, "ned", "ned@example.com").await;
    let access = password_access(&c, &plain, "ned").await;
    let err = start(&c, &access).await.unwrap_err();
    assert_eq!(err.code, "WebAuthnNotEnabledException");

    // Allowed, but no relying party id and no domain.
    let bare = passwordless_pool(&c, &[AuthFactorType::Password, AuthFactorType::WebAuthn], false).await;
    c.admin_user(&bare, "ola", "ola@example.com").await;
    let access = password_access(&c, &bare, "ola").await;
    let err = start(&c, &access).await.unwrap_err();
    assert_eq!(err.code, "WebAuthnConfigurationMissingException");

    // A prefix domain: its Cognito host name.
    c.idp
        .create_user_pool_domain()
        .user_pool_id(&bare.pool_id)
        .domain("passkey-test")
        .send()
        .await
        .unwrap();
    let options = start(&c, &access).await.unwrap();
    assert_eq!(options["rp"]["id"], "passkey-test.auth.us-east-1.amazoncognito.com");

    // A configured relying party id wins, and its user verification is asked for.
    set_relying_party(&c, &bare, "example.org", UserVerificationType::Required).await;
    let options = start(&c, &access).await.unwrap();
    assert_eq!(options["rp"]["id"], "example.org");
    assert_eq!(options["authenticatorSelection"]["userVerification"], "required");
    c.idp
        .delete_user_pool_domain()
        .user_pool_id(&bare.pool_id)
        .domain("passkey-test")
        .send()
        .await
        .unwrap();
    c.shutdown().await;
}

#[tokio::test]
async fn registrations_from_elsewhere_are_refused() {
    let c = Cognate::start().await;
    let pool = passkey_pool(&c).await;
    c.admin_user(&pool, "rex", "rex@example.com").await;
    let access = password_access(&c, &pool, "rex").await;
    let attempt = |origin: &'static str, tweak: fn(&mut Value), verified: bool| {
        let (c, access) = (&c, access.clone());
        async move {
            let mut options = start(c, &access).await.unwrap();
            tweak(&mut options);
            let mut device = SoftwareAuthenticator::new().unwrap();
            device.user_verified = verified;
            let response = device.register(&options, origin, Attestation::None).unwrap();
            complete(c, &access, &response).await.unwrap_err().code
        }
    };
    let same = |_: &mut Value| {};
    assert_eq!(
        attempt("https://evil.example.net", same, true).await,
        "WebAuthnOriginNotAllowedException"
    );
    assert_eq!(
        attempt(ORIGIN, |o| o["rp"]["id"] = json!("example.com"), true).await,
        "WebAuthnRelyingPartyMismatchException"
    );
    assert_eq!(
        attempt(
            ORIGIN,
            |o| o["challenge"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            true
        )
        .await,
        "WebAuthnChallengeNotFoundException"
    );
    // A pool that requires user verification, and a device that did not verify its user.
    set_relying_party(&c, &pool, RP, UserVerificationType::Required).await;
    assert_eq!(
        attempt(ORIGIN, same, false).await,
        "WebAuthnCredentialNotSupportedException"
    );
    // Not a registration response at all.
    start(&c, &access).await.unwrap();
    let err = complete(&c, &access, &json!({"id": "nope"})).await.unwrap_err();
    assert_eq!(err.code, "InvalidParameterException");
    // Complete without Start.
    let err = complete(&c, &access, &json!({"id": "nope"})).await.unwrap_err();
    assert_eq!(err.code, "WebAuthnChallengeNotFoundException");

    // Started with one app client's token, completed with another's.
    let other_client = user_auth_client(&c, &pool.pool_id).await;
    let other = TestPool {
        client_id: other_client,
        ..pool.clone()
    };
    let other_access = password_access(&c, &other, "rex").await;
    let options = start(&c, &access).await.unwrap();
    let mut device = SoftwareAuthenticator::new().unwrap();
    let response = device.register(&options, ORIGIN, Attestation::None).unwrap();
    let err = complete(&c, &other_access, &response).await.unwrap_err();
    assert_eq!(err.code, "WebAuthnClientMismatchException");
    assert!(list(&c, &access, None, None).await.0.is_empty(), "nothing registered");
    c.shutdown().await;
}

#[tokio::test]
async fn a_user_has_at_most_twenty_passkeys() {
    let c = Cognate::start().await;
    let pool = passkey_pool(&c).await;
    c.admin_user(&pool, "tess", "tess@example.com").await;
    let access = password_access(&c, &pool, "tess").await;
    for _ in 0..20 {
        register(&c, &access).await;
    }
    let err = start(&c, &access).await.unwrap_err();
    assert_eq!(err.code, "LimitExceededException");
    let (all, next) = list(&c, &access, None, None).await;
    assert_eq!((all.len(), next), (20, None));
    let err = c
        .idp
        .list_web_authn_credentials()
        .access_token(&access)
        .max_results(21)
        .send()
        .await;
    assert!(expect_err(err, "InvalidParameterException").contains("less than or equal to 20"));
    c.shutdown().await;
}

/// A credential id belongs to one user of a pool; deleting the user frees it (its passkeys go
/// with it).
#[tokio::test]
async fn a_credential_id_belongs_to_one_user_of_the_pool() {
    let c = Cognate::start().await;
    let pool = passkey_pool(&c).await;
    c.admin_user(&pool, "uma", "uma@example.com").await;
    c.admin_user(&pool, "val", "val@example.com").await;
    let uma = password_access(&c, &pool, "uma").await;
    let val = password_access(&c, &pool, "val").await;
    let mut device = SoftwareAuthenticator::new().unwrap();
    let options = start(&c, &uma).await.unwrap();
    complete(&c, &uma, &device.register(&options, ORIGIN, Attestation::None).unwrap())
        .await
        .unwrap();

    // The same authenticator credential offered for another user of the pool.
    let options = start(&c, &val).await.unwrap();
    let again = device.register(&options, ORIGIN, Attestation::None).unwrap();
    let err = complete(&c, &val, &again).await.unwrap_err();
    assert_eq!(err.code, "InvalidParameterException", "{err:?}");
    assert!(list(&c, &val, None, None).await.0.is_empty());

    // Deleted with its user: the credential id is free again.
    c.idp
        .admin_delete_user()
        .user_pool_id(&pool.pool_id)
        .username("uma")
        .send()
        .await
        .unwrap();
    let options = start(&c, &val).await.unwrap();
    let again = device.register(&options, ORIGIN, Attestation::None).unwrap();
    complete(&c, &val, &again).await.unwrap();
    assert_eq!(ids(&list(&c, &val, None, None).await.0), [device.credential_id()]);
    c.shutdown().await;
}
