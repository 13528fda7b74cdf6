//! Self-service user operations (authorised by client id, access token or code).
use crate::attributes::*;
use crate::error::{Error, ErrorKind, Result};
use crate::messages::*;
use crate::model::*;
use crate::request::Request;
use crate::rng::RandomExt;
use crate::service::{CallContext, Cognito};
use crate::triggers::user_attributes_for_trigger;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

fn metadata(req: &Request) -> Result<Option<Map<String, Value>>> {
    Ok(req
        .str_map("ClientMetadata")?
        .map(|m| m.into_iter().map(|(k, v)| (k, Value::String(v))).collect()))
}

fn user_not_found_for_client() -> Error {
    Error::new(
        ErrorKind::UserNotFoundException,
        "Username/client id combination not found.",
    )
}

impl Cognito {
    /// Maps the name a user signs up with to (username, attributes), following the pool's
    /// UsernameAttributes / AliasAttributes.
    pub(crate) fn username_for_new_user(
        &self,
        pool: &UserPool,
        given: &str,
        attrs: &mut BTreeMap<String, String>,
    ) -> Result<String> {
        let username_attrs = pool.username_attributes();
        if !username_attrs.is_empty() {
            let email = username_attrs.iter().any(|a| a == "email");
            let phone = username_attrs.iter().any(|a| a == "phone_number");
            if email && looks_like_email(given) {
                attrs.insert("email".into(), given.to_owned());
            } else if phone && looks_like_phone(given) {
                attrs.insert("phone_number".into(), given.to_owned());
            } else {
                return Err(Error::invalid_parameter(match (email, phone) {
                    (true, true) => "Username should be either an email or a phone number.",
                    (true, false) => "Username should be an email.",
                    _ => "Username should be a phone number.",
                }));
            }
            return Ok(self.random.uuid_v4());
        }
        let alias = pool.alias_attributes();
        if alias.iter().any(|a| a == "email") && looks_like_email(given) {
            return Err(Error::invalid_parameter(
                "Username cannot be of email format, since user pool is configured for email alias.",
            ));
        }
        if alias.iter().any(|a| a == "phone_number") && looks_like_phone(given) {
            return Err(Error::invalid_parameter(
                "Username cannot be of phone number format, since user pool is configured for phone number alias.",
            ));
        }
        Ok(given.to_owned())
    }

    /// Refuses a new user whose username or username attribute is taken.
    ///
    /// Values of username attributes (email, phone_number) are compared as the pool compares
    /// usernames (lower-cased when it is case-insensitive). Each value is claimed: the check
    /// holds a per-node mutex per value (returned; keep it until the user is inserted), and
    /// records the claim in the store (`put_secret_if_absent`, atomic in the database), so that
    /// simultaneous sign-ups with one value create one account. A claim whose holder no longer
    /// has the value is stale and taken over.
    pub(crate) async fn check_user_unique(
        &self,
        pool: &UserPool,
        username: &str,
        attrs: &BTreeMap<String, String>,
    ) -> Result<Vec<crate::locks::KeyGuard>> {
        let mut keys: Vec<(String, String)> = pool
            .username_attributes()
            .into_iter()
            .filter_map(|attr| attrs.get(&attr).map(|v| (attr, Self::user_key(pool, v))))
            .collect();
        keys.sort();
        // Locked in a fixed order, so that two sign-ups cannot wait for each other.
        let mut guards = Vec::new();
        for (attr, norm) in &keys {
            guards.push(
                self.guess_locks
                    .lock(format!("unique\u{0}{}\u{0}{attr}:{norm}", pool.id))
                    .await,
            );
        }
        if self
            .store
            .get_user(&pool.id, &Self::user_key(pool, username))
            .await?
            .is_some()
        {
            return Err(Error::new(ErrorKind::UsernameExistsException, "User already exists"));
        }
        let taken = |attr: &str| {
            Error::new(
                ErrorKind::UsernameExistsException,
                format!("An account with the given {attr} already exists."),
            )
        };
        for (attr, norm) in &keys {
            // Users from before claims existed: the value as given, and as normalised.
            let given = attrs.get(attr).map(String::as_str).unwrap_or_default();
            for v in [given, norm.as_str()] {
                if !self.store.find_users(&pool.id, attr, v).await?.is_empty() {
                    return Err(taken(attr));
                }
            }
            // Kept with the pool's other secrets, so that they go with the pool.
            let (scope, name) = (pool.id.as_str(), unique_claim(attr, norm));
            let held = self
                .store
                .put_secret_if_absent(scope, &name, username.as_bytes())
                .await?;
            if held != username.as_bytes() {
                let holder = String::from_utf8_lossy(&held).into_owned();
                let holds = self
                    .store
                    .get_user(&pool.id, &Self::user_key(pool, &holder))
                    .await?
                    .and_then(|u| u.attributes.get(attr).map(|v| Self::user_key(pool, v)))
                    .is_some_and(|v| &v == norm);
                if holds {
                    return Err(taken(attr));
                }
                self.store.put_secret(scope, &name, username.as_bytes()).await?;
            }
        }
        Ok(guards)
    }

