//! The validated model: every reference resolved to a dense index, every number in range, backing
//! acyclic and in topological order. Analyses take a [`Model`], never a raw [`Spec`].

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::path::Path;

use petgraph::graph::{DiGraph, NodeIndex};

use crate::component::{Component, ComponentIdx, ComponentKind, hosting_id, org_id};
use crate::diag::closest;
use crate::diag::{Diagnostics, SourceFile};
use crate::load::{parse_file, read_sources};
use crate::spec::{self, KeyKind, Oracle, Ref, Seniority, Spec};

/// The hasher of the model's id maps.
type IdHasher = foldhash::fast::RandomState;

/// Tolerance for sums of shares, so that `0.1 + 0.2 + 0.7` is accepted as 1.
pub const SHARE_EPSILON: f64 = 1e-9;

/// The kinds of entity a spec declares with an id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// `[[chain]]`
    Chain,
    /// `[[operator]]`
    Operator,
    /// `[[verifier_set]]`
    VerifierSet,
    /// `[[key]]`
    Key,
    /// `[[layer]]`
    Layer,
    /// `[[asset]]`
    Asset,
    /// `[[protocol]]`
    Protocol,
    /// `[[policy]]`
    Policy,
}

impl EntityKind {
    /// The section name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chain => "chain",
            Self::Operator => "operator",
            Self::VerifierSet => "verifier_set",
            Self::Key => "key",
            Self::Layer => "layer",
            Self::Asset => "asset",
            Self::Protocol => "protocol",
            Self::Policy => "policy",
        }
    }
}

/// A resolved operator.
#[derive(Clone, Debug, PartialEq)]
pub struct OperatorNode {
    /// Its component.
    pub component: ComponentIdx,
    /// The component of its organisation.
    pub org: ComponentIdx,
    /// The component of its hosting provider.
    pub hosting: ComponentIdx,
}

/// A resolved verifier set.
#[derive(Clone, Debug, PartialEq)]
pub struct VerifierSetNode {
    /// Its component.
    pub component: ComponentIdx,
    /// How many members must agree.
    pub threshold: u32,
    /// Indices into [`Model::operators`].
    pub members: Vec<usize>,
}

/// A resolved key.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyNode {
    /// Its component.
    pub component: ComponentIdx,
    /// How it is held.
    pub kind: KeyKind,
    /// Its hosting component, if given.
    pub hosting: Option<ComponentIdx>,
    /// Signature threshold (multisig, mpc).
    pub threshold: u32,
    /// Indices into [`Model::operators`] (multisig, mpc).
    pub signers: Vec<usize>,
    /// Timelock in seconds, if any.
    pub timelock_s: Option<u64>,
}

/// A resolved layer.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerNode {
    /// Its component.
    pub component: ComponentIdx,
    /// Index into [`Model::verifier_sets`].
    pub verifier_set: usize,
    /// Index into [`Model::keys`].
    pub admin: Option<usize>,
}

/// A resolved route.
#[derive(Clone, Debug, PartialEq)]
pub struct RouteNode {
    /// Index into [`Model::layers`].
    pub layer: usize,
    /// Index into [`Model::verifier_sets`]: the override, else the layer's default.
    pub verifier_set: usize,
    /// Index into [`Model::chains`], if the source chain is given.
    pub source: Option<usize>,
    /// `(capacity, refill_per_s)` in token units.
    pub rate_limit: Option<(f64, f64)>,
}

/// A resolved asset.
#[derive(Clone, Debug, PartialEq)]
pub struct AssetNode {
    /// Its id.
    pub id: String,
    /// Its kind.
    pub kind: spec::AssetKind,
    /// Index into [`Model::chains`].
    pub chain: usize,
    /// Price in USD.
    pub price_usd: f64,
    /// Supply in token units.
    pub supply: f64,
    /// `price_usd × supply`.
    pub value_usd: f64,
    /// `(index into Model::assets, share)`.
    pub backing: Vec<(usize, f64)>,
    /// Index into [`Model::keys`].
    pub mint_authority: Option<usize>,
    /// `(amount, window_s)`.
    pub mint_cap: Option<(f64, u64)>,
    /// How it is bridged.
    pub route: Option<RouteNode>,
    /// Market depth in USD.
    pub depth_usd: Option<f64>,
}

/// What an uncertainty range applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeTarget {
    /// Index into [`Model::assets`].
    Asset(usize),
    /// Index into [`Model::protocols`].
    Protocol(usize),
    /// `(protocol, market index within it)`.
    Market(usize, usize),
}

/// A validated uncertainty range: the value on the entity lies in `[low, high]`.
#[derive(Clone, Debug, PartialEq)]
pub struct RangeNode {
    /// The entity.
    pub target: RangeTarget,
    /// The field, one of [`ASSET_RANGE_FIELDS`], [`PROTOCOL_RANGE_FIELDS`] or
    /// [`MARKET_RANGE_FIELDS`].
    pub field: String,
    /// The central value, as written on the entity.
    pub value: f64,
    /// Lowest plausible value.
    pub low: f64,
    /// Highest plausible value.
    pub high: f64,
    /// Where the range comes from.
    pub source: Option<String>,
}

/// Fields of an asset that may carry a range.
pub const ASSET_RANGE_FIELDS: &[&str] = &["price_usd", "supply", "depth_usd"];
/// Fields of a protocol that may carry a range.
pub const PROTOCOL_RANGE_FIELDS: &[&str] = &[
    "deposits_usd",
    "outflow_sensitivity",
    "liquid_share",
    "capital_usd",
    "external_assets_usd",
];
/// Fields of a lending market that may carry a range.
pub const MARKET_RANGE_FIELDS: &[&str] = &[
    "collateral_amount",
    "debt_amount",
    "liquidation_threshold",
    "liquidation_bonus",
];

/// A resolved lending market.
#[derive(Clone, Debug, PartialEq)]
pub struct MarketNode {
    /// Index into [`Model::assets`].
    pub collateral: usize,
    /// Token units.
    pub collateral_amount: f64,
    /// Index into [`Model::assets`].
    pub debt_asset: usize,
    /// Token units.
    pub debt_amount: f64,
    /// In (0, 1].
    pub liquidation_threshold: f64,
    /// Multiplier, at least 1.
    pub liquidation_bonus: f64,
    /// How collateral is priced.
    pub oracle: Oracle,
    /// Its name, if given.
    pub id: Option<String>,
    /// Positions by health factor: `(health factor, share of debt)`, shares summing to 1; empty
    /// when the spec gives none.
    pub positions: Vec<(f64, f64)>,
}

/// A resolved protocol.
#[derive(Clone, Debug, PartialEq)]
pub struct ProtocolNode {
    /// Its id.
    pub id: String,
    /// What it does.
    pub kind: spec::ProtocolKind,
    /// Index into [`Model::chains`].
    pub chain: usize,
    /// `(index into Model::assets, token units)`.
    pub holdings: Vec<(usize, f64)>,
    /// USD.
    pub external_assets_usd: f64,
    /// USD.
    pub external_liabilities_usd: f64,
    /// Rank of external liabilities.
    pub seniority: Seniority,
    /// USD equity buffer, if given.
    pub capital_usd: Option<f64>,
    /// USD.
    pub deposits_usd: f64,
    /// Outflow per unit of relative loss.
    pub outflow_sensitivity: f64,
    /// Share of deposits payable without selling, if given.
    pub liquid_share: Option<f64>,
    /// Liquidation rules of its markets.
    pub liquidation: spec::Liquidation,
    /// Lending markets.
    pub markets: Vec<MarketNode>,
}

