//! WEB_AUTHN, a passkey as the first factor of choice-based sign-in (USER_AUTH): the challenge
//! carries CREDENTIAL_REQUEST_OPTIONS (the request options for `navigator.credentials.get`, as a
//! JSON string, allowing the user's passkeys), answered with CREDENTIAL (the browser's
//! AuthenticationResponseJSON). The assertion is verified by `cognate_crypto::webauthn`; the
//! passkey's signature counter must move, and moves in the store only from the value this
//! request saw, so one assertion signs in once. Anything wrong is NotAuthorizedException and
//! the session is used up.
//!
//! No MFA follows: like the code factors, passkeys are offered only to users without MFA, in
//! pools that do not require it (`user_auth.rs`).
use crate::error::{Error, Result};
use crate::model::*;
use crate::ops::passkeys::{as_stored, challenge_data, relying_party, stored, user_handle, user_verification};
use crate::ops::sign_in::challenge::Challenge;
use crate::ops::sign_in::{Next, SignIn};
use crate::rng::RandomExt;
use crate::service::Cognito;
use crate::store::StoreError;
use crate::tokens::TokenSource;
use cognate_crypto::webauthn::StoredPasskey;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

fn refused() -> Error {
    Error::not_authorized("Incorrect passkey credential for the user.")
}

impl Cognito {
    /// Runs PreAuthentication and returns the WEB_AUTHN challenge for the user's passkeys.
    pub(crate) async fn start_web_authn(&self, s: &SignIn<'_>, user: &User) -> Result<Next> {
        self.pre_authentication(s, user).await?;
        let passkeys = self.usable_passkeys(s.pool, user).await?;
        let rp_id = passkeys
            .first()
            .map(|p| p.relying_party_id.clone())
            .ok_or_else(|| Error::invalid_parameter("The challenge WEB_AUTHN is not available for the user."))?;
        let rp = relying_party(s.pool, &rp_id)?;
        let ids = passkeys.iter().map(stored).collect::<Result<Vec<_>>>()?;
        let allowed: Vec<StoredPasskey<'_>> = ids.iter().map(|(id, p)| as_stored(id, p)).collect();
        let minutes = s
            .client
            .setting("AuthSessionValidity")
            .and_then(Value::as_i64)
            .unwrap_or(3);
        let (options, state) = rp
            .authentication(
                &allowed,
                &self.random.bytes::<32>(),
                user_verification(s.pool),
                Duration::from_secs(minutes.max(1) as u64 * 60),
            )
            .map_err(|e| Error::internal(format!("passkey request options: {e}")))?;
        let session = self
            .start_challenge(s.pool, s.client, user, "WEB_AUTHN", challenge_data(&rp_id, state))
            .await?;
        Ok(Next::Challenge(Challenge {
            name: "WEB_AUTHN".into(),
            session,
            parameters: BTreeMap::from([("CREDENTIAL_REQUEST_OPTIONS".to_owned(), options.to_string())]),
            available_challenges: Vec::new(),
        }))
    }

    /// CREDENTIAL: signed in when the assertion verifies against one of the user's passkeys.
    pub(crate) async fn answer_web_authn(
        &self,
        s: &SignIn<'_>,
        session: &ChallengeSession,
        user: User,
        responses: &BTreeMap<String, String>,
    ) -> Result<Next> {
        let credential = responses
            .get("CREDENTIAL")
            .ok_or_else(|| Error::invalid_parameter("Missing required parameter CREDENTIAL"))?;
        let response: Value = serde_json::from_str(credential).map_err(|_| refused())?;
        let text = |k: &str| session.data.get(k).and_then(Value::as_str);
        let (Some(rp_id), Some(state)) = (text("rpId"), text("state")) else {
            return Err(Error::internal("WEB_AUTHN session without its ceremony"));
        };
        let id = cognate_crypto::webauthn::response_credential_id(&response).ok_or_else(refused)?;
        let passkey = self
            .store
            .get_passkey(&s.pool.id, &crate::ops::passkeys::base64_url(&id))
            .await?
            .filter(|p| p.user_sub == user.sub && p.relying_party_id == rp_id)
            .ok_or_else(refused)?;
        let rp = relying_party(s.pool, rp_id)?;
        let assertion = rp
            .finish_authentication(state, &as_stored(&id, &passkey), user_handle(&user), &response)
            .map_err(|_| refused())?;
        let seen = passkey.sign_count;
        let updated = Passkey {
            sign_count: assertion.sign_count,
            credential: assertion.credential,
            ..passkey
        };
        match self.store.update_passkey(&updated, seen).await {
            Ok(()) => {}
            // Another sign-in moved the counter (or deleted the passkey) meanwhile.
            Err(StoreError::Conflict) => return Err(refused()),
            Err(e) => return Err(e.into()),
        }
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        Ok(Next::SignedIn(user, TokenSource::Authentication))
    }
}
