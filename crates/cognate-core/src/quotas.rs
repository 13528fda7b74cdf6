//! Cognito's request-rate quotas: every operation belongs to a category (UserAuthentication,
//! UserCreation, …) with a rate in requests per second, and a request over the rate answers
//! `TooManyRequestsException: Rate exceeded`. Categories, defaults and the special handling of
//! challenge responses follow AWS's quota page ("Quotas in Amazon Cognito"). AWS counts a
//! category over a whole account and Region; Cognate counts it per user pool (requests that name
//! no pool, such as CreateUserPool and ListUserPools, share one count), in this process only.
use std::collections::HashMap;
use std::sync::Mutex;

use crate::error::{Error, ErrorKind, Result};

/// A quota category of the user pools API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    UserAuthentication,
    UserCreation,
    UserAccountRecovery,
    UserRead,
    UserUpdate,
    UserToken,
    UserResourceRead,
    UserResourceUpdate,
    UserList,
    UserPoolRead,
    UserPoolUpdate,
    UserPoolResourceRead,
    UserPoolResourceUpdate,
    UserPoolClientRead,
    UserPoolClientUpdate,
    ClientAuthentication,
}

impl Category {
    pub const ALL: [Category; 16] = [
        Category::UserAuthentication,
        Category::UserCreation,
        Category::UserAccountRecovery,
        Category::UserRead,
        Category::UserUpdate,
        Category::UserToken,
        Category::UserResourceRead,
        Category::UserResourceUpdate,
        Category::UserList,
        Category::UserPoolRead,
        Category::UserPoolUpdate,
        Category::UserPoolResourceRead,
        Category::UserPoolResourceUpdate,
        Category::UserPoolClientRead,
        Category::UserPoolClientUpdate,
        Category::ClientAuthentication,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Category::UserAuthentication => "UserAuthentication",
            Category::UserCreation => "UserCreation",
            Category::UserAccountRecovery => "UserAccountRecovery",
            Category::UserRead => "UserRead",
            Category::UserUpdate => "UserUpdate",
            Category::UserToken => "UserToken",
            Category::UserResourceRead => "UserResourceRead",
            Category::UserResourceUpdate => "UserResourceUpdate",
            Category::UserList => "UserList",
            Category::UserPoolRead => "UserPoolRead",
            Category::UserPoolUpdate => "UserPoolUpdate",
            Category::UserPoolResourceRead => "UserPoolResourceRead",
            Category::UserPoolResourceUpdate => "UserPoolResourceUpdate",
            Category::UserPoolClientRead => "UserPoolClientRead",
            Category::UserPoolClientUpdate => "UserPoolClientUpdate",
            Category::ClientAuthentication => "ClientAuthentication",
        }
    }

    pub fn from_name(name: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.name() == name)
    }

    /// AWS's default rate, in requests per second.
    pub fn default_rps(self) -> u32 {
        match self {
            Category::UserAuthentication | Category::UserRead | Category::UserToken => 120,
            Category::UserCreation | Category::UserResourceRead => 50,
            Category::UserAccountRecovery | Category::UserList => 30,
            Category::UserUpdate | Category::UserResourceUpdate => 25,
            Category::UserPoolResourceRead => 20,
            Category::UserPoolRead
            | Category::UserPoolUpdate
            | Category::UserPoolResourceUpdate
            | Category::UserPoolClientRead
            | Category::UserPoolClientUpdate => 15,
            Category::ClientAuthentication => 150,
        }
    }

    /// Categories in which each operation is also held to 5 requests per second per pool.
    fn per_operation_cap(self) -> Option<u32> {
        matches!(
            self,
            Category::UserPoolResourceRead
                | Category::UserPoolResourceUpdate
                | Category::UserPoolClientRead
                | Category::UserPoolClientUpdate
        )
        .then_some(5)
    }
}

