//! `serverless.yml` support for Cognate.
//!
//! Cognate reads user pools and their Lambda triggers from a Serverless Framework v3
//! `serverless.yml` (functions with `cognitoUserPool` events). This crate:
//!
//! * **loads** the file ([`load`]): parses YAML (CloudFormation short-form tags such as `!Ref`
//!   and `!GetAtt a.b` become their long form), resolves Serverless variables (`${self:...}`,
//!   `${opt:stage, 'dev'}`, `${sls:stage}`, `${env:X, 'default'}`, `${file(./x.yml):key}`,
//!   `${aws:region}`, nesting and fallbacks), checks the `cognitoUserPool` events the way
//!   Serverless's schema does, and builds a [`Project`] with a per-pool view ([`Project::pools`]);
//! * **validates** like Serverless v3 ([`validate`]): the same messages, warnings in the default
//!   `configValidationMode: warn`, fatal errors with `error`, and the plugin's own errors
//!   (KMS key rules, two existing pools on one function);
//! * **packages** ([`package`]) the CloudFormation template Serverless v3 would generate, and
//!   prints it the same way ([`to_template_string`]);
//! * **evaluates** CloudFormation intrinsic functions ([`eval`] with an [`EvalContext`]).
//!
//! ```no_run
//! use std::path::Path;
//! use cognate_config::{LoadOptions, PackageOptions};
//!
//! let project = cognate_config::load(Path::new("serverless.yml"), &LoadOptions::default())?;
//! for pool in project.pools() {
//!     println!("{} ({}) -> {:?}", pool.name, pool.logical_id, pool.lambda_config);
//! }
//! let template = cognate_config::package(&project, &PackageOptions::default())?;
//! println!("{}", cognate_config::to_template_string(&template));
//! # Ok::<(), cognate_config::ConfigError>(())
//! ```

#![warn(missing_docs)]

mod cfn;
mod error;
mod handlers;
mod merge;
mod model;
mod naming;
mod package;
mod schema;
mod vars;
mod yaml;

use std::path::Path;

pub use cfn::{EvalContext, Resolver, eval, eval_condition};
pub use error::{ConfigError, LEARN_MORE, render_warnings};
pub use model::{
    CognitoEvent, DEFAULT_ACCOUNT_ID, EnvLookup, EnvSource, Function, LoadOptions, PoolSpec, Project, Provider,
    TriggerBinding, ValidationMode,
};
pub use naming::{alnum_only, normalize_function_key, permission_logical_id, pool_logical_id, upper_first};
pub use package::{PackageOptions, package, to_template_string};
pub use schema::TRIGGERS;
pub use yaml::parse_yaml;

/// Load a `serverless.yml` (or a folder holding `serverless.yml` / `serverless.yaml`).
///
/// Schema problems are returned in [`Project::warnings`] in the default `warn` mode and make
/// the load fail with [`ConfigError::Validation`] in `error` mode. Inputs on which Serverless
/// itself crashes (an event without `pool`, a new-pool event without `trigger`) always fail with
/// the strict-mode message. The plugin's own errors (KMS key rules, two existing pools on one
/// function) and bad `resources.extensions` fail the load too, as they would fail a package.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Project, ConfigError> {
    let report = run(path, opts);
    match report.1 {
        Some(e) => Err(e),
        None => report.0.ok_or_else(|| ConfigError::Invalid("nothing loaded".into())),
    }
}

fn run(path: &Path, opts: &LoadOptions) -> (Option<Project>, Option<ConfigError>, Vec<String>) {
    let (config, dir, mode, problems) = match model::read_config(path, opts) {
        Ok(x) => x,
        Err(e) => return (None, Some(e), Vec::new()),
    };
    let problems = if mode == ValidationMode::Off {
        problems.into_iter().filter(|p| p.crash).collect()
    } else {
        problems
    };
    if mode == ValidationMode::Error && !problems.is_empty() {
        let all = problems.into_iter().map(|p| p.text).collect();
        return (None, Some(ConfigError::Validation(all)), Vec::new());
    }
    let (fatal, warnings): (Vec<_>, Vec<_>) = problems.into_iter().partition(|p| p.crash);
    let mut warnings: Vec<String> = warnings.into_iter().map(|p| p.text).collect();
    if mode == ValidationMode::Off {
        warnings.clear();
    }
    if !fatal.is_empty() {
        let fatal = fatal.into_iter().map(|p| p.text).collect();
        return (None, Some(ConfigError::Validation(fatal)), warnings);
    }
    let project = match model::build(config, dir, mode, warnings.clone(), opts) {
        Ok(p) => p,
        Err(e) => return (None, Some(e), warnings),
    };
    let check = PackageOptions {
        timestamp_ms: Some(0),
        code_sha256: None,
    };
    if let Err(e) = package(&project, &check) {
        return (None, Some(e), warnings);
    }
    (Some(project), None, warnings)
}

/// The outcome of [`validate`].
#[derive(Debug)]
pub struct ValidationReport {
    /// Schema problems reported as warnings (`at '<path>': <message>`).
    pub warnings: Vec<String>,
    /// The fatal error's message (what Serverless prints under `Error:`), if any.
    pub error: Option<String>,
    failure: Option<ConfigError>,
}

impl ValidationReport {
    /// The fatal error, if any.
    pub fn failure(&self) -> Option<&ConfigError> {
        self.failure.as_ref()
    }
    /// Whether the config is usable (warnings allowed).
    pub fn is_ok(&self) -> bool {
        self.failure.is_none()
    }
    /// What a CLI prints on stdout: the `Error:` block (see [`ConfigError::render_cli`]), or
    /// nothing.
    pub fn render_stdout(&self) -> String {
        self.failure.as_ref().map(ConfigError::render_cli).unwrap_or_default()
    }
    /// What a CLI prints on stderr: the warning block (see [`render_warnings`]), or nothing.
    pub fn render_stderr(&self) -> String {
        render_warnings(&self.warnings)
    }
    /// The process exit code: 1 on error, else 0.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.failure.is_some())
    }
}

/// Check a config the way `serverless package` would, without producing anything.
pub fn validate(path: &Path, opts: &LoadOptions) -> ValidationReport {
    let (_, failure, warnings) = run(path, opts);
    ValidationReport {
        warnings,
        error: failure.as_ref().map(ToString::to_string),
        failure,
    }
}
