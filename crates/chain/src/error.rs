//! The chain crate's error type.

/// Errors from ingest, actions and the watch daemon.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A JSON-RPC call failed.
    #[error("rpc {chain}: {message}")]
    Rpc {
        /// Chain id from the config.
        chain: String,
        /// What failed.
        message: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] ringfence_store::Error),
    /// A guardian key is missing or malformed (the key itself is never printed).
    #[error("guardian key: environment variable {env} {problem}")]
    Key {
        /// The variable name.
        env: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// The metrics listener could not start.
    #[error("metrics listener on {addr}: {source}")]
    Metrics {
        /// Address.
        addr: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The stored events do not fit the config (a chain was renamed or removed).
    #[error("the store at {path} was written with a different config: {message}")]
    ConfigChanged {
        /// Store path.
        path: std::path::PathBuf,
        /// What does not fit.
        message: String,
    },
    /// A background task (blocking store work) failed.
    #[error("internal task failed: {0}")]
    Task(String),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn rpc(chain: &str, e: impl std::fmt::Display) -> Error {
    Error::Rpc {
        chain: chain.to_owned(),
        message: e.to_string(),
    }
}
