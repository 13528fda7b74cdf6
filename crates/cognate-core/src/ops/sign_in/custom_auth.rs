//! CUSTOM_AUTH: the DefineAuthChallenge → CreateAuthChallenge → VerifyAuthChallengeResponse
//! loop. The challenge history (`session` in the trigger events) lives in the stored
//! challenge session between rounds.
use crate::error::{Error, ErrorKind, Result};
use crate::model::*;
use crate::ops::clients::flow_allowed;
use crate::ops::sign_in::challenge::Challenge;
use crate::ops::sign_in::password::username_param;
use crate::ops::sign_in::{Next, SignIn};
use crate::service::Cognito;
use crate::tokens::TokenSource;
use crate::triggers::events::{
    ChallengeResult, CreateAuthChallengeEvent, CreateAuthChallengeRequest, DefineAuthChallengeEvent,
    DefineAuthChallengeRequest, StringMap, SyncTriggerEvent, VerifyAuthChallengeResponseEvent,
    VerifyAuthChallengeResponseRequest,
};
use crate::triggers::{Trigger, string_map, trigger_envelope, user_attributes_for_trigger};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Who is signing in: a real user, or (with PreventUserExistenceErrors) a name that
/// matched nobody, for which the triggers run with `userNotFound: true`.
struct Subject {
    user: Option<User>,
    name: String,
}

impl Subject {
    fn attributes(&self, pool: &UserPool) -> StringMap {
        self.user
            .as_ref()
            .map(|u| user_attributes_for_trigger(pool, u))
            .unwrap_or_default()
    }
}

/// The challenge history as the triggers' `session` sees it.
fn session_of(history: &[Value]) -> Result<Vec<ChallengeResult>> {
    serde_json::from_value(Value::Array(history.to_vec()))
        .map_err(|e| Error::internal(format!("stored custom auth history is unreadable: {e}")))
}

fn invalid_output(trigger: &str) -> Error {
    Error::new(
        ErrorKind::InvalidLambdaResponseException,
        format!("Invalid lambda function output : {trigger} response is not valid"),
    )
}

impl Cognito {
    pub(crate) async fn start_custom_auth(&self, s: &SignIn<'_>, params: &BTreeMap<String, String>) -> Result<Next> {
        if !flow_allowed(s.client, "ALLOW_CUSTOM_AUTH") {
            return Err(Error::invalid_parameter("CUSTOM_AUTH flow not enabled for this client"));
        }
        for t in [
            "DefineAuthChallenge",
            "CreateAuthChallenge",
            "VerifyAuthChallengeResponse",
        ] {
            if s.pool.lambda_arn(t).is_none() {
                return Err(Error::invalid_parameter(
                    "Custom auth lambda trigger is not configured for the user pool.",
                ));
            }
        }
        let username = username_param(params)?;
        let secret_hash = params.get("SECRET_HASH").map(String::as_str);
        // CUSTOM_AUTH may start with SRP (Amplify's CUSTOM_WITH_SRP).
        let srp_a = if params.get("CHALLENGE_NAME").map(String::as_str) == Some("SRP_A") {
            let hex = params.get("SRP_A").ok_or_else(|| Error::missing("SRP_A"))?;
            Some(cognate_crypto::srp::parse_srp_a(hex).map_err(|_| Error::invalid_parameter("Invalid SRP_A value."))?)
        } else {
            None
        };
        let subject = match self.find_user(s.pool, username).await? {
            Some(user) => {
                self.check_secret_hash_for_user(s.client, &[username, &user.username], secret_hash)?;
                if !user.enabled {
                    return Err(Error::not_authorized("User is disabled."));
                }
                if user.status == UserStatus::Unconfirmed {
                    return Err(Error::new(
                        ErrorKind::UserNotConfirmedException,
                        "User is not confirmed.",
                    ));
                }
                Subject {
                    name: user.username.clone(),
                    user: Some(user),
                }
            }
            None => {
                self.check_secret_hash(s.client, username, secret_hash)?;
                if !s.client.prevent_user_existence_errors() {
                    return Err(Error::user_not_found());
                }
                Subject {
                    user: None,
                    name: username.clone(),
                }
            }
        };
        if let Some(user) = &subject.user {
            self.check_lockout(user)?;
        }
        let history = match srp_a {
            Some(_) => vec![json!({"challengeName": "SRP_A", "challengeResult": true, "challengeMetadata": null})],
            None => Vec::new(),
        };
        self.custom_auth_round(s, &subject, history, srp_a.as_ref()).await
    }

