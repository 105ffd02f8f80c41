//! Issue 12: the destination chain read through three endpoints (anvil itself, an honest proxy,
//! a lying proxy — `ringfence_quorum::testing::LyingProxy`). One liar injects a forged release,
//! drops a real one and rewrites a block hash: each lie raises `rpc-disagreement` and nothing
//! else, and a real attack in the same run still trips and pauses. With two liars of three the
//! daemon halts on the chain (no pause on the liars' word) and says so, on the alert stream and
//! in its health.

use std::time::{Duration, Instant};

use alloy::primitives::{B256, Bytes, keccak256};
use alloy::providers::Provider;
use alloy::sol_types::SolValue;
use ringfence_guard::AlertRecord;
use ringfence_quorum::testing::{Lie, LyingProxy};

use crate::harness::{
    Bridge, account, bridge, bridge_config, forged_release, lock_and_id, receipt, release, units,
};
use crate::{Guard, wait_ingested};

/// Blocks the guard stays behind the destination head: time to set a lie about a block after it
/// is mined and before the guard reads it.
const CONFIRMATIONS: u64 = 3;

/// The bridge config with the destination chain read through `endpoints`.
fn quorum_config(b: &Bridge, db: &std::path::Path, endpoints: &[String]) -> String {
    let list: Vec<String> = endpoints.iter().map(|e| format!("\"{e}\"")).collect();
    let config = bridge_config(b, db, &b.src.http());
    let single = format!("rpc = \"{}\"\n", b.dst.http());
    assert!(config.contains(&single));
    config.replacen(
        &single,
        &format!(
            "rpc = [{}]\nconfirmations = {CONFIRMATIONS}\n",
            list.join(", ")
        ),
        1,
    )
}

/// A `Released` log of the bridge endpoint that never happened: 50 wBTC to account 2.
fn forged_release_log(b: &Bridge, block: u64) -> Lie {
    Lie::InjectLog {
        block,
        address: b.endpoint,
        topics: vec![
            keccak256("Released(bytes32,address,uint256,address)"),
            B256::repeat_byte(0x77),
        ],
        data: Bytes::from((b.wbtc, units(50, 8), account(2)).abi_encode_params()),
    }
}

/// Every alert reported within `ms`.
async fn collect(guard: &mut Guard, ms: u64) -> Vec<AlertRecord> {
    let end = Instant::now() + Duration::from_millis(ms);
    let mut out = Vec::new();
    while let Ok(Some(a)) = tokio::time::timeout_at(end.into(), guard.alerts.recv()).await {
        out.push(a);
    }
    out
}

/// Waits for an `rpc-disagreement` alert about `block` (any other alert fails the test).
async fn disagreement_on(guard: &mut Guard, block: u64, secs: u64) -> AlertRecord {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        let a = match tokio::time::timeout_at(end.into(), guard.alerts.recv()).await {
            Ok(Some(a)) => a,
            _ => panic!("no rpc-disagreement about block {block} within {secs} s"),
        };
        assert_eq!(
            a.kind,
            "rpc-disagreement",
            "only rpc-disagreement may come from a lie: {}",
            serde_json::to_string_pretty(&a).unwrap_or_default()
        );
        if a.block == block {
            return a;
        }
    }
}

async fn dst_head(b: &Bridge) -> u64 {
    b.dst.as_account(0).get_block_number().await.expect("rpc")
}

async fn wait_synced(b: &Bridge, db: &std::path::Path) {
    let dst = dst_head(b).await;
    wait_ingested(db, "dst", dst.saturating_sub(CONFIRMATIONS)).await;
    let src = b.src.as_account(0).get_block_number().await.expect("rpc");
    wait_ingested(db, "src", src).await;
}

/// Locks 1 BTC on the source chain and waits until the guard has read the lock; returns its id.
async fn lock(b: &Bridge, db: &std::path::Path) -> B256 {
    let (r, id) = lock_and_id(&b.src, b.lockbox, b.btc).await;
    wait_ingested(db, "src", r.block_number.expect("block")).await;
    id
}

