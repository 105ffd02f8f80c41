//! Per-rule state machines. Each is pure and deterministic: its output depends only on the
//! events applied, in order.

mod window;

use std::collections::VecDeque;

use alloy::primitives::map::{AddressHashMap, B256HashMap};

use alloy::primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::alert::{Alert, Severity};
use crate::amount::{format_units, pow10, to_f64};
use crate::engine::World;
use crate::event::{BridgeSide, Event, EventKind, Fields};
use crate::spec::{AnomalyMetric, RuleKind, TokenSpec};

use window::SlidingSum;

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
    Privileged,
    Anomaly(Anomaly),
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct MintRate {
    total: SlidingSum<U256>,
    total_latched: bool,
    per_minter: AddressHashMap<(SlidingSum<U256>, bool)>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct OutflowRate {
    window: SlidingSum<f64>,
    latched: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct SourceRecord {
    fields: Fields,
    block: u64,
    timestamp: u64,
    tx: B256,
    log_index: u64,
    /// The destination event (transaction, log index) matched against it.
    consumed_by: Option<(B256, u64)>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct MessageMatch {
    /// Source events by key, kept until `timeout_s` after they were seen (a delivery later than
    /// that is judged without its source).
    sources: B256HashMap<SourceRecord>,
    order: VecDeque<(u64, B256)>,
    pending: VecDeque<Event>,
    /// Destination events (transaction, log index) whose matched source a reorg removed: judged
    /// again, and `source-reorged` when the source is still missing.
    #[serde(default)]
    rejudge: Vec<(B256, u64)>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Backing {
    latched: bool,
    pending: Option<Event>,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Anomaly {
    bucket: u64,
    current: f64,
    baseline: f64,
    buckets_seen: u32,
    alerted_bucket: Option<u64>,
    started: bool,
}

fn token(w: &World, t: u16) -> Option<&TokenSpec> {
    w.spec.tokens.get(usize::from(t))
}

fn alert(
    rule: u16,
    severity: Severity,
    reason: &'static str,
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

    pub(crate) fn on_head(&mut self, w: &World, r: u16, ev: &Event, out: &mut Vec<Alert>) {
        let Some(rule) = w.spec.rules.get(usize::from(r)) else {
            return;
        };
        match (self, &rule.kind) {
            (
                Self::MessageMatch(s),
                RuleKind::MessageMatch {
                    bridge,
                    timeout_s,
                    relay_delay_s,
                    source_wait_s,
                },
            ) => {
                let Some(b) = w.spec.bridges.get(usize::from(*bridge)) else {
                    return;
                };
                let dst_ts = w.head_ts(b.destination.chain);
                let src_ts = w.head_ts(b.source.chain);
                // Destination events waiting for the source chain to catch up.
                while let Some(p) = s.pending.front() {
                    let ready = src_ts.saturating_add(*relay_delay_s) >= p.timestamp;
                    let waited = dst_ts >= p.timestamp.saturating_add(*source_wait_s);
                    if !(ready || waited) {
                        break;
                    }
                    let Some(p) = s.pending.pop_front() else {
                        break;
                    };
                    s.judge(w, r, *bridge, &p, !ready, out);
                }
                // Sources never released.
                if ev.chain == b.destination.chain {
                    while let Some(&(ts, key)) = s.order.front() {
                        if ts.saturating_add(*timeout_s) > dst_ts {
                            break;
                        }
                        s.order.pop_front();
                        // Forget the source once its timeout passed (memory stays bounded by
                        // the window); an unmatched one is reported first.
                        let Some(rec) = s.sources.get(&key).filter(|r| r.timestamp == ts) else {
                            continue;
                        };
                        let rec = rec.clone();
                        s.sources.remove(&key);
                        if rec.consumed_by.is_none() {
                            let src_ev = Event {
                                chain: b.source.chain,
                                block: rec.block,
                                timestamp: rec.timestamp,
                                tx: rec.tx,
                                log_index: rec.log_index,
                                kind: EventKind::Head,
                            };
                            out.push(alert(
                                r,
                                Severity::Alert,
                                "source-unmatched",
                                &src_ev,
                                json!({
                                    "bridge": b.id,
                                    "key": b.match_on.get(b.key),
                                    "source": named_fields(&b.source.event, &rec.fields),
                                    "timeout_s": timeout_s,
                                    "destination_head_timestamp": dst_ts,
                                }),
                            ));
                        }
                    }
                }
            }
            (Self::Backing(s), RuleKind::Backing { .. }) if s.pending.is_some() => {
                s.check(w, r, ev, true, out);
            }
            _ => {}
        }
    }

    pub(crate) fn on_event(&mut self, w: &World, r: u16, ev: &Event, out: &mut Vec<Alert>) {
        let Some(rule) = w.spec.rules.get(usize::from(r)) else {
            return;
        };
        match (self, &rule.kind) {
            (
                Self::MintRate(s),
                RuleKind::MintRate {
                    token: t,
                    window_s,
                    max_amount,
                    max_share_ppm,
                    max_per_minter,
                },
            ) => {
                let EventKind::Mint {
                    token: et,
                    to,
                    amount,
                    minter,
                } = ev.kind
                else {
                    return;
                };
                if et != *t {
                    return;
                }
                let Some(tok) = token(w, *t) else { return };
                // A trip fires when the window sum crosses the limit from below; the latch is
                // released once old mints leave the window and the sum is back under it.
                s.total.evict(ev.timestamp, *window_s);
                let before = s.total.sum();
                let total = s.total.push(ev.timestamp, amount, *window_s);
                let mut limit = *max_amount;
                if let (Some(ppm), Some(supply)) = (
                    max_share_ppm,
                    w.supply.get(usize::from(*t)).copied().flatten(),
                ) {
                    let base = supply.saturating_sub(total);
                    let share = base.saturating_mul(U256::from(*ppm)) / U256::from(1_000_000u64);
                    limit = Some(limit.map_or(share, |l| l.min(share)));
                }
                if let Some(limit) = limit {
                    if before <= limit {
                        s.total_latched = false;
                    }
                    if total > limit {
                        if !s.total_latched {
                            s.total_latched = true;
                            out.push(alert(
                                r,
                                Severity::Trip,
                                "window-exceeded",
                                ev,
                                json!({
                                    "scope": "token",
                                    "token": tok.id,
                                    "to": to,
                                    "minter": minter,
                                    "amount": format_units(amount, tok.decimals),
                                    "window_s": window_s,
                                    "window_total": format_units(total, tok.decimals),
                                    "limit": format_units(limit, tok.decimals),
                                }),
                            ));
                        }
                    } else {
                        s.total_latched = false;
                    }
                }
                if let (Some(max), Some(m)) = (max_per_minter, minter) {
                    let e = s.per_minter.entry(m).or_default();
                    e.0.evict(ev.timestamp, *window_s);
                    if e.0.sum() <= *max {
                        e.1 = false;
                    }
                    let sum = e.0.push(ev.timestamp, amount, *window_s);
                    if sum > *max {
                        if !e.1 {
                            e.1 = true;
                            out.push(alert(
                                r,
                                Severity::Trip,
                                "minter-window-exceeded",
                                ev,
                                json!({
                                    "scope": "minter",
                                    "token": tok.id,
                                    "to": to,
                                    "minter": m,
                                    "amount": format_units(amount, tok.decimals),
                                    "window_s": window_s,
                                    "window_total": format_units(sum, tok.decimals),
                                    "limit": format_units(*max, tok.decimals),
                                }),
                            ));
                        }
                    } else {
                        e.1 = false;
                    }
                }
            }
            (
                Self::OutflowRate(s),
                RuleKind::OutflowRate {
                    contract,
                    tokens,
                    window_s,
                    max_usd,
                    big_transfer_usd,
                    ..
                },
            ) => {
                let (t, amount, to) = match ev.kind {
                    EventKind::Transfer {
                        token,
                        from,
                        to,
                        amount,
                    } if from == *contract => (token, amount, to),
                    EventKind::Burn {
                        token,
                        from,
                        amount,
                    } if from == *contract => (token, amount, Address::ZERO),
                    _ => return,
                };
                if !tokens.contains(&t) {
                    return;
                }
                let Some(tok) = token(w, t) else { return };
                let usd = to_f64(amount, tok.decimals) * tok.price_usd;
                s.window.evict(ev.timestamp, *window_s);
                if max_usd.is_some_and(|m| s.window.sum() <= m) {
                    s.latched = false;
                }
                let total = s.window.push(ev.timestamp, usd, *window_s);
                if let Some(big) = big_transfer_usd
                    && usd >= *big
                {
                    out.push(alert(
                        r,
                        Severity::Alert,
                        "big-transfer",
                        ev,
                        json!({
                            "contract": contract,
                            "token": tok.id,
                            "to": to,
                            "amount": format_units(amount, tok.decimals),
                            "usd": usd,
                            "big_transfer_usd": big,
                        }),
                    ));
                }
                if let Some(max) = max_usd {
                    if total > *max {
                        if !s.latched {
                            s.latched = true;
                            out.push(alert(
                                r,
                                Severity::Trip,
                                "window-exceeded",
                                ev,
                                json!({
                                    "contract": contract,
                                    "token": tok.id,
                                    "to": to,
                                    "amount": format_units(amount, tok.decimals),
                                    "usd": usd,
                                    "window_s": window_s,
                                    "window_usd": total,
                                    "max_usd": max,
                                }),
                            ));
                        }
                    } else {
                        s.latched = false;
                    }
                }
            }
            (
                Self::MessageMatch(s),
                RuleKind::MessageMatch {
                    bridge,
                    relay_delay_s,
                    ..
                },
            ) => {
                let EventKind::Bridge {
                    bridge: eb,
                    side,
                    fields,
                } = ev.kind
                else {
                    return;
                };
                if eb != *bridge {
                    return;
                }
                let Some(b) = w.spec.bridges.get(usize::from(*bridge)) else {
                    return;
                };
                match side {
                    BridgeSide::Source => {
                        let Some(&(si, _)) = b.match_idx.get(b.key) else {
                            return;
                        };
                        let Some(key) = fields.get(si) else { return };
                        s.sources.insert(
                            key,
                            SourceRecord {
                                fields,
                                block: ev.block,
                                timestamp: ev.timestamp,
                                tx: ev.tx,
                                log_index: ev.log_index,
                                consumed_by: None,
                            },
                        );
                        s.order.push_back((ev.timestamp, key));
                    }
                    BridgeSide::Destination => {
                        let same_chain = b.source.chain == b.destination.chain;
                        let ready = same_chain
                            || w.head_ts(b.source.chain).saturating_add(*relay_delay_s)
                                >= ev.timestamp;
                        if ready && s.pending.is_empty() {
                            s.judge(w, r, *bridge, ev, false, out);
                        } else {
                            s.pending.push_back(*ev);
                        }
                    }
                }
            }
            (Self::Backing(s), RuleKind::Backing { .. }) => {
                s.check(w, r, ev, false, out);
            }
            (
                Self::Privileged,
                RuleKind::Privileged {
                    contracts,
                    changes,
                    trip,
                    ..
                },
            ) => {
                let EventKind::Privileged { contract, change } = ev.kind else {
                    return;
                };
                if !contracts.contains(&contract) {
                    return;
                }
                let name = change.name();
                let counted = if changes.is_empty() {
                    name != "paused"
                } else {
                    changes.iter().any(|c| c == name)
                };
                if counted {
                    let sev = if *trip {
                        Severity::Trip
                    } else {
                        Severity::Alert
                    };
                    let mut evidence = serde_json::to_value(change).unwrap_or_default();
                    if let Some(o) = evidence.as_object_mut() {
                        o.insert("contract".into(), json!(contract));
                    }
                    out.push(alert(r, sev, name, ev, evidence));
                }
            }
            (
                Self::Anomaly(s),
                RuleKind::Anomaly {
                    metric,
                    bucket_s,
                    alpha,
                    factor,
                    warmup_buckets,
                    min_value,
                },
            ) => {
                let (value, tok) = match (metric, ev.kind) {
                    (
                        AnomalyMetric::Mint { token: t },
                        EventKind::Mint {
                            token: et, amount, ..
                        },
                    ) if et == *t => {
                        let Some(tok) = token(w, et) else { return };
                        (to_f64(amount, tok.decimals), tok)
                    }
                    (
                        AnomalyMetric::Outflow {
                            contract, tokens, ..
                        },
                        EventKind::Transfer {
                            token: et,
                            from,
                            amount,
                            ..
                        }
                        | EventKind::Burn {
                            token: et,
                            from,
                            amount,
                        },
                    ) if from == *contract && tokens.contains(&et) => {
                        let Some(tok) = token(w, et) else { return };
                        (to_f64(amount, tok.decimals) * tok.price_usd, tok)
                    }
                    _ => return,
                };
                let bucket = ev.timestamp / bucket_s;
                if !s.started {
                    s.started = true;
                    s.bucket = bucket;
                } else if bucket > s.bucket {
                    // Close the current bucket, then decay over the empty ones in between.
                    s.baseline = if s.buckets_seen == 0 {
                        s.current
                    } else {
                        (1.0 - alpha) * s.baseline + alpha * s.current
                    };
                    let gap = (bucket - s.bucket - 1).min(10_000);
                    if gap > 0 {
                        s.baseline *= (1.0 - alpha).powi(gap as i32);
                    }
                    s.buckets_seen = s.buckets_seen.saturating_add(1).saturating_add(gap as u32);
                    s.bucket = bucket;
                    s.current = 0.0;
                }
                s.current += value;
                if s.buckets_seen >= *warmup_buckets
                    && s.current >= *min_value
                    && s.current > factor * s.baseline
                    && s.alerted_bucket != Some(bucket)
                {
                    s.alerted_bucket = Some(bucket);
                    let what = match metric {
                        AnomalyMetric::Mint { .. } => "mint",
                        AnomalyMetric::Outflow { .. } => "outflow-usd",
                    };
                    out.push(alert(
                        r,
                        Severity::Alert,
                        "velocity",
                        ev,
                        json!({
                            "metric": what,
                            "token": tok.id,
                            "bucket_s": bucket_s,
                            "bucket_value": s.current,
                            "baseline": s.baseline,
                            "factor": factor,
                        }),
                    ));
                }
            }
            _ => {}
        }
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

impl MessageMatch {
    fn judge(
        &mut self,
        w: &World,
        r: u16,
        bridge: u16,
        ev: &Event,
        lagging: bool,
        out: &mut Vec<Alert>,
    ) {
        let Some(b) = w.spec.bridges.get(usize::from(bridge)) else {
            return;
        };
        let EventKind::Bridge { fields, .. } = ev.kind else {
            return;
        };
        let Some(&(_, di)) = b.match_idx.get(b.key) else {
            return;
        };
        let Some(key) = fields.get(di) else { return };
        let dst = named_fields(&b.destination.event, &fields);
        let reorged = match self
            .rejudge
            .iter()
            .position(|m| *m == (ev.tx, ev.log_index))
        {
            Some(i) => {
                self.rejudge.swap_remove(i);
                true
            }
            None => false,
        };
        match self.sources.get_mut(&key) {
            None => out.push(alert(
                r,
                Severity::Trip,
                if reorged {
                    "source-reorged"
                } else {
                    "no-source"
                },
                ev,
                json!({
                    "bridge": b.id,
                    "key": b.match_on.get(b.key),
                    "destination": dst,
                    "source_chain_lagging": lagging,
                    "source_head_timestamp": w.head_ts(b.source.chain),
                    "source_reorged": reorged,
                }),
            )),
            Some(rec) if rec.consumed_by.is_some_and(|c| c != (ev.tx, ev.log_index)) => {
                out.push(alert(
                    r,
                    Severity::Trip,
                    "replayed",
                    ev,
                    json!({
                        "bridge": b.id,
                        "destination": dst,
                        "source": named_fields(&b.source.event, &rec.fields),
                        "source_tx": rec.tx,
                    }),
                ))
            }
            Some(rec) => {
                let mut mismatched = Vec::new();
                for (i, (name, (si, di))) in b.match_on.iter().zip(&b.match_idx).enumerate() {
                    let tol = b.tolerance.get(i).copied().unwrap_or_default();
                    let same = match (rec.fields.get(*si), fields.get(*di)) {
                        (Some(s), Some(d)) => tol.matches(s, d),
                        (s, d) => s == d,
                    };
                    if !same {
                        mismatched.push(name.as_str());
                    }
                }
                if mismatched.is_empty() {
                    rec.consumed_by = Some((ev.tx, ev.log_index));
                } else {
                    out.push(alert(
                        r,
                        Severity::Trip,
                        "mismatch",
                        ev,
                        json!({
                            "bridge": b.id,
                            "mismatched": mismatched,
                            "destination": dst,
                            "source": named_fields(&b.source.event, &rec.fields),
                            "source_tx": rec.tx,
                            "source_block": rec.block,
                            "source_reorged": reorged,
                        }),
                    ));
                }
            }
        }
    }

    /// Destination events matched against a source event seen on the source chain after block
    /// `fork`.
    pub(crate) fn matched_after(&self, fork: u64) -> Vec<(B256, u64)> {
        let mut out: Vec<_> = self
            .sources
            .values()
            .filter(|r| r.block > fork)
            .filter_map(|r| r.consumed_by)
            .collect();
        out.sort_unstable();
        out
    }

    /// Marks destination events to be judged again.
    pub(crate) fn rejudge(&mut self, dst: &[(B256, u64)]) {
        for d in dst {
            if !self.rejudge.contains(d) {
                self.rejudge.push(*d);
            }
        }
    }

    /// Source records held (bounded by the timeout window).
    pub(crate) fn sources_held(&self) -> usize {
        self.sources.len()
    }
}

impl Backing {
    /// Judges the invariant. Mid-block (`at_head` false) the state of two chains read in any
    /// order can be momentarily inconsistent — a release read before the burn of the same
    /// instant on the other chain — so an event that breaks it is only remembered; the
    /// invariant is judged when a block is complete (`at_head`) and the other chain has been
    /// read up to that event, and a trip is located at the event that broke it.
    fn check(&mut self, w: &World, r: u16, ev: &Event, at_head: bool, out: &mut Vec<Alert>) {
        let Some(rule) = w.spec.rules.get(usize::from(r)) else {
            return;
        };
        let RuleKind::Backing {
            token: t,
            backing_token: bt,
            holder,
            tolerance,
            relay_delay_s,
        } = &rule.kind
        else {
            return;
        };
        let (Some(tok), Some(btok)) = (token(w, *t), token(w, *bt)) else {
            return;
        };
        let (Some(supply), Some(locked)) = (
            w.supply.get(usize::from(*t)).copied().flatten(),
            w.balance(*bt, *holder),
        ) else {
            return;
        };
        let lhs = supply.saturating_mul(pow10(btok.decimals));
        let rhs = locked
            .saturating_mul(pow10(tok.decimals))
            .saturating_add(tolerance.saturating_mul(pow10(btok.decimals)));
        if lhs <= rhs {
            self.latched = false;
            self.pending = None;
            return;
        }
        if self.latched {
            return;
        }
        if !at_head {
            if self.pending.is_none() {
                self.pending = Some(*ev);
            }
            return;
        }
        let Some(p) = self.pending else { return };
        // The other chain may simply not be read up to this point yet: wait for it.
        let other = if p.chain == tok.chain {
            btok.chain
        } else {
            tok.chain
        };
        if other != p.chain && w.head_ts(other).saturating_add(*relay_delay_s) < p.timestamp {
            return;
        }
        self.pending = None;
        self.latched = true;
        out.push(alert(
            r,
            Severity::Trip,
            "unbacked",
            &p,
            json!({
                "token": tok.id,
                "supply": format_units(supply, tok.decimals),
                "backing_token": btok.id,
                "holder": holder,
                "locked": format_units(locked, btok.decimals),
                "tolerance": format_units(*tolerance, tok.decimals),
            }),
        ));
    }
}
