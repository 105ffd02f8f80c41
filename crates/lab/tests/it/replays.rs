//! Real replays on anvil.

use ringfence_lab::benign::{self, TrafficShape};
use ringfence_lab::{Policy, ReplayOptions, Scenario, replay};

use crate::{repo, require_anvil};

fn opts() -> ReplayOptions {
    ReplayOptions {
        policy: Policy::default(),
        progress: None,
        arms: Vec::new(),
    }
}

#[tokio::test]
async fn resolv_replay_guard_and_limits_stop_the_first_mint() {
    require_anvil();
    let s = Scenario::load(&repo().join("incidents/resolv-usr-2026-03.toml"))
        .unwrap_or_else(|d| panic!("{d}"));
    let r = replay(&s, &opts()).await.expect("replay");
    assert_eq!(r.replayed_loss_without_guard_usd, 79_750_000.0);
    // The guard alone cannot stop the first block, but stops the second mint 80 minutes later.
    assert_eq!(r.loss_with_guard_usd, 49_850_000.0);
    assert_eq!(r.loss_with_guard_and_limits_usd, 0.0);
    assert_eq!(r.prevented_share, 1.0);
    let ft = r.first_trip.as_ref().expect("tripped");
    assert_eq!(
        (ft.rule.as_str(), ft.reason.as_str(), ft.step, ft.t_s),
        ("messages", "mismatch", Some(1), 0)
    );
    let arm = |name: &str| r.arm(name).unwrap_or_else(|| panic!("no arm {name}"));
    assert_eq!(
        arm("guard").paused_at_t_s,
        Some(12),
        "the pause lands one block after the trip"
    );
    assert_eq!(arm("guard-and-limits").attack_cancelled, 1);
    // The ablation: the limits alone queue the first mint, but nobody cancels it, so it is paid
    // after the delay.
    assert_eq!(arm("limits").loss_usd, r.replayed_loss_without_guard_usd);
    // The verifier refuses both mints: each asks for far more than its deposit.
    for v in ["verifier", "all"] {
        assert_eq!(arm(v).loss_usd, 0.0, "{v}");
        assert_eq!(arm(v).prevented_share, 1.0, "{v}");
        assert!(
            arm(v)
                .attestor_refusals
                .get("mismatch")
                .copied()
                .unwrap_or(0)
                >= 2,
            "{v}: {:?}",
            arm(v).attestor_refusals
        );
    }
    assert_eq!(r.false_trips, 0);
    // Deterministic: the same replay gives the same report.
    let again = replay(&s, &opts()).await.expect("replay");
    assert_eq!(again, r);
}

#[tokio::test]
async fn benign_traffic_trips_nothing_and_is_attested_at_the_depth() {
    require_anvil();
    // Two days at ten transfers a day per route, in all six arms (the replay gate of
    // scripts/test.sh runs three full-rate days).
    let shape = TrafficShape {
        transfers_per_day: 10.0,
        ..TrafficShape::default()
    };
    for s in benign::generate(2, 3, &shape) {
        let r = replay(&s, &opts()).await.expect("replay");
        assert_eq!(r.false_trips, 0, "{}: {:?}", s.incident.id, r.trips);
        assert_eq!(r.replayed_loss_without_guard_usd, 0.0);
        for a in &r.arms {
            assert_eq!(a.benign_blocked, 0, "{} {}", s.incident.id, a.arm);
            assert_eq!(a.benign_refused, 0, "{} {}", s.incident.id, a.arm);
        }
        // Every benign transfer is attested, after the confirmation depth and no later.
        let v = r.arm("verifier").and_then(|a| a.verifier_delay_blocks);
        let depth = opts().policy.verifier.confirmations;
        assert!(
            v.is_some_and(|d| d.max == depth && d.transfers > 0),
            "{}: {v:?}",
            s.incident.id
        );
    }
}

/// The lab runs the daemon with the actions its generated config names: with a policy whose
/// rules do not pause, the guard still trips (and reports) but the gateway is never paused, so
/// Resolv's second mint is paid.
#[tokio::test]
async fn a_trip_whose_rule_has_no_pause_action_does_not_pause() {
    require_anvil();
    let s = Scenario::load(&repo().join("incidents/resolv-usr-2026-03.toml"))
        .unwrap_or_else(|d| panic!("{d}"));
    let mut policy = Policy::default();
    policy.guard.pause_on.clear();
    let r = replay(
        &s,
        &ReplayOptions {
            policy,
            progress: None,
            arms: vec![ringfence_lab::runner::Arm::Guard],
        },
    )
    .await
    .expect("replay");
    let guard = r.arm("guard").expect("guard arm");
    assert!(guard.trips > 0, "the guard still trips");
    assert_eq!(guard.paused_at_t_s, None, "nothing paused");
    assert_eq!(
        r.loss_with_guard_usd, r.replayed_loss_without_guard_usd,
        "without a pause the guard alone prevents nothing"
    );
}

