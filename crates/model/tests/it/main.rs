//! Behaviour of spec loading: every kind of bad input is reported with its file, line, entity and
//! fix, all at once, and never panics.

use std::path::PathBuf;

use proptest::prelude::*;
use ringfence_model::{Diagnostics, Model, spec::Spec, test_utils::synthetic};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/spec")
}

const BASE: &str = r#"
[[chain]]
id = "eth"
chain_id = 1

[[operator]]
id = "op-a"
org = "A"
hosting = "aws"

[[operator]]
id = "op-b"
org = "B"
hosting = "gcp"

[[verifier_set]]
id = "vs"
threshold = 2
members = ["op-a", "op-b"]

[[layer]]
id = "bridge"
verifier_set = "vs"
"#;

fn errors(extra: &str) -> Diagnostics {
    match Model::from_str("eco.toml", &format!("{BASE}{extra}")) {
        Ok(_) => panic!("expected errors for:\n{extra}"),
        Err(d) => d,
    }
}

/// The one error of `extra` (added to the base spec): its entity, a part of its message.
fn one(extra: &str, entity: Option<&str>, needle: &str) -> ringfence_model::Diagnostic {
    let d = errors(extra);
    assert_eq!(d.len(), 1, "expected one error, got:\n{d}");
    let e = d.0[0].clone();
    assert_eq!(e.entity.as_deref(), entity, "{e}");
    assert!(e.message.contains(needle), "`{needle}` not in: {e}");
    assert!(!e.help.is_empty(), "no help: {e}");
    assert_eq!(e.file, PathBuf::from("eco.toml"));
    e
}

/// As [`one`], at `line` of the extra text (1-based, counted from the first line of `extra`).
fn one_at(
    extra: &str,
    entity: Option<&str>,
    needle: &str,
    line: usize,
) -> ringfence_model::Diagnostic {
    let e = one(extra, entity, needle);
    assert_eq!(e.line, base_lines() + line, "{e}");
    e
}

fn base_lines() -> usize {
    BASE.lines().count()
}

#[test]
fn valid_base_loads() {
    let m = Model::from_str("eco.toml", BASE).expect("valid");
    assert_eq!(m.layers.len(), 1);
    assert!(m.component("org:A").is_some());
    assert!(m.component("hosting:gcp").is_some());
}

#[test]
fn invalid_toml() {
    one_at("[[asset]\nid = \"x\"\n", None, "invalid TOML", 1);
}

#[test]
fn unknown_key_names_line_and_suggests() {
    let e = one_at(
        "[[asset]]\nid = \"X\"\nchain = \"eth\"\nkind = \"wrapped\"\nprice_usd = 1\nsuplpy = 5\n",
        Some("X"),
        "unknown field `suplpy`",
        6,
    );
    assert!(e.help.contains("`supply`"), "{e}");
}

#[test]
fn wrong_type() {
    one_at(
        "[[chain]]\nid = \"arb\"\nchain_id = \"42161\"\n",
        Some("arb"),
        "invalid type",
        3,
    );
}

#[test]
fn unknown_enum_value() {
    one(
        "[[asset]]\nid = \"X\"\nchain = \"eth\"\nkind = \"bond\"\nprice_usd = 1\nsupply = 5\n",
        Some("X"),
        "unknown variant `bond`",
    );
}

#[test]
fn duplicate_id_across_kinds_points_at_the_first() {
    let e = one_at(
        "[[key]]\nid = \"bridge\"\nkind = \"eoa\"\n",
        Some("bridge"),
        "duplicate id `bridge`",
        2,
    );
    assert!(
        e.message
            .contains("already used by a `layer` at eco.toml:22"),
        "{e}"
    );
}

#[test]
fn dangling_reference_suggests_the_closest_id() {
    let e = one_at(
        "[[asset]]\nid = \"X\"\nchain = \"eth\"\nkind = \"wrapped\"\nprice_usd = 1\nsupply = 5\nroute = { layer = \"brigde\" }\n",
        Some("X"),
        "unknown layer `brigde`",
        7,
    );
    assert!(e.help.contains("did you mean `bridge`"), "{e}");
}

