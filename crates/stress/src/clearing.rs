//! Clearing of a claim network: Eisenberg–Noe (2001) and Rogers–Veraart (2013).
//!
//! Each node `i` owes `pbar_i` in total and holds external assets `e_i` plus its claims on the
//! others. The clearing payment vector `p` is the greatest fixed point of
//!
//! ```text
//! p_i = pbar_i                                   if e_i + Σ_j Π[j][i] p_j ≥ pbar_i
//! p_i = min(pbar_i, α e_i + β Σ_j Π[j][i] p_j)   otherwise
//! ```
//!
//! with `α = β = 1` for Eisenberg–Noe. It is found by the fictitious default algorithm: start with
//! everyone paying in full, find the nodes that cannot (wave 1), solve for their payments with the
//! others paying in full, find the nodes that now cannot pay (wave 2), and so on. The inner solve
//! is a matrix-free Gauss–Seidel sweep over the defaulted nodes' in-edges, started from above, so
//! it decreases monotonically to the greatest solution. Cost per sweep is linear in the edges
//! that reach defaulted nodes; nothing is ever `n × n`.
//!
//! External liabilities rank either pari passu with network claims (`Π = L / pbar`, the convention
//! of both papers) or senior to them (external creditors are paid first; network creditors share
//! what is left, pro rata to `L`).

use crate::error::{Error, Result, check_unit};
use crate::network::{ClaimNetwork, Seniority};

/// Which clearing model, and how tightly to solve it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClearingParams {
    /// Fraction of external assets a defaulting node realises (`α`, Rogers–Veraart).
    pub alpha: f64,
    /// Fraction of network receivables a defaulting node realises (`β`, Rogers–Veraart).
    pub beta: f64,
    /// Stop an inner solve when no payment moves by more than `tolerance × max(1, max pbar)`.
    pub tolerance: f64,
    /// Upper bound on inner Gauss–Seidel sweeps per default wave.
    pub max_sweeps: usize,
}

impl Default for ClearingParams {
    fn default() -> Self {
        Self::eisenberg_noe()
    }
}

impl ClearingParams {
    /// Eisenberg–Noe: no default costs (`α = β = 1`).
    pub const fn eisenberg_noe() -> Self {
        Self {
            alpha: 1.0,
            beta: 1.0,
            tolerance: 1e-13,
            max_sweeps: 100_000,
        }
    }

    /// The model's short name in reports: `en`, or `rv` when there are default costs
    /// (Rogers–Veraart with `α = β = 1` is Eisenberg–Noe, and is named so).
    pub fn name(&self) -> &'static str {
        if self.alpha == 1.0 && self.beta == 1.0 {
            "en"
        } else {
            "rv"
        }
    }

    /// Rogers–Veraart with default costs `α`, `β` in `[0, 1]`.
    pub fn rogers_veraart(alpha: f64, beta: f64) -> Result<Self> {
        Ok(Self {
            alpha: check_unit(|| "alpha".into(), alpha)?,
            beta: check_unit(|| "beta".into(), beta)?,
            ..Self::eisenberg_noe()
        })
    }
}

/// The outcome of clearing. Buffers are reused by [`ClaimNetwork::clear_into`].
#[derive(Debug, Clone, Default)]
pub struct Clearing {
    /// Total payment of each node, `p_i ≤ pbar_i`.
    pub payments: Vec<f64>,
    /// What each node receives from the network, `Σ_j Π[j][i] p_j`.
    pub received: Vec<f64>,
    /// Equity after clearing: `e_i + received_i − pbar_i` for solvent nodes, 0 for defaulted
    /// ones (limited liability).
    pub equity: Vec<f64>,
    /// Default wave: 0 if the node pays in full, `k ≥ 1` if it first fails to pay in wave `k` of
    /// the fictitious default algorithm.
    pub wave: Vec<u32>,
    /// Number of default waves.
    pub waves: u32,
    /// Total inner sweeps performed.
    pub sweeps: usize,
    /// Whether every inner solve met the tolerance within `max_sweeps`.
    pub converged: bool,
    payout: Vec<f64>,
    defaulted: Vec<u32>,
}

