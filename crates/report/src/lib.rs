//! Presentation shared by every ringfence report — the CLI's tables, the HTML reports and the
//! dashboard: money and shares formatted for a risk lead, aligned text tables, HTML escaping, and
//! the self-contained page shell (one style, no external resources); and the two pictures both
//! the HTML reports and the dashboard draw, laid out once as data: the dependency graph
//! ([`graph`]) and the waterfall of losses ([`waterfall`]). The reports write them as SVG; the
//! server sends the same data to the dashboard, which only turns it into SVG elements.
//!
//! ```
//! use ringfence_report::{Table, pct, usd};
//!
//! assert_eq!(usd(292_000_000.0), "$292.0M");
//! assert_eq!(pct(0.9375), "93.8%");
//! let mut t = Table::new(&["component", ">value at risk"]);
//! t.row(vec!["kms-key".into(), usd(24e6)]);
//! assert!(t.render().contains("$24.0M"));
//! ```

// Every dependency is used by the library (tests and benches have their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod graph;
pub mod waterfall;

/// A dollar amount in words a risk lead reads at a glance: `$1.23B`, `$45.6M`, `$7.8K`, `$12`.
pub fn usd(v: f64) -> String {
    let a = v.abs();
    let sign = if v < 0.0 { "-" } else { "" };
    if a >= 1e9 {
        format!("{sign}${:.2}B", a / 1e9)
    } else if a >= 1e6 {
        format!("{sign}${:.1}M", a / 1e6)
    } else if a >= 1e3 {
        format!("{sign}${:.1}K", a / 1e3)
    } else {
        format!("{sign}${a:.0}")
    }
}

/// A share as a percentage with one decimal.
pub fn pct(v: f64) -> String {
    pct_digits(v, 1)
}

/// A share as a percentage with `digits` decimals, where one is not enough (a prevented share
/// of 93.75 %).
pub fn pct_digits(v: f64, digits: usize) -> String {
    format!("{:.digits$}%", v * 100.0)
}

/// A contagion multiplier (secondary over direct), `n/a` where there is no direct loss.
pub fn multiplier(m: Option<f64>) -> String {
    m.filter(|m| m.is_finite())
        .map_or_else(|| "n/a".to_owned(), |m| format!("{m:.1}:1"))
}

/// A plain text table with aligned columns.
#[derive(Debug, Default)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    right: Vec<bool>,
}

impl Table {
    /// A table with these column headers; a header starting with `>` is right-aligned.
    pub fn new(header: &[&str]) -> Self {
        Self {
            right: header.iter().map(|h| h.starts_with('>')).collect(),
            header: header
                .iter()
                .map(|h| h.trim_start_matches('>').to_owned())
                .collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// True when it has no rows.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, one line per row, ending in a newline.
    pub fn render(&self) -> String {
        let n = self.header.len();
        let mut width: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(n) {
                width[i] = width[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        let line = |out: &mut String, cells: &[String]| {
            let mut l = String::new();
            for (i, c) in cells.iter().enumerate().take(n) {
                let pad = width[i].saturating_sub(c.chars().count());
                if i > 0 {
                    l.push_str("  ");
                }
                if self.right[i] {
                    l.push_str(&" ".repeat(pad));
                    l.push_str(c);
                } else {
                    l.push_str(c);
                    if i + 1 < n {
                        l.push_str(&" ".repeat(pad));
                    }
                }
            }
            out.push_str(l.trim_end());
            out.push('\n');
        };
        line(&mut out, &self.header);
        let rule: Vec<String> = width.iter().map(|w| "─".repeat(*w)).collect();
        line(&mut out, &rule);
        for r in &self.rows {
            line(&mut out, r);
        }
        out
    }
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The shared look of every HTML report.
pub const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#1d2430;padding:0 1rem}\
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #dde;padding-bottom:.3rem}\
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #eef}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}.crit{color:#b00020;font-weight:600}.high{color:#c25400;font-weight:600}\
.note{background:#fff7e0;border-left:4px solid #e0a000;padding:.5rem .8rem}.callout{background:#fdecee;border-left:4px solid #b00020;padding:.5rem .8rem;margin:.4rem 0}\
svg text{font:11px system-ui,sans-serif}";

/// Wraps a body in a self-contained HTML page.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n{body}\n</body></html>\n",
        esc(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usd_reads_at_a_glance() {
        assert_eq!(usd(1.234e9), "$1.23B");
        assert_eq!(usd(45.6e6), "$45.6M");
        assert_eq!(usd(7_800.0), "$7.8K");
        assert_eq!(usd(12.0), "$12");
        assert_eq!(usd(-2e6), "-$2.0M");
    }

    /// One rule for every number a user sees: the dashboard's app.js is tested against the same
    /// file (tests/browser/format.test.mjs).
    #[test]
    fn formats_match_the_golden_file_the_dashboard_is_pinned_to() {
        let golden: serde_json::Value =
            serde_json::from_str(include_str!("../../../tests/fixtures/format/golden.json"))
                .expect("golden.json");
        let rows = |k: &str| golden[k].as_array().cloned().unwrap_or_default();
        assert!(!rows("usd").is_empty());
        for r in rows("usd") {
            assert_eq!(usd(r[0].as_f64().expect("number")), r[1], "usd({})", r[0]);
        }
        for r in rows("pct") {
            assert_eq!(pct(r[0].as_f64().expect("number")), r[1], "pct({})", r[0]);
        }
        for r in rows("pct_digits") {
            let digits = usize::try_from(r[1].as_u64().expect("digits")).expect("small");
            assert_eq!(
                pct_digits(r[0].as_f64().expect("number"), digits),
                r[2],
                "pct_digits({}, {})",
                r[0],
                r[1]
            );
        }
        for r in rows("multiplier") {
            assert_eq!(multiplier(r[0].as_f64()), r[1], "multiplier({})", r[0]);
        }
    }

    #[test]
    fn table_aligns_columns() {
        let mut t = Table::new(&["a", ">b"]);
        t.row(vec!["xx".into(), "1".into()]);
        assert_eq!(t.render(), "a   b\n──  ─\nxx  1\n");
    }

    #[test]
    fn esc_escapes_markup() {
        assert_eq!(
            esc("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn page_is_self_contained() {
        let p = page("t<", "<p>x</p>");
        assert!(
            p.starts_with("<!doctype html>")
                && p.contains("<title>t&lt;</title>")
                && !p.contains("http")
        );
    }
}
