//! User pools: CreateUserPool, DescribeUserPool, UpdateUserPool, DeleteUserPool and
//! ListUserPools. The pool's schema and AddCustomAttributes are in `custom_attributes.rs`, its
//! MFA configuration in `mfa_config.rs`, its tags in `tags.rs`; the settings members are typed
//! in `settings.rs` and checked in `validation.rs`.
pub mod custom_attributes;
pub mod mfa_config;
pub mod settings;
pub mod sign_in_policy;
pub mod tags;
mod validation;

pub use custom_attributes::standard_schema;
pub use settings::{CREATE_ONLY_MEMBERS, CreateOnlySettings, PoolSettings, UPDATE_USER_POOL_MEMBERS};

use crate::error::{Error, Result};
use crate::model::UserPool;
use crate::ops::types::Timestamp;
use crate::ops::{Empty, Input};
use crate::request::{Request, encode_page_token};
use crate::service::{ALNUM, Cognito};
use custom_attributes::build_schema;
use serde::Serialize;
use serde_json::{Map, Value, json};
use settings::{KEPT_WHEN_OMITTED, given_members};
use validation::apply_defaults;

// ---- inputs ------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateUserPoolInput {
    pub pool_name: String,
    pub settings: PoolSettings,
    pub create_only: CreateOnlySettings,
    /// SchemaAttributeType entries as given (checked); `build_schema` turns them into the
    /// pool's stored schema.
    pub schema: Option<Vec<Value>>,
}

/// UpdateUserPool: the settings it leaves out return to their defaults, except
/// [`KEPT_WHEN_OMITTED`] and each policy of Policies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateUserPoolInput {
    pub user_pool_id: String,
    pub pool_name: Option<String>,
    pub settings: PoolSettings,
}

/// DescribeUserPool, DeleteUserPool, GetUserPoolMfaConfig.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserPoolRef {
    pub user_pool_id: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListUserPoolsInput {
    /// 1–60.
    pub max_results: usize,
    pub next_token: Option<String>,
}

impl Input for CreateUserPoolInput {
    fn decode(req: &Request) -> Result<Self> {
        let pool_name = req.str("PoolName")?;
        crate::request::check_name("poolName", &pool_name)?;
        // Members CreateUserPool does not define are ignored, as AWS's JSON protocol does.
        let schema = req.raw("Schema").and_then(Value::as_array).cloned();
        build_schema(schema.as_deref())?;
        let mut given = given_members(req, UPDATE_USER_POOL_MEMBERS);
        given.extend(given_members(req, CREATE_ONLY_MEMBERS));
        apply_defaults(&mut given)?;
        Ok(Self {
            pool_name,
            settings: PoolSettings::read(req)?,
            create_only: CreateOnlySettings::read(req)?,
            schema,
        })
    }
}

impl Input for UpdateUserPoolInput {
    fn decode(req: &Request) -> Result<Self> {
        let user_pool_id = req.pool_id()?;
        // In the request's order, as Cognito reports the first of several mistakes.
        let mut pool_name = None;
        for (k, _) in req.0.iter().filter(|(_, v)| !v.is_null()) {
            if k == "PoolName" {
                let name = req.str("PoolName")?;
                crate::request::check_name("poolName", &name)?;
                pool_name = Some(name);
            } else if CREATE_ONLY_MEMBERS.contains(&k.as_str()) {
                return Err(Error::invalid_parameter(format!("{k} cannot be updated.")));
            }
        }
        apply_defaults(&mut given_members(req, UPDATE_USER_POOL_MEMBERS))?;
        Ok(Self {
            user_pool_id,
            pool_name,
            settings: PoolSettings::read(req)?,
        })
    }
}

impl Input for UserPoolRef {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
        })
    }
}

impl Input for ListUserPoolsInput {
    fn decode(req: &Request) -> Result<Self> {
        let max_results = match req.opt_i64("MaxResults")? {
            None => return Err(Error::missing("maxResults")),
            Some(n) if !(1..=60).contains(&n) => {
                return Err(Error::constraint(
                    "maxResults",
                    &n.to_string(),
                    "Member must have value less than or equal to 60",
                ));
            }
            Some(n) => n as usize,
        };
        Ok(Self {
            max_results,
            next_token: req.page_token("NextToken")?,
        })
    }
}

// ---- outputs -----------------------------------------------------------------------------

/// UserPoolType, as CreateUserPool and DescribeUserPool answer it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolType {
    pub id: String,
    pub name: String,
    /// The pool's settings members (Policies, LambdaConfig, SchemaAttributes, …) exactly as
    /// the pool stores them.
    #[serde(flatten)]
    pub settings: Map<String, Value>,
    pub last_modified_date: Timestamp,
    pub creation_date: Timestamp,
    pub estimated_number_of_users: u64,
    pub arn: String,
}

impl UserPoolType {
    pub fn of(pool: &UserPool, estimated_users: u64, account: &str) -> Self {
        Self {
            id: pool.id.clone(),
            name: pool.name.clone(),
            settings: pool.settings.clone(),
            last_modified_date: Timestamp(pool.modified_ms),
            creation_date: Timestamp(pool.created_ms),
            estimated_number_of_users: estimated_users,
            arn: format!("arn:aws:cognito-idp:{}:{account}:userpool/{}", pool.region(), pool.id),
        }
    }
}

