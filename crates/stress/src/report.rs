//! The output contract of `ringfence stress`: JSON, a text table, and a self-contained HTML page
//! with a waterfall of losses by round and the Monte Carlo loss distribution (inline SVG).

use std::fmt::Write as _;

use ringfence_report::{esc, page, usd};

use crate::analysis::{MonteCarlo, Ranked, Reverse};
use crate::error::{Error, Result};
use crate::propagate::{Outcome, StressParams};
use crate::system::System;

/// What `ringfence stress` and `POST /api/stress` run: the failed components, the engine
/// parameters and the analyses asked for.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scenario {
    /// Components that fail jointly (ids, including `org:<name>` and `hosting:<name>`).
    pub fail: Vec<String>,
    /// Engine parameters (clearing model…).
    pub params: StressParams,
    /// Rank every single-component failure.
    pub rank: bool,
    /// Smallest set of components whose joint failure exceeds this loss, USD.
    pub reverse: Option<f64>,
    /// Monte Carlo draws.
    pub monte_carlo: Option<usize>,
    /// Monte Carlo seed.
    pub seed: u64,
    /// DebtRank of each protocol defaulting alone.
    pub debtrank: bool,
    /// Reverse stress searches chains too (by default only what a team can act on: keys,
    /// verifier sets, operators, orgs, hostings and layers).
    pub include_chains: bool,
}

impl System<'_> {
    /// Runs a scenario and every analysis it asks for; `progress` is told how many Monte Carlo
    /// draws are done.
    pub fn report(&self, s: &Scenario, progress: &(dyn Fn(usize) + Sync)) -> Result<Report> {
        let failed = self.resolve(&s.fail)?;
        if let Some(x) = s.reverse
            && !(x.is_finite() && x >= 0.0)
        {
            return Err(Error::InvalidAmount {
                what: "the reverse-stress loss (USD)".into(),
                value: x,
            });
        }
        let params = &s.params;
        let debtrank = if s.debtrank {
            let ids = self.model().protocols.iter().map(|p| p.id.clone());
            let rows = self.debtrank_by_default(params)?;
            Some(
                rows.into_iter()
                    .map(|(defaulted, h, add, single)| DebtRankRow {
                        defaulted,
                        h: ids.clone().zip(h).collect(),
                        additional_stress: add,
                        single_hit_additional_stress: single,
                    })
                    .collect(),
            )
        } else {
            None
        };
        Ok(Report {
            outcome: self.run(&failed, params),
            clearing: params.clearing.name().into(),
            alpha: params.clearing.alpha,
            beta: params.clearing.beta,
            ranking: s.rank.then(|| self.rank(params)),
            reverse: s
                .reverse
                .map(|x| self.reverse_among(x, params, &self.actionable(s.include_chains))),
            monte_carlo: s
                .monte_carlo
                .map(|n| self.monte_carlo(n, s.seed, params, progress)),
            debtrank,
        })
    }
}

/// DebtRank of one protocol defaulting alone.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DebtRankRow {
    /// The protocol that defaults.
    pub defaulted: String,
    /// Final stress of every protocol, `(id, h)`.
    pub h: Vec<(String, f64)>,
    /// Additional stress, differential DebtRank.
    pub additional_stress: f64,
    /// Additional stress, single-hit DebtRank (for comparison).
    pub single_hit_additional_stress: f64,
}

/// Everything `ringfence stress` prints. Optional sections appear when asked for.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// The scenario.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// `en` or `rv`.
    pub clearing: String,
    /// Rogers–Veraart α.
    pub alpha: f64,
    /// Rogers–Veraart β.
    pub beta: f64,
    /// Every single-component failure, ranked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ranking: Option<Vec<Ranked>>,
    /// Reverse stress.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reverse: Option<Reverse>,
    /// Monte Carlo.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monte_carlo: Option<MonteCarlo>,
    /// DebtRank of each protocol defaulting alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub debtrank: Option<Vec<DebtRankRow>>,
}

