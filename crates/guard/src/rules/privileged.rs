//! `privileged`: role grants, ownership transfers, upgrades, admin and signer-set changes on the
//! watched contracts (ingest decodes [`crate::PRIVILEGED_EVENTS`] and the rule's extra events);
//! stateless. Config: [`RuleKind::Privileged`].

use serde_json::json;

use super::alert;
use crate::alert::{Alert, Severity};
use crate::event::{Event, EventKind};
use crate::spec::RuleKind;

pub(super) fn on_event(r: u16, kind: &RuleKind, ev: &Event, out: &mut Vec<Alert>) {
    let RuleKind::Privileged {
        contracts,
        changes,
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
        out.push(alert(r, sev, change.reason(), ev, evidence));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{addr, engine, ev, run};
    use crate::alert::Severity;
    use crate::event::{EventKind, PrivilegedChange};

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
}
