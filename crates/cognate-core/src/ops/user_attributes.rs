//! User attributes: UpdateUserAttributes and AdminUpdateUserAttributes,
//! DeleteUserAttributes and AdminDeleteUserAttributes, and the verification of email and
//! phone numbers (GetUserAttributeVerificationCode, VerifyUserAttribute).
use crate::attributes::*;
use crate::error::{Error, Result};
use crate::messages::*;
use crate::model::*;
use crate::ops::types::{CodeDeliveryDetails, CodeDeliveryOutput, metadata_json};
use crate::ops::{Empty, Input};
use crate::request::Request;
use crate::service::{CallContext, Cognito};
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

// ---- inputs ------------------------------------------------------------------------------

/// UpdateUserAttributes. Attributes are (name, value) pairs, as the request lists them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateUserAttributesInput {
    pub access_token: String,
    pub user_attributes: Vec<(String, String)>,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminUpdateUserAttributesInput {
    pub user_pool_id: String,
    pub username: String,
    pub user_attributes: Vec<(String, String)>,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeleteUserAttributesInput {
    pub access_token: String,
    pub user_attribute_names: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminDeleteUserAttributesInput {
    pub user_pool_id: String,
    pub username: String,
    pub user_attribute_names: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct GetUserAttributeVerificationCodeInput {
    pub access_token: String,
    pub attribute_name: String,
    pub client_metadata: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct VerifyUserAttributeInput {
    pub access_token: String,
    pub attribute_name: String,
    pub code: String,
}

fn required_attributes(req: &Request) -> Result<Vec<(String, String)>> {
    req.attribute_list("UserAttributes")?
        .ok_or_else(|| Error::missing("userAttributes"))
}

fn required_names(req: &Request) -> Result<Vec<String>> {
    req.opt_str_list("UserAttributeNames")?
        .ok_or_else(|| Error::missing("userAttributeNames"))
}

impl Input for UpdateUserAttributesInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            access_token: req.str("AccessToken")?,
            user_attributes: required_attributes(req)?,
            client_metadata: req.str_map("ClientMetadata")?,
        })
    }
}

impl Input for AdminUpdateUserAttributesInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            username: req.str("Username")?,
            user_attributes: required_attributes(req)?,
            client_metadata: req.str_map("ClientMetadata")?,
        })
    }
}

impl Input for DeleteUserAttributesInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            access_token: req.str("AccessToken")?,
            user_attribute_names: required_names(req)?,
        })
    }
}

impl Input for AdminDeleteUserAttributesInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            username: req.str("Username")?,
            user_attribute_names: required_names(req)?,
        })
    }
}

impl Input for GetUserAttributeVerificationCodeInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            access_token: req.str("AccessToken")?,
            attribute_name: req.str("AttributeName")?,
            client_metadata: req.str_map("ClientMetadata")?,
        })
    }
}

impl Input for VerifyUserAttributeInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            access_token: req.str("AccessToken")?,
            attribute_name: req.str("AttributeName")?,
            code: req.str("Code")?,
        })
    }
}

// ---- outputs -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UpdateUserAttributesOutput {
    pub code_delivery_details_list: Vec<CodeDeliveryDetails>,
}

// ---- operations --------------------------------------------------------------------------

