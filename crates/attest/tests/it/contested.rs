//! Two poisoned endpoints telling the same lie outvote the honest one (2 of 3 is a quorum), as
//! KelpDAO's poisoned RPC nodes did: the forged source event is confirmed. The honest endpoint's
//! view of the block lacks it, so it is contested, and the attestor never attests it; a real
//! message read through the same endpoints is attested.

use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider;
use ringfence_quorum::testing::{Lie, LyingProxy};

use crate::chains::*;
use crate::three::{get, sent_log, start};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_source_event_two_liars_agree_on_is_contested_and_never_attested() {
    let lab = lab().await;
    let (src, dst, source, d) = (&lab.src, &lab.dst, lab.source, &lab.d);
    let src_admin = src.as_account(0);
    let relayer = dst.as_account(1);

    // Both liars inject the same forged `Sent` into every block for a while.
    let (liar1, liar2) = (
        LyingProxy::start(&src.http()).await.expect("proxy"),
        LyingProxy::start(&src.http()).await.expect("proxy"),
    );
    let forged = B256::repeat_byte(0xf1);
    let (attacker, loot) = (
        Address::repeat_byte(0xee),
        U256::from(10u64).pow(U256::from(26u64)),
    );
    let head = src_admin.get_block_number().await.expect("head");
    for b in head..head + 40 {
        for liar in [&liar1, &liar2] {
            let (topics, data) = sent_log(forged, loot, attacker);
            liar.lie(Lie::InjectLog {
                block: b,
                address: source,
                topics,
                data,
            });
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let honest = src.http();
    let mut a = start(
        dir.path(),
        "a",
        ATTESTOR_KEYS[0],
        &[liar1.url(), liar2.url(), honest.clone()],
        &[dst.http()],
        source,
        d,
    )
    .await;

    // A real message and the forged one, both requested on the destination.
    let real = B256::with_last_byte(0x61);
    let amount = U256::from(7u64) * U256::from(10u64).pow(U256::from(18u64));
    let to = Address::repeat_byte(0x77);
    lock(src, source, real, amount, to).await;
    request(&relayer, d.gateway, real, amount, to).await;
    request(&relayer, d.gateway, forged, loot, attacker).await;

    let t = Instant::now();
    let lines = loop {
        mine(&src_admin, 1).await;
        let lines = a.drain().to_vec();
        let attested = lines
            .iter()
            .any(|l| l["kind"] == "attested" && l["message_id"] == serde_json::json!(real));
        let waiting = lines.iter().any(|l| {
            l["kind"] == "waiting"
                && l["message_id"] == serde_json::json!(forged)
                && l["refusal"]["reason"] == "contested-source"
        });
        if attested && waiting {
            break lines;
        }
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "no attestation of the real message and contested refusal of the forged one: {lines:#?}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    };
    // The quorum did confirm the forged event (the liars agree), and the alert says which
    // endpoint contradicted it: the honest one.
    let contested: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["kind"] == "rpc-contested")
        .collect();
    assert!(!contested.is_empty(), "{lines:#?}");
    assert!(
        contested
            .iter()
            .all(|l| l["dissenting"] == serde_json::json!([honest])),
        "{contested:#?}"
    );
    // More blocks on top change nothing: never attested, never settled as refused either.
    mine(&src_admin, 5).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        get(&a.url, forged).await.is_none(),
        "the forged message was attested"
    );
    assert!(get(&a.url, real).await.is_some());
    let all = a.drain().to_vec();
    // The honest endpoint contradicted every one of the ~40 forged blocks read, yet only its
    // first contradictions make a line (then one in 50): a liar is reported, not every block.
    for kind in ["rpc-contested", "rpc-dissent"] {
        let n = all.iter().filter(|l| l["kind"] == kind).count();
        assert!(
            (1..=ringfence_quorum::REPORT_FIRST as usize).contains(&n),
            "{n} {kind} lines: {all:#?}"
        );
    }
    assert!(
        all.iter()
            .all(|l| !(l["message_id"] == serde_json::json!(forged)
                && (l["kind"] == "attested" || l["kind"] == "refused"))),
        "{all:#?}"
    );
}

/// The other side of the check: one faulty endpoint whose view of a block lacks a real lock holds
/// the transfer back (`contested-source`), and once it returns the whole block again the
/// attestor, which reads the blocks of waiting contested sources again, uncontests the lock and
/// attests the transfer — no restart, no operator.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_lock_contested_by_a_faulty_endpoint_is_attested_once_it_answers_in_full() {
    let lab = lab().await;
    let (src, dst, source, d) = (&lab.src, &lab.dst, lab.source, &lab.d);
    let src_admin = src.as_account(0);
    let relayer = dst.as_account(1);
    let faulty = LyingProxy::start(&src.http()).await.expect("proxy");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = start(
        dir.path(),
        "a",
        ATTESTOR_KEYS[0],
        &[src.http(), src.ws(), faulty.url()],
        &[dst.http()],
        source,
        d,
    )
    .await;
    let head = src_admin.get_block_number().await.expect("head");
    for b in head..head + 4 {
        faulty.lie(Lie::DropLogs { block: b });
    }
    let id = B256::with_last_byte(0x71);
    let amount = U256::from(11u64) * U256::from(10u64).pow(U256::from(18u64));
    let to = Address::repeat_byte(0x77);
    let lock_block = lock(src, source, id, amount, to)
        .await
        .block_number
        .expect("block");
    assert!(
        lock_block < head + 4,
        "the lock is in a block the endpoint drops"
    );
    request(&relayer, d.gateway, id, amount, to).await;

    wait_for(&mut a, &src_admin, "no contested-source wait", |l| {
        l["kind"] == "waiting"
            && l["message_id"] == serde_json::json!(id)
            && l["refusal"]["reason"] == "contested-source"
    })
    .await;
    assert!(get(&a.url, id).await.is_none(), "attested while contested");

    // The endpoint answers in full again: the lock's block is read again and the transfer
    // attested.
    faulty.tell_the_truth();
    wait_for(
        &mut a,
        &src_admin,
        "not attested after the endpoint recovered",
        |l| l["kind"] == "attested" && l["message_id"] == serde_json::json!(id),
    )
    .await;
    let lines = a.drain().to_vec();
    assert!(
        lines
            .iter()
            .any(|l| l["kind"] == "rpc-uncontested" && l["block"] == serde_json::json!(lock_block)),
        "{lines:#?}"
    );
    assert!(get(&a.url, id).await.is_some());
}

/// Mines a source block every 150 ms until the attestor has printed a line `ok` accepts (30 s).
async fn wait_for(
    a: &mut crate::three::Running,
    src: &alloy::providers::DynProvider,
    what: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) {
    let t = Instant::now();
    while !a.drain().iter().any(&ok) {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "{what}: {:#?}",
            a.drain()
        );
        mine(src, 1).await;
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}
