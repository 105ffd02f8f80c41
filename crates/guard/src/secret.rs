//! The redaction boundary: credentials the guard holds (RPC URLs of hosted providers carry an
//! API key in their path, query or userinfo; guardian keys; webhook signing secrets) live in
//! types whose `Display` and `Debug` never show them. Only the code that must hand the secret to
//! a transport or a signer calls `expose`.
//!
//! [`scrub_urls`] is the fallback for text that was not built by us (an RPC library's error
//! message, a log line with a span field): it rewrites every URL in it to its redacted form.

use std::borrow::Cow;
use std::fmt;

/// A JSON-RPC (or webhook) endpoint that may carry credentials. `Display`/`Debug` show
/// `scheme://host[:port]` followed by `/…` when the URL has a path and `?name=…` per query
/// parameter: userinfo, path segments and query values are never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct RpcUrl(String);

impl RpcUrl {
    /// Wraps a URL as written in the config.
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into())
    }

    /// The full URL, credentials included: only for the transport that connects to it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The scheme (`http`, `https`, `ws`, `wss`), empty when there is none.
    pub fn scheme(&self) -> &str {
        self.0.split_once("://").map_or("", |(s, _)| s)
    }

    /// The redacted form (what `Display` prints).
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }
}

impl fmt::Display for RpcUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_url(&self.0))
    }
}

impl fmt::Debug for RpcUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RpcUrl({})", redact_url(&self.0))
    }
}

/// A secret string (a hex private key, an HMAC secret, a bearer token). `Debug` prints
/// `[redacted]`; there is no `Display`.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself: only for the signer or the MAC that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

/// `scheme://host[:port]` plus `/…` for a path and `?name=…` per query parameter.
pub fn redact_url(url: &str) -> String {
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
/// [`redact_url`]); a URL ends at whitespace, a control character (a terminal colour code), a
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
        out.push_str(&redact_url(&url_part[..end]));
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn urls_keep_scheme_host_and_port_only() {
        let cases = [
            ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
            ("http://127.0.0.1:8545/", "http://127.0.0.1:8545"),
            (
                "https://mainnet.infura.io/v3/SECRETKEY",
                "https://mainnet.infura.io/…",
            ),
            (
                "wss://user:pw@node.example:8546/ws?key=1&x",
                "wss://node.example:8546/…?key=…&x=…",
            ),
            (
                "https://h.example?apikey=S3CRET#frag",
                "https://h.example?apikey=…",
            ),
            ("localhost:8545", "localhost:8545"),
        ];
        for (url, want) in cases {
            assert_eq!(redact_url(url), want, "{url}");
            assert_eq!(RpcUrl::new(url).to_string(), want);
        }
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let s = Secret::new("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80");
        assert_eq!(format!("{s:?}"), "[redacted]");
        let u = RpcUrl::new("https://a:b@x.example/v2/KEY?apikey=K2");
        let d = format!("{u:?} {u} {:#?}", Some(&u));
        for bad in ["KEY", "K2", "a:b"] {
            assert!(!d.contains(bad), "{d}");
        }
    }

    #[test]
    fn scrub_rewrites_urls_inside_error_text() {
        let t = "error sending request for url (http://127.0.0.1:9/v2/SECRETKEY?apikey=SECRET2): connection refused";
        assert_eq!(
            scrub_urls(t),
            "error sending request for url (http://127.0.0.1:9/…?apikey=…): connection refused"
        );
        assert!(matches!(scrub_urls("no url here"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_scrubbing_writer_redacts_what_passes() {
        use std::io::Write as _;
        let mut w = ScrubWriter(Vec::new());
        write!(w, "span{{url=https://eth.example/v2/KEY}}: sending").expect("write");
        let out = String::from_utf8(w.0).expect("utf8");
        assert_eq!(out, "span{url=https://eth.example/…}: sending");
    }

    proptest! {
        /// Whatever the path, query and userinfo hold, none of it survives redaction or
        /// scrubbing, and scrubbing twice changes nothing more.
        #[test]
        fn secrets_never_survive(
            scheme in prop::sample::select(vec!["http", "https", "ws", "wss"]),
            user in "[A-Za-z0-9]{0,8}",
            host in "[a-z]{1,10}(\\.[a-z]{2,5})?(:[0-9]{1,5})?",
            path in "[A-Za-z0-9/_-]{0,20}",
            key in "[A-Z]{12,20}",
            before in "[ a-z(]{0,10}",
        ) {
            let userinfo = if user.is_empty() { String::new() } else { format!("{user}:{key}@") };
            let url = format!("{scheme}://{userinfo}{host}/{path}{key}?token={key}&a=1");
            let r = redact_url(&url);
            prop_assert!(!r.contains(&key), "{r}");
            let text = format!("{before}{url} tail");
            let s = scrub_urls(&text).into_owned();
            prop_assert!(!s.contains(&key), "{s}");
            prop_assert_eq!(scrub_urls(&s).into_owned(), s.clone());
        }

        /// Arbitrary text never panics the scrubber.
        #[test]
        fn scrub_never_panics(t in "\\PC{0,60}") {
            let _ = scrub_urls(&t);
        }
    }
}
