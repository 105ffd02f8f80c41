//! The L2BEAT and Hyperlane importers on hand-made inputs in tests/fixtures/l2beat and
//! tests/fixtures/hyperlane: each mapping rule, the located errors, and the join of the two.

use std::path::{Path, PathBuf};

use ringfence_import::merge::{Input, merge};
use ringfence_import::{Prices, hyperlane, l2beat};
use ringfence_model::Model;
use ringfence_model::spec::{KeyKind, Spec};

use super::repo;

fn fixture(path: &str) -> PathBuf {
    repo().join("tests/fixtures").join(path)
}

fn prices() -> Prices {
    Prices::load(&fixture("l2beat/mapping/prices.toml")).unwrap_or_else(|e| panic!("{e}"))
}

fn l2() -> (ringfence_import::Import, l2beat::Figures) {
    l2beat::import_dir(&fixture("l2beat/mapping"), &prices()).unwrap_or_else(|e| panic!("{e}"))
}

fn source_of<'a>(spec: &'a Spec, id: &str) -> &'a str {
    spec.keys
        .iter()
        .map(|k| (&k.id, &k.source))
        .chain(spec.verifier_sets.iter().map(|k| (&k.id, &k.source)))
        .chain(spec.layers.iter().map(|k| (&k.id, &k.source)))
        .chain(spec.assets.iter().map(|k| (&k.id, &k.source)))
        .find(|(i, _)| i.get_ref() == id)
        .and_then(|(_, s)| s.as_deref())
        .unwrap_or_else(|| panic!("no {id}"))
}

const SAFE: &str = "bridge-multisig@ethereum:0x1000000000000000000000000000000000000001";

#[test]
fn safes_become_multisig_keys_with_their_signers_and_the_newest_discovery_wins() {
    let (i, f) = l2();
    let k = i
        .spec
        .keys
        .iter()
        .find(|k| k.id.get_ref() == SAFE)
        .expect("the Safe, named by the newer file");
    assert_eq!(
        (k.kind, k.threshold, k.signers.len()),
        (KeyKind::Multisig, Some(2), 3)
    );
    assert_eq!(
        k.signers[0].get_ref(),
        "signer@ethereum:0xa000000000000000000000000000000000000001"
    );
    // Every upgrade path it holds is delayed a day: the timelock.
    assert_eq!(k.timelock_s, Some(86_400));
    let src = source_of(&i.spec, SAFE);
    assert!(src.starts_with("L2BEAT l2beat/bridge/discovered.json $.entries[0].values[\"$members\"] (Bridge Multisig, eth:0x1000000000000000000000000000000000000001, discovery 2026-08-10): 2 of 3"), "{src}");
    assert!(
        i.notes
            .iter()
            .any(|n| n.contains("another project's file also reaches")),
        "{:?}",
        i.notes
    );
    assert!(
        i.notes.iter().any(|n| n.contains("$.entries[8]")
            && n.contains("\"Reference\"")
            && n.contains("skipped")),
        "{:?}",
        i.notes
    );
    assert_eq!(
        (f.projects, f.entries, f.addresses, f.multisigs),
        (2, 10, 9, 1)
    );
}

#[test]
fn eoas_with_upgrade_permissions_are_eoa_keys() {
    let (i, f) = l2();
    let k = i
        .spec
        .keys
        .iter()
        .find(|k| k.id.get_ref() == "eoa@ethereum:0x6000000000000000000000000000000000000006")
        .expect("the upgrading EOA");
    assert_eq!((k.kind, k.timelock_s), (KeyKind::Eoa, None));
    assert!(source_of(&i.spec, k.id.get_ref()).contains("can upgrade 1 contract(s)"));
    // A signer EOA that holds no permission is an operator, not a key.
    assert!(i.spec.keys.iter().all(|k| {
        !k.id
            .get_ref()
            .ends_with("0xa000000000000000000000000000000000000001")
    }));
    assert_eq!((f.eoa_keys, f.eoa_upgraders), (1, 1));
}

#[test]
fn the_layer_takes_the_validator_set_and_its_admin_through_the_proxy_admin() {
    let (i, _) = l2();
    let layer = i
        .spec
        .layers
        .iter()
        .find(|l| l.id.get_ref() == "bridge")
        .expect("layer");
    assert_eq!(
        layer.verifier_set.get_ref(),
        "validatorset@ethereum:0x3000000000000000000000000000000000000003"
    );
    assert_eq!(
        layer.admin.as_ref().map(|a| a.get_ref().as_str()),
        Some(SAFE)
    );
    let vs = i
        .spec
        .verifier_sets
        .iter()
        .find(|v| v.id == layer.verifier_set)
        .expect("set");
    assert_eq!((vs.threshold, vs.members.len()), (3, 4));
    assert!(source_of(&i.spec, "bridge").contains("it can upgrade the verifier-set contract"));
    // The older project shows no verifier set: no layer, and a note says so.
    assert!(i.spec.layers.iter().all(|l| l.id.get_ref() != "older"));
    assert!(
        i.notes
            .iter()
            .any(|n| n.contains("l2beat/older/discovered.json: no verifier set")),
        "{:?}",
        i.notes
    );
}

