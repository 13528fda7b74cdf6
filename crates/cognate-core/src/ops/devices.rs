//! Remembered devices: ConfirmDevice, GetDevice, ListDevices, ForgetDevice, UpdateDeviceStatus
//! and their admin twins (AdminGetDevice, AdminListDevices, AdminForgetDevice,
//! AdminUpdateDeviceStatus).
//!
//! A pool with a `DeviceConfiguration` tracks devices: a sign-in without a `DEVICE_KEY` gets a
//! new device key in `NewDeviceMetadata` (recorded here, unconfirmed); ConfirmDevice stores the
//! device's own SRP verifier; a later sign-in that names the device authenticates it with
//! DEVICE_SRP_AUTH (`sign_in/device.rs`), which replaces MFA when the device is remembered.
//!
//! Devices are kept in the pool's secrets scope, one record a device, named
//! `device/{sub}/{device key}` (the user's `sub`, which holds no `/`), so that deleting the pool
//! deletes them; deleting the user deletes them too ([`Cognito::forget_devices_of`]). The
//! verifier inside a record is sealed like a user's SRP verifier.
use crate::error::{Error, Result};
use crate::model::{User, UserPool};
use crate::ops::types::{AttributeType, Timestamp};
use crate::ops::{Empty, Input};
use crate::request::{Request, encode_page_token};
use crate::rng::RandomExt;
use crate::service::Cognito;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cognate_crypto::srp;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Store name prefix of a device in its pool's scope.
const KEY_PREFIX: &str = "device/";

/// ListDevices' Limit: at most 60 (also the default).
const MAX_LIMIT: i64 = 60;

/// `remembered` or `not_remembered` (DeviceRememberedStatusType).
pub const REMEMBERED: &str = "remembered";
pub const NOT_REMEMBERED: &str = "not_remembered";

pub(crate) fn device_not_found() -> Error {
    Error::resource_not_found("Device does not exist.")
}

/// DeviceKeyType: 1–55 characters matching `[\w-]+_[0-9a-f-]+` (a region, `_`, a UUID).
pub(crate) fn check_device_key(key: &str) -> Result<()> {
    let fail = |constraint: &str| Err(Error::constraint("deviceKey", key, constraint));
    if key.is_empty() {
        return fail("Member must have length greater than or equal to 1");
    }
    if key.chars().count() > 55 {
        return fail("Member must have length less than or equal to 55");
    }
    // The suffix cannot hold `_`, so the last `_` is the separator.
    let well_formed = key.rsplit_once('_').is_some_and(|(prefix, suffix)| {
        !prefix.is_empty()
            && prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
            && !suffix.is_empty()
            && suffix
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c) || c == '-')
    });
    if well_formed {
        Ok(())
    } else {
        fail("Member must satisfy regular expression pattern: [\\w-]+_[0-9a-f-]+")
    }
}

/// The pool's DeviceConfiguration, when it tracks devices (any DeviceConfiguration does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DeviceSettings {
    /// A remembered device may stand in for MFA (DEVICE_SRP_AUTH instead of the MFA challenge).
    pub challenge_required_on_new_device: bool,
    /// ConfirmDevice leaves the device `not_remembered` until UpdateDeviceStatus remembers it.
    pub only_remembered_on_user_prompt: bool,
}

pub(crate) fn device_settings(pool: &UserPool) -> Option<DeviceSettings> {
    let dc = pool.setting("DeviceConfiguration")?.as_object()?;
    let flag = |k: &str| dc.get(k).and_then(Value::as_bool).unwrap_or(false);
    Some(DeviceSettings {
        challenge_required_on_new_device: flag("ChallengeRequiredOnNewDevice"),
        only_remembered_on_user_prompt: flag("DeviceOnlyRememberedOnUserPrompt"),
    })
}

// ---- the stored record -------------------------------------------------------------------

/// One device of one user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Device {
    pub key: String,
    /// The "pool name" of the device's SRP (NewDeviceMetadata's DeviceGroupKey).
    pub group_key: String,
    pub username: String,
    #[serde(default)]
    pub name: Option<String>,
    /// `remembered` or `not_remembered`; `None` until ConfirmDevice.
    #[serde(default)]
    pub status: Option<String>,
    /// The device's SRP salt and verifier from ConfirmDevice, sealed (Base64).
    #[serde(default)]
    pub verifier: Option<String>,
    pub created_ms: i64,
    pub modified_ms: i64,
    #[serde(default)]
    pub last_authenticated_ms: Option<i64>,
}

