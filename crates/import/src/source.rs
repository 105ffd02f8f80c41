//! What every importer provides: the [`Source`] trait, its output ([`Import`]) and the registry
//! of sources that the command line offers ([`SOURCES`]).

use std::fmt::Write as _;
use std::path::Path;

use ringfence_model::{Model, Spec};

use crate::{Prices, Result};

/// One kind of published data that can be turned into a spec. Adding a source (LayerZero DVN
/// metadata, …) is a module that implements this trait and one line in [`SOURCES`]; the crate
/// docs show one.
pub trait Source: Sync {
    /// The name on the command line, e.g. `ccip-directory`.
    fn name(&self) -> &'static str;

    /// One line saying what the input is, for `--help` and messages.
    fn describe(&self) -> &'static str;

    /// Reads the input at `input` (a file or a directory, as the source expects), maps it to a
    /// spec with `prices` applied, and validates the result.
    fn import(&self, input: &Path, prices: &Prices) -> Result<Import>;
}

/// Every source the command line offers.
pub static SOURCES: &[&dyn Source] = &[
    &crate::ccip::CcipDirectory,
    &crate::l2beat::L2beat,
    &crate::hyperlane::HyperlaneRegistry,
];

/// The source with this command-line name.
pub fn source(name: &str) -> Option<&'static dyn Source> {
    SOURCES.iter().copied().find(|s| s.name() == name)
}

/// One figure an import found, e.g. the number of chains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Figure {
    /// A stable key for tests and JSON (`chains`, `burn_mint_unbounded`…).
    pub key: &'static str,
    /// What it counts, for people.
    pub label: String,
    /// The count.
    pub value: usize,
}

impl Figure {
    /// A figure: its stable key, what it counts, the count.
    pub fn new(key: &'static str, label: &str, value: usize) -> Self {
        Self {
            key,
            label: label.to_owned(),
            value,
        }
    }
}

/// Validates an importer's spec, naming it `<origin> (imported)` in problems: every id unique,
/// every reference resolved, so that what an importer writes is what `ringfence check` accepts.
pub(crate) fn validate(origin: &str, spec: &Spec) -> Result<()> {
    Model::from_spec(&format!("{origin} (imported)"), spec.clone())?;
    Ok(())
}

/// Which values (prices, supplies) the import could not fill. A spec with missing values has
/// `price_usd = 0` or `supply = 0` for those assets: placeholders, not findings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MissingValues {
    /// Assets imported.
    pub assets: usize,
    /// Assets with no price.
    pub without_price: usize,
    /// Assets with no supply.
    pub without_supply: usize,
    /// Symbols that have no price, sorted.
    pub symbols_without_price: Vec<String>,
    /// Entries of the prices file that match nothing imported, sorted.
    pub unused: Vec<String>,
}

impl MissingValues {
    /// True when every asset has both a price and a supply.
    pub fn is_complete(&self) -> bool {
        self.without_price == 0 && self.without_supply == 0
    }

    /// One paragraph for stderr and the spec header.
    pub fn summary(&self) -> String {
        if self.is_complete() {
            return format!(
                "values: all {} assets have a price and a supply",
                self.assets
            );
        }
        let mut s = format!(
            "values missing: {} of {} assets have no price and {} have no supply, so their value is unknown; \
             they carry price_usd = 0 / supply = 0 as placeholders, and USD totals in exposure and limits \
             leave them out — a total of 0 there means \"not known\", not \"no exposure\"",
            self.without_price, self.assets, self.without_supply
        );
        if !self.symbols_without_price.is_empty() {
            let n = self.symbols_without_price.len();
            let shown: Vec<&str> = self
                .symbols_without_price
                .iter()
                .take(12)
                .map(String::as_str)
                .collect();
            let _ = write!(
                s,
                ". Symbols without a price ({n}): {}{}",
                shown.join(", "),
                if n > shown.len() { ", …" } else { "" }
            );
        }
        s.push_str(
            ". Give them with --prices FILE (see the README, section Import real configurations)",
        );
        s
    }
}

/// Where imported data comes from: the repository, path and commit a snapshot was taken at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Provenance {
    /// `owner/name` of the repository the files were copied from.
    pub repository: Option<String>,
    /// The path of the files in that repository.
    pub path: Option<String>,
    /// The commit, 40 hex digits.
    pub commit: Option<String>,
    /// The date of the snapshot, as written.
    pub date: Option<String>,
    /// The licence, as written.
    pub licence: Option<String>,
}

impl Provenance {
    /// The provenance that `dir/SOURCE.md` records; empty when the directory has none.
    pub fn read_in(dir: &Path) -> Self {
        std::fs::read_to_string(dir.join("SOURCE.md"))
            .map(|t| Self::from_source_md(&t))
            .unwrap_or_default()
    }

