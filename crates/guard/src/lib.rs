//! The ringfence guard's pure core: the typed guard configuration (TOML, validated with located
//! diagnostics), the normalised on-chain events that ingest produces (mint, burn, transfer, bridge
//! source/destination message, privileged change, head), and a deterministic, allocation-aware
//! rule engine (mint rate, outflow rate, message matching, backing, privileged changes, velocity
//! anomaly) that turns those events into trips and alerts. Windows run on block timestamps, so a
//! replay gives the same answer as the live run. No I/O, no clocks: RPC, storage and signing live
//! in `ringfence-chain` and `ringfence-store`.
//!
//! ```
//! use std::path::Path;
//!
//! // A config with a misspelt section: refused with its file, line and a fix, never a panic.
//! let text = "[store]\npath = \"guard.db\"\n[[chian]]\nid = \"eth\"\n";
//! let err = ringfence_guard::config::parse(Path::new("guard.toml"), text).unwrap_err();
//! assert!(err.to_string().contains("guard.toml:3:"), "{err}");
//! ```

// Every dependency is used by the library (tests and benches have their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod alert;
pub mod amount;
pub mod config;
pub mod diag;
pub mod document;
mod engine;
mod error;
mod event;
pub mod layers;
mod reason;
mod rules;
pub mod secret;
mod spec;

pub use alert::{ActionRecord, ActionStatus, Alert, AlertRecord, Severity};
pub use document::GuardDocument;
pub use engine::{Engine, Matched, Snapshot};
pub use error::{Error, Result};
pub use event::{
    BridgeSide, ChainIdx, Event, EventKind, Fields, MAX_FIELDS, PrivilegedChange, TokenIdx,
};
pub use layers::{LAYER_EVENTS, Layer, LayerEvent};
pub use reason::{AlertKind, Reason};
pub use secret::{RpcUrl, Secret};
pub use spec::{
    ActionKind, ActionSpec, AnomalyMetric, BridgeEventSpec, BridgeSpec, ChainSpec, FieldTolerance,
    GuardSpec, PRIVILEGED_EVENTS, RuleKind, RuleSpec, StoreSpec, TokenSpec, Transport,
    WebhookFormat,
};
