//! Making new users: usernames from what was given, uniqueness of usernames and username
//! attributes (with claims that survive races), alias verification, and password hashes. Shared
//! by SignUp, AdminCreateUser and user migration.
use crate::attributes::{looks_like_email, looks_like_phone};
use crate::error::{Error, ErrorKind, Result};
use crate::model::*;
use crate::rng::RandomExt;
use crate::service::Cognito;
use serde_json::Map;
use std::collections::BTreeMap;

impl Cognito {
    /// Maps the name a user signs up with to (username, attributes), following the pool's
    /// UsernameAttributes / AliasAttributes.
    pub(crate) fn username_for_new_user(
        &self,
        pool: &UserPool,
        given: &str,
        attrs: &mut BTreeMap<String, String>,
    ) -> Result<String> {
        let username_attrs = pool.username_attributes();
        if !username_attrs.is_empty() {
            let email = username_attrs.iter().any(|a| a == "email");
            let phone = username_attrs.iter().any(|a| a == "phone_number");
            if email && looks_like_email(given) {
                attrs.insert("email".into(), given.to_owned());
            } else if phone && looks_like_phone(given) {
                attrs.insert("phone_number".into(), given.to_owned());
            } else {
                return Err(Error::invalid_parameter(match (email, phone) {
                    (true, true) => "Username should be either an email or a phone number.",
                    (true, false) => "Username should be an email.",
                    _ => "Username should be a phone number.",
                }));
            }
            return Ok(self.random.uuid_v4());
        }
        let alias = pool.alias_attributes();
        if alias.iter().any(|a| a == "email") && looks_like_email(given) {
            return Err(Error::invalid_parameter(
                "Username cannot be of email format, since user pool is configured for email alias.",
            ));
        }
        if alias.iter().any(|a| a == "phone_number") && looks_like_phone(given) {
            return Err(Error::invalid_parameter(
                "Username cannot be of phone number format, since user pool is configured for phone number alias.",
            ));
        }
        Ok(given.to_owned())
    }

    /// Refuses a new user whose username or username attribute is taken.
    ///
    /// Values of username attributes (email, phone_number) are compared as the pool compares
    /// usernames (lower-cased when it is case-insensitive). Each value is claimed: the check
    /// holds a per-node mutex per value (returned; keep it until the user is inserted), and
    /// records the claim in the store (`put_secret_if_absent`, atomic in the database), so that
    /// simultaneous sign-ups with one value create one account. A claim whose holder no longer
    /// has the value is stale and taken over.
    pub(crate) async fn check_user_unique(
        &self,
        pool: &UserPool,
        username: &str,
        attrs: &BTreeMap<String, String>,
    ) -> Result<Vec<crate::locks::KeyGuard>> {
        let (keys, guards) = self.lock_unique_values(pool, attrs).await;
        if self
            .store
            .get_user(&pool.id, &Self::user_key(pool, username))
            .await?
            .is_some()
        {
            return Err(Error::new(ErrorKind::UsernameExistsException, "User already exists"));
        }
        for (attr, norm) in &keys {
            let given = attrs.get(attr).map(String::as_str).unwrap_or_default();
            if self.claim_unique_value(pool, username, attr, given, norm).await? {
                return Err(value_taken(attr));
            }
        }
        Ok(guards)
    }

    /// Claims for `user` the username attribute values among `changes`, as
    /// [`Cognito::check_user_unique`] does for a new user; a value another user has is
    /// AliasExistsException, as Cognito answers UpdateUserAttributes. Keep the guards until the
    /// user is saved.
    pub(crate) async fn claim_changed_username_attributes(
        &self,
        pool: &UserPool,
        user: &User,
        changes: &BTreeMap<String, String>,
    ) -> Result<Vec<crate::locks::KeyGuard>> {
        let (keys, guards) = self.lock_unique_values(pool, changes).await;
        for (attr, norm) in &keys {
            let given = changes.get(attr).map(String::as_str).unwrap_or_default();
            if self.claim_unique_value(pool, &user.username, attr, given, norm).await? {
                return Err(Error::new(
                    ErrorKind::AliasExistsException,
                    format!("An account with the given {attr} already exists."),
                ));
            }
        }
        Ok(guards)
    }

    /// The (attribute, normalised value) pairs of the username attributes in `attrs`, each
    /// locked, in a fixed order so that two requests cannot wait for each other.
    async fn lock_unique_values(
        &self,
        pool: &UserPool,
        attrs: &BTreeMap<String, String>,
    ) -> (Vec<(String, String)>, Vec<crate::locks::KeyGuard>) {
        let mut keys: Vec<(String, String)> = pool
            .username_attributes()
            .into_iter()
            .filter_map(|attr| attrs.get(&attr).map(|v| (attr, Self::user_key(pool, v))))
            .collect();
        keys.sort();
        let mut guards = Vec::new();
        for (attr, norm) in &keys {
            guards.push(
                self.guess_locks
                    .lock(format!("unique\u{0}{}\u{0}{attr}:{norm}", pool.id))
                    .await,
            );
        }
        (keys, guards)
    }

