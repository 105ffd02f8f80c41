//! The scenario parser never panics and always locates its errors.

use proptest::prelude::*;
use ringfence_lab::Scenario;
use ringfence_model::SourceFile;

const GOOD: &str = include_str!("../../../../incidents/resolv-usr-2026-03.toml");

/// `text` with `del` bytes at `pos` replaced by `ins` (both ends moved to char boundaries).
fn mutate(text: &str, pos: usize, del: usize, ins: &str) -> String {
    let mut text = text.to_owned();
    let pos = pos.min(text.len());
    let pos = (0..=pos)
        .rev()
        .find(|p| text.is_char_boundary(*p))
        .unwrap_or(0);
    let end = (pos + del).min(text.len());
    let end = (end..=text.len())
        .find(|p| text.is_char_boundary(*p))
        .unwrap_or(text.len());
    text.replace_range(pos..end, ins);
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = Scenario::parse(&SourceFile::new("x.toml", text));
    }

    #[test]
    fn mutated_scenarios_never_panic_and_errors_are_located(pos in 0usize..2000, del in 0usize..8, ins in "[ -~\n]{0,6}") {
        let text = mutate(GOOD, pos, del, &ins);
        if let Err(d) = Scenario::parse(&SourceFile::new("x.toml", text.clone())) {
            prop_assert!(!d.is_empty());
            for x in d.iter() {
                prop_assert!(x.line <= text.lines().count() + 1);
                prop_assert!(!x.message.is_empty() && !x.help.is_empty());
            }
        }
    }
}

const SWAP: &str = include_str!("../../../../incidents/admin-verifier-swap-variant.toml");

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// The admin and poisoned-RPC keys survive mutation the same way.
    #[test]
    fn mutated_admin_scenarios_never_panic(pos in 0usize..3000, del in 0usize..8, ins in "[ -~\n]{0,6}") {
        let text = mutate(SWAP, pos, del, &ins);
        if let Err(d) = Scenario::parse(&SourceFile::new("x.toml", text.clone())) {
            for x in d.iter() {
                prop_assert!(x.line <= text.lines().count() + 1);
                prop_assert!(!x.message.is_empty() && !x.help.is_empty());
            }
        }
    }
}

/// Each mistake in an admin or poisoned step: located, named, with its fix.
#[test]
fn admin_and_rpc_mistakes_are_located() {
    let s = Scenario::parse(&SourceFile::new("swap.toml", SWAP)).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(
        s.steps[0].action.map(|a| a.name()),
        Some("replace-verifier")
    );
    let cases = [
        (
            "action = \"replace-verifier\"",
            "action = \"replace-verifer\"",
            "did you mean `replace-verifier`",
        ),
        ("action = \"replace-verifier\"\n", "", "needs an `action`"),
        (
            "kind = \"admin\"\n",
            "",
            "`action` belongs to `kind = \"admin\"` steps",
        ),
        (
            "action = \"replace-verifier\"",
            "action = \"replace-verifier\"\namount = 5",
            "moves no tokens",
        ),
        (
            "amount = 116500",
            "amount = 116500\nrpc = \"lying\"",
            "unknown rpc `lying`",
        ),
    ];
    for (from, to, want) in cases {
        let text = SWAP.replacen(from, to, 1);
        assert_ne!(text, SWAP, "{from}");
        let d = Scenario::parse(&SourceFile::new("swap.toml", text)).expect_err(want);
        let all = d.to_string();
        assert!(all.contains(want), "{want}: {all}");
        assert!(d.iter().all(|x| x.line > 0), "{all}");
    }
}
