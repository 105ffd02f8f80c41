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
    let mut g = Synth::new(assets, seed);
    g.chains();
    g.operators();
    g.verifier_sets();
    g.keys();
    g.layers();
    g.assets();
    g.protocols();
    g.policy();
    g.s
}

/// The state of one synthetic spec: its sizes, its random stream and the spec so far. The
/// steps run in a fixed order, so the stream (and the spec) is the same for a seed.
struct Synth {
    /// The random stream.
    rng: SplitMix,
    /// The spec so far.
    s: Spec,
    /// Assets to make.
    assets: usize,
    /// Chains, layers, operators, organisations, hosting providers, verifier sets, keys.
    n_chains: usize,
    n_layers: usize,
    n_ops: usize,
    n_orgs: usize,
    n_hosts: usize,
    n_sets: usize,
    n_keys: usize,
}

impl Synth {
    /// The sizes for `assets` assets, and an empty spec.
    fn new(assets: usize, seed: u64) -> Self {
        let n_layers = (assets / 500).clamp(3, 40);
        let n_ops = (assets / 20).clamp(12, 2000);
        Synth {
            rng: SplitMix::new(seed),
            s: Spec::default(),
            assets,
            n_chains: (assets / 200).clamp(4, 64),
            n_layers,
            n_ops,
            n_orgs: (n_ops / 3).max(4),
            n_hosts: 6,
            n_sets: n_layers * 2,
            n_keys: (assets / 10).max(4),
        }
    }

    /// Chains `chain-0…`, with ids from 1.
    fn chains(&mut self) {
        for c in 0..self.n_chains {
            self.s.chains.push(Chain {
                id: r(format!("chain-{c}")),
                chain_id: Some(c as u64 + 1),
                block_time_s: Some(2.0),
                source: None,
            });
        }
    }

    /// Operators `op-0…`, each in a random organisation and hosting provider.
    fn operators(&mut self) {
        for o in 0..self.n_ops {
            self.s.operators.push(Operator {
                id: r(format!("op-{o}")),
                org: r(format!("org-{}", self.rng.below(self.n_orgs))),
                hosting: r(format!("cloud-{}", self.rng.below(self.n_hosts))),
                failure_probability: Some(0.01),
                source: None,
            });
        }
    }

    /// Verifier sets `vs-0…` (two per layer) of 1 to 9 distinct operators.
    fn verifier_sets(&mut self) {
        for v in 0..self.n_sets {
            let n = 1 + self.rng.below(9);
            let mut members: Vec<usize> = Vec::with_capacity(n);
            while members.len() < n {
                let m = self.rng.below(self.n_ops);
                if !members.contains(&m) {
                    members.push(m);
                }
            }
            self.s.verifier_sets.push(VerifierSet {
                id: r(format!("vs-{v}")),
                threshold: 1 + self.rng.below(n) as u32,
                members: members.into_iter().map(|m| r(format!("op-{m}"))).collect(),
                source: None,
            });
        }
    }

    /// Keys `key-0…` of every kind: single keys hosted, multi-party keys with 2 to 7 signers.
    fn keys(&mut self) {
        for k in 0..self.n_keys {
            let kind = [
                KeyKind::Eoa,
                KeyKind::Kms,
                KeyKind::Multisig,
                KeyKind::Mpc,
                KeyKind::Hsm,
            ][self.rng.below(5)];
            let (threshold, signers, hosting) = if kind.is_single() {
                (
                    None,
                    Vec::new(),
                    Some(r(format!("cloud-{}", self.rng.below(self.n_hosts)))),
                )
            } else {
                let n = 2 + self.rng.below(6);
                let signers: Vec<_> = (0..n)
                    .map(|i| r(format!("op-{}", (k * 7 + i) % self.n_ops)))
                    .collect();
                (Some(1 + self.rng.below(n) as u32), signers, None)
            };
            self.s.keys.push(Key {
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
    }

    /// Layers `layer-0…`, each with its even verifier set and a random admin key.
    fn layers(&mut self) {
        for l in 0..self.n_layers {
            self.s.layers.push(Layer {
                id: r(format!("layer-{l}")),
                verifier_set: r(format!("vs-{}", l * 2)),
                admin: Some(r(format!("key-{}", self.rng.below(self.n_keys)))),
                failure_probability: Some(0.01),
                source: None,
            });
        }
    }

    /// Assets `asset-0…`: a third bridged, a quarter backed by earlier assets, a third with a
    /// mint authority.
    fn assets(&mut self) {
        for a in 0..self.assets {
            let asset = self.asset(a);
            self.s.assets.push(asset);
        }
    }

    /// Asset `asset-{a}`.
    fn asset(&mut self, a: usize) -> Asset {
        let rng = &mut self.rng;
        let bridged = rng.below(3) == 0;
        let backed = a > 0 && rng.below(4) == 0;
        let route = bridged.then(|| Route {
            layer: r(format!("layer-{}", rng.below(self.n_layers))),
            verifier_set: (rng.below(2) == 0).then(|| r(format!("vs-{}", rng.below(self.n_sets)))),
            source: Some(r(format!("chain-{}", rng.below(self.n_chains)))),
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
        Asset {
            id: r(format!("asset-{a}")),
            chain: r(format!("chain-{}", rng.below(self.n_chains))),
            kind: if bridged {
                AssetKind::Wrapped
            } else {
                AssetKind::Canonical
            },
            price_usd: spanned(0.5 + rng.unit() * 100.0),
            supply: spanned(1e3 + rng.unit() * 1e7),
            backing,
            mint_authority: (rng.below(3) == 0)
                .then(|| r(format!("key-{}", rng.below(self.n_keys)))),
            mint_cap: None,
            route,
            depth_usd: Some(spanned(1e7)),
            source: None,
        }
    }

    /// Vault protocols `protocol-0…` (one per 50 assets, at least 2) with five holdings each.
    fn protocols(&mut self) {
        let assets = self.assets;
        let n_protocols = (assets / 50).max(2);
        for p in 0..n_protocols {
            let holdings = (0..5)
                .map(|_| Holding {
                    asset: r(format!("asset-{}", self.rng.below(assets.max(1)))),
                    amount: spanned(self.rng.unit() * 1e5),
                })
                .collect();
            self.s.protocols.push(Protocol {
                id: r(format!("protocol-{p}")),
                kind: ProtocolKind::Vault,
                chain: r(format!("chain-{}", self.rng.below(self.n_chains))),
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
    }

    /// One policy: no layer above 30% of the bridged value.
    fn policy(&mut self) {
        self.s.policies.push(Policy {
            id: r("layer-cap"),
            scope: r("ecosystem"),
            component_kind: Some(ComponentKind::Layer),
            component: None,
            max_share: spanned(0.3),
            basis: Basis::Bridged,
            source: None,
        });
    }
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
