//! A CloudFormation intrinsic-function evaluator.
//!
//! [`eval`] walks a JSON value and replaces every intrinsic it knows with its value:
//! `Ref` (parameters, pseudo parameters, logical ids through the resolver), `Fn::GetAtt`
//! (through the resolver), `Fn::Sub` (string and `[string, {vars}]` forms, `${!Literal}`),
//! `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::If`, `Fn::Equals`, `Fn::And`, `Fn::Or`,
//! `Fn::Not`, `Condition`, `Fn::FindInMap`, `Fn::Base64`, `Fn::GetAZs`, `Fn::ImportValue`
//! (from [`EvalContext::imports`]). `{"Ref": "AWS::NoValue"}` removes the enclosing object
//! member or array element.

use base64::Engine as _;
use serde_json::{Map, Value};

use crate::error::ConfigError;

/// Resolves `Ref` (attribute `None`) and `Fn::GetAtt` (attribute `Some`) of logical ids.
/// Returning `None` makes the evaluation fail with an "unresolved" error.
pub type Resolver<'a> = dyn Fn(&str, Option<&str>) -> Option<Value> + 'a;

/// Everything an intrinsic may refer to.
pub struct EvalContext<'a> {
    /// `AWS::Region`.
    pub region: String,
    /// `AWS::AccountId`.
    pub account_id: String,
    /// `AWS::StackName` (Serverless names stacks `<service>-<stage>`).
    pub stack_name: String,
    /// `AWS::Partition` (`aws`).
    pub partition: String,
    /// `AWS::URLSuffix` (`amazonaws.com`).
    pub url_suffix: String,
    /// Template parameters, for `Ref`.
    pub parameters: Map<String, Value>,
    /// The template's `Conditions` section (condition expressions, evaluated on demand).
    pub conditions: Map<String, Value>,
    /// The template's `Mappings` section, for `Fn::FindInMap`.
    pub mappings: Map<String, Value>,
    /// Exported values, for `Fn::ImportValue`.
    pub imports: Map<String, Value>,
    /// Logical-id resolver for `Ref` and `Fn::GetAtt`.
    pub resolver: Option<&'a Resolver<'a>>,
}

impl<'a> EvalContext<'a> {
    /// A context for `region` and `account_id`, with partition `aws`, stack name `""` and
    /// no parameters, conditions, mappings, imports or resolver.
    pub fn new(region: impl Into<String>, account_id: impl Into<String>) -> Self {
        EvalContext {
            region: region.into(),
            account_id: account_id.into(),
            stack_name: String::new(),
            partition: "aws".into(),
            url_suffix: "amazonaws.com".into(),
            parameters: Map::new(),
            conditions: Map::new(),
            mappings: Map::new(),
            imports: Map::new(),
            resolver: None,
        }
    }

    /// Set the logical-id resolver.
    pub fn with_resolver(mut self, resolver: &'a Resolver<'a>) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// Take `Parameters` defaults, `Conditions` and `Mappings` from a template (or from a
    /// Serverless `resources` section). Parameters already set are kept.
    pub fn with_template(mut self, template: &Value) -> Self {
        let section = |k: &str| template.get(k).and_then(Value::as_object).cloned();
        if let Some(params) = section("Parameters") {
            for (k, p) in params {
                if let Some(d) = p.get("Default") {
                    self.parameters.entry(k).or_insert_with(|| d.clone());
                }
            }
        }
        if let Some(c) = section("Conditions") {
            self.conditions = c;
        }
        if let Some(m) = section("Mappings") {
            self.mappings = m;
        }
        self
    }
}

fn err<T>(msg: impl Into<String>) -> Result<T, ConfigError> {
    Err(ConfigError::Intrinsic(msg.into()))
}

/// Evaluate every intrinsic function inside `value`.
///
/// Returns `Null` when the whole value is `{"Ref": "AWS::NoValue"}`.
pub fn eval(value: &Value, ctx: &EvalContext<'_>) -> Result<Value, ConfigError> {
    Ok(ev(value, ctx, 0)?.unwrap_or(Value::Null))
}

