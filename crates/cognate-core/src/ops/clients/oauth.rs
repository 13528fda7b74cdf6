//! The OAuth members of an app client (AllowedOAuthFlows, AllowedOAuthScopes, CallbackURLs),
//! checked against each other, the client's secret and the pool's resource servers as
//! CreateUserPoolClient and UpdateUserPoolClient check them.
use super::settings::ClientSettings;
use crate::error::{Error, ErrorKind, Result};
use crate::service::Cognito;

const FLOWS: [&str; 3] = ["code", "implicit", "client_credentials"];

/// Scopes every pool has; custom scopes are `resource-server-identifier/scope-name`.
pub const STANDARD_SCOPES: [&str; 5] = ["phone", "email", "openid", "profile", "aws.cognito.signin.user.admin"];

fn invalid_flow(message: &str) -> Error {
    Error::new(ErrorKind::InvalidOAuthFlowException, message)
}

/// The checks that need nothing but the request: flow names and how flows combine.
pub(super) fn check_flows(s: &ClientSettings, has_secret: bool) -> Result<()> {
    let flows = s.allowed_o_auth_flows.as_deref().unwrap_or_default();
    if flows.iter().any(|f| !FLOWS.contains(&f.as_str())) {
        return Err(Error::constraint(
            "allowedOAuthFlows",
            &format!("[{}]", flows.join(", ")),
            "Member must satisfy constraint: [Member must satisfy enum value set: [implicit, client_credentials, code]]",
        ));
    }
    let has = |f: &str| flows.iter().any(|x| x == f);
    if has("client_credentials") {
        if has("code") || has("implicit") {
            return Err(invalid_flow(
                "client_credentials flow can not be selected along with code flow or implicit flow.",
            ));
        }
        if !has_secret {
            return Err(invalid_flow(
                "client_credentials flow can not be selected if client does not have a client secret.",
            ));
        }
    }
    let no_callbacks = s.callback_urls.as_deref().is_none_or(<[String]>::is_empty);
    if (has("code") || has("implicit")) && no_callbacks {
        return Err(invalid_flow(
            "CallbackUrls can not be empty when code flow or implicit flow is selected",
        ));
    }
    Ok(())
}

impl Cognito {
    /// Every name in SupportedIdentityProviders is COGNITO or a provider of the pool.
    pub(super) async fn check_identity_providers(&self, pool_id: &str, s: &ClientSettings) -> Result<()> {
        let names = s.supported_identity_providers.as_deref().unwrap_or_default();
        let others: Vec<&String> = names.iter().filter(|n| n.as_str() != "COGNITO").collect();
        if others.is_empty() {
            return Ok(());
        }
        let providers = self.identity_providers(pool_id).await?;
        for name in others {
            if !providers.iter().any(|p| &p.name == name) {
                return Err(Error::invalid_parameter(format!(
                    "The provider {name} does not exist for User Pool {pool_id}."
                )));
            }
        }
        Ok(())
    }

    /// Every allowed scope is a standard scope or a scope of one of the pool's resource servers.
    pub(super) async fn check_scopes(&self, pool_id: &str, s: &ClientSettings) -> Result<()> {
        let scopes = s.allowed_o_auth_scopes.as_deref().unwrap_or_default();
        let custom: Vec<&String> = scopes
            .iter()
            .filter(|scope| !STANDARD_SCOPES.contains(&scope.as_str()))
            .collect();
        if custom.is_empty() {
            return Ok(());
        }
        let servers = self.resource_servers(pool_id).await?;
        for scope in custom {
            let defined = scope.rsplit_once('/').is_some_and(|(identifier, name)| {
                servers
                    .iter()
                    .any(|r| r.identifier == identifier && r.scopes.iter().any(|x| x.scope_name == name))
            });
            if !defined {
                return Err(Error::new(
                    ErrorKind::ScopeDoesNotExistException,
                    format!("Invalid scope requested: {scope}"),
                ));
            }
        }
        Ok(())
    }
}
