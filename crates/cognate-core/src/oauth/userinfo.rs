//! `/oauth2/userInfo`, `/oauth2/revoke` and `/logout`.
use super::{OAuthError, TokenForm, domain_pool_check};
use crate::error::ErrorKind;
use crate::model::{AppClient, UserPool};
use crate::ops::domains::domain_of_pool;
use crate::ops::sessions::RevokeTokenInput;
use crate::service::Cognito;
use serde_json::{Map, Value, json};

/// Attributes of the `profile` scope (OIDC's standard profile claims).
const PROFILE_ATTRIBUTES: [&str; 14] = [
    "name",
    "family_name",
    "given_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "updated_at",
];

/// Which attributes a set of scopes releases at userInfo. `openid` alone: every attribute the
/// client can read; with `profile`, `email` or `phone`: those groups (and custom attributes
/// with `profile`).
fn released(scopes: &[&str], attribute: &str) -> bool {
    let groups = ["profile", "email", "phone"];
    if !scopes.iter().any(|s| groups.contains(s)) {
        return true;
    }
    (scopes.contains(&"profile") && (PROFILE_ATTRIBUTES.contains(&attribute) || attribute.starts_with("custom:")))
        || (scopes.contains(&"email") && matches!(attribute, "email" | "email_verified"))
        || (scopes.contains(&"phone") && matches!(attribute, "phone_number" | "phone_number_verified"))
}

/// Where `/logout` sends the browser.
#[derive(Debug, Clone, PartialEq)]
pub enum LogoutAction {
    /// `logout_uri` is one of the client's LogoutURLs: end the session and go there.
    SignedOut(String),
    /// `redirect_uri` (with `response_type`): end the session and show the sign-in page
    /// again with these authorize parameters.
    SignInAgain(Box<super::AuthorizeParams>),
    /// Cognito's error page with this message (the session is kept).
    Error(String),
}

impl Cognito {
    /// userInfo: the attributes of the access token's user as strings (Cognito sends
    /// `email_verified` as `"true"`), plus `sub` and `username`. The token must carry `openid`.
    pub async fn user_info(&self, bearer: &str) -> Result<Map<String, Value>, OAuthError> {
        let token = self.verify_access_token(bearer).await.map_err(|e| {
            if e.kind == ErrorKind::InternalErrorException {
                OAuthError::internal(e)
            } else {
                OAuthError::described(
                    401,
                    "invalid_token",
                    "Access token is expired, disabled, or deleted, or the user has globally signed out.",
                )
            }
        })?;
        let scopes: Vec<&str> = token.scopes().collect();
        if !scopes.contains(&"openid") {
            return Err(OAuthError::described(
                400,
                "invalid_request",
                "Access token does not contain openid scope",
            ));
        }
        let client = self
            .store
            .get_client(&token.client_id)
            .await
            .map_err(|e| OAuthError::internal(e.into()))?;
        let mut out = Map::new();
        for (name, value) in &token.user.attributes {
            if name == "sub" || name.starts_with("dev:") {
                continue;
            }
            if crate::attributes::readable(client.as_ref(), name) && released(&scopes, name) {
                out.insert(name.clone(), json!(value));
            }
        }
        out.insert("sub".into(), json!(token.user.sub));
        out.insert("username".into(), json!(token.user.username));
        Ok(out)
    }

    /// `/oauth2/revoke`: revokes a refresh token (and the tokens issued from it). An unknown
    /// token is a success, as in Cognito.
    pub async fn revoke_endpoint(&self, req: &TokenForm, domain_pool: Option<&str>) -> Result<(), OAuthError> {
        let token = req
            .form
            .get("token")
            .filter(|t| !t.is_empty())
            .ok_or_else(|| OAuthError::new(400, "invalid_request"))?;
        let (client, _pool) = self.authenticate_client(req, domain_pool).await.map_err(|mut e| {
            if e.error == "invalid_client" {
                e.status = 401;
            }
            e
        })?;
        let input = RevokeTokenInput {
            token: token.clone(),
            client_id: client.client_id.clone(),
            client_secret: client.secret.clone(),
        };
        match self.revoke_token(input).await {
            Ok(_) => Ok(()),
            Err(e) => Err(match e.kind {
                ErrorKind::UnsupportedTokenTypeException => OAuthError::new(400, "unsupported_token_type"),
                ErrorKind::UnsupportedOperationException => OAuthError::new(400, "invalid_request"),
                ErrorKind::UnauthorizedException => OAuthError::new(401, "invalid_client"),
                ErrorKind::InternalErrorException => OAuthError::internal(e),
                _ => OAuthError::invalid_request(e.message.clone()),
            }),
        }
    }

    /// `/logout`: where to send the browser. `client_id` is required; `logout_uri` must be one
    /// of the client's LogoutURLs exactly; otherwise `redirect_uri` and `response_type` lead
    /// back to the sign-in page.
    pub async fn logout_action(
        &self,
        p: &super::AuthorizeParams,
        logout_uri: Option<&str>,
        domain_pool: Option<&str>,
    ) -> Result<(LogoutAction, Option<(AppClient, UserPool)>), OAuthError> {
        let Some(client_id) = p.client_id.as_deref() else {
            return Ok((
                LogoutAction::Error("Required String parameter 'client_id' is not present".into()),
                None,
            ));
        };
        let store = |e: crate::store::StoreError| OAuthError::internal(e.into());
        let Some(client) = self.find_client(client_id).await.map_err(OAuthError::internal)? else {
            return Ok((LogoutAction::Error("invalid_request".into()), None));
        };
        let Some(pool) = self.store.get_pool(&client.pool_id).await.map_err(store)? else {
            return Ok((LogoutAction::Error("invalid_request".into()), None));
        };
        if domain_of_pool(&pool).is_none() || domain_pool_check(&pool, domain_pool).is_err() {
            return Ok((LogoutAction::Error("invalid_request".into()), None));
        }
        let logout_urls = client.string_list("LogoutURLs").unwrap_or_default();
        let action = match logout_uri {
            Some(uri) if logout_urls.iter().any(|u| u == uri) => LogoutAction::SignedOut(uri.to_owned()),
            _ => {
                let callbacks = client.string_list("CallbackURLs").unwrap_or_default();
                match (&p.redirect_uri, &p.response_type) {
                    (Some(r), Some(_)) if callbacks.contains(r) => LogoutAction::SignInAgain(Box::new(p.clone())),
                    (Some(_), Some(_)) => LogoutAction::Error("redirect_mismatch".into()),
                    _ => LogoutAction::Error("Required String parameter 'redirect_uri' is not present".into()),
                }
            }
        };
        Ok((action, Some((client, pool))))
    }
}

#[cfg(test)]
mod tests {
    use super::released;

    #[test]
    fn scopes_release_their_attribute_groups() {
        assert!(released(&["openid"], "custom:team"));
        assert!(released(&["openid", "email"], "email_verified"));
        assert!(!released(&["openid", "email"], "phone_number"));
        assert!(released(&["openid", "profile"], "custom:team"));
        assert!(!released(&["openid", "phone"], "given_name"));
    }
}
