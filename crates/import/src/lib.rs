//! Importers: real, published configurations turned into a ringfence ecosystem [`Spec`].
//!
//! A risk team should not type its world in by hand. Each source of published data is a
//! [`Source`] — a module of its own that reads its input at the edge ([`Source::import`]) and maps
//! the parsed data to a spec with pure functions, keeping in every entity's `source` text where
//! each figure comes from (file, JSON path, address) and what the data cannot say (a threshold, a
//! committee's members, a chain id). The spec is validated with
//! [`ringfence_model::Model::from_spec`] before it is returned, so what an importer writes is what
//! `ringfence check` accepts.
//!
//! Sources today: [`ccip::CcipDirectory`] (Chainlink's CCIP directory), [`l2beat::L2beat`]
//! (L2BEAT discovery files: multisigs, upgrade keys, verifier sets, escrows) and
//! [`hyperlane::HyperlaneRegistry`] (Hyperlane warp routes). They all name chains the same way
//! ([`chains`]: by EVM chain id, with aliases such as `eth`, `mainnet`, `ethereum-mainnet`) and
//! name whatever lives at an address `<label>@<chain>:<0xaddress>`, so [`merge`] can join their
//! outputs: the same address on the same chain is the same entity, and conflicts are reported
//! with both locations, never silently resolved.
//!
//! Prices and supplies are rarely in published data: a [`Prices`] file fills them where known
//! (with a source per line), and an [`Import`] says which values are missing rather than letting
//! a total of zero pass for a finding.
//!
//! # Adding a source
//!
//! A fourth source — say LayerZero's DVN metadata — is one module and one line. The module parses
//! its files with located errors and maps them to a [`Spec`]:
//!
//! ```ignore
//! // crates/import/src/layerzero_dvns.rs
//! pub struct LayerZeroDvns;
//!
//! impl crate::Source for LayerZeroDvns {
//!     fn name(&self) -> &'static str { "layerzero-dvns" }
//!     fn describe(&self) -> &'static str { "LayerZero's DVN metadata (dvn-deployments.json)" }
//!     fn import(&self, input: &Path, prices: &Prices) -> Result<Import> {
//!         // read, parse (errors name file and JSON path), map: each DVN an operator
//!         // `<name>-operator@<chain>:<0xaddress>` with its organisation, so it joins the DVNs
//!         // L2BEAT's ULN configurations name; validate with Model::from_spec.
//!     }
//! }
//! ```
//!
//! and the line is its entry in [`SOURCES`]
//! (`&crate::layerzero_dvns::LayerZeroDvns`), which gives it `ringfence import layerzero-dvns
//! DIR -o SPEC` and lets `ringfence import merge` join it with the others by address.
//!
//! [`Spec`]: ringfence_model::Spec

// Every dependency is used by the library (tests and benches have their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod ccip;
pub mod chains;
mod error;
pub mod hyperlane;
mod json;
pub mod l2beat;
pub mod merge;
mod prices;
mod source;

pub use error::{Error, Result};
pub use prices::{Prices, Token};
pub use source::{Figure, Import, MissingValues, Provenance, SOURCES, Source, source};
