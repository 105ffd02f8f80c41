//! Ranges, not points: sampling the inputs that carry a `[[range]]` and reporting P5/P50/P95 of
//! every headline figure, plus a tornado table of the inputs that move the realized loss most.
//!
//! Each ranged input is drawn independently from a triangular distribution on `[low, high]` with
//! its mode at the value written on the entity (the central estimate), so the written value stays
//! the most likely one and the tails reach the range's ends. Draws run in blocks with their own
//! ChaCha8 stream derived from the seed, so results do not depend on the number of threads.

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use ringfence_model::{ComponentIdx, Model, RangeNode, RangeTarget};

use crate::error::Result;
use crate::propagate::{Outcome, StressParams};
use crate::system::{FailScratch, System};

/// Sets one input of a model (an asset's, a protocol's or a market's field) to `value`.
/// Unknown fields are left alone: the model validated them.
pub fn set_input(model: &mut Model, target: RangeTarget, field: &str, value: f64) {
    match target {
        RangeTarget::Asset(a) => {
            let Some(x) = model.assets.get_mut(a) else {
                return;
            };
            match field {
                "price_usd" => x.price_usd = value,
                "supply" => x.supply = value,
                "depth_usd" => x.depth_usd = Some(value),
                _ => {}
            }
            x.value_usd = x.price_usd * x.supply;
        }
        RangeTarget::Protocol(p) => {
            let Some(x) = model.protocols.get_mut(p) else {
                return;
            };
            match field {
                "deposits_usd" => x.deposits_usd = value,
                "outflow_sensitivity" => x.outflow_sensitivity = value,
                "liquid_share" => x.liquid_share = Some(value.clamp(0.0, 1.0)),
                "capital_usd" => x.capital_usd = Some(value),
                "external_assets_usd" => x.external_assets_usd = value,
                _ => {}
            }
        }
        RangeTarget::Market(p, mk) => {
            let Some(x) = model
                .protocols
                .get_mut(p)
                .and_then(|p| p.markets.get_mut(mk))
            else {
                return;
            };
            match field {
                "collateral_amount" => x.collateral_amount = value,
                "debt_amount" => x.debt_amount = value,
                "liquidation_threshold" => x.liquidation_threshold = value.clamp(1e-9, 1.0),
                "liquidation_bonus" => x.liquidation_bonus = value.max(1.0),
                _ => {}
            }
        }
    }
}

/// The entity a range names, as written (`asset`, `protocol` or `protocol/market`).
pub fn target_name(model: &Model, target: RangeTarget) -> String {
    match target {
        RangeTarget::Asset(a) => model.assets.get(a).map(|x| x.id.clone()),
        RangeTarget::Protocol(p) => model.protocols.get(p).map(|x| x.id.clone()),
        RangeTarget::Market(p, mk) => model.protocols.get(p).map(|x| {
            let name = x
                .markets
                .get(mk)
                .and_then(|m| m.id.clone())
                .unwrap_or_else(|| mk.to_string());
            format!("{}/{name}", x.id)
        }),
    }
    .unwrap_or_default()
}

/// A draw from the triangular distribution on `[low, high]` with mode `mode`, by inverse CDF.
pub fn triangular(u: f64, low: f64, mode: f64, high: f64) -> f64 {
    if high <= low {
        return mode;
    }
    let mode = mode.clamp(low, high);
    let c = (mode - low) / (high - low);
    if u < c {
        low + (u * (high - low) * (mode - low)).sqrt()
    } else {
        high - ((1.0 - u) * (high - low) * (high - mode)).sqrt()
    }
}

/// P5, P50 and P95 of one figure over the draws.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Band {
    /// 5th percentile.
    pub p5: f64,
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
}

impl Band {
    fn of(v: &mut [f64]) -> Self {
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let q = |p: f64| {
            if n == 0 {
                return 0.0;
            }
            let i = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
            v[i]
        };
        Self {
            p5: q(0.05),
            p50: q(0.5),
            p95: q(0.95),
        }
    }
}