    /// Records `username` as the holder of a username attribute's value; `true` when another
    /// user has the value. Users from before claims existed are found by the value as given
    /// and as normalised. A claim whose holder no longer has the value is stale and taken over.
    async fn claim_unique_value(
        &self,
        pool: &UserPool,
        username: &str,
        attr: &str,
        given: &str,
        norm: &str,
    ) -> Result<bool> {
        for v in [given, norm] {
            let others = self.store.find_users(&pool.id, attr, v).await?;
            if others.iter().any(|u| u.username != username) {
                return Ok(true);
            }
        }
        // Kept with the pool's other secrets, so that they go with the pool.
        let (scope, name) = (pool.id.as_str(), unique_claim(attr, norm));
        let held = self
            .store
            .put_secret_if_absent(scope, &name, username.as_bytes())
            .await?;
        if held != username.as_bytes() {
            let holder = String::from_utf8_lossy(&held).into_owned();
            let holds = self
                .store
                .get_user(&pool.id, &Self::user_key(pool, &holder))
                .await?
                .and_then(|u| u.attributes.get(attr).map(|v| Self::user_key(pool, v)))
                .is_some_and(|v| v == norm);
            if holds {
                return Ok(true);
            }
            self.store.put_secret(scope, &name, username.as_bytes()).await?;
        }
        Ok(false)
    }

    pub(crate) fn new_user(
        &self,
        pool: &UserPool,
        username: String,
        attributes: BTreeMap<String, String>,
        status: UserStatus,
    ) -> User {
        let now = self.now_ms();
        // With email/phone as username, Cognito's generated username is the sub itself.
        let sub = if pool.username_attributes().is_empty() {
            self.random.uuid_v4()
        } else {
            username.clone()
        };
        User {
            pool_id: pool.id.clone(),
            username,
            sub,
            attributes,
            status,
            enabled: true,
            created_ms: now,
            modified_ms: now,
            password_hash: None,
            password_changed_ms: now,
            codes: vec![],
            pending_attributes: BTreeMap::new(),
            extra: Map::new(),
            version: 0,
        }
    }

    pub(crate) async fn hash(&self, password: &str) -> Result<String> {
        self.compute
            .hash_password(password.to_owned(), self.random.bytes())
            .await
    }

    /// Marks `attr` verified on `user`, taking the alias from any other user who held it
    /// (with `force`), or failing with AliasExistsException.
    ///
    /// For an alias attribute, returns the (per-node) mutex of the value, compared as the pool
    /// compares usernames: keep it until `user` is saved, so that two users cannot both verify
    /// one value at the same time.
    pub(crate) async fn verify_alias(
        &self,
        pool: &UserPool,
        user: &mut User,
        attr: &str,
        force: bool,
    ) -> Result<Option<crate::locks::KeyGuard>> {
        let mut guard = None;
        if pool.alias_attributes().iter().any(|a| a == attr)
            && let Some(value) = user.attributes.get(attr).cloned()
        {
            let norm = Self::user_key(pool, &value);
            guard = Some(
                self.guess_locks
                    .lock(format!("alias\u{0}{}\u{0}{attr}:{norm}", pool.id))
                    .await,
            );
            let mut holders = self.store.find_users(&pool.id, attr, &value).await?;
            if norm != value {
                holders.extend(self.store.find_users(&pool.id, attr, &norm).await?);
            }
            for mut other in holders {
                if other.username != user.username && other.is_verified(attr) {
                    if !force {
                        return Err(Error::new(
                            ErrorKind::AliasExistsException,
                            format!(
                                "An account with the {} already exists.",
                                if attr == "email" { "email" } else { "phone number" }
                            ),
                        ));
                    }
                    other.attributes.insert(format!("{attr}_verified"), "false".into());
                    self.save_user(pool, &mut other).await?;
                }
            }
        }
        user.attributes.insert(format!("{attr}_verified"), "true".into());
        Ok(guard)
    }
    /// Inserts a new user; a user inserted meanwhile under the name fails with
    /// UsernameExistsException and `exists_message`.
    pub(crate) async fn insert_new_user(&self, pool: &UserPool, user: &User, exists_message: &str) -> Result<()> {
        match self
            .store
            .insert_user(&Self::user_key(pool, &user.username), user)
            .await
        {
            Ok(()) => Ok(()),
            Err(crate::store::StoreError::AlreadyExists) => {
                Err(Error::new(ErrorKind::UsernameExistsException, exists_message))
            }
            Err(e) => Err(e.into()),
        }
    }
}

fn value_taken(attr: &str) -> Error {
    Error::new(
        ErrorKind::UsernameExistsException,
        format!("An account with the given {attr} already exists."),
    )
}

/// The name of the secret that claims a username attribute's (normalised) value.
pub(crate) fn unique_claim(attr: &str, normalised: &str) -> String {
    format!("unique/{attr}:{normalised}")
}
