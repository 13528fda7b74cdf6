use std::time::Duration;

use cognate_functions::{ErrorClass, InvokeError, ProcessSpec};
use serde_json::json;

use crate::{SECOND, handlers, host, logs, register, register_spec};

#[tokio::test]
async fn commonjs_async_handler_sees_event_context_and_environment() {
    let host = host(2);
    let mut spec = ProcessSpec::new("nodejs20.x", "handler.echo", handlers("node"));
    spec.environment.insert("FROM_FUNCTION".into(), "fn-value".into());
    spec.environment.insert("SHARED".into(), "from-function".into());
    spec.memory_mb = 256;
    let name = register_spec(&host, "svc-dev-echo", spec);

    let out = host
        .invoke(
            &name,
            json!({"triggerSource": "PreSignUp_SignUp", "response": {}}),
            10 * SECOND,
        )
        .await
        .unwrap();
    assert_eq!(out["event"]["triggerSource"], "PreSignUp_SignUp");
    let ctx = &out["context"];
    assert_eq!(ctx["functionName"], "svc-dev-echo");
    assert_eq!(ctx["functionVersion"], "$LATEST");
    assert_eq!(
        ctx["invokedFunctionArn"],
        "arn:aws:lambda:eu-west-1:123456789012:function:svc-dev-echo"
    );
    assert_eq!(ctx["memoryLimitInMB"], "256");
    assert_eq!(ctx["logGroupName"], "/aws/lambda/svc-dev-echo");
    assert!(ctx["logStreamName"].as_str().unwrap().contains("[$LATEST]"));
    assert_eq!(ctx["awsRequestId"].as_str().unwrap().len(), 36);
    assert_eq!(ctx["callbackWaitsForEmptyEventLoop"], true);
    let remaining = ctx["remaining"].as_u64().unwrap();
    assert!(remaining > 1000 && remaining <= 6000, "remaining {remaining}");

    let env = &out["env"];
    assert_eq!(env["FROM_FUNCTION"], "fn-value");
    assert_eq!(env["FROM_HOST"], "host-value");
    assert_eq!(env["SHARED"], "from-function", "function env wins over host env");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "svc-dev-echo");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_VERSION"], "$LATEST");
    assert_eq!(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "256");
    assert_eq!(env["AWS_REGION"], "eu-west-1");
    assert_eq!(env["AWS_DEFAULT_REGION"], "eu-west-1");
    assert_eq!(env["AWS_EXECUTION_ENV"], "AWS_Lambda_nodejs20.x");
    assert_eq!(env["TZ"], ":UTC");
    assert_eq!(env["_HANDLER"], "handler.echo");
    assert!(env["AWS_ACCESS_KEY_ID"].is_string());
    assert!(env["_X_AMZN_TRACE_ID"].as_str().unwrap().starts_with("Root=1-"));
    let task_root = std::fs::canonicalize(handlers("node")).unwrap().display().to_string();
    assert_eq!(env["LAMBDA_TASK_ROOT"], task_root.as_str());
    assert_eq!(out["cwd"], task_root.as_str());
    assert!(env["NODE_PATH"].as_str().unwrap().contains(&task_root));

    // console.log of the handler reaches the logs, tagged with the function name.
    let logs = logs();
    assert!(
        logs.lines()
            .any(|l| l.contains("echo invocation 1 for svc-dev-echo") && l.contains("function=svc-dev-echo")),
        "handler output not in logs"
    );
    host.shutdown().await;
}

