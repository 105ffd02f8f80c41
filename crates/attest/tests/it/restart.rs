//! A restarted attestor resumes from its checkpoint: a source event it read before the restart
//! backs a message requested while it was down, and a message it settled before a restart is
//! not reported again.

use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use ringfence_attest::attestation::route_id;
use ringfence_attest::store::{ChainKey, Store};

use crate::chains::*;
use crate::three::{get, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_attestor_attests_a_message_whose_source_it_read_before_the_restart() {
    let src = Anvil::spawn(1337, None).expect("anvil");
    let dst = Anvil::spawn(1338, None).expect("anvil");
    let src_admin = src.as_account(0);
    let (dst_admin, relayer) = (dst.as_account(0), dst.as_account(1));
    let (_, source) = deploy_source(&src).await;
    let addrs = attestor_addresses(3);
    let d = deploy_destination(&dst_admin, &addrs, 2, 3600, route_id("lab"), 1337).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let run = |dir: std::path::PathBuf| {
        let (src, dst, d) = (src.http(), dst.http(), &d);
        async move { start(&dir, "a", ATTESTOR_KEYS[0], &[src], &[dst], source, d).await }
    };
    let first = run(dir.path().to_owned()).await;

    // The lock is mined; the first attestor reads its block (its checkpoint says so), then
    // stops.
    let id = B256::with_last_byte(0x51);
    let amount = U256::from(3u64) * U256::from(10u64).pow(U256::from(18u64));
    let to = Address::repeat_byte(0x77);
    let lock = lock(&src, source, id, amount, to).await;
    let lock_block = lock.block_number.expect("block");
    let store = Store::open(&dir.path().join("a.db")).expect("store");
    let key = ChainKey {
        id: "src",
        chain_id: 1337,
    };
    let t = Instant::now();
    while !store
        .blocks(key)
        .expect("checkpoint")
        .contains_key(&lock_block)
    {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the first attestor never read block {lock_block}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    drop(first);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // While it is down the source chain moves on past the confirmations and the delivery is
    // requested on the destination.
    for _ in 0..3 {
        src_admin
            .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
            .await
            .expect("mine");
    }
    let at = request(&relayer, d.gateway, id, amount, to).await;
    // And a forged one, with no lock at all: refused for good.
    let forged = B256::with_last_byte(0x52);
    request(&relayer, d.gateway, forged, amount, to).await;
    // The source is read past the request (anvil's clocks are separate).
    let request_ts = dst_admin
        .get_block_by_number(at.into())
        .await
        .expect("rpc")
        .expect("block")
        .header
        .timestamp;
    src_admin
        .raw_request::<_, serde_json::Value>("evm_setNextBlockTimestamp".into(), (request_ts + 5,))
        .await
        .expect("time");
    src_admin
        .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
        .await
        .expect("mine");

    // A new attestor on the same store, no start_block: it resumes after the lock's block,
    // still knows the lock, and attests the message.
    let mut second = run(dir.path().to_owned()).await;
    // The source keeps growing, so an attestor that knew nothing before its start would read
    // past the request and refuse it for good (`no-source-event`).
    tokio::time::sleep(Duration::from_millis(300)).await;
    for _ in 0..3 {
        src_admin
            .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
            .await
            .expect("mine");
    }
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
    dst_admin
        .raw_request::<_, serde_json::Value>("evm_mine".into(), ())
        .await
        .expect("mine");
    let head = dst_admin.get_block_number().await.expect("head");
    let dst_key = ChainKey {
        id: "dst",
        chain_id: 1338,
    };
    let t = Instant::now();
    while !store
        .blocks(dst_key)
        .expect("checkpoint")
        .contains_key(&head)
    {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the third attestor never read block {head}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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
