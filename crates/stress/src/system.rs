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
    pub collateral_units: f64,
    pub debt_asset: usize,
    pub debt_units: f64,
    pub threshold: f64,
    pub bonus: f64,
    pub fixed_oracle: bool,
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
}

/// Scratch for evaluating a failed set without allocating.
#[derive(Debug, Clone, Default)]
pub(crate) struct FailScratch {
    comp: Vec<bool>,
    op: Vec<bool>,
    pub own: Vec<f64>,
    pub dep: Vec<f64>,
    pub attack: Vec<Attack>,
}

impl<'m> System<'m> {
    /// Prepare a validated model.
    pub fn new(model: &'m Model) -> Result<Self> {
        let markets = model
            .protocols
            .iter()
            .enumerate()
            .flat_map(|(p, proto)| {
                proto.markets.iter().map(move |m| MarketRef {
                    protocol: p,
                    collateral: m.collateral,
                    collateral_units: m.collateral_amount,
                    debt_asset: m.debt_asset,
                    debt_units: m.debt_amount,
                    threshold: m.liquidation_threshold,
                    bonus: m.liquidation_bonus,
                    fixed_oracle: m.oracle == ringfence_model::spec::Oracle::Fixed,
                })
            })
            .collect();
        let n = model.protocols.len();
        let mut b = ClaimNetworkBuilder::new(n).with_capacity(model.claims.len());
        let mut base_assets = vec![0.0; n];
        for (p, proto) in model.protocols.iter().enumerate() {
            let holdings: f64 = proto
                .holdings
                .iter()
                .map(|&(a, units)| units * model.assets[a].price_usd)
                .sum();
            base_assets[p] = proto.external_assets_usd + holdings;
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
        let network = b.build()?;
        let total_assets = (0..n)
            .map(|p| base_assets[p] + network.network_receivable(p))
            .collect();
        let base_events = model
            .components
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                c.failure_probability
                    .filter(|p| *p > 0.0)
                    .map(|p| (i as ComponentIdx, p.min(1.0)))
            })
            .collect();
        let own_holdings = model
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
            .collect();
        Ok(Self {
            model,
            markets,
            own_holdings,
            network,
            base_assets,
            total_assets,
            base_events,
        })
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
        for &a in &m.backing_order {
            let asset = &m.assets[a];
            let mint = asset.mint_authority.is_some_and(key_open);
            let drain = comp[m.chains[asset.chain] as usize]
                || asset.route.as_ref().is_some_and(|r| {
                    let layer = &m.layers[r.layer];
                    comp[layer.component as usize]
                        || vs_open(r.verifier_set)
                        || layer
                            .admin
                            .is_some_and(|k| comp[m.keys[k].component as usize])
                });
            let (own, attack) = if drain {
                (1.0, Attack::Drain)
            } else if mint {
                // A mint cap bounds the unbacked units to one window's cap: holders are diluted
                // by cap / (supply + cap). Without a cap the mint is unbounded.
                let own = match asset.mint_cap {
                    Some((cap, _)) if asset.supply + cap > 0.0 => cap / (asset.supply + cap),
                    _ => 1.0,
                };
                (own, Attack::Mint)
            } else {
                (0.0, Attack::None)
            };
            let inherited: f64 = asset.backing.iter().map(|&(b, sh)| sh * s.dep[b]).sum();
            s.own[a] = own;
            s.attack[a] = attack;
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
