//! The guard config as it is written: one type per section and one struct per action and rule
//! kind, serialisable to the TOML that [`crate::config::parse`] reads. The parser reads every
//! entry into these types (their serde field lists are the keys it allows, so the "unknown key …
//! did you mean" check and the schema cannot drift) and then resolves them into a
//! [`crate::GuardSpec`]; a program that writes a config (the replay lab) builds a
//! [`GuardDocument`] and serialises it with `toml::to_string`.
//!
//! Values that a problem may be reported at are [`Spanned`]: read from a file they carry their
//! place, built in memory they carry an empty span ([`plain`]); either way they serialise as the
//! bare value. Reading goes through [`crate::config::parse_document`], not serde: serde's
//! internally tagged enums buffer the entry and lose the places `Spanned` needs.
//!
//! ```
//! use ringfence_guard::document::{GuardDocument, StoreDoc, plain};
//!
//! let doc = GuardDocument {
//!     store: StoreDoc { path: plain("guard.db".to_owned()) },
//!     ..GuardDocument::default()
//! };
//! let text = toml::to_string(&doc).expect("serialisable");
//! assert!(text.contains("path = \"guard.db\""), "{text}");
//! ```

use serde::de::{DeserializeOwned, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use toml::Spanned;

use crate::secret::redact_url;

/// A string value with its place in the file.
pub type Text = Spanned<String>;

/// A value built in memory: no place in any file (an empty span).
pub fn plain<T>(value: T) -> Spanned<T> {
    Spanned::new(0..0, value)
}

/// The whole guard config, section by section, in file order.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct GuardDocument {
    /// `[store]`.
    pub store: StoreDoc,
    /// `[[chain]]`.
    pub chain: Vec<ChainDoc>,
    /// `[[token]]`.
    pub token: Vec<TokenDoc>,
    /// `[[bridge]]`.
    pub bridge: Vec<BridgeDoc>,
    /// `[[action]]`.
    pub action: Vec<ActionDoc>,
    /// `[[rule]]`.
    pub rule: Vec<RuleDoc>,
}

/// The top-level sections, in the order of [`GuardDocument`]'s fields.
pub const SECTIONS: [&str; 6] = ["store", "chain", "token", "bridge", "action", "rule"];

/// `[store]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoreDoc {
    /// SQLite file (relative paths are kept as written).
    pub path: Text,
}

impl Default for StoreDoc {
    /// An empty path (to be filled in).
    fn default() -> Self {
        Self {
            path: plain(String::new()),
        }
    }
}

/// A chain's `rpc`: one URL, or several read through a quorum. `Debug` shows them redacted
/// (a hosted endpoint's URL carries its API key).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Rpc {
    /// One endpoint.
    One(String),
    /// Several endpoints.
    Many(Vec<String>),
}

impl std::fmt::Debug for Rpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let urls: Vec<String> = self.urls().iter().map(|u| redact_url(u)).collect();
        f.debug_list().entries(urls).finish()
    }
}

impl Rpc {
    /// The endpoints, in the order written.
    pub fn urls(&self) -> Vec<String> {
        match self {
            Self::One(u) => vec![u.clone()],
            Self::Many(v) => v.clone(),
        }
    }
}

/// `[[chain]]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChainDoc {
    /// Id used by references.
    pub id: Text,
    /// Endpoint(s).
    pub rpc: Spanned<Rpc>,
    /// Identical answers needed.
    pub quorum: Option<Spanned<i64>>,
    /// Blocks behind the head before a block is ingested.
    pub confirmations: Option<u64>,
    /// Poll interval for HTTP.
    pub poll_ms: Option<Spanned<u64>>,
    /// Block to start from without a checkpoint.
    pub start_block: Option<u64>,
    /// Largest block range per `eth_getLogs` call.
    pub max_block_range: Option<Spanned<u64>>,
    /// Seconds without a new block before a `stale` alert.
    pub stale_after_s: Option<u64>,
}

/// `[[token]]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TokenDoc {
    /// Id used by references.
    pub id: Text,
    /// Chain id it lives on.
    pub chain: Text,
    /// ERC-20 contract.
    pub address: Text,
    /// ERC-20 decimals.
    pub decimals: Spanned<u8>,
    /// Price in USD per whole token.
    pub price_usd: Option<Spanned<f64>>,
}

