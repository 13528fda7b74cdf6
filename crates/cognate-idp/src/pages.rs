//! `/oauth2/authorize`, the sign-in page and the challenge pages that can follow it (MFA code,
//! MFA choice, authenticator setup, new password). Each POST runs the core's sign-in state
//! machine one step; a challenge renders its page, "authenticated" starts the browser's
//! session and redirects to the app with a code (or tokens).
use crate::html::{self, Look, esc};
use crate::web::{self, Shared};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use cognate_core::oauth::{AuthorizeRefusal, AuthorizeRequest, with_params};
use cognate_core::ops::clients::flow_allowed;
use cognate_core::ops::sign_in::challenge::Challenge;
use cognate_core::ops::sign_in::{AuthFlow, Outcome};
use cognate_core::{ErrorKind, model::User};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The request a page serves: its parameters (as the query string they came in) and what the
/// core made of them.
pub(crate) struct Accepted {
    pub(crate) query: String,
    pub(crate) req: AuthorizeRequest,
    pub(crate) look: Look,
}

/// Checks the authorize parameters of a page or of `/oauth2/authorize`; a refusal is the
/// response (Cognito's error page, or the error on the redirect URI).
pub(crate) async fn accept(state: &Shared, headers: &HeaderMap, query: Option<&str>) -> Result<Accepted, Response> {
    let params = web::authorize_params(query);
    let domain_pool = web::domain_pool(state, headers).await;
    match state.service.check_authorize(&params, domain_pool.as_deref()).await {
        Ok(req) => Ok(Accepted {
            query: params.to_query(),
            look: crate::pages::look(state, &req).await,
            req,
        }),
        Err(AuthorizeRefusal::ErrorPage { error, client_id }) => Err(web::to_error_page(&error, client_id.as_deref())),
        Err(AuthorizeRefusal::Redirect(url)) => Err(web::redirect(&url, vec![])),
        Err(AuthorizeRefusal::Internal(e)) => {
            tracing::error!(
                detail = e.detail().unwrap_or_default(),
                "authorize failed with an internal error"
            );
            Err(web::error_page_response("server_error", params.client_id.as_deref()))
        }
    }
}

/// The pool's look: UI customization for the client (or the pool), if any.
pub(crate) async fn look(state: &Shared, req: &AuthorizeRequest) -> Look {
    use base64::Engine;
    let ui = match state
        .service
        .ui_customization_for(&req.pool.id, &req.client.client_id)
        .await
    {
        Ok(ui) => ui,
        Err(e) => {
            tracing::error!(
                detail = e.detail().unwrap_or_default(),
                "reading the UI customization failed"
            );
            None
        }
    };
    let (css, image) = ui.map(|ui| (ui.css, ui.image)).unwrap_or_default();
    Look {
        title: Some(req.pool.name.clone()),
        css,
        // Inlined, so the page needs no request to another path (or origin) for it.
        logo: image.map(|img| {
            format!(
                "data:{};base64,{}",
                img.content_type,
                base64::engine::general_purpose::STANDARD.encode(&img.bytes)
            )
        }),
    }
}

/// `GET /oauth2/authorize`: a browser already signed in (and not asked to sign in again) goes
/// straight back to the app; others go to the sign-in page with the same parameters.
pub(crate) async fn authorize(State(state): State<Shared>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let a = match accept(&state, &headers, query.as_deref()).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    if a.req.identity_provider.is_some() {
        return crate::federation::to_provider(&state, &a, &headers, query.as_deref()).await;
    }
    let prompt = a.req.prompt.as_deref().unwrap_or_default();
    if !prompt.split(' ').any(|p| p == "login")
        && let Some(cookie) = web::cookie(&headers, &web::session_cookie_name(&a.req.pool.id))
    {
        match state.service.browser_session(&a.req.pool, &cookie).await {
            Ok(Some((session, user))) => {
                return redirect_signed_in(&state, &a, &user, session.auth_time, &headers, vec![]).await;
            }
            Ok(None) => {}
            Err(e) => tracing::error!(detail = e.detail().unwrap_or_default(), "browser session lookup failed"),
        }
    }
    if prompt.split(' ').any(|p| p == "none") {
        let mut params = vec![("error", "login_required")];
        if let Some(s) = a.req.state.as_deref() {
            params.push(("state", s));
        }
        return web::redirect(&with_params(&a.req.redirect_uri, &params, false), vec![]);
    }
    web::redirect(&format!("/login?{}", a.query), vec![])
}

