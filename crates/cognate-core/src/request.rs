//! Reading request members with Cognito's validation messages.
use crate::error::{Error, ErrorKind, Result};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A request body: a JSON object of PascalCase members.
#[derive(Debug, Clone, Default)]
pub struct Request(pub Map<String, Value>);

/// Cognito names members in lowerCamelCase in validation messages ('userPoolId').
pub fn camel(member: &str) -> String {
    let mut c = member.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

/// Maximum lengths of string members from the API model (botocore cognito-idp
/// `service-2.json`; each name has the same shape in every operation), and whether the model
/// marks the member sensitive (AWS then leaves the value out of the message).
const MAX_LENGTHS: &[(&str, usize, bool)] = &[
    ("Username", 128, true),
    ("Password", 256, true),
    ("PreviousPassword", 256, true),
    ("ProposedPassword", 256, true),
    ("Session", 4096, true),
    ("ConfirmationCode", 2048, false),
    ("PoolName", 128, false),
    ("ClientName", 128, false),
    ("GroupName", 128, false),
    ("Description", 2048, false),
];

fn check_max_length(member: &str, value: &str) -> Result<()> {
    let Some(&(_, max, sensitive)) = MAX_LENGTHS.iter().find(|(m, _, _)| *m == member) else {
        return Ok(());
    };
    if value.chars().count() <= max {
        return Ok(());
    }
    let constraint = format!("Member must have length less than or equal to {max}");
    Err(if sensitive {
        Error::sensitive_constraint(&camel(member), &constraint)
    } else {
        Error::constraint(&camel(member), value, &constraint)
    })
}

/// A character of the model's name pattern `[\w\s+=,.@-]+` (pool, client and resource server
/// names).
pub fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c)
}

/// A PoolName or ClientName: 1–128 characters of [`is_name_char`]; `member` as AWS names it.
pub fn check_name(member: &str, name: &str) -> Result<()> {
    if !name.is_empty() && name.chars().count() <= 128 && name.chars().all(is_name_char) {
        return Ok(());
    }
    Err(Error::constraint(
        member,
        name,
        "Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+",
    ))
}

fn type_error(member: &str, expected: &str) -> Error {
    Error::new(
        ErrorKind::SerializationException,
        format!("Unexpected value type for member '{member}': expected {expected}"),
    )
}

impl Request {
    pub fn from_value(v: Value) -> Result<Self> {
        match v {
            Value::Object(m) => Ok(Self(m)),
            _ => Err(Error::new(
                ErrorKind::SerializationException,
                "Request body must be a JSON object",
            )),
        }
    }

    fn get(&self, member: &str) -> Option<&Value> {
        self.0.get(member).filter(|v| !v.is_null())
    }

    pub fn raw(&self, member: &str) -> Option<&Value> {
        self.get(member)
    }

