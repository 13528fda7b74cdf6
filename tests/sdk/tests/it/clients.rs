//! App clients: Create/Describe/Update/Delete/ListUserPoolClients, client secrets and
//! SECRET_HASH, ExplicitAuthFlows, token validity, read/write attributes,
//! PreventUserExistenceErrors, EnableTokenRevocation.

use std::collections::HashSet;

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AuthFlowType, ExplicitAuthFlowsType, PreventUserExistenceErrorTypes, TimeUnitsType, TokenValidityUnitsType,
};
use cognate_sdk_tests::*;
use serde_json::{Value, json};

fn is_client_id(s: &str) -> bool {
    s.len() == 26 && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

#[tokio::test]
async fn create_describe_update_delete_client() {
    let c = Cognate::start().await;
    let pool = c.create_pool("clients").await;
    let out = c
        .idp
        .create_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_name("web")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .access_token_validity(2)
        .id_token_validity(30)
        .refresh_token_validity(7)
        .token_validity_units(
            TokenValidityUnitsType::builder()
                .access_token(TimeUnitsType::Hours)
                .id_token(TimeUnitsType::Minutes)
                .refresh_token(TimeUnitsType::Days)
                .build(),
        )
        .read_attributes("email")
        .write_attributes("email")
        .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
        .send()
        .await
        .expect("CreateUserPoolClient");
    let created = out.user_pool_client().expect("UserPoolClient");
    let id = created.client_id().expect("ClientId").to_string();
    assert!(is_client_id(&id), "client id {id} is not 26 lowercase alphanumerics");
    assert_eq!(created.user_pool_id(), Some(pool.pool_id.as_str()));
    assert_eq!(created.client_name(), Some("web"));
    assert!(created.client_secret().is_none(), "no secret was asked for");

    let described = c
        .idp
        .describe_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_id(&id)
        .send()
        .await
        .expect("DescribeUserPoolClient");
    let d = described.user_pool_client().expect("UserPoolClient");
    assert_eq!(d.client_id(), Some(id.as_str()));
    assert_eq!(d.client_name(), Some("web"));
    let flows: HashSet<_> = d.explicit_auth_flows().iter().cloned().collect();
    assert_eq!(
        flows,
        HashSet::from([
            ExplicitAuthFlowsType::AllowUserPasswordAuth,
            ExplicitAuthFlowsType::AllowRefreshTokenAuth
        ])
    );
    assert_eq!(d.access_token_validity(), Some(2));
    assert_eq!(d.id_token_validity(), Some(30));
    assert_eq!(d.refresh_token_validity(), 7);
    let units = d.token_validity_units().expect("TokenValidityUnits");
    assert_eq!(units.access_token(), Some(&TimeUnitsType::Hours));
    assert_eq!(units.id_token(), Some(&TimeUnitsType::Minutes));
    assert_eq!(units.refresh_token(), Some(&TimeUnitsType::Days));
    assert_eq!(d.read_attributes(), &["email".to_string()]);
    assert_eq!(d.write_attributes(), &["email".to_string()]);
    assert_eq!(
        d.prevent_user_existence_errors(),
        Some(&PreventUserExistenceErrorTypes::Enabled)
    );
    // AWS: "If you don't include this parameter, token revocation is automatically activated
    // for the new user pool client."
    assert_eq!(d.enable_token_revocation(), Some(true));
    assert!(d.creation_date().is_some());

    c.idp
        .update_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_id(&id)
        .client_name("web-2")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .expect("UpdateUserPoolClient");
    let described = c
        .idp
        .describe_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_id(&id)
        .send()
        .await
        .unwrap();
    let d = described.user_pool_client().unwrap();
    assert_eq!(d.client_name(), Some("web-2"));
    let flows: HashSet<_> = d.explicit_auth_flows().iter().cloned().collect();
    assert_eq!(
        flows,
        HashSet::from([
            ExplicitAuthFlowsType::AllowAdminUserPasswordAuth,
            ExplicitAuthFlowsType::AllowRefreshTokenAuth
        ])
    );

    c.idp
        .delete_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_id(&id)
        .send()
        .await
        .expect("DeleteUserPoolClient");
    expect_err(
        c.idp
            .describe_user_pool_client()
            .user_pool_id(&pool.pool_id)
            .client_id(&id)
            .send()
            .await,
        "ResourceNotFoundException",
    );
}

#[tokio::test]
async fn client_errors_for_unknown_pool_or_client() {
    let c = Cognate::start().await;
    let pool = c.create_pool("p").await;
    expect_err(
        c.idp
            .create_user_pool_client()
            .user_pool_id("us-east-1_AAAAAAAAA")
            .client_name("x")
            .send()
            .await,
        "ResourceNotFoundException",
    );
    expect_err(
        c.idp
            .describe_user_pool_client()
            .user_pool_id(&pool.pool_id)
            .client_id("aaaaaaaaaaaaaaaaaaaaaaaaaa")
            .send()
            .await,
        "ResourceNotFoundException",
    );
    // Unknown client on a self-service operation.
    expect_err(
        c.idp
            .sign_up()
            .client_id("aaaaaaaaaaaaaaaaaaaaaaaaaa")
            .username("u")
            .password(PASSWORD)
            .send()
            .await,
        "ResourceNotFoundException",
    );
    expect_err(
        c.idp
            .initiate_auth()
            .client_id("aaaaaaaaaaaaaaaaaaaaaaaaaa")
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "u")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "ResourceNotFoundException",
    );
}

