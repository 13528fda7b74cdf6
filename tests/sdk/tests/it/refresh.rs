//! GetTokensFromRefreshToken: new tokens from a refresh token, its errors (revoked, expired,
//! another client's, client secret, disabled user, refresh flow not allowed, validation), and
//! Amplify v6 refreshing through it by itself (`tests/node/amplify-refresh.mjs`).

use std::path::Path;
use std::time::Duration;

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider as idp;
use idp::operation::get_tokens_from_refresh_token::{GetTokensFromRefreshTokenError, GetTokensFromRefreshTokenOutput};
use idp::types::{AuthFlowType, AuthenticationResultType, ExplicitAuthFlowsType};

use cognate_sdk_tests::*;
use serde_json::{Value, json};

use crate::protections::client_with;
use crate::srp_clients::{repo_root, run};

const TARGET: &str = "AWSCognitoIdentityProviderService.GetTokensFromRefreshToken";

type GetTokensResult = Result<GetTokensFromRefreshTokenOutput, idp::error::SdkError<GetTokensFromRefreshTokenError>>;

/// GetTokensFromRefreshToken for `client_id`, without a client secret.
async fn get_tokens(c: &Cognate, client_id: &str, refresh_token: &str) -> GetTokensResult {
    c.idp
        .get_tokens_from_refresh_token()
        .client_id(client_id)
        .refresh_token(refresh_token)
        .send()
        .await
}

/// The AuthenticationResult of a successful call.
#[track_caller]
fn result_of(out: GetTokensResult) -> AuthenticationResultType {
    out.expect("GetTokensFromRefreshToken")
        .authentication_result()
        .cloned()
        .expect("AuthenticationResult")
}

#[tokio::test]
async fn refresh_token_gets_new_working_tokens() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("get-tokens").await;
    let sub = c.admin_user(&pool, "alice", "alice@example.com").await;
    let tokens = c.sign_in(&pool, "alice", PASSWORD).await;
    let refresh = tokens.refresh_token().unwrap();
    let first = c.verify_jwt(&pool.pool_id, tokens.access_token().unwrap()).await;

    // An hour and a bit later the access token has expired; the refresh token has not.
    c.advance(Duration::from_secs(3700));
    expect_err_msg(
        c.idp
            .get_user()
            .access_token(tokens.access_token().unwrap())
            .send()
            .await,
        "NotAuthorizedException",
        "Access Token has expired",
    );
    let r = result_of(get_tokens(&c, &pool.client_id, refresh).await);
    assert!(r.refresh_token().is_none(), "no new refresh token without rotation");
    assert_eq!(r.expires_in(), 3600);
    assert_eq!(r.token_type(), Some("Bearer"));
    assert!(r.new_device_metadata().is_none());

    let access = c.verify_jwt(&pool.pool_id, r.access_token().unwrap()).await;
    assert_eq!(access.claims["token_use"], "access");
    assert_eq!(access.claims["sub"], sub.as_str());
    assert_eq!(access.claims["username"], "alice");
    assert_eq!(access.claims["client_id"], pool.client_id.as_str());
    assert_eq!(claim_i64(&access, "iat"), claim_i64(&first, "iat") + 3700);
    assert_eq!(claim_i64(&access, "exp"), claim_i64(&access, "iat") + 3600);
    assert_eq!(claim_i64(&access, "auth_time"), claim_i64(&first, "auth_time"));
    assert_ne!(access.claims["jti"], first.claims["jti"]);
    assert_eq!(
        access.claims["origin_jti"], first.claims["origin_jti"],
        "the same sign-in"
    );

    let id = c.verify_jwt(&pool.pool_id, r.id_token().unwrap()).await;
    assert_eq!(id.claims["token_use"], "id");
    assert_eq!(id.claims["aud"], pool.client_id.as_str());
    assert_eq!(id.claims["sub"], sub.as_str());
    assert_eq!(id.claims["cognito:username"], "alice");
    assert_eq!(id.claims["email"], "alice@example.com");
    assert_eq!(claim_i64(&id, "auth_time"), claim_i64(&first, "auth_time"));

    let user = c
        .idp
        .get_user()
        .access_token(r.access_token().unwrap())
        .send()
        .await
        .expect("GetUser with the new access token");
    assert_eq!(user.username(), "alice");

    // The refresh token keeps working, and with a well-formed DeviceKey too (devices are not
    // remembered, so the key changes nothing).
    result_of(
        c.idp
            .get_tokens_from_refresh_token()
            .client_id(&pool.client_id)
            .refresh_token(refresh)
            .device_key("us-east-1_0f8fad5b-d9cb-469f-a165-70867728950e")
            .send()
            .await,
    );
    // REFRESH_TOKEN_AUTH takes the same refresh token.
    c.refresh(&pool, refresh).await.expect("REFRESH_TOKEN_AUTH");

    // Unsigned, as Cognito serves it, and the answer holds only the AuthenticationResult.
    let resp = c
        .raw(
            TARGET,
            json!({"ClientId": pool.client_id, "RefreshToken": refresh}).to_string(),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.expect("JSON");
    let keys: Vec<&String> = body.as_object().expect("object").keys().collect();
    assert_eq!(keys, ["AuthenticationResult"], "{body}");
    let result = body["AuthenticationResult"].as_object().expect("AuthenticationResult");
    let mut keys: Vec<&str> = result.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["AccessToken", "ExpiresIn", "IdToken", "TokenType"], "{body}");
}

