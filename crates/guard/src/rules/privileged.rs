//! `privileged`: role grants, ownership transfers, upgrades, admin and signer-set changes on the
//! watched contracts (ingest decodes [`crate::PRIVILEGED_EVENTS`] and the rule's extra events),
//! and the messaging layers' own configuration events ([`crate::LAYER_EVENTS`], for the rule's
//! `layers`); stateless. Config: [`RuleKind::Privileged`].

use serde_json::json;

use alloy::primitives::B256;

use super::{alert, word_json};
use crate::alert::{Alert, Severity};
use crate::event::{Event, EventKind, PrivilegedChange};
use crate::layers::{LayerEvent, head_words, layer_event};
use crate::spec::RuleKind;

pub(super) fn on_event(r: u16, kind: &RuleKind, ev: &Event, out: &mut Vec<Alert>) {
    let RuleKind::Privileged {
        contracts,
        changes,
        layers,
        trip,
        ..
    } = kind
    else {
        return;
    };
    let EventKind::Privileged { contract, change } = ev.kind else {
        return;
    };
    if !contracts.contains(&contract) {
        return;
    }
    // A layer event counts only for a rule that watches its layer (another rule on the same
    // contract may have asked ingest to decode it).
    let layer_event = match change {
        PrivilegedChange::LayerConfigChanged { event, .. } => match layer_event(event) {
            Some(e) if layers.contains(&e.layer) => Some(e),
            _ => return,
        },
        _ => None,
    };
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
        let mut evidence = match (layer_event, change) {
            (Some(e), PrivilegedChange::LayerConfigChanged { args, .. }) => {
                layer_evidence(e, &args)
            }
            _ => serde_json::to_value(change).unwrap_or_default(),
        };
        if let Some(o) = evidence.as_object_mut() {
            o.insert("contract".into(), json!(contract));
        }
        out.push(alert(r, sev, change.reason(), ev, evidence));
    }
}

