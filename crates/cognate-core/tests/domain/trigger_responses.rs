//! How handlers' responses are read: a member of the wrong type mostly reads as unset, and the
//! few misfits Cognito refuses are refused with their own messages.
use crate::trigger_events::{ARN, alice_attributes, pool_with};
use crate::{attribute, claims, err_text};
use cognate_core::testkit::{Kit, PASSWORD, service};
use serde_json::{Value, json};

/// Answers every event by setting its `response` to `response`.
fn answer(kit: &Kit, response: Value) {
    kit.triggers.on(ARN, move |ev| {
        let mut out = ev.clone();
        out["response"] = response.clone();
        Ok(out)
    });
}

async fn custom_auth(kit: &Kit, client: &str) -> Result<Value, cognate_core::Error> {
    kit.call(
        "InitiateAuth",
        json!({"AuthFlow": "CUSTOM_AUTH", "ClientId": client, "AuthParameters": {"USERNAME": "alice"}}),
    )
    .await
}

#[tokio::test]
async fn a_response_that_is_no_object_is_unrecognizable() {
    let kit = service();
    let (_, client) = pool_with(&kit, &["PreAuthentication"], json!({})).await;
    answer(&kit, json!(5));
    assert_eq!(
        err_text(kit.sign_in(&client, "alice", PASSWORD).await),
        "InvalidLambdaResponseException: Unrecognizable lambda output"
    );
    answer(&kit, Value::Null);
    kit.sign_in(&client, "alice", PASSWORD)
        .await
        .expect("a null response is the default one");
}

#[tokio::test]
async fn pre_sign_up_flags_other_than_true_are_false() {
    let kit = service();
    let (_, client) = pool_with(&kit, &["PreSignUp"], json!({})).await;
    answer(
        &kit,
        json!({"autoConfirmUser": "true", "autoVerifyEmail": 1, "autoVerifyPhone": null}),
    );
    let out = kit
        .ok(
            "SignUp",
            json!({"ClientId": client, "Username": "ann", "Password": PASSWORD,
                   "UserAttributes": [{"Name": "email", "Value": "ann@example.com"}]}),
        )
        .await;
    assert_eq!(out["UserConfirmed"], false);
}

#[tokio::test]
async fn define_auth_challenge_reads_only_booleans_and_strings() {
    let kit = service();
    let triggers = [
        "DefineAuthChallenge",
        "CreateAuthChallenge",
        "VerifyAuthChallengeResponse",
    ];
    let (_, client) = pool_with(&kit, &triggers, json!({})).await;
    answer(
        &kit,
        json!({"issueTokens": "true", "failAuthentication": 1, "challengeName": 7}),
    );
    assert_eq!(
        err_text(custom_auth(&kit, &client).await),
        "InvalidLambdaResponseException: Invalid lambda function output : DefineAuthChallenge response is not valid"
    );
}

/// Define asks for a custom challenge until one was answered (then issues tokens); Create
/// answers `create`.
fn custom_flow(kit: &Kit, create: Value) {
    kit.triggers.on(ARN, move |ev| {
        let mut out = ev.clone();
        out["response"] = match ev["triggerSource"].as_str().unwrap() {
            "DefineAuthChallenge_Authentication" if ev["request"]["session"].as_array().unwrap().is_empty() => {
                json!({"challengeName": "CUSTOM_CHALLENGE"})
            }
            "DefineAuthChallenge_Authentication" => json!({"failAuthentication": true}),
            "CreateAuthChallenge_Authentication" => create.clone(),
            _ => json!({"answerCorrect": "true"}),
        };
        Ok(out)
    });
}

#[tokio::test]
async fn challenge_parameters_are_strings_and_must_be_objects() {
    let kit = service();
    let triggers = [
        "DefineAuthChallenge",
        "CreateAuthChallenge",
        "VerifyAuthChallengeResponse",
    ];
    let (_, client) = pool_with(&kit, &triggers, json!({})).await;
    custom_flow(
        &kit,
        json!({"publicChallengeParameters": {"n": 5, "yes": true, "none": null},
               "privateChallengeParameters": {"answer": 4}, "challengeMetadata": 9}),
    );
    let out = custom_auth(&kit, &client).await.unwrap();
    assert_eq!(
        out["ChallengeParameters"],
        json!({"USERNAME": "alice", "n": "5", "yes": "true", "none": "null"})
    );
    // An answerCorrect that is no boolean is a wrong answer.
    let _ = kit
        .call(
            "RespondToAuthChallenge",
            json!({"ClientId": client, "ChallengeName": "CUSTOM_CHALLENGE", "Session": out["Session"],
                   "ChallengeResponses": {"USERNAME": "alice", "ANSWER": "4"}}),
        )
        .await;
    let verify = &kit.triggers.events_of("VerifyAuthChallengeResponse_Authentication")[0];
    assert_eq!(verify["request"]["privateChallengeParameters"], json!({"answer": "4"}));
    let define = &kit.triggers.events_of("DefineAuthChallenge_Authentication")[1];
    assert_eq!(define["request"]["session"][0]["challengeResult"], false);

    custom_flow(&kit, json!({"publicChallengeParameters": "question"}));
    assert_eq!(
        err_text(custom_auth(&kit, &client).await),
        "InvalidLambdaResponseException: Invalid lambda function output : CreateAuthChallenge response is not valid"
    );
}

