//! A fleet member in-process on a real nats-server, its chain's endpoint down: it takes the
//! chain's lease, raises `stale` once the chain stops answering (claimed, published), and
//! releases the lease at once when it stops.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ringfence_fleet::bus::{self as b, Bus, BusOptions};
use ringfence_fleet::lease::{self, Lease};
use ringfence_fleet::testing::Nats;
use ringfence_fleet::{Member, MemberOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_raises_stale_for_its_chain_and_hands_it_over_when_stopped() {
    let nats = Nats::single().expect("nats-server: run scripts/setup-nats.sh");
    let dir = tempfile::tempdir().expect("tempdir");
    // Nothing listens on the endpoint: the chain never answers.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let text = format!(
        r#"
[store]
path = "unused.db"
[[chain]]
id = "dst"
rpc = "http://127.0.0.1:{port}/v2/SECRETKEY"
poll_ms = 100
stale_after_s = 1
[[token]]
id = "T"
chain = "dst"
address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
decimals = 6
"#
    );
    let spec = match ringfence_guard::config::parse(Path::new("m.toml"), &text) {
        Ok(s) => Arc::new(s),
        Err(e) => panic!("{e}"),
    };
    let (tx, mut alerts) = tokio::sync::mpsc::unbounded_channel();
    let mut opts = MemberOptions::new(nats.urls(), "solo", dir.path().join("solo.db"));
    opts.alerts = Some(tx);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let member = tokio::spawn(Member::new(spec, "h".into(), opts).run(async {
        let _ = stopped.await;
    }));
    let stale = tokio::time::timeout(Duration::from_secs(15), alerts.recv())
        .await
        .expect("a stale alert within 15 s")
        .expect("alert");
    assert_eq!(
        (stale.rule.as_str(), stale.chain.as_str()),
        ("stale", "dst")
    );
    let json = serde_json::to_string(&stale).expect("json");
    assert!(!json.contains("SECRETKEY"), "{json}");

    let bus = Bus::connect(&nats.urls(), "test", &BusOptions::default())
        .await
        .expect("bus");
    let key = lease::ingest_key("dst");
    let held = b::entry::<Lease>(&bus.leases, &key).await.expect("read");
    assert!(
        matches!(&held, Some((Ok(l), _)) if l.member == "solo"),
        "{held:?}"
    );
    let _ = stop.send(());
    let t = Instant::now();
    member
        .await
        .expect("task")
        .unwrap_or_else(|e| panic!("member failed: {e}"));
    assert!(
        b::entry::<Lease>(&bus.leases, &key)
            .await
            .expect("read")
            .is_none(),
        "the lease is released when the member stops, not left to expire"
    );
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}
