//! The user pool domain's OAuth 2.0 / OpenID Connect side: what `/oauth2/authorize`,
//! `/oauth2/token`, `/oauth2/userInfo`, `/oauth2/revoke` and `/logout` decide, and the browser's
//! signed-in session that lets a second authorize skip the form. The hosted pages
//! (`cognate-idp`) are another client of the core: they sign users in through the same state
//! machine as the JSON API ([`Cognito::hosted_sign_in`]) and turn the result into a code here.
pub mod authorize;
pub mod browser;
pub mod federation;
pub mod machines;
pub mod token;
pub mod upstream;
pub mod userinfo;

use crate::error::Error;
use crate::model::{AppClient, UserPool};
use crate::ops::clients::oauth::STANDARD_SCOPES;
use crate::service::Cognito;
use serde_json::Value;

pub use authorize::{AuthorizeParams, AuthorizeRefusal, AuthorizeRequest, ResponseType};
pub use browser::BrowserSession;
pub use token::{TokenForm, TokenResponse};

/// An answer of the token, userInfo or revocation endpoint that is not a success: Cognito's
/// `{"error": …}` with its HTTP status. `cause` keeps an internal failure for the log.
#[derive(Debug)]
pub struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: Option<String>,
    pub cause: Option<Error>,
}

impl OAuthError {
    pub fn new(status: u16, error: &'static str) -> Self {
        Self {
            status,
            error,
            description: None,
            cause: None,
        }
    }

    pub fn described(status: u16, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            description: Some(description.into()),
            ..Self::new(status, error)
        }
    }

    /// A failure of ours: 500 `server_error`, the detail kept for the log.
    pub fn internal(e: Error) -> Self {
        Self {
            cause: Some(e),
            ..Self::new(500, "server_error")
        }
    }

    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::described(400, "invalid_request", description)
    }
}

/// Whether the client may use the OAuth endpoints at all (`AllowedOAuthFlowsUserPoolClient`).
pub fn oauth_enabled(client: &AppClient) -> bool {
    client
        .setting("AllowedOAuthFlowsUserPoolClient")
        .and_then(Value::as_bool)
        == Some(true)
}

/// Whether the client allows an OAuth flow (`code`, `implicit`, `client_credentials`).
pub fn allows_flow(client: &AppClient, flow: &str) -> bool {
    oauth_enabled(client)
        && client
            .string_list("AllowedOAuthFlows")
            .is_some_and(|flows| flows.iter().any(|f| f == flow))
}

/// The client's `AllowedOAuthScopes`.
pub fn client_scopes(client: &AppClient) -> Vec<String> {
    client.string_list("AllowedOAuthScopes").unwrap_or_default()
}

/// A custom scope: `resource-server-identifier/scope-name`.
pub fn is_custom_scope(scope: &str) -> bool {
    !STANDARD_SCOPES.contains(&scope)
}

/// Splits a `scope` parameter (spaces; `+` when a client did not decode it).
pub fn split_scopes(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split([' ', '+']).filter(|s| !s.is_empty()) {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}

/// Percent-encodes a query or fragment component (RFC 3986 unreserved characters kept).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `uri` with `params` added to its query (or, for the implicit flow, as its fragment).
pub fn with_params(uri: &str, params: &[(&str, &str)], fragment: bool) -> String {
    let encoded: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", percent_encode(v)))
        .collect();
    let joined = encoded.join("&");
    if fragment {
        format!("{uri}#{joined}")
    } else if uri.contains('?') {
        format!("{uri}&{joined}")
    } else {
        format!("{uri}?{joined}")
    }
}

/// The OAuth endpoints of a pool exist only while it has a domain; a request that came to a
/// domain by name (`domain_pool`) must be for that domain's pool.
pub(crate) fn domain_pool_check(pool: &UserPool, domain_pool: Option<&str>) -> std::result::Result<(), OAuthError> {
    if crate::ops::domains::domain_of_pool(pool).is_none() {
        return Err(OAuthError::described(
            400,
            "invalid_client",
            "The app client's user pool has no domain.",
        ));
    }
    if domain_pool.is_some_and(|d| d != pool.id) {
        return Err(OAuthError::new(400, "invalid_client"));
    }
    Ok(())
}

impl Cognito {
    /// Drops custom scopes whose resource server or scope was deleted since the client was
    /// given them: Cognito ignores them at sign-in.
    pub(crate) async fn active_scopes(&self, pool: &UserPool, scopes: Vec<String>) -> crate::Result<Vec<String>> {
        if !scopes.iter().any(|s| is_custom_scope(s)) {
            return Ok(scopes);
        }
        let servers = self.resource_servers(&pool.id).await?;
        Ok(scopes
            .into_iter()
            .filter(|scope| {
                !is_custom_scope(scope)
                    || scope.rsplit_once('/').is_some_and(|(identifier, name)| {
                        servers
                            .iter()
                            .any(|r| r.identifier == identifier && r.scopes.iter().any(|x| x.scope_name == name))
                    })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_split_on_spaces_and_plus_without_duplicates() {
        assert_eq!(
            split_scopes("openid+email  openid api/read"),
            ["openid", "email", "api/read"]
        );
    }

    #[test]
    fn params_join_an_existing_query_and_encode_values() {
        assert_eq!(
            with_params("https://app/cb?x=1", &[("code", "a b"), ("state", "s&t=")], false),
            "https://app/cb?x=1&code=a%20b&state=s%26t%3D"
        );
        assert_eq!(with_params("https://app/cb", &[("a", "1")], true), "https://app/cb#a=1");
    }
}
