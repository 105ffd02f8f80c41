//! Reading spec files: TOML syntax, sections and fields, with every problem located.
//!
//! Each `[[kind]]` entry is deserialized on its own, so that one bad entry does not hide the
//! problems of the others: a run reports everything it can find.

use std::collections::HashSet;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue, ValueDeserializer};

use crate::diag::{Diagnostic, Diagnostics, SourceFile, closest, first_line, serde_help};
use crate::spec::{SECTIONS, Spec};

/// Reads a spec from a file, or from every `*.toml` file of a directory (sorted by name, not
/// recursive).
pub(crate) fn read_sources(path: &Path) -> Result<Vec<SourceFile>, Diagnostics> {
    let mut diags = Diagnostics::default();
    let paths = if path.is_dir() {
        match std::fs::read_dir(path) {
            Ok(entries) => {
                let mut paths: Vec<_> = entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
                    .collect();
                paths.sort();
                if paths.is_empty() {
                    diags.push(Diagnostic::file(
                        path,
                        "the directory holds no *.toml file",
                        "point at a spec file, or at a directory of *.toml spec files",
                    ));
                }
                paths
            }
            Err(e) => {
                diags.push(Diagnostic::file(
                    path,
                    format!("cannot read the directory: {e}"),
                    "check the path and its permissions",
                ));
                Vec::new()
            }
        }
    } else {
        vec![path.to_owned()]
    };
    let mut files = Vec::with_capacity(paths.len());
    for p in paths {
        match std::fs::read(&p) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => files.push(SourceFile::new(p, text)),
                Err(e) => diags.push(Diagnostic::file(
                    &p,
                    format!(
                        "the file is not UTF-8 text (bad byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                    "save the spec as UTF-8 TOML",
                )),
            },
            Err(e) => diags.push(Diagnostic::file(
                &p,
                format!("cannot read the file: {e}"),
                "check the path and its permissions",
            )),
        }
    }
    diags.into_result(files)
}

/// Parses one file into a [`Spec`], adding every syntax and field problem to `diags`. Entries
/// with problems are left out of the result.
///
/// The ids of entries that could not be read are added to `broken`, so that references to them
/// are not reported a second time as unknown.
pub(crate) fn parse_file(
    file: &SourceFile,
    diags: &mut Diagnostics,
    broken: &mut HashSet<String>,
) -> Spec {
    let mut spec = Spec::default();
    let (root, errors) = DeTable::parse_recoverable(&file.text);
    let had_syntax_errors = !errors.is_empty();
    for e in errors {
        diags.push(file.diagnostic(
            e.span(),
            None,
            format!("invalid TOML: {}", first_line(e.message())),
            "fix the TOML syntax at this place (quotes, brackets, `key = value`)",
        ));
    }
    if had_syntax_errors {
        // A partial parse would only add confusing follow-on errors.
        return spec;
    }
    for (key, value) in root.into_inner() {
        let section = key.get_ref().as_ref();
        let entries: Vec<_> = match value.into_inner() {
            DeValue::Array(a) => a.into_iter().collect(),
            _ => {
                let help = if SECTIONS.contains(&section) {
                    format!("write each {section} as an array-of-tables entry: `[[{section}]]`")
                } else {
                    unknown_section_help(section)
                };
                diags.push(file.diagnostic(
                    Some(key.span()),
                    None,
                    format!("`{section}` is not a list of `[[{section}]]` entries"),
                    help,
                ));
                continue;
            }
        };
        match section {
            "chain" => parse_entries(file, section, entries, diags, broken, &mut spec.chains),
            "org" => parse_entries(file, section, entries, diags, broken, &mut spec.orgs),
            "hosting" => parse_entries(file, section, entries, diags, broken, &mut spec.hostings),
            "operator" => parse_entries(file, section, entries, diags, broken, &mut spec.operators),
            "verifier_set" => parse_entries(
                file,
                section,
                entries,
                diags,
                broken,
                &mut spec.verifier_sets,
            ),
            "key" => parse_entries(file, section, entries, diags, broken, &mut spec.keys),
            "layer" => parse_entries(file, section, entries, diags, broken, &mut spec.layers),
            "asset" => parse_entries(file, section, entries, diags, broken, &mut spec.assets),
            "protocol" => parse_entries(file, section, entries, diags, broken, &mut spec.protocols),
            "claim" => parse_entries(file, section, entries, diags, broken, &mut spec.claims),
            "policy" => parse_entries(file, section, entries, diags, broken, &mut spec.policies),
            "range" => parse_entries(file, section, entries, diags, broken, &mut spec.ranges),
            other => diags.push(file.diagnostic(
                Some(key.span()),
                None,
                format!("unknown section `[[{other}]]`"),
                unknown_section_help(other),
            )),
        }
    }
    spec
}

