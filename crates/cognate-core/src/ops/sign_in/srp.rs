//! USER_SRP_AUTH: Cognito's SRP-6a variant. The server keeps a verifier per user (sealed at
//! rest), answers SRP_A with PASSWORD_VERIFIER, and checks the password claim signature.
use crate::error::{Error, Result};
use crate::model::*;
use crate::ops::sign_in::challenge::Challenge;
use crate::ops::sign_in::password::{require_flow, username_param};
use crate::ops::sign_in::{Next, SignIn};
use crate::rng::RandomExt;
use crate::service::Cognito;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cognate_crypto::srp;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// How far a PASSWORD_VERIFIER `TIMESTAMP` may be from the server's clock, either way.
pub(crate) const SRP_TIMESTAMP_WINDOW_MS: i64 = 15 * 60 * 1000;

pub(crate) const VERIFIER_KEY: &str = "srp_verifier";

impl Cognito {
    /// Sets a user's password: the argon2id hash for password flows and the SRP verifier.
    pub(crate) async fn set_password(&self, pool: &UserPool, user: &mut User, password: &str) -> Result<()> {
        user.password_hash = Some(self.hash(password).await?);
        let salt: [u8; 16] = self.random.bytes();
        let verifier = srp::make_verifier(pool.short_id(), &user.username, password, &salt);
        let plain =
            json!({"salt": srp::to_hex(&verifier.salt), "verifier": srp::to_hex(&verifier.verifier)}).to_string();
        let context = format!("{}/{}/srp", pool.id, user.username);
        let sealed = self.sealer.seal(plain.as_bytes(), context.as_bytes(), self.nonce());
        user.extra.insert(VERIFIER_KEY.into(), json!(STANDARD.encode(sealed)));
        user.password_changed_ms = self.now_ms();
        Ok(())
    }

    fn srp_verifier(&self, pool: &UserPool, user: &User) -> Option<srp::Verifier> {
        let sealed = STANDARD.decode(user.extra.get(VERIFIER_KEY)?.as_str()?).ok()?;
        let context = format!("{}/{}/srp", pool.id, user.username);
        let plain = self.sealer.open(&sealed, context.as_bytes()).ok()?;
        let v: Value = serde_json::from_slice(&plain).ok()?;
        Some(srp::Verifier {
            salt: srp::from_hex(v.get("salt")?.as_str()?).ok()?,
            verifier: srp::from_hex(v.get("verifier")?.as_str()?).ok()?,
        })
    }

    pub(crate) async fn start_srp(&self, s: &SignIn<'_>, params: &BTreeMap<String, String>) -> Result<Next> {
        require_flow(
            s.client,
            "ALLOW_USER_SRP_AUTH",
            "USER_SRP_AUTH flow not enabled for this client",
        )?;
        self.start_srp_first_factor(s, params).await
    }

    /// SRP_A answered with PASSWORD_VERIFIER (USER_SRP_AUTH, or USER_AUTH's PASSWORD_SRP).
    pub(crate) async fn start_srp_first_factor(
        &self,
        s: &SignIn<'_>,
        params: &BTreeMap<String, String>,
    ) -> Result<Next> {
        let username = username_param(params)?;
        let srp_a = params.get("SRP_A").ok_or_else(|| Error::missing("SRP_A"))?;
        let a = srp::parse_srp_a(srp_a).map_err(|_| Error::invalid_parameter("Invalid SRP_A value."))?;
        let secret_hash = params.get("SECRET_HASH").map(String::as_str);
        let user = match self.find_user(s.pool, username).await? {
            Some(u) => {
                self.check_secret_hash_for_user(s.client, &[username, &u.username], secret_hash)?;
                u
            }
            None => {
                self.check_secret_hash(s.client, username, secret_hash)?;
                if s.client.prevent_user_existence_errors() {
                    self.check_ghost_lockout(s.pool, username)?;
                    self.pre_authentication_unknown(s, username).await?;
                    return self.stand_in_password_verifier(s, username, &a).await;
                }
                return Err(Error::user_not_found());
            }
        };
        // A disabled user is told so only after a correct password (answer_password_verifier).
        self.check_lockout(&user)?;
        self.pre_authentication(s, &user).await?;
        self.password_verifier_challenge(s.pool, s.client, &user, &a, Map::new())
            .await
    }

