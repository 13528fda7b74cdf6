//! Signing up: SignUp, ConfirmSignUp and ResendConfirmationCode (self-service, by client id)
//! and AdminConfirmSignUp; the PostConfirmation trigger and the sending of codes they share.
use crate::attributes::*;
use crate::error::{Error, ErrorKind, Result};
use crate::messages::*;
use crate::model::*;
use crate::ops::types::{CodeDeliveryDetails, CodeDeliveryOutput, metadata_json};
use crate::ops::{Empty, Input};
use crate::request::Request;
use crate::service::{CallContext, Cognito};
use crate::triggers::events::{
    EmptyResponse, PostConfirmationEvent, PostConfirmationRequest, PreSignUpEvent, PreSignUpRequest, PreSignUpResponse,
    SyncTriggerEvent,
};
use crate::triggers::{Trigger, string_map, trigger_envelope, user_attributes_for_trigger};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

// ---- inputs ------------------------------------------------------------------------------

/// SignUp. Attribute lists are (name, value) pairs, as the request lists them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SignUpInput {
    pub client_id: String,
    pub username: String,
    pub secret_hash: Option<String>,
    pub password: String,
    pub user_attributes: Vec<(String, String)>,
    pub validation_data: Option<Vec<(String, String)>>,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfirmSignUpInput {
    pub client_id: String,
    pub username: String,
    pub confirmation_code: String,
    pub secret_hash: Option<String>,
    pub force_alias_creation: bool,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResendConfirmationCodeInput {
    pub client_id: String,
    pub username: String,
    pub secret_hash: Option<String>,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminConfirmSignUpInput {
    pub user_pool_id: String,
    pub username: String,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

impl Input for SignUpInput {
    fn decode(req: &Request) -> Result<Self> {
        let client_id = req.str("ClientId")?;
        let username = req.str("Username")?;
        let secret_hash = req.opt_str("SecretHash")?;
        check_username(&username)?;
        let password = req.opt_str("Password")?.ok_or_else(|| Error::missing("password"))?;
        Ok(Self {
            client_id,
            username,
            secret_hash,
            password,
            user_attributes: req.attribute_list("UserAttributes")?.unwrap_or_default(),
            validation_data: req.attribute_list("ValidationData")?,
            client_metadata: req.str_map("ClientMetadata")?,
        })
    }
}

impl Input for ConfirmSignUpInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            client_id: req.str("ClientId")?,
            username: req.str("Username")?,
            confirmation_code: req.str("ConfirmationCode")?,
            secret_hash: req.opt_str("SecretHash")?,
            force_alias_creation: req.opt_bool("ForceAliasCreation")?.unwrap_or(false),
            client_metadata: req.str_map("ClientMetadata")?,
        })
    }
}

impl Input for ResendConfirmationCodeInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            client_id: req.str("ClientId")?,
            username: req.str("Username")?,
            secret_hash: req.opt_str("SecretHash")?,
            client_metadata: req.str_map("ClientMetadata")?,
        })
    }
}

impl Input for AdminConfirmSignUpInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            username: req.str("Username")?,
            client_metadata: req.str_map("ClientMetadata")?,
        })
    }
}

// ---- outputs -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct SignUpOutput {
    pub user_confirmed: bool,
    pub user_sub: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_delivery_details: Option<CodeDeliveryDetails>,
}

// ---- operations --------------------------------------------------------------------------

pub(crate) fn user_not_found_for_client() -> Error {
    Error::new(
        ErrorKind::UserNotFoundException,
        "Username/client id combination not found.",
    )
}

/// What PreSignUp decided for a self-service sign-up.
struct SignUpDecision {
    auto_confirm: bool,
    auto_verify: Vec<&'static str>,
}