    /// Runs the next round for a known user after a step outside the custom loop (SRP).
    pub(crate) async fn continue_custom_auth(&self, s: &SignIn<'_>, user: User, history: Vec<Value>) -> Result<Next> {
        let subject = Subject {
            name: user.username.clone(),
            user: Some(user),
        };
        self.custom_auth_round(s, &subject, history, None).await
    }

    /// Runs DefineAuthChallenge on the history and acts on its decision. `srp_a` is the
    /// client's SRP_A while a PASSWORD_VERIFIER step may still follow.
    async fn custom_auth_round(
        &self,
        s: &SignIn<'_>,
        subject: &Subject,
        history: Vec<Value>,
        srp_a: Option<&cognate_crypto::srp::SrpA>,
    ) -> Result<Next> {
        let (pool, client, ctx, client_metadata) = (s.pool, s.client, s.ctx, &s.client_metadata);
        let not_found = subject.user.is_none();
        let client_id = Some(client.client_id.as_str());
        let request = DefineAuthChallengeRequest {
            user_attributes: subject.attributes(pool),
            session: session_of(&history)?,
            client_metadata: client_metadata.as_ref().map(string_map),
            user_not_found: not_found,
            ..Default::default()
        };
        let source = "DefineAuthChallenge_Authentication";
        let envelope = trigger_envelope(
            pool,
            Trigger::DefineAuthChallenge,
            source,
            &subject.name,
            client_id,
            ctx,
        );
        let event = DefineAuthChallengeEvent::new(envelope, request, Default::default());
        let decision = self
            .invoke_trigger(pool, Trigger::DefineAuthChallenge, event)
            .await?
            .unwrap_or_default();
        if decision.fail_authentication == Some(true) {
            return Err(Error::incorrect_credentials());
        }
        if decision.issue_tokens == Some(true) {
            // A user that does not exist can never be issued tokens.
            let Some(user) = &subject.user else {
                return Err(Error::incorrect_credentials());
            };
            return Ok(Next::FirstFactorPassed(user.clone(), TokenSource::Authentication));
        }
        let challenge = match decision.challenge_name.as_deref() {
            Some("CUSTOM_CHALLENGE") => "CUSTOM_CHALLENGE",
            Some("PASSWORD_VERIFIER") => {
                // Only after the client opened with SRP_A: the SRP round-trip comes next.
                let (Some(a), Some(user)) = (srp_a, &subject.user) else {
                    if srp_a.is_some() {
                        return Err(Error::incorrect_credentials());
                    }
                    return Err(Error::new(
                        ErrorKind::InvalidLambdaResponseException,
                        "Invalid lambda function output : PASSWORD_VERIFIER requires an SRP_A challenge first",
                    ));
                };
                let mut extra = Map::new();
                extra.insert("customAuthHistory".into(), Value::Array(history));
                return self.password_verifier_challenge(pool, client, user, a, extra).await;
            }
            Some(other) => {
                return Err(Error::invalid_parameter(format!(
                    "Challenge {other} from DefineAuthChallenge is not supported by this version of Cognate."
                )));
            }
            None => return Err(invalid_output("DefineAuthChallenge")),
        };

        let request = CreateAuthChallengeRequest {
            user_attributes: subject.attributes(pool),
            challenge_name: challenge.to_owned(),
            session: session_of(&history)?,
            client_metadata: client_metadata.as_ref().map(string_map),
            user_not_found: not_found,
            ..Default::default()
        };
        let source = "CreateAuthChallenge_Authentication";
        let envelope = trigger_envelope(
            pool,
            Trigger::CreateAuthChallenge,
            source,
            &subject.name,
            client_id,
            ctx,
        );
        let event = CreateAuthChallengeEvent::new(envelope, request, Default::default());
        let created = self
            .invoke_trigger(pool, Trigger::CreateAuthChallenge, event)
            .await?
            .unwrap_or_default();
        let public = created.public_challenge_parameters.unwrap_or_default();
        let private = created.private_challenge_parameters.unwrap_or_default();

        let mut data = Map::new();
        data.insert("history".into(), Value::Array(history));
        data.insert("private".into(), json!(private));
        data.insert("metadata".into(), json!(created.challenge_metadata));
        data.insert("userNotFound".into(), json!(not_found));
        let session_owner = User {
            username: subject.name.clone(),
            ..placeholder_user(pool)
        };
        let session = self
            .start_challenge(
                pool,
                client,
                subject.user.as_ref().unwrap_or(&session_owner),
                challenge,
                data,
            )
            .await?;
        let mut parameters: BTreeMap<String, String> = public.into_iter().collect();
        parameters.insert("USERNAME".into(), subject.name.clone());
        Ok(Next::Challenge(Challenge {
            name: challenge.into(),
            session,
            parameters,
            available_challenges: Vec::new(),
        }))
    }