#[tokio::test]
async fn list_user_pool_clients_paginates() {
    let c = Cognate::start().await;
    let pool = c.create_pool("many-clients").await;
    let mut expected = HashSet::from([pool.client_id.clone()]);
    for i in 0..4 {
        expected.insert(c.create_client(&pool.pool_id, &format!("c{i}"), false).await.0);
    }
    let mut seen = Vec::new();
    let mut token = None;
    for _ in 0..10 {
        let out = c
            .idp
            .list_user_pool_clients()
            .user_pool_id(&pool.pool_id)
            .max_results(2)
            .set_next_token(token)
            .send()
            .await
            .expect("ListUserPoolClients");
        assert!(out.user_pool_clients().len() <= 2);
        for cl in out.user_pool_clients() {
            assert_eq!(cl.user_pool_id(), Some(pool.pool_id.as_str()));
            assert!(cl.client_name().is_some());
            seen.push(cl.client_id().unwrap().to_string());
        }
        token = out.next_token().map(str::to_string);
        if token.is_none() {
            break;
        }
    }
    assert!(token.is_none(), "pagination does not terminate");
    let unique: HashSet<String> = seen.iter().cloned().collect();
    assert_eq!(unique.len(), seen.len(), "duplicates across pages: {seen:?}");
    assert_eq!(unique, expected);
}

