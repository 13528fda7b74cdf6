//! The awsJson1_1 wire, raw: error shapes, malformed bodies, unknown operations, missing
//! members, oversized bodies.

use cognate_sdk_tests::*;
use serde_json::{Value, json};

const PREFIX: &str = "AWSCognitoIdentityProviderService.";

/// Reads an error response and checks the shape every awsJson1_1 error must have:
/// a JSON body with `__type` and `message`, and an `x-amzn-ErrorType` header naming the same
/// error. Returns (status, error name, message).
async fn error_of(resp: reqwest::Response) -> (u16, String, String) {
    let status = resp.status().as_u16();
    let header = resp
        .headers()
        .get("x-amzn-errortype")
        .map(|h| h.to_str().expect("ASCII header").to_string());
    let text = resp.text().await.expect("body");
    let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("error body is not JSON ({e}): {text}"));
    let raw_type = body["__type"].as_str().unwrap_or_else(|| panic!("no __type: {body}"));
    // SDKs accept a namespaced `__type` ("ns#Name"); the name is what follows '#'.
    let name = raw_type.rsplit('#').next().unwrap().to_string();
    let message = body["message"]
        .as_str()
        .or_else(|| body["Message"].as_str())
        .unwrap_or_else(|| panic!("no message: {body}"))
        .to_string();
    let header = header.unwrap_or_else(|| panic!("no x-amzn-ErrorType header for {body}"));
    // The header may carry a ":http://..." suffix.
    let header_name = header.split(':').next().unwrap();
    assert_eq!(header_name, name, "header and body disagree");
    (status, name, message)
}

#[tokio::test]
async fn service_errors_have_type_message_and_header() {
    let c = Cognate::start().await;
    let resp = c
        .raw(
            &format!("{PREFIX}DescribeUserPool"),
            json!({"UserPoolId": "us-east-1_AAAAAAAAA"}).to_string(),
        )
        .await;
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let (status, name, message) = error_of(resp).await;
    assert_eq!(status, 400);
    assert_eq!(name, "ResourceNotFoundException");
    assert!(!message.is_empty());
    assert!(
        content_type.starts_with("application/x-amz-json-1.1"),
        "content-type: {content_type}"
    );

    let pool = c.create_pool("raw").await;
    let resp = c
        .raw(
            &format!("{PREFIX}AdminGetUser"),
            json!({"UserPoolId": pool.pool_id, "Username": "nobody"}).to_string(),
        )
        .await;
    let (status, name, message) = error_of(resp).await;
    assert_eq!((status, name.as_str()), (400, "UserNotFoundException"));
    assert_eq!(message, "User does not exist.");
}

#[tokio::test]
async fn successful_raw_call_is_awsjson() {
    let c = Cognate::start().await;
    let resp = c
        .raw(
            &format!("{PREFIX}CreateUserPool"),
            json!({"PoolName": "raw"}).to_string(),
        )
        .await;
    assert_eq!(resp.status().as_u16(), 200);
    // Every AWS response carries a request id.
    assert!(
        resp.headers().get("x-amzn-requestid").is_some(),
        "no x-amzn-RequestId header: {:?}",
        resp.headers()
    );
    let body: Value = resp.json().await.expect("JSON");
    let pool = &body["UserPool"];
    assert!(is_pool_id(pool["Id"].as_str().unwrap()));
    // Timestamps are epoch seconds as JSON numbers.
    assert!(
        pool["CreationDate"].is_number(),
        "CreationDate: {}",
        pool["CreationDate"]
    );
}

#[tokio::test]
async fn malformed_json_is_serialization_exception() {
    let c = Cognate::start().await;
    let resp = c.raw(&format!("{PREFIX}AdminGetUser"), "{not json").await;
    let (status, name, _) = error_of(resp).await;
    assert_eq!(status, 400);
    assert_eq!(name, "SerializationException");
}

#[tokio::test]
async fn unknown_operation() {
    let c = Cognate::start().await;
    let resp = c.raw(&format!("{PREFIX}NoSuchOperation"), "{}").await;
    let (status, name, _) = error_of(resp).await;
    assert_eq!(status, 400);
    assert_eq!(name, "UnknownOperationException");
}

