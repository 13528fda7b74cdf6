//! The `cognate` command line.
use crate::{ServeOptions, Storage};
use clap::{Parser, Subcommand};
use cognate_server::cognate_config;
use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "cognate",
    version,
    about = "A self-hosted user pool server, wire-compatible with Amazon Cognito User Pools"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the server.
    Serve(Box<ServeArgs>),
    /// Check a serverless.yml the way Serverless Framework v3 does.
    Validate(ConfigArgs),
    /// Print the CloudFormation template Serverless Framework v3 would generate.
    Package(ConfigArgs),
    /// Copy a data folder's database while the server runs (one consistent snapshot), with its
    /// master key beside it as FILE.master.key.
    Backup(BackupArgs),
    /// Put a backup into a data folder that has no database (the server must not be running on
    /// it); its master key goes with it.
    Restore(BackupArgs),
}

#[derive(clap::Args, Debug)]
struct BackupArgs {
    /// The data folder (`serve --data`).
    #[arg(long, default_value = ".cognate")]
    data: PathBuf,
    /// The backup file.
    file: PathBuf,
}

#[derive(clap::Args, Debug)]
struct ConfigArgs {
    /// A serverless.yml, or a folder holding one.
    #[arg(long)]
    config: PathBuf,
    #[arg(long)]
    stage: Option<String>,
    #[arg(long)]
    region: Option<String>,
}

fn load_options(args: &ConfigArgs) -> cognate_config::LoadOptions {
    cognate_config::LoadOptions {
        stage: args.stage.clone(),
        region: args.region.clone(),
        ..Default::default()
    }
}

