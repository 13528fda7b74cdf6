//! Black-box conformance suite: every test starts its own Cognate and drives it through the AWS
//! SDK for Rust (plus raw HTTP where the wire itself is under test).
//!
//! Run: `CARGO_TARGET_DIR=/work/target-sdk cargo test -p cognate-sdk-tests`

mod admin_users;
mod auth;
mod clients;
mod errors;
mod groups;
mod list_users;
mod persistence;
mod pools;
mod self_service;
mod signup;
mod tokens;