    pub(crate) async fn answer_custom_challenge(
        &self,
        s: &SignIn<'_>,
        session: ChallengeSession,
        responses: &BTreeMap<String, String>,
    ) -> Result<Next> {
        let (pool, client, ctx, client_metadata) = (s.pool, s.client, s.ctx, &s.client_metadata);
        let username = responses.get("USERNAME").ok_or_else(|| Error::missing("USERNAME"))?;
        let answer = responses.get("ANSWER").ok_or_else(|| Error::missing("ANSWER"))?;
        let not_found = session
            .data
            .get("userNotFound")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let subject = if not_found {
            if username != &session.username {
                return Err(Error::not_authorized("Invalid session for the user."));
            }
            self.check_secret_hash(client, username, responses.get("SECRET_HASH").map(String::as_str))?;
            Subject {
                user: None,
                name: session.username.clone(),
            }
        } else {
            let user = self.require_user(pool, username).await?;
            if user.username != session.username {
                return Err(Error::not_authorized("Invalid session for the user."));
            }
            self.check_secret_hash_for_user(
                client,
                &[username, &user.username],
                responses.get("SECRET_HASH").map(String::as_str),
            )?;
            Subject {
                name: user.username.clone(),
                user: Some(user),
            }
        };
        let private = session.data.get("private").cloned().unwrap_or_else(|| json!({}));
        let request = VerifyAuthChallengeResponseRequest {
            user_attributes: subject.attributes(pool),
            private_challenge_parameters: serde_json::from_value(private)
                .map_err(|e| Error::internal(format!("stored challenge parameters are unreadable: {e}")))?,
            challenge_answer: answer.clone(),
            client_metadata: client_metadata.as_ref().map(string_map),
            user_not_found: not_found,
            ..Default::default()
        };
        let trigger = Trigger::VerifyAuthChallengeResponse;
        let source = "VerifyAuthChallengeResponse_Authentication";
        let client_id = Some(client.client_id.as_str());
        let envelope = trigger_envelope(pool, trigger, source, &subject.name, client_id, ctx);
        let event = VerifyAuthChallengeResponseEvent::new(envelope, request, Default::default());
        let verdict = self.invoke_trigger(pool, trigger, event).await?.unwrap_or_default();
        let correct = verdict.answer_correct.unwrap_or(false);
        let mut history = session
            .data
            .get("history")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        history.push(json!({
            "challengeName": "CUSTOM_CHALLENGE",
            "challengeResult": correct,
            "challengeMetadata": session.data.get("metadata").cloned().unwrap_or(Value::Null),
        }));
        self.custom_auth_round(s, &subject, history, None).await
    }
}

/// The owner of a challenge session for a name that matched no user.
pub(crate) fn placeholder_user(pool: &UserPool) -> User {
    User {
        pool_id: pool.id.clone(),
        username: String::new(),
        sub: String::new(),
        attributes: BTreeMap::new(),
        status: UserStatus::Unknown,
        enabled: true,
        created_ms: 0,
        modified_ms: 0,
        password_hash: None,
        password_changed_ms: 0,
        codes: vec![],
        pending_attributes: BTreeMap::new(),
        extra: Map::new(),
        version: 0,
    }
}
