//! Behaviour tests of the importers: small hand-made directories under tests/fixtures/ccip/, the
//! real CCIP snapshot in data/ccip-directory, and properties of the parser.

mod fixtures;
mod l2beat;
mod properties;
mod real;
mod real_data;

use std::path::PathBuf;

/// The repository root.
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A hand-made directory under tests/fixtures/ccip/.
fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/ccip").join(name)
}
