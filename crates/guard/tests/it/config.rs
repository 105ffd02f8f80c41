use std::path::Path;

use ringfence_guard::config::parse;
use ringfence_guard::{ActionKind, RuleKind, Transport};

use crate::EXAMPLE;

#[test]
fn example_config_parses_with_every_rule_kind() {
    let spec = crate::spec(EXAMPLE);
    assert_eq!(spec.chains.len(), 2);
    assert_eq!(spec.chains[1].transport, Transport::Http);
    assert_eq!(spec.tokens.len(), 3);
    let kinds: Vec<&str> = spec.rules.iter().map(|r| r.kind.name()).collect();
    for k in [
        "mint-rate",
        "anomaly",
        "message-match",
        "backing",
        "outflow-rate",
        "privileged",
    ] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
    let RuleKind::MintRate { max_amount, .. } = &spec.rules[0].kind else {
        panic!()
    };
    assert_eq!(*max_amount, Some(crate::units(1_000_000, 18)));
    let ActionKind::Pause { call, selector, .. } = &spec.actions[0].kind else {
        panic!()
    };
    assert_eq!(call, "pause()");
    assert_eq!(selector, &[0x84, 0x56, 0xcb, 0x59]);
    let b = &spec.bridges[0];
    assert_eq!(b.match_idx, vec![(0, 0), (2, 2), (3, 3)]);
}

#[test]
fn issue_snippet_is_accepted_as_written() {
    let text = include_str!("fixtures/issue_snippet.toml");
    let spec = crate::spec(text);
    assert_eq!(spec.chains[0].transport, Transport::Ws);
    assert_eq!(spec.bridges[0].match_on.len(), 4);
}

#[test]
fn every_problem_is_reported_with_its_line_and_column() {
    let text = r#"[store]
path = "x.db"

[[chain]]
id = "dst"
rpc = "ftp://nowhere"

[[token]]
id = "USDX"
chain = "dts"
address = "0x1234"
decimals = 18

[[rule]]
id = "r1"
kind = "mint-rate"
token = "USDX"
window_s = 60
max_amont = "5"

[[rule]]
id = "r2"
kind = "mint-speed"

[[action]]
id = "p"
kind = "pause"
chain = "dst"
contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
call = "pause(uint256)"
key_env = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
"#;
    let err = parse(Path::new("g.toml"), text).expect_err("invalid");
    let got: Vec<(usize, usize, String)> = err
        .0
        .iter()
        .map(|d| (d.line, d.column, d.message.clone()))
        .collect();
    let want_lines = [6, 10, 11, 19, 23, 30, 31];
    for l in want_lines {
        assert!(
            got.iter().any(|(line, _, _)| *line == l),
            "no diagnostic on line {l}: {got:#?}"
        );
    }
    let rendered = err.to_string();
    assert!(
        rendered.contains("g.toml:19:1: `r1`: unknown key `max_amont` in rule"),
        "{rendered}"
    );
    assert!(
        rendered.contains("g.toml:10:9: `USDX`: unknown chain `dts`"),
        "{rendered}"
    );
    assert!(
        rendered.contains("never put a private key in the config"),
        "{rendered}"
    );
}

#[test]
fn syntax_errors_and_wrong_types_are_located() {
    let text = "[store]\npath = \"a.db\"\n[[chain]]\nid = \"a\"\nrpc = \"http://x\"\npoll_ms = \"fast\"\n[[chain]\n";
    let err = parse(Path::new("s.toml"), text).expect_err("invalid");
    let lines: Vec<usize> = err.0.iter().map(|d| d.line).collect();
    assert!(lines.contains(&6), "{err}");
    assert!(lines.contains(&7), "{err}");
}

#[test]
fn references_and_match_on_names_are_checked() {
    let text = EXAMPLE
        .replace(
            "match_on = [\"id\", \"amount\", \"recipient\"]",
            "match_on = [\"id\", \"amount\", \"to\"]",
        )
        .replace(
            "actions = [\"pause-bridge\"]\n\n[[rule]]\nid = \"wbtc-backing\"",
            "actions = [\"pause-brige\"]\n\n[[rule]]\nid = \"wbtc-backing\"",
        );
    let err = parse(Path::new("e.toml"), &text).expect_err("invalid");
    let s = err.to_string();
    assert!(s.contains("the source event has no parameter `to`"), "{s}");
    assert!(
        s.contains("unknown action `pause-brige`") || s.contains("unknown bridge"),
        "{s}"
    );
}

