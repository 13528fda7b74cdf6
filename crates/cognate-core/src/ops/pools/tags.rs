//! A user pool's tags: TagResource, UntagResource and ListTagsForResource. The tags are the
//! pool's UserPoolTags setting, so DescribeUserPool shows them too.
use crate::error::{Error, Result};
use crate::model::UserPool;
use crate::ops::{Empty, Input};
use crate::request::Request;
use crate::service::Cognito;
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

// ---- inputs ------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq)]
pub struct TagResourceInput {
    /// The pool's id, from the request's ResourceArn.
    pub user_pool_id: String,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct UntagResourceInput {
    /// The pool's id, from the request's ResourceArn.
    pub user_pool_id: String,
    pub tag_keys: Vec<String>,
}

/// ListTagsForResource.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceRef {
    /// The pool's id, from the request's ResourceArn.
    pub user_pool_id: String,
}

/// The pool id at the end of a user pool ARN.
fn pool_id_from_arn(req: &Request) -> Result<String> {
    let arn = req.str("ResourceArn")?;
    arn.rsplit_once(":userpool/")
        .map(|(_, id)| id.to_owned())
        .ok_or_else(|| Error::invalid_parameter(format!("Invalid resource ARN {arn}")))
}

impl Input for TagResourceInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: pool_id_from_arn(req)?,
            tags: req.str_map("Tags")?.ok_or_else(|| Error::missing("tags"))?,
        })
    }
}

impl Input for UntagResourceInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: pool_id_from_arn(req)?,
            tag_keys: req.opt_str_list("TagKeys")?.ok_or_else(|| Error::missing("tagKeys"))?,
        })
    }
}

impl Input for ResourceRef {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: pool_id_from_arn(req)?,
        })
    }
}

// ---- outputs -----------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForResourceOutput {
    /// The pool's UserPoolTags as stored.
    pub tags: Value,
}

// ---- operations --------------------------------------------------------------------------

fn stored_tags(pool: &UserPool) -> Map<String, Value> {
    pool.setting("UserPoolTags")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

impl Cognito {
    pub async fn tag_resource(&self, input: TagResourceInput) -> Result<Empty> {
        let mut pool = self.pool(&input.user_pool_id).await?;
        let mut tags = stored_tags(&pool);
        for (k, v) in input.tags {
            tags.insert(k, json!(v));
        }
        pool.settings.insert("UserPoolTags".into(), Value::Object(tags));
        self.store.update_pool(&pool).await?;
        Ok(Empty {})
    }

    pub async fn untag_resource(&self, input: UntagResourceInput) -> Result<Empty> {
        let mut pool = self.pool(&input.user_pool_id).await?;
        let mut tags = stored_tags(&pool);
        for k in &input.tag_keys {
            tags.remove(k);
        }
        pool.settings.insert("UserPoolTags".into(), Value::Object(tags));
        self.store.update_pool(&pool).await?;
        Ok(Empty {})
    }

    pub async fn list_tags_for_resource(&self, input: ResourceRef) -> Result<ListTagsForResourceOutput> {
        let pool = self.pool(&input.user_pool_id).await?;
        Ok(ListTagsForResourceOutput {
            tags: pool.setting("UserPoolTags").cloned().unwrap_or(json!({})),
        })
    }
}
