//! One method per Cognito operation, and the table that dispatches `X-Amz-Target` names.
pub mod admin;
pub mod auth;
pub mod clients;
pub mod custom_auth;
pub mod groups;
pub mod limits;
pub mod mfa;
pub mod migration;
pub mod pools;
pub mod srp;
pub mod users;

use crate::error::Result;
use crate::request::Request;
use crate::service::{CallContext, Cognito};
use serde_json::Value;

macro_rules! operations {
    ($( $name:literal => $method:ident $( ($ctx:ident) )? ),* $(,)?) => {
        /// Every operation Cognate answers, by its Cognito name.
        pub const OPERATIONS: &[&str] = &[$($name),*];

        impl Cognito {
            /// Runs the operation `name`; `None` when Cognate does not know it.
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
                Some(match name {
                    $( $name => operations!(@call self, $method, req, ctx $(, $ctx)?), )*
                    _ => return None,
                })
            }
        }
    };
    (@call $s:ident, $method:ident, $req:ident, $c:ident, ctx) => { $s.$method($req, $c).await };
    (@call $s:ident, $method:ident, $req:ident, $c:ident) => { $s.$method($req).await };
}

operations! {
    "CreateUserPool" => create_user_pool,
    "DescribeUserPool" => describe_user_pool,
    "UpdateUserPool" => update_user_pool,
    "DeleteUserPool" => delete_user_pool,
    "ListUserPools" => list_user_pools,
    "AddCustomAttributes" => add_custom_attributes,
    "GetUserPoolMfaConfig" => get_user_pool_mfa_config,
    "SetUserPoolMfaConfig" => set_user_pool_mfa_config,
    "TagResource" => tag_resource,
    "UntagResource" => untag_resource,
    "ListTagsForResource" => list_tags_for_resource,
    "CreateUserPoolClient" => create_user_pool_client,
    "DescribeUserPoolClient" => describe_user_pool_client,
    "UpdateUserPoolClient" => update_user_pool_client,
    "DeleteUserPoolClient" => delete_user_pool_client,
    "ListUserPoolClients" => list_user_pool_clients,
    "SignUp" => sign_up(ctx),
    "ConfirmSignUp" => confirm_sign_up(ctx),
    "ResendConfirmationCode" => resend_confirmation_code(ctx),
    "ForgotPassword" => forgot_password(ctx),
    "ConfirmForgotPassword" => confirm_forgot_password(ctx),
    "ChangePassword" => change_password,
    "GetUser" => get_user,
    "UpdateUserAttributes" => update_user_attributes(ctx),
    "DeleteUserAttributes" => delete_user_attributes,
    "DeleteUser" => delete_user,
    "GetUserAttributeVerificationCode" => get_user_attribute_verification_code(ctx),
    "VerifyUserAttribute" => verify_user_attribute,
    "GlobalSignOut" => global_sign_out,
    "RevokeToken" => revoke_token,
    "AdminCreateUser" => admin_create_user(ctx),
    "AdminGetUser" => admin_get_user,
    "AdminDeleteUser" => admin_delete_user,
    "AdminEnableUser" => admin_enable_user,
    "AdminDisableUser" => admin_disable_user,
    "AdminConfirmSignUp" => admin_confirm_sign_up(ctx),
    "AdminSetUserPassword" => admin_set_user_password,
    "AdminResetUserPassword" => admin_reset_user_password(ctx),
    "AdminUpdateUserAttributes" => admin_update_user_attributes(ctx),
    "AdminDeleteUserAttributes" => admin_delete_user_attributes,
    "AdminUserGlobalSignOut" => admin_user_global_sign_out,
    "ListUsers" => list_users,
    "CreateGroup" => create_group,
    "GetGroup" => get_group,
    "UpdateGroup" => update_group,
    "DeleteGroup" => delete_group,
    "ListGroups" => list_groups,
    "ListUsersInGroup" => list_users_in_group,
    "AdminAddUserToGroup" => admin_add_user_to_group,
    "AdminRemoveUserFromGroup" => admin_remove_user_from_group,
    "AdminListGroupsForUser" => admin_list_groups_for_user,
    "InitiateAuth" => initiate_auth(ctx),
    "AdminInitiateAuth" => admin_initiate_auth(ctx),
    "GetTokensFromRefreshToken" => get_tokens_from_refresh_token(ctx),
    "RespondToAuthChallenge" => respond_to_auth_challenge(ctx),
    "AdminRespondToAuthChallenge" => admin_respond_to_auth_challenge(ctx),
    "AssociateSoftwareToken" => associate_software_token,
    "VerifySoftwareToken" => verify_software_token,
    "SetUserMFAPreference" => set_user_mfa_preference,
    "AdminSetUserMFAPreference" => admin_set_user_mfa_preference,
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
