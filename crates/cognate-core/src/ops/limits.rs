//! Protections against guessing and flooding, as Cognito has them: the attempt limit on codes,
//! the limit on code requests, and the same counters for names that match nobody (so that,
//! with PreventUserExistenceErrors, they answer alike). The password lockout, which only
//! sign-in and ChangePassword meet, is in `sign_in/lockout.rs`.
//!
//! Every check of a password or a code, and every request for a new code, runs under the
//! user's mutex (see `locks.rs`): the counter is read, checked and written back before the next
//! request for that user is looked at. The mutexes, and the counters of unknown names, are per
//! node: several nodes sharing one PostgreSQL database each serialise their own requests only.
use crate::error::{Error, ErrorKind, Result};
use crate::locks::KeyGuard;
use crate::messages::{Channel, delivery_details};
use crate::model::*;
use crate::ops::sign_in::lockout::{LOCKOUT_RESET_MS, Lockout};
use crate::rng::RandomExt;
use crate::service::Cognito;
use crate::store::StoreError;
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// Wrong answers a code takes before it is dead.
pub(crate) const MAX_CODE_ATTEMPTS: u32 = 5;
/// Requests for a new code per user and purpose within [`CODE_REQUEST_WINDOW_MS`].
pub(crate) const MAX_CODE_REQUESTS: usize = 5;
pub(crate) const CODE_REQUEST_WINDOW_MS: i64 = 60 * 60 * 1000;
const CODE_REQUESTS_KEY: &str = "codeRequests";
/// Names that match nobody are forgotten after an hour of quiet, once there are this many.
const GHOSTS_PRUNE_AT: usize = 4096;

/// What is counted for a name that matches no user.
#[derive(Debug, Default)]
pub(crate) struct Ghost {
    pub(crate) lockout: Lockout,
    /// Wrong codes per purpose: (count, first attempt).
    code_attempts: BTreeMap<String, (u32, i64)>,
    /// Code requests per purpose.
    requests: BTreeMap<String, Vec<i64>>,
    touched_ms: i64,
}

pub(crate) fn attempt_limit_exceeded() -> Error {
    Error::new(
        ErrorKind::LimitExceededException,
        "Attempt limit exceeded, please try after some time.",
    )
}

pub(crate) fn code_mismatch() -> Error {
    Error::new(
        ErrorKind::CodeMismatchException,
        "Invalid verification code provided, please try again.",
    )
}

fn expired_code() -> Error {
    Error::new(
        ErrorKind::ExpiredCodeException,
        "Invalid code provided, please request a code again.",
    )
}

/// How a purpose is named in the counters.
pub(crate) fn purpose_label(purpose: &CodePurpose) -> String {
    match purpose {
        CodePurpose::SignUp => "SignUp".into(),
        CodePurpose::ForgotPassword => "ForgotPassword".into(),
        CodePurpose::VerifyAttribute(a) => format!("VerifyAttribute:{a}"),
    }
}

/// Keeps the requests of the last window; refuses one more when the window is full.
fn note_request(times: &mut Vec<i64>, now: i64) -> Result<()> {
    times.retain(|t| now - t < CODE_REQUEST_WINDOW_MS && *t <= now);
    if times.len() >= MAX_CODE_REQUESTS {
        return Err(attempt_limit_exceeded());
    }
    times.push(now);
    Ok(())
}

impl Cognito {
    /// The mutex for guesses at (and code requests for) one user.
    pub(crate) async fn lock_user(&self, pool: &UserPool, username: &str) -> KeyGuard {
        self.guess_locks
            .lock(format!("user\u{0}{}\u{0}{}", pool.id, Self::user_key(pool, username)))
            .await
    }

    /// The user as stored now (read again once its mutex is held).
    pub(crate) async fn reload_user(&self, pool: &UserPool, user: &User) -> Result<User> {
        self.store
            .get_user(&pool.id, &Self::user_key(pool, &user.username))
            .await?
            .ok_or_else(Error::user_not_found)
    }

