//! Calibrate on one incident, validate on another.
//!
//! A calibration file names the free parameters (a field shared by a list of entities, with the
//! range to search), the incident to fit them on (components that fail, the figures reported
//! with their ranges) and the incidents to validate on. [`calibrate`] fits the parameters by
//! minimising the squared log error over the fit incident's targets (a coarse grid, then
//! coordinate refinement), then runs the validation incidents with the fitted model, unchanged,
//! and reports every target's model value and error. Nothing is re-tuned on a validation
//! incident.

use ringfence_model::{Model, RangeTarget};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::propagate::{Outcome, StressParams};
use crate::system::System;
use crate::uncertainty::set_input;

/// The calibration file.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CalibrationFile {
    /// Free parameters.
    #[serde(rename = "param")]
    pub params: Vec<FreeParam>,
    /// The incident the parameters are fitted on.
    pub fit: Incident,
    /// Incidents run with the fitted parameters, unchanged.
    #[serde(default, rename = "validate")]
    pub validate: Vec<Incident>,
}

impl CalibrationFile {
    /// Parses a calibration file; the error names the line and column.
    pub fn from_toml(text: &str) -> Result<Self> {
        toml::from_str(text).map_err(|e| Error::Invalid {
            entity: "calibration file".into(),
            message: e.to_string(),
        })
    }
}

/// A free parameter: one value for `field` on every entity listed.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FreeParam {
    /// Asset or protocol ids (or `protocol/market`).
    pub entities: Vec<String>,
    /// The field (as in `[[range]]`).
    pub field: String,
    /// Lowest value searched.
    pub low: f64,
    /// Highest value searched.
    pub high: f64,
    /// Why it is free.
    #[serde(default)]
    pub source: Option<String>,
}

/// An incident: what fails, and what was reported.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Incident {
    /// Its name.
    pub name: String,
    /// Components that fail.
    pub fail: Vec<String>,
    /// Reported figures.
    #[serde(rename = "target")]
    pub targets: Vec<Target>,
    /// Markets whose collateral the issuer froze during the incident (see [`Frozen`]).
    #[serde(default)]
    pub frozen: Vec<Frozen>,
}

/// A market whose collateral its issuer froze during the incident (a paused token, a
/// blacklisted holder): liquidators cannot seize it, so nothing liquidates, and a borrower who
/// will not repay (the attacker, who posted what it took) leaves the whole debt as bad debt.
/// An input of the incident, with its source, not a free parameter.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Frozen {
    /// `protocol/market`.
    pub market: String,
    /// Where the freeze is reported.
    pub source: String,
}

/// A reported figure: a headline metric of the outcome, or a protocol's.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// `direct_loss_usd`, `realized_loss_usd`, `disrupted_value_usd`, `liquidations_usd`,
    /// `bad_debt_usd`, `outflows_usd` or `withdrawals_blocked_usd`.
    pub metric: String,
    /// A protocol id: the metric of that protocol instead of the total.
    #[serde(default)]
    pub protocol: Option<String>,
    /// The central reported value.
    pub value: f64,
    /// The reported range (press figures conflict).
    pub low: f64,
    /// The reported range.
    pub high: f64,
    /// Where it was reported.
    pub source: String,
}

const METRICS: &[&str] = &[
    "direct_loss_usd",
    "realized_loss_usd",
    "disrupted_value_usd",
    "liquidations_usd",
    "bad_debt_usd",
    "outflows_usd",
    "withdrawals_blocked_usd",
];

/// A target with the model's value.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Compared {
    /// The target.
    #[serde(flatten)]
    pub target: Target,
    /// What the model says.
    pub model: f64,
    /// `model / value − 1`.
    pub error: f64,
    /// Whether the model lands in the reported range.
    pub in_range: bool,
}

/// One incident's comparison.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IncidentFit {
    /// The incident.
    pub name: String,
    /// `fit` or `validation`.
    pub role: &'static str,
    /// Failed components.
    pub fail: Vec<String>,
    /// Loss multiplier of the run.
    pub loss_multiplier: Option<f64>,
    /// Disruption multiplier of the run.
    pub disruption_multiplier: Option<f64>,
    /// Targets against the model.
    pub targets: Vec<Compared>,
    /// Root mean squared log error over the targets.
    pub rms_log_error: f64,
}

