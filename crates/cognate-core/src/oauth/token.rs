//! `POST /oauth2/token`: the authorization_code, refresh_token and client_credentials grants,
//! with the client authenticated by HTTP Basic or by `client_id`/`client_secret` in the body.
use super::machines::MachineClient;
use super::{OAuthError, allows_flow, client_scopes, domain_pool_check, is_custom_scope, oauth_enabled, split_scopes};
use crate::error::{Error, ErrorKind};
use crate::model::{AppClient, UserPool};
use crate::ops::clients::flow_allowed;
use crate::ops::clients::token_validity_secs;
use crate::rng::RandomExt;
use crate::service::{CallContext, Cognito};
use crate::tokens::{OAuthGrant, SessionUse, TokenSource};
use crate::triggers::events::{
    GroupConfiguration, PreTokenGenerationV2Event, PreTokenGenerationV2Request, SyncTriggerEvent,
};
use crate::triggers::{Trigger, trigger_envelope};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The form of a token request and its `Authorization: Basic` credentials, if any.
#[derive(Debug, Clone, Default)]
pub struct TokenForm {
    pub form: BTreeMap<String, String>,
    pub basic: Option<(String, String)>,
}

/// The token endpoint's JSON answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub access_token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    pub expires_in: i64,
    pub token_type: String,
}

type OAuthResult<T> = std::result::Result<T, OAuthError>;

/// A core error met while redeeming a grant, as the token endpoint answers it.
fn grant_error(e: Error) -> OAuthError {
    match e.kind {
        ErrorKind::NotAuthorizedException
        | ErrorKind::UserNotFoundException
        | ErrorKind::RefreshTokenReuseException => OAuthError::described(400, "invalid_grant", e.message.clone()),
        ErrorKind::UserLambdaValidationException
        | ErrorKind::UnexpectedLambdaException
        | ErrorKind::InvalidLambdaResponseException => OAuthError::invalid_request(e.message.clone()),
        ErrorKind::InternalErrorException => OAuthError::internal(e),
        _ => OAuthError::invalid_request(e.message.clone()),
    }
}

fn invalid_client() -> OAuthError {
    OAuthError::new(400, "invalid_client")
}

/// The client id and secret a request authenticates with: HTTP Basic, or `client_id` (and
/// `client_secret`) in the body; both ways at once must name the same client.
fn credentials(req: &TokenForm) -> OAuthResult<(String, Option<String>)> {
    let body_id = req.form.get("client_id");
    match &req.basic {
        Some((id, secret)) => {
            if body_id.is_some_and(|b| b != id) {
                return Err(invalid_client());
            }
            Ok((id.clone(), Some(secret.clone())))
        }
        None => Ok((
            body_id.cloned().ok_or_else(invalid_client)?,
            req.form.get("client_secret").cloned(),
        )),
    }
}

/// A client with a secret must be given it (compared in constant time).
fn check_secret(client: &AppClient, secret: Option<String>) -> OAuthResult<()> {
    if let Some(expected) = &client.secret {
        let given = secret.unwrap_or_default();
        if !cognate_crypto::ct_eq(given.as_bytes(), expected.as_bytes()) {
            return Err(invalid_client());
        }
    }
    Ok(())
}

impl Cognito {
    /// Answers a token request. `domain_pool` is the pool whose domain the request came to,
    /// when it came to one by name.
    pub async fn token_endpoint(
        &self,
        req: &TokenForm,
        domain_pool: Option<&str>,
        ctx: &CallContext,
    ) -> OAuthResult<TokenResponse> {
        let grant_type = req
            .form
            .get("grant_type")
            .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
        if !matches!(
            grant_type.as_str(),
            "authorization_code" | "refresh_token" | "client_credentials"
        ) {
            return Err(OAuthError::new(400, "unsupported_grant_type"));
        }
        if grant_type == "client_credentials" {
            let (client_id, secret) = credentials(req)?;
            let machine = self
                .machine_client(&client_id)
                .await
                .map_err(OAuthError::internal)?
                .ok_or_else(invalid_client)?;
            check_secret(&machine.client, secret)?;
            domain_pool_check(&machine.pool, domain_pool)?;
            if !oauth_enabled(&machine.client) {
                return Err(OAuthError::new(400, "unauthorized_client"));
            }
            return self.client_credentials(req, &machine, ctx).await;
        }
        let (client, pool) = self.authenticate_client(req, domain_pool).await?;
        if !oauth_enabled(&client) {
            return Err(OAuthError::new(400, "unauthorized_client"));
        }
        match grant_type.as_str() {
            "authorization_code" => self.redeem_code(req, &pool, &client, ctx).await,
            _ => self.redeem_refresh_token(req, &pool, &client, ctx).await,
        }
    }

