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
    let data_type = def.get("AttributeDataType").and_then(Value::as_str).unwrap_or("String");
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
        return Err(Error::invalid_parameter(format!(
            "Required custom attributes are not supported currently. Attribute {full} is required."
        )));
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
            let c = def.get("StringAttributeConstraints").cloned().unwrap_or(json!({}));
            out["StringAttributeConstraints"] = json!({
                "MinLength": c.get("MinLength").cloned().unwrap_or(json!("0")),
                "MaxLength": c.get("MaxLength").cloned().unwrap_or(json!("2048")),
            });
        }
        "Number" => {
            let c = def.get("NumberAttributeConstraints").cloned().unwrap_or(json!({}));
            out["NumberAttributeConstraints"] = c;
        }
        _ => {}
    }
    Ok(out)
}

/// The standard schema with a CreateUserPool Schema applied: standard attributes take its
/// Required, Mutable and string constraints; other names become custom attributes.
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
        if is_standard(name) {
            if name == "sub" {
                continue;
            }
            let slot = schema
                .iter_mut()
                .find(|a| a["Name"] == name)
                .expect("standard attribute");
            for key in ["Required", "Mutable"] {
                if let Some(v) = def.get(key).and_then(Value::as_bool) {
                    slot[key] = json!(v);
                }
            }
            if let Some(c) = def.get("StringAttributeConstraints").and_then(Value::as_object) {
                for (k, v) in c {
                    slot["StringAttributeConstraints"][k] = v.clone();
                }
            }
        } else {
            let attr = custom_attribute(def)?;
            if schema.iter().any(|a| a["Name"] == attr["Name"]) {
                return Err(Error::invalid_parameter(format!(
                    "Existing attribute already has name {}.",
                    attr["Name"].as_str().unwrap_or_default()
                )));
            }
            schema.push(attr);
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
            let attr = custom_attribute(def)?;
            if schema.iter().any(|a| a["Name"] == attr["Name"]) {
                return Err(Error::invalid_parameter(format!(
                    "Existing attribute already has name {}.",
                    attr["Name"].as_str().unwrap_or_default()
                )));
            }
            schema.push(attr);
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
