use alloy::primitives::{Address, B256, U256};
use ringfence_guard::{BridgeSide, Engine, Event, EventKind, PrivilegedChange, Reason, Severity};

use crate::{addr, bridge_ev, ev, run, spec, units};

pub(crate) const BASE: &str = include_str!("fixtures/rules_base.toml");

pub(crate) fn engine(rules: &str) -> Engine {
    Engine::new(spec(&format!("{BASE}\n{rules}")))
}

/// An engine of one rule `id` of `kind`, with the rule's other `keys`.
fn rule(id: &str, kind: &str, keys: &str) -> Engine {
    engine(&format!(
        "[[rule]]\nid = \"{id}\"\nkind = \"{kind}\"\n{keys}"
    ))
}

const SRC: u16 = 0;
const DST: u16 = 1;
const USDX: u16 = 0;
const BTC: u16 = 1;
const WBTC: u16 = 2;

/// The chain a token lives on and its decimals, as in [`BASE`].
fn chain_and_decimals(token: u16) -> (u16, u8) {
    let dec = if token == USDX { 18 } else { 8 };
    let chain = if token == BTC { SRC } else { DST };
    (chain, dec)
}

fn mint(block: u64, ts: u64, token: u16, n: u64, minter: u8) -> Event {
    let (chain, dec) = chain_and_decimals(token);
    ev(
        chain,
        block,
        ts,
        EventKind::Mint {
            token,
            to: addr(9),
            amount: units(n, dec),
            minter: Some(addr(minter)),
        },
    )
}

/// `n` whole units of `token` moved from `from` to `to`, on the token's chain.
fn transfer(block: u64, ts: u64, token: u16, from: Address, to: Address, n: u64) -> Event {
    let (chain, dec) = chain_and_decimals(token);
    ev(
        chain,
        block,
        ts,
        EventKind::Transfer {
            token,
            from,
            to,
            amount: units(n, dec),
        },
    )
}

/// The backing rule's first reads at t=10 on both chains: heads, `locked` BTC in `lockbox`
/// and a wBTC supply of `supply`.
fn backing_observed(lockbox: Address, locked: u64, supply: u64) -> [Event; 4] {
    [
        head(SRC, 1, 10),
        head(DST, 1, 10),
        ev(
            SRC,
            1,
            10,
            EventKind::BalanceObserved {
                token: BTC,
                holder: lockbox,
                balance: units(locked, 8),
            },
        ),
        ev(
            DST,
            1,
            10,
            EventKind::SupplyObserved {
                token: WBTC,
                supply: units(supply, 8),
            },
        ),
    ]
}

/// A backing rule of wBTC by the BTC held at `0x44…44`, with `tolerance`.
fn backing_engine(tolerance: &str) -> Engine {
    rule(
        "bk",
        "backing",
        &format!(
            r#"token = "wBTC"
backing_token = "BTC"
holder = "0x4444444444444444444444444444444444444444"
tolerance = "{tolerance}""#
        ),
    )
}

/// A privileged change on the destination chain.
fn privileged(block: u64, ts: u64, contract: Address, change: PrivilegedChange) -> Event {
    ev(DST, block, ts, EventKind::Privileged { contract, change })
}

#[test]
fn mint_rate_trips_once_when_the_window_is_exceeded_and_rearms_after() {
    let mut e = rule(
        "mr",
        "mint-rate",
        r#"token = "USDX"
window_s = 3600
max_amount = "1000000"
actions = ["pause"]"#,
    );
    // Resolv: 50M, then 30M 80 minutes later. Both must trip: the window has rolled over.
    let a = run(
        &mut e,
        &[
            mint(1, 1_000, USDX, 400_000, 1),
            mint(2, 1_012, USDX, 500_000, 1),
        ],
    );
    assert!(a.is_empty(), "900k is under 1M: {a:?}");
    let a = run(&mut e, &[mint(3, 1_024, USDX, 50_000_000, 1)]);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].severity, Severity::Trip);
    assert_eq!(a[0].reason, "window-exceeded");
    assert_eq!(a[0].block, 3);
    assert_eq!(a[0].evidence["window_total"], "50900000");
    assert_eq!(a[0].evidence["limit"], "1000000");
    // Still over the limit inside the window: latched, no second trip.
    assert!(run(&mut e, &[mint(4, 1_036, USDX, 1, 1)]).is_empty());
    // 80 minutes later the window has rolled: the 30M mint trips again.
    let a = run(&mut e, &[mint(5, 1_024 + 4_800, USDX, 30_000_000, 1)]);
    assert_eq!(a.len(), 1, "{a:?}");
}

