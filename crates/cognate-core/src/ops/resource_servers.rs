//! Resource servers: CreateResourceServer, DescribeResourceServer, UpdateResourceServer,
//! DeleteResourceServer and ListResourceServers. A resource server names an API (its
//! `Identifier`) and the custom scopes it defines; app clients may allow `identifier/scope`.
use crate::error::{Error, ErrorKind, Result};
use crate::ops::{Empty, Input};
use crate::request::{Request, encode_page_token, is_name_char};
use crate::service::Cognito;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Store name prefix of a resource server in its pool's scope.
const KEY_PREFIX: &str = "resource-server/";

/// Cognito's quotas: resource servers per pool, custom scopes per resource server.
const MAX_RESOURCE_SERVERS: usize = 25;
const MAX_SCOPES: usize = 100;

// ---- inputs ------------------------------------------------------------------------------

/// CreateResourceServer and UpdateResourceServer (an update replaces name and scopes).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceServerInput {
    pub user_pool_id: String,
    pub identifier: String,
    pub name: String,
    pub scopes: Vec<ResourceServerScope>,
}

pub type CreateResourceServerInput = ResourceServerInput;
pub type UpdateResourceServerInput = ResourceServerInput;

/// DescribeResourceServer and DeleteResourceServer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceServerRef {
    pub user_pool_id: String,
    pub identifier: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListResourceServersInput {
    pub user_pool_id: String,
    pub max_results: usize,
    pub next_token: Option<String>,
}

/// ResourceServerScopeType.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceServerScope {
    pub scope_name: String,
    pub scope_description: String,
}

/// A string member of 1–256 characters whose characters all pass `allowed` (the model's
/// pattern, named in the message).
fn checked(member: &str, value: String, allowed: fn(char) -> bool, pattern: &str) -> Result<String> {
    let length = value.chars().count();
    if length == 0 {
        let constraint = "Member must have length greater than or equal to 1";
        return Err(Error::constraint(member, &value, constraint));
    }
    if length > 256 {
        let constraint = "Member must have length less than or equal to 256";
        return Err(Error::constraint(member, &value, constraint));
    }
    if !value.chars().all(allowed) {
        let constraint = format!("Member must satisfy regular expression pattern: {pattern}");
        return Err(Error::constraint(member, &value, &constraint));
    }
    Ok(value)
}

/// `[\x21\x23-\x5B\x5D-\x7E]+`: printable ASCII except space, `"` and `\`.
fn identifier_char(c: char) -> bool {
    matches!(c, '\x21' | '\x23'..='\x5B' | '\x5D'..='\x7E')
}

/// `[\x21\x23-\x2E\x30-\x5B\x5D-\x7E]+`: as an identifier, and no `/`.
fn scope_name_char(c: char) -> bool {
    identifier_char(c) && c != '/'
}

fn decode_identifier(req: &Request) -> Result<String> {
    checked(
        "identifier",
        req.str("Identifier")?,
        identifier_char,
        "[\\x21\\x23-\\x5B\\x5D-\\x7E]+",
    )
}

fn decode_scopes(req: &Request) -> Result<Vec<ResourceServerScope>> {
    let Some(list) = req.raw("Scopes") else {
        return Ok(Vec::new());
    };
    let Value::Array(items) = list else {
        return Err(Error::new(
            ErrorKind::SerializationException,
            "Unexpected value type for member 'Scopes': expected list",
        ));
    };
    if items.len() > MAX_SCOPES {
        return Err(Error::constraint(
            "scopes",
            &format!("[{} scopes]", items.len()),
            "Member must have length less than or equal to 100",
        ));
    }
    let mut scopes = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let Value::Object(m) = item else {
            return Err(Error::new(
                ErrorKind::SerializationException,
                "Unexpected value type for member 'Scopes': expected structure",
            ));
        };
        let at = |field: &str| format!("scopes.{}.member.{field}", i + 1);
        let inner = Request(m.clone());
        let scope_name = inner
            .opt_str("ScopeName")?
            .ok_or_else(|| Error::missing(&at("scopeName")))?;
        let scope_description = inner
            .opt_str("ScopeDescription")?
            .ok_or_else(|| Error::missing(&at("scopeDescription")))?;
        scopes.push(ResourceServerScope {
            scope_name: checked(
                &at("scopeName"),
                scope_name,
                scope_name_char,
                "[\\x21\\x23-\\x2E\\x30-\\x5B\\x5D-\\x7E]+",
            )?,
            scope_description: checked(&at("scopeDescription"), scope_description, |_| true, "")?,
        });
    }
    Ok(scopes)
}

impl Input for ResourceServerInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            identifier: decode_identifier(req)?,
            name: checked("name", req.str("Name")?, is_name_char, "[\\w\\s+=,.@-]+")?,
            scopes: decode_scopes(req)?,
        })
    }
}

impl Input for ResourceServerRef {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            identifier: decode_identifier(req)?,
        })
    }
}

