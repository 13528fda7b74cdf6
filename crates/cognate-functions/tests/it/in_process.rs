use std::time::Duration;

use cognate_functions::{ErrorClass, FunctionDef, FunctionError, FunctionTarget, InvokeError};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::{SECOND, host};

#[tokio::test]
async fn closures_answer_fail_time_out_and_panic() {
    let host = host(1);
    host.register(FunctionDef::new(
        "closure",
        FunctionTarget::in_process(|mut event: Value| async move {
            match event["mode"].as_str() {
                Some("fail") => Err(FunctionError::new("ValidationError", "closure says no")),
                Some("sleep") => {
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    Ok(event)
                }
                Some("panic") => panic!("closure panicked"),
                _ => {
                    event["response"] = json!({"autoConfirmUser": true});
                    Ok(event)
                }
            }
        }),
    ));
    let out = host.invoke("closure", json!({"mode": "ok"}), SECOND).await.unwrap();
    assert_eq!(out["response"]["autoConfirmUser"], true);

    let err = host
        .invoke("closure", json!({"mode": "fail"}), SECOND)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::FunctionFailed);
    assert_eq!(err.message(), "closure says no");

    let err = host
        .invoke("closure", json!({"mode": "sleep"}), Duration::from_millis(100))
        .await
        .unwrap_err();
    assert!(matches!(err, InvokeError::Timeout(_)));

    let err = host
        .invoke("closure", json!({"mode": "panic"}), SECOND)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::FunctionFailed);
    assert!(err.message().contains("closure panicked"));
}

#[tokio::test]
async fn asynchronous_invocation_returns_at_once() {
    let host = host(1);
    let (tx, mut rx) = mpsc::unbounded_channel();
    host.register(FunctionDef::new(
        "sender",
        FunctionTarget::in_process(move |event: Value| {
            let tx = tx.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(50)).await;
                tx.send(event).unwrap();
                Ok(Value::Null)
            }
        }),
    ));
    host.invoke_async("sender", json!({"code": "123456"}), SECOND).unwrap();
    let got = tokio::time::timeout(10 * SECOND, rx.recv()).await.unwrap().unwrap();
    assert_eq!(got["code"], "123456");
    assert!(matches!(
        host.invoke_async("absent", json!({}), SECOND),
        Err(InvokeError::NotFound(_))
    ));
}
