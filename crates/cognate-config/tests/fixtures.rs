//! Checks every Serverless v3 golden fixture in `tests/serverless-fixtures`:
//! passing cases must package to the same template, error cases must fail with the same
//! message, and warnings must match what Serverless printed.

// Test code: a failed unwrap is the test's report, and clients sign with the real time.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use cognate_config::{LoadOptions, PackageOptions, load, package, to_template_string, validate};
use serde_json::{Value, json};
use sha2::Digest as _;

fn fixtures_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/serverless-fixtures");
    assert!(
        dir.join("README.md").is_file(),
        "Serverless fixtures not found at {}; they live in tests/serverless-fixtures",
        dir.display()
    );
    dir
}

fn cases() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(fixtures_dir())
        .expect("read fixtures dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.join("serverless.yml").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn opts() -> LoadOptions {
    LoadOptions::default()
        .with_stage("dev")
        .with_region("us-east-1")
        .with_env_map(BTreeMap::new())
}

/// The text between `--- <name> ---\n` and the next `\n--- ` marker (or the end).
fn section(text: &str, name: &str) -> String {
    let marker = format!("--- {name} ---\n");
    let start = text.find(&marker).map(|i| i + marker.len()).unwrap_or(text.len());
    let rest = &text[start..];
    let end = rest.find("\n--- ").unwrap_or(rest.len());
    rest[..end].to_string()
}

/// The `  at ...` lines of Serverless's warning block on stderr.
fn warning_lines(stderr: &str) -> Vec<String> {
    let Some(i) = stderr.find("Warning: Invalid configuration encountered\n") else {
        return Vec::new();
    };
    stderr[i..]
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with("  at "))
        .map(|l| l[2..].to_string())
        .collect()
}

// ---- the normaliser (same rules as tools/normalize.py) ----

fn is_artifact_stamp(s: &str) -> bool {
    // <digits>-YYYY-MM-DDTHH:MM:SS.mmmZ
    let Some((ms, iso)) = s.split_once('-') else {
        return false;
    };
    let shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    !ms.is_empty()
        && ms.chars().all(|c| c.is_ascii_digit())
        && iso.len() == shape.len()
        && iso.chars().zip(shape.chars()).all(|(c, p)| match p {
            'd' => c.is_ascii_digit(),
            other => c == other,
        })
}

fn norm_text(s: &str) -> String {
    let mut out = s.to_string();
    if out.starts_with("serverless/") || out.contains("serverless/") {
        let parts: Vec<String> = out
            .split('/')
            .map(|p| {
                if is_artifact_stamp(p) {
                    "<ARTIFACT_DIR>".to_string()
                } else {
                    p.to_string()
                }
            })
            .collect();
        out = parts.join("/");
    }
    if let Some(i) = out.find("LambdaVersion") {
        let before_ok = out[..i].chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric());
        let after = &out[i + "LambdaVersion".len()..];
        let run = after.chars().take_while(char::is_ascii_alphanumeric).count();
        if before_ok && run >= 20 {
            out = format!("{}LambdaVersion<HASH>{}", &out[..i], &after[run..]);
        }
    }
    out
}

fn norm_value(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(norm_text(s)),
        Value::Array(a) => Value::Array(a.iter().map(norm_value).collect()),
        Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (norm_text(k), norm_value(x))).collect()),
        other => other.clone(),
    }
}

fn normalize(template: &Value) -> Value {
    let mut t = norm_value(template);
    if let Some(Value::Object(res)) = t.get_mut("Resources") {
        for r in res.values_mut() {
            let ty = r.get("Type").and_then(Value::as_str).unwrap_or_default().to_string();
            if let Some(Value::Object(props)) = r.get_mut("Properties") {
                if ty == "AWS::Lambda::Version" && props.contains_key("CodeSha256") {
                    props.insert("CodeSha256".into(), json!("<CODESHA256>"));
                }
                if ty == "Custom::CognitoUserPool" && props.contains_key("ForceDeploy") {
                    props.insert("ForceDeploy".into(), json!("<TIMESTAMP>"));
                }
            }
        }
    }
    t
}