/// Where the browser goes once signed in: the app's redirect URI with a code or tokens.
async fn redirect_signed_in(
    state: &Shared,
    a: &Accepted,
    user: &User,
    auth_time: i64,
    headers: &HeaderMap,
    cookies: Vec<axum::http::HeaderValue>,
) -> Response {
    let ctx = web::call_context(headers);
    match state
        .service
        .authorization_redirect(&a.req, user, auth_time, &ctx)
        .await
    {
        Ok(url) => web::redirect(&url, cookies),
        Err(e) => {
            let (error, description) = if e.kind == ErrorKind::InternalErrorException {
                tracing::error!(detail = e.detail().unwrap_or_default(), "issuing a code failed");
                ("server_error", None)
            } else {
                ("invalid_request", Some(e.message.clone()))
            };
            let mut params = vec![];
            if let Some(d) = description.as_deref() {
                params.push(("error_description", d));
            }
            if let Some(s) = a.req.state.as_deref() {
                params.push(("state", s));
            }
            params.push(("error", error));
            web::redirect(&with_params(&a.req.redirect_uri, &params, false), cookies)
        }
    }
}

/// A user signed in through the pages: start the browser's session, then back to the app.
pub(crate) async fn signed_in(state: &Shared, a: &Accepted, user: &User, headers: &HeaderMap) -> Response {
    match state.service.start_browser_session(&a.req.pool, user).await {
        Ok((cookie, session)) => {
            let set = web::set_cookie(
                state,
                &web::session_cookie_name(&a.req.pool.id),
                &cookie,
                Some(cognate_core::oauth::browser::BROWSER_SESSION_SECS),
            );
            redirect_signed_in(state, a, user, session.auth_time, headers, vec![set]).await
        }
        Err(e) => {
            tracing::error!(
                detail = e.detail().unwrap_or_default(),
                "starting a browser session failed"
            );
            web::error_page_response("server_error", Some(&a.req.client.client_id))
        }
    }
}

/// Whether the sign-in page may run the pool's custom challenges: the client allows
/// CUSTOM_AUTH and the pool has the three challenge triggers.
pub(crate) fn custom_auth_available(a: &Accepted) -> bool {
    flow_allowed(&a.req.client, "ALLOW_CUSTOM_AUTH")
        && [
            "DefineAuthChallenge",
            "CreateAuthChallenge",
            "VerifyAuthChallengeResponse",
        ]
        .iter()
        .all(|t| a.req.pool.lambda_arn(t).is_some())
}

/// What the username field is called: the pool may sign users in by email or phone.
pub(crate) fn username_label(a: &Accepted) -> &'static str {
    let attrs = a.req.pool.username_attributes();
    match (
        attrs.iter().any(|a| a == "email"),
        attrs.iter().any(|a| a == "phone_number"),
    ) {
        (true, true) => "Email or phone number",
        (true, false) => "Email",
        (false, true) => "Phone number",
        (false, false) => "Username",
    }
}

/// Messages shown above a form.
#[derive(Default)]
pub(crate) struct Notice<'a> {
    pub(crate) error: Option<&'a str>,
    pub(crate) info: Option<&'a str>,
}

pub(crate) fn render_login(a: &Accepted, csrf: &web::Csrf, username: Option<&str>, notice: Notice<'_>) -> Response {
    let login_hint = a.req.login_hint.as_deref();
    let mut inner = web_field_username(a, username.or(login_hint));
    let custom = custom_auth_available(a);
    inner.push_str(&html::field(
        "password",
        "Password",
        "password",
        None,
        if custom {
            r#"autocomplete="current-password""#
        } else {
            r#"autocomplete="current-password" required"#
        },
    ));
    let mut body = crate::federation::provider_buttons(a);
    if !a.req.cognito_offered {
        return web::page(
            StatusCode::OK,
            "Sign in",
            &a.look,
            &body,
            csrf.set.clone().into_iter().collect(),
        );
    }
    body.push_str(&html::heading("Sign in with your username and password"));
    if custom {
        body.push_str(&html::description(
            "Or leave the password empty to answer a sign-in challenge instead.",
        ));
    }
    body.push_str(&html::info(notice.info));
    body.push_str(&html::error(notice.error));
    body.push_str(&html::form(
        &format!("/login?{}", a.query),
        &csrf.token,
        &inner,
        "signInSubmitButton",
        "Sign in",
    ));
    body.push_str(&html::links(&[
        html::link(&format!("/forgotPassword?{}", a.query), "Forgot your password?"),
        html::link(&format!("/signup?{}", a.query), "Need an account? Sign up"),
    ]));
    let status = if notice.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    web::page(
        status,
        "Sign in",
        &a.look,
        &body,
        csrf.set.clone().into_iter().collect(),
    )
}

