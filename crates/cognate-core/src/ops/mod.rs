//! Every Cognito operation: the dispatch table from `X-Amz-Target` names to the file and method
//! that answer it, and the typed boundary between the JSON wire and the domain.
//!
//! Each operation is a method on [`Cognito`] that takes a typed `…Input` and returns a typed
//! `…Output` (both beside the method, in the file the table names). [`Input::decode`] reads an
//! input from its JSON request with AWS's validation messages; outputs serialise to the JSON
//! Cognito answers. Rust callers build inputs directly and never touch JSON.
pub mod auth_factors;
pub mod clients;
pub mod devices;
pub mod domains;
pub mod federated_users;
pub mod groups;
pub mod identity_providers;
pub mod import_jobs;
pub mod limits;
pub mod list_users;
pub mod mfa;
pub mod mfa_settings;
pub mod new_users;
pub mod passkeys;
pub mod passwords;
pub mod pools;
pub mod provider_links;
pub mod resource_servers;
pub mod sessions;
pub mod sign_in;
pub mod sign_up;
pub mod types;
pub mod ui_customization;
pub(crate) mod unenforced;
pub mod user_attributes;
pub mod users;

use crate::error::{Error, Result};
use crate::request::Request;
use crate::service::{CallContext, Cognito};
use serde::Serialize;
use serde_json::Value;

/// An operation's input, read from its JSON request. Decoding checks what AWS's request
/// validation checks (required members, types, lengths, patterns) with AWS's messages, before
/// the operation looks anything up.
pub trait Input: Sized {
    fn decode(req: &Request) -> Result<Self>;
}

/// Operations not yet given types take the request as it came.
impl Input for Request {
    fn decode(req: &Request) -> Result<Self> {
        Ok(req.clone())
    }
}

/// An operation without output members answers `{}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Empty {}

/// Decodes the input, runs the operation and encodes its output.
async fn typed<I, O, F>(req: &Request, operation: impl FnOnce(I) -> F) -> Result<Value>
where
    I: Input,
    O: Serialize,
    F: Future<Output = Result<O>>,
{
    let output = operation(I::decode(req)?).await?;
    serde_json::to_value(output).map_err(Error::internal)
}

macro_rules! operations {
    ($( $name:literal => $method:ident $( ($ctx:ident) )? in $file:literal ),* $(,)?) => {
        /// Every operation Cognate answers, by its Cognito name.
        pub const OPERATIONS: &[&str] = &[$($name),*];

        /// Where each operation lives: (name, file under `crates/cognate-core/src/ops/`, method).
        pub const OPERATION_SOURCES: &[(&str, &str, &str)] = &[
            $(($name, $file, stringify!($method))),*
        ];

        impl Cognito {
            /// Runs the operation `name` on a JSON request; `None` when Cognate does not know it.
            pub async fn call(&self, name: &str, body: Value, ctx: &CallContext) -> Option<Result<Value>> {
                let req = match Request::from_value(body) {
                    Ok(r) => r,
                    Err(e) => return Some(Err(e)),
                };
                if let Some(quotas) = &self.quotas
                    && OPERATIONS.contains(&name)
                    && let Err(e) = self.admit(quotas, name, &req).await
                {
                    return Some(Err(e));
                }
                crate::oauth::machines::note_operation(self, name);
                let result = match name {
                    $( $name => operations!(@call self, $method, req, ctx $(, $ctx)?), )*
                    _ => return None,
                };
                if let Ok(answer) = &result {
                    unenforced::note(self, name, &req, answer);
                }
                Some(result)
            }
        }
    };
    (@call $s:ident, $method:ident, $req:ident, $c:ident, ctx) => {
        typed(&$req, |input| $s.$method(input, $c)).await
    };
    (@call $s:ident, $method:ident, $req:ident, $c:ident) => {
        typed(&$req, |input| $s.$method(input)).await
    };
}

