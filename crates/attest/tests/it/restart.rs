//! A restarted attestor resumes from its checkpoint: a source event it read before the restart
//! backs a message requested while it was down, and a message it settled before a restart is
//! not reported again.

use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use ringfence_attest::store::{ChainKey, Store};

use crate::chains::*;
use crate::three::{get, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_attestor_attests_a_message_whose_source_it_read_before_the_restart() {
    let lab = lab().await;
    let (src, dst, source, d) = (&lab.src, &lab.dst, lab.source, &lab.d);
    let src_admin = src.as_account(0);
    let (dst_admin, relayer) = (dst.as_account(0), dst.as_account(1));
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |dir: std::path::PathBuf| {
        let (src, dst) = (src.http(), dst.http());
        async move { start(&dir, "a", ATTESTOR_KEYS[0], &[src], &[dst], source, d).await }
    };
    let first = run(dir.path().to_owned()).await;

    // The lock is mined; the first attestor reads its block (its checkpoint says so), then
    // stops.
    let id = B256::with_last_byte(0x51);
    let amount = U256::from(3u64) * U256::from(10u64).pow(U256::from(18u64));
    let to = Address::repeat_byte(0x77);
    let lock = lock(src, source, id, amount, to).await;
    let lock_block = lock.block_number.expect("block");
    let store = Store::open(&dir.path().join("a.db")).expect("store");
    let key = ChainKey {
        id: "src",
        chain_id: 1337,
    };
    until_read(&store, key, lock_block).await;
    drop(first);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // While it is down the source chain moves on past the confirmations and the delivery is
    // requested on the destination.
    mine(&src_admin, 3).await;
    let at = request(&relayer, d.gateway, id, amount, to).await;
    // And a forged one, with no lock at all: refused for good.
    let forged = B256::with_last_byte(0x52);
    request(&relayer, d.gateway, forged, amount, to).await;
    // The source is read past the request (anvil's clocks are separate).
    let request_ts = block_timestamp(&dst_admin, at).await;
    src_admin
        .raw_request::<_, serde_json::Value>("evm_setNextBlockTimestamp".into(), (request_ts + 5,))
        .await
        .expect("time");
    mine(&src_admin, 1).await;

    // A new attestor on the same store, no start_block: it resumes after the lock's block,
    // still knows the lock, and attests the message.
    let mut second = run(dir.path().to_owned()).await;
    // The source keeps growing, so an attestor that knew nothing before its start would read
    // past the request and refuse it for good (`no-source-event`).
    tokio::time::sleep(Duration::from_millis(300)).await;
    mine(&src_admin, 3).await;
    let t = Instant::now();
    loop {
        let lines = second.drain().to_vec();
        let attested = lines
            .iter()
            .any(|l| l["kind"] == "attested" && l["message_id"] == serde_json::json!(id));
        let refused = lines.iter().any(|l| {
            l["kind"] == "refused"
                && l["message_id"] == serde_json::json!(forged)
                && l["refusal"]["reason"] == "no-source-event"
        });
        if attested && refused {
            break;
        }
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the restarted attestor did not attest: {lines:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let a = get(&second.url, id).await.expect("served");
    assert_eq!(
        a["attestation"]["srcTxHash"],
        serde_json::json!(lock.transaction_hash),
        "{a:#}"
    );

    drop(second);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // A third start on the same store: both messages are settled, so neither is reported again
    // (the refusal would be, were the settled messages not remembered).
    let mut third = run(dir.path().to_owned()).await;
    mine(&dst_admin, 1).await;
    let head = dst_admin.get_block_number().await.expect("head");
    let dst_key = ChainKey {
        id: "dst",
        chain_id: 1338,
    };
    until_read(&store, dst_key, head).await;
    // Its first steps (the restored messages are decided in the first one) are done.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let lines = third.drain().to_vec();
    assert!(
        lines
            .iter()
            .all(|l| l["message_id"] != serde_json::json!(forged)
                && l["message_id"] != serde_json::json!(id)),
        "a settled message was reported again: {lines:#?}"
    );
}

/// Waits until the checkpoint in `store` holds `block` of `chain` (an attestor has read it).
async fn until_read(store: &Store, chain: ChainKey<'_>, block: u64) {
    let t = Instant::now();
    while !store
        .blocks(chain)
        .expect("checkpoint")
        .contains_key(&block)
    {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "block {block} of {} never read",
            chain.id
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