pub(crate) fn back_to_sign_in(a: &Accepted) -> String {
    html::links(&[html::link(&format!("/login?{}", a.query), "Back to sign in")])
}

pub(crate) fn web_field_username(a: &Accepted, value: Option<&str>) -> String {
    html::field(
        "username",
        username_label(a),
        "text",
        value,
        r#"autocomplete="username" autocapitalize="none" required"#,
    )
}

/// `GET /login`.
pub(crate) async fn login_page(State(state): State<Shared>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let a = match accept(&state, &headers, query.as_deref()).await {
        Ok(a) => a,
        Err(resp) => return resp,
    };
    let csrf = web::csrf(&state, &headers);
    render_login(&a, &csrf, None, Notice::default())
}

/// The SECRET_HASH the pages send for a client with a secret (the browser never sees it).
pub(crate) fn secret_hash(a: &Accepted, username: &str) -> Option<String> {
    a.req
        .client
        .secret
        .as_ref()
        .map(|s| cognate_crypto::secret_hash::secret_hash(s, username, &a.req.client.client_id))
}

/// Reads a POST: the form, after the parameters and the CSRF token are checked.
pub(crate) async fn accept_post(
    state: &Shared,
    headers: &HeaderMap,
    query: Option<&str>,
    body: &[u8],
) -> Result<(Accepted, BTreeMap<String, String>, web::Csrf), Response> {
    let a = accept(state, headers, query).await?;
    let csrf = web::csrf(state, headers);
    // A client that does not offer the pool's own sign-in takes no password (or sign-up) forms.
    if !a.req.cognito_offered {
        return Err(render_login(&a, &csrf, None, Notice::default()));
    }
    let Some(form) = web::form(body) else {
        return Err(render_login(
            &a,
            &csrf,
            None,
            Notice {
                error: Some("The form could not be read."),
                info: None,
            },
        ));
    };
    if !web::csrf_ok(headers, &form) {
        return Err(render_login(
            &a,
            &csrf,
            form.get("username").map(String::as_str),
            Notice {
                error: Some("Your session has expired. Please try again."),
                info: None,
            },
        ));
    }
    Ok((a, form, csrf))
}

/// `POST /login`: username and password.
pub(crate) async fn login_submit(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (a, form, csrf) = match accept_post(&state, &headers, query.as_deref(), &body).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let username = form.get("username").map(|u| u.trim().to_owned()).unwrap_or_default();
    let password = form.get("password").cloned().unwrap_or_default();
    // Without a password, a pool whose triggers drive custom challenges asks them instead.
    if !username.is_empty() && password.is_empty() && custom_auth_available(&a) {
        let mut params = BTreeMap::from([("USERNAME".to_owned(), username.clone())]);
        if let Some(h) = secret_hash(&a, &username) {
            params.insert("SECRET_HASH".into(), h);
        }
        let ctx = web::call_context(&headers);
        let outcome = state
            .service
            .hosted_sign_in(&a.req.pool, &a.req.client, AuthFlow::CustomAuth, &params, &ctx)
            .await;
        return after_step(&state, &a, &csrf, &headers, outcome, &username).await;
    }
    if username.is_empty() || password.is_empty() {
        let error = if username.is_empty() {
            "Username cannot be empty"
        } else {
            "Password cannot be empty"
        };
        return render_login(
            &a,
            &csrf,
            Some(&username),
            Notice {
                error: Some(error),
                info: None,
            },
        );
    }
    let mut params = BTreeMap::from([
        ("USERNAME".to_owned(), username.clone()),
        ("PASSWORD".to_owned(), password),
    ]);
    if let Some(h) = secret_hash(&a, &username) {
        params.insert("SECRET_HASH".into(), h);
    }
    let ctx = web::call_context(&headers);
    let outcome = state
        .service
        .hosted_sign_in(&a.req.pool, &a.req.client, AuthFlow::UserPasswordAuth, &params, &ctx)
        .await;
    after_step(&state, &a, &csrf, &headers, outcome, &username).await
}

