//! Serverless Framework v3 variables: `${source:address, fallback, ...}`.
//!
//! Supported sources: `self`, `opt`, `sls`, `env`, `aws` (`region`, `accountId`) and
//! `file(path)`. A string that is exactly one variable takes the variable's value (any JSON
//! type); variables inside longer strings are substituted as text. Variables may be nested
//! (`${self:custom.${opt:stage}}`) and fallbacks may be literals (`'dev'`, `"x"`, `10`, `true`)
//! or other variables (`${env:A}` or bare `env:A`). `${...}` whose content is not a variable
//! (for example `${AWS::Region}` in an `Fn::Sub`) is left untouched.
//!
//! Resolution runs in passes until nothing changes: a `${self:...}` reference waits until the
//! part of the config it points at is itself free of variables, which also detects cycles.

use std::path::Path;

use serde_json::Value;

use crate::error::ConfigError;
use crate::{LoadOptions, yaml};

const KNOWN_SOURCES: &[&str] = &[
    "self",
    "opt",
    "sls",
    "env",
    "file",
    "aws",
    "ssm",
    "cf",
    "s3",
    "param",
    "git",
    "strToBool",
];

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Lit(String),
    Var(VarRef),
}

#[derive(Debug, Clone, PartialEq)]
struct VarRef {
    source: String,
    param: Option<Vec<Part>>,
    address: Option<Vec<Part>>,
    fallbacks: Vec<Fallback>,
}

#[derive(Debug, Clone, PartialEq)]
enum Fallback {
    Lit(Value),
    Var(VarRef),
}

/// Outcome of evaluating one variable or template.
enum Res {
    /// Resolved; `None` means "no value" (try the next fallback).
    Done(Option<Value>),
    /// Depends on a part of the config that still has variables: try again next pass.
    Defer,
}

/// Find the `}` that closes a `${` whose content starts at `start`. Returns the content's end.
fn find_close(s: &str, start: usize) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0usize;
    let mut quote: Option<u8> = None;
    let mut i = start;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
        } else if c == b'\'' || c == b'"' {
            quote = Some(c);
        } else if c == b'$' && bytes.get(i + 1) == Some(&b'{') {
            depth += 1;
            i += 1;
        } else if c == b'}' {
            if depth == 0 {
                return Some(i);
            }
            depth -= 1;
        }
        i += 1;
    }
    None
}

/// The source name if `content` starts like a variable (`name:` not followed by `:`, or `name(`).
fn source_of(content: &str) -> Option<&str> {
    let content = content.trim_start();
    let end = content
        .char_indices()
        .find(|(_, c)| !c.is_ascii_alphanumeric() && *c != '_')
        .map_or(content.len(), |(i, _)| i);
    if end == 0 {
        return None;
    }
    let rest = &content[end..];
    if rest.starts_with('(') || (rest.starts_with(':') && !rest.starts_with("::")) {
        Some(&content[..end])
    } else {
        None
    }
}

/// Parse a string into literal text and variables.
fn parse_template(s: &str) -> Result<Vec<Part>, String> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut i = 0;
    while i < s.len() {
        if s[i..].starts_with("${") {
            if let Some(end) = find_close(s, i + 2) {
                let content = &s[i + 2..end];
                if source_of(content).is_some() {
                    if !lit.is_empty() {
                        parts.push(Part::Lit(std::mem::take(&mut lit)));
                    }
                    parts.push(Part::Var(parse_var(content)?));
                    i = end + 1;
                    continue;
                }
            }
            lit.push_str("${");
            i += 2;
            continue;
        }
        let c = s[i..].chars().next().unwrap_or('\0');
        lit.push(c);
        i += c.len_utf8();
    }
    if !lit.is_empty() {
        parts.push(Part::Lit(lit));
    }
    Ok(parts)
}

fn has_vars(s: &str) -> bool {
    s.contains("${") && parse_template(s).map_or(true, |p| p.iter().any(|p| matches!(p, Part::Var(_))))
}

