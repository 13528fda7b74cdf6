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
pub mod cli;

pub use cognate_core::clock::{Clock, ManualClock, SystemClock};
pub use cognate_server::{RunningServer, ServeOptions, Storage, start};