impl Device {
    pub fn confirmed(&self) -> bool {
        self.status.is_some()
    }

    pub fn remembered(&self) -> bool {
        self.status.as_deref() == Some(REMEMBERED)
    }
}

fn record_name(user: &User, device_key: &str) -> String {
    format!("{KEY_PREFIX}{}/{device_key}", user.sub)
}

fn user_prefix(user: &User) -> String {
    format!("{KEY_PREFIX}{}/", user.sub)
}

fn verifier_context(pool: &UserPool, device: &Device) -> String {
    format!("{}/{}/device/{}", pool.id, device.username, device.key)
}

// ---- inputs ------------------------------------------------------------------------------

/// DeviceSecretVerifierConfigType, as the client sent it (Base64 strings).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceSecretVerifierConfig {
    pub password_verifier: Option<String>,
    pub salt: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfirmDeviceInput {
    pub access_token: String,
    pub device_key: String,
    pub device_secret_verifier_config: Option<DeviceSecretVerifierConfig>,
    pub device_name: Option<String>,
}

/// GetDevice and ForgetDevice (ForgetDevice's AccessToken is optional in the model, but
/// nothing names the user without it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceRef {
    pub access_token: String,
    pub device_key: String,
}

pub type GetDeviceInput = DeviceRef;
pub type ForgetDeviceInput = DeviceRef;

/// AdminGetDevice and AdminForgetDevice.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminDeviceRef {
    pub user_pool_id: String,
    pub username: String,
    pub device_key: String,
}

pub type AdminGetDeviceInput = AdminDeviceRef;
pub type AdminForgetDeviceInput = AdminDeviceRef;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListDevicesInput {
    pub access_token: String,
    pub limit: usize,
    pub pagination_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminListDevicesInput {
    pub user_pool_id: String,
    pub username: String,
    pub limit: usize,
    pub pagination_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateDeviceStatusInput {
    pub access_token: String,
    pub device_key: String,
    pub device_remembered_status: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct AdminUpdateDeviceStatusInput {
    pub user_pool_id: String,
    pub username: String,
    pub device_key: String,
    pub device_remembered_status: Option<String>,
}

fn decode_device_key(req: &Request) -> Result<String> {
    let key = req.str("DeviceKey")?;
    check_device_key(&key)?;
    Ok(key)
}

fn decode_username(req: &Request) -> Result<String> {
    let username = req.str("Username")?;
    crate::attributes::check_username(&username)?;
    Ok(username)
}

fn decode_limit(req: &Request) -> Result<usize> {
    match req.limit("Limit", MAX_LIMIT, MAX_LIMIT)? {
        // No limit is the default page.
        0 => Ok(MAX_LIMIT as usize),
        n => Ok(n),
    }
}

fn decode_status(req: &Request) -> Result<Option<String>> {
    let status = req.opt_str("DeviceRememberedStatus")?;
    if let Some(s) = &status
        && s != REMEMBERED
        && s != NOT_REMEMBERED
    {
        return Err(Error::constraint(
            "deviceRememberedStatus",
            s,
            "Member must satisfy enum value set: [remembered, not_remembered]",
        ));
    }
    Ok(status)
}

/// A string member of at most `max` characters (the verifier config's members, 0–131072).
fn check_max(member: &str, value: &str, max: usize) -> Result<()> {
    if value.chars().count() > max {
        return Err(Error::constraint(
            member,
            value,
            &format!("Member must have length less than or equal to {max}"),
        ));
    }
    Ok(())
}

impl Input for ConfirmDeviceInput {
    fn decode(req: &Request) -> Result<Self> {
        let access_token = req.str("AccessToken")?;
        let device_key = decode_device_key(req)?;
        let device_secret_verifier_config = match req.object("DeviceSecretVerifierConfig")? {
            None => None,
            Some(m) => {
                let inner = Request(m);
                let config = DeviceSecretVerifierConfig {
                    password_verifier: inner.opt_str("PasswordVerifier")?,
                    salt: inner.opt_str("Salt")?,
                };
                for (member, value) in [
                    ("deviceSecretVerifierConfig.passwordVerifier", &config.password_verifier),
                    ("deviceSecretVerifierConfig.salt", &config.salt),
                ] {
                    if let Some(v) = value {
                        check_max(member, v, 131_072)?;
                    }
                }
                Some(config)
            }
        };
        let device_name = req.opt_str("DeviceName")?;
        if let Some(name) = &device_name {
            let n = name.chars().count();
            if n == 0 {
                return Err(Error::constraint(
                    "deviceName",
                    name,
                    "Member must have length greater than or equal to 1",
                ));
            }
            check_max("deviceName", name, 1024)?;
        }
        Ok(Self {
            access_token,
            device_key,
            device_secret_verifier_config,
            device_name,
        })
    }
}

impl Input for DeviceRef {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            access_token: req.str("AccessToken")?,
            device_key: decode_device_key(req)?,
        })
    }
}

