//! Synthetic ecosystems for tests and benchmarks (feature `test-utils`).
//!
//! [`synthetic`] builds a valid spec of any size, deterministic for a seed: chains, layers with
//! k-of-n verifier sets over operators spread across orgs and clouds, keys, assets (a third
//! bridged, a quarter backed by earlier assets, some with mint keys), protocols holding them, and
//! policies.

use crate::spec::{
    Asset, AssetKind, Backing, Chain, Holding, Key, KeyKind, Layer, Operator, Policy, Protocol,
    ProtocolKind, Route, Spec, VerifierSet, r,
};
use crate::{ComponentKind, spec::Basis};

/// A small deterministic generator (SplitMix64), so the model crate needs no `rand`.
#[derive(Clone, Debug)]
pub struct SplitMix(u64);

impl SplitMix {
    /// Seeds the generator.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn spanned(v: f64) -> toml::Spanned<f64> {
    toml::Spanned::new(0..0, v)
}

/// A valid synthetic spec with `assets` assets, deterministic for `seed`.
pub fn synthetic(assets: usize, seed: u64) -> Spec {
    let mut rng = SplitMix::new(seed);
    let n_chains = (assets / 200).clamp(4, 64);
    let n_layers = (assets / 500).clamp(3, 40);
    let n_ops = (assets / 20).clamp(12, 2000);
    let n_orgs = (n_ops / 3).max(4);
    let n_hosts = 6;
    let mut s = Spec::default();
    for c in 0..n_chains {
        s.chains.push(Chain {
            id: r(format!("chain-{c}")),
            chain_id: Some(c as u64 + 1),
            block_time_s: Some(2.0),
            source: None,
        });
    }
    for o in 0..n_ops {
        s.operators.push(Operator {
            id: r(format!("op-{o}")),
            org: r(format!("org-{}", rng.below(n_orgs))),
            hosting: r(format!("cloud-{}", rng.below(n_hosts))),
            failure_probability: Some(0.01),
            source: None,
        });
    }
    let n_sets = n_layers * 2;
    for v in 0..n_sets {
        let n = 1 + rng.below(9);
        let mut members: Vec<usize> = Vec::with_capacity(n);
        while members.len() < n {
            let m = rng.below(n_ops);
            if !members.contains(&m) {
                members.push(m);
            }
        }
        s.verifier_sets.push(VerifierSet {
            id: r(format!("vs-{v}")),
            threshold: 1 + rng.below(n) as u32,
            members: members.into_iter().map(|m| r(format!("op-{m}"))).collect(),
            source: None,
        });
    }
    let n_keys = (assets / 10).max(4);
    for k in 0..n_keys {
        let kind = [
            KeyKind::Eoa,
            KeyKind::Kms,
            KeyKind::Multisig,
            KeyKind::Mpc,
            KeyKind::Hsm,
        ][rng.below(5)];
        let (threshold, signers, hosting) = if kind.is_single() {
            (
                None,
                Vec::new(),
                Some(r(format!("cloud-{}", rng.below(n_hosts)))),
            )
        } else {
            let n = 2 + rng.below(6);
            let signers: Vec<_> = (0..n)
                .map(|i| r(format!("op-{}", (k * 7 + i) % n_ops)))
                .collect();
            (Some(1 + rng.below(n) as u32), signers, None)
        };
        s.keys.push(Key {
            id: r(format!("key-{k}")),
            kind,
            hosting,
            threshold,
            signers,
            timelock_s: None,
            failure_probability: Some(0.02),
            source: None,
        });
    }
    for l in 0..n_layers {
        s.layers.push(Layer {
            id: r(format!("layer-{l}")),
            verifier_set: r(format!("vs-{}", l * 2)),
            admin: Some(r(format!("key-{}", rng.below(n_keys)))),
            failure_probability: Some(0.01),
            source: None,
        });
    }
    for a in 0..assets {
        let bridged = rng.below(3) == 0;
        let backed = a > 0 && rng.below(4) == 0;
        let route = bridged.then(|| Route {
            layer: r(format!("layer-{}", rng.below(n_layers))),
            verifier_set: (rng.below(2) == 0).then(|| r(format!("vs-{}", rng.below(n_sets)))),
            source: Some(r(format!("chain-{}", rng.below(n_chains)))),
            rate_limit: None,
        });
        let backing = if backed {
            let k = 1 + rng.below(3);
            (0..k)
                .map(|_| Backing {
                    asset: r(format!("asset-{}", rng.below(a))),
                    share: spanned(1.0 / k as f64),
                })
                .collect()
        } else {
            Vec::new()
        };
        s.assets.push(Asset {
            id: r(format!("asset-{a}")),
            chain: r(format!("chain-{}", rng.below(n_chains))),
            kind: if bridged {
                AssetKind::Wrapped
            } else {
                AssetKind::Canonical
            },
            price_usd: spanned(0.5 + rng.unit() * 100.0),
            supply: spanned(1e3 + rng.unit() * 1e7),
            backing,
            mint_authority: (rng.below(3) == 0).then(|| r(format!("key-{}", rng.below(n_keys)))),
            mint_cap: None,
            route,
            depth_usd: Some(spanned(1e7)),
            source: None,
        });
    }
    let n_protocols = (assets / 50).max(2);
    for p in 0..n_protocols {
        let holdings = (0..5)
            .map(|_| Holding {
                asset: r(format!("asset-{}", rng.below(assets.max(1)))),
                amount: spanned(rng.unit() * 1e5),
            })
            .collect();
        s.protocols.push(Protocol {
            id: r(format!("protocol-{p}")),
            kind: ProtocolKind::Vault,
            chain: r(format!("chain-{}", rng.below(n_chains))),
            holdings: if assets > 0 { holdings } else { Vec::new() },
            external_assets_usd: 0.0,
            external_liabilities_usd: 0.0,
            seniority: Default::default(),
            capital_usd: None,
            deposits_usd: 0.0,
            outflow_sensitivity: 0.0,
            liquid_share: None,
            liquidation: Default::default(),
            markets: Vec::new(),
            source: None,
        });
    }
    s.policies.push(Policy {
        id: r("layer-cap"),
        scope: r("ecosystem"),
        component_kind: Some(ComponentKind::Layer),
        component: None,
        max_share: spanned(0.3),
        basis: Basis::Bridged,
        source: None,
    });
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Model;

    #[test]
    fn synthetic_specs_are_valid_at_several_sizes() {
        for n in [0, 1, 10, 500] {
            let m = Model::from_spec("synthetic", synthetic(n, 7));
            assert!(m.is_ok(), "n={n}: {}", m.err().unwrap_or_default());
        }
    }

    #[test]
    fn synthetic_is_deterministic() {
        assert_eq!(synthetic(50, 3), synthetic(50, 3));
        assert_ne!(synthetic(50, 3), synthetic(50, 4));
    }
}
