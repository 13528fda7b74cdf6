//! The records Cognate keeps. Pool and client settings are kept in Cognito's own JSON shape
//! (what CreateUserPool / CreateUserPoolClient accept), so Describe* returns exactly what was
//! configured and later features read new members without a schema change.
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A user pool. `settings` holds the pool's configuration members in Cognito's shape
/// (`Policies`, `LambdaConfig`, `SchemaAttributes`, `AutoVerifiedAttributes`, …).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserPool {
    pub id: String,
    pub name: String,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub settings: Map<String, Value>,
}

impl UserPool {
    /// The part of the id after the region, e.g. `AbC123xyz` (SRP uses it as the pool name).
    pub fn short_id(&self) -> &str {
        self.id.split_once('_').map(|(_, s)| s).unwrap_or(&self.id)
    }

    pub fn region(&self) -> &str {
        self.id.split_once('_').map(|(r, _)| r).unwrap_or("us-east-1")
    }

    pub fn setting(&self, key: &str) -> Option<&Value> {
        self.settings.get(key).filter(|v| !v.is_null())
    }

    pub fn string_list(&self, key: &str) -> Vec<String> {
        self.setting(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }

    pub fn username_attributes(&self) -> Vec<String> {
        self.string_list("UsernameAttributes")
    }

    pub fn alias_attributes(&self) -> Vec<String> {
        self.string_list("AliasAttributes")
    }

    pub fn auto_verified_attributes(&self) -> Vec<String> {
        self.string_list("AutoVerifiedAttributes")
    }

    /// Case-insensitive usernames unless the pool says otherwise (the API default is
    /// case-sensitive when UsernameConfiguration is absent).
    pub fn case_sensitive(&self) -> bool {
        self.setting("UsernameConfiguration")
            .and_then(|u| u.get("CaseSensitive"))
            .and_then(Value::as_bool)
            .unwrap_or(true)
    }

    pub fn lambda_arn(&self, trigger: &str) -> Option<String> {
        let lc = self.setting("LambdaConfig")?;
        match lc.get(trigger)? {
            Value::String(s) => Some(s.clone()),
            Value::Object(o) => o.get("LambdaArn").and_then(Value::as_str).map(str::to_owned),
            _ => None,
        }
    }

    pub fn schema(&self) -> Vec<Value> {
        self.setting("SchemaAttributes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }

    pub fn schema_attribute(&self, name: &str) -> Option<Value> {
        // Looked up per attribute on every write: find without copying the whole schema.
        self.setting("SchemaAttributes")
            .and_then(Value::as_array)?
            .iter()
            .find(|a| a.get("Name").and_then(Value::as_str) == Some(name))
            .cloned()
    }

    pub fn deletion_protected(&self) -> bool {
        self.setting("DeletionProtection").and_then(Value::as_str) == Some("ACTIVE")
    }
}

/// An app client. `settings` holds its members in Cognito's shape.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AppClient {
    pub pool_id: String,
    pub client_id: String,
    pub name: String,
    pub secret: Option<String>,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub settings: Map<String, Value>,
}

impl AppClient {
    pub fn setting(&self, key: &str) -> Option<&Value> {
        self.settings.get(key).filter(|v| !v.is_null())
    }

    pub fn string_list(&self, key: &str) -> Option<Vec<String>> {
        self.setting(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
    }

    pub fn prevent_user_existence_errors(&self) -> bool {
        self.setting("PreventUserExistenceErrors").and_then(Value::as_str) == Some("ENABLED")
    }

    pub fn token_revocation_enabled(&self) -> bool {
        self.setting("EnableTokenRevocation")
            .and_then(Value::as_bool)
            .unwrap_or(true)
    }
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserStatus {
    Unconfirmed,
    Confirmed,
    Archived,
    Compromised,
    Unknown,
    ResetRequired,
    ForceChangePassword,
    ExternalProvider,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Unconfirmed => "UNCONFIRMED",
            UserStatus::Confirmed => "CONFIRMED",
            UserStatus::Archived => "ARCHIVED",
            UserStatus::Compromised => "COMPROMISED",
            UserStatus::Unknown => "UNKNOWN",
            UserStatus::ResetRequired => "RESET_REQUIRED",
            UserStatus::ForceChangePassword => "FORCE_CHANGE_PASSWORD",
            UserStatus::ExternalProvider => "EXTERNAL_PROVIDER",
        }
    }
}

/// What a one-time code is for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", content = "attribute")]
pub enum CodePurpose {
    SignUp,
    ForgotPassword,
    VerifyAttribute(String),
}

/// A one-time code, kept only as its SHA-256 digest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PendingCode {
    pub purpose: CodePurpose,
    pub digest: String,
    pub expires_ms: i64,
    #[serde(default)]
    pub failed_attempts: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct User {
    pub pool_id: String,
    pub username: String,
    pub sub: String,
    /// Every attribute except `sub`, values as strings (booleans as "true"/"false").
    pub attributes: BTreeMap<String, String>,
    pub status: UserStatus,
    pub enabled: bool,
    pub created_ms: i64,
    pub modified_ms: i64,
    pub password_hash: Option<String>,
    #[serde(default)]
    pub password_changed_ms: i64,
    #[serde(default)]
    pub codes: Vec<PendingCode>,
    /// Values waiting for verification (UserAttributeUpdateSettings).
    #[serde(default)]
    pub pending_attributes: BTreeMap<String, String>,
    /// Members added by later features (MFA settings, SRP verifier, lockout state…).
    #[serde(default, flatten)]
    pub extra: Map<String, Value>,
    /// Optimistic-concurrency version, maintained by the store.
    #[serde(skip)]
    pub version: i64,
}

impl User {
    pub fn attr(&self, name: &str) -> Option<&str> {
        if name == "sub" {
            return Some(&self.sub);
        }
        self.attributes.get(name).map(String::as_str)
    }

    pub fn is_verified(&self, attr: &str) -> bool {
        self.attributes.get(&format!("{attr}_verified")).map(String::as_str) == Some("true")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Group {
    pub pool_id: String,
    pub name: String,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub precedence: Option<i64>,
    pub created_ms: i64,
    pub modified_ms: i64,
}

/// A sign-in session: the refresh token and the tokens issued from it share its id
/// (`origin_jti`), so revoking the session revokes them all.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenSession {
    pub id: String,
    pub pool_id: String,
    pub username: String,
    pub client_id: String,
    /// SHA-256 (hex) of the refresh token.
    pub refresh_digest: String,
    pub auth_time: i64,
    pub created_ms: i64,
    pub expires_ms: i64,
    pub revoked: bool,
    /// The scopes an OAuth grant gave (refreshed tokens keep them); `None` for API sign-ins,
    /// whose access tokens carry `aws.cognito.signin.user.admin` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// When refresh-token rotation replaced this session's refresh token (ms); it works until
    /// the client's grace period has passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_ms: Option<i64>,
    /// The remembered device the sign-in was on (its DEVICE_KEY): access tokens carry it as
    /// `device_key`, and a refresh must name it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_key: Option<String>,
}

/// State kept between an auth challenge and its answer; the `Session` string sent to
/// the client is its id.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChallengeSession {
    pub id: String,
    pub pool_id: String,
    pub client_id: String,
    pub username: String,
    pub challenge: String,
    pub expires_ms: i64,
    #[serde(default)]
    pub data: Map<String, Value>,
}

/// A passkey (WebAuthn credential) of a user, registered with CompleteWebAuthnRegistration.
/// Its id is unique in its pool; it goes with its user and its pool.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Passkey {
    pub pool_id: String,
    /// The credential id, base64url without padding (ListWebAuthnCredentials' CredentialId).
    pub credential_id: String,
    /// The `sub` of the user it belongs to.
    pub user_sub: String,
    pub relying_party_id: String,
    pub friendly_name: String,
    #[serde(default)]
    pub authenticator_attachment: Option<String>,
    #[serde(default)]
    pub transports: Vec<String>,
    pub created_ms: i64,
    /// The authenticator's signature counter, as last seen.
    pub sign_count: u32,
    /// The credential as the WebAuthn library keeps it (public key, flags): opaque here.
    pub credential: String,
}

/// A message Cognate would send (development outbox).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OutboxMessage {
    pub pool_id: String,
    pub channel: String,
    pub to: String,
    pub subject: Option<String>,
    pub body: String,
    pub trigger_source: String,
    pub username: String,
    pub created_ms: i64,
    /// The code (or, for an invitation, the temporary password) the message carries, so a
    /// developer can read it without parsing the text. Absent in messages kept before it existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// Equality and prefix filters of ListUsers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFilter {
    pub attribute: SearchableAttribute,
    pub prefix: bool,
    pub value: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchableAttribute {
    Username,
    Email,
    PhoneNumber,
    Name,
    GivenName,
    FamilyName,
    PreferredUsername,
    UserStatus,
    Status,
    Sub,
}

impl SearchableAttribute {
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "username" => Self::Username,
            "email" => Self::Email,
            "phone_number" => Self::PhoneNumber,
            "name" => Self::Name,
            "given_name" => Self::GivenName,
            "family_name" => Self::FamilyName,
            "preferred_username" => Self::PreferredUsername,
            "cognito:user_status" => Self::UserStatus,
            "status" => Self::Status,
            "sub" => Self::Sub,
            _ => return None,
        })
    }

    /// The value of this attribute for a user, as the filter compares it.
    pub fn value_of(self, user: &User) -> Option<String> {
        match self {
            Self::Username => Some(user.username.clone()),
            Self::Email => user.attributes.get("email").cloned(),
            Self::PhoneNumber => user.attributes.get("phone_number").cloned(),
            Self::Name => user.attributes.get("name").cloned(),
            Self::GivenName => user.attributes.get("given_name").cloned(),
            Self::FamilyName => user.attributes.get("family_name").cloned(),
            Self::PreferredUsername => user.attributes.get("preferred_username").cloned(),
            Self::UserStatus => Some(user.status.as_str().to_owned()),
            Self::Status => Some(if user.enabled { "Enabled" } else { "Disabled" }.to_owned()),
            Self::Sub => Some(user.sub.clone()),
        }
    }
}
