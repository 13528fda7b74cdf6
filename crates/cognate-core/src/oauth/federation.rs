//! Federated sign-in through an OpenID Connect or social provider: `/oauth2/authorize` with
//! `identity_provider` (or `idp_identifier`) sends the browser to the provider with a state,
//! nonce and PKCE verifier of our own, kept in the store and bound to the browser by a cookie;
//! `/oauth2/idpresponse` takes them back once, exchanges the provider's code, verifies what it
//! answered and signs the federated user in (`ops/federated_users.rs`). The app then gets its
//! code as after the sign-in page.
use super::authorize::{AuthorizeParams, AuthorizeRefusal, AuthorizeRequest};
use super::upstream::expects_id_token;
use super::with_params;
use crate::error::{Error, ErrorKind, Result};
use crate::model::{ChallengeSession, User};
use crate::ops::federated_users::{ExternalIdentity, claims_text};
use crate::ops::identity_providers::ProviderKind;
use crate::rng::RandomExt;
use crate::service::{CallContext, Cognito};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde_json::{Map, Value, json};

/// How long a browser may take at the provider.
pub const FEDERATION_SECS: i64 = 600;
const FEDERATION_CHALLENGE: &str = "FEDERATION";

/// Where to send the browser, and the value of the cookie that binds the sign-in to it.
#[derive(Debug, Clone)]
pub struct FederationStart {
    pub location: String,
    pub binding: String,
}

/// The parameters the provider redirects back with.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct IdpResponseParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
    pub error_description: Option<String>,
}

/// How `/oauth2/idpresponse` ends.
#[derive(Debug)]
pub enum FederationEnd {
    /// No sign-in of this browser waits for that state (unknown, used, expired, or begun in
    /// another browser): Cognito's error page.
    Unknown,
    /// The app's authorize parameters (as a query string), and the user signed in, or the
    /// `error` and `error_description` for the app's redirect URI.
    Done {
        query: String,
        outcome: std::result::Result<Box<User>, (&'static str, String)>,
    },
}

fn digest(value: &str) -> String {
    cognate_crypto::hex(&cognate_crypto::sha256(value.as_bytes()))
}

fn record_id(state: &str) -> String {
    format!("federation:{}", digest(state))
}

impl Cognito {
    /// Begins a federated sign-in for an accepted authorize request that named a provider.
    /// `callback` is this domain's `/oauth2/idpresponse` as the browser reaches it.
    pub async fn start_federation(
        &self,
        req: &AuthorizeRequest,
        params: &AuthorizeParams,
        callback: &str,
    ) -> Result<FederationStart> {
        let provider = req
            .identity_provider
            .as_ref()
            .ok_or_else(|| Error::internal("a federated sign-in without a provider"))?;
        let token = || URL_SAFE_NO_PAD.encode(self.random.bytes::<32>());
        let (state, nonce, verifier, binding) = (token(), token(), token(), token());
        let challenge = URL_SAFE_NO_PAD.encode(cognate_crypto::sha256(verifier.as_bytes()));
        let mut data = Map::new();
        data.insert("params".into(), serde_json::to_value(params).map_err(Error::internal)?);
        data.insert("provider".into(), json!(provider.name));
        data.insert("nonce".into(), json!(nonce));
        data.insert("verifier".into(), json!(verifier));
        data.insert("callback".into(), json!(callback));
        data.insert("binding".into(), json!(digest(&binding)));
        let record = ChallengeSession {
            id: record_id(&state),
            pool_id: req.pool.id.clone(),
            client_id: req.client.client_id.clone(),
            username: String::new(),
            challenge: FEDERATION_CHALLENGE.into(),
            expires_ms: self.now_ms() + FEDERATION_SECS * 1000,
            data,
        };
        self.store.put_challenge(&record).await?;
        let authorize_url = provider.detail("authorize_url").unwrap_or_default();
        let client_id = provider.detail("client_id").unwrap_or_default();
        let scopes = provider.detail("authorize_scopes").unwrap_or("openid");
        let mut query = vec![
            ("response_type", "code"),
            ("client_id", client_id),
            ("redirect_uri", callback),
            ("scope", scopes),
            ("state", &state),
            ("nonce", &nonce),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ];
        // Apple sends the user's name and email only with a form post to the callback.
        if provider.kind() == ProviderKind::SignInWithApple {
            query.push(("response_mode", "form_post"));
        }
        let location = with_params(authorize_url, &query, false);
        Ok(FederationStart { location, binding })
    }