/// The category an operation counts against. A response to a NEW_PASSWORD_REQUIRED challenge
/// counts as account recovery; other challenge responses as authentication.
pub fn category_of(operation: &str, challenge_name: Option<&str>) -> Option<Category> {
    use Category::*;
    Some(match operation {
        "InitiateAuth" | "AdminInitiateAuth" | "GetTokensFromRefreshToken" => UserAuthentication,
        "RespondToAuthChallenge" | "AdminRespondToAuthChallenge" => {
            if challenge_name == Some("NEW_PASSWORD_REQUIRED") {
                UserAccountRecovery
            } else {
                UserAuthentication
            }
        }
        "SignUp" | "ConfirmSignUp" | "AdminCreateUser" | "AdminConfirmSignUp" => UserCreation,
        "ChangePassword"
        | "ConfirmForgotPassword"
        | "ForgotPassword"
        | "AdminResetUserPassword"
        | "AdminSetUserPassword" => UserAccountRecovery,
        "AdminGetUser" | "AdminGetUserAuthFactors" | "GetUser" | "GetUserAuthFactors" => UserRead,
        "AdminAddUserToGroup"
        | "AdminDeleteUserAttributes"
        | "AdminUpdateUserAttributes"
        | "AdminDeleteUser"
        | "AdminDisableUser"
        | "AdminEnableUser"
        | "AdminLinkProviderForUser"
        | "AdminDisableProviderForUser"
        | "VerifyUserAttribute"
        | "DeleteUser"
        | "DeleteUserAttributes"
        | "UpdateUserAttributes"
        | "AdminUserGlobalSignOut"
        | "GlobalSignOut"
        | "AdminRemoveUserFromGroup" => UserUpdate,
        "RevokeToken" => UserToken,
        "AdminGetDevice"
        | "AdminListGroupsForUser"
        | "AdminListDevices"
        | "GetDevice"
        | "ListDevices"
        | "GetUserAttributeVerificationCode"
        | "ResendConfirmationCode"
        | "AdminListUserAuthEvents"
        | "ListWebAuthnCredentials" => UserResourceRead,
        "AdminForgetDevice"
        | "AdminUpdateAuthEventFeedback"
        | "AdminSetUserMFAPreference"
        | "AdminDeleteSoftwareToken"
        | "AdminSetUserSettings"
        | "AdminUpdateDeviceStatus"
        | "UpdateDeviceStatus"
        | "UpdateAuthEventFeedback"
        | "ConfirmDevice"
        | "SetUserMFAPreference"
        | "SetUserSettings"
        | "VerifySoftwareToken"
        | "AssociateSoftwareToken"
        | "ForgetDevice"
        | "StartWebAuthnRegistration"
        | "CompleteWebAuthnRegistration"
        | "DeleteWebAuthnCredential" => UserResourceUpdate,
        "ListUsers" | "ListUsersInGroup" => UserList,
        "DescribeUserPool" | "ListUserPools" => UserPoolRead,
        "CreateUserPool" | "UpdateUserPool" | "DeleteUserPool" => UserPoolUpdate,
        "DescribeIdentityProvider"
        | "DescribeResourceServer"
        | "DescribeUserImportJob"
        | "DescribeUserPoolDomain"
        | "GetCSVHeader"
        | "GetGroup"
        | "GetSigningCertificate"
        | "GetIdentityProviderByIdentifier"
        | "GetUserPoolMfaConfig"
        | "ListGroups"
        | "ListIdentityProviders"
        | "ListResourceServers"
        | "ListTagsForResource"
        | "ListUserImportJobs"
        | "DescribeRiskConfiguration"
        | "GetUICustomization"
        | "DescribeManagedLoginBranding"
        | "DescribeManagedLoginBrandingByClient" => UserPoolResourceRead,
        "AddCustomAttributes"
        | "CreateGroup"
        | "CreateIdentityProvider"
        | "CreateResourceServer"
        | "CreateUserImportJob"
        | "CreateUserPoolDomain"
        | "DeleteGroup"
        | "DeleteIdentityProvider"
        | "DeleteResourceServer"
        | "DeleteUserPoolDomain"
        | "SetUserPoolMfaConfig"
        | "StartUserImportJob"
        | "StopUserImportJob"
        | "UpdateGroup"
        | "UpdateIdentityProvider"
        | "UpdateResourceServer"
        | "UpdateUserPoolDomain"
        | "SetRiskConfiguration"
        | "SetUICustomization"
        | "TagResource"
        | "UntagResource"
        | "CreateManagedLoginBranding"
        | "UpdateManagedLoginBranding"
        | "DeleteManagedLoginBranding" => UserPoolResourceUpdate,
        "DescribeUserPoolClient" | "ListUserPoolClients" => UserPoolClientRead,
        "CreateUserPoolClient" | "DeleteUserPoolClient" | "UpdateUserPoolClient" => UserPoolClientUpdate,
        "GetClientToken" => ClientAuthentication,
        _ => return None,
    })
}

