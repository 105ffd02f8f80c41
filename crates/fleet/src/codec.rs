//! The fleet's wire format: one JSON envelope per bus message, versioned and stamped with the
//! sender's config hash. [`decode`] refuses, with a located error, a message of another version,
//! a truncated or malformed one, one from a member with a different config, and one whose events
//! do not belong to the chain it names: such a message is never applied.

use alloy::primitives::B256;
use ringfence_guard::{AlertRecord, Event, GuardSpec};
use ringfence_store::BlockRecord;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The version this build writes and the only one it reads.
pub const VERSION: u32 = 1;

/// The config hash members compare: the first 16 hex digits of the SHA-256 of the config file's
/// bytes. Members of one fleet run the same file (secrets come from the environment, so one
/// file serves every member).
pub fn config_hash(config: &[u8]) -> String {
    let d = Sha256::digest(config);
    alloy::primitives::hex::encode(&d[..8])
}

/// A block header on the bus.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Number.
    pub number: u64,
    /// Hash.
    pub hash: B256,
    /// Parent hash.
    pub parent: B256,
    /// Timestamp (seconds).
    pub timestamp: u64,
}

impl From<BlockRecord> for Header {
    fn from(b: BlockRecord) -> Self {
        Self {
            number: b.number,
            hash: b.hash,
            parent: b.parent_hash,
            timestamp: b.timestamp,
        }
    }
}

impl From<Header> for BlockRecord {
    fn from(h: Header) -> Self {
        Self {
            number: h.number,
            hash: h.hash,
            parent_hash: h.parent,
            timestamp: h.timestamp,
        }
    }
}

/// What a message says.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Body {
    /// A chain's start-up reads of supplies and balances (before its first block).
    Observed {
        /// Chain id from the config.
        chain: String,
        /// The observations as engine events.
        events: Vec<Event>,
    },
    /// One quorum-confirmed block: its decoded events, then its head event.
    Block {
        /// Chain id from the config.
        chain: String,
        /// The header.
        header: Header,
        /// Its engine events.
        events: Vec<Event>,
    },
    /// The chain reorganised: every block after `fork` is gone. `tip` is the last block the
    /// publisher had published on the old branch: a member applies the marker only while its
    /// checkpoint is that block, so a replayed marker is never applied twice.
    Reorg {
        /// Chain id from the config.
        chain: String,
        /// The last block both branches share.
        fork: Header,
        /// The old branch's tip as published.
        tip: B256,
    },
    /// An alert, as the member that claimed it printed it.
    Alert {
        /// The alert.
        record: Box<AlertRecord>,
    },
}

impl Body {
    /// The chain a block-log message is about (`None` for alerts).
    pub fn chain(&self) -> Option<&str> {
        match self {
            Body::Observed { chain, .. }
            | Body::Block { chain, .. }
            | Body::Reorg { chain, .. } => Some(chain),
            Body::Alert { .. } => None,
        }
    }
}

/// One bus message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// Wire version ([`VERSION`]).
    pub v: u32,
    /// The sender's [`config_hash`].
    pub config: String,
    /// The sender's member id.
    pub member: String,
    /// What it says.
    pub body: Body,
}

/// Why a bus message is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    /// The body ends early (a cut-off write, a size limit).
    #[error(
        "bus message on {subject}: truncated after {len} bytes (line {line}, column {column}); the message is refused — check the publisher and the stream's max message size"
    )]
    Truncated {
        /// Subject it came on.
        subject: String,
        /// Its length.
        len: usize,
        /// Where it ends.
        line: usize,
        /// Where it ends.
        column: usize,
    },
    /// Not a message of this protocol.
    #[error(
        "bus message on {subject}: malformed at line {line}, column {column}: {problem}; the message is refused"
    )]
    Malformed {
        /// Subject it came on.
        subject: String,
        /// Where.
        line: usize,
        /// Where.
        column: usize,
        /// What serde said.
        problem: String,
    },
    /// A version this build does not read.
    #[error(
        "bus message on {subject} from member `{member}`: wire version {got}, this member reads version {VERSION}; the message is refused — run the same ringfence release on every member"
    )]
    UnknownVersion {
        /// Subject it came on.
        subject: String,
        /// Sender.
        member: String,
        /// The version it carries.
        got: u32,
    },
    /// The sender runs another config.
    #[error(
        "bus message on {subject} from member `{member}`: config hash {got}, this member runs {want}; the message is refused — give every member of a fleet the same config file"
    )]
    ConfigMismatch {
        /// Subject it came on.
        subject: String,
        /// Sender.
        member: String,
        /// Its hash.
        got: String,
        /// Ours.
        want: String,
    },
    /// The message names a chain the config lacks, or carries events of another chain.
    #[error(
        "bus message on {subject} from member `{member}`, body.{path}: {problem}; the message is refused"
    )]
    Inconsistent {
        /// Subject it came on.
        subject: String,
        /// Sender.
        member: String,
        /// JSON path of the offending field.
        path: String,
        /// What is wrong.
        problem: String,
    },
}