impl Clearing {
    /// Whether node `i` defaults (`p_i < pbar_i`).
    pub fn defaulted(&self, i: usize) -> bool {
        self.wave.get(i).is_some_and(|&w| w > 0)
    }

    /// Indices of defaulted nodes, in order of default wave.
    pub fn defaulted_nodes(&self) -> &[u32] {
        &self.defaulted
    }
}

impl ClaimNetwork {
    /// Network payout of node `i` when it pays `p` in total.
    #[inline]
    fn payout(&self, i: usize, p: f64) -> f64 {
        let ln = self.network_liabilities()[i];
        let ext = self.external_liabilities()[i];
        match self.seniority()[i] {
            Seniority::PariPassu => {
                let pbar = ln + ext;
                if pbar > 0.0 { p * (ln / pbar) } else { 0.0 }
            }
            Seniority::Senior => (p - ext).clamp(0.0, ln),
        }
    }

    #[inline]
    fn gather(&self, j: usize, payout: &[f64]) -> f64 {
        let mut s = 0.0;
        for k in self.in_range(j) {
            let (i, share) = self.in_edge(k);
            s += share * payout[i];
        }
        s
    }

    /// Clear the network with its own external assets.
    pub fn clear(&self, params: &ClearingParams) -> Clearing {
        let mut out = Clearing::default();
        // The network's own vector always has the right length.
        let e = self.external_assets().to_vec();
        self.clear_inner(&e, params, &mut out);
        out
    }

    /// Clear the network with external assets `e` (a shocked copy of the network's own), writing
    /// into `out` and reusing its buffers.
    pub fn clear_into(&self, e: &[f64], params: &ClearingParams, out: &mut Clearing) -> Result<()> {
        if e.len() != self.len() {
            return Err(Error::LengthMismatch {
                what: "external assets",
                got: e.len(),
                expected: self.len(),
            });
        }
        self.clear_inner(e, params, out);
        Ok(())
    }

