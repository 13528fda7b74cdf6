//! Sign-in on a remembered device: DEVICE_SRP_AUTH and DEVICE_PASSWORD_VERIFIER.
//!
//! In a pool that tracks devices (`ops/devices.rs`), a sign-in names its device with
//! `DEVICE_KEY` (InitiateAuth's AuthParameters or any challenge answer; the key is carried from
//! one challenge to the next). After the first factor, a remembered device stands in for MFA
//! when the pool's `ChallengeRequiredOnNewDevice` allows it; and before tokens, a confirmed
//! device proves itself with SRP against the verifier of ConfirmDevice, where the "pool name"
//! is the device group key and the user id the device key (as amazon-cognito-identity-js's
//! `getDeviceResponse` computes). The tokens then come from `TokenGeneration_AuthenticateDevice`
//! and carry the `device_key` claim. A key the user does not have is answered
//! `ResourceNotFoundException: Device does not exist.`, which client libraries recognise to
//! sign in again without it. A sign-in that names no device gets a new one in
//! NewDeviceMetadata.
use crate::error::{Error, Result};
use crate::model::*;
use crate::ops::devices::{Device, device_not_found, device_settings};
use crate::ops::sign_in::challenge::Challenge;
use crate::ops::sign_in::srp::SRP_TIMESTAMP_WINDOW_MS;
use crate::ops::sign_in::{NewDeviceMetadata, Next, SignIn};
use crate::rng::RandomExt;
use crate::service::Cognito;
use crate::tokens::TokenSource;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cognate_crypto::srp;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// Where a challenge session keeps the sign-in's device key.
const DATA_KEY: &str = "deviceKey";

pub(crate) const DEVICE_SRP_AUTH: &str = "DEVICE_SRP_AUTH";
pub(crate) const DEVICE_PASSWORD_VERIFIER: &str = "DEVICE_PASSWORD_VERIFIER";

/// The device one sign-in request is on: the request's `DEVICE_KEY`, or the one the challenge
/// it answers carried; and whether the device has proved itself in this request.
#[derive(Debug, Default)]
pub(crate) struct DeviceContext {
    key: OnceLock<String>,
    authenticated: OnceLock<()>,
}

impl DeviceContext {
    /// From AuthParameters or ChallengeResponses.
    pub(crate) fn from_params(params: &BTreeMap<String, String>) -> Self {
        let context = Self::default();
        if let Some(key) = params.get("DEVICE_KEY").filter(|k| !k.is_empty()) {
            let _ = context.key.set(key.clone());
        }
        context
    }

    /// Takes the key a challenge session carried, unless the request named one itself.
    pub(crate) fn carry(&self, session: &ChallengeSession) {
        if let Some(key) = session.data.get(DATA_KEY).and_then(Value::as_str) {
            let _ = self.key.set(key.to_owned());
        }
    }

    pub(crate) fn key(&self) -> Option<&str> {
        self.key.get().map(String::as_str)
    }

    fn authenticated(&self) -> bool {
        self.authenticated.get().is_some()
    }
}

fn required<'a>(responses: &'a BTreeMap<String, String>, name: &str) -> Result<&'a String> {
    responses.get(name).ok_or_else(|| Error::missing(name))
}

impl Cognito {
    /// The device a sign-in names, in a pool that tracks devices; a key that is not one of the
    /// user's devices is refused.
    async fn sign_in_device(&self, s: &SignIn<'_>, user: &User) -> Result<Option<Device>> {
        if device_settings(s.pool).is_none() {
            return Ok(None);
        }
        let Some(key) = s.device.key() else { return Ok(None) };
        match self.device(s.pool, user, key).await? {
            Some(device) => Ok(Some(device)),
            None => Err(device_not_found()),
        }
    }

    /// After the first factor: a remembered device authenticates instead of MFA when the pool
    /// lets it (`ChallengeRequiredOnNewDevice`); otherwise MFA decides.
    pub(crate) async fn after_first_factor_on_device(
        &self,
        s: &SignIn<'_>,
        user: &User,
        source: TokenSource,
    ) -> Result<Next> {
        if let Some(device) = self.sign_in_device(s, user).await?
            && device.remembered()
            && device.verifier.is_some()
            && device_settings(s.pool).is_some_and(|d| d.challenge_required_on_new_device)
        {
            return self.device_srp_auth_challenge(s, user, &device).await;
        }
        self.after_first_factor(s, user, source).await
    }

