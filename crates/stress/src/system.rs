//! The ecosystem as the DeFi propagation engine sees it: a validated [`Model`] flattened into
//! dense arrays, plus the joint-failure rules that turn a set of failed components into the share
//! of each asset's value that is lost.
//!
//! For a single failed component the loss shares are exactly the dependency closure `dep(a, c)` of
//! `ringfence-exposure`. For a set, the same rules are applied jointly: an operator fails with its
//! org or hosting; a verifier set or multisig/mpc key opens when the failed members (directly or
//! through shared orgs and hostings) reach its threshold — so two operators of a 2-of-3 set fail it
//! together although neither does alone; then `dep(a, F) = max(own(a, F), Σ share × dep(b, F))`
//! over the backing.

use ringfence_exposure::closure::{mint_share, route_share};
use ringfence_model::{ComponentIdx, Model};

use crate::error::{Error, Result};
use crate::network::{ClaimNetwork, ClaimNetworkBuilder, Seniority};

/// How an asset was compromised, which decides how the attacker realises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Attack {
    /// Untouched.
    None,
    /// Its mint authority failed: unbacked units that must be sold into the market.
    Mint,
    /// Its chain or route failed: the backing itself is taken (a drained lockbox, a forged
    /// release), which the attacker holds at full value.
    Drain,
}

#[derive(Debug, Clone)]
pub(crate) struct MarketRef {
    pub protocol: usize,
    pub collateral: usize,
    pub threshold: f64,
    pub bonus: f64,
    pub fixed_oracle: bool,
    pub rules: ringfence_model::spec::Liquidation,
    /// Positions: `(collateral units, debt USD at pre-stress prices)`, adding up to the market.
    pub buckets: Vec<(f64, f64)>,
    /// Whether its collateral is frozen (see [`System::freeze_markets`]).
    pub frozen: bool,
}

/// Excess health factors (over 1) of the default position distribution, relative to the
/// aggregate's excess, with equal shares of debt: positions spread evenly between health factor
/// 1 and twice the aggregate's excess. An assumption (documented in the README), replaced by a
/// market's `positions` where the protocol's risk dashboard publishes them.
pub const DEFAULT_HF_SPREAD: [f64; 5] = [0.1, 0.5, 1.0, 1.5, 1.9];

/// Splits a market into position buckets. `shape` gives `(health factor, share of debt)`; the
/// excess of each health factor over 1 is scaled so that the buckets add up to the market's
/// collateral and debt, so a bucket is never below 1 before the stress when the aggregate is not.
pub(crate) fn buckets(
    collateral_units: f64,
    collateral_price: f64,
    debt_usd: f64,
    threshold: f64,
    shape: &[(f64, f64)],
) -> Vec<(f64, f64)> {
    let one = vec![(collateral_units, debt_usd)];
    if debt_usd <= 0.0 || collateral_price <= 0.0 || threshold <= 0.0 {
        return one;
    }
    let hf = collateral_units * collateral_price * threshold / debt_usd;
    let default: Vec<(f64, f64)>;
    let shape = if shape.is_empty() {
        default = DEFAULT_HF_SPREAD
            .iter()
            .map(|m| (1.0 + m, 1.0 / DEFAULT_HF_SPREAD.len() as f64))
            .collect();
        &default
    } else {
        shape
    };
    let mean_excess: f64 = shape.iter().map(|&(h, sh)| sh * (h - 1.0)).sum();
    if hf <= 1.0 || mean_excess <= 0.0 {
        return one;
    }
    let k = (hf - 1.0) / mean_excess;
    shape
        .iter()
        .map(|&(h, sh)| {
            let d = sh * debt_usd;
            let bucket_hf = 1.0 + (h - 1.0) * k;
            (d * bucket_hf / (threshold * collateral_price), d)
        })
        .collect()
}