impl Cognito {
    pub async fn sign_up(&self, input: SignUpInput, ctx: &CallContext) -> Result<SignUpOutput> {
        let (client, pool) = self.client_and_pool(&input.client_id).await?;
        self.check_secret_hash(&client, &input.username, input.secret_hash.as_deref())?;
        if pool
            .setting("AdminCreateUserConfig")
            .and_then(|a| a.get("AllowAdminCreateUserOnly"))
            .and_then(Value::as_bool)
            == Some(true)
        {
            return Err(Error::not_authorized("SignUp is not permitted for this user pool"));
        }
        let mut attrs = validate_attributes(&pool, &input.user_attributes, false)?;
        check_writable(&client, attrs.keys().cloned())?;
        let username = self.username_for_new_user(&pool, &input.username, &mut attrs)?;
        check_password(&pool, &input.password)?;
        check_required(&pool, &attrs)?;
        // Held until the new user is inserted (see check_user_unique).
        let mut unique = self.check_user_unique(&pool, &username, &attrs).await?;
        let decision = self.pre_sign_up(&pool, &username, &attrs, &input, ctx).await?;
        let status = if decision.auto_confirm {
            UserStatus::Confirmed
        } else {
            UserStatus::Unconfirmed
        };
        let mut user = self.new_user(&pool, username, attrs, status);
        for attr in decision.auto_verify {
            if !user.attributes.contains_key(attr) {
                return Err(Error::invalid_parameter(format!(
                    "The {attr} attribute is required to auto-verify it."
                )));
            }
            unique.extend(self.verify_alias(&pool, &mut user, attr, true).await?);
        }
        self.set_password(&pool, &mut user, &input.password).await?;
        let (message, details) = if decision.auto_confirm {
            (None, None)
        } else {
            self.sign_up_code(&pool, &mut user, &input, ctx).await?
        };
        self.insert_new_user(&pool, &user, "User already exists").await?;
        drop(unique);
        if let Some(m) = message {
            self.deliver(m).await?;
        }
        if decision.auto_confirm {
            let metadata = metadata_json(&input.client_metadata);
            let source = "PostConfirmation_ConfirmSignUp";
            self.post_confirmation(&pool, &user, source, Some(&input.client_id), metadata, ctx)
                .await?;
        }
        Ok(SignUpOutput {
            user_confirmed: decision.auto_confirm,
            user_sub: user.sub,
            code_delivery_details: details,
        })
    }

    /// Runs PreSignUp, which sees only what was submitted; it may confirm and verify.
    async fn pre_sign_up(
        &self,
        pool: &UserPool,
        username: &str,
        attrs: &BTreeMap<String, String>,
        input: &SignUpInput,
        ctx: &CallContext,
    ) -> Result<SignUpDecision> {
        let request = pre_sign_up_request(attrs, &input.validation_data, &input.client_metadata);
        let envelope = trigger_envelope(
            pool,
            Trigger::PreSignUp,
            "PreSignUp_SignUp",
            username,
            Some(&input.client_id),
            ctx,
        );
        let event = PreSignUpEvent::new(envelope, request, PreSignUpResponse::default());
        let decision = self
            .invoke_trigger(pool, Trigger::PreSignUp, event)
            .await?
            .unwrap_or_default();
        let auto_verify = [
            (decision.auto_verify_email, "email"),
            (decision.auto_verify_phone, "phone_number"),
        ]
        .into_iter()
        .filter_map(|(verify, attr)| verify.then_some(attr))
        .collect();
        Ok(SignUpDecision {
            auto_confirm: decision.auto_confirm_user,
            auto_verify,
        })
    }

    /// The confirmation code of a new unconfirmed user, when the pool verifies a contact:
    /// its rendered message (sent once the user is stored) and where it goes.
    async fn sign_up_code(
        &self,
        pool: &UserPool,
        user: &mut User,
        input: &SignUpInput,
        ctx: &CallContext,
    ) -> Result<(Option<Delivery>, Option<CodeDeliveryDetails>)> {
        let Some((channel, to)) = verification_channel(pool, user) else {
            return Ok((None, None));
        };
        let code = self.new_code(user, CodePurpose::SignUp, SIGN_UP_CODE_TTL_MS);
        let details = CodeDeliveryDetails::new(channel, &to);
        let out = Outgoing {
            kind: MessageKind::SignUp,
            channel,
            to,
            code,
            client_id: Some(&input.client_id),
            client_metadata: metadata_json(&input.client_metadata),
        };
        let message = self.render_message(pool, user, out, ctx).await?;
        Ok((Some(message), Some(details)))
    }

