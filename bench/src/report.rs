//! The results: a Markdown report (tables) and the same figures as JSON.
use crate::load::Outcome;
use crate::oauth::SigningBound;
use crate::servers::Kind;
use crate::{W_GETUSER, W_LISTUSERS, W_LOGIN_PAGE_1, W_OAUTH_CC, W_PASSWORD, W_REFRESH, W_SIGNED_DEV, W_SIGNED_PROD};
use serde::Serialize;
use serde_json::{Value, json};
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Ok,
    Unsupported,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub workload: String,
    pub server: Kind,
    pub status: Status,
    pub concurrency: usize,
    pub ops: u64,
    pub errors: u64,
    pub seconds: f64,
    pub ops_per_s: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub peak_rss_mb: Option<f64>,
    /// Server CPU over the measured window, % of one core (200 % = both cores).
    pub server_cpu_pct: Option<f64>,
    /// The load generator's own CPU, % of one core.
    pub client_cpu_pct: Option<f64>,
    pub first_error: Option<String>,
    pub note: String,
}

impl Row {
    pub fn measured(workload: &str, server: Kind, concurrency: usize, o: &Outcome) -> Self {
        let status = if o.ops == 0 { Status::Failed } else { Status::Ok };
        Row {
            workload: workload.into(),
            server,
            status,
            concurrency,
            ops: o.ops,
            errors: o.errors,
            seconds: o.elapsed.as_secs_f64(),
            ops_per_s: (o.ops > 0).then(|| o.per_second()),
            p50_ms: o.percentile_ms(50.0),
            p99_ms: o.percentile_ms(99.0),
            peak_rss_mb: None,
            server_cpu_pct: None,
            client_cpu_pct: None,
            first_error: o.first_error.clone(),
            note: String::new(),
        }
    }

    pub fn other(workload: &str, server: Kind, status: Status, note: &str) -> Self {
        Row {
            workload: workload.into(),
            server,
            status,
            concurrency: 0,
            ops: 0,
            errors: 0,
            seconds: 0.0,
            ops_per_s: None,
            p50_ms: None,
            p99_ms: None,
            peak_rss_mb: None,
            server_cpu_pct: None,
            client_cpu_pct: None,
            first_error: None,
            note: note.into(),
        }
    }

