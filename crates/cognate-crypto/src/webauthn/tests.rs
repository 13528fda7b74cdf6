use super::authenticator::{Attestation, SoftwareAuthenticator};
use super::*;

const TIMEOUT: Duration = Duration::from_secs(60);

fn rp() -> RelyingParty {
    RelyingParty::new("auth.example.com", "Example").unwrap()
}

fn user() -> UserEntity<'static> {
    UserEntity {
        id: b"user-handle",
        name: "alice",
        display_name: "alice",
    }
}

/// A registered passkey: the device and what the server stored.
fn registered(rp: &RelyingParty, origin: &str, attestation: Attestation) -> (SoftwareAuthenticator, NewPasskey) {
    let (options, state) = rp
        .registration(user(), &[7; 32], &[], UserVerification::Preferred, TIMEOUT)
        .unwrap();
    let mut device = SoftwareAuthenticator::new().unwrap();
    let response = device.register(&options, origin, attestation).unwrap();
    let passkey = rp.finish_registration(&state, &response).unwrap();
    (device, passkey)
}

fn stored(p: &NewPasskey) -> StoredPasskey<'_> {
    StoredPasskey {
        id: &p.id,
        credential: &p.credential,
        transports: &p.transports,
    }
}

#[test]
fn creation_options_have_cognitos_shape_and_the_callers_challenge() {
    let (options, state) = rp()
        .registration(user(), &[1; 32], &[], UserVerification::Required, TIMEOUT)
        .unwrap();
    assert_eq!(options["challenge"], b64(&[1; 32]));
    assert_eq!(options["rp"], json!({"id": "auth.example.com", "name": "Example"}));
    assert_eq!(options["user"]["id"], b64(b"user-handle"));
    assert_eq!(options["user"]["displayName"], "alice");
    assert_eq!(
        options["pubKeyCredParams"],
        json!([{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}])
    );
    assert_eq!(options["timeout"], 60000);
    assert_eq!(options["authenticatorSelection"]["userVerification"], "required");
    assert_eq!(options["authenticatorSelection"]["residentKey"], "required");
    let state: Value = serde_json::from_str(&state).unwrap();
    assert_eq!(state["challenge"], b64(&[1; 32]));
}

#[test]
fn a_passkey_registers_and_signs_in_and_its_counter_moves() {
    let rp = rp();
    for attestation in [Attestation::None, Attestation::PackedSelf] {
        let (mut device, passkey) = registered(&rp, "https://auth.example.com", attestation);
        assert_eq!(b64(&passkey.id), device.credential_id());
        assert_eq!(passkey.transports, ["internal"]);
        assert_eq!(passkey.attachment.as_deref(), Some("platform"));
        assert!(passkey.user_verified);

        let (options, state) = rp
            .authentication(&[stored(&passkey)], &[9; 32], UserVerification::Preferred, TIMEOUT)
            .unwrap();
        assert_eq!(options["rpId"], "auth.example.com");
        assert_eq!(options["allowCredentials"][0]["id"], device.credential_id());
        assert_eq!(options["allowCredentials"][0]["transports"], json!(["internal"]));
        let response = device.sign_in(&options, "https://auth.example.com").unwrap();
        let assertion = rp
            .finish_authentication(&state, &stored(&passkey), b"user-handle", &response)
            .unwrap();
        assert_eq!(assertion.sign_count, 1);
        assert_eq!(assertion.credential_id, passkey.id);

        // The same counter again (a replay, or a cloned device) is refused against the updated
        // credential.
        let updated = NewPasskey {
            credential: assertion.credential.clone(),
            ..passkey.clone()
        };
        let (options, state) = rp
            .authentication(&[stored(&updated)], &[10; 32], UserVerification::Preferred, TIMEOUT)
            .unwrap();
        device.sign_count = 0;
        let response = device.sign_in(&options, "https://auth.example.com").unwrap();
        assert_eq!(
            rp.finish_authentication(&state, &stored(&updated), b"user-handle", &response),
            Err(Refusal::CounterNotIncreased)
        );
    }
}

