//! App clients: CreateUserPoolClient, DescribeUserPoolClient, UpdateUserPoolClient,
//! DeleteUserPoolClient and ListUserPoolClients. The settings members, their checks and how
//! sign-in reads them are in `settings.rs`.
pub mod oauth;
pub mod settings;

pub use settings::{
    CLIENT_SETTINGS_MEMBERS, ClientSettings, TokenValidityUnits, flow_allowed, rotation_grace_secs, token_validity_secs,
};

use crate::error::{Error, Result};
use crate::model::{AppClient, UserPool};
use crate::ops::types::Timestamp;
use crate::ops::{Empty, Input};
use crate::request::{Request, encode_page_token};
use crate::service::{Cognito, LOWER_ALNUM};
use serde::Serialize;
use serde_json::{Map, Value};
use settings::{apply_defaults, given_settings, validate_settings};

// ---- inputs ------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateUserPoolClientInput {
    pub user_pool_id: String,
    pub client_name: String,
    pub generate_secret: bool,
    pub settings: ClientSettings,
}

/// UpdateUserPoolClient: like Cognito, settings left out return to their defaults; a name
/// left out stays.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateUserPoolClientInput {
    pub user_pool_id: String,
    pub client_id: String,
    pub client_name: Option<String>,
    pub settings: ClientSettings,
}

/// DescribeUserPoolClient, DeleteUserPoolClient.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientRef {
    pub user_pool_id: String,
    pub client_id: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListUserPoolClientsInput {
    pub user_pool_id: String,
    /// 1–60.
    pub max_results: usize,
    pub next_token: Option<String>,
}

impl Input for CreateUserPoolClientInput {
    fn decode(req: &Request) -> Result<Self> {
        let user_pool_id = req.pool_id()?;
        let client_name = req.str("ClientName")?;
        crate::request::check_name("clientName", &client_name)?;
        validate_settings(&given_settings(req))?;
        Ok(Self {
            user_pool_id,
            client_name,
            generate_secret: req.opt_bool("GenerateSecret")?.unwrap_or(false),
            settings: ClientSettings::read(req)?,
        })
    }
}

impl Input for UpdateUserPoolClientInput {
    fn decode(req: &Request) -> Result<Self> {
        let user_pool_id = req.pool_id()?;
        let client_id = req.str("ClientId")?;
        let client_name = req.opt_str("ClientName")?;
        if let Some(name) = &client_name {
            crate::request::check_name("clientName", name)?;
        }
        validate_settings(&given_settings(req))?;
        Ok(Self {
            user_pool_id,
            client_id,
            client_name,
            settings: ClientSettings::read(req)?,
        })
    }
}

impl Input for ClientRef {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            client_id: req.str("ClientId")?,
        })
    }
}

impl Input for ListUserPoolClientsInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            max_results: req.limit("MaxResults", 60, 60)?.max(1),
            next_token: req.page_token("NextToken")?,
        })
    }
}

/// Read and write attributes must be in the pool's schema; write attributes must be mutable.
fn check_attribute_names(pool: &UserPool, settings: &ClientSettings) -> Result<()> {
    let read = settings.read_attributes.as_deref().unwrap_or_default();
    let write = settings.write_attributes.as_deref().unwrap_or_default();
    for (list, kind) in [(read, "read"), (write, "write")] {
        if let Some(name) = list.iter().find(|name| pool.schema_attribute(name).is_none()) {
            return Err(Error::invalid_parameter(format!("Invalid {kind} attribute: {name}")));
        }
    }
    for name in write {
        let mutable = pool
            .schema_attribute(name)
            .and_then(|a| a.get("Mutable").and_then(Value::as_bool))
            .unwrap_or(true);
        if !mutable || name == "sub" {
            return Err(Error::invalid_parameter(format!(
                "Invalid write attributes specified while creating a client: {name} is immutable"
            )));
        }
    }
    Ok(())
}

// ---- outputs -----------------------------------------------------------------------------