    /// Before tokens: a confirmed device the sign-in names proves itself first (once).
    pub(crate) async fn device_authentication_due(&self, s: &SignIn<'_>, user: &User) -> Result<Option<Next>> {
        if s.device.authenticated() {
            return Ok(None);
        }
        match self.sign_in_device(s, user).await? {
            Some(device) if device.verifier.is_some() => {
                Ok(Some(self.device_srp_auth_challenge(s, user, &device).await?))
            }
            _ => Ok(None),
        }
    }

    /// Keeps the sign-in's device key in the challenge just stored, so that the answer need
    /// not repeat it.
    pub(crate) async fn keep_device_key(&self, s: &SignIn<'_>, challenge: &Challenge) -> Result<()> {
        let Some(key) = s.device.key() else { return Ok(()) };
        if challenge.name.starts_with("DEVICE_") {
            return Ok(());
        }
        if let Some(mut stored) = self.store.take_challenge(&challenge.session).await? {
            stored.data.insert(DATA_KEY.into(), json!(key));
            self.store.put_challenge(&stored).await?;
        }
        Ok(())
    }

    /// The device the tokens of a sign-in belong to, and NewDeviceMetadata when the sign-in
    /// named none (a new, unconfirmed device). Nothing in a pool that does not track devices.
    pub(crate) async fn device_for_tokens(
        &self,
        s: &SignIn<'_>,
        user: &User,
    ) -> Result<(Option<String>, Option<NewDeviceMetadata>)> {
        if device_settings(s.pool).is_none() {
            return Ok((None, None));
        }
        if let Some(key) = s.device.key() {
            return Ok((Some(key.to_owned()), None));
        }
        let device = self.new_device(s.pool, user).await?;
        let metadata = NewDeviceMetadata {
            device_key: device.key.clone(),
            device_group_key: device.group_key,
        };
        Ok((Some(device.key), Some(metadata)))
    }

    async fn device_srp_auth_challenge(&self, s: &SignIn<'_>, user: &User, device: &Device) -> Result<Next> {
        let mut data = Map::new();
        data.insert(DATA_KEY.into(), json!(device.key));
        let session = self
            .start_challenge(s.pool, s.client, user, DEVICE_SRP_AUTH, data)
            .await?;
        Ok(Next::Challenge(Challenge {
            name: DEVICE_SRP_AUTH.into(),
            session,
            parameters: BTreeMap::new(),
            available_challenges: Vec::new(),
        }))
    }

    /// The session's device, which the answer's DEVICE_KEY (when given) must name.
    async fn challenged_device(
        &self,
        s: &SignIn<'_>,
        session: &ChallengeSession,
        user: &User,
        responses: &BTreeMap<String, String>,
    ) -> Result<(Device, srp::Verifier)> {
        let key = session
            .data
            .get(DATA_KEY)
            .and_then(Value::as_str)
            .ok_or_else(|| Error::internal("device challenge without a device key"))?;
        if responses.get("DEVICE_KEY").is_some_and(|k| k != key) {
            return Err(device_not_found());
        }
        let device = self.device(s.pool, user, key).await?.ok_or_else(device_not_found)?;
        let verifier = self.device_verifier(s.pool, &device).ok_or_else(device_not_found)?;
        Ok((device, verifier))
    }

