//! User pool domains, resource servers and the OAuth members of app clients, through the SDK.
use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    CustomDomainConfigType, OAuthFlowType, ResourceServerScopeType,
};
use cognate_sdk_tests::*;

fn scope(name: &str) -> ResourceServerScopeType {
    ResourceServerScopeType::builder()
        .scope_name(name)
        .scope_description(format!("{name} access"))
        .build()
        .expect("scope")
}

#[tokio::test]
async fn a_prefix_domain_belongs_to_one_pool_and_shows_in_describe_user_pool() {
    let c = Cognate::start().await;
    let pool = c.create_pool("with-domain").await;
    let other = c.create_pool("other").await;
    let created = c
        .idp
        .create_user_pool_domain()
        .user_pool_id(&pool.pool_id)
        .domain("my-app-login")
        .send()
        .await
        .expect("CreateUserPoolDomain");
    assert_eq!(
        created.cloud_front_domain(),
        None,
        "a prefix domain has no distribution"
    );
    assert_eq!(created.managed_login_version(), Some(1));

    let described = c
        .idp
        .describe_user_pool()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .expect("DescribeUserPool");
    let described = described.user_pool().expect("pool");
    assert_eq!(described.domain(), Some("my-app-login"));
    assert_eq!(described.custom_domain(), None);

    let domain = c
        .idp
        .describe_user_pool_domain()
        .domain("my-app-login")
        .send()
        .await
        .expect("DescribeUserPoolDomain");
    let d = domain.domain_description().expect("description");
    assert_eq!(d.user_pool_id(), Some(pool.pool_id.as_str()));
    assert_eq!(d.domain(), Some("my-app-login"));
    assert_eq!(d.status().map(|s| s.as_str()), Some("ACTIVE"));

    let taken = c
        .idp
        .create_user_pool_domain()
        .user_pool_id(&other.pool_id)
        .domain("my-app-login")
        .send()
        .await;
    expect_err_msg(
        taken,
        "InvalidParameterException",
        "Domain already associated with another user pool.",
    );
    let second = c
        .idp
        .create_user_pool_domain()
        .user_pool_id(&pool.pool_id)
        .domain("another-prefix")
        .send()
        .await;
    expect_err(second, "InvalidParameterException");

    // An update of the pool keeps its domain; the pool cannot go while it has one.
    c.idp
        .update_user_pool()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .expect("UpdateUserPool");
    let kept = c
        .idp
        .describe_user_pool()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .expect("DescribeUserPool");
    assert_eq!(kept.user_pool().and_then(|p| p.domain()), Some("my-app-login"));
    let delete_pool = c.idp.delete_user_pool().user_pool_id(&pool.pool_id).send().await;
    expect_err_msg(
        delete_pool,
        "InvalidParameterException",
        "User pool cannot be deleted. It has a domain configured that should be deleted first.",
    );

    c.idp
        .delete_user_pool_domain()
        .user_pool_id(&pool.pool_id)
        .domain("my-app-login")
        .send()
        .await
        .expect("DeleteUserPoolDomain");
    let gone = c
        .idp
        .describe_user_pool_domain()
        .domain("my-app-login")
        .send()
        .await
        .expect("DescribeUserPoolDomain of an unknown domain");
    assert_eq!(gone.domain_description().and_then(|d| d.domain()), None);
    // Free again, for the other pool.
    c.idp
        .create_user_pool_domain()
        .user_pool_id(&other.pool_id)
        .domain("my-app-login")
        .send()
        .await
        .expect("the domain is free once deleted");
    c.idp
        .delete_user_pool()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .expect("DeleteUserPool without a domain");
}

#[tokio::test]
async fn domain_names_are_checked_as_cognito_checks_them() {
    let c = Cognate::start().await;
    let pool = c.create_pool("names").await;
    let create = |domain: &str| {
        c.idp
            .create_user_pool_domain()
            .user_pool_id(&pool.pool_id)
            .domain(domain)
            .send()
    };
    expect_err_msg(
        create("my-aws-login").await,
        "InvalidParameterException",
        "Domain cannot contain reserved word: aws",
    );
    expect_err_msg(
        create("cognito-test").await,
        "InvalidParameterException",
        "Domain cannot contain reserved word: cognito",
    );
    let upper = expect_err(create("MyApp").await, "InvalidParameterException");
    assert!(upper.contains("at 'domain' failed to satisfy constraint"), "{upper}");
    expect_err(create("-leading").await, "InvalidParameterException");

    // A custom domain needs its certificate.
    expect_err(create("auth.example.com").await, "InvalidParameterException");
    let custom = c
        .idp
        .create_user_pool_domain()
        .user_pool_id(&pool.pool_id)
        .domain("auth.example.com")
        .custom_domain_config(
            CustomDomainConfigType::builder()
                .certificate_arn("arn:aws:acm:us-east-1:123456789012:certificate/abc")
                .build()
                .expect("config"),
        )
        .send()
        .await
        .expect("a custom domain");
    assert!(custom.cloud_front_domain().is_some());
    let described = c
        .idp
        .describe_user_pool()
        .user_pool_id(&pool.pool_id)
        .send()
        .await
        .expect("DescribeUserPool");
    assert_eq!(
        described.user_pool().and_then(|p| p.custom_domain()),
        Some("auth.example.com")
    );
    let updated = c
        .idp
        .update_user_pool_domain()
        .user_pool_id(&pool.pool_id)
        .domain("auth.example.com")
        .managed_login_version(2)
        .send()
        .await
        .expect("UpdateUserPoolDomain");
    assert_eq!(updated.managed_login_version(), Some(2));
    let unknown = c
        .idp
        .delete_user_pool_domain()
        .user_pool_id(&pool.pool_id)
        .domain("not-mine")
        .send()
        .await;
    expect_err_msg(
        unknown,
        "InvalidParameterException",
        "No such domain or user pool exists.",
    );
}

