//! Storage backends for Cognate. [`sqlite::SqliteStore`] is the embedded default.
pub mod sqlite;

pub use sqlite::SqliteStore;