/// A resolved claim.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimNode {
    /// Index into [`Model::protocols`].
    pub debtor: usize,
    /// Index into [`Model::protocols`].
    pub creditor: usize,
    /// USD.
    pub amount_usd: f64,
}

/// What a policy limits.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicyTarget {
    /// Every component of a kind.
    Kind(ComponentKind),
    /// One component.
    Component(ComponentIdx),
}

/// A resolved policy.
#[derive(Clone, Debug, PartialEq)]
pub struct PolicyNode {
    /// Its id.
    pub id: String,
    /// `None` for the ecosystem, else an index into [`Model::protocols`].
    pub scope: Option<usize>,
    /// What it limits.
    pub target: PolicyTarget,
    /// The largest share allowed.
    pub max_share: f64,
    /// Which value counts.
    pub basis: spec::Basis,
}

/// A validated ecosystem.
#[derive(Clone, Debug)]
pub struct Model {
    /// The files it was read from (one virtual file for a spec built in code).
    pub files: Vec<SourceFile>,
    /// The merged spec, as written.
    pub spec: Spec,
    /// Every component: chains, layers, verifier sets, operators, keys, orgs, hostings.
    pub components: Vec<Component>,
    /// Component index of each chain, by chain index.
    pub chains: Vec<ComponentIdx>,
    /// Operators, in spec order.
    pub operators: Vec<OperatorNode>,
    /// Verifier sets, in spec order.
    pub verifier_sets: Vec<VerifierSetNode>,
    /// Keys, in spec order.
    pub keys: Vec<KeyNode>,
    /// Layers, in spec order.
    pub layers: Vec<LayerNode>,
    /// Assets, in spec order.
    pub assets: Vec<AssetNode>,
    /// Protocols, in spec order.
    pub protocols: Vec<ProtocolNode>,
    /// Claims, in spec order.
    pub claims: Vec<ClaimNode>,
    /// Policies, in spec order.
    pub policies: Vec<PolicyNode>,
    /// Uncertainty ranges of stress inputs, in spec order.
    pub ranges: Vec<RangeNode>,
    /// Asset indices such that every asset comes after everything that backs it.
    pub backing_order: Vec<usize>,
    component_by_id: HashMap<String, ComponentIdx>,
    asset_by_id: HashMap<String, usize>,
    /// By id. foldhash (hashbrown's default hasher) rather than SipHash: a table of 100,000
    /// protocols is added row by row (`add_protocol`), two lookups and an insert each.
    protocol_by_id: HashMap<String, usize, IdHasher>,
    /// Where each entity id was declared: file index and byte offset of its `id`.
    declared: HashMap<String, (usize, usize), IdHasher>,
}

impl Model {
    /// Where the entity `id` is declared: its file, line and column (1-based), for reports that
    /// point at the spec (SARIF). `None` for ids a file did not declare (`org:`/`hosting:`
    /// components, specs built in code).
    pub fn location(&self, id: &str) -> Option<(&Path, usize, usize)> {
        let &(file, offset) = self.declared.get(id)?;
        let f = self.files.get(file)?;
        if f.text.is_empty() {
            return None;
        }
        let (line, col) = f.line_col(offset);
        Some((f.path.as_path(), line, col))
    }

    /// Loads and validates a spec file or a directory of `*.toml` spec files.
    pub fn load(path: &Path) -> Result<Self, Diagnostics> {
        let files = read_sources(path)?;
        Self::from_sources(files)
    }

    /// Parses and validates spec text, naming it `label` in diagnostics.
    pub fn from_str(label: &str, text: &str) -> Result<Self, Diagnostics> {
        Self::from_sources(vec![SourceFile::new(label, text)])
    }

    /// Validates a spec built in code (an importer's output, a generator's).
    pub fn from_spec(label: &str, spec: Spec) -> Result<Self, Diagnostics> {
        Validator::new(vec![SourceFile::new(label, "")], vec![spec]).run()
    }

    /// Parses and validates already-read files.
    pub fn from_sources(files: Vec<SourceFile>) -> Result<Self, Diagnostics> {
        let mut diags = Diagnostics::default();
        let mut broken = HashSet::new();
        let specs: Vec<Spec> = files
            .iter()
            .map(|f| parse_file(f, &mut diags, &mut broken))
            .collect();
        let mut v = Validator::new(files, specs);
        v.broken = broken;
        match v.run() {
            Ok(m) => diags.into_result(m),
            Err(more) => {
                diags.0.extend(more.0);
                Err(diags.sorted())
            }
        }
    }

    /// The component with this id (`org:`/`hosting:` prefixed for those kinds).
    pub fn component(&self, id: &str) -> Option<ComponentIdx> {
        self.component_by_id.get(id).copied()
    }

    /// The asset with this id.
    pub fn asset(&self, id: &str) -> Option<usize> {
        self.asset_by_id.get(id).copied()
    }

    /// The protocol with this id.
    pub fn protocol(&self, id: &str) -> Option<usize> {
        self.protocol_by_id.get(id).copied()
    }

    /// Sum of every asset's value, in USD.
    pub fn total_value_usd(&self) -> f64 {
        self.assets.iter().map(|a| a.value_usd).sum()
    }

    /// Whether `id` already names an entity or a component (ids are unique across all kinds).
    pub fn has_id(&self, id: &str) -> bool {
        // Every component but orgs and hostings (`org:`/`hosting:` prefixed) is a declared entity.
        self.declared.contains_key(id)
            || self.protocol_by_id.contains_key(id)
            || ((id.starts_with("org:") || id.starts_with("hosting:"))
                && self.component_by_id.contains_key(id))
    }

    /// Makes room for `protocols` more protocols and `claims` more claims (before
    /// [`Model::add_protocol`] and [`Model::add_claim`] of a large table).
    pub fn reserve(&mut self, protocols: usize, claims: usize) {
        self.protocols.reserve(protocols);
        self.protocol_by_id.reserve(protocols);
        self.claims.reserve(claims);
    }

    /// The index into [`Model::chains`] of the chain with this id.
    pub fn chain_index(&self, id: &str) -> Option<usize> {
        let c = self.component(id)?;
        self.chains.iter().position(|&x| x == c)
    }

