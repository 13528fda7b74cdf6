//! PreSignUp and PostConfirmation: the events SignUp sends and what their answers do.
use crate::{attribute, err_text};
use cognate_core::testkit::{Kit, PASSWORD, service};
use serde_json::{Value, json};

const PRE_SIGN_UP: &str = "arn:aws:lambda:us-east-1:123456789012:function:pre-sign-up";
const POST_CONFIRMATION: &str = "arn:aws:lambda:us-east-1:123456789012:function:post-confirmation";

/// A pool with both triggers, verifying emails; returns (pool, client).
async fn pool_with_triggers(kit: &Kit) -> (String, String) {
    let pool = kit
        .create_pool(json!({
            "AutoVerifiedAttributes": ["email"],
            "LambdaConfig": {"PreSignUp": PRE_SIGN_UP, "PostConfirmation": POST_CONFIRMATION},
        }))
        .await;
    let client = kit.create_client(&pool, json!({})).await;
    (pool, client)
}

fn sign_up(client: &str, username: &str) -> Value {
    json!({
        "ClientId": client, "Username": username, "Password": PASSWORD,
        "UserAttributes": [{"Name": "email", "Value": format!("{username}@example.com")}],
    })
}

async fn user(kit: &Kit, pool: &str, username: &str) -> Value {
    kit.ok("AdminGetUser", json!({"UserPoolId": pool, "Username": username}))
        .await
}

#[tokio::test]
async fn the_pre_sign_up_event_carries_what_sign_up_submitted() {
    let kit = service();
    let (pool, client) = pool_with_triggers(&kit).await;
    let mut body = sign_up(&client, "ann");
    body["ValidationData"] = json!([{"Name": "captcha", "Value": "xyz"}]);
    body["ClientMetadata"] = json!({"plan": "free"});
    kit.ok("SignUp", body).await;

    let events = kit.triggers.events_of("PreSignUp_SignUp");
    assert_eq!(events.len(), 1);
    let ev = &events[0];
    assert_eq!(ev["version"], "1");
    assert_eq!(ev["userPoolId"], pool.as_str());
    assert_eq!(ev["userName"], "ann");
    assert_eq!(ev["callerContext"]["clientId"], client.as_str());
    assert_eq!(
        ev["request"]["userAttributes"],
        json!({"email": "ann@example.com"}),
        "only the submitted attributes: no sub, no cognito:user_status"
    );
    assert_eq!(ev["request"]["validationData"], json!({"captcha": "xyz"}));
    assert_eq!(ev["request"]["clientMetadata"], json!({"plan": "free"}));
    assert_eq!(
        ev["response"],
        json!({"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false})
    );
}

#[tokio::test]
async fn without_validation_data_the_key_is_null_and_client_metadata_is_absent() {
    let kit = service();
    let (_, client) = pool_with_triggers(&kit).await;
    kit.ok("SignUp", sign_up(&client, "bo")).await;
    let ev = &kit.triggers.events_of("PreSignUp_SignUp")[0];
    let request = ev["request"].as_object().unwrap();
    assert!(
        request.contains_key("validationData") && request["validationData"].is_null(),
        "{ev}"
    );
    assert!(!request.contains_key("clientMetadata"), "{ev}");
}

#[tokio::test]
async fn auto_confirm_and_auto_verify_confirm_without_a_code() {
    let kit = service();
    let (pool, client) = pool_with_triggers(&kit).await;
    kit.triggers
        .respond(PRE_SIGN_UP, json!({"autoConfirmUser": true, "autoVerifyEmail": true}));
    let out = kit.ok("SignUp", sign_up(&client, "ann")).await;
    assert_eq!(out["UserConfirmed"], true);
    assert!(out.get("CodeDeliveryDetails").is_none(), "{out}");
    assert!(kit.messages.messages().is_empty(), "no code is sent");
    let u = user(&kit, &pool, "ann").await;
    assert_eq!(u["UserStatus"], "CONFIRMED");
    assert_eq!(
        attribute(&u["UserAttributes"], "email_verified").as_deref(),
        Some("true")
    );
    // Auto-confirmation runs PostConfirmation, after PreSignUp.
    let sources: Vec<Value> = kit
        .triggers
        .events()
        .into_iter()
        .map(|(_, e)| e["triggerSource"].clone())
        .collect();
    assert_eq!(
        sources,
        [json!("PreSignUp_SignUp"), json!("PostConfirmation_ConfirmSignUp")]
    );
    kit.sign_in(&client, "ann", PASSWORD)
        .await
        .expect("signs in straight away");
}

#[tokio::test]
async fn auto_verify_alone_does_not_confirm() {
    let kit = service();
    let (pool, client) = pool_with_triggers(&kit).await;
    kit.triggers.respond(PRE_SIGN_UP, json!({"autoVerifyEmail": true}));
    let out = kit.ok("SignUp", sign_up(&client, "vic")).await;
    assert_eq!(out["UserConfirmed"], false);
    let u = user(&kit, &pool, "vic").await;
    assert_eq!(u["UserStatus"], "UNCONFIRMED");
    assert_eq!(
        attribute(&u["UserAttributes"], "email_verified").as_deref(),
        Some("true")
    );
}

#[tokio::test]
async fn a_failing_pre_sign_up_creates_no_user() {
    let kit = service();
    let (pool, client) = pool_with_triggers(&kit).await;
    kit.triggers.fail(PRE_SIGN_UP, "no sign-ups today");
    let r = kit.call("SignUp", sign_up(&client, "eve")).await;
    assert_eq!(
        err_text(r),
        "UserLambdaValidationException: PreSignUp failed with error no sign-ups today."
    );
    let r = kit
        .call("AdminGetUser", json!({"UserPoolId": pool, "Username": "eve"}))
        .await;
    assert!(err_text(r).starts_with("UserNotFoundException"), "no half-created user");
    assert!(kit.messages.messages().is_empty(), "no code was sent");
    // The name is free once the trigger lets sign-ups through.
    kit.triggers.respond(PRE_SIGN_UP, json!({}));
    kit.ok("SignUp", sign_up(&client, "eve")).await;
}

#[tokio::test]
async fn the_post_confirmation_event_sees_the_confirmed_user() {
    let kit = service();
    let (pool, client) = pool_with_triggers(&kit).await;
    kit.ok("SignUp", sign_up(&client, "cy")).await;
    let code = kit.messages.last_code_to("cy@example.com").expect("code");
    kit.ok(
        "ConfirmSignUp",
        json!({"ClientId": client, "Username": "cy", "ConfirmationCode": code, "ClientMetadata": {"k": "v"}}),
    )
    .await;
    let events = kit.triggers.events_of("PostConfirmation_ConfirmSignUp");
    assert_eq!(events.len(), 1);
    let ua = &events[0]["request"]["userAttributes"];
    let sub = attribute(&user(&kit, &pool, "cy").await["UserAttributes"], "sub");
    assert_eq!(ua["sub"].as_str(), sub.as_deref());
    assert_eq!(ua["cognito:user_status"], "CONFIRMED");
    assert_eq!(ua["email_verified"], "true");
    assert_eq!(events[0]["request"]["clientMetadata"], json!({"k": "v"}));
}