/// UserPoolClientType, as Create/Describe/UpdateUserPoolClient answer it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolClientType {
    pub user_pool_id: String,
    pub client_name: String,
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub last_modified_date: Timestamp,
    pub creation_date: Timestamp,
    /// The client's settings members (ExplicitAuthFlows, token validities, …) exactly as the
    /// client stores them.
    #[serde(flatten)]
    pub settings: Map<String, Value>,
}

impl From<&AppClient> for UserPoolClientType {
    fn from(client: &AppClient) -> Self {
        Self {
            user_pool_id: client.pool_id.clone(),
            client_name: client.name.clone(),
            client_id: client.client_id.clone(),
            client_secret: client.secret.clone(),
            last_modified_date: Timestamp(client.modified_ms),
            creation_date: Timestamp(client.created_ms),
            settings: client.settings.clone(),
        }
    }
}

/// CreateUserPoolClient, DescribeUserPoolClient, UpdateUserPoolClient.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolClientOutput {
    pub user_pool_client: UserPoolClientType,
}

/// UserPoolClientDescription.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolClientDescription {
    pub client_id: String,
    pub user_pool_id: String,
    pub client_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUserPoolClientsOutput {
    pub user_pool_clients: Vec<UserPoolClientDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

// ---- operations --------------------------------------------------------------------------

impl Cognito {
    pub async fn create_user_pool_client(&self, input: CreateUserPoolClientInput) -> Result<UserPoolClientOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        check_attribute_names(&pool, &input.settings)?;
        oauth::check_flows(&input.settings, input.generate_secret)?;
        self.check_scopes(&pool.id, &input.settings).await?;
        self.check_identity_providers(&pool.id, &input.settings).await?;
        let mut settings = input.settings.to_map();
        apply_defaults(&mut settings);
        let secret = input.generate_secret.then(|| self.random_string(LOWER_ALNUM, 51));
        let now = self.now_ms();
        let client = AppClient {
            pool_id: pool.id.clone(),
            client_id: self.random_string(LOWER_ALNUM, 26),
            name: input.client_name,
            secret,
            created_ms: now,
            modified_ms: now,
            settings,
        };
        self.put_client(&client).await?;
        Ok(UserPoolClientOutput {
            user_pool_client: (&client).into(),
        })
    }

    pub async fn describe_user_pool_client(&self, input: ClientRef) -> Result<UserPoolClientOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let client = self.client_of(&pool.id, &input.client_id).await?;
        Ok(UserPoolClientOutput {
            user_pool_client: (&client).into(),
        })
    }

    pub async fn update_user_pool_client(&self, input: UpdateUserPoolClientInput) -> Result<UserPoolClientOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let mut client = self.client_of(&pool.id, &input.client_id).await?;
        if let Some(name) = input.client_name {
            client.name = name;
        }
        check_attribute_names(&pool, &input.settings)?;
        oauth::check_flows(&input.settings, client.secret.is_some())?;
        self.check_scopes(&pool.id, &input.settings).await?;
        self.check_identity_providers(&pool.id, &input.settings).await?;
        let mut settings = input.settings.to_map();
        apply_defaults(&mut settings);
        client.settings = settings;
        client.modified_ms = self.now_ms();
        self.put_client(&client).await?;
        Ok(UserPoolClientOutput {
            user_pool_client: (&client).into(),
        })
    }

    pub async fn delete_user_pool_client(&self, input: ClientRef) -> Result<Empty> {
        let pool = self.pool(&input.user_pool_id).await?;
        let client = self.client_of(&pool.id, &input.client_id).await?;
        self.store.delete_client(&client.client_id).await?;
        self.forget_ui_customization(&pool.id, &client.client_id).await?;
        Ok(Empty {})
    }

    pub async fn list_user_pool_clients(&self, input: ListUserPoolClientsInput) -> Result<ListUserPoolClientsOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let page = self
            .store
            .list_clients(&pool.id, input.next_token.as_deref(), input.max_results)
            .await?;
        Ok(ListUserPoolClientsOutput {
            user_pool_clients: page
                .items
                .iter()
                .map(|c| UserPoolClientDescription {
                    client_id: c.client_id.clone(),
                    user_pool_id: c.pool_id.clone(),
                    client_name: c.name.clone(),
                })
                .collect(),
            next_token: page.next.as_deref().map(encode_page_token),
        })
    }
}