/// Evaluate one `Conditions` entry (or any condition expression) to a boolean.
pub fn eval_condition(name: &str, ctx: &EvalContext<'_>) -> Result<bool, ConfigError> {
    cond_named(name, ctx, 0)
}

const MAX_DEPTH: usize = 256;

/// `None` is AWS::NoValue.
fn ev(value: &Value, ctx: &EvalContext<'_>, depth: usize) -> Result<Option<Value>, ConfigError> {
    if depth > MAX_DEPTH {
        return err("intrinsic functions nested too deeply");
    }
    match value {
        Value::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for i in items {
                if let Some(v) = ev(i, ctx, depth + 1)? {
                    out.push(v);
                }
            }
            Ok(Some(Value::Array(out)))
        }
        Value::Object(m) => match m.iter().next() {
            Some((k, arg)) if m.len() == 1 && (k == "Ref" || k == "Condition" || k.starts_with("Fn::")) => {
                intrinsic(k, arg, ctx, depth + 1)
            }
            _ => object(m, ctx, depth),
        },
        other => Ok(Some(other.clone())),
    }
}

fn object(m: &Map<String, Value>, ctx: &EvalContext<'_>, depth: usize) -> Result<Option<Value>, ConfigError> {
    let mut out = Map::new();
    for (k, v) in m {
        if let Some(v) = ev(v, ctx, depth + 1)? {
            out.insert(k.clone(), v);
        }
    }
    Ok(Some(Value::Object(out)))
}

/// Evaluate and require a value (NoValue is an error here).
fn need(value: &Value, ctx: &EvalContext<'_>, depth: usize, what: &str) -> Result<Value, ConfigError> {
    match ev(value, ctx, depth)? {
        Some(v) => Ok(v),
        None => err(format!("{what}: AWS::NoValue is not allowed here")),
    }
}

fn as_text(v: &Value, what: &str) -> Result<String, ConfigError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => err(format!("{what}: expected a string, got {other}")),
    }
}

fn args<'v>(arg: &'v Value, n: std::ops::RangeInclusive<usize>, name: &str) -> Result<&'v [Value], ConfigError> {
    match arg {
        Value::Array(a) if n.contains(&a.len()) => Ok(a),
        _ => err(format!(
            "{name} expects a list of {} to {} arguments",
            n.start(),
            n.end()
        )),
    }
}