/// A model prepared for stress runs. Cheap to query many times (ranking, Monte Carlo).
#[derive(Debug)]
pub struct System<'m> {
    pub(crate) model: &'m Model,
    pub(crate) markets: Vec<MarketRef>,
    pub(crate) network: ClaimNetwork,
    /// Baseline external assets of each protocol in the clearing: `external_assets_usd` plus
    /// holdings at pre-stress prices.
    pub(crate) base_assets: Vec<f64>,
    /// Baseline total assets (external + holdings + receivables), for relative losses.
    pub(crate) total_assets: Vec<f64>,
    /// Holdings of each protocol net of the collateral borrowers posted in its own markets.
    pub(crate) own_holdings: Vec<Vec<(usize, f64)>>,
    /// Components with a failure probability, `(component, p)`.
    pub(crate) base_events: Vec<(ComponentIdx, f64)>,
    /// Withdrawals each protocol can pay without selling (USD).
    pub(crate) liquid: Vec<f64>,
    /// Whether a protocol is a lending market or CDP (its loans cannot be sold to pay
    /// withdrawals).
    pub(crate) lending: Vec<bool>,
}

/// Scratch for evaluating a failed set without allocating.
#[derive(Debug, Clone, Default)]
pub(crate) struct FailScratch {
    comp: Vec<bool>,
    op: Vec<bool>,
    pub own: Vec<f64>,
    pub dep: Vec<f64>,
    pub attack: Vec<Attack>,
    /// Whether the asset's mint authority is open (also when it is drained: an attacker holding
    /// both drains the backing and sells minted units, so a further failure never lowers a loss).
    pub mint_open: Vec<bool>,
}

impl<'m> System<'m> {
    /// Prepare a validated model.
    pub fn new(model: &'m Model) -> Result<Self> {
        let own_holdings = own_holdings(model);
        let (network, base_assets) = claims_network(model, &own_holdings)?;
        let total_assets = (0..model.protocols.len())
            .map(|p| base_assets[p] + network.network_receivable(p))
            .collect();
        let lending = lending_flags(model);
        Ok(Self {
            liquid: liquid_reserves(model, &lending),
            lending,
            model,
            markets: markets(model),
            own_holdings,
            network,
            base_assets,
            total_assets,
            base_events: base_events(model),
        })
    }

    /// Freezes the collateral of the named markets (`protocol/market`), as an issuer does when
    /// it pauses its token or blacklists the holder (KelpDAO 2026: Kelp paused rsETH and
    /// blacklisted the attacker, whose rsETH was posted on Aave). Liquidators cannot seize frozen
    /// collateral, so nothing liquidates; the borrower is taken not to repay (the attacker
    /// posted what it took), so the whole debt is bad debt. That bad debt is the attacker's take
    /// landing on the lender, inside the direct loss, and is not added to the realized loss
    /// again.
    pub fn freeze_markets(&mut self, ids: &[&str]) -> Result<()> {
        for id in ids {
            let found = id.split_once('/').and_then(|(proto, mk)| {
                let p = self.model.protocol(proto)?;
                let mut i = 0;
                for (pi, proto) in self.model.protocols.iter().enumerate() {
                    for m in &proto.markets {
                        if pi == p && m.id.as_deref() == Some(mk) {
                            return Some(i);
                        }
                        i += 1;
                    }
                }
                None
            });
            let i = found.ok_or_else(|| Error::Invalid {
                entity: (*id).to_owned(),
                message: "no such `protocol/market` to freeze".into(),
            })?;
            self.markets[i].frozen = true;
        }
        Ok(())
    }

