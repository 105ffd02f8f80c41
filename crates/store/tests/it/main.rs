//! Behaviour tests of the store: block commits, replay order, rollback with retraction.

use alloy::primitives::{B256, U256};
use ringfence_guard::{AlertRecord, Event, EventKind, Severity};
use ringfence_store::{AlertFilter, BlockRecord, SCHEMA_VERSION, Store};

fn block(n: u64, tag: u8) -> BlockRecord {
    BlockRecord {
        number: n,
        hash: hash(tag, n),
        parent_hash: hash(tag, n.saturating_sub(1)),
        timestamp: 1000 + n,
    }
}

fn hash(tag: u8, n: u64) -> B256 {
    let mut b = B256::repeat_byte(tag);
    b.0[31] = n as u8;
    b
}

fn mint(n: u64) -> Event {
    Event {
        chain: 1,
        block: n,
        timestamp: 1000 + n,
        tx: B256::from(U256::from(n)),
        log_index: 0,
        kind: EventKind::Mint {
            token: 0,
            to: Default::default(),
            amount: U256::from(n),
            minter: None,
        },
    }
}

fn alert(id: &str, n: u64) -> AlertRecord {
    AlertRecord {
        id: id.into(),
        rule: "r".into(),
        kind: ringfence_guard::AlertKind::MintRate,
        severity: Severity::Trip,
        reason: ringfence_guard::Reason::WindowExceeded,
        chain: "dst".into(),
        block: n,
        timestamp: 1000 + n,
        tx: Some(B256::from(U256::from(n))),
        log_index: 0,
        evidence: serde_json::json!({"amount": "5"}),
        actions: vec![],
        retracted: false,
    }
}

#[test]
fn commits_survive_reopen_and_replay_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("sub/guard.db");
    {
        let mut s = Store::open(&path).expect("open");
        assert_eq!(s.checkpoint("dst").expect("q"), None);
        for n in 1..=3 {
            let fresh = s
                .commit_block(
                    "dst",
                    &block(n, 1),
                    &[mint(n), Event::head(1, n, 1000 + n)],
                    &[alert(&format!("a{n}"), n)],
                )
                .expect("commit");
            assert_eq!(fresh, vec![true]);
        }
        // The same alert again (a replay after restart) is not new.
        assert_eq!(
            s.commit_block("dst", &block(4, 1), &[], &[alert("a3", 3)])
                .expect("commit"),
            vec![false]
        );
    }
    let s = Store::open(&path).expect("reopen");
    assert_eq!(s.checkpoint("dst").expect("q"), Some(block(4, 1)));
    let evs = s.events().expect("events");
    assert_eq!(evs.len(), 6);
    assert_eq!(evs[0].1, mint(1));
    assert_eq!(evs[5].1, Event::head(1, 3, 1003));
    assert_eq!(s.alerts().expect("alerts").len(), 3);
    assert_eq!(s.block("dst", 2).expect("q"), Some(block(2, 1)));
}

#[test]
fn rollback_forgets_later_blocks_and_retracts_their_alerts() {
    let mut s = Store::open_in_memory().expect("open");
    for n in 1..=5 {
        s.commit_block(
            "dst",
            &block(n, 1),
            &[mint(n)],
            &[alert(&format!("a{n}"), n)],
        )
        .expect("commit");
    }
    s.commit_block("src", &block(9, 2), &[mint(9)], &[])
        .expect("commit");
    let retracted = s.rollback("dst", &block(3, 1)).expect("rollback");
    let ids: Vec<&str> = retracted.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["a4", "a5"]);
    assert!(retracted.iter().all(|a| a.retracted));
    assert_eq!(s.checkpoint("dst").expect("q").map(|b| b.number), Some(3));
    assert_eq!(s.events().expect("events").len(), 4);
    assert!(s.alert("a5").expect("q").expect("kept").retracted);
    // Re-raised on the new branch: active again, and not reported as new.
    assert_eq!(
        s.commit_block("dst", &block(4, 3), &[mint(4)], &[alert("a4", 4)])
            .expect("commit"),
        vec![false]
    );
    assert!(!s.alert("a4").expect("q").expect("kept").retracted);
}

