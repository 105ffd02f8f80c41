//! The validated guard configuration: every reference resolved to an index, every address,
//! amount and event signature parsed. Built by [`crate::config::parse`].

use std::path::PathBuf;

use alloy::json_abi::Event as AbiEvent;
use alloy::primitives::{Address, B256, U256};

use crate::document::kind;
use crate::event::{ChainIdx, TokenIdx};
use crate::layers::{LAYER_EVENTS, Layer};
use crate::reason::AlertKind;
use crate::secret::RpcUrl;

/// Standard privileged-change events decoded on every contract a `privileged` rule watches:
/// (name used in `changes`, Solidity signature).
pub const PRIVILEGED_EVENTS: [(&str, &str); 9] = [
    (
        "role-granted",
        "RoleGranted(bytes32 indexed role, address indexed account, address indexed sender)",
    ),
    (
        "role-revoked",
        "RoleRevoked(bytes32 indexed role, address indexed account, address indexed sender)",
    ),
    (
        "ownership-transferred",
        "OwnershipTransferred(address indexed previousOwner, address indexed newOwner)",
    ),
    ("upgraded", "Upgraded(address indexed implementation)"),
    (
        "admin-changed",
        "AdminChanged(address previousAdmin, address newAdmin)",
    ),
    ("signer-set-changed", "AddedOwner(address owner)"),
    ("signer-set-changed", "RemovedOwner(address owner)"),
    ("signer-set-changed", "ChangedThreshold(uint256 threshold)"),
    ("paused", "Paused(address account)"),
];

/// The whole guard configuration.
#[derive(Clone, Debug)]
pub struct GuardSpec {
    /// `[store]`.
    pub store: StoreSpec,
    /// `[[chain]]`, in file order.
    pub chains: Vec<ChainSpec>,
    /// `[[token]]`.
    pub tokens: Vec<TokenSpec>,
    /// `[[bridge]]`.
    pub bridges: Vec<BridgeSpec>,
    /// `[[action]]`.
    pub actions: Vec<ActionSpec>,
    /// `[[rule]]`.
    pub rules: Vec<RuleSpec>,
}

impl GuardSpec {
    /// Index of the chain with this id.
    pub fn chain_idx(&self, id: &str) -> Option<ChainIdx> {
        self.chains
            .iter()
            .position(|c| c.id == id)
            .and_then(|i| u16::try_from(i).ok())
    }

    /// Index of the token with this id.
    pub fn token_idx(&self, id: &str) -> Option<TokenIdx> {
        self.tokens
            .iter()
            .position(|c| c.id == id)
            .and_then(|i| u16::try_from(i).ok())
    }

    /// Index of the rule with this id.
    pub fn rule_idx(&self, id: &str) -> Option<u16> {
        self.rules
            .iter()
            .position(|c| c.id == id)
            .and_then(|i| u16::try_from(i).ok())
    }

    /// Whether some rule needs the sender of mint transactions (per-minter limits).
    pub fn needs_minter(&self, token: TokenIdx) -> bool {
        self.rules.iter().any(|r| {
            matches!(r.kind, RuleKind::MintRate { token: t, max_per_minter: Some(_), .. } if t == token)
        })
    }

    /// Contracts on `chain` whose privileged events must be ingested, with extra signer events.
    pub fn privileged_contracts(&self, chain: ChainIdx) -> Vec<(Address, Vec<AbiEvent>)> {
        let mut out: Vec<(Address, Vec<AbiEvent>)> = Vec::new();
        for r in &self.rules {
            if let RuleKind::Privileged {
                chain: c,
                contracts,
                extra_events,
                ..
            } = &r.kind
            {
                if *c != chain {
                    continue;
                }
                for a in contracts {
                    match out.iter_mut().find(|(x, _)| x == a) {
                        Some((_, ev)) => ev.extend(extra_events.iter().cloned()),
                        None => out.push((*a, extra_events.clone())),
                    }
                }
            }
        }
        out
    }