    pub fn note(mut self, note: &str) -> Self {
        if !note.is_empty() {
            if !self.note.is_empty() {
                self.note += "; ";
            }
            self.note += note;
        }
        self
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SeedFigures {
    pub target: usize,
    pub created: usize,
    pub seconds: f64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub stopped: Option<String>,
    pub peak_rss_mb: f64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TriggerFigures {
    pub baseline_p50_ms: Option<f64>,
    pub baseline_p99_ms: Option<f64>,
    pub trigger_p50_ms: Option<f64>,
    pub trigger_p99_ms: Option<f64>,
    /// RSS of the Node process(es) running the handler (not in the server's figures).
    pub node_rss_mb: Option<f64>,
}

impl TriggerFigures {
    pub fn added_p50_ms(&self) -> Option<f64> {
        Some(self.trigger_p50_ms? - self.baseline_p50_ms?)
    }
    pub fn added_p99_ms(&self) -> Option<f64> {
        Some(self.trigger_p99_ms? - self.baseline_p99_ms?)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ServerSummary {
    pub server: Kind,
    pub label: &'static str,
    pub version: String,
    pub password_hashing: String,
    pub ready_ms: Option<f64>,
    pub idle_rss_mb: Option<f64>,
    pub rss_with_users_mb: Option<f64>,
    /// Started again on the seeded data: ready time and RSS 1 s later.
    pub restart_ready_ms: Option<f64>,
    pub restart_rss_mb: Option<f64>,
    pub restart_error: Option<String>,
    pub seed: Option<SeedFigures>,
    pub trigger: Option<TriggerFigures>,
}

impl ServerSummary {
    pub fn new(server: Kind, version: String, password_hashing: String) -> Self {
        ServerSummary {
            server,
            label: server.label(),
            version,
            password_hashing,
            ready_ms: None,
            idle_rss_mb: None,
            rss_with_users_mb: None,
            restart_ready_ms: None,
            restart_rss_mb: None,
            restart_error: None,
            seed: None,
            trigger: None,
        }
    }
}

pub struct Report {
    pub machine: Value,
    pub settings: Value,
    pub servers: Vec<ServerSummary>,
    pub rows: Vec<Row>,
    pub failures: Vec<String>,
    /// RS256 signatures/s of this machine, measured in-process before the servers ran.
    pub signing_bound: Option<SigningBound>,
}

fn num(v: f64) -> String {
    // Thousands separators for the integer part.
    let rounded = v.round() as i64;
    let digits = rounded.abs().to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    if rounded < 0 { format!("-{out}") } else { out }
}

fn rate(v: f64) -> String {
    if v < 100.0 { format!("{v:.1}") } else { num(v) }
}

fn ms(v: f64) -> String {
    if v.abs() < 10.0 {
        format!("{v:.2}")
    } else if v.abs() < 100.0 {
        format!("{v:.1}")
    } else {
        num(v)
    }
}

fn mb(v: f64) -> String {
    format!("{v:.1}")
}

fn opt(v: Option<f64>, f: fn(f64) -> String) -> String {
    v.map(f).unwrap_or_else(|| "—".into())
}

impl Report {
    pub fn new(machine: Value, settings: Value) -> Self {
        Report {
            machine,
            settings,
            servers: Vec::new(),
            rows: Vec::new(),
            failures: Vec::new(),
            signing_bound: None,
        }
    }

    fn row(&self, workload: &str, server: Kind) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.workload == workload && r.server == server && r.status == Status::Ok)
    }

    pub fn to_json(&self) -> Value {
        json!({
            "machine": self.machine,
            "settings": self.settings,
            "servers": self.servers,
            "results": self.rows,
            "rs256_signing_bound": self.signing_bound,
            "goals": self.goals().iter().map(|g| json!({
                "goal": g.name,
                "target": g.target,
                "values": g.values.iter().map(|(k, v, met)| json!({"server": k, "value": v, "met": met})).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "failures": self.failures,
        })
    }

    pub fn markdown(&self, command: &str) -> String {
        let mut s = String::new();
        let m = &self.machine;
        let st = &self.settings;
        let _ = writeln!(s, "## Benchmark results\n");
        let _ = writeln!(
            s,
            "Machine: {} ({} cores), {} GiB RAM, {}, Linux {}; all traffic on loopback.",
            m["cpu"].as_str().unwrap_or("?"),
            m["cores"],
            m["memory_gib"],
            m["os"].as_str().unwrap_or("?"),
            m["kernel"].as_str().unwrap_or("?"),
        );
        let mut versions: Vec<String> = Vec::new();
        for x in &self.servers {
            if !versions.contains(&x.version) {
                versions.push(x.version.clone());
            }
        }
        let _ = writeln!(
            s,
            "Versions: {}; {}; {}.",
            versions.join(", "),
            m["node"].as_str().unwrap_or("node ?"),
            m["python"].as_str().unwrap_or("python ?"),
        );
        if let Some(c) = m["cognate_commit"].as_str() {
            let _ = writeln!(s, "Cognate built from commit {c}.");
        }
        let _ = writeln!(s, "Command: `{command}`\n");
        if let Some(b) = &self.signing_bound {
            let _ = writeln!(
                s,
                "RS256 signing bound (measured in the harness right before and right after the client_credentials workload, \
                 the server idle; `cognate_crypto::jwt`, one \
                 RSA-2048 key, {} threads for {:.1} s): {} signatures/s ({:.0} µs each on one thread).\n",
                b.threads,
                b.seconds,
                num(b.per_second),
                b.micros_each
            );
        }
        let _ = writeln!(
            s,
            "Each workload: {} s warm-up, then {} s measured; {} concurrent clients unless the row says 1 client, \
             each with its own keep-alive connection, each sending its next request when the last is answered, \
             from the harness process ({} load-generator thread). ops/s counts successful operations. \
             Peak RSS is the server process's VmHWM during the workload. CPU is the server's, % of one core \
             (200 % = the whole machine, shared with the load generator).\n",
            st["warmup_s"], st["duration_s"], st["concurrency"], st["client_threads"],
        );
        let _ = writeln!(
            s,
            "| Workload | Server | ops/s | p50 ms | p99 ms | peak RSS MB | server CPU | errors | notes |"
        );
        let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|---:|---|");
        for r in &self.rows {
            let workload = &r.workload;
            let (ops, p50, p99, rss, cpu, errors) = match r.status {
                Status::Ok => (
                    opt(r.ops_per_s, rate),
                    opt(r.p50_ms, ms),
                    opt(r.p99_ms, ms),
                    opt(r.peak_rss_mb, mb),
                    r.server_cpu_pct.map(|c| format!("{c:.0} %")).unwrap_or_default(),
                    r.errors.to_string(),
                ),
                Status::Unsupported => (
                    "unsupported".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                ),
                Status::Failed => (
                    "failed".into(),
                    String::new(),
                    String::new(),
                    String::new(),
                    String::new(),
                    r.errors.to_string(),
                ),
            };
            let mut note = r.note.clone();
            if let Some(e) = &r.first_error {
                let e: String = e.chars().take(120).collect();
                note += &format!("{}first error: {}", if note.is_empty() { "" } else { "; " }, e);
            }
            let _ = writeln!(
                s,
                "| {workload} | {} | {ops} | {p50} | {p99} | {rss} | {cpu} | {errors} | {} |",
                r.server.label(),
                note.replace('|', "\\|")
            );
        }

        // Startup, memory, seeding, trigger.
        let _ = writeln!(s, "\n### Startup, memory, seeding, triggers\n");
        let mut header = String::from("| Figure |");
        let mut rule = String::from("|---|");
        for x in &self.servers {
            header += &format!(" {} |", x.label);
            rule += "---:|";
        }
        let _ = writeln!(s, "{header}\n{rule}");
        let line = |name: &str, f: &dyn Fn(&ServerSummary) -> String| {
            let mut l = format!("| {name} |");
            for x in &self.servers {
                l += &format!(" {} |", f(x));
            }
            l
        };
        let _ = writeln!(
            s,
            "{}",
            line("Ready: process start → listening (ms)", &|x| opt(x.ready_ms, ms))
        );
        let _ = writeln!(s, "{}", line("Idle RSS (MB)", &|x| opt(x.idle_rss_mb, mb)));
        let users = st["users"].as_u64().unwrap_or(0) as f64;
        let _ = writeln!(
            s,
            "{}",
            line(&format!("RSS with {} users (MB)", num(users)), &|x| {
                match (&x.seed, x.rss_with_users_mb) {
                    (Some(seed), Some(v)) if seed.created < seed.target => {
                        format!("{} (with {} users)", mb(v), num(seed.created as f64))
                    }
                    (_, v) => opt(v, mb),
                }
            })
        );
        let _ = writeln!(
            s,
            "{}",
            line("Restarted on that data: ready (ms) / RSS (MB)", &|x| {
                match (x.restart_ready_ms, x.restart_rss_mb) {
                    (Some(r), Some(m)) => format!("{} / {}", ms(r), mb(m)),
                    _ if x.restart_error.is_some() => {
                        format!(
                            "failed: {}",
                            x.restart_error.as_deref().unwrap_or_default().replace('|', "\\|")
                        )
                    }
                    _ if x.seed.is_some() && x.server == Kind::Moto => "n/a (keeps nothing)".into(),
                    _ => "—".into(),
                }
            })
        );
        let _ = writeln!(
            s,
            "{}",
            line(
                &format!("Seeding {} users, AdminCreateUser", num(users)),
                &|x| match &x.seed {
                    Some(seed) => {
                        let mut t = format!(
                            "{} s ({}/s)",
                            rate(seed.seconds),
                            rate(seed.created as f64 / seed.seconds.max(0.001))
                        );
                        if seed.created < seed.target {
                            t += &format!(", stopped at {}", num(seed.created as f64));
                        }
                        if seed.errors > 0 {
                            t += &format!(", {} errors", seed.errors);
                        }
                        t
                    }
                    None => "—".into(),
                }
            )
        );
        let _ = writeln!(
            s,
            "{}",
            line("Peak RSS while seeding (MB)", &|x| opt(
                x.seed.as_ref().map(|v| v.peak_rss_mb),
                mb
            ))
        );
        let _ = writeln!(
            s,
            "{}",
            line("Warm Node trigger: sign-in p50 added (ms)", &|x| match &x.trigger {
                Some(t) => opt(t.added_p50_ms(), |v| format!("{v:+.2}")),
                None => "unsupported".into(),
            })
        );
        let _ = writeln!(
            s,
            "{}",
            line("Warm Node trigger: sign-in p99 added (ms)", &|x| match &x.trigger {
                Some(t) => opt(t.added_p99_ms(), |v| format!("{v:+.2}")),
                None => "unsupported".into(),
            })
        );
        let _ = writeln!(
            s,
            "{}",
            line(
                "Node trigger process RSS, not counted above (MB)",
                &|x| match &x.trigger {
                    Some(t) => opt(t.node_rss_mb, mb),
                    None => "—".into(),
                }
            )
        );
        let _ = writeln!(s, "{}", line("Password hashing", &|x| x.password_hashing.clone()));

        // Goals.
        let _ = writeln!(s, "\n### Goals (this machine, loopback)\n");
        let mut header = String::from("| Goal | Target |");
        let mut rule = String::from("|---|---|");
        for x in &self.servers {
            header += &format!(" {} |", x.label);
            rule += "---:|";
        }
        let _ = writeln!(s, "{header}\n{rule}");
        for g in self.goals() {
            let mut l = format!("| {} | {} |", g.name, g.target);
            for x in &self.servers {
                let cell = g
                    .values
                    .iter()
                    .find(|(k, _, _)| *k == x.server)
                    .map(|(_, v, met)| match (v, met) {
                        (Some(v), Some(true)) => format!("{v} ✓"),
                        (Some(v), Some(false)) => format!("{v} ✗"),
                        (Some(v), None) => v.clone(),
                        (None, _) => "—".into(),
                    })
                    .unwrap_or_else(|| "—".into());
                l += &format!(" {cell} |");
            }
            let _ = writeln!(s, "{l}");
        }

        // What is not supported.
        let _ = writeln!(s, "\n### Not supported or not run\n");
        for r in self.rows.iter().filter(|r| r.status != Status::Ok) {
            let what = if r.status == Status::Unsupported {
                "unsupported"
            } else {
                "failed"
            };
            let _ = writeln!(s, "- {}: {} — {what}: {}", r.server.label(), r.workload, r.note);
        }
        for f in &self.failures {
            let _ = writeln!(s, "- failed: {f}");
        }
        s
    }

    fn goals(&self) -> Vec<Goal> {
        let mut goals = Vec::new();
        let kinds: Vec<Kind> = self.servers.iter().map(|x| x.server).collect();
        let throughput = |workload: &str, min: f64| -> Vec<(Kind, Option<String>, Option<bool>)> {
            kinds
                .iter()
                .map(|&k| {
                    let v = self.row(workload, k).and_then(|r| r.ops_per_s);
                    (k, v.map(rate), v.map(|v| v >= min))
                })
                .collect()
        };
        goals.push(Goal {
            name: "Password sign-ins/s (USER_PASSWORD_AUTH)".into(),
            target: "≥ 120".into(),
            values: throughput(W_PASSWORD, 120.0),
        });
        goals.push(Goal {
            name: "GetUser requests/s".into(),
            target: "≥ 3,000".into(),
            values: throughput(W_GETUSER, 3000.0),
        });
        goals.push(Goal {
            name: "REFRESH_TOKEN_AUTH requests/s".into(),
            target: "≥ 3,000".into(),
            values: throughput(W_REFRESH, 3000.0),
        });
        goals.push(Goal {
            name: "Warm Node trigger, added p50 per sign-in".into(),
            target: "< 2 ms".into(),
            values: self
                .servers
                .iter()
                .map(|x| {
                    let v = x.trigger.as_ref().and_then(TriggerFigures::added_p50_ms);
                    (x.server, v.map(|v| format!("{v:+.2} ms")), v.map(|v| v < 2.0))
                })
                .collect(),
        });
        goals.push(Goal {
            name: "Ready (process start → listening)".into(),
            target: "< 200 ms".into(),
            values: self
                .servers
                .iter()
                .map(|x| {
                    (
                        x.server,
                        x.ready_ms.map(|v| format!("{} ms", ms(v))),
                        x.ready_ms.map(|v| v < 200.0),
                    )
                })
                .collect(),
        });
        goals.push(Goal {
            name: "Idle RSS".into(),
            target: "< 30 MB".into(),
            values: self
                .servers
                .iter()
                .map(|x| {
                    (
                        x.server,
                        x.idle_rss_mb.map(|v| format!("{} MB", mb(v))),
                        x.idle_rss_mb.map(|v| v < 30.0),
                    )
                })
                .collect(),
        });
        let target_users = self.settings["users"].as_u64().unwrap_or(0) as usize;
        goals.push(Goal {
            name: format!("ListUsers with a filter on {} users, p50", num(target_users as f64)),
            target: "< 20 ms".into(),
            values: self
                .servers
                .iter()
                .map(|x| {
                    let v = self.row(W_LISTUSERS, x.server).and_then(|r| r.p50_ms);
                    let full = x.seed.as_ref().is_some_and(|s| s.created >= s.target);
                    let text = v.map(|v| {
                        if full {
                            format!("{} ms", ms(v))
                        } else {
                            format!(
                                "{} ms (on {} users)",
                                ms(v),
                                num(x.seed.as_ref().map_or(0, |s| s.created) as f64)
                            )
                        }
                    });
                    (x.server, text, v.map(|v| v < 20.0 && full))
                })
                .collect(),
        });
        // client_credentials against the RS256 signing bound (one signature per token).
        if let Some(b) = &self.signing_bound {
            let cc: Vec<_> = kinds
                .iter()
                .map(|&k| {
                    let v = self.row(W_OAUTH_CC, k).and_then(|r| r.ops_per_s);
                    let pct = v.map(|v| v / b.per_second * 100.0);
                    (
                        k,
                        v.zip(pct)
                            .map(|(v, p)| format!("{p:.0} % ({} of {}/s)", rate(v), num(b.per_second))),
                        pct.map(|p| p >= 85.0),
                    )
                })
                .collect();
            if cc.iter().any(|(_, v, _)| v.is_some()) {
                goals.push(Goal {
                    name: "client_credentials tokens/s, against the RS256 signing bound".into(),
                    target: "≥ 85 %".into(),
                    values: cc,
                });
            }
        }
        let login: Vec<_> = kinds
            .iter()
            .map(|&k| {
                let v = self.row(W_LOGIN_PAGE_1, k).and_then(|r| r.p50_ms);
                (k, v.map(|v| format!("{} ms", ms(v))), v.map(|v| v < 2.0))
            })
            .collect();
        if login.iter().any(|(_, v, _)| v.is_some()) {
            goals.push(Goal {
                name: "Hosted sign-in page (GET /login), p50, 1 client".into(),
                target: "< 2 ms".into(),
                values: login,
            });
        }
        // The cost of verifying SigV4: signed AdminGetUser/s, production against development.
        let sigv4: Vec<_> = kinds
            .iter()
            .map(|&k| {
                let dev = self.row(W_SIGNED_DEV, k).and_then(|r| r.ops_per_s);
                let prod = self.row(W_SIGNED_PROD, k).and_then(|r| r.ops_per_s);
                let slower = match (dev, prod) {
                    (Some(d), Some(p)) if d > 0.0 => Some((1.0 - p / d) * 100.0),
                    _ => None,
                };
                (k, slower.map(|v| format!("{v:.1} % slower")), slower.map(|v| v < 10.0))
            })
            .collect();
        if sigv4.iter().any(|(_, v, _)| v.is_some()) {
            goals.push(Goal {
                name: "SigV4 verification: signed AdminGetUser/s, production against development profile".into(),
                target: "< 10 % slower".into(),
                values: sigv4,
            });
        }
        goals
    }
}

struct Goal {
    name: String,
    target: String,
    values: Vec<(Kind, Option<String>, Option<bool>)>,
}

async fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let o = tokio::process::Command::new(cmd).args(args).output().await.ok()?;
    let mut t = String::from_utf8_lossy(&o.stdout).trim().to_owned();
    if t.is_empty() {
        t = String::from_utf8_lossy(&o.stderr).trim().to_owned();
    }
    (!t.is_empty()).then_some(t)
}

/// What this machine is.
pub async fn machine() -> Value {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_owned())
        .unwrap_or_else(|| "?".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    let os = std::fs::read_to_string("/etc/os-release")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_else(|| "?".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_owned();
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
    let commit = output("git", &["-C", root, "rev-parse", "--short", "HEAD"]).await;
    let dirty = output("git", &["-C", root, "status", "--porcelain", "--untracked-files=no"])
        .await
        .is_some();
    json!({
        "cognate_commit": commit.map(|c| if dirty { format!("{c} + uncommitted changes") } else { c }),
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "memory_gib": (mem_kb / 1024.0 / 1024.0).round(),
        "os": os,
        "kernel": kernel,
        "node": output("node", &["--version"]).await.map(|v| format!("Node {v}")),
        "python": output("python3", &["--version"]).await,
    })
}
