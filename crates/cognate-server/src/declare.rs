//! Pools and functions declared up front (a serverless.yml, or the Rust builder), applied
//! when the server starts: every declared pool exists, with its triggers, before the server
//! is ready. Applying the same declarations again keeps pool ids and users. Nodes sharing a
//! PostgreSQL database apply one at a time (see [`apply`]), so nodes starting together with one
//! configuration create each resource once.
//!
//! A `serverless.yml` is applied the way CloudFormation would deploy the template Serverless
//! generates for it (see `cognate_config::package`):
//!
//! * every `AWS::Cognito::UserPool` of the template (the generated `CognitoUserPool<Name>` ones,
//!   with the user's `resources.Resources` / `resources.extensions` overrides merged in, and
//!   pools the user declares on their own) is created, or found again and updated so the file
//!   is authoritative;
//! * `UserPoolClient`, `UserPoolGroup`, `UserPoolUser` and `UserPoolUserToGroupAttachment`
//!   resources are created (clients and groups updated) in dependency order, `Ref` /
//!   `Fn::GetAtt` between them resolved; `AWS::KMS::Key` resources get stable ARNs; domains and
//!   resource servers are accepted and logged; anything else is ignored with one log line;
//! * `existing: true` events attach their triggers to a pool that must already exist, keeping
//!   its other settings and triggers (Serverless's `Custom::CognitoUserPool`, spec §8.5).
//!
//! What was applied is remembered in the store (scope [`STATE_SCOPE`], one entry per stack
//! `<service>-<stage>`): the physical id of every resource, so ids stay stable across restarts
//! even when names are not unique, and the triggers attached to each existing pool, so that a
//! trigger removed from the file is removed from the pool — and only that one.
//!
//! Existing pools and `forceDeploy`: as with Serverless's custom resource, which CloudFormation
//! only runs again when its properties change, triggers of an existing pool are re-applied on
//! start only when what the file declares for that pool changed since the last start, or when
//! `forceDeploy` is set (then on every start: a trigger someone removed through the API comes
//! back). Without `forceDeploy`, an unchanged config leaves the pool untouched.
use anyhow::{Context, anyhow, bail};
use cognate_config::{EvalContext, Project};
use cognate_core::ops::Input;
use cognate_core::ops::clients::UserPoolClientType;
use cognate_core::request::Request;
use cognate_core::{CallContext, Cognito};
use cognate_functions::{FunctionDef, FunctionTarget, ProcessSpec, RemoteSpec};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;

/// Store scope (secrets/settings table) of what a serverless.yml applied last time.
pub const STATE_SCOPE: &str = "cognate:serverless-stack";

/// A user pool to create (or find by name) at start.
#[derive(Debug, Clone, Default)]
pub struct PoolDeclaration {
    /// The pool's name (what Serverless passes as UserPoolName).
    pub name: String,
    /// CreateUserPool members (API shape), applied on every start.
    pub settings: Map<String, Value>,
    /// LambdaConfig with function ARNs.
    pub lambda_config: Map<String, Value>,
    /// Attach to a pool that must already exist, keeping its other settings and triggers.
    pub existing: bool,
}

/// What a configuration declares.
#[derive(Debug, Default)]
pub struct Declarations {
    pub functions: Vec<FunctionDef>,
    /// Pools declared through the Rust API.
    pub pools: Vec<PoolDeclaration>,
    /// What a serverless.yml declares: its resources and existing-pool attachments.
    pub stack: Option<StackDeclaration>,
    /// ARNs of the `AWS::KMS::Key` resources (`arn:aws:kms:REGION:ACCOUNT:key/<uuid>`, stable
    /// for a given service, stage and logical id).
    pub kms_keys: Vec<String>,
}

/// The resources of a serverless.yml, ready to apply (properties still unevaluated: they may
/// refer to ids only known once earlier resources exist).
#[derive(Debug, Clone)]
pub struct StackDeclaration {
    /// `<service>-<stage>`.
    pub name: String,
    region: String,
    account: String,
    /// `Parameters` defaults, `Conditions` and `Mappings` of the `resources` sections.
    parameters: Map<String, Value>,
    conditions: Map<String, Value>,
    mappings: Map<String, Value>,
    /// Values known before anything is created: functions, KMS keys.
    known: Physical,
    /// Every template resource Cognate does not create, by type (Ref/GetAtt get placeholders).
    others: BTreeMap<String, OtherResource>,
    /// The resources to apply, in dependency order.
    resources: Vec<ResourceDeclaration>,
    /// Pools to attach triggers to.
    existing: Vec<ExistingPool>,
    /// Pool names this stack creates (an existing pool may be one of them).
    planned_pool_names: BTreeSet<String>,
    /// Function environments holding intrinsics (`!Ref CognitoUserPoolX`, `!GetAtt Key.Arn`),
    /// by function name: resolved once the resources exist.
    function_environments: BTreeMap<String, Map<String, Value>>,
}

#[derive(Debug, Clone)]
struct OtherResource {
    kind: String,
    name: String,
}

#[derive(Debug, Clone)]
struct ResourceDeclaration {
    logical_id: String,
    kind: String,
    properties: Value,
    condition: Option<String>,
    /// For generated pools: the pool string of the events (also a `pool_id` name).
    alias: Option<String>,
}

#[derive(Debug, Clone)]
struct ExistingPool {
    name: String,
    lambda_config: Map<String, Value>,
    force_deploy: bool,
    /// The ARNs of the functions the file attaches to this pool.
    function_arns: Vec<String>,
}

/// Ids and attributes of what exists (or is known statically), for `Ref` and `Fn::GetAtt`.
#[derive(Debug, Clone, Default)]
struct Physical {
    refs: BTreeMap<String, Value>,
    attrs: BTreeMap<String, BTreeMap<String, Value>>,
}

impl Physical {
    fn set(&mut self, logical_id: &str, reference: impl Into<Value>, attrs: &[(&str, Value)]) {
        self.refs.insert(logical_id.to_owned(), reference.into());
        let slot = self.attrs.entry(logical_id.to_owned()).or_default();
        for (k, v) in attrs {
            slot.insert((*k).to_owned(), v.clone());
        }
    }
}

/// What applying declarations produced.
#[derive(Debug, Clone, Default)]
pub struct Applied {
    /// Pool name (and, for generated pools, the events' pool string) → pool id.
    pub pool_ids: BTreeMap<String, String>,
    /// `AWS::Cognito::UserPoolClient` logical id → client id.
    pub client_ids: BTreeMap<String, String>,
    /// Logical id → physical id (what `Ref` gives) of every resource applied.
    pub resource_ids: BTreeMap<String, String>,
    /// Function name → its whole environment, for functions whose environment referred to
    /// resources (now resolved).
    pub function_environments: BTreeMap<String, BTreeMap<String, String>>,
}

// ------------------------------------------------------------------------------------------
// Reading a serverless.yml
// ------------------------------------------------------------------------------------------

/// Reads a serverless.yml (or a folder holding one) into declarations.
pub fn from_serverless(path: &Path, stage: &str, region: &str, account: &str) -> anyhow::Result<Declarations> {
    let opts = cognate_config::LoadOptions {
        stage: Some(stage.to_owned()),
        region: Some(region.to_owned()),
        account_id: Some(account.to_owned()),
        ..Default::default()
    };
    let project = cognate_config::load(path, &opts).map_err(|e| anyhow!("{}", e.render_cli()))?;
    for w in &project.warnings {
        tracing::warn!("{w}");
    }
    for missing in project.missing_handler_files() {
        tracing::warn!("{missing}");
    }
    let functions = function_defs(&project);
    let stack = stack_from(&project)?;
    let kms_keys = stack
        .known
        .attrs
        .values()
        .filter_map(|a| a.get("Arn"))
        .filter_map(Value::as_str)
        .filter(|arn| arn.starts_with("arn:aws:kms:"))
        .map(str::to_owned)
        .collect();
    Ok(Declarations {
        functions,
        pools: Vec::new(),
        stack: Some(stack),
        kms_keys,
    })
}

