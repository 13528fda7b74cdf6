//! A software passkey authenticator, the client side of WebAuthn, for tests and the benchmark:
//! it answers creation options with a `RegistrationResponseJSON` (attestation `none`, or
//! `packed` self-attestation) and request options with an `AuthenticationResponseJSON`, as a
//! browser with a platform authenticator would, signing with a real ES256 (P-256) key.
//!
//! Feature `software-authenticator`. Unlike the rest of this crate it draws its own randomness
//! (the key pair, the credential id, ECDSA nonces): it stands for a device, not for the server.
use super::cbor::Cbor;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// The attestation statement a registration carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attestation {
    /// `fmt: "none"`, what browsers send when no attestation was asked for.
    None,
    /// `fmt: "packed"` self-attestation: signed with the credential's own key.
    PackedSelf,
}

const FLAG_UP: u8 = 0x01;
const FLAG_UV: u8 = 0x04;
const FLAG_AT: u8 = 0x40;

/// One passkey on a software device.
pub struct SoftwareAuthenticator {
    key: EcdsaKeyPair,
    credential_id: Vec<u8>,
    user_handle: Vec<u8>,
    /// The signature counter of the next assertion is this plus one.
    pub sign_count: u32,
    /// Whether assertions claim user verification (a PIN or biometric).
    pub user_verified: bool,
}

fn text<'a>(v: &'a Value, path: &[&str]) -> Result<&'a str, String> {
    let mut at = v;
    for p in path {
        at = at.get(p).ok_or_else(|| format!("options without {}", path.join(".")))?;
    }
    at.as_str().ok_or_else(|| format!("{} is not a string", path.join(".")))
}

fn decode(s: &str) -> Result<Vec<u8>, String> {
    URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|e| format!("base64url: {e}"))
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
    json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false})
        .to_string()
        .into_bytes()
}

impl SoftwareAuthenticator {
    /// A new device with a new key pair and credential id, verifying its user.
    pub fn new() -> Result<Self, String> {
        let key = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).map_err(|e| e.to_string())?;
        let mut credential_id = vec![0u8; 32];
        aws_lc_rs::rand::fill(&mut credential_id).map_err(|e| e.to_string())?;
        Ok(Self {
            key,
            credential_id,
            user_handle: Vec::new(),
            sign_count: 0,
            user_verified: true,
        })
    }

    /// Creates the passkey for creation `options` (`PublicKeyCredentialCreationOptionsJSON`) as
    /// a page at `origin` would, for the relying party the options name: returns the
    /// `RegistrationResponseJSON`.
    pub fn register(&mut self, options: &Value, origin: &str, attestation: Attestation) -> Result<Value, String> {
        let rp_id = text(options, &["rp", "id"])?;
        self.user_handle = decode(text(options, &["user", "id"])?)?;
        let challenge = text(options, &["challenge"])?;
        let (rng, device) = (SystemRandom::new(), &*self);

        let point = device.key.public_key().as_ref();
        let (x, y) = (&point[1..33], &point[33..65]);
        let cose_key = Cbor::Map(vec![
            (Cbor::Int(1), Cbor::Int(2)),  // kty: EC2
            (Cbor::Int(3), Cbor::Int(-7)), // alg: ES256
            (Cbor::Int(-1), Cbor::Int(1)), // crv: P-256
            (Cbor::Int(-2), Cbor::Bytes(x)),
            (Cbor::Int(-3), Cbor::Bytes(y)),
        ])
        .to_vec();
        let mut auth_data = device.authenticator_data(rp_id, FLAG_AT, 0);
        auth_data.extend([0u8; 16]); // AAGUID
        auth_data.extend((device.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&device.credential_id);
        auth_data.extend(&cose_key);

        let client_data_json = client_data("webauthn.create", challenge, origin);
        let signature;
        let (fmt, statement) = match attestation {
            Attestation::None => ("none", Cbor::Map(vec![])),
            Attestation::PackedSelf => {
                signature = device.sign(&rng, &auth_data, &client_data_json)?;
                (
                    "packed",
                    Cbor::Map(vec![
                        (Cbor::Text("alg"), Cbor::Int(-7)),
                        (Cbor::Text("sig"), Cbor::Bytes(&signature)),
                    ]),
                )
            }
        };
        let attestation_object = Cbor::Map(vec![
            (Cbor::Text("fmt"), Cbor::Text(fmt)),
            (Cbor::Text("attStmt"), statement),
            (Cbor::Text("authData"), Cbor::Bytes(&auth_data)),
        ])
        .to_vec();
        let id = b64(&device.credential_id);
        let response = json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64(&client_data_json),
                "attestationObject": b64(&attestation_object),
                "transports": ["internal"],
                "publicKeyAlgorithm": -7,
                "authenticatorData": b64(&auth_data),
            },
        });
        Ok(response)
    }

    /// The credential id, base64url (as ListWebAuthnCredentials names it).
    pub fn credential_id(&self) -> String {
        b64(&self.credential_id)
    }

    /// Signs in: answers request `options` (`PublicKeyCredentialRequestOptionsJSON`) as a page
    /// at `origin` would, for the relying party the options name.
    pub fn sign_in(&mut self, options: &Value, origin: &str) -> Result<Value, String> {
        let rp_id = text(options, &["rpId"])?.to_owned();
        self.sign_in_for(options, origin, &rp_id)
    }

    /// Like [`SoftwareAuthenticator::sign_in`] with the authenticator data made for `rp_id`.
    pub fn sign_in_for(&mut self, options: &Value, origin: &str, rp_id: &str) -> Result<Value, String> {
        let challenge = text(options, &["challenge"])?;
        self.sign_count += 1;
        let auth_data = self.authenticator_data(rp_id, 0, self.sign_count);
        let client_data_json = client_data("webauthn.get", challenge, origin);
        let signature = self.sign(&SystemRandom::new(), &auth_data, &client_data_json)?;
        let id = b64(&self.credential_id);
        Ok(json!({
            "id": id,
            "rawId": id,
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {
                "clientDataJSON": b64(&client_data_json),
                "authenticatorData": b64(&auth_data),
                "signature": b64(&signature),
                "userHandle": b64(&self.user_handle),
            },
        }))
    }

    fn authenticator_data(&self, rp_id: &str, extra_flags: u8, sign_count: u32) -> Vec<u8> {
        let mut flags = FLAG_UP | extra_flags;
        if self.user_verified {
            flags |= FLAG_UV;
        }
        let mut out = crate::sha256(rp_id.as_bytes()).to_vec();
        out.push(flags);
        out.extend(sign_count.to_be_bytes());
        out
    }

    /// ES256 over authenticator data and the client data's hash (DER signature).
    fn sign(&self, rng: &SystemRandom, auth_data: &[u8], client_data_json: &[u8]) -> Result<Vec<u8>, String> {
        let mut message = auth_data.to_vec();
        message.extend(crate::sha256(client_data_json));
        self.key
            .sign(rng, &message)
            .map(|s| s.as_ref().to_vec())
            .map_err(|e| e.to_string())
    }
}