operations! {
    "GetCSVHeader" => get_csv_header in "import_jobs.rs",
    "CreateUserImportJob" => create_user_import_job in "import_jobs.rs",
    "DescribeUserImportJob" => describe_user_import_job in "import_jobs.rs",
    "ListUserImportJobs" => list_user_import_jobs in "import_jobs.rs",
    "StartUserImportJob" => start_user_import_job in "import_jobs.rs",
    "StopUserImportJob" => stop_user_import_job in "import_jobs.rs",
    "CreateUserPool" => create_user_pool in "pools/mod.rs",
    "DescribeUserPool" => describe_user_pool in "pools/mod.rs",
    "UpdateUserPool" => update_user_pool in "pools/mod.rs",
    "DeleteUserPool" => delete_user_pool in "pools/mod.rs",
    "ListUserPools" => list_user_pools in "pools/mod.rs",
    "AddCustomAttributes" => add_custom_attributes in "pools/custom_attributes.rs",
    "GetUserPoolMfaConfig" => get_user_pool_mfa_config in "pools/mfa_config.rs",
    "SetUserPoolMfaConfig" => set_user_pool_mfa_config in "pools/mfa_config.rs",
    "TagResource" => tag_resource in "pools/tags.rs",
    "UntagResource" => untag_resource in "pools/tags.rs",
    "ListTagsForResource" => list_tags_for_resource in "pools/tags.rs",
    "CreateUserPoolDomain" => create_user_pool_domain in "domains.rs",
    "DescribeUserPoolDomain" => describe_user_pool_domain in "domains.rs",
    "UpdateUserPoolDomain" => update_user_pool_domain in "domains.rs",
    "DeleteUserPoolDomain" => delete_user_pool_domain in "domains.rs",
    "CreateResourceServer" => create_resource_server in "resource_servers.rs",
    "DescribeResourceServer" => describe_resource_server in "resource_servers.rs",
    "UpdateResourceServer" => update_resource_server in "resource_servers.rs",
    "DeleteResourceServer" => delete_resource_server in "resource_servers.rs",
    "ListResourceServers" => list_resource_servers in "resource_servers.rs",
    "CreateIdentityProvider" => create_identity_provider in "identity_providers/mod.rs",
    "DescribeIdentityProvider" => describe_identity_provider in "identity_providers/mod.rs",
    "UpdateIdentityProvider" => update_identity_provider in "identity_providers/mod.rs",
    "DeleteIdentityProvider" => delete_identity_provider in "identity_providers/mod.rs",
    "ListIdentityProviders" => list_identity_providers in "identity_providers/mod.rs",
    "GetIdentityProviderByIdentifier" => get_identity_provider_by_identifier in "identity_providers/mod.rs",
    "AdminLinkProviderForUser" => admin_link_provider_for_user in "provider_links.rs",
    "AdminDisableProviderForUser" => admin_disable_provider_for_user in "provider_links.rs",
    "SetUICustomization" => set_ui_customization in "ui_customization.rs",
    "GetUICustomization" => get_ui_customization in "ui_customization.rs",
    "CreateUserPoolClient" => create_user_pool_client in "clients/mod.rs",
    "DescribeUserPoolClient" => describe_user_pool_client in "clients/mod.rs",
    "UpdateUserPoolClient" => update_user_pool_client in "clients/mod.rs",
    "DeleteUserPoolClient" => delete_user_pool_client in "clients/mod.rs",
    "ListUserPoolClients" => list_user_pool_clients in "clients/mod.rs",
    "SignUp" => sign_up(ctx) in "sign_up.rs",
    "ConfirmSignUp" => confirm_sign_up(ctx) in "sign_up.rs",
    "ResendConfirmationCode" => resend_confirmation_code(ctx) in "sign_up.rs",
    "AdminConfirmSignUp" => admin_confirm_sign_up(ctx) in "sign_up.rs",
    "ForgotPassword" => forgot_password(ctx) in "passwords.rs",
    "ConfirmForgotPassword" => confirm_forgot_password(ctx) in "passwords.rs",
    "ChangePassword" => change_password in "passwords.rs",
    "AdminSetUserPassword" => admin_set_user_password in "passwords.rs",
    "AdminResetUserPassword" => admin_reset_user_password(ctx) in "passwords.rs",
    "UpdateUserAttributes" => update_user_attributes(ctx) in "user_attributes.rs",
    "AdminUpdateUserAttributes" => admin_update_user_attributes(ctx) in "user_attributes.rs",
    "DeleteUserAttributes" => delete_user_attributes in "user_attributes.rs",
    "AdminDeleteUserAttributes" => admin_delete_user_attributes in "user_attributes.rs",
    "GetUserAttributeVerificationCode" => get_user_attribute_verification_code(ctx) in "user_attributes.rs",
    "VerifyUserAttribute" => verify_user_attribute in "user_attributes.rs",
    "AdminCreateUser" => admin_create_user(ctx) in "users.rs",
    "GetUser" => get_user in "users.rs",
    "AdminGetUser" => admin_get_user in "users.rs",
    "GetUserAuthFactors" => get_user_auth_factors in "auth_factors.rs",
    "AdminGetUserAuthFactors" => admin_get_user_auth_factors in "auth_factors.rs",
    "DeleteUser" => delete_user in "users.rs",
    "AdminDeleteUser" => admin_delete_user in "users.rs",
    "AdminEnableUser" => admin_enable_user in "users.rs",
    "AdminDisableUser" => admin_disable_user in "users.rs",
    "ListUsers" => list_users in "list_users.rs",
    "GlobalSignOut" => global_sign_out in "sessions.rs",
    "AdminUserGlobalSignOut" => admin_user_global_sign_out in "sessions.rs",
    "RevokeToken" => revoke_token in "sessions.rs",
    "CreateGroup" => create_group in "groups.rs",
    "GetGroup" => get_group in "groups.rs",
    "UpdateGroup" => update_group in "groups.rs",
    "DeleteGroup" => delete_group in "groups.rs",
    "ListGroups" => list_groups in "groups.rs",
    "ListUsersInGroup" => list_users_in_group in "groups.rs",
    "AdminAddUserToGroup" => admin_add_user_to_group in "groups.rs",
    "AdminRemoveUserFromGroup" => admin_remove_user_from_group in "groups.rs",
    "AdminListGroupsForUser" => admin_list_groups_for_user in "groups.rs",
    "InitiateAuth" => initiate_auth(ctx) in "sign_in/mod.rs",
    "AdminInitiateAuth" => admin_initiate_auth(ctx) in "sign_in/mod.rs",
    "GetTokensFromRefreshToken" => get_tokens_from_refresh_token(ctx) in "sign_in/refresh.rs",
    "RespondToAuthChallenge" => respond_to_auth_challenge(ctx) in "sign_in/mod.rs",
    "AdminRespondToAuthChallenge" => admin_respond_to_auth_challenge(ctx) in "sign_in/mod.rs",
    "AssociateSoftwareToken" => associate_software_token in "mfa_settings.rs",
    "VerifySoftwareToken" => verify_software_token in "mfa_settings.rs",
    "SetUserMFAPreference" => set_user_mfa_preference in "mfa_settings.rs",
    "AdminSetUserMFAPreference" => admin_set_user_mfa_preference in "mfa_settings.rs",
    "ConfirmDevice" => confirm_device in "devices.rs",
    "GetDevice" => get_device in "devices.rs",
    "ListDevices" => list_devices in "devices.rs",
    "ForgetDevice" => forget_device in "devices.rs",
    "UpdateDeviceStatus" => update_device_status in "devices.rs",
    "AdminGetDevice" => admin_get_device in "devices.rs",
    "AdminListDevices" => admin_list_devices in "devices.rs",
    "AdminForgetDevice" => admin_forget_device in "devices.rs",
    "AdminUpdateDeviceStatus" => admin_update_device_status in "devices.rs",
    "StartWebAuthnRegistration" => start_web_authn_registration in "passkeys.rs",
    "CompleteWebAuthnRegistration" => complete_web_authn_registration in "passkeys.rs",
    "ListWebAuthnCredentials" => list_web_authn_credentials in "passkeys.rs",
    "DeleteWebAuthnCredential" => delete_web_authn_credential in "passkeys.rs",
}

