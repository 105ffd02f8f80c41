//! Read an EVM chain through several independent RPC endpoints and believe only what a quorum
//! of them returns identically.
//!
//! One poisoned or lying RPC node is how KelpDAO's 1-of-1 verifier was fed a forged packet. A
//! [`QuorumReader`] asks every endpoint for a block's header (number, hash, parent hash,
//! timestamp) and the logs that matter, checks each answer for self-consistency (the header
//! hashes to its hash, the logs belong to that block), and returns an [`Outcome`]: `Confirmed`
//! when `quorum` endpoints agree exactly, `Disagreement` (naming the endpoints, redacted, and
//! what differed) when they do not, `Lagging` when too few have the block yet. An endpoint that
//! keeps contradicting the quorum is counted and reported. The agreement rule itself
//! ([`agree::decide`]) is pure. URLs are redacted in every output ([`RedactedUrl`], the one
//! home of URL redaction in ringfence, with [`scrub_urls`] and [`ScrubWriter`] for foreign text),
//! and a config's endpoint list and quorum are checked by one function, [`check_endpoints`].
//!
//! With the `test-utils` feature, `testing::LyingProxy` is a real JSON-RPC proxy on loopback
//! that lies on demand (injects a log, drops logs, rewrites a block hash, goes down), and
//! `testing::Anvil` the workspace's one anvil harness.
//!
//! ```
//! use ringfence_quorum::{RedactedUrl, redact};
//!
//! // A hosted provider's URL carries its key in the path: it never reaches a log or an alert.
//! let url = "https://eth-mainnet.example.com/v2/SECRETKEY123";
//! assert!(!redact(url).contains("SECRETKEY123"));
//! let r = RedactedUrl::new(url);
//! assert!(!format!("{r} {r:?}").contains("SECRETKEY123"));
//! ```

// Every dependency is used by the library (tests and benches have their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod agree;
mod endpoints;
mod error;
mod reader;
mod redact;
#[cfg(feature = "test-utils")]
pub mod testing;

pub use agree::{BlockView, Difference, Header, LogEntry};
pub use endpoints::{Endpoints, Problem, check_endpoints, majority};
pub use error::{Error, Result};
pub use reader::{
    Confirmed, Dissent, LogQuery, Outcome, QuorumReader, REPORT_EVERY, REPORT_FIRST, should_report,
};
pub use redact::{RedactedUrl, ScrubWriter, redact, scrub_urls};
