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

proptest! {
    /// A scaled, fee-deducted amount matches exactly when it lies in
    /// [S × (10 000 − fee) / 10 000, S] with S the scaled source (brute force in u128).
    #[test]
    fn field_tolerance_matches_the_interval(
        src in 0u64..=u64::MAX,
        scale in -6i8..=12,
        fee_bps in 0u16..=10_000,
        dst_off in -1_000_000_000i128..1_000_000,
        frac in 0u32..=10_000,
    ) {
        use alloy::primitives::B256;
        let t = ringfence_guard::FieldTolerance { scale, fee_bps };
        let s = u128::from(src);
        let scaled = if scale >= 0 { s * 10u128.pow(scale as u32) } else { s / 10u128.pow((-scale) as u32) };
        // Probe near the interval's lower edge and inside it.
        let lo = scaled - scaled * u128::from(fee_bps) / 10_000;
        for d in [
            scaled,
            scaled + 1,
            lo,
            lo.saturating_sub(1),
            scaled - (scaled - lo) * u128::from(frac) / 10_000,
            (scaled as i128 + dst_off).max(0) as u128,
        ] {
            let want = d <= scaled && (scaled - d) * 10_000 <= scaled * u128::from(fee_bps);
            let w = |x: u128| B256::from(U256::from(x));
            prop_assert_eq!(t.matches(w(s), w(d)), want, "s={} scaled={} d={}", s, scaled, d);
        }
        // A fee is never negative: more than the scaled source never matches.
        prop_assert!(!t.matches(B256::from(U256::from(s)), B256::from(U256::from(scaled + 1))));
    }

    /// Whatever is written in a `match_on` entry, the parser answers with a spec or located
    /// errors, never a panic.
    #[test]
    fn match_on_entries_never_panic(scale in proptest::option::of(-300i64..300), fee in proptest::option::of(-20_000i64..20_000), name in "[a-z]{1,8}") {
        let mut item = format!("{{ name = \"{name}\"");
        if let Some(s) = scale { item.push_str(&format!(", scale = {s}")); }
        if let Some(f) = fee { item.push_str(&format!(", fee_bps = {f}")); }
        item.push_str(" }");
        let text = format!("[store]\npath = \"a.db\"\n[[chain]]\nid = \"a\"\nrpc = \"http://x\"\n[[chain]]\nid = \"b\"\nrpc = \"http://y\"\n[[bridge]]\nid = \"br\"\nsource = {{ chain = \"a\", contract = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\", event = \"L(bytes32 indexed id, uint256 amount)\" }}\ndestination = {{ chain = \"b\", contract = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\", event = \"R(bytes32 indexed id, uint256 amount)\" }}\nmatch_on = [\"id\", {item}]\n");
        match ringfence_guard::config::parse(Path::new("p.toml"), &text) {
            Ok(spec) => {
                let t = spec.bridges[0].tolerance[1];
                prop_assert!(name == "amount");
                prop_assert_eq!(i64::from(t.scale), scale.unwrap_or(0));
                prop_assert_eq!(i64::from(t.fee_bps), fee.unwrap_or(0));
            }
            Err(e) => prop_assert!(e.0.iter().all(|d| d.line > 0), "{}", e),
        }
    }
}
