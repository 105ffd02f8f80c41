//! The attestor's config: the guard's `[[chain]]` and `[[bridge]]` entries (a chain may list
//! several endpoints and a quorum) plus `[attestor]`. Every problem is reported at once with its
//! file, line, column, entity and a fix. The guard's other sections (`store`, `token`, `action`,
//! `rule`) may be present and are not read.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use alloy::json_abi::Event;
use alloy::primitives::{Address, U256};
use ringfence_guard::FieldTolerance;
use ringfence_guard::config::{read_address, read_endpoints, resolve_match_on};
use ringfence_guard::document::{ChainDoc, EndDoc, MatchItem, Rpc, fields};
use ringfence_model::diag::{Diagnostics, SourceFile};
use ringfence_model::input::{TomlInput, list};
use ringfence_quorum::RedactedUrl;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::error::{Error, Result};

/// The attestor's settings.
#[derive(Clone, Debug)]
pub struct AttestorConfig {
    /// The environment variable holding the attestor's private key (never the key itself).
    pub key_env: String,
    /// Where the HTTP service listens.
    pub listen: SocketAddr,
    /// The SQLite file of signed attestations (relative paths as written).
    pub store: PathBuf,
    /// How often the chains are polled.
    pub poll_ms: u64,
    /// The chains (only those the served routes use).
    pub chains: Vec<ChainConfig>,
    /// The routes served.
    pub routes: Vec<RouteConfig>,
}

/// A chain read through a quorum of endpoints. `Debug` shows the endpoints redacted.
#[derive(Clone, Debug)]
pub struct ChainConfig {
    /// Config id.
    pub id: String,
    /// EVM chain id; when absent it is asked of the endpoints at start (they must agree).
    pub chain_id: Option<u64>,
    /// Endpoints (http(s) or ws(s)).
    pub rpc: Vec<RedactedUrl>,
    /// Identical answers needed (default: a majority).
    pub quorum: Option<usize>,
    /// First block to read (default: the quorum head at start).
    pub start_block: Option<u64>,
}

/// One side of a route.
#[derive(Clone, Debug)]
pub struct EndConfig {
    /// The chain's config id.
    pub chain: String,
    /// The contract emitting the event.
    pub contract: Address,
    /// The event.
    pub event: Event,
}

/// A route the attestor serves: a source event that must exist before a destination message may
/// be attested.
#[derive(Clone, Debug)]
pub struct RouteConfig {
    /// Config id (the attestation's route id is its keccak256).
    pub id: String,
    /// The source event.
    pub source: EndConfig,
    /// The destination message (e.g. the gateway's `Requested`).
    pub destination: EndConfig,
    /// Parameters compared.
    pub match_on: Vec<String>,
    /// How each `match_on` parameter may differ (decimal scale, fee), aligned with it; exact
    /// where absent. Written `{ name = "amount", scale = 12, fee_bps = 30 }` in `match_on`.
    pub tolerance: Vec<FieldTolerance>,
    /// The parameter carrying the message id.
    pub key: String,
    /// Destination parameters for the attestation's asset, amount and recipient.
    pub asset: String,
    /// See `asset`.
    pub amount: String,
    /// See `asset`.
    pub recipient: String,
    /// The `RingfenceAttestationVerifier` on the destination chain (the EIP-712 domain).
    pub verifier: Address,
    /// Refuse for this long after the verifier's attestor set changes.
    pub verifier_timelock_s: u64,
    /// At most this many token units attested per window, if set.
    pub max_amount: Option<(U256, u64)>,
    /// Blocks on top of the source event before it counts.
    pub confirmations: u64,
}

/// Reads and validates the config at `path`.
pub fn load(path: &Path) -> Result<AttestorConfig> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &text).map_err(Error::Invalid)
}

type S = Spanned<String>;