#[tokio::test]
async fn client_secret_and_secret_hash() {
    let c = Cognate::start().await;
    let pool = c.create_pool("secret").await;
    let (client_id, secret) = c.create_client(&pool.pool_id, "confidential", true).await;
    let secret = secret.expect("GenerateSecret returns ClientSecret");
    assert!(!secret.is_empty());
    let described = c
        .idp
        .describe_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_id(&client_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.user_pool_client().unwrap().client_secret(),
        Some(secret.as_str())
    );

    let wrong_msg = format!("Unable to verify secret hash for client {client_id}");

    // SignUp: missing hash, wrong hash, right hash.
    let sign_up = |hash: Option<String>| {
        c.idp
            .sign_up()
            .client_id(&client_id)
            .username("sam")
            .password(PASSWORD)
            .user_attributes(attr("email", "sam@example.com"))
            .set_secret_hash(hash)
            .send()
    };
    // Missing SECRET_HASH: AWS words this one differently across operations, so only the
    // exception name is asserted.
    expect_err(sign_up(None).await, "NotAuthorizedException");
    expect_err_msg(
        sign_up(Some(secret_hash(&secret, "someone-else", &client_id))).await,
        "NotAuthorizedException",
        &wrong_msg,
    );
    sign_up(Some(secret_hash(&secret, "sam", &client_id)))
        .await
        .expect("SignUp with the right SECRET_HASH");

    // ConfirmSignUp needs it too.
    let code = c.last_code("sam@example.com").await;
    expect_err(
        c.idp
            .confirm_sign_up()
            .client_id(&client_id)
            .username("sam")
            .confirmation_code(&code)
            .send()
            .await,
        "NotAuthorizedException",
    );
    c.idp
        .confirm_sign_up()
        .client_id(&client_id)
        .username("sam")
        .confirmation_code(&code)
        .secret_hash(secret_hash(&secret, "sam", &client_id))
        .send()
        .await
        .expect("ConfirmSignUp with SECRET_HASH");

    // InitiateAuth.
    let auth = |hash: Option<String>| {
        let mut req = c
            .idp
            .initiate_auth()
            .client_id(&client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "sam")
            .auth_parameters("PASSWORD", PASSWORD);
        if let Some(h) = hash {
            req = req.auth_parameters("SECRET_HASH", h);
        }
        req.send()
    };
    expect_err(auth(None).await, "NotAuthorizedException");
    expect_err_msg(
        auth(Some(secret_hash("not-the-secret", "sam", &client_id))).await,
        "NotAuthorizedException",
        &wrong_msg,
    );
    let ok = auth(Some(secret_hash(&secret, "sam", &client_id)))
        .await
        .expect("InitiateAuth with SECRET_HASH");
    assert!(ok.authentication_result().and_then(|r| r.access_token()).is_some());

    // AdminInitiateAuth also checks it.
    expect_err_msg(
        c.idp
            .admin_initiate_auth()
            .user_pool_id(&pool.pool_id)
            .client_id(&client_id)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", "sam")
            .auth_parameters("PASSWORD", PASSWORD)
            .auth_parameters("SECRET_HASH", secret_hash(&secret, "bob", &client_id))
            .send()
            .await,
        "NotAuthorizedException",
        &wrong_msg,
    );

    // ForgotPassword.
    expect_err_msg(
        c.idp
            .forgot_password()
            .client_id(&client_id)
            .username("sam")
            .secret_hash("AAAA")
            .send()
            .await,
        "NotAuthorizedException",
        &wrong_msg,
    );
    c.idp
        .forgot_password()
        .client_id(&client_id)
        .username("sam")
        .secret_hash(secret_hash(&secret, "sam", &client_id))
        .send()
        .await
        .expect("ForgotPassword with SECRET_HASH");
}

#[tokio::test]
async fn explicit_auth_flows_are_enforced() {
    let c = Cognate::start().await;
    let pool = c.create_pool("flows").await;
    c.admin_user(&pool, "erin", "erin@example.com").await;
    let out = c
        .idp
        .create_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_name("srp-only")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .unwrap();
    let srp_only = out.user_pool_client().unwrap().client_id().unwrap().to_string();

    expect_err_msg(
        c.idp
            .initiate_auth()
            .client_id(&srp_only)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "erin")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "InvalidParameterException",
        "USER_PASSWORD_AUTH flow not enabled for this client",
    );
    // AWS says "Auth flow not enabled for this client" here; only the name is asserted.
    expect_err(
        c.idp
            .admin_initiate_auth()
            .user_pool_id(&pool.pool_id)
            .client_id(&srp_only)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", "erin")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "InvalidParameterException",
    );

    // Enabling the flow makes it work.
    c.idp
        .update_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_id(&srp_only)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .unwrap();
    c.idp
        .initiate_auth()
        .client_id(&srp_only)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "erin")
        .auth_parameters("PASSWORD", PASSWORD)
        .send()
        .await
        .expect("USER_PASSWORD_AUTH once enabled");
}