fn function_defs(project: &Project) -> Vec<FunctionDef> {
    let custom = project.custom.get("cognate").cloned().unwrap_or(Value::Null);
    let default_endpoint = custom.get("lambdaEndpoint").and_then(Value::as_str).map(str::to_owned);
    let mut functions = Vec::new();
    for f in &project.functions {
        let remote = custom.get("functions").and_then(|fs| fs.get(&f.key));
        let endpoint = remote
            .and_then(|r| r.get("endpoint"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| default_endpoint.clone());
        let target = if let Some(endpoint) = endpoint {
            let name = remote
                .and_then(|r| r.get("functionName"))
                .and_then(Value::as_str)
                .unwrap_or(&f.name)
                .to_owned();
            FunctionTarget::Remote(RemoteSpec::new(endpoint, name))
        } else {
            let Some(handler) = &f.handler else { continue };
            let runtime = f.runtime.clone().unwrap_or_else(|| "nodejs18.x".into());
            let mut spec = ProcessSpec::new(runtime, handler.clone(), project.service_dir.clone());
            // Intrinsics (`!Ref`, `!GetAtt`) are filled in once the resources exist.
            spec.environment = f
                .environment
                .iter()
                .filter(|(_, v)| is_plain(v))
                .map(|(k, v)| (k.clone(), env_string(v)))
                .collect::<BTreeMap<_, _>>();
            if let Some(t) = f.timeout.as_f64() {
                spec.timeout = Duration::from_secs_f64(t);
            }
            if let Some(m) = f.memory_size.as_u64() {
                spec.memory_mb = m as u32;
            }
            FunctionTarget::Process(spec)
        };
        functions.push(FunctionDef::new(f.name.clone(), target));
    }
    functions
}

/// The resource types Cognate creates or accepts.
const APPLIED_TYPES: &[&str] = &[
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::Cognito::UserPoolGroup",
    "AWS::Cognito::UserPoolUser",
    "AWS::Cognito::UserPoolUserToGroupAttachment",
    "AWS::Cognito::UserPoolDomain",
    "AWS::Cognito::UserPoolResourceServer",
    "AWS::Cognito::UserPoolIdentityProvider",
    "AWS::Cognito::UserPoolUICustomizationAttachment",
];

/// The logical ids the user wrote in `resources.Resources` (the others are generated by
/// Serverless for functions and existing pools: not worth a log line when not applied).
fn user_resource_ids(project: &Project) -> BTreeSet<String> {
    let sections: Vec<&Value> = match &project.resources {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    sections
        .iter()
        .filter_map(|s| s.get("Resources").and_then(Value::as_object))
        .flat_map(|m| m.keys().cloned())
        .collect()
}

/// The key id of a declared `AWS::KMS::Key`: a UUID made from SHA-256 of the stack and
/// logical id, so it is the same on every start.
fn kms_key_id(stack: &str, logical_id: &str) -> String {
    let digest = cognate_crypto::sha256(format!("cognate:kms-key:{stack}:{logical_id}").as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    cognate_crypto::uuid::format_v4(b)
}

fn stack_from(project: &Project) -> anyhow::Result<StackDeclaration> {
    let region = project.provider.region.clone();
    let account = project.provider.account_id.clone();
    let stack_name = project.stack_name();
    let template = cognate_config::package(
        project,
        &cognate_config::PackageOptions {
            timestamp_ms: Some(0),
            code_sha256: None,
        },
    )
    .map_err(|e| anyhow!("{}", e.render_cli()))?;
    let (parameters, conditions, mappings) = {
        let ctx = project.eval_context();
        (ctx.parameters, ctx.conditions, ctx.mappings)
    };
    let user_ids = user_resource_ids(project);

    let all = template
        .get("Resources")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let new_pools: BTreeMap<String, String> = project
        .pools()
        .into_iter()
        .filter(|p| !p.existing)
        .map(|p| (p.logical_id, p.name))
        .collect();

    let mut known = Physical::default();
    for f in &project.functions {
        known.set(
            &f.logical_id(),
            f.name.clone(),
            &[("Arn", json!(f.arn(&region, &account)))],
        );
    }
    let mut others = BTreeMap::new();
    let mut candidates = Vec::new();
    for (id, res) in &all {
        let kind = res.get("Type").and_then(Value::as_str).unwrap_or_default().to_owned();
        let props = res.get("Properties").cloned().unwrap_or_else(|| json!({}));
        if kind == "AWS::KMS::Key" {
            let key = kms_key_id(&stack_name, id);
            let arn = format!("arn:aws:kms:{region}:{account}:key/{key}");
            known.set(id, key.clone(), &[("Arn", json!(arn)), ("KeyId", json!(key))]);
            tracing::info!(resource = %id, %arn, "KMS key declared");
            continue;
        }
        if !APPLIED_TYPES.contains(&kind.as_str()) {
            if user_ids.contains(id) {
                tracing::warn!(resource = %id, r#type = %kind, "resource type not supported by Cognate: ignored");
            }
            if !known.refs.contains_key(id) {
                others.insert(
                    id.clone(),
                    OtherResource {
                        kind: kind.clone(),
                        name: other_name(&stack_name, id, &props),
                    },
                );
            }
            continue;
        }
        let mut deps = BTreeSet::new();
        references(&props, &mut deps);
        for d in &deps {
            if !all.contains_key(d) && !parameters.contains_key(d) && !known.refs.contains_key(d) {
                bail!(
                    "resources.Resources.{id}: unresolved reference to {d:?}: there is no such resource or parameter"
                );
            }
        }
        match res.get("DependsOn") {
            Some(Value::String(s)) => {
                deps.insert(s.clone());
            }
            Some(Value::Array(a)) => deps.extend(a.iter().filter_map(Value::as_str).map(str::to_owned)),
            _ => {}
        }
        candidates.push((
            ResourceDeclaration {
                logical_id: id.clone(),
                kind: kind.clone(),
                properties: props,
                condition: res.get("Condition").and_then(Value::as_str).map(str::to_owned),
                alias: new_pools.get(id).cloned(),
            },
            deps,
        ));
    }
    // A client may allow a resource server's scopes, or offer an identity provider, by name
    // alone (no Ref), so every client waits for the resource servers and providers.
    let resource_servers: Vec<String> = candidates
        .iter()
        .filter(|(r, _)| {
            r.kind == "AWS::Cognito::UserPoolResourceServer" || r.kind == "AWS::Cognito::UserPoolIdentityProvider"
        })
        .map(|(r, _)| r.logical_id.clone())
        .collect();
    // A style needs its pool's domain, which the template rarely names from it (no Ref), so
    // every style waits for the domains of the template.
    let domains: Vec<String> = candidates
        .iter()
        .filter(|(r, _)| r.kind == "AWS::Cognito::UserPoolDomain")
        .map(|(r, _)| r.logical_id.clone())
        .collect();
    for (r, deps) in &mut candidates {
        if r.kind == "AWS::Cognito::UserPoolClient" {
            deps.extend(resource_servers.iter().cloned());
        }
        if r.kind == "AWS::Cognito::UserPoolUICustomizationAttachment" {
            deps.extend(domains.iter().cloned());
        }
    }
    let resources = dependency_order(candidates)?;
    let planned_pool_names = resources
        .iter()
        .filter(|r| r.kind == "AWS::Cognito::UserPool")
        .filter_map(|r| {
            r.properties
                .get("UserPoolName")
                .and_then(Value::as_str)
                .map(str::to_owned)
                .or_else(|| r.alias.clone())
        })
        .collect();

    let existing = project
        .pools()
        .into_iter()
        .filter(|p| p.existing)
        .map(|p| ExistingPool {
            name: p.name.clone(),
            lambda_config: p.lambda_config.clone(),
            force_deploy: p.force_deploy,
            function_arns: p.triggers.iter().map(|t| t.function_arn.clone()).collect(),
        })
        .collect();
    Ok(StackDeclaration {
        name: stack_name,
        region,
        account,
        parameters,
        conditions,
        mappings,
        known,
        others,
        resources,
        existing,
        planned_pool_names,
        function_environments: project
            .functions
            .iter()
            .filter(|f| f.environment.values().any(|v| !is_plain(v)))
            .map(|f| (f.name.clone(), f.environment.clone()))
            .collect(),
    })
}

/// A value an environment variable can take as it is (anything but an intrinsic).
fn is_plain(v: &Value) -> bool {
    !matches!(v, Value::Object(_) | Value::Array(_))
}

fn env_string(v: &Value) -> String {
    v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string())
}

fn other_name(stack: &str, logical_id: &str, props: &Value) -> String {
    for k in [
        "RoleName",
        "TopicName",
        "QueueName",
        "BucketName",
        "TableName",
        "FunctionName",
        "Name",
        "AliasName",
    ] {
        if let Some(s) = props.get(k).and_then(Value::as_str) {
            return s.to_owned();
        }
    }
    format!("{stack}-{logical_id}")
}

/// Logical ids an (unevaluated) value refers to through `Ref`, `Fn::GetAtt` and `Fn::Sub`.
fn references(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) if m.len() == 1 => {
            let (k, arg) = m.iter().next().expect("one member");
            match (k.as_str(), arg) {
                ("Ref", Value::String(s)) => {
                    if !s.contains("::") {
                        out.insert(s.clone());
                    }
                }
                ("Fn::GetAtt", Value::Array(a)) => {
                    if let Some(Value::String(s)) = a.first() {
                        out.insert(s.clone());
                    }
                    a.iter().skip(1).for_each(|x| references(x, out));
                }
                ("Fn::GetAtt", Value::String(s)) => {
                    out.insert(s.split('.').next().unwrap_or_default().to_owned());
                }
                ("Fn::Sub", Value::String(s)) => sub_references(s, &BTreeSet::new(), out),
                ("Fn::Sub", Value::Array(a)) => {
                    let vars: BTreeSet<String> = a
                        .get(1)
                        .and_then(Value::as_object)
                        .map(|m| m.keys().cloned().collect())
                        .unwrap_or_default();
                    if let Some(Value::String(s)) = a.first() {
                        sub_references(s, &vars, out);
                    }
                    a.iter().skip(1).for_each(|x| references(x, out));
                }
                _ => references(arg, out),
            }
        }
        Value::Object(m) => m.values().for_each(|x| references(x, out)),
        Value::Array(a) => a.iter().for_each(|x| references(x, out)),
        _ => {}
    }
}

fn sub_references(s: &str, vars: &BTreeSet<String>, out: &mut BTreeSet<String>) {
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let name = &after[..end];
        rest = &after[end + 1..];
        if name.starts_with('!') || name.contains("::") {
            continue;
        }
        let id = name.split('.').next().unwrap_or_default();
        if !vars.contains(name) && !vars.contains(id) && !id.is_empty() {
            out.insert(id.to_owned());
        }
    }
}

