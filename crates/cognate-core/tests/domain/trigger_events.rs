//! The events the sign-in, migration, custom auth, message and token triggers receive, member
//! for member: what is present, absent or `null`, and the `response` a handler starts from.
use cognate_core::testkit::{Kit, PASSWORD, service};
use serde_json::{Value, json};

pub const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:trigger";

/// A pool whose `LambdaConfig` sends `triggers` to [`ARN`], with a client allowing
/// CUSTOM_AUTH too and the confirmed user `alice`; returns (pool, client).
pub async fn pool_with(kit: &Kit, triggers: &[&str], extra: Value) -> (String, String) {
    let mut body = json!({"AutoVerifiedAttributes": ["email"]});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let pool = kit.create_pool(body).await;
    let client = kit
        .create_client(
            &pool,
            json!({"ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_CUSTOM_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
        )
        .await;
    let email = [("email", "alice@example.com"), ("email_verified", "true")];
    kit.create_user(&pool, "alice", PASSWORD, &email).await;
    let config: serde_json::Map<String, Value> = triggers.iter().map(|t| (t.to_string(), json!(ARN))).collect();
    kit.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "AutoVerifiedAttributes": ["email"], "LambdaConfig": config}),
    )
    .await;
    (pool, client)
}

/// alice's attributes as every trigger but PreSignUp sees them.
pub async fn alice_attributes(kit: &Kit, pool: &str) -> Value {
    let u = kit
        .ok("AdminGetUser", json!({"UserPoolId": pool, "Username": "alice"}))
        .await;
    let sub = crate::attribute(&u["UserAttributes"], "sub").expect("sub");
    json!({
        "sub": sub, "email": "alice@example.com", "email_verified": "true",
        "cognito:user_status": "CONFIRMED",
    })
}

/// The one event sent with `source`.
pub fn only_event(kit: &Kit, source: &str) -> Value {
    let events = kit.triggers.events_of(source);
    assert_eq!(events.len(), 1, "{source}: {events:?}");
    events.into_iter().next().unwrap()
}

/// Asserts the envelope of `ev`, then returns its (request, response).
fn parts(ev: &Value, pool: &str, source: &str, user_name: &str, client: &str) -> (Value, Value) {
    let region = pool.split('_').next().unwrap();
    let mut keys: Vec<&str> = ev.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort();
    let mut expected = vec![
        "callerContext",
        "region",
        "request",
        "triggerSource",
        "userName",
        "userPoolId",
        "version",
    ];
    if ev.get("response").is_some() {
        expected.push("response");
        expected.sort();
    }
    assert_eq!(keys, expected, "{ev}");
    assert_eq!(ev["version"], "1");
    assert_eq!(ev["triggerSource"], source);
    assert_eq!(ev["region"], region);
    assert_eq!(ev["userPoolId"], pool);
    assert_eq!(ev["userName"], user_name);
    assert_eq!(
        ev["callerContext"],
        json!({"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": client})
    );
    (ev["request"].clone(), ev["response"].clone())
}

#[tokio::test]
async fn pre_and_post_authentication() {
    let kit = service();
    let (pool, client) = pool_with(&kit, &["PreAuthentication", "PostAuthentication"], json!({})).await;
    let attrs = alice_attributes(&kit, &pool).await;
    kit.ok(
        "InitiateAuth",
        json!({
            "AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client,
            "AuthParameters": {"USERNAME": "alice", "PASSWORD": PASSWORD},
            "ClientMetadata": {"captcha": "ok"},
        }),
    )
    .await;
    let ev = only_event(&kit, "PreAuthentication_Authentication");
    let (request, response) = parts(&ev, &pool, "PreAuthentication_Authentication", "alice", &client);
    assert_eq!(
        request,
        json!({"userAttributes": attrs, "validationData": {"captcha": "ok"}, "userNotFound": false})
    );
    assert_eq!(response, json!({}));
    // Ended within InitiateAuth: no clientMetadata.
    let ev = only_event(&kit, "PostAuthentication_Authentication");
    let (request, response) = parts(&ev, &pool, "PostAuthentication_Authentication", "alice", &client);
    assert_eq!(request, json!({"userAttributes": attrs, "newDeviceUsed": false}));
    assert_eq!(response, json!({}));

    kit.sign_in(&client, "alice", PASSWORD).await.unwrap();
    let ev = &kit.triggers.events_of("PreAuthentication_Authentication")[1];
    assert_eq!(ev["request"]["validationData"], Value::Null, "{ev}");
}