    /// The model.
    pub fn model(&self) -> &'m Model {
        self.model
    }

    /// Number of components.
    pub fn component_count(&self) -> usize {
        self.model.components.len()
    }

    /// Resolve component ids (`org:…` and `hosting:…` included).
    pub fn resolve(&self, ids: &[String]) -> Result<Vec<ComponentIdx>> {
        let mut out: Vec<ComponentIdx> = ids
            .iter()
            .map(|id| {
                self.model
                    .component(id)
                    .ok_or_else(|| Error::UnknownComponent(id.clone()))
            })
            .collect::<Result<_>>()?;
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }

    /// The share of each asset's value lost when `failed` fail jointly (see the module docs).
    pub fn loss_shares(&self, failed: &[ComponentIdx]) -> Vec<f64> {
        let mut s = FailScratch::default();
        self.evaluate(failed, &mut s);
        s.dep
    }

    pub(crate) fn evaluate(&self, failed: &[ComponentIdx], s: &mut FailScratch) {
        let m = self.model;
        s.comp.clear();
        s.comp.resize(m.components.len(), false);
        for &c in failed {
            if let Some(x) = s.comp.get_mut(c as usize) {
                *x = true;
            }
        }
        let comp = &s.comp;
        s.op.clear();
        s.op.extend(m.operators.iter().map(|o| {
            comp[o.component as usize] || comp[o.org as usize] || comp[o.hosting as usize]
        }));
        let op = &s.op;
        let covered = |members: &[usize], threshold: u32| {
            members.iter().filter(|&&i| op[i]).count() >= threshold.max(1) as usize
        };
        let vs_open = |v: usize| {
            let vs = &m.verifier_sets[v];
            comp[vs.component as usize] || covered(&vs.members, vs.threshold)
        };
        let key_open = |k: usize| {
            let key = &m.keys[k];
            comp[key.component as usize]
                || if key.kind.is_single() {
                    key.hosting.is_some_and(|h| comp[h as usize])
                } else {
                    covered(&key.signers, key.threshold)
                }
        };
        let n = m.assets.len();
        s.own.clear();
        s.own.resize(n, 0.0);
        s.dep.clear();
        s.dep.resize(n, 0.0);
        s.attack.clear();
        s.attack.resize(n, Attack::None);
        s.mint_open.clear();
        s.mint_open.resize(n, false);
        for &a in &m.backing_order {
            let asset = &m.assets[a];
            let mint = asset.mint_authority.is_some_and(key_open);
            let chain = comp[m.chains[asset.chain] as usize];
            let route = asset.route.as_ref().is_some_and(|r| {
                let layer = &m.layers[r.layer];
                comp[layer.component as usize]
                    || vs_open(r.verifier_set)
                    || layer
                        .admin
                        .is_some_and(|k| comp[m.keys[k].component as usize])
            });
            // The same shares as the dependency closure of `ringfence exposure`: a failed chain
            // takes everything, a failed route one bucket of its rate limit (or everything), a
            // failed mint authority one window of its mint cap (or everything).
            let drain = if chain {
                1.0
            } else if route {
                route_share(asset)
            } else {
                0.0
            };
            let minted = if mint { mint_share(asset) } else { 0.0 };
            let (own, attack) = if drain > 0.0 && drain >= minted {
                (drain, Attack::Drain)
            } else if minted > 0.0 {
                (minted, Attack::Mint)
            } else {
                (0.0, Attack::None)
            };
            let inherited: f64 = asset.backing.iter().map(|&(b, sh)| sh * s.dep[b]).sum();
            s.own[a] = own;
            s.attack[a] = attack;
            s.mint_open[a] = mint;
            s.dep[a] = own.max(inherited.min(1.0));
        }
    }
}

fn invalid(entity: &str, e: Error) -> Error {
    Error::Invalid {
        entity: entity.to_owned(),
        message: e.to_string(),
    }
}

/// Every lending market, split into position buckets.
fn markets(model: &Model) -> Vec<MarketRef> {
    model
        .protocols
        .iter()
        .enumerate()
        .flat_map(|(p, proto)| {
            proto.markets.iter().map(move |m| MarketRef {
                protocol: p,
                collateral: m.collateral,
                threshold: m.liquidation_threshold,
                bonus: m.liquidation_bonus,
                fixed_oracle: m.oracle == ringfence_model::spec::Oracle::Fixed,
                rules: proto.liquidation,
                buckets: buckets(
                    m.collateral_amount,
                    model.assets[m.collateral].price_usd,
                    m.debt_amount * model.assets[m.debt_asset].price_usd,
                    m.liquidation_threshold,
                    &m.positions,
                ),
                frozen: false,
            })
        })
        .collect()
}

