use std::path::Path;

use alloy::primitives::U256;
use proptest::prelude::*;
use ringfence_guard::{Engine, Event, EventKind};

use crate::rules::engine;
use crate::{addr, ev, run};

const MR: &str = r#"[[rule]]
id = "mr"
kind = "mint-rate"
token = "USDX"
window_s = 100
max_amount = "0.000000000000001000""#;

proptest! {
    /// The engine trips exactly when a brute-force recomputation of the window sum crosses the
    /// limit from below, never otherwise.
    #[test]
    fn mint_rate_matches_a_brute_force_model(steps in prop::collection::vec((0u64..60, 0u64..700), 1..80)) {
        let mut e = engine(MR);
        let limit = 1000u64;
        let mut ts = 1_000u64;
        let mut history: Vec<(u64, u64)> = Vec::new();
        for (i, (dt, amount)) in steps.into_iter().enumerate() {
            ts += dt;
            let before: u64 = history.iter().filter(|(t, _)| *t + 100 > ts).map(|(_, a)| a).sum();
            history.push((ts, amount));
            let sum = before + amount;
            let expect = before <= limit && sum > limit;
            let m = ev(1, i as u64, ts, EventKind::Mint { token: 0, to: addr(1), amount: U256::from(amount), minter: None });
            let got = run(&mut e, &[m]);
            prop_assert_eq!(got.len(), usize::from(expect), "sum {} at step {}", sum, i);
        }
    }

    /// Same events, same findings: a clone taken mid-stream (a snapshot) continues identically,
    /// and a replay from scratch reproduces every finding.
    #[test]
    fn engine_is_deterministic_and_snapshots_continue_identically(
        seq in prop::collection::vec((0u8..6, 0u64..30, 1u64..2_000_000), 1..120),
        cut in 0usize..120,
    ) {
        let rules = format!("{}\n{}\n{}", MR, "[[rule]]\nid = \"mm\"\nkind = \"message-match\"\nbridge = \"b\"\ntimeout_s = 50",
            "[[rule]]\nid = \"an\"\nkind = \"anomaly\"\nmetric = \"mint\"\ntoken = \"USDX\"\nbucket_s = 10\nwarmup_buckets = 2");
        let mut ts = 0u64;
        let events: Vec<Event> = seq.iter().enumerate().map(|(i, (k, dt, v))| {
            ts += dt;
            let b = i as u64;
            match k {
                0 => ev(1, b, ts, EventKind::Mint { token: 0, to: addr(1), amount: U256::from(*v), minter: Some(addr((*v % 3) as u8)) }),
                1 => Event::head((*v % 2) as u16, b, ts),
                2 => crate::bridge_ev(0, b, ts, ringfence_guard::BridgeSide::Source, &[U256::from(v % 7).into(), U256::from(*v).into()]),
                3 => crate::bridge_ev(1, b, ts, ringfence_guard::BridgeSide::Destination, &[U256::from(v % 7).into(), U256::from(*v).into()]),
                4 => ev(1, b, ts, EventKind::Burn { token: 0, from: addr(1), amount: U256::from(*v) }),
                _ => ev(1, b, ts, EventKind::Transfer { token: 0, from: addr(1), to: addr(2), amount: U256::from(*v) }),
            }
        }).collect();
        let mut a = engine(&rules);
        let all = run(&mut a, &events);
        let mut b = engine(&rules);
        let cut = cut.min(events.len());
        let mut first = run(&mut b, &events[..cut]);
        let mut snapshot: Engine = b.clone();
        first.extend(run(&mut snapshot, &events[cut..]));
        prop_assert_eq!(&all, &first);
        let rest_b = run(&mut b, &events[cut..]);
        prop_assert_eq!(&all[all.len() - rest_b.len()..], &rest_b[..]);
        // The persisted form: a snapshot through JSON, restored into a fresh engine, continues
        // with the same findings (the daemon's restart path).
        let mut c = engine(&rules);
        let mut from_disk = run(&mut c, &events[..cut]);
        let json = serde_json::to_string(&c.snapshot()).expect("serialise");
        let (mut restored, fresh) = Engine::restore(c.spec().clone(), serde_json::from_str(&json).expect("parse"));
        prop_assert!(fresh.is_empty());
        prop_assert_eq!(restored.events_seen(), c.events_seen());
        from_disk.extend(run(&mut restored, &events[cut..]));
        prop_assert_eq!(&all, &from_disk);
    }

    /// The parser never panics and either accepts a config or reports located problems.
    #[test]
    fn parser_never_panics_and_locates_errors(garbage in "[ -~\n]{0,80}", at in 0usize..4000) {
        let base = crate::EXAMPLE;
        let mut cut = at.min(base.len());
        while !base.is_char_boundary(cut) { cut -= 1; }
        let text = format!("{}{}{}", &base[..cut], garbage, &base[cut..]);
        let lines = text.lines().count();
        if let Err(d) = ringfence_guard::config::parse(Path::new("p.toml"), &text) {
            prop_assert!(!d.0.is_empty());
            for x in &d.0 {
                prop_assert!(x.line <= lines + 1, "line {} of {}", x.line, lines);
            }
        }
    }

    /// Amounts written in token units come back exactly.
    #[test]
    fn amounts_round_trip(int in 0u64..u64::MAX, frac in 0u32..1_000_000, decimals in 6u8..=18) {
        let text = format!("{int}.{frac:06}");
        let v = ringfence_guard::amount::parse_units(&text, decimals).expect("valid");
        let back = ringfence_guard::amount::format_units(v, decimals);
        let again = ringfence_guard::amount::parse_units(&back, decimals).expect("valid");
        prop_assert_eq!(v, again);
    }
}
