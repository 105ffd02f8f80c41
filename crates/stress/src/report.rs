//! The output contract of `ringfence stress`: JSON, a text table, and a self-contained HTML page
//! with a waterfall of losses by round and the Monte Carlo loss distribution (inline SVG).

use std::fmt::Write as _;

use ringfence_report::waterfall::{Losses, RoundLoss, Waterfall};
use ringfence_report::{esc, multiplier, page, usd};

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
    /// Reverse stress searches chains too (by default only what a team can act on: keys,
    /// verifier sets, operators, orgs, hostings and layers).
    pub include_chains: bool,
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
    /// P5/P50/P95 of the headline figures over the input ranges, and the tornado table.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncertainty: Option<Uncertainty>,
}

/// A report of more protocols than this lists only those the scenario touched, unless every row
/// is asked for (`ringfence stress --all`): 100,000 protocols are a 41 MB JSON document, most of
/// it rows where nothing happened.
pub const LIST_EVERY_PROTOCOL_UP_TO: usize = 1_000;

impl Report {
    /// Keeps in the per-protocol list only the protocols the scenario touched
    /// ([`crate::propagate::ProtocolOutcome::touched`]) and counts and sums the others in
    /// `protocols_left_out`.
    pub fn only_touched_protocols(&mut self) {
        let o = &mut self.outcome;
        let total = o.protocols.len() + o.protocols_left_out.map_or(0, |l| l.left_out);
        let mut left = o.protocols_left_out.unwrap_or_default();
        o.protocols.retain(|p| {
            if p.touched() {
                return true;
            }
            left.left_out += 1;
            left.assets_usd += p.assets_usd;
            left.clearing_payment_usd += p.clearing_payment_usd;
            left.equity_usd += p.equity_usd;
            false
        });
        left.protocols = total;
        o.protocols_left_out = Some(left);
    }

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
        if let Some(u) = &self.uncertainty {
            let _ = writeln!(
                s,
                "\nuncertainty: {} draws over {} ranged inputs (seed {}), P5 / P50 / P95",
                u.draws, u.inputs, u.seed
            );
            for (name, b, money) in bands(u) {
                let f = |x: f64| if money { usd(x) } else { multiplier(Some(x)) };
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
            multiplier(o.loss_multiplier),
            multiplier(o.disruption_multiplier)
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
        if let Some(l) = &o.protocols_left_out {
            let _ = writeln!(
                s,
                "  … and {} of {} protocols left out, untouched (no loss, default or flow): assets {}, payments {}, equity {}; --all lists them",
                l.left_out,
                l.protocols,
                usd(l.assets_usd),
                usd(l.clearing_payment_usd),
                usd(l.equity_usd)
            );
        }
        let _ = writeln!(
            s,
            "  loss: what the protocol lost · defaulted/wave: whether and in which clearing wave it \
             could not pay its claims in full · payment: what it pays its creditors on the claims \
             network at clearing · equity: its assets less its liabilities after the stress"
        );
    }

    /// A self-contained HTML page: the headline, the realized and the disrupted value, the
    /// waterfall, the protocols, and each analysis asked for.
    pub fn to_html(&self) -> String {
        let o = &self.outcome;
        let mut s = String::new();
        html_headline(&mut s, o);
        html_realized(&mut s, o);
        s.push_str("<h2>Losses by round</h2>");
        s.push_str(&waterfall(o).svg());
        html_protocols(&mut s, o);
        if let Some(rank) = &self.ranking {
            html_ranking(&mut s, rank);
        }
        if let Some(mc) = &self.monte_carlo {
            html_monte_carlo(&mut s, mc);
        }
        if let Some(u) = &self.uncertainty {
            html_uncertainty(&mut s, u);
        }
        page("ringfence stress test", &s)
    }
}

/// The heading: what failed, the direct and secondary realized loss, the disrupted value and the
/// multipliers.
fn html_headline(s: &mut String, o: &Outcome) {
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
        multiplier(o.loss_multiplier),
        usd(o.disrupted_value_usd),
        multiplier(o.disruption_multiplier)
    );
}

/// The realized loss line by line, each dollar once, and the disrupted value.
fn html_realized(s: &mut String, o: &Outcome) {
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
}