/// CreateUserPool, DescribeUserPool.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolOutput {
    pub user_pool: UserPoolType,
}

/// UserPoolDescriptionType.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolDescription {
    pub id: String,
    pub name: String,
    /// The pool's LambdaConfig as stored (`{}` when it has none).
    pub lambda_config: Value,
    pub last_modified_date: Timestamp,
    pub creation_date: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUserPoolsOutput {
    pub user_pools: Vec<UserPoolDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

// ---- operations --------------------------------------------------------------------------

/// Set by AddCustomAttributes, SetUserPoolMfaConfig and CreateUserPoolDomain, not by
/// UpdateUserPool: an update keeps them.
const KEPT_BY_UPDATE: &[&str] = &[
    "SchemaAttributes",
    "Domain",
    "CustomDomain",
    "SmsMfaConfiguration",
    "SoftwareTokenMfaConfiguration",
    "EmailMfaConfiguration",
    "WebAuthnConfiguration",
];

impl Cognito {
    pub async fn create_user_pool(&self, input: CreateUserPoolInput) -> Result<UserPoolOutput> {
        let mut settings = input.settings.to_map();
        settings.extend(input.create_only.to_map());
        let schema = build_schema(input.schema.as_deref())?;
        settings.insert("SchemaAttributes".into(), Value::Array(schema));
        apply_defaults(&mut settings)?;
        // A new pool can ask for MFA only by SMS: the other factors are turned on afterwards,
        // through SetUserPoolMfaConfig.
        if settings.get("MfaConfiguration").and_then(Value::as_str) != Some("OFF")
            && settings.get("SmsConfiguration").is_none_or(Value::is_null)
        {
            return Err(Error::invalid_parameter(
                "SMS configuration and Auto verification for phone_number are required when MFA is required/optional",
            ));
        }
        let now = self.now_ms();
        let id = format!("{}_{}", self.settings.region, self.random_string(ALNUM, 9));
        let pool = UserPool {
            id,
            name: input.pool_name,
            created_ms: now,
            modified_ms: now,
            settings,
        };
        self.store.insert_pool(&pool).await?;
        // Keys are made now so the first sign-in does not pay for RSA key generation.
        self.pool_keys(&pool.id).await?;
        Ok(UserPoolOutput {
            user_pool: UserPoolType::of(&pool, 0, &self.settings.account),
        })
    }

    pub async fn describe_user_pool(&self, input: UserPoolRef) -> Result<UserPoolOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let users = self.store.count_users(&pool.id).await?;
        Ok(UserPoolOutput {
            user_pool: UserPoolType::of(&pool, users, &self.settings.account),
        })
    }

    pub async fn update_user_pool(&self, input: UpdateUserPoolInput) -> Result<Empty> {
        let mut pool = self.pool(&input.user_pool_id).await?;
        let mut settings = Map::new();
        for key in CREATE_ONLY_MEMBERS.iter().chain(KEPT_BY_UPDATE) {
            if let Some(v) = pool.settings.get(*key) {
                settings.insert((*key).to_owned(), v.clone());
            }
        }
        settings.extend(input.settings.to_map());
        if let Some(name) = input.pool_name {
            pool.name = name;
        }
        for key in KEPT_WHEN_OMITTED {
            if !settings.contains_key(*key)
                && let Some(v) = pool.setting(key)
            {
                settings.insert((*key).to_owned(), v.clone());
            }
        }
        // A PasswordPolicy or SignInPolicy the request leaves out stays as it was.
        if let Some(Value::Object(before)) = pool.setting("Policies") {
            let mut policies = settings
                .get("Policies")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            policies.retain(|_, v| !v.is_null());
            for (k, v) in before {
                policies.entry(k.clone()).or_insert_with(|| v.clone());
            }
            settings.insert("Policies".into(), Value::Object(policies));
        }
        apply_defaults(&mut settings)?;
        pool.settings = settings;
        pool.modified_ms = self.now_ms();
        self.store.update_pool(&pool).await?;
        Ok(Empty {})
    }

    pub async fn delete_user_pool(&self, input: UserPoolRef) -> Result<Empty> {
        let pool = self.pool(&input.user_pool_id).await?;
        if pool.deletion_protected() {
            return Err(Error::invalid_parameter(
                "The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.",
            ));
        }
        crate::ops::domains::check_no_domain(&pool)?;
        self.store.delete_pool(&pool.id).await?;
        self.forget_keys(&pool.id);
        Ok(Empty {})
    }

    pub async fn list_user_pools(&self, input: ListUserPoolsInput) -> Result<ListUserPoolsOutput> {
        let page = self
            .store
            .list_pools(input.next_token.as_deref(), input.max_results)
            .await?;
        let user_pools = page
            .items
            .iter()
            .map(|p| UserPoolDescription {
                id: p.id.clone(),
                name: p.name.clone(),
                lambda_config: p.setting("LambdaConfig").cloned().unwrap_or(json!({})),
                last_modified_date: Timestamp(p.modified_ms),
                creation_date: Timestamp(p.created_ms),
            })
            .collect();
        Ok(ListUserPoolsOutput {
            user_pools,
            next_token: page.next.as_deref().map(encode_page_token),
        })
    }
}
