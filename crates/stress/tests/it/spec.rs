//! The CONTAGION.md reference cases and the DeFi engine, through the public spec path: a TOML
//! spec under `tests/fixtures/stress/`, loaded and validated by `ringfence-model`, run by
//! [`System`] exactly as `ringfence stress` runs it.

use std::path::PathBuf;

use ringfence_model::Model;
use ringfence_stress::{ClearingParams, StressParams, System};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn load(name: &str) -> Model {
    let path = root().join("tests/fixtures/stress").join(name);
    match Model::load(&path) {
        Ok(m) => m,
        Err(d) => panic!("{name} does not validate:\n{d}"),
    }
}

fn params(alpha: f64, beta: f64) -> StressParams {
    StressParams {
        clearing: ClearingParams::rogers_veraart(alpha, beta).expect("in range"),
        ..StressParams::default()
    }
}

/// Clears the spec as given (no `--fail`) and returns payments and waves.
fn clear(name: &str, alpha: f64, beta: f64) -> (Vec<f64>, Vec<u32>) {
    let model = load(name);
    let sys = System::new(&model).expect("stress-ready");
    let o = sys.run(&[], &params(alpha, beta));
    assert_eq!(o.direct_loss_usd, 0.0);
    (
        o.protocols.iter().map(|p| p.clearing_payment_usd).collect(),
        o.protocols.iter().map(|p| p.wave).collect(),
    )
}

fn close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= tol, "got {got:?}, want {want:?}");
    }
}

#[test]
fn c1_through_the_spec() {
    let (p, w) = clear("c1a.toml", 1.0, 1.0);
    close(&p, &[1.4732142857, 1.4196428571, 1.5], 1e-9);
    assert_eq!(
        w.iter().map(|&x| x > 0).collect::<Vec<_>>(),
        [true, true, false]
    );
    let (p, w) = clear("c1a.toml", 0.5, 0.7);
    close(&p, &[0.50201996, 0.51470494, 0.56538061], 1e-8);
    assert!(w.iter().all(|&x| x > 0));
    close(
        &clear("c1b.toml", 1.0, 1.0).0,
        &[1.46716102, 1.33580508, 1.5],
        1e-8,
    );
    close(
        &clear("c1b.toml", 0.5, 0.7).0,
        &[0.50809905, 0.49311442, 0.57876436],
        1e-8,
    );
}

#[test]
fn c2_through_the_spec() {
    close(&clear("c2a.toml", 0.5, 0.5).0, &[2.0, 2.2], 1e-12);
    close(&clear("c2b.toml", 0.5, 0.5).0, &[2.2, 2.2], 1e-12);
}

#[test]
fn c3_through_the_spec() {
    let (p, w) = clear("c3.toml", 0.5, 0.5);
    let (a, b) = (4.0 / 15.0, 8.0 / 15.0);
    close(&p, &[a, b, a, b, a, b], 1e-12);
    assert_eq!(w, [2, 1, 2, 1, 2, 1]);
}

#[test]
fn c4_through_the_spec() {
    let (p, w) = clear("c4.toml", 1.0, 1.0);
    close(&p, &[13.0, 8.0, 13.0, 8.0, 12.0, 9.0], 1e-12);
    assert!(w.iter().all(|&x| x == 0));
    close(
        &clear("c4-shocked.toml", 1.0, 1.0).0,
        &[12.675897, 8.0, 5.86142, 7.870636, 3.75, 8.470636],
        1e-6,
    );
    close(
        &clear("c4-shocked.toml", 0.9, 0.9).0,
        &[10.417371, 8.0, 4.88907, 6.209523, 3.375, 6.12857],
        1e-6,
    );
}

#[test]
fn d1_through_the_spec() {
    let model = load("d1.toml");
    let sys = System::new(&model).expect("stress-ready");
    let rows = sys
        .debtrank_by_default(&StressParams::default())
        .expect("valid");
    let want = [
        ([1.0, 1.0, 1.0], 0.9285714286, None),
        ([0.5, 1.0, 1.0], 0.25, None),
        ([0.5, 1.0, 1.0], 0.75, Some(0.6642857143)),
    ];
    for ((_, h, add, single), (wh, wadd, wsingle)) in rows.iter().zip(want) {
        close(h, &wh, 1e-12);
        assert!((add - wadd).abs() < 1e-9, "{add} vs {wadd}");
        if let Some(s) = wsingle {
            assert!((single - s).abs() < 1e-9, "{single} vs {s}");
        }
    }
}