impl Cognito {
    pub async fn update_user_attributes(
        &self,
        input: UpdateUserAttributesInput,
        ctx: &CallContext,
    ) -> Result<UpdateUserAttributesOutput> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        let (pool, mut user) = (auth.pool, auth.user);
        let client = self.store.get_client(&auth.client_id).await?;
        let changes = validate_attributes_worded(&pool, &input.user_attributes, false, SchemaWording::Update)?;
        if let Some(c) = &client {
            check_writable(c, changes.keys().cloned())?;
        }
        check_mutable(&pool, changes.keys().cloned())?;
        let metadata = metadata_json(&input.client_metadata);
        let client_id = Some(auth.client_id.as_str());
        // Held until the user is saved.
        let _claims = self.claim_changed_username_attributes(&pool, &user, &changes).await?;
        let (deliveries, messages) = self
            .change_attributes(&pool, &mut user, changes, false, client_id, metadata, ctx)
            .await?;
        self.save_user(&pool, &mut user).await?;
        for m in messages {
            self.deliver(m).await?;
        }
        Ok(UpdateUserAttributesOutput {
            code_delivery_details_list: deliveries,
        })
    }

    pub async fn admin_update_user_attributes(
        &self,
        input: AdminUpdateUserAttributesInput,
        ctx: &CallContext,
    ) -> Result<Empty> {
        let (pool, mut user) = self.admin_user(&input.user_pool_id, &input.username).await?;
        let changes = validate_attributes_worded(&pool, &input.user_attributes, true, SchemaWording::Update)?;
        check_mutable(&pool, changes.keys().cloned())?;
        let metadata = metadata_json(&input.client_metadata);
        // Held until the user is saved.
        let _claims = self.claim_changed_username_attributes(&pool, &user, &changes).await?;
        let (_, messages) = self
            .change_attributes(&pool, &mut user, changes, true, None, metadata, ctx)
            .await?;
        self.save_user(&pool, &mut user).await?;
        for m in messages {
            self.deliver(m).await?;
        }
        Ok(Empty {})
    }

    /// Applies attribute changes; changed email/phone numbers lose their verification and,
    /// when auto-verified, get a code. Returns the deliveries to make.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn change_attributes(
        &self,
        pool: &UserPool,
        user: &mut User,
        changes: BTreeMap<String, String>,
        admin: bool,
        client_id: Option<&str>,
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<(Vec<CodeDeliveryDetails>, Vec<Delivery>)> {
        apply_changes(pool, user, &changes);
        let auto = pool.auto_verified_attributes();
        let mut deliveries = Vec::new();
        let mut messages = Vec::new();
        for (name, channel) in [("email", Channel::Email), ("phone_number", Channel::Sms)] {
            let Some(value) = changes.get(name) else { continue };
            let verified_given = changes.get(&format!("{name}_verified")).map(String::as_str);
            if verified_given == Some("true") {
                if admin {
                    self.verify_alias(pool, user, name, false).await?;
                }
                continue;
            }
            let pending = user.pending_attributes.get(name) == Some(value);
            let now_unverified = user.attributes.get(name) == Some(value) && !user.is_verified(name);
            if auto.iter().any(|a| a == name) && (pending || now_unverified) {
                let code = self.new_code(
                    user,
                    CodePurpose::VerifyAttribute(name.to_owned()),
                    ATTRIBUTE_CODE_TTL_MS,
                );
                let out = Outgoing {
                    kind: MessageKind::UpdateUserAttribute,
                    channel,
                    to: value.clone(),
                    code,
                    client_id,
                    client_metadata: client_metadata.clone(),
                };
                messages.push(self.render_message(pool, user, out, ctx).await?);
                deliveries.push(CodeDeliveryDetails::new(channel, value));
            }
        }
        Ok((deliveries, messages))
    }

    pub async fn delete_user_attributes(&self, input: DeleteUserAttributesInput) -> Result<Empty> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        let (pool, mut user) = (auth.pool, auth.user);
        let names = &input.user_attribute_names;
        if let Some(c) = self.store.get_client(&auth.client_id).await? {
            check_writable(&c, names.iter().cloned())?;
        }
        remove_attributes(&pool, &mut user, names)?;
        self.save_user(&pool, &mut user).await?;
        Ok(Empty {})
    }

    pub async fn admin_delete_user_attributes(&self, input: AdminDeleteUserAttributesInput) -> Result<Empty> {
        let (pool, mut user) = self.admin_user(&input.user_pool_id, &input.username).await?;
        remove_attributes(&pool, &mut user, &input.user_attribute_names)?;
        self.save_user(&pool, &mut user).await?;
        Ok(Empty {})
    }

    pub async fn get_user_attribute_verification_code(
        &self,
        input: GetUserAttributeVerificationCodeInput,
        ctx: &CallContext,
    ) -> Result<CodeDeliveryOutput> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        let (pool, mut user) = (auth.pool, auth.user);
        let name = input.attribute_name;
        let channel = match name.as_str() {
            "email" => Channel::Email,
            "phone_number" => Channel::Sms,
            _ => {
                return Err(Error::invalid_parameter(
                    "Invalid attribute name; only email and phone_number can be verified.",
                ));
            }
        };
        let to = user
            .pending_attributes
            .get(&name)
            .or_else(|| user.attributes.get(&name))
            .cloned()
            .ok_or_else(|| Error::invalid_parameter(format!("Attribute {name} is not set for the user.")))?;
        let code = (
            CodePurpose::VerifyAttribute(name.clone()),
            ATTRIBUTE_CODE_TTL_MS,
            MessageKind::VerifyUserAttribute,
        );
        let metadata = metadata_json(&input.client_metadata);
        let client_id = Some(auth.client_id.as_str());
        self.send_new_code(&pool, &mut user, code, (channel, to), client_id, metadata, ctx)
            .await
    }

    pub async fn verify_user_attribute(&self, input: VerifyUserAttributeInput) -> Result<Empty> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        let pool = auth.pool;
        let name = input.attribute_name;
        let purpose = CodePurpose::VerifyAttribute(name.clone());
        let (guard, mut user) = self.check_code(&pool, &auth.user, &purpose, &input.code).await?;
        if let Some(v) = user.pending_attributes.remove(&name) {
            user.attributes.insert(name.clone(), v);
        }
        let alias = self.verify_alias(&pool, &mut user, &name, false).await?;
        self.save_user(&pool, &mut user).await?;
        drop((alias, guard));
        Ok(Empty {})
    }
}

