//! Cognito's SECRET_HASH: Base64(HMAC-SHA256(clientSecret, username + clientId)).
use aws_lc_rs::hmac;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub fn secret_hash(client_secret: &str, username: &str, client_id: &str) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, client_secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(username.as_bytes());
    ctx.update(client_id.as_bytes());
    STANDARD.encode(ctx.sign().as_ref())
}

/// Checks a SECRET_HASH sent by a client, in constant time.
pub fn verify_secret_hash(client_secret: &str, username: &str, client_id: &str, given: &str) -> bool {
    let expected = secret_hash(client_secret, username, client_id);
    crate::ct_eq(expected.as_bytes(), given.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_known_value() {
        // Computed independently with Python: base64(hmac.new(b"secret", b"aliceclient", sha256).digest())
        assert_eq!(
            secret_hash("secret", "alice", "client"),
            "RTsve+FQ659UKyESgvLg9GYmZEL+QjzQsW/OjL77/b0="
        );
        assert!(verify_secret_hash(
            "secret",
            "alice",
            "client",
            "RTsve+FQ659UKyESgvLg9GYmZEL+QjzQsW/OjL77/b0="
        ));
        assert!(!verify_secret_hash(
            "secret",
            "bob",
            "client",
            "RTsve+FQ659UKyESgvLg9GYmZEL+QjzQsW/OjL77/b0="
        ));
    }
}
