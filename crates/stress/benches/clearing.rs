//! Clearing and DebtRank on synthetic claim networks of growing size.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ringfence_stress::{
    Clearing, ClearingParams, DebtRankMethod, ImpactNetwork, synth::random_network,
};

const SIZES: [usize; 4] = [100, 1_000, 10_000, 100_000];

fn clearing(c: &mut Criterion) {
    clearing_group(c, "clearing_en", &ClearingParams::eisenberg_noe());
    clearing_group(
        c,
        "clearing_rv_0.5_0.7",
        &ClearingParams::rogers_veraart(0.5, 0.7).unwrap_or_default(),
    );
}

/// One benchmark group: clearing with `params` on each synthetic network size.
fn clearing_group(c: &mut Criterion, name: &str, params: &ClearingParams) {
    let mut g = c.benchmark_group(name);
    g.sample_size(20);
    for n in SIZES {
        let s = random_network(n, 5, 0.1, 7);
        let mut out = Clearing::default();
        g.throughput(Throughput::Elements(s.network.claim_count() as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                s.network
                    .clear_into(&s.shocked_assets, params, &mut out)
                    .map(|()| out.waves)
            })
        });
    }
    g.finish();
}

fn debtrank(c: &mut Criterion) {
    let mut g = c.benchmark_group("debtrank_differential");
    g.sample_size(20);
    for n in SIZES {
        let s = random_network(n, 5, 0.1, 7);
        let weights: Vec<f64> = (0..n).map(|i| s.network.total_liabilities(i)).collect();
        let Ok(v) = ImpactNetwork::from_claims(&s.network, &s.capital, &weights) else {
            continue;
        };
        let h0: Vec<f64> = (0..n)
            .map(|i| if i % 100 == 0 { 1.0 } else { 0.0 })
            .collect();
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| {
                v.debtrank(&h0, DebtRankMethod::Differential)
                    .map(|r| r.rounds)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, clearing, debtrank);
criterion_main!(benches);