/// The rates in force: AWS's defaults, with any category set to another rate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuotaSettings {
    pub overrides: HashMap<Category, u32>,
}

impl QuotaSettings {
    /// Parses `Category=RPS`, as given on the command line.
    pub fn set_from_str(&mut self, spec: &str) -> std::result::Result<(), String> {
        let (name, rps) = spec
            .split_once('=')
            .ok_or_else(|| format!("{spec:?}: expected CATEGORY=REQUESTS_PER_SECOND"))?;
        let category = Category::from_name(name.trim()).ok_or_else(|| {
            let names: Vec<_> = Category::ALL.iter().map(|c| c.name()).collect();
            format!("unknown quota category {name:?}; one of {}", names.join(", "))
        })?;
        let rps: u32 = rps
            .trim()
            .parse()
            .ok()
            .filter(|r| *r > 0)
            .ok_or_else(|| format!("{spec:?}: the rate must be a whole number of requests per second above 0"))?;
        self.overrides.insert(category, rps);
        Ok(())
    }

    pub fn rps(&self, category: Category) -> u32 {
        self.overrides
            .get(&category)
            .copied()
            .unwrap_or_else(|| category.default_rps())
    }
}

/// A token bucket holding up to one second of requests.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

impl Bucket {
    fn take(&mut self, rps: u32, now_ms: i64) -> bool {
        let rate = f64::from(rps);
        let elapsed = (now_ms - self.at_ms).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * rate).min(rate);
        self.at_ms = now_ms.max(self.at_ms);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What a bucket counts: a category, the challenge-response allowance of UserAuthentication, or
/// one operation of a capped category; in one pool (`""`: requests that name no pool).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Counted {
    Category(Category),
    Challenges,
    Operation(&'static str),
}

/// The live counts.
pub struct Quotas {
    settings: QuotaSettings,
    buckets: Mutex<HashMap<(Counted, String), Bucket>>,
    /// Client ids seen, with their pool: most operations name a client, not a pool, and a
    /// client never moves to another pool.
    client_pools: Mutex<HashMap<String, String>>,
}

/// How many client ids to remember before starting over (bounds memory under junk ids).
const CLIENT_CACHE_LIMIT: usize = 10_000;

impl Quotas {
    pub fn new(settings: QuotaSettings) -> Self {
        Self {
            settings,
            buckets: Mutex::new(HashMap::new()),
            client_pools: Mutex::new(HashMap::new()),
        }
    }

    pub fn settings(&self) -> &QuotaSettings {
        &self.settings
    }

    pub(crate) fn cached_pool_of_client(&self, client_id: &str) -> Option<String> {
        self.client_pools
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(client_id)
            .cloned()
    }

    pub(crate) fn remember_client(&self, client_id: &str, pool_id: &str) {
        let mut map = self.client_pools.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= CLIENT_CACHE_LIMIT {
            map.clear();
        }
        map.insert(client_id.to_owned(), pool_id.to_owned());
    }

