//! External identity providers of a pool: CreateIdentityProvider, DescribeIdentityProvider,
//! UpdateIdentityProvider, DeleteIdentityProvider, ListIdentityProviders and
//! GetIdentityProviderByIdentifier. A provider (OpenID Connect, SAML, or one of the social
//! types) is what `/oauth2/authorize?identity_provider=NAME` federates to; app clients list the
//! ones they offer in SupportedIdentityProviders. Kept in the pool's scope of the store, one
//! record a provider.
pub mod details;

use crate::error::{Error, ErrorKind, Result};
use crate::ops::types::Timestamp;
use crate::ops::{Empty, Input};
use crate::request::{Request, encode_page_token};
use crate::service::Cognito;
pub use details::ProviderKind;
use details::{KINDS, RESERVED_NAMES, complete_mapping};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Store name prefix of a provider in its pool's scope.
const KEY_PREFIX: &str = "identity-provider/";

/// Cognito's quota of identity providers per pool.
const MAX_PROVIDERS: usize = 300;

fn key(name: &str) -> String {
    format!("{KEY_PREFIX}{name}")
}

// ---- the record ----------------------------------------------------------------------------

/// A provider as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredProvider {
    pub pool_id: String,
    pub name: String,
    pub kind: String,
    pub details: BTreeMap<String, String>,
    pub attribute_mapping: BTreeMap<String, String>,
    pub idp_identifiers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr_mapping: Option<BTreeMap<String, String>>,
    pub created_ms: i64,
    pub modified_ms: i64,
}

impl StoredProvider {
    pub fn kind(&self) -> ProviderKind {
        ProviderKind::parse(&self.kind).unwrap_or(ProviderKind::Oidc)
    }

    pub fn detail(&self, key: &str) -> Option<&str> {
        self.details.get(key).map(String::as_str).filter(|v| !v.is_empty())
    }

    /// IdentityProviderType, as Describe answers it (secrets a request gave for Sign in with
    /// Apple are not shown).
    pub fn describe(&self) -> IdentityProviderType {
        let mut details = self.details.clone();
        details.remove("private_key");
        IdentityProviderType {
            user_pool_id: self.pool_id.clone(),
            provider_name: self.name.clone(),
            provider_type: self.kind.clone(),
            provider_details: details,
            attribute_mapping: self.attribute_mapping.clone(),
            idp_identifiers: self.idp_identifiers.clone(),
            acr_mapping: self.acr_mapping.clone(),
            last_modified_date: Timestamp::from_millis(self.modified_ms),
            creation_date: Timestamp::from_millis(self.created_ms),
        }
    }
}

// ---- inputs ------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateIdentityProviderInput {
    pub user_pool_id: String,
    pub provider_name: String,
    pub provider_type: String,
    pub provider_details: BTreeMap<String, String>,
    pub attribute_mapping: Option<BTreeMap<String, String>>,
    pub idp_identifiers: Option<Vec<String>>,
    pub acr_mapping: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateIdentityProviderInput {
    pub user_pool_id: String,
    pub provider_name: String,
    pub provider_details: Option<BTreeMap<String, String>>,
    pub attribute_mapping: Option<BTreeMap<String, String>>,
    pub idp_identifiers: Option<Vec<String>>,
    pub acr_mapping: Option<BTreeMap<String, String>>,
}

/// DescribeIdentityProvider and DeleteIdentityProvider.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IdentityProviderRef {
    pub user_pool_id: String,
    pub provider_name: String,
}

