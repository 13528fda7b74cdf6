//! The stored challenge: a sign-in's state between two requests. A step starts one (stores it
//! and gives the client its `Session`), the next request takes it, and a rejected answer puts
//! it back.
use crate::error::{Error, Result};
use crate::model::*;
use crate::ops::sign_in::SignIn;
use crate::rng::RandomExt;
use crate::service::Cognito;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Wrong answers one MFA challenge session accepts before it is dropped.
const MAX_CODE_ATTEMPTS: i64 = 5;

/// A challenge for the client: its name, the stored session's id, and its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Challenge {
    pub name: String,
    pub session: String,
    pub parameters: BTreeMap<String, String>,
    /// SELECT_CHALLENGE's AvailableChallenges (empty for every other challenge).
    pub available_challenges: Vec<String>,
}

pub(crate) fn expired_session() -> Error {
    Error::not_authorized("Invalid session for the user, session is expired.")
}

impl Cognito {
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

    /// Takes the challenge a RespondToAuthChallenge answers: named by `Session` (or, for
    /// SRP, by the PASSWORD_CLAIM_SECRET_BLOCK), of this pool and client, not expired, and
    /// of the name the client says it answers. Taken, so that it is answered once.
    pub(crate) async fn take_challenge(
        &self,
        s: &SignIn<'_>,
        name: &str,
        session_id: Option<String>,
        responses: &BTreeMap<String, String>,
    ) -> Result<ChallengeSession> {
        let session_id = match session_id {
            Some(id) => id,
            None => responses
                .get("PASSWORD_CLAIM_SECRET_BLOCK")
                .cloned()
                .ok_or_else(|| Error::missing("session"))?,
        };
        let session = self
            .store
            .take_challenge(&session_id)
            .await?
            .ok_or_else(expired_session)?;
        if session.pool_id != s.pool.id
            || session.client_id != s.client.client_id
            || session.expires_ms <= self.now_ms()
        {
            return Err(expired_session());
        }
        s.device.carry(&session);
        if session.challenge != name {
            return Err(Error::invalid_parameter(format!(
                "Invalid challenge name {name}; expected {}.",
                session.challenge
            )));
        }
        Ok(session)
    }

    /// Stores a taken challenge again, as it was: the client may answer it once more.
    pub(crate) async fn put_back_challenge(&self, session: &ChallengeSession) -> Result<()> {
        self.store.put_challenge(session).await?;
        Ok(())
    }

    /// Puts a challenge back after a wrong code, until it has had too many; answers `error`.
    pub(crate) async fn wrong_answer<T>(&self, mut session: ChallengeSession, error: Error) -> Result<T> {
        let attempts = session.data.get("attempts").and_then(Value::as_i64).unwrap_or(0) + 1;
        if attempts < MAX_CODE_ATTEMPTS {
            session.data.insert("attempts".into(), json!(attempts));
            self.store.put_challenge(&session).await?;
        }
        Err(error)
    }
}
