//! Guard config loading: TOML parsed with recovery, each entry deserialised on its own so that
//! every problem (syntax, unknown key, wrong type, dangling reference, bad address, amount or
//! event signature) is reported at once with its file, line and column.

use std::collections::HashSet;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use alloy::json_abi::{Event as AbiEvent, Function};
use alloy::primitives::{Address, U256};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use toml::Spanned;
use toml::de::DeValue;

use crate::amount::parse_units;
use crate::diag::{Diagnostics, SourceFile};
use crate::event::MAX_FIELDS;
use crate::layers::{LAYER_EVENTS, Layer, LayerEvent};
use crate::spec::*;
use ringfence_model::input::{TomlInput, list};

/// Reads and validates the guard config at `path`.
pub fn load(path: &Path) -> crate::Result<GuardSpec> {
    let text = std::fs::read_to_string(path).map_err(|source| crate::Error::Read {
        path: path.to_owned(),
        source,
    })?;
    Ok(parse(path, &text)?)
}

/// Validates a guard config given as text; `path` is only used in diagnostics and to resolve a
/// relative `[store] path` (relative paths are kept as written).
pub fn parse(path: &Path, text: &str) -> Result<GuardSpec, Diagnostics> {
    let mut cx = Cx {
        input: TomlInput::new(SourceFile::new(path, text)),
        handlers: Vec::new(),
    };
    let spec = cx.parse(text);
    cx.input.finish(spec)
}

/// A decimal amount written as a string (`"1000000"`, `"2.5"`) or a TOML integer.
#[derive(Clone, Debug)]
struct AmountText(String);

