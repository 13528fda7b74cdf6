//! The loaded project: service, provider, functions, `cognitoUserPool` events and the derived
//! per-pool view.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::ConfigError;
use crate::merge::deep_merge;
use crate::naming;
use crate::schema::{self, truthy};

/// The default AWS account id used in ARNs when none is given.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";

/// A `${env:NAME}` lookup function.
pub type EnvLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Where `${env:NAME}` values come from.
#[derive(Clone, Default)]
pub enum EnvSource {
    /// The process environment (`std::env::var`). The default.
    #[default]
    Process,
    /// A fixed map.
    Map(BTreeMap<String, String>),
    /// A lookup function.
    Fn(EnvLookup),
}

impl EnvSource {
    /// Look a variable up.
    pub fn get(&self, name: &str) -> Option<String> {
        match self {
            EnvSource::Process => std::env::var(name).ok(),
            EnvSource::Map(m) => m.get(name).cloned(),
            EnvSource::Fn(f) => f(name),
        }
    }
}

impl std::fmt::Debug for EnvSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnvSource::Process => f.write_str("Process"),
            EnvSource::Map(m) => f.debug_tuple("Map").field(m).finish(),
            EnvSource::Fn(_) => f.write_str("Fn(..)"),
        }
    }
}

/// Options for [`crate::load`] and [`crate::validate`]; the equivalent of Serverless's CLI
/// options plus the environment.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `--stage` (`${opt:stage}`); the stage is this, else `provider.stage`, else `dev`.
    pub stage: Option<String>,
    /// `--region` (`${opt:region}`); the region is this, else `provider.region`, else `us-east-1`.
    pub region: Option<String>,
    /// The account id used in ARNs and `${aws:accountId}` (default [`DEFAULT_ACCOUNT_ID`]).
    pub account_id: Option<String>,
    /// Other CLI options, for `${opt:<name>}`.
    pub options: BTreeMap<String, String>,
    /// Where `${env:...}` looks.
    pub env: EnvSource,
}

impl LoadOptions {
    /// Set the stage.
    pub fn with_stage(mut self, stage: impl Into<String>) -> Self {
        self.stage = Some(stage.into());
        self
    }
    /// Set the region.
    pub fn with_region(mut self, region: impl Into<String>) -> Self {
        self.region = Some(region.into());
        self
    }
    /// Use a fixed map for `${env:...}`.
    pub fn with_env_map(mut self, env: BTreeMap<String, String>) -> Self {
        self.env = EnvSource::Map(env);
        self
    }
    /// Use a function for `${env:...}`.
    pub fn with_env_fn(mut self, f: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        self.env = EnvSource::Fn(Arc::new(f));
        self
    }
    /// The account id in effect.
    pub fn account_id(&self) -> String {
        self.account_id
            .clone()
            .unwrap_or_else(|| DEFAULT_ACCOUNT_ID.to_string())
    }
}

/// `configValidationMode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValidationMode {
    /// Print schema problems as warnings and carry on (Serverless v3's default).
    #[default]
    Warn,
    /// Schema problems are fatal.
    Error,
    /// No schema validation.
    Off,
}

/// The `provider` section, with stage and region resolved.
#[derive(Debug, Clone)]
pub struct Provider {
    /// `provider.name` (`aws`).
    pub name: String,
    /// `provider.runtime`.
    pub runtime: Option<String>,
    /// The stage in effect.
    pub stage: String,
    /// The region in effect.
    pub region: String,
    /// The account id used in ARNs.
    pub account_id: String,
    /// `provider.environment`.
    pub environment: Map<String, Value>,
    /// `provider.memorySize`.
    pub memory_size: Option<Value>,
    /// `provider.timeout`.
    pub timeout: Option<Value>,
    /// `provider.versionFunctions` (default true).
    pub version_functions: bool,
    /// The deployment bucket name (`provider.deploymentBucket` or `.name`), if set.
    pub deployment_bucket: Option<Value>,
    /// `provider.iam.deploymentRole` or legacy `provider.cfnRole`.
    pub deployment_role: Option<Value>,
    /// `provider.logRetentionInDays`.
    pub log_retention_in_days: Option<Value>,
    /// `provider.logs.frameworkLambda`.
    pub framework_lambda_logs: bool,
    /// The whole `provider` section as written (variables resolved).
    pub raw: Value,
}

