//! User accounts: AdminCreateUser, GetUser and AdminGetUser, DeleteUser and AdminDeleteUser,
//! AdminEnableUser and AdminDisableUser.
use crate::attributes::*;
use crate::error::{Error, ErrorKind, Result};
use crate::locks::KeyGuard;
use crate::messages::*;
use crate::model::*;
use crate::ops::new_users::unique_claim;
use crate::ops::sign_up::pre_sign_up_request;
use crate::ops::types::{AttributeType, MfaSettings, Timestamp, UserType, metadata_json};
use crate::ops::{Empty, Input};
use crate::request::Request;
use crate::service::{CallContext, Cognito};
use crate::triggers::events::{PreSignUpEvent, PreSignUpResponse, SyncTriggerEvent};
use crate::triggers::{Trigger, trigger_envelope};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

// ---- inputs ------------------------------------------------------------------------------

/// What AdminCreateUser does about the welcome message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageAction {
    /// Sends the message again to an existing user, with a new temporary password.
    Resend,
    /// Sends no message.
    Suppress,
}

/// AdminCreateUser. Attribute lists are (name, value) pairs, as the request lists them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminCreateUserInput {
    pub user_pool_id: String,
    pub username: String,
    pub message_action: Option<MessageAction>,
    /// Channels as named on the wire: "SMS", "EMAIL".
    pub desired_delivery_mediums: Option<Vec<String>>,
    pub temporary_password: Option<String>,
    pub user_attributes: Vec<(String, String)>,
    pub validation_data: Option<Vec<(String, String)>>,
    pub force_alias_creation: bool,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccessTokenInput {
    pub access_token: String,
}

/// AdminGetUser, AdminDeleteUser, AdminEnableUser, AdminDisableUser, AdminUserGlobalSignOut.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminUserRef {
    pub user_pool_id: String,
    pub username: String,
}

impl Input for AdminCreateUserInput {
    fn decode(req: &Request) -> Result<Self> {
        let user_pool_id = req.pool_id()?;
        let username = req.str("Username")?;
        check_username(&username)?;
        let message_action = match req.opt_str("MessageAction")?.as_deref() {
            None => None,
            Some("RESEND") => Some(MessageAction::Resend),
            Some("SUPPRESS") => Some(MessageAction::Suppress),
            Some(a) => {
                return Err(Error::constraint(
                    "messageAction",
                    a,
                    "Member must satisfy enum value set: [RESEND, SUPPRESS]",
                ));
            }
        };
        let mediums = req.opt_str_list("DesiredDeliveryMediums")?;
        for m in mediums.iter().flatten() {
            if m != "SMS" && m != "EMAIL" {
                return Err(Error::constraint(
                    "desiredDeliveryMediums",
                    m,
                    "Member must satisfy enum value set: [SMS, EMAIL]",
                ));
            }
        }
        Ok(Self {
            user_pool_id,
            username,
            message_action,
            desired_delivery_mediums: mediums,
            temporary_password: req.opt_str("TemporaryPassword")?,
            client_metadata: req.str_map("ClientMetadata")?,
            user_attributes: req.attribute_list("UserAttributes")?.unwrap_or_default(),
            validation_data: req.attribute_list("ValidationData")?,
            force_alias_creation: req.opt_bool("ForceAliasCreation")?.unwrap_or(false),
        })
    }
}

impl Input for AccessTokenInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            access_token: req.str("AccessToken")?,
        })
    }
}

impl Input for AdminUserRef {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            username: req.str("Username")?,
        })
    }
}

