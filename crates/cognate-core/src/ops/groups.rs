//! Groups: CreateGroup, GetGroup, UpdateGroup, DeleteGroup, ListGroups, ListUsersInGroup, and
//! the admin membership operations AdminAddUserToGroup, AdminRemoveUserFromGroup and
//! AdminListGroupsForUser.
use crate::error::{Error, ErrorKind, Result};
use crate::model::Group;
use crate::ops::types::{Timestamp, UserType};
use crate::ops::{Empty, Input};
use crate::request::{Request, encode_page_token};
use crate::service::Cognito;
use serde::Serialize;

// ---- inputs ------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateGroupInput {
    pub user_pool_id: String,
    pub group_name: String,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub precedence: Option<i64>,
}

/// UpdateGroup: members left `None` keep their value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateGroupInput {
    pub user_pool_id: String,
    pub group_name: String,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub precedence: Option<i64>,
}

/// GetGroup, DeleteGroup.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupRef {
    pub user_pool_id: String,
    pub group_name: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListGroupsInput {
    pub user_pool_id: String,
    /// 1–60; `None` (or 0) lists 60.
    pub limit: Option<usize>,
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListUsersInGroupInput {
    pub user_pool_id: String,
    pub group_name: String,
    pub limit: Option<usize>,
    pub next_token: Option<String>,
}

/// AdminAddUserToGroup, AdminRemoveUserFromGroup.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupMembershipInput {
    pub user_pool_id: String,
    pub username: String,
    pub group_name: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminListGroupsForUserInput {
    pub user_pool_id: String,
    pub username: String,
    pub limit: Option<usize>,
    pub next_token: Option<String>,
}

impl Input for CreateGroupInput {
    fn decode(req: &Request) -> Result<Self> {
        let user_pool_id = req.pool_id()?;
        let group_name = req.str("GroupName")?;
        check_group_name(&group_name)?;
        let precedence = req.opt_i64("Precedence")?;
        check_precedence(precedence)?;
        Ok(Self {
            user_pool_id,
            group_name,
            description: req.opt_str("Description")?,
            role_arn: req.opt_str("RoleArn")?,
            precedence,
        })
    }
}

impl Input for UpdateGroupInput {
    fn decode(req: &Request) -> Result<Self> {
        let precedence = req.opt_i64("Precedence")?;
        check_precedence(precedence)?;
        Ok(Self {
            user_pool_id: req.pool_id()?,
            group_name: req.str("GroupName")?,
            description: req.opt_str("Description")?,
            role_arn: req.opt_str("RoleArn")?,
            precedence,
        })
    }
}

impl Input for GroupRef {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            group_name: req.str("GroupName")?,
        })
    }
}

impl Input for ListGroupsInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            limit: Some(req.limit("Limit", 60, 60)?),
            next_token: req.page_token("NextToken")?,
        })
    }
}

impl Input for ListUsersInGroupInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            group_name: req.str("GroupName")?,
            limit: Some(req.limit("Limit", 60, 60)?),
            next_token: req.page_token("NextToken")?,
        })
    }
}

impl Input for GroupMembershipInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            username: req.str("Username")?,
            group_name: req.str("GroupName")?,
        })
    }
}

impl Input for AdminListGroupsForUserInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            username: req.str("Username")?,
            limit: Some(req.limit("Limit", 60, 60)?),
            next_token: req.page_token("NextToken")?,
        })
    }
}

fn check_group_name(name: &str) -> Result<()> {
    if name.chars().count() > 128 || name.chars().any(|c| c.is_control()) {
        return Err(Error::constraint(
            "groupName",
            name,
            "Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+",
        ));
    }
    Ok(())
}

fn check_precedence(p: Option<i64>) -> Result<()> {
    if let Some(p) = p
        && p < 0
    {
        return Err(Error::constraint(
            "precedence",
            &p.to_string(),
            "Member must have value greater than or equal to 0",
        ));
    }
    Ok(())
}

/// Page sizes: 0 or unset means the maximum, 60.
fn page_size(limit: Option<usize>) -> usize {
    match limit {
        None | Some(0) => 60,
        Some(n) => n.min(60),
    }
}

// ---- outputs -----------------------------------------------------------------------------

/// GroupType.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupType {
    pub group_name: String,
    pub user_pool_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub precedence: Option<i64>,
    pub last_modified_date: Timestamp,
    pub creation_date: Timestamp,
}

impl From<&Group> for GroupType {
    fn from(g: &Group) -> Self {
        Self {
            group_name: g.name.clone(),
            user_pool_id: g.pool_id.clone(),
            description: g.description.clone(),
            role_arn: g.role_arn.clone(),
            precedence: g.precedence,
            last_modified_date: Timestamp(g.modified_ms),
            creation_date: Timestamp(g.created_ms),
        }
    }
}

/// CreateGroup, GetGroup, UpdateGroup.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupOutput {
    pub group: GroupType,
}

