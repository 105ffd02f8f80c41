//! The scenario format: one historical incident as TOML — `[incident]`, `[[asset]]`, `[[step]]` —
//! read with every problem located (file, line, column, entity, fix).
//!
//! Amounts are exact: whole-token decimals (`"202440.725413"`, `100`, `0.01`) parsed into base
//! units with the asset's `decimals`; prices are US dollars as `f64`.

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;

use alloy::primitives::{Address, B256, U256};
use ringfence_guard::FieldTolerance;
use ringfence_guard::amount::{format_units, parse_units, to_f64};
use ringfence_model::diag::closest;
use ringfence_model::input::TomlInput;
use ringfence_model::{Diagnostic, Diagnostics, SourceFile};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::DeValue;

/// What kind of exploit an incident is, and so which contracts the lab deploys for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// A stablecoin's privileged minter mints against a deposit of `source_amount` (Resolv).
    UnbackedMint,
    /// A destination bridge mints on a message the source never sent, or sent for less
    /// (Wormhole, Qubit, BSC Token Hub).
    ForgedMint,
    /// A destination bridge releases locked tokens on such a message (Nomad, KelpDAO).
    ForgedRelease,
    /// A lockbox releases on valid verifier signatures with no burn on the other chain (Ronin).
    KeyWithdrawal,
}

/// The class names as written in a scenario.
pub const CLASSES: [&str; 4] = [
    "unbacked-mint",
    "forged-mint",
    "forged-release",
    "key-withdrawal",
];

impl Class {
    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Self::UnbackedMint => "unbacked-mint",
            Self::ForgedMint => "forged-mint",
            Self::ForgedRelease => "forged-release",
            Self::KeyWithdrawal => "key-withdrawal",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "unbacked-mint" => Self::UnbackedMint,
            "forged-mint" => Self::ForgedMint,
            "forged-release" => Self::ForgedRelease,
            "key-withdrawal" => Self::KeyWithdrawal,
            _ => return None,
        })
    }

    /// Whether the destination mints (else it releases from a lockbox).
    pub fn mints(self) -> bool {
        matches!(self, Self::UnbackedMint | Self::ForgedMint)
    }

    /// Whether source and destination are one chain (a stablecoin's deposit and mint).
    pub fn single_chain(self) -> bool {
        matches!(self, Self::UnbackedMint)
    }
}

/// `[incident]`.
#[derive(Clone, Debug)]
pub struct Incident {
    /// Stable id, e.g. `resolv-usr-2026-03`.
    pub id: String,
    /// Human name.
    pub name: String,
    /// `YYYY-MM-DD` of the first malicious action.
    pub date: String,
    /// The class.
    pub class: Class,
    /// The loss history records, in USD.
    pub historical_loss_usd: f64,
    /// Where the timeline comes from.
    pub sources: Vec<String>,
    /// Free notes (assumptions, estimates).
    pub notes: Option<String>,
    /// Block time of the attacked chain (seconds), used for the guard's reaction.
    pub block_time_s: u64,
}

/// `[[asset]]`.
#[derive(Clone, Debug)]
pub struct Asset {
    /// Symbol, referenced by steps.
    pub symbol: String,
    /// ERC-20 decimals (on the destination: the minted or released token).
    pub decimals: u8,
    /// ERC-20 decimals of the asset on the source chain (a bridge may change them, e.g. USDC
    /// 6 → 18); `source_amount`s are in these units. Default: `decimals`.
    pub source_decimals: u8,
    /// Price in USD per whole token at the time of the incident.
    pub price_usd: f64,
    /// Pre-incident supply in base units (mint classes).
    pub supply: U256,
    /// Balance the attacked lockbox held at t0, in base units (release classes).
    pub locked: U256,
    /// Where the figures come from.
    pub source: Option<String>,
    /// The bridge's fee on this asset (basis points of the source amount): a benign transfer
    /// delivers `source_amount` less at most this, and the guard and the attestors match within
    /// it. 0 (exact) by default.
    pub fee_bps: u16,
}

impl Asset {
    /// The decimal exponent from source to destination units (`decimals − source_decimals`).
    pub fn scale(&self) -> i8 {
        i8::try_from(i16::from(self.decimals) - i16::from(self.source_decimals)).unwrap_or(0)
    }

    /// Source base units as destination base units (dust below one destination unit dropped).
    pub fn to_dst(&self, src: U256) -> U256 {
        let p = U256::from(10u8).pow(U256::from(self.scale().unsigned_abs()));
        if self.scale() >= 0 {
            src.saturating_mul(p)
        } else {
            src / p
        }
    }

    /// Destination base units as source base units (rounded down).
    pub fn to_src(&self, dst: U256) -> U256 {
        let p = U256::from(10u8).pow(U256::from(self.scale().unsigned_abs()));
        if self.scale() >= 0 {
            dst / p
        } else {
            dst.saturating_mul(p)
        }
    }

