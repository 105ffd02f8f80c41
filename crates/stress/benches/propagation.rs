//! The DeFi propagation and the uncertainty sampler on synthetic ecosystems of growing size
//! (`ringfence_model::test_utils::synthetic`) and on the example (ranking every component; the
//! uncertainty of the Resolv run).

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ringfence_model::Model;
use ringfence_model::test_utils::synthetic;
use ringfence_stress::{StressParams, System, uncertainty};

const SIZES: [usize; 3] = [100, 1_000, 10_000];

fn propagation(c: &mut Criterion) {
    let mut g = c.benchmark_group("rank_every_single_failure");
    g.sample_size(10);
    for n in SIZES {
        let Ok(model) = Model::from_spec("synthetic", synthetic(n, 7)) else {
            continue;
        };
        let Ok(sys) = System::new(&model) else {
            continue;
        };
        let p = StressParams::default();
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| sys.rank(&p).len())
        });
    }
    // The example: every one of its components, as `ringfence stress --rank` ranks them.
    if let Some(model) = example()
        && let Ok(sys) = System::new(&model)
    {
        let p = StressParams::default();
        g.bench_function("example", |b| b.iter(|| sys.rank(&p).len()));
    }
    g.finish();
}

fn example() -> Option<Model> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ecosystem.toml");
    Model::load(&path).ok()
}

fn ranges(c: &mut Criterion) {
    let Some(model) = example() else { return };
    let Ok(sys) = System::new(&model) else { return };
    let Ok(failed) = sys.resolve(&["resolv-service-role".to_owned()]) else {
        return;
    };
    let p = StressParams::default();
    let mut g = c.benchmark_group("uncertainty_resolv");
    g.sample_size(10);
    for draws in [100usize, 1_000, 10_000] {
        g.bench_with_input(BenchmarkId::from_parameter(draws), &draws, |b, &d| {
            b.iter(|| uncertainty::sample(&model, &failed, &p, d, 1, &|_| {}).map(|u| u.draws))
        });
    }
    g.finish();
}

criterion_group!(benches, propagation, ranges);
criterion_main!(benches);
