//! Rendering reports for people: aligned text tables, SARIF for code-scanning tools, and one
//! self-contained HTML page with a picture of the dependency graph.

use std::collections::HashMap;
use std::fmt::Write as _;

pub use ringfence_report::graph::GraphLayout;
use ringfence_report::graph::{AssetIn, ComponentIn};
pub use ringfence_report::{STYLE, Table, esc, page, pct, usd};

use ringfence_model::{ComponentKind, Model};

use crate::closure::Closure;
use crate::exposure::{ExposureReport, HolderExposure};
use crate::limits::LimitsReport;
use crate::lint::{LintReport, RULES};

/// How many rows of each long section the text tables show by default (`--limit`, `--all`).
pub const TOP: usize = 15;

/// The rows of one section a table shows: the first `limit` (all with `None`), and how many it
/// leaves out, so that a cut table always says so.
fn shown<T>(items: &[T], limit: Option<usize>) -> (&[T], usize) {
    let n = limit.map_or(items.len(), |l| l.min(items.len()));
    (&items[..n], items.len() - n)
}

/// The line under a cut table: how many rows it left out and where to see them.
fn more(out: &mut String, hidden: usize) {
    if hidden > 0 {
        let _ = writeln!(out, "  … and {hidden} more (see --format json, or --all)");
    }
}

/// The exposure report as text; `limit` caps the rows of each long section (`None`: every row),
/// and every cut section says how many rows it left out. With a holder selected the report is
/// that holder's: its holdings and every component it is exposed to.
pub fn exposure_table(r: &ExposureReport, limit: Option<usize>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Total value: {}", usd(r.total_value_usd));
    if r.values_missing {
        let _ = writeln!(
            out,
            "Note: {} of {} assets have no price or no supply, so the values below leave them out: \
             a $0 here means \"not known\", not \"no exposure\". Fill them in (e.g. `import --prices`).",
            r.assets_without_value,
            r.assets.len()
        );
    }
    if let Some(h) = r
        .holder
        .as_ref()
        .and_then(|id| r.holders.iter().find(|h| &h.id == id))
    {
        holder_table(&mut out, h, limit);
        return out;
    }
    if !r.hidden_shared_dependencies.is_empty() {
        let _ = writeln!(
            out,
            "\nHidden shared dependencies (diversified on paper, one failure in fact):"
        );
        let (rows, hidden) = shown(&r.hidden_shared_dependencies, limit);
        for h in rows {
            let _ = writeln!(out, "  • {}", h.message);
        }
        more(&mut out, hidden);
    }
    let _ = writeln!(
        out,
        "\nWorst single points of failure (one failure destroys these assets in full; chains, on \
         which every asset of theirs depends, are left out here and listed in the JSON):"
    );
    let spofs: Vec<_> = r
        .single_points_of_failure
        .iter()
        .filter(|s| s.kind != ComponentKind::Chain)
        .collect();
    let (rows, hidden) = shown(&spofs, limit);
    let mut t = Table::new(&["component", "kind", ">value destroyed", ">assets", "e.g."]);
    for s in rows {
        t.row(vec![
            s.component.clone(),
            s.kind.to_string(),
            usd(s.value_usd),
            s.assets.len().to_string(),
            s.assets
                .iter()
                .take(3)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
        ]);
    }
    out.push_str(&t.render());
    more(&mut out, hidden);
    let _ = writeln!(out, "\nValue at risk by component:");
    let components: Vec<_> = r
        .components
        .iter()
        .filter(|c| c.value_at_risk_usd > 0.0 || (r.values_missing && c.assets > 0))
        .collect();
    let (rows, hidden) = shown(&components, limit.map(|l| l * 2));
    let mut t = Table::new(&["component", "kind", ">value at risk", ">share", ">assets"]);
    for c in rows {
        t.row(vec![
            c.id.clone(),
            c.kind.to_string(),
            usd(c.value_at_risk_usd),
            pct(c.share),
            c.assets.to_string(),
        ]);
    }
    out.push_str(&t.render());
    more(&mut out, hidden);
    if !r.holders.is_empty() {
        let _ = writeln!(
            out,
            "\nHolders (largest exposures; `--holder ID` for one in full):"
        );
        let (rows, hidden) = shown(&r.holders, limit);
        let mut t = Table::new(&["holder", ">holdings", "largest exposures"]);
        for h in rows {
            let top = largest(h)
                .iter()
                .take(4)
                .map(|(id, v)| format!("{id} {}", usd(*v)))
                .collect::<Vec<_>>()
                .join(", ");
            t.row(vec![h.id.clone(), usd(h.value_usd), top]);
        }
        out.push_str(&t.render());
        more(&mut out, hidden);
    }
    out
}