/// Split at commas outside quotes, parentheses and nested `${...}`.
fn split_top_level(s: &str) -> Vec<&str> {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let (mut depth, mut parens) = (0usize, 0usize);
    let mut quote: Option<u8> = None;
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
        } else {
            match c {
                b'\'' | b'"' => quote = Some(c),
                b'$' if bytes.get(i + 1) == Some(&b'{') => {
                    depth += 1;
                    i += 1;
                }
                b'}' if depth > 0 => depth -= 1,
                b'(' => parens += 1,
                b')' if parens > 0 => parens -= 1,
                b',' if depth == 0 && parens == 0 => {
                    out.push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

fn parse_var(content: &str) -> Result<VarRef, String> {
    let segments = split_top_level(content);
    let primary = segments[0].trim();
    let source = source_of(primary)
        .ok_or_else(|| format!("Invalid variable syntax \"${{{content}}}\""))?
        .to_string();
    let mut rest = &primary[source.len()..];
    let mut param = None;
    if let Some(r) = rest.strip_prefix('(') {
        let close = r
            .rfind(')')
            .ok_or_else(|| format!("Invalid variable syntax \"${{{content}}}\""))?;
        param = Some(parse_template(r[..close].trim())?);
        rest = &r[close + 1..];
    }
    let address = match rest.strip_prefix(':') {
        Some(a) => Some(parse_template(a.trim())?),
        None if rest.trim().is_empty() => None,
        None => return Err(format!("Invalid variable syntax \"${{{content}}}\"")),
    };
    let mut fallbacks = Vec::new();
    for seg in &segments[1..] {
        fallbacks.push(parse_fallback(seg.trim())?);
    }
    Ok(VarRef {
        source,
        param,
        address,
        fallbacks,
    })
}

fn parse_fallback(s: &str) -> Result<Fallback, String> {
    let quoted = |q: char| s.len() >= 2 && s.starts_with(q) && s.ends_with(q);
    if quoted('\'') || quoted('"') {
        return Ok(Fallback::Lit(Value::String(s[1..s.len() - 1].to_string())));
    }
    if let Some(inner) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}'))
        && find_close(s, 2) == Some(s.len() - 1)
        && source_of(inner).is_some()
    {
        return Ok(Fallback::Var(parse_var(inner)?));
    }
    if source_of(s).is_some_and(|src| KNOWN_SOURCES.contains(&src)) {
        return Ok(Fallback::Var(parse_var(s)?));
    }
    match s {
        "true" => return Ok(Fallback::Lit(Value::Bool(true))),
        "false" => return Ok(Fallback::Lit(Value::Bool(false))),
        "null" => return Ok(Fallback::Lit(Value::Null)),
        _ => {}
    }
    if let Ok(n) = s.parse::<i64>() {
        return Ok(Fallback::Lit(Value::from(n)));
    }
    if let Ok(f) = s.parse::<f64>()
        && let Some(n) = serde_json::Number::from_f64(f)
    {
        return Ok(Fallback::Lit(Value::Number(n)));
    }
    Ok(Fallback::Lit(Value::String(s.to_string())))
}

struct Ctx<'a> {
    opts: &'a LoadOptions,
    dir: &'a Path,
    root: &'a Value,
    /// Where the string being resolved sits (for messages).
    at: String,
}

fn contains_vars(v: &Value) -> bool {
    match v {
        Value::String(s) => has_vars(s),
        Value::Array(a) => a.iter().any(contains_vars),
        Value::Object(m) => m.values().any(contains_vars),
        _ => false,
    }
}

/// Look up a dotted path; `Defer` if the walk meets a string that still holds variables.
fn lookup(root: &Value, address: &str) -> Res {
    let mut cur = root;
    if !address.is_empty() {
        for seg in address.split('.') {
            if let Value::String(s) = cur
                && has_vars(s)
            {
                return Res::Defer;
            }
            let next = match cur {
                Value::Object(m) => m.get(seg),
                Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            };
            match next {
                Some(n) => cur = n,
                None => return Res::Done(None),
            }
        }
    }
    if contains_vars(cur) {
        Res::Defer
    } else if cur.is_null() {
        Res::Done(None)
    } else {
        Res::Done(Some(cur.clone()))
    }
}

fn text_of(v: &Value, at: &str) -> Result<String, ConfigError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(ConfigError::Variable(format!(
            "Cannot resolve variable at \"{at}\": String value consist of variable which resolve with non-string value"
        ))),
    }
}

