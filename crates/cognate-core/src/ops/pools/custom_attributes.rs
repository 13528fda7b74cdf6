//! The schema of a user pool: Cognito's standard attributes, the custom attributes a
//! CreateUserPool Schema or an AddCustomAttributes request adds, and AddCustomAttributes.
//! Schema attributes are kept in the stored pool as SchemaAttributeType JSON.
use crate::error::{Error, Result};
use crate::ops::{Empty, Input};
use crate::request::Request;
use crate::service::Cognito;
use serde_json::{Map, Value, json};

// ---- inputs ------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AddCustomAttributesInput {
    pub user_pool_id: String,
    /// SchemaAttributeType entries as given (checked when decoded); they are stored in the
    /// schema's JSON form, with the `custom:` prefix.
    pub custom_attributes: Vec<Map<String, Value>>,
}

impl Input for AddCustomAttributesInput {
    fn decode(req: &Request) -> Result<Self> {
        let user_pool_id = req.pool_id()?;
        let Some(list) = req.raw("CustomAttributes").and_then(Value::as_array) else {
            return Err(Error::missing("customAttributes"));
        };
        if list.is_empty() || list.len() > 25 {
            return Err(Error::invalid_parameter(
                "1 validation error detected: Value at 'customAttributes' failed to satisfy constraint: Member must have length between 1 and 25",
            ));
        }
        let custom_attributes = list
            .iter()
            .map(|item| {
                let def = item
                    .as_object()
                    .ok_or_else(|| Error::invalid_parameter("Invalid custom attribute."))?;
                custom_attribute(def)?;
                Ok(def.clone())
            })
            .collect::<Result<_>>()?;
        Ok(Self {
            user_pool_id,
            custom_attributes,
        })
    }
}

// ---- the schema --------------------------------------------------------------------------

const STANDARD_STRINGS: &[&str] = &[
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "address",
];

/// Cognito's standard attributes with their default schema, in DescribeUserPool's order.
pub fn standard_schema() -> Vec<Value> {
    let mut out = vec![json!({
        "Name": "sub", "AttributeDataType": "String", "DeveloperOnlyAttribute": false,
        "Mutable": false, "Required": true,
        "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "2048"}
    })];
    for name in STANDARD_STRINGS {
        let (min, max) = if *name == "birthdate" {
            ("10", "10")
        } else {
            ("0", "2048")
        };
        out.push(json!({
            "Name": name, "AttributeDataType": "String", "DeveloperOnlyAttribute": false,
            "Mutable": true, "Required": false,
            "StringAttributeConstraints": {"MinLength": min, "MaxLength": max}
        }));
        if *name == "email" || *name == "phone_number" {
            out.push(json!({
                "Name": format!("{name}_verified"), "AttributeDataType": "Boolean",
                "DeveloperOnlyAttribute": false, "Mutable": true, "Required": false
            }));
        }
    }
    out.push(json!({
        "Name": "updated_at", "AttributeDataType": "Number", "DeveloperOnlyAttribute": false,
        "Mutable": true, "Required": false, "NumberAttributeConstraints": {"MinValue": "0"}
    }));
    out.push(json!({
        "Name": "identities", "AttributeDataType": "String", "DeveloperOnlyAttribute": false,
        "Mutable": true, "Required": false, "StringAttributeConstraints": {}
    }));
    out
}

fn is_standard(name: &str) -> bool {
    standard_schema().iter().any(|a| a["Name"] == name)
}

