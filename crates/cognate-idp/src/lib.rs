//! The identity provider: the user pool domain's OAuth 2.0 / OpenID Connect endpoints and the
//! hosted sign-in pages, as an axum router the server mounts beside the Cognito API.
//!
//! Routing: every endpoint is served at the server's root (`/oauth2/authorize`, `/login`, …);
//! the pool is the one of the request's `client_id` (or of the access token, for userInfo), and
//! it must have a domain. A request whose `Host` names a pool's domain
//! (`PREFIX.auth.REGION.amazoncognito.com`, `PREFIX.auth.REGION.localhost`, or a custom domain)
//! is held to that pool. The pages are another client of the core: they call the same
//! operations and sign-in state machine as the JSON API.
mod endpoints;
mod federation;
pub mod html;
mod pages;
mod signup;
mod web;

use axum::Router;
use axum::routing::{get, post};
use cognate_core::Cognito;
use std::sync::Arc;

/// What the identity provider's handlers share.
#[derive(Clone)]
pub struct IdpState {
    pub service: Arc<Cognito>,
    /// Cookies are `Secure` (the server is reached over HTTPS).
    pub secure_cookies: bool,
}

/// The identity provider's routes.
pub fn router(state: IdpState) -> Router {
    let state = Arc::new(state);
    Router::new()
        .route("/oauth2/authorize", get(pages::authorize))
        .route(
            "/oauth2/idpresponse",
            get(federation::idp_response).post(federation::idp_response_post),
        )
        .route("/login", get(pages::login_page).post(pages::login_submit))
        .route("/mfa", post(pages::challenge_submit))
        .route("/mfaoption", post(pages::challenge_submit))
        .route("/mfasetup", post(pages::challenge_submit))
        .route("/resetpassword", post(pages::challenge_submit))
        .route("/challenge", post(pages::challenge_submit))
        .route("/signup", get(signup::signup_page).post(signup::signup_submit))
        .route("/confirm", get(signup::confirm_page).post(signup::confirm_submit))
        .route("/resendcode", post(signup::resend_submit))
        .route("/forgotPassword", get(signup::forgot_page).post(signup::forgot_submit))
        .route("/confirmforgotPassword", post(signup::confirm_forgot_submit))
        .route("/oauth2/token", post(endpoints::token))
        .route("/oauth2/userInfo", get(endpoints::user_info).post(endpoints::user_info))
        .route("/oauth2/revoke", post(endpoints::revoke))
        .route("/logout", get(endpoints::logout))
        .route("/error", get(endpoints::error_page))
        .with_state(state)
}
