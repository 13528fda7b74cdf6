//! User pool domains: CreateUserPoolDomain, DescribeUserPoolDomain, UpdateUserPoolDomain and
//! DeleteUserPoolDomain. A pool has at most one prefix domain (`myapp`, served by Cognito as
//! `myapp.auth.<region>.amazoncognito.com`) and one custom domain (a name with dots, given with
//! a certificate). A domain belongs to one pool in the whole service. DescribeUserPool shows
//! them as `Domain` and `CustomDomain`.
use crate::error::{Error, Result};
use crate::model::UserPool;
use crate::ops::{Empty, Input};
use crate::request::{Request, camel};
use crate::service::Cognito;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Store scope of the index from domain to pool (one entry per domain, over every pool).
const DOMAIN_INDEX: &str = "cognate:domains";

/// Store name of a domain's description in its pool's scope.
fn description_key(domain: &str) -> String {
    format!("domain/{domain}")
}

// ---- inputs ------------------------------------------------------------------------------

/// CreateUserPoolDomain and UpdateUserPoolDomain.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserPoolDomainInput {
    pub domain: String,
    pub user_pool_id: String,
    /// 1 (classic hosted UI) or 2 (managed login).
    pub managed_login_version: Option<i64>,
    pub custom_domain_config: Option<CustomDomainConfig>,
}

pub type CreateUserPoolDomainInput = UserPoolDomainInput;
pub type UpdateUserPoolDomainInput = UserPoolDomainInput;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CustomDomainConfig {
    pub certificate_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_policy: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DescribeUserPoolDomainInput {
    pub domain: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeleteUserPoolDomainInput {
    pub domain: String,
    pub user_pool_id: String,
}

/// The Domain member: 1–63 characters, and for a prefix domain the model's pattern. A custom
/// domain (with dots) must match the pattern label by label.
fn decode_domain(req: &Request) -> Result<String> {
    let domain = req.str("Domain")?;
    if domain.chars().count() > 63 {
        return Err(Error::constraint(
            "domain",
            &domain,
            "Member must have length less than or equal to 63",
        ));
    }
    if !domain.split('.').all(is_domain_label) {
        return Err(Error::constraint(
            "domain",
            &domain,
            "Member must satisfy regular expression pattern: ^[a-z0-9](?:[a-z0-9\\-]{0,61}[a-z0-9])?$",
        ));
    }
    Ok(domain)
}

/// `^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$`
fn is_domain_label(label: &str) -> bool {
    let b = label.as_bytes();
    let edge = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    !b.is_empty()
        && b.len() <= 63
        && b.first().is_some_and(edge)
        && b.last().is_some_and(edge)
        && b.iter().all(|c| edge(c) || *c == b'-')
}

fn decode_custom_domain_config(req: &Request) -> Result<Option<CustomDomainConfig>> {
    let Some(config) = req.object("CustomDomainConfig")? else {
        return Ok(None);
    };
    let inner = Request(config);
    let certificate_arn = inner
        .str("CertificateArn")
        .map_err(|_| Error::missing(&format!("{}.certificateArn", camel("CustomDomainConfig"))))?;
    let security_policy = inner.opt_str("SecurityPolicy")?;
    if let Some(p) = &security_policy
        && !["TLS_V1", "TLS_V1_2_2021", "TLS_V1_3_2025"].contains(&p.as_str())
    {
        return Err(Error::constraint(
            "customDomainConfig.securityPolicy",
            p,
            "Member must satisfy enum value set: [TLS_V1, TLS_V1_2_2021, TLS_V1_3_2025]",
        ));
    }
    Ok(Some(CustomDomainConfig {
        certificate_arn,
        security_policy,
    }))
}

impl Input for UserPoolDomainInput {
    fn decode(req: &Request) -> Result<Self> {
        let domain = decode_domain(req)?;
        let user_pool_id = req.pool_id()?;
        let managed_login_version = req.opt_i64("ManagedLoginVersion")?;
        if let Some(v) = managed_login_version
            && !(1..=2).contains(&v)
        {
            return Err(Error::invalid_parameter(format!(
                "ManagedLoginVersion {v} is not supported. Supported versions are 1 and 2."
            )));
        }
        Ok(Self {
            domain,
            user_pool_id,
            managed_login_version,
            custom_domain_config: decode_custom_domain_config(req)?,
        })
    }
}

impl Input for DescribeUserPoolDomainInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            domain: decode_domain(req)?,
        })
    }
}

impl Input for DeleteUserPoolDomainInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            domain: decode_domain(req)?,
            user_pool_id: req.pool_id()?,
        })
    }
}

// ---- outputs -----------------------------------------------------------------------------

/// CreateUserPoolDomain and UpdateUserPoolDomain.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UserPoolDomainOutput {
    /// For a custom domain, the host its DNS name should point at; absent for a prefix domain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_front_domain: Option<String>,
    pub managed_login_version: i64,
}

/// DomainDescriptionType; every member absent when the domain does not exist.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DomainDescription {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_pool_id: Option<String>,
    #[serde(rename = "AWSAccountId", skip_serializing_if = "Option::is_none")]
    pub aws_account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud_front_distribution: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_domain_config: Option<CustomDomainConfig>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub managed_login_version: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeUserPoolDomainOutput {
    pub domain_description: DomainDescription,
}

// ---- operations --------------------------------------------------------------------------

/// Which pool setting a domain is: `CustomDomain` for a name with dots, else `Domain`.
fn setting_of(domain: &str) -> &'static str {
    if domain.contains('.') { "CustomDomain" } else { "Domain" }
}

impl Cognito {
    pub async fn create_user_pool_domain(&self, input: CreateUserPoolDomainInput) -> Result<UserPoolDomainOutput> {
        let mut pool = self.pool(&input.user_pool_id).await?;
        let custom = input.domain.contains('.');
        if !custom {
            for reserved in ["aws", "amazon", "cognito"] {
                if input.domain.contains(reserved) {
                    return Err(Error::invalid_parameter(format!(
                        "Domain cannot contain reserved word: {reserved}"
                    )));
                }
            }
        }
        if custom && input.custom_domain_config.is_none() {
            return Err(Error::invalid_parameter(
                "CustomDomainConfig is required for a custom domain (a domain name with dots).",
            ));
        }
        if !custom && input.custom_domain_config.is_some() {
            return Err(Error::invalid_parameter(
                "CustomDomainConfig is only valid for a custom domain (a fully qualified domain name).",
            ));
        }
        if pool.setting(setting_of(&input.domain)).is_some() {
            return Err(Error::invalid_parameter("User pool already has a domain configured."));
        }
        let held = self
            .store
            .put_secret_if_absent(DOMAIN_INDEX, &input.domain, pool.id.as_bytes())
            .await?;
        if held != pool.id.as_bytes() {
            let holder = String::from_utf8_lossy(&held).into_owned();
            if self.domain_of(&holder, &input.domain).await?.is_some() {
                return Err(Error::invalid_parameter(
                    "Domain already associated with another user pool.",
                ));
            }
            // Left by a pool that no longer has it: taken over.
            self.store
                .put_secret(DOMAIN_INDEX, &input.domain, pool.id.as_bytes())
                .await?;
        }
        let version = input.managed_login_version.unwrap_or(1);
        let description = DomainDescription {
            user_pool_id: Some(pool.id.clone()),
            aws_account_id: Some(self.settings.account.clone()),
            domain: Some(input.domain.clone()),
            cloud_front_distribution: Some(self.domain_host()),
            version: Some(self.now_ms().to_string()),
            status: Some("ACTIVE".into()),
            custom_domain_config: input.custom_domain_config,
            managed_login_version: Some(version),
        };
        self.save_domain(&description, &pool.id, &input.domain).await?;
        pool.settings
            .insert(setting_of(&input.domain).into(), Value::String(input.domain.clone()));
        pool.modified_ms = self.now_ms();
        self.store.update_pool(&pool).await?;
        Ok(UserPoolDomainOutput {
            cloud_front_domain: custom.then(|| self.domain_host()),
            managed_login_version: version,
        })
    }

    pub async fn describe_user_pool_domain(
        &self,
        input: DescribeUserPoolDomainInput,
    ) -> Result<DescribeUserPoolDomainOutput> {
        let pool_id = self
            .store
            .get_secret(DOMAIN_INDEX, &input.domain)
            .await?
            .map(|b| String::from_utf8_lossy(&b).into_owned());
        let domain_description = match pool_id {
            Some(pool_id) => self.domain_of(&pool_id, &input.domain).await?.unwrap_or_default(),
            None => DomainDescription::default(),
        };
        Ok(DescribeUserPoolDomainOutput { domain_description })
    }