/// A holder's exposures, largest first.
fn largest(h: &HolderExposure) -> Vec<(&str, f64)> {
    let mut e: Vec<(&str, f64)> = h
        .exposure_usd
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    e.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    e
}

/// One holder in full: every component it is exposed to, with the share of its holdings.
fn holder_table(out: &mut String, h: &HolderExposure, limit: Option<usize>) {
    let _ = writeln!(
        out,
        "\nHolder `{}`: holdings {}; what it loses if each component fails:",
        h.id,
        usd(h.value_usd)
    );
    let all = largest(h);
    let (rows, hidden) = shown(&all, limit.map(|l| l * 2));
    let mut t = Table::new(&["component", ">exposure", ">of holdings"]);
    for (id, v) in rows {
        let share = if h.value_usd > 0.0 {
            v / h.value_usd
        } else {
            0.0
        };
        t.row(vec![(*id).to_owned(), usd(*v), pct(share)]);
    }
    out.push_str(&t.render());
    more(out, hidden);
}

/// The limits report as text.
pub fn limits_table(r: &LimitsReport) -> String {
    if r.breaches.is_empty() {
        return "No policy is breached.\n".to_owned();
    }
    let mut out = format!(
        "{} breach{}:\n",
        r.breaches.len(),
        if r.breaches.len() == 1 { "" } else { "es" }
    );
    let mut t = Table::new(&[
        "policy",
        "component",
        ">share",
        ">limit",
        ">excess",
        "smallest fix",
    ]);
    for b in &r.breaches {
        let fix = b
            .moves
            .iter()
            .map(|m| match &m.to {
                Some(to) => format!("move {} to {to}", usd(m.amount_usd)),
                None => format!(
                    "cut {} (no {} has room)",
                    usd(m.amount_usd),
                    "component of the kind"
                ),
            })
            .collect::<Vec<_>>()
            .join("; ");
        t.row(vec![
            b.policy.clone(),
            b.component.clone(),
            pct(b.share),
            pct(b.max_share),
            usd(b.excess_usd),
            fix,
        ]);
    }
    out.push_str(&t.render());
    out
}