#[tokio::test]
async fn token_validity_units_set_token_lifetimes() {
    let c = Cognate::start().await;
    let pool = c.create_pool("validity").await;
    c.admin_user(&pool, "fay", "fay@example.com").await;
    let out = c
        .idp
        .create_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_name("short")
        .set_explicit_auth_flows(Some(default_flows()))
        .access_token_validity(2)
        .id_token_validity(10)
        .refresh_token_validity(1)
        .token_validity_units(
            TokenValidityUnitsType::builder()
                .access_token(TimeUnitsType::Hours)
                .id_token(TimeUnitsType::Minutes)
                .refresh_token(TimeUnitsType::Days)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let client_id = out.user_pool_client().unwrap().client_id().unwrap().to_string();
    let short = TestPool {
        pool_id: pool.pool_id.clone(),
        client_id,
    };
    let tokens = c.sign_in(&short, "fay", PASSWORD).await;
    assert_eq!(tokens.expires_in(), 7200, "ExpiresIn is the access token lifetime");
    let access = c.verify_jwt(&pool.pool_id, tokens.access_token().unwrap()).await;
    let id = c.verify_jwt(&pool.pool_id, tokens.id_token().unwrap()).await;
    assert_eq!(claim_i64(&access, "exp") - claim_i64(&access, "iat"), 7200);
    assert_eq!(claim_i64(&id, "exp") - claim_i64(&id, "iat"), 600);

    // Without units the validity numbers are in the default units: hours for access/ID tokens.
    let out = c
        .idp
        .create_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_name("default-units")
        .set_explicit_auth_flows(Some(default_flows()))
        .access_token_validity(3)
        .id_token_validity(4)
        .send()
        .await
        .unwrap();
    let client_id = out.user_pool_client().unwrap().client_id().unwrap().to_string();
    let hours = TestPool {
        pool_id: pool.pool_id.clone(),
        client_id,
    };
    let tokens = c.sign_in(&hours, "fay", PASSWORD).await;
    assert_eq!(tokens.expires_in(), 3 * 3600);
    let id = c.verify_jwt(&pool.pool_id, tokens.id_token().unwrap()).await;
    assert_eq!(claim_i64(&id, "exp") - claim_i64(&id, "iat"), 4 * 3600);
}

#[tokio::test]
async fn read_and_write_attributes_are_enforced() {
    let c = Cognate::start().await;
    let pool = c.create_pool("rw").await;
    c.admin_user(&pool, "gus", "gus@example.com").await;
    c.idp
        .admin_update_user_attributes()
        .user_pool_id(&pool.pool_id)
        .username("gus")
        .user_attributes(attr("name", "Gus"))
        .user_attributes(attr("custom:tier", "gold"))
        .send()
        .await
        .unwrap();
    let out = c
        .idp
        .create_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_name("limited")
        .set_explicit_auth_flows(Some(default_flows()))
        .read_attributes("email")
        .read_attributes("email_verified")
        .read_attributes("name")
        .write_attributes("name")
        .send()
        .await
        .unwrap();
    let limited = TestPool {
        pool_id: pool.pool_id.clone(),
        client_id: out.user_pool_client().unwrap().client_id().unwrap().to_string(),
    };
    let tokens = c.sign_in(&limited, "gus", PASSWORD).await;
    let access = tokens.access_token().unwrap();

    let user = c.idp.get_user().access_token(access).send().await.expect("GetUser");
    let attrs = pairs(user.user_attributes());
    assert_eq!(lookup(&attrs, "email").as_deref(), Some("gus@example.com"));
    assert_eq!(lookup(&attrs, "name").as_deref(), Some("Gus"));
    assert!(
        lookup(&attrs, "custom:tier").is_none(),
        "custom:tier is not readable by this client: {attrs:?}"
    );
    // The ID token carries only readable attributes too.
    let id = c.verify_jwt(&pool.pool_id, tokens.id_token().unwrap()).await;
    assert!(id.claims.get("custom:tier").is_none(), "ID token: {}", id.claims);
    assert_eq!(id.claims["name"], "Gus");

    // Writable attribute: fine. Unwritable: NotAuthorizedException.
    c.idp
        .update_user_attributes()
        .access_token(access)
        .user_attributes(attr("name", "Gustav"))
        .send()
        .await
        .expect("UpdateUserAttributes on a writable attribute");
    expect_err(
        c.idp
            .update_user_attributes()
            .access_token(access)
            .user_attributes(attr("custom:tier", "platinum"))
            .send()
            .await,
        "NotAuthorizedException",
    );
    let attrs = c.admin_attrs(&pool, "gus").await;
    assert_eq!(lookup(&attrs, "name").as_deref(), Some("Gustav"));
    assert_eq!(lookup(&attrs, "custom:tier").as_deref(), Some("gold"));
}

#[tokio::test]
async fn prevent_user_existence_errors() {
    let c = Cognate::start().await;
    let pool = c.create_pool("pue").await;
    // Default (LEGACY): the unknown user is reported as such.
    expect_err_msg(
        c.idp
            .initiate_auth()
            .client_id(&pool.client_id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "nobody")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "UserNotFoundException",
        "User does not exist.",
    );

    let out = c
        .idp
        .create_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_name("masked")
        .set_explicit_auth_flows(Some(default_flows()))
        .prevent_user_existence_errors(PreventUserExistenceErrorTypes::Enabled)
        .send()
        .await
        .unwrap();
    let masked = out.user_pool_client().unwrap().client_id().unwrap().to_string();
    expect_err_msg(
        c.idp
            .initiate_auth()
            .client_id(&masked)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "nobody")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "NotAuthorizedException",
        "Incorrect username or password.",
    );
    expect_err_msg(
        c.idp
            .admin_initiate_auth()
            .user_pool_id(&pool.pool_id)
            .client_id(&masked)
            .auth_flow(AuthFlowType::AdminUserPasswordAuth)
            .auth_parameters("USERNAME", "nobody")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "NotAuthorizedException",
        "Incorrect username or password.",
    );
}

