//! `/oauth2/authorize` (and the hosted pages, which take the same parameters): which requests
//! are acceptable, how refusals are answered, and the authorization code a sign-in ends with.
use super::{OAuthError, allows_flow, client_scopes, oauth_enabled, percent_encode, split_scopes, with_params};
use crate::error::{Error, Result};
use crate::model::{AppClient, ChallengeSession, User, UserPool};
use crate::ops::domains::domain_of_pool;
use crate::ops::identity_providers::StoredProvider;
use crate::rng::RandomExt;
use crate::service::{CallContext, Cognito};
use crate::tokens::{OAuthGrant, SessionUse, TokenSource};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// How long an authorization code may be redeemed (Cognito: five minutes).
pub const CODE_SECS: i64 = 300;
const CODE_CHALLENGE: &str = "AUTHORIZATION_CODE";

/// The parameters `/oauth2/authorize` and the hosted pages take (all optional on the wire).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub state: Option<String>,
    pub scope: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub nonce: Option<String>,
    pub identity_provider: Option<String>,
    pub idp_identifier: Option<String>,
    pub prompt: Option<String>,
    pub login_hint: Option<String>,
    pub lang: Option<String>,
}

impl AuthorizeParams {
    /// The parameters as a query string, to carry them from page to page.
    pub fn to_query(&self) -> String {
        let pairs = [
            ("response_type", &self.response_type),
            ("client_id", &self.client_id),
            ("redirect_uri", &self.redirect_uri),
            ("state", &self.state),
            ("scope", &self.scope),
            ("code_challenge", &self.code_challenge),
            ("code_challenge_method", &self.code_challenge_method),
            ("nonce", &self.nonce),
            ("identity_provider", &self.identity_provider),
            ("idp_identifier", &self.idp_identifier),
            ("prompt", &self.prompt),
            ("login_hint", &self.login_hint),
            ("lang", &self.lang),
        ];
        pairs
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={}", percent_encode(v))))
            .collect::<Vec<_>>()
            .join("&")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseType {
    /// The authorization code flow: `?code=` on the redirect.
    Code,
    /// The implicit flow: tokens in the redirect's fragment.
    Token,
}

/// An acceptable authorize request, with its pool and client.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub pool: UserPool,
    pub client: AppClient,
    pub response_type: ResponseType,
    pub redirect_uri: String,
    pub state: Option<String>,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Option<String>,
    pub login_hint: Option<String>,
    /// The provider `identity_provider` or `idp_identifier` named (not COGNITO): the browser
    /// goes to it instead of the sign-in page.
    pub identity_provider: Option<StoredProvider>,
    /// The providers the client offers besides COGNITO (buttons on the sign-in page).
    pub offered_providers: Vec<String>,
    /// Whether the client offers the pool's own sign-in (COGNITO).
    pub cognito_offered: bool,
}

/// A refused authorize request. Until the client and its redirect URI are known good the
/// answer is Cognito's own error page, never a redirect (no open redirect); after, the error
/// goes back to the client on its redirect URI.
#[derive(Debug)]
pub enum AuthorizeRefusal {
    /// `/error?error=…&client_id=…`.
    ErrorPage { error: String, client_id: Option<String> },
    /// The redirect URI with `error` (and `error_description`, `state`).
    Redirect(String),
    /// A failure of ours, before the redirect URI was checked.
    Internal(Error),
}

impl From<Error> for AuthorizeRefusal {
    fn from(e: Error) -> Self {
        AuthorizeRefusal::Internal(e)
    }
}

impl From<crate::store::StoreError> for AuthorizeRefusal {
    fn from(e: crate::store::StoreError) -> Self {
        AuthorizeRefusal::Internal(e.into())
    }
}

fn error_page(error: &str, client_id: Option<&str>) -> AuthorizeRefusal {
    AuthorizeRefusal::ErrorPage {
        error: error.to_owned(),
        client_id: client_id.map(str::to_owned),
    }
}

impl Cognito {
    /// Checks an authorize request in Cognito's order: the client (and that its pool has a
    /// domain, the one the request came to when `domain_pool` is given), the redirect URI
    /// (exactly one of CallbackURLs), then the rest, which are refused on the redirect URI.
    pub async fn check_authorize(
        &self,
        p: &AuthorizeParams,
        domain_pool: Option<&str>,
    ) -> std::result::Result<AuthorizeRequest, AuthorizeRefusal> {
        let client_id = p.client_id.as_deref().filter(|c| !c.is_empty());
        let Some(client_id) = client_id else {
            return Err(error_page("Required String parameter 'client_id' is not present", None));
        };
        let Some(client) = self.find_client(client_id).await? else {
            return Err(error_page("invalid_request", Some(client_id)));
        };
        let Some(pool) = self.store.get_pool(&client.pool_id).await? else {
            return Err(error_page("invalid_request", Some(client_id)));
        };
        if domain_of_pool(&pool).is_none() || domain_pool.is_some_and(|d| d != pool.id) {
            return Err(error_page("invalid_request", Some(client_id)));
        }
        let callbacks = client.string_list("CallbackURLs").unwrap_or_default();
        let redirect_uri = p.redirect_uri.clone().or_else(|| {
            client
                .setting("DefaultRedirectURI")
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        let Some(redirect_uri) = redirect_uri.filter(|r| callbacks.contains(r)) else {
            return Err(error_page("redirect_mismatch", Some(client_id)));
        };
        let refuse = |error: &str, description: Option<&str>| {
            let mut params = vec![];
            if let Some(d) = description {
                params.push(("error_description", d));
            }
            if let Some(s) = p.state.as_deref() {
                params.push(("state", s));
            }
            params.push(("error", error));
            AuthorizeRefusal::Redirect(with_params(&redirect_uri, &params, false))
        };
        if !oauth_enabled(&client) {
            return Err(refuse("unauthorized_client", None));
        }
        let response_type = match p.response_type.as_deref() {
            Some("code") => ResponseType::Code,
            Some("token") => ResponseType::Token,
            Some(_) => return Err(refuse("unsupported_response_type", None)),
            None => return Err(refuse("invalid_request", None)),
        };
        let flow = match response_type {
            ResponseType::Code => "code",
            ResponseType::Token => "implicit",
        };
        if !allows_flow(&client, flow) {
            return Err(refuse("unauthorized_client", None));
        }
        match (p.code_challenge.as_deref(), p.code_challenge_method.as_deref()) {
            (None, None) | (Some(_), Some("S256")) => {}
            _ => return Err(refuse("invalid_request", None)),
        }
        let supported = client.string_list("SupportedIdentityProviders").unwrap_or_default();
        let cognito_offered = supported.iter().any(|s| s == "COGNITO");
        let offered_providers: Vec<String> = supported.iter().filter(|s| *s != "COGNITO").cloned().collect();
        let named = match (p.identity_provider.as_deref(), p.idp_identifier.as_deref()) {
            (Some("COGNITO"), _) => None,
            (Some(name), _) => Some(self.identity_provider(&pool.id, name).await?.ok_or(name)),
            (None, Some(identifier)) => Some(
                self.provider_by_identifier(&pool.id, identifier)
                    .await?
                    .ok_or(identifier),
            ),
            (None, None) => None,
        };
        let identity_provider = match named {
            None => None,
            Some(Err(_)) => {
                return Err(refuse("invalid_request", Some("Identity provider does not exist.")));
            }
            Some(Ok(provider)) if !offered_providers.contains(&provider.name) => {
                return Err(refuse(
                    "unauthorized_client",
                    Some(&format!(
                        "{} is not a supported identity provider of this client",
                        provider.name
                    )),
                ));
            }
            Some(Ok(provider)) => Some(provider),
        };
        let wants_cognito =
            identity_provider.is_none() && (p.identity_provider.is_some() || offered_providers.is_empty());
        if wants_cognito && !cognito_offered {
            return Err(refuse(
                "unauthorized_client",
                Some("COGNITO is not a supported identity provider of this client"),
            ));
        }
        let allowed = client_scopes(&client);
        let scopes = match p.scope.as_deref().map(split_scopes) {
            Some(asked) if !asked.is_empty() => {
                let needs_openid = asked
                    .iter()
                    .any(|s| matches!(s.as_str(), "email" | "phone" | "profile"));
                if asked.iter().any(|s| !allowed.contains(s)) || (needs_openid && !asked.iter().any(|s| s == "openid"))
                {
                    return Err(refuse("invalid_request", Some("invalid_scope")));
                }
                asked
            }
            _ => allowed,
        };
        let scopes = self.active_scopes(&pool, scopes).await?;
        Ok(AuthorizeRequest {
            pool,
            client,
            response_type,
            redirect_uri,
            state: p.state.clone(),
            scopes,
            nonce: p.nonce.clone(),
            code_challenge: p.code_challenge.clone(),
            prompt: p.prompt.clone(),
            login_hint: p.login_hint.clone(),
            identity_provider,
            offered_providers,
            cognito_offered,
        })
    }

    /// Where the browser goes after signing in: the redirect URI with a code, or for the
    /// implicit flow with the tokens in the fragment (no refresh token; an ID token only with
    /// `openid`).
    pub async fn authorization_redirect(
        &self,
        req: &AuthorizeRequest,
        user: &User,
        auth_time: i64,
        ctx: &CallContext,
    ) -> Result<String> {
        let state = req.state.as_deref();
        match req.response_type {
            ResponseType::Code => {
                let code = self.random.uuid_v4();
                let mut data = Map::new();
                data.insert("redirectUri".into(), json!(req.redirect_uri));
                data.insert("scopes".into(), json!(req.scopes));
                data.insert("nonce".into(), json!(req.nonce));
                data.insert("codeChallenge".into(), json!(req.code_challenge));
                data.insert("authTime".into(), json!(auth_time));
                data.insert("sub".into(), json!(user.sub));
                let record = ChallengeSession {
                    id: code_record_id(&code),
                    pool_id: req.pool.id.clone(),
                    client_id: req.client.client_id.clone(),
                    username: user.username.clone(),
                    challenge: CODE_CHALLENGE.into(),
                    expires_ms: self.now_ms() + CODE_SECS * 1000,
                    data,
                };
                self.store.put_challenge(&record).await?;
                let mut params = vec![("code", code.as_str())];
                if let Some(s) = state {
                    params.push(("state", s));
                }
                Ok(with_params(&req.redirect_uri, &params, false))
            }
            ResponseType::Token => {
                let grant = OAuthGrant {
                    scopes: req.scopes.clone(),
                    nonce: req.nonce.clone(),
                    auth_time,
                };
                let tokens = self
                    .issue_tokens_for(
                        &req.pool,
                        &req.client,
                        user,
                        (TokenSource::HostedAuth, Some(&grant)),
                        SessionUse::New,
                        None,
                        ctx,
                    )
                    .await?;
                let expires = tokens.expires_in.to_string();
                let mut params = vec![];
                if req.scopes.iter().any(|s| s == "openid") {
                    params.push(("id_token", tokens.id_token.as_str()));
                }
                params.push(("access_token", tokens.access_token.as_str()));
                params.push(("expires_in", &expires));
                params.push(("token_type", "Bearer"));
                if let Some(s) = state {
                    params.push(("state", s));
                }
                Ok(with_params(&req.redirect_uri, &params, true))
            }
        }
    }

    /// Redeems an authorization code once: its stored grant, if it is live and was given to
    /// `client_id`.
    pub(crate) async fn take_code(
        &self,
        code: &str,
        client_id: &str,
    ) -> std::result::Result<(ChallengeSession, RedeemedCode), OAuthError> {
        let record = self
            .store
            .take_challenge(&code_record_id(code))
            .await
            .map_err(|e| OAuthError::internal(e.into()))?
            .filter(|r| r.challenge == CODE_CHALLENGE && r.client_id == client_id && r.expires_ms > self.now_ms())
            .ok_or_else(|| OAuthError::new(400, "invalid_grant"))?;
        let str_of = |k: &str| record.data.get(k).and_then(Value::as_str).map(str::to_owned);
        let redeemed = RedeemedCode {
            redirect_uri: str_of("redirectUri").unwrap_or_default(),
            scopes: record
                .data
                .get("scopes")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default(),
            nonce: str_of("nonce"),
            code_challenge: str_of("codeChallenge"),
            auth_time: record.data.get("authTime").and_then(Value::as_i64).unwrap_or_default(),
            sub: str_of("sub").unwrap_or_default(),
        };
        Ok((record, redeemed))
    }
}

/// What a redeemed code carries.
#[derive(Debug, Clone)]
pub(crate) struct RedeemedCode {
    pub(crate) redirect_uri: String,
    pub(crate) scopes: Vec<String>,
    pub(crate) nonce: Option<String>,
    pub(crate) code_challenge: Option<String>,
    pub(crate) auth_time: i64,
    pub(crate) sub: String,
}

/// Codes are stored under their digest: the store never holds a redeemable code.
fn code_record_id(code: &str) -> String {
    format!("code:{}", cognate_crypto::hex(&cognate_crypto::sha256(code.as_bytes())))
}
