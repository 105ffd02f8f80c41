//! Errors building a quorum reader (reading never errors: it returns an [`crate::Outcome`]).

/// What can be wrong with a reader's endpoints or quorum.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No endpoint was given.
    #[error("no RPC endpoint: list at least one, e.g. rpc = [\"http://127.0.0.1:8545\"]")]
    NoEndpoints,
    /// An endpoint is not http(s) or ws(s).
    #[error("endpoint {endpoint}: not an http(s):// or ws(s):// URL")]
    Scheme {
        /// The endpoint, redacted.
        endpoint: String,
    },
    /// The quorum is 0 or above the number of endpoints.
    #[error("quorum {quorum} is impossible with {n} endpoint(s): use 1..={n}")]
    Quorum {
        /// The quorum asked for.
        quorum: usize,
        /// The number of endpoints.
        n: usize,
    },
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
