//! Multi-factor authentication: the pool's MfaConfiguration (OFF / ON / OPTIONAL), the user's
//! factors (SMS, software token, email), the operations that enrol them
//! (AssociateSoftwareToken, VerifySoftwareToken, Set/AdminSetUserMFAPreference) and the
//! challenges that follow the first factor of every sign-in: SOFTWARE_TOKEN_MFA, SMS_MFA,
//! EMAIL_OTP, SELECT_MFA_TYPE and MFA_SETUP.
//!
//! Per-user state lives in `User.extra`: the software token secret (sealed), its pending
//! replacement between association and verification, the last accepted TOTP step (a code is
//! accepted once per step), the enabled factors and the preferred one.
use crate::error::{Error, ErrorKind, Result};
use crate::messages::{Channel, MessageKind, Outgoing, mask_destination};
use crate::model::*;
use crate::request::Request;
use crate::rng::RandomExt;
use crate::service::{CallContext, Cognito};
use crate::tokens::TokenSource;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cognate_crypto::totp;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The purpose an SMS or email MFA code is bound to in its stored MAC.
const MFA_CODE_PURPOSE: &str = "Authentication";

const TOTP_SECRET: &str = "mfa_totp_secret";
const TOTP_PENDING: &str = "mfa_totp_pending";
const TOTP_LAST_STEP: &str = "mfa_totp_last_step";
const TOTP_DEVICE: &str = "mfa_totp_device_name";
const PREFERRED: &str = "mfa_preferred";
/// Wrong answers one MFA challenge session accepts before it is dropped.
const MAX_CODE_ATTEMPTS: i64 = 5;

fn expired_session() -> Error {
    Error::not_authorized("Invalid session for the user, session is expired.")
}

/// An MFA factor, named as Cognito's challenges name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Factor {
    Sms,
    Totp,
    Email,
}

impl Factor {
    const ALL: [Factor; 3] = [Factor::Sms, Factor::Totp, Factor::Email];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Factor::Sms => "SMS_MFA",
            Factor::Totp => "SOFTWARE_TOKEN_MFA",
            Factor::Email => "EMAIL_OTP",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Factor::ALL.into_iter().find(|f| f.name() == s)
    }

    fn enabled_key(self) -> &'static str {
        match self {
            Factor::Sms => "mfa_sms_enabled",
            Factor::Totp => "mfa_totp_enabled",
            Factor::Email => "mfa_email_enabled",
        }
    }

    /// The member of Set(Admin)UserMFAPreference that configures this factor.
    fn settings_member(self) -> &'static str {
        match self {
            Factor::Sms => "SMSMfaSettings",
            Factor::Totp => "SoftwareTokenMfaSettings",
            Factor::Email => "EmailMfaSettings",
        }
    }

    fn response_key(self) -> &'static str {
        match self {
            Factor::Sms => "SMS_MFA_CODE",
            Factor::Totp => "SOFTWARE_TOKEN_MFA_CODE",
            Factor::Email => "EMAIL_OTP_CODE",
        }
    }
}

/// The pool's MfaConfiguration.
pub(crate) fn mfa_mode(pool: &UserPool) -> &str {
    pool.setting("MfaConfiguration")
        .and_then(Value::as_str)
        .unwrap_or("OFF")
}

fn totp_allowed(pool: &UserPool) -> bool {
    pool.setting("SoftwareTokenMfaConfiguration")
        .and_then(|c| c.get("Enabled"))
        .and_then(Value::as_bool)
        == Some(true)
}

/// The factors the pool offers. SMS needs an SMS configuration, except in a pool that turned
/// MFA on without configuring anything else (CreateUserPool's MfaConfiguration alone).
pub(crate) fn pool_factors(pool: &UserPool) -> Vec<Factor> {
    let totp = totp_allowed(pool);
    let email = pool.setting("EmailMfaConfiguration").is_some();
    let sms = pool.setting("SmsMfaConfiguration").is_some()
        || pool.setting("SmsConfiguration").is_some()
        || (!totp && !email);
    let mut out = Vec::new();
    if sms {
        out.push(Factor::Sms);
    }
    if totp {
        out.push(Factor::Totp);
    }
    if email {
        out.push(Factor::Email);
    }
    out
}

/// Whether the user has what a factor needs: a phone number, a verified token, an email.
fn usable(user: &User, f: Factor) -> bool {
    match f {
        Factor::Sms => user.attributes.contains_key("phone_number"),
        Factor::Totp => user.extra.contains_key(TOTP_SECRET),
        Factor::Email => user.attributes.contains_key("email"),
    }
}