#[derive(Deserialize)]
struct RawAttestor {
    key_env: S,
    listen: S,
    store: S,
    routes: Spanned<Vec<S>>,
    confirmations: Spanned<BTreeMap<String, Spanned<u64>>>,
    poll_ms: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
struct RawChain {
    id: S,
    rpc: Spanned<Rpc>,
    chain_id: Option<u64>,
    quorum: Option<Spanned<i64>>,
    start_block: Option<u64>,
}

#[derive(Deserialize)]
struct RawBridge {
    id: S,
    source: EndDoc,
    destination: EndDoc,
    match_on: Spanned<Vec<Spanned<MatchItem>>>,
    key: Option<S>,
    verifier: Option<S>,
    verifier_timelock_s: Option<u64>,
    max_amount: Option<S>,
    window_s: Option<Spanned<u64>>,
    asset: Option<S>,
    amount: Option<S>,
    recipient: Option<S>,
}

const TOP: &[&str] = &[
    "attestor", "chain", "bridge", "store", "token", "action", "rule",
];
/// The keys of a `[[chain]]`: the attestor's, then the guard's (not used by the attestor, allowed
/// so that one file serves both), each list read from its struct.
fn chain_keys() -> Vec<&'static str> {
    let mut keys = fields::<RawChain>().to_vec();
    for k in fields::<ChainDoc>() {
        if !keys.contains(k) {
            keys.push(k);
        }
    }
    keys
}

/// The `[attestor]` table, the `[[chain]]` entries and the `[[bridge]]` entries of a config.
type Sections<'a> = (
    Option<Spanned<DeValue<'a>>>,
    Vec<Spanned<DeValue<'a>>>,
    Vec<Spanned<DeValue<'a>>>,
);

struct Cx {
    input: TomlInput,
}

/// Validates a config given as text (`path` only names it in diagnostics).
pub fn parse(path: &Path, text: &str) -> std::result::Result<AttestorConfig, Diagnostics> {
    let mut cx = Cx {
        input: TomlInput::new(SourceFile::new(path, text)),
    };
    let cfg = cx.parse(text);
    cx.input.finish(cfg)
}

impl Cx {
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

    /// Reads the whole config: its sections, the attestor, the chains and the routes it serves.
    fn parse(&mut self, text: &str) -> Option<AttestorConfig> {
        let (root, _) = self.input.document(text);
        let (attestor, chains, bridges) = self.sections(&root);
        let Some(attestor) = attestor else {
            self.input.err(
                None,
                None,
                "missing `[attestor]`",
                "add `[attestor]` with `key_env`, `listen`, `store`, `routes` and `confirmations`",
            );
            return None;
        };
        let a: RawAttestor = self.entry(&attestor, fields::<RawAttestor>(), "attestor")?;
        let (chain_ids, all_chains) = self.chains(&chains);
        let raw_bridges: Vec<RawBridge> = bridges
            .iter()
            .filter_map(|v| self.entry(v, fields::<RawBridge>(), "bridge"))
            .collect();
        let key_env = self.key_env(&a);
        let listen = self.listen(&a);
        if a.store.get_ref().trim().is_empty() {
            self.input.err(
                Some(a.store.span()),
                Some("attestor"),
                "`store` is empty",
                "name a SQLite file, e.g. store = \"attestor.db\"",
            );
        }
        let poll_ms = self.poll_ms(&a);
        self.check_confirmations(&a, &chain_ids);
        let routes = self.routes(&a, &raw_bridges, &chain_ids);
        let used: HashSet<&str> = routes
            .iter()
            .flat_map(|r: &RouteConfig| [r.source.chain.as_str(), r.destination.chain.as_str()])
            .collect();
        let chains = all_chains
            .iter()
            .filter(|c| used.contains(c.id.as_str()))
            .cloned()
            .collect();
        Some(AttestorConfig {
            key_env,
            listen: listen?,
            store: PathBuf::from(a.store.get_ref()),
            poll_ms,
            chains,
            routes,
        })
    }

