//! Refresh-token rotation (`RefreshTokenRotation` on an app client): GetTokensFromRefreshToken
//! returns a new refresh token and the submitted one stops working after the grace period;
//! REFRESH_TOKEN_AUTH is refused on such clients; the token endpoint rotates too.
use std::time::Duration;

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider as idp;
use cognate_sdk_tests::*;
use idp::types::{AuthFlowType, ExplicitAuthFlowsType, FeatureType, RefreshTokenRotationType};

/// A client with password sign-in and rotation (`grace` seconds; `None`: rotation off).
async fn rotating_client(c: &Cognate, pool_id: &str, grace: Option<i32>) -> String {
    let mut b = c
        .idp
        .create_user_pool_client()
        .user_pool_id(pool_id)
        .client_name("rotating")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth);
    if let Some(g) = grace {
        b = b.refresh_token_rotation(
            RefreshTokenRotationType::builder()
                .feature(FeatureType::Enabled)
                .retry_grace_period_seconds(g)
                .build()
                .unwrap(),
        );
    }
    b.send()
        .await
        .expect("CreateUserPoolClient")
        .user_pool_client()
        .unwrap()
        .client_id()
        .unwrap()
        .to_owned()
}

async fn sign_in(c: &Cognate, client_id: &str, user: &str) -> idp::types::AuthenticationResultType {
    c.idp
        .initiate_auth()
        .client_id(client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", user)
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("InitiateAuth")
        .authentication_result()
        .cloned()
        .unwrap()
}

async fn refresh(c: &Cognate, client_id: &str, token: &str) -> Result<idp::types::AuthenticationResultType, AwsError> {
    let out = c
        .idp
        .get_tokens_from_refresh_token()
        .client_id(client_id)
        .refresh_token(token)
        .send()
        .await;
    match out {
        Ok(o) => Ok(o.authentication_result().cloned().unwrap()),
        Err(e) => Err(aws_err::<(), _>(Err(e))),
    }
}

#[tokio::test]
async fn rotation_gives_a_new_refresh_token_and_retires_the_old_one() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("rotation").await;
    c.admin_user(&pool, "rita", "rita@example.com").await;
    let client = rotating_client(&c, &pool.pool_id, Some(0)).await;
    let described = c
        .idp
        .describe_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_id(&client)
        .send()
        .await
        .unwrap();
    let rotation = described.user_pool_client().unwrap().refresh_token_rotation().unwrap();
    assert_eq!(rotation.feature(), &FeatureType::Enabled);
    assert_eq!(rotation.retry_grace_period_seconds(), Some(0));

    let first = sign_in(&c, &client, "rita").await;
    let old = first.refresh_token().unwrap().to_owned();
    let rotated = refresh(&c, &client, &old).await.expect("refresh");
    let new = rotated
        .refresh_token()
        .expect("a new refresh token with rotation")
        .to_owned();
    assert_ne!(new, old);
    let a1 = c.verify_jwt(&pool.pool_id, first.access_token().unwrap()).await;
    let a2 = c.verify_jwt(&pool.pool_id, rotated.access_token().unwrap()).await;
    assert_eq!(a1.claims["auth_time"], a2.claims["auth_time"], "the same sign-in");

    // Grace 0: the old token is dead at once; the new one works (and rotates again).
    let reused = refresh(&c, &client, &old).await.unwrap_err();
    assert_eq!(reused.code, "RefreshTokenReuseException");
    let again = refresh(&c, &client, &new).await.expect("the new token works");
    assert!(again.refresh_token().is_some());
    // Access tokens from the rotated-out token still work until they expire.
    c.idp
        .get_user()
        .access_token(first.access_token().unwrap())
        .send()
        .await
        .expect("GetUser");

    // REFRESH_TOKEN_AUTH is refused on a rotating client.
    let flow = c
        .idp
        .initiate_auth()
        .client_id(&client)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", again.refresh_token().unwrap())
        .send()
        .await;
    expect_err(flow, "InvalidParameterException");

    // GlobalSignOut ends the rotated sessions too.
    c.idp
        .global_sign_out()
        .access_token(again.access_token().unwrap())
        .send()
        .await
        .unwrap();
    let after = refresh(&c, &client, again.refresh_token().unwrap()).await.unwrap_err();
    assert_eq!(after.code, "NotAuthorizedException");
}

