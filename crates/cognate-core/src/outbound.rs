//! Requests Cognate itself sends to other servers: an OpenID Connect provider's discovery
//! document, token endpoint, userInfo and JWKS, and a SAML provider's metadata URL. The domain
//! only sees this trait; the server sends them with an HTTP client (`cognate-server`'s
//! `outbound.rs`), and a service without one refuses every request.
use async_trait::async_trait;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    Get,
    Post,
}

/// One outgoing request. A `form` is sent as `application/x-www-form-urlencoded`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: HttpMethod,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub form: Option<Vec<(String, String)>>,
}

impl HttpRequest {
    pub fn get(url: impl Into<String>) -> Self {
        Self {
            method: HttpMethod::Get,
            url: url.into(),
            headers: Vec::new(),
            form: None,
        }
    }

    pub fn post_form(url: impl Into<String>, form: Vec<(String, String)>) -> Self {
        Self {
            method: HttpMethod::Post,
            url: url.into(),
            headers: Vec::new(),
            form: Some(form),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// The answer: status and body (bodies are small JSON or XML documents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// Why a request got no answer (the server could not be reached, it timed out, …), in words
/// for the log.
pub type OutboundError = String;

#[async_trait]
pub trait Outbound: Send + Sync + 'static {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, OutboundError>;
}

/// No outgoing requests (the domain test kit, a service built without an HTTP client).
pub struct NoOutbound;

#[async_trait]
impl Outbound for NoOutbound {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, OutboundError> {
        Err(format!("outgoing requests are not configured ({})", request.url))
    }
}
