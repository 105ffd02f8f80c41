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
    let text = r#"
[store]
path = "ringfence.db"

[[chain]]
id = "src"
rpc = "ws://127.0.0.1:8545"

[[chain]]
id = "dst"
rpc = "http://127.0.0.1:8546"
confirmations = 0
poll_ms = 200

[[token]]
id = "USDX"
chain = "dst"
address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
decimals = 18
price_usd = 1.0

[[bridge]]
id = "wbtc"
source = { chain = "src", contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3", event = "Locked(bytes32 indexed id, address token, uint256 amount, address recipient)" }
destination = { chain = "dst", contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3", event = "Released(bytes32 indexed id, address token, uint256 amount, address recipient)" }
match_on = ["id", "token", "amount", "recipient"]

[[action]]
id = "pause-usdx"
kind = "pause"
chain = "dst"
contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
call = "pause()"
key_env = "RINGFENCE_GUARDIAN_KEY"

[[action]]
id = "slack"
kind = "webhook"
url = "http://127.0.0.1:9/hook"

[[rule]]
id = "usdx-mint-rate"
kind = "mint-rate"
token = "USDX"
window_s = 3600
max_amount = "1000000"
actions = ["pause-usdx", "slack"]
"#;
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
