//! RPC URLs carry secrets (an API key in the path or the query, a password in the userinfo):
//! an endpoint is only ever shown as `scheme://host:port` plus `/***` when anything was hidden.

use std::fmt;

/// An endpoint URL whose secrets never reach a `Display`, a `Debug`, a log or an error.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RedactedUrl {
    raw: String,
    shown: String,
}

impl RedactedUrl {
    /// Wraps a URL as the user wrote it.
    pub fn new(raw: impl Into<String>) -> Self {
        let raw = raw.into();
        let shown = redact(&raw);
        Self { raw, shown }
    }

    /// The URL with its secrets, for connecting only.
    pub fn expose(&self) -> &str {
        &self.raw
    }

    /// The redacted form (`scheme://host:port`, `/***` if a path, query or userinfo was hidden).
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// `text` (an error message from a transport, which may quote the URL) with every secret
    /// part of this URL replaced by its redacted form.
    pub fn scrub(&self, text: &str) -> String {
        let mut out = text.replace(&self.raw, &self.shown);
        let trimmed = self.raw.trim_end_matches('/');
        if !trimmed.is_empty() {
            out = out.replace(trimmed, &self.shown);
        }
        for secret in secrets(&self.raw) {
            out = out.replace(secret, "***");
        }
        out
    }
}

impl fmt::Display for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for RedactedUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RedactedUrl({})", self.shown)
    }
}

/// Splits `raw` into (scheme, userinfo, host[:port], rest).
fn parts(raw: &str) -> (&str, Option<&str>, &str, &str) {
    let (scheme, after) = match raw.find("://") {
        Some(i) => (&raw[..i], &raw[i + 3..]),
        None => ("", raw),
    };
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at(end);
    match authority.rfind('@') {
        Some(at) => (scheme, Some(&authority[..at]), &authority[at + 1..], rest),
        None => (scheme, None, authority, rest),
    }
}

/// The redacted form of a URL.
pub fn redact(raw: &str) -> String {
    let (scheme, userinfo, host, rest) = parts(raw);
    let hidden = userinfo.is_some() || !(rest.is_empty() || rest == "/");
    let mut s = String::with_capacity(scheme.len() + host.len() + 8);
    if !scheme.is_empty() {
        s.push_str(scheme);
        s.push_str("://");
    }
    s.push_str(host);
    if hidden {
        s.push_str("/***");
    }
    s
}

/// The secret substrings of a URL (userinfo, path segments, query values), longest first, each
/// at least 4 characters so that scrubbing does not mangle ordinary words.
fn secrets(raw: &str) -> Vec<&str> {
    let (_, userinfo, _, rest) = parts(raw);
    let mut v: Vec<&str> = Vec::new();
    if let Some(u) = userinfo {
        v.push(u);
        v.extend(u.split(':'));
    }
    if !(rest.is_empty() || rest == "/") {
        v.push(rest);
        v.extend(rest.split(['/', '?', '&', '=', '#']));
    }
    v.retain(|s| s.len() >= 4);
    v.sort_by_key(|s| std::cmp::Reverse(s.len()));
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn table() {
        for (raw, shown) in [
            ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
            ("http://127.0.0.1:8545/", "http://127.0.0.1:8545"),
            (
                "https://eth-mainnet.g.alchemy.com/v2/abcdef123456",
                "https://eth-mainnet.g.alchemy.com/***",
            ),
            (
                "wss://user:hunter22@node.example:8546",
                "wss://node.example:8546/***",
            ),
            (
                "https://rpc.example/?apikey=s3cr3tkey",
                "https://rpc.example/***",
            ),
        ] {
            assert_eq!(redact(raw), shown, "{raw}");
            assert_eq!(RedactedUrl::new(raw).to_string(), shown);
        }
    }

    #[test]
    fn scrub_hides_a_quoted_url() {
        let u = RedactedUrl::new("https://user:pw123456@rpc.example/v2/KEYKEYKEY?x=TOKEN999");
        let msg = "error sending request for url (https://user:pw123456@rpc.example/v2/KEYKEYKEY?x=TOKEN999): refused; KEYKEYKEY";
        let s = u.scrub(msg);
        for secret in ["pw123456", "KEYKEYKEY", "TOKEN999", "user:"] {
            assert!(!s.contains(secret), "{s}");
        }
        assert!(format!("{u:?}").contains("rpc.example/***"));
    }

    proptest! {
        /// No secret part of a URL survives redaction, Display, Debug or scrubbing.
        #[test]
        fn secrets_never_shown(
            scheme in "(http|https|ws|wss)",
            user in "[a-z]{4,8}", pw in "[A-Za-z0-9]{6,16}",
            host in "[a-z]{3,10}\\.[a-z]{2,4}", port in 1u16..,
            key in "[A-Za-z0-9]{8,32}", with_user in any::<bool>(), in_query in any::<bool>(),
        ) {
            let auth = if with_user { format!("{user}:{pw}@") } else { String::new() };
            let tail = if in_query { format!("/?apikey={key}") } else { format!("/v3/{key}") };
            let raw = format!("{scheme}://{auth}{host}:{port}{tail}");
            let u = RedactedUrl::new(raw.clone());
            let texts = [u.to_string(), format!("{u:?}"), u.scrub(&format!("failed: {raw} ({key})"))];
            for t in texts {
                prop_assert!(!t.contains(&key), "{}", t);
                if with_user {
                    prop_assert!(!t.contains(&pw), "{}", t);
                }
                let hostport = format!("{host}:{port}");
                prop_assert!(t.contains(&hostport));
            }
        }

        /// Redaction never panics on arbitrary text.
        #[test]
        fn total(s in ".*") {
            let _ = redact(&s);
            let _ = RedactedUrl::new(s.clone()).scrub(&s);
        }
    }
}
