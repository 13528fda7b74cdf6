//! Linking federated identities to users: AdminLinkProviderForUser and
//! AdminDisableProviderForUser. A link says "when provider P signs in the user whose attribute A
//! is V, sign in as this user instead"; it is kept in the pool's scope
//! (`provider-link/{P}/{A}/{V}` → the user's name), and the destination user's `identities`
//! attribute lists the linked identities.
use crate::error::{Error, ErrorKind, Result};
use crate::model::{User, UserPool};
use crate::ops::identity_providers::{StoredProvider, decode_provider_name};
use crate::ops::{Empty, Input};
use crate::request::Request;
use crate::service::Cognito;
use serde_json::{Value, json};

/// The attribute name that stands for the provider's own subject (`sub`, Facebook's `id`, …).
pub const COGNITO_SUBJECT: &str = "Cognito_Subject";

/// Cognito's limit of identities linked to one user.
const MAX_LINKS: usize = 5;

fn link_key(provider: &str, attribute: &str, value: &str) -> String {
    format!("provider-link/{provider}/{attribute}/{value}")
}

/// ProviderUserIdentifierType.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProviderUser {
    pub provider_name: String,
    pub provider_attribute_name: Option<String>,
    pub provider_attribute_value: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminLinkProviderForUserInput {
    pub user_pool_id: String,
    pub destination_user: ProviderUser,
    pub source_user: ProviderUser,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminDisableProviderForUserInput {
    pub user_pool_id: String,
    pub user: ProviderUser,
}

fn decode_provider_user(req: &Request, member: &str, camel: &str) -> Result<ProviderUser> {
    let inner = Request(req.object(member)?.ok_or_else(|| Error::missing(camel))?);
    let provider_name = decode_provider_name(&inner, "ProviderName")?;
    Ok(ProviderUser {
        provider_name,
        provider_attribute_name: inner.opt_str("ProviderAttributeName")?,
        provider_attribute_value: inner.opt_str("ProviderAttributeValue")?.unwrap_or_default(),
    })
}

impl Input for AdminLinkProviderForUserInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            destination_user: decode_provider_user(req, "DestinationUser", "destinationUser")?,
            source_user: decode_provider_user(req, "SourceUser", "sourceUser")?,
        })
    }
}

impl Input for AdminDisableProviderForUserInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            user: decode_provider_user(req, "User", "user")?,
        })
    }
}

/// The identities listed in a user's `identities` attribute.
fn identities_of(user: &User) -> Vec<Value> {
    user.attributes
        .get("identities")
        .and_then(|v| serde_json::from_str::<Vec<Value>>(v).ok())
        .unwrap_or_default()
}

