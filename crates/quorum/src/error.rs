//! Errors building a quorum reader (reading never errors: it returns an [`crate::Outcome`]).

/// What can be wrong with a reader's endpoints or quorum.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The endpoint list or the quorum is refused by [`crate::check_endpoints`] (the same
    /// check, and the same words, as the configs'); endpoints are shown redacted.
    #[error("{}", .problems.join("; "))]
    Endpoints {
        /// Each problem with its fix.
        problems: Vec<String>,
    },
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
