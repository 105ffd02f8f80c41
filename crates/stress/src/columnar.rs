//! Protocols and claims from CSV, beside the TOML spec: risk teams keep balance sheets and
//! exposures in tables, and a 500,000-claim network is a table, not a document.
//!
//! `protocols.csv` has a header with `id`, `kind`, `chain` and any of `external_assets_usd`,
//! `external_liabilities_usd`, `seniority`, `capital_usd`, `deposits_usd`, `outflow_sensitivity`,
//! `liquid_share`, `source` (empty cells are unset). `claims.csv` has `debtor`, `creditor`,
//! `amount_usd` and optionally `id`, `source`. Rows become `[[protocol]]` and `[[claim]]` entries of
//! the spec, validated with it; a malformed row is an error naming the file, the line and the fix.
//! Reading is one pass over the rows.

use ringfence_model::spec::{self, Protocol, ProtocolKind, Seniority, r};

use crate::error::{Error, Result};

fn bad(label: &str, line: u64, message: impl Into<String>) -> Error {
    Error::Invalid {
        entity: format!("{label}:{line}"),
        message: message.into(),
    }
}

struct Table<'a> {
    label: &'a str,
    header: Vec<String>,
}

impl Table<'_> {
    fn col(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    fn need(&self, name: &str) -> Result<usize> {
        self.col(name).ok_or_else(|| {
            bad(
                self.label,
                1,
                format!(
                    "the header has no `{name}` column (it has: {}); add it",
                    self.header.join(", ")
                ),
            )
        })
    }
}

fn reader(text: &str) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes())
}

fn header<'a>(label: &'a str, rdr: &mut csv::Reader<&[u8]>) -> Result<Table<'a>> {
    let header = rdr
        .headers()
        .map_err(|e| bad(label, 1, format!("cannot read the header: {e}")))?
        .iter()
        .map(str::to_owned)
        .collect();
    Ok(Table { label, header })
}

fn cell(row: &csv::StringRecord, col: Option<usize>) -> Option<&str> {
    col.and_then(|c| row.get(c)).filter(|s| !s.is_empty())
}

fn number(label: &str, line: u64, name: &str, text: Option<&str>) -> Result<Option<f64>> {
    let Some(t) = text else { return Ok(None) };
    match t.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(bad(
            label,
            line,
            format!("`{name}` is `{t}`, not a number; write a plain decimal such as 1500000"),
        )),
    }
}

/// Reads `[[protocol]]` entries from CSV text (`label` names the file in errors).
pub fn read_protocols(label: &str, text: &str) -> Result<Vec<Protocol>> {
    let mut rdr = reader(text);
    let t = header(label, &mut rdr)?;
    let (id, kind, chain) = (t.need("id")?, t.need("kind")?, t.need("chain")?);
    let col = |n: &str| t.col(n);
    let cols = [
        col("external_assets_usd"),
        col("external_liabilities_usd"),
        col("capital_usd"),
        col("deposits_usd"),
        col("outflow_sensitivity"),
        col("liquid_share"),
    ];
    let (seniority, source) = (col("seniority"), col("source"));
    let mut out = Vec::new();
    for row in rdr.records() {
        let row = row.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            bad(
                label,
                line,
                format!("{e}; every row needs as many cells as the header"),
            )
        })?;
        let line = row.position().map_or(0, csv::Position::line);
        let get = |c: usize| row.get(c).unwrap_or("");
        let kind_text = get(kind);
        let kind: ProtocolKind = toml::Value::String(kind_text.to_owned())
            .try_into()
            .map_err(|_| {
                bad(
                    label,
                    line,
                    format!(
                        "`kind` is `{kind_text}`; use lending, dex, vault, cdp, restaking or treasury"
                    ),
                )
            })?;
        let names = [
            "external_assets_usd",
            "external_liabilities_usd",
            "capital_usd",
            "deposits_usd",
            "outflow_sensitivity",
            "liquid_share",
        ];
        let mut v = [None; 6];
        for (i, (c, n)) in cols.iter().zip(names).enumerate() {
            v[i] = number(label, line, n, cell(&row, *c))?;
        }
        let seniority = match cell(&row, seniority) {
            None | Some("pari_passu") => Seniority::PariPassu,
            Some("senior") => Seniority::Senior,
            Some(x) => {
                return Err(bad(
                    label,
                    line,
                    format!("`seniority` is `{x}`; use pari_passu or senior"),
                ));
            }
        };
        out.push(Protocol {
            id: r(get(id)),
            kind,
            chain: r(get(chain)),
            holdings: Vec::new(),
            external_assets_usd: v[0].unwrap_or(0.0),
            external_liabilities_usd: v[1].unwrap_or(0.0),
            seniority,
            capital_usd: v[2],
            deposits_usd: v[3].unwrap_or(0.0),
            outflow_sensitivity: v[4].unwrap_or(0.0),
            liquid_share: v[5],
            liquidation: spec::Liquidation::default(),
            markets: Vec::new(),
            source: cell(&row, source).map(str::to_owned),
        });
    }
    Ok(out)
}