/// One end of a `[[bridge]]` (the attestor's routes share it).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndDoc {
    /// Chain id.
    pub chain: Text,
    /// Contract emitting the event.
    pub contract: Text,
    /// Solidity event signature.
    pub event: Text,
}

/// `[[bridge]]`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BridgeDoc {
    /// Id used by references.
    pub id: Text,
    /// Lock / send end.
    pub source: EndDoc,
    /// Release / execute end.
    pub destination: EndDoc,
    /// Compared parameters.
    pub match_on: Spanned<Vec<Spanned<MatchItem>>>,
    /// The parameter that pairs events (default the first of `match_on`).
    pub key: Option<Text>,
}

/// One `match_on` entry: a parameter name, or `{ name = "amount", scale = 12, fee_bps = 30 }`
/// (shared with the attestor's config). A bare name carries an empty span; an entry without
/// `scale` and `fee_bps` is written back as a bare name.
#[derive(Clone, Debug, PartialEq)]
pub struct MatchItem {
    /// The parameter.
    pub name: Text,
    /// Its decimal scale, as written.
    pub scale: Option<Spanned<i64>>,
    /// Its fee tolerance, as written.
    pub fee_bps: Option<Spanned<i64>>,
}

impl MatchItem {
    /// A bare parameter name.
    pub fn name(name: &str) -> Self {
        Self {
            name: plain(name.to_owned()),
            scale: None,
            fee_bps: None,
        }
    }
}