    /// The client of a token or revocation request, authenticated: HTTP Basic, or `client_id`
    /// (and `client_secret` for a client with a secret) in the body; secrets compared in
    /// constant time.
    pub(crate) async fn authenticate_client(
        &self,
        req: &TokenForm,
        domain_pool: Option<&str>,
    ) -> OAuthResult<(AppClient, UserPool)> {
        let (client_id, secret) = credentials(req)?;
        let client = self
            .find_client(&client_id)
            .await
            .map_err(OAuthError::internal)?
            .ok_or_else(invalid_client)?;
        check_secret(&client, secret)?;
        let pool = self
            .store
            .get_pool(&client.pool_id)
            .await
            .map_err(|e| OAuthError::internal(e.into()))?
            .ok_or_else(invalid_client)?;
        domain_pool_check(&pool, domain_pool)?;
        Ok((client, pool))
    }

    async fn redeem_code(
        &self,
        req: &TokenForm,
        pool: &UserPool,
        client: &AppClient,
        ctx: &CallContext,
    ) -> OAuthResult<TokenResponse> {
        let code = req
            .form
            .get("code")
            .ok_or_else(|| OAuthError::invalid_request("code is required"))?;
        if !allows_flow(client, "code") {
            return Err(OAuthError::new(400, "unauthorized_client"));
        }
        let (record, redeemed) = self.take_code(code, &client.client_id).await?;
        // Cognito answers a redirect_uri that differs from the authorize request's this way.
        if req.form.get("redirect_uri") != Some(&redeemed.redirect_uri) {
            return Err(OAuthError::new(400, "unauthorized_client"));
        }
        if let Some(challenge) = &redeemed.code_challenge {
            let verifier = req
                .form
                .get("code_verifier")
                .ok_or_else(|| OAuthError::new(400, "invalid_grant"))?;
            let computed = URL_SAFE_NO_PAD.encode(cognate_crypto::sha256(verifier.as_bytes()));
            if !cognate_crypto::ct_eq(computed.as_bytes(), challenge.as_bytes()) {
                return Err(OAuthError::new(400, "invalid_grant"));
            }
        }
        let user = self
            .store
            .get_user(&pool.id, &Self::user_key(pool, &record.username))
            .await
            .map_err(|e| OAuthError::internal(e.into()))?
            .filter(|u| u.sub == redeemed.sub && u.enabled)
            .ok_or_else(|| OAuthError::new(400, "invalid_grant"))?;
        let grant = OAuthGrant {
            scopes: redeemed.scopes,
            nonce: redeemed.nonce,
            auth_time: redeemed.auth_time,
        };
        let metadata = client_metadata(req)?;
        let tokens = self
            .issue_tokens_for(
                pool,
                client,
                &user,
                (TokenSource::HostedAuth, Some(&grant)),
                SessionUse::New,
                metadata,
                ctx,
            )
            .await
            .map_err(grant_error)?;
        let openid = grant.scopes.iter().any(|s| s == "openid");
        Ok(TokenResponse {
            id_token: openid.then_some(tokens.id_token),
            access_token: tokens.access_token,
            refresh_token: tokens.refresh_token,
            expires_in: tokens.expires_in,
            token_type: "Bearer".into(),
        })
    }

    async fn redeem_refresh_token(
        &self,
        req: &TokenForm,
        pool: &UserPool,
        client: &AppClient,
        ctx: &CallContext,
    ) -> OAuthResult<TokenResponse> {
        let token = req
            .form
            .get("refresh_token")
            .ok_or_else(|| OAuthError::invalid_request("refresh_token is required"))?;
        if !flow_allowed(client, "ALLOW_REFRESH_TOKEN_AUTH") {
            return Err(OAuthError::new(400, "unauthorized_client"));
        }
        let metadata = client_metadata(req)?;
        let (tokens, session) = self
            .refresh_for_oauth(pool, client, token, metadata, ctx)
            .await
            .map_err(grant_error)?;
        let openid = session.scopes.as_ref().is_none_or(|s| s.iter().any(|s| s == "openid"));
        Ok(TokenResponse {
            id_token: openid.then_some(tokens.id_token),
            access_token: tokens.access_token,
            // A new one only with refresh-token rotation.
            refresh_token: tokens.refresh_token,
            expires_in: tokens.expires_in,
            token_type: "Bearer".into(),
        })
    }

