//! The real, published CCIP directory (mainnet), shipped in `data/ccip-directory`
//! with its licence and SOURCE.md. The snapshot is fixed —
//! smartcontractkit/documentation at commit 59e5cde702f7 — so its figures are pinned here and in
//! the README.

use std::collections::BTreeSet;
use std::time::Instant;

use ringfence_exposure::{Closure, check_limits, exposure_report, lint};
use ringfence_import::Prices;
use ringfence_import::ccip::{CcipImport, Figures, import_dir};
use ringfence_model::Model;

use super::repo;

/// CCIP chains whose directory name the alias table maps to a registry chain with an EVM id.
const CHAINS_WITH_ID: usize = 60;

fn snapshot() -> std::path::PathBuf {
    let dir = repo().join("data/ccip-directory");
    assert!(
        dir.join("tokens.json").is_file(),
        "the CCIP snapshot is expected at {} (shipped with the repository)",
        dir.display()
    );
    dir
}

#[test]
fn the_real_snapshot_imports_to_a_valid_spec_with_its_pinned_figures() {
    let started = Instant::now();
    let c = import_dir(&snapshot(), &Prices::none()).unwrap_or_else(|e| panic!("{e}"));
    figures_notes_and_header(&c);
    let unbounded = named_deployments(&c);
    let model = written_spec(&c);
    lint_exposure_and_limits(&model, &unbounded);
    // Debug build, shared CI machine: a loose bound; the README has the release timings.
    assert!(
        started.elapsed().as_secs() < 60,
        "took {:?}",
        started.elapsed()
    );
}

/// The import's figures, its one note and the provenance in its header.
fn figures_notes_and_header(c: &CcipImport) {
    assert_eq!(
        c.figures,
        Figures {
            chains: 79,
            decommissioned_chains: 2,
            tokens: 317,
            token_chain_entries: 1171,
            lanes: 815,
            lane_token_configs: 2847,
            chains_with_verifiers: 33,
            verifiers: 3,
            assets: 1055,
            burn_mint: 831,
            lock_release: 215,
            usdc: 9,
            fee_token_only: 116,
            burn_mint_bounded: 485,
            burn_mint_no_inbound_lane: 2,
            burn_mint_limiter_disabled: 343,
            burn_mint_limiter_unpublished: 1,
            burn_mint_every_lane_disabled: 329,
            tokens_without_rate_limit: 135,
            disabled_inbound_lanes: 680,
        }
    );
    assert_eq!(c.figures.burn_mint_without_rate_limit(), 344);
    assert_eq!(
        c.import.notes,
        [
            "verifiers.json: verifiers are listed for `arc-mainnet`, which chains.json does not have; skipped"
        ]
    );
    let p = &c.import.header[1];
    assert!(p.contains("smartcontractkit/documentation@59e5cde702f7 src/config/data/ccip/v1_2_0/mainnet/ (2026-08-21), licence MIT"), "{p}");
}

/// Some of the deployments, by name; the burnMint deployments without a rate limit.
fn named_deployments(c: &CcipImport) -> BTreeSet<&str> {
    let unbounded: BTreeSet<&str> = c.unbounded().map(|i| i.asset.as_str()).collect();
    for id in [
        "LINK@jovay-mainnet",
        "USDC@ronin",
        "WETH@ronin",
        "pufETH@bsc",
        "SHIB@base",
        "LBTC@corn",
    ] {
        assert!(
            unbounded.contains(id),
            "{id} can be minted without a rate limit"
        );
    }
    let corn = c
        .inbound
        .iter()
        .find(|i| i.asset == "LBTC@corn")
        .expect("listed");
    assert_eq!(
        (corn.disabled_from.len(), corn.unpublished_from.as_slice()),
        (0, ["mainnet".to_owned()].as_slice())
    );
    let megaeth = c
        .inbound
        .iter()
        .find(|i| i.asset == "LINK@megaeth")
        .expect("listed");
    let (cap, rate) = megaeth.rate_limit.expect("bounded");
    assert!(
        (cap - 55_000.0).abs() < 1e-6 && (rate - 15.268).abs() < 1e-9,
        "{cap} {rate}"
    );
    unbounded
}

/// The written TOML is what `ringfence check` accepts, and equal to the import; its chains are
/// named as every importer names them.
fn written_spec(c: &CcipImport) -> Model {
    let toml = c.import.to_toml().expect("toml");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ccip.toml");
    std::fs::write(&path, &toml).expect("write");
    let model = Model::load(&path).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(model.spec, c.import.spec);
    // Chains are named as every importer names them; the alias table gives most an EVM chain id
    // from the Hyperlane registry, the rest (non-EVM, unknown names) have none.
    let with_id = model
        .spec
        .chains
        .iter()
        .filter(|ch| ch.chain_id.is_some())
        .count();
    assert_eq!(with_id, CHAINS_WITH_ID, "chains with an EVM chain id");
    let eth = model
        .spec
        .chains
        .iter()
        .find(|ch| ch.id.get_ref() == "ethereum")
        .expect("mainnet is ethereum");
    assert_eq!(eth.chain_id, Some(1));
    assert!(model.spec.chains.iter().all(|ch| ch.source.is_some()));
    assert!(model.spec.assets.iter().all(|a| {
        a.source
            .as_deref()
            .is_some_and(|s| s.contains("59e5cde702f7"))
    }));
    model
}

/// Lint reports exactly the deployments without a rate limit; exposure and limits run.
fn lint_exposure_and_limits(model: &Model, unbounded: &BTreeSet<&str>) {
    // Lint reports exactly the deployments the importer found without a rate limit.
    let report = lint(model);
    let flagged: BTreeSet<&str> = report
        .findings
        .iter()
        .filter(|f| f.rule == "no-rate-limit")
        .map(|f| f.entity.as_str())
        .collect();
    assert_eq!(&flagged, unbounded);
    assert_eq!(flagged.len(), 344);

    // Exposure and limits run, and the CCIP assets depend on the layer and the verifier sets.
    let closure = Closure::compute(model);
    let exposure = exposure_report(model, &closure, None);
    let _ = check_limits(model, &closure);
    assert!(
        exposure.values_missing,
        "no prices given: the report must say values are missing"
    );
    let wrapped = model.asset("LINK@megaeth").expect("asset");
    for component in ["ccip", "ccip-verifiers@megaeth", "megaeth"] {
        let c = model.component(component).expect("component");
        assert!(
            closure.dep(wrapped, c) > 0.0,
            "LINK@megaeth depends on {component}"
        );
    }
    let canonical = model.asset("LINK@ethereum").expect("asset");
    assert_eq!(
        closure.dep(canonical, model.component("ccip").expect("ccip")),
        0.0,
        "a lockRelease home token has no CCIP route"
    );
}
