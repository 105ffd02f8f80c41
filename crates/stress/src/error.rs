//! The crate's error type.

/// Errors raised by the stress engines. Every variant names the offending input so the caller can
/// turn it into a located diagnostic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// A node index is outside the network.
    #[error("node {index} is out of range (network has {len} nodes)")]
    NodeOutOfRange {
        /// The offending index.
        index: usize,
        /// Number of nodes in the network.
        len: usize,
    },
    /// A monetary amount, fraction or parameter is negative, NaN or infinite.
    #[error("{what} must be finite and non-negative, got {value}")]
    InvalidAmount {
        /// What the amount is (e.g. "claim 3 -> 4").
        what: String,
        /// The value given.
        value: f64,
    },
    /// A parameter is outside its allowed range.
    #[error("{what} must be in {range}, got {value}")]
    OutOfRange {
        /// The parameter.
        what: String,
        /// The allowed range, for the message.
        range: &'static str,
        /// The value given.
        value: f64,
    },
    /// A node owes itself.
    #[error("node {0} has a claim on itself")]
    SelfClaim(usize),
    /// A per-node vector has the wrong length.
    #[error("{what} has {got} entries, expected {expected}")]
    LengthMismatch {
        /// The vector.
        what: &'static str,
        /// Its length.
        got: usize,
        /// The network size.
        expected: usize,
    },
    /// An id named in a scenario does not exist.
    #[error("unknown component `{0}`")]
    UnknownComponent(String),
    /// An entity of the ecosystem is inconsistent for stress purposes.
    #[error("{entity}: {message}")]
    Invalid {
        /// The entity id.
        entity: String,
        /// What is wrong.
        message: String,
    },
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn check_amount(what: impl FnOnce() -> String, value: f64) -> Result<f64> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(Error::InvalidAmount {
            what: what(),
            value,
        })
    }
}

pub(crate) fn check_unit(what: impl FnOnce() -> String, value: f64) -> Result<f64> {
    if value.is_finite() && (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(Error::OutOfRange {
            what: what(),
            range: "[0, 1]",
            value,
        })
    }
}