    /// DEVICE_SRP_AUTH: the device's SRP_A, answered with DEVICE_PASSWORD_VERIFIER (the
    /// device's salt, B and a block to sign).
    pub(crate) async fn answer_device_srp_auth(
        &self,
        s: &SignIn<'_>,
        session: &ChallengeSession,
        user: User,
        responses: &BTreeMap<String, String>,
    ) -> Result<Next> {
        let srp_a = required(responses, "SRP_A")?;
        let a = srp::parse_srp_a(srp_a).map_err(|_| Error::invalid_parameter("Invalid SRP_A value."))?;
        let (device, verifier) = self.challenged_device(s, session, &user, responses).await?;
        let b: [u8; 32] = self.random.bytes();
        let challenge = srp::server_challenge(&verifier, &b).map_err(Error::internal)?;
        let secret_block = srp::encode_secret_block(&self.random.bytes::<64>());
        let b_context = format!("{}/{}/device-srp-b", s.pool.id, user.username);
        let mut data = Map::new();
        data.insert(DATA_KEY.into(), json!(device.key));
        data.insert("A".into(), json!(a.to_hex()));
        data.insert(
            "b".into(),
            json!(STANDARD.encode(self.sealer.seal(&b, b_context.as_bytes(), self.nonce()))),
        );
        data.insert("secretBlock".into(), json!(secret_block));
        let session = self
            .start_challenge(s.pool, s.client, &user, DEVICE_PASSWORD_VERIFIER, data)
            .await?;
        Ok(Next::Challenge(Challenge {
            name: DEVICE_PASSWORD_VERIFIER.into(),
            session,
            parameters: BTreeMap::from([
                ("DEVICE_KEY".into(), device.key.clone()),
                ("SALT".into(), verifier.salt_hex()),
                ("SECRET_BLOCK".into(), secret_block),
                ("SRP_B".into(), challenge.srp_b_hex()),
                ("USERNAME".into(), user.username.clone()),
            ]),
            available_challenges: Vec::new(),
        }))
    }

    /// DEVICE_PASSWORD_VERIFIER: the claim signed with the device's password. Right: the
    /// device is authenticated (and MFA, if it stood in for it, is done).
    pub(crate) async fn answer_device_password_verifier(
        &self,
        s: &SignIn<'_>,
        session: &ChallengeSession,
        user: User,
        responses: &BTreeMap<String, String>,
    ) -> Result<Next> {
        let block = required(responses, "PASSWORD_CLAIM_SECRET_BLOCK")?;
        let signature = required(responses, "PASSWORD_CLAIM_SIGNATURE")?;
        let timestamp = required(responses, "TIMESTAMP")?;
        let (mut device, verifier) = self.challenged_device(s, session, &user, responses).await?;
        let expected_block = session
            .data
            .get("secretBlock")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if !cognate_crypto::ct_eq(block.as_bytes(), expected_block.as_bytes()) {
            return Err(Error::incorrect_credentials());
        }
        let fresh = srp::parse_timestamp(timestamp).is_some_and(|t| {
            let claimed_ms = i64::try_from(t).unwrap_or(i64::MAX).saturating_mul(1000);
            (claimed_ms - self.now_ms()).abs() <= SRP_TIMESTAMP_WINDOW_MS
        });
        if !fresh {
            return Err(Error::incorrect_credentials());
        }
        let a = session
            .data
            .get("A")
            .and_then(Value::as_str)
            .and_then(|h| srp::parse_srp_a(h).ok())
            .ok_or_else(|| Error::internal("device challenge without SRP_A"))?;
        let b_context = format!("{}/{}/device-srp-b", s.pool.id, user.username);
        let b_sealed = session
            .data
            .get("b")
            .and_then(Value::as_str)
            .and_then(|v| STANDARD.decode(v).ok())
            .ok_or_else(|| Error::internal("device challenge without b"))?;
        let b_plain = self
            .sealer
            .open(&b_sealed, b_context.as_bytes())
            .map_err(Error::internal)?;
        let b: [u8; 32] = b_plain.as_slice().try_into().map_err(Error::internal)?;
        let challenge = srp::server_challenge(&verifier, &b).map_err(Error::internal)?;
        let ok = srp::verify_password_claim(
            &device.group_key,
            &device.key,
            &verifier,
            &a,
            &challenge,
            block,
            timestamp,
            signature,
        )
        .unwrap_or(false);
        if !ok {
            return Err(Error::incorrect_credentials());
        }
        device.last_authenticated_ms = Some(self.now_ms());
        self.save_device(s.pool, &user, &device).await?;
        let _ = s.device.authenticated.set(());
        Ok(Next::SignedIn(user, TokenSource::AuthenticateDevice))
    }
}
