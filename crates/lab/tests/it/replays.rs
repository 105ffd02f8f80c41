//! Real replays on anvil.

use ringfence_lab::benign::{self, TrafficShape};
use ringfence_lab::{Policy, ReplayOptions, Scenario, replay};

use crate::{repo, require_anvil};

fn opts() -> ReplayOptions {
    ReplayOptions {
        policy: Policy::default(),
        progress: None,
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
    assert_eq!(
        r.arms[1].paused_at_t_s,
        Some(12),
        "the pause lands one block after the trip"
    );
    assert_eq!(r.arms[2].attack_cancelled, 1);
    assert_eq!(r.false_trips, 0);
    // Deterministic: the same replay gives the same report.
    let again = replay(&s, &opts()).await.expect("replay");
    assert_eq!(again, r);
}

#[tokio::test]
async fn a_week_of_benign_traffic_trips_nothing() {
    require_anvil();
    let shape = TrafficShape {
        transfers_per_day: 10.0,
        ..TrafficShape::default()
    };
    for s in benign::generate(7, 3, &shape) {
        let r = replay(&s, &opts()).await.expect("replay");
        assert_eq!(r.false_trips, 0, "{}: {:?}", s.incident.id, r.trips);
        assert_eq!(r.replayed_loss_without_guard_usd, 0.0);
        for a in &r.arms {
            assert_eq!(a.benign_blocked, 0, "{} {}", s.incident.id, a.arm);
        }
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
        },
    )
    .await
    .expect("replay");
    let guard = &r.arms[1];
    assert!(guard.trips > 0, "the guard still trips");
    assert_eq!(guard.paused_at_t_s, None, "nothing paused");
    assert_eq!(
        r.loss_with_guard_usd, r.replayed_loss_without_guard_usd,
        "without a pause the guard alone prevents nothing"
    );
}