/// A gateway with a delay queue: `Delivered` carries the queue id and whether it was queued.
const CANCEL: &str = include_str!("fixtures/cancel.toml");

#[test]
fn cancel_action_is_parsed_with_its_argument() {
    let spec = crate::spec(CANCEL);
    let ActionKind::Cancel {
        chain,
        call,
        selector,
        arg,
        only_if,
        key_env,
        gas_limit,
        ..
    } = &spec.actions[0].kind
    else {
        panic!("not a cancel: {:?}", spec.actions[0].kind)
    };
    assert_eq!(*chain, 1);
    assert_eq!(call, "cancel(bytes32)");
    // keccak256("cancel(bytes32)")[..4]
    assert_eq!(selector, &[0xc4, 0xd2, 0x52, 0xf5]);
    assert_eq!(arg, "queueId");
    assert_eq!(only_if.as_deref(), Some("queued"));
    assert_eq!(key_env, "RINGFENCE_GUARDIAN_KEY");
    assert_eq!(*gas_limit, 200_000);
    assert_eq!(spec.actions[0].kind.name(), "cancel");
    assert!(!spec.actions[0].kind.is_notify());
    // `only_if` is optional.
    crate::spec(&CANCEL.replace("only_if = \"queued\"\n", ""));
}

#[test]
fn cancel_action_problems_are_located() {
    // (what is replaced, by what, the line of the diagnostic, part of its message)
    let cases: &[(&str, &str, usize, &str)] = &[
        (
            "call = \"cancel(bytes32)\"",
            "call = \"cancel()\"",
            29,
            "a cancel call takes exactly one `bytes32` argument",
        ),
        (
            "call = \"cancel(bytes32)\"",
            "call = \"cancel(uint256)\"",
            29,
            "a cancel call takes exactly one `bytes32` argument",
        ),
        (
            "call = \"cancel(bytes32)\"",
            "call = \"cancel(bytes32,bytes32)\"",
            29,
            "a cancel call takes exactly one `bytes32` argument",
        ),
        (
            "call = \"cancel(bytes32)\"",
            "call = \"cancel(bytes32\"",
            29,
            "not a function signature",
        ),
        (
            "key_env = \"RINGFENCE_GUARDIAN_KEY\"",
            "key_env = \"0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\"",
            32,
            "`key_env` must name an environment variable",
        ),
        ("arg = \"queueId\"\n", "", 25, "cancel action needs `arg`"),
        (
            "arg = \"queueId\"",
            "arg = \"queueID\"",
            38,
            "`queueID` is not a parameter of bridge `lab`'s destination event `Delivered`",
        ),
        (
            "arg = \"queueId\"",
            "arg = \"amount\"",
            38,
            "`amount` is a `uint256`, not a `bytes32`",
        ),
        (
            "only_if = \"queued\"",
            "only_if = \"queueId\"",
            38,
            "`queueId` is a `bytes32`, not a `bool`",
        ),
        (
            "arg = \"queueId\"",
            "arg = \"queueId\"\nurl = \"http://x\"",
            31,
            "unknown key `url` in action",
        ),
        (
            "kind = \"message-match\"\nbridge = \"lab\"",
            "kind = \"mint-rate\"\ntoken = \"USDX\"\nwindow_s = 60\nmax_amount = \"1\"",
            40,
            "cancel action `cancel-queued` on a `mint-rate` rule",
        ),
    ];
    for (from, to, line, msg) in cases {
        assert!(CANCEL.contains(from), "{from}");
        let text = CANCEL.replace(from, to);
        let err = parse(Path::new("c.toml"), &text).expect_err(msg);
        assert!(
            err.0
                .iter()
                .any(|d| d.line == *line && d.message.contains(msg)),
            "want line {line}: {msg}\ngot:\n{err}"
        );
    }
}

