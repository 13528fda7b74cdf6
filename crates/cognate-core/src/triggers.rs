//! Lambda triggers: the boundary to whatever runs the functions, and the common envelope.
//! Cognate builds events exactly as Cognito does and interprets the `response` the same way.
use crate::error::{Error, ErrorKind, Result};
use crate::model::{User, UserPool};
use crate::service::{CallContext, Cognito};
use async_trait::async_trait;
use serde_json::{Map, Value, json};

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
pub fn user_attributes_for_trigger(pool: &UserPool, user: &User) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("sub".into(), json!(user.sub));
    for (k, v) in &user.attributes {
        m.insert(k.clone(), json!(v));
    }
    m.insert("cognito:user_status".into(), json!(user.status.as_str()));
    for alias in pool.alias_attributes() {
        if alias != "preferred_username"
            && user.is_verified(&alias)
            && let Some(v) = user.attributes.get(&alias)
        {
            m.insert(format!("cognito:{alias}_alias"), json!(v));
        }
    }
    m
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

/// The members every trigger event starts with.
pub(crate) fn envelope(
    pool: &UserPool,
    version: &str,
    trigger_source: &str,
    user_name: &str,
    client_id: Option<&str>,
    ctx: &CallContext,
) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("version".into(), json!(version));
    m.insert("triggerSource".into(), json!(trigger_source));
    m.insert("region".into(), json!(pool.region()));
    m.insert("userPoolId".into(), json!(pool.id));
    m.insert("userName".into(), json!(user_name));
    m.insert(
        "callerContext".into(),
        json!({
            "awsSdkVersion": sdk_version(ctx),
            "clientId": client_id.unwrap_or(CLIENT_ID_NOT_APPLICABLE),
        }),
    );
    m
}

impl Cognito {
    /// Invokes `trigger` (a LambdaConfig key) if the pool configures it, returning the
    /// handler's `response` object; `Ok(None)` when the trigger is not configured.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn run_trigger(
        &self,
        pool: &UserPool,
        trigger: &str,
        trigger_source: &str,
        version: &str,
        user_name: &str,
        client_id: Option<&str>,
        ctx: &CallContext,
        request: Map<String, Value>,
        response: Value,
    ) -> Result<Option<Map<String, Value>>> {
        self.run_trigger_named(
            pool,
            trigger,
            trigger,
            trigger_source,
            version,
            user_name,
            client_id,
            ctx,
            request,
            response,
        )
        .await
    }

    /// Like [`Cognito::run_trigger`], where the LambdaConfig key (`config_key`) differs from
    /// the name used in error messages (`PreTokenGenerationConfig` reports as `PreTokenGeneration`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn run_trigger_named(
        &self,
        pool: &UserPool,
        config_key: &str,
        trigger: &str,
        trigger_source: &str,
        version: &str,
        user_name: &str,
        client_id: Option<&str>,
        ctx: &CallContext,
        request: Map<String, Value>,
        response: Value,
    ) -> Result<Option<Map<String, Value>>> {
        let Some(arn) = pool.lambda_arn(config_key) else {
            return Ok(None);
        };
        let mut event = envelope(pool, version, trigger_source, user_name, client_id, ctx);
        event.insert("request".into(), Value::Object(request));
        event.insert("response".into(), response);
        let event = Value::Object(event);
        match self.triggers.invoke(&arn, event).await {
            Ok(Value::Object(mut out)) => match out.remove("response") {
                Some(Value::Object(r)) => Ok(Some(r)),
                None | Some(Value::Null) => Ok(Some(Map::new())),
                Some(_) => Err(Error::new(
                    ErrorKind::InvalidLambdaResponseException,
                    "Unrecognizable lambda output",
                )),
            },
            Ok(_) => Err(Error::new(
                ErrorKind::InvalidLambdaResponseException,
                "Unrecognizable lambda output",
            )),
            Err(InvokeFailure::FunctionError { message, .. }) => Err(Error::new(
                ErrorKind::UserLambdaValidationException,
                format!("{trigger} failed with error {message}."),
            )),
            Err(InvokeFailure::Unexpected { reason }) => Err(Error::new(
                ErrorKind::UnexpectedLambdaException,
                format!("{trigger} invocation failed due to error {reason}."),
            )),
            Err(InvokeFailure::InvalidResponse { message }) => {
                Err(Error::new(ErrorKind::InvalidLambdaResponseException, message))
            }
        }
    }
}