impl Cognito {
    /// Counts a request against its pool's quota. The pool is the request's `UserPoolId`, the
    /// pool of its `ClientId`, or the issuer of its `AccessToken` (read, not verified: the
    /// operation verifies it); a request that names none counts against a shared bucket.
    async fn admit(&self, quotas: &crate::quotas::Quotas, name: &str, req: &Request) -> Result<()> {
        let member = |m: &str| req.0.get(m).and_then(Value::as_str);
        let pool = if let Some(pool) = member("UserPoolId") {
            pool.to_owned()
        } else if let Some(client_id) = member("ClientId") {
            match quotas.cached_pool_of_client(client_id) {
                Some(pool) => pool,
                None => match self.client(client_id).await {
                    Ok(client) => {
                        quotas.remember_client(client_id, &client.pool_id);
                        client.pool_id
                    }
                    // An unknown client: the operation answers for it.
                    Err(_) => String::new(),
                },
            }
        } else if let Some(token) = member("AccessToken") {
            crate::tokens::unverified_issuer_pool(token).unwrap_or_default()
        } else {
            String::new()
        };
        quotas.admit(name, member("ChallengeName"), &pool, self.now_ms())
    }
}

/// Every operation of the Cognito user pools API (botocore's model), whether Cognate answers it
/// or not.
pub const MODEL_OPERATIONS: &str = include_str!("model_operations.txt");