/// One entry of `functions`, in YAML order.
#[derive(Debug, Clone)]
pub struct Function {
    /// The key under `functions:`.
    pub key: String,
    /// The deployed name: `name`, else `<service>-<stage>-<key>`.
    pub name: String,
    /// `handler`.
    pub handler: Option<String>,
    /// The function's `runtime`, else the provider's.
    pub runtime: Option<String>,
    /// Provider environment merged with the function's (function wins).
    pub environment: Map<String, Value>,
    /// `timeout`, else `provider.timeout`, else 6.
    pub timeout: Value,
    /// `memorySize`, else `provider.memorySize`, else 1024.
    pub memory_size: Value,
    /// `description`.
    pub description: Option<Value>,
    /// The function's section as written (variables resolved).
    pub raw: Value,
}

impl Function {
    /// `arn:aws:lambda:<region>:<account>:function:<name>`.
    pub fn arn(&self, region: &str, account_id: &str) -> String {
        format!("arn:aws:lambda:{region}:{account_id}:function:{}", self.name)
    }
    /// The CloudFormation logical id (`<Fn>LambdaFunction`).
    pub fn logical_id(&self) -> String {
        naming::function_logical_id(&self.key)
    }
}

/// One `cognitoUserPool` event (after Ajv-style coercion).
#[derive(Debug, Clone, PartialEq)]
pub struct CognitoEvent {
    /// Key of the function that declares it.
    pub function: String,
    /// Index of the event in the function's `events`.
    pub index: usize,
    /// `pool`.
    pub pool: String,
    /// `trigger` (absent only on an existing pool in warn mode).
    pub trigger: Option<String>,
    /// `existing` (JavaScript truthiness, as Serverless uses it).
    pub existing: bool,
    /// `forceDeploy`.
    pub force_deploy: bool,
    /// `kmsKeyId`, verbatim (string or intrinsic object).
    pub kms_key_id: Option<Value>,
    /// `lambdaVersion` (not in the schema, but used).
    pub lambda_version: Option<String>,
}

impl CognitoEvent {
    /// Whether the trigger is `CustomSMSSender` or `CustomEmailSender`.
    pub fn is_sender(&self) -> bool {
        matches!(self.trigger.as_deref(), Some("CustomSMSSender" | "CustomEmailSender"))
    }
}

/// A loaded `serverless.yml`.
#[derive(Debug, Clone)]
pub struct Project {
    /// The folder holding the config.
    pub service_dir: PathBuf,
    /// `service` (or `service.name`).
    pub service: String,
    /// `provider`.
    pub provider: Provider,
    /// `functions`, in order.
    pub functions: Vec<Function>,
    /// Every `cognitoUserPool` event, in function then event order.
    pub cognito_events: Vec<CognitoEvent>,
    /// The raw `resources` section (long-form intrinsics), `Null` if absent.
    pub resources: Value,
    /// The raw `custom` section (including `custom.cognate`), `Null` if absent.
    pub custom: Value,
    /// `configValidationMode`.
    pub config_validation_mode: ValidationMode,
    /// Schema problems reported as warnings (`at '<path>': <message>`).
    pub warnings: Vec<String>,
    /// The whole config after variable resolution and coercion.
    pub config: Value,
}

/// A trigger bound to a function, as a pool sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct TriggerBinding {
    /// The trigger name (verbatim; may be outside the enum in warn mode).
    pub trigger: String,
    /// The function key.
    pub function: String,
    /// The deployed function name.
    pub function_name: String,
    /// `arn:aws:lambda:REGION:ACCOUNT:function:NAME`.
    pub function_arn: String,
    /// For the sender triggers: `lambdaVersion` or `V1_0`.
    pub lambda_version: Option<String>,
}

