//! Closure and exposure cost at 1k, 10k and 100k assets: both should grow linearly.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use ringfence_exposure::{Closure, check_limits, exposure_report, lint};
use ringfence_model::{Model, test_utils::synthetic};

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("exposure");
    g.sample_size(10);
    for n in [1_000usize, 10_000, 100_000] {
        let model = Model::from_spec("synthetic", synthetic(n, 42)).expect("valid synthetic spec");
        g.throughput(Throughput::Elements(n as u64));
        // Cost grows with the dependency entries, not only the assets: say how many there are.
        let entries: usize = Closure::compute(&model).dep.iter().map(Vec::len).sum();
        eprintln!(
            "{n} assets: {} components, {entries} dependency entries ({:.1} per asset)",
            model.components.len(),
            entries as f64 / n as f64
        );
        g.bench_with_input(BenchmarkId::new("closure", n), &model, |b, m| {
            b.iter(|| Closure::compute(m))
        });
        let closure = Closure::compute(&model);
        g.bench_with_input(BenchmarkId::new("report", n), &model, |b, m| {
            b.iter(|| exposure_report(m, &closure, None))
        });
        g.bench_with_input(BenchmarkId::new("limits", n), &model, |b, m| {
            b.iter(|| check_limits(m, &closure))
        });
        g.bench_with_input(BenchmarkId::new("lint", n), &model, |b, m| {
            b.iter(|| lint(m))
        });
        let spec = synthetic(n, 42);
        g.bench_with_input(BenchmarkId::new("validate", n), &spec, |b, s| {
            b.iter(|| Model::from_spec("synthetic", s.clone()))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
