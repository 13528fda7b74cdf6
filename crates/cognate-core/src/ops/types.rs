//! Shapes that several operations' outputs share: timestamps, users, attributes, pages.
use crate::model::User;
use serde::{Serialize, Serializer};

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
        let wanted = |n: &str| only.is_none_or(|o| o.iter().any(|x| x == n));
        let mut attributes = Vec::new();
        if wanted("sub") {
            attributes.push(AttributeType::new("sub", &user.sub));
        }
        for (k, v) in &user.attributes {
            if wanted(k) {
                attributes.push(AttributeType::new(k, v));
            }
        }
        Self {
            username: user.username.clone(),
            attributes,
            user_create_date: Timestamp(user.created_ms),
            user_last_modified_date: Timestamp(user.modified_ms),
            enabled: user.enabled,
            user_status: user.status.as_str().to_owned(),
        }
    }
}