pub type DescribeIdentityProviderInput = IdentityProviderRef;
pub type DeleteIdentityProviderInput = IdentityProviderRef;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListIdentityProvidersInput {
    pub user_pool_id: String,
    pub max_results: usize,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GetIdentityProviderByIdentifierInput {
    pub user_pool_id: String,
    pub idp_identifier: String,
}

fn pattern_error(member: &str, value: &str, pattern: &str) -> Error {
    Error::constraint(
        member,
        value,
        &format!("Member must satisfy regular expression pattern: {pattern}"),
    )
}

fn length_checked(member: &str, value: &str, max: usize) -> Result<()> {
    let n = value.chars().count();
    if n == 0 {
        return Err(Error::constraint(
            member,
            value,
            "Member must have length greater than or equal to 1",
        ));
    }
    if n > max {
        return Err(Error::constraint(
            member,
            value,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

/// `\p{Z}`: the separators.
fn separator(c: char) -> bool {
    c.is_whitespace() && !c.is_control()
}

/// ProviderNameType: 1–32 of `[\p{L}\p{M}\p{S}\p{N}\p{P}\p{Z}]+` (no control characters).
pub(crate) fn decode_provider_name(req: &Request, member: &str) -> Result<String> {
    let name = req.opt_str(member)?.ok_or_else(|| Error::missing("providerName"))?;
    length_checked("providerName", &name, 32)?;
    if name.chars().any(char::is_control) {
        return Err(pattern_error(
            "providerName",
            &name,
            "[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}\\p{Z}]+",
        ));
    }
    Ok(name)
}

/// ProviderNameTypeV2 (new providers): `[^_\p{Z}][\p{L}\p{M}\p{S}\p{N}\p{P}][^_\p{Z}]+`.
fn decode_new_provider_name(req: &Request) -> Result<String> {
    let name = decode_provider_name(req, "ProviderName")?;
    let c: Vec<char> = name.chars().collect();
    let ok = c.len() >= 3
        && c[0] != '_'
        && !separator(c[0])
        && !c[1].is_control()
        && !separator(c[1])
        && c[2..].iter().all(|&x| x != '_' && !separator(x));
    if !ok {
        return Err(pattern_error(
            "providerName",
            &name,
            "[^_\\p{Z}][\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}][^_\\p{Z}]+",
        ));
    }
    Ok(name)
}

/// IdpIdentifierType: 1–40 of `[\w\s+=.@-]+`.
fn check_identifier(member: &str, id: &str) -> Result<()> {
    length_checked(member, id, 40)?;
    let ok = id
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=.@-".contains(c));
    if !ok {
        return Err(pattern_error(member, id, "[\\w\\s+=.@-]+"));
    }
    Ok(())
}

fn decode_identifiers(req: &Request) -> Result<Option<Vec<String>>> {
    let Some(ids) = req.opt_str_list("IdpIdentifiers")? else {
        return Ok(None);
    };
    if ids.len() > 50 {
        return Err(Error::constraint(
            "idpIdentifiers",
            &format!("[{}]", ids.join(", ")),
            "Member must have length less than or equal to 50",
        ));
    }
    for id in &ids {
        check_identifier("idpIdentifiers", id)?;
    }
    Ok(Some(ids))
}

fn decode_acr_mapping(req: &Request) -> Result<Option<BTreeMap<String, String>>> {
    let Some(map) = req.str_map("AcrMapping")? else {
        return Ok(None);
    };
    for k in map.keys() {
        if !matches!(k.as_str(), "Level1" | "Level2" | "Level3" | "Level4") {
            return Err(Error::constraint(
                "acrMapping",
                k,
                "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: Level[1-4]]",
            ));
        }
    }
    Ok(Some(map))
}

impl Input for CreateIdentityProviderInput {
    fn decode(req: &Request) -> Result<Self> {
        let user_pool_id = req.pool_id()?;
        let provider_name = decode_new_provider_name(req)?;
        let provider_type = req
            .opt_str("ProviderType")?
            .ok_or_else(|| Error::missing("providerType"))?;
        if ProviderKind::parse(&provider_type).is_none() {
            return Err(Error::constraint(
                "providerType",
                &provider_type,
                &format!("Member must satisfy enum value set: {KINDS}"),
            ));
        }
        let provider_details = req
            .str_map("ProviderDetails")?
            .ok_or_else(|| Error::missing("providerDetails"))?;
        Ok(Self {
            user_pool_id,
            provider_name,
            provider_type,
            provider_details,
            attribute_mapping: req.str_map("AttributeMapping")?,
            idp_identifiers: decode_identifiers(req)?,
            acr_mapping: decode_acr_mapping(req)?,
        })
    }
}

impl Input for UpdateIdentityProviderInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            provider_name: decode_provider_name(req, "ProviderName")?,
            provider_details: req.str_map("ProviderDetails")?,
            attribute_mapping: req.str_map("AttributeMapping")?,
            idp_identifiers: decode_identifiers(req)?,
            acr_mapping: decode_acr_mapping(req)?,
        })
    }
}

impl Input for IdentityProviderRef {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            provider_name: decode_provider_name(req, "ProviderName")?,
        })
    }
}

