//! A pure, seeded generator of realistic benign bridge traffic: heavy-tailed transfer sizes
//! (log-normal around a few thousand dollars), a daily cycle, occasional burst hours (a listing,
//! an airdrop claim) and, now and then, a large legitimate transfer (a treasury or market maker
//! moving 0.5–3 % of the route). The same `(days, seed)` always gives the same scenarios.

use alloy::primitives::{Address, U256};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use ringfence_guard::amount::parse_units;

use crate::scenario::{Asset, Class, Incident, Scenario, Step, StepKind};

/// The fee the synthetic routes' bridge keeps on their stable assets, in basis points (assumed:
/// bridges' published fees on stablecoins run from 0 to about 10 bps).
pub const STABLE_FEE_BPS: u16 = 5;

/// Shape of the generated traffic.
#[derive(Clone, Debug)]
pub struct TrafficShape {
    /// Mean transfers per asset per day, before the daily cycle and bursts.
    pub transfers_per_day: f64,
    /// Median transfer size in USD.
    pub median_usd: f64,
    /// Log-normal sigma of sizes.
    pub sigma: f64,
    /// Amplitude of the daily cycle (0: flat).
    pub daily_amplitude: f64,
    /// Chance that an hour is a burst hour.
    pub burst_hour_p: f64,
    /// Rate multiplier in a burst hour.
    pub burst_factor: f64,
    /// Chance that a transfer is a large legitimate one.
    pub large_p: f64,
    /// Largest single transfer as a share of the route's value (large transfers draw in
    /// [this / 6, this]).
    pub large_max_share: f64,
}

impl Default for TrafficShape {
    fn default() -> Self {
        Self {
            transfers_per_day: 40.0,
            median_usd: 3_000.0,
            sigma: 1.6,
            daily_amplitude: 0.6,
            burst_hour_p: 0.02,
            burst_factor: 6.0,
            large_p: 0.004,
            large_max_share: 0.03,
        }
    }
}

/// An asset of a synthetic route: `decimals` on the destination, `source_decimals` on the source.
fn asset(
    symbol: &str,
    (decimals, source_decimals): (u8, u8),
    price: f64,
    units: u64,
    mint: bool,
    fee_bps: u16,
) -> Asset {
    let v = U256::from(units) * U256::from(10u8).pow(U256::from(decimals));
    Asset {
        symbol: symbol.to_owned(),
        decimals,
        source_decimals,
        price_usd: price,
        supply: if mint { v } else { U256::ZERO },
        locked: if mint { U256::ZERO } else { v },
        source: Some("synthetic benign route".to_owned()),
        fee_bps,
    }
}

/// Two synthetic routes — a lock-and-release route and a lock-and-mint route, each with a
/// volatile and a stable asset of about $100M — carrying `days` of benign traffic.
pub fn generate(days: u32, seed: u64, shape: &TrafficShape) -> Vec<Scenario> {
    let routes = [
        (
            "benign-release",
            Class::ForgedRelease,
            [
                asset("WETH", (18, 18), 3_000.0, 40_000, false, 0),
                asset("USDC", (6, 6), 1.0, 100_000_000, false, STABLE_FEE_BPS),
            ]
            .to_vec(),
        ),
        (
            "benign-mint",
            Class::ForgedMint,
            // USDC (6 decimals) locked on the source, minted as an 18-decimal USDC.e on the
            // destination (as Binance-Peg USDC is): every transfer is scaled by 10^12, less the fee.
            [asset(
                "USDC.e",
                (18, 6),
                1.0,
                100_000_000,
                true,
                STABLE_FEE_BPS,
            )]
            .to_vec(),
        ),
    ];
    let mut out = Vec::new();
    for (k, (id, class, assets)) in routes.into_iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(
            seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(k as u64),
        );
        let mut steps = Vec::new();
        for (ai, a) in assets.iter().enumerate() {
            let value_usd = a.usd(if class.mints() { a.supply } else { a.locked });
            for hour in 0..u64::from(days) * 24 {
                let phase = ((hour % 24) as f64 - 8.0) / 24.0 * std::f64::consts::TAU;
                let mut rate =
                    shape.transfers_per_day / 24.0 * (1.0 + shape.daily_amplitude * phase.sin());
                if rng.random::<f64>() < shape.burst_hour_p {
                    rate *= shape.burst_factor;
                }
                for _ in 0..poisson(&mut rng, rate) {
                    let usd = if rng.random::<f64>() < shape.large_p {
                        value_usd
                            * shape.large_max_share
                            * (1.0 / 6.0 + rng.random::<f64>() * 5.0 / 6.0)
                    } else {
                        (shape.median_usd * (shape.sigma * normal(&mut rng)).exp())
                            .min(value_usd * 0.002)
                    };
                    // What the user locks, in the source token's units.
                    let Some(amount) = units(usd / a.price_usd, a.source_decimals) else {
                        continue;
                    };
                    if amount.is_zero() {
                        continue;
                    }
                    let mut addr = [0u8; 20];
                    rng.fill(&mut addr);
                    // The bridge scales it to the destination's decimals and keeps its fee
                    // (`fee_bps`, rounded in the bridge's favour).
                    let scaled = a.to_dst(amount);
                    let fee = scaled * U256::from(a.fee_bps) / U256::from(10_000u32);
                    steps.push(Step {
                        t_s: hour * 3600 + rng.random_range(0..3600u64),
                        asset: ai,
                        amount: scaled - fee,
                        source_amount: amount,
                        recipient: Some(Address::from(addr)),
                        kind: StepKind::Benign,
                        source_id: None,
                        block: None,
                        source_claims_amount: false,
                        action: None,
                        rpc_poisoned: false,
                        line: 0,
                    });
                }
            }
        }
        steps.sort_by_key(|s| s.t_s);
        out.push(Scenario {
            incident: Incident {
                id: format!("{id}-{days}d-seed{seed}"),
                name: format!("{days} days of benign traffic ({})", class.name()),
                date: "2026-01-01".to_owned(),
                class,
                historical_loss_usd: 0.0,
                sources: vec![format!(
                    "ringfence_lab::benign::generate(days = {days}, seed = {seed})"
                )],
                notes: None,
                block_time_s: 12,
            },
            assets: assets.to_vec(),
            steps,
        });
    }
    out
}

