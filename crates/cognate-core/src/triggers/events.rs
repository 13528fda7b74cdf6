//! Typed Lambda trigger events, one per trigger, with the field names Cognito sends.
//!
//! Every event has the common envelope (`version`, `triggerSource`, `region`, `userPoolId`,
//! `userName`, `callerContext`), a trigger-specific `request` and, except for the custom
//! senders, a `response` that the handler fills in and returns with the whole event.
//!
//! Deserialization is lenient the way a handler needs it to be: unknown fields are kept in
//! the `other` maps (and sent back unchanged), a `null` or missing value becomes the field's
//! default, and `version` may be a number. Response members are read as Cognito reads them:
//! one of the wrong type mostly reads as unset. Serialization writes `null` for unset response
//! options, which Cognito reads as "not set" — except `groupOverrideDetails`, which is left out
//! when unset because a `null` there *suppresses* the user's groups (see
//! [`ClaimsOverrideDetails::group_override_details`]).
//!
//! ```
//! use cognate_core::triggers::events::PreSignUpEvent;
//!
//! let ev: PreSignUpEvent = serde_json::from_value(serde_json::json!({
//!     "version": "1", "triggerSource": "PreSignUp_SignUp", "region": "us-east-1",
//!     "userPoolId": "us-east-1_EXAMPLE", "userName": "jdoe",
//!     "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": "abc"},
//!     "request": {"userAttributes": {"email": "jdoe@example.com"}, "validationData": null},
//!     "response": {"autoConfirmUser": false, "autoVerifyEmail": false, "autoVerifyPhone": false},
//!     "somethingNew": 1
//! })).unwrap();
//! assert_eq!(ev.request.user_attributes["email"], "jdoe@example.com");
//! assert_eq!(ev.other["somethingNew"], 1);
//! ```
use super::lenient;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;

pub use super::trigger::{Trigger, UnknownTrigger};

/// An event type of one or more triggers. Handlers are typed by it, so that a handler cannot
/// be given to a trigger whose events it does not understand.
pub trait TriggerEvent: Serialize + DeserializeOwned + Send + 'static {
    /// The triggers that send this event.
    const TRIGGERS: &'static [Trigger];
    /// The `request` member Cognate fills in.
    type Request: Serialize + DeserializeOwned + Default;
}

/// An event whose handler answers: Cognate waits for the function and reads its `response`.
pub trait SyncTriggerEvent: TriggerEvent {
    /// The `response` member the handler fills in.
    type Response: Serialize + DeserializeOwned + Default;
    /// The event with its envelope, `request`, and the `response` the handler starts from.
    fn new(envelope: Envelope, request: Self::Request, response: Self::Response) -> Self;
}

/// The members every trigger event starts with (see `Cognito::trigger_envelope`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Envelope {
    pub version: String,
    pub trigger_source: String,
    pub region: String,
    pub user_pool_id: String,
    pub user_name: String,
    pub caller_context: CallerContext,
}

/// `null` (or a missing member) as the type's default.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `version` as a string, also when a (test) event carries a number.
fn version_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    })
}

/// A string map (user attributes, client metadata, challenge parameters).
pub type StringMap = HashMap<String, String>;

/// `callerContext`: who called the API operation that runs the trigger.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallerContext {
    /// From the caller's SDK user agent; `aws-sdk-unknown-unknown` when unknown.
    #[serde(default, deserialize_with = "nullable")]
    pub aws_sdk_version: String,
    /// The app client id, or `CLIENT_ID_NOT_APPLICABLE` for admin operations.
    #[serde(default, deserialize_with = "nullable")]
    pub client_id: String,
}

