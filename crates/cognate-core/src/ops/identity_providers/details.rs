//! ProviderDetails and AttributeMapping of each IdP type: the keys a request must give, the
//! values they may take, and what Cognito adds when it stores a provider (the fixed endpoints of
//! the social providers, the endpoints an OpenID Connect issuer's discovery document names, the
//! default `username` mapping).
//!
//! Cognate extension, for testing: a social provider's endpoints (`authorize_url`, `token_url`,
//! `attributes_url`, `oidc_issuer`, `jwks_uri`) may be given in ProviderDetails; given ones
//! replace the provider's fixed ones, so a test can point "Google" at a local OpenID provider.
use crate::error::{Error, Result};
use crate::model::UserPool;
use crate::outbound::HttpRequest;
use crate::service::Cognito;
use serde_json::Value;
use std::collections::BTreeMap;

/// IdentityProviderTypeType.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProviderKind {
    Saml,
    Facebook,
    Google,
    LoginWithAmazon,
    SignInWithApple,
    Oidc,
}

pub const KINDS: &str = "[SAML, Facebook, Google, LoginWithAmazon, SignInWithApple, OIDC]";

impl ProviderKind {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "SAML" => Self::Saml,
            "Facebook" => Self::Facebook,
            "Google" => Self::Google,
            "LoginWithAmazon" => Self::LoginWithAmazon,
            "SignInWithApple" => Self::SignInWithApple,
            "OIDC" => Self::Oidc,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Saml => "SAML",
            Self::Facebook => "Facebook",
            Self::Google => "Google",
            Self::LoginWithAmazon => "LoginWithAmazon",
            Self::SignInWithApple => "SignInWithApple",
            Self::Oidc => "OIDC",
        }
    }

    /// Google, Facebook, LoginWithAmazon and SignInWithApple: a provider of one of these types
    /// must carry the type's name.
    pub fn is_social(self) -> bool {
        !matches!(self, Self::Saml | Self::Oidc)
    }

    /// The claim the federated user's id comes from when AttributeMapping does not map
    /// `username` (SAML: the assertion's NameID).
    pub fn subject_claim(self) -> Option<&'static str> {
        match self {
            Self::Facebook => Some("id"),
            Self::LoginWithAmazon => Some("user_id"),
            Self::Saml => None,
            _ => Some("sub"),
        }
    }
}

/// Names no OIDC or SAML provider may take: the pool's own directory and the social types.
pub const RESERVED_NAMES: [&str; 5] = ["COGNITO", "Facebook", "Google", "LoginWithAmazon", "SignInWithApple"];

fn missing_detail(key: &str, kind: ProviderKind) -> Error {
    Error::invalid_parameter(format!("{key} is required for {} identity providers.", kind.as_str()))
}

fn require(details: &BTreeMap<String, String>, kind: ProviderKind, keys: &[&str]) -> Result<()> {
    for key in keys {
        if details.get(*key).is_none_or(|v| v.trim().is_empty()) {
            return Err(missing_detail(key, kind));
        }
    }
    Ok(())
}

fn boolean_detail(details: &BTreeMap<String, String>, key: &str) -> Result<()> {
    match details.get(key).map(String::as_str) {
        None | Some("true") | Some("false") => Ok(()),
        Some(other) => Err(Error::invalid_parameter(format!(
            "{key} must be true or false, not {other}."
        ))),
    }
}

/// The keys an endpoint may be overridden with (see the module's note).
const ENDPOINT_KEYS: [&str; 5] = [
    "authorize_url",
    "token_url",
    "attributes_url",
    "oidc_issuer",
    "jwks_uri",
];