/// Orders resources so each comes after those it refers to (template order otherwise).
fn dependency_order(
    candidates: Vec<(ResourceDeclaration, BTreeSet<String>)>,
) -> anyhow::Result<Vec<ResourceDeclaration>> {
    let ids: BTreeSet<String> = candidates.iter().map(|(r, _)| r.logical_id.clone()).collect();
    let mut pending: Vec<(ResourceDeclaration, BTreeSet<String>)> = candidates
        .into_iter()
        .map(|(r, d)| {
            let d = d
                .into_iter()
                .filter(|x| ids.contains(x) && *x != r.logical_id)
                .collect();
            (r, d)
        })
        .collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    while !pending.is_empty() {
        let Some(i) = pending.iter().position(|(_, d)| d.iter().all(|x| done.contains(x))) else {
            let cycle: Vec<&str> = pending.iter().map(|(r, _)| r.logical_id.as_str()).collect();
            bail!("circular dependency between resources: {}", cycle.join(", "));
        };
        let (r, _) = pending.remove(i);
        done.insert(r.logical_id.clone());
        out.push(r);
    }
    Ok(out)
}

impl StackDeclaration {
    fn context<'a>(&self, resolver: &'a cognate_config::Resolver<'a>) -> EvalContext<'a> {
        let mut ctx = EvalContext::new(&self.region, &self.account).with_resolver(resolver);
        ctx.stack_name = self.name.clone();
        ctx.parameters = self.parameters.clone();
        ctx.conditions = self.conditions.clone();
        ctx.mappings = self.mappings.clone();
        ctx
    }

    /// Evaluates intrinsics with what exists now; fails on anything left unresolved.
    fn evaluate(&self, physical: &Physical, value: &Value, what: &str) -> anyhow::Result<Value> {
        let resolver = |id: &str, attr: Option<&str>| self.resolve(physical, id, attr);
        let ctx = self.context(&resolver);
        let v = cognate_config::eval(value, &ctx).map_err(|e| anyhow!("{what}: {e}"))?;
        if let Some(left) = leftover_intrinsic(&v) {
            bail!("{what}: {left} is not supported here");
        }
        Ok(v)
    }

    fn condition_holds(&self, physical: &Physical, name: &str) -> anyhow::Result<bool> {
        let resolver = |id: &str, attr: Option<&str>| self.resolve(physical, id, attr);
        let ctx = self.context(&resolver);
        cognate_config::eval_condition(name, &ctx).map_err(|e| anyhow!("condition {name}: {e}"))
    }

    fn resolve(&self, physical: &Physical, id: &str, attr: Option<&str>) -> Option<Value> {
        for p in [physical, &self.known] {
            let found = match attr {
                None => p.refs.get(id).cloned(),
                Some(a) => p.attrs.get(id).and_then(|m| m.get(a)).cloned(),
            };
            if found.is_some() {
                return found;
            }
        }
        // Resources Cognate does not run (IAM roles, topics, ...): plausible placeholders, so
        // that, say, an SmsConfiguration's SnsCallerArn resolves.
        let other = self.others.get(id)?;
        let mut parts = other.kind.split("::").skip(1);
        let service = parts.next().unwrap_or("resource").to_ascii_lowercase();
        let kind = parts.next().unwrap_or("resource").to_ascii_lowercase();
        let (region, account) = (&self.region, &self.account);
        let name = &other.name;
        match attr {
            None => Some(json!(name)),
            Some("Arn") => Some(json!(match service.as_str() {
                "iam" => format!("arn:aws:iam::{account}:{kind}/{name}"),
                "s3" => format!("arn:aws:s3:::{name}"),
                "sns" | "sqs" => format!("arn:aws:{service}:{region}:{account}:{name}"),
                "lambda" => format!("arn:aws:lambda:{region}:{account}:function:{name}"),
                _ => format!("arn:aws:{service}:{region}:{account}:{kind}/{name}"),
            })),
            Some(_) => Some(json!(name)),
        }
    }
}

fn leftover_intrinsic(v: &Value) -> Option<String> {
    match v {
        Value::Object(m) => {
            if m.len() == 1
                && let Some(k) = m.keys().next()
                && (k == "Ref" || k.starts_with("Fn::"))
            {
                return Some(k.clone());
            }
            m.values().find_map(leftover_intrinsic)
        }
        Value::Array(a) => a.iter().find_map(leftover_intrinsic),
        _ => None,
    }
}

// ------------------------------------------------------------------------------------------
// CloudFormation → API shapes
// ------------------------------------------------------------------------------------------

#[derive(Clone, Copy)]
enum Ty {
    Bool,
    Int,
    Str,
}

