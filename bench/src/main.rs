//! `cognate-bench`: starts each server on loopback, loads it from this process with N
//! concurrent clients for a fixed time, and prints a Markdown table (and JSON) of
//! throughput, latency p50/p99 and the server's peak RSS. See bench/README.md.
mod client;
mod load;
mod oauth;
mod passwordless;
mod report;
mod servers;
mod srp;

use anyhow::{Context, bail};
use base64::Engine;
use clap::Parser;
use load::{Ctx, Op, Outcome};
use report::{Report, Row, ServerSummary, Status, TriggerFigures};
use serde_json::json;
use servers::{Env, Kind, Launch, Running};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser, Debug, Clone)]
#[command(
    name = "cognate-bench",
    about = "Benchmarks Cognate against moto and cognito-local on this machine"
)]
struct Args {
    /// Measured time per workload (after the warm-up): 10s, 500ms, 1m.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Unmeasured warm-up before each workload.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    warmup: Duration,
    /// Concurrent clients (each with its own keep-alive connection).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Servers to run, comma-separated: cognate (SQLite), cognate-pg (PostgreSQL), moto,
    /// cognito-local.
    #[arg(long, default_value = "cognate,cognate-pg,moto,cognito-local")]
    servers: String,
    /// Users in the pool for ListUsers and the RSS-with-users figure.
    #[arg(long, default_value_t = 100_000)]
    users: usize,
    /// Also write the results as JSON to this file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Workloads, comma-separated: signup, password, refresh, getuser, admingetuser, srp,
    /// trigger, listusers, sigv4, oauth_client_credentials, oauth_code_exchange,
    /// hosted_sign_in_page, user_auth_email_otp, webauthn_sign_in; or "all".
    #[arg(long, default_value = "all")]
    workloads: String,
    /// Stop seeding after this long, or early when at the current rate finishing would take
    /// over 3× this (the ListUsers figure is then taken on the users created so far, and says so).
    #[arg(long, default_value = "30m", value_parser = parse_duration)]
    seed_limit: Duration,
    /// Concurrent AdminCreateUser calls while seeding.
    #[arg(long, default_value_t = 32)]
    seed_concurrency: usize,
    /// Threads of the load generator (the servers get the rest of the machine).
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
    /// The cognate binary (default: next to this one, built first with cargo).
    #[arg(long)]
    cognate_bin: Option<PathBuf>,
    /// argon2id parameters passed to Cognate (`--argon2 m=KIB,t=N,p=N`); default: Cognate's.
    #[arg(long, value_name = "m=KIB,t=N,p=N")]
    argon2: Option<String>,
    /// Do not run `cargo build --release -p cognate` first.
    #[arg(long)]
    no_build: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .map_or((s, "s"), |i| s.split_at(i));
    let n: f64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" | "min" => n * 60.0,
        _ => return Err(format!("bad duration unit in {s:?} (ms, s, m)")),
    };
    Ok(Duration::from_secs_f64(secs))
}

#[derive(Debug, Clone)]
struct Selection(Vec<String>);

impl Selection {
    fn has(&self, w: &str) -> bool {
        self.0.iter().any(|x| x == "all" || x == w)
    }
}

const WORKLOADS: &[&str] = &[
    "signup",
    "password",
    "refresh",
    "getuser",
    "admingetuser",
    "srp",
    "trigger",
    "listusers",
    "sigv4",
    "oauth_client_credentials",
    "oauth_code_exchange",
    "hosted_sign_in_page",
    "user_auth_email_otp",
    "webauthn_sign_in",
];

