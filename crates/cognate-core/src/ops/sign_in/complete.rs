//! The end of every successful sign-in: tokens, then PostAuthentication.
use crate::error::{Error, Result};
use crate::model::*;
use crate::ops::sign_in::{AuthenticationResult, SignIn};
use crate::service::{CallContext, Cognito};
use crate::tokens::TokenSource;
use crate::triggers::user_attributes_json;
use serde_json::{Map, Value, json};

impl Cognito {
    /// Issues tokens and runs PostAuthentication.
    pub(crate) async fn finish_sign_in(
        &self,
        s: &SignIn<'_>,
        user: &User,
        source: TokenSource,
    ) -> Result<AuthenticationResult> {
        let (pool, client, ctx) = (s.pool, s.client, s.ctx);
        let client_metadata = s.client_metadata.clone();
        let result = self
            .issue_authentication_result(pool, client, user, source, None, client_metadata.clone(), ctx)
            .await?;
        let mut request = Map::new();
        request.insert("userAttributes".into(), Value::Object(user_attributes_json(pool, user)));
        request.insert("newDeviceUsed".into(), json!(false));
        if let Some(md) = client_metadata {
            request.insert("clientMetadata".into(), Value::Object(md));
        }
        self.run_trigger(
            pool,
            "PostAuthentication",
            "PostAuthentication_Authentication",
            "1",
            &user.username,
            Some(&client.client_id),
            ctx,
            request,
            json!({}),
        )
        .await?;
        Ok(result)
    }

    /// [`Cognito::issue_tokens`], typed. Temporary: tokens.rs still answers the result as JSON;
    /// this reads it into [`AuthenticationResult`] until tokens.rs returns the type itself.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn issue_authentication_result(
        &self,
        pool: &UserPool,
        client: &AppClient,
        user: &User,
        source: TokenSource,
        session: Option<&TokenSession>,
        client_metadata: Option<Map<String, Value>>,
        ctx: &CallContext,
    ) -> Result<AuthenticationResult> {
        let json = self
            .issue_tokens(pool, client, user, source, session, client_metadata, ctx)
            .await?;
        serde_json::from_value(json).map_err(Error::internal)
    }
}
