//! Replay results: the JSON contract, the text table and the summary over many incidents.

use std::fmt::Write as _;

use serde::Serialize;

/// The guard's first trip in an arm.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FirstTrip {
    /// Rule id (e.g. `messages`, `backing-WBTC`).
    pub rule: String,
    /// Machine-readable cause (`no-source`, `mismatch`, `replayed`, `unbacked`, …).
    pub reason: String,
    /// 1-based position, in time order, of the step whose transaction tripped it.
    pub step: Option<usize>,
    /// Seconds after the first malicious action.
    pub t_s: u64,
    /// Block on the lab chain.
    pub block: u64,
    /// The step's historical block, where the scenario gives it.
    pub historical_block: Option<u64>,
}

/// One trip.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TripRecord {
    /// Rule id.
    pub rule: String,
    /// Rule kind.
    pub kind: String,
    /// Cause.
    pub reason: String,
    /// `src` or `dst`.
    pub chain: String,
    /// Block on the lab chain.
    pub block: u64,
    /// Seconds after the first malicious action.
    pub t_s: u64,
    /// 1-based step, when a step's transaction caused it.
    pub step: Option<usize>,
    /// Whether that step was benign (a false trip).
    pub benign: bool,
}

/// The outcome of one arm.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArmReport {
    /// `no-controls`, `guard`, `guard-and-limits`.
    pub arm: &'static str,
    /// USD the attack got out (minted or released beyond what the source paid).
    pub loss_usd: f64,
    /// USD the attack got out in its first malicious block.
    pub first_block_loss_usd: f64,
    /// Attack steps paid out at once.
    pub attack_paid: usize,
    /// Attack steps queued by the delay.
    pub attack_queued: usize,
    /// Queued attack steps paid out after their delay.
    pub attack_executed_after_delay: usize,
    /// Queued attack steps the guard cancelled.
    pub attack_cancelled: usize,
    /// Attack steps the chain refused (paused, rate-limited).
    pub attack_rejected: usize,
    /// Benign steps delayed by the queue.
    pub benign_delayed: usize,
    /// Benign steps the chain refused (paused, rate-limited).
    pub benign_blocked: usize,
    /// Trips in this arm.
    pub trips: usize,
    /// Trips caused by benign steps.
    pub false_trips: usize,
    /// The first trip.
    pub first_trip: Option<FirstTrip>,
    /// When the guardian's pause was mined (seconds after t0).
    pub paused_at_t_s: Option<u64>,
}

/// The replay of one scenario: the output contract of `ringfence replay`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplayReport {
    /// Incident id.
    pub incident: String,
    /// Name.
    pub name: String,
    /// Class.
    pub class: &'static str,
    /// Loss history records.
    pub historical_loss_usd: f64,
    /// Arm 1: what the replayed attack got out with no controls.
    pub replayed_loss_without_guard_usd: f64,
    /// Arm 2: with the off-chain guard alone.
    pub loss_with_guard_usd: f64,
    /// Arm 3: with the guard and the on-chain limits.
    pub loss_with_guard_and_limits_usd: f64,
    /// 1 − arm 3 / arm 1.
    pub prevented_share: f64,
    /// 1 − arm 2 / arm 1.
    pub prevented_share_guard_alone: f64,
    /// Analytic figure for an attacker who knows the policy: it splits each asset's drain into
    /// transfers just under the delay threshold inside the first malicious block, so the token
    /// bucket's capacity is all it gets before the guard (which trips on that block) pauses.
    pub split_attacker_loss_usd: f64,
    /// 1 − that figure / arm 1.
    pub prevented_share_split_attacker: f64,
    /// The guard's first trip in arm 3.
    pub first_trip: Option<FirstTrip>,
    /// Every trip in arm 3.
    pub trips: Vec<TripRecord>,
    /// Benign steps delayed by the queue in arm 3.
    pub benign_delayed: usize,
    /// Trips on benign steps (arms 2 and 3).
    pub false_trips: usize,
    /// Whether arm 3 let nothing out at all (the attack stopped in its first malicious block).
    pub stopped_in_first_block: bool,
    /// Steps replayed.
    pub steps: usize,
    /// Per-arm detail.
    pub arms: Vec<ArmReport>,
}

/// Median and worst over many replays.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Summary {
    /// Incidents replayed (benign-only scenarios excluded).
    pub incidents: usize,
    /// Median prevented share.
    pub median_prevented_share: f64,
    /// Worst prevented share.
    pub worst_prevented_share: f64,
    /// Its incident.
    pub worst_incident: Option<String>,
    /// Median prevented share of the guard alone.
    pub median_prevented_share_guard_alone: f64,
    /// Trips on benign steps, all scenarios.
    pub false_trips: usize,
    /// Benign steps delayed, all scenarios.
    pub benign_delayed: usize,
    /// Benign steps replayed, all scenarios.
    pub benign_steps: usize,
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

