//! Several `cognate serve` processes on one PostgreSQL database, driven through the AWS SDK for
//! Rust: what one node does, every other node sees; races between nodes end as they would on
//! one node; a node killed, or the database's connections cut, lose nothing acknowledged.
//!
//! Each test creates a database of its own on the test server (127.0.0.1:5432, or
//! `COGNATE_TEST_POSTGRES_URL`) and drops it when it ends, also when it fails. When PostgreSQL
//! cannot be reached, each test prints why and is skipped. Nothing is timed: the tests count,
//! rendezvous and poll with generous limits.
mod challenges;
mod cluster;
mod config_apply;
mod counters;
mod faults;
mod flows;
mod issuer;
mod races;

use aws_sdk_cognitoidentityprovider as idp;
use cluster::Node;
use idp::error::ProvideErrorMetadata;
use idp::types::{AttributeType, AuthFlowType, ExplicitAuthFlowsType, VerifiedAttributeType};

pub const PASSWORD: &str = "Passw0rd!Initial";

/// A pool and an app client (password, SRP and refresh flows, no secret).
#[derive(Clone, Debug)]
pub struct TestPool {
    pub pool_id: String,
    pub client_id: String,
}

/// A pool that verifies email (codes go to the shared outbox), made through `node`.
pub async fn create_pool(node: &Node, name: &str) -> TestPool {
    let pool = node
        .idp
        .create_user_pool()
        .pool_name(name)
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .send()
        .await
        .expect("CreateUserPool");
    let pool_id = pool.user_pool().and_then(|p| p.id()).expect("pool id").to_owned();
    let client = node
        .idp
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("app")
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .expect("CreateUserPoolClient");
    let client_id = client
        .user_pool_client()
        .and_then(|c| c.client_id())
        .expect("client id")
        .to_owned();
    TestPool { pool_id, client_id }
}

pub fn attr(name: &str, value: &str) -> AttributeType {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .expect("attribute")
}

/// SignUp of `username` (email `username@example.com`) through `node`.
pub async fn sign_up(
    node: &Node,
    pool: &TestPool,
    username: &str,
) -> Result<(), idp::error::SdkError<idp::operation::sign_up::SignUpError>> {
    node.idp
        .sign_up()
        .client_id(&pool.client_id)
        .username(username)
        .password(PASSWORD)
        .user_attributes(attr("email", &format!("{username}@example.com")))
        .send()
        .await
        .map(drop)
}

/// USER_PASSWORD_AUTH through `node`.
pub async fn sign_in(
    node: &Node,
    pool: &TestPool,
    username: &str,
    password: &str,
) -> Result<
    idp::operation::initiate_auth::InitiateAuthOutput,
    idp::error::SdkError<idp::operation::initiate_auth::InitiateAuthError>,
> {
    node.idp
        .initiate_auth()
        .client_id(&pool.client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", username)
        .auth_parameters("PASSWORD", password)
        .send()
        .await
}

/// A confirmed user with [`PASSWORD`] and a verified email, made through `node`.
pub async fn admin_user(node: &Node, pool: &TestPool, username: &str) {
    node.idp
        .admin_create_user()
        .user_pool_id(&pool.pool_id)
        .username(username)
        .message_action(idp::types::MessageActionType::Suppress)
        .user_attributes(attr("email", &format!("{username}@example.com")))
        .user_attributes(attr("email_verified", "true"))
        .send()
        .await
        .expect("AdminCreateUser");
    node.idp
        .admin_set_user_password()
        .user_pool_id(&pool.pool_id)
        .username(username)
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .expect("AdminSetUserPassword");
}

/// The AWS error code and message of a failed call; panics on success or on an error without
/// an AWS error body (a transport failure, a timeout, an unshaped answer).
#[track_caller]
pub fn aws_error<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(r: Result<T, E>) -> (String, String) {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => match e.code() {
            Some(code) => (code.to_owned(), e.message().unwrap_or_default().to_owned()),
            None => panic!("an error without an AWS error body: {e:?}"),
        },
    }
}

/// Usernames of a pool, read through `node` (every page).
pub async fn usernames(node: &Node, pool: &TestPool) -> Vec<String> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = node
            .idp
            .list_users()
            .user_pool_id(&pool.pool_id)
            .set_pagination_token(token.clone())
            .send()
            .await
            .expect("ListUsers");
        names.extend(out.users().iter().filter_map(|u| u.username().map(str::to_owned)));
        match out.pagination_token() {
            Some(t) => token = Some(t.to_owned()),
            None => return names,
        }
    }
}
