//! The part of Serverless v3's config schema that concerns Cognito (spec §3, §9), with Ajv's
//! messages and its `coerceTypes: "array"` behaviour (coerced values are written back).

use serde_json::Value;

/// The 12 trigger names, in the order Serverless lists them in schema messages.
pub const TRIGGERS: [&str; 12] = [
    "PreSignUp",
    "PostConfirmation",
    "PreAuthentication",
    "PostAuthentication",
    "PreTokenGeneration",
    "CustomMessage",
    "DefineAuthChallenge",
    "CreateAuthChallenge",
    "VerifyAuthChallengeResponse",
    "UserMigration",
    "CustomSMSSender",
    "CustomEmailSender",
];

/// The keys allowed directly under `resources`.
const RESOURCES_KEYS: [&str; 11] = [
    "AWSTemplateFormatVersion",
    "Conditions",
    "Description",
    "Mappings",
    "Metadata",
    "Outputs",
    "Parameters",
    "Resources",
    "Rules",
    "Transform",
    "extensions",
];

/// One schema problem.
#[derive(Debug, Clone)]
pub struct Problem {
    /// `at '<path>': <message>`.
    pub text: String,
    /// Serverless would crash on this input (a TypeError); Cognate always makes it fatal.
    pub crash: bool,
}

/// JavaScript truthiness.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// Ajv's "array" coercion of a one-element array to its element, for scalar types.
fn unwrap_single(v: &Value) -> &Value {
    match v {
        Value::Array(a) if a.len() == 1 && !a[0].is_array() && !a[0].is_object() => &a[0],
        other => other,
    }
}

fn coerce_string(v: &Value) -> Option<Value> {
    match unwrap_single(v) {
        Value::String(s) => Some(Value::String(s.clone())),
        Value::Number(n) => Some(Value::String(n.to_string())),
        Value::Bool(b) => Some(Value::String(b.to_string())),
        Value::Null => Some(Value::String(String::new())),
        _ => None,
    }
}

fn coerce_bool(v: &Value) -> Option<Value> {
    match unwrap_single(v) {
        Value::Bool(b) => Some(Value::Bool(*b)),
        Value::String(s) if s == "true" => Some(Value::Bool(true)),
        Value::String(s) if s == "false" || s.is_empty() => Some(Value::Bool(false)),
        Value::Number(n) if n.as_f64() == Some(1.0) => Some(Value::Bool(true)),
        Value::Number(n) if n.as_f64() == Some(0.0) => Some(Value::Bool(false)),
        Value::Null => Some(Value::Bool(false)),
        _ => None,
    }
}

fn is_word_or_allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c)
}

fn kms_arn_prefix(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("arn:aws") else {
        return false;
    };
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_lowercase() || c == '-');
    rest.starts_with(":kms")
}

struct Checker {
    problems: Vec<Problem>,
}

impl Checker {
    fn push(&mut self, path: &str, msg: impl AsRef<str>, crash: bool) {
        self.problems.push(Problem {
            text: format!("at '{path}': {}", msg.as_ref()),
            crash,
        });
    }

    fn event(&mut self, path: &str, ev: &mut Value) {
        let Value::Object(m) = ev else {
            self.push(path, "must be object", true);
            return;
        };
        let existing = m
            .get("existing")
            .is_some_and(|e| truthy(coerce_bool(e).as_ref().unwrap_or(e)));
        if !m.contains_key("pool") {
            self.push(path, "must have required property 'pool'", true);
        }
        if !m.contains_key("trigger") {
            self.push(path, "must have required property 'trigger'", !existing);
        }
        for k in m.keys() {
            if !["pool", "trigger", "existing", "forceDeploy", "kmsKeyId"].contains(&k.as_str()) {
                self.problems.push(Problem {
                    text: format!("at '{path}': unrecognized property '{k}'"),
                    crash: false,
                });
            }
        }
        if let Some(pool) = m.get_mut("pool") {
            let p = format!("{path}.pool");
            match coerce_string(pool) {
                None => self.push(&p, "must be string", true),
                Some(Value::String(s)) => {
                    if s.chars().count() > 128 {
                        self.push(&p, "must NOT have more than 128 characters", false);
                    }
                    if s.is_empty() || !s.chars().all(is_word_or_allowed) {
                        self.push(&p, "must match pattern \"^[\\w\\s+=,.@-]+$\"", false);
                    }
                    *pool = Value::String(s);
                }
                Some(_) => {}
            }
        }
        if let Some(trigger) = m.get_mut("trigger") {
            let p = format!("{path}.trigger");
            match coerce_string(trigger) {
                None => self.push(&p, "must be string", !existing),
                Some(Value::String(s)) => {
                    if !TRIGGERS.contains(&s.as_str()) {
                        self.push(
                            &p,
                            format!("must be equal to one of the allowed values [{}]", TRIGGERS.join(", ")),
                            false,
                        );
                    }
                    *trigger = Value::String(s);
                }
                Some(_) => {}
            }
        }
        for key in ["existing", "forceDeploy"] {
            if let Some(v) = m.get_mut(key) {
                match coerce_bool(v) {
                    Some(b) => *v = b,
                    None => self.push(&format!("{path}.{key}"), "must be boolean", false),
                }
            }
        }
        if let Some(kms) = m.get_mut("kmsKeyId") {
            let p = format!("{path}.kmsKeyId");
            match kms {
                // Any object passes (the schema's Fn::Base64 branch has no constraints).
                Value::Object(_) => {}
                Value::Array(_) => self.push(&p, "unsupported configuration format", false),
                other => match coerce_string(other) {
                    Some(Value::String(s)) => {
                        if !kms_arn_prefix(&s) {
                            self.push(&p, "unsupported string format", false);
                        }
                        *other = Value::String(s);
                    }
                    _ => self.push(&p, "unsupported configuration format", false),
                },
            }
        }
    }
}

