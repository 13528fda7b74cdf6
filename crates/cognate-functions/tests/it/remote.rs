//! The Invoke API client, against a small axum server that imitates Lambda's `Invoke`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use cognate_functions::{AwsCredentials, ErrorClass, FunctionDef, FunctionTarget, InvokeError, RemoteSpec};
use serde_json::{Value, json};

use crate::{SECOND, host};

#[derive(Default)]
struct Seen {
    /// (function name, invocation type, authorization header, body)
    calls: Vec<(String, String, Option<String>, Value)>,
}

async fn invoke(
    State(seen): State<Arc<Mutex<Seen>>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let invocation_type = header("x-amz-invocation-type").unwrap_or_default();
    let payload: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    seen.lock().unwrap().calls.push((
        name.clone(),
        invocation_type.clone(),
        header("authorization"),
        payload.clone(),
    ));
    if invocation_type == "Event" {
        return StatusCode::ACCEPTED.into_response();
    }
    match name.as_str() {
        "echo" | "arn:aws:lambda:us-east-1:123456789012:function:echo" => (StatusCode::OK, body).into_response(),
        "fails" => (
            StatusCode::OK,
            [("x-amz-function-error", "Unhandled")],
            r#"{"errorType":"Error","errorMessage":"remote says no","trace":["Error: remote says no"]}"#,
        )
            .into_response(),
        "garbage" => (StatusCode::OK, "<html>not json</html>").into_response(),
        "throttled" => (
            StatusCode::TOO_MANY_REQUESTS,
            [("x-amzn-errortype", "TooManyRequestsException")],
            r#"{"message":"Rate exceeded"}"#,
        )
            .into_response(),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            (StatusCode::OK, "{}").into_response()
        }
        _ => (
            StatusCode::NOT_FOUND,
            [("x-amzn-errortype", "ResourceNotFoundException")],
            r#"{"Type":"User","message":"Function not found"}"#,
        )
            .into_response(),
    }
}

async fn fake_lambda() -> (String, Arc<Mutex<Seen>>) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let app = Router::new()
        .route("/2015-03-31/functions/{name}/invocations", post(invoke))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), seen)
}

fn remote(endpoint: &str, name: &str) -> FunctionTarget {
    FunctionTarget::Remote(RemoteSpec::new(endpoint, name))
}

#[tokio::test]
async fn remote_invocations_and_their_errors() {
    let (endpoint, seen) = fake_lambda().await;
    let host = host(1);
    for name in ["echo", "fails", "garbage", "throttled", "slow", "missing"] {
        host.register(FunctionDef::new(format!("r-{name}"), remote(&endpoint, name)));
    }

    let out = host.invoke("r-echo", json!({"a": [1, 2]}), 5 * SECOND).await.unwrap();
    assert_eq!(out, json!({"a": [1, 2]}));

    let err = host.invoke("r-fails", json!({}), 5 * SECOND).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::FunctionFailed);
    let InvokeError::Function(e) = err else { panic!() };
    assert_eq!(
        (e.error_type.as_str(), e.error_message.as_str()),
        ("Error", "remote says no")
    );
    assert_eq!(e.stack_trace, ["Error: remote says no"]);

    let err = host.invoke("r-garbage", json!({}), 5 * SECOND).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::InvalidResponse);

    let err = host.invoke("r-throttled", json!({}), 5 * SECOND).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::InvocationFailed);
    assert_eq!(err.message(), "TooManyRequestsException");
    assert!(err.is_retryable());

    let err = host.invoke("r-missing", json!({}), 5 * SECOND).await.unwrap_err();
    assert_eq!(err.message(), "ResourceNotFoundException");
    assert!(!err.is_retryable());

    let err = host
        .invoke("r-slow", json!({}), Duration::from_millis(300))
        .await
        .unwrap_err();
    assert!(matches!(err, InvokeError::Timeout(_)), "{err:?}");
    assert_eq!(err.message(), "Socket timeout while invoking Lambda function");

    host.invoke_async("r-echo", json!({"async": true}), 5 * SECOND).unwrap();
    crate::eventually(10 * SECOND, || {
        seen.lock().unwrap().calls.iter().any(|c| c.1 == "Event")
    })
    .await;
    let calls = &seen.lock().unwrap().calls;
    let event = calls.iter().find(|c| c.1 == "Event").expect("Event invocation");
    assert_eq!(event.3, json!({"async": true}));
    assert!(calls.iter().filter(|c| c.0 == "echo").any(|c| c.1 == "RequestResponse"));
    assert!(calls.iter().all(|c| c.2.is_none()), "unsigned without credentials");
}

#[tokio::test]
async fn signed_remote_invocation_by_arn() {
    let (endpoint, seen) = fake_lambda().await;
    let host = host(1);
    let mut spec = RemoteSpec::new(&endpoint, "arn:aws:lambda:us-east-1:123456789012:function:echo");
    spec.credentials = Some(AwsCredentials {
        access_key_id: "AKIDEXAMPLE".into(),
        secret_access_key: "secret".into(),
        session_token: Some("token".into()),
    });
    spec.region = Some("us-east-1".into());
    host.register(FunctionDef::new("signed", FunctionTarget::Remote(spec)));
    let out = host.invoke("signed", json!({"x": 1}), 5 * SECOND).await.unwrap();
    assert_eq!(out, json!({"x": 1}));
    let calls = &seen.lock().unwrap().calls;
    let auth = calls[0].2.as_deref().expect("signed");
    assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), "{auth}");
    assert!(auth.contains("/us-east-1/lambda/aws4_request"), "{auth}");
    assert!(
        auth.contains("SignedHeaders=content-type;host;x-amz-date;x-amz-invocation-type;x-amz-security-token"),
        "{auth}"
    );
}

#[tokio::test]
async fn unreachable_endpoint() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let host = host(1);
    host.register(FunctionDef::new("gone", remote(&format!("http://{addr}"), "f")));
    let err = host.invoke("gone", json!({}), 5 * SECOND).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::InvocationFailed);
    assert!(err.is_retryable());
    assert!(matches!(err, InvokeError::Unavailable { .. }), "{err:?}");
}
