//! USER_PASSWORD_AUTH and ADMIN_USER_PASSWORD_AUTH: the password itself as the first factor,
//! and PreAuthentication, which every flow that starts with a name runs.
use crate::error::{Error, ErrorKind, Result};
use crate::model::*;
use crate::ops::clients::flow_allowed;
use crate::ops::sign_in::lockout::password_attempts_exceeded;
use crate::ops::sign_in::{Next, SignIn};
use crate::service::Cognito;
use crate::tokens::TokenSource;
use crate::triggers::events::{
    EmptyResponse, PreAuthenticationEvent, PreAuthenticationRequest, StringMap, SyncTriggerEvent,
};
use crate::triggers::{Trigger, string_map, trigger_envelope, user_attributes_for_trigger};
use serde_json::Value;
use std::collections::BTreeMap;

/// Refuses a flow the client does not allow (`flow` is the ExplicitAuthFlows name).
pub(crate) fn require_flow(client: &AppClient, flow: &str, refusal: &str) -> Result<()> {
    if flow_allowed(client, flow) {
        Ok(())
    } else {
        Err(Error::invalid_parameter(refusal))
    }
}

/// The USERNAME parameter, required and not empty.
pub(crate) fn username_param(params: &BTreeMap<String, String>) -> Result<&String> {
    params
        .get("USERNAME")
        .filter(|u| !u.is_empty())
        .ok_or_else(|| Error::missing("USERNAME"))
}

impl Cognito {
    pub(crate) async fn start_password(&self, s: &SignIn<'_>, params: &BTreeMap<String, String>) -> Result<Next> {
        let username = username_param(params)?;
        let password = params.get("PASSWORD").ok_or_else(|| Error::missing("PASSWORD"))?;
        let secret_hash = params.get("SECRET_HASH").map(String::as_str);
        let Some(user) = self.find_user(s.pool, username).await? else {
            self.check_secret_hash(s.client, username, secret_hash)?;
            if let Some(migrated) = self.migrate_user_on_sign_in(s, username, password).await? {
                return migrated_sign_in(migrated);
            }
            if s.client.prevent_user_existence_errors() {
                // Locked out after as many failures as a user, and as slow as a real check, so
                // that neither the answer nor its time tells who exists.
                self.check_ghost_lockout(s.pool, username)?;
                self.pre_authentication_unknown(s, username).await?;
                return Err(self.ghost_password_check(s.pool, username, Some(password)).await);
            }
            return Err(Error::user_not_found());
        };
        self.check_secret_hash_for_user(s.client, &[username, &user.username], secret_hash)?;
        self.check_lockout(&user)?;
        self.pre_authentication(s, &user).await?;
        // Serialised with every other guess at this user, and counted (see lockout.rs). The
        // password is checked before the account's state is told: a disabled user with a wrong
        // password is answered like anyone with a wrong password.
        let user = self
            .guarded_password_check(s.pool, &user, password, password_attempts_exceeded)
            .await?;
        self.after_password(s, user).await
    }

    /// After a right password (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH or SRP's
    /// PASSWORD_VERIFIER): the account's state decides what follows.
    pub(crate) async fn after_password(&self, s: &SignIn<'_>, user: User) -> Result<Next> {
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        match user.status {
            UserStatus::Unconfirmed => Err(Error::new(
                ErrorKind::UserNotConfirmedException,
                "User is not confirmed.",
            )),
            UserStatus::ResetRequired => Err(Error::new(
                ErrorKind::PasswordResetRequiredException,
                "Password reset required for the user",
            )),
            UserStatus::ForceChangePassword => {
                let days = s
                    .pool
                    .setting("Policies")
                    .and_then(|p| p.get("PasswordPolicy"))
                    .and_then(|p| p.get("TemporaryPasswordValidityDays"))
                    .and_then(Value::as_i64)
                    .unwrap_or(7);
                if days > 0 && self.now_ms() > user.password_changed_ms + days * 86_400_000 {
                    return Err(Error::not_authorized(
                        "Temporary password has expired and must be reset by an administrator.",
                    ));
                }
                self.new_password_challenge(s.pool, s.client, &user).await
            }
            _ => Ok(Next::FirstFactorPassed(user, TokenSource::Authentication)),
        }
    }

    pub(crate) async fn pre_authentication(&self, s: &SignIn<'_>, user: &User) -> Result<()> {
        self.run_pre_authentication(s, &user.username, user_attributes_for_trigger(s.pool, user), false)
            .await
    }

    /// PreAuthentication for a name that matches nobody: with PreventUserExistenceErrors the
    /// trigger runs as for a user, with `userNotFound: true`.
    pub(crate) async fn pre_authentication_unknown(&self, s: &SignIn<'_>, name: &str) -> Result<()> {
        self.run_pre_authentication(s, name, StringMap::new(), true).await
    }

    async fn run_pre_authentication(
        &self,
        s: &SignIn<'_>,
        name: &str,
        attributes: StringMap,
        not_found: bool,
    ) -> Result<()> {
        let request = PreAuthenticationRequest {
            user_attributes: attributes,
            validation_data: s.validation_data.as_ref().map(string_map),
            user_not_found: not_found,
            ..Default::default()
        };
        let source = "PreAuthentication_Authentication";
        let client_id = Some(s.client.client_id.as_str());
        let envelope = trigger_envelope(s.pool, Trigger::PreAuthentication, source, name, client_id, s.ctx);
        let event = PreAuthenticationEvent::new(envelope, request, EmptyResponse::default());
        self.invoke_trigger(s.pool, Trigger::PreAuthentication, event).await?;
        Ok(())
    }
}

/// A user UserMigration just created with the password they signed in with: signed in
/// (without MFA), unless the trigger asked for a password reset.
fn migrated_sign_in(user: User) -> Result<Next> {
    if user.status == UserStatus::ResetRequired {
        return Err(Error::new(
            ErrorKind::PasswordResetRequiredException,
            "Password reset required for the user",
        ));
    }
    Ok(Next::SignedIn(user, TokenSource::Authentication))
}