/// Prints what a one-shot command did, or its error; the exit code says which.
fn report(result: anyhow::Result<String>) -> ExitCode {
    match result {
        Ok(done) => {
            println!("{done}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// `cognate validate`: Serverless's messages, warnings on stderr, exit 1 on an error.
fn validate(args: &ConfigArgs) -> ExitCode {
    let report = cognate_config::validate(&args.config, &load_options(args));
    let err = report.render_stderr();
    if !err.is_empty() {
        eprint!("{err}");
    }
    // Cognate's own check, beyond what Serverless validates: handler files that do not exist.
    if report.is_ok()
        && let Ok(project) = cognate_config::load(&args.config, &load_options(args))
    {
        for missing in project.missing_handler_files() {
            eprintln!("Warning: {missing}");
        }
    }
    let out = report.render_stdout();
    if !out.is_empty() {
        print!("{out}");
    }
    if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(report.exit_code().clamp(1, 255) as u8)
    }
}

/// `cognate package`: the template on stdout.
fn package(args: &ConfigArgs) -> ExitCode {
    let report = cognate_config::validate(&args.config, &load_options(args));
    if !report.is_ok() {
        return validate(args);
    }
    let result = cognate_config::load(&args.config, &load_options(args))
        .and_then(|p| cognate_config::package(&p, &cognate_config::PackageOptions::default()));
    match result {
        Ok(template) => {
            let warnings = report.render_stderr();
            if !warnings.is_empty() {
                eprint!("{warnings}");
            }
            println!("{}", cognate_config::to_template_string(&template));
            ExitCode::SUCCESS
        }
        Err(e) => {
            print!("{}", e.render_cli());
            ExitCode::FAILURE
        }
    }
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// A serverless.yml (or a folder holding one) declaring pools and triggers.
    #[arg(long)]
    config: Option<PathBuf>,
    #[arg(long, default_value = "dev")]
    stage: String,
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// A name requests may carry in their Host header besides loopback ones (repeatable; e.g. a
    /// docker-compose service name). On a loopback --host only loopback names and these are
    /// served (DNS rebinding); elsewhere, any name unless this is given.
    #[arg(
        long = "allowed-host",
        value_name = "NAME",
        env = "COGNATE_ALLOWED_HOSTS",
        value_delimiter = ','
    )]
    allowed_host: Vec<String>,
    #[arg(long, env = "COGNATE_PORT", default_value_t = 9339)]
    port: u16,
    /// Keep data in a SQLite database in this folder.
    #[arg(long, conflicts_with_all = ["memory", "database"])]
    data: Option<PathBuf>,
    /// Keep nothing: every restart starts empty.
    #[arg(long, conflicts_with_all = ["data", "database"])]
    memory: bool,
    /// A database URL: postgres://user@host/db (several nodes may share it) or
    /// sqlite:///path/to/file.db.
    #[arg(long, conflicts_with_all = ["data", "memory"])]
    database: Option<String>,
    #[arg(long, default_value = "us-east-1")]
    region: String,
    #[arg(long, default_value = "123456789012")]
    account: String,
    /// Issue tokens with AWS's issuer (https://cognito-idp.REGION.amazonaws.com/POOL_ID)
    /// instead of this server's URL.
    #[arg(long)]
    aws_issuer: bool,
    /// The URL clients reach Cognate at behind a proxy or load balancer, scheme://host[:port]
    /// (e.g. https://auth.example.com): tokens' issuer becomes URL/POOL_ID (unless
    /// --aws-issuer), and discovery and pages point there.
    #[arg(long, env = "COGNATE_PUBLIC_URL", value_name = "URL")]
    public_url: Option<String>,
    /// Serve HTTPS with this certificate chain (PEM, the server's certificate first); needs
    /// --tls-key.
    #[arg(
        long,
        env = "COGNATE_TLS_CERT",
        value_name = "FILE",
        requires = "tls_key",
        conflicts_with = "tls_dev"
    )]
    tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "COGNATE_TLS_KEY", value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve HTTPS with a development certificate: a certificate authority made once and kept in
    /// DATA/tls (with --memory or --database: $XDG_DATA_HOME/cognate/tls, else
    /// ~/.local/share/cognate/tls); trust its ca.pem in your clients (see README: HTTPS).
    #[arg(long)]
    tls_dev: bool,
    /// `development` records email and SMS in the outbox (GET /_cognate/messages);
    /// `production` delivers them (SMTP, SMS webhook).
    #[arg(long, default_value = "development", value_parser = ["development", "production"])]
    profile: String,
    /// SMTP server for the production profile: smtp://[user:pass@]host[:port],
    /// smtp+starttls://… or smtps://….
    #[arg(long, env = "COGNATE_SMTP_URL")]
    smtp_url: Option<String>,
    /// The From address of emails.
    #[arg(long, env = "COGNATE_SMTP_FROM", default_value = "no-reply@verificationemail.com")]
    smtp_from: String,
    /// SMS delivery for the production profile: messages are POSTed as JSON
    /// ({"to","body","pool_id","trigger_source"}) to this URL.
    #[arg(long, env = "COGNATE_SMS_WEBHOOK")]
    sms_webhook: Option<String>,
    /// Access keys for signed operations (required by the production profile): one a line,
    /// `ACCESS_KEY_ID SECRET_ACCESS_KEY [POOL_ID …]`; re-read when it changes; must not be
    /// readable by other users (chmod 600).
    #[arg(long, env = "COGNATE_ACCESS_KEYS", value_name = "FILE")]
    access_keys: Option<PathBuf>,
    /// Cognito's request-rate quotas per pool (TooManyRequestsException: Rate exceeded): `aws`
    /// enforces AWS's default rates, `off` none. Default: `aws` in the production profile,
    /// `off` in the development profile.
    #[arg(long, value_parser = ["aws", "off"])]
    quotas: Option<String>,
    /// Another rate for one quota category, e.g. `--quota UserAuthentication=500` (repeatable;
    /// implies `--quotas aws` unless `--quotas off` is given).
    #[arg(long = "quota", value_name = "CATEGORY=RPS")]
    quota: Vec<String>,
    /// Seconds a request has to arrive and be answered: a connection whose request head has not
    /// arrived by then (or idle that long) is closed, a request whose body and answer take
    /// longer is answered 408.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    request_timeout: f64,
    /// Connections open at once; further ones wait until one closes.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    max_connections: usize,
    /// The largest request head (request line and headers), in bytes; larger ones get 431.
    #[arg(long, value_name = "BYTES", default_value_t = 16384)]
    max_header_bytes: usize,
    /// Serve Prometheus metrics at GET /metrics in the production profile too (the development
    /// profile always does). Keep the endpoint away from the public network.
    #[arg(long)]
    metrics: bool,
    /// argon2id parameters for new password hashes (PHC syntax). Default m=7168,t=5,p=1,
    /// one of OWASP's recommended sets; m=19456,t=2,p=1 is another.
    #[arg(long, value_name = "m=KIB,t=N,p=N")]
    argon2: Option<String>,
}

