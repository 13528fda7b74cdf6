//! An app client's settings: [`ClientSettings`], the members CreateUserPoolClient and
//! UpdateUserPoolClient take, their checks and defaults, and how sign-in reads them (which
//! auth flows a client allows, its token lifetimes). The client stores its settings as
//! Cognito's JSON (`AppClient.settings`); [`ClientSettings::to_map`] gives that form.
use crate::error::{Error, Result};
use crate::model::AppClient;
use crate::request::Request;
use serde_json::{Map, Value, json};

const NEW_FLOWS: &[&str] = &[
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_CUSTOM_AUTH",
    "ALLOW_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
    "ALLOW_USER_AUTH",
];
const LEGACY_FLOWS: &[&str] = &["ADMIN_NO_SRP_AUTH", "CUSTOM_AUTH_FLOW_ONLY", "USER_PASSWORD_AUTH"];

/// The settings members CreateUserPoolClient and UpdateUserPoolClient take, in the order
/// DescribeUserPoolClient lists them.
pub const CLIENT_SETTINGS_MEMBERS: &[&str] = &[
    "RefreshTokenValidity",
    "AccessTokenValidity",
    "IdTokenValidity",
    "TokenValidityUnits",
    "ReadAttributes",
    "WriteAttributes",
    "ExplicitAuthFlows",
    "SupportedIdentityProviders",
    "CallbackURLs",
    "LogoutURLs",
    "DefaultRedirectURI",
    "AllowedOAuthFlows",
    "AllowedOAuthScopes",
    "AllowedOAuthFlowsUserPoolClient",
    "AnalyticsConfiguration",
    "PreventUserExistenceErrors",
    "EnableTokenRevocation",
    "EnablePropagateAdditionalUserContextData",
    "AuthSessionValidity",
    "RefreshTokenRotation",
];

/// The settings members a request gave (null members count as not given). Nested structures
/// Cognate only stores and echoes back are kept as given (`Value`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientSettings {
    /// In TokenValidityUnits.RefreshToken, else days.
    pub refresh_token_validity: Option<i64>,
    /// In TokenValidityUnits.AccessToken, else hours.
    pub access_token_validity: Option<i64>,
    /// In TokenValidityUnits.IdToken, else hours.
    pub id_token_validity: Option<i64>,
    pub token_validity_units: Option<TokenValidityUnits>,
    pub read_attributes: Option<Vec<String>>,
    pub write_attributes: Option<Vec<String>>,
    pub explicit_auth_flows: Option<Vec<String>>,
    pub supported_identity_providers: Option<Vec<String>>,
    pub callback_urls: Option<Vec<String>>,
    pub logout_urls: Option<Vec<String>>,
    pub default_redirect_uri: Option<String>,
    pub allowed_o_auth_flows: Option<Vec<String>>,
    pub allowed_o_auth_scopes: Option<Vec<String>>,
    pub allowed_o_auth_flows_user_pool_client: Option<bool>,
    /// AnalyticsConfigurationType, kept as given.
    pub analytics_configuration: Option<Value>,
    /// ENABLED or LEGACY.
    pub prevent_user_existence_errors: Option<String>,
    pub enable_token_revocation: Option<bool>,
    pub enable_propagate_additional_user_context_data: Option<bool>,
    /// Minutes, 3–15.
    pub auth_session_validity: Option<i64>,
    /// RefreshTokenRotationType, kept as given.
    pub refresh_token_rotation: Option<Value>,
}

/// TokenValidityUnitsType: seconds, minutes, hours or days for each token.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TokenValidityUnits {
    pub access_token: Option<String>,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
}

/// The settings members a request gave, as given: what [`validate_settings`] reads.
pub(super) fn given_settings(req: &Request) -> Map<String, Value> {
    CLIENT_SETTINGS_MEMBERS
        .iter()
        .filter_map(|name| req.raw(name).map(|v| ((*name).to_owned(), v.clone())))
        .collect()
}