#[tokio::test]
async fn user_migration_on_sign_in_and_forgot_password() {
    let kit = service();
    let (pool, client) = pool_with(&kit, &["UserMigration"], json!({})).await;
    let nulls = json!({
        "userAttributes": null, "finalUserStatus": null, "messageAction": null,
        "desiredDeliveryMediums": null, "forceAliasCreation": null, "enableSMSMFA": null,
    });
    let _ = kit.sign_in(&client, "legacy", "Old-Passw0rd!").await;
    let ev = only_event(&kit, "UserMigration_Authentication");
    let (request, response) = parts(&ev, &pool, "UserMigration_Authentication", "legacy", &client);
    assert_eq!(request, json!({"password": "Old-Passw0rd!", "validationData": null}));
    assert_eq!(response, nulls);

    let _ = kit
        .call(
            "ForgotPassword",
            json!({"ClientId": client, "Username": "legacy", "ClientMetadata": {"origin": "reset"}}),
        )
        .await;
    let ev = only_event(&kit, "UserMigration_ForgotPassword");
    let (request, response) = parts(&ev, &pool, "UserMigration_ForgotPassword", "legacy", &client);
    assert_eq!(
        request,
        json!({"clientMetadata": {"origin": "reset"}}),
        "no validationData"
    );
    assert_eq!(response, nulls);

    let _ = kit
        .call("ForgotPassword", json!({"ClientId": client, "Username": "other"}))
        .await;
    let ev = &kit.triggers.events_of("UserMigration_ForgotPassword")[1];
    assert_eq!(ev["request"], json!({}), "neither validationData nor clientMetadata");
}

#[tokio::test]
async fn custom_auth_challenge_events() {
    let kit = service();
    let triggers = [
        "DefineAuthChallenge",
        "CreateAuthChallenge",
        "VerifyAuthChallengeResponse",
    ];
    let (pool, client) = pool_with(&kit, &triggers, json!({})).await;
    let attrs = alice_attributes(&kit, &pool).await;
    kit.triggers.on(ARN, |ev| {
        let mut out = ev.clone();
        match ev["triggerSource"].as_str().unwrap() {
            "DefineAuthChallenge_Authentication" => {
                let passed = ev["request"]["session"]
                    .as_array()
                    .and_then(|s| s.last())
                    .is_some_and(|c| c["challengeResult"] == true);
                out["response"] = if passed {
                    json!({"issueTokens": true, "failAuthentication": false})
                } else {
                    json!({"challengeName": "CUSTOM_CHALLENGE", "issueTokens": false, "failAuthentication": false})
                };
            }
            "CreateAuthChallenge_Authentication" => {
                out["response"] = json!({
                    "publicChallengeParameters": {"question": "2+2"},
                    "privateChallengeParameters": {"answer": "4"},
                    "challengeMetadata": "ARITHMETIC",
                });
            }
            _ => {
                let right = ev["request"]["challengeAnswer"] == ev["request"]["privateChallengeParameters"]["answer"];
                out["response"] = json!({"answerCorrect": right});
            }
        }
        Ok(out)
    });
    let out = kit
        .ok(
            "InitiateAuth",
            json!({"AuthFlow": "CUSTOM_AUTH", "ClientId": client, "AuthParameters": {"USERNAME": "alice"}}),
        )
        .await;
    assert_eq!(
        out["ChallengeParameters"],
        json!({"USERNAME": "alice", "question": "2+2"})
    );
    let out = kit
        .ok(
            "RespondToAuthChallenge",
            json!({
                "ClientId": client, "ChallengeName": "CUSTOM_CHALLENGE", "Session": out["Session"],
                "ChallengeResponses": {"USERNAME": "alice", "ANSWER": "4"},
                "ClientMetadata": {"step": "2"},
            }),
        )
        .await;
    assert!(out["AuthenticationResult"]["IdToken"].is_string(), "{out}");

    let defines = kit.triggers.events_of("DefineAuthChallenge_Authentication");
    assert_eq!(defines.len(), 2);
    let source = "DefineAuthChallenge_Authentication";
    let (request, response) = parts(&defines[0], &pool, source, "alice", &client);
    assert_eq!(
        request,
        json!({"userAttributes": attrs, "session": [], "userNotFound": false})
    );
    assert_eq!(
        response,
        json!({"challengeName": null, "issueTokens": null, "failAuthentication": null})
    );
    let (request, _) = parts(&defines[1], &pool, source, "alice", &client);
    assert_eq!(
        request,
        json!({
            "userAttributes": attrs,
            "session": [{"challengeName": "CUSTOM_CHALLENGE", "challengeResult": true, "challengeMetadata": "ARITHMETIC"}],
            "clientMetadata": {"step": "2"},
            "userNotFound": false,
        })
    );

    let source = "CreateAuthChallenge_Authentication";
    let (request, response) = parts(&only_event(&kit, source), &pool, source, "alice", &client);
    assert_eq!(
        request,
        json!({"userAttributes": attrs, "challengeName": "CUSTOM_CHALLENGE", "session": [], "userNotFound": false})
    );
    assert_eq!(
        response,
        json!({"publicChallengeParameters": null, "privateChallengeParameters": null, "challengeMetadata": null})
    );

    let source = "VerifyAuthChallengeResponse_Authentication";
    let (request, response) = parts(&only_event(&kit, source), &pool, source, "alice", &client);
    assert_eq!(
        request,
        json!({
            "userAttributes": attrs, "privateChallengeParameters": {"answer": "4"},
            "challengeAnswer": "4", "clientMetadata": {"step": "2"}, "userNotFound": false,
        })
    );
    assert_eq!(response, json!({"answerCorrect": null}));
}