fn enabled(user: &User, f: Factor) -> bool {
    user.extra.get(f.enabled_key()).and_then(Value::as_bool) == Some(true)
}

fn preferred(user: &User) -> Option<Factor> {
    user.extra
        .get(PREFERRED)
        .and_then(Value::as_str)
        .and_then(Factor::parse)
}

/// GetUser / AdminGetUser members: UserMFASettingList, PreferredMfaSetting and (for SMS) the
/// legacy MFAOptions.
pub(crate) fn mfa_fields(user: &User) -> Map<String, Value> {
    let mut out = Map::new();
    let list: Vec<&str> = Factor::ALL
        .into_iter()
        .filter(|f| enabled(user, *f))
        .map(Factor::name)
        .collect();
    if !list.is_empty() {
        out.insert("UserMFASettingList".into(), json!(list));
    }
    if let Some(p) = preferred(user) {
        out.insert("PreferredMfaSetting".into(), json!(p.name()));
    }
    if enabled(user, Factor::Sms) {
        out.insert(
            "MFAOptions".into(),
            json!([{"DeliveryMedium": "SMS", "AttributeName": "phone_number"}]),
        );
    }
    out
}

fn source_name(source: TokenSource) -> &'static str {
    match source {
        TokenSource::NewPasswordChallenge => "NewPasswordChallenge",
        _ => "Authentication",
    }
}

fn source_of(session: &ChallengeSession) -> TokenSource {
    match session.data.get("source").and_then(Value::as_str) {
        Some("NewPasswordChallenge") => TokenSource::NewPasswordChallenge,
        _ => TokenSource::Authentication,
    }
}

fn json_list(factors: &[Factor]) -> String {
    serde_json::to_string(&factors.iter().map(|f| f.name()).collect::<Vec<_>>()).expect("json")
}

fn factors_in(session: &ChallengeSession, key: &str) -> Vec<Factor> {
    session
        .data
        .get(key)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).filter_map(Factor::parse).collect())
        .unwrap_or_default()
}

impl Cognito {
    fn seal_totp(&self, pool: &UserPool, user: &User, secret: &str) -> String {
        let context = format!("{}/{}/totp", pool.id, user.username);
        STANDARD.encode(self.sealer.seal(secret.as_bytes(), context.as_bytes(), self.nonce()))
    }

    fn open_totp(&self, pool: &UserPool, user: &User, key: &str) -> Option<String> {
        let sealed = STANDARD.decode(user.extra.get(key)?.as_str()?).ok()?;
        let context = format!("{}/{}/totp", pool.id, user.username);
        let plain = self.sealer.open(&sealed, context.as_bytes()).ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }

    /// Checks a TOTP code against `secret`: ±1 step, and never a step at or before the last
    /// one accepted. Returns the step to record.
    fn check_totp(&self, user: &User, secret: &str, code: &str) -> Option<u64> {
        let now = u64::try_from(self.clock.now_secs()).unwrap_or(0);
        let step = totp::verify(secret, code.trim(), now, totp::DEFAULT_WINDOW)?;
        let last = user.extra.get(TOTP_LAST_STEP).and_then(Value::as_u64);
        match last {
            Some(l) if step <= l => None,
            _ => Some(step),
        }
    }

