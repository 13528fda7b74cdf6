//! The workloads and the closed-loop load generator: N clients, each with its own keep-alive
//! connection, each sending its next operation as soon as the previous one is answered.
use crate::client::{Client, Signer};
use anyhow::{Context, bail};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "Bench-Passw0rd!";
const MAX_TOKENS: usize = 512;

/// What the workloads share for one server instance.
pub struct Ctx {
    pub addr: SocketAddr,
    pub pool_id: String,
    pub client_id: String,
    /// Tells this run's sign-up usernames apart from an earlier run's.
    pub run_id: String,
    /// Confirmed users with `PASSWORD`.
    pub users: Mutex<Vec<String>>,
    /// (access token, refresh token) pairs from sign-ins.
    pub tokens: Mutex<Vec<(String, String)>>,
    /// Users `seed{i:06}` exist for i below this.
    pub seeded: AtomicUsize,
    /// Signs the admin calls of this context's clients for real (production profile).
    pub signer: Option<Arc<Signer>>,
    /// The OAuth endpoints' clients and browser session, once set up.
    pub oauth: std::sync::OnceLock<Arc<crate::oauth::OAuth>>,
    /// The passwordless pool, its users and their passkeys, once set up.
    pub passwordless: std::sync::OnceLock<Arc<crate::passwordless::Passwordless>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Ctx {
    /// Creates the pool and app client the workloads use (or uses `pool_id`, e.g. a pool a
    /// serverless.yml declared).
    pub async fn setup(addr: SocketAddr, pool_name: &str, pool_id: Option<String>) -> anyhow::Result<Self> {
        Self::setup_signed(addr, pool_name, pool_id, None).await
    }

    /// Like [`Ctx::setup`], with every admin call of this context signed by `signer`.
    pub async fn setup_signed(
        addr: SocketAddr,
        pool_name: &str,
        pool_id: Option<String>,
        signer: Option<Arc<Signer>>,
    ) -> anyhow::Result<Self> {
        let mut c = Client::signed(addr, signer.clone());
        let pool_id = match pool_id {
            Some(id) => id,
            None => {
                let out = c
                    .call(
                        "CreateUserPool",
                        &json!({
                            "PoolName": pool_name,
                            "Policies": {"PasswordPolicy": {"MinimumLength": 8}},
                        }),
                        true,
                    )
                    .await
                    .context("CreateUserPool")?;
                out["UserPool"]["Id"]
                    .as_str()
                    .context("CreateUserPool: no Id")?
                    .to_owned()
            }
        };
        let out = c
            .call(
                "CreateUserPoolClient",
                &json!({
                    "UserPoolId": pool_id,
                    "ClientName": "bench",
                    "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
                }),
                true,
            )
            .await
            .context("CreateUserPoolClient")?;
        let client_id = out["UserPoolClient"]["ClientId"]
            .as_str()
            .context("CreateUserPoolClient: no ClientId")?
            .to_owned();
        #[allow(clippy::disallowed_methods)] // a client of a real server, on real time
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        Ok(Ctx {
            addr,
            pool_id,
            client_id,
            run_id: format!("{:x}", nanos ^ std::process::id()),
            users: Mutex::new(Vec::new()),
            tokens: Mutex::new(Vec::new()),
            seeded: AtomicUsize::new(0),
            signer,
            oauth: std::sync::OnceLock::new(),
            passwordless: std::sync::OnceLock::new(),
        })
    }

    /// A client of this context's server (signing admin calls if the context does).
    pub fn client(&self) -> Client {
        Client::signed(self.addr, self.signer.clone())
    }

    /// The id of the pool called `name`.
    pub async fn find_pool(addr: SocketAddr, name: &str) -> anyhow::Result<String> {
        let mut c = Client::new(addr);
        let out = c.call("ListUserPools", &json!({"MaxResults": 60}), true).await?;
        out["UserPools"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|p| p["Name"] == name)
            .and_then(|p| p["Id"].as_str())
            .map(str::to_owned)
            .with_context(|| format!("no user pool named {name}"))
    }

    /// Makes sure at least `n` confirmed users exist (SignUp + AdminConfirmSignUp).
    pub async fn ensure_users(self: &Arc<Self>, n: usize) -> anyhow::Result<()> {
        let have = lock(&self.users).len();
        if have >= n {
            return Ok(());
        }
        let mut c = self.client();
        for i in have..n {
            let name = format!("pre-{}-{i}", self.run_id);
            sign_up(self, &mut c, &name).await?;
        }
        Ok(())
    }

    /// Makes sure at least `n` token pairs exist (one sign-in each).
    pub async fn ensure_tokens(self: &Arc<Self>, n: usize) -> anyhow::Result<()> {
        self.ensure_users(n.min(64)).await?;
        let mut c = self.client();
        let mut rng = Rng::new(7);
        while lock(&self.tokens).len() < n {
            password_sign_in(self, &mut c, &mut rng).await?;
        }
        Ok(())
    }
}

async fn sign_up(ctx: &Ctx, c: &mut Client, name: &str) -> anyhow::Result<()> {
    c.call(
        "SignUp",
        &json!({
            "ClientId": ctx.client_id,
            "Username": name,
            "Password": PASSWORD,
            "UserAttributes": [{"Name": "email", "Value": format!("{name}@bench.example")}],
        }),
        false,
    )
    .await?;
    c.call(
        "AdminConfirmSignUp",
        &json!({"UserPoolId": ctx.pool_id, "Username": name}),
        true,
    )
    .await?;
    lock(&ctx.users).push(name.to_owned());
    Ok(())
}

async fn password_sign_in(ctx: &Ctx, c: &mut Client, rng: &mut Rng) -> anyhow::Result<()> {
    let user = {
        let users = lock(&ctx.users);
        if users.is_empty() {
            bail!("no users to sign in");
        }
        users[rng.below(users.len())].clone()
    };
    let out = c
        .call(
            "InitiateAuth",
            &json!({
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": ctx.client_id,
                "AuthParameters": {"USERNAME": user, "PASSWORD": PASSWORD},
            }),
            false,
        )
        .await?;
    let result = &out["AuthenticationResult"];
    let (Some(access), Some(refresh)) = (result["AccessToken"].as_str(), result["RefreshToken"].as_str()) else {
        bail!("InitiateAuth: no tokens in {}", truncate(&out));
    };
    let mut tokens = lock(&ctx.tokens);
    if tokens.len() < MAX_TOKENS {
        tokens.push((access.to_owned(), refresh.to_owned()));
    }
    Ok(())
}

fn truncate(v: &Value) -> String {
    v.to_string().chars().take(200).collect()
}

/// One operation of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// SignUp then AdminConfirmSignUp of a new user (two requests).
    SignUpConfirm,
    /// InitiateAuth USER_PASSWORD_AUTH.
    PasswordSignIn,
    /// InitiateAuth REFRESH_TOKEN_AUTH.
    Refresh,
    /// GetUser with an access token.
    GetUser,
    /// AdminGetUser.
    AdminGetUser,
    /// ListUsers with `Filter: email = "..."` matching one seeded user.
    ListUsersFilter,
    /// InitiateAuth USER_SRP_AUTH + RespondToAuthChallenge PASSWORD_VERIFIER (two requests).
    SrpSignIn,
    /// `POST /oauth2/token` grant_type=client_credentials (HTTP Basic, one scope).
    ClientCredentials,
    /// `POST /oauth2/token` grant_type=authorization_code with PKCE S256, of a code minted
    /// before the timed part (or in it, counted, if the stock runs out).
    CodeExchange,
    /// `GET /login?…`, the hosted sign-in page, as a first visit.
    LoginPage,
    /// USER_AUTH with an email code: InitiateAuth, the code from the outbox, the answer (three
    /// requests).
    UserAuthEmailOtp,
    /// USER_AUTH with a passkey: InitiateAuth, the answer with an assertion (two requests).
    WebAuthnSignIn,
}

