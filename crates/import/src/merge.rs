//! Joining specs from several sources (`ringfence import merge SPEC… -o SPEC`).
//!
//! - The same id is the same entity. So is the same address on the same chain: ids made by
//!   [`crate::chains::address_id`] (`<label>@<chain>:<0xaddress>`) are joined by their
//!   `(chain, address)` whatever their labels, and every reference to the later id is rewritten to
//!   the first.
//! - A field only one source gives is taken; a placeholder (a price or supply of 0, which
//!   importers write only for "not known"; an empty list) gives way to a value; `source` texts are
//!   joined, so every origin stays cited.
//! - Two different values for one field are a **conflict**: it is reported with both files and
//!   lines, and never silently resolved — the first input's value is kept (inputs are merged in
//!   the order given) and the entity's `source` records the other value and where it comes from.
//! - An entity whose `source` begins with `Placeholder:` (an importer's stand-in for what its data
//!   does not publish) is dropped once nothing references it after the join, and the drop is noted.
//!
//! The result is validated like any import.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ringfence_model::{Model, Spec};
use toml::Value;

use crate::chains::id_address;
use crate::{Error, Result};

/// One spec to merge and where it comes from.
#[derive(Clone, Debug)]
pub struct Input {
    /// The file, as shown in messages.
    pub file: PathBuf,
    /// Its text, for line numbers (empty when built in code).
    pub text: String,
    /// The validated spec.
    pub spec: Spec,
}

impl Input {
    /// Reads and validates a spec file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            file: path.to_owned(),
            source,
            help: "give spec files written by `ringfence import` (TOML)".to_owned(),
        })?;
        Self::from_text(path, text)
    }

    /// Validates a spec's text, naming it `file`.
    pub fn from_text(file: &Path, text: String) -> Result<Self> {
        let model = Model::from_str(&file.display().to_string(), &text)?;
        Ok(Self {
            file: file.to_owned(),
            text,
            spec: model.spec,
        })
    }

    fn line_of(&self, id: &str) -> Option<usize> {
        let span = ids(&self.spec)
            .into_iter()
            .find(|(_, r)| r.get_ref() == id)?
            .1
            .span();
        (span.end > 0)
            .then(|| {
                self.text
                    .get(..span.start)
                    .map(|t| t.matches('\n').count() + 1)
            })
            .flatten()
    }

    fn at(&self, id: &str) -> String {
        match self.line_of(id) {
            Some(l) => format!("{}:{l}", self.file.display()),
            None => self.file.display().to_string(),
        }
    }
}

fn ids(spec: &Spec) -> Vec<(&'static str, &ringfence_model::spec::Ref)> {
    let mut out = Vec::new();
    out.extend(spec.chains.iter().map(|x| ("chain", &x.id)));
    out.extend(spec.orgs.iter().map(|x| ("org", &x.id)));
    out.extend(spec.hostings.iter().map(|x| ("hosting", &x.id)));
    out.extend(spec.operators.iter().map(|x| ("operator", &x.id)));
    out.extend(spec.verifier_sets.iter().map(|x| ("verifier_set", &x.id)));
    out.extend(spec.keys.iter().map(|x| ("key", &x.id)));
    out.extend(spec.layers.iter().map(|x| ("layer", &x.id)));
    out.extend(spec.assets.iter().map(|x| ("asset", &x.id)));
    out.extend(spec.protocols.iter().map(|x| ("protocol", &x.id)));
    out.extend(spec.policies.iter().map(|x| ("policy", &x.id)));
    out
}

/// Two sources disagree on one field of one entity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The entity's kind (`layer`, `key`…).
    pub kind: String,
    /// Its id in the merged spec.
    pub id: String,
    /// The field.
    pub field: String,
    /// The value kept, as TOML, and where it comes from (`file:line`).
    pub kept: (String, String),
    /// The other value and where it comes from.
    pub other: (String, String),
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} `{}`: `{}` = {}, but {} says {}; kept the first (inputs are merged in the order given)\n  help: check which source is right; reorder the inputs to prefer the other, or fix the source data",
            self.kept.1, self.kind, self.id, self.field, self.kept.0, self.other.1, self.other.0
        )
    }
}