    /// What follows a correct first factor: tokens, or the MFA challenge the pool and the
    /// user call for.
    pub(crate) async fn after_first_factor(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        source: TokenSource,
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<Value> {
        let mode = mfa_mode(pool);
        if mode == "OFF" {
            return self
                .complete_sign_in(pool, client, user, source, client_metadata, ctx)
                .await;
        }
        let offered = pool_factors(pool);
        let mut factors: Vec<Factor> = offered
            .iter()
            .copied()
            .filter(|f| enabled(user, *f) && usable(user, *f))
            .collect();
        if factors.is_empty() {
            if mode != "ON" {
                return self
                    .complete_sign_in(pool, client, user, source, client_metadata, ctx)
                    .await;
            }
            // MFA is required: a verified token, or else a phone number, is used as it is.
            if offered.contains(&Factor::Totp) && usable(user, Factor::Totp) {
                factors.push(Factor::Totp);
            } else if offered.contains(&Factor::Sms) && usable(user, Factor::Sms) {
                factors.push(Factor::Sms);
            } else {
                return self.mfa_setup_challenge(pool, client, user, source, &offered).await;
            }
        }
        let chosen = match preferred(user) {
            Some(p) if factors.contains(&p) => Some(p),
            _ if factors.len() == 1 => Some(factors[0]),
            _ => None,
        };
        let mut data = Map::new();
        data.insert("source".into(), json!(source_name(source)));
        match chosen {
            Some(f) => {
                self.mfa_challenge(pool, client, user, f, data, client_metadata, ctx)
                    .await
            }
            None => {
                data.insert(
                    "choices".into(),
                    json!(factors.iter().map(|f| f.name()).collect::<Vec<_>>()),
                );
                let session = self
                    .start_challenge(pool, client, user, "SELECT_MFA_TYPE", data)
                    .await?;
                Ok(json!({
                    "ChallengeName": "SELECT_MFA_TYPE",
                    "Session": session,
                    "ChallengeParameters": {
                        "MFAS_CAN_CHOOSE": json_list(&factors),
                        "USER_ID_FOR_SRP": user.username,
                    }
                }))
            }
        }
    }

    async fn mfa_setup_challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        source: TokenSource,
        offered: &[Factor],
    ) -> Result<Value> {
        let mut data = Map::new();
        data.insert("source".into(), json!(source_name(source)));
        let session = self.start_challenge(pool, client, user, "MFA_SETUP", data).await?;
        Ok(json!({
            "ChallengeName": "MFA_SETUP",
            "Session": session,
            "ChallengeParameters": {
                "MFAS_CAN_SETUP": json_list(offered),
                "USER_ID_FOR_SRP": user.username,
            }
        }))
    }

    /// Issues the challenge for one factor; SMS and email codes are sent now and kept (as a
    /// digest) in the challenge session.
    #[allow(clippy::too_many_arguments)]
    async fn mfa_challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        factor: Factor,
        mut data: Map<String, Value>,
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<Value> {
        let mut params = Map::new();
        params.insert("USER_ID_FOR_SRP".into(), json!(user.username));
        let channel = match factor {
            Factor::Totp => None,
            Factor::Sms => Some(Channel::Sms),
            Factor::Email => Some(Channel::Email),
        };
        if let Some(channel) = channel {
            let to = user.attributes.get(channel.attribute()).cloned().ok_or_else(|| {
                Error::new(
                    ErrorKind::MFAMethodNotFoundException,
                    "No MFA mechanism registered in the account.",
                )
            })?;
            let code = self.random.digits(6);
            let out = Outgoing {
                kind: MessageKind::Authentication,
                channel,
                to: to.clone(),
                code: code.clone(),
                client_id: Some(&client.client_id),
                client_metadata,
            };
            self.send_message(pool, user, out, ctx).await?;
            let digest = self.code_digest(&pool.id, &user.username, MFA_CODE_PURPOSE, &code);
            data.insert("code".into(), json!(digest));
            let medium = if channel == Channel::Sms { "SMS" } else { "EMAIL" };
            params.insert("CODE_DELIVERY_DELIVERY_MEDIUM".into(), json!(medium));
            params.insert(
                "CODE_DELIVERY_DESTINATION".into(),
                json!(mask_destination(channel, &to)),
            );
        }
        data.remove("choices");
        data.remove("attempts");
        let session = self.start_challenge(pool, client, user, factor.name(), data).await?;
        Ok(json!({ "ChallengeName": factor.name(), "Session": session, "ChallengeParameters": params }))
    }

    /// Puts a challenge back after a wrong answer, until it has had too many.
    async fn wrong_answer(&self, mut session: ChallengeSession, error: Error) -> Result<Value> {
        let attempts = session.data.get("attempts").and_then(Value::as_i64).unwrap_or(0) + 1;
        if attempts < MAX_CODE_ATTEMPTS {
            session.data.insert("attempts".into(), json!(attempts));
            self.store.put_challenge(&session).await?;
        }
        Err(error)
    }