#[test]
fn cancel_takes_its_argument_from_the_tripping_event() {
    use alloy::primitives::B256;
    use ringfence_guard::{BridgeSide, Engine, EventKind};

    let spec = crate::spec(CANCEL);
    let word = |n: u64| B256::from(alloy::primitives::U256::from(n));
    let delivered = |block: u64, queued: bool, fields: usize| {
        let words = [
            word(7),
            word(1),
            word(5),
            word(9),
            word(0xabc),
            word(queued.into()),
        ];
        crate::bridge_ev(
            1,
            block,
            100 + block,
            BridgeSide::Destination,
            &words[..fields],
        )
    };
    let mut engine = Engine::new(spec.clone());
    let alerts = crate::run(
        &mut engine,
        &[
            ringfence_guard::Event::head(0, 1, 1000),
            delivered(1, true, 6),
            delivered(2, false, 6),
            delivered(3, true, 4),
        ],
    );
    assert_eq!(alerts.len(), 3, "{alerts:#?}");
    let actions: Vec<_> = alerts
        .iter()
        .map(|a| a.record(&spec).actions[0].clone())
        .collect();
    // Queued: cancel(queueId) is pending with the event's queue id.
    assert_eq!(actions[0].kind, "cancel");
    assert_eq!(actions[0].status, "pending");
    assert_eq!(actions[0].arg, Some(word(0xabc)));
    // Paid at once: nothing to cancel.
    assert_eq!(actions[1].status, "skipped");
    assert_eq!(actions[1].arg, None);
    // An event without the field (a truncated decode): failed, saying why.
    assert_eq!(actions[2].status, "failed");
    assert!(
        actions[2]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("no `bytes32` parameter `queueId`")),
        "{:?}",
        actions[2]
    );
    // A trip that did not come from a bridge event has no argument either.
    let mut mint = alerts[0].clone();
    mint.event = EventKind::Head;
    let rec = mint.record(&spec);
    assert_eq!(rec.actions[0].status, "failed");
    assert!(
        rec.actions[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("not caused by a bridge event")),
        "{rec:?}"
    );
    // The argument is serialised with the action and read back.
    let json = serde_json::to_string(&alerts[0].record(&spec)).expect("json");
    assert!(json.contains("\"kind\":\"cancel\""), "{json}");
    let back: ringfence_guard::AlertRecord = serde_json::from_str(&json).expect("back");
    assert_eq!(back.actions[0].arg, Some(word(0xabc)));
}

/// Issue 11 item 4: two handlers on one (chain, contract, topic 0) used to lose one silently.
#[test]
fn handler_collisions_are_refused_with_both_lines() {
    // A second token at the same address on the same chain.
    let text = CANCEL.replace(
        "[[bridge]]",
        "[[token]]\nid = \"USDX2\"\nchain = \"dst\"\naddress = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"\ndecimals = 6\n\n[[bridge]]",
    );
    let err = parse(Path::new("c.toml"), &text).expect_err("collision");
    let d = err
        .0
        .iter()
        .find(|d| d.message.contains("decodes the same logs"))
        .unwrap_or_else(|| panic!("no collision error:\n{err}"));
    assert!(d.message.contains("token `USDX2`"), "{}", d.message);
    assert!(
        d.message.contains("token `USDX` (Transfer) (line 15)"),
        "{}",
        d.message
    );
    assert_eq!(d.line, 21, "{err}");

    // A second bridge decoding the first's destination event.
    let text = CANCEL.replace(
        "[[action]]",
        "[[bridge]]\nid = \"copy\"\nsource = { chain = \"src\", contract = \"0x5FbDB2315678afecb367f032d93F642f64180aa3\", event = \"Other(bytes32 indexed id, uint256 amount)\" }\ndestination = { chain = \"dst\", contract = \"0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512\", event = \"Delivered(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient, bytes32 queueId, bool queued)\" }\nmatch_on = [\"id\", \"amount\"]\n\n[[action]]",
    );
    let err = parse(Path::new("c.toml"), &text).expect_err("collision");
    let s = err.to_string();
    assert!(
        s.contains("bridge `copy` destination decodes the same logs as bridge `lab` destination"),
        "{s}"
    );

    // Two privileged rules watching one contract share its handlers: accepted.
    let text = CANCEL.to_owned()
        + "\n[[rule]]\nid = \"p1\"\nkind = \"privileged\"\nchain = \"dst\"\ncontracts = [\"0x5FbDB2315678afecb367f032d93F642f64180aa3\"]\n\n[[rule]]\nid = \"p2\"\nkind = \"privileged\"\nchain = \"dst\"\ncontracts = [\"0x5FbDB2315678afecb367f032d93F642f64180aa3\"]\nseverity = \"alert\"\n";
    crate::spec(&text);
}