/// Each protocol's loss, default and flows, and the protocols left out.
fn html_protocols(s: &mut String, o: &Outcome) {
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
    if let Some(l) = &o.protocols_left_out {
        let _ = write!(
            s,
            "<p>{} of {} protocols left out, untouched (no loss, default or flow): assets {}, payments {}, equity {}. <code>--all</code> lists them.</p>",
            l.left_out,
            l.protocols,
            usd(l.assets_usd),
            usd(l.clearing_payment_usd),
            usd(l.equity_usd)
        );
    }
}

/// The ranking of single failures, the first 50.
fn html_ranking(s: &mut String, rank: &[Ranked]) {
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

/// The Monte Carlo summary and its histogram.
fn html_monte_carlo(s: &mut String, mc: &MonteCarlo) {
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

/// The P5/P50/P95 bands over the input ranges and the tornado table.
fn html_uncertainty(s: &mut String, u: &Uncertainty) {
    let _ = write!(
        s,
        "<h2>Ranges ({} draws over {} ranged inputs, seed {})</h2><table><tr><th>figure</th><th>P5</th><th>P50</th><th>P95</th></tr>",
        u.draws, u.inputs, u.seed
    );
    for (name, b, money) in bands(u) {
        let f = |x: f64| if money { usd(x) } else { multiplier(Some(x)) };
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

/// The ranking of single failures: the top `limit` rows, and what the rest are.
fn ranking_table(s: &mut String, rank: &[Ranked], limit: Option<usize>) {
    let _ = writeln!(
        s,
        "Every single failure, ranked by realized loss: direct (what the failure itself destroys) +\n\
         secondary (bad debt, liquidation penalties, fire-sale losses, holders' depeg downstream).\n\
         Disrupted is value that moved (liquidations, withdrawals), not lost. A chain failing loses\n\
         every asset on it.\n"
    );
    let _ = writeln!(
        s,
        "rank  component                          kind          direct      secondary   realized    disrupted"
    );
    let n = limit.map_or(rank.len(), |l| l.min(rank.len()));
    for (i, r) in rank.iter().take(n).enumerate() {
        let _ = writeln!(
            s,
            "{:>4}  {:<34} {:<13} {:<11} {:<11} {:<11} {}",
            i + 1,
            r.component,
            r.kind,
            usd(r.direct_loss_usd),
            usd(r.secondary_damage_usd),
            usd(r.total_damage_usd),
            usd(r.disrupted_value_usd)
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

/// The waterfall of realized loss of an outcome, laid out ([`ringfence_report::waterfall`]): the
/// chart of the HTML report, and the data `POST /api/stress` gives the dashboard to draw it.
pub fn waterfall(o: &Outcome) -> Waterfall {
    let rounds: Vec<RoundLoss> = o
        .rounds
        .iter()
        .map(|r| RoundLoss {
            round: r.round,
            direct_usd: r.direct_usd,
            bad_debt_usd: r.bad_debt_usd,
            liquidation_penalties_usd: r.liquidation_penalties_usd,
            fire_sale_losses_usd: r.fire_sale_losses_usd,
        })
        .collect();
    Waterfall::new(&Losses {
        rounds: &rounds,
        depeg_usd: o.realized.depeg_usd,
        clearing_costs_usd: o.realized.clearing_costs_usd,
        realized_loss_usd: o.realized_loss_usd,
        direct_loss_usd: o.direct_loss_usd,
        secondary_damage_usd: o.secondary_damage_usd,
        loss_multiplier: o.loss_multiplier,
    })
}

/// The Monte Carlo loss distribution as an SVG histogram.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_report_keeps_the_touched_protocols_and_sums_the_others() {
        // n0 cannot pay its external creditors; n1 and n2 are untouched.
        let text = "[[chain]]\nid = \"c\"\nchain_id = 1\n\n\
            [[protocol]]\nid = \"n0\"\nkind = \"vault\"\nchain = \"c\"\nexternal_assets_usd = 1\nexternal_liabilities_usd = 3\n\n\
            [[protocol]]\nid = \"n1\"\nkind = \"vault\"\nchain = \"c\"\nexternal_assets_usd = 5\n\n\
            [[protocol]]\nid = \"n2\"\nkind = \"vault\"\nchain = \"c\"\nexternal_assets_usd = 2\nexternal_liabilities_usd = 1\n\n\
            [[claim]]\ndebtor = \"n2\"\ncreditor = \"n1\"\namount_usd = 0.5\n";
        let model = ringfence_model::Model::from_str("t.toml", text).expect("valid");
        let sys = System::new(&model).expect("stress-ready");
        let mut r = sys.report(&Scenario::default(), &|_| {}).expect("runs");
        let all = r.clone();
        r.only_touched_protocols();
        let o = &r.outcome;
        assert_eq!(
            o.protocols
                .iter()
                .map(|p| p.id.as_str())
                .collect::<Vec<_>>(),
            ["n0"]
        );
        let left = o.protocols_left_out.expect("left out");
        assert_eq!((left.protocols, left.left_out), (3, 2));
        let sum = |f: fn(&crate::propagate::ProtocolOutcome) -> f64| {
            all.outcome.protocols[1..].iter().map(f).sum::<f64>()
        };
        assert_eq!(left.assets_usd, sum(|p| p.assets_usd));
        assert_eq!(left.clearing_payment_usd, sum(|p| p.clearing_payment_usd));
        assert_eq!(left.equity_usd, sum(|p| p.equity_usd));
        // Everything else is unchanged, and doing it twice changes nothing.
        assert_eq!(o.realized_loss_usd, all.outcome.realized_loss_usd);
        let once = r.clone();
        r.only_touched_protocols();
        assert_eq!(r, once);
        assert!(r.to_table(None).contains("2 of 3 protocols left out"));
        assert!(r.to_html().contains("2 of 3 protocols left out"));
        assert!(!all.to_table(None).contains("left out"));
    }

    /// Sixteen rounds, one of which (round 5) adds nothing: rounds 0 to 11 (less round 5) get a
    /// bar each, the eleventh bar being round 11, and rounds 12 to 15 fold into one that sums
    /// each part.
    fn sixteen_rounds() -> Outcome {
        use crate::propagate::{Realized, Round};
        let rounds = (0..16)
            .map(|i| Round {
                round: i,
                direct_usd: if i == 0 { 5e6 } else { 0.0 },
                bad_debt_usd: if i % 3 == 1 { 1e6 * i as f64 } else { 0.0 },
                liquidation_penalties_usd: if i % 2 == 0 && i > 0 { 3e5 } else { 0.0 },
                fire_sale_losses_usd: if i == 5 { 0.0 } else { 1e5 * i as f64 },
                ..Round::default()
            })
            .collect();
        Outcome {
            rounds,
            direct_loss_usd: 5e6,
            realized_loss_usd: 9e7,
            secondary_damage_usd: 8.5e7,
            loss_multiplier: Some(17.0),
            realized: Realized {
                depeg_usd: 2e6,
                clearing_costs_usd: 1e6,
                ..Realized::default()
            },
            ..Outcome::default()
        }
    }

    #[test]
    fn rounds_past_the_eleventh_bar_fold_into_one() {
        let o = sixteen_rounds();
        let w = waterfall(&o);
        let labels: Vec<&str> = w.bars.iter().map(|b| b.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "round 0",
                "round 1",
                "round 2",
                "round 3",
                "round 4",
                "round 6",
                "round 7",
                "round 8",
                "round 9",
                "round 10",
                "round 11",
                "rounds 12–15",
                "depeg",
                "clearing",
                "total"
            ]
        );
        let folded = &w.bars[11];
        let part = |name: &str| {
            folded
                .segments
                .iter()
                .find(|s| s.part == name)
                .map(|s| s.value_usd)
        };
        assert_eq!(part("bad debt"), Some(13e6));
        assert_eq!(part("liquidation penalties"), Some(6e5));
        assert_eq!(
            part("fire-sale losses"),
            Some(1e5 * (12.0 + 13.0 + 14.0 + 15.0))
        );
        // Every bar starts where the previous ones end; the total starts at zero.
        let mut cum = 0.0;
        for b in &w.bars[..w.bars.len() - 1] {
            assert_eq!(b.base_usd, cum, "{}", b.label);
            cum += b.segments.iter().map(|s| s.value_usd).sum::<f64>();
        }
        assert_eq!(w.stacked_usd, cum);
        assert_eq!(
            w.bars.last().map(|b| (b.base_usd, b.total)),
            Some((0.0, true))
        );
        // The HTML report draws exactly this layout.
        let r = Report {
            outcome: o,
            clearing: "en".into(),
            alpha: 0.0,
            beta: 0.0,
            ranking: None,
            reverse: None,
            monte_carlo: None,
            debtrank: None,
            uncertainty: None,
        };
        assert!(r.to_html().contains(&w.svg()));
        assert!(w.svg().contains(">rounds 12–15</text>"));
    }
}
