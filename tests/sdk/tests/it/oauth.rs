//! The user pool domain's OAuth 2.0 endpoints and hosted pages over plain HTTP, as a browser
//! without JavaScript and an app's back end use them: form posts with cookies, redirects read
//! from `Location`, the token endpoint's JSON. (The browser itself: `hosted_ui.rs`.)
use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{OAuthFlowType, ResourceServerScopeType};
use cognate_sdk_tests::*;
use serde_json::Value;

pub const CALLBACK: &str = "http://localhost:3000/callback";
const LOGOUT: &str = "http://localhost:3000/signed-out";

/// A pool with a domain, a user `amy` and a public client for the code and implicit flows.
pub struct OAuthPool {
    pub pool: TestPool,
    pub client_id: String,
}

pub async fn oauth_pool(c: &Cognate, domain: &str) -> OAuthPool {
    let pool = c.create_pool(domain).await;
    let client_id = web_client(c, &pool.pool_id, domain).await;
    c.admin_user(&pool, "amy", "amy@example.com").await;
    OAuthPool { pool, client_id }
}

/// Gives the pool a domain and a public client for the code and implicit flows.
pub async fn web_client(c: &Cognate, pool_id: &str, domain: &str) -> String {
    c.idp
        .create_user_pool_domain()
        .user_pool_id(pool_id)
        .domain(domain)
        .send()
        .await
        .expect("CreateUserPoolDomain");
    let out = c
        .idp
        .create_user_pool_client()
        .user_pool_id(pool_id)
        .client_name("web")
        .allowed_o_auth_flows_user_pool_client(true)
        .allowed_o_auth_flows(OAuthFlowType::Code)
        .allowed_o_auth_flows(OAuthFlowType::Implicit)
        .allowed_o_auth_scopes("openid")
        .allowed_o_auth_scopes("email")
        .allowed_o_auth_scopes("profile")
        .allowed_o_auth_scopes("aws.cognito.signin.user.admin")
        .callback_urls(CALLBACK)
        .logout_urls(LOGOUT)
        .supported_identity_providers("COGNITO")
        .send()
        .await
        .expect("CreateUserPoolClient");
    out.user_pool_client()
        .and_then(|c| c.client_id())
        .expect("client id")
        .to_string()
}

/// A client for client_credentials with the scopes of a resource server `https://api.example.com`
/// (`read`, `write`), created here; returns (id, secret).
pub async fn machine_client(c: &Cognate, pool_id: &str) -> (String, String) {
    let scope = |n: &str| {
        ResourceServerScopeType::builder()
            .scope_name(n)
            .scope_description(n)
            .build()
            .unwrap()
    };
    c.idp
        .create_resource_server()
        .user_pool_id(pool_id)
        .identifier("https://api.example.com")
        .name("api")
        .scopes(scope("read"))
        .scopes(scope("write"))
        .send()
        .await
        .expect("CreateResourceServer");
    let out = c
        .idp
        .create_user_pool_client()
        .user_pool_id(pool_id)
        .client_name("worker")
        .generate_secret(true)
        .allowed_o_auth_flows_user_pool_client(true)
        .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
        .allowed_o_auth_scopes("https://api.example.com/read")
        .allowed_o_auth_scopes("https://api.example.com/write")
        .send()
        .await
        .expect("CreateUserPoolClient");
    let client = out.user_pool_client().unwrap();
    (
        client.client_id().unwrap().to_owned(),
        client.client_secret().unwrap().to_owned(),
    )
}