/// ListGroups, AdminListGroupsForUser.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GroupsPage {
    pub groups: Vec<GroupType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListUsersInGroupOutput {
    pub users: Vec<UserType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

// ---- operations --------------------------------------------------------------------------

impl Cognito {
    async fn group(&self, pool_id: &str, name: &str) -> Result<Group> {
        self.store
            .get_group(pool_id, name)
            .await?
            .ok_or_else(|| Error::resource_not_found("Group not found."))
    }

    pub async fn create_group(&self, input: CreateGroupInput) -> Result<GroupOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let now = self.now_ms();
        let group = Group {
            pool_id: pool.id.clone(),
            name: input.group_name,
            description: input.description,
            role_arn: input.role_arn,
            precedence: input.precedence,
            created_ms: now,
            modified_ms: now,
        };
        match self.store.insert_group(&group).await {
            Ok(()) => Ok(GroupOutput { group: (&group).into() }),
            Err(crate::store::StoreError::AlreadyExists) => Err(Error::new(
                ErrorKind::GroupExistsException,
                format!("A group with the name {} already exists.", group.name),
            )),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_group(&self, input: GroupRef) -> Result<GroupOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let group = self.group(&pool.id, &input.group_name).await?;
        Ok(GroupOutput { group: (&group).into() })
    }

    pub async fn update_group(&self, input: UpdateGroupInput) -> Result<GroupOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let mut group = self.group(&pool.id, &input.group_name).await?;
        if let Some(d) = input.description {
            group.description = Some(d);
        }
        if let Some(r) = input.role_arn {
            group.role_arn = Some(r);
        }
        if let Some(p) = input.precedence {
            group.precedence = Some(p);
        }
        group.modified_ms = self.now_ms();
        self.store.update_group(&group).await?;
        Ok(GroupOutput { group: (&group).into() })
    }

    pub async fn delete_group(&self, input: GroupRef) -> Result<Empty> {
        let pool = self.pool(&input.user_pool_id).await?;
        let group = self.group(&pool.id, &input.group_name).await?;
        self.store.delete_group(&pool.id, &group.name).await?;
        Ok(Empty {})
    }

    pub async fn list_groups(&self, input: ListGroupsInput) -> Result<GroupsPage> {
        let pool = self.pool(&input.user_pool_id).await?;
        let page = self
            .store
            .list_groups(&pool.id, input.next_token.as_deref(), page_size(input.limit))
            .await?;
        Ok(GroupsPage {
            groups: page.items.iter().map(GroupType::from).collect(),
            next_token: page.next.as_deref().map(encode_page_token),
        })
    }

    pub async fn list_users_in_group(&self, input: ListUsersInGroupInput) -> Result<ListUsersInGroupOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        let group = self.group(&pool.id, &input.group_name).await?;
        let page = self
            .store
            .members_of(
                &pool.id,
                &group.name,
                input.next_token.as_deref(),
                page_size(input.limit),
            )
            .await?;
        Ok(ListUsersInGroupOutput {
            users: page.items.iter().map(|u| UserType::of(u, None)).collect(),
            next_token: page.next.as_deref().map(encode_page_token),
        })
    }

    pub async fn admin_add_user_to_group(&self, input: GroupMembershipInput) -> Result<Empty> {
        let pool = self.pool(&input.user_pool_id).await?;
        let user = self.require_user(&pool, &input.username).await?;
        let group = self.group(&pool.id, &input.group_name).await?;
        self.store
            .add_member(&pool.id, &group.name, &Self::user_key(&pool, &user.username))
            .await?;
        Ok(Empty {})
    }

    pub async fn admin_remove_user_from_group(&self, input: GroupMembershipInput) -> Result<Empty> {
        let pool = self.pool(&input.user_pool_id).await?;
        let user = self.require_user(&pool, &input.username).await?;
        let group = self.group(&pool.id, &input.group_name).await?;
        self.store
            .remove_member(&pool.id, &group.name, &Self::user_key(&pool, &user.username))
            .await?;
        Ok(Empty {})
    }

    pub async fn admin_list_groups_for_user(&self, input: AdminListGroupsForUserInput) -> Result<GroupsPage> {
        let pool = self.pool(&input.user_pool_id).await?;
        let user = self.require_user(&pool, &input.username).await?;
        let limit = page_size(input.limit);
        let groups = self
            .store
            .groups_of(&pool.id, &Self::user_key(&pool, &user.username))
            .await?;
        let start = match &input.next_token {
            Some(t) => groups.iter().position(|g| &g.name > t).unwrap_or(groups.len()),
            None => 0,
        };
        let slice: Vec<&Group> = groups.iter().skip(start).take(limit).collect();
        let more = start + slice.len() < groups.len();
        Ok(GroupsPage {
            groups: slice.iter().map(|g| GroupType::from(*g)).collect(),
            next_token: slice.last().filter(|_| more).map(|last| encode_page_token(&last.name)),
        })
    }
}
