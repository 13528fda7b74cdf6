//! serverless.yml fidelity: `resources` overrides and resources applied to the live server,
//! `existing: true` pools, `forceDeploy`, and what restarts keep or change. Each test copies a
//! fixture (`tests/sdk/fixtures/sls-*`) to a temporary folder, starts Cognate in-process on it
//! and drives it through the AWS SDK.

use std::path::{Path, PathBuf};

use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::types::{
    AttributeType, AuthFlowType, LambdaConfigType, UserPoolMfaType, UserPoolType, VerifiedAttributeType,
};
use cognate_sdk_tests::aws_sdk_cognitoidentityprovider::{self as idp};
use cognate_sdk_tests::cognate::{RunningServer, Storage};
use cognate_sdk_tests::triggers::fixture_dir;
use cognate_sdk_tests::*;
use serde_json::Value;

const ACCOUNT_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function";

/// A fixture copied to a temporary folder, with a data folder for restarts.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(fixture: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("cognate-sls-")
            .tempdir()
            .expect("temp dir");
        copy_dir(&fixture_dir(fixture), &dir.path().join("service"));
        Project { dir }
    }

    fn service(&self) -> PathBuf {
        self.dir.path().join("service")
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn edit(&self, f: impl FnOnce(String) -> String) {
        let path = self.service().join("serverless.yml");
        let yml = std::fs::read_to_string(&path).expect("serverless.yml");
        std::fs::write(&path, f(yml)).expect("write serverless.yml");
    }

    /// Starts Cognate on the project, keeping data in the project's data folder.
    async fn start(&self) -> anyhow::Result<Sls> {
        Sls::start(Some(self.service()), Storage::Data(self.data())).await
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create fixture copy");
    for entry in std::fs::read_dir(from).expect("read fixture") {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy fixture file");
        }
    }
}

/// Replaces the line holding `marker` (`key: ... # marker`) with `key: value`, dropping the
/// block nested under it.
fn replace_block(yml: &str, marker: &str, value: &str) -> String {
    let mut out = Vec::new();
    let mut skip_deeper_than: Option<usize> = None;
    for line in yml.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(d) = skip_deeper_than {
            if line.trim().is_empty() || indent > d {
                continue;
            }
            skip_deeper_than = None;
        }
        if line.contains(marker) {
            let key = line.split(':').next().expect("key");
            out.push(format!("{key}: {value}"));
            skip_deeper_than = Some(indent);
        } else {
            out.push(line.to_owned());
        }
    }
    assert!(yml.contains(marker), "no {marker} in the fixture");
    out.join("\n") + "\n"
}

/// A running server plus an SDK client.
struct Sls {
    server: RunningServer,
    idp: idp::Client,
    http: reqwest::Client,
}

impl Sls {
    async fn start(config: Option<PathBuf>, storage: Storage) -> anyhow::Result<Self> {
        let mut opts = base_options();
        opts.config = config;
        opts.storage = storage;
        let server = cognate_sdk_tests::cognate::start(opts).await?;
        let idp = sdk_client(&server.endpoint());
        Ok(Sls {
            server,
            idp,
            http: reqwest::Client::new(),
        })
    }

    fn pool_id(&self, name: &str) -> String {
        self.server
            .pool_id(name)
            .unwrap_or_else(|| panic!("no pool {name:?} in {:?}", self.server.pool_ids()))
            .to_owned()
    }

    fn client_id(&self, logical_id: &str) -> String {
        self.server
            .client_id(logical_id)
            .unwrap_or_else(|| panic!("no client {logical_id:?}"))
            .to_owned()
    }

    async fn pool(&self, id: &str) -> UserPoolType {
        self.idp
            .describe_user_pool()
            .user_pool_id(id)
            .send()
            .await
            .expect("DescribeUserPool")
            .user_pool
            .expect("UserPool")
    }

    async fn messages(&self, to: &str) -> Vec<Value> {
        let v: Value = self
            .http
            .get(format!("{}/_cognate/messages", self.server.endpoint()))
            .query(&[("to", to)])
            .send()
            .await
            .expect("outbox")
            .json()
            .await
            .expect("outbox JSON");
        v.as_array()
            .expect("array")
            .iter()
            .filter(|m| m["to"] == to)
            .cloned()
            .collect()
    }

    async fn stop(self) {
        self.server.shutdown().await;
    }
}

fn lambda_config(pool: &UserPoolType) -> LambdaConfigType {
    pool.lambda_config().cloned().expect("LambdaConfig")
}

