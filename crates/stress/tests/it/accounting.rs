//! Losses apart from flows: every realized dollar is counted once, and the bounds hold.

use ringfence_model::Model;
use ringfence_stress::{StressParams, System};

fn model(toml: &str) -> Model {
    match Model::from_str("accounting.toml", toml) {
        Ok(m) => m,
        Err(d) => panic!("the test spec does not validate:\n{d}"),
    }
}

const BASE: &str = r#"
[[chain]]
id = "ethereum"
chain_id = 1

[[key]]
id = "minter"
kind = "eoa"
hosting = "aws"

[[asset]]
id = "USDC"
chain = "ethereum"
kind = "stablecoin"
price_usd = 1
supply = 1000000000

[[asset]]
id = "X"
chain = "ethereum"
kind = "stablecoin"
price_usd = 1
supply = 100000000
mint_authority = "minter"
depth_usd = 2000000
"#;

/// An unbounded mint of X: X's holders lose its whole value, 100M. Borrowers posted 50M of X
/// against 40M of debt behind a fixed oracle: lenders carry 40M of bad debt, borrowers lose their
/// 10M of equity, free holders 50M. The attacker's proceeds came from the buyers of the minted
/// units. Each of those dollars appears once: realized = direct + 100M, of which bad debt 40M.
#[test]
fn a_mint_counts_each_holder_dollar_once() {
    let spec = format!(
        r#"{BASE}
[[protocol]]
id = "lender"
kind = "lending"
chain = "ethereum"
holdings = [{{ asset = "X", amount = 50000000 }}, {{ asset = "USDC", amount = 10000000 }}]
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
"#
    );
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
