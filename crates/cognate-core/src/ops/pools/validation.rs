//! The checks and defaults of a pool's settings, shared by CreateUserPool and UpdateUserPool.
//! They work on the settings map the pool stores (see `settings.rs` for the typed members).
use crate::error::{Error, Result};
use crate::ops::pools::sign_in_policy::{check_sign_in_policy, check_tier, checked_web_authn};
use serde_json::{Map, Value, json};

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

/// The API model's `ArnType`: 20 to 2048 characters matching
/// `arn:[\w+=/,.@-]+:[\w+=/,.@-]+:([\w+=/,.@-]*)?:[0-9]+:[\w+=/,.@-]+(:[\w+=/,.@-]+)?(:[\w+=/,.@-]+)?`.
const ARN_PATTERN: &str =
    "arn:[\\w+=/,.@-]+:[\\w+=/,.@-]+:([\\w+=/,.@-]*)?:[0-9]+:[\\w+=/,.@-]+(:[\\w+=/,.@-]+)?(:[\\w+=/,.@-]+)?";

/// Whether `s` matches [`ARN_PATTERN`] (as a whole). `:` is outside the character class, so
/// the parts are the `:`-separated fields: "arn", two non-empty, one possibly empty, an account
/// of digits, then one to three non-empty.
fn is_arn(s: &str) -> bool {
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
fn check_arn(member: &str, value: &str) -> Result<()> {
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
    if let Some(sp) = policies.get("SignInPolicy") {
        check_sign_in_policy(sp)?;
    }
    policies
        .entry("SignInPolicy")
        .or_insert(json!({"AllowedFirstAuthFactors": ["PASSWORD"]}));
    s.insert("Policies".into(), Value::Object(policies));
    Ok(())
}

/// Fills in the defaults Cognito reports for members that were not given. Inside a member that
/// was given, a boolean left out is false: the AWS SDKs for Go and Java leave false and zero
/// out of requests, so only a member missing as a whole takes Cognito's default.
pub(super) fn apply_defaults(s: &mut Map<String, Value>) -> Result<()> {
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
                super::mfa_config::MFA_ENUM,
            ));
        }
    }
    s.entry("DeletionProtection").or_insert(json!("INACTIVE"));
    s.entry("EmailConfiguration")
        .or_insert(json!({"EmailSendingAccount": "COGNITO_DEFAULT"}));
    s.entry("UserPoolTier").or_insert(json!("ESSENTIALS"));
    check_tier(s)?;
    if let Some(w) = s.get("WebAuthnConfiguration").filter(|v| !v.is_null()) {
        let w = checked_web_authn(w)?;
        s.insert("WebAuthnConfiguration".into(), w);
    }
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
