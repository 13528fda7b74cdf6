//! Passkeys (WebAuthn credentials): StartWebAuthnRegistration, CompleteWebAuthnRegistration,
//! ListWebAuthnCredentials and DeleteWebAuthnCredential, for the user of an access token; and
//! what sign-in (`sign_in/web_authn.rs`) needs of them: the pool's relying party and a user's
//! usable passkeys.
//!
//! A pool offers passkeys when its SignInPolicy allows `WEB_AUTHN` as a first factor
//! (WebAuthnNotEnabledException otherwise). Its relying party id is WebAuthnConfiguration's
//! `RelyingPartyId`, else its custom domain, else its prefix domain as Cognito names it
//! (`PREFIX.auth.REGION.amazoncognito.com`); with none of them, WebAuthnConfigurationMissing.
//! The verification itself is `cognate_crypto::webauthn` (a maintained WebAuthn library).
//!
//! The registration in progress is kept in the pool's secrets scope, one a user
//! (`webauthn-registration/{sub}`), answered once; the passkeys themselves are store records
//! ([`Passkey`]), their credential ids unique in the pool, deleted with their user and pool.
use crate::error::{Error, ErrorKind, Result};
use crate::model::{Passkey, User, UserPool};
use crate::ops::pools::sign_in_policy::allowed_first_factors;
use crate::ops::types::Timestamp;
use crate::ops::users::AccessTokenInput;
use crate::ops::{Empty, Input};
use crate::request::{Request, encode_page_token};
use crate::rng::RandomExt;
use crate::service::Cognito;
use crate::store::StoreError;
use cognate_crypto::webauthn::{Refusal, RelyingParty, StoredPasskey, UserEntity, UserVerification};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::Duration;

/// The most passkeys one user may have (Cognito's quota).
pub(crate) const MAX_PASSKEYS: usize = 20;

/// How long a registration challenge is good for (also the creation options' `timeout`).
const REGISTRATION_TIMEOUT_MS: i64 = 300_000;

const REGISTRATION_PREFIX: &str = "webauthn-registration/";

// ---- the pool's relying party ----------------------------------------------------------------

/// Whether the pool allows passkeys (WEB_AUTHN among its first factors).
pub(crate) fn passkeys_allowed(pool: &UserPool) -> bool {
    allowed_first_factors(pool).iter().any(|f| f == "WEB_AUTHN")
}

/// The pool's relying party id: WebAuthnConfiguration's, else its custom domain, else its
/// prefix domain's Cognito host name.
pub(crate) fn relying_party_id(pool: &UserPool) -> Option<String> {
    let configured = pool
        .setting("WebAuthnConfiguration")
        .and_then(|c| c.get("RelyingPartyId"))
        .and_then(Value::as_str);
    if let Some(id) = configured {
        return Some(id.to_owned());
    }
    if let Some(custom) = pool.setting("CustomDomain").and_then(Value::as_str) {
        return Some(custom.to_owned());
    }
    let prefix = pool.setting("Domain").and_then(Value::as_str)?;
    Some(format!("{prefix}.auth.{}.amazoncognito.com", pool.region()))
}

/// WebAuthnConfiguration's UserVerification (`preferred` unless set).
pub(crate) fn user_verification(pool: &UserPool) -> UserVerification {
    pool.setting("WebAuthnConfiguration")
        .and_then(|c| c.get("UserVerification"))
        .and_then(Value::as_str)
        .and_then(UserVerification::parse)
        .unwrap_or(UserVerification::Preferred)
}

/// The relying party `rp_id` of `pool` (its name is the pool's).
pub(crate) fn relying_party(pool: &UserPool, rp_id: &str) -> Result<RelyingParty> {
    RelyingParty::new(rp_id, &pool.name).map_err(|_| {
        Error::invalid_parameter(format!(
            "The relying party ID {rp_id} of the user pool is not a valid domain name."
        ))
    })
}

/// The user handle passkeys carry: the user's `sub`.
pub(crate) fn user_handle(user: &User) -> &[u8] {
    user.sub.as_bytes()
}

pub(crate) fn stored(p: &Passkey) -> Result<(Vec<u8>, &Passkey)> {
    let id = base64_url_decode(&p.credential_id).ok_or_else(|| Error::internal("stored passkey id not base64url"))?;
    Ok((id, p))
}

