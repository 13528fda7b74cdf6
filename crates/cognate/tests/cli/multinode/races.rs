//! Races between nodes end as they do on one node: 50 SignUps of one name, released together
//! and spread over three nodes, make one user.
use super::cluster::Cluster;
use super::*;
use std::sync::Arc;
use tokio::sync::Barrier;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_sign_ups_of_one_name_make_one_user() {
    const N: usize = 50;
    let Some(cluster) = Cluster::start("signup_race", 3, &[]).await else {
        return;
    };
    let cluster = Arc::new(cluster);
    let pool = create_pool(&cluster.nodes[0], "race").await;
    let barrier = Arc::new(Barrier::new(N));
    let mut tasks = Vec::new();
    for i in 0..N {
        let (cluster, pool, barrier) = (cluster.clone(), pool.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let node = cluster.node(i);
            let request = node
                .idp
                .sign_up()
                .client_id(&pool.client_id)
                .username("racer")
                .password(PASSWORD)
                .user_attributes(attr("email", &format!("racer{i}@example.com")));
            barrier.wait().await;
            request.send().await
        }));
    }
    let mut created = 0;
    let mut exists = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => created += 1,
            Err(e) => {
                let (code, message) = aws_error::<(), _>(Err(e));
                assert_eq!(code, "UsernameExistsException", "{message}");
                assert_eq!(message, "User already exists");
                exists += 1;
            }
        }
    }
    assert_eq!((created, exists), (1, N - 1));
    for node in &cluster.nodes {
        assert_eq!(usernames(node, &pool).await, ["racer"]);
    }
}