    /// Base units as USD.
    pub fn usd(&self, amount: U256) -> f64 {
        to_f64(amount, self.decimals) * self.price_usd
    }

    /// Base units as a decimal string in token units.
    pub fn fmt(&self, amount: U256) -> String {
        format_units(amount, self.decimals)
    }
}

/// Whether a step is the exploit or a genuine transfer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// A malicious mint or release.
    Attack,
    /// A genuine transfer, locked (or burnt) in full on the source side.
    Benign,
    /// A privileged change made with the bridge's own admin key (compromised or malicious),
    /// the step real attackers took first (Sandbox OFT, Echo eBTC): see [`AdminAction`].
    Admin,
}

/// What an `admin` step does, with the gateway's (or its verifier's) admin key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AdminAction {
    /// Raise the asset's token bucket and delay threshold to everything at risk.
    RaiseLimit,
    /// Switch the asset's token bucket and delay queue off.
    DisableLimit,
    /// Remove the guard's guardian, so its pause reverts.
    RemoveGuardian,
    /// Lift a pause.
    Unpause,
    /// Propose the attacker as the only attestor, threshold 1 (through the verifier's timelock).
    ReplaceVerifier,
    /// Execute that proposal (reverts before the timelock has passed).
    ExecuteVerifier,
}

/// The admin actions as written in a scenario.
pub const ADMIN_ACTIONS: [&str; 6] = [
    "raise-limit",
    "disable-limit",
    "remove-guardian",
    "unpause",
    "replace-verifier",
    "execute-verifier",
];

impl AdminAction {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "raise-limit" => Self::RaiseLimit,
            "disable-limit" => Self::DisableLimit,
            "remove-guardian" => Self::RemoveGuardian,
            "unpause" => Self::Unpause,
            "replace-verifier" => Self::ReplaceVerifier,
            "execute-verifier" => Self::ExecuteVerifier,
            _ => return None,
        })
    }

    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Self::RaiseLimit => "raise-limit",
            Self::DisableLimit => "disable-limit",
            Self::RemoveGuardian => "remove-guardian",
            Self::Unpause => "unpause",
            Self::ReplaceVerifier => "replace-verifier",
            Self::ExecuteVerifier => "execute-verifier",
        }
    }
}

/// `[[step]]`.
#[derive(Clone, Debug)]
pub struct Step {
    /// Seconds after the first malicious action.
    pub t_s: u64,
    /// Index into [`Scenario::assets`].
    pub asset: usize,
    /// Minted or released, base units.
    pub amount: U256,
    /// What the source side really locked or paid for it, base units.
    pub source_amount: U256,
    /// Recipient on the destination (default: a lab address per kind).
    pub recipient: Option<Address>,
    /// Attack or benign.
    pub kind: StepKind,
    /// The message id the destination message claims (a real source nonce when the exploit
    /// reused one); default: a fresh id per step.
    pub source_id: Option<B256>,
    /// The historical block, where known (informational).
    pub block: Option<u64>,
    /// The source message claims `amount` although only `source_amount` was locked
    /// (`source_event = "claimed"`: a source-side bug such as QBridge's zero-address deposit).
    pub source_claims_amount: bool,
    /// The admin action of an `admin` step.
    pub action: Option<AdminAction>,
    /// `rpc = "poisoned"`: the attacker controls RPC endpoints of the victim's verifiers and
    /// makes them report a source event for this step's message that never happened (KelpDAO).
    /// In the verifier arms, every endpoint of the first attestor and one endpoint of each other
    /// attestor lie.
    pub rpc_poisoned: bool,
    /// One-based line of the step in its file.
    pub line: usize,
}

/// A validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// `[incident]`.
    pub incident: Incident,
    /// `[[asset]]`, in file order.
    pub assets: Vec<Asset>,
    /// `[[step]]`, sorted by `t_s` (stable: file order within one second).
    pub steps: Vec<Step>,
}

