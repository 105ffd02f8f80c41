//! DeFi propagation: what a set of failed components does, round by round, and what it costs.
//!
//! Round 0 (direct): the failed components compromise assets (see [`crate::system`]). A drained
//! asset (failed chain or route) loses its backing, which the attacker holds at full value; a
//! mint-compromised asset gets unbacked units (one mint-cap window, or unbounded without a cap)
//! that the attacker sells into the asset's market along the exponential impact curve, so what it
//! extracts is bounded by the market's depth. The direct loss is what the attacker extracts.
//!
//! Rounds 1, 2, …: prices follow backing (a wrapper is worth what backs it) and fire sales
//! (cumulative sales against `depth_usd`). Each lending market is a set of position buckets by
//! health factor (the market's `positions`, else an even spread, see
//! [`crate::system::DEFAULT_HF_SPREAD`]); with a market oracle an unhealthy bucket is liquidated
//! under its protocol's close-factor rules and the market's bonus, and the seized collateral is
//! sold, lowering prices further; with a fixed oracle nothing liquidates and each bucket carries
//! bad debt `max(0, debt − collateral at market)`. Protocols lose on their own holdings (net of
//! posted collateral) and their markets' bad debt, never more than they hold. Depositors ask for
//! `deposits × min(1, outflow_sensitivity × relative loss)`: the liquid part
//! (`liquid_share × deposits`; for a lending protocol without it, deposits less its markets'
//! debt) is paid at once; past it a lending protocol stops paying (100 % utilisation), any other
//! protocol sells its holdings at fire-sale prices and pays what that raises; the rest is
//! blocked. Losses pass along claims
//! through the clearing engine. Rounds repeat until nothing moves.
//!
//! The outcome keeps losses apart from flows: `realized_loss_usd` counts each destroyed dollar
//! once (see [`Realized`]), `disrupted_value_usd` counts value that moved (liquidations,
//! withdrawals paid).

use ringfence_model::ComponentIdx;

use crate::clearing::{Clearing, ClearingParams};
use crate::debtrank::{DebtRankMethod, ImpactNetwork};
use crate::firesale::DEFAULT_IMPACT;
use crate::system::{FailScratch, System};

/// Parameters of a stress run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StressParams {
    /// Clearing model for protocol-to-protocol claims.
    pub clearing: ClearingParams,
    /// Price move from selling `depth_usd` of an asset (the exponential impact parameter).
    pub impact: f64,
    /// Upper bound on propagation rounds.
    pub max_rounds: usize,
}

impl Default for StressParams {
    fn default() -> Self {
        Self {
            clearing: ClearingParams::eisenberg_noe(),
            impact: DEFAULT_IMPACT,
            max_rounds: 100,
        }
    }
}

/// Figures of one round. Round 0 is the direct loss; later rounds are contagion.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Round {
    /// Round number.
    pub round: usize,
    /// What the attacker extracted (round 0 only).
    pub direct_usd: f64,
    /// Debt repaid by liquidators this round.
    pub liquidations_usd: f64,
    /// Bad debt recognised this round.
    pub bad_debt_usd: f64,
    /// Withdrawals paid this round.
    pub outflows_usd: f64,
    /// Mark-to-market losses of protocols on their holdings this round.
    pub holding_losses_usd: f64,
    /// Losses passed along claims this round (clearing shortfalls).
    pub claim_losses_usd: f64,
    /// Value sold into markets this round (liquidated collateral, forced sales for
    /// withdrawals), at pre-stress prices.
    pub fire_sales_usd: f64,
    /// Liquidation penalties paid by borrowers this round.
    pub liquidation_penalties_usd: f64,
    /// Fire-sale losses this round: fundamental value of what was sold less the proceeds.
    pub fire_sale_losses_usd: f64,
    /// Protocols that default on their claims this round.
    pub new_defaults: Vec<String>,
}

/// Per-protocol outcome.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ProtocolOutcome {
    /// Protocol id.
    pub id: String,
    /// Losses: holdings (marked to market, fire-sale losses included), bad debt in its markets,
    /// and shortfalls on its claims; never more than its assets.
    pub loss_usd: f64,
    /// Its assets before the stress (external, own holdings, loans, claims), the bound on
    /// `loss_usd`.
    pub assets_usd: f64,
    /// Whether it fails to pay its claims in full.
    pub defaulted: bool,
    /// Its total clearing payment.
    pub clearing_payment_usd: f64,
    /// Its equity after clearing.
    pub equity_usd: f64,
    /// Default wave in the final clearing (0 = pays in full).
    pub wave: u32,
    /// Withdrawals paid.
    pub outflows_usd: f64,
    /// Withdrawals asked for but not paid: the liquid part and what forced sales raised ran out.
    pub withdrawals_blocked_usd: f64,
    /// Holdings sold to pay withdrawals, at pre-stress prices.
    pub forced_sales_usd: f64,
    /// Loss on those sales (fundamental value less proceeds).
    pub fire_sale_loss_usd: f64,
    /// Bad debt in its markets.
    pub bad_debt_usd: f64,
    /// Debt liquidated in its markets.
    pub liquidations_usd: f64,
}