    pub(crate) fn new_user(
        &self,
        pool: &UserPool,
        username: String,
        attributes: BTreeMap<String, String>,
        status: UserStatus,
    ) -> User {
        let now = self.now_ms();
        // With email/phone as username, Cognito's generated username is the sub itself.
        let sub = if pool.username_attributes().is_empty() {
            self.random.uuid_v4()
        } else {
            username.clone()
        };
        User {
            pool_id: pool.id.clone(),
            username,
            sub,
            attributes,
            status,
            enabled: true,
            created_ms: now,
            modified_ms: now,
            password_hash: None,
            password_changed_ms: now,
            codes: vec![],
            pending_attributes: BTreeMap::new(),
            extra: Map::new(),
            version: 0,
        }
    }

    pub(crate) async fn hash(&self, password: &str) -> Result<String> {
        self.compute
            .hash_password(password.to_owned(), self.random.bytes())
            .await
    }

    /// Marks `attr` verified on `user`, taking the alias from any other user who held it
    /// (with `force`), or failing with AliasExistsException.
    ///
    /// For an alias attribute, returns the (per-node) mutex of the value, compared as the pool
    /// compares usernames: keep it until `user` is saved, so that two users cannot both verify
    /// one value at the same time.
    pub(crate) async fn verify_alias(
        &self,
        pool: &UserPool,
        user: &mut User,
        attr: &str,
        force: bool,
    ) -> Result<Option<crate::locks::KeyGuard>> {
        let mut guard = None;
        if pool.alias_attributes().iter().any(|a| a == attr)
            && let Some(value) = user.attributes.get(attr).cloned()
        {
            let norm = Self::user_key(pool, &value);
            guard = Some(
                self.guess_locks
                    .lock(format!("alias\u{0}{}\u{0}{attr}:{norm}", pool.id))
                    .await,
            );
            let mut holders = self.store.find_users(&pool.id, attr, &value).await?;
            if norm != value {
                holders.extend(self.store.find_users(&pool.id, attr, &norm).await?);
            }
            for mut other in holders {
                if other.username != user.username && other.is_verified(attr) {
                    if !force {
                        return Err(Error::new(
                            ErrorKind::AliasExistsException,
                            format!(
                                "An account with the {} already exists.",
                                if attr == "email" { "email" } else { "phone number" }
                            ),
                        ));
                    }
                    other.attributes.insert(format!("{attr}_verified"), "false".into());
                    self.save_user(pool, &mut other).await?;
                }
            }
        }
        user.attributes.insert(format!("{attr}_verified"), "true".into());
        Ok(guard)
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
        let mut request = Map::new();
        request.insert(
            "userAttributes".into(),
            Value::Object(user_attributes_for_trigger(pool, user)),
        );
        if let Some(md) = client_metadata {
            request.insert("clientMetadata".into(), Value::Object(md));
        }
        self.run_trigger(
            pool,
            "PostConfirmation",
            source,
            "1",
            &user.username,
            client_id,
            ctx,
            request,
            json!({}),
        )
        .await?;
        Ok(())
    }

