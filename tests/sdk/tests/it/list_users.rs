//! ListUsers: filters, AttributesToGet, Limit + PaginationToken, errors.

use std::collections::HashSet;

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{MessageActionType, UserStatusType};
use cognate_sdk_tests::*;

/// alice, alan, bob: CONFIRMED; carol: UNCONFIRMED (SignUp); dave: FORCE_CHANGE_PASSWORD and
/// disabled.
async fn populated() -> (Cognate, TestPool, String) {
    let c = Cognate::start().await;
    let pool = c.create_pool("list").await;
    let alice_sub = c.admin_user(&pool, "alice", "alice@example.com").await;
    c.admin_user(&pool, "alan", "alan@sample.org").await;
    c.admin_user(&pool, "bob", "bob@example.com").await;
    c.idp
        .sign_up()
        .client_id(&pool.client_id)
        .username("carol")
        .password(PASSWORD)
        .user_attributes(attr("email", "carol@example.com"))
        .send()
        .await
        .unwrap();
    c.idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username("dave")
        .temporary_password("Temp0rary!Pass")
        .message_action(MessageActionType::Suppress)
        .user_attributes(attr("email", "dave@example.com"))
        .send()
        .await
        .unwrap();
    c.idp
        .admin_disable_user()
        .user_pool_id(&pool.pool_id)
        .username("dave")
        .send()
        .await
        .unwrap();
    (c, pool, alice_sub)
}

async fn usernames(c: &Cognate, pool: &TestPool, filter: &str) -> HashSet<String> {
    let out = c
        .idp
        .list_users()
        .user_pool_id(&pool.pool_id)
        .filter(filter)
        .send()
        .await
        .unwrap_or_else(|e| panic!("ListUsers filter {filter:?}: {e:?}"));
    out.users()
        .iter()
        .map(|u| u.username().expect("Username").to_string())
        .collect()
}

fn set(names: &[&str]) -> HashSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn list_users_returns_everyone_with_details() {
    let (c, pool, alice_sub) = populated().await;
    let out = c
        .idp
        .list_users()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .expect("ListUsers");
    let users = out.users();
    assert_eq!(users.len(), 5);
    assert!(out.pagination_token().is_none());
    let alice = users.iter().find(|u| u.username() == Some("alice")).expect("alice");
    assert_eq!(alice.user_status(), Some(&UserStatusType::Confirmed));
    assert!(alice.enabled());
    assert!(alice.user_create_date().is_some());
    let attrs = pairs(alice.attributes());
    assert_eq!(lookup(&attrs, "sub").as_deref(), Some(alice_sub.as_str()));
    assert_eq!(lookup(&attrs, "email").as_deref(), Some("alice@example.com"));
    let dave = users.iter().find(|u| u.username() == Some("dave")).expect("dave");
    assert!(!dave.enabled());
    assert_eq!(dave.user_status(), Some(&UserStatusType::ForceChangePassword));
    let carol = users.iter().find(|u| u.username() == Some("carol")).expect("carol");
    assert_eq!(carol.user_status(), Some(&UserStatusType::Unconfirmed));
}

#[tokio::test]
async fn list_users_filters() {
    let (c, pool, alice_sub) = populated().await;
    assert_eq!(usernames(&c, &pool, "email = \"bob@example.com\"").await, set(&["bob"]));
    assert_eq!(usernames(&c, &pool, "email = \"nobody@example.com\"").await, set(&[]));
    assert_eq!(usernames(&c, &pool, "email ^= \"al\"").await, set(&["alice", "alan"]));
    assert_eq!(usernames(&c, &pool, "username = \"carol\"").await, set(&["carol"]));
    assert_eq!(
        usernames(&c, &pool, "username ^= \"al\"").await,
        set(&["alice", "alan"])
    );
    assert_eq!(
        usernames(&c, &pool, "cognito:user_status = \"CONFIRMED\"").await,
        set(&["alice", "alan", "bob"])
    );
    assert_eq!(
        usernames(&c, &pool, "cognito:user_status = \"UNCONFIRMED\"").await,
        set(&["carol"])
    );
    assert_eq!(
        usernames(&c, &pool, "status = \"Enabled\"").await,
        set(&["alice", "alan", "bob", "carol"])
    );
    assert_eq!(usernames(&c, &pool, "status = \"Disabled\"").await, set(&["dave"]));
    assert_eq!(
        usernames(&c, &pool, &format!("sub = \"{alice_sub}\"")).await,
        set(&["alice"])
    );
    // Other searchable standard attributes.
    c.idp
        .admin_update_user_attributes()
        .user_pool_id(&pool.pool_id)
        .username("bob")
        .user_attributes(attr("given_name", "Robert"))
        .user_attributes(attr("phone_number", "+15555550123"))
        .send()
        .await
        .unwrap();
    assert_eq!(usernames(&c, &pool, "given_name = \"Robert\"").await, set(&["bob"]));
    assert_eq!(usernames(&c, &pool, "phone_number ^= \"+1555\"").await, set(&["bob"]));
    // An empty filter string lists everyone.
    assert_eq!(usernames(&c, &pool, "").await.len(), 5);
}

