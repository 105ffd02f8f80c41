//! Replay results: the JSON contract, the text table and the summary over many incidents.

use std::fmt::Write as _;

use ringfence_report::usd;

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
    /// `no-controls`, `guard`, `limits`, `guard-and-limits`, `verifier`, `all`.
    #[serde(skip)]
    pub arm: &'static str,
    /// USD the attack got out (minted or released beyond what the source paid).
    pub loss_usd: f64,
    /// 1 − this arm's loss / the `no-controls` loss (1 when nothing could be lost).
    pub prevented_share: f64,
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
    /// Benign steps never paid out by the end of the replay (refused by the chain, cancelled,
    /// or — in the verifier arms — never attested by k attestors).
    pub benign_refused: usize,
    /// Verifier arms: blocks from a benign transfer's source event to its k-th attestation,
    /// median and worst (`null` in arms without a verifier).
    pub verifier_delay_blocks: Option<DelayBlocks>,
    /// Verifier arms: attestor signatures given to attack messages (a poisoned attestor's
    /// signature counts; a delivery needs k of them on one attestation).
    pub attack_signatures: usize,
    /// Verifier arms: the attestors' refusals by reason (`no-source-event`, `mismatch`,
    /// `rule-would-trip`, `verifier-config-changed`, …), each attestor counting a message once.
    pub attestor_refusals: std::collections::BTreeMap<String, usize>,
    /// The admin steps made in this arm and whether the chain accepted them.
    pub admin: Vec<AdminOutcome>,
    /// Trips in this arm.
    pub trips: usize,
    /// Trips caused by benign steps.
    pub false_trips: usize,
    /// The first trip.
    pub first_trip: Option<FirstTrip>,
    /// When the guardian's pause was mined (seconds after t0).
    pub paused_at_t_s: Option<u64>,
}

/// One admin step's fate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AdminOutcome {
    /// 1-based step.
    pub step: usize,
    /// The action.
    pub action: &'static str,
    /// Whether the chain accepted it (a timelocked execution before its time reverts).
    pub succeeded: bool,
}

/// Blocks a legitimate transfer waited for the verifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct DelayBlocks {
    /// Median over the benign transfers attested.
    pub median: u64,
    /// Worst.
    pub max: u64,
    /// Benign transfers attested.
    pub transfers: usize,
}

impl DelayBlocks {
    /// The median and worst of `v`; `None` when empty.
    pub fn of(mut v: Vec<u64>) -> Option<Self> {
        if v.is_empty() {
            return None;
        }
        v.sort_unstable();
        Some(Self {
            median: v[v.len() / 2],
            max: v[v.len() - 1],
            transfers: v.len(),
        })
    }
}

/// Something reported per arm.
trait PerArm: Serialize {
    fn arm(&self) -> &'static str;
}

impl PerArm for ArmReport {
    fn arm(&self) -> &'static str {
        self.arm
    }
}

impl PerArm for ArmSummary {
    fn arm(&self) -> &'static str {
        self.arm
    }
}

/// Serialises per-arm values as a JSON object keyed by arm name, in arm order.
fn by_arm<T: PerArm, S: serde::Serializer>(arms: &[T], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap as _;
    let mut m = s.serialize_map(Some(arms.len()))?;
    for a in arms {
        m.serialize_entry(a.arm(), a)?;
    }
    m.end()
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
    /// 1 − `guard-and-limits` / `no-controls` (kept at the top level for compatibility; every
    /// arm's share is in `arms`).
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
    /// Per-arm detail, as `{ "<arm>": {…} }` in arm order.
    #[serde(serialize_with = "by_arm")]
    pub arms: Vec<ArmReport>,
}

impl ReplayReport {
    /// The arm named `name`.
    pub fn arm(&self, name: &str) -> Option<&ArmReport> {
        self.arms.iter().find(|a| a.arm == name)
    }
}

/// One arm over many replays.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ArmSummary {
    /// The arm.
    #[serde(skip)]
    pub arm: &'static str,
    /// Median prevented share over the incidents.
    pub median_prevented_share: f64,
    /// Worst prevented share.
    pub worst_prevented_share: f64,
    /// Its incident.
    pub worst_incident: Option<String>,
    /// Trips on benign steps, all scenarios.
    pub false_trips: usize,
    /// Benign steps delayed, all scenarios.
    pub benign_delayed: usize,
    /// Benign steps never paid out, all scenarios.
    pub benign_refused: usize,
    /// Worst verifier delay of a benign transfer (blocks), all scenarios.
    pub verifier_delay_blocks_max: Option<u64>,
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
    /// Median and worst per arm, as `{ "<arm>": {…} }`.
    #[serde(serialize_with = "by_arm")]
    pub arms: Vec<ArmSummary>,
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
            arms: arm_names(reports)
                .into_iter()
                .map(|arm| ArmSummary::of(arm, &attacks, reports))
                .collect(),
        }
    }

    /// The summary of arm `name`.
    pub fn arm(&self, name: &str) -> Option<&ArmSummary> {
        self.arms.iter().find(|a| a.arm == name)
    }
}

