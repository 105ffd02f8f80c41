//! Per-rule state machines, one module per rule kind: each module holds the kind's state, the
//! logic that reads the kind's config (its [`RuleKind`] variant) and its unit tests. This module
//! only dispatches an event to the rule it belongs to. Each rule is pure and deterministic: its
//! output depends only on the events applied, in order.

mod anomaly;
mod backing;
mod message_match;
mod mint_rate;
mod outflow_rate;
mod privileged;
#[cfg(test)]
mod testutil;
mod window;

use alloy::primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::alert::{Alert, Severity};
use crate::engine::World;
use crate::event::{Event, Fields};
use crate::reason::Reason;
use crate::spec::{RuleKind, TokenSpec};

pub(crate) use anomaly::Anomaly;
pub(crate) use backing::Backing;
pub(crate) use message_match::MessageMatch;
pub(crate) use mint_rate::MintRate;
pub(crate) use outflow_rate::OutflowRate;

/// Mutable state of one rule.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[allow(
    clippy::large_enum_variant,
    reason = "one per rule, built once, never moved on the hot path"
)]
pub(crate) enum RuleState {
    MintRate(MintRate),
    OutflowRate(OutflowRate),
    MessageMatch(MessageMatch),
    Backing(Backing),
    /// The privileged rule keeps no state: every counted change is reported.
    Privileged,
    Anomaly(Anomaly),
}

impl RuleState {
    pub(crate) fn new(kind: &RuleKind) -> Self {
        match kind {
            RuleKind::MintRate { .. } => Self::MintRate(MintRate::default()),
            RuleKind::OutflowRate { .. } => Self::OutflowRate(OutflowRate::default()),
            RuleKind::MessageMatch { .. } => Self::MessageMatch(MessageMatch::default()),
            RuleKind::Backing { .. } => Self::Backing(Backing::default()),
            RuleKind::Privileged { .. } => Self::Privileged,
            RuleKind::Anomaly { .. } => Self::Anomaly(Anomaly::default()),
        }
    }

    /// A new head on a chain the rule follows (timeouts, judgements deferred to a block's end).
    pub(crate) fn on_head(&mut self, w: &World, r: u16, ev: &Event, out: &mut Vec<Alert>) {
        let Some(rule) = w.spec.rules.get(usize::from(r)) else {
            return;
        };
        match (self, &rule.kind) {
            (Self::MessageMatch(s), k @ RuleKind::MessageMatch { .. }) => {
                s.on_head(w, r, k, ev, out);
            }
            (Self::Backing(s), RuleKind::Backing { .. }) => s.on_head(w, r, ev, out),
            _ => {}
        }
    }

    /// An event routed to the rule by the engine.
    pub(crate) fn on_event(&mut self, w: &World, r: u16, ev: &Event, out: &mut Vec<Alert>) {
        let Some(rule) = w.spec.rules.get(usize::from(r)) else {
            return;
        };
        match (self, &rule.kind) {
            (Self::MintRate(s), k @ RuleKind::MintRate { .. }) => s.on_event(w, r, k, ev, out),
            (Self::OutflowRate(s), k @ RuleKind::OutflowRate { .. }) => {
                s.on_event(w, r, k, ev, out);
            }
            (Self::MessageMatch(s), k @ RuleKind::MessageMatch { .. }) => {
                s.on_event(w, r, k, ev, out);
            }
            (Self::Backing(s), RuleKind::Backing { .. }) => s.on_event(w, r, ev, out),
            (Self::Privileged, k @ RuleKind::Privileged { .. }) => {
                privileged::on_event(r, k, ev, out);
            }
            (Self::Anomaly(s), k @ RuleKind::Anomaly { .. }) => s.on_event(w, r, k, ev, out),
            _ => {}
        }
    }
}

fn token(w: &World, t: u16) -> Option<&TokenSpec> {
    w.spec.tokens.get(usize::from(t))
}

fn alert(
    rule: u16,
    severity: Severity,
    reason: Reason,
    ev: &Event,
    evidence: serde_json::Value,
) -> Alert {
    Alert {
        rule,
        severity,
        reason,
        chain: ev.chain,
        block: ev.block,
        timestamp: ev.timestamp,
        tx: ev.tx,
        log_index: ev.log_index,
        evidence,
        event: ev.kind,
    }
}

fn named_fields(e: &alloy::json_abi::Event, f: &Fields) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (p, w) in e.inputs.iter().zip(f.as_slice()) {
        m.insert(p.name.clone(), word_json(&p.ty, *w));
    }
    serde_json::Value::Object(m)
}

/// A word rendered by its Solidity type: addresses as addresses, integers in decimal.
fn word_json(ty: &str, w: B256) -> serde_json::Value {
    if ty == "address" {
        json!(Address::from_word(w))
    } else if ty.starts_with("uint") {
        json!(U256::from_be_bytes(w.0).to_string())
    } else {
        json!(w)
    }
}