impl Input for AdminDeviceRef {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            username: decode_username(req)?,
            device_key: decode_device_key(req)?,
        })
    }
}

impl Input for ListDevicesInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            access_token: req.str("AccessToken")?,
            limit: decode_limit(req)?,
            pagination_token: req.page_token("PaginationToken")?,
        })
    }
}

impl Input for AdminListDevicesInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            username: decode_username(req)?,
            limit: decode_limit(req)?,
            pagination_token: req.page_token("PaginationToken")?,
        })
    }
}

impl Input for UpdateDeviceStatusInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            access_token: req.str("AccessToken")?,
            device_key: decode_device_key(req)?,
            device_remembered_status: decode_status(req)?,
        })
    }
}

impl Input for AdminUpdateDeviceStatusInput {
    fn decode(req: &Request) -> Result<Self> {
        Ok(Self {
            user_pool_id: req.pool_id()?,
            username: decode_username(req)?,
            device_key: decode_device_key(req)?,
            device_remembered_status: decode_status(req)?,
        })
    }
}

// ---- outputs -----------------------------------------------------------------------------

/// DeviceType.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeviceType {
    pub device_key: String,
    pub device_attributes: Vec<AttributeType>,
    pub device_create_date: Timestamp,
    pub device_last_modified_date: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_last_authenticated_date: Option<Timestamp>,
}

impl From<&Device> for DeviceType {
    fn from(d: &Device) -> Self {
        let mut device_attributes = Vec::new();
        if let Some(status) = &d.status {
            device_attributes.push(AttributeType::new("device_status", status));
        }
        if let Some(name) = &d.name {
            device_attributes.push(AttributeType::new("device_name", name));
        }
        Self {
            device_key: d.key.clone(),
            device_attributes,
            device_create_date: Timestamp::from_millis(d.created_ms),
            device_last_modified_date: Timestamp::from_millis(d.modified_ms),
            device_last_authenticated_date: d.last_authenticated_ms.map(Timestamp::from_millis),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConfirmDeviceOutput {
    pub user_confirmation_necessary: bool,
}

/// GetDevice and AdminGetDevice.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetDeviceOutput {
    pub device: DeviceType,
}

pub type AdminGetDeviceOutput = GetDeviceOutput;

/// ListDevices and AdminListDevices.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListDevicesOutput {
    pub devices: Vec<DeviceType>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pagination_token: Option<String>,
}

pub type AdminListDevicesOutput = ListDevicesOutput;

// ---- operations --------------------------------------------------------------------------

impl Cognito {
    /// ConfirmDevice: the signed-in user confirms a device key their sign-in was given, with
    /// the device's SRP salt and verifier. Remembered at once, unless the pool remembers
    /// devices only when the user says so (then `UserConfirmationNecessary`).
    pub async fn confirm_device(&self, input: ConfirmDeviceInput) -> Result<ConfirmDeviceOutput> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        let (pool, user) = (&auth.pool, &auth.user);
        let settings = device_settings(pool).ok_or_else(device_not_found)?;
        let mut device = self
            .device(pool, user, &input.device_key)
            .await?
            .ok_or_else(device_not_found)?;
        let config = input.device_secret_verifier_config.unwrap_or_default();
        let verifier = match (config.salt.as_deref(), config.password_verifier.as_deref()) {
            (Some(salt), Some(v)) => srp::Verifier::from_device_config(salt, v)
                .map_err(|_| Error::invalid_parameter("Invalid device secret verifier config."))?,
            // Cognate's reading: a device needs its verifier to authenticate later.
            _ => return Err(Error::invalid_parameter("Invalid device secret verifier config.")),
        };
        let plain = json!({"salt": srp::to_hex(&verifier.salt), "verifier": srp::to_hex(&verifier.verifier)});
        let sealed = self.sealer.seal(
            plain.to_string().as_bytes(),
            verifier_context(pool, &device).as_bytes(),
            self.nonce(),
        );
        device.verifier = Some(STANDARD.encode(sealed));
        device.status = Some(
            if settings.only_remembered_on_user_prompt {
                NOT_REMEMBERED
            } else {
                REMEMBERED
            }
            .to_owned(),
        );
        if input.device_name.is_some() {
            device.name = input.device_name;
        }
        device.modified_ms = self.now_ms();
        self.save_device(pool, user, &device).await?;
        Ok(ConfirmDeviceOutput {
            user_confirmation_necessary: settings.only_remembered_on_user_prompt,
        })
    }

