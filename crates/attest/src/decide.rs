//! The pure decision: a destination message, the quorum-confirmed source events with its key and
//! what the attestor knows about the route → attest, wait, or refuse, with a typed reason.

use alloy::dyn_abi::DynSolValue;
use alloy::primitives::{Address, B256, U256};
use serde::Serialize;

use ringfence_guard::FieldTolerance;

use crate::attestation::{Attestation, attestation};

/// A decoded event (a destination message or a source event), with its parameters by name.
#[derive(Clone, Debug, PartialEq)]
pub struct Decoded {
    /// Block number.
    pub block: u64,
    /// Block timestamp.
    pub timestamp: u64,
    /// Transaction hash.
    pub tx_hash: B256,
    /// Log index in the block.
    pub log_index: u64,
    /// The event's parameters, by name, in declaration order.
    pub fields: Vec<(String, DynSolValue)>,
    /// The quorum confirmed it, but an endpoint with a self-consistent view of its block did
    /// not return it: a source event that is contested is never attested (two poisoned
    /// endpoints agreeing on a forged log outvote the honest one, but do not silence it).
    pub contested: bool,
}

impl Decoded {
    /// The parameter `name`.
    pub fn field(&self, name: &str) -> Option<&DynSolValue> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }
}

/// What the decision needs to know about a route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoutePolicy {
    /// keccak256 of the route's id.
    pub route_id: B256,
    /// The source chain's EVM chain id.
    pub src_chain_id: u64,
    /// The parameter that carries the message id on both sides.
    pub key: String,
    /// Parameters that must be equal on both sides…
    pub match_on: Vec<String>,
    /// …or, for an integer, within its tolerance (decimal scale, fee), aligned with `match_on`
    /// (missing entries are exact).
    pub tolerance: Vec<FieldTolerance>,
    /// The destination parameters that fill the attestation's asset, amount and recipient.
    pub asset: String,
    /// See `asset`.
    pub amount: String,
    /// See `asset`.
    pub recipient: String,
    /// Blocks on top of the source event's block (in the quorum head) before it counts.
    pub confirmations: u64,
    /// How long after a change of the route's verifier configuration the attestor refuses.
    pub verifier_timelock_s: u64,
    /// At most this much attested per `window_s` (the route's mint or outflow rate), if set.
    pub max_amount: Option<(U256, u64)>,
}

/// What the attestor knows at the moment of deciding.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Context<'a> {
    /// Confirmed source events with the message's key (any depth).
    pub sources: &'a [Decoded],
    /// The source chain's quorum head (highest block `quorum` endpoints have).
    pub source_head: Option<u64>,
    /// Timestamp of the newest source block read at the required depth.
    pub source_read_until: Option<u64>,
    /// The source chain's reader is halted by an RPC disagreement.
    pub source_disagreement: Option<Disagreement>,
    /// The message was attested before.
    pub already_attested: bool,
    /// When the route's verifier configuration last changed (a proposal or an execution).
    pub verifier_changed_at: Option<u64>,
    /// Timestamp of the newest confirmed destination block (the attestor's clock).
    pub now: u64,
    /// Amount attested on this route in the window ending `now`.
    pub attested_in_window: U256,
}

/// An RPC disagreement that halts a chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Disagreement {
    /// The chain's config id.
    pub chain: String,
    /// The block.
    pub block: u64,
    /// The endpoints, redacted.
    pub endpoints: Vec<String>,
    /// What differed.
    pub differed: Vec<String>,
}