/// Sets the changed values. A changed contact loses its verification unless the change says
/// otherwise; one the pool verifies before updating stays pending until verified.
fn apply_changes(pool: &UserPool, user: &mut User, changes: &BTreeMap<String, String>) {
    let require_before: Vec<String> = pool
        .setting("UserAttributeUpdateSettings")
        .and_then(|u| u.get("AttributesRequireVerificationBeforeUpdate"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_owned).collect())
        .unwrap_or_default();
    let auto = pool.auto_verified_attributes();
    for (name, value) in changes {
        let contact = name == "email" || name == "phone_number";
        let verified_given = changes.get(&format!("{name}_verified")).map(String::as_str);
        let unchanged = user.attributes.get(name) == Some(value);
        if contact
            && !unchanged
            && verified_given != Some("true")
            && require_before.contains(name)
            && user.attributes.contains_key(name)
            && auto.contains(name)
        {
            // Keep the old value until the new one is verified.
            user.pending_attributes.insert(name.clone(), value.clone());
            continue;
        }
        user.attributes.insert(name.clone(), value.clone());
        if contact && !unchanged && verified_given.is_none() {
            user.attributes.insert(format!("{name}_verified"), "false".into());
        }
    }
}

/// Removes attributes, refusing required and immutable ones.
pub(crate) fn remove_attributes(pool: &UserPool, user: &mut User, names: &[String]) -> Result<()> {
    for name in names {
        let def = pool.schema_attribute(name).ok_or_else(|| {
            Error::invalid_parameter(format!("user.{name}: Attribute does not exist in the schema.\n"))
        })?;
        if def.get("Required").and_then(Value::as_bool) == Some(true) || name == "sub" {
            return Err(Error::invalid_parameter(format!(
                "Cannot delete required attribute: {name}"
            )));
        }
        if def.get("Mutable").and_then(Value::as_bool) == Some(false) {
            return Err(Error::invalid_parameter(format!(
                "Cannot modify the non-mutable attribute {name}"
            )));
        }
    }
    for name in names {
        user.attributes.remove(name);
        user.pending_attributes.remove(name);
        if name == "email" || name == "phone_number" {
            user.attributes.remove(&format!("{name}_verified"));
        }
    }
    Ok(())
}