/// The lint report as text.
pub fn lint_table(r: &LintReport) -> String {
    if r.findings.is_empty() {
        return "No finding.\n".to_owned();
    }
    let mut out = String::new();
    for f in &r.findings {
        let _ = writeln!(
            out,
            "{:<8} {:<22} {}\n         {}\n         echoes: {}",
            f.severity.as_str(),
            f.rule,
            f.entity,
            f.message,
            f.incident
        );
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for f in &r.findings {
        match counts.iter_mut().find(|(r, _)| *r == f.rule) {
            Some((_, n)) => *n += 1,
            None => counts.push((f.rule, 1)),
        }
    }
    let summary = counts
        .iter()
        .map(|(r, n)| format!("{r} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(
        out,
        "\n{} finding{}: {summary}",
        r.findings.len(),
        if r.findings.len() == 1 { "" } else { "s" }
    );
    out
}

/// The lint report as SARIF 2.1.0, for code-scanning dashboards.
///
/// Each result points at the file, line and column where its entity is declared (where the spec
/// declares it; `org:`/`hosting:` components point at the spec as a whole).
pub fn lint_sarif(r: &LintReport, model: &Model, spec_path: &str) -> serde_json::Value {
    let rules: Vec<serde_json::Value> = RULES
        .iter()
        .map(|(id, desc, incident)| {
            serde_json::json!({
                "id": id,
                "shortDescription": { "text": desc },
                "help": { "text": format!("Echoes: {incident}") },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = r
        .findings
        .iter()
        .map(|f| {
            let level = match f.severity {
                crate::lint::Severity::Critical | crate::lint::Severity::High => "error",
                crate::lint::Severity::Medium => "warning",
                crate::lint::Severity::Low => "note",
            };
            let physical = match model.location(&f.entity) {
                Some((path, line, column)) => serde_json::json!({
                    "artifactLocation": { "uri": path.display().to_string() },
                    "region": { "startLine": line, "startColumn": column },
                }),
                None => serde_json::json!({ "artifactLocation": { "uri": spec_path } }),
            };
            serde_json::json!({
                "ruleId": f.rule,
                "level": level,
                "message": { "text": f.message },
                "locations": [{
                    "physicalLocation": physical,
                    "logicalLocations": [{ "name": f.entity }],
                }],
                "properties": { "severity": f.severity.as_str(), "incident": f.incident },
            })
        })
        .collect();
    serde_json::json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": { "name": "ringfence", "informationUri": "https://example.invalid/ringfence", "rules": rules } },
            "results": results,
        }],
    })
}

/// How many rows the HTML report's long tables show (the JSON has every row).
const HTML_ROWS: usize = 50;

/// The note under a cut HTML table.
fn html_more(b: &mut String, hidden: usize) {
    if hidden > 0 {
        let _ = writeln!(
            b,
            "<p class=\"note\">… and {hidden} more rows (`--format json` has every row).</p>"
        );
    }
}

/// The exposure report as one self-contained HTML page with the dependency graph.
pub fn exposure_html(
    model: &Model,
    closure: &Closure,
    r: &ExposureReport,
    lint: Option<&LintReport>,
    limits: Option<&LimitsReport>,
) -> String {
    let mut b = String::new();
    html_summary(&mut b, model, r);
    let _ = writeln!(
        b,
        "<h2>Dependency graph</h2><p>Assets (left) and the components they depend on; circles sized by value at risk, edges from an asset to what it owns or is backed by. Hover for figures.</p>"
    );
    b.push_str(&graph_svg(model, closure, r));
    html_spofs(&mut b, r);
    html_components(&mut b, r);
    html_holders(&mut b, r);
    if let Some(l) = limits {
        html_limits(&mut b, l);
    }
    if let Some(l) = lint {
        html_lint(&mut b, l);
    }
    page("ringfence exposure report", &b)
}

/// The report's heading: totals, missing values and hidden shared dependencies.
fn html_summary(b: &mut String, model: &Model, r: &ExposureReport) {
    let _ = writeln!(
        b,
        "<h1>ringfence exposure report</h1><p>Total value {} across {} assets and {} components.</p>",
        usd(r.total_value_usd),
        r.assets.len(),
        model.components.len()
    );
    if r.values_missing {
        let _ = writeln!(
            b,
            "<p class=\"note\">{} of {} assets have no price or no supply: the values leave them out (a $0 means not known, not no exposure).</p>",
            r.assets_without_value,
            r.assets.len()
        );
    }
    if !r.hidden_shared_dependencies.is_empty() {
        let _ = writeln!(b, "<h2>Hidden shared dependencies</h2>");
        for h in &r.hidden_shared_dependencies {
            let _ = writeln!(b, "<div class=\"callout\">{}</div>", esc(&h.message));
        }
    }
}

/// The single points of failure other than chains, largest first, cut at [`HTML_ROWS`].
fn html_spofs(b: &mut String, r: &ExposureReport) {
    let _ = writeln!(
        b,
        "<h2>Single points of failure</h2><table><tr><th>component</th><th>kind</th><th class=n>value destroyed</th><th>assets</th></tr>"
    );
    let spofs: Vec<_> = r
        .single_points_of_failure
        .iter()
        .filter(|s| s.kind != ComponentKind::Chain)
        .collect();
    let (rows, hidden_spofs) = shown(&spofs, Some(HTML_ROWS));
    for s in rows {
        let _ = writeln!(
            b,
            "<tr><td>{}</td><td>{}</td><td class=n>{}</td><td>{}</td></tr>",
            esc(&s.component),
            s.kind,
            usd(s.value_usd),
            esc(&s.assets.join(", "))
        );
    }
    b.push_str("</table>");
    html_more(b, hidden_spofs);
}

/// Value at risk by component (those with some, or with assets when values are missing).
fn html_components(b: &mut String, r: &ExposureReport) {
    let _ = writeln!(
        b,
        "<h2>Value at risk by component</h2><table><tr><th>component</th><th>kind</th><th class=n>value at risk</th><th class=n>share</th><th class=n>assets</th></tr>"
    );
    let components: Vec<_> = r
        .components
        .iter()
        .filter(|c| c.value_at_risk_usd > 0.0 || (r.values_missing && c.assets > 0))
        .collect();
    let (rows, hidden_components) = shown(&components, Some(HTML_ROWS * 4));
    for c in rows {
        let _ = writeln!(
            b,
            "<tr><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td></tr>",
            esc(&c.id),
            c.kind,
            usd(c.value_at_risk_usd),
            pct(c.share),
            c.assets
        );
    }
    b.push_str("</table>");
    html_more(b, hidden_components);
}

/// Each holder's holdings and largest exposures.
fn html_holders(b: &mut String, r: &ExposureReport) {
    if !r.holders.is_empty() {
        let _ = writeln!(
            b,
            "<h2>Holders</h2><table><tr><th>holder</th><th class=n>holdings</th><th>largest exposures</th></tr>"
        );
        for h in &r.holders {
            let mut e: Vec<(&String, &f64)> = h.exposure_usd.iter().collect();
            e.sort_by(|a, b| b.1.total_cmp(a.1).then_with(|| a.0.cmp(b.0)));
            let top = e
                .iter()
                .take(6)
                .map(|(id, v)| format!("{} {}", esc(id), usd(**v)))
                .collect::<Vec<_>>()
                .join(", ");
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td class=n>{}</td><td>{top}</td></tr>",
                esc(&h.id),
                usd(h.value_usd)
            );
        }
        b.push_str("</table>");
    }
}

/// The breached concentration limits and the smallest fix for each.
fn html_limits(b: &mut String, l: &LimitsReport) {
    let _ = writeln!(b, "<h2>Concentration limits</h2>");
    if l.breaches.is_empty() {
        b.push_str("<p>No policy is breached.</p>");
    } else {
        b.push_str("<table><tr><th>policy</th><th>component</th><th class=n>share</th><th class=n>limit</th><th class=n>excess</th><th>smallest fix</th></tr>");
        for br in &l.breaches {
            let fix = br
                .moves
                .iter()
                .map(|m| match &m.to {
                    Some(to) => format!("move {} to {}", usd(m.amount_usd), esc(to)),
                    None => format!("cut {}", usd(m.amount_usd)),
                })
                .collect::<Vec<_>>()
                .join("; ");
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td>{fix}</td></tr>",
                esc(&br.policy),
                esc(&br.component),
                pct(br.share),
                pct(br.max_share),
                usd(br.excess_usd)
            );
        }
        b.push_str("</table>");
    }
}