impl Ctx<'_> {
    fn template(&self, parts: &[Part]) -> Result<Res, ConfigError> {
        if let [Part::Var(v)] = parts {
            return self.var(v);
        }
        let mut out = String::new();
        for p in parts {
            match p {
                Part::Lit(s) => out.push_str(s),
                Part::Var(v) => match self.var(v)? {
                    Res::Defer => return Ok(Res::Defer),
                    Res::Done(None) => return Ok(Res::Done(None)),
                    Res::Done(Some(val)) => out.push_str(&text_of(&val, &self.at)?),
                },
            }
        }
        Ok(Res::Done(Some(Value::String(out))))
    }

    fn text(&self, parts: &Option<Vec<Part>>) -> Result<Option<String>, ConfigError> {
        let Some(parts) = parts else {
            return Ok(Some(String::new()));
        };
        match self.template(parts)? {
            Res::Defer => Ok(None),
            Res::Done(v) => Ok(Some(v.map(|v| text_of(&v, &self.at)).transpose()?.unwrap_or_default())),
        }
    }

    fn var(&self, v: &VarRef) -> Result<Res, ConfigError> {
        match self.primary(v)? {
            Res::Defer => return Ok(Res::Defer),
            Res::Done(Some(val)) => return Ok(Res::Done(Some(val))),
            Res::Done(None) => {}
        }
        for fb in &v.fallbacks {
            match fb {
                Fallback::Lit(Value::Null) => {}
                Fallback::Lit(l) => return Ok(Res::Done(Some(l.clone()))),
                Fallback::Var(inner) => match self.var_no_error(inner)? {
                    Res::Defer => return Ok(Res::Defer),
                    Res::Done(Some(val)) => return Ok(Res::Done(Some(val))),
                    Res::Done(None) => {}
                },
            }
        }
        if v.fallbacks.iter().any(|f| matches!(f, Fallback::Lit(Value::Null))) {
            return Ok(Res::Done(Some(Value::Null)));
        }
        Err(ConfigError::Variable(format!(
            "Cannot resolve variable at \"{}\": Value not found at \"{}\" source",
            self.at, v.source
        )))
    }

    /// A fallback variable: "not found" is not an error yet, the next fallback may have a value.
    fn var_no_error(&self, v: &VarRef) -> Result<Res, ConfigError> {
        if v.fallbacks.is_empty() {
            self.primary(v)
        } else {
            self.var(v)
        }
    }

    fn primary(&self, v: &VarRef) -> Result<Res, ConfigError> {
        let Some(address) = self.text(&v.address)? else {
            return Ok(Res::Defer);
        };
        let address = address.trim().to_string();
        let opts = self.opts;
        let found = |s: Option<String>| Ok(Res::Done(s.map(Value::String)));
        match v.source.as_str() {
            "self" => Ok(lookup(self.root, &address)),
            "opt" => found(match address.as_str() {
                "stage" => opts.stage.clone(),
                "region" => opts.region.clone(),
                other => opts.options.get(other).cloned(),
            }),
            "env" => found(opts.env.get(&address)),
            "sls" => match address.as_str() {
                "stage" => self.setting(opts.stage.as_ref(), "provider.stage", "dev"),
                other => Err(ConfigError::Variable(format!(
                    "Cannot resolve variable at \"{}\": Unsupported \"sls\" address \"{other}\"",
                    self.at
                ))),
            },
            "aws" => match address.as_str() {
                "region" => self.setting(opts.region.as_ref(), "provider.region", "us-east-1"),
                "accountId" => found(Some(opts.account_id())),
                other => Err(ConfigError::Variable(format!(
                    "Cannot resolve variable at \"{}\": Unsupported \"aws\" address \"{other}\"",
                    self.at
                ))),
            },
            "file" => {
                let Some(file) = self.text(&v.param)? else {
                    return Ok(Res::Defer);
                };
                self.file(file.trim(), &address)
            }
            other if KNOWN_SOURCES.contains(&other) => Err(ConfigError::Variable(format!(
                "Cannot resolve variable at \"{}\": the \"{other}\" source is not supported by Cognate",
                self.at
            ))),
            other => Err(ConfigError::Variable(format!(
                "Unrecognized configuration variable sources: \"{other}\""
            ))),
        }
    }

    /// `--stage`/`--region` if given, else the (resolved) config value, else the default.
    fn setting(&self, given: Option<&String>, path: &str, default: &str) -> Result<Res, ConfigError> {
        if let Some(g) = given {
            return Ok(Res::Done(Some(Value::String(g.clone()))));
        }
        match lookup(self.root, path) {
            Res::Defer => Ok(Res::Defer),
            Res::Done(Some(v)) => Ok(Res::Done(Some(v))),
            Res::Done(None) => Ok(Res::Done(Some(Value::String(default.to_string())))),
        }
    }

    fn file(&self, file: &str, address: &str) -> Result<Res, ConfigError> {
        let path = self.dir.join(file);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Res::Done(None)),
            Err(source) => return Err(ConfigError::Io { path, source }),
        };
        let content = yaml::parse_yaml(&text).map_err(|message| ConfigError::Parse {
            path: path.clone(),
            message,
        })?;
        let mut cur = &content;
        for seg in address.split('.').filter(|s| !s.is_empty()) {
            let next = match cur {
                Value::Object(m) => m.get(seg),
                Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
                _ => None,
            };
            match next {
                Some(n) => cur = n,
                None => return Ok(Res::Done(None)),
            }
        }
        Ok(Res::Done(if cur.is_null() { None } else { Some(cur.clone()) }))
    }
}