fn example() -> Model {
    match Model::load(&root().join("examples/ecosystem.toml")) {
        Ok(m) => m,
        Err(d) => panic!("the example does not validate:\n{d}"),
    }
}

#[test]
fn single_failures_match_the_dependency_closure() {
    // One answer: every component of the example, failing alone, takes the same share of every
    // asset in `stress` as in `exposure`, mint caps and rate limits included.
    let model = example();
    assert!(model.assets.iter().any(|a| a.mint_cap.is_some()));
    let sys = System::new(&model).expect("stress-ready");
    let closure = ringfence_exposure::Closure::compute(&model);
    for c in 0..model.components.len() as u32 {
        let shares = sys.loss_shares(&[c]);
        for (a, asset) in model.assets.iter().enumerate() {
            let want = closure.dep(a, c);
            assert!(
                (shares[a] - want).abs() < 1e-9,
                "{} / {}: {} vs {want}",
                asset.id,
                model.components[c as usize].id,
                shares[a]
            );
        }
    }
}

#[test]
fn a_further_failure_never_lowers_a_loss() {
    let model = example();
    let sys = System::new(&model).expect("stress-ready");
    let p = StressParams::default();
    let n = model.components.len() as u32;
    let mut checked = 0;
    for a in (0..n).step_by(3) {
        let one = sys.run(&[a], &p);
        for b in (0..n).step_by(7) {
            if a == b {
                continue;
            }
            let mut set = vec![a, b];
            set.sort_unstable();
            let two = sys.run(&set, &p);
            assert!(two.direct_loss_usd >= one.direct_loss_usd - 1e-6);
            assert!(two.bad_debt_usd >= one.bad_debt_usd - 1e-6, "{set:?}");
            // Withdrawals asked for never fall; those paid may (lower prices raise less in a
            // fire sale), so they are a flow, not a loss.
            assert!(
                two.outflows_usd + two.withdrawals_blocked_usd
                    >= (one.outflows_usd + one.withdrawals_blocked_usd) * (1.0 - 1e-12) - 1e-6,
                "{set:?}"
            );
            assert!(
                two.realized_loss_usd >= one.realized_loss_usd - 1e-6,
                "{set:?}: {} < {}",
                two.realized_loss_usd,
                one.realized_loss_usd
            );
            for (x, y) in one.protocols.iter().zip(&two.protocols) {
                assert!(y.loss_usd >= x.loss_usd - 1e-6, "{} with {set:?}", x.id);
            }
            checked += 1;
        }
    }
    assert!(checked > 10);
}

#[test]
fn monte_carlo_is_deterministic_whatever_the_threads() {
    let model = example();
    let sys = System::new(&model).expect("stress-ready");
    let p = StressParams::default();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| sys.monte_carlo(20_000, 42, &p, &|_| {}))
    };
    let (a, b) = (run(1), run(2));
    assert_eq!(a, b);
    assert_eq!(a.draws, 20_000);
    assert!(a.var99_usd <= a.es99_usd);
    assert_ne!(sys.monte_carlo(20_000, 43, &p, &|_| {}), a);
}

#[test]
fn ranking_and_reverse_on_the_example() {
    let model = example();
    let sys = System::new(&model).expect("stress-ready");
    let p = StressParams::default();
    let rank = sys.rank(&p);
    assert_eq!(rank.len(), model.components.len());
    assert!(
        rank.windows(2)
            .all(|w| w[0].total_damage_usd >= w[1].total_damage_usd)
    );
    let top = rank[0].total_damage_usd;
    let r = sys.reverse(top * 0.5, &p);
    assert_eq!(r.components.len(), 1);
    assert!(r.total_damage_usd > top * 0.5);
    let r = sys.reverse(top * 1.01, &p);
    assert!(r.components.len() >= 2 || r.components.is_empty());
}