pub const W_SIGNUP: &str = "SignUp + AdminConfirmSignUp";
pub const W_PASSWORD: &str = "InitiateAuth USER_PASSWORD_AUTH";
pub const W_PASSWORD_1: &str = "USER_PASSWORD_AUTH, no trigger, 1 client (trigger baseline)";
pub const W_REFRESH: &str = "InitiateAuth REFRESH_TOKEN_AUTH";
pub const W_GETUSER: &str = "GetUser (access token)";
pub const W_ADMINGETUSER: &str = "AdminGetUser";
pub const W_TRIGGER: &str = "USER_PASSWORD_AUTH + warm Node PreTokenGeneration, 1 client";
pub const W_SRP: &str = "USER_SRP_AUTH + PASSWORD_VERIFIER sign-in";
pub const W_LISTUSERS: &str = "ListUsers, Filter email = \"…\"";
pub const W_SIGNED_DEV: &str = "AdminGetUser, SigV4-signed, development profile (not verified)";
pub const W_SIGNED_PROD: &str = "AdminGetUser, SigV4-signed, production profile (verified)";
pub const W_OAUTH_CC: &str = "POST /oauth2/token client_credentials";
pub const W_OAUTH_CODE: &str = "POST /oauth2/token authorization_code + PKCE S256";
pub const W_LOGIN_PAGE: &str = "GET /login (hosted sign-in page)";
pub const W_LOGIN_PAGE_1: &str = "GET /login (hosted sign-in page), 1 client";
pub const W_EMAIL_OTP: &str = "USER_AUTH EMAIL_OTP sign-in (code from the outbox)";
pub const W_WEBAUTHN: &str = "USER_AUTH WEB_AUTHN sign-in (passkey)";

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    let kinds = args
        .servers
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(Kind::parse)
        .collect::<anyhow::Result<Vec<_>>>()?;
    let selection = Selection(args.workloads.split(',').map(|s| s.trim().to_owned()).collect());
    for w in &selection.0 {
        if w != "all" && !WORKLOADS.contains(&w.as_str()) {
            bail!("unknown workload {w:?} (one of {}, or all)", WORKLOADS.join(", "));
        }
    }
    let bench_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let cognate_bin = match &args.cognate_bin {
        Some(p) => p.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("no folder for this executable")?
            .join("cognate"),
    };
    let scratch = std::env::temp_dir().join(format!("cognate-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let env = Env {
        bench_dir,
        cognate_bin,
        scratch: scratch.clone(),
        argon2: args.argon2.clone(),
        pg: std::sync::Mutex::new(None),
        built: std::sync::atomic::AtomicBool::new(false),
    };

    let mut report = Report::new(report::machine().await, settings(&args));
    for &kind in &kinds {
        eprintln!("== {}", kind.label());
        match bench_server(kind, &env, &args, &selection, &mut report).await {
            Ok(()) => {}
            Err(e) => {
                eprintln!("  failed: {e:#}");
                report.failures.push(format!("{}: {e:#}", kind.label()));
            }
        }
    }
    servers::stop_postgres(&env).await;
    let _ = std::fs::remove_dir_all(&scratch);

    let markdown = report.markdown(&args.command_line());
    println!("{markdown}");
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report.to_json())?)
            .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("JSON written to {}", path.display());
    }
    Ok(())
}

impl Args {
    fn command_line(&self) -> String {
        let mut s = String::from("cargo run --release -p cognate-bench --");
        s += &format!(
            " --duration {}s --concurrency {} --servers {} --users {}",
            self.duration.as_secs_f64(),
            self.concurrency,
            self.servers,
            self.users
        );
        if self.workloads != "all" {
            s += &format!(" --workloads {}", self.workloads);
        }
        s
    }
}

fn settings(args: &Args) -> serde_json::Value {
    json!({
        "duration_s": args.duration.as_secs_f64(),
        "warmup_s": args.warmup.as_secs_f64(),
        "concurrency": args.concurrency,
        "users": args.users,
        "seed_concurrency": args.seed_concurrency,
        "seed_limit_s": args.seed_limit.as_secs_f64(),
        "client_threads": args.client_threads,
        "workloads": args.workloads,
        "command": args.command_line(),
    })
}

/// Runs one workload against `srv` and turns it into a row.
async fn measure(
    srv: &Running,
    ctx: &Arc<Ctx>,
    op: Op,
    concurrency: usize,
    args: &Args,
    workload: &str,
    kind: Kind,
) -> (Row, Outcome) {
    eprintln!("  {workload} ({concurrency} clients)");
    let peak_reset = srv.reset_peak();
    let pid = srv.pid;
    let me = std::process::id();
    let warmup = args.warmup;
    let sampler = async move {
        tokio::time::sleep(warmup).await;
        (Instant::now(), servers::cpu_seconds(pid), servers::cpu_seconds(me))
    };
    let (outcome, (t0, cpu0, me0)) = tokio::join!(load::run(ctx, op, concurrency, args.warmup, args.duration), sampler);
    let wall = t0.elapsed().as_secs_f64().max(0.001);
    let server_cpu = (srv.cpu_seconds() - cpu0) / wall * 100.0;
    let client_cpu = (servers::cpu_seconds(me) - me0) / wall * 100.0;
    let mem = srv.mem();
    let mut row = Row::measured(workload, kind, concurrency, &outcome);
    row.peak_rss_mb = Some(if peak_reset { mem.peak_rss_mb } else { mem.rss_mb });
    row.server_cpu_pct = Some(server_cpu);
    row.client_cpu_pct = Some(client_cpu);
    if let Some(e) = &outcome.first_error {
        eprintln!("    {} errors; first: {e}", outcome.errors);
    }
    (row, outcome)
}