    pub async fn confirm_sign_up(&self, input: ConfirmSignUpInput, ctx: &CallContext) -> Result<Empty> {
        let (client_id, given) = (&input.client_id, &input.username);
        let secret_hash = input.secret_hash.as_deref();
        let (client, pool) = self.client_and_pool(client_id).await?;
        let Some(user) = self.find_user(&pool, given).await? else {
            self.check_secret_hash(&client, given, secret_hash)?;
            return Err(if client.prevent_user_existence_errors() {
                // Counted as for a user: a mismatch, and after 5 the attempt limit.
                self.ghost_code_check(&pool, given, &CodePurpose::SignUp)
            } else {
                user_not_found_for_client()
            });
        };
        self.check_secret_hash_for_user(&client, &[given, &user.username], secret_hash)?;
        if user.status != UserStatus::Unconfirmed {
            return Err(Error::not_authorized(format!(
                "User cannot be confirmed. Current status is {}",
                user.status.as_str()
            )));
        }
        let code = &input.confirmation_code;
        let (guard, mut user) = self.check_code(&pool, &user, &CodePurpose::SignUp, code).await?;
        let mut alias = None;
        if let Some((channel, _)) = verification_channel(&pool, &user) {
            let force = input.force_alias_creation;
            alias = self.verify_alias(&pool, &mut user, channel.attribute(), force).await?;
        }
        user.status = UserStatus::Confirmed;
        self.save_user(&pool, &mut user).await?;
        drop((alias, guard));
        let metadata = metadata_json(&input.client_metadata);
        let source = "PostConfirmation_ConfirmSignUp";
        self.post_confirmation(&pool, &user, source, Some(client_id), metadata, ctx)
            .await?;
        Ok(Empty {})
    }

    pub async fn resend_confirmation_code(
        &self,
        input: ResendConfirmationCodeInput,
        ctx: &CallContext,
    ) -> Result<CodeDeliveryOutput> {
        let (client_id, given) = (&input.client_id, &input.username);
        let secret_hash = input.secret_hash.as_deref();
        let (client, pool) = self.client_and_pool(client_id).await?;
        let Some(mut user) = self.find_user(&pool, given).await? else {
            self.check_secret_hash(&client, given, secret_hash)?;
            if client.prevent_user_existence_errors() {
                return self.resend_stand_in(&pool, given).await;
            }
            return Err(user_not_found_for_client());
        };
        self.check_secret_hash_for_user(&client, &[given, &user.username], secret_hash)?;
        if user.status != UserStatus::Unconfirmed {
            return Err(Error::invalid_parameter("User is already confirmed."));
        }
        let Some((channel, to)) = verification_channel(&pool, &user) else {
            return Err(Error::invalid_parameter(
                "Cannot resend codes. Auto verification not turned on.",
            ));
        };
        let code = (CodePurpose::SignUp, SIGN_UP_CODE_TTL_MS, MessageKind::ResendCode);
        let metadata = metadata_json(&input.client_metadata);
        self.send_new_code(&pool, &mut user, code, (channel, to), Some(client_id), metadata, ctx)
            .await
    }

    /// ResendConfirmationCode for an unknown user when the client hides which users exist:
    /// answered as for an unconfirmed user, with a plausible destination and the same limit
    /// on requests.
    async fn resend_stand_in(&self, pool: &UserPool, given: &str) -> Result<CodeDeliveryOutput> {
        let auto = pool.auto_verified_attributes();
        if auto.is_empty() {
            return Err(Error::invalid_parameter(
                "Cannot resend codes. Auto verification not turned on.",
            ));
        }
        self.ghost_code_request(pool, given, &CodePurpose::SignUp)?;
        let sms = auto.iter().any(|a| a == "phone_number") && !auto.iter().any(|a| a == "email");
        let details = self.stand_in_delivery(pool, given, sms).await?;
        Ok(CodeDeliveryOutput {
            code_delivery_details: CodeDeliveryDetails::from_json(&details),
        })
    }