fn intrinsic(name: &str, arg: &Value, ctx: &EvalContext<'_>, depth: usize) -> Result<Option<Value>, ConfigError> {
    let v = match name {
        "Ref" => {
            let target = as_text(&need(arg, ctx, depth, "Ref")?, "Ref")?;
            return reference(&target, ctx);
        }
        "Condition" => Value::Bool(cond_named(&as_text(arg, "Condition")?, ctx, depth)?),
        "Fn::GetAtt" => {
            let (id, attr) = match need(arg, ctx, depth, name)? {
                Value::String(s) => match s.split_once('.') {
                    Some((a, b)) => (a.to_string(), b.to_string()),
                    None => return err(format!("Fn::GetAtt \"{s}\" has no attribute")),
                },
                Value::Array(a) if a.len() == 2 => (as_text(&a[0], name)?, as_text(&a[1], name)?),
                other => {
                    return err(format!("Fn::GetAtt expects [logicalId, attribute], got {other}"));
                }
            };
            match ctx.resolver.and_then(|r| r(&id, Some(&attr))) {
                Some(v) => v,
                None => return err(format!("Unresolved resource attribute {id}.{attr}")),
            }
        }
        "Fn::Sub" => Value::String(sub(arg, ctx, depth)?),
        "Fn::Join" => {
            let a = args(arg, 2..=2, name)?;
            let delim = as_text(&need(&a[0], ctx, depth, name)?, name)?;
            let items = match need(&a[1], ctx, depth, name)? {
                Value::Array(items) => items,
                other => return err(format!("Fn::Join expects a list, got {other}")),
            };
            let texts = items.iter().map(|i| as_text(i, name)).collect::<Result<Vec<_>, _>>()?;
            Value::String(texts.join(&delim))
        }
        "Fn::Select" => {
            let a = args(arg, 2..=2, name)?;
            let idx = match need(&a[0], ctx, depth, name)? {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse::<u64>().ok(),
                _ => None,
            };
            let Some(idx) = idx else {
                return err("Fn::Select index must be a non-negative integer");
            };
            match need(&a[1], ctx, depth, name)? {
                Value::Array(items) => match usize::try_from(idx).ok().and_then(|i| items.get(i)) {
                    Some(v) => v.clone(),
                    None => return err(format!("Fn::Select index {idx} is out of range")),
                },
                other => return err(format!("Fn::Select expects a list, got {other}")),
            }
        }
        "Fn::Split" => {
            let a = args(arg, 2..=2, name)?;
            let delim = as_text(&need(&a[0], ctx, depth, name)?, name)?;
            let text = as_text(&need(&a[1], ctx, depth, name)?, name)?;
            if delim.is_empty() {
                return err("Fn::Split delimiter must not be empty");
            }
            Value::Array(text.split(delim.as_str()).map(Value::from).collect())
        }
        "Fn::If" => {
            let a = args(arg, 3..=3, name)?;
            let cond = as_text(&a[0], name)?;
            let branch = if cond_named(&cond, ctx, depth)? { &a[1] } else { &a[2] };
            return ev(branch, ctx, depth);
        }
        "Fn::Equals" | "Fn::And" | "Fn::Or" | "Fn::Not" => {
            let mut m = Map::new();
            m.insert(name.to_string(), arg.clone());
            Value::Bool(cond_expr(&Value::Object(m), ctx, depth)?)
        }
        "Fn::FindInMap" => {
            let a = args(arg, 3..=4, name)?;
            let keys = a[..3]
                .iter()
                .map(|k| need(k, ctx, depth, name).and_then(|v| as_text(&v, name)))
                .collect::<Result<Vec<_>, _>>()?;
            let found = ctx
                .mappings
                .get(&keys[0])
                .and_then(|m| m.get(&keys[1]))
                .and_then(|m| m.get(&keys[2]));
            match (found, a.get(3)) {
                (Some(v), _) => need(v, ctx, depth, name)?,
                (None, Some(Value::Object(d))) if d.contains_key("DefaultValue") => {
                    need(&d["DefaultValue"], ctx, depth, name)?
                }
                _ => return err(format!("Fn::FindInMap: no value at {}", keys.join("."))),
            }
        }
        "Fn::Base64" => {
            let text = as_text(&need(arg, ctx, depth, name)?, name)?;
            Value::String(base64::engine::general_purpose::STANDARD.encode(text))
        }
        "Fn::GetAZs" => {
            let r = as_text(&need(arg, ctx, depth, name)?, name)?;
            let region = if r.is_empty() { ctx.region.clone() } else { r };
            Value::Array(
                ["a", "b", "c"]
                    .iter()
                    .map(|z| Value::String(format!("{region}{z}")))
                    .collect(),
            )
        }
        "Fn::ImportValue" => {
            let key = as_text(&need(arg, ctx, depth, name)?, name)?;
            match ctx.imports.get(&key) {
                Some(v) => v.clone(),
                None => return err(format!("Fn::ImportValue: no export named \"{key}\"")),
            }
        }
        other => return err(format!("{other} is not supported")),
    };
    Ok(Some(v))
}

