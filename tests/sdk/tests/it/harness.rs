//! Self-tests of the harness, so that a passing suite cannot come from a helper that accepts
//! anything.

use cognate_sdk_tests::*;

#[test]
fn secret_hash_matches_reference_vector() {
    // Reference computed independently (Python hmac/hashlib/base64).
    assert_eq!(
        secret_hash("topsecret", "alice", "client123"),
        "QOaF4kSzdPw1nPLE5QMEoi2mW87FFhdfpWgk5WhA12c="
    );
}

#[test]
fn code_and_password_extraction() {
    assert_eq!(
        extract_code("Your verification code is 012345. ").as_deref(),
        Some("012345")
    );
    assert_eq!(extract_code("order 1234567 then 654321").as_deref(), Some("654321"));
    assert_eq!(extract_code("no code 12345"), None);
    assert_eq!(
        extract_temp_password("Your username is bob and temporary password is aB3$x.y!.").as_deref(),
        Some("aB3$x.y!")
    );
}

#[test]
fn id_predicates() {
    assert!(is_pool_id("us-east-1_AbC123xyz"));
    assert!(!is_pool_id("us-east-1_AbC123xy"));
    assert!(!is_pool_id("eu-west-1_AbC123xyz"));
    assert!(is_uuid("0f8fad5b-d9cb-469f-a165-70867728950e"));
    assert!(!is_uuid("0f8fad5b-d9cb-469f-a165-70867728950"));
}

#[tokio::test]
#[should_panic(expected = "does not verify")]
async fn jwt_verification_rejects_a_modified_payload() {
    use base64::Engine as _;
    let c = Cognate::start().await;
    let pool = c.create_pool("harness").await;
    c.admin_user(&pool, "alice", "alice@example.com").await;
    let tokens = c.sign_in(&pool, "alice", PASSWORD).await;
    let token = tokens.id_token().unwrap();
    let jwks = c.jwks(&pool.pool_id).await;
    // The genuine token verifies.
    verify_jwt_with(&jwks, token);
    let mut claims = decode_jwt(token).claims;
    claims["cognito:username"] = "mallory".into();
    let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    verify_jwt_with(&jwks, &parts.join("."));
}