impl Report {
    /// A human-readable table; `limit` caps the ranking's rows (`None`: every row), and a cut
    /// ranking says how many rows it left out. Asked for a ranking alone (no `--fail`), it leaves
    /// out the scenario of the network as given, which fails nothing.
    pub fn to_table(&self, limit: Option<usize>) -> String {
        let mut s = String::new();
        if !(self.outcome.failed.is_empty()
            && (self.ranking.is_some() || self.reverse.is_some() || self.monte_carlo.is_some()))
        {
            self.scenario_table(&mut s);
        }
        if let Some(rank) = &self.ranking {
            ranking_table(&mut s, rank, limit);
        }
        if let Some(r) = &self.reverse {
            let found = if r.components.is_empty() {
                "no set found".to_owned()
            } else {
                format!("[{}]", r.components.join(", "))
            };
            let _ = writeln!(
                s,
                "\nreverse stress: to exceed {}: {found} → {} ({}; searched {}, {} sets evaluated)",
                usd(r.target_usd),
                usd(r.total_damage_usd),
                if r.exhaustive { "smallest" } else { "greedy" },
                if r.chains_searched {
                    "every component, chains included"
                } else {
                    "keys, verifier sets, operators, orgs, hostings and layers; --include-chains adds chains"
                },
                r.evaluated
            );
        }
        if let Some(mc) = &self.monte_carlo {
            let _ = writeln!(
                s,
                "\nmonte carlo: {} draws (seed {}): mean {} · VaR95 {} · VaR99 {} · ES99 {} · P(any failure) {:.4}",
                mc.draws,
                mc.seed,
                usd(mc.mean_loss_usd),
                usd(mc.var95_usd),
                usd(mc.var99_usd),
                usd(mc.es99_usd),
                mc.p_any_failure
            );
        }
        if let Some(d) = &self.debtrank {
            let _ = writeln!(
                s,
                "\ndebtrank (protocol defaults alone): additional stress, differential / single-hit"
            );
            for r in d {
                let _ = writeln!(
                    s,
                    "  {:<20} {:.6} / {:.6}",
                    r.defaulted, r.additional_stress, r.single_hit_additional_stress
                );
            }
        }
        s
    }

    /// The scenario: totals, rounds and protocols.
    fn scenario_table(&self, s: &mut String) {
        let o = &self.outcome;
        let failed = if o.failed.is_empty() {
            "(none: the network as given)".to_owned()
        } else {
            o.failed.join(", ")
        };
        let _ = writeln!(s, "failed:              {failed}");
        let _ = writeln!(s, "direct loss:         {}", usd(o.direct_loss_usd));
        let _ = writeln!(s, "secondary damage:    {}", usd(o.secondary_damage_usd));
        let _ = writeln!(
            s,
            "  liquidations {} · bad debt {} · outflows {} · default costs {}",
            usd(o.liquidations_usd),
            usd(o.bad_debt_usd),
            usd(o.outflows_usd),
            usd(o.default_costs_usd)
        );
        let mult = o
            .multiplier
            .map_or_else(|| "n/a".to_owned(), |m| format!("{m:.1}:1"));
        let _ = writeln!(s, "multiplier:          {mult}");
        let _ = writeln!(
            s,
            "\nround  direct      liquidations  bad debt    outflows    claim losses  defaults"
        );
        for r in &o.rounds {
            let _ = writeln!(
                s,
                "{:>5}  {:<10}  {:<12}  {:<10}  {:<10}  {:<12}  {}",
                r.round,
                usd(r.direct_usd),
                usd(r.liquidations_usd),
                usd(r.bad_debt_usd),
                usd(r.outflows_usd),
                usd(r.claim_losses_usd),
                r.new_defaults.join(",")
            );
        }
        let _ = writeln!(
            s,
            "\nprotocol             loss        defaulted  wave  payment      equity"
        );
        for p in &o.protocols {
            let _ = writeln!(
                s,
                "{:<20} {:<11} {:<10} {:<5} {:<12} {}",
                p.id,
                usd(p.loss_usd),
                p.defaulted,
                p.wave,
                usd(p.clearing_payment_usd),
                usd(p.equity_usd)
            );
        }
        let _ = writeln!(
            s,
            "  loss: what the protocol lost · defaulted/wave: whether and in which clearing wave it \
             could not pay its claims in full · payment: what it pays its creditors on the claims \
             network at clearing · equity: its assets less its liabilities after the stress"
        );
    }

    /// A self-contained HTML page.
    pub fn to_html(&self) -> String {
        let o = &self.outcome;
        let mut s = String::new();
        let failed = if o.failed.is_empty() {
            "the network as given".to_owned()
        } else {
            o.failed.join(", ")
        };
        let _ = write!(
            s,
            "<h1>Stress: {}</h1><p>Direct loss <b>{}</b>, secondary damage <b>{}</b>, multiplier <b>{}</b>.</p>",
            esc(&failed),
            usd(o.direct_loss_usd),
            usd(o.secondary_damage_usd),
            o.multiplier.map_or("n/a".into(), |m| format!("{m:.1}:1"))
        );
        s.push_str("<h2>Losses by round</h2>");
        s.push_str(&waterfall(o));
        s.push_str("<h2>Protocols</h2><table><tr><th>protocol</th><th>loss</th><th>defaulted</th><th>wave</th><th>outflows</th><th>bad debt</th></tr>");
        for p in &o.protocols {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&p.id),
                usd(p.loss_usd),
                p.defaulted,
                p.wave,
                usd(p.outflows_usd),
                usd(p.bad_debt_usd)
            );
        }
        s.push_str("</table>");
        if let Some(rank) = &self.ranking {
            s.push_str("<h2>Ranking of single failures</h2><table><tr><th>component</th><th>direct</th><th>secondary</th><th>total</th></tr>");
            for r in rank.iter().take(50) {
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&r.component),
                    usd(r.direct_loss_usd),
                    usd(r.secondary_damage_usd),
                    usd(r.total_damage_usd)
                );
            }
            s.push_str("</table>");
        }
        if let Some(mc) = &self.monte_carlo {
            let _ = write!(
                s,
                "<h2>Monte Carlo ({} draws)</h2><p>mean {} · VaR95 {} · VaR99 {} · ES99 {}</p>",
                mc.draws,
                usd(mc.mean_loss_usd),
                usd(mc.var95_usd),
                usd(mc.var99_usd),
                usd(mc.es99_usd)
            );
            s.push_str(&histogram(mc));
        }
        page("ringfence stress test", &s)
    }
}

