//! Federated sign-in through an OpenID Connect provider, with a second Cognate as the real
//! upstream provider (its own pool, domain and client with a secret whose callback is the
//! federating pool's `/oauth2/idpresponse`). The federating pool runs the recording trigger
//! handlers of the `triggers` fixture.
//!
//! In Chromium (`tests/node/federation.mjs`): the provider's button on the sign-in page, the
//! upstream's own sign-in page, back with a code; the first sign-in creates `Upstream_<sub>` with
//! mapped attributes, the triggers fire, the ID token carries `identities`; a second sign-in
//! updates the attributes. Without a browser (the test's own cookie-keeping client): the upstream
//! error redirect, a state used twice or from another browser, an unknown provider, a refused
//! code, and ID tokens refused for a wrong issuer or a signature by another key. Screenshots land
//! in `$CARGO_TARGET_DIR/screenshots/federation`; the test prints the folder.
use std::path::{Path, PathBuf};

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    IdentityProviderTypeType, OAuthFlowType, ProviderUserIdentifierType,
};
use cognate_sdk_tests::triggers::TriggerApp;
use cognate_sdk_tests::*;
use serde_json::Value;

use crate::oauth::{Browser, CALLBACK, hidden, login_action, query_param, token};
use crate::srp_clients::{repo_root, run};

const CHROMIUM: &str = "/usr/bin/chromium";

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| if p.is_absolute() { p } else { repo_root().join(p) })
        .unwrap_or_else(|| repo_root().join("target"));
    target.join("screenshots/federation")
}

/// The upstream OpenID Connect provider: a Cognate pool with a domain, a user `fed-alice` and a
/// client with a secret whose callback is `callback`.
struct Upstream {
    c: Cognate,
    pool: TestPool,
    issuer: String,
    client_id: String,
    client_secret: String,
    sub: String,
}

async fn upstream(callback: &str) -> Upstream {
    let c = Cognate::start().await;
    let pool = c.create_pool("upstream").await;
    c.idp
        .create_user_pool_domain()
        .user_pool_id(&pool.pool_id)
        .domain("upstream-idp")
        .send()
        .await
        .expect("domain");
    let client = c
        .idp
        .create_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_name("federation")
        .generate_secret(true)
        .allowed_o_auth_flows_user_pool_client(true)
        .allowed_o_auth_flows(OAuthFlowType::Code)
        .allowed_o_auth_scopes("openid")
        .allowed_o_auth_scopes("email")
        .allowed_o_auth_scopes("profile")
        .callback_urls(callback)
        .supported_identity_providers("COGNITO")
        .send()
        .await
        .expect("upstream client");
    let client = client.user_pool_client().unwrap();
    let sub = c.admin_user(&pool, "fed-alice", "alice@example.com").await;
    set_given_name(&c, &pool, "Alice").await;
    let issuer = c.openid_configuration(&pool.pool_id).await["issuer"]
        .as_str()
        .unwrap()
        .to_owned();
    Upstream {
        issuer,
        client_id: client.client_id().unwrap().to_owned(),
        client_secret: client.client_secret().unwrap().to_owned(),
        sub,
        c,
        pool,
    }
}

async fn set_given_name(c: &Cognate, pool: &TestPool, name: &str) {
    c.idp
        .admin_update_user_attributes()
        .user_pool_id(&pool.pool_id)
        .username("fed-alice")
        .user_attributes(attr("given_name", name))
        .send()
        .await
        .expect("given_name");
}

/// The federating pool's OIDC provider `name` for the upstream, and a client offering it.
async fn federate(c: &Cognate, pool_id: &str, up: &Upstream, name: &str, extra: &[(&str, &str)]) -> String {
    federate_to(c, pool_id, up, name, extra, CALLBACK).await
}

