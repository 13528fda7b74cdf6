//! Signing in with a passkey (USER_AUTH, WEB_AUTHN): PREFERRED_CHALLENGE and SELECT_CHALLENGE,
//! CREDENTIAL_REQUEST_OPTIONS, the assertion of a software authenticator as CREDENTIAL, the
//! tokens and the triggers; and what never signs in: another user's passkey, a signature
//! counter that did not move, another origin, challenge or relying party, an answer given
//! twice, a pool that does not allow passkeys.

use cognate_crypto::webauthn::authenticator::SoftwareAuthenticator;
use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeOutput;
use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{AuthFactorType, ChallengeNameType};
use cognate_sdk_tests::triggers::{TriggerApp, with_pool_properties};
use cognate_sdk_tests::*;
use serde_json::{Value, json};

use crate::passkeys::{ORIGIN, RP, passkey_pool, password_access, register, set_relying_party, start};
use crate::user_auth::{passwordless_pool, user_auth, user_auth_client};

/// InitiateAuth USER_AUTH with PREFERRED_CHALLENGE=WEB_AUTHN: the session and the request
/// options.
async fn web_authn_challenge(c: &Cognate, pool: &TestPool, username: &str) -> (String, Value) {
    let out = user_auth(c, pool, &[("USERNAME", username), ("PREFERRED_CHALLENGE", "WEB_AUTHN")])
        .await
        .expect("InitiateAuth");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::WebAuthn));
    let options = out
        .challenge_parameters()
        .and_then(|p| p.get("CREDENTIAL_REQUEST_OPTIONS"))
        .expect("CREDENTIAL_REQUEST_OPTIONS");
    let options: Value = serde_json::from_str(options).expect("options are JSON");
    (out.session().expect("session").to_owned(), options)
}

async fn answer(
    c: &Cognate,
    pool: &TestPool,
    username: &str,
    session: &str,
    credential: &Value,
) -> Result<RespondToAuthChallengeOutput, AwsError> {
    c.idp
        .respond_to_auth_challenge()
        .client_id(&pool.client_id)
        .challenge_name(ChallengeNameType::WebAuthn)
        .session(session)
        .challenge_responses("USERNAME", username)
        .challenge_responses("CREDENTIAL", credential.to_string())
        .send()
        .await
        .map_err(|e| aws_err::<(), _>(Err(e)))
}

/// A user of a passkey pool with one registered passkey.
async fn user_with_passkey(c: &Cognate, pool: &TestPool, username: &str) -> SoftwareAuthenticator {
    c.admin_user(pool, username, &format!("{username}@example.com")).await;
    let access = password_access(c, pool, username).await;
    register(c, &access).await
}

fn names(list: &[ChallengeNameType]) -> Vec<&str> {
    list.iter().map(ChallengeNameType::as_str).collect()
}