pub fn main_with_args<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("COGNATE_LOG").unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match &cli.command {
        Command::Validate(args) => return validate(args),
        Command::Package(args) => return package(args),
        Command::Backup(args) => return report(crate::backup::backup(&args.data, &args.file)),
        Command::Restore(args) => return report(crate::backup::restore(&args.data, &args.file)),
        Command::Serve(_) => {}
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match cli.command {
        Command::Serve(args) => runtime.block_on(serve(*args)),
        Command::Validate(_) | Command::Package(_) | Command::Backup(_) | Command::Restore(_) => {
            unreachable!("handled before the runtime starts")
        }
    }
}

async fn serve(args: ServeArgs) -> ExitCode {
    let storage = if args.memory {
        Storage::Memory
    } else if let Some(url) = args.database {
        Storage::Database(url)
    } else {
        Storage::Data(args.data.unwrap_or_else(|| PathBuf::from(".cognate")))
    };
    let smtp = match args
        .smtp_url
        .as_deref()
        .map(|u| cognate_server::delivery::SmtpSettings::from_url(u, &args.smtp_from))
    {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let hash_params = match args.argon2.as_deref().map(cognate_server::HashParams::parse) {
        None => cognate_server::HashParams::default(),
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            eprintln!("error: --argon2: {e}");
            return ExitCode::FAILURE;
        }
    };
    let production = args.profile == "production";
    if !(args.request_timeout.is_finite() && args.request_timeout > 0.0 && args.request_timeout <= 86_400.0) {
        eprintln!("error: --request-timeout must be a number of seconds between 0 and 86400");
        return ExitCode::FAILURE;
    }
    if args.max_connections == 0 || args.max_header_bytes < 1024 {
        eprintln!("error: --max-connections must be at least 1 and --max-header-bytes at least 1024");
        return ExitCode::FAILURE;
    }
    let limits = cognate_server::Limits {
        request_timeout: std::time::Duration::from_secs_f64(args.request_timeout),
        max_connections: args.max_connections,
        max_header_bytes: args.max_header_bytes,
    };
    let quotas = match args.quotas.as_deref() {
        Some("off") => None,
        Some(_) => Some(cognate_core::quotas::QuotaSettings::default()),
        None if production || !args.quota.is_empty() => Some(cognate_core::quotas::QuotaSettings::default()),
        None => None,
    };
    let quotas = match quotas {
        Some(mut settings) => {
            for spec in &args.quota {
                if let Err(e) = settings.set_from_str(spec) {
                    eprintln!("error: --quota {e}");
                    return ExitCode::FAILURE;
                }
            }
            Some(settings)
        }
        None => None,
    };
    // The environment is read here, in the binary; the library takes the key as an option.
    let master_key = match std::env::var("COGNATE_MASTER_KEY") {
        Ok(hex) => match cognate_server::parse_master_key(&hex) {
            Ok(key) => Some(key),
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::FAILURE;
            }
        },
        Err(_) => None,
    };
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(cognate_server::TlsSource::Files { cert, key }),
        _ if args.tls_dev => Some(cognate_server::TlsSource::Development { dir: None }),
        _ => None,
    };
    let opts = ServeOptions {
        master_key,
        public_url: args.public_url,
        tls,
        limits,
        metrics: args.metrics.then_some(true),
        quotas,
        hash_params,
        production,
        smtp,
        sms_webhook: args.sms_webhook,
        access_keys: args.access_keys,
        host: args.host,
        allowed_hosts: args.allowed_host,
        port: args.port,
        storage,
        issuer_base: args
            .aws_issuer
            .then(|| format!("https://cognito-idp.{}.amazonaws.com", args.region)),
        region: args.region,
        account: args.account,
        config: args.config,
        stage: args.stage,
        ..Default::default()
    };
    let server = match crate::start(opts).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    // Written whole, errors ignored: whoever reads the first line may close the pipe after it.
    let mut banner = format!("listening on {}\n", server.endpoint());
    if let Some(ca) = server.dev_ca() {
        banner.push_str(&format!(
            "development CA: {0} (trust it: NODE_EXTRA_CA_CERTS={0}, curl --cacert {0}; see README, HTTPS)\n",
            ca.display()
        ));
    }
    let mut out = std::io::stdout();
    let _ = out.write_all(banner.as_bytes());
    let _ = out.flush();
    let shutdown = async {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing the SIGTERM handler");
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        {
            let _ = ctrl_c.await;
        }
    };
    shutdown.await;
    server.shutdown().await;
    ExitCode::SUCCESS
}
