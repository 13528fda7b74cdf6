//! Triggers in the hosted flows, with the real handlers of the trigger fixture: sign-in through
//! the pages runs PreAuthentication and PostAuthentication, the code exchange runs
//! PreTokenGeneration as `TokenGeneration_HostedAuth`; client credentials run only a V3 trigger.
use cognate_sdk_tests::triggers::*;
use cognate_sdk_tests::*;
use serde_json::json;

use crate::oauth::{
    Browser, CALLBACK, authorize_url, hidden, login_action, machine_client, query_param, sign_in_through_pages, token,
    web_client,
};

const FIXTURE: &str = "triggers";

#[tokio::test]
async fn hosted_sign_in_runs_the_authentication_triggers_and_hosted_auth_token_generation() {
    let t = TriggerApp::start(FIXTURE).await;
    let client_id = web_client(&t.c, &t.pool.pool_id, "trigger-pages").await;
    let (machine_id, machine_secret) = machine_client(&t.c, &t.pool.pool_id).await;
    t.c.admin_user(&t.pool, "ola", "ola@example.com").await;
    t.clear();

    let mut b = Browser::new(&t.c);
    let authorize = format!("{}&nonce=n1", authorize_url(&client_id, ""));
    let done = sign_in_through_pages(&mut b, &authorize, "ola", PASSWORD).await;
    let code = query_param(done.location.as_deref().expect("redirect"), "code").expect("code");
    assert_eq!(
        t.sources(),
        ["PreAuthentication_Authentication", "PostAuthentication_Authentication"],
        "the sign-in page authenticates; tokens come at the exchange"
    );
    let (status, tokens) = token(
        &t.c,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &client_id),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ],
        None,
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let ev = t.event("TokenGeneration_HostedAuth");
    assert_eq!(ev["callerContext"]["clientId"], client_id.as_str());
    assert_eq!(ev["userName"], "ola");

    // A rejection by PreAuthentication shows the form again with the reason.
    t.behave(json!({"PreAuthentication": {"throw": "Sign-ins are paused"}}));
    let refused = sign_in_through_pages(&mut Browser::new(&t.c), &authorize, "ola", PASSWORD).await;
    assert_eq!(refused.status, 400);
    assert!(refused.body.contains("Sign-ins are paused"), "{}", refused.body);
    assert!(refused.location.is_none());
    t.behave(json!({}));

    // A V1 PreTokenGeneration trigger is not invoked for client credentials.
    t.clear();
    let (status, _) = token(
        &t.c,
        &[("grant_type", "client_credentials")],
        Some((&machine_id, &machine_secret)),
    )
    .await;
    assert_eq!(status, 200);
    assert!(t.sources().is_empty(), "{:?}", t.sources());
    t.shutdown().await;
}

fn v3_config(yml: String) -> String {
    with_pool_properties(
        yml,
        &format!(
            "LambdaConfig:\n  PreTokenGenerationConfig:\n    LambdaArn: {}\n    LambdaVersion: V3_0",
            function_arn("preTokenGeneration")
        ),
    )
}

#[tokio::test]
async fn a_v3_trigger_sees_and_edits_client_credentials_tokens() {
    let t = TriggerApp::start_edited(FIXTURE, v3_config).await;
    let (id, secret) = machine_client(&t.c, &t.pool.pool_id).await;
    t.c.idp
        .create_user_pool_domain()
        .user_pool_id(&t.pool.pool_id)
        .domain("v3-machines")
        .send()
        .await
        .expect("CreateUserPoolDomain");
    t.behave(json!({"TokenGeneration": {"merge": {"claimsAndScopeOverrideDetails": {
        "accessTokenGeneration": {
            "claimsToAddOrOverride": {"tenant": "acme"},
            "scopesToSuppress": ["https://api.example.com/write"]
        }
    }}}}));
    let (status, tokens) = token(
        &t.c,
        &[
            ("grant_type", "client_credentials"),
            ("aws_client_metadata", r#"{"env":"dev"}"#),
        ],
        Some((&id, &secret)),
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let ev = t.event("TokenGeneration_ClientCredentials");
    assert_eq!(ev["version"], "3");
    assert_eq!(ev["callerContext"]["clientId"], id.as_str());
    assert_eq!(
        ev["request"]["scopes"],
        json!(["https://api.example.com/read", "https://api.example.com/write"])
    );
    assert_eq!(ev["request"]["clientMetadata"], json!({"env": "dev"}));
    let access =
        t.c.verify_jwt(&t.pool.pool_id, tokens["access_token"].as_str().unwrap())
            .await;
    assert_eq!(access.claims["tenant"], "acme");
    assert_eq!(access.claims["scope"], "https://api.example.com/read");
    assert_eq!(access.claims["sub"], id.as_str());
    t.shutdown().await;
}

#[tokio::test]
async fn the_sign_in_page_runs_the_pools_custom_challenges_without_a_password() {
    let t = TriggerApp::start(FIXTURE).await;
    let client_id = web_client(&t.c, &t.pool.pool_id, "quiz-pages").await;
    t.c.admin_user(&t.pool, "quinn", "quinn@example.com").await;
    let mut b = Browser::new(&t.c);
    let authorize = authorize_url(&client_id, "");
    let first = b.get(&authorize).await;
    let login = b.get(first.location.as_deref().unwrap()).await;
    assert!(login.body.contains("leave the password empty"), "{}", login.body);
    let csrf = hidden(&login.body, "_csrf");
    let action = login_action(&login.body);

    // No password: the quiz of the fixture's triggers ("2+3?", two attempts).
    let challenge = b
        .post(&action, &[("_csrf", &csrf), ("username", "quinn"), ("password", "")])
        .await;
    assert_eq!(challenge.status, 200, "{}", challenge.body);
    assert!(challenge.body.contains("2+3?"), "{}", challenge.body);
    let answer = |page: &crate::oauth::Page, value: &str| -> Vec<(String, String)> {
        let mut form: Vec<(String, String)> = ["_csrf", "challenge_name", "session", "username"]
            .iter()
            .map(|n| (n.to_string(), hidden(&page.body, n)))
            .collect();
        form.push(("answer".into(), value.into()));
        form
    };
    let challenge_action = action.replacen("/login?", "/challenge?", 1);
    let second = post_pairs(&mut b, &challenge_action, answer(&challenge, "4")).await;
    assert!(
        second.body.contains("2+3?"),
        "a wrong answer gets the second attempt: {}",
        second.body
    );
    assert_eq!(hidden(&second.body, "challenge_name"), "CUSTOM_CHALLENGE");
    let done = post_pairs(&mut b, &challenge_action, answer(&second, "5")).await;
    assert_eq!(done.status, 302, "{}", done.body);
    let location = done.location.unwrap();
    assert!(location.starts_with(&format!("{CALLBACK}?code=")), "{location}");
    assert!(
        t.sources()
            .contains(&"VerifyAuthChallengeResponse_Authentication".to_owned())
    );
    t.shutdown().await;
}

async fn post_pairs(b: &mut Browser, action: &str, form: Vec<(String, String)>) -> crate::oauth::Page {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    b.post(action, &pairs).await
}