#[tokio::test]
async fn missing_required_member_is_invalid_parameter() {
    let c = Cognate::start().await;
    let pool = c.create_pool("missing").await;
    let resp = c
        .raw(
            &format!("{PREFIX}AdminGetUser"),
            json!({"UserPoolId": pool.pool_id}).to_string(),
        )
        .await;
    let (status, name, _) = error_of(resp).await;
    assert_eq!(status, 400);
    assert_eq!(name, "InvalidParameterException");

    let resp = c.raw(&format!("{PREFIX}CreateUserPool"), "{}").await;
    let (status, name, _) = error_of(resp).await;
    assert_eq!((status, name.as_str()), (400, "InvalidParameterException"));
}

#[tokio::test]
async fn empty_body_on_an_operation_with_required_members() {
    let c = Cognate::start().await;
    let resp = c.raw(&format!("{PREFIX}AdminGetUser"), "").await;
    let (status, name, _) = error_of(resp).await;
    assert_eq!(status, 400);
    // AWS treats an empty body as `{}`, so the missing members are the problem; a server that
    // refuses the body itself is also acceptable here.
    assert!(
        name == "InvalidParameterException" || name == "SerializationException",
        "got {name}"
    );
}

#[tokio::test]
async fn huge_body_is_refused_with_4xx() {
    let c = Cognate::start().await;
    let big = "a".repeat(10 * 1024 * 1024);
    let body = format!(r#"{{"PoolName": "{big}"}}"#);
    let result = c
        .http
        .post(format!("{}/", c.endpoint))
        .header("Content-Type", "application/x-amz-json-1.1")
        .header("X-Amz-Target", format!("{PREFIX}CreateUserPool"))
        .body(body)
        .send()
        .await;
    match result {
        Ok(resp) => {
            let status = resp.status().as_u16();
            assert!((400..500).contains(&status), "10 MB body answered {status}");
        }
        // A server may answer 413 and close before the client finished sending; the client then
        // sees a broken connection instead of the status. That is a refusal, not a 5xx.
        Err(e) => assert!(!e.is_timeout(), "10 MB body timed out: {e}"),
    }
    // The server is still healthy.
    let out = c
        .idp
        .list_user_pools()
        .max_results(10)
        .send()
        .await
        .expect("ListUserPools");
    assert!(out.user_pools().is_empty(), "the huge pool must not have been created");
}

#[tokio::test]
async fn any_credentials_are_accepted_in_dev_profile() {
    // The development profile accepts any credentials on signed operations: a different key
    // than the harness's still works.
    let c = Cognate::start().await;
    let other = {
        use cognate_sdk_tests::aws_sdk_cognitoidentityprovider as idp;
        let conf = idp::Config::builder()
            .behavior_version(idp::config::BehaviorVersion::latest())
            .region(idp::config::Region::new("us-east-1"))
            .credentials_provider(idp::config::Credentials::new(
                "AKIDSOMEONEELSE",
                "another-secret",
                None,
                None,
                "other",
            ))
            .endpoint_url(&c.endpoint)
            .build();
        idp::Client::from_conf(conf)
    };
    other
        .create_user_pool()
        .pool_name("any-creds")
        .send()
        .await
        .expect("CreateUserPool with other credentials");
}

/// String members longer than the API model allows are refused with AWS's validation message.
#[tokio::test]
async fn overlong_members_are_refused() {
    let c = Cognate::start().await;
    let pool = c.create_pool("lengths").await;
    let long = "a".repeat(1_000_000);
    expect_err_msg(
        c.idp
            .sign_up()
            .client_id(&pool.client_id)
            .username(&long)
            .password(PASSWORD)
            .send()
            .await,
        "InvalidParameterException",
        "1 validation error detected: Value at 'username' failed to satisfy constraint: Member must have length less than or equal to 128",
    );
    expect_err_msg(
        c.idp
            .sign_up()
            .client_id(&pool.client_id)
            .username("len")
            .password(&long)
            .send()
            .await,
        "InvalidParameterException",
        "1 validation error detected: Value at 'password' failed to satisfy constraint: Member must have length less than or equal to 256",
    );
    let name = "g".repeat(129);
    expect_err_msg(
        c.idp
            .create_group()
            .user_pool_id(&pool.pool_id)
            .group_name(&name)
            .send()
            .await,
        "InvalidParameterException",
        &format!(
            "1 validation error detected: Value '{name}' at 'groupName' failed to satisfy constraint: Member must have length less than or equal to 128"
        ),
    );
}