    /// Contracts on `chain` with the indices (in [`LAYER_EVENTS`]) of the layer configuration
    /// events some `privileged` rule decodes on them.
    pub fn layer_contracts(&self, chain: ChainIdx) -> Vec<(Address, Vec<u16>)> {
        let mut out: Vec<(Address, Vec<u16>)> = Vec::new();
        for r in &self.rules {
            let RuleKind::Privileged {
                chain: c,
                contracts,
                layers,
                ..
            } = &r.kind
            else {
                continue;
            };
            if *c != chain {
                continue;
            }
            let events = LAYER_EVENTS
                .iter()
                .enumerate()
                .filter(|(_, e)| layers.contains(&e.layer))
                .filter_map(|(i, _)| u16::try_from(i).ok());
            for i in events {
                for a in contracts {
                    let slot = match out.iter().position(|(x, _)| x == a) {
                        Some(p) => &mut out[p].1,
                        None => {
                            out.push((*a, Vec::new()));
                            let last = out.len() - 1;
                            &mut out[last].1
                        }
                    };
                    if !slot.contains(&i) {
                        slot.push(i);
                    }
                }
            }
        }
        out
    }
}

/// `[store]`.
#[derive(Clone, Debug)]
pub struct StoreSpec {
    /// SQLite file; created if missing.
    pub path: PathBuf,
}

/// How a chain is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// `http://` or `https://`: polled every `poll_ms`.
    Http,
    /// `ws://` or `wss://`: subscribes to new heads.
    Ws,
}

/// `[[chain]]`.
#[derive(Clone, Debug)]
pub struct ChainSpec {
    /// Id used by references.
    pub id: String,
    /// JSON-RPC endpoints (each may carry an API key: prints redacted), at least one. With
    /// more than one, `watch` believes a block, its hash and its logs only when `quorum` of
    /// them return the same; actions (pause transactions) are sent through the first.
    pub rpc: Vec<RpcUrl>,
    /// Identical answers needed (1 for a single endpoint; default a majority).
    pub quorum: usize,
    /// Transport derived from the first URL's scheme.
    pub transport: Transport,
    /// Blocks behind the head before a block is ingested (0: act in the block itself).
    pub confirmations: u64,
    /// Poll interval for HTTP.
    pub poll_ms: u64,
    /// Block to start from when there is no checkpoint (default: the block after the current head).
    pub start_block: Option<u64>,
    /// Largest block range per `eth_getLogs` call in backfill.
    pub max_block_range: u64,
    /// Seconds without a new block before a `stale` alert.
    pub stale_after_s: u64,
}

/// `[[token]]`.
#[derive(Clone, Debug)]
pub struct TokenSpec {
    /// Id used by references.
    pub id: String,
    /// Chain it lives on.
    pub chain: ChainIdx,
    /// ERC-20 contract.
    pub address: Address,
    /// ERC-20 decimals.
    pub decimals: u8,
    /// Price in USD per whole token (for outflow limits).
    pub price_usd: f64,
}

/// One end of a bridge.
#[derive(Clone, Debug)]
pub struct BridgeEventSpec {
    /// Chain of this end.
    pub chain: ChainIdx,
    /// Contract that emits the event.
    pub contract: Address,
    /// Parsed event.
    pub event: AbiEvent,
    /// `keccak256` of the canonical signature (topic 0).
    pub topic0: B256,
}

/// `[[bridge]]`.
#[derive(Clone, Debug)]
pub struct BridgeSpec {
    /// Id used by references.
    pub id: String,
    /// Lock / send end.
    pub source: BridgeEventSpec,
    /// Release / execute end.
    pub destination: BridgeEventSpec,
    /// Names of the compared parameters.
    pub match_on: Vec<String>,
    /// For each `match_on` name: (parameter index in the source event, in the destination event).
    pub match_idx: Vec<(usize, usize)>,
    /// Position in `match_on` of the key that pairs events (`key`, default the first name).
    pub key: usize,
    /// For each `match_on` name: how the destination value may differ from the source's
    /// (decimal scale and fee); exact for every field by default.
    pub tolerance: Vec<FieldTolerance>,
}