    pub async fn update_user_pool_domain(&self, input: UpdateUserPoolDomainInput) -> Result<UserPoolDomainOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let Some(mut description) = self.domain_of(&pool.id, &input.domain).await? else {
            return Err(Error::invalid_parameter("No such domain or user pool exists."));
        };
        let custom = input.domain.contains('.');
        if let Some(config) = input.custom_domain_config {
            if !custom {
                return Err(Error::invalid_parameter(
                    "CustomDomainConfig is only valid for a custom domain (a fully qualified domain name).",
                ));
            }
            description.custom_domain_config = Some(config);
        }
        if let Some(v) = input.managed_login_version {
            description.managed_login_version = Some(v);
        }
        description.version = Some(self.now_ms().to_string());
        self.save_domain(&description, &pool.id, &input.domain).await?;
        Ok(UserPoolDomainOutput {
            cloud_front_domain: custom.then(|| self.domain_host()),
            managed_login_version: description.managed_login_version.unwrap_or(1),
        })
    }

    pub async fn delete_user_pool_domain(&self, input: DeleteUserPoolDomainInput) -> Result<Empty> {
        let mut pool = self.pool(&input.user_pool_id).await?;
        if self.domain_of(&pool.id, &input.domain).await?.is_none() {
            return Err(Error::invalid_parameter("No such domain or user pool exists."));
        }
        pool.settings.remove(setting_of(&input.domain));
        pool.modified_ms = self.now_ms();
        self.store.update_pool(&pool).await?;
        self.store
            .delete_secret(&pool.id, &description_key(&input.domain))
            .await?;
        self.store.delete_secret(DOMAIN_INDEX, &input.domain).await?;
        Ok(Empty {})
    }

    /// The description of `domain` if pool `pool_id` has it.
    async fn domain_of(&self, pool_id: &str, domain: &str) -> Result<Option<DomainDescription>> {
        let Some(pool) = self.store.get_pool(pool_id).await? else {
            return Ok(None);
        };
        if pool.setting(setting_of(domain)).and_then(Value::as_str) != Some(domain) {
            return Ok(None);
        }
        let stored = self.store.get_secret(&pool.id, &description_key(domain)).await?;
        Ok(stored.and_then(|b| serde_json::from_slice(&b).ok()))
    }

    async fn save_domain(&self, description: &DomainDescription, pool_id: &str, domain: &str) -> Result<()> {
        let bytes = serde_json::to_vec(description).map_err(Error::internal)?;
        self.store.put_secret(pool_id, &description_key(domain), &bytes).await?;
        Ok(())
    }

    /// The host Cognate answers on, which a custom domain's DNS name should point at (where
    /// Cognito names a CloudFront distribution).
    fn domain_host(&self) -> String {
        let base = self.settings.issuer_base.as_str();
        let host = base.split_once("://").map_or(base, |(_, rest)| rest);
        let host = host.split(['/', ':']).next().unwrap_or(host);
        host.to_owned()
    }
}

/// Whether the pool has a domain (a prefix domain or a custom one).
pub(crate) fn has_domain(pool: &UserPool) -> bool {
    pool.setting("Domain").is_some() || pool.setting("CustomDomain").is_some()
}

/// Refuses to delete a pool that still has a domain, as Cognito does.
pub(crate) fn check_no_domain(pool: &UserPool) -> Result<()> {
    if has_domain(pool) {
        return Err(Error::invalid_parameter(
            "User pool cannot be deleted. It has a domain configured that should be deleted first.",
        ));
    }
    Ok(())
}

impl Cognito {
    /// The pool that holds `domain` (a prefix or a custom domain name), if any.
    pub async fn pool_id_of_domain(&self, domain: &str) -> Result<Option<String>> {
        let Some(held) = self.store.get_secret(DOMAIN_INDEX, domain).await? else {
            return Ok(None);
        };
        let pool_id = String::from_utf8_lossy(&held).into_owned();
        Ok(self.domain_of(&pool_id, domain).await?.map(|_| pool_id))
    }
}

/// The pool's domain: its prefix domain, else its custom domain.
pub fn domain_of_pool(pool: &UserPool) -> Option<&str> {
    pool.setting("Domain")
        .or_else(|| pool.setting("CustomDomain"))
        .and_then(Value::as_str)
}
