//! The `--prices` file: USD prices by token symbol and, optionally, supplies by asset id. Neither
//! is in a published directory, so an importer fills what this file gives and reports the rest as
//! missing.
//!
//! ```toml
//! # USD per whole token, by the token's symbol as the source names it
//! # (for the CCIP directory: the key of tokens.json, e.g. "LINK", "$PAAL").
//! [price_usd]
//! LINK = 13.2
//! USDC = 1.0
//!
//! # Optional: supply in whole tokens, by asset id (`<SYMBOL>@<chain>`).
//! [supply]
//! "LINK@mainnet" = 1000000000
//!
//! # Optional: where the figures come from (kept in the spec's source text).
//! source = "CoinGecko, 2026-08-21"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::{Error, Result};

/// Prices and supplies given by the user.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prices {
    /// The file they were read from, if any.
    pub file: Option<PathBuf>,
    /// Where the figures come from, as the file says.
    pub source: Option<String>,
    /// USD per whole token, by symbol.
    pub price_usd: BTreeMap<String, f64>,
    /// Whole tokens, by asset id.
    pub supply: BTreeMap<String, f64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    price_usd: BTreeMap<String, toml::Spanned<f64>>,
    #[serde(default)]
    supply: BTreeMap<String, toml::Spanned<f64>>,
}

const HELP: &str = "write `[price_usd]` with `SYMBOL = <USD per token>` lines and, optionally, `[supply]` with `\"SYMBOL@chain\" = <tokens>` lines (see the README, section Import real configurations)";

impl Prices {
    /// No prices: every value will be reported missing.
    pub fn none() -> Self {
        Self::default()
    }

    /// Reads a prices file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            file: path.to_owned(),
            source,
            help: "check the path given to --prices; it must be a UTF-8 TOML file".to_owned(),
        })?;
        Self::parse(path, &text)
    }

    /// Parses a prices file's text; `file` names it in errors.
    pub fn parse(file: &Path, text: &str) -> Result<Self> {
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((0, 0), |s| line_col(text, s.start));
            Error::Syntax {
                file: file.to_owned(),
                line,
                column,
                message: format!(
                    "not a prices file: {}",
                    e.message().lines().next().unwrap_or("").trim()
                ),
                help: HELP.to_owned(),
            }
        })?;
        let check = |table: &str,
                     map: BTreeMap<String, toml::Spanned<f64>>|
         -> Result<BTreeMap<String, f64>> {
            let mut out = BTreeMap::new();
            for (k, v) in map {
                let x = *v.get_ref();
                if !x.is_finite() || x < 0.0 {
                    let (line, _) = line_col(text, v.span().start);
                    return Err(Error::Invalid {
                        file: file.to_owned(),
                        at: format!("line {line}, [{table}] {k:?}"),
                        message: format!("{x} is not a usable {}", if table == "supply" { "supply" } else { "price" }),
                        help: "give a finite number, zero or more; leave the entry out when the value is not known".to_owned(),
                    });
                }
                out.insert(k, x);
            }
            Ok(out)
        };
        Ok(Self {
            file: Some(file.to_owned()),
            source: raw.source,
            price_usd: check("price_usd", raw.price_usd)?,
            supply: check("supply", raw.supply)?,
        })
    }

    /// How to cite these figures in a spec's source text.
    pub fn citation(&self) -> Option<String> {
        let file = self.file.as_ref()?;
        Some(match &self.source {
            Some(s) => format!("{} ({s})", file.display()),
            None => file.display().to_string(),
        })
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_prices_supplies_and_source() {
        let p = Prices::parse(Path::new("p.toml"), "source = \"test\"\n[price_usd]\nLINK = 13.5\n\"$PAAL\" = 0.1\n[supply]\n\"LINK@mainnet\" = 1e9\n")
            .expect("valid");
        assert_eq!(p.price_usd.get("$PAAL"), Some(&0.1));
        assert_eq!(p.supply.get("LINK@mainnet"), Some(&1e9));
        assert_eq!(p.citation().as_deref(), Some("p.toml (test)"));
    }

    #[test]
    fn bad_files_name_the_place_and_the_fix() {
        for (text, want) in [
            (
                "[price_usd]\nLINK = -1\n",
                "p.toml: at line 2, [price_usd] \"LINK\": -1 is not a usable price",
            ),
            (
                "[price_usd]\nLINK = nan\n",
                "p.toml: at line 2, [price_usd] \"LINK\": NaN is not a usable price",
            ),
            (
                "[prices]\nLINK = 1\n",
                "p.toml:1:2: not a prices file: unknown field `prices`",
            ),
            (
                "[price_usd]\nLINK = \"13\"\n",
                "p.toml:2:8: not a prices file: invalid type",
            ),
            ("[price_usd\n", "p.toml:1:"),
        ] {
            let e = Prices::parse(Path::new("p.toml"), text)
                .expect_err(text)
                .to_string();
            assert!(e.starts_with(want), "{text:?}: {e}");
            assert!(e.contains("help: "), "{e}");
        }
    }
}
