//! The ringfence guard's edge to live EVM chains: follows each configured chain over JSON-RPC
//! with alloy (HTTP polling, or WebSocket new-head subscriptions), decodes the watched logs into
//! normalised guard events from the configured event signatures, detects reorgs by parent hash
//! and rolls state back, feeds the pure rule engine, persists everything in the store, prints
//! each alert as a JSON line and acts on trips — a real pause transaction signed by a guardian
//! key from the environment, sent the moment the offending log is seen. [`Watcher`] is the daemon
//! behind `ringfence watch` and the replay lab's guard. Each chain is read through one
//! [`ChainReader`] ([`RpcReader`] for one endpoint, [`QuorumChainReader`] for several, which lets
//! a block through only when a quorum of them agrees and raises `rpc-disagreement` otherwise) and
//! each block becomes engine events through one function, [`block_events`]. The engine's state is snapshotted with the
//! checkpoint ([`restore`]), so a restart replays only the events after the snapshot, and a
//! source-chain reorg under a matched release re-judges it (`source-reorged`).
//!
//! [`spawn_ingest`], [`Actions`] and [`IngestMsg`] are the seams a fleet member
//! (`ringfence-fleet`) uses to run one chain's ingest and the actions without the daemon's loop.
//!
//! A receiver checks a generic webhook the way the daemon signs it:
//!
//! ```
//! let body = r#"{"rule":"wbtc-messages","severity":"trip"}"#;
//! let sig = ringfence_chain::webhook_signature(b"shared-secret", 1_795_257_722, body);
//! assert!(sig.starts_with("sha256=") && sig.len() == 7 + 64);
//! // Any change to the body or the timestamp gives another signature.
//! assert_ne!(sig, ringfence_chain::webhook_signature(b"shared-secret", 1_795_257_723, body));
//! ```

// Every dependency is used by the library (tests and benches have their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod actions;
mod decode;
mod error;
mod ingest;
mod metrics;
mod quorum_reader;
mod reader;
mod watch;

pub use actions::{Actions, Update, signature as webhook_signature};
pub use decode::Decoder;
pub use error::{Error, Result};
pub use ingest::{BlockMsg, Msg as IngestMsg, block_events};
pub use quorum_reader::QuorumChainReader;
pub use reader::{ChainReader, Contradiction, RawBlock, RpcReader};
pub use watch::{
    ChainHealth, Committed, IngestStart, Restored, WatchOptions, Watcher, print_alert, restore,
    spawn_ingest,
};
