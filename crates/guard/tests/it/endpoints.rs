//! A chain's `rpc` as one URL or a list read through a quorum: parsing, defaults and located
//! errors (the same words as the attestor's config: one shared check).

use std::path::Path;

use proptest::prelude::*;
use ringfence_guard::config::parse;
use ringfence_guard::{GuardSpec, Transport};

fn config(chain: &str) -> String {
    format!("[store]\npath = \"g.db\"\n\n[[chain]]\nid = \"dst\"\n{chain}\n")
}

/// The guard of one chain `dst` configured by `chain`, which must be valid.
fn accepted(chain: &str) -> GuardSpec {
    match parse(Path::new("g.toml"), &config(chain)) {
        Ok(spec) => spec,
        Err(e) => panic!("should be accepted:\n{chain}\n{e}"),
    }
}

fn errors(chain: &str) -> String {
    match parse(Path::new("g.toml"), &config(chain)) {
        Ok(_) => panic!("should be refused:\n{chain}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn a_single_url_works_as_before() {
    let spec = accepted("rpc = \"ws://127.0.0.1:8545\"");
    let c = &spec.chains[0];
    assert_eq!(c.rpc.len(), 1);
    assert_eq!(c.quorum, 1);
    assert_eq!(c.transport, Transport::Ws);
    assert_eq!(c.rpc[0].expose(), "ws://127.0.0.1:8545");
}

#[test]
fn a_list_defaults_to_a_majority_and_takes_a_quorum() {
    let spec = accepted(
        "rpc = [\"http://127.0.0.1:8545\", \"https://rpc.example/v2/KEY123456\", \"wss://n.example\"]",
    );
    let c = &spec.chains[0];
    assert_eq!((c.rpc.len(), c.quorum), (3, 2));
    assert_eq!(c.transport, Transport::Http);
    // Debug of the spec shows the endpoints redacted.
    assert!(!format!("{:?}", spec.chains).contains("KEY123456"));
    let spec = accepted("rpc = [\"http://127.0.0.1:8545\", \"http://127.0.0.1:8546\"]\nquorum = 1");
    assert_eq!(spec.chains[0].quorum, 1);
}

#[test]
fn every_bad_value_is_located_with_the_chain_and_the_fix() {
    let cases = [
        (
            "rpc = []",
            "g.toml:6:7: `dst`: `rpc` lists no endpoint",
            "list one or more",
        ),
        (
            "rpc = [\"http://a.example\", \"ftp://user:pw9876@b.example/KEY55555\"]",
            "g.toml:6:7: `dst`: endpoint `ftp://b.example/",
            "write e.g.",
        ),
        (
            "rpc = [\"http://a.example\", \"http://a.example\"]",
            "g.toml:6:7: `dst`: an endpoint is listed twice",
            "list each once",
        ),
        (
            "rpc = [\"http://a.example\", \"http://b.example\"]\nquorum = 3",
            "g.toml:7:10: `dst`: quorum 3 is impossible with 2 endpoint(s)",
            "use 1..=2 (default: a majority, 2)",
        ),
        (
            "rpc = \"http://a.example\"\nquorum = 0",
            "g.toml:7:10: `dst`: quorum 0 is impossible with 1 endpoint(s)",
            "use 1..=1",
        ),
        (
            "rpc = [\"http://a.example\"]\nquorum = -1",
            "g.toml:7:10: `dst`: quorum -1 is impossible",
            "use 1..=1",
        ),
        (
            "rpc = [\"http://a.example\"]\nquorum = \"two\"",
            "g.toml:7:10",
            "expected i64",
        ),
        ("rpc = 5", "g.toml:6:7", "rpc"),
        ("rpc = [\"http://a.example\", 7]", "g.toml:6:7", "rpc"),
    ];
    for (chain, at, fix) in cases {
        let e = errors(chain);
        assert!(e.contains(at), "{chain}: want `{at}` in\n{e}");
        assert!(e.contains(fix), "{chain}: want `{fix}` in\n{e}");
        assert!(!e.contains("KEY55555") && !e.contains("pw9876"), "{e}");
    }
}

proptest! {
    /// Any list of endpoints and any quorum gives a spec exactly when the list is valid (known
    /// schemes, no repeat, 1 <= quorum <= len, a majority by default), located diagnostics
    /// otherwise; no secret path ever reaches a diagnostic.
    #[test]
    fn rpc_lists_parse_exactly_when_valid(
        entries in prop::collection::vec((0usize..5, 0u8..4), 0..5),
        quorum in prop::option::of(-1i64..6),
        as_string in any::<bool>(),
    ) {
        let schemes = ["http", "https", "ws", "wss", "gopher"];
        let urls: Vec<String> = entries
            .iter()
            .map(|(s, h)| format!("{}://h{h}.example/v3/PATHSECRET{h}", schemes[*s]))
            .collect();
        let rpc = if as_string && urls.len() == 1 {
            format!("rpc = \"{}\"", urls[0])
        } else {
            format!("rpc = [{}]", urls.iter().map(|u| format!("\"{u}\"")).collect::<Vec<_>>().join(", "))
        };
        let chain = match quorum {
            Some(q) => format!("{rpc}\nquorum = {q}"),
            None => rpc,
        };
        let n = urls.len();
        let distinct = urls.iter().collect::<std::collections::HashSet<_>>().len() == n;
        let q = quorum.unwrap_or((n / 2 + 1) as i64);
        let valid = n > 0
            && entries.iter().all(|(s, _)| *s < 4)
            && distinct
            && q >= 1
            && q <= n as i64;
        match parse(Path::new("g.toml"), &config(&chain)) {
            Ok(spec) => {
                prop_assert!(valid, "{}", chain);
                prop_assert_eq!(spec.chains[0].quorum as i64, q);
                prop_assert_eq!(spec.chains[0].rpc.len(), n);
            }
            Err(e) => {
                prop_assert!(!valid, "{}\n{}", chain, e);
                // Located at the chain (the file-level "no `[[chain]]`" follows from it).
                prop_assert!(e.0.iter().any(|d| d.line >= 6), "{}", e);
                prop_assert!(e.0.iter().all(|d| d.line >= 6 || d.message.contains("no `[[chain]]`")), "{}", e);
                prop_assert!(!e.to_string().contains("PATHSECRET"), "{}", e);
            }
        }
    }
}
