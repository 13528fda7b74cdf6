//! Tokens: RS256 signatures against the served JWKS, OIDC discovery, the claims of ID and access
//! tokens, lifetimes and expiry, refresh-token lifetime.

use std::time::Duration;

use cognate_sdk_tests::*;
use serde_json::Value;

#[tokio::test]
async fn jwks_and_openid_configuration() {
    let c = Cognate::start().await;
    let pool = c.create_pool("jwks").await;
    let jwks = c.jwks(&pool.pool_id).await;
    let keys = jwks["keys"].as_array().expect("keys");
    assert!(
        keys.len() >= 2,
        "ID and access tokens are signed with different keys: {jwks}"
    );
    for k in keys {
        assert_eq!(k["kty"], "RSA");
        assert_eq!(k["alg"], "RS256");
        assert_eq!(k["use"], "sig");
        assert_eq!(k["e"], "AQAB");
        assert!(k["kid"].as_str().is_some_and(|s| !s.is_empty()));
        assert!(
            k["n"].as_str().is_some_and(|s| s.len() >= 342),
            "2048-bit modulus or larger"
        );
    }

    let oidc = c.openid_configuration(&pool.pool_id).await;
    let issuer = format!("{}/{}", c.endpoint, pool.pool_id);
    assert_eq!(oidc["issuer"], issuer.as_str());
    assert_eq!(oidc["jwks_uri"], format!("{issuer}/.well-known/jwks.json").as_str());
    let algs = oidc["id_token_signing_alg_values_supported"]
        .as_array()
        .expect("id_token_signing_alg_values_supported");
    assert!(algs.contains(&Value::from("RS256")));

    // Each pool has its own keys.
    let other = c.create_pool("jwks-2").await;
    let other_jwks = c.jwks(&other.pool_id).await;
    let kids = |j: &Value| -> Vec<String> {
        j["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(
        kids(&jwks).iter().all(|k| !kids(&other_jwks).contains(k)),
        "pools share signing keys"
    );
}

#[tokio::test]
async fn token_headers_and_signatures() {
    let c = Cognate::start().await;
    let pool = c.create_pool("sig").await;
    c.admin_user(&pool, "alice", "alice@example.com").await;
    let tokens = c.sign_in(&pool, "alice", PASSWORD).await;
    let jwks = c.jwks(&pool.pool_id).await;
    let id = verify_jwt_with(&jwks, tokens.id_token().unwrap());
    let access = verify_jwt_with(&jwks, tokens.access_token().unwrap());
    assert_eq!(id.header["alg"], "RS256");
    assert_eq!(access.header["alg"], "RS256");
    assert_ne!(id.header["kid"], access.header["kid"], "ID and access kids must differ");

    // The other pool's JWKS does not verify these tokens.
    let other = c.create_pool("sig-2").await;
    let other_jwks = c.jwks(&other.pool_id).await;
    let kid = id.header["kid"].as_str().unwrap();
    assert!(
        !other_jwks["keys"].as_array().unwrap().iter().any(|k| k["kid"] == kid),
        "another pool serves this pool's key"
    );
}

#[tokio::test]
async fn access_token_claims() {
    let c = Cognate::start().await;
    let pool = c.create_pool("access-claims").await;
    let sub = c.admin_user(&pool, "alice", "alice@example.com").await;
    let before = now_millis() / 1000;
    let tokens = c.sign_in(&pool, "alice", PASSWORD).await;
    let after = now_millis() / 1000;
    let access = c.verify_jwt(&pool.pool_id, tokens.access_token().unwrap()).await;
    let id = c.verify_jwt(&pool.pool_id, tokens.id_token().unwrap()).await;
    let claims = &access.claims;
    let issuer = format!("{}/{}", c.endpoint, pool.pool_id);
    assert_eq!(claims["iss"], issuer.as_str());
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["client_id"], pool.client_id.as_str());
    assert_eq!(claims["token_use"], "access");
    assert_eq!(claims["scope"], "aws.cognito.signin.user.admin");
    assert_eq!(claims["username"], "alice");
    assert!(claims.get("aud").is_none(), "access tokens have no aud: {claims}");
    for name in ["jti", "origin_jti", "event_id"] {
        let v = claims[name]
            .as_str()
            .unwrap_or_else(|| panic!("{name} missing: {claims}"));
        assert!(is_uuid(v), "{name} = {v} is not a UUID");
    }
    let iat = claim_i64(&access, "iat");
    let auth_time = claim_i64(&access, "auth_time");
    assert!(
        before - 5 <= iat && iat <= after + 5,
        "iat {iat} not now ({before}..{after})"
    );
    assert_eq!(auth_time, iat, "auth_time is the sign-in time");
    assert_eq!(claim_i64(&access, "exp"), iat + 3600);

    // The two tokens of one sign-in share origin_jti and event_id but not jti.
    assert_eq!(id.claims["origin_jti"], claims["origin_jti"]);
    assert_eq!(id.claims["event_id"], claims["event_id"]);
    assert_ne!(id.claims["jti"], claims["jti"]);

    // A second sign-in is a new event.
    let again = c.sign_in(&pool, "alice", PASSWORD).await;
    let access2 = c.verify_jwt(&pool.pool_id, again.access_token().unwrap()).await;
    assert_ne!(access2.claims["jti"], claims["jti"]);
    assert_ne!(access2.claims["origin_jti"], claims["origin_jti"]);
    assert_ne!(access2.claims["event_id"], claims["event_id"]);
}