    /// Adds a protocol read from a table beside the spec (`ringfence stress --protocols`), with
    /// the checks a `[[protocol]]` gets: a new, non-empty, unprefixed id, a known chain, amounts
    /// finite and non-negative, `liquid_share` in [0, 1], holdings of known assets. Tables carry
    /// no lending markets (write those in the spec). The row is added to [`Model::protocols`], not
    /// to [`Model::spec`]. Returns its index.
    pub fn add_protocol(&mut self, node: ProtocolNode) -> Result<usize, RowError> {
        if node.id.is_empty() {
            return Err(RowError::EmptyId);
        }
        if node.id.starts_with("org:") || node.id.starts_with("hosting:") {
            return Err(RowError::ReservedId(node.id));
        }
        // Declared by the spec (org/hosting ids were refused above); a protocol added before is
        // caught by the insert below.
        if self.declared.contains_key(&node.id) {
            return Err(RowError::Duplicate(node.id));
        }
        if node.chain >= self.chains.len() {
            return Err(RowError::NoChain(node.chain));
        }
        for (field, v) in [
            ("external_assets_usd", node.external_assets_usd),
            ("external_liabilities_usd", node.external_liabilities_usd),
            ("deposits_usd", node.deposits_usd),
            ("outflow_sensitivity", node.outflow_sensitivity),
            ("capital_usd", node.capital_usd.unwrap_or(0.0)),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return Err(RowError::OutOfRange {
                    field,
                    value: v,
                    range: "zero or more (never negative)",
                });
            }
        }
        if let Some(l) = node.liquid_share
            && !(l.is_finite() && (0.0..=1.0).contains(&l))
        {
            return Err(RowError::OutOfRange {
                field: "liquid_share",
                value: l,
                range: "between 0 and 1",
            });
        }
        for &(a, units) in &node.holdings {
            if a >= self.assets.len() {
                return Err(RowError::NoAsset(a));
            }
            if !(units.is_finite() && units >= 0.0) {
                return Err(RowError::OutOfRange {
                    field: "holdings.amount",
                    value: units,
                    range: "zero or more (never negative)",
                });
            }
        }
        if !node.markets.is_empty() {
            return Err(RowError::Markets);
        }
        let i = self.protocols.len();
        match self.protocol_by_id.entry(node.id.clone()) {
            std::collections::hash_map::Entry::Occupied(_) => {
                return Err(RowError::Duplicate(node.id));
            }
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(i);
            }
        }
        self.protocols.push(node);
        Ok(i)
    }

    /// Adds a claim read from a table beside the spec (`ringfence stress --claims`), with the
    /// checks a `[[claim]]` gets: two different known protocols, an amount finite and
    /// non-negative. Added to [`Model::claims`], not to [`Model::spec`].
    pub fn add_claim(&mut self, claim: ClaimNode) -> Result<(), RowError> {
        self.check_claim(&claim)?;
        self.claims.push(claim);
        Ok(())
    }

    /// The checks of [`Model::add_claim`], without adding (for readers that check rows in
    /// parallel, then add them in order).
    pub fn check_claim(&self, claim: &ClaimNode) -> Result<(), RowError> {
        for p in [claim.debtor, claim.creditor] {
            if p >= self.protocols.len() {
                return Err(RowError::NoProtocol(p));
            }
        }
        if claim.debtor == claim.creditor {
            return Err(RowError::SelfClaim);
        }
        let v = claim.amount_usd;
        if !(v.is_finite() && v >= 0.0) {
            return Err(RowError::OutOfRange {
                field: "amount_usd",
                value: v,
                range: "zero or more (never negative)",
            });
        }
        Ok(())
    }
}

/// Why [`Model::add_protocol`] or [`Model::add_claim`] refused a row; the caller adds the file
/// and line.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RowError {
    /// The id is empty.
    #[error("the `id` is empty; give every protocol a unique, non-empty id")]
    EmptyId,
    /// The id has an `org:` or `hosting:` prefix.
    #[error(
        "the id `{0}` uses a prefix reserved for organisation and hosting components; rename it without `org:` / `hosting:`"
    )]
    ReservedId(String),
    /// The id is already used.
    #[error("duplicate id `{0}`: ids must be unique across the spec and the tables; rename one")]
    Duplicate(String),
    /// A chain index outside [`Model::chains`].
    #[error("chain index {0} is not a chain of the spec")]
    NoChain(usize),
    /// An asset index outside [`Model::assets`].
    #[error("asset index {0} is not an asset of the spec")]
    NoAsset(usize),
    /// A protocol index outside [`Model::protocols`].
    #[error("protocol index {0} is not a protocol of the spec or the tables")]
    NoProtocol(usize),
    /// A protocol from a table with lending markets.
    #[error("a protocol from a table has lending markets; write lending markets in the spec")]
    Markets,
    /// A claim whose debtor is its creditor.
    #[error("a protocol cannot owe itself; name two different protocols")]
    SelfClaim,
    /// A number out of its range.
    #[error("`{field}` is {value}, but must be {range}; set it to a value {range}")]
    OutOfRange {
        /// The column.
        field: &'static str,
        /// The value given.
        value: f64,
        /// The allowed range, in words.
        range: &'static str,
    },
}

/// Where an id was declared.
#[derive(Clone, Debug)]
struct Decl {
    kind: EntityKind,
    index: usize,
    file: usize,
    span: Range<usize>,
}

struct Validator {
    files: Vec<SourceFile>,
    specs: Vec<Spec>,
    diags: Diagnostics,
    ids: HashMap<String, Decl>,
    /// Ids of entries that failed to parse: references to them are not reported again.
    broken: HashSet<String>,
}

impl Validator {
    fn new(files: Vec<SourceFile>, specs: Vec<Spec>) -> Self {
        Self {
            files,
            specs,
            diags: Diagnostics::default(),
            ids: HashMap::new(),
            broken: HashSet::new(),
        }
    }

    fn err(
        &mut self,
        file: usize,
        span: &Range<usize>,
        entity: &str,
        message: String,
        help: String,
    ) {
        let span = (span.end > span.start || span.start > 0).then(|| span.clone());
        let d = self.files[file].diagnostic(span, Some(entity), message, help);
        self.diags.push(d);
    }

    fn declare(&mut self, file: usize, kind: EntityKind, index: usize, id: &Ref) {
        let name = id.get_ref();
        if name.is_empty() {
            self.err(
                file,
                &id.span(),
                name,
                format!("a `{}` has an empty id", kind.as_str()),
                "give it a unique, non-empty `id`".into(),
            );
            return;
        }
        if name.starts_with("org:") || name.starts_with("hosting:") {
            self.err(
                file,
                &id.span(),
                name,
                format!(
                    "the id `{name}` uses a prefix reserved for organisation and hosting components"
                ),
                "rename it without the `org:` / `hosting:` prefix".into(),
            );
        }
        if let Some(prev) = self.ids.get(name).cloned() {
            let (line, _) = self.files[prev.file].line_col(prev.span.start);
            let where_ = format!("{}:{line}", self.files[prev.file].path.display());
            self.err(
                file,
                &id.span(),
                name,
                format!(
                    "duplicate id `{name}`: already used by a `{}` at {where_}",
                    prev.kind.as_str()
                ),
                "ids must be unique across all kinds: rename one of them".into(),
            );
            return;
        }
        self.ids.insert(
            name.clone(),
            Decl {
                kind,
                index,
                file,
                span: id.span(),
            },
        );
    }

