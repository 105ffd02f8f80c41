//! SQLite persistence for the ringfence guard (embedded, bundled SQLite; nothing to start): a
//! checkpoint and recent block hashes per chain for restart and reorg safety, every normalised
//! event in ingest order so the rule engine can be rebuilt by replay, and every alert with its
//! evidence and the outcome of its actions. Each ingested block is committed in one transaction
//! together with its events, alerts and the new checkpoint, so a `kill -9` never leaves half a
//! block behind. The store owns every SQL statement of the guard: the server reads trips, pages
//! and acknowledgements through this API, and the schema is versioned (`PRAGMA user_version`)
//! with forward migrations.
//!
//! ```
//! use ringfence_store::Store;
//!
//! let store = Store::open_in_memory().expect("sqlite");
//! assert_eq!(store.schema_version().expect("version"), ringfence_store::SCHEMA_VERSION);
//! assert!(store.checkpoint("ethereum").expect("read").is_none()); // nothing ingested yet
//! ```

// Every dependency is used by the library (tests and benches have their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod error;
mod store;

pub use error::{Error, Result};
pub use store::{Ack, AlertCounts, AlertFilter, AlertPage, BlockRecord, SCHEMA_VERSION, Store};