/// Typed members of `AWS::Cognito::UserPool` (CloudFormation accepts `"true"` and `"8"`).
const POOL_TYPES: &[(&str, Ty)] = &[
    ("Schema[].Required", Ty::Bool),
    ("Schema[].Mutable", Ty::Bool),
    ("Schema[].DeveloperOnlyAttribute", Ty::Bool),
    ("Schema[].StringAttributeConstraints.MinLength", Ty::Str),
    ("Schema[].StringAttributeConstraints.MaxLength", Ty::Str),
    ("Schema[].NumberAttributeConstraints.MinValue", Ty::Str),
    ("Schema[].NumberAttributeConstraints.MaxValue", Ty::Str),
    ("Policies.PasswordPolicy.MinimumLength", Ty::Int),
    ("Policies.PasswordPolicy.RequireLowercase", Ty::Bool),
    ("Policies.PasswordPolicy.RequireUppercase", Ty::Bool),
    ("Policies.PasswordPolicy.RequireNumbers", Ty::Bool),
    ("Policies.PasswordPolicy.RequireSymbols", Ty::Bool),
    ("Policies.PasswordPolicy.TemporaryPasswordValidityDays", Ty::Int),
    ("Policies.PasswordPolicy.PasswordHistorySize", Ty::Int),
    ("AdminCreateUserConfig.AllowAdminCreateUserOnly", Ty::Bool),
    ("AdminCreateUserConfig.UnusedAccountValidityDays", Ty::Int),
    ("UsernameConfiguration.CaseSensitive", Ty::Bool),
    ("DeviceConfiguration.ChallengeRequiredOnNewDevice", Ty::Bool),
    ("DeviceConfiguration.DeviceOnlyRememberedOnUserPrompt", Ty::Bool),
    ("AccountRecoverySetting.RecoveryMechanisms[].Priority", Ty::Int),
    ("UserPoolTags.*", Ty::Str),
];

const CLIENT_TYPES: &[(&str, Ty)] = &[
    ("GenerateSecret", Ty::Bool),
    ("RefreshTokenValidity", Ty::Int),
    ("AccessTokenValidity", Ty::Int),
    ("IdTokenValidity", Ty::Int),
    ("AuthSessionValidity", Ty::Int),
    ("AllowedOAuthFlowsUserPoolClient", Ty::Bool),
    ("EnableTokenRevocation", Ty::Bool),
    ("EnablePropagateAdditionalUserContextData", Ty::Bool),
    ("AnalyticsConfiguration.UserDataShared", Ty::Bool),
    ("RefreshTokenRotation.RetryGracePeriodSeconds", Ty::Int),
];

const GROUP_TYPES: &[(&str, Ty)] = &[("Precedence", Ty::Int)];

const DOMAIN_TYPES: &[(&str, Ty)] = &[("ManagedLoginVersion", Ty::Int)];

/// ProviderDetails and AttributeMapping are maps of strings (`IDPInit: true` in YAML is "true").
const PROVIDER_TYPES: &[(&str, Ty)] = &[("ProviderDetails.*", Ty::Str), ("AttributeMapping.*", Ty::Str)];

const USER_TYPES: &[(&str, Ty)] = &[
    ("ForceAliasCreation", Ty::Bool),
    ("UserAttributes[].Value", Ty::Str),
    ("ValidationData[].Value", Ty::Str),
    ("ClientMetadata.*", Ty::Str),
];

fn coerce(props: &mut Value, types: &[(&str, Ty)]) {
    for (path, ty) in types {
        let segs: Vec<&str> = path.split('.').collect();
        coerce_at(props, &segs, *ty);
    }
}

fn coerce_at(v: &mut Value, segs: &[&str], ty: Ty) {
    let Some((first, rest)) = segs.split_first() else {
        coerce_value(v, ty);
        return;
    };
    let Value::Object(m) = v else { return };
    if *first == "*" {
        for x in m.values_mut() {
            coerce_at(x, rest, ty);
        }
    } else if let Some(key) = first.strip_suffix("[]") {
        if let Some(Value::Array(items)) = m.get_mut(key) {
            for x in items {
                coerce_at(x, rest, ty);
            }
        }
    } else if let Some(x) = m.get_mut(*first) {
        coerce_at(x, rest, ty);
    }
}

fn coerce_value(v: &mut Value, ty: Ty) {
    let new = match (ty, &*v) {
        (Ty::Bool, Value::String(s)) if s.eq_ignore_ascii_case("true") => json!(true),
        (Ty::Bool, Value::String(s)) if s.eq_ignore_ascii_case("false") => json!(false),
        (Ty::Int, Value::String(s)) => match s.trim().parse::<i64>() {
            Ok(n) => json!(n),
            Err(_) => return,
        },
        (Ty::Int, Value::Number(n)) if n.as_i64().is_none() => match n.as_f64() {
            Some(f) if f.fract() == 0.0 => json!(f as i64),
            _ => return,
        },
        (Ty::Str, Value::Number(n)) => json!(n.to_string()),
        (Ty::Str, Value::Bool(b)) => json!(b.to_string()),
        _ => return,
    };
    *v = new;
}

/// CreateUserPool members (besides PoolName, Schema and LambdaConfig handled by the caller).
const POOL_API_MEMBERS: &[&str] = &[
    "Policies",
    "DeletionProtection",
    "LambdaConfig",
    "AutoVerifiedAttributes",
    "AliasAttributes",
    "UsernameAttributes",
    "SmsVerificationMessage",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "VerificationMessageTemplate",
    "SmsAuthenticationMessage",
    "MfaConfiguration",
    "UserAttributeUpdateSettings",
    "DeviceConfiguration",
    "EmailConfiguration",
    "SmsConfiguration",
    "UserPoolTags",
    "AdminCreateUserConfig",
    "Schema",
    "UserPoolAddOns",
    "UsernameConfiguration",
    "AccountRecoverySetting",
    "UserPoolTier",
    "EmailAuthenticationMessage",
    "EmailAuthenticationSubject",
];

/// An `AWS::Cognito::UserPool`'s properties as CreateUserPool members, plus what goes to
/// SetUserPoolMfaConfig (`EnabledMfas`).
struct PoolProps {
    name: Option<String>,
    settings: Map<String, Value>,
    lambda_config: Map<String, Value>,
    enabled_mfas: Option<Vec<String>>,
}

fn pool_props(logical_id: &str, props: &Value) -> PoolProps {
    let mut props = props.clone();
    coerce(&mut props, POOL_TYPES);
    let mut out = PoolProps {
        name: None,
        settings: Map::new(),
        lambda_config: Map::new(),
        enabled_mfas: None,
    };
    let Value::Object(m) = props else { return out };
    let mut webauthn = Map::new();
    for (k, v) in m {
        if v.is_null() {
            continue;
        }
        match k.as_str() {
            "UserPoolName" => out.name = v.as_str().map(str::to_owned),
            "LambdaConfig" => out.lambda_config = v.as_object().cloned().unwrap_or_default(),
            "EnabledMfas" => {
                out.enabled_mfas = Some(
                    v.as_array()
                        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
                        .unwrap_or_default(),
                )
            }
            "WebAuthnRelyingPartyID" => {
                webauthn.insert("RelyingPartyId".into(), v);
            }
            "WebAuthnUserVerification" => {
                webauthn.insert("UserVerification".into(), v);
            }
            other if POOL_API_MEMBERS.contains(&other) => {
                out.settings.insert(k, v);
            }
            other => {
                tracing::warn!(resource = %logical_id, property = %other, "user pool property not supported by Cognate: ignored");
            }
        }
    }
    if !webauthn.is_empty() {
        out.settings
            .insert("WebAuthnConfiguration".into(), Value::Object(webauthn));
    }
    out
}

// ------------------------------------------------------------------------------------------
// Applying
// ------------------------------------------------------------------------------------------

/// An operation's typed input from a JSON body (CloudFormation properties have the API's
/// shape), validated as the API validates it.
fn req<I: Input>(v: Value) -> anyhow::Result<I> {
    let request = Request::from_value(v).map_err(|e| anyhow!("{e}"))?;
    I::decode(&request).map_err(|e| anyhow!("{e}"))
}

async fn find_pool_by_name(service: &Cognito, name: &str) -> anyhow::Result<Option<String>> {
    let mut token: Option<String> = None;
    loop {
        let mut r = json!({"MaxResults": 60});
        if let Some(t) = &token {
            r["NextToken"] = json!(t);
        }
        let out = service.list_user_pools(req(r)?).await?;
        if let Some(p) = out.user_pools.iter().find(|p| p.name == name) {
            return Ok(Some(p.id.clone()));
        }
        match out.next_token {
            Some(t) => token = Some(t),
            None => return Ok(None),
        }
    }
}

async fn describe_pool(service: &Cognito, id: &str) -> Option<Value> {
    service
        .describe_user_pool(req(json!({"UserPoolId": id})).ok()?)
        .await
        .ok()
        .and_then(|d| serde_json::to_value(d.user_pool).ok())
}

