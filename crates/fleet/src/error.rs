//! The fleet's errors.

use crate::codec::CodecError;

/// What can go wrong in a fleet member.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The bus cannot be reached or refused a request.
    #[error("bus {what}: {message}")]
    Bus {
        /// What was being done (connect, create stream, publish …).
        what: &'static str,
        /// The client's error (server URLs carry no credentials here; see [`crate::bus`]).
        message: String,
    },
    /// A message on the bus is refused.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The chain edge failed (ingest start-up, keys, actions).
    #[error(transparent)]
    Chain(#[from] ringfence_chain::Error),
    /// The member's store failed.
    #[error(transparent)]
    Store(#[from] ringfence_store::Error),
    /// A bad `--bus` argument.
    #[error("--bus {given}: {problem}; give nats://HOST:PORT[,nats://HOST:PORT…]")]
    BadUrl {
        /// The argument, credentials redacted.
        given: String,
        /// What is wrong.
        problem: String,
    },
}

/// The fleet's result.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A bus error from any client error.
pub(crate) fn bus(what: &'static str, e: impl std::fmt::Display) -> Error {
    Error::Bus {
        what,
        message: ringfence_guard::secret::scrub_urls(&e.to_string()).into_owned(),
    }
}
