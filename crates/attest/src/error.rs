//! Errors of the attestor.

use std::path::PathBuf;

use ringfence_model::diag::Diagnostics;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config has problems, each located.
    #[error("{0}")]
    Invalid(Diagnostics),
    /// The key's environment variable is not set.
    #[error(
        "environment variable {key_env} is not set: export the attestor's hex private key there"
    )]
    KeyMissing {
        /// The variable.
        key_env: String,
    },
    /// The key's environment variable does not hold a private key (the value is never shown).
    #[error("environment variable {key_env} does not hold a 32-byte hex private key")]
    KeyInvalid {
        /// The variable.
        key_env: String,
    },
    /// Signing failed.
    #[error("signing failed: {0}")]
    Sign(String),
    /// The attestation store failed.
    #[error("attestation store: {0}")]
    Store(#[from] rusqlite::Error),
    /// A chain could not be set up (the message names endpoints only redacted).
    #[error("chain `{chain}`: {message}")]
    Chain {
        /// The chain's config id.
        chain: String,
        /// What went wrong.
        message: String,
    },
    /// The HTTP listener failed.
    #[error("http: {0}")]
    Io(#[from] std::io::Error),
}

/// Results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
