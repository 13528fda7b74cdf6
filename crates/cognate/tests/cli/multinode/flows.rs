//! One user's life spread over three nodes: sign-up on one, confirmation on another, sign-in
//! on a third, refresh on yet another; a sign-out or a revoked token is seen by every node at
//! once.
use super::cluster::{Cluster, Node};
use super::*;

/// GetUser through `node`: the username, or the AWS error.
async fn get_user(node: &Node, access_token: &str) -> Result<String, (String, String)> {
    match node.idp.get_user().access_token(access_token).send().await {
        Ok(out) => Ok(out.username().to_owned()),
        Err(e) => Err(aws_error::<(), _>(Err(e))),
    }
}

/// REFRESH_TOKEN_AUTH through `node`: the new access token, or the AWS error.
async fn refresh(node: &Node, pool: &TestPool, refresh_token: &str) -> Result<String, (String, String)> {
    match node
        .idp
        .initiate_auth()
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", refresh_token)
        .send()
        .await
    {
        Ok(out) => Ok(out
            .authentication_result()
            .and_then(|r| r.access_token())
            .expect("a new access token")
            .to_owned()),
        Err(e) => Err(aws_error::<(), _>(Err(e))),
    }
}

/// Tokens of a password sign-in through `node`: (access, refresh).
async fn tokens(node: &Node, pool: &TestPool, username: &str) -> (String, String) {
    let out = sign_in(node, pool, username, PASSWORD).await.expect("sign-in");
    let r = out.authentication_result().expect("tokens");
    (
        r.access_token().expect("access token").to_owned(),
        r.refresh_token().expect("refresh token").to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_moves_between_nodes() {
    let Some(cluster) = Cluster::start("flows", 3, &[]).await else {
        return;
    };
    let [a, b, c] = [&cluster.nodes[0], &cluster.nodes[1], &cluster.nodes[2]];
    let pool = create_pool(a, "flows").await;

    sign_up(a, &pool, "ann").await.expect("SignUp on A");
    // The code is in the shared outbox: node C serves it.
    let code = c.latest_code("ann@example.com").await;
    b.idp
        .confirm_sign_up()
        .client_id(&pool.client_id)
        .username("ann")
        .confirmation_code(&code)
        .send()
        .await
        .expect("ConfirmSignUp on B");
    for node in &cluster.nodes {
        let user = node
            .idp
            .admin_get_user()
            .user_pool_id(&pool.pool_id)
            .username("ann")
            .send()
            .await
            .expect("AdminGetUser");
        assert_eq!(user.user_status().map(|s| s.as_str()), Some("CONFIRMED"));
    }

    let (access, refresh_token) = tokens(c, &pool, "ann").await;
    let refreshed = refresh(a, &pool, &refresh_token).await.expect("refresh on A");
    for node in &cluster.nodes {
        assert_eq!(get_user(node, &access).await.as_deref(), Ok("ann"));
        assert_eq!(get_user(node, &refreshed).await.as_deref(), Ok("ann"));
    }

    // GlobalSignOut on B: no node accepts the tokens or the refresh token any more.
    b.idp
        .global_sign_out()
        .access_token(&refreshed)
        .send()
        .await
        .expect("GlobalSignOut on B");
    for node in &cluster.nodes {
        for token in [&access, &refreshed] {
            let (code, message) = get_user(node, token).await.unwrap_err();
            assert_eq!(code, "NotAuthorizedException");
            assert_eq!(message, "Access Token has been revoked");
        }
        let (code, _) = refresh(node, &pool, &refresh_token).await.unwrap_err();
        assert_eq!(code, "NotAuthorizedException");
    }

    // RevokeToken on C: the refresh token and the access tokens issued from it, everywhere;
    // another sign-in of the same user is untouched.
    let (access, refresh_token) = tokens(a, &pool, "ann").await;
    let (other_access, _) = tokens(b, &pool, "ann").await;
    let refreshed = refresh(b, &pool, &refresh_token).await.expect("refresh on B");
    c.idp
        .revoke_token()
        .client_id(&pool.client_id)
        .token(&refresh_token)
        .send()
        .await
        .expect("RevokeToken on C");
    for node in &cluster.nodes {
        for token in [&access, &refreshed] {
            let (code, _) = get_user(node, token).await.unwrap_err();
            assert_eq!(code, "NotAuthorizedException");
        }
        let (code, _) = refresh(node, &pool, &refresh_token).await.unwrap_err();
        assert_eq!(code, "NotAuthorizedException");
        assert_eq!(get_user(node, &other_access).await.as_deref(), Ok("ann"));
    }
}
