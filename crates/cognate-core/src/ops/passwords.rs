//! Passwords: ForgotPassword, ConfirmForgotPassword and ChangePassword (self-service), and
//! AdminSetUserPassword and AdminResetUserPassword.
use crate::attributes::check_password;
use crate::error::{Error, Result};
use crate::messages::*;
use crate::model::*;
use crate::ops::sign_up::user_not_found_for_client;
use crate::ops::types::{CodeDeliveryDetails, CodeDeliveryOutput, metadata_json};
use crate::ops::{Empty, Input};
use crate::request::Request;
use crate::service::{CallContext, Cognito};
use serde_json::Value;
use std::collections::BTreeMap;

// ---- inputs ------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForgotPasswordInput {
    pub client_id: String,
    pub username: String,
    pub secret_hash: Option<String>,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfirmForgotPasswordInput {
    pub client_id: String,
    pub username: String,
    pub confirmation_code: String,
    pub password: String,
    pub secret_hash: Option<String>,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangePasswordInput {
    pub access_token: String,
    pub proposed_password: String,
    /// Optional in the API; without it the change fails as a wrong password would.
    pub previous_password: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminSetUserPasswordInput {
    pub user_pool_id: String,
    pub username: String,
    pub password: String,
    pub permanent: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminResetUserPasswordInput {
    pub user_pool_id: String,
    pub username: String,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

impl Input for ForgotPasswordInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            client_id: req.str("ClientId")?,
            username: req.str("Username")?,
            secret_hash: req.opt_str("SecretHash")?,
            client_metadata: req.str_map("ClientMetadata")?,
        })
    }
}

impl Input for ConfirmForgotPasswordInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            client_id: req.str("ClientId")?,
            username: req.str("Username")?,
            confirmation_code: req.str("ConfirmationCode")?,
            password: req.str("Password")?,
            secret_hash: req.opt_str("SecretHash")?,
            client_metadata: req.str_map("ClientMetadata")?,
        })
    }
}

impl Input for ChangePasswordInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            access_token: req.str("AccessToken")?,
            proposed_password: req.str("ProposedPassword")?,
            previous_password: req.opt_str("PreviousPassword")?,
        })
    }
}

impl Input for AdminSetUserPasswordInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            username: req.str("Username")?,
            password: req.str("Password")?,
            permanent: req.opt_bool("Permanent")?.unwrap_or(false),
        })
    }
}

impl Input for AdminResetUserPasswordInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            username: req.str("Username")?,
            client_metadata: req.str_map("ClientMetadata")?,
        })
    }
}

/// AccountRecoverySetting `admin_only`: users cannot reset their own passwords.
fn admin_only_recovery(pool: &UserPool) -> bool {
    pool.setting("AccountRecoverySetting")
        .and_then(|a| a.get("RecoveryMechanisms"))
        .and_then(Value::as_array)
        .is_some_and(|list| {
            list.iter()
                .any(|m| m.get("Name").and_then(Value::as_str) == Some("admin_only"))
        })
}

/// A user who never chose a password (an administrator created them) cannot reset one.
fn check_resettable(user: &User) -> Result<()> {
    if user.status == UserStatus::ForceChangePassword {
        return Err(Error::not_authorized(
            "User password cannot be reset in the current state.",
        ));
    }
    Ok(())
}

fn no_recovery_channel() -> Error {
    Error::invalid_parameter(
        "Cannot reset password for the user as there is no registered/verified email or phone_number",
    )
}

// ---- operations --------------------------------------------------------------------------

impl Cognito {
    pub async fn forgot_password(&self, input: ForgotPasswordInput, ctx: &CallContext) -> Result<CodeDeliveryOutput> {
        let (client_id, given) = (&input.client_id, &input.username);
        let secret_hash = input.secret_hash.as_deref();
        let (client, pool) = self.client_and_pool(client_id).await?;
        if admin_only_recovery(&pool) {
            return Err(Error::not_authorized("Contact administrator to reset password."));
        }
        let found = match self.find_user(&pool, given).await? {
            Some(u) => Some(u),
            None => {
                self.check_secret_hash(&client, given, secret_hash)?;
                let metadata = metadata_json(&input.client_metadata);
                self.migrate_user_on_forgot_password(&pool, client_id, given, metadata, ctx)
                    .await?
            }
        };
        let Some(mut user) = found else {
            if client.prevent_user_existence_errors() {
                // Indistinguishable from a real delivery: a destination stable per name, and the
                // same limit on requests.
                self.ghost_code_request(&pool, given, &CodePurpose::ForgotPassword)?;
                let details = self.stand_in_delivery(&pool, given, false).await?;
                return Ok(CodeDeliveryOutput {
                    code_delivery_details: CodeDeliveryDetails::from_json(&details),
                });
            }
            return Err(user_not_found_for_client());
        };
        self.check_secret_hash_for_user(&client, &[given, &user.username], secret_hash)?;
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        check_resettable(&user)?;
        let Some((channel, to)) = recovery_channel(&pool, &user) else {
            return Err(no_recovery_channel());
        };
        let code = (
            CodePurpose::ForgotPassword,
            RESET_CODE_TTL_MS,
            MessageKind::ForgotPassword,
        );
        let metadata = metadata_json(&input.client_metadata);
        self.send_new_code(&pool, &mut user, code, (channel, to), Some(client_id), metadata, ctx)
            .await
    }

