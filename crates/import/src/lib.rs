//! Importers: real, published configurations turned into a ringfence ecosystem [`Spec`].
//!
//! A risk team should not type its world in by hand. Each source of published data is a
//! [`Source`] — a module of its own that reads its input at the edge ([`Source::import`]) and maps
//! the parsed data to a spec with pure functions, keeping in every entity's `source` text where
//! each figure comes from and what the data cannot say (a threshold, a committee's members, a
//! chain id). The spec is validated with [`ringfence_model::Model::from_spec`] before it is
//! returned, so what an importer writes is what `ringfence check` accepts.
//!
//! Sources today: [`ccip::CcipDirectory`], Chainlink's published CCIP directory. Prices and
//! supplies are never in a directory: a [`Prices`] file fills them where known, and an
//! [`Import`] says which values are missing rather than letting a total of zero pass for a
//! finding.
//!
//! [`Spec`]: ringfence_model::Spec

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
