//! User attributes against the pool's schema, the password policy, and usernames.
use crate::error::{Error, ErrorKind, Result};
use crate::model::{AppClient, UserPool};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// How an operation words schema violations: sign-up and creation list them after "Attributes
/// did not conform to the schema: ", updates name each one `user.NAME`. Either way every
/// violation is one line ending in a newline, as Cognito writes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaWording {
    Creation,
    Update,
}

/// Schema violations found so far, reported together.
struct Violations {
    wording: SchemaWording,
    lines: String,
}

impl Violations {
    fn new(wording: SchemaWording) -> Self {
        Self {
            wording,
            lines: String::new(),
        }
    }

    fn add(&mut self, name: &str, why: &str) {
        let prefix = if self.wording == SchemaWording::Update {
            "user."
        } else {
            ""
        };
        self.lines.push_str(&format!("{prefix}{name}: {why}\n"));
    }

    fn into_result(self) -> Result<()> {
        if self.lines.is_empty() {
            return Ok(());
        }
        Err(Error::invalid_parameter(match self.wording {
            SchemaWording::Creation => format!("Attributes did not conform to the schema: {}", self.lines),
            SchemaWording::Update => self.lines,
        }))
    }
}

/// A Boolean attribute's value: `true` or `false`, in any case (stored in lower case).
fn boolean_value(value: &str) -> Option<&'static str> {
    if value.eq_ignore_ascii_case("true") {
        Some("true")
    } else if value.eq_ignore_ascii_case("false") {
        Some("false")
    } else {
        None
    }
}

/// Why a value breaks its attribute's definition, if it does.
fn value_violation(def: &Value, value: &str) -> Option<String> {
    let bound = |c: &Value, k: &str| c.get(k).and_then(Value::as_str).and_then(|s| s.parse::<i64>().ok());
    match def.get("AttributeDataType").and_then(Value::as_str).unwrap_or("String") {
        "Boolean" => boolean_value(value)
            .is_none()
            .then(|| "Attribute value for Boolean attribute must be 'true' or 'false'.".to_owned()),
        "Number" => {
            let Ok(n) = value.parse::<f64>() else {
                return Some("Number attribute value must be a number.".into());
            };
            let c = def.get("NumberAttributeConstraints")?;
            if let Some(max) = bound(c, "MaxValue")
                && n > max as f64
            {
                return Some(format!("Number must be no greater than {max}"));
            }
            if let Some(min) = bound(c, "MinValue")
                && n < min as f64
            {
                return Some(format!("Number must be no less than {min}"));
            }
            None
        }
        _ => {
            let c = def.get("StringAttributeConstraints")?;
            let len = value.chars().count() as i64;
            if let Some(max) = bound(c, "MaxLength")
                && len > max
            {
                return Some(format!("String must be no longer than {max} characters"));
            }
            if let Some(min) = bound(c, "MinLength")
                && len < min
                && !value.is_empty()
            {
                return Some(format!("String must be no shorter than {min} characters"));
            }
            None
        }
    }
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

/// Checks attribute names and values against the schema, worded as creation words it.
/// `admin` callers may set `*_verified` and developer-only attributes.
pub fn validate_attributes(
    pool: &UserPool,
    attrs: &[(String, String)],
    admin: bool,
) -> Result<BTreeMap<String, String>> {
    validate_attributes_worded(pool, attrs, admin, SchemaWording::Creation)
}

/// [`validate_attributes`] with the operation's wording of schema violations, all of which are
/// reported at once.
pub fn validate_attributes_worded(
    pool: &UserPool,
    attrs: &[(String, String)],
    admin: bool,
    wording: SchemaWording,
) -> Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    let mut violations = Violations::new(wording);
    for (name, value) in attrs {
        let lookup = if !admin && name.starts_with("dev:") {
            None
        } else {
            pool.schema_attribute(name)
        };
        let Some(def) = lookup else {
            violations.add(name, "Attribute does not exist in the schema.");
            continue;
        };
        if name == "sub" {
            return Err(Error::invalid_parameter("Cannot modify the non-mutable attribute sub"));
        }
        if let Some(why) = value_violation(&def, value) {
            violations.add(name, &why);
            continue;
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
        let value = match def.get("AttributeDataType").and_then(Value::as_str) {
            Some("Boolean") => boolean_value(value).unwrap_or_default().to_owned(),
            _ => value.clone(),
        };
        out.insert(name.clone(), value);
    }
    violations.into_result()?;
    Ok(out)
}

/// Required attributes missing from `attrs`.
pub fn check_required(pool: &UserPool, attrs: &BTreeMap<String, String>) -> Result<()> {
    let mut violations = Violations::new(SchemaWording::Creation);
    for def in pool.schema() {
        let name = def.get("Name").and_then(Value::as_str).unwrap_or_default();
        let required = def.get("Required").and_then(Value::as_bool).unwrap_or(false);
        if required && name != "sub" && attrs.get(name).is_none_or(|v| v.is_empty()) {
            violations.add(name, "The attribute is required");
        }
    }
    violations.into_result()
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