#[tokio::test]
async fn token_revocation_can_be_disabled() {
    let c = Cognate::start().await;
    let pool = c.create_pool("norevoke").await;
    c.admin_user(&pool, "hal", "hal@example.com").await;
    let out = c
        .idp
        .create_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_name("no-revocation")
        .set_explicit_auth_flows(Some(default_flows()))
        .enable_token_revocation(false)
        .send()
        .await
        .unwrap();
    let d = out.user_pool_client().unwrap();
    assert_eq!(d.enable_token_revocation(), Some(false));
    let client = TestPool {
        pool_id: pool.pool_id.clone(),
        client_id: d.client_id().unwrap().to_string(),
    };
    let tokens = c.sign_in(&client, "hal", PASSWORD).await;
    // RevokeToken on a client without revocation: UnsupportedOperationException ("operation
    // that is not enabled for the user pool client").
    expect_err(
        c.idp
            .revoke_token()
            .client_id(&client.client_id)
            .token(tokens.refresh_token().unwrap())
            .send()
            .await,
        "UnsupportedOperationException",
    );
    // The refresh token still works.
    c.refresh(&client, tokens.refresh_token().unwrap())
        .await
        .expect("refresh token still valid");
}

// ----------------------------------------------------------------------------------------------
// What DescribeUserPoolClient returns: exactly what was set, plus the members AWS always reports
// (RefreshTokenValidity 30, AuthSessionValidity 3, EnableTokenRevocation true,
// AllowedOAuthFlowsUserPoolClient and EnablePropagateAdditionalUserContextData false, and
// TokenValidityUnits with the units that were set: `{}` when none were). Terraform's AWS provider
// compares these with its configuration.
// ----------------------------------------------------------------------------------------------

/// A described client without the members that change from client to client.
fn settings_of(client: &Value) -> Value {
    let mut out = client.as_object().expect("UserPoolClient object").clone();
    for k in ["ClientId", "ClientSecret", "CreationDate", "LastModifiedDate"] {
        out.remove(k);
    }
    Value::Object(out)
}

async fn describe_raw(c: &Cognate, pool_id: &str, client_id: &str) -> Value {
    c.call(
        "DescribeUserPoolClient",
        json!({"UserPoolId": pool_id, "ClientId": client_id}),
    )
    .await["UserPoolClient"]
        .take()
}

/// `{what was sent} + {what AWS always reports}`, without the ids.
fn as_described(sent: &Value, always: Value) -> Value {
    let mut out = sent.as_object().unwrap().clone();
    out.remove("ClientId");
    out.remove("GenerateSecret");
    for (k, v) in always.as_object().unwrap() {
        out.entry(k.clone()).or_insert(v.clone());
    }
    Value::Object(out)
}