/// The README's list of every operation of the model with its status, in Markdown: what the
/// dispatch table answers is supported, the rest is not yet. The README holds exactly this
/// between its `operations:start` and `operations:end` markers (checked by a test).
pub fn operations_status_markdown() -> String {
    let model: Vec<&str> = MODEL_OPERATIONS
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let supported = model.iter().filter(|op| OPERATIONS.contains(op)).count();
    let mut out = format!(
        "All {} operations of the Cognito user pools API ({supported} supported, {} not yet), \
         generated from the dispatch table:\n\n| operation | status |\n|---|---|\n",
        model.len(),
        model.len() - supported
    );
    for op in model {
        let status = if OPERATIONS.contains(&op) {
            "supported"
        } else {
            "not yet"
        };
        out.push_str(&format!("| {op} | {status} |\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    /// Cognate answers only operations of the model (a name outside it is a typo).
    #[test]
    fn every_operation_is_one_of_the_model() {
        for op in super::OPERATIONS {
            assert!(
                super::MODEL_OPERATIONS.lines().any(|l| l == *op),
                "{op} is not an operation of the Cognito model"
            );
        }
    }

    /// The README's list of operations is the one the dispatch table gives. Run with
    /// `COGNATE_BLESS_README=1` to rewrite it.
    #[test]
    fn readme_lists_every_operation_with_its_status() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
        let readme = std::fs::read_to_string(path).expect("README.md");
        let (start, end) = ("<!-- operations:start -->\n", "<!-- operations:end -->");
        let from = readme.find(start).expect("README has the operations:start marker") + start.len();
        let to = readme.find(end).expect("README has the operations:end marker");
        let want = super::operations_status_markdown();
        if std::env::var_os("COGNATE_BLESS_README").is_some() {
            let updated = format!("{}{want}{}", &readme[..from], &readme[to..]);
            std::fs::write(path, updated).expect("README.md written");
            return;
        }
        assert_eq!(
            &readme[from..to],
            want,
            "README's operations list is out of date: run COGNATE_BLESS_README=1 cargo test -p cognate-core readme_lists"
        );
    }

    /// The table names the file each operation's method is in, so a reader finds it in one hop.
    #[test]
    fn every_operation_lives_in_the_file_the_table_names() {
        let ops = concat!(env!("CARGO_MANIFEST_DIR"), "/src/ops");
        for (name, file, method) in super::OPERATION_SOURCES {
            let source = std::fs::read_to_string(format!("{ops}/{file}"))
                .unwrap_or_else(|e| panic!("{name}: cannot read ops/{file}: {e}"));
            assert!(
                source.contains(&format!("pub async fn {method}(")),
                "{name}: ops/{file} has no `pub async fn {method}(`"
            );
        }
    }
}