    /// Resolves a reference that must name an entity of `kind`.
    fn resolve(
        &mut self,
        file: usize,
        entity: &str,
        field: &str,
        r: &Ref,
        kind: EntityKind,
    ) -> Option<usize> {
        let name = r.get_ref();
        match self.ids.get(name) {
            Some(d) if d.kind == kind => Some(d.index),
            Some(d) => {
                let found = d.kind.as_str();
                self.err(
                    file,
                    &r.span(),
                    entity,
                    format!(
                        "`{field}` names `{name}`, which is a {found}, not a {}",
                        kind.as_str()
                    ),
                    format!("name a `[[{}]]` id here", kind.as_str()),
                );
                None
            }
            None if self.broken.contains(name) => None,
            None => {
                let known: Vec<&str> = self
                    .ids
                    .iter()
                    .filter(|(_, d)| d.kind == kind)
                    .map(|(k, _)| k.as_str())
                    .collect();
                let help = match closest(name, &known) {
                    Some(near) => format!(
                        "did you mean `{near}`? otherwise declare a `[[{}]]` with id `{name}`",
                        kind.as_str()
                    ),
                    None => format!(
                        "declare a `[[{}]]` with id `{name}`, or fix the reference",
                        kind.as_str()
                    ),
                };
                self.err(
                    file,
                    &r.span(),
                    entity,
                    format!("`{field}` refers to unknown {} `{name}`", kind.as_str()),
                    help,
                );
                None
            }
        }
    }

    /// Checks that a number lies in `[lo, hi]` (or `(lo, hi]` when `open_lo`) and is finite.
    #[allow(clippy::too_many_arguments)]
    fn range(
        &mut self,
        file: usize,
        entity: &str,
        field: &str,
        span: Range<usize>,
        v: f64,
        lo: f64,
        hi: f64,
        open_lo: bool,
    ) -> bool {
        let ok = v.is_finite() && (if open_lo { v > lo } else { v >= lo }) && v <= hi;
        if !ok {
            let range = match (open_lo, hi.is_infinite()) {
                (false, true) if lo == 0.0 => "zero or more (never negative)".to_owned(),
                (true, true) if lo == 0.0 => "more than zero".to_owned(),
                (_, true) => format!("at least {lo}"),
                (false, false) => format!("between {lo} and {hi}"),
                (true, false) => format!("above {lo} and at most {hi}"),
            };
            self.err(
                file,
                &span,
                entity,
                format!("`{field}` is {v}, but must be {range}"),
                format!("set `{field}` to a value {range}"),
            );
        }
        ok
    }

    fn nonneg(&mut self, file: usize, entity: &str, field: &str, v: &toml::Spanned<f64>) -> f64 {
        self.range(
            file,
            entity,
            field,
            v.span(),
            *v.get_ref(),
            0.0,
            f64::INFINITY,
            false,
        );
        *v.get_ref()
    }

    fn prob(&mut self, file: usize, entity: &str, id_span: Range<usize>, p: Option<f64>) {
        if let Some(p) = p {
            self.range(
                file,
                entity,
                "failure_probability",
                id_span,
                p,
                0.0,
                1.0,
                false,
            );
        }
    }

    fn run(mut self) -> Result<Model, Diagnostics> {
        let specs = std::mem::take(&mut self.specs);
        self.declare_all(&specs);
        let b = self.components(&specs);
        let mut m = Model {
            files: Vec::new(),
            spec: Spec::default(),
            components: Vec::new(),
            chains: Vec::new(),
            operators: Vec::new(),
            verifier_sets: Vec::new(),
            keys: Vec::new(),
            layers: Vec::new(),
            assets: Vec::new(),
            protocols: Vec::new(),
            claims: Vec::new(),
            policies: Vec::new(),
            ranges: Vec::new(),
            backing_order: Vec::new(),
            component_by_id: HashMap::new(),
            asset_by_id: HashMap::new(),
            protocol_by_id: HashMap::default(),
            declared: HashMap::default(),
        };

        // Pass 2: resolve and check every entity, kind by kind (each kind refers only to kinds
        // resolved before it).
        for (f, s) in specs.iter().enumerate() {
            for c in &s.chains {
                m.chains.push(b.get(c.id.get_ref()));
                if let Some(bt) = c.block_time_s {
                    self.range(
                        f,
                        c.id.get_ref(),
                        "block_time_s",
                        c.id.span(),
                        bt,
                        0.0,
                        f64::INFINITY,
                        true,
                    );
                }
            }
            for o in &s.operators {
                let node = self.check_operator(f, o, &b);
                m.operators.push(node);
            }
        }
        for (f, s) in specs.iter().enumerate() {
            for v in &s.verifier_sets {
                let node = self.check_verifier_set(f, v, &b);
                m.verifier_sets.push(node);
            }
            for k in &s.keys {
                let node = self.check_key(f, k, &b);
                m.keys.push(node);
            }
        }
        for (f, s) in specs.iter().enumerate() {
            for l in &s.layers {
                let node = self.check_layer(f, l, &b);
                m.layers.push(node);
            }
        }
        for (f, s) in specs.iter().enumerate() {
            for a in &s.assets {
                let node = self.check_asset(f, a, &m.layers);
                m.asset_by_id.insert(a.id.get_ref().clone(), m.assets.len());
                m.assets.push(node);
            }
        }
        for (f, s) in specs.iter().enumerate() {
            for p in &s.protocols {
                let node = self.check_protocol(f, p);
                m.protocol_by_id
                    .insert(p.id.get_ref().clone(), m.protocols.len());
                m.protocols.push(node);
            }
            for c in &s.claims {
                let node = self.check_claim(f, c);
                m.claims.push(node);
            }
        }
        for (f, s) in specs.iter().enumerate() {
            for p in &s.policies {
                let node = self.check_policy(f, p, &b);
                m.policies.push(node);
            }
        }
        for (f, s) in specs.iter().enumerate() {
            for r in &s.ranges {
                if let Some(node) = self.check_range(f, r, &m) {
                    m.ranges.push(node);
                }
            }
        }

        // Backing must be acyclic.
        m.backing_order = self.backing_order(&specs, &m.assets);

        if !self.diags.is_empty() {
            return Err(self.diags.sorted());
        }
        m.components = b.components;
        m.component_by_id = b.by_id;
        m.declared = self
            .ids
            .iter()
            .map(|(id, d)| (id.clone(), (d.file, d.span.start)))
            .collect();
        m.spec = merge(specs);
        m.files = self.files;
        Ok(m)
    }

    /// Pass 1: declares every id in the order written (so a duplicate is reported where it is
    /// written again), with merged indices per kind.
    fn declare_all(&mut self, specs: &[Spec]) {
        let mut counts = [0usize; 8];
        let mut decls: Vec<(usize, usize, EntityKind, usize, &Ref)> = Vec::new();
        for (f, s) in specs.iter().enumerate() {
            let ids: [(EntityKind, Vec<&Ref>); 8] = [
                (EntityKind::Chain, s.chains.iter().map(|e| &e.id).collect()),
                (
                    EntityKind::Operator,
                    s.operators.iter().map(|e| &e.id).collect(),
                ),
                (
                    EntityKind::VerifierSet,
                    s.verifier_sets.iter().map(|e| &e.id).collect(),
                ),
                (EntityKind::Key, s.keys.iter().map(|e| &e.id).collect()),
                (EntityKind::Layer, s.layers.iter().map(|e| &e.id).collect()),
                (EntityKind::Asset, s.assets.iter().map(|e| &e.id).collect()),
                (
                    EntityKind::Protocol,
                    s.protocols.iter().map(|e| &e.id).collect(),
                ),
                (
                    EntityKind::Policy,
                    s.policies.iter().map(|e| &e.id).collect(),
                ),
            ];
            for (slot, (kind, refs)) in ids.into_iter().enumerate() {
                for id in refs {
                    decls.push((f, id.span().start, kind, counts[slot], id));
                    counts[slot] += 1;
                }
            }
        }
        decls.sort_by_key(|&(f, at, ..)| (f, at));
        for (f, _, kind, i, id) in decls {
            self.declare(f, kind, i, id);
        }
    }