/// A browser without JavaScript: keeps cookies, does not follow redirects.
pub struct Browser {
    http: reqwest::Client,
    base: String,
    cookies: BTreeMap<String, String>,
    host: Option<String>,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Browser {
    pub fn new(c: &Cognate) -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            base: c.endpoint.clone(),
            cookies: BTreeMap::new(),
            host: None,
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn read(&mut self, resp: reqwest::Response) -> Page {
        for v in resp.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), val.to_owned());
            }
        }
        Page {
            status: resp.status().as_u16(),
            location: resp.headers().get("location").map(|l| l.to_str().unwrap().to_owned()),
            headers: resp.headers().clone(),
            body: resp.text().await.unwrap(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let mut req = self.http.get(self.url(path)).header("cookie", self.cookie_header());
        if let Some(h) = &self.host {
            req = req.header("host", h);
        }
        let resp = req.send().await.unwrap();
        self.read(resp).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let body = serde_urlencoded::to_string(form).unwrap();
        let mut req = self
            .http
            .post(self.url(path))
            .header("cookie", self.cookie_header())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        if let Some(h) = &self.host {
            req = req.header("host", h);
        }
        let resp = req.send().await.unwrap();
        self.read(resp).await
    }
}

/// The value of a hidden input in a page.
pub fn hidden(body: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = body.find(&marker).unwrap_or_else(|| panic!("no {name} in {body}")) + marker.len();
    body[start..].split('"').next().unwrap().to_owned()
}