fn first_difference(a: &str, b: &str) -> String {
    for (i, (x, y)) in a.lines().zip(b.lines()).enumerate() {
        if x != y {
            return format!("line {}: got `{x}`, expected `{y}`", i + 1);
        }
    }
    format!(
        "lengths differ: got {} lines, expected {}",
        a.lines().count(),
        b.lines().count()
    )
}

fn check_passing(dir: &Path, failures: &mut Vec<String>) -> bool {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let expected_text = fs::read_to_string(dir.join("expected.json")).unwrap();
    let expected: Value = serde_json::from_str(&expected_text).unwrap();
    let report = validate(dir, &opts());
    if let Some(e) = &report.error {
        failures.push(format!("{name}: expected a template, got error: {e}"));
        return false;
    }
    assert_eq!(report.exit_code(), 0);
    // Warnings, exactly as Serverless printed them.
    let output = fs::read_to_string(dir.join("output.txt")).unwrap();
    let stderr = section(&output, "stderr");
    let expected_warnings = warning_lines(&stderr);
    if report.warnings != expected_warnings {
        failures.push(format!(
            "{name}: warnings {:?}, expected {expected_warnings:?}",
            report.warnings
        ));
    }
    if !report.warnings.is_empty() && !stderr.contains(&report.render_stderr()) {
        failures.push(format!("{name}: warning block differs:\n{}", report.render_stderr()));
    }
    let project = load(dir, &opts()).unwrap();
    assert_eq!(project.warnings, report.warnings);
    let code_sha256 = fs::read(dir.join("artifact.zip"))
        .ok()
        .map(|zip| base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(zip)));
    let exact_possible = code_sha256.is_some() || !expected_text.contains("LambdaVersion");
    let template = package(
        &project,
        &PackageOptions {
            timestamp_ms: Some(1_700_000_000_000),
            code_sha256,
        },
    )
    .unwrap();
    let got = to_template_string(&template);
    let got_norm = to_template_string(&normalize(&template));
    let want_norm = to_template_string(&normalize(&expected));
    if got_norm != want_norm {
        failures.push(format!(
            "{name}: normalised template differs: {}",
            first_difference(&got_norm, &want_norm)
        ));
        return false;
    }
    // With the pinned clock and the real artifact hash, the template is byte-identical.
    if exact_possible && got != expected_text {
        failures.push(format!(
            "{name}: template not byte-identical: {}",
            first_difference(&got, &expected_text)
        ));
        return false;
    }
    true
}

fn check_failing(dir: &Path, failures: &mut Vec<String>) {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let text = fs::read_to_string(dir.join("expected-error.txt")).unwrap();
    assert!(text.starts_with("exit code: 1\n"), "{name}: fixture is not a failure");
    let mut stdout = section(&text, "stdout");
    let crashed = stdout.contains("TypeError:");
    if crashed {
        // Serverless crashes here; Cognate gives the strict-mode message instead.
        let strict = dir.with_file_name(format!("{name}-strict"));
        stdout = section(
            &fs::read_to_string(strict.join("expected-error.txt")).unwrap(),
            "stdout",
        );
    }
    let report = validate(dir, &opts());
    if report.exit_code() != 1 {
        failures.push(format!(
            "{name}: expected exit code 1, got {} (warnings {:?})",
            report.exit_code(),
            report.warnings
        ));
        return;
    }
    let got = report.render_stdout();
    if got.trim_end() != stdout.trim_end() {
        failures.push(format!("{name}: stdout\n{got}\nexpected\n{stdout}"));
    }
    let first_message = stdout.lines().nth(1).unwrap_or_default();
    let error = report.error.clone().unwrap_or_default();
    if !first_message.ends_with(error.lines().next().unwrap_or("<none>")) {
        failures.push(format!(
            "{name}: error message `{error}` does not match `{first_message}`"
        ));
    }
    if !crashed {
        let expected_warnings = warning_lines(&section(&text, "stderr"));
        if report.warnings != expected_warnings {
            failures.push(format!(
                "{name}: warnings {:?}, expected {expected_warnings:?}",
                report.warnings
            ));
        }
    }
    if load(dir, &opts()).is_ok() {
        failures.push(format!("{name}: load succeeded on a failing case"));
    }
}