fn unknown_section_help(section: &str) -> String {
    let mut help = format!("the sections are {}", SECTIONS.join(", "));
    if let Some(near) = closest(section, SECTIONS) {
        help = format!("did you mean `[[{near}]]`? {help}");
    }
    help
}

fn parse_entries<T: DeserializeOwned>(
    file: &SourceFile,
    section: &str,
    entries: Vec<Spanned<DeValue<'_>>>,
    diags: &mut Diagnostics,
    broken: &mut HashSet<String>,
    out: &mut Vec<T>,
) {
    for entry in entries {
        let span = entry.span();
        let id = entry
            .get_ref()
            .as_table()
            .and_then(|t| t.get("id"))
            .and_then(|v| v.get_ref().as_str())
            .map(str::to_owned);
        if !entry.get_ref().is_table() {
            diags.push(file.diagnostic(
                Some(span),
                None,
                format!("a `{section}` entry must be a table"),
                format!("write it as `[[{section}]]` followed by `key = value` lines"),
            ));
            continue;
        }
        match T::deserialize(ValueDeserializer::from(entry)) {
            Ok(v) => out.push(v),
            Err(e) => {
                if let Some(id) = &id {
                    broken.insert(id.clone());
                }
                let message = first_line(e.message()).to_owned();
                let help = serde_help(&format!("[[{section}]]"), &message);
                diags.push(file.diagnostic(
                    e.span().or(Some(span)),
                    id.as_deref(),
                    format!("in `[[{section}]]`: {message}"),
                    help,
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Spec, Diagnostics) {
        let mut d = Diagnostics::default();
        let s = parse_file(
            &SourceFile::new("t.toml", text),
            &mut d,
            &mut HashSet::new(),
        );
        (s, d)
    }

    #[test]
    fn reads_every_section() {
        let (s, d) = parse(
            "[[chain]]\nid = \"eth\"\nchain_id = 1\n[[operator]]\nid = \"o\"\norg = \"A\"\nhosting = \"aws\"\n",
        );
        assert!(d.is_empty(), "{d}");
        assert_eq!(s.chains.len(), 1);
        assert_eq!(s.operators[0].org.get_ref(), "A");
    }

    #[test]
    fn unknown_key_is_located_and_suggests_the_spelling() {
        let (_, d) = parse("[[chain]]\nid = \"eth\"\nchain_idd = 1\n");
        assert_eq!(d.len(), 1, "{d}");
        let e = &d.0[0];
        assert_eq!((e.line, e.entity.as_deref()), (3, Some("eth")));
        assert!(e.message.contains("unknown field `chain_idd`"), "{e}");
        assert!(e.help.contains("did you mean `chain_id`"), "{e}");
    }

    #[test]
    fn every_bad_entry_is_reported_not_only_the_first() {
        let (s, d) = parse(
            "[[chain]]\nid = \"a\"\nchain_id = \"one\"\n[[chain]]\nid = \"b\"\nchain_id = -5\n[[chain]]\nid = \"c\"\nchain_id = 3\n",
        );
        assert_eq!(d.len(), 2, "{d}");
        assert_eq!(s.chains.len(), 1);
    }

    #[test]
    fn unknown_section_suggests_the_closest() {
        let (_, d) = parse("[[assets]]\nid = \"x\"\n");
        assert!(d.0[0].help.contains("did you mean `[[asset]]`"), "{d}");
    }

    #[test]
    fn syntax_error_has_a_line() {
        let (_, d) = parse("[[chain]]\nid = \"a\nchain_id = 1\n");
        assert!(!d.is_empty());
        assert!(d.0[0].line >= 2, "{d}");
        assert!(d.0[0].message.starts_with("invalid TOML"));
    }

    #[test]
    fn table_instead_of_array_is_explained() {
        let (_, d) = parse("[chain]\nid = \"a\"\nchain_id = 1\n");
        assert!(d.0[0].help.contains("[[chain]]"), "{d}");
    }

    #[test]
    fn negative_integer_threshold_is_a_located_error() {
        let (_, d) = parse("[[verifier_set]]\nid = \"v\"\nthreshold = -1\nmembers = []\n");
        assert_eq!(d.0[0].line, 3, "{d}");
        assert_eq!(d.0[0].entity.as_deref(), Some("v"));
    }
}