#[test]
fn origins_are_the_rp_id_its_subdomains_and_localhost_for_a_local_rp() {
    let rp = rp();
    for origin in ["https://auth.example.com:8443", "https://login.auth.example.com"] {
        registered(&rp, origin, Attestation::None);
    }
    let local = RelyingParty::new("localhost", "Local").unwrap();
    for origin in ["http://localhost:3000", "https://localhost"] {
        registered(&local, origin, Attestation::None);
    }
    for origin in [
        "http://localhost:3000",
        "https://example.com",
        "https://evilauth.example.com",
        "http://auth.example.com",
        "https://auth.example.com.evil.test",
    ] {
        let (options, state) = rp
            .registration(user(), &[7; 32], &[], UserVerification::Preferred, TIMEOUT)
            .unwrap();
        let response = SoftwareAuthenticator::new()
            .unwrap()
            .register(&options, origin, Attestation::None)
            .unwrap();
        assert_eq!(
            rp.finish_registration(&state, &response),
            Err(Refusal::OriginNotAllowed),
            "{origin}"
        );
    }
}

#[test]
fn assertions_for_another_challenge_rp_or_credential_are_refused() {
    let rp = rp();
    let origin = "https://auth.example.com";
    let (mut device, passkey) = registered(&rp, origin, Attestation::None);
    let (options, state) = rp
        .authentication(&[stored(&passkey)], &[3; 32], UserVerification::Preferred, TIMEOUT)
        .unwrap();

    let mut other_challenge = options.clone();
    other_challenge["challenge"] = json!(b64(&[4; 32]));
    let response = device.sign_in(&other_challenge, origin).unwrap();
    assert_eq!(
        rp.finish_authentication(&state, &stored(&passkey), b"user-handle", &response),
        Err(Refusal::ChallengeMismatch)
    );

    let response = device.sign_in_for(&options, origin, "example.com").unwrap();
    assert_eq!(
        rp.finish_authentication(&state, &stored(&passkey), b"user-handle", &response),
        Err(Refusal::RelyingPartyMismatch)
    );

    // A second passkey that this ceremony did not allow.
    let (mut other, other_passkey) = registered(&rp, origin, Attestation::None);
    let response = other.sign_in(&options, origin).unwrap();
    assert_eq!(
        rp.finish_authentication(&state, &stored(&other_passkey), b"user-handle", &response),
        Err(Refusal::UnknownCredential)
    );

    // A response signed by another key than the stored one.
    let mut forged = device.sign_in(&options, origin).unwrap();
    let theirs = other.sign_in(&options, origin).unwrap();
    forged["response"]["signature"] = theirs["response"]["signature"].clone();
    assert_eq!(
        rp.finish_authentication(&state, &stored(&passkey), b"user-handle", &forged),
        Err(Refusal::BadSignature)
    );

    // The right signature, but the device says it holds the passkey of another account.
    let response = device.sign_in(&options, origin).unwrap();
    assert_eq!(
        rp.finish_authentication(&state, &stored(&passkey), b"another-user", &response),
        Err(Refusal::UnknownCredential)
    );

    assert!(matches!(
        rp.finish_authentication(&state, &stored(&passkey), b"user-handle", &json!({"id": "x"})),
        Err(Refusal::Malformed(_))
    ));
}

#[test]
fn required_verification_refuses_a_device_that_did_not_verify() {
    let rp = rp();
    let origin = "https://auth.example.com";
    let (mut device, passkey) = registered(&rp, origin, Attestation::None);
    let (options, state) = rp
        .authentication(&[stored(&passkey)], &[5; 32], UserVerification::Required, TIMEOUT)
        .unwrap();
    device.user_verified = false;
    let response = device.sign_in(&options, origin).unwrap();
    assert_eq!(
        rp.finish_authentication(&state, &stored(&passkey), b"user-handle", &response),
        Err(Refusal::UserNotVerified)
    );
}

#[test]
fn a_relying_party_id_must_be_a_host_name() {
    assert!(matches!(
        RelyingParty::new("not a host", "x"),
        Err(Refusal::Configuration(_))
    ));
    assert!(RelyingParty::new("localhost", "x").is_ok());
}
