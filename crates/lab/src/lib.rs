//! The ringfence incident lab: turns a historical exploit into real transactions on local anvil
//! chains and measures how much of the loss the guard prevents. It holds the scenario format
//! (TOML, every problem located with file, line and column), the loader of the shared incident
//! corpus, the converter of Nomad's real exploit events into a scenario, the default policy, pure
//! seeded generators of benign bridge traffic and of unseen (synthetic) attacks, and the replay
//! runner: six arms on fresh chains — no controls; the off-chain guard alone (the `ringfence
//! watch` daemon itself, started on the chains with the guard config the policy generates, acting
//! only through the actions that config names); the on-chain limits of
//! `contracts/src/RingfenceControls.sol` alone; the guard with those limits; the guard with
//! ringfence as a required verifier (k of n `ringfence attest` attestors, each reading the chains
//! through its own RPC quorum); and all of them.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use ringfence_lab::{ReplayOptions, Scenario, replay};
//!
//! // Nomad 2022 on fresh anvil chains, in every arm, under the default policy.
//! let scenario = Scenario::load("incidents/nomad-2022-08.toml".as_ref())?;
//! let opts = ReplayOptions { policy: Default::default(), progress: None, arms: Vec::new() };
//! let report = replay(&scenario, &opts).await?;
//! println!("prevented: {:.2}", report.prevented_share);
//! # Ok(()) }
//! ```

// Every dependency is used by the library (tests and benches have their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod anvil;
pub mod benign;
pub mod corpus;
mod error;
pub mod nomad;
pub mod policy;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod synthetic;

pub use error::{Error, Result};
pub use policy::Policy;
pub use report::{ReplayReport, Summary};
pub use runner::{ReplayOptions, replay};
pub use scenario::{Asset, Class, Scenario, Step, StepKind};