impl ClientSettings {
    /// Reads the typed members; [`validate_settings`] has already passed.
    pub(super) fn read(req: &Request) -> Result<Self> {
        let units = match req.object("TokenValidityUnits")? {
            None => None,
            Some(u) => {
                let u = Request(u);
                Some(TokenValidityUnits {
                    access_token: u.opt_str("AccessToken")?,
                    id_token: u.opt_str("IdToken")?,
                    refresh_token: u.opt_str("RefreshToken")?,
                })
            }
        };
        let value = |name: &str| req.raw(name).cloned();
        Ok(Self {
            refresh_token_validity: req.opt_i64("RefreshTokenValidity")?,
            access_token_validity: req.opt_i64("AccessTokenValidity")?,
            id_token_validity: req.opt_i64("IdTokenValidity")?,
            token_validity_units: units,
            read_attributes: req.opt_str_list("ReadAttributes")?,
            write_attributes: req.opt_str_list("WriteAttributes")?,
            explicit_auth_flows: req.opt_str_list("ExplicitAuthFlows")?,
            supported_identity_providers: req.opt_str_list("SupportedIdentityProviders")?,
            callback_urls: req.opt_str_list("CallbackURLs")?,
            logout_urls: req.opt_str_list("LogoutURLs")?,
            default_redirect_uri: req.opt_str("DefaultRedirectURI")?,
            allowed_o_auth_flows: req.opt_str_list("AllowedOAuthFlows")?,
            allowed_o_auth_scopes: req.opt_str_list("AllowedOAuthScopes")?,
            allowed_o_auth_flows_user_pool_client: req.opt_bool("AllowedOAuthFlowsUserPoolClient")?,
            analytics_configuration: value("AnalyticsConfiguration"),
            prevent_user_existence_errors: req.opt_str("PreventUserExistenceErrors")?,
            enable_token_revocation: req.opt_bool("EnableTokenRevocation")?,
            enable_propagate_additional_user_context_data: req.opt_bool("EnablePropagateAdditionalUserContextData")?,
            auth_session_validity: req.opt_i64("AuthSessionValidity")?,
            refresh_token_rotation: value("RefreshTokenRotation"),
        })
    }

    /// The given members in the client's stored form (Cognito's JSON).
    pub fn to_map(&self) -> Map<String, Value> {
        let mut out = Map::new();
        let mut put = |name: &str, v: Option<Value>| {
            if let Some(v) = v {
                out.insert(name.to_owned(), v);
            }
        };
        let int = |n: Option<i64>| n.map(|n| json!(n));
        let list = |l: &Option<Vec<String>>| l.as_ref().map(|l| json!(l));
        let string = |s: &Option<String>| s.as_ref().map(|s| json!(s));
        let flag = |b: Option<bool>| b.map(Value::Bool);
        put("RefreshTokenValidity", int(self.refresh_token_validity));
        put("AccessTokenValidity", int(self.access_token_validity));
        put("IdTokenValidity", int(self.id_token_validity));
        put(
            "TokenValidityUnits",
            self.token_validity_units.as_ref().map(|u| {
                let mut units = Map::new();
                for (name, unit) in [
                    ("AccessToken", &u.access_token),
                    ("IdToken", &u.id_token),
                    ("RefreshToken", &u.refresh_token),
                ] {
                    if let Some(unit) = unit {
                        units.insert(name.into(), json!(unit));
                    }
                }
                Value::Object(units)
            }),
        );
        put("ReadAttributes", list(&self.read_attributes));
        put("WriteAttributes", list(&self.write_attributes));
        put("ExplicitAuthFlows", list(&self.explicit_auth_flows));
        put("SupportedIdentityProviders", list(&self.supported_identity_providers));
        put("CallbackURLs", list(&self.callback_urls));
        put("LogoutURLs", list(&self.logout_urls));
        put("DefaultRedirectURI", string(&self.default_redirect_uri));
        put("AllowedOAuthFlows", list(&self.allowed_o_auth_flows));
        put("AllowedOAuthScopes", list(&self.allowed_o_auth_scopes));
        put(
            "AllowedOAuthFlowsUserPoolClient",
            flag(self.allowed_o_auth_flows_user_pool_client),
        );
        put("AnalyticsConfiguration", self.analytics_configuration.clone());
        put(
            "PreventUserExistenceErrors",
            string(&self.prevent_user_existence_errors),
        );
        put("EnableTokenRevocation", flag(self.enable_token_revocation));
        put(
            "EnablePropagateAdditionalUserContextData",
            flag(self.enable_propagate_additional_user_context_data),
        );
        put("AuthSessionValidity", int(self.auth_session_validity));
        put("RefreshTokenRotation", self.refresh_token_rotation.clone());
        out
    }
}

fn unit_seconds(unit: &str) -> i64 {
    match unit {
        "seconds" => 1,
        "minutes" => 60,
        "hours" => 3600,
        _ => 86_400,
    }
}

/// The flows a client without ExplicitAuthFlows allows (AWS: "If you don't specify a value for
/// ExplicitAuthFlows, your app client supports ALLOW_REFRESH_TOKEN_AUTH, ALLOW_USER_SRP_AUTH, and
/// ALLOW_CUSTOM_AUTH"). DescribeUserPoolClient does not list them.
const DEFAULT_FLOWS: &[&str] = &["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_CUSTOM_AUTH"];

const TIME_UNITS: &[&str] = &["seconds", "minutes", "hours", "days"];

