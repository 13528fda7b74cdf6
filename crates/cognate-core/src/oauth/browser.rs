//! The browser's signed-in session at the hosted pages: a random cookie value, kept in the
//! store only as its digest, for one hour from sign-in (Cognito's hosted UI session lasts one
//! hour whatever the token lifetimes). While it lasts, `/oauth2/authorize` hands out a code
//! without the form; `/logout` ends it.
use crate::error::{Error, Result};
use crate::model::{User, UserPool};
use crate::rng::RandomExt;
use crate::service::Cognito;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

/// How long a browser stays signed in at the hosted pages.
pub const BROWSER_SESSION_SECS: i64 = 3600;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BrowserSession {
    pub pool_id: String,
    pub username: String,
    pub sub: String,
    /// When the user signed in (seconds): `auth_time` of every token this session leads to.
    pub auth_time: i64,
    pub expires_ms: i64,
}

fn record_name(cookie: &str) -> String {
    format!(
        "browser-session/{}",
        cognate_crypto::hex(&cognate_crypto::sha256(cookie.as_bytes()))
    )
}

/// A cookie value we could have issued: base64url, 43 characters.
fn well_formed(cookie: &str) -> bool {
    cookie.len() == 43
        && cookie
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Cognito {
    /// Records a sign-in at the hosted pages; returns the cookie value for the browser.
    pub async fn start_browser_session(&self, pool: &UserPool, user: &User) -> Result<(String, BrowserSession)> {
        let cookie = URL_SAFE_NO_PAD.encode(self.random.bytes::<32>());
        let now_ms = self.now_ms();
        let session = BrowserSession {
            pool_id: pool.id.clone(),
            username: user.username.clone(),
            sub: user.sub.clone(),
            auth_time: now_ms / 1000,
            expires_ms: now_ms + BROWSER_SESSION_SECS * 1000,
        };
        let bytes = serde_json::to_vec(&session).map_err(Error::internal)?;
        self.store.put_secret(&pool.id, &record_name(&cookie), &bytes).await?;
        Ok((cookie, session))
    }

    /// The live session a cookie names, with its user (still there and enabled); `None` when
    /// it expired, was ended, or its user changed.
    pub async fn browser_session(&self, pool: &UserPool, cookie: &str) -> Result<Option<(BrowserSession, User)>> {
        if !well_formed(cookie) {
            return Ok(None);
        }
        let name = record_name(cookie);
        let Some(bytes) = self.store.get_secret(&pool.id, &name).await? else {
            return Ok(None);
        };
        let session: BrowserSession = serde_json::from_slice(&bytes).map_err(Error::internal)?;
        if session.expires_ms <= self.now_ms() {
            self.store.delete_secret(&pool.id, &name).await?;
            return Ok(None);
        }
        let user = self
            .store
            .get_user(&pool.id, &Self::user_key(pool, &session.username))
            .await?
            .filter(|u| u.sub == session.sub && u.enabled);
        Ok(user.map(|u| (session, u)))
    }

    /// Ends the session a cookie names (logout). Unknown cookies are ignored.
    pub async fn end_browser_session(&self, pool: &UserPool, cookie: &str) -> Result<()> {
        if well_formed(cookie) {
            self.store.delete_secret(&pool.id, &record_name(cookie)).await?;
        }
        Ok(())
    }
}