/// Each protocol's holdings net of the collateral borrowers posted in its own markets.
fn own_holdings(model: &Model) -> Vec<Vec<(usize, f64)>> {
    model
        .protocols
        .iter()
        .map(|proto| {
            proto
                .holdings
                .iter()
                .map(|&(a, units)| {
                    let posted: f64 = proto
                        .markets
                        .iter()
                        .filter(|mk| mk.collateral == a)
                        .map(|mk| mk.collateral_amount)
                        .sum();
                    (a, (units - posted).max(0.0))
                })
                .collect()
        })
        .collect()
}

/// The claims network, with each protocol's external assets in it (external assets, own
/// holdings at pre-stress prices, loans), and those external assets.
fn claims_network(
    model: &Model,
    own_holdings: &[Vec<(usize, f64)>],
) -> Result<(ClaimNetwork, Vec<f64>)> {
    let n = model.protocols.len();
    let mut b = ClaimNetworkBuilder::new(n).with_capacity(model.claims.len());
    let mut base_assets = vec![0.0; n];
    for (p, proto) in model.protocols.iter().enumerate() {
        // A lending protocol owns its holdings net of the collateral borrowers posted, and a
        // claim on its borrowers worth their debt, at most the collateral behind it: the
        // borrowers' equity is theirs, not the protocol's.
        let holdings: f64 = own_holdings[p]
            .iter()
            .map(|&(a, units)| units * model.assets[a].price_usd)
            .sum();
        let loans: f64 = proto
            .markets
            .iter()
            .map(|mk| {
                let coll = mk.collateral_amount * model.assets[mk.collateral].price_usd;
                let debt = mk.debt_amount * model.assets[mk.debt_asset].price_usd;
                debt.min(coll)
            })
            .sum();
        base_assets[p] = proto.external_assets_usd + holdings + loans;
        let seniority = match proto.seniority {
            ringfence_model::spec::Seniority::Senior => Seniority::Senior,
            ringfence_model::spec::Seniority::PariPassu => Seniority::PariPassu,
        };
        b.external_assets(p, base_assets[p])
            .map_err(|e| invalid(&proto.id, e))?;
        b.external_liabilities(p, proto.external_liabilities_usd, seniority)
            .map_err(|e| invalid(&proto.id, e))?;
    }
    for c in &model.claims {
        b.claim(c.debtor, c.creditor, c.amount_usd)
            .map_err(|e| invalid(&model.protocols[c.debtor].id, e))?;
    }
    Ok((b.build()?, base_assets))
}

/// Components with a failure probability, `(component, p)`.
fn base_events(model: &Model) -> Vec<(ComponentIdx, f64)> {
    model
        .components
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            c.failure_probability
                .filter(|p| *p > 0.0)
                .map(|p| (i as ComponentIdx, p.min(1.0)))
        })
        .collect()
}

/// Whether each protocol is a lending market or CDP.
fn lending_flags(model: &Model) -> Vec<bool> {
    model
        .protocols
        .iter()
        .map(|p| {
            matches!(
                p.kind,
                ringfence_model::spec::ProtocolKind::Lending
                    | ringfence_model::spec::ProtocolKind::Cdp
            )
        })
        .collect()
}

/// Withdrawals each protocol can pay without selling: `liquid_share × deposits`, else for a
/// lender what its markets have not lent out, else nothing.
fn liquid_reserves(model: &Model, lending: &[bool]) -> Vec<f64> {
    model
        .protocols
        .iter()
        .zip(lending)
        .map(|(p, &lends)| match p.liquid_share {
            Some(l) => p.deposits_usd * l,
            // Utilisation from its own markets: what is not lent out can be withdrawn.
            None if lends => {
                let lent: f64 = p
                    .markets
                    .iter()
                    .map(|mk| mk.debt_amount * model.assets[mk.debt_asset].price_usd)
                    .sum();
                (p.deposits_usd - lent).max(0.0)
            }
            None => 0.0,
        })
        .collect()
}
