//! Typed Lambda trigger events, one per trigger, with the field names Cognito sends.
//!
//! These are the domain's own event types ([`cognate_core::triggers::events`]): the event a
//! function receives is, by construction, the one Cognate builds.
//!
//! ```
//! use cognate::events::PreSignUpEvent;
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
pub use cognate_core::triggers::events::*;