impl<'de> Deserialize<'de> for AmountText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = AmountText;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a decimal amount as a string, e.g. \"1000000\" or \"2.5\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<AmountText, E> {
                Ok(AmountText(v.to_owned()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<AmountText, E> {
                Ok(AmountText(v.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<AmountText, E> {
                Ok(AmountText(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

type S = Spanned<String>;

/// One `match_on` entry: a parameter name, or `{ name = "amount", scale = 12, fee_bps = 30 }`
/// (shared with the attestor's config). A bare name carries an empty span.
#[derive(Clone, Debug)]
pub struct MatchItem {
    /// The parameter.
    pub name: S,
    /// Its decimal scale, as written.
    pub scale: Option<Spanned<i64>>,
    /// Its fee tolerance, as written.
    pub fee_bps: Option<Spanned<i64>>,
}

impl<'de> Deserialize<'de> for MatchItem {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = MatchItem;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "a parameter name, or a table { name = \"amount\", scale = 12, fee_bps = 30 }",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<MatchItem, E> {
                Ok(MatchItem {
                    name: Spanned::new(0..0, v.to_owned()),
                    scale: None,
                    fee_bps: None,
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> Result<MatchItem, A::Error> {
                let (mut name, mut scale, mut fee_bps) = (None, None, None);
                while let Some(k) = m.next_key::<String>()? {
                    match k.as_str() {
                        "name" => name = Some(m.next_value::<S>()?),
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

#[derive(Deserialize)]
struct RawStore {
    path: S,
}

/// A chain's `rpc`: one URL, or several read through a quorum.
#[derive(Deserialize)]
#[serde(untagged)]
enum Rpc {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct RawChain {
    id: S,
    rpc: Spanned<Rpc>,
    quorum: Option<Spanned<i64>>,
    confirmations: Option<u64>,
    poll_ms: Option<Spanned<u64>>,
    start_block: Option<u64>,
    max_block_range: Option<Spanned<u64>>,
    stale_after_s: Option<u64>,
}

#[derive(Deserialize)]
struct RawToken {
    id: S,
    chain: S,
    address: S,
    decimals: Spanned<u8>,
    price_usd: Option<Spanned<f64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnd {
    chain: S,
    contract: S,
    event: S,
}

#[derive(Deserialize)]
struct RawBridge {
    id: S,
    source: RawEnd,
    destination: RawEnd,
    match_on: Spanned<Vec<Spanned<MatchItem>>>,
    key: Option<S>,
}

#[derive(Deserialize)]
struct RawAction {
    id: S,
    kind: S,
    chain: Option<S>,
    contract: Option<S>,
    call: Option<S>,
    key_env: Option<S>,
    url: Option<S>,
    format: Option<S>,
    secret_env: Option<S>,
    ca_file: Option<S>,
    timeout_ms: Option<Spanned<u64>>,
    retries: Option<Spanned<u32>>,
    gas_limit: Option<u64>,
    arg: Option<S>,
    only_if: Option<S>,
}

#[derive(Deserialize)]
struct RawRule {
    id: S,
    kind: S,
    actions: Option<Vec<S>>,
    token: Option<S>,
    backing_token: Option<S>,
    holder: Option<S>,
    chain: Option<S>,
    contract: Option<S>,
    contracts: Option<Vec<S>>,
    tokens: Option<Vec<S>>,
    bridge: Option<S>,
    window_s: Option<Spanned<u64>>,
    max_amount: Option<Spanned<AmountText>>,
    max_share_of_supply: Option<Spanned<f64>>,
    max_per_minter: Option<Spanned<AmountText>>,
    max_usd: Option<Spanned<f64>>,
    big_transfer_usd: Option<Spanned<f64>>,
    timeout_s: Option<u64>,
    relay_delay_s: Option<u64>,
    source_wait_s: Option<u64>,
    tolerance: Option<Spanned<AmountText>>,
    changes: Option<Vec<S>>,
    extra_events: Option<Vec<S>>,
    layers: Option<Vec<S>>,
    severity: Option<S>,
    metric: Option<S>,
    bucket_s: Option<Spanned<u64>>,
    alpha: Option<Spanned<f64>>,
    factor: Option<Spanned<f64>>,
    warmup_buckets: Option<u32>,
    min_value: Option<f64>,
}

const TOP_KEYS: [&str; 6] = ["store", "chain", "token", "bridge", "action", "rule"];
const CHAIN_KEYS: &[&str] = &[
    "id",
    "rpc",
    "quorum",
    "confirmations",
    "poll_ms",
    "start_block",
    "max_block_range",
    "stale_after_s",
];
const TOKEN_KEYS: &[&str] = &["id", "chain", "address", "decimals", "price_usd"];
const BRIDGE_KEYS: &[&str] = &["id", "source", "destination", "match_on", "key"];
const ACTION_KINDS: &[(&str, &[&str])] = &[
    (
        "pause",
        &[
            "id",
            "kind",
            "chain",
            "contract",
            "call",
            "key_env",
            "gas_limit",
        ],
    ),
    (
        "cancel",
        &[
            "id",
            "kind",
            "chain",
            "contract",
            "call",
            "arg",
            "only_if",
            "key_env",
            "gas_limit",
        ],
    ),
    (
        "webhook",
        &[
            "id",
            "kind",
            "url",
            "format",
            "secret_env",
            "ca_file",
            "timeout_ms",
            "retries",
        ],
    ),
];
const RULE_COMMON: &[&str] = &["id", "kind", "actions"];
const RULE_KINDS: &[(&str, &[&str])] = &[
    (
        "mint-rate",
        &[
            "token",
            "window_s",
            "max_amount",
            "max_share_of_supply",
            "max_per_minter",
        ],
    ),
    (
        "outflow-rate",
        &[
            "chain",
            "contract",
            "tokens",
            "window_s",
            "max_usd",
            "big_transfer_usd",
        ],
    ),
    (
        "message-match",
        &["bridge", "timeout_s", "relay_delay_s", "source_wait_s"],
    ),
    (
        "backing",
        &[
            "token",
            "backing_token",
            "holder",
            "tolerance",
            "relay_delay_s",
        ],
    ),
    (
        "privileged",
        &[
            "chain",
            "contracts",
            "changes",
            "extra_events",
            "layers",
            "severity",
        ],
    ),
    (
        "anomaly",
        &[
            "metric",
            "token",
            "chain",
            "contract",
            "tokens",
            "bucket_s",
            "alpha",
            "factor",
            "warmup_buckets",
            "min_value",
        ],
    ),
];
const CHANGE_NAMES: [&str; 8] = [
    "role-granted",
    "role-revoked",
    "ownership-transferred",
    "upgraded",
    "admin-changed",
    "signer-set-changed",
    "paused",
    "layer-config-changed",
];

struct Cx {
    input: TomlInput,
    /// Every (chain, contract, topic 0) a log handler is registered for, with who registers it
    /// and where: two different handlers on one key would lose one of them.
    handlers: Vec<HandlerUse>,
}

struct HandlerUse {
    chain: u16,
    contract: Address,
    topic0: alloy::primitives::B256,
    /// `token `x``, `bridge `y` source`, `privileged rule `z``.
    who: String,
    /// Privileged handlers of one contract are shared by every rule watching it.
    shared: bool,
    span: Range<usize>,
}

impl Cx {
    fn err(
        &mut self,
        span: Option<Range<usize>>,
        entity: Option<&str>,
        msg: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.input.err(span, entity, msg, help);
    }

    fn parse(&mut self, text: &str) -> Option<GuardSpec> {
        let (root, _) = self.input.document(text);
        let mut sections: [Vec<Spanned<DeValue<'_>>>; 6] = Default::default();
        for (k, v) in root.iter() {
            match TOP_KEYS.iter().position(|t| *t == k.get_ref().as_ref()) {
                Some(i) => match v.get_ref() {
                    DeValue::Array(items) if i > 0 => sections[i].extend(items.iter().cloned()),
                    DeValue::Table(_) if i == 0 => sections[0].push(v.clone()),
                    _ => {
                        let want = if i == 0 {
                            "a table `[store]`"
                        } else {
                            "an array of tables"
                        };
                        let help = if i == 0 {
                            "write `[store]`".to_owned()
                        } else {
                            format!("write `[[{}]]`", TOP_KEYS[i])
                        };
                        self.err(
                            Some(v.span()),
                            None,
                            format!("`{k}` must be {want}", k = k.get_ref()),
                            help,
                        );
                    }
                },
                None => self.err(
                    Some(k.span()),
                    None,
                    format!("unknown section `{}`", k.get_ref()),
                    format!("sections are {}", list(&TOP_KEYS)),
                ),
            }
        }
        let [store, chains, tokens, bridges, actions, rules] = sections;

        let store = match store.first() {
            Some(v) => self
                .entry::<RawStore>(v, &["path"], "store")
                .map(|s| StoreSpec {
                    path: PathBuf::from(s.path.into_inner()),
                }),
            None => {
                self.err(
                    None,
                    None,
                    "missing `[store]`",
                    "add `[store]` with `path = \"ringfence.db\"`",
                );
                None
            }
        };

        let raw_chains: Vec<RawChain> = chains
            .iter()
            .filter_map(|v| self.entry(v, CHAIN_KEYS, "chain"))
            .collect();
        let chains: Vec<ChainSpec> = raw_chains
            .into_iter()
            .filter_map(|c| self.chain(c))
            .collect();
        self.unique(chains.iter().map(|c| c.id.as_str()), "chain");
        if chains.is_empty() {
            self.err(
                None,
                None,
                "no `[[chain]]`",
                "declare at least one chain with `id` and `rpc`",
            );
        }

        let raw_tokens: Vec<RawToken> = tokens
            .iter()
            .filter_map(|v| self.entry(v, TOKEN_KEYS, "token"))
            .collect();
        let mut ids = HashSet::new();
        let mut token_specs = Vec::new();
        for t in raw_tokens {
            if !ids.insert(t.id.get_ref().clone()) {
                self.dup(&t.id, "token");
            }
            if let Some(s) = self.token(&chains, t) {
                token_specs.push(s);
            }
        }

        let raw_bridges: Vec<RawBridge> = bridges
            .iter()
            .filter_map(|v| self.entry(v, BRIDGE_KEYS, "bridge"))
            .collect();
        let mut ids = HashSet::new();
        let mut bridge_specs = Vec::new();
        for b in raw_bridges {
            if !ids.insert(b.id.get_ref().clone()) {
                self.dup(&b.id, "bridge");
            }
            if let Some(s) = self.bridge(&chains, b) {
                bridge_specs.push(s);
            }
        }

        let mut ids = HashSet::new();
        let mut action_specs = Vec::new();
        for v in &actions {
            let Some(kind_keys) = self.kind_keys(v, ACTION_KINDS, "action") else {
                continue;
            };
            let Some(a) = self.entry::<RawAction>(v, kind_keys, "action") else {
                continue;
            };
            if !ids.insert(a.id.get_ref().clone()) {
                self.dup(&a.id, "action");
            }
            if let Some(s) = self.action(&chains, a) {
                action_specs.push(s);
            }
        }

        let mut ids = HashSet::new();
        let mut rule_specs = Vec::new();
        for v in &rules {
            let Some(kind_keys) = self.kind_keys(v, RULE_KINDS, "rule") else {
                continue;
            };
            let mut keys: Vec<&str> = RULE_COMMON.to_vec();
            keys.extend_from_slice(kind_keys);
            let Some(r) = self.entry::<RawRule>(v, &keys, "rule") else {
                continue;
            };
            if !ids.insert(r.id.get_ref().clone()) {
                self.dup(&r.id, "rule");
            }
            let spec = GuardSpec {
                store: StoreSpec {
                    path: PathBuf::new(),
                },
                chains: chains.clone(),
                tokens: token_specs.clone(),
                bridges: bridge_specs.clone(),
                actions: action_specs.clone(),
                rules: Vec::new(),
            };
            if let Some(s) = self.rule(&spec, r) {
                rule_specs.push(s);
            }
        }

        self.collisions();

        Some(GuardSpec {
            store: store?,
            chains,
            tokens: token_specs,
            bridges: bridge_specs,
            actions: action_specs,
            rules: rule_specs,
        })
    }

    /// Two different handlers on one (chain, contract, topic 0): the decoder would serve one and
    /// silently drop the other, so the config is refused, at the second, naming the first.
    fn collisions(&mut self) {
        let uses = std::mem::take(&mut self.handlers);
        let mut seen: std::collections::HashMap<(u16, Address, alloy::primitives::B256), usize> =
            std::collections::HashMap::new();
        for (i, u) in uses.iter().enumerate() {
            match seen.get(&(u.chain, u.contract, u.topic0)) {
                None => {
                    seen.insert((u.chain, u.contract, u.topic0), i);
                }
                Some(&j) => {
                    let first = &uses[j];
                    if first.shared && u.shared {
                        continue;
                    }
                    let (line, _) = self.input.file.line_col(first.span.start);
                    self.err(
                        Some(u.span.clone()),
                        None,
                        format!(
                            "{} decodes the same logs as {} (line {line}): contract {} on the same chain, same event topic {}",
                            u.who, first.who, u.contract, u.topic0
                        ),
                        "one (contract, event) pair can feed one handler: remove the duplicate, or watch a different contract or event",
                    );
                }
            }
        }
    }

    fn dup(&mut self, id: &S, what: &str) {
        self.err(
            Some(id.span()),
            Some(id.get_ref()),
            format!("duplicate {what} id `{}`", id.get_ref()),
            format!("give every {what} a different id"),
        );
    }

    fn unique<'s>(&mut self, ids: impl Iterator<Item = &'s str>, what: &str) {
        let mut seen = HashSet::new();
        for id in ids {
            if !seen.insert(id) {
                self.err(None, Some(id), format!("duplicate {what} id `{id}`"), "");
            }
        }
    }

    /// Reads `kind` of a table and returns the keys allowed for it.
    fn kind_keys<'k>(
        &mut self,
        v: &Spanned<DeValue<'_>>,
        kinds: &[(&str, &'k [&'k str])],
        what: &str,
    ) -> Option<&'k [&'k str]> {
        let DeValue::Table(t) = v.get_ref() else {
            self.err(
                Some(v.span()),
                None,
                format!("`{what}` entries must be tables"),
                "",
            );
            return None;
        };
        let id = t
            .get("id")
            .and_then(|v| v.get_ref().as_str())
            .map(str::to_owned);
        let names: Vec<&str> = kinds.iter().map(|(k, _)| *k).collect();
        match t.get("kind") {
            None => {
                self.err(
                    Some(v.span()),
                    id.as_deref(),
                    format!("{what} has no `kind`"),
                    format!("kinds are {}", list(&names)),
                );
                None
            }
            Some(k) => match k
                .get_ref()
                .as_str()
                .and_then(|s| kinds.iter().find(|(n, _)| *n == s))
            {
                Some((_, keys)) => Some(keys),
                None => {
                    self.err(
                        Some(k.span()),
                        id.as_deref(),
                        format!("unknown {what} kind {}", show_value(k.get_ref())),
                        format!("kinds are {}", list(&names)),
                    );
                    None
                }
            },
        }
    }

    /// Checks a table's keys and deserialises it.
    fn entry<T: DeserializeOwned>(
        &mut self,
        v: &Spanned<DeValue<'_>>,
        keys: &[&str],
        what: &str,
    ) -> Option<T> {
        self.input.entry(v, what, Some(keys))
    }

    fn address(&mut self, s: &S, entity: &str) -> Option<Address> {
        read_address(&mut self.input, s, entity)
    }

    fn chain_ref(&mut self, chains: &[ChainSpec], s: &S, entity: &str) -> Option<u16> {
        let found = chains.iter().position(|c| &c.id == s.get_ref());
        match found.and_then(|i| u16::try_from(i).ok()) {
            Some(i) => Some(i),
            None => {
                let ids: Vec<&str> = chains.iter().map(|c| c.id.as_str()).collect();
                self.err(
                    Some(s.span()),
                    Some(entity),
                    format!("unknown chain `{}`", s.get_ref()),
                    format!("declared chains: {}", list(&ids)),
                );
                None
            }
        }
    }

    fn event(&mut self, s: &S, entity: &str) -> Option<AbiEvent> {
        match AbiEvent::parse(s.get_ref()) {
            Ok(e) if e.inputs.len() <= MAX_FIELDS => Some(e),
            Ok(_) => {
                self.err(
                    Some(s.span()),
                    Some(entity),
                    format!("event has more than {MAX_FIELDS} parameters"),
                    "",
                );
                None
            }
            Err(e) => {
                self.err(
                    Some(s.span()),
                    Some(entity),
                    format!("not an event signature: {e}"),
                    "write e.g. \"Locked(bytes32 indexed id, address token, uint256 amount, address recipient)\"",
                );
                None
            }
        }
    }

    fn chain(&mut self, c: RawChain) -> Option<ChainSpec> {
        let id = c.id.get_ref().clone();
        let urls = match c.rpc.get_ref() {
            Rpc::One(u) => vec![u.clone()],
            Rpc::Many(v) => v.clone(),
        };
        // One home for what an endpoint list may be (the attestor's config checks the same).
        let endpoints =
            match ringfence_quorum::check_endpoints(&urls, c.quorum.as_ref().map(|q| *q.get_ref()))
            {
                Ok(e) => e,
                Err(problems) => {
                    for p in problems {
                        let span = match (&c.quorum, p.in_quorum) {
                            (Some(q), true) => q.span(),
                            _ => c.rpc.span(),
                        };
                        self.err(Some(span), Some(&id), p.message, p.fix);
                    }
                    return None;
                }
            };
        let rpc: Vec<crate::secret::RpcUrl> = endpoints
            .urls
            .iter()
            .map(|u| crate::secret::RpcUrl::new(u.expose()))
            .collect();
        let transport = match rpc.first().map(crate::secret::RpcUrl::scheme) {
            Some("ws" | "wss") => Transport::Ws,
            _ => Transport::Http,
        };
        let mut ok = true;
        if let Some(p) = &c.poll_ms
            && *p.get_ref() == 0
        {
            self.err(
                Some(p.span()),
                Some(&id),
                "`poll_ms` must be at least 1",
                "",
            );
            ok = false;
        }
        if let Some(p) = &c.max_block_range
            && *p.get_ref() == 0
        {
            self.err(
                Some(p.span()),
                Some(&id),
                "`max_block_range` must be at least 1",
                "",
            );
            ok = false;
        }
        ok.then(|| ChainSpec {
            id,
            rpc,
            quorum: endpoints.quorum,
            transport,
            confirmations: c.confirmations.unwrap_or(0),
            poll_ms: c.poll_ms.map_or(200, Spanned::into_inner),
            start_block: c.start_block,
            max_block_range: c.max_block_range.map_or(2000, Spanned::into_inner),
            stale_after_s: c.stale_after_s.unwrap_or(30),
        })
    }

    fn token(&mut self, chains: &[ChainSpec], t: RawToken) -> Option<TokenSpec> {
        let id = t.id.get_ref().clone();
        let chain = self.chain_ref(chains, &t.chain, &id);
        let address = self.address(&t.address, &id);
        let decimals = *t.decimals.get_ref();
        if decimals > 77 {
            self.err(
                Some(t.decimals.span()),
                Some(&id),
                "`decimals` must be at most 77",
                "",
            );
            return None;
        }
        let price_usd = match t.price_usd {
            Some(p) if !p.get_ref().is_finite() || *p.get_ref() < 0.0 => {
                self.err(
                    Some(p.span()),
                    Some(&id),
                    "`price_usd` must be a non-negative number",
                    "",
                );
                return None;
            }
            Some(p) => p.into_inner(),
            None => 0.0,
        };
        let (chain, address) = (chain?, address?);
        self.handlers.push(HandlerUse {
            chain,
            contract: address,
            topic0: alloy::primitives::keccak256("Transfer(address,address,uint256)"),
            who: format!("token `{id}` (Transfer)"),
            shared: false,
            span: t.address.span(),
        });
        Some(TokenSpec {
            id,
            chain,
            address,
            decimals,
            price_usd,
        })
    }

    fn bridge_end(
        &mut self,
        chains: &[ChainSpec],
        e: &RawEnd,
        id: &str,
    ) -> Option<BridgeEventSpec> {
        let chain = self.chain_ref(chains, &e.chain, id);
        let contract = self.address(&e.contract, id);
        let event = self.event(&e.event, id)?;
        let topic0 = event.selector();
        Some(BridgeEventSpec {
            chain: chain?,
            contract: contract?,
            event,
            topic0,
        })
    }

    fn bridge(&mut self, chains: &[ChainSpec], b: RawBridge) -> Option<BridgeSpec> {
        let id = b.id.get_ref().clone();
        let source = self.bridge_end(chains, &b.source, &id);
        let destination = self.bridge_end(chains, &b.destination, &id);
        let (source, destination) = (source?, destination?);
        for (end, raw, side) in [
            (&source, &b.source, "source"),
            (&destination, &b.destination, "destination"),
        ] {
            self.handlers.push(HandlerUse {
                chain: end.chain,
                contract: end.contract,
                topic0: end.topic0,
                who: format!("bridge `{id}` {side}"),
                shared: false,
                span: raw.event.span(),
            });
        }
        let m = resolve_match_on(
            &mut self.input,
            &b.match_on,
            b.key.as_ref(),
            &source.event,
            &destination.event,
            &id,
        )?;
        Some(BridgeSpec {
            id,
            source,
            destination,
            match_on: m.names,
            match_idx: m.idx,
            key: m.key,
            tolerance: m.tolerance,
        })
    }

    fn action(&mut self, chains: &[ChainSpec], a: RawAction) -> Option<ActionSpec> {
        let id = a.id.get_ref().clone();
        let kind = match a.kind.get_ref().as_str() {
            kind @ ("pause" | "cancel") => {
                let cancel = kind == "cancel";
                let need = |v: &Option<S>, key: &str, cx: &mut Self| {
                    if v.is_none() {
                        cx.err(
                            Some(a.id.span()),
                            Some(&id),
                            format!("{kind} action needs `{key}`"),
                            "",
                        );
                    }
                };
                need(&a.chain, "chain", self);
                need(&a.contract, "contract", self);
                need(&a.call, "call", self);
                need(&a.key_env, "key_env", self);
                if cancel {
                    need(&a.arg, "arg", self);
                }
                let (Some(chain), Some(contract), Some(call), Some(key_env)) =
                    (&a.chain, &a.contract, &a.call, &a.key_env)
                else {
                    return None;
                };
                let chain = self.chain_ref(chains, chain, &id);
                let contract = self.address(contract, &id);
                let (want, example) = if cancel {
                    (
                        "takes exactly one `bytes32` argument",
                        "\"cancel(bytes32)\"",
                    )
                } else {
                    ("takes no arguments", "\"pause()\"")
                };
                let func = match Function::parse(call.get_ref()) {
                    Ok(f)
                        if (!cancel && f.inputs.is_empty())
                            || (cancel && f.inputs.len() == 1 && f.inputs[0].ty == "bytes32") =>
                    {
                        Some(f)
                    }
                    Ok(_) => {
                        self.err(
                            Some(call.span()),
                            Some(&id),
                            format!("a {kind} call {want}"),
                            format!("write e.g. {example}"),
                        );
                        None
                    }
                    Err(e) => {
                        self.err(
                            Some(call.span()),
                            Some(&id),
                            format!("not a function signature: {e}"),
                            format!("write e.g. {example}"),
                        );
                        None
                    }
                };
                let env = self.key_env(key_env, &id);
                let (func, env) = (func?, env?);
                if cancel {
                    ActionKind::Cancel {
                        chain: chain?,
                        contract: contract?,
                        call: func.signature(),
                        selector: func.selector().0,
                        arg: a.arg.as_ref()?.get_ref().clone(),
                        only_if: a.only_if.as_ref().map(|s| s.get_ref().clone()),
                        key_env: env,
                        gas_limit: a.gas_limit.unwrap_or(200_000),
                    }
                } else {
                    ActionKind::Pause {
                        chain: chain?,
                        contract: contract?,
                        call: func.signature(),
                        selector: func.selector().0,
                        key_env: env,
                        gas_limit: a.gas_limit.unwrap_or(200_000),
                    }
                }
            }
            _ => {
                let Some(url) = &a.url else {
                    self.err(
                        Some(a.id.span()),
                        Some(&id),
                        "webhook action needs `url`",
                        "",
                    );
                    return None;
                };
                let u = url.get_ref().trim();
                if !(u.starts_with("http://") || u.starts_with("https://")) {
                    self.err(
                        Some(url.span()),
                        Some(&id),
                        format!("`{}` is not an http(s) URL", crate::secret::redact_url(u)),
                        "write e.g. \"https://hooks.slack.com/services/…\"",
                    );
                    return None;
                }
                let mut ok = true;
                let format = match a.format.as_ref().map(|f| f.get_ref().as_str()) {
                    None | Some("json") => WebhookFormat::Json,
                    Some("slack") => WebhookFormat::Slack,
                    Some("discord") => WebhookFormat::Discord,
                    Some(other) => {
                        self.err(
                            a.format.as_ref().map(Spanned::span),
                            Some(&id),
                            format!("unknown webhook format `{other}`"),
                            "formats are `json` (signed with `secret_env`), `slack` and `discord`",
                        );
                        ok = false;
                        WebhookFormat::Json
                    }
                };
                let secret_env = match &a.secret_env {
                    None => None,
                    Some(e) => {
                        if format != WebhookFormat::Json {
                            self.err(
                                Some(e.span()),
                                Some(&id),
                                format!("`secret_env` signs `json` bodies; a `{}` webhook is authenticated by its URL", format.name()),
                                "remove `secret_env`, or set `format = \"json\"`",
                            );
                            ok = false;
                        }
                        self.env_name(e, &id, "secret_env", "export the signing secret, e.g. RINGFENCE_WEBHOOK_SECRET=…, and write secret_env = \"RINGFENCE_WEBHOOK_SECRET\"")
                    }
                };
                let ca_file = a.ca_file.as_ref().and_then(|c| {
                    let p = PathBuf::from(c.get_ref());
                    if p.is_file() {
                        Some(p)
                    } else {
                        self.err(
                            Some(c.span()),
                            Some(&id),
                            format!("`ca_file` `{}` is not a readable file", c.get_ref()),
                            "give the path of a PEM file of CA certificates (relative paths are read from the working directory)",
                        );
                        ok = false;
                        None
                    }
                });
                let timeout_ms = match &a.timeout_ms {
                    Some(t) if *t.get_ref() == 0 || *t.get_ref() > 600_000 => {
                        self.err(
                            Some(t.span()),
                            Some(&id),
                            "`timeout_ms` must be between 1 and 600000",
                            "",
                        );
                        ok = false;
                        0
                    }
                    Some(t) => *t.get_ref(),
                    None => 10_000,
                };
                let retries = match &a.retries {
                    Some(r) if *r.get_ref() > 20 => {
                        self.err(
                            Some(r.span()),
                            Some(&id),
                            "`retries` must be at most 20",
                            "",
                        );
                        ok = false;
                        0
                    }
                    Some(r) => *r.get_ref(),
                    None => 5,
                };
                if !ok {
                    return None;
                }
                ActionKind::Webhook {
                    url: crate::secret::RpcUrl::new(u),
                    format,
                    secret_env,
                    ca_file,
                    timeout_ms,
                    retries,
                }
            }
        };
        Some(ActionSpec { id, kind })
    }

    /// The name of the environment variable holding a guardian key; a pasted key is refused.
    fn key_env(&mut self, key_env: &S, id: &str) -> Option<String> {
        self.env_name(
            key_env,
            id,
            "key_env",
            "never put a private key in the config; export it, e.g. RINGFENCE_GUARDIAN_KEY=0x…, and write key_env = \"RINGFENCE_GUARDIAN_KEY\"",
        )
    }

    /// The name of an environment variable holding a secret; a pasted secret is refused (and
    /// not echoed).
    fn env_name(&mut self, v: &S, id: &str, key: &str, help: &str) -> Option<String> {
        let env = v.get_ref();
        let env_ok = !env.is_empty()
            && env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !env.chars().next().is_some_and(|c| c.is_ascii_digit());
        if !env_ok || env.len() >= 64 {
            self.err(
                Some(v.span()),
                Some(id),
                format!("`{key}` must name an environment variable"),
                help,
            );
            return None;
        }
        Some(env.clone())
    }

    /// A rule that runs a cancel action must trip on an event that has the action's `arg`
    /// (`bytes32`) and `only_if` (`bool`) parameters: only `message-match` trips do, on the
    /// bridge's destination event.
    fn cancel_refs(&mut self, spec: &GuardSpec, r: &RawRule, kind: &RuleKind) {
        let id = r.id.get_ref();
        for a in r.actions.iter().flatten() {
            let Some(ActionKind::Cancel { arg, only_if, .. }) = spec
                .actions
                .iter()
                .find(|x| &x.id == a.get_ref())
                .map(|x| &x.kind)
            else {
                continue;
            };
            let RuleKind::MessageMatch { bridge, .. } = kind else {
                self.err(
                    Some(a.span()),
                    Some(id),
                    format!(
                        "cancel action `{}` on a `{}` rule: its trips carry no `{arg}`",
                        a.get_ref(),
                        kind.name()
                    ),
                    "a cancel takes its argument from the tripping bridge event; use it on a `message-match` rule",
                );
                continue;
            };
            let Some(b) = spec.bridges.get(usize::from(*bridge)) else {
                continue;
            };
            let ev = &b.destination.event;
            let wanted =
                std::iter::once((arg, "bytes32")).chain(only_if.iter().map(|o| (o, "bool")));
            for (name, ty) in wanted {
                match ev.inputs.iter().find(|p| &p.name == name) {
                    Some(p) if p.ty == ty => {}
                    found => {
                        let have: Vec<String> = ev
                            .inputs
                            .iter()
                            .filter(|p| p.ty == ty)
                            .map(|p| p.name.clone())
                            .collect();
                        let have: Vec<&str> = have.iter().map(String::as_str).collect();
                        let what = match found {
                            Some(p) => format!("is a `{}`, not a `{ty}`", p.ty),
                            None => "is not a parameter".to_owned(),
                        };
                        self.err(
                            Some(a.span()),
                            Some(id),
                            format!(
                                "cancel action `{}`: `{name}` {what} of bridge `{}`'s destination event `{}`",
                                a.get_ref(),
                                b.id,
                                ev.name
                            ),
                            if have.is_empty() {
                                format!("that event has no `{ty}` parameter")
                            } else {
                                format!("its `{ty}` parameters are {}", list(&have))
                            },
                        );
                    }
                }
            }
        }
    }

    fn token_ref(&mut self, spec: &GuardSpec, s: &S, entity: &str) -> Option<u16> {
        match spec.token_idx(s.get_ref()) {
            Some(i) => Some(i),
            None => {
                let ids: Vec<&str> = spec.tokens.iter().map(|c| c.id.as_str()).collect();
                self.err(
                    Some(s.span()),
                    Some(entity),
                    format!("unknown token `{}`", s.get_ref()),
                    format!("declared tokens: {}", list(&ids)),
                );
                None
            }
        }
    }

    fn required<'r, T>(&mut self, v: &'r Option<T>, key: &str, r: &RawRule) -> Option<&'r T> {
        if v.is_none() {
            self.err(
                Some(r.kind.span()),
                Some(r.id.get_ref()),
                format!("a `{}` rule needs `{key}`", r.kind.get_ref()),
                "",
            );
        }
        v.as_ref()
    }

    fn positive_f64(
        &mut self,
        v: &Option<Spanned<f64>>,
        key: &str,
        id: &str,
    ) -> Option<Option<f64>> {
        match v {
            Some(x) if !x.get_ref().is_finite() || *x.get_ref() <= 0.0 => {
                self.err(
                    Some(x.span()),
                    Some(id),
                    format!("`{key}` must be a positive number"),
                    "",
                );
                None
            }
            Some(x) => Some(Some(*x.get_ref())),
            None => Some(None),
        }
    }

    fn amount(
        &mut self,
        v: &Option<Spanned<AmountText>>,
        decimals: u8,
        key: &str,
        id: &str,
    ) -> Option<Option<U256>> {
        match v {
            None => Some(None),
            Some(a) => match parse_units(&a.get_ref().0, decimals) {
                Some(x) => Some(Some(x)),
                None => {
                    self.err(
                        Some(a.span()),
                        Some(id),
                        format!("`{key}` = \"{}\" is not an amount of this token", a.get_ref().0),
                        format!("write token units as a decimal string with at most {decimals} decimals, e.g. \"1000000\""),
                    );
                    None
                }
            },
        }
    }

    fn window(&mut self, r: &RawRule) -> Option<u64> {
        let w = self.required(&r.window_s, "window_s", r)?;
        if *w.get_ref() == 0 {
            self.err(
                Some(w.span()),
                Some(r.id.get_ref()),
                "`window_s` must be at least 1",
                "",
            );
            return None;
        }
        Some(*w.get_ref())
    }

    /// A `privileged` rule's `layers`: every layer when absent, none for `[]`; an unknown name
    /// is reported at its position.
    fn layers(&mut self, r: &RawRule, id: &str) -> Vec<Layer> {
        let Some(names) = &r.layers else {
            return Layer::ALL.to_vec();
        };
        let mut out = Vec::new();
        for n in names {
            match Layer::from_name(n.get_ref()) {
                Some(l) if !out.contains(&l) => out.push(l),
                Some(_) => {}
                None => {
                    let known: Vec<&str> = Layer::ALL.iter().map(|l| l.name()).collect();
                    self.err(
                        Some(n.span()),
                        Some(id),
                        format!("unknown layer `{}`", n.get_ref()),
                        format!(
                            "layers are {} (leave `layers` out to watch them all, `[]` for none)",
                            list(&known)
                        ),
                    );
                }
            }
        }
        out
    }

    fn tokens_on(&mut self, spec: &GuardSpec, r: &RawRule, chain: u16) -> Option<Vec<u16>> {
        let id = r.id.get_ref();
        match &r.tokens {
            None => Some(
                (0..spec.tokens.len())
                    .filter(|i| spec.tokens[*i].chain == chain)
                    .filter_map(|i| u16::try_from(i).ok())
                    .collect(),
            ),
            Some(list) => {
                let mut out = Vec::new();
                for t in list {
                    let i = self.token_ref(spec, t, id)?;
                    if spec.tokens[usize::from(i)].chain != chain {
                        self.err(
                            Some(t.span()),
                            Some(id),
                            format!("token `{}` is not on the rule's chain", t.get_ref()),
                            "",
                        );
                        return None;
                    }
                    out.push(i);
                }
                Some(out)
            }
        }
    }

    fn rule(&mut self, spec: &GuardSpec, r: RawRule) -> Option<RuleSpec> {
        let id = r.id.get_ref().clone();
        let mut actions = Vec::new();
        for a in r.actions.iter().flatten() {
            match spec.actions.iter().position(|x| &x.id == a.get_ref()) {
                Some(i) => actions.push(u16::try_from(i).ok()?),
                None => {
                    let ids: Vec<&str> = spec.actions.iter().map(|c| c.id.as_str()).collect();
                    self.err(
                        Some(a.span()),
                        Some(&id),
                        format!("unknown action `{}`", a.get_ref()),
                        format!("declared actions: {}", list(&ids)),
                    );
                }
            }
        }
        let kind = match r.kind.get_ref().as_str() {
            "mint-rate" => self.mint_rate(spec, &r, &id)?,
            "outflow-rate" => self.outflow_rate(spec, &r, &id)?,
            "message-match" => self.message_match(spec, &r, &id)?,
            "backing" => self.backing(spec, &r, &id)?,
            "privileged" => self.privileged(spec, &r, &id)?,
            _ => self.anomaly(spec, &r, &id)?,
        };
        self.cancel_refs(spec, &r, &kind);
        Some(RuleSpec { id, actions, kind })
    }

    /// A `mint-rate` rule: a token's mints over a window, by amount, share of supply or minter.
    fn mint_rate(&mut self, spec: &GuardSpec, r: &RawRule, id: &str) -> Option<RuleKind> {
        let token = self.required(&r.token, "token", r).cloned();
        let window_s = self.window(r);
        let token = self.token_ref(spec, &token?, id)?;
        let dec = spec.tokens[usize::from(token)].decimals;
        let max_amount = self.amount(&r.max_amount, dec, "max_amount", id)?;
        let max_per_minter = self.amount(&r.max_per_minter, dec, "max_per_minter", id)?;
        let max_share_ppm = match &r.max_share_of_supply {
            Some(s) if !(*s.get_ref() > 0.0 && *s.get_ref() <= 1.0) => {
                self.err(
                    Some(s.span()),
                    Some(id),
                    "`max_share_of_supply` must be in (0, 1]",
                    "e.g. 0.05 for 5% of supply per window",
                );
                return None;
            }
            Some(s) => Some((s.get_ref() * 1e6).round() as u64),
            None => None,
        };
        if max_amount.is_none() && max_share_ppm.is_none() && max_per_minter.is_none() {
            self.err(
                Some(r.kind.span()),
                Some(id),
                "a `mint-rate` rule needs a limit",
                "set `max_amount`, `max_share_of_supply` or `max_per_minter`",
            );
            return None;
        }
        Some(RuleKind::MintRate {
            token,
            window_s: window_s?,
            max_amount,
            max_share_ppm,
            max_per_minter,
        })
    }

    /// An `outflow-rate` rule: what leaves a contract over a window, in USD, and single big transfers.
    fn outflow_rate(&mut self, spec: &GuardSpec, r: &RawRule, id: &str) -> Option<RuleKind> {
        let chain = self.required(&r.chain, "chain", r).cloned();
        let contract = self.required(&r.contract, "contract", r).cloned();
        let window_s = self.window(r);
        let chain = self.chain_ref(&spec.chains, &chain?, id)?;
        let contract = self.address(&contract?, id)?;
        let tokens = self.tokens_on(spec, r, chain)?;
        let max_usd = self.positive_f64(&r.max_usd, "max_usd", id)?;
        let big_transfer_usd = self.positive_f64(&r.big_transfer_usd, "big_transfer_usd", id)?;
        if max_usd.is_none() && big_transfer_usd.is_none() {
            self.err(
                Some(r.kind.span()),
                Some(id),
                "an `outflow-rate` rule needs a limit",
                "set `max_usd` and/or `big_transfer_usd`",
            );
            return None;
        }
        Some(RuleKind::OutflowRate {
            chain,
            contract,
            tokens,
            window_s: window_s?,
            max_usd,
            big_transfer_usd,
        })
    }

    /// A `message-match` rule: every release on a bridge's destination paired with its source event.
    fn message_match(&mut self, spec: &GuardSpec, r: &RawRule, id: &str) -> Option<RuleKind> {
        let b = self.required(&r.bridge, "bridge", r)?.clone();
        let bridge = match spec.bridges.iter().position(|x| &x.id == b.get_ref()) {
            Some(i) => u16::try_from(i).ok()?,
            None => {
                let ids: Vec<&str> = spec.bridges.iter().map(|c| c.id.as_str()).collect();
                self.err(
                    Some(b.span()),
                    Some(id),
                    format!("unknown bridge `{}`", b.get_ref()),
                    format!("declared bridges: {}", list(&ids)),
                );
                return None;
            }
        };
        Some(RuleKind::MessageMatch {
            bridge,
            timeout_s: r.timeout_s.unwrap_or(3600),
            relay_delay_s: r.relay_delay_s.unwrap_or(0),
            source_wait_s: r.source_wait_s.unwrap_or(60),
        })
    }

    /// A `backing` rule: a wrapped token's supply never above what its holder keeps of the backing token.
    fn backing(&mut self, spec: &GuardSpec, r: &RawRule, id: &str) -> Option<RuleKind> {
        let token = self.required(&r.token, "token", r).cloned();
        let backing = self.required(&r.backing_token, "backing_token", r).cloned();
        let holder = self.required(&r.holder, "holder", r).cloned();
        let token = self.token_ref(spec, &token?, id);
        let backing_token = self.token_ref(spec, &backing?, id);
        let holder = self.address(&holder?, id);
        let token = token?;
        let dec = spec.tokens[usize::from(token)].decimals;
        let tolerance = self
            .amount(&r.tolerance, dec, "tolerance", id)?
            .unwrap_or(U256::ZERO);
        Some(RuleKind::Backing {
            token,
            backing_token: backing_token?,
            holder: holder?,
            tolerance,
            relay_delay_s: r.relay_delay_s.unwrap_or(0),
        })
    }

    /// A `privileged` rule: admin, signer-set, pause and layer-configuration changes of some contracts (its handlers registered as shared).
    fn privileged(&mut self, spec: &GuardSpec, r: &RawRule, id: &str) -> Option<RuleKind> {
        let chain = self.required(&r.chain, "chain", r).cloned();
        let contracts_raw = self.required(&r.contracts, "contracts", r).cloned();
        let chain = self.chain_ref(&spec.chains, &chain?, id);
        let mut contracts = Vec::new();
        for c in contracts_raw.iter().flatten() {
            contracts.push(self.address(c, id));
        }
        let mut changes = Vec::new();
        for c in r.changes.iter().flatten() {
            if CHANGE_NAMES.contains(&c.get_ref().as_str()) {
                changes.push(c.get_ref().clone());
            } else {
                self.err(
                    Some(c.span()),
                    Some(id),
                    format!("unknown change `{}`", c.get_ref()),
                    format!("changes are {}", list(&CHANGE_NAMES)),
                );
            }
        }
        let mut extra_events = Vec::new();
        for e in r.extra_events.iter().flatten() {
            extra_events.push(self.event(e, id));
        }
        let layers = self.layers(r, id);
        let trip = match &r.severity {
            None => true,
            Some(s) if s.get_ref() == "trip" => true,
            Some(s) if s.get_ref() == "alert" => false,
            Some(s) => {
                self.err(
                    Some(s.span()),
                    Some(id),
                    format!("unknown severity `{}`", s.get_ref()),
                    "severities are `trip` (run all actions) and `alert`",
                );
                return None;
            }
        };
        let contracts: Option<Vec<Address>> = contracts.into_iter().collect();
        let extra_events: Option<Vec<AbiEvent>> = extra_events.into_iter().collect();
        if let (Some(c), Some(list), Some(extra)) = (chain, &contracts, &extra_events) {
            for (a, raw) in list.iter().zip(contracts_raw.iter().flatten()) {
                let std = PRIVILEGED_EVENTS
                    .iter()
                    .filter_map(|(_, sig)| AbiEvent::parse(sig).ok());
                let of_layers = LAYER_EVENTS
                    .iter()
                    .filter(|e| layers.contains(&e.layer))
                    .filter_map(LayerEvent::abi);
                for ev in std.chain(of_layers).chain(extra.iter().cloned()) {
                    self.handlers.push(HandlerUse {
                        chain: c,
                        contract: *a,
                        topic0: ev.selector(),
                        who: format!("privileged rule `{id}` ({})", ev.name),
                        shared: true,
                        span: raw.span(),
                    });
                }
            }
        }
        Some(RuleKind::Privileged {
            chain: chain?,
            contracts: contracts?,
            changes,
            extra_events: extra_events?,
            layers,
            trip,
        })
    }

    /// An `anomaly` rule: a metric's bucket far above its moving average.
    fn anomaly(&mut self, spec: &GuardSpec, r: &RawRule, id: &str) -> Option<RuleKind> {
        let metric = self.required(&r.metric, "metric", r)?.clone();
        let metric = match metric.get_ref().as_str() {
            "mint" => {
                let token = self.required(&r.token, "token", r)?.clone();
                AnomalyMetric::Mint {
                    token: self.token_ref(spec, &token, id)?,
                }
            }
            "outflow" => {
                let chain = self.required(&r.chain, "chain", r).cloned();
                let contract = self.required(&r.contract, "contract", r).cloned();
                let chain = self.chain_ref(&spec.chains, &chain?, id)?;
                let contract = self.address(&contract?, id)?;
                let tokens = self.tokens_on(spec, r, chain)?;
                AnomalyMetric::Outflow {
                    chain,
                    contract,
                    tokens,
                }
            }
            other => {
                self.err(
                    Some(metric.span()),
                    Some(id),
                    format!("unknown metric `{other}`"),
                    "metrics are `mint` and `outflow`",
                );
                return None;
            }
        };
        let alpha = self.positive_f64(&r.alpha, "alpha", id)?.unwrap_or(0.1);
        if alpha > 1.0 {
            self.err(
                r.alpha.as_ref().map(Spanned::span),
                Some(id),
                "`alpha` must be in (0, 1]",
                "",
            );
            return None;
        }
        let factor = self.positive_f64(&r.factor, "factor", id)?.unwrap_or(10.0);
        let bucket_s = r.bucket_s.as_ref().map_or(60, |b| *b.get_ref());
        if bucket_s == 0 {
            self.err(
                r.bucket_s.as_ref().map(Spanned::span),
                Some(id),
                "`bucket_s` must be at least 1",
                "",
            );
            return None;
        }
        Some(RuleKind::Anomaly {
            metric,
            bucket_s,
            alpha,
            factor,
            warmup_buckets: r.warmup_buckets.unwrap_or(10),
            min_value: r.min_value.unwrap_or(0.0),
        })
    }
}

/// Reads the 20-byte hex address written at `s`, recording a located problem (under
/// `entity`) when it is not one. Every address of the guard's and the attestor's configs is
/// read here.
pub fn read_address(input: &mut TomlInput, s: &Spanned<String>, entity: &str) -> Option<Address> {
    match Address::from_str(s.get_ref().trim()) {
        Ok(a) => Some(a),
        Err(_) => {
            input.err(
                Some(s.span()),
                Some(entity),
                format!("`{}` is not an address", s.get_ref()),
                "write a 20-byte hex address, e.g. \"0x5FbDB2315678afecb367f032d93F642f64180aa3\"",
            );
            None
        }
    }
}

/// The compared parameters of a bridge (or an attestor's route), resolved against its two
/// events: their names, their positions in each event, the tolerance of each, and which one
/// pairs events (the key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatchOn {
    /// Parameter names, in the order written.
    pub names: Vec<String>,
    /// (source index, destination index) of each.
    pub idx: Vec<(usize, usize)>,
    /// How each is compared.
    pub tolerance: Vec<FieldTolerance>,
    /// Index of the key in `names`.
    pub key: usize,
}

/// Resolves `match_on` (and `key`) of the bridge or route `id` against its source and
/// destination events: every name on both events and listed once, `scale`/`fee_bps` in range
/// and only on unsigned integers, the key compared and exact. The guard's `[[bridge]]` and the
/// attestor's `[[bridge]]` both read `match_on` here, so they cannot disagree on what matches.
pub fn resolve_match_on(
    input: &mut TomlInput,
    match_on_raw: &Spanned<Vec<Spanned<MatchItem>>>,
    key_raw: Option<&S>,
    source: &AbiEvent,
    destination: &AbiEvent,
    id: &str,
) -> Option<MatchOn> {
    let mut match_on = Vec::new();
    let mut match_idx = Vec::new();
    if match_on_raw.get_ref().is_empty() {
        input.err(
            Some(match_on_raw.span()),
            Some(id),
            "`match_on` is empty",
            "name the event parameters compared, e.g. [\"id\", \"amount\", \"recipient\"]",
        );
        return None;
    }
    let mut tolerance = Vec::new();
    for item in match_on_raw.get_ref() {
        let item_span = item.span();
        let item = item.get_ref();
        // A bare string carries no span of its own: use the entry's.
        let name = if item.name.span() == (0..0) {
            Spanned::new(item_span, item.name.get_ref().clone())
        } else {
            item.name.clone()
        };
        let name = &name;
        if match_on.contains(name.get_ref()) {
            input.err(
                Some(name.span()),
                Some(id),
                format!("`{}` is listed twice in `match_on`", name.get_ref()),
                "list each compared parameter once",
            );
            return None;
        }
        let find = |e: &AbiEvent| e.inputs.iter().position(|p| &p.name == name.get_ref());
        let names = |e: &AbiEvent| e.inputs.iter().map(|p| p.name.clone()).collect::<Vec<_>>();
        match (find(source), find(destination)) {
            (Some(s), Some(d)) => {
                let tol = checked_tolerance(
                    input,
                    item,
                    &source.inputs[s].ty,
                    &destination.inputs[d].ty,
                    id,
                );
                match_on.push(name.get_ref().clone());
                match_idx.push((s, d));
                tolerance.push(tol);
            }
            (s, _) => {
                let (side, ev) = if s.is_none() {
                    ("source", source)
                } else {
                    ("destination", destination)
                };
                let have = names(ev);
                let have: Vec<&str> = have.iter().map(String::as_str).collect();
                input.err(
                    Some(name.span()),
                    Some(id),
                    format!("the {side} event has no parameter `{}`", name.get_ref()),
                    format!("its parameters are {}", list(&have)),
                );
            }
        }
    }
    let tolerance: Option<Vec<FieldTolerance>> = tolerance.into_iter().collect();
    let tolerance = tolerance?;
    if match_idx.len() != match_on_raw.get_ref().len() {
        return None;
    }
    let key = match key_raw {
        None => 0,
        Some(k) => match match_on.iter().position(|n| n == k.get_ref()) {
            Some(i) => i,
            None => {
                input.err(
                    Some(k.span()),
                    Some(id),
                    format!("`key` `{}` is not in `match_on`", k.get_ref()),
                    "the key pairs events; it must be one of the compared parameters",
                );
                return None;
            }
        },
    };
    if let Some(t) = tolerance.get(key)
        && !t.is_exact()
    {
        let span = key_raw
            .map(Spanned::span)
            .or_else(|| match_on_raw.get_ref().get(key).map(Spanned::span));
        input.err(
            span,
            Some(id),
            format!(
                "the key `{}` pairs events and must match exactly",
                match_on[key]
            ),
            "put `scale`/`fee_bps` on an amount, not on the key",
        );
        return None;
    }
    Some(MatchOn {
        names: match_on,
        idx: match_idx,
        tolerance,
        key,
    })
}

/// The `scale` and `fee_bps` of one `match_on` entry, checked against the parameter types.
fn checked_tolerance(
    input: &mut TomlInput,
    item: &MatchItem,
    src_ty: &str,
    dst_ty: &str,
    id: &str,
) -> Option<FieldTolerance> {
    let mut ok = true;
    let t = match FieldTolerance::checked(
        item.scale.as_ref().map_or(0, |k| *k.get_ref()),
        item.fee_bps.as_ref().map_or(0, |f| *f.get_ref()),
    ) {
        Ok(t) => t,
        Err((message, fix)) => {
            // Point at the value that is out of range.
            let scale_bad = item
                .scale
                .as_ref()
                .is_some_and(|k| FieldTolerance::checked(*k.get_ref(), 0).is_err());
            let at = if scale_bad {
                &item.scale
            } else {
                &item.fee_bps
            };
            input.err(at.as_ref().map(Spanned::span), Some(id), message, fix);
            ok = false;
            FieldTolerance::default()
        }
    };
    let integers = src_ty.starts_with("uint") && dst_ty.starts_with("uint");
    if !(t.is_exact() || integers) {
        input.err(
            item.scale.as_ref().map(Spanned::span).or_else(|| item.fee_bps.as_ref().map(Spanned::span)),
            Some(id),
            format!("`{}` is a {src_ty} → {dst_ty}: `scale` and `fee_bps` apply to unsigned integers only", item.name.get_ref()),
            "remove them, or compare an amount parameter",
        );
        ok = false;
    }
    ok.then_some(t)
}

fn show_value(v: &DeValue<'_>) -> String {
    match v {
        DeValue::String(s) => format!("`{s}`"),
        _ => "(not a string)".to_owned(),
    }
}
