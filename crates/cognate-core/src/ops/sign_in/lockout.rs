//! Guess counting for passwords, as Cognito has it: the progressive lockout of a user after
//! repeated wrong passwords, and the same for names that match nobody (so that, with
//! PreventUserExistenceErrors, they answer alike). Every password check runs under the
//! user's mutex (see `limits.rs` and `locks.rs`). Code attempts and code requests, which
//! sign-up and password reset share, are counted in `limits.rs`.
use crate::error::{Error, Result};
use crate::locks::KeyGuard;
use crate::model::*;
use crate::service::Cognito;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Failures in a row before the first lockout (Cognito: "After five failed sign-in attempts").
pub(crate) const LOCKOUT_THRESHOLD: i64 = 5;
/// The longest lockout ("up to a maximum of approximately 15 minutes").
const LOCKOUT_MAX_MS: i64 = 15 * 60 * 1000;
/// Quiet time after which the count of failures starts again.
pub(crate) const LOCKOUT_RESET_MS: i64 = 15 * 60 * 1000;
const LOCKOUT_KEY: &str = "lockout";
const DUMMY_HASH: &str = "dummy-password-hash";

/// The lockout state of a user (kept in `User::extra`) or of an unknown name.
#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Lockout {
    #[serde(default)]
    failures: i64,
    #[serde(default)]
    last_failure_ms: i64,
    #[serde(default)]
    until_ms: i64,
}

impl Lockout {
    fn of(user: &User) -> Self {
        user.extra
            .get(LOCKOUT_KEY)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default()
    }

    pub(crate) fn locked(&self, now: i64) -> bool {
        now < self.until_ms
    }

    /// Counts a failure. From the fifth in a row the name is locked out for 2^(n-5) seconds
    /// (1 s, 2 s, 4 s, …), at most 15 minutes; 15 minutes without a failure start again.
    pub(crate) fn fail(&mut self, now: i64) {
        if now - self.last_failure_ms >= LOCKOUT_RESET_MS {
            self.failures = 0;
        }
        self.failures += 1;
        self.last_failure_ms = now;
        self.until_ms = if self.failures >= LOCKOUT_THRESHOLD {
            let exp = (self.failures - LOCKOUT_THRESHOLD).min(20) as u32;
            now + (1000i64 << exp).min(LOCKOUT_MAX_MS)
        } else {
            0
        };
    }
}

pub(crate) fn password_attempts_exceeded() -> Error {
    Error::not_authorized("Password attempts exceeded")
}

impl Cognito {
    /// The mutex for guesses at a name that matches nobody.
    async fn lock_ghost(&self, pool: &UserPool, name: &str) -> KeyGuard {
        self.guess_locks
            .lock(format!("name\u{0}{}\u{0}{}", pool.id, Self::user_key(pool, name)))
            .await
    }

    /// Refuses a password check while the user is locked out after repeated failures.
    pub(crate) fn check_lockout(&self, user: &User) -> Result<()> {
        if Lockout::of(user).locked(self.now_ms()) {
            return Err(password_attempts_exceeded());
        }
        Ok(())
    }

    /// Counts the result of a password check: a failure towards the lockout, a success ends
    /// the count. Call with the user's mutex held.
    pub(crate) async fn record_password_result(&self, pool: &UserPool, user: &mut User, ok: bool) -> Result<()> {
        let now = self.now_ms();
        if ok {
            if user.extra.contains_key(LOCKOUT_KEY) {
                self.update_quietly(pool, user, |u| {
                    u.extra.remove(LOCKOUT_KEY);
                })
                .await?;
            }
            return Ok(());
        }
        self.update_quietly(pool, user, |u| {
            let mut l = Lockout::of(u);
            l.fail(now);
            u.extra.insert(LOCKOUT_KEY.into(), json!(l));
        })
        .await
    }

    /// One password check for a known user, serialised with every other guess at that user:
    /// reads the user again, refuses while locked out (with `locked()`, without checking the
    /// password), checks, and counts the result. Returns the user as stored now, or
    /// "Incorrect username or password.".
    pub(crate) async fn guarded_password_check(
        &self,
        pool: &UserPool,
        user: &User,
        password: &str,
        locked: fn() -> Error,
    ) -> Result<User> {
        let _guard = self.lock_user(pool, &user.username).await;
        let mut user = self.reload_user(pool, user).await?;
        if Lockout::of(&user).locked(self.now_ms()) {
            return Err(locked());
        }
        let ok = match &user.password_hash {
            Some(h) => self.compute.verify_password(password.to_owned(), h.clone()).await?,
            None => {
                self.dummy_password_check(pool, password).await?;
                false
            }
        };
        // A counter that could not be written must not change the answer: the answer would
        // then tell whether the password was right.
        if let Err(e) = self.record_password_result(pool, &mut user, ok).await {
            tracing::warn!(error = %e, "could not count a password check");
        }
        if !ok {
            return Err(Error::incorrect_credentials());
        }
        Ok(user)
    }

    /// Refuses a name that matches nobody while it is "locked out", as for a user.
    pub(crate) fn check_ghost_lockout(&self, pool: &UserPool, name: &str) -> Result<()> {
        if self.with_ghost(pool, name, |g, now| g.lockout.locked(now)) {
            return Err(password_attempts_exceeded());
        }
        Ok(())
    }

    /// A password guess at a name that matches nobody (PreventUserExistenceErrors): counted
    /// like a wrong password, so that the name is "locked out" after as many failures as a
    /// user; `password` is checked against a dummy hash, so that it costs the same time.
    /// Always an error.
    pub(crate) async fn ghost_password_check(&self, pool: &UserPool, name: &str, password: Option<&str>) -> Error {
        let _guard = self.lock_ghost(pool, name).await;
        if let Err(e) = self.check_ghost_lockout(pool, name) {
            return e;
        }
        if let Some(p) = password
            && let Err(e) = self.dummy_password_check(pool, p).await
        {
            return e;
        }
        self.with_ghost(pool, name, |g, now| g.lockout.fail(now));
        Error::incorrect_credentials()
    }

    /// Verifies `password` against a hash of nothing in particular: for names that match no
    /// user, so that the answer takes as long as a real check.
    pub(crate) async fn dummy_password_check(&self, pool: &UserPool, password: &str) -> Result<()> {
        let phc = match self.store.get_secret(&pool.id, DUMMY_HASH).await? {
            Some(h) => String::from_utf8(h).map_err(Error::internal)?,
            None => {
                let h = self.hash(&self.random_string(crate::service::ALNUM, 32)).await?;
                let stored = self
                    .store
                    .put_secret_if_absent(&pool.id, DUMMY_HASH, h.as_bytes())
                    .await?;
                String::from_utf8(stored).map_err(Error::internal)?
            }
        };
        let _ = self.compute.verify_password(password.to_owned(), phc).await?;
        Ok(())
    }
}