impl Op {
    async fn run(self, ctx: &Ctx, c: &mut Client, rng: &mut Rng, worker: usize, iter: u64) -> anyhow::Result<()> {
        match self {
            Op::SignUpConfirm => {
                let name = format!("su-{}-{worker}-{iter}", ctx.run_id);
                sign_up(ctx, c, &name).await
            }
            Op::PasswordSignIn => password_sign_in(ctx, c, rng).await,
            Op::SrpSignIn => srp_sign_in(ctx, c, rng).await,
            Op::ClientCredentials => oauth(ctx)?.client_credentials(c).await,
            Op::CodeExchange => oauth(ctx)?.exchange_code(c).await,
            Op::LoginPage => oauth(ctx)?.login_page(c).await,
            Op::UserAuthEmailOtp => crate::passwordless::email_otp_sign_in(ctx, c, worker, iter).await,
            Op::WebAuthnSignIn => crate::passwordless::passkey_sign_in(ctx, c, worker).await,
            Op::Refresh => {
                let refresh = pick(&ctx.tokens, rng)?.1;
                let out = c
                    .call(
                        "InitiateAuth",
                        &json!({
                            "AuthFlow": "REFRESH_TOKEN_AUTH",
                            "ClientId": ctx.client_id,
                            "AuthParameters": {"REFRESH_TOKEN": refresh},
                        }),
                        false,
                    )
                    .await?;
                if out["AuthenticationResult"]["AccessToken"].as_str().is_none() {
                    bail!("REFRESH_TOKEN_AUTH: no access token in {}", truncate(&out));
                }
                Ok(())
            }
            Op::GetUser => {
                let access = pick(&ctx.tokens, rng)?.0;
                let out = c.call("GetUser", &json!({"AccessToken": access}), false).await?;
                if out["Username"].as_str().is_none() {
                    bail!("GetUser: no Username in {}", truncate(&out));
                }
                Ok(())
            }
            Op::AdminGetUser => {
                let user = {
                    let users = lock(&ctx.users);
                    users.get(rng.below(users.len().max(1))).cloned().context("no users")?
                };
                c.call(
                    "AdminGetUser",
                    &json!({"UserPoolId": ctx.pool_id, "Username": user}),
                    true,
                )
                .await?;
                Ok(())
            }
            Op::ListUsersFilter => {
                let n = ctx.seeded.load(Ordering::Relaxed);
                if n == 0 {
                    bail!("no seeded users");
                }
                let i = rng.below(n);
                let out = c
                    .call(
                        "ListUsers",
                        &json!({
                            "UserPoolId": ctx.pool_id,
                            "Filter": format!("email = \"{}\"", seed_email(i)),
                            "Limit": 60,
                        }),
                        true,
                    )
                    .await?;
                let found = out["Users"].as_array().map_or(0, Vec::len);
                if found != 1 {
                    bail!("ListUsers: the filter matched {found} users, not 1");
                }
                Ok(())
            }
        }
    }
}

