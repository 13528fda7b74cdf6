//! The settings of choice-based sign-in (USER_AUTH): `Policies.SignInPolicy`, the pool's
//! feature plan (`UserPoolTier`) and what each plan allows, and `WebAuthnConfiguration`.
use crate::error::{Error, ErrorKind, Result};
use crate::model::UserPool;
use serde_json::{Map, Value, json};

/// AuthFactorType, in the API model's order.
const AUTH_FACTORS: &[&str] = &["PASSWORD", "EMAIL_OTP", "SMS_OTP", "WEB_AUTHN", "SOFTWARE_TOKEN"];

const FACTORS_MEMBER: &str = "policies.signInPolicy.allowedFirstAuthFactors";

/// The first factors the pool allows (its SignInPolicy; PASSWORD when it has none).
pub(crate) fn allowed_first_factors(pool: &UserPool) -> Vec<String> {
    pool.setting("Policies")
        .and_then(|p| p.get("SignInPolicy"))
        .and_then(|p| p.get("AllowedFirstAuthFactors"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_else(|| vec!["PASSWORD".to_owned()])
}

/// A SignInPolicy as given: 1 to 5 AuthFactorType values, never SOFTWARE_TOKEN, and PASSWORD
/// always among them (the console: "The Password option is always available").
pub(super) fn check_sign_in_policy(policy: &Value) -> Result<()> {
    let Some(list) = policy.get("AllowedFirstAuthFactors").filter(|v| !v.is_null()) else {
        return Ok(());
    };
    let Some(list) = list.as_array() else {
        return Err(Error::invalid_parameter(format!(
            "Invalid value for {FACTORS_MEMBER}: expected a list"
        )));
    };
    let names: Vec<&str> = list.iter().map(|v| v.as_str().unwrap_or_default()).collect();
    let shown = format!("[{}]", names.join(", "));
    if names.is_empty() {
        return Err(Error::constraint(
            FACTORS_MEMBER,
            &shown,
            "Member must have length greater than or equal to 1",
        ));
    }
    if names.len() > 5 {
        return Err(Error::constraint(
            FACTORS_MEMBER,
            &shown,
            "Member must have length less than or equal to 5",
        ));
    }
    if names.iter().any(|n| !AUTH_FACTORS.contains(n)) {
        return Err(Error::constraint(
            FACTORS_MEMBER,
            &shown,
            &format!(
                "Member must satisfy constraint: [Member must satisfy enum value set: [{}]]",
                AUTH_FACTORS.join(", ")
            ),
        ));
    }
    if names.contains(&"SOFTWARE_TOKEN") {
        return Err(Error::invalid_parameter(
            "SOFTWARE_TOKEN is not supported as a first auth factor.",
        ));
    }
    if !names.contains(&"PASSWORD") {
        return Err(Error::invalid_parameter(
            "AllowedFirstAuthFactors must include PASSWORD.",
        ));
    }
    Ok(())
}

/// The features `settings` use that the pool's plan does not include.
fn features_above_plan(tier: &str, settings: &Map<String, Value>) -> Vec<&'static str> {
    let mut out = Vec::new();
    if tier != "LITE" {
        return out;
    }
    let passwordless = settings
        .get("Policies")
        .and_then(|p| p.get("SignInPolicy"))
        .and_then(|p| p.get("AllowedFirstAuthFactors"))
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|f| f.as_str() != Some("PASSWORD")));
    if passwordless {
        out.push("Passwordless Sign-In");
    }
    if settings.get("EmailMfaConfiguration").is_some_and(|v| !v.is_null()) {
        out.push("Email MFA");
    }
    out
}

/// UserPoolTier (LITE, ESSENTIALS or PLUS), and no feature above it:
/// FeatureUnavailableInTierException otherwise, with Cognito's message.
pub(crate) fn check_tier(settings: &Map<String, Value>) -> Result<()> {
    let tier = settings
        .get("UserPoolTier")
        .and_then(Value::as_str)
        .unwrap_or("ESSENTIALS");
    if !matches!(tier, "LITE" | "ESSENTIALS" | "PLUS") {
        return Err(Error::constraint(
            "userPoolTier",
            tier,
            "Member must satisfy enum value set: [LITE, ESSENTIALS, PLUS]",
        ));
    }
    let features = features_above_plan(tier, settings);
    if features.is_empty() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::FeatureUnavailableInTierException,
        format!(
            "The following features need to be disabled for the {tier} pricing tier configured: {}",
            features.join(", ")
        ),
    ))
}

/// A WebAuthnConfigurationType as given, checked; UserVerification defaults to `preferred`.
pub(crate) fn checked_web_authn(config: &Value) -> Result<Value> {
    let Some(m) = config.as_object() else {
        return Err(Error::invalid_parameter("Invalid value for WebAuthnConfiguration"));
    };
    let mut out = m.clone();
    out.retain(|_, v| !v.is_null());
    let text = |k: &str| {
        out.get(k)
            .map(|v| v.as_str().map(str::to_owned).unwrap_or_else(|| v.to_string()))
    };
    if let Some(rp) = text("RelyingPartyId") {
        let n = rp.chars().count();
        if n == 0 || n > 127 {
            let c = if n == 0 {
                "Member must have length greater than or equal to 1"
            } else {
                "Member must have length less than or equal to 127"
            };
            return Err(Error::constraint("webAuthnConfiguration.relyingPartyId", &rp, c));
        }
    }
    for (key, member, allowed) in [
        ("UserVerification", "userVerification", &["required", "preferred"][..]),
        (
            "FactorConfiguration",
            "factorConfiguration",
            &["SINGLE_FACTOR", "MULTI_FACTOR_WITH_USER_VERIFICATION"][..],
        ),
    ] {
        if let Some(v) = text(key)
            && !allowed.contains(&v.as_str())
        {
            return Err(Error::constraint(
                &format!("webAuthnConfiguration.{member}"),
                &v,
                &format!("Member must satisfy enum value set: [{}]", allowed.join(", ")),
            ));
        }
    }
    out.entry("UserVerification").or_insert(json!("preferred"));
    Ok(Value::Object(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_is_required_and_software_token_refused() {
        assert!(check_sign_in_policy(&json!({"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP"]})).is_ok());
        let e = check_sign_in_policy(&json!({"AllowedFirstAuthFactors": ["EMAIL_OTP"]})).unwrap_err();
        assert!(e.message.contains("PASSWORD"));
        let e = check_sign_in_policy(&json!({"AllowedFirstAuthFactors": ["PASSWORD", "SOFTWARE_TOKEN"]})).unwrap_err();
        assert!(e.message.contains("SOFTWARE_TOKEN"));
        let e = check_sign_in_policy(&json!({"AllowedFirstAuthFactors": ["PASSWORD", "MAGIC"]})).unwrap_err();
        assert!(e.message.contains("enum value set"), "{}", e.message);
    }

    #[test]
    fn lite_refuses_passwordless() {
        let s = json!({"UserPoolTier": "LITE", "Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "SMS_OTP"]}}});
        let e = check_tier(s.as_object().unwrap()).unwrap_err();
        assert_eq!(e.kind, ErrorKind::FeatureUnavailableInTierException);
        assert_eq!(
            e.message,
            "The following features need to be disabled for the LITE pricing tier configured: Passwordless Sign-In"
        );
    }
}
