//! Faults: a node SIGKILLed under sign-up load loses no acknowledged user and the others keep
//! serving; connections cut by PostgreSQL mid-request leave no partial user, and the requests
//! that failed get an AWS error (InternalErrorException), never a bare 5xx or a hang; a node
//! refuses a database a newer Cognate migrated.
use super::cluster::{Cluster, Node, TestDatabase, spawn};
use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use tokio::sync::Mutex;

/// Sign-ups acknowledged (200) and failed, by username.
#[derive(Default)]
struct Outcomes {
    acknowledged: Vec<String>,
    failed: Vec<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_under_sign_up_load_loses_no_acknowledged_user() {
    const WORKERS_PER_NODE: usize = 3;
    /// Sign-ups the doomed node acknowledges before it is killed.
    const BEFORE_KILL: usize = 20;
    /// Sign-ups each survivor acknowledges after the kill.
    const AFTER_KILL: usize = 20;
    let Some(mut cluster) = Cluster::start("sigkill", 3, &[]).await else {
        return;
    };
    let pool = create_pool(&cluster.nodes[0], "sigkill").await;
    let victim_ok = Arc::new(AtomicUsize::new(0));
    let killed = Arc::new(AtomicBool::new(false));
    let after_kill = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let outcomes = Arc::new(Mutex::new(Outcomes::default()));
    let mut workers = Vec::new();
    for n in 0..3 {
        for w in 0..WORKERS_PER_NODE {
            let idp = cluster.nodes[n].idp.clone();
            let (pool, outcomes, victim_ok, killed, after_kill) = (
                pool.clone(),
                outcomes.clone(),
                victim_ok.clone(),
                killed.clone(),
                after_kill.clone(),
            );
            workers.push(tokio::spawn(async move {
                for i in 0.. {
                    let username = format!("n{n}w{w}u{i}");
                    let was_killed = killed.load(Ordering::SeqCst);
                    let result = idp
                        .sign_up()
                        .client_id(&pool.client_id)
                        .username(&username)
                        .password(PASSWORD)
                        .user_attributes(attr("email", &format!("{username}@example.com")))
                        .send()
                        .await;
                    let mut o = outcomes.lock().await;
                    match result {
                        Ok(_) => {
                            o.acknowledged.push(username);
                            if n == 0 {
                                victim_ok.fetch_add(1, Ordering::SeqCst);
                            } else if was_killed {
                                after_kill[n - 1].fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        Err(e) => {
                            // Only the killed node may fail, and only once it is killed.
                            assert_eq!(n, 0, "a surviving node failed a sign-up: {e:?}");
                            o.failed.push(username);
                            return;
                        }
                    }
                    drop(o);
                    let survivors_done = after_kill.iter().all(|c| c.load(Ordering::SeqCst) >= AFTER_KILL);
                    if n > 0 && survivors_done {
                        return;
                    }
                }
            }));
        }
    }
    // Rendezvous: the victim has acknowledged its share, with sign-ups in flight on every node.
    for _ in 0..6000 {
        if victim_ok.load(Ordering::SeqCst) >= BEFORE_KILL {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        victim_ok.load(Ordering::SeqCst) >= BEFORE_KILL,
        "the victim never got going"
    );
    killed.store(true, Ordering::SeqCst);
    cluster.nodes[0].sigkill().await;
    for w in workers {
        w.await.expect("a worker panicked");
    }
    let o = outcomes.lock().await;
    let survivor = &cluster.nodes[1];
    for username in &o.acknowledged {
        let user = survivor
            .idp
            .admin_get_user()
            .user_pool_id(&pool.pool_id)
            .username(username)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{username} was acknowledged but is gone: {e:?}"));
        assert_eq!(user.user_status().map(|s| s.as_str()), Some("UNCONFIRMED"));
    }
    let listed = usernames(&cluster.nodes[2], &pool).await;
    assert!(listed.len() >= o.acknowledged.len());
    assert!(o.acknowledged.len() >= BEFORE_KILL + 2 * AFTER_KILL);
}

/// Every backend of `db` but the caller's, terminated; returns how many.
async fn terminate_backends(admin: &tokio_postgres::Client, db: &TestDatabase) -> i64 {
    admin
        .query_one(
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()) t",
            &[&db.name],
        )
        .await
        .expect("terminating backends")
        .get(0)
}

/// A user read back after the faults: complete (status, sub, email all there) or absent.
async fn whole_or_absent(node: &Node, pool: &TestPool, username: &str) -> bool {
    match node
        .idp
        .admin_get_user()
        .user_pool_id(&pool.pool_id)
        .username(username)
        .send()
        .await
    {
        Ok(u) => {
            assert_eq!(u.user_status().map(|s| s.as_str()), Some("UNCONFIRMED"), "{username}");
            let value = |name: &str| {
                u.user_attributes()
                    .iter()
                    .find(|a| a.name() == name)
                    .and_then(|a| a.value())
                    .map(str::to_owned)
            };
            assert_eq!(value("email"), Some(format!("{username}@example.com")), "{username}");
            assert!(value("sub").is_some_and(|s| !s.is_empty()), "{username}");
            true
        }
        Err(e) => {
            let (code, _) = aws_error::<(), _>(Err(e));
            assert_eq!(code, "UserNotFoundException", "{username}");
            false
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_cut_mid_request_leave_no_partial_user() {
    const WORKERS: usize = 6;
    const SIGN_UPS: usize = 25;
    const CUTS: usize = 8;
    let Some(cluster) = Cluster::start("pg_faults", 2, &[]).await else {
        return;
    };
    let cluster = Arc::new(cluster);
    let pool = create_pool(&cluster.nodes[0], "faults").await;
    let admin = cluster.db.client().await;
    let started = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let (cluster, pool, started) = (cluster.clone(), pool.clone(), started.clone());
        workers.push(tokio::spawn(async move {
            let mut outcomes = Outcomes::default();
            for i in 0..SIGN_UPS {
                let username = format!("w{w}u{i}");
                started.fetch_add(1, Ordering::SeqCst);
                match sign_up(cluster.node(w + i), &pool, &username).await {
                    Ok(()) => outcomes.acknowledged.push(username),
                    Err(e) => {
                        let status = e.raw_response().map(|r| r.status().as_u16());
                        let (code, message) = aws_error::<(), _>(Err(e));
                        assert_eq!(code, "InternalErrorException", "{username}: {message}");
                        assert_eq!(status, Some(500), "{username}");
                        outcomes.failed.push(username);
                    }
                }
            }
            outcomes
        }));
    }
    // Cut every connection of the nodes to the database, again and again, while sign-ups run.
    let mut cut = 0;
    for round in 0..CUTS {
        let target = (round + 1) * WORKERS * SIGN_UPS / (CUTS + 1);
        while started.load(Ordering::SeqCst) < target && workers.iter().any(|w| !w.is_finished()) {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        cut += terminate_backends(&admin, &cluster.db).await;
    }
    let mut all = Outcomes::default();
    for w in workers {
        let o = w.await.expect("a worker panicked");
        all.acknowledged.extend(o.acknowledged);
        all.failed.extend(o.failed);
    }
    assert!(cut > 0, "no connection was cut");
    eprintln!(
        "{cut} connections cut; {} sign-ups acknowledged, {} failed",
        all.acknowledged.len(),
        all.failed.len()
    );

    // Both nodes reconnect and serve: every request from here on succeeds.
    for (i, node) in cluster.nodes.iter().enumerate() {
        for j in 0..5 {
            sign_up(node, &pool, &format!("after{i}x{j}"))
                .await
                .unwrap_or_else(|e| panic!("node {i} does not serve after the cuts: {e:?}"));
        }
    }
    // Each acknowledged user is there, whole; each failed one is whole or absent, on both nodes.
    for node in &cluster.nodes {
        for username in &all.acknowledged {
            assert!(
                whole_or_absent(node, &pool, username).await,
                "{username} was acknowledged"
            );
        }
        for username in &all.failed {
            whole_or_absent(node, &pool, username).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_refuses_a_database_migrated_by_a_newer_cognate() {
    // PostgreSQL.
    if let Some(db) = TestDatabase::create("newer_schema").await {
        Node::start(&db.url, &[]).await.sigkill().await;
        let admin = db.client().await;
        admin
            .batch_execute("UPDATE cognate_schema SET version = version + 1")
            .await
            .expect("bumping the schema version");
        let (ok, log) = spawn(&["--database", &db.url]).exit().await;
        assert!(!ok, "started on a newer schema:\n{log}");
        assert!(log.contains("refusing to start"), "{log}");
        assert!(log.contains("migrated by a newer Cognate"), "{log}");
    }
    // SQLite.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    spawn(&["--data", data]).ready().await.sigkill().await;
    let file = dir.path().join("cognate.db");
    let conn = rusqlite::Connection::open(&file).unwrap();
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
    conn.execute_batch(&format!("PRAGMA user_version = {}", version + 1))
        .unwrap();
    drop(conn);
    let (ok, log) = spawn(&["--data", data]).exit().await;
    assert!(!ok, "started on a newer schema:\n{log}");
    assert!(log.contains("refusing to start"), "{log}");
    assert!(log.contains("migrated by a newer Cognate"), "{log}");
    assert!(log.contains(&format!("version {}", version + 1)), "{log}");
}
