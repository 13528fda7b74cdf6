//! The settings members of CreateUserPool and UpdateUserPool: which members each operation
//! takes, and [`PoolSettings`], the typed form of the members UpdateUserPool may change.
//! The pool stores its settings as Cognito's JSON (`UserPool.settings`); [`PoolSettings::to_map`]
//! gives that form.
use crate::error::Result;
use crate::request::Request;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The members UpdateUserPool may change, in the order DescribeUserPool lists them. What an
/// update omits returns to its default, except [`KEPT_WHEN_OMITTED`]. The serverless.yml /
/// CloudFormation applier copies these members of a described pool into an update.
pub const UPDATE_USER_POOL_MEMBERS: &[&str] = &[
    "Policies",
    "DeletionProtection",
    "LambdaConfig",
    "AutoVerifiedAttributes",
    "SmsVerificationMessage",
    "EmailVerificationMessage",
    "EmailVerificationSubject",
    "VerificationMessageTemplate",
    "SmsAuthenticationMessage",
    "UserAttributeUpdateSettings",
    "MfaConfiguration",
    "DeviceConfiguration",
    "EmailConfiguration",
    "SmsConfiguration",
    "UserPoolTags",
    "AdminCreateUserConfig",
    "UserPoolAddOns",
    "AccountRecoverySetting",
    "UserPoolTier",
    "EmailAuthenticationMessage",
    "EmailAuthenticationSubject",
    "WebAuthnConfiguration",
];

/// Members only CreateUserPool sets; UpdateUserPool refuses them.
pub const CREATE_ONLY_MEMBERS: &[&str] = &["AliasAttributes", "UsernameAttributes", "UsernameConfiguration"];

/// Members that keep their value when an UpdateUserPool leaves them out, although the API
/// reference says every omitted member returns to its default: AWS was measured to keep
/// MfaConfiguration (and each policy of Policies, merged in `update_user_pool`), and an update
/// without UserAttributeUpdateSettings changes nothing (only an empty list turns it off).
pub(super) const KEPT_WHEN_OMITTED: &[&str] = &["MfaConfiguration", "UserAttributeUpdateSettings"];

/// The members of [`UPDATE_USER_POOL_MEMBERS`] a request gave (null members count as not
/// given). Members Cognate checks or reads have real types; nested structures it only stores
/// and echoes back in DescribeUserPool are kept as given (`Value`, or a JSON map when the
/// checks look inside).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PoolSettings {
    /// PasswordPolicy (checked) and SignInPolicy, kept as given.
    pub policies: Option<Map<String, Value>>,
    /// ACTIVE or INACTIVE.
    pub deletion_protection: Option<String>,
    /// Trigger ARNs and sender configurations by member name, checked, kept as given.
    pub lambda_config: Option<Map<String, Value>>,
    pub auto_verified_attributes: Option<Vec<String>>,
    pub sms_verification_message: Option<String>,
    pub email_verification_message: Option<String>,
    pub email_verification_subject: Option<String>,
    /// VerificationMessageTemplateType: its messages are checked, it is kept as given.
    pub verification_message_template: Option<Map<String, Value>>,
    pub sms_authentication_message: Option<String>,
    /// UserAttributeUpdateSettingsType, kept as given.
    pub user_attribute_update_settings: Option<Value>,
    /// OFF, ON or OPTIONAL.
    pub mfa_configuration: Option<String>,
    /// DeviceConfigurationType, kept as given.
    pub device_configuration: Option<Value>,
    /// EmailConfigurationType, kept as given.
    pub email_configuration: Option<Value>,
    /// SmsConfigurationType, kept as given.
    pub sms_configuration: Option<Value>,
    pub user_pool_tags: Option<BTreeMap<String, String>>,
    /// AdminCreateUserConfigType, kept as given (defaults are filled in).
    pub admin_create_user_config: Option<Value>,
    /// UserPoolAddOnsType, kept as given.
    pub user_pool_add_ons: Option<Value>,
    /// AccountRecoverySettingType, kept as given.
    pub account_recovery_setting: Option<Value>,
    pub user_pool_tier: Option<String>,
    pub email_authentication_message: Option<String>,
    pub email_authentication_subject: Option<String>,
    /// WebAuthnConfigurationType, kept as given.
    pub web_authn_configuration: Option<Value>,
}

/// The members of [`CREATE_ONLY_MEMBERS`] a CreateUserPool request gave.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateOnlySettings {
    pub alias_attributes: Option<Vec<String>>,
    pub username_attributes: Option<Vec<String>>,
    /// UsernameConfigurationType's CaseSensitive.
    pub username_case_sensitive: Option<bool>,
}

/// The members of `names` that a request gave, as given: what the checks in `validation.rs`
/// read, so their messages and order stay Cognito's.
pub(super) fn given_members(req: &Request, names: &[&str]) -> Map<String, Value> {
    names
        .iter()
        .filter_map(|name| req.raw(name).map(|v| ((*name).to_owned(), v.clone())))
        .collect()
}

