use std::time::Instant;

use alloy::primitives::B256;
use alloy::providers::Provider;

use crate::harness::{
    Bridge, IEndpoint, IToken, account, anvil, block_ts, bridge, deploy_guarded_usdx,
    forged_release, grant, lock_and_id, mined, mint_rate_toml, pause_toml, receipt, release,
    store_and_chains, token_toml, units,
};
use crate::{Guard, guard_bridge, wait_ingested};

fn revert_reason(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Resolv: a compromised minter key mints far over the window limit. The guard trips in the
/// mint's block, its pause lands in the next block, and the second mint reverts. Benign mints and
/// the setup's role grants raise nothing; a later role grant is reported.
// Kept long: the Resolv attack told in order on one chain (setup, benign mints, the mint, the pause, the reverted mint, the late role grant).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbacked_mint_over_the_window_trips_and_the_pause_lands_in_the_next_block() {
    let chain = anvil(31_510, Some(1));
    let admin = chain.as_account(0);
    let usdx = deploy_guarded_usdx(&admin).await;
    let token = IToken::new(usdx, &admin);
    // A Slack-style webhook receiver.
    let hook = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hook_port = hook.local_addr().expect("addr").port();
    let (body_tx, body_rx) = tokio::sync::oneshot::channel::<String>();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut sock, _) = hook.accept().await.expect("accept");
        let mut buf = vec![0u8; 65536];
        let mut got = 0;
        loop {
            let n = sock.read(&mut buf[got..]).await.expect("read");
            got += n;
            let text = String::from_utf8_lossy(&buf[..got]).to_string();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length").then_some(v)
                    })
                    .and_then(|v| v.trim().parse().ok())
                    .unwrap_or(0);
                if body.len() >= len || n == 0 {
                    sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                        .await
                        .expect("write");
                    let _ = body_tx.send(body.to_owned());
                    return;
                }
            }
        }
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("guard.db");
    let config = [
        store_and_chains(&db, &[("dst", &chain.http())]),
        token_toml("USDX", "dst", usdx, 18, Some("1.0")),
        pause_toml("pause-usdx", "dst", usdx),
        format!(
            r#"[[action]]
id = "hook"
kind = "webhook"
url = "http://127.0.0.1:{hook_port}/hook"
"#
        ),
        mint_rate_toml("usdx-mint-rate", "USDX", 3600, "1000000", &["pause-usdx"]),
        format!(
            r#"[[rule]]
id = "usdx-admin"
kind = "privileged"
chain = "dst"
contracts = ["{usdx}"]
severity = "alert"
actions = ["pause-usdx", "hook"]
"#
        ),
    ]
    .concat();
    let mut guard = Guard::start(&config);
    let head = admin.get_block_number().await.expect("rpc");
    wait_ingested(&db, "dst", head).await;

    // Benign: a normal mint under the limit.
    let minter = chain.as_account(2);
    let as_minter = IToken::new(usdx, &minter);
    mined!(as_minter.mint(account(4), units(100, 18)), "mint");
    guard.quiet(1_500).await;

    // The attack: 50M in one mint.
    let r = mined!(as_minter.mint(account(2), units(50_000_000, 18)), "mint");
    let attack_block = r.block_number.expect("block");
    let t_mined = Instant::now();
    let trip = guard.next(10).await;
    assert_eq!(trip.rule, "usdx-mint-rate");
    assert_eq!(trip.kind, "mint-rate");
    assert_eq!(trip.reason, "window-exceeded");
    assert_eq!(trip.block, attack_block);
    assert_eq!(trip.tx, Some(r.transaction_hash));
    assert_eq!(trip.evidence["window_total"], "50000100");
    assert_eq!(trip.evidence["limit"], "1000000");
    assert_eq!(trip.actions.len(), 1);
    let pause_tx = trip.actions[0].tx.expect("pause sent");
    let pr = receipt(&admin, pause_tx).await;
    let wall = t_mined.elapsed();
    assert!(pr.status(), "pause reverted");
    let pause_block = pr.block_number.expect("block");
    assert_eq!(
        pause_block,
        attack_block + 1,
        "pause must be mined in the next block"
    );
    let secs = block_ts(&admin, pause_block).await - block_ts(&admin, attack_block).await;
    eprintln!(
        "LATENCY offending block {attack_block} -> pause mined in block {pause_block}: {secs} s of block time, {wall:?} wall from the attack receipt"
    );
    assert!(token.paused().call().await.expect("call"));

    // The second mint (Resolv's 30M) reverts.
    let second = as_minter
        .mint(account(2), units(30_000_000, 18))
        .send()
        .await;
    assert!(revert_reason(second.expect_err("must revert")).contains("paused"));

    // A role grant on the watched token is reported.
    let g = grant(&admin, usdx, "MINTER_ROLE", account(3)).await;
    let a = guard.next(10).await;
    assert_eq!(
        (a.rule.as_str(), a.reason.as_str()),
        ("usdx-admin", "role-granted")
    );
    assert_eq!(a.tx, Some(g.transaction_hash));
    assert_eq!(a.evidence["account"], serde_json::json!(account(3)));
    // An alert (not a trip) runs only the notifying action: the webhook, not a second pause.
    assert_eq!(a.actions.len(), 1);
    assert_eq!(
        (a.actions[0].id.as_str(), a.actions[0].status.as_str()),
        ("hook", "done")
    );
    let body = tokio::time::timeout(std::time::Duration::from_secs(5), body_rx)
        .await
        .expect("webhook")
        .expect("body");
    let body: serde_json::Value = serde_json::from_str(&body).expect("json body");
    assert!(
        body["text"]
            .as_str()
            .expect("slack text")
            .contains("usdx-admin")
    );
    assert_eq!(body["alert"]["reason"], "role-granted");
    guard.quiet(1_000).await;

    // The trip and its mined pause are in the store.
    let store = ringfence_store::Store::open(&db).expect("store");
    let stored = store.alert(&trip.id).expect("query").expect("stored");
    assert_eq!(stored.actions[0].tx, Some(pause_tx));
    guard.stop().await;
}