/// Turns a SchemaAttributeType from a request into its stored form; custom attributes get
/// the `custom:` prefix (`dev:custom:` when developer-only).
fn custom_attribute(def: &Map<String, Value>) -> Result<Value> {
    let name = def
        .get("Name")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::missing("schema.member.name"))?;
    if name.is_empty() || name.len() > 20 {
        return Err(Error::constraint(
            "schema.member.name",
            name,
            "Member must have length less than or equal to 20",
        ));
    }
    let Some(data_type) = def.get("AttributeDataType").and_then(Value::as_str) else {
        return Err(Error::invalid_parameter(
            "Invalid AttributeDataType input, consider using the provided AttributeDataType enum.",
        ));
    };
    if !matches!(data_type, "String" | "Number" | "DateTime" | "Boolean") {
        return Err(Error::constraint(
            "schema.member.attributeDataType",
            data_type,
            "Member must satisfy enum value set: [Boolean, Number, String, DateTime]",
        ));
    }
    let developer_only = def
        .get("DeveloperOnlyAttribute")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let full = if developer_only {
        format!("dev:custom:{name}")
    } else {
        format!("custom:{name}")
    };
    if def.get("Required").and_then(Value::as_bool) == Some(true) {
        return Err(Error::invalid_parameter(
            "Required custom attributes are not supported currently.",
        ));
    }
    let mut out = json!({
        "Name": full,
        "AttributeDataType": data_type,
        "DeveloperOnlyAttribute": developer_only,
        "Mutable": def.get("Mutable").and_then(Value::as_bool).unwrap_or(true),
        "Required": false,
    });
    match data_type {
        "String" => {
            let given = string_constraints(&full, def)?;
            out["StringAttributeConstraints"] = json!({
                "MinLength": given.get("MinLength").cloned().unwrap_or(json!("0")),
                "MaxLength": given.get("MaxLength").cloned().unwrap_or(json!("2048")),
            });
        }
        "Number" => {
            out["NumberAttributeConstraints"] = Value::Object(number_constraints(&full, def)?);
        }
        _ => {}
    }
    Ok(out)
}

/// A constraint bound as given (a string of digits, or a JSON number); `None` when it is not
/// a number.
fn bound(v: &Value) -> Option<i64> {
    match v {
        Value::String(s) => s.trim().parse().ok(),
        Value::Number(n) => n.as_i64(),
        _ => None,
    }
}

/// The StringAttributeConstraints of a schema attribute, checked as Cognito checks them
/// (lengths are whole numbers from 0 to 2048, the maximum not below the minimum); the bounds
/// given, as strings.
fn string_constraints(name: &str, def: &Map<String, Value>) -> Result<Map<String, Value>> {
    let Some(given) = def.get("StringAttributeConstraints").filter(|v| !v.is_null()) else {
        return Ok(Map::new());
    };
    let invalid = || {
        Error::invalid_parameter(format!(
            "Invalid StringAttributeConstraints for schema attribute {name}"
        ))
    };
    let given = given.as_object().ok_or_else(invalid)?;
    let mut out = Map::new();
    let mut lengths = [None, None];
    for (i, key) in ["MinLength", "MaxLength"].into_iter().enumerate() {
        let Some(v) = given.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        let n = bound(v).filter(|n| *n >= 0).ok_or_else(invalid)?;
        if n > 2048 {
            return Err(Error::invalid_parameter(format!(
                "user.{name}: String attributes cannot have a length of more than 2048"
            )));
        }
        lengths[i] = Some(n);
        out.insert(key.into(), json!(n.to_string()));
    }
    if let [Some(min), Some(max)] = lengths
        && max < min
    {
        return Err(Error::invalid_parameter(format!(
            "user.{name}: Max length cannot be less than min length."
        )));
    }
    Ok(out)
}

/// The NumberAttributeConstraints of a schema attribute, checked as Cognito checks them (whole
/// numbers, the maximum not below the minimum); the bounds given, as strings.
fn number_constraints(name: &str, def: &Map<String, Value>) -> Result<Map<String, Value>> {
    let Some(given) = def.get("NumberAttributeConstraints").filter(|v| !v.is_null()) else {
        return Ok(Map::new());
    };
    let invalid = || {
        Error::invalid_parameter(format!(
            "Invalid NumberAttributeConstraints for schema attribute {name}"
        ))
    };
    let given = given.as_object().ok_or_else(invalid)?;
    let mut out = Map::new();
    let mut values = [None, None];
    for (i, key) in ["MinValue", "MaxValue"].into_iter().enumerate() {
        let Some(v) = given.get(key).filter(|v| !v.is_null()) else {
            continue;
        };
        let n = bound(v).ok_or_else(invalid)?;
        values[i] = Some(n);
        out.insert(key.into(), json!(n.to_string()));
    }
    if let [Some(min), Some(max)] = values
        && max < min
    {
        return Err(Error::invalid_parameter(format!(
            "user.{name}: Max value cannot be less than min value."
        )));
    }
    Ok(out)
}