impl Serialize for MatchItem {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        if self.scale.is_none() && self.fee_bps.is_none() {
            return s.serialize_str(self.name.get_ref());
        }
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("name", self.name.get_ref())?;
        if let Some(k) = &self.scale {
            m.serialize_entry("scale", k.get_ref())?;
        }
        if let Some(f) = &self.fee_bps {
            m.serialize_entry("fee_bps", f.get_ref())?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for MatchItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MatchItem;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a parameter name, or a table { name = \"amount\", scale = 12, fee_bps = 30 }",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<MatchItem, E> {
                Ok(MatchItem::name(v))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<MatchItem, A::Error> {
                let (mut name, mut scale, mut fee_bps) = (None, None, None);
                while let Some(k) = m.next_key::<String>()? {
                    match k.as_str() {
                        "name" => name = Some(m.next_value::<Text>()?),
                        "scale" => scale = Some(m.next_value::<Spanned<i64>>()?),
                        "fee_bps" => fee_bps = Some(m.next_value::<Spanned<i64>>()?),
                        other => {
                            return Err(serde::de::Error::unknown_field(
                                other,
                                &["name", "scale", "fee_bps"],
                            ));
                        }
                    }
                }
                let name = name.ok_or_else(|| serde::de::Error::missing_field("name"))?;
                Ok(MatchItem {
                    name,
                    scale,
                    fee_bps,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// A decimal amount of token units written as a string (`"1000000"`, `"2.5"`) or a TOML
/// integer; written back as a string. The one amount reader of every config
/// ([`ringfence_model::input::AmountText`]), exact amounts only.
pub use ringfence_model::input::AmountText as Amount;

/// `[[action]]`: one struct per `kind`.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ActionDoc {
    /// `kind = "pause"`.
    Pause(PauseDoc),
    /// `kind = "cancel"`.
    Cancel(CancelDoc),
    /// `kind = "webhook"`.
    Webhook(WebhookDoc),
}

/// The names of the action and rule kinds, as written in `kind`: the one place they are
/// spelt (a test checks that they are the serde tags of [`ActionDoc`] and [`RuleDoc`]).
pub mod kind {
    /// [`super::ActionDoc::Pause`].
    pub const PAUSE: &str = "pause";
    /// [`super::ActionDoc::Cancel`].
    pub const CANCEL: &str = "cancel";
    /// [`super::ActionDoc::Webhook`].
    pub const WEBHOOK: &str = "webhook";
    /// [`super::RuleDoc::MintRate`].
    pub const MINT_RATE: &str = "mint-rate";
    /// [`super::RuleDoc::OutflowRate`].
    pub const OUTFLOW_RATE: &str = "outflow-rate";
    /// [`super::RuleDoc::MessageMatch`].
    pub const MESSAGE_MATCH: &str = "message-match";
    /// [`super::RuleDoc::Backing`].
    pub const BACKING: &str = "backing";
    /// [`super::RuleDoc::Privileged`].
    pub const PRIVILEGED: &str = "privileged";
    /// [`super::RuleDoc::Anomaly`].
    pub const ANOMALY: &str = "anomaly";
}

/// The action kinds, as written in `kind`.
pub const ACTION_KINDS: [&str; 3] = [kind::PAUSE, kind::CANCEL, kind::WEBHOOK];

impl ActionDoc {
    /// The action's id.
    pub fn id(&self) -> &Text {
        match self {
            Self::Pause(a) => &a.id,
            Self::Cancel(a) => &a.id,
            Self::Webhook(a) => &a.id,
        }
    }

    /// Its `kind`, as written.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Pause(_) => kind::PAUSE,
            Self::Cancel(_) => kind::CANCEL,
            Self::Webhook(_) => kind::WEBHOOK,
        }
    }
}

/// `kind = "pause"`: a transaction calling a no-argument function. Its required keys are
/// optional here so that a missing one is reported in the guard's own words.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PauseDoc {
    /// Id used by rules.
    pub id: Text,
    /// Chain to send on.
    pub chain: Option<Text>,
    /// Target contract.
    pub contract: Option<Text>,
    /// Function signature, e.g. `pause()`.
    pub call: Option<Text>,
    /// Environment variable holding the guardian key.
    pub key_env: Option<Text>,
    /// Gas limit.
    pub gas_limit: Option<u64>,
}

/// `kind = "cancel"`: a transaction calling a one-`bytes32` function with a parameter of the
/// tripping event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CancelDoc {
    /// Id used by rules.
    pub id: Text,
    /// Chain to send on.
    pub chain: Option<Text>,
    /// Target contract.
    pub contract: Option<Text>,
    /// Function signature, e.g. `cancel(bytes32)`.
    pub call: Option<Text>,
    /// The `bytes32` parameter of the tripping event passed to `call`.
    pub arg: Option<Text>,
    /// A `bool` parameter of the tripping event that must be true.
    pub only_if: Option<Text>,
    /// Environment variable holding the guardian key.
    pub key_env: Option<Text>,
    /// Gas limit.
    pub gas_limit: Option<u64>,
}

/// `kind = "webhook"`: the alert POSTed to a URL. `Debug` shows the URL redacted (a Slack or
/// Discord webhook URL carries its secret in its path).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct WebhookDoc {
    /// Id used by rules.
    pub id: Text,
    /// The endpoint.
    pub url: Option<Text>,
    /// `json`, `slack` or `discord`.
    pub format: Option<Text>,
    /// Environment variable holding the signing secret of `json` bodies.
    pub secret_env: Option<Text>,
    /// PEM file of extra trusted CA certificates.
    pub ca_file: Option<Text>,
    /// Timeout of one attempt.
    pub timeout_ms: Option<Spanned<u64>>,
    /// Attempts after the first.
    pub retries: Option<Spanned<u32>>,
}

impl std::fmt::Debug for WebhookDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookDoc")
            .field("id", &self.id)
            .field("url", &self.url.as_ref().map(|u| redact_url(u.get_ref())))
            .field("format", &self.format)
            .field("secret_env", &self.secret_env)
            .field("ca_file", &self.ca_file)
            .field("timeout_ms", &self.timeout_ms)
            .field("retries", &self.retries)
            .finish()
    }
}

/// `[[rule]]`: one struct per `kind`. Every kind has `id` and `actions`; a kind's required keys
/// are optional here so that a missing one is reported in the guard's own words.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RuleDoc {
    /// `kind = "mint-rate"`.
    MintRate(MintRateDoc),
    /// `kind = "outflow-rate"`.
    OutflowRate(OutflowRateDoc),
    /// `kind = "message-match"`.
    MessageMatch(MessageMatchDoc),
    /// `kind = "backing"`.
    Backing(BackingDoc),
    /// `kind = "privileged"`.
    Privileged(PrivilegedDoc),
    /// `kind = "anomaly"`.
    Anomaly(AnomalyDoc),
}

