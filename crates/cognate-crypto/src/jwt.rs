//! RS256 JSON Web Tokens as Cognito issues them, and the JWKS that publishes their keys.
//!
//! The parsed RSA key pair is kept in memory: parsing PKCS#8 on every signature costs more
//! than the signature itself.
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::{KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{self, KeyPair, RsaKeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64URL};
use serde_json::{Map, Value, json};
use zeroize::Zeroizing;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("malformed token")]
    Malformed,
    #[error("bad signature")]
    Signature,
    #[error("unsupported key")]
    Key,
}

/// Generates a new RSA-2048 key and returns it as PKCS#8 DER.
pub fn generate_rsa_pkcs8() -> Result<Zeroizing<Vec<u8>>, JwtError> {
    let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| JwtError::Key)?;
    let der = pair.as_der().map_err(|_| JwtError::Key)?;
    Ok(Zeroizing::new(der.as_ref().to_vec()))
}

/// One signing key with its key id.
pub struct SigningKey {
    kid: String,
    pair: RsaKeyPair,
    n: Vec<u8>,
    e: Vec<u8>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey(kid={})", self.kid)
    }
}

impl SigningKey {
    /// Loads a PKCS#8 key; the key id is derived from the public key, like Cognito's
    /// 44-character base64 kids.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, JwtError> {
        let pair = RsaKeyPair::from_pkcs8(der).map_err(|_| JwtError::Key)?;
        let comps: PublicKeyComponents<Vec<u8>> = pair.public_key().into();
        let kid = STANDARD.encode(crate::sha256(pair.public_key().as_ref()));
        Ok(Self {
            kid,
            pair,
            n: comps.n,
            e: comps.e,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs the claims; the header is `{"kid":…,"alg":"RS256"}` as in Cognito tokens.
    pub fn sign(&self, claims: &Map<String, Value>) -> String {
        let header = json!({"kid": self.kid, "alg": "RS256"});
        let mut input = B64URL.encode(header.to_string());
        input.push('.');
        input.push_str(&B64URL.encode(Value::Object(claims.clone()).to_string()));
        let mut sig = vec![0u8; self.pair.public_modulus_len()];
        self.pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                input.as_bytes(),
                &mut sig,
            )
            .expect("RSA signing with a valid key cannot fail");
        input.push('.');
        input.push_str(&B64URL.encode(sig));
        input
    }

    /// The JWK of the public key, as Cognito's jwks.json lists it.
    pub fn jwk(&self) -> Value {
        json!({
            "alg": "RS256",
            "e": B64URL.encode(&self.e),
            "kid": self.kid,
            "kty": "RSA",
            "n": B64URL.encode(&self.n),
            "use": "sig",
        })
    }

    /// Verifies the signature of a token made with this key and returns its claims.
    /// Expiry and claim checks are the caller's.
    pub fn verify(&self, token: &str) -> Result<Map<String, Value>, JwtError> {
        let (input, sig) = token.rsplit_once('.').ok_or(JwtError::Malformed)?;
        let sig = B64URL.decode(sig).map_err(|_| JwtError::Malformed)?;
        let public = signature::RsaPublicKeyComponents { n: &self.n, e: &self.e };
        public
            .verify(&signature::RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &sig)
            .map_err(|_| JwtError::Signature)?;
        let (_, payload) = input.split_once('.').ok_or(JwtError::Malformed)?;
        decode_part(payload)
    }
}

fn decode_part(part: &str) -> Result<Map<String, Value>, JwtError> {
    let bytes = B64URL.decode(part).map_err(|_| JwtError::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(JwtError::Malformed),
    }
}

/// The `kid` in a token's header, without verifying anything.
pub fn header_kid(token: &str) -> Result<String, JwtError> {
    let header = token.split('.').next().ok_or(JwtError::Malformed)?;
    let h = decode_part(header)?;
    if token.split('.').count() != 3 || h.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(JwtError::Malformed);
    }
    h.get("kid")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or(JwtError::Malformed)
}

