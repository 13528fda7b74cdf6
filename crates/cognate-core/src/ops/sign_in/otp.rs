//! EMAIL_OTP and SMS_OTP as the first factor of choice-based sign-in (USER_AUTH): one code
//! sent to the user's verified email address or phone number, answered with EMAIL_OTP_CODE
//! or SMS_OTP_CODE. No MFA follows: these factors are offered only to users without MFA, in
//! pools that do not require it (see `user_auth.rs`).
use crate::error::{Error, ErrorKind, Result};
use crate::messages::{Channel, MessageKind, Outgoing, mask_destination};
use crate::model::*;
use crate::ops::sign_in::challenge::Challenge;
use crate::ops::sign_in::{Next, SignIn};
use crate::rng::RandomExt;
use crate::service::Cognito;
use crate::tokens::TokenSource;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The purpose a sign-in code is bound to in its stored MAC.
const OTP_PURPOSE: &str = "SignInOtp";

/// Marks an EMAIL_OTP session as a first factor (an MFA EMAIL_OTP has the same name).
pub(crate) const FIRST_FACTOR: &str = "firstFactor";

fn challenge_name(channel: Channel) -> &'static str {
    match channel {
        Channel::Email => "EMAIL_OTP",
        Channel::Sms => "SMS_OTP",
    }
}

impl Cognito {
    /// Runs PreAuthentication, sends one code and returns the EMAIL_OTP or SMS_OTP challenge.
    pub(crate) async fn start_otp(&self, s: &SignIn<'_>, user: &User, channel: Channel) -> Result<Next> {
        self.pre_authentication(s, user).await?;
        let to = user
            .attributes
            .get(channel.attribute())
            .cloned()
            .ok_or_else(|| Error::invalid_parameter("No verified destination for the code."))?;
        let code = self.random.digits(6);
        let out = Outgoing {
            kind: MessageKind::Authentication,
            channel,
            to: to.clone(),
            code: code.clone(),
            client_id: Some(&s.client.client_id),
            client_metadata: s.client_metadata.clone(),
        };
        self.send_message(s.pool, user, out, s.ctx).await?;
        let mut data = Map::new();
        data.insert(
            "code".into(),
            json!(self.code_digest(&s.pool.id, &user.username, OTP_PURPOSE, &code)),
        );
        data.insert(FIRST_FACTOR.into(), json!(true));
        let name = challenge_name(channel);
        let session = self.start_challenge(s.pool, s.client, user, name, data).await?;
        let medium = if channel == Channel::Sms { "SMS" } else { "EMAIL" };
        Ok(Next::Challenge(Challenge {
            name: name.into(),
            session,
            parameters: BTreeMap::from([
                ("CODE_DELIVERY_DELIVERY_MEDIUM".to_owned(), medium.to_owned()),
                ("CODE_DELIVERY_DESTINATION".to_owned(), mask_destination(channel, &to)),
            ]),
            available_challenges: Vec::new(),
        }))
    }

    /// The code: signed in when it matches; a wrong one keeps the challenge open (up to the
    /// attempt limit the MFA codes have).
    pub(crate) async fn answer_otp(
        &self,
        session: ChallengeSession,
        user: User,
        responses: &BTreeMap<String, String>,
    ) -> Result<Next> {
        let key = if session.challenge == "SMS_OTP" {
            "SMS_OTP_CODE"
        } else {
            "EMAIL_OTP_CODE"
        };
        let code = responses
            .get(key)
            .ok_or_else(|| Error::invalid_parameter(format!("Missing required parameter {key}")))?;
        let expected = session.data.get("code").and_then(Value::as_str).unwrap_or_default();
        let digest = self.code_digest(&session.pool_id, &session.username, OTP_PURPOSE, code.trim());
        if !cognate_crypto::ct_eq(digest.as_bytes(), expected.as_bytes()) {
            let e = Error::new(
                ErrorKind::CodeMismatchException,
                "Invalid code or auth state for the user.",
            );
            return self.wrong_answer(session, e).await;
        }
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        Ok(Next::SignedIn(user, TokenSource::Authentication))
    }
}