impl Input for ListIdentityProvidersInput {
    fn decode(req: &Request) -> Result<Self> {
        let user_pool_id = req.pool_id()?;
        let max_results = match req.opt_i64("MaxResults")? {
            None | Some(0) => 60,
            Some(n) if !(0..=60).contains(&n) => {
                return Err(Error::constraint(
                    "maxResults",
                    &n.to_string(),
                    if n < 0 {
                        "Member must have value greater than or equal to 0"
                    } else {
                        "Member must have value less than or equal to 60"
                    },
                ));
            }
            Some(n) => usize::try_from(n).unwrap_or(60),
        };
        Ok(Self {
            user_pool_id,
            max_results,
            next_token: req.page_token("NextToken")?,
        })
    }
}

impl Input for GetIdentityProviderByIdentifierInput {
    fn decode(req: &Request) -> Result<Self> {
        let user_pool_id = req.pool_id()?;
        let idp_identifier = req
            .opt_str("IdpIdentifier")?
            .ok_or_else(|| Error::missing("idpIdentifier"))?;
        check_identifier("idpIdentifier", &idp_identifier)?;
        Ok(Self {
            user_pool_id,
            idp_identifier,
        })
    }
}

// ---- outputs -----------------------------------------------------------------------------

/// IdentityProviderType.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityProviderType {
    pub user_pool_id: String,
    pub provider_name: String,
    pub provider_type: String,
    pub provider_details: BTreeMap<String, String>,
    pub attribute_mapping: BTreeMap<String, String>,
    pub idp_identifiers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acr_mapping: Option<BTreeMap<String, String>>,
    pub last_modified_date: Timestamp,
    pub creation_date: Timestamp,
}

/// The answer of Create, Describe, Update and GetIdentityProviderByIdentifier.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityProviderOutput {
    pub identity_provider: IdentityProviderType,
}