fn always_reported() -> Value {
    json!({
        "RefreshTokenValidity": 30,
        "TokenValidityUnits": {},
        "AllowedOAuthFlowsUserPoolClient": false,
        "EnableTokenRevocation": true,
        "EnablePropagateAdditionalUserContextData": false,
        "AuthSessionValidity": 3
    })
}

#[tokio::test]
async fn client_without_units_describes_none() {
    let c = Cognate::start().await;
    let pool = c.create_pool("no-units").await;
    c.admin_user(&pool, "ida", "ida@example.com").await;
    // What Terraform sends for a client with a name and explicit_auth_flows.
    let sent = json!({
        "ClientName": "plain",
        "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"],
        "UserPoolId": pool.pool_id
    });
    let created = c.call("CreateUserPoolClient", sent.clone()).await;
    let expected = as_described(&sent, always_reported());
    assert_eq!(
        settings_of(&created["UserPoolClient"]),
        expected,
        "CreateUserPoolClient answer"
    );
    let client_id = created["UserPoolClient"]["ClientId"].as_str().unwrap().to_string();
    assert_eq!(
        settings_of(&describe_raw(&c, &pool.pool_id, &client_id).await),
        expected
    );

    let out = c
        .idp
        .describe_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_id(&client_id)
        .send()
        .await
        .unwrap();
    let d = out.user_pool_client().unwrap();
    assert!(
        d.token_validity_units()
            .is_none_or(|u| u.access_token().is_none() && u.id_token().is_none() && u.refresh_token().is_none()),
        "no units were set: {:?}",
        d.token_validity_units()
    );
    assert_eq!(d.access_token_validity(), None);
    assert_eq!(d.id_token_validity(), None);
    assert_eq!(d.refresh_token_validity(), 30);
    assert_eq!(d.prevent_user_existence_errors(), None);

    // The lifetimes in effect are Cognito's defaults: 1 hour, and the refresh token works.
    let client = TestPool {
        pool_id: pool.pool_id.clone(),
        client_id,
    };
    let tokens = c.sign_in(&client, "ida", PASSWORD).await;
    assert_eq!(tokens.expires_in(), 3600);
    let id = c.verify_jwt(&pool.pool_id, tokens.id_token().unwrap()).await;
    assert_eq!(claim_i64(&id, "exp") - claim_i64(&id, "iat"), 3600);
    c.refresh(&client, tokens.refresh_token().unwrap())
        .await
        .expect("refresh with the default 30 days");

    // A client created without ExplicitAuthFlows lists none, and allows Cognito's default
    // three (SRP, refresh, custom) only.
    let out = c
        .idp
        .create_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_name("bare")
        .send()
        .await
        .unwrap();
    let bare = out.user_pool_client().unwrap();
    assert!(
        bare.explicit_auth_flows().is_empty(),
        "{:?}",
        bare.explicit_auth_flows()
    );
    expect_err_msg(
        c.idp
            .initiate_auth()
            .client_id(bare.client_id().unwrap())
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", "ida")
            .auth_parameters("PASSWORD", PASSWORD)
            .send()
            .await,
        "InvalidParameterException",
        "USER_PASSWORD_AUTH flow not enabled for this client",
    );
}

