//! Passkeys (WebAuthn), the relying party's side: registration options and the verification of
//! a registration (attestation), authentication options and the verification of an assertion.
//! The checks themselves are `webauthn-rs-core`'s (challenge, origin, RP id hash, user presence
//! and verification, attestation statement, signature, sign counter); this module only adapts
//! it to Cognito's JSON: the options are the `PublicKeyCredentialCreationOptionsJSON` and
//! `PublicKeyCredentialRequestOptionsJSON` Cognito hands out, the responses the browser's
//! `RegistrationResponseJSON` and `AuthenticationResponseJSON`.
//!
//! Challenges come from the caller (the server's injected randomness), not from the library.
//! A ceremony's state is opaque text for the caller to keep between its two halves; a
//! credential ("passkey") is opaque text to store, with its id, counter and hints beside it.
//!
//! Origins a relying party accepts: `https://RP_ID` and its subdomains (any port), as WebAuthn
//! scopes a credential; a relying party `localhost` (or `NAME.localhost`) for development also
//! accepts `http://localhost` and `http://*.localhost` (any port). Another relying party never
//! accepts a plain-HTTP origin: a passkey for `auth.example.com` is not usable from a local page.
#[cfg(any(test, feature = "software-authenticator"))]
pub mod authenticator;
#[cfg(any(test, feature = "software-authenticator"))]
mod cbor;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use std::time::Duration;
use url::Url;
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{
    AuthenticationState, COSEAlgorithm, Credential, PublicKeyCredential, RegisterPublicKeyCredential,
    RegistrationState, UserVerificationPolicy,
};

/// The public-key algorithms a passkey may use, in the order the options list them: ES256 and
/// RS256 (COSE -7 and -257).
const ALGORITHMS: [COSEAlgorithm; 2] = [COSEAlgorithm::ES256, COSEAlgorithm::RS256];

/// Why a relying party refused a response (or could not make options).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Not the JSON of a WebAuthn response, or parts of it undecodable.
    #[error("malformed WebAuthn response: {0}")]
    Malformed(String),
    /// The client data names another challenge than the one this ceremony handed out.
    #[error("the response answers another challenge")]
    ChallengeMismatch,
    /// The client data names an origin the relying party does not accept.
    #[error("origin not allowed")]
    OriginNotAllowed,
    /// The authenticator data is for another relying party id.
    #[error("relying party id mismatch")]
    RelyingPartyMismatch,
    /// User presence or (required) user verification is missing.
    #[error("user not present or not verified")]
    UserNotVerified,
    /// An attestation format, algorithm or key this relying party does not accept.
    #[error("credential not supported: {0}")]
    NotSupported(String),
    /// The credential is not one this ceremony allows.
    #[error("unknown credential")]
    UnknownCredential,
    /// The signature counter did not increase: the authenticator may be cloned, or the
    /// assertion replayed.
    #[error("signature counter did not increase")]
    CounterNotIncreased,
    /// The signature (or the attestation statement) does not verify.
    #[error("signature invalid")]
    BadSignature,
    /// The relying party id is not a host name, or the library refused its inputs.
    #[error("relying party misconfigured: {0}")]
    Configuration(String),
}

fn refusal(e: WebauthnError) -> Refusal {
    use WebauthnError as W;
    match e {
        W::MismatchedChallenge | W::ChallengeNotFound => Refusal::ChallengeMismatch,
        W::InvalidRPOrigin | W::CredentialCrossOrigin => Refusal::OriginNotAllowed,
        W::InvalidRPIDHash => Refusal::RelyingPartyMismatch,
        W::UserNotPresent | W::UserNotVerified => Refusal::UserNotVerified,
        W::CredentialNotFound => Refusal::UnknownCredential,
        W::CredentialPossibleCompromise => Refusal::CounterNotIncreased,
        W::AuthenticationFailure | W::SignatureInvalid | W::AttestationStatementSigInvalid => Refusal::BadSignature,
        W::AttestationNotSupported
        | W::CredentialAlteredAlgFromRequest
        | W::CredentialInsecureCryptography
        | W::COSEKeyEDUnsupported
        | W::COSEKeyInvalidAlgorithm
        | W::COSEKeyInvalidType
        | W::CredentialMayNotBeHardwareBound
        | W::CredentialBackupEligibilityInconsistent => Refusal::NotSupported(e.to_string()),
        W::Configuration | W::InvalidUsername | W::InvalidUserUniqueId | W::InconsistentUserVerificationPolicy => {
            Refusal::Configuration(e.to_string())
        }
        other => Refusal::Malformed(other.to_string()),
    }
}

/// The user verification a pool asks of passkeys (WebAuthnConfiguration.UserVerification).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserVerification {
    Required,
    Preferred,
}