/// How a compared integer field may differ between source and destination: the destination
/// amount `d` matches the source amount `s` when, with `S = s × 10^scale` (for a negative scale
/// `⌊s / 10^-scale⌋`: the source's sub-unit dust is dropped), `S × (10 000 − fee_bps) / 10 000 ≤ d ≤ S`. A fee
/// is never negative: a destination above the scaled source never matches.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FieldTolerance {
    /// Decimal exponent applied to the source value (e.g. 12 for USDC 6 → 18 decimals).
    pub scale: i8,
    /// Largest fee the bridge may deduct, in basis points of the scaled source amount.
    pub fee_bps: u16,
}

impl FieldTolerance {
    /// The tolerance of a `match_on` entry's `scale` and `fee_bps` as written, or (message,
    /// fix) saying which is out of range.
    pub fn checked(scale: i64, fee_bps: i64) -> Result<Self, (String, String)> {
        let scale = match i8::try_from(scale) {
            Ok(v) if (-77..=77).contains(&v) => v,
            _ => {
                return Err((
                    format!("`scale` = {scale} is out of range"),
                    "the decimal exponent of destination over source units, between -77 and 77 (e.g. 12 for 6 → 18 decimals)".to_owned(),
                ));
            }
        };
        let fee_bps = match u16::try_from(fee_bps) {
            Ok(v) if v <= 10_000 => v,
            _ => {
                return Err((
                    format!("`fee_bps` = {fee_bps} is out of range"),
                    "the largest fee the bridge deducts, 0 to 10000 basis points; a fee is never negative".to_owned(),
                ));
            }
        };
        Ok(Self { scale, fee_bps })
    }

    /// Whether this is exact equality.
    pub fn is_exact(&self) -> bool {
        self.scale == 0 && self.fee_bps == 0
    }

    /// Whether destination word `dst` matches source word `src` (both big-endian integers).
    pub fn matches(&self, src: B256, dst: B256) -> bool {
        if self.is_exact() {
            return src == dst;
        }
        let (s, d) = (U256::from_be_bytes(src.0), U256::from_be_bytes(dst.0));
        let Some(p) = U256::from(10u8).checked_pow(U256::from(self.scale.unsigned_abs())) else {
            return false;
        };
        let scaled = if self.scale >= 0 {
            match s.checked_mul(p) {
                Some(x) => x,
                None => return false,
            }
        } else {
            // The destination cannot carry the source's sub-unit dust: it is dropped.
            s / p
        };
        if d > scaled {
            return false;
        }
        // d ≥ scaled × (10 000 − fee) / 10 000, without overflow: compare the shortfall.
        let short = scaled - d;
        // short ≤ scaled × fee / 10 000  ⇔  short × 10 000 ≤ scaled × fee
        let lhs = short.checked_mul(U256::from(10_000u32));
        let rhs = scaled.checked_mul(U256::from(self.fee_bps));
        match (lhs, rhs) {
            (Some(l), Some(r)) => l <= r,
            // Overflow only for amounts near 2^256: fall back to a division.
            _ => short <= scaled / U256::from(10_000u32) * U256::from(self.fee_bps),
        }
    }
}

/// `[[action]]`.
#[derive(Clone, Debug)]
pub struct ActionSpec {
    /// Id used by rules.
    pub id: String,
    /// What it does.
    pub kind: ActionKind,
}