/// The fixed details a social provider is stored with (its endpoints), for `api_version` of
/// Facebook.
fn social_endpoints(kind: ProviderKind, details: &BTreeMap<String, String>) -> Vec<(&'static str, String)> {
    match kind {
        ProviderKind::Google => vec![
            (
                "attributes_url",
                "https://people.googleapis.com/v1/people/me?personFields=".into(),
            ),
            ("attributes_url_add_attributes", "true".into()),
            ("authorize_url", "https://accounts.google.com/o/oauth2/v2/auth".into()),
            ("oidc_issuer", "https://accounts.google.com".into()),
            ("token_request_method", "POST".into()),
            ("token_url", "https://www.googleapis.com/oauth2/v4/token".into()),
        ],
        ProviderKind::Facebook => {
            let v = details.get("api_version").cloned().unwrap_or_else(|| "v17.0".into());
            vec![
                ("api_version", v.clone()),
                ("attributes_url", format!("https://graph.facebook.com/{v}/me?fields=")),
                ("attributes_url_add_attributes", "true".into()),
                ("authorize_url", format!("https://www.facebook.com/{v}/dialog/oauth")),
                ("token_request_method", "GET".into()),
                (
                    "token_url",
                    format!("https://graph.facebook.com/{v}/oauth/access_token"),
                ),
            ]
        }
        ProviderKind::LoginWithAmazon => vec![
            ("attributes_url", "https://api.amazon.com/user/profile".into()),
            ("attributes_url_add_attributes", "false".into()),
            ("authorize_url", "https://www.amazon.com/ap/oa".into()),
            ("token_request_method", "POST".into()),
            ("token_url", "https://api.amazon.com/auth/o2/token".into()),
        ],
        ProviderKind::SignInWithApple => vec![
            ("attributes_url_add_attributes", "false".into()),
            ("authorize_url", "https://appleid.apple.com/auth/authorize".into()),
            ("oidc_issuer", "https://appleid.apple.com".into()),
            ("token_request_method", "POST".into()),
            ("token_url", "https://appleid.apple.com/auth/token".into()),
        ],
        ProviderKind::Saml | ProviderKind::Oidc => Vec::new(),
    }
}

/// Takes out of a social provider's stored details the endpoints that are its fixed ones (not
/// overrides), so an update stores the fixed ones of its new details (Facebook's `api_version`).
pub(crate) fn strip_fixed(kind: ProviderKind, details: &mut BTreeMap<String, String>) {
    for (key, value) in social_endpoints(kind, details) {
        if details.get(key) == Some(&value) {
            details.remove(key);
        }
    }
}

/// Where a social provider's ID tokens are signed (not shown by Describe; used to verify them).
pub fn social_jwks_uri(kind: ProviderKind) -> Option<&'static str> {
    match kind {
        ProviderKind::Google => Some("https://www.googleapis.com/oauth2/v3/certs"),
        ProviderKind::SignInWithApple => Some("https://appleid.apple.com/auth/keys"),
        _ => None,
    }
}

