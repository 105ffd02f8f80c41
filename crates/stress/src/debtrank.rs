//! DebtRank: distress propagation through balance sheets.
//!
//! Node `j` holds assets `A[j][i]` on node `i` and has a capital buffer `E_j`. The impact of `i`
//! on `j` is `V[i][j] = min(1, A[j][i] / E_j)`: if `i` is fully distressed (`h_i = 1`), `j`
//! loses `V[i][j]` of its equity. Relative equity loss `h` is capped at 1.
//!
//! - **Differential DebtRank** (Bardoscia, Battiston, Caccioli, Caldarelli 2015), as implemented
//!   by the R package `NetworkRiskMeasures`: `h(t+1) = min(1, h(t) + Vᵀ (h(t) − h(t−1)))`, so only
//!   the increment of stress travels and cycles are counted correctly.
//! - **Single-hit DebtRank** (Battiston et al. 2012): a node propagates its stress once, in the
//!   round after it becomes distressed, then goes inactive; it under-counts on cycles and is kept
//!   for comparison.
//!
//! Both are matrix-free: each round touches only the out-edges of nodes whose stress changed.

use crate::error::{Error, Result, check_amount};
use crate::network::ClaimNetwork;

/// Which DebtRank.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DebtRankMethod {
    /// Bardoscia et al. 2015.
    #[default]
    Differential,
    /// Battiston et al. 2012.
    SingleHit,
}

/// A sparse impact network `V` with node weights.
#[derive(Debug, Clone)]
pub struct ImpactNetwork {
    n: usize,
    start: Vec<u32>,
    target: Vec<u32>,
    impact: Vec<f64>,
    weight: Vec<f64>,
}

/// The outcome of a DebtRank run.
#[derive(Debug, Clone, PartialEq)]
pub struct DebtRank {
    /// Final relative equity loss of every node, in `[0, 1]`.
    pub h: Vec<f64>,
    /// Rounds until no stress moved.
    pub rounds: usize,
    /// `Σ w_i h_i` at the end (weights normalised to 1).
    pub total_stress: f64,
    /// `Σ w_i h_i(end) − Σ w_i h_i(0)`: the stress the network added to the initial shock.
    pub additional_stress: f64,
}

impl ImpactNetwork {
    /// Build from exposures `(holder j, obligor i, A[j][i])`, capital buffers `E` and weights
    /// (any non-negative numbers, normalised here; e.g. total assets).
    ///
    /// A node with a zero buffer is fully impacted by any positive exposure.
    pub fn from_exposures(
        n: usize,
        exposures: impl IntoIterator<Item = (usize, usize, f64)>,
        buffers: &[f64],
        weights: &[f64],
    ) -> Result<Self> {
        for (what, len) in [("buffers", buffers.len()), ("weights", weights.len())] {
            if len != n {
                return Err(Error::LengthMismatch {
                    what,
                    got: len,
                    expected: n,
                });
            }
        }
        for (i, &b) in buffers.iter().enumerate() {
            check_amount(|| format!("capital buffer of {i}"), b)?;
        }
        let mut wsum = 0.0;
        for (i, &w) in weights.iter().enumerate() {
            wsum += check_amount(|| format!("weight of {i}"), w)?;
        }
        let mut edges: Vec<(u32, u32, f64)> = Vec::new();
        for (holder, obligor, amount) in exposures {
            for index in [holder, obligor] {
                if index >= n {
                    return Err(Error::NodeOutOfRange { index, len: n });
                }
            }
            check_amount(|| format!("exposure of {holder} on {obligor}"), amount)?;
            if holder != obligor && amount > 0.0 {
                edges.push((obligor as u32, holder as u32, amount));
            }
        }
        edges.sort_unstable_by_key(|&(i, j, _)| (i, j));
        let mut start = vec![0u32; n + 1];
        let mut target = Vec::with_capacity(edges.len());
        let mut impact: Vec<f64> = Vec::with_capacity(edges.len());
        let mut last: Option<(u32, u32)> = None;
        let mut amounts: Vec<f64> = Vec::with_capacity(edges.len());
        for (i, j, a) in edges {
            if last == Some((i, j)) {
                if let Some(x) = amounts.last_mut() {
                    *x += a;
                }
            } else {
                start[i as usize + 1] += 1;
                target.push(j);
                amounts.push(a);
                last = Some((i, j));
            }
        }
        for k in 0..n {
            start[k + 1] += start[k];
        }
        for (k, &a) in amounts.iter().enumerate() {
            let e = buffers[target[k] as usize];
            impact.push(if e > 0.0 { (a / e).min(1.0) } else { 1.0 });
        }
        let weight = if wsum > 0.0 {
            weights.iter().map(|w| w / wsum).collect()
        } else {
            vec![0.0; n]
        };
        Ok(Self {
            n,
            start,
            target,
            impact,
            weight,
        })
    }

