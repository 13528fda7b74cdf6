//! The Lambda triggers a pool's `LambdaConfig` can name, and what Cognate needs to know to run
//! each: the config key, the event version, and the name used in error messages.
use std::fmt;
use std::str::FromStr;

/// A user pool Lambda trigger: a slot of the pool's `LambdaConfig`.
///
/// PreTokenGeneration has one variant per event version (`V1_0`, `V2_0`, `V3_0`); a pool has at
/// most one of the three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Trigger {
    PreSignUp,
    PostConfirmation,
    PreAuthentication,
    PostAuthentication,
    DefineAuthChallenge,
    CreateAuthChallenge,
    VerifyAuthChallengeResponse,
    /// PreTokenGeneration `V1_0` (event version `"1"`, `claimsOverrideDetails`).
    PreTokenGeneration,
    /// PreTokenGeneration `V2_0` (event version `"2"`, `claimsAndScopeOverrideDetails`).
    PreTokenGenerationV2,
    /// PreTokenGeneration `V3_0` (as V2, also for machine-to-machine tokens).
    PreTokenGenerationV3,
    UserMigration,
    CustomMessage,
    CustomEmailSender,
    CustomSmsSender,
}

impl Trigger {
    /// Every trigger.
    pub const ALL: [Trigger; 14] = [
        Trigger::PreSignUp,
        Trigger::PostConfirmation,
        Trigger::PreAuthentication,
        Trigger::PostAuthentication,
        Trigger::DefineAuthChallenge,
        Trigger::CreateAuthChallenge,
        Trigger::VerifyAuthChallengeResponse,
        Trigger::PreTokenGeneration,
        Trigger::PreTokenGenerationV2,
        Trigger::PreTokenGenerationV3,
        Trigger::UserMigration,
        Trigger::CustomMessage,
        Trigger::CustomEmailSender,
        Trigger::CustomSmsSender,
    ];

