//! Federated users: the user a sign-in through an external identity provider signs in as.
//! Cognito names it `PROVIDERNAME_id` (the id is the claim AttributeMapping maps to `username`:
//! `sub` by default), gives it the status EXTERNAL_PROVIDER and an `identities` attribute, maps the
//! provider's claims to attributes on every sign-in, and runs PreSignUp_ExternalProvider and
//! PostConfirmation_ConfirmSignUp the first time, PreAuthentication and PostAuthentication every
//! time.
use crate::error::{Error, Result};
use crate::model::{AppClient, User, UserPool, UserStatus};
use crate::ops::identity_providers::{ProviderKind, StoredProvider};
use crate::ops::sign_in::{SignIn, device::DeviceContext};
use crate::rng::RandomExt;
use crate::service::{CallContext, Cognito};
use crate::triggers::events::{PreSignUpEvent, PreSignUpRequest, PreSignUpResponse, SyncTriggerEvent};
use crate::triggers::{Trigger, trigger_envelope};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Who the provider says signed in: its claims (ID token and userInfo, or SAML attributes).
#[derive(Debug, Clone, Default)]
pub struct ExternalIdentity {
    /// Claim name → value, as the user's attributes would hold them.
    pub claims: BTreeMap<String, String>,
    /// The subject when AttributeMapping does not map `username` (SAML's NameID).
    pub subject: Option<String>,
    /// The issuer written into `identities` (SAML providers; null for the others).
    pub issuer: Option<String>,
}

impl ExternalIdentity {
    /// The provider's id of the user: the claim mapped to `username`, else the subject.
    pub fn user_id(&self, provider: &StoredProvider) -> Option<String> {
        match provider.attribute_mapping.get("username") {
            Some(claim) => self.claims.get(claim).cloned(),
            None => self.subject.clone(),
        }
        .filter(|v| !v.is_empty())
    }
}

/// `identities` as Cognito keeps it: a JSON array (as text) of the user's linked identities.
pub fn identities_value(provider: &StoredProvider, user_id: &str, issuer: Option<&str>, created_ms: i64) -> String {
    json!([{
        "userId": user_id,
        "providerName": provider.name,
        "providerType": provider.kind,
        "issuer": issuer,
        "primary": "true",
        "dateCreated": created_ms.to_string(),
    }])
    .to_string()
}

/// The attributes AttributeMapping gives from the claims (only attributes of the pool).
fn mapped_attributes(
    pool: &UserPool,
    provider: &StoredProvider,
    identity: &ExternalIdentity,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (attribute, claim) in &provider.attribute_mapping {
        if attribute == "username" || attribute == "sub" || pool.schema_attribute(attribute).is_none() {
            continue;
        }
        if let Some(value) = identity.claims.get(claim) {
            out.insert(attribute.clone(), value.clone());
        }
    }
    out
}

impl Cognito {
    /// Signs a federated identity in: the federated user created (first sign-in) or its mapped
    /// attributes updated, and the triggers Cognito runs. Returns the user to hand a code to.
    pub async fn federated_sign_in(
        &self,
        pool: &UserPool,
        client: &AppClient,
        provider: &StoredProvider,
        identity: &ExternalIdentity,
        ctx: &CallContext,
    ) -> Result<User> {
        let user_id = identity
            .user_id(provider)
            .ok_or_else(|| Error::invalid_parameter(format!("{} did not name the user.", provider.name)))?;
        let attributes = mapped_attributes(pool, provider, identity);
        let username = format!("{}_{user_id}", provider.name);
        let key = Self::user_key(pool, &username);
        let s = SignIn {
            pool,
            client,
            ctx,
            validation_data: None,
            client_metadata: None,
            hosted: true,
            device: DeviceContext::default(),
        };
        if let Some(user) = self.linked_user(pool, provider, &user_id, &attributes).await? {
            // A linked identity signs in as the user it is linked to.
            if !user.enabled {
                return Err(Error::not_authorized("User is disabled."));
            }
            self.pre_authentication(&s, &user).await?;
            self.post_authentication(&s, &user).await?;
            return Ok(user);
        }
        let user = match self.store.get_user(&pool.id, &key).await? {
            Some(mut user) => {
                if !user.enabled {
                    return Err(Error::not_authorized("User is disabled."));
                }
                let changed = attributes.iter().any(|(k, v)| user.attributes.get(k) != Some(v));
                if changed {
                    user.attributes.extend(attributes);
                    self.save_user(pool, &mut user).await?;
                }
                user
            }
            None => {
                self.new_federated_user(pool, client, provider, identity, (username, &user_id), attributes, ctx)
                    .await?
            }
        };
        self.pre_authentication(&s, &user).await?;
        self.post_authentication(&s, &user).await?;
        Ok(user)
    }

    #[allow(clippy::too_many_arguments)]
    async fn new_federated_user(
        &self,
        pool: &UserPool,
        client: &AppClient,
        provider: &StoredProvider,
        identity: &ExternalIdentity,
        (username, user_id): (String, &str),
        mut attributes: BTreeMap<String, String>,
        ctx: &CallContext,
    ) -> Result<User> {
        let request = PreSignUpRequest {
            user_attributes: attributes.clone().into_iter().collect(),
            ..Default::default()
        };
        let envelope = trigger_envelope(
            pool,
            Trigger::PreSignUp,
            "PreSignUp_ExternalProvider",
            &username,
            Some(&client.client_id),
            ctx,
        );
        let event = PreSignUpEvent::new(envelope, request, PreSignUpResponse::default());
        let decision = self
            .invoke_trigger(pool, Trigger::PreSignUp, event)
            .await?
            .unwrap_or_default();
        for (auto, attribute) in [
            (decision.auto_verify_email, "email"),
            (decision.auto_verify_phone, "phone_number"),
        ] {
            if auto && attributes.contains_key(attribute) {
                attributes.insert(format!("{attribute}_verified"), "true".into());
            }
        }
        let now = self.now_ms();
        let issuer = (provider.kind() == ProviderKind::Saml)
            .then(|| identity.issuer.clone())
            .flatten();
        attributes.insert(
            "identities".into(),
            identities_value(provider, user_id, issuer.as_deref(), now),
        );
        let mut user = self.new_user(pool, username, attributes, UserStatus::ExternalProvider);
        user.sub = self.random.uuid_v4();
        self.insert_new_user(pool, &user, "User account already exists").await?;
        tracing::info!(pool = %pool.id, provider = %provider.name, "federated user created");
        self.post_confirmation(
            pool,
            &user,
            "PostConfirmation_ConfirmSignUp",
            Some(&client.client_id),
            None,
            ctx,
        )
        .await?;
        Ok(user)
    }
}

/// Claims as attribute text (see [`crate::oauth::upstream::claim_text`]).
pub fn claims_text(claims: &Map<String, Value>) -> BTreeMap<String, String> {
    claims
        .iter()
        .filter_map(|(k, v)| crate::oauth::upstream::claim_text(v).map(|t| (k.clone(), t)))
        .collect()
}