/// Per-asset outcome.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct AssetOutcome {
    /// Asset id.
    pub id: String,
    /// Pre-stress price.
    pub price_before_usd: f64,
    /// Market price after the last round.
    pub price_after_usd: f64,
    /// Share of value lost through the failed components (dependency closure), before market
    /// effects.
    pub loss_share: f64,
}

/// The protocols a long report leaves out of its per-protocol list: none of them loses anything,
/// defaults or sees a flow, so they are counted and summed instead of listed.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct LeftOut {
    /// Protocols in the scenario, listed or not.
    pub protocols: usize,
    /// Protocols left out.
    pub left_out: usize,
    /// Their assets before the stress, summed.
    pub assets_usd: f64,
    /// Their clearing payments, summed.
    pub clearing_payment_usd: f64,
    /// Their equity after the stress, summed.
    pub equity_usd: f64,
}

impl ProtocolOutcome {
    /// Whether the scenario touched it: a loss, a default, withdrawals, forced sales, bad debt or
    /// liquidations.
    pub fn touched(&self) -> bool {
        self.loss_usd > 0.0
            || self.defaulted
            || self.outflows_usd > 0.0
            || self.withdrawals_blocked_usd > 0.0
            || self.forced_sales_usd > 0.0
            || self.bad_debt_usd > 0.0
            || self.liquidations_usd > 0.0
    }
}

/// Realized loss, by who bears it. Each dollar is in exactly one line.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct Realized {
    /// Holders of compromised assets: the permanent loss of value on the pre-stress supply (the
    /// asset's own loss, not what it inherits from its backing, which the backing's holders
    /// carry), net of what the attacker took from them (a drained backing; for a mint, the
    /// attacker's proceeds came from buyers and are the direct loss, so the minted units' final
    /// value is netted instead), and net of the bad debt it became (lenders carry that line).
    pub depeg_usd: f64,
    /// Lenders: debt left without collateral value, except the part already inside the direct
    /// loss (bad debt on a drained collateral is the holders' loss the attacker took). On a
    /// compromised collateral, the part its fundamental loss explains is the holders' loss that
    /// lenders carry (moved here from the holders' line, not added); what fire-sale impact adds
    /// on top is a loss of its own.
    pub bad_debt_usd: f64,
    /// Liquidated borrowers: the liquidation bonus they paid, the bonus units valued at the
    /// collateral's fundamental value.
    pub liquidation_penalties_usd: f64,
    /// Sellers in fire sales (liquidators selling seized collateral, protocols selling to pay
    /// withdrawals): the fundamental value of what they sold (its value after the failure, with
    /// no market impact) less the proceeds, whoever sold first.
    pub fire_sale_usd: f64,
    /// Creditors in the clearing: deadweight default costs (Rogers–Veraart; 0 under
    /// Eisenberg–Noe, where a shortfall passes on a loss already counted above).
    pub clearing_costs_usd: f64,
}

impl Realized {
    /// The sum of the lines.
    pub fn total(&self) -> f64 {
        self.depeg_usd
            + self.bad_debt_usd
            + self.liquidation_penalties_usd
            + self.fire_sale_usd
            + self.clearing_costs_usd
    }
}

