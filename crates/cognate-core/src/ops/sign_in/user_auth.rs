//! USER_AUTH, choice-based sign-in: the first factor the client prefers (PREFERRED_CHALLENGE),
//! or SELECT_CHALLENGE with the factors the pool allows and the user can use. PASSWORD and
//! PASSWORD_SRP go on as USER_PASSWORD_AUTH and USER_SRP_AUTH do (then MFA as the pool
//! requires); EMAIL_OTP and SMS_OTP send one code (`otp.rs`); WEB_AUTHN asks for a passkey
//! (`web_authn.rs`), offered to users who have one for the pool's relying party.
use crate::error::{Error, Result};
use crate::messages::Channel;
use crate::model::*;
use crate::ops::mfa::{Factor, enabled, mfa_mode};
use crate::ops::pools::sign_in_policy::allowed_first_factors;
use crate::ops::sign_in::challenge::Challenge;
use crate::ops::sign_in::password::{require_flow, username_param};
use crate::ops::sign_in::srp::VERIFIER_KEY;
use crate::ops::sign_in::{Next, SignIn};
use crate::service::Cognito;
use crate::triggers::{Trigger, trigger_arn};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// A first factor of choice-based sign-in, named as its challenge is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FirstFactor {
    PasswordSrp,
    Password,
    WebAuthn,
    EmailOtp,
    SmsOtp,
}

impl FirstFactor {
    /// In the order AvailableChallenges lists them.
    const ALL: [FirstFactor; 5] = [
        FirstFactor::PasswordSrp,
        FirstFactor::Password,
        FirstFactor::WebAuthn,
        FirstFactor::EmailOtp,
        FirstFactor::SmsOtp,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            FirstFactor::PasswordSrp => "PASSWORD_SRP",
            FirstFactor::Password => "PASSWORD",
            FirstFactor::WebAuthn => "WEB_AUTHN",
            FirstFactor::EmailOtp => "EMAIL_OTP",
            FirstFactor::SmsOtp => "SMS_OTP",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == s)
    }

    /// The SignInPolicy factor (AuthFactorType) that allows it.
    pub(crate) fn policy_name(self) -> &'static str {
        match self {
            FirstFactor::PasswordSrp | FirstFactor::Password => "PASSWORD",
            other => other.name(),
        }
    }

    fn passwordless(self) -> bool {
        matches!(
            self,
            FirstFactor::WebAuthn | FirstFactor::EmailOtp | FirstFactor::SmsOtp
        )
    }
}

/// Whether the pool can send a sign-in code by email: Amazon SES (EmailSendingAccount
/// DEVELOPER) or a CustomEmailSender.
fn sends_email(pool: &UserPool) -> bool {
    pool.setting("EmailConfiguration")
        .and_then(|c| c.get("EmailSendingAccount"))
        .and_then(Value::as_str)
        == Some("DEVELOPER")
        || trigger_arn(pool, Trigger::CustomEmailSender).is_some()
}

/// Whether `user` has what factor `f` needs (`passkey`: a passkey usable in the pool).
/// Passwordless factors are for confirmed users without MFA, in pools that do not require MFA.
fn usable(pool: &UserPool, user: &User, f: FirstFactor, passkey: bool) -> bool {
    if f.passwordless()
        && (!user.enabled
            || user.status != UserStatus::Confirmed
            || mfa_mode(pool) == "ON"
            || Factor::ALL.into_iter().any(|m| enabled(user, m)))
    {
        return false;
    }
    match f {
        FirstFactor::Password => user.password_hash.is_some(),
        FirstFactor::PasswordSrp => user.extra.contains_key(VERIFIER_KEY),
        FirstFactor::EmailOtp => user.is_verified("email"),
        FirstFactor::SmsOtp => user.is_verified("phone_number"),
        FirstFactor::WebAuthn => passkey,
    }
}

/// The factors the pool allows and `user` can use, in AvailableChallenges' order (`passkey`:
/// the user has a passkey usable in the pool).
fn available_factors(pool: &UserPool, user: &User, passkey: bool) -> Vec<FirstFactor> {
    let allowed = allowed_first_factors(pool);
    FirstFactor::ALL
        .into_iter()
        .filter(|f| allowed.iter().any(|a| a == f.policy_name()))
        .filter(|f| usable(pool, user, *f, passkey))
        .filter(|f| *f != FirstFactor::EmailOtp || sends_email(pool))
        .collect()
}

fn email_needs_ses() -> Error {
    Error::invalid_parameter(
        "Email OTP sign-in requires the user pool to send email with Amazon SES (EmailConfiguration EmailSendingAccount DEVELOPER).",
    )
}

impl Cognito {
    /// The first factors the pool allows and `user` can use, in AvailableChallenges' order.
    pub(crate) async fn first_factors(&self, pool: &UserPool, user: &User) -> Result<Vec<FirstFactor>> {
        let passkey = !self.usable_passkeys(pool, user).await?.is_empty();
        Ok(available_factors(pool, user, passkey))
    }

