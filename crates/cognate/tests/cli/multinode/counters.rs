//! Guess counters live in the database: wrong passwords spread over the nodes lock the user
//! out after as many as on one node, and a code's wrong answers count wherever they arrive —
//! also when they arrive at once.
use super::cluster::Cluster;
use super::*;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Barrier;

/// Cognito's lockout starts at the fifth wrong password in a row, and then lasts 1 s.
const LOCKOUT_THRESHOLD: usize = 5;
const FIRST_LOCKOUT: Duration = Duration::from_secs(1);

/// The stored count of wrong passwords in a row (the user record's lockout state).
async fn stored_failures(cluster: &Cluster, username: &str) -> i64 {
    let row = cluster
        .db
        .client()
        .await
        .query_one("SELECT data FROM users WHERE username = $1", &[&username])
        .await
        .expect("the user's row");
    let data: serde_json::Value = serde_json::from_str(row.get::<_, &str>(0)).expect("JSON");
    fn find(v: &serde_json::Value) -> Option<i64> {
        match v {
            serde_json::Value::Object(m) => m
                .get("lockout")
                .and_then(|l| l["failures"].as_i64())
                .or_else(|| m.values().find_map(find)),
            _ => None,
        }
    }
    find(&data).unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_on_every_node_lock_out_after_five() {
    let Some(cluster) = Cluster::start("lockout", 3, &[]).await else {
        return;
    };
    let pool = create_pool(&cluster.nodes[0], "lockout").await;
    admin_user(&cluster.nodes[0], &pool, "lou").await;
    let mut fifth_answered = None;
    for attempt in 0..LOCKOUT_THRESHOLD {
        let (code, message) = aws_error(sign_in(cluster.node(attempt), &pool, "lou", "Wr0ng-Passw0rd!").await);
        assert_eq!(
            (code.as_str(), message.as_str()),
            ("NotAuthorizedException", "Incorrect username or password."),
            "attempt {attempt}"
        );
        fifth_answered = Some(Instant::now());
        assert_eq!(stored_failures(&cluster, "lou").await, attempt as i64 + 1);
    }
    // The sixth guess, on a node that has seen only one of the five, is refused unchecked: the
    // count is the database's, not the node's (a node's own count would be at 2).
    let sixth = sign_in(cluster.node(LOCKOUT_THRESHOLD), &pool, "lou", PASSWORD).await;
    let waited = fifth_answered.expect("five attempts").elapsed();
    let (code, message) = aws_error(sixth);
    assert_eq!(code, "NotAuthorizedException");
    if message != "Password attempts exceeded" {
        assert!(
            waited >= FIRST_LOCKOUT,
            "the sixth attempt was checked ({message:?}) {waited:?} after the fifth failure, within the lockout"
        );
    }
}

/// Signs `username` up through the first node; returns the code it was sent and a wrong one.
async fn signed_up(cluster: &Cluster, pool: &TestPool, username: &str) -> (String, String) {
    sign_up(&cluster.nodes[0], pool, username).await.expect("SignUp");
    let code = cluster.nodes[0].latest_code(&format!("{username}@example.com")).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    (code, wrong.to_owned())
}

async fn confirm(
    node: &super::cluster::Node,
    pool: &TestPool,
    username: &str,
    code: &str,
) -> Result<(), (String, String)> {
    node.idp
        .confirm_sign_up()
        .client_id(&pool.client_id)
        .username(username)
        .confirmation_code(code)
        .send()
        .await
        .map(drop)
        .map_err(|e| aws_error::<(), _>(Err(e)))
}

const MISMATCH: (&str, &str) = (
    "CodeMismatchException",
    "Invalid verification code provided, please try again.",
);
const LIMIT: (&str, &str) = (
    "LimitExceededException",
    "Attempt limit exceeded, please try after some time.",
);

fn pair(e: &(String, String)) -> (&str, &str) {
    (e.0.as_str(), e.1.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_codes_wrong_answers_count_on_every_node() {
    let Some(cluster) = Cluster::start("code_attempts", 3, &[]).await else {
        return;
    };
    let pool = create_pool(&cluster.nodes[0], "codes").await;

    // One after the other, round the nodes: five wrong answers, then even the right code is
    // refused.
    let (code, wrong) = signed_up(&cluster, &pool, "cody").await;
    for attempt in 0..5 {
        let e = confirm(cluster.node(attempt), &pool, "cody", &wrong).await.unwrap_err();
        assert_eq!(pair(&e), MISMATCH, "attempt {attempt}");
    }
    let e = confirm(cluster.node(5), &pool, "cody", &code).await.unwrap_err();
    assert_eq!(pair(&e), LIMIT);

    // At once, spread over the nodes: still five answers.
    const GUESSES: usize = 15;
    let (code, wrong) = signed_up(&cluster, &pool, "cora").await;
    let cluster = Arc::new(cluster);
    let barrier = Arc::new(Barrier::new(GUESSES));
    let mut tasks = Vec::new();
    for i in 0..GUESSES {
        let (cluster, pool, barrier, wrong) = (cluster.clone(), pool.clone(), barrier.clone(), wrong.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            confirm(cluster.node(i), &pool, "cora", &wrong).await
        }));
    }
    let mut mismatches = 0;
    for t in tasks {
        let e = t.await.unwrap().unwrap_err();
        match pair(&e) {
            MISMATCH => mismatches += 1,
            LIMIT => {}
            other => panic!("unexpected answer {other:?}"),
        }
    }
    // As on one node: exactly five guesses were compared, each counted before the next.
    assert_eq!(mismatches, 5, "wrong answers compared to the code");
    let e = confirm(cluster.node(0), &pool, "cora", &code).await.unwrap_err();
    assert_eq!(pair(&e), LIMIT);
}