    /// Answers SRP_A with a PASSWORD_VERIFIER challenge for `user`; `extra` goes into the
    /// challenge session (CUSTOM_AUTH keeps its history there).
    pub(crate) async fn password_verifier_challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        a: &srp::SrpA,
        extra: Map<String, Value>,
    ) -> Result<Next> {
        let Some(verifier) = self.srp_verifier(pool, user) else {
            // Users without a verifier (no password yet) cannot use SRP.
            return Err(Error::incorrect_credentials());
        };
        let b: [u8; 32] = self.random.bytes();
        let challenge = srp::server_challenge(&verifier, &b).map_err(Error::internal)?;
        let secret_block = srp::encode_secret_block(&self.random.bytes::<64>());
        let b_context = format!("{}/{}/srp-b", pool.id, user.username);
        let mut data = extra;
        data.insert("A".into(), json!(a.to_hex()));
        data.insert(
            "b".into(),
            json!(STANDARD.encode(self.sealer.seal(&b, b_context.as_bytes(), self.nonce()))),
        );
        data.insert("secretBlock".into(), json!(secret_block));
        let session = self
            .start_challenge_with_id(pool, client, user, "PASSWORD_VERIFIER", data, &secret_block)
            .await?;
        Ok(password_verifier(
            session,
            &verifier,
            &challenge,
            &secret_block,
            &user.username,
        ))
    }

    /// With PreventUserExistenceErrors, a name that matches nobody still gets a well-formed
    /// PASSWORD_VERIFIER: the salt and USER_ID_FOR_SRP are the same on every attempt (derived
    /// from a pool secret), B is computed as for a real verifier, and any answer fails.
    async fn stand_in_password_verifier(&self, s: &SignIn<'_>, username: &str, a: &srp::SrpA) -> Result<Next> {
        let key = self.pool_stand_in_key(s.pool).await?;
        let name = Self::user_key(s.pool, username);
        let derive = |label: &str| {
            let mut input = key.clone();
            input.extend_from_slice(label.as_bytes());
            input.extend_from_slice(name.as_bytes());
            cognate_crypto::sha256(&input)
        };
        let salt = &derive("salt")[..16];
        let user_id = if s.pool.username_attributes().is_empty() {
            username.to_owned()
        } else {
            let h = srp::to_hex(&derive("id")[..16]);
            format!(
                "{}-{}-4{}-a{}-{}",
                &h[0..8],
                &h[8..12],
                &h[13..16],
                &h[17..20],
                &h[20..32]
            )
        };
        let password = srp::to_hex(&self.random.bytes::<16>());
        let verifier = srp::make_verifier(s.pool.short_id(), &user_id, &password, salt);
        let b: [u8; 32] = self.random.bytes();
        let challenge = srp::server_challenge(&verifier, &b).map_err(Error::internal)?;
        let secret_block = srp::encode_secret_block(&self.random.bytes::<64>());
        let mut data = Map::new();
        data.insert("A".into(), json!(a.to_hex()));
        data.insert("userNotFound".into(), json!(true));
        // The name as typed: its failures are counted under it (lockout.rs).
        data.insert("name".into(), json!(username));
        let owner = User {
            username: user_id.clone(),
            ..crate::ops::sign_in::custom_auth::placeholder_user(s.pool)
        };
        let session = self
            .start_challenge_with_id(s.pool, s.client, &owner, "PASSWORD_VERIFIER", data, &secret_block)
            .await?;
        Ok(password_verifier(
            session,
            &verifier,
            &challenge,
            &secret_block,
            &user_id,
        ))
    }

    pub(crate) async fn answer_password_verifier(
        &self,
        s: &SignIn<'_>,
        session: &ChallengeSession,
        user: User,
        responses: &BTreeMap<String, String>,
    ) -> Result<Next> {
        let pool = s.pool;
        // Serialised with every other guess at this user, and counted (see lockout.rs).
        let guard = self.lock_user(pool, &user.username).await;
        let mut user = self.reload_user(pool, &user).await?;
        self.check_lockout(&user)?;
        let get = |k: &str| responses.get(k).ok_or_else(|| Error::missing(k));
        let block = get("PASSWORD_CLAIM_SECRET_BLOCK")?;
        let signature = get("PASSWORD_CLAIM_SIGNATURE")?;
        let timestamp = get("TIMESTAMP")?;
        let expected_block = session
            .data
            .get("secretBlock")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !cognate_crypto::ct_eq(block.as_bytes(), expected_block.as_bytes()) {
            return Err(Error::not_authorized("Incorrect username or password."));
        }
        // The signed TIMESTAMP must be close to the server's time, so that a captured claim
        // cannot be replayed later. AWS's exact window and answer are not documented; the
        // window is generous for client clock skew and the answer is the wrong-password one.
        let fresh = srp::parse_timestamp(timestamp).is_some_and(|t| {
            let claimed_ms = i64::try_from(t).unwrap_or(i64::MAX).saturating_mul(1000);
            (claimed_ms - self.now_ms()).abs() <= SRP_TIMESTAMP_WINDOW_MS
        });
        if !fresh {
            return Err(Error::not_authorized("Incorrect username or password."));
        }
        let verifier = self
            .srp_verifier(pool, &user)
            .ok_or_else(Error::incorrect_credentials)?;
        let a = session
            .data
            .get("A")
            .and_then(Value::as_str)
            .and_then(|h| srp::parse_srp_a(h).ok())
            .ok_or_else(|| Error::internal("challenge session without SRP_A"))?;
        let b_context = format!("{}/{}/srp-b", pool.id, user.username);
        let b_sealed = session
            .data
            .get("b")
            .and_then(Value::as_str)
            .and_then(|s| STANDARD.decode(s).ok())
            .ok_or_else(|| Error::internal("challenge session without b"))?;
        let b_plain = self
            .sealer
            .open(&b_sealed, b_context.as_bytes())
            .map_err(Error::internal)?;
        let b: [u8; 32] = b_plain.as_slice().try_into().map_err(Error::internal)?;
        let challenge = srp::server_challenge(&verifier, &b).map_err(Error::internal)?;
        let ok = srp::verify_password_claim(
            pool.short_id(),
            &user.username,
            &verifier,
            &a,
            &challenge,
            block,
            timestamp,
            signature,
        )
        .unwrap_or(false);
        // As in guarded_password_check: a counter that could not be written changes no answer.
        if let Err(e) = self.record_password_result(pool, &mut user, ok).await {
            tracing::warn!(error = %e, "could not count a password check");
        }
        drop(guard);
        if let Some(history) = session.data.get("customAuthHistory").and_then(Value::as_array) {
            // CUSTOM_AUTH that started with SRP: the result goes back to DefineAuthChallenge.
            let mut history = history.clone();
            history
                .push(json!({"challengeName": "PASSWORD_VERIFIER", "challengeResult": ok, "challengeMetadata": null}));
            return Ok(Next::CustomAuthRound(user, history));
        }
        if !ok {
            return Err(Error::incorrect_credentials());
        }
        self.after_password(s, user).await
    }
}

/// The PASSWORD_VERIFIER challenge: the salt, B and the block the client signs.
fn password_verifier(
    session: String,
    verifier: &srp::Verifier,
    challenge: &srp::ServerChallenge,
    secret_block: &str,
    user_id: &str,
) -> Next {
    Next::Challenge(Challenge {
        name: "PASSWORD_VERIFIER".into(),
        session,
        parameters: BTreeMap::from([
            ("SALT".into(), verifier.salt_hex()),
            ("SECRET_BLOCK".into(), secret_block.to_owned()),
            ("SRP_B".into(), challenge.srp_b_hex()),
            ("USERNAME".into(), user_id.to_owned()),
            ("USER_ID_FOR_SRP".into(), user_id.to_owned()),
        ]),
        available_challenges: Vec::new(),
    })
}
