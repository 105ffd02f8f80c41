//! Trips and alerts produced by the rule engine, and their rendered, serialisable form.

use alloy::primitives::{B256, keccak256};
use serde::{Deserialize, Serialize};

use crate::event::{BridgeSide, ChainIdx, EventKind};
use crate::reason::{AlertKind, Reason};
use crate::spec::{ActionKind, GuardSpec};

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// A limit or invariant is broken: every action of the rule runs (pause, webhook).
    Trip,
    /// Worth a human's attention: only notifying actions (webhook) run.
    Alert,
}

/// One finding of one rule, located at the event that caused it.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// Index of the rule in [`GuardSpec::rules`].
    pub rule: u16,
    /// Trip or alert.
    pub severity: Severity,
    /// Machine-readable cause (`window-exceeded`, `no-source`, `mismatch`, …).
    pub reason: Reason,
    /// Chain of the offending event.
    pub chain: ChainIdx,
    /// Block of the offending event.
    pub block: u64,
    /// Its block timestamp.
    pub timestamp: u64,
    /// Its transaction (zero when the cause is not one transaction, e.g. a timeout).
    pub tx: B256,
    /// Its log index.
    pub log_index: u64,
    /// What the rule saw: amounts, limits, fields, counterpart events.
    pub evidence: serde_json::Value,
    /// The offending event itself (its decoded fields feed `cancel` actions).
    pub event: EventKind,
}

impl Alert {
    /// A stable id: the same finding on the same event always has the same id, so a replay
    /// after a restart recognises trips it already acted on.
    pub fn id(&self, spec: &GuardSpec) -> String {
        let rule = spec
            .rules
            .get(usize::from(self.rule))
            .map_or("?", |r| r.id.as_str());
        let chain = spec
            .chains
            .get(usize::from(self.chain))
            .map_or("?", |c| c.id.as_str());
        let pre = format!(
            "{rule}/{chain}/{}/{}/{}/{}",
            self.block,
            self.tx,
            self.log_index,
            self.reason.as_str()
        );
        let h = keccak256(pre.as_bytes());
        alloy::primitives::hex::encode(&h[..12])
    }

    /// The word a cancel action sends: the tripping event's parameter `arg`; `None` when the
    /// event's `only_if` flag is false; an error saying why when the event has no such parameter.
    pub fn cancel_arg(
        &self,
        spec: &GuardSpec,
        arg: &str,
        only_if: Option<&str>,
    ) -> Result<Option<B256>, String> {
        let EventKind::Bridge {
            bridge,
            side,
            fields,
        } = &self.event
        else {
            return Err(format!(
                "the trip was not caused by a bridge event, so it has no `{arg}` to cancel"
            ));
        };
        let Some(b) = spec.bridges.get(usize::from(*bridge)) else {
            return Err(format!("unknown bridge #{bridge}"));
        };
        let ev = match side {
            BridgeSide::Source => &b.source.event,
            BridgeSide::Destination => &b.destination.event,
        };
        let word = |name: &str, ty: &str| {
            ev.inputs
                .iter()
                .position(|p| p.name == name && p.ty == ty)
                .and_then(|i| fields.get(i))
                .ok_or_else(|| {
                    format!(
                        "the tripping event `{}` of bridge `{}` has no `{ty}` parameter `{name}`",
                        ev.name, b.id
                    )
                })
        };
        let value = word(arg, "bytes32")?;
        match only_if {
            Some(flag) if word(flag, "bool")? == B256::ZERO => Ok(None),
            _ => Ok(Some(value)),
        }
    }

    /// The serialisable form with names instead of indices.
    pub fn record(&self, spec: &GuardSpec) -> AlertRecord {
        let rule = spec.rules.get(usize::from(self.rule));
        let actions = rule
            .map(|r| {
                r.actions
                    .iter()
                    .filter_map(|a| spec.actions.get(usize::from(*a)))
                    .filter(|a| self.severity == Severity::Trip || a.kind.is_notify())
                    .map(|a| {
                        let mut rec = ActionRecord {
                            id: a.id.clone(),
                            kind: a.kind.name().to_owned(),
                            status: ActionStatus::Pending,
                            tx: None,
                            arg: None,
                            error: None,
                            shared_with: None,
                            attempts: 0,
                        };
                        if let ActionKind::Cancel { arg, only_if, .. } = &a.kind {
                            match self.cancel_arg(spec, arg, only_if.as_deref()) {
                                Ok(Some(w)) => rec.arg = Some(w),
                                Ok(None) => {
                                    rec.status = ActionStatus::Skipped;
                                    rec.error = only_if.as_ref().map(|o| {
                                        format!("`{o}` is false on the tripping event: nothing to cancel")
                                    });
                                }
                                Err(e) => {
                                    rec.status = ActionStatus::Failed;
                                    rec.error = Some(e);
                                }
                            }
                        }
                        rec
                    })
                    .collect()
            })
            .unwrap_or_default();
        AlertRecord {
            id: self.id(spec),
            rule: rule.map_or_else(String::new, |r| r.id.clone()),
            kind: rule.map_or_else(|| self.reason.kind(), |r| r.kind.alert_kind()),
            severity: self.severity,
            reason: self.reason,
            chain: spec
                .chains
                .get(usize::from(self.chain))
                .map_or_else(String::new, |c| c.id.clone()),
            block: self.block,
            timestamp: self.timestamp,
            tx: (self.tx != B256::ZERO).then_some(self.tx),
            log_index: self.log_index,
            evidence: self.evidence.clone(),
            actions,
            retracted: false,
        }
    }
}