/// What follows a sign-in step: the next challenge's page, the app, or the sign-in page again
/// with the reason.
async fn after_step(
    state: &Shared,
    a: &Accepted,
    csrf: &web::Csrf,
    headers: &HeaderMap,
    outcome: cognate_core::Result<Outcome>,
    username: &str,
) -> Response {
    match outcome {
        Ok(Outcome::Authenticated(user)) => signed_in(state, a, &user, headers).await,
        Ok(Outcome::Challenge(c)) => render_challenge(state, a, csrf, &c, None).await,
        Ok(Outcome::Tokens(_)) => web::error_page_response("server_error", Some(&a.req.client.client_id)),
        Err(e) => match e.kind {
            ErrorKind::UserNotConfirmedException => crate::signup::render_confirm(
                a,
                csrf,
                username,
                Notice {
                    error: Some("Your account is not confirmed yet. Enter the code we sent you, or send a new one."),
                    info: None,
                },
            ),
            ErrorKind::PasswordResetRequiredException => crate::signup::render_forgot(
                a,
                csrf,
                Some(username),
                Notice {
                    error: Some("Password reset required for the user. Request a code to reset it."),
                    info: None,
                },
            ),
            ErrorKind::InternalErrorException => {
                tracing::error!(
                    detail = e.detail().unwrap_or_default(),
                    "hosted sign-in failed with an internal error"
                );
                render_login(
                    a,
                    csrf,
                    Some(username),
                    Notice {
                        error: Some("An error was encountered. Please try again."),
                        info: None,
                    },
                )
            }
            _ => render_login(
                a,
                csrf,
                Some(username),
                Notice {
                    error: Some(&e.message),
                    info: None,
                },
            ),
        },
    }
}

fn json_list(v: Option<&String>) -> Vec<String> {
    v.and_then(|s| serde_json::from_str::<Vec<String>>(s).ok())
        .unwrap_or_default()
}

/// The page of a challenge. `error` is the reason the last answer was refused.
async fn render_challenge(
    state: &Shared,
    a: &Accepted,
    csrf: &web::Csrf,
    c: &Challenge,
    error: Option<&str>,
) -> Response {
    let username = c
        .parameters
        .get("USER_ID_FOR_SRP")
        .or_else(|| c.parameters.get("USERNAME"))
        .cloned()
        .unwrap_or_default();
    let mut inner = html::hidden("challenge_name", &c.name);
    inner.push_str(&html::hidden("session", &c.session));
    inner.push_str(&html::hidden("username", &username));
    let mut body = String::new();
    let (path, title, submit) = match c.name.as_str() {
        "SMS_MFA" | "EMAIL_OTP" | "SOFTWARE_TOKEN_MFA" => {
            let text = match (c.name.as_str(), c.parameters.get("CODE_DELIVERY_DESTINATION")) {
                ("SOFTWARE_TOKEN_MFA", _) => "Enter the code from your authenticator app.".to_owned(),
                (_, Some(to)) => format!("We have delivered a code to {to}. Enter it to sign in."),
                _ => "Enter the code we sent you.".to_owned(),
            };
            body.push_str(&html::heading("Multi-factor authentication"));
            body.push_str(&html::description(&text));
            inner.push_str(&html::field(
                "code",
                "Code",
                "text",
                None,
                r#"inputmode="numeric" autocomplete="one-time-code" required autofocus"#,
            ));
            ("/mfa", "Multi-factor authentication", "Sign in")
        }
        "SELECT_MFA_TYPE" => {
            body.push_str(&html::heading("Choose how to verify it is you"));
            for (i, f) in json_list(c.parameters.get("MFAS_CAN_CHOOSE")).iter().enumerate() {
                let label = match f.as_str() {
                    "SMS_MFA" => "A code by text message",
                    "EMAIL_OTP" => "A code by email",
                    "SOFTWARE_TOKEN_MFA" => "A code from an authenticator app",
                    other => other,
                };
                let checked = if i == 0 { " checked" } else { "" };
                inner.push_str(&format!(
                    r#"<label class="choice"><input type="radio" name="mfa_type" value="{}"{checked}> {}</label>"#,
                    esc(f),
                    esc(label)
                ));
            }
            ("/mfaoption", "Choose a verification method", "Continue")
        }
        "CUSTOM_CHALLENGE" => {
            body.push_str(&html::heading("Answer the challenge"));
            let shown: Vec<(&String, &String)> = c
                .parameters
                .iter()
                .filter(|(k, _)| k.as_str() != "USERNAME" && k.as_str() != "USER_ID_FOR_SRP")
                .collect();
            if shown.is_empty() {
                body.push_str(&html::description("Enter your answer to continue."));
            }
            for (k, v) in shown {
                body.push_str(&format!(
                    r#"<p class="textDescription-customizable" data-parameter="{}">{}</p>"#,
                    esc(k),
                    esc(v)
                ));
                inner.push_str(&html::hidden(&format!("parameter[{k}]"), v));
            }
            inner.push_str(&html::field("answer", "Answer", "text", None, "required autofocus"));
            ("/challenge", "Answer the challenge", "Continue")
        }
        "MFA_SETUP" => return render_mfa_setup(state, a, csrf, c, &username, None, error).await,
        "NEW_PASSWORD_REQUIRED" => {
            body.push_str(&html::heading("Change password"));
            body.push_str(&html::description("Please enter a new password."));
            inner.push_str(&html::field(
                "new_password",
                "New password",
                "password",
                None,
                r#"autocomplete="new-password" required"#,
            ));
            inner.push_str(&html::field(
                "confirm_password",
                "Enter new password again",
                "password",
                None,
                r#"autocomplete="new-password" required"#,
            ));
            for attr in json_list(c.parameters.get("requiredAttributes")) {
                let name = attr.trim_start_matches("userAttributes.");
                inner.push_str(&html::field(
                    &format!("requiredAttributes[{name}]"),
                    name,
                    "text",
                    None,
                    "required",
                ));
            }
            ("/resetpassword", "Change password", "Send")
        }
        other => {
            return render_login(
                a,
                csrf,
                Some(&username),
                Notice {
                    error: Some(&format!("The challenge {other} cannot be answered on these pages.")),
                    info: None,
                },
            );
        }
    };
    body.push_str(&html::error(error));
    body.push_str(&html::form(
        &format!("{path}?{}", a.query),
        &csrf.token,
        &inner,
        "signInSubmitButton",
        submit,
    ));
    body.push_str(&back_to_sign_in(a));
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    web::page(status, title, &a.look, &body, csrf.set.clone().into_iter().collect())
}