#[test]
fn every_fixture_matches_serverless_v3() {
    let mut failures = Vec::new();
    let (mut passing, mut failing, mut exact) = (0, 0, 0);
    for dir in cases() {
        if dir.join("expected.json").is_file() {
            passing += 1;
            if check_passing(&dir, &mut failures) {
                exact += 1;
            }
        } else if dir.join("expected-error.txt").is_file() {
            failing += 1;
            check_failing(&dir, &mut failures);
        } else {
            failures.push(format!(
                "{}: neither expected.json nor expected-error.txt",
                dir.display()
            ));
        }
    }
    eprintln!("{passing} passing fixtures ({exact} byte-identical), {failing} failing fixtures");
    assert!(
        passing >= 30 && failing >= 20,
        "too few fixtures: {passing} passing, {failing} failing"
    );
    assert!(
        failures.is_empty(),
        "{} of {} fixtures failed:\n{}",
        failures.len(),
        passing + failing,
        failures.join("\n\n")
    );
    assert_eq!(exact, passing);
}

#[test]
fn pools_view_of_custom_senders() {
    let project = load(&fixtures_dir().join("custom-senders"), &opts()).unwrap();
    let pools = project.pools();
    assert_eq!(pools.len(), 2);
    let p1 = &pools[0];
    assert_eq!(
        (p1.name.as_str(), p1.logical_id.as_str(), p1.existing),
        ("MyUserPool1", "CognitoUserPoolMyUserPool1", false)
    );
    assert_eq!(
        Value::Object(p1.lambda_config.clone()),
        json!({
            "CustomSMSSender": {
                "LambdaArn": "arn:aws:lambda:us-east-1:123456789012:function:cup-custom-senders-dev-customSMSSenderFunction",
                "LambdaVersion": "V1_0"
            },
            "KMSKeyID": "arn:aws:kms:eu-west-1:111111111111:key/12345678-9abc-def0-1234-56789abcdef1"
        })
    );
    assert!(p1.overrides.is_empty());
    let p2 = &pools[1];
    assert_eq!(p2.kms_key_id, Some(json!({"Fn::GetAtt": ["kmsKey", "Arn"]})));
    assert_eq!(p2.triggers.len(), 1);
    assert_eq!(p2.triggers[0].function, "customEmailSenderFunction");
    assert_eq!(p2.triggers[0].lambda_version.as_deref(), Some("V1_0"));
    assert_eq!(
        Value::Object(p2.overrides.clone()),
        json!({
            "UsernameAttributes": ["email"],
            "AutoVerifiedAttributes": ["email"],
            "EmailVerificationMessage": "email message: {####}",
            "EmailVerificationSubject": "email subject: {####}"
        })
    );
}

#[test]
fn pools_view_of_existing_and_overrides() {
    let existing = load(&fixtures_dir().join("existing-force-deploy"), &opts()).unwrap();
    let pools = existing.pools();
    assert_eq!(pools.len(), 1);
    assert!(pools[0].existing && pools[0].force_deploy);
    assert_eq!(
        pools[0].lambda_config["PreSignUp"],
        "arn:aws:lambda:us-east-1:123456789012:function:cup-existing-force-deploy-dev-preSignUp"
    );

    let same = load(&fixtures_dir().join("same-trigger-same-pool"), &opts()).unwrap();
    let pools = same.pools();
    assert_eq!(pools[0].triggers.len(), 1);
    assert_eq!(pools[0].triggers[0].function, "preSignUpB");

    let ext = load(&fixtures_dir().join("override-pool-extensions"), &opts()).unwrap();
    assert_eq!(
        Value::Object(ext.pools()[0].overrides.clone()),
        json!({"MfaConfiguration": "OFF", "LambdaConfig": {"PreAuthentication": "arn:aws:lambda:us-east-1:111111111111:function:external"}})
    );

    let null = load(&fixtures_dir().join("override-pool-null"), &opts()).unwrap();
    assert_eq!(null.pools()[0].overrides["UserPoolName"], Value::Null);

    let all = load(&fixtures_dir().join("all-triggers"), &opts()).unwrap();
    let all_pools = all.pools();
    let keys: Vec<&str> = all_pools[0].lambda_config.keys().map(String::as_str).collect();
    assert_eq!(keys[10..], ["CustomSMSSender", "KMSKeyID", "CustomEmailSender"]);
    assert_eq!(all.functions.len(), 12);
    assert_eq!(all.cognito_events.len(), 12);
    assert_eq!(all.functions[0].name, "cup-all-triggers-dev-preSignUp");
    assert_eq!(all.functions[0].runtime.as_deref(), Some("nodejs18.x"));
}