/// A guard reading the destination through anvil and two proxies in front of it (honest until
/// told to lie), once it has read both chains: the proxies, the guard's folder, its store and
/// the guard.
async fn guard_behind_proxies(
    b: &Bridge,
) -> (
    LyingProxy,
    LyingProxy,
    tempfile::TempDir,
    std::path::PathBuf,
    Guard,
) {
    let p1 = LyingProxy::start(&b.dst.http()).await.expect("proxy");
    let p2 = LyingProxy::start(&b.dst.http()).await.expect("proxy");
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("guard.db");
    let endpoints = [b.dst.http(), p1.url(), p2.url()];
    let guard = Guard::start(&quorum_config(b, &db, &endpoints));
    wait_synced(b, &db).await;
    (p1, p2, dir, db, guard)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_liar_of_three_raises_only_rpc_disagreement_and_a_real_attack_still_pauses() {
    let b = bridge(32_300, 32_301).await;
    let (_honest, liar, _dir, db, mut guard) = guard_behind_proxies(&b).await;

    // (a) The liar injects a release that never happened into a block to come.
    let target = dst_head(&b).await + 2;
    liar.lie(forged_release_log(&b, target));
    let a = disagreement_on(&mut guard, target, 20).await;
    assert_eq!(a.evidence["dissenting"][0]["endpoint"], liar.url(), "{a:?}");
    assert_eq!(a.evidence["no_quorum"], false);
    assert_eq!(
        a.evidence["agreeing"].as_array().map(Vec::len),
        Some(2),
        "{a:?}"
    );
    assert!(
        a.evidence["differed"][0]
            .as_str()
            .is_some_and(|d| d.contains("log")),
        "{a:?}"
    );
    liar.tell_the_truth();

    // (b) A real lock and its release; the liar drops the release from its answers.
    let id = lock(&b, &db).await;
    let r = release(&b.dst, b.endpoint, b.wbtc, id, units(1, 8), account(4)).await;
    let released = r.block_number.expect("block");
    liar.lie(Lie::DropLogs { block: released });
    let a = disagreement_on(&mut guard, released, 20).await;
    assert_eq!(a.evidence["dissenting"][0]["endpoint"], liar.url());
    assert_eq!(a.evidence["dissenting"][0]["contradicted_blocks"], 2);
    wait_ingested(&db, "dst", released).await;
    liar.tell_the_truth();

    // (c) The liar answers another hash for a block to come.
    let target = dst_head(&b).await + 2;
    liar.lie(Lie::OtherHash { block: target });
    let a = disagreement_on(&mut guard, target, 20).await;
    assert!(
        a.evidence["differed"][0]
            .as_str()
            .is_some_and(|d| d.contains("invalid answer")),
        "{a:?}"
    );
    wait_ingested(&db, "dst", target).await;
    let rest = collect(&mut guard, 1_500).await;
    assert!(
        rest.iter().all(|a| a.kind == "rpc-disagreement"),
        "{rest:#?}"
    );
    assert!(
        guard.health.halted().is_empty(),
        "{:?}",
        guard.health.halted()
    );
    assert!(!b.paused().await, "no lie paused the bridge");

    // A real attack in the same run (the liar still lying about another block): a release
    // with no lock trips and the pause is mined.
    liar.lie(forged_release_log(&b, dst_head(&b).await + 1));
    let r = forged_release(&b.dst, b.endpoint, b.wbtc, B256::repeat_byte(0x66)).await;
    let block = r.block_number.expect("block");
    let start = Instant::now();
    let trip = loop {
        let a = guard.next(20).await;
        if a.kind == "message-match" {
            break a;
        }
        assert!(
            ["rpc-disagreement", "backing"].contains(&a.kind.as_str()),
            "{a:?}"
        );
        assert!(start.elapsed() < Duration::from_secs(30));
    };
    assert_eq!((trip.reason.as_str(), trip.block), ("no-source", block));
    let d0 = b.dst.as_account(0);
    let pause = loop {
        if let Some(tx) = trip.actions[0].tx {
            break tx;
        }
        let a = guard.next(20).await;
        if a.id == trip.id
            && let Some(tx) = a.actions[0].tx
        {
            break tx;
        }
    };
    assert!(receipt(&d0, pause).await.status());
    assert!(b.paused().await);
    guard.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_liars_of_three_halt_the_chain_and_no_pause_is_sent() {
    let b = bridge(32_310, 32_311).await;
    let (l1, l2, _dir, db, mut guard) = guard_behind_proxies(&b).await;

    // Two different lies about one block: no quorum forms. The daemon stays on the block,
    // says so, and goes on once the endpoints agree again.
    let target = dst_head(&b).await + 2;
    l1.lie(forged_release_log(&b, target));
    l2.lie(Lie::OtherHash { block: target });
    let a = disagreement_on(&mut guard, target, 20).await;
    assert_eq!(
        (&a.evidence["no_quorum"], &a.evidence["halted"]),
        (&serde_json::json!(true), &serde_json::json!(true)),
        "{a:?}"
    );
    let halted = guard.health.halted();
    assert_eq!(halted.len(), 1, "{halted:?}");
    assert_eq!(halted[0].0, "dst");
    assert!(
        halted[0].1.contains(&format!("block {target}")),
        "{halted:?}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cp = ringfence_store::Store::open(&db)
        .expect("store")
        .checkpoint("dst")
        .expect("query")
        .expect("checkpoint");
    assert!(cp.number < target, "nothing from block {target} is taken");
    l1.tell_the_truth();
    l2.tell_the_truth();
    wait_ingested(&db, "dst", target).await;
    assert!(guard.health.halted().is_empty());

    // The two liars agree on a release that never happened: the quorum confirms it, the honest
    // endpoint contradicts it. Nothing is acted on: the chain is halted, no pause is sent.
    let target = dst_head(&b).await + 2;
    l1.lie(forged_release_log(&b, target));
    l2.lie(forged_release_log(&b, target));
    let a = disagreement_on(&mut guard, target, 20).await;
    assert_eq!(
        a.evidence["dissenting"][0]["endpoint"],
        b.dst.http(),
        "{a:?}"
    );
    let start = Instant::now();
    let held = loop {
        let a = guard.next(20).await;
        assert_eq!(a.kind, "rpc-disagreement", "{a:?}");
        if a.evidence["halted"] == true {
            break a;
        }
        assert!(start.elapsed() < Duration::from_secs(30));
    };
    assert!(
        held.evidence["withheld"]
            .as_array()
            .is_some_and(|w| w.iter().any(|r| r == "wbtc-messages")),
        "{held:?}"
    );
    let halted = guard.health.halted();
    assert_eq!(halted.len(), 1, "{halted:?}");
    assert!(halted[0].1.contains("contradicted"), "{halted:?}");
    let rest = collect(&mut guard, 3_000).await;
    assert!(
        rest.iter().all(|a| a.kind == "rpc-disagreement"),
        "{rest:#?}"
    );
    assert!(!b.paused().await, "no pause on the liars' word");
    let store = ringfence_store::Store::open(&db).expect("store");
    assert!(
        store
            .alerts()
            .expect("alerts")
            .iter()
            .all(|a| a.kind == "rpc-disagreement" && a.actions.is_empty()),
        "only rpc-disagreement is stored"
    );
    guard.stop().await;
}