// ---- outputs -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdminCreateUserOutput {
    pub user: UserType,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetUserOutput {
    pub username: String,
    pub user_attributes: Vec<AttributeType>,
    #[serde(flatten)]
    pub mfa: MfaSettings,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AdminGetUserOutput {
    pub username: String,
    pub user_attributes: Vec<AttributeType>,
    pub user_create_date: Timestamp,
    pub user_last_modified_date: Timestamp,
    pub enabled: bool,
    pub user_status: String,
    #[serde(flatten)]
    pub mfa: MfaSettings,
}

// ---- operations --------------------------------------------------------------------------

impl Cognito {
    /// The pool and the user an admin operation names.
    pub(crate) async fn admin_user(&self, pool_id: &str, username: &str) -> Result<(UserPool, User)> {
        let pool = self.pool(pool_id).await?;
        let user = self.require_user(&pool, username).await?;
        Ok((pool, user))
    }

    pub async fn admin_create_user(
        &self,
        input: AdminCreateUserInput,
        ctx: &CallContext,
    ) -> Result<AdminCreateUserOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let temporary = match &input.temporary_password {
            Some(p) => {
                check_password(&pool, p)?;
                p.clone()
            }
            None => self.temporary_password(&pool),
        };
        let resend = input.message_action == Some(MessageAction::Resend);
        // Held until the new user is inserted (see check_user_unique).
        let (mut user, unique) = if resend {
            (self.user_to_welcome_again(&pool, &input.username).await?, Vec::new())
        } else {
            self.new_admin_created_user(&pool, &input, ctx).await?
        };
        self.set_password(&pool, &mut user, &temporary).await?;
        user.password_changed_ms = self.now_ms();
        let messages = if input.message_action == Some(MessageAction::Suppress) {
            Vec::new()
        } else {
            self.welcome_messages(&pool, &user, &input, &temporary, ctx).await?
        };
        if resend {
            self.save_user(&pool, &mut user).await?;
        } else {
            self.insert_new_user(&pool, &user, "User account already exists")
                .await?;
        }
        drop(unique);
        for m in messages {
            self.deliver(m).await?;
        }
        Ok(AdminCreateUserOutput {
            user: UserType::of(&user, None),
        })
    }

    /// MessageAction RESEND: the user must still be waiting for its first sign-in.
    async fn user_to_welcome_again(&self, pool: &UserPool, given: &str) -> Result<User> {
        let user = self.require_user(pool, given).await?;
        if user.status != UserStatus::ForceChangePassword {
            return Err(Error::new(
                ErrorKind::UnsupportedUserStateException,
                format!(
                    "Resend not possible. {} status is {}.",
                    user.username,
                    user.status.as_str()
                ),
            ));
        }
        Ok(user)
    }

    /// A new user for AdminCreateUser, not yet stored, with the claims on its unique values.
    async fn new_admin_created_user(
        &self,
        pool: &UserPool,
        input: &AdminCreateUserInput,
        ctx: &CallContext,
    ) -> Result<(User, Vec<KeyGuard>)> {
        let mut attrs = validate_attributes(pool, &input.user_attributes, true)?;
        let username = self.username_for_new_user(pool, &input.username, &mut attrs)?;
        let mut unique = self.check_user_unique(pool, &username, &attrs).await.map_err(|e| {
            if e.is(ErrorKind::UsernameExistsException) {
                Error::new(ErrorKind::UsernameExistsException, "User account already exists")
            } else {
                e
            }
        })?;
        self.pre_sign_up_admin(pool, &username, &attrs, input, ctx).await?;
        let mut user = self.new_user(pool, username, attrs, UserStatus::ForceChangePassword);
        for attr in ["email", "phone_number"] {
            if user.is_verified(attr) {
                let force = input.force_alias_creation;
                unique.extend(self.verify_alias(pool, &mut user, attr, force).await?);
            }
        }
        Ok((user, unique))
    }

    /// Runs PreSignUp for AdminCreateUser: its flags are ignored; only its failure matters.
    async fn pre_sign_up_admin(
        &self,
        pool: &UserPool,
        username: &str,
        attrs: &BTreeMap<String, String>,
        input: &AdminCreateUserInput,
        ctx: &CallContext,
    ) -> Result<()> {
        let request = pre_sign_up_request(attrs, &input.validation_data, &input.client_metadata);
        let source = "PreSignUp_AdminCreateUser";
        let envelope = trigger_envelope(pool, Trigger::PreSignUp, source, username, None, ctx);
        let event = PreSignUpEvent::new(envelope, request, PreSignUpResponse::default());
        self.invoke_trigger(pool, Trigger::PreSignUp, event).await?;
        Ok(())
    }

    /// The welcome messages with the temporary password, over the channels asked for.
    async fn welcome_messages(
        &self,
        pool: &UserPool,
        user: &User,
        input: &AdminCreateUserInput,
        temporary: &str,
        ctx: &CallContext,
    ) -> Result<Vec<Delivery>> {
        let mediums = &input.desired_delivery_mediums;
        let wanted = mediums.clone().unwrap_or_else(|| vec!["SMS".into()]);
        let mut targets: Vec<(Channel, String)> = Vec::new();
        for m in &wanted {
            let channel = if m == "EMAIL" { Channel::Email } else { Channel::Sms };
            if let Some(v) = user.attributes.get(channel.attribute()) {
                targets.push((channel, v.clone()));
            }
        }
        if targets.is_empty() && mediums.is_none() {
            // No medium asked for and no phone number: Cognito falls back to email.
            if let Some(e) = user.attributes.get("email") {
                targets.push((Channel::Email, e.clone()));
            }
        }
        if targets.is_empty() && mediums.is_some() {
            return Err(Error::invalid_parameter(format!(
                "User has no attribute matching desired delivery mediums: {}",
                wanted.join(", ")
            )));
        }
        let mut messages = Vec::new();
        for (channel, to) in targets {
            let out = Outgoing {
                kind: MessageKind::AdminCreateUser,
                channel,
                to,
                code: temporary.to_owned(),
                client_id: None,
                client_metadata: metadata_json(&input.client_metadata),
            };
            messages.push(self.render_message(pool, user, out, ctx).await?);
        }
        Ok(messages)
    }

    /// A temporary password that satisfies the pool's policy.
    fn temporary_password(&self, pool: &UserPool) -> String {
        let min = pool
            .setting("Policies")
            .and_then(|p| p.get("PasswordPolicy"))
            .and_then(|p| p.get("MinimumLength"))
            .and_then(Value::as_i64)
            .unwrap_or(8)
            .max(8) as usize;
        let mut pw = self.random_string(
            b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789",
            min.saturating_sub(4),
        );
        pw.push_str(&self.random_string(b"ABCDEFGHJKLMNPQRSTUVWXYZ", 1));
        pw.push_str(&self.random_string(b"abcdefghijkmnopqrstuvwxyz", 1));
        pw.push_str(&self.random_string(b"23456789", 1));
        pw.push_str(&self.random_string(b"!#$%&*+-.?@^_~", 1));
        pw
    }

    pub async fn get_user(&self, input: AccessTokenInput) -> Result<GetUserOutput> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        let client = self.store.get_client(&auth.client_id).await?;
        Ok(GetUserOutput {
            username: auth.user.username.clone(),
            user_attributes: AttributeType::list_of(&auth.user, client.as_ref(), None),
            mfa: MfaSettings::of(&auth.user)?,
        })
    }

    pub async fn admin_get_user(&self, input: AdminUserRef) -> Result<AdminGetUserOutput> {
        let (_, user) = self.admin_user(&input.user_pool_id, &input.username).await?;
        Ok(AdminGetUserOutput {
            username: user.username.clone(),
            user_attributes: AttributeType::list_of(&user, None, None),
            user_create_date: Timestamp(user.created_ms),
            user_last_modified_date: Timestamp(user.modified_ms),
            enabled: user.enabled,
            user_status: user.status.as_str().to_owned(),
            mfa: MfaSettings::of(&user)?,
        })
    }

    pub async fn delete_user(&self, input: AccessTokenInput) -> Result<Empty> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        self.remove_user(&auth.pool, &auth.user).await?;
        Ok(Empty {})
    }

    pub async fn admin_delete_user(&self, input: AdminUserRef) -> Result<Empty> {
        let (pool, user) = self.admin_user(&input.user_pool_id, &input.username).await?;
        self.remove_user(&pool, &user).await?;
        Ok(Empty {})
    }

    pub(crate) async fn remove_user(&self, pool: &UserPool, user: &User) -> Result<()> {
        self.store.revoke_user_sessions(&pool.id, &user.username).await?;
        self.forget_devices_of(pool, user).await?;
        self.forget_passkey_registration(pool, user).await?;
        // Its passkeys go with it (in the store's delete_user).
        self.store
            .delete_user(&pool.id, &Self::user_key(pool, &user.username))
            .await?;
        // Its claims on username attributes (check_user_unique); a claim left behind is stale
        // anyway, since its holder no longer exists.
        for attr in pool.username_attributes() {
            if let Some(v) = user.attributes.get(&attr) {
                let name = unique_claim(&attr, &Self::user_key(pool, v));
                if self.store.get_secret(&pool.id, &name).await?.as_deref() == Some(user.username.as_bytes()) {
                    self.store.delete_secret(&pool.id, &name).await?;
                }
            }
        }
        Ok(())
    }

    pub async fn admin_enable_user(&self, input: AdminUserRef) -> Result<Empty> {
        self.set_enabled(input, true).await
    }

    pub async fn admin_disable_user(&self, input: AdminUserRef) -> Result<Empty> {
        self.set_enabled(input, false).await
    }

    async fn set_enabled(&self, input: AdminUserRef, enabled: bool) -> Result<Empty> {
        let (pool, mut user) = self.admin_user(&input.user_pool_id, &input.username).await?;
        user.enabled = enabled;
        self.save_user(&pool, &mut user).await?;
        Ok(Empty {})
    }
}