/// The lint findings, coloured by severity.
fn html_lint(b: &mut String, l: &LintReport) {
    let _ = writeln!(
        b,
        "<h2>Lint findings</h2><table><tr><th>severity</th><th>rule</th><th>entity</th><th>finding</th><th>echoes</th></tr>"
    );
    for f in &l.findings {
        let class = match f.severity {
            crate::lint::Severity::Critical => "crit",
            crate::lint::Severity::High => "high",
            _ => "",
        };
        let _ = writeln!(
            b,
            "<tr><td class=\"{class}\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            f.severity.as_str(),
            f.rule,
            esc(&f.entity),
            esc(&f.message),
            esc(f.incident)
        );
    }
    b.push_str("</table>");
}

/// The dependency graph's picture laid out ([`ringfence_report::graph`]): the largest assets and
/// the components they depend on directly, circles sized by value (assets) or value at risk
/// (components). The HTML report draws it ([`graph_svg`]); `GET /api/graph` gives it to the
/// dashboard.
pub fn graph_layout(model: &Model, closure: &Closure, r: &ExposureReport) -> GraphLayout {
    let var: HashMap<&str, f64> = r
        .components
        .iter()
        .map(|c| (c.id.as_str(), c.value_at_risk_usd))
        .collect();
    let components: Vec<ComponentIn<'_>> = model
        .components
        .iter()
        .map(|c| ComponentIn {
            id: &c.id,
            kind: c.kind.as_str(),
            value_at_risk_usd: var.get(c.id.as_str()).copied().unwrap_or(0.0),
        })
        .collect();
    let assets: Vec<AssetIn<'_>> = model
        .assets
        .iter()
        .zip(&closure.own)
        .map(|(a, own)| AssetIn {
            id: &a.id,
            value_usd: a.value_usd,
            own,
        })
        .collect();
    GraphLayout::new(&assets, &components)
}

/// An SVG picture of the dependency graph: assets on the left, components in columns by kind,
/// circles sized by value (assets) or value at risk (components); with a note under it when it
/// leaves assets or components out.
pub fn graph_svg(model: &Model, closure: &Closure, r: &ExposureReport) -> String {
    graph_layout(model, closure, r).svg()
}
