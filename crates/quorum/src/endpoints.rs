//! A chain's endpoint list and quorum as a config writes them (`rpc = "…"` or `rpc = ["…", …]`,
//! `quorum = N`), checked in one place so that every config that reads chains (the guard's
//! `watch`, the attestor) accepts and refuses the same things with the same words.

use std::collections::HashSet;

use crate::redact::RedactedUrl;

/// A checked endpoint list: at least one http(s)/ws(s) URL, each listed once, and a quorum in
/// `1..=len`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// The endpoints, in config order.
    pub urls: Vec<RedactedUrl>,
    /// Identical answers needed (the config's `quorum`, or a majority).
    pub quorum: usize,
}

/// One problem with an endpoint list; the caller locates it (`rpc` or `quorum`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Whether the problem is the `quorum` value (otherwise it is in `rpc`).
    pub in_quorum: bool,
    /// What is wrong (endpoints shown redacted).
    pub message: String,
    /// How to fix it.
    pub fix: String,
}

/// The quorum used when a config gives none: a majority.
pub fn majority(n: usize) -> usize {
    n / 2 + 1
}

/// Checks `urls` (as written; surrounding blanks are ignored) and `quorum` (as written, so a
/// negative one is named too). Every problem is returned, none of them showing a secret.
pub fn check_endpoints<S: AsRef<str>>(
    urls: &[S],
    quorum: Option<i64>,
) -> Result<Endpoints, Vec<Problem>> {
    let mut problems = Vec::new();
    let rpc = |message: String, fix: &str| Problem {
        in_quorum: false,
        message,
        fix: fix.to_owned(),
    };
    if urls.is_empty() {
        problems.push(rpc(
            "`rpc` lists no endpoint".into(),
            "list one or more, e.g. rpc = [\"https://…\", \"wss://…\"]",
        ));
        return Err(problems);
    }
    let urls: Vec<RedactedUrl> = urls
        .iter()
        .map(|u| RedactedUrl::new(u.as_ref().trim()))
        .collect();
    for (i, u) in urls.iter().enumerate() {
        if !["http://", "https://", "ws://", "wss://"]
            .iter()
            .any(|s| u.expose().starts_with(s))
        {
            // Without a scheme nothing tells a host from a key: the text is not shown.
            let shown = if u.expose().contains("://") {
                format!("endpoint `{u}`")
            } else {
                format!("endpoint {} (no scheme, not shown)", i + 1)
            };
            problems.push(rpc(
                format!("{shown} is not an http(s) or ws(s) URL"),
                "write e.g. \"https://rpc.example\" or \"wss://rpc.example\"",
            ));
        }
    }
    let distinct: HashSet<&str> = urls.iter().map(RedactedUrl::expose).collect();
    if distinct.len() != urls.len() {
        problems.push(rpc(
            "an endpoint is listed twice".into(),
            "a quorum needs independent endpoints; list each once",
        ));
    }
    let n = urls.len();
    let quorum = match quorum {
        None => Some(majority(n)),
        Some(q) => usize::try_from(q)
            .ok()
            .filter(|q| (1..=n).contains(q))
            .ok_or(q)
            .map_or_else(
                |q| {
                    problems.push(Problem {
                        in_quorum: true,
                        message: format!("quorum {q} is impossible with {n} endpoint(s)"),
                        fix: format!("use 1..={n} (default: a majority, {})", majority(n)),
                    });
                    None
                },
                Some,
            ),
    };
    match quorum {
        Some(quorum) if problems.is_empty() => Ok(Endpoints { urls, quorum }),
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_single_url_is_a_quorum_of_one() {
        let e = check_endpoints(&["http://127.0.0.1:8545"], None).expect("ok");
        assert_eq!((e.urls.len(), e.quorum), (1, 1));
        let e = check_endpoints(&["http://a:1", "ws://b:2", "https://c"], None).expect("ok");
        assert_eq!(e.quorum, 2);
        let e = check_endpoints(&["http://a:1", "ws://b:2"], Some(1)).expect("ok");
        assert_eq!(e.quorum, 1);
    }

    #[test]
    fn every_problem_is_named_with_its_fix() {
        let none: [&str; 0] = [];
        let p = check_endpoints(&none, None).expect_err("empty");
        assert_eq!(p[0].message, "`rpc` lists no endpoint");
        let p = check_endpoints(
            &["ftp://user:pw1234@x/KEYKEY", "http://a:1", "http://a:1"],
            Some(4),
        )
        .expect_err("bad");
        let msgs: Vec<&str> = p.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(
            msgs,
            [
                "endpoint `ftp://x/…` is not an http(s) or ws(s) URL",
                "an endpoint is listed twice",
                "quorum 4 is impossible with 3 endpoint(s)"
            ]
        );
        assert!(p[2].in_quorum && !p[0].in_quorum);
        assert_eq!(p[2].fix, "use 1..=3 (default: a majority, 2)");
        let p = check_endpoints(&["http://a:1"], Some(0)).expect_err("zero");
        assert_eq!(p[0].message, "quorum 0 is impossible with 1 endpoint(s)");
        let p = check_endpoints(&["http://a:1"], Some(-1)).expect_err("negative");
        assert_eq!(p[0].message, "quorum -1 is impossible with 1 endpoint(s)");
    }

    #[test]
    fn the_reader_refuses_what_the_configs_refuse() {
        let e = crate::QuorumReader::new(["http://a:1", "http://a:1"], None)
            .expect_err("twice")
            .to_string();
        assert!(e.contains("an endpoint is listed twice"), "{e}");
        let e = crate::QuorumReader::new(["http://a:1"], Some(2))
            .expect_err("quorum")
            .to_string();
        assert!(
            e.contains("quorum 2 is impossible with 1 endpoint(s)"),
            "{e}"
        );
        let e = crate::QuorumReader::new(["gopher://u:pw5555@a/KEY5555"], None)
            .expect_err("scheme")
            .to_string();
        assert!(!e.contains("pw5555") && !e.contains("KEY5555"), "{e}");
        let r =
            crate::QuorumReader::new(["http://a:1", "ws://b:2", "https://c"], None).expect("ok");
        assert_eq!(r.quorum(), 2);
    }

    proptest! {
        /// Accepted exactly when every URL has a known scheme, none repeats and the quorum is in
        /// 1..=n (a majority by default); a secret never appears in a problem.
        #[test]
        fn accepts_exactly_the_valid_lists(
            entries in prop::collection::vec((0usize..6, 0u8..4, any::<bool>()), 0..6),
            quorum in prop::option::of(-2i64..8),
        ) {
            let schemes = ["http", "https", "ws", "wss", "ftp"];
            let urls: Vec<String> = entries
                .iter()
                .map(|(s, host, secret)| {
                    let tail = if *secret { "/v2/SECRETKEY77" } else { "" };
                    if *s == 5 {
                        // No scheme at all: a bare key.
                        return format!("SECRETKEY77h{host}");
                    }
                    format!("{}://h{host}.example{tail}", schemes[*s])
                })
                .collect();
            let n = urls.len();
            let schemes_ok = entries.iter().all(|(s, _, _)| *s < 4);
            let distinct = urls.iter().collect::<HashSet<_>>().len() == n;
            let q = quorum.unwrap_or((n / 2 + 1) as i64);
            let valid = n > 0 && schemes_ok && distinct && q >= 1 && q <= n as i64;
            match check_endpoints(&urls, quorum) {
                Ok(e) => {
                    prop_assert!(valid);
                    prop_assert_eq!(e.quorum as i64, q);
                    prop_assert_eq!(e.urls.len(), n);
                }
                Err(p) => {
                    prop_assert!(!valid);
                    prop_assert!(!p.is_empty());
                    for x in &p {
                        prop_assert!(!x.message.contains("SECRETKEY77") && !x.fix.contains("SECRETKEY77"));
                    }
                }
            }
        }
    }
}
