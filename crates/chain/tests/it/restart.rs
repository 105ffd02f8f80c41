use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::providers::Provider;

use crate::harness::{
    Anvil, IToken, KEYS, account, anvil, deploy_guarded_usdx, deploy_token, mined, mint_rate_toml,
    pause_toml, store_and_chains, token_toml, units,
};
use crate::{Guard, KEY_ENV, wait_ingested};

const CHILD_ENV: &str = "RINGFENCE_TEST_CHILD_CONFIG";

/// Not a test: the guard as a separate process, so that the restart test can `kill -9` it.
#[test]
#[ignore = "helper process for kill_9_and_restart_miss_nothing_and_repeat_nothing"]
fn child_guard_process() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let spec = match ringfence_guard::config::load(Path::new(&path)) {
        Ok(s) => std::sync::Arc::new(s),
        Err(e) => panic!("{e}"),
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let opts = ringfence_chain::WatchOptions {
        stdout: true,
        ..Default::default()
    };
    rt.block_on(ringfence_chain::Watcher::new(spec, opts).run(std::future::pending()))
        .expect("watch");
}

/// A guard process, killed with SIGKILL on drop.
struct Proc(Child);

impl Proc {
    fn spawn(config: &Path) -> Self {
        let exe = std::env::current_exe().expect("test binary");
        let child = Command::new(exe)
            .args([
                "--exact",
                "restart::child_guard_process",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, config)
            .env(KEY_ENV, KEYS[1])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn guard process");
        Self(child)
    }

    fn kill9(mut self) {
        let _ = self.0.kill(); // SIGKILL
        let _ = self.0.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn mint_config(db: &Path, rpc: &str, usdx: alloy::primitives::Address, actions: &[&str]) -> String {
    [
        store_and_chains(db, &[("dst", rpc)]),
        token_toml("USDX", "dst", usdx, 18, None),
        pause_toml("pause-usdx", "dst", usdx),
        mint_rate_toml("usdx-mint-rate", "USDX", 3600, "1000000", actions),
    ]
    .concat()
}

async fn setup(chain_id: u64) -> (Anvil, alloy::primitives::Address) {
    let chain = anvil(chain_id, Some(1));
    let admin = chain.as_account(0);
    let usdx = deploy_guarded_usdx(&admin).await;
    (chain, usdx)
}

/// kill -9 the guard, attack while it is down, restart: the attack is found (no event missed),
/// tripped once and paused once; kill -9 and restart again: no second trip, no second pause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_and_restart_miss_nothing_and_repeat_nothing() {
    let (chain, usdx) = setup(18_540).await;
    let admin = chain.as_account(0);
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("guard.db");
    let cfg = dir.path().join("guard.toml");
    std::fs::write(&cfg, mint_config(&db, &chain.http(), usdx, &["pause-usdx"])).expect("write");

    let first = Proc::spawn(&cfg);
    wait_ingested(&db, "dst", admin.get_block_number().await.expect("rpc")).await;
    first.kill9();

    // The attack happens while the guard is down.
    let minter = chain.as_account(2);
    let r = mined!(
        IToken::new(usdx, &minter).mint(account(2), units(50_000_000, 18)),
        "mint"
    );
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    let second = Proc::spawn(&cfg);
    let start = Instant::now();
    let trip = loop {
        let s = ringfence_store::Store::open(&db).expect("store");
        let alerts = s.alerts().expect("alerts");
        if let Some(a) = alerts
            .iter()
            .find(|a| a.actions.first().is_some_and(|x| x.status == "mined"))
        {
            assert_eq!(alerts.len(), 1, "one trip");
            break a.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no mined pause after restart: {alerts:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(trip.tx, Some(r.transaction_hash));
    second.kill9();

    let third = Proc::spawn(&cfg);
    let head = admin.get_block_number().await.expect("rpc");
    wait_ingested(&db, "dst", head + 2).await;
    let s = ringfence_store::Store::open(&db).expect("store");
    assert_eq!(s.alerts().expect("alerts").len(), 1, "no repeated trip");
    let pauses = admin.get_transaction_count(account(1)).await.expect("rpc");
    assert_eq!(pauses, 1, "exactly one pause transaction from the guardian");
    assert!(
        IToken::new(usdx, &admin)
            .paused()
            .call()
            .await
            .expect("call")
    );
    drop(third);
}

/// A reorg that removes the offending block rolls the guard back and retracts the alert.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reorg_removing_the_evidence_retracts_the_alert() {
    let (chain, usdx) = setup(18_550).await;
    let admin = chain.as_account(0);
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("guard.db");
    let mut guard = Guard::start(&mint_config(&db, &chain.http(), usdx, &[]));
    wait_ingested(&db, "dst", admin.get_block_number().await.expect("rpc")).await;
    let minter = chain.as_account(2);
    let r = mined!(
        IToken::new(usdx, &minter).mint(account(2), units(50_000_000, 18)),
        "mint"
    );
    let n = r.block_number.expect("block");
    let trip = guard.next(10).await;
    assert_eq!(trip.block, n);
    assert!(!trip.retracted);
    wait_ingested(&db, "dst", n + 1).await;
    let head = admin.get_block_number().await.expect("rpc");
    let depth = head - n + 1;
    let _: serde_json::Value = admin
        .raw_request("anvil_reorg".into(), (depth, Vec::<()>::new()))
        .await
        .expect("anvil_reorg");
    let retraction = guard.next(15).await;
    assert_eq!(retraction.id, trip.id);
    assert!(retraction.retracted);
    let s = ringfence_store::Store::open(&db).expect("store");
    assert!(s.alert(&trip.id).expect("q").expect("kept").retracted);
    guard.quiet(1_500).await;
    guard.stop().await;
}

/// Backfill speed, reported on stderr: 2,000 blocks by default (anvil itself takes minutes to
/// mine 10k blocks); `RINGFENCE_BACKFILL_BLOCKS=10000` for the figure in the README;
/// `RINGFENCE_BACKFILL_QUORUM=1` reads the chain through a 2-of-3 quorum (anvil and two honest
/// proxies in front of it) for the quorum's figure. Then the
/// bounded restart: old events are pruned into the engine snapshot and a restart replays only
/// the recent ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_blocks_per_second() {
    let blocks: u64 = std::env::var("RINGFENCE_BACKFILL_BLOCKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let rounds = blocks.div_ceil(500);
    let chain = anvil(18_560, None);
    let admin = chain.as_account(0);
    let usdx = deploy_token(&admin, "USDX", 18, account(0)).await;
    let token = IToken::new(usdx, &admin);
    for _ in 0..rounds {
        // Automine: poll the receipt (alloy's watcher waits for a further block).
        let sent = token
            .mint(account(4), units(10, 18))
            .send()
            .await
            .expect("send");
        assert!(
            crate::harness::receipt(&admin, *sent.tx_hash())
                .await
                .status()
        );
        let _: serde_json::Value = admin
            .raw_request("anvil_mine".into(), (500u64, 1u64))
            .await
            .expect("mine");
    }
    let head = admin.get_block_number().await.expect("rpc");
    assert!(head >= blocks);
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("guard.db");
    let mut cfg = mint_config(&db, &chain.http(), usdx, &[]).replace(
        "poll_ms = 100",
        "poll_ms = 100\nstart_block = 1\nmax_block_range = 2000",
    );
    let mut proxies = Vec::new();
    if std::env::var_os("RINGFENCE_BACKFILL_QUORUM").is_some() {
        for _ in 0..2 {
            proxies.push(
                ringfence_quorum::testing::LyingProxy::start(&chain.http())
                    .await
                    .expect("proxy"),
            );
        }
        let single = format!("rpc = \"{}\"", chain.http());
        assert!(cfg.contains(&single));
        cfg = cfg.replacen(
            &single,
            &format!(
                "rpc = [\"{}\", \"{}\", \"{}\"]",
                chain.http(),
                proxies[0].url(),
                proxies[1].url()
            ),
            1,
        );
    }
    let t = Instant::now();
    let guard = Guard::start(&cfg);
    wait_ingested(&db, "dst", head).await;
    let secs = t.elapsed().as_secs_f64();
    eprintln!(
        "BACKFILL {head} blocks in {secs:.2} s = {:.0} blocks/s{}",
        head as f64 / secs,
        if proxies.is_empty() {
            ""
        } else {
            " through a 2-of-3 quorum"
        }
    );
    guard.stop().await;
    let s = ringfence_store::Store::open(&db).expect("store");
    // One mint per round plus one head event per block were ingested…
    let total = head + rounds;
    assert_eq!(s.last_event_seq().expect("seq"), total);
    // …but only the recent ones are kept: the rest live in the engine snapshot.
    let kept = s.event_count().expect("count");
    assert!(kept < 1_000, "{kept} of {total} events kept");
    // A restart loads the snapshot and replays only what follows it.
    let spec = std::sync::Arc::new(
        ringfence_guard::config::parse(Path::new("test.toml"), &cfg).expect("config"),
    );
    let r = ringfence_chain::restore(&spec, &s).expect("restore");
    assert_eq!(r.replayed, kept, "the restart replays the kept events only");
    assert!(r.replayed < total / 2);
    assert_eq!(
        r.engine.events_seen(),
        total,
        "no event lost by the snapshot"
    );
    let (head_block, _) = r.engine.head(0);
    assert_eq!(head_block, head);
}

/// A chain that does not answer is reported `stale` and retried; the daemon keeps running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_rpc_is_reported_stale_without_crashing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = format!(
        r#"
[store]
path = "{db}"
[[chain]]
id = "gone"
rpc = "http://127.0.0.1:18579"
poll_ms = 50
stale_after_s = 1
[[token]]
id = "T"
chain = "gone"
address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
decimals = 6
[[rule]]
id = "t-mint"
kind = "mint-rate"
token = "T"
window_s = 60
max_amount = "1"
"#,
        db = dir.path().join("g.db").display()
    );
    let mut guard = Guard::start(&config);
    let a = guard.next(10).await;
    assert_eq!((a.kind.as_str(), a.chain.as_str()), ("stale", "gone"));
    assert!(a.evidence["error"].as_str().is_some_and(|e| !e.is_empty()));
    guard.quiet(1_000).await;
    guard.stop().await;
}