/// Reads `[[claim]]` entries from CSV text (`label` names the file in errors).
pub fn read_claims(label: &str, text: &str) -> Result<Vec<spec::Claim>> {
    let mut rdr = reader(text);
    let t = header(label, &mut rdr)?;
    let (debtor, creditor, amount) = (
        t.need("debtor")?,
        t.need("creditor")?,
        t.need("amount_usd")?,
    );
    let (id, source) = (t.col("id"), t.col("source"));
    let mut out = Vec::new();
    let mut row = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                return Err(bad(
                    label,
                    line,
                    format!("{e}; every row needs as many cells as the header"),
                ));
            }
        }
        let line = row.position().map_or(0, csv::Position::line);
        let amount = number(label, line, "amount_usd", cell(&row, Some(amount)))?
            .ok_or_else(|| bad(label, line, "`amount_usd` is empty; give the claim in USD"))?;
        out.push(spec::Claim {
            id: cell(&row, id).map(str::to_owned),
            debtor: r(row.get(debtor).unwrap_or("")),
            creditor: r(row.get(creditor).unwrap_or("")),
            amount_usd: toml::Spanned::new(0..0, amount),
            source: cell(&row, source).map(str::to_owned),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_and_claims_read_with_optional_columns() {
        let p = read_protocols(
            "p.csv",
            "id,kind,chain,external_assets_usd,external_liabilities_usd,seniority\n\
             n0,vault,ethereum,0.5,1.5,\n# a comment\nn1,lending,ethereum,1,,senior\n",
        )
        .expect("valid");
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].external_liabilities_usd, 1.5);
        assert_eq!(p[1].kind, ProtocolKind::Lending);
        assert_eq!(p[1].seniority, Seniority::Senior);
        assert_eq!(p[1].external_liabilities_usd, 0.0);
        let c = read_claims("c.csv", "debtor,creditor,amount_usd\nn0,n1,0.5\n").expect("valid");
        assert_eq!(c.len(), 1);
        assert_eq!(*c[0].amount_usd.get_ref(), 0.5);
    }

    #[test]
    fn bad_rows_name_the_file_and_line() {
        let e = read_claims(
            "c.csv",
            "debtor,creditor,amount_usd\nn0,n1,0.5\nn1,n0,lots\n",
        )
        .expect_err("bad amount");
        assert!(e.to_string().starts_with("c.csv:3:"), "{e}");
        let e = read_claims("c.csv", "debtor,creditor\nn0,n1\n").expect_err("no amount");
        assert!(e.to_string().contains("amount_usd"), "{e}");
        let e = read_protocols("p.csv", "id,kind,chain\nn0,bank,ethereum\n").expect_err("kind");
        assert!(
            e.to_string().contains("p.csv:2") && e.to_string().contains("lending"),
            "{e}"
        );
        let e = read_claims("c.csv", "debtor,creditor,amount_usd\nn0,n1\n").expect_err("short");
        assert!(e.to_string().starts_with("c.csv:2"), "{e}");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,300}") {
            let _ = read_claims("c.csv", &text);
            let _ = read_protocols("p.csv", &text);
        }

        #[test]
        fn claims_round_trip(rows in proptest::collection::vec(("[a-z]{1,6}", "[a-z]{1,6}", 0.0..1e12f64), 0..50)) {
            let mut text = String::from("debtor,creditor,amount_usd\n");
            for (d, c, a) in &rows {
                text += &format!("{d},{c},{a}\n");
            }
            let got = read_claims("c.csv", &text).expect("valid");
            proptest::prop_assert_eq!(got.len(), rows.len());
            for (g, (d, c, a)) in got.iter().zip(&rows) {
                proptest::prop_assert_eq!(g.debtor.get_ref(), d);
                proptest::prop_assert_eq!(g.creditor.get_ref(), c);
                proptest::prop_assert_eq!(*g.amount_usd.get_ref(), *a);
            }
        }
    }
}
