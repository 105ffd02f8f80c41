//! Losses apart from flows: every realized dollar is counted once, and the bounds hold.

use ringfence_model::Model;
use ringfence_stress::{StressParams, System};

fn model(toml: &str) -> Model {
    match Model::from_str("accounting.toml", toml) {
        Ok(m) => m,
        Err(d) => panic!("the test spec does not validate:\n{d}"),
    }
}

/// A chain, a single mint key and USDC.
const HEADER: &str = include_str!("minter.toml");

/// X, 100M units at $1 minted by `minter`, in a $2M-deep market.
const BASE: &str = concat!(
    include_str!("minter.toml"),
    r#"
[[asset]]
id = "X"
chain = "ethereum"
kind = "stablecoin"
price_usd = 1
supply = 100000000
mint_authority = "minter"
depth_usd = 2000000
"#
);

/// A lender holding 50M X posted by borrowers against 40M USDC of debt behind a fixed oracle,
/// and 10M USDC of its own; 50M of deposits.
const LENDER: &str = r#"
[[protocol]]
id = "lender"
kind = "lending"
chain = "ethereum"
holdings = [{ asset = "X", amount = 50000000 }, { asset = "USDC", amount = 10000000 }]
deposits_usd = 50000000
outflow_sensitivity = 1.0

[[protocol.market]]
id = "X/USDC"
collateral = "X"
collateral_amount = 50000000
debt_asset = "USDC"
debt_amount = 40000000
liquidation_threshold = 0.9
liquidation_bonus = 1.05
oracle = "fixed"
"#;

/// An unbounded mint of X: X's holders lose its whole value, 100M. Borrowers posted 50M of X
/// against 40M of debt behind a fixed oracle: lenders carry 40M of bad debt, borrowers lose their
/// 10M of equity, free holders 50M. The attacker's proceeds came from the buyers of the minted
/// units. Each of those dollars appears once: realized = direct + 100M, of which bad debt 40M.
#[test]
fn a_mint_counts_each_holder_dollar_once() {
    let spec = format!("{BASE}{LENDER}");
    let m = model(&spec);
    let sys = System::new(&m).expect("stress-ready");
    let failed = sys.resolve(&["minter".to_owned()]).expect("known");
    let o = sys.run(&failed, &StressParams::default());
    let r = o.realized;
    assert!(o.direct_loss_usd > 0.0);
    assert!((r.bad_debt_usd - 40e6).abs() < 1.0, "{r:?}");
    assert!((r.depeg_usd - 60e6).abs() < 1.0, "{r:?}");
    assert!(
        (o.realized_loss_usd - (o.direct_loss_usd + 100e6)).abs() < 1.0,
        "{o:?}"
    );
    assert!((r.total() - (o.realized_loss_usd - o.direct_loss_usd)).abs() < 1e-6);
    // Flows are apart: nothing was liquidated (fixed oracle); withdrawals moved but cost
    // nothing (paid from the liquid part, deposits less debt = 10M).
    assert_eq!(o.liquidations_usd, 0.0);
    assert!((o.outflows_usd - 10e6).abs() < 1.0, "{}", o.outflows_usd);
    assert!((o.disrupted_value_usd - o.outflows_usd).abs() < 1e-6);
    assert_eq!(r.fire_sale_usd, 0.0);
}

/// A mint within a cap moves value from X's holders to the buyers of the minted units, at
/// fundamental value: nothing beyond the direct loss is destroyed.
#[test]
fn a_capped_mint_is_a_transfer() {
    let spec = BASE.replace(
        "depth_usd = 2000000",
        "depth_usd = 2000000\nmint_cap = { amount = 10000000, window_s = 3600 }",
    );
    let m = model(&spec);
    let sys = System::new(&m).expect("stress-ready");
    let failed = sys.resolve(&["minter".to_owned()]).expect("known");
    let o = sys.run(&failed, &StressParams::default());
    assert!(o.direct_loss_usd > 0.0);
    assert!(o.realized.depeg_usd.abs() < 1.0, "{:?}", o.realized);
    assert!((o.realized_loss_usd - o.direct_loss_usd).abs() < 1.0);
}