    /// The trigger's name as infrastructure-as-code tools spell it (`preSignUp`,
    /// `createAuthChallenge`, `preTokenGenerationV2`, `customSmsSender`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::PreSignUp => "preSignUp",
            Self::PostConfirmation => "postConfirmation",
            Self::PreAuthentication => "preAuthentication",
            Self::PostAuthentication => "postAuthentication",
            Self::DefineAuthChallenge => "defineAuthChallenge",
            Self::CreateAuthChallenge => "createAuthChallenge",
            Self::VerifyAuthChallengeResponse => "verifyAuthChallengeResponse",
            Self::PreTokenGeneration => "preTokenGeneration",
            Self::PreTokenGenerationV2 => "preTokenGenerationV2",
            Self::PreTokenGenerationV3 => "preTokenGenerationV3",
            Self::UserMigration => "userMigration",
            Self::CustomMessage => "customMessage",
            Self::CustomEmailSender => "customEmailSender",
            Self::CustomSmsSender => "customSmsSender",
        }
    }

    /// The `LambdaConfig` member that configures the trigger (`PreTokenGenerationConfig` for
    /// PreTokenGeneration V2/V3).
    pub fn config_key(self) -> &'static str {
        match self {
            Self::PreSignUp => "PreSignUp",
            Self::PostConfirmation => "PostConfirmation",
            Self::PreAuthentication => "PreAuthentication",
            Self::PostAuthentication => "PostAuthentication",
            Self::DefineAuthChallenge => "DefineAuthChallenge",
            Self::CreateAuthChallenge => "CreateAuthChallenge",
            Self::VerifyAuthChallengeResponse => "VerifyAuthChallengeResponse",
            Self::PreTokenGeneration => "PreTokenGeneration",
            Self::PreTokenGenerationV2 | Self::PreTokenGenerationV3 => "PreTokenGenerationConfig",
            Self::UserMigration => "UserMigration",
            Self::CustomMessage => "CustomMessage",
            Self::CustomEmailSender => "CustomEmailSender",
            Self::CustomSmsSender => "CustomSMSSender",
        }
    }

    /// The `LambdaVersion` of an object-typed `LambdaConfig` member, if the trigger has one.
    pub fn lambda_version(self) -> Option<&'static str> {
        match self {
            Self::PreTokenGeneration => Some("V1_0"),
            Self::PreTokenGenerationV2 => Some("V2_0"),
            Self::PreTokenGenerationV3 => Some("V3_0"),
            Self::CustomEmailSender | Self::CustomSmsSender => Some("V1_0"),
            _ => None,
        }
    }

    /// The `LambdaConfig` members that attach the function `arn` to this trigger. A
    /// PreTokenGeneration function is written both ways (the legacy `PreTokenGeneration` ARN and
    /// the versioned `PreTokenGenerationConfig`), as Cognito's own console does; the custom
    /// senders are `{LambdaArn, LambdaVersion}` objects; every other trigger is a plain ARN.
    pub fn lambda_config_members(self, arn: &str) -> Vec<(&'static str, serde_json::Value)> {
        let versioned = |key| {
            (
                key,
                serde_json::json!({"LambdaArn": arn, "LambdaVersion": self.lambda_version()}),
            )
        };
        match self {
            Self::PreTokenGeneration | Self::PreTokenGenerationV2 | Self::PreTokenGenerationV3 => vec![
                ("PreTokenGeneration", serde_json::json!(arn)),
                versioned("PreTokenGenerationConfig"),
            ],
            Self::CustomEmailSender | Self::CustomSmsSender => vec![versioned(self.config_key())],
            _ => vec![(self.config_key(), serde_json::json!(arn))],
        }
    }

    /// The name Cognito uses in the trigger's error messages (`PreSignUp failed with error …`):
    /// the three PreTokenGeneration versions all report as `PreTokenGeneration`.
    pub fn error_name(self) -> &'static str {
        match self {
            Self::PreTokenGenerationV2 | Self::PreTokenGenerationV3 => "PreTokenGeneration",
            Self::CustomSmsSender => "CustomSMSSender",
            other => other.config_key(),
        }
    }

    /// The `version` member of the events this trigger receives.
    pub fn event_version(self) -> &'static str {
        match self {
            Self::PreTokenGenerationV2 => "2",
            Self::PreTokenGenerationV3 => "3",
            _ => "1",
        }
    }

    /// The `triggerSource` values Cognito sends this trigger with.
    pub fn trigger_sources(self) -> &'static [&'static str] {
        match self {
            Self::PreSignUp => &[
                "PreSignUp_SignUp",
                "PreSignUp_AdminCreateUser",
                "PreSignUp_ExternalProvider",
            ],
            Self::PostConfirmation => &[
                "PostConfirmation_ConfirmSignUp",
                "PostConfirmation_ConfirmForgotPassword",
            ],
            Self::PreAuthentication => &["PreAuthentication_Authentication"],
            Self::PostAuthentication => &["PostAuthentication_Authentication"],
            Self::DefineAuthChallenge => &["DefineAuthChallenge_Authentication"],
            Self::CreateAuthChallenge => &["CreateAuthChallenge_Authentication"],
            Self::VerifyAuthChallengeResponse => &["VerifyAuthChallengeResponse_Authentication"],
            Self::PreTokenGeneration | Self::PreTokenGenerationV2 | Self::PreTokenGenerationV3 => &[
                "TokenGeneration_HostedAuth",
                "TokenGeneration_Authentication",
                "TokenGeneration_NewPasswordChallenge",
                "TokenGeneration_AuthenticateDevice",
                "TokenGeneration_RefreshTokens",
                "TokenGeneration_ClientCredentials",
            ],
            Self::UserMigration => &["UserMigration_Authentication", "UserMigration_ForgotPassword"],
            Self::CustomMessage => &[
                "CustomMessage_SignUp",
                "CustomMessage_AdminCreateUser",
                "CustomMessage_ResendCode",
                "CustomMessage_ForgotPassword",
                "CustomMessage_UpdateUserAttribute",
                "CustomMessage_VerifyUserAttribute",
                "CustomMessage_Authentication",
            ],
            Self::CustomEmailSender => &[
                "CustomEmailSender_SignUp",
                "CustomEmailSender_AdminCreateUser",
                "CustomEmailSender_ResendCode",
                "CustomEmailSender_ForgotPassword",
                "CustomEmailSender_UpdateUserAttribute",
                "CustomEmailSender_VerifyUserAttribute",
                "CustomEmailSender_AccountTakeOverNotification",
            ],
            Self::CustomSmsSender => &[
                "CustomSMSSender_SignUp",
                "CustomSMSSender_AdminCreateUser",
                "CustomSMSSender_ResendCode",
                "CustomSMSSender_ForgotPassword",
                "CustomSMSSender_UpdateUserAttribute",
                "CustomSMSSender_VerifyUserAttribute",
                "CustomSMSSender_Authentication",
            ],
        }
    }

    /// The PreTokenGeneration trigger a pool configures, by its `LambdaConfig`: the
    /// `PreTokenGenerationConfig` object's `LambdaVersion` (V1 when absent), else the legacy
    /// `PreTokenGeneration` ARN (V1).
    pub fn pre_token_generation_of(lambda_config: &serde_json::Value) -> Option<Trigger> {
        if let Some(config) = lambda_config.get("PreTokenGenerationConfig") {
            return Some(match config.get("LambdaVersion").and_then(serde_json::Value::as_str) {
                Some("V2_0") => Self::PreTokenGenerationV2,
                Some("V3_0") => Self::PreTokenGenerationV3,
                _ => Self::PreTokenGeneration,
            });
        }
        lambda_config
            .get("PreTokenGeneration")
            .map(|_| Self::PreTokenGeneration)
    }

    /// Finds a trigger by name, case-sensitively: the [`Trigger::name`] (`preSignUp`), the
    /// same with a capital first letter (`PreSignUp`, the `LambdaConfig` key for most
    /// triggers), or `CustomSMSSender` / `customSMSSender`.
    pub fn from_name(name: &str) -> Option<Trigger> {
        Self::ALL.into_iter().find(|t| {
            let camel = t.name();
            name == camel
                || capitalised(name, camel)
                || (*t == Self::CustomSmsSender && matches!(name, "CustomSMSSender" | "customSMSSender"))
        })
    }
}

