//! Properties of the directory parser and the mapping: arbitrary or malformed input never panics
//! and always gives a clear error; any well-formed directory imports to a valid spec whose figures
//! add up and agree with lint.

use std::collections::BTreeMap;

use proptest::prelude::*;
use ringfence_import::Prices;
use ringfence_import::ccip::{DirectoryFiles, FileText, import_files, parse};
use ringfence_model::Model;
use serde_json::{Value, json};

const CHAINS: &str =
    r#"{"a": {"chainSelector": "1"}, "b": {"chainSelector": "2"}, "c": {"chainSelector": "3"}}"#;

fn files(chains: &str, tokens: &str, lanes: &str, verifiers: Option<&str>) -> DirectoryFiles {
    DirectoryFiles {
        chains: FileText::new("chains.json", chains),
        tokens: FileText::new("tokens.json", tokens),
        lanes: FileText::new("lanes.json", lanes),
        verifiers: verifiers.map(|v| FileText::new("verifiers.json", v)),
        decom: None,
        source_md: None,
    }
}

/// Any JSON value, a few levels deep, with keys and strings that look like the directory's.
fn any_json() -> impl Strategy<Value = Value> {
    let key = prop::sample::select(vec![
        "a",
        "b",
        "T",
        "poolType",
        "decimals",
        "chainSelector",
        "supportedTokens",
        "rateLimiterConfig",
        "in",
        "out",
        "capacity",
        "isEnabled",
        "rate",
        "id",
        "type",
    ]);
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![
            "burnMint",
            "lockRelease",
            "usdc",
            "feeTokenOnly",
            "x",
            "",
            "12",
            "-3",
            "1e9",
            "999999999999999999999999999999"
        ])
        .prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(5, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key.clone(), inner, 0..5).prop_map(|m| Value::Object(
                m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

fn assert_clear(e: &ringfence_import::Error) {
    let msg = e.to_string();
    // Shape errors name their file; a spec that does not validate names each entity instead.
    assert!(
        e.file().is_some() || matches!(e, ringfence_import::Error::Spec(_)),
        "names a file: {msg}"
    );
    assert!(msg.contains("\n  help: "), "says what to do: {msg}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Any text in any file: parsed or refused with a located, helpful error, never a panic.
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}", which in 0usize..4) {
        let mut t = [CHAINS.to_owned(), "{}".to_owned(), "{}".to_owned(), "{}".to_owned()];
        t[which] = text;
        if let Err(e) = parse(&files(&t[0], &t[1], &t[2], Some(&t[3]))) {
            assert_clear(&e);
        }
    }

    /// Any JSON value of directory-like shape in any file: the same.
    #[test]
    fn arbitrary_json_never_panics(v in any_json(), which in 0usize..4) {
        let text = v.to_string();
        let mut t = [CHAINS.to_owned(), "{}".to_owned(), "{}".to_owned(), "{}".to_owned()];
        t[which] = text;
        match import_files(&files(&t[0], &t[1], &t[2], Some(&t[3])), "prop", &Prices::none()) {
            Ok(i) => prop_assert!(Model::from_spec("prop", i.import.spec).is_ok()),
            Err(e) => assert_clear(&e),
        }
    }

    /// A truncated real-shaped file is a syntax error with a line, never a panic.
    #[test]
    fn truncated_files_are_syntax_errors(cut in 1usize..400) {
        let lanes = include_str!("../../../../tests/fixtures/ccip/mapping/lanes.json");
        let cut = cut.min(lanes.len() - 1);
        let Some(prefix) = lanes.get(..cut) else { return Ok(()) };
        let e = parse(&files(CHAINS, "{}", prefix, None)).expect_err("a truncated object is not JSON");
        prop_assert!(matches!(e, ringfence_import::Error::Syntax { line, .. } if line >= 1), "{e}");
    }

    /// Any well-formed directory imports to a valid spec; its figures add up and lint flags exactly
    /// the deployments the importer left without a rate limit.
    #[test]
    fn well_formed_directories_import_consistently(
        pools in prop::collection::vec(prop::collection::vec(0usize..5, 3), 1..5),
        lanes in prop::collection::vec((0usize..3, 0usize..3, 0usize..5, any::<bool>(), 0u64..10_000, any::<bool>()), 0..24),
        with_verifiers in any::<bool>(),
    ) {
        const NAMES: [&str; 3] = ["a", "b", "c"];
        const TYPES: [Option<&str>; 5] = [None, Some("burnMint"), Some("lockRelease"), Some("usdc"), Some("feeTokenOnly")];
        let mut tokens = serde_json::Map::new();
        for (t, per_chain) in pools.iter().enumerate() {
            let mut m = serde_json::Map::new();
            for (c, ty) in per_chain.iter().enumerate() {
                if let Some(ty) = TYPES[*ty] {
                    m.insert(NAMES[c].to_owned(), json!({"decimals": 6 + c * 6, "poolType": ty}));
                }
            }
            tokens.insert(format!("T{t}"), Value::Object(m));
        }
        let mut lane_map: BTreeMap<&str, BTreeMap<&str, serde_json::Map<String, Value>>> = BTreeMap::new();
        for (from, to, token, enabled, capacity, has_in) in lanes {
            if from == to || token >= pools.len() {
                continue;
            }
            let mut cfg = json!({"out": {"capacity": "1", "isEnabled": true, "rate": "1"}});
            if has_in {
                cfg["in"] = json!({"capacity": capacity.to_string(), "isEnabled": enabled, "rate": (capacity / 10).to_string()});
            }
            lane_map.entry(NAMES[from]).or_default().entry(NAMES[to]).or_default().insert(format!("T{token}"), json!({"rateLimiterConfig": cfg}));
        }
        let lanes_json: Value = lane_map
            .into_iter()
            .map(|(f, to)| (f.to_owned(), to.into_iter().map(|(t, st)| (t.to_owned(), json!({"supportedTokens": st}))).collect::<serde_json::Map<_, _>>().into()))
            .collect::<serde_json::Map<_, _>>()
            .into();
        let verifiers = with_verifiers.then(|| json!({"a": {"0x1": {"id": "chainlink", "name": "Chainlink", "type": "committee", "role": "default"}}}).to_string());
        let c = import_files(&files(CHAINS, &Value::Object(tokens).to_string(), &lanes_json.to_string(), verifiers.as_deref()), "prop", &Prices::none())
            .unwrap_or_else(|e| panic!("well-formed input must import: {e}"));
        let f = &c.figures;
        prop_assert_eq!(f.burn_mint, f.burn_mint_bounded + f.burn_mint_without_rate_limit() + f.burn_mint_no_inbound_lane);
        prop_assert_eq!(f.assets, f.burn_mint + f.lock_release + f.usdc);
        prop_assert_eq!(f.token_chain_entries, f.assets + f.fee_token_only);
        let model = Model::from_spec("prop", c.import.spec.clone()).unwrap_or_else(|d| panic!("{d}"));
        let lint = ringfence_exposure::lint(&model);
        let flagged = lint.findings.iter().filter(|x| x.rule == "no-rate-limit").count();
        prop_assert_eq!(flagged, f.burn_mint_without_rate_limit());
        for a in &c.import.spec.assets {
            if let Some(rl) = a.route.as_ref().and_then(|r| r.rate_limit.as_ref()) {
                prop_assert!(*rl.capacity.get_ref() >= 0.0 && rl.capacity.get_ref().is_finite());
            }
        }
    }
}