/// Why an attestation is refused (or not given yet).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "kebab-case")]
pub enum Refusal {
    /// No source event with the message's key, and the source has been read past the message.
    NoSourceEvent,
    /// A source event with the key exists but differs on these `match_on` fields.
    Mismatch {
        /// The fields that differ.
        fields: Vec<String>,
    },
    /// The message was attested before; an attestor never signs a message twice.
    AlreadyAttested,
    /// The source event is not yet buried deep enough, or the source has not been read up to
    /// the message yet.
    NotYetConfirmed {
        /// The event's depth (0 when not seen yet).
        depth: u64,
        /// The depth required.
        need: u64,
    },
    /// The source chain's endpoints disagree: nothing is attested from it.
    RpcDisagreement(Disagreement),
    /// The only source event that matches was confirmed by the quorum but contradicted by an
    /// endpoint whose view of the block lacks it. The attestor waits: a re-read after a reorg
    /// may settle it; otherwise an operator investigates the endpoints the alert names.
    ContestedSource {
        /// The source event's transaction.
        tx_hash: B256,
        /// Its log index.
        log_index: u64,
    },
    /// The route's verifier configuration changed within its timelock.
    VerifierConfigChanged {
        /// When it changed.
        changed_at: u64,
        /// When the attestor attests again.
        until: u64,
    },
    /// Attesting would take the route over its rate limit.
    RuleWouldTrip {
        /// The limit per window.
        max_amount: String,
        /// The window.
        window_s: u64,
        /// What the window would hold with this message.
        would_be: String,
    },
    /// The message lacks a field the attestation needs, or has the wrong type.
    BadMessage {
        /// What is wrong.
        why: String,
    },
}

impl Refusal {
    /// Whether the refusal may turn into an attestation later (the attestor keeps the message
    /// and decides again); final refusals are never revisited.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::NoSourceEvent
                | Self::Mismatch { .. }
                | Self::AlreadyAttested
                | Self::BadMessage { .. }
        )
    }

    /// The reason's name as in the JSON (`no-source-event`, …).
    pub fn name(&self) -> &'static str {
        match self {
            Self::NoSourceEvent => "no-source-event",
            Self::Mismatch { .. } => "mismatch",
            Self::AlreadyAttested => "already-attested",
            Self::NotYetConfirmed { .. } => "not-yet-confirmed",
            Self::RpcDisagreement(_) => "rpc-disagreement",
            Self::ContestedSource { .. } => "contested-source",
            Self::VerifierConfigChanged { .. } => "verifier-config-changed",
            Self::RuleWouldTrip { .. } => "rule-would-trip",
            Self::BadMessage { .. } => "bad-message",
        }
    }
}

/// The verdict.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Sign this.
    Attest(Box<Attestation>),
    /// Do not sign, for this reason.
    Refuse(Refusal),
}

fn word(v: &DynSolValue) -> Option<B256> {
    match v {
        DynSolValue::FixedBytes(w, 32) => Some(*w),
        DynSolValue::Address(a) => Some(a.into_word()),
        DynSolValue::Uint(u, _) => Some(B256::from(*u)),
        _ => None,
    }
}

fn bad(why: String) -> Verdict {
    Verdict::Refuse(Refusal::BadMessage { why })
}

