//! ListUsers, with its filter expressions.
use crate::error::{Error, Result};
use crate::model::*;
use crate::ops::Input;
use crate::ops::types::UserType;
use crate::request::{Request, encode_page_token};
use crate::service::Cognito;
use serde::Serialize;

// ---- inputs ------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListUsersInput {
    pub user_pool_id: String,
    /// 1–60; `None` (or 0) lists 60.
    pub limit: Option<usize>,
    pub filter: Option<UserFilter>,
    /// Only these attributes in each user; all when `None`.
    pub attributes_to_get: Option<Vec<String>>,
    pub pagination_token: Option<String>,
}

impl Input for ListUsersInput {
    fn decode(req: &Request) -> Result<Self> {
        let user_pool_id = req.pool_id()?;
        let limit = req.limit("Limit", 60, 60)?;
        let filter = match req.opt_str("Filter")? {
            Some(f) => parse_filter(&f)?,
            None => None,
        };
        Ok(Self {
            user_pool_id,
            limit: Some(limit),
            filter,
            attributes_to_get: req.opt_str_list("AttributesToGet")?,
            pagination_token: req.page_token("PaginationToken")?,
        })
    }
}

/// Parses a ListUsers filter: `attribute = "value"` or `attribute ^= "value"`.
pub fn parse_filter(filter: &str) -> Result<Option<UserFilter>> {
    let f = filter.trim();
    if f.is_empty() {
        return Ok(None);
    }
    let bad = || Error::invalid_parameter("Error while parsing filter.");
    let (name, rest, prefix) = if let Some(i) = f.find("^=") {
        (&f[..i], &f[i + 2..], true)
    } else if let Some(i) = f.find('=') {
        (&f[..i], &f[i + 1..], false)
    } else {
        return Err(bad());
    };
    let name = name.trim().trim_matches('"');
    let rest = rest.trim();
    if rest.len() < 2 || !rest.starts_with('"') || !rest.ends_with('"') {
        return Err(bad());
    }
    let value = rest[1..rest.len() - 1].replace("\\\"", "\"").replace("\\\\", "\\");
    let attribute = SearchableAttribute::parse(name)
        .ok_or_else(|| Error::invalid_parameter(format!("Invalid search attribute: {name}")))?;
    Ok(Some(UserFilter {
        attribute,
        prefix,
        value,
    }))
}

// ---- outputs -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUsersOutput {
    pub users: Vec<UserType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination_token: Option<String>,
}

// ---- operations --------------------------------------------------------------------------

impl Cognito {
    pub async fn list_users(&self, input: ListUsersInput) -> Result<ListUsersOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let limit = match input.limit {
            None | Some(0) => 60,
            Some(n) => n.min(60),
        };
        let only = input.attributes_to_get;
        for n in only.iter().flatten() {
            if n != "sub" && pool.schema_attribute(n).is_none() {
                return Err(Error::invalid_parameter(format!(
                    "One or more requested attributes do not exist: {n}"
                )));
            }
        }
        let page = self
            .store
            .list_users(
                &pool.id,
                input.filter.as_ref(),
                input.pagination_token.as_deref(),
                limit,
            )
            .await?;
        Ok(ListUsersOutput {
            users: page.items.iter().map(|u| UserType::of(u, only.as_deref())).collect(),
            pagination_token: page.next.map(|next| encode_page_token(&next)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        let f = parse_filter("email = \"a@b.c\"").unwrap().unwrap();
        assert_eq!(f.attribute, SearchableAttribute::Email);
        assert!(!f.prefix);
        assert_eq!(f.value, "a@b.c");
        let f = parse_filter("family_name ^= \"Sm\"").unwrap().unwrap();
        assert!(f.prefix);
        let f = parse_filter("cognito:user_status=\"CONFIRMED\"").unwrap().unwrap();
        assert_eq!(f.attribute, SearchableAttribute::UserStatus);
        assert!(parse_filter("").unwrap().is_none());
        assert!(parse_filter("email").is_err());
        assert!(parse_filter("email = a").is_err());
        assert!(parse_filter("custom:x = \"1\"").is_err());
    }
}
