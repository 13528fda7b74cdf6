use std::collections::BTreeSet;

use cognate_functions::{ErrorClass, InvokeError, ProcessSpec};
use serde_json::json;

use crate::{SECOND, handlers, host, register, register_spec};

#[tokio::test]
async fn python_handler_gets_event_context_and_environment() {
    let host = host(2);
    let mut spec = ProcessSpec::new("python3.12", "handler.echo", handlers("python"));
    spec.environment.insert("FROM_FUNCTION".into(), "py-value".into());
    let name = register_spec(&host, "svc-dev-python", spec);
    let mut pids = BTreeSet::new();
    for expected in 1..=2 {
        let out = host
            .invoke(&name, json!({"userName": "ada"}), 10 * SECOND)
            .await
            .unwrap();
        assert_eq!(out["event"], json!({"userName": "ada"}));
        assert_eq!(out["invocations"], expected);
        pids.insert(out["pid"].as_u64().unwrap());
        let ctx = &out["context"];
        assert_eq!(ctx["function_name"], "svc-dev-python");
        assert_eq!(ctx["function_version"], "$LATEST");
        assert_eq!(
            ctx["invoked_function_arn"],
            "arn:aws:lambda:eu-west-1:123456789012:function:svc-dev-python"
        );
        assert_eq!(ctx["memory_limit_in_mb"], "1024");
        assert_eq!(ctx["aws_request_id"].as_str().unwrap().len(), 36);
        assert!(ctx["remaining"].as_u64().unwrap() > 1000);
        let env = &out["env"];
        assert_eq!(env["FROM_FUNCTION"], "py-value");
        assert_eq!(env["FROM_HOST"], "host-value");
        assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "svc-dev-python");
        assert_eq!(env["AWS_REGION"], "eu-west-1");
        assert_eq!(env["AWS_EXECUTION_ENV"], "AWS_Lambda_python3.12");
        assert_eq!(env["TZ"], ":UTC");
    }
    assert_eq!(pids.len(), 1, "the process stays warm");
    assert!(crate::logs().contains("echo invocation 2 for svc-dev-python"));

    let nested = register(&host, "pynested", "python3.11", "python", "pkg/nested.handler");
    let out = host.invoke(&nested, json!({}), 10 * SECOND).await.unwrap();
    assert_eq!(out["nested"], true);
    host.shutdown().await;
}

#[tokio::test]
async fn python_errors() {
    let host = host(1);
    let fail = register(&host, "pyfail", "python3.12", "python", "handler.fail");
    let err = host.invoke(&fail, json!({}), 10 * SECOND).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::FunctionFailed);
    let InvokeError::Function(e) = err else { panic!() };
    assert_eq!(
        (e.error_type.as_str(), e.error_message.as_str()),
        ("ValueError", "Python says no")
    );
    assert!(
        e.stack_trace.iter().any(|l| l.contains("handler.py")),
        "{:?}",
        e.stack_trace
    );

    let marshal = register(&host, "pymarshal", "python3.12", "python", "handler.unserializable");
    let err = host.invoke(&marshal, json!({}), 10 * SECOND).await.unwrap_err();
    let InvokeError::Function(e) = err else { panic!() };
    assert_eq!(e.error_type, "Runtime.MarshalError");

    let missing = register(&host, "pymissing", "python3.12", "python", "nowhere.handler");
    let err = host.invoke(&missing, json!({}), 10 * SECOND).await.unwrap_err();
    let InvokeError::Function(e) = err else { panic!() };
    assert_eq!(e.error_type, "Runtime.ImportModuleError");
    assert_eq!(
        e.error_message,
        "Unable to import module 'nowhere': No module named 'nowhere'"
    );

    let syntax = register(&host, "pysyntax", "python3.12", "python", "syntax_error.handler");
    let err = host.invoke(&syntax, json!({}), 10 * SECOND).await.unwrap_err();
    let InvokeError::Function(e) = err else { panic!() };
    assert_eq!(e.error_type, "Runtime.UserCodeSyntaxError");

    let no_fn = register(&host, "pynofn", "python3.12", "python", "handler.absent");
    let err = host.invoke(&no_fn, json!({}), 10 * SECOND).await.unwrap_err();
    let InvokeError::Function(e) = err else { panic!() };
    assert_eq!(e.error_type, "Runtime.HandlerNotFound");
    assert_eq!(e.error_message, "Handler 'absent' missing on module 'handler'");
    host.shutdown().await;
}