/// The rule kinds, as written in `kind` (and named by [`crate::RuleKind::name`]).
pub const RULE_KINDS: [&str; 6] = [
    kind::MINT_RATE,
    kind::OUTFLOW_RATE,
    kind::MESSAGE_MATCH,
    kind::BACKING,
    kind::PRIVILEGED,
    kind::ANOMALY,
];

impl RuleDoc {
    /// The rule's id.
    pub fn id(&self) -> &Text {
        self.common().0
    }

    /// The actions it runs on a trip, as written.
    pub fn actions(&self) -> Option<&Vec<Text>> {
        self.common().1.as_ref()
    }

    fn common(&self) -> (&Text, &Option<Vec<Text>>) {
        match self {
            Self::MintRate(r) => (&r.id, &r.actions),
            Self::OutflowRate(r) => (&r.id, &r.actions),
            Self::MessageMatch(r) => (&r.id, &r.actions),
            Self::Backing(r) => (&r.id, &r.actions),
            Self::Privileged(r) => (&r.id, &r.actions),
            Self::Anomaly(r) => (&r.id, &r.actions),
        }
    }

    /// Its `kind`, as written.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MintRate(_) => kind::MINT_RATE,
            Self::OutflowRate(_) => kind::OUTFLOW_RATE,
            Self::MessageMatch(_) => kind::MESSAGE_MATCH,
            Self::Backing(_) => kind::BACKING,
            Self::Privileged(_) => kind::PRIVILEGED,
            Self::Anomaly(_) => kind::ANOMALY,
        }
    }
}

/// `kind = "mint-rate"`: a token's mints over a window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MintRateDoc {
    /// Id, reported in alerts.
    pub id: Text,
    /// Actions run on a trip.
    pub actions: Option<Vec<Text>>,
    /// The token.
    pub token: Option<Text>,
    /// Window length.
    pub window_s: Option<Spanned<u64>>,
    /// Most token units minted per window.
    pub max_amount: Option<Spanned<Amount>>,
    /// Most minted per window as a share of supply.
    pub max_share_of_supply: Option<Spanned<f64>>,
    /// Most token units per minter per window.
    pub max_per_minter: Option<Spanned<Amount>>,
}

/// `kind = "outflow-rate"`: USD leaving a contract over a window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutflowRateDoc {
    /// Id, reported in alerts.
    pub id: Text,
    /// Actions run on a trip.
    pub actions: Option<Vec<Text>>,
    /// Chain of the contract.
    pub chain: Option<Text>,
    /// The contract.
    pub contract: Option<Text>,
    /// Tokens counted (default: every token on the chain).
    pub tokens: Option<Vec<Text>>,
    /// Window length.
    pub window_s: Option<Spanned<u64>>,
    /// Most USD per window.
    pub max_usd: Option<Spanned<f64>>,
    /// A single transfer at least this large raises an alert.
    pub big_transfer_usd: Option<Spanned<f64>>,
}

/// `kind = "message-match"`: every release paired with its source event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessageMatchDoc {
    /// Id, reported in alerts.
    pub id: Text,
    /// Actions run on a trip.
    pub actions: Option<Vec<Text>>,
    /// The bridge.
    pub bridge: Option<Text>,
    /// A source event unmatched this long raises an alert.
    pub timeout_s: Option<u64>,
    /// The fastest legitimate relay.
    pub relay_delay_s: Option<u64>,
    /// Judge anyway when the source chain lags by more than this.
    pub source_wait_s: Option<u64>,
}

/// `kind = "backing"`: a wrapped token's supply never above its backing.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BackingDoc {
    /// Id, reported in alerts.
    pub id: Text,
    /// Actions run on a trip.
    pub actions: Option<Vec<Text>>,
    /// The wrapped token.
    pub token: Option<Text>,
    /// The token locked at the source.
    pub backing_token: Option<Text>,
    /// The lockbox.
    pub holder: Option<Text>,
    /// Allowed excess, in token units.
    pub tolerance: Option<Spanned<Amount>>,
    /// The fastest legitimate relay.
    pub relay_delay_s: Option<u64>,
}