    /// The components: chains, layers, verifier sets, operators, keys, then orgs and hostings
    /// in order of first mention. Declared orgs and hostings give probabilities; a duplicate
    /// declaration is an error.
    fn components(&mut self, specs: &[Spec]) -> Builder {
        let mut b = Builder::default();
        for s in specs {
            for c in &s.chains {
                b.push(c.id.get_ref(), ComponentKind::Chain, None);
            }
        }
        for s in specs {
            for l in &s.layers {
                b.push(l.id.get_ref(), ComponentKind::Layer, l.failure_probability);
            }
        }
        for s in specs {
            for v in &s.verifier_sets {
                b.push(v.id.get_ref(), ComponentKind::VerifierSet, None);
            }
        }
        for s in specs {
            for o in &s.operators {
                b.push(
                    o.id.get_ref(),
                    ComponentKind::Operator,
                    o.failure_probability,
                );
            }
        }
        for s in specs {
            for k in &s.keys {
                b.push(k.id.get_ref(), ComponentKind::Key, k.failure_probability);
            }
        }
        let mut declared_orgs: HashMap<String, Option<f64>> = HashMap::new();
        let mut declared_hostings: HashMap<String, Option<f64>> = HashMap::new();
        for (f, s) in specs.iter().enumerate() {
            for o in &s.orgs {
                let id = org_id(o.id.get_ref());
                self.prob(f, &id, o.id.span(), o.failure_probability);
                if declared_orgs
                    .insert(id.clone(), o.failure_probability)
                    .is_some()
                {
                    self.err(
                        f,
                        &o.id.span(),
                        &id,
                        format!("duplicate `[[org]]` `{}`", o.id.get_ref()),
                        "declare each organisation once".into(),
                    );
                }
            }
            for h in &s.hostings {
                let id = hosting_id(h.id.get_ref());
                self.prob(f, &id, h.id.span(), h.failure_probability);
                if declared_hostings
                    .insert(id.clone(), h.failure_probability)
                    .is_some()
                {
                    self.err(
                        f,
                        &h.id.span(),
                        &id,
                        format!("duplicate `[[hosting]]` `{}`", h.id.get_ref()),
                        "declare each hosting provider once".into(),
                    );
                }
            }
        }
        for s in specs {
            for o in &s.operators {
                let id = org_id(o.org.get_ref());
                let p = declared_orgs.get(&id).copied().flatten();
                b.push(&id, ComponentKind::Org, p);
            }
            for o in &s.orgs {
                b.push(
                    &org_id(o.id.get_ref()),
                    ComponentKind::Org,
                    o.failure_probability,
                );
            }
        }
        for s in specs {
            let hostings = s
                .operators
                .iter()
                .map(|o| hosting_id(o.hosting.get_ref()))
                .chain(
                    s.keys
                        .iter()
                        .filter_map(|k| k.hosting.as_ref().map(|h| hosting_id(h.get_ref()))),
                );
            for id in hostings {
                let p = declared_hostings.get(&id).copied().flatten();
                b.push(&id, ComponentKind::Hosting, p);
            }
            for h in &s.hostings {
                b.push(
                    &hosting_id(h.id.get_ref()),
                    ComponentKind::Hosting,
                    h.failure_probability,
                );
            }
        }
        b
    }

    fn check_operator(&mut self, f: usize, o: &spec::Operator, b: &Builder) -> OperatorNode {
        let id = o.id.get_ref();
        for (field, v) in [("org", &o.org), ("hosting", &o.hosting)] {
            if v.get_ref().trim().is_empty() {
                self.err(
                    f,
                    &v.span(),
                    id,
                    format!("`{field}` is empty"),
                    format!("name the operator's {field}"),
                );
            }
        }
        self.prob(f, id, o.id.span(), o.failure_probability);
        OperatorNode {
            component: b.get(id),
            org: b.get(&org_id(o.org.get_ref())),
            hosting: b.get(&hosting_id(o.hosting.get_ref())),
        }
    }

    fn check_verifier_set(
        &mut self,
        f: usize,
        v: &spec::VerifierSet,
        b: &Builder,
    ) -> VerifierSetNode {
        let id = v.id.get_ref().as_str();
        let members = self.resolve_members(f, id, "members", &v.members);
        if v.threshold == 0 || v.threshold as usize > v.members.len() {
            self.err(
                f,
                &v.id.span(),
                id,
                format!(
                    "`threshold` is {} with {} member(s)",
                    v.threshold,
                    v.members.len()
                ),
                "the threshold must be at least 1 and at most the number of members".into(),
            );
        }
        VerifierSetNode {
            component: b.get(id),
            threshold: v.threshold,
            members,
        }
    }

    fn check_key(&mut self, f: usize, k: &spec::Key, b: &Builder) -> KeyNode {
        let id = k.id.get_ref().as_str();
        let signers = self.resolve_members(f, id, "signers", &k.signers);
        let threshold = match (k.kind.is_single(), k.threshold) {
            (true, None) if k.signers.is_empty() => 1,
            (true, _) => {
                self.err(
                    f,
                    &k.id.span(),
                    id,
                    format!(
                        "a `{}` key has no `threshold` or `signers`",
                        k.kind.as_str()
                    ),
                    "remove them, or make the key a `multisig` or `mpc`".into(),
                );
                1
            }
            (false, Some(t)) if t >= 1 && (t as usize) <= k.signers.len() => t,
            (false, t) => {
                self.err(
                    f,
                    &k.id.span(),
                    id,
                    format!(
                        "a `{}` key needs a `threshold` between 1 and its number of `signers` (threshold {}, {} signer(s))",
                        k.kind.as_str(),
                        t.map_or("missing".to_owned(), |t| t.to_string()),
                        k.signers.len()
                    ),
                    "set `threshold = k` and `signers = [operator ids]`".into(),
                );
                1
            }
        };
        self.prob(f, id, k.id.span(), k.failure_probability);
        KeyNode {
            component: b.get(id),
            kind: k.kind,
            hosting: k.hosting.as_ref().map(|h| b.get(&hosting_id(h.get_ref()))),
            threshold,
            signers,
            timelock_s: k.timelock_s,
        }
    }

    fn check_layer(&mut self, f: usize, l: &spec::Layer, b: &Builder) -> LayerNode {
        let id = l.id.get_ref().as_str();
        let vs = self.resolve(
            f,
            id,
            "verifier_set",
            &l.verifier_set,
            EntityKind::VerifierSet,
        );
        let admin = l
            .admin
            .as_ref()
            .and_then(|a| self.resolve(f, id, "admin", a, EntityKind::Key));
        self.prob(f, id, l.id.span(), l.failure_probability);
        LayerNode {
            component: b.get(id),
            verifier_set: vs.unwrap_or(usize::MAX),
            admin,
        }
    }

