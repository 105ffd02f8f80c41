//! Rule engine throughput: normalised events through every rule kind (mint-rate, outflow-rate,
//! message-match, backing, privileged, anomaly), at several sizes.

#![allow(missing_docs)]

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;

use alloy::primitives::{Address, B256, U256};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use ringfence_guard::{BridgeSide, Engine, Event, EventKind, Fields, PrivilegedChange};

const CONFIG: &str = include_str!("../../../examples/guard/ringfence-guard.toml");

/// Indices in the example config.
const SRC: u16 = 0;
const DST: u16 = 1;
const USDX: u16 = 0;
const BTC: u16 = 1;
const WBTC: u16 = 2;

fn events(n: usize) -> Vec<Event> {
    let lockbox: Address = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
        .parse()
        .expect("address");
    let token: Address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
        .parse()
        .expect("address");
    let unit8 = U256::from(100_000_000u64);
    let unit18 = U256::from(10u64).pow(U256::from(18));
    let mut out = Vec::with_capacity(n + 8);
    out.push(Event {
        chain: SRC,
        block: 0,
        timestamp: 0,
        tx: B256::ZERO,
        log_index: 0,
        kind: EventKind::BalanceObserved {
            token: BTC,
            holder: lockbox,
            balance: unit8 * U256::from(1_000_000u64),
        },
    });
    out.push(Event {
        chain: DST,
        block: 0,
        timestamp: 0,
        tx: B256::ZERO,
        log_index: 0,
        kind: EventKind::SupplyObserved {
            token: WBTC,
            supply: U256::ZERO,
        },
    });
    let mut i = 0u64;
    while out.len() < n {
        let block = i / 8;
        let ts = 1_000 + block;
        let tx = B256::from(U256::from(i));
        let chain = if i.is_multiple_of(2) { SRC } else { DST };
        let kind = match i % 8 {
            0 => EventKind::Head,
            1 => EventKind::Head,
            2 => EventKind::Bridge {
                bridge: 0,
                side: BridgeSide::Source,
                fields: Fields::new(&[
                    B256::from(U256::from(i / 8)),
                    lockbox.into_word(),
                    U256::from(5u64).into(),
                    Address::repeat_byte(7).into_word(),
                ]),
            },
            3 => EventKind::Mint {
                token: USDX,
                to: Address::repeat_byte((i % 200) as u8),
                amount: unit18 * U256::from(10u64),
                minter: Some(Address::repeat_byte(1)),
            },
            4 => EventKind::Transfer {
                token: BTC,
                from: lockbox,
                to: Address::repeat_byte(9),
                amount: U256::from(1000u64),
            },
            5 => EventKind::Bridge {
                bridge: 0,
                side: BridgeSide::Destination,
                fields: Fields::new(&[
                    B256::from(U256::from(i / 8)),
                    lockbox.into_word(),
                    U256::from(5u64).into(),
                    Address::repeat_byte(7).into_word(),
                ]),
            },
            6 => EventKind::Transfer {
                token: BTC,
                from: Address::repeat_byte(8),
                to: lockbox,
                amount: U256::from(1000u64),
            },
            _ => {
                if i % 4096 == 7 {
                    EventKind::Privileged {
                        contract: token,
                        change: PrivilegedChange::RoleGranted {
                            role: B256::ZERO,
                            account: Address::repeat_byte(3),
                        },
                    }
                } else {
                    EventKind::Mint {
                        token: WBTC,
                        to: Address::repeat_byte(7),
                        amount: U256::from(5u64),
                        minter: None,
                    }
                }
            }
        };
        let chain = match kind {
            EventKind::Bridge {
                side: BridgeSide::Source,
                ..
            }
            | EventKind::Transfer { .. } => SRC,
            EventKind::Head => chain,
            _ => DST,
        };
        out.push(Event {
            chain,
            block,
            timestamp: ts,
            tx,
            log_index: i % 8,
            kind,
        });
        i += 1;
    }
    out
}

fn bench(c: &mut Criterion) {
    let spec = match ringfence_guard::config::parse(Path::new("example.toml"), CONFIG) {
        Ok(s) => Arc::new(s),
        Err(e) => panic!("example config: {e}"),
    };
    let fresh = Engine::new(spec);
    let mut g = c.benchmark_group("engine");
    g.sample_size(10);
    for n in [10_000usize, 100_000, 1_000_000] {
        let evs = events(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_function(format!("all-rule-kinds/{n}"), |b| {
            b.iter_batched(
                || (fresh.clone(), Vec::with_capacity(1024)),
                |(mut engine, mut out)| {
                    for e in &evs {
                        engine.apply(e, &mut out);
                        out.clear();
                    }
                    black_box(engine.events_seen())
                },
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
