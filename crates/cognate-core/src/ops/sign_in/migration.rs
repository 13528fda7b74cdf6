//! UserMigration: when a user signs in (with a password) or asks for a password reset and is
//! unknown here, the trigger may supply them from a legacy user store.
use crate::attributes::validate_attributes;
use crate::error::{Error, ErrorKind, Result};
use crate::model::*;
use crate::ops::sign_in::SignIn;
use crate::service::{CallContext, Cognito};
use crate::triggers::events::{SyncTriggerEvent, UserMigrationEvent, UserMigrationRequest};
use crate::triggers::{Trigger, string_map, trigger_envelope};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

impl Cognito {
    /// Runs UserMigration_Authentication for an unknown user; the migrated user, created with
    /// the password they signed in with, or `None` when the trigger supplied nobody.
    pub(crate) async fn migrate_user_on_sign_in(
        &self,
        s: &SignIn<'_>,
        given: &str,
        password: &str,
    ) -> Result<Option<User>> {
        if s.pool.lambda_arn("UserMigration").is_none() {
            return Ok(None);
        }
        let request = UserMigrationRequest {
            password: Some(password.to_owned()),
            validation_data: Some(s.validation_data.as_ref().map(string_map)),
            ..Default::default()
        };
        let Some(user) = self
            .run_migration(
                s.pool,
                given,
                "UserMigration_Authentication",
                Some(&s.client.client_id),
                request,
                s.ctx,
            )
            .await?
        else {
            return Ok(None);
        };
        let mut user = user;
        // The password is taken as it is: the pool's policy does not apply to migrated users.
        self.set_password(s.pool, &mut user, password).await?;
        self.insert_migrated(s.pool, &mut user).await?;
        Ok(Some(user))
    }

    /// Runs UserMigration_ForgotPassword for an unknown user.
    pub(crate) async fn migrate_user_on_forgot_password(
        &self,
        pool: &UserPool,
        client_id: &str,
        given: &str,
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<Option<User>> {
        if pool.lambda_arn("UserMigration").is_none() {
            return Ok(None);
        }
        let request = UserMigrationRequest {
            client_metadata: client_metadata.as_ref().map(string_map),
            ..Default::default()
        };
        let Some(mut user) = self
            .run_migration(
                pool,
                given,
                "UserMigration_ForgotPassword",
                Some(client_id),
                request,
                ctx,
            )
            .await?
        else {
            return Ok(None);
        };
        user.status = UserStatus::ResetRequired;
        self.insert_migrated(pool, &mut user).await?;
        Ok(Some(user))
    }

    async fn run_migration(
        &self,
        pool: &UserPool,
        given: &str,
        source: &str,
        client_id: Option<&str>,
        request: UserMigrationRequest,
        ctx: &CallContext,
    ) -> Result<Option<User>> {
        let envelope = trigger_envelope(pool, Trigger::UserMigration, source, given, client_id, ctx);
        let event = UserMigrationEvent::new(envelope, request, Default::default());
        let out = self
            .invoke_trigger(pool, Trigger::UserMigration, event)
            .await?
            .unwrap_or_default();
        let Some(attrs) = out.user_attributes else {
            return Ok(None);
        };
        let mut list: Vec<(String, String)> = Vec::new();
        let mut username_override = None;
        // In name order, as validation reports the first bad attribute.
        for (k, value) in attrs.into_iter().collect::<BTreeMap<_, _>>() {
            if k == "username" {
                username_override = Some(value);
            } else if k != "sub" {
                list.push((k, value));
            }
        }
        let mut attributes: BTreeMap<String, String> = validate_attributes(pool, &list, true)?;
        let username = if pool.username_attributes().is_empty() {
            username_override.unwrap_or_else(|| given.to_owned())
        } else {
            // The name typed was an email or phone number: it becomes that attribute.
            self.username_for_new_user(pool, given, &mut attributes)?
        };
        let status = match out.final_user_status.as_deref() {
            Some("CONFIRMED") => UserStatus::Confirmed,
            _ => UserStatus::ResetRequired,
        };
        let force = out.force_alias_creation.unwrap_or(false);
        let mut user = self.new_user(pool, username, attributes, status);
        for attr in ["email", "phone_number"] {
            if user.is_verified(attr) {
                self.verify_alias(pool, &mut user, attr, force).await?;
            }
        }
        Ok(Some(user))
    }

    async fn insert_migrated(&self, pool: &UserPool, user: &mut User) -> Result<()> {
        match self
            .store
            .insert_user(&Self::user_key(pool, &user.username), user)
            .await
        {
            Ok(()) => {
                // The store starts every new record at version 1.
                user.version = 1;
                Ok(())
            }
            Err(crate::store::StoreError::AlreadyExists) => Err(Error::new(
                ErrorKind::UsernameExistsException,
                "User account already exists",
            )),
            Err(e) => Err(e.into()),
        }
    }
}