    /// Applies `change` and writes it without touching UserLastModifiedDate (counters are not
    /// modifications of the user). When another request wrote the user in between, reads it
    /// again and applies `change` to that: a counter is never lost, and a lost race is never
    /// an answer of its own.
    pub(crate) async fn update_quietly(
        &self,
        pool: &UserPool,
        user: &mut User,
        change: impl Fn(&mut User),
    ) -> Result<()> {
        for _ in 0..8 {
            change(user);
            match self
                .store
                .update_user(&Self::user_key(pool, &user.username), user)
                .await
            {
                Ok(()) => {
                    user.version += 1;
                    return Ok(());
                }
                Err(StoreError::Conflict) => *user = self.reload_user(pool, user).await?,
                Err(e) => return Err(e.into()),
            }
        }
        // Nothing was compared yet for codes; for passwords the caller answers as it would
        // anyway (see guarded_password_check).
        Err(Error::new(ErrorKind::TooManyRequestsException, "Too many requests"))
    }

    pub(crate) fn with_ghost<R>(&self, pool: &UserPool, name: &str, f: impl FnOnce(&mut Ghost, i64) -> R) -> R {
        let now = self.now_ms();
        let key = format!("{}\u{0}{}", pool.id, Self::user_key(pool, name));
        let mut ghosts = self.ghosts.lock().expect("ghosts poisoned");
        if ghosts.len() >= GHOSTS_PRUNE_AT && !ghosts.contains_key(&key) {
            ghosts.retain(|_, g| now - g.touched_ms < CODE_REQUEST_WINDOW_MS.max(LOCKOUT_RESET_MS));
        }
        let ghost = ghosts.entry(key).or_default();
        ghost.touched_ms = now;
        f(ghost, now)
    }

    /// Checks a code, serialised with every other guess at the user: reads the user again,
    /// refuses a dead code, and saves the attempt *before* comparing, so that no guess goes
    /// uncounted. On success the code is removed from the returned user (not yet saved): the
    /// caller saves it, holding the returned guard until then.
    pub(crate) async fn check_code(
        &self,
        pool: &UserPool,
        user: &User,
        purpose: &CodePurpose,
        given: &str,
    ) -> Result<(KeyGuard, User)> {
        let guard = self.lock_user(pool, &user.username).await;
        let mut user = self.reload_user(pool, user).await?;
        let find = |u: &User| u.codes.iter().position(|c| &c.purpose == purpose);
        let Some(idx) = find(&user) else {
            return Err(expired_code());
        };
        if user.codes[idx].failed_attempts >= MAX_CODE_ATTEMPTS {
            return Err(attempt_limit_exceeded());
        }
        // Count the attempt first (the count is the number of answers the code has had). The
        // count is added to the record as stored, so that attempts other nodes counted
        // meanwhile (they do not share this node's mutex) stay counted, and this one is compared
        // only if it is among the first MAX_CODE_ATTEMPTS.
        self.update_quietly(pool, &mut user, |u| {
            if let Some(i) = find(u) {
                u.codes[i].failed_attempts += 1;
            }
        })
        .await?;
        let Some(idx) = find(&user) else {
            return Err(expired_code());
        };
        let pending = &user.codes[idx];
        if pending.failed_attempts > MAX_CODE_ATTEMPTS {
            return Err(attempt_limit_exceeded());
        }
        let digest = self.code_digest(&user.pool_id, &user.username, &purpose_label(purpose), given);
        if !cognate_crypto::ct_eq(digest.as_bytes(), pending.digest.as_bytes()) {
            return Err(code_mismatch());
        }
        if pending.expires_ms < self.now_ms() {
            self.update_quietly(pool, &mut user, |u| u.codes.retain(|c| &c.purpose != purpose))
                .await?;
            return Err(expired_code());
        }
        user.codes.remove(idx);
        Ok((guard, user))
    }

    /// A code guess for a name that matches nobody (PreventUserExistenceErrors): a code
    /// mismatch, and after as many as a code takes, the attempt limit. Always an error.
    pub(crate) fn ghost_code_check(&self, pool: &UserPool, name: &str, purpose: &CodePurpose) -> Error {
        let label = purpose_label(purpose);
        self.with_ghost(pool, name, |g, now| {
            let entry = g.code_attempts.entry(label).or_insert((0, now));
            if now - entry.1 >= CODE_REQUEST_WINDOW_MS {
                *entry = (0, now);
            }
            if entry.0 >= MAX_CODE_ATTEMPTS {
                return attempt_limit_exceeded();
            }
            entry.0 += 1;
            code_mismatch()
        })
    }

