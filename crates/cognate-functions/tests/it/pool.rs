use std::collections::BTreeSet;
use std::time::Duration;

use cognate_functions::{ErrorClass, InvokeError};
use serde_json::json;

use crate::{SECOND, alive, host, register};

#[tokio::test]
async fn warm_instances_are_reused() {
    let host = host(4);
    let echo = register(&host, "warm", "nodejs20.x", "node", "handler.echo");
    let mut pids = BTreeSet::new();
    for expected in 1..=3 {
        let out = host.invoke(&echo, json!({}), 10 * SECOND).await.unwrap();
        assert_eq!(
            out["invocations"], expected,
            "module state survives between invocations"
        );
        pids.insert(out["pid"].as_u64().unwrap());
    }
    assert_eq!(pids.len(), 1);
    host.shutdown().await;
}

#[tokio::test]
async fn overlapping_invocations_run_in_parallel_up_to_the_limit() {
    let host = host(3);
    let meet = register(&host, "parallel", "nodejs20.x", "node", "handler.rendezvous");
    // `n` invocations at once, each waiting at a rendezvous of `parties`: a party gets through only
    // if `parties` invocations run at the same moment. No wall-clock bound is asserted.
    let run = |n: usize, parties: usize| {
        let host = host.clone();
        let meet = meet.clone();
        async move {
            let dir = tempfile::tempdir().unwrap();
            let event = json!({"dir": dir.path(), "parties": parties, "giveUpMs": 20_000});
            let calls = (0..n).map(|_| {
                let (host, meet, event) = (host.clone(), meet.clone(), event.clone());
                tokio::spawn(async move { host.invoke(&meet, event, 60 * SECOND).await })
            });
            let mut outs = Vec::new();
            for call in calls.collect::<Vec<_>>() {
                outs.push(call.await.unwrap().unwrap());
            }
            outs
        }
    };
    let outs = run(3, 3).await;
    assert!(
        outs.iter().all(|o| o["met"] == true),
        "three did not run at once: {outs:?}"
    );
    let pids: BTreeSet<u64> = outs.iter().map(|o| o["pid"].as_u64().unwrap()).collect();
    assert_eq!(pids.len(), 3, "three instances");

    // Six at once with a limit of three: while three wait at the rendezvous, the other three
    // must queue for those same processes rather than start new ones.
    let outs = run(6, 3).await;
    let again: BTreeSet<u64> = outs.iter().map(|o| o["pid"].as_u64().unwrap()).collect();
    assert_eq!(again, pids, "the limit of three processes holds");
    assert!(
        outs.iter().all(|o| o["present"].as_u64().unwrap() <= 3),
        "more than three ran at once: {outs:?}"
    );
    host.shutdown().await;
}

#[tokio::test]
async fn a_killed_warm_process_is_replaced() {
    let host = host(1);
    let echo = register(&host, "replaced", "nodejs20.x", "node", "handler.echo");
    let first = host.invoke(&echo, json!({}), 10 * SECOND).await.unwrap();
    let pid = first["pid"].as_u64().unwrap();
    let status = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());

    // Once the host has seen the exit (or the closed Runtime API connection), the next call
    // starts a new process. (An invocation racing the death itself fails with
    // Runtime.ExitError, as it would on Lambda.)
    let mut second = host.invoke(&echo, json!({}), 10 * SECOND).await;
    for _ in 0..50 {
        match &second {
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                second = host.invoke(&echo, json!({}), 10 * SECOND).await;
            }
            _ => break,
        }
    }
    let second = second.unwrap();
    assert_ne!(second["pid"].as_u64().unwrap(), pid);
    assert_eq!(second["invocations"], 1, "a new process starts from scratch");
    host.shutdown().await;
}

#[tokio::test]
async fn shutdown_stops_processes_and_refuses_invocations() {
    let host = host(2);
    let echo = register(&host, "stopped", "nodejs20.x", "node", "handler.echo");
    let out = host.invoke(&echo, json!({}), 10 * SECOND).await.unwrap();
    let pid = out["pid"].as_u64().unwrap();
    assert!(alive(pid));
    host.shutdown().await;
    assert!(!alive(pid), "process {pid} survived shutdown");
    let err = host.invoke(&echo, json!({}), SECOND).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::InvocationFailed);
}

#[tokio::test]
async fn unknown_functions_and_runtimes() {
    let host = host(1);
    let err = host.invoke("nope", json!({}), SECOND).await.unwrap_err();
    assert!(matches!(err, InvokeError::NotFound(_)));
    assert_eq!(err.message(), "ResourceNotFoundException");
    assert_eq!(err.class(), ErrorClass::InvocationFailed);

    let odd = register(&host, "odd", "java21", "node", "Handler::handleRequest");
    let err = host.invoke(&odd, json!({}), SECOND).await.unwrap_err();
    let InvokeError::Function(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(e.error_type, "Runtime.InvalidEntrypoint");

    let no_bootstrap = register(&host, "nobootstrap", "provided.al2023", "node", "bootstrap");
    let err = host.invoke(&no_bootstrap, json!({}), SECOND).await.unwrap_err();
    let InvokeError::Function(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(e.error_type, "Runtime.InvalidEntrypoint");
    assert!(
        e.error_message.contains("Couldn't find valid bootstrap(s)"),
        "{}",
        e.error_message
    );
}
