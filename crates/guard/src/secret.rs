//! The redaction boundary: credentials the guard holds (RPC URLs of hosted providers carry an
//! API key in their path, query or userinfo; guardian keys; webhook signing secrets) live in
//! types whose `Display` and `Debug` never show them. Only the code that must hand the secret to
//! a transport or a signer calls `expose`.
//!
//! URL redaction has one home, `ringfence_quorum`'s (the lower crate): [`RpcUrl`] is its
//! `RedactedUrl`, and [`redact_url`], [`scrub_urls`] and [`ScrubWriter`] are its functions.

use std::fmt;

/// A JSON-RPC (or webhook) endpoint that may carry credentials. `Display`/`Debug` show
/// `scheme://host[:port]` followed by `/…` when the URL has a path and `?name=…` per query
/// parameter: userinfo, path segments and query values are never shown.
pub use ringfence_quorum::RedactedUrl as RpcUrl;
pub use ringfence_quorum::{ScrubWriter, redact as redact_url, scrub_urls};

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::borrow::Cow;

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
