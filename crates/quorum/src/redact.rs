//! RPC URLs carry secrets (an API key in the path or the query, a password in the userinfo):
//! an endpoint is only ever shown as `scheme://host[:port]`, plus `/…` when it has a path and
//! `?name=…` per query parameter. This is the one home of URL redaction: the guard's `RpcUrl`
//! is this [`RedactedUrl`], and its log writer is [`ScrubWriter`].
//!
//! [`scrub_urls`] is the fallback for text that was not built by us (an RPC library's error
//! message, a log line with a span field): it rewrites every URL in it to its redacted form.

use std::borrow::Cow;
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

    /// The redacted form (`scheme://host[:port]`, `/…` for a path, `?name=…` per query
    /// parameter; userinfo never).
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// The redacted form, owned (what `Display` prints).
    pub fn redacted(&self) -> String {
        self.shown.clone()
    }

    /// The scheme (`http`, `https`, `ws`, `wss`), empty when there is none.
    pub fn scheme(&self) -> &str {
        self.raw.split_once("://").map_or("", |(s, _)| s)
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

/// `scheme://host[:port]` plus `/…` for a path and `?name=…` per query parameter.
pub fn redact(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, url),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    // Userinfo ends at the last `@` of the authority.
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let mut out = String::with_capacity(url.len().min(80));
    if let Some(s) = scheme {
        out.push_str(s);
        out.push_str("://");
    }
    out.push_str(host);
    let tail = tail.split('#').next().unwrap_or("");
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    if !path.is_empty() && path != "/" {
        out.push_str("/…");
    }
    if let Some(q) = query {
        let names: Vec<&str> = q
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').map_or(p, |(k, _)| k))
            .collect();
        for (i, n) in names.iter().enumerate() {
            out.push(if i == 0 { '?' } else { '&' });
            // A name is not a secret, but keep it short and printable.
            let n: String = n
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                .take(32)
                .collect();
            out.push_str(&n);
            out.push_str("=…");
        }
    }
    out
}

const SCHEMES: [&str; 4] = ["https://", "http://", "wss://", "ws://"];

/// Rewrites every `http(s)://` and `ws(s)://` URL in `text` to its redacted form (see
/// [`redact`]); a URL ends at whitespace, a control character (a terminal colour code), a
/// quote, `)`, `>`, `]`, `}`, `,` or `\`. Text without a
/// URL is returned as it is.
pub fn scrub_urls(text: &str) -> Cow<'_, str> {
    let lower_has = |t: &str| SCHEMES.iter().any(|s| t.contains(s));
    if !lower_has(text) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, _)) = SCHEMES
        .iter()
        .filter_map(|s| rest.find(s).map(|i| (i, s)))
        .min_by_key(|(i, s)| (*i, usize::MAX - s.len()))
    {
        out.push_str(&rest[..at]);
        let url_part = &rest[at..];
        let end = url_part
            .find(|c: char| {
                c.is_whitespace()
                    || c.is_control()
                    || matches!(c, '"' | '\'' | ')' | '>' | ']' | '}' | ',' | '\\' | '`')
            })
            .unwrap_or(url_part.len());
        out.push_str(&redact(&url_part[..end]));
        rest = &url_part[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// A writer that redacts every URL in what passes through it (see [`scrub_urls`]): the log
/// writer of `ringfence watch` and `serve`, because RPC libraries put the full endpoint in their
/// spans and errors. Log formatters write each event in one call, so a URL is never split.
#[derive(Debug)]
pub struct ScrubWriter<W>(pub W);

impl<W: std::io::Write> std::io::Write for ScrubWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(scrub_urls(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
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
                "https://eth-mainnet.g.alchemy.com/…",
            ),
            (
                "wss://user:hunter22@node.example:8546",
                "wss://node.example:8546",
            ),
            (
                "https://rpc.example/?apikey=s3cr3tkey",
                "https://rpc.example?apikey=…",
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
        assert!(format!("{u:?}").contains("rpc.example/…?x=…"));
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