    /// Reads the repository, path, commit, date and licence from a `SOURCE.md` written as
    /// "… repository `owner/name`, path `dir/`, commit <40 hex> (YYYY-MM-DD). Licence: MIT …".
    /// What it cannot find stays `None`.
    pub fn from_source_md(text: &str) -> Self {
        let after_tick = |word: &str| {
            let i = text.find(word)?;
            let rest = text.get(i + word.len()..)?;
            let start = rest.find('`')? + 1;
            let len = rest.get(start..)?.find('`')?;
            let v = rest.get(start..start + len)?.trim();
            (!v.is_empty()).then(|| v.to_owned())
        };
        let commit = text
            .split(|c: char| !c.is_ascii_hexdigit())
            .find(|w| w.len() == 40)
            .map(str::to_ascii_lowercase);
        let date = text
            .split(|c: char| !(c.is_ascii_digit() || c == '-'))
            .find(|w| {
                w.len() == 10
                    && w.as_bytes().get(4) == Some(&b'-')
                    && w.as_bytes().get(7) == Some(&b'-')
            })
            .map(str::to_owned);
        let licence = text
            .find("Licence:")
            .or_else(|| text.find("License:"))
            .and_then(|i| {
                text.get(i + 8..)?
                    .split([',', '.', '\n'])
                    .next()
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
            });
        Self {
            repository: after_tick("repository"),
            path: after_tick("path"),
            commit,
            date,
            licence,
        }
    }

    /// The shortest citation: `owner/name@commit12`, or what is known of it.
    pub fn short(&self) -> String {
        match (&self.repository, &self.commit) {
            (Some(r), Some(c)) => format!("{r}@{}", c.get(..12).unwrap_or(c)),
            (Some(r), None) => format!("{r} (commit not recorded)"),
            (None, Some(c)) => format!("commit {}", c.get(..12).unwrap_or(c)),
            (None, None) => {
                "origin not recorded: no SOURCE.md naming a repository and commit".to_owned()
            }
        }
    }

    /// A citation: `owner/name@commit12 path (date)`, or what is known of it.
    pub fn cite(&self) -> String {
        let mut s = self.short();
        if let Some(p) = &self.path {
            let _ = write!(s, " {p}");
        }
        if let Some(d) = &self.date {
            let _ = write!(s, " ({d})");
        }
        s
    }
}

/// The result of an import: a validated spec, what was found, and what is missing.
#[derive(Clone, Debug)]
pub struct Import {
    /// The source's command-line name.
    pub source: &'static str,
    /// The spec, valid for [`ringfence_model::Model::from_spec`].
    pub spec: Spec,
    /// Lines for the top of the written spec (without `#`): origin, mapping, missing values.
    pub header: Vec<String>,
    /// The figures the data gives.
    pub figures: Vec<Figure>,
    /// Warnings: entries skipped or that the data cannot fully describe.
    pub notes: Vec<String>,
    /// Which prices and supplies are missing.
    pub missing: MissingValues,
}

impl Import {
    /// The figure with this key.
    pub fn figure(&self, key: &str) -> Option<usize> {
        self.figures.iter().find(|f| f.key == key).map(|f| f.value)
    }

    /// The spec as TOML, its header as comments first.
    pub fn to_toml(&self) -> Result<String> {
        let mut out = String::new();
        for line in &self.header {
            for l in line.lines() {
                out.push_str("# ");
                out.push_str(l);
                out.push('\n');
            }
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&toml::to_string(&self.spec)?);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provenance_reads_the_snapshot_note() {
        let p = Provenance::from_source_md(
            "Files copied unchanged from the public repository `smartcontractkit/documentation`,\n\
             path `src/config/data/ccip/v1_2_0/mainnet/`, commit 59e5cde702f77672c34c9cf76d27735c390a1f98\n\
             (2026-08-21). Licence: MIT, see LICENSE beside this file.\n",
        );
        assert_eq!(
            p.repository.as_deref(),
            Some("smartcontractkit/documentation")
        );
        assert_eq!(
            p.path.as_deref(),
            Some("src/config/data/ccip/v1_2_0/mainnet/")
        );
        assert_eq!(
            p.commit.as_deref(),
            Some("59e5cde702f77672c34c9cf76d27735c390a1f98")
        );
        assert_eq!(p.date.as_deref(), Some("2026-08-21"));
        assert_eq!(p.licence.as_deref(), Some("MIT"));
        assert_eq!(
            p.cite(),
            "smartcontractkit/documentation@59e5cde702f7 src/config/data/ccip/v1_2_0/mainnet/ (2026-08-21)"
        );
    }

    #[test]
    fn provenance_without_a_note_says_so() {
        assert!(
            Provenance::default()
                .cite()
                .starts_with("origin not recorded")
        );
    }

    #[test]
    fn sources_are_found_by_name() {
        assert_eq!(
            source("ccip-directory").map(|s| s.name()),
            Some("ccip-directory")
        );
        assert_eq!(source("l2beat").map(|s| s.name()), Some("l2beat"));
        assert_eq!(source("hyperlane").map(|s| s.name()), Some("hyperlane"));
        assert!(source("nope").is_none());
    }
}
