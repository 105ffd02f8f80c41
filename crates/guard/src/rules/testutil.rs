//! A small two-chain world for the rule modules' unit tests.

use std::path::Path;
use std::sync::Arc;

use alloy::primitives::{Address, B256, U256};

use crate::alert::Alert;
use crate::engine::Engine;
use crate::event::{Event, EventKind};

/// Chains `a` (0) and `b` (1); token `T` on `a` and `L` on `b`, both with 0 decimals and $1;
/// bridge `br` from `b` to `a` matching `id` and `amount`; a pause action.
const BASE: &str = include_str!("testutil.toml");

pub(super) fn engine(rules: &str) -> Engine {
    let text = format!("{BASE}\n{rules}");
    match crate::config::parse(Path::new("t.toml"), &text) {
        Ok(s) => Engine::new(Arc::new(s)),
        Err(e) => panic!("test config should parse:\n{e}"),
    }
}

pub(super) fn addr(n: u8) -> Address {
    Address::repeat_byte(n)
}

pub(super) fn word(n: u64) -> B256 {
    B256::from(U256::from(n))
}

/// An event in block `block` at time `ts` (transaction and log index derived from the block).
pub(super) fn ev(chain: u16, block: u64, ts: u64, kind: EventKind) -> Event {
    Event {
        chain,
        block,
        timestamp: ts,
        tx: word(block * 1000 + u64::from(chain) + 1),
        log_index: 1,
        kind,
    }
}

/// Feeds events, returning all findings.
pub(super) fn run(e: &mut Engine, events: &[Event]) -> Vec<Alert> {
    let mut out = Vec::new();
    for x in events {
        e.apply(x, &mut out);
    }
    out
}
