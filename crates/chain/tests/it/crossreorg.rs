//! Cross-chain reorgs: a source-chain reorg that removes a lock whose release was already
//! matched — the classic bridge double-spend with `confirmations = 0`.

use std::time::{Duration, Instant};

use alloy::providers::Provider;
use alloy::sol_types::SolEvent;

use crate::attacks::{bridge, bridge_config};
use crate::harness::{IEndpoint, ILockbox, account, receipt, units};
use crate::{Guard, wait_ingested};

/// The lock is matched, then a reorg of the source chain removes it: the release is judged
/// again and trips `source-reorged`, and the bridge is paused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_reorg_removing_a_matched_lock_trips_source_reorged() {
    let b = bridge(19_310, 19_311).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("guard.db");
    let mut guard = Guard::start(&bridge_config(&b, &db, &b.src.http()));
    let s0 = b.src.as_account(0);
    let d0 = b.dst.as_account(0);
    wait_ingested(&db, "dst", d0.get_block_number().await.expect("rpc")).await;
    wait_ingested(&db, "src", s0.get_block_number().await.expect("rpc")).await;

    let user = b.src.as_account(4);
    let lock = ILockbox::new(b.lockbox, &user)
        .lock(b.btc, units(1, 8), account(4))
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("lock");
    let id = lock
        .inner
        .logs()
        .iter()
        .find_map(|l| ILockbox::Locked::decode_log(&l.inner).ok())
        .expect("Locked log")
        .id;
    let lock_block = lock.block_number.expect("block");
    wait_ingested(&db, "src", lock_block).await;
    let relayer = b.dst.as_account(3);
    let release = IEndpoint::new(b.endpoint, &relayer)
        .release(id, b.wbtc, units(1, 8), account(4))
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("release");
    let release_block = release.block_number.expect("block");
    wait_ingested(&db, "dst", release_block + 1).await;
    guard.quiet(1_000).await; // matched: nothing

    // The source chain reorganises: the lock's block and everything after it are replaced by
    // empty blocks.
    let head = s0.get_block_number().await.expect("rpc");
    let depth = head - lock_block + 1;
    let _: serde_json::Value = s0
        .raw_request("anvil_reorg".into(), (depth, Vec::<()>::new()))
        .await
        .expect("anvil_reorg");
    assert!(
        s0.get_transaction_receipt(lock.transaction_hash)
            .await
            .expect("rpc")
            .is_none(),
        "the lock is gone from the source chain"
    );

    let start = Instant::now();
    let trip = loop {
        let a = guard.next(20).await;
        if a.reason == "source-reorged" {
            break a;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no source-reorged trip"
        );
    };
    assert_eq!(trip.rule, "wbtc-messages");
    assert_eq!(trip.chain, "dst");
    assert_eq!(trip.block, release_block);
    assert_eq!(trip.tx, Some(release.transaction_hash));
    assert_eq!(trip.evidence["source_reorged"], true);
    let pause = trip.actions.first().expect("the rule's pause action");
    assert_eq!(pause.id, "pause-bridge");
    let pr = receipt(&d0, pause.tx.expect("pause sent")).await;
    assert!(pr.status());
    assert!(
        IEndpoint::new(b.endpoint, &d0)
            .paused()
            .call()
            .await
            .expect("call")
    );
    let s = ringfence_store::Store::open(&db).expect("store");
    assert!(s.alert(&trip.id).expect("query").is_some(), "stored");
    guard.stop().await;
}