/// The derived per-pool view (see [`Project::pools`]).
#[derive(Debug, Clone, PartialEq)]
pub struct PoolSpec {
    /// The pool string as written (also the pool's name).
    pub name: String,
    /// `CognitoUserPool<alnum(name)>`.
    pub logical_id: String,
    /// Declared with `existing: true` (the pool is not created by the stack).
    pub existing: bool,
    /// Existing pools: the first existing event of some function has `forceDeploy`.
    pub force_deploy: bool,
    /// The triggers, one per trigger name (a later function replaces an earlier one), in
    /// order of first appearance.
    pub triggers: Vec<TriggerBinding>,
    /// The `kmsKeyId` of the custom sender triggers (verbatim; may be an intrinsic).
    pub kms_key_id: Option<Value>,
    /// Cognito's `LambdaConfig` for these triggers, with ARN strings: `{"PreSignUp": arn,
    /// "CustomSMSSender": {"LambdaArn": arn, "LambdaVersion": "V1_0"}, "KMSKeyID": ...}`.
    pub lambda_config: Map<String, Value>,
    /// New pools: the user's override `Properties`: `resources.Resources.<logicalId>.Properties`
    /// (deep-merged over the generated ones by Serverless), then `resources.extensions.<logicalId>
    /// .Properties` assigned shallowly on top. `null` means "remove the generated property".
    pub overrides: Map<String, Value>,
}

fn opt_string(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        other => Some(other.to_string()),
    }
}

fn find_config(path: &Path) -> Result<PathBuf, ConfigError> {
    if path.is_dir() {
        for name in ["serverless.yml", "serverless.yaml", "serverless.json"] {
            let p = path.join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
        return Err(ConfigError::NotFound(path.to_path_buf()));
    }
    Ok(path.to_path_buf())
}

/// Parse, resolve variables, read the validation mode and run the schema checks. Returns the
/// config, its folder, the mode, and the problems.
pub(crate) fn read_config(
    path: &Path,
    opts: &LoadOptions,
) -> Result<(Value, PathBuf, ValidationMode, Vec<schema::Problem>), ConfigError> {
    // Absolute (symlinks kept, as Serverless keeps its service folder): the folder of a bare
    // `serverless.yml` would otherwise be "", which is no working directory for handlers.
    let file = find_config(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))?;
    let text = std::fs::read_to_string(&file).map_err(|source| ConfigError::Io {
        path: file.clone(),
        source,
    })?;
    let mut config = crate::yaml::parse_yaml(&text).map_err(|message| ConfigError::Parse {
        path: file.clone(),
        message,
    })?;
    if !config.is_object() {
        return Err(ConfigError::Invalid(
            "\"service\" property is missing in serverless.yml".into(),
        ));
    }
    let dir = file.parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    crate::vars::resolve(&mut config, &dir, opts)?;
    let mode = match config.get("configValidationMode").and_then(Value::as_str) {
        Some("error") => ValidationMode::Error,
        Some("off") => ValidationMode::Off,
        _ => ValidationMode::Warn,
    };
    let problems = schema::check(&mut config);
    Ok((config, dir, mode, problems))
}