/// ProviderDescription.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ProviderDescription {
    pub provider_name: String,
    pub provider_type: String,
    pub last_modified_date: Timestamp,
    pub creation_date: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListIdentityProvidersOutput {
    pub providers: Vec<ProviderDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

// ---- operations --------------------------------------------------------------------------

fn not_found(name: &str) -> Error {
    Error::resource_not_found(format!("Identity provider {name} does not exist."))
}

impl Cognito {
    pub async fn create_identity_provider(&self, input: CreateIdentityProviderInput) -> Result<IdentityProviderOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let kind = ProviderKind::parse(&input.provider_type)
            .ok_or_else(|| Error::invalid_parameter("Unknown provider type."))?;
        let name_fits = if kind.is_social() {
            input.provider_name == kind.as_str()
        } else {
            !RESERVED_NAMES.contains(&input.provider_name.as_str())
        };
        if !name_fits {
            return Err(Error::invalid_parameter(format!(
                "Provider {} cannot be of type {}.",
                input.provider_name, input.provider_type
            )));
        }
        let existing = self.identity_providers(&pool.id).await?;
        if existing.iter().any(|p| p.name == input.provider_name) {
            return Err(Error::new(
                ErrorKind::DuplicateProviderException,
                format!("{} already exists in user pool {}.", input.provider_name, pool.id),
            ));
        }
        if existing.len() >= MAX_PROVIDERS {
            return Err(Error::new(
                ErrorKind::LimitExceededException,
                format!("The user pool has reached its limit of {MAX_PROVIDERS} identity providers."),
            ));
        }
        let identifiers = input.idp_identifiers.unwrap_or_default();
        check_identifiers_free(&existing, &input.provider_name, &identifiers)?;
        let mapping = complete_mapping(&pool, kind, input.attribute_mapping.unwrap_or_default())?;
        let details = self.complete_details(kind, input.provider_details).await?;
        let now = self.now_ms();
        let provider = StoredProvider {
            pool_id: pool.id,
            name: input.provider_name,
            kind: kind.as_str().to_owned(),
            details,
            attribute_mapping: mapping,
            idp_identifiers: identifiers,
            acr_mapping: input.acr_mapping,
            created_ms: now,
            modified_ms: now,
        };
        self.save_identity_provider(&provider).await?;
        Ok(IdentityProviderOutput {
            identity_provider: provider.describe(),
        })
    }

    pub async fn describe_identity_provider(
        &self,
        input: DescribeIdentityProviderInput,
    ) -> Result<IdentityProviderOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let provider = self
            .identity_provider(&pool.id, &input.provider_name)
            .await?
            .ok_or_else(|| not_found(&input.provider_name))?;
        Ok(IdentityProviderOutput {
            identity_provider: provider.describe(),
        })
    }

    /// Members left out stay as they are; ProviderDetails given are merged into the stored
    /// ones (a key given replaces the stored value), then checked as on creation.
    pub async fn update_identity_provider(&self, input: UpdateIdentityProviderInput) -> Result<IdentityProviderOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        if input.provider_name == "COGNITO" {
            return Err(Error::new(
                ErrorKind::UnsupportedIdentityProviderException,
                "The COGNITO identity provider cannot be updated.",
            ));
        }
        let existing = self.identity_providers(&pool.id).await?;
        let mut provider = existing
            .iter()
            .find(|p| p.name == input.provider_name)
            .cloned()
            .ok_or_else(|| not_found(&input.provider_name))?;
        let kind = provider.kind();
        if let Some(ids) = input.idp_identifiers {
            check_identifiers_free(&existing, &provider.name, &ids)?;
            provider.idp_identifiers = ids;
        }
        if let Some(mapping) = input.attribute_mapping {
            provider.attribute_mapping = complete_mapping(&pool, kind, mapping)?;
        }
        if let Some(given) = input.provider_details {
            let mut merged = provider.details.clone();
            if kind.is_social() {
                details::strip_fixed(kind, &mut merged);
            }
            if kind == ProviderKind::Saml && (given.contains_key("MetadataURL") || given.contains_key("MetadataFile")) {
                merged.remove("MetadataURL");
                merged.remove("MetadataFile");
            }
            if kind == ProviderKind::Oidc && given.contains_key("oidc_issuer") {
                // A new issuer: its endpoints are discovered again unless given.
                for k in ["authorize_url", "token_url", "attributes_url", "jwks_uri"] {
                    merged.remove(k);
                }
            }
            merged.extend(given);
            provider.details = self.complete_details(kind, merged).await?;
        }
        if input.acr_mapping.is_some() {
            provider.acr_mapping = input.acr_mapping;
        }
        provider.modified_ms = self.now_ms();
        self.save_identity_provider(&provider).await?;
        Ok(IdentityProviderOutput {
            identity_provider: provider.describe(),
        })
    }

    pub async fn delete_identity_provider(&self, input: DeleteIdentityProviderInput) -> Result<Empty> {
        let pool = self.pool(&input.user_pool_id).await?;
        if input.provider_name == "COGNITO" {
            return Err(Error::new(
                ErrorKind::UnsupportedIdentityProviderException,
                "The COGNITO identity provider cannot be deleted.",
            ));
        }
        if !self.store.delete_secret(&pool.id, &key(&input.provider_name)).await? {
            return Err(not_found(&input.provider_name));
        }
        Ok(Empty {})
    }

    pub async fn list_identity_providers(
        &self,
        input: ListIdentityProvidersInput,
    ) -> Result<ListIdentityProvidersOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let after = input.next_token.unwrap_or_default();
        let mut providers: Vec<StoredProvider> = self
            .identity_providers(&pool.id)
            .await?
            .into_iter()
            .filter(|p| p.name > after)
            .collect();
        let next_token = (providers.len() > input.max_results).then(|| {
            providers.truncate(input.max_results);
            providers.last().map(|p| encode_page_token(&p.name)).unwrap_or_default()
        });
        Ok(ListIdentityProvidersOutput {
            providers: providers
                .into_iter()
                .map(|p| ProviderDescription {
                    provider_name: p.name,
                    provider_type: p.kind,
                    last_modified_date: Timestamp::from_millis(p.modified_ms),
                    creation_date: Timestamp::from_millis(p.created_ms),
                })
                .collect(),
            next_token,
        })
    }

    pub async fn get_identity_provider_by_identifier(
        &self,
        input: GetIdentityProviderByIdentifierInput,
    ) -> Result<IdentityProviderOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let provider = self
            .provider_by_identifier(&pool.id, &input.idp_identifier)
            .await?
            .ok_or_else(|| {
                Error::resource_not_found(format!(
                    "Identity provider with identifier {} does not exist.",
                    input.idp_identifier
                ))
            })?;
        Ok(IdentityProviderOutput {
            identity_provider: provider.describe(),
        })
    }

    /// The pool's providers, by name.
    pub async fn identity_providers(&self, pool_id: &str) -> Result<Vec<StoredProvider>> {
        let mut providers: Vec<StoredProvider> = self
            .store
            .list_secrets(pool_id)
            .await?
            .into_iter()
            .filter(|(name, _)| name.starts_with(KEY_PREFIX))
            .filter_map(|(_, bytes)| serde_json::from_slice(&bytes).ok())
            .collect();
        providers.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(providers)
    }

    /// The provider named `name`, if the pool has one.
    pub async fn identity_provider(&self, pool_id: &str, name: &str) -> Result<Option<StoredProvider>> {
        let stored = self.store.get_secret(pool_id, &key(name)).await?;
        Ok(stored.and_then(|b| serde_json::from_slice(&b).ok()))
    }

    /// The provider one of whose IdpIdentifiers is `identifier`.
    pub async fn provider_by_identifier(&self, pool_id: &str, identifier: &str) -> Result<Option<StoredProvider>> {
        Ok(self
            .identity_providers(pool_id)
            .await?
            .into_iter()
            .find(|p| p.idp_identifiers.iter().any(|i| i == identifier)))
    }

    async fn save_identity_provider(&self, provider: &StoredProvider) -> Result<()> {
        let bytes = serde_json::to_vec(provider).map_err(Error::internal)?;
        self.store
            .put_secret(&provider.pool_id, &key(&provider.name), &bytes)
            .await?;
        Ok(())
    }
}

/// IdpIdentifiers are unique within a pool (and within the list).
fn check_identifiers_free(existing: &[StoredProvider], name: &str, identifiers: &[String]) -> Result<()> {
    for (i, id) in identifiers.iter().enumerate() {
        let repeated = identifiers[..i].contains(id);
        let taken = existing
            .iter()
            .filter(|p| p.name != name)
            .any(|p| p.idp_identifiers.contains(id));
        if repeated || taken {
            return Err(Error::invalid_parameter(format!(
                "The identifier {id} is already used by an identity provider of this user pool."
            )));
        }
    }
    Ok(())
}
