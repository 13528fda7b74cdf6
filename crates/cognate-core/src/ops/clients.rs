//! App client operations.
use crate::error::{Error, Result};
use crate::model::AppClient;
use crate::request::Request;
use crate::service::{Cognito, LOWER_ALNUM, epoch};
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

/// Settings CreateUserPoolClient / UpdateUserPoolClient accept, stored as given.
const CLIENT_SETTINGS: &[&str] = &[
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

fn validate_settings(s: &mut Map<String, Value>) -> Result<()> {
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
fn apply_defaults(s: &mut Map<String, Value>) {
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

fn settings_from(req: &Request) -> Map<String, Value> {
    req.0
        .iter()
        .filter(|(k, v)| CLIENT_SETTINGS.contains(&k.as_str()) && !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn check_client_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.chars().count() <= 128
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::constraint(
            "clientName",
            name,
            "Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+",
        ))
    }
}

/// The attributes the pool knows, for Read/WriteAttributes checks.
fn check_attribute_names(pool: &crate::model::UserPool, s: &Map<String, Value>) -> Result<()> {
    for member in ["ReadAttributes", "WriteAttributes"] {
        if let Some(list) = s.get(member).and_then(Value::as_array) {
            for name in list.iter().filter_map(Value::as_str) {
                if pool.schema_attribute(name).is_none() {
                    return Err(Error::invalid_parameter(format!(
                        "Invalid {} attribute: {name}",
                        if member == "ReadAttributes" { "read" } else { "write" }
                    )));
                }
            }
        }
    }
    if let Some(list) = s.get("WriteAttributes").and_then(Value::as_array) {
        for name in list.iter().filter_map(Value::as_str) {
            let mutable = pool
                .schema_attribute(name)
                .and_then(|a| a.get("Mutable").and_then(Value::as_bool))
                .unwrap_or(true);
            if !mutable || name == "sub" {
                return Err(Error::invalid_parameter(format!(
                    "Invalid write attributes specified while creating a client: {name} is immutable"
                )));
            }
        }
    }
    Ok(())
}

pub fn describe(client: &AppClient) -> Value {
    let mut out = Map::new();
    out.insert("UserPoolId".into(), json!(client.pool_id));
    out.insert("ClientName".into(), json!(client.name));
    out.insert("ClientId".into(), json!(client.client_id));
    if let Some(secret) = &client.secret {
        out.insert("ClientSecret".into(), json!(secret));
    }
    out.insert("LastModifiedDate".into(), epoch(client.modified_ms));
    out.insert("CreationDate".into(), epoch(client.created_ms));
    for (k, v) in &client.settings {
        out.insert(k.clone(), v.clone());
    }
    Value::Object(out)
}

impl Cognito {
    pub async fn create_user_pool_client(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let name = req.str("ClientName")?;
        check_client_name(&name)?;
        let mut settings = settings_from(&req);
        validate_settings(&mut settings)?;
        check_attribute_names(&pool, &settings)?;
        apply_defaults(&mut settings);
        let secret = req
            .opt_bool("GenerateSecret")?
            .unwrap_or(false)
            .then(|| self.random_string(LOWER_ALNUM, 51));
        let now = self.now_ms();
        let client = AppClient {
            pool_id: pool.id.clone(),
            client_id: self.random_string(LOWER_ALNUM, 26),
            name,
            secret,
            created_ms: now,
            modified_ms: now,
            settings,
        };
        self.put_client(&client).await?;
        Ok(json!({ "UserPoolClient": describe(&client) }))
    }

    pub async fn describe_user_pool_client(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let client = self.client_of(&pool.id, &req.str("ClientId")?).await?;
        Ok(json!({ "UserPoolClient": describe(&client) }))
    }

    pub async fn update_user_pool_client(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let mut client = self.client_of(&pool.id, &req.str("ClientId")?).await?;
        if let Some(name) = req.opt_str("ClientName")? {
            check_client_name(&name)?;
            client.name = name;
        }
        // Like Cognito, members left out of an update return to their defaults.
        let mut settings = settings_from(&req);
        validate_settings(&mut settings)?;
        check_attribute_names(&pool, &settings)?;
        apply_defaults(&mut settings);
        client.settings = settings;
        client.modified_ms = self.now_ms();
        self.put_client(&client).await?;
        Ok(json!({ "UserPoolClient": describe(&client) }))
    }

    pub async fn delete_user_pool_client(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let client = self.client_of(&pool.id, &req.str("ClientId")?).await?;
        self.store.delete_client(&client.client_id).await?;
        Ok(json!({}))
    }

    pub async fn list_user_pool_clients(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let limit = req.limit("MaxResults", 60, 60)?.max(1);
        let after = req.page_token("NextToken")?;
        let page = self.store.list_clients(&pool.id, after.as_deref(), limit).await?;
        let clients: Vec<Value> = page
            .items
            .iter()
            .map(|c| json!({"ClientId": c.client_id, "UserPoolId": c.pool_id, "ClientName": c.name}))
            .collect();
        let mut out = json!({ "UserPoolClients": clients });
        if let Some(next) = page.next {
            out["NextToken"] = json!(crate::request::encode_page_token(&next));
        }
        Ok(out)
    }
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
