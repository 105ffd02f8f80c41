//! Events per second through the bus and the rules against the in-process engine: the same
//! synthetic blocks (mints of one token under a mint-rate rule, one head each) either applied
//! straight to a fresh engine, or read back from a JetStream stream on a local nats-server by an
//! ordered consumer, decoded and checked by the codec, then applied. The member's SQLite commit
//! per block is the same in both modes (single-process `watch` commits each block too) and is
//! left out of both.

use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use async_nats::jetstream::consumer::{self, DeliverPolicy};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures_util::StreamExt;
use ringfence_fleet::bus::{Bus, BusOptions};
use ringfence_fleet::codec::{self, Body, Envelope, Header, VERSION};
use ringfence_fleet::testing::{Nats, mint_rate_spec};
use ringfence_guard::{Engine, Event, EventKind};

fn blocks(n: u64, per_block: u64) -> Vec<Envelope> {
    (1..=n)
        .map(|b| {
            let ts = 1_700_000_000 + b * 12;
            let mut events: Vec<Event> = (0..per_block)
                .map(|i| Event {
                    chain: 0,
                    block: b,
                    timestamp: ts,
                    tx: B256::from(U256::from(b * 1_000 + i)),
                    log_index: i,
                    kind: EventKind::Mint {
                        token: 0,
                        to: Address::repeat_byte(7),
                        amount: U256::from(1_000u64 + i),
                        minter: None,
                    },
                })
                .collect();
            events.push(Event::head(0, b, ts));
            Envelope {
                v: VERSION,
                config: "bench".into(),
                member: "m".into(),
                body: Body::Block {
                    chain: "c".into(),
                    header: Header {
                        number: b,
                        hash: B256::from(U256::from(b)),
                        parent: B256::from(U256::from(b - 1)),
                        timestamp: ts,
                    },
                    events,
                },
            }
        })
        .collect()
}

fn events_of(env: &Envelope) -> &[Event] {
    match &env.body {
        Body::Block { events, .. } => events,
        _ => &[],
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let spec = mint_rate_spec(6, "1000000000000");
    let mut g = c.benchmark_group("bus_vs_in_process");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(5));
    for (n, per) in [(200u64, 50u64), (1_000, 50)] {
        let envs = blocks(n, per);
        let total: u64 = envs.iter().map(|e| events_of(e).len() as u64).sum();
        g.throughput(Throughput::Elements(total));
        g.bench_with_input(
            BenchmarkId::new("in_process_engine", total),
            &envs,
            |b, envs| {
                b.iter(|| {
                    let mut engine = Engine::new(spec.clone());
                    let mut out = Vec::new();
                    for env in envs {
                        for e in events_of(env) {
                            engine.apply(e, &mut out);
                        }
                    }
                    out.len()
                })
            },
        );
        // The codec alone (no server): what of the bus path is decoding.
        let bytes: Vec<Vec<u8>> = envs.iter().map(codec::encode).collect();
        g.bench_with_input(
            BenchmarkId::new("codec_engine", total),
            &bytes,
            |b, bytes| {
                b.iter(|| {
                    let mut engine = Engine::new(spec.clone());
                    let mut out = Vec::new();
                    for m in bytes {
                        let env = codec::decode("ringfence.blocks.c", m, "bench", &spec)
                            .expect("decodes");
                        for e in events_of(&env) {
                            engine.apply(e, &mut out);
                        }
                    }
                    out.len()
                })
            },
        );
        // A fresh server per size: its stream holds exactly these blocks.
        let nats = Nats::single().expect("nats-server: run scripts/setup-nats.sh");
        let bus = rt
            .block_on(Bus::connect(&nats.urls(), "bench", &BusOptions::default()))
            .expect("bus");
        let subject = codec::block_subject("c");
        rt.block_on(async {
            let mut last = 0;
            for env in &envs {
                last = bus
                    .append(&subject, codec::encode(env), last)
                    .await
                    .expect("append")
                    .expect("sole writer");
            }
        });
        g.bench_with_input(
            BenchmarkId::new("bus_codec_engine", total),
            &envs,
            |b, envs| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let mut took = Duration::ZERO;
                        for _ in 0..iters {
                            let t = Instant::now();
                            let consumer = bus
                                .stream
                                .create_consumer(consumer::pull::OrderedConfig {
                                    filter_subject: codec::BLOCKS.into(),
                                    deliver_policy: DeliverPolicy::All,
                                    ..Default::default()
                                })
                                .await
                                .expect("consumer");
                            let mut msgs = consumer.messages().await.expect("messages");
                            let mut engine = Engine::new(spec.clone());
                            let mut out = Vec::new();
                            for _ in 0..envs.len() {
                                let m = msgs.next().await.expect("message").expect("ok");
                                let env =
                                    codec::decode(m.subject.as_str(), &m.payload, "bench", &spec)
                                        .expect("decodes");
                                for e in events_of(&env) {
                                    engine.apply(e, &mut out);
                                }
                            }
                            took += t.elapsed();
                        }
                        took
                    })
                })
            },
        );
        drop(nats);
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
