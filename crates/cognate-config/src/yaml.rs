//! YAML → JSON, with CloudFormation short-form tags rewritten to their long form.

use serde_json::{Map, Number, Value};
use yaml_serde::Value as Yaml;

/// Parse YAML text (JSON is YAML too) into a JSON value.
///
/// Mapping keys become strings, merge keys (`<<`) are applied (js-yaml style), and the CloudFormation short
/// forms are normalised: `!Ref x` → `{"Ref": x}`, `!GetAtt a.b` → `{"Fn::GetAtt": ["a", "b"]}`,
/// `!Condition c` → `{"Condition": c}`, and `!Sub`, `!Join`, `!Select`, `!Split`, `!If`,
/// `!Equals`, `!And`, `!Or`, `!Not`, `!FindInMap`, `!ImportValue`, `!Base64`, `!GetAZs`,
/// `!Cidr`, `!Transform`, `!Length`, `!ToJsonString` → `{"Fn::<Name>": value}`.
/// Integral floats (`1.0`) become integers, as JavaScript would print them.
pub fn parse_yaml(text: &str) -> Result<Value, String> {
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    let y: Yaml = yaml_serde::from_str(text).map_err(|e| e.to_string())?;
    to_json(y)
}

fn to_json(y: Yaml) -> Result<Value, String> {
    Ok(match y {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => number(&n),
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(seq) => Value::Array(seq.into_iter().map(to_json).collect::<Result<_, _>>()?),
        Yaml::Mapping(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                if matches!(&k, Yaml::String(s) if s == "<<") {
                    // Merge keys, as js-yaml does: merged keys land here unless already set.
                    let sources = match to_json(v)? {
                        Value::Array(a) => a,
                        other => vec![other],
                    };
                    for src in sources {
                        let Value::Object(src) = src else {
                            return Err("merge key (<<) needs a mapping or a list of mappings".into());
                        };
                        for (mk, mv) in src {
                            out.entry(mk).or_insert(mv);
                        }
                    }
                    continue;
                }
                let key = match k {
                    Yaml::String(s) => s,
                    Yaml::Number(n) => number(&n).to_string(),
                    Yaml::Bool(b) => b.to_string(),
                    Yaml::Null => "null".to_string(),
                    other => return Err(format!("unsupported mapping key {other:?}")),
                };
                out.insert(key, to_json(v)?);
            }
            Value::Object(out)
        }
        Yaml::Tagged(t) => {
            let tag = t.tag.to_string();
            let name = tag.trim_start_matches('!').to_string();
            let inner = to_json(t.value)?;
            short_form(&name, inner)?
        }
    })
}

fn number(n: &yaml_serde::Number) -> Value {
    if let Some(i) = n.as_i64() {
        return Value::Number(i.into());
    }
    if let Some(u) = n.as_u64() {
        return Value::Number(u.into());
    }
    let f = n.as_f64().unwrap_or(f64::NAN);
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
        // JavaScript prints 1.0 as 1; keep the same text.
        #[allow(clippy::cast_possible_truncation)]
        return Value::Number((f as i64).into());
    }
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

fn short_form(name: &str, inner: Value) -> Result<Value, String> {
    let one = |k: &str, v: Value| {
        let mut m = Map::new();
        m.insert(k.to_string(), v);
        Value::Object(m)
    };
    match name {
        "Ref" => Ok(one("Ref", inner)),
        "Condition" => Ok(one("Condition", inner)),
        "GetAtt" => {
            let v = match inner {
                Value::String(s) => match s.split_once('.') {
                    Some((a, b)) => Value::Array(vec![a.into(), b.into()]),
                    None => Value::Array(vec![s.into()]),
                },
                other => other,
            };
            Ok(one("Fn::GetAtt", v))
        }
        "Sub" | "Join" | "Select" | "Split" | "If" | "Equals" | "And" | "Or" | "Not" | "FindInMap" | "ImportValue"
        | "Base64" | "GetAZs" | "Cidr" | "Transform" | "Length" | "ToJsonString" => {
            Ok(one(&format!("Fn::{name}"), inner))
        }
        other => Err(format!("unknown tag !{other}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn short_forms_become_long_forms() {
        let v = parse_yaml(
            "a: !Ref X\nb: !GetAtt Pool.Arn\nc: !Sub 'x-${AWS::Region}'\nd: !Join [':', [a, !Ref B]]\n\
             e: !If [Cond, !Select [0, !Split [',', 'a,b']], !Ref AWS::NoValue]\nf: !Condition IsProd\n\
             g: !Not [!Equals [a, b]]\nh: !FindInMap [M, K, V]\ni: !GetAZs ''\nj: !Base64 hi\n\
             k: !ImportValue Exp\nl: !And [!Condition A, !Or [!Condition B, !Condition C]]\n\
             m: !Cidr [10.0.0.0/16, 4, 8]\nn: !GetAtt [A, B]\n",
        )
        .unwrap();
        assert_eq!(
            v,
            json!({
                "a": {"Ref": "X"},
                "b": {"Fn::GetAtt": ["Pool", "Arn"]},
                "c": {"Fn::Sub": "x-${AWS::Region}"},
                "d": {"Fn::Join": [":", ["a", {"Ref": "B"}]]},
                "e": {"Fn::If": ["Cond", {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}, {"Ref": "AWS::NoValue"}]},
                "f": {"Condition": "IsProd"},
                "g": {"Fn::Not": [{"Fn::Equals": ["a", "b"]}]},
                "h": {"Fn::FindInMap": ["M", "K", "V"]},
                "i": {"Fn::GetAZs": ""},
                "j": {"Fn::Base64": "hi"},
                "k": {"Fn::ImportValue": "Exp"},
                "l": {"Fn::And": [{"Condition": "A"}, {"Fn::Or": [{"Condition": "B"}, {"Condition": "C"}]}]},
                "m": {"Fn::Cidr": ["10.0.0.0/16", 4, 8]},
                "n": {"Fn::GetAtt": ["A", "B"]},
            })
        );
    }

    #[test]
    fn keys_order_numbers_and_merge() {
        let v = parse_yaml("z: 1\na: 1.0\nm: 1.5\n5: x\nbase: &b {p: 1}\nd:\n  <<: *b\n  q: 2\n").unwrap();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"z":1,"a":1,"m":1.5,"5":"x","base":{"p":1},"d":{"p":1,"q":2}}"#
        );
    }

    #[test]
    fn unknown_tag_is_an_error() {
        assert!(parse_yaml("a: !Nope x").unwrap_err().contains("!Nope"));
    }
}