#[tokio::test]
async fn id_token_claims() {
    let c = Cognate::start().await;
    let pool = c.create_pool("id-claims").await;
    let sub = c.sign_up_confirmed(&pool, "bob", "bob@example.com").await;
    c.idp
        .admin_update_user_attributes()
        .user_pool_id(&pool.pool_id)
        .username("bob")
        .user_attributes(attr("custom:tier", "gold"))
        .user_attributes(attr("name", "Bob"))
        .send()
        .await
        .unwrap();
    let tokens = c.sign_in(&pool, "bob", PASSWORD).await;
    let id = c.verify_jwt(&pool.pool_id, tokens.id_token().unwrap()).await;
    let claims = &id.claims;
    assert_eq!(claims["iss"], format!("{}/{}", c.endpoint, pool.pool_id).as_str());
    assert_eq!(claims["aud"], pool.client_id.as_str());
    assert_eq!(claims["sub"], sub.as_str());
    assert_eq!(claims["cognito:username"], "bob");
    assert_eq!(claims["token_use"], "id");
    assert_eq!(claims["email"], "bob@example.com");
    assert_eq!(claims["email_verified"], Value::Bool(true), "a JSON boolean: {claims}");
    assert_eq!(claims["custom:tier"], "gold");
    assert_eq!(claims["name"], "Bob");
    for name in ["jti", "origin_jti", "event_id"] {
        assert!(claims[name].is_string(), "{name} missing: {claims}");
    }
    let iat = claim_i64(&id, "iat");
    assert_eq!(claim_i64(&id, "exp"), iat + 3600);
    assert_eq!(claim_i64(&id, "auth_time"), iat);
    assert!(claims.get("client_id").is_none(), "client_id is an access-token claim");
    assert!(claims.get("scope").is_none(), "scope is an access-token claim");
}

#[tokio::test]
async fn refresh_keeps_auth_time_and_issues_new_jti() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("refresh-claims").await;
    c.admin_user(&pool, "cara", "cara@example.com").await;
    let tokens = c.sign_in(&pool, "cara", PASSWORD).await;
    let first = c.verify_jwt(&pool.pool_id, tokens.access_token().unwrap()).await;
    c.advance(Duration::from_secs(600));
    let out = c.refresh(&pool, tokens.refresh_token().unwrap()).await.unwrap();
    let r = out.authentication_result().unwrap();
    let access = c.verify_jwt(&pool.pool_id, r.access_token().unwrap()).await;
    let id = c.verify_jwt(&pool.pool_id, r.id_token().unwrap()).await;
    assert_eq!(claim_i64(&access, "iat"), claim_i64(&first, "iat") + 600);
    assert_eq!(claim_i64(&access, "exp"), claim_i64(&access, "iat") + 3600);
    assert_eq!(
        claim_i64(&access, "auth_time"),
        claim_i64(&first, "auth_time"),
        "auth_time stays the time of the original sign-in"
    );
    assert_eq!(claim_i64(&id, "auth_time"), claim_i64(&first, "auth_time"));
    assert_ne!(access.claims["jti"], first.claims["jti"]);
    // origin_jti ties refreshed tokens to the original authentication (it is what revocation
    // keys on).
    assert_eq!(access.claims["origin_jti"], first.claims["origin_jti"]);
    assert_eq!(id.claims["token_use"], "id");
    assert_eq!(id.claims["aud"], pool.client_id.as_str());
}

