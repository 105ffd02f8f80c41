//! ringfence as an independent verifier for a bridge or a privileged mint path.
//!
//! An attestor signs an EIP-712 [`Attestation`] of a destination message (a bridge delivery or a
//! mint request) only when the matching source event is confirmed by a quorum of RPC endpoints
//! (`ringfence-quorum`) at the route's depth, matches the message on every `match_on` field,
//! was never attested before (SQLite), the route's verifier set has not just changed, and the
//! route's rate rule holds. Everything else is a typed [`Refusal`]. The decision
//! ([`decide::decide`]) is pure; the key comes from the environment, is never printed and signs
//! nothing but attestations ([`AttestorKey`]); attestations are served over HTTP
//! ([`service::router`]); [`run::Attestor`] follows the chains. A contract
//! (`RingfenceAttestationVerifier`) accepts a message only with k of n attestors' signatures.

// Every dependency is used by the library (tests and benches have their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod attestation;
pub mod config;
pub mod decide;
mod error;
pub mod run;
pub mod service;
pub mod store;

pub use attestation::{Attestation, AttestorKey, Signed};
pub use decide::{Refusal, Verdict};
pub use error::{Error, Result};
