//! A user pool's MFA configuration: GetUserPoolMfaConfig and SetUserPoolMfaConfig. The
//! configurations are kept among the pool's settings, in Cognito's JSON shape.
use crate::error::{Error, Result};
use crate::model::UserPool;
use crate::ops::Input;
use crate::ops::pools::UserPoolRef;
use crate::ops::pools::sign_in_policy::{check_tier, checked_web_authn};
use crate::request::Request;
use crate::service::Cognito;
use serde::Serialize;
use serde_json::{Value, json};

// ---- inputs ------------------------------------------------------------------------------

/// SetUserPoolMfaConfig. A missing MfaConfiguration means OFF (Cognito resets the pool to OFF
/// then); factor configurations left `None` keep their value unless MFA goes OFF, which drops
/// them. The configurations are kept as given; the message templates inside
/// SmsMfaConfiguration and EmailMfaConfiguration also become the pool's authentication
/// messages.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SetUserPoolMfaConfigInput {
    pub user_pool_id: String,
    /// SmsMfaConfigType, kept as given.
    pub sms_mfa_configuration: Option<Value>,
    /// SoftwareTokenMfaConfigType, kept as given.
    pub software_token_mfa_configuration: Option<Value>,
    /// EmailMfaConfigType, kept as given.
    pub email_mfa_configuration: Option<Value>,
    /// WebAuthnConfigurationType, kept as given.
    pub web_authn_configuration: Option<Value>,
    /// OFF, ON or OPTIONAL.
    pub mfa_configuration: Option<String>,
}

impl Input for SetUserPoolMfaConfigInput {
    fn decode(req: &Request) -> Result<Self> {
        let user_pool_id = req.pool_id()?;
        let mfa_configuration = req.opt_str("MfaConfiguration")?;
        if let Some(m) = &mfa_configuration
            && !matches!(m.as_str(), "OFF" | "ON" | "OPTIONAL")
        {
            return Err(Error::constraint("mfaConfiguration", m, MFA_ENUM));
        }
        let value = |name: &str| req.raw(name).cloned();
        let web_authn_configuration = req
            .raw("WebAuthnConfiguration")
            .filter(|v| !v.is_null())
            .map(checked_web_authn)
            .transpose()?;
        Ok(Self {
            user_pool_id,
            sms_mfa_configuration: value("SmsMfaConfiguration"),
            software_token_mfa_configuration: value("SoftwareTokenMfaConfiguration"),
            email_mfa_configuration: value("EmailMfaConfiguration"),
            web_authn_configuration,
            mfa_configuration,
        })
    }
}

/// The enum constraint as Cognito words it (its own order, not the model's).
pub(crate) const MFA_ENUM: &str = "Member must satisfy enum value set: [OPTIONAL, OFF, ON]";

/// The factor configurations of SetUserPoolMfaConfig. WebAuthnConfiguration is not one: it
/// configures passkeys, which are a first factor.
const FACTORS: [&str; 3] = [
    "SmsMfaConfiguration",
    "SoftwareTokenMfaConfiguration",
    "EmailMfaConfiguration",
];

// ---- outputs -----------------------------------------------------------------------------

/// GetUserPoolMfaConfig, SetUserPoolMfaConfig: the configurations as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolMfaConfig {
    pub mfa_configuration: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sms_mfa_configuration: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub software_token_mfa_configuration: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_mfa_configuration: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_authn_configuration: Option<Value>,
}

impl UserPoolMfaConfig {
    pub fn of(pool: &UserPool) -> Self {
        let setting = |name: &str| pool.setting(name).cloned();
        Self {
            mfa_configuration: pool
                .setting("MfaConfiguration")
                .and_then(Value::as_str)
                .unwrap_or("OFF")
                .to_owned(),
            sms_mfa_configuration: setting("SmsMfaConfiguration"),
            software_token_mfa_configuration: setting("SoftwareTokenMfaConfiguration"),
            email_mfa_configuration: setting("EmailMfaConfiguration"),
            web_authn_configuration: setting("WebAuthnConfiguration"),
        }
    }
}

// ---- operations --------------------------------------------------------------------------

impl Cognito {
    pub async fn get_user_pool_mfa_config(&self, input: UserPoolRef) -> Result<UserPoolMfaConfig> {
        let pool = self.pool(&input.user_pool_id).await?;
        Ok(UserPoolMfaConfig::of(&pool))
    }

    pub async fn set_user_pool_mfa_config(&self, input: SetUserPoolMfaConfigInput) -> Result<UserPoolMfaConfig> {
        let mut pool = self.pool(&input.user_pool_id).await?;
        let mode = input.mfa_configuration.clone().unwrap_or_else(|| "OFF".into());
        // What counts is a factor member being there, whatever it says (Cognito refuses OFF
        // beside `{"Enabled": false}` too).
        let factor_given = input.sms_mfa_configuration.is_some()
            || input.software_token_mfa_configuration.is_some()
            || input.email_mfa_configuration.is_some();
        if mode == "OFF" && factor_given {
            return Err(Error::invalid_parameter(
                "Invalid MFA configuration given, can't turn off MFA and configure an MFA together.",
            ));
        }
        if mode != "OFF" && !factor_given {
            return Err(Error::invalid_parameter(
                "Invalid MFA Configuration given. SMS MFA, Email MFA, or Software Token MFA must be enabled.",
            ));
        }
        if let Some(sms) = &input.sms_mfa_configuration
            && sms.get("SmsConfiguration").is_none_or(Value::is_null)
            && pool.setting("SmsConfiguration").is_none_or(Value::is_null)
        {
            return Err(Error::invalid_parameter(
                "[SmsConfiguration] is a required member of [SoftwareTokenMfaConfiguration].",
            ));
        }
        if mode == "OFF" {
            for name in FACTORS {
                pool.settings.remove(name);
            }
        }
        for (name, config) in [
            ("SmsMfaConfiguration", &input.sms_mfa_configuration),
            ("SoftwareTokenMfaConfiguration", &input.software_token_mfa_configuration),
            ("EmailMfaConfiguration", &input.email_mfa_configuration),
            ("WebAuthnConfiguration", &input.web_authn_configuration),
        ] {
            if let Some(v) = config {
                pool.settings.insert(name.into(), v.clone());
            }
        }
        // The MFA message templates are the pool's authentication messages.
        for (config, member, setting) in [
            (
                &input.sms_mfa_configuration,
                "SmsAuthenticationMessage",
                "SmsAuthenticationMessage",
            ),
            (&input.email_mfa_configuration, "Message", "EmailAuthenticationMessage"),
            (&input.email_mfa_configuration, "Subject", "EmailAuthenticationSubject"),
        ] {
            if let Some(v) = config.as_ref().and_then(|c| c.get(member)).filter(|v| v.is_string()) {
                pool.settings.insert(setting.into(), v.clone());
            }
        }
        pool.settings.insert("MfaConfiguration".into(), json!(mode));
        check_tier(&pool.settings)?;
        pool.modified_ms = self.now_ms();
        self.store.update_pool(&pool).await?;
        Ok(UserPoolMfaConfig::of(&pool))
    }
}