/// Token units (f64) to base units, keeping at most 6 fractional digits.
fn units(tokens: f64, decimals: u8) -> Option<U256> {
    if !(tokens.is_finite() && tokens >= 0.0) {
        return None;
    }
    let places = usize::from(decimals.min(6));
    parse_units(&format!("{tokens:.places$}"), decimals)
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn poisson(rng: &mut ChaCha8Rng, lambda: f64) -> u32 {
    let l = (-lambda).exp();
    let mut k = 0u32;
    let mut p = 1.0;
    loop {
        p *= rng.random::<f64>();
        if p <= l || k > 10_000 {
            return k;
        }
        k += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_traffic_other_seed_other_traffic() {
        let a = generate(3, 7, &TrafficShape::default());
        let b = generate(3, 7, &TrafficShape::default());
        let c = generate(3, 8, &TrafficShape::default());
        let key = |v: &[Scenario]| {
            v.iter()
                .flat_map(|s| s.steps.iter().map(|x| (x.t_s, x.amount)))
                .collect::<Vec<_>>()
        };
        assert_eq!(key(&a), key(&b));
        assert_ne!(key(&a), key(&c));
    }

    #[test]
    fn traffic_is_benign_sorted_and_within_the_days() {
        for s in generate(5, 1, &TrafficShape::default()) {
            assert!(s.steps.windows(2).all(|w| w[0].t_s <= w[1].t_s));
            // Locked in full, scaled to the destination's decimals, less the bridge's fee on
            // the asset (never more, never a negative fee).
            assert!(s.steps.iter().all(|x| {
                let a = &s.assets[x.asset];
                let scaled = a.to_dst(x.source_amount);
                let fee = scaled * U256::from(a.fee_bps) / U256::from(10_000u32);
                x.kind == StepKind::Benign && x.amount == scaled - fee && x.t_s < 5 * 86_400
            }));
            assert!(
                s.steps
                    .iter()
                    .any(|x| x.amount < s.assets[x.asset].to_dst(x.source_amount)),
                "some transfers pay a fee"
            );
            // about 40 per asset per day
            assert!((200..=700).contains(&s.steps.len()), "{}", s.steps.len());
        }
    }

    #[test]
    fn busiest_day_stays_well_under_the_daily_limits() {
        for s in generate(30, 42, &TrafficShape::default()) {
            for (i, a) in s.assets.iter().enumerate() {
                let v = a.usd(s.at_risk(a));
                let mut per_day = vec![0.0; 30];
                for x in s.steps.iter().filter(|x| x.asset == i) {
                    per_day[(x.t_s / 86_400) as usize] += a.usd(x.amount);
                }
                let max = per_day.iter().copied().fold(0.0, f64::max);
                assert!(
                    max < 0.06 * v,
                    "{} {}: {max} of {v}",
                    s.incident.id,
                    a.symbol
                );
            }
        }
    }
}
