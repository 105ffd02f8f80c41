//! The ringfence ecosystem spec and its validated model.
//!
//! A spec is TOML — one file, or a directory whose `*.toml` files are merged — with one
//! `[[kind]]` table per entity: `chain`, `operator`, `verifier_set`, `key`, `layer`, `asset`,
//! `protocol`, `claim`, `policy`, and optionally `org` and `hosting` (to give them a failure
//! probability). [`Model::load`] reads and validates it, reporting every problem at once, each with
//! its file, line, column, entity and fix ([`Diagnostics`]); the resulting [`Model`] has every
//! reference resolved to a dense index, ready for the pure analyses in `ringfence-exposure` and
//! `ringfence-stress`.
//!
//! Components — what can fail — are chains, layers, verifier sets, operators and keys by their
//! ids, organisations as `org:<name>` and hosting providers as `hosting:<name>`.
//!
//! Units: token amounts are whole token units and prices and values are US dollars, all `f64`.
//! These are risk analytics; exact on-chain integers live in the guard.

// Every dependency is used by the library (tests and benches have their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod component;
pub mod diag;
mod load;
mod model;
pub mod spec;
#[cfg(any(test, feature = "test-utils"))]
pub mod test_utils;

pub use component::{Component, ComponentIdx, ComponentKind, hosting_id, org_id};
pub use diag::{Diagnostic, Diagnostics, SourceFile};
pub use model::{
    ASSET_RANGE_FIELDS, AssetNode, ClaimNode, EntityKind, KeyNode, LayerNode, MARKET_RANGE_FIELDS,
    MarketNode, Model, OperatorNode, PROTOCOL_RANGE_FIELDS, PolicyNode, PolicyTarget, ProtocolNode,
    RangeNode, RangeTarget, RouteNode, RowError, SHARE_EPSILON, VerifierSetNode,
};
pub use spec::Spec;
