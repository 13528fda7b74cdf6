//! Administrative user operations (signed requests naming a pool).
use crate::attributes::*;
use crate::error::{Error, ErrorKind, Result};
use crate::messages::*;
use crate::model::*;
use crate::request::Request;
use crate::service::{CallContext, Cognito, epoch};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

fn metadata(req: &Request) -> Result<Option<Map<String, Value>>> {
    Ok(req
        .str_map("ClientMetadata")?
        .map(|m| m.into_iter().map(|(k, v)| (k, Value::String(v))).collect()))
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

impl Cognito {
    async fn admin_user(&self, req: &Request) -> Result<(UserPool, User)> {
        let pool = self.pool(&req.pool_id()?).await?;
        let username = req.str("Username")?;
        let user = self.require_user(&pool, &username).await?;
        Ok((pool, user))
    }

    /// A temporary password that satisfies the pool's policy.
    fn temporary_password(&self, pool: &UserPool) -> String {
        let min = pool
            .setting("Policies")
            .and_then(|p| p.get("PasswordPolicy"))
            .and_then(|p| p.get("MinimumLength"))
            .and_then(Value::as_i64)
            .unwrap_or(8)
            .max(8) as usize;
        let mut pw = self.random_string(
            b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789",
            min.saturating_sub(4),
        );
        pw.push_str(&self.random_string(b"ABCDEFGHJKLMNPQRSTUVWXYZ", 1));
        pw.push_str(&self.random_string(b"abcdefghijkmnopqrstuvwxyz", 1));
        pw.push_str(&self.random_string(b"23456789", 1));
        pw.push_str(&self.random_string(b"!#$%&*+-.?@^_~", 1));
        pw
    }

    pub async fn admin_create_user(&self, req: Request, ctx: &CallContext) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let given = req.str("Username")?;
        check_username(&given)?;
        let action = req.opt_str("MessageAction")?;
        if let Some(a) = &action
            && a != "RESEND"
            && a != "SUPPRESS"
        {
            return Err(Error::constraint(
                "messageAction",
                a,
                "Member must satisfy enum value set: [RESEND, SUPPRESS]",
            ));
        }
        let mediums = req.opt_str_list("DesiredDeliveryMediums")?;
        for m in mediums.iter().flatten() {
            if m != "SMS" && m != "EMAIL" {
                return Err(Error::constraint(
                    "desiredDeliveryMediums",
                    m,
                    "Member must satisfy enum value set: [SMS, EMAIL]",
                ));
            }
        }
        let temporary = match req.opt_str("TemporaryPassword")? {
            Some(p) => {
                check_password(&pool, &p)?;
                p
            }
            None => self.temporary_password(&pool),
        };
        let client_metadata = metadata(&req)?;

        // Held until the new user is inserted (see check_user_unique).
        let mut unique = Vec::new();
        let mut user = if action.as_deref() == Some("RESEND") {
            let user = self.require_user(&pool, &given).await?;
            if user.status != UserStatus::ForceChangePassword {
                return Err(Error::new(
                    ErrorKind::UnsupportedUserStateException,
                    format!(
                        "Resend not possible. {} status is {}.",
                        user.username,
                        user.status.as_str()
                    ),
                ));
            }
            user
        } else {
            let submitted = req.attribute_list("UserAttributes")?.unwrap_or_default();
            let mut attrs = validate_attributes(&pool, &submitted, true)?;
            let username = self.username_for_new_user(&pool, &given, &mut attrs)?;
            unique = self.check_user_unique(&pool, &username, &attrs).await.map_err(|e| {
                if e.is(ErrorKind::UsernameExistsException) {
                    Error::new(ErrorKind::UsernameExistsException, "User account already exists")
                } else {
                    e
                }
            })?;
            let mut request = Map::new();
            request.insert("userAttributes".into(), json!(attrs));
            request.insert(
                "validationData".into(),
                req.attribute_list("ValidationData")?
                    .map(|l| json!(l.into_iter().collect::<BTreeMap<_, _>>()))
                    .unwrap_or(Value::Null),
            );
            if let Some(md) = &client_metadata {
                request.insert("clientMetadata".into(), Value::Object(md.clone()));
            }
            let response = json!({"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false});
            // PreSignUp's flags are ignored for AdminCreateUser; only its failure matters.
            self.run_trigger(
                &pool,
                "PreSignUp",
                "PreSignUp_AdminCreateUser",
                "1",
                &username,
                None,
                ctx,
                request,
                response,
            )
            .await?;
            let mut user = self.new_user(&pool, username, attrs, UserStatus::ForceChangePassword);
            let force = req.opt_bool("ForceAliasCreation")?.unwrap_or(false);
            for attr in ["email", "phone_number"] {
                if user.is_verified(attr) {
                    unique.extend(self.verify_alias(&pool, &mut user, attr, force).await?);
                }
            }
            user
        };
        self.set_password(&pool, &mut user, &temporary).await?;
        user.password_changed_ms = self.now_ms();

        let mut messages = Vec::new();
        if action.as_deref() != Some("SUPPRESS") {
            let wanted = mediums.clone().unwrap_or_else(|| vec!["SMS".into()]);
            let mut targets: Vec<(Channel, String)> = Vec::new();
            for m in &wanted {
                let (channel, attr) = if m == "EMAIL" {
                    (Channel::Email, "email")
                } else {
                    (Channel::Sms, "phone_number")
                };
                if let Some(v) = user.attributes.get(attr) {
                    targets.push((channel, v.clone()));
                }
            }
            if targets.is_empty() && mediums.is_none() {
                // No medium asked for and no phone number: Cognito falls back to email.
                if let Some(e) = user.attributes.get("email") {
                    targets.push((Channel::Email, e.clone()));
                }
            }
            if targets.is_empty() && mediums.is_some() {
                return Err(Error::invalid_parameter(format!(
                    "User has no attribute matching desired delivery mediums: {}",
                    wanted.join(", ")
                )));
            }
            for (channel, to) in targets {
                let out = Outgoing {
                    kind: MessageKind::AdminCreateUser,
                    channel,
                    to,
                    code: temporary.clone(),
                    client_id: None,
                    client_metadata: client_metadata.clone(),
                };
                messages.push(self.render_message(&pool, &user, out, ctx).await?);
            }
        }
        if action.as_deref() == Some("RESEND") {
            self.save_user(&pool, &mut user).await?;
        } else {
            match self
                .store
                .insert_user(&Self::user_key(&pool, &user.username), &user)
                .await
            {
                Ok(()) => {}
                Err(crate::store::StoreError::AlreadyExists) => {
                    return Err(Error::new(
                        ErrorKind::UsernameExistsException,
                        "User account already exists",
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        drop(unique);
        for m in messages {
            self.deliver(m).await?;
        }
        Ok(json!({ "User": user_type(&user, "Attributes", None) }))
    }

    pub async fn admin_get_user(&self, req: Request) -> Result<Value> {
        let (_, user) = self.admin_user(&req).await?;
        let mut out = json!({
            "Username": user.username,
            "UserAttributes": attribute_list(&user, None, None),
            "UserCreateDate": epoch(user.created_ms),
            "UserLastModifiedDate": epoch(user.modified_ms),
            "Enabled": user.enabled,
            "UserStatus": user.status.as_str(),
        });
        if let Value::Object(o) = &mut out {
            o.extend(crate::ops::mfa::mfa_fields(&user));
        }
        Ok(out)
    }

    pub async fn admin_delete_user(&self, req: Request) -> Result<Value> {
        let (pool, user) = self.admin_user(&req).await?;
        self.remove_user(&pool, &user).await?;
        Ok(json!({}))
    }

    pub async fn admin_enable_user(&self, req: Request) -> Result<Value> {
        let (pool, mut user) = self.admin_user(&req).await?;
        user.enabled = true;
        self.save_user(&pool, &mut user).await?;
        Ok(json!({}))
    }

    pub async fn admin_disable_user(&self, req: Request) -> Result<Value> {
        let (pool, mut user) = self.admin_user(&req).await?;
        user.enabled = false;
        self.save_user(&pool, &mut user).await?;
        Ok(json!({}))
    }

    pub async fn admin_confirm_sign_up(&self, req: Request, ctx: &CallContext) -> Result<Value> {
        let (pool, mut user) = self.admin_user(&req).await?;
        if user.status != UserStatus::Unconfirmed {
            return Err(Error::not_authorized(format!(
                "User cannot be confirmed. Current status is {}",
                user.status.as_str()
            )));
        }
        user.status = UserStatus::Confirmed;
        user.codes.retain(|c| c.purpose != CodePurpose::SignUp);
        self.save_user(&pool, &mut user).await?;
        self.post_confirmation(
            &pool,
            &user,
            "PostConfirmation_ConfirmSignUp",
            None,
            metadata(&req)?,
            ctx,
        )
        .await?;
        Ok(json!({}))
    }

    pub async fn admin_set_user_password(&self, req: Request) -> Result<Value> {
        let (pool, mut user) = self.admin_user(&req).await?;
        let password = req.str("Password")?;
        let permanent = req.opt_bool("Permanent")?.unwrap_or(false);
        check_password(&pool, &password)?;
        self.set_password(&pool, &mut user, &password).await?;
        user.password_changed_ms = self.now_ms();
        user.status = if permanent {
            UserStatus::Confirmed
        } else {
            UserStatus::ForceChangePassword
        };
        self.save_user(&pool, &mut user).await?;
        Ok(json!({}))
    }

    pub async fn admin_reset_user_password(&self, req: Request, ctx: &CallContext) -> Result<Value> {
        let (pool, mut user) = self.admin_user(&req).await?;
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        let mut message = None;
        if let Some((channel, to)) = recovery_channel(&pool, &user) {
            let code = self.new_code(&mut user, CodePurpose::ForgotPassword, RESET_CODE_TTL_MS);
            let out = Outgoing {
                kind: MessageKind::ForgotPassword,
                channel,
                to,
                code,
                client_id: None,
                client_metadata: metadata(&req)?,
            };
            message = Some(self.render_message(&pool, &user, out, ctx).await?);
        }
        if user.status != UserStatus::Unconfirmed {
            user.status = UserStatus::ResetRequired;
        }
        self.save_user(&pool, &mut user).await?;
        if let Some(m) = message {
            self.deliver(m).await?;
        }
        Ok(json!({}))
    }

    pub async fn admin_update_user_attributes(&self, req: Request, ctx: &CallContext) -> Result<Value> {
        let (pool, mut user) = self.admin_user(&req).await?;
        let list = req
            .attribute_list("UserAttributes")?
            .ok_or_else(|| Error::missing("userAttributes"))?;
        let changes = validate_attributes(&pool, &list, true)?;
        check_mutable(&pool, changes.keys().cloned())?;
        let (_, messages) = self
            .change_attributes(&pool, &mut user, changes, true, None, metadata(&req)?, ctx)
            .await?;
        self.save_user(&pool, &mut user).await?;
        for m in messages {
            self.deliver(m).await?;
        }
        Ok(json!({}))
    }

    pub async fn admin_delete_user_attributes(&self, req: Request) -> Result<Value> {
        let (pool, mut user) = self.admin_user(&req).await?;
        let names = req
            .opt_str_list("UserAttributeNames")?
            .ok_or_else(|| Error::missing("userAttributeNames"))?;
        crate::ops::users::remove_attributes(&pool, &mut user, &names)?;
        self.save_user(&pool, &mut user).await?;
        Ok(json!({}))
    }

    pub async fn admin_user_global_sign_out(&self, req: Request) -> Result<Value> {
        let (pool, user) = self.admin_user(&req).await?;
        self.store.revoke_user_sessions(&pool.id, &user.username).await?;
        Ok(json!({}))
    }

    pub async fn list_users(&self, req: Request) -> Result<Value> {
        let pool = self.pool(&req.pool_id()?).await?;
        let limit = req.limit("Limit", 60, 60)?;
        let limit = if limit == 0 { 60 } else { limit };
        let filter = match req.opt_str("Filter")? {
            Some(f) => parse_filter(&f)?,
            None => None,
        };
        let only = req.opt_str_list("AttributesToGet")?;
        if let Some(names) = &only {
            for n in names {
                if n != "sub" && pool.schema_attribute(n).is_none() {
                    return Err(Error::invalid_parameter(format!(
                        "One or more requested attributes do not exist: {n}"
                    )));
                }
            }
        }
        let after = req.page_token("PaginationToken")?;
        let page = self
            .store
            .list_users(&pool.id, filter.as_ref(), after.as_deref(), limit)
            .await?;
        let users: Vec<Value> = page
            .items
            .iter()
            .map(|u| user_type(u, "Attributes", only.as_deref()))
            .collect();
        let mut out = json!({ "Users": users });
        if let Some(next) = page.next {
            out["PaginationToken"] = json!(crate::request::encode_page_token(&next));
        }
        Ok(out)
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