/// One row of the tornado table: the realized loss and disrupted value with one input at its
/// low and at its high end, every other input at its central value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct TornadoRow {
    /// The entity.
    pub entity: String,
    /// The field.
    pub field: String,
    /// Its range.
    pub low: f64,
    /// Its range.
    pub high: f64,
    /// Where the range comes from.
    pub source: Option<String>,
    /// Realized loss with the input at `low`.
    pub realized_at_low_usd: f64,
    /// Realized loss with the input at `high`.
    pub realized_at_high_usd: f64,
    /// Disrupted value with the input at `low`.
    pub disrupted_at_low_usd: f64,
    /// Disrupted value with the input at `high`.
    pub disrupted_at_high_usd: f64,
    /// `|realized at high − realized at low|`, the sort key.
    pub swing_usd: f64,
}

/// What `--uncertainty N` reports.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Uncertainty {
    /// Draws.
    pub draws: usize,
    /// Seed.
    pub seed: u64,
    /// Inputs sampled (the spec's `[[range]]` entries).
    pub inputs: usize,
    /// Direct loss.
    pub direct_loss_usd: Band,
    /// Realized loss (direct + secondary).
    pub realized_loss_usd: Band,
    /// Secondary realized loss.
    pub secondary_loss_usd: Band,
    /// Disrupted value.
    pub disrupted_value_usd: Band,
    /// Loss multiplier (draws without a direct loss are left out).
    pub loss_multiplier: Band,
    /// Disruption multiplier (draws without a direct loss are left out).
    pub disruption_multiplier: Band,
    /// Bad debt.
    pub bad_debt_usd: Band,
    /// Withdrawals paid.
    pub outflows_usd: Band,
    /// Inputs by how much they move the realized loss, largest first.
    pub tornado: Vec<TornadoRow>,
}

const BLOCK: usize = 256;

/// The headline figures of one draw (kept instead of the outcome, so memory stays small).
#[derive(Debug, Clone, Copy)]
struct Figures {
    direct_loss_usd: f64,
    realized_loss_usd: f64,
    secondary_damage_usd: f64,
    disrupted_value_usd: f64,
    loss_multiplier: Option<f64>,
    disruption_multiplier: Option<f64>,
    bad_debt_usd: f64,
    outflows_usd: f64,
}

impl Figures {
    fn of(o: &Outcome) -> Self {
        Self {
            direct_loss_usd: o.direct_loss_usd,
            realized_loss_usd: o.realized_loss_usd,
            secondary_damage_usd: o.secondary_damage_usd,
            disrupted_value_usd: o.disrupted_value_usd,
            loss_multiplier: o.loss_multiplier,
            disruption_multiplier: o.disruption_multiplier,
            bad_debt_usd: o.bad_debt_usd,
            outflows_usd: o.outflows_usd,
        }
    }
}

fn run_once(
    model: &Model,
    failed: &[ComponentIdx],
    params: &StressParams,
    s: &mut FailScratch,
) -> Result<Outcome> {
    let sys = System::new(model)?;
    let base = sys.baseline(params);
    Ok(sys.run_light(failed, params, &base, s))
}

