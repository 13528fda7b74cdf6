//! The user's MFA factors (SMS, software token, email): what the pool offers
//! (MfaConfiguration OFF / ON / OPTIONAL), what the user has enabled and prefers, and the
//! software token secret. The settings operations are in `mfa_settings.rs`; the challenges
//! that follow the first factor of a sign-in are in `sign_in/mfa.rs`.
//!
//! Per-user state lives in `User.extra`: the software token secret (sealed), its pending
//! replacement between association and verification, the last accepted TOTP step (a code is
//! accepted once per step), the enabled factors and the preferred one.
use crate::model::*;
use crate::service::Cognito;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cognate_crypto::totp;
use serde_json::{Map, Value, json};

pub(crate) const TOTP_SECRET: &str = "mfa_totp_secret";
pub(crate) const TOTP_PENDING: &str = "mfa_totp_pending";
pub(crate) const TOTP_LAST_STEP: &str = "mfa_totp_last_step";
pub(crate) const TOTP_DEVICE: &str = "mfa_totp_device_name";
pub(crate) const PREFERRED: &str = "mfa_preferred";

/// An MFA factor, named as Cognito's challenges name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Factor {
    Sms,
    Totp,
    Email,
}

impl Factor {
    pub(crate) const ALL: [Factor; 3] = [Factor::Sms, Factor::Totp, Factor::Email];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Factor::Sms => "SMS_MFA",
            Factor::Totp => "SOFTWARE_TOKEN_MFA",
            Factor::Email => "EMAIL_OTP",
        }
    }

    pub(crate) fn parse(s: &str) -> Option<Self> {
        Factor::ALL.into_iter().find(|f| f.name() == s)
    }

    pub(crate) fn enabled_key(self) -> &'static str {
        match self {
            Factor::Sms => "mfa_sms_enabled",
            Factor::Totp => "mfa_totp_enabled",
            Factor::Email => "mfa_email_enabled",
        }
    }

    /// The member of Set(Admin)UserMFAPreference that configures this factor.
    pub(crate) fn settings_member(self) -> &'static str {
        match self {
            Factor::Sms => "SMSMfaSettings",
            Factor::Totp => "SoftwareTokenMfaSettings",
            Factor::Email => "EmailMfaSettings",
        }
    }

    pub(crate) fn response_key(self) -> &'static str {
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

pub(crate) fn totp_allowed(pool: &UserPool) -> bool {
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
pub(crate) fn usable(user: &User, f: Factor) -> bool {
    match f {
        Factor::Sms => user.attributes.contains_key("phone_number"),
        Factor::Totp => user.extra.contains_key(TOTP_SECRET),
        Factor::Email => user.attributes.contains_key("email"),
    }
}

pub(crate) fn enabled(user: &User, f: Factor) -> bool {
    user.extra.get(f.enabled_key()).and_then(Value::as_bool) == Some(true)
}

pub(crate) fn preferred(user: &User) -> Option<Factor> {
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

impl Cognito {
    pub(crate) fn seal_totp(&self, pool: &UserPool, user: &User, secret: &str) -> String {
        let context = format!("{}/{}/totp", pool.id, user.username);
        STANDARD.encode(self.sealer.seal(secret.as_bytes(), context.as_bytes(), self.nonce()))
    }

    pub(crate) fn open_totp(&self, pool: &UserPool, user: &User, key: &str) -> Option<String> {
        let sealed = STANDARD.decode(user.extra.get(key)?.as_str()?).ok()?;
        let context = format!("{}/{}/totp", pool.id, user.username);
        let plain = self.sealer.open(&sealed, context.as_bytes()).ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }

    /// Checks a TOTP code against `secret`: ±1 step, and never a step at or before the last
    /// one accepted. Returns the step to record.
    pub(crate) fn check_totp(&self, user: &User, secret: &str, code: &str) -> Option<u64> {
        let now = u64::try_from(self.clock.now_secs()).unwrap_or(0);
        let step = totp::verify(secret, code.trim(), now, totp::DEFAULT_WINDOW)?;
        let last = user.extra.get(TOTP_LAST_STEP).and_then(Value::as_u64);
        match last {
            Some(l) if step <= l => None,
            _ => Some(step),
        }
    }
}
