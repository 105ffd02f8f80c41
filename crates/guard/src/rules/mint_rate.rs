//! `mint-rate`: a sliding window over a token's mints, in total (an amount, or a share of the
//! supply before the window) and per minter (the mint transaction's sender). Config:
//! [`RuleKind::MintRate`].

use alloy::primitives::U256;
use alloy::primitives::map::AddressHashMap;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::window::{SlidingSum, crossed};
use super::{alert, token};
use crate::alert::{Alert, Severity};
use crate::amount::format_units;
use crate::engine::World;
use crate::event::{Event, EventKind};
use crate::reason::Reason;
use crate::spec::RuleKind;

/// The windows, and whether each is latched (tripped and not yet back under its limit).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct MintRate {
    total: SlidingSum<U256>,
    total_latched: bool,
    per_minter: AddressHashMap<(SlidingSum<U256>, bool)>,
}

impl MintRate {
    pub(super) fn on_event(
        &mut self,
        w: &World,
        r: u16,
        kind: &RuleKind,
        ev: &Event,
        out: &mut Vec<Alert>,
    ) {
        let RuleKind::MintRate {
            token: t,
            window_s,
            max_amount,
            max_share_ppm,
            max_per_minter,
        } = kind
        else {
            return;
        };
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
        let (before, total) = self.total.step(ev.timestamp, amount, *window_s);
        let mut limit = *max_amount;
        if let (Some(ppm), Some(supply)) = (
            max_share_ppm,
            w.supply.get(usize::from(*t)).copied().flatten(),
        ) {
            let base = supply.saturating_sub(total);
            let share = base.saturating_mul(U256::from(*ppm)) / U256::from(1_000_000u64);
            limit = Some(limit.map_or(share, |l| l.min(share)));
        }
        if let Some(limit) = limit
            && crossed(&mut self.total_latched, before, total, limit)
        {
            out.push(alert(
                r,
                Severity::Trip,
                Reason::WindowExceeded,
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
        if let (Some(max), Some(m)) = (max_per_minter, minter) {
            let e = self.per_minter.entry(m).or_default();
            let (before, sum) = e.0.step(ev.timestamp, amount, *window_s);
            if crossed(&mut e.1, before, sum, *max) {
                out.push(alert(
                    r,
                    Severity::Trip,
                    Reason::MinterWindowExceeded,
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
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{addr, engine, ev, run};
    use crate::event::EventKind;
    use alloy::primitives::U256;

    const RULE: &str = r#"[[rule]]
id = "mr"
kind = "mint-rate"
token = "T"
window_s = 100
max_amount = "10"
max_per_minter = "6""#;

    fn mint(ts: u64, n: u64, minter: u8) -> crate::event::Event {
        ev(
            0,
            ts,
            ts,
            EventKind::Mint {
                token: 0,
                to: addr(9),
                amount: U256::from(n),
                minter: Some(addr(minter)),
            },
        )
    }

    /// One case: mints as (timestamp, base units, minter), and the reasons raised.
    type Case<'a> = (&'a [(u64, u64, u8)], &'a [&'a str]);

    #[test]
    fn window_and_per_minter_limits() {
        let cases: &[Case<'_>] = &[
            (&[(1, 5, 1), (2, 5, 2)], &[]),
            (&[(1, 7, 1)], &["minter-window-exceeded"]),
            (&[(1, 6, 1), (2, 5, 2)], &["window-exceeded"]),
            // Latched: the second excess in the window does not trip again.
            (&[(1, 6, 1), (2, 5, 2), (3, 1, 3)], &["window-exceeded"]),
            // The window rolls over: the sum is back under the limit, a new excess trips.
            (
                &[(1, 6, 1), (2, 5, 2), (300, 11, 3)],
                &[
                    "window-exceeded",
                    "window-exceeded",
                    "minter-window-exceeded",
                ],
            ),
        ];
        for (mints, want) in cases {
            let mut e = engine(RULE);
            let evs: Vec<_> = mints.iter().map(|&(t, n, m)| mint(t, n, m)).collect();
            let got: Vec<&str> = run(&mut e, &evs)
                .iter()
                .map(|a| a.reason.as_str())
                .collect();
            assert_eq!(&got, want, "{mints:?}");
        }
    }
}