/// What an action does.
#[derive(Clone, Debug)]
pub enum ActionKind {
    /// Send a transaction calling `call` (no arguments) on `contract`, signed by the key in
    /// the environment variable `key_env`.
    Pause {
        /// Chain to send on.
        chain: ChainIdx,
        /// Target contract.
        contract: Address,
        /// Canonical function signature, e.g. `pause()`.
        call: String,
        /// 4-byte selector of `call`.
        selector: [u8; 4],
        /// Environment variable holding the hex private key.
        key_env: String,
        /// Gas limit (skips estimation, which a paused or reverting target would fail).
        gas_limit: u64,
    },
    /// Send a transaction calling `call` (one `bytes32` argument) on `contract` with the
    /// `bytes32` parameter `arg` of the tripping bridge event, e.g. `cancel(queueId)` on a delay
    /// queue: the guard drops a flagged transfer while it waits. Signed like a pause.
    Cancel {
        /// Chain to send on.
        chain: ChainIdx,
        /// Target contract (the delay queue).
        contract: Address,
        /// Canonical function signature, e.g. `cancel(bytes32)`.
        call: String,
        /// 4-byte selector of `call`.
        selector: [u8; 4],
        /// Name of the `bytes32` parameter of the tripping event passed to `call`.
        arg: String,
        /// Name of a `bool` parameter of the tripping event: the call is sent only when it is
        /// true (e.g. `queued`); otherwise the action is `skipped`.
        only_if: Option<String>,
        /// Environment variable holding the hex private key.
        key_env: String,
        /// Gas limit (skips estimation).
        gas_limit: u64,
    },
    /// POST the alert to `url` (http or https).
    Webhook {
        /// The endpoint (Slack and Discord webhook URLs carry a secret path: prints redacted).
        url: RpcUrl,
        /// Body format.
        format: WebhookFormat,
        /// Environment variable holding the HMAC-SHA256 secret that signs `json` bodies.
        secret_env: Option<String>,
        /// PEM file of extra trusted CA certificates (private CAs), besides the system store and
        /// `SSL_CERT_FILE`.
        ca_file: Option<PathBuf>,
        /// Timeout of one attempt, in milliseconds.
        timeout_ms: u64,
        /// Attempts after the first, with exponential back-off.
        retries: u32,
    },
}

impl ActionKind {
    /// The config name of the kind.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Pause { .. } => kind::PAUSE,
            Self::Cancel { .. } => kind::CANCEL,
            Self::Webhook { .. } => kind::WEBHOOK,
        }
    }

    /// Whether the action only notifies (runs for alerts as well as trips).
    pub fn is_notify(&self) -> bool {
        matches!(self, Self::Webhook { .. })
    }

    /// The chain, contract and key variable of an action that sends a transaction.
    pub fn transaction(&self) -> Option<(ChainIdx, Address, &str)> {
        match self {
            Self::Pause {
                chain,
                contract,
                key_env,
                ..
            }
            | Self::Cancel {
                chain,
                contract,
                key_env,
                ..
            } => Some((*chain, *contract, key_env)),
            Self::Webhook { .. } => None,
        }
    }
}

/// The body a webhook sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WebhookFormat {
    /// Slack incoming webhook: `{"text": …}`.
    Slack,
    /// Discord webhook: `{"content": …}` (at most 2 000 characters).
    Discord,
    /// `{"text": …, "alert": {…}}`, signed with `X-Ringfence-Signature` when `secret_env` is set.
    Json,
}

impl WebhookFormat {
    /// The config name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Slack => "slack",
            Self::Discord => "discord",
            Self::Json => "json",
        }
    }
}

/// `[[rule]]`.
#[derive(Clone, Debug)]
pub struct RuleSpec {
    /// Id, reported in alerts.
    pub id: String,
    /// Indices of the actions to run on a trip.
    pub actions: Vec<u16>,
    /// What the rule checks.
    pub kind: RuleKind,
}

/// What an anomaly rule measures.
#[derive(Clone, Debug)]
pub enum AnomalyMetric {
    /// Minted token units of a token.
    Mint {
        /// The token.
        token: TokenIdx,
    },
    /// USD value leaving a contract.
    Outflow {
        /// Chain of the contract.
        chain: ChainIdx,
        /// The contract.
        contract: Address,
        /// Tokens counted.
        tokens: Vec<TokenIdx>,
    },
}