impl Scenario {
    /// Reads and validates a scenario file.
    pub fn load(path: &Path) -> Result<Self, Diagnostics> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                return Err(Diagnostics(vec![Diagnostic::file(
                    path,
                    format!("cannot read the scenario: {e}"),
                    "check the path and that the file is UTF-8 TOML",
                )]));
            }
        };
        Self::parse(&SourceFile::new(path, text))
    }

    /// Every `*.toml` scenario of a directory, sorted by file name; all problems of all files.
    pub fn load_dir(dir: &Path) -> Result<Vec<Self>, Diagnostics> {
        let mut diags = Diagnostics::default();
        let mut paths: Vec<_> = match std::fs::read_dir(dir) {
            Ok(rd) => rd
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
                .collect(),
            Err(e) => {
                return Err(Diagnostics(vec![Diagnostic::file(
                    dir,
                    format!("cannot read the directory: {e}"),
                    "point --all at a directory of scenario *.toml files",
                )]));
            }
        };
        paths.sort();
        if paths.is_empty() {
            diags.push(Diagnostic::file(
                dir,
                "the directory holds no *.toml scenario",
                "add scenario files, e.g. incidents/*.toml",
            ));
        }
        let mut out = Vec::new();
        for p in paths {
            match Self::load(&p) {
                Ok(s) => out.push(s),
                Err(d) => diags.0.extend(d.0),
            }
        }
        let mut ids = HashSet::new();
        for s in &out {
            if !ids.insert(s.incident.id.clone()) {
                diags.push(Diagnostic::file(
                    dir,
                    format!("two scenarios have the id `{}`", s.incident.id),
                    "give each incident a unique id",
                ));
            }
        }
        diags.into_result(out)
    }

    /// Parses and validates a scenario held in memory.
    pub fn parse(file: &SourceFile) -> Result<Self, Diagnostics> {
        let mut cx = Cx {
            input: TomlInput::new(file.clone()),
        };
        let s = cx.parse();
        if s.is_none() && cx.input.is_clean() {
            cx.input.file_err(
                "the scenario is incomplete",
                "see the scenario format in the README (incident lab)",
            );
        }
        cx.input.finish(s)
    }

    /// The value each asset puts at risk in base units: supply for mint classes, the locked
    /// balance for release classes.
    pub fn at_risk(&self, asset: &Asset) -> U256 {
        if self.incident.class.mints() {
            asset.supply
        } else {
            asset.locked
        }
    }

    /// Total USD of the attack steps, net of what the source side really paid.
    pub fn attack_usd(&self) -> f64 {
        self.steps
            .iter()
            .filter(|s| s.kind == StepKind::Attack)
            .filter_map(|s| {
                self.assets
                    .get(s.asset)
                    .map(|a| a.usd(s.amount.saturating_sub(a.to_dst(s.source_amount))))
            })
            .sum()
    }
}

/// A scenario's amounts: decimal strings, integers or floats, as incident reports give them.
type AmountText = ringfence_model::input::AmountText<true>;

