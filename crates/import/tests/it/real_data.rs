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
        Input::from_text(Path::new(label), i.to_toml().expect("toml"))
            .unwrap_or_else(|e| panic!("{e}"))
    })
    .collect();
    let merged = merge(&inputs).unwrap_or_else(|e| panic!("{e}"));
    (inputs, merged, l2f, hlf)
}

#[test]
fn the_shipped_real_map_is_what_the_three_sources_give() {
    let (inputs, merged, _, _) = regenerate();
    let toml = merged.to_toml(&inputs).expect("toml");
    let shipped =
        std::fs::read_to_string(repo().join("data/real/ecosystem.toml")).unwrap_or_default();
    assert!(
        toml == shipped,
        "data/real/ecosystem.toml is stale: run scripts/import-real.sh (from the repository root) and commit the result"
    );
}

#[test]
fn figures_of_the_real_map() {
    let (_, merged, l2f, hlf) = regenerate();
    import_figures(&l2f, &hlf);
    merge_figures(&merged);
    let model = Model::from_spec("real", merged.spec.clone()).expect("valid");
    exposure_figures(&model);
    lint_figures(&model);
}

/// What each source's import counts.
fn import_figures(l2f: &l2beat::Figures, hlf: &hyperlane::Figures) {
    assert_eq!(
        *l2f,
        l2beat::Figures {
            projects: 14,
            entries: 460,
            addresses: 422,
            multisigs: 16,
            eoa_keys: 4,
            eoa_upgraders: 4,
            verifier_sets: 15,
            operators: 165,
            layers: 9,
            projects_without_verifier_set: 5,
            assets: 19,
            assets_with_supply: 12,
        }
    );
    assert_eq!(
        *hlf,
        hyperlane::Figures {
            routes: 314,
            tokens: 1062,
            collateral: 472,
            synthetic: 334,
            not_evm: 207,
            other: 23,
            duplicates: 26,
            backed: 216,
            chains: 92,
        }
    );
}

/// What the merge joins, drops and reports as a conflict.
fn merge_figures(merged: &Merged) {
    // The merge: the six Hyperlane escrows L2BEAT and the registry both describe, the `hyperlane`
    // layer and the shared chains are joined; the one conflict is the layer's verifier set
    // (L2BEAT's multisig ISM against the registry's placeholder), located in both files.
    assert_eq!(merged.joined, 51);
    assert_eq!(merged.conflicts.len(), 1);
    let c = &merged.conflicts[0];
    assert_eq!(
        (c.kind.as_str(), c.id.as_str(), c.field.as_str()),
        ("layer", "hyperlane", "verifier_set")
    );
    assert_eq!(c.kept.1, "target/real-data/l2beat.toml:1246");
    assert_eq!(c.other.1, "target/real-data/hyperlane.toml:480");
    assert_eq!(
        merged.dropped,
        ["hyperlane-default-ism", "hyperlane-validators-unknown"]
    );
    for id in [
        "WBTC@ethereum:0x5b4e223de74ef8c3218e66eecc541003cab3121a",
        "USDC@ethereum:0xe1de9910fe71cc216490ac7fcf019e13a34481d7",
        "apxETH@ethereum:0xd34fe1685c28a68bb4b8faaadcb2769962ae737c",
    ] {
        let a = merged
            .spec
            .assets
            .iter()
            .find(|a| a.id.get_ref() == id)
            .expect(id);
        let src = a.source.as_deref().unwrap_or_default();
        assert!(
            src.contains("L2BEAT l2beat/hyperlane/discovered.json $.entries[")
                && src.contains("Hyperlane warp route"),
            "{id} cites both sources: {src}"
        );
    }
}

/// The merged map's size and its exposure, in dollars where known.
fn exposure_figures(model: &Model) {
    let s = &model.spec;
    assert_eq!(
        (
            s.chains.len(),
            s.operators.len(),
            s.verifier_sets.len(),
            s.keys.len(),
            s.layers.len(),
            s.assets.len()
        ),
        (131, 168, 49, 20, 10, 1874)
    );

    // In dollars where a published price and an on-chain supply exist: the seven Stargate
    // stablecoin pools; everything else is unknown, and the report says so.
    let closure = Closure::compute(model);
    let e = exposure_report(model, &closure, None);
    assert_eq!(e.total_value_usd.round(), 24_250_283.0);
    assert!(e.values_missing);
    assert_eq!(e.assets_without_value, 1867);
    let spof: Vec<(&str, i64, usize)> = e
        .single_points_of_failure
        .iter()
        .take(3)
        .map(|x| {
            (
                x.component.as_str(),
                x.value_usd.round() as i64,
                x.assets.len(),
            )
        })
        .collect();
    assert_eq!(
        spof,
        [
            (
                "layerzero-multisig@ethereum:0xbe010a7e3686fdf65e93344ab664d065a0b02478",
                24_250_283,
                13
            ),
            (
                "receiveuln302@ethereum:0xc02ab410f0734efa3f14628780e6e695156024c2",
                24_250_283,
                13
            ),
            ("stargate", 24_250_283, 12),
        ]
    );
    let hidden: Vec<(&str, Vec<String>)> = e
        .hidden_shared_dependencies
        .iter()
        .map(|h| (h.component.as_str(), h.layers.clone()))
        .collect();
    assert_eq!(
        hidden,
        [
            (
                "layerzero-multisig@ethereum:0xbe010a7e3686fdf65e93344ab664d065a0b02478",
                vec!["layerzero".to_owned(), "stargate".to_owned()]
            ),
            (
                "receiveuln302@ethereum:0xc02ab410f0734efa3f14628780e6e695156024c2",
                vec!["layerzero".to_owned(), "stargate".to_owned()]
            ),
        ]
    );
}