    /// Answers SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP, SELECT_MFA_TYPE and MFA_SETUP.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn answer_mfa(
        &self,
        pool: &UserPool,
        client: &AppClient,
        session: ChallengeSession,
        mut user: User,
        responses: &BTreeMap<String, String>,
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<Value> {
        let source = source_of(&session);
        if session.challenge == "SELECT_MFA_TYPE" {
            let answer = responses.get("ANSWER").ok_or_else(|| Error::missing("ANSWER"))?;
            let choices = factors_in(&session, "choices");
            let Some(f) = Factor::parse(answer).filter(|f| choices.contains(f)) else {
                return Err(Error::invalid_parameter(format!("Invalid MFA type {answer}.")));
            };
            return self
                .mfa_challenge(pool, client, &user, f, session.data.clone(), client_metadata, ctx)
                .await;
        }
        if session.challenge == "MFA_SETUP" {
            if session.data.get("totpVerified").and_then(Value::as_bool) != Some(true) {
                return Err(Error::invalid_parameter(
                    "Software token MFA has not been set up for the user: call AssociateSoftwareToken and VerifySoftwareToken with the session first.",
                ));
            }
            return self
                .complete_sign_in(pool, client, &user, source, client_metadata, ctx)
                .await;
        }
        let factor = Factor::parse(&session.challenge).ok_or_else(|| Error::internal("not an MFA challenge"))?;
        let code = responses
            .get(factor.response_key())
            .ok_or_else(|| Error::invalid_parameter(format!("Missing required parameter {}", factor.response_key())))?;
        match factor {
            Factor::Totp => {
                let step = self
                    .open_totp(pool, &user, TOTP_SECRET)
                    .and_then(|secret| self.check_totp(&user, &secret, code));
                let Some(step) = step else {
                    return self
                        .wrong_answer(
                            session,
                            Error::new(ErrorKind::CodeMismatchException, "Invalid code received for user"),
                        )
                        .await;
                };
                user.extra.insert(TOTP_LAST_STEP.into(), json!(step));
                self.save_user_quietly(pool, &mut user).await?;
            }
            Factor::Sms | Factor::Email => {
                let expected = session.data.get("code").and_then(Value::as_str).unwrap_or_default();
                let digest = self.code_digest(&session.pool_id, &session.username, MFA_CODE_PURPOSE, code);
                if !cognate_crypto::ct_eq(digest.as_bytes(), expected.as_bytes()) {
                    return self
                        .wrong_answer(
                            session,
                            Error::new(
                                ErrorKind::CodeMismatchException,
                                "Invalid code or auth state for the user.",
                            ),
                        )
                        .await;
                }
            }
        }
        self.complete_sign_in(pool, client, &user, source, client_metadata, ctx)
            .await
    }

    /// Takes an MFA_SETUP session named by AssociateSoftwareToken / VerifySoftwareToken.
    async fn take_setup_session(&self, id: &str) -> Result<(UserPool, AppClient, User, ChallengeSession)> {
        let session = self.store.take_challenge(id).await?.ok_or_else(expired_session)?;
        if session.expires_ms <= self.now_ms() || session.challenge != "MFA_SETUP" {
            return Err(expired_session());
        }
        let pool = self.pool(&session.pool_id).await?;
        let client = self.client(&session.client_id).await?;
        let user = self
            .store
            .get_user(&pool.id, &Self::user_key(&pool, &session.username))
            .await?
            .ok_or_else(expired_session)?;
        Ok((pool, client, user, session))
    }

    pub async fn associate_software_token(&self, req: Request) -> Result<Value> {
        let token = req.opt_str("AccessToken")?;
        let session_id = req.opt_str("Session")?;
        let (pool, mut user, session) = match (token, session_id) {
            (Some(t), None) => {
                let auth = self.authenticate_access_token(&t).await?;
                (auth.pool, auth.user, None)
            }
            (None, Some(s)) => {
                let (pool, client, user, session) = self.take_setup_session(&s).await?;
                (pool, user, Some((client, session)))
            }
            _ => {
                return Err(Error::invalid_parameter(
                    "Exactly one of AccessToken or Session must be provided.",
                ));
            }
        };
        if !totp_allowed(&pool) {
            return Err(Error::new(
                ErrorKind::SoftwareTokenMFANotFoundException,
                "Software Token MFA is not enabled for the user pool.",
            ));
        }
        let secret = totp::generate_secret(&self.random.bytes::<{ totp::SECRET_LEN }>());
        let sealed = self.seal_totp(&pool, &user, &secret);
        user.extra.insert(TOTP_PENDING.into(), json!(sealed));
        self.save_user(&pool, &mut user).await?;
        let mut out = json!({ "SecretCode": secret });
        if let Some((client, session)) = session {
            let id = self
                .start_challenge(&pool, &client, &user, "MFA_SETUP", session.data)
                .await?;
            out["Session"] = json!(id);
        }
        Ok(out)
    }

