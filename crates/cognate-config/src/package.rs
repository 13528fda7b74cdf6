//! `package`: the CloudFormation template Serverless v3 would write to
//! `.serverless/cloudformation-template-update-stack.json` (spec §5, §7, §8, §10).

use std::cmp::Ordering;
use std::collections::HashMap;

use base64::Engine as _;
use md5::Digest;
use serde_json::{Map, Value, json};

use crate::error::ConfigError;
use crate::merge::{deep_merge, strip_nulls};
use crate::model::{CognitoEvent, Function, Project};
use crate::naming::{self, CUSTOM_RESOURCE_FUNCTION, CUSTOM_RESOURCE_LOG_GROUP, CUSTOM_RESOURCE_ROLE};
use crate::schema::truthy;

/// The values that come from the clock and from the zip artifact rather than the config.
#[derive(Debug, Clone, Default)]
pub struct PackageOptions {
    /// Epoch milliseconds of the package run (`Code.S3Key` folder, `ForceDeploy`).
    /// `None` = now.
    pub timestamp_ms: Option<u64>,
    /// `CodeSha256` of the service artifact (base64 SHA-256 of the zip). It also feeds the
    /// `<Fn>LambdaVersion<hash>` ids. `None` = the SHA-256 of an empty artifact.
    pub code_sha256: Option<String>,
}

/// Render a template the way Serverless writes it: `JSON.stringify(t, null, 2)` (2-space
/// indent, key order kept, non-ASCII unescaped, no trailing newline).
pub fn to_template_string(template: &Value) -> String {
    serde_json::to_string_pretty(template).unwrap_or_default()
}