#[test]
fn resolv_and_kelp_run_on_the_example() {
    let model = example();
    let sys = System::new(&model).expect("stress-ready");
    let p = StressParams::default();
    for id in ["resolv-service-role", "kelp-rseth-dvn"] {
        let failed = sys.resolve(&[id.to_owned()]).expect("known component");
        let o = sys.run(&failed, &p);
        assert!(o.direct_loss_usd > 1e6, "{id}: {o:?}");
        assert!(o.disrupted_value_usd > 1e7, "{id}: {o:?}");
        assert!(o.bad_debt_usd > 1e7, "{id}: {o:?}");
        assert!(o.realized_loss_usd >= o.direct_loss_usd, "{id}: {o:?}");
        assert!(o.converged);
        assert_eq!(o.rounds[0].round, 0);
    }
    assert!(sys.resolve(&["nope".to_owned()]).is_err());
}

/// The waterfall of the README's scenario (fail `resolv-service-role`) as laid out once (issue
/// 16): what the HTML report writes as SVG and what `POST /api/stress` gives the dashboard to
/// draw. One line per tick, bar and segment, so that a change of the chart shows as a readable
/// diff.
#[test]
fn waterfall_of_the_example_is_pinned() {
    use std::fmt::Write as _;
    let model = example();
    let system = System::new(&model).expect("stress-ready");
    let failed = system
        .resolve(&["resolv-service-role".to_owned()])
        .expect("known");
    let outcome = system.run(&failed, &StressParams::default());
    let w = ringfence_stress::report::waterfall(&outcome);
    let mut s = format!(
        "size {} x {}; axis to {:.0}; stacked {:.0}; total {:.0}\ncaption {:?}\n",
        w.width, w.height, w.max_usd, w.stacked_usd, w.total_usd, w.caption.text
    );
    for t in &w.ticks {
        let _ = writeln!(s, "tick {:?} at y {:.1}", t.label.text, t.line.y1);
    }
    for b in &w.bars {
        let _ = writeln!(
            s,
            "bar {:?} rounds {:?} base {:.0} x {:.1} width {:.1} adds {:?} connector {}",
            b.label,
            b.rounds.map(|r| (r.from, r.to)),
            b.base_usd,
            b.x,
            b.width,
            b.value.text,
            b.connector.is_some()
        );
        for seg in &b.segments {
            let _ = writeln!(
                s,
                "  {} {:.0} {} y {:.1} height {:.1} {:?}",
                seg.part, seg.value_usd, seg.colour, seg.y, seg.height, seg.title
            );
        }
    }
    insta::assert_snapshot!("example_waterfall", s);
}

/// The KelpDAO validation freezes the attacker's rsETH market on Aave Ethereum (from the
/// calibration file): nothing in it liquidates and its whole debt is Aave's bad debt. A market
/// the spec does not have is an error naming it.
#[test]
fn the_kelpdao_validation_freezes_the_attackers_market() {
    let model = example();
    let text = std::fs::read_to_string(root().join("examples/calibration.toml")).expect("read");
    let mut file = ringfence_stress::calibrate::CalibrationFile::from_toml(&text).expect("valid");
    let kelp = &file.validate[0];
    assert_eq!(kelp.frozen[0].market, "aave-ethereum/rsETH/WETH");
    let (cal, _) = ringfence_stress::calibrate::calibrate(&model, &file, &StressParams::default())
        .expect("calibrates");
    let bad = cal.incidents[1]
        .targets
        .iter()
        .find(|t| t.target.metric == "bad_debt_usd")
        .map(|t| t.model)
        .unwrap_or(0.0);
    // 75,700 WETH of the attacker's debt, frozen, plus Aave Arbitrum's fixed-oracle market.
    let weth = model.assets[model.asset("WETH").expect("WETH")].price_usd;
    assert!(bad >= 75_700.0 * weth - 1.0, "{bad}");
    let mut sys = System::new(&model).expect("stress-ready");
    assert!(sys.freeze_markets(&["aave-ethereum/nope"]).is_err());
    assert!(sys.freeze_markets(&["nope/rsETH/WETH"]).is_err());
    file.validate[0].frozen[0].market = "aave-ethereum/nope".into();
    let e = ringfence_stress::calibrate::calibrate(&model, &file, &StressParams::default());
    assert!(e.is_err_and(|e| e.to_string().contains("aave-ethereum/nope")));
}