    pub fn opt_str(&self, member: &str) -> Result<Option<String>> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::String(s)) => {
                check_max_length(member, s)?;
                Ok(Some(s.clone()))
            }
            Some(_) => Err(type_error(member, "string")),
        }
    }

    /// A required string member; empty strings fail the length constraint like AWS's.
    pub fn str(&self, member: &str) -> Result<String> {
        match self.opt_str(member)? {
            None => Err(Error::missing(&camel(member))),
            Some(s) if s.is_empty() => Err(Error::constraint(
                &camel(member),
                "",
                "Member must have length greater than or equal to 1",
            )),
            Some(s) => Ok(s),
        }
    }

    pub fn opt_bool(&self, member: &str) -> Result<Option<bool>> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(type_error(member, "boolean")),
        }
    }

    pub fn opt_i64(&self, member: &str) -> Result<Option<i64>> {
        match self.get(member) {
            None => Ok(None),
            Some(v) => v.as_i64().map(Some).ok_or_else(|| type_error(member, "integer")),
        }
    }

    pub fn opt_str_list(&self, member: &str) -> Result<Option<Vec<String>>> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| type_error(member, "list of strings"))
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(_) => Err(type_error(member, "list")),
        }
    }

    pub fn str_map(&self, member: &str) -> Result<Option<BTreeMap<String, String>>> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::Object(m)) => m
                .iter()
                .map(|(k, v)| match v {
                    Value::String(s) => Ok((k.clone(), s.clone())),
                    _ => Err(type_error(member, "map of strings")),
                })
                .collect::<Result<BTreeMap<_, _>>>()
                .map(Some),
            Some(_) => Err(type_error(member, "map")),
        }
    }

    /// `[{"Name": …, "Value": …}]` lists (UserAttributes, ValidationData).
    /// A list of AttributeType (`[{"Name", "Value"}]`). As the model has it, a name is 1 to 32
    /// characters and a value at most 2048 (sensitive, so left out of the message); AWS names
    /// the failing entry `userAttributes.<n>.member.<field>`, counting from 1.
    pub fn attribute_list(&self, member: &str) -> Result<Option<Vec<(String, String)>>> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::Array(a)) => a
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    let at = |field: &str| format!("{}.{}.member.{field}", camel(member), i + 1);
                    let name = match item.get("Name") {
                        None | Some(Value::Null) => return Err(Error::missing(&at("name"))),
                        Some(Value::String(s)) => s,
                        Some(_) => return Err(type_error(member, "string attribute name")),
                    };
                    let name_length = name.chars().count();
                    if name_length == 0 {
                        let constraint = "Member must have length greater than or equal to 1";
                        return Err(Error::constraint(&at("name"), name, constraint));
                    }
                    if name_length > 32 {
                        let constraint = "Member must have length less than or equal to 32";
                        return Err(Error::constraint(&at("name"), name, constraint));
                    }
                    let value = match item.get("Value") {
                        None | Some(Value::Null) => String::new(),
                        Some(Value::String(s)) => s.clone(),
                        Some(_) => return Err(type_error(member, "string attribute value")),
                    };
                    if value.chars().count() > 2048 {
                        let constraint = "Member must have length less than or equal to 2048";
                        return Err(Error::sensitive_constraint(&at("value"), constraint));
                    }
                    Ok((name.clone(), value))
                })
                .collect::<Result<Vec<_>>>()
                .map(Some),
            Some(_) => Err(type_error(member, "list")),
        }
    }

    pub fn object(&self, member: &str) -> Result<Option<Map<String, Value>>> {
        match self.get(member) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m.clone())),
            Some(_) => Err(type_error(member, "structure")),
        }
    }

    /// Validates the UserPoolId member against AWS's pattern and returns it.
    pub fn pool_id(&self) -> Result<String> {
        let id = self.str("UserPoolId")?;
        let ok = id.len() <= 55
            && id.split_once('_').is_some_and(|(r, s)| {
                !r.is_empty()
                    && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                    && !s.is_empty()
                    && s.chars().all(|c| c.is_ascii_alphanumeric())
            });
        if !ok {
            return Err(Error::constraint(
                "userPoolId",
                &id,
                "Member must satisfy regular expression pattern: [\\w-]+_[0-9a-zA-Z]+",
            ));
        }
        Ok(id)
    }

    pub fn limit(&self, member: &str, max: i64, default: i64) -> Result<usize> {
        match self.opt_i64(member)? {
            None => Ok(default as usize),
            Some(n) if n < 0 => Err(Error::constraint(
                &camel(member),
                &n.to_string(),
                "Member must have value greater than or equal to 0",
            )),
            Some(n) if n > max => Err(Error::constraint(
                &camel(member),
                &n.to_string(),
                &format!("Member must have value less than or equal to {max}"),
            )),
            Some(n) => Ok(n as usize),
        }
    }
}

/// Pagination tokens are opaque to clients: the store's continuation key, wrapped so that a
/// token the server never issued is recognised and refused.
pub fn encode_page_token(key: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("cognate:{key}"))
}

impl Request {
    /// Reads a pagination token member and returns the store key it stands for.
    pub fn page_token(&self, member: &str) -> Result<Option<String>> {
        use base64::Engine;
        let Some(token) = self.opt_str(member)? else {
            return Ok(None);
        };
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.as_bytes())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| s.strip_prefix("cognate:").map(str::to_owned))
            .map(Some)
            .ok_or_else(|| Error::invalid_parameter(format!("Invalid {}.", camel(member))))
    }
}