    /// Completes a federated sign-in at `/oauth2/idpresponse`. `binding` is the browser's
    /// cookie from [`Cognito::start_federation`].
    pub async fn finish_federation(
        &self,
        p: &IdpResponseParams,
        binding: Option<&str>,
        ctx: &CallContext,
    ) -> Result<FederationEnd> {
        let Some(state) = p.state.as_deref().filter(|s| !s.is_empty()) else {
            return Ok(FederationEnd::Unknown);
        };
        let Some(record) = self.store.take_challenge(&record_id(state)).await? else {
            return Ok(FederationEnd::Unknown);
        };
        let text = |k: &str| {
            record
                .data
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let bound = binding.is_some_and(|b| cognate_crypto::ct_eq(digest(b).as_bytes(), text("binding").as_bytes()));
        if record.challenge != FEDERATION_CHALLENGE || record.expires_ms <= self.now_ms() || !bound {
            return Ok(FederationEnd::Unknown);
        }
        let params: AuthorizeParams = record
            .data
            .get("params")
            .cloned()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        let query = params.to_query();
        let req = match self.check_authorize(&params, Some(&record.pool_id)).await {
            Ok(req) => req,
            Err(AuthorizeRefusal::Internal(e)) => return Err(e),
            Err(_) => return Ok(FederationEnd::Unknown),
        };
        let outcome = self.federated_outcome(p, &record, &req, ctx).await;
        let outcome = match outcome {
            Ok(user) => Ok(Box::new(user)),
            Err(Failure::Described(d)) => Err(("invalid_request", d)),
            Err(Failure::Core(e)) if e.kind == ErrorKind::InternalErrorException => {
                tracing::error!(detail = e.detail().unwrap_or_default(), "federated sign-in failed");
                Err(("server_error", "An internal error occurred.".to_owned()))
            }
            Err(Failure::Core(e)) => Err(("invalid_request", e.message)),
        };
        Ok(FederationEnd::Done { query, outcome })
    }

    async fn federated_outcome(
        &self,
        p: &IdpResponseParams,
        record: &ChallengeSession,
        req: &AuthorizeRequest,
        ctx: &CallContext,
    ) -> std::result::Result<User, Failure> {
        let text = |k: &str| {
            record
                .data
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        if let Some(error) = &p.error {
            let description = p.error_description.clone().unwrap_or_else(|| error.clone());
            return Err(Failure::Described(description));
        }
        let provider = self
            .identity_provider(&req.pool.id, &text("provider"))
            .await?
            .ok_or_else(|| Failure::Described("Identity provider does not exist.".into()))?;
        let code = p
            .code
            .as_deref()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| Failure::Described(format!("{} did not return a code", provider.name)))?;
        let tokens = self
            .upstream_tokens(&provider, code, &text("callback"), &text("verifier"))
            .await
            .map_err(Failure::Described)?;
        let mut claims = Map::new();
        match tokens.id_token.as_ref().filter(|_| expects_id_token(provider.kind())) {
            Some(id_token) => {
                claims = self
                    .verify_upstream_id_token(&provider, id_token, &text("nonce"))
                    .await
                    .map_err(Failure::Described)?;
            }
            None if expects_id_token(provider.kind()) => {
                return Err(Failure::Described(format!(
                    "{} did not return an ID token",
                    provider.name
                )));
            }
            None => {}
        }
        if let Some(access) = &tokens.access_token
            && let Some(info) = self.upstream_user_info(&provider, access).await
        {
            let same_subject = match (claims.get("sub"), info.get("sub")) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            if !same_subject {
                return Err(Failure::Described(format!(
                    "{} answered userInfo for another user",
                    provider.name
                )));
            }
            for (k, v) in info {
                claims.entry(k).or_insert(v);
            }
        }
        let identity = ExternalIdentity {
            claims: claims_text(&claims),
            subject: claims.get("sub").and_then(Value::as_str).map(str::to_owned),
            issuer: None,
        };
        Ok(self
            .federated_sign_in(&req.pool, &req.client, &provider, &identity, ctx)
            .await?)
    }
}

/// Why a federated sign-in failed: a description for the app, or a core error.
enum Failure {
    Described(String),
    Core(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}