#[tokio::test]
async fn custom_message_events() {
    let kit = service();
    let (pool, client) = pool_with(&kit, &["CustomMessage"], json!({})).await;
    let attrs = alice_attributes(&kit, &pool).await;
    kit.ok(
        "ForgotPassword",
        json!({"ClientId": client, "Username": "alice", "ClientMetadata": {"page": "reset"}}),
    )
    .await;
    let source = "CustomMessage_ForgotPassword";
    let (request, response) = parts(&only_event(&kit, source), &pool, source, "alice", &client);
    assert_eq!(
        request,
        json!({
            "userAttributes": attrs, "codeParameter": "{####}", "linkParameter": "{##Click Here##}",
            "usernameParameter": null, "clientMetadata": {"page": "reset"},
        })
    );
    assert_eq!(
        response,
        json!({"smsMessage": null, "emailMessage": null, "emailSubject": null})
    );

    kit.ok(
        "AdminCreateUser",
        json!({"UserPoolId": pool, "Username": "bob", "DesiredDeliveryMediums": ["EMAIL"],
               "UserAttributes": [{"Name": "email", "Value": "bob@example.com"}]}),
    )
    .await;
    let source = "CustomMessage_AdminCreateUser";
    let (request, _) = parts(
        &only_event(&kit, source),
        &pool,
        source,
        "bob",
        "CLIENT_ID_NOT_APPLICABLE",
    );
    assert_eq!(request["usernameParameter"], "{username}");
    assert!(request.get("clientMetadata").is_none(), "{request}");
}

#[tokio::test]
async fn pre_token_generation_v1_and_v2_events() {
    let kit = service();
    let (pool, client) = pool_with(&kit, &["PreTokenGeneration"], json!({})).await;
    let attrs = alice_attributes(&kit, &pool).await;
    kit.ok(
        "CreateGroup",
        json!({"UserPoolId": pool, "GroupName": "admins", "Precedence": 1}),
    )
    .await;
    kit.ok(
        "AdminAddUserToGroup",
        json!({"UserPoolId": pool, "Username": "alice", "GroupName": "admins"}),
    )
    .await;
    kit.sign_in(&client, "alice", PASSWORD).await.unwrap();
    let source = "TokenGeneration_Authentication";
    let (request, response) = parts(&only_event(&kit, source), &pool, source, "alice", &client);
    let groups = json!({"groupsToOverride": ["admins"], "iamRolesToOverride": [], "preferredRole": null});
    assert_eq!(request, json!({"userAttributes": attrs, "groupConfiguration": groups}));
    assert_eq!(response, json!({"claimsOverrideDetails": null}));

    let config = json!({"PreTokenGenerationConfig": {"LambdaArn": ARN, "LambdaVersion": "V2_0"}});
    kit.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "AutoVerifiedAttributes": ["email"], "LambdaConfig": config}),
    )
    .await;
    kit.sign_in(&client, "alice", PASSWORD).await.unwrap();
    let ev = kit.triggers.events_of(source).pop().unwrap();
    assert_eq!(ev["version"], "2");
    assert_eq!(
        ev["request"],
        json!({"userAttributes": attrs, "groupConfiguration": groups, "scopes": ["aws.cognito.signin.user.admin"]})
    );
    assert_eq!(ev["response"], json!({"claimsAndScopeOverrideDetails": null}));
}