async fn bench_server(kind: Kind, env: &Env, args: &Args, sel: &Selection, report: &mut Report) -> anyhow::Result<()> {
    servers::install(kind, env, !args.no_build).await?;
    let version = servers::version(kind, env).await;
    let dir = env.fresh_dir(&format!("{kind:?}"))?;
    let mut srv = servers::start(Launch::main(kind, env, &dir)?).await?;
    eprintln!(
        "  {version} ready in {:.0} ms (pid {})",
        srv.ready.as_secs_f64() * 1000.0,
        srv.pid
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut summary = ServerSummary::new(kind, version, env.password_hashing(kind).await);
    summary.ready_ms = Some(srv.ready.as_secs_f64() * 1000.0);
    summary.idle_rss_mb = Some(srv.mem().rss_mb);

    let result = bench_workloads(kind, env, args, sel, report, &srv, &mut summary).await;
    srv.stop().await;
    // Restart on the seeded data (moto keeps nothing across a restart).
    if result.is_ok() && summary.seed.is_some() && kind != Kind::Moto {
        match servers::start(Launch::main(kind, env, &dir)?).await {
            Ok(mut again) => {
                tokio::time::sleep(Duration::from_secs(1)).await;
                summary.restart_ready_ms = Some(again.ready.as_secs_f64() * 1000.0);
                summary.restart_rss_mb = Some(again.mem().rss_mb);
                eprintln!(
                    "  restarted on the seeded data: ready in {:.0} ms, RSS {:.1} MB",
                    again.ready.as_secs_f64() * 1000.0,
                    again.mem().rss_mb
                );
                again.stop().await;
            }
            Err(e) => {
                eprintln!("  restart on the seeded data failed: {e:#}");
                let first = format!("{e:#}");
                let reason = first
                    .lines()
                    .find(|l| l.contains("Error:") || l.contains("error"))
                    .unwrap_or("did not start")
                    .trim()
                    .chars()
                    .take(120)
                    .collect::<String>();
                summary.restart_error = Some(reason);
            }
        }
    }
    report.servers.push(summary);
    result
}

async fn bench_workloads(
    kind: Kind,
    env: &Env,
    args: &Args,
    sel: &Selection,
    report: &mut Report,
    srv: &Running,
    summary: &mut ServerSummary,
) -> anyhow::Result<()> {
    let ctx = Arc::new(Ctx::setup(srv.addr, "bench", None).await?);
    let n = args.concurrency;
    if sel.has("signup") {
        let (row, _) = measure(srv, &ctx, Op::SignUpConfirm, n, args, W_SIGNUP, kind).await;
        report
            .rows
            .push(row.note("1 op = 2 requests; each SignUp hashes a password"));
    }
    ctx.ensure_users(n.max(16)).await.context("creating users to sign in")?;
    if sel.has("password") {
        let (row, _) = measure(srv, &ctx, Op::PasswordSignIn, n, args, W_PASSWORD, kind).await;
        report
            .rows
            .push(row.note(&format!("password hashing: {}", env.password_hashing(kind).await)));
    }
    let trigger_supported = kind != Kind::Moto;
    if sel.has("refresh") || sel.has("getuser") {
        ctx.ensure_tokens(64).await.context("signing in for tokens")?;
    }
    if sel.has("refresh") {
        let (row, _) = measure(srv, &ctx, Op::Refresh, n, args, W_REFRESH, kind).await;
        report.rows.push(row);
    }
    if sel.has("getuser") {
        let (row, _) = measure(srv, &ctx, Op::GetUser, n, args, W_GETUSER, kind).await;
        report.rows.push(row);
    }
    if sel.has("admingetuser") {
        let (row, _) = measure(srv, &ctx, Op::AdminGetUser, n, args, W_ADMINGETUSER, kind).await;
        report.rows.push(row);
    }
    if sel.has("srp") {
        if kind == Kind::CognitoLocal {
            report.rows.push(Row::other(
                W_SRP,
                kind,
                Status::Unsupported,
                "cognito-local does not implement USER_SRP_AUTH",
            ));
        } else if kind == Kind::Moto {
            report.rows.push(Row::other(
                W_SRP,
                kind,
                Status::Unsupported,
                "moto's USER_SRP_AUTH is not SRP: random SRP_B and SALT, a SECRET_BLOCK that is not base64, no proof check",
            ));
        } else {
            let (row, _) = measure(srv, &ctx, Op::SrpSignIn, n, args, W_SRP, kind).await;
            report.rows.push(row.note(
                "1 op = 2 requests; no argon2 on this path; the harness computes the client's proof on the same 2 cores",
            ));
        }
    }
    if sel.has("oauth_client_credentials") || sel.has("oauth_code_exchange") || sel.has("hosted_sign_in_page") {
        oauth_workloads(kind, args, sel, report, srv, &ctx).await;
    }
    if sel.has("user_auth_email_otp") || sel.has("webauthn_sign_in") {
        passwordless_workloads(kind, args, sel, report, srv, &ctx).await;
    }
    if sel.has("trigger") {
        if !trigger_supported {
            report.rows.push(Row::other(
                W_TRIGGER,
                kind,
                Status::Unsupported,
                "moto does not run Lambda triggers",
            ));
        } else {
            // The same sign-ins on two fresh instances, one without and one with the trigger.
            let baseline = trigger_workload(kind, env, args, false).await;
            let triggered = match &baseline {
                Ok(_) => trigger_workload(kind, env, args, true).await,
                Err(_) => Err(anyhow::anyhow!("the baseline failed")),
            };
            match (baseline, triggered) {
                (Ok((brow, base, _)), Ok((row, outcome, node_rss))) => {
                    let fig = TriggerFigures {
                        baseline_p50_ms: base.percentile_ms(50.0),
                        baseline_p99_ms: base.percentile_ms(99.0),
                        trigger_p50_ms: outcome.percentile_ms(50.0),
                        trigger_p99_ms: outcome.percentile_ms(99.0),
                        node_rss_mb: Some(node_rss),
                    };
                    let note = fig
                        .added_p50_ms()
                        .map(|d| format!("adds {d:+.2} ms p50 to a sign-in"))
                        .unwrap_or_default();
                    summary.trigger = Some(fig);
                    report.rows.push(brow.note("fresh instance, 8 users"));
                    report.rows.push(row.note("fresh instance, 8 users").note(&note));
                }
                (b, t) => {
                    let e = b.err().or(t.err()).map(|e| format!("{e:#}")).unwrap_or_default();
                    eprintln!("    trigger workload failed: {e}");
                    report.rows.push(Row::other(W_TRIGGER, kind, Status::Failed, &e));
                }
            }
        }
    }
    if sel.has("sigv4") {
        if !kind.is_cognate() {
            report.rows.push(Row::other(
                W_SIGNED_PROD,
                kind,
                Status::Unsupported,
                "only Cognate has a production profile that verifies signatures",
            ));
        } else {
            // The same signed calls on two fresh instances: the development profile accepts
            // them unchecked, the production profile verifies every signature. Both run at once
            // and are measured in alternating rounds (dev, prod, prod, dev, …), so that drift in
            // what else the machine does falls on both alike.
            match sigv4_rounds(kind, env, args).await {
                Ok((drow, prow, ratios)) => {
                    let median = median(&ratios);
                    let rounds: Vec<String> = ratios.iter().map(|r| format!("{:+.1} %", (r - 1.0) * 100.0)).collect();
                    report.rows.push(drow.note("fresh instance, 64 users"));
                    report
                        .rows
                        .push(prow.note("fresh instance, 64 users, --quotas off").note(&format!(
                            "ops/s against the development profile per round pair: {}; median {:+.1} %",
                            rounds.join(", "),
                            (median - 1.0) * 100.0
                        )));
                }
                Err(e) => {
                    eprintln!("    sigv4 workload failed: {e:#}");
                    report
                        .rows
                        .push(Row::other(W_SIGNED_PROD, kind, Status::Failed, &format!("{e:#}")));
                }
            }
        }
    }
    if sel.has("listusers") {
        eprintln!(
            "  seeding {} users (AdminCreateUser, {} at a time)",
            args.users, args.seed_concurrency
        );
        srv.reset_peak();
        let seeding = load::seed(&ctx, args.users, args.seed_concurrency, args.seed_limit).await;
        eprintln!(
            "    {} users in {:.1} s{}",
            seeding.created,
            seeding.elapsed.as_secs_f64(),
            seeding
                .stopped
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default()
        );
        if let Some(e) = &seeding.first_error {
            eprintln!("    {} errors; first: {e}", seeding.errors);
        }
        let mem = srv.mem();
        summary.seed = Some(report::SeedFigures {
            target: args.users,
            created: seeding.created,
            seconds: seeding.elapsed.as_secs_f64(),
            errors: seeding.errors,
            first_error: seeding.first_error.clone(),
            stopped: seeding.stopped.clone(),
            peak_rss_mb: mem.peak_rss_mb,
        });
        // Let the server settle (moto and Node collect garbage) before reading its RSS.
        tokio::time::sleep(Duration::from_secs(2)).await;
        summary.rss_with_users_mb = Some(srv.mem().rss_mb);
        let (row, _) = measure(srv, &ctx, Op::ListUsersFilter, n, args, W_LISTUSERS, kind).await;
        let mut note = format!("{} users in the pool", seeding.created);
        if seeding.stopped.is_some() {
            note += " (seeding stopped early)";
        }
        report.rows.push(row.note(&note));
    }
    Ok(())
}

/// The user pool domain's OAuth endpoints and hosted sign-in page (Cognate only): client
/// credentials, code exchanges (codes minted before the timed part), the sign-in page at 1 and
/// N clients.
async fn oauth_workloads(kind: Kind, args: &Args, sel: &Selection, report: &mut Report, srv: &Running, ctx: &Arc<Ctx>) {
    let chosen = [
        ("oauth_client_credentials", W_OAUTH_CC),
        ("oauth_code_exchange", W_OAUTH_CODE),
        ("hosted_sign_in_page", W_LOGIN_PAGE),
    ];
    if !kind.is_cognate() {
        for (w, name) in chosen {
            if sel.has(w) {
                report.rows.push(Row::other(
                    name,
                    kind,
                    Status::Unsupported,
                    "not applicable: no user pool domain OAuth endpoints or hosted pages in this server",
                ));
            }
        }
        return;
    }
    let setup = match ctx.oauth.get() {
        Some(o) => Ok(o.clone()),
        None => oauth::setup(ctx).await.map(Arc::new),
    };
    let o = match setup {
        Ok(o) => {
            let _ = ctx.oauth.set(o.clone());
            o
        }
        Err(e) => {
            eprintln!("    OAuth setup failed: {e:#}");
            for (w, name) in chosen {
                if sel.has(w) {
                    report
                        .rows
                        .push(Row::other(name, kind, Status::Failed, &format!("setup: {e:#}")));
                }
            }
            return;
        }
    };
    let n = args.concurrency;
    if sel.has("oauth_client_credentials") {
        // The bound right before and right after the workload (the server idle), so that other
        // load on the machine falls on both alike; the ratio is against their mean.
        let before = signing_bound().await;
        let (row, outcome) = measure(srv, ctx, Op::ClientCredentials, n, args, W_OAUTH_CC, kind).await;
        let after = signing_bound().await;
        let mut note = "HTTP Basic, one resource-server scope; 1 RS256 signature per token".to_owned();
        match (before, after) {
            (Ok(b), Ok(a)) => {
                let bound = oauth::SigningBound::mean(&b, &a);
                note += &format!(
                    "; {:.0} % of the RS256 signing bound ({:.0}/s on {} threads: {:.0} before, {:.0} after)",
                    outcome.per_second() / bound.per_second * 100.0,
                    bound.per_second,
                    bound.threads,
                    b.per_second,
                    a.per_second
                );
                report.signing_bound = Some(bound);
            }
            (b, a) => {
                let e = b.err().or(a.err()).map(|e| format!("{e:#}")).unwrap_or_default();
                eprintln!("    measuring the RS256 signing bound failed: {e}");
            }
        }
        report.rows.push(row.note(&note));
    }
    if sel.has("oauth_code_exchange") {
        match code_exchange(kind, args, srv, ctx, &o).await {
            Ok(row) => report.rows.push(row),
            Err(e) => {
                eprintln!("    minting codes failed: {e:#}");
                report.rows.push(Row::other(
                    W_OAUTH_CODE,
                    kind,
                    Status::Failed,
                    &format!("minting codes: {e:#}"),
                ));
            }
        }
    }
    if sel.has("hosted_sign_in_page") {
        let (row, _) = measure(srv, ctx, Op::LoginPage, 1, args, W_LOGIN_PAGE_1, kind).await;
        report
            .rows
            .push(row.note("first visit (no cookies): a new CSRF token and cookie each time"));
        let (row, _) = measure(srv, ctx, Op::LoginPage, n, args, W_LOGIN_PAGE, kind).await;
        report.rows.push(row.note("first visit (no cookies)"));
    }
}

/// Choice-based sign-in without a password (Cognate only): an email code, and a passkey.
async fn passwordless_workloads(
    kind: Kind,
    args: &Args,
    sel: &Selection,
    report: &mut Report,
    srv: &Running,
    ctx: &Arc<Ctx>,
) {
    let chosen = [("user_auth_email_otp", W_EMAIL_OTP), ("webauthn_sign_in", W_WEBAUTHN)];
    if !kind.is_cognate() {
        for (w, name) in chosen {
            if sel.has(w) {
                report.rows.push(Row::other(
                    name,
                    kind,
                    Status::Unsupported,
                    "no choice-based sign-in (USER_AUTH) in this server",
                ));
            }
        }
        return;
    }
    let n = args.concurrency;
    eprintln!("  setting up the passwordless pool ({} users, {n} passkeys)", n * 16);
    if let Err(e) = passwordless::ensure(ctx, n).await {
        eprintln!("    passwordless setup failed: {e:#}");
        for (w, name) in chosen {
            if sel.has(w) {
                report
                    .rows
                    .push(Row::other(name, kind, Status::Failed, &format!("setup: {e:#}")));
            }
        }
        return;
    }
    if sel.has("user_auth_email_otp") {
        let (row, _) = measure(srv, ctx, Op::UserAuthEmailOtp, n, args, W_EMAIL_OTP, kind).await;
        report.rows.push(row.note(
            "1 op = 3 requests (InitiateAuth, GET /_cognate/code, RespondToAuthChallenge); no password hash; \
             16 users a client",
        ));
    }
    if sel.has("webauthn_sign_in") {
        let (row, _) = measure(srv, ctx, Op::WebAuthnSignIn, n, args, W_WEBAUTHN, kind).await;
        report.rows.push(row.note(
            "1 op = 2 requests; an ES256 assertion verified per sign-in (the harness signs it on the same cores); \
             one passkey a client",
        ));
    }
}

/// RS256 signatures/s on all cores (the server's tokio workers), for 1.5 s.
async fn signing_bound() -> anyhow::Result<oauth::SigningBound> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let bound =
        tokio::task::spawn_blocking(move || oauth::signing_bound(threads, Duration::from_millis(1500))).await??;
    eprintln!(
        "    RS256 signing bound: {:.0} signatures/s on {threads} threads ({:.0} µs each on one thread)",
        bound.per_second, bound.micros_each
    );
    Ok(bound)
}

