//! Properties of the clearing and DebtRank engines on random networks.
#![allow(clippy::needless_range_loop)]

use proptest::prelude::*;
use ringfence_stress::{
    ClaimNetwork, ClaimNetworkBuilder, Clearing, ClearingParams, DebtRankMethod, ImpactNetwork,
    Seniority,
};

/// A small random network: claims, external assets, external liabilities and seniority.
#[derive(Debug, Clone)]
struct Net {
    n: usize,
    claims: Vec<(usize, usize, f64)>,
    e: Vec<f64>,
    ext: Vec<f64>,
    senior: Vec<bool>,
}

impl Net {
    fn build(&self, e: &[f64]) -> ClaimNetwork {
        let mut b = ClaimNetworkBuilder::new(self.n);
        for &(i, j, a) in &self.claims {
            if i != j {
                b.claim(i, j, a).expect("valid claim");
            }
        }
        for i in 0..self.n {
            b.external_assets(i, e[i]).expect("valid");
            let s = if self.senior[i] {
                Seniority::Senior
            } else {
                Seniority::PariPassu
            };
            b.external_liabilities(i, self.ext[i], s).expect("valid");
        }
        b.build().expect("valid network")
    }
}

fn net_strategy() -> impl Strategy<Value = Net> {
    (2usize..9).prop_flat_map(|n| {
        (
            prop::collection::vec((0..n, 0..n, 0.0f64..10.0), 0..(n * 3)),
            prop::collection::vec(0.0f64..8.0, n),
            prop::collection::vec(prop_oneof![Just(0.0), 0.0f64..5.0], n),
            prop::collection::vec(any::<bool>(), n),
        )
            .prop_map(move |(claims, e, ext, senior)| Net {
                n,
                claims,
                e,
                ext,
                senior,
            })
    })
}

fn params_strategy() -> impl Strategy<Value = ClearingParams> {
    prop_oneof![
        Just(ClearingParams::eisenberg_noe()),
        (0.0f64..=1.0, 0.0f64..=1.0)
            .prop_map(|(a, b)| ClearingParams::rogers_veraart(a, b).expect("in range")),
    ]
}

/// Reference: Picard iteration of the full clearing map down from `pbar`, dense, for small nets.
fn picard(net: &ClaimNetwork, e: &[f64], alpha: f64, beta: f64) -> Vec<f64> {
    let n = net.len();
    let pbar: Vec<f64> = (0..n).map(|i| net.total_liabilities(i)).collect();
    let payout = |i: usize, p: f64| -> f64 {
        let ln = net.network_liabilities()[i];
        let ext = net.external_liabilities()[i];
        match net.seniority()[i] {
            Seniority::PariPassu => {
                if pbar[i] > 0.0 {
                    p * ln / pbar[i]
                } else {
                    0.0
                }
            }
            Seniority::Senior => (p - ext).clamp(0.0, ln),
        }
    };
    let mut p = pbar.clone();
    for _ in 0..200_000 {
        let mut recv = vec![0.0; n];
        for i in 0..n {
            let ln = net.network_liabilities()[i];
            if ln > 0.0 {
                let q = payout(i, p[i]);
                for (j, a) in net.claims_of(i) {
                    recv[j] += a / ln * q;
                }
            }
        }
        let mut moved = 0.0f64;
        for i in 0..n {
            let v = if e[i] + recv[i] >= pbar[i] {
                pbar[i]
            } else {
                (alpha * e[i] + beta * recv[i]).min(pbar[i])
            };
            moved = moved.max((v - p[i]).abs());
            p[i] = v;
        }
        if moved < 1e-14 {
            break;
        }
    }
    p
}

