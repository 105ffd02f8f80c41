//! Dependency closure: for each asset, the fraction of its value lost if a component fails.
//!
//! `own(a, c)` is the share of the asset's value a failure of `c` alone takes, in (0, 1]:
//! - `own(a, chain of a) = 1`;
//! - with a route: [`route_share`] (1, or one bucket of the route's rate limit:
//!   `min(1, capacity / supply)`) for the route's layer, for the effective verifier set `V` (the
//!   route's override, else the layer's default), for the layer's admin key if any, and for every
//!   operator, org or hosting that alone covers at least `V.threshold` members of `V` (an operator
//!   covers itself; an org or hosting covers the members that carry it);
//! - with a mint authority `K`: [`mint_share`] (1 without a mint cap, else one window's cap
//!   diluting the holders: `cap / (supply + cap)`) for `K`; for an eoa, kms or hsm key also for
//!   its hosting; for a multisig or mpc key for every operator, org or hosting that covers at
//!   least `K.threshold` signers;
//! - a component in several of these takes the largest.
//!
//! `ringfence stress` applies exactly these shares (`ringfence_stress::System::loss_shares`), so
//! exposure and stress give one answer for a single failure.
//!
//! `dep(a, c) = max(own(a, c), Σ over backing of share × dep(backing asset, c))`.
//!
//! Each asset's dependencies are a sparse vector sorted by component index, computed in the
//! model's backing order, so the whole closure costs time linear in the size of the spec (times
//! the number of dependencies per asset).

use ringfence_model::{AssetNode, ComponentIdx, Model};

/// Share of an asset's value that an attacker holding its mint authority takes: without a mint
/// cap the mint is unbounded (1); with one, one window's cap of unbacked units dilutes the
/// holders by `cap / (supply + cap)`.
pub fn mint_share(asset: &AssetNode) -> f64 {
    match asset.mint_cap {
        Some((cap, _)) if asset.supply + cap > 0.0 => cap / (asset.supply + cap),
        _ => 1.0,
    }
}

/// Share of an asset's value that a failed route (layer, verifier set, admin key) lets an
/// attacker release: without a rate limit the whole backing (1); with one, one full bucket,
/// `min(1, capacity / supply)`, before the guard or the operators react (1 when the supply is not
/// known).
pub fn route_share(asset: &AssetNode) -> f64 {
    match asset.route.as_ref().and_then(|r| r.rate_limit) {
        Some((capacity, _)) if asset.supply > 0.0 => (capacity / asset.supply).min(1.0),
        // Without a supply the bucket bounds nothing we can measure: the whole asset.
        _ => 1.0,
    }
}

/// One asset's dependencies: `(component, fraction)` sorted by component, fractions in (0, 1].
pub type DepVec = Vec<(ComponentIdx, f64)>;

/// The dependency closure of every asset of a model.
#[derive(Clone, Debug, PartialEq)]
pub struct Closure {
    /// `own(a, ·) > 0` per asset, sorted component indices.
    pub own: Vec<Vec<ComponentIdx>>,
    /// `own(a, c)` per asset, aligned with [`Closure::own`].
    pub own_share: Vec<Vec<f64>>,
    /// `dep(a, ·)` per asset.
    pub dep: Vec<DepVec>,
}

impl Closure {
    /// Computes the closure of a validated model.
    pub fn compute(model: &Model) -> Self {
        let gates = Gates::new(model);
        let owned: Vec<DepVec> = (0..model.assets.len())
            .map(|a| own(model, &gates, a))
            .collect();
        let mut dep: Vec<DepVec> = vec![Vec::new(); model.assets.len()];
        let mut scratch: Vec<(ComponentIdx, f64)> = Vec::new();
        for &a in &model.backing_order {
            let asset = &model.assets[a];
            scratch.clear();
            for &(b, share) in &asset.backing {
                scratch.extend(dep[b].iter().map(|&(c, f)| (c, share * f)));
            }
            dep[a] = combine(&mut scratch, &owned[a]);
        }
        let own = owned
            .iter()
            .map(|o| o.iter().map(|&(c, _)| c).collect())
            .collect();
        let own_share = owned
            .iter()
            .map(|o| o.iter().map(|&(_, f)| f).collect())
            .collect();
        Self {
            own,
            own_share,
            dep,
        }
    }