/// Code exchanges, with codes minted before the timed part: a first stock, an unmeasured
/// second of exchanges to learn the pace, then enough codes for warm-up and measured time at
/// that pace and a third more.
async fn code_exchange(
    kind: Kind,
    args: &Args,
    srv: &Running,
    ctx: &Arc<Ctx>,
    o: &Arc<oauth::OAuth>,
) -> anyhow::Result<Row> {
    use std::sync::atomic::Ordering;
    let n = args.concurrency;
    let start = Instant::now();
    let mut minted = 2_000;
    eprintln!("  minting {minted} authorization codes to learn the exchange rate");
    o.mint_stock(ctx, minted, n).await?;
    let probe = load::run(ctx, Op::CodeExchange, n, Duration::ZERO, Duration::from_secs(1)).await;
    if probe.ops == 0 {
        bail!("no code exchange succeeded: {}", probe.first_error.unwrap_or_default());
    }
    let have = o.codes.lock().unwrap_or_else(|e| e.into_inner()).len();
    let want = (probe.per_second() * (args.warmup + args.duration).as_secs_f64() * 1.33).ceil() as usize;
    let more = want.saturating_sub(have);
    eprintln!(
        "    {:.0} exchanges/s; minting {more} more codes (GET /oauth2/authorize with the session cookie)",
        probe.per_second()
    );
    o.mint_stock(ctx, more, n).await?;
    minted += more;
    let took = start.elapsed().as_secs_f64() - probe.elapsed.as_secs_f64();
    let stock = o.codes.lock().unwrap_or_else(|e| e.into_inner()).len();
    eprintln!(
        "    {minted} codes minted in {took:.1} s ({:.0}/s), {stock} in stock",
        minted as f64 / took
    );
    o.minted_in_loop.store(0, Ordering::Relaxed);
    let (row, _) = measure(srv, ctx, Op::CodeExchange, n, args, W_OAUTH_CODE, kind).await;
    let in_loop = o.minted_in_loop.load(Ordering::Relaxed);
    let mut note = format!(
        "PKCE S256, public client; 2 RS256 signatures per exchange; {stock} codes minted before the timed part \
         ({minted} in all, {:.0}/s by GET /oauth2/authorize with the session cookie, {n} clients)",
        minted as f64 / took
    );
    if in_loop > 0 {
        note += &format!("; the stock ran out: {in_loop} codes minted inside the timed loop");
    }
    Ok(row.note(&note))
}