/// What a layer configuration event shows: the layer, the event, its canonical signature, where
/// it is declared, and its leading parameters by name.
fn layer_evidence(e: &LayerEvent, args: &[B256]) -> serde_json::Value {
    let mut named = serde_json::Map::new();
    let mut signature = e.signature.to_owned();
    if let Some(abi) = e.abi() {
        signature = abi.signature();
        // The parameters `head_words` read, in order, named by the source's names.
        let n = head_words(&abi, &[], &[0u8; 32 * 8]).len().min(args.len());
        for (p, w) in abi.inputs.iter().zip(args).take(n) {
            named.insert(p.name.clone(), word_json(&p.ty, *w));
        }
    }
    json!({
        "change": "layer-config-changed",
        "layer": e.layer.name(),
        "event": e.name(),
        "signature": signature,
        "declared_in": e.source,
        "args": named,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{addr, engine, ev, run};
    use crate::alert::Severity;
    use crate::event::{EventKind, PrivilegedChange};
    use crate::reason::Reason;
    use alloy::primitives::B256;

    fn change(contract: u8, change: PrivilegedChange) -> crate::event::Event {
        ev(
            0,
            1,
            10,
            EventKind::Privileged {
                contract: addr(contract),
                change,
            },
        )
    }

    /// One case: the `changes` line, the `severity` line, the change (on contract `0xNN..`),
    /// and the (severity, reason) pairs raised.
    type Case<'a> = (
        &'a str,
        &'a str,
        (u8, PrivilegedChange),
        &'a [(Severity, &'a str)],
    );

    #[test]
    fn counts_the_named_changes_on_the_watched_contracts() {
        let upgraded = PrivilegedChange::Upgraded {
            implementation: addr(3),
        };
        let owner = PrivilegedChange::OwnershipTransferred {
            previous: addr(1),
            new: addr(2),
        };
        let cases: &[Case<'_>] = &[
            ("", "", (0x11, upgraded), &[(Severity::Trip, "upgraded")]),
            ("", "", (0x12, upgraded), &[]),
            ("", "", (0x11, PrivilegedChange::Paused), &[]),
            (
                r#"changes = ["paused"]"#,
                "",
                (0x11, PrivilegedChange::Paused),
                &[(Severity::Trip, "paused")],
            ),
            (r#"changes = ["upgraded"]"#, "", (0x11, owner), &[]),
            (
                "",
                r#"severity = "alert""#,
                (0x11, owner),
                &[(Severity::Alert, "ownership-transferred")],
            ),
        ];
        for (changes, sev, (c, ch), want) in cases {
            let mut e = engine(&format!(
                "[[rule]]\nid = \"p\"\nkind = \"privileged\"\nchain = \"a\"\n\
                 contracts = [\"0x1111111111111111111111111111111111111111\"]\n{changes}\n{sev}"
            ));
            let a = run(&mut e, &[change(*c, *ch)]);
            let got: Vec<_> = a.iter().map(|x| (x.severity, x.reason.as_str())).collect();
            assert_eq!(&got, want, "{changes} {sev} {ch:?}");
            if let Some(x) = a.first() {
                assert_eq!(x.evidence["contract"], serde_json::json!(addr(0x11)));
            }
        }
    }

    fn layer_log(event: usize) -> crate::event::Event {
        let i = u16::try_from(event).unwrap_or(u16::MAX);
        // A log of each kind as ingest decodes it: two leading words.
        let topics = [B256::ZERO, addr(0xaa).into_word()];
        let data = [addr(0xbb).into_word().0, addr(0xcc).into_word().0].concat();
        change(0x11, crate::layers::layer_change(i, &topics, &data))
    }

    const WATCH: &str = "[[rule]]\nid = \"p\"\nkind = \"privileged\"\nchain = \"a\"\n\
                         contracts = [\"0x1111111111111111111111111111111111111111\"]\n";

    #[test]
    fn every_layer_configuration_event_trips_by_default_naming_its_layer_and_event() {
        for (i, e) in crate::LAYER_EVENTS.iter().enumerate() {
            let mut eng = engine(WATCH);
            let a = run(&mut eng, &[layer_log(i)]);
            assert_eq!(a.len(), 1, "{}", e.signature);
            assert_eq!(a[0].severity, Severity::Trip);
            assert_eq!(a[0].reason, Reason::LayerConfigChanged);
            let ev = &a[0].evidence;
            assert_eq!(ev["layer"], e.layer.name(), "{}", e.signature);
            assert_eq!(ev["event"], e.name());
            assert_eq!(ev["declared_in"], e.source);
            assert_eq!(ev["contract"], serde_json::json!(addr(0x11)));
            let sig = ev["signature"].as_str().unwrap_or_default();
            assert!(sig.starts_with(&format!("{}(", e.name())), "{sig}");
        }
        // The leading parameters by their source names.
        let ds = crate::LAYER_EVENTS
            .iter()
            .position(|e| e.name() == "DelegateSet")
            .unwrap_or_default();
        let a = run(&mut engine(WATCH), &[layer_log(ds)]);
        // DelegateSet has no indexed parameter: both words come from the data.
        assert_eq!(
            a[0].evidence["args"],
            serde_json::json!({ "sender": addr(0xbb), "delegate": addr(0xcc) })
        );
    }

    #[test]
    fn layers_narrow_which_configuration_events_count() {
        let idx = |name: &str| {
            crate::LAYER_EVENTS
                .iter()
                .position(|e| e.name() == name)
                .unwrap_or_default()
        };
        let (lz, ism) = (idx("UlnConfigSet"), idx("DefaultIsmSet"));
        // (layers line, events, how many count)
        let cases = [
            ("", vec![lz, ism], 2),
            ("layers = [\"hyperlane\"]", vec![lz, ism], 1),
            (
                "layers = [\"layerzero-v2\", \"hyperlane\"]",
                vec![lz, ism],
                2,
            ),
            ("layers = []", vec![lz, ism], 0),
            // `changes` filters on the change name as before.
            ("changes = [\"upgraded\"]", vec![lz], 0),
            ("changes = [\"layer-config-changed\"]", vec![lz], 1),
        ];
        for (line, events, want) in cases {
            let mut e = engine(&format!("{WATCH}{line}\n"));
            let evs: Vec<_> = events.iter().map(|&i| layer_log(i)).collect();
            let a = run(&mut e, &evs);
            assert_eq!(a.len(), want, "{line}: {a:?}");
        }
        let a = run(
            &mut engine(&format!("{WATCH}layers = [\"hyperlane\"]\n")),
            &[layer_log(ism)],
        );
        assert_eq!(a[0].evidence["layer"], "hyperlane");
        // Another contract's layer events are not this rule's business.
        let other = {
            let mut x = layer_log(lz);
            if let EventKind::Privileged { contract, .. } = &mut x.kind {
                *contract = addr(0x12);
            }
            x
        };
        assert!(run(&mut engine(WATCH), &[other]).is_empty());
    }
}
