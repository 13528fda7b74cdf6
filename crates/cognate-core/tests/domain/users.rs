//! Users: ListUsers' filter syntax, pagination and quota, username uniqueness, disabled users.
use crate::err_text;
use cognate_core::testkit::{Kit, PASSWORD, service};
use serde_json::{Value, json};

/// A pool with ann, anna, bob (disabled) and carol.
async fn pool_of_four(kit: &Kit) -> String {
    let pool = kit.create_pool(json!({})).await;
    for (name, email) in [
        ("ann", "ann@x.com"),
        ("anna", "anna@x.com"),
        ("bob", "bob@y.com"),
        ("carol", "carol@x.com"),
    ] {
        kit.create_user(&pool, name, PASSWORD, &[("email", email)]).await;
    }
    kit.ok("AdminDisableUser", json!({"UserPoolId": pool, "Username": "bob"}))
        .await;
    pool
}

async fn list(kit: &Kit, pool: &str, filter: &str) -> cognate_core::Result<Vec<String>> {
    let out = kit
        .call("ListUsers", json!({"UserPoolId": pool, "Filter": filter}))
        .await?;
    Ok(names(&out))
}

fn names(out: &Value) -> Vec<String> {
    out["Users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["Username"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn list_users_filters_by_equality_and_prefix() {
    let kit = service();
    let pool = pool_of_four(&kit).await;
    assert_eq!(list(&kit, &pool, "username = \"ann\"").await.unwrap(), ["ann"]);
    assert_eq!(list(&kit, &pool, "username ^= \"ann\"").await.unwrap(), ["ann", "anna"]);
    assert_eq!(list(&kit, &pool, "email ^= \"bob\"").await.unwrap(), ["bob"]);
    assert_eq!(list(&kit, &pool, "status = \"Disabled\"").await.unwrap(), ["bob"]);
    assert_eq!(
        list(&kit, &pool, "cognito:user_status = \"CONFIRMED\"")
            .await
            .unwrap()
            .len(),
        4
    );
    assert_eq!(
        list(&kit, &pool, "").await.unwrap().len(),
        4,
        "an empty filter lists all"
    );
}

#[tokio::test]
async fn malformed_and_custom_attribute_filters_are_invalid_parameters() {
    let kit = service();
    let pool = pool_of_four(&kit).await;
    for filter in [
        "email",
        "email = ",
        "email == \"x\"",
        "nonsense filter here",
        "custom:tier = \"gold\"",
    ] {
        let r = list(&kit, &pool, filter).await;
        assert!(
            err_text(r).starts_with("InvalidParameterException"),
            "filter {filter:?}"
        );
    }
}

#[tokio::test]
async fn list_users_pages_cover_every_user_once() {
    let kit = service();
    let pool = pool_of_four(&kit).await;
    let mut seen = Vec::new();
    let mut token: Option<Value> = None;
    loop {
        let mut body = json!({"UserPoolId": pool, "Limit": 3});
        if let Some(t) = &token {
            body["PaginationToken"] = t.clone();
        }
        let out = kit.ok("ListUsers", body).await;
        seen.extend(names(&out));
        match out.get("PaginationToken") {
            Some(t) if !t.is_null() => token = Some(t.clone()),
            _ => break,
        }
    }
    assert_eq!(seen, ["ann", "anna", "bob", "carol"]);
    let r = kit
        .call(
            "ListUsers",
            json!({"UserPoolId": pool, "PaginationToken": "garbage-token"}),
        )
        .await;
    assert!(err_text(r).starts_with("InvalidParameterException"));
}

#[tokio::test]
async fn usernames_are_case_sensitive_unless_the_pool_says_otherwise() {
    let kit = service();
    let create = |pool: &str| json!({"UserPoolId": pool, "Username": "ANN", "MessageAction": "SUPPRESS"});
    // The API's default: "ANN" and "ann" are different users.
    let sensitive = pool_of_four(&kit).await;
    kit.ok("AdminCreateUser", create(&sensitive)).await;

    let insensitive = kit
        .create_pool(json!({"UsernameConfiguration": {"CaseSensitive": false}}))
        .await;
    kit.create_user(&insensitive, "ann", PASSWORD, &[]).await;
    let r = kit.call("AdminCreateUser", create(&insensitive)).await;
    assert_eq!(err_text(r), "UsernameExistsException: User account already exists");
    let u = kit
        .ok("AdminGetUser", json!({"UserPoolId": insensitive, "Username": "Ann"}))
        .await;
    assert_eq!(u["Username"], "ann", "found whatever the case, named as created");
}

#[tokio::test]
async fn a_disabled_user_cannot_sign_in() {
    let kit = service();
    let pool = pool_of_four(&kit).await;
    let client = kit.create_client(&pool, json!({})).await;
    let r = kit.sign_in(&client, "bob", PASSWORD).await;
    assert_eq!(err_text(r), "NotAuthorizedException: User is disabled.");
    kit.sign_in(&client, "carol", PASSWORD)
        .await
        .expect("an enabled user signs in");
}

#[tokio::test]
async fn list_users_is_rate_limited_by_its_quota_category() {
    let mut quotas = cognate_core::quotas::QuotaSettings::default();
    quotas.set_from_str("UserList=2").unwrap();
    let kit = Kit::builder().quotas(quotas).build();
    let pool = kit.create_pool(json!({})).await;
    let list_all = json!({"UserPoolId": pool});
    for _ in 0..2 {
        kit.ok("ListUsers", list_all.clone()).await;
    }
    let r = kit.call("ListUsers", list_all.clone()).await;
    assert_eq!(err_text(r), "TooManyRequestsException: Rate exceeded");
    kit.clock.advance(std::time::Duration::from_secs(1));
    kit.ok("ListUsers", list_all).await;
}

#[tokio::test]
async fn attribute_names_and_values_past_the_model_limits_are_refused_before_anything_is_written() {
    let kit = service();
    let (pool, client) = kit.pool_client_user().await;
    let long_value = "v".repeat(2049);
    let sign_up = kit
        .call(
            "SignUp",
            json!({
                "ClientId": client, "Username": "dan", "Password": PASSWORD,
                "UserAttributes": [{"Name": "name", "Value": "Dan"}, {"Name": "family_name", "Value": long_value}],
            }),
        )
        .await;
    assert_eq!(
        err_text(sign_up),
        "InvalidParameterException: 1 validation error detected: Value at 'userAttributes.2.member.value' \
         failed to satisfy constraint: Member must have length less than or equal to 2048"
    );
    let exists = kit
        .call("AdminGetUser", json!({"UserPoolId": pool, "Username": "dan"}))
        .await;
    assert!(err_text(exists).starts_with("UserNotFoundException"));

    let long_name = format!("custom:{}", "n".repeat(26));
    let update = kit
        .call(
            "AdminUpdateUserAttributes",
            json!({"UserPoolId": pool, "Username": "alice", "UserAttributes": [{"Name": long_name, "Value": "x"}]}),
        )
        .await;
    assert_eq!(
        err_text(update),
        format!(
            "InvalidParameterException: 1 validation error detected: Value '{long_name}' at \
             'userAttributes.1.member.name' failed to satisfy constraint: Member must have length less than or equal to 32"
        )
    );
    let at_limit = "v".repeat(2048);
    kit.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "alice", "UserAttributes": [{"Name": "name", "Value": at_limit}]}),
    )
    .await;
}
