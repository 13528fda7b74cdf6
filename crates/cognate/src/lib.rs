//! Cognate: a self-hosted user pool server, wire-compatible with Amazon Cognito User Pools.
//!
//! Embed it with [`start`]:
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let server = cognate::start(cognate::ServeOptions { port: 0, ..Default::default() }).await?;
//! println!("Cognito endpoint: {}", server.endpoint());
//! server.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Or declare pools whose Lambda triggers are Rust closures with the typed [`builder`]
//! ([`App`], [`UserPool`], [`Function`]) over the events of [`events`]:
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use cognate::events::PreSignUpEvent;
//!
//! let mut app = cognate::App::new();
//! let pool = cognate::UserPool::new(&mut app, "UserPool");
//! pool.on_pre_sign_up(cognate::Function::new(|mut ev: PreSignUpEvent| async move {
//!     ev.response.auto_confirm_user = true;
//!     Ok::<_, String>(ev)
//! }));
//! let server = app.serve("127.0.0.1:0").await?;
//! println!("{} at {}", server.pool_id("UserPool").unwrap(), server.endpoint());
//! # Ok(()) }
//! ```
mod backup;
pub mod builder;
pub mod cli;
pub mod events;

pub use builder::{
    App, CREATE_AUTH_CHALLENGE, CUSTOM_EMAIL_SENDER, CUSTOM_MESSAGE, CUSTOM_SMS_SENDER, DEFINE_AUTH_CHALLENGE,
    Function, POST_AUTHENTICATION, POST_CONFIRMATION, PRE_AUTHENTICATION, PRE_SIGN_UP, PRE_TOKEN_GENERATION,
    PRE_TOKEN_GENERATION_V2, PRE_TOKEN_GENERATION_V3, Payload, Server, TriggerError, TriggerKey, TriggerName, Triggers,
    USER_MIGRATION, UserPool, VERIFY_AUTH_CHALLENGE_RESPONSE,
};
pub use cognate_core::Compute;
pub use cognate_core::clock::{Clock, ManualClock, SystemClock};
pub use cognate_core::quotas::QuotaSettings;
pub use cognate_functions::{FunctionDef, FunctionError, FunctionTarget, ProcessSpec, RemoteSpec};
pub use cognate_server::{BlockingCompute, PoolDeclaration, RunningServer, ServeOptions, Storage, start};
pub use events::{Trigger, TriggerEvent};
