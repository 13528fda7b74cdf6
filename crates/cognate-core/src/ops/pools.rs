//! User pool operations.
use crate::error::{Error, Result};
use crate::model::UserPool;
use crate::request::Request;
use crate::service::{ALNUM, Cognito, epoch};
use serde_json::{Map, Value, json};

const STANDARD_STRINGS: &[&str] = &[
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "address",
];

/// Cognito's standard attributes with their default schema, in DescribeUserPool's order.
pub fn standard_schema() -> Vec<Value> {
    let mut out = vec![json!({
        "Name": "sub", "AttributeDataType": "String", "DeveloperOnlyAttribute": false,
        "Mutable": false, "Required": true,
        "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "2048"}
    })];
    for name in STANDARD_STRINGS {
        let (min, max) = if *name == "birthdate" {
            ("10", "10")
        } else {
            ("0", "2048")
        };
        out.push(json!({
            "Name": name, "AttributeDataType": "String", "DeveloperOnlyAttribute": false,
            "Mutable": true, "Required": false,
            "StringAttributeConstraints": {"MinLength": min, "MaxLength": max}
        }));
        if *name == "email" || *name == "phone_number" {
            out.push(json!({
                "Name": format!("{name}_verified"), "AttributeDataType": "Boolean",
                "DeveloperOnlyAttribute": false, "Mutable": true, "Required": false
            }));
        }
    }
    out.push(json!({
        "Name": "updated_at", "AttributeDataType": "Number", "DeveloperOnlyAttribute": false,
        "Mutable": true, "Required": false, "NumberAttributeConstraints": {"MinValue": "0"}
    }));
    out.push(json!({
        "Name": "identities", "AttributeDataType": "String", "DeveloperOnlyAttribute": false,
        "Mutable": true, "Required": false, "StringAttributeConstraints": {}
    }));
    out
}

fn is_standard(name: &str) -> bool {
    standard_schema().iter().any(|a| a["Name"] == name)
}

/// Turns a SchemaAttributeType from a request into its stored form; custom attributes get
/// the `custom:` prefix (`dev:custom:` when developer-only).
fn custom_attribute(def: &Map<String, Value>) -> Result<Value> {
    let name = def
        .get("Name")
        .and_then(Value::as_str)
        .ok_or_else(|| Error::missing("schema.member.name"))?;
    if name.is_empty() || name.len() > 20 {
        return Err(Error::constraint(
            "schema.member.name",
            name,
            "Member must have length less than or equal to 20",
        ));
    }
    let data_type = def.get("AttributeDataType").and_then(Value::as_str).unwrap_or("String");
    if !matches!(data_type, "String" | "Number" | "DateTime" | "Boolean") {
        return Err(Error::constraint(
            "schema.member.attributeDataType",
            data_type,
            "Member must satisfy enum value set: [Boolean, Number, String, DateTime]",
        ));
    }
    let developer_only = def
        .get("DeveloperOnlyAttribute")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let full = if developer_only {
        format!("dev:custom:{name}")
    } else {
        format!("custom:{name}")
    };
    if def.get("Required").and_then(Value::as_bool) == Some(true) {
        return Err(Error::invalid_parameter(format!(
            "Required custom attributes are not supported currently. Attribute {full} is required."
        )));
    }
    let mut out = json!({
        "Name": full,
        "AttributeDataType": data_type,
        "DeveloperOnlyAttribute": developer_only,
        "Mutable": def.get("Mutable").and_then(Value::as_bool).unwrap_or(true),
        "Required": false,
    });
    match data_type {
        "String" => {
            let c = def.get("StringAttributeConstraints").cloned().unwrap_or(json!({}));
            out["StringAttributeConstraints"] = json!({
                "MinLength": c.get("MinLength").cloned().unwrap_or(json!("0")),
                "MaxLength": c.get("MaxLength").cloned().unwrap_or(json!("2048")),
            });
        }
        "Number" => {
            let c = def.get("NumberAttributeConstraints").cloned().unwrap_or(json!({}));
            out["NumberAttributeConstraints"] = c;
        }
        _ => {}
    }
    Ok(out)
}