    fn check_claim(&mut self, f: usize, c: &spec::Claim) -> ClaimNode {
        let label = c
            .id
            .clone()
            .unwrap_or_else(|| format!("claim {} → {}", c.debtor.get_ref(), c.creditor.get_ref()));
        let debtor = self.resolve(f, &label, "debtor", &c.debtor, EntityKind::Protocol);
        let creditor = self.resolve(f, &label, "creditor", &c.creditor, EntityKind::Protocol);
        let amount = self.nonneg(f, &label, "amount_usd", &c.amount_usd);
        if c.debtor.get_ref() == c.creditor.get_ref() {
            self.err(
                f,
                &c.creditor.span(),
                &label,
                "a protocol cannot owe itself".into(),
                "name two different protocols".into(),
            );
        }
        ClaimNode {
            debtor: debtor.unwrap_or(usize::MAX),
            creditor: creditor.unwrap_or(usize::MAX),
            amount_usd: amount,
        }
    }

    fn resolve_members(&mut self, f: usize, entity: &str, field: &str, refs: &[Ref]) -> Vec<usize> {
        let mut out = Vec::with_capacity(refs.len());
        for r in refs {
            if let Some(i) = self.resolve(f, entity, field, r, EntityKind::Operator) {
                if out.contains(&i) {
                    self.err(
                        f,
                        &r.span(),
                        entity,
                        format!("`{}` is listed twice in `{field}`", r.get_ref()),
                        "list each operator once".into(),
                    );
                } else {
                    out.push(i);
                }
            }
        }
        out
    }

    fn check_asset(&mut self, f: usize, a: &spec::Asset, layers: &[LayerNode]) -> AssetNode {
        let id = a.id.get_ref().as_str();
        let chain = self.resolve(f, id, "chain", &a.chain, EntityKind::Chain);
        let price = self.nonneg(f, id, "price_usd", &a.price_usd);
        let supply = self.nonneg(f, id, "supply", &a.supply);
        let mut backing = Vec::with_capacity(a.backing.len());
        let mut sum = 0.0;
        for bk in &a.backing {
            let share = *bk.share.get_ref();
            self.range(f, id, "share", bk.share.span(), share, 0.0, 1.0, true);
            sum += share;
            if let Some(i) = self.resolve(f, id, "backing.asset", &bk.asset, EntityKind::Asset) {
                backing.push((i, share));
            }
        }
        if sum > 1.0 + SHARE_EPSILON {
            let span = a.backing.first().map_or(a.id.span(), |b| b.share.span());
            self.err(
                f,
                &span,
                id,
                format!("backing shares sum to {sum}, more than 1"),
                "the shares say which fraction of the value each asset backs: make them add up to at most 1".into(),
            );
        }
        let mint_authority = a
            .mint_authority
            .as_ref()
            .and_then(|k| self.resolve(f, id, "mint_authority", k, EntityKind::Key));
        let mint_cap = a.mint_cap.as_ref().map(|c| {
            let amount = self.nonneg(f, id, "mint_cap.amount", &c.amount);
            if c.window_s == 0 {
                self.err(
                    f,
                    &c.amount.span(),
                    id,
                    "`mint_cap.window_s` is 0".into(),
                    "give the cap's window in seconds, at least 1".into(),
                );
            }
            (amount, c.window_s)
        });
        let route = a.route.as_ref().map(|r| {
            let layer = self.resolve(f, id, "route.layer", &r.layer, EntityKind::Layer);
            let vs = match &r.verifier_set {
                Some(v) => self.resolve(f, id, "route.verifier_set", v, EntityKind::VerifierSet),
                None => layer.and_then(|l| layers.get(l)).map(|l| l.verifier_set),
            };
            let source = r
                .source
                .as_ref()
                .and_then(|s| self.resolve(f, id, "route.source", s, EntityKind::Chain));
            let rate_limit = r.rate_limit.as_ref().map(|rl| {
                (
                    self.nonneg(f, id, "route.rate_limit.capacity", &rl.capacity),
                    self.nonneg(f, id, "route.rate_limit.refill_per_s", &rl.refill_per_s),
                )
            });
            RouteNode {
                layer: layer.unwrap_or(usize::MAX),
                verifier_set: vs.unwrap_or(usize::MAX),
                source,
                rate_limit,
            }
        });
        let depth_usd = a.depth_usd.as_ref().map(|d| {
            self.range(
                f,
                id,
                "depth_usd",
                d.span(),
                *d.get_ref(),
                0.0,
                f64::INFINITY,
                true,
            );
            *d.get_ref()
        });
        AssetNode {
            id: id.to_owned(),
            kind: a.kind,
            chain: chain.unwrap_or(usize::MAX),
            price_usd: price,
            supply,
            value_usd: price * supply,
            backing,
            mint_authority,
            mint_cap,
            route,
            depth_usd,
        }
    }

    /// Checks a protocol: its chain, holdings, balance-sheet figures and lending markets.
    fn check_protocol(&mut self, f: usize, p: &spec::Protocol) -> ProtocolNode {
        let id = p.id.get_ref().as_str();
        let chain = self.resolve(f, id, "chain", &p.chain, EntityKind::Chain);
        let holdings = self.check_holdings(f, id, p);
        let span = p.id.span();
        self.check_protocol_figures(f, id, p);
        let mut markets = Vec::with_capacity(p.markets.len());
        for mk in &p.markets {
            if let Some(m) = self.check_market(f, id, mk) {
                markets.push(m);
            }
        }
        if !p.markets.is_empty()
            && p.kind != spec::ProtocolKind::Lending
            && p.kind != spec::ProtocolKind::Cdp
        {
            self.err(
                f,
                &span,
                id,
                format!("a `{}` protocol has lending markets", p.kind.as_str()),
                "markets belong to `kind = \"lending\"` or `\"cdp\"` protocols".into(),
            );
        }
        ProtocolNode {
            id: id.to_owned(),
            kind: p.kind,
            chain: chain.unwrap_or(usize::MAX),
            holdings,
            external_assets_usd: p.external_assets_usd,
            external_liabilities_usd: p.external_liabilities_usd,
            seniority: p.seniority,
            capital_usd: p.capital_usd,
            deposits_usd: p.deposits_usd,
            outflow_sensitivity: p.outflow_sensitivity,
            liquid_share: p.liquid_share,
            liquidation: p.liquidation,
            markets,
        }
    }

    /// A protocol's holdings: each a known asset and a non-negative amount.
    fn check_holdings(&mut self, f: usize, id: &str, p: &spec::Protocol) -> Vec<(usize, f64)> {
        let mut holdings = Vec::with_capacity(p.holdings.len());
        for h in &p.holdings {
            let amount = self.nonneg(f, id, "holdings.amount", &h.amount);
            if let Some(a) = self.resolve(f, id, "holdings.asset", &h.asset, EntityKind::Asset) {
                holdings.push((a, amount));
            }
        }
        holdings
    }

    /// A protocol's balance-sheet figures: non-negative, and a liquid share in [0, 1].
    fn check_protocol_figures(&mut self, f: usize, id: &str, p: &spec::Protocol) {
        let span = p.id.span();
        for (field, v) in [
            ("external_assets_usd", p.external_assets_usd),
            ("external_liabilities_usd", p.external_liabilities_usd),
            ("deposits_usd", p.deposits_usd),
            ("outflow_sensitivity", p.outflow_sensitivity),
            ("capital_usd", p.capital_usd.unwrap_or(0.0)),
        ] {
            self.range(f, id, field, span.clone(), v, 0.0, f64::INFINITY, false);
        }
        if let Some(l) = p.liquid_share {
            self.range(f, id, "liquid_share", span.clone(), l, 0.0, 1.0, false);
        }
    }

