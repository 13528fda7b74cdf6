//! ID, access and refresh tokens: issuing (with PreTokenGeneration) and checking.
use crate::error::{Error, ErrorKind, Result};
use crate::model::*;
use crate::ops::clients::token_validity_secs;
use crate::ops::sign_in::AuthenticationResult;
use crate::rng::RandomExt;
use crate::service::{CallContext, Cognito};
use crate::triggers::events::{
    GroupConfiguration, PreTokenGenerationEvent, PreTokenGenerationRequest, PreTokenGenerationV2Event,
    PreTokenGenerationV2Request, SyncTriggerEvent,
};
use crate::triggers::{Trigger, string_map, trigger_envelope, user_attributes_for_trigger};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

pub const USER_ADMIN_SCOPE: &str = "aws.cognito.signin.user.admin";

/// Claims no trigger may add, change or suppress.
const PROTECTED_CLAIMS: &[&str] = &[
    "acr",
    "amr",
    "aud",
    "at_hash",
    "auth_time",
    "azp",
    "cognito:username",
    "exp",
    "iat",
    "identities",
    "iss",
    "jti",
    "nbf",
    "nonce",
    "origin_jti",
    "sub",
    "token_use",
    "username",
    "client_id",
    "event_id",
    "device_key",
    "version",
    "scope",
];

pub(crate) fn is_protected(claim: &str, id_token: bool) -> bool {
    PROTECTED_CLAIMS.contains(&claim)
        || (claim.starts_with("cognito:")
            && claim != "cognito:groups"
            && (!id_token || (claim != "cognito:roles" && claim != "cognito:preferred_role")))
}

#[derive(Debug, Clone)]
struct GroupClaims {
    groups: Vec<String>,
    roles: Vec<String>,
    preferred_role: Option<String>,
}

/// The claims PreTokenGeneration adds to and suppresses from each token.
#[derive(Default)]
struct ClaimEdits {
    id_add: Map<String, Value>,
    id_suppress: Vec<String>,
    access_add: Map<String, Value>,
    access_suppress: Vec<String>,
}

/// How a sign-in ended, for the PreTokenGeneration trigger source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    Authentication,
    NewPasswordChallenge,
    RefreshTokens,
    /// A sign-in through the hosted pages, at the token endpoint (or the implicit redirect).
    HostedAuth,
    /// A sign-in that ended with a remembered device's DEVICE_PASSWORD_VERIFIER.
    AuthenticateDevice,
}

/// Which sign-in session new tokens belong to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SessionUse<'a> {
    /// A new sign-in: a new session and refresh token.
    New,
    /// A new sign-in on a tracked device (its key): as `New`, bound to the device.
    NewOnDevice(&'a str),
    /// A refresh: the session's own; no new refresh token.
    Refresh(&'a TokenSession),
    /// A refresh with rotation: a new session and refresh token that carry this one's sign-in
    /// on (its time, scopes and expiry).
    Rotate(&'a TokenSession),
}

/// What an OAuth grant (the authorization code or implicit flow) puts into the tokens of a
/// hosted sign-in: the granted scopes, the relying party's nonce and when the browser signed in.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OAuthGrant {
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub auth_time: i64,
}

impl TokenSource {
    fn trigger_source(self) -> &'static str {
        match self {
            TokenSource::Authentication => "TokenGeneration_Authentication",
            TokenSource::NewPasswordChallenge => "TokenGeneration_NewPasswordChallenge",
            TokenSource::RefreshTokens => "TokenGeneration_RefreshTokens",
            TokenSource::HostedAuth => "TokenGeneration_HostedAuth",
            TokenSource::AuthenticateDevice => "TokenGeneration_AuthenticateDevice",
        }
    }
}

/// The verified claims of an access token, with the session and user it belongs to.
#[derive(Debug, Clone)]
pub struct AccessToken {
    pub pool: UserPool,
    pub user: User,
    pub client_id: String,
    pub session_id: String,
    pub claims: Map<String, Value>,
}