/// A merged spec and what happened on the way.
#[derive(Clone, Debug)]
pub struct Merged {
    /// The spec, validated.
    pub spec: Spec,
    /// Fields two sources disagree on.
    pub conflicts: Vec<Conflict>,
    /// Entities described by more than one source.
    pub joined: usize,
    /// Later ids joined to an earlier one at the same address: (later id, kept id).
    pub renamed: Vec<(String, String)>,
    /// Placeholders dropped because nothing references them after the join.
    pub dropped: Vec<String>,
    /// Notes for stderr and the header.
    pub notes: Vec<String>,
}

impl Merged {
    /// The merged spec as TOML: a header naming the inputs (with each input's own header) and
    /// what the merge did, then the spec.
    pub fn to_toml(&self, inputs: &[Input]) -> Result<String> {
        let mut header = vec![format!(
            "Merged by `ringfence import merge` from {} (the first preferred on a conflict).",
            inputs
                .iter()
                .map(|i| i.file.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )];
        for i in inputs {
            for l in i.text.lines().take_while(|l| l.starts_with('#')) {
                header.push(format!("  {}", l.trim_start_matches('#').trim()));
            }
        }
        header.push(format!(
            "{} entities described by more than one source were joined ({} of them by address under another id); {} conflict(s){}; {} placeholder(s) dropped.",
            self.joined,
            self.renamed.len(),
            self.conflicts.len(),
            if self.conflicts.is_empty() { String::new() } else { ", each recorded in the entity's source".to_owned() },
            self.dropped.len()
        ));
        crate::Import {
            source: "merge",
            spec: self.spec.clone(),
            header,
            figures: Vec::new(),
            notes: Vec::new(),
            missing: crate::MissingValues::default(),
        }
        .to_toml()
    }
}

/// The join key: the address for ids at an address (of one kind: a DVN contract may be both an
/// operator and a verifier set), else the id itself (unique across kinds).
fn key_of(section: &str, id: &str) -> String {
    match id_address(id) {
        Some((chain, address)) => format!("{section}/{chain}:{address}"),
        None => id.to_owned(),
    }
}

/// Whether a value is an importer's placeholder for "not known".
fn unset(field: &str, v: &Value) -> bool {
    match v {
        Value::Float(x) => *x == 0.0 && matches!(field, "price_usd" | "supply"),
        Value::Integer(i) => *i == 0 && matches!(field, "price_usd" | "supply"),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// Rewrites every string equal to a renamed id, except in `id` and `source` fields.
fn rewrite(v: &mut Value, renames: &BTreeMap<String, String>, field: &str) {
    match v {
        Value::String(s) if field != "source" && field != "id" => {
            if let Some(n) = renames.get(s.as_str()) {
                *s = n.clone();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite(x, renames, field)),
        Value::Table(t) => {
            for (k, x) in t.iter_mut() {
                rewrite(x, renames, k);
            }
        }
        _ => {}
    }
}

fn references(v: &Value, field: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::String(s) if field != "source" && field != "id" => {
            out.insert(s.clone());
        }
        Value::Array(a) => a.iter().for_each(|x| references(x, field, out)),
        Value::Table(t) => t.iter().for_each(|(k, x)| references(x, k, out)),
        _ => {}
    }
}

fn show(v: &Value) -> String {
    let s = v.to_string();
    if s.len() > 120 {
        format!("{}…", s.chars().take(117).collect::<String>())
    } else {
        s
    }
}

/// Merges specs in order. Pure but for validation.
pub fn merge(inputs: &[Input]) -> Result<Merged> {
    let mut m = Merger {
        inputs,
        sections: BTreeMap::new(),
        seen: BTreeMap::new(),
        conflicts: Vec::new(),
        renamed: Vec::new(),
        joined: 0,
    };
    for i in 0..inputs.len() {
        m.input(i)?;
    }
    let Merger {
        mut sections,
        conflicts,
        renamed,
        joined,
        ..
    } = m;
    let dropped = drop_placeholders(&mut sections);
    let spec = merged_spec(sections)?;
    Model::from_spec("(merged spec)", spec.clone())?;
    Ok(Merged {
        spec,
        conflicts,
        joined,
        renamed,
        dropped,
        notes: Vec::new(),
    })
}

/// The state of a merge: the entities merged so far and what happened to them.
struct Merger<'a> {
    /// The inputs, in order of preference.
    inputs: &'a [Input],
    /// Section name → merged entities (tables), in first-seen order.
    sections: BTreeMap<String, Vec<toml::Table>>,
    /// Join key → (section, index, id, input index).
    seen: BTreeMap<String, (String, usize, String, usize)>,
    /// Fields on which two inputs disagree.
    conflicts: Vec<Conflict>,
    /// Ids renamed to the first input's id for the same entity.
    renamed: Vec<(String, String)>,
    /// Entities joined with an earlier one.
    joined: usize,
}

impl Merger<'_> {
    /// Merges input `i` into the entities so far.
    fn input(&mut self, i: usize) -> Result<()> {
        let input = &self.inputs[i];
        let mut v = Value::try_from(&input.spec).map_err(Error::Toml)?;
        self.rename(i, &mut v);
        let Value::Table(top) = v else { return Ok(()) };
        for (section, items) in top {
            let Value::Array(items) = items else { continue };
            for item in items {
                let Value::Table(t) = item else { continue };
                self.entity(i, &section, t)?;
            }
        }
        Ok(())
    }

    /// Renames the ids of input `i` that an earlier input knows under another id (by key), so
    /// that references inside this input follow them.
    fn rename(&mut self, i: usize, v: &mut Value) {
        let mut renames = BTreeMap::new();
        for (section, r) in ids(&self.inputs[i].spec) {
            let id = r.get_ref();
            if let Some((_, _, first, _)) = self.seen.get(&key_of(section, id))
                && first != id
            {
                renames.insert(id.clone(), first.clone());
            }
        }
        rewrite(v, &renames, "");
        self.renamed
            .extend(renames.iter().map(|(a, b)| (a.clone(), b.clone())));
    }

    /// Adds one entity of input `i`, or joins it with the entity an earlier input gave.
    fn entity(&mut self, i: usize, section: &str, t: toml::Table) -> Result<()> {
        let Some(id) = t.get("id").and_then(Value::as_str).map(str::to_owned) else {
            self.sections.entry(section.to_owned()).or_default().push(t);
            return Ok(());
        };
        let key = key_of(section, &id);
        match self.seen.get(&key).cloned() {
            None => {
                let list = self.sections.entry(section.to_owned()).or_default();
                self.seen
                    .insert(key, (section.to_owned(), list.len(), id, i));
                list.push(t);
            }
            Some((sec, _, first_id, from)) if sec != section => {
                let inputs = self.inputs;
                return Err(Error::Invalid {
                    file: inputs[i].file.clone(),
                    at: inputs[i]
                        .line_of(&id)
                        .map_or_else(|| "the file".to_owned(), |l| format!("line {l}")),
                    message: format!(
                        "{section} `{id}` has the id (or the address) of {sec} `{first_id}` in {}; one entity cannot be two kinds",
                        inputs[from].at(&first_id)
                    ),
                    help: "rename one of them in the source that made it (ids are unique across kinds)".to_owned(),
                });
            }
            Some(first) => {
                self.joined += 1;
                self.join(i, &id, t, &first);
            }
        }
        Ok(())
    }

    /// Joins entity `t` (id `id` in input `i`) into the entity first seen as `first` (section,
    /// index, id, input index): unset fields are filled, sources appended, and a field both set
    /// differently is a conflict that keeps the first value.
    fn join(
        &mut self,
        i: usize,
        id: &str,
        mut t: toml::Table,
        first: &(String, usize, String, usize),
    ) {
        let (section, idx, first_id, from) = (first.0.as_str(), first.1, first.2.as_str(), first.3);
        let inputs = self.inputs;
        let Some(base) = self.sections.get_mut(section).and_then(|l| l.get_mut(idx)) else {
            return;
        };
        t.insert("id".to_owned(), Value::String(first_id.to_owned()));
        for (field, value) in t {
            if field == "id" {
                continue;
            }
            if field == "source" {
                let add = value.as_str().unwrap_or_default();
                let joined_src = match base.get("source").and_then(Value::as_str) {
                    Some(old) if !old.is_empty() => {
                        format!("{old} ‖ also, from {}: {add}", inputs[i].file.display())
                    }
                    _ => add.to_owned(),
                };
                base.insert(field, Value::String(joined_src));
                continue;
            }
            match base.get(&field) {
                None => {
                    base.insert(field, value);
                }
                Some(old) if *old == value => {}
                Some(old) if unset(&field, old) => {
                    base.insert(field, value);
                }
                Some(_) if unset(&field, &value) => {}
                Some(old) => {
                    let c = Conflict {
                        kind: section.to_owned(),
                        id: first_id.to_owned(),
                        field: field.clone(),
                        kept: (show(old), inputs[from].at(first_id)),
                        other: (show(&value), inputs[i].at(id)),
                    };
                    let note = format!(
                        " ‖ CONFLICT on `{}`: {} says {}; kept {} from {}",
                        c.field, c.other.1, c.other.0, c.kept.0, c.kept.1
                    );
                    let src = base
                        .get("source")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    base.insert("source".to_owned(), Value::String(format!("{src}{note}")));
                    self.conflicts.push(c);
                }
            }
        }
    }
}

/// Drops placeholders nothing references any more (twice: a set, then its members); returns
/// their ids.
fn drop_placeholders(sections: &mut BTreeMap<String, Vec<toml::Table>>) -> Vec<String> {
    let mut dropped = Vec::new();
    for _ in 0..2 {
        let mut refs = BTreeSet::new();
        for list in sections.values() {
            for t in list {
                references(&Value::Table(t.clone()), "", &mut refs);
            }
        }
        for list in sections.values_mut() {
            list.retain(|t| {
                let id = t.get("id").and_then(Value::as_str).unwrap_or_default();
                let placeholder = t
                    .get("source")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.starts_with("Placeholder:"));
                if placeholder && !refs.contains(id) {
                    dropped.push(id.to_owned());
                    false
                } else {
                    true
                }
            });
        }
    }
    dropped
}