/// The action of the page's first form.
pub fn login_action(body: &str) -> String {
    let start = body.find(r#"action=""#).expect("a form") + 8;
    body[start..].split('"').next().unwrap().replace("&amp;", "&")
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url
        .split_once('?')
        .map(|(_, q)| q)
        .or_else(|| url.split_once('#').map(|(_, q)| q))?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .unwrap()
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

fn pkce() -> (String, String) {
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-more-entropy-here".to_owned();
    let challenge = URL_SAFE_NO_PAD.encode(sha256(verifier.as_bytes()));
    (verifier, challenge)
}

fn sha256(data: &[u8]) -> [u8; 32] {
    cognate_crypto::sha256(data)
}

pub fn authorize_url(client_id: &str, extra: &str) -> String {
    format!(
        "/oauth2/authorize?response_type=code&client_id={client_id}&redirect_uri={}&state=st-1&scope=openid+email{extra}",
        urlencode(CALLBACK)
    )
}

fn urlencode(s: &str) -> String {
    serde_urlencoded::to_string([("v", s)]).unwrap()[2..].to_owned()
}

/// Signs in through the pages: authorize → sign-in page → form post; returns the redirect.
pub async fn sign_in_through_pages(b: &mut Browser, authorize: &str, username: &str, password: &str) -> Page {
    let first = b.get(authorize).await;
    assert_eq!(first.status, 302, "{}", first.body);
    let login_path = first.location.clone().unwrap();
    assert!(login_path.starts_with("/login?"), "{login_path}");
    let login = b.get(&login_path).await;
    assert_eq!(login.status, 200, "{}", login.body);
    let csrf = hidden(&login.body, "_csrf");
    let action = login_action(&login.body);
    b.post(
        &action,
        &[
            ("_csrf", &csrf),
            ("username", username),
            ("password", password),
            ("signInSubmitButton", "Sign in"),
        ],
    )
    .await
}

pub async fn token(c: &Cognate, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> (u16, Value) {
    let mut req = c
        .http
        .post(format!("{}/oauth2/token", c.endpoint))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap());
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
}

#[tokio::test]
async fn the_code_flow_works_with_plain_forms_pkce_nonce_and_the_session_cookie() {
    let c = Cognate::start().await;
    let p = oauth_pool(&c, "code-flow").await;
    let (verifier, challenge) = pkce();
    let authorize = authorize_url(
        &p.client_id,
        &format!("&code_challenge={challenge}&code_challenge_method=S256&nonce=n-0S6_WzA2Mj"),
    );
    let mut b = Browser::new(&c);

    // The sign-in page: Cognito's classic input names, visible labels, no framing.
    let first = b.get(&authorize).await;
    let login = b.get(first.location.as_deref().unwrap()).await;
    for needle in [
        r#"name="username""#,
        r#"name="password""#,
        r#"name="signInSubmitButton""#,
        r#"name="_csrf""#,
        "<label",
        "/signup?",
        "/forgotPassword?",
    ] {
        assert!(login.body.contains(needle), "sign-in page lacks {needle}");
    }
    assert_eq!(login.headers["x-frame-options"], "DENY");
    let set_cookie: Vec<_> = login
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert!(
        set_cookie
            .iter()
            .all(|c| c.contains("HttpOnly") && c.contains("SameSite=Lax")),
        "{set_cookie:?}"
    );

    // A wrong password: the form again, with the reason, never a 5xx; no code.
    let wrong = sign_in_through_pages(&mut b, &authorize, "amy", "Wrong-passw0rd!").await;
    assert_eq!(wrong.status, 400);
    assert!(wrong.body.contains("Incorrect username or password."), "{}", wrong.body);
    assert!(wrong.location.is_none());

    // A form without the CSRF token is refused.
    let action = login_action(&login.body);
    let forged = b.post(&action, &[("username", "amy"), ("password", PASSWORD)]).await;
    assert_eq!(forged.status, 400);
    assert!(forged.location.is_none());

    let done = sign_in_through_pages(&mut b, &authorize, "amy", PASSWORD).await;
    assert_eq!(done.status, 302, "{}", done.body);
    let location = done.location.unwrap();
    assert!(location.starts_with(&format!("{CALLBACK}?code=")), "{location}");
    assert_eq!(query_param(&location, "state").as_deref(), Some("st-1"));
    let code = query_param(&location, "code").unwrap();
    assert!(is_uuid(&code));

    // A wrong PKCE verifier: invalid_grant, and the code is spent.
    let (status, err) = token(
        &c,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &p.client_id),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", "not-the-verifier-not-the-verifier-not-the-verifier"),
        ],
        None,
    )
    .await;
    assert_eq!((status, err["error"].as_str()), (400, Some("invalid_grant")));

    // Signed in: a second authorize goes straight back with a new code, no form.
    let again = b.get(&authorize).await;
    assert_eq!(again.status, 302);
    let location = again.location.unwrap();
    assert!(location.starts_with(CALLBACK), "{location}");
    let code = query_param(&location, "code").unwrap();

    let exchange = |code: &str, redirect: &str| {
        vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("client_id".to_owned(), p.client_id.clone()),
            ("code".to_owned(), code.to_owned()),
            ("redirect_uri".to_owned(), redirect.to_owned()),
            ("code_verifier".to_owned(), verifier.clone()),
        ]
    };
    fn as_refs(f: &[(String, String)]) -> Vec<(&str, &str)> {
        f.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }
    let (status, tokens) = token(&c, &as_refs(&exchange(&code, CALLBACK)), None).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    let id = c
        .verify_jwt(&p.pool.pool_id, tokens["id_token"].as_str().unwrap())
        .await;
    assert_eq!(id.claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(id.claims["aud"], p.client_id.as_str());
    assert_eq!(id.claims["cognito:username"], "amy");
    assert_eq!(id.claims["email"], "amy@example.com");
    let access_token = tokens["access_token"].as_str().unwrap();
    let expected_at_hash = URL_SAFE_NO_PAD.encode(&sha256(access_token.as_bytes())[..16]);
    assert_eq!(id.claims["at_hash"], expected_at_hash.as_str());
    let access = c.verify_jwt(&p.pool.pool_id, access_token).await;
    assert_eq!(access.claims["scope"], "openid email");
    assert_eq!(access.claims["version"], 2);
    assert_eq!(access.claims["auth_time"], id.claims["auth_time"]);
    assert!(access.claims.get("aud").is_none());
    assert!(tokens["refresh_token"].is_string());

    // The code is single-use.
    let (status, err) = token(&c, &as_refs(&exchange(&code, CALLBACK)), None).await;
    assert_eq!((status, err["error"].as_str()), (400, Some("invalid_grant")));

    // Another code with a different redirect_uri at the token endpoint.
    let third = b.get(&authorize).await;
    let code = query_param(third.location.as_deref().unwrap(), "code").unwrap();
    let (status, err) = token(&c, &as_refs(&exchange(&code, "http://localhost:3000/other")), None).await;
    assert_eq!((status, err["error"].as_str()), (400, Some("unauthorized_client")));

    // Without aws.cognito.signin.user.admin the access token is refused by GetUser.
    let get_user = c.idp.get_user().access_token(access_token).send().await;
    expect_err_msg(
        get_user,
        "NotAuthorizedException",
        "Access Token does not have required scopes",
    );
}

