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
//!
//! ```
//! use ringfence_model::Model;
//!
//! let spec = r#"
//! [[chain]]
//! id = "eth"
//! [[key]]
//! id = "mint-key"
//! kind = "kms"
//! [[asset]]
//! id = "USR"
//! chain = "eth"
//! kind = "stablecoin"
//! price_usd = 1.0
//! supply = 1000.0
//! mint_authority = "mint-key"
//! "#;
//! let model = Model::from_str("eco.toml", spec).expect("valid");
//! assert_eq!(model.total_value_usd(), 1000.0);
//!
//! // A wrong reference is reported with its line and a fix, never a panic.
//! let typo = spec.replace("mint_authority = \"mint-key\"", "mint_authority = \"mint-kye\"");
//! let err = Model::from_str("eco.toml", &typo).unwrap_err();
//! assert!(err.to_string().contains("eco.toml:13:"), "{err}");
//! ```

// Every dependency is used by the library (tests and benches have their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

mod component;
pub mod diag;
pub mod input;
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