    /// The impact network of a claim network: a creditor holds, as an asset, what its debtors owe
    /// it. Buffers are capital; weights e.g. total assets.
    pub fn from_claims(net: &ClaimNetwork, buffers: &[f64], weights: &[f64]) -> Result<Self> {
        let exposures = (0..net.len())
            .flat_map(|i| net.claims_of(i).map(move |(j, a)| (j, i, a)))
            .collect::<Vec<_>>();
        Self::from_exposures(net.len(), exposures, buffers, weights)
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether the network is empty.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// Normalised weights.
    pub fn weights(&self) -> &[f64] {
        &self.weight
    }

    /// `(target, V)` for the out-edges of `i`.
    pub fn impacts_of(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let r = self.start[i] as usize..self.start[i + 1] as usize;
        r.map(move |k| (self.target[k] as usize, self.impact[k]))
    }

    /// Run DebtRank from initial relative equity losses `h0` (1 = default).
    pub fn debtrank(&self, h0: &[f64], method: DebtRankMethod) -> Result<DebtRank> {
        if h0.len() != self.n {
            return Err(Error::LengthMismatch {
                what: "initial stress",
                got: h0.len(),
                expected: self.n,
            });
        }
        for (i, &x) in h0.iter().enumerate() {
            crate::error::check_unit(|| format!("initial stress of {i}"), x)?;
        }
        let (h, rounds) = match method {
            DebtRankMethod::Differential => self.differential(h0),
            DebtRankMethod::SingleHit => self.single_hit(h0),
        };
        let dot = |v: &[f64]| v.iter().zip(&self.weight).map(|(a, b)| a * b).sum::<f64>();
        let total = dot(&h);
        Ok(DebtRank {
            additional_stress: total - dot(h0),
            total_stress: total,
            h,
            rounds,
        })
    }

    fn differential(&self, h0: &[f64]) -> (Vec<f64>, usize) {
        const TOL: f64 = 1e-15;
        const MAX_ROUNDS: usize = 100_000;
        let n = self.n;
        let mut h = h0.to_vec();
        let mut dh = h0.to_vec();
        let mut frontier: Vec<u32> = (0..n as u32).filter(|&i| h0[i as usize] > 0.0).collect();
        let mut acc = vec![0.0; n];
        let mut touched: Vec<u32> = Vec::new();
        let mut mark = vec![false; n];
        let mut rounds = 0;
        while !frontier.is_empty() && rounds < MAX_ROUNDS {
            rounds += 1;
            for &i in &frontier {
                let d = dh[i as usize];
                for (j, v) in self.impacts_of(i as usize) {
                    if !mark[j] {
                        mark[j] = true;
                        touched.push(j as u32);
                    }
                    acc[j] += v * d;
                }
            }
            for &i in &frontier {
                dh[i as usize] = 0.0;
            }
            frontier.clear();
            for &j in &touched {
                let j = j as usize;
                let new = (h[j] + acc[j]).min(1.0);
                let d = new - h[j];
                h[j] = new;
                acc[j] = 0.0;
                mark[j] = false;
                if d > TOL {
                    dh[j] = d;
                    frontier.push(j as u32);
                }
            }
            touched.clear();
        }
        (h, rounds)
    }

    fn single_hit(&self, h0: &[f64]) -> (Vec<f64>, usize) {
        #[derive(Clone, Copy, PartialEq)]
        enum S {
            Undistressed,
            Distressed,
            Inactive,
        }
        let n = self.n;
        let mut h = h0.to_vec();
        let mut state: Vec<S> = h0
            .iter()
            .map(|&x| {
                if x > 0.0 {
                    S::Distressed
                } else {
                    S::Undistressed
                }
            })
            .collect();
        let mut frontier: Vec<(u32, f64)> = (0..n)
            .filter(|&i| state[i] == S::Distressed)
            .map(|i| (i as u32, h[i]))
            .collect();
        let mut rounds = 0;
        while !frontier.is_empty() {
            rounds += 1;
            for &(i, hi) in &frontier {
                for (j, v) in self.impacts_of(i as usize) {
                    h[j] = (h[j] + v * hi).min(1.0);
                }
            }
            for &(i, _) in &frontier {
                state[i as usize] = S::Inactive;
            }
            frontier.clear();
            for j in 0..n {
                if state[j] == S::Undistressed && h[j] > 0.0 {
                    state[j] = S::Distressed;
                    frontier.push((j as u32, h[j]));
                }
            }
        }
        (h, rounds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference case D1.
    fn d1() -> ImpactNetwork {
        let assets = [[0.0, 1.0, 0.0], [10.0, 0.0, 3.0], [3.0, 2.0, 0.0]];
        let exposures = (0..3).flat_map(|j| (0..3).map(move |i| (j, i, assets[j][i])));
        ImpactNetwork::from_exposures(3, exposures, &[2.0, 5.0, 2.0], &[10.0, 100.0, 30.0])
            .expect("valid input")
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12)
    }

    #[test]
    fn d1_impacts() {
        let v = d1();
        let mut all: Vec<(usize, usize, f64)> = (0..3)
            .flat_map(|i| v.impacts_of(i).map(move |(j, x)| (i, j, x)))
            .collect();
        all.sort_by_key(|a| (a.0, a.1));
        assert_eq!(
            all,
            vec![
                (0, 1, 1.0),
                (0, 2, 1.0),
                (1, 0, 0.5),
                (1, 2, 1.0),
                (2, 1, 0.6)
            ]
        );
    }

    #[test]
    fn d1_differential() {
        let v = d1();
        let cases = [
            ([1.0, 0.0, 0.0], [1.0, 1.0, 1.0], 0.9285714286),
            ([0.0, 1.0, 0.0], [0.5, 1.0, 1.0], 0.25),
            ([0.0, 0.0, 1.0], [0.5, 1.0, 1.0], 0.75),
        ];
        for (h0, h, add) in cases {
            let r = v
                .debtrank(&h0, DebtRankMethod::Differential)
                .expect("valid input");
            assert!(close(&r.h, &h), "{h0:?}: {:?}", r.h);
            assert!((r.additional_stress - add).abs() < 1e-9, "{r:?}");
        }
    }

    #[test]
    fn d1_single_hit_under_counts_on_cycles() {
        let r = d1()
            .debtrank(&[0.0, 0.0, 1.0], DebtRankMethod::SingleHit)
            .expect("valid input");
        assert!(close(&r.h, &[0.3, 0.9, 1.0]), "{:?}", r.h);
        assert!((r.additional_stress - 0.6642857143).abs() < 1e-9);
    }

    #[test]
    fn rejects_bad_input() {
        let v = d1();
        assert!(
            v.debtrank(&[0.0, 2.0, 0.0], DebtRankMethod::Differential)
                .is_err()
        );
        assert!(v.debtrank(&[0.0], DebtRankMethod::Differential).is_err());
        assert!(ImpactNetwork::from_exposures(2, [(0, 5, 1.0)], &[1.0, 1.0], &[1.0, 1.0]).is_err());
    }

    #[test]
    fn from_claims_matches_exposures() {
        // a owes b 10 and c 3 (b and c hold assets on a), etc. (D1 transposed into claims).
        let l = vec![
            vec![0.0, 10.0, 3.0],
            vec![1.0, 0.0, 2.0],
            vec![0.0, 3.0, 0.0],
        ];
        let net = ClaimNetwork::from_dense(&l, &[0.0; 3], &[0.0; 3]).expect("valid input");
        let v = ImpactNetwork::from_claims(&net, &[2.0, 5.0, 2.0], &[10.0, 100.0, 30.0])
            .expect("valid input");
        let r = v
            .debtrank(&[0.0, 0.0, 1.0], DebtRankMethod::Differential)
            .expect("valid input");
        assert!(close(&r.h, &[0.5, 1.0, 1.0]));
    }
}