    fn clear_inner(&self, e: &[f64], params: &ClearingParams, out: &mut Clearing) {
        let n = self.len();
        let (alpha, beta) = (params.alpha, params.beta);
        out.payments.clear();
        out.payout.clear();
        out.payments
            .extend((0..n).map(|i| self.total_liabilities(i)));
        out.payout
            .extend(self.network_liabilities().iter().copied());
        out.received.clear();
        out.received.resize(n, 0.0);
        out.wave.clear();
        out.wave.resize(n, 0);
        out.defaulted.clear();
        out.waves = 0;
        out.sweeps = 0;
        out.converged = true;
        let scale = (0..n)
            .map(|i| self.total_liabilities(i))
            .fold(1.0_f64, f64::max);
        let tol = params.tolerance * scale;
        loop {
            // Who cannot pay in full given the current payments?
            let first_new = out.defaulted.len();
            for (j, &ej) in e.iter().enumerate() {
                let r = self.gather(j, &out.payout);
                out.received[j] = r;
                if out.wave[j] == 0 {
                    let pbar = self.total_liabilities(j);
                    if ej + r < pbar - 1e-12 * pbar.max(1.0) {
                        out.defaulted.push(j as u32);
                    }
                }
            }
            if out.defaulted.len() == first_new {
                break;
            }
            out.waves += 1;
            for &j in &out.defaulted[first_new..] {
                out.wave[j as usize] = out.waves;
            }
            // Solve for the defaulted nodes' payments, everyone else paying in full.
            let mut sweeps = 0;
            loop {
                sweeps += 1;
                let mut moved = 0.0_f64;
                for &j in &out.defaulted {
                    let j = j as usize;
                    let r = self.gather(j, &out.payout);
                    let v = (alpha * e[j] + beta * r).min(self.total_liabilities(j));
                    moved = moved.max((out.payments[j] - v).abs());
                    out.payments[j] = v;
                    out.payout[j] = self.payout(j, v);
                }
                if moved <= tol {
                    break;
                }
                if sweeps >= params.max_sweeps {
                    out.converged = false;
                    break;
                }
            }
            out.sweeps += sweeps;
        }
        out.equity.clear();
        out.equity.extend((0..n).map(|i| {
            if out.wave[i] > 0 {
                0.0
            } else {
                (e[i] + out.received[i] - self.total_liabilities(i)).max(0.0)
            }
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(got: &[f64], want: &[f64], tol: f64) {
        assert_eq!(got.len(), want.len());
        for (k, (g, w)) in got.iter().zip(want).enumerate() {
            assert!(
                (g - w).abs() <= tol,
                "entry {k}: got {g}, want {w} (all: {got:?})"
            );
        }
    }

    fn rv(a: f64, b: f64) -> ClearingParams {
        ClearingParams::rogers_veraart(a, b).expect("valid input")
    }

    fn c1(l: Vec<Vec<f64>>) -> ClaimNetwork {
        ClaimNetwork::from_dense(&l, &[0.5, 0.625, 0.75], &[1.5, 0.5, 0.5]).expect("valid input")
    }

    #[test]
    fn c1_systemicrisk_default_clearing() {
        let net = c1(vec![
            vec![0.0, 0.5, 0.5],
            vec![0.5, 0.0, 0.5],
            vec![0.5, 0.5, 0.0],
        ]);
        let en = net.clear(&ClearingParams::eisenberg_noe());
        assert_close(&en.payments, &[1.4732142857, 1.4196428571, 1.5], 1e-9);
        assert_eq!(
            (0..3).map(|i| en.defaulted(i)).collect::<Vec<_>>(),
            [true, true, false]
        );
        let r = net.clear(&rv(0.5, 0.7));
        assert_close(&r.payments, &[0.50201996, 0.51470494, 0.56538061], 1e-8);
        assert!((0..3).all(|i| r.defaulted(i)));

        let net = c1(vec![
            vec![0.0, 0.7, 0.3],
            vec![0.3, 0.0, 0.7],
            vec![0.7, 0.3, 0.0],
        ]);
        let en = net.clear(&ClearingParams::eisenberg_noe());
        assert_close(&en.payments, &[1.46716102, 1.33580508, 1.5], 1e-8);
        let r = net.clear(&rv(0.5, 0.7));
        assert_close(&r.payments, &[0.50809905, 0.49311442, 0.57876436], 1e-8);
    }

    #[test]
    fn c2_rogers_veraart_example_3_3() {
        let net =
            ClaimNetwork::from_dense(&[vec![0.0, 2.0], vec![2.2, 0.0]], &[1.0, 1.0], &[0.0, 0.0])
                .expect("valid input");
        let r = net.clear(&rv(0.5, 0.5));
        assert_close(&r.payments, &[2.0, 2.2], 1e-12);
        let net =
            ClaimNetwork::from_dense(&[vec![0.0, 2.2], vec![2.2, 0.0]], &[1.0, 1.0], &[0.0, 0.0])
                .expect("valid input");
        let r = net.clear(&rv(0.5, 0.5));
        assert_close(&r.payments, &[2.2, 2.2], 1e-12);
    }

    #[test]
    fn c3_circular_network_waves() {
        let mut l = vec![vec![0.0; 6]; 6];
        for k in 0..6 {
            l[k][(k + 1) % 6] = if k % 2 == 0 { 2.0 } else { 3.0 };
        }
        let net = ClaimNetwork::from_dense(&l, &[0.0, 0.8, 0.0, 0.8, 0.0, 0.8], &[0.0; 6])
            .expect("valid input");
        let r = net.clear(&rv(0.5, 0.5));
        let (a, b) = (4.0 / 15.0, 8.0 / 15.0);
        assert_close(&r.payments, &[a, b, a, b, a, b], 1e-12);
        assert_eq!(r.wave, vec![2, 1, 2, 1, 2, 1]);
        assert_eq!(r.waves, 2);
        assert!(r.converged);
    }

    fn c4(scale: f64) -> ClaimNetwork {
        let l = vec![
            vec![0.0, 4.94, 2.47, 5.59, 0.0, 0.0],
            vec![6.0, 0.0, 0.0, 2.0, 0.0, 0.0],
            vec![0.0, 13.0, 0.0, 0.0, 0.0, 0.0],
            vec![0.0, 0.0, 0.0, 0.0, 0.0, 8.0],
            vec![12.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            vec![2.79, 6.21, 0.0, 0.0, 0.0, 0.0],
        ];
        let e: Vec<f64> = [1.0, 1.0, 11.51, 1.4, 12.5, 2.0]
            .iter()
            .map(|x| x * scale)
            .collect();
        ClaimNetwork::from_dense(&l, &e, &[0.0; 6]).expect("valid input")
    }

    #[test]
    fn c4_finnetvalu_six_nodes() {
        let r = c4(1.0).clear(&ClearingParams::eisenberg_noe());
        assert_close(&r.payments, &[13.0, 8.0, 13.0, 8.0, 12.0, 9.0], 1e-12);
        assert_eq!(r.waves, 0);

        let net = c4(0.3);
        let en = net.clear(&ClearingParams::eisenberg_noe());
        assert_close(
            &en.payments,
            &[12.675897, 8.0, 5.86142, 7.870636, 3.75, 8.470636],
            1e-6,
        );
        let r = net.clear(&rv(0.9, 0.9));
        assert_close(
            &r.payments,
            &[10.417371, 8.0, 4.88907, 6.209523, 3.375, 6.12857],
            1e-6,
        );
    }

    #[test]
    fn rv_one_one_is_en() {
        let net = c4(0.3);
        let a = net.clear(&ClearingParams::eisenberg_noe());
        let b = net.clear(&rv(1.0, 1.0));
        assert_eq!(a.payments, b.payments);
    }

    #[test]
    fn senior_external_liabilities_are_paid_first() {
        // Node 0 holds 1 of assets, owes 1 externally (senior) and 1 to node 1.
        let mut b = crate::network::ClaimNetworkBuilder::new(2);
        b.claim(0, 1, 1.0).expect("valid input");
        b.external_assets(0, 1.5).expect("valid input");
        b.external_liabilities(0, 1.0, Seniority::Senior)
            .expect("valid input");
        let net = b.build().expect("valid input");
        let r = net.clear(&ClearingParams::eisenberg_noe());
        assert_close(&r.payments, &[1.5, 0.0], 1e-12);
        assert_close(&r.received, &[0.0, 0.5], 1e-12);
        // Pari passu: node 1 gets half of 1.5.
        let mut b = crate::network::ClaimNetworkBuilder::new(2);
        b.claim(0, 1, 1.0).expect("valid input");
        b.external_assets(0, 1.5).expect("valid input");
        b.external_liabilities(0, 1.0, Seniority::PariPassu)
            .expect("valid input");
        let r = b
            .build()
            .expect("valid input")
            .clear(&ClearingParams::eisenberg_noe());
        assert_close(&r.received, &[0.0, 0.75], 1e-12);
    }

    #[test]
    fn clear_into_reuses_buffers_and_checks_length() {
        let net = c4(1.0);
        let mut out = Clearing::default();
        let e: Vec<f64> = net.external_assets().iter().map(|x| x * 0.3).collect();
        net.clear_into(&e, &ClearingParams::eisenberg_noe(), &mut out)
            .expect("valid input");
        assert!(out.defaulted(0));
        assert_eq!(out.defaulted_nodes().len(), 5);
        assert!(
            net.clear_into(&[1.0], &ClearingParams::eisenberg_noe(), &mut out)
                .is_err()
        );
        assert!(ClearingParams::rogers_veraart(1.5, 0.5).is_err());
    }
}
