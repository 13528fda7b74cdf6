//! Pools and functions declared up front (a serverless.yml, or the Rust builder), applied
//! when the server starts: every declared pool exists, with its triggers, before the server
//! is ready. Applying the same declarations again keeps pool ids and users.
use anyhow::{Context, bail};
use cognate_core::request::Request;
use cognate_core::{CallContext, Cognito};
use cognate_functions::{FunctionDef, FunctionTarget, ProcessSpec, RemoteSpec};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

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
#[derive(Default)]
pub struct Declarations {
    pub functions: Vec<FunctionDef>,
    pub pools: Vec<PoolDeclaration>,
}

/// CloudFormation `AWS::Cognito::UserPool` properties that CreateUserPool takes under
/// another name, or not at all.
fn cfn_to_api(props: &Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in props {
        if v.is_null() {
            continue;
        }
        match k.as_str() {
            "UserPoolName" => {
                out.insert("PoolName".into(), v.clone());
            }
            "EnabledMfas" => {}
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

/// Reads a serverless.yml (or a folder holding one) into declarations.
pub fn from_serverless(path: &Path, stage: &str, region: &str, account: &str) -> anyhow::Result<Declarations> {
    let opts = cognate_config::LoadOptions {
        stage: Some(stage.to_owned()),
        region: Some(region.to_owned()),
        account_id: Some(account.to_owned()),
        ..Default::default()
    };
    let project = cognate_config::load(path, &opts).map_err(|e| anyhow::anyhow!("{}", e.render_cli()))?;
    for w in &project.warnings {
        tracing::warn!("{w}");
    }
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
            spec.environment = f
                .environment
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()),
                    )
                })
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
    let ctx = project.eval_context();
    let mut pools = Vec::new();
    for spec in project.pools() {
        let overrides = cognate_config::eval(&Value::Object(spec.overrides.clone()), &ctx)
            .with_context(|| format!("evaluating the properties of {}", spec.logical_id))?;
        let mut settings = cfn_to_api(overrides.as_object().unwrap_or(&Map::new()));
        let mut lambda_config = match settings.remove("LambdaConfig") {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let generated = cognate_config::eval(&Value::Object(spec.lambda_config.clone()), &ctx)?;
        if let Value::Object(g) = generated {
            for (k, v) in g {
                lambda_config.insert(k, v);
            }
        }
        settings.remove("PoolName");
        pools.push(PoolDeclaration {
            name: spec.name.clone(),
            settings,
            lambda_config,
            existing: spec.existing,
        });
    }
    Ok(Declarations { functions, pools })
}

async fn find_pool_by_name(service: &Cognito, name: &str) -> anyhow::Result<Option<String>> {
    let mut token: Option<String> = None;
    loop {
        let mut req = json!({"MaxResults": 60});
        if let Some(t) = &token {
            req["NextToken"] = json!(t);
        }
        let out = service.list_user_pools(Request::from_value(req)?).await?;
        for p in out["UserPools"].as_array().into_iter().flatten() {
            if p["Name"] == name {
                return Ok(p["Id"].as_str().map(str::to_owned));
            }
        }
        match out.get("NextToken").and_then(Value::as_str) {
            Some(t) => token = Some(t.to_owned()),
            None => return Ok(None),
        }
    }
}

/// Creates or updates the declared pools; returns name → pool id.
pub async fn apply_pools(service: &Cognito, pools: &[PoolDeclaration]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut ids = BTreeMap::new();
    let _ = CallContext::default();
    for decl in pools {
        let found = find_pool_by_name(service, &decl.name).await?;
        let id = match (found, decl.existing) {
            (None, true) => bail!("the existing user pool {:?} does not exist", decl.name),
            (Some(id), true) => {
                // Attach our triggers, keeping the pool's other settings and triggers.
                let described = service
                    .describe_user_pool(Request::from_value(json!({"UserPoolId": id}))?)
                    .await?;
                let pool = &described["UserPool"];
                let mut lc = pool["LambdaConfig"].as_object().cloned().unwrap_or_default();
                for (k, v) in &decl.lambda_config {
                    lc.insert(k.clone(), v.clone());
                }
                let mut req = mutable_settings(pool);
                req.insert("UserPoolId".into(), json!(id));
                req.insert("LambdaConfig".into(), Value::Object(lc));
                service.update_user_pool(Request(req)).await?;
                id
            }
            (None, false) => {
                let mut req = decl.settings.clone();
                req.insert("PoolName".into(), json!(decl.name));
                req.insert("LambdaConfig".into(), Value::Object(decl.lambda_config.clone()));
                let out = service
                    .create_user_pool(Request(req))
                    .await
                    .with_context(|| format!("creating user pool {:?}", decl.name))?;
                out["UserPool"]["Id"].as_str().unwrap_or_default().to_owned()
            }
            (Some(id), false) => {
                // The declaration is authoritative, like a stack update.
                let mut req: Map<String, Value> = decl
                    .settings
                    .iter()
                    .filter(|(k, _)| {
                        !matches!(
                            k.as_str(),
                            "Schema" | "AliasAttributes" | "UsernameAttributes" | "UsernameConfiguration"
                        )
                    })
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                req.insert("UserPoolId".into(), json!(id));
                req.insert("LambdaConfig".into(), Value::Object(decl.lambda_config.clone()));
                service
                    .update_user_pool(Request(req))
                    .await
                    .with_context(|| format!("updating user pool {:?}", decl.name))?;
                id
            }
        };
        ids.insert(decl.name.clone(), id);
    }
    Ok(ids)
}

/// The members of a described pool that UpdateUserPool takes, so an update changes only
/// what the caller sets.
fn mutable_settings(pool: &Value) -> Map<String, Value> {
    const MUTABLE: &[&str] = &[
        "Policies",
        "DeletionProtection",
        "LambdaConfig",
        "AutoVerifiedAttributes",
        "SmsVerificationMessage",
        "EmailVerificationMessage",
        "EmailVerificationSubject",
        "VerificationMessageTemplate",
        "SmsAuthenticationMessage",
        "UserAttributeUpdateSettings",
        "MfaConfiguration",
        "DeviceConfiguration",
        "EmailConfiguration",
        "SmsConfiguration",
        "UserPoolTags",
        "AdminCreateUserConfig",
        "UserPoolAddOns",
        "AccountRecoverySetting",
        "UserPoolTier",
    ];
    MUTABLE
        .iter()
        .filter_map(|k| pool.get(*k).map(|v| ((*k).to_owned(), v.clone())))
        .collect()
}
