//! CUSTOM_AUTH that starts with SRP (Amplify's CUSTOM_WITH_SRP): SRP_A opens the session,
//! DefineAuthChallenge asks for PASSWORD_VERIFIER, the real SRP client answers it, and the
//! custom challenge follows.
use cognate::{FunctionDef, FunctionTarget, PoolDeclaration};
use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ChallengeNameType, ExplicitAuthFlowsType,
};
use cognate_sdk_tests::*;
use serde_json::{Map, Value, json};
use std::sync::{Arc, Mutex};

const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:";

/// Define: SRP first, then one custom question; records every session it is shown.
fn triggers(seen: Arc<Mutex<Vec<Value>>>) -> Vec<FunctionDef> {
    let define = FunctionTarget::in_process(move |mut ev: Value| {
        let seen = seen.clone();
        async move {
            let session = ev["request"]["session"].as_array().cloned().unwrap_or_default();
            seen.lock().unwrap().push(Value::Array(session.clone()));
            let last = session.last().cloned().unwrap_or(Value::Null);
            let r = &mut ev["response"];
            match (last["challengeName"].as_str(), last["challengeResult"].as_bool()) {
                (Some("SRP_A"), Some(true)) => r["challengeName"] = json!("PASSWORD_VERIFIER"),
                (Some("PASSWORD_VERIFIER"), Some(true)) => r["challengeName"] = json!("CUSTOM_CHALLENGE"),
                (Some("CUSTOM_CHALLENGE"), Some(true)) => r["issueTokens"] = json!(true),
                _ => r["failAuthentication"] = json!(true),
            }
            Ok(ev)
        }
    });
    let create = FunctionTarget::in_process(|mut ev: Value| async move {
        ev["response"]["publicChallengeParameters"] = json!({"question": "2+2"});
        ev["response"]["privateChallengeParameters"] = json!({"answer": "4"});
        Ok(ev)
    });
    let verify = FunctionTarget::in_process(|mut ev: Value| async move {
        let ok = ev["request"]["challengeAnswer"] == ev["request"]["privateChallengeParameters"]["answer"];
        ev["response"]["answerCorrect"] = json!(ok);
        Ok(ev)
    });
    vec![
        FunctionDef::new("srp-define", define),
        FunctionDef::new("srp-create", create),
        FunctionDef::new("srp-verify", verify),
    ]
}

async fn start() -> (Cognate, Arc<Mutex<Vec<Value>>>, TestPool) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut opts = base_options();
    opts.functions = triggers(seen.clone());
    let mut lambda_config = Map::new();
    lambda_config.insert("DefineAuthChallenge".into(), json!(format!("{ARN}srp-define")));
    lambda_config.insert("CreateAuthChallenge".into(), json!(format!("{ARN}srp-create")));
    lambda_config.insert("VerifyAuthChallengeResponse".into(), json!(format!("{ARN}srp-verify")));
    opts.pools = vec![PoolDeclaration {
        name: "custom-srp".into(),
        lambda_config,
        ..Default::default()
    }];
    let c = Cognate::start_with(opts, None).await;
    let pool_id = c.server().pool_id("custom-srp").unwrap().to_owned();
    let client = c
        .idp
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("amplify")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowCustomAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .unwrap();
    let client_id = client.user_pool_client().unwrap().client_id().unwrap().to_owned();
    let pool = TestPool { pool_id, client_id };
    c.admin_user(&pool, "cara", "cara@example.com").await;
    (c, seen, pool)
}