#[tokio::test]
async fn a_passkey_signs_in_through_preferred_challenge_and_select_challenge() {
    let c = Cognate::start().await;
    let pool = passkey_pool(&c).await;
    let mut device = user_with_passkey(&c, &pool, "ava").await;

    let (session, options) = web_authn_challenge(&c, &pool, "ava").await;
    assert_eq!(options["rpId"], RP);
    assert_eq!(options["userVerification"], "preferred");
    assert_eq!(
        options["allowCredentials"],
        json!([{"type": "public-key", "id": device.credential_id(), "transports": ["internal"]}])
    );
    assert_eq!(options["challenge"].as_str().map(str::len), Some(43));
    assert!(options["timeout"].as_u64().is_some_and(|t| t > 0));
    let credential = device.sign_in(&options, ORIGIN).unwrap();
    let done = answer(&c, &pool, "ava", &session, &credential).await.unwrap();
    let tokens = done.authentication_result().expect("tokens");
    let access = c.verify_jwt(&pool.pool_id, tokens.access_token().unwrap()).await;
    assert_eq!(access.claims["username"], "ava");
    assert!(tokens.refresh_token().is_some());

    // SELECT_CHALLENGE offers WEB_AUTHN to a user with a passkey; choosing it hands out the
    // request options.
    let out = user_auth(&c, &pool, &[("USERNAME", "ava")]).await.unwrap();
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::SelectChallenge));
    assert_eq!(
        names(out.available_challenges()),
        ["PASSWORD_SRP", "PASSWORD", "WEB_AUTHN"]
    );
    let chosen = c
        .idp
        .respond_to_auth_challenge()
        .client_id(&pool.client_id)
        .challenge_name(ChallengeNameType::SelectChallenge)
        .set_session(out.session().map(str::to_owned))
        .challenge_responses("USERNAME", "ava")
        .challenge_responses("ANSWER", "WEB_AUTHN")
        .send()
        .await
        .unwrap();
    assert_eq!(chosen.challenge_name(), Some(&ChallengeNameType::WebAuthn));
    let options: Value =
        serde_json::from_str(&chosen.challenge_parameters().unwrap()["CREDENTIAL_REQUEST_OPTIONS"]).unwrap();
    let credential = device.sign_in(&options, ORIGIN).unwrap();
    let done = answer(&c, &pool, "ava", chosen.session().unwrap(), &credential)
        .await
        .unwrap();
    assert!(done.authentication_result().is_some());

    // A user without a passkey is not offered WEB_AUTHN, and preferring it gets the choice.
    c.admin_user(&pool, "bea", "bea@example.com").await;
    let out = user_auth(&c, &pool, &[("USERNAME", "bea"), ("PREFERRED_CHALLENGE", "WEB_AUTHN")])
        .await
        .unwrap();
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::SelectChallenge));
    assert_eq!(names(out.available_challenges()), ["PASSWORD_SRP", "PASSWORD"]);
    c.shutdown().await;
}

#[tokio::test]
async fn bad_assertions_never_sign_in() {
    let c = Cognate::start().await;
    let pool = passkey_pool(&c).await;
    let mut alice = user_with_passkey(&c, &pool, "alice").await;
    let mut bob = user_with_passkey(&c, &pool, "bob").await;
    let refused = |r: Result<RespondToAuthChallengeOutput, AwsError>| {
        let e = r.expect_err("no tokens");
        assert_eq!(e.code, "NotAuthorizedException", "{e:?}");
    };

    // Bob's passkey answering Alice's challenge.
    let (session, options) = web_authn_challenge(&c, &pool, "alice").await;
    refused(answer(&c, &pool, "alice", &session, &bob.sign_in(&options, ORIGIN).unwrap()).await);
    // Another origin.
    let (session, options) = web_authn_challenge(&c, &pool, "alice").await;
    let credential = alice.sign_in(&options, "https://evil.example.net").unwrap();
    refused(answer(&c, &pool, "alice", &session, &credential).await);
    // Another challenge.
    let (session, options) = web_authn_challenge(&c, &pool, "alice").await;
    let mut other = options.clone();
    other["challenge"] = json!("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    refused(answer(&c, &pool, "alice", &session, &alice.sign_in(&other, ORIGIN).unwrap()).await);
    // Another relying party.
    let (session, options) = web_authn_challenge(&c, &pool, "alice").await;
    let credential = alice.sign_in_for(&options, ORIGIN, "example.com").unwrap();
    refused(answer(&c, &pool, "alice", &session, &credential).await);
    // Not an assertion.
    let (session, _) = web_authn_challenge(&c, &pool, "alice").await;
    refused(answer(&c, &pool, "alice", &session, &json!({"id": "x"})).await);

    // The right assertion signs in, once: the session is used up.
    let (session, options) = web_authn_challenge(&c, &pool, "alice").await;
    let credential = alice.sign_in(&options, ORIGIN).unwrap();
    assert!(answer(&c, &pool, "alice", &session, &credential).await.is_ok());
    refused(answer(&c, &pool, "alice", &session, &credential).await);

    // A signature counter that did not move (a cloned or replayed authenticator).
    let counter = alice.sign_count;
    let (session, options) = web_authn_challenge(&c, &pool, "alice").await;
    alice.sign_count = counter - 1;
    refused(answer(&c, &pool, "alice", &session, &alice.sign_in(&options, ORIGIN).unwrap()).await);
    // Ahead of the stored counter again, it works.
    alice.sign_count = counter + 5;
    let (session, options) = web_authn_challenge(&c, &pool, "alice").await;
    assert!(
        answer(&c, &pool, "alice", &session, &alice.sign_in(&options, ORIGIN).unwrap())
            .await
            .is_ok()
    );

    // A missing CREDENTIAL is a bad request, and the challenge can still be answered.
    let (session, options) = web_authn_challenge(&c, &pool, "alice").await;
    let missing = c
        .idp
        .respond_to_auth_challenge()
        .client_id(&pool.client_id)
        .challenge_name(ChallengeNameType::WebAuthn)
        .session(&session)
        .challenge_responses("USERNAME", "alice")
        .send()
        .await;
    expect_err(missing, "InvalidParameterException");
    assert!(
        answer(&c, &pool, "alice", &session, &alice.sign_in(&options, ORIGIN).unwrap())
            .await
            .is_ok()
    );
    c.shutdown().await;
}

#[tokio::test]
async fn a_pool_that_stops_allowing_passkeys_stops_offering_them() {
    let c = Cognate::start().await;
    let pool = passkey_pool(&c).await;
    user_with_passkey(&c, &pool, "cal").await;
    // The same user in a pool whose relying party moved: the passkey is for the old one.
    set_relying_party(
        &c,
        &pool,
        "moved.example.com",
        cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::UserVerificationType::Preferred,
    )
    .await;
    let out = user_auth(&c, &pool, &[("USERNAME", "cal")]).await.unwrap();
    assert_eq!(names(out.available_challenges()), ["PASSWORD_SRP", "PASSWORD"]);

    // A pool without WEB_AUTHN among its first factors.
    let plain = passwordless_pool(&c, &[AuthFactorType::Password], false).await;
    set_relying_party(
        &c,
        &plain,
        RP,
        cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::UserVerificationType::Preferred,
    )
    .await;
    c.admin_user(&plain, "dan", "dan@example.com").await;
    let access = password_access(&c, &plain, "dan").await;
    assert_eq!(
        start(&c, &access).await.unwrap_err().code,
        "WebAuthnNotEnabledException"
    );
    let out = user_auth(&c, &plain, &[("USERNAME", "dan"), ("PREFERRED_CHALLENGE", "WEB_AUTHN")])
        .await
        .unwrap();
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::SelectChallenge));
    assert_eq!(names(out.available_challenges()), ["PASSWORD_SRP", "PASSWORD"]);
    c.shutdown().await;
}