/// `name` is `camel` with its first letter in upper case.
fn capitalised(name: &str, camel: &str) -> bool {
    let mut n = name.chars();
    let mut c = camel.chars();
    match (n.next(), c.next()) {
        (Some(a), Some(b)) => a == b.to_ascii_uppercase() && n.as_str() == c.as_str(),
        _ => false,
    }
}

impl fmt::Display for Trigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTrigger(pub String);

impl fmt::Display for UnknownTrigger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} is not a user pool trigger; the triggers are ", self.0)?;
        for (i, t) in Trigger::ALL.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            f.write_str(t.name())?;
        }
        f.write_str(" (or the same with a capital first letter)")
    }
}

impl std::error::Error for UnknownTrigger {}

impl FromStr for Trigger {
    type Err = UnknownTrigger;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_name(s).ok_or_else(|| UnknownTrigger(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lambda_config_members() {
        let arn = "arn:aws:lambda:us-east-1:000000000000:function:f";
        assert_eq!(
            Trigger::PreSignUp.lambda_config_members(arn),
            vec![("PreSignUp", json!(arn))]
        );
        assert_eq!(
            Trigger::CustomSmsSender.lambda_config_members(arn),
            vec![("CustomSMSSender", json!({"LambdaArn": arn, "LambdaVersion": "V1_0"}))]
        );
        assert_eq!(
            Trigger::PreTokenGenerationV3.lambda_config_members(arn),
            vec![
                ("PreTokenGeneration", json!(arn)),
                (
                    "PreTokenGenerationConfig",
                    json!({"LambdaArn": arn, "LambdaVersion": "V3_0"})
                ),
            ]
        );
    }

    #[test]
    fn error_names_and_versions() {
        assert_eq!(Trigger::PreTokenGenerationV2.error_name(), "PreTokenGeneration");
        assert_eq!(Trigger::PreTokenGenerationV2.event_version(), "2");
        assert_eq!(Trigger::CustomSmsSender.error_name(), "CustomSMSSender");
        assert_eq!(Trigger::PreSignUp.event_version(), "1");
        let lc = json!({"PreTokenGenerationConfig": {"LambdaArn": "a", "LambdaVersion": "V2_0"}});
        assert_eq!(
            Trigger::pre_token_generation_of(&lc),
            Some(Trigger::PreTokenGenerationV2)
        );
        assert_eq!(
            Trigger::pre_token_generation_of(&json!({"PreTokenGeneration": "a"})),
            Some(Trigger::PreTokenGeneration)
        );
        assert_eq!(Trigger::pre_token_generation_of(&json!({})), None);
    }
}