/// The ranking of single failures: the top `limit` rows, and what the rest are.
fn ranking_table(s: &mut String, rank: &[Ranked], limit: Option<usize>) {
    let _ = writeln!(
        s,
        "Every single failure, ranked by total damage (direct loss + secondary damage downstream).\n\
         A chain failing loses every asset on it; secondary damage counts what moves (liquidations,\n\
         withdrawals) as well as what is lost, so a row's total can exceed the ecosystem's value.\n"
    );
    let _ = writeln!(
        s,
        "rank  component                          kind          direct      secondary   total"
    );
    let n = limit.map_or(rank.len(), |l| l.min(rank.len()));
    for (i, r) in rank.iter().take(n).enumerate() {
        let _ = writeln!(
            s,
            "{:>4}  {:<34} {:<13} {:<11} {:<11} {}",
            i + 1,
            r.component,
            r.kind,
            usd(r.direct_loss_usd),
            usd(r.secondary_damage_usd),
            usd(r.total_damage_usd)
        );
    }
    let rest = &rank[n..];
    if !rest.is_empty() {
        let zero = rest.iter().filter(|r| r.total_damage_usd == 0.0).count();
        let _ = writeln!(
            s,
            "  … and {} more, {zero} of which cause no loss (see --format json, or --all)",
            rest.len()
        );
    }
}

/// Waterfall: round 0 is the direct loss, then each round's secondary damage stacked on top.
fn waterfall(o: &Outcome) -> String {
    let steps: Vec<(String, f64)> = o
        .rounds
        .iter()
        .map(|r| {
            let v = if r.round == 0 {
                r.direct_usd
            } else {
                r.liquidations_usd + r.bad_debt_usd + r.outflows_usd
            };
            (format!("round {}", r.round), v.max(0.0))
        })
        .collect();
    let total: f64 = steps.iter().map(|x| x.1).sum();
    let (w, h, pad) = (720.0, 260.0, 30.0);
    let n = steps.len().max(1) as f64 + 1.0;
    let bw = (w - 2.0 * pad) / n;
    let scale = if total > 0.0 {
        (h - 2.0 * pad) / total
    } else {
        0.0
    };
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"waterfall of losses by round\">"
    );
    let mut acc = 0.0;
    for (i, (label, v)) in steps.iter().enumerate() {
        let x = pad + i as f64 * bw;
        let y = h - pad - (acc + v) * scale;
        let colour = if i == 0 { "#c0392b" } else { "#e67e22" };
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\"><title>{label}: {}</title></rect><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
            bw * 0.8,
            (v * scale).max(0.5),
            usd(*v),
            x + bw * 0.4,
            h - pad + 12.0,
            label.trim_start_matches("round ")
        );
        acc += v;
    }
    let x = pad + steps.len() as f64 * bw;
    let _ = write!(
        s,
        "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"#7f8c8d\"><title>total: {}</title></rect><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" text-anchor=\"middle\">total {}</text></svg>",
        h - pad - total * scale,
        bw * 0.8,
        (total * scale).max(0.5),
        usd(total),
        x + bw * 0.4,
        h - pad + 12.0,
        usd(total)
    );
    s
}

fn histogram(mc: &MonteCarlo) -> String {
    let (w, h, pad) = (720.0, 220.0, 30.0);
    let max = mc.histogram.iter().map(|x| x.1).max().unwrap_or(0).max(1) as f64;
    let n = mc.histogram.len().max(1) as f64;
    let bw = (w - 2.0 * pad) / n;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"Monte Carlo loss distribution\">"
    );
    for (i, (edge, c)) in mc.histogram.iter().enumerate() {
        let bh = (*c as f64 / max) * (h - 2.0 * pad);
        let _ = write!(
            s,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{bh:.1}\" fill=\"#2980b9\"><title>≤ {}: {c} draws</title></rect>",
            pad + i as f64 * bw,
            h - pad - bh,
            bw * 0.9,
            usd(*edge)
        );
    }
    let _ = write!(
        s,
        "<text x=\"{pad}\" y=\"{:.1}\" font-size=\"10\">non-zero losses, log-spaced bins; {} of {} draws had a failure</text></svg>",
        h - 8.0,
        (mc.p_any_failure * mc.draws as f64).round(),
        mc.draws
    );
    s
}