/// A drained collateral: the attacker takes what its holders lose, and the lenders' bad debt on
/// it is a share of that same loss, so it is not added again.
#[test]
fn bad_debt_on_a_drained_collateral_is_inside_the_direct_loss() {
    let spec = r#"
[[chain]]
id = "ethereum"
chain_id = 1

[[chain]]
id = "l2"
chain_id = 10

[[operator]]
id = "dvn"
org = "dvn-org"
hosting = "aws"

[[verifier_set]]
id = "one-of-one"
threshold = 1
members = ["dvn"]

[[layer]]
id = "bridge"
verifier_set = "one-of-one"

[[asset]]
id = "ETH"
chain = "ethereum"
kind = "native"
price_usd = 2000
supply = 1000000

[[asset]]
id = "W"
chain = "l2"
kind = "wrapped"
price_usd = 2000
supply = 10000
backing = [{ asset = "ETH", share = 1.0 }]
route = { layer = "bridge", source = "ethereum" }

[[protocol]]
id = "lender"
kind = "lending"
chain = "l2"
holdings = [{ asset = "W", amount = 5000 }]

[[protocol.market]]
id = "W/ETH"
collateral = "W"
collateral_amount = 5000
debt_asset = "ETH"
debt_amount = 4000
liquidation_threshold = 0.93
liquidation_bonus = 1.01
oracle = "fixed"
"#;
    let m = model(spec);
    let sys = System::new(&m).expect("stress-ready");
    let failed = sys.resolve(&["one-of-one".to_owned()]).expect("known");
    let o = sys.run(&failed, &StressParams::default());
    assert!((o.direct_loss_usd - 20e6).abs() < 1.0, "{o:?}");
    assert!((o.bad_debt_usd - 8e6).abs() < 1.0, "{o:?}");
    assert!((o.realized_loss_usd - 20e6).abs() < 1.0, "{:?}", o.realized);
}

fn example() -> Model {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ecosystem.toml");
    match Model::load(&path) {
        Ok(m) => m,
        Err(d) => panic!("the example does not validate:\n{d}"),
    }
}

/// Every single failure of the example: the lines add up, no protocol loses more than it holds,
/// no withdrawal exceeds deposits, and the realized loss is no larger than the value of what the
/// failure touches: the assets compromised, the market liquidity that bought the attacker's
/// minted units (the direct loss of a mint), and the assets of the protocols hit.
#[test]
fn every_single_failure_of_the_example_is_bounded() {
    let m = example();
    let sys = System::new(&m).expect("stress-ready");
    let p = StressParams::default();
    for c in 0..m.components.len() as u32 {
        let o = sys.run(&[c], &p);
        let id = &m.components[c as usize].id;
        let r = o.realized;
        for line in [
            r.depeg_usd,
            r.bad_debt_usd,
            r.liquidation_penalties_usd,
            r.fire_sale_usd,
            r.clearing_costs_usd,
        ] {
            assert!(line >= 0.0 && line.is_finite(), "{id}: {r:?}");
        }
        assert!(
            (o.realized_loss_usd - o.direct_loss_usd - r.total()).abs()
                <= 1e-6 * o.realized_loss_usd.max(1.0),
            "{id}"
        );
        let mut touched = o.direct_loss_usd;
        for (a, x) in o.assets.iter().enumerate() {
            if x.loss_share > 0.0 {
                touched += m.assets[a].value_usd;
            }
        }
        for (proto, x) in m.protocols.iter().zip(&o.protocols) {
            assert!(
                x.loss_usd <= x.assets_usd + 1e-6,
                "{id}: {} loses {} of {}",
                x.id,
                x.loss_usd,
                x.assets_usd
            );
            assert!(
                x.outflows_usd <= proto.deposits_usd + 1e-6,
                "{id}: {}",
                x.id
            );
            if x.loss_usd > 0.0 || x.outflows_usd > 0.0 {
                touched += x.assets_usd;
            }
        }
        assert!(
            o.realized_loss_usd <= touched + 1e-6,
            "{id}: {} > {touched}",
            o.realized_loss_usd
        );
        assert!(o.disrupted_value_usd >= 0.0);
    }
}