/// Where an action of an alert stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionStatus {
    /// Decided, not yet sent.
    Pending,
    /// The transaction was sent (see `tx`), no receipt yet; or a webhook delivery is being
    /// retried (see `error`).
    Sent,
    /// The transaction was mined and succeeded.
    Mined,
    /// The transaction was mined and reverted.
    Reverted,
    /// Sending failed for good (see `error`).
    Failed,
    /// The webhook was delivered.
    Done,
    /// Nothing to do (a cancel whose `only_if` flag is false).
    Skipped,
}

impl ActionStatus {
    /// Every status, in lifecycle order.
    pub const ALL: [Self; 7] = [
        Self::Pending,
        Self::Sent,
        Self::Mined,
        Self::Reverted,
        Self::Failed,
        Self::Done,
        Self::Skipped,
    ];

    /// The name used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Mined => "mined",
            Self::Reverted => "reverted",
            Self::Failed => "failed",
            Self::Done => "done",
            Self::Skipped => "skipped",
        }
    }

    /// Whether the daemon still has work to do for it (after a restart, too).
    pub fn unfinished(self, tx: Option<B256>) -> bool {
        matches!(self, Self::Pending) || (self == Self::Sent && tx.is_none())
    }
}

impl std::fmt::Display for ActionStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ActionStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The outcome of one action for one alert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionRecord {
    /// Action id.
    pub id: String,
    /// Action kind (`pause`, `cancel`, `webhook`).
    pub kind: String,
    /// Where it stands.
    pub status: ActionStatus,
    /// Transaction hash of a pause or cancel (also when another trip of the same block sent
    /// it: see `shared_with`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tx: Option<B256>,
    /// The argument of a cancel (e.g. the queue id), taken from the tripping event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arg: Option<B256>,
    /// Last error, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// When two trips of one block run the same action (for a cancel: with the same argument),
    /// it is sent once: this is the id of the alert whose run sent it. Status and `tx` are the
    /// same on both records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_with: Option<String>,
    /// Sends or deliveries tried so far (a failed webhook is retried with back-off).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub attempts: u32,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// An alert as printed on stdout (one JSON line) and stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AlertRecord {
    /// Stable id (see [`Alert::id`]).
    pub id: String,
    /// Rule id, or `stale` / `retracted` for daemon-level alerts.
    pub rule: String,
    /// Rule kind (`mint-rate`, …) or the daemon alert's (`stale`).
    pub kind: AlertKind,
    /// Trip or alert.
    pub severity: Severity,
    /// Machine-readable cause.
    pub reason: Reason,
    /// Chain id from the config.
    pub chain: String,
    /// Block of the offending event.
    pub block: u64,
    /// Its timestamp.
    pub timestamp: u64,
    /// Offending transaction.
    pub tx: Option<B256>,
    /// Its log index.
    pub log_index: u64,
    /// What the rule saw.
    pub evidence: serde_json::Value,
    /// Actions run for it and their outcome.
    pub actions: Vec<ActionRecord>,
    /// True once a reorg removed the evidence.
    #[serde(default)]
    pub retracted: bool,
}

#[cfg(test)]
mod tests {
    use super::ActionStatus;

    #[test]
    fn statuses_round_trip_by_name_and_legacy_shared_markers_are_refused() {
        for s in ActionStatus::ALL {
            let json = serde_json::to_value(s).expect("serialises");
            assert_eq!(json, serde_json::json!(s.as_str()));
            assert_eq!(
                serde_json::from_value::<ActionStatus>(json).expect("deserialises"),
                s
            );
        }
        // Stores that recorded `same-as:<id>` are rewritten by the store's migration 3 before
        // any record is read; the type itself has no such status.
        assert!(serde_json::from_str::<ActionStatus>("\"same-as:abc\"").is_err());
    }
}