#[tokio::test]
async fn authorize_refuses_what_cognito_refuses_without_an_open_redirect() {
    let c = Cognate::start().await;
    let p = oauth_pool(&c, "refusals").await;
    let mut b = Browser::new(&c);
    let cb = urlencode(CALLBACK);
    let id = &p.client_id;

    // An unregistered redirect_uri: Cognito's error page, never the given URI.
    let r = b
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id={id}&redirect_uri=https%3A%2F%2Fevil.example%2Fcb"
        ))
        .await;
    assert_eq!(r.status, 302);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("/error?error=redirect_mismatch&client_id={id}").as_str())
    );
    let page = b.get(r.location.as_deref().unwrap()).await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains("An error was encountered with the requested page."));
    // A trailing slash is another URI.
    let r = b
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id={id}&redirect_uri={cb}%2F"
        ))
        .await;
    assert!(r.location.unwrap().starts_with("/error?error=redirect_mismatch"));

    // Known client and URI: errors go back to the app.
    let cases = [
        (
            "&code_challenge=abc&code_challenge_method=plain",
            "invalid_request",
            None,
        ),
        ("&code_challenge=abc", "invalid_request", None),
        ("&scope=openid+phone", "invalid_request", Some("invalid_scope")),
        ("&scope=email", "invalid_request", Some("invalid_scope")),
    ];
    for (extra, error, description) in cases {
        let r = b
            .get(&format!(
                "/oauth2/authorize?response_type=code&client_id={id}&redirect_uri={cb}&state=s9{extra}"
            ))
            .await;
        let location = r.location.unwrap_or_else(|| panic!("{extra}: {}", r.body));
        assert!(location.starts_with(CALLBACK), "{extra}: {location}");
        assert_eq!(query_param(&location, "error").as_deref(), Some(error), "{extra}");
        assert_eq!(
            query_param(&location, "error_description").as_deref(),
            description,
            "{extra}"
        );
        assert_eq!(query_param(&location, "state").as_deref(), Some("s9"), "{extra}");
        assert!(query_param(&location, "code").is_none());
    }
    let r = b
        .get(&format!("/oauth2/authorize?client_id={id}&redirect_uri={cb}"))
        .await;
    assert_eq!(
        query_param(&r.location.unwrap(), "error").as_deref(),
        Some("invalid_request")
    );

    // A pool without a domain has no endpoints.
    let plain = c.create_pool("no-domain").await;
    let r = b
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id={}&redirect_uri={cb}",
            plain.client_id
        ))
        .await;
    assert!(r.location.unwrap().starts_with("/error?"));
    // prompt=none without a session: login_required on the redirect.
    let r = b
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id={id}&redirect_uri={cb}&prompt=none"
        ))
        .await;
    assert_eq!(
        query_param(&r.location.unwrap(), "error").as_deref(),
        Some("login_required")
    );
}

#[tokio::test]
async fn implicit_flow_puts_tokens_in_the_fragment_without_a_refresh_token() {
    let c = Cognate::start().await;
    let p = oauth_pool(&c, "implicit").await;
    let mut b = Browser::new(&c);
    let authorize = format!(
        "/oauth2/authorize?response_type=token&client_id={}&redirect_uri={}&state=xyz&scope=openid+profile&nonce=abc",
        p.client_id,
        urlencode(CALLBACK)
    );
    let done = sign_in_through_pages(&mut b, &authorize, "amy", PASSWORD).await;
    let location = done.location.expect("redirect");
    assert!(location.starts_with(&format!("{CALLBACK}#")), "{location}");
    assert_eq!(query_param(&location, "token_type").as_deref(), Some("Bearer"));
    assert_eq!(query_param(&location, "expires_in").as_deref(), Some("3600"));
    assert_eq!(query_param(&location, "state").as_deref(), Some("xyz"));
    assert!(query_param(&location, "refresh_token").is_none());
    let id = c
        .verify_jwt(&p.pool.pool_id, &query_param(&location, "id_token").unwrap())
        .await;
    assert_eq!(id.claims["nonce"], "abc");
    let access = c
        .verify_jwt(&p.pool.pool_id, &query_param(&location, "access_token").unwrap())
        .await;
    assert_eq!(access.claims["scope"], "openid profile");
}

