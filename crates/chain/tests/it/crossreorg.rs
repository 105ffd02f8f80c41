//! Cross-chain reorgs: a source-chain reorg that removes a lock whose release was already
//! matched — the classic bridge double-spend with `confirmations = 0`.

use std::time::{Duration, Instant};

use alloy::providers::Provider;

use crate::harness::{account, bridge, lock_and_id, receipt, release, units};
use crate::{guard_bridge, wait_ingested};

/// The lock is matched, then a reorg of the source chain removes it: the release is judged
/// again and trips `source-reorged`, and the bridge is paused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_reorg_removing_a_matched_lock_trips_source_reorged() {
    let b = bridge(32_310, 32_311).await;
    let (_dir, db, mut guard) = guard_bridge(&b, &b.src.http()).await;
    let s0 = b.src.as_account(0);
    let d0 = b.dst.as_account(0);

    let (lock, id) = lock_and_id(&b.src, b.lockbox, b.btc).await;
    let lock_block = lock.block_number.expect("block");
    wait_ingested(&db, "src", lock_block).await;
    let release = release(&b.dst, b.endpoint, b.wbtc, id, units(1, 8), account(4)).await;
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
    assert!(b.paused().await);
    let s = ringfence_store::Store::open(&db).expect("store");
    assert!(s.alert(&trip.id).expect("query").is_some(), "stored");
    guard.stop().await;
}