#[test]
fn action_outcomes_are_updated_in_place() {
    let mut s = Store::open_in_memory().expect("open");
    s.commit_block("dst", &block(1, 1), &[], &[alert("a1", 1)])
        .expect("commit");
    let mut a = s.alert("a1").expect("q").expect("present");
    a.actions.push(ringfence_guard::ActionRecord {
        id: "p".into(),
        kind: "pause".into(),
        status: ringfence_guard::ActionStatus::Mined,
        tx: Some(B256::ZERO),
        arg: None,
        error: None,
        shared_with: None,
        attempts: 1,
    });
    s.update_alert(&a).expect("update");
    assert_eq!(
        s.alert("a1").expect("q").expect("present").actions[0].status,
        "mined"
    );
}

/// Regression: the watcher and a second connection (the dashboard's, a test polling the
/// checkpoint) opening a new store file at the same moment failed one of them with "database is
/// locked" — switching a new file to WAL does not wait for the busy handler.
#[test]
fn regression_concurrent_opens_of_a_new_store_all_succeed() {
    for round in 0..20 {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("guard.db");
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
        let openers: Vec<_> = (0..6)
            .map(|_| {
                let (path, barrier) = (path.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    Store::open(&path).map(|s| s.checkpoint("dst").map(|c| c.is_none()))
                })
            })
            .collect();
        for o in openers {
            let r = o.join().expect("opener thread");
            assert!(matches!(r, Ok(Ok(true))), "round {round}: {:?}", r.err());
        }
    }
}

/// The server used to create its own `server_acks` table with a second connection; the store
/// now owns it as `acks` (migration 2) and carries old acknowledgements over.
#[test]
fn migrations_version_the_schema_and_carry_old_acks_over() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("guard.db");
    {
        // A store as an older build left it: base schema, version 0, the server's own table.
        let mut s = Store::open(&path).expect("open");
        s.commit_block("dst", &block(1, 1), &[], &[alert("a1", 1)])
            .expect("commit");
    }
    {
        let c = rusqlite::Connection::open(&path).expect("raw");
        c.execute_batch(
            "DROP TABLE acks; PRAGMA user_version = 0;
             CREATE TABLE server_acks (id TEXT PRIMARY KEY, at INTEGER NOT NULL, note TEXT NOT NULL);
             INSERT INTO server_acks VALUES ('a1', 77, 'seen');",
        )
        .expect("legacy");
    }
    let s = Store::open(&path).expect("reopen migrates");
    assert_eq!(s.schema_version().expect("v"), SCHEMA_VERSION);
    let ack = s.ack_of("a1").expect("q").expect("carried over");
    assert_eq!((ack.at, ack.note.as_str()), (77, "seen"));
    drop(s);
    let c = rusqlite::Connection::open(&path).expect("raw");
    let legacy: i64 = c
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'server_acks'",
            [],
            |r| r.get(0),
        )
        .expect("q");
    assert_eq!(legacy, 0);
    // A newer build's store is refused with what to do, not misread.
    c.execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1))
        .expect("bump");
    drop(c);
    let err = Store::open(&path).expect_err("newer schema");
    assert!(err.to_string().contains("upgrade ringfence"), "{err}");
}

