//! The AWS Lambda Runtime API, as served to one process instance.
//!
//! Routes (all under `/2018-06-01/runtime`):
//! - `GET invocation/next`: long-poll for the next event; replies with the event as body and the
//!   `Lambda-Runtime-Aws-Request-Id`, `-Deadline-Ms`, `-Invoked-Function-Arn` and `-Trace-Id`
//!   headers.
//! - `POST invocation/{id}/response`: the handler's result.
//! - `POST invocation/{id}/error`: a function error, body `{errorMessage, errorType, stackTrace}`,
//!   header `Lambda-Runtime-Function-Error-Type`.
//! - `POST init/error`: the runtime could not initialise (handler not found, import failed).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tokio::sync::{Notify, mpsc, watch};

use crate::error::FunctionError;

/// Largest response Lambda accepts from a synchronous invocation (6 MB).
pub(crate) const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// What the runtime told us about the current invocation.
#[derive(Debug)]
pub(crate) enum RuntimeEvent {
    /// The runtime received the event (at this instant).
    Delivered(Instant),
    /// The handler's result.
    Response(Bytes),
    /// The handler failed.
    Error(FunctionError),
    /// The runtime failed to initialise.
    InitError(FunctionError),
}

/// The invocation an instance is working on.
pub(crate) struct Current {
    pub request_id: String,
    /// The event, until `next` hands it out.
    pub payload: Option<Bytes>,
    /// The caller's deadline.
    pub caller_deadline: SystemTime,
    pub trace_id: String,
    pub events: mpsc::UnboundedSender<RuntimeEvent>,
}

#[derive(Default)]
pub(crate) struct Slot {
    pub current: Option<Current>,
    /// An init error posted while no invocation was waiting.
    pub init_error: Option<FunctionError>,
}

/// State shared by one instance's Runtime API and the invoker.
pub(crate) struct InstanceState {
    pub function_name: String,
    pub function_arn: String,
    /// The function's own timeout, for the deadline header.
    pub function_timeout: Duration,
    pub slot: Mutex<Slot>,
    /// Wakes a waiting `next` when an invocation is placed.
    pub wake: Notify,
    /// Set once the process has ended: releases a pending `next`.
    pub closed: watch::Sender<bool>,
}

impl InstanceState {
    pub fn slot(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the current invocation if its id is `request_id`.
    fn take_current(&self, request_id: &str) -> Option<Current> {
        let mut slot = self.slot();
        if slot
            .current
            .as_ref()
            .is_some_and(|c| c.request_id == request_id && c.payload.is_none())
        {
            slot.current.take()
        } else {
            None
        }
    }
}

pub(crate) fn router(state: Arc<InstanceState>) -> Router {
    Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
        .route("/2018-06-01/runtime/init/error", post(init_error))
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

async fn next(State(state): State<Arc<InstanceState>>) -> Response {
    let mut closed = state.closed.subscribe();
    loop {
        let notified = state.wake.notified();
        {
            let mut slot = state.slot();
            if let Some(current) = slot.current.as_mut()
                && let Some(payload) = current.payload.take()
            {
                let now = crate::time::wall_clock();
                let deadline = (now + state.function_timeout).min(current.caller_deadline);
                let _ = current.events.send(RuntimeEvent::Delivered(Instant::now()));
                let mut headers = HeaderMap::new();
                let mut put = |name: &'static str, value: &str| {
                    if let Ok(value) = HeaderValue::from_str(value) {
                        headers.insert(name, value);
                    }
                };
                put("lambda-runtime-aws-request-id", &current.request_id);
                put(
                    "lambda-runtime-deadline-ms",
                    &crate::time::unix_millis(deadline).to_string(),
                );
                put("lambda-runtime-invoked-function-arn", &state.function_arn);
                put("lambda-runtime-trace-id", &current.trace_id);
                put("content-type", "application/json");
                return (StatusCode::OK, headers, payload).into_response();
            }
        }
        tokio::select! {
            () = notified => {}
            () = wait_closed(&mut closed) => {
                return status_reply(StatusCode::GONE, "Instance stopped");
            }
        }
    }
}

async fn wait_closed(closed: &mut watch::Receiver<bool>) {
    let _ = closed.wait_for(|closed| *closed).await;
}

async fn response(State(state): State<Arc<InstanceState>>, Path(id): Path<String>, body: Bytes) -> Response {
    let Some(current) = state.take_current(&id) else {
        return invalid_request_id();
    };
    if body.len() > MAX_RESPONSE_BYTES {
        let error = FunctionError::new(
            "Function.ResponseSizeTooLarge",
            format!(
                "Response payload size ({} bytes) exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
                body.len()
            ),
        );
        let _ = current.events.send(RuntimeEvent::Error(error));
        return status_reply(StatusCode::PAYLOAD_TOO_LARGE, "Payload Too Large");
    }
    let _ = current.events.send(RuntimeEvent::Response(body));
    accepted()
}

async fn error(
    State(state): State<Arc<InstanceState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(current) = state.take_current(&id) else {
        return invalid_request_id();
    };
    let error = FunctionError::from_body(&body, error_type_header(&headers));
    tracing::debug!(function = %state.function_name, request_id = %id, %error, "function error");
    let _ = current.events.send(RuntimeEvent::Error(error));
    accepted()
}

async fn init_error(State(state): State<Arc<InstanceState>>, headers: HeaderMap, body: Bytes) -> Response {
    let error = FunctionError::from_body(&body, error_type_header(&headers));
    tracing::warn!(function = %state.function_name, %error, "function initialisation failed");
    let mut slot = state.slot();
    match slot.current.take() {
        Some(current) => {
            let _ = current.events.send(RuntimeEvent::InitError(error));
        }
        None => slot.init_error = Some(error),
    }
    accepted()
}

fn error_type_header(headers: &HeaderMap) -> &str {
    headers
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .unwrap_or("Unhandled")
}

fn accepted() -> Response {
    status_reply(StatusCode::ACCEPTED, "OK")
}

fn status_reply(code: StatusCode, status: &str) -> Response {
    (
        code,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({ "status": status }).to_string(),
    )
        .into_response()
}

fn invalid_request_id() -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({
            "errorMessage": "Invalid request ID",
            "errorType": "InvalidRequestID",
        })
        .to_string(),
    )
        .into_response()
}
