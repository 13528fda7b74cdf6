//! JWT parsing and RS256 verification against a fixed key: no token may panic or verify.
#![no_main]
use cognate_crypto::jwt::{SigningKey, header_kid};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let der = cognate_crypto::jwt::generate_rsa_pkcs8().expect("RSA key");
        SigningKey::from_pkcs8(&der).expect("loading the key")
    })
}

/// Tokens as Cognate issues them, signed by a key of the seed-writing process only.
fn seeds() -> Vec<(String, Vec<u8>)> {
    let claims = |v: serde_json::Value| v.as_object().cloned().expect("object");
    vec![
        (
            "access".into(),
            key()
                .sign(&claims(serde_json::json!({
                    "sub": "u", "token_use": "access", "scope": "aws.cognito.signin.user.admin",
                    "exp": 1_767_229_200, "iat": 1_767_225_600, "client_id": "c", "username": "alice",
                    "cognito:groups": ["admins"],
                })))
                .into_bytes(),
        ),
        ("empty-claims".into(), key().sign(&serde_json::Map::new()).into_bytes()),
    ]
}

fuzz_target!(init: { cognate_fuzz::seeds::write_if_asked("jwt", seeds); }, |data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else { return };
    let _ = header_kid(token);
    // The key is made in this process: no stored input can carry its signature.
    if let Ok(claims) = key().verify(token) {
        panic!("a fuzzed token verified: {claims:?}");
    }
});