/// Verifies an RS256 token signed by another issuer against its JWKS document
/// (`{"keys": [...]}`): the RSA key the token's `kid` names (or the only one, when the token names
/// none). Returns the claims; expiry, issuer, audience and nonce are the caller's to check.
pub fn verify_with_jwks(token: &str, jwks: &Value) -> Result<Map<String, Value>, JwtError> {
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(JwtError::Malformed);
    };
    let header = decode_part(header)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return Err(JwtError::Key);
    }
    let kid = header.get("kid").and_then(Value::as_str);
    let keys: Vec<&Value> = jwks
        .get("keys")
        .and_then(Value::as_array)
        .map(|k| {
            k.iter()
                .filter(|k| k.get("kty").and_then(Value::as_str) == Some("RSA"))
                .collect()
        })
        .unwrap_or_default();
    let key = match kid {
        Some(kid) => keys.iter().find(|k| k.get("kid").and_then(Value::as_str) == Some(kid)),
        None if keys.len() == 1 => keys.first(),
        None => None,
    }
    .ok_or(JwtError::Key)?;
    let component = |name: &str| -> Result<Vec<u8>, JwtError> {
        let text = key.get(name).and_then(Value::as_str).ok_or(JwtError::Key)?;
        B64URL.decode(text.trim_end_matches('=')).map_err(|_| JwtError::Key)
    };
    let (n, e) = (component("n")?, component("e")?);
    let (input, sig) = token.rsplit_once('.').ok_or(JwtError::Malformed)?;
    let sig = B64URL.decode(sig).map_err(|_| JwtError::Malformed)?;
    let public = signature::RsaPublicKeyComponents { n: &n, e: &e };
    public
        .verify(&signature::RSA_PKCS1_2048_8192_SHA256, input.as_bytes(), &sig)
        .map_err(|_| JwtError::Signature)?;
    let (_, payload) = input.split_once('.').ok_or(JwtError::Malformed)?;
    decode_part(payload)
}

/// An ES256 JWT signed with a PKCS#8 P-256 key given as PEM (`-----BEGIN PRIVATE KEY-----`) or
/// bare base64: Sign in with Apple's client secret, which Apple's token endpoint takes instead
/// of a fixed secret. The header is `{"alg":"ES256","kid":…}`.
pub fn sign_es256(private_key: &str, kid: &str, claims: &Map<String, Value>) -> Result<String, JwtError> {
    // A PEM pasted into one line keeps its line breaks as `\n`.
    let text = private_key.replace("\\n", "\n");
    let body: String = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.split_whitespace())
        .collect();
    let der = STANDARD.decode(body);
    let der = der.map_err(|_| JwtError::Key)?;
    let pair = signature::EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &der)
        .map_err(|_| JwtError::Key)?;
    let header = json!({"alg": "ES256", "kid": kid});
    let mut input = B64URL.encode(header.to_string());
    input.push('.');
    input.push_str(&B64URL.encode(Value::Object(claims.clone()).to_string()));
    let sig = pair
        .sign(&aws_lc_rs::rand::SystemRandom::new(), input.as_bytes())
        .map_err(|_| JwtError::Key)?;
    input.push('.');
    input.push_str(&B64URL.encode(sig.as_ref()));
    Ok(input)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_es256_client_secret_verifies_with_its_public_key() {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let doc = signature::EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pem = format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----",
            STANDARD.encode(doc.as_ref())
        );
        let mut claims = Map::new();
        claims.insert("iss".into(), json!("TEAM"));
        let token = sign_es256(&pem, "KEY", &claims).unwrap();
        let pair =
            signature::EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, doc.as_ref()).unwrap();
        let (input, sig) = token.rsplit_once('.').unwrap();
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, pair.public_key().as_ref())
            .verify(input.as_bytes(), &B64URL.decode(sig).unwrap())
            .unwrap();
        assert_eq!(decode_part(input.split('.').next().unwrap()).unwrap()["kid"], "KEY");
        assert_eq!(sign_es256("not a key", "KEY", &claims), Err(JwtError::Key));
    }

    #[test]
    fn sign_verify_and_jwk() {
        let der = generate_rsa_pkcs8().unwrap();
        let key = SigningKey::from_pkcs8(&der).unwrap();
        assert_eq!(key.kid().len(), 44);
        let mut claims = Map::new();
        claims.insert("sub".into(), json!("abc"));
        let token = key.sign(&claims);
        assert_eq!(header_kid(&token).unwrap(), key.kid());
        assert_eq!(key.verify(&token).unwrap()["sub"], "abc");
        // Tampered payload fails.
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = B64URL.encode(r#"{"sub":"evil"}"#);
        parts[1] = &forged;
        assert_eq!(key.verify(&parts.join(".")), Err(JwtError::Signature));
        // Another key fails.
        let other = SigningKey::from_pkcs8(&generate_rsa_pkcs8().unwrap()).unwrap();
        assert_eq!(other.verify(&token), Err(JwtError::Signature));
        let jwk = key.jwk();
        let jwks = json!({"keys": [other.jwk(), jwk.clone()]});
        assert_eq!(verify_with_jwks(&token, &jwks).unwrap()["sub"], "abc");
        assert_eq!(verify_with_jwks(&parts.join("."), &jwks), Err(JwtError::Signature));
        assert_eq!(
            verify_with_jwks(&token, &json!({"keys": [other.jwk()]})),
            Err(JwtError::Key)
        );
        assert_eq!(jwk["e"], "AQAB");
        assert_eq!(jwk["kty"], "RSA");
    }
}