/// A token lifetime in seconds. A validity the client has is in its TokenValidityUnits member,
/// else in `default_unit`; a client without one gets `default` `default_unit`s, whatever its
/// units say (the stored settings are what was set, so AccessTokenValidity and IdTokenValidity
/// are absent unless given).
pub fn token_validity_secs(
    client: &AppClient,
    member: &str,
    unit_member: &str,
    default_unit: &str,
    default: i64,
) -> i64 {
    let Some(value) = client.setting(member).and_then(Value::as_i64) else {
        return default * unit_seconds(default_unit);
    };
    let unit = client
        .setting("TokenValidityUnits")
        .and_then(|u| u.get(unit_member))
        .and_then(Value::as_str)
        .unwrap_or(default_unit);
    value * unit_seconds(unit)
}

/// With refresh-token rotation on (`RefreshTokenRotation.Feature` ENABLED), how long (seconds) a
/// rotated-out refresh token still works (`RetryGracePeriodSeconds`, 0 by default).
pub fn rotation_grace_secs(client: &AppClient) -> Option<i64> {
    let r = client.setting("RefreshTokenRotation")?;
    (r.get("Feature").and_then(Value::as_str) == Some("ENABLED"))
        .then(|| r.get("RetryGracePeriodSeconds").and_then(Value::as_i64).unwrap_or(0))
}

/// Checks the settings a request gave (as given, so the messages are Cognito's).
pub(super) fn validate_settings(s: &Map<String, Value>) -> Result<()> {
    if let Some(flows) = s.get("ExplicitAuthFlows").and_then(Value::as_array) {
        let names: Vec<&str> = flows.iter().filter_map(Value::as_str).collect();
        for f in &names {
            if !NEW_FLOWS.contains(f) && !LEGACY_FLOWS.contains(f) {
                return Err(Error::constraint(
                    "explicitAuthFlows",
                    f,
                    "Member must satisfy enum value set: [ADMIN_NO_SRP_AUTH, CUSTOM_AUTH_FLOW_ONLY, USER_PASSWORD_AUTH, ALLOW_ADMIN_USER_PASSWORD_AUTH, ALLOW_CUSTOM_AUTH, ALLOW_USER_PASSWORD_AUTH, ALLOW_USER_SRP_AUTH, ALLOW_REFRESH_TOKEN_AUTH, ALLOW_USER_AUTH]",
                ));
            }
        }
        let new = names.iter().any(|f| NEW_FLOWS.contains(f));
        let legacy = names.iter().any(|f| LEGACY_FLOWS.contains(f));
        if new && legacy {
            return Err(Error::invalid_parameter(
                "The combination of legacy and new explicit auth flows is not supported.",
            ));
        }
    }
    let units = s.get("TokenValidityUnits").cloned().unwrap_or(json!({}));
    for (member, camel) in [
        ("AccessToken", "accessToken"),
        ("IdToken", "idToken"),
        ("RefreshToken", "refreshToken"),
    ] {
        if let Some(u) = units.get(member).filter(|u| !u.is_null())
            && !u.as_str().is_some_and(|u| TIME_UNITS.contains(&u))
        {
            return Err(Error::constraint(
                &format!("tokenValidityUnits.{camel}"),
                u.as_str().unwrap_or_default(),
                "Member must satisfy enum value set: [seconds, minutes, hours, days]",
            ));
        }
    }
    let unit = |m: &str, d: &str| units.get(m).and_then(Value::as_str).unwrap_or(d).to_owned();
    let checks = [
        ("AccessTokenValidity", "AccessToken", "accessTokenValidity", 300, 86_400),
        ("IdTokenValidity", "IdToken", "idTokenValidity", 300, 86_400),
        (
            "RefreshTokenValidity",
            "RefreshToken",
            "refreshTokenValidity",
            3600,
            315_360_000,
        ),
    ];
    for (member, unit_member, camel, min, max) in checks {
        if let Some(v) = s.get(member).and_then(Value::as_i64) {
            let default_unit = if member == "RefreshTokenValidity" {
                "days"
            } else {
                "hours"
            };
            let secs = v * unit_seconds(&unit(unit_member, default_unit));
            if secs < min || secs > max {
                return Err(Error::invalid_parameter(format!(
                    "Invalid range for token validity. {camel} must be between {} and {}.",
                    humanize(min),
                    humanize(max)
                )));
            }
        }
    }
    if let Some(p) = s.get("PreventUserExistenceErrors").and_then(Value::as_str)
        && p != "ENABLED"
        && p != "LEGACY"
    {
        return Err(Error::constraint(
            "preventUserExistenceErrors",
            p,
            "Member must satisfy enum value set: [LEGACY, ENABLED]",
        ));
    }
    if let Some(r) = s.get("RefreshTokenRotation").filter(|r| !r.is_null()) {
        match r.get("Feature").and_then(Value::as_str) {
            None => return Err(Error::missing("refreshTokenRotation.feature")),
            Some(f) if f != "ENABLED" && f != "DISABLED" => {
                return Err(Error::constraint(
                    "refreshTokenRotation.feature",
                    f,
                    "Member must satisfy enum value set: [ENABLED, DISABLED]",
                ));
            }
            Some(_) => {}
        }
        if let Some(g) = r.get("RetryGracePeriodSeconds").and_then(Value::as_i64) {
            let constraint = if g < 0 {
                Some("Member must have value greater than or equal to 0")
            } else if g > 60 {
                Some("Member must have value less than or equal to 60")
            } else {
                None
            };
            if let Some(c) = constraint {
                return Err(Error::constraint(
                    "refreshTokenRotation.retryGracePeriodSeconds",
                    &g.to_string(),
                    c,
                ));
            }
        }
    }
    if let Some(v) = s.get("AuthSessionValidity").and_then(Value::as_i64)
        && !(3..=15).contains(&v)
    {
        return Err(Error::constraint(
            "authSessionValidity",
            &v.to_string(),
            "Member must have value between 3 and 15",
        ));
    }
    Ok(())
}

