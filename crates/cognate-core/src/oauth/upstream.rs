//! The upstream side of a federated sign-in with an OpenID Connect (or OAuth 2.0 social)
//! provider: the authorization code exchanged at its token endpoint, its ID token verified
//! (signature against its JWKS, issuer, audience, expiry, nonce), and its userInfo read.
//! A failure is the `error_description` the app is sent.
use crate::ops::identity_providers::details::social_jwks_uri;
use crate::ops::identity_providers::{ProviderKind, StoredProvider};
use crate::outbound::{HttpMethod, HttpRequest};
use crate::service::Cognito;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Map, Value};

/// Clock skew tolerated on the upstream ID token's `exp` and `iat` (seconds).
const SKEW_SECS: i64 = 60;

/// What the upstream token endpoint answered.
pub(crate) struct UpstreamTokens {
    pub(crate) access_token: Option<String>,
    pub(crate) id_token: Option<String>,
}

impl Cognito {
    /// Exchanges the upstream code (`client_secret_basic` when the provider has a secret).
    pub(crate) async fn upstream_tokens(
        &self,
        provider: &StoredProvider,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<UpstreamTokens, String> {
        let token_url = provider.detail("token_url").unwrap_or_default();
        let client_id = provider.detail("client_id").unwrap_or_default();
        let mut form = vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), code.to_owned()),
            ("redirect_uri".to_owned(), redirect_uri.to_owned()),
            ("client_id".to_owned(), client_id.to_owned()),
            ("code_verifier".to_owned(), verifier.to_owned()),
        ];
        let getting_token = |status: u16| format!("{} Error - {status} error getting token", provider.name);
        let secret = match provider.kind() {
            ProviderKind::SignInWithApple => Some(self.apple_client_secret(provider)?),
            _ => provider.detail("client_secret").map(str::to_owned),
        };
        // OIDC providers get the secret by HTTP Basic; the social ones, as they document it, in
        // the request.
        let basic = provider.kind() == ProviderKind::Oidc;
        let request = if provider.detail("token_request_method") == Some("GET") {
            if let Some(secret) = &secret {
                form.push(("client_secret".into(), secret.clone()));
            }
            let query = form
                .iter()
                .map(|(k, v)| format!("{k}={}", super::percent_encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            let joiner = if token_url.contains('?') { '&' } else { '?' };
            HttpRequest::get(format!("{token_url}{joiner}{query}"))
        } else if let (Some(secret), true) = (&secret, basic) {
            let credentials = STANDARD.encode(format!(
                "{}:{}",
                super::percent_encode(client_id),
                super::percent_encode(secret)
            ));
            HttpRequest::post_form(token_url, form).header("authorization", format!("Basic {credentials}"))
        } else {
            if let Some(secret) = &secret {
                form.push(("client_secret".into(), secret.clone()));
            }
            HttpRequest::post_form(token_url, form)
        };
        let resp = self.outbound.send(request).await.map_err(|e| {
            tracing::info!(provider = %provider.name, error = %e, "the IdP token endpoint could not be reached");
            "Timeout occurred in calling IdP token endpoint".to_owned()
        })?;
        if !resp.ok() {
            return Err(getting_token(resp.status));
        }
        let body: Map<String, Value> = serde_json::from_slice(&resp.body).map_err(|_| getting_token(resp.status))?;
        let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
        Ok(UpstreamTokens {
            access_token: text("access_token"),
            id_token: text("id_token"),
        })
    }

    /// Sign in with Apple's client secret: a short-lived ES256 JWT signed with the provider's
    /// `private_key` (issuer `team_id`, key `key_id`, subject `client_id`).
    fn apple_client_secret(&self, provider: &StoredProvider) -> Result<String, String> {
        let now = self.clock.now_secs();
        let mut claims = Map::new();
        claims.insert(
            "iss".into(),
            Value::from(provider.detail("team_id").unwrap_or_default()),
        );
        claims.insert("iat".into(), Value::from(now));
        claims.insert("exp".into(), Value::from(now + 300));
        claims.insert("aud".into(), Value::from("https://appleid.apple.com"));
        claims.insert(
            "sub".into(),
            Value::from(provider.detail("client_id").unwrap_or_default()),
        );
        cognate_crypto::jwt::sign_es256(
            provider.detail("private_key").unwrap_or_default(),
            provider.detail("key_id").unwrap_or_default(),
            &claims,
        )
        .map_err(|_| {
            format!(
                "{} Error - the private_key of the provider is not a P-256 key",
                provider.name
            )
        })
    }

    /// Verifies the upstream ID token and returns its claims.
    pub(crate) async fn verify_upstream_id_token(
        &self,
        provider: &StoredProvider,
        token: &str,
        nonce: &str,
    ) -> Result<Map<String, Value>, String> {
        let invalid = |why: &str| {
            tracing::info!(provider = %provider.name, why, "an upstream ID token was refused");
            format!("Invalid ID token received from {}: {why}", provider.name)
        };
        let jwks_uri = provider
            .detail("jwks_uri")
            .or_else(|| social_jwks_uri(provider.kind()))
            .ok_or_else(|| invalid("no JWKS to verify it with"))?;
        let jwks: Value = match self.outbound.send(HttpRequest::get(jwks_uri)).await {
            Ok(r) if r.ok() => serde_json::from_slice(&r.body).map_err(|_| invalid("unreadable JWKS"))?,
            _ => return Err(invalid("the JWKS could not be read")),
        };
        let claims = cognate_crypto::jwt::verify_with_jwks(token, &jwks).map_err(|_| invalid("bad signature"))?;
        let issuer = provider.detail("oidc_issuer").unwrap_or_default();
        let iss = claims.get("iss").and_then(Value::as_str).unwrap_or_default();
        if iss.trim_end_matches('/') != issuer.trim_end_matches('/') {
            return Err(invalid("wrong issuer"));
        }
        let client_id = provider.detail("client_id").unwrap_or_default();
        let audience_ok = match claims.get("aud") {
            Some(Value::String(a)) => a == client_id,
            Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(client_id)),
            _ => false,
        };
        if !audience_ok {
            return Err(invalid("wrong audience"));
        }
        let now = self.clock.now_secs();
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or_else(|| invalid("no expiry"))?;
        if exp + SKEW_SECS <= now {
            return Err(invalid("expired"));
        }
        if claims
            .get("iat")
            .and_then(Value::as_i64)
            .is_some_and(|iat| iat > now + SKEW_SECS)
        {
            return Err(invalid("issued in the future"));
        }
        if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
            return Err(invalid("wrong nonce"));
        }
        Ok(claims)
    }

    /// The provider's userInfo (`attributes_url`) for the upstream access token; `None` when it
    /// has none or does not answer.
    pub(crate) async fn upstream_user_info(
        &self,
        provider: &StoredProvider,
        access_token: &str,
    ) -> Option<Map<String, Value>> {
        let mut url = provider.detail("attributes_url")?.to_owned();
        // Google's and Facebook's attribute URLs take the fields asked for appended. Google's
        // user is read from its ID token instead (the People API answers in its own shape).
        if provider.detail("attributes_url_add_attributes") == Some("true") {
            if provider.kind() == ProviderKind::Google {
                return None;
            }
            let mut fields: Vec<&str> = provider.attribute_mapping.values().map(String::as_str).collect();
            fields.sort_unstable();
            fields.dedup();
            url.push_str(&fields.join(","));
        }
        let method = match provider.detail("attributes_request_method") {
            Some("POST") => HttpMethod::Post,
            _ => HttpMethod::Get,
        };
        let request = HttpRequest {
            method,
            url,
            headers: vec![("authorization".into(), format!("Bearer {access_token}"))],
            form: (method == HttpMethod::Post).then(Vec::new),
        };
        match self.outbound.send(request).await {
            Ok(r) if r.ok() => serde_json::from_slice(&r.body).ok(),
            Ok(r) => {
                tracing::info!(provider = %provider.name, status = r.status, "the IdP userInfo endpoint refused");
                None
            }
            Err(e) => {
                tracing::info!(provider = %provider.name, error = %e, "the IdP userInfo endpoint could not be reached");
                None
            }
        }
    }
}

/// A claim's value as a user attribute: strings as they are, other values as JSON text
/// (booleans `true`/`false`).
pub(crate) fn claim_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Whether the provider's type signs in with an ID token (the others only have userInfo).
pub(crate) fn expects_id_token(kind: ProviderKind) -> bool {
    matches!(
        kind,
        ProviderKind::Oidc | ProviderKind::Google | ProviderKind::SignInWithApple
    )
}
