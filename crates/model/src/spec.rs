//! The ecosystem spec as a user writes it: one struct per `[[kind]]` table, field names exactly as
//! in the TOML. Ids and references are [`Ref`]s, which remember where they were written so that a
//! dangling reference can be reported at its line.
//!
//! Amounts of tokens (`supply`, `amount`, `capacity`…) are in whole token units as `f64`; prices
//! and values are `f64` US dollars. These are risk analytics, not balances: on-chain amounts are
//! exact integers elsewhere in ringfence (the guard), never here.

use serde::{Deserialize, Serialize};

/// An id or a reference to an id, with the byte span where it was written (0..0 when built in
/// code). Equality, ordering and hashing look at the text only.
pub type Ref = toml::Spanned<String>;

/// Makes a [`Ref`] that was not read from a file.
pub fn r(id: impl Into<String>) -> Ref {
    Ref::new(0..0, id.into())
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

/// A whole spec: every entity of every kind, in the order written.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// Ledgers.
    #[serde(rename = "chain", default, skip_serializing_if = "Vec::is_empty")]
    pub chains: Vec<Chain>,
    /// Organisations, declared when they need a failure probability.
    #[serde(rename = "org", default, skip_serializing_if = "Vec::is_empty")]
    pub orgs: Vec<Org>,
    /// Hosting providers, declared when they need a failure probability.
    #[serde(rename = "hosting", default, skip_serializing_if = "Vec::is_empty")]
    pub hostings: Vec<Hosting>,
    /// Independent verifying or signing parties.
    #[serde(rename = "operator", default, skip_serializing_if = "Vec::is_empty")]
    pub operators: Vec<Operator>,
    /// k-of-n gates over operators.
    #[serde(
        rename = "verifier_set",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub verifier_sets: Vec<VerifierSet>,
    /// Keys that can perform privileged actions.
    #[serde(rename = "key", default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<Key>,
    /// Messaging layers and bridges.
    #[serde(rename = "layer", default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<Layer>,
    /// Tokens on chains.
    #[serde(rename = "asset", default, skip_serializing_if = "Vec::is_empty")]
    pub assets: Vec<Asset>,
    /// Protocols and treasuries that hold assets.
    #[serde(rename = "protocol", default, skip_serializing_if = "Vec::is_empty")]
    pub protocols: Vec<Protocol>,
    /// Protocol-to-protocol claims.
    #[serde(rename = "claim", default, skip_serializing_if = "Vec::is_empty")]
    pub claims: Vec<Claim>,
    /// Concentration limits.
    #[serde(rename = "policy", default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Policy>,
    /// Uncertainty ranges of stress inputs.
    #[serde(rename = "range", default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<InputRange>,
}

/// The section names a spec may contain, in the order they are documented.
pub const SECTIONS: &[&str] = &[
    "chain",
    "org",
    "hosting",
    "operator",
    "verifier_set",
    "key",
    "layer",
    "asset",
    "protocol",
    "claim",
    "policy",
    "range",
];

/// A ledger.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Chain {
    /// Unique id.
    pub id: Ref,
    /// EVM chain id (or the ledger's own numeric id). Omitted only where it is not known (an
    /// import from a directory that does not publish it); never invented.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chain_id: Option<u64>,
    /// Seconds between blocks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block_time_s: Option<f64>,
    /// Where the figures come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// An organisation that runs operators (component `org:<id>`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Org {
    /// The organisation's name, as operators name it in `org` (`org:` prefix optional).
    pub id: Ref,
    /// Probability per year that the organisation is compromised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_probability: Option<f64>,
    /// Where the figures come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A hosting provider (component `hosting:<id>`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Hosting {
    /// The provider's name, as operators and keys name it in `hosting` (`hosting:` prefix
    /// optional).
    pub id: Ref,
    /// Probability per year that the provider (its KMS, its accounts) is compromised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_probability: Option<f64>,
    /// Where the figures come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// An independent party that verifies or signs.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Operator {
    /// Unique id.
    pub id: Ref,
    /// The organisation that runs it.
    pub org: Ref,
    /// Where it runs (a cloud, a data centre, `self`).
    pub hosting: Ref,
    /// Probability per year that this operator is compromised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_probability: Option<f64>,
    /// Where the figures come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A k-of-n gate over operators.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct VerifierSet {
    /// Unique id.
    pub id: Ref,
    /// How many members must agree.
    pub threshold: u32,
    /// Operator ids.
    pub members: Vec<Ref>,
    /// Where the figures come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// How a key is held.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// One externally owned account.
    Eoa,
    /// k-of-n on-chain multisig.
    Multisig,
    /// k-of-n threshold signature (MPC).
    Mpc,
    /// A cloud key-management service key.
    Kms,
    /// A hardware security module.
    Hsm,
}

impl KeyKind {
    /// True for kinds held by one party (no threshold).
    pub fn is_single(self) -> bool {
        matches!(self, Self::Eoa | Self::Kms | Self::Hsm)
    }