fn path_text(path: &[String]) -> String {
    path.join(".")
}

/// Collect every string holding variables, with its path.
fn pending(v: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, String)>) {
    match v {
        Value::String(s) if has_vars(s) => out.push((path.clone(), s.clone())),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                path.push(i.to_string());
                pending(x, path, out);
                path.pop();
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                path.push(k.clone());
                pending(x, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

fn node_mut<'v>(root: &'v mut Value, path: &[String]) -> Option<&'v mut Value> {
    let mut cur = root;
    for seg in path {
        cur = match cur {
            Value::Object(m) => m.get_mut(seg)?,
            Value::Array(a) => a.get_mut(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Resolve every Serverless variable in `config` (the whole parsed serverless.yml).
/// `dir` is the service folder (for `${file(...)}`).
pub fn resolve(config: &mut Value, dir: &Path, opts: &LoadOptions) -> Result<(), ConfigError> {
    for _pass in 0..1000 {
        let mut todo = Vec::new();
        pending(config, &mut Vec::new(), &mut todo);
        if todo.is_empty() {
            return Ok(());
        }
        let mut updates = Vec::new();
        for (path, s) in &todo {
            let parts = parse_template(s).map_err(|m| {
                ConfigError::Variable(format!("Cannot resolve variable at \"{}\": {m}", path_text(path)))
            })?;
            let ctx = Ctx {
                opts,
                dir,
                root: config,
                at: path_text(path),
            };
            match ctx.template(&parts)? {
                Res::Defer => {}
                Res::Done(v) => updates.push((path.clone(), v.unwrap_or(Value::Null))),
            }
        }
        if updates.is_empty() {
            let (path, s) = &todo[0];
            return Err(ConfigError::Variable(format!(
                "Cannot resolve variable at \"{}\": circular reference or unresolvable dependency in \"{s}\"",
                path_text(path)
            )));
        }
        for (path, v) in updates {
            if let Some(node) = node_mut(config, &path) {
                *node = v;
            }
        }
    }
    Err(ConfigError::Variable(
        "Cannot resolve variables: too many nested resolutions".into(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    fn opts() -> LoadOptions {
        let mut env = BTreeMap::new();
        env.insert("HOME_REGION".to_string(), "eu-west-1".to_string());
        env.insert("EMPTY".to_string(), String::new());
        LoadOptions::default().with_env_map(env)
    }

    fn run(v: Value, o: &LoadOptions) -> Result<Value, ConfigError> {
        let mut v = v;
        resolve(&mut v, Path::new("/nonexistent"), o)?;
        Ok(v)
    }

    #[test]
    fn self_opt_env_sls_and_defaults() {
        let o = opts().with_stage("prod");
        let v = run(
            json!({
                "service": "svc",
                "provider": {"stage": "${opt:stage, 'dev'}", "region": "${env:HOME_REGION}"},
                "custom": {
                    "name": "${self:service}-${sls:stage}",
                    "missingEnv": "${env:NOPE, 'fallback'}",
                    "nested": "${self:custom.byStage.${opt:stage}}",
                    "byStage": {"prod": {"size": 3}},
                    "typed": "${self:custom.byStage}",
                    "num": "${env:NOPE, 42}",
                    "chain": "${env:NOPE, env:HOME_REGION}",
                    "chain2": "${env:NOPE, ${self:service}}",
                    "sub": "arn:aws:iam::${AWS::AccountId}:root",
                    "region": "${aws:region}",
                    "acct": "${aws:accountId}",
                    "empty": "${env:EMPTY, 'x'}",
                }
            }),
            &o,
        )
        .unwrap();
        assert_eq!(v["provider"]["stage"], "prod");
        assert_eq!(v["provider"]["region"], "eu-west-1");
        let c = &v["custom"];
        assert_eq!(c["name"], "svc-prod");
        assert_eq!(c["missingEnv"], "fallback");
        assert_eq!(c["nested"], json!({"size": 3}));
        assert_eq!(c["typed"], json!({"prod": {"size": 3}}));
        assert_eq!(c["num"], 42);
        assert_eq!(c["chain"], "eu-west-1");
        assert_eq!(c["chain2"], "svc");
        assert_eq!(c["sub"], "arn:aws:iam::${AWS::AccountId}:root");
        assert_eq!(c["region"], "eu-west-1");
        assert_eq!(c["acct"], "123456789012");
        assert_eq!(c["empty"], "");
    }

    #[test]
    fn stage_defaults_to_dev_through_sls() {
        let v = run(
            json!({"provider": {}, "a": "${sls:stage}", "b": "${opt:stage, 'dev'}"}),
            &opts(),
        )
        .unwrap();
        assert_eq!(v["a"], "dev");
        assert_eq!(v["b"], "dev");
    }

    #[test]
    fn sls_stage_uses_provider_stage() {
        let v = run(
            json!({"provider": {"stage": "${self:custom.s}"}, "custom": {"s": "qa"}, "a": "x-${sls:stage}"}),
            &opts(),
        )
        .unwrap();
        assert_eq!(v["a"], "x-qa");
    }

    #[test]
    fn missing_value_is_an_error() {
        let e = run(json!({"a": {"b": "${env:NOPE}"}}), &opts()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Cannot resolve variable at \"a.b\": Value not found at \"env\" source"
        );
    }

    #[test]
    fn cycles_are_detected() {
        let e = run(json!({"a": "${self:b}", "b": "${self:a}"}), &opts()).unwrap_err();
        assert!(e.to_string().contains("circular"), "{e}");
    }

    #[test]
    fn object_inside_string_is_an_error() {
        let e = run(json!({"a": {"x": 1}, "b": "pre-${self:a}"}), &opts()).unwrap_err();
        assert!(e.to_string().contains("non-string"), "{e}");
    }

    #[test]
    fn env_closure_is_used() {
        let o = LoadOptions::default().with_env_fn(|k| (k == "K").then(|| "v".to_string()));
        assert_eq!(run(json!({"a": "${env:K}"}), &o).unwrap()["a"], "v");
    }

    #[test]
    fn file_source() {
        let dir = std::env::temp_dir().join(format!("cognate-config-vars-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("x.yml"), "dev:\n  pool: Pool-${self:service}\nlist: [a, b]\n").unwrap();
        let mut v = json!({
            "service": "svc",
            "a": "${file(./x.yml):dev.pool}",
            "b": "${file(./x.yml):list.1}",
            "c": "${file(./x.yml)}",
            "d": "${file(./missing.yml):k, 'none'}",
        });
        resolve(&mut v, &dir, &opts()).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(v["a"], "Pool-svc");
        assert_eq!(v["b"], "b");
        assert_eq!(v["c"]["list"], json!(["a", "b"]));
        assert_eq!(v["d"], "none");
    }

    #[test]
    fn non_variables_are_kept() {
        for s in ["${AWS::Region}", "${Bucket.Arn}", "${!Literal}", "plain $ {x}", "${"] {
            assert_eq!(run(json!({"a": s}), &opts()).unwrap()["a"], s);
        }
    }

    #[test]
    fn unknown_source_is_an_error() {
        let e = run(json!({"a": "${nope:x}"}), &opts()).unwrap_err();
        assert!(e.to_string().contains("\"nope\""), "{e}");
    }
}
