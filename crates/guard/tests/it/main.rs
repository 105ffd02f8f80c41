//! Behaviour tests of the guard: config loading with located errors, and every rule kind fed
//! normalised events.

mod config;
mod document;
mod endpoints;
mod props;
mod rules;

use std::path::Path;
use std::sync::Arc;

use alloy::primitives::{Address, B256, U256};
use ringfence_guard::{Alert, BridgeSide, Engine, Event, EventKind, Fields, GuardSpec};

pub(crate) const EXAMPLE: &str = include_str!("../../../../examples/guard/ringfence-guard.toml");

pub(crate) fn spec(text: &str) -> Arc<GuardSpec> {
    match ringfence_guard::config::parse(Path::new("test.toml"), text) {
        Ok(s) => Arc::new(s),
        Err(e) => panic!("config should parse:\n{e}"),
    }
}

pub(crate) fn units(n: u64, decimals: u8) -> U256 {
    U256::from(n) * U256::from(10u8).pow(U256::from(decimals))
}

pub(crate) fn addr(n: u8) -> Address {
    Address::repeat_byte(n)
}

pub(crate) fn txh(n: u64) -> B256 {
    B256::from(U256::from(n))
}

/// Feeds events, returning all findings.
pub(crate) fn run(engine: &mut Engine, events: &[Event]) -> Vec<Alert> {
    let mut out = Vec::new();
    for e in events {
        engine.apply(e, &mut out);
    }
    out
}

pub(crate) fn ev(chain: u16, block: u64, ts: u64, kind: EventKind) -> Event {
    Event {
        chain,
        block,
        timestamp: ts,
        tx: txh(block * 1000 + 1),
        log_index: 1,
        kind,
    }
}

pub(crate) fn bridge_ev(
    chain: u16,
    block: u64,
    ts: u64,
    side: BridgeSide,
    words: &[B256],
) -> Event {
    ev(
        chain,
        block,
        ts,
        EventKind::Bridge {
            bridge: 0,
            side,
            fields: Fields::new(words),
        },
    )
}