#[test]
fn pages_counts_and_acks_are_answered_in_sql() {
    let mut s = Store::open_in_memory().expect("open");
    for n in 1..=7u64 {
        let mut a = alert(&format!("a{n}"), n);
        if n % 3 == 0 {
            a.severity = Severity::Alert;
        }
        s.commit_block("dst", &block(n, 1), &[], &[a])
            .expect("commit");
    }
    // A reorg retracts a6 and a7.
    s.rollback("dst", &block(5, 1)).expect("rollback");
    let trips = AlertFilter {
        severity: Some(Severity::Trip),
        retracted: false,
    };
    let p = s.alerts_page(trips, 0, 2).expect("page");
    let (page, total) = (p.items, p.total);
    // Live trips: a1 a2 a4 a5.
    assert_eq!(total, 4);
    let ids: Vec<&str> = page.iter().map(|(a, _)| a.id.as_str()).collect();
    assert_eq!(ids, ["a5", "a4"]);
    let page = s.alerts_page(trips, 2, 2).expect("page 2").items;
    let ids: Vec<&str> = page.iter().map(|(a, _)| a.id.as_str()).collect();
    assert_eq!(ids, ["a2", "a1"]);
    let all = AlertFilter {
        severity: None,
        retracted: true,
    };
    assert_eq!(s.alerts_page(all, 0, 100).expect("all").total, 7);

    assert_eq!(s.ack("nope", 1, "").expect("ack"), None);
    let (ack, fresh) = s.ack("a4", 10, "looked").expect("ack").expect("known");
    assert!(fresh);
    let (again, fresh) = s.ack("a4", 20, "again").expect("ack").expect("known");
    assert!(!fresh);
    assert_eq!(again, ack);
    let page = s.alerts_page(trips, 1, 1).expect("page").items;
    assert_eq!(page[0].1.as_ref().map(|a| a.note.as_str()), Some("looked"));
    let c = s.alert_counts().expect("counts");
    assert_eq!((c.trips, c.alerts, c.unacked_trips), (4, 1, 3));
}

/// Issue 10 item 3 in stores written before: a `same-as:<id>` action shows the lead's sent
/// pause (its hash) after the migration, not `pending`.
#[test]
fn regression_same_as_records_show_the_shared_pause_after_migration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("guard.db");
    let pause = "0x2222222222222222222222222222222222222222222222222222222222222222";
    {
        let mut s = Store::open(&path).expect("open");
        s.commit_block(
            "dst",
            &block(1, 1),
            &[],
            &[alert("lead", 1), alert("second", 1)],
        )
        .expect("commit");
    }
    {
        let c = rusqlite::Connection::open(&path).expect("raw");
        let lead =
            serde_json::json!([{ "id": "p", "kind": "pause", "status": "mined", "tx": pause }]);
        let second = serde_json::json!([{ "id": "p", "kind": "pause", "status": "same-as:lead" }]);
        for (id, actions) in [("lead", lead), ("second", second)] {
            c.execute(
                "UPDATE alerts SET body = json_set(body, '$.actions', json(?2)) WHERE id = ?1",
                rusqlite::params![id, actions.to_string()],
            )
            .expect("legacy body");
        }
        c.execute_batch("PRAGMA user_version = 2").expect("version");
    }
    let s = Store::open(&path).expect("migrates");
    let a = s.alert("second").expect("q").expect("present");
    assert_eq!(a.actions[0].status, ringfence_guard::ActionStatus::Mined);
    assert_eq!(
        a.actions[0].tx.map(|t| t.to_string()),
        Some(pause.to_owned())
    );
    assert_eq!(a.actions[0].shared_with.as_deref(), Some("lead"));
}

/// The engine snapshot replaces the events it includes: saving it prunes them, a restart reads
/// only what follows it, and the count of events ever stored survives the pruning.
#[test]
fn a_snapshot_prunes_the_events_it_includes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("g.db");
    let mut s = Store::open(&path).expect("open");
    assert_eq!(s.snapshot().expect("q"), None);
    assert_eq!(s.last_event_seq().expect("q"), 0);
    for n in 1..=10 {
        s.commit_block("dst", &block(n, 1), &[mint(n)], &[])
            .expect("commit");
    }
    assert_eq!(s.last_event_seq().expect("q"), 10);
    assert_eq!(s.save_snapshot(6, "{\"state\":1}").expect("save"), 6);
    assert_eq!(s.event_count().expect("count"), 4);
    drop(s);
    let s = Store::open(&path).expect("reopen");
    assert_eq!(
        s.snapshot().expect("q"),
        Some((6, "{\"state\":1}".to_owned()))
    );
    let after = s.events_after(6).expect("events");
    assert_eq!(
        after
            .iter()
            .map(|(seq, _, e)| (*seq, e.block))
            .collect::<Vec<_>>(),
        vec![(7, 7), (8, 8), (9, 9), (10, 10)]
    );
    assert!(after.iter().all(|(_, c, _)| c == "dst"));
    assert_eq!(
        s.last_event_seq().expect("q"),
        10,
        "pruning keeps the count"
    );
}
