//! A ringfence guard that outlives its machine: `ringfence watch CONFIG --bus nats://…` runs one
//! member of a fleet over NATS JetStream. Each chain is ingested by one member at a time, the
//! holder of its lease in a JetStream key-value bucket (TTL, renewed; taken over when its holder
//! dies); ingest publishes each confirmed block (header, decoded events, reorg markers) to a
//! stream, one subject per chain, fenced by the subject's last sequence so a member that lost
//! its lease cannot append. Every member judges every block with the same rule engine as
//! `watch` ([`ringfence_guard::Engine`]), its own SQLite store being its checkpoint (blocks at or
//! below a chain's checkpoint are skipped, so a restart or a redelivery never judges a block
//! twice); each alert is claimed once in a key-value bucket (create-if-absent) before it is
//! printed, published on `ringfence.alerts` or acted on, and a claim whose holder died before
//! sending is taken over after a timeout. The wire format ([`codec`]), the lease and claim
//! decisions ([`lease`], [`claim`]) are pure and tested without a server; [`bus`] and
//! [`member`] are the edges.

// Every dependency is used by the library (tests have their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod bus;
pub mod claim;
pub mod codec;
mod error;
pub mod lease;
pub mod member;
#[cfg(feature = "test-utils")]
pub mod testing;

pub use bus::{Bus, BusOptions};
pub use codec::{Body, CodecError, Envelope, Header, config_hash};
pub use error::{Error, Result};
pub use member::{Member, MemberOptions};