    /// The name as written in a spec.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eoa => "eoa",
            Self::Multisig => "multisig",
            Self::Mpc => "mpc",
            Self::Kms => "kms",
            Self::Hsm => "hsm",
        }
    }
}

/// A key that can perform a privileged action.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Key {
    /// Unique id.
    pub id: Ref,
    /// How it is held.
    pub kind: KeyKind,
    /// Where it is held (for eoa, kms, hsm).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hosting: Option<Ref>,
    /// For multisig and mpc: how many signers must sign.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<u32>,
    /// For multisig and mpc: operator ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signers: Vec<Ref>,
    /// Delay, in seconds, between a privileged call and its effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timelock_s: Option<u64>,
    /// Probability per year that the key is compromised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_probability: Option<f64>,
    /// Where the figures come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A messaging layer or bridge protocol.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Layer {
    /// Unique id.
    pub id: Ref,
    /// The default verifier set of its routes.
    pub verifier_set: Ref,
    /// The key that can upgrade or reconfigure it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<Ref>,
    /// Probability per year of a failure of the layer itself (a bug).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_probability: Option<f64>,
    /// Where the figures come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// What kind of token an asset is.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum AssetKind {
    /// The chain's own coin.
    Native,
    /// Issued on this chain by its issuer.
    Canonical,
    /// A bridged representation of an asset on another chain.
    Wrapped,
    /// A stablecoin.
    Stablecoin,
    /// A liquid staking token.
    Lst,
    /// A liquid restaking token.
    Lrt,
    /// A liquidity-pool share.
    Lp,
}

impl AssetKind {
    /// The name as written in a spec.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Native => "native",
            Self::Canonical => "canonical",
            Self::Wrapped => "wrapped",
            Self::Stablecoin => "stablecoin",
            Self::Lst => "lst",
            Self::Lrt => "lrt",
            Self::Lp => "lp",
        }
    }
}

/// One backing asset and the share of value it provides.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Backing {
    /// The backing asset's id.
    pub asset: Ref,
    /// Share of this asset's value it backs, in (0, 1].
    pub share: toml::Spanned<f64>,
}

/// A ceiling on minting.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MintCap {
    /// Token units that may be minted per window.
    pub amount: toml::Spanned<f64>,
    /// The window, in seconds.
    pub window_s: u64,
}

/// A token-bucket rate limit on a route.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Bucket size, in token units.
    pub capacity: toml::Spanned<f64>,
    /// Refill, in token units per second.
    pub refill_per_s: toml::Spanned<f64>,
}

/// How a bridged asset is secured.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The messaging layer or bridge.
    pub layer: Ref,
    /// Overrides the layer's default verifier set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verifier_set: Option<Ref>,
    /// The chain the asset comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Ref>,
    /// Inbound rate limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
}

/// A token on a chain.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Asset {
    /// Unique id.
    pub id: Ref,
    /// The chain it lives on.
    pub chain: Ref,
    /// What kind of token.
    pub kind: AssetKind,
    /// Price in USD.
    pub price_usd: toml::Spanned<f64>,
    /// Supply in token units.
    pub supply: toml::Spanned<f64>,
    /// What backs it, by share of value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub backing: Vec<Backing>,
    /// The key that can mint it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mint_authority: Option<Ref>,
    /// A ceiling on minting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mint_cap: Option<MintCap>,
    /// How it is bridged, if it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<Route>,
    /// Market depth in USD, for fire-sale price impact (selling this much moves the price 10 %).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth_usd: Option<toml::Spanned<f64>>,
    /// Where the figures come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// What a protocol does.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum ProtocolKind {
    /// A lending market.
    Lending,
    /// A DEX pool.
    Dex,
    /// A vault.
    Vault,
    /// A collateralised-debt-position issuer.
    Cdp,
    /// A restaking protocol.
    Restaking,
    /// A treasury.
    Treasury,
}

impl ProtocolKind {
    /// The name as written in a spec.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Lending => "lending",
            Self::Dex => "dex",
            Self::Vault => "vault",
            Self::Cdp => "cdp",
            Self::Restaking => "restaking",
            Self::Treasury => "treasury",
        }
    }
}

/// One asset a protocol holds.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Holding {
    /// The asset's id.
    pub asset: Ref,
    /// Token units held.
    pub amount: toml::Spanned<f64>,
}

/// Rank of a protocol's external liabilities against its claims-network debts.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Seniority {
    /// Paid pro rata with network debts (the default).
    #[default]
    PariPassu,
    /// Paid before network debts.
    Senior,
}

/// The uncertainty of one stress input: the value written on the entity is the central
/// estimate, `[low, high]` the range its sources support. `ringfence stress --uncertainty N`
/// samples it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InputRange {
    /// The entity: an asset or protocol id, or `protocol/market` for a lending market.
    pub entity: Ref,
    /// The field of that entity (e.g. `depth_usd`, `outflow_sensitivity`, `debt_amount`).
    pub field: Ref,
    /// Lowest plausible value.
    pub low: toml::Spanned<f64>,
    /// Highest plausible value.
    pub high: toml::Spanned<f64>,
    /// Where the range comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// One bucket of a lending market's positions: a share of the market's debt held by positions