#[tokio::test]
async fn refresh_user_info_revoke_and_logout() {
    let c = Cognate::start().await;
    let p = oauth_pool(&c, "after-sign-in").await;
    let mut b = Browser::new(&c);
    let authorize = authorize_url(&p.client_id, "+aws.cognito.signin.user.admin");
    let done = sign_in_through_pages(&mut b, &authorize, "amy", PASSWORD).await;
    let code = query_param(done.location.as_deref().unwrap(), "code").unwrap();
    let (_, tokens) = token(
        &c,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &p.client_id),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ],
        None,
    )
    .await;
    let access = tokens["access_token"].as_str().unwrap().to_owned();
    let refresh = tokens["refresh_token"].as_str().unwrap().to_owned();

    // With aws.cognito.signin.user.admin the token works on GetUser.
    let user = c.idp.get_user().access_token(&access).send().await.expect("GetUser");
    assert_eq!(user.username(), "amy");

    // userInfo: strings, even for email_verified, and the username.
    let info: Value = c
        .http
        .get(format!("{}/oauth2/userInfo", c.endpoint))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["email_verified"], "true");
    assert_eq!(info["email"], "amy@example.com");
    assert_eq!(info["username"], "amy");
    assert!(info["sub"].is_string());
    assert!(
        info.get("custom:tier").is_none(),
        "email scope releases email only: {info}"
    );
    let bad = c
        .http
        .get(format!("{}/oauth2/userInfo", c.endpoint))
        .bearer_auth("not-a-token")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    assert!(
        bad.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );

    // The refresh grant keeps the scopes and returns no refresh token (no rotation).
    let (status, refreshed) = token(
        &c,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &p.client_id),
            ("refresh_token", &refresh),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{refreshed}");
    assert!(refreshed.get("refresh_token").is_none());
    let again = c
        .verify_jwt(&p.pool.pool_id, refreshed["access_token"].as_str().unwrap())
        .await;
    assert_eq!(again.claims["scope"], "openid email aws.cognito.signin.user.admin");

    // Revocation: an access token is not revocable; the refresh token is, once and for all.
    let revoke = |t: String| {
        let c = &c;
        let id = p.client_id.clone();
        async move {
            let resp = c
                .http
                .post(format!("{}/oauth2/revoke", c.endpoint))
                .form(&[("token", t.as_str()), ("client_id", id.as_str())])
                .send()
                .await
                .unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    };
    let (status, body) = revoke(access.clone()).await;
    assert_eq!(status, 400);
    assert!(body.contains("unsupported_token_type"), "{body}");
    assert_eq!(revoke(refresh.clone()).await.0, 200);
    assert_eq!(revoke("unknown-token-value".into()).await.0, 200);
    let (status, err) = token(
        &c,
        &[
            ("grant_type", "refresh_token"),
            ("client_id", &p.client_id),
            ("refresh_token", &refresh),
        ],
        None,
    )
    .await;
    assert_eq!((status, err["error"].as_str()), (400, Some("invalid_grant")));

    // Logout to a registered logout_uri ends the browser's session: the form again next time.
    let out = b
        .get(&format!(
            "/logout?client_id={}&logout_uri={}",
            p.client_id,
            urlencode(LOGOUT)
        ))
        .await;
    assert_eq!(out.status, 302);
    assert_eq!(out.location.as_deref(), Some(LOGOUT));
    let next = b.get(&authorize).await;
    assert!(next.location.unwrap().starts_with("/login?"));
    // An unregistered logout_uri: Cognito's error, no redirect there.
    let bad = b
        .get(&format!(
            "/logout?client_id={}&logout_uri=https%3A%2F%2Fevil.example%2F",
            p.client_id
        ))
        .await;
    assert!(bad.location.unwrap().starts_with("/error?"));
}

