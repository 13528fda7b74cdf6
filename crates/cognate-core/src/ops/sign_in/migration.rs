//! UserMigration: when a user signs in (with a password) or asks for a password reset and is
//! unknown here, the trigger may supply them from a legacy user store.
use crate::attributes::validate_attributes;
use crate::error::{Error, ErrorKind, Result};
use crate::model::*;
use crate::ops::sign_in::SignIn;
use crate::service::{CallContext, Cognito};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const MIGRATION_RESPONSE: &str = r#"{"userAttributes":null,"finalUserStatus":null,"messageAction":null,"desiredDeliveryMediums":null,"forceAliasCreation":null,"enableSMSMFA":null}"#;

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
        let mut request = Map::new();
        request.insert("password".into(), json!(password));
        request.insert(
            "validationData".into(),
            s.validation_data.clone().map(Value::Object).unwrap_or(Value::Null),
        );
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
        let mut request = Map::new();
        if let Some(md) = client_metadata {
            request.insert("clientMetadata".into(), Value::Object(md));
        }
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
        request: Map<String, Value>,
        ctx: &CallContext,
    ) -> Result<Option<User>> {
        let response: Value = serde_json::from_str(MIGRATION_RESPONSE).expect("valid JSON");
        let out = self
            .run_trigger(
                pool,
                "UserMigration",
                source,
                "1",
                given,
                client_id,
                ctx,
                request,
                response,
            )
            .await?
            .unwrap_or_default();
        let attrs = match out.get("userAttributes") {
            Some(Value::Object(m)) => m,
            None | Some(Value::Null) => return Ok(None),
            Some(_) => {
                return Err(Error::new(
                    ErrorKind::InvalidLambdaResponseException,
                    "Invalid lambda function output : userAttributes must be a map",
                ));
            }
        };
        let mut list: Vec<(String, String)> = Vec::new();
        let mut username_override = None;
        for (k, v) in attrs {
            let value = match v {
                Value::String(s) => s.clone(),
                Value::Null => continue,
                other => other.to_string(),
            };
            if k == "username" {
                username_override = Some(value);
            } else if k != "sub" {
                list.push((k.clone(), value));
            }
        }
        let mut attributes: BTreeMap<String, String> = validate_attributes(pool, &list, true)?;
        let username = if pool.username_attributes().is_empty() {
            username_override.unwrap_or_else(|| given.to_owned())
        } else {
            // The name typed was an email or phone number: it becomes that attribute.
            self.username_for_new_user(pool, given, &mut attributes)?
        };
        let status = match out.get("finalUserStatus").and_then(Value::as_str) {
            Some("CONFIRMED") => UserStatus::Confirmed,
            _ => UserStatus::ResetRequired,
        };
        let force = out.get("forceAliasCreation").and_then(Value::as_bool).unwrap_or(false);
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