/// Creates a pool, or updates the one found (by `known` id, else by name) so that it has
/// exactly these settings — as a stack update would. Returns the pool id.
async fn upsert_pool(
    service: &Cognito,
    name: &str,
    known: Option<&str>,
    settings: &Map<String, Value>,
    lambda_config: &Map<String, Value>,
) -> anyhow::Result<String> {
    let mut found = None;
    if let Some(id) = known
        && let Some(pool) = describe_pool(service, id).await
    {
        found = Some((id.to_owned(), pool));
    }
    if found.is_none()
        && let Some(id) = find_pool_by_name(service, name).await?
        && let Some(pool) = describe_pool(service, &id).await
    {
        found = Some((id, pool));
    }
    let Some((id, pool)) = found else {
        let mut r = settings.clone();
        r.insert("PoolName".into(), json!(name));
        r.insert("LambdaConfig".into(), Value::Object(lambda_config.clone()));
        let creating = || format!("creating user pool {name:?}");
        let out = service
            .create_user_pool(req(Value::Object(r)).with_context(creating)?)
            .await
            .with_context(creating)?;
        let id = out.user_pool.id;
        tracing::info!(pool = %name, %id, "user pool created");
        return Ok(id);
    };
    const CREATE_ONLY: &[&str] = &["AliasAttributes", "UsernameAttributes", "UsernameConfiguration"];
    for key in CREATE_ONLY {
        let want = settings.get(*key).filter(|v| !v.is_null());
        let have = pool.get(*key).filter(|v| !v.is_null());
        let differs = match (want, have) {
            (Some(w), Some(h)) => w != h,
            (Some(w), None) => w.as_array().is_none_or(|a| !a.is_empty()),
            (None, Some(h)) => h.as_array().is_none_or(|a| !a.is_empty()),
            (None, None) => false,
        };
        if differs {
            tracing::warn!(pool = %name, %id, member = %key,
                "cannot change {key} of an existing user pool (CloudFormation would replace the pool): delete it to apply the new value");
        }
    }
    let mut r: Map<String, Value> = settings
        .iter()
        .filter(|(k, _)| !CREATE_ONLY.contains(&k.as_str()) && k.as_str() != "Schema")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    r.insert("UserPoolId".into(), json!(id));
    if pool["Name"] != name {
        r.insert("PoolName".into(), json!(name));
    }
    r.insert("LambdaConfig".into(), Value::Object(lambda_config.clone()));
    let updating = || format!("updating user pool {name:?}");
    service
        .update_user_pool(req(Value::Object(r)).with_context(updating)?)
        .await
        .with_context(updating)?;
    // Custom attributes added to the Schema since the pool was made.
    let have: BTreeSet<String> = pool["SchemaAttributes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["Name"].as_str().map(str::to_owned))
        .collect();
    let added: Vec<Value> = settings
        .get("Schema")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|a| {
            let n = a["Name"].as_str().unwrap_or_default();
            !cognate_core::ops::pools::standard_schema()
                .iter()
                .any(|s| s["Name"] == n)
                && !have.contains(&format!("custom:{n}"))
                && !have.contains(&format!("dev:custom:{n}"))
        })
        .cloned()
        .collect();
    if !added.is_empty() {
        service
            .add_custom_attributes(req(json!({"UserPoolId": id, "CustomAttributes": added}))?)
            .await
            .with_context(|| format!("adding custom attributes to user pool {name:?}"))?;
    }
    tracing::info!(pool = %name, %id, "user pool updated");
    Ok(id)
}

const MFA_MEMBERS: &[&str] = &[
    "SmsMfaConfiguration",
    "SoftwareTokenMfaConfiguration",
    "EmailMfaConfiguration",
    "WebAuthnConfiguration",
];

/// UpdateUserPool leaves out what SetUserPoolMfaConfig set; put it back.
async fn restore_mfa(service: &Cognito, id: &str, before: &Value) -> anyhow::Result<()> {
    let mut r = Map::new();
    let mode = before.get("MfaConfiguration").and_then(Value::as_str).unwrap_or("OFF");
    for k in MFA_MEMBERS {
        // MFA that is OFF has no factor configurations (Cognito refuses both at once).
        if mode == "OFF" && *k != "WebAuthnConfiguration" {
            continue;
        }
        if let Some(v) = before.get(*k).filter(|v| !v.is_null()) {
            r.insert((*k).to_owned(), v.clone());
        }
    }
    if r.is_empty() {
        return Ok(());
    }
    let now = describe_pool(service, id).await.unwrap_or(Value::Null);
    if MFA_MEMBERS.iter().all(|k| now.get(*k) == before.get(*k)) {
        return Ok(());
    }
    r.insert("UserPoolId".into(), json!(id));
    r.insert("MfaConfiguration".into(), json!(mode));
    service.set_user_pool_mfa_config(req(Value::Object(r))?).await?;
    Ok(())
}

/// CloudFormation's `EnabledMfas`, through SetUserPoolMfaConfig.
async fn apply_enabled_mfas(
    service: &Cognito,
    id: &str,
    settings: &Map<String, Value>,
    enabled: &[String],
) -> anyhow::Result<()> {
    let has = |m: &str| enabled.iter().any(|e| e == m);
    let mode = settings
        .get("MfaConfiguration")
        .and_then(Value::as_str)
        .unwrap_or("OFF");
    if mode == "OFF" {
        // Factors cannot be configured while MFA is off.
        service
            .set_user_pool_mfa_config(req(json!({"UserPoolId": id, "MfaConfiguration": "OFF"}))?)
            .await
            .context("applying EnabledMfas")?;
        return Ok(());
    }
    let mut r = json!({
        "UserPoolId": id,
        "MfaConfiguration": mode,
        "SoftwareTokenMfaConfiguration": {"Enabled": has("SOFTWARE_TOKEN_MFA")},
    });
    if has("SMS_MFA") {
        let mut sms = Map::new();
        for k in ["SmsAuthenticationMessage", "SmsConfiguration"] {
            if let Some(v) = settings.get(k) {
                sms.insert(k.into(), v.clone());
            }
        }
        r["SmsMfaConfiguration"] = Value::Object(sms);
    }
    if has("EMAIL_OTP") {
        let mut email = Map::new();
        for (from, to) in [
            ("EmailAuthenticationMessage", "Message"),
            ("EmailAuthenticationSubject", "Subject"),
        ] {
            if let Some(v) = settings.get(from) {
                email.insert(to.into(), v.clone());
            }
        }
        r["EmailMfaConfiguration"] = Value::Object(email);
    }
    service
        .set_user_pool_mfa_config(req(r)?)
        .await
        .context("applying EnabledMfas")?;
    Ok(())
}

/// Creates or updates the declared pools; returns name → pool id.
pub async fn apply_pools(service: &Cognito, pools: &[PoolDeclaration]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut ids = BTreeMap::new();
    for decl in pools {
        let id = if decl.existing {
            let Some(id) = find_pool_by_name(service, &decl.name).await? else {
                bail!("the existing user pool {:?} does not exist", decl.name);
            };
            // Attach our triggers, keeping the pool's other settings and triggers.
            let pool = describe_pool(service, &id).await.unwrap_or(Value::Null);
            let mut lc = pool["LambdaConfig"].as_object().cloned().unwrap_or_default();
            for (k, v) in &decl.lambda_config {
                lc.insert(k.clone(), v.clone());
            }
            update_lambda_config(service, &id, &pool, lc).await?;
            id
        } else {
            upsert_pool(service, &decl.name, None, &decl.settings, &decl.lambda_config).await?
        };
        ids.insert(decl.name.clone(), id);
    }
    Ok(ids)
}

