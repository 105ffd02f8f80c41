use std::time::Instant;

use alloy::primitives::{Address, B256};
use alloy::providers::Provider;
use alloy::sol_types::SolEvent;

use crate::harness::{
    Anvil, IEndpoint, ILockbox, IToken, account, block_ts, deploy, deploy_guarded_usdx,
    deploy_token, grant, receipt, units,
};
use crate::{Guard, KEY_ENV, wait_ingested};

fn revert_reason(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Resolv: a compromised minter key mints far over the window limit. The guard trips in the
/// mint's block, its pause lands in the next block, and the second mint reverts. Benign mints and
/// the setup's role grants raise nothing; a later role grant is reported.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unbacked_mint_over_the_window_trips_and_the_pause_lands_in_the_next_block() {
    let chain = Anvil::spawn(18_510, 31_510, Some(1));
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
    let config = format!(
        r#"
[store]
path = "{db}"
[[chain]]
id = "dst"
rpc = "{rpc}"
poll_ms = 100
[[token]]
id = "USDX"
chain = "dst"
address = "{usdx}"
decimals = 18
price_usd = 1.0
[[action]]
id = "pause-usdx"
kind = "pause"
chain = "dst"
contract = "{usdx}"
call = "pause()"
key_env = "{KEY_ENV}"
[[action]]
id = "hook"
kind = "webhook"
url = "http://127.0.0.1:{hook_port}/hook"
[[rule]]
id = "usdx-mint-rate"
kind = "mint-rate"
token = "USDX"
window_s = 3600
max_amount = "1000000"
actions = ["pause-usdx"]
[[rule]]
id = "usdx-admin"
kind = "privileged"
chain = "dst"
contracts = ["{usdx}"]
severity = "alert"
actions = ["pause-usdx", "hook"]
"#,
        db = db.display(),
        rpc = chain.http(),
    );
    let mut guard = Guard::start(&config);
    let head = admin.get_block_number().await.expect("rpc");
    wait_ingested(&db, "dst", head).await;

    // Benign: a normal mint under the limit.
    let minter = chain.as_account(2);
    let as_minter = IToken::new(usdx, &minter);
    as_minter
        .mint(account(4), units(100, 18))
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("mint");
    guard.quiet(1_500).await;

    // The attack: 50M in one mint.
    let r = as_minter
        .mint(account(2), units(50_000_000, 18))
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("mint");
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

pub(crate) struct Bridge {
    pub(crate) src: Anvil,
    pub(crate) dst: Anvil,
    pub(crate) btc: Address,
    pub(crate) lockbox: Address,
    pub(crate) wbtc: Address,
    pub(crate) endpoint: Address,
}

pub(crate) async fn bridge(src_port: u16, dst_port: u16) -> Bridge {
    let src = Anvil::spawn(src_port, u64::from(src_port) + 13_000, Some(1));
    let dst = Anvil::spawn(dst_port, u64::from(dst_port) + 13_000, Some(1));
    let s0 = src.as_account(0);
    let btc = deploy_token(&s0, "BTC", 8, account(0)).await;
    let lockbox = deploy(&s0, "Lockbox", vec![]).await;
    IToken::new(btc, &s0)
        .mint(account(4), units(100, 8))
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("mint");
    let user = src.as_account(4);
    IToken::new(btc, &user)
        .approve(lockbox, units(100, 8))
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("approve");
    let d0 = dst.as_account(0);
    let wbtc = deploy_token(&d0, "wBTC", 8, account(0)).await;
    use alloy::sol_types::SolValue;
    let endpoint = deploy(
        &d0,
        "BridgeEndpoint",
        (account(3), account(1)).abi_encode_params(),
    )
    .await;
    grant(&d0, wbtc, "MINTER_ROLE", endpoint).await;
    Bridge {
        src,
        dst,
        btc,
        lockbox,
        wbtc,
        endpoint,
    }
}

pub(crate) fn bridge_config(b: &Bridge, db: &std::path::Path, src_rpc: &str) -> String {
    format!(
        r#"
[store]
path = "{db}"
[[chain]]
id = "src"
rpc = "{src_rpc}"
poll_ms = 100
[[chain]]
id = "dst"
rpc = "{dst}"
poll_ms = 100
[[token]]
id = "BTC"
chain = "src"
address = "{btc}"
decimals = 8
price_usd = 60000
[[token]]
id = "wBTC"
chain = "dst"
address = "{wbtc}"
decimals = 8
price_usd = 60000
[[bridge]]
id = "wbtc"
source = {{ chain = "src", contract = "{lockbox}", event = "Locked(bytes32 indexed id, address token, uint256 amount, address recipient)" }}
destination = {{ chain = "dst", contract = "{endpoint}", event = "Released(bytes32 indexed id, address token, uint256 amount, address recipient)" }}
match_on = ["id", "amount", "recipient"]
[[action]]
id = "pause-bridge"
kind = "pause"
chain = "dst"
contract = "{endpoint}"
call = "pause()"
key_env = "{KEY_ENV}"
[[rule]]
id = "wbtc-messages"
kind = "message-match"
bridge = "wbtc"
relay_delay_s = 3
actions = ["pause-bridge"]
[[rule]]
id = "wbtc-backing"
kind = "backing"
token = "wBTC"
backing_token = "BTC"
holder = "{lockbox}"
relay_delay_s = 3
"#,
        db = db.display(),
        dst = b.dst.http(),
        btc = b.btc,
        wbtc = b.wbtc,
        lockbox = b.lockbox,
        endpoint = b.endpoint,
    )
}

/// A lock then its matching release: nothing. Returns the lock's id.
async fn benign_round_trip(b: &Bridge, guard: &mut Guard, db: &std::path::Path) -> B256 {
    let user = b.src.as_account(4);
    let r = ILockbox::new(b.lockbox, &user)
        .lock(b.btc, units(1, 8), account(4))
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("lock");
    let id = r
        .inner
        .logs()
        .iter()
        .find_map(|l| ILockbox::Locked::decode_log(&l.inner).ok())
        .expect("Locked log")
        .id;
    // A relayer waits for the source; the test waits for the guard to have read it.
    wait_ingested(db, "src", r.block_number.expect("block")).await;
    let relayer = b.dst.as_account(3);
    IEndpoint::new(b.endpoint, &relayer)
        .release(id, b.wbtc, units(1, 8), account(4))
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("release");
    guard.quiet(1_500).await;
    id
}

/// CrossCurve / Nomad: a release with no lock behind it. Trips at once (message-match and
/// backing), the bridge is paused in the next block and the next forged release reverts. The
/// source chain is followed over WebSocket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_release_with_no_lock_trips_and_pauses_the_bridge() {
    let b = bridge(18_520, 18_521).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("guard.db");
    let mut guard = Guard::start(&bridge_config(&b, &db, &b.src.ws()));
    let d0 = b.dst.as_account(0);
    wait_ingested(&db, "dst", d0.get_block_number().await.expect("rpc")).await;
    wait_ingested(
        &db,
        "src",
        b.src.as_account(0).get_block_number().await.expect("rpc"),
    )
    .await;
    benign_round_trip(&b, &mut guard, &db).await;

    let relayer = b.dst.as_account(3);
    let forged = B256::repeat_byte(0x66);
    let r = IEndpoint::new(b.endpoint, &relayer)
        .release(forged, b.wbtc, units(50, 8), account(2))
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("release");
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
    let b = bridge(18_530, 18_531).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("guard.db");
    let mut guard = Guard::start(&bridge_config(&b, &db, &b.src.http()));
    let d0 = b.dst.as_account(0);
    wait_ingested(&db, "dst", d0.get_block_number().await.expect("rpc")).await;
    wait_ingested(
        &db,
        "src",
        b.src.as_account(0).get_block_number().await.expect("rpc"),
    )
    .await;
    let user = b.src.as_account(4);
    let r = ILockbox::new(b.lockbox, &user)
        .lock(b.btc, units(1, 8), account(4))
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("lock");
    let id = r
        .inner
        .logs()
        .iter()
        .find_map(|l| ILockbox::Locked::decode_log(&l.inner).ok())
        .expect("Locked")
        .id;
    wait_ingested(&db, "src", r.block_number.expect("block")).await;
    let relayer = b.dst.as_account(3);
    let rr = IEndpoint::new(b.endpoint, &relayer)
        .release(
            id,
            b.wbtc,
            units(1, 8) * alloy::primitives::U256::from(100u8),
            account(2),
        )
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("release");
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
    assert!(
        IEndpoint::new(b.endpoint, &d0)
            .paused()
            .call()
            .await
            .expect("call")
    );
    guard.stop().await;
}