/// Ranges and positions are validated where they are written: an unknown entity or field, a
/// range that does not hold the value, health factors below 1, shares that do not sum to 1.
#[test]
fn bad_ranges_and_positions_are_located_errors() {
    let base = format!(
        r#"{BASE}
[[protocol]]
id = "lender"
kind = "lending"
chain = "ethereum"
deposits_usd = 100

[[protocol.market]]
id = "X/USDC"
collateral = "X"
collateral_amount = 50
debt_asset = "USDC"
debt_amount = 40
liquidation_threshold = 0.9
liquidation_bonus = 1.05
"#
    );
    let cases = [
        (
            "[[range]]\nentity = \"nope\"\nfield = \"supply\"\nlow = 1\nhigh = 2\n",
            "unknown entity `nope`",
        ),
        (
            "[[range]]\nentity = \"X\"\nfield = \"deposits_usd\"\nlow = 1\nhigh = 2\n",
            "cannot carry a range",
        ),
        (
            "[[range]]\nentity = \"X\"\nfield = \"supply\"\nlow = 1\nhigh = 2\n",
            "does not hold `supply`",
        ),
        (
            "[[range]]\nentity = \"lender/none\"\nfield = \"debt_amount\"\nlow = 1\nhigh = 50\n",
            "has no market `none`",
        ),
        (
            "[[range]]\nentity = \"lender\"\nfield = \"liquid_share\"\nlow = 0\nhigh = 1\n",
            "`liquid_share` is not set",
        ),
    ];
    for (extra, want) in cases {
        let text = format!("{base}\n{extra}");
        let err = match Model::from_str("bad.toml", &text) {
            Ok(_) => panic!("accepted: {extra}"),
            Err(d) => d.to_string(),
        };
        assert!(err.contains(want), "{extra}: {err}");
        assert!(err.contains("bad.toml:"), "not located: {err}");
    }
    let ok = format!(
        "{base}\n[[range]]\nentity = \"lender/X/USDC\"\nfield = \"debt_amount\"\nlow = 30\nhigh = 45\n"
    );
    let m = model(&ok);
    assert_eq!(m.ranges.len(), 1);
    for (positions, want) in [
        (
            "positions = [{ health_factor = 0.9, share = 1.0 }]",
            "health_factor",
        ),
        (
            "positions = [{ health_factor = 1.1, share = 0.5 }]",
            "sum to 0.5",
        ),
    ] {
        let text = base.replace(
            "liquidation_bonus = 1.05",
            &format!("liquidation_bonus = 1.05\n{positions}"),
        );
        let err = match Model::from_str("bad.toml", &text) {
            Ok(_) => panic!("accepted: {positions}"),
            Err(d) => d.to_string(),
        };
        assert!(err.contains(want), "{positions}: {err}");
    }
}