#[tokio::test]
async fn revoked_expired_and_foreign_refresh_tokens_are_refused() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("get-tokens-refused").await;
    c.admin_user(&pool, "bo", "bo@example.com").await;

    // Another client of the same pool, another pool, nonsense, an unknown client.
    let tokens = c.sign_in(&pool, "bo", PASSWORD).await;
    let refresh = tokens.refresh_token().unwrap();
    let (other_client, _) = c.create_client(&pool.pool_id, "other", false).await;
    expect_err_msg(
        get_tokens(&c, &other_client, refresh).await,
        "NotAuthorizedException",
        "Invalid Refresh Token",
    );
    let other_pool = c.create_pool("get-tokens-other").await;
    expect_err_msg(
        get_tokens(&c, &other_pool.client_id, refresh).await,
        "NotAuthorizedException",
        "Invalid Refresh Token",
    );
    expect_err_msg(
        get_tokens(&c, &pool.client_id, "not-a-refresh-token").await,
        "NotAuthorizedException",
        "Invalid Refresh Token",
    );
    expect_err_msg(
        get_tokens(&c, "1example23456789abcdefghij", refresh).await,
        "ResourceNotFoundException",
        "User pool client 1example23456789abcdefghij does not exist.",
    );
    result_of(get_tokens(&c, &pool.client_id, refresh).await);

    // RevokeToken revokes it.
    c.idp
        .revoke_token()
        .client_id(&pool.client_id)
        .token(refresh)
        .send()
        .await
        .expect("RevokeToken");
    expect_err_msg(
        get_tokens(&c, &pool.client_id, refresh).await,
        "NotAuthorizedException",
        "Refresh Token has been revoked",
    );

    // GlobalSignOut revokes every refresh token of the user.
    let one = c.sign_in(&pool, "bo", PASSWORD).await;
    let two = c.sign_in(&pool, "bo", PASSWORD).await;
    result_of(get_tokens(&c, &pool.client_id, two.refresh_token().unwrap()).await);
    c.idp
        .global_sign_out()
        .access_token(one.access_token().unwrap())
        .send()
        .await
        .expect("GlobalSignOut");
    for t in [&one, &two] {
        expect_err_msg(
            get_tokens(&c, &pool.client_id, t.refresh_token().unwrap()).await,
            "NotAuthorizedException",
            "Refresh Token has been revoked",
        );
    }

    // Refresh tokens last 30 days by default.
    let three = c.sign_in(&pool, "bo", PASSWORD).await;
    c.advance(Duration::from_secs(29 * 24 * 3600));
    result_of(get_tokens(&c, &pool.client_id, three.refresh_token().unwrap()).await);
    c.advance(Duration::from_secs(2 * 24 * 3600));
    expect_err_msg(
        get_tokens(&c, &pool.client_id, three.refresh_token().unwrap()).await,
        "NotAuthorizedException",
        "Refresh Token has expired",
    );
}

