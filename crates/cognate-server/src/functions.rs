//! Trigger functions run by the function host, found by the ARN in a pool's LambdaConfig.
use async_trait::async_trait;
use cognate_core::triggers::{InvokeFailure, TriggerInvoker};
use cognate_functions::{ErrorClass, FunctionHost, InvokeError};
use serde_json::Value;
use std::time::Duration;

/// Cognito gives a trigger five seconds to answer.
pub const TRIGGER_TIMEOUT: Duration = Duration::from_secs(5);
/// Asynchronous invocations (custom senders) are bounded by the function's own timeout, not
/// Cognito's five seconds; this is only a backstop.
pub const ASYNC_TIMEOUT: Duration = Duration::from_secs(900);

pub struct HostedTriggers {
    host: FunctionHost,
}

impl HostedTriggers {
    pub fn new(host: FunctionHost) -> Self {
        Self { host }
    }
}

/// `arn:aws:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]` → NAME; a bare name stays.
pub fn function_name(arn: &str) -> &str {
    match arn.split_once(":function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => arn,
    }
}

fn failure(e: InvokeError) -> InvokeFailure {
    match e.class() {
        ErrorClass::FunctionFailed => {
            let (error_type, message) = match &e {
                InvokeError::Function(f) => (f.error_type.clone(), f.error_message.clone()),
                other => ("Error".to_owned(), other.message()),
            };
            InvokeFailure::FunctionError { error_type, message }
        }
        ErrorClass::InvocationFailed => InvokeFailure::Unexpected { reason: e.message() },
        ErrorClass::InvalidResponse => InvokeFailure::InvalidResponse { message: e.message() },
    }
}

#[async_trait]
impl TriggerInvoker for HostedTriggers {
    async fn invoke(&self, function_arn: &str, event: Value) -> Result<Value, InvokeFailure> {
        let name = function_name(function_arn);
        if !self.host.contains(name) {
            return Err(InvokeFailure::Unexpected {
                reason: "ResourceNotFoundException".into(),
            });
        }
        self.host.invoke(name, event, TRIGGER_TIMEOUT).await.map_err(failure)
    }

    async fn invoke_async(&self, function_arn: &str, event: Value) {
        let name = function_name(function_arn);
        if let Err(e) = self.host.invoke_async(name, event, ASYNC_TIMEOUT) {
            tracing::warn!(function = name, error = %e.message(), "asynchronous trigger could not be invoked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_arns() {
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:svc-dev-pre"),
            "svc-dev-pre"
        );
        assert_eq!(
            function_name("arn:aws:lambda:us-east-1:123456789012:function:svc-dev-pre:live"),
            "svc-dev-pre"
        );
        assert_eq!(function_name("svc-dev-pre"), "svc-dev-pre");
    }
}
