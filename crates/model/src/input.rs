//! The front-end every ringfence TOML input shares — spec files, the guard's and the
//! attestor's configs, replay scenarios and the replay policy: one list of located problems,
//! one report of syntax errors, one way to read a table entry (its keys checked with "did you
//! mean", serde's error placed at its span), and every problem reported at once.
//!
//! ```
//! use ringfence_model::input::TomlInput;
//! use ringfence_model::SourceFile;
//!
//! #[derive(Debug, serde::Deserialize)]
//! struct Store { path: String }
//!
//! let text = "[store]\npth = \"a.db\"\n";
//! let mut input = TomlInput::new(SourceFile::new("g.toml", text));
//! let (doc, _) = input.document(text);
//! let store: Option<Store> = doc
//!     .get("store")
//!     .and_then(|v| input.entry(v, "store", Some(&["path"])));
//! let err = input.finish(store).unwrap_err();
//! let typo = err.iter().find(|d| d.message.contains("unknown key `pth`")).unwrap();
//! assert_eq!(typo.line, 2);
//! assert!(typo.help.contains("did you mean `path`"));
//! ```

use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeArray, DeTable, DeValue, ValueDeserializer};

use crate::diag::{Diagnostic, Diagnostics, SourceFile, closest, first_line, serde_help};

/// One TOML file being read, and every problem found in it so far.
#[derive(Debug)]
pub struct TomlInput {
    /// The file (its path names it in problems; its text locates them).
    pub file: SourceFile,
    /// The problems found so far.
    pub diags: Diagnostics,
}

impl TomlInput {
    /// Starts reading `file`.
    pub fn new(file: SourceFile) -> Self {
        Self {
            file,
            diags: Diagnostics::default(),
        }
    }

    /// Records a problem at `span` (the whole file when `None`).
    pub fn err(
        &mut self,
        span: Option<Range<usize>>,
        entity: Option<&str>,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let d = self.file.diagnostic(span, entity, message, help);
        self.diags.push(d);
    }

    /// Records a problem with the whole file (something missing from it).
    pub fn file_err(&mut self, message: impl Into<String>, help: impl Into<String>) {
        self.diags
            .push(Diagnostic::file(&self.file.path, message, help));
    }

    /// True when no problem has been found.
    pub fn is_clean(&self) -> bool {
        self.diags.is_empty()
    }