impl UserVerification {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "required" => Some(Self::Required),
            "preferred" => Some(Self::Preferred),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Preferred => "preferred",
        }
    }

    fn policy(self) -> UserVerificationPolicy {
        match self {
            Self::Required => UserVerificationPolicy::Required,
            Self::Preferred => UserVerificationPolicy::Preferred,
        }
    }
}

/// The account a passkey is created for (`user` of the creation options).
#[derive(Debug, Clone, Copy)]
pub struct UserEntity<'a> {
    /// The user handle, at most 64 bytes; authenticators return it with every assertion.
    pub id: &'a [u8],
    pub name: &'a str,
    pub display_name: &'a str,
}

/// A stored passkey, as the relying party needs it: its id, the credential the library made
/// (opaque JSON), and the transports to hint with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPasskey<'a> {
    pub id: &'a [u8],
    pub credential: &'a str,
    pub transports: &'a [String],
}

/// A passkey a registration made: store it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPasskey {
    pub id: Vec<u8>,
    /// The library's credential (public key, counter, flags), opaque.
    pub credential: String,
    pub sign_count: u32,
    pub user_verified: bool,
    /// `response.transports` as the browser reported them (usb, nfc, ble, internal, hybrid…).
    pub transports: Vec<String>,
    /// `authenticatorAttachment` as the browser reported it (platform, cross-platform).
    pub attachment: Option<String>,
}

/// A verified assertion: which passkey signed, and its credential with the new counter to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub credential_id: Vec<u8>,
    pub sign_count: u32,
    pub user_verified: bool,
    /// The stored credential brought up to date (counter, backup state).
    pub credential: String,
}

