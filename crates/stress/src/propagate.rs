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
use crate::lending::Position;
use crate::system::{Attack, FailScratch, System};

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
    /// Fire-sale losses this round: mark value of what was sold less the proceeds.
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
    /// Loss on those sales (mark value less proceeds).
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
    /// loss (bad debt on a drained collateral is the holders' loss the attacker took).
    pub bad_debt_usd: f64,
    /// Liquidated borrowers: the liquidation bonus they paid.
    pub liquidation_penalties_usd: f64,
    /// Sellers in fire sales (liquidators selling seized collateral, protocols selling to pay
    /// withdrawals): the mark value of what they sold less the proceeds.
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

#[derive(Debug, Clone)]
struct MarketState {
    /// `(collateral units, debt USD)` per bucket.
    buckets: Vec<(f64, f64)>,
    repaid: f64,
    bad_exhausted: f64,
    bad_fixed: f64,
    penalties: f64,
}

/// Selling `x` (USD at the pre-stress price) of an asset whose price before impact is `pre` (a
/// ratio of the pre-stress price), `sold` already sold against `depth`: `(proceeds, mark value
/// before the sale)`.
fn sell(x: f64, pre: f64, sold: f64, depth: Option<f64>, k: f64) -> (f64, f64) {
    match depth.filter(|d| *d > 0.0) {
        Some(d) if k > 0.0 => {
            let e0 = (-k * sold / d).exp();
            let e1 = (-k * (sold + x) / d).exp();
            (pre * d / k * (e0 - e1), x * pre * e0)
        }
        _ => (x * pre, x * pre),
    }
}