/// Issue 11 item 7: amounts may change decimals and lose a fee across the bridge.
#[test]
fn match_on_takes_a_scale_and_a_fee() {
    let text = CANCEL.replace(
        "match_on = [\"id\", \"asset\", \"amount\", \"recipient\"]",
        "match_on = [\"id\", \"asset\", { name = \"amount\", scale = 12, fee_bps = 30 }, \"recipient\"]",
    );
    let spec = crate::spec(&text);
    let b = &spec.bridges[0];
    assert_eq!(b.match_on, ["id", "asset", "amount", "recipient"]);
    assert_eq!(
        b.tolerance[2],
        ringfence_guard::FieldTolerance {
            scale: 12,
            fee_bps: 30
        }
    );
    assert!(b.tolerance[0].is_exact());

    let bad = [
        (
            "{ name = \"amount\", scale = 100 }",
            "`scale` = 100 is out of range",
        ),
        (
            "{ name = \"amount\", fee_bps = -5 }",
            "`fee_bps` = -5 is out of range",
        ),
        (
            "{ name = \"amount\", fee_bps = 10001 }",
            "`fee_bps` = 10001 is out of range",
        ),
        (
            "{ name = \"asset\", scale = 2 }",
            "apply to unsigned integers only",
        ),
        (
            "{ name = \"amount\", decimals = 2 }",
            "unknown field `decimals`",
        ),
        ("{ scale = 2 }", "missing field `name`"),
        ("{ name = \"id\" }", "`id` is listed twice in `match_on`"),
    ];
    for (item, want) in bad {
        // The entry stands in for `asset` when it names `asset`, else for `amount`.
        let list = if item.contains("\"asset\"") {
            format!("[\"id\", {item}, \"amount\", \"recipient\"]")
        } else {
            format!("[\"id\", \"asset\", {item}, \"recipient\"]")
        };
        let text = CANCEL.replace(
            "match_on = [\"id\", \"asset\", \"amount\", \"recipient\"]",
            &format!("match_on = {list}"),
        );
        let err = parse(Path::new("c.toml"), &text).expect_err(item);
        let d = err
            .0
            .iter()
            .find(|d| d.message.contains(want))
            .unwrap_or_else(|| panic!("{item}: want {want}, got\n{err}"));
        assert_eq!(d.line, 22, "{item}: {err}");
    }
    // The key pairs events: it cannot be approximate.
    let text = CANCEL.replace(
        "match_on = [\"id\", \"asset\", \"amount\", \"recipient\"]",
        "match_on = [\"asset\", { name = \"amount\", scale = 12 }]\nkey = \"amount\"",
    );
    let err = parse(Path::new("c.toml"), &text).expect_err("key with a scale");
    assert!(err.to_string().contains("must match exactly"), "{err}");
}

