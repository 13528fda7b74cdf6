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
        // Serialised with every other guess at this user, and counted (see limits.rs). The
        // password is checked before the account's state is told: a disabled user with a wrong
        // password is answered like anyone with a wrong password.
        let user = self
            .guarded_password_check(s.pool, &user, password, crate::ops::limits::password_attempts_exceeded)
            .await?;
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
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
        self.after_first_factor(s.pool, s.client, &user, TokenSource::Authentication, None, s.ctx)
            .await
    }

    pub(crate) async fn pre_authentication(&self, s: &SignIn<'_>, user: &User) -> Result<()> {
        self.run_pre_authentication(s, &user.username, user_attributes_for_trigger(s.pool, user), false)
            .await
    }

    /// PreAuthentication for a name that matches nobody: with PreventUserExistenceErrors the
    /// trigger runs as for a user, with `userNotFound: true`.
    pub(crate) async fn pre_authentication_unknown(&self, s: &SignIn<'_>, name: &str) -> Result<()> {
        self.run_pre_authentication(s, name, Map::new(), true).await
    }

    async fn run_pre_authentication(
        &self,
        s: &SignIn<'_>,
        name: &str,
        attributes: Map<String, Value>,
        not_found: bool,
    ) -> Result<()> {
        let mut request = Map::new();
        request.insert("userAttributes".into(), Value::Object(attributes));
        request.insert(
            "validationData".into(),
            s.validation_data.clone().map(Value::Object).unwrap_or(Value::Null),
        );
        request.insert("userNotFound".into(), json!(not_found));
        self.run_trigger(
            s.pool,
            "PreAuthentication",
            "PreAuthentication_Authentication",
            "1",
            name,
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
        check_refresh_allowed(s.client)?;
        let token = s
            .params
            .get("REFRESH_TOKEN")
            .ok_or_else(|| Error::missing("REFRESH_TOKEN"))?;
        let proof = ClientProof::SecretHash {
            username: s.params.get("USERNAME").map(String::as_str),
            hash: s.params.get("SECRET_HASH").map(String::as_str),
        };
        let result = self.refresh_tokens(s.pool, s.client, token, proof, None, s.ctx).await?;
        Ok(json!({ "ChallengeParameters": {}, "AuthenticationResult": result }))
    }

    /// GetTokensFromRefreshToken: REFRESH_TOKEN_AUTH as an operation of its own (how Amplify v6
    /// refreshes), with the client secret itself instead of a SECRET_HASH, and ClientMetadata
    /// for PreTokenGeneration. Without refresh-token rotation no new refresh token comes back.
    pub async fn get_tokens_from_refresh_token(&self, req: Request, ctx: &CallContext) -> Result<Value> {
        let token = req.str("RefreshToken")?;
        check_pattern("refreshToken", &token, is_token_char, "[A-Za-z0-9-_=.]+")?;
        let client_id = req.str("ClientId")?;
        check_length("clientId", &client_id, 1, 128)?;
        check_pattern("clientId", &client_id, is_word_or_plus, "[\\w+]+")?;
        let secret = req.opt_str("ClientSecret")?;
        if let Some(secret) = &secret {
            check_length("clientSecret", secret, 24, 64)?;
            check_pattern("clientSecret", secret, is_word_or_plus, "[\\w+]+")?;
        }
        // Devices are not remembered yet, so a key names nothing; it is checked and ignored.
        if let Some(key) = req.opt_str("DeviceKey")? {
            check_device_key(&key)?;
        }
        let metadata = to_json_map(req.str_map("ClientMetadata")?);
        let (client, pool) = self.client_and_pool(&client_id).await?;
        check_client_secret(&client, secret.as_deref())?;
        check_refresh_allowed(&client)?;
        let result = self
            .refresh_tokens(&pool, &client, &token, ClientProof::SecretChecked, metadata, ctx)
            .await?;
        Ok(json!({ "AuthenticationResult": result }))
    }

    /// New ID and access tokens from a refresh token of `client`: what REFRESH_TOKEN_AUTH and
    /// GetTokensFromRefreshToken share. Runs PreTokenGeneration (`TokenGeneration_RefreshTokens`).
    async fn refresh_tokens(
        &self,
        pool: &UserPool,
        client: &AppClient,
        token: &str,
        proof: ClientProof<'_>,
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<Value> {
        let invalid = || Error::not_authorized("Invalid Refresh Token");
        let digest = crate::tokens::refresh_digest(token);
        let session = self
            .store
            .find_token_session(&pool.id, &digest)
            .await?
            .ok_or_else(invalid)?;
        if session.client_id != client.client_id {
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
            .get_user(&pool.id, &Self::user_key(pool, &session.username))
            .await?
            .ok_or_else(invalid)?;
        if let ClientProof::SecretHash { username, hash } = proof {
            let given = username.unwrap_or(&user.username);
            self.check_secret_hash_for_user(client, &[given, &user.username, &user.sub], hash)?;
        }
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        self.issue_tokens(
            pool,
            client,
            &user,
            TokenSource::RefreshTokens,
            Some(&session),
            client_metadata,
            ctx,
        )
        .await
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
        if session.data.get("userNotFound").and_then(Value::as_bool) == Some(true) {
            // The stand-in PASSWORD_VERIFIER for a name that matched nobody (see srp.rs).
            self.check_secret_hash(client, username, responses.get("SECRET_HASH").map(String::as_str))?;
            let name = session
                .data
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(&session.username);
            return Err(self.ghost_password_check(pool, name, None).await);
        }
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
            "SOFTWARE_TOKEN_MFA" | "SMS_MFA" | "EMAIL_OTP" | "SELECT_MFA_TYPE" | "MFA_SETUP" => {
                // Wrong codes put the session back themselves (up to a limit).
                self.answer_mfa(pool, client, session.clone(), user, &responses, metadata, ctx)
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
        self.after_first_factor(pool, client, &user, TokenSource::NewPasswordChallenge, metadata, ctx)
            .await
    }

    // ---- protections against guessing ----------------------------------------------------

    /// Writes state that is not a modification of the user (lockout counters, the last TOTP
    /// step): UserLastModifiedDate stays as it was.
    pub(crate) async fn save_user_quietly(&self, pool: &UserPool, user: &mut User) -> Result<()> {
        match self
            .store
            .update_user(&Self::user_key(pool, &user.username), user)
            .await
        {
            Ok(()) => {
                user.version += 1;
                Ok(())
            }
            Err(crate::store::StoreError::Conflict) => Err(Error::new(
                ErrorKind::TooManyRequestsException,
                "The user was modified concurrently; retry the request.",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Verifies `password` against a hash of nothing in particular: for names that match no
    /// user, so that the answer takes as long as a real check.
    pub(crate) async fn dummy_password_check(&self, pool: &UserPool, password: &str) -> Result<()> {
        let phc = match self.store.get_secret(&pool.id, DUMMY_HASH).await? {
            Some(h) => String::from_utf8(h).map_err(Error::internal)?,
            None => {
                let h = self.hash(&self.random_string(crate::service::ALNUM, 32)).await?;
                let stored = self
                    .store
                    .put_secret_if_absent(&pool.id, DUMMY_HASH, h.as_bytes())
                    .await?;
                String::from_utf8(stored).map_err(Error::internal)?
            }
        };
        let _ = self.compute.verify_password(password.to_owned(), phc).await?;
        Ok(())
    }

    /// A per-pool secret key for stand-in answers about names that match nobody.
    pub(crate) async fn pool_stand_in_key(&self, pool: &UserPool) -> Result<Vec<u8>> {
        let context = format!("{}/{STAND_IN_KEY}", pool.id);
        let sealed = match self.store.get_secret(&pool.id, STAND_IN_KEY).await? {
            Some(s) => s,
            None => {
                let key: [u8; 32] = self.random.bytes();
                let sealed = self.sealer.seal(&key, context.as_bytes(), self.nonce());
                self.store.put_secret_if_absent(&pool.id, STAND_IN_KEY, &sealed).await?
            }
        };
        let key = self.sealer.open(&sealed, context.as_bytes()).map_err(Error::internal)?;
        Ok(key.to_vec())
    }
}

/// How a refresh request shows that it comes from the client, when the client has a secret.
enum ClientProof<'a> {
    /// REFRESH_TOKEN_AUTH: a SECRET_HASH over a name of the token's user (USERNAME when given).
    SecretHash {
        username: Option<&'a str>,
        hash: Option<&'a str>,
    },
    /// GetTokensFromRefreshToken: the secret itself, checked before the token is looked up.
    SecretChecked,
}

fn check_refresh_allowed(client: &AppClient) -> Result<()> {
    if flow_allowed(client, "ALLOW_REFRESH_TOKEN_AUTH") {
        Ok(())
    } else {
        Err(Error::invalid_parameter(
            "Refresh Token flow not enabled for this client",
        ))
    }
}

/// GetTokensFromRefreshToken's ClientSecret: required when the client has a secret (compared
/// in constant time), ignored when it has none.
fn check_client_secret(client: &AppClient, given: Option<&str>) -> Result<()> {
    let Some(secret) = &client.secret else { return Ok(()) };
    match given {
        None => Err(Error::not_authorized(format!(
            "Client {} is configured for secret but secret was not received",
            client.client_id
        ))),
        Some(g) if cognate_crypto::ct_eq(g.as_bytes(), secret.as_bytes()) => Ok(()),
        Some(_) => Err(Error::not_authorized(format!(
            "Unable to verify secret hash for client {}",
            client.client_id
        ))),
    }
}

/// `\w` and `+` (ClientIdType, ClientSecretType).
fn is_word_or_plus(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '+'
}

/// TokenModelType: `[A-Za-z0-9-_=.]+`.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '=' | '.')
}

/// A sensitive member made only of `allowed` characters (the value stays out of the message).
fn check_pattern(member: &str, value: &str, allowed: fn(char) -> bool, pattern: &str) -> Result<()> {
    if value.chars().all(allowed) {
        Ok(())
    } else {
        Err(Error::sensitive_constraint(
            member,
            &format!("Member must satisfy regular expression pattern: {pattern}"),
        ))
    }
}

/// A sensitive member of `min..=max` characters.
fn check_length(member: &str, value: &str, min: usize, max: usize) -> Result<()> {
    let len = value.chars().count();
    if len < min {
        Err(Error::sensitive_constraint(
            member,
            &format!("Member must have length greater than or equal to {min}"),
        ))
    } else if len > max {
        Err(Error::sensitive_constraint(
            member,
            &format!("Member must have length less than or equal to {max}"),
        ))
    } else {
        Ok(())
    }
}

/// DeviceKeyType: 1–55 characters matching `[\w-]+_[0-9a-f-]+` (a region, `_`, a UUID).
fn check_device_key(key: &str) -> Result<()> {
    let fail = |constraint: &str| Err(Error::constraint("deviceKey", key, constraint));
    if key.is_empty() {
        return fail("Member must have length greater than or equal to 1");
    }
    if key.chars().count() > 55 {
        return fail("Member must have length less than or equal to 55");
    }
    // The suffix cannot hold `_`, so the last `_` is the separator.
    let well_formed = key.rsplit_once('_').is_some_and(|(prefix, suffix)| {
        !prefix.is_empty()
            && prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !suffix.is_empty()
            && suffix
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c) || c == '-')
    });
    if well_formed {
        Ok(())
    } else {
        fail("Member must satisfy regular expression pattern: [\\w-]+_[0-9a-f-]+")
    }
}

const DUMMY_HASH: &str = "dummy-password-hash";
const STAND_IN_KEY: &str = "stand-in-key";