    pub async fn confirm_forgot_password(&self, input: ConfirmForgotPasswordInput, ctx: &CallContext) -> Result<Empty> {
        let (client_id, given) = (&input.client_id, &input.username);
        let secret_hash = input.secret_hash.as_deref();
        let (client, pool) = self.client_and_pool(client_id).await?;
        let Some(user) = self.find_user(&pool, given).await? else {
            self.check_secret_hash(&client, given, secret_hash)?;
            return Err(if client.prevent_user_existence_errors() {
                self.ghost_code_check(&pool, given, &CodePurpose::ForgotPassword)
            } else {
                user_not_found_for_client()
            });
        };
        self.check_secret_hash_for_user(&client, &[given, &user.username], secret_hash)?;
        check_password(&pool, &input.password)?;
        let purpose = CodePurpose::ForgotPassword;
        let (guard, mut user) = self
            .check_code(&pool, &user, &purpose, &input.confirmation_code)
            .await?;
        self.set_password(&pool, &mut user, &input.password).await?;
        user.password_changed_ms = self.now_ms();
        if matches!(user.status, UserStatus::ResetRequired | UserStatus::ForceChangePassword) {
            user.status = UserStatus::Confirmed;
        }
        self.save_user(&pool, &mut user).await?;
        drop(guard);
        let metadata = metadata_json(&input.client_metadata);
        let source = "PostConfirmation_ConfirmForgotPassword";
        self.post_confirmation(&pool, &user, source, Some(client_id), metadata, ctx)
            .await?;
        Ok(Empty {})
    }

    pub async fn change_password(&self, input: ChangePasswordInput) -> Result<Empty> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        let pool = auth.pool;
        let Some(previous) = input.previous_password else {
            return Err(Error::incorrect_credentials());
        };
        // Wrong previous passwords count towards the user's lockout, as sign-in failures do;
        // while locked out, ChangePassword answers as Cognito's does (LimitExceededException).
        let mut user = self
            .guarded_password_check(&pool, &auth.user, &previous, crate::ops::limits::attempt_limit_exceeded)
            .await?;
        check_password(&pool, &input.proposed_password)?;
        self.set_password(&pool, &mut user, &input.proposed_password).await?;
        user.password_changed_ms = self.now_ms();
        self.save_user(&pool, &mut user).await?;
        Ok(Empty {})
    }

    pub async fn admin_set_user_password(&self, input: AdminSetUserPasswordInput) -> Result<Empty> {
        let (pool, mut user) = self.admin_user(&input.user_pool_id, &input.username).await?;
        check_password(&pool, &input.password)?;
        self.set_password(&pool, &mut user, &input.password).await?;
        user.password_changed_ms = self.now_ms();
        user.status = if input.permanent {
            UserStatus::Confirmed
        } else {
            UserStatus::ForceChangePassword
        };
        self.save_user(&pool, &mut user).await?;
        Ok(Empty {})
    }

    pub async fn admin_reset_user_password(
        &self,
        input: AdminResetUserPasswordInput,
        ctx: &CallContext,
    ) -> Result<Empty> {
        let (pool, mut user) = self.admin_user(&input.user_pool_id, &input.username).await?;
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        check_resettable(&user)?;
        // With admin-only recovery the administrator sets the new password; otherwise the user
        // needs somewhere to receive the code.
        let channel = recovery_channel(&pool, &user);
        if channel.is_none() && !admin_only_recovery(&pool) {
            return Err(no_recovery_channel());
        }
        let mut message = None;
        if let Some((channel, to)) = channel {
            let code = self.new_code(&mut user, CodePurpose::ForgotPassword, RESET_CODE_TTL_MS);
            let out = Outgoing {
                kind: MessageKind::ForgotPassword,
                channel,
                to,
                code,
                client_id: None,
                client_metadata: metadata_json(&input.client_metadata),
            };
            message = Some(self.render_message(&pool, &user, out, ctx).await?);
        }
        if user.status != UserStatus::Unconfirmed {
            user.status = UserStatus::ResetRequired;
        }
        self.save_user(&pool, &mut user).await?;
        if let Some(m) = message {
            self.deliver(m).await?;
        }
        Ok(Empty {})
    }
}
