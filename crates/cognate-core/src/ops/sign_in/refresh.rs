//! Refreshing tokens: REFRESH_TOKEN_AUTH (a flow of InitiateAuth and AdminInitiateAuth) and
//! GetTokensFromRefreshToken (an operation of its own).
use crate::error::{Error, ErrorKind, Result};
use crate::model::*;
use crate::ops::Input;
use crate::ops::clients::{flow_allowed, rotation_grace_secs};
use crate::ops::devices::{check_device_key, device_settings};
use crate::ops::sign_in::{AuthenticationResult, SignIn, to_json_map};
use crate::request::Request;
use crate::service::{CallContext, Cognito};
use crate::tokens::{SessionUse, TokenSource};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

// ---- inputs ------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GetTokensFromRefreshTokenInput {
    pub refresh_token: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// The device the refresh token's sign-in was on (required for such a token).
    pub device_key: Option<String>,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

impl Input for GetTokensFromRefreshTokenInput {
    fn decode(req: &Request) -> Result<Self> {
        let refresh_token = req.str("RefreshToken")?;
        check_pattern("refreshToken", &refresh_token, is_token_char, "[A-Za-z0-9-_=.]+")?;
        let client_id = req.str("ClientId")?;
        check_length("clientId", &client_id, 1, 128)?;
        check_pattern("clientId", &client_id, is_word_or_plus, "[\\w+]+")?;
        let client_secret = req.opt_str("ClientSecret")?;
        if let Some(secret) = &client_secret {
            check_length("clientSecret", secret, 24, 64)?;
            check_pattern("clientSecret", secret, is_word_or_plus, "[\\w+]+")?;
        }
        let device_key = req.opt_str("DeviceKey")?;
        if let Some(key) = &device_key {
            check_device_key(key)?;
        }
        Ok(Self {
            refresh_token,
            client_id,
            client_secret,
            device_key,
            client_metadata: req.str_map("ClientMetadata")?,
        })
    }
}

// ---- outputs -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetTokensFromRefreshTokenOutput {
    pub authentication_result: AuthenticationResult,
}

// ---- operations --------------------------------------------------------------------------

impl Cognito {
    /// REFRESH_TOKEN_AUTH: the refresh token and, for a client with a secret, a SECRET_HASH.
    pub(crate) async fn start_refresh(
        &self,
        s: &SignIn<'_>,
        params: &BTreeMap<String, String>,
    ) -> Result<AuthenticationResult> {
        check_refresh_allowed(s.client)?;
        if rotation_grace_secs(s.client).is_some() {
            // AWS: "You can't authenticate with REFRESH_TOKEN_AUTH in app clients with refresh
            // token rotation enabled" (the exception and text are Cognate's reading).
            return Err(Error::invalid_parameter(
                "Refresh token rotation is enabled for this client: refresh with GetTokensFromRefreshToken.",
            ));
        }
        let token = params
            .get("REFRESH_TOKEN")
            .ok_or_else(|| Error::missing("REFRESH_TOKEN"))?;
        let proof = ClientProof::SecretHash {
            username: params.get("USERNAME").map(String::as_str),
            hash: params.get("SECRET_HASH").map(String::as_str),
        };
        let device_key = params.get("DEVICE_KEY").map(String::as_str);
        self.refresh_tokens(s.pool, s.client, token, (proof, device_key), None, s.ctx)
            .await
    }

    /// GetTokensFromRefreshToken: REFRESH_TOKEN_AUTH as an operation of its own (how Amplify v6
    /// refreshes), with the client secret itself instead of a SECRET_HASH, and ClientMetadata
    /// for PreTokenGeneration. Without refresh-token rotation no new refresh token comes back.
    pub async fn get_tokens_from_refresh_token(
        &self,
        input: GetTokensFromRefreshTokenInput,
        ctx: &CallContext,
    ) -> Result<GetTokensFromRefreshTokenOutput> {
        let metadata = to_json_map(input.client_metadata);
        let (client, pool) = self.client_and_pool(&input.client_id).await?;
        check_client_secret(&client, input.client_secret.as_deref())?;
        check_refresh_allowed(&client)?;
        let authentication_result = self
            .refresh_tokens(
                &pool,
                &client,
                &input.refresh_token,
                (ClientProof::SecretChecked, input.device_key.as_deref()),
                metadata,
                ctx,
            )
            .await?;
        Ok(GetTokensFromRefreshTokenOutput { authentication_result })
    }