/// The message as bytes.
pub fn encode(env: &Envelope) -> Vec<u8> {
    // Serialising these types cannot fail: every map key is a string.
    serde_json::to_vec(env).unwrap_or_default()
}

/// The first fields, read before the body so that a message of another version or config is
/// refused for that reason rather than for a body this build cannot parse.
#[derive(Deserialize)]
struct Probe {
    v: u32,
    #[serde(default)]
    config: String,
    #[serde(default)]
    member: String,
}

fn syntax(subject: &str, bytes: &[u8], e: &serde_json::Error) -> CodecError {
    if e.is_eof() {
        CodecError::Truncated {
            subject: subject.to_owned(),
            len: bytes.len(),
            line: e.line(),
            column: e.column(),
        }
    } else {
        CodecError::Malformed {
            subject: subject.to_owned(),
            line: e.line(),
            column: e.column(),
            problem: e.to_string(),
        }
    }
}

/// Reads a message that came on `subject`, refusing it unless it is of [`VERSION`], from a
/// member with config hash `want`, complete, and consistent with `spec` (a chain it knows; events
/// of that chain only).
pub fn decode(
    subject: &str,
    bytes: &[u8],
    want: &str,
    spec: &GuardSpec,
) -> Result<Envelope, CodecError> {
    let probe: Probe = serde_json::from_slice(bytes).map_err(|e| syntax(subject, bytes, &e))?;
    if probe.v != VERSION {
        return Err(CodecError::UnknownVersion {
            subject: subject.to_owned(),
            member: probe.member,
            got: probe.v,
        });
    }
    if probe.config != want {
        return Err(CodecError::ConfigMismatch {
            subject: subject.to_owned(),
            member: probe.member,
            got: probe.config,
            want: want.to_owned(),
        });
    }
    let env: Envelope = serde_json::from_slice(bytes).map_err(|e| syntax(subject, bytes, &e))?;
    let bad = |path: String, problem: String| CodecError::Inconsistent {
        subject: subject.to_owned(),
        member: env.member.clone(),
        path,
        problem,
    };
    if let Some(chain) = env.body.chain() {
        let Some(idx) = spec.chain_idx(chain) else {
            return Err(bad(
                "chain".into(),
                format!("chain `{chain}` is not in this member's config"),
            ));
        };
        let events = match &env.body {
            Body::Observed { events, .. } | Body::Block { events, .. } => &events[..],
            _ => &[],
        };
        for (i, e) in events.iter().enumerate() {
            if e.chain != idx {
                return Err(bad(
                    format!("events[{i}].chain"),
                    format!("chain index {} is not `{chain}` ({idx})", e.chain),
                ));
            }
            if let Body::Block { header, .. } = &env.body
                && e.block != header.number
            {
                return Err(bad(
                    format!("events[{i}].block"),
                    format!("block {} in a message of block {}", e.block, header.number),
                ));
            }
        }
    }
    Ok(env)
}

/// The subject of chain `id`'s block log: `ringfence.blocks.` and the id, its characters outside
/// `[A-Za-z0-9_-]` written as `~` and two hex digits (subjects split on `.`, and `*`, `>` and
/// spaces are not allowed in a token).
pub fn block_subject(id: &str) -> String {
    let mut s = String::from("ringfence.blocks.");
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            s.push(char::from(b));
        } else {
            s.push_str(&format!("~{b:02x}"));
        }
    }
    s
}

/// Subjects of every chain's block log.
pub const BLOCKS: &str = "ringfence.blocks.>";

/// The subject alerts are published on.
pub const ALERTS: &str = "ringfence.alerts";

#[cfg(test)]
mod tests {
    use alloy::primitives::{Address, U256};
    use proptest::prelude::*;
    use ringfence_guard::EventKind;

    use super::*;

