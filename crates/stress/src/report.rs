//! The output contract of `ringfence stress`: JSON, a text table, and a self-contained HTML page
//! with a waterfall of losses by round and the Monte Carlo loss distribution (inline SVG).

use std::fmt::Write as _;

use ringfence_report::{esc, multiplier, page, usd};

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
        let mult = multiplier(o.multiplier);
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
            multiplier(o.multiplier)
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

/// One bar of the waterfall: where it starts and its coloured segments `(name, USD, colour)`.
struct Bar {
    label: String,
    base: f64,
    segs: Vec<(&'static str, f64, &'static str)>,
    total: bool,
}

/// The waterfall of losses, the same chart the dashboard draws: round 0 is the direct loss, each
/// later round stacks its liquidations, bad debt and outflows on top (rounds past the tenth fold
/// into one bar), the last bar is the total; a value axis with grid lines, a label on every bar,
/// a legend, and the multiplier.
fn waterfall(o: &Outcome) -> String {
    const PARTS: [(&str, &str); 4] = [
        ("direct", "#2b6cb0"),
        ("liquidations", "#dd6b20"),
        ("bad debt", "#b00020"),
        ("outflows", "#805ad5"),
    ];
    let segs_of = |r: &crate::propagate::Round| -> Vec<(&'static str, f64, &'static str)> {
        [
            r.direct_usd,
            r.liquidations_usd,
            r.bad_debt_usd,
            r.outflows_usd,
        ]
        .into_iter()
        .zip(PARTS)
        .filter(|(v, _)| *v > 0.0)
        .map(|(v, (name, colour))| (name, v, colour))
        .collect()
    };
    let mut bars: Vec<Bar> = Vec::new();
    let mut cum = 0.0;
    let mut folded: Option<(usize, usize, Bar)> = None;
    for (i, r) in o.rounds.iter().enumerate() {
        let segs = segs_of(r);
        let inc: f64 = segs.iter().map(|x| x.1).sum();
        if i > 0 && inc <= 0.0 {
            continue;
        }
        if bars.len() >= 11 {
            let f = folded.get_or_insert_with(|| {
                (
                    r.round,
                    r.round,
                    Bar {
                        label: String::new(),
                        base: cum,
                        segs: Vec::new(),
                        total: false,
                    },
                )
            });
            f.1 = r.round;
            for sg in segs {
                match f.2.segs.iter_mut().find(|x| x.0 == sg.0) {
                    Some(e) => e.1 += sg.1,
                    None => f.2.segs.push(sg),
                }
            }
        } else {
            bars.push(Bar {
                label: format!("round {}", r.round),
                base: cum,
                segs,
                total: false,
            });
        }
        cum += inc;
    }
    if let Some((from, to, mut bar)) = folded {
        bar.label = format!("rounds {from}–{to}");
        bars.push(bar);
    }
    let total = o.direct_loss_usd + o.secondary_damage_usd;
    bars.push(Bar {
        label: "total".into(),
        base: 0.0,
        segs: vec![("total", total, "#101828")],
        total: true,
    });
    let (w, h, l, b, t) = (1100.0_f64, 330.0_f64, 76.0_f64, 40.0_f64, 44.0_f64);
    let max = total.max(cum).max(1.0) * 1.08;
    let y = |v: f64| t + (h - t - b) * (1.0 - v / max);
    let step = (w - l - 20.0) / bars.len() as f64;
    let bw = (step * 0.65).min(70.0);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"100%\" role=\"img\" aria-label=\"waterfall of losses by round\" font-size=\"12\" font-family=\"sans-serif\">"
    );
    for i in 0..=4 {
        let v = max / 4.0 * f64::from(i);
        let _ = write!(
            s,
            "<line x1=\"{l}\" x2=\"{:.1}\" y1=\"{y:.1}\" y2=\"{y:.1}\" stroke=\"#e4e7ec\"/><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            w - 10.0,
            l - 6.0,
            y(v) + 4.0,
            usd(v),
            y = y(v)
        );
    }
    let _ = write!(
        s,
        "<line x1=\"{l}\" x2=\"{:.1}\" y1=\"{y0:.1}\" y2=\"{y0:.1}\" stroke=\"#344054\"/>",
        w - 10.0,
        y0 = y(0.0)
    );
    for (i, bar) in bars.iter().enumerate() {
        let x = l + step * i as f64 + (step - bw) / 2.0;
        let mut acc = bar.base;
        s.push_str("<g>");
        for (name, v, colour) in &bar.segs {
            let (y1, y0) = (y(acc + v), y(acc));
            let _ = write!(
                s,
                "<rect x=\"{x:.1}\" y=\"{y1:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" fill=\"{colour}\"><title>{} · {name}: {}</title></rect>",
                (y0 - y1).max(1.0),
                esc(&bar.label),
                usd(*v)
            );
            acc += v;
        }
        if i > 0 && !bar.total {
            let _ = write!(
                s,
                "<line x1=\"{:.1}\" x2=\"{x:.1}\" y1=\"{yb:.1}\" y2=\"{yb:.1}\" stroke=\"#98a2b3\" stroke-dasharray=\"3,3\"/>",
                x - (step - bw),
                yb = y(bar.base)
            );
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text></g>",
            x + bw / 2.0,
            y(acc) - 5.0,
            usd(acc - bar.base),
            x + bw / 2.0,
            h - b + 16.0,
            esc(&bar.label)
        );
    }
    let mult = multiplier(o.multiplier);
    let _ = write!(
        s,
        "<text x=\"{:.1}\" y=\"14\" text-anchor=\"end\" font-weight=\"700\">contagion multiplier {mult} = secondary {} / direct {}</text>",
        w - 12.0,
        usd(o.secondary_damage_usd),
        usd(o.direct_loss_usd)
    );
    for (i, (name, colour)) in PARTS
        .iter()
        .chain([("total", "#101828")].iter())
        .enumerate()
    {
        let x = l + i as f64 * 92.0;
        let _ = write!(
            s,
            "<rect x=\"{x:.1}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{:.1}\" y=\"13\">{name}</text>",
            x + 14.0
        );
    }
    s.push_str("</svg>");
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