/// A relying party: its id (a host name) and the display name of the creation options.
pub struct RelyingParty {
    id: String,
    name: String,
    core: WebauthnCore,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The credential id of a response (its `rawId`, else its `id`), base64url-decoded; `None` when
/// neither decodes.
pub fn response_credential_id(response: &Value) -> Option<Vec<u8>> {
    ["rawId", "id"]
        .iter()
        .filter_map(|k| response.get(k).and_then(Value::as_str))
        .find_map(|s| URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok())
}

impl RelyingParty {
    /// A relying party for `id` (a host name such as `auth.example.com` or `localhost`).
    pub fn new(id: &str, name: &str) -> Result<Self, Refusal> {
        let https = Url::parse(&format!("https://{id}"))
            .ok()
            .filter(|u| u.host_str() == Some(id))
            .ok_or_else(|| Refusal::Configuration(format!("{id:?} is not a host name")))?;
        let mut origins = vec![https];
        if id == "localhost" || id.ends_with(".localhost") {
            origins.push(Url::parse("http://localhost").map_err(|e| Refusal::Configuration(e.to_string()))?);
        }
        let core =
            WebauthnCore::new_unsafe_experts_only(name, id, origins, Duration::from_secs(300), Some(true), Some(true));
        Ok(Self {
            id: id.to_owned(),
            name: name.to_owned(),
            core,
        })
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// The creation options for a new passkey of `user` (a discoverable credential, ES256 or
    /// RS256, no attestation asked for), and the ceremony's state to keep until the response.
    pub fn registration(
        &self,
        user: UserEntity<'_>,
        challenge: &[u8; 32],
        existing: &[StoredPasskey<'_>],
        verification: UserVerification,
        timeout: Duration,
    ) -> Result<(Value, String), Refusal> {
        let exclude: Vec<Vec<u8>> = existing.iter().map(|p| p.id.to_vec()).collect();
        let builder = self
            .core
            .new_challenge_register_builder(user.id, user.name, user.display_name)
            .map_err(refusal)?
            .user_verification_policy(verification.policy())
            .credential_algorithms(ALGORITHMS.to_vec())
            .require_resident_key(true)
            .exclude_credentials((!exclude.is_empty()).then_some(exclude));
        let (_, state) = self.core.generate_challenge_register(builder).map_err(refusal)?;
        let state = with_challenge(&state, challenge)?;
        let options = json!({
            "challenge": b64(challenge),
            "rp": {"id": self.id, "name": self.name},
            "user": {"id": b64(user.id), "name": user.name, "displayName": user.display_name},
            "pubKeyCredParams": ALGORITHMS.iter().map(|a| json!({"type": "public-key", "alg": *a as i64})).collect::<Vec<_>>(),
            "timeout": timeout.as_millis() as u64,
            "excludeCredentials": descriptors(existing),
            "authenticatorSelection": {
                "requireResidentKey": true,
                "residentKey": "required",
                "userVerification": verification.name(),
            },
        });
        Ok((options, state))
    }

    /// Verifies a registration response (`RegistrationResponseJSON`) against the state of
    /// [`RelyingParty::registration`].
    pub fn finish_registration(&self, state: &str, response: &Value) -> Result<NewPasskey, Refusal> {
        let state: RegistrationState =
            serde_json::from_str(state).map_err(|e| Refusal::Configuration(format!("registration state: {e}")))?;
        let reg: RegisterPublicKeyCredential =
            serde_json::from_value(response.clone()).map_err(|e| Refusal::Malformed(e.to_string()))?;
        let credential = self.core.register_credential(&reg, &state, None).map_err(refusal)?;
        // Hints, not security properties: kept as the browser reported them.
        let transports = response
            .pointer("/response/transports")
            .and_then(Value::as_array)
            .map(|t| t.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        Ok(NewPasskey {
            id: credential.cred_id.clone(),
            sign_count: credential.counter,
            user_verified: credential.user_verified,
            credential: serde_json::to_string(&credential).map_err(|e| Refusal::Configuration(e.to_string()))?,
            transports,
            attachment: response
                .get("authenticatorAttachment")
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    /// The request options for signing in with one of `passkeys`, and the ceremony's state.
    pub fn authentication(
        &self,
        passkeys: &[StoredPasskey<'_>],
        challenge: &[u8; 32],
        verification: UserVerification,
        timeout: Duration,
    ) -> Result<(Value, String), Refusal> {
        let credentials = passkeys
            .iter()
            .map(|p| serde_json::from_str::<Credential>(p.credential))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Refusal::Configuration(format!("stored passkey: {e}")))?;
        let builder = self
            .core
            .new_challenge_authenticate_builder(credentials, Some(verification.policy()))
            .map_err(refusal)?;
        let (_, state) = self.core.generate_challenge_authenticate(builder).map_err(refusal)?;
        let state = with_challenge(&state, challenge)?;
        let options = json!({
            "challenge": b64(challenge),
            "rpId": self.id,
            "timeout": timeout.as_millis() as u64,
            "allowCredentials": descriptors(passkeys),
            "userVerification": verification.name(),
        });
        Ok((options, state))
    }

    /// Verifies an assertion (`AuthenticationResponseJSON`) made with `passkey` (as stored now,
    /// with its current counter) against the state of [`RelyingParty::authentication`]. The
    /// passkey must be among those the state allows, and a `userHandle` in the response must be
    /// `user_handle` (the `user.id` of its registration).
    pub fn finish_authentication(
        &self,
        state: &str,
        passkey: &StoredPasskey<'_>,
        user_handle: &[u8],
        response: &Value,
    ) -> Result<Assertion, Refusal> {
        let state: AuthenticationState =
            serde_json::from_str(state).map_err(|e| Refusal::Configuration(format!("authentication state: {e}")))?;
        let allowed = serde_json::to_value(&state)
            .ok()
            .and_then(|s| s.get("credentials").cloned())
            .and_then(|c| serde_json::from_value::<Vec<Credential>>(c).ok())
            .unwrap_or_default();
        if !allowed.iter().any(|c| c.cred_id.as_slice() == passkey.id) {
            return Err(Refusal::UnknownCredential);
        }
        let mut credential: Credential = serde_json::from_str(passkey.credential)
            .map_err(|e| Refusal::Configuration(format!("stored passkey: {e}")))?;
        let rsp: PublicKeyCredential =
            serde_json::from_value(response.clone()).map_err(|e| Refusal::Malformed(e.to_string()))?;
        if rsp.get_user_unique_id().is_some_and(|h| h != user_handle) {
            return Err(Refusal::UnknownCredential);
        }
        let result = self
            .core
            .authenticate_single_credential(&rsp, &state, &credential)
            .map_err(refusal)?;
        credential.counter = credential.counter.max(result.counter());
        credential.backup_state = result.backup_state();
        credential.backup_eligible = result.backup_eligible();
        Ok(Assertion {
            credential_id: result.cred_id().clone(),
            sign_count: result.counter(),
            user_verified: result.user_verified(),
            credential: serde_json::to_string(&credential).map_err(|e| Refusal::Configuration(e.to_string()))?,
        })
    }
}

/// `{type, id, transports}` for each passkey (excludeCredentials, allowCredentials).
fn descriptors(passkeys: &[StoredPasskey<'_>]) -> Vec<Value> {
    passkeys
        .iter()
        .map(|p| {
            let mut d = json!({"type": "public-key", "id": b64(p.id)});
            if !p.transports.is_empty() {
                d["transports"] = json!(p.transports);
            }
            d
        })
        .collect()
}

/// A ceremony state with `challenge` in place of the one the library drew.
fn with_challenge<S: serde::Serialize>(state: &S, challenge: &[u8; 32]) -> Result<String, Refusal> {
    let mut v = serde_json::to_value(state).map_err(|e| Refusal::Configuration(e.to_string()))?;
    let slot = v
        .get_mut("challenge")
        .ok_or_else(|| Refusal::Configuration("ceremony state without a challenge".into()))?;
    *slot = json!(b64(challenge));
    Ok(v.to_string())
}

#[cfg(test)]
mod tests;