pub(crate) fn as_stored<'a>(id: &'a [u8], p: &'a Passkey) -> StoredPasskey<'a> {
    StoredPasskey {
        id,
        credential: &p.credential,
        transports: &p.transports,
    }
}

pub(crate) fn base64_url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn base64_url_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .ok()
}

fn not_enabled() -> Error {
    Error::new(
        ErrorKind::WebAuthnNotEnabledException,
        "Passkeys are not enabled for this user pool: add WEB_AUTHN to its SignInPolicy AllowedFirstAuthFactors.",
    )
}

fn configuration_missing() -> Error {
    Error::new(
        ErrorKind::WebAuthnConfigurationMissingException,
        "The user pool has no relying party ID for passkeys: set WebAuthnConfiguration RelyingPartyId or add a domain.",
    )
}

fn challenge_not_found() -> Error {
    Error::new(
        ErrorKind::WebAuthnChallengeNotFoundException,
        "No passkey registration challenge was found for the user, or it has expired: call StartWebAuthnRegistration.",
    )
}

fn too_many() -> Error {
    Error::new(
        ErrorKind::LimitExceededException,
        format!("The user already has the maximum number of passkeys ({MAX_PASSKEYS})."),
    )
}

fn credential_not_found() -> Error {
    Error::resource_not_found("The passkey credential does not exist.")
}

/// A registration response refused: Cognito's exception for each reason.
fn registration_refused(r: Refusal) -> Error {
    let (kind, message) = match r {
        Refusal::OriginNotAllowed => (
            ErrorKind::WebAuthnOriginNotAllowedException,
            "The passkey's origin is not allowed for the user pool's relying party.".to_owned(),
        ),
        Refusal::RelyingPartyMismatch => (
            ErrorKind::WebAuthnRelyingPartyMismatchException,
            "The passkey was created for another relying party than the user pool's.".to_owned(),
        ),
        Refusal::ChallengeMismatch => return challenge_not_found(),
        Refusal::Malformed(detail) => (
            ErrorKind::InvalidParameterException,
            format!("Invalid WebAuthn registration response: {detail}"),
        ),
        Refusal::Configuration(detail) => return Error::internal(detail),
        other => (
            ErrorKind::WebAuthnCredentialNotSupportedException,
            format!("The passkey is not supported: {other}."),
        ),
    };
    Error::new(kind, message)
}

// ---- the registration in progress --------------------------------------------------------------

/// StartWebAuthnRegistration's state, until CompleteWebAuthnRegistration takes it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Registration {
    client_id: String,
    rp_id: String,
    expires_ms: i64,
    state: String,
}

fn registration_name(user: &User) -> String {
    format!("{REGISTRATION_PREFIX}{}", user.sub)
}

// ---- inputs ------------------------------------------------------------------------------------

pub type StartWebAuthnRegistrationInput = AccessTokenInput;

#[derive(Debug, Clone, PartialEq)]
pub struct CompleteWebAuthnRegistrationInput {
    pub access_token: String,
    /// The browser's RegistrationResponseJSON.
    pub credential: Value,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListWebAuthnCredentialsInput {
    pub access_token: String,
    pub max_results: usize,
    /// The (creation time, credential id) to continue after.
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeleteWebAuthnCredentialInput {
    pub access_token: String,
    pub credential_id: String,
}

impl Input for CompleteWebAuthnRegistrationInput {
    fn decode(req: &Request) -> Result<Self> {
        let access_token = req.str("AccessToken")?;
        let credential = req
            .raw("Credential")
            .cloned()
            .ok_or_else(|| Error::missing("credential"))?;
        Ok(Self {
            access_token,
            credential,
        })
    }
}

impl Input for ListWebAuthnCredentialsInput {
    fn decode(req: &Request) -> Result<Self> {
        let access_token = req.str("AccessToken")?;
        let max_results = match req.limit("MaxResults", MAX_PASSKEYS as i64, MAX_PASSKEYS as i64)? {
            0 => MAX_PASSKEYS,
            n => n,
        };
        if req.opt_str("NextToken")?.is_some_and(|t| t.is_empty()) {
            return Err(Error::constraint(
                "nextToken",
                "",
                "Member must have length greater than or equal to 1",
            ));
        }
        Ok(Self {
            access_token,
            max_results,
            next_token: req.page_token("NextToken")?,
        })
    }
}

impl Input for DeleteWebAuthnCredentialInput {
    fn decode(req: &Request) -> Result<Self> {
        let access_token = req.str("AccessToken")?;
        // StringType allows the empty string; no passkey has that id.
        let credential_id = req
            .opt_str("CredentialId")?
            .ok_or_else(|| Error::missing("credentialId"))?;
        Ok(Self {
            access_token,
            credential_id,
        })
    }
}

// ---- outputs -----------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartWebAuthnRegistrationOutput {
    /// PublicKeyCredentialCreationOptionsJSON.
    pub credential_creation_options: Value,
}

/// WebAuthnCredentialDescription.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct WebAuthnCredentialDescription {
    pub credential_id: String,
    pub friendly_credential_name: String,
    pub relying_party_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authenticator_attachment: Option<String>,
    pub authenticator_transports: Vec<String>,
    pub created_at: Timestamp,
}