#[tokio::test]
async fn token_validity_units_are_described_as_sent() {
    let c = Cognate::start().await;
    let pool = c.create_pool("some-units").await;
    c.admin_user(&pool, "jo", "jo@example.com").await;
    let create = |name: &str, access: Option<i32>, units: TokenValidityUnitsType| {
        c.idp
            .create_user_pool_client()
            .user_pool_id(&pool.pool_id)
            .client_name(name)
            .set_explicit_auth_flows(Some(default_flows()))
            .set_access_token_validity(access)
            .token_validity_units(units)
    };

    // One unit, with its validity: the other units stay unset, the ID token keeps 1 hour.
    let out = create(
        "minutes",
        Some(30),
        TokenValidityUnitsType::builder()
            .access_token(TimeUnitsType::Minutes)
            .build(),
    )
    .send()
    .await
    .unwrap();
    let client_id = out.user_pool_client().unwrap().client_id().unwrap().to_string();
    let d = describe_raw(&c, &pool.pool_id, &client_id).await;
    assert_eq!(d["TokenValidityUnits"], json!({"AccessToken": "minutes"}));
    assert_eq!(d["AccessTokenValidity"], 30);
    assert!(d.get("IdTokenValidity").is_none(), "{d}");
    let client = TestPool {
        pool_id: pool.pool_id.clone(),
        client_id,
    };
    let tokens = c.sign_in(&client, "jo", PASSWORD).await;
    assert_eq!(tokens.expires_in(), 1800);
    let id = c.verify_jwt(&pool.pool_id, tokens.id_token().unwrap()).await;
    assert_eq!(claim_i64(&id, "exp") - claim_i64(&id, "iat"), 3600);

    // A unit without its validity: the validity is still the default hour, not 60 days.
    let out = create(
        "days",
        None,
        TokenValidityUnitsType::builder()
            .access_token(TimeUnitsType::Days)
            .build(),
    )
    .send()
    .await
    .unwrap();
    let client_id = out.user_pool_client().unwrap().client_id().unwrap().to_string();
    let d = describe_raw(&c, &pool.pool_id, &client_id).await;
    assert_eq!(d["TokenValidityUnits"], json!({"AccessToken": "days"}));
    assert!(d.get("AccessTokenValidity").is_none(), "{d}");
    let client = TestPool {
        pool_id: pool.pool_id.clone(),
        client_id,
    };
    assert_eq!(c.sign_in(&client, "jo", PASSWORD).await.expires_in(), 3600);

    // A validity without units is in hours, and no unit is made up for it.
    let out = c
        .idp
        .create_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_name("hours")
        .access_token_validity(3)
        .send()
        .await
        .unwrap();
    let client_id = out.user_pool_client().unwrap().client_id().unwrap().to_string();
    let d = describe_raw(&c, &pool.pool_id, &client_id).await;
    assert_eq!(d["AccessTokenValidity"], 3);
    assert_eq!(d["TokenValidityUnits"], json!({}));

    // Units must be units.
    expect_err(
        create(
            "bad",
            None,
            TokenValidityUnitsType::builder()
                .id_token(TimeUnitsType::from("weeks"))
                .build(),
        )
        .send()
        .await,
        "InvalidParameterException",
    );
}