/// whose health factor is `health_factor`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PositionBucket {
    /// Health factor of the bucket's positions, at least 1 before the stress.
    pub health_factor: toml::Spanned<f64>,
    /// Share of the market's debt, in (0, 1]; the shares of a market sum to 1.
    pub share: toml::Spanned<f64>,
}

/// Which liquidation rules a lending protocol follows (close factor by protocol; the bonus is
/// per market).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Liquidation {
    /// Aave v3: close factor 50 %, 100 % below health factor 0.95 or under $2,000.
    #[default]
    Aave,
    /// Morpho Blue: any amount of an unhealthy position may be repaid (close factor 100 %).
    Morpho,
    /// Fluid vaults: positions past the liquidation threshold are liquidated in full by tick.
    Fluid,
    /// Compound v3 (Comet): `absorb` takes over the whole unhealthy account.
    Compound,
}

/// How a lending market prices its collateral.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Oracle {
    /// Follows the market price: positions liquidate when it falls.
    #[default]
    Market,
    /// Hard-coded or slow: keeps a depegged collateral at its old price, so nothing liquidates
    /// and bad debt accrues.
    Fixed,
}

/// A lending market inside a lending protocol: the aggregate of its positions.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Market {
    /// Optional name of the market.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The collateral asset.
    pub collateral: Ref,
    /// Collateral posted, in token units.
    pub collateral_amount: toml::Spanned<f64>,
    /// The borrowed asset.
    pub debt_asset: Ref,
    /// Debt outstanding, in token units of the debt asset.
    pub debt_amount: toml::Spanned<f64>,
    /// Liquidation threshold (LT, or Morpho's LLTV), in (0, 1].
    pub liquidation_threshold: toml::Spanned<f64>,
    /// Liquidation bonus as a multiplier, e.g. 1.05.
    pub liquidation_bonus: toml::Spanned<f64>,
    /// How collateral is priced.
    #[serde(default)]
    pub oracle: Oracle,
    /// The distribution of positions by health factor; without it, positions spread evenly over
    /// health factors between 1 and twice the aggregate's excess over 1 (see the stress docs).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub positions: Vec<PositionBucket>,
    /// Where the figures come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A lending market, DEX pool, vault, restaking protocol, CDP or treasury.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Protocol {
    /// Unique id.
    pub id: Ref,
    /// What it does.
    pub kind: ProtocolKind,
    /// The chain it lives on.
    pub chain: Ref,
    /// What it holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holdings: Vec<Holding>,
    /// Assets outside the modelled network, in USD.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub external_assets_usd: f64,
    /// Liabilities outside the modelled network, in USD.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub external_liabilities_usd: f64,
    /// Rank of external liabilities against network claims.
    #[serde(default, skip_serializing_if = "is_pari_passu")]
    pub seniority: Seniority,
    /// Equity buffer, in USD (DebtRank).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capital_usd: Option<f64>,
    /// User deposits, in USD.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deposits_usd: f64,
    /// Share of deposits withdrawn per unit of relative loss, in [0, ∞).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub outflow_sensitivity: f64,
    /// Share of deposits that can be paid out without selling anything, in [0, 1]
    /// (`1 − utilisation` for a lending market). Without it, a lending protocol's liquid part is
    /// its deposits less its markets' debt, and nothing else is liquid (every withdrawal forces
    /// a sale of holdings).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liquid_share: Option<f64>,
    /// Liquidation rules of its markets.
    #[serde(default, skip_serializing_if = "is_aave")]
    pub liquidation: Liquidation,

    /// Lending markets (`[[protocol.market]]`).
    #[serde(default, rename = "market", skip_serializing_if = "Vec::is_empty")]
    pub markets: Vec<Market>,
    /// Where the figures come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

fn is_aave(l: &Liquidation) -> bool {
    *l == Liquidation::Aave
}

fn is_pari_passu(s: &Seniority) -> bool {
    *s == Seniority::PariPassu
}

/// What one protocol owes another.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// Optional name of the claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The protocol that owes.
    pub debtor: Ref,
    /// The protocol that is owed.
    pub creditor: Ref,
    /// The amount, in USD.
    pub amount_usd: toml::Spanned<f64>,
    /// Where the figures come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Which value counts towards a policy's share.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// Every asset.
    #[default]
    All,
    /// Only assets with a route.
    Bridged,
}

/// A concentration limit.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// Unique id.
    pub id: Ref,
    /// `"ecosystem"` or a protocol id.
    pub scope: Ref,
    /// Every component of this kind is limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component_kind: Option<crate::ComponentKind>,
    /// Only this component is limited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<Ref>,
    /// The largest share of value at risk allowed behind one component.
    pub max_share: toml::Spanned<f64>,
    /// Which value counts.
    #[serde(default, skip_serializing_if = "is_basis_all")]
    pub basis: Basis,
    /// Where the figures come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

fn is_basis_all(b: &Basis) -> bool {
    *b == Basis::All
}
