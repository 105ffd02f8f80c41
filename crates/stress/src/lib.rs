//! Stress tests and contagion for ringfence: what one failure does to everything downstream.
//!
//! The crate is pure — no I/O, no clocks — and deterministic given its inputs and a seed. Money is
//! USD in `f64` throughout: these are analytics over published, rounded figures, where `f64`'s ~15
//! significant digits are far finer than any input.
//!
//! Engines, each tested against the published reference cases:
//! - [`clearing`]: Eisenberg–Noe and Rogers–Veraart clearing by the fictitious default algorithm
//!   on a sparse [`network::ClaimNetwork`];
//! - [`debtrank`]: differential (Bardoscia et al. 2015) and single-hit (Battiston et al. 2012)
//!   DebtRank;
//! - [`firesale`]: exponential price impact;
//! - [`lending`]: Aave v3 health factor, close factor and bonus; Morpho Blue incentive.
//!
//! Over a validated `ringfence_model::Model`: [`System`] applies joint failures, [`propagate`]
//! runs the DeFi contagion rounds, [`analysis`] ranks every single failure, finds the smallest
//! failure exceeding a loss and runs Monte Carlo, [`uncertainty`] samples the inputs' ranges
//! (P5/P50/P95 and a tornado table), and [`report`] renders the JSON contract, a
//! table and a self-contained HTML page.
//!
//! ```
//! use ringfence_stress::clearing::ClearingParams;
//! use ringfence_stress::network::ClaimNetwork;
//!
//! // Two protocols that owe each other; the first has lost its external assets.
//! let net = ClaimNetwork::from_dense(
//!     &[vec![0.0, 10.0], vec![5.0, 0.0]],
//!     &[0.0, 20.0],
//!     &[0.0, 0.0],
//! )
//! .expect("valid");
//! let c = net.clear(&ClearingParams::eisenberg_noe());
//! // It pays what it has (the 5 it receives), not the 10 it owes.
//! assert!((c.payments[0] - 5.0).abs() < 1e-9);
//! ```

// Every dependency is used by the library (tests and benches have their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod analysis;
pub mod calibrate;
pub mod clearing;
pub mod columnar;
pub mod debtrank;
mod error;
pub mod firesale;
pub mod lending;
pub mod network;
pub mod propagate;
pub mod report;
pub mod request;
mod rounds;
#[cfg(feature = "test-utils")]
pub mod synth;
pub mod system;
pub mod uncertainty;

pub use analysis::{MonteCarlo, Ranked, Reverse};
pub use clearing::{Clearing, ClearingParams};
pub use debtrank::{DebtRank, DebtRankMethod, ImpactNetwork};
pub use error::{Error, Result};
pub use network::{ClaimNetwork, ClaimNetworkBuilder, Seniority};
pub use propagate::{Outcome, StressParams};
pub use request::{ClearingModel, Dialect, RequestError, StressRequest};
pub use system::System;
pub use uncertainty::Uncertainty;
