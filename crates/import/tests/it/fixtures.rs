//! The mapping, case by case, on hand-made directories (tests/fixtures/ccip/README.md says what
//! each holds).

use std::collections::BTreeSet;

use ringfence_import::ccip::{CcipImport, Figures, import_dir};
use ringfence_import::{Error, Prices, source};
use ringfence_model::Model;
use ringfence_model::spec::{Asset, AssetKind};

use super::fixture;

fn mapping(prices: &Prices) -> CcipImport {
    import_dir(&fixture("mapping"), prices).expect("the mapping fixture imports")
}

fn asset<'a>(c: &'a CcipImport, id: &str) -> &'a Asset {
    c.import
        .spec
        .assets
        .iter()
        .find(|a| a.id.get_ref() == id)
        .unwrap_or_else(|| panic!("no asset {id}"))
}

fn rate_limit(a: &Asset) -> Option<(f64, f64)> {
    a.route
        .as_ref()
        .and_then(|r| r.rate_limit.as_ref())
        .map(|l| (*l.capacity.get_ref(), *l.refill_per_s.get_ref()))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn figures_of_the_hand_made_directory() {
    let c = mapping(&Prices::none());
    assert_eq!(
        c.figures,
        Figures {
            chains: 3,
            decommissioned_chains: 1,
            tokens: 6,
            token_chain_entries: 10,
            lanes: 6,
            lane_token_configs: 9,
            chains_with_verifiers: 1,
            verifiers: 2,
            assets: 9,
            burn_mint: 6,
            lock_release: 2,
            usdc: 1,
            fee_token_only: 1,
            burn_mint_bounded: 3,
            burn_mint_no_inbound_lane: 1,
            burn_mint_limiter_disabled: 1,
            burn_mint_limiter_unpublished: 1,
            burn_mint_every_lane_disabled: 0,
            tokens_without_rate_limit: 2,
            disabled_inbound_lanes: 1,
        }
    );
    assert_eq!(c.import.figure("burn_mint_without_rate_limit"), Some(2));
    let unbounded: Vec<&str> = c.unbounded().map(|i| i.asset.as_str()).collect();
    assert_eq!(unbounded, ["TKN@gamma", "UNP@beta"]);
}

#[test]
fn every_enabled_inbound_lane_adds_up_to_the_rate_limit_in_whole_tokens() {
    let c = mapping(&Prices::none());
    // beta accepts 1000 TKN from alpha and 500 from gamma (18 decimals).
    let (cap, rate) = rate_limit(asset(&c, "TKN@beta")).expect("bounded");
    assert!(close(cap, 1500.0) && close(rate, 1.5), "{cap} {rate}");
    // 2_500_000 at 6 decimals is 2.5 tokens: each chain's own decimals convert its pool's limits.
    let (cap, rate) = rate_limit(asset(&c, "SIXD@alpha")).expect("bounded");
    assert!(close(cap, 2.5) && close(rate, 0.25), "{cap} {rate}");
    let (cap, _) = rate_limit(asset(&c, "SIXD@beta")).expect("bounded");
    assert!(close(cap, 2.2), "{cap}");
}

#[test]
fn a_lane_with_the_limiter_disabled_leaves_the_deployment_without_a_rate_limit() {
    let c = mapping(&Prices::none());
    let a = asset(&c, "TKN@gamma");
    assert_eq!(a.kind, AssetKind::Wrapped);
    let route = a.route.as_ref().expect("burnMint has a route");
    assert_eq!(route.layer.get_ref(), "ccip");
    assert!(
        route.rate_limit.is_none(),
        "the lane from alpha has its inbound limiter disabled"
    );
    let source = a.source.as_deref().unwrap_or_default();
    assert!(
        source.contains("limiter disabled on 1 (from alpha)"),
        "{source}"
    );
    assert!(
        source.contains("no rate limit — a mint path without a bound"),
        "{source}"
    );
    let inbound = c
        .inbound
        .iter()
        .find(|i| i.asset == "TKN@gamma")
        .expect("listed");
    assert_eq!(
        (inbound.lanes, inbound.disabled_from.as_slice()),
        (2, ["alpha".to_owned()].as_slice())
    );
}

#[test]
fn an_inbound_limiter_the_chain_does_not_publish_is_not_a_bound() {
    let c = mapping(&Prices::none());
    let a = asset(&c, "UNP@beta");
    assert!(rate_limit(a).is_none());
    assert!(
        a.source
            .as_deref()
            .unwrap_or_default()
            .contains("limiter not published for 1 (from alpha)")
    );
}

#[test]
fn a_token_with_no_inbound_lane_has_a_zero_rate_limit_and_says_why() {
    let c = mapping(&Prices::none());
    let a = asset(&c, "ORPH@gamma");
    assert_eq!(rate_limit(a), Some((0.0, 0.0)));
    assert!(
        a.source
            .as_deref()
            .unwrap_or_default()
            .contains("no lane lists this token into this chain")
    );
    assert!(!c.unbounded().any(|i| i.asset == "ORPH@gamma"));
}

#[test]
fn pool_types_map_to_kinds_and_fee_tokens_are_not_assets() {
    let c = mapping(&Prices::none());
    assert_eq!(asset(&c, "TKN@alpha").kind, AssetKind::Canonical);
    assert!(asset(&c, "TKN@alpha").route.is_none());
    assert_eq!(asset(&c, "USDC@alpha").kind, AssetKind::Stablecoin);
    assert!(asset(&c, "USDC@alpha").route.is_none());
    assert!(
        !c.import
            .spec
            .assets
            .iter()
            .any(|a| a.id.get_ref().starts_with("LINK@"))
    );
    // The only lockRelease pool of a token is its burnMint routes' source chain.
    assert_eq!(
        asset(&c, "TKN@beta")
            .route
            .as_ref()
            .and_then(|r| r.source.as_ref())
            .map(|s| s.get_ref().as_str()),
        Some("alpha")
    );
    assert!(
        asset(&c, "SIXD@beta")
            .route
            .as_ref()
            .is_some_and(|r| r.source.is_none())
    );
}

#[test]
fn verifiers_become_operators_and_per_chain_sets_without_invented_thresholds() {
    let c = mapping(&Prices::none());
    let spec = &c.import.spec;
    let ops: Vec<(&str, &str)> = spec
        .operators
        .iter()
        .map(|o| (o.id.get_ref().as_str(), o.org.get_ref().as_str()))
        .collect();
    assert_eq!(
        ops,
        [
            ("ccip-verifier-chainlink", "Chainlink"),
            ("ccip-verifier-lombard", "Lombard")
        ]
    );
    let set = |id: &str| {
        spec.verifier_sets
            .iter()
            .find(|v| v.id.get_ref() == id)
            .unwrap_or_else(|| panic!("{id}"))
    };
    let alpha = set("ccip-verifiers@alpha");
    assert_eq!(
        alpha
            .members
            .iter()
            .map(|m| m.get_ref().as_str())
            .collect::<Vec<_>>(),
        ["ccip-verifier-chainlink", "ccip-verifier-lombard"]
    );
    assert_eq!(alpha.threshold, 1);
    assert!(
        alpha
            .source
            .as_deref()
            .unwrap_or_default()
            .contains("does not say how many of them must attest")
    );
    let default = set("ccip-default");
    assert_eq!(
        default
            .members
            .iter()
            .map(|m| m.get_ref().as_str())
            .collect::<Vec<_>>(),
        ["ccip-verifier-chainlink"]
    );
    assert_eq!(spec.layers.len(), 1);
    assert_eq!(spec.layers[0].verifier_set.get_ref(), "ccip-default");
    // alpha lists verifiers, beta does not: its routes fall back to the layer's default.
    assert_eq!(
        asset(&c, "SIXD@alpha")
            .route
            .as_ref()
            .and_then(|r| r.verifier_set.as_ref())
            .map(|v| v.get_ref().as_str()),
        Some("ccip-verifiers@alpha")
    );
    assert!(
        asset(&c, "TKN@beta")
            .route
            .as_ref()
            .is_some_and(|r| r.verifier_set.is_none())
    );
}

#[test]
fn chains_have_no_invented_chain_id_and_every_entity_keeps_its_source() {
    let c = mapping(&Prices::none());
    let spec = &c.import.spec;
    assert!(spec.chains.iter().all(|ch| ch.chain_id.is_none()));
    let gamma = spec
        .chains
        .iter()
        .find(|ch| ch.id.get_ref() == "gamma")
        .expect("gamma");
    let s = gamma.source.as_deref().unwrap_or_default();
    assert!(
        s.contains("selector 1003")
            && s.contains("no EVM chain id")
            && s.contains("decommissioned"),
        "{s}"
    );
    let sources = spec
        .chains
        .iter()
        .map(|x| &x.source)
        .chain(spec.operators.iter().map(|x| &x.source))
        .chain(spec.verifier_sets.iter().map(|x| &x.source))
        .chain(spec.layers.iter().map(|x| &x.source))
        .chain(spec.assets.iter().map(|x| &x.source));
    for s in sources {
        let s = s.as_deref().expect("every entity has a source");
        assert!(s.contains(".json"), "cites a directory file: {s}");
    }
}

#[test]
fn the_written_toml_is_a_valid_spec_equal_to_the_import() {
    let c = mapping(&Prices::none());
    let toml = c.import.to_toml().expect("toml");
    assert!(toml.starts_with("# Imported by `ringfence import ccip-directory`"));
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ccip.toml");
    std::fs::write(&path, &toml).expect("write");
    let model = Model::load(&path).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(model.spec, c.import.spec);
}

#[test]
fn lint_reports_exactly_the_deployments_without_a_rate_limit() {
    let c = mapping(&Prices::none());
    let model =
        Model::from_spec("mapping", c.import.spec.clone()).unwrap_or_else(|d| panic!("{d}"));
    let lint = ringfence_exposure::lint(&model);
    let flagged: BTreeSet<&str> = lint
        .findings
        .iter()
        .filter(|f| f.rule == "no-rate-limit")
        .map(|f| f.entity.as_str())
        .collect();
    assert_eq!(flagged, BTreeSet::from(["TKN@gamma", "UNP@beta"]));
}

#[test]
fn prices_fill_what_they_know_and_the_rest_is_reported_missing() {
    let prices = Prices::load(&fixture("mapping/prices.toml")).expect("prices");
    let c = mapping(&prices);
    let beta = asset(&c, "TKN@beta");
    assert_eq!(
        (*beta.price_usd.get_ref(), *beta.supply.get_ref()),
        (2.5, 1000.0)
    );
    assert!(
        beta.source
            .as_deref()
            .unwrap_or_default()
            .contains("Price and supply from")
    );
    let gamma = asset(&c, "TKN@gamma");
    assert_eq!(
        (*gamma.price_usd.get_ref(), *gamma.supply.get_ref()),
        (2.5, 0.0)
    );
    assert!(
        gamma
            .source
            .as_deref()
            .unwrap_or_default()
            .contains("Value not known: supply")
    );
    let m = &c.import.missing;
    assert_eq!((m.assets, m.without_price, m.without_supply), (9, 5, 8));
    assert_eq!(m.symbols_without_price, ["ORPH", "SIXD", "UNP"]);
    assert_eq!(m.unused, ["[price_usd] \"NOPE\""]);
    assert!(c.import.notes.iter().any(|n| n.contains("NOPE")));
    let summary = m.summary();
    assert!(
        summary.contains("5 of 9 assets have no price") && summary.contains("not \"no exposure\""),
        "{summary}"
    );
    assert!(c.import.header.iter().any(|h| h.contains("values missing")));
    let layer = c.import.spec.layers[0]
        .source
        .as_deref()
        .unwrap_or_default();
    assert!(layer.contains("values missing"), "{layer}");
}

#[test]
fn without_prices_every_value_is_missing_not_zero() {
    let c = mapping(&Prices::none());
    assert_eq!(
        (
            c.import.missing.without_price,
            c.import.missing.without_supply
        ),
        (9, 9)
    );
    assert!(!c.import.missing.is_complete());
    assert!(
        asset(&c, "TKN@beta")
            .source
            .as_deref()
            .unwrap_or_default()
            .contains("no --prices file was given")
    );
}

#[test]
fn an_unknown_pool_type_is_a_clear_error() {
    let e =
        import_dir(&fixture("unknown-pool-type"), &Prices::none()).expect_err("unknown pool type");
    let msg = e.to_string();
    assert!(matches!(e, Error::Invalid { .. }), "{msg}");
    assert!(
        msg.contains(
            "unknown-pool-type/tokens.json: at $.TKN.beta.poolType: unknown pool type \"lockMint\""
        ),
        "{msg}"
    );
    assert!(
        msg.contains("help: the known pool types are burnMint, lockRelease, usdc, feeTokenOnly"),
        "{msg}"
    );
}

#[test]
fn a_malformed_file_is_a_clear_error_with_its_line() {
    let e = import_dir(&fixture("malformed"), &Prices::none()).expect_err("malformed");
    let msg = e.to_string();
    assert!(matches!(e, Error::Syntax { line: 13, .. }), "{msg}");
    assert!(
        msg.contains("malformed/lanes.json:13:")
            && msg.contains("not valid JSON")
            && msg.contains("help: "),
        "{msg}"
    );
}

#[test]
fn a_missing_directory_or_file_is_a_clear_error() {
    let e = import_dir(&fixture("does-not-exist"), &Prices::none()).expect_err("missing");
    assert!(
        e.to_string()
            .contains("give the directory that holds chains.json"),
        "{e}"
    );
    let empty = tempfile::tempdir().expect("tempdir");
    let e = import_dir(empty.path(), &Prices::none()).expect_err("empty");
    assert!(e.to_string().contains("chains.json: cannot read it"), "{e}");
}

#[test]
fn the_source_registry_imports_through_the_trait() {
    let s = source("ccip-directory").expect("registered");
    let i = s
        .import(&fixture("mapping"), &Prices::none())
        .expect("imports");
    assert_eq!(i.source, "ccip-directory");
    assert_eq!(i.spec.assets.len(), 9);
}