#[tokio::test]
async fn resource_servers_define_the_custom_scopes_clients_may_allow() {
    let c = Cognate::start().await;
    let pool = c.create_pool("api").await;
    let created = c
        .idp
        .create_resource_server()
        .user_pool_id(&pool.pool_id)
        .identifier("https://api.example.com")
        .name("Example API")
        .scopes(scope("read"))
        .scopes(scope("write"))
        .send()
        .await
        .expect("CreateResourceServer");
    let server = created.resource_server().expect("resource server");
    assert_eq!(server.identifier(), Some("https://api.example.com"));
    assert_eq!(server.scopes().len(), 2);
    let again = c
        .idp
        .create_resource_server()
        .user_pool_id(&pool.pool_id)
        .identifier("https://api.example.com")
        .name("Again")
        .send()
        .await;
    expect_err(again, "InvalidParameterException");

    // A client may allow the defined scopes and the standard ones, and nothing else.
    let client = |scopes: &[&str]| {
        let mut b = c
            .idp
            .create_user_pool_client()
            .user_pool_id(&pool.pool_id)
            .client_name("m2m")
            .generate_secret(true)
            .allowed_o_auth_flows_user_pool_client(true)
            .allowed_o_auth_flows(OAuthFlowType::ClientCredentials);
        for s in scopes {
            b = b.allowed_o_auth_scopes(*s);
        }
        b.send()
    };
    client(&["https://api.example.com/read"])
        .await
        .expect("a defined scope");
    expect_err_msg(
        client(&["https://api.example.com/delete"]).await,
        "ScopeDoesNotExistException",
        "Invalid scope requested: https://api.example.com/delete",
    );

    // An update replaces the scopes.
    c.idp
        .update_resource_server()
        .user_pool_id(&pool.pool_id)
        .identifier("https://api.example.com")
        .name("Example API v2")
        .scopes(scope("delete"))
        .send()
        .await
        .expect("UpdateResourceServer");
    client(&["https://api.example.com/delete"])
        .await
        .expect("the new scope");
    let described = c
        .idp
        .describe_resource_server()
        .user_pool_id(&pool.pool_id)
        .identifier("https://api.example.com")
        .send()
        .await
        .expect("DescribeResourceServer");
    let server = described.resource_server().expect("resource server");
    assert_eq!(server.name(), Some("Example API v2"));
    assert_eq!(server.scopes().len(), 1);

    for n in 0..4 {
        c.idp
            .create_resource_server()
            .user_pool_id(&pool.pool_id)
            .identifier(format!("api-{n}"))
            .name(format!("API {n}"))
            .send()
            .await
            .expect("CreateResourceServer");
    }
    let mut identifiers = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = c
            .idp
            .list_resource_servers()
            .user_pool_id(&pool.pool_id)
            .max_results(2)
            .set_next_token(token.clone())
            .send()
            .await
            .expect("ListResourceServers");
        identifiers.extend(
            page.resource_servers()
                .iter()
                .filter_map(|r| r.identifier().map(str::to_owned)),
        );
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(
        identifiers,
        ["api-0", "api-1", "api-2", "api-3", "https://api.example.com"]
    );

    c.idp
        .delete_resource_server()
        .user_pool_id(&pool.pool_id)
        .identifier("api-0")
        .send()
        .await
        .expect("DeleteResourceServer");
    let missing = c
        .idp
        .describe_resource_server()
        .user_pool_id(&pool.pool_id)
        .identifier("api-0")
        .send()
        .await;
    expect_err(missing, "ResourceNotFoundException");
}

#[tokio::test]
async fn oauth_flows_are_combined_as_cognito_allows() {
    let c = Cognate::start().await;
    let pool = c.create_pool("flows").await;
    let base = |name: &str| {
        c.idp
            .create_user_pool_client()
            .user_pool_id(&pool.pool_id)
            .client_name(name)
            .allowed_o_auth_flows_user_pool_client(true)
            .allowed_o_auth_scopes("openid")
    };
    expect_err_msg(
        base("no-secret")
            .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
            .send()
            .await,
        "InvalidOAuthFlowException",
        "client_credentials flow can not be selected if client does not have a client secret.",
    );
    expect_err_msg(
        base("mixed")
            .generate_secret(true)
            .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
            .allowed_o_auth_flows(OAuthFlowType::Code)
            .callback_urls("https://app.example.com/callback")
            .send()
            .await,
        "InvalidOAuthFlowException",
        "client_credentials flow can not be selected along with code flow or implicit flow.",
    );
    expect_err_msg(
        base("no-callback")
            .allowed_o_auth_flows(OAuthFlowType::Code)
            .send()
            .await,
        "InvalidOAuthFlowException",
        "CallbackUrls can not be empty when code flow or implicit flow is selected",
    );
    let made = base("web")
        .allowed_o_auth_flows(OAuthFlowType::Code)
        .callback_urls("https://app.example.com/callback")
        .send()
        .await
        .expect("a code-flow client");
    let client = made.user_pool_client().expect("client");
    assert_eq!(client.allowed_o_auth_flows(), [OAuthFlowType::Code]);
    assert_eq!(client.callback_urls(), ["https://app.example.com/callback"]);
    // Updating it to client_credentials needs a secret it does not have.
    let update = c
        .idp
        .update_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_id(client.client_id().expect("client id"))
        .allowed_o_auth_flows_user_pool_client(true)
        .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
        .allowed_o_auth_scopes("openid")
        .send()
        .await;
    expect_err(update, "InvalidOAuthFlowException");
}
