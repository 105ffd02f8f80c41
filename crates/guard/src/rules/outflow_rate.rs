//! `outflow-rate`: a sliding window of USD leaving a contract (trip), plus an alert on a single
//! big transfer. Config: [`RuleKind::OutflowRate`].

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::window::{SlidingSum, crossed};
use super::{alert, token};
use crate::alert::{Alert, Severity};
use crate::amount::{format_units, to_f64};
use crate::engine::World;
use crate::event::{Event, EventKind};
use crate::reason::Reason;
use crate::spec::RuleKind;

/// The USD window and whether it is latched.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct OutflowRate {
    window: SlidingSum<f64>,
    latched: bool,
}

impl OutflowRate {
    pub(super) fn on_event(
        &mut self,
        w: &World,
        r: u16,
        kind: &RuleKind,
        ev: &Event,
        out: &mut Vec<Alert>,
    ) {
        let RuleKind::OutflowRate {
            contract,
            tokens,
            window_s,
            max_usd,
            big_transfer_usd,
            ..
        } = kind
        else {
            return;
        };
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
        let (before, total) = self.window.step(ev.timestamp, usd, *window_s);
        // What both alerts say about the transfer, followed by what each adds.
        let evidence = |extra: serde_json::Value| {
            let mut e = json!({
                "contract": contract,
                "token": tok.id,
                "to": to,
                "amount": format_units(amount, tok.decimals),
                "usd": usd,
            });
            if let (Some(m), serde_json::Value::Object(x)) = (e.as_object_mut(), extra) {
                m.extend(x);
            }
            e
        };
        if let Some(big) = big_transfer_usd
            && usd >= *big
        {
            out.push(alert(
                r,
                Severity::Alert,
                Reason::BigTransfer,
                ev,
                evidence(json!({ "big_transfer_usd": big })),
            ));
        }
        if let Some(max) = max_usd
            && crossed(&mut self.latched, before, total, *max)
        {
            out.push(alert(
                r,
                Severity::Trip,
                Reason::WindowExceeded,
                ev,
                evidence(json!({
                    "window_s": window_s,
                    "window_usd": total,
                    "max_usd": max,
                })),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{addr, engine, ev, run};
    use crate::alert::Severity;
    use crate::event::EventKind;
    use alloy::primitives::U256;

    const RULE: &str = r#"[[rule]]
id = "out"
kind = "outflow-rate"
chain = "a"
contract = "0x7777777777777777777777777777777777777777"
tokens = ["T"]
window_s = 100
max_usd = 10
big_transfer_usd = 8"#;

    fn out_of(from: u8, ts: u64, n: u64) -> crate::event::Event {
        ev(
            0,
            ts,
            ts,
            EventKind::Transfer {
                token: 0,
                from: addr(from),
                to: addr(9),
                amount: U256::from(n),
            },
        )
    }

    #[test]
    fn counts_only_the_watched_contract_and_trips_once_per_excess() {
        let mut e = engine(RULE);
        // Another contract's transfers are not outflow.
        assert!(run(&mut e, &[out_of(1, 1, 1_000)]).is_empty());
        let a = run(&mut e, &[out_of(0x77, 2, 5), out_of(0x77, 3, 4)]);
        assert!(a.is_empty(), "9 USD is under 10: {a:?}");
        let a = run(&mut e, &[out_of(0x77, 4, 9)]);
        let got: Vec<_> = a.iter().map(|x| (x.severity, x.reason.as_str())).collect();
        assert_eq!(
            got,
            [
                (Severity::Alert, "big-transfer"),
                (Severity::Trip, "window-exceeded")
            ]
        );
        let keys = |i: usize| -> Vec<String> {
            a[i].evidence
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default()
        };
        let transfer = ["amount", "contract", "to", "token", "usd"];
        let mut big: Vec<&str> = transfer.to_vec();
        big.push("big_transfer_usd");
        let mut window: Vec<&str> = transfer.to_vec();
        window.extend(["max_usd", "window_s", "window_usd"]);
        let (mut k0, mut k1) = (keys(0), keys(1));
        k0.sort();
        k1.sort();
        big.sort_unstable();
        window.sort_unstable();
        assert_eq!(
            (k0, k1),
            (
                big.iter().map(|k| k.to_string()).collect(),
                window.iter().map(|k| k.to_string()).collect()
            )
        );
        assert_eq!(a[1].evidence["usd"], 9.0);
        // Latched inside the window; after it rolls, a new excess trips again.
        assert!(run(&mut e, &[out_of(0x77, 5, 1)]).is_empty());
        let a = run(&mut e, &[out_of(0x77, 200, 7), out_of(0x77, 201, 7)]);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(a[0].reason, "window-exceeded");
    }
}
