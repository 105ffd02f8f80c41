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
use toml::de::{DeTable, DeValue, ValueDeserializer};

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
    /// recorded where it is written, under the entry's `id` when it has one.
    pub fn entry<T: DeserializeOwned>(
        &mut self,
        v: &Spanned<DeValue<'_>>,
        what: &str,
        keys: Option<&[&str]>,
    ) -> Option<T> {
        let DeValue::Table(t) = v.get_ref() else {
            self.err(
                Some(v.span()),
                None,
                format!("a `{what}` entry must be a table"),
                format!("write it as `[{what}]` or `[[{what}]]` followed by `key = value` lines"),
            );
            return None;
        };
        let id = t
            .get("id")
            .and_then(|v| v.get_ref().as_str())
            .map(str::to_owned);
        let mut ok = true;
        if let Some(keys) = keys {
            for (k, _) in t.iter() {
                let key: &str = k.get_ref().as_ref();
                if !keys.contains(&key) {
                    ok = false;
                    let help = match closest(key, keys) {
                        Some(near) => {
                            format!("did you mean `{near}`? allowed keys here: {}", list(keys))
                        }
                        None => format!("allowed keys here: {}", list(keys)),
                    };
                    self.err(
                        Some(k.span()),
                        id.as_deref(),
                        format!("unknown key `{key}` in {what}"),
                        help,
                    );
                }
            }
        }
        match T::deserialize(ValueDeserializer::from(v.clone())) {
            Ok(x) if ok => Some(x),
            Ok(_) => None,
            Err(e) => {
                let message = first_line(e.message()).to_owned();
                let help = serde_help(what, &message);
                self.err(
                    e.span().or_else(|| Some(v.span())),
                    id.as_deref(),
                    format!("in `{what}`: {message}"),
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
