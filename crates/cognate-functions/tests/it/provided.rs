use std::path::PathBuf;

use cognate_functions::{ErrorClass, InvokeError, ProcessSpec};
use serde_json::json;

use crate::{SECOND, handlers, host, register_spec};

/// `<target>/debug/examples/rust_bootstrap`, built by `cargo test` from `examples/`.
fn rust_bootstrap() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).unwrap();
    profile_dir
        .join("examples")
        .join(format!("rust_bootstrap{}", std::env::consts::EXE_SUFFIX))
}

#[tokio::test]
async fn rust_lambda_runtime_bootstrap() {
    let built = rust_bootstrap();
    assert!(built.is_file(), "{} not built", built.display());
    let code = tempfile::tempdir().unwrap();
    std::fs::copy(&built, code.path().join("bootstrap")).unwrap();

    let host = host(1);
    let name = register_spec(
        &host,
        "svc-dev-rust",
        ProcessSpec::new("provided.al2023", "bootstrap", code.path()),
    );
    let out = host.invoke(&name, json!({"hello": "rust"}), 10 * SECOND).await.unwrap();
    assert_eq!(out["echo"], json!({"hello": "rust"}));
    assert_eq!(out["functionName"], "svc-dev-rust");
    assert_eq!(
        out["invokedFunctionArn"],
        "arn:aws:lambda:eu-west-1:123456789012:function:svc-dev-rust"
    );
    assert_eq!(out["requestId"].as_str().unwrap().len(), 36);
    let pid = out["pid"].as_u64().unwrap();

    let err = host
        .invoke(&name, json!({"fail": true}), 10 * SECOND)
        .await
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::FunctionFailed);
    assert_eq!(err.message(), "the Rust handler refused");

    let again = host.invoke(&name, json!({}), 10 * SECOND).await.unwrap();
    assert_eq!(again["pid"].as_u64().unwrap(), pid, "warm");
    host.shutdown().await;
}

#[tokio::test]
async fn custom_runtime_answering_with_non_json() {
    let code = tempfile::tempdir().unwrap();
    let bootstrap = code.path().join("bootstrap");
    std::fs::copy(handlers("provided-script").join("bootstrap"), &bootstrap).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&bootstrap, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let host = host(1);
    let name = register_spec(&host, "garbage", ProcessSpec::new("provided", "ignored", code.path()));
    let err = host.invoke(&name, json!({}), 10 * SECOND).await.unwrap_err();
    assert!(matches!(err, InvokeError::InvalidJson { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::InvalidResponse);
    host.shutdown().await;
}
