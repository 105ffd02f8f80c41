//! A source event that a reorg removes is never attested, however deep the new chain grows.

use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;

use crate::chains::*;
use crate::three::{get, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_event_reorged_out_is_never_attested() {
    let Lab {
        src,
        dst,
        source,
        d,
    } = lab().await;
    let src_admin = src.as_account(0);
    let (dst_admin, relayer) = (dst.as_account(0), dst.as_account(1));
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = start(
        dir.path(),
        "a",
        ATTESTOR_KEYS[0],
        &[src.http()],
        &[dst.http()],
        source,
        &d,
    )
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The lock is mined (block n), the delivery requested; the attestor sees the event at
    // depth 0 and waits for 2 confirmations.
    let id = B256::with_last_byte(0x42);
    let amount = U256::from(7u64) * U256::from(10u64).pow(U256::from(18u64));
    let lock = lock(&src, source, id, amount, Address::repeat_byte(0x77)).await;
    let at = request(&relayer, d.gateway, id, amount, Address::repeat_byte(0x77)).await;
    let request_ts = block_timestamp(&dst_admin, at).await;
    let t = Instant::now();
    while !a
        .drain()
        .iter()
        .any(|l| l["kind"] == "waiting" && l["refusal"]["depth"] == 0)
    {
        assert!(t.elapsed() < Duration::from_secs(20), "{:#?}", a.drain());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The source chain reorganises: block n is replaced by an empty one; then it grows.
    src_admin
        .raw_request::<_, serde_json::Value>("anvil_reorg".into(), (1u64, Vec::<()>::new()))
        .await
        .expect("anvil_reorg");
    // The new blocks come after the request on the destination (anvil's clocks are separate),
    // so the attestor has read the source past the request and can refuse for good.
    src_admin
        .raw_request::<_, serde_json::Value>("evm_setNextBlockTimestamp".into(), (request_ts + 5,))
        .await
        .expect("time");
    mine(&src_admin, 4).await;
    let gone = src_admin
        .get_transaction_receipt(lock.transaction_hash)
        .await
        .expect("rpc");
    assert!(gone.is_none(), "the lock is no longer on the chain");

    // The attestor notices the reorg, forgets the event, and refuses; it never attests.
    let t = Instant::now();
    loop {
        let lines = a.drain().to_vec();
        assert!(
            lines.iter().all(|l| l["kind"] != "attested"),
            "attested a reorged-out event: {lines:#?}"
        );
        let refused = lines
            .iter()
            .any(|l| l["kind"] == "refused" && l["refusal"]["reason"] == "no-source-event");
        if refused {
            assert!(
                lines
                    .iter()
                    .any(|l| l["kind"] == "reorg" && l["chain"] == "src"),
                "{lines:#?}"
            );
            break;
        }
        if t.elapsed() > Duration::from_secs(20) {
            let mut ts = Vec::new();
            for n in 5..12u64 {
                let b = src_admin.get_block_by_number(n.into()).await.expect("rpc");
                ts.push(b.map(|b| (n, b.header.timestamp)));
            }
            panic!("no refusal: {lines:?} src {ts:?} request_ts {request_ts}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(get(&a.url, id).await.is_none());
}