async fn federate_to(
    c: &Cognate,
    pool_id: &str,
    up: &Upstream,
    name: &str,
    extra: &[(&str, &str)],
    callback: &str,
) -> String {
    let mut details: std::collections::HashMap<String, String> = [
        ("client_id", up.client_id.as_str()),
        ("client_secret", up.client_secret.as_str()),
        ("attributes_request_method", "GET"),
        ("oidc_issuer", up.issuer.as_str()),
        ("authorize_scopes", "openid email profile"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        details.insert(k.to_string(), v.to_string());
    }
    c.idp
        .create_identity_provider()
        .user_pool_id(pool_id)
        .provider_name(name)
        .provider_type(IdentityProviderTypeType::Oidc)
        .set_provider_details(Some(details))
        .attribute_mapping("email", "email")
        .attribute_mapping("email_verified", "email_verified")
        .attribute_mapping("given_name", "given_name")
        .send()
        .await
        .expect("CreateIdentityProvider");
    let client = c
        .idp
        .create_user_pool_client()
        .user_pool_id(pool_id)
        .client_name(format!("web-{name}"))
        .allowed_o_auth_flows_user_pool_client(true)
        .allowed_o_auth_flows(OAuthFlowType::Code)
        .allowed_o_auth_scopes("openid")
        .allowed_o_auth_scopes("email")
        .allowed_o_auth_scopes("profile")
        .callback_urls(callback)
        .supported_identity_providers("COGNITO")
        .supported_identity_providers(name)
        .send()
        .await
        .expect("federating client");
    client.user_pool_client().unwrap().client_id().unwrap().to_owned()
}

async fn give_domain(c: &Cognate, pool_id: &str, domain: &str) {
    c.idp
        .create_user_pool_domain()
        .user_pool_id(pool_id)
        .domain(domain)
        .send()
        .await
        .expect("domain");
}

fn authorize(endpoint: &str, client_id: &str, extra: &str) -> String {
    authorize_to(endpoint, client_id, extra, CALLBACK)
}

fn authorize_to(endpoint: &str, client_id: &str, extra: &str, callback: &str) -> String {
    format!(
        "{endpoint}/oauth2/authorize?response_type=code&client_id={client_id}&redirect_uri={}&state=st-1&scope=openid+email+profile&nonce=app-nonce{extra}",
        serde_urlencoded::to_string([("v", callback)]).unwrap()[2..].to_owned()
    )
}

/// A port nobody listens on now (the script's callback server takes it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

async fn exchange(c: &Cognate, client_id: &str, code: &str) -> Value {
    exchange_at(c, client_id, code, CALLBACK).await
}

async fn exchange_at(c: &Cognate, client_id: &str, code: &str, callback: &str) -> Value {
    let (status, tokens) = token(
        c,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("code", code),
            ("redirect_uri", callback),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

async fn browser_sign_in(authorize_url: &str, callback: &str, prefix: &str) -> String {
    let dir = repo_root().join("tests/node");
    let shots = screenshot_dir().to_string_lossy().into_owned();
    let out = run(
        Path::new("node"),
        &[
            "federation.mjs",
            authorize_url,
            callback,
            "fed-alice",
            PASSWORD,
            &shots,
            prefix,
        ],
        &dir,
    )
    .await;
    println!("screenshots: {shots}");
    let line = out.lines().last().unwrap_or_default();
    let r: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {out}"));
    assert_eq!(r["ok"], true, "{r:#}");
    r["callback"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_browser_federates_with_an_upstream_cognate_and_signs_in_as_a_federated_user() {
    if !Path::new(CHROMIUM).exists() {
        println!("SKIPPED: {CHROMIUM} is missing (install it with `apt-get install chromium`; scripts/test does)");
        return;
    }
    assert!(
        repo_root().join("tests/node/node_modules/playwright-core").is_dir(),
        "tests/node/node_modules/playwright-core is missing: run `npm ci --prefix tests/node`"
    );
    let t = TriggerApp::start("triggers").await;
    let up = upstream(&format!("{}/oauth2/idpresponse", t.c.endpoint)).await;
    give_domain(&t.c, &t.pool.pool_id, "federating").await;
    let app = format!("http://localhost:{}/callback", free_port());
    let client_id = federate_to(&t.c, &t.pool.pool_id, &up, "Upstream", &[], &app).await;
    t.clear();

    // First sign-in: the provider's button on the sign-in page.
    let callback = browser_sign_in(&authorize_to(&t.c.endpoint, &client_id, "", &app), &app, "first").await;
    assert_eq!(query_param(&callback, "state").as_deref(), Some("st-1"), "{callback}");
    let code = query_param(&callback, "code").unwrap_or_else(|| panic!("no code: {callback}"));
    assert_eq!(
        t.sources(),
        [
            "PreSignUp_ExternalProvider",
            "PostConfirmation_ConfirmSignUp",
            "PreAuthentication_Authentication",
            "PostAuthentication_Authentication"
        ]
    );
    let username = format!("Upstream_{}", up.sub);
    let pre = t.event("PreSignUp_ExternalProvider");
    assert_eq!(pre["userName"], username.as_str());
    assert_eq!(pre["callerContext"]["clientId"], client_id.as_str());
    assert_eq!(pre["request"]["userAttributes"]["email"], "alice@example.com");
    assert_eq!(pre["request"]["userAttributes"]["given_name"], "Alice");

    let tokens = exchange_at(&t.c, &client_id, &code, &app).await;
    let id =
        t.c.verify_jwt(&t.pool.pool_id, tokens["id_token"].as_str().unwrap())
            .await
            .claims;
    assert_eq!(id["cognito:username"], username.as_str());
    assert_eq!(id["nonce"], "app-nonce");
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["email_verified"], true);
    assert_eq!(id["given_name"], "Alice");
    let identity = &id["identities"][0];
    assert_eq!(identity["userId"], up.sub.as_str());
    assert_eq!(identity["providerName"], "Upstream");
    assert_eq!(identity["providerType"], "OIDC");
    assert_eq!(identity["primary"], "true");
    assert!(identity["issuer"].is_null());
    assert!(
        identity["dateCreated"]
            .as_str()
            .is_some_and(|d| d.parse::<i64>().is_ok())
    );
    assert_eq!(t.event("TokenGeneration_HostedAuth")["userName"], username.as_str());

    let user =
        t.c.idp
            .admin_get_user()
            .user_pool_id(&t.pool.pool_id)
            .username(&username)
            .send()
            .await
            .expect("the federated user");
    assert_eq!(user.user_status().map(|s| s.as_str()), Some("EXTERNAL_PROVIDER"));
    let identities = attr_value(user.user_attributes(), "identities").expect("identities");
    let parsed: Value = serde_json::from_str(&identities).unwrap();
    assert_eq!(parsed[0]["providerName"], "Upstream");

    // Second sign-in, straight to the provider, after the upstream changed the given name.
    set_given_name(&up.c, &up.pool, "Alicia").await;
    t.clear();
    let second = authorize_to(&t.c.endpoint, &client_id, "&identity_provider=Upstream", &app);
    let callback = browser_sign_in(&second, &app, "second").await;
    assert!(query_param(&callback, "code").is_some(), "{callback}");
    assert_eq!(
        t.sources(),
        ["PreAuthentication_Authentication", "PostAuthentication_Authentication"],
        "no sign-up the second time"
    );
    let attrs = t.c.admin_attrs(&t.pool, &username).await;
    assert_eq!(lookup(&attrs, "given_name").as_deref(), Some("Alicia"));
    for name in [
        "first-sign-in-with-buttons",
        "first-provider-sign-in",
        "second-provider-sign-in",
    ] {
        let png = screenshot_dir().join(format!("{name}.png"));
        let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display()));
        assert!(bytes.starts_with(b"\x89PNG"));
    }
}

/// Starts a federated sign-in in `b`; returns the upstream authorize URL it was sent to.
async fn to_upstream(b: &mut Browser, endpoint: &str, client_id: &str, provider: &str) -> String {
    let start = b
        .get(&authorize(
            endpoint,
            client_id,
            &format!("&identity_provider={provider}"),
        ))
        .await;
    assert_eq!(start.status, 302, "{}", start.body);
    start.location.unwrap()
}

/// Signs in at the upstream's pages from its authorize URL; returns our idpresponse URL.
async fn upstream_sign_in(b: &mut Browser, upstream_authorize: &str) -> String {
    let first = b.get(upstream_authorize).await;
    assert_eq!(first.status, 302, "{}", first.body);
    let base = upstream_authorize.split("/oauth2/").next().unwrap().to_owned();
    let login = b.get(&format!("{base}{}", first.location.unwrap())).await;
    let csrf = hidden(&login.body, "_csrf");
    let action = login_action(&login.body);
    let done = b
        .post(
            &format!("{base}{action}"),
            &[("_csrf", &csrf), ("username", "fed-alice"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(done.status, 302, "{}", done.body);
    done.location.unwrap()
}

async fn users_of(c: &Cognate, pool_id: &str) -> usize {
    c.idp
        .list_users()
        .user_pool_id(pool_id)
        .send()
        .await
        .expect("ListUsers")
        .users()
        .len()
}

#[tokio::test]
async fn failed_federated_sign_ins_are_refused_and_create_no_user() {
    let c = Cognate::start().await;
    let pool = c.create_pool("federating").await;
    give_domain(&c, &pool.pool_id, "federating-errors").await;
    let up = upstream(&format!("{}/oauth2/idpresponse", c.endpoint)).await;
    let client_id = federate(&c, &pool.pool_id, &up, "Upstream", &[]).await;

    // The provider's authorize request carries our own state, nonce and PKCE challenge.
    let mut b = Browser::new(&c);
    let upstream_authorize = to_upstream(&mut b, &c.endpoint, &client_id, "Upstream").await;
    assert!(upstream_authorize.starts_with(&format!("{}/oauth2/authorize?", up.c.endpoint)));
    for p in ["state", "nonce", "code_challenge"] {
        assert!(
            query_param(&upstream_authorize, p).is_some(),
            "{p}: {upstream_authorize}"
        );
    }
    assert_eq!(
        query_param(&upstream_authorize, "client_id").as_deref(),
        Some(up.client_id.as_str())
    );
    assert_eq!(
        query_param(&upstream_authorize, "redirect_uri"),
        Some(format!("{}/oauth2/idpresponse", c.endpoint))
    );
    let state = query_param(&upstream_authorize, "state").unwrap();

    // An error from the provider goes back to the app.
    let denied = b
        .get(&format!(
            "/oauth2/idpresponse?error=access_denied&error_description=User+cancelled&state={state}"
        ))
        .await;
    let location = denied.location.expect("redirect to the app");
    assert!(location.starts_with(CALLBACK), "{location}");
    assert_eq!(query_param(&location, "error").as_deref(), Some("invalid_request"));
    assert_eq!(
        query_param(&location, "error_description").as_deref(),
        Some("User cancelled")
    );
    assert_eq!(query_param(&location, "state").as_deref(), Some("st-1"));
    // The state was used: Cognito's error page.
    let again = b.get(&format!("/oauth2/idpresponse?code=x&state={state}")).await;
    assert_eq!(again.status, 302);
    assert!(again.location.unwrap().starts_with("/error?error=invalid_request"));

    // A state begun in another browser is refused.
    let upstream_authorize = to_upstream(&mut b, &c.endpoint, &client_id, "Upstream").await;
    let state = query_param(&upstream_authorize, "state").unwrap();
    let mut other = Browser::new(&c);
    let stolen = other.get(&format!("/oauth2/idpresponse?code=x&state={state}")).await;
    assert!(stolen.location.unwrap().starts_with("/error?"));

    // A code the provider refuses.
    let upstream_authorize = to_upstream(&mut b, &c.endpoint, &client_id, "Upstream").await;
    let state = query_param(&upstream_authorize, "state").unwrap();
    let refused = b.get(&format!("/oauth2/idpresponse?code=bogus&state={state}")).await;
    let location = refused.location.unwrap();
    assert_eq!(
        query_param(&location, "error_description").as_deref(),
        Some("Upstream Error - 400 error getting token"),
        "{location}"
    );

    // An unknown provider.
    let unknown = b
        .get(&authorize(&c.endpoint, &client_id, "&identity_provider=Nobody"))
        .await;
    let location = unknown.location.unwrap();
    assert!(location.starts_with(CALLBACK), "{location}");
    assert_eq!(query_param(&location, "error").as_deref(), Some("invalid_request"));

    // ID tokens that do not verify: another issuer, and a signature by another pool's key.
    let other_pool = up.c.create_pool("other-keys").await;
    let base = &up.c.endpoint;
    for (name, issuer, jwks) in [
        (
            "WrongIssuer",
            "https://issuer.invalid".to_owned(),
            format!("{}/.well-known/jwks.json", up.issuer),
        ),
        (
            "WrongKeys",
            up.issuer.clone(),
            format!("{base}/{}/.well-known/jwks.json", other_pool.pool_id),
        ),
    ] {
        let endpoints = [
            ("oidc_issuer", issuer.as_str()),
            ("authorize_url", &format!("{base}/oauth2/authorize")),
            ("token_url", &format!("{base}/oauth2/token")),
            ("attributes_url", &format!("{base}/oauth2/userInfo")),
            ("jwks_uri", jwks.as_str()),
        ]
        .map(|(k, v)| (k, v.to_owned()));
        let extra: Vec<(&str, &str)> = endpoints.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let client = federate(&c, &pool.pool_id, &up, name, &extra).await;
        let mut b = Browser::new(&c);
        let upstream_authorize = to_upstream(&mut b, &c.endpoint, &client, name).await;
        let back = upstream_sign_in(&mut b, &upstream_authorize).await;
        assert!(
            back.starts_with(&format!("{}/oauth2/idpresponse?", c.endpoint)),
            "{back}"
        );
        let end = b.get(&back).await;
        let location = end.location.unwrap();
        assert!(location.starts_with(CALLBACK), "{location}");
        let description = query_param(&location, "error_description").unwrap_or_default();
        assert!(
            description.starts_with(&format!("Invalid ID token received from {name}")),
            "{name}: {location}"
        );
    }
    assert_eq!(users_of(&c, &pool.pool_id).await, 0, "no user was created");

    // The same steps with a provider that verifies: a code for the app, and the user.
    let mut b = Browser::new(&c);
    let upstream_authorize = to_upstream(&mut b, &c.endpoint, &client_id, "Upstream").await;
    let back = upstream_sign_in(&mut b, &upstream_authorize).await;
    let end = b.get(&back).await;
    let location = end.location.unwrap();
    let code = query_param(&location, "code").unwrap_or_else(|| panic!("{location}"));
    let tokens = exchange(&c, &client_id, &code).await;
    let id = decode_jwt(tokens["id_token"].as_str().unwrap()).claims;
    assert_eq!(id["cognito:username"], format!("Upstream_{}", up.sub));
    assert_eq!(users_of(&c, &pool.pool_id).await, 1);
}

#[tokio::test]
async fn a_google_provider_with_overridden_endpoints_signs_in_against_an_upstream_cognate() {
    let c = Cognate::start().await;
    let pool = c.create_pool("social").await;
    give_domain(&c, &pool.pool_id, "social-login").await;
    let up = upstream(&format!("{}/oauth2/idpresponse", c.endpoint)).await;
    let base = &up.c.endpoint;
    let details: std::collections::HashMap<String, String> = [
        ("client_id", up.client_id.clone()),
        ("client_secret", up.client_secret.clone()),
        ("authorize_scopes", "email profile openid".to_owned()),
        ("authorize_url", format!("{base}/oauth2/authorize")),
        ("token_url", format!("{base}/oauth2/token")),
        ("oidc_issuer", up.issuer.clone()),
        ("jwks_uri", format!("{}/.well-known/jwks.json", up.issuer)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let created = c
        .idp
        .create_identity_provider()
        .user_pool_id(&pool.pool_id)
        .provider_name("Google")
        .provider_type(IdentityProviderTypeType::Google)
        .set_provider_details(Some(details))
        .attribute_mapping("email", "email")
        .attribute_mapping("given_name", "given_name")
        .send()
        .await
        .expect("Google");
    let d = created.identity_provider().unwrap().provider_details().unwrap();
    assert_eq!(d["token_url"], format!("{base}/oauth2/token"), "an override is kept");
    assert_eq!(d["token_request_method"], "POST", "the fixed members are added");
    let client = c
        .idp
        .create_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_name("web")
        .allowed_o_auth_flows_user_pool_client(true)
        .allowed_o_auth_flows(OAuthFlowType::Code)
        .allowed_o_auth_scopes("openid")
        .allowed_o_auth_scopes("email")
        .allowed_o_auth_scopes("profile")
        .callback_urls(CALLBACK)
        .supported_identity_providers("Google")
        .send()
        .await
        .expect("client");
    let client_id = client.user_pool_client().unwrap().client_id().unwrap().to_owned();

    // A client that offers only Google shows only its button.
    let mut b = Browser::new(&c);
    let login = b
        .get(&authorize(&c.endpoint, &client_id, "").replace("/oauth2/authorize", "/login"))
        .await;
    assert_eq!(login.status, 200, "{:?} {}", login.location, login.body);
    assert!(login.body.contains(r#"data-provider="Google""#), "{}", login.body);
    assert!(
        !login.body.contains(r#"name="password""#),
        "no password form without COGNITO"
    );
    let password = b
        .post(
            &authorize(&c.endpoint, &client_id, "").replace("/oauth2/authorize", "/login"),
            &[("_csrf", "x"), ("username", "fed-alice"), ("password", PASSWORD)],
        )
        .await;
    assert!(password.location.is_none(), "no password sign-in without COGNITO");
    assert!(!password.body.contains(r#"name="password""#));
    let cognito = b
        .get(&authorize(&c.endpoint, &client_id, "&identity_provider=COGNITO"))
        .await;
    assert_eq!(
        query_param(cognito.location.as_deref().unwrap(), "error").as_deref(),
        Some("unauthorized_client")
    );

    let upstream_authorize = to_upstream(&mut b, &c.endpoint, &client_id, "Google").await;
    assert!(upstream_authorize.starts_with(&format!("{base}/oauth2/authorize?")));
    assert_eq!(
        query_param(&upstream_authorize, "scope").as_deref(),
        Some("email profile openid")
    );
    let back = upstream_sign_in(&mut b, &upstream_authorize).await;
    let end = b.get(&back).await;
    let location = end.location.unwrap();
    let code = query_param(&location, "code").unwrap_or_else(|| panic!("{location}"));
    let tokens = exchange(&c, &client_id, &code).await;
    let id = decode_jwt(tokens["id_token"].as_str().unwrap()).claims;
    assert_eq!(id["cognito:username"], format!("Google_{}", up.sub));
    assert_eq!(id["email"], "alice@example.com");
    assert_eq!(id["given_name"], "Alice");
    assert_eq!(id["identities"][0]["providerType"], "Google");
    assert_eq!(id["identities"][0]["providerName"], "Google");
}

fn provider_user(provider: &str, attribute: Option<&str>, value: &str) -> ProviderUserIdentifierType {
    ProviderUserIdentifierType::builder()
        .provider_name(provider)
        .set_provider_attribute_name(attribute.map(str::to_owned))
        .provider_attribute_value(value)
        .build()
}

/// A whole federated sign-in in a plain browser; returns the app's tokens.
async fn federated_tokens(c: &Cognate, client_id: &str) -> Value {
    let mut b = Browser::new(c);
    let upstream_authorize = to_upstream(&mut b, &c.endpoint, client_id, "Upstream").await;
    let back = upstream_sign_in(&mut b, &upstream_authorize).await;
    let end = b.get(&back).await;
    let location = end.location.unwrap();
    let code = query_param(&location, "code").unwrap_or_else(|| panic!("{location}"));
    exchange(c, client_id, &code).await
}

#[tokio::test]
async fn a_linked_identity_signs_in_as_the_native_user_until_it_is_disabled() {
    let c = Cognate::start().await;
    let pool = c.create_pool("linking").await;
    give_domain(&c, &pool.pool_id, "linking-login").await;
    let up = upstream(&format!("{}/oauth2/idpresponse", c.endpoint)).await;
    let client_id = federate(&c, &pool.pool_id, &up, "Upstream", &[]).await;
    let bob_sub = c.admin_user(&pool, "bob", "bob@example.com").await;
    let link = |dest: ProviderUserIdentifierType, source: ProviderUserIdentifierType| {
        c.idp
            .admin_link_provider_for_user()
            .user_pool_id(&pool.pool_id)
            .destination_user(dest)
            .source_user(source)
            .send()
    };

    // Refusals.
    let nobody = link(
        provider_user("Cognito", None, "nobody"),
        provider_user("Upstream", Some("Cognito_Subject"), &up.sub),
    )
    .await;
    expect_err(nobody, "UserNotFoundException");
    let unknown = link(
        provider_user("Cognito", None, "bob"),
        provider_user("Nowhere", Some("Cognito_Subject"), &up.sub),
    )
    .await;
    expect_err(unknown, "ResourceNotFoundException");
    let native = link(
        provider_user("Cognito", None, "bob"),
        provider_user("Cognito", Some("Cognito_Subject"), "alice"),
    )
    .await;
    expect_err(native, "InvalidParameterException");

    link(
        provider_user("Cognito", None, "bob"),
        provider_user("Upstream", Some("Cognito_Subject"), &up.sub),
    )
    .await
    .expect("AdminLinkProviderForUser");
    let attrs = c.admin_attrs(&pool, "bob").await;
    let identities: Value = serde_json::from_str(&lookup(&attrs, "identities").expect("identities")).unwrap();
    assert_eq!(identities[0]["providerName"], "Upstream");
    assert_eq!(identities[0]["userId"], up.sub.as_str());

    // The upstream's user signs in as bob.
    let tokens = federated_tokens(&c, &client_id).await;
    let id = decode_jwt(tokens["id_token"].as_str().unwrap()).claims;
    assert_eq!(id["cognito:username"], "bob");
    assert_eq!(id["sub"], bob_sub.as_str());
    assert_eq!(id["identities"][0]["providerName"], "Upstream");
    assert_eq!(users_of(&c, &pool.pool_id).await, 1, "no federated user was created");

    // Unlinked, the next sign-in creates the federated user.
    c.idp
        .admin_disable_provider_for_user()
        .user_pool_id(&pool.pool_id)
        .user(provider_user("Upstream", Some("Cognito_Subject"), &up.sub))
        .send()
        .await
        .expect("AdminDisableProviderForUser");
    assert_eq!(lookup(&c.admin_attrs(&pool, "bob").await, "identities"), None);
    let tokens = federated_tokens(&c, &client_id).await;
    let id = decode_jwt(tokens["id_token"].as_str().unwrap()).claims;
    assert_eq!(id["cognito:username"], format!("Upstream_{}", up.sub));
    // Now that it signed in, it can no longer be linked.
    let merged = link(
        provider_user("Cognito", None, "bob"),
        provider_user("Upstream", Some("Cognito_Subject"), &up.sub),
    )
    .await;
    expect_err(merged, "InvalidParameterException");
    // Disabled, the federated user cannot sign in.
    c.idp
        .admin_disable_provider_for_user()
        .user_pool_id(&pool.pool_id)
        .user(provider_user("Upstream", Some("Cognito_Subject"), &up.sub))
        .send()
        .await
        .expect("disable the federated user");
    let mut b = Browser::new(&c);
    let upstream_authorize = to_upstream(&mut b, &c.endpoint, &client_id, "Upstream").await;
    let back = upstream_sign_in(&mut b, &upstream_authorize).await;
    let end = b.get(&back).await;
    let location = end.location.unwrap();
    assert_eq!(
        query_param(&location, "error").as_deref(),
        Some("invalid_request"),
        "{location}"
    );
    assert_eq!(
        query_param(&location, "error_description").as_deref(),
        Some("User is disabled.")
    );
}