fn arn(service: &str, key: &str) -> String {
    format!("{ACCOUNT_ARN}:{service}-dev-{key}")
}

#[tokio::test]
async fn override_pool_email_username_custom_templates_end_to_end() {
    let project = Project::new("sls-override");
    let sls = project.start().await.expect("start");
    let pool_id = sls.pool_id("MyUserPool");
    let client_id = sls.client_id("WebClient");

    // The overrides reached the live pool, with CloudFormation's strings coerced.
    let pool = sls.pool(&pool_id).await;
    assert_eq!(pool.name(), Some("MyUserPool"));
    assert_eq!(
        pool.username_attributes()
            .iter()
            .map(|a| a.as_str())
            .collect::<Vec<_>>(),
        ["email"]
    );
    assert_eq!(pool.auto_verified_attributes(), [VerifiedAttributeType::Email]);
    let pp = pool
        .policies()
        .and_then(|p| p.password_policy())
        .expect("PasswordPolicy");
    assert_eq!(pp.minimum_length(), Some(10));
    assert!(!pp.require_symbols());
    // CloudFormation sends CreateUserPool the policy the template has: what it leaves out is
    // false, not Cognito's default for a pool without a policy.
    assert!(!pp.require_uppercase());
    let plan = pool
        .schema_attributes()
        .iter()
        .find(|a| a.name() == Some("custom:plan"))
        .expect("custom:plan");
    assert_eq!(plan.mutable(), Some(true));
    assert_eq!(
        plan.string_attribute_constraints().and_then(|c| c.max_length()),
        Some("64")
    );
    assert_eq!(
        pool.user_pool_tags().and_then(|t| t.get("Stage")).map(String::as_str),
        Some("dev")
    );
    let lc = lambda_config(&pool);
    assert_eq!(lc.pre_sign_up(), Some(arn("sls-override", "preSignUp").as_str()));
    assert_eq!(
        lc.post_confirmation(),
        Some(arn("sls-override", "postConfirmation").as_str())
    );

    // Sign up with the email as username: the code comes from the custom template.
    let password = "Passw0rdNoSymbol";
    let out = sls
        .idp
        .sign_up()
        .client_id(&client_id)
        .username("ann@example.com")
        .password(password)
        .user_attributes(attr("email", "ann@example.com"))
        .user_attributes(attr("custom:plan", "pro"))
        .send()
        .await
        .expect("SignUp (runs the Node PreSignUp handler)");
    assert!(!out.user_confirmed());
    let msgs = sls.messages("ann@example.com").await;
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    let body = msgs[0]["body"].as_str().expect("body");
    assert!(body.starts_with("email message: "), "{body}");
    assert!(
        msgs[0]["subject"]
            .as_str()
            .is_some_and(|s| s.starts_with("email subject: ")),
        "{:?}",
        msgs[0]
    );
    let code = extract_code(body).expect("code");
    sls.idp
        .confirm_sign_up()
        .client_id(&client_id)
        .username("ann@example.com")
        .confirmation_code(code)
        .send()
        .await
        .expect("ConfirmSignUp (runs the Python PostConfirmation handler)");
    let auth = sls
        .idp
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "ann@example.com")
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .expect("InitiateAuth");
    let tokens = auth.authentication_result().expect("tokens");
    let id = decode_jwt(tokens.id_token().expect("id token"));
    assert_eq!(id.claims["email"], "ann@example.com");
    assert_eq!(id.claims["email_verified"], true);
    assert!(
        is_uuid(id.claims["cognito:username"].as_str().expect("username")),
        "email is an alias of a UUID username: {}",
        id.claims
    );
    sls.stop().await;

    // The trigger removed from the file is removed from the pool on restart; ids and users stay.
    project.edit(|y| replace_block(&y, "# __POST_CONFIRMATION_EVENTS__", "[]"));
    let sls = project.start().await.expect("restart");
    assert_eq!(sls.pool_id("MyUserPool"), pool_id);
    assert_eq!(sls.client_id("WebClient"), client_id);
    let pool = sls.pool(&pool_id).await;
    let lc = lambda_config(&pool);
    assert_eq!(lc.pre_sign_up(), Some(arn("sls-override", "preSignUp").as_str()));
    assert_eq!(lc.post_confirmation(), None);
    assert_eq!(pool.username_attributes().len(), 1);
    sls.idp
        .initiate_auth()
        .client_id(&client_id)
        .auth_flow(AuthFlowType::UserPasswordAuth)
        .auth_parameters("USERNAME", "ann@example.com")
        .auth_parameters("PASSWORD", password)
        .send()
        .await
        .expect("the user survives the restart");
    sls.stop().await;
}

