//! Groups: CreateGroup, GetGroup, UpdateGroup, DeleteGroup, ListGroups, ListUsersInGroup,
//! AdminAddUserToGroup, AdminRemoveUserFromGroup, AdminListGroupsForUser, and `cognito:groups`
//! in tokens.

use std::collections::HashSet;

use cognate_sdk_tests::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/admins";

#[tokio::test]
async fn create_get_update_delete_group() {
    let c = Cognate::start().await;
    let pool = c.create_pool("groups").await;
    let out = c
        .idp
        .create_group()
        .user_pool_id(&pool.pool_id)
        .group_name("admins")
        .description("Administrators")
        .precedence(1)
        .role_arn(ROLE)
        .send()
        .await
        .expect("CreateGroup");
    let g = out.group().expect("Group");
    assert_eq!(g.group_name(), Some("admins"));
    assert_eq!(g.user_pool_id(), Some(pool.pool_id.as_str()));
    assert_eq!(g.description(), Some("Administrators"));
    assert_eq!(g.precedence(), Some(1));
    assert_eq!(g.role_arn(), Some(ROLE));
    assert!(g.creation_date().is_some());
    assert!(g.last_modified_date().is_some());

    let err = expect_err(
        c.idp
            .create_group()
            .user_pool_id(&pool.pool_id)
            .group_name("admins")
            .send()
            .await,
        "GroupExistsException",
    );
    assert!(err.contains("admins"), "message names the group: {err}");

    let got = c
        .idp
        .get_group()
        .user_pool_id(&pool.pool_id)
        .group_name("admins")
        .send()
        .await
        .expect("GetGroup");
    assert_eq!(got.group().and_then(|g| g.description()), Some("Administrators"));

    c.idp
        .update_group()
        .user_pool_id(&pool.pool_id)
        .group_name("admins")
        .description("Admins v2")
        .precedence(5)
        .send()
        .await
        .expect("UpdateGroup");
    let got = c
        .idp
        .get_group()
        .user_pool_id(&pool.pool_id)
        .group_name("admins")
        .send()
        .await
        .unwrap();
    let g = got.group().unwrap();
    assert_eq!(g.description(), Some("Admins v2"));
    assert_eq!(g.precedence(), Some(5));

    c.idp
        .delete_group()
        .user_pool_id(&pool.pool_id)
        .group_name("admins")
        .send()
        .await
        .expect("DeleteGroup");
    expect_err(
        c.idp
            .get_group()
            .user_pool_id(&pool.pool_id)
            .group_name("admins")
            .send()
            .await,
        "ResourceNotFoundException",
    );
    expect_err(
        c.idp
            .delete_group()
            .user_pool_id(&pool.pool_id)
            .group_name("admins")
            .send()
            .await,
        "ResourceNotFoundException",
    );
    expect_err(
        c.idp
            .update_group()
            .user_pool_id(&pool.pool_id)
            .group_name("admins")
            .description("x")
            .send()
            .await,
        "ResourceNotFoundException",
    );
    expect_err(
        c.idp
            .create_group()
            .user_pool_id("us-east-1_AAAAAAAAA")
            .group_name("g")
            .send()
            .await,
        "ResourceNotFoundException",
    );
}

#[tokio::test]
async fn list_groups_paginates() {
    let c = Cognate::start().await;
    let pool = c.create_pool("many-groups").await;
    let mut expected = HashSet::new();
    for i in 0..5 {
        let name = format!("g{i}");
        c.idp
            .create_group()
            .user_pool_id(&pool.pool_id)
            .group_name(&name)
            .send()
            .await
            .unwrap();
        expected.insert(name);
    }
    let mut seen = Vec::new();
    let mut token = None;
    for _ in 0..10 {
        let out = c
            .idp
            .list_groups()
            .user_pool_id(&pool.pool_id)
            .limit(2)
            .set_next_token(token)
            .send()
            .await
            .expect("ListGroups");
        assert!(out.groups().len() <= 2);
        seen.extend(out.groups().iter().map(|g| g.group_name().unwrap().to_string()));
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert!(token.is_none(), "pagination does not terminate");
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "{seen:?}");
    assert_eq!(unique, expected);
}

