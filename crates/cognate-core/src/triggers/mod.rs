//! Lambda triggers: the boundary to whatever runs the functions, the typed events
//! ([`events`]), and invoking a trigger with one. Cognate builds events exactly as Cognito does
//! and interprets the `response` the same way.
pub mod events;
mod lenient;
mod trigger;

pub use trigger::{Trigger, UnknownTrigger};

use crate::error::{Error, ErrorKind, Result};
use crate::model::{User, UserPool};
use crate::service::{CallContext, Cognito};
use async_trait::async_trait;
use events::{CallerContext, Envelope, StringMap, SyncTriggerEvent, TriggerEvent};
use serde_json::{Map, Value};

/// Why a function call did not produce a response.
#[derive(Debug, Clone, PartialEq)]
pub enum InvokeFailure {
    /// The handler ran and reported an error (threw, raised, called back with an error).
    FunctionError { error_type: String, message: String },
    /// The function could not be reached, started, or did not answer in time.
    Unexpected { reason: String },
    /// The handler answered with something that is not a JSON object.
    InvalidResponse { message: String },
}

/// Runs functions by ARN. The server wires in the function host; without one, every
/// configured trigger fails the way a missing Lambda function does on AWS.
#[async_trait]
pub trait TriggerInvoker: Send + Sync + 'static {
    async fn invoke(&self, function_arn: &str, event: Value) -> Result<Value, InvokeFailure>;
    /// Fire-and-forget invocation (custom sender triggers).
    async fn invoke_async(&self, function_arn: &str, event: Value);
}

/// No function runtime: configured triggers fail with UnexpectedLambdaException.
pub struct NoFunctions;

#[async_trait]
impl TriggerInvoker for NoFunctions {
    async fn invoke(&self, function_arn: &str, _event: Value) -> Result<Value, InvokeFailure> {
        Err(InvokeFailure::Unexpected {
            reason: format!("ResourceNotFoundException: Function not found: {function_arn}"),
        })
    }
    async fn invoke_async(&self, function_arn: &str, _event: Value) {
        tracing::warn!(
            function_arn,
            "no function runtime configured; asynchronous trigger dropped"
        );
    }
}

pub const CLIENT_ID_NOT_APPLICABLE: &str = "CLIENT_ID_NOT_APPLICABLE";

/// The user's attributes as triggers see them: strings only, with `sub` and
/// `cognito:user_status`, and the alias markers of verified aliases.
pub fn user_attributes_for_trigger(pool: &UserPool, user: &User) -> StringMap {
    let mut m = StringMap::new();
    m.insert("sub".into(), user.sub.clone());
    for (k, v) in &user.attributes {
        m.insert(k.clone(), v.clone());
    }
    m.insert("cognito:user_status".into(), user.status.as_str().to_owned());
    for alias in pool.alias_attributes() {
        if alias != "preferred_username"
            && user.is_verified(&alias)
            && let Some(v) = user.attributes.get(&alias)
        {
            m.insert(format!("cognito:{alias}_alias"), v.clone());
        }
    }
    m
}

/// A request's string map (ClientMetadata, ValidationData) as an event member. The operations
/// keep these as JSON objects of strings; a value of another type (there is none) would be
/// sent as its JSON text.
pub(crate) fn string_map(m: &Map<String, Value>) -> StringMap {
    m.iter()
        .map(|(k, v)| (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned)))
        .collect()
}

/// `awsSdkVersion` as Cognito derives it from the caller's user agent.
fn sdk_version(ctx: &CallContext) -> String {
    ctx.user_agent
        .as_deref()
        .and_then(|ua| {
            ua.split_whitespace().find_map(|part| {
                let (name, version) = part.split_once('/')?;
                name.starts_with("aws-sdk-").then(|| format!("{name}-{version}"))
            })
        })
        .unwrap_or_else(|| "aws-sdk-unknown-unknown".to_owned())
}

/// The envelope of an event for `trigger`, sent with `trigger_source` about `user_name`.
pub fn trigger_envelope(
    pool: &UserPool,
    trigger: Trigger,
    trigger_source: &str,
    user_name: &str,
    client_id: Option<&str>,
    ctx: &CallContext,
) -> Envelope {
    Envelope {
        version: trigger.event_version().to_owned(),
        trigger_source: trigger_source.to_owned(),
        region: pool.region().to_owned(),
        user_pool_id: pool.id.clone(),
        user_name: user_name.to_owned(),
        caller_context: CallerContext {
            aws_sdk_version: sdk_version(ctx),
            client_id: client_id.unwrap_or(CLIENT_ID_NOT_APPLICABLE).to_owned(),
        },
    }
}