    /// `dep(asset, component)`.
    pub fn dep(&self, asset: usize, component: ComponentIdx) -> f64 {
        let d = &self.dep[asset];
        d.binary_search_by_key(&component, |&(c, _)| c)
            .map_or(0.0, |i| d[i].1)
    }
}

/// Sums the backing contributions per component, then takes the max with `own` (sorted by
/// component).
fn combine(scratch: &mut Vec<(ComponentIdx, f64)>, own: &[(ComponentIdx, f64)]) -> DepVec {
    scratch.extend(own.iter().map(|&(c, _)| (c, 0.0)));
    scratch.sort_unstable_by_key(|&(c, _)| c);
    let mut out: DepVec = Vec::with_capacity(scratch.len());
    for &(c, f) in scratch.iter() {
        match out.last_mut() {
            Some((last, acc)) if *last == c => *acc += f,
            _ => out.push((c, f)),
        }
    }
    for (c, f) in &mut out {
        // Shares sum to at most 1 (within rounding), so a backed fraction never exceeds 1.
        let inherited = f.min(1.0);
        *f = match own.binary_search_by_key(c, |&(o, _)| o) {
            Ok(i) => own[i].1.max(inherited),
            Err(_) => inherited,
        };
    }
    out.retain(|&(_, f)| f > 0.0);
    out
}

/// The components that, failing alone, open each verifier set and multisig/mpc key.
struct Gates {
    verifier_sets: Vec<Vec<ComponentIdx>>,
    keys: Vec<Vec<ComponentIdx>>,
}

impl Gates {
    fn new(model: &Model) -> Self {
        let verifier_sets = model
            .verifier_sets
            .iter()
            .map(|v| covering(model, &v.members, v.threshold))
            .collect();
        let keys = model
            .keys
            .iter()
            .map(|k| {
                if k.kind.is_single() {
                    k.hosting.into_iter().collect()
                } else {
                    covering(model, &k.signers, k.threshold)
                }
            })
            .collect();
        Self {
            verifier_sets,
            keys,
        }
    }
}

/// Every operator, org and hosting that alone covers at least `threshold` of `members`.
pub fn covering(model: &Model, members: &[usize], threshold: u32) -> Vec<ComponentIdx> {
    let threshold = threshold.max(1) as usize;
    let mut counts: Vec<(ComponentIdx, usize)> = Vec::with_capacity(members.len() * 3);
    for &m in members {
        let op = &model.operators[m];
        counts.push((op.component, 1));
        counts.push((op.org, 1));
        counts.push((op.hosting, 1));
    }
    counts.sort_unstable_by_key(|&(c, _)| c);
    let mut out = Vec::new();
    let mut i = 0;
    while i < counts.len() {
        let c = counts[i].0;
        let mut n = 0;
        while i < counts.len() && counts[i].0 == c {
            n += counts[i].1;
            i += 1;
        }
        if n >= threshold {
            out.push(c);
        }
    }
    out
}

/// How many of `members` each org and hosting carries: `(component, count)` for counts ≥ 2.
pub fn shared_carriers(model: &Model, members: &[usize]) -> Vec<(ComponentIdx, usize)> {
    let mut counts: Vec<ComponentIdx> = Vec::with_capacity(members.len() * 2);
    for &m in members {
        counts.push(model.operators[m].org);
        counts.push(model.operators[m].hosting);
    }
    counts.sort_unstable();
    let mut out: Vec<(ComponentIdx, usize)> = Vec::new();
    for c in counts {
        match out.last_mut() {
            Some((last, n)) if *last == c => *n += 1,
            _ => out.push((c, 1)),
        }
    }
    out.retain(|&(_, n)| n >= 2);
    out
}

