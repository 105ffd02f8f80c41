//! Concentration limits: which policies are breached, and the smallest rebalancing that clears
//! each breach.
//!
//! A policy's share for component `c` is the value at risk to `c` within the policy's scope over
//! the scope's total (the whole ecosystem, or one protocol's holdings); with `basis = "bridged"`
//! only assets that have a route count, in numerator and denominator.
//!
//! The excess of a breach is `value_at_risk − max_share × total`: the value that must move off the
//! component. It moves to other components of the same kind that have headroom under the same
//! `max_share` (so a move never creates a breach of the same limit), largest headroom first, which
//! needs the fewest moves. Breaches are cleared largest first and share the headroom, so that all
//! moves of one policy can be made together. Whatever finds no room is a move with `to: null`.

use ringfence_model::{ComponentIdx, Model, PolicyTarget, spec::Basis};
use serde::Serialize;

use crate::closure::Closure;

/// Shares within this of the limit are not breaches (rounding).
const TOLERANCE: f64 = 1e-12;

/// One rebalancing move.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Move {
    /// The component to move value off.
    pub from: String,
    /// The component to move it to; `None` when no component of the kind has room.
    pub to: Option<String>,
    /// USD to move.
    pub amount_usd: f64,
}

/// One breach of one policy by one component.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Breach {
    /// Policy id.
    pub policy: String,
    /// Component id.
    pub component: String,
    /// Its share within the policy's scope and basis.
    pub share: f64,
    /// The limit.
    pub max_share: f64,
    /// USD above the limit.
    pub excess_usd: f64,
    /// The smallest rebalancing that clears it.
    pub moves: Vec<Move>,
}

/// The limits report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LimitsReport {
    /// Every breach, by policy in spec order, then by excess, largest first.
    pub breaches: Vec<Breach>,
}

/// Checks every policy of the model.
pub fn check(model: &Model, closure: &Closure) -> LimitsReport {
    let mut breaches = Vec::new();
    for policy in &model.policies {
        let (var, total) = scoped_value_at_risk(model, closure, policy.scope, policy.basis);
        let cap = policy.max_share * total;
        let kind = match policy.target {
            PolicyTarget::Kind(k) => k,
            PolicyTarget::Component(c) => model.components[c as usize].kind,
        };
        let limited: Vec<ComponentIdx> = match policy.target {
            PolicyTarget::Kind(k) => (0..model.components.len() as ComponentIdx)
                .filter(|&c| model.components[c as usize].kind == k)
                .collect(),
            PolicyTarget::Component(c) => vec![c],
        };
        let mut over: Vec<(ComponentIdx, f64)> = limited
            .iter()
            .filter(|&&c| total > 0.0 && var[c as usize] / total > policy.max_share + TOLERANCE)
            .map(|&c| (c, var[c as usize] - cap))
            .collect();
        if over.is_empty() {
            continue;
        }
        over.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        // Headroom of every other component of the kind, largest first.
        let mut room: Vec<(ComponentIdx, f64)> = (0..model.components.len() as ComponentIdx)
            .filter(|&c| {
                model.components[c as usize].kind == kind && !over.iter().any(|&(o, _)| o == c)
            })
            .map(|c| (c, cap - var[c as usize]))
            .filter(|&(_, r)| r > 0.0)
            .collect();
        room.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for (c, excess) in over {
            let from = model.components[c as usize].id.clone();
            let mut left = excess;
            let mut moves = Vec::new();
            for (d, r) in room.iter_mut() {
                if left <= 0.0 {
                    break;
                }
                if *r <= 0.0 {
                    continue;
                }
                let amount = left.min(*r);
                *r -= amount;
                left -= amount;
                moves.push(Move {
                    from: from.clone(),
                    to: Some(model.components[*d as usize].id.clone()),
                    amount_usd: amount,
                });
            }
            if left > 0.0 {
                moves.push(Move {
                    from: from.clone(),
                    to: None,
                    amount_usd: left,
                });
            }
            room.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            breaches.push(Breach {
                policy: policy.id.clone(),
                component: from,
                share: var[c as usize] / total,
                max_share: policy.max_share,
                excess_usd: excess,
                moves,
            });
        }
    }
    LimitsReport { breaches }
}

/// Value at risk per component and the total, within a scope (`None` = ecosystem) and basis.
pub fn scoped_value_at_risk(
    model: &Model,
    closure: &Closure,
    scope: Option<usize>,
    basis: Basis,
) -> (Vec<f64>, f64) {
    let counts = |a: usize| basis == Basis::All || model.assets[a].route.is_some();
    let mut var = vec![0.0; model.components.len()];
    let mut total = 0.0;
    let mut add = |a: usize, v: f64| {
        total += v;
        for &(c, f) in &closure.dep[a] {
            var[c as usize] += v * f;
        }
    };
    match scope {
        None => {
            for (a, asset) in model.assets.iter().enumerate() {
                if counts(a) {
                    add(a, asset.value_usd);
                }
            }
        }
        Some(p) => {
            for &(a, amount) in &model.protocols[p].holdings {
                if counts(a) {
                    add(a, amount * model.assets[a].price_usd);
                }
            }
        }
    }
    (var, total)
}
