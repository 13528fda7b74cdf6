//! Logical ids and names, exactly as Serverless v3 derives them (spec §4).

/// Uppercase the first character, leave the rest unchanged (`myPool` → `MyPool`).
pub fn upper_first(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Delete every character outside `0-9A-Za-z`, then [`upper_first`]. Used for pools and triggers.
pub fn alnum_only(s: &str) -> String {
    let kept: String = s.chars().filter(char::is_ascii_alphanumeric).collect();
    upper_first(&kept)
}

/// `-` → `Dash`, `_` → `Underscore`, then [`upper_first`]. Used for function keys.
pub fn normalize_function_key(key: &str) -> String {
    upper_first(&key.replace('-', "Dash").replace('_', "Underscore"))
}

/// `CognitoUserPool` + alnum(pool): the logical id of a generated user pool.
pub fn pool_logical_id(pool: &str) -> String {
    format!("CognitoUserPool{}", alnum_only(pool))
}

/// `<Fn>LambdaFunction`.
pub fn function_logical_id(key: &str) -> String {
    format!("{}LambdaFunction", normalize_function_key(key))
}

/// `<Fn>LogGroup`.
pub fn log_group_logical_id(key: &str) -> String {
    format!("{}LogGroup", normalize_function_key(key))
}

/// `<Fn>LambdaPermissionCognitoUserPool<Pool>TriggerSource<Trigger>`.
pub fn permission_logical_id(key: &str, pool: &str, trigger: &str) -> String {
    format!(
        "{}LambdaPermission{}TriggerSource{}",
        normalize_function_key(key),
        pool_logical_id(pool),
        alnum_only(trigger)
    )
}

/// `<Fn>CustomCognitoUserPool1` (the `1` is a fixed suffix).
pub fn custom_resource_logical_id(key: &str) -> String {
    format!("{}CustomCognitoUserPool1", normalize_function_key(key))
}

/// Logical id of the custom-resource handler Lambda for existing pools.
pub const CUSTOM_RESOURCE_FUNCTION: &str = "CustomDashresourceDashexistingDashcupLambdaFunction";
/// Logical id of its log group (only with `provider.logs.frameworkLambda: true`).
pub const CUSTOM_RESOURCE_LOG_GROUP: &str = "CustomDashresourceDashexistingDashcupLogGroup";
/// Logical id of the custom-resource IAM role.
pub const CUSTOM_RESOURCE_ROLE: &str = "IamRoleCustomResourcesLambdaExecution";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        assert_eq!(pool_logical_id("MyUserPool"), "CognitoUserPoolMyUserPool");
        assert_eq!(pool_logical_id("my-user_pool-2"), "CognitoUserPoolMyuserpool2");
        assert_eq!(
            pool_logical_id("lower pool.name@x+y=z,w"),
            "CognitoUserPoolLowerpoolnamexyzw"
        );
        assert_eq!(pool_logical_id("123pool"), "CognitoUserPool123pool");
        assert_eq!(pool_logical_id("ALLCAPS_POOL"), "CognitoUserPoolALLCAPSPOOL");
        assert_eq!(pool_logical_id("my/pool:1"), "CognitoUserPoolMypool1");
        assert_eq!(
            permission_logical_id("pre-sign_up", "my-user_pool-2", "PreSignUp"),
            "PreDashsignUnderscoreupLambdaPermissionCognitoUserPoolMyuserpool2TriggerSourcePreSignUp"
        );
        assert_eq!(
            function_logical_id("Upper_Case-Fn"),
            "UpperUnderscoreCaseDashFnLambdaFunction"
        );
        assert_eq!(alnum_only("presignup"), "Presignup");
        assert_eq!(
            normalize_function_key("custom-resource-existing-cup") + "LambdaFunction",
            CUSTOM_RESOURCE_FUNCTION
        );
    }
}