#[test]
fn webhook_keys_are_parsed_and_checked() {
    let hook = |extra: &str| {
        CANCEL.replace(
            "[[rule]]",
            &format!("[[action]]\nid = \"hook\"\nkind = \"webhook\"\nurl = \"https://hooks.slack.com/services/T000/B000/XXXXSECRET\"\n{extra}\n[[rule]]"),
        )
    };
    let spec = crate::spec(&hook(
        "format = \"slack\"\ntimeout_ms = 2500\nretries = 3\n",
    ));
    let ActionKind::Webhook {
        url,
        format,
        timeout_ms,
        retries,
        secret_env,
        ..
    } = &spec.actions[1].kind
    else {
        panic!("webhook")
    };
    assert_eq!(*format, ringfence_guard::WebhookFormat::Slack);
    assert_eq!(
        (*timeout_ms, *retries, secret_env.as_deref()),
        (2500, 3, None)
    );
    assert_eq!(url.to_string(), "https://hooks.slack.com/…");
    assert!(!format!("{:?}", spec.actions[1]).contains("XXXXSECRET"));

    let spec = crate::spec(&hook("secret_env = \"HOOK_SECRET\"\n"));
    let ActionKind::Webhook {
        format, secret_env, ..
    } = &spec.actions[1].kind
    else {
        panic!("webhook")
    };
    assert_eq!(*format, ringfence_guard::WebhookFormat::Json);
    assert_eq!(secret_env.as_deref(), Some("HOOK_SECRET"));

    let bad = [
        ("format = \"teams\"\n", "unknown webhook format `teams`"),
        (
            "format = \"slack\"\nsecret_env = \"S\"\n",
            "`secret_env` signs `json` bodies",
        ),
        (
            "secret_env = \"0xdeadbeef\"\n",
            "`secret_env` must name an environment variable",
        ),
        (
            "ca_file = \"/nonexistent/ca.pem\"\n",
            "`ca_file` `/nonexistent/ca.pem` is not a readable file",
        ),
        (
            "timeout_ms = 0\n",
            "`timeout_ms` must be between 1 and 600000",
        ),
        ("retries = 99\n", "`retries` must be at most 20"),
    ];
    for (extra, want) in bad {
        let err = parse(Path::new("c.toml"), &hook(extra)).expect_err(extra);
        let d = err
            .0
            .iter()
            .find(|d| d.message.contains(want))
            .unwrap_or_else(|| panic!("{extra}: want {want}, got\n{err}"));
        assert!(d.line >= 38, "{extra}: located at line {}", d.line);
    }
    // A URL with a secret path is never echoed in an error.
    let err = parse(
        Path::new("c.toml"),
        &CANCEL.replace(
            "rpc = \"http://127.0.0.1:8546\"",
            "rpc = \"ftp://u:PASSWORD@x/v2/APIKEY\"",
        ),
    )
    .expect_err("bad scheme");
    let s = err.to_string();
    assert!(!s.contains("APIKEY") && !s.contains("PASSWORD"), "{s}");
}

/// Issue 12: a privileged rule watches the messaging layers' configuration events; `layers`
/// narrows them, and a misspelt layer is reported where it is written.
#[test]
fn privileged_layers_default_to_all_and_a_wrong_name_is_located() {
    let rule = |extra: &str| {
        format!(
            "{CANCEL}\n[[rule]]\nid = \"p\"\nkind = \"privileged\"\nchain = \"dst\"\ncontracts = [\"0x5FbDB2315678afecb367f032d93F642f64180aa3\"]\n{extra}\n"
        )
    };
    let layers = |text: &str| {
        let spec = crate::spec(text);
        let Some(RuleKind::Privileged { layers, .. }) = spec.rules.last().map(|r| &r.kind) else {
            panic!("a privileged rule")
        };
        layers.iter().map(|l| l.name()).collect::<Vec<_>>()
    };
    assert_eq!(
        layers(&rule("")),
        ["layerzero-v2", "hyperlane", "ccip", "safe", "ringfence"]
    );
    assert_eq!(
        layers(&rule("layers = [\"ccip\", \"safe\"]")),
        ["ccip", "safe"]
    );
    assert!(layers(&rule("layers = []")).is_empty());

    let text = rule("layers = [\"ccip\", \"layerzero\"]");
    let err = parse(Path::new("c.toml"), &text).expect_err("unknown layer");
    let d = err
        .0
        .iter()
        .find(|d| d.message.contains("unknown layer `layerzero`"))
        .unwrap_or_else(|| panic!("no layer error:\n{err}"));
    let line = text
        .lines()
        .position(|l| l.starts_with("layers"))
        .map_or(0, |i| i + 1);
    assert_eq!(d.line, line, "{err}");
    assert!(err.to_string().contains("layerzero-v2"), "{err}");
}