fn pseudo(name: &str, ctx: &EvalContext<'_>) -> Option<Option<Value>> {
    Some(Some(Value::String(match name {
        "AWS::Region" => ctx.region.clone(),
        "AWS::AccountId" => ctx.account_id.clone(),
        "AWS::StackName" => ctx.stack_name.clone(),
        "AWS::Partition" => ctx.partition.clone(),
        "AWS::URLSuffix" => ctx.url_suffix.clone(),
        "AWS::StackId" => format!(
            "arn:{}:cloudformation:{}:{}:stack/{}/00000000-0000-0000-0000-000000000000",
            ctx.partition, ctx.region, ctx.account_id, ctx.stack_name
        ),
        "AWS::NotificationARNs" => return Some(Some(Value::Array(vec![]))),
        "AWS::NoValue" => return Some(None),
        _ => return None,
    })))
}

fn reference(target: &str, ctx: &EvalContext<'_>) -> Result<Option<Value>, ConfigError> {
    if let Some(v) = pseudo(target, ctx) {
        return Ok(v);
    }
    if let Some(p) = ctx.parameters.get(target) {
        return Ok(Some(p.clone()));
    }
    match ctx.resolver.and_then(|r| r(target, None)) {
        Some(v) => Ok(Some(v)),
        None => err(format!("Unresolved reference \"{target}\"")),
    }
}