fn build_schema(requested: Option<&Value>) -> Result<Vec<Value>> {
    let mut schema = standard_schema();
    let Some(items) = requested.and_then(Value::as_array) else {
        return Ok(schema);
    };
    for item in items {
        let def = item
            .as_object()
            .ok_or_else(|| Error::invalid_parameter("Invalid schema attribute."))?;
        let name = def.get("Name").and_then(Value::as_str).unwrap_or_default();
        if is_standard(name) {
            if name == "sub" {
                continue;
            }
            let slot = schema
                .iter_mut()
                .find(|a| a["Name"] == name)
                .expect("standard attribute");
            for key in ["Required", "Mutable"] {
                if let Some(v) = def.get(key).and_then(Value::as_bool) {
                    slot[key] = json!(v);
                }
            }
            if let Some(c) = def.get("StringAttributeConstraints").and_then(Value::as_object) {
                for (k, v) in c {
                    slot["StringAttributeConstraints"][k] = v.clone();
                }
            }
        } else {
            let attr = custom_attribute(def)?;
            if schema.iter().any(|a| a["Name"] == attr["Name"]) {
                return Err(Error::invalid_parameter(format!(
                    "Existing attribute already has name {}.",
                    attr["Name"].as_str().unwrap_or_default()
                )));
            }
            schema.push(attr);
        }
    }
    Ok(schema)
}

fn check_pool_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.chars().count() <= 128
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(Error::constraint(
            "poolName",
            name,
            "Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+",
        ))
    }
}

/// The password policy of a pool whose CreateUserPool request has none.
fn default_password_policy() -> Value {
    json!({
        "MinimumLength": 8,
        "RequireUppercase": true,
        "RequireLowercase": true,
        "RequireNumbers": true,
        "RequireSymbols": true,
        "TemporaryPasswordValidityDays": 7
    })
}

