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
        let mut entry = entry;
        // An unknown field is reported, then taken out and the entry read again, so that it does
        // not hide the entry's other problems (a typo'd reference, a negative amount…), which
        // validation reports once the entry is in the spec. A field then missing because it was
        // the misspelt one (`suplpy` for `supply`) is not reported twice.
        let mut removed: Vec<String> = Vec::new();
        for _ in 0..MAX_UNKNOWN_FIELDS {
            let e = match T::deserialize(ValueDeserializer::from(entry.clone())) {
                Ok(v) => {
                    out.push(v);
                    break;
                }
                Err(e) => e,
            };
            let message = first_line(e.message()).to_owned();
            if misspelt_missing(&message, &removed) {
                if let Some(id) = &id {
                    broken.insert(id.clone());
                }
                break;
            }
            let help = serde_help(&format!("[[{section}]]"), &message);
            diags.push(file.diagnostic(
                e.span().or(Some(span.clone())),
                id.as_deref(),
                format!("in `[[{section}]]`: {message}"),
                help,
            ));
            let unknown = unknown_field(&message);
            let taken_out = unknown.is_some_and(|name| remove_key(entry.get_mut(), name, e.span()));
            if let (true, Some(name)) = (taken_out, unknown) {
                removed.push(name.to_owned());
            } else {
                if let Some(id) = &id {
                    broken.insert(id.clone());
                }
                break;
            }
        }
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
fn remove_key(value: &mut DeValue<'_>, name: &str, at: Option<std::ops::Range<usize>>) -> bool {
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

    /// Regression (issue 10 item 8): an unknown field hid the same entry's other problems.
    #[test]
    fn unknown_fields_do_not_hide_the_entry() {
        let (s, d) = parse(
            "[[asset]]\nid = \"X\"\nchain = \"ehh\"\ncolour = \"red\"\nkind = \"native\"\nprice_usd = 1\nsupply = -3\nshade = 2\nroute = { layer = \"l\", colr = 1 }\n",
        );
        let d = d.sorted();
        assert_eq!(d.len(), 3, "{d}");
        assert!(
            d.0.iter().all(|x| x.message.contains("unknown field")),
            "{d}"
        );
        assert_eq!(d.0[0].line, 4, "{d}");
        assert_eq!(d.0[1].line, 8, "{d}");
        assert_eq!(d.0[2].line, 9, "{d}");
        assert_eq!(
            s.assets.len(),
            1,
            "the entry is read without the unknown fields"
        );
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