/// A fitted parameter.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Fitted {
    /// Its entities.
    pub entities: Vec<String>,
    /// Its field.
    pub field: String,
    /// The range searched.
    pub low: f64,
    /// The range searched.
    pub high: f64,
    /// The fitted value.
    pub value: f64,
}

/// What `ringfence stress --calibrate FILE` reports.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Calibration {
    /// Fitted parameters.
    pub params: Vec<Fitted>,
    /// The fit incident, then the validation incidents.
    pub incidents: Vec<IncidentFit>,
    /// Model runs evaluated during the fit.
    pub evaluations: usize,
}

type Setter = Vec<(RangeTarget, String)>;

fn resolve_param(model: &Model, p: &FreeParam) -> Result<Setter> {
    if !(p.low.is_finite() && p.high.is_finite() && 0.0 <= p.low && p.low <= p.high) {
        return Err(Error::Invalid {
            entity: format!("param {}", p.field),
            message: format!("the range [{}, {}] is not 0 ≤ low ≤ high", p.low, p.high),
        });
    }
    p.entities
        .iter()
        .map(|e| {
            let target = if let Some((proto, mk)) = e.split_once('/') {
                let pi = model.protocol(proto).ok_or_else(|| unknown(e))?;
                let mi = model.protocols[pi]
                    .markets
                    .iter()
                    .position(|m| m.id.as_deref() == Some(mk))
                    .ok_or_else(|| unknown(e))?;
                RangeTarget::Market(pi, mi)
            } else if let Some(a) = model.asset(e) {
                RangeTarget::Asset(a)
            } else if let Some(pi) = model.protocol(e) {
                RangeTarget::Protocol(pi)
            } else {
                return Err(unknown(e));
            };
            let fields = match target {
                RangeTarget::Asset(_) => ringfence_model::ASSET_RANGE_FIELDS,
                RangeTarget::Protocol(_) => ringfence_model::PROTOCOL_RANGE_FIELDS,
                RangeTarget::Market(..) => ringfence_model::MARKET_RANGE_FIELDS,
            };
            if !fields.contains(&p.field.as_str()) {
                return Err(Error::Invalid {
                    entity: e.clone(),
                    message: format!(
                        "`{}` cannot be a free parameter here; use one of {}",
                        p.field,
                        fields.join(", ")
                    ),
                });
            }
            Ok((target, p.field.clone()))
        })
        .collect()
}

fn unknown(e: &str) -> Error {
    Error::Invalid {
        entity: e.to_owned(),
        message: "no such asset, protocol or `protocol/market` in the spec".into(),
    }
}

fn metric(o: &Outcome, t: &Target) -> Result<f64> {
    if !METRICS.contains(&t.metric.as_str()) {
        return Err(Error::Invalid {
            entity: format!("target {}", t.metric),
            message: format!("unknown metric; use one of {}", METRICS.join(", ")),
        });
    }
    if let Some(p) = &t.protocol {
        let x = o
            .protocols
            .iter()
            .find(|x| &x.id == p)
            .ok_or_else(|| unknown(p))?;
        return match t.metric.as_str() {
            "liquidations_usd" => Ok(x.liquidations_usd),
            "bad_debt_usd" => Ok(x.bad_debt_usd),
            "outflows_usd" => Ok(x.outflows_usd),
            "withdrawals_blocked_usd" => Ok(x.withdrawals_blocked_usd),
            m => Err(Error::Invalid {
                entity: format!("target {m} of {p}"),
                message: "a protocol target is liquidations_usd, bad_debt_usd, outflows_usd or withdrawals_blocked_usd".into(),
            }),
        };
    }
    Ok(match t.metric.as_str() {
        "direct_loss_usd" => o.direct_loss_usd,
        "realized_loss_usd" => o.realized_loss_usd,
        "disrupted_value_usd" => o.disrupted_value_usd,
        "liquidations_usd" => o.liquidations_usd,
        "bad_debt_usd" => o.bad_debt_usd,
        "outflows_usd" => o.outflows_usd,
        _ => o.withdrawals_blocked_usd,
    })
}

fn log_err(model: f64, target: f64) -> f64 {
    ((model.max(0.0) + 1.0) / (target.max(0.0) + 1.0)).ln()
}