/// Sign-ins from one client on a fresh instance whose pool (8 users) has, or has not, a Node
/// PreTokenGeneration trigger. Returns the row, the outcome, and the RSS of the Node
/// process(es) running the handler.
async fn trigger_workload(kind: Kind, env: &Env, args: &Args, trigger: bool) -> anyhow::Result<(Row, Outcome, f64)> {
    let dir = env.fresh_dir(&format!("{kind:?}-trigger-{trigger}"))?;
    let mut aux: Option<Running> = None;
    let launch = match kind {
        _ if !trigger => Launch::main(kind, env, &dir)?,
        Kind::Cognate | Kind::CognatePg => {
            let mut l = Launch::main(kind, env, &dir)?;
            l.args.push("--config".into());
            l.args.push(env.trigger_fixture().display().to_string());
            l
        }
        Kind::CognitoLocal => {
            // cognito-local calls triggers through the Lambda Invoke API.
            let port = servers::free_port()?;
            let lambda = servers::start(Launch {
                program: "node".into(),
                args: vec![env.trigger_fixture().join("lambda-invoke.js").display().to_string()],
                envs: vec![("PORT".into(), port.to_string())],
                cwd: dir.clone(),
                ready_marker: "lambda listening on",
                port,
            })
            .await?;
            let config = json!({
                "LambdaClient": {
                    "endpoint": format!("http://127.0.0.1:{port}"),
                    "credentials": {"accessKeyId": "local", "secretAccessKey": "local"},
                    "region": "us-east-1",
                },
                "TriggerFunctions": {"PreTokenGeneration": "bench-dev-preTokenGeneration"},
            });
            let launch = Launch::main(kind, env, &dir)?;
            servers::write_cognito_local_config(&dir, config)?;
            aux = Some(lambda);
            launch
        }
        Kind::Moto => bail!("moto does not run triggers"),
    };
    let mut srv = servers::start(launch).await?;
    let result = async {
        let ctx = match kind {
            Kind::Cognate | Kind::CognatePg if trigger => {
                let id = Ctx::find_pool(srv.addr, "BenchTrigger").await?;
                Arc::new(Ctx::setup(srv.addr, "", Some(id)).await?)
            }
            _ => Arc::new(Ctx::setup(srv.addr, "BenchTrigger", None).await?),
        };
        ctx.ensure_users(8).await?;
        if trigger {
            check_trigger_claim(&ctx).await?;
        }
        let warm = Args {
            warmup: args.warmup.max(Duration::from_secs(1)),
            ..args.clone()
        };
        let name = if trigger { W_TRIGGER } else { W_PASSWORD_1 };
        let (row, outcome) = measure(&srv, &ctx, Op::PasswordSignIn, 1, &warm, name, kind).await;
        let node_rss = match &aux {
            Some(a) => a.mem().rss_mb,
            None => servers::children_rss_mb(srv.pid),
        };
        Ok::<_, anyhow::Error>((row, outcome, node_rss))
    }
    .await;
    srv.stop().await;
    if let Some(mut a) = aux {
        a.stop().await;
    }
    result
}