/// MFA_SETUP: a new authenticator secret (AssociateSoftwareToken with the challenge's session)
/// shown as a QR code and as text, and the field for its first code.
async fn render_mfa_setup(
    state: &Shared,
    a: &Accepted,
    csrf: &web::Csrf,
    c: &Challenge,
    username: &str,
    secret: Option<(&str, &str)>,
    error: Option<&str>,
) -> Response {
    let (secret, session) = match secret {
        Some((s, sess)) => (s.to_owned(), sess.to_owned()),
        None => {
            let ctx = cognate_core::CallContext::default();
            match state
                .service
                .call("AssociateSoftwareToken", json!({"Session": c.session}), &ctx)
                .await
            {
                Some(Ok(v)) => (
                    v.get("SecretCode")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    v.get("Session")
                        .and_then(Value::as_str)
                        .unwrap_or(&c.session)
                        .to_owned(),
                ),
                Some(Err(e)) => {
                    return render_login(
                        a,
                        csrf,
                        Some(username),
                        Notice {
                            error: Some(&e.message),
                            info: None,
                        },
                    );
                }
                None => return web::error_page_response("server_error", None),
            }
        }
    };
    let issuer = a.req.pool.name.clone();
    let uri = format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}",
        cognate_core::oauth::percent_encode(&issuer),
        cognate_core::oauth::percent_encode(username),
        secret,
        cognate_core::oauth::percent_encode(&issuer)
    );
    let qr = qr_svg(&uri);
    let mut body = html::heading("Set up an authenticator app");
    body.push_str(&html::description(
        "Scan this QR code with your authenticator app, or enter the secret key, then enter the code the app shows.",
    ));
    body.push_str(&format!(
        r#"<div class="qr">{qr}</div><p class="secret" id="secretCode">{}</p>"#,
        esc(&secret)
    ));
    body.push_str(&html::error(error));
    let mut inner = html::hidden("challenge_name", "MFA_SETUP");
    inner.push_str(&html::hidden("session", &session));
    inner.push_str(&html::hidden("username", username));
    inner.push_str(&html::hidden("secret_code", &secret));
    inner.push_str(&html::field(
        "code",
        "Code",
        "text",
        None,
        r#"inputmode="numeric" autocomplete="one-time-code" required"#,
    ));
    body.push_str(&html::form(
        &format!("/mfasetup?{}", a.query),
        &csrf.token,
        &inner,
        "signInSubmitButton",
        "Verify",
    ));
    body.push_str(&back_to_sign_in(a));
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    web::page(
        status,
        "Set up an authenticator app",
        &a.look,
        &body,
        csrf.set.clone().into_iter().collect(),
    )
}