    /// Counts one request of `operation` (with its `ChallengeName`, if any) against `pool` (`""`
    /// when it names none), or refuses it with Cognito's throttling error.
    pub fn admit(&self, operation: &str, challenge_name: Option<&str>, pool: &str, now_ms: i64) -> Result<()> {
        let Some(category) = category_of(operation, challenge_name) else {
            return Ok(());
        };
        let rps = self.settings.rps(category);
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let mut take = |counted: Counted, rps: u32| {
            buckets
                .entry((counted, pool.to_owned()))
                .or_insert(Bucket {
                    tokens: f64::from(rps),
                    at_ms: now_ms,
                })
                .take(rps, now_ms)
        };
        if let Some(cap) = category.per_operation_cap()
            && let Some(op) = crate::ops::OPERATIONS.iter().find(|o| **o == operation)
            && !take(Counted::Operation(op), cap)
        {
            return Err(rate_exceeded());
        }
        // Challenge responses have an allowance of three times the category's rate; beyond it
        // they count against the category itself.
        let challenge = category == Category::UserAuthentication
            && matches!(operation, "RespondToAuthChallenge" | "AdminRespondToAuthChallenge");
        if (challenge && take(Counted::Challenges, rps.saturating_mul(3))) || take(Counted::Category(category), rps) {
            Ok(())
        } else {
            Err(rate_exceeded())
        }
    }
}

fn rate_exceeded() -> Error {
    Error::new(ErrorKind::TooManyRequestsException, "Rate exceeded")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_category_allows_its_rate_each_second_per_pool() {
        let mut settings = QuotaSettings::default();
        settings.set_from_str("UserRead=3").unwrap();
        let q = Quotas::new(settings);
        for _ in 0..3 {
            q.admit("GetUser", None, "pool-a", 1_000).unwrap();
        }
        let err = q.admit("AdminGetUser", None, "pool-a", 1_000).unwrap_err();
        assert_eq!(
            (err.kind, err.message.as_str()),
            (ErrorKind::TooManyRequestsException, "Rate exceeded")
        );
        // Another pool has its own count; other categories are not affected.
        q.admit("GetUser", None, "pool-b", 1_000).unwrap();
        q.admit("ListUsers", None, "pool-a", 1_000).unwrap();
        // A third of a second later, one more request fits.
        q.admit("GetUser", None, "pool-a", 1_334).unwrap();
        assert!(q.admit("GetUser", None, "pool-a", 1_334).is_err());
        // Operations without a category are never counted.
        for _ in 0..10 {
            q.admit("NotAnOperation", None, "pool-a", 1_334).unwrap();
        }
    }

    #[test]
    fn challenge_responses_have_three_times_the_allowance_then_use_the_category() {
        let mut settings = QuotaSettings::default();
        settings.set_from_str("UserAuthentication=2").unwrap();
        let q = Quotas::new(settings);
        let mfa = Some("SOFTWARE_TOKEN_MFA");
        for _ in 0..6 {
            q.admit("RespondToAuthChallenge", mfa, "p", 0).unwrap();
        }
        // Beyond 3 × 2, challenge responses draw on UserAuthentication itself.
        q.admit("RespondToAuthChallenge", mfa, "p", 0).unwrap();
        q.admit("InitiateAuth", None, "p", 0).unwrap();
        assert!(q.admit("InitiateAuth", None, "p", 0).is_err());
        // A new password counts as account recovery.
        let new_password = Some("NEW_PASSWORD_REQUIRED");
        assert_eq!(
            category_of("RespondToAuthChallenge", new_password),
            Some(Category::UserAccountRecovery)
        );
        q.admit("RespondToAuthChallenge", new_password, "p", 0).unwrap();
    }

    #[test]
    fn capped_categories_hold_each_operation_to_five_per_second() {
        let q = Quotas::new(QuotaSettings::default());
        for _ in 0..5 {
            q.admit("DescribeUserPoolClient", None, "p", 0).unwrap();
        }
        assert!(q.admit("DescribeUserPoolClient", None, "p", 0).is_err());
        // The category (15/s) still has room for its other operation.
        q.admit("ListUserPoolClients", None, "p", 0).unwrap();
    }

    #[test]
    fn settings_name_categories_and_positive_rates() {
        let mut s = QuotaSettings::default();
        assert!(s.set_from_str("UserAuthentication=500").is_ok());
        assert_eq!(s.rps(Category::UserAuthentication), 500);
        assert_eq!(s.rps(Category::UserCreation), 50);
        assert!(s.set_from_str("Nope=5").unwrap_err().contains("unknown quota category"));
        assert!(s.set_from_str("UserRead=0").is_err());
        assert!(s.set_from_str("UserRead").is_err());
    }

    #[test]
    fn every_operation_cognate_answers_has_a_category() {
        for op in crate::ops::OPERATIONS {
            assert!(category_of(op, None).is_some(), "{op} has no quota category");
        }
    }
}