fn run_incident(model: &Model, inc: &Incident, params: &StressParams) -> Result<Outcome> {
    let mut sys = System::new(model)?;
    let frozen: Vec<&str> = inc.frozen.iter().map(|f| f.market.as_str()).collect();
    sys.freeze_markets(&frozen)?;
    let failed = sys.resolve(&inc.fail)?;
    Ok(sys.run(&failed, params))
}

fn compare(
    model: &Model,
    inc: &Incident,
    role: &'static str,
    params: &StressParams,
) -> Result<IncidentFit> {
    let o = run_incident(model, inc, params)?;
    let mut targets = Vec::with_capacity(inc.targets.len());
    let mut sq = 0.0;
    for t in &inc.targets {
        let v = metric(&o, t)?;
        sq += log_err(v, t.value).powi(2);
        targets.push(Compared {
            target: t.clone(),
            model: v,
            error: if t.value != 0.0 { v / t.value - 1.0 } else { v },
            in_range: (t.low..=t.high).contains(&v),
        });
    }
    Ok(IncidentFit {
        name: inc.name.clone(),
        role,
        fail: inc.fail.clone(),
        loss_multiplier: o.loss_multiplier,
        disruption_multiplier: o.disruption_multiplier,
        rms_log_error: (sq / inc.targets.len().max(1) as f64).sqrt(),
        targets,
    })
}

/// Grid points over `[low, high]`: log-spaced when the range spans more than a factor of 10.
fn grid(low: f64, high: f64, n: usize) -> Vec<f64> {
    if high <= low || n < 2 {
        return vec![low];
    }
    let log = low > 0.0 && high / low > 10.0;
    (0..n)
        .map(|i| {
            let t = i as f64 / (n - 1) as f64;
            if log {
                (low.ln() + t * (high.ln() - low.ln())).exp()
            } else {
                low + t * (high - low)
            }
        })
        .collect()
}

/// Fits the free parameters on `file.fit` and runs `file.validate` with them, unchanged.
pub fn calibrate(
    model: &Model,
    file: &CalibrationFile,
    params: &StressParams,
) -> Result<(Calibration, Model)> {
    let setters: Vec<Setter> = file
        .params
        .iter()
        .map(|p| resolve_param(model, p))
        .collect::<Result<_>>()?;
    let mut m = model.clone();
    let apply = |m: &mut Model, i: usize, v: f64| {
        for (t, f) in &setters[i] {
            set_input(m, *t, f, v);
        }
    };
    let objective = |m: &Model| -> Result<f64> {
        let o = run_incident(m, &file.fit, params)?;
        let mut sq = 0.0;
        for t in &file.fit.targets {
            sq += log_err(metric(&o, t)?, t.value).powi(2);
        }
        Ok(sq)
    };
    // Start in the middle of each range, then coordinate search: each parameter over a grid of
    // its current bracket with the others held, three sweeps, the bracket shrinking around the
    // best point each sweep.
    let mut value: Vec<f64> = file
        .params
        .iter()
        .map(|p| {
            let g = grid(p.low, p.high, 3);
            g[g.len() / 2]
        })
        .collect();
    let mut bracket: Vec<(f64, f64)> = file.params.iter().map(|p| (p.low, p.high)).collect();
    for (i, v) in value.iter().enumerate() {
        apply(&mut m, i, *v);
    }
    let mut evaluations = 0;
    let mut best = objective(&m)?;
    for _sweep in 0..4 {
        for i in 0..value.len() {
            let (lo, hi) = bracket[i];
            let points = grid(lo, hi, 25);
            for &x in &points {
                apply(&mut m, i, x);
                let f = objective(&m)?;
                evaluations += 1;
                if f < best - 1e-15 {
                    best = f;
                    value[i] = x;
                }
            }
            apply(&mut m, i, value[i]);
            // Shrink the bracket to the neighbours of the best point.
            let k = points
                .iter()
                .position(|&x| x == value[i])
                .unwrap_or(points.len() / 2);
            bracket[i] = (
                points[k.saturating_sub(1)],
                points[(k + 1).min(points.len() - 1)],
            );
        }
    }
    let mut incidents = vec![compare(&m, &file.fit, "fit", params)?];
    for v in &file.validate {
        incidents.push(compare(&m, v, "validation", params)?);
    }
    let fitted = file
        .params
        .iter()
        .zip(&value)
        .map(|(p, &v)| Fitted {
            entities: p.entities.clone(),
            field: p.field.clone(),
            low: p.low,
            high: p.high,
            value: v,
        })
        .collect();
    Ok((
        Calibration {
            params: fitted,
            incidents,
            evaluations,
        },
        m,
    ))
}