    /// Parses `text` (this file's text, passed apart so that the document may borrow it while
    /// problems are recorded). Every syntax error is recorded; the document recovered around
    /// them is returned with whether there were any, so that a reader can go on to report the
    /// problems of the entries it could read, or stop.
    pub fn document<'a>(&mut self, text: &'a str) -> (DeTable<'a>, bool) {
        let (root, errors) = DeTable::parse_recoverable(text);
        let had_errors = !errors.is_empty();
        for e in errors {
            self.err(
                e.span(),
                None,
                format!("invalid TOML: {}", first_line(e.message())),
                "fix the TOML syntax at this place (quotes, brackets, `key = value`)",
            );
        }
        (root.into_inner(), had_errors)
    }

    /// Reads one entry of the table or array of tables `what`: it must be a table; with
    /// `keys`, each of its keys must be one of them; then it is deserialised. Every problem is
    /// recorded where it is written, under the entry's `id` when it has one. The value only when
    /// the entry had no problem (see [`TomlInput::read`] for the value read around them).
    pub fn entry<T: DeserializeOwned>(
        &mut self,
        v: &Spanned<DeValue<'_>>,
        what: &str,
        keys: Option<&[&str]>,
    ) -> Option<T> {
        self.read(v, Place::Table(what), keys).clean()
    }

    /// Reads one entry written at `place`, as [`TomlInput::entry`] does, and gives the value
    /// read around its unknown keys too: each unknown key is recorded, then the entry is read
    /// without it, so that one misspelt key does not hide the entry's other problems (a wrong
    /// type, or a reference that validation checks once the value is there). A field then
    /// missing because it was the misspelt one (`suplpy` for `supply`) is not reported twice.
    pub fn read<T: DeserializeOwned>(
        &mut self,
        v: &Spanned<DeValue<'_>>,
        place: Place<'_>,
        keys: Option<&[&str]>,
    ) -> Read<T> {
        let DeValue::Table(t) = v.get_ref() else {
            self.err(
                Some(v.span()),
                None,
                format!("a `{}` entry must be a table", place.name()),
                format!(
                    "write it as {} followed by `key = value` lines",
                    place.written()
                ),
            );
            return Read::Failed;
        };
        let id = entry_id(v).map(str::to_owned);
        let listed = keys.is_none_or(|keys| self.check_keys(t, keys, place.name(), id.as_deref()));
        match self.deserialize(v, place, id.as_deref()) {
            Some((x, true)) if listed => Read::Clean(x),
            Some((x, _)) => Read::WithoutUnknownKeys(x),
            None => Read::Failed,
        }
    }

    /// Records each key of `t` that is not one of `keys`, with the likely spelling. True when
    /// every key is allowed.
    fn check_keys(&mut self, t: &DeTable<'_>, keys: &[&str], what: &str, id: Option<&str>) -> bool {
        let mut ok = true;
        for (k, _) in t.iter() {
            let key: &str = k.get_ref().as_ref();
            if keys.contains(&key) {
                continue;
            }
            ok = false;
            let help = match closest(key, keys) {
                Some(near) => format!("did you mean `{near}`? allowed keys here: {}", list(keys)),
                None => format!("allowed keys here: {}", list(keys)),
            };
            self.err(
                Some(k.span()),
                id,
                format!("unknown key `{key}` in {what}"),
                help,
            );
        }
        ok
    }

    /// Deserialises `v`, recording serde's problems at their spans; an unknown field (a struct
    /// that denies them) is recorded, taken out and the entry read again. The value, and whether
    /// no field had to be taken out.
    fn deserialize<T: DeserializeOwned>(
        &mut self,
        v: &Spanned<DeValue<'_>>,
        place: Place<'_>,
        id: Option<&str>,
    ) -> Option<(T, bool)> {
        let label = place.label();
        // The entry as written, copied only once a key has to be taken out of it.
        let mut without: Option<Spanned<DeValue<'_>>> = None;
        let mut removed: Vec<String> = Vec::new();
        for _ in 0..MAX_UNKNOWN_FIELDS {
            let current = without.as_ref().unwrap_or(v);
            let e = match T::deserialize(ValueDeserializer::from(current.clone())) {
                Ok(x) => return Some((x, removed.is_empty())),
                Err(e) => e,
            };
            let message = first_line(e.message()).to_owned();
            if misspelt_missing(&message, &removed) {
                return None;
            }
            let help = serde_help(&label, &message);
            self.err(
                e.span().or_else(|| Some(v.span())),
                id,
                format!("in `{label}`: {message}"),
                help,
            );
            let name = unknown_field(&message)?;
            let entry = without.get_or_insert_with(|| v.clone());
            if !remove_key(entry.get_mut(), name, e.span()) {
                return None;
            }
            removed.push(name.to_owned());
        }
        None
    }

    /// The entries of the array of tables `[[section]]` declared at `at`, or `None` with a
    /// problem recorded there when `value` is something else (`[section]`, `section = 1`);
    /// `help` replaces the usual advice (to write `[[section]]`).
    pub fn tables<'a>(
        &mut self,
        section: &str,
        at: Range<usize>,
        value: Spanned<DeValue<'a>>,
        help: Option<String>,
    ) -> Option<DeArray<'a>> {
        match value.into_inner() {
            DeValue::Array(a) => Some(a),
            _ => {
                let help = help.unwrap_or_else(|| {
                    format!("write each {section} as an array-of-tables entry: `[[{section}]]`")
                });
                self.err(
                    Some(at),
                    None,
                    format!("`{section}` is not a list of `[[{section}]]` entries"),
                    help,
                );
                None
            }
        }
    }

    /// The value when no problem was found, else every problem once, in file order.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, Diagnostics> {
        let mut diags = self.diags.sorted();
        diags.0.dedup();
        match value {
            Some(v) if diags.is_empty() => Ok(v),
            Some(_) => Err(diags),
            None if diags.is_empty() => Err(Diagnostics(vec![Diagnostic::file(
                &self.file.path,
                "the file could not be read",
                "see the problems above",
            )])),
            None => Err(diags),
        }
    }
}