impl Cognito {
    pub async fn admin_link_provider_for_user(&self, input: AdminLinkProviderForUserInput) -> Result<Empty> {
        let pool = self.pool(&input.user_pool_id).await?;
        let (dest, source) = (&input.destination_user, &input.source_user);
        if source.provider_name.eq_ignore_ascii_case("Cognito") {
            return Err(Error::invalid_parameter(
                "The SourceUser must be a user of an external identity provider, not Cognito.",
            ));
        }
        let provider = self.link_provider(&pool, &source.provider_name).await?;
        let attribute = source
            .provider_attribute_name
            .clone()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| Error::invalid_parameter("SourceUser.ProviderAttributeName is required."))?;
        if provider.kind().is_social() && attribute != COGNITO_SUBJECT {
            return Err(Error::invalid_parameter(format!(
                "ProviderAttributeName must be {COGNITO_SUBJECT} for {}.",
                provider.name
            )));
        }
        if source.provider_attribute_value.is_empty() {
            return Err(Error::invalid_parameter(
                "SourceUser.ProviderAttributeValue is required.",
            ));
        }
        let mut user = if dest.provider_name.eq_ignore_ascii_case("Cognito") {
            self.require_user(&pool, &dest.provider_attribute_value).await?
        } else {
            let name = format!("{}_{}", dest.provider_name, dest.provider_attribute_value);
            self.require_user(&pool, &name).await?
        };
        if attribute == COGNITO_SUBJECT {
            let federated = format!("{}_{}", provider.name, source.provider_attribute_value);
            if self
                .store
                .get_user(&pool.id, &Self::user_key(&pool, &federated))
                .await?
                .is_some()
            {
                return Err(Error::invalid_parameter(
                    "Merging is not currently supported, provide a SourceUser that has not signed in yet.",
                ));
            }
        }
        let key = link_key(&provider.name, &attribute, &source.provider_attribute_value);
        if let Some(bytes) = self.store.get_secret(&pool.id, &key).await? {
            let linked = String::from_utf8_lossy(&bytes).into_owned();
            if linked == user.username {
                return Ok(Empty {});
            }
            return Err(Error::new(
                ErrorKind::AliasExistsException,
                "The SourceUser is already linked to another user.",
            ));
        }
        let mut identities = identities_of(&user);
        if identities.len() >= MAX_LINKS {
            return Err(Error::new(
                ErrorKind::LimitExceededException,
                format!("A user can be linked to at most {MAX_LINKS} identities."),
            ));
        }
        identities.push(json!({
            "userId": source.provider_attribute_value,
            "providerName": provider.name,
            "providerType": provider.kind,
            "issuer": null,
            "primary": "false",
            "dateCreated": self.now_ms().to_string(),
        }));
        user.attributes
            .insert("identities".into(), Value::Array(identities).to_string());
        self.store.put_secret(&pool.id, &key, user.username.as_bytes()).await?;
        self.save_user(&pool, &mut user).await?;
        Ok(Empty {})
    }

    pub async fn admin_disable_provider_for_user(&self, input: AdminDisableProviderForUserInput) -> Result<Empty> {
        let pool = self.pool(&input.user_pool_id).await?;
        let u = &input.user;
        let attribute = u.provider_attribute_name.clone().unwrap_or_default();
        if u.provider_name.eq_ignore_ascii_case("Cognito") {
            // A native user: no password sign-in any more.
            let mut user = self.require_user(&pool, &u.provider_attribute_value).await?;
            user.password_hash = None;
            self.save_user(&pool, &mut user).await?;
            return Ok(Empty {});
        }
        let provider = self.link_provider(&pool, &u.provider_name).await?;
        let key = link_key(&provider.name, &attribute, &u.provider_attribute_value);
        if let Some(bytes) = self.store.get_secret(&pool.id, &key).await? {
            self.store.delete_secret(&pool.id, &key).await?;
            let username = String::from_utf8_lossy(&bytes).into_owned();
            if let Some(mut user) = self.store.get_user(&pool.id, &Self::user_key(&pool, &username)).await? {
                let remaining: Vec<Value> = identities_of(&user)
                    .into_iter()
                    .filter(|i| {
                        !(i["providerName"] == provider.name.as_str()
                            && i["userId"] == u.provider_attribute_value.as_str())
                    })
                    .collect();
                if remaining.is_empty() {
                    user.attributes.remove("identities");
                } else {
                    user.attributes
                        .insert("identities".into(), Value::Array(remaining).to_string());
                }
                self.save_user(&pool, &mut user).await?;
            }
            return Ok(Empty {});
        }
        // A federated user of its own: it may not sign in with the provider any more.
        let name = format!("{}_{}", provider.name, u.provider_attribute_value);
        match self.store.get_user(&pool.id, &Self::user_key(&pool, &name)).await? {
            Some(mut user) if attribute == COGNITO_SUBJECT => {
                user.enabled = false;
                self.save_user(&pool, &mut user).await?;
                Ok(Empty {})
            }
            _ => Err(Error::user_not_found()),
        }
    }

    async fn link_provider(&self, pool: &UserPool, name: &str) -> Result<StoredProvider> {
        self.identity_provider(&pool.id, name)
            .await?
            .ok_or_else(|| Error::resource_not_found(format!("Identity provider {name} does not exist.")))
    }

    /// The user an external identity is linked to, if any: by the provider's subject
    /// (`Cognito_Subject`) or by a mapped attribute's value.
    pub(crate) async fn linked_user(
        &self,
        pool: &UserPool,
        provider: &StoredProvider,
        user_id: &str,
        attributes: &std::collections::BTreeMap<String, String>,
    ) -> Result<Option<User>> {
        let mut keys = vec![link_key(&provider.name, COGNITO_SUBJECT, user_id)];
        keys.extend(attributes.iter().map(|(a, v)| link_key(&provider.name, a, v)));
        for key in keys {
            if let Some(bytes) = self.store.get_secret(&pool.id, &key).await? {
                let username = String::from_utf8_lossy(&bytes).into_owned();
                return Ok(self.store.get_user(&pool.id, &Self::user_key(pool, &username)).await?);
            }
        }
        Ok(None)
    }
}