type S = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawIncident {
    id: S,
    name: S,
    date: S,
    class: S,
    historical_loss_usd: Spanned<f64>,
    sources: Spanned<Vec<S>>,
    notes: Option<String>,
    block_time_s: Option<Spanned<u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAsset {
    symbol: S,
    decimals: Spanned<u8>,
    source_decimals: Option<Spanned<u8>>,
    price_usd: Spanned<f64>,
    supply: Option<Spanned<AmountText>>,
    locked: Option<Spanned<AmountText>>,
    fee_bps: Option<Spanned<i64>>,
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    t_s: Spanned<u64>,
    asset: S,
    amount: Option<Spanned<AmountText>>,
    action: Option<S>,
    rpc: Option<S>,
    source_amount: Option<Spanned<AmountText>>,
    recipient: Option<S>,
    kind: Option<S>,
    source_id: Option<S>,
    source_event: Option<S>,
    block: Option<u64>,
    note: Option<String>,
}

struct Cx {
    input: TomlInput,
}

impl Cx {
    fn err(
        &mut self,
        span: std::ops::Range<usize>,
        entity: Option<&str>,
        msg: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.input.err(Some(span), entity, msg, help);
    }

    fn parse(&mut self) -> Option<Scenario> {
        let text = self.input.file.text.clone();
        let (root, had_errors) = self.input.document(&text);
        if had_errors {
            // A partial parse would only add confusing follow-on errors.
            return None;
        }
        let mut incident = None;
        let mut raw_assets = Vec::new();
        let mut raw_steps = Vec::new();
        for (key, value) in root {
            let section = key.get_ref().as_ref();
            match section {
                "incident" => {
                    if !value.get_ref().is_table() {
                        self.err(
                            key.span(),
                            None,
                            "`incident` must be a table",
                            "write it as `[incident]` followed by `key = value` lines",
                        );
                        continue;
                    }
                    incident = self.entry::<RawIncident>("incident", &value);
                }
                "asset" | "step" => {
                    let Some(entries) = self.input.tables(section, key.span(), value, None) else {
                        continue;
                    };
                    for e in entries.iter() {
                        let span = e.span();
                        if section == "asset" {
                            if let Some(a) = self.entry::<RawAsset>("asset", e) {
                                raw_assets.push(a);
                            }
                        } else if let Some(s) = self.entry::<RawStep>("step", e) {
                            raw_steps.push((span, s));
                        }
                    }
                }
                other => {
                    let help = match closest(other, &["incident", "asset", "step"]) {
                        Some(n) => format!(
                            "did you mean `{n}`? a scenario has `[incident]`, `[[asset]]` and `[[step]]`"
                        ),
                        None => {
                            "a scenario has `[incident]`, `[[asset]]` and `[[step]]`".to_owned()
                        }
                    };
                    self.err(key.span(), None, format!("unknown section `{other}`"), help);
                }
            }
        }
        let Some(inc) = incident else {
            if self.input.is_clean() {
                self.input.file_err("missing `[incident]`", "add an `[incident]` table with id, name, date, class, historical_loss_usd and sources");
            }
            return None;
        };
        let incident = self.incident(inc)?;
        let assets = self.assets(raw_assets, incident.class);
        if assets.is_empty() && self.input.is_clean() {
            self.input.file_err(
                "the scenario has no `[[asset]]`",
                "declare every asset the steps move with `[[asset]]`",
            );
        }
        let steps = self.steps(raw_steps, &assets, &incident);
        if steps.is_empty() && self.input.is_clean() {
            self.input.file_err(
                "the scenario has no `[[step]]`",
                "add the incident's malicious mints or releases as `[[step]]` entries",
            );
        }
        self.check_locked(&assets, &steps, incident.class);
        if let Some(a) = assets.iter().find(|a| a.scale() != assets[0].scale()) {
            self.input.file_err(
                format!(
                    "`{}` changes decimals by {} across the bridge, `{}` by {}",
                    a.symbol,
                    a.scale(),
                    assets[0].symbol,
                    assets[0].scale()
                ),
                "the lab replays one route, whose `match_on` has one decimal scale: give every asset the same `decimals` − `source_decimals`, or split the scenario",
            );
        }
        Some(Scenario {
            incident,
            assets,
            steps,
        })
    }

    fn entry<T: DeserializeOwned>(
        &mut self,
        section: &str,
        value: &Spanned<DeValue<'_>>,
    ) -> Option<T> {
        self.input.entry(value, section, None)
    }

    fn incident(&mut self, r: RawIncident) -> Option<Incident> {
        let id = r.id.get_ref().clone();
        let ent = Some(id.as_str());
        let mut ok = true;
        if id.is_empty()
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            self.err(
                r.id.span(),
                None,
                format!("`id` {id:?} must be non-empty letters, digits, `-` or `_`"),
                "use a slug such as `nomad-2022-08`",
            );
            ok = false;
        }
        let class = Class::parse(r.class.get_ref());
        if class.is_none() {
            let help = match closest(r.class.get_ref(), &CLASSES) {
                Some(n) => format!("did you mean `{n}`? the classes are {}", CLASSES.join(", ")),
                None => format!("the classes are {}", CLASSES.join(", ")),
            };
            self.err(
                r.class.span(),
                ent,
                format!("unknown class `{}`", r.class.get_ref()),
                help,
            );
        }
        if !valid_date(r.date.get_ref()) {
            self.err(
                r.date.span(),
                ent,
                format!("`date` {:?} is not YYYY-MM-DD", r.date.get_ref()),
                "write the date of the first malicious action, e.g. \"2022-08-01\"",
            );
            ok = false;
        }
        let loss = *r.historical_loss_usd.get_ref();
        if !(loss.is_finite() && loss >= 0.0) {
            self.err(
                r.historical_loss_usd.span(),
                ent,
                format!(
                    "`historical_loss_usd` is {loss}, but must be a finite amount zero or more"
                ),
                "give the loss in USD as history records it",
            );
            ok = false;
        }
        if r.sources.get_ref().is_empty()
            || r.sources
                .get_ref()
                .iter()
                .any(|s| s.get_ref().trim().is_empty())
        {
            self.err(
                r.sources.span(),
                ent,
                "`sources` must list at least one non-empty source",
                "cite where the timeline comes from (URL, repository@commit path)",
            );
            ok = false;
        }
        let block_time_s = match r.block_time_s {
            Some(b) if *b.get_ref() == 0 => {
                self.err(
                    b.span(),
                    ent,
                    "`block_time_s` must be at least 1",
                    "give the attacked chain's block time in seconds",
                );
                ok = false;
                12
            }
            Some(b) => *b.get_ref(),
            None => 12,
        };
        let class = class?;
        ok.then(|| Incident {
            id,
            name: r.name.into_inner(),
            date: r.date.into_inner(),
            class,
            historical_loss_usd: loss,
            sources: r
                .sources
                .into_inner()
                .into_iter()
                .map(Spanned::into_inner)
                .collect(),
            notes: r.notes,
            block_time_s,
        })
    }

    fn amount(
        &mut self,
        a: &Spanned<AmountText>,
        decimals: u8,
        what: &str,
        entity: &str,
    ) -> Option<U256> {
        match parse_units(&a.get_ref().0, decimals) {
            Some(v) => Some(v),
            None => {
                self.err(
                    a.span(),
                    Some(entity),
                    format!("`{what}` {:?} is not an amount in token units with at most {decimals} decimals", a.get_ref().0),
                    "write a non-negative decimal, e.g. 100, 0.01 or \"202440.725413\" (strings keep every digit exact)",
                );
                None
            }
        }
    }

    fn assets(&mut self, raw: Vec<RawAsset>, class: Class) -> Vec<Asset> {
        let mut out: Vec<Asset> = Vec::new();
        for r in raw {
            let sym = r.symbol.get_ref().clone();
            let mut ok = true;
            if sym.is_empty() || sym.len() > 31 || !sym.chars().all(|c| c.is_ascii_graphic()) {
                self.err(
                    r.symbol.span(),
                    None,
                    format!("`symbol` {sym:?} must be 1 to 31 printable ASCII characters"),
                    "use the token's ticker, e.g. \"WBTC\"",
                );
                ok = false;
            }
            if out.iter().any(|a| a.symbol == sym) {
                self.err(
                    r.symbol.span(),
                    Some(&sym),
                    format!("asset `{sym}` is declared twice"),
                    "declare each asset once",
                );
                ok = false;
            }
            let decimals = *r.decimals.get_ref();
            if decimals > 36 {
                self.err(
                    r.decimals.span(),
                    Some(&sym),
                    format!("`decimals` is {decimals}, more than 36"),
                    "ERC-20 tokens use 0 to 36 decimals (most 6, 8 or 18)",
                );
                ok = false;
            }
            let source_decimals = match &r.source_decimals {
                None => decimals,
                Some(d) if *d.get_ref() <= 36 => *d.get_ref(),
                Some(d) => {
                    self.err(
                        d.span(),
                        Some(&sym),
                        format!("`source_decimals` is {}, more than 36", d.get_ref()),
                        "the source token's ERC-20 decimals: 0 to 36 (most 6, 8 or 18)",
                    );
                    ok = false;
                    decimals
                }
            };
            let price = *r.price_usd.get_ref();
            if !(price.is_finite() && price > 0.0) {
                self.err(
                    r.price_usd.span(),
                    Some(&sym),
                    format!("`price_usd` is {price}, but must be a positive finite price"),
                    "give the USD price per whole token at the time of the incident",
                );
                ok = false;
            }
            let supply = match &r.supply {
                Some(s) => self.amount(s, decimals.min(36), "supply", &sym),
                None => Some(U256::ZERO),
            };
            let locked = match &r.locked {
                Some(s) => self.amount(s, decimals.min(36), "locked", &sym),
                None => Some(U256::ZERO),
            };
            if class.mints() && supply == Some(U256::ZERO) {
                let span = r
                    .supply
                    .as_ref()
                    .map_or_else(|| r.symbol.span(), Spanned::span);
                self.err(span, Some(&sym), format!("a `{}` scenario needs the asset's pre-incident `supply` (above zero)", class.name()), "set `supply` to the token's supply just before the first malicious mint; limits are shares of it");
                ok = false;
            }
            if !class.mints() && locked == Some(U256::ZERO) {
                let span = r
                    .locked
                    .as_ref()
                    .map_or_else(|| r.symbol.span(), Spanned::span);
                self.err(span, Some(&sym), format!("a `{}` scenario needs the balance the lockbox held at t0 in `locked` (above zero)", class.name()), "set `locked` to the attacked lockbox's balance of this asset just before the first malicious release");
                ok = false;
            }
            let fee_bps = match r
                .fee_bps
                .as_ref()
                .map(|f| (f, FieldTolerance::checked(0, *f.get_ref())))
            {
                None => 0,
                Some((_, Ok(t))) => t.fee_bps,
                Some((f, Err((message, fix)))) => {
                    self.err(f.span(), Some(&sym), message, fix);
                    ok = false;
                    0
                }
            };
            if let (true, Some(supply), Some(locked)) = (ok, supply, locked) {
                out.push(Asset {
                    symbol: sym,
                    decimals,
                    source_decimals,
                    price_usd: price,
                    supply,
                    locked,
                    source: r.source,
                    fee_bps,
                });
            }
        }
        out
    }

    /// Checks every step (each against the assets) and sorts the valid ones by time.
    fn steps(
        &mut self,
        raw: Vec<(std::ops::Range<usize>, RawStep)>,
        assets: &[Asset],
        incident: &Incident,
    ) -> Vec<Step> {
        let symbols: Vec<&str> = assets.iter().map(|a| a.symbol.as_str()).collect();
        let mut out = Vec::new();
        for (span, r) in raw {
            if let Some(step) = self.step(&span, &r, &symbols, assets) {
                out.push(step);
            }
        }
        let _ = incident;
        out.sort_by_key(|s| s.t_s);
        out
    }

    /// One step, or `None` when it has an error (recorded). The fields are checked in a fixed
    /// order; an error that makes the rest meaningless stops the step there.
    fn step(
        &mut self,
        span: &std::ops::Range<usize>,
        r: &RawStep,
        symbols: &[&str],
        assets: &[Asset],
    ) -> Option<Step> {
        let _ = &r.note;
        let line = self.input.file.line_col(span.start).0;
        let entity = format!("step at line {line}");
        let ai = self.step_asset(r, symbols, &entity)?;
        let asset = &assets[ai];
        let is_admin = r.kind.as_ref().is_some_and(|k| k.get_ref() == "admin");
        let action = self.step_action(span, r, is_admin, &entity)?;
        let rpc_poisoned = self.step_rpc(span, r, &entity)?;
        let amount = self.step_amount(span, r, is_admin, asset, &entity)?;
        let source_amount = match &r.source_amount {
            Some(s) => self.amount(s, asset.source_decimals, "source_amount", &entity),
            None => Some(U256::ZERO),
        };
        let kind = self.step_kind(span, r, &entity);
        let recipient = self.step_recipient(r, &entity);
        let source_id = self.step_source_id(r, &entity);
        let source_claims_amount = self.step_source_event(span, r, &entity)?;
        let fee = FieldTolerance {
            scale: asset.scale(),
            fee_bps: asset.fee_bps,
        };
        if let (StepKind::Benign, Some(sa), Some(a)) =
            (kind.unwrap_or(StepKind::Attack), source_amount, amount)
            && r.source_amount.is_some()
            && !fee.matches(B256::from(sa), B256::from(a))
        {
            let span = r.source_amount.as_ref().map_or(span.clone(), Spanned::span);
            self.err(span, Some(&entity), format!("a benign step is locked in full: `amount` must be `source_amount` less at most the asset's fee ({} bps)", asset.fee_bps), "remove `source_amount` from the benign step, or set the asset's `fee_bps`");
            return None;
        }
        let (Some(amount), Some(source_amount), Some(kind), Some(recipient), Some(source_id)) =
            (amount, source_amount, kind, recipient, source_id)
        else {
            return None;
        };
        let source_amount = if kind == StepKind::Benign && r.source_amount.is_none() {
            asset.to_src(amount)
        } else {
            source_amount
        };
        if asset.to_dst(source_amount) > amount {
            let span = r.source_amount.as_ref().map_or(span.clone(), Spanned::span);
            self.err(
                span,
                Some(&entity),
                "`source_amount` is larger than `amount`",
                "an exploit step gets more than the source paid; otherwise it is not an attack",
            );
            return None;
        }
        Some(Step {
            t_s: *r.t_s.get_ref(),
            asset: ai,
            amount,
            source_amount,
            recipient,
            kind,
            source_id,
            block: r.block,
            source_claims_amount,
            action,
            rpc_poisoned,
            line,
        })
    }

    /// The index of the step's asset among the declared ones.
    fn step_asset(&mut self, r: &RawStep, symbols: &[&str], entity: &str) -> Option<usize> {
        let found = symbols
            .iter()
            .position(|s| *s == r.asset.get_ref().as_str());
        if found.is_none() {
            let help = match closest(r.asset.get_ref(), symbols) {
                Some(n) => format!("did you mean `{n}`? otherwise declare it with `[[asset]]`"),
                None => format!(
                    "declare `{}` with `[[asset]]`, or use one of: {}",
                    r.asset.get_ref(),
                    symbols.join(", ")
                ),
            };
            self.err(
                r.asset.span(),
                Some(entity),
                format!("unknown asset `{}`", r.asset.get_ref()),
                help,
            );
        }
        found
    }

    /// The admin action: required on an `admin` step, refused on any other; `None` on an error.
    fn step_action(
        &mut self,
        span: &std::ops::Range<usize>,
        r: &RawStep,
        is_admin: bool,
        entity: &str,
    ) -> Option<Option<AdminAction>> {
        match (&r.action, is_admin) {
            (None, false) => Some(None),
            (Some(a), true) => match AdminAction::parse(a.get_ref()) {
                Some(x) => Some(Some(x)),
                None => {
                    let help = match closest(a.get_ref(), &ADMIN_ACTIONS) {
                        Some(n) => format!(
                            "did you mean `{n}`? the actions are {}",
                            ADMIN_ACTIONS.join(", ")
                        ),
                        None => format!("the actions are {}", ADMIN_ACTIONS.join(", ")),
                    };
                    self.err(
                        a.span(),
                        Some(entity),
                        format!("unknown admin action `{}`", a.get_ref()),
                        help,
                    );
                    None
                }
            },
            (None, true) => {
                self.err(
                    span.clone(),
                    Some(entity),
                    "an `admin` step needs an `action`",
                    format!("add `action = \"…\"`, one of {}", ADMIN_ACTIONS.join(", ")),
                );
                None
            }
            (Some(a), false) => {
                self.err(
                    a.span(),
                    Some(entity),
                    "`action` belongs to `kind = \"admin\"` steps",
                    "add `kind = \"admin\"` or remove `action`",
                );
                None
            }
        }
    }

    /// Whether the verifiers' RPC is poisoned; `None` on an unknown value.
    fn step_rpc(
        &mut self,
        span: &std::ops::Range<usize>,
        r: &RawStep,
        entity: &str,
    ) -> Option<bool> {
        match r.rpc.as_ref().map(|k| k.get_ref().as_str()) {
            None | Some("honest") => Some(false),
            Some("poisoned") => Some(true),
            Some(other) => {
                let span = r.rpc.as_ref().map_or(span.clone(), Spanned::span);
                self.err(span, Some(entity), format!("unknown rpc `{other}`"), "use `poisoned` (the attacker feeds the verifiers' RPC endpoints a source event that never happened) or leave it out");
                None
            }
        }
    }

    /// The amount: required and non-zero on a token step, zero on an `admin` step; the outer
    /// `None` stops the step, the inner one is an amount that did not parse (recorded).
    fn step_amount(
        &mut self,
        span: &std::ops::Range<usize>,
        r: &RawStep,
        is_admin: bool,
        asset: &Asset,
        entity: &str,
    ) -> Option<Option<U256>> {
        let amount = match (&r.amount, is_admin) {
            (Some(a), false) => self.amount(a, asset.decimals, "amount", entity),
            (None, true) => Some(U256::ZERO),
            (Some(a), true) => {
                self.err(
                    a.span(),
                    Some(entity),
                    "an `admin` step moves no tokens",
                    "remove `amount` from the admin step",
                );
                return None;
            }
            (None, false) => {
                self.err(
                    span.clone(),
                    Some(entity),
                    "the step has no `amount`",
                    "give the minted or released amount in token units",
                );
                return None;
            }
        };
        if !is_admin && amount == Some(U256::ZERO) {
            self.err(
                r.amount.as_ref().map_or(span.clone(), Spanned::span),
                Some(entity),
                "`amount` is zero",
                "give the minted or released amount (failed attempts are not steps)",
            );
            return None;
        }
        Some(amount)
    }

    /// The step kind (attack by default); `None` on an unknown kind (recorded).
    fn step_kind(
        &mut self,
        span: &std::ops::Range<usize>,
        r: &RawStep,
        entity: &str,
    ) -> Option<StepKind> {
        match r.kind.as_ref().map(|k| k.get_ref().as_str()) {
            None | Some("attack") => Some(StepKind::Attack),
            Some("benign") => Some(StepKind::Benign),
            Some("admin") => Some(StepKind::Admin),
            Some(other) => {
                let span = r.kind.as_ref().map_or(span.clone(), Spanned::span);
                self.err(
                    span,
                    Some(entity),
                    format!("unknown step kind `{other}`"),
                    "use `attack`, `benign` or `admin`",
                );
                None
            }
        }
    }

    /// The recipient, if given; `None` when it is not an address (recorded).
    fn step_recipient(&mut self, r: &RawStep, entity: &str) -> Option<Option<Address>> {
        match &r.recipient {
            None => Some(None),
            Some(a) => match Address::from_str(a.get_ref()) {
                Ok(x) => Some(Some(x)),
                Err(_) => {
                    self.err(
                        a.span(),
                        Some(entity),
                        format!("`recipient` {:?} is not an address", a.get_ref()),
                        "write a 0x-prefixed 20-byte hex address",
                    );
                    None
                }
            },
        }
    }

    /// The source message id, if given; `None` when it is not hex of at most 32 bytes (recorded).
    fn step_source_id(&mut self, r: &RawStep, entity: &str) -> Option<Option<B256>> {
        match &r.source_id {
            None => Some(None),
            Some(s) => {
                match parse_id(s.get_ref()) {
                    Some(x) => Some(Some(x)),
                    None => {
                        self.err(s.span(), Some(entity), format!("`source_id` {:?} is not 0x-prefixed hex of at most 32 bytes", s.get_ref()), "write the source message id or nonce as hex, e.g. \"0x6265616d000013d6\"");
                        None
                    }
                }
            }
        }
    }

    /// Whether the source event claims `amount` (rather than stating what was locked); `None`
    /// on an unknown value.
    fn step_source_event(
        &mut self,
        span: &std::ops::Range<usize>,
        r: &RawStep,
        entity: &str,
    ) -> Option<bool> {
        match r.source_event.as_ref().map(|k| k.get_ref().as_str()) {
            None | Some("locked") => Some(false),
            Some("claimed") => Some(true),
            Some(other) => {
                let span = r.source_event.as_ref().map_or(span.clone(), Spanned::span);
                self.err(span, Some(entity), format!("unknown source_event `{other}`"), "use `locked` (the source message states what was locked; default) or `claimed` (it claims `amount` while locking only `source_amount`)");
                None
            }
        }
    }

    /// Release classes: the lockbox must hold what the steps release.
    fn check_locked(&mut self, assets: &[Asset], steps: &[Step], class: Class) {
        if class.mints() {
            return;
        }
        for (i, a) in assets.iter().enumerate() {
            let total = steps
                .iter()
                .filter(|s| s.asset == i)
                .fold(U256::ZERO, |acc, s| acc.saturating_add(s.amount));
            if total > a.locked {
                self.input.file_err(
                    format!("the steps release {} {} in total but `locked` is only {}", a.fmt(total), a.symbol, a.fmt(a.locked)),
                    format!("raise `locked` of `{}` to at least {} (the lockbox cannot release more than it holds)", a.symbol, a.fmt(total)),
                );
            }
        }
    }
}