/// Rounds of the SigV4 comparison; each measures both instances for `--duration / ROUNDS`.
const SIGV4_ROUNDS: u32 = 6;

/// Measures signed AdminGetUser on both profiles in alternating rounds; returns the two rows
/// (every round of a profile together) and each round pair's production/development ratio.
async fn sigv4_rounds(kind: Kind, env: &Env, args: &Args) -> anyhow::Result<(Row, Row, Vec<f64>)> {
    let (mut dev_srv, dev_ctx) = sigv4_instance(kind, env, false).await?;
    let prod = sigv4_instance(kind, env, true).await;
    let (mut prod_srv, prod_ctx) = match prod {
        Ok(p) => p,
        Err(e) => {
            dev_srv.stop().await;
            return Err(e);
        }
    };
    let mut round_args = args.clone();
    round_args.duration = args.duration / SIGV4_ROUNDS;
    round_args.warmup = args.warmup.min(Duration::from_millis(500));
    let (mut dev_rounds, mut prod_rounds, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..SIGV4_ROUNDS {
        let mut pair = [None, None];
        // ABBA order: dev first in even rounds, production first in odd ones.
        for production in if round % 2 == 0 { [false, true] } else { [true, false] } {
            let (srv, ctx, name) = if production {
                (&prod_srv, &prod_ctx, W_SIGNED_PROD)
            } else {
                (&dev_srv, &dev_ctx, W_SIGNED_DEV)
            };
            let measured = measure(srv, ctx, Op::AdminGetUser, args.concurrency, &round_args, name, kind).await;
            pair[usize::from(production)] = Some(measured.1.per_second());
            if production {
                prod_rounds.push(measured);
            } else {
                dev_rounds.push(measured);
            }
        }
        if let [Some(d), Some(p)] = pair
            && d > 0.0
        {
            ratios.push(p / d);
        }
    }
    dev_srv.stop().await;
    prod_srv.stop().await;
    let dev = merge_rounds(W_SIGNED_DEV, kind, args.concurrency, dev_rounds);
    let prod = merge_rounds(W_SIGNED_PROD, kind, args.concurrency, prod_rounds);
    Ok((dev, prod, ratios))
}

/// One row for several measured rounds of a workload: their operations and latencies together,
/// the mean CPU and the highest RSS.
fn merge_rounds(workload: &str, kind: Kind, concurrency: usize, rounds: Vec<(Row, Outcome)>) -> Row {
    let mut all = Outcome::default();
    let mut cpu = (0.0, 0.0, 0usize);
    let mut peak: Option<f64> = None;
    for (row, o) in rounds {
        all.ops += o.ops;
        all.errors += o.errors;
        all.elapsed += o.elapsed;
        all.latencies_us.extend(o.latencies_us);
        if all.first_error.is_none() {
            all.first_error = o.first_error;
        }
        cpu.0 += row.server_cpu_pct.unwrap_or(0.0);
        cpu.1 += row.client_cpu_pct.unwrap_or(0.0);
        cpu.2 += 1;
        peak = match (peak, row.peak_rss_mb) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }
    all.latencies_us.sort_unstable();
    let mut row = Row::measured(workload, kind, concurrency, &all);
    if cpu.2 > 0 {
        row.server_cpu_pct = Some(cpu.0 / cpu.2 as f64);
        row.client_cpu_pct = Some(cpu.1 / cpu.2 as f64);
    }
    row.peak_rss_mb = peak;
    row
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => 1.0,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// A fresh instance for signed AdminGetUser calls (64 users), in the development profile
/// (signatures accepted unchecked) or the production profile (each one verified;
/// `--quotas off`, which production would otherwise turn on, and `--metrics`, which development
/// has, so that the signature check is the only difference).
async fn sigv4_instance(kind: Kind, env: &Env, production: bool) -> anyhow::Result<(Running, Arc<Ctx>)> {
    let dir = env.fresh_dir(&format!("{kind:?}-sigv4-{production}"))?;
    let signer = Arc::new(client::Signer {
        key_id: "AKIDBENCHMARKSIGV4".into(),
        secret: "bench/Secret+Access/Key0123456789abcdefgh".into(),
        region: "us-east-1".into(),
    });
    let mut launch = Launch::main(kind, env, &dir)?;
    if production {
        let keys = dir.join("access-keys");
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&keys)
                .with_context(|| format!("creating {}", keys.display()))?;
            writeln!(f, "{} {}", signer.key_id, signer.secret)?;
        }
        for a in [
            "--profile",
            "production",
            "--quotas",
            "off",
            "--metrics",
            "--access-keys",
        ] {
            launch.args.push(a.into());
        }
        launch.args.push(keys.display().to_string());
    }
    let mut srv = servers::start(launch).await?;
    let pool = if production { "bench-prod" } else { "bench-dev" };
    let setup = async {
        let ctx = Arc::new(Ctx::setup_signed(srv.addr, pool, None, Some(signer)).await?);
        ctx.ensure_users(64).await?;
        Ok::<_, anyhow::Error>(ctx)
    }
    .await;
    match setup {
        Ok(ctx) => Ok((srv, ctx)),
        Err(e) => {
            srv.stop().await;
            Err(e)
        }
    }
}

/// Signs in once and checks the ID token carries the trigger's claim.
async fn check_trigger_claim(ctx: &Ctx) -> anyhow::Result<()> {
    let user = ctx.users.lock().unwrap_or_else(|e| e.into_inner())[0].clone();
    let mut c = client::Client::new(ctx.addr);
    let out = c
        .call(
            "InitiateAuth",
            &json!({
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": ctx.client_id,
                "AuthParameters": {"USERNAME": user, "PASSWORD": load::PASSWORD},
            }),
            false,
        )
        .await?;
    let id_token = out["AuthenticationResult"]["IdToken"].as_str().context("no IdToken")?;
    let payload = id_token.split('.').nth(1).context("IdToken is not a JWT")?;
    let claims: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload.trim_end_matches('='))
            .context("IdToken payload")?,
    )?;
    if claims["bench_tier"] != "gold" {
        bail!("the PreTokenGeneration trigger did not run (no bench_tier claim in the ID token)");
    }
    Ok(())
}