impl AccessToken {
    /// The token's `scope` claim, one scope at a time.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.claims
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
    }
}

fn attr_claim(name: &str, value: &str) -> Value {
    match name {
        "email_verified" | "phone_number_verified" => json!(value == "true"),
        "updated_at" => value.parse::<i64>().map(|n| json!(n)).unwrap_or(json!(value)),
        // A federated user's linked identities: an array in the ID token.
        "identities" => serde_json::from_str::<Value>(value).unwrap_or(json!(value)),
        _ => json!(value),
    }
}

impl Cognito {
    async fn group_claims(&self, pool: &UserPool, user: &User) -> Result<GroupClaims> {
        let mut groups = self
            .store
            .groups_of(&pool.id, &Self::user_key(pool, &user.username))
            .await?;
        groups.sort_by(|a, b| {
            a.precedence
                .unwrap_or(i64::MAX)
                .cmp(&b.precedence.unwrap_or(i64::MAX))
                .then(a.name.cmp(&b.name))
        });
        let roles: Vec<String> = groups.iter().filter_map(|g| g.role_arn.clone()).collect();
        let preferred_role = groups
            .iter()
            .filter(|g| g.role_arn.is_some())
            .min_by_key(|g| g.precedence.unwrap_or(i64::MAX))
            .and_then(|g| g.role_arn.clone());
        Ok(GroupClaims {
            groups: groups.into_iter().map(|g| g.name).collect(),
            roles,
            preferred_role,
        })
    }

