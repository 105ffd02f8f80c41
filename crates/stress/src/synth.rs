//! Synthetic claim networks for tests and benchmarks (feature `test-utils`).

use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::network::{ClaimNetwork, ClaimNetworkBuilder, Seniority};

/// A random network and a shocked copy of its external assets.
#[derive(Debug, Clone)]
pub struct Synthetic {
    /// The network, every node solvent with its own external assets.
    pub network: ClaimNetwork,
    /// External assets after a shock that wipes most external assets of `shocked_share` of the
    /// nodes.
    pub shocked_assets: Vec<f64>,
    /// Capital buffers (equity before the shock), for DebtRank.
    pub capital: Vec<f64>,
}

/// A random directed network of `n` nodes with about `degree` claims per node, amounts uniform in
/// `[0.5, 1.5)`, external liabilities at 20 % of network debts, and external assets leaving each
/// node a 5 % equity buffer. The shock keeps 20 % of the external assets of `shocked_share` of the
/// nodes. Deterministic in `seed`.
#[allow(clippy::needless_range_loop)]
pub fn random_network(n: usize, degree: usize, shocked_share: f64, seed: u64) -> Synthetic {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut b = ClaimNetworkBuilder::new(n).with_capacity(n * degree);
    let mut owed = vec![0.0; n];
    let mut due = vec![0.0; n];
    if n > 1 {
        for i in 0..n {
            let k = rng.random_range(1..=(2 * degree.max(1) - 1));
            for _ in 0..k {
                let mut j = rng.random_range(0..n - 1);
                if j >= i {
                    j += 1;
                }
                let a = 0.5 + rng.random::<f64>();
                if b.claim(i, j, a).is_ok() {
                    owed[i] += a;
                    due[j] += a;
                }
            }
        }
    }
    let mut capital = vec![0.0; n];
    let mut e = vec![0.0; n];
    for i in 0..n {
        let ext = 0.2 * owed[i];
        let total = owed[i] + ext;
        capital[i] = 0.05 * total.max(1.0);
        e[i] = (total - due[i]).max(0.0) + capital[i];
        let _ = b.external_liabilities(i, ext, Seniority::PariPassu);
        let _ = b.external_assets(i, e[i]);
    }
    let shocked_assets = e
        .iter()
        .map(|&x| {
            if rng.random::<f64>() < shocked_share {
                0.2 * x
            } else {
                x
            }
        })
        .collect();
    let network = match b.build() {
        Ok(net) => net,
        Err(err) => panic!("synthetic network is valid by construction: {err}"),
    };
    Synthetic {
        network,
        shocked_assets,
        capital,
    }
}