    /// The `[attestor]` table and the `[[chain]]` and `[[bridge]]` entries; the guard's own
    /// sections are passed over, anything else is an error.
    fn sections<'a>(&mut self, root: &DeTable<'a>) -> Sections<'a> {
        let (mut attestor, mut chains, mut bridges) = (None, Vec::new(), Vec::new());
        for (k, v) in root.iter() {
            let name: &str = k.get_ref().as_ref();
            match (name, v.get_ref()) {
                ("attestor", DeValue::Table(_)) => attestor = Some(v.clone()),
                ("chain", DeValue::Array(a)) => chains.extend(a.iter().cloned()),
                ("bridge", DeValue::Array(a)) => bridges.extend(a.iter().cloned()),
                ("attestor" | "chain" | "bridge", _) => self.input.err(
                    Some(v.span()),
                    None,
                    format!("`{name}` has the wrong shape"),
                    if name == "attestor" {
                        "write `[attestor]`".to_owned()
                    } else {
                        format!("write `[[{name}]]`")
                    },
                ),
                (n, _) if TOP.contains(&n) => {
                    tracing::debug!(section = n, "guard section, not read by the attestor");
                }
                _ => self.input.err(
                    Some(k.span()),
                    None,
                    format!("unknown section `{name}`"),
                    format!("sections are {}", list(TOP)),
                ),
            }
        }
        (attestor, chains, bridges)
    }

    /// Every declared chain's id (valid or not, for references) and the valid chains; a
    /// duplicate id is an error.
    fn chains(&mut self, chains: &[Spanned<DeValue<'_>>]) -> (Vec<String>, Vec<ChainConfig>) {
        let keys = chain_keys();
        let raw_chains: Vec<RawChain> = chains
            .iter()
            .filter_map(|v| self.entry(v, &keys, "chain"))
            .collect();
        let chain_ids: Vec<String> = raw_chains.iter().map(|c| c.id.get_ref().clone()).collect();
        let mut all_chains = Vec::new();
        let mut seen = HashSet::new();
        for c in raw_chains {
            if !seen.insert(c.id.get_ref().clone()) {
                self.input.err(
                    Some(c.id.span()),
                    Some(c.id.get_ref()),
                    format!("duplicate chain id `{}`", c.id.get_ref()),
                    "give every chain a different id",
                );
            }
            if let Some(c) = self.chain(c) {
                all_chains.push(c);
            }
        }
        (chain_ids, all_chains)
    }

    /// `key_env`: the name of an environment variable, never a key itself.
    fn key_env(&mut self, a: &RawAttestor) -> String {
        let key_env = a.key_env.get_ref().trim().to_owned();
        let looks_like_key = key_env.trim_start_matches("0x").len() >= 60
            && key_env
                .trim_start_matches("0x")
                .chars()
                .all(|c| c.is_ascii_hexdigit());
        let valid_name = !key_env.is_empty()
            && key_env
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            && !key_env.starts_with(|c: char| c.is_ascii_digit());
        if looks_like_key || !valid_name {
            self.input.err(
                Some(a.key_env.span()),
                Some("attestor"),
                "`key_env` must name an environment variable (A-Z, 0-9, _)",
                "never put a private key in the config; export it, e.g. RINGFENCE_ATTESTOR_KEY=0x…",
            );
        }
        key_env
    }

    /// `listen`: an address and port.
    fn listen(&mut self, a: &RawAttestor) -> Option<SocketAddr> {
        match a.listen.get_ref().parse::<SocketAddr>() {
            Ok(l) => Some(l),
            Err(_) => {
                self.input.err(
                    Some(a.listen.span()),
                    Some("attestor"),
                    format!("`{}` is not an address and port", a.listen.get_ref()),
                    "write e.g. listen = \"127.0.0.1:9470\"",
                );
                None
            }
        }
    }

    /// `poll_ms`: above 0, 500 when not given.
    fn poll_ms(&mut self, a: &RawAttestor) -> u64 {
        match &a.poll_ms {
            Some(p) if *p.get_ref() == 0 => {
                self.input.err(
                    Some(p.span()),
                    Some("attestor"),
                    "`poll_ms` must be > 0",
                    "e.g. poll_ms = 200",
                );
                200
            }
            Some(p) => *p.get_ref(),
            None => 500,
        }
    }

    /// `confirmations` names only declared chains.
    fn check_confirmations(&mut self, a: &RawAttestor, chain_ids: &[String]) {
        for chain in a.confirmations.get_ref().keys() {
            if !chain_ids.contains(chain) {
                let ids: Vec<&str> = chain_ids.iter().map(String::as_str).collect();
                self.input.err(
                    Some(a.confirmations.span()),
                    Some("attestor"),
                    format!("`confirmations` names an unknown chain `{chain}`"),
                    format!("declared chains: {}", list(&ids)),
                );
            }
        }
    }

    /// The routes the attestor serves: at least one, each a declared bridge, each valid.
    fn routes(
        &mut self,
        a: &RawAttestor,
        raw_bridges: &[RawBridge],
        chain_ids: &[String],
    ) -> Vec<RouteConfig> {
        if a.routes.get_ref().is_empty() {
            self.input.err(
                Some(a.routes.span()),
                Some("attestor"),
                "`routes` is empty",
                "name the bridges this attestor serves, e.g. routes = [\"lab\"]",
            );
        }
        let bridge_ids: Vec<String> = raw_bridges.iter().map(|b| b.id.get_ref().clone()).collect();
        let mut routes = Vec::new();
        for r in a.routes.get_ref() {
            match raw_bridges
                .iter()
                .position(|b| b.id.get_ref() == r.get_ref())
            {
                Some(i) => {
                    if let Some(route) = self.route(&raw_bridges[i], chain_ids, a) {
                        routes.push(route);
                    }
                }
                None => {
                    let ids: Vec<&str> = bridge_ids.iter().map(String::as_str).collect();
                    self.input.err(
                        Some(r.span()),
                        Some("attestor"),
                        format!("unknown route `{}`", r.get_ref()),
                        format!("declared bridges: {}", list(&ids)),
                    );
                }
            }
        }
        routes
    }

    fn chain(&mut self, c: RawChain) -> Option<ChainConfig> {
        let id = c.id.get_ref().clone();
        let e = read_endpoints(&mut self.input, &c.rpc, c.quorum.as_ref(), &id)?;
        Some(ChainConfig {
            id,
            chain_id: c.chain_id,
            rpc: e.urls,
            quorum: Some(e.quorum),
            start_block: c.start_block,
        })
    }

    fn end(&mut self, e: &EndDoc, chains: &[String], id: &str) -> Option<EndConfig> {
        let known = chains.contains(e.chain.get_ref());
        if !known {
            let ids: Vec<&str> = chains.iter().map(String::as_str).collect();
            self.input.err(
                Some(e.chain.span()),
                Some(id),
                format!("unknown chain `{}`", e.chain.get_ref()),
                format!("declared chains: {}", list(&ids)),
            );
        }
        let contract = self.address(&e.contract, id);
        let event = match Event::parse(e.event.get_ref()) {
            Ok(ev) if ev.inputs.iter().all(|p| !p.name.is_empty()) => Some(ev),
            Ok(_) => {
                self.input.err(
                    Some(e.event.span()),
                    Some(id),
                    "every event parameter needs a name",
                    "e.g. \"Sent(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient)\"",
                );
                None
            }
            Err(_) => {
                self.input.err(
                    Some(e.event.span()),
                    Some(id),
                    format!("`{}` is not an event signature", e.event.get_ref()),
                    "e.g. \"Sent(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient)\"",
                );
                None
            }
        };
        Some(EndConfig {
            chain: known.then(|| e.chain.get_ref().clone())?,
            contract: contract?,
            event: event?,
        })
    }

    /// One route the attestor serves: both ends, the match, the attested fields, the verifier,
    /// the limit and the confirmations; `None` when any of them is wrong (all are reported).
    fn route(&mut self, b: &RawBridge, chains: &[String], a: &RawAttestor) -> Option<RouteConfig> {
        let id = b.id.get_ref().clone();
        let source = self.end(&b.source, chains, &id);
        let destination = self.end(&b.destination, chains, &id);
        let (source, destination) = (source?, destination?);
        // One reading of `match_on` for the guard and the attestor.
        let matched = resolve_match_on(
            &mut self.input,
            &b.match_on,
            b.key.as_ref(),
            &source.event,
            &destination.event,
            &id,
        );
        let mut ok = matched.is_some();
        let names = self.attested_fields(b, &destination.event, &id, &mut ok);
        let verifier = self.verifier(b, &id, &mut ok);
        let max_amount = self.max_amount(b, &id, &mut ok);
        let confirmations = self.confirmations(a, &source.chain, &id, &mut ok);
        let [asset, amount, recipient]: [String; 3] = names.try_into().ok()?;
        let matched = matched?;
        if !ok {
            return None;
        }
        let key = matched.names[matched.key].clone();
        Some(RouteConfig {
            id,
            source,
            destination,
            match_on: matched.names,
            tolerance: matched.tolerance,
            key,
            asset,
            amount,
            recipient,
            verifier: verifier?,
            verifier_timelock_s: b.verifier_timelock_s.unwrap_or(86_400),
            max_amount,
            confirmations,
        })
    }

    /// The destination parameters the attestation's asset, amount and recipient come from
    /// (named on the bridge, or by default the field's own name), each of a fitting type.
    fn attested_fields(
        &mut self,
        b: &RawBridge,
        destination: &Event,
        id: &str,
        ok: &mut bool,
    ) -> Vec<String> {
        let has = |e: &Event, n: &str| e.inputs.iter().find(|p| p.name == n).map(|p| p.ty.clone());
        let field = |f: &Option<S>, default: &str| {
            f.as_ref().map_or((default.to_owned(), None), |s| {
                (s.get_ref().clone(), Some(s.span()))
            })
        };
        let wants: [(&str, &Option<S>, &[&str]); 3] = [
            ("asset", &b.asset, &["bytes32", "address"]),
            ("amount", &b.amount, &["uint"]),
            ("recipient", &b.recipient, &["address"]),
        ];
        let mut names = Vec::new();
        for (what, f, types) in wants {
            let (name, span) = field(f, what);
            match has(destination, &name) {
                Some(ty) if types.iter().any(|t| ty.starts_with(t)) => {}
                other => {
                    *ok = false;
                    let why = match other {
                        Some(ty) => format!(
                            "destination parameter `{name}` is `{ty}`, the attestation's {what} needs {}",
                            types.join(" or ")
                        ),
                        None => format!(
                            "the destination event has no parameter `{name}` for the attestation's {what}"
                        ),
                    };
                    self.input.err(
                        span.or_else(|| Some(b.destination.event.span())),
                        Some(id),
                        why,
                        format!("set `{what} = \"<parameter>\"` on the bridge"),
                    );
                }
            }
            names.push(name);
        }
        names
    }

    /// The route's attestation verifier on the destination chain (required).
    fn verifier(&mut self, b: &RawBridge, id: &str, ok: &mut bool) -> Option<Address> {
        match &b.verifier {
            Some(v) => self.address(v, id),
            None => {
                *ok = false;
                self.input.err(
                    Some(b.id.span()),
                    Some(id),
                    "a route the attestor serves needs `verifier`",
                    "set verifier = \"0x…\", the RingfenceAttestationVerifier on the destination chain",
                );
                None
            }
        }
    }

    /// The route's limit: `max_amount` token units per `window_s` seconds, both or neither.
    fn max_amount(&mut self, b: &RawBridge, id: &str, ok: &mut bool) -> Option<(U256, u64)> {
        match (&b.max_amount, &b.window_s) {
            (None, None) => None,
            (Some(m), Some(w)) if *w.get_ref() > 0 => {
                match U256::from_str_radix(m.get_ref().trim(), 10) {
                    Ok(v) => Some((v, *w.get_ref())),
                    Err(_) => {
                        *ok = false;
                        self.input.err(
                            Some(m.span()),
                            Some(id),
                            format!(
                                "`max_amount` `{}` is not a whole number of token units",
                                m.get_ref()
                            ),
                            "write the limit in the token's smallest unit, e.g. \"1000000000000\"",
                        );
                        None
                    }
                }
            }
            (m, w) => {
                *ok = false;
                self.input.err(
                    m.as_ref()
                        .map(|m| m.span())
                        .or_else(|| w.as_ref().map(|w| w.span())),
                    Some(id),
                    "`max_amount` needs `window_s` > 0 (and the other way round)",
                    "set both, e.g. max_amount = \"1000000\" and window_s = 3600",
                );
                None
            }
        }
    }

    /// The confirmations the attestor waits for on the route's source chain (required).
    fn confirmations(&mut self, a: &RawAttestor, source: &str, id: &str, ok: &mut bool) -> u64 {
        match a.confirmations.get_ref().get(source) {
            Some(c) => *c.get_ref(),
            None => {
                *ok = false;
                self.input.err(
                    Some(a.confirmations.span()),
                    Some("attestor"),
                    format!("no `confirmations` for the source chain `{source}` of route `{id}`"),
                    format!("add e.g. confirmations = {{ {source} = 2 }}"),
                );
                0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn chain_keys_are_the_attestors_then_the_guards() {
        assert_eq!(
            super::chain_keys(),
            [
                "id",
                "rpc",
                "chain_id",
                "quorum",
                "start_block",
                "confirmations",
                "poll_ms",
                "max_block_range",
                "stale_after_s",
            ]
        );
    }

    use super::*;
    use proptest::prelude::*;

    pub(crate) const GOOD: &str = r#"[attestor]
key_env = "RINGFENCE_ATTESTOR_KEY"
listen = "127.0.0.1:9470"
store = "attestor.db"
routes = ["lab"]
confirmations = { src = 2 }

[[chain]]
id = "src"
rpc = ["http://127.0.0.1:8545", "https://user:pw1234@rpc.example/v2/SECRETKEY1", "ws://127.0.0.1:8547"]
quorum = 2

[[chain]]
id = "dst"
chain_id = 10
rpc = "http://127.0.0.1:8546"
poll_ms = 200

[[bridge]]
id = "lab"
source = { chain = "src", contract = "0x5FbDB2315678afecb367f032d93F642f64180aa3", event = "Sent(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient)" }
destination = { chain = "dst", contract = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512", event = "Requested(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient)" }
match_on = ["id", "asset", "amount", "recipient"]
verifier = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"
max_amount = "1000000000000000000000000"
window_s = 3600

[[rule]]
id = "guard-only"
kind = "mint-rate"
"#;

    fn errs(text: &str) -> Vec<String> {
        match parse(Path::new("a.toml"), text) {
            Ok(_) => Vec::new(),
            Err(d) => {
                d.0.iter()
                    .map(|d| format!("{}:{}: {} | {}", d.line, d.column, d.message, d.help))
                    .collect()
            }
        }
    }

    #[test]
    fn good_config() {
        let c = parse(Path::new("a.toml"), GOOD).expect("valid");
        assert_eq!(c.key_env, "RINGFENCE_ATTESTOR_KEY");
        assert_eq!(c.chains.len(), 2);
        assert_eq!(c.chains[0].rpc.len(), 3);
        assert_eq!(c.chains[0].quorum, Some(2));
        let r = &c.routes[0];
        assert_eq!(
            (r.key.as_str(), r.confirmations, r.verifier_timelock_s),
            ("id", 2, 86_400)
        );
        assert_eq!(r.max_amount.map(|m| m.1), Some(3600));
        // Endpoints are redacted in Debug.
        let dbg = format!("{c:?}");
        assert!(
            !dbg.contains("SECRETKEY1") && !dbg.contains("pw1234"),
            "{dbg}"
        );
    }

    #[test]
    fn located_errors() {
        let cases: &[(&str, &str, &str)] = &[
            (
                "key_env = \"RINGFENCE_ATTESTOR_KEY\"",
                "key_env = \"0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80\"",
                "2:11: `key_env` must name",
            ),
            (
                "listen = \"127.0.0.1:9470\"",
                "listen = \"localhost\"",
                "3:10: `localhost` is not an address",
            ),
            (
                "routes = [\"lab\"]",
                "routes = [\"lbb\"]",
                "5:11: unknown route `lbb`",
            ),
            (
                "confirmations = { src = 2 }",
                "confirmations = { dst = 2 }",
                "no `confirmations` for the source chain `src`",
            ),
            (
                "quorum = 2",
                "quorum = 4",
                "11:10: quorum 4 is impossible with 3 endpoint(s)",
            ),
            (
                "chain = \"dst\", contract = \"0xe7",
                "chain = \"dts\", contract = \"0xe7",
                "unknown chain `dts`",
            ),
            (
                "\"id\", \"asset\", \"amount\", \"recipient\"]",
                "\"id\", \"asset\", \"amonut\", \"recipient\"]",
                "the source event has no parameter `amonut`",
            ),
            (
                "verifier = \"0x9fE4",
                "verifyer = \"0x9fE4",
                "unknown key `verifyer` in bridge",
            ),
            ("window_s = 3600", "", "`max_amount` needs `window_s`"),
            (
                "rpc = \"http://127.0.0.1:8546\"",
                "rpc = \"ftp://127.0.0.1:8546\"",
                "not an http(s) or ws(s) URL",
            ),
            (
                "address recipient)\" }\nmatch_on",
                "address to)\" }\nmatch_on",
                "no parameter `recipient` for the attestation's recipient",
            ),
            (
                "\"id\", \"asset\", \"amount\", \"recipient\"]",
                "\"id\", \"asset\", { name = \"amount\", fee_bps = 20000 }, \"recipient\"]",
                "`fee_bps` = 20000 is out of range",
            ),
            (
                "\"id\", \"asset\", \"amount\", \"recipient\"]",
                "\"id\", { name = \"asset\", scale = 12 }, \"amount\", \"recipient\"]",
                "apply to unsigned integers only",
            ),
            (
                "\"id\", \"asset\", \"amount\", \"recipient\"]",
                "\"id\", \"asset\", \"amount\", \"amount\"]",
                "`amount` is listed twice in `match_on`",
            ),
        ];
        for (from, to, want) in cases {
            assert!(GOOD.contains(from), "{from}");
            let e = errs(&GOOD.replacen(from, to, 1));
            assert!(e.iter().any(|x| x.contains(want)), "{want}: {e:#?}");
        }
        // A decimal scale and a fee on the amount: parsed into the route's tolerance.
        let text = GOOD.replacen(
            "\"id\", \"asset\", \"amount\", \"recipient\"]",
            "\"id\", \"asset\", { name = \"amount\", scale = 12, fee_bps = 30 }, \"recipient\"]",
            1,
        );
        let cfg = parse(Path::new("a.toml"), &text).unwrap_or_else(|d| panic!("{d}"));
        let r = &cfg.routes[0];
        assert_eq!(r.match_on, ["id", "asset", "amount", "recipient"]);
        assert_eq!(
            r.tolerance[2],
            FieldTolerance {
                scale: 12,
                fee_bps: 30
            }
        );
        let e = errs("[attestor\n");
        assert!(e.iter().any(|x| x.contains("invalid TOML")), "{e:?}");
        let e = errs("[[chain]]\nid = \"a\"\nrpc = []\n");
        assert!(
            e.iter().any(|x| x.contains("missing `[attestor]`")),
            "{e:?}"
        );
        // An endpoint's secret never appears in a diagnostic.
        let e = errs(&GOOD.replace("https://user", "gopher://user"));
        assert!(
            e.iter()
                .all(|x| !x.contains("SECRETKEY1") && !x.contains("pw1234")),
            "{e:?}"
        );
        assert!(!e.is_empty());
    }

    proptest! {
        /// The parser never panics: any text gives a config or located diagnostics.
        #[test]
        fn total_on_any_text(s in ".{0,300}") {
            let _ = parse(Path::new("x.toml"), &s);
        }

        /// Any single-character corruption of a valid config is either still valid or reported
        /// with at least one diagnostic; never a panic or a silent default.
        #[test]
        fn corruptions_are_reported(pos in 0usize..2000, c in prop_oneof![Just('"'), Just('='), Just('['), Just('x'), Just('0'), Just('\n')]) {
            let mut s: Vec<char> = GOOD.chars().collect();
            let i = pos % s.len();
            s[i] = c;
            let text: String = s.into_iter().collect();
            match parse(Path::new("x.toml"), &text) {
                Ok(cfg) => prop_assert!(!cfg.routes.is_empty()),
                Err(d) => {
                    prop_assert!(!d.0.is_empty());
                    for x in &d.0 {
                        prop_assert!(!x.message.contains("SECRETKEY1"));
                    }
                }
            }
        }
    }
}