impl PoolSettings {
    /// Reads the typed members; the checks in `validation.rs` have already passed.
    pub(super) fn read(req: &Request) -> Result<Self> {
        let value = |name: &str| req.raw(name).cloned();
        Ok(Self {
            policies: req.object("Policies")?,
            deletion_protection: req.opt_str("DeletionProtection")?,
            lambda_config: req.object("LambdaConfig")?,
            auto_verified_attributes: req.opt_str_list("AutoVerifiedAttributes")?,
            sms_verification_message: req.opt_str("SmsVerificationMessage")?,
            email_verification_message: req.opt_str("EmailVerificationMessage")?,
            email_verification_subject: req.opt_str("EmailVerificationSubject")?,
            verification_message_template: req.object("VerificationMessageTemplate")?,
            sms_authentication_message: req.opt_str("SmsAuthenticationMessage")?,
            user_attribute_update_settings: value("UserAttributeUpdateSettings"),
            mfa_configuration: req.opt_str("MfaConfiguration")?,
            device_configuration: value("DeviceConfiguration"),
            email_configuration: value("EmailConfiguration"),
            sms_configuration: value("SmsConfiguration"),
            user_pool_tags: req.str_map("UserPoolTags")?,
            admin_create_user_config: value("AdminCreateUserConfig"),
            user_pool_add_ons: value("UserPoolAddOns"),
            account_recovery_setting: value("AccountRecoverySetting"),
            user_pool_tier: req.opt_str("UserPoolTier")?,
            email_authentication_message: req.opt_str("EmailAuthenticationMessage")?,
            email_authentication_subject: req.opt_str("EmailAuthenticationSubject")?,
            web_authn_configuration: value("WebAuthnConfiguration"),
        })
    }

    /// The given members in the pool's stored form (Cognito's JSON).
    pub fn to_map(&self) -> Map<String, Value> {
        let mut out = Map::new();
        let mut put = |name: &str, v: Option<Value>| {
            if let Some(v) = v {
                out.insert(name.to_owned(), v);
            }
        };
        let object = |m: &Option<Map<String, Value>>| m.clone().map(Value::Object);
        let string = |s: &Option<String>| s.as_ref().map(|s| json!(s));
        put("Policies", object(&self.policies));
        put("DeletionProtection", string(&self.deletion_protection));
        put("LambdaConfig", object(&self.lambda_config));
        put(
            "AutoVerifiedAttributes",
            self.auto_verified_attributes.as_ref().map(|l| json!(l)),
        );
        put("SmsVerificationMessage", string(&self.sms_verification_message));
        put("EmailVerificationMessage", string(&self.email_verification_message));
        put("EmailVerificationSubject", string(&self.email_verification_subject));
        put(
            "VerificationMessageTemplate",
            object(&self.verification_message_template),
        );
        put("SmsAuthenticationMessage", string(&self.sms_authentication_message));
        put(
            "UserAttributeUpdateSettings",
            self.user_attribute_update_settings.clone(),
        );
        put("MfaConfiguration", string(&self.mfa_configuration));
        put("DeviceConfiguration", self.device_configuration.clone());
        put("EmailConfiguration", self.email_configuration.clone());
        put("SmsConfiguration", self.sms_configuration.clone());
        put("UserPoolTags", self.user_pool_tags.as_ref().map(|t| json!(t)));
        put("AdminCreateUserConfig", self.admin_create_user_config.clone());
        put("UserPoolAddOns", self.user_pool_add_ons.clone());
        put("AccountRecoverySetting", self.account_recovery_setting.clone());
        put("UserPoolTier", string(&self.user_pool_tier));
        put("EmailAuthenticationMessage", string(&self.email_authentication_message));
        put("EmailAuthenticationSubject", string(&self.email_authentication_subject));
        put("WebAuthnConfiguration", self.web_authn_configuration.clone());
        out
    }
}

impl CreateOnlySettings {
    pub(super) fn read(req: &Request) -> Result<Self> {
        let case_sensitive = match req.object("UsernameConfiguration")? {
            None => None,
            Some(uc) => Some(Request(uc).opt_bool("CaseSensitive")?.unwrap_or(true)),
        };
        Ok(Self {
            alias_attributes: req.opt_str_list("AliasAttributes")?,
            username_attributes: req.opt_str_list("UsernameAttributes")?,
            username_case_sensitive: case_sensitive,
        })
    }

    pub fn to_map(&self) -> Map<String, Value> {
        let mut out = Map::new();
        if let Some(a) = &self.alias_attributes {
            out.insert("AliasAttributes".into(), json!(a));
        }
        if let Some(u) = &self.username_attributes {
            out.insert("UsernameAttributes".into(), json!(u));
        }
        if let Some(c) = self.username_case_sensitive {
            out.insert("UsernameConfiguration".into(), json!({ "CaseSensitive": c }));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every member UpdateUserPool takes has a field, so the list and the struct agree.
    #[test]
    fn pool_settings_has_a_field_for_every_update_member() {
        let req = Request(
            UPDATE_USER_POOL_MEMBERS
                .iter()
                .map(|name| {
                    let v = match *name {
                        "Policies" | "LambdaConfig" | "VerificationMessageTemplate" | "UserPoolTags" => json!({}),
                        "AutoVerifiedAttributes" => json!([]),
                        _ => json!("x"),
                    };
                    ((*name).to_owned(), v)
                })
                .collect(),
        );
        let map = PoolSettings::read(&req).unwrap().to_map();
        // Compared as sets: the map's order depends on serde_json's preserve_order feature.
        let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
        let mut members = UPDATE_USER_POOL_MEMBERS.to_vec();
        keys.sort_unstable();
        members.sort_unstable();
        assert_eq!(keys, members);
    }

    #[test]
    fn create_only_members_round_trip() {
        let req = Request(
            json!({"AliasAttributes": ["email"], "UsernameConfiguration": {"CaseSensitive": false}})
                .as_object()
                .cloned()
                .unwrap(),
        );
        let map = CreateOnlySettings::read(&req).unwrap().to_map();
        assert_eq!(
            Value::Object(map),
            json!({"AliasAttributes": ["email"], "UsernameConfiguration": {"CaseSensitive": false}})
        );
    }
}