/// KelpDAO as it happened: the source-chain RPC nodes of the verifier were poisoned. In the
/// verifier arms one attestor's every endpoint and one endpoint of each other attestor lie; the
/// liars in a minority are outvoted, and a fully poisoned attestor alone is one signature short
/// of k. A split attacker under every size threshold gets no delivery either.
#[tokio::test]
async fn the_verifier_holds_against_poisoned_rpcs_and_split_messages() {
    require_anvil();
    let s = Scenario::load(&repo().join("incidents/kelpdao-rseth-split-variant.toml"))
        .unwrap_or_else(|d| panic!("{d}"));
    assert!(s.steps.iter().all(|x| x.rpc_poisoned));
    let r = replay(&s, &opts()).await.expect("replay");
    let arm = |name: &str| r.arm(name).unwrap_or_else(|| panic!("no arm {name}"));
    assert!(
        arm("guard-and-limits").loss_usd > 0.0,
        "the split passes the bucket's first block"
    );
    for v in ["verifier", "all"] {
        let a = arm(v);
        assert_eq!(a.loss_usd, 0.0, "{v}");
        assert!(
            a.attack_signatures > 0,
            "{v}: the poisoned attestor signed some pieces"
        );
        assert!(
            a.attack_signatures < s.steps.len(),
            "{v}: its rate rule stopped it"
        );
        assert_eq!(
            a.attestor_refusals.get("no-source-event").copied(),
            Some(2 * s.steps.len()),
            "{v}: both honest attestors refused every piece: {:?}",
            a.attestor_refusals
        );
    }
}

/// The admin path first: a proposal to make the attacker the only attestor trips the guard at
/// once (and pauses), and the timelock keeps the forged release unattested.
#[tokio::test]
async fn a_verifier_swap_trips_at_the_proposal_and_waits_out_its_timelock() {
    require_anvil();
    let s = Scenario::load(&repo().join("incidents/admin-verifier-swap-variant.toml"))
        .unwrap_or_else(|d| panic!("{d}"));
    let r = replay(&s, &opts()).await.expect("replay");
    let v = r.arm("verifier").expect("verifier arm");
    assert_eq!(v.loss_usd, 0.0);
    let ft = v.first_trip.as_ref().expect("tripped");
    assert_eq!((ft.rule.as_str(), ft.t_s), ("admin-changes", 0));
    assert_eq!(v.paused_at_t_s, Some(12));
    // What ringfence cannot stop: the same admin, a day later, past the timelock.
    let s = Scenario::load(&repo().join("incidents/beyond/admin-timelock-takeover.toml"))
        .unwrap_or_else(|d| panic!("{d}"));
    let r = replay(&s, &opts()).await.expect("replay");
    let v = r.arm("verifier").expect("verifier arm");
    assert_eq!(v.loss_usd, r.replayed_loss_without_guard_usd);
    assert_eq!(
        v.first_trip.as_ref().map(|f| f.t_s),
        Some(0),
        "a day's warning"
    );
}

/// Attacks the policy was never written next to: seeded synthetic incidents (classes, sizes,
/// splits, timing, poisoned RPCs, admin steps drawn at random). The verifier arm holds on each.
/// (Benign transfers caught behind a rightful pause or a pending verifier change are refused
/// here by design; false refusals are measured on benign-only traffic.)
#[tokio::test]
async fn the_verifier_holds_on_incidents_nobody_has_seen() {
    require_anvil();
    let opts = ReplayOptions {
        arms: vec![ringfence_lab::runner::Arm::Verifier],
        ..opts()
    };
    for s in ringfence_lab::synthetic::generate(3, 2026) {
        let r = replay(&s, &opts).await.expect("replay");
        assert!(
            r.replayed_loss_without_guard_usd > 0.0,
            "{}",
            s.incident.name
        );
        let v = r.arm("verifier").expect("verifier arm");
        assert!(
            v.prevented_share >= 0.99,
            "{}: {} prevented",
            s.incident.name,
            v.prevented_share
        );
    }
}
