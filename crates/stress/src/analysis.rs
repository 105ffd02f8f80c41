//! Analyses over many scenarios: ranking of every single-component failure, reverse stress, and
//! Monte Carlo over failure probabilities.

use std::collections::HashMap;

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use ringfence_model::ComponentIdx;

use crate::propagate::StressParams;
use crate::system::{FailScratch, System};

/// One row of the ranking.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Ranked {
    /// Component id.
    pub component: String,
    /// Component kind.
    pub kind: String,
    /// Direct loss.
    pub direct_loss_usd: f64,
    /// Secondary realized loss.
    pub secondary_damage_usd: f64,
    /// Direct + secondary: the realized loss.
    pub total_damage_usd: f64,
    /// Secondary realized loss / direct (the loss multiplier).
    pub multiplier: Option<f64>,
    /// Value that moved (liquidations, withdrawals paid).
    pub disrupted_value_usd: f64,
}

/// The result of reverse stress.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Reverse {
    /// The loss to exceed.
    pub target_usd: f64,
    /// The smallest set found whose joint failure exceeds it (empty if none does).
    pub components: Vec<String>,
    /// Its total damage.
    pub total_damage_usd: f64,
    /// Whether `components` is the smallest possible: every set of that size or smaller was
    /// searched among the candidates.
    pub exhaustive: bool,
    /// Sets evaluated.
    pub evaluated: usize,
    /// Whether chains were among the candidates (`--include-chains`).
    pub chains_searched: bool,
}

/// Monte Carlo summary.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MonteCarlo {
    /// Draws.
    pub draws: usize,
    /// Seed.
    pub seed: u64,
    /// Mean total damage per year.
    pub mean_loss_usd: f64,
    /// 95 % value at risk.
    pub var95_usd: f64,
    /// 99 % value at risk.
    pub var99_usd: f64,
    /// 99 % expected shortfall (mean of the worst 1 %).
    pub es99_usd: f64,
    /// Share of draws with any failure.
    pub p_any_failure: f64,
    /// Histogram of non-zero losses: `(upper edge USD, count)` on log-spaced bins.
    pub histogram: Vec<(f64, usize)>,
}

/// Draws per deterministic block: each block has its own RNG stream, so results do not depend
/// on how blocks are spread over threads.
const BLOCK: usize = 4096;