/// UpdateUserPool with a described pool's settings and a new LambdaConfig (the custom
/// resource's read-modify-write). Nothing is written when the LambdaConfig is unchanged.
async fn update_lambda_config(
    service: &Cognito,
    id: &str,
    pool: &Value,
    lambda_config: Map<String, Value>,
) -> anyhow::Result<bool> {
    if pool.get("LambdaConfig").and_then(Value::as_object) == Some(&lambda_config) {
        return Ok(false);
    }
    let mut r = mutable_settings(pool);
    r.insert("UserPoolId".into(), json!(id));
    r.insert("LambdaConfig".into(), Value::Object(lambda_config));
    let updating = || format!("updating the triggers of user pool {:?}", pool["Name"]);
    service
        .update_user_pool(req(Value::Object(r)).with_context(updating)?)
        .await
        .with_context(updating)?;
    restore_mfa(service, id, pool).await?;
    Ok(true)
}

/// The members of a described pool that UpdateUserPool takes, so an update changes only
/// what the caller sets.
fn mutable_settings(pool: &Value) -> Map<String, Value> {
    cognate_core::ops::pools::UPDATE_USER_POOL_MEMBERS
        .iter()
        .filter_map(|k| pool.get(*k).map(|v| ((*k).to_owned(), v.clone())))
        .collect()
}

/// What a stack applied last time (kept in the store).
#[derive(Debug, Default, Serialize, Deserialize)]
struct StackState {
    #[serde(default)]
    resources: BTreeMap<String, StoredResource>,
    /// Existing pools by pool id.
    #[serde(default)]
    existing: BTreeMap<String, ExistingState>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredResource {
    r#type: String,
    id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct ExistingState {
    name: String,
    /// The LambdaConfig entries Cognate set on the pool.
    attached: Map<String, Value>,
    /// What the file declared for the pool (to tell whether it changed).
    fingerprint: String,
}

async fn load_state(service: &Cognito, stack: &str) -> StackState {
    match service.store().get_secret(STATE_SCOPE, stack).await {
        Ok(Some(bytes)) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!(%stack, error = %e, "unreadable serverless state: starting afresh");
            StackState::default()
        }),
        Ok(None) => StackState::default(),
        Err(e) => {
            tracing::warn!(%stack, error = %e, "cannot read serverless state: starting afresh");
            StackState::default()
        }
    }
}

async fn save_state(service: &Cognito, stack: &str, state: &StackState) -> anyhow::Result<()> {
    let bytes = serde_json::to_vec(state)?;
    service
        .store()
        .put_secret(STATE_SCOPE, stack, &bytes)
        .await
        .map_err(|e| anyhow!("saving the serverless state of {stack}: {e}"))?;
    Ok(())
}

/// Applies everything declared: the Rust API's pools, then a serverless.yml's resources and
/// existing-pool attachments. Nodes sharing a database apply one at a time (the store's
/// declarations lock, held until this returns, also when it fails): the next one finds what
/// the first created, by name, as a node restarting does.
pub async fn apply(service: &Cognito, decls: &Declarations) -> anyhow::Result<Applied> {
    if decls.pools.is_empty() && decls.stack.is_none() {
        return Ok(Applied::default());
    }
    let lock = service
        .store()
        .lock_declarations()
        .await
        .map_err(|e| anyhow!("waiting for other nodes to apply their configuration: {e}"))?;
    let applied = apply_locked(service, decls).await;
    drop(lock);
    applied
}

async fn apply_locked(service: &Cognito, decls: &Declarations) -> anyhow::Result<Applied> {
    let mut applied = Applied {
        pool_ids: apply_pools(service, &decls.pools).await?,
        ..Default::default()
    };
    if let Some(stack) = &decls.stack {
        let mut state = load_state(service, &stack.name).await;
        let result = apply_stack(service, stack, &mut state, &mut applied).await;
        save_state(service, &stack.name, &state).await?;
        result?;
    }
    Ok(applied)
}

async fn apply_stack(
    service: &Cognito,
    stack: &StackDeclaration,
    state: &mut StackState,
    applied: &mut Applied,
) -> anyhow::Result<()> {
    // An existing pool is never created: check them all before touching anything.
    for e in &stack.existing {
        if !stack.planned_pool_names.contains(&e.name) && find_pool_by_name(service, &e.name).await?.is_none() {
            bail!(
                "the existing user pool {:?} does not exist: `existing: true` attaches triggers to a pool created beforehand (through the API or another config)",
                e.name
            );
        }
    }
    let mut physical = Physical::default();
    for r in &stack.resources {
        if let Some(c) = &r.condition
            && !stack.condition_holds(&physical, c)?
        {
            tracing::info!(resource = %r.logical_id, condition = %c, "condition is false: resource skipped");
            continue;
        }
        let what = format!("resources.Resources.{}", r.logical_id);
        let props = stack.evaluate(&physical, &r.properties, &what)?;
        let known = state
            .resources
            .get(&r.logical_id)
            .filter(|s| s.r#type == r.kind)
            .map(|s| s.id.clone());
        let id = apply_resource(service, r, props, known.as_deref(), &mut physical, applied)
            .await
            .with_context(|| format!("applying {what} ({})", r.kind))?;
        if let Some(id) = id {
            state.resources.insert(
                r.logical_id.clone(),
                StoredResource {
                    r#type: r.kind.clone(),
                    id: id.clone(),
                },
            );
            applied.resource_ids.insert(r.logical_id.clone(), id);
        }
    }
    for (id, v) in &stack.known.refs {
        if let Some(s) = v.as_str() {
            applied.resource_ids.entry(id.clone()).or_insert_with(|| s.to_owned());
        }
    }

    for (function, env) in &stack.function_environments {
        let what = format!("the environment of function {function}");
        let resolved = stack.evaluate(&physical, &Value::Object(env.clone()), &what)?;
        let vars = resolved
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), env_string(v))).collect())
            .unwrap_or_default();
        applied.function_environments.insert(function.clone(), vars);
    }

    // Existing pools.
    let mut attached_now = BTreeSet::new();
    for e in &stack.existing {
        let what = format!("the triggers of the existing user pool {:?}", e.name);
        let desired = match stack.evaluate(&physical, &Value::Object(e.lambda_config.clone()), &what)? {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        let Some(id) = find_pool_by_name(service, &e.name).await? else {
            bail!("the existing user pool {:?} does not exist", e.name);
        };
        attached_now.insert(id.clone());
        applied.pool_ids.insert(e.name.clone(), id.clone());
        let fingerprint = cognate_crypto::hex(&cognate_crypto::sha256(
            serde_json::to_string(&json!([e.name, desired]))?.as_bytes(),
        ));
        let prev = state.existing.get(&id).cloned();
        if !e.force_deploy && prev.as_ref().is_some_and(|p| p.fingerprint == fingerprint) {
            tracing::debug!(pool = %e.name, %id, "existing pool: configuration unchanged, triggers not re-applied (no forceDeploy)");
            continue;
        }
        let pool = describe_pool(service, &id)
            .await
            .ok_or_else(|| anyhow!("the existing user pool {:?} disappeared", e.name))?;
        let mut lc = pool["LambdaConfig"].as_object().cloned().unwrap_or_default();
        let mut ours: BTreeSet<String> = e.function_arns.iter().cloned().collect();
        if let Some(p) = &prev {
            ours.extend(p.attached.values().filter_map(lambda_arn));
        }
        detach(&mut lc, &ours);
        for (k, v) in &desired {
            lc.insert(k.clone(), v.clone());
        }
        if update_lambda_config(service, &id, &pool, lc).await? {
            tracing::info!(pool = %e.name, %id, "triggers attached to the existing user pool");
        }
        state.existing.insert(
            id.clone(),
            ExistingState {
                name: e.name.clone(),
                attached: desired,
                fingerprint,
            },
        );
    }
    // Pools this file attached triggers to before but no longer does: take ours off.
    let gone: Vec<String> = state
        .existing
        .keys()
        .filter(|id| !attached_now.contains(*id))
        .cloned()
        .collect();
    for id in gone {
        let Some(prev) = state.existing.remove(&id) else {
            continue;
        };
        let Some(pool) = describe_pool(service, &id).await else {
            continue;
        };
        let mut lc = pool["LambdaConfig"].as_object().cloned().unwrap_or_default();
        let ours: BTreeSet<String> = prev.attached.values().filter_map(lambda_arn).collect();
        detach(&mut lc, &ours);
        if update_lambda_config(service, &id, &pool, lc).await? {
            tracing::info!(pool = %prev.name, %id, "triggers no longer declared removed from the existing user pool");
        }
    }
    Ok(())
}