#[test]
fn mint_rate_per_minter_and_share_of_supply() {
    let mut e = rule(
        "mr",
        "mint-rate",
        r#"token = "USDX"
window_s = 600
max_per_minter = "100"
max_share_of_supply = 0.1"#,
    );
    let supply = ev(
        DST,
        1,
        100,
        EventKind::SupplyObserved {
            token: USDX,
            supply: units(10_000, 18),
        },
    );
    let a = run(
        &mut e,
        &[supply, mint(2, 101, USDX, 90, 1), mint(3, 102, USDX, 90, 2)],
    );
    assert!(a.is_empty(), "{a:?}");
    let a = run(&mut e, &[mint(4, 103, USDX, 20, 1)]);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].reason, "minter-window-exceeded");
    assert_eq!(a[0].evidence["minter"], serde_json::json!(addr(1)));
    // 10% of the 10,000 supply before the window = 1,000.
    let a = run(&mut e, &[mint(5, 104, USDX, 850, 3)]);
    assert_eq!(a.len(), 2, "{a:?}");
    assert_eq!(a[0].reason, "window-exceeded");
    assert_eq!(a[1].reason, "minter-window-exceeded");
}

#[test]
fn outflow_rate_alerts_on_big_transfers_and_trips_on_the_window() {
    let mut e = rule(
        "out",
        "outflow-rate",
        r#"chain = "src"
contract = "0x4444444444444444444444444444444444444444"
window_s = 86400
max_usd = 1000000.0
big_transfer_usd = 450000.0"#,
    );
    let lockbox = addr(0x44);
    let out = |b: u64, n: u64| transfer(b, b * 12, BTC, lockbox, addr(7), n);
    let inflow = transfer(1, 12, BTC, addr(7), lockbox, 100);
    assert!(run(&mut e, &[inflow, out(2, 1), out(3, 2)]).is_empty());
    let a = run(&mut e, &[out(4, 10)]);
    assert_eq!(a.len(), 1);
    assert_eq!(
        (a[0].severity, a[0].reason),
        (Severity::Alert, Reason::BigTransfer)
    );
    let a = run(&mut e, &[out(5, 8)]);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(
        (a[0].severity, a[0].reason),
        (Severity::Trip, Reason::WindowExceeded)
    );
    assert_eq!(a[0].evidence["window_usd"], 1_000_000.0 + 50_000.0);
}

fn w(n: u64) -> B256 {
    B256::from(U256::from(n))
}

/// A bridge message `(id, token, amount, recipient)`: BTC locked on the source chain, or wBTC
/// released on the destination chain.
fn message(side: BridgeSide, block: u64, ts: u64, id: u64, amount: u64, to: u8) -> Event {
    let (chain, token) = match side {
        BridgeSide::Source => (SRC, addr(0x22)),
        BridgeSide::Destination => (DST, addr(0x33)),
    };
    bridge_ev(
        chain,
        block,
        ts,
        side,
        &[w(id), token.into_word(), w(amount), addr(to).into_word()],
    )
}

fn lock(block: u64, ts: u64, id: u64, amount: u64, to: u8) -> Event {
    message(BridgeSide::Source, block, ts, id, amount, to)
}

fn release(block: u64, ts: u64, id: u64, amount: u64, to: u8) -> Event {
    message(BridgeSide::Destination, block, ts, id, amount, to)
}