#[tokio::test]
async fn callback_and_context_styles() {
    let host = host(2);
    let callback = register(&host, "cb", "nodejs20.x", "node", "handler.callback");
    let out = host.invoke(&callback, json!({"a": 1}), 10 * SECOND).await.unwrap();
    assert_eq!(out, json!({"a": 1, "style": "callback"}));

    let succeed = register(&host, "succeed", "nodejs20.x", "node", "handler.succeed");
    let out = host.invoke(&succeed, json!({}), 10 * SECOND).await.unwrap();
    assert_eq!(out["style"], "succeed");

    let fail = register(&host, "fail", "nodejs20.x", "node", "handler.fail");
    let err = host.invoke(&fail, json!({}), 10 * SECOND).await.unwrap_err();
    let InvokeError::Function(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (e.error_type.as_str(), e.error_message.as_str()),
        ("Error", "failed through context.fail")
    );

    let cb_err = register(&host, "cberr", "nodejs20.x", "node", "handler.callbackError");
    let err = host.invoke(&cb_err, json!({}), 10 * SECOND).await.unwrap_err();
    let InvokeError::Function(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (e.error_type.as_str(), e.error_message.as_str()),
        ("string", "plain string error")
    );

    let silent = register(&host, "silent", "nodejs20.x", "node", "handler.silent");
    assert_eq!(host.invoke(&silent, json!({}), 10 * SECOND).await.unwrap(), json!(null));

    let nothing = register(&host, "nothing", "nodejs20.x", "node", "handler.returnsNothing");
    assert_eq!(
        host.invoke(&nothing, json!({}), 10 * SECOND).await.unwrap(),
        json!(null)
    );

    let text = register(&host, "text", "nodejs20.x", "node", "handler.returnsString");
    assert_eq!(
        host.invoke(&text, json!({}), 10 * SECOND).await.unwrap(),
        json!("not an object"),
        "the host returns any JSON; judging it is the caller's job"
    );

    let nested = register(&host, "nested", "nodejs20.x", "node", "handler.nested.deeper");
    assert_eq!(
        host.invoke(&nested, json!({}), 10 * SECOND).await.unwrap(),
        json!({"nested": true})
    );

    let in_folder = register(&host, "folder", "nodejs18.x", "node", "src/lib.handler");
    assert_eq!(
        host.invoke(&in_folder, json!({"name": "ada"}), 10 * SECOND)
            .await
            .unwrap(),
        json!({"greeting": "hello ada"})
    );
    host.shutdown().await;
}

#[tokio::test]
async fn es_modules() {
    let host = host(2);
    let mjs = register(&host, "mjs", "nodejs20.x", "node", "ecma.handler");
    let out = host.invoke(&mjs, json!({"x": true}), 10 * SECOND).await.unwrap();
    assert_eq!(out["esm"], true);
    assert_eq!(out["x"], true);
    assert_eq!(out["functionName"], "mjs");
    assert_eq!(out["digest"].as_str().unwrap().len(), 8);

    let js = register(&host, "esmjs", "nodejs22.x", "node-esm-pkg", "index.handler");
    let out = host.invoke(&js, json!({"y": 1}), 10 * SECOND).await.unwrap();
    assert_eq!(out, json!({"y": 1, "module": "esm-js", "importMetaUrl": true}));
    host.shutdown().await;
}

#[tokio::test]
async fn thrown_errors_keep_type_message_and_stack() {
    let host = host(2);
    let throws = register(&host, "throws", "nodejs20.x", "node", "handler.throws");
    let err = host.invoke(&throws, json!({}), 10 * SECOND).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::FunctionFailed);
    assert_eq!(err.message(), "Email domain is not allowed.");
    assert!(!err.is_retryable());
    let InvokeError::Function(e) = err else { panic!() };
    assert_eq!(e.error_type, "Error");
    assert!(
        e.stack_trace.iter().any(|l| l.contains("handler.js")),
        "{:?}",
        e.stack_trace
    );

    let custom = register(&host, "custom", "nodejs20.x", "node", "handler.throwsCustom");
    let err = host.invoke(&custom, json!({}), 10 * SECOND).await.unwrap_err();
    let InvokeError::Function(e) = err else { panic!() };
    assert_eq!(
        (e.error_type.as_str(), e.error_message.as_str()),
        ("ValidationError", "Phone number is required")
    );

    // The instance survives a thrown error: same process next time.
    let first = host.invoke(&throws, json!({}), 10 * SECOND).await;
    assert!(first.is_err());
    host.shutdown().await;
}

