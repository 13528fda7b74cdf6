//! A Lambda function built with the `lambda_runtime` crate, used by the tests as a `provided`
//! runtime `bootstrap`: echoes its event, or fails when the event has `"fail": true`.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::{Value, json};

async fn handle(event: LambdaEvent<Value>) -> Result<Value, Error> {
    let (payload, context) = event.into_parts();
    if payload.get("fail").and_then(Value::as_bool) == Some(true) {
        return Err("the Rust handler refused".into());
    }
    Ok(json!({
        "echo": payload,
        "requestId": context.request_id,
        "invokedFunctionArn": context.invoked_function_arn,
        "functionName": std::env::var("AWS_LAMBDA_FUNCTION_NAME").ok(),
        "pid": std::process::id(),
    }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handle)).await
}