/// Message `id` locked in source block `block` at `ts`, then the source chain read to it.
fn locked(block: u64, ts: u64, id: u64, amount: u64, to: u8) -> [Event; 2] {
    [lock(block, ts, id, amount, to), head(SRC, block, ts)]
}

/// Message `id` released in destination block `block` at `ts`, then the destination chain read
/// to it.
fn released(block: u64, ts: u64, id: u64, amount: u64, to: u8) -> [Event; 2] {
    [release(block, ts, id, amount, to), head(DST, block, ts)]
}

/// The source chain read to block 10 (t=100), then a release (block 20) of message 99, which was
/// never locked: a forged release.
fn forged_release(e: &mut Engine) -> Vec<ringfence_guard::Alert> {
    run(e, &[head(SRC, 10, 100), release(20, 100, 99, 5, 7)])
}

fn head(chain: u16, block: u64, ts: u64) -> Event {
    Event::head(chain, block, ts)
}

const MM: &str = r#"[[rule]]
id = "mm"
kind = "message-match"
bridge = "b"
timeout_s = 600
actions = ["pause"]"#;

#[test]
fn message_match_accepts_a_matching_release_once() {
    let mut e = engine(MM);
    let a = run(
        &mut e,
        &[locked(10, 100, 1, 5, 7), released(20, 100, 1, 5, 7)].concat(),
    );
    assert!(a.is_empty(), "{a:?}");
    // Nomad: the same message released again.
    let a = run(&mut e, &[head(SRC, 11, 101), release(21, 101, 1, 5, 7)]);
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].reason, "replayed");
}

#[test]
fn message_match_trips_on_a_release_with_no_lock() {
    let mut e = engine(MM);
    let a = forged_release(&mut e);
    assert_eq!(a.len(), 1);
    assert_eq!(
        (a[0].severity, a[0].reason),
        (Severity::Trip, Reason::NoSource)
    );
    assert_eq!(a[0].block, 20);
    assert_eq!(a[0].evidence["destination"]["amount"], "5");
}

#[test]
fn message_match_names_the_mismatched_fields() {
    let mut e = engine(MM);
    let a = run(
        &mut e,
        &[
            lock(10, 100, 1, 5, 7),
            head(SRC, 10, 101),
            release(20, 101, 1, 500, 8),
        ],
    );
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].reason, "mismatch");
    assert_eq!(
        a[0].evidence["mismatched"],
        serde_json::json!(["amount", "recipient"])
    );
    assert_eq!(a[0].evidence["source"]["amount"], "5");
}

#[test]
fn message_match_waits_for_a_lagging_source_chain() {
    let mut e = engine(MM);
    // The destination is read up to t=200 while the source is still at t=90: the lock at 150 is
    // not read yet, so the release is held, then accepted once the source catches up.
    let a = run(
        &mut e,
        &[&[head(SRC, 9, 90)][..], &released(20, 200, 1, 5, 7)].concat(),
    );
    assert!(a.is_empty(), "{a:?}");
    let a = run(
        &mut e,
        &[&locked(15, 150, 1, 5, 7)[..], &[head(SRC, 20, 200)]].concat(),
    );
    assert!(a.is_empty(), "{a:?}");
    // A forged one is judged as soon as the source has been read far enough.
    let a = run(
        &mut e,
        &[&released(21, 210, 2, 5, 7)[..], &[head(SRC, 21, 211)]].concat(),
    );
    assert_eq!(a.len(), 1);
    assert_eq!(a[0].reason, "no-source");
}

#[test]
fn message_match_alerts_on_a_lock_never_released() {
    let mut e = engine(MM);
    let a = run(
        &mut e,
        &[&locked(10, 100, 1, 5, 7)[..], &[head(DST, 5, 650)]].concat(),
    );
    assert!(a.is_empty());
    let a = run(&mut e, &[head(DST, 6, 701)]);
    assert_eq!(a.len(), 1);
    assert_eq!(
        (a[0].severity, a[0].reason),
        (Severity::Alert, Reason::SourceUnmatched)
    );
    assert_eq!(a[0].chain, SRC);
    assert_eq!(a[0].block, 10);
}