    /// New ID and access tokens from a refresh token of `client`: what REFRESH_TOKEN_AUTH,
    /// GetTokensFromRefreshToken and the token endpoint share. Runs PreTokenGeneration
    /// (`TokenGeneration_RefreshTokens`). With rotation on, a new refresh token comes back too
    /// and the submitted one stops working after the client's grace period.
    async fn refresh_tokens(
        &self,
        pool: &UserPool,
        client: &AppClient,
        token: &str,
        proof: (ClientProof<'_>, Option<&str>),
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<AuthenticationResult> {
        self.refresh_for_oauth_or_api(pool, client, token, proof, client_metadata, ctx)
            .await
            .map(|(tokens, _)| tokens)
    }

    /// The refresh grant of `/oauth2/token`: new tokens (with the scopes the session was
    /// granted) and the session, whose scopes say whether an ID token goes back.
    pub(crate) async fn refresh_for_oauth(
        &self,
        pool: &UserPool,
        client: &AppClient,
        token: &str,
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<(AuthenticationResult, TokenSession)> {
        let proof = (ClientProof::SecretChecked, None);
        self.refresh_for_oauth_or_api(pool, client, token, proof, client_metadata, ctx)
            .await
    }

    async fn refresh_for_oauth_or_api(
        &self,
        pool: &UserPool,
        client: &AppClient,
        token: &str,
        proof: (ClientProof<'_>, Option<&str>),
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<(AuthenticationResult, TokenSession)> {
        let (mut session, user) = self.refresh_session(pool, client, token, proof).await?;
        let Some(grace) = rotation_grace_secs(client) else {
            let tokens = self
                .issue_tokens_for(
                    pool,
                    client,
                    &user,
                    (TokenSource::RefreshTokens, None),
                    SessionUse::Refresh(&session),
                    client_metadata,
                    ctx,
                )
                .await?;
            return Ok((tokens, session));
        };
        let now = self.now_ms();
        if session.rotated_ms.is_some_and(|t| now >= t + grace * 1000) {
            return Err(Error::new(
                ErrorKind::RefreshTokenReuseException,
                "Refresh token has been rotated and is no longer valid.",
            ));
        }
        let tokens = self
            .issue_tokens_for(
                pool,
                client,
                &user,
                (TokenSource::RefreshTokens, None),
                SessionUse::Rotate(&session),
                client_metadata,
                ctx,
            )
            .await?;
        if session.rotated_ms.is_none() {
            session.rotated_ms = Some(now);
            self.store.put_token_session(&session).await?;
        }
        Ok((tokens, session))
    }

    /// The live session a refresh token of `client` belongs to, and its enabled user.
    async fn refresh_session(
        &self,
        pool: &UserPool,
        client: &AppClient,
        token: &str,
        (proof, device_key): (ClientProof<'_>, Option<&str>),
    ) -> Result<(TokenSession, User)> {
        let invalid = || Error::not_authorized("Invalid Refresh Token");
        let digest = crate::tokens::refresh_digest(token);
        let session = self
            .store
            .find_token_session(&pool.id, &digest)
            .await?
            .ok_or_else(invalid)?;
        if session.client_id != client.client_id {
            return Err(invalid());
        }
        if session.revoked {
            return Err(Error::not_authorized("Refresh Token has been revoked"));
        }
        if session.expires_ms <= self.now_ms() {
            return Err(Error::not_authorized("Refresh Token has expired"));
        }
        let user = self
            .store
            .get_user(&pool.id, &Self::user_key(pool, &session.username))
            .await?
            .ok_or_else(invalid)?;
        if let ClientProof::SecretHash { username, hash } = proof {
            let given = username.unwrap_or(&user.username);
            self.check_secret_hash_for_user(client, &[given, &user.username, &user.sub], hash)?;
        }
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        // A sign-in on a tracked device: its refresh token works with that DEVICE_KEY only, and
        // only while the device is confirmed and not forgotten.
        if let Some(bound) = &session.device_key
            && device_settings(pool).is_some()
        {
            if device_key != Some(bound.as_str()) {
                return Err(invalid());
            }
            let device = self.device(pool, &user, bound).await?;
            if !device.is_some_and(|d| d.confirmed()) {
                return Err(invalid());
            }
        }
        Ok((session, user))
    }
}

/// How a refresh request shows that it comes from the client, when the client has a secret.
enum ClientProof<'a> {
    /// REFRESH_TOKEN_AUTH: a SECRET_HASH over a name of the token's user (USERNAME when given).
    SecretHash {
        username: Option<&'a str>,
        hash: Option<&'a str>,
    },
    /// GetTokensFromRefreshToken: the secret itself, checked before the token is looked up.
    SecretChecked,
}

fn check_refresh_allowed(client: &AppClient) -> Result<()> {
    if flow_allowed(client, "ALLOW_REFRESH_TOKEN_AUTH") {
        Ok(())
    } else {
        Err(Error::invalid_parameter(
            "Refresh Token flow not enabled for this client",
        ))
    }
}

/// GetTokensFromRefreshToken's ClientSecret: required when the client has a secret (compared
/// in constant time), ignored when it has none.
fn check_client_secret(client: &AppClient, given: Option<&str>) -> Result<()> {
    let Some(secret) = &client.secret else { return Ok(()) };
    match given {
        None => Err(Error::not_authorized(format!(
            "Client {} is configured for secret but secret was not received",
            client.client_id
        ))),
        Some(g) if cognate_crypto::ct_eq(g.as_bytes(), secret.as_bytes()) => Ok(()),
        Some(_) => Err(Error::not_authorized(format!(
            "Unable to verify secret hash for client {}",
            client.client_id
        ))),
    }
}

/// `\w` and `+` (ClientIdType, ClientSecretType).
fn is_word_or_plus(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '+'
}

/// TokenModelType: `[A-Za-z0-9-_=.]+`.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '=' | '.')
}

/// A sensitive member made only of `allowed` characters (the value stays out of the message).
fn check_pattern(member: &str, value: &str, allowed: fn(char) -> bool, pattern: &str) -> Result<()> {
    if value.chars().all(allowed) {
        Ok(())
    } else {
        Err(Error::sensitive_constraint(
            member,
            &format!("Member must satisfy regular expression pattern: {pattern}"),
        ))
    }
}

/// A sensitive member of `min..=max` characters.
fn check_length(member: &str, value: &str, min: usize, max: usize) -> Result<()> {
    let len = value.chars().count();
    if len < min {
        Err(Error::sensitive_constraint(
            member,
            &format!("Member must have length greater than or equal to {min}"),
        ))
    } else if len > max {
        Err(Error::sensitive_constraint(
            member,
            &format!("Member must have length less than or equal to {max}"),
        ))
    } else {
        Ok(())
    }
}