/// Decides on `message` for `route`.
pub fn decide(route: &RoutePolicy, message: &Decoded, cx: &Context<'_>) -> Verdict {
    if cx.already_attested {
        return Verdict::Refuse(Refusal::AlreadyAttested);
    }
    if let Some(at) = cx.verifier_changed_at {
        let until = at.saturating_add(route.verifier_timelock_s);
        if cx.now < until {
            return Verdict::Refuse(Refusal::VerifierConfigChanged {
                changed_at: at,
                until,
            });
        }
    }
    if let Some(d) = &cx.source_disagreement {
        return Verdict::Refuse(Refusal::RpcDisagreement(d.clone()));
    }
    let need = |name: &str| -> Result<&DynSolValue, Verdict> {
        message
            .field(name)
            .ok_or_else(|| bad(format!("the message has no parameter `{name}`")))
    };
    let parts = (|| {
        let key = need(&route.key)?;
        let id = word(key).ok_or_else(|| bad(format!("`{}` is not a 32-byte id", route.key)))?;
        let asset = word(need(&route.asset)?)
            .ok_or_else(|| bad(format!("`{}` is not a bytes32 or an address", route.asset)))?;
        let amount = match need(&route.amount)? {
            DynSolValue::Uint(u, _) => *u,
            _ => {
                return Err(bad(format!(
                    "`{}` is not an unsigned integer",
                    route.amount
                )));
            }
        };
        let recipient: Address = match need(&route.recipient)? {
            DynSolValue::Address(a) => *a,
            _ => return Err(bad(format!("`{}` is not an address", route.recipient))),
        };
        Ok((key.clone(), id, asset, amount, recipient))
    })();
    let (key, id, asset, amount, recipient) = match parts {
        Ok(p) => p,
        Err(v) => return v,
    };
    let depth = |e: &Decoded| cx.source_head.map_or(0, |h| h.saturating_sub(e.block));
    let with_key: Vec<&Decoded> = cx
        .sources
        .iter()
        .filter(|e| e.field(&route.key) == Some(&key))
        .collect();
    if with_key.is_empty() {
        let read_past = cx.source_read_until.is_some_and(|t| t >= message.timestamp);
        return Verdict::Refuse(if read_past {
            Refusal::NoSourceEvent
        } else {
            Refusal::NotYetConfirmed {
                depth: 0,
                need: route.confirmations,
            }
        });
    }
    let differing = |e: &Decoded| -> Vec<String> {
        route
            .match_on
            .iter()
            .enumerate()
            .filter(|(i, f)| {
                let tol = route.tolerance.get(*i).copied().unwrap_or_default();
                match (e.field(f), message.field(f)) {
                    (Some(s), Some(d)) if tol.is_exact() => s != d,
                    (Some(s), Some(d)) => match (word(s), word(d)) {
                        (Some(s), Some(d)) => !tol.matches(s, d),
                        _ => true,
                    },
                    _ => true,
                }
            })
            .map(|(_, f)| f.clone())
            .collect()
    };
    let matching: Vec<&Decoded> = with_key
        .iter()
        .copied()
        .filter(|e| differing(e).is_empty())
        .collect();
    let Some(first) = matching.first() else {
        return Verdict::Refuse(Refusal::Mismatch {
            fields: differing(with_key[0]),
        });
    };
    let Some(src) = matching.iter().find(|e| !e.contested) else {
        return Verdict::Refuse(Refusal::ContestedSource {
            tx_hash: first.tx_hash,
            log_index: first.log_index,
        });
    };
    let d = depth(src);
    if d < route.confirmations {
        return Verdict::Refuse(Refusal::NotYetConfirmed {
            depth: d,
            need: route.confirmations,
        });
    }
    if let Some((max, window_s)) = route.max_amount {
        let would_be = cx.attested_in_window.saturating_add(amount);
        if would_be > max {
            return Verdict::Refuse(Refusal::RuleWouldTrip {
                max_amount: max.to_string(),
                window_s,
                would_be: would_be.to_string(),
            });
        }
    }
    Verdict::Attest(Box::new(attestation(
        route.route_id,
        route.src_chain_id,
        src.tx_hash,
        src.log_index,
        id,
        asset,
        amount,
        recipient,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn route() -> RoutePolicy {
        RoutePolicy {
            route_id: B256::repeat_byte(0xaa),
            src_chain_id: 1,
            key: "id".into(),
            match_on: vec![
                "id".into(),
                "asset".into(),
                "amount".into(),
                "recipient".into(),
            ],
            tolerance: Vec::new(),
            asset: "asset".into(),
            amount: "amount".into(),
            recipient: "recipient".into(),
            confirmations: 2,
            verifier_timelock_s: 100,
            max_amount: Some((U256::from(1000u64), 3600)),
        }
    }

    fn ev(block: u64, ts: u64, id: u8, amount: u64, to: u8) -> Decoded {
        Decoded {
            block,
            timestamp: ts,
            tx_hash: B256::repeat_byte(block as u8),
            log_index: 1,
            fields: vec![
                (
                    "id".into(),
                    DynSolValue::FixedBytes(B256::repeat_byte(id), 32),
                ),
                (
                    "asset".into(),
                    DynSolValue::FixedBytes(B256::repeat_byte(0xa5), 32),
                ),
                ("amount".into(), DynSolValue::Uint(U256::from(amount), 256)),
                (
                    "recipient".into(),
                    DynSolValue::Address(Address::repeat_byte(to)),
                ),
            ],
            contested: false,
        }
    }

    fn cx(sources: &[Decoded]) -> Context<'_> {
        Context {
            sources,
            source_head: Some(20),
            source_read_until: Some(1_000),
            now: 1_000,
            ..Default::default()
        }
    }

    /// A bridge that turns 6-decimal units into 18 and keeps up to 30 bps: the attestor
    /// accepts exactly that band and nothing above the scaled source.
    #[test]
    fn decimal_scale_and_fee_are_honoured() {
        let mut r = route();
        r.max_amount = None;
        r.tolerance = vec![
            FieldTolerance::default(),
            FieldTolerance::default(),
            FieldTolerance {
                scale: 12,
                fee_bps: 30,
            },
        ];
        let src = [ev(10, 400, 1, 1_000_000, 7)]; // 1.000000 (6 decimals)
        let scaled: u64 = 1_000_000_000_000_000_000; // 1.0 (18 decimals)
        let at = |r: &RoutePolicy, amount: u64| {
            let mut m = ev(50, 500, 1, 0, 7);
            m.fields[2].1 = DynSolValue::Uint(U256::from(amount), 256);
            decide(r, &m, &cx(&src))
        };
        for ok in [scaled, scaled - scaled / 10_000 * 30, scaled - 1] {
            assert!(matches!(at(&r, ok), Verdict::Attest(_)), "{ok}");
        }
        for bad in [scaled + 1, scaled - scaled / 10_000 * 31, 1_000_000] {
            assert!(
                matches!(at(&r, bad), Verdict::Refuse(Refusal::Mismatch { ref fields }) if fields == &["amount".to_owned()]),
                "{bad}"
            );
        }
        // Exact by default: the same message without the tolerance is a mismatch.
        r.tolerance.clear();
        assert!(matches!(
            at(&r, scaled),
            Verdict::Refuse(Refusal::Mismatch { .. })
        ));
    }

    #[test]
    fn table() {
        let r = route();
        let msg = ev(50, 500, 1, 100, 7);
        let src = [ev(10, 400, 1, 100, 7)];
        // Attest: a matching source event at depth 11.
        let Verdict::Attest(a) = decide(&r, &msg, &cx(&src)) else {
            panic!()
        };
        assert_eq!(
            (a.srcTxHash, a.amount),
            (B256::repeat_byte(10), U256::from(100u64))
        );
        let refuse = |c: Context<'_>, m: &Decoded| match decide(&r, m, &c) {
            Verdict::Refuse(x) => x,
            Verdict::Attest(_) => panic!("attested"),
        };
        assert_eq!(refuse(cx(&[]), &msg), Refusal::NoSourceEvent);
        assert_eq!(
            refuse(
                Context {
                    source_read_until: Some(499),
                    ..cx(&[])
                },
                &msg
            ),
            Refusal::NotYetConfirmed { depth: 0, need: 2 }
        );
        assert_eq!(
            refuse(cx(&[ev(10, 400, 1, 99, 8)]), &msg),
            Refusal::Mismatch {
                fields: vec!["amount".into(), "recipient".into()]
            }
        );
        assert_eq!(
            refuse(
                Context {
                    already_attested: true,
                    ..cx(&src)
                },
                &msg
            ),
            Refusal::AlreadyAttested
        );
        assert_eq!(
            refuse(
                Context {
                    source_head: Some(11),
                    ..cx(&src)
                },
                &msg
            ),
            Refusal::NotYetConfirmed { depth: 1, need: 2 }
        );
        assert_eq!(
            refuse(
                Context {
                    verifier_changed_at: Some(950),
                    ..cx(&src)
                },
                &msg
            ),
            Refusal::VerifierConfigChanged {
                changed_at: 950,
                until: 1050
            }
        );
        let d = Disagreement {
            chain: "src".into(),
            block: 9,
            endpoints: vec![],
            differed: vec![],
        };
        assert_eq!(
            refuse(
                Context {
                    source_disagreement: Some(d.clone()),
                    ..cx(&src)
                },
                &msg
            ),
            Refusal::RpcDisagreement(d)
        );
        assert!(matches!(
            refuse(
                Context {
                    attested_in_window: U256::from(901u64),
                    ..cx(&src)
                },
                &msg
            ),
            Refusal::RuleWouldTrip { .. }
        ));
        let mut broken = msg.clone();
        broken.fields.retain(|(n, _)| n != "recipient");
        assert!(matches!(
            refuse(cx(&src), &broken),
            Refusal::BadMessage { .. }
        ));
        // Of two events with the key, the matching one is used.
        let two = [ev(10, 400, 1, 99, 7), ev(11, 401, 1, 100, 7)];
        assert!(
            matches!(decide(&r, &msg, &cx(&two)), Verdict::Attest(a) if a.srcTxHash == B256::repeat_byte(11))
        );
        assert!(Refusal::NoSourceEvent.is_final());
        assert!(!Refusal::NotYetConfirmed { depth: 0, need: 1 }.is_final());
    }

    #[test]
    fn a_contested_source_is_never_attested_and_an_uncontested_twin_is() {
        let r = route();
        let msg = ev(60, 500, 1, 100, 7);
        let contested = Decoded {
            contested: true,
            ..ev(10, 400, 1, 100, 7)
        };
        let got = decide(&r, &msg, &cx(std::slice::from_ref(&contested)));
        assert_eq!(
            got,
            Verdict::Refuse(Refusal::ContestedSource {
                tx_hash: B256::repeat_byte(10),
                log_index: 1
            })
        );
        // It waits (a re-read after a reorg may settle it): never final.
        assert!(
            !Refusal::ContestedSource {
                tx_hash: B256::ZERO,
                log_index: 0
            }
            .is_final()
        );
        // The same message also backed by an uncontested event attests that one.
        let both = [contested, ev(11, 401, 1, 100, 7)];
        assert!(
            matches!(decide(&r, &msg, &cx(&both)), Verdict::Attest(a) if a.srcTxHash == B256::repeat_byte(11))
        );
    }

    proptest! {
        /// An attestation only ever names an uncontested source event with the message's key
        /// that matches on every `match_on` field and is buried deep enough; and carries the
        /// message's values.
        #[test]
        fn attests_only_what_a_confirmed_source_backs(
            head in 0u64..40, msg_id in 0u8..3, msg_amount in 0u64..3, msg_to in 0u8..2,
            srcs in proptest::collection::vec((0u64..40, 0u8..3, 0u64..3, 0u8..2, any::<bool>()), 0..5),
            attested in any::<bool>(), window in 0u64..2000,
        ) {
            let r = route();
            let msg = ev(60, 500, msg_id, msg_amount, msg_to);
            let sources: Vec<Decoded> = srcs
                .iter()
                .enumerate()
                .map(|(n, &(b, i, a, t, contested))| Decoded {
                    tx_hash: B256::with_last_byte(n as u8 + 1),
                    contested,
                    ..ev(b, 400, i, a, t)
                })
                .collect();
            let c = Context {
                source_head: Some(head),
                already_attested: attested,
                attested_in_window: U256::from(window),
                ..cx(&sources)
            };
            if let Verdict::Attest(a) = decide(&r, &msg, &c) {
                prop_assert!(!attested);
                prop_assert!(window + msg_amount <= 1000);
                let src = sources.iter().find(|s| s.tx_hash == a.srcTxHash).expect("names a source");
                prop_assert!(!src.contested, "attested a contested source");
                prop_assert_eq!(src.field("id"), msg.field("id"));
                prop_assert_eq!(src.field("amount"), msg.field("amount"));
                prop_assert_eq!(src.field("recipient"), msg.field("recipient"));
                prop_assert!(head >= src.block + 2);
                prop_assert_eq!(a.amount, U256::from(msg_amount));
                prop_assert_eq!(a.messageId, B256::repeat_byte(msg_id));
            }
            // Deterministic.
            prop_assert_eq!(decide(&r, &msg, &c), decide(&r, &msg, &c));
        }
    }
}
