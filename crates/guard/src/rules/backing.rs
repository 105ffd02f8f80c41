//! `backing`: a wrapped token's supply never above the balance locked for it at the source, plus
//! a tolerance, judged when a block is complete. Config: [`RuleKind::Backing`].

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{alert, token};
use crate::alert::{Alert, Severity};
use crate::amount::{format_units, pow10};
use crate::engine::World;
use crate::event::Event;
use crate::reason::Reason;
use crate::spec::RuleKind;

/// Whether the rule tripped and is not yet backed again, and the event that broke the invariant
/// mid-block, waiting for the block's end.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Backing {
    latched: bool,
    pending: Option<Event>,
}

impl Backing {
    pub(super) fn on_head(&mut self, w: &World, r: u16, ev: &Event, out: &mut Vec<Alert>) {
        if self.pending.is_some() {
            self.check(w, r, ev, true, out);
        }
    }

    pub(super) fn on_event(&mut self, w: &World, r: u16, ev: &Event, out: &mut Vec<Alert>) {
        self.check(w, r, ev, false, out);
    }

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
            Reason::Unbacked,
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

#[cfg(test)]
mod tests {
    use super::super::testutil::{addr, engine, ev, run};
    use crate::event::{Event, EventKind};
    use alloy::primitives::U256;

    const RULE: &str = r#"[[rule]]
id = "bk"
kind = "backing"
token = "T"
backing_token = "L"
holder = "0x4444444444444444444444444444444444444444"
actions = ["pause"]"#;

    fn observed(e: &mut crate::engine::Engine, supply: u64, locked: u64) {
        let evs = [
            ev(
                0,
                1,
                10,
                EventKind::SupplyObserved {
                    token: 0,
                    supply: U256::from(supply),
                },
            ),
            ev(
                1,
                1,
                10,
                EventKind::BalanceObserved {
                    token: 1,
                    holder: addr(0x44),
                    balance: U256::from(locked),
                },
            ),
            Event::head(0, 1, 10),
            Event::head(1, 1, 10),
        ];
        assert!(run(e, &evs).is_empty());
    }

    fn mint(block: u64, ts: u64, n: u64) -> Event {
        ev(
            0,
            block,
            ts,
            EventKind::Mint {
                token: 0,
                to: addr(9),
                amount: U256::from(n),
                minter: None,
            },
        )
    }

    #[test]
    fn trips_at_the_block_end_located_at_the_unbacked_mint_and_once() {
        let mut e = engine(RULE);
        observed(&mut e, 100, 100);
        // Mid-block nothing is judged; at the head (other chain read up to it) it trips.
        assert!(run(&mut e, &[mint(2, 20, 5)]).is_empty());
        let a = run(&mut e, &[Event::head(1, 2, 20), Event::head(0, 2, 20)]);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(
            (a[0].reason.as_str(), a[0].block, a[0].chain),
            ("unbacked", 2, 0)
        );
        // Latched until backed again.
        assert!(run(&mut e, &[mint(3, 30, 1), Event::head(0, 3, 30)]).is_empty());
    }

    #[test]
    fn waits_for_a_lagging_backing_chain() {
        let mut e = engine(RULE);
        observed(&mut e, 100, 100);
        // The backing chain is only read up to t=10: the mint at t=20 may be covered by a lock
        // not yet read.
        assert!(run(&mut e, &[mint(2, 20, 5), Event::head(0, 2, 20)]).is_empty());
        let a = run(&mut e, &[Event::head(1, 2, 20), Event::head(0, 3, 30)]);
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!(a[0].block, 2);
    }
}
