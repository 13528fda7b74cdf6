//! Storage backends for Cognate. [`sqlite::SqliteStore`] is the embedded default.
mod common;
pub mod postgres;
pub mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
