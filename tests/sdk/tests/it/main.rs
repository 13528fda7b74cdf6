//! Black-box conformance suite: every test starts its own Cognate and drives it through the AWS
//! SDK for Rust (plus raw HTTP where the wire itself is under test).
//!
//! Run: `CARGO_TARGET_DIR=/work/target-sdk cargo test -p cognate-sdk-tests`

// Test code: a failed unwrap is the test's report, and clients sign with the real time.
#![allow(clippy::unwrap_used, clippy::disallowed_methods)]

mod admin_users;
mod auth;
mod clients;
mod custom_senders;
mod custom_srp;
mod devices;
mod domains;
mod errors;
mod federation;
mod groups;
mod harness;
mod hosted_ui;
mod identity_providers;
mod import_jobs;
mod jwt_clients;
mod list_users;
mod mfa;
mod oauth;
mod oauth_triggers;
mod passkey_sign_in;
mod passkeys;
mod passkeys_browser;
mod persistence;
mod pool_validation;
mod pools;
mod protections;
mod quotas;
mod races;
mod refresh;
mod rotation;
mod self_service;
mod serverless;
mod signup;
mod sigv4;
mod srp;
mod srp_clients;
mod tokens;
mod triggers_auth;
mod triggers_custom_auth;
mod triggers_failures;
mod triggers_messages;
mod triggers_signup;
mod ui_customization;
mod user_auth;
mod user_auth_settings;