/// Samples the model's ranges `draws` times (seeded), runs `failed` on each draw, and reports the
/// bands and the tornado table. `progress` is told how many draws are done.
pub fn sample(
    model: &Model,
    failed: &[ComponentIdx],
    params: &StressParams,
    draws: usize,
    seed: u64,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Uncertainty> {
    let ranges: &[RangeNode] = &model.ranges;
    let blocks = draws.div_ceil(BLOCK);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let per_block: Vec<Result<Vec<Figures>>> = (0..blocks)
        .into_par_iter()
        .map_init(
            || (model.clone(), FailScratch::default()),
            |(m, s), b| {
                let mut rng = ChaCha8Rng::seed_from_u64(mix(seed ^ mix(b as u64 + 1)));
                let len = BLOCK.min(draws - b * BLOCK);
                let mut out = Vec::with_capacity(len);
                for _ in 0..len {
                    for r in ranges {
                        let v = triangular(rng.random::<f64>(), r.low, r.value, r.high);
                        set_input(m, r.target, &r.field, v);
                    }
                    out.push(Figures::of(&run_once(m, failed, params, s)?));
                }
                let d = done.fetch_add(len, std::sync::atomic::Ordering::Relaxed) + len;
                progress(d);
                Ok(out)
            },
        )
        .collect();
    let mut all = Vec::with_capacity(draws);
    for b in per_block {
        all.extend(b?);
    }
    let band = |f: &dyn Fn(&Figures) -> Option<f64>| {
        let mut v: Vec<f64> = all.iter().filter_map(f).collect();
        Band::of(&mut v)
    };
    // Tornado: one input at a time at its ends.
    let mut s = FailScratch::default();
    let mut tornado = Vec::with_capacity(ranges.len());
    let mut m = model.clone();
    for r in ranges {
        set_input(&mut m, r.target, &r.field, r.low);
        let lo = run_once(&m, failed, params, &mut s)?;
        set_input(&mut m, r.target, &r.field, r.high);
        let hi = run_once(&m, failed, params, &mut s)?;
        set_input(&mut m, r.target, &r.field, r.value);
        tornado.push(TornadoRow {
            entity: target_name(model, r.target),
            field: r.field.clone(),
            low: r.low,
            high: r.high,
            source: r.source.clone(),
            realized_at_low_usd: lo.realized_loss_usd,
            realized_at_high_usd: hi.realized_loss_usd,
            disrupted_at_low_usd: lo.disrupted_value_usd,
            disrupted_at_high_usd: hi.disrupted_value_usd,
            swing_usd: (hi.realized_loss_usd - lo.realized_loss_usd).abs(),
        });
    }
    tornado.sort_by(|a, b| {
        b.swing_usd
            .total_cmp(&a.swing_usd)
            .then_with(|| {
                let da = (a.disrupted_at_high_usd - a.disrupted_at_low_usd).abs();
                let db = (b.disrupted_at_high_usd - b.disrupted_at_low_usd).abs();
                db.total_cmp(&da)
            })
            .then_with(|| (&a.entity, &a.field).cmp(&(&b.entity, &b.field)))
    });
    Ok(Uncertainty {
        draws: all.len(),
        seed,
        inputs: ranges.len(),
        direct_loss_usd: band(&|o| Some(o.direct_loss_usd)),
        realized_loss_usd: band(&|o| Some(o.realized_loss_usd)),
        secondary_loss_usd: band(&|o| Some(o.secondary_damage_usd)),
        disrupted_value_usd: band(&|o| Some(o.disrupted_value_usd)),
        loss_multiplier: band(&|o| o.loss_multiplier),
        disruption_multiplier: band(&|o| o.disruption_multiplier),
        bad_debt_usd: band(&|o| Some(o.bad_debt_usd)),
        outflows_usd: band(&|o| Some(o.outflows_usd)),
        tornado,
    })
}

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn triangular_stays_in_range_and_hits_the_mode() {
        assert_eq!(triangular(0.0, 1.0, 2.0, 4.0), 1.0);
        assert_eq!(triangular(1.0, 1.0, 2.0, 4.0), 4.0);
        // The CDF at the mode is (mode − low) / (high − low).
        assert!((triangular(1.0 / 3.0, 1.0, 2.0, 4.0) - 2.0).abs() < 1e-12);
        assert_eq!(triangular(0.7, 3.0, 3.0, 3.0), 3.0);
        for i in 0..=100 {
            let x = triangular(f64::from(i) / 100.0, 0.5, 0.6, 2.0);
            assert!((0.5..=2.0).contains(&x));
        }
    }

    #[test]
    fn bands_are_ordered_percentiles() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).rev().collect();
        let b = Band::of(&mut v);
        assert_eq!((b.p5, b.p50, b.p95), (5.0, 50.0, 95.0));
    }
}