    /// One lending market: known assets, amounts, liquidation terms and positions; `None` when
    /// an asset is unknown (the error is recorded).
    fn check_market(&mut self, f: usize, id: &str, mk: &spec::Market) -> Option<MarketNode> {
        let collateral = self.resolve(
            f,
            id,
            "market.collateral",
            &mk.collateral,
            EntityKind::Asset,
        );
        let debt_asset = self.resolve(
            f,
            id,
            "market.debt_asset",
            &mk.debt_asset,
            EntityKind::Asset,
        );
        let collateral_amount =
            self.nonneg(f, id, "market.collateral_amount", &mk.collateral_amount);
        let debt_amount = self.nonneg(f, id, "market.debt_amount", &mk.debt_amount);
        let lt = *mk.liquidation_threshold.get_ref();
        self.range(
            f,
            id,
            "market.liquidation_threshold",
            mk.liquidation_threshold.span(),
            lt,
            0.0,
            1.0,
            true,
        );
        let bonus = *mk.liquidation_bonus.get_ref();
        self.range(
            f,
            id,
            "market.liquidation_bonus",
            mk.liquidation_bonus.span(),
            bonus,
            1.0,
            2.0,
            false,
        );
        let positions = self.check_positions(f, id, mk);
        let total: f64 = positions.iter().map(|x| x.1).sum();
        if !positions.is_empty() && (total - 1.0).abs() > 1e-6 {
            self.err(
                f,
                &mk.collateral.span(),
                id,
                format!("the position shares of a market sum to {total}, not 1"),
                "make `market.positions[].share` add up to 1".into(),
            );
        }
        let (Some(collateral), Some(debt_asset)) = (collateral, debt_asset) else {
            return None;
        };
        Some(MarketNode {
            collateral,
            collateral_amount,
            debt_asset,
            debt_amount,
            liquidation_threshold: lt,
            liquidation_bonus: bonus,
            oracle: mk.oracle,
            id: mk.id.clone(),
            positions,
        })
    }

    /// A market's position buckets (health factor, share), checked; their shares add up to 1.
    fn check_positions(&mut self, f: usize, id: &str, mk: &spec::Market) -> Vec<(f64, f64)> {
        let mut positions = Vec::with_capacity(mk.positions.len());
        for b in &mk.positions {
            let hf = *b.health_factor.get_ref();
            let share = *b.share.get_ref();
            self.range(
                f,
                id,
                "market.positions.health_factor",
                b.health_factor.span(),
                hf,
                1.0,
                1e6,
                false,
            );
            self.range(
                f,
                id,
                "market.positions.share",
                b.share.span(),
                share,
                0.0,
                1.0,
                true,
            );
            positions.push((hf, share));
        }
        positions
    }

    /// Checks an uncertainty range: a known entity and field that is set, finite
    /// `0 ≤ low ≤ value ≤ high`.
    fn check_range(&mut self, f: usize, r: &spec::InputRange, m: &Model) -> Option<RangeNode> {
        let entity = r.entity.get_ref().as_str();
        let field = r.field.get_ref().as_str();
        let label = format!("range {entity}.{field}");
        let (target, fields, value) = if let Some((p, mk)) = entity.split_once('/') {
            let Some(pi) = m.protocol_by_id.get(p).copied() else {
                self.err(
                    f,
                    &r.entity.span(),
                    &label,
                    format!("unknown protocol `{p}`"),
                    "write `protocol/market` with a declared protocol id".into(),
                );
                return None;
            };
            let markets = &m.protocols[pi].markets;
            let Some(mi) = markets.iter().position(|x| x.id.as_deref() == Some(mk)) else {
                let names: Vec<&str> = markets.iter().filter_map(|x| x.id.as_deref()).collect();
                self.err(
                    f,
                    &r.entity.span(),
                    &label,
                    format!("protocol `{p}` has no market `{mk}`"),
                    format!("its markets are: {}", names.join(", ")),
                );
                return None;
            };
            let x = &markets[mi];
            let v = match field {
                "collateral_amount" => Some(x.collateral_amount),
                "debt_amount" => Some(x.debt_amount),
                "liquidation_threshold" => Some(x.liquidation_threshold),
                "liquidation_bonus" => Some(x.liquidation_bonus),
                _ => None,
            };
            (RangeTarget::Market(pi, mi), MARKET_RANGE_FIELDS, v)
        } else if let Some(&a) = m.asset_by_id.get(entity) {
            let x = &m.assets[a];
            let v = match field {
                "price_usd" => Some(x.price_usd),
                "supply" => Some(x.supply),
                "depth_usd" => x.depth_usd,
                _ => None,
            };
            (RangeTarget::Asset(a), ASSET_RANGE_FIELDS, v)
        } else if let Some(&p) = m.protocol_by_id.get(entity) {
            let x = &m.protocols[p];
            let v = match field {
                "deposits_usd" => Some(x.deposits_usd),
                "outflow_sensitivity" => Some(x.outflow_sensitivity),
                "liquid_share" => x.liquid_share,
                "capital_usd" => x.capital_usd,
                "external_assets_usd" => Some(x.external_assets_usd),
                _ => None,
            };
            (RangeTarget::Protocol(p), PROTOCOL_RANGE_FIELDS, v)
        } else {
            self.err(
                f,
                &r.entity.span(),
                &label,
                format!("unknown entity `{entity}`"),
                "name an asset or protocol id, or `protocol/market` for a lending market".into(),
            );
            return None;
        };
        if !fields.contains(&field) {
            self.err(
                f,
                &r.field.span(),
                &label,
                format!("`{field}` cannot carry a range on `{entity}`"),
                format!("ranges may be given for {}", fields.join(", ")),
            );
            return None;
        }
        let Some(value) = value else {
            self.err(
                f,
                &r.field.span(),
                &label,
                format!("`{field}` is not set on `{entity}`"),
                format!("set `{field}` (the central value) on `{entity}` as well as its range"),
            );
            return None;
        };
        let (low, high) = (*r.low.get_ref(), *r.high.get_ref());
        if !(low.is_finite() && high.is_finite() && low >= 0.0 && low <= value && value <= high) {
            self.err(
                f,
                &r.low.span(),
                &label,
                format!("[{low}, {high}] does not hold `{field}` = {value}"),
                format!("give 0 ≤ low ≤ {value} ≤ high"),
            );
            return None;
        }
        Some(RangeNode {
            target,
            field: field.to_owned(),
            value,
            low,
            high,
            source: r.source.clone(),
        })
    }

