//! Errors of an invocation, shaped so that the trigger layer can produce Cognito's three Lambda
//! exceptions (see `spec/triggers.md` §8) without knowing how the function was run.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The message Cognito puts after "invocation failed due to error " when its call to Lambda timed
/// out.
pub const SOCKET_TIMEOUT_REASON: &str = "Socket timeout while invoking Lambda function";

/// A function error: the handler ran and failed (it threw, called `callback(err)`, raised, its
/// runtime crashed or could not load it, or it ran past its own timeout).
///
/// This is what a Lambda `Invoke` returns with `X-Amz-Function-Error`, and what an in-process
/// handler returns as its error. Cognito reports it as
/// `UserLambdaValidationException: <Trigger> failed with error <error_message>.`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{error_type}: {error_message}")]
pub struct FunctionError {
    /// `errorType`, e.g. `Error`, `ValueError`, `Runtime.ExitError`, `Runtime.HandlerNotFound`.
    #[serde(rename = "errorType", default)]
    pub error_type: String,
    /// `errorMessage`: the text Cognito shows to API callers.
    #[serde(rename = "errorMessage", default)]
    pub error_message: String,
    /// `stackTrace` (or Node's `trace`), one line per entry; empty when unknown.
    #[serde(
        rename = "stackTrace",
        alias = "trace",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub stack_trace: Vec<String>,
}

impl FunctionError {
    /// A function error with the given `errorType` and `errorMessage`.
    pub fn new(error_type: impl Into<String>, error_message: impl Into<String>) -> Self {
        Self {
            error_type: error_type.into(),
            error_message: error_message.into(),
            stack_trace: Vec::new(),
        }
    }

    /// Parses an error document posted by a runtime or returned by the Invoke API. Anything that
    /// is not a JSON object becomes the message, with `fallback_type` as the type.
    pub(crate) fn from_body(body: &[u8], fallback_type: &str) -> Self {
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(serde_json::Value::Object(map)) => {
                let text = |key: &str| map.get(key).and_then(|v| v.as_str()).map(str::to_owned);
                let stack_trace = map
                    .get("stackTrace")
                    .or_else(|| map.get("trace"))
                    .and_then(|v| v.as_array())
                    .map(|lines| lines.iter().map(stack_line).collect())
                    .unwrap_or_default();
                Self {
                    error_type: text("errorType")
                        .filter(|t| !t.is_empty())
                        .unwrap_or_else(|| fallback_type.to_owned()),
                    error_message: text("errorMessage").unwrap_or_default(),
                    stack_trace,
                }
            }
            _ => Self::new(fallback_type, String::from_utf8_lossy(body).trim().to_owned()),
        }
    }
}

fn stack_line(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        // Python's traceback entries are sometimes posted as [file, line, func, text].
        other => other.to_string(),
    }
}

impl From<String> for FunctionError {
    /// A function error of type `Error`, the way Node reports `new Error(message)`.
    fn from(message: String) -> Self {
        Self::new("Error", message)
    }
}

impl From<&str> for FunctionError {
    fn from(message: &str) -> Self {
        Self::new("Error", message)
    }
}

/// Why an invocation did not produce a JSON value.
#[derive(Debug, Clone, thiserror::Error)]
pub enum InvokeError {
    /// The handler ran and failed. Cognito: `UserLambdaValidationException`.
    #[error("function error: {0}")]
    Function(FunctionError),
    /// No answer within the caller's timeout (the instance, if any, was stopped).
    /// Cognito: `UnexpectedLambdaException`, reason [`SOCKET_TIMEOUT_REASON`]; retryable.
    #[error("invocation timed out after {0:?}")]
    Timeout(Duration),
    /// No function with this name is registered. Cognito: `UnexpectedLambdaException`, reason
    /// `ResourceNotFoundException`.
    #[error("function not found: {0}")]
    NotFound(String),
    /// The function could not be invoked: the Invoke API answered with an error (throttled,
    /// access denied, …), the connection failed, or the host is shut down.
    /// Cognito: `UnexpectedLambdaException` with `reason` as the reason.
    #[error("invocation failed: {reason}: {detail}")]
    Unavailable {
        /// Short reason, as Cognito words it: an AWS error code (`TooManyRequestsException`,
        /// `AccessDeniedException`) or a sentence without a final period.
        reason: String,
        /// Everything else known about the failure, for logs.
        detail: String,
        /// Whether trying again may succeed (throttling, transport failures).
        retryable: bool,
    },
    /// The function answered with something that is not JSON at all. (A JSON value that is not
    /// an object is returned as `Ok`; the caller decides what it means.)
    /// Cognito: `InvalidLambdaResponseException`.
    #[error("function output is not valid JSON: {error}")]
    InvalidJson {
        /// The parser's complaint.
        error: String,
        /// The start of the output, for logs (at most 1 KiB).
        output: String,
    },
}