/// `kind = "privileged"`: admin, signer-set, pause and layer-configuration changes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PrivilegedDoc {
    /// Id, reported in alerts.
    pub id: Text,
    /// Actions run on a trip.
    pub actions: Option<Vec<Text>>,
    /// Chain of the contracts.
    pub chain: Option<Text>,
    /// Watched contracts.
    pub contracts: Option<Vec<Text>>,
    /// Change names that count.
    pub changes: Option<Vec<Text>>,
    /// Extra signer-set event signatures.
    pub extra_events: Option<Vec<Text>>,
    /// Messaging layers watched (default: all).
    pub layers: Option<Vec<Text>>,
    /// `trip` or `alert`.
    pub severity: Option<Text>,
}

/// `kind = "anomaly"`: a metric's bucket far above its moving average.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnomalyDoc {
    /// Id, reported in alerts.
    pub id: Text,
    /// Actions run on a trip.
    pub actions: Option<Vec<Text>>,
    /// `mint` or `outflow`.
    pub metric: Option<Text>,
    /// The token (`mint`).
    pub token: Option<Text>,
    /// Chain of the contract (`outflow`).
    pub chain: Option<Text>,
    /// The contract (`outflow`).
    pub contract: Option<Text>,
    /// Tokens counted (`outflow`).
    pub tokens: Option<Vec<Text>>,
    /// Bucket length.
    pub bucket_s: Option<Spanned<u64>>,
    /// EWMA weight of a new bucket.
    pub alpha: Option<Spanned<f64>>,
    /// Alert above this multiple of the baseline.
    pub factor: Option<Spanned<f64>>,
    /// Buckets learnt before alerting.
    pub warmup_buckets: Option<u32>,
    /// Buckets below this are ignored.
    pub min_value: Option<f64>,
}

/// The keys serde reads for `T` (a struct deriving `Deserialize`), in declaration order: the
/// one list of what a section or a kind allows.
pub fn fields<T: DeserializeOwned>() -> &'static [&'static str] {
    /// Answers `deserialize_struct` with the field list, as an error; nothing else is asked.
    struct Probe;
    #[derive(Debug)]
    struct Found(&'static [&'static str]);
    impl std::fmt::Display for Found {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("field probe")
        }
    }
    impl std::error::Error for Found {}
    impl serde::de::Error for Found {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            Found(&[])
        }
    }
    impl<'de> Deserializer<'de> for Probe {
        type Error = Found;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Found> {
            Err(Found(&[]))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Found> {
            Err(Found(fields))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes
            byte_buf option unit unit_struct newtype_struct seq tuple tuple_struct map enum
            identifier ignored_any
        }
    }
    match T::deserialize(Probe) {
        Err(Found(f)) => f,
        Ok(_) => &[],
    }
}