    /// Runs PreTokenGeneration, if the pool configures it, and applies its group and scope edits
    /// to `groups` and `scopes`; returns its claim edits. V1 edits the ID token; V2/V3 also the
    /// access token and the scopes.
    #[allow(clippy::too_many_arguments)]
    async fn pre_token_generation(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        source: TokenSource,
        (groups, scopes): (&mut GroupClaims, &mut Vec<String>),
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<ClaimEdits> {
        let mut edits = ClaimEdits::default();
        let Some(trigger) = pool.setting("LambdaConfig").and_then(Trigger::pre_token_generation_of) else {
            return Ok(edits);
        };
        let client_id = Some(client.client_id.as_str());
        let envelope = trigger_envelope(pool, trigger, source.trigger_source(), &user.username, client_id, ctx);
        let user_attributes = user_attributes_for_trigger(pool, user);
        let group_configuration = GroupConfiguration {
            groups_to_override: groups.groups.clone(),
            iam_roles_to_override: groups.roles.clone(),
            preferred_role: groups.preferred_role.clone(),
        };
        let client_metadata = client_metadata.as_ref().map(string_map);
        let group_override = if trigger == Trigger::PreTokenGeneration {
            let request = PreTokenGenerationRequest {
                user_attributes,
                group_configuration,
                client_metadata,
                ..Default::default()
            };
            let event = PreTokenGenerationEvent::new(envelope, request, Default::default());
            let response = self.invoke_trigger(pool, trigger, event).await?;
            let Some(details) = response.and_then(|r| r.claims_override_details) else {
                return Ok(edits);
            };
            let add = details.claims_to_add_or_override.unwrap_or_default();
            edits.id_add.extend(add.into_iter().map(|(k, v)| (k, Value::String(v))));
            edits.id_suppress.extend(details.claims_to_suppress.unwrap_or_default());
            details.group_override_details
        } else {
            let request = PreTokenGenerationV2Request {
                user_attributes,
                group_configuration,
                scopes: scopes.clone(),
                client_metadata,
                ..Default::default()
            };
            let event = PreTokenGenerationV2Event::new(envelope, request, Default::default());
            let response = self.invoke_trigger(pool, trigger, event).await?;
            let Some(details) = response.and_then(|r| r.claims_and_scope_override_details) else {
                return Ok(edits);
            };
            if let Some(id) = details.id_token_generation {
                edits.id_add.extend(id.claims_to_add_or_override.unwrap_or_default());
                edits.id_suppress.extend(id.claims_to_suppress.unwrap_or_default());
            }
            if let Some(access) = details.access_token_generation {
                edits
                    .access_add
                    .extend(access.claims_to_add_or_override.unwrap_or_default());
                edits
                    .access_suppress
                    .extend(access.claims_to_suppress.unwrap_or_default());
                for s in access.scopes_to_add.unwrap_or_default() {
                    if s.chars().any(char::is_whitespace) {
                        return Err(Error::new(
                            ErrorKind::InvalidLambdaResponseException,
                            "Invalid lambda function output : scopes may not contain whitespace",
                        ));
                    }
                    if !scopes.contains(&s) {
                        scopes.push(s);
                    }
                }
                let suppress = access.scopes_to_suppress.unwrap_or_default();
                scopes.retain(|s| !suppress.contains(s));
            }
            details.group_override_details
        };
        if let Some(g) = group_override {
            *groups = GroupClaims {
                groups: g.groups_to_override,
                roles: g.iam_roles_to_override,
                preferred_role: g.preferred_role,
            };
        }
        Ok(edits)
    }

    /// Issues ID and access tokens (and a refresh token for a new sign-in), running the
    /// PreTokenGeneration trigger. `session` is the existing sign-in when refreshing; `grant`
    /// the OAuth grant of a hosted sign-in (its scopes, nonce and sign-in time).
    #[allow(clippy::too_many_arguments)]
    pub async fn issue_tokens(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        source: TokenSource,
        session: Option<&TokenSession>,
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<AuthenticationResult> {
        let session = session.map_or(SessionUse::New, SessionUse::Refresh);
        self.issue_tokens_for(pool, client, user, (source, None), session, client_metadata, ctx)
            .await
    }

    /// [`Cognito::issue_tokens`] with an OAuth grant.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn issue_tokens_for(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        (source, grant): (TokenSource, Option<&OAuthGrant>),
        session: SessionUse<'_>,
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<AuthenticationResult> {
        let now_ms = self.now_ms();
        let now = now_ms / 1000;
        let mut groups = self.group_claims(pool, user).await?;
        let earlier = match session {
            SessionUse::New | SessionUse::NewOnDevice(_) => None,
            SessionUse::Refresh(s) | SessionUse::Rotate(s) => Some(s),
        };
        let device_key = match session {
            SessionUse::New => None,
            SessionUse::NewOnDevice(key) => Some(key.to_owned()),
            SessionUse::Refresh(s) | SessionUse::Rotate(s) => s.device_key.clone(),
        };
        let granted = grant
            .map(|g| g.scopes.clone())
            .or_else(|| earlier.and_then(|s| s.scopes.clone()));
        let oauth = granted.is_some();
        let mut scopes = granted.clone().unwrap_or_else(|| vec![USER_ADMIN_SCOPE.to_owned()]);
        let edits = self
            .pre_token_generation(
                pool,
                client,
                user,
                source,
                (&mut groups, &mut scopes),
                client_metadata,
                ctx,
            )
            .await?;
        let ClaimEdits {
            id_add,
            id_suppress,
            access_add,
            access_suppress,
        } = edits;

        let (session_id, auth_time, refresh) = match session {
            SessionUse::Refresh(s) => (s.id.clone(), s.auth_time, None),
            SessionUse::New | SessionUse::NewOnDevice(_) | SessionUse::Rotate(_) => {
                let id = self.random.uuid_v4();
                let refresh_token = self.new_refresh_token();
                let refresh_ttl = token_validity_secs(client, "RefreshTokenValidity", "RefreshToken", "days", 30);
                let s = TokenSession {
                    id: id.clone(),
                    pool_id: pool.id.clone(),
                    username: user.username.clone(),
                    client_id: client.client_id.clone(),
                    refresh_digest: refresh_digest(&refresh_token),
                    auth_time: grant.map_or(earlier.map_or(now, |e| e.auth_time), |g| g.auth_time),
                    created_ms: now_ms,
                    expires_ms: earlier.map_or(now_ms + refresh_ttl * 1000, |e| e.expires_ms),
                    revoked: false,
                    scopes: granted,
                    rotated_ms: None,
                    device_key: device_key.clone(),
                };
                self.store.put_token_session(&s).await?;
                (id, s.auth_time, Some(refresh_token))
            }
        };

        let access_ttl = token_validity_secs(client, "AccessTokenValidity", "AccessToken", "hours", 1);
        let id_ttl = token_validity_secs(client, "IdTokenValidity", "IdToken", "hours", 1);
        let iss = self.issuer(&pool.id);

        let mut access = Map::new();
        access.insert("sub".into(), json!(user.sub));
        if !groups.groups.is_empty() {
            access.insert("cognito:groups".into(), json!(groups.groups));
        }
        if let Some(key) = &device_key {
            access.insert("device_key".into(), json!(key));
        }
        access.insert("iss".into(), json!(iss));
        access.insert("client_id".into(), json!(client.client_id));
        access.insert("origin_jti".into(), json!(session_id));
        access.insert("event_id".into(), json!(self.random.uuid_v4()));
        access.insert("token_use".into(), json!("access"));
        access.insert("scope".into(), json!(scopes.join(" ")));
        access.insert("auth_time".into(), json!(auth_time));
        access.insert("exp".into(), json!(now + access_ttl));
        access.insert("iat".into(), json!(now));
        access.insert("jti".into(), json!(self.random.uuid_v4()));
        access.insert("username".into(), json!(user.username));
        if oauth {
            access.insert("version".into(), json!(2));
        }
        for k in &access_suppress {
            if !is_protected(k, false) {
                access.remove(k);
            }
        }
        for (k, v) in access_add {
            if !is_protected(&k, false) && k != "cognito:groups" {
                access.insert(k, v);
            }
        }

        let mut id = Map::new();
        id.insert("sub".into(), json!(user.sub));
        if !groups.groups.is_empty() {
            id.insert("cognito:groups".into(), json!(groups.groups));
        }
        if !groups.roles.is_empty() {
            id.insert("cognito:roles".into(), json!(groups.roles));
        }
        if let Some(r) = &groups.preferred_role {
            id.insert("cognito:preferred_role".into(), json!(r));
        }
        for (k, v) in &user.attributes {
            if crate::attributes::readable(Some(client), k) && !k.starts_with("dev:") {
                id.insert(k.clone(), attr_claim(k, v));
            }
        }
        id.insert("iss".into(), json!(iss));
        id.insert("cognito:username".into(), json!(user.username));
        id.insert("origin_jti".into(), json!(session_id));
        id.insert("aud".into(), json!(client.client_id));
        id.insert("event_id".into(), access["event_id"].clone());
        id.insert("token_use".into(), json!("id"));
        id.insert("auth_time".into(), json!(auth_time));
        id.insert("exp".into(), json!(now + id_ttl));
        id.insert("iat".into(), json!(now));
        id.insert("jti".into(), json!(self.random.uuid_v4()));
        if let Some(nonce) = grant.and_then(|g| g.nonce.as_ref()) {
            id.insert("nonce".into(), json!(nonce));
        }
        for k in &id_suppress {
            if !is_protected(k, true) {
                id.remove(k);
                if k == "cognito:groups" {
                    id.remove("cognito:roles");
                    id.remove("cognito:preferred_role");
                }
            }
        }
        for (k, v) in id_add {
            if !is_protected(&k, true) && k != "cognito:groups" && !id_suppress.contains(&k) {
                id.insert(k, v);
            }
        }

        let keys = self.pool_keys(&pool.id).await?;
        let access_token = keys.access.sign(&access);
        if oauth {
            id.insert("at_hash".into(), json!(at_hash(&access_token)));
        }
        Ok(AuthenticationResult {
            access_token,
            expires_in: access_ttl,
            token_type: "Bearer".into(),
            id_token: keys.id.sign(&id),
            refresh_token: refresh,
            new_device_metadata: None,
        })
    }

    fn new_refresh_token(&self) -> String {
        // Opaque to clients, like Cognito's (which is an encrypted JWE); shaped as five
        // dot-separated parts so tools that sniff for a JWE are not surprised.
        let parts: Vec<String> = [32usize, 64, 12, 256, 16]
            .iter()
            .map(|n| {
                let mut b = vec![0u8; *n];
                self.random.fill(&mut b);
                URL_SAFE_NO_PAD.encode(b)
            })
            .collect();
        format!(
            "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.{}",
            parts[1..].join(".")
        )
    }

    /// Verifies an access token for the self-service operations, which need the
    /// `aws.cognito.signin.user.admin` scope (OAuth tokens have it only when it was granted).
    pub async fn authenticate_access_token(&self, token: &str) -> Result<AccessToken> {
        let token = self.verify_access_token(token).await?;
        if !token.scopes().any(|s| s == USER_ADMIN_SCOPE) {
            return Err(Error::not_authorized("Access Token does not have required scopes"));
        }
        Ok(token)
    }

    /// Verifies a user's access token: signature, expiry, revocation, and that its user still
    /// exists and is enabled. Scopes are the caller's to check.
    pub async fn verify_access_token(&self, token: &str) -> Result<AccessToken> {
        let invalid = || Error::not_authorized("Invalid Access Token");
        let kid = cognate_crypto::jwt::header_kid(token).map_err(|_| invalid())?;
        let payload = token.split('.').nth(1).ok_or_else(invalid)?;
        let unverified: Map<String, Value> = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(invalid)?;
        let iss = unverified.get("iss").and_then(Value::as_str).ok_or_else(invalid)?;
        // The issuer's host part may differ (the server moved ports); the pool's key decides.
        let pool_id = iss.rsplit('/').next().ok_or_else(invalid)?;
        let pool = self.store.get_pool(pool_id).await?.ok_or_else(invalid)?;
        let keys = self.pool_keys(&pool.id).await?;
        if keys.access.kid() != kid {
            return Err(invalid());
        }
        let claims = keys.access.verify(token).map_err(|_| invalid())?;
        if claims.get("token_use").and_then(Value::as_str) != Some("access") {
            return Err(invalid());
        }
        let exp = claims.get("exp").and_then(Value::as_i64).ok_or_else(invalid)?;
        if exp <= self.clock.now_secs() {
            return Err(Error::not_authorized("Access Token has expired"));
        }
        let session_id = claims
            .get("origin_jti")
            .and_then(Value::as_str)
            .ok_or_else(invalid)?
            .to_owned();
        let session = self.store.get_token_session(&session_id).await?;
        if session.as_ref().is_none_or(|s| s.revoked) {
            return Err(Error::not_authorized("Access Token has been revoked"));
        }
        let username = claims.get("username").and_then(Value::as_str).ok_or_else(invalid)?;
        let user = self
            .store
            .get_user(&pool.id, &Self::user_key(&pool, username))
            .await?
            .filter(|u| Some(u.sub.as_str()) == claims.get("sub").and_then(Value::as_str))
            .ok_or_else(Error::user_not_found)?;
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        let client_id = claims
            .get("client_id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Ok(AccessToken {
            pool,
            user,
            client_id,
            session_id,
            claims,
        })
    }
}

/// OIDC's `at_hash`: the left half of the access token's SHA-256, base64url without padding.
pub fn at_hash(access_token: &str) -> String {
    let digest = cognate_crypto::sha256(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&digest[..16])
}

pub fn refresh_digest(token: &str) -> String {
    cognate_crypto::hex(&cognate_crypto::sha256(token.as_bytes()))
}

/// The pool named by the issuer (`…/POOL_ID`) of a JWT, read without verifying it: enough to
/// count a request against its pool's quota before the operation verifies the token.
pub fn unverified_issuer_pool(token: &str) -> Option<String> {
    let payload = token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    let issuer = claims.get("iss")?.as_str()?;
    Some(issuer.rsplit('/').next()?.to_owned())
}
