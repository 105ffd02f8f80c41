//! DeFi propagation: what a set of failed components does, round by round.
//!
//! Round 0 (direct): the failed components compromise assets (see [`crate::system`]). A drained
//! asset (failed chain or route) loses its backing, which the attacker holds at full value; a
//! mint-compromised asset gets unbacked units (one mint-cap window, or unbounded without a cap)
//! that the attacker sells into the asset's market along the exponential impact curve, so what it
//! extracts is bounded by the market's depth. The direct loss is what the attacker extracts.
//!
//! Rounds 1, 2, …: prices follow backing (a wrapper is worth what backs it) and fire sales
//! (cumulative sales against `depth_usd`); lending markets with a market oracle liquidate
//! positions whose health factor is below 1 (Aave close factor and bonus), and the seized
//! collateral is sold, lowering prices further; markets with a fixed oracle never liquidate and
//! carry bad debt `max(0, debt − collateral at market)`; protocols lose on their holdings and bad
//! debt (collateral posted by borrowers is theirs, not the protocol's: a lending protocol
//! loses its bad debt, and its holdings net of that collateral); depositors withdraw `deposits × min(1, outflow_sensitivity × relative loss)`, which the
//! drains liquidity but forces no sale here; losses pass along claims through the clearing engine
//! (relative to the network as given). Rounds repeat until nothing moves.

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
    /// Deposits withdrawn this round.
    pub outflows_usd: f64,
    /// Mark-to-market losses of protocols on their holdings this round.
    pub holding_losses_usd: f64,
    /// Losses passed along claims this round (clearing shortfalls).
    pub claim_losses_usd: f64,
    /// Value sold into markets this round (liquidated collateral, outflow sales), at pre-stress
    /// prices.
    pub fire_sales_usd: f64,
    /// Protocols that default on their claims this round.
    pub new_defaults: Vec<String>,
}

/// Per-protocol outcome.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct ProtocolOutcome {
    /// Protocol id.
    pub id: String,
    /// Losses: holdings, bad debt in its markets, and shortfalls on its claims.
    pub loss_usd: f64,
    /// Whether it fails to pay its claims in full.
    pub defaulted: bool,
    /// Its total clearing payment.
    pub clearing_payment_usd: f64,
    /// Its equity after clearing.
    pub equity_usd: f64,
    /// Default wave in the final clearing (0 = pays in full).
    pub wave: u32,
    /// Deposits withdrawn.
    pub outflows_usd: f64,
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

/// The outcome of a scenario.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Outcome {
    /// Failed component ids.
    pub failed: Vec<String>,
    /// What the attacker extracts in round 0.
    pub direct_loss_usd: f64,
    /// `liquidations + bad debt + outflows + default costs` (see the docs).
    pub secondary_damage_usd: f64,
    /// `secondary / direct`; `None` without a direct loss.
    pub multiplier: Option<f64>,
    /// Debt repaid by liquidators, all rounds.
    pub liquidations_usd: f64,
    /// Bad debt left in lending markets.
    pub bad_debt_usd: f64,
    /// Deposits withdrawn from hit protocols.
    pub outflows_usd: f64,
    /// Deadweight default costs of the clearing (Rogers–Veraart; 0 under Eisenberg–Noe).
    pub default_costs_usd: f64,
    /// Mark-to-market losses on protocol holdings (reported, not added to secondary damage:
    /// part of them is the direct loss itself).
    pub holding_losses_usd: f64,
    /// Shortfalls on claims (reported, not added: they pass on losses counted elsewhere).
    pub claim_losses_usd: f64,
    /// Per round.
    pub rounds: Vec<Round>,
    /// Per protocol.
    pub protocols: Vec<ProtocolOutcome>,
    /// Per asset.
    pub assets: Vec<AssetOutcome>,
    /// Whether the rounds settled before `max_rounds`.
    pub converged: bool,
}

impl Outcome {
    /// `direct + secondary`: the figure ranking, reverse stress and Monte Carlo use.
    pub fn total_damage_usd(&self) -> f64 {
        self.direct_loss_usd + self.secondary_damage_usd
    }
}

#[derive(Debug, Clone)]
struct MarketState {
    collateral: f64,
    debt: f64,
    repaid: f64,
    bad_exhausted: f64,
    bad_fixed: f64,
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

    /// Total damage only (ranking, Monte Carlo).
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

