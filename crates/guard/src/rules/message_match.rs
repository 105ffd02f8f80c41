//! `message-match`: every destination event of a bridge must match one earlier source event on
//! the compared fields (with each field's decimal scale and fee tolerance), once; a source never
//! released raises an alert after its timeout; a release whose matched source a reorg removed is
//! judged again. Config: [`RuleKind::MessageMatch`].

use std::collections::VecDeque;

use alloy::primitives::B256;
use alloy::primitives::map::B256HashMap;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{alert, named_fields};
use crate::alert::{Alert, Severity};
use crate::engine::World;
use crate::event::{BridgeSide, Event, EventKind, Fields};
use crate::reason::Reason;
use crate::spec::RuleKind;

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

impl MessageMatch {
    pub(super) fn on_head(
        &mut self,
        w: &World,
        r: u16,
        kind: &RuleKind,
        ev: &Event,
        out: &mut Vec<Alert>,
    ) {
        let RuleKind::MessageMatch {
            bridge,
            timeout_s,
            relay_delay_s,
            source_wait_s,
        } = kind
        else {
            return;
        };
        let Some(b) = w.spec.bridges.get(usize::from(*bridge)) else {
            return;
        };
        let dst_ts = w.head_ts(b.destination.chain);
        let src_ts = w.head_ts(b.source.chain);
        // Destination events waiting for the source chain to catch up.
        while let Some(p) = self.pending.front() {
            let ready = src_ts.saturating_add(*relay_delay_s) >= p.timestamp;
            let waited = dst_ts >= p.timestamp.saturating_add(*source_wait_s);
            if !(ready || waited) {
                break;
            }
            let Some(p) = self.pending.pop_front() else {
                break;
            };
            self.judge(w, r, *bridge, &p, !ready, out);
        }
        // Sources never released.
        if ev.chain == b.destination.chain {
            while let Some(&(ts, key)) = self.order.front() {
                if ts.saturating_add(*timeout_s) > dst_ts {
                    break;
                }
                self.order.pop_front();
                // Forget the source once its timeout passed (memory stays bounded by
                // the window); an unmatched one is reported first.
                let Some(rec) = self.sources.get(&key).filter(|r| r.timestamp == ts) else {
                    continue;
                };
                let rec = rec.clone();
                self.sources.remove(&key);
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
                        Reason::SourceUnmatched,
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

    pub(super) fn on_event(
        &mut self,
        w: &World,
        r: u16,
        kind: &RuleKind,
        ev: &Event,
        out: &mut Vec<Alert>,
    ) {
        let RuleKind::MessageMatch {
            bridge,
            relay_delay_s,
            ..
        } = kind
        else {
            return;
        };
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
                self.sources.insert(
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
                self.order.push_back((ev.timestamp, key));
            }
            BridgeSide::Destination => {
                let same_chain = b.source.chain == b.destination.chain;
                let ready = same_chain
                    || w.head_ts(b.source.chain).saturating_add(*relay_delay_s) >= ev.timestamp;
                if ready && self.pending.is_empty() {
                    self.judge(w, r, *bridge, ev, false, out);
                } else {
                    self.pending.push_back(*ev);
                }
            }
        }
    }

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
                    Reason::SourceReorged
                } else {
                    Reason::NoSource
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
                    Reason::Replayed,
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
                        Reason::Mismatch,
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

#[cfg(test)]
mod tests {
    use super::super::testutil::{engine, ev, run, word};
    use crate::engine::Matched;
    use crate::event::{BridgeSide, Event, EventKind, Fields};

    const RULE: &str = r#"[[rule]]
id = "mm"
kind = "message-match"
bridge = "br"
timeout_s = 100
actions = ["pause"]"#;

    /// Source chain `b` (1) locks, destination chain `a` (0) releases.
    fn bridge(side: BridgeSide, block: u64, ts: u64, id: u64, amount: u64) -> Event {
        let chain = match side {
            BridgeSide::Source => 1,
            BridgeSide::Destination => 0,
        };
        ev(
            chain,
            block,
            ts,
            EventKind::Bridge {
                bridge: 0,
                side,
                fields: Fields::new(&[word(id), word(amount)]),
            },
        )
    }

    fn head(chain: u16, block: u64, ts: u64) -> Event {
        Event::head(chain, block, ts)
    }

    /// Table: events, then the reasons raised in order.
    #[test]
    fn judgements() {
        use BridgeSide::{Destination as D, Source as S};
        let cases: Vec<(&str, Vec<Event>, Vec<&str>)> = vec![
            (
                "matched once",
                vec![
                    bridge(S, 1, 10, 7, 5),
                    head(1, 1, 20),
                    bridge(D, 1, 11, 7, 5),
                ],
                vec![],
            ),
            (
                "no source",
                vec![head(1, 1, 20), bridge(D, 1, 11, 7, 5)],
                vec!["no-source"],
            ),
            (
                "amount differs",
                vec![
                    bridge(S, 1, 10, 7, 5),
                    head(1, 1, 20),
                    bridge(D, 1, 11, 7, 6),
                ],
                vec!["mismatch"],
            ),
            (
                "released twice",
                vec![
                    bridge(S, 1, 10, 7, 5),
                    head(1, 1, 20),
                    bridge(D, 1, 11, 7, 5),
                    bridge(D, 2, 12, 7, 5),
                ],
                vec!["replayed"],
            ),
            (
                "never released",
                vec![bridge(S, 1, 10, 7, 5), head(1, 1, 20), head(0, 5, 200)],
                vec!["source-unmatched"],
            ),
        ];
        for (name, evs, want) in cases {
            let mut e = engine(RULE);
            let got: Vec<&str> = run(&mut e, &evs)
                .iter()
                .map(|a| a.reason.as_str())
                .collect();
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn a_release_whose_source_was_reorged_away_is_judged_again() {
        let mut e = engine(RULE);
        let src = bridge(BridgeSide::Source, 5, 10, 7, 5);
        let dst = bridge(BridgeSide::Destination, 1, 11, 7, 5);
        assert!(run(&mut e, &[src, head(1, 5, 20), dst]).is_empty());
        let matched = e.matched_after(1, 4);
        assert_eq!(
            matched,
            [Matched {
                rule: 0,
                tx: dst.tx,
                log_index: dst.log_index
            }]
        );
        // The rebuilt engine has no source; the release is judged again.
        let mut fresh = engine(RULE);
        fresh.rejudge(&matched);
        let a = run(&mut fresh, &[head(1, 4, 20), dst]);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(a[0].reason, "source-reorged");
    }
}
