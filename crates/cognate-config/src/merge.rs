//! lodash-style deep merge, as Serverless uses it to combine template pieces (spec §5.4, §7.1).

use serde_json::Value;

/// Merge `src` into `dest`: objects merge key by key (new keys appended, existing keys keep
/// their position), arrays merge element by element by index, anything else is replaced by
/// `src` (including `null`).
pub fn deep_merge(dest: &mut Value, src: &Value) {
    match (dest, src) {
        (Value::Object(d), Value::Object(s)) => {
            for (k, sv) in s {
                match d.get_mut(k) {
                    Some(dv) => deep_merge(dv, sv),
                    None => {
                        d.insert(k.clone(), sv.clone());
                    }
                }
            }
        }
        (Value::Array(d), Value::Array(s)) => {
            for (i, sv) in s.iter().enumerate() {
                match d.get_mut(i) {
                    Some(dv) => deep_merge(dv, sv),
                    None => d.push(sv.clone()),
                }
            }
        }
        (dest, src) => *dest = src.clone(),
    }
}

/// Delete every `null` object member, recursively (also inside arrays' objects).
pub fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.retain(|_, x| !x.is_null());
            for x in m.values_mut() {
                strip_nulls(x);
            }
        }
        Value::Array(a) => {
            for x in a.iter_mut() {
                strip_nulls(x);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lodash_semantics() {
        let mut d = json!({"a": 1, "b": {"x": [1, 2, 3], "y": "k"}, "c": [ {"p": 1} ]});
        deep_merge(
            &mut d,
            &json!({"b": {"x": ["z"], "n": null}, "c": [{"q": 2}, 5], "a": {"o": 1}, "new": [1]}),
        );
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"a":{"o":1},"b":{"x":["z",2,3],"y":"k","n":null},"c":[{"p":1,"q":2},5],"new":[1]}"#
        );
        strip_nulls(&mut d);
        assert_eq!(d["b"], json!({"x": ["z", 2, 3], "y": "k"}));
    }
}