        // Round 0: the attacker's extraction.
        let mut sold = vec![0.0; na];
        let mut direct = 0.0;
        for (a, asset) in m.assets.iter().enumerate() {
            let inherited: f64 = asset.backing.iter().map(|&(b, sh)| sh * s.dep[b]).sum();
            let intact = (1.0 - inherited).clamp(0.0, 1.0);
            match s.attack[a] {
                Attack::None => {}
                Attack::Drain => direct += asset.value_usd * (s.own[a] - inherited).max(0.0),
                Attack::Mint => {
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
                    direct += proceeds * intact;
                }
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
                collateral: mk.collateral_units,
                debt: mk.debt_units * m.assets[mk.debt_asset].price_usd,
                repaid: 0.0,
                bad_exhausted: 0.0,
                bad_fixed: 0.0,
            })
            .collect();
        let mut ratio = vec![1.0; na];
        let mut outflow = vec![0.0; np];
        let mut loss = vec![0.0; np];
        let mut clearing = Clearing::default();
        let mut e = vec![0.0; np];
        let mut prev = (0.0, 0.0, 0.0, 0.0); // liquidations, bad debt, holdings, claims
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
                ratio[a] = ((1.0 - s.own[a]) * backed * impact).clamp(0.0, 1.0);
            }
            // Lending markets.
            let mut sales = 0.0;
            let mut bad_by_protocol = vec![0.0; np];
            for (mk, st) in self.markets.iter().zip(markets.iter_mut()) {
                let p0 = m.assets[mk.collateral].price_usd;
                let price = p0 * ratio[mk.collateral];
                if mk.fixed_oracle {
                    st.bad_fixed = (st.debt - st.collateral * price).max(0.0);
                } else {
                    let mut pos = Position {
                        collateral: st.collateral,
                        price,
                        liquidation_threshold: mk.threshold,
                        debt_usd: st.debt,
                    };
                    if price <= 0.0 && pos.debt_usd > 0.0 {
                        st.bad_exhausted += pos.debt_usd;
                        pos.debt_usd = 0.0;
                    }
                    for _ in 0..200 {
                        let Some(l) = pos.liquidate(mk.bonus) else {
                            break;
                        };
                        st.repaid += l.repaid_usd;
                        st.bad_exhausted += l.bad_debt_usd;
                        let seized_usd = l.seized * p0;
                        sold[mk.collateral] += seized_usd;
                        sales += seized_usd;
                        pos = l.after;
                        if l.repaid_usd <= 1e-9 && l.bad_debt_usd <= 0.0 {
                            break;
                        }
                    }
                    st.collateral = pos.collateral;
                    st.debt = pos.debt_usd;
                }
                bad_by_protocol[mk.protocol] += st.bad_exhausted + st.bad_fixed;
            }
            // Protocol losses before claims, and the clearing.
            let mut holding_losses = 0.0;
            for (p, held) in self.own_holdings.iter().enumerate() {
                let h: f64 = held
                    .iter()
                    .map(|&(a, units)| units * m.assets[a].price_usd * (1.0 - ratio[a]))
                    .sum();
                holding_losses += h;
                loss[p] = h + bad_by_protocol[p];
                e[p] = (self.base_assets[p] - loss[p]).max(0.0);
            }
            // Length is right by construction.
            let _ = self.network.clear_into(&e, &params.clearing, &mut clearing);
            let mut claim_losses = 0.0;
            for (p, l) in loss.iter_mut().enumerate() {
                let c = (base.received[p] - clearing.received[p]).max(0.0);
                claim_losses += c;
                *l += c;
            }
            // Outflows: deposits × min(1, sensitivity × loss / capital).
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
                let target = proto.deposits_usd * (proto.outflow_sensitivity * h).min(1.0);
                let d = target - outflow[p];
                if d > 1e-6 {
                    outflow[p] = target;
                    round_out += d;
                }
            }
            // `+ 0.0`: an empty float sum is -0.0, which would print as "-0.0" in the JSON.
            let liq: f64 = markets.iter().map(|st| st.repaid).sum::<f64>() + 0.0;
            let bad: f64 = markets
                .iter()
                .map(|st| st.bad_exhausted + st.bad_fixed)
                .sum::<f64>()
                + 0.0;
            let d_liq = liq - prev.0;
            let d_bad = bad - prev.1;
            let d_hold = holding_losses - prev.2;
            let d_claim = claim_losses - prev.3;
            prev = (liq, bad, holding_losses, claim_losses);
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
        out.outflows_usd = outflow.iter().sum::<f64>() + 0.0;
        out.default_costs_usd = (default_costs(self, &e, &clearing)
            - default_costs(self, &self.base_assets, base))
        .max(0.0);
        out.secondary_damage_usd =
            out.liquidations_usd + out.bad_debt_usd + out.outflows_usd + out.default_costs_usd;
        out.multiplier =
            (out.direct_loss_usd > 0.0).then(|| out.secondary_damage_usd / out.direct_loss_usd);
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
                        defaulted: clearing.defaulted(p),
                        clearing_payment_usd: clearing.payments.get(p).copied().unwrap_or(0.0),
                        equity_usd: clearing.equity.get(p).copied().unwrap_or(0.0),
                        wave: clearing.wave.get(p).copied().unwrap_or(0),
                        outflows_usd: outflow[p],
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