/// USER_SRP_AUTH then PASSWORD_VERIFIER. The client's secret `a` (and `A`) is made once per
/// client connection and reused: the server's work per sign-in is the same, the load
/// generator's smaller. The client's proof runs on the blocking pool.
async fn srp_sign_in(ctx: &Ctx, c: &mut Client, rng: &mut Rng) -> anyhow::Result<()> {
    use crate::srp::{ClientSecret, password_claim, require};
    let user = {
        let users = lock(&ctx.users);
        users.get(rng.below(users.len().max(1))).cloned().context("no users")?
    };
    if c.srp.is_none() {
        let mut a = [0u8; 32];
        for b in a.iter_mut() {
            *b = rng.below(256) as u8;
        }
        c.srp = Some(Arc::new(
            tokio::task::spawn_blocking(move || ClientSecret::new(&a)).await?,
        ));
    }
    let secret = c.srp.clone().context("no SRP secret")?;
    let out = c
        .call(
            "InitiateAuth",
            &json!({
                "AuthFlow": "USER_SRP_AUTH",
                "ClientId": ctx.client_id,
                "AuthParameters": {"USERNAME": user, "SRP_A": secret.a_hex},
            }),
            false,
        )
        .await?;
    if out["ChallengeName"] != "PASSWORD_VERIFIER" {
        bail!("USER_SRP_AUTH: no PASSWORD_VERIFIER challenge in {}", truncate(&out));
    }
    let p = &out["ChallengeParameters"];
    let salt = require(p["SALT"].as_str(), "SALT")?;
    let srp_b = require(p["SRP_B"].as_str(), "SRP_B")?;
    let secret_block = require(p["SECRET_BLOCK"].as_str(), "SECRET_BLOCK")?;
    let user_id = require(p["USER_ID_FOR_SRP"].as_str(), "USER_ID_FOR_SRP")?;
    let pool_name = cognate_crypto::srp::pool_name(&ctx.pool_id)
        .unwrap_or(&ctx.pool_id)
        .to_owned();
    #[allow(clippy::disallowed_methods)] // a client of a real server, on real time
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let timestamp = cognate_crypto::srp::format_timestamp(now);
    let signature = tokio::task::spawn_blocking({
        let (user_id, secret_block, timestamp) = (user_id.clone(), secret_block.clone(), timestamp.clone());
        move || {
            password_claim(
                &secret,
                &pool_name,
                &user_id,
                PASSWORD,
                &salt,
                &srp_b,
                &secret_block,
                &timestamp,
            )
        }
    })
    .await??;
    let mut req = json!({
        "ChallengeName": "PASSWORD_VERIFIER",
        "ClientId": ctx.client_id,
        "ChallengeResponses": {
            "USERNAME": user_id,
            "PASSWORD_CLAIM_SECRET_BLOCK": secret_block,
            "PASSWORD_CLAIM_SIGNATURE": signature,
            "TIMESTAMP": timestamp,
        },
    });
    if let Some(session) = out["Session"].as_str() {
        req["Session"] = json!(session);
    }
    let out = c.call("RespondToAuthChallenge", &req, false).await?;
    if out["AuthenticationResult"]["AccessToken"].as_str().is_none() {
        bail!("PASSWORD_VERIFIER: no tokens in {}", truncate(&out));
    }
    Ok(())
}