impl Summary {
    /// Summary of reports; `benign_steps` counts benign steps of all scenarios.
    pub fn of(reports: &[ReplayReport], benign_steps: usize) -> Self {
        let attacks: Vec<&ReplayReport> = reports
            .iter()
            .filter(|r| r.replayed_loss_without_guard_usd > 0.0)
            .collect();
        let worst = attacks
            .iter()
            .min_by(|a, b| a.prevented_share.total_cmp(&b.prevented_share));
        Self {
            incidents: attacks.len(),
            median_prevented_share: median(attacks.iter().map(|r| r.prevented_share).collect()),
            worst_prevented_share: worst.map_or(0.0, |r| r.prevented_share),
            worst_incident: worst.map(|r| r.incident.clone()),
            median_prevented_share_guard_alone: median(
                attacks
                    .iter()
                    .map(|r| r.prevented_share_guard_alone)
                    .collect(),
            ),
            false_trips: reports.iter().map(|r| r.false_trips).sum(),
            benign_delayed: reports.iter().map(|r| r.benign_delayed).sum(),
            benign_steps,
        }
    }
}

fn usd(x: f64) -> String {
    if x >= 1e9 {
        format!("${:.2}B", x / 1e9)
    } else if x >= 1e6 {
        format!("${:.1}M", x / 1e6)
    } else if x >= 1e3 {
        format!("${:.1}k", x / 1e3)
    } else {
        format!("${x:.0}")
    }
}

fn pct(x: f64) -> String {
    format!("{:.2} %", x * 100.0)
}

/// The replay table (Markdown, so it pastes into the README).
pub fn table(reports: &[ReplayReport]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| incident | class | historical | replayed, no controls | guard alone | guard + limits | prevented | guard alone prevented | first trip (rule, step, t_s) | benign delayed | false trips |"
    );
    let _ = writeln!(
        s,
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |"
    );
    for r in reports {
        let attack = r.replayed_loss_without_guard_usd > 0.0;
        let ft = r.first_trip.as_ref().map_or("none".to_owned(), |f| {
            format!(
                "{} `{}`, step {}, t={} s",
                f.rule,
                f.reason,
                f.step.map_or("-".into(), |s| s.to_string()),
                f.t_s
            )
        });
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.incident,
            r.class,
            usd(r.historical_loss_usd),
            usd(r.replayed_loss_without_guard_usd),
            usd(r.loss_with_guard_usd),
            usd(r.loss_with_guard_and_limits_usd),
            if attack {
                pct(r.prevented_share)
            } else {
                "-".into()
            },
            if attack {
                pct(r.prevented_share_guard_alone)
            } else {
                "-".into()
            },
            ft,
            r.benign_delayed,
            r.false_trips
        );
    }
    s
}

/// What the false-trip figure measured: trips on benign steps out of the benign steps replayed
/// (each in the guard and guard + limits arms), or that none were replayed.
fn false_trip_text(s: &Summary) -> String {
    if s.benign_steps == 0 {
        "false trips: not measured (no benign steps replayed; add --benign DAYS)".to_owned()
    } else {
        format!(
            "false trips: {} over {} benign transfers (each replayed with the guard alone and with guard + limits); benign transfers delayed: {}",
            s.false_trips, s.benign_steps, s.benign_delayed
        )
    }
}

/// The summary as text.
pub fn summary_text(s: &Summary) -> String {
    if s.incidents == 0 {
        return format!("{}\n", false_trip_text(s));
    }
    format!(
        "median prevented share {} (guard alone {}), worst {} ({}), over {} incidents; {}\n",
        pct(s.median_prevented_share),
        pct(s.median_prevented_share_guard_alone),
        pct(s.worst_prevented_share),
        s.worst_incident.as_deref().unwrap_or("-"),
        s.incidents,
        false_trip_text(s)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(vec![]), 0.0);
    }

    #[test]
    fn false_trips_say_what_was_measured() {
        let mut s = Summary::of(&[], 0);
        let t = summary_text(&s);
        assert!(t.contains("not measured") && !t.contains("0 of 0"), "{t}");
        s.benign_steps = 5_396;
        let t = summary_text(&s);
        assert!(
            t.contains("false trips: 0 over 5396 benign transfers"),
            "{t}"
        );
    }

    #[test]
    fn usd_is_compact() {
        assert_eq!(usd(190_000_000.0), "$190.0M");
        assert_eq!(usd(1_500.0), "$1.5k");
        assert_eq!(usd(2.4e9), "$2.40B");
    }
}
