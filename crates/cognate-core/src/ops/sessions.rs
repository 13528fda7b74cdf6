//! Ending sessions: GlobalSignOut and AdminUserGlobalSignOut (every refresh token of a user),
//! and RevokeToken (one refresh token).
use crate::error::{Error, ErrorKind, Result};
use crate::ops::users::{AccessTokenInput, AdminUserRef};
use crate::ops::{Empty, Input};
use crate::request::Request;
use crate::service::Cognito;

// ---- inputs ------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RevokeTokenInput {
    /// A refresh token.
    pub token: String,
    pub client_id: String,
    pub client_secret: Option<String>,
}

impl Input for RevokeTokenInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            token: req.str("Token")?,
            client_id: req.str("ClientId")?,
            client_secret: req.opt_str("ClientSecret")?,
        })
    }
}

// ---- operations --------------------------------------------------------------------------

impl Cognito {
    pub async fn global_sign_out(&self, input: AccessTokenInput) -> Result<Empty> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        self.store
            .revoke_user_sessions(&auth.pool.id, &auth.user.username)
            .await?;
        Ok(Empty {})
    }

    pub async fn admin_user_global_sign_out(&self, input: AdminUserRef) -> Result<Empty> {
        let (pool, user) = self.admin_user(&input.user_pool_id, &input.username).await?;
        self.store.revoke_user_sessions(&pool.id, &user.username).await?;
        Ok(Empty {})
    }

    pub async fn revoke_token(&self, input: RevokeTokenInput) -> Result<Empty> {
        let client = self.client(&input.client_id).await?;
        if let Some(secret) = &client.secret {
            let given = input.client_secret.unwrap_or_default();
            if !cognate_crypto::ct_eq(given.as_bytes(), secret.as_bytes()) {
                return Err(Error::new(ErrorKind::UnauthorizedException, "Invalid client secret."));
            }
        }
        if !client.token_revocation_enabled() {
            return Err(Error::new(
                ErrorKind::UnsupportedOperationException,
                "Token revocation is not enabled for this client.",
            ));
        }
        if input.token.split('.').count() == 3 {
            return Err(Error::new(
                ErrorKind::UnsupportedTokenTypeException,
                "Only refresh tokens can be revoked.",
            ));
        }
        let digest = crate::tokens::refresh_digest(&input.token);
        if let Some(mut session) = self.store.find_token_session(&client.pool_id, &digest).await? {
            if session.client_id != input.client_id {
                return Err(Error::new(
                    ErrorKind::UnauthorizedException,
                    "The token was not issued to this client.",
                ));
            }
            session.revoked = true;
            self.store.put_token_session(&session).await?;
        }
        Ok(Empty {})
    }
}