fn oauth(ctx: &Ctx) -> anyhow::Result<&crate::oauth::OAuth> {
    ctx.oauth
        .get()
        .map(|o| &**o)
        .context("the OAuth endpoints were not set up")
}

fn pick(tokens: &Mutex<Vec<(String, String)>>, rng: &mut Rng) -> anyhow::Result<(String, String)> {
    let t = lock(tokens);
    if t.is_empty() {
        bail!("no tokens (sign-in failed earlier)");
    }
    Ok(t[rng.below(t.len())].clone())
}

pub fn seed_name(i: usize) -> String {
    format!("seed{i:06}")
}

pub fn seed_email(i: usize) -> String {
    format!("seed{i:06}@bench.example")
}

/// xorshift64*: enough to pick users.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as usize % n.max(1)
    }
}

/// What one load run measured.
#[derive(Debug, Default)]
pub struct Outcome {
    pub ops: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Sorted latencies of the successful operations, in microseconds.
    pub latencies_us: Vec<u32>,
}

impl Outcome {
    pub fn per_second(&self) -> f64 {
        if self.elapsed.is_zero() {
            0.0
        } else {
            self.ops as f64 / self.elapsed.as_secs_f64()
        }
    }
    pub fn percentile_ms(&self, p: f64) -> Option<f64> {
        if self.latencies_us.is_empty() {
            return None;
        }
        let rank = ((p / 100.0) * self.latencies_us.len() as f64).ceil() as usize;
        let idx = rank.clamp(1, self.latencies_us.len()) - 1;
        Some(self.latencies_us[idx] as f64 / 1000.0)
    }
}

/// Runs `op` from `concurrency` clients: `warmup` unmeasured, then `duration` measured.
pub async fn run(ctx: &Arc<Ctx>, op: Op, concurrency: usize, warmup: Duration, duration: Duration) -> Outcome {
    let start = Instant::now();
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let mut tasks = Vec::new();
    for worker in 0..concurrency.max(1) {
        let ctx = ctx.clone();
        tasks.push(tokio::spawn(async move {
            let mut c = ctx.client();
            let mut rng = Rng::new(worker as u64 + 1);
            let mut lat = Vec::new();
            let mut errors = 0u64;
            let mut first_error = None;
            let mut last_done = measure_from;
            let mut iter = 0u64;
            loop {
                let t0 = Instant::now();
                if t0 >= end {
                    break;
                }
                let r = op.run(&ctx, &mut c, &mut rng, worker, iter).await;
                iter += 1;
                let t1 = Instant::now();
                if t0 < measure_from {
                    continue;
                }
                last_done = t1;
                match r {
                    Ok(()) => lat.push((t1 - t0).as_micros().min(u32::MAX as u128) as u32),
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("{e:#}"));
                        // Do not spin on a server that fails at once.
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                }
            }
            (lat, errors, first_error, last_done)
        }));
    }
    let mut out = Outcome::default();
    let mut last = measure_from;
    for t in tasks {
        if let Ok((lat, errors, first_error, last_done)) = t.await {
            out.latencies_us.extend(lat);
            out.errors += errors;
            if out.first_error.is_none() {
                out.first_error = first_error;
            }
            last = last.max(last_done);
        }
    }
    out.latencies_us.sort_unstable();
    out.ops = out.latencies_us.len() as u64;
    out.elapsed = last
        .saturating_duration_since(measure_from)
        .max(Duration::from_millis(1));
    out
}