#[test]
fn backing_trips_when_supply_exceeds_locked() {
    let mut e = backing_engine("0.5");
    let lockbox = addr(0x44);
    let mut events = backing_observed(lockbox, 10, 10).to_vec();
    events.extend([
        transfer(2, 20, BTC, addr(7), lockbox, 1),
        head(SRC, 2, 20),
        mint(3, 21, WBTC, 1, 5),
    ]);
    let a = run(&mut e, &events);
    assert!(a.is_empty(), "{a:?}");
    // The source chain is read only up to t=20: the check waits for it to pass t=22.
    assert!(run(&mut e, &[mint(4, 22, WBTC, 1, 5)]).is_empty());
    let a = run(&mut e, &[head(SRC, 3, 22)]);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].block, 4);
    assert_eq!(a[0].reason, "unbacked");
    assert_eq!(a[0].evidence["supply"], "12");
    assert_eq!(a[0].evidence["locked"], "11");
    // Draining the lockbox on the source side is the same violation; already latched.
    let a = run(&mut e, &[transfer(5, 25, BTC, lockbox, addr(6), 5)]);
    assert!(a.is_empty());
}

#[test]
fn privileged_changes_trip_and_pauses_do_not() {
    let mut e = rule(
        "pv",
        "privileged",
        r#"chain = "dst"
contracts = ["0x1111111111111111111111111111111111111111"]
actions = ["pause"]"#,
    );
    let token = addr(0x11);
    let grant = PrivilegedChange::RoleGranted {
        role: B256::repeat_byte(1),
        account: addr(0xbb),
    };
    let a = run(
        &mut e,
        &[
            privileged(1, 10, token, PrivilegedChange::Paused),
            privileged(2, 11, addr(0x12), grant),
            privileged(3, 12, token, grant),
            privileged(
                4,
                13,
                token,
                PrivilegedChange::Upgraded {
                    implementation: addr(3),
                },
            ),
        ],
    );
    let reasons: Vec<&str> = a.iter().map(|x| x.reason.as_str()).collect();
    assert_eq!(reasons, ["role-granted", "upgraded"]);
    assert_eq!(a[0].evidence["account"], serde_json::json!(addr(0xbb)));
    assert_eq!(a[0].evidence["contract"], serde_json::json!(token));
}

#[test]
fn anomaly_alerts_on_a_spike_after_learning_a_baseline() {
    let mut e = rule(
        "an",
        "anomaly",
        r#"metric = "mint"
token = "USDX"
bucket_s = 60
factor = 10
warmup_buckets = 5
min_value = 1000"#,
    );
    let mut events = Vec::new();
    for i in 0..20u64 {
        events.push(mint(i + 1, i * 60, USDX, 1_000, 1));
    }
    assert!(run(&mut e, &events).is_empty());
    let a = run(
        &mut e,
        &[
            mint(100, 20 * 60, USDX, 5_000, 1),
            mint(101, 20 * 60 + 1, USDX, 9_000, 1),
        ],
    );
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(
        (a[0].severity, a[0].reason),
        (Severity::Alert, Reason::Velocity)
    );
    assert_eq!(a[0].block, 101);
}

#[test]
fn alert_ids_are_stable_and_records_name_everything() {
    let mut e = engine(MM);
    let a = forged_release(&mut e);
    let spec = e.spec().clone();
    let rec = a[0].record(&spec);
    assert_eq!(rec.rule, "mm");
    assert_eq!(rec.kind, "message-match");
    assert_eq!(rec.chain, "dst");
    assert_eq!(rec.actions.len(), 1);
    assert_eq!(rec.actions[0].id, "pause");
    assert_eq!(a[0].id(&spec), a[0].clone().id(&spec));
    let _unused: Address = Address::ZERO;
}

