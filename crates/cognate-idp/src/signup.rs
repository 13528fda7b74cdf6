//! Sign-up, confirmation, a new confirmation code, and the forgotten-password pages. Each calls
//! the Cognito operation an app would (SignUp, ConfirmSignUp, ResendConfirmationCode,
//! ForgotPassword, ConfirmForgotPassword) through the core's dispatch, so validation, quotas
//! and triggers are the API's own.
use crate::html;
use crate::pages::{
    Accepted, Notice, accept, accept_post, back_to_sign_in, render_login, secret_hash, web_field_username,
};
use crate::web::{self, Shared};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use cognate_core::ErrorKind;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The attributes the sign-up form asks for: the pool's required ones (the username
/// attribute itself comes from the username field).
fn required_attributes(a: &Accepted) -> Vec<String> {
    let username_attrs = a.req.pool.username_attributes();
    a.req
        .pool
        .schema()
        .iter()
        .filter(|d| d.get("Required").and_then(Value::as_bool) == Some(true))
        .filter_map(|d| d.get("Name").and_then(Value::as_str).map(str::to_owned))
        .filter(|n| n != "sub" && !username_attrs.contains(n))
        .collect()
}

fn attribute_label(name: &str) -> String {
    let plain = name.strip_prefix("custom:").unwrap_or(name);
    let mut label = plain.replace('_', " ");
    if let Some(first) = label.get_mut(0..1) {
        first.make_ascii_uppercase();
    }
    label
}

fn input_type(name: &str) -> &'static str {
    match name {
        "email" => "email",
        "phone_number" => "tel",
        _ => "text",
    }
}

/// The pool's password policy, as the list under the password field.
fn password_hints(a: &Accepted) -> String {
    let policy = a.req.pool.setting("Policies").and_then(|p| p.get("PasswordPolicy"));
    let get = |k: &str| policy.and_then(|p| p.get(k));
    let flag = |k: &str| get(k).and_then(Value::as_bool).unwrap_or(true);
    let mut items = vec![format!(
        "At least {} characters",
        get("MinimumLength").and_then(Value::as_i64).unwrap_or(8)
    )];
    for (key, text) in [
        ("RequireLowercase", "A lowercase letter"),
        ("RequireUppercase", "An uppercase letter"),
        ("RequireNumbers", "A number"),
        ("RequireSymbols", "A special character"),
    ] {
        if flag(key) {
            items.push(text.to_owned());
        }
    }
    let list: String = items
        .iter()
        .map(|i| {
            format!(
                r#"<li class="passwordCheck-notValid-customizable">{}</li>"#,
                html::esc(i)
            )
        })
        .collect();
    format!(r#"<ul class="textDescription-customizable" id="passwordPolicy">{list}</ul>"#)
}

fn render_signup(a: &Accepted, csrf: &web::Csrf, form: &BTreeMap<String, String>, error: Option<&str>) -> Response {
    let mut inner = web_field_username(a, form.get("username").map(String::as_str));
    for name in required_attributes(a) {
        let field = format!("requiredAttributes[{name}]");
        let value = form.get(&field).or_else(|| form.get(&name)).map(String::as_str);
        inner.push_str(&html::field(
            &field,
            &attribute_label(&name),
            input_type(&name),
            value,
            "required",
        ));
    }
    inner.push_str(&html::field(
        "password",
        "Password",
        "password",
        None,
        r#"autocomplete="new-password" required"#,
    ));
    inner.push_str(&password_hints(a));
    let mut body = html::heading("Sign up with a new account");
    body.push_str(&html::error(error));
    body.push_str(&html::form(
        &format!("/signup?{}", a.query),
        &csrf.token,
        &inner,
        "signUpButton",
        "Sign up",
    ));
    body.push_str(&html::links(&[html::link(
        &format!("/login?{}", a.query),
        "Already have an account? Sign in",
    )]));
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    web::page(
        status,
        "Sign up",
        &a.look,
        &body,
        csrf.set.clone().into_iter().collect(),
    )
}

/// `GET /signup`.
pub(crate) async fn signup_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match accept(&state, &headers, query.as_deref()).await {
        Ok(a) => render_signup(&a, &web::csrf(&state, &headers), &BTreeMap::new(), None),
        Err(resp) => resp,
    }
}

/// Runs an operation for the pages; its error message, or the internal failure logged.
async fn call(state: &Shared, headers: &HeaderMap, op: &str, body: Value) -> Result<Value, (ErrorKind, String)> {
    let ctx = web::call_context(headers);
    match state.service.call(op, body, &ctx).await {
        Some(Ok(v)) => Ok(v),
        Some(Err(e)) if e.kind == ErrorKind::InternalErrorException => {
            tracing::error!(
                operation = op,
                detail = e.detail().unwrap_or_default(),
                "hosted page operation failed"
            );
            Err((e.kind, "An error was encountered. Please try again.".into()))
        }
        Some(Err(e)) => Err((e.kind, e.message.clone())),
        None => Err((ErrorKind::InternalErrorException, "unknown operation".into())),
    }
}