/// Position buckets: a 15 % depeg liquidates only the tail of a market whose aggregate is
/// healthy, a 100 % depeg turns the rest into bad debt.
#[test]
fn buckets_liquidate_the_tail_then_the_rest_becomes_bad_debt() {
    let spec = |price: &str| {
        format!(
            r#"{HEADER}
[[asset]]
id = "Y"
chain = "ethereum"
kind = "stablecoin"
price_usd = 1
supply = 100000000
mint_authority = "minter"
mint_cap = {{ amount = {price}, window_s = 3600 }}
depth_usd = 1000000000000

[[protocol]]
id = "lender"
kind = "lending"
chain = "ethereum"
liquidation = "morpho"
holdings = [{{ asset = "Y", amount = 10000000 }}]

[[protocol.market]]
id = "Y/USDC"
collateral = "Y"
collateral_amount = 10000000
debt_asset = "USDC"
debt_amount = 7000000
liquidation_threshold = 0.86
liquidation_bonus = 1.0438413
positions = [{{ health_factor = 1.05, share = 0.2 }}, {{ health_factor = 1.2, share = 0.3 }}, {{ health_factor = 1.4, share = 0.5 }}]
"#
        )
    };
    // A cap of c units dilutes Y by c / (supply + c): 17.65M units → 15 %.
    let run = |cap: &str| {
        let m = model(&spec(cap));
        let sys = System::new(&m).expect("stress-ready");
        let failed = sys.resolve(&["minter".to_owned()]).expect("known");
        sys.run(&failed, &StressParams::default())
    };
    let partial = run("17647059");
    assert!(partial.liquidations_usd > 0.0, "{partial:?}");
    // Only the tail: the two riskiest buckets (half the debt) are closed in full under Morpho's
    // rules, the safest half is untouched; the riskiest bucket's collateral falls just short of
    // the incentive, a sliver of bad debt.
    assert!(
        (partial.liquidations_usd - 7e6 * 0.5).abs() < 0.02 * 7e6,
        "{}",
        partial.liquidations_usd
    );
    assert!(
        partial.bad_debt_usd < 0.01 * 7e6,
        "{}",
        partial.bad_debt_usd
    );
    assert!(partial.realized.liquidation_penalties_usd > 0.0);
    // An unbounded mint takes Y to zero: what was not liquidated is bad debt.
    let text = spec("1").replace("mint_cap = { amount = 1, window_s = 3600 }\n", "");
    let m = model(&text);
    let sys = System::new(&m).expect("stress-ready");
    let failed = sys.resolve(&["minter".to_owned()]).expect("known");
    let total = sys.run(&failed, &StressParams::default());
    assert!((total.bad_debt_usd - 7e6).abs() < 1.0, "{total:?}");
}

/// A market whose collateral the issuer froze (KelpDAO: rsETH paused, the attacker blacklisted):
/// nothing liquidates, the whole debt is bad debt and the lender loses it, but that bad debt is
/// the attacker's take landing on the lender, so the realized loss does not count it again.
#[test]
fn frozen_collateral_cannot_be_liquidated_and_its_debt_is_bad_debt() {
    // The lender's market, with a market oracle so that it liquidates when nothing is frozen.
    let spec = format!("{BASE}{LENDER}")
        .replace("oracle = \"fixed\"\n", "")
        .replace(
            "depth_usd = 2000000",
            "depth_usd = 2000000\nmint_cap = { amount = 20000000, window_s = 3600 }",
        );
    let m = model(&spec);
    let mut sys = System::new(&m).expect("stress-ready");
    let failed = sys.resolve(&["minter".to_owned()]).expect("known");
    let p = StressParams::default();
    let open = sys.run(&failed, &p);
    assert!(open.liquidations_usd > 0.0, "{open:?}");
    assert!(sys.freeze_markets(&["lender/nope"]).is_err());
    sys.freeze_markets(&["lender/X/USDC"])
        .expect("known market");
    let frozen = sys.run(&failed, &p);
    assert_eq!(frozen.liquidations_usd, 0.0);
    assert!((frozen.bad_debt_usd - 40e6).abs() < 1.0, "{frozen:?}");
    assert!(frozen.protocols[0].loss_usd >= 40e6 - 1.0);
    assert!((frozen.direct_loss_usd - open.direct_loss_usd).abs() < 1e-6);
    // X's holders lose 20M / 120M of 100M ≈ 16.7M in all; the 40M is not added to it.
    assert!(frozen.realized.total() < 17e6, "{:?}", frozen.realized);
}