fn user_attr(attrs: &[AttributeType], name: &str) -> Option<String> {
    attr_value(attrs, name)
}

#[tokio::test]
async fn resources_are_created_with_refs_resolved_and_keep_ids_on_restart() {
    let project = Project::new("sls-resources");
    let sls = project.start().await.expect("start");
    let main = sls.pool_id("Main");
    let backoffice = sls.pool_id("sls-resources-backoffice-dev");
    assert_ne!(main, backoffice);
    assert_eq!(sls.server.resource_id("CognitoUserPoolMain"), Some(main.as_str()));
    assert_eq!(sls.server.resource_id("Domain"), Some("sls-resources-test"));

    // The generated pool: the override's LambdaConfig merged with the generated trigger.
    let pool = sls.pool(&main).await;
    let lc = lambda_config(&pool);
    let fn_arn = arn("sls-resources", "preSignUp");
    assert_eq!(lc.pre_sign_up(), Some(fn_arn.as_str()));
    assert_eq!(lc.post_confirmation(), Some(fn_arn.as_str()));
    assert_eq!(pool.alias_attributes().len(), 1);

    // A pool declared on its own, with EnabledMfas applied through SetUserPoolMfaConfig.
    let bo = sls.pool(&backoffice).await;
    assert!(
        bo.admin_create_user_config()
            .is_some_and(|c| c.allow_admin_create_user_only())
    );
    let mfa = sls
        .idp
        .get_user_pool_mfa_config()
        .user_pool_id(&backoffice)
        .send()
        .await
        .expect("GetUserPoolMfaConfig");
    assert_eq!(mfa.mfa_configuration(), Some(&UserPoolMfaType::Optional));
    assert!(mfa.software_token_mfa_configuration().is_some_and(|c| c.enabled()));

    // Clients: Ref / Fn::GetAtt / Fn::Sub resolved, strings coerced.
    let secret_client = sls.client_id("SecretClient");
    let c = sls
        .idp
        .describe_user_pool_client()
        .user_pool_id(&main)
        .client_id(&secret_client)
        .send()
        .await
        .expect("DescribeUserPoolClient")
        .user_pool_client
        .expect("client");
    assert_eq!(c.client_name(), Some("server"));
    assert_eq!(c.refresh_token_validity(), 10);
    // Its scope is the resource server's, applied first although the template lists it later.
    assert_eq!(c.allowed_o_auth_scopes(), ["orders/read"]);
    let secret = c.client_secret().expect("GenerateSecret: 'true'").to_owned();
    let orders = sls
        .idp
        .describe_resource_server()
        .user_pool_id(&main)
        .identifier("orders")
        .send()
        .await
        .expect("DescribeResourceServer")
        .resource_server
        .expect("resource server");
    assert_eq!(orders.name(), Some("Orders API"));
    assert_eq!(orders.scopes().len(), 1);
    assert_eq!(pool.domain(), Some("sls-resources-test"));
    let style = sls
        .idp
        .get_ui_customization()
        .user_pool_id(&main)
        .client_id(&secret_client)
        .send()
        .await
        .expect("GetUICustomization");
    let style = style.ui_customization().expect("UICustomization");
    assert_eq!(style.client_id(), Some(secret_client.as_str()));
    assert_eq!(style.css(), Some(".label-customizable { font-weight: 400; }"));
    let bo_client = sls.client_id("BackofficeClient");
    let c = sls
        .idp
        .describe_user_pool_client()
        .user_pool_id(&backoffice)
        .client_id(&bo_client)
        .send()
        .await
        .expect("the backoffice client is in the backoffice pool")
        .user_pool_client
        .expect("client");
    assert_eq!(c.client_name(), Some("sls-resources-dev-backoffice"));
    assert!(c.client_secret().is_none());

    // The group: parameter default, coerced precedence, placeholder role ARN, and Fn::Sub of
    // pool id / ARN / provider URL, client id and KMS key ARN.
    let g = sls
        .idp
        .get_group()
        .user_pool_id(&main)
        .group_name("admins")
        .send()
        .await
        .expect("GetGroup")
        .group
        .expect("group");
    assert_eq!(g.precedence(), Some(1));
    assert_eq!(g.role_arn(), Some("arn:aws:iam::123456789012:role/sls-admins"));
    let keys = sls.server.kms_keys().to_vec();
    assert_eq!(keys.len(), 1);
    assert!(
        keys[0].starts_with("arn:aws:kms:us-east-1:123456789012:key/") && is_uuid(&keys[0][39..]),
        "{keys:?}"
    );
    let issuer = format!("{}/{main}", sls.server.endpoint());
    assert_eq!(
        g.description(),
        Some(
            format!(
                "pool={main} arn=arn:aws:cognito-idp:us-east-1:123456789012:userpool/{main} client={secret_client} key={} issuer={issuer}",
                keys[0]
            )
            .as_str()
        )
    );

    // The user, created without a message, and in the group.
    let u = sls
        .idp
        .admin_get_user()
        .user_pool_id(&main)
        .username("alice")
        .send()
        .await
        .expect("AdminGetUser");
    assert_eq!(
        user_attr(u.user_attributes(), "email").as_deref(),
        Some("alice@example.com")
    );
    assert_eq!(
        user_attr(u.user_attributes(), "email_verified").as_deref(),
        Some("true")
    );
    assert!(sls.messages("alice@example.com").await.is_empty());
    let groups = sls
        .idp
        .admin_list_groups_for_user()
        .user_pool_id(&main)
        .username("alice")
        .send()
        .await
        .expect("AdminListGroupsForUser");
    assert_eq!(
        groups
            .groups()
            .iter()
            .filter_map(|g| g.group_name())
            .collect::<Vec<_>>(),
        ["admins"]
    );
    sls.stop().await;

    // Restart: same ids, same secret, nothing duplicated; the override's trigger removed from
    // the file is gone from the pool.
    project.edit(|y| replace_block(&y, "# __MAIN_LAMBDA_CONFIG__", "{}"));
    let sls = project.start().await.expect("restart");
    assert_eq!(sls.pool_id("Main"), main);
    assert_eq!(sls.pool_id("sls-resources-backoffice-dev"), backoffice);
    assert_eq!(sls.client_id("SecretClient"), secret_client);
    assert_eq!(sls.client_id("BackofficeClient"), bo_client);
    assert_eq!(sls.server.kms_keys(), keys);
    let c = sls
        .idp
        .describe_user_pool_client()
        .user_pool_id(&main)
        .client_id(&secret_client)
        .send()
        .await
        .expect("DescribeUserPoolClient")
        .user_pool_client
        .expect("client");
    assert_eq!(c.client_secret(), Some(secret.as_str()));
    for pool in [&main, &backoffice] {
        let clients = sls
            .idp
            .list_user_pool_clients()
            .user_pool_id(pool)
            .max_results(60)
            .send()
            .await
            .expect("ListUserPoolClients");
        assert_eq!(clients.user_pool_clients().len(), 1, "no duplicate client");
    }
    let users = sls
        .idp
        .list_users()
        .user_pool_id(&main)
        .send()
        .await
        .expect("ListUsers");
    assert_eq!(users.users().len(), 1);
    let pools = sls
        .idp
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("ListUserPools");
    assert_eq!(pools.user_pools().len(), 2, "no duplicate pool");
    let lc = lambda_config(&sls.pool(&main).await);
    assert_eq!(lc.pre_sign_up(), Some(fn_arn.as_str()));
    assert_eq!(lc.post_confirmation(), None);
    sls.stop().await;
}

