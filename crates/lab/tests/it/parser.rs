//! The scenario parser never panics and always locates its errors.

use proptest::prelude::*;
use ringfence_lab::Scenario;
use ringfence_model::SourceFile;

const GOOD: &str = include_str!("../../../../incidents/resolv-usr-2026-03.toml");

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        let _ = Scenario::parse(&SourceFile::new("x.toml", text));
    }

    #[test]
    fn mutated_scenarios_never_panic_and_errors_are_located(pos in 0usize..2000, del in 0usize..8, ins in "[ -~\n]{0,6}") {
        let mut text = GOOD.to_owned();
        let pos = pos.min(text.len());
        let pos = (0..=pos).rev().find(|p| text.is_char_boundary(*p)).unwrap_or(0);
        let end = (pos + del).min(text.len());
        let end = (end..=text.len()).find(|p| text.is_char_boundary(*p)).unwrap_or(text.len());
        text.replace_range(pos..end, &ins);
        if let Err(d) = Scenario::parse(&SourceFile::new("x.toml", text.clone())) {
            prop_assert!(!d.is_empty());
            for x in d.iter() {
                prop_assert!(x.line <= text.lines().count() + 1);
                prop_assert!(!x.message.is_empty() && !x.help.is_empty());
            }
        }
    }
}
