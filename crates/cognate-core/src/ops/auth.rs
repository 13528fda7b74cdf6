//! Sign-in: InitiateAuth, AdminInitiateAuth and the challenge responses. Challenge state is
//! a stored [`ChallengeSession`]; new challenges (SRP, custom auth, MFA) add arms here.
use crate::attributes::{check_password, validate_attributes};
use crate::error::{Error, ErrorKind, Result};
use crate::model::*;
use crate::ops::clients::flow_allowed;
use crate::request::Request;
use crate::rng::RandomExt;
use crate::service::{CallContext, Cognito};
use crate::tokens::TokenSource;
use crate::triggers::user_attributes_for_trigger;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

const AUTH_FLOWS: &str = "Member must satisfy enum value set: [USER_SRP_AUTH, REFRESH_TOKEN_AUTH, REFRESH_TOKEN, CUSTOM_AUTH, ADMIN_NO_SRP_AUTH, USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH, USER_AUTH]";

/// Everything a sign-in needs to know about its request.
pub(crate) struct SignIn<'a> {
    pub(crate) pool: &'a UserPool,
    pub(crate) client: &'a AppClient,
    pub(crate) params: &'a BTreeMap<String, String>,
    /// InitiateAuth's ClientMetadata: triggers of the first step see it as validationData.
    pub(crate) validation_data: Option<Map<String, Value>>,
    pub(crate) ctx: &'a CallContext,
}

