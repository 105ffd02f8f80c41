//! ringfence as an independent verifier for a bridge or a privileged mint path.
//!
//! An attestor signs an EIP-712 [`Attestation`] of a destination message (a bridge delivery or a
//! mint request) only when the matching source event is confirmed by a quorum of RPC endpoints
//! (`ringfence-quorum`) at the route's depth, matches the message on every `match_on` field,
//! was never attested before (SQLite), the route's verifier set has not just changed, and the
//! route's rate rule holds. Everything else is a typed [`Refusal`]. The decision
//! ([`decide::decide`]) is pure; the key comes from the environment, is never printed and signs
//! nothing but attestations ([`AttestorKey`]); attestations are served over HTTP
//! ([`service::router`]) and gathered by relayers ([`collect`]: only signatures the contract
//! accepts, in the order it wants); [`run::Attestor`] follows the chains. A contract
//! (`RingfenceAttestationVerifier`) accepts a message only with k of n attestors' signatures.
//!
//! ```
//! use alloy::primitives::{Address, B256, U256};
//! use ringfence_attest::AttestorKey;
//! use ringfence_attest::attestation::{attestation, domain, recover, route_id};
//!
//! // Anvil's well-known development key #0: never a real one.
//! let key = AttestorKey::from_hex(
//!     "EXAMPLE_KEY",
//!     "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
//! )
//! .expect("key");
//! let a = attestation(route_id("wbtc"), 1, B256::ZERO, 0, B256::repeat_byte(7),
//!     B256::repeat_byte(1), U256::from(5_000_000_000u64), Address::repeat_byte(9));
//! let d = domain(10, Address::repeat_byte(0xaa));
//! let signed = key.sign(&a, &d).expect("signs");
//! // What the verifier contract does: recover the signer of the EIP-712 digest.
//! assert_eq!(recover(&a, &d, &signed.signature), Some(key.address()));
//! // The key never prints.
//! assert!(!format!("{key:?}").contains("ac0974"));
//! ```

// Every dependency is used by the library (tests and benches have their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod attestation;
pub mod collect;
pub mod config;
pub mod decide;
mod error;
pub mod run;
pub mod service;
pub mod store;

pub use attestation::{Attestation, AttestorKey, Signed};
pub use decide::{Refusal, Verdict};
pub use error::{Error, Result};