#[tokio::test]
async fn membership() {
    let c = Cognate::start().await;
    let pool = c.create_pool("membership").await;
    c.admin_user(&pool, "alice", "alice@example.com").await;
    c.admin_user(&pool, "bob", "bob@example.com").await;
    for g in ["readers", "writers"] {
        c.idp
            .create_group()
            .user_pool_id(&pool.pool_id)
            .group_name(g)
            .send()
            .await
            .unwrap();
    }
    let add = |user: &'static str, group: &'static str| {
        c.idp
            .admin_add_user_to_group()
            .user_pool_id(&pool.pool_id)
            .username(user)
            .group_name(group)
            .send()
    };
    add("alice", "readers").await.expect("AdminAddUserToGroup");
    add("alice", "writers").await.unwrap();
    add("bob", "readers").await.unwrap();
    // Adding an existing member again is not an error.
    add("bob", "readers").await.expect("idempotent AdminAddUserToGroup");

    let out = c
        .idp
        .list_users_in_group()
        .user_pool_id(&pool.pool_id)
        .group_name("readers")
        .send()
        .await
        .expect("ListUsersInGroup");
    let members: HashSet<&str> = out.users().iter().filter_map(|u| u.username()).collect();
    assert_eq!(members, HashSet::from(["alice", "bob"]));
    assert!(out.users().iter().all(|u| !u.attributes().is_empty()));

    let out = c
        .idp
        .admin_list_groups_for_user()
        .user_pool_id(&pool.pool_id)
        .username("alice")
        .send()
        .await
        .expect("AdminListGroupsForUser");
    let groups: HashSet<&str> = out.groups().iter().filter_map(|g| g.group_name()).collect();
    assert_eq!(groups, HashSet::from(["readers", "writers"]));

    c.idp
        .admin_remove_user_from_group()
        .user_pool_id(&pool.pool_id)
        .username("alice")
        .group_name("readers")
        .send()
        .await
        .expect("AdminRemoveUserFromGroup");
    let out = c
        .idp
        .admin_list_groups_for_user()
        .user_pool_id(&pool.pool_id)
        .username("alice")
        .send()
        .await
        .unwrap();
    let groups: Vec<&str> = out.groups().iter().filter_map(|g| g.group_name()).collect();
    assert_eq!(groups, vec!["writers"]);

    // Deleting a group removes it from its members.
    c.idp
        .delete_group()
        .user_pool_id(&pool.pool_id)
        .group_name("writers")
        .send()
        .await
        .unwrap();
    let out = c
        .idp
        .admin_list_groups_for_user()
        .user_pool_id(&pool.pool_id)
        .username("alice")
        .send()
        .await
        .unwrap();
    assert!(out.groups().is_empty(), "{:?}", out.groups());

    // Deleting a user removes it from its groups.
    c.idp
        .admin_delete_user()
        .user_pool_id(&pool.pool_id)
        .username("bob")
        .send()
        .await
        .unwrap();
    let out = c
        .idp
        .list_users_in_group()
        .user_pool_id(&pool.pool_id)
        .group_name("readers")
        .send()
        .await
        .unwrap();
    assert!(out.users().is_empty());
}

#[tokio::test]
async fn membership_errors() {
    let c = Cognate::start().await;
    let pool = c.create_pool("membership-errors").await;
    c.admin_user(&pool, "alice", "alice@example.com").await;
    c.idp
        .create_group()
        .user_pool_id(&pool.pool_id)
        .group_name("g")
        .send()
        .await
        .unwrap();
    expect_err(
        c.idp
            .admin_add_user_to_group()
            .user_pool_id(&pool.pool_id)
            .username("nobody")
            .group_name("g")
            .send()
            .await,
        "UserNotFoundException",
    );
    expect_err(
        c.idp
            .admin_add_user_to_group()
            .user_pool_id(&pool.pool_id)
            .username("alice")
            .group_name("missing")
            .send()
            .await,
        "ResourceNotFoundException",
    );
    expect_err(
        c.idp
            .list_users_in_group()
            .user_pool_id(&pool.pool_id)
            .group_name("missing")
            .send()
            .await,
        "ResourceNotFoundException",
    );
    expect_err(
        c.idp
            .admin_list_groups_for_user()
            .user_pool_id(&pool.pool_id)
            .username("nobody")
            .send()
            .await,
        "UserNotFoundException",
    );
}

#[tokio::test]
async fn groups_appear_in_tokens_in_precedence_order() {
    let c = Cognate::start().await;
    let pool = c.create_pool("token-groups").await;
    c.admin_user(&pool, "alice", "alice@example.com").await;
    c.admin_user(&pool, "loner", "loner@example.com").await;
    // Created in an order that is neither alphabetical nor by precedence.
    for (name, precedence) in [("zeta", 2), ("alpha", 10), ("mid", 0)] {
        c.idp
            .create_group()
            .user_pool_id(&pool.pool_id)
            .group_name(name)
            .precedence(precedence)
            .send()
            .await
            .unwrap();
        c.idp
            .admin_add_user_to_group()
            .user_pool_id(&pool.pool_id)
            .username("alice")
            .group_name(name)
            .send()
            .await
            .unwrap();
    }
    let tokens = c.sign_in(&pool, "alice", PASSWORD).await;
    let id = c.verify_jwt(&pool.pool_id, tokens.id_token().unwrap()).await;
    let access = c.verify_jwt(&pool.pool_id, tokens.access_token().unwrap()).await;
    // Lowest Precedence value first (the group that "takes precedence" leads the list).
    let expected = serde_json::json!(["mid", "zeta", "alpha"]);
    assert_eq!(id.claims["cognito:groups"], expected, "ID token: {}", id.claims);
    assert_eq!(
        access.claims["cognito:groups"], expected,
        "access token: {}",
        access.claims
    );

    // A user in no group has no cognito:groups claim at all.
    let tokens = c.sign_in(&pool, "loner", PASSWORD).await;
    let id = c.verify_jwt(&pool.pool_id, tokens.id_token().unwrap()).await;
    let access = c.verify_jwt(&pool.pool_id, tokens.access_token().unwrap()).await;
    assert!(id.claims.get("cognito:groups").is_none(), "{}", id.claims);
    assert!(access.claims.get("cognito:groups").is_none(), "{}", access.claims);
}

#[tokio::test]
async fn group_changes_show_up_after_refresh() {
    let c = Cognate::start().await;
    let pool = c.create_pool("refresh-groups").await;
    c.admin_user(&pool, "alice", "alice@example.com").await;
    let tokens = c.sign_in(&pool, "alice", PASSWORD).await;
    c.idp
        .create_group()
        .user_pool_id(&pool.pool_id)
        .group_name("late")
        .send()
        .await
        .unwrap();
    c.idp
        .admin_add_user_to_group()
        .user_pool_id(&pool.pool_id)
        .username("alice")
        .group_name("late")
        .send()
        .await
        .unwrap();
    let out = c.refresh(&pool, tokens.refresh_token().unwrap()).await.unwrap();
    let id = c
        .verify_jwt(&pool.pool_id, out.authentication_result().unwrap().id_token().unwrap())
        .await;
    assert_eq!(id.claims["cognito:groups"], serde_json::json!(["late"]));
}
