//! The guard crate's error type.

use crate::diag::Diagnostics;

/// Errors from loading a guard configuration.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration file could not be read.
    #[error("cannot read guard config {path}: {source}")]
    Read {
        /// The path given.
        path: std::path::PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The configuration has one or more located problems.
    #[error("{0}")]
    Invalid(#[from] Diagnostics),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