#[test]
fn reference_to_the_wrong_kind() {
    one(
        "[[asset]]\nid = \"X\"\nchain = \"bridge\"\nkind = \"native\"\nprice_usd = 1\nsupply = 5\n",
        Some("X"),
        "which is a layer, not a chain",
    );
}

#[test]
fn share_out_of_range() {
    let d = errors(
        "[[asset]]\nid = \"A\"\nchain = \"eth\"\nkind = \"native\"\nprice_usd = 1\nsupply = 5\n\
         [[asset]]\nid = \"B\"\nchain = \"eth\"\nkind = \"lst\"\nprice_usd = 1\nsupply = 5\nbacking = [{ asset = \"A\", share = 1.5 }]\n",
    );
    // 1.5 is out of (0, 1] and also sums over 1: both are said.
    assert!(
        d.iter().any(|e| e.message.contains("`share` is 1.5")),
        "{d}"
    );
    assert!(d.iter().all(|e| e.entity.as_deref() == Some("B")), "{d}");
}

#[test]
fn shares_summing_over_one() {
    one(
        "[[asset]]\nid = \"A\"\nchain = \"eth\"\nkind = \"native\"\nprice_usd = 1\nsupply = 5\n\
         [[asset]]\nid = \"C\"\nchain = \"eth\"\nkind = \"native\"\nprice_usd = 1\nsupply = 5\n\
         [[asset]]\nid = \"B\"\nchain = \"eth\"\nkind = \"lst\"\nprice_usd = 1\nsupply = 5\nbacking = [{ asset = \"A\", share = 0.6 }, { asset = \"C\", share = 0.6 }]\n",
        Some("B"),
        "sum to 1.2",
    );
}

#[test]
fn shares_summing_to_one_with_rounding_are_fine() {
    Model::from_str(
        "eco.toml",
        &format!(
            "{BASE}[[asset]]\nid = \"A\"\nchain = \"eth\"\nkind = \"native\"\nprice_usd = 1\nsupply = 5\n\
             [[asset]]\nid = \"B\"\nchain = \"eth\"\nkind = \"lst\"\nprice_usd = 1\nsupply = 5\n\
             backing = [{{ asset = \"A\", share = 0.1 }}, {{ asset = \"A\", share = 0.2 }}, {{ asset = \"A\", share = 0.7 }}]\n"
        ),
    )
    .expect("0.1 + 0.2 + 0.7 is 1");
}

#[test]
fn negative_amount() {
    one_at(
        "[[asset]]\nid = \"X\"\nchain = \"eth\"\nkind = \"native\"\nprice_usd = 1\nsupply = -5\n",
        Some("X"),
        "`supply` is -5",
        6,
    );
}

#[test]
fn cycle_in_backing_names_the_cycle() {
    let d = errors(
        "[[asset]]\nid = \"A\"\nchain = \"eth\"\nkind = \"lst\"\nprice_usd = 1\nsupply = 5\nbacking = [{ asset = \"B\", share = 1 }]\n\
         [[asset]]\nid = \"B\"\nchain = \"eth\"\nkind = \"lst\"\nprice_usd = 1\nsupply = 5\nbacking = [{ asset = \"A\", share = 1 }]\n\
         [[asset]]\nid = \"S\"\nchain = \"eth\"\nkind = \"lst\"\nprice_usd = 1\nsupply = 5\nbacking = [{ asset = \"S\", share = 1 }]\n",
    );
    assert_eq!(d.len(), 2, "{d}");
    assert!(d.0[0].message.contains("backing cycle: A → B → A"), "{d}");
    assert!(d.0[1].message.contains("backing cycle: S → S"), "{d}");
}

#[test]
fn threshold_above_members() {
    one(
        "[[verifier_set]]\nid = \"v2\"\nthreshold = 3\nmembers = [\"op-a\"]\n",
        Some("v2"),
        "`threshold` is 3 with 1 member",
    );
}

#[test]
fn multisig_without_threshold() {
    one(
        "[[key]]\nid = \"k\"\nkind = \"multisig\"\nsigners = [\"op-a\", \"op-b\"]\n",
        Some("k"),
        "needs a `threshold`",
    );
}

#[test]
fn policy_needs_one_target() {
    one(
        "[[policy]]\nid = \"p\"\nscope = \"ecosystem\"\nmax_share = 0.5\n",
        Some("p"),
        "exactly one of",
    );
}

