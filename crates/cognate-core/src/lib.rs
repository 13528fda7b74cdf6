//! Cognate's domain: user pools, app clients, users, groups, sign-in flows, tokens and
//! triggers, with Cognito's semantics. It talks to the world only through traits
//! ([`store::Store`], [`clock::Clock`], [`rng::Random`], [`service::Compute`],
//! [`triggers::TriggerInvoker`]) so it can run against any backend and be tested with a
//! fake clock.
pub mod attributes;
pub mod clock;
pub(crate) mod csv;
pub mod error;
pub mod locks;
pub mod messages;
pub mod model;
pub mod oauth;
pub mod ops;
pub mod outbound;
pub mod quotas;
pub mod request;
pub mod rng;
pub mod service;
pub mod store;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod tokens;
pub mod triggers;

pub use error::{Error, ErrorKind, Result};
pub use service::{CallContext, Cognito, Compute, Settings};
