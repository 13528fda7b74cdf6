//! The browser's side of federated sign-in: the provider buttons of the sign-in page, the
//! redirect to a provider (`/oauth2/authorize?identity_provider=…`), and `/oauth2/idpresponse`,
//! where the provider sends the browser back. What is checked and who signs in is core's
//! (`oauth/federation.rs`).
use crate::html::{self, esc};
use crate::pages::{Accepted, accept, signed_in};
use crate::web::{self, Shared};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use cognate_core::oauth::federation::{FEDERATION_SECS, FederationEnd, IdpResponseParams};
use cognate_core::oauth::with_params;
use cognate_core::ops::identity_providers::ProviderKind;

/// The cookie that binds a federated sign-in to the browser that began it.
const BINDING_COOKIE: &str = "cognate-federation";

/// This server's `/oauth2/idpresponse` as the browser reached it (the provider's callback).
fn callback(state: &Shared, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['/', ' ', '"']))
        .unwrap_or("localhost");
    let scheme = if state.secure_cookies { "https" } else { "http" };
    format!("{scheme}://{host}/oauth2/idpresponse")
}

/// Sends the browser to the provider the request named.
pub(crate) async fn to_provider(state: &Shared, a: &Accepted, headers: &HeaderMap, query: Option<&str>) -> Response {
    let params = web::authorize_params(query);
    match state
        .service
        .start_federation(&a.req, &params, &callback(state, headers))
        .await
    {
        Ok(start) => {
            let mut cookie = web::set_cookie(state, BINDING_COOKIE, &start.binding, Some(FEDERATION_SECS));
            // Apple answers with a cross-site form post, which carries only SameSite=None
            // cookies (and browsers keep those only when Secure: under HTTPS).
            let cross_site = a
                .req
                .identity_provider
                .as_ref()
                .is_some_and(|p| p.kind() == ProviderKind::SignInWithApple);
            if cross_site
                && state.secure_cookies
                && let Ok(v) = HeaderValue::from_str(
                    &cookie
                        .to_str()
                        .unwrap_or_default()
                        .replace("SameSite=Lax", "SameSite=None"),
                )
            {
                cookie = v;
            }
            web::redirect(&start.location, vec![cookie])
        }
        Err(e) => {
            tracing::error!(
                detail = e.detail().unwrap_or_default(),
                "starting a federated sign-in failed"
            );
            web::error_page_response("server_error", Some(&a.req.client.client_id))
        }
    }
}

/// One button per provider the client offers besides COGNITO.
pub(crate) fn provider_buttons(a: &Accepted) -> String {
    if a.req.offered_providers.is_empty() {
        return String::new();
    }
    let mut out = html::description("Sign in with your corporate or social account");
    for name in &a.req.offered_providers {
        let mut params = web::authorize_params(Some(&a.query));
        params.identity_provider = Some(name.clone());
        params.idp_identifier = None;
        out.push_str(&format!(
            r#"<a class="idpButton-customizable socialButton-customizable" data-provider="{name}" href="{href}">Continue with {name}</a>"#,
            name = esc(name),
            href = esc(&format!("/oauth2/authorize?{}", params.to_query())),
        ));
    }
    out
}

/// `GET /oauth2/idpresponse`: the provider's answer (a code, or an error) for a sign-in this
/// browser began.
pub(crate) async fn idp_response(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let params: IdpResponseParams =
        serde_urlencoded::from_str(query.as_deref().unwrap_or_default()).unwrap_or_default();
    complete(state, headers, params).await
}

/// `POST /oauth2/idpresponse`: the same answer as a form (`response_mode=form_post`, Apple's).
pub(crate) async fn idp_response_post(State(state): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let params: IdpResponseParams = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    complete(state, headers, params).await
}

async fn complete(state: Shared, headers: HeaderMap, params: IdpResponseParams) -> Response {
    let binding = web::cookie(&headers, BINDING_COOKIE);
    let ctx = web::call_context(&headers);
    let end = match state.service.finish_federation(&params, binding.as_deref(), &ctx).await {
        Ok(end) => end,
        Err(e) => {
            tracing::error!(
                detail = e.detail().unwrap_or_default(),
                "completing a federated sign-in failed"
            );
            return web::error_page_response("server_error", None);
        }
    };
    let FederationEnd::Done { query, outcome } = end else {
        return web::to_error_page("invalid_request", None);
    };
    let a = match accept(&state, &headers, Some(&query)).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let clear = web::set_cookie(&state, BINDING_COOKIE, "", Some(0));
    match outcome {
        Ok(user) => {
            let mut resp = signed_in(&state, &a, &user, &headers).await;
            resp.headers_mut().append(header::SET_COOKIE, clear);
            resp
        }
        Err((error, description)) => {
            let mut p = vec![("error_description", description.as_str())];
            if let Some(s) = a.req.state.as_deref() {
                p.push(("state", s));
            }
            p.push(("error", error));
            web::redirect(&with_params(&a.req.redirect_uri, &p, false), vec![clear])
        }
    }
}