/// Build the model from a resolved, checked config.
pub(crate) fn build(
    config: Value,
    dir: PathBuf,
    mode: ValidationMode,
    warnings: Vec<String>,
    opts: &LoadOptions,
) -> Result<Project, ConfigError> {
    let service = match config.get("service") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        Some(Value::Object(o)) if o.get("name").and_then(Value::as_str).is_some() => {
            o["name"].as_str().unwrap_or_default().to_string()
        }
        _ => {
            return Err(ConfigError::Invalid(
                "\"service\" property is missing in serverless.yml".into(),
            ));
        }
    };
    let p = config.get("provider").cloned().unwrap_or(Value::Null);
    let stage = opts
        .stage
        .clone()
        .or_else(|| opt_string(p.get("stage")))
        .unwrap_or_else(|| "dev".into());
    let region = opts
        .region
        .clone()
        .or_else(|| opt_string(p.get("region")))
        .unwrap_or_else(|| "us-east-1".into());
    let obj = |v: Option<&Value>| v.and_then(Value::as_object).cloned().unwrap_or_default();
    let present = |v: Option<&Value>| v.filter(|v| !v.is_null()).cloned();
    let deployment_bucket = match p.get("deploymentBucket") {
        Some(Value::Object(o)) => present(o.get("name")),
        other => present(other),
    };
    let deployment_role =
        present(p.get("iam").and_then(|i| i.get("deploymentRole"))).or_else(|| present(p.get("cfnRole")));
    let provider = Provider {
        name: opt_string(p.get("name")).unwrap_or_else(|| "aws".into()),
        runtime: opt_string(p.get("runtime")),
        stage: stage.clone(),
        region,
        account_id: opts.account_id(),
        environment: obj(p.get("environment")),
        memory_size: present(p.get("memorySize")),
        timeout: present(p.get("timeout")),
        version_functions: p.get("versionFunctions").is_none_or(truthy),
        deployment_bucket,
        deployment_role,
        log_retention_in_days: present(p.get("logRetentionInDays")),
        framework_lambda_logs: p.get("logs").and_then(|l| l.get("frameworkLambda")).is_some_and(truthy),
        raw: p.clone(),
    };

    let mut functions = Vec::new();
    let mut cognito_events = Vec::new();
    if let Some(Value::Object(fns)) = config.get("functions") {
        for (key, f) in fns {
            let mut environment = provider.environment.clone();
            for (k, v) in obj(f.get("environment")) {
                environment.insert(k, v);
            }
            functions.push(Function {
                key: key.clone(),
                name: opt_string(f.get("name")).unwrap_or_else(|| format!("{service}-{stage}-{key}")),
                handler: opt_string(f.get("handler")),
                runtime: opt_string(f.get("runtime")).or_else(|| provider.runtime.clone()),
                environment,
                timeout: present(f.get("timeout"))
                    .or_else(|| provider.timeout.clone())
                    .unwrap_or(Value::from(6)),
                memory_size: present(f.get("memorySize"))
                    .or_else(|| provider.memory_size.clone())
                    .unwrap_or(Value::from(1024)),
                description: present(f.get("description")),
                raw: f.clone(),
            });
            let Some(Value::Array(events)) = f.get("events") else {
                continue;
            };
            for (index, ev) in events.iter().enumerate() {
                let Some(Value::Object(e)) = ev.get("cognitoUserPool") else {
                    continue;
                };
                let pool = match e.get("pool") {
                    Some(Value::String(s)) => s.clone(),
                    // The schema check made these fatal already; be defensive anyway.
                    _ => {
                        return Err(ConfigError::Validation(vec![format!(
                            "at 'functions.{key}.events.{index}.cognitoUserPool': must have required property 'pool'"
                        )]));
                    }
                };
                cognito_events.push(CognitoEvent {
                    function: key.clone(),
                    index,
                    pool,
                    trigger: opt_string(e.get("trigger")),
                    existing: e.get("existing").is_some_and(truthy),
                    force_deploy: e.get("forceDeploy").is_some_and(truthy),
                    kms_key_id: present(e.get("kmsKeyId")),
                    lambda_version: opt_string(e.get("lambdaVersion")),
                });
            }
        }
    }
    Ok(Project {
        service_dir: dir,
        service,
        provider,
        functions,
        cognito_events,
        resources: config.get("resources").cloned().unwrap_or(Value::Null),
        custom: config.get("custom").cloned().unwrap_or(Value::Null),
        config_validation_mode: mode,
        warnings,
        config,
    })
}