fn sub(arg: &Value, ctx: &EvalContext<'_>, depth: usize) -> Result<String, ConfigError> {
    let (template, vars) = match arg {
        Value::String(s) => (s.clone(), Map::new()),
        Value::Array(a) if a.len() == 2 => {
            let t = as_text(&a[0], "Fn::Sub")?;
            let vars = match need(&a[1], ctx, depth, "Fn::Sub")? {
                Value::Object(m) => m,
                other => return err(format!("Fn::Sub variables must be an object, got {other}")),
            };
            (t, vars)
        }
        other => {
            return err(format!("Fn::Sub expects a string or [string, {{vars}}], got {other}"));
        }
    };
    let mut out = String::new();
    let mut rest = template.as_str();
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = &after[..end];
        if let Some(lit) = name.strip_prefix('!') {
            out.push_str("${");
            out.push_str(lit);
            out.push('}');
        } else {
            let name = name.trim();
            let value = if let Some(v) = vars.get(name) {
                v.clone()
            } else if let Some((id, attr)) = name.split_once('.').filter(|_| !name.starts_with("AWS::")) {
                match ctx.resolver.and_then(|r| r(id, Some(attr))) {
                    Some(v) => v,
                    None => return err(format!("Unresolved resource attribute {id}.{attr}")),
                }
            } else {
                reference(name, ctx)?.unwrap_or(Value::String(String::new()))
            };
            out.push_str(&as_text(&value, "Fn::Sub")?);
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn cond_named(name: &str, ctx: &EvalContext<'_>, depth: usize) -> Result<bool, ConfigError> {
    match ctx.conditions.get(name) {
        Some(expr) => cond_expr(expr, ctx, depth + 1),
        None => err(format!("Unknown condition \"{name}\"")),
    }
}

fn cond_expr(expr: &Value, ctx: &EvalContext<'_>, depth: usize) -> Result<bool, ConfigError> {
    if depth > MAX_DEPTH {
        return err("conditions nested too deeply (circular?)");
    }
    let Some((k, arg)) = expr.as_object().filter(|m| m.len() == 1).and_then(|m| m.iter().next()) else {
        return match expr {
            Value::Bool(b) => Ok(*b),
            Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
            other => err(format!("not a condition: {other}")),
        };
    };
    let list = |n: std::ops::RangeInclusive<usize>| args(arg, n, k);
    match k.as_str() {
        "Condition" => cond_named(&as_text(arg, "Condition")?, ctx, depth),
        "Fn::Equals" => {
            let a = list(2..=2)?;
            let l = need(&a[0], ctx, depth + 1, k)?;
            let r = need(&a[1], ctx, depth + 1, k)?;
            Ok(match (&l, &r) {
                (Value::Array(_) | Value::Object(_), _) | (_, Value::Array(_) | Value::Object(_)) => l == r,
                _ => as_text(&l, k)? == as_text(&r, k)?,
            })
        }
        "Fn::And" => {
            for c in list(1..=10)? {
                if !cond_expr(c, ctx, depth + 1)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        "Fn::Or" => {
            for c in list(1..=10)? {
                if cond_expr(c, ctx, depth + 1)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        "Fn::Not" => Ok(!cond_expr(&list(1..=1)?[0], ctx, depth + 1)?),
        _ => match need(expr, ctx, depth + 1, "condition")? {
            Value::Bool(b) => Ok(b),
            Value::String(s) if s == "true" || s == "false" => Ok(s == "true"),
            other => err(format!("not a condition: {other}")),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resolver(id: &str, attr: Option<&str>) -> Option<Value> {
        match (id, attr) {
            ("UserPool", None) => Some(json!("us-east-1_AbCdEfGhI")),
            ("UserPool", Some("Arn")) => Some(json!(
                "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEfGhI"
            )),
            ("Fn", Some("Arn")) => Some(json!("arn:aws:lambda:us-east-1:123456789012:function:f")),
            _ => None,
        }
    }

    fn ctx<'a>(r: &'a Resolver<'a>) -> EvalContext<'a> {
        let template = json!({
            "Parameters": {"Stage": {"Type": "String", "Default": "prod"}},
            "Conditions": {
                "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
                "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
                "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Fn::Or": [{"Condition": "IsDev"}, true]}]},
                "Loop": {"Condition": "Loop"},
            },
            "Mappings": {"Sizes": {"prod": {"Min": 12}, "dev": {"Min": 6}}},
        });
        let mut c = EvalContext::new("us-east-1", "123456789012")
            .with_template(&template)
            .with_resolver(r);
        c.stack_name = "svc-prod".into();
        c.imports.insert("Shared".into(), json!("imported"));
        c
    }

    #[test]
    fn refs_and_pseudo_parameters() {
        let r = resolver;
        let c = ctx(&r);
        let v = eval(
            &json!({
                "a": {"Ref": "AWS::Region"}, "b": {"Ref": "AWS::AccountId"},
                "c": {"Ref": "AWS::StackName"}, "d": {"Ref": "AWS::Partition"},
                "e": {"Ref": "AWS::URLSuffix"}, "f": {"Ref": "Stage"}, "g": {"Ref": "UserPool"},
                "h": {"Ref": "AWS::NoValue"}, "i": [1, {"Ref": "AWS::NoValue"}, 2],
                "j": {"Fn::GetAtt": ["UserPool", "Arn"]}, "k": {"Fn::GetAtt": "Fn.Arn"},
            }),
            &c,
        )
        .unwrap();
        assert_eq!(
            v,
            json!({
                "a": "us-east-1", "b": "123456789012", "c": "svc-prod", "d": "aws",
                "e": "amazonaws.com", "f": "prod", "g": "us-east-1_AbCdEfGhI", "i": [1, 2],
                "j": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEfGhI",
                "k": "arn:aws:lambda:us-east-1:123456789012:function:f",
            })
        );
        assert_eq!(eval(&json!({"Ref": "AWS::NoValue"}), &c).unwrap(), Value::Null);
    }

    #[test]
    fn unresolved_things_fail() {
        let r = resolver;
        let c = ctx(&r);
        assert!(eval(&json!({"Ref": "Nope"}), &c).is_err());
        assert!(eval(&json!({"Fn::GetAtt": ["UserPool", "Nope"]}), &c).is_err());
        assert!(eval(&json!({"Fn::If": ["Missing", 1, 2]}), &c).is_err());
        assert!(eval(&json!({"Fn::If": ["Loop", 1, 2]}), &c).is_err());
        assert!(eval(&json!({"Fn::Select": [5, ["a"]]}), &c).is_err());
        assert!(eval(&json!({"Fn::Cidr": ["10.0.0.0/16", 1, 8]}), &c).is_err());
        let bare = EvalContext::new("r", "a");
        assert!(eval(&json!({"Ref": "UserPool"}), &bare).is_err());
    }

    #[test]
    fn sub_both_forms() {
        let r = resolver;
        let c = ctx(&r);
        assert_eq!(
            eval(&json!({"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root/${Stage}/${UserPool.Arn}/${!Literal}"}), &c).unwrap(),
            json!("arn:aws:iam::123456789012:root/prod/arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_AbCdEfGhI/${Literal}")
        );
        assert_eq!(
            eval(
                &json!({"Fn::Sub": ["${Name}-${AWS::Region}", {"Name": {"Ref": "UserPool"}}]}),
                &c
            )
            .unwrap(),
            json!("us-east-1_AbCdEfGhI-us-east-1")
        );
    }

    #[test]
    fn join_select_split_base64_azs_import() {
        let r = resolver;
        let c = ctx(&r);
        assert_eq!(
            eval(&json!({"Fn::Join": ["-", ["a", {"Ref": "Stage"}, 3]]}), &c).unwrap(),
            json!("a-prod-3")
        );
        assert_eq!(
            eval(&json!({"Fn::Join": [",", {"Fn::Split": ["|", "x|y"]}]}), &c).unwrap(),
            json!("x,y")
        );
        assert_eq!(
            eval(&json!({"Fn::Select": ["1", {"Fn::Split": [",", "a,b,c"]}]}), &c).unwrap(),
            json!("b")
        );
        assert_eq!(eval(&json!({"Fn::Base64": "hello"}), &c).unwrap(), json!("aGVsbG8="));
        assert_eq!(
            eval(&json!({"Fn::Select": [0, {"Fn::GetAZs": ""}]}), &c).unwrap(),
            json!("us-east-1a")
        );
        assert_eq!(
            eval(&json!({"Fn::ImportValue": "Shared"}), &c).unwrap(),
            json!("imported")
        );
    }

    #[test]
    fn conditions_and_mappings() {
        let r = resolver;
        let c = ctx(&r);
        assert_eq!(eval(&json!({"Fn::If": ["IsProd", "p", "d"]}), &c).unwrap(), json!("p"));
        assert_eq!(eval(&json!({"Fn::If": ["IsDev", "p", "d"]}), &c).unwrap(), json!("d"));
        assert_eq!(eval(&json!({"Fn::If": ["Both", "y", "n"]}), &c).unwrap(), json!("y"));
        assert_eq!(
            eval(
                &json!({"x": {"Fn::If": ["IsDev", 1, {"Ref": "AWS::NoValue"}]}, "y": 2}),
                &c
            )
            .unwrap(),
            json!({"y": 2})
        );
        assert_eq!(eval(&json!({"Fn::Equals": [1, "1"]}), &c).unwrap(), json!(true));
        assert_eq!(
            eval(
                &json!({"Fn::Or": [{"Condition": "IsDev"}, {"Fn::Equals": ["a", "b"]}]}),
                &c
            )
            .unwrap(),
            json!(false)
        );
        assert!(eval_condition("IsProd", &c).unwrap());
        assert_eq!(
            eval(&json!({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "Min"]}), &c).unwrap(),
            json!(12)
        );
        assert_eq!(
            eval(
                &json!({"Fn::FindInMap": ["Sizes", "qa", "Min", {"DefaultValue": 8}]}),
                &c
            )
            .unwrap(),
            json!(8)
        );
        assert!(eval(&json!({"Fn::FindInMap": ["Sizes", "qa", "Min"]}), &c).is_err());
    }

    #[test]
    fn plain_values_pass_through() {
        let c = EvalContext::new("r", "a");
        let v = json!({"a": [1, "x", null, true, {"b": {}}], "Refs": {"Ref": "AWS::Region", "x": 1}});
        assert_eq!(eval(&v, &c).unwrap(), v);
    }
}
