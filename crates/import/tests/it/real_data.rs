//! The real map: L2BEAT discovery, the Hyperlane registry and the CCIP directory (all shipped in
//! data/), imported with the dated prices snapshot and merged into data/real/ecosystem.toml. The
//! inputs are fixed, so the result and its figures are pinned here and in the README ("Real
//! data: three public sources, merged").

use std::collections::BTreeMap;
use std::path::Path;

use ringfence_exposure::{Closure, exposure_report, lint};
use ringfence_import::merge::{Input, Merged, merge};
use ringfence_import::{Prices, ccip, hyperlane, l2beat};
use ringfence_model::Model;

use super::repo;

const PRICES: &str = "data/prices/2026-12-02.toml";

/// Runs what `scripts/import-real.sh` runs, with the same labels, through the same library.
fn regenerate() -> (Vec<Input>, Merged, l2beat::Figures, hyperlane::Figures) {
    let root = repo();
    let text = std::fs::read_to_string(root.join(PRICES)).expect("prices snapshot");
    let prices = Prices::parse(Path::new(PRICES), &text).unwrap_or_else(|e| panic!("{e}"));
    let (l2, l2f) = l2beat::import_dir_as(&root.join("data/l2beat"), "data/l2beat", &prices)
        .unwrap_or_else(|e| panic!("{e}"));
    let (hl, hlf) = hyperlane::import_dir_as(
        &root.join("data/hyperlane-registry"),
        "data/hyperlane-registry",
        &prices,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let files = ccip::read(&root.join("data/ccip-directory")).unwrap_or_else(|e| panic!("{e}"));
    let cc = ccip::import_files(&files, "data/ccip-directory", &prices)
        .unwrap_or_else(|e| panic!("{e}"));
    let inputs: Vec<Input> = [
        ("target/real-data/l2beat.toml", &l2),
        ("target/real-data/hyperlane.toml", &hl),
        ("target/real-data/ccip.toml", &cc.import),
    ]
    .into_iter()
    .map(|(label, i)| {
        Input::from_text(Path::new(label), i.to_toml().expect("toml")).unwrap_or_else(|e| panic!("{e}"))
    })
    .collect();
    let merged = merge(&inputs).unwrap_or_else(|e| panic!("{e}"));
    (inputs, merged, l2f, hlf)
}

#[test]
fn the_shipped_real_map_is_what_the_three_sources_give() {
    let (inputs, merged, _, _) = regenerate();
    let toml = merged.to_toml(&inputs).expect("toml");
    let shipped = std::fs::read_to_string(repo().join("data/real/ecosystem.toml")).unwrap_or_default();
    assert!(
        toml == shipped,
        "data/real/ecosystem.toml is stale: run scripts/import-real.sh (from the repository root) and commit the result"
    );
}
