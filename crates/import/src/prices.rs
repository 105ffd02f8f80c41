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
//!
//! A price may carry its own source: `USDT = { usd = 1.0, source = "Tether: redeemable 1:1" }`.
//! And a `[token]` table names tokens by address, for sources that give an address but no symbol
//! or decimals (L2BEAT discovery): `[token."ethereum:0xa0b8…eb48"]` with `symbol`, `decimals`
//! and `source`. The chain may be written in any spelling [`crate::chains`] knows.

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
    /// Where each price comes from, when the file says, by symbol.
    pub price_source: BTreeMap<String, String>,
    /// Tokens by (canonical chain, lower-case address).
    pub tokens: BTreeMap<(String, String), Token>,
}

/// A token named by address in the `[token]` table.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Token {
    /// Its symbol, as `[price_usd]` names it.
    pub symbol: String,
    /// Its ERC-20 decimals.
    pub decimals: u32,
    /// Where the symbol and decimals come from.
    pub source: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    price_usd: BTreeMap<String, toml::Spanned<toml::Value>>,
    #[serde(default)]
    supply: BTreeMap<String, toml::Spanned<f64>>,
    #[serde(default)]
    token: BTreeMap<String, toml::Spanned<Token>>,
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
        let mut price_source = BTreeMap::new();
        let mut prices = BTreeMap::new();
        for (k, v) in raw.price_usd {
            let span = v.span();
            let usd = match v.into_inner() {
                toml::Value::Float(x) => x,
                toml::Value::Integer(i) => i as f64,
                toml::Value::Table(t)
                    if t.len() == 2
                        && t.get("usd").is_some_and(|u| u.is_float() || u.is_integer())
                        && t.get("source").is_some_and(toml::Value::is_str) =>
                {
                    if let Some(s) = t.get("source").and_then(toml::Value::as_str) {
                        price_source.insert(k.clone(), s.to_owned());
                    }
                    match t.get("usd") {
                        Some(toml::Value::Float(x)) => *x,
                        Some(toml::Value::Integer(i)) => *i as f64,
                        _ => f64::NAN,
                    }
                }
                other => {
                    let (line, column) = line_col(text, span.start);
                    return Err(Error::Syntax {
                        file: file.to_owned(),
                        line,
                        column,
                        message: format!(
                            "not a prices file: invalid type for [price_usd] {k:?}: expected a number or {{ usd = <number>, source = \"…\" }}, found {}",
                            other.type_str()
                        ),
                        help: HELP.to_owned(),
                    });
                }
            };
            prices.insert(k, toml::Spanned::new(span, usd));
        }
        let mut tokens = BTreeMap::new();
        for (k, v) in raw.token {
            let (line, _) = line_col(text, v.span().start);
            let bad = |message: String| {
                Error::Invalid {
                file: file.to_owned(),
                at: format!("line {line}, [token] {k:?}"),
                message,
                help: "name a token as `[token.\"<chain>:<0x address>\"]`, e.g. `[token.\"ethereum:0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48\"]`, with `symbol`, `decimals` and `source`".to_owned(),
            }
            };
            let (chain, address) = k
                .split_once(':')
                .ok_or_else(|| bad("the key is not `<chain>:<address>`".to_owned()))?;
            let chain = crate::chains::resolve(chain)
                .ok_or_else(|| bad(format!("unknown chain `{chain}`")))?;
            let address = crate::chains::evm_address(address).ok_or_else(|| {
                bad(format!(
                    "`{address}` is not an EVM address (0x and 40 hex digits)"
                ))
            })?;
            let t = v.into_inner();
            if t.decimals > 36 {
                return Err(bad(format!("{} decimals is not plausible", t.decimals)));
            }
            tokens.insert((chain.name, address), t);
        }
        Ok(Self {
            file: Some(file.to_owned()),
            source: raw.source,
            price_usd: check("price_usd", prices)?,
            supply: check("supply", raw.supply)?,
            price_source,
            tokens,
        })
    }

    /// The token at an address on a canonical chain, if the file names it.
    pub fn token(&self, chain: &str, address: &str) -> Option<&Token> {
        self.tokens.get(&(chain.to_owned(), address.to_owned()))
    }

    /// How to cite one symbol's price: the file, and the line's own source if it has one.
    pub fn cite_price(&self, symbol: &str) -> Option<String> {
        let file = self.citation()?;
        Some(match self.price_source.get(symbol) {
            Some(s) => format!("{file}: {symbol} {s}"),
            None => file,
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
    fn prices_may_carry_their_source_and_tokens_are_named_by_address() {
        let p = Prices::parse(
            Path::new("p.toml"),
            "[price_usd]\nUSDT = { usd = 1.0, source = \"peg\" }\nLINK = 2\n\
             [token.\"eth:0xdAC17F958D2ee523a2206206994597C13D831ec7\"]\nsymbol = \"USDT\"\ndecimals = 6\nsource = \"x\"\n",
        )
        .expect("valid");
        assert_eq!(p.price_usd.get("USDT"), Some(&1.0));
        assert_eq!(p.cite_price("USDT").as_deref(), Some("p.toml: USDT peg"));
        assert_eq!(p.cite_price("LINK").as_deref(), Some("p.toml"));
        let t = p
            .token("ethereum", "0xdac17f958d2ee523a2206206994597c13d831ec7")
            .expect("by canonical chain and lower-case address");
        assert_eq!((t.symbol.as_str(), t.decimals), ("USDT", 6));
        for (text, want) in [
            (
                "[token.\"nochain:0xdAC17F958D2ee523a2206206994597C13D831ec7\"]\nsymbol = \"U\"\ndecimals = 6\nsource = \"x\"\n",
                "unknown chain `nochain`",
            ),
            (
                "[token.\"eth:0x12\"]\nsymbol = \"U\"\ndecimals = 6\nsource = \"x\"\n",
                "is not an EVM address",
            ),
            (
                "[token.\"eth\"]\nsymbol = \"U\"\ndecimals = 6\nsource = \"x\"\n",
                "not `<chain>:<address>`",
            ),
        ] {
            let e = Prices::parse(Path::new("p.toml"), text)
                .expect_err(text)
                .to_string();
            assert!(e.contains(want) && e.contains("at line 1, [token]"), "{e}");
        }
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

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever the text, parsing gives prices or a located error with a fix: never a panic.
            #[test]
            fn never_panics(text in "\\PC{0,200}") {
                if let Err(e) = Prices::parse(Path::new("p.toml"), &text) {
                    let msg = e.to_string();
                    prop_assert!(msg.starts_with("p.toml") && msg.contains("help: "), "{}", msg);
                }
            }

            /// Well-formed prices, plain or with a source, read back exactly; negative ones are refused.
            #[test]
            fn prices_read_back(sym in "[A-Z]{1,6}", usd in -1.0e6f64..1.0e6, sourced in any::<bool>()) {
                let line = if sourced {
                    format!("{sym} = {{ usd = {usd:?}, source = \"s\" }}")
                } else {
                    format!("{sym} = {usd:?}")
                };
                let r = Prices::parse(Path::new("p.toml"), &format!("[price_usd]\n{line}\n"));
                if usd < 0.0 {
                    prop_assert!(r.is_err());
                } else {
                    let p = r.expect("valid");
                    prop_assert_eq!(p.price_usd.get(&sym).copied(), Some(usd));
                    prop_assert_eq!(p.price_source.contains_key(&sym), sourced);
                }
            }
        }
    }
}
