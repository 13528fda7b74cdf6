//! NEW_PASSWORD_REQUIRED: a user with a temporary password (FORCE_CHANGE_PASSWORD) sets a new
//! one, with any required attributes still missing, before the sign-in goes on.
use crate::attributes::{check_password, validate_attributes};
use crate::error::{Error, Result};
use crate::model::*;
use crate::ops::sign_in::challenge::Challenge;
use crate::ops::sign_in::{Next, SignIn};
use crate::service::Cognito;
use crate::tokens::TokenSource;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

impl Cognito {
    pub(crate) async fn new_password_challenge(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
    ) -> Result<Next> {
        let session = self
            .start_challenge(pool, client, user, "NEW_PASSWORD_REQUIRED", Map::new())
            .await?;
        let mut attrs = Map::new();
        for (k, v) in &user.attributes {
            attrs.insert(k.clone(), json!(v));
        }
        let required: Vec<String> = pool
            .schema()
            .iter()
            .filter(|a| a.get("Required").and_then(Value::as_bool) == Some(true))
            .filter_map(|a| a.get("Name").and_then(Value::as_str))
            .filter(|n| *n != "sub" && !user.attributes.contains_key(*n))
            .map(|n| format!("userAttributes.{n}"))
            .collect();
        Ok(Next::Challenge(Challenge {
            name: "NEW_PASSWORD_REQUIRED".into(),
            session,
            parameters: BTreeMap::from([
                ("USER_ID_FOR_SRP".into(), user.username.clone()),
                (
                    "requiredAttributes".into(),
                    serde_json::to_string(&required).expect("json"),
                ),
                ("userAttributes".into(), Value::Object(attrs).to_string()),
            ]),
            available_challenges: Vec::new(),
        }))
    }

    pub(crate) async fn answer_new_password(
        &self,
        s: &SignIn<'_>,
        mut user: User,
        responses: &BTreeMap<String, String>,
    ) -> Result<Next> {
        let pool = s.pool;
        let password = responses
            .get("NEW_PASSWORD")
            .ok_or_else(|| Error::missing("NEW_PASSWORD"))?;
        check_password(pool, password)?;
        let given: Vec<(String, String)> = responses
            .iter()
            .filter_map(|(k, v)| k.strip_prefix("userAttributes.").map(|n| (n.to_owned(), v.clone())))
            .collect();
        let attrs = validate_attributes(pool, &given, false)?;
        for (k, v) in attrs {
            user.attributes.insert(k, v);
        }
        crate::attributes::check_required(pool, &user.attributes)?;
        self.set_password(pool, &mut user, password).await?;
        user.password_changed_ms = self.now_ms();
        user.status = UserStatus::Confirmed;
        self.save_user(pool, &mut user).await?;
        Ok(Next::FirstFactorPassed(user, TokenSource::NewPasswordChallenge))
    }
}