impl System<'_> {
    /// Every component failing alone, ranked by realized loss (largest first, ties by id).
    pub fn rank(&self, params: &StressParams) -> Vec<Ranked> {
        let base = self.baseline(params);
        let m = self.model;
        let mut rows: Vec<Ranked> = (0..m.components.len())
            .into_par_iter()
            .map_init(FailScratch::default, |s, c| {
                let o = self.run_scenario_light(&[c as ComponentIdx], params, &base, s);
                Ranked {
                    component: m.components[c].id.clone(),
                    kind: m.components[c].kind.as_str().to_owned(),
                    direct_loss_usd: o.0,
                    secondary_damage_usd: o.1,
                    total_damage_usd: o.0 + o.1,
                    multiplier: (o.0 > 0.0).then(|| o.1 / o.0),
                    disrupted_value_usd: o.2,
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            b.total_damage_usd
                .total_cmp(&a.total_damage_usd)
                .then_with(|| a.component.cmp(&b.component))
        });
        rows
    }

    fn run_scenario_light(
        &self,
        failed: &[ComponentIdx],
        params: &StressParams,
        base: &crate::Clearing,
        s: &mut FailScratch,
    ) -> (f64, f64, f64) {
        let o = self.run_light(failed, params, base, s);
        (
            o.direct_loss_usd,
            o.secondary_damage_usd,
            o.disrupted_value_usd,
        )
    }

    /// The smallest set of components whose joint failure exceeds `target_usd`, searched over
    /// every component: see [`System::reverse_among`].
    pub fn reverse(&self, target_usd: f64, params: &StressParams) -> Reverse {
        let all: Vec<ComponentIdx> = (0..self.component_count() as ComponentIdx).collect();
        self.reverse_among(target_usd, params, &all)
    }

    /// The components a team can act on — keys, verifier sets, operators, orgs, hostings and
    /// layers — and, with `include_chains`, the chains too. A whole chain failing is rarely the
    /// actionable answer to "what is the smallest failure that costs this much".
    pub fn actionable(&self, include_chains: bool) -> Vec<ComponentIdx> {
        self.model
            .components
            .iter()
            .enumerate()
            .filter(|(_, c)| include_chains || c.kind != ringfence_model::ComponentKind::Chain)
            .map(|(i, _)| i as ComponentIdx)
            .collect()
    }

    /// The smallest set of `candidates` whose joint failure exceeds `target_usd`: exhaustive over
    /// sets of size 1 and 2, size 3 among the 24 most damaging, then a greedy extension by
    /// marginal damage.
    pub fn reverse_among(
        &self,
        target_usd: f64,
        params: &StressParams,
        candidates: &[ComponentIdx],
    ) -> Reverse {
        let base = self.baseline(params);
        let mut s = FailScratch::default();
        let n = candidates.len();
        let mut evaluated = 0usize;
        let mut eval = |set: &[ComponentIdx], s: &mut FailScratch| {
            evaluated += 1;
            self.damage(set, params, &base, s)
        };
        let mut singles: Vec<(f64, ComponentIdx)> = candidates
            .iter()
            .map(|&c| (eval(&[c], &mut s), c))
            .collect();
        singles.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let ids = |set: &[ComponentIdx]| -> Vec<String> {
            set.iter()
                .map(|&c| self.model.components[c as usize].id.clone())
                .collect()
        };
        let chains_searched = candidates.iter().any(|&c| {
            self.model.components[c as usize].kind == ringfence_model::ComponentKind::Chain
        });
        let done = |set: Vec<ComponentIdx>, dmg: f64, exhaustive: bool, evaluated: usize| Reverse {
            target_usd,
            components: ids(&set),
            total_damage_usd: dmg,
            exhaustive,
            evaluated,
            chains_searched,
        };
        if let Some(&(d, c)) = singles.first().filter(|x| x.0 > target_usd) {
            return done(vec![c], d, true, evaluated);
        }
        let mut best: Option<(f64, Vec<ComponentIdx>)> = None;
        for (x, &i) in candidates.iter().enumerate() {
            for &j in &candidates[x + 1..] {
                let mut set = vec![i, j];
                set.sort_unstable();
                let d = eval(&set, &mut s);
                if d > target_usd && best.as_ref().is_none_or(|b| d > b.0) {
                    best = Some((d, set));
                }
            }
        }
        if let Some((d, set)) = best {
            return done(set, d, true, evaluated);
        }
        let top: Vec<ComponentIdx> = singles.iter().take(24).map(|x| x.1).collect();
        let mut best: Option<(f64, Vec<ComponentIdx>)> = None;
        for a in 0..top.len() {
            for b in a + 1..top.len() {
                for c in b + 1..top.len() {
                    let mut set = vec![top[a], top[b], top[c]];
                    set.sort_unstable();
                    let d = eval(&set, &mut s);
                    if d > target_usd && best.as_ref().is_none_or(|x| d > x.0) {
                        best = Some((d, set));
                    }
                }
            }
        }
        if let Some((d, set)) = best {
            return done(set, d, n <= 24, evaluated);
        }
        // Greedy: keep adding the component with the largest marginal damage.
        let mut set: Vec<ComponentIdx> = Vec::new();
        let mut dmg = 0.0;
        while dmg <= target_usd && set.len() < n {
            let mut pick: Option<(f64, ComponentIdx)> = None;
            for &c in candidates {
                if set.contains(&c) {
                    continue;
                }
                let mut trial = set.clone();
                trial.push(c);
                trial.sort_unstable();
                let d = eval(&trial, &mut s);
                if pick.is_none_or(|p| d > p.0) {
                    pick = Some((d, c));
                }
            }
            let Some((d, c)) = pick else { break };
            set.push(c);
            set.sort_unstable();
            dmg = d;
        }
        if dmg > target_usd {
            done(set, dmg, false, evaluated)
        } else {
            done(Vec::new(), dmg, false, evaluated)
        }
    }

    /// Monte Carlo over one year: each component with a `failure_probability` fails independently
    /// (correlation comes from the shared orgs and hostings in the failure rules); `draws`
    /// draws, seeded. Deterministic for a seed whatever the number of threads. `progress` is
    /// called with the number of draws completed so far (from worker threads).
    pub fn monte_carlo(
        &self,
        draws: usize,
        seed: u64,
        params: &StressParams,
        progress: &(dyn Fn(usize) + Sync),
    ) -> MonteCarlo {
        let base = self.baseline(params);
        let events = &self.base_events;
        let blocks = draws.div_ceil(BLOCK);
        let done = std::sync::atomic::AtomicUsize::new(0);
        let per_block: Vec<Vec<f64>> = (0..blocks)
            .into_par_iter()
            .map_init(
                || {
                    (
                        FailScratch::default(),
                        HashMap::<Vec<ComponentIdx>, f64>::new(),
                    )
                },
                |(s, cache), b| {
                    let mut rng = ChaCha8Rng::seed_from_u64(splitmix(seed ^ splitmix(b as u64)));
                    let len = BLOCK.min(draws - b * BLOCK);
                    let mut losses = Vec::with_capacity(len);
                    let mut set: Vec<ComponentIdx> = Vec::new();
                    for _ in 0..len {
                        set.clear();
                        for &(c, p) in events {
                            if rng.random::<f64>() < p {
                                set.push(c);
                            }
                        }
                        let loss = if set.is_empty() {
                            0.0
                        } else if let Some(&l) = cache.get(&set) {
                            l
                        } else {
                            let l = self.damage(&set, params, &base, s);
                            cache.insert(set.clone(), l);
                            l
                        };
                        losses.push(loss);
                    }
                    let d = done.fetch_add(len, std::sync::atomic::Ordering::Relaxed) + len;
                    progress(d);
                    losses
                },
            )
            .collect();
        let mut all: Vec<f64> = per_block.into_iter().flatten().collect();
        summarise(&mut all, seed)
    }
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn summarise(all: &mut [f64], seed: u64) -> MonteCarlo {
    let n = all.len();
    let any = all.iter().filter(|&&x| x > 0.0).count();
    let mean = if n > 0 {
        all.iter().sum::<f64>() / n as f64
    } else {
        0.0
    };
    all.sort_by(f64::total_cmp);
    let q = |p: f64| -> f64 {
        if n == 0 {
            return 0.0;
        }
        let i = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
        all[i]
    };
    let tail = (n as f64 * 0.01).ceil().max(1.0) as usize;
    let es99 = if n == 0 {
        0.0
    } else {
        let t = tail.min(n);
        all[n - t..].iter().sum::<f64>() / t as f64
    };
    // Log-spaced histogram of non-zero losses.
    let nz: Vec<f64> = all.iter().copied().filter(|&x| x > 0.0).collect();
    let mut histogram = Vec::new();
    if let (Some(&lo), Some(&hi)) = (nz.first(), nz.last()) {
        let bins = 24usize;
        let (l0, l1) = (
            lo.log10().floor(),
            hi.log10().ceil().max(lo.log10().floor() + 1.0),
        );
        let width = (l1 - l0) / bins as f64;
        let mut counts = vec![0usize; bins];
        for &x in &nz {
            let k = (((x.log10() - l0) / width) as usize).min(bins - 1);
            counts[k] += 1;
        }
        histogram = counts
            .into_iter()
            .enumerate()
            .map(|(k, c)| (10f64.powf(l0 + width * (k + 1) as f64), c))
            .collect();
    }
    MonteCarlo {
        draws: n,
        seed,
        mean_loss_usd: mean,
        var95_usd: q(0.95),
        var99_usd: q(0.99),
        es99_usd: es99,
        p_any_failure: if n > 0 { any as f64 / n as f64 } else { 0.0 },
        histogram,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_and_shortfall() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        let s = summarise(&mut v, 1);
        assert_eq!(s.var95_usd, 95.0);
        assert_eq!(s.var99_usd, 99.0);
        assert_eq!(s.es99_usd, 100.0);
        assert!((s.mean_loss_usd - 50.5).abs() < 1e-12);
        assert_eq!(s.histogram.iter().map(|x| x.1).sum::<usize>(), 100);
    }
}