impl Input for ListResourceServersInput {
    fn decode(req: &Request) -> Result<Self> {
        let user_pool_id = req.pool_id()?;
        let max_results = match req.opt_i64("MaxResults")? {
            None => return Err(Error::missing("maxResults")),
            Some(n) if !(1..=50).contains(&n) => {
                return Err(Error::constraint(
                    "maxResults",
                    &n.to_string(),
                    if n < 1 {
                        "Member must have value greater than or equal to 1"
                    } else {
                        "Member must have value less than or equal to 50"
                    },
                ));
            }
            Some(n) => usize::try_from(n).unwrap_or(50),
        };
        Ok(Self {
            user_pool_id,
            max_results,
            next_token: req.page_token("NextToken")?,
        })
    }
}

// ---- outputs -----------------------------------------------------------------------------

/// ResourceServerType.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceServer {
    pub user_pool_id: String,
    pub identifier: String,
    pub name: String,
    pub scopes: Vec<ResourceServerScope>,
}

/// CreateResourceServer, DescribeResourceServer and UpdateResourceServer.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceServerOutput {
    pub resource_server: ResourceServer,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListResourceServersOutput {
    pub resource_servers: Vec<ResourceServer>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

// ---- operations --------------------------------------------------------------------------

fn not_found(identifier: &str, pool_id: &str) -> Error {
    Error::resource_not_found(format!(
        "Resource server {identifier} does not exist in user pool {pool_id}."
    ))
}

impl Cognito {
    pub async fn create_resource_server(&self, input: CreateResourceServerInput) -> Result<ResourceServerOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let existing = self.resource_servers(&pool.id).await?;
        if existing.iter().any(|r| r.identifier == input.identifier) {
            return Err(Error::invalid_parameter(format!(
                "{} already exists in user pool {}.",
                input.identifier, pool.id
            )));
        }
        if existing.len() >= MAX_RESOURCE_SERVERS {
            return Err(Error::new(
                ErrorKind::LimitExceededException,
                format!("The user pool has reached its limit of {MAX_RESOURCE_SERVERS} resource servers."),
            ));
        }
        let server = ResourceServer {
            user_pool_id: pool.id,
            identifier: input.identifier,
            name: input.name,
            scopes: input.scopes,
        };
        self.save_resource_server(&server).await?;
        Ok(ResourceServerOutput {
            resource_server: server,
        })
    }

    pub async fn describe_resource_server(&self, input: ResourceServerRef) -> Result<ResourceServerOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let server = self
            .resource_server(&pool.id, &input.identifier)
            .await?
            .ok_or_else(|| not_found(&input.identifier, &pool.id))?;
        Ok(ResourceServerOutput {
            resource_server: server,
        })
    }

    pub async fn update_resource_server(&self, input: UpdateResourceServerInput) -> Result<ResourceServerOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        if self.resource_server(&pool.id, &input.identifier).await?.is_none() {
            return Err(not_found(&input.identifier, &pool.id));
        }
        let server = ResourceServer {
            user_pool_id: pool.id,
            identifier: input.identifier,
            name: input.name,
            scopes: input.scopes,
        };
        self.save_resource_server(&server).await?;
        Ok(ResourceServerOutput {
            resource_server: server,
        })
    }

    pub async fn delete_resource_server(&self, input: ResourceServerRef) -> Result<Empty> {
        let pool = self.pool(&input.user_pool_id).await?;
        let deleted = self
            .store
            .delete_secret(&pool.id, &format!("{KEY_PREFIX}{}", input.identifier))
            .await?;
        if !deleted {
            return Err(not_found(&input.identifier, &pool.id));
        }
        Ok(Empty {})
    }

    pub async fn list_resource_servers(&self, input: ListResourceServersInput) -> Result<ListResourceServersOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let after = input.next_token.unwrap_or_default();
        let mut servers: Vec<ResourceServer> = self
            .resource_servers(&pool.id)
            .await?
            .into_iter()
            .filter(|r| r.identifier > after)
            .collect();
        let next_token = (servers.len() > input.max_results).then(|| {
            servers.truncate(input.max_results);
            servers
                .last()
                .map(|r| encode_page_token(&r.identifier))
                .unwrap_or_default()
        });
        Ok(ListResourceServersOutput {
            resource_servers: servers,
            next_token,
        })
    }

    /// The pool's resource servers, by identifier.
    pub async fn resource_servers(&self, pool_id: &str) -> Result<Vec<ResourceServer>> {
        let mut servers: Vec<ResourceServer> = self
            .store
            .list_secrets(pool_id)
            .await?
            .into_iter()
            .filter(|(name, _)| name.starts_with(KEY_PREFIX))
            .filter_map(|(_, bytes)| serde_json::from_slice(&bytes).ok())
            .collect();
        servers.sort_by(|a, b| a.identifier.cmp(&b.identifier));
        Ok(servers)
    }

    async fn resource_server(&self, pool_id: &str, identifier: &str) -> Result<Option<ResourceServer>> {
        let stored = self
            .store
            .get_secret(pool_id, &format!("{KEY_PREFIX}{identifier}"))
            .await?;
        Ok(stored.and_then(|b| serde_json::from_slice(&b).ok()))
    }

    async fn save_resource_server(&self, server: &ResourceServer) -> Result<()> {
        let bytes = serde_json::to_vec(server).map_err(Error::internal)?;
        self.store
            .put_secret(
                &server.user_pool_id,
                &format!("{KEY_PREFIX}{}", server.identifier),
                &bytes,
            )
            .await?;
        Ok(())
    }
}
