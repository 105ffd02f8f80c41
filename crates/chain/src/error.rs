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
    /// A guardian key or webhook secret is missing or malformed (the secret itself is never
    /// printed).
    #[error("{what}: environment variable {env} {problem}")]
    Key {
        /// `guardian key` or `webhook secret`.
        what: &'static str,
        /// The variable name.
        env: String,
        /// What is wrong.
        problem: &'static str,
    },
    /// A webhook action cannot be set up (its CA file, its HTTP client).
    #[error("webhook action `{action}`: {problem}")]
    Webhook {
        /// Action id.
        action: String,
        /// What is wrong.
        problem: String,
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
    /// A chain's endpoints disagree about a block and no quorum of them agrees: nothing from
    /// it is believed (endpoints shown redacted).
    #[error(
        "rpc {chain}: the endpoints disagree on block {} and no quorum agrees ({})",
        contradiction.block,
        contradiction.differed.join(", ")
    )]
    NoQuorum {
        /// Chain id from the config.
        chain: String,
        /// Who said what.
        contradiction: Box<crate::reader::Contradiction>,
    },
    /// A background task (blocking store work) failed.
    #[error("internal task failed: {0}")]
    Task(String),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An RPC error; every URL in its message is redacted (the RPC libraries print the full
/// endpoint, API key included).
pub(crate) fn rpc(chain: &str, e: impl std::fmt::Display) -> Error {
    Error::Rpc {
        chain: chain.to_owned(),
        message: ringfence_guard::secret::scrub_urls(&e.to_string()).into_owned(),
    }
}