#[tokio::test]
async fn client_credentials_gives_a_machine_token_with_resource_server_scopes() {
    let c = Cognate::start().await;
    let p = oauth_pool(&c, "machines").await;
    let (id, secret) = machine_client(&c, &p.pool.pool_id).await;
    let (id, secret) = (id.as_str(), secret.as_str());
    let (status, tokens) = token(&c, &[("grant_type", "client_credentials")], Some((id, secret))).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(tokens.get("id_token").is_none() && tokens.get("refresh_token").is_none());
    let access = c
        .verify_jwt(&p.pool.pool_id, tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(access.claims["sub"], id);
    assert_eq!(access.claims["client_id"], id);
    assert_eq!(access.claims["token_use"], "access");
    assert_eq!(
        access.claims["scope"],
        "https://api.example.com/read https://api.example.com/write"
    );
    assert!(access.claims.get("username").is_none() && access.claims.get("aud").is_none());

    // client_secret_post, one scope.
    let (status, tokens) = token(
        &c,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
            ("scope", "https://api.example.com/read"),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200);
    let access = c
        .verify_jwt(&p.pool.pool_id, tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(access.claims["scope"], "https://api.example.com/read");

    // Machine tokens are not user tokens.
    let get_user = c
        .idp
        .get_user()
        .access_token(tokens["access_token"].as_str().unwrap())
        .send()
        .await;
    expect_err(get_user, "NotAuthorizedException");

    let refused = [
        (
            vec![("grant_type", "client_credentials"), ("scope", "openid")],
            Some((id, secret)),
            "invalid_scope",
        ),
        (
            vec![("grant_type", "client_credentials")],
            Some((id, "wrong-secret")),
            "invalid_client",
        ),
        (
            vec![("grant_type", "client_credentials"), ("client_id", id)],
            None,
            "invalid_client",
        ),
        (
            vec![("grant_type", "client_credentials"), ("client_id", "nobody")],
            None,
            "invalid_client",
        ),
        (
            vec![("grant_type", "password")],
            Some((id, secret)),
            "unsupported_grant_type",
        ),
        (
            vec![("grant_type", "authorization_code"), ("code", "x")],
            Some((id, secret)),
            "unauthorized_client",
        ),
    ];
    for (form, basic, error) in refused {
        let (status, err) = token(&c, &form, basic).await;
        assert_eq!((status, err["error"].as_str()), (400, Some(error)), "{form:?}");
    }
    // The public client may not use client credentials.
    let (_, err) = token(
        &c,
        &[("grant_type", "client_credentials"), ("client_id", &p.client_id)],
        None,
    )
    .await;
    assert_eq!(err["error"], "unauthorized_client");
    // Changes count at once (the client is served from memory between them): a scope its
    // resource server no longer defines is dropped, a deleted client gets nothing.
    c.idp
        .update_resource_server()
        .user_pool_id(&p.pool.pool_id)
        .identifier("https://api.example.com")
        .name("api")
        .scopes(
            ResourceServerScopeType::builder()
                .scope_name("read")
                .scope_description("read")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("UpdateResourceServer");
    let (_, tokens) = token(&c, &[("grant_type", "client_credentials")], Some((id, secret))).await;
    let access = c
        .verify_jwt(&p.pool.pool_id, tokens["access_token"].as_str().unwrap())
        .await;
    assert_eq!(access.claims["scope"], "https://api.example.com/read");
    c.idp
        .delete_user_pool_client()
        .user_pool_id(&p.pool.pool_id)
        .client_id(id)
        .send()
        .await
        .expect("DeleteUserPoolClient");
    let (status, err) = token(&c, &[("grant_type", "client_credentials")], Some((id, secret))).await;
    assert_eq!((status, err["error"].as_str()), (400, Some("invalid_client")));
    // A JSON body is not a token request.
    let resp = c
        .http
        .post(format!("{}/oauth2/token", c.endpoint))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    assert_eq!(resp.json::<Value>().await.unwrap()["error"], "invalid_request");
}

#[tokio::test]
async fn a_domain_host_serves_only_its_own_pool() {
    let c = Cognate::start().await;
    let p = oauth_pool(&c, "first-app").await;
    let other = oauth_pool(&c, "second-app").await;
    let mut b = Browser::new(&c);
    b.host = Some(format!("first-app.auth.us-east-1.localhost:{}", c.port()));
    let mine = b.get(&authorize_url(&p.client_id, "")).await;
    assert!(mine.location.unwrap().starts_with("/login?"));
    let theirs = b.get(&authorize_url(&other.client_id, "")).await;
    assert!(theirs.location.unwrap().starts_with("/error?"));
    // Cognito's own name for the domain, as a proxy forwards it, is served without
    // --allowed-host (the server listens on loopback, where other names are refused).
    b.host = Some("first-app.auth.us-east-1.amazoncognito.com".into());
    let mine = b.get(&authorize_url(&p.client_id, "")).await;
    assert!(mine.location.unwrap().starts_with("/login?"));
    let theirs = b.get(&authorize_url(&other.client_id, "")).await;
    assert!(theirs.location.unwrap().starts_with("/error?"));
    b.host = Some("auth.unknown-name.example".into());
    assert_eq!(b.get(&authorize_url(&p.client_id, "")).await.status, 403);
    // A custom domain is served under its name once a pool has it.
    c.idp
        .create_user_pool_domain()
        .user_pool_id(&other.pool.pool_id)
        .domain("login.second-app.example")
        .custom_domain_config(
            cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::CustomDomainConfigType::builder()
                .certificate_arn("arn:aws:acm:us-east-1:123456789012:certificate/abc")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("CreateUserPoolDomain (custom)");
    b.host = Some("login.second-app.example".into());
    let theirs = b.get(&authorize_url(&other.client_id, "")).await;
    assert!(theirs.location.unwrap().starts_with("/login?"));
    let mine = b.get(&authorize_url(&p.client_id, "")).await;
    assert!(mine.location.unwrap().starts_with("/error?"));

    // Discovery advertises the domain's endpoints, all routable here.
    let doc = c.openid_configuration(&p.pool.pool_id).await;
    for key in [
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "revocation_endpoint",
        "end_session_endpoint",
    ] {
        let url = doc[key].as_str().unwrap_or_else(|| panic!("{key} in {doc}"));
        assert!(url.starts_with(&c.endpoint), "{key}: {url}");
    }
    let plain = c.create_pool("no-domain").await;
    let doc = c.openid_configuration(&plain.pool_id).await;
    assert!(doc.get("authorization_endpoint").is_none());
}

#[tokio::test]
async fn the_pages_wear_the_ui_customization_of_the_client_or_pool() {
    use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::primitives::Blob;
    let c = Cognate::start().await;
    let p = oauth_pool(&c, "styled").await;
    c.idp
        .set_ui_customization()
        .user_pool_id(&p.pool.pool_id)
        .css(".banner-customizable { background-color: #7b1fa2; }")
        .image_file(Blob::new(crate::ui_customization::PNG))
        .send()
        .await
        .expect("SetUICustomization");
    let mut b = Browser::new(&c);
    let first = b.get(&authorize_url(&p.client_id, "")).await;
    let login = b.get(first.location.as_deref().unwrap()).await;
    assert!(login.body.contains("background-color: #7b1fa2;"), "{}", login.body);
    assert!(
        login
            .body
            .contains(r#"class="logo-customizable" src="data:image/png;base64,"#)
    );
}
