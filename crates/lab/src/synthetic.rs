//! Incidents nobody has seen: a pure, seeded generator of message-path attacks for testing that
//! the replay figures hold beyond the corpus the policy was written next to. Each scenario draws
//! a class (forged mint, forged release, key withdrawal, unbacked mint), an asset (decimals 6, 8
//! or 18, a price, a route value of $10M–$1B), and an attack: one transfer or a drain split into
//! 2–60 pieces (sometimes each under the delay threshold), in one block or spread over hours,
//! with the verifiers' RPC nodes poisoned or not, and sometimes an admin step first (a limit
//! lifted, the guardian removed, the attestor set proposed). Benign transfers of the same route
//! are mixed in.
//!
//! Out of scope by construction (they are not message-path attacks, see the README's "What it
//! cannot stop"): a source contract that emits an event for what it never locked (Qubit), and an
//! admin who waits out the verifier's timelock.

use alloy::primitives::{Address, U256};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::runner::share_of;
use crate::scenario::{AdminAction, Asset, Class, Incident, Scenario, Step, StepKind};

/// `n` synthetic incidents from `seed` (the same `(n, seed)` always gives the same scenarios).
pub fn generate(n: usize, seed: u64) -> Vec<Scenario> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x005E_ED0F_1AB5);
    (0..n).map(|k| one(&mut rng, k, seed)).collect()
}

fn one(rng: &mut ChaCha8Rng, k: usize, seed: u64) -> Scenario {
    let class = [
        Class::ForgedMint,
        Class::ForgedRelease,
        Class::KeyWithdrawal,
        Class::UnbackedMint,
    ][rng.random_range(0..4usize)];
    let decimals = [6u8, 8, 18][rng.random_range(0..3usize)];
    let price_usd = [1.0, 30.0, 2_500.0, 60_000.0][rng.random_range(0..4usize)];
    let value_usd = 10f64.powf(rng.random_range(7.0..9.0));
    let units = |usd: f64| -> U256 {
        let whole = (usd / price_usd).max(1.0) as u128;
        U256::from(whole) * U256::from(10u8).pow(U256::from(decimals))
    };
    let value = units(value_usd);
    let asset = Asset {
        symbol: format!("SYN{k}"),
        decimals,
        source_decimals: decimals,
        price_usd,
        supply: if class.mints() { value } else { U256::ZERO },
        locked: if class.mints() { U256::ZERO } else { value },
        source: Some("synthetic".to_owned()),
        fee_bps: 0,
    };
    // The drain: 5-60 % of the route's value.
    let drain = share_of(value, rng.random_range(0.05..0.6));
    let pieces: u64 = match rng.random_range(0..3u8) {
        0 => 1,
        1 => rng.random_range(2..12),
        // Sixty pieces of 0.08-1 % of V each: at or under the delay threshold (1 % of V).
        _ => 60,
    };
    let spread_s: u64 = if rng.random::<bool>() {
        0
    } else {
        rng.random_range(60..6 * 3600)
    };
    let poisoned = rng.random::<bool>();
    let piece = drain / U256::from(pieces);
    let mut steps = Vec::new();
    let mut t0 = 0;
    if rng.random_range(0..4u8) == 0 {
        let action = [
            AdminAction::RaiseLimit,
            AdminAction::DisableLimit,
            AdminAction::RemoveGuardian,
            AdminAction::ReplaceVerifier,
        ][rng.random_range(0..4usize)];
        steps.push(step(0, U256::ZERO, StepKind::Admin, Some(action), false));
        t0 = rng.random_range(12..600);
    }
    for p in 0..pieces {
        let t = t0 + spread_s * p / pieces.max(1);
        let mut s = step(t, piece, StepKind::Attack, None, poisoned);
        if class == Class::UnbackedMint {
            // A real deposit of a sliver of what is minted (Resolv).
            s.source_amount = piece / U256::from(rng.random_range(100u64..1000));
        }
        steps.push(s);
    }
    // Legitimate transfers of the same route around the attack: 0.01-0.1 % of V each.
    for _ in 0..rng.random_range(0..6u8) {
        let amount = share_of(value, rng.random_range(0.0001..0.001)).max(U256::from(1u8));
        let t = rng.random_range(0..t0 + spread_s + 600);
        steps.push(step(t, amount, StepKind::Benign, None, false));
    }
    steps.sort_by_key(|s| s.t_s);
    let attack_usd = asset.usd(drain);
    Scenario {
        incident: Incident {
            id: format!("synthetic-{seed}-{k}"),
            name: format!(
                "synthetic {} of ${:.1}M in {pieces} piece(s){}",
                class.name(),
                attack_usd / 1e6,
                if poisoned { ", poisoned RPCs" } else { "" }
            ),
            date: "2026-12-01".to_owned(),
            class,
            historical_loss_usd: 0.0,
            sources: vec![format!(
                "ringfence_lab::synthetic::generate(seed = {seed}), scenario {k}"
            )],
            notes: None,
            block_time_s: 12,
        },
        assets: vec![asset],
        steps,
    }
}

fn step(
    t_s: u64,
    amount: U256,
    kind: StepKind,
    action: Option<AdminAction>,
    rpc_poisoned: bool,
) -> Step {
    Step {
        t_s,
        asset: 0,
        amount,
        source_amount: if kind == StepKind::Benign {
            amount
        } else {
            U256::ZERO
        },
        recipient: (kind == StepKind::Attack).then(|| Address::repeat_byte(0xa7)),
        kind,
        source_id: None,
        block: None,
        source_claims_amount: false,
        action,
        rpc_poisoned,
        line: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_well_formed() {
        let a = generate(20, 7);
        let b = generate(20, 7);
        assert_eq!(a.len(), 20);
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(x.incident.id, y.incident.id);
            assert_eq!(x.steps.len(), y.steps.len());
            assert!(x.attack_usd() > 0.0, "{}", x.incident.name);
            if !x.incident.class.mints() {
                let total = x
                    .steps
                    .iter()
                    .fold(U256::ZERO, |acc, s| acc.saturating_add(s.amount));
                assert!(total <= x.assets[0].locked, "{}", x.incident.id);
            }
            assert!(x.steps.windows(2).all(|w| w[0].t_s <= w[1].t_s));
        }
        assert_ne!(generate(5, 8)[0].incident.id, a[0].incident.id);
    }
}