impl From<&Passkey> for WebAuthnCredentialDescription {
    fn from(p: &Passkey) -> Self {
        Self {
            credential_id: p.credential_id.clone(),
            friendly_credential_name: p.friendly_name.clone(),
            relying_party_id: p.relying_party_id.clone(),
            authenticator_attachment: p.authenticator_attachment.clone(),
            authenticator_transports: p.transports.clone(),
            created_at: Timestamp::from_millis(p.created_ms),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListWebAuthnCredentialsOutput {
    pub credentials: Vec<WebAuthnCredentialDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// A name for a new passkey: the kind of authenticator and the day it was added.
fn friendly_name(attachment: Option<&str>, created_ms: i64) -> String {
    let kind = match attachment {
        Some("platform") => "Passkey on this device",
        Some("cross-platform") => "Security key",
        _ => "Passkey",
    };
    let (y, m, d) = cognate_crypto::calendar::civil_from_days(created_ms.div_euclid(86_400_000));
    format!("{kind} added {y:04}-{m:02}-{d:02}")
}

fn page_key(p: &Passkey) -> String {
    format!("{:020}/{}", p.created_ms, p.credential_id)
}

// ---- operations --------------------------------------------------------------------------------

impl Cognito {
    /// StartWebAuthnRegistration: creation options for a new passkey of the token's user.
    pub async fn start_web_authn_registration(
        &self,
        input: StartWebAuthnRegistrationInput,
    ) -> Result<StartWebAuthnRegistrationOutput> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        let (pool, user) = (&auth.pool, &auth.user);
        if !passkeys_allowed(pool) {
            return Err(not_enabled());
        }
        let rp_id = relying_party_id(pool).ok_or_else(configuration_missing)?;
        let rp = relying_party(pool, &rp_id)?;
        let existing = self.store.passkeys_of(&pool.id, &user.sub).await?;
        if existing.len() >= MAX_PASSKEYS {
            return Err(too_many());
        }
        let ids = existing.iter().map(stored).collect::<Result<Vec<_>>>()?;
        let exclude: Vec<StoredPasskey<'_>> = ids.iter().map(|(id, p)| as_stored(id, p)).collect();
        let entity = UserEntity {
            id: user_handle(user),
            name: &user.username,
            display_name: &user.username,
        };
        let (options, state) = rp
            .registration(
                entity,
                &self.random.bytes::<32>(),
                &exclude,
                user_verification(pool),
                Duration::from_millis(REGISTRATION_TIMEOUT_MS as u64),
            )
            .map_err(|e| Error::internal(format!("registration options: {e}")))?;
        let record = Registration {
            client_id: auth.client_id.clone(),
            rp_id,
            expires_ms: self.now_ms() + REGISTRATION_TIMEOUT_MS,
            state,
        };
        let bytes = serde_json::to_vec(&record).map_err(Error::internal)?;
        self.store
            .put_secret(&pool.id, &registration_name(user), &bytes)
            .await?;
        Ok(StartWebAuthnRegistrationOutput {
            credential_creation_options: options,
        })
    }

    /// CompleteWebAuthnRegistration: verifies the browser's registration response against the
    /// challenge StartWebAuthnRegistration gave (used up either way) and keeps the passkey.
    pub async fn complete_web_authn_registration(&self, input: CompleteWebAuthnRegistrationInput) -> Result<Empty> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        let (pool, user) = (&auth.pool, &auth.user);
        if !passkeys_allowed(pool) {
            return Err(not_enabled());
        }
        let name = registration_name(user);
        let record: Registration = self
            .store
            .get_secret(&pool.id, &name)
            .await?
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(challenge_not_found)?;
        // Taken once: of two answers to one challenge, one finds it.
        if !self.store.delete_secret(&pool.id, &name).await? || record.expires_ms <= self.now_ms() {
            return Err(challenge_not_found());
        }
        if record.client_id != auth.client_id {
            return Err(Error::new(
                ErrorKind::WebAuthnClientMismatchException,
                "The access token is for another app client than the one that started the passkey registration.",
            ));
        }
        if relying_party_id(pool).as_deref() != Some(record.rp_id.as_str()) {
            return Err(registration_refused(Refusal::RelyingPartyMismatch));
        }
        let rp = relying_party(pool, &record.rp_id)?;
        let new = rp
            .finish_registration(&record.state, &input.credential)
            .map_err(registration_refused)?;
        if self.store.passkeys_of(&pool.id, &user.sub).await?.len() >= MAX_PASSKEYS {
            return Err(too_many());
        }
        let created_ms = self.now_ms();
        let passkey = Passkey {
            pool_id: pool.id.clone(),
            credential_id: base64_url(&new.id),
            user_sub: user.sub.clone(),
            relying_party_id: record.rp_id,
            friendly_name: friendly_name(new.attachment.as_deref(), created_ms),
            authenticator_attachment: new.attachment,
            transports: new.transports,
            created_ms,
            sign_count: new.sign_count,
            credential: new.credential,
        };
        match self.store.insert_passkey(&passkey).await {
            Ok(()) => Ok(Empty {}),
            Err(StoreError::AlreadyExists) => Err(Error::invalid_parameter(
                "This passkey credential is already registered in the user pool.",
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// ListWebAuthnCredentials: the token's user's passkeys, oldest first.
    pub async fn list_web_authn_credentials(
        &self,
        input: ListWebAuthnCredentialsInput,
    ) -> Result<ListWebAuthnCredentialsOutput> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        let after = input.next_token.unwrap_or_default();
        let mut passkeys: Vec<Passkey> = self
            .store
            .passkeys_of(&auth.pool.id, &auth.user.sub)
            .await?
            .into_iter()
            .filter(|p| page_key(p) > after)
            .collect();
        let next_token = (passkeys.len() > input.max_results).then(|| {
            passkeys.truncate(input.max_results);
            passkeys
                .last()
                .map(|p| encode_page_token(&page_key(p)))
                .unwrap_or_default()
        });
        Ok(ListWebAuthnCredentialsOutput {
            credentials: passkeys.iter().map(WebAuthnCredentialDescription::from).collect(),
            next_token,
        })
    }

    /// DeleteWebAuthnCredential: one of the token's user's passkeys.
    pub async fn delete_web_authn_credential(&self, input: DeleteWebAuthnCredentialInput) -> Result<Empty> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        let pool_id = &auth.pool.id;
        let owned = self
            .store
            .get_passkey(pool_id, &input.credential_id)
            .await?
            .is_some_and(|p| p.user_sub == auth.user.sub);
        if !owned || !self.store.delete_passkey(pool_id, &input.credential_id).await? {
            return Err(credential_not_found());
        }
        Ok(Empty {})
    }

    /// Drops a registration in progress (when the user is deleted).
    pub(crate) async fn forget_passkey_registration(&self, pool: &UserPool, user: &User) -> Result<()> {
        self.store.delete_secret(&pool.id, &registration_name(user)).await?;
        Ok(())
    }

    // ---- for sign-in ---------------------------------------------------------------------------

    /// The passkeys `user` can sign in with now: the pool allows passkeys and they were
    /// registered for its current relying party.
    pub(crate) async fn usable_passkeys(&self, pool: &UserPool, user: &User) -> Result<Vec<Passkey>> {
        if !passkeys_allowed(pool) {
            return Ok(Vec::new());
        }
        let Some(rp_id) = relying_party_id(pool) else {
            return Ok(Vec::new());
        };
        Ok(self
            .store
            .passkeys_of(&pool.id, &user.sub)
            .await?
            .into_iter()
            .filter(|p| p.relying_party_id == rp_id)
            .collect())
    }
}

/// The session data a WEB_AUTHN challenge keeps: the ceremony's state and relying party.
pub(crate) fn challenge_data(rp_id: &str, state: String) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("rpId".into(), Value::String(rp_id.to_owned()));
    data.insert("state".into(), Value::String(state));
    data
}
