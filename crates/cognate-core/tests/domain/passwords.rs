//! Password policy: each rule has its own message, and the pool's policy is what applies.
use crate::err_text;
use cognate_core::testkit::{PASSWORD, service};
use serde_json::json;

fn policy_error(why: &str) -> String {
    format!("InvalidPasswordException: Password did not conform with policy: {why}")
}

#[tokio::test]
async fn the_default_policy_names_the_first_rule_broken() {
    let kit = service();
    let pool = kit.create_pool(json!({})).await;
    let client = kit.create_client(&pool, json!({})).await;
    for (password, why) in [
        ("Sh0rt!", "Password not long enough"),
        ("lowercase1!", "Password must have uppercase characters"),
        ("UPPERCASE1!", "Password must have lowercase characters"),
        ("NoDigits!!", "Password must have numeric characters"),
        ("NoSymbols11", "Password must have symbol characters"),
    ] {
        let r = kit
            .call(
                "SignUp",
                json!({"ClientId": client, "Username": "pat", "Password": password}),
            )
            .await;
        assert_eq!(err_text(r), policy_error(why), "password {password:?}");
    }
    kit.ok(
        "SignUp",
        json!({"ClientId": client, "Username": "pat", "Password": PASSWORD}),
    )
    .await;
}

#[tokio::test]
async fn a_pool_policy_is_enforced_by_admin_set_user_password() {
    let kit = service();
    let pool = kit
        .create_pool(json!({"Policies": {"PasswordPolicy": {
            "MinimumLength": 12, "RequireUppercase": false, "RequireLowercase": true,
            "RequireNumbers": false, "RequireSymbols": false,
        }}}))
        .await;
    kit.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "pat", "MessageAction": "SUPPRESS"}),
    )
    .await;
    let set = |password: &str| json!({"UserPoolId": pool, "Username": "pat", "Password": password, "Permanent": true});
    let r = kit.call("AdminSetUserPassword", set("abcdefghijk")).await;
    assert_eq!(err_text(r), policy_error("Password not long enough"));
    kit.ok("AdminSetUserPassword", set("abcdefghijkl")).await;
}

#[tokio::test]
async fn a_temporary_password_must_be_changed_at_first_sign_in() {
    let kit = service();
    let pool = kit.create_pool(json!({})).await;
    let client = kit.create_client(&pool, json!({})).await;
    kit.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "new", "TemporaryPassword": "Temp0rary!", "MessageAction": "SUPPRESS"}),
    )
    .await;
    let out = kit.sign_in(&client, "new", "Temp0rary!").await.expect("sign-in");
    assert_eq!(out["ChallengeName"], "NEW_PASSWORD_REQUIRED");
    let answer = |session: &serde_json::Value, password: &str| {
        json!({
            "ClientId": client, "ChallengeName": "NEW_PASSWORD_REQUIRED", "Session": session,
            "ChallengeResponses": {"USERNAME": "new", "NEW_PASSWORD": password},
        })
    };
    let r = kit
        .call("RespondToAuthChallenge", answer(&out["Session"], "weak"))
        .await;
    assert!(err_text(r).starts_with("InvalidPasswordException"));
    // Start again with a fresh session, whatever the refused answer did to the old one.
    let out = kit.sign_in(&client, "new", "Temp0rary!").await.expect("sign-in");
    let done = kit
        .ok("RespondToAuthChallenge", answer(&out["Session"], PASSWORD))
        .await;
    assert!(done["AuthenticationResult"]["AccessToken"].is_string(), "{done}");
    kit.sign_in(&client, "new", PASSWORD)
        .await
        .expect("the new password works");
}