/// Pre/PostAuthentication and PreTokenGeneration run for a passkey sign-in as for any other,
/// with the pool declared in a serverless.yml (SignInPolicy and the WebAuthn properties).
#[tokio::test]
async fn a_passkey_sign_in_runs_the_triggers() {
    let props = format!(
        "Policies:
  SignInPolicy:
    AllowedFirstAuthFactors: [PASSWORD, WEB_AUTHN]
WebAuthnRelyingPartyID: {RP}
WebAuthnUserVerification: required"
    );
    let t = TriggerApp::start_edited("triggers", |y| with_pool_properties(y, &props)).await;
    let c = &t.c;
    let pool = TestPool {
        client_id: user_auth_client(c, &t.pool.pool_id).await,
        ..t.pool.clone()
    };
    let mut device = user_with_passkey(c, &pool, "eli").await;
    t.clear();
    let (session, options) = web_authn_challenge(c, &pool, "eli").await;
    assert_eq!(options["userVerification"], "required");
    assert_eq!(t.sources(), ["PreAuthentication_Authentication"]);
    let credential = device.sign_in(&options, ORIGIN).unwrap();
    let done = c
        .idp
        .respond_to_auth_challenge()
        .client_id(&pool.client_id)
        .challenge_name(ChallengeNameType::WebAuthn)
        .session(&session)
        .challenge_responses("USERNAME", "eli")
        .challenge_responses("CREDENTIAL", credential.to_string())
        .client_metadata("step", "passkey")
        .send()
        .await
        .unwrap();
    assert!(done.authentication_result().is_some());
    assert_eq!(
        t.sources(),
        [
            "PreAuthentication_Authentication",
            "TokenGeneration_Authentication",
            "PostAuthentication_Authentication"
        ]
    );
    let post = t.event("PostAuthentication_Authentication");
    assert_eq!(post["request"]["clientMetadata"], json!({"step": "passkey"}));
    assert_eq!(post["userName"], "eli");
    t.shutdown().await;
}