/// The merged sections as a spec (through TOML, so that it reads as a written spec would).
fn merged_spec(sections: BTreeMap<String, Vec<toml::Table>>) -> Result<Spec> {
    let mut top = toml::Table::new();
    for (section, list) in sections {
        top.insert(
            section,
            Value::Array(list.into_iter().map(Value::Table).collect()),
        );
    }
    let text = toml::to_string(&Value::Table(top)).map_err(Error::Toml)?;
    toml::from_str(&text).map_err(|e| Error::Syntax {
        file: PathBuf::from("(merged spec)"),
        line: 0,
        column: 0,
        message: e.message().to_owned(),
        help: "the inputs do not fit together as one spec; check them with `ringfence check`"
            .to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn input(file: &str, text: &str) -> Input {
        Input {
            file: PathBuf::from(file),
            text: text.to_owned(),
            spec: Model::from_str(file, text)
                .unwrap_or_else(|d| panic!("{d}"))
                .spec,
        }
    }

    const A: &str = r#"
[[chain]]
id = "ethereum"
chain_id = 1

[[operator]]
id = "signer@ethereum:0x1111111111111111111111111111111111111111"
org = "o1"
hosting = "h1"

[[key]]
id = "safe@ethereum:0x2222222222222222222222222222222222222222"
kind = "multisig"
threshold = 1
signers = ["signer@ethereum:0x1111111111111111111111111111111111111111"]
source = "from A"

[[verifier_set]]
id = "vs-a"
threshold = 1
members = ["signer@ethereum:0x1111111111111111111111111111111111111111"]

[[layer]]
id = "hyperlane"
verifier_set = "vs-a"
admin = "safe@ethereum:0x2222222222222222222222222222222222222222"

[[asset]]
id = "USDC@ethereum:0x3333333333333333333333333333333333333333"
chain = "ethereum"
kind = "canonical"
price_usd = 0
supply = 5
route = { layer = "hyperlane" }
"#;

    const B: &str = r#"
[[chain]]
id = "ethereum"
chain_id = 1

[[operator]]
id = "placeholder-op"
org = "o"
hosting = "h"
source = "Placeholder: nobody"

[[verifier_set]]
id = "vs-b"
threshold = 1
members = ["placeholder-op"]
source = "Placeholder: unknown"

[[key]]
id = "multisig@ethereum:0x2222222222222222222222222222222222222222"
kind = "multisig"
threshold = 2
signers = ["placeholder-op", "placeholder-op2"]
source = "from B"

[[operator]]
id = "placeholder-op2"
org = "o"
hosting = "h"

[[layer]]
id = "hyperlane"
verifier_set = "vs-b"
admin = "multisig@ethereum:0x2222222222222222222222222222222222222222"

[[asset]]
id = "usdc@ethereum:0x3333333333333333333333333333333333333333"
chain = "ethereum"
kind = "canonical"
price_usd = 1.0
supply = 0
route = { layer = "hyperlane" }
"#;

    #[test]
    fn same_address_is_one_entity_and_conflicts_are_located_not_resolved_silently() {
        let m = merge(&[input("a.toml", A), input("b.toml", B)]).expect("merges");
        // The asset is joined by address: price from B fills A's placeholder, supply from A stays.
        assert_eq!(m.spec.assets.len(), 1);
        let a = &m.spec.assets[0];
        assert_eq!(
            a.id.get_ref(),
            "USDC@ethereum:0x3333333333333333333333333333333333333333"
        );
        assert_eq!((*a.price_usd.get_ref(), *a.supply.get_ref()), (1.0, 5.0));
        // The key too: B's id is renamed to A's, and B's layer admin follows.
        assert_eq!(m.spec.keys.len(), 1);
        assert!(m.renamed.contains(&(
            "multisig@ethereum:0x2222222222222222222222222222222222222222".into(),
            "safe@ethereum:0x2222222222222222222222222222222222222222".into()
        )));
        // Threshold 1 vs 2, signers, layer verifier set: conflicts, first kept, both located.
        let fields: Vec<(&str, &str)> = m
            .conflicts
            .iter()
            .map(|c| (c.kind.as_str(), c.field.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                ("key", "signers"),
                ("key", "threshold"),
                ("layer", "verifier_set")
            ]
        );
        let c = &m.conflicts[1];
        assert_eq!((c.kept.0.as_str(), c.other.0.as_str()), ("1", "2"));
        assert!(
            c.kept.1.starts_with("a.toml:") && c.other.1.starts_with("b.toml:"),
            "{c:?}"
        );
        assert!(c.to_string().contains("kept the first") && c.to_string().contains("help: "));
        let k = &m.spec.keys[0];
        assert_eq!(k.threshold, Some(1));
        let src = k.source.as_deref().unwrap_or_default();
        assert!(
            src.contains("from A")
                && src.contains("from B")
                && src.contains("CONFLICT on `threshold`"),
            "{src}"
        );
        // B's placeholder set is referenced by nothing once A's wins: dropped; its operator is
        // still a signer of nothing but was not a placeholder by source, so only the marked go.
        assert!(m.dropped.contains(&"vs-b".to_owned()), "{:?}", m.dropped);
        assert!(
            m.spec
                .verifier_sets
                .iter()
                .all(|v| v.id.get_ref() != "vs-b")
        );
        assert_eq!(m.joined, 4);
    }

    #[test]
    fn merging_a_spec_with_itself_changes_nothing() {
        let a = input("a.toml", A);
        let m = merge(&[a.clone(), a.clone()]).expect("merges");
        assert!(m.conflicts.is_empty());
        assert_eq!(m.spec.assets.len(), a.spec.assets.len());
        assert_eq!(m.spec.keys[0].threshold, a.spec.keys[0].threshold);
    }

    #[test]
    fn one_id_of_two_kinds_is_a_located_error() {
        let chain = input("c.toml", "[[chain]]\nid = \"ronin\"\n");
        let layer = input(
            "l.toml",
            "[[chain]]\nid = \"x\"\n\n[[operator]]\nid = \"o\"\norg = \"o\"\nhosting = \"h\"\n\n[[verifier_set]]\nid = \"v\"\nthreshold = 1\nmembers = [\"o\"]\n\n[[layer]]\nid = \"ronin\"\nverifier_set = \"v\"\n",
        );
        let e = merge(&[chain, layer]).expect_err("two kinds").to_string();
        assert!(e.starts_with("l.toml: at line 15: layer `ronin` has the id (or the address) of chain `ronin` in c.toml:2"), "{e}");
        assert!(e.contains("help: rename one"), "{e}");
    }

    proptest! {
        /// Merging never loses an entity: every id of every input is in the result, as itself
        /// or renamed to the entity at the same address.
        #[test]
        fn no_entity_is_lost(n in 1usize..6, threshold_b in 1u32..3, price in 0.0f64..10.0) {
            let b = B.replace("threshold = 2", &format!("threshold = {threshold_b}")).replace("price_usd = 1.0", &format!("price_usd = {price}"));
            let inputs: Vec<Input> = (0..n).map(|i| if i % 2 == 0 { input("a.toml", A) } else { input("b.toml", &b) }).collect();
            let m = merge(&inputs).expect("merges");
            let out: BTreeSet<String> = ids(&m.spec).into_iter().map(|(_, r)| r.get_ref().clone()).collect();
            for inp in &inputs {
                for (_, r) in ids(&inp.spec) {
                    let id = r.get_ref();
                    let kept = m.renamed.iter().find(|(a, _)| a == id).map_or(id, |(_, b)| b);
                    prop_assert!(out.contains(kept) || m.dropped.contains(id), "{} lost", id);
                }
            }
        }
    }
}
