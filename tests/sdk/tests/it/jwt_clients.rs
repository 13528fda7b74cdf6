//! Tokens as an API behind Cognito checks them: AWS's `aws-jwt-verify` (Node) verifies
//! Cognate's ID and access tokens against the pool's JWKS and issuer.
use crate::srp_clients::{repo_root, run};
use cognate_sdk_tests::*;
use std::path::Path;

#[tokio::test]
async fn aws_jwt_verify_accepts_cognate_tokens_and_refuses_forgeries() {
    let c = Cognate::start().await;
    let pool = c.create_pool("jwt-verify").await;
    c.sign_up_confirmed(&pool, "vera", "vera@example.com").await;
    let tokens = c.sign_in(&pool, "vera", PASSWORD).await;
    let issuer = c.openid_configuration(&pool.pool_id).await["issuer"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = repo_root().join("tests/node");
    assert!(
        dir.join("node_modules/aws-jwt-verify").is_dir(),
        "aws-jwt-verify is not installed: run `npm ci --prefix tests/node`"
    );
    let out = run(
        Path::new("node"),
        &[
            "verify-tokens.mjs",
            &issuer,
            &pool.client_id,
            tokens.id_token().unwrap(),
            tokens.access_token().unwrap(),
        ],
        &dir,
    )
    .await;
    let result: serde_json::Value = serde_json::from_str(out.trim()).expect("the script's JSON line");
    assert_eq!(result["id"], "vera");
    assert_eq!(result["access"], "vera");
    assert_eq!(result["idAsAccessRefused"], true);
    assert_eq!(result["accessAsIdRefused"], true);
    assert_eq!(result["tamperedRefused"], true);
}