    fn check_policy(&mut self, f: usize, p: &spec::Policy, b: &Builder) -> PolicyNode {
        let id = p.id.get_ref().as_str();
        let scope = match p.scope.get_ref().as_str() {
            "ecosystem" => None,
            _ => self.resolve(f, id, "scope", &p.scope, EntityKind::Protocol),
        };
        let target = match (&p.component_kind, &p.component) {
            (Some(k), None) => PolicyTarget::Kind(*k),
            (None, Some(c)) => match b.by_id.get(c.get_ref()) {
                Some(&i) => PolicyTarget::Component(i),
                None => {
                    let known: Vec<&str> = b.by_id.keys().map(String::as_str).collect();
                    let help = match closest(c.get_ref(), &known) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => "name a chain, layer, verifier_set, operator or key id, or `org:<name>` / `hosting:<name>`".into(),
                    };
                    self.err(
                        f,
                        &c.span(),
                        id,
                        format!("`component` refers to unknown component `{}`", c.get_ref()),
                        help,
                    );
                    PolicyTarget::Component(0)
                }
            },
            _ => {
                self.err(
                    f,
                    &p.id.span(),
                    id,
                    "a policy needs exactly one of `component_kind` and `component`".into(),
                    "set `component_kind = \"layer\"` (every layer) or `component = \"<id>\"` (one component)".into(),
                );
                PolicyTarget::Kind(ComponentKind::Layer)
            }
        };
        let max_share = *p.max_share.get_ref();
        self.range(
            f,
            id,
            "max_share",
            p.max_share.span(),
            max_share,
            0.0,
            1.0,
            false,
        );
        PolicyNode {
            id: id.to_owned(),
            scope,
            target,
            max_share,
            basis: p.basis,
        }
    }

    fn backing_order(&mut self, specs: &[Spec], assets: &[AssetNode]) -> Vec<usize> {
        let mut g: DiGraph<usize, ()> = DiGraph::with_capacity(assets.len(), assets.len());
        let nodes: Vec<NodeIndex> = (0..assets.len()).map(|i| g.add_node(i)).collect();
        for (i, a) in assets.iter().enumerate() {
            for &(bk, _) in &a.backing {
                g.add_edge(nodes[bk], nodes[i], ());
            }
        }
        match petgraph::algo::toposort(&g, None) {
            Ok(order) => order.into_iter().map(|n| g[n]).collect(),
            Err(_) => {
                // Name every cycle: each strongly connected component with a loop.
                let origins: Vec<(usize, Range<usize>)> = specs
                    .iter()
                    .enumerate()
                    .flat_map(|(f, s)| s.assets.iter().map(move |a| (f, a.id.span())))
                    .collect();
                for scc in petgraph::algo::tarjan_scc(&g) {
                    let cyclic = scc.len() > 1 || g.contains_edge(scc[0], scc[0]);
                    if !cyclic {
                        continue;
                    }
                    let mut ids: Vec<usize> = scc.iter().map(|n| g[*n]).collect();
                    ids.sort_unstable();
                    let first = ids[0];
                    let path = ids
                        .iter()
                        .map(|&i| assets[i].id.as_str())
                        .chain(std::iter::once(assets[first].id.as_str()))
                        .collect::<Vec<_>>()
                        .join(" → ");
                    let (f, span) = origins[first].clone();
                    self.err(
                        f,
                        &span,
                        &assets[first].id,
                        format!("backing cycle: {path}"),
                        "an asset cannot be backed, directly or through others, by itself: remove one of these backing entries".into(),
                    );
                }
                Vec::new()
            }
        }
    }
}

#[derive(Default)]
struct Builder {
    components: Vec<Component>,
    by_id: HashMap<String, ComponentIdx>,
}

impl Builder {
    fn push(&mut self, id: &str, kind: ComponentKind, p: Option<f64>) {
        if let Some(&i) = self.by_id.get(id) {
            let c = &mut self.components[i as usize];
            if c.failure_probability.is_none() {
                c.failure_probability = p;
            }
            return;
        }
        let idx = ComponentIdx::try_from(self.components.len()).unwrap_or(ComponentIdx::MAX);
        self.by_id.insert(id.to_owned(), idx);
        self.components.push(Component {
            id: id.to_owned(),
            kind,
            failure_probability: p,
        });
    }

    fn get(&self, id: &str) -> ComponentIdx {
        self.by_id.get(id).copied().unwrap_or(ComponentIdx::MAX)
    }
}

fn merge(specs: Vec<Spec>) -> Spec {
    let mut out = Spec::default();
    for s in specs {
        out.chains.extend(s.chains);
        out.orgs.extend(s.orgs);
        out.hostings.extend(s.hostings);
        out.operators.extend(s.operators);
        out.verifier_sets.extend(s.verifier_sets);
        out.keys.extend(s.keys);
        out.layers.extend(s.layers);
        out.assets.extend(s.assets);
        out.protocols.extend(s.protocols);
        out.claims.extend(s.claims);
        out.policies.extend(s.policies);
        out.ranges.extend(s.ranges);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str) -> ProtocolNode {
        ProtocolNode {
            id: id.to_owned(),
            kind: spec::ProtocolKind::Vault,
            chain: 0,
            holdings: Vec::new(),
            external_assets_usd: 1.0,
            external_liabilities_usd: 0.0,
            seniority: Seniority::PariPassu,
            capital_usd: None,
            deposits_usd: 0.0,
            outflow_sensitivity: 0.0,
            liquid_share: None,
            liquidation: spec::Liquidation::default(),
            markets: Vec::new(),
        }
    }

    #[test]
    fn rows_added_beside_the_spec_get_the_spec_checks() {
        let mut m = Model::from_str(
            "s.toml",
            "[[chain]]\nid = \"c\"\nchain_id = 1\n\n[[protocol]]\nid = \"p\"\nkind = \"vault\"\nchain = \"c\"\n",
        )
        .expect("valid");
        assert_eq!(m.add_protocol(node("q")), Ok(1));
        assert_eq!(m.protocol("q"), Some(1));
        assert!(m.has_id("q") && m.has_id("p") && m.has_id("c") && !m.has_id("r"));
        let cases: [(ProtocolNode, RowError); 8] = [
            (node(""), RowError::EmptyId),
            (node("org:x"), RowError::ReservedId("org:x".into())),
            (node("p"), RowError::Duplicate("p".into())),
            (node("q"), RowError::Duplicate("q".into())),
            (node("c"), RowError::Duplicate("c".into())),
            (
                ProtocolNode {
                    chain: 7,
                    ..node("r")
                },
                RowError::NoChain(7),
            ),
            (
                ProtocolNode {
                    holdings: vec![(3, 1.0)],
                    ..node("r")
                },
                RowError::NoAsset(3),
            ),
            (
                ProtocolNode {
                    liquid_share: Some(2.0),
                    ..node("r")
                },
                RowError::OutOfRange {
                    field: "liquid_share",
                    value: 2.0,
                    range: "between 0 and 1",
                },
            ),
        ];
        for (n, want) in cases {
            assert_eq!(m.add_protocol(n), Err(want));
        }
        assert!(matches!(
            m.add_protocol(ProtocolNode {
                external_assets_usd: f64::NAN,
                ..node("r")
            }),
            Err(RowError::OutOfRange {
                field: "external_assets_usd",
                ..
            })
        ));
        assert_eq!(m.protocols.len(), 2, "refused rows are not added");
        let claim = |debtor, creditor, amount_usd| ClaimNode {
            debtor,
            creditor,
            amount_usd,
        };
        assert_eq!(m.add_claim(claim(0, 1, 2.0)), Ok(()));
        assert_eq!(m.add_claim(claim(0, 0, 2.0)), Err(RowError::SelfClaim));
        assert_eq!(m.add_claim(claim(0, 5, 2.0)), Err(RowError::NoProtocol(5)));
        assert!(m.add_claim(claim(1, 0, -1.0)).is_err());
        assert_eq!(m.claims.len(), 1);
    }
}
