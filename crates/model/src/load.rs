//! Reading spec files: TOML syntax, sections and fields, with every problem located.
//!
//! Each `[[kind]]` entry is deserialized on its own, so that one bad entry does not hide the
//! problems of the others: a run reports everything it can find.

use std::collections::HashSet;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::de::DeArray;

use crate::diag::{Diagnostic, Diagnostics, SourceFile, closest};
use crate::input::{Place, TomlInput, entry_id};
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
/// with problems are left out of the result, but for unknown keys: an entry is read without
/// them (each reported), so that validation still reports its other problems.
///
/// The ids of entries that could not be read are added to `broken`, so that references to them
/// are not reported a second time as unknown.
pub(crate) fn parse_file(
    file: &SourceFile,
    diags: &mut Diagnostics,
    broken: &mut HashSet<String>,
) -> Spec {
    let mut input = TomlInput::new(file.clone());
    let spec = read_spec(&mut input, &file.text, broken);
    diags.0.extend(input.diags.0);
    spec
}

/// Reads the sections of `text`, the text of `input`'s file.
fn read_spec(input: &mut TomlInput, text: &str, broken: &mut HashSet<String>) -> Spec {
    let mut spec = Spec::default();
    let (root, had_syntax_errors) = input.document(text);
    if had_syntax_errors {
        // A partial parse would only add confusing follow-on errors.
        return spec;
    }
    for (key, value) in root {
        let section = key.get_ref().as_ref();
        let known = SECTIONS.contains(&section);
        let help = (!known).then(|| unknown_section_help(section));
        let Some(entries) = input.tables(section, key.span(), value, help) else {
            continue;
        };
        let r = Entries {
            input: &mut *input,
            section,
            entries,
            broken: &mut *broken,
        };
        match section {
            "chain" => r.read_into(&mut spec.chains),
            "org" => r.read_into(&mut spec.orgs),
            "hosting" => r.read_into(&mut spec.hostings),
            "operator" => r.read_into(&mut spec.operators),
            "verifier_set" => r.read_into(&mut spec.verifier_sets),
            "key" => r.read_into(&mut spec.keys),
            "layer" => r.read_into(&mut spec.layers),
            "asset" => r.read_into(&mut spec.assets),
            "protocol" => r.read_into(&mut spec.protocols),
            "claim" => r.read_into(&mut spec.claims),
            "policy" => r.read_into(&mut spec.policies),
            "range" => r.read_into(&mut spec.ranges),
            other => input.err(
                Some(key.span()),
                None,
                format!("unknown section `[[{other}]]`"),
                unknown_section_help(other),
            ),
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

/// The entries of one `[[section]]` of a file, to be read into the spec.
struct Entries<'i, 'a> {
    input: &'i mut TomlInput,
    section: &'i str,
    entries: DeArray<'a>,
    broken: &'i mut HashSet<String>,
}

impl Entries<'_, '_> {
    /// Reads each entry into `out`; the id of each one that cannot be read goes to `broken`.
    fn read_into<T: DeserializeOwned>(self, out: &mut Vec<T>) {
        out.reserve(self.entries.len());
        for entry in self.entries.iter() {
            match self
                .input
                .read(entry, Place::ListEntry(self.section), None)
                .value()
            {
                Some(v) => out.push(v),
                None => {
                    if let Some(id) = entry_id(entry) {
                        self.broken.insert(id.to_owned());
                    }
                }
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