    pub async fn admin_confirm_sign_up(&self, input: AdminConfirmSignUpInput, ctx: &CallContext) -> Result<Empty> {
        let (pool, mut user) = self.admin_user(&input.user_pool_id, &input.username).await?;
        if user.status != UserStatus::Unconfirmed {
            return Err(Error::not_authorized(format!(
                "User cannot be confirmed. Current status is {}",
                user.status.as_str()
            )));
        }
        user.status = UserStatus::Confirmed;
        user.codes.retain(|c| c.purpose != CodePurpose::SignUp);
        self.save_user(&pool, &mut user).await?;
        let metadata = metadata_json(&input.client_metadata);
        self.post_confirmation(&pool, &user, "PostConfirmation_ConfirmSignUp", None, metadata, ctx)
            .await?;
        Ok(Empty {})
    }

    pub(crate) async fn post_confirmation(
        &self,
        pool: &UserPool,
        user: &User,
        source: &str,
        client_id: Option<&str>,
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<()> {
        let request = PostConfirmationRequest {
            user_attributes: user_attributes_for_trigger(pool, user),
            client_metadata: client_metadata.as_ref().map(string_map),
            ..Default::default()
        };
        let envelope = trigger_envelope(pool, Trigger::PostConfirmation, source, &user.username, client_id, ctx);
        let event = PostConfirmationEvent::new(envelope, request, EmptyResponse::default());
        self.invoke_trigger(pool, Trigger::PostConfirmation, event).await?;
        Ok(())
    }

    /// Makes a code for `purpose`, renders its message, saves the user and sends the message:
    /// the tail of every operation that answers with CodeDeliveryDetails.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn send_new_code(
        &self,
        pool: &UserPool,
        user: &mut User,
        (purpose, ttl_ms, kind): (CodePurpose, i64, MessageKind),
        (channel, to): (Channel, String),
        client_id: Option<&str>,
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<CodeDeliveryOutput> {
        // Serialised per user, so that the requests are counted (see limits.rs).
        let guard = self.lock_user(pool, &user.username).await;
        *user = self.reload_user(pool, user).await?;
        self.note_code_request(user, &purpose)?;
        let carried = self.carried_attempts(user, &purpose, ttl_ms);
        let code = self.new_code(user, purpose.clone(), ttl_ms);
        if let Some(c) = user.codes.iter_mut().find(|c| c.purpose == purpose) {
            c.failed_attempts = carried;
        }
        let details = CodeDeliveryDetails::new(channel, &to);
        let out = Outgoing {
            kind,
            channel,
            to,
            code,
            client_id,
            client_metadata,
        };
        let message = self.render_message(pool, user, out, ctx).await?;
        self.save_user(pool, user).await?;
        drop(guard);
        self.deliver(message).await?;
        Ok(CodeDeliveryOutput {
            code_delivery_details: details,
        })
    }
}

/// PreSignUp's request: the submitted attributes, `validationData` (`null` when none was
/// given) and `clientMetadata` (left out when none was given).
pub(crate) fn pre_sign_up_request(
    attrs: &BTreeMap<String, String>,
    validation_data: &Option<Vec<(String, String)>>,
    client_metadata: &Option<BTreeMap<String, String>>,
) -> PreSignUpRequest {
    PreSignUpRequest {
        user_attributes: attrs.clone().into_iter().collect(),
        validation_data: validation_data.clone().map(|l| l.into_iter().collect()),
        client_metadata: client_metadata.clone().map(|m| m.into_iter().collect()),
        ..Default::default()
    }
}