    pub async fn sign_up(&self, req: Request, ctx: &CallContext) -> Result<Value> {
        let client_id = req.str("ClientId")?;
        let given = req.str("Username")?;
        let (client, pool) = self.client_and_pool(&client_id).await?;
        self.check_secret_hash(&client, &given, req.opt_str("SecretHash")?.as_deref())?;
        check_username(&given)?;
        if pool
            .setting("AdminCreateUserConfig")
            .and_then(|a| a.get("AllowAdminCreateUserOnly"))
            .and_then(Value::as_bool)
            == Some(true)
        {
            return Err(Error::not_authorized("SignUp is not permitted for this user pool"));
        }
        let password = req.opt_str("Password")?.ok_or_else(|| Error::missing("password"))?;
        let submitted = req.attribute_list("UserAttributes")?.unwrap_or_default();
        let mut attrs = validate_attributes(&pool, &submitted, false)?;
        check_writable(&client, attrs.keys().cloned())?;
        let username = self.username_for_new_user(&pool, &given, &mut attrs)?;
        check_password(&pool, &password)?;
        check_required(&pool, &attrs)?;
        let mut unique = self.check_user_unique(&pool, &username, &attrs).await?;
        let client_metadata = metadata(&req)?;

        // PreSignUp sees only what was submitted; it may confirm and verify.
        let mut request = Map::new();
        request.insert("userAttributes".into(), json!(attrs));
        request.insert(
            "validationData".into(),
            req.attribute_list("ValidationData")?
                .map(|l| json!(l.into_iter().collect::<BTreeMap<_, _>>()))
                .unwrap_or(Value::Null),
        );
        if let Some(md) = &client_metadata {
            request.insert("clientMetadata".into(), Value::Object(md.clone()));
        }
        let response = json!({"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false});
        let decision = self
            .run_trigger(
                &pool,
                "PreSignUp",
                "PreSignUp_SignUp",
                "1",
                &username,
                Some(&client_id),
                ctx,
                request,
                response,
            )
            .await?
            .unwrap_or_default();
        let flag = |k: &str| decision.get(k).and_then(Value::as_bool).unwrap_or(false);
        let auto_confirm = flag("autoConfirmUser");
        let mut user = self.new_user(
            &pool,
            username,
            attrs,
            if auto_confirm {
                UserStatus::Confirmed
            } else {
                UserStatus::Unconfirmed
            },
        );
        for (flag_name, attr) in [("autoVerifyEmail", "email"), ("autoVerifyPhone", "phone_number")] {
            if flag(flag_name) {
                if !user.attributes.contains_key(attr) {
                    return Err(Error::invalid_parameter(format!(
                        "The {attr} attribute is required to auto-verify it."
                    )));
                }
                unique.extend(self.verify_alias(&pool, &mut user, attr, true).await?);
            }
        }
        self.set_password(&pool, &mut user, &password).await?;

        let mut message = None;
        let mut details = None;
        if !auto_confirm && let Some((channel, to)) = verification_channel(&pool, &user) {
            let code = self.new_code(&mut user, CodePurpose::SignUp, SIGN_UP_CODE_TTL_MS);
            details = Some(delivery_details(channel, &to));
            let out = Outgoing {
                kind: MessageKind::SignUp,
                channel,
                to,
                code,
                client_id: Some(&client_id),
                client_metadata: client_metadata.clone(),
            };
            message = Some(self.render_message(&pool, &user, out, ctx).await?);
        }
        match self
            .store
            .insert_user(&Self::user_key(&pool, &user.username), &user)
            .await
        {
            Ok(()) => {}
            Err(crate::store::StoreError::AlreadyExists) => {
                return Err(Error::new(ErrorKind::UsernameExistsException, "User already exists"));
            }
            Err(e) => return Err(e.into()),
        }
        drop(unique);
        if let Some(m) = message {
            self.deliver(m).await?;
        }
        if auto_confirm {
            self.post_confirmation(
                &pool,
                &user,
                "PostConfirmation_ConfirmSignUp",
                Some(&client_id),
                client_metadata,
                ctx,
            )
            .await?;
        }
        let mut out = json!({ "UserConfirmed": auto_confirm, "UserSub": user.sub });
        if let Some(d) = details {
            out["CodeDeliveryDetails"] = d;
        }
        Ok(out)
    }

    pub async fn confirm_sign_up(&self, req: Request, ctx: &CallContext) -> Result<Value> {
        let client_id = req.str("ClientId")?;
        let given = req.str("Username")?;
        let code = req.str("ConfirmationCode")?;
        let (client, pool) = self.client_and_pool(&client_id).await?;
        let Some(user) = self.find_user(&pool, &given).await? else {
            self.check_secret_hash(&client, &given, req.opt_str("SecretHash")?.as_deref())?;
            return Err(if client.prevent_user_existence_errors() {
                // Counted as for a user: a mismatch, and after 5 the attempt limit.
                self.ghost_code_check(&pool, &given, &CodePurpose::SignUp)
            } else {
                user_not_found_for_client()
            });
        };
        self.check_secret_hash_for_user(
            &client,
            &[&given, &user.username],
            req.opt_str("SecretHash")?.as_deref(),
        )?;
        if user.status != UserStatus::Unconfirmed {
            return Err(Error::not_authorized(format!(
                "User cannot be confirmed. Current status is {}",
                user.status.as_str()
            )));
        }
        let force = req.opt_bool("ForceAliasCreation")?.unwrap_or(false);
        let (guard, mut user) = self.check_code(&pool, &user, &CodePurpose::SignUp, &code).await?;
        let mut alias = None;
        if let Some((channel, _)) = verification_channel(&pool, &user) {
            alias = self.verify_alias(&pool, &mut user, channel.attribute(), force).await?;
        }
        user.status = UserStatus::Confirmed;
        self.save_user(&pool, &mut user).await?;
        drop((alias, guard));
        self.post_confirmation(
            &pool,
            &user,
            "PostConfirmation_ConfirmSignUp",
            Some(&client_id),
            metadata(&req)?,
            ctx,
        )
        .await?;
        Ok(json!({}))
    }

    /// Makes a code for `purpose`, renders its message, saves the user and sends the message:
    /// the tail of every operation that answers with CodeDeliveryDetails.
    #[allow(clippy::too_many_arguments)]
    async fn send_new_code(
        &self,
        pool: &UserPool,
        user: &mut User,
        (purpose, ttl_ms, kind): (CodePurpose, i64, MessageKind),
        (channel, to): (Channel, String),
        client_id: Option<&str>,
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<Value> {
        // Serialised per user, so that the requests are counted (see limits.rs).
        let guard = self.lock_user(pool, &user.username).await;
        *user = self.reload_user(pool, user).await?;
        self.note_code_request(user, &purpose)?;
        let carried = self.carried_attempts(user, &purpose, ttl_ms);
        let code = self.new_code(user, purpose.clone(), ttl_ms);
        if let Some(c) = user.codes.iter_mut().find(|c| c.purpose == purpose) {
            c.failed_attempts = carried;
        }
        let details = delivery_details(channel, &to);
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
        Ok(json!({ "CodeDeliveryDetails": details }))
    }

    pub async fn resend_confirmation_code(&self, req: Request, ctx: &CallContext) -> Result<Value> {
        let client_id = req.str("ClientId")?;
        let given = req.str("Username")?;
        let (client, pool) = self.client_and_pool(&client_id).await?;
        let Some(mut user) = self.find_user(&pool, &given).await? else {
            self.check_secret_hash(&client, &given, req.opt_str("SecretHash")?.as_deref())?;
            if client.prevent_user_existence_errors() {
                // Answered as for an unconfirmed user: a plausible destination, and the same
                // limit on requests.
                let auto = pool.auto_verified_attributes();
                if auto.is_empty() {
                    return Err(Error::invalid_parameter(
                        "Cannot resend codes. Auto verification not turned on.",
                    ));
                }
                self.ghost_code_request(&pool, &given, &CodePurpose::SignUp)?;
                let sms = auto.iter().any(|a| a == "phone_number") && !auto.iter().any(|a| a == "email");
                let details = self.stand_in_delivery(&pool, &given, sms).await?;
                return Ok(json!({ "CodeDeliveryDetails": details }));
            }
            return Err(user_not_found_for_client());
        };
        self.check_secret_hash_for_user(
            &client,
            &[&given, &user.username],
            req.opt_str("SecretHash")?.as_deref(),
        )?;
        if user.status != UserStatus::Unconfirmed {
            return Err(Error::invalid_parameter("User is already confirmed."));
        }
        let Some((channel, to)) = verification_channel(&pool, &user) else {
            return Err(Error::invalid_parameter(
                "Cannot resend codes. Auto verification not turned on.",
            ));
        };
        let code = (CodePurpose::SignUp, SIGN_UP_CODE_TTL_MS, MessageKind::ResendCode);
        self.send_new_code(
            &pool,
            &mut user,
            code,
            (channel, to),
            Some(&client_id),
            metadata(&req)?,
            ctx,
        )
        .await
    }

    pub async fn forgot_password(&self, req: Request, ctx: &CallContext) -> Result<Value> {
        let client_id = req.str("ClientId")?;
        let given = req.str("Username")?;
        let (client, pool) = self.client_and_pool(&client_id).await?;
        let found = match self.find_user(&pool, &given).await? {
            Some(u) => Some(u),
            None => {
                self.check_secret_hash(&client, &given, req.opt_str("SecretHash")?.as_deref())?;
                self.migrate_user_on_forgot_password(&pool, &client_id, &given, metadata(&req)?, ctx)
                    .await?
            }
        };
        let Some(mut user) = found else {
            if client.prevent_user_existence_errors() {
                // Indistinguishable from a real delivery: a destination stable per name, and the
                // same limit on requests.
                self.ghost_code_request(&pool, &given, &CodePurpose::ForgotPassword)?;
                let details = self.stand_in_delivery(&pool, &given, false).await?;
                return Ok(json!({ "CodeDeliveryDetails": details }));
            }
            return Err(user_not_found_for_client());
        };
        self.check_secret_hash_for_user(
            &client,
            &[&given, &user.username],
            req.opt_str("SecretHash")?.as_deref(),
        )?;
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        let Some((channel, to)) = recovery_channel(&pool, &user) else {
            return Err(Error::invalid_parameter(
                "Cannot reset password for the user as there is no registered/verified email or phone_number",
            ));
        };
        let code = (
            CodePurpose::ForgotPassword,
            RESET_CODE_TTL_MS,
            MessageKind::ForgotPassword,
        );
        self.send_new_code(
            &pool,
            &mut user,
            code,
            (channel, to),
            Some(&client_id),
            metadata(&req)?,
            ctx,
        )
        .await
    }

    pub async fn confirm_forgot_password(&self, req: Request, ctx: &CallContext) -> Result<Value> {
        let client_id = req.str("ClientId")?;
        let given = req.str("Username")?;
        let code = req.str("ConfirmationCode")?;
        let password = req.str("Password")?;
        let (client, pool) = self.client_and_pool(&client_id).await?;
        let Some(user) = self.find_user(&pool, &given).await? else {
            self.check_secret_hash(&client, &given, req.opt_str("SecretHash")?.as_deref())?;
            return Err(if client.prevent_user_existence_errors() {
                self.ghost_code_check(&pool, &given, &CodePurpose::ForgotPassword)
            } else {
                user_not_found_for_client()
            });
        };
        self.check_secret_hash_for_user(
            &client,
            &[&given, &user.username],
            req.opt_str("SecretHash")?.as_deref(),
        )?;
        check_password(&pool, &password)?;
        let (guard, mut user) = self
            .check_code(&pool, &user, &CodePurpose::ForgotPassword, &code)
            .await?;
        self.set_password(&pool, &mut user, &password).await?;
        user.password_changed_ms = self.now_ms();
        if matches!(user.status, UserStatus::ResetRequired | UserStatus::ForceChangePassword) {
            user.status = UserStatus::Confirmed;
        }
        self.save_user(&pool, &mut user).await?;
        drop(guard);
        self.post_confirmation(
            &pool,
            &user,
            "PostConfirmation_ConfirmForgotPassword",
            Some(&client_id),
            metadata(&req)?,
            ctx,
        )
        .await?;
        Ok(json!({}))
    }

    pub async fn change_password(&self, req: Request) -> Result<Value> {
        let token = req.str("AccessToken")?;
        let proposed = req.str("ProposedPassword")?;
        let previous = req.opt_str("PreviousPassword")?;
        let auth = self.authenticate_access_token(&token).await?;
        let pool = auth.pool;
        let Some(previous) = previous else {
            return Err(Error::incorrect_credentials());
        };
        // Wrong previous passwords count towards the user's lockout, as sign-in failures do;
        // while locked out, ChangePassword answers as Cognito's does (LimitExceededException).
        let mut user = self
            .guarded_password_check(&pool, &auth.user, &previous, crate::ops::limits::attempt_limit_exceeded)
            .await?;
        check_password(&pool, &proposed)?;
        self.set_password(&pool, &mut user, &proposed).await?;
        user.password_changed_ms = self.now_ms();
        self.save_user(&pool, &mut user).await?;
        Ok(json!({}))
    }

    pub async fn get_user(&self, req: Request) -> Result<Value> {
        let auth = self.authenticate_access_token(&req.str("AccessToken")?).await?;
        let client = self.store.get_client(&auth.client_id).await?;
        let mut out = json!({
            "Username": auth.user.username,
            "UserAttributes": attribute_list(&auth.user, client.as_ref(), None),
        });
        if let Value::Object(o) = &mut out {
            o.extend(crate::ops::mfa::mfa_fields(&auth.user));
        }
        Ok(out)
    }

    /// Applies attribute changes; changed email/phone numbers lose their verification and,
    /// when auto-verified, get a code. Returns the deliveries to make.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn change_attributes(
        &self,
        pool: &UserPool,
        user: &mut User,
        changes: BTreeMap<String, String>,
        admin: bool,
        client_id: Option<&str>,
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<(Vec<Value>, Vec<Delivery>)> {
        let require_before: Vec<String> = pool
            .setting("UserAttributeUpdateSettings")
            .and_then(|u| u.get("AttributesRequireVerificationBeforeUpdate"))
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        let auto = pool.auto_verified_attributes();
        let mut deliveries = Vec::new();
        let mut messages = Vec::new();
        // Username attributes must stay unique.
        for attr in pool.username_attributes() {
            if let Some(v) = changes.get(&attr) {
                let taken = self
                    .store
                    .find_users(&pool.id, &attr, v)
                    .await?
                    .into_iter()
                    .any(|u| u.username != user.username);
                if taken {
                    return Err(Error::new(
                        ErrorKind::AliasExistsException,
                        format!("An account with the given {attr} already exists."),
                    ));
                }
            }
        }
        for (name, value) in &changes {
            let contact = name == "email" || name == "phone_number";
            let verified_given = changes.get(&format!("{name}_verified")).map(String::as_str);
            let unchanged = user.attributes.get(name) == Some(value);
            if contact
                && !unchanged
                && verified_given != Some("true")
                && require_before.contains(name)
                && user.attributes.contains_key(name)
                && auto.contains(name)
            {
                // Keep the old value until the new one is verified.
                user.pending_attributes.insert(name.clone(), value.clone());
                continue;
            }
            user.attributes.insert(name.clone(), value.clone());
            if contact && !unchanged && verified_given.is_none() {
                user.attributes.insert(format!("{name}_verified"), "false".into());
            }
        }
        for (name, channel) in [("email", Channel::Email), ("phone_number", Channel::Sms)] {
            let Some(value) = changes.get(name) else { continue };
            let verified_given = changes.get(&format!("{name}_verified")).map(String::as_str);
            if verified_given == Some("true") {
                if admin {
                    self.verify_alias(pool, user, name, false).await?;
                }
                continue;
            }
            let pending = user.pending_attributes.get(name) == Some(value);
            let now_unverified = user.attributes.get(name) == Some(value) && !user.is_verified(name);
            if auto.iter().any(|a| a == name) && (pending || now_unverified) {
                let code = self.new_code(
                    user,
                    CodePurpose::VerifyAttribute(name.to_owned()),
                    ATTRIBUTE_CODE_TTL_MS,
                );
                let out = Outgoing {
                    kind: MessageKind::UpdateUserAttribute,
                    channel,
                    to: value.clone(),
                    code,
                    client_id,
                    client_metadata: client_metadata.clone(),
                };
                messages.push(self.render_message(pool, user, out, ctx).await?);
                deliveries.push(delivery_details(channel, value));
            }
        }
        Ok((deliveries, messages))
    }

    pub async fn update_user_attributes(&self, req: Request, ctx: &CallContext) -> Result<Value> {
        let token = req.str("AccessToken")?;
        let list = req
            .attribute_list("UserAttributes")?
            .ok_or_else(|| Error::missing("userAttributes"))?;
        let auth = self.authenticate_access_token(&token).await?;
        let (pool, mut user) = (auth.pool, auth.user);
        let client = self.store.get_client(&auth.client_id).await?;
        let changes = validate_attributes(&pool, &list, false)?;
        if let Some(c) = &client {
            check_writable(c, changes.keys().cloned())?;
        }
        check_mutable(&pool, changes.keys().cloned())?;
        let (deliveries, messages) = self
            .change_attributes(
                &pool,
                &mut user,
                changes,
                false,
                Some(&auth.client_id),
                metadata(&req)?,
                ctx,
            )
            .await?;
        self.save_user(&pool, &mut user).await?;
        for m in messages {
            self.deliver(m).await?;
        }
        Ok(json!({ "CodeDeliveryDetailsList": deliveries }))
    }

    pub async fn delete_user_attributes(&self, req: Request) -> Result<Value> {
        let token = req.str("AccessToken")?;
        let names = req
            .opt_str_list("UserAttributeNames")?
            .ok_or_else(|| Error::missing("userAttributeNames"))?;
        let auth = self.authenticate_access_token(&token).await?;
        let (pool, mut user) = (auth.pool, auth.user);
        if let Some(c) = self.store.get_client(&auth.client_id).await? {
            check_writable(&c, names.iter().cloned())?;
        }
        remove_attributes(&pool, &mut user, &names)?;
        self.save_user(&pool, &mut user).await?;
        Ok(json!({}))
    }

    pub async fn delete_user(&self, req: Request) -> Result<Value> {
        let auth = self.authenticate_access_token(&req.str("AccessToken")?).await?;
        self.remove_user(&auth.pool, &auth.user).await?;
        Ok(json!({}))
    }

    pub(crate) async fn remove_user(&self, pool: &UserPool, user: &User) -> Result<()> {
        self.store.revoke_user_sessions(&pool.id, &user.username).await?;
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

    pub async fn get_user_attribute_verification_code(&self, req: Request, ctx: &CallContext) -> Result<Value> {
        let token = req.str("AccessToken")?;
        let name = req.str("AttributeName")?;
        let auth = self.authenticate_access_token(&token).await?;
        let (pool, mut user) = (auth.pool, auth.user);
        let channel = match name.as_str() {
            "email" => Channel::Email,
            "phone_number" => Channel::Sms,
            _ => {
                return Err(Error::invalid_parameter(
                    "Invalid attribute name; only email and phone_number can be verified.",
                ));
            }
        };
        let to = user
            .pending_attributes
            .get(&name)
            .or_else(|| user.attributes.get(&name))
            .cloned()
            .ok_or_else(|| Error::invalid_parameter(format!("Attribute {name} is not set for the user.")))?;
        let code = (
            CodePurpose::VerifyAttribute(name.clone()),
            ATTRIBUTE_CODE_TTL_MS,
            MessageKind::VerifyUserAttribute,
        );
        self.send_new_code(
            &pool,
            &mut user,
            code,
            (channel, to),
            Some(&auth.client_id),
            metadata(&req)?,
            ctx,
        )
        .await
    }

    pub async fn verify_user_attribute(&self, req: Request) -> Result<Value> {
        let token = req.str("AccessToken")?;
        let name = req.str("AttributeName")?;
        let code = req.str("Code")?;
        let auth = self.authenticate_access_token(&token).await?;
        let pool = auth.pool;
        let (guard, mut user) = self
            .check_code(&pool, &auth.user, &CodePurpose::VerifyAttribute(name.clone()), &code)
            .await?;
        if let Some(v) = user.pending_attributes.remove(&name) {
            user.attributes.insert(name.clone(), v);
        }
        let alias = self.verify_alias(&pool, &mut user, &name, false).await?;
        self.save_user(&pool, &mut user).await?;
        drop((alias, guard));
        Ok(json!({}))
    }

    pub async fn global_sign_out(&self, req: Request) -> Result<Value> {
        let auth = self.authenticate_access_token(&req.str("AccessToken")?).await?;
        self.store
            .revoke_user_sessions(&auth.pool.id, &auth.user.username)
            .await?;
        Ok(json!({}))
    }

    pub async fn revoke_token(&self, req: Request) -> Result<Value> {
        let token = req.str("Token")?;
        let client_id = req.str("ClientId")?;
        let client = self.client(&client_id).await?;
        if let Some(secret) = &client.secret {
            let given = req.opt_str("ClientSecret")?.unwrap_or_default();
            if !cognate_crypto::ct_eq(given.as_bytes(), secret.as_bytes()) {
                return Err(Error::new(ErrorKind::UnauthorizedException, "Invalid client secret."));
            }
        }
        if !client.token_revocation_enabled() {
            return Err(Error::new(
                ErrorKind::UnsupportedOperationException,
                "Token revocation is not enabled for this client.",
            ));
        }
        if token.split('.').count() == 3 {
            return Err(Error::new(
                ErrorKind::UnsupportedTokenTypeException,
                "Only refresh tokens can be revoked.",
            ));
        }
        let digest = crate::tokens::refresh_digest(&token);
        if let Some(mut session) = self.store.find_token_session(&client.pool_id, &digest).await? {
            if session.client_id != client_id {
                return Err(Error::new(
                    ErrorKind::UnauthorizedException,
                    "The token was not issued to this client.",
                ));
            }
            session.revoked = true;
            self.store.put_token_session(&session).await?;
        }
        Ok(json!({}))
    }
}

/// The name of the secret that claims a username attribute's (normalised) value.
fn unique_claim(attr: &str, normalised: &str) -> String {
    format!("unique/{attr}:{normalised}")
}

/// Removes attributes, refusing required and immutable ones.
pub(crate) fn remove_attributes(pool: &UserPool, user: &mut User, names: &[String]) -> Result<()> {
    for name in names {
        let def = pool.schema_attribute(name).ok_or_else(|| {
            Error::invalid_parameter(format!(
                "Attributes did not conform to the schema: {name}: Attribute does not exist in the schema."
            ))
        })?;
        if def.get("Required").and_then(Value::as_bool) == Some(true) || name == "sub" {
            return Err(Error::invalid_parameter(format!(
                "Cannot delete required attribute: {name}"
            )));
        }
        if def.get("Mutable").and_then(Value::as_bool) == Some(false) {
            return Err(Error::invalid_parameter(format!(
                "Cannot modify the non-mutable attribute {name}"
            )));
        }
    }
    for name in names {
        user.attributes.remove(name);
        user.pending_attributes.remove(name);
        if name == "email" || name == "phone_number" {
            user.attributes.remove(&format!("{name}_verified"));
        }
    }
    Ok(())
}