/// The function ARN of a LambdaConfig entry (a plain ARN or a sender's `LambdaArn`).
fn lambda_arn(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if s.starts_with("arn:") && s.contains(":lambda:") => Some(s.clone()),
        Value::Object(m) => m.get("LambdaArn").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    }
}

/// Drops the entries pointing at these functions (and `KMSKeyID` when no sender is left),
/// as the custom resource does.
fn detach(lc: &mut Map<String, Value>, arns: &BTreeSet<String>) {
    lc.retain(|k, v| k == "KMSKeyID" || !lambda_arn(v).is_some_and(|a| arns.contains(&a)));
    if !lc.contains_key("CustomSMSSender") && !lc.contains_key("CustomEmailSender") {
        lc.shift_remove("KMSKeyID");
    }
}

fn str_prop(props: &Value, key: &str) -> Option<String> {
    match props.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Applies one resource; returns its physical id.
async fn apply_resource(
    service: &Cognito,
    r: &ResourceDeclaration,
    props: Value,
    known: Option<&str>,
    physical: &mut Physical,
    applied: &mut Applied,
) -> anyhow::Result<Option<String>> {
    let lid = r.logical_id.as_str();
    match r.kind.as_str() {
        "AWS::Cognito::UserPool" => {
            let p = pool_props(lid, &props);
            let name = p
                .name
                .clone()
                .or_else(|| r.alias.clone())
                .unwrap_or_else(|| lid.to_owned());
            // With EnabledMfas, MFA is switched on afterwards through SetUserPoolMfaConfig, as
            // CloudFormation does: CreateUserPool alone can only ask for SMS MFA.
            let mut settings = p.settings.clone();
            if p.enabled_mfas.is_some() {
                settings.remove("MfaConfiguration");
            }
            let id = upsert_pool(service, &name, known, &settings, &p.lambda_config).await?;
            if let Some(m) = &p.enabled_mfas {
                apply_enabled_mfas(service, &id, &p.settings, m).await?;
            }
            let region = &service.settings().region;
            let account = &service.settings().account;
            let url = service.issuer(&id);
            let provider_name = url
                .split_once("://")
                .map(|(_, rest)| rest.to_owned())
                .unwrap_or_else(|| url.clone());
            physical.set(
                lid,
                id.clone(),
                &[
                    (
                        "Arn",
                        json!(format!("arn:aws:cognito-idp:{region}:{account}:userpool/{id}")),
                    ),
                    ("ProviderName", json!(provider_name)),
                    ("ProviderURL", json!(url)),
                    ("UserPoolId", json!(id)),
                ],
            );
            applied.pool_ids.insert(name, id.clone());
            if let Some(alias) = &r.alias {
                applied.pool_ids.insert(alias.clone(), id.clone());
            }
            Ok(Some(id))
        }
        "AWS::Cognito::UserPoolClient" => {
            let id = apply_client(service, lid, props, known, physical).await?;
            applied.client_ids.insert(lid.to_owned(), id.clone());
            Ok(Some(id))
        }
        "AWS::Cognito::UserPoolGroup" => {
            let mut props = props;
            coerce(&mut props, GROUP_TYPES);
            let pool_id = str_prop(&props, "UserPoolId").ok_or_else(|| anyhow!("UserPoolId is required"))?;
            let name = str_prop(&props, "GroupName").unwrap_or_else(|| lid.to_owned());
            let mut r = props.as_object().cloned().unwrap_or_default();
            r.insert("GroupName".into(), json!(name));
            let exists = service
                .get_group(req(json!({"UserPoolId": pool_id, "GroupName": name}))?)
                .await
                .is_ok();
            if exists {
                service.update_group(req(Value::Object(r))?).await?;
            } else {
                service.create_group(req(Value::Object(r))?).await?;
                tracing::info!(group = %name, pool = %pool_id, "group created");
            }
            physical.set(lid, name.clone(), &[]);
            Ok(Some(name))
        }
        "AWS::Cognito::UserPoolUser" => {
            let mut props = props;
            coerce(&mut props, USER_TYPES);
            let pool_id = str_prop(&props, "UserPoolId").ok_or_else(|| anyhow!("UserPoolId is required"))?;
            let username = str_prop(&props, "Username")
                .ok_or_else(|| anyhow!("Username is required (Cognate does not generate user names)"))?;
            let existing = service
                .admin_get_user(req(json!({"UserPoolId": pool_id, "Username": username}))?)
                .await
                .ok();
            let name = match existing {
                Some(u) => u.username,
                None => {
                    let out = service
                        .admin_create_user(req(props.clone())?, &CallContext::default())
                        .await?;
                    tracing::info!(user = %username, pool = %pool_id, "user created");
                    out.user.username
                }
            };
            physical.set(lid, username.clone(), &[]);
            Ok(Some(name))
        }
        "AWS::Cognito::UserPoolUserToGroupAttachment" => {
            let pool_id = str_prop(&props, "UserPoolId").ok_or_else(|| anyhow!("UserPoolId is required"))?;
            let group = str_prop(&props, "GroupName").ok_or_else(|| anyhow!("GroupName is required"))?;
            let username = str_prop(&props, "Username").ok_or_else(|| anyhow!("Username is required"))?;
            service
                .admin_add_user_to_group(req(
                    json!({"UserPoolId": pool_id, "GroupName": group, "Username": username}),
                )?)
                .await?;
            let id = format!("{pool_id}/{group}/{username}");
            physical.set(lid, id.clone(), &[]);
            Ok(Some(id))
        }
        "AWS::Cognito::UserPoolDomain" => {
            let mut props = props;
            coerce(&mut props, DOMAIN_TYPES);
            let domain = str_prop(&props, "Domain").ok_or_else(|| anyhow!("Domain is required"))?;
            let pool_id = str_prop(&props, "UserPoolId").ok_or_else(|| anyhow!("UserPoolId is required"))?;
            let described = service
                .describe_user_pool_domain(req(json!({"Domain": domain}))?)
                .await?
                .domain_description;
            if described.user_pool_id.as_deref() == Some(pool_id.as_str()) {
                service.update_user_pool_domain(req(props.clone())?).await?;
            } else {
                service.create_user_pool_domain(req(props.clone())?).await?;
                tracing::info!(%domain, pool = %pool_id, "user pool domain created");
            }
            let region = &service.settings().region;
            physical.set(
                lid,
                domain.clone(),
                &[(
                    "CloudFrontDistribution",
                    json!(format!("{domain}.auth.{region}.amazoncognito.com")),
                )],
            );
            Ok(Some(domain))
        }
        "AWS::Cognito::UserPoolResourceServer" => {
            let identifier = str_prop(&props, "Identifier").ok_or_else(|| anyhow!("Identifier is required"))?;
            let pool_id = str_prop(&props, "UserPoolId").ok_or_else(|| anyhow!("UserPoolId is required"))?;
            let exists = service
                .describe_resource_server(req(json!({"UserPoolId": pool_id, "Identifier": identifier}))?)
                .await
                .is_ok();
            if exists {
                service.update_resource_server(req(props.clone())?).await?;
            } else {
                service.create_resource_server(req(props.clone())?).await?;
                tracing::info!(%identifier, pool = %pool_id, "resource server created");
            }
            physical.set(lid, identifier.clone(), &[]);
            Ok(Some(identifier))
        }
        "AWS::Cognito::UserPoolIdentityProvider" => {
            let mut props = props;
            coerce(&mut props, PROVIDER_TYPES);
            let name = str_prop(&props, "ProviderName").ok_or_else(|| anyhow!("ProviderName is required"))?;
            let pool_id = str_prop(&props, "UserPoolId").ok_or_else(|| anyhow!("UserPoolId is required"))?;
            let exists = service
                .identity_provider(&pool_id, &name)
                .await
                .map_err(|e| anyhow!("{e}"))?
                .is_some();
            if exists {
                let mut update = props.clone();
                if let Some(m) = update.as_object_mut() {
                    m.remove("ProviderType");
                }
                service.update_identity_provider(req(update)?).await?;
            } else {
                service.create_identity_provider(req(props.clone())?).await?;
                tracing::info!(provider = %name, pool = %pool_id, "identity provider created");
            }
            physical.set(lid, name.clone(), &[]);
            Ok(Some(name))
        }
        "AWS::Cognito::UserPoolUICustomizationAttachment" => {
            // UserPoolId, ClientId (an app client or `ALL`) and CSS: SetUICustomization's
            // members (CloudFormation has no logo). Applied again on every start.
            let pool_id = str_prop(&props, "UserPoolId").ok_or_else(|| anyhow!("UserPoolId is required"))?;
            let client_id = str_prop(&props, "ClientId").ok_or_else(|| anyhow!("ClientId is required"))?;
            service.set_ui_customization(req(props.clone())?).await?;
            tracing::info!(client = %client_id, pool = %pool_id, "hosted UI customization applied");
            physical.set(lid, client_id.clone(), &[]);
            Ok(Some(client_id))
        }
        other => {
            tracing::warn!(resource = %lid, r#type = %other, "resource type not supported by Cognate: ignored");
            Ok(None)
        }
    }
}

async fn find_client(service: &Cognito, pool_id: &str, known: Option<&str>, name: &str) -> Option<UserPoolClientType> {
    if let Some(id) = known
        && let Ok(out) = service
            .describe_user_pool_client(req(json!({"UserPoolId": pool_id, "ClientId": id})).ok()?)
            .await
    {
        return Some(out.user_pool_client);
    }
    let mut token: Option<String> = None;
    loop {
        let mut r = json!({"UserPoolId": pool_id, "MaxResults": 60});
        if let Some(t) = &token {
            r["NextToken"] = json!(t);
        }
        let out = service.list_user_pool_clients(req(r).ok()?).await.ok()?;
        if let Some(c) = out.user_pool_clients.iter().find(|c| c.client_name == name) {
            let d = service
                .describe_user_pool_client(req(json!({"UserPoolId": pool_id, "ClientId": c.client_id})).ok()?)
                .await
                .ok()?;
            return Some(d.user_pool_client);
        }
        token = Some(out.next_token?);
    }
}

async fn apply_client(
    service: &Cognito,
    lid: &str,
    mut props: Value,
    known: Option<&str>,
    physical: &mut Physical,
) -> anyhow::Result<String> {
    coerce(&mut props, CLIENT_TYPES);
    let pool_id = str_prop(&props, "UserPoolId").ok_or_else(|| anyhow!("UserPoolId is required"))?;
    let name = str_prop(&props, "ClientName").unwrap_or_else(|| lid.to_owned());
    let want_secret = props.get("GenerateSecret").and_then(Value::as_bool).unwrap_or(false);
    let mut body = props.as_object().cloned().unwrap_or_default();
    body.insert("ClientName".into(), json!(name));
    let found = find_client(service, &pool_id, known, &name).await;
    let client = match found {
        Some(c) if c.client_secret.is_some() == want_secret => {
            body.shift_remove("GenerateSecret");
            body.insert("ClientId".into(), json!(c.client_id));
            service
                .update_user_pool_client(req(Value::Object(body))?)
                .await?
                .user_pool_client
        }
        found => {
            if let Some(old) = found {
                // GenerateSecret cannot change: CloudFormation replaces the client.
                service
                    .delete_user_pool_client(req(json!({"UserPoolId": pool_id, "ClientId": old.client_id}))?)
                    .await?;
                tracing::info!(client = %name, "app client replaced (GenerateSecret changed)");
            }
            let c = service
                .create_user_pool_client(req(Value::Object(body))?)
                .await?
                .user_pool_client;
            tracing::info!(client = %name, id = %c.client_id, pool = %pool_id, "app client created");
            c
        }
    };
    let id = client.client_id;
    let mut attrs = vec![("ClientId", json!(id)), ("Name", json!(client.client_name))];
    if let Some(s) = client.client_secret {
        attrs.push(("ClientSecret", json!(s)));
    }
    physical.set(lid, id.clone(), &attrs);
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coercion_follows_cloudformation_types() {
        let mut v = json!({
            "Schema": [{"Name": "tier", "Mutable": "true", "Required": "false",
                        "StringAttributeConstraints": {"MinLength": 0, "MaxLength": 256}}],
            "Policies": {"PasswordPolicy": {"MinimumLength": "8", "RequireSymbols": "False"}},
            "AdminCreateUserConfig": {"AllowAdminCreateUserOnly": "true", "UnusedAccountValidityDays": "3"},
            "UsernameConfiguration": {"CaseSensitive": "false"},
            "UserPoolTags": {"n": 1},
            "EmailVerificationMessage": "true"
        });
        coerce(&mut v, POOL_TYPES);
        assert_eq!(v["Schema"][0]["Mutable"], json!(true));
        assert_eq!(v["Schema"][0]["Required"], json!(false));
        assert_eq!(v["Schema"][0]["StringAttributeConstraints"]["MaxLength"], json!("256"));
        assert_eq!(v["Policies"]["PasswordPolicy"]["MinimumLength"], json!(8));
        assert_eq!(v["Policies"]["PasswordPolicy"]["RequireSymbols"], json!(false));
        assert_eq!(v["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"], json!(true));
        assert_eq!(v["AdminCreateUserConfig"]["UnusedAccountValidityDays"], json!(3));
        assert_eq!(v["UsernameConfiguration"]["CaseSensitive"], json!(false));
        assert_eq!(v["UserPoolTags"]["n"], json!("1"));
        assert_eq!(v["EmailVerificationMessage"], json!("true"));
    }

    #[test]
    fn kms_key_ids_are_stable_uuids() {
        let a = kms_key_id("svc-dev", "Key");
        assert_eq!(a, kms_key_id("svc-dev", "Key"));
        assert_ne!(a, kms_key_id("svc-prod", "Key"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }

    #[test]
    fn references_and_order() {
        let mut deps = BTreeSet::new();
        references(
            &json!({"a": {"Ref": "Pool"}, "b": {"Fn::GetAtt": "Client.Name"},
                    "c": {"Fn::Sub": "${AWS::Region}-${Other.Arn}-${!Lit}"},
                    "d": {"Fn::Sub": ["${x}-${Y}", {"x": {"Ref": "Z"}}]}}),
            &mut deps,
        );
        assert_eq!(
            deps.into_iter().collect::<Vec<_>>(),
            ["Client", "Other", "Pool", "Y", "Z"]
        );
        let decl = |id: &str| ResourceDeclaration {
            logical_id: id.into(),
            kind: String::new(),
            properties: Value::Null,
            condition: None,
            alias: None,
        };
        let order = dependency_order(vec![
            (decl("Client"), BTreeSet::from(["Pool".to_owned()])),
            (decl("Pool"), BTreeSet::new()),
        ])
        .unwrap();
        assert_eq!(order[0].logical_id, "Pool");
        assert!(
            dependency_order(vec![
                (decl("A"), BTreeSet::from(["B".to_owned()])),
                (decl("B"), BTreeSet::from(["A".to_owned()])),
            ])
            .is_err()
        );
    }

    #[test]
    fn detach_keeps_other_functions() {
        let mut lc = Map::new();
        lc.insert("PreSignUp".into(), json!("arn:aws:lambda:r:1:function:ours"));
        lc.insert("PostConfirmation".into(), json!("arn:aws:lambda:r:1:function:theirs"));
        lc.insert(
            "CustomEmailSender".into(),
            json!({"LambdaArn": "arn:aws:lambda:r:1:function:ours", "LambdaVersion": "V1_0"}),
        );
        lc.insert("KMSKeyID".into(), json!("arn:aws:kms:r:1:key/k"));
        detach(
            &mut lc,
            &BTreeSet::from(["arn:aws:lambda:r:1:function:ours".to_owned()]),
        );
        assert_eq!(
            Value::Object(lc),
            json!({"PostConfirmation": "arn:aws:lambda:r:1:function:theirs"})
        );
    }
}