fn obj(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn get_att(id: &str, attr: &str) -> Value {
    json!({"Fn::GetAtt": [id, attr]})
}

/// Add a resource with lodash-merge semantics (a colliding id merges into the existing one).
fn merge_resource(res: &mut Map<String, Value>, id: &str, value: Value) {
    match res.get_mut(id) {
        Some(existing) => deep_merge(existing, &value),
        None => {
            res.insert(id.to_string(), value);
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` for epoch milliseconds.
fn iso_time(ms: u64) -> String {
    let secs = ms / 1000;
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = cognate_crypto::calendar::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        ms % 1000
    )
}

/// Rough JavaScript `localeCompare` (ICU root collation) for the ASCII keys of a template:
/// punctuation < digits < letters, letters case-insensitive first, then lowercase first.
fn locale_compare(a: &str, b: &str) -> Ordering {
    fn primary(c: char) -> (u8, char) {
        let class = if c.is_ascii_digit() {
            1
        } else if c.is_alphabetic() {
            2
        } else {
            0
        };
        (class, c.to_ascii_lowercase())
    }
    let pa: Vec<_> = a.chars().map(primary).collect();
    let pb: Vec<_> = b.chars().map(primary).collect();
    pa.cmp(&pb).then_with(|| {
        for (x, y) in a.chars().zip(b.chars()) {
            if x != y {
                // lowercase sorts before uppercase
                return match (x.is_uppercase(), y.is_uppercase()) {
                    (false, true) => Ordering::Less,
                    (true, false) => Ordering::Greater,
                    _ => x.cmp(&y),
                };
            }
        }
        a.len().cmp(&b.len())
    })
}

fn sort_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| locale_compare(a, b));
            Value::Object(keys.into_iter().map(|k| (k.clone(), sort_keys(&m[k]))).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(sort_keys).collect()),
        other => other.clone(),
    }
}

/// The hash suffix of `<Fn>LambdaVersion<hash>` (spec §10).
fn version_hash(code_sha256: &str, properties: &Map<String, Value>) -> String {
    let mut p = properties.clone();
    p.shift_remove("Code");
    p.insert("layerConfigurations".into(), Value::Array(vec![]));
    let text = format!(
        "{code_sha256}{}",
        serde_json::to_string(&sort_keys(&Value::Object(p))).unwrap_or_default()
    );
    let digest = cognate_crypto::sha256(text.as_bytes());
    base64::engine::general_purpose::STANDARD
        .encode(digest)
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

fn sha256_b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(cognate_crypto::sha256(bytes))
}

fn log_statements(prefix: &str, extra_names: &[String]) -> [Value; 2] {
    let base = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:";
    let mut create = vec![json!({"Fn::Sub": format!("{base}/aws/lambda/{prefix}*:*")})];
    let mut put = vec![json!({"Fn::Sub": format!("{base}/aws/lambda/{prefix}*:*:*")})];
    for n in extra_names {
        create.push(json!({"Fn::Sub": format!("{base}/aws/lambda/{n}:*")}));
        put.push(json!({"Fn::Sub": format!("{base}/aws/lambda/{n}:*:*")}));
    }
    [
        json!({"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:CreateLogGroup", "logs:TagResource"], "Resource": create}),
        json!({"Effect": "Allow", "Action": ["logs:PutLogEvents"], "Resource": put}),
    ]
}

fn assume_role_policy() -> Value {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": {"Service": ["lambda.amazonaws.com"]},
            "Action": ["sts:AssumeRole"]
        }]
    })
}

/// How a function's `Role` is written for a `role:` value (function- or provider-level).
fn role_value(role: &Value) -> Value {
    match role {
        Value::String(s) if s.starts_with("arn:") => role.clone(),
        Value::String(s) => get_att(s, "Arn"),
        other => other.clone(),
    }
}

fn provider_role(project: &Project) -> Option<&Value> {
    let p = &project.provider.raw;
    p.get("iam")
        .and_then(|i| i.get("role"))
        .filter(|r| {
            r.is_string()
                || r.get("Fn::GetAtt").is_some()
                || r.get("Ref").is_some()
                || r.get("Fn::ImportValue").is_some()
        })
        .or_else(|| p.get("role").filter(|r| !r.is_null()))
}

fn provider_statements(project: &Project) -> Vec<Value> {
    let p = &project.provider.raw;
    p.get("iam")
        .and_then(|i| i.get("role"))
        .and_then(|r| r.get("statements"))
        .or_else(|| p.get("iamRoleStatements"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Build the template. Fails on the plugin's own errors (KMS rules, two existing pools on one
/// function) and on bad `resources.extensions`.
pub fn package(project: &Project, opts: &PackageOptions) -> Result<Value, ConfigError> {
    let service = &project.service;
    let stage = &project.provider.stage;
    // Packaging is a command, not the service: it stamps the template with the real time.
    #[allow(clippy::disallowed_methods)]
    let ts = opts.timestamp_ms.unwrap_or_else(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0))
    });
    let code_sha = opts.code_sha256.clone().unwrap_or_else(|| sha256_b64(b""));
    let artifact_dir = format!("serverless/{service}/{stage}/{ts}-{}", iso_time(ts));
    let name_prefix = format!("{service}-{stage}");

    let mut res = Map::new();
    let mut outputs = Map::new();

    // Deployment bucket.
    let bucket = match &project.provider.deployment_bucket {
        Some(name) => name.clone(),
        None => {
            res.insert(
                "ServerlessDeploymentBucket".into(),
                json!({
                    "Type": "AWS::S3::Bucket",
                    "Properties": {"BucketEncryption": {"ServerSideEncryptionConfiguration": [
                        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                    ]}}
                }),
            );
            let arn = |suffix: &str| {
                let mut parts = vec![
                    json!("arn:"),
                    json!({"Ref": "AWS::Partition"}),
                    json!(":s3:::"),
                    json!({"Ref": "ServerlessDeploymentBucket"}),
                ];
                if !suffix.is_empty() {
                    parts.push(json!(suffix));
                }
                json!({"Fn::Join": ["", parts]})
            };
            res.insert(
                "ServerlessDeploymentBucketPolicy".into(),
                json!({
                    "Type": "AWS::S3::BucketPolicy",
                    "Properties": {
                        "Bucket": {"Ref": "ServerlessDeploymentBucket"},
                        "PolicyDocument": {"Statement": [{
                            "Action": "s3:*",
                            "Effect": "Deny",
                            "Principal": "*",
                            "Resource": [arn("/*"), arn("")],
                            "Condition": {"Bool": {"aws:SecureTransport": false}}
                        }]}
                    }
                }),
            );
            json!({"Ref": "ServerlessDeploymentBucket"})
        }
    };
    outputs.insert(
        "ServerlessDeploymentBucketName".into(),
        json!({"Value": bucket, "Export": {"Name": format!("sls-{name_prefix}-ServerlessDeploymentBucketName")}}),
    );

    // Functions: log groups, role, functions, versions.
    let fns = &project.functions;
    let retention = |f: &Function| {
        f.raw
            .get("logRetentionInDays")
            .filter(|v| !v.is_null())
            .or(project.provider.log_retention_in_days.as_ref())
            .cloned()
    };
    for f in fns {
        let mut props = Map::new();
        props.insert("LogGroupName".into(), json!(format!("/aws/lambda/{}", f.name)));
        if let Some(r) = retention(f) {
            props.insert("RetentionInDays".into(), r);
        }
        res.insert(
            naming::log_group_logical_id(&f.key),
            json!({"Type": "AWS::Logs::LogGroup", "Properties": props}),
        );
    }
    let custom_role = provider_role(project).cloned();
    if !fns.is_empty() && custom_role.is_none() {
        let extra: Vec<String> = fns
            .iter()
            .filter(|f| !f.name.starts_with(&name_prefix))
            .map(|f| f.name.clone())
            .collect();
        let mut statements: Vec<Value> = log_statements(&name_prefix, &extra).into();
        statements.extend(provider_statements(project));
        res.insert(
            "IamRoleLambdaExecution".into(),
            json!({
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": assume_role_policy(),
                    "Policies": [{
                        "PolicyName": {"Fn::Join": ["-", [service, stage, "lambda"]]},
                        "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}
                    }],
                    "Path": "/",
                    "RoleName": {"Fn::Join": ["-", [service, stage, {"Ref": "AWS::Region"}, "lambdaRole"]]}
                }
            }),
        );
    }
    let individually = project
        .config
        .get("package")
        .and_then(|p| p.get("individually"))
        .is_some_and(truthy);
    let mut versions = Vec::new();
    for f in fns {
        let zip = if individually { &f.key } else { service };
        let mut props = Map::new();
        props.insert(
            "Code".into(),
            json!({"S3Bucket": bucket, "S3Key": format!("{artifact_dir}/{zip}.zip")}),
        );
        if let Some(h) = &f.handler {
            props.insert("Handler".into(), json!(h));
        }
        props.insert(
            "Runtime".into(),
            json!(f.runtime.clone().unwrap_or_else(|| "nodejs18.x".into())),
        );
        props.insert("FunctionName".into(), json!(f.name));
        props.insert("MemorySize".into(), f.memory_size.clone());
        props.insert("Timeout".into(), f.timeout.clone());
        if let Some(d) = &f.description {
            props.insert("Description".into(), d.clone());
        }
        if !f.environment.is_empty() {
            props.insert("Environment".into(), json!({"Variables": f.environment}));
        }
        let role = match f.raw.get("role").filter(|r| !r.is_null()).or(custom_role.as_ref()) {
            Some(r) => role_value(r),
            None => get_att("IamRoleLambdaExecution", "Arn"),
        };
        props.insert("Role".into(), role);
        let fn_id = f.logical_id();
        let versioned = f
            .raw
            .get("versionFunction")
            .map_or(project.provider.version_functions, truthy);
        if versioned {
            let hash = version_hash(&code_sha, &props);
            versions.push((
                fn_id.clone(),
                format!("{}LambdaVersion{hash}", naming::normalize_function_key(&f.key)),
            ));
        }
        res.insert(
            fn_id,
            json!({"Type": "AWS::Lambda::Function", "Properties": props, "DependsOn": [naming::log_group_logical_id(&f.key)]}),
        );
    }
    for (fn_id, version_id) in &versions {
        res.insert(
            version_id.clone(),
            json!({
                "Type": "AWS::Lambda::Version",
                "DeletionPolicy": "Retain",
                "Properties": {"FunctionName": {"Ref": fn_id}, "CodeSha256": code_sha}
            }),
        );
        outputs.insert(
            format!("{fn_id}QualifiedArn"),
            json!({
                "Description": "Current Lambda function version",
                "Value": {"Ref": version_id},
                "Export": {"Name": format!("sls-{name_prefix}-{fn_id}QualifiedArn")}
            }),
        );
    }

    compile_new_pools(project, &mut res)?;
    compile_existing_pools(project, &mut res, &bucket, &artifact_dir, ts)?;

    let mut template = Map::new();
    template.insert("AWSTemplateFormatVersion".into(), json!("2010-09-09"));
    template.insert(
        "Description".into(),
        json!("The AWS CloudFormation template for this Serverless application"),
    );
    template.insert("Resources".into(), Value::Object(res));
    template.insert("Outputs".into(), Value::Object(outputs));
    let mut template = Value::Object(template);
    apply_user_resources(project, &mut template)?;
    Ok(template)
}

fn sender(trigger: &str) -> bool {
    trigger == "CustomSMSSender" || trigger == "CustomEmailSender"
}

fn trigger_of(ev: &CognitoEvent) -> Result<&str, ConfigError> {
    ev.trigger.as_deref().ok_or_else(|| {
        ConfigError::Validation(vec![format!(
            "at 'functions.{}.events.{}.cognitoUserPool': must have required property 'trigger'",
            ev.function, ev.index
        )])
    })
}

fn same_key(a: &Value, b: &Value) -> bool {
    a == b || serde_json::to_string(a).ok() == serde_json::to_string(b).ok()
}

fn compile_new_pools(project: &Project, res: &mut Map<String, Value>) -> Result<(), ConfigError> {
    let entries: Vec<&CognitoEvent> = project.cognito_events.iter().filter(|e| !e.existing).collect();
    let mut pools: Vec<&str> = Vec::new();
    for e in &entries {
        if !pools.contains(&e.pool.as_str()) {
            pools.push(&e.pool);
        }
    }
    for pool in &pools {
        let mut seen_kms: Option<&Value> = None;
        let mut lambda_config = Map::new();
        let mut depends_on = Vec::new();
        for e in entries.iter().filter(|e| e.pool == *pool) {
            let trigger = trigger_of(e)?;
            let fn_id = naming::function_logical_id(&e.function);
            let arn = get_att(&fn_id, "Arn");
            if sender(trigger) {
                let Some(kms) = &e.kms_key_id else {
                    return Err(ConfigError::KmsKeyNotSet { pool: pool.to_string() });
                };
                if let Some(prev) = seen_kms
                    && !same_key(prev, kms)
                {
                    return Err(ConfigError::KmsKeyNotSame { pool: pool.to_string() });
                }
                seen_kms = Some(kms);
                let version = e.lambda_version.clone().unwrap_or_else(|| "V1_0".into());
                lambda_config.insert(trigger.to_string(), json!({"LambdaArn": arn, "LambdaVersion": version}));
                lambda_config.insert("KMSKeyID".into(), kms.clone());
            } else {
                lambda_config.insert(trigger.to_string(), arn);
            }
            depends_on.push(Value::String(fn_id));
        }
        merge_resource(
            res,
            &naming::pool_logical_id(pool),
            json!({
                "Type": "AWS::Cognito::UserPool",
                "Properties": {"UserPoolName": pool, "LambdaConfig": lambda_config},
                "DependsOn": depends_on
            }),
        );
    }
    for e in &entries {
        let trigger = trigger_of(e)?;
        let fn_id = naming::function_logical_id(&e.function);
        merge_resource(
            res,
            &naming::permission_logical_id(&e.function, &e.pool, trigger),
            json!({
                "Type": "AWS::Lambda::Permission",
                "Properties": {
                    "FunctionName": get_att(&fn_id, "Arn"),
                    "Action": "lambda:InvokeFunction",
                    "Principal": "cognito-idp.amazonaws.com",
                    "SourceArn": get_att(&naming::pool_logical_id(&e.pool), "Arn")
                }
            }),
        );
    }
    Ok(())
}

fn add_statement(statements: &mut Vec<Value>, st: Value) {
    if let Some(Value::String(r)) = st.get("Resource")
        && statements
            .iter()
            .any(|s| s.get("Resource").and_then(Value::as_str) == Some(r.as_str()))
    {
        return;
    }
    statements.push(st);
}

/// `<service>-<stage>-custom-resource-existing-cup`, shortened with an MD5 when over 64 chars.
fn custom_function_name(prefix: &str) -> String {
    let full = format!("{prefix}-custom-resource-existing-cup");
    if full.len() <= 64 {
        return full;
    }
    let digest = md5::Md5::digest(full.as_bytes());
    let hex = cognate_crypto::hex(&digest);
    let head: String = full.chars().take(32).collect();
    format!("{head}{hex}")
}

fn compile_existing_pools(
    project: &Project,
    res: &mut Map<String, Value>,
    bucket: &Value,
    artifact_dir: &str,
    ts: u64,
) -> Result<(), ConfigError> {
    let mut statements: Vec<Value> = Vec::new();
    let mut seen_kms: HashMap<&str, &Value> = HashMap::new();
    let mut last_for_pool: HashMap<&str, String> = HashMap::new();
    let mut any = false;
    for f in &project.functions {
        let events: Vec<&CognitoEvent> = project
            .cognito_events
            .iter()
            .filter(|e| e.existing && e.function == f.key)
            .collect();
        let Some(first) = events.first() else {
            continue;
        };
        any = true;
        let cr_id = naming::custom_resource_logical_id(&f.key);
        let mut configs = Vec::new();
        for (i, e) in events.iter().enumerate() {
            if e.pool != first.pool {
                return Err(ConfigError::MultiplePoolsPerFunction {
                    function: f.name.clone(),
                    first: first.pool.clone(),
                    other: e.pool.clone(),
                });
            }
            let mut item = Map::new();
            if let Some(t) = &e.trigger {
                item.insert("Trigger".into(), json!(t));
                if sender(t) {
                    let Some(kms) = &e.kms_key_id else {
                        return Err(ConfigError::KmsKeyNotSet { pool: e.pool.clone() });
                    };
                    if let Some(prev) = seen_kms.get(e.pool.as_str())
                        && !same_key(prev, kms)
                    {
                        return Err(ConfigError::KmsKeyNotSame { pool: e.pool.clone() });
                    }
                    seen_kms.insert(&e.pool, kms);
                    item.insert(
                        "LambdaVersion".into(),
                        json!(e.lambda_version.clone().unwrap_or_else(|| "V1_0".into())),
                    );
                    item.insert("KMSKeyID".into(), kms.clone());
                }
            }
            if i == 0 {
                if e.is_sender()
                    && let Some(kms) = &e.kms_key_id
                {
                    add_statement(
                        &mut statements,
                        json!({"Effect": "Allow", "Resource": kms, "Action": ["kms:CreateGrant"]}),
                    );
                }
                add_statement(
                    &mut statements,
                    json!({"Effect": "Allow", "Resource": "*", "Action": ["cognito-idp:ListUserPools", "cognito-idp:DescribeUserPool", "cognito-idp:UpdateUserPool"]}),
                );
            }
            configs.push(Value::Object(item));
        }
        let mut depends_on = vec![json!(f.logical_id()), json!(CUSTOM_RESOURCE_FUNCTION)];
        if let Some(prev) = last_for_pool.insert(&first.pool, cr_id.clone()) {
            depends_on.push(json!(prev));
        }
        let mut props = Map::new();
        props.insert("ServiceToken".into(), get_att(CUSTOM_RESOURCE_FUNCTION, "Arn"));
        props.insert("FunctionName".into(), json!(f.name));
        props.insert("UserPoolName".into(), json!(first.pool));
        props.insert("UserPoolConfigs".into(), Value::Array(configs));
        if first.force_deploy {
            props.insert("ForceDeploy".into(), json!(ts));
        }
        merge_resource(
            res,
            &cr_id,
            json!({"Type": "Custom::CognitoUserPool", "Version": 1, "DependsOn": depends_on, "Properties": props}),
        );
        add_statement(
            &mut statements,
            json!({
                "Effect": "Allow",
                "Resource": {"Fn::Sub": format!("arn:${{AWS::Partition}}:lambda:*:*:function:{}", f.name)},
                "Action": ["lambda:AddPermission", "lambda:RemovePermission"]
            }),
        );
    }
    if !any {
        return Ok(());
    }
    add_statement(
        &mut statements,
        json!({"Effect": "Allow", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:iam::*:role/*"}, "Action": ["iam:PassRole"]}),
    );
    let p = &project.provider;
    let prefix = format!("{}-{}", project.service, p.stage);
    let fn_name = custom_function_name(&prefix);
    let mut depends_on = Vec::new();
    let role = match &p.deployment_role {
        Some(r) => r.clone(),
        None => {
            let mut all: Vec<Value> = if p.framework_lambda_logs {
                log_statements(&prefix, &[]).into()
            } else {
                Vec::new()
            };
            for s in statements {
                add_statement(&mut all, s);
            }
            res.insert(
                CUSTOM_RESOURCE_ROLE.into(),
                json!({
                    "Type": "AWS::IAM::Role",
                    "Properties": {
                        "AssumeRolePolicyDocument": assume_role_policy(),
                        "Policies": [{
                            "PolicyName": {"Fn::Join": ["-", [p.stage, project.service, "custom-resources-lambda"]]},
                            "PolicyDocument": {"Version": "2012-10-17", "Statement": all}
                        }]
                    }
                }),
            );
            depends_on.push(json!(CUSTOM_RESOURCE_ROLE));
            get_att(CUSTOM_RESOURCE_ROLE, "Arn")
        }
    };
    if p.framework_lambda_logs {
        depends_on.push(json!(CUSTOM_RESOURCE_LOG_GROUP));
    }
    res.insert(
        CUSTOM_RESOURCE_FUNCTION.into(),
        json!({
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Code": {"S3Bucket": bucket, "S3Key": format!("{artifact_dir}/custom-resources.zip")},
                "FunctionName": fn_name,
                "Handler": "cognito-user-pool/handler.handler",
                "MemorySize": 1024,
                "Runtime": "nodejs18.x",
                "Timeout": 180,
                "Role": role
            },
            "DependsOn": depends_on
        }),
    );
    if p.framework_lambda_logs {
        let mut props = Map::new();
        props.insert("LogGroupName".into(), json!(format!("/aws/lambda/{fn_name}")));
        if let Some(r) = &p.log_retention_in_days {
            props.insert("RetentionInDays".into(), r.clone());
        }
        res.insert(
            CUSTOM_RESOURCE_LOG_GROUP.into(),
            json!({"Type": "AWS::Logs::LogGroup", "Properties": props}),
        );
    }
    Ok(())
}

const EXTENSION_REPLACED: [&str; 5] = [
    "Condition",
    "CreationPolicy",
    "DeletionPolicy",
    "UpdatePolicy",
    "UpdateReplacePolicy",
];

/// Merge `resources` into the template (§7.1), apply `resources.extensions` (§7.2), then drop
/// `null`s inside `Properties` and falsy `Properties`.
fn apply_user_resources(project: &Project, template: &mut Value) -> Result<(), ConfigError> {
    let sections: Vec<&Value> = match &project.resources {
        Value::Array(a) => a.iter().collect(),
        Value::Null => Vec::new(),
        other => vec![other],
    };
    for section in &sections {
        let mut s = (*section).clone();
        if let Value::Object(m) = &mut s {
            m.shift_remove("extensions");
        }
        if s.is_object() {
            deep_merge(template, &s);
        }
    }
    let resources = template
        .get_mut("Resources")
        .and_then(Value::as_object_mut)
        .ok_or_else(|| ConfigError::Invalid("resources.Resources must be an object".into()))?;
    for section in &sections {
        let Some(Value::Object(ext)) = section.get("extensions") else {
            continue;
        };
        for (id, e) in ext {
            let Some(Value::Object(target)) = resources.get_mut(id) else {
                return Err(ConfigError::Extension(format!(
                    "Cannot extend \"{id}\" in resources.extensions: there is no such resource in the template"
                )));
            };
            for (attr, v) in obj(e.clone()) {
                match attr.as_str() {
                    "Properties" | "Metadata" => {
                        let slot = target.entry(attr.clone()).or_insert_with(|| json!({}));
                        if !slot.is_object() {
                            *slot = json!({});
                        }
                        if let (Value::Object(dst), Value::Object(src)) = (slot, v) {
                            for (k, x) in src {
                                dst.insert(k, x);
                            }
                        }
                    }
                    "DependsOn" => {
                        let slot = target.entry("DependsOn").or_insert_with(|| json!([]));
                        if let Value::String(s) = slot {
                            *slot = json!([s.clone()]);
                        }
                        if let Value::Array(list) = slot {
                            match v {
                                Value::Array(more) => list.extend(more),
                                other => list.push(other),
                            }
                        }
                    }
                    a if EXTENSION_REPLACED.contains(&a) => {
                        target.insert(attr.clone(), v);
                    }
                    other => {
                        return Err(ConfigError::Extension(format!(
                            "Attribute \"{other}\" of \"{id}\" in resources.extensions is not supported (supported: Properties, DependsOn, Metadata, {})",
                            EXTENSION_REPLACED.join(", ")
                        )));
                    }
                }
            }
        }
    }
    for r in resources.values_mut() {
        if let Value::Object(m) = r {
            match m.get_mut("Properties") {
                Some(p) if truthy(p) => strip_nulls(p),
                Some(_) => {
                    m.shift_remove("Properties");
                }
                None => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_times() {
        assert_eq!(iso_time(1_700_000_000_000), "2023-11-14T22:13:20.000Z");
        assert_eq!(iso_time(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso_time(951_782_400_123), "2000-02-29T00:00:00.123Z");
    }

    #[test]
    fn locale_order_puts_layer_configurations_between_handler_and_memory_size() {
        let mut keys = vec![
            "Timeout",
            "MemorySize",
            "layerConfigurations",
            "Handler",
            "Role",
            "FunctionName",
            "Runtime",
        ];
        keys.sort_by(|a, b| locale_compare(a, b));
        assert_eq!(
            keys,
            vec![
                "FunctionName",
                "Handler",
                "layerConfigurations",
                "MemorySize",
                "Role",
                "Runtime",
                "Timeout"
            ]
        );
        assert_eq!(locale_compare("a", "A"), Ordering::Less);
        assert_eq!(locale_compare("a_b", "a1"), Ordering::Less);
        assert_eq!(locale_compare("a1", "ab"), Ordering::Less);
    }

    #[test]
    fn long_custom_function_names_are_hashed() {
        let n = custom_function_name("cup-existing-with-a-rather-long-service-name-for-testing-dev");
        assert_eq!(n.len(), 64);
        assert!(n.starts_with("cup-existing-with-a-rather-long-"));
        assert_eq!(custom_function_name("svc-dev"), "svc-dev-custom-resource-existing-cup");
    }
}