/// The ARN of the function the pool configures for `trigger`. A PreTokenGeneration trigger
/// may be configured by `PreTokenGenerationConfig` (any version) or the legacy
/// `PreTokenGeneration` member (V1).
pub fn trigger_arn(pool: &UserPool, trigger: Trigger) -> Option<String> {
    match trigger {
        Trigger::PreTokenGeneration => pool
            .lambda_arn("PreTokenGenerationConfig")
            .or_else(|| pool.lambda_arn("PreTokenGeneration")),
        other => pool.lambda_arn(other.config_key()),
    }
}

/// Cognito's answer to a handler's output that is not an object with an object `response`.
fn unrecognizable_output() -> Error {
    Error::new(
        ErrorKind::InvalidLambdaResponseException,
        "Unrecognizable lambda output",
    )
}

/// Cognito's answer to a `response` that does not fit its type: the message a response member
/// gives for its misfit (see [`lenient`]), else "Unrecognizable lambda output".
fn misfit_response(e: &serde_json::Error) -> Error {
    let message = e.to_string();
    if message.starts_with(lenient::INVALID_OUTPUT) {
        Error::new(ErrorKind::InvalidLambdaResponseException, message)
    } else {
        unrecognizable_output()
    }
}

impl Cognito {
    /// Invokes `trigger` with `event` if the pool configures it, returning the handler's
    /// `response`; `Ok(None)` when the trigger is not configured. A `null` or missing
    /// `response` reads as the default one; members of the wrong type read as Cognito reads
    /// them (mostly as unset); a `response` that still does not fit the type is
    /// InvalidLambdaResponseException, like one that is no object.
    pub async fn invoke_trigger<E: SyncTriggerEvent>(
        &self,
        pool: &UserPool,
        trigger: Trigger,
        event: E,
    ) -> Result<Option<E::Response>> {
        debug_assert!(E::TRIGGERS.contains(&trigger), "{trigger} does not send this event");
        let Some(arn) = trigger_arn(pool, trigger) else {
            return Ok(None);
        };
        let event = serde_json::to_value(&event).map_err(|_| unrecognizable_output())?;
        let response = self.invoke_arn(&arn, trigger.error_name(), event).await?;
        serde_json::from_value(Value::Object(response))
            .map(Some)
            .map_err(|e| misfit_response(&e))
    }

    /// Sends `event` to `trigger` without waiting (the custom senders) if the pool configures
    /// it; `false` when it does not.
    pub async fn send_to_trigger<E: TriggerEvent>(&self, pool: &UserPool, trigger: Trigger, event: E) -> bool {
        let Some(arn) = trigger_arn(pool, trigger) else {
            return false;
        };
        self.send_to_function(&arn, trigger, event).await;
        true
    }

    /// Sends `event` for `trigger` to the function at `arn` without waiting: for an event made
    /// before it is sent (a message is rendered before the write that makes it due).
    pub(crate) async fn send_to_function<E: TriggerEvent>(&self, arn: &str, trigger: Trigger, event: E) {
        match serde_json::to_value(&event) {
            Ok(event) => self.triggers.invoke_async(arn, event).await,
            Err(e) => tracing::error!(%trigger, error = %e, "trigger event not serialisable; dropped"),
        }
    }

    /// Calls the function at `arn` and maps the outcome to Cognito's exceptions, naming the
    /// trigger `error_name` in messages; returns the `response` object (empty when `null`).
    async fn invoke_arn(&self, arn: &str, error_name: &str, event: Value) -> Result<Map<String, Value>> {
        match self.triggers.invoke(arn, event).await {
            Ok(Value::Object(mut out)) => match out.remove("response") {
                Some(Value::Object(r)) => Ok(r),
                None | Some(Value::Null) => Ok(Map::new()),
                Some(_) => Err(unrecognizable_output()),
            },
            Ok(_) => Err(unrecognizable_output()),
            Err(InvokeFailure::FunctionError { message, .. }) => Err(Error::new(
                ErrorKind::UserLambdaValidationException,
                format!("{error_name} failed with error {message}."),
            )),
            Err(InvokeFailure::Unexpected { reason }) => Err(Error::new(
                ErrorKind::UnexpectedLambdaException,
                format!("{error_name} invocation failed due to error {reason}."),
            )),
            Err(InvokeFailure::InvalidResponse { message }) => {
                Err(Error::new(ErrorKind::InvalidLambdaResponseException, message))
            }
        }
    }
}