/// Adds `SecretHash` for a client with a secret.
fn with_secret_hash(a: &Accepted, username: &str, mut body: Value) -> Value {
    if let (Some(h), Some(m)) = (secret_hash(a, username), body.as_object_mut()) {
        m.insert("SecretHash".into(), json!(h));
    }
    body
}

/// `POST /signup`: SignUp, then the confirmation page (or sign-in, when PreSignUp confirmed).
pub(crate) async fn signup_submit(
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
    let mut attributes = Vec::new();
    for name in required_attributes(&a) {
        let value = form
            .get(&format!("requiredAttributes[{name}]"))
            .or_else(|| form.get(&name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default();
        if !value.is_empty() {
            attributes.push(json!({"Name": name, "Value": value}));
        }
    }
    let request = with_secret_hash(
        &a,
        &username,
        json!({
            "ClientId": a.req.client.client_id,
            "Username": username,
            "Password": password,
            "UserAttributes": attributes,
        }),
    );
    match call(&state, &headers, "SignUp", request).await {
        Ok(out) if out.get("UserConfirmed").and_then(Value::as_bool) == Some(true) => render_login(
            &a,
            &csrf,
            Some(&username),
            Notice {
                error: None,
                info: Some("Your account is ready. Sign in to continue."),
            },
        ),
        Ok(out) => {
            let to = out
                .pointer("/CodeDeliveryDetails/Destination")
                .and_then(Value::as_str)
                .unwrap_or("your email or phone");
            let info = format!("We have sent a code to {to}. Enter it below to confirm your account.");
            render_confirm(
                &a,
                &csrf,
                &username,
                Notice {
                    error: None,
                    info: Some(&info),
                },
            )
        }
        Err((_, message)) => render_signup(&a, &csrf, &form, Some(&message)),
    }
}

pub(crate) fn render_confirm(a: &Accepted, csrf: &web::Csrf, username: &str, notice: Notice<'_>) -> Response {
    let mut inner = web_field_username(a, Some(username));
    inner.push_str(&html::field(
        "code",
        "Verification code",
        "text",
        None,
        r#"inputmode="numeric" autocomplete="one-time-code" required autofocus"#,
    ));
    let mut body = html::heading("Confirm your account");
    body.push_str(&html::info(notice.info));
    body.push_str(&html::error(notice.error));
    inner.push_str(&html::secondary_submit(
        &format!("/resendcode?{}", a.query),
        "resend",
        "Send a new code",
    ));
    body.push_str(&html::form(
        &format!("/confirm?{}", a.query),
        &csrf.token,
        &inner,
        "confirm",
        "Confirm account",
    ));
    body.push_str(&back_to_sign_in(a));
    let status = if notice.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    web::page(
        status,
        "Confirm your account",
        &a.look,
        &body,
        csrf.set.clone().into_iter().collect(),
    )
}

/// `GET /confirm?…&username=…` (as the sign-up page leads there).
pub(crate) async fn confirm_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let username: String = serde_urlencoded::from_str::<Vec<(String, String)>>(query.as_deref().unwrap_or_default())
        .ok()
        .and_then(|pairs| pairs.into_iter().find(|(k, _)| k == "username").map(|(_, v)| v))
        .unwrap_or_default();
    match accept(&state, &headers, query.as_deref()).await {
        Ok(a) => render_confirm(&a, &web::csrf(&state, &headers), &username, Notice::default()),
        Err(resp) => resp,
    }
}

/// `POST /confirm`: ConfirmSignUp, then sign in.
pub(crate) async fn confirm_submit(
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
    let code = form.get("code").map(|c| c.trim().to_owned()).unwrap_or_default();
    let request = with_secret_hash(
        &a,
        &username,
        json!({"ClientId": a.req.client.client_id, "Username": username, "ConfirmationCode": code}),
    );
    match call(&state, &headers, "ConfirmSignUp", request).await {
        Ok(_) => render_login(
            &a,
            &csrf,
            Some(&username),
            Notice {
                error: None,
                info: Some("Your account is confirmed. Sign in to continue."),
            },
        ),
        Err((_, message)) => render_confirm(
            &a,
            &csrf,
            &username,
            Notice {
                error: Some(&message),
                info: None,
            },
        ),
    }
}

/// `POST /resendcode`: ResendConfirmationCode, back to the confirmation page.
pub(crate) async fn resend_submit(
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
    let request = with_secret_hash(
        &a,
        &username,
        json!({"ClientId": a.req.client.client_id, "Username": username}),
    );
    match call(&state, &headers, "ResendConfirmationCode", request).await {
        Ok(out) => {
            let to = out
                .pointer("/CodeDeliveryDetails/Destination")
                .and_then(Value::as_str)
                .unwrap_or("you");
            let info = format!("We have sent a new code to {to}.");
            render_confirm(
                &a,
                &csrf,
                &username,
                Notice {
                    error: None,
                    info: Some(&info),
                },
            )
        }
        Err((_, message)) => render_confirm(
            &a,
            &csrf,
            &username,
            Notice {
                error: Some(&message),
                info: None,
            },
        ),
    }
}

pub(crate) fn render_forgot(a: &Accepted, csrf: &web::Csrf, username: Option<&str>, notice: Notice<'_>) -> Response {
    let inner = web_field_username(a, username);
    let mut body = html::heading("Forgot your password?");
    body.push_str(&html::description(
        "Enter your username below and we will send a message to reset your password.",
    ));
    body.push_str(&html::info(notice.info));
    body.push_str(&html::error(notice.error));
    body.push_str(&html::form(
        &format!("/forgotPassword?{}", a.query),
        &csrf.token,
        &inner,
        "reset_my_password",
        "Reset my password",
    ));
    body.push_str(&html::links(&[html::link(
        &format!("/login?{}", a.query),
        "Back to sign in",
    )]));
    let status = if notice.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    web::page(
        status,
        "Forgot your password?",
        &a.look,
        &body,
        csrf.set.clone().into_iter().collect(),
    )
}

/// `GET /forgotPassword`.
pub(crate) async fn forgot_page(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    match accept(&state, &headers, query.as_deref()).await {
        Ok(a) => render_forgot(&a, &web::csrf(&state, &headers), None, Notice::default()),
        Err(resp) => resp,
    }
}

fn render_confirm_forgot(a: &Accepted, csrf: &web::Csrf, username: &str, notice: Notice<'_>) -> Response {
    let mut inner = html::hidden("username", username);
    inner.push_str(&html::field(
        "code",
        "Code",
        "text",
        None,
        r#"inputmode="numeric" autocomplete="one-time-code" required"#,
    ));
    inner.push_str(&html::field(
        "password",
        "New password",
        "password",
        None,
        r#"autocomplete="new-password" required"#,
    ));
    inner.push_str(&html::field(
        "confirmPassword",
        "Enter new password again",
        "password",
        None,
        r#"autocomplete="new-password" required"#,
    ));
    let mut body = html::heading("Reset your password");
    body.push_str(&html::info(notice.info));
    body.push_str(&html::error(notice.error));
    body.push_str(&html::form(
        &format!("/confirmforgotPassword?{}", a.query),
        &csrf.token,
        &inner,
        "reset_password",
        "Change password",
    ));
    let status = if notice.error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    web::page(
        status,
        "Reset your password",
        &a.look,
        &body,
        csrf.set.clone().into_iter().collect(),
    )
}

/// `POST /forgotPassword`: ForgotPassword, then the page for the code and the new password.
pub(crate) async fn forgot_submit(
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
    let request = with_secret_hash(
        &a,
        &username,
        json!({"ClientId": a.req.client.client_id, "Username": username}),
    );
    match call(&state, &headers, "ForgotPassword", request).await {
        Ok(out) => {
            let to = out
                .pointer("/CodeDeliveryDetails/Destination")
                .and_then(Value::as_str)
                .unwrap_or("you");
            let info = format!("We have sent a password reset code to {to}. Enter it below to reset your password.");
            render_confirm_forgot(
                &a,
                &csrf,
                &username,
                Notice {
                    error: None,
                    info: Some(&info),
                },
            )
        }
        Err((_, message)) => render_forgot(
            &a,
            &csrf,
            Some(&username),
            Notice {
                error: Some(&message),
                info: None,
            },
        ),
    }
}

/// `POST /confirmforgotPassword`: ConfirmForgotPassword, then sign in.
pub(crate) async fn confirm_forgot_submit(
    State(state): State<Shared>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    let (a, form, csrf) = match accept_post(&state, &headers, query.as_deref(), &body).await {
        Ok(x) => x,
        Err(resp) => return resp,
    };
    let get = |k: &str| form.get(k).map(|v| v.to_owned()).unwrap_or_default();
    let username = get("username").trim().to_owned();
    if get("password") != get("confirmPassword") {
        return render_confirm_forgot(
            &a,
            &csrf,
            &username,
            Notice {
                error: Some("Passwords do not match."),
                info: None,
            },
        );
    }
    let mut request = Map::new();
    request.insert("ClientId".into(), json!(a.req.client.client_id));
    request.insert("Username".into(), json!(username));
    request.insert("ConfirmationCode".into(), json!(get("code").trim()));
    request.insert("Password".into(), json!(get("password")));
    let request = with_secret_hash(&a, &username, Value::Object(request));
    match call(&state, &headers, "ConfirmForgotPassword", request).await {
        Ok(_) => render_login(
            &a,
            &csrf,
            Some(&username),
            Notice {
                error: None,
                info: Some("Your password has been changed. Sign in with your new password."),
            },
        ),
        Err((_, message)) => render_confirm_forgot(
            &a,
            &csrf,
            &username,
            Notice {
                error: Some(&message),
                info: None,
            },
        ),
    }
}