    pub(crate) async fn start_user_auth(&self, s: &SignIn<'_>, params: &BTreeMap<String, String>) -> Result<Next> {
        require_flow(
            s.client,
            "ALLOW_USER_AUTH",
            "USER_AUTH flow not enabled for this client",
        )?;
        let username = username_param(params)?;
        let preferred = match params.get("PREFERRED_CHALLENGE").filter(|p| !p.is_empty()) {
            None => None,
            Some(p) => Some(
                FirstFactor::parse(p)
                    .ok_or_else(|| Error::invalid_parameter(format!("Invalid PREFERRED_CHALLENGE {p}.")))?,
            ),
        };
        // A password given with the request signs in as USER_PASSWORD_AUTH / USER_SRP_AUTH would
        // (unknown names, UserMigration, PreventUserExistenceErrors included).
        match preferred {
            Some(FirstFactor::Password) if params.contains_key("PASSWORD") => {
                return self.start_password(s, params).await;
            }
            Some(FirstFactor::PasswordSrp) if params.contains_key("SRP_A") => {
                return self.start_srp_first_factor(s, params).await;
            }
            _ => {}
        }
        let secret_hash = params.get("SECRET_HASH").map(String::as_str);
        let Some(user) = self.find_user(s.pool, username).await? else {
            self.check_secret_hash(s.client, username, secret_hash)?;
            return Err(if s.client.prevent_user_existence_errors() {
                Error::incorrect_credentials()
            } else {
                Error::user_not_found()
            });
        };
        self.check_secret_hash_for_user(s.client, &[username, &user.username], secret_hash)?;
        self.check_lockout(&user)?;
        let available = self.first_factors(s.pool, &user).await?;
        match preferred {
            Some(f) if available.contains(&f) => self.first_factor(s, &user, f, params).await,
            Some(FirstFactor::EmailOtp)
                if allowed_first_factors(s.pool).iter().any(|a| a == "EMAIL_OTP")
                    && usable(s.pool, &user, FirstFactor::EmailOtp, false) =>
            {
                Err(email_needs_ses())
            }
            // A factor the user cannot use (a passkey they have not registered…): the choice.
            _ => self.select_challenge(s, &user, &available).await,
        }
    }

    /// SELECT_CHALLENGE: the factors to choose from; nothing is sent yet.
    async fn select_challenge(&self, s: &SignIn<'_>, user: &User, available: &[FirstFactor]) -> Result<Next> {
        let names: Vec<String> = available.iter().map(|f| f.name().to_owned()).collect();
        let mut data = Map::new();
        data.insert("available".into(), json!(names));
        let session = self
            .start_challenge(s.pool, s.client, user, "SELECT_CHALLENGE", data)
            .await?;
        Ok(Next::Challenge(Challenge {
            name: "SELECT_CHALLENGE".into(),
            session,
            parameters: BTreeMap::new(),
            available_challenges: names,
        }))
    }

    /// Starts factor `f`; `params` may complete it at once (PASSWORD, SRP_A). A CREDENTIAL
    /// given with ANSWER=WEB_AUTHN is not read: no challenge was handed out for it to answer,
    /// so the WEB_AUTHN challenge is.
    async fn first_factor(
        &self,
        s: &SignIn<'_>,
        user: &User,
        f: FirstFactor,
        params: &BTreeMap<String, String>,
    ) -> Result<Next> {
        match f {
            FirstFactor::Password if params.contains_key("PASSWORD") => self.start_password(s, params).await,
            FirstFactor::PasswordSrp if params.contains_key("SRP_A") => self.start_srp_first_factor(s, params).await,
            FirstFactor::Password | FirstFactor::PasswordSrp => {
                let session = self
                    .start_challenge(s.pool, s.client, user, f.name(), Map::new())
                    .await?;
                Ok(Next::Challenge(Challenge {
                    name: f.name().into(),
                    session,
                    parameters: BTreeMap::new(),
                    available_challenges: Vec::new(),
                }))
            }
            FirstFactor::EmailOtp => self.start_otp(s, user, Channel::Email).await,
            FirstFactor::SmsOtp => self.start_otp(s, user, Channel::Sms).await,
            FirstFactor::WebAuthn => self.start_web_authn(s, user).await,
        }
    }

    /// SELECT_CHALLENGE's ANSWER: one of the factors it offered.
    pub(crate) async fn answer_select_challenge(
        &self,
        s: &SignIn<'_>,
        session: &ChallengeSession,
        user: User,
        responses: &BTreeMap<String, String>,
    ) -> Result<Next> {
        let answer = responses.get("ANSWER").ok_or_else(|| Error::missing("ANSWER"))?;
        let offered = session
            .data
            .get("available")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(answer)));
        match FirstFactor::parse(answer) {
            Some(f) if offered => self.first_factor(s, &user, f, responses).await,
            _ => Err(Error::invalid_parameter(format!(
                "The challenge {answer} is not available for the user."
            ))),
        }
    }

    /// The PASSWORD and PASSWORD_SRP challenges (a SELECT_CHALLENGE answered without the
    /// password or SRP_A): answered with them now.
    pub(crate) async fn answer_password_factor(
        &self,
        s: &SignIn<'_>,
        session: &ChallengeSession,
        responses: &BTreeMap<String, String>,
    ) -> Result<Next> {
        if session.challenge == "PASSWORD_SRP" {
            if !responses.contains_key("SRP_A") {
                return Err(Error::missing("SRP_A"));
            }
            return self.start_srp_first_factor(s, responses).await;
        }
        if !responses.contains_key("PASSWORD") {
            return Err(Error::missing("PASSWORD"));
        }
        self.start_password(s, responses).await
    }
}