/// A lock then its matching release: nothing. Returns the lock's id.
async fn benign_round_trip(b: &Bridge, guard: &mut Guard, db: &std::path::Path) -> B256 {
    let (r, id) = lock_and_id(&b.src, b.lockbox, b.btc).await;
    // A relayer waits for the source; the test waits for the guard to have read it.
    wait_ingested(db, "src", r.block_number.expect("block")).await;
    release(&b.dst, b.endpoint, b.wbtc, id, units(1, 8), account(4)).await;
    guard.quiet(1_500).await;
    id
}

/// CrossCurve / Nomad: a release with no lock behind it. Trips at once (message-match and
/// backing), the bridge is paused in the next block and the next forged release reverts. The
/// source chain is followed over WebSocket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_release_with_no_lock_trips_and_pauses_the_bridge() {
    let b = bridge(31_520, 31_521).await;
    let (_dir, db, mut guard) = guard_bridge(&b, &b.src.ws()).await;
    let d0 = b.dst.as_account(0);
    benign_round_trip(&b, &mut guard, &db).await;

    let relayer = b.dst.as_account(3);
    let r = forged_release(&b.dst, b.endpoint, b.wbtc, B256::repeat_byte(0x66)).await;
    let block = r.block_number.expect("block");
    let mut got = [guard.next(10).await, guard.next(10).await];
    got.sort_by(|x, y| x.rule.cmp(&y.rule));
    let (backing, msg) = (&got[0], &got[1]);
    assert_eq!(
        (backing.rule.as_str(), backing.reason.as_str()),
        ("wbtc-backing", "unbacked")
    );
    assert_eq!(backing.evidence["supply"], "51");
    assert_eq!(backing.evidence["locked"], "1");
    assert_eq!(
        (msg.rule.as_str(), msg.reason.as_str(), msg.block),
        ("wbtc-messages", "no-source", block)
    );
    assert_eq!(msg.evidence["destination"]["amount"], "5000000000");
    let pr = receipt(&d0, msg.actions[0].tx.expect("pause sent")).await;
    assert!(pr.status());
    assert_eq!(
        pr.block_number,
        Some(block + 1),
        "pause must be mined in the next block"
    );
    let again = IEndpoint::new(b.endpoint, &relayer)
        .release(B256::repeat_byte(0x67), b.wbtc, units(50, 8), account(2))
        .send()
        .await;
    assert!(
        again
            .expect_err("must revert")
            .to_string()
            .contains("paused")
    );
    guard.stop().await;
}

/// A release whose amount and recipient differ from its lock trips with the differing fields.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn release_differing_from_its_lock_trips_with_the_fields_named() {
    let b = bridge(31_530, 31_531).await;
    let (_dir, db, mut guard) = guard_bridge(&b, &b.src.http()).await;
    let d0 = b.dst.as_account(0);
    let (r, id) = lock_and_id(&b.src, b.lockbox, b.btc).await;
    wait_ingested(&db, "src", r.block_number.expect("block")).await;
    let rr = release(&b.dst, b.endpoint, b.wbtc, id, units(100, 8), account(2)).await;
    let mut got = [guard.next(10).await, guard.next(10).await];
    got.sort_by(|x, y| x.rule.cmp(&y.rule));
    let msg = &got[1];
    assert_eq!(
        (msg.rule.as_str(), msg.reason.as_str()),
        ("wbtc-messages", "mismatch")
    );
    assert_eq!(
        msg.evidence["mismatched"],
        serde_json::json!(["amount", "recipient"])
    );
    assert_eq!(msg.evidence["source"]["amount"], "100000000");
    assert_eq!(msg.evidence["destination"]["amount"], "10000000000");
    let pr = receipt(&d0, msg.actions[0].tx.expect("pause sent")).await;
    assert_eq!(pr.block_number, Some(rr.block_number.expect("block") + 1));
    assert!(b.paused().await);
    guard.stop().await;
}