    pub async fn verify_software_token(&self, req: Request) -> Result<Value> {
        let code = req.str("UserCode")?;
        let friendly = req.opt_str("FriendlyDeviceName")?;
        let token = req.opt_str("AccessToken")?;
        let session_id = req.opt_str("Session")?;
        let (pool, mut user, session) = match (token, session_id) {
            (Some(t), None) => {
                let auth = self.authenticate_access_token(&t).await?;
                (auth.pool, auth.user, None)
            }
            (None, Some(s)) => {
                let (pool, client, user, session) = self.take_setup_session(&s).await?;
                (pool, user, Some((client, session)))
            }
            _ => {
                return Err(Error::invalid_parameter(
                    "Exactly one of AccessToken or Session must be provided.",
                ));
            }
        };
        let Some(secret) = self.open_totp(&pool, &user, TOTP_PENDING) else {
            if let Some((_, s)) = session {
                self.store.put_challenge(&s).await?;
            }
            return Err(Error::new(
                ErrorKind::SoftwareTokenMFANotFoundException,
                "Software Token MFA has not been associated with the user: call AssociateSoftwareToken first.",
            ));
        };
        let Some(step) = self.check_totp(&user, &secret, &code) else {
            let error = Error::new(
                ErrorKind::EnableSoftwareTokenMFAException,
                "Code mismatch and fail enable Software Token MFA",
            );
            return match session {
                Some((_, s)) => self.wrong_answer(s, error).await,
                None => Err(error),
            };
        };
        let pending = user.extra.remove(TOTP_PENDING).expect("pending secret");
        user.extra.insert(TOTP_SECRET.into(), pending);
        user.extra.insert(TOTP_LAST_STEP.into(), json!(step));
        if let Some(name) = friendly {
            user.extra.insert(TOTP_DEVICE.into(), json!(name));
        }
        if session.is_some() {
            // Set up during sign-in (MFA_SETUP): the token becomes the user's MFA.
            user.extra.insert(Factor::Totp.enabled_key().into(), json!(true));
            user.extra.insert(PREFERRED.into(), json!(Factor::Totp.name()));
        }
        self.save_user(&pool, &mut user).await?;
        let mut out = json!({ "Status": "SUCCESS" });
        if let Some((client, mut session)) = session {
            session.data.insert("totpVerified".into(), json!(true));
            session.data.remove("attempts");
            let id = self
                .start_challenge(&pool, &client, &user, "MFA_SETUP", session.data)
                .await?;
            out["Session"] = json!(id);
        }
        Ok(out)
    }

    /// Applies SMSMfaSettings / SoftwareTokenMfaSettings / EmailMfaSettings.
    fn apply_mfa_preference(&self, user: &mut User, req: &Request) -> Result<()> {
        let mut changes = Vec::new();
        for f in Factor::ALL {
            let Some(s) = req.object(f.settings_member())? else {
                continue;
            };
            let flag = |k: &str| s.get(k).and_then(Value::as_bool).unwrap_or(false);
            let (on, pref) = (flag("Enabled"), flag("PreferredMfa"));
            if on && !usable(user, f) {
                return Err(Error::invalid_parameter(match f {
                    Factor::Totp => "User has not verified software token mfa",
                    Factor::Sms => "User does not have delivery config set to turn on SMS_MFA",
                    Factor::Email => "User does not have delivery config set to turn on EMAIL_OTP",
                }));
            }
            if pref && !on {
                return Err(Error::invalid_parameter(format!(
                    "{} cannot be the preferred MFA method while it is disabled.",
                    f.name()
                )));
            }
            changes.push((f, on, pref));
        }
        if changes.iter().filter(|(_, _, p)| *p).count() > 1 {
            return Err(Error::invalid_parameter("Only one MFA method can be preferred."));
        }
        for (f, on, pref) in changes {
            user.extra.insert(f.enabled_key().into(), json!(on));
            if pref {
                user.extra.insert(PREFERRED.into(), json!(f.name()));
            } else if preferred(user) == Some(f) {
                user.extra.remove(PREFERRED);
            }
        }
        Ok(())
    }

    pub async fn set_user_mfa_preference(&self, req: Request) -> Result<Value> {
        let auth = self.authenticate_access_token(&req.str("AccessToken")?).await?;
        let (pool, mut user) = (auth.pool, auth.user);
        self.apply_mfa_preference(&mut user, &req)?;
        self.save_user(&pool, &mut user).await?;
        Ok(json!({}))
    }

    pub async fn admin_set_user_mfa_preference(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let mut user = self.require_user(&pool, &req.str("Username")?).await?;
        self.apply_mfa_preference(&mut user, &req)?;
        self.save_user(&pool, &mut user).await?;
        Ok(json!({}))
    }
}