    /// Counts a request for a new code of `purpose` on `user` (not saved: the caller saves the
    /// user with the new code); refuses more than [`MAX_CODE_REQUESTS`] an hour.
    pub(crate) fn note_code_request(&self, user: &mut User, purpose: &CodePurpose) -> Result<()> {
        let now = self.now_ms();
        let label = purpose_label(purpose);
        let mut all: BTreeMap<String, Vec<i64>> = user
            .extra
            .get(CODE_REQUESTS_KEY)
            .and_then(|v| serde_json::from_value(v.clone()).ok())
            .unwrap_or_default();
        note_request(all.entry(label).or_default(), now)?;
        all.retain(|_, v| !v.is_empty());
        user.extra.insert(CODE_REQUESTS_KEY.into(), json!(all));
        Ok(())
    }

    /// A request for a new code for a name that matches nobody, counted as for a user.
    pub(crate) fn ghost_code_request(&self, pool: &UserPool, name: &str, purpose: &CodePurpose) -> Result<()> {
        let label = purpose_label(purpose);
        self.with_ghost(pool, name, |g, now| {
            note_request(g.requests.entry(label).or_default(), now)
        })
    }

    /// How many wrong answers a replaced code had: a new code does not give new guesses while
    /// the old one was issued within the request window.
    pub(crate) fn carried_attempts(&self, user: &User, purpose: &CodePurpose, ttl_ms: i64) -> u32 {
        let now = self.now_ms();
        user.codes
            .iter()
            .find(|c| &c.purpose == purpose)
            .filter(|c| now - (c.expires_ms - ttl_ms) < CODE_REQUEST_WINDOW_MS)
            .map(|c| c.failed_attempts)
            .unwrap_or(0)
    }

    /// A CodeDeliveryDetails for a name that matches nobody: stable per name (derived from a
    /// pool secret), different between names, shaped like a real one. An email or a phone
    /// number given as the name is masked as itself, as a user's would be.
    pub(crate) async fn stand_in_delivery(&self, pool: &UserPool, name: &str, sms: bool) -> Result<Value> {
        if crate::attributes::looks_like_phone(name) {
            return Ok(delivery_details(Channel::Sms, name));
        }
        if crate::attributes::looks_like_email(name) {
            return Ok(delivery_details(Channel::Email, name));
        }
        let key = self.pool_stand_in_key(pool).await?;
        let mut input = key;
        input.extend_from_slice(b"destination");
        input.extend_from_slice(Self::user_key(pool, name).as_bytes());
        let h = cognate_crypto::sha256(&input);
        if sms {
            let digits: String = h[2..12].iter().map(|b| char::from(b'0' + b % 10)).collect();
            return Ok(delivery_details(Channel::Sms, &format!("+1{digits}")));
        }
        let letter = |b: u8| char::from(b'a' + b % 26);
        let to = format!("{}x@{}x.com", letter(h[0]), letter(h[1]));
        Ok(delivery_details(Channel::Email, &to))
    }

    /// A per-pool secret key for stand-in answers about names that match nobody.
    pub(crate) async fn pool_stand_in_key(&self, pool: &UserPool) -> Result<Vec<u8>> {
        let context = format!("{}/{STAND_IN_KEY}", pool.id);
        let sealed = match self.store.get_secret(&pool.id, STAND_IN_KEY).await? {
            Some(s) => s,
            None => {
                let key: [u8; 32] = self.random.bytes();
                let sealed = self.sealer.seal(&key, context.as_bytes(), self.nonce());
                self.store.put_secret_if_absent(&pool.id, STAND_IN_KEY, &sealed).await?
            }
        };
        let key = self.sealer.open(&sealed, context.as_bytes()).map_err(Error::internal)?;
        Ok(key.to_vec())
    }
}

const STAND_IN_KEY: &str = "stand-in-key";