/// The rule kinds.
#[derive(Clone, Debug)]
pub enum RuleKind {
    /// Sliding window over a token's mints, in total and per minter.
    MintRate {
        /// The token.
        token: TokenIdx,
        /// Window length (block-time seconds).
        window_s: u64,
        /// Most base units minted per window in total.
        max_amount: Option<U256>,
        /// Most minted per window as parts-per-million of supply before the window.
        max_share_ppm: Option<u64>,
        /// Most base units per minter (the mint transaction's sender) per window.
        max_per_minter: Option<U256>,
    },
    /// Sliding window of USD leaving a contract, plus a single-transfer alert.
    OutflowRate {
        /// Chain of the contract.
        chain: ChainIdx,
        /// The contract.
        contract: Address,
        /// Tokens counted.
        tokens: Vec<TokenIdx>,
        /// Window length.
        window_s: u64,
        /// Most USD per window (trip).
        max_usd: Option<f64>,
        /// A single transfer at least this large raises an alert.
        big_transfer_usd: Option<f64>,
    },
    /// Every destination event must match one earlier source event.
    MessageMatch {
        /// The bridge.
        bridge: u16,
        /// A source event unmatched this long (destination block time) raises an alert.
        timeout_s: u64,
        /// A destination event is judged once the source chain is read up to its timestamp
        /// minus this (the fastest legitimate relay).
        relay_delay_s: u64,
        /// Judge anyway when the source chain lags the destination by more than this.
        source_wait_s: u64,
    },
    /// A token's supply never above the balance locked at the source, plus a tolerance.
    Backing {
        /// The destination (wrapped) token.
        token: TokenIdx,
        /// The token locked at the source.
        backing_token: TokenIdx,
        /// The lockbox holding `backing_token`.
        holder: Address,
        /// Allowed excess, in `token` base units.
        tolerance: U256,
        /// See [`RuleKind::MessageMatch::relay_delay_s`].
        relay_delay_s: u64,
    },
    /// Role grants, ownership transfers, upgrades, signer-set changes.
    Privileged {
        /// Chain of the contracts.
        chain: ChainIdx,
        /// Watched contracts.
        contracts: Vec<Address>,
        /// Change names that count (empty: all but `paused`).
        changes: Vec<String>,
        /// Extra signer-set events.
        extra_events: Vec<AbiEvent>,
        /// Messaging layers whose configuration events ([`crate::LAYER_EVENTS`]) are decoded on
        /// the contracts and count as `layer-config-changed` (default: every layer).
        layers: Vec<Layer>,
        /// Trip (run all actions) or only alert.
        trip: bool,
    },
    /// Velocity far above a learned baseline (an alert before a static limit is reached).
    Anomaly {
        /// What is measured.
        metric: AnomalyMetric,
        /// Bucket length (block-time seconds).
        bucket_s: u64,
        /// EWMA weight of a new bucket.
        alpha: f64,
        /// Alert when a bucket exceeds `factor` × baseline.
        factor: f64,
        /// Buckets to learn before alerting.
        warmup_buckets: u32,
        /// Ignore buckets below this (token units for mint, USD for outflow).
        min_value: f64,
    },
}

impl RuleKind {
    /// The kind alerts of this rule carry.
    pub fn alert_kind(&self) -> AlertKind {
        match self {
            Self::MintRate { .. } => AlertKind::MintRate,
            Self::OutflowRate { .. } => AlertKind::OutflowRate,
            Self::MessageMatch { .. } => AlertKind::MessageMatch,
            Self::Backing { .. } => AlertKind::Backing,
            Self::Privileged { .. } => AlertKind::Privileged,
            Self::Anomaly { .. } => AlertKind::Anomaly,
        }
    }

    /// The config name of the kind.
    pub fn name(&self) -> &'static str {
        match self {
            Self::MintRate { .. } => kind::MINT_RATE,
            Self::OutflowRate { .. } => kind::OUTFLOW_RATE,
            Self::MessageMatch { .. } => kind::MESSAGE_MATCH,
            Self::Backing { .. } => kind::BACKING,
            Self::Privileged { .. } => kind::PRIVILEGED,
            Self::Anomaly { .. } => kind::ANOMALY,
        }
    }
}