/// Lint: what the data proves, each finding on an entity whose source cites its entry.
fn lint_figures(model: &Model) {
    let s = &model.spec;
    let l = lint(model);
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for f in &l.findings {
        *by.entry(f.rule).or_default() += 1;
    }
    assert_eq!(
        by,
        BTreeMap::from([
            ("admin-without-timelock", 6),
            ("correlated-verifiers", 2),
            ("no-mint-cap", 3),
            ("no-rate-limit", 1163),
            ("weak-verifier-set", 43),
        ])
    );
    let one_of_one: Vec<&str> = l
        .findings
        .iter()
        .filter(|f| {
            f.rule == "weak-verifier-set"
                && !f.entity.starts_with("ccip")
                && f.message.contains("1-of-1")
        })
        .map(|f| f.entity.as_str())
        .collect();
    assert_eq!(
        one_of_one,
        [
            "anyswapv4router@ethereum:0x6b7a87899490ece95443e979ca9485cbe7e71522",
            "anyswapv6router@ethereum:0xba8da9dcf11b50b03fd5284f164ef5cdef910705",
            "dvn@ethereum:0xa4fe5a5b9a846458a70cd0748228aed3bf65c2cd",
            "homebeaconproxy@ethereum:0x92d3404a7e6c91455bbd81475cd9fad96acff4c8",
            "nethermind-dvn@ethereum:0xa59ba433ac34d2927232918ef5b2eaafcf130ba5",
            "replicabeaconproxy@ethereum:0x049b51e531fd8f90da6d92ea83dc4125002f20ef",
            "updatermanager@ethereum:0x9272c9d5fa902ef3804ec81e0333ae420d57f715",
        ]
    );
    let eoa_admin = l
        .findings
        .iter()
        .find(|f| f.rule == "admin-without-timelock" && f.entity == "portal")
        .expect("portal's EOA admin");
    assert!(
        eoa_admin
            .message
            .contains("eoa@ethereum:0x59278f587d4cfcdcbbc08019060be7231c37ddc2")
            && eoa_admin.message.contains("(eoa)")
    );
    let sources: BTreeMap<&str, &str> = s
        .verifier_sets
        .iter()
        .map(|v| {
            (
                v.id.get_ref().as_str(),
                v.source.as_deref().unwrap_or_default(),
            )
        })
        .chain(s.layers.iter().map(|x| {
            (
                x.id.get_ref().as_str(),
                x.source.as_deref().unwrap_or_default(),
            )
        }))
        .collect();
    for id in one_of_one.iter().copied().chain(["portal"]) {
        let src = sources.get(id).copied().unwrap_or_default();
        assert!(
            src.starts_with("L2BEAT l2beat/") && src.contains("$.entries["),
            "{id}: the proof is cited: {src}"
        );
    }
}

#[test]
fn every_entity_of_the_real_map_says_where_it_comes_from() {
    let (_, merged, _, _) = regenerate();
    let s = &merged.spec;
    let all = s
        .chains
        .iter()
        .map(|x| (x.id.get_ref(), &x.source))
        .chain(s.operators.iter().map(|x| (x.id.get_ref(), &x.source)))
        .chain(s.verifier_sets.iter().map(|x| (x.id.get_ref(), &x.source)))
        .chain(s.keys.iter().map(|x| (x.id.get_ref(), &x.source)))
        .chain(s.layers.iter().map(|x| (x.id.get_ref(), &x.source)))
        .chain(s.assets.iter().map(|x| (x.id.get_ref(), &x.source)));
    for (id, src) in all {
        assert!(
            src.as_deref().is_some_and(|t| !t.is_empty()),
            "{id} has no source"
        );
    }
    // No value is invented: a price comes only from the prices snapshot, with its line's source.
    for a in &s.assets {
        if *a.price_usd.get_ref() > 0.0 {
            let src = a.source.as_deref().unwrap_or_default();
            assert!(
                src.contains("2026-12-02") && src.contains("peg"),
                "{}: {src}",
                a.id.get_ref()
            );
        }
    }
}
