//! Identity providers of a pool through the SDK: Create/Describe/Update/Delete/List and
//! GetIdentityProviderByIdentifier, ProviderDetails of each type (an OpenID Connect provider's
//! endpoints discovered from a second Cognate, the social providers' fixed endpoints), the
//! refusals, SupportedIdentityProviders of clients, and `AWS::Cognito::UserPoolIdentityProvider`
//! in a serverless.yml.
use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::IdentityProviderTypeType;
use cognate_sdk_tests::*;
use std::collections::HashMap;

fn details(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

/// A second Cognate with a pool that has a domain: a real OpenID Connect issuer to discover.
async fn upstream_issuer() -> (Cognate, String) {
    let up = Cognate::start().await;
    let pool = up.create_pool("upstream").await;
    up.idp
        .create_user_pool_domain()
        .user_pool_id(&pool.pool_id)
        .domain("upstream-login")
        .send()
        .await
        .expect("CreateUserPoolDomain");
    let issuer = up.openid_configuration(&pool.pool_id).await["issuer"]
        .as_str()
        .expect("issuer")
        .to_owned();
    (up, issuer)
}

#[tokio::test]
async fn an_oidc_provider_is_completed_from_its_issuers_discovery_document() {
    let (up, issuer) = upstream_issuer().await;
    let c = Cognate::start().await;
    let pool = c.create_pool("federated").await;
    let created = c
        .idp
        .create_identity_provider()
        .user_pool_id(&pool.pool_id)
        .provider_name("Upstream")
        .provider_type(IdentityProviderTypeType::Oidc)
        .set_provider_details(Some(details(&[
            ("client_id", "abc"),
            ("client_secret", "shh"),
            ("attributes_request_method", "GET"),
            ("oidc_issuer", &issuer),
            ("authorize_scopes", "openid email"),
        ])))
        .attribute_mapping("email", "email")
        .idp_identifiers("example.com")
        .send()
        .await
        .expect("CreateIdentityProvider");
    let p = created.identity_provider().expect("provider");
    assert_eq!(p.provider_name(), Some("Upstream"));
    assert_eq!(p.provider_type(), Some(&IdentityProviderTypeType::Oidc));
    let d = p.provider_details().expect("details");
    assert_eq!(d["authorize_url"], format!("{}/oauth2/authorize", up.endpoint));
    assert_eq!(d["token_url"], format!("{}/oauth2/token", up.endpoint));
    assert_eq!(d["attributes_url"], format!("{}/oauth2/userInfo", up.endpoint));
    assert_eq!(
        d["jwks_uri"],
        format!("{issuer}/.well-known/jwks.json"),
        "the upstream serves its JWKS under the issuer"
    );
    assert_eq!(d["attributes_url_add_attributes"], "false");
    let mapping = p.attribute_mapping().expect("mapping");
    assert_eq!(mapping["username"], "sub", "Cognito maps username to sub by default");
    assert_eq!(mapping["email"], "email");
    assert!(p.creation_date().is_some() && p.last_modified_date().is_some());

    // Explicit endpoints are kept when discovery is not needed.
    let explicit = c
        .idp
        .create_identity_provider()
        .user_pool_id(&pool.pool_id)
        .provider_name("Explicit")
        .provider_type(IdentityProviderTypeType::Oidc)
        .set_provider_details(Some(details(&[
            ("client_id", "abc"),
            ("attributes_request_method", "POST"),
            ("oidc_issuer", "https://nowhere.invalid"),
            ("authorize_scopes", "openid"),
            ("authorize_url", "https://nowhere.invalid/a"),
            ("token_url", "https://nowhere.invalid/t"),
            ("attributes_url", "https://nowhere.invalid/u"),
            ("jwks_uri", "https://nowhere.invalid/j"),
        ])))
        .send()
        .await
        .expect("explicit endpoints");
    assert_eq!(
        explicit.identity_provider().unwrap().provider_details().unwrap()["token_url"],
        "https://nowhere.invalid/t"
    );

    // An issuer whose discovery fails, without explicit endpoints, is refused.
    let err = c
        .idp
        .create_identity_provider()
        .user_pool_id(&pool.pool_id)
        .provider_name("Broken")
        .provider_type(IdentityProviderTypeType::Oidc)
        .set_provider_details(Some(details(&[
            ("client_id", "abc"),
            ("attributes_request_method", "GET"),
            ("oidc_issuer", &format!("{}/us-east-1_nothere", up.endpoint)),
            ("authorize_scopes", "openid"),
        ])))
        .send()
        .await;
    expect_err(err, "InvalidParameterException");

    let by_id = c
        .idp
        .get_identity_provider_by_identifier()
        .user_pool_id(&pool.pool_id)
        .idp_identifier("example.com")
        .send()
        .await
        .expect("GetIdentityProviderByIdentifier");
    assert_eq!(by_id.identity_provider().unwrap().provider_name(), Some("Upstream"));
    let unknown = c
        .idp
        .get_identity_provider_by_identifier()
        .user_pool_id(&pool.pool_id)
        .idp_identifier("other.com")
        .send()
        .await;
    expect_err(unknown, "ResourceNotFoundException");
}

#[tokio::test]
async fn social_providers_carry_their_type_name_and_fixed_endpoints() {
    let c = Cognate::start().await;
    let pool = c.create_pool("social").await;
    let google = details(&[
        ("client_id", "1example.apps.googleusercontent.com"),
        ("client_secret", "secret"),
        ("authorize_scopes", "email profile openid"),
    ]);
    let misnamed = c
        .idp
        .create_identity_provider()
        .user_pool_id(&pool.pool_id)
        .provider_name("MyGoogle")
        .provider_type(IdentityProviderTypeType::Google)
        .set_provider_details(Some(google.clone()))
        .send()
        .await;
    expect_err_msg(
        misnamed,
        "InvalidParameterException",
        "Provider MyGoogle cannot be of type Google.",
    );
    let created = c
        .idp
        .create_identity_provider()
        .user_pool_id(&pool.pool_id)
        .provider_name("Google")
        .provider_type(IdentityProviderTypeType::Google)
        .set_provider_details(Some(google.clone()))
        .send()
        .await
        .expect("Google");
    let d = created.identity_provider().unwrap().provider_details().unwrap().clone();
    assert_eq!(d["authorize_url"], "https://accounts.google.com/o/oauth2/v2/auth");
    assert_eq!(d["token_url"], "https://www.googleapis.com/oauth2/v4/token");
    assert_eq!(d["oidc_issuer"], "https://accounts.google.com");
    assert_eq!(d["token_request_method"], "POST");
    assert_eq!(d["attributes_url_add_attributes"], "true");
    assert_eq!(d["client_secret"], "secret");

    let duplicate = c
        .idp
        .create_identity_provider()
        .user_pool_id(&pool.pool_id)
        .provider_name("Google")
        .provider_type(IdentityProviderTypeType::Google)
        .set_provider_details(Some(google))
        .send()
        .await;
    expect_err_msg(
        duplicate,
        "DuplicateProviderException",
        &format!("Google already exists in user pool {}.", pool.pool_id),
    );

    let facebook = c
        .idp
        .create_identity_provider()
        .user_pool_id(&pool.pool_id)
        .provider_name("Facebook")
        .provider_type(IdentityProviderTypeType::Facebook)
        .set_provider_details(Some(details(&[
            ("client_id", "1example"),
            ("client_secret", "s"),
            ("authorize_scopes", "public_profile, email"),
            ("api_version", "v17.0"),
        ])))
        .send()
        .await
        .expect("Facebook");
    let p = facebook.identity_provider().unwrap();
    assert_eq!(
        p.provider_details().unwrap()["token_url"],
        "https://graph.facebook.com/v17.0/oauth/access_token"
    );
    assert_eq!(p.attribute_mapping().unwrap()["username"], "id");
    let updated = c
        .idp
        .update_identity_provider()
        .user_pool_id(&pool.pool_id)
        .provider_name("Facebook")
        .provider_details("api_version", "v18.0")
        .send()
        .await
        .expect("UpdateIdentityProvider");
    assert_eq!(
        updated.identity_provider().unwrap().provider_details().unwrap()["token_url"],
        "https://graph.facebook.com/v18.0/oauth/access_token",
        "the fixed endpoints follow the new api_version"
    );

    let apple = c
        .idp
        .create_identity_provider()
        .user_pool_id(&pool.pool_id)
        .provider_name("SignInWithApple")
        .provider_type(IdentityProviderTypeType::SignInWithApple)
        .set_provider_details(Some(details(&[
            ("client_id", "com.example.cognito"),
            ("team_id", "TEAM"),
            ("key_id", "KEY"),
            ("private_key", "-----BEGIN PRIVATE KEY-----"),
            ("authorize_scopes", "email name"),
        ])))
        .send()
        .await
        .expect("SignInWithApple");
    let d = apple.identity_provider().unwrap().provider_details().unwrap();
    assert!(!d.contains_key("private_key"), "the private key is not shown: {d:?}");
    assert_eq!(d["authorize_url"], "https://appleid.apple.com/auth/authorize");

    let no_secret = c
        .idp
        .create_identity_provider()
        .user_pool_id(&pool.pool_id)
        .provider_name("LoginWithAmazon")
        .provider_type(IdentityProviderTypeType::LoginWithAmazon)
        .set_provider_details(Some(details(&[
            ("client_id", "amzn1"),
            ("authorize_scopes", "profile"),
        ])))
        .send()
        .await;
    expect_err(no_secret, "InvalidParameterException");
}

#[tokio::test]
async fn requests_are_checked_as_cognito_checks_them() {
    let c = Cognate::start().await;
    let pool = c.create_pool("checks").await;
    let saml = |name: &str| {
        c.idp
            .create_identity_provider()
            .user_pool_id(&pool.pool_id)
            .provider_name(name)
            .provider_type(IdentityProviderTypeType::Saml)
    };
    let bad_type: serde_json::Value = c
        .raw(
            "AWSCognitoIdentityProviderService.CreateIdentityProvider",
            serde_json::json!({
                "UserPoolId": pool.pool_id, "ProviderName": "Corp", "ProviderType": "LDAP",
                "ProviderDetails": {"MetadataURL": "https://idp.example.com/metadata"}
            })
            .to_string(),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(bad_type["__type"], "InvalidParameterException", "{bad_type}");
    assert!(
        bad_type["message"].as_str().unwrap().contains(
            "Member must satisfy enum value set: [SAML, Facebook, Google, LoginWithAmazon, SignInWithApple, OIDC]"
        ),
        "{bad_type}"
    );
    let underscore = saml("_corp")
        .provider_details("MetadataURL", "https://idp.example.com/metadata")
        .send()
        .await;
    expect_err(underscore, "InvalidParameterException");
    let neither = saml("Corp").provider_details("IDPSignout", "true").send().await;
    expect_err(neither, "InvalidParameterException");
    let both = saml("Corp")
        .provider_details("MetadataURL", "https://idp.example.com/metadata")
        .provider_details("MetadataFile", "<EntityDescriptor/>")
        .send()
        .await;
    expect_err(both, "InvalidParameterException");
    let bad_bool = saml("Corp")
        .provider_details("MetadataURL", "https://idp.example.com/metadata")
        .provider_details("IDPInit", "yes")
        .send()
        .await;
    expect_err(bad_bool, "InvalidParameterException");
    let bad_attribute = saml("Corp")
        .provider_details("MetadataURL", "https://idp.example.com/metadata")
        .attribute_mapping("custom:nothere", "x")
        .send()
        .await;
    expect_err(bad_attribute, "InvalidParameterException");
    let reserved = saml("COGNITO")
        .provider_details("MetadataURL", "https://idp.example.com/metadata")
        .send()
        .await;
    expect_err_msg(
        reserved,
        "InvalidParameterException",
        "Provider COGNITO cannot be of type SAML.",
    );
    saml("Corp")
        .provider_details("MetadataURL", "https://idp.example.com/metadata")
        .provider_details("IDPSignout", "true")
        .idp_identifiers("corp.example.com")
        .send()
        .await
        .expect("SAML provider");
    let taken = saml("Corp2")
        .provider_details("MetadataURL", "https://idp.example.com/metadata")
        .idp_identifiers("corp.example.com")
        .send()
        .await;
    expect_err(taken, "InvalidParameterException");

    let missing = c
        .idp
        .describe_identity_provider()
        .user_pool_id(&pool.pool_id)
        .provider_name("Nobody")
        .send()
        .await;
    expect_err_msg(
        missing,
        "ResourceNotFoundException",
        "Identity provider Nobody does not exist.",
    );
    let no_pool = c
        .idp
        .list_identity_providers()
        .user_pool_id("us-east-1_nothere1")
        .send()
        .await;
    expect_err(no_pool, "ResourceNotFoundException");
}

#[tokio::test]
async fn providers_are_listed_updated_and_deleted() {
    let c = Cognate::start().await;
    let pool = c.create_pool("lifecycle").await;
    for name in ["Alpha", "Beta", "Gamma"] {
        c.idp
            .create_identity_provider()
            .user_pool_id(&pool.pool_id)
            .provider_name(name)
            .provider_type(IdentityProviderTypeType::Saml)
            .provider_details("MetadataURL", format!("https://{name}.example.com/metadata"))
            .send()
            .await
            .expect("create");
    }
    let first = c
        .idp
        .list_identity_providers()
        .user_pool_id(&pool.pool_id)
        .max_results(2)
        .send()
        .await
        .expect("list");
    let names: Vec<&str> = first.providers().iter().filter_map(|p| p.provider_name()).collect();
    assert_eq!(names, ["Alpha", "Beta"]);
    assert_eq!(
        first.providers()[0].provider_type(),
        Some(&IdentityProviderTypeType::Saml)
    );
    let rest = c
        .idp
        .list_identity_providers()
        .user_pool_id(&pool.pool_id)
        .max_results(2)
        .next_token(first.next_token().expect("a next page"))
        .send()
        .await
        .expect("list page 2");
    assert_eq!(rest.providers().len(), 1);
    assert_eq!(rest.next_token(), None);

    let updated = c
        .idp
        .update_identity_provider()
        .user_pool_id(&pool.pool_id)
        .provider_name("Beta")
        .provider_details("IDPSignout", "true")
        .attribute_mapping(
            "email",
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
        )
        .idp_identifiers("beta.example.com")
        .send()
        .await
        .expect("UpdateIdentityProvider");
    let p = updated.identity_provider().unwrap();
    let d = p.provider_details().unwrap();
    assert_eq!(d["IDPSignout"], "true");
    assert_eq!(
        d["MetadataURL"], "https://Beta.example.com/metadata",
        "details not given stay"
    );
    assert_eq!(p.idp_identifiers(), ["beta.example.com"]);
    assert!(p.last_modified_date().unwrap().secs() >= p.creation_date().unwrap().secs());

    c.idp
        .delete_identity_provider()
        .user_pool_id(&pool.pool_id)
        .provider_name("Beta")
        .send()
        .await
        .expect("DeleteIdentityProvider");
    let again = c
        .idp
        .delete_identity_provider()
        .user_pool_id(&pool.pool_id)
        .provider_name("Beta")
        .send()
        .await;
    expect_err(again, "ResourceNotFoundException");
    let missing = c
        .idp
        .update_identity_provider()
        .user_pool_id(&pool.pool_id)
        .provider_name("Beta")
        .send()
        .await;
    expect_err(missing, "ResourceNotFoundException");
}

#[tokio::test]
async fn clients_offer_only_providers_the_pool_has() {
    let c = Cognate::start().await;
    let pool = c.create_pool("clients").await;
    let unknown = c
        .idp
        .create_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_name("web")
        .supported_identity_providers("COGNITO")
        .supported_identity_providers("Corp")
        .send()
        .await;
    expect_err_msg(
        unknown,
        "InvalidParameterException",
        &format!("The provider Corp does not exist for User Pool {}.", pool.pool_id),
    );
    c.idp
        .create_identity_provider()
        .user_pool_id(&pool.pool_id)
        .provider_name("Corp")
        .provider_type(IdentityProviderTypeType::Saml)
        .provider_details("MetadataURL", "https://idp.example.com/metadata")
        .send()
        .await
        .expect("provider");
    let created = c
        .idp
        .create_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_name("web")
        .supported_identity_providers("COGNITO")
        .supported_identity_providers("Corp")
        .send()
        .await
        .expect("client with the provider");
    let client = created.user_pool_client().unwrap();
    assert_eq!(client.supported_identity_providers(), ["COGNITO", "Corp"]);
    let update = c
        .idp
        .update_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_id(client.client_id().unwrap())
        .supported_identity_providers("Google")
        .send()
        .await;
    expect_err(update, "InvalidParameterException");
}

#[tokio::test]
async fn a_serverless_yml_declares_a_provider_and_a_client_that_offers_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("serverless.yml"),
        r#"service: federation
provider:
  name: aws
  runtime: nodejs20.x
resources:
  Resources:
    Pool:
      Type: AWS::Cognito::UserPool
      Properties:
        UserPoolName: federated
    Google:
      Type: AWS::Cognito::UserPoolIdentityProvider
      Properties:
        UserPoolId: !Ref Pool
        ProviderName: Google
        ProviderType: Google
        ProviderDetails:
          client_id: 1example.apps.googleusercontent.com
          client_secret: secret
          authorize_scopes: email profile openid
        AttributeMapping:
          email: email
    Client:
      Type: AWS::Cognito::UserPoolClient
      Properties:
        UserPoolId: !Ref Pool
        ClientName: web
        SupportedIdentityProviders: [COGNITO, Google]
"#,
    )
    .expect("write serverless.yml");
    let mut opts = base_options();
    opts.config = Some(dir.path().to_path_buf());
    let c = Cognate::start_with(opts, None).await;
    let pools = c.idp.list_user_pools().max_results(10).send().await.expect("pools");
    let pool_id = pools.user_pools()[0].id().unwrap().to_owned();
    let p = c
        .idp
        .describe_identity_provider()
        .user_pool_id(&pool_id)
        .provider_name("Google")
        .send()
        .await
        .expect("declared provider");
    let p = p.identity_provider().unwrap();
    assert_eq!(p.attribute_mapping().unwrap()["email"], "email");
    assert_eq!(
        p.provider_details().unwrap()["authorize_url"],
        "https://accounts.google.com/o/oauth2/v2/auth"
    );
    let clients = c
        .idp
        .list_user_pool_clients()
        .user_pool_id(&pool_id)
        .send()
        .await
        .expect("clients");
    let client = c
        .idp
        .describe_user_pool_client()
        .user_pool_id(&pool_id)
        .client_id(clients.user_pool_clients()[0].client_id().unwrap())
        .send()
        .await
        .expect("client");
    assert_eq!(
        client.user_pool_client().unwrap().supported_identity_providers(),
        ["COGNITO", "Google"]
    );
}
