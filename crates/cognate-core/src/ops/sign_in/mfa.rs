//! The MFA challenges of a sign-in, after its first factor: SOFTWARE_TOKEN_MFA, SMS_MFA,
//! EMAIL_OTP, SELECT_MFA_TYPE and MFA_SETUP.
use crate::error::{Error, ErrorKind, Result};
use crate::messages::{Channel, MessageKind, Outgoing, mask_destination};
use crate::model::*;
use crate::ops::mfa::*;
use crate::ops::sign_in::challenge::Challenge;
use crate::ops::sign_in::{Next, SignIn};
use crate::rng::RandomExt;
use crate::service::Cognito;
use crate::tokens::TokenSource;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The purpose an SMS or email MFA code is bound to in its stored MAC.
const MFA_CODE_PURPOSE: &str = "Authentication";

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
    /// What follows a correct first factor: tokens, or the MFA challenge the pool and the
    /// user call for.
    pub(crate) async fn after_first_factor(&self, s: &SignIn<'_>, user: &User, source: TokenSource) -> Result<Next> {
        let (pool, client) = (s.pool, s.client);
        let mode = mfa_mode(pool);
        if mode == "OFF" {
            return Ok(Next::SignedIn(user.clone(), source));
        }
        let offered = pool_factors(pool);
        let mut factors: Vec<Factor> = offered
            .iter()
            .copied()
            .filter(|f| enabled(user, *f) && usable(user, *f))
            .collect();
        if factors.is_empty() {
            if mode != "ON" {
                return Ok(Next::SignedIn(user.clone(), source));
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
            Some(f) => self.mfa_challenge(s, user, f, data).await,
            None => {
                data.insert(
                    "choices".into(),
                    json!(factors.iter().map(|f| f.name()).collect::<Vec<_>>()),
                );
                let session = self
                    .start_challenge(pool, client, user, "SELECT_MFA_TYPE", data)
                    .await?;
                Ok(Next::Challenge(Challenge {
                    name: "SELECT_MFA_TYPE".into(),
                    session,
                    parameters: BTreeMap::from([
                        ("MFAS_CAN_CHOOSE".into(), json_list(&factors)),
                        ("USER_ID_FOR_SRP".into(), user.username.clone()),
                    ]),
                    available_challenges: Vec::new(),
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
    ) -> Result<Next> {
        let mut data = Map::new();
        data.insert("source".into(), json!(source_name(source)));
        let session = self.start_challenge(pool, client, user, "MFA_SETUP", data).await?;
        Ok(Next::Challenge(Challenge {
            name: "MFA_SETUP".into(),
            session,
            parameters: BTreeMap::from([
                ("MFAS_CAN_SETUP".into(), json_list(offered)),
                ("USER_ID_FOR_SRP".into(), user.username.clone()),
            ]),
            available_challenges: Vec::new(),
        }))
    }

    /// Issues the challenge for one factor; SMS and email codes are sent now and kept (as a
    /// digest) in the challenge session.
    async fn mfa_challenge(
        &self,
        s: &SignIn<'_>,
        user: &User,
        factor: Factor,
        mut data: Map<String, Value>,
    ) -> Result<Next> {
        let (pool, client, ctx) = (s.pool, s.client, s.ctx);
        let client_metadata = s.client_metadata.clone();
        let mut params = BTreeMap::new();
        params.insert("USER_ID_FOR_SRP".to_owned(), user.username.clone());
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
            params.insert("CODE_DELIVERY_DELIVERY_MEDIUM".into(), medium.to_owned());
            params.insert("CODE_DELIVERY_DESTINATION".into(), mask_destination(channel, &to));
        }
        data.remove("choices");
        data.remove("attempts");
        let session = self.start_challenge(pool, client, user, factor.name(), data).await?;
        Ok(Next::Challenge(Challenge {
            name: factor.name().into(),
            session,
            parameters: params,
            available_challenges: Vec::new(),
        }))
    }

    pub(crate) async fn answer_mfa(
        &self,
        s: &SignIn<'_>,
        session: ChallengeSession,
        mut user: User,
        responses: &BTreeMap<String, String>,
    ) -> Result<Next> {
        let pool = s.pool;
        let source = source_of(&session);
        if session.challenge == "SELECT_MFA_TYPE" {
            let answer = responses.get("ANSWER").ok_or_else(|| Error::missing("ANSWER"))?;
            let choices = factors_in(&session, "choices");
            let Some(f) = Factor::parse(answer).filter(|f| choices.contains(f)) else {
                return Err(Error::invalid_parameter(format!("Invalid MFA type {answer}.")));
            };
            return self.mfa_challenge(s, &user, f, session.data.clone()).await;
        }
        if session.challenge == "MFA_SETUP" {
            if session.data.get("totpVerified").and_then(Value::as_bool) != Some(true) {
                return Err(Error::invalid_parameter(
                    "Software token MFA has not been set up for the user: call AssociateSoftwareToken and VerifySoftwareToken with the session first.",
                ));
            }
            return Ok(Next::SignedIn(user, source));
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
        Ok(Next::SignedIn(user, source))
    }
}