    /// client_credentials: a machine's access token, `sub` = the client id, custom scopes
    /// only; PreTokenGeneration runs only as V3 (`TokenGeneration_ClientCredentials`).
    async fn client_credentials(
        &self,
        req: &TokenForm,
        machine: &MachineClient,
        ctx: &CallContext,
    ) -> OAuthResult<TokenResponse> {
        let (client, pool) = (&machine.client, &machine.pool);
        if client.secret.is_none() || !allows_flow(client, "client_credentials") {
            return Err(OAuthError::new(400, "unauthorized_client"));
        }
        let allowed: Vec<String> = client_scopes(client)
            .into_iter()
            .filter(|s| is_custom_scope(s))
            .collect();
        let asked = req.form.get("scope").map(|s| split_scopes(s)).unwrap_or_default();
        let scopes = if asked.is_empty() {
            allowed
        } else if asked.iter().all(|s| allowed.contains(s)) {
            asked
        } else {
            return Err(OAuthError::new(400, "invalid_scope"));
        };
        // Scopes whose resource server no longer defines them are dropped, as Cognito drops them.
        let mut scopes: Vec<String> = scopes
            .into_iter()
            .filter(|s| machine.active_scopes.contains(s))
            .collect();
        if scopes.is_empty() {
            return Err(OAuthError::new(400, "invalid_scope"));
        }
        let metadata = client_metadata(req)?;
        let (add, suppress) = self
            .machine_token_trigger(pool, client, &mut scopes, metadata, ctx)
            .await
            .map_err(grant_error)?;
        let now = self.now_ms() / 1000;
        let ttl = token_validity_secs(client, "AccessTokenValidity", "AccessToken", "hours", 1);
        let mut claims = Map::new();
        claims.insert("sub".into(), json!(client.client_id));
        claims.insert("token_use".into(), json!("access"));
        claims.insert("scope".into(), json!(scopes.join(" ")));
        claims.insert("auth_time".into(), json!(now));
        claims.insert("iss".into(), json!(self.issuer(&pool.id)));
        claims.insert("exp".into(), json!(now + ttl));
        claims.insert("iat".into(), json!(now));
        claims.insert("version".into(), json!(2));
        claims.insert("jti".into(), json!(self.random.uuid_v4()));
        claims.insert("client_id".into(), json!(client.client_id));
        for k in suppress {
            if !crate::tokens::is_protected(&k, false) {
                claims.remove(&k);
            }
        }
        for (k, v) in add {
            if !crate::tokens::is_protected(&k, false) {
                claims.insert(k, v);
            }
        }
        let keys = self.pool_keys(&pool.id).await.map_err(OAuthError::internal)?;
        Ok(TokenResponse {
            id_token: None,
            access_token: keys.access.sign(&claims),
            refresh_token: None,
            expires_in: ttl,
            token_type: "Bearer".into(),
        })
    }

    /// PreTokenGeneration V3 for a machine token: its claim edits, and its scope edits
    /// applied to `scopes`. V1 and V2 triggers are not invoked for client credentials.
    async fn machine_token_trigger(
        &self,
        pool: &UserPool,
        client: &AppClient,
        scopes: &mut Vec<String>,
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> crate::Result<(Map<String, Value>, Vec<String>)> {
        let trigger = pool.setting("LambdaConfig").and_then(Trigger::pre_token_generation_of);
        if trigger != Some(Trigger::PreTokenGenerationV3) {
            return Ok((Map::new(), Vec::new()));
        }
        let trigger = Trigger::PreTokenGenerationV3;
        let envelope = trigger_envelope(
            pool,
            trigger,
            "TokenGeneration_ClientCredentials",
            &client.client_id,
            Some(&client.client_id),
            ctx,
        );
        let request = PreTokenGenerationV2Request {
            group_configuration: GroupConfiguration::default(),
            scopes: scopes.clone(),
            client_metadata: client_metadata.as_ref().map(crate::triggers::string_map),
            ..Default::default()
        };
        let event = PreTokenGenerationV2Event::new(envelope, request, Default::default());
        let response = self.invoke_trigger(pool, trigger, event).await?;
        let Some(access) = response
            .and_then(|r| r.claims_and_scope_override_details)
            .and_then(|d| d.access_token_generation)
        else {
            return Ok((Map::new(), Vec::new()));
        };
        for s in access.scopes_to_add.unwrap_or_default() {
            if !scopes.contains(&s) && !s.chars().any(char::is_whitespace) {
                scopes.push(s);
            }
        }
        let drop = access.scopes_to_suppress.unwrap_or_default();
        scopes.retain(|s| !drop.contains(s));
        Ok((
            access
                .claims_to_add_or_override
                .unwrap_or_default()
                .into_iter()
                .collect(),
            access.claims_to_suppress.unwrap_or_default(),
        ))
    }
}

/// `aws_client_metadata`: a URL-encoded JSON object of strings for PreTokenGeneration.
fn client_metadata(req: &TokenForm) -> OAuthResult<Option<Map<String, Value>>> {
    let Some(raw) = req.form.get("aws_client_metadata") else {
        return Ok(None);
    };
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(m)) => Ok(Some(m)),
        _ => Err(OAuthError::invalid_request("aws_client_metadata must be a JSON object")),
    }
}