    pub async fn get_device(&self, input: GetDeviceInput) -> Result<GetDeviceOutput> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        let device = self.confirmed_device(&auth.pool, &auth.user, &input.device_key).await?;
        Ok(GetDeviceOutput {
            device: (&device).into(),
        })
    }

    pub async fn admin_get_device(&self, input: AdminGetDeviceInput) -> Result<AdminGetDeviceOutput> {
        let (pool, user) = self.admin_user(&input.user_pool_id, &input.username).await?;
        let device = self.confirmed_device(&pool, &user, &input.device_key).await?;
        Ok(GetDeviceOutput {
            device: (&device).into(),
        })
    }

    pub async fn list_devices(&self, input: ListDevicesInput) -> Result<ListDevicesOutput> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        self.device_page(&auth.pool, &auth.user, input.limit, input.pagination_token)
            .await
    }

    pub async fn admin_list_devices(&self, input: AdminListDevicesInput) -> Result<AdminListDevicesOutput> {
        let (pool, user) = self.admin_user(&input.user_pool_id, &input.username).await?;
        self.device_page(&pool, &user, input.limit, input.pagination_token)
            .await
    }

    /// ForgetDevice: the device is gone; its refresh tokens stop working and a sign-in that
    /// names it is told the device does not exist.
    pub async fn forget_device(&self, input: ForgetDeviceInput) -> Result<Empty> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        self.remove_device(&auth.pool, &auth.user, &input.device_key).await?;
        Ok(Empty {})
    }

    pub async fn admin_forget_device(&self, input: AdminForgetDeviceInput) -> Result<Empty> {
        let (pool, user) = self.admin_user(&input.user_pool_id, &input.username).await?;
        self.remove_device(&pool, &user, &input.device_key).await?;
        Ok(Empty {})
    }

    pub async fn update_device_status(&self, input: UpdateDeviceStatusInput) -> Result<Empty> {
        let auth = self.authenticate_access_token(&input.access_token).await?;
        self.set_device_status(
            &auth.pool,
            &auth.user,
            &input.device_key,
            input.device_remembered_status,
        )
        .await?;
        Ok(Empty {})
    }

    pub async fn admin_update_device_status(&self, input: AdminUpdateDeviceStatusInput) -> Result<Empty> {
        let (pool, user) = self.admin_user(&input.user_pool_id, &input.username).await?;
        self.set_device_status(&pool, &user, &input.device_key, input.device_remembered_status)
            .await?;
        Ok(Empty {})
    }

    // ---- shared ------------------------------------------------------------------------------

    /// A device of `user`, confirmed or not.
    pub(crate) async fn device(&self, pool: &UserPool, user: &User, key: &str) -> Result<Option<Device>> {
        let stored = self.store.get_secret(&pool.id, &record_name(user, key)).await?;
        Ok(stored.and_then(|b| serde_json::from_slice(&b).ok()))
    }

    /// A confirmed device of `user` (one only handed out in NewDeviceMetadata is not listed).
    async fn confirmed_device(&self, pool: &UserPool, user: &User, key: &str) -> Result<Device> {
        self.device(pool, user, key)
            .await?
            .filter(Device::confirmed)
            .ok_or_else(device_not_found)
    }

    pub(crate) async fn save_device(&self, pool: &UserPool, user: &User, device: &Device) -> Result<()> {
        let bytes = serde_json::to_vec(device).map_err(Error::internal)?;
        self.store
            .put_secret(&pool.id, &record_name(user, &device.key), &bytes)
            .await?;
        Ok(())
    }

    /// A new, unconfirmed device for `user`: the DeviceKey (`REGION_uuid`) and DeviceGroupKey
    /// of NewDeviceMetadata.
    pub(crate) async fn new_device(&self, pool: &UserPool, user: &User) -> Result<Device> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        let now = self.now_ms();
        let device = Device {
            key: format!("{}_{}", pool.region(), self.random.uuid_v4()),
            group_key: format!("-{}", self.random.string_from(ALPHABET, 9)),
            username: user.username.clone(),
            name: None,
            status: None,
            verifier: None,
            created_ms: now,
            modified_ms: now,
            last_authenticated_ms: None,
        };
        self.save_device(pool, user, &device).await?;
        Ok(device)
    }

    /// The device's SRP verifier from ConfirmDevice.
    pub(crate) fn device_verifier(&self, pool: &UserPool, device: &Device) -> Option<srp::Verifier> {
        let sealed = STANDARD.decode(device.verifier.as_ref()?).ok()?;
        let plain = self
            .sealer
            .open(&sealed, verifier_context(pool, device).as_bytes())
            .ok()?;
        let v: Value = serde_json::from_slice(&plain).ok()?;
        Some(srp::Verifier {
            salt: srp::from_hex(v.get("salt")?.as_str()?).ok()?,
            verifier: srp::from_hex(v.get("verifier")?.as_str()?).ok()?,
        })
    }

    /// Every device of `user` (confirmed or not), by device key.
    async fn devices_of(&self, pool: &UserPool, user: &User) -> Result<Vec<Device>> {
        let prefix = user_prefix(user);
        Ok(self
            .store
            .list_secrets(&pool.id)
            .await?
            .into_iter()
            .filter(|(name, _)| name.starts_with(&prefix))
            .filter_map(|(_, bytes)| serde_json::from_slice(&bytes).ok())
            .collect())
    }

    async fn device_page(
        &self,
        pool: &UserPool,
        user: &User,
        limit: usize,
        after: Option<String>,
    ) -> Result<ListDevicesOutput> {
        let after = after.unwrap_or_default();
        let mut devices: Vec<Device> = self
            .devices_of(pool, user)
            .await?
            .into_iter()
            .filter(|d| d.confirmed() && d.key > after)
            .collect();
        devices.sort_by(|a, b| a.key.cmp(&b.key));
        let pagination_token = (devices.len() > limit).then(|| {
            devices.truncate(limit);
            devices.last().map(|d| encode_page_token(&d.key)).unwrap_or_default()
        });
        Ok(ListDevicesOutput {
            devices: devices.iter().map(DeviceType::from).collect(),
            pagination_token,
        })
    }

    async fn remove_device(&self, pool: &UserPool, user: &User, key: &str) -> Result<()> {
        let deleted = self.store.delete_secret(&pool.id, &record_name(user, key)).await?;
        if deleted { Ok(()) } else { Err(device_not_found()) }
    }

    async fn set_device_status(&self, pool: &UserPool, user: &User, key: &str, status: Option<String>) -> Result<()> {
        let mut device = self.confirmed_device(pool, user, key).await?;
        if let Some(status) = status {
            device.status = Some(status);
        }
        device.modified_ms = self.now_ms();
        self.save_device(pool, user, &device).await
    }

    /// Deletes every device of a user (when the user is deleted).
    pub(crate) async fn forget_devices_of(&self, pool: &UserPool, user: &User) -> Result<()> {
        for device in self.devices_of(pool, user).await? {
            self.store
                .delete_secret(&pool.id, &record_name(user, &device.key))
                .await?;
        }
        Ok(())
    }
}
