//! The exposure report: value at risk per component, per asset and per holder, the single points
//! of failure, and the hidden shared dependencies.

use std::collections::{BTreeMap, BTreeSet};

use ringfence_model::{ComponentIdx, ComponentKind, Model};
use serde::Serialize;

use crate::closure::Closure;

/// One component's value at risk.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ComponentExposure {
    /// Component id.
    pub id: String,
    /// Component kind.
    pub kind: ComponentKind,
    /// `Σ_a value(a) × dep(a, c)`, USD.
    pub value_at_risk_usd: f64,
    /// Value at risk over the total value (0 when the total is 0).
    pub share: f64,
    /// How many assets depend on it at all (`dep > 0`), whatever their value.
    pub assets: usize,
}

/// One asset's dependencies.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AssetExposure {
    /// Asset id.
    pub id: String,
    /// `price_usd × supply`.
    pub value_usd: f64,
    /// `dep(a, c)` for every component it depends on.
    pub depends_on: BTreeMap<String, f64>,
}

/// One holder's exposure.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HolderExposure {
    /// Protocol id.
    pub id: String,
    /// Value of its holdings, USD.
    pub value_usd: f64,
    /// `Σ over holdings of amount × price × dep(asset, c)`, per component, USD.
    pub exposure_usd: BTreeMap<String, f64>,
}

/// A component whose failure alone destroys the whole value of at least one asset.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SinglePointOfFailure {
    /// Component id.
    pub component: String,
    /// Component kind.
    pub kind: ComponentKind,
    /// Value of the assets it destroys in full, USD.
    pub value_usd: f64,
    /// Those assets.
    pub assets: Vec<String>,
}

/// A component that several layers share although they look independent.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct HiddenSharedDependency {
    /// Component id.
    pub component: String,
    /// Component kind.
    pub kind: ComponentKind,
    /// The layers whose routes fall with it.
    pub layers: Vec<String>,
    /// How many assets depend on it at all (`dep > 0`): the same set as `value_at_risk_usd`.
    pub assets: usize,
    /// Of those, the routed assets whose routes on those layers it opens.
    pub routed_assets: usize,
    /// Value at risk behind it (`Σ value × dep` over those `assets`), USD.
    pub value_at_risk_usd: f64,
    /// The finding in plain words.
    pub message: String,
}

/// The whole exposure report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ExposureReport {
    /// Σ of every asset's value, USD.
    pub total_value_usd: f64,
    /// True when some asset has no price or no supply, so totals understate the real value.
    pub values_missing: bool,
    /// How many assets have no price or no supply (their value is not known, not zero).
    pub assets_without_value: usize,
    /// Components by value at risk, largest first.
    pub components: Vec<ComponentExposure>,
    /// Every asset's dependencies.
    pub assets: Vec<AssetExposure>,
    /// Every holder's exposure (or only the one asked for).
    pub holders: Vec<HolderExposure>,
    /// The holder asked for (`--holder`), if any: the report is then that holder's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// Components whose failure alone destroys whole assets, largest first.
    pub single_points_of_failure: Vec<SinglePointOfFailure>,
    /// Components shared by layers that look independent, largest first.
    pub hidden_shared_dependencies: Vec<HiddenSharedDependency>,
}

/// Value at risk per component, dense by component index.
pub fn value_at_risk(model: &Model, closure: &Closure) -> Vec<f64> {
    let mut var = vec![0.0; model.components.len()];
    for (a, deps) in closure.dep.iter().enumerate() {
        let v = model.assets[a].value_usd;
        for &(c, f) in deps {
            var[c as usize] += v * f;
        }
    }
    var
}