fn parse_id(s: &str) -> Option<B256> {
    let hex = s.strip_prefix("0x")?;
    if hex.is_empty() || hex.len() > 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let padded = format!("{hex:0>64}");
    B256::from_str(&padded).ok()
}

fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && matches!(s[5..7].parse::<u8>(), Ok(1..=12))
        && matches!(s[8..10].parse::<u8>(), Ok(1..=31))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[incident]
id = "resolv-usr-2026-03"
name = "Resolv USR unbacked mint"
date = "2026-03-22"
class = "unbacked-mint"
historical_loss_usd = 24000000
sources = ["https://example.org"]

[[asset]]
symbol = "USR"
decimals = 18
price_usd = 1.0
supply = 102000000

[[step]]
t_s = 4800
asset = "USR"
amount = 30000000
source_amount = 100000

[[step]]
t_s = 0
asset = "USR"
amount = 50000000
source_amount = "100000.5"
recipient = "0x8b1b6c9a6db1304000412dd21ae6a70a82d60d3b"
"#;

    fn parse(text: &str) -> Result<Scenario, Diagnostics> {
        Scenario::parse(&SourceFile::new("s.toml", text))
    }

    #[test]
    fn parses_the_issue_example_and_sorts_steps() {
        let s = parse(GOOD).expect("valid");
        assert_eq!(s.incident.class, Class::UnbackedMint);
        assert_eq!(s.steps.len(), 2);
        assert_eq!(s.steps[0].t_s, 0);
        assert_eq!(s.assets[0].fmt(s.steps[0].source_amount), "100000.5");
        assert!((s.attack_usd() - (49_899_999.5 + 29_900_000.0)).abs() < 1e-3);
    }

    #[test]
    fn errors_are_located_and_all_reported() {
        let text = GOOD
            .replace("class = \"unbacked-mint\"", "class = \"unbaked-mint\"")
            .replace(
                "asset = \"USR\"\namount = 30000000",
                "asset = \"USDR\"\namount = 30000000",
            )
            .replace("amount = 50000000", "amount = \"5e7\"")
            .replace("price_usd = 1.0", "price_usd = 1.0\ncolour = \"red\"");
        let d = parse(&text).expect_err("invalid");
        let all = d.to_string();
        assert!(
            all.contains("s.toml:6:9: `resolv-usr-2026-03`: unknown class `unbaked-mint`"),
            "{all}"
        );
        assert!(all.contains("did you mean `unbacked-mint`"), "{all}");
        assert!(all.contains("unknown field `colour`"), "{all}");
    }

    #[test]
    fn table_of_bad_values() {
        let cases = [
            ("amount = 30000000", "amount = -3", "not an amount"),
            ("supply = 102000000", "supply = 0", "pre-incident `supply`"),
            ("decimals = 18", "decimals = 40", "more than 36"),
            ("t_s = 4800", "t_s = -1", "invalid value"),
            (
                "date = \"2026-03-22\"",
                "date = \"22/03/2026\"",
                "not YYYY-MM-DD",
            ),
            (
                "recipient = \"0x8b1b6c9a6db1304000412dd21ae6a70a82d60d3b\"",
                "recipient = \"0x12\"",
                "not an address",
            ),
            (
                "source_amount = 100000\n",
                "source_amount = 900000000\n",
                "larger than `amount`",
            ),
            (
                "sources = [\"https://example.org\"]",
                "sources = []",
                "at least one",
            ),
        ];
        for (from, to, want) in cases {
            assert!(GOOD.contains(from), "{from}");
            let d = parse(&GOOD.replacen(from, to, 1)).expect_err(to);
            assert!(d.to_string().contains(want), "{to}: {d}");
            assert!(
                d.iter()
                    .all(|x| x.line > 0 || x.message.contains("release")),
                "{to}: {d}"
            );
        }
    }

    #[test]
    fn release_classes_need_enough_locked() {
        let text = GOOD
            .replace("unbacked-mint", "forged-release")
            .replace("supply = 102000000", "locked = 1000");
        let d = parse(&text).expect_err("over-release");
        assert!(d.to_string().contains("raise `locked`"), "{d}");
    }

    #[test]
    fn ids_are_left_padded() {
        let id = parse_id("0x6265616d000013d6").expect("hex");
        assert_eq!(&id[24..], &[0x62, 0x65, 0x61, 0x6d, 0, 0, 0x13, 0xd6]);
        assert!(parse_id("6265").is_none());
        assert!(parse_id(&format!("0x{}", "1".repeat(65))).is_none());
    }
}
