//! The config document: what the parser reads is what `toml::to_string` writes back, and the
//! TOML written resolves to the same guard.

use std::path::Path;

use ringfence_guard::GuardDocument;
use ringfence_guard::config::{parse, parse_document};

use crate::EXAMPLE;

/// Every action kind and the keys the example leaves out: several endpoints with a quorum, a
/// `match_on` entry with a scale and a fee and another key, a cancel with `only_if`, webhooks
/// with every key, a privileged rule narrowed to some layers with a severity.
const EVERY_KEY: &str = r#"[store]
path = "data/guard.db"

[[chain]]
id = "src"
rpc = ["http://127.0.0.1:8545", "http://127.0.0.1:8547", "http://127.0.0.1:8549"]
quorum = 2
confirmations = 2
poll_ms = 500
start_block = 17
max_block_range = 100
stale_after_s = 60

[[chain]]
id = "dst"
rpc = "ws://127.0.0.1:8546"

[[token]]
id = "USDC"
chain = "src"
address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
decimals = 6
price_usd = 0.9999

[[token]]
id = "wUSDC"
chain = "dst"
address = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
decimals = 18

[[bridge]]
id = "lab"
source = { chain = "src", contract = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0", event = "Sent(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient)" }
destination = { chain = "dst", contract = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9", event = "Delivered(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient, bytes32 queueId, bool queued)" }
match_on = ["asset", "id", { name = "amount", scale = 12, fee_bps = 30 }, "recipient"]
key = "id"

[[action]]
id = "cancel-queued"
kind = "cancel"
chain = "dst"
contract = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"
call = "cancel(bytes32)"
arg = "queueId"
only_if = "queued"
key_env = "RINGFENCE_GUARDIAN_KEY"
gas_limit = 90000

[[action]]
id = "pause"
kind = "pause"
chain = "dst"
contract = "0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"
call = "pause()"
key_env = "RINGFENCE_GUARDIAN_KEY"

[[action]]
id = "slack"
kind = "webhook"
url = "https://hooks.slack.com/services/T000/B000/XXXX"
format = "slack"
timeout_ms = 2500
retries = 3

[[action]]
id = "signed"
kind = "webhook"
url = "http://127.0.0.1:9/hook"
secret_env = "HOOK_SECRET"

[[rule]]
id = "messages"
kind = "message-match"
bridge = "lab"
timeout_s = 600
relay_delay_s = 5
source_wait_s = 30
actions = ["cancel-queued", "slack"]

[[rule]]
id = "admin"
kind = "privileged"
chain = "dst"
contracts = ["0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9"]
changes = ["upgraded", "paused"]
extra_events = ["GuardianSet(address indexed account, bool enabled)"]
layers = []
severity = "alert"
actions = ["signed"]

[[rule]]
id = "minted"
kind = "mint-rate"
token = "wUSDC"
window_s = 3600
max_amount = 1000000
max_share_of_supply = 0.05
max_per_minter = "2.5"
actions = ["pause"]

[[rule]]
id = "backed"
kind = "backing"
token = "wUSDC"
backing_token = "USDC"
holder = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
tolerance = "0.000001"

[[rule]]
id = "fast-mint"
kind = "anomaly"
metric = "outflow"
chain = "src"
contract = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
tokens = ["USDC"]
bucket_s = 30
alpha = 0.5
factor = 4.0
warmup_buckets = 3
min_value = 10.5
"#;

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
