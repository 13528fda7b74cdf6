//! Shapes that several operations' outputs share: timestamps, users, attributes, pages.
use crate::messages::{Channel, mask_destination};
use crate::model::{AppClient, User};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A point in time as Cognito writes it: seconds since the Unix epoch, with a fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_millis(ms: i64) -> Self {
        Self(ms)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0 as f64 / 1000.0)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let seconds = f64::deserialize(d)?;
        Ok(Self((seconds * 1000.0).round() as i64))
    }
}

/// AttributeType: one `{"Name", "Value"}` pair.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeType {
    pub name: String,
    pub value: String,
}

impl AttributeType {
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

impl AttributeType {
    /// A user's attributes, `sub` first, limited to what `client` may read and, when given,
    /// to the names in `only`.
    pub fn list_of(user: &User, client: Option<&AppClient>, only: Option<&[String]>) -> Vec<Self> {
        let wanted = |n: &str| only.is_none_or(|o| o.iter().any(|x| x == n));
        let mut out = Vec::new();
        if wanted("sub") {
            out.push(Self::new("sub", &user.sub));
        }
        for (k, v) in &user.attributes {
            if crate::attributes::readable(client, k) && wanted(k) {
                out.push(Self::new(k, v));
            }
        }
        out
    }
}

/// CodeDeliveryDetailsType: where a code went, with the destination masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeDeliveryDetails {
    pub destination: String,
    pub delivery_medium: String,
    pub attribute_name: String,
}

impl CodeDeliveryDetails {
    pub fn new(channel: Channel, to: &str) -> Self {
        let medium = match channel {
            Channel::Email => "EMAIL",
            Channel::Sms => "SMS",
        };
        Self {
            destination: mask_destination(channel, to),
            delivery_medium: medium.to_owned(),
            attribute_name: channel.attribute().to_owned(),
        }
    }

    /// Reads the JSON form that `messages::delivery_details` (and the stand-in deliveries built
    /// from it) still produce.
    pub fn from_json(v: &Value) -> Self {
        let member = |m: &str| v.get(m).and_then(Value::as_str).unwrap_or_default().to_owned();
        Self {
            destination: member("Destination"),
            delivery_medium: member("DeliveryMedium"),
            attribute_name: member("AttributeName"),
        }
    }
}

/// ClientMetadata as the trigger code takes it (a JSON object of strings).
pub fn metadata_json(metadata: &Option<BTreeMap<String, String>>) -> Option<Map<String, Value>> {
    metadata
        .as_ref()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect())
}

/// UserType, as ListUsers, ListUsersInGroup and AdminCreateUser answer it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserType {
    pub username: String,
    pub attributes: Vec<AttributeType>,
    pub user_create_date: Timestamp,
    pub user_last_modified_date: Timestamp,
    pub enabled: bool,
    pub user_status: String,
}

impl UserType {
    /// The user with every attribute, or only those named in `only` (ListUsers'
    /// AttributesToGet); `sub` comes first, as Cognito lists it.
    pub fn of(user: &User, only: Option<&[String]>) -> Self {
        Self {
            username: user.username.clone(),
            attributes: AttributeType::list_of(user, None, only),
            user_create_date: Timestamp(user.created_ms),
            user_last_modified_date: Timestamp(user.modified_ms),
            enabled: user.enabled,
            user_status: user.status.as_str().to_owned(),
        }
    }
}

/// The answer of operations that send a code: `{"CodeDeliveryDetails": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CodeDeliveryOutput {
    pub code_delivery_details: CodeDeliveryDetails,
}

/// A user's MFA settings as GetUser and AdminGetUser answer them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct MfaSettings {
    #[serde(rename = "UserMFASettingList", skip_serializing_if = "Option::is_none")]
    pub user_mfa_setting_list: Option<Vec<String>>,
    #[serde(rename = "PreferredMfaSetting", skip_serializing_if = "Option::is_none")]
    pub preferred_mfa_setting: Option<String>,
    #[serde(rename = "MFAOptions", skip_serializing_if = "Option::is_none")]
    pub mfa_options: Option<Vec<MfaOptionType>>,
}

/// MFAOptionType (the legacy SMS MFA setting).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MfaOptionType {
    pub delivery_medium: String,
    pub attribute_name: String,
}

impl MfaSettings {
    /// Read from the JSON members that `ops::mfa::mfa_fields` builds.
    pub fn of(user: &User) -> crate::error::Result<Self> {
        let fields = crate::ops::mfa::mfa_fields(user);
        serde_json::from_value(Value::Object(fields)).map_err(crate::error::Error::internal)
    }
}