#[tokio::test]
async fn client_with_secret_needs_the_secret() {
    let c = Cognate::start().await;
    let pool = c.create_pool("get-tokens-secret").await;
    c.admin_user(&pool, "cy", "cy@example.com").await;
    let (client_id, secret) = c.create_client(&pool.pool_id, "confidential", true).await;
    let secret = secret.expect("a client secret");
    let signed_in = c
        .idp
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "cy")
        .auth_parameters("PASSWORD", PASSWORD)
        .auth_parameters("SECRET_HASH", secret_hash(&secret, "cy", &client_id))
        .send()
        .await
        .expect("InitiateAuth with SECRET_HASH");
    let refresh = signed_in.authentication_result().unwrap().refresh_token().unwrap();
    let with_secret = |s: &str| {
        c.idp
            .get_tokens_from_refresh_token()
            .client_id(&client_id)
            .refresh_token(refresh)
            .client_secret(s)
            .send()
    };

    expect_err_msg(
        get_tokens(&c, &client_id, refresh).await,
        "NotAuthorizedException",
        &format!("Client {client_id} is configured for secret but secret was not received"),
    );
    // Another secret of the same shape.
    let last = secret.chars().last().unwrap();
    let wrong = format!("{}{}", &secret[..secret.len() - 1], if last == 'a' { 'b' } else { 'a' });
    expect_err_msg(
        with_secret(&wrong).await,
        "NotAuthorizedException",
        &format!("Unable to verify secret hash for client {client_id}"),
    );
    // It is the secret itself, not a SECRET_HASH (which is not even a well-formed secret).
    expect_err(
        with_secret(&secret_hash(&secret, "cy", &client_id)).await,
        "InvalidParameterException",
    );

    let r = result_of(with_secret(&secret).await);
    let access = c.verify_jwt(&pool.pool_id, r.access_token().unwrap()).await;
    assert_eq!(access.claims["client_id"], client_id.as_str());
    assert_eq!(access.claims["username"], "cy");
    c.idp
        .get_user()
        .access_token(r.access_token().unwrap())
        .send()
        .await
        .expect("GetUser with the new access token");
}

#[tokio::test]
async fn disabled_user_and_client_without_refresh_flow_are_refused() {
    let c = Cognate::start().await;
    let pool = c.create_pool("get-tokens-disabled").await;
    c.admin_user(&pool, "di", "di@example.com").await;
    let tokens = c.sign_in(&pool, "di", PASSWORD).await;
    let refresh = tokens.refresh_token().unwrap();

    c.idp
        .admin_disable_user()
        .user_pool_id(&pool.pool_id)
        .username("di")
        .send()
        .await
        .expect("AdminDisableUser");
    expect_err_msg(
        get_tokens(&c, &pool.client_id, refresh).await,
        "NotAuthorizedException",
        "User is disabled.",
    );
    c.idp
        .admin_enable_user()
        .user_pool_id(&pool.pool_id)
        .username("di")
        .send()
        .await
        .expect("AdminEnableUser");
    result_of(get_tokens(&c, &pool.client_id, refresh).await);

    // The client stops allowing refresh: its refresh tokens stop working.
    c.idp
        .update_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_id(&pool.client_id)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
        .send()
        .await
        .expect("UpdateUserPoolClient");
    expect_err_msg(
        get_tokens(&c, &pool.client_id, refresh).await,
        "InvalidParameterException",
        "Refresh Token flow not enabled for this client",
    );
}

