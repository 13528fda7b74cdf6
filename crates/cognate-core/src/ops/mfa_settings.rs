//! The MFA settings operations, self-service and admin side by side: AssociateSoftwareToken,
//! VerifySoftwareToken (with an access token, or with the Session of a sign-in's MFA_SETUP
//! challenge), SetUserMFAPreference and AdminSetUserMFAPreference.
use crate::error::{Error, ErrorKind, Result};
use crate::model::*;
use crate::ops::mfa::*;
use crate::ops::sign_in::challenge::expired_session;
use crate::ops::{Empty, Input};
use crate::request::Request;
use crate::rng::RandomExt;
use crate::service::Cognito;
use cognate_crypto::totp;
use serde::Serialize;
use serde_json::{Value, json};

// ---- inputs ------------------------------------------------------------------------------

/// AssociateSoftwareToken: exactly one of an access token or an MFA_SETUP session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssociateSoftwareTokenInput {
    pub access_token: Option<String>,
    pub session: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct VerifySoftwareTokenInput {
    pub user_code: String,
    pub friendly_device_name: Option<String>,
    pub access_token: Option<String>,
    pub session: Option<String>,
}

/// SMSMfaSettings, SoftwareTokenMfaSettings, EmailMfaSettings (a flag that is not a
/// boolean counts as false).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MfaSettings {
    pub enabled: bool,
    pub preferred_mfa: bool,
}

/// The settings of Set(Admin)UserMFAPreference, one per factor; `None` leaves it as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MfaPreferences {
    pub sms_mfa_settings: Option<MfaSettings>,
    pub software_token_mfa_settings: Option<MfaSettings>,
    pub email_mfa_settings: Option<MfaSettings>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SetUserMfaPreferenceInput {
    pub access_token: String,
    pub preferences: MfaPreferences,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminSetUserMfaPreferenceInput {
    pub user_pool_id: String,
    pub username: String,
    pub preferences: MfaPreferences,
}

impl MfaPreferences {
    fn decode(req: &Request) -> Result<Self> {
        let read = |f: Factor| -> Result<Option<MfaSettings>> {
            Ok(req.object(f.settings_member())?.map(|s| {
                let flag = |k: &str| s.get(k).and_then(Value::as_bool).unwrap_or(false);
                MfaSettings {
                    enabled: flag("Enabled"),
                    preferred_mfa: flag("PreferredMfa"),
                }
            }))
        };
        Ok(Self {
            sms_mfa_settings: read(Factor::Sms)?,
            software_token_mfa_settings: read(Factor::Totp)?,
            email_mfa_settings: read(Factor::Email)?,
        })
    }

    fn of(&self, f: Factor) -> Option<MfaSettings> {
        match f {
            Factor::Sms => self.sms_mfa_settings,
            Factor::Totp => self.software_token_mfa_settings,
            Factor::Email => self.email_mfa_settings,
        }
    }
}

impl Input for AssociateSoftwareTokenInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            access_token: req.opt_str("AccessToken")?,
            session: req.opt_str("Session")?,
        })
    }
}

impl Input for VerifySoftwareTokenInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_code: req.str("UserCode")?,
            friendly_device_name: req.opt_str("FriendlyDeviceName")?,
            access_token: req.opt_str("AccessToken")?,
            session: req.opt_str("Session")?,
        })
    }
}

impl Input for SetUserMfaPreferenceInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            access_token: req.str("AccessToken")?,
            preferences: MfaPreferences::decode(req)?,
        })
    }
}

impl Input for AdminSetUserMfaPreferenceInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            username: req.str("Username")?,
            preferences: MfaPreferences::decode(req)?,
        })
    }
}

// ---- outputs -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct AssociateSoftwareTokenOutput {
    pub secret_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct VerifySoftwareTokenOutput {
    /// Always "SUCCESS": a wrong code is an error.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
}

// ---- operations --------------------------------------------------------------------------

impl Cognito {
    /// Takes an MFA_SETUP session named by AssociateSoftwareToken / VerifySoftwareToken.
    /// The user of an AccessToken, or of a sign-in's MFA_SETUP Session (taken, with its client):
    /// exactly one of them must be given.
    async fn token_or_setup_session(
        &self,
        access_token: Option<String>,
        session: Option<String>,
    ) -> Result<(UserPool, User, Option<(AppClient, ChallengeSession)>)> {
        match (access_token, session) {
            (Some(t), None) => {
                let auth = self.authenticate_access_token(&t).await?;
                Ok((auth.pool, auth.user, None))
            }
            (None, Some(s)) => {
                let (pool, client, user, session) = self.take_setup_session(&s).await?;
                Ok((pool, user, Some((client, session))))
            }
            _ => Err(Error::invalid_parameter(
                "Exactly one of AccessToken or Session must be provided.",
            )),
        }
    }

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

    pub async fn associate_software_token(
        &self,
        input: AssociateSoftwareTokenInput,
    ) -> Result<AssociateSoftwareTokenOutput> {
        let (pool, mut user, session) = self.token_or_setup_session(input.access_token, input.session).await?;
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
        let mut out = AssociateSoftwareTokenOutput {
            secret_code: secret,
            session: None,
        };
        if let Some((client, session)) = session {
            let id = self
                .start_challenge(&pool, &client, &user, "MFA_SETUP", session.data)
                .await?;
            out.session = Some(id);
        }
        Ok(out)
    }

    pub async fn verify_software_token(&self, input: VerifySoftwareTokenInput) -> Result<VerifySoftwareTokenOutput> {
        let (code, friendly) = (input.user_code, input.friendly_device_name);
        let (pool, mut user, session) = self.token_or_setup_session(input.access_token, input.session).await?;
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
        let mut out = VerifySoftwareTokenOutput {
            status: "SUCCESS".into(),
            session: None,
        };
        if let Some((client, mut session)) = session {
            session.data.insert("totpVerified".into(), json!(true));
            session.data.remove("attempts");
            let id = self
                .start_challenge(&pool, &client, &user, "MFA_SETUP", session.data)
                .await?;
            out.session = Some(id);
        }
        Ok(out)
    }

    /// Applies SMSMfaSettings / SoftwareTokenMfaSettings / EmailMfaSettings.
    fn apply_mfa_preference(&self, user: &mut User, preferences: &MfaPreferences) -> Result<()> {
        let mut changes = Vec::new();
        for f in Factor::ALL {
            let Some(s) = preferences.of(f) else {
                continue;
            };
            let (on, pref) = (s.enabled, s.preferred_mfa);
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

    pub async fn set_user_mfa_preference(&self, input: SetUserMfaPreferenceInput) -> Result<Empty> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        let (pool, mut user) = (auth.pool, auth.user);
        self.apply_mfa_preference(&mut user, &input.preferences)?;
        self.save_user(&pool, &mut user).await?;
        Ok(Empty {})
    }

    pub async fn admin_set_user_mfa_preference(&self, input: AdminSetUserMfaPreferenceInput) -> Result<Empty> {
        let pool = self.pool(&input.user_pool_id).await?;
        let mut user = self.require_user(&pool, &input.username).await?;
        self.apply_mfa_preference(&mut user, &input.preferences)?;
        self.save_user(&pool, &mut user).await?;
        Ok(Empty {})
    }
}