pub(crate) fn to_json_map(m: Option<BTreeMap<String, String>>) -> Option<Map<String, Value>> {
    m.map(|m| m.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
}

impl Cognito {
    pub async fn initiate_auth(&self, req: Request, ctx: &CallContext) -> Result<Value> {
        let flow = req.str("AuthFlow")?;
        let client_id = req.str("ClientId")?;
        let params = req.str_map("AuthParameters")?.unwrap_or_default();
        let (client, pool) = self.client_and_pool(&client_id).await?;
        let sign_in = SignIn {
            pool: &pool,
            client: &client,
            params: &params,
            validation_data: to_json_map(req.str_map("ClientMetadata")?),
            ctx,
        };
        match flow.as_str() {
            "USER_PASSWORD_AUTH" => {
                if !flow_allowed(&client, "ALLOW_USER_PASSWORD_AUTH") {
                    return Err(Error::invalid_parameter(
                        "USER_PASSWORD_AUTH flow not enabled for this client",
                    ));
                }
                self.password_sign_in(&sign_in).await
            }
            "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => self.refresh_sign_in(&sign_in).await,
            "CUSTOM_AUTH" => self.start_custom_auth(&sign_in).await,
            "USER_SRP_AUTH" => self.start_srp(&sign_in).await,
            "USER_AUTH" => Err(Error::invalid_parameter(format!(
                "{flow} is not supported by this version of Cognate."
            ))),
            "ADMIN_NO_SRP_AUTH" | "ADMIN_USER_PASSWORD_AUTH" => {
                Err(Error::invalid_parameter("Initiate Auth method not supported."))
            }
            _ => Err(Error::constraint("authFlow", &flow, AUTH_FLOWS)),
        }
    }

    pub async fn admin_initiate_auth(&self, req: Request, ctx: &CallContext) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let flow = req.str("AuthFlow")?;
        let client = self.client_of(&pool.id, &req.str("ClientId")?).await?;
        let params = req.str_map("AuthParameters")?.unwrap_or_default();
        let sign_in = SignIn {
            pool: &pool,
            client: &client,
            params: &params,
            validation_data: to_json_map(req.str_map("ClientMetadata")?),
            ctx,
        };
        match flow.as_str() {
            "ADMIN_USER_PASSWORD_AUTH" | "ADMIN_NO_SRP_AUTH" => {
                if !flow_allowed(&client, "ALLOW_ADMIN_USER_PASSWORD_AUTH") {
                    return Err(Error::invalid_parameter("Auth flow not enabled for this client"));
                }
                self.password_sign_in(&sign_in).await
            }
            "REFRESH_TOKEN_AUTH" | "REFRESH_TOKEN" => self.refresh_sign_in(&sign_in).await,
            "CUSTOM_AUTH" => self.start_custom_auth(&sign_in).await,
            "USER_SRP_AUTH" => self.start_srp(&sign_in).await,
            "USER_AUTH" => Err(Error::invalid_parameter(format!(
                "{flow} is not supported by this version of Cognate."
            ))),
            "USER_PASSWORD_AUTH" => Err(Error::invalid_parameter("Initiate Auth method not supported.")),
            _ => Err(Error::constraint("authFlow", &flow, AUTH_FLOWS)),
        }
    }

    async fn password_sign_in(&self, s: &SignIn<'_>) -> Result<Value> {
        let username = s
            .params
            .get("USERNAME")
            .filter(|u| !u.is_empty())
            .ok_or_else(|| Error::missing("USERNAME"))?;
        let password = s.params.get("PASSWORD").ok_or_else(|| Error::missing("PASSWORD"))?;
        let secret_hash = s.params.get("SECRET_HASH").map(String::as_str);
        let Some(user) = self.find_user(s.pool, username).await? else {
            self.check_secret_hash(s.client, username, secret_hash)?;
            if let Some(migrated) = self.migrate_user_on_sign_in(s, username, password).await? {
                return self.finish_migrated_sign_in(s, migrated).await;
            }
            return Err(if s.client.prevent_user_existence_errors() {
                Error::incorrect_credentials()
            } else {
                Error::user_not_found()
            });
        };
        self.check_secret_hash_for_user(s.client, &[username, &user.username], secret_hash)?;
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        self.pre_authentication(s, &user).await?;
        let ok = match &user.password_hash {
            Some(h) => self.compute.verify_password(password.clone(), h.clone()).await?,
            None => false,
        };
        if !ok {
            return Err(Error::incorrect_credentials());
        }
        match user.status {
            UserStatus::Unconfirmed => {
                return Err(Error::new(
                    ErrorKind::UserNotConfirmedException,
                    "User is not confirmed.",
                ));
            }
            UserStatus::ResetRequired => {
                return Err(Error::new(
                    ErrorKind::PasswordResetRequiredException,
                    "Password reset required for the user",
                ));
            }
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
                return self.new_password_challenge(s.pool, s.client, &user).await;
            }
            _ => {}
        }
        self.complete_sign_in(s.pool, s.client, &user, TokenSource::Authentication, None, s.ctx)
            .await
    }

    pub(crate) async fn pre_authentication(&self, s: &SignIn<'_>, user: &User) -> Result<()> {
        let mut request = Map::new();
        request.insert(
            "userAttributes".into(),
            Value::Object(user_attributes_for_trigger(s.pool, user)),
        );
        request.insert(
            "validationData".into(),
            s.validation_data.clone().map(Value::Object).unwrap_or(Value::Null),
        );
        request.insert("userNotFound".into(), json!(false));
        self.run_trigger(
            s.pool,
            "PreAuthentication",
            "PreAuthentication_Authentication",
            "1",
            &user.username,
            Some(&s.client.client_id),
            s.ctx,
            request,
            json!({}),
        )
        .await?;
        Ok(())
    }

    /// Issues tokens and runs PostAuthentication: the end of every successful sign-in.
    pub(crate) async fn complete_sign_in(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        source: TokenSource,
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<Value> {
        let result = self
            .issue_tokens(pool, client, user, source, None, client_metadata.clone(), ctx)
            .await?;
        let mut request = Map::new();
        request.insert(
            "userAttributes".into(),
            Value::Object(user_attributes_for_trigger(pool, user)),
        );
        request.insert("newDeviceUsed".into(), json!(false));
        if let Some(md) = client_metadata {
            request.insert("clientMetadata".into(), Value::Object(md));
        }
        self.run_trigger(
            pool,
            "PostAuthentication",
            "PostAuthentication_Authentication",
            "1",
            &user.username,
            Some(&client.client_id),
            ctx,
            request,
            json!({}),
        )
        .await?;
        Ok(json!({ "ChallengeParameters": {}, "AuthenticationResult": result }))
    }

    /// Starts a challenge: stores its state and returns the `Session` for the client.
    pub(crate) async fn start_challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        challenge: &str,
        data: Map<String, Value>,
    ) -> Result<String> {
        let id = STANDARD.encode(self.random.bytes::<96>());
        self.start_challenge_with_id(pool, client, user, challenge, data, &id)
            .await
    }

    /// Like [`Cognito::start_challenge`] with a chosen session id (SRP keys its session by
    /// the SECRET_BLOCK, which the client sends back).
    pub(crate) async fn start_challenge_with_id(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        challenge: &str,
        data: Map<String, Value>,
        id: &str,
    ) -> Result<String> {
        let minutes = client
            .setting("AuthSessionValidity")
            .and_then(Value::as_i64)
            .unwrap_or(3);
        let id = id.to_owned();
        let session = ChallengeSession {
            id: id.clone(),
            pool_id: pool.id.clone(),
            client_id: client.client_id.clone(),
            username: user.username.clone(),
            challenge: challenge.to_owned(),
            expires_ms: self.now_ms() + minutes * 60_000,
            data,
        };
        self.store.put_challenge(&session).await?;
        Ok(id)
    }

    pub(crate) async fn new_password_challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
    ) -> Result<Value> {
        let session = self
            .start_challenge(pool, client, user, "NEW_PASSWORD_REQUIRED", Map::new())
            .await?;
        let mut attrs = Map::new();
        for (k, v) in &user.attributes {
            attrs.insert(k.clone(), json!(v));
        }
        let required: Vec<String> = pool
            .schema()
            .iter()
            .filter(|a| a.get("Required").and_then(Value::as_bool) == Some(true))
            .filter_map(|a| a.get("Name").and_then(Value::as_str))
            .filter(|n| *n != "sub" && !user.attributes.contains_key(*n))
            .map(|n| format!("userAttributes.{n}"))
            .collect();
        Ok(json!({
            "ChallengeName": "NEW_PASSWORD_REQUIRED",
            "Session": session,
            "ChallengeParameters": {
                "USER_ID_FOR_SRP": user.username,
                "requiredAttributes": serde_json::to_string(&required).expect("json"),
                "userAttributes": Value::Object(attrs).to_string(),
            }
        }))
    }

    async fn refresh_sign_in(&self, s: &SignIn<'_>) -> Result<Value> {
        if !flow_allowed(s.client, "ALLOW_REFRESH_TOKEN_AUTH") {
            return Err(Error::invalid_parameter(
                "Refresh Token flow not enabled for this client",
            ));
        }
        let token = s
            .params
            .get("REFRESH_TOKEN")
            .ok_or_else(|| Error::missing("REFRESH_TOKEN"))?;
        let invalid = || Error::not_authorized("Invalid Refresh Token");
        let digest = crate::tokens::refresh_digest(token);
        let session = self
            .store
            .find_token_session(&s.pool.id, &digest)
            .await?
            .ok_or_else(invalid)?;
        if session.client_id != s.client.client_id {
            return Err(invalid());
        }
        if session.revoked {
            return Err(Error::not_authorized("Refresh Token has been revoked"));
        }
        if session.expires_ms <= self.now_ms() {
            return Err(Error::not_authorized("Refresh Token has expired"));
        }
        let user = self
            .store
            .get_user(&s.pool.id, &Self::user_key(s.pool, &session.username))
            .await?
            .ok_or_else(invalid)?;
        let given = s.params.get("USERNAME").map(String::as_str).unwrap_or(&user.username);
        self.check_secret_hash_for_user(
            s.client,
            &[given, &user.username, &user.sub],
            s.params.get("SECRET_HASH").map(String::as_str),
        )?;
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        let result = self
            .issue_tokens(
                s.pool,
                s.client,
                &user,
                TokenSource::RefreshTokens,
                Some(&session),
                None,
                s.ctx,
            )
            .await?;
        Ok(json!({ "ChallengeParameters": {}, "AuthenticationResult": result }))
    }

    pub async fn respond_to_auth_challenge(&self, req: Request, ctx: &CallContext) -> Result<Value> {
        let client_id = req.str("ClientId")?;
        let (client, pool) = self.client_and_pool(&client_id).await?;
        self.answer_challenge(&pool, &client, &req, ctx).await
    }

    pub async fn admin_respond_to_auth_challenge(&self, req: Request, ctx: &CallContext) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let client = self.client_of(&pool.id, &req.str("ClientId")?).await?;
        self.answer_challenge(&pool, &client, &req, ctx).await
    }

    async fn answer_challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        req: &Request,
        ctx: &CallContext,
    ) -> Result<Value> {
        let name = req.str("ChallengeName")?;
        let responses = req.str_map("ChallengeResponses")?.unwrap_or_default();
        let session_id = match req.opt_str("Session")? {
            Some(s) => s,
            None => responses
                .get("PASSWORD_CLAIM_SECRET_BLOCK")
                .cloned()
                .ok_or_else(|| Error::missing("session"))?,
        };
        let expired = || Error::not_authorized("Invalid session for the user, session is expired.");
        let session = self.store.take_challenge(&session_id).await?.ok_or_else(expired)?;
        if session.pool_id != pool.id || session.client_id != client.client_id || session.expires_ms <= self.now_ms() {
            return Err(expired());
        }
        if session.challenge != name {
            return Err(Error::invalid_parameter(format!(
                "Invalid challenge name {name}; expected {}.",
                session.challenge
            )));
        }
        let metadata = to_json_map(req.str_map("ClientMetadata")?);
        if name == "CUSTOM_CHALLENGE" {
            return self
                .answer_custom_challenge(pool, client, session, &responses, metadata, ctx)
                .await;
        }
        let username = responses.get("USERNAME").ok_or_else(|| Error::missing("USERNAME"))?;
        let user = self.require_user(pool, username).await?;
        if user.username != session.username {
            return Err(Error::not_authorized("Invalid session for the user."));
        }
        self.check_secret_hash_for_user(
            client,
            &[username, &user.username],
            responses.get("SECRET_HASH").map(String::as_str),
        )?;
        // A rejected answer leaves the challenge open, as Cognito lets the client retry.
        let outcome = match name.as_str() {
            "PASSWORD_VERIFIER" => {
                self.answer_password_verifier(pool, client, &session, user, &responses, metadata, ctx)
                    .await
            }
            "NEW_PASSWORD_REQUIRED" => {
                self.answer_new_password(pool, client, user, &responses, metadata, ctx)
                    .await
            }
            _ => Err(Error::invalid_parameter(format!(
                "Challenge {name} is not supported by this version of Cognate."
            ))),
        };
        if let Err(e) = &outcome
            && matches!(
                e.kind,
                ErrorKind::InvalidPasswordException | ErrorKind::InvalidParameterException
            )
        {
            self.store.put_challenge(&session).await?;
        }
        outcome
    }

    async fn answer_new_password(
        &self,
        pool: &UserPool,
        client: &AppClient,
        mut user: User,
        responses: &BTreeMap<String, String>,
        metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<Value> {
        let password = responses
            .get("NEW_PASSWORD")
            .ok_or_else(|| Error::missing("NEW_PASSWORD"))?;
        check_password(pool, password)?;
        let given: Vec<(String, String)> = responses
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("userAttributes.").map(|n| (n.to_owned(), v.clone())))
            .collect();
        let attrs = validate_attributes(pool, &given, false)?;
        for (k, v) in attrs {
            user.attributes.insert(k, v);
        }
        crate::attributes::check_required(pool, &user.attributes)?;
        self.set_password(pool, &mut user, password).await?;
        user.password_changed_ms = self.now_ms();
        user.status = UserStatus::Confirmed;
        self.save_user(pool, &mut user).await?;
        self.complete_sign_in(pool, client, &user, TokenSource::NewPasswordChallenge, metadata, ctx)
            .await
    }
}
