//! User attributes against the pool's schema, the password policy, and usernames.
use crate::error::{Error, ErrorKind, Result};
use crate::model::{AppClient, UserPool};
use serde_json::{Value, json};
use std::collections::BTreeMap;

fn schema_error(name: &str, why: &str) -> Error {
    Error::invalid_parameter(format!("Attributes did not conform to the schema: {name}: {why}"))
}

pub fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(char::is_whitespace)
                && !domain.contains('@')
        }
        None => false,
    }
}

pub fn looks_like_phone(s: &str) -> bool {
    s.starts_with('+') && s.len() >= 3 && s.len() <= 17 && s[1..].chars().all(|c| c.is_ascii_digit())
}

/// Checks attribute names and values against the schema. `admin` callers may set
/// `*_verified` and developer-only attributes.
pub fn validate_attributes(
    pool: &UserPool,
    attrs: &[(String, String)],
    admin: bool,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (name, value) in attrs {
        let lookup = if !admin && name.starts_with("dev:") {
            None
        } else {
            pool.schema_attribute(name)
        };
        let Some(def) = lookup else {
            return Err(schema_error(name, "Attribute does not exist in the schema."));
        };
        if name == "sub" {
            return Err(Error::invalid_parameter("Cannot modify the non-mutable attribute sub"));
        }
        let data_type = def.get("AttributeDataType").and_then(Value::as_str).unwrap_or("String");
        match data_type {
            "Boolean" => {
                if value != "true" && value != "false" {
                    return Err(schema_error(
                        name,
                        "Attribute value for Boolean attribute must be 'true' or 'false'.",
                    ));
                }
            }
            "Number" => {
                if value.parse::<f64>().is_err() {
                    return Err(schema_error(name, "Number attribute value must be a number."));
                }
            }
            _ => {
                if let Some(c) = def.get("StringAttributeConstraints") {
                    let len = value.chars().count() as i64;
                    let bound = |k: &str| c.get(k).and_then(Value::as_str).and_then(|s| s.parse::<i64>().ok());
                    if let Some(max) = bound("MaxLength")
                        && len > max
                    {
                        return Err(schema_error(
                            name,
                            &format!("String must be no longer than {max} characters"),
                        ));
                    }
                    if let Some(min) = bound("MinLength")
                        && len < min
                        && !value.is_empty()
                    {
                        return Err(schema_error(
                            name,
                            &format!("String must be no shorter than {min} characters"),
                        ));
                    }
                }
            }
        }
        if name == "email" && !value.is_empty() && !looks_like_email(value) {
            return Err(Error::invalid_parameter("Invalid email address format."));
        }
        if name == "phone_number" && !value.is_empty() && !looks_like_phone(value) {
            return Err(Error::invalid_parameter("Invalid phone number format."));
        }
        if (name == "email_verified" || name == "phone_number_verified") && !admin {
            // Users cannot mark their own contact details as verified.
            return Err(Error::not_authorized(
                "A client attempted to write unauthorized attribute",
            ));
        }
        out.insert(name.clone(), value.clone());
    }
    Ok(out)
}

/// Required attributes missing from `attrs`.
pub fn check_required(pool: &UserPool, attrs: &BTreeMap<String, String>) -> Result<()> {
    for def in pool.schema() {
        let name = def.get("Name").and_then(Value::as_str).unwrap_or_default();
        let required = def.get("Required").and_then(Value::as_bool).unwrap_or(false);
        if required && name != "sub" && attrs.get(name).is_none_or(|v| v.is_empty()) {
            return Err(schema_error(name, "The attribute is required"));
        }
    }
    Ok(())
}

/// Attributes that may not change after creation.
pub fn check_mutable(pool: &UserPool, names: impl IntoIterator<Item = String>) -> Result<()> {
    for name in names {
        if let Some(def) = pool.schema_attribute(&name)
            && def.get("Mutable").and_then(Value::as_bool) == Some(false)
        {
            return Err(Error::invalid_parameter(format!(
                "Cannot modify the non-mutable attribute {name}"
            )));
        }
    }
    Ok(())
}

/// Attributes the client may write (WriteAttributes; all writable when unset).
pub fn check_writable(client: &AppClient, names: impl IntoIterator<Item = String>) -> Result<()> {
    let Some(allowed) = client.string_list("WriteAttributes") else {
        return Ok(());
    };
    for name in names {
        if !allowed.contains(&name) {
            return Err(Error::not_authorized(
                "A client attempted to write unauthorized attribute",
            ));
        }
    }
    Ok(())
}

/// Whether the client may read an attribute (ReadAttributes; all when unset).
pub fn readable(client: Option<&AppClient>, name: &str) -> bool {
    match client.and_then(|c| c.string_list("ReadAttributes")) {
        None => true,
        Some(list) => name == "sub" || list.iter().any(|a| a == name),
    }
}

/// The password policy of the pool, applied with Cognito's messages.
pub fn check_password(pool: &UserPool, password: &str) -> Result<()> {
    let policy = pool
        .setting("Policies")
        .and_then(|p| p.get("PasswordPolicy"))
        .cloned()
        .unwrap_or(json!({}));
    let flag = |k: &str| policy.get(k).and_then(Value::as_bool).unwrap_or(false);
    let min = policy.get("MinimumLength").and_then(Value::as_i64).unwrap_or(8);
    let fail = |why: &str| {
        Err(Error::new(
            ErrorKind::InvalidPasswordException,
            format!("Password did not conform with policy: {why}"),
        ))
    };
    if password.chars().count() > 256 {
        return fail("Password too long");
    }
    if (password.chars().count() as i64) < min {
        return fail("Password not long enough");
    }
    if flag("RequireUppercase") && !password.chars().any(|c| c.is_uppercase()) {
        return fail("Password must have uppercase characters");
    }
    if flag("RequireLowercase") && !password.chars().any(|c| c.is_lowercase()) {
        return fail("Password must have lowercase characters");
    }
    if flag("RequireNumbers") && !password.chars().any(|c| c.is_ascii_digit()) {
        return fail("Password must have numeric characters");
    }
    const SYMBOLS: &str = "^$*.[]{}()?\"!@#%&/\\,><':;|_~`=+- ";
    if flag("RequireSymbols") && !password.chars().any(|c| SYMBOLS.contains(c)) {
        return fail("Password must have symbol characters");
    }
    Ok(())
}

/// Cognito's username pattern: printable, no whitespace, 1–128 characters.
pub fn check_username(username: &str) -> Result<()> {
    if username.is_empty()
        || username.chars().count() > 128
        || username.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::constraint(
            "username",
            username,
            "Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+",
        ));
    }
    Ok(())
}