#[tokio::test]
async fn the_grace_period_lets_a_client_retry_with_the_old_token() {
    let c = Cognate::start_with_clock().await;
    let pool = c.create_pool("rotation-grace").await;
    c.admin_user(&pool, "gus", "gus@example.com").await;
    let client = rotating_client(&c, &pool.pool_id, Some(30)).await;
    let old = sign_in(&c, &client, "gus").await.refresh_token().unwrap().to_owned();
    refresh(&c, &client, &old).await.expect("first refresh");
    c.advance(Duration::from_secs(20));
    let retried = refresh(&c, &client, &old)
        .await
        .expect("a retry within the grace period");
    assert!(retried.refresh_token().is_some());
    c.advance(Duration::from_secs(15));
    assert_eq!(
        refresh(&c, &client, &old).await.unwrap_err().code,
        "RefreshTokenReuseException"
    );
}

#[tokio::test]
async fn without_rotation_nothing_changes_and_bad_settings_are_refused() {
    let c = Cognate::start().await;
    let pool = c.create_pool("no-rotation").await;
    c.admin_user(&pool, "nia", "nia@example.com").await;
    let client = rotating_client(&c, &pool.pool_id, None).await;
    let old = sign_in(&c, &client, "nia").await.refresh_token().unwrap().to_owned();
    let r = refresh(&c, &client, &old).await.unwrap();
    assert!(r.refresh_token().is_none());
    refresh(&c, &client, &old).await.expect("the same token again");

    let raw = |body: serde_json::Value| {
        let c = &c;
        async move {
            c.raw(
                "AWSCognitoIdentityProviderService.CreateUserPoolClient",
                body.to_string(),
            )
            .await
        }
    };
    for (rotation, message) in [
        (
            serde_json::json!({"Feature": "SOMETIMES"}),
            "Value 'SOMETIMES' at 'refreshTokenRotation.feature' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]",
        ),
        (
            serde_json::json!({"Feature": "ENABLED", "RetryGracePeriodSeconds": 61}),
            "Value '61' at 'refreshTokenRotation.retryGracePeriodSeconds' failed to satisfy constraint: Member must have value less than or equal to 60",
        ),
        (
            serde_json::json!({"RetryGracePeriodSeconds": 5}),
            "Value null at 'refreshTokenRotation.feature' failed to satisfy constraint: Member must not be null",
        ),
    ] {
        let resp = raw(serde_json::json!({
            "UserPoolId": pool.pool_id, "ClientName": "bad", "RefreshTokenRotation": rotation
        }))
        .await;
        assert_eq!(resp.status(), 400);
        let body: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(body["__type"], "InvalidParameterException");
        assert!(body["message"].as_str().unwrap().contains(message), "{body}");
    }
}

#[tokio::test]
async fn the_token_endpoint_rotates_too() {
    use crate::oauth::{Browser, CALLBACK, authorize_url, oauth_pool, query_param, sign_in_through_pages, token};
    let c = Cognate::start().await;
    let p = oauth_pool(&c, "rotating-web").await;
    c.idp
        .update_user_pool_client()
        .user_pool_id(&p.pool.pool_id)
        .client_id(&p.client_id)
        .allowed_o_auth_flows_user_pool_client(true)
        .allowed_o_auth_flows(idp::types::OAuthFlowType::Code)
        .allowed_o_auth_scopes("openid")
        .callback_urls(CALLBACK)
        .supported_identity_providers("COGNITO")
        .refresh_token_rotation(
            RefreshTokenRotationType::builder()
                .feature(FeatureType::Enabled)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("UpdateUserPoolClient");
    let mut b = Browser::new(&c);
    let authorize = authorize_url(&p.client_id, "").replace("scope=openid+email", "scope=openid");
    let done = sign_in_through_pages(&mut b, &authorize, "amy", PASSWORD).await;
    let code = query_param(done.location.as_deref().unwrap(), "code").unwrap();
    let (_, tokens) = token(
        &c,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &p.client_id),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ],
        None,
    )
    .await;
    let old = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, rotated) = token(
        &c,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &p.client_id),
            ("refresh_token", &old),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["refresh_token"]
        .as_str()
        .expect("a new refresh token")
        .to_owned();
    assert_ne!(new, old);
    let (status, err) = token(
        &c,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &p.client_id),
            ("refresh_token", &old),
        ],
        None,
    )
    .await;
    assert_eq!((status, err["error"].as_str()), (400, Some("invalid_grant")));
    // The OAuth refresh token also works with GetTokensFromRefreshToken (as Amplify refreshes).
    let r = refresh(&c, &p.client_id, &new)
        .await
        .expect("GetTokensFromRefreshToken");
    let access = c.verify_jwt(&p.pool.pool_id, r.access_token().unwrap()).await;
    assert_eq!(access.claims["scope"], "openid", "the granted scopes are kept");
}
