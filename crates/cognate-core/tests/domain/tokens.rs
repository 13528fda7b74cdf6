//! Tokens: their claims, lifetimes from the client's settings, and revocation.
use crate::{claims, err_text};
use cognate_core::testkit::{Kit, PASSWORD, START_MS, service};
use serde_json::{Value, json};
use std::time::Duration;

async fn tokens(kit: &Kit, client: &str) -> Value {
    kit.sign_in(client, "alice", PASSWORD).await.expect("sign-in")["AuthenticationResult"].clone()
}

fn refresh(client: &str, token: &Value) -> Value {
    json!({
        "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client,
        "AuthParameters": {"REFRESH_TOKEN": token},
    })
}

#[tokio::test]
async fn access_and_id_tokens_carry_cognitos_claims() {
    let kit = service();
    let (pool, client) = kit.pool_client_user().await;
    let out = tokens(&kit, &client).await;
    let now = START_MS / 1000;

    let access = claims(out["AccessToken"].as_str().unwrap());
    assert_eq!(access["token_use"], "access");
    assert_eq!(access["client_id"], client.as_str());
    assert_eq!(access["username"], "alice");
    assert_eq!(access["iss"], format!("http://localhost:9229/{pool}"));
    assert_eq!(access["auth_time"], now);
    assert_eq!(access["iat"], now);
    assert_eq!(access["exp"], now + 3600, "an hour by default");
    assert!(access.get("aud").is_none(), "access tokens have no aud: {access}");

    let id = claims(out["IdToken"].as_str().unwrap());
    assert_eq!(id["token_use"], "id");
    assert_eq!(id["aud"], client.as_str());
    assert_eq!(id["cognito:username"], "alice");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["sub"], access["sub"]);
    assert_eq!(out["ExpiresIn"], 3600);
    assert_eq!(out["TokenType"], "Bearer");
}

#[tokio::test]
async fn token_lifetimes_follow_the_client() {
    let kit = service();
    let (pool, _) = kit.pool_client_user().await;
    let client = kit
        .create_client(
            &pool,
            json!({
                "AccessTokenValidity": 5, "IdTokenValidity": 2,
                "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "hours"},
            }),
        )
        .await;
    let out = tokens(&kit, &client).await;
    let access = claims(out["AccessToken"].as_str().unwrap());
    let id = claims(out["IdToken"].as_str().unwrap());
    assert_eq!(access["exp"].as_i64().unwrap() - access["iat"].as_i64().unwrap(), 300);
    assert_eq!(id["exp"].as_i64().unwrap() - id["iat"].as_i64().unwrap(), 7200);
    assert_eq!(out["ExpiresIn"], 300);
}

#[tokio::test]
async fn group_membership_appears_in_both_tokens() {
    let kit = service();
    let (pool, client) = kit.pool_client_user().await;
    for (name, precedence) in [("readers", 2), ("admins", 1)] {
        kit.ok(
            "CreateGroup",
            json!({"UserPoolId": pool, "GroupName": name, "Precedence": precedence}),
        )
        .await;
        kit.ok(
            "AdminAddUserToGroup",
            json!({"UserPoolId": pool, "Username": "alice", "GroupName": name}),
        )
        .await;
    }
    let out = tokens(&kit, &client).await;
    for token in ["AccessToken", "IdToken"] {
        let c = claims(out[token].as_str().unwrap());
        let mut groups: Vec<String> = serde_json::from_value(c["cognito:groups"].clone()).unwrap();
        groups.sort();
        assert_eq!(groups, ["admins", "readers"], "{token}");
    }
}

#[tokio::test]
async fn an_expired_access_token_is_refused() {
    let kit = service();
    let (_, client) = kit.pool_client_user().await;
    let out = tokens(&kit, &client).await;
    let get_user = json!({"AccessToken": out["AccessToken"]});
    kit.ok("GetUser", get_user.clone()).await;
    kit.clock.advance(Duration::from_secs(3601));
    assert_eq!(
        err_text(kit.call("GetUser", get_user).await),
        "NotAuthorizedException: Access Token has expired"
    );
}

#[tokio::test]
async fn refreshing_keeps_auth_time_and_issues_no_new_refresh_token() {
    let kit = service();
    let (_, client) = kit.pool_client_user().await;
    let first = tokens(&kit, &client).await;
    kit.clock.advance(Duration::from_secs(7200));
    let out = kit.ok("InitiateAuth", refresh(&client, &first["RefreshToken"])).await;
    let result = &out["AuthenticationResult"];
    assert!(result.get("RefreshToken").is_none(), "{out}");
    let access = claims(result["AccessToken"].as_str().unwrap());
    assert_eq!(access["auth_time"], START_MS / 1000, "the original sign-in time");
    assert_eq!(access["iat"], START_MS / 1000 + 7200);
}

#[tokio::test]
async fn global_sign_out_revokes_every_refresh_token_and_the_access_token() {
    let kit = service();
    let (_, client) = kit.pool_client_user().await;
    let one = tokens(&kit, &client).await;
    let two = tokens(&kit, &client).await;
    kit.ok("GlobalSignOut", json!({"AccessToken": one["AccessToken"]}))
        .await;
    for t in [&one, &two] {
        let r = kit.call("InitiateAuth", refresh(&client, &t["RefreshToken"])).await;
        assert_eq!(err_text(r), "NotAuthorizedException: Refresh Token has been revoked");
    }
    let r = kit.call("GetUser", json!({"AccessToken": two["AccessToken"]})).await;
    assert_eq!(err_text(r), "NotAuthorizedException: Access Token has been revoked");
    let three = tokens(&kit, &client).await;
    kit.ok("InitiateAuth", refresh(&client, &three["RefreshToken"])).await;
}

#[tokio::test]
async fn refresh_tokens_last_thirty_days_by_default() {
    let kit = service();
    let (_, client) = kit.pool_client_user().await;
    let out = tokens(&kit, &client).await;
    kit.clock.advance(Duration::from_secs(29 * 24 * 3600));
    kit.ok("InitiateAuth", refresh(&client, &out["RefreshToken"])).await;
    kit.clock.advance(Duration::from_secs(2 * 24 * 3600));
    let r = kit.call("InitiateAuth", refresh(&client, &out["RefreshToken"])).await;
    assert_eq!(err_text(r), "NotAuthorizedException: Refresh Token has expired");
}