fn humanize(secs: i64) -> String {
    match secs {
        300 => "5 minutes".into(),
        3600 => "1 hour".into(),
        86_400 => "1 day".into(),
        315_360_000 => "10 years".into(),
        s => format!("{s} seconds"),
    }
}

/// Fills in what DescribeUserPoolClient reports for members that were not given. As on AWS,
/// AccessTokenValidity, IdTokenValidity, ExplicitAuthFlows and PreventUserExistenceErrors stay
/// absent, and TokenValidityUnits holds only the units that were given (`{}` when none were):
/// the lifetimes, flows and errors in effect without them are defaults applied where they are
/// used ([`token_validity_secs`], [`flow_allowed`]).
pub(super) fn apply_defaults(s: &mut Map<String, Value>) {
    let mut units = s
        .get("TokenValidityUnits")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    units.retain(|_, v| !v.is_null());
    s.insert("TokenValidityUnits".into(), Value::Object(units));
    s.entry("RefreshTokenValidity").or_insert(json!(30));
    s.entry("AllowedOAuthFlowsUserPoolClient").or_insert(json!(false));
    s.entry("EnableTokenRevocation").or_insert(json!(true));
    s.entry("EnablePropagateAdditionalUserContextData")
        .or_insert(json!(false));
    s.entry("AuthSessionValidity").or_insert(json!(3));
}

/// Whether the client allows an auth flow (given as its `ALLOW_` name).
pub fn flow_allowed(client: &AppClient, allow_name: &str) -> bool {
    let flows = client
        .string_list("ExplicitAuthFlows")
        .unwrap_or_else(|| DEFAULT_FLOWS.iter().map(|f| (*f).to_owned()).collect());
    let legacy_only = !flows.is_empty() && flows.iter().all(|f| LEGACY_FLOWS.contains(&f.as_str()));
    flows.iter().any(|f| {
        f == allow_name
            || match allow_name {
                "ALLOW_ADMIN_USER_PASSWORD_AUTH" => f == "ADMIN_NO_SRP_AUTH",
                "ALLOW_USER_PASSWORD_AUTH" => f == "USER_PASSWORD_AUTH",
                "ALLOW_CUSTOM_AUTH" => f == "CUSTOM_AUTH_FLOW_ONLY",
                _ => false,
            }
    }) || (legacy_only && matches!(allow_name, "ALLOW_REFRESH_TOKEN_AUTH" | "ALLOW_USER_SRP_AUTH"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every settings member has a field, so the list and the struct agree.
    #[test]
    fn client_settings_has_a_field_for_every_member() {
        let req = Request(
            CLIENT_SETTINGS_MEMBERS
                .iter()
                .map(|name| {
                    let v = match *name {
                        "RefreshTokenValidity" | "AccessTokenValidity" | "IdTokenValidity" | "AuthSessionValidity" => {
                            json!(5)
                        }
                        "TokenValidityUnits" => json!({"IdToken": "hours"}),
                        "AllowedOAuthFlowsUserPoolClient"
                        | "EnableTokenRevocation"
                        | "EnablePropagateAdditionalUserContextData" => json!(true),
                        "DefaultRedirectURI" | "PreventUserExistenceErrors" => json!("x"),
                        "AnalyticsConfiguration" | "RefreshTokenRotation" => json!({"a": 1}),
                        _ => json!(["x"]),
                    };
                    ((*name).to_owned(), v)
                })
                .collect(),
        );
        let map = ClientSettings::read(&req).unwrap().to_map();
        assert_eq!(map, req.0);
        // Compared as sets: the map's order depends on serde_json's preserve_order feature.
        let mut keys: Vec<&str> = map.keys().map(String::as_str).collect();
        let mut members = CLIENT_SETTINGS_MEMBERS.to_vec();
        keys.sort_unstable();
        members.sort_unstable();
        assert_eq!(keys, members);
    }
}