macro_rules! trigger_event {
    ($(#[$doc:meta])* $name:ident, $req:ty, $res:ty, [$($t:ident),+]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// Event schema version: `"1"` (PreTokenGeneration V2/V3: `"2"`/`"3"`).
            #[serde(default, deserialize_with = "version_string")]
            pub version: String,
            /// What caused the invocation, e.g. `PreSignUp_SignUp`.
            #[serde(default, deserialize_with = "nullable")]
            pub trigger_source: String,
            #[serde(default, deserialize_with = "nullable")]
            pub region: String,
            #[serde(default, deserialize_with = "nullable")]
            pub user_pool_id: String,
            /// The user's (immutable) username.
            #[serde(default, deserialize_with = "nullable")]
            pub user_name: String,
            #[serde(default, deserialize_with = "nullable")]
            pub caller_context: CallerContext,
            #[serde(default, deserialize_with = "nullable")]
            pub request: $req,
            /// What the handler answers (Cognito reads only this part of the returned event).
            #[serde(default, deserialize_with = "nullable")]
            pub response: $res,
            /// Members this type does not know, kept as they came.
            #[serde(flatten)]
            pub other: Map<String, Value>,
        }

        impl TriggerEvent for $name {
            const TRIGGERS: &'static [Trigger] = &[$(Trigger::$t),+];
            type Request = $req;
        }

        impl SyncTriggerEvent for $name {
            type Response = $res;
            fn new(envelope: Envelope, request: $req, response: $res) -> Self {
                Self {
                    version: envelope.version,
                    trigger_source: envelope.trigger_source,
                    region: envelope.region,
                    user_pool_id: envelope.user_pool_id,
                    user_name: envelope.user_name,
                    caller_context: envelope.caller_context,
                    request,
                    response,
                    other: Map::new(),
                }
            }
        }
    };
    ($(#[$doc:meta])* $name:ident, $req:ty, [$($t:ident),+]) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// Event schema version, `"1"`.
            #[serde(default, deserialize_with = "version_string")]
            pub version: String,
            /// What caused the invocation, e.g. `CustomEmailSender_SignUp`.
            #[serde(default, deserialize_with = "nullable")]
            pub trigger_source: String,
            #[serde(default, deserialize_with = "nullable")]
            pub region: String,
            #[serde(default, deserialize_with = "nullable")]
            pub user_pool_id: String,
            #[serde(default, deserialize_with = "nullable")]
            pub user_name: String,
            #[serde(default, deserialize_with = "nullable")]
            pub caller_context: CallerContext,
            #[serde(default, deserialize_with = "nullable")]
            pub request: $req,
            /// Members this type does not know, kept as they came. (Cognito sends no
            /// `response` to a custom sender and ignores what it returns.)
            #[serde(flatten)]
            pub other: Map<String, Value>,
        }

        impl TriggerEvent for $name {
            const TRIGGERS: &'static [Trigger] = &[$(Trigger::$t),+];
            type Request = $req;
        }

        impl $name {
            /// The event with its envelope and `request`.
            pub fn new(envelope: Envelope, request: $req) -> Self {
                Self {
                    version: envelope.version,
                    trigger_source: envelope.trigger_source,
                    region: envelope.region,
                    user_pool_id: envelope.user_pool_id,
                    user_name: envelope.user_name,
                    caller_context: envelope.caller_context,
                    request,
                    other: Map::new(),
                }
            }
        }
    };
}

/// A response with nothing to fill in (`{}`); unknown members are kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmptyResponse {
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

// ---------------------------------------------------------------------------------------------
// PreSignUp

