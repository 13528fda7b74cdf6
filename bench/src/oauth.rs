//! The user pool domain's OAuth 2.0 endpoints and hosted sign-in page (Cognate only): the
//! pool's domain, a resource server, a machine client and a web client; a browser session
//! signed in through `/login`; authorization codes minted with that session; and the machine's
//! RS256 signing bound, measured in this process with the crypto the server uses.
use crate::client::{Client, Response};
use crate::load::{Ctx, PASSWORD};
use anyhow::{Context, bail};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use hyper::Method;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const CALLBACK: &str = "http://localhost:3000/callback";
const RESOURCE_SERVER: &str = "https://api.bench.example";
/// The PKCE verifier of every code (43–128 characters of the unreserved set).
const VERIFIER: &str = "bench-pkce-verifier-0123456789-abcdefghijklmnopqrstuvwxyz";
const FORM: &str = "application/x-www-form-urlencoded";

/// What the OAuth workloads share.
pub struct OAuth {
    /// `Authorization: Basic …` of the machine client.
    pub machine_basic: String,
    /// The one resource-server scope client_credentials asks for.
    pub scope: String,
    pub web_client_id: String,
    /// `/oauth2/authorize?…` of the web client, with a PKCE S256 challenge.
    pub authorize_path: String,
    /// `/login?…`, where `/oauth2/authorize` sends a browser without a session.
    pub login_path: String,
    /// `Cookie:` of the browser signed in through `/login`.
    pub session_cookie: String,
    /// Codes minted before the timed part, not yet redeemed.
    pub codes: Mutex<Vec<String>>,
    /// Codes the timed part had to mint itself (the stock ran out).
    pub minted_in_loop: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", pct(k), pct(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The value of the query parameter `name` in a URL (percent-decoded).
fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of the hidden input `name` in a page.
fn hidden(body: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let start = body.find(&marker)? + marker.len();
    body[start..].split('"').next().map(str::to_owned)
}

/// The action of the page's first form.
fn form_action(body: &str) -> Option<String> {
    let start = body.find(r#"action=""#)? + 8;
    body[start..].split('"').next().map(|a| a.replace("&amp;", "&"))
}

fn cookie_header(cookies: &[(String, String)]) -> String {
    cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

fn merge_cookies(jar: &mut Vec<(String, String)>, resp: &Response) {
    for (k, v) in resp.cookies() {
        jar.retain(|(name, _)| *name != k);
        if !v.is_empty() {
            jar.push((k, v));
        }
    }
}

fn snippet(resp: &Response) -> String {
    format!(
        "HTTP {}: {}",
        resp.status,
        resp.text().chars().take(200).collect::<String>()
    )
}

/// Gives the context's pool a domain, a resource server, a machine client (client_credentials,
/// one scope) and a web client (code flow with PKCE), and signs one of the context's users in
/// through the hosted pages.
pub async fn setup(ctx: &Arc<Ctx>) -> anyhow::Result<OAuth> {
    ctx.ensure_users(1).await?;
    let mut c = ctx.client();
    let pool = &ctx.pool_id;
    c.call(
        "CreateUserPoolDomain",
        &json!({"UserPoolId": pool, "Domain": format!("bench-{}", ctx.run_id)}),
        true,
    )
    .await
    .context("CreateUserPoolDomain")?;
    c.call(
        "CreateResourceServer",
        &json!({
            "UserPoolId": pool,
            "Identifier": RESOURCE_SERVER,
            "Name": "api",
            "Scopes": [{"ScopeName": "read", "ScopeDescription": "read"}],
        }),
        true,
    )
    .await
    .context("CreateResourceServer")?;
    let scope = format!("{RESOURCE_SERVER}/read");
    let out = c
        .call(
            "CreateUserPoolClient",
            &json!({
                "UserPoolId": pool,
                "ClientName": "bench-machine",
                "GenerateSecret": true,
                "AllowedOAuthFlowsUserPoolClient": true,
                "AllowedOAuthFlows": ["client_credentials"],
                "AllowedOAuthScopes": [scope],
            }),
            true,
        )
        .await
        .context("CreateUserPoolClient (machine)")?;
    let machine = &out["UserPoolClient"];
    let (Some(id), Some(secret)) = (machine["ClientId"].as_str(), machine["ClientSecret"].as_str()) else {
        bail!("CreateUserPoolClient: no ClientId or ClientSecret");
    };
    let machine_basic = format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")));
    let out = c
        .call(
            "CreateUserPoolClient",
            &json!({
                "UserPoolId": pool,
                "ClientName": "bench-web",
                "AllowedOAuthFlowsUserPoolClient": true,
                "AllowedOAuthFlows": ["code"],
                "AllowedOAuthScopes": ["openid", "email"],
                "CallbackURLs": [CALLBACK],
                "SupportedIdentityProviders": ["COGNITO"],
            }),
            true,
        )
        .await
        .context("CreateUserPoolClient (web)")?;
    let web_client_id = out["UserPoolClient"]["ClientId"]
        .as_str()
        .context("CreateUserPoolClient: no ClientId")?
        .to_owned();
    let challenge = URL_SAFE_NO_PAD.encode(cognate_crypto::sha256(VERIFIER.as_bytes()));
    let authorize_path = format!(
        "/oauth2/authorize?response_type=code&client_id={web_client_id}&redirect_uri={}&state=bench&scope=openid+email\
         &code_challenge={challenge}&code_challenge_method=S256",
        pct(CALLBACK)
    );

    // Sign in as a browser would: authorize → sign-in page → form post.
    let user = ctx
        .users
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .first()
        .cloned()
        .context("no users")?;
    let first = c.http(Method::GET, &authorize_path, &[], b"").await?;
    let login_path = match first.location() {
        Some(l) if first.status == 302 && l.starts_with("/login?") => l.to_owned(),
        _ => bail!("GET /oauth2/authorize without a session: {}", snippet(&first)),
    };
    let page = c.http(Method::GET, &login_path, &[], b"").await?;
    let body = page.text();
    let (Some(csrf), Some(action)) = (hidden(&body, "_csrf"), form_action(&body)) else {
        bail!("GET /login: no sign-in form: {}", snippet(&page));
    };
    let mut jar = Vec::new();
    merge_cookies(&mut jar, &page);
    let cookies = cookie_header(&jar);
    let submit = form(&[
        ("_csrf", &csrf),
        ("username", &user),
        ("password", PASSWORD),
        ("signInSubmitButton", "Sign in"),
    ]);
    let done = c
        .http(
            Method::POST,
            &action,
            &[("content-type", FORM), ("cookie", &cookies)],
            submit.as_bytes(),
        )
        .await?;
    match done.location() {
        Some(l) if done.status == 302 && l.starts_with(CALLBACK) && query_param(l, "code").is_some() => {}
        _ => bail!("POST /login: no code: {}", snippet(&done)),
    }
    merge_cookies(&mut jar, &done);
    Ok(OAuth {
        machine_basic,
        scope,
        web_client_id,
        authorize_path,
        login_path,
        session_cookie: cookie_header(&jar),
        codes: Mutex::new(Vec::new()),
        minted_in_loop: AtomicU64::new(0),
    })
}

impl OAuth {
    /// One code from the signed-in session: `GET /oauth2/authorize` answers 302 with a fresh one.
    pub async fn mint(&self, c: &mut Client) -> anyhow::Result<String> {
        let resp = c
            .http(
                Method::GET,
                &self.authorize_path,
                &[("cookie", &self.session_cookie)],
                b"",
            )
            .await?;
        match resp.location() {
            Some(l) if resp.status == 302 && l.starts_with(CALLBACK) => {
                query_param(l, "code").with_context(|| format!("no code in {l}"))
            }
            _ => bail!("GET /oauth2/authorize with a session: {}", snippet(&resp)),
        }
    }

    /// Mints `n` codes, `concurrency` requests at a time; returns how long it took.
    pub async fn mint_stock(
        self: &Arc<Self>,
        ctx: &Arc<Ctx>,
        n: usize,
        concurrency: usize,
    ) -> anyhow::Result<Duration> {
        let start = Instant::now();
        let left = Arc::new(AtomicU64::new(n as u64));
        let mut tasks = Vec::new();
        for _ in 0..concurrency.max(1) {
            let (me, ctx, left) = (self.clone(), ctx.clone(), left.clone());
            tasks.push(tokio::spawn(async move {
                let mut c = ctx.client();
                let mut mine = Vec::new();
                while left
                    .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |v| v.checked_sub(1))
                    .is_ok()
                {
                    mine.push(me.mint(&mut c).await?);
                }
                Ok::<_, anyhow::Error>(mine)
            }));
        }
        for t in tasks {
            let mine = t.await??;
            lock(&self.codes).extend(mine);
        }
        Ok(start.elapsed())
    }

    /// A stocked code, or a fresh one (counted) when the stock ran out.
    async fn code(&self, c: &mut Client) -> anyhow::Result<String> {
        if let Some(code) = lock(&self.codes).pop() {
            return Ok(code);
        }
        self.minted_in_loop.fetch_add(1, Ordering::Relaxed);
        self.mint(c).await
    }

    /// `POST /oauth2/token` grant_type=client_credentials, the machine client by HTTP Basic.
    pub async fn client_credentials(&self, c: &mut Client) -> anyhow::Result<()> {
        let body = form(&[("grant_type", "client_credentials"), ("scope", &self.scope)]);
        let resp = c
            .http(
                Method::POST,
                "/oauth2/token",
                &[("content-type", FORM), ("authorization", &self.machine_basic)],
                body.as_bytes(),
            )
            .await?;
        token_answer(&resp, "access_token")
    }

    /// `POST /oauth2/token` grant_type=authorization_code with the PKCE verifier.
    pub async fn exchange_code(&self, c: &mut Client) -> anyhow::Result<()> {
        let code = self.code(c).await?;
        let body = form(&[
            ("grant_type", "authorization_code"),
            ("client_id", &self.web_client_id),
            ("code", &code),
            ("redirect_uri", CALLBACK),
            ("code_verifier", VERIFIER),
        ]);
        let resp = c
            .http(
                Method::POST,
                "/oauth2/token",
                &[("content-type", FORM)],
                body.as_bytes(),
            )
            .await?;
        token_answer(&resp, "id_token")
    }

    /// `GET /login?…` as a first visit (no cookies): the sign-in form.
    pub async fn login_page(&self, c: &mut Client) -> anyhow::Result<()> {
        let resp = c.http(Method::GET, &self.login_path, &[], b"").await?;
        if resp.status != 200 || !resp.text().contains(r#"name="_csrf""#) {
            bail!("GET /login: no sign-in form: {}", snippet(&resp));
        }
        Ok(())
    }
}

fn token_answer(resp: &Response, must_have: &str) -> anyhow::Result<()> {
    if resp.status != 200 {
        bail!("POST /oauth2/token: {}", snippet(resp));
    }
    let v: Value = serde_json::from_slice(&resp.body).context("POST /oauth2/token: not JSON")?;
    if v[must_have].as_str().is_none() {
        bail!("POST /oauth2/token: no {must_have} in {}", snippet(resp));
    }
    Ok(())
}

/// RS256 signatures/s this machine can make: one 2048-bit key, claims shaped like a
/// client_credentials access token, signed with `cognate_crypto::jwt` (what the server uses)
/// on `threads` threads at once for `time`.
#[derive(Debug, Clone, Serialize)]
pub struct SigningBound {
    pub threads: usize,
    pub seconds: f64,
    pub signatures: u64,
    pub per_second: f64,
    /// Mean time of one signature on one thread.
    pub micros_each: f64,
}

impl SigningBound {
    /// Two measurements together.
    pub fn mean(a: &SigningBound, b: &SigningBound) -> SigningBound {
        let seconds = a.seconds + b.seconds;
        let signatures = a.signatures + b.signatures;
        SigningBound {
            threads: a.threads,
            seconds,
            signatures,
            per_second: (a.per_second + b.per_second) / 2.0,
            micros_each: seconds * 1e6 * a.threads as f64 / signatures.max(1) as f64,
        }
    }
}

pub fn signing_bound(threads: usize, time: Duration) -> anyhow::Result<SigningBound> {
    use cognate_crypto::jwt::{SigningKey, generate_rsa_pkcs8};
    let der = generate_rsa_pkcs8().map_err(|e| anyhow::anyhow!("generating an RSA key: {e}"))?;
    let key = SigningKey::from_pkcs8(&der).map_err(|e| anyhow::anyhow!("loading the RSA key: {e}"))?;
    let mut claims = Map::new();
    for (k, v) in [
        ("sub", json!("4l0bu6dbblkbq1kg1sk2sa3fq7")),
        ("token_use", json!("access")),
        ("scope", json!("https://api.bench.example/read")),
        ("auth_time", json!(1_767_225_600)),
        (
            "iss",
            json!("https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGhI"),
        ),
        ("exp", json!(1_767_229_200)),
        ("iat", json!(1_767_225_600)),
        ("version", json!(2)),
        ("jti", json!("8f0a6e0c-3b1d-4f7e-9a51-2f7f3c1d2b44")),
        ("client_id", json!("4l0bu6dbblkbq1kg1sk2sa3fq7")),
    ] {
        claims.insert(k.into(), v);
    }
    // Warm up (page in the code, fill caches), then all threads for `time`.
    std::hint::black_box(key.sign(&claims));
    let start = Instant::now();
    let end = start + time;
    let counts: Vec<u64> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads.max(1))
            .map(|_| {
                s.spawn(|| {
                    let mut n = 0u64;
                    while Instant::now() < end {
                        std::hint::black_box(key.sign(&claims));
                        n += 1;
                    }
                    n
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0)).collect()
    });
    let seconds = start.elapsed().as_secs_f64();
    let signatures: u64 = counts.iter().sum();
    let per_second = signatures as f64 / seconds.max(1e-9);
    Ok(SigningBound {
        threads: threads.max(1),
        seconds,
        signatures,
        per_second,
        micros_each: seconds * 1e6 * threads.max(1) as f64 / signatures.max(1) as f64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_params_and_encoding() {
        assert_eq!(pct("http://a/b c"), "http%3A%2F%2Fa%2Fb%20c");
        let url = "http://localhost:3000/callback?code=abc-123&state=st%201";
        assert_eq!(query_param(url, "code").as_deref(), Some("abc-123"));
        assert_eq!(query_param(url, "state").as_deref(), Some("st 1"));
        assert_eq!(query_param(url, "nope"), None);
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn signing_bound_counts_signatures() {
        let b = signing_bound(1, Duration::from_millis(50)).expect("bound");
        assert!(b.signatures > 0 && b.per_second > 0.0);
    }
}