    fn spec() -> GuardSpec {
        let text = r#"
[store]
path = "t.db"
[[chain]]
id = "src"
rpc = "http://127.0.0.1:1"
[[chain]]
id = "dst.main"
rpc = "http://127.0.0.1:2"
[[token]]
id = "T"
chain = "src"
address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
decimals = 6
[[rule]]
id = "mr"
kind = "mint-rate"
token = "T"
window_s = 60
max_amount = "1"
"#;
        match ringfence_guard::config::parse(std::path::Path::new("t.toml"), text) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    fn block(chain: u16, number: u64, mints: &[u64]) -> Envelope {
        let mut events: Vec<Event> = mints
            .iter()
            .enumerate()
            .map(|(i, amount)| Event {
                chain,
                block: number,
                timestamp: 1_700_000_000 + number,
                tx: B256::repeat_byte(i as u8 + 1),
                log_index: i as u64,
                kind: EventKind::Mint {
                    token: 0,
                    to: Address::repeat_byte(7),
                    amount: U256::from(*amount),
                    minter: None,
                },
            })
            .collect();
        events.push(Event::head(chain, number, 1_700_000_000 + number));
        Envelope {
            v: VERSION,
            config: "abc".into(),
            member: "m1".into(),
            body: Body::Block {
                chain: ["src", "dst.main"][usize::from(chain)].into(),
                header: Header {
                    number,
                    hash: B256::repeat_byte(9),
                    parent: B256::repeat_byte(8),
                    timestamp: 1_700_000_000 + number,
                },
                events,
            },
        }
    }

    #[test]
    fn a_block_round_trips() {
        let s = spec();
        let env = block(0, 12, &[5, 6]);
        let got = decode("x", &encode(&env), "abc", &s);
        assert_eq!(got, Ok(env));
    }

    #[test]
    fn another_version_is_refused_before_its_body_is_read() {
        let s = spec();
        let body = br#"{"v":2,"config":"abc","member":"m9","body":{"type":"something-new"}}"#;
        match decode("ringfence.blocks.src", body, "abc", &s) {
            Err(CodecError::UnknownVersion { got: 2, member, .. }) => assert_eq!(member, "m9"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn another_config_is_refused() {
        let s = spec();
        let env = block(0, 1, &[]);
        match decode("x", &encode(&env), "def", &s) {
            Err(CodecError::ConfigMismatch { got, want, .. }) => {
                assert_eq!((got.as_str(), want.as_str()), ("abc", "def"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn events_of_another_chain_or_block_are_refused() {
        let s = spec();
        let mut env = block(0, 3, &[1]);
        if let Body::Block { events, .. } = &mut env.body {
            events[0].chain = 1;
        }
        let e = decode("x", &encode(&env), "abc", &s).expect_err("refused");
        assert!(e.to_string().contains("body.events[0].chain"), "{e}");
        let mut env = block(1, 3, &[1]);
        if let Body::Block { events, .. } = &mut env.body {
            events[0].block = 4;
        }
        let e = decode("x", &encode(&env), "abc", &s).expect_err("refused");
        assert!(e.to_string().contains("body.events[0].block"), "{e}");
        let mut env = block(0, 3, &[]);
        if let Body::Block { chain, .. } = &mut env.body {
            *chain = "gone".into();
        }
        let e = decode("x", &encode(&env), "abc", &s).expect_err("refused");
        assert!(e.to_string().contains("`gone` is not in"), "{e}");
    }

    #[test]
    fn subjects_are_one_token_per_chain() {
        assert_eq!(block_subject("eth-main_1"), "ringfence.blocks.eth-main_1");
        assert_eq!(block_subject("dst.main"), "ringfence.blocks.dst~2emain");
        assert_eq!(block_subject("a b*>"), "ringfence.blocks.a~20b~2a~3e");
    }

    #[test]
    fn config_hash_is_stable_and_short() {
        assert_eq!(config_hash(b"x"), config_hash(b"x"));
        assert_ne!(config_hash(b"x"), config_hash(b"y"));
        assert_eq!(config_hash(b"").len(), 16);
    }

    proptest! {
        // Every proper prefix of a valid message is refused as truncated, never applied.
        #[test]
        fn every_truncation_is_refused(
            chain in 0u16..2, number in 0u64..1_000_000,
            mints in proptest::collection::vec(0u64..u64::MAX, 0..4),
            cut in 0.0f64..1.0,
        ) {
            let s = spec();
            let bytes = encode(&block(chain, number, &mints));
            let n = ((bytes.len() as f64) * cut) as usize;
            prop_assert!(n < bytes.len());
            match decode("x", &bytes[..n], "abc", &s) {
                Err(CodecError::Truncated { len, .. }) => prop_assert_eq!(len, n),
                other => prop_assert!(false, "prefix {} of {}: {:?}", n, bytes.len(), other),
            }
        }

        // Arbitrary bytes never panic and never decode to a message for another config.
        #[test]
        fn garbage_is_refused_or_consistent(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let s = spec();
            if let Ok(env) = decode("x", &bytes, "abc", &s) {
                prop_assert_eq!(env.v, VERSION);
                prop_assert_eq!(env.config, "abc");
            }
        }

        // Any version but ours is refused as such, whatever the body holds.
        #[test]
        fn other_versions_are_refused(v in any::<u32>().prop_filter("not ours", |v| *v != VERSION), number in 0u64..1000) {
            let s = spec();
            let mut env = block(0, number, &[1]);
            env.v = v;
            let refused = matches!(decode("x", &encode(&env), "abc", &s), Err(CodecError::UnknownVersion { got, .. }) if got == v);
            prop_assert!(refused);
        }

        // Round trip of any block of either chain.
        #[test]
        fn blocks_round_trip(chain in 0u16..2, number in any::<u64>(), mints in proptest::collection::vec(any::<u64>(), 0..6)) {
            let s = spec();
            let env = block(chain, number, &mints);
            prop_assert_eq!(decode("x", &encode(&env), "abc", &s), Ok(env));
        }
    }
}