/// A custom attribute's name without the developer-only prefix: `custom:x` and
/// `dev:custom:x` are the same attribute.
fn base_name(name: &str) -> &str {
    name.strip_prefix("dev:").unwrap_or(name)
}

/// Adds a custom attribute to a schema, refusing one whose name is taken.
fn push_custom(schema: &mut Vec<Value>, attr: Value) -> Result<()> {
    let name = attr["Name"].as_str().unwrap_or_default().to_owned();
    if let Some(existing) = schema
        .iter()
        .filter_map(|a| a["Name"].as_str())
        .find(|n| base_name(n) == base_name(&name))
    {
        return Err(Error::invalid_parameter(format!(
            "{}: Existing attribute already has name {existing}.",
            base_name(&name)
        )));
    }
    schema.push(attr);
    Ok(())
}

/// The standard schema with a CreateUserPool Schema applied: standard attributes take its
/// Required, Mutable and constraints (their type and developer-only flag cannot change);
/// other names become custom attributes.
pub(super) fn build_schema(requested: Option<&[Value]>) -> Result<Vec<Value>> {
    let mut schema = standard_schema();
    let Some(items) = requested else {
        return Ok(schema);
    };
    for item in items {
        let def = item
            .as_object()
            .ok_or_else(|| Error::invalid_parameter("Invalid schema attribute."))?;
        let name = def.get("Name").and_then(Value::as_str).unwrap_or_default();
        if !is_standard(name) {
            push_custom(&mut schema, custom_attribute(def)?)?;
            continue;
        }
        if name == "sub" {
            continue;
        }
        let slot = schema
            .iter_mut()
            .find(|a| a["Name"] == name)
            .expect("standard attribute");
        let retyped = def
            .get("AttributeDataType")
            .and_then(Value::as_str)
            .is_some_and(|t| slot["AttributeDataType"] != t);
        if retyped || def.get("DeveloperOnlyAttribute").and_then(Value::as_bool) == Some(true) {
            return Err(Error::invalid_parameter(format!(
                "You can not change AttributeDataType or set developerOnlyAttribute for standard schema attribute {name}"
            )));
        }
        for key in ["Required", "Mutable"] {
            if let Some(v) = def.get(key).and_then(Value::as_bool) {
                slot[key] = json!(v);
            }
        }
        for (key, given) in [
            ("StringAttributeConstraints", string_constraints(name, def)?),
            ("NumberAttributeConstraints", number_constraints(name, def)?),
        ] {
            if given.is_empty() || slot.get(key).is_none() {
                continue;
            }
            for (k, v) in given {
                slot[key][k] = v;
            }
        }
    }
    Ok(schema)
}

// ---- operations --------------------------------------------------------------------------

/// How many custom attributes a pool may have.
const MAX_CUSTOM_ATTRIBUTES: usize = 50;

impl Cognito {
    pub async fn add_custom_attributes(&self, input: AddCustomAttributesInput) -> Result<Empty> {
        let mut pool = self.pool(&input.user_pool_id).await?;
        let mut schema = pool.schema();
        for def in &input.custom_attributes {
            push_custom(&mut schema, custom_attribute(def)?)?;
        }
        let custom = schema
            .iter()
            .filter(|a| a["Name"].as_str().is_some_and(|n| n.contains("custom:")))
            .count();
        if custom > MAX_CUSTOM_ATTRIBUTES {
            return Err(Error::invalid_parameter(
                "A user pool can have at most 50 custom attributes.",
            ));
        }
        pool.settings.insert("SchemaAttributes".into(), Value::Array(schema));
        pool.modified_ms = self.now_ms();
        self.store.update_pool(&pool).await?;
        Ok(Empty {})
    }
}