/// Builds the exposure report; `holder` restricts the holders section to one protocol id.
pub fn report(model: &Model, closure: &Closure, holder: Option<usize>) -> ExposureReport {
    let total = model.total_value_usd();
    let without_value = model
        .assets
        .iter()
        .filter(|a| a.price_usd == 0.0 || a.supply == 0.0)
        .count();
    let var = value_at_risk(model, closure);
    let mut dependents = vec![0usize; model.components.len()];
    for deps in &closure.dep {
        for &(c, _) in deps {
            dependents[c as usize] += 1;
        }
    }
    let share = |v: f64| if total > 0.0 { v / total } else { 0.0 };
    let name = |c: ComponentIdx| model.components[c as usize].id.clone();

    let mut components: Vec<ComponentExposure> = model
        .components
        .iter()
        .zip(var.iter().zip(&dependents))
        .map(|(c, (&v, &n))| ComponentExposure {
            id: c.id.clone(),
            kind: c.kind,
            value_at_risk_usd: v,
            share: share(v),
            assets: n,
        })
        .collect();
    // By value at risk; where values are unknown, by how many assets depend on it.
    components.sort_by(|a, b| {
        b.value_at_risk_usd
            .total_cmp(&a.value_at_risk_usd)
            .then(b.assets.cmp(&a.assets))
            .then_with(|| a.id.cmp(&b.id))
    });

    let assets = model
        .assets
        .iter()
        .zip(&closure.dep)
        .map(|(a, deps)| AssetExposure {
            id: a.id.clone(),
            value_usd: a.value_usd,
            depends_on: deps.iter().map(|&(c, f)| (name(c), f)).collect(),
        })
        .collect();

    let holders = model
        .protocols
        .iter()
        .enumerate()
        .filter(|(i, p)| holder.map_or(!p.holdings.is_empty(), |h| h == *i))
        .map(|(_, p)| {
            let mut exp: BTreeMap<String, f64> = BTreeMap::new();
            let mut value = 0.0;
            for &(a, amount) in &p.holdings {
                let v = amount * model.assets[a].price_usd;
                value += v;
                for &(c, f) in &closure.dep[a] {
                    *exp.entry(name(c)).or_default() += v * f;
                }
            }
            HolderExposure {
                id: p.id.clone(),
                value_usd: value,
                exposure_usd: exp,
            }
        })
        .collect();

    ExposureReport {
        total_value_usd: total,
        values_missing: without_value > 0,
        assets_without_value: without_value,
        components,
        assets,
        holders,
        holder: holder.map(|h| model.protocols[h].id.clone()),
        single_points_of_failure: single_points_of_failure(model, closure),
        hidden_shared_dependencies: hidden_shared(model, closure, &var, &dependents),
    }
}

fn single_points_of_failure(model: &Model, closure: &Closure) -> Vec<SinglePointOfFailure> {
    let mut by_component: BTreeMap<ComponentIdx, (f64, Vec<String>)> = BTreeMap::new();
    for (a, deps) in closure.dep.iter().enumerate() {
        for &(c, f) in deps {
            if f >= 1.0 {
                let e = by_component.entry(c).or_default();
                e.0 += model.assets[a].value_usd;
                e.1.push(model.assets[a].id.clone());
            }
        }
    }
    let mut out: Vec<SinglePointOfFailure> = by_component
        .into_iter()
        .map(|(c, (value_usd, assets))| SinglePointOfFailure {
            component: model.components[c as usize].id.clone(),
            kind: model.components[c as usize].kind,
            value_usd,
            assets,
        })
        .collect();
    out.sort_by(|a, b| {
        b.value_usd
            .total_cmp(&a.value_usd)
            .then(b.assets.len().cmp(&a.assets.len()))
            .then_with(|| a.component.cmp(&b.component))
    });
    out
}

/// Components (other than chains and layers) that the routes of two or more distinct layers own:
/// diversification at the application layer that one failure undoes.
fn hidden_shared(
    model: &Model,
    closure: &Closure,
    var: &[f64],
    dependents: &[usize],
) -> Vec<HiddenSharedDependency> {
    let mut layers_of: BTreeMap<ComponentIdx, BTreeSet<usize>> = BTreeMap::new();
    let mut full: BTreeMap<ComponentIdx, usize> = BTreeMap::new();
    for (a, asset) in model.assets.iter().enumerate() {
        let Some(route) = &asset.route else { continue };
        for &c in &closure.own[a] {
            let kind = model.components[c as usize].kind;
            if matches!(kind, ComponentKind::Chain | ComponentKind::Layer) {
                continue;
            }
            layers_of.entry(c).or_default().insert(route.layer);
            *full.entry(c).or_default() += 1;
        }
    }
    let mut out: Vec<HiddenSharedDependency> = layers_of
        .into_iter()
        .filter(|(_, ls)| ls.len() >= 2)
        .map(|(c, ls)| {
            let comp = &model.components[c as usize];
            let layers: Vec<String> = ls
                .iter()
                .map(|&l| {
                    model.components[model.layers[l].component as usize]
                        .id
                        .clone()
                })
                .collect();
            let routed = full.get(&c).copied().unwrap_or(0);
            let n = dependents[c as usize];
            // `org:` and `hosting:` ids already say their kind.
            let what = match comp.kind {
                ComponentKind::Org | ComponentKind::Hosting => format!("`{}`", comp.id),
                kind => format!("{kind} `{}`", comp.id),
            };
            // Count and value describe one set: every asset that depends on the component.
            let message = format!(
                "{what} alone can open routes on {} layers that look independent ({}): {} asset{} \
                 depend on it ({routed} through those routes), {} of value at risk",
                layers.len(),
                layers.join(", "),
                n,
                if n == 1 { "" } else { "s" },
                crate::render::usd(var[c as usize]),
            );
            HiddenSharedDependency {
                component: comp.id.clone(),
                kind: comp.kind,
                layers,
                assets: n,
                routed_assets: routed,
                value_at_risk_usd: var[c as usize],
                message,
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.value_at_risk_usd
            .total_cmp(&a.value_at_risk_usd)
            .then_with(|| a.component.cmp(&b.component))
    });
    out
}