#[tokio::test]
async fn members_are_validated() {
    let c = Cognate::start().await;
    let pool = c.create_pool("get-tokens-validation").await;
    c.admin_user(&pool, "ed", "ed@example.com").await;
    let refresh = c
        .sign_in(&pool, "ed", PASSWORD)
        .await
        .refresh_token()
        .unwrap()
        .to_string();
    let client = pool.client_id.as_str();
    let cases = [
        (
            json!({"ClientId": client}),
            "1 validation error detected: Value null at 'refreshToken' failed to satisfy constraint: Member must not be null",
        ),
        (
            json!({"RefreshToken": refresh}),
            "1 validation error detected: Value null at 'clientId' failed to satisfy constraint: Member must not be null",
        ),
        (
            json!({"ClientId": client, "RefreshToken": "not a token"}),
            "1 validation error detected: Value at 'refreshToken' failed to satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9-_=.]+",
        ),
        (
            json!({"ClientId": "a/b", "RefreshToken": refresh}),
            "1 validation error detected: Value at 'clientId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+]+",
        ),
        (
            json!({"ClientId": client, "RefreshToken": refresh, "ClientSecret": "short"}),
            "1 validation error detected: Value at 'clientSecret' failed to satisfy constraint: Member must have length greater than or equal to 24",
        ),
        (
            json!({"ClientId": client, "RefreshToken": refresh, "DeviceKey": "not-a-device-key"}),
            "1 validation error detected: Value 'not-a-device-key' at 'deviceKey' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-f-]+",
        ),
        (
            json!({"ClientId": client, "RefreshToken": refresh, "DeviceKey": "us-east-1_XYZ"}),
            "1 validation error detected: Value 'us-east-1_XYZ' at 'deviceKey' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w-]+_[0-9a-f-]+",
        ),
    ];
    for (body, message) in cases {
        let resp = c.raw(TARGET, body.to_string()).await;
        assert_eq!(resp.status().as_u16(), 400, "{body}");
        let err: Value = resp.json().await.expect("JSON error");
        assert_eq!(err["__type"], "InvalidParameterException", "{body}: {err}");
        assert_eq!(err["message"], message, "{body}");
    }
}

/// Amplify v6 (≥ 6.15.4) refreshes only through GetTokensFromRefreshToken: once its clock is past
/// the access token's expiry, `fetchAuthSession` must get new tokens from Cognate by itself.
#[tokio::test]
async fn amplify_v6_refreshes_expired_tokens() {
    let dir = repo_root().join("tests/node");
    assert!(
        dir.join("node_modules/aws-amplify").is_dir(),
        "{}/node_modules is missing or incomplete: run `npm ci --prefix tests/node` in the repository root",
        dir.display()
    );
    let c = Cognate::start().await;
    let pool = c.create_pool("amplify").await;
    let client_id = client_with(&c, &pool.pool_id, false).await;
    let sub = c.admin_user(&pool, "amy", "amy@example.com").await;
    let out = run(
        Path::new("node"),
        &[
            "amplify-refresh.mjs",
            &c.endpoint,
            &pool.pool_id,
            &client_id,
            "amy",
            PASSWORD,
        ],
        &dir,
    )
    .await;
    let result: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    assert_eq!(result["username"], "amy");
    assert_eq!(result["userId"], sub.as_str());
    assert_eq!(result["email"], "amy@example.com");
    assert_eq!(
        result["signInOperations"],
        json!(["InitiateAuth", "RespondToAuthChallenge"]),
        "Amplify signs in with SRP"
    );
    // The expired tokens refreshed by themselves, then GetUser (fetchUserAttributes), then the
    // forced refresh; getCurrentUser reads the stored tokens and sends nothing.
    assert_eq!(
        result["operations"],
        json!([
            "InitiateAuth",
            "RespondToAuthChallenge",
            "GetTokensFromRefreshToken",
            "GetUser",
            "GetTokensFromRefreshToken"
        ]),
        "{result}"
    );

    // The tokens Amplify ended with are Cognate's, new, and work.
    let tokens = result["tokens"].as_array().expect("tokens");
    let last = &tokens[2];
    let access = c.verify_jwt(&pool.pool_id, last["access"].as_str().unwrap()).await;
    let first = c.verify_jwt(&pool.pool_id, tokens[0]["access"].as_str().unwrap()).await;
    assert_eq!(access.claims["client_id"], client_id.as_str());
    assert_eq!(access.claims["origin_jti"], first.claims["origin_jti"]);
    assert_ne!(access.claims["jti"], first.claims["jti"]);
    let id = c.verify_jwt(&pool.pool_id, last["id"].as_str().unwrap()).await;
    assert_eq!(id.claims["sub"], sub.as_str());
    let user = c
        .idp
        .get_user()
        .access_token(last["access"].as_str().unwrap())
        .send()
        .await
        .expect("GetUser with Amplify's refreshed access token");
    assert_eq!(user.username(), "amy");
    // And the refresh token Amplify kept is still good.
    result_of(get_tokens(&c, &client_id, result["refreshToken"].as_str().unwrap()).await);
}
