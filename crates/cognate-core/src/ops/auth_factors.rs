//! GetUserAuthFactors and AdminGetUserAuthFactors: the factors a user can sign in with
//! (choice-based sign-in, USER_AUTH) and their MFA settings.
use crate::error::Result;
use crate::model::User;
use crate::ops::mfa::{Factor, enabled, preferred};
use crate::ops::sign_in::user_auth::FirstFactor;
use crate::ops::users::{AccessTokenInput, AdminUserRef};
use crate::service::Cognito;
use serde::Serialize;

/// GetUserAuthFactorsResponse, AdminGetUserAuthFactorsResponse.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserAuthFactorsOutput {
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_mfa_setting: Option<String>,
    #[serde(rename = "UserMFASettingList", skip_serializing_if = "Option::is_none")]
    pub user_mfa_setting_list: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configured_user_auth_factors: Option<Vec<String>>,
}

/// AuthFactorType values, in the API model's order.
const AUTH_FACTORS: [&str; 5] = ["PASSWORD", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN", "SOFTWARE_TOKEN"];

impl UserAuthFactorsOutput {
    fn of(user: &User, first: Vec<FirstFactor>) -> Self {
        let mfa: Vec<Factor> = Factor::ALL.into_iter().filter(|f| enabled(user, *f)).collect();
        // First factors it can use now, and the MFA factors it has turned on.
        let mut have: Vec<&str> = first.into_iter().map(|f| f.policy_name()).collect();
        have.extend(mfa.iter().map(|f| match f {
            Factor::Sms => "SMS_OTP",
            Factor::Email => "EMAIL_OTP",
            Factor::Totp => "SOFTWARE_TOKEN",
        }));
        let configured: Vec<String> = AUTH_FACTORS
            .into_iter()
            .filter(|a| have.contains(a))
            .map(str::to_owned)
            .collect();
        Self {
            username: user.username.clone(),
            preferred_mfa_setting: preferred(user).map(|f| f.name().to_owned()),
            user_mfa_setting_list: (!mfa.is_empty()).then(|| mfa.iter().map(|f| f.name().to_owned()).collect()),
            configured_user_auth_factors: Some(configured),
        }
    }
}

impl Cognito {
    pub async fn get_user_auth_factors(&self, input: AccessTokenInput) -> Result<UserAuthFactorsOutput> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        let first = self.first_factors(&auth.pool, &auth.user).await?;
        Ok(UserAuthFactorsOutput::of(&auth.user, first))
    }

    pub async fn admin_get_user_auth_factors(&self, input: AdminUserRef) -> Result<UserAuthFactorsOutput> {
        let (pool, user) = self.admin_user(&input.user_pool_id, &input.username).await?;
        let first = self.first_factors(&pool, &user).await?;
        Ok(UserAuthFactorsOutput::of(&user, first))
    }
}