/// `a`, `b`, `c` — names as a user writes them, for help lines.
pub fn list(items: &[&str]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where an entry is written, which names it in problems.
#[derive(Clone, Copy, Debug)]
pub enum Place<'a> {
    /// The table `[what]`, or one entry of `[[what]]` (a config's sections): problems name it
    /// `what`.
    Table(&'a str),
    /// One entry of the array of tables `[[what]]` (a spec's sections): problems name it
    /// `[[what]]`.
    ListEntry(&'a str),
}

impl<'a> Place<'a> {
    /// The section's bare name.
    fn name(self) -> &'a str {
        match self {
            Place::Table(w) | Place::ListEntry(w) => w,
        }
    }

    /// The entry's name in problems about its values.
    fn label(self) -> String {
        match self {
            Place::Table(w) => w.to_owned(),
            Place::ListEntry(w) => format!("[[{w}]]"),
        }
    }

    /// How the entry is written, for the advice on an entry that is not a table.
    fn written(self) -> String {
        match self {
            Place::Table(w) => format!("`[{w}]` or `[[{w}]]`"),
            Place::ListEntry(w) => format!("`[[{w}]]`"),
        }
    }
}

/// What reading one entry gave ([`TomlInput::read`]).
#[derive(Debug)]
pub enum Read<T> {
    /// Read without a problem.
    Clean(T),
    /// Read once its unknown keys were left out (each is recorded as a problem): the value is
    /// there for the checks that follow, but the file is not clean.
    WithoutUnknownKeys(T),
    /// Not read; its problems are recorded.
    Failed,
}

impl<T> Read<T> {
    /// The value, only when the entry had no problem.
    pub fn clean(self) -> Option<T> {
        match self {
            Read::Clean(x) => Some(x),
            Read::WithoutUnknownKeys(_) | Read::Failed => None,
        }
    }

    /// The value, with or without unknown keys left out.
    pub fn value(self) -> Option<T> {
        match self {
            Read::Clean(x) | Read::WithoutUnknownKeys(x) => Some(x),
            Read::Failed => None,
        }
    }
}

/// The `id` of a table entry, where it has a text one (to name the entry in problems).
pub fn entry_id<'v>(v: &'v Spanned<DeValue<'_>>) -> Option<&'v str> {
    v.get_ref()
        .as_table()?
        .get("id")
        .and_then(|id| id.get_ref().as_str())
}

/// A decimal amount as written in a file, kept as text so that no digit is lost before it is
/// parsed with its token's decimals: a string (`"1000000"`, `"2.5"`) or a TOML integer; with
/// `FLOATS`, a TOML float too (`0.01`, written back as the shortest text that reads as it,
/// never in exponent form). The guard's and the attestor's configs take exact amounts only;
/// replay scenarios, copied from incident reports, take floats.
///
/// ```
/// use ringfence_model::input::AmountText;
///
/// #[derive(serde::Deserialize)]
/// struct Step { amount: AmountText<true> }
///
/// #[derive(serde::Deserialize)]
/// struct Limit { max_amount: AmountText }
///
/// let s: Step = toml::from_str("amount = 0.01").unwrap();
/// assert_eq!(s.amount.0, "0.01");
/// let l: Limit = toml::from_str("max_amount = \"2.5\"").unwrap();
/// assert_eq!(l.max_amount.0, "2.5");
/// assert!(toml::from_str::<Limit>("max_amount = 0.01").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmountText<const FLOATS: bool = false>(pub String);

impl<const FLOATS: bool> serde::Serialize for AmountText<FLOATS> {
    /// Written back as a string: no digit is lost, whatever the reader.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de, const FLOATS: bool> serde::Deserialize<'de> for AmountText<FLOATS> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<const FLOATS: bool>;
        impl<const FLOATS: bool> serde::de::Visitor<'_> for V<FLOATS> {
            type Value = AmountText<FLOATS>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(if FLOATS {
                    "an amount in token units: a number, or a decimal string such as \"202440.725413\""
                } else {
                    "a decimal amount as a string, e.g. \"1000000\" or \"2.5\""
                })
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(AmountText(v.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(AmountText(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(AmountText(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Self::Value, E> {
                if FLOATS {
                    // Rust prints the shortest text that reads back as `v`, never in exponent
                    // form.
                    Ok(AmountText(format!("{v}")))
                } else {
                    Err(E::invalid_type(serde::de::Unexpected::Float(v), &self))
                }
            }
        }
        d.deserialize_any(V::<FLOATS>)
    }
}

/// How many unknown fields of one entry are taken out before the entry is given up.
const MAX_UNKNOWN_FIELDS: usize = 16;

/// True for serde's "missing field `x`" where `x` is the closest spelling of a field already
/// reported as unknown: the same mistake, already explained.
fn misspelt_missing(message: &str, removed: &[String]) -> bool {
    let Some(missing) = message
        .strip_prefix("missing field `")
        .and_then(|r| r.split_once('`'))
        .map(|(name, _)| name)
    else {
        return false;
    };
    removed.iter().any(|r| closest(r, &[missing]).is_some())
}

/// The field named by serde's "unknown field `x`, expected …" message.
fn unknown_field(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split_once('`').map(|(name, _)| name)
}

/// Removes the key `name` that serde reported at `at` (anywhere in the entry: a nested table such
/// as `route` or an array of tables such as `market`). True if a key was removed.
fn remove_key(value: &mut DeValue<'_>, name: &str, at: Option<Range<usize>>) -> bool {
    match value {
        DeValue::Table(t) => {
            let hit = t.iter().find_map(|(k, _)| {
                let here = at.as_ref().is_none_or(|r| {
                    let ks = k.span();
                    ks.start < r.end.max(r.start + 1) && r.start < ks.end.max(ks.start + 1)
                });
                (k.get_ref().as_ref() == name && here).then(|| k.clone())
            });
            if let Some(k) = hit {
                t.remove(&k);
                return true;
            }
            t.iter_mut()
                .any(|(_, v)| remove_key(v.get_mut(), name, at.clone()))
        }
        DeValue::Array(a) => a
            .iter_mut()
            .any(|v| remove_key(v.get_mut(), name, at.clone())),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Chain {
        id: String,
        rpc: String,
    }

    fn read(text: &str) -> Result<Vec<Chain>, Diagnostics> {
        let mut input = TomlInput::new(SourceFile::new("c.toml", text));
        let (doc, _) = input.document(text);
        let mut out = Vec::new();
        if let Some(v) = doc.get("chain") {
            match v.get_ref() {
                DeValue::Array(items) => {
                    for item in items {
                        if let Some(c) = input.entry(item, "chain", Some(&["id", "rpc"])) {
                            out.push(c);
                        }
                    }
                }
                _ => input.err(Some(v.span()), None, "`chain` must be `[[chain]]`", ""),
            }
        }
        input.finish(Some(out))
    }

    #[test]
    fn every_problem_is_located_at_once() {
        let err =
            read("[[chain]]\nid = \"a\"\nrcp = \"x\"\n[[chain]]\nid = 3\nrpc = \"y\"\n[[chain\n")
                .expect_err("three problems");
        let at = |line: usize, what: &str| {
            err.0
                .iter()
                .find(|d| d.line == line && d.message.contains(what))
                .unwrap_or_else(|| panic!("no `{what}` at line {line} in\n{err}"))
        };
        let typo = at(3, "unknown key `rcp` in chain");
        assert!(typo.help.contains("did you mean `rpc`"), "{err}");
        assert_eq!(typo.entity.as_deref(), Some("a"));
        at(5, "invalid type: integer `3`");
        at(7, "invalid TOML");
        assert!(
            err.0.windows(2).all(|w| w[0].line <= w[1].line),
            "in file order: {err}"
        );
    }

    #[test]
    fn a_good_file_reads() {
        let chains = read("[[chain]]\nid = \"a\"\nrpc = \"x\"\n").expect("valid");
        assert_eq!(chains.len(), 1);
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Strict {
        id: String,
        supply: u64,
        value: f64,
    }

    /// A struct that denies unknown keys: each is reported, and the entry's other problems
    /// still are, rather than the first unknown key alone. (serde meets the keys in name order:
    /// a problem after the first that is not an unknown key is not reached.)
    #[test]
    fn unknown_keys_do_not_hide_each_other_or_the_rest() {
        let text = "[[t]]\nid = \"a\"\ncolour = 1\nsuplpy = 2\nvalue = \"x\"\n";
        let mut input = TomlInput::new(SourceFile::new("s.toml", text));
        let (doc, _) = input.document(text);
        let Some(DeValue::Array(items)) = doc.get("t").map(|v| v.get_ref()) else {
            panic!("an array of tables");
        };
        let read: Read<Strict> = input.read(&items[0], Place::ListEntry("t"), None);
        assert!(matches!(read, Read::Failed));
        let err = input.finish(None::<()>).expect_err("three problems");
        let lines: Vec<_> = err.iter().map(|d| (d.line, d.message.as_str())).collect();
        assert_eq!(lines.len(), 3, "{err}");
        assert!(
            lines[0].0 == 3 && lines[0].1.starts_with("in `[[t]]`: unknown field `colour`"),
            "{err}"
        );
        assert!(
            lines[1].0 == 4 && lines[1].1.contains("unknown field `suplpy`"),
            "{err}"
        );
        assert!(
            lines[2].0 == 5 && lines[2].1.contains("invalid type"),
            "{err}"
        );
        assert!(err.0[1].help.contains("did you mean `supply`"), "{err}");
    }

    #[test]
    fn a_table_where_a_list_belongs_is_explained() {
        let text = "[step]\nt_s = 1\n";
        let mut input = TomlInput::new(SourceFile::new("s.toml", text));
        let (doc, _) = input.document(text);
        let Some((k, v)) = doc.into_iter().next() else {
            panic!("one section");
        };
        assert!(input.tables("step", k.span(), v, None).is_none());
        let d = &input.diags.0[0];
        assert_eq!(d.message, "`step` is not a list of `[[step]]` entries");
        assert!(d.help.contains("`[[step]]`") && d.line == 1, "{d}");
    }

    proptest! {
        /// Whatever the text, reading it answers with values or located problems, never a panic.
        #[test]
        fn any_text_gives_values_or_located_problems(text in "\\PC{0,200}") {
            if let Err(e) = read(&text) {
                prop_assert!(!e.is_empty());
                prop_assert!(e.iter().all(|d| d.line > 0 || d.message == "the file could not be read"));
            }
        }

        /// Any key that is not allowed is named with its line.
        #[test]
        fn unknown_keys_are_named(key in "[a-z]{1,10}") {
            prop_assume!(key != "id" && key != "rpc");
            let err = read(&format!("[[chain]]\nid = \"a\"\nrpc = \"x\"\n{key} = 1\n")).expect_err("unknown key");
            prop_assert_eq!(err.0.len(), 1);
            prop_assert_eq!(err.0[0].line, 4);
            let named = format!("unknown key `{key}`");
            prop_assert!(err.0[0].message.contains(&named));
        }
    }
}
