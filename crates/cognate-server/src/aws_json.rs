//! AWS JSON 1.1 answers, for Cognito and the KMS alike. This is the one place that writes the
//! content type and `x-amzn-requestid`, and errors as `{"__type", "message"}` with
//! `x-amzn-errortype`.
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub(crate) const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// A fresh request id, a UUID as AWS's are.
// A request id is no domain state: it must be unique, not reproducible, so it does not take
// the injected `Random` (which middlewares without state could not reach).
#[allow(clippy::disallowed_methods)]
pub(crate) fn request_id() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).ok();
    cognate_crypto::uuid::format_v4(b)
}

/// An answer carrying `body`; `error_type` names the exception when it is an error.
pub(crate) fn answer(
    status: StatusCode,
    body: impl Into<Body>,
    error_type: Option<&str>,
    request_id: &str,
) -> Response {
    let mut resp = (status, body.into()).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-amzn-requestid", v);
    }
    if let Some(t) = error_type.and_then(|t| HeaderValue::from_str(t).ok()) {
        h.insert("x-amzn-errortype", t);
    }
    resp
}

/// An error answer: `{"__type": error_type, "message": message}`.
pub(crate) fn error(status: StatusCode, error_type: &str, message: &str, request_id: &str) -> Response {
    let body = json!({"__type": error_type, "message": message});
    answer(status, body.to_string(), Some(error_type), request_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;
    use serde_json::Value;

    #[tokio::test]
    async fn an_error_answer_names_its_exception_in_body_and_header() {
        let resp = error(StatusCode::BAD_REQUEST, "NotFoundException", "no such key", "rid-1");
        assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
        let h = resp.headers();
        assert_eq!(h[header::CONTENT_TYPE], CONTENT_TYPE);
        assert_eq!(h["x-amzn-requestid"], "rid-1");
        assert_eq!(h["x-amzn-errortype"], "NotFoundException");
        let body = to_bytes(resp.into_body(), 1024).await.unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body, json!({"__type": "NotFoundException", "message": "no such key"}));
    }

    #[test]
    fn request_ids_look_like_aws_ones() {
        let id = request_id();
        let lengths: Vec<usize> = id.split('-').map(str::len).collect();
        assert_eq!(lengths, [8, 4, 4, 4, 12], "{id}");
        assert_ne!(id, request_id());
    }
}