/// create → describe → update → describe, as `terraform apply` does, then an update that sends
/// nothing but the name: UpdateUserPoolClient returns every member it is not sent to its default.
#[tokio::test]
async fn terraform_client_round_trip() {
    let c = Cognate::start().await;
    let pool = c.create_pool("terraform").await;
    let sent = json!({
        "AccessTokenValidity": 30,
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthFlowsUserPoolClient": true,
        "AllowedOAuthScopes": ["email", "openid"],
        "CallbackURLs": ["https://example.com/cb"],
        "ClientName": "full",
        "EnableTokenRevocation": false,
        "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"],
        "GenerateSecret": true,
        "IdTokenValidity": 30,
        "PreventUserExistenceErrors": "ENABLED",
        "ReadAttributes": ["email"],
        "RefreshTokenValidity": 7,
        "SupportedIdentityProviders": ["COGNITO"],
        "TokenValidityUnits": {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "days"},
        "UserPoolId": pool.pool_id
    });
    let created = c.call("CreateUserPoolClient", sent.clone()).await;
    let client_id = created["UserPoolClient"]["ClientId"].as_str().unwrap().to_string();
    let secret = created["UserPoolClient"]["ClientSecret"].clone();
    assert!(secret.is_string(), "GenerateSecret: {created}");
    let expected = as_described(&sent, always_reported());
    assert_eq!(settings_of(&created["UserPoolClient"]), expected);
    assert_eq!(
        settings_of(&describe_raw(&c, &pool.pool_id, &client_id).await),
        expected
    );

    // token_validity_units removed from the configuration: the provider sends Cognito's default
    // units, and everything else it holds in its state.
    let update = json!({
        "AccessTokenValidity": 1,
        "AllowedOAuthFlows": ["code"],
        "AllowedOAuthFlowsUserPoolClient": true,
        "AllowedOAuthScopes": ["email", "openid"],
        "AuthSessionValidity": 3,
        "CallbackURLs": ["https://example.com/cb"],
        "ClientId": client_id,
        "ClientName": "full",
        "EnablePropagateAdditionalUserContextData": false,
        "EnableTokenRevocation": false,
        "ExplicitAuthFlows": ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"],
        "IdTokenValidity": 1,
        "PreventUserExistenceErrors": "ENABLED",
        "ReadAttributes": ["email"],
        "RefreshTokenValidity": 7,
        "SupportedIdentityProviders": ["COGNITO"],
        "TokenValidityUnits": {"AccessToken": "hours", "IdToken": "hours", "RefreshToken": "days"},
        "UserPoolId": pool.pool_id
    });
    let updated = c.call("UpdateUserPoolClient", update.clone()).await;
    let expected = as_described(&update, always_reported());
    assert_eq!(settings_of(&updated["UserPoolClient"]), expected);
    let described = describe_raw(&c, &pool.pool_id, &client_id).await;
    assert_eq!(settings_of(&described), expected);
    assert_eq!(described["ClientSecret"], secret, "the secret stays");

    let update = json!({"UserPoolId": pool.pool_id, "ClientId": client_id, "ClientName": "renamed"});
    c.call("UpdateUserPoolClient", update.clone()).await;
    let described = describe_raw(&c, &pool.pool_id, &client_id).await;
    assert_eq!(settings_of(&described), as_described(&update, always_reported()));
    assert_eq!(described["ClientSecret"], secret);
}

#[tokio::test]
async fn client_secret_is_sealed_at_rest() {
    let c = Cognate::start().await;
    let pool = c.create_pool("sealed").await;
    let (client_id, secret) = c.create_client(&pool.pool_id, "confidential", true).await;
    let secret = secret.expect("GenerateSecret returns ClientSecret");
    let store = c.server().service().store().clone();
    let stored_text = |client: &cognate_core::model::AppClient| serde_json::to_string(client).unwrap();

    let stored = store.get_client(&client_id).await.unwrap().expect("stored client");
    assert!(stored.secret.is_some(), "the stored client still has a (sealed) secret");
    assert!(
        !stored_text(&stored).contains(&secret),
        "the stored client record holds the secret in clear"
    );

    let describe = || async {
        c.idp
            .describe_user_pool_client()
            .user_pool_id(&pool.pool_id)
            .client_id(&client_id)
            .send()
            .await
            .unwrap()
            .user_pool_client()
            .unwrap()
            .client_secret()
            .map(str::to_owned)
    };
    let sign_up = |name: &'static str| {
        c.idp
            .sign_up()
            .client_id(&client_id)
            .username(name)
            .password(PASSWORD)
            .secret_hash(secret_hash(&secret, name, &client_id))
            .user_attributes(attr("email", &format!("{name}@example.com")))
            .send()
    };
    assert_eq!(describe().await.as_deref(), Some(secret.as_str()));
    sign_up("sealed")
        .await
        .expect("SECRET_HASH checked against the sealed secret");

    // A client stored before secrets were sealed (secret in clear) keeps working…
    let mut legacy = stored.clone();
    legacy.secret = Some(secret.clone());
    store.put_client(&legacy).await.unwrap();
    assert_eq!(describe().await.as_deref(), Some(secret.as_str()));
    sign_up("legacy")
        .await
        .expect("SECRET_HASH checked against a secret in clear");

    // …and is sealed the next time it is saved.
    c.idp
        .update_user_pool_client()
        .user_pool_id(&pool.pool_id)
        .client_id(&client_id)
        .client_name("confidential")
        .send()
        .await
        .unwrap();
    let resealed = store.get_client(&client_id).await.unwrap().unwrap();
    assert!(resealed.secret.is_some());
    assert!(!stored_text(&resealed).contains(&secret));
    assert_eq!(describe().await.as_deref(), Some(secret.as_str()));
}