/// An SVG QR code (no script, no external reference: safe to inline).
fn qr_svg(data: &str) -> String {
    match qrcode::QrCode::new(data.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
        Err(_) => String::new(),
    }
}

/// `POST /mfa`, `/mfaoption`, `/mfasetup`, `/resetpassword`: answers the open challenge.
pub(crate) async fn challenge_submit(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (a, form, csrf) = match accept_post(&state, &headers, query.as_deref(), &body).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let get = |k: &str| form.get(k).cloned().unwrap_or_default();
    let (name, mut session, username) = (get("challenge_name"), get("session"), get("username"));
    let mut parameters = BTreeMap::from([("USER_ID_FOR_SRP".to_owned(), username.clone())]);
    for (k, v) in &form {
        if let Some(p) = k.strip_prefix("parameter[").and_then(|k| k.strip_suffix(']')) {
            parameters.insert(p.to_owned(), v.clone());
        }
    }
    let challenge = Challenge {
        name: name.clone(),
        session: session.clone(),
        parameters,
        available_challenges: Vec::new(),
    };
    let mut responses = BTreeMap::from([("USERNAME".to_owned(), username.clone())]);
    if let Some(h) = secret_hash(&a, &username) {
        responses.insert("SECRET_HASH".into(), h);
    }
    let ctx = web::call_context(&headers);
    match name.as_str() {
        "SMS_MFA" => {
            responses.insert("SMS_MFA_CODE".into(), get("code").trim().to_owned());
        }
        "EMAIL_OTP" => {
            responses.insert("EMAIL_OTP_CODE".into(), get("code").trim().to_owned());
        }
        "SOFTWARE_TOKEN_MFA" => {
            responses.insert("SOFTWARE_TOKEN_MFA_CODE".into(), get("code").trim().to_owned());
        }
        "SELECT_MFA_TYPE" => {
            responses.insert("ANSWER".into(), get("mfa_type"));
        }
        "CUSTOM_CHALLENGE" => {
            responses.insert("ANSWER".into(), get("answer"));
        }
        "NEW_PASSWORD_REQUIRED" => {
            if get("new_password") != get("confirm_password") {
                let c = Challenge {
                    parameters: BTreeMap::from([("USER_ID_FOR_SRP".to_owned(), username.clone())]),
                    ..challenge
                };
                return render_challenge(&state, &a, &csrf, &c, Some("Passwords do not match.")).await;
            }
            responses.insert("NEW_PASSWORD".into(), get("new_password"));
            for (k, v) in &form {
                if let Some(attr) = k.strip_prefix("requiredAttributes[").and_then(|k| k.strip_suffix(']')) {
                    responses.insert(format!("userAttributes.{attr}"), v.clone());
                }
            }
        }
        "MFA_SETUP" => {
            let secret = get("secret_code");
            let verified = state
                .service
                .call(
                    "VerifySoftwareToken",
                    json!({"Session": session, "UserCode": get("code").trim()}),
                    &ctx,
                )
                .await;
            match verified {
                Some(Ok(v)) => {
                    if let Some(s) = v.get("Session").and_then(Value::as_str) {
                        session = s.to_owned();
                    }
                }
                Some(Err(e)) => {
                    return render_mfa_setup(
                        &state,
                        &a,
                        &csrf,
                        &challenge,
                        &username,
                        Some((&secret, &session)),
                        Some(&e.message),
                    )
                    .await;
                }
                None => return web::error_page_response("server_error", None),
            }
        }
        _ => {
            return render_login(
                &a,
                &csrf,
                Some(&username),
                Notice {
                    error: Some("The form could not be read."),
                    info: None,
                },
            );
        }
    }
    let outcome = state
        .service
        .hosted_answer(&a.req.pool, &a.req.client, &name, session.clone(), &responses, &ctx)
        .await;
    match outcome {
        // A wrong code or an unacceptable new password: the same challenge again.
        Err(e)
            if matches!(
                e.kind,
                ErrorKind::CodeMismatchException
                    | ErrorKind::InvalidPasswordException
                    | ErrorKind::InvalidParameterException
            ) && name != "MFA_SETUP" =>
        {
            let mut c = challenge;
            c.session = session;
            render_challenge(&state, &a, &csrf, &c, Some(&e.message)).await
        }
        other => after_step(&state, &a, &csrf, &headers, other, &username).await,
    }
}
