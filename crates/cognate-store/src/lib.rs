//! Storage backends for Cognate. [`sqlite::SqliteStore`] is the embedded default.
pub mod backup;
mod common;
pub mod postgres;
pub mod sqlite;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;
