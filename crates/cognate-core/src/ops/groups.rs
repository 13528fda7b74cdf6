//! Group operations.
use crate::error::{Error, ErrorKind, Result};
use crate::model::Group;
use crate::request::Request;
use crate::service::{Cognito, epoch};
use serde_json::{Value, json};

fn group_type(g: &Group) -> Value {
    let mut v = json!({
        "GroupName": g.name,
        "UserPoolId": g.pool_id,
        "LastModifiedDate": epoch(g.modified_ms),
        "CreationDate": epoch(g.created_ms),
    });
    if let Some(d) = &g.description {
        v["Description"] = json!(d);
    }
    if let Some(r) = &g.role_arn {
        v["RoleArn"] = json!(r);
    }
    if let Some(p) = g.precedence {
        v["Precedence"] = json!(p);
    }
    v
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

impl Cognito {
    async fn group(&self, pool_id: &str, name: &str) -> Result<Group> {
        self.store
            .get_group(pool_id, name)
            .await?
            .ok_or_else(|| Error::resource_not_found("Group not found."))
    }

    pub async fn create_group(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let name = req.str("GroupName")?;
        check_group_name(&name)?;
        let precedence = req.opt_i64("Precedence")?;
        check_precedence(precedence)?;
        let now = self.now_ms();
        let group = Group {
            pool_id: pool.id.clone(),
            name: name.clone(),
            description: req.opt_str("Description")?,
            role_arn: req.opt_str("RoleArn")?,
            precedence,
            created_ms: now,
            modified_ms: now,
        };
        match self.store.insert_group(&group).await {
            Ok(()) => Ok(json!({ "Group": group_type(&group) })),
            Err(crate::store::StoreError::AlreadyExists) => Err(Error::new(
                ErrorKind::GroupExistsException,
                format!("A group with the name {name} already exists."),
            )),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_group(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let group = self.group(&pool.id, &req.str("GroupName")?).await?;
        Ok(json!({ "Group": group_type(&group) }))
    }

    pub async fn update_group(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let mut group = self.group(&pool.id, &req.str("GroupName")?).await?;
        if let Some(d) = req.opt_str("Description")? {
            group.description = Some(d);
        }
        if let Some(r) = req.opt_str("RoleArn")? {
            group.role_arn = Some(r);
        }
        if let Some(p) = req.opt_i64("Precedence")? {
            check_precedence(Some(p))?;
            group.precedence = Some(p);
        }
        group.modified_ms = self.now_ms();
        self.store.update_group(&group).await?;
        Ok(json!({ "Group": group_type(&group) }))
    }

    pub async fn delete_group(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let group = self.group(&pool.id, &req.str("GroupName")?).await?;
        self.store.delete_group(&pool.id, &group.name).await?;
        Ok(json!({}))
    }

    pub async fn list_groups(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let limit = req.limit("Limit", 60, 60)?;
        let limit = if limit == 0 { 60 } else { limit };
        let page = self
            .store
            .list_groups(&pool.id, req.page_token("NextToken")?.as_deref(), limit)
            .await?;
        let mut out = json!({ "Groups": page.items.iter().map(group_type).collect::<Vec<_>>() });
        if let Some(n) = page.next {
            out["NextToken"] = json!(crate::request::encode_page_token(&n));
        }
        Ok(out)
    }

    pub async fn list_users_in_group(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let group = self.group(&pool.id, &req.str("GroupName")?).await?;
        let limit = req.limit("Limit", 60, 60)?;
        let limit = if limit == 0 { 60 } else { limit };
        let page = self
            .store
            .members_of(&pool.id, &group.name, req.page_token("NextToken")?.as_deref(), limit)
            .await?;
        let users: Vec<Value> = page
            .items
            .iter()
            .map(|u| crate::attributes::user_type(u, "Attributes", None))
            .collect();
        let mut out = json!({ "Users": users });
        if let Some(n) = page.next {
            out["NextToken"] = json!(crate::request::encode_page_token(&n));
        }
        Ok(out)
    }

    pub async fn admin_add_user_to_group(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let user = self.require_user(&pool, &req.str("Username")?).await?;
        let group = self.group(&pool.id, &req.str("GroupName")?).await?;
        self.store
            .add_member(&pool.id, &group.name, &Self::user_key(&pool, &user.username))
            .await?;
        Ok(json!({}))
    }

    pub async fn admin_remove_user_from_group(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let user = self.require_user(&pool, &req.str("Username")?).await?;
        let group = self.group(&pool.id, &req.str("GroupName")?).await?;
        self.store
            .remove_member(&pool.id, &group.name, &Self::user_key(&pool, &user.username))
            .await?;
        Ok(json!({}))
    }

    pub async fn admin_list_groups_for_user(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let user = self.require_user(&pool, &req.str("Username")?).await?;
        let limit = req.limit("Limit", 60, 60)?;
        let limit = if limit == 0 { 60 } else { limit };
        let groups = self
            .store
            .groups_of(&pool.id, &Self::user_key(&pool, &user.username))
            .await?;
        let start = match req.page_token("NextToken")? {
            Some(t) => groups.iter().position(|g| g.name > t).unwrap_or(groups.len()),
            None => 0,
        };
        let slice: Vec<&Group> = groups.iter().skip(start).take(limit).collect();
        let mut out = json!({ "Groups": slice.iter().map(|g| group_type(g)).collect::<Vec<_>>() });
        if start + slice.len() < groups.len()
            && let Some(last) = slice.last()
        {
            out["NextToken"] = json!(crate::request::encode_page_token(&last.name));
        }
        Ok(out)
    }
}