#[tokio::test]
async fn access_token_expires() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("expiry").await;
    c.admin_user(&pool, "dan", "dan@example.com").await;
    let tokens = c.sign_in(&pool, "dan", PASSWORD).await;
    let access = tokens.access_token().unwrap();
    c.advance(Duration::from_secs(3000));
    c.idp
        .get_user()
        .access_token(access)
        .send()
        .await
        .expect("valid after 50 minutes");
    c.advance(Duration::from_secs(700));
    expect_err_msg(
        c.idp.get_user().access_token(access).send().await,
        "NotAuthorizedException",
        "Access Token has expired",
    );
    // The refresh token (30 days by default) still gets new tokens.
    let out = c
        .refresh(&pool, tokens.refresh_token().unwrap())
        .await
        .expect("refresh");
    c.idp
        .get_user()
        .access_token(out.authentication_result().unwrap().access_token().unwrap())
        .send()
        .await
        .expect("new access token");
}

#[tokio::test]
async fn refresh_token_lifetime() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("refresh-life").await;
    c.admin_user(&pool, "eve", "eve@example.com").await;
    let tokens = c.sign_in(&pool, "eve", PASSWORD).await;
    let refresh = tokens.refresh_token().unwrap();
    c.advance(Duration::from_secs(29 * 24 * 3600));
    c.refresh(&pool, refresh)
        .await
        .expect("refresh token valid after 29 days");
    c.advance(Duration::from_secs(2 * 24 * 3600));
    expect_err(c.refresh(&pool, refresh).await, "NotAuthorizedException");
}

#[tokio::test]
async fn tampered_and_foreign_tokens_are_refused() {
    let c = Cognate::start().await;
    let pool = c.create_pool("tamper").await;
    c.admin_user(&pool, "finn", "finn@example.com").await;
    let tokens = c.sign_in(&pool, "finn", PASSWORD).await;
    let access = tokens.access_token().unwrap();

    // Flip the payload: claim another username, keep the signature.
    let mut parts: Vec<String> = access.split('.').map(str::to_string).collect();
    let mut claims = decode_jwt(access).claims;
    claims["username"] = Value::from("admin");
    use base64::Engine as _;
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap());
    let forged = parts.join(".");
    expect_err_msg(
        c.idp.get_user().access_token(&forged).send().await,
        "NotAuthorizedException",
        "Invalid Access Token",
    );
    // An ID token is not an access token.
    expect_err(
        c.idp.get_user().access_token(tokens.id_token().unwrap()).send().await,
        "NotAuthorizedException",
    );
}

#[tokio::test]
async fn unverified_email_is_false_in_id_token() {
    let c = Cognate::start().await;
    let pool = c.create_pool("unverified").await;
    c.idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username("gwen")
        .message_action(cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress)
        .user_attributes(attr("email", "gwen@example.com"))
        // Explicit: whether AWS stores email_verified at all when it was never set is unclear.
        .user_attributes(attr("email_verified", "false"))
        .send()
        .await
        .unwrap();
    c.idp
        .admin_set_user_password()
        .user_pool_id(&pool.pool_id)
        .username("gwen")
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .unwrap();
    let tokens = c.sign_in(&pool, "gwen", PASSWORD).await;
    let id = c.verify_jwt(&pool.pool_id, tokens.id_token().unwrap()).await;
    assert_eq!(id.claims["email"], "gwen@example.com");
    assert_eq!(id.claims["email_verified"], Value::Bool(false), "{}", id.claims);
}
