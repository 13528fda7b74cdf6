//! Core's [`Outbound`]: the requests Cognate sends to identity providers (OpenID Connect
//! discovery, token, userInfo and JWKS endpoints; SAML metadata URLs), with reqwest.
use async_trait::async_trait;
use cognate_core::outbound::{HttpMethod, HttpRequest, HttpResponse, Outbound, OutboundError};
use std::time::Duration;

/// How long one request may take; Cognito gives up on an IdP's token endpoint after a few
/// seconds too ("Timeout occurred in calling IdP token endpoint").
const TIMEOUT: Duration = Duration::from_secs(10);

/// Documents larger than this are refused (metadata and JWKS are a few kilobytes).
const MAX_BODY: usize = 1024 * 1024;

pub struct HttpOutbound {
    client: reqwest::Client,
}

impl HttpOutbound {
    pub fn new() -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(3))
            .user_agent(concat!("Cognate/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { client })
    }
}

#[async_trait]
impl Outbound for HttpOutbound {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, OutboundError> {
        let mut builder = match request.method {
            HttpMethod::Get => self.client.get(&request.url),
            HttpMethod::Post => self.client.post(&request.url),
        };
        for (name, value) in &request.headers {
            builder = builder.header(name, value);
        }
        if let Some(form) = &request.form {
            let body = serde_urlencoded::to_string(form).map_err(|e| e.to_string())?;
            builder = builder
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
        }
        let mut resp = builder.send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| e.to_string())? {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(format!("the answer of {} is larger than {MAX_BODY} bytes", request.url));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(HttpResponse { status, body })
    }
}