/// The keys allowed in an entry of a tagged section: `id`, `kind`, then the struct's other
/// fields in order.
pub(crate) fn kind_fields<T: DeserializeOwned>() -> Vec<&'static str> {
    let mut keys: Vec<&'static str> = fields::<T>().to_vec();
    let at = usize::from(keys.first() == Some(&"id"));
    keys.insert(at, "kind");
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_lists_come_from_serde_in_declaration_order() {
        assert_eq!(fields::<StoreDoc>(), ["path"]);
        assert_eq!(
            fields::<TokenDoc>(),
            ["id", "chain", "address", "decimals", "price_usd"]
        );
        assert_eq!(
            kind_fields::<PauseDoc>(),
            [
                "id",
                "kind",
                "chain",
                "contract",
                "call",
                "key_env",
                "gas_limit"
            ]
        );
        assert_eq!(
            kind_fields::<MessageMatchDoc>(),
            [
                "id",
                "kind",
                "actions",
                "bridge",
                "timeout_s",
                "relay_delay_s",
                "source_wait_s"
            ]
        );
    }

    #[test]
    fn kind_names_are_the_serde_tags() {
        let id = || plain("x".to_owned());
        let rules = [
            RuleDoc::MintRate(MintRateDoc {
                id: id(),
                actions: None,
                token: None,
                window_s: None,
                max_amount: None,
                max_share_of_supply: None,
                max_per_minter: None,
            }),
            RuleDoc::OutflowRate(OutflowRateDoc {
                id: id(),
                actions: None,
                chain: None,
                contract: None,
                tokens: None,
                window_s: None,
                max_usd: None,
                big_transfer_usd: None,
            }),
            RuleDoc::MessageMatch(MessageMatchDoc {
                id: id(),
                actions: None,
                bridge: None,
                timeout_s: None,
                relay_delay_s: None,
                source_wait_s: None,
            }),
            RuleDoc::Backing(BackingDoc {
                id: id(),
                actions: None,
                token: None,
                backing_token: None,
                holder: None,
                tolerance: None,
                relay_delay_s: None,
            }),
            RuleDoc::Privileged(PrivilegedDoc {
                id: id(),
                actions: None,
                chain: None,
                contracts: None,
                changes: None,
                extra_events: None,
                layers: None,
                severity: None,
            }),
            RuleDoc::Anomaly(AnomalyDoc {
                id: id(),
                actions: None,
                metric: None,
                token: None,
                chain: None,
                contract: None,
                tokens: None,
                bucket_s: None,
                alpha: None,
                factor: None,
                warmup_buckets: None,
                min_value: None,
            }),
        ];
        let actions = [
            ActionDoc::Pause(PauseDoc {
                id: id(),
                chain: None,
                contract: None,
                call: None,
                key_env: None,
                gas_limit: None,
            }),
            ActionDoc::Cancel(CancelDoc {
                id: id(),
                chain: None,
                contract: None,
                call: None,
                arg: None,
                only_if: None,
                key_env: None,
                gas_limit: None,
            }),
            ActionDoc::Webhook(WebhookDoc {
                id: id(),
                url: None,
                format: None,
                secret_env: None,
                ca_file: None,
                timeout_ms: None,
                retries: None,
            }),
        ];
        let tag = |v: toml::Value| v.get("kind").and_then(|k| k.as_str()).map(str::to_owned);
        let rule_tags: Vec<Option<String>> = rules
            .iter()
            .map(|r| tag(toml::Value::try_from(r).expect("serialisable")))
            .collect();
        let kinds: Vec<Option<String>> = rules.iter().map(|r| Some(r.kind().to_owned())).collect();
        assert_eq!(rule_tags, kinds);
        assert_eq!(kinds.len(), RULE_KINDS.len());
        let action_tags: Vec<Option<String>> = actions
            .iter()
            .map(|a| tag(toml::Value::try_from(a).expect("serialisable")))
            .collect();
        let kinds: Vec<Option<String>> =
            actions.iter().map(|a| Some(a.kind().to_owned())).collect();
        assert_eq!(action_tags, kinds);
        assert_eq!(kinds.len(), ACTION_KINDS.len());
    }

    #[test]
    fn sections_are_the_document_fields() {
        let v = toml::Value::try_from(GuardDocument::default()).expect("serialisable");
        let mut keys: Vec<&str> = v
            .as_table()
            .map(|t| t.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut sections = SECTIONS.to_vec();
        keys.sort_unstable();
        sections.sort_unstable();
        assert_eq!(keys, sections);
    }

    #[test]
    fn debug_never_shows_an_endpoint_or_webhook_secret() {
        let rpc = Rpc::Many(vec![
            "https://mainnet.infura.io/v3/SECRETKEY".to_owned(),
            "wss://user:pw@node.example:8546/ws".to_owned(),
        ]);
        let hook = WebhookDoc {
            id: plain("h".to_owned()),
            url: Some(plain(
                "https://hooks.slack.com/services/T0/B0/XSECRET".to_owned(),
            )),
            format: None,
            secret_env: None,
            ca_file: None,
            timeout_ms: None,
            retries: None,
        };
        let shown = format!("{rpc:?} {hook:?}");
        for secret in ["SECRETKEY", "pw@", "XSECRET"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("https://mainnet.infura.io/…"), "{shown}");
    }

    #[test]
    fn a_bare_match_item_is_written_as_a_name() {
        #[derive(Serialize)]
        struct B {
            match_on: Vec<MatchItem>,
        }
        let b = B {
            match_on: vec![
                MatchItem::name("id"),
                MatchItem {
                    name: plain("amount".to_owned()),
                    scale: Some(plain(12)),
                    fee_bps: None,
                },
            ],
        };
        let text = toml::to_string(&b).expect("serialisable");
        assert_eq!(
            text.trim(),
            "match_on = [\"id\", { name = \"amount\", scale = 12 }]"
        );
    }
}