#[test]
fn all_problems_in_one_run() {
    let d = errors(
        "[[chain]]\nid = \"eth\"\nchain_id = 2\n\
         [[asset]]\nid = \"X\"\nchain = \"nope\"\nkind = \"native\"\nprice_usd = -1\nsupply = 5\n\
         [[asset]]\nid = \"Y\"\nchain = \"eth\"\nkind = \"native\"\nprice_usd = 1\nsupply = 5\ncolour = \"red\"\n",
    );
    assert_eq!(d.len(), 4, "{d}");
    // Sorted by line.
    let lines: Vec<usize> = d.iter().map(|e| e.line).collect();
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted);
}

#[test]
fn references_to_an_entry_that_failed_to_parse_are_not_reported_twice() {
    let d = errors(
        "[[chain]]\nid = \"arb\"\nchain_id = \"x\"\n\
         [[asset]]\nid = \"X\"\nchain = \"arb\"\nkind = \"native\"\nprice_usd = 1\nsupply = 5\n",
    );
    assert_eq!(d.len(), 1, "{d}");
}

#[test]
fn a_directory_is_merged_and_only_toml_files_are_read() {
    let m = Model::load(&fixtures().join("split")).expect("valid directory");
    assert_eq!(m.assets.len(), 1);
    assert_eq!(m.files.len(), 2);
    assert_eq!(m.assets[0].value_usd, 100.0);
}

#[test]
fn errors_in_a_directory_name_the_right_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("a.toml"),
        "[[chain]]\nid = \"eth\"\nchain_id = 1\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("b.toml"), "\n\n[[asset]]\nid = \"X\"\nchain = \"eht\"\nkind = \"native\"\nprice_usd = 1\nsupply = 1\n").expect("write");
    let d = Model::load(dir.path()).expect_err("dangling chain");
    assert_eq!(d.0[0].file, dir.path().join("b.toml"));
    assert_eq!(d.0[0].line, 5);
    assert!(d.0[0].help.contains("did you mean `eth`"), "{d}");
}

#[test]
fn missing_file_and_empty_directory_are_clear() {
    let d = Model::load(&fixtures().join("nope.toml")).expect_err("missing");
    assert!(d.0[0].message.contains("cannot read the file"), "{d}");
    let dir = tempfile::tempdir().expect("tempdir");
    let d = Model::load(dir.path()).expect_err("empty");
    assert!(d.0[0].message.contains("no *.toml file"), "{d}");
}

#[test]
fn the_shipped_example_is_valid() {
    let m = Model::load(&fixtures().join("../../../examples/ecosystem.toml"));
    assert!(m.is_ok(), "{}", m.err().unwrap_or_default());
}

#[test]
fn a_serialized_spec_loads_back_equal() {
    let spec = synthetic(200, 11);
    let text = toml::to_string(&spec).expect("serialize");
    let m = Model::from_str("roundtrip.toml", &text).expect("valid");
    let again: Spec = m.spec.clone();
    assert_eq!(toml::to_string(&again).expect("serialize"), text);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    /// Arbitrary text never panics the loader; it loads or gives located errors.
    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        if let Err(d) = Model::from_str("fuzz.toml", &text) {
            prop_assert!(!d.is_empty());
        }
    }

    /// Corrupting a valid spec (deleting, duplicating or garbling one line) never panics, and
    /// every error is located within the file.
    #[test]
    fn mutated_specs_give_located_errors(seed in 0u64..1000, line in 0usize..400, op in 0u8..4) {
        let text = toml::to_string(&synthetic(20, seed)).expect("serialize");
        let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
        let i = line % lines.len();
        match op {
            0 => { lines.remove(i); }
            1 => { let l = lines[i].clone(); lines.insert(i, l); }
            2 => { lines[i] = lines[i].replace('"', ""); }
            _ => { lines[i] = lines[i].replace('1', "-1"); }
        }
        let mutated = lines.join("\n");
        let n = mutated.lines().count().max(1);
        if let Err(d) = Model::from_str("mut.toml", &mutated) {
            for e in d.iter() {
                prop_assert!(e.line >= 1 && e.line <= n + 1, "{e}");
                prop_assert!(!e.help.is_empty(), "{e}");
            }
        }
    }
}