fn creditor_losses(net: &ClaimNetwork, c: &Clearing) -> Vec<f64> {
    (0..net.len())
        .map(|i| net.network_receivable(i) - c.received[i])
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn payments_never_exceed_liabilities(net in net_strategy(), params in params_strategy()) {
        let g = net.build(&net.e);
        let c = g.clear(&params);
        for i in 0..g.len() {
            prop_assert!(c.payments[i] >= 0.0);
            prop_assert!(c.payments[i] <= g.total_liabilities(i) + 1e-12);
            prop_assert!(c.equity[i] >= 0.0);
            prop_assert_eq!(c.defaulted(i), c.payments[i] < g.total_liabilities(i));
        }
    }

    #[test]
    fn fictitious_default_finds_the_greatest_fixed_point(
        net in net_strategy(), params in params_strategy()
    ) {
        let g = net.build(&net.e);
        let c = g.clear(&params);
        let want = picard(&g, &net.e, params.alpha, params.beta);
        for i in 0..g.len() {
            prop_assert!((c.payments[i] - want[i]).abs() < 1e-7,
                "node {}: {} vs {}", i, c.payments[i], want[i]);
        }
    }

    #[test]
    fn rv_one_one_equals_en(net in net_strategy()) {
        let g = net.build(&net.e);
        let en = g.clear(&ClearingParams::eisenberg_noe());
        let rv = g.clear(&ClearingParams::rogers_veraart(1.0, 1.0).expect("in range"));
        prop_assert_eq!(en.payments, rv.payments);
        prop_assert_eq!(en.wave, rv.wave);
    }

    #[test]
    fn lowering_external_assets_never_raises_a_payment_nor_lowers_a_loss(
        net in net_strategy(),
        params in params_strategy(),
        cut in prop::collection::vec(0.0f64..=1.0, 8),
    ) {
        let g = net.build(&net.e);
        let base = g.clear(&params);
        let lowered: Vec<f64> = net.e.iter().zip(&cut).map(|(x, c)| x * c).collect();
        let mut shocked = Clearing::default();
        g.clear_into(&lowered, &params, &mut shocked).expect("right length");
        let (l0, l1) = (creditor_losses(&g, &base), creditor_losses(&g, &shocked));
        for i in 0..g.len() {
            prop_assert!(shocked.payments[i] <= base.payments[i] + 1e-9);
            prop_assert!(l1[i] >= l0[i] - 1e-9);
            prop_assert!(shocked.equity[i] <= base.equity[i] + 1e-9);
            // A node that defaulted still defaults.
            prop_assert!(!base.defaulted(i) || shocked.defaulted(i));
        }
    }

    #[test]
    fn debtrank_further_distress_never_lowers_stress(
        net in net_strategy(),
        buffers in prop::collection::vec(0.1f64..5.0, 8),
        h0 in prop::collection::vec(0.0f64..=1.0, 8),
        extra in prop::collection::vec(0.0f64..=1.0, 8),
    ) {
        let g = net.build(&net.e);
        let n = g.len();
        let v = ImpactNetwork::from_claims(&g, &buffers[..n], &vec![1.0; n]).expect("valid");
        let more: Vec<f64> = (0..n).map(|i| h0[i].max(extra[i])).collect();
        for method in [DebtRankMethod::Differential, DebtRankMethod::SingleHit] {
            let a = v.debtrank(&h0[..n], method).expect("valid");
            let b = v.debtrank(&more, method).expect("valid");
            for i in 0..n {
                prop_assert!((0.0..=1.0).contains(&a.h[i]));
                prop_assert!(a.h[i] >= h0[i]);
                if method == DebtRankMethod::Differential {
                    prop_assert!(b.h[i] >= a.h[i] - 1e-12);
                }
            }
            prop_assert!(b.total_stress >= a.total_stress - 1e-12 || method == DebtRankMethod::SingleHit);
        }
        // Differential DebtRank never reports less than the single-hit form.
        let d = v.debtrank(&h0[..n], DebtRankMethod::Differential).expect("valid");
        let s = v.debtrank(&h0[..n], DebtRankMethod::SingleHit).expect("valid");
        prop_assert!(d.total_stress >= s.total_stress - 1e-12);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The same properties on the synthetic generator's networks (`synth::random_network`, the
    /// benchmark's and the SciPy peer's shape), up to 3,000 nodes with cascades: payments never
    /// exceed liabilities, and a further shock never raises a payment nor lowers a creditor's
    /// loss, under Eisenberg–Noe and Rogers–Veraart.
    #[test]
    fn synthetic_networks_keep_payments_bounded_and_monotone(
        n in 10usize..3_000,
        degree in 1usize..8,
        share in 0.0f64..0.5,
        seed in any::<u64>(),
        params in params_strategy(),
        more in 0.0f64..0.5,
    ) {
        let s = ringfence_stress::synth::random_network(n, degree, share, seed);
        let g = &s.network;
        let mut one = Clearing::default();
        g.clear_into(&s.shocked_assets, &params, &mut one).expect("right length");
        // A further shock: another `more` of the nodes keep a fifth of their assets.
        let further: Vec<f64> = s
            .shocked_assets
            .iter()
            .enumerate()
            .map(|(i, &x)| if (i as f64 * 0.618_034).fract() < more { 0.2 * x } else { x })
            .collect();
        let mut two = Clearing::default();
        g.clear_into(&further, &params, &mut two).expect("right length");
        let (l1, l2) = (creditor_losses(g, &one), creditor_losses(g, &two));
        for i in 0..g.len() {
            for c in [&one, &two] {
                prop_assert!(c.payments[i] >= 0.0);
                prop_assert!(c.payments[i] <= g.total_liabilities(i) * (1.0 + 1e-12));
            }
            prop_assert!(two.payments[i] <= one.payments[i] + 1e-9);
            prop_assert!(l2[i] >= l1[i] - 1e-9);
            prop_assert!(!one.defaulted(i) || two.defaulted(i));
        }
    }
}

#[test]
fn synthetic_networks_clear_with_cascades() {
    let s = ringfence_stress::synth::random_network(2_000, 5, 0.1, 1);
    let base = s.network.clear(&ClearingParams::eisenberg_noe());
    assert_eq!(base.waves, 0, "unshocked synthetic networks are solvent");
    let mut c = Clearing::default();
    s.network
        .clear_into(&s.shocked_assets, &ClearingParams::eisenberg_noe(), &mut c)
        .expect("right length");
    assert!(c.converged);
    assert!(c.waves >= 2, "the shock should cascade: {} waves", c.waves);
}