/// A config that uses variables, short-form tags and stages, written to a temp folder.
#[test]
fn variables_tags_and_stages_end_to_end() {
    let dir = std::env::temp_dir().join(format!("cognate-config-e2e-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("pools.yml"), "prod: ProdPool\ndev: DevPool\n").unwrap();
    fs::write(
        dir.join("serverless.yaml"),
        r#"
service: svc
provider:
  name: aws
  runtime: nodejs20.x
  stage: ${opt:stage, 'dev'}
  region: ${env:REGION, 'eu-west-1'}
  environment:
    TABLE: ${self:service}-${sls:stage}-table
custom:
  pool: ${file(./pools.yml):${sls:stage}}
  cognate:
    issuer: aws
functions:
  pre:
    handler: pre.handler
    name: ${self:service}-pre-${sls:stage}
    environment:
      MODE: strict
    events:
      - cognitoUserPool:
          pool: ${self:custom.pool}
          trigger: PreSignUp
resources:
  Resources:
    CognitoUserPoolProdPool:
      Type: AWS::Cognito::UserPool
      Properties:
        UserPoolTags:
          Stage: !Sub '${AWS::Region}-${sls:stage}'
        MfaConfiguration: !If [IsProd, 'ON', 'OFF']
  Conditions:
    IsProd: !Equals [!Ref AWS::Region, eu-west-1]
"#,
    )
    .unwrap();
    let env: BTreeMap<String, String> = BTreeMap::new();
    let project = load(&dir, &LoadOptions::default().with_stage("prod").with_env_map(env)).unwrap();
    let dev = load(
        &dir.join("serverless.yaml"),
        &LoadOptions::default().with_env_fn(|k| (k == "REGION").then(|| "us-west-2".to_string())),
    );
    fs::remove_dir_all(&dir).unwrap();

    assert_eq!(project.provider.stage, "prod");
    assert_eq!(project.provider.region, "eu-west-1");
    assert_eq!(project.custom["cognate"]["issuer"], "aws");
    let f = &project.functions[0];
    assert_eq!(f.name, "svc-pre-prod");
    assert_eq!(f.runtime.as_deref(), Some("nodejs20.x"));
    assert_eq!(
        Value::Object(f.environment.clone()),
        json!({"TABLE": "svc-prod-table", "MODE": "strict"})
    );
    let pools = project.pools();
    assert_eq!(pools[0].name, "ProdPool");
    assert_eq!(pools[0].logical_id, "CognitoUserPoolProdPool");
    assert_eq!(
        pools[0].lambda_config["PreSignUp"],
        "arn:aws:lambda:eu-west-1:123456789012:function:svc-pre-prod"
    );
    // The override keeps its intrinsics in long form; evaluate them with the template's conditions.
    let overrides = Value::Object(pools[0].overrides.clone());
    assert_eq!(
        overrides,
        json!({"UserPoolTags": {"Stage": {"Fn::Sub": "${AWS::Region}-prod"}}, "MfaConfiguration": {"Fn::If": ["IsProd", "ON", "OFF"]}})
    );
    let ctx = project.eval_context();
    assert_eq!(ctx.stack_name, "svc-prod");
    assert_eq!(
        cognate_config::eval(&overrides, &ctx).unwrap(),
        json!({"UserPoolTags": {"Stage": "eu-west-1-prod"}, "MfaConfiguration": "ON"})
    );
    let resolver = |id: &str, attr: Option<&str>| project.function_attribute(id, attr);
    let ctx = project.eval_context().with_resolver(&resolver);
    assert_eq!(
        cognate_config::eval(&json!({"Fn::GetAtt": ["PreLambdaFunction", "Arn"]}), &ctx).unwrap(),
        json!("arn:aws:lambda:eu-west-1:123456789012:function:svc-pre-prod")
    );

    let dev = dev.unwrap();
    assert_eq!(dev.provider.stage, "dev");
    assert_eq!(dev.provider.region, "us-west-2");
    assert_eq!(dev.pools()[0].name, "DevPool");
    let t = package(
        &dev,
        &PackageOptions {
            timestamp_ms: Some(0),
            code_sha256: None,
        },
    )
    .unwrap();
    let pool = &t["Resources"]["CognitoUserPoolDevPool"];
    assert_eq!(pool["Properties"]["UserPoolName"], "DevPool");
    assert_eq!(
        t["Resources"]["PreLambdaFunction"]["Properties"]["Environment"]["Variables"]["TABLE"],
        "svc-dev-table"
    );
    // Conditions from `resources` land at the top level of the template.
    assert!(t.get("Conditions").is_some());
}

#[test]
fn strict_mode_and_missing_files() {
    let dir = std::env::temp_dir().join(format!("cognate-config-strict-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    fs::write(
        dir.join("serverless.yml"),
        "service: s\nconfigValidationMode: error\nprovider: {name: aws}\nfunctions:\n  f:\n    handler: h.h\n    events:\n      - cognitoUserPool: {pool: P, trigger: PreSignUp, extra: 1}\n",
    )
    .unwrap();
    let report = validate(&dir, &opts());
    let missing = validate(&dir.join("nope"), &opts());
    fs::remove_dir_all(&dir).unwrap();
    assert_eq!(report.exit_code(), 1);
    assert_eq!(
        report.error.as_deref(),
        Some("Configuration error at 'functions.f.events.0.cognitoUserPool': unrecognized property 'extra'")
    );
    assert!(
        report
            .render_stdout()
            .ends_with("Learn more about configuration validation here: http://slss.io/configuration-validation\n")
    );
    assert_eq!(missing.exit_code(), 1);
}

#[test]
fn resources_as_a_list_and_bad_extensions() {
    let dir = std::env::temp_dir().join(format!("cognate-config-list-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let base = "service: s\nprovider: {name: aws, runtime: nodejs18.x}\nfunctions:\n  f:\n    handler: h.h\n    events:\n      - cognitoUserPool: {pool: P, trigger: PreSignUp}\n";
    fs::write(
        dir.join("serverless.yml"),
        format!(
            "{base}resources:\n  - Resources:\n      CognitoUserPoolP:\n        Properties: {{MfaConfiguration: 'OFF', UserPoolName: Renamed}}\n  - extensions:\n      CognitoUserPoolP:\n        Properties: {{DeletionProtection: ACTIVE}}\n"
        ),
    )
    .unwrap();
    let project = load(&dir, &opts()).unwrap();
    fs::write(
        dir.join("serverless.yml"),
        format!("{base}resources:\n  extensions:\n    Missing:\n      Properties: {{A: 1}}\n"),
    )
    .unwrap();
    let missing = validate(&dir, &opts());
    fs::write(
        dir.join("serverless.yml"),
        format!("{base}resources:\n  extensions:\n    CognitoUserPoolP:\n      Type: AWS::SNS::Topic\n"),
    )
    .unwrap();
    let bad_attr = validate(&dir, &opts());
    fs::remove_dir_all(&dir).unwrap();

    assert_eq!(
        Value::Object(project.pools()[0].overrides.clone()),
        json!({"MfaConfiguration": "OFF", "UserPoolName": "Renamed", "DeletionProtection": "ACTIVE"})
    );
    let t = package(&project, &PackageOptions::default()).unwrap();
    assert_eq!(
        t["Resources"]["CognitoUserPoolP"]["Properties"],
        json!({
            "UserPoolName": "Renamed",
            "LambdaConfig": {"PreSignUp": {"Fn::GetAtt": ["FLambdaFunction", "Arn"]}},
            "MfaConfiguration": "OFF",
            "DeletionProtection": "ACTIVE"
        })
    );
    assert!(t.get("extensions").is_none());
    assert!(
        matches!(missing.failure(), Some(cognate_config::ConfigError::Extension(_))),
        "{missing:?}"
    );
    assert!(
        matches!(bad_attr.failure(), Some(cognate_config::ConfigError::Extension(_))),
        "{bad_attr:?}"
    );
}
