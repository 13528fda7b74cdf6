//! Nodes behind one address issue identical tokens: with `--public-url` or `--aws-issuer`
//! every node's `iss` is the same, and a token from one node works on another. Without either,
//! each node's issuer names its own port (the README says so), and tokens still work across
//! nodes: the pool's key, shared in the database, decides.
use super::cluster::{Cluster, http_get};
use super::*;
use base64::Engine as _;

fn claims(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).expect("a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64url");
    serde_json::from_slice(&bytes).expect("JSON claims")
}

/// Signs `ann` in on each node; returns each node's (id token iss, access token iss, access token).
async fn issuers(cluster: &Cluster, pool: &TestPool) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for node in &cluster.nodes {
        let r = sign_in(node, pool, "ann", PASSWORD).await.expect("sign-in");
        let r = r.authentication_result().expect("tokens");
        let access = r.access_token().unwrap().to_owned();
        let id_iss = claims(r.id_token().unwrap())["iss"].as_str().unwrap().to_owned();
        let access_iss = claims(&access)["iss"].as_str().unwrap().to_owned();
        out.push((id_iss, access_iss, access));
    }
    out
}

/// Every node's tokens carry `expected` as issuer, each node's token works on every node, and
/// every node serves the same JWKS.
async fn same_issuer_everywhere(test: &str, args: &[&str], expected_base: &str) {
    let Some(cluster) = Cluster::start(test, 2, args).await else {
        return;
    };
    let pool = create_pool(&cluster.nodes[0], "issuer").await;
    admin_user(&cluster.nodes[1], &pool, "ann").await;
    let expected = format!("{expected_base}/{}", pool.pool_id);
    for (id_iss, access_iss, access) in issuers(&cluster, &pool).await {
        assert_eq!(id_iss, expected);
        assert_eq!(access_iss, expected);
        for node in &cluster.nodes {
            let user = node.idp.get_user().access_token(&access).send().await.expect("GetUser");
            assert_eq!(user.username(), "ann");
        }
    }
    let jwks_path = format!("/{}/.well-known/jwks.json", pool.pool_id);
    let (status, first) = http_get(&cluster.nodes[0].addr, &jwks_path).await;
    assert_eq!(status, 200, "{first}");
    let (_, second) = http_get(&cluster.nodes[1].addr, &jwks_path).await;
    assert_eq!(first, second, "every node serves the pool's one key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_url_gives_every_node_one_issuer() {
    same_issuer_everywhere(
        "issuer_public",
        &["--public-url", "https://auth.example.test"],
        "https://auth.example.test",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_issuer_gives_every_node_one_issuer() {
    same_issuer_everywhere(
        "issuer_aws",
        &["--aws-issuer"],
        "https://cognito-idp.us-east-1.amazonaws.com",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_either_each_node_names_its_own_port() {
    let Some(cluster) = Cluster::start("issuer_own", 2, &[]).await else {
        return;
    };
    let pool = create_pool(&cluster.nodes[0], "issuer").await;
    admin_user(&cluster.nodes[0], &pool, "ann").await;
    let found = issuers(&cluster, &pool).await;
    for (node, (id_iss, _, access)) in cluster.nodes.iter().zip(&found) {
        assert_eq!(id_iss, &format!("{}/{}", node.endpoint, pool.pool_id));
        for other in &cluster.nodes {
            let user = other.idp.get_user().access_token(access).send().await.expect("GetUser");
            assert_eq!(user.username(), "ann");
        }
    }
    assert_ne!(found[0].0, found[1].0);
}