/// The members UpdateUserPool may change. What an update omits returns to its default, except
/// [`KEPT_WHEN_OMITTED`].
const MUTABLE_SETTINGS: &[&str] = &[
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

const CREATE_ONLY_SETTINGS: &[&str] = &["AliasAttributes", "UsernameAttributes", "UsernameConfiguration"];

/// Members that keep their value when an UpdateUserPool leaves them out, although the API
/// reference says every omitted member returns to its default: AWS was measured to keep
/// MfaConfiguration (and each policy of Policies, merged in `update_user_pool`), and an update
/// without UserAttributeUpdateSettings changes nothing (only an empty list turns it off).
const KEPT_WHEN_OMITTED: &[&str] = &["MfaConfiguration", "UserAttributeUpdateSettings"];

/// The API model's `ArnType`: 20 to 2048 characters matching
/// `arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?`.
pub(crate) const ARN_PATTERN: &str =
    "arn:[\\w+=/,.@-]+:[\\w+=/,.@-]+:([\\w+=/,.@-]*)?:[0-9]+:[\\w+=/,.@-]+(:[\\w+=/,.@-]+)?(:[\\w+=/,.@-]+)?";

/// Whether `s` matches [`ARN_PATTERN`] (as a whole). `:` is outside the character class, so
/// the parts are the `:`-separated fields: "arn", two non-empty, one possibly empty, an account
/// of digits, then one to three non-empty.
pub(crate) fn is_arn(s: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || "_+=/,.@-".contains(c);
    let parts: Vec<&str> = s.split(':').collect();
    (6..=8).contains(&parts.len())
        && parts[0] == "arn"
        && parts
            .iter()
            .enumerate()
            .skip(1)
            .all(|(i, p)| (i == 3 || !p.is_empty()) && p.chars().all(word))
        && parts[4].chars().all(|c| c.is_ascii_digit())
}

/// An `ArnType` member: AWS's validation errors for its length and pattern.
pub(crate) fn check_arn(member: &str, value: &str) -> Result<()> {
    let mut failed = Vec::new();
    let len = value.chars().count();
    if len < 20 {
        failed.push("Member must have length greater than or equal to 20".to_owned());
    } else if len > 2048 {
        failed.push("Member must have length less than or equal to 2048".to_owned());
    }
    if !is_arn(value) {
        failed.push(format!("Member must satisfy regular expression pattern: {ARN_PATTERN}"));
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(Error::constraints(member, value, &failed))
    }
}

fn check_lambda_config(lc: &Value) -> Result<()> {
    let Some(m) = lc.as_object() else { return Ok(()) };
    for (key, v) in m {
        match key.as_str() {
            "PreSignUp"
            | "CustomMessage"
            | "PostConfirmation"
            | "PreAuthentication"
            | "PostAuthentication"
            | "DefineAuthChallenge"
            | "CreateAuthChallenge"
            | "VerifyAuthChallengeResponse"
            | "PreTokenGeneration"
            | "UserMigration"
            | "KMSKeyID" => {
                let Some(s) = v.as_str() else {
                    return Err(Error::invalid_parameter(format!(
                        "Invalid value for LambdaConfig.{key}"
                    )));
                };
                if key == "KMSKeyID" {
                    check_arn("lambdaConfig.kMSKeyID", s)?;
                }
            }
            "PreTokenGenerationConfig" | "CustomSMSSender" | "CustomEmailSender" | "InboundFederation" => {
                let member = match key.as_str() {
                    "PreTokenGenerationConfig" => "lambdaConfig.preTokenGenerationConfig",
                    "CustomSMSSender" => "lambdaConfig.customSMSSender",
                    "CustomEmailSender" => "lambdaConfig.customEmailSender",
                    _ => "lambdaConfig.inboundFederation",
                };
                if v.get("LambdaArn").and_then(Value::as_str).is_none() {
                    return Err(Error::missing(&format!("{member}.lambdaArn")));
                }
                let version = v.get("LambdaVersion").and_then(Value::as_str);
                let allowed: &[&str] = if key == "PreTokenGenerationConfig" {
                    &["V1_0", "V2_0", "V3_0"]
                } else {
                    &["V1_0"]
                };
                match version {
                    None => return Err(Error::missing(&format!("{member}.lambdaVersion"))),
                    Some(ver) if !allowed.contains(&ver) => {
                        return Err(Error::constraint(
                            &format!("{member}.lambdaVersion"),
                            ver,
                            &format!("Member must satisfy enum value set: [{}]", allowed.join(", ")),
                        ));
                    }
                    _ => {}
                }
            }
            _ => return Err(Error::invalid_parameter(format!("Unknown LambdaConfig member {key}"))),
        }
    }
    let senders = m.contains_key("CustomSMSSender") || m.contains_key("CustomEmailSender");
    if senders && !m.contains_key("KMSKeyID") {
        return Err(Error::invalid_parameter(
            "KMSKeyID must be provided when CustomSMSSender or CustomEmailSender is configured.",
        ));
    }
    if let (Some(legacy), Some(cfg)) = (m.get("PreTokenGeneration"), m.get("PreTokenGenerationConfig"))
        && cfg.get("LambdaArn") != Some(legacy)
    {
        return Err(Error::invalid_parameter(
            "PreTokenGeneration and PreTokenGenerationConfig.LambdaArn must be the same.",
        ));
    }
    Ok(())
}

/// Mirrors the legacy verification members and VerificationMessageTemplate, as Cognito does.
fn normalise_messages(s: &mut Map<String, Value>) -> Result<()> {
    let mut tpl = s
        .get("VerificationMessageTemplate")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (legacy, member) in [
        ("EmailVerificationMessage", "EmailMessage"),
        ("EmailVerificationSubject", "EmailSubject"),
        ("SmsVerificationMessage", "SmsMessage"),
    ] {
        match (s.get(legacy).cloned(), tpl.get(member).cloned()) {
            (Some(v), None) if !v.is_null() => {
                tpl.insert(member.into(), v);
            }
            (None, Some(v)) => {
                s.insert(legacy.into(), v);
            }
            _ => {}
        }
    }
    tpl.entry("DefaultEmailOption").or_insert(json!("CONFIRM_WITH_CODE"));
    for (member, name) in [("EmailMessage", "emailMessage"), ("SmsMessage", "smsMessage")] {
        if let Some(m) = tpl.get(member).and_then(Value::as_str)
            && !m.contains("{####}")
        {
            return Err(Error::constraint(
                &format!("verificationMessageTemplate.{name}"),
                m,
                "Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}\\s*]*\\{####\\}[\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}\\s*]*",
            ));
        }
    }
    s.insert("VerificationMessageTemplate".into(), Value::Object(tpl));
    Ok(())
}

fn check_attribute_lists(s: &Map<String, Value>) -> Result<()> {
    let list = |k: &str| -> Vec<String> {
        s.get(k)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    };
    let alias = list("AliasAttributes");
    let username = list("UsernameAttributes");
    if !alias.is_empty() && !username.is_empty() {
        return Err(Error::invalid_parameter(
            "Only one of the aliasAttributes or usernameAttributes can be set in a User Pool.",
        ));
    }
    for a in &alias {
        if !matches!(a.as_str(), "phone_number" | "email" | "preferred_username") {
            return Err(Error::constraint(
                "aliasAttributes",
                a,
                "Member must satisfy enum value set: [phone_number, email, preferred_username]",
            ));
        }
    }
    for a in &username {
        if !matches!(a.as_str(), "phone_number" | "email") {
            return Err(Error::constraint(
                "usernameAttributes",
                a,
                "Member must satisfy enum value set: [phone_number, email]",
            ));
        }
    }
    for a in list("AutoVerifiedAttributes") {
        if !matches!(a.as_str(), "phone_number" | "email") {
            return Err(Error::constraint(
                "autoVerifiedAttributes",
                &a,
                "Member must satisfy enum value set: [phone_number, email]",
            ));
        }
    }
    Ok(())
}

/// A PasswordPolicy as given. A Require* flag it leaves out is false (the AWS SDKs for Go and
/// Java send false booleans by leaving them out), not Cognito's default for a pool without a
/// policy; other members it leaves out stay out. Only TemporaryPasswordValidityDays has a
/// default inside a given policy: absent or 0 is 7.
fn checked_password_policy(given: &Map<String, Value>) -> Result<Value> {
    let mut pp: Map<String, Value> = given
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for flag in [
        "RequireUppercase",
        "RequireLowercase",
        "RequireNumbers",
        "RequireSymbols",
    ] {
        pp.entry(flag).or_insert(json!(false));
    }
    if let Some(v) = pp.get("MinimumLength") {
        let min = v.as_i64().filter(|n| (6..=99).contains(n));
        if min.is_none() {
            return Err(Error::constraint(
                "policies.passwordPolicy.minimumLength",
                &v.to_string(),
                "Member must have value between 6 and 99",
            ));
        }
    }
    match pp.get("TemporaryPasswordValidityDays").map(|v| (v, v.as_i64())) {
        None | Some((_, Some(0))) => {
            pp.insert("TemporaryPasswordValidityDays".into(), json!(7));
        }
        Some((_, Some(days))) if (1..=365).contains(&days) => {}
        Some((v, _)) => {
            return Err(Error::constraint(
                "policies.passwordPolicy.temporaryPasswordValidityDays",
                &v.to_string(),
                "Member must have value less than or equal to 365",
            ));
        }
    }
    Ok(Value::Object(pp))
}

/// Policies: a PasswordPolicy or SignInPolicy that is not there takes Cognito's default.
fn check_policies(s: &mut Map<String, Value>) -> Result<()> {
    let mut policies = s
        .get("Policies")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    policies.retain(|_, v| !v.is_null());
    let pp = match policies.get("PasswordPolicy").and_then(Value::as_object) {
        Some(given) => checked_password_policy(given)?,
        None => default_password_policy(),
    };
    policies.insert("PasswordPolicy".into(), pp);
    policies
        .entry("SignInPolicy")
        .or_insert(json!({"AllowedFirstAuthFactors": ["PASSWORD"]}));
    s.insert("Policies".into(), Value::Object(policies));
    Ok(())
}

/// Fills in the defaults Cognito reports for members that were not given. Inside a member that
/// was given, a boolean left out is false: the AWS SDKs for Go and Java leave false and zero
/// out of requests, so only a member missing as a whole takes Cognito's default.
fn apply_defaults(s: &mut Map<String, Value>) -> Result<()> {
    check_attribute_lists(s)?;
    check_policies(s)?;
    if let Some(lc) = s.get("LambdaConfig") {
        check_lambda_config(lc)?;
    }
    s.entry("LambdaConfig").or_insert(json!({}));
    normalise_messages(s)?;
    s.entry("MfaConfiguration").or_insert(json!("OFF"));
    match s.get("MfaConfiguration").and_then(Value::as_str) {
        Some("OFF" | "ON" | "OPTIONAL") => {}
        other => {
            return Err(Error::constraint(
                "mfaConfiguration",
                other.unwrap_or_default(),
                "Member must satisfy enum value set: [OFF, ON, OPTIONAL]",
            ));
        }
    }
    s.entry("DeletionProtection").or_insert(json!("INACTIVE"));
    s.entry("EmailConfiguration")
        .or_insert(json!({"EmailSendingAccount": "COGNITO_DEFAULT"}));
    s.entry("UserPoolTier").or_insert(json!("ESSENTIALS"));
    s.entry("UserPoolTags").or_insert(json!({}));
    s.entry("AutoVerifiedAttributes").or_insert(json!([]));
    let mut acu = s
        .get("AdminCreateUserConfig")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    acu.entry("AllowAdminCreateUserOnly").or_insert(json!(false));
    acu.entry("UnusedAccountValidityDays").or_insert(json!(7));
    s.insert("AdminCreateUserConfig".into(), Value::Object(acu));
    if let Some(Value::Object(dc)) = s.get_mut("DeviceConfiguration") {
        for member in ["ChallengeRequiredOnNewDevice", "DeviceOnlyRememberedOnUserPrompt"] {
            dc.entry(member).or_insert(json!(false));
        }
    }
    if let Some(uc) = s.get("UsernameConfiguration")
        && uc.get("CaseSensitive").is_none_or(Value::is_null)
    {
        return Err(Error::missing("usernameConfiguration.caseSensitive"));
    }
    Ok(())
}

/// DescribeUserPool's UserPoolType.
pub fn describe(pool: &UserPool, estimated_users: u64, account: &str) -> Value {
    let mut out = Map::new();
    out.insert("Id".into(), json!(pool.id));
    out.insert("Name".into(), json!(pool.name));
    for (k, v) in &pool.settings {
        out.insert(k.clone(), v.clone());
    }
    out.insert("LastModifiedDate".into(), epoch(pool.modified_ms));
    out.insert("CreationDate".into(), epoch(pool.created_ms));
    out.insert("EstimatedNumberOfUsers".into(), json!(estimated_users));
    out.insert(
        "Arn".into(),
        json!(format!(
            "arn:aws:cognito-idp:{}:{account}:userpool/{}",
            pool.region(),
            pool.id
        )),
    );
    Value::Object(out)
}

impl Cognito {
    pub async fn create_user_pool(&self, req: Request) -> Result<Value> {
        let name = req.str("PoolName")?;
        check_pool_name(&name)?;
        // Members CreateUserPool does not define are ignored, as AWS's JSON protocol does.
        let mut settings: Map<String, Value> = req
            .0
            .iter()
            .filter(|(k, v)| {
                !v.is_null()
                    && (MUTABLE_SETTINGS.contains(&k.as_str())
                        || CREATE_ONLY_SETTINGS.contains(&k.as_str())
                        || k.as_str() == "Schema")
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let schema = build_schema(settings.remove("Schema").as_ref())?;
        settings.insert("SchemaAttributes".into(), Value::Array(schema));
        apply_defaults(&mut settings)?;
        let now = self.now_ms();
        let id = format!("{}_{}", self.settings.region, self.random_string(ALNUM, 9));
        let pool = UserPool {
            id,
            name,
            created_ms: now,
            modified_ms: now,
            settings,
        };
        self.store.insert_pool(&pool).await?;
        // Keys are made now so the first sign-in does not pay for RSA key generation.
        self.pool_keys(&pool.id).await?;
        Ok(json!({ "UserPool": describe(&pool, 0, &self.settings.account) }))
    }

    pub async fn describe_user_pool(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let users = self.store.count_users(&pool.id).await?;
        Ok(json!({ "UserPool": describe(&pool, users, &self.settings.account) }))
    }

    pub async fn update_user_pool(&self, req: Request) -> Result<Value> {
        let mut pool = self.pool(&req.pool_id()?).await?;
        let mut settings = Map::new();
        // Set by SetUserPoolMfaConfig, not by UpdateUserPool: an update keeps them.
        const KEPT: &[&str] = &[
            "SchemaAttributes",
            "SmsMfaConfiguration",
            "SoftwareTokenMfaConfiguration",
            "EmailMfaConfiguration",
        ];
        for key in CREATE_ONLY_SETTINGS.iter().chain(KEPT.iter()) {
            if let Some(v) = pool.settings.get(*key) {
                settings.insert((*key).to_owned(), v.clone());
            }
        }
        for (k, v) in &req.0 {
            if v.is_null() {
                continue;
            }
            if MUTABLE_SETTINGS.contains(&k.as_str()) {
                settings.insert(k.clone(), v.clone());
            } else if k == "PoolName" {
                let name = req.str("PoolName")?;
                check_pool_name(&name)?;
                pool.name = name;
            } else if k != "UserPoolId" && !v.is_null() && CREATE_ONLY_SETTINGS.contains(&k.as_str()) {
                return Err(Error::invalid_parameter(format!("{k} cannot be updated.")));
            }
        }
        for key in KEPT_WHEN_OMITTED {
            if !settings.contains_key(*key)
                && let Some(v) = pool.setting(key)
            {
                settings.insert((*key).to_owned(), v.clone());
            }
        }
        // A PasswordPolicy or SignInPolicy the request leaves out stays as it was.
        if let Some(Value::Object(before)) = pool.setting("Policies") {
            let mut policies = settings
                .get("Policies")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            policies.retain(|_, v| !v.is_null());
            for (k, v) in before {
                policies.entry(k.clone()).or_insert_with(|| v.clone());
            }
            settings.insert("Policies".into(), Value::Object(policies));
        }
        apply_defaults(&mut settings)?;
        pool.settings = settings;
        pool.modified_ms = self.now_ms();
        self.store.update_pool(&pool).await?;
        Ok(json!({}))
    }

    pub async fn delete_user_pool(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        if pool.deletion_protected() {
            return Err(Error::invalid_parameter(
                "The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.",
            ));
        }
        self.store.delete_pool(&pool.id).await?;
        self.forget_keys(&pool.id);
        Ok(json!({}))
    }

    pub async fn list_user_pools(&self, req: Request) -> Result<Value> {
        let max = match req.opt_i64("MaxResults")? {
            None => return Err(Error::missing("maxResults")),
            Some(n) if !(1..=60).contains(&n) => {
                return Err(Error::constraint(
                    "maxResults",
                    &n.to_string(),
                    "Member must have value less than or equal to 60",
                ));
            }
            Some(n) => n as usize,
        };
        let after = req.page_token("NextToken")?;
        let page = self.store.list_pools(after.as_deref(), max).await?;
        let pools: Vec<Value> = page
            .items
            .iter()
            .map(|p| {
                json!({
                    "Id": p.id,
                    "Name": p.name,
                    "LambdaConfig": p.setting("LambdaConfig").cloned().unwrap_or(json!({})),
                    "LastModifiedDate": epoch(p.modified_ms),
                    "CreationDate": epoch(p.created_ms),
                })
            })
            .collect();
        let mut out = json!({ "UserPools": pools });
        if let Some(next) = page.next {
            out["NextToken"] = json!(crate::request::encode_page_token(&next));
        }
        Ok(out)
    }

    pub async fn add_custom_attributes(&self, req: Request) -> Result<Value> {
        let mut pool = self.pool(&req.pool_id()?).await?;
        let list = req.raw("CustomAttributes").and_then(Value::as_array).cloned();
        let Some(list) = list else {
            return Err(Error::missing("customAttributes"));
        };
        if list.is_empty() || list.len() > 25 {
            return Err(Error::invalid_parameter(
                "1 validation error detected: Value at 'customAttributes' failed to satisfy constraint: Member must have length between 1 and 25",
            ));
        }
        let mut schema = pool.schema();
        for item in &list {
            let def = item
                .as_object()
                .ok_or_else(|| Error::invalid_parameter("Invalid custom attribute."))?;
            let attr = custom_attribute(def)?;
            if schema.iter().any(|a| a["Name"] == attr["Name"]) {
                return Err(Error::invalid_parameter(format!(
                    "Existing attribute already has name {}.",
                    attr["Name"].as_str().unwrap_or_default()
                )));
            }
            schema.push(attr);
        }
        if schema
            .iter()
            .filter(|a| a["Name"].as_str().is_some_and(|n| n.contains("custom:")))
            .count()
            > 50
        {
            return Err(Error::invalid_parameter(
                "A user pool can have at most 50 custom attributes.",
            ));
        }
        pool.settings.insert("SchemaAttributes".into(), Value::Array(schema));
        pool.modified_ms = self.now_ms();
        self.store.update_pool(&pool).await?;
        Ok(json!({}))
    }

    fn pool_id_from_arn(arn: &str) -> Result<String> {
        arn.rsplit_once(":userpool/")
            .map(|(_, id)| id.to_owned())
            .ok_or_else(|| Error::invalid_parameter(format!("Invalid resource ARN {arn}")))
    }

    pub async fn tag_resource(&self, req: Request) -> Result<Value> {
        let mut pool = self.pool(&Self::pool_id_from_arn(&req.str("ResourceArn")?)?).await?;
        let tags = req.str_map("Tags")?.ok_or_else(|| Error::missing("tags"))?;
        let mut current = pool
            .setting("UserPoolTags")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for (k, v) in tags {
            current.insert(k, json!(v));
        }
        pool.settings.insert("UserPoolTags".into(), Value::Object(current));
        self.store.update_pool(&pool).await?;
        Ok(json!({}))
    }

    pub async fn untag_resource(&self, req: Request) -> Result<Value> {
        let mut pool = self.pool(&Self::pool_id_from_arn(&req.str("ResourceArn")?)?).await?;
        let keys = req.opt_str_list("TagKeys")?.ok_or_else(|| Error::missing("tagKeys"))?;
        let mut current = pool
            .setting("UserPoolTags")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        for k in keys {
            current.remove(&k);
        }
        pool.settings.insert("UserPoolTags".into(), Value::Object(current));
        self.store.update_pool(&pool).await?;
        Ok(json!({}))
    }

    pub async fn list_tags_for_resource(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&Self::pool_id_from_arn(&req.str("ResourceArn")?)?).await?;
        Ok(json!({ "Tags": pool.setting("UserPoolTags").cloned().unwrap_or(json!({})) }))
    }

    pub async fn get_user_pool_mfa_config(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let mut out = json!({ "MfaConfiguration": pool.setting("MfaConfiguration").cloned().unwrap_or(json!("OFF")) });
        for key in [
            "SmsMfaConfiguration",
            "SoftwareTokenMfaConfiguration",
            "EmailMfaConfiguration",
            "WebAuthnConfiguration",
        ] {
            if let Some(v) = pool.setting(key) {
                out[key] = v.clone();
            }
        }
        Ok(out)
    }

    pub async fn set_user_pool_mfa_config(&self, req: Request) -> Result<Value> {
        let mut pool = self.pool(&req.pool_id()?).await?;
        for key in [
            "SmsMfaConfiguration",
            "SoftwareTokenMfaConfiguration",
            "EmailMfaConfiguration",
            "WebAuthnConfiguration",
        ] {
            if let Some(v) = req.raw(key) {
                pool.settings.insert(key.into(), v.clone());
            }
        }
        // The MFA message templates are the pool's authentication messages.
        for (config, member, setting) in [
            (
                "SmsMfaConfiguration",
                "SmsAuthenticationMessage",
                "SmsAuthenticationMessage",
            ),
            ("EmailMfaConfiguration", "Message", "EmailAuthenticationMessage"),
            ("EmailMfaConfiguration", "Subject", "EmailAuthenticationSubject"),
        ] {
            if let Some(v) = req.raw(config).and_then(|c| c.get(member)).filter(|v| v.is_string()) {
                pool.settings.insert(setting.into(), v.clone());
            }
        }
        if let Some(m) = req.opt_str("MfaConfiguration")? {
            if !matches!(m.as_str(), "OFF" | "ON" | "OPTIONAL") {
                return Err(Error::constraint(
                    "mfaConfiguration",
                    &m,
                    "Member must satisfy enum value set: [OFF, ON, OPTIONAL]",
                ));
            }
            pool.settings.insert("MfaConfiguration".into(), json!(m));
        }
        pool.modified_ms = self.now_ms();
        self.store.update_pool(&pool).await?;
        self.get_user_pool_mfa_config(Request(Map::from_iter([("UserPoolId".to_owned(), json!(pool.id))])))
            .await
    }
}