#[tokio::test]
async fn existing_pool_attach_keeps_other_settings_and_triggers() {
    let project = Project::new("sls-existing");
    let theirs = format!("{ACCOUNT_ARN}:someone-else");
    let ours_psu = arn("sls-existing", "preSignUp");
    let ours_cm = arn("sls-existing", "customMessage");

    // The pool is made beforehand through the API, with a trigger of its own.
    let api = Sls::start(None, Storage::Data(project.data()))
        .await
        .expect("start without config");
    let pool_id = api
        .idp
        .create_user_pool()
        .pool_name("Legacy")
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .email_verification_message("legacy code {####}")
        .lambda_config(LambdaConfigType::builder().post_confirmation(&theirs).build())
        .send()
        .await
        .expect("CreateUserPool")
        .user_pool
        .and_then(|p| p.id)
        .expect("pool id");
    api.idp
        .set_user_pool_mfa_config()
        .user_pool_id(&pool_id)
        .mfa_configuration(UserPoolMfaType::Optional)
        .software_token_mfa_configuration(idp::types::SoftwareTokenMfaConfigType::builder().enabled(true).build())
        .send()
        .await
        .expect("SetUserPoolMfaConfig");
    api.stop().await;

    let sls = project.start().await.expect("start with existing pool");
    assert_eq!(sls.pool_id("Legacy"), pool_id, "the pool keeps its id");
    let pool = sls.pool(&pool_id).await;
    let lc = lambda_config(&pool);
    assert_eq!(lc.post_confirmation(), Some(theirs.as_str()), "other triggers kept");
    assert_eq!(lc.pre_sign_up(), Some(ours_psu.as_str()));
    assert_eq!(lc.custom_message(), Some(ours_cm.as_str()));
    assert_eq!(pool.auto_verified_attributes(), [VerifiedAttributeType::Email]);
    assert_eq!(pool.email_verification_message(), Some("legacy code {####}"));
    assert_eq!(pool.mfa_configuration(), Some(&UserPoolMfaType::Optional));
    let mfa = sls
        .idp
        .get_user_pool_mfa_config()
        .user_pool_id(&pool_id)
        .send()
        .await
        .expect("GetUserPoolMfaConfig");
    assert!(
        mfa.software_token_mfa_configuration().is_some_and(|c| c.enabled()),
        "MFA settings kept: {mfa:?}"
    );
    let modified = pool.last_modified_date().cloned();
    sls.stop().await;

    // The same config again changes nothing.
    let sls = project.start().await.expect("restart");
    let pool = sls.pool(&pool_id).await;
    assert_eq!(pool.last_modified_date().cloned(), modified);
    assert_eq!(sls.server.pool_ids().len(), 1, "nothing created");

    // Someone removes our PreSignUp through the API. Without forceDeploy an unchanged config
    // is not re-applied (Serverless's custom resource only runs when its properties change).
    sls.idp
        .update_user_pool()
        .user_pool_id(&pool_id)
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .email_verification_message("legacy code {####}")
        .mfa_configuration(UserPoolMfaType::Optional)
        .lambda_config(
            LambdaConfigType::builder()
                .post_confirmation(&theirs)
                .custom_message(&ours_cm)
                .build(),
        )
        .send()
        .await
        .expect("UpdateUserPool");
    sls.stop().await;
    let sls = project.start().await.expect("restart");
    assert_eq!(lambda_config(&sls.pool(&pool_id).await).pre_sign_up(), None);
    sls.stop().await;

    // forceDeploy re-applies on every start: the trigger comes back.
    project.edit(|y| y.replace("# __FORCE_DEPLOY__", "forceDeploy: true"));
    let sls = project.start().await.expect("restart with forceDeploy");
    let lc = lambda_config(&sls.pool(&pool_id).await);
    assert_eq!(lc.pre_sign_up(), Some(ours_psu.as_str()));
    assert_eq!(lc.custom_message(), Some(ours_cm.as_str()));
    assert_eq!(lc.post_confirmation(), Some(theirs.as_str()));
    sls.stop().await;

    // A trigger removed from the file is removed from the pool; the others stay.
    project.edit(|y| replace_block(&y, "# __CUSTOM_MESSAGE_EVENTS__", "[]"));
    let sls = project.start().await.expect("restart without CustomMessage");
    let pool = sls.pool(&pool_id).await;
    let lc = lambda_config(&pool);
    assert_eq!(lc.custom_message(), None);
    assert_eq!(lc.pre_sign_up(), Some(ours_psu.as_str()));
    assert_eq!(lc.post_confirmation(), Some(theirs.as_str()));
    assert_eq!(pool.email_verification_message(), Some("legacy code {####}"));
    sls.stop().await;

    // No existing event left at all: our last trigger goes, the pool and its own trigger stay.
    project.edit(|y| replace_block(&y, "# __PRE_SIGN_UP_EVENTS__", "[]"));
    let sls = project.start().await.expect("restart without events");
    let lc = lambda_config(&sls.pool(&pool_id).await);
    assert_eq!(lc.pre_sign_up(), None);
    assert_eq!(lc.custom_message(), None);
    assert_eq!(lc.post_confirmation(), Some(theirs.as_str()));
    sls.stop().await;
}

#[tokio::test]
async fn missing_existing_pool_fails_the_start_naming_it() {
    let project = Project::new("sls-existing");
    let err = match project.start().await {
        Ok(_) => panic!("start must fail when the existing pool is missing"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("\"Legacy\""), "{err}");
    assert!(err.contains("does not exist"), "{err}");

    // Nothing was created.
    let sls = Sls::start(None, Storage::Data(project.data())).await.expect("start");
    let pools = sls
        .idp
        .list_user_pools()
        .max_results(60)
        .send()
        .await
        .expect("ListUserPools");
    assert!(pools.user_pools().is_empty());
    sls.stop().await;
}
