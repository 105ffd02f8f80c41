//! The output contract of `ringfence stress`: JSON, a text table, and a self-contained HTML page
//! with a waterfall of losses by round and the Monte Carlo loss distribution (inline SVG).

use std::fmt::Write as _;

use ringfence_report::{esc, page, usd};

use crate::analysis::{MonteCarlo, Ranked, Reverse};
use crate::error::{Error, Result};
use crate::propagate::{Outcome, StressParams};
use crate::system::System;
use crate::uncertainty::{Band, Uncertainty};

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
    /// Draws over the spec's input ranges (`[[range]]`), seeded by `seed`.
    pub uncertainty: Option<usize>,
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
        let uncertainty = match s.uncertainty {
            Some(n) => Some(crate::uncertainty::sample(
                self.model(),
                &failed,
                params,
                n,
                s.seed,
                progress,
            )?),
            None => None,
        };
        Ok(Report {
            uncertainty,
            outcome: self.run(&failed, params),
            clearing: params.clearing.name().into(),
            alpha: params.clearing.alpha,
            beta: params.clearing.beta,
            ranking: s.rank.then(|| self.rank(params)),
            reverse: s.reverse.map(|x| self.reverse(x, params)),
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
    /// P5/P50/P95 of the headline figures over the input ranges, and the tornado table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncertainty: Option<Uncertainty>,
}

impl Report {
    /// A human-readable table.
    pub fn to_table(&self) -> String {
        let o = &self.outcome;
        let mut s = String::new();
        let failed = if o.failed.is_empty() {
            "(none: the network as given)".to_owned()
        } else {
            o.failed.join(", ")
        };
        let _ = writeln!(s, "failed:              {failed}");
        let _ = writeln!(s, "direct loss:         {}", usd(o.direct_loss_usd));
        let _ = writeln!(
            s,
            "realized loss:       {} (direct + secondary {})",
            usd(o.realized_loss_usd),
            usd(o.secondary_damage_usd)
        );
        let r = &o.realized;
        let _ = writeln!(
            s,
            "  holders (depeg) {} · bad debt {} · liquidation penalties {} · fire-sale losses {} · clearing costs {}",
            usd(r.depeg_usd),
            usd(r.bad_debt_usd),
            usd(r.liquidation_penalties_usd),
            usd(r.fire_sale_usd),
            usd(r.clearing_costs_usd)
        );
        let _ = writeln!(
            s,
            "disrupted value:     {} (liquidations {} · withdrawals paid {}; blocked {}, forced sales {})",
            usd(o.disrupted_value_usd),
            usd(o.liquidations_usd),
            usd(o.outflows_usd),
            usd(o.withdrawals_blocked_usd),
            usd(o.forced_sales_usd)
        );
        let _ = writeln!(
            s,
            "loss multiplier:     {}   disruption multiplier: {}",
            ratio(o.loss_multiplier),
            ratio(o.disruption_multiplier)
        );
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
        if let Some(rank) = &self.ranking {
            let _ = writeln!(
                s,
                "\nrank  component                          direct      secondary   realized    disrupted"
            );
            for (i, r) in rank.iter().enumerate() {
                let _ = writeln!(
                    s,
                    "{:>4}  {:<34} {:<11} {:<11} {:<11} {}",
                    i + 1,
                    r.component,
                    usd(r.direct_loss_usd),
                    usd(r.secondary_damage_usd),
                    usd(r.total_damage_usd),
                    usd(r.disrupted_value_usd)
                );
            }
        }
        if let Some(r) = &self.reverse {
            let _ = writeln!(
                s,
                "\nreverse stress: to exceed {}: [{}] → {} ({})",
                usd(r.target_usd),
                r.components.join(", "),
                usd(r.total_damage_usd),
                if r.exhaustive { "smallest" } else { "greedy" }
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
        if let Some(u) = &self.uncertainty {
            let _ = writeln!(
                s,
                "\nuncertainty: {} draws over {} ranged inputs (seed {}), P5 / P50 / P95",
                u.draws, u.inputs, u.seed
            );
            for (name, b, money) in bands(u) {
                let f = |x: f64| if money { usd(x) } else { format!("{x:.1}:1") };
                let _ = writeln!(s, "  {name:<22} {} / {} / {}", f(b.p5), f(b.p50), f(b.p95));
            }
            let _ = writeln!(
                s,
                "\ntornado (realized loss with one input at its low / high end)"
            );
            for t in u.tornado.iter().take(15) {
                let _ = writeln!(
                    s,
                    "  {:<36} {:<22} [{} … {}]  {} … {}  (disrupted {} … {})",
                    t.entity,
                    t.field,
                    t.low,
                    t.high,
                    usd(t.realized_at_low_usd),
                    usd(t.realized_at_high_usd),
                    usd(t.disrupted_at_low_usd),
                    usd(t.disrupted_at_high_usd)
                );
            }
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
            "<h1>Stress: {}</h1><p>Direct loss <b>{}</b>; secondary realized loss <b>{}</b> (loss multiplier <b>{}</b>); disrupted value <b>{}</b> (disruption multiplier <b>{}</b>).</p>",
            esc(&failed),
            usd(o.direct_loss_usd),
            usd(o.secondary_damage_usd),
            ratio(o.loss_multiplier),
            usd(o.disrupted_value_usd),
            ratio(o.disruption_multiplier)
        );
        let r = &o.realized;
        let _ = write!(
            s,
            "<h2>Realized loss, each dollar once</h2><table><tr><th>line</th><th>USD</th></tr><tr><td>direct (attacker's take)</td><td>{}</td></tr><tr><td>holders of compromised assets (depeg)</td><td>{}</td></tr><tr><td>bad debt</td><td>{}</td></tr><tr><td>liquidation penalties</td><td>{}</td></tr><tr><td>fire-sale losses</td><td>{}</td></tr><tr><td>clearing costs</td><td>{}</td></tr><tr><th>realized loss</th><th>{}</th></tr></table><h2>Disrupted value (moved, not lost)</h2><table><tr><td>liquidations</td><td>{}</td></tr><tr><td>withdrawals paid</td><td>{}</td></tr><tr><td>withdrawals blocked</td><td>{}</td></tr><tr><td>forced sales</td><td>{}</td></tr></table>",
            usd(o.direct_loss_usd),
            usd(r.depeg_usd),
            usd(r.bad_debt_usd),
            usd(r.liquidation_penalties_usd),
            usd(r.fire_sale_usd),
            usd(r.clearing_costs_usd),
            usd(o.realized_loss_usd),
            usd(o.liquidations_usd),
            usd(o.outflows_usd),
            usd(o.withdrawals_blocked_usd),
            usd(o.forced_sales_usd)
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
        if let Some(u) = &self.uncertainty {
            let _ = write!(
                s,
                "<h2>Ranges ({} draws over {} ranged inputs, seed {})</h2><table><tr><th>figure</th><th>P5</th><th>P50</th><th>P95</th></tr>",
                u.draws, u.inputs, u.seed
            );
            for (name, b, money) in bands(u) {
                let f = |x: f64| if money { usd(x) } else { format!("{x:.1}:1") };
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(name),
                    f(b.p5),
                    f(b.p50),
                    f(b.p95)
                );
            }
            s.push_str("</table><h2>Tornado: realized loss with one input at each end of its range</h2><table><tr><th>input</th><th>range</th><th>at low</th><th>at high</th><th>disrupted at low</th><th>disrupted at high</th><th>source</th></tr>");
            for t in &u.tornado {
                let _ = write!(
                    s,
                    "<tr><td>{}.{}</td><td>{} … {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    esc(&t.entity),
                    esc(&t.field),
                    t.low,
                    t.high,
                    usd(t.realized_at_low_usd),
                    usd(t.realized_at_high_usd),
                    usd(t.disrupted_at_low_usd),
                    usd(t.disrupted_at_high_usd),
                    esc(t.source.as_deref().unwrap_or(""))
                );
            }
            s.push_str("</table>");
        }
        page("ringfence stress test", &s)
    }
}

/// The headline figures of an uncertainty run: `(name, band, whether it is money)`.
fn bands(u: &Uncertainty) -> [(&'static str, Band, bool); 8] {
    [
        ("direct loss", u.direct_loss_usd, true),
        ("realized loss", u.realized_loss_usd, true),
        ("secondary realized", u.secondary_loss_usd, true),
        ("loss multiplier", u.loss_multiplier, false),
        ("disrupted value", u.disrupted_value_usd, true),
        ("disruption multiplier", u.disruption_multiplier, false),
        ("bad debt", u.bad_debt_usd, true),
        ("withdrawals paid", u.outflows_usd, true),
    ]
}

fn ratio(m: Option<f64>) -> String {
    m.map_or_else(|| "n/a".to_owned(), |m| format!("{m:.1}:1"))
}

/// Waterfall of realized loss: round 0 is the direct loss, then each round's bad debt,
/// liquidation penalties and fire-sale losses stacked on top (the holders' depeg loss is settled
/// at the end, in the table).
fn waterfall(o: &Outcome) -> String {
    let steps: Vec<(String, f64)> = o
        .rounds
        .iter()
        .map(|r| {
            let v = if r.round == 0 {
                r.direct_usd
            } else {
                r.bad_debt_usd + r.liquidation_penalties_usd + r.fire_sale_losses_usd
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