/// Check (and coerce in place) the `cognitoUserPool` events and the `resources` keys.
pub fn check(config: &mut Value) -> Vec<Problem> {
    let mut c = Checker { problems: Vec::new() };
    if let Some(Value::Object(functions)) = config.get_mut("functions") {
        let keys: Vec<String> = functions.keys().cloned().collect();
        for key in &keys {
            if key.is_empty()
                || !key
                    .chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')
            {
                c.push("functions", format!("unrecognized property '{key}'"), false);
            }
        }
        for (key, f) in functions.iter_mut() {
            let Some(Value::Array(events)) = f.get_mut("events") else {
                continue;
            };
            for (i, ev) in events.iter_mut().enumerate() {
                if let Value::Object(m) = ev
                    && let Some(cup) = m.get_mut("cognitoUserPool")
                {
                    c.event(&format!("functions.{key}.events.{i}.cognitoUserPool"), cup);
                }
            }
        }
    }
    if let Some(Value::Object(resources)) = config.get("resources") {
        for k in resources.keys() {
            if !RESOURCES_KEYS.contains(&k.as_str()) {
                c.push("resources", format!("unrecognized property '{k}'"), false);
            }
        }
    }
    c.problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn problems(ev: Value) -> (Vec<String>, Vec<bool>, Value) {
        let mut cfg = json!({"functions": {"fn": {"events": [{"cognitoUserPool": ev}]}}});
        let p = check(&mut cfg);
        let ev = cfg["functions"]["fn"]["events"][0]["cognitoUserPool"].clone();
        (
            p.iter().map(|p| p.text.clone()).collect(),
            p.iter().map(|p| p.crash).collect(),
            ev,
        )
    }

    #[test]
    fn coercions_are_written_back_silently() {
        let (p, _, ev) = problems(json!({"pool": 123, "trigger": "PreSignUp", "existing": "true", "forceDeploy": 0}));
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(
            ev,
            json!({"pool": "123", "trigger": "PreSignUp", "existing": true, "forceDeploy": false})
        );
        let (p, _, ev) = problems(json!({"pool": ["P"], "trigger": "PreSignUp"}));
        assert!(p.is_empty());
        assert_eq!(ev["pool"], "P");
    }

    #[test]
    fn messages_and_crash_flags() {
        let (p, crash, _) = problems(json!({"trigger": "PreSignUp", "foo": 1, "existing": "yes"}));
        assert_eq!(
            p,
            vec![
                "at 'functions.fn.events.0.cognitoUserPool': must have required property 'pool'",
                "at 'functions.fn.events.0.cognitoUserPool': unrecognized property 'foo'",
                "at 'functions.fn.events.0.cognitoUserPool.existing': must be boolean",
            ]
        );
        assert_eq!(crash, vec![true, false, false]);
        let (_, crash, _) = problems(json!({"pool": "P", "existing": true}));
        assert_eq!(crash, vec![false]);
        let (_, crash, _) = problems(json!({"pool": "P"}));
        assert_eq!(crash, vec![true]);
        let (p, _, _) = problems(json!({"pool": "x".repeat(129) + "/", "trigger": "X", "kmsKeyId": "alias/k"}));
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p[0].ends_with("must NOT have more than 128 characters"));
        assert!(p[1].ends_with("must match pattern \"^[\\w\\s+=,.@-]+$\""));
        assert!(p[2].contains(".trigger': must be equal to one of the allowed values [PreSignUp, "));
        assert!(p[3].ends_with(".kmsKeyId': unsupported string format"));
    }

    #[test]
    fn kms_key_rules() {
        for ok in [
            json!("arn:aws:kms:us-east-1:1:key/x"),
            json!("arn:aws-us-gov:kms:x"),
            json!({"Fn::GetAtt": ["K", "Arn"]}),
            json!({"foo": "bar"}),
        ] {
            let (p, _, _) = problems(json!({"pool": "P", "trigger": "CustomSMSSender", "kmsKeyId": ok}));
            assert!(p.is_empty(), "{p:?}");
        }
        let (p, _, _) = problems(json!({"pool": "P", "trigger": "CustomSMSSender", "kmsKeyId": "arn:aws:s3:::x"}));
        assert_eq!(p.len(), 1);
    }

    #[test]
    fn resources_and_function_keys() {
        let mut cfg = json!({"functions": {"bad.key": {}}, "resources": {"Resources": {}, "Foo": {}}});
        let p: Vec<String> = check(&mut cfg).into_iter().map(|p| p.text).collect();
        assert_eq!(
            p,
            vec![
                "at 'functions': unrecognized property 'bad.key'",
                "at 'resources': unrecognized property 'Foo'"
            ]
        );
    }
}