impl Project {
    /// The function with this key.
    pub fn function(&self, key: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.key == key)
    }

    /// The CloudFormation stack name Serverless uses: `<service>-<stage>`.
    pub fn stack_name(&self) -> String {
        format!("{}-{}", self.service, self.provider.stage)
    }

    /// An intrinsic-evaluation context for this project: its region, account id and stack
    /// name, and the `Parameters` defaults, `Conditions` and `Mappings` of its `resources`.
    /// Add a resolver with [`crate::EvalContext::with_resolver`] (for example one that calls
    /// [`Project::function_attribute`]).
    pub fn eval_context(&self) -> crate::EvalContext<'_> {
        let mut merged = Value::Object(Map::new());
        match &self.resources {
            Value::Array(sections) => sections.iter().for_each(|s| deep_merge(&mut merged, s)),
            other => deep_merge(&mut merged, other),
        }
        let mut ctx = crate::EvalContext::new(&self.provider.region, &self.provider.account_id).with_template(&merged);
        ctx.stack_name = self.stack_name();
        ctx
    }

    /// Resolve `Ref`/`Fn::GetAtt` of the resources this project's functions generate:
    /// `<Fn>LambdaFunction` → `Ref` = deployed name, `Arn` = function ARN. Meant to be chained
    /// into an [`crate::EvalContext`] resolver.
    pub fn function_attribute(&self, logical_id: &str, attribute: Option<&str>) -> Option<Value> {
        let f = self.functions.iter().find(|f| f.logical_id() == logical_id)?;
        match attribute {
            None => Some(Value::String(f.name.clone())),
            Some("Arn") => Some(Value::String(f.arn(&self.provider.region, &self.provider.account_id))),
            Some(_) => None,
        }
    }

    /// One entry per distinct (pool string, new-or-existing), in order of first appearance.
    pub fn pools(&self) -> Vec<PoolSpec> {
        let mut pools: Vec<PoolSpec> = Vec::new();
        // For existing pools, forceDeploy only counts on a function's first existing event.
        let mut first_existing_seen: Vec<&str> = Vec::new();
        for ev in &self.cognito_events {
            let idx = match pools
                .iter()
                .position(|p| p.name == ev.pool && p.existing == ev.existing)
            {
                Some(i) => i,
                None => {
                    pools.push(PoolSpec {
                        name: ev.pool.clone(),
                        logical_id: naming::pool_logical_id(&ev.pool),
                        existing: ev.existing,
                        force_deploy: false,
                        triggers: Vec::new(),
                        kms_key_id: None,
                        lambda_config: Map::new(),
                        overrides: if ev.existing {
                            Map::new()
                        } else {
                            self.overrides(&naming::pool_logical_id(&ev.pool))
                        },
                    });
                    pools.len() - 1
                }
            };
            let pool = &mut pools[idx];
            if ev.existing && !first_existing_seen.contains(&ev.function.as_str()) {
                first_existing_seen.push(&ev.function);
                pool.force_deploy |= ev.force_deploy;
            }
            let (Some(trigger), Some(f)) = (&ev.trigger, self.function(&ev.function)) else {
                continue;
            };
            let arn = f.arn(&self.provider.region, &self.provider.account_id);
            let sender = ev.is_sender();
            let binding = TriggerBinding {
                trigger: trigger.clone(),
                function: f.key.clone(),
                function_name: f.name.clone(),
                function_arn: arn.clone(),
                lambda_version: sender.then(|| ev.lambda_version.clone().unwrap_or_else(|| "V1_0".into())),
            };
            match pool.triggers.iter_mut().find(|b| &b.trigger == trigger) {
                Some(b) => *b = binding.clone(),
                None => pool.triggers.push(binding.clone()),
            }
            if sender {
                let mut s = Map::new();
                s.insert("LambdaArn".into(), Value::String(arn));
                s.insert(
                    "LambdaVersion".into(),
                    Value::String(binding.lambda_version.unwrap_or_default()),
                );
                pool.lambda_config.insert(trigger.clone(), Value::Object(s));
                if let Some(k) = &ev.kms_key_id {
                    pool.lambda_config.insert("KMSKeyID".into(), k.clone());
                    pool.kms_key_id = Some(k.clone());
                }
            } else {
                pool.lambda_config.insert(trigger.clone(), Value::String(arn));
            }
        }
        pools
    }

    fn overrides(&self, logical_id: &str) -> Map<String, Value> {
        // `resources` may also be a list of sections (merged in order).
        let sections: Vec<&Value> = match &self.resources {
            Value::Array(a) => a.iter().collect(),
            other => vec![other],
        };
        let section_props = |s: &'_ Value, kind: &str| {
            s.get(kind)
                .and_then(|r| r.get(logical_id))
                .and_then(|r| r.get("Properties"))
                .cloned()
        };
        let mut props = Value::Object(Map::new());
        for s in &sections {
            if let Some(p) = section_props(s, "Resources") {
                deep_merge(&mut props, &p);
            }
        }
        for s in &sections {
            if let (Some(Value::Object(ext)), Value::Object(out)) = (section_props(s, "extensions"), &mut props) {
                for (k, v) in ext {
                    out.insert(k, v);
                }
            }
        }
        match props {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }
}