#[tokio::test]
async fn list_users_attributes_to_get() {
    let (c, pool, _) = populated().await;
    let out = c
        .idp
        .list_users()
        .user_pool_id(&pool.pool_id)
        .attributes_to_get("email")
        .filter("username = \"alice\"")
        .send()
        .await
        .expect("ListUsers AttributesToGet");
    let user = &out.users()[0];
    let names: Vec<&str> = user.attributes().iter().map(|a| a.name()).collect();
    assert_eq!(names, vec!["email"], "only the requested attributes are returned");
    assert_eq!(user.username(), Some("alice"));
    assert!(user.user_status().is_some());
}

#[tokio::test]
async fn list_users_paginates_over_all_pages() {
    let c = Cognate::start().await;
    let pool = c.create_pool("pages").await;
    let mut expected = HashSet::new();
    for i in 0..7 {
        let name = format!("user{i:02}");
        c.idp
            .admin_create_user()
            .user_pool_id(&pool.pool_id)
            .username(&name)
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .unwrap();
        expected.insert(name);
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = c
            .idp
            .list_users()
            .user_pool_id(&pool.pool_id)
            .limit(3)
            .set_pagination_token(token.clone())
            .send()
            .await
            .expect("ListUsers page");
        pages += 1;
        assert!(out.users().len() <= 3, "page larger than Limit");
        seen.extend(out.users().iter().map(|u| u.username().unwrap().to_string()));
        token = out.pagination_token().map(str::to_string);
        if token.is_none() {
            break;
        }
        assert!(pages < 10, "pagination does not terminate");
    }
    assert!(pages >= 3);
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "duplicates across pages: {seen:?}");
    assert_eq!(unique, expected);

    // Pagination with a filter.
    let mut seen = HashSet::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let out = c
            .idp
            .list_users()
            .user_pool_id(&pool.pool_id)
            .filter("username ^= \"user0\"")
            .limit(2)
            .set_pagination_token(token.clone())
            .send()
            .await
            .unwrap();
        for u in out.users() {
            assert!(seen.insert(u.username().unwrap().to_string()));
        }
        token = out.pagination_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn list_users_errors() {
    let c = Cognate::start().await;
    let pool = c.create_pool("bad-filter").await;
    for filter in ["email", "email = ", "email == \"x\"", "nonsense filter here"] {
        let err = aws_err(
            c.idp
                .list_users()
                .user_pool_id(&pool.pool_id)
                .filter(filter)
                .send()
                .await,
        );
        assert_eq!(err.code, "InvalidParameterException", "filter {filter:?}: {err:?}");
    }
    // Custom attributes are not searchable.
    expect_err(
        c.idp
            .list_users()
            .user_pool_id(&pool.pool_id)
            .filter("custom:tier = \"gold\"")
            .send()
            .await,
        "InvalidParameterException",
    );
    expect_err(
        c.idp.list_users().user_pool_id("us-east-1_AAAAAAAAA").send().await,
        "ResourceNotFoundException",
    );
    // A token the server never issued (AWS's exact wording is not documented).
    expect_err(
        c.idp
            .list_users()
            .user_pool_id(&pool.pool_id)
            .pagination_token("garbage-token")
            .send()
            .await,
        "InvalidParameterException",
    );
}