fn own(model: &Model, gates: &Gates, a: usize) -> DepVec {
    let asset = &model.assets[a];
    let mut out = vec![(model.chains[asset.chain], 1.0)];
    if let Some(route) = &asset.route {
        let f = route_share(asset);
        let layer = &model.layers[route.layer];
        out.push((layer.component, f));
        out.push((model.verifier_sets[route.verifier_set].component, f));
        if let Some(admin) = layer.admin {
            out.push((model.keys[admin].component, f));
        }
        out.extend(
            gates.verifier_sets[route.verifier_set]
                .iter()
                .map(|&c| (c, f)),
        );
    }
    if let Some(k) = asset.mint_authority {
        let f = mint_share(asset);
        out.push((model.keys[k].component, f));
        out.extend(gates.keys[k].iter().map(|&c| (c, f)));
    }
    // The largest share per component, sorted by component.
    out.sort_unstable_by(|x, y| x.0.cmp(&y.0).then(y.1.total_cmp(&x.1)));
    out.dedup_by_key(|x| x.0);
    out.retain(|&(_, f)| f > 0.0);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combine_sums_backing_and_takes_the_max_with_own() {
        let mut s = vec![(3, 0.25), (1, 0.5), (3, 0.25), (2, 0.5)];
        assert_eq!(
            combine(&mut s, &[(2, 1.0), (4, 0.1)]),
            vec![(1, 0.5), (2, 1.0), (3, 0.5), (4, 0.1)]
        );
        let mut s = vec![(2, 0.5)];
        assert_eq!(combine(&mut s, &[(2, 0.2)]), vec![(2, 0.5)]);
    }

    #[test]
    fn shares_bound_by_caps_and_buckets_only_when_measurable() {
        let spec = "[[chain]]\nid = \"a\"\nchain_id = 1\n[[chain]]\nid = \"b\"\nchain_id = 2\n\
            [[operator]]\nid = \"o\"\norg = \"x\"\nhosting = \"h\"\n\
            [[verifier_set]]\nid = \"v\"\nthreshold = 1\nmembers = [\"o\"]\n\
            [[layer]]\nid = \"l\"\nverifier_set = \"v\"\n\
            [[key]]\nid = \"k\"\nkind = \"eoa\"\n\
            [[asset]]\nid = \"T\"\nchain = \"b\"\nkind = \"wrapped\"\nprice_usd = 1\nsupply = 1000\n\
            route = { layer = \"l\", source = \"a\", rate_limit = { capacity = 100, refill_per_s = 1 } }\n\
            [[asset]]\nid = \"U\"\nchain = \"b\"\nkind = \"wrapped\"\nprice_usd = 0\nsupply = 0\n\
            route = { layer = \"l\", source = \"a\", rate_limit = { capacity = 100, refill_per_s = 1 } }\n\
            [[asset]]\nid = \"S\"\nchain = \"a\"\nkind = \"stablecoin\"\nprice_usd = 1\nsupply = 900\n\
            mint_authority = \"k\"\nmint_cap = { amount = 100, window_s = 3600 }\n";
        let m = match Model::from_str("t.toml", spec) {
            Ok(m) => m,
            Err(d) => panic!("{d}"),
        };
        let c = Closure::compute(&m);
        let id = |s: &str| m.component(s).unwrap_or(u32::MAX);
        let (t, u, s) = (0, 1, 2);
        assert!((c.dep(t, id("l")) - 0.1).abs() < 1e-12);
        assert_eq!(c.dep(t, id("b")), 1.0);
        assert_eq!(c.dep(u, id("l")), 1.0);
        assert!((c.dep(s, id("k")) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn combine_never_exceeds_one() {
        let mut s = vec![(1, 0.6), (1, 0.6)];
        assert_eq!(combine(&mut s, &[]), vec![(1, 1.0)]);
    }
}