/// Runs CUSTOM_AUTH with SRP_A up to the custom challenge; returns its session.
async fn srp_then_custom(c: &Cognate, pool: &TestPool, password: &str) -> Result<String, AwsError> {
    let srp = aws_cognito_srp::SrpClient::new(
        aws_cognito_srp::User::new(&pool.pool_id, "cara", password),
        &pool.client_id,
        None,
    );
    let params = srp.get_auth_parameters();
    let out = c
        .idp
        .initiate_auth()
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::CustomAuth)
        .auth_parameters("USERNAME", "cara")
        .auth_parameters("CHALLENGE_NAME", "SRP_A")
        .auth_parameters("SRP_A", &params.a)
        .send()
        .await
        .expect("InitiateAuth CUSTOM_AUTH with SRP_A");
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::PasswordVerifier));
    let p = out.challenge_parameters().unwrap();
    let v = srp
        .verify(&p["SECRET_BLOCK"], &p["USER_ID_FOR_SRP"], &p["SALT"], &p["SRP_B"])
        .unwrap();
    let out = c
        .idp
        .respond_to_auth_challenge()
        .client_id(&pool.client_id)
        .challenge_name(ChallengeNameType::PasswordVerifier)
        .set_session(out.session().map(str::to_owned))
        .challenge_responses("USERNAME", &p["USER_ID_FOR_SRP"])
        .challenge_responses("PASSWORD_CLAIM_SECRET_BLOCK", v.password_claim_secret_block)
        .challenge_responses("PASSWORD_CLAIM_SIGNATURE", v.password_claim_signature)
        .challenge_responses("TIMESTAMP", v.timestamp)
        .send()
        .await
        .map_err(|e| aws_err::<(), _>(Err(e)))?;
    assert_eq!(out.challenge_name(), Some(&ChallengeNameType::CustomChallenge));
    assert_eq!(out.challenge_parameters().unwrap()["question"], "2+2");
    Ok(out.session().unwrap().to_owned())
}

#[tokio::test]
async fn custom_auth_with_srp_then_a_custom_challenge() {
    let (c, seen, pool) = start().await;
    let session = srp_then_custom(&c, &pool, PASSWORD).await.expect("SRP step passes");
    let out = c
        .idp
        .respond_to_auth_challenge()
        .client_id(&pool.client_id)
        .challenge_name(ChallengeNameType::CustomChallenge)
        .session(session)
        .challenge_responses("USERNAME", "cara")
        .challenge_responses("ANSWER", "4")
        .send()
        .await
        .expect("the custom answer completes the sign-in");
    let tokens = out.authentication_result().expect("tokens");
    let id = c.verify_jwt(&pool.pool_id, tokens.id_token().unwrap()).await;
    assert_eq!(id.claims["cognito:username"], "cara");

    let sessions = seen.lock().unwrap().clone();
    let names = |s: &Value| -> Vec<(String, bool)> {
        s.as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["challengeName"].as_str().unwrap().to_owned(),
                    e["challengeResult"].as_bool().unwrap(),
                )
            })
            .collect()
    };
    assert_eq!(names(&sessions[0]), [("SRP_A".to_owned(), true)]);
    assert_eq!(
        names(&sessions[1]),
        [("SRP_A".to_owned(), true), ("PASSWORD_VERIFIER".to_owned(), true)]
    );
    assert_eq!(
        names(&sessions[2]),
        [
            ("SRP_A".to_owned(), true),
            ("PASSWORD_VERIFIER".to_owned(), true),
            ("CUSTOM_CHALLENGE".to_owned(), true)
        ]
    );
    assert!(sessions[1][1]["challengeMetadata"].is_null());
}

#[tokio::test]
async fn custom_auth_with_srp_and_a_wrong_password_is_refused() {
    let (c, seen, pool) = start().await;
    let err = srp_then_custom(&c, &pool, "Wr0ng-Passw0rd!").await.unwrap_err();
    assert_eq!(err.code, "NotAuthorizedException");
    assert_eq!(err.message.as_deref(), Some("Incorrect username or password."));
    let sessions = seen.lock().unwrap().clone();
    let last = sessions.last().unwrap().as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["challengeName"], "PASSWORD_VERIFIER");
    assert_eq!(
        last["challengeResult"], false,
        "DefineAuthChallenge sees the failed password"
    );
}