/// The outcome of a scenario.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Outcome {
    /// Failed component ids.
    pub failed: Vec<String>,
    /// What the attacker extracts in round 0.
    pub direct_loss_usd: f64,
    /// `direct + secondary realized`: every dollar destroyed for someone, once.
    pub realized_loss_usd: f64,
    /// The secondary realized loss, by line.
    pub realized: Realized,
    /// Value that moved: liquidations (debt repaid) + withdrawals paid. Not a loss.
    pub disrupted_value_usd: f64,
    /// `secondary realized loss / direct`; `None` without a direct loss.
    pub loss_multiplier: Option<f64>,
    /// `disrupted value / direct`; `None` without a direct loss.
    pub disruption_multiplier: Option<f64>,
    /// The secondary realized loss (`realized_loss_usd − direct_loss_usd`), kept under its old
    /// name for the API.
    pub secondary_damage_usd: f64,
    /// `= loss_multiplier`, kept under its old name for the API.
    pub multiplier: Option<f64>,
    /// Debt repaid by liquidators, all rounds.
    pub liquidations_usd: f64,
    /// Bad debt left in lending markets.
    pub bad_debt_usd: f64,
    /// Withdrawals paid.
    pub outflows_usd: f64,
    /// Withdrawals asked for and not paid (liquidity and fire-sale proceeds ran out).
    pub withdrawals_blocked_usd: f64,
    /// Holdings sold to pay withdrawals, at pre-stress prices.
    pub forced_sales_usd: f64,
    /// Deadweight default costs of the clearing (Rogers–Veraart; 0 under Eisenberg–Noe).
    pub default_costs_usd: f64,
    /// Mark-to-market losses on protocol holdings (a balance-sheet view, not added: part is the
    /// direct loss, part transient price impact).
    pub holding_losses_usd: f64,
    /// Shortfalls on claims (not added: they pass on losses counted elsewhere).
    pub claim_losses_usd: f64,
    /// Per round.
    pub rounds: Vec<Round>,
    /// Per protocol: every protocol, or in a long report only those the scenario touched (see
    /// `protocols_left_out`).
    pub protocols: Vec<ProtocolOutcome>,
    /// In a long report, the protocols left out of `protocols` (untouched: no loss, no default,
    /// no flow), counted and summed; absent when every protocol is listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub protocols_left_out: Option<LeftOut>,
    /// Per asset.
    pub assets: Vec<AssetOutcome>,
    /// Whether the rounds settled before `max_rounds`.
    pub converged: bool,
}

impl Outcome {
    /// `realized_loss_usd`: the figure ranking, reverse stress and Monte Carlo use.
    pub fn total_damage_usd(&self) -> f64 {
        self.realized_loss_usd
    }
}

impl System<'_> {
    /// The network as given (no failure): the baseline for claim losses.
    pub(crate) fn baseline(&self, params: &StressParams) -> Clearing {
        self.network.clear(&params.clearing)
    }

    /// Run a scenario.
    pub fn run(&self, failed: &[ComponentIdx], params: &StressParams) -> Outcome {
        let base = self.baseline(params);
        let mut s = FailScratch::default();
        self.run_with(failed, params, &base, &mut s, true)
    }

    /// Totals only, no per-round or per-entity detail.
    pub(crate) fn run_light(
        &self,
        failed: &[ComponentIdx],
        params: &StressParams,
        base: &Clearing,
        s: &mut FailScratch,
    ) -> Outcome {
        self.run_with(failed, params, base, s, false)
    }

    /// Realized loss only (ranking, Monte Carlo).
    pub(crate) fn damage(
        &self,
        failed: &[ComponentIdx],
        params: &StressParams,
        base: &Clearing,
        s: &mut FailScratch,
    ) -> f64 {
        self.run_with(failed, params, base, s, false)
            .total_damage_usd()
    }

    /// DebtRank over the claims network: buffers are `capital_usd` (else the equity of the
    /// network as given), weights are total assets. Returns, for each protocol defaulting alone,
    /// the final stress of every protocol and the additional stress (differential and single-hit).
    pub fn debtrank_by_default(
        &self,
        params: &StressParams,
    ) -> crate::Result<Vec<DebtRankByDefault>> {
        let m = self.model;
        let base = self.baseline(params);
        let buffers: Vec<f64> = m
            .protocols
            .iter()
            .enumerate()
            .map(|(p, proto)| proto.capital_usd.unwrap_or(base.equity[p]))
            .collect();
        let v = ImpactNetwork::from_claims(&self.network, &buffers, &self.total_assets)?;
        let n = m.protocols.len();
        let mut out = Vec::with_capacity(n);
        for p in 0..n {
            let mut h0 = vec![0.0; n];
            h0[p] = 1.0;
            let d = v.debtrank(&h0, DebtRankMethod::Differential)?;
            let s = v.debtrank(&h0, DebtRankMethod::SingleHit)?;
            out.push((
                m.protocols[p].id.clone(),
                d.h,
                d.additional_stress,
                s.additional_stress,
            ));
        }
        Ok(out)
    }
}

/// `(protocol that defaults, final stress of every protocol, additional stress differential,
/// additional stress single-hit)`.
pub type DebtRankByDefault = (String, Vec<f64>, f64, f64);
