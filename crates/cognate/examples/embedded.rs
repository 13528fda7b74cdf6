//! An embedded Cognate whose Lambda triggers are Rust closures.
//!
//! A pool named "Embedded" auto-confirms sign-ups (PreSignUp) and adds a `tenant` claim to the
//! ID token (PreTokenGeneration). The example signs a user up and in with the AWS SDK for Rust
//! and prints the ID token's claims.
//!
//! ```text
//! cargo run -p cognate --example embedded
//! ```
use aws_sdk_cognitoidentityprovider as idp;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cognate::events::{ClaimsOverrideDetails, PreSignUpEvent, PreTokenGenerationEvent};
use cognate::{App, Function, Triggers, UserPool};
use idp::config::{BehaviorVersion, Credentials, Region};
use idp::types::{AttributeType, AuthFlowType, ExplicitAuthFlowsType};
use std::collections::HashMap;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut app = App::new();
    let pool = UserPool::new(&mut app, "Embedded")
        .auto_verified_attributes(["email"])
        .lambda_triggers(Triggers {
            pre_sign_up: Some(Function::new(|mut ev: PreSignUpEvent| async move {
                if !ev.request.user_attributes.contains_key("email") {
                    return Err("an email address is required");
                }
                ev.response.auto_confirm_user = true;
                ev.response.auto_verify_email = true;
                Ok(ev)
            })),
            ..Default::default()
        });
    pool.on_pre_token_generation(Function::new(|mut ev: PreTokenGenerationEvent| async move {
        let domain = ev
            .request
            .user_attributes
            .get("email")
            .and_then(|e| e.split('@').nth(1));
        let tenant = domain.unwrap_or("unknown").to_owned();
        ev.response.claims_override_details = Some(ClaimsOverrideDetails {
            claims_to_add_or_override: Some(HashMap::from([("tenant".to_owned(), tenant)])),
            ..Default::default()
        });
        Ok::<_, String>(ev)
    }));

    let server = app.serve("127.0.0.1:0").await?;
    let pool_id = server.pool_id("Embedded").expect("a declared pool").to_owned();
    println!("Cognate at {}, pool {pool_id}", server.endpoint());

    let config = idp::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("local", "local", None, None, "example"))
        .endpoint_url(server.endpoint())
        .build();
    let cognito = idp::Client::from_conf(config);

    let client_id = cognito
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("example")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await?
        .user_pool_client()
        .and_then(|c| c.client_id())
        .expect("a client id")
        .to_owned();

    let password = "Passw0rd!Example";
    let signed_up = cognito
        .sign_up()
        .client_id(&client_id)
        .username("jane")
        .password(password)
        .user_attributes(
            AttributeType::builder()
                .name("email")
                .value("jane@example.com")
                .build()?,
        )
        .send()
        .await?;
    println!("signed up jane: confirmed = {}", signed_up.user_confirmed());

    let auth = cognito
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "jane")
        .auth_parameters("PASSWORD", password)
        .send()
        .await?;
    let id_token = auth
        .authentication_result()
        .and_then(|r| r.id_token())
        .expect("an ID token");
    let payload = id_token.split('.').nth(1).expect("a JWT");
    let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?;
    println!("ID token claims:\n{}", serde_json::to_string_pretty(&claims)?);
    assert_eq!(claims["tenant"], "example.com");

    server.shutdown().await;
    Ok(())
}