trigger_event!(
    /// PreSignUp: runs before a user is created (`PreSignUp_SignUp`, `PreSignUp_AdminCreateUser`,
    /// `PreSignUp_ExternalProvider`). Return an error to reject the sign-up.
    PreSignUpEvent,
    PreSignUpRequest,
    PreSignUpResponse,
    [PreSignUp]
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreSignUpRequest {
    /// Only the attributes given in the sign-up.
    #[serde(default, deserialize_with = "nullable")]
    pub user_attributes: StringMap,
    /// `ValidationData` of the request (`null` when none was given).
    #[serde(default)]
    pub validation_data: Option<StringMap>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<StringMap>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreSignUpResponse {
    /// Create the user confirmed, without a confirmation code.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub auto_confirm_user: bool,
    /// Mark `email` verified.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub auto_verify_email: bool,
    /// Mark `phone_number` verified.
    #[serde(default, deserialize_with = "lenient::flag")]
    pub auto_verify_phone: bool,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

// ---------------------------------------------------------------------------------------------
// PostConfirmation, PreAuthentication, PostAuthentication

trigger_event!(
    /// PostConfirmation: after a user is confirmed (`PostConfirmation_ConfirmSignUp`,
    /// `PostConfirmation_ConfirmForgotPassword`). Nothing to answer.
    PostConfirmationEvent,
    PostConfirmationRequest,
    EmptyResponse,
    [PostConfirmation]
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostConfirmationRequest {
    #[serde(default, deserialize_with = "nullable")]
    pub user_attributes: StringMap,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<StringMap>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

trigger_event!(
    /// PreAuthentication: at the start of a sign-in. Return an error to reject it.
    PreAuthenticationEvent,
    PreAuthenticationRequest,
    EmptyResponse,
    [PreAuthentication]
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreAuthenticationRequest {
    #[serde(default, deserialize_with = "nullable")]
    pub user_attributes: StringMap,
    /// The `ClientMetadata` of InitiateAuth / AdminInitiateAuth.
    #[serde(default)]
    pub validation_data: Option<StringMap>,
    /// With PreventUserExistenceErrors, `true` when the user does not exist.
    #[serde(default, deserialize_with = "nullable")]
    pub user_not_found: bool,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

trigger_event!(
    /// PostAuthentication: after a successful sign-in, before tokens are returned.
    PostAuthenticationEvent,
    PostAuthenticationRequest,
    EmptyResponse,
    [PostAuthentication]
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PostAuthenticationRequest {
    #[serde(default, deserialize_with = "nullable")]
    pub user_attributes: StringMap,
    #[serde(default, deserialize_with = "nullable")]
    pub new_device_used: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<StringMap>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

// ---------------------------------------------------------------------------------------------
// Custom authentication challenges

/// One step of a custom authentication session.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChallengeResult {
    /// `CUSTOM_CHALLENGE`, `SRP_A`, `PASSWORD_VERIFIER`, `SMS_MFA`, …
    #[serde(default, deserialize_with = "nullable")]
    pub challenge_name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub challenge_result: bool,
    /// What CreateAuthChallenge returned as `challengeMetadata`.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub challenge_metadata: Option<String>,
}

trigger_event!(
    /// DefineAuthChallenge: decides the next step of a custom authentication flow.
    DefineAuthChallengeEvent,
    DefineAuthChallengeRequest,
    DefineAuthChallengeResponse,
    [DefineAuthChallenge]
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefineAuthChallengeRequest {
    #[serde(default, deserialize_with = "nullable")]
    pub user_attributes: StringMap,
    /// The challenges so far, oldest first.
    #[serde(default, deserialize_with = "nullable")]
    pub session: Vec<ChallengeResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<StringMap>,
    #[serde(default, deserialize_with = "nullable")]
    pub user_not_found: bool,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefineAuthChallengeResponse {
    /// The next challenge: `CUSTOM_CHALLENGE` or `PASSWORD_VERIFIER`.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub challenge_name: Option<String>,
    /// `true`: the user is authenticated.
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub issue_tokens: Option<bool>,
    /// `true`: the sign-in fails (NotAuthorizedException).
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub fail_authentication: Option<bool>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

trigger_event!(
    /// CreateAuthChallenge: creates a `CUSTOM_CHALLENGE`.
    CreateAuthChallengeEvent,
    CreateAuthChallengeRequest,
    CreateAuthChallengeResponse,
    [CreateAuthChallenge]
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateAuthChallengeRequest {
    #[serde(default, deserialize_with = "nullable")]
    pub user_attributes: StringMap,
    /// The challenge DefineAuthChallenge chose.
    #[serde(default, deserialize_with = "nullable")]
    pub challenge_name: String,
    #[serde(default, deserialize_with = "nullable")]
    pub session: Vec<ChallengeResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<StringMap>,
    #[serde(default, deserialize_with = "nullable")]
    pub user_not_found: bool,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateAuthChallengeResponse {
    /// Sent to the client as `ChallengeParameters`.
    #[serde(default, deserialize_with = "lenient::challenge_parameters")]
    pub public_challenge_parameters: Option<StringMap>,
    /// Kept on the server and given to VerifyAuthChallengeResponse.
    #[serde(default, deserialize_with = "lenient::challenge_parameters")]
    pub private_challenge_parameters: Option<StringMap>,
    /// Recorded in the session entry of this challenge.
    #[serde(default, deserialize_with = "lenient::opt_text")]
    pub challenge_metadata: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

trigger_event!(
    /// VerifyAuthChallengeResponse: checks the answer to a `CUSTOM_CHALLENGE`.
    VerifyAuthChallengeResponseEvent,
    VerifyAuthChallengeResponseRequest,
    VerifyAuthChallengeResponseResponse,
    [VerifyAuthChallengeResponse]
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyAuthChallengeResponseRequest {
    #[serde(default, deserialize_with = "nullable")]
    pub user_attributes: StringMap,
    /// What CreateAuthChallenge returned as `privateChallengeParameters`.
    #[serde(default, deserialize_with = "nullable")]
    pub private_challenge_parameters: StringMap,
    /// `ChallengeResponses.ANSWER`.
    #[serde(default, deserialize_with = "nullable")]
    pub challenge_answer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<StringMap>,
    #[serde(default, deserialize_with = "nullable")]
    pub user_not_found: bool,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyAuthChallengeResponseResponse {
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub answer_correct: Option<bool>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

// ---------------------------------------------------------------------------------------------
// PreTokenGeneration

/// The user's groups and roles (`groupConfiguration`, `groupOverrideDetails`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupConfiguration {
    #[serde(default, deserialize_with = "lenient::strings")]
    pub groups_to_override: Vec<String>,
    #[serde(default, deserialize_with = "lenient::strings")]
    pub iam_roles_to_override: Vec<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub preferred_role: Option<String>,
}

trigger_event!(
    /// PreTokenGeneration V1 (`V1_0`, event version `"1"`): edits the ID token.
    PreTokenGenerationEvent,
    PreTokenGenerationRequest,
    PreTokenGenerationResponse,
    [PreTokenGeneration]
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreTokenGenerationRequest {
    #[serde(default, deserialize_with = "nullable")]
    pub user_attributes: StringMap,
    #[serde(default, deserialize_with = "nullable")]
    pub group_configuration: GroupConfiguration,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<StringMap>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreTokenGenerationResponse {
    /// `None`: the tokens are not changed.
    #[serde(default, deserialize_with = "lenient::opt_object")]
    pub claims_override_details: Option<ClaimsOverrideDetails>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// V1 token edits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimsOverrideDetails {
    /// Claims added to (or replaced in) the ID token; V1 claim values are strings.
    #[serde(default, deserialize_with = "lenient::string_claims")]
    pub claims_to_add_or_override: Option<StringMap>,
    /// Claims removed from the ID token.
    #[serde(default, deserialize_with = "lenient::opt_strings")]
    pub claims_to_suppress: Option<Vec<String>>,
    /// Replaces the user's groups and roles. `None` (the member left out) keeps them;
    /// `Some(GroupConfiguration::default())` removes them. To keep them while changing
    /// something else, copy `request.group_configuration`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::group_override"
    )]
    pub group_override_details: Option<GroupConfiguration>,
}

trigger_event!(
    /// PreTokenGeneration V2/V3 (`V2_0`/`V3_0`, event version `"2"`/`"3"`): edits the ID and
    /// access tokens and the scopes.
    PreTokenGenerationV2Event,
    PreTokenGenerationV2Request,
    PreTokenGenerationV2Response,
    [PreTokenGenerationV2, PreTokenGenerationV3]
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreTokenGenerationV2Request {
    #[serde(default, deserialize_with = "nullable")]
    pub user_attributes: StringMap,
    #[serde(default, deserialize_with = "nullable")]
    pub group_configuration: GroupConfiguration,
    /// The scopes the access token will carry.
    #[serde(default, deserialize_with = "nullable")]
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<StringMap>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PreTokenGenerationV2Response {
    /// `None`: the tokens are not changed.
    #[serde(default, deserialize_with = "lenient::opt_object")]
    pub claims_and_scope_override_details: Option<ClaimsAndScopeOverrideDetails>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// V2/V3 token edits.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClaimsAndScopeOverrideDetails {
    #[serde(default, deserialize_with = "lenient::opt_object")]
    pub id_token_generation: Option<IdTokenGeneration>,
    #[serde(default, deserialize_with = "lenient::opt_object")]
    pub access_token_generation: Option<AccessTokenGeneration>,
    /// As [`ClaimsOverrideDetails::group_override_details`]: `None` keeps the groups.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::group_override"
    )]
    pub group_override_details: Option<GroupConfiguration>,
}

/// Edits of the ID token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IdTokenGeneration {
    /// Claim values may be any JSON.
    #[serde(default, deserialize_with = "lenient::opt_json_map")]
    pub claims_to_add_or_override: Option<HashMap<String, Value>>,
    #[serde(default, deserialize_with = "lenient::opt_strings")]
    pub claims_to_suppress: Option<Vec<String>>,
}

/// Edits of the access token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenGeneration {
    #[serde(default, deserialize_with = "lenient::opt_json_map")]
    pub claims_to_add_or_override: Option<HashMap<String, Value>>,
    #[serde(default, deserialize_with = "lenient::opt_strings")]
    pub claims_to_suppress: Option<Vec<String>>,
    /// Scopes added to `scope` (no whitespace).
    #[serde(default, deserialize_with = "lenient::opt_strings")]
    pub scopes_to_add: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient::opt_strings")]
    pub scopes_to_suppress: Option<Vec<String>>,
}

// ---------------------------------------------------------------------------------------------
// UserMigration

trigger_event!(
    /// UserMigration: a user unknown to the pool signs in with a password or asks for a
    /// password reset; the handler may create them.
    UserMigrationEvent,
    UserMigrationRequest,
    UserMigrationResponse,
    [UserMigration]
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserMigrationRequest {
    /// The password entered (`UserMigration_Authentication` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// `UserMigration_Authentication`: `Some` (the `ClientMetadata` of the sign-in, `null` when
    /// none was given). `UserMigration_ForgotPassword` sends no such member: `None`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::present"
    )]
    pub validation_data: Option<Option<StringMap>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<StringMap>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserMigrationResponse {
    /// The attributes of the user to create; `None` leaves the user unknown.
    #[serde(default, deserialize_with = "lenient::migrated_attributes")]
    pub user_attributes: Option<StringMap>,
    /// `CONFIRMED`, or `RESET_REQUIRED` (the default).
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub final_user_status: Option<String>,
    /// `SUPPRESS` to send no welcome message.
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub message_action: Option<String>,
    /// `EMAIL` and/or `SMS`.
    #[serde(default, deserialize_with = "lenient::opt_strings")]
    pub desired_delivery_mediums: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pub force_alias_creation: Option<bool>,
    #[serde(default, rename = "enableSMSMFA", deserialize_with = "lenient::opt_bool")]
    pub enable_sms_mfa: Option<bool>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

// ---------------------------------------------------------------------------------------------
// CustomMessage

trigger_event!(
    /// CustomMessage: customises a verification, invitation or MFA message.
    CustomMessageEvent,
    CustomMessageRequest,
    CustomMessageResponse,
    [CustomMessage]
);

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomMessageRequest {
    #[serde(default, deserialize_with = "nullable")]
    pub user_attributes: StringMap,
    /// The placeholder of the code, normally `{####}`; the message must contain it.
    #[serde(default)]
    pub code_parameter: Option<String>,
    /// The placeholder of a verification link.
    #[serde(default)]
    pub link_parameter: Option<String>,
    /// The placeholder of the username (`CustomMessage_AdminCreateUser`).
    #[serde(default)]
    pub username_parameter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_metadata: Option<StringMap>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomMessageResponse {
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub sms_message: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub email_message: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_string")]
    pub email_subject: Option<String>,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

// ---------------------------------------------------------------------------------------------
// Custom senders

trigger_event!(
    /// CustomEmailSender: sends an email Cognito would have sent (invoked asynchronously; the
    /// result is ignored).
    CustomEmailSenderEvent,
    CustomSenderRequest,
    [CustomEmailSender]
);

trigger_event!(
    /// CustomSMSSender: sends an SMS Cognito would have sent (invoked asynchronously; the
    /// result is ignored).
    CustomSmsSenderEvent,
    CustomSenderRequest,
    [CustomSmsSender]
);

/// The request of a custom sender.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomSenderRequest {
    /// `customEmailSenderRequestV1` or `customSMSSenderRequestV1`.
    #[serde(rename = "type", default, deserialize_with = "nullable")]
    pub request_type: String,
    /// The secret (code, temporary password), encrypted with the pool's KMS key by the AWS
    /// Encryption SDK, base64; `None` when the message has no code.
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub client_metadata: Option<StringMap>,
    #[serde(default, deserialize_with = "nullable")]
    pub user_attributes: StringMap,
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn trigger_names() {
        for t in Trigger::ALL {
            assert_eq!(Trigger::from_name(t.name()), Some(t), "{t}");
        }
        assert_eq!(Trigger::from_name("PreSignUp"), Some(Trigger::PreSignUp));
        assert_eq!(Trigger::from_name("CustomSMSSender"), Some(Trigger::CustomSmsSender));
        assert_eq!(Trigger::from_name("customSMSSender"), Some(Trigger::CustomSmsSender));
        assert_eq!(
            Trigger::from_name("PreTokenGenerationV2"),
            Some(Trigger::PreTokenGenerationV2)
        );
        assert_eq!(
            Trigger::from_name("PreTokenGeneration"),
            Some(Trigger::PreTokenGeneration)
        );
        assert_eq!(Trigger::from_name("PreTokenGenerationConfig"), None);
        assert_eq!(Trigger::from_name("presignup"), None);
        assert_eq!(Trigger::from_name("preSignup"), None);
        assert_eq!(Trigger::from_name(""), None);
        let err = "nope".parse::<Trigger>().unwrap_err().to_string();
        assert!(err.contains("\"nope\" is not a user pool trigger"), "{err}");
        assert!(err.contains("createAuthChallenge"), "{err}");
    }

    #[test]
    fn spec_examples_round_trip() {
        let define = json!({"version":"1","triggerSource":"DefineAuthChallenge_Authentication","region":"us-east-1","userPoolId":"us-east-1_EXAMPLE","userName":"jdoe","callerContext":{"awsSdkVersion":"aws-sdk-unknown-unknown","clientId":"1example23456789"},"request":{"userAttributes":{"sub":"a1","cognito:user_status":"CONFIRMED","email":"jdoe@example.com"},"session":[{"challengeName":"SRP_A","challengeResult":true,"challengeMetadata":null}],"clientMetadata":{"tenant":"t1"},"userNotFound":false},"response":{"challengeName":null,"issueTokens":null,"failAuthentication":null}});
        let ev: DefineAuthChallengeEvent = serde_json::from_value(define.clone()).unwrap();
        assert_eq!(ev.request.session[0].challenge_name, "SRP_A");
        assert_eq!(serde_json::to_value(&ev).unwrap(), define);

        let migrate = json!({"version":"1","triggerSource":"UserMigration_Authentication","region":"us-east-1","userPoolId":"us-east-1_EXAMPLE","userName":"legacy.user","callerContext":{"awsSdkVersion":"aws-sdk-unknown-unknown","clientId":"1example23456789"},"request":{"password":"S3cret!pass","validationData":null},"response":{"userAttributes":null,"finalUserStatus":null,"messageAction":null,"desiredDeliveryMediums":null,"forceAliasCreation":null,"enableSMSMFA":null}});
        let ev: UserMigrationEvent = serde_json::from_value(migrate.clone()).unwrap();
        assert_eq!(serde_json::to_value(&ev).unwrap(), migrate);

        let sender = json!({"version":"1","triggerSource":"CustomEmailSender_SignUp","region":"eu-west-1","userPoolId":"eu-west-1_EXAMPLE","userName":"HenryFord","callerContext":{"awsSdkVersion":"aws-sdk-unknown-unknown","clientId":"x"},"request":{"type":"customEmailSenderRequestV1","code":"AYADeJsc8AB","clientMetadata":null,"userAttributes":{"email":"h@example.com"}}});
        let ev: CustomEmailSenderEvent = serde_json::from_value(sender.clone()).unwrap();
        assert_eq!(ev.request.request_type, "customEmailSenderRequestV1");
        assert_eq!(serde_json::to_value(&ev).unwrap(), sender);

        let message = json!({"version":"1","region":"eu-west-2","userPoolId":"eu-west-2_EXAMPLE","userName":"a1","callerContext":{"awsSdkVersion":"aws-sdk-js-2.1639.0","clientId":"CLIENT_ID_NOT_APPLICABLE"},"triggerSource":"CustomMessage_AdminCreateUser","request":{"userAttributes":{"sub":"a1"},"codeParameter":"{####}","linkParameter":"{##Click Here##}","usernameParameter":"{username}"},"response":{"smsMessage":null,"emailMessage":null,"emailSubject":null}});
        let ev: CustomMessageEvent = serde_json::from_value(message.clone()).unwrap();
        assert_eq!(serde_json::to_value(&ev).unwrap(), message);
    }

    #[test]
    fn lenient_deserialization() {
        let ev: PreSignUpEvent = serde_json::from_value(json!({
            "version": 1, "userName": null, "callerContext": null,
            "request": {"userAttributes": null}, "response": {"autoConfirmUser": null}
        }))
        .unwrap();
        assert_eq!(ev.version, "1");
        assert!(!ev.response.auto_confirm_user);
        let ev: PreTokenGenerationV2Event = serde_json::from_value(json!({})).unwrap();
        assert!(ev.request.scopes.is_empty());
    }

    #[test]
    fn response_members_are_read_as_cognito_reads_them() {
        let r: PreSignUpResponse =
            serde_json::from_value(json!({"autoConfirmUser": "true", "autoVerifyEmail": true})).unwrap();
        assert!(!r.auto_confirm_user && r.auto_verify_email);
        let r: DefineAuthChallengeResponse =
            serde_json::from_value(json!({"challengeName": 1, "issueTokens": "yes", "failAuthentication": false}))
                .unwrap();
        assert_eq!(
            (r.challenge_name, r.issue_tokens, r.fail_authentication),
            (None, None, Some(false))
        );
        let r: CreateAuthChallengeResponse =
            serde_json::from_value(json!({"publicChallengeParameters": {"n": 5, "s": "x"}, "challengeMetadata": 7}))
                .unwrap();
        let public = r.public_challenge_parameters.unwrap();
        assert_eq!((public["n"].as_str(), public["s"].as_str()), ("5", "x"));
        assert_eq!(r.challenge_metadata.as_deref(), Some("7"));
        let misfit = serde_json::from_value::<CreateAuthChallengeResponse>(json!({"privateChallengeParameters": []}));
        assert_eq!(
            misfit.unwrap_err().to_string(),
            "Invalid lambda function output : CreateAuthChallenge response is not valid"
        );
    }

    #[test]
    fn token_edits_are_read_as_cognito_reads_them() {
        let read = |v| serde_json::from_value::<PreTokenGenerationResponse>(v);
        let details = |v| read(v).unwrap().claims_override_details.unwrap();
        // A null groupOverrideDetails removes the groups; a missing one keeps them.
        let removed = details(json!({"claimsOverrideDetails": {"groupOverrideDetails": null}}));
        assert_eq!(removed.group_override_details, Some(GroupConfiguration::default()));
        assert_eq!(
            details(json!({"claimsOverrideDetails": {}})).group_override_details,
            None
        );
        let kept = details(json!({"claimsOverrideDetails": {"groupOverrideDetails": 3, "claimsToSuppress": ["a", 1]}}));
        assert_eq!(kept.group_override_details, None);
        assert_eq!(kept.claims_to_suppress, Some(vec!["a".to_owned()]));
        assert_eq!(
            read(json!({"claimsOverrideDetails": "x"}))
                .unwrap()
                .claims_override_details,
            None
        );
        let misfit = read(json!({"claimsOverrideDetails": {"claimsToAddOrOverride": {"n": 1}}}));
        assert_eq!(
            misfit.unwrap_err().to_string(),
            "Invalid lambda function output : claimsToAddOrOverride values must be strings"
        );
        let v2: PreTokenGenerationV2Response = serde_json::from_value(json!({"claimsAndScopeOverrideDetails": {
            "idTokenGeneration": [], "accessTokenGeneration": {"claimsToAddOrOverride": {"n": 1}, "scopesToAdd": "s"}
        }}))
        .unwrap();
        let d = v2.claims_and_scope_override_details.unwrap();
        assert_eq!(d.id_token_generation, None);
        let access = d.access_token_generation.unwrap();
        assert_eq!(access.claims_to_add_or_override.unwrap()["n"], 1);
        assert_eq!(access.scopes_to_add, None);
    }

    #[test]
    fn migration_validation_data_may_be_absent() {
        let forgot = UserMigrationRequest {
            client_metadata: Some(HashMap::from([("k".into(), "v".into())])),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&forgot).unwrap(),
            json!({"clientMetadata": {"k": "v"}})
        );
        let sign_in = UserMigrationRequest {
            password: Some("p".into()),
            validation_data: Some(None),
            ..Default::default()
        };
        assert_eq!(
            serde_json::to_value(&sign_in).unwrap(),
            json!({"password": "p", "validationData": null})
        );
        let read: UserMigrationRequest = serde_json::from_value(json!({"validationData": null})).unwrap();
        assert_eq!(read.validation_data, Some(None));
    }

    #[test]
    fn unset_group_override_is_left_out() {
        let mut ev = PreTokenGenerationEvent::default();
        ev.response.claims_override_details = Some(ClaimsOverrideDetails {
            claims_to_add_or_override: Some(HashMap::from([("tenant".into(), "acme".into())])),
            ..Default::default()
        });
        let v = serde_json::to_value(&ev).unwrap();
        assert_eq!(
            v["response"],
            json!({"claimsOverrideDetails": {"claimsToAddOrOverride": {"tenant": "acme"}, "claimsToSuppress": null}})
        );
    }
}
