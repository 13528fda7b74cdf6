//! The end of every successful sign-in: tokens, then PostAuthentication.
use crate::error::Result;
use crate::model::*;
use crate::ops::sign_in::{AuthenticationResult, SignIn};
use crate::service::Cognito;
use crate::tokens::{SessionUse, TokenSource};
use crate::triggers::events::{EmptyResponse, PostAuthenticationEvent, PostAuthenticationRequest, SyncTriggerEvent};
use crate::triggers::{Trigger, string_map, trigger_envelope, user_attributes_for_trigger};

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
        let (device_key, new_device) = self.device_for_tokens(s, user).await?;
        let session = match &device_key {
            Some(key) => SessionUse::NewOnDevice(key),
            None => SessionUse::New,
        };
        let mut result = self
            .issue_tokens_for(
                pool,
                client,
                user,
                (source, None),
                session,
                client_metadata.clone(),
                ctx,
            )
            .await?;
        let new_device_used = new_device.is_some();
        result.new_device_metadata = new_device;
        self.post_authentication_on(s, user, new_device_used).await?;
        Ok(result)
    }

    /// PostAuthentication, after every factor is right.
    pub(crate) async fn post_authentication(&self, s: &SignIn<'_>, user: &User) -> Result<()> {
        self.post_authentication_on(s, user, false).await
    }

    /// PostAuthentication; `new_device_used` when the sign-in was given a new device key.
    async fn post_authentication_on(&self, s: &SignIn<'_>, user: &User, new_device_used: bool) -> Result<()> {
        let (pool, client, ctx) = (s.pool, s.client, s.ctx);
        let client_metadata = &s.client_metadata;
        let request = PostAuthenticationRequest {
            user_attributes: user_attributes_for_trigger(pool, user),
            new_device_used,
            client_metadata: client_metadata.as_ref().map(string_map),
            ..Default::default()
        };
        let source = "PostAuthentication_Authentication";
        let client_id = Some(client.client_id.as_str());
        let envelope = trigger_envelope(
            pool,
            Trigger::PostAuthentication,
            source,
            &user.username,
            client_id,
            ctx,
        );
        let event = PostAuthenticationEvent::new(envelope, request, EmptyResponse::default());
        self.invoke_trigger(pool, Trigger::PostAuthentication, event).await?;
        Ok(())
    }
}