/// The arm names of the reports, in first-seen order.
fn arm_names(reports: &[ReplayReport]) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for a in reports.iter().flat_map(|r| &r.arms) {
        if !out.contains(&a.arm) {
            out.push(a.arm);
        }
    }
    out
}

impl ArmSummary {
    fn of(arm: &'static str, attacks: &[&ReplayReport], all: &[ReplayReport]) -> Self {
        let shares: Vec<(f64, &str)> = attacks
            .iter()
            .filter_map(|r| r.arm(arm).map(|a| (a.prevented_share, r.incident.as_str())))
            .collect();
        let worst = shares.iter().min_by(|a, b| a.0.total_cmp(&b.0));
        let arms = || all.iter().filter_map(|r| r.arm(arm));
        Self {
            arm,
            median_prevented_share: median(shares.iter().map(|x| x.0).collect()),
            worst_prevented_share: worst.map_or(0.0, |x| x.0),
            worst_incident: worst.map(|x| x.1.to_owned()),
            false_trips: arms().map(|a| a.false_trips).sum(),
            benign_delayed: arms().map(|a| a.benign_delayed).sum(),
            benign_refused: arms().map(|a| a.benign_refused).sum(),
            verifier_delay_blocks_max: arms()
                .filter_map(|a| a.verifier_delay_blocks.map(|d| d.max))
                .max(),
        }
    }
}

/// Prevented shares with two decimals (93.75 %, not 93.8 %): one rule, `ringfence_report`.
fn pct(x: f64) -> String {
    ringfence_report::pct_digits(x, 2)
}

/// The replay table (Markdown, so it pastes into the README).
pub fn table(reports: &[ReplayReport]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| incident | class | historical | replayed, no controls | guard alone | limits alone | guard + limits | verifier | all | prevented (guard + limits) | prevented (verifier) | first trip (rule, step, t_s) | benign delayed | benign refused | false trips |"
    );
    let _ = writeln!(
        s,
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |"
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
        let loss = |arm: &str| r.arm(arm).map_or("-".to_owned(), |a| usd(a.loss_usd));
        let share = |arm: &str| match r.arm(arm) {
            Some(a) if attack => pct(a.prevented_share),
            _ => "-".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.incident,
            r.class,
            usd(r.historical_loss_usd),
            usd(r.replayed_loss_without_guard_usd),
            loss("guard"),
            loss("limits"),
            loss("guard-and-limits"),
            loss("verifier"),
            loss("all"),
            share("guard-and-limits"),
            share("verifier"),
            ft,
            r.benign_delayed,
            r.arms.iter().map(|a| a.benign_refused).max().unwrap_or(0),
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
            "false trips: {} over {} benign transfers (each replayed in the six arms); benign transfers delayed: {}",
            s.false_trips, s.benign_steps, s.benign_delayed
        )
    }
}

/// The summary as text: the headline (guard + limits, as before), then one line per arm.
pub fn summary_text(s: &Summary) -> String {
    if s.incidents == 0 {
        return format!("{}\n", false_trip_text(s));
    }
    let mut out = format!(
        "median prevented share {} (guard alone {}), worst {} ({}), over {} incidents; {}\n",
        pct(s.median_prevented_share),
        pct(s.median_prevented_share_guard_alone),
        pct(s.worst_prevented_share),
        s.worst_incident.as_deref().unwrap_or("-"),
        s.incidents,
        false_trip_text(s)
    );
    for a in s.arms.iter().filter(|a| a.arm != "no-controls") {
        let _ = writeln!(
            out,
            "  {:<16} median {:>8}, worst {:>8} ({}); benign: {} delayed, {} refused, {} false trips{}",
            a.arm,
            pct(a.median_prevented_share),
            pct(a.worst_prevented_share),
            a.worst_incident.as_deref().unwrap_or("-"),
            a.benign_delayed,
            a.benign_refused,
            a.false_trips,
            a.verifier_delay_blocks_max
                .map_or(String::new(), |b| format!("; verifier delay ≤ {b} blocks"))
        );
    }
    out
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
}