impl Cognito {
    /// Checks a provider's details for its type and returns them as Cognito stores them.
    pub(crate) async fn complete_details(
        &self,
        kind: ProviderKind,
        mut details: BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>> {
        match kind {
            ProviderKind::Google | ProviderKind::Facebook | ProviderKind::LoginWithAmazon => {
                require(&details, kind, &["client_id", "client_secret", "authorize_scopes"])?;
            }
            ProviderKind::SignInWithApple => {
                require(
                    &details,
                    kind,
                    &["client_id", "team_id", "key_id", "private_key", "authorize_scopes"],
                )?;
            }
            ProviderKind::Oidc => {
                require(
                    &details,
                    kind,
                    &[
                        "client_id",
                        "attributes_request_method",
                        "oidc_issuer",
                        "authorize_scopes",
                    ],
                )?;
                let method = details.get("attributes_request_method").map(String::as_str);
                if !matches!(method, Some("GET") | Some("POST")) {
                    return Err(Error::invalid_parameter(
                        "attributes_request_method must be GET or POST.",
                    ));
                }
                self.discover_endpoints(&mut details).await?;
                details.insert("attributes_url_add_attributes".into(), "false".into());
            }
            ProviderKind::Saml => {
                let url = details.get("MetadataURL").filter(|v| !v.is_empty());
                let file = details.get("MetadataFile").filter(|v| !v.is_empty());
                match (url, file) {
                    (None, None) => {
                        return Err(Error::invalid_parameter(
                            "Either MetadataURL or MetadataFile is required for SAML identity providers.",
                        ));
                    }
                    (Some(_), Some(_)) => {
                        return Err(Error::invalid_parameter(
                            "Only one of MetadataURL and MetadataFile may be given.",
                        ));
                    }
                    _ => {}
                }
                for key in ["IDPSignout", "IDPInit", "EncryptedResponses"] {
                    boolean_detail(&details, key)?;
                }
                if let Some(alg) = details.get("RequestSigningAlgorithm")
                    && alg != "rsa-sha256"
                {
                    return Err(Error::invalid_parameter(format!(
                        "RequestSigningAlgorithm {alg} is not supported; use rsa-sha256."
                    )));
                }
            }
        }
        if kind.is_social() {
            for (key, value) in social_endpoints(kind, &details) {
                let overridable = ENDPOINT_KEYS.contains(&key);
                if !(overridable && details.contains_key(key)) {
                    details.insert(key.to_owned(), value);
                }
            }
        }
        Ok(details)
    }

    /// Fills the endpoints an OIDC provider's details do not name from its issuer's discovery
    /// document (`{oidc_issuer}/.well-known/openid-configuration`), as Cognito does.
    async fn discover_endpoints(&self, details: &mut BTreeMap<String, String>) -> Result<()> {
        const FROM_DISCOVERY: [(&str, &str); 4] = [
            ("authorize_url", "authorization_endpoint"),
            ("token_url", "token_endpoint"),
            ("attributes_url", "userinfo_endpoint"),
            ("jwks_uri", "jwks_uri"),
        ];
        if FROM_DISCOVERY.iter().all(|(key, _)| details.contains_key(*key)) {
            return Ok(());
        }
        let issuer = details.get("oidc_issuer").cloned().unwrap_or_default();
        let url = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        let document: Option<Value> = match self.outbound.send(HttpRequest::get(&url)).await {
            Ok(resp) if resp.ok() => serde_json::from_slice(&resp.body).ok(),
            Ok(resp) => {
                tracing::info!(%url, status = resp.status, "OIDC discovery answered with an error");
                None
            }
            Err(e) => {
                tracing::info!(%url, error = %e, "OIDC discovery failed");
                None
            }
        };
        for (key, member) in FROM_DISCOVERY {
            if details.contains_key(key) {
                continue;
            }
            let found = document
                .as_ref()
                .and_then(|d| d.get(member))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    Error::invalid_parameter(format!(
                        "Unable to find {key} in the discovery document of {issuer}; give authorize_url, token_url, attributes_url and jwks_uri in ProviderDetails."
                    ))
                })?;
            details.insert(key.to_owned(), found.to_owned());
        }
        Ok(())
    }
}

/// Checks AttributeMapping (keys are pool attributes, or `username`) and adds the default
/// `username` mapping of the type.
pub(crate) fn complete_mapping(
    pool: &UserPool,
    kind: ProviderKind,
    mut mapping: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>> {
    for key in mapping.keys() {
        let length = key.chars().count();
        if !(1..=32).contains(&length) {
            return Err(Error::constraint(
                "attributeMapping",
                key,
                "Map keys must satisfy constraint: [Member must have length less than or equal to 32, Member must have length greater than or equal to 1]",
            ));
        }
        if key != "username" && pool.schema_attribute(key).is_none() {
            return Err(Error::invalid_parameter(format!(
                "Attribute {key} in AttributeMapping is not an attribute of the user pool."
            )));
        }
    }
    if let Some(claim) = kind.subject_claim() {
        mapping.entry("username".into()).or_insert_with(|| claim.to_owned());
    }
    Ok(mapping)
}