#[tokio::test]
async fn load_failures_are_init_errors() {
    let host = host(1);
    let missing_export = register(&host, "noexport", "nodejs20.x", "node", "broken.missing");
    let err = host.invoke(&missing_export, json!({}), 10 * SECOND).await.unwrap_err();
    let InvokeError::Function(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(e.error_type, "Runtime.HandlerNotFound");
    assert_eq!(e.error_message, "broken.missing is undefined or not exported");

    let missing_module = register(&host, "nomodule", "nodejs20.x", "node", "nowhere.handler");
    let err = host.invoke(&missing_module, json!({}), 10 * SECOND).await.unwrap_err();
    let InvokeError::Function(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(e.error_type, "Runtime.ImportModuleError");
    assert!(e.error_message.contains("Cannot find module"), "{}", e.error_message);

    // Failing again on the next invocation: a fresh process tries to load it again.
    let err = host.invoke(&missing_module, json!({}), 10 * SECOND).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::FunctionFailed);
    host.shutdown().await;
}

#[tokio::test]
async fn crash_fails_the_invocation_and_the_next_one_gets_a_new_process() {
    let host = host(1);
    let crash = register(&host, "crash", "nodejs20.x", "node", "handler.crash");
    let err = host.invoke(&crash, json!({}), 10 * SECOND).await.unwrap_err();
    let InvokeError::Function(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(e.error_type, "Runtime.ExitError");
    let rest = e.error_message.strip_prefix("RequestId: ").expect(&e.error_message);
    let (id, tail) = rest.split_once(' ').unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(tail, "Error: Runtime exited with error: exit status 3");

    // An uncaught exception in a timer fails the invocation with that error, then the process
    // exits (status 129, as on Lambda).
    let uncaught = register(&host, "uncaught", "nodejs20.x", "node", "handler.uncaught");
    let err = host.invoke(&uncaught, json!({}), 10 * SECOND).await.unwrap_err();
    let InvokeError::Function(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (e.error_type.as_str(), e.error_message.as_str()),
        ("TypeError", "thrown from a timer")
    );
    host.shutdown().await;
}

#[tokio::test]
async fn caller_timeout_kills_the_instance() {
    let host = host(1);
    let slow = register(&host, "slow", "nodejs20.x", "node", "handler.slow");
    let warm = host.invoke(&slow, json!({"ms": 1}), 10 * SECOND).await.unwrap();
    let pid = warm["pid"].as_u64().unwrap();

    let started = std::time::Instant::now();
    let err = host
        .invoke(&slow, json!({"ms": 30_000}), Duration::from_millis(500))
        .await
        .unwrap_err();
    // The handler would sleep 30 s: ending far sooner shows the caller's timeout cut it off.
    assert!(started.elapsed() < 15 * SECOND);
    assert!(matches!(err, InvokeError::Timeout(_)), "{err:?}");
    assert_eq!(err.class(), ErrorClass::InvocationFailed);
    assert_eq!(err.message(), "Socket timeout while invoking Lambda function");
    assert!(err.is_retryable());
    assert!(
        crate::eventually(10 * SECOND, || !crate::alive(pid)).await,
        "timed out process {pid} still alive"
    );

    let out = host.invoke(&slow, json!({"ms": 1}), 10 * SECOND).await.unwrap();
    assert_ne!(out["pid"].as_u64().unwrap(), pid);
    host.shutdown().await;
}

#[tokio::test]
async fn function_timeout_is_a_function_error() {
    let host = host(1);
    let mut spec = ProcessSpec::new("nodejs20.x", "handler.slow", handlers("node"));
    spec.timeout = Duration::from_millis(400);
    let slow = register_spec(&host, "short", spec);
    let err = host
        .invoke(&slow, json!({"ms": 30_000}), 10 * SECOND)
        .await
        .unwrap_err();
    let InvokeError::Function(e) = err else {
        panic!("{err:?}")
    };
    assert_eq!(e.error_type, "Sandbox.Timedout");
    assert!(
        e.error_message.ends_with("Error: Task timed out after 0.40 seconds"),
        "{}",
        e.error_message
    );
    host.shutdown().await;
}