#[test]
fn escrows_are_assets_on_the_layer_with_supply_from_the_pool_balance() {
    let (i, f) = l2();
    let usdc = i
        .spec
        .assets
        .iter()
        .find(|a| a.id.get_ref() == "USDC@ethereum:0x4000000000000000000000000000000000000004")
        .expect("escrow");
    assert_eq!(
        usdc.route.as_ref().map(|r| r.layer.get_ref().as_str()),
        Some("bridge")
    );
    // Its upgrade key is the layer's admin: no separate dependency.
    assert!(usdc.mint_authority.is_none());
    assert_eq!(
        (*usdc.price_usd.get_ref(), *usdc.supply.get_ref()),
        (1.0, 0.0)
    );
    assert!(
        usdc.source
            .as_deref()
            .unwrap_or_default()
            .contains("supply not known: the 0 here is a placeholder")
    );
    let pool = i
        .spec
        .assets
        .iter()
        .find(|a| a.id.get_ref() == "USDC@arbitrum:0x5000000000000000000000000000000000000005")
        .expect("pool");
    assert_eq!(*pool.supply.get_ref(), 2500.0);
    assert!(
        pool.source
            .as_deref()
            .unwrap_or_default()
            .contains("poolBalance 2.5e9 / 10^6"),
        "{:?}",
        pool.source
    );
    assert_eq!((f.assets, f.assets_with_supply), (2, 1));
    assert_eq!(
        i.spec
            .chains
            .iter()
            .map(|c| (c.id.get_ref().as_str(), c.chain_id))
            .collect::<Vec<_>>(),
        [("arbitrum", Some(42161)), ("ethereum", Some(1))]
    );
    Model::from_spec("l2beat", i.spec).expect("valid");
}

#[test]
fn bad_l2beat_input_is_a_located_error() {
    for (dir, want) in [
        ("l2beat/malformed", "x/discovered.json:4:"),
        (
            "l2beat/unknown-prefix",
            "at $.entries[0].values.owner: unknown chain prefix `moon`",
        ),
        ("l2beat/does-not-exist", "cannot read it"),
        ("hyperlane/mapping", "no <project>/discovered.json under it"),
    ] {
        let e = l2beat::import_dir(&fixture(dir), &Prices::none())
            .expect_err(dir)
            .to_string();
        assert!(e.contains(want) && e.contains("help: "), "{dir}: {e}");
    }
}

#[test]
fn hyperlane_routes_and_l2beat_escrows_join_by_address() {
    let (hl, f) = hyperlane::import_dir(&fixture("hyperlane/mapping"), &prices())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        (f.routes, f.collateral, f.synthetic, f.backed, f.not_evm),
        (1, 1, 1, 1, 1)
    );
    let (l2, _) = l2();
    let inputs: Vec<Input> = [("l2beat.toml", &l2), ("hyperlane.toml", &hl)]
        .into_iter()
        .map(|(n, i)| {
            Input::from_text(Path::new(n), i.to_toml().expect("toml"))
                .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let m = merge(&inputs).unwrap_or_else(|e| panic!("{e}"));
    // The escrow both describe is one asset; the synthetic on Base is backed by it.
    let escrow = "USDC@ethereum:0x4000000000000000000000000000000000000004";
    assert_eq!(
        m.spec
            .assets
            .iter()
            .filter(|a| a.id.get_ref() == escrow)
            .count(),
        1
    );
    let syn = m
        .spec
        .assets
        .iter()
        .find(|a| a.chain.get_ref() == "base")
        .expect("synthetic");
    assert_eq!(syn.backing[0].asset.get_ref(), escrow);
    // Layers `bridge` and `hyperlane` differ: no join, no conflict on them.
    assert!(m.conflicts.iter().all(|c| c.id != "bridge"));
    // The escrow's route: L2BEAT's `bridge` against the registry's `hyperlane` — a located conflict.
    let c = m
        .conflicts
        .iter()
        .find(|c| c.id == escrow && c.field == "route")
        .expect("route conflict");
    assert!(
        c.kept.1.starts_with("l2beat.toml:") && c.other.1.starts_with("hyperlane.toml:"),
        "{c:?}"
    );
    Model::from_spec("merged", m.spec).expect("valid");
}

#[test]
fn bad_hyperlane_input_is_a_located_error() {
    let e = hyperlane::import_dir(&fixture("hyperlane/bad-address"), &Prices::none())
        .expect_err("bad")
        .to_string();
    assert!(e.contains("a-config.json: at $.tokens[0].addressOrDenom: `addressOrDenom` \"0x4000\" is not an EVM address") && e.contains("help: "), "{e}");
    let e = hyperlane::import_dir(&fixture("l2beat/mapping"), &Prices::none())
        .expect_err("no routes")
        .to_string();
    assert!(e.contains("warp_routes") && e.contains("help: "), "{e}");
}
