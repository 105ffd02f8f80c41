//! The config document: what the parser reads is what `toml::to_string` writes back, and the
//! TOML written resolves to the same guard.

use std::path::Path;

use ringfence_guard::GuardDocument;
use ringfence_guard::config::{parse, parse_document};

use crate::EXAMPLE;

/// Every action kind and the keys the example leaves out: several endpoints with a quorum, a
/// `match_on` entry with a scale and a fee and another key, a cancel with `only_if`, webhooks
/// with every key, a privileged rule narrowed to some layers with a severity.
const EVERY_KEY: &str = include_str!("fixtures/every_key.toml");

/// Reads `text`, writes its document back and reads that: the same document and the same
/// resolved guard.
fn round_trip(text: &str) -> GuardDocument {
    let path = Path::new("g.toml");
    let doc = parse_document(path, text).unwrap_or_else(|e| panic!("config should parse:\n{e}"));
    let written = toml::to_string(&doc).expect("a document serialises");
    let again = parse_document(path, &written)
        .unwrap_or_else(|e| panic!("the written config should parse:\n{e}\n{written}"));
    assert_eq!(again, doc, "{written}");
    let (a, b) = (
        parse(path, text).expect("valid"),
        parse(path, &written).expect("valid"),
    );
    assert_eq!(format!("{a:?}"), format!("{b:?}"), "{written}");
    doc
}

#[test]
fn the_example_config_round_trips() {
    let doc = round_trip(EXAMPLE);
    assert_eq!(doc.rule.len(), crate::spec(EXAMPLE).rules.len());
}

#[test]
fn every_key_round_trips() {
    let doc = round_trip(EVERY_KEY);
    let kinds: Vec<&str> = doc.action.iter().map(|a| a.kind()).collect();
    assert_eq!(kinds, ["cancel", "pause", "webhook", "webhook"]);
    let spec = crate::spec(EVERY_KEY);
    let names: Vec<&str> = spec.rules.iter().map(|r| r.kind.name()).collect();
    let written: Vec<&str> = doc.rule.iter().map(|r| r.kind()).collect();
    assert_eq!(names, written);
}

#[test]
fn a_document_reads_back_what_was_written_not_the_defaults() {
    let doc = round_trip(EVERY_KEY);
    let written = toml::to_string(&doc).expect("a document serialises");
    // A `match_on` entry without a scale or a fee stays a bare name; an amount stays a string.
    assert!(
        written.contains(r#"match_on = ["asset", "id", { name = "amount", scale = 12, fee_bps = 30 }, "recipient"]"#),
        "{written}"
    );
    assert!(written.contains("max_amount = \"1000000\""), "{written}");
    // Keys left out are not written (their defaults are the resolver's).
    assert!(!written.contains("gas_limit = 200000"), "{written}");
}