/// How seeding went.
#[derive(Debug, Default)]
pub struct Seeding {
    pub created: usize,
    pub errors: u64,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Why it stopped before `target`, if it did.
    pub stopped: Option<String>,
}

/// Creates users `seed000000`.. with AdminCreateUser (MessageAction SUPPRESS), `concurrency`
/// at a time. Stops early when, at the current rate, finishing would take past `limit`.
pub async fn seed(ctx: &Arc<Ctx>, target: usize, concurrency: usize, limit: Duration) -> Seeding {
    let start = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let (ctx, next, done, stop) = (ctx.clone(), next.clone(), done.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut c = ctx.client();
            let mut errors = 0u64;
            let mut first_error = None;
            while !stop.load(Ordering::Relaxed) {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= target {
                    break;
                }
                let body = json!({
                    "UserPoolId": ctx.pool_id,
                    "Username": seed_name(i),
                    "MessageAction": "SUPPRESS",
                    "TemporaryPassword": PASSWORD,
                    "UserAttributes": [{"Name": "email", "Value": seed_email(i)}],
                });
                match c.call("AdminCreateUser", &body, true).await {
                    Ok(_) => {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("{e:#}"));
                    }
                }
            }
            (errors, first_error)
        }));
    }
    // Progress, and the early stop.
    let mut stopped = None;
    let mut last = (Instant::now(), 0usize);
    let mut last_print = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let n = done.load(Ordering::Relaxed);
        let attempted = next.load(Ordering::Relaxed).min(target);
        if attempted >= target && tasks.iter().all(|t| t.is_finished()) {
            break;
        }
        let now = Instant::now();
        if now - last.0 >= Duration::from_secs(5) {
            let rate = (n - last.1) as f64 / (now - last.0).as_secs_f64();
            let eta = if rate > 0.0 {
                Duration::from_secs_f64((target - n.min(target)) as f64 / rate)
            } else {
                Duration::MAX
            };
            let elapsed = now - start;
            if stopped.is_none() && (elapsed > limit || elapsed.saturating_add(eta) > limit.saturating_mul(3)) {
                stopped = Some(if elapsed > limit {
                    format!("stopped at {n} users: the {:.0} s limit", limit.as_secs_f64())
                } else {
                    format!(
                        "stopped at {n} users after {:.0} s: at {rate:.0} users/s the rest would take over 3× the {:.0} s limit",
                        elapsed.as_secs_f64(),
                        limit.as_secs_f64()
                    )
                });
                stop.store(true, Ordering::Relaxed);
            }
            if now - last_print >= Duration::from_secs(30) {
                eprintln!(
                    "    seeded {n}/{target} ({rate:.0}/s, {:.0} s)",
                    (now - start).as_secs_f64()
                );
                last_print = now;
            }
            last = (now, n);
        }
        if stop.load(Ordering::Relaxed) && tasks.iter().all(|t| t.is_finished()) {
            break;
        }
    }
    let mut out = Seeding {
        stopped,
        ..Default::default()
    };
    for t in tasks {
        if let Ok((errors, first_error)) = t.await {
            out.errors += errors;
            if out.first_error.is_none() {
                out.first_error = first_error;
            }
        }
    }
    out.created = done.load(Ordering::Relaxed);
    out.elapsed = start.elapsed();
    // Users are created in index order, give or take the ones in flight at a stop.
    let contiguous = if out.stopped.is_some() {
        out.created.saturating_sub(concurrency)
    } else {
        out.created
    };
    ctx.seeded.store(contiguous, Ordering::Relaxed);
    out
}
