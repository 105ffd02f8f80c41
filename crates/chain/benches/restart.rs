//! Restart time of the guard daemon after N stored events: loading the store, the engine
//! snapshot and replaying the events after it (what `ringfence watch` does on start), against
//! replaying every event (what it did before snapshots). The kept tail is 256 blocks of 100
//! events, the most the daemon keeps past its snapshot for reorgs.

#![allow(missing_docs)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ringfence_guard::{Engine, Event, EventKind, GuardSpec};
use ringfence_store::{BlockRecord, Store};

const EVENTS_PER_BLOCK: u64 = 100;
const TAIL_BLOCKS: u64 = 256;

const CONFIG: &str = r#"
[store]
path = "bench.db"
[[chain]]
id = "dst"
rpc = "http://127.0.0.1:1"
[[token]]
id = "USDX"
chain = "dst"
address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
decimals = 18
price_usd = 1.0
[[rule]]
id = "mint-rate"
kind = "mint-rate"
token = "USDX"
window_s = 3600
max_amount = "1000000000000"
[[rule]]
id = "outflow"
kind = "outflow-rate"
chain = "dst"
contract = "0x00000000000000000000000000000000000000aa"
tokens = ["USDX"]
window_s = 3600
max_usd = 1000000000000.0
"#;

fn spec() -> Arc<GuardSpec> {
    Arc::new(ringfence_guard::config::parse(Path::new("bench.toml"), CONFIG).expect("config"))
}

/// A store holding `n` events (mints and transfers out of the watched contract, one head per
/// block); with `snapshot`, the engine state up to the last `TAIL_BLOCKS` blocks is saved and
/// the events it includes pruned, as the daemon does.
fn store(dir: &Path, n: u64, snapshot: bool) -> std::path::PathBuf {
    let path = dir.join(format!("restart-{n}-{snapshot}.db"));
    let spec = spec();
    let mut s = Store::open(&path).expect("store");
    let blocks = n / EVENTS_PER_BLOCK;
    let contract: Address = "0x00000000000000000000000000000000000000aa"
        .parse()
        .expect("address");
    let mut engine = Engine::new(spec.clone());
    let mut sink = Vec::new();
    for b in 1..=blocks {
        let ts = 1_700_000_000 + b * 12;
        let mut events = Vec::with_capacity(EVENTS_PER_BLOCK as usize);
        for i in 0..EVENTS_PER_BLOCK - 1 {
            let kind = if i % 2 == 0 {
                EventKind::Mint {
                    token: 0,
                    to: contract,
                    amount: U256::from(1_000u64 + i),
                    minter: None,
                }
            } else {
                EventKind::Transfer {
                    token: 0,
                    from: contract,
                    to: Address::repeat_byte(7),
                    amount: U256::from(900u64 + i),
                }
            };
            events.push(Event {
                chain: 0,
                block: b,
                timestamp: ts,
                tx: B256::from(U256::from(b * 1_000 + i)),
                log_index: i,
                kind,
            });
        }
        events.push(Event::head(0, b, ts));
        let rec = BlockRecord {
            number: b,
            hash: B256::from(U256::from(b)),
            parent_hash: B256::from(U256::from(b - 1)),
            timestamp: ts,
        };
        s.commit_block("dst", &rec, &events, &[]).expect("commit");
        if snapshot && b + TAIL_BLOCKS <= blocks {
            for e in &events {
                engine.apply(e, &mut sink);
            }
            sink.clear();
        }
    }
    if snapshot {
        let seq = (blocks.saturating_sub(TAIL_BLOCKS)) * EVENTS_PER_BLOCK;
        let body = serde_json::to_string(&engine.snapshot()).expect("json");
        s.save_snapshot(seq, &body).expect("snapshot");
    }
    path
}

fn restart(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let spec = spec();
    let mut g = c.benchmark_group("restart");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    let sizes: Vec<u64> = std::env::var("RINGFENCE_RESTART_SIZES")
        .ok()
        .map(|v| v.split(',').filter_map(|x| x.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![100_000, 1_000_000]);
    for &n in &sizes {
        for snapshot in [true, false] {
            let path = store(dir.path(), n, snapshot);
            let name = if snapshot {
                "snapshot+tail"
            } else {
                "replay-everything"
            };
            g.bench_with_input(BenchmarkId::new(name, n), &path, |b, path| {
                b.iter(|| {
                    let s = Store::open(path).expect("store");
                    let r = ringfence_chain::restore(&spec, &s).expect("restore");
                    assert_eq!(r.engine.events_seen(), n - n % EVENTS_PER_BLOCK);
                    r.replayed
                });
            });
        }
    }
    g.finish();
}

criterion_group!(benches, restart);
criterion_main!(benches);
