//! The lab's errors.

use std::path::PathBuf;

use ringfence_model::Diagnostics;

/// Everything that can go wrong in the lab.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario, policy or data file has problems, each located.
    #[error("{0}")]
    Input(#[from] Diagnostics),
    /// A tool the replay needs is missing.
    #[error("{what} not found at {path}: run scripts/setup.sh")]
    MissingTool {
        /// What is missing.
        what: &'static str,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// anvil could not be started.
    #[error("cannot start anvil on port {port}: {message}")]
    Anvil {
        /// The port.
        port: u16,
        /// Why.
        message: String,
    },
    /// A JSON-RPC call failed.
    #[error("JSON-RPC `{method}` failed: {message}")]
    Rpc {
        /// The method or step.
        method: String,
        /// The error.
        message: String,
    },
    /// A compiled contract artifact is missing or broken.
    #[error("contract artifact {path}: {message} (run scripts/compile-contracts.sh)")]
    Artifact {
        /// The artifact file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The guard config generated for a scenario was rejected (a lab bug).
    #[error("generated guard config rejected: {0}")]
    GuardConfig(String),
    /// The guard daemon failed or fell behind.
    #[error("{0}")]
    Guard(String),
    /// A ringfence attestor of a verifier arm failed.
    #[error("the lab's attestor failed: {0}")]
    Verifier(String),
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// The lab's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn rpc(method: &str, e: impl std::fmt::Display) -> Error {
    Error::Rpc {
        method: method.to_owned(),
        message: e.to_string(),
    }
}