impl Calibration {
    /// A text table: fitted parameters, then each incident's targets against the model.
    pub fn to_table(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(s, "fitted parameters ({} model runs):", self.evaluations);
        for p in &self.params {
            let _ = writeln!(
                s,
                "  {} on {}: {:.4} (searched {} … {})",
                p.field,
                p.entities.join(", "),
                p.value,
                p.low,
                p.high
            );
        }
        for inc in &self.incidents {
            let _ = writeln!(
                s,
                "\n{} — {} (fail {}): loss multiplier {}, disruption multiplier {}, rms log error {:.2}",
                inc.role,
                inc.name,
                inc.fail.join(", "),
                mult(inc.loss_multiplier),
                mult(inc.disruption_multiplier),
                inc.rms_log_error
            );
            for c in &inc.targets {
                let [what, reported, low, high, model, error] = figures(c);
                let _ = writeln!(
                    s,
                    "  {what:<40} reported {reported} ({low} … {high})  model {model}  error {error}{}",
                    if c.in_range { "  in range" } else { "" }
                );
            }
        }
        s
    }

    /// A self-contained HTML page.
    pub fn to_html(&self) -> String {
        use ringfence_report::esc;
        use std::fmt::Write as _;
        let mut s = String::from(
            "<h1>Calibration: fit on one incident, validate on another</h1><h2>Fitted parameters</h2><table><tr><th>field</th><th>entities</th><th>value</th><th>searched</th></tr>",
        );
        for p in &self.params {
            let _ = write!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{:.4}</td><td>{} … {}</td></tr>",
                esc(&p.field),
                esc(&p.entities.join(", ")),
                p.value,
                p.low,
                p.high
            );
        }
        s.push_str("</table>");
        for inc in &self.incidents {
            let _ = write!(
                s,
                "<h2>{} — {}</h2><p>fail {}; loss multiplier {}, disruption multiplier {}; rms log error {:.2}</p><table><tr><th>figure</th><th>reported</th><th>range</th><th>model</th><th>error</th><th>source</th></tr>",
                inc.role,
                esc(&inc.name),
                esc(&inc.fail.join(", ")),
                mult(inc.loss_multiplier),
                mult(inc.disruption_multiplier),
                inc.rms_log_error
            );
            for c in &inc.targets {
                let [what, reported, low, high, model, error] = figures(c);
                let _ = write!(
                    s,
                    "<tr><td>{}</td><td>{reported}</td><td>{low} … {high}</td><td>{model}</td><td>{error}</td><td>{}</td></tr>",
                    esc(&what),
                    esc(&c.target.source)
                );
            }
            s.push_str("</table>");
        }
        ringfence_report::page("ringfence calibration", &s)
    }
}

/// A compared target as both reports print it: what it is (the metric, `of PROTOCOL` when it is
/// one protocol's), the reported value, the reported range (low, high), the model's value and
/// the error.
fn figures(c: &Compared) -> [String; 6] {
    use ringfence_report::usd;
    let t = &c.target;
    [
        match &t.protocol {
            Some(p) => format!("{} of {p}", t.metric),
            None => t.metric.clone(),
        },
        usd(c.target.value),
        usd(c.target.low),
        usd(c.target.high),
        usd(c.model),
        format!("{:+.0} %", c.error * 100.0),
    ]
}

fn mult(m: Option<f64>) -> String {
    m.map_or_else(|| "n/a".to_owned(), |m| format!("{m:.1}:1"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_are_linear_or_logarithmic() {
        assert_eq!(grid(0.0, 1.0, 3), vec![0.0, 0.5, 1.0]);
        let g = grid(1.0, 100.0, 3);
        assert!((g[1] - 10.0).abs() < 1e-9);
        assert_eq!(grid(2.0, 2.0, 5), vec![2.0]);
    }

    #[test]
    fn log_error_is_symmetric_and_zero_on_target() {
        assert_eq!(log_err(5.0, 5.0), 0.0);
        assert!((log_err(199.0, 99.0) + log_err(99.0, 199.0)).abs() < 1e-12);
    }
}