/// How much (USD at the pre-stress price) must be sold to raise `want` of proceeds, capped at
/// `available`.
fn to_raise(want: f64, available: f64, pre: f64, sold: f64, depth: Option<f64>, k: f64) -> f64 {
    if want <= 0.0 || pre <= 0.0 {
        return 0.0;
    }
    match depth.filter(|d| *d > 0.0) {
        Some(d) if k > 0.0 => {
            let e0 = (-k * sold / d).exp();
            let e1 = e0 - want * k / (pre * d);
            if e1 <= 0.0 {
                available
            } else {
                (-(d / k) * e1.ln() - sold).clamp(0.0, available)
            }
        }
        _ => (want / pre).min(available),
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

    #[allow(clippy::too_many_lines)]
    fn run_with(
        &self,
        failed: &[ComponentIdx],
        params: &StressParams,
        base: &Clearing,
        s: &mut FailScratch,
        detail: bool,
    ) -> Outcome {
        let m = self.model;
        self.evaluate(failed, s);
        let na = m.assets.len();
        let np = m.protocols.len();
        let k = -(1.0 - params.impact.clamp(0.0, 0.999_999)).ln();
        let mut out = Outcome {
            failed: failed
                .iter()
                .filter_map(|&c| m.components.get(c as usize).map(|c| c.id.clone()))
                .collect(),
            converged: true,
            ..Outcome::default()
        };

        // Round 0: the attacker's extraction. `taken` is what the attacker took from the
        // asset's own holders (a drain), `minted_units` what it added to the supply (a mint).
        let mut sold = vec![0.0; na];
        let mut direct = 0.0;
        let mut taken_from_holders = 0.0;
        let mut minted_units = vec![0.0; na];
        for (a, asset) in m.assets.iter().enumerate() {
            let inherited: f64 = asset.backing.iter().map(|&(b, sh)| sh * s.dep[b]).sum();
            if s.attack[a] == Attack::Drain {
                let d = asset.value_usd * (s.own[a] - inherited).max(0.0);
                direct += d;
                taken_from_holders += d;
            }
            if s.mint_open[a] {
                let units_usd = match asset.mint_cap {
                    Some((cap, _)) => cap * asset.price_usd,
                    None => f64::INFINITY,
                };
                let proceeds = match asset.depth_usd.filter(|d| *d > 0.0) {
                    Some(depth) => {
                        // Selling x USD (at the pre-stress price) moves the price by
                        // exp(−k x / depth); the seller receives the integral of that.
                        let x = units_usd.min(depth * 1e6);
                        sold[a] += x;
                        depth / k * (1.0 - (-k * x / depth).exp())
                    }
                    None => units_usd.min(asset.value_usd),
                };
                if let Some((cap, _)) = asset.mint_cap {
                    minted_units[a] = cap;
                }
                // The dump happens at once, before the market reprices a failed backing: the
                // buyers pay the pre-stress curve (so a further failure never lowers the take).
                direct += proceeds;
            }
        }
        out.direct_loss_usd = direct;
        if detail {
            out.rounds.push(Round {
                round: 0,
                direct_usd: direct,
                ..Round::default()
            });
        }

        let mut markets: Vec<MarketState> = self
            .markets
            .iter()
            .map(|mk| MarketState {
                buckets: mk.buckets.clone(),
                repaid: 0.0,
                bad_exhausted: 0.0,
                bad_fixed: 0.0,
                penalties: 0.0,
            })
            .collect();
        let mut ratio = vec![1.0; na];
        let mut pre = vec![1.0; na];
        let mut held: Vec<Vec<(usize, f64)>> = self.own_holdings.clone();
        let mut demand = vec![0.0; np];
        let mut paid = vec![0.0; np];
        let mut raised = vec![0.0; np];
        let mut forced = vec![0.0; np];
        let mut sale_loss = vec![0.0; np];
        let mut realized_sales = vec![0.0; np]; // p0 value of units sold, less proceeds
        let mut liquidator_slippage = 0.0;
        let mut loss = vec![0.0; np];
        let mut clearing = Clearing::default();
        let mut e = vec![0.0; np];
        let mut prev = (0.0, 0.0, 0.0, 0.0); // liquidations, bad debt, holdings, claims
        let mut prev_pen = 0.0;
        let mut prev_fs = 0.0;
        let mut prev_default: Vec<bool> = (0..np).map(|p| base.defaulted(p)).collect();
        let mut round = 0;
        loop {
            round += 1;
            // Prices: backing, own loss, fire sales.
            for &a in &m.backing_order {
                let asset = &m.assets[a];
                let (mut backed, mut share) = (0.0, 0.0);
                for &(b, sh) in &asset.backing {
                    backed += sh * ratio[b];
                    share += sh;
                }
                backed += (1.0 - share).max(0.0);
                let impact = match asset.depth_usd.filter(|d| *d > 0.0) {
                    Some(depth) => (-k * sold[a] / depth).exp(),
                    None => 1.0,
                };
                pre[a] = ((1.0 - s.own[a]) * backed).clamp(0.0, 1.0);
                ratio[a] = (pre[a] * impact).clamp(0.0, 1.0);
            }
            // Lending markets, bucket by bucket.
            let mut sales = 0.0;
            let mut bad_by_protocol = vec![0.0; np];
            for (mk, st) in self.markets.iter().zip(markets.iter_mut()) {
                let c = mk.collateral;
                let p0 = m.assets[c].price_usd;
                let price = p0 * ratio[c];
                if mk.fixed_oracle {
                    st.bad_fixed = st
                        .buckets
                        .iter()
                        .map(|&(coll, debt)| (debt - coll * price).max(0.0))
                        .sum();
                } else {
                    for b in &mut st.buckets {
                        let mut pos = Position {
                            collateral: b.0,
                            price,
                            liquidation_threshold: mk.threshold,
                            debt_usd: b.1,
                        };
                        if price <= 0.0 && pos.debt_usd > 0.0 {
                            st.bad_exhausted += pos.debt_usd;
                            pos.debt_usd = 0.0;
                        }
                        for _ in 0..200 {
                            let Some(l) = pos.liquidate_under(mk.bonus, mk.rules) else {
                                break;
                            };
                            st.repaid += l.repaid_usd;
                            st.bad_exhausted += l.bad_debt_usd;
                            st.penalties += l.bonus_units * price;
                            let seized_usd = l.seized * p0;
                            let (proceeds, mark) =
                                sell(seized_usd, pre[c], sold[c], m.assets[c].depth_usd, k);
                            liquidator_slippage += (mark - proceeds).max(0.0);
                            sold[c] += seized_usd;
                            sales += seized_usd;
                            pos = l.after;
                            if l.repaid_usd <= 1e-9 && l.bad_debt_usd <= 0.0 {
                                break;
                            }
                        }
                        *b = (pos.collateral, pos.debt_usd);
                    }
                }
                bad_by_protocol[mk.protocol] += st.bad_exhausted + st.bad_fixed;
            }
            // Protocol losses before claims, and the clearing.
            let mut holding_losses = 0.0;
            for (p, h) in held.iter().enumerate() {
                let marked: f64 = h
                    .iter()
                    .map(|&(a, units)| units * m.assets[a].price_usd * (1.0 - ratio[a]))
                    .sum();
                let hl = marked + realized_sales[p];
                holding_losses += hl;
                loss[p] = hl + bad_by_protocol[p];
                e[p] = (self.base_assets[p] - loss[p]).max(0.0);
            }
            // Nothing lost (the network as given): the clearing is the baseline's, exactly.
            if e == self.base_assets {
                clearing.clone_from(base);
            } else {
                // Length is right by construction.
                let _ = self.network.clear_into(&e, &params.clearing, &mut clearing);
            }
            let mut claim_losses = 0.0;
            for (p, l) in loss.iter_mut().enumerate() {
                let c = (base.received[p] - clearing.received[p]).max(0.0);
                claim_losses += c;
                *l = (*l + c).min(self.total_assets[p]);
            }
            // Runs: depositors ask for deposits × min(1, sensitivity × loss / capital); the
            // liquid part is paid at once, the rest as far as fire sales of holdings raise it.
            let mut round_out = 0.0;
            for (p, proto) in m.protocols.iter().enumerate() {
                if proto.deposits_usd <= 0.0 || proto.outflow_sensitivity <= 0.0 {
                    continue;
                }
                let cap = proto
                    .capital_usd
                    .filter(|c| *c > 0.0)
                    .unwrap_or(self.total_assets[p]);
                let h = if cap > 0.0 {
                    (loss[p] / cap).min(1.0)
                } else if loss[p] > 0.0 {
                    1.0
                } else {
                    0.0
                };
                let want = proto.deposits_usd * (proto.outflow_sensitivity * h).min(1.0);
                if want <= demand[p] + 1e-6 {
                    continue;
                }
                demand[p] = want;
                let liquid = self.liquid[p];
                let mut need = (want - liquid).max(0.0) - raised[p];
                // A lending market cannot sell its borrowers' loans: past its liquid reserves
                // (100 % utilisation) withdrawals stop. Other protocols sell what they hold.
                if need > 1e-6 && !self.lending[p] {
                    let value: f64 = held[p]
                        .iter()
                        .map(|&(a, u)| u * m.assets[a].price_usd * ratio[a])
                        .sum();
                    if value > 0.0 {
                        let goal = need;
                        for (a, units) in held[p].iter_mut() {
                            let a = *a;
                            let p0 = m.assets[a].price_usd;
                            let w = *units * p0 * ratio[a] / value * goal;
                            let x = to_raise(
                                w.min(need),
                                *units * p0,
                                pre[a],
                                sold[a],
                                m.assets[a].depth_usd,
                                k,
                            );
                            if x <= 0.0 {
                                continue;
                            }
                            let (proceeds, mark) =
                                sell(x, pre[a], sold[a], m.assets[a].depth_usd, k);
                            sold[a] += x;
                            sales += x;
                            forced[p] += x;
                            sale_loss[p] += (mark - proceeds).max(0.0);
                            realized_sales[p] += (x - proceeds).max(0.0);
                            raised[p] += proceeds;
                            need -= proceeds;
                            *units = (*units - x / p0).max(0.0);
                        }
                    }
                }
                let new_paid = want.min(liquid + raised[p]).min(proto.deposits_usd);
                if new_paid > paid[p] {
                    round_out += new_paid - paid[p];
                    paid[p] = new_paid;
                }
            }
            // `+ 0.0`: an empty float sum is -0.0, which would print as "-0.0" in the JSON.
            let liq: f64 = markets.iter().map(|st| st.repaid).sum::<f64>() + 0.0;
            let bad: f64 = markets
                .iter()
                .map(|st| st.bad_exhausted + st.bad_fixed)
                .sum::<f64>()
                + 0.0;
            let pen: f64 = markets.iter().map(|st| st.penalties).sum::<f64>() + 0.0;
            let fs = liquidator_slippage + sale_loss.iter().sum::<f64>() + 0.0;
            let d_liq = liq - prev.0;
            let d_bad = bad - prev.1;
            let d_hold = holding_losses - prev.2;
            let d_claim = claim_losses - prev.3;
            let d_pen = pen - prev_pen;
            let d_fs = fs - prev_fs;
            prev = (liq, bad, holding_losses, claim_losses);
            prev_pen = pen;
            prev_fs = fs;
            let mut new_defaults = Vec::new();
            for (p, was) in prev_default.iter_mut().enumerate() {
                if clearing.defaulted(p) && !*was {
                    *was = true;
                    if detail {
                        new_defaults.push(m.protocols[p].id.clone());
                    }
                }
            }
            let moved =
                d_liq.abs() + d_bad.abs() + d_hold.abs() + d_claim.abs() + round_out + sales;
            if detail && (moved > 1e-6 || round == 1) {
                out.rounds.push(Round {
                    round,
                    liquidations_usd: d_liq,
                    bad_debt_usd: d_bad,
                    outflows_usd: round_out,
                    holding_losses_usd: d_hold,
                    claim_losses_usd: d_claim,
                    fire_sales_usd: sales,
                    liquidation_penalties_usd: d_pen,
                    fire_sale_losses_usd: d_fs,
                    new_defaults,
                    ..Round::default()
                });
            }
            if moved <= 1e-6 {
                break;
            }
            if round >= params.max_rounds {
                out.converged = false;
                break;
            }
        }
        out.liquidations_usd = prev.0;
        out.bad_debt_usd = prev.1;
        out.holding_losses_usd = prev.2;
        out.claim_losses_usd = prev.3;
        out.outflows_usd = paid.iter().sum::<f64>() + 0.0;
        out.withdrawals_blocked_usd = demand
            .iter()
            .zip(&paid)
            .map(|(d, p)| (d - p).max(0.0))
            .sum::<f64>()
            + 0.0;
        out.forced_sales_usd = forced.iter().sum::<f64>() + 0.0;
        out.default_costs_usd = (default_costs(self, &e, &clearing)
            - default_costs(self, &self.base_assets, base))
        .max(0.0);

        // Realized loss, each dollar once.
        let mut holders = 0.0;
        let mut minted_value = 0.0;
        for (a, asset) in m.assets.iter().enumerate() {
            if s.own[a] <= 0.0 {
                continue;
            }
            // The asset's own loss on its pre-stress supply at fundamental value (before fire
            // sales, which are transient): value × own × what its backing is still worth.
            let (mut backed, mut share) = (0.0, 0.0);
            for &(b, sh) in &asset.backing {
                backed += sh * fundamental(s, m, b);
                share += sh;
            }
            backed += (1.0 - share).max(0.0);
            holders += asset.value_usd * s.own[a] * backed;
            minted_value += minted_units[a] * asset.price_usd * (1.0 - s.own[a]) * backed;
        }
        let compromised_bad_debt: f64 = self
            .markets
            .iter()
            .zip(&markets)
            .filter(|(mk, _)| s.dep[mk.collateral] > 0.0)
            .map(|(_, st)| st.bad_exhausted + st.bad_fixed)
            .sum();
        // Holders of compromised assets lose `holders` in all; the attacker's take from them is
        // the direct loss, and the bad debt on compromised collateral is the part lenders carry
        // (within what the holders lost: beyond it, e.g. a drained collateral, the bad debt is
        // already inside the direct loss).
        let holders_net = (holders - taken_from_holders - minted_value).max(0.0);
        let within = compromised_bad_debt.min(holders_net);
        let other_bad_debt = (out.bad_debt_usd - compromised_bad_debt).max(0.0);
        out.realized = Realized {
            depeg_usd: holders_net - within + 0.0,
            bad_debt_usd: within + other_bad_debt + 0.0,
            liquidation_penalties_usd: prev_pen,
            fire_sale_usd: prev_fs,
            clearing_costs_usd: out.default_costs_usd,
        };
        let secondary = out.realized.total();
        out.realized_loss_usd = out.direct_loss_usd + secondary;
        out.disrupted_value_usd = out.liquidations_usd + out.outflows_usd;
        out.secondary_damage_usd = secondary;
        out.loss_multiplier = (out.direct_loss_usd > 0.0).then(|| secondary / out.direct_loss_usd);
        out.disruption_multiplier =
            (out.direct_loss_usd > 0.0).then(|| out.disrupted_value_usd / out.direct_loss_usd);
        out.multiplier = out.loss_multiplier;
        if detail {
            out.protocols = m
                .protocols
                .iter()
                .enumerate()
                .map(|(p, proto)| {
                    let (mut bad, mut liq) = (0.0, 0.0);
                    for (mk, st) in self.markets.iter().zip(&markets) {
                        if mk.protocol == p {
                            bad += st.bad_exhausted + st.bad_fixed;
                            liq += st.repaid;
                        }
                    }
                    ProtocolOutcome {
                        id: proto.id.clone(),
                        loss_usd: loss[p],
                        assets_usd: self.total_assets[p],
                        defaulted: clearing.defaulted(p),
                        clearing_payment_usd: clearing.payments.get(p).copied().unwrap_or(0.0),
                        equity_usd: clearing.equity.get(p).copied().unwrap_or(0.0),
                        wave: clearing.wave.get(p).copied().unwrap_or(0),
                        outflows_usd: paid[p],
                        withdrawals_blocked_usd: (demand[p] - paid[p]).max(0.0),
                        forced_sales_usd: forced[p],
                        fire_sale_loss_usd: sale_loss[p],
                        bad_debt_usd: bad,
                        liquidations_usd: liq,
                    }
                })
                .collect();
            out.assets = m
                .assets
                .iter()
                .enumerate()
                .map(|(a, asset)| AssetOutcome {
                    id: asset.id.clone(),
                    price_before_usd: asset.price_usd,
                    price_after_usd: asset.price_usd * ratio[a],
                    loss_share: s.dep[a],
                })
                .collect();
        }
        out
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

fn default_costs(sys: &System<'_>, e: &[f64], c: &Clearing) -> f64 {
    (0..sys.network.len())
        .filter(|&p| c.defaulted(p))
        .map(|p| (e[p] + c.received[p] - c.payments[p]).max(0.0))
        .sum()
}

/// Fundamental value ratio of an asset: `(1 − own) × what its backing is worth`, no fire sales.
fn fundamental(s: &FailScratch, m: &ringfence_model::Model, a: usize) -> f64 {
    // `dep` is `max(own, inherited)`; the fundamental ratio multiplies instead, so recompute
    // along the backing (backing graphs are shallow and acyclic).
    let asset = &m.assets[a];
    let (mut backed, mut share) = (0.0, 0.0);
    for &(b, sh) in &asset.backing {
        backed += sh * fundamental(s, m, b);
        share += sh;
    }
    backed += (1.0 - share).max(0.0);
    ((1.0 - s.own[a]) * backed).clamp(0.0, 1.0)
}