/// Which of Cognito's three Lambda exceptions an [`InvokeError`] corresponds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// `UserLambdaValidationException`: `<Trigger> failed with error <message>.`
    FunctionFailed,
    /// `UnexpectedLambdaException`: `<Trigger> invocation failed due to error <reason>.`
    InvocationFailed,
    /// `InvalidLambdaResponseException`.
    InvalidResponse,
}

impl InvokeError {
    /// The Cognito exception family this error belongs to.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Function(_) => ErrorClass::FunctionFailed,
            Self::Timeout(_) | Self::NotFound(_) | Self::Unavailable { .. } => ErrorClass::InvocationFailed,
            Self::InvalidJson { .. } => ErrorClass::InvalidResponse,
        }
    }

    /// The text Cognito embeds in its message: the `errorMessage` of a function error, the
    /// reason of an invocation failure, or a description of an invalid response.
    pub fn message(&self) -> String {
        match self {
            Self::Function(e) => e.error_message.clone(),
            Self::Timeout(_) => SOCKET_TIMEOUT_REASON.to_owned(),
            Self::NotFound(_) => "ResourceNotFoundException".to_owned(),
            Self::Unavailable { reason, .. } => reason.clone(),
            Self::InvalidJson { .. } => "Invalid JSON".to_owned(),
        }
    }

    /// Whether Cognito would retry this failure: timeouts and throttling/transport failures, never
    /// function errors (spec §2).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Timeout(_) => true,
            Self::Unavailable { retryable, .. } => *retryable,
            Self::Function(_) | Self::NotFound(_) | Self::InvalidJson { .. } => false,
        }
    }

    pub(crate) fn invalid_json(err: &serde_json::Error, body: &[u8]) -> Self {
        let end = body.len().min(1024);
        Self::InvalidJson {
            error: err.to_string(),
            output: String::from_utf8_lossy(&body[..end]).into_owned(),
        }
    }
}

impl From<FunctionError> for InvokeError {
    fn from(e: FunctionError) -> Self {
        Self::Function(e)
    }
}

/// Parses a function's output: any JSON value is fine, an empty body is `null` (what Lambda
/// returns for a handler that returns nothing).
pub(crate) fn parse_output(body: &[u8]) -> Result<serde_json::Value, InvokeError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| InvokeError::invalid_json(&e, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_error_bodies() {
        let e = FunctionError::from_body(
            br#"{"errorType":"ValueError","errorMessage":"bad","stackTrace":["a","b"]}"#,
            "Unhandled",
        );
        assert_eq!(e.error_type, "ValueError");
        assert_eq!(e.error_message, "bad");
        assert_eq!(e.stack_trace, ["a", "b"]);
        let e = FunctionError::from_body(br#"{"errorMessage":"x","trace":["t"]}"#, "Unhandled");
        assert_eq!((e.error_type.as_str(), e.stack_trace.len()), ("Unhandled", 1));
        let e = FunctionError::from_body(b"boom", "Runtime.Unknown");
        assert_eq!(
            (e.error_type.as_str(), e.error_message.as_str()),
            ("Runtime.Unknown", "boom")
        );
    }

    #[test]
    fn classifies() {
        assert_eq!(InvokeError::Function("x".into()).class(), ErrorClass::FunctionFailed);
        let t = InvokeError::Timeout(Duration::from_secs(5));
        assert_eq!(t.class(), ErrorClass::InvocationFailed);
        assert_eq!(t.message(), "Socket timeout while invoking Lambda function");
        assert!(t.is_retryable());
        let bad = parse_output(b"not json").unwrap_err();
        assert_eq!(bad.class(), ErrorClass::InvalidResponse);
        assert_eq!(parse_output(b"").unwrap(), serde_json::Value::Null);
        assert_eq!(parse_output(b"42").unwrap(), serde_json::json!(42));
    }
}