/// Alert ids hash the reason's name: typing the reason must not change any id (a restarted
/// daemon recognises the trips it already acted on by id). Pinned from the string-reason code.
#[test]
fn alert_ids_and_records_keep_their_bytes_with_typed_reasons() {
    let mut e = engine(MM);
    let a = forged_release(&mut e);
    let spec = e.spec().clone();
    assert_eq!(a[0].reason, Reason::NoSource);
    assert_eq!(a[0].id(&spec), "1996c743cdb6d96e75f33427");
    let rec = serde_json::to_value(a[0].record(&spec)).expect("serialises");
    assert_eq!(rec["reason"], "no-source");
    assert_eq!(rec["id"], "1996c743cdb6d96e75f33427");
}

/// Issue 11 item 7: USDC-like 6 → 18 decimals (scale 12) with a bridge fee up to 30 bps: a
/// release within the fee matches; one above the scaled lock or below the fee floor trips.
#[test]
fn message_match_compares_amounts_with_a_scale_and_a_fee() {
    let scaled = |text: &str| {
        Engine::new(spec(&format!(
            "{}\n{MM}",
            BASE.replace(
                "match_on = [\"id\", \"amount\", \"recipient\"]",
                &format!("match_on = [\"id\", {text}, \"recipient\"]")
            )
        )))
    };
    let mut e = scaled("{ name = \"amount\", scale = 12, fee_bps = 30 }");
    let m = 1_000_000_000_000u64; // 10^12
    // 1 unit locked (6 decimals), 0.997 released (18 decimals): a 30 bps fee, exactly.
    let ok = [
        lock(10, 100, 1, 1_000_000, 7),
        lock(10, 100, 2, 1_000_000, 7),
        head(SRC, 10, 100),
        release(20, 100, 1, 997_000 * m, 7),
        release(20, 100, 2, 1_000_000 * m, 7),
    ];
    let a = run(&mut e, &ok);
    assert!(a.is_empty(), "{a:?}");
    // Less than the fee allows, or more than was locked: mismatch.
    let bad = [
        lock(11, 101, 3, 1_000_000, 7),
        lock(11, 101, 4, 1_000_000, 7),
        head(SRC, 11, 101),
        release(21, 101, 3, 996_999 * m, 7),
        release(21, 101, 4, 1_000_000 * m + 1, 7),
    ];
    let a = run(&mut e, &bad);
    assert_eq!(a.len(), 2, "{a:?}");
    assert!(a.iter().all(
        |x| x.reason == "mismatch" && x.evidence["mismatched"] == serde_json::json!(["amount"])
    ));
    // Without the scale the same benign release trips.
    let mut exact = engine(MM);
    let a = run(&mut exact, &ok);
    assert_eq!(a.len(), 2, "{a:?}");
}

/// Found by driving the replay lab through the daemon, which reads two chains in whatever order
/// their blocks arrive: a burn-and-release whose release (source chain) is read before the
/// destination block that burns — where the burn is preceded by a transfer into the bridge — was
/// judged mid-block and tripped `unbacked` on a benign transfer.
#[test]
fn regression_backing_is_not_judged_mid_block_across_chains() {
    let mut e = backing_engine("0");
    let lockbox = addr(0x44);
    let bridge = addr(0x55);
    let user = addr(7);
    assert!(run(&mut e, &backing_observed(lockbox, 10, 10)).is_empty());
    // The release on the source chain is read first…
    let release = transfer(2, 20, BTC, lockbox, user, 1);
    assert!(run(&mut e, &[release, head(SRC, 2, 20)]).is_empty());
    // …then the destination block: the user's wBTC moves into the bridge, which burns it.
    let into_bridge = transfer(2, 20, WBTC, user, bridge, 1);
    let burn = ev(
        DST,
        2,
        20,
        EventKind::Burn {
            token: WBTC,
            from: bridge,
            amount: units(1, 8),
        },
    );
    let a = run(&mut e, &[into_bridge, burn, head(DST, 2, 20)]);
    assert!(a.is_empty(), "a benign burn-and-release tripped: {a:?}");
    // A release with no burn is still a trip, located at the release.
    let a = run(&mut e, &[release, head(SRC, 3, 30), head(DST, 3, 30)]);
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(
        (a[0].reason, a[0].chain, a[0].block),
        (Reason::Unbacked, SRC, 2)
    );
}
