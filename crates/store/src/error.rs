//! The store's error type.

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A stored row could not be decoded.
    #[error("corrupt row in `{table}`: {message}")]
    Corrupt {
        /// Table name.
        table: &'static str,
        /// What was wrong.
        message: String,
    },
    /// The store was written by a newer ringfence.
    #[error(
        "the store's schema version is {found}; this ringfence reads up to {supported}: upgrade ringfence, or point `[store] path` at a new file"
    )]
    Newer {
        /// `PRAGMA user_version` of the file.
        found: u32,
        /// [`crate::SCHEMA_VERSION`].
        supported: u32,
    },
    /// The database file's directory could not be created.
    #[error("cannot create {path}: {source}")]
    Io {
        /// Path.
        path: std::path::PathBuf,
        /// Cause.
        source: std::io::Error,
    },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