#[tokio::test]
async fn migrated_attributes_are_strings_and_must_be_a_map() {
    let kit = service();
    let (pool, client) = pool_with(&kit, &["UserMigration"], json!({})).await;
    answer(&kit, json!({"userAttributes": "legacy"}));
    assert_eq!(
        err_text(kit.sign_in(&client, "legacy", "Old-Passw0rd!").await),
        "InvalidLambdaResponseException: Invalid lambda function output : userAttributes must be a map"
    );
    answer(
        &kit,
        json!({"userAttributes": {"email": "legacy@example.com", "name": 5, "nickname": null},
               "finalUserStatus": "CONFIRMED", "forceAliasCreation": "yes", "messageAction": 1}),
    );
    kit.sign_in(&client, "legacy", "Old-Passw0rd!")
        .await
        .expect("migrated and signed in");
    let u = kit
        .ok("AdminGetUser", json!({"UserPoolId": pool, "Username": "legacy"}))
        .await;
    assert_eq!(u["UserStatus"], "CONFIRMED");
    assert_eq!(attribute(&u["UserAttributes"], "name").as_deref(), Some("5"));
    assert_eq!(attribute(&u["UserAttributes"], "nickname"), None);
}

#[tokio::test]
async fn custom_message_members_other_than_strings_are_ignored() {
    let kit = service();
    let (_, client) = pool_with(&kit, &["CustomMessage"], json!({})).await;
    answer(
        &kit,
        json!({"emailMessage": 5, "emailSubject": ["x"], "smsMessage": false}),
    );
    kit.ok("ForgotPassword", json!({"ClientId": client, "Username": "alice"}))
        .await;
    let code = kit.messages.last_code_to("alice@example.com");
    assert!(code.is_some(), "the default message went out");
}

async fn id_and_access(kit: &Kit, client: &str) -> (Value, Value) {
    let out = kit.sign_in(client, "alice", PASSWORD).await.unwrap();
    let result = &out["AuthenticationResult"];
    (
        claims(result["IdToken"].as_str().unwrap()),
        claims(result["AccessToken"].as_str().unwrap()),
    )
}

#[tokio::test]
async fn pre_token_generation_v1_edits() {
    let kit = service();
    let (pool, client) = pool_with(&kit, &["PreTokenGeneration"], json!({})).await;
    alice_attributes(&kit, &pool).await;
    kit.ok("CreateGroup", json!({"UserPoolId": pool, "GroupName": "admins"}))
        .await;
    kit.ok(
        "AdminAddUserToGroup",
        json!({"UserPoolId": pool, "Username": "alice", "GroupName": "admins"}),
    )
    .await;

    answer(
        &kit,
        json!({"claimsOverrideDetails": {"claimsToAddOrOverride": {"level": 3}}}),
    );
    assert_eq!(
        err_text(kit.sign_in(&client, "alice", PASSWORD).await),
        "InvalidLambdaResponseException: Invalid lambda function output : claimsToAddOrOverride values must be strings"
    );

    answer(
        &kit,
        json!({"claimsOverrideDetails": {"claimsToAddOrOverride": {"tier": "gold"}, "claimsToSuppress": ["email", 5]}}),
    );
    let (id, _) = id_and_access(&kit, &client).await;
    assert_eq!(id["tier"], "gold");
    assert!(id.get("email").is_none(), "{id}");
    assert_eq!(
        id["cognito:groups"],
        json!(["admins"]),
        "groups kept when not overridden"
    );

    answer(&kit, json!({"claimsOverrideDetails": {"groupOverrideDetails": null}}));
    let (id, access) = id_and_access(&kit, &client).await;
    assert!(
        id.get("cognito:groups").is_none(),
        "a null override removes the groups: {id}"
    );
    assert!(access.get("cognito:groups").is_none(), "{access}");

    answer(
        &kit,
        json!({"claimsOverrideDetails": {"groupOverrideDetails": {"groupsToOverride": ["x", 1], "preferredRole": 2}}}),
    );
    let (id, _) = id_and_access(&kit, &client).await;
    assert_eq!(id["cognito:groups"], json!(["x"]));
    assert!(id.get("cognito:preferred_role").is_none(), "{id}");

    answer(&kit, json!({"claimsOverrideDetails": "none", "other": 1}));
    let (id, _) = id_and_access(&kit, &client).await;
    assert_eq!(id["cognito:groups"], json!(["admins"]));
}

#[tokio::test]
async fn pre_token_generation_v2_edits() {
    let kit = service();
    let config = json!({"PreTokenGenerationConfig": {"LambdaArn": ARN, "LambdaVersion": "V2_0"}});
    let (pool, client) = pool_with(&kit, &[], json!({})).await;
    kit.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "AutoVerifiedAttributes": ["email"], "LambdaConfig": config}),
    )
    .await;
    answer(
        &kit,
        json!({"claimsAndScopeOverrideDetails": {
            "idTokenGeneration": "none",
            "accessTokenGeneration": {"claimsToAddOrOverride": {"level": 3, "roles": ["a"]},
                                      "scopesToAdd": ["extra", 5], "scopesToSuppress": "all"},
        }}),
    );
    let (id, access) = id_and_access(&kit, &client).await;
    assert_eq!(access["level"], 3);
    assert_eq!(access["roles"], json!(["a"]));
    assert_eq!(access["scope"], "aws.cognito.signin.user.admin extra");
    assert_eq!(id["email"], "alice@example.com");

    answer(
        &kit,
        json!({"claimsAndScopeOverrideDetails": {"accessTokenGeneration": {"scopesToAdd": ["two words"]}}}),
    );
    assert_eq!(
        err_text(kit.sign_in(&client, "alice", PASSWORD).await),
        "InvalidLambdaResponseException: Invalid lambda function output : scopes may not contain whitespace"
    );
}
