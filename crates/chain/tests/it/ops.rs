//! The guard's outputs in production (issue 11 items 1, 2; issue 10 item 3): webhooks over
//! https with a private CA, signed, retried and recorded; one pause shared by the trips of a
//! block, shown with its hash on every record; and a full watch with secret-bearing RPC URLs (one
//! chain read through a quorum with a lying endpoint),
//! guardian key, webhook URL and signing secret, provoking every alert kind, whose every output
//! (stdout, trace-level stderr, the SQLite files, webhook requests, the HTTP API) is searched for
//! the secrets. Its RPC proxies listen on ports 19022-19024.

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::primitives::B256;
use alloy::providers::Provider;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use hmac::Mac as _;
use ringfence_guard::ActionStatus;

use crate::harness::{
    IToken, KEYS, account, anvil, backing_rule_toml, bridge, bridge_toml, deploy_guarded_usdx,
    forged_release, grant, lock_and_id, message_rule_toml, mined, mint_rate_toml, pause_toml,
    store_and_chains, token_toml, units,
};
use crate::{Guard, KEY_ENV, wait_ingested};

/// One request a test webhook received.
#[derive(Clone, Debug)]
struct Hit {
    path: String,
    headers: HeaderMap,
    body: String,
}

type Hits = Arc<Mutex<Vec<Hit>>>;

/// A webhook receiver: records every request, answers 500 to the first `fail_first`.
fn hook_router(hits: Hits, fail_first: usize) -> axum::Router {
    axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
            let hits = hits.clone();
            async move {
                let mut h = hits.lock().expect("hits");
                h.push(Hit {
                    path: uri.to_string(),
                    headers,
                    body: String::from_utf8_lossy(&body).into_owned(),
                });
                if h.len() <= fail_first {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        },
    )
}

async fn http_hook(fail_first: usize) -> (SocketAddr, Hits) {
    let hits = Hits::default();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    let app = hook_router(hits.clone(), fail_first);
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (addr, hits)
}

/// A real https webhook receiver whose certificate is signed by a test CA generated here; the
/// CA's PEM is written to `ca_path`.
async fn https_hook(fail_first: usize, ca_path: &Path) -> (SocketAddr, Hits) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().expect("ca key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "ringfence test CA");
    let ca_cert = ca.self_signed(&ca_key).expect("ca cert");
    std::fs::write(ca_path, ca_cert.pem()).expect("write ca");
    let issuer = rcgen::Issuer::new(ca, ca_key);
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("leaf params")
        .signed_by(&leaf_key, &issuer)
        .expect("leaf cert");
    let key = rustls_key(&leaf_key);
    let tls = tokio_rustls::rustls::ServerConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocols")
    .with_no_client_auth()
    .with_single_cert(vec![leaf.der().clone()], key)
    .expect("server config");
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let hits = Hits::default();
    let app = hook_router(hits.clone(), fail_first);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = l.accept().await else {
                return;
            };
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(sock).await else {
                    return;
                };
                let svc = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                .await;
            });
        }
    });
    (addr, hits)
}

fn rustls_key(k: &rcgen::KeyPair) -> tokio_rustls::rustls::pki_types::PrivateKeyDer<'static> {
    tokio_rustls::rustls::pki_types::PrivateKeyDer::Pkcs8(k.serialize_der().into())
}

fn check_signature(hit: &Hit, secret: &str) {
    let ts = hit.headers["x-ringfence-timestamp"].to_str().expect("ts");
    let sig = hit.headers["x-ringfence-signature"].to_str().expect("sig");
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{ts}.{}", hit.body).as_bytes());
    let want = format!(
        "sha256={}",
        alloy::primitives::hex::encode(mac.finalize().into_bytes())
    );
    assert_eq!(sig, want, "signature over `{{timestamp}}.{{body}}`");
    assert_eq!(
        sig,
        ringfence_chain::webhook_signature(secret.as_bytes(), ts.parse().expect("ts"), &hit.body)
    );
}

async fn wait_for<T>(secs: u64, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(x) = f() {
            return x;
        }
        assert!(start.elapsed() < Duration::from_secs(secs), "timed out");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Issue 11 item 2: an https webhook (private CA via `ca_file`) that fails once is retried with
/// back-off, signed, and both attempts are recorded; Slack and Discord bodies go to a plain http
/// endpoint. The alert is printed at once, with the first attempt's failure, and again when
/// the retry delivered it. An endpoint that never answers ends `failed`, with its attempts.
// Kept long: one daemon posting to four endpoints (https with a private CA, Slack, Discord, one that never answers); the retries are timed against each other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_reach_https_with_a_private_ca_signed_and_retried() {
    let chain = anvil(32_000, Some(1));
    let admin = chain.as_account(0);
    let usdx = deploy_guarded_usdx(&admin).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = dir.path().join("ca.pem");
    let (tls_addr, tls_hits) = https_hook(1, &ca).await;
    let (plain_addr, plain_hits) = http_hook(0).await;
    let db = dir.path().join("guard.db");
    let secret_env = "RINGFENCE_TEST_HOOK_SECRET";
    let config = store_and_chains(&db, &[("dst", &chain.http())])
        + &format!(
            r#"[[action]]
id = "signed"
kind = "webhook"
url = "https://127.0.0.1:{tls}/hooks/signed"
ca_file = "{ca}"
secret_env = "{secret_env}"
retries = 3
timeout_ms = 2000
[[action]]
id = "slack"
kind = "webhook"
format = "slack"
url = "http://127.0.0.1:{plain}/slack"
[[action]]
id = "discord"
kind = "webhook"
format = "discord"
url = "http://127.0.0.1:{plain}/discord"
[[action]]
id = "down"
kind = "webhook"
url = "http://127.0.0.1:{down}/nobody"
retries = 2
timeout_ms = 500
[[rule]]
id = "usdx-admin"
kind = "privileged"
chain = "dst"
contracts = ["{usdx}"]
severity = "alert"
actions = ["signed", "slack", "discord", "down"]
"#,
            tls = tls_addr.port(),
            plain = plain_addr.port(),
            ca = ca.display(),
            down = {
                let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
                l.local_addr().expect("addr").port()
            },
        );
    let spec =
        Arc::new(ringfence_guard::config::parse(Path::new("hooks.toml"), &config).expect("config"));
    let (tx, mut alerts) = tokio::sync::mpsc::unbounded_channel();
    let mut secrets = std::collections::HashMap::new();
    secrets.insert(secret_env.to_owned(), "hook-signing-secret".into());
    let opts = ringfence_chain::WatchOptions {
        alerts: Some(tx),
        secrets,
        ..Default::default()
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(ringfence_chain::Watcher::new(spec, opts).run(async {
        let _ = stopped.await;
    }));
    wait_ingested(&db, "dst", admin.get_block_number().await.expect("rpc")).await;

    grant(&admin, usdx, "MINTER_ROLE", account(3)).await;
    let first = tokio::time::timeout(Duration::from_secs(15), alerts.recv())
        .await
        .expect("alert")
        .expect("open");
    assert_eq!(first.reason, "role-granted");
    let st = |rec: &ringfence_guard::AlertRecord, id: &str| {
        let a = rec.actions.iter().find(|a| a.id == id).expect("action");
        (a.status, a.attempts, a.error.clone())
    };
    // Printed at once: the https endpoint failed its first attempt (pending a retry, which a
    // restart would resume), the others arrived.
    let (s, n, e) = st(&first, "signed");
    assert_eq!((s, n), (ActionStatus::Pending, 1), "{e:?}");
    assert!(e.as_deref().is_some_and(|e| e.contains("500")), "{e:?}");
    assert_eq!(st(&first, "slack").0, ActionStatus::Done);
    assert_eq!(st(&first, "discord").0, ActionStatus::Done);
    // The retry (after 0.5 s) delivers it; the alert is printed again and stored so.
    let second = tokio::time::timeout(Duration::from_secs(15), alerts.recv())
        .await
        .expect("alert again")
        .expect("open");
    assert_eq!(second.id, first.id);
    assert_eq!(st(&second, "signed"), (ActionStatus::Done, 2, None));
    // Nobody listens: failed for good after the first attempt and two retries, with the reason.
    let (s, n, e) = st(&second, "down");
    assert_eq!((s, n), (ActionStatus::Failed, 3), "{e:?}");
    assert!(e.is_some_and(|e| e.contains("127.0.0.1")));
    let stored = wait_for(10, || {
        let s = ringfence_store::Store::open(&db).ok()?;
        let a = s.alert(&first.id).ok()??;
        (st(&a, "signed").0 == ActionStatus::Done).then_some(a)
    })
    .await;
    assert_eq!(st(&stored, "signed").1, 2);

    let tls_hits = tls_hits.lock().expect("hits").clone();
    assert_eq!(tls_hits.len(), 2, "one failure, one retry");
    for h in &tls_hits {
        assert_eq!(h.path, "/hooks/signed");
        check_signature(h, "hook-signing-secret");
        let body: serde_json::Value = serde_json::from_str(&h.body).expect("json");
        assert_eq!(body["alert"]["reason"], "role-granted");
        assert!(
            body["text"]
                .as_str()
                .is_some_and(|t| t.contains("usdx-admin"))
        );
    }
    let plain = plain_hits.lock().expect("hits").clone();
    let slack = plain.iter().find(|h| h.path == "/slack").expect("slack");
    let body: serde_json::Value = serde_json::from_str(&slack.body).expect("json");
    assert!(
        body["text"]
            .as_str()
            .is_some_and(|t| t.contains("role-granted"))
    );
    assert!(body.get("alert").is_none() && !slack.headers.contains_key("x-ringfence-signature"));
    let discord = plain
        .iter()
        .find(|h| h.path == "/discord")
        .expect("discord");
    let body: serde_json::Value = serde_json::from_str(&discord.body).expect("json");
    assert!(
        body["content"]
            .as_str()
            .is_some_and(|t| t.contains("usdx-admin"))
    );

    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
}

/// Issue 10 item 3: when two trips in one block share a pause, the second recorded
/// `same-as:<id>` and showed as `pending` with no transaction forever. Both now show the one
/// pause that was sent — the same hash — and it is mined.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn regression_two_trips_sharing_a_pause_both_show_its_hash() {
    let chain = anvil(32_010, Some(1));
    let admin = chain.as_account(0);
    let usdx = deploy_guarded_usdx(&admin).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("guard.db");
    let config = [
        store_and_chains(&db, &[("dst", &chain.http())]),
        token_toml("USDX", "dst", usdx, 18, None),
        pause_toml("pause-usdx", "dst", usdx),
        mint_rate_toml("hourly", "USDX", 3600, "1000000", &["pause-usdx"]),
        mint_rate_toml("daily", "USDX", 86_400, "5000000", &["pause-usdx"]),
    ]
    .concat();
    let mut guard = Guard::start(&config);
    wait_ingested(&db, "dst", admin.get_block_number().await.expect("rpc")).await;
    mined!(
        IToken::new(usdx, &chain.as_account(2)).mint(account(2), units(50_000_000, 18)),
        "mint"
    );
    let (a, b) = (guard.next(10).await, guard.next(10).await);
    assert_eq!(a.block, b.block);
    let hashes: Vec<Option<B256>> = [&a, &b].iter().map(|r| r.actions[0].tx).collect();
    assert!(hashes[0].is_some(), "{a:?}");
    assert_eq!(hashes[0], hashes[1], "one pause, shown on both trips");
    assert_eq!(
        [&a, &b]
            .iter()
            .filter(|r| r.actions[0].shared_with.is_some())
            .count(),
        1
    );
    for r in [&a, &b] {
        assert_eq!(r.actions[0].status, ActionStatus::Sent, "{r:?}");
    }
    // Stored: both mined, same hash.
    let (ida, idb) = (a.id.clone(), b.id.clone());
    wait_for(20, || {
        let s = ringfence_store::Store::open(&db).ok()?;
        let (x, y) = (s.alert(&ida).ok()??, s.alert(&idb).ok()??);
        (x.actions[0].status == ActionStatus::Mined
            && y.actions[0].status == ActionStatus::Mined
            && x.actions[0].tx == hashes[0]
            && y.actions[0].tx == hashes[0])
            .then_some(())
    })
    .await;
    guard.stop().await;
}

/// A plain HTTP proxy in front of anvil that accepts any path and query (as hosted providers'
/// `…/v2/<key>?apikey=…` URLs have) and forwards the JSON-RPC body to anvil's root.
async fn rpc_proxy(port: u16, upstream: String) -> SocketAddr {
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |body: Bytes| {
        let (client, upstream) = (client.clone(), upstream.clone());
        async move {
            match client
                .post(&upstream)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
            {
                Ok(r) => (
                    StatusCode::OK,
                    [("content-type", "application/json")],
                    r.bytes().await.unwrap_or_default(),
                ),
                Err(_) => (
                    StatusCode::BAD_GATEWAY,
                    [("content-type", "application/json")],
                    Bytes::new(),
                ),
            }
        }
    });
    let l = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind proxy");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    addr
}

const CHILD_ENV: &str = "RINGFENCE_OPS_CHILD_CONFIG";

/// The daemon as `ringfence watch` runs it, in a child process: alerts as JSON lines on
/// stdout, logs at the level of `RUST_LOG` through the same redacting writer as the CLI.
#[test]
#[ignore = "run by secrets_never_leak_from_any_output as a child process"]
fn child_watch_process() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(|| ringfence_guard::secret::ScrubWriter(std::io::stderr()))
        .init();
    let spec = match ringfence_guard::config::load(Path::new(&path)) {
        Ok(s) => Arc::new(s),
        Err(e) => panic!("{e}"),
    };
    let opts = ringfence_chain::WatchOptions {
        stdout: true,
        ..Default::default()
    };
    // Debug of the options (logged by embedders) shows no secret either.
    tracing::debug!(opts = ?opts, spec = ?spec.chains, "starting");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(ringfence_chain::Watcher::new(spec, opts).run(std::future::pending()))
        .expect("watch");
}

/// Issue 11 item 1: a full watch with a secret-bearing RPC URL (path key and `apikey` query),
/// a guardian key, a webhook URL with a secret path and a signing secret; every rule kind and
/// `stale` are provoked; no secret appears in stdout, stderr at trace level, the SQLite files,
/// the webhook requests or the HTTP API.
// Kept long: one daemon run that must provoke every alert kind before every output is searched; split, the search would no longer cover one run's outputs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_leak_from_any_output() {
    const PATH_KEY: &str = "SECRETKEYpathpart9f3";
    const QUERY_KEY: &str = "SECRET2queryvalue7c1";
    const HOOK_PATH: &str = "HOOKSECRETpath41d";
    const HMAC: &str = "HMACSECRETvalue0b7";
    let b = bridge(32_020, 32_021).await;
    let src = rpc_proxy(19_022, b.src.http()).await;
    let dst = rpc_proxy(19_023, b.dst.http()).await;
    let secret_url = |a: SocketAddr| {
        format!(
            "http://127.0.0.1:{}/v2/{PATH_KEY}?apikey={QUERY_KEY}",
            a.port()
        )
    };
    // The destination is read through a quorum of three secret-bearing endpoints, one of them
    // lying: its contradiction (an `rpc-disagreement` naming the endpoints) must not leak them.
    let dst2 = rpc_proxy(0, b.dst.http()).await;
    let liar = ringfence_quorum::testing::LyingProxy::start(&b.dst.http())
        .await
        .expect("lying proxy");
    let liar_addr: SocketAddr = liar
        .url()
        .trim_start_matches("http://")
        .parse()
        .expect("addr");
    // A chain whose provider is down: its errors name the URL, and it goes stale.
    let gone: SocketAddr = "127.0.0.1:19024".parse().expect("addr");
    let (hook, hits) = http_hook(0).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("guard.db");
    let config_path = dir.path().join("guard.toml");
    let config = format!(
        r#"
[store]
path = "{db}"
[[chain]]
id = "src"
rpc = "{src_rpc}"
poll_ms = 100
[[chain]]
id = "dst"
rpc = ["{dst_rpc}", "{dst2_rpc}", "{liar_rpc}"]
quorum = 2
poll_ms = 100
[[chain]]
id = "gone"
rpc = "{gone_rpc}"
poll_ms = 100
stale_after_s = 2
{bridge}[[action]]
id = "hook"
kind = "webhook"
url = "http://127.0.0.1:{hook_port}/services/{HOOK_PATH}"
secret_env = "RINGFENCE_TEST_HOOK_SECRET"
{bridge_rules}[[rule]]
id = "mints"
kind = "mint-rate"
token = "wBTC"
window_s = 3600
max_amount = "10"
actions = ["pause-bridge", "hook"]
[[rule]]
id = "velocity"
kind = "anomaly"
metric = "mint"
token = "wBTC"
warmup_buckets = 0
min_value = 1
actions = ["hook"]
[[rule]]
id = "user-outflow"
kind = "outflow-rate"
chain = "src"
contract = "{user}"
tokens = ["BTC"]
window_s = 3600
big_transfer_usd = 1000
actions = ["hook"]
[[rule]]
id = "wbtc-admin"
kind = "privileged"
chain = "dst"
contracts = ["{wbtc}"]
severity = "alert"
actions = ["hook"]
"#,
        db = db.display(),
        src_rpc = secret_url(src),
        dst_rpc = secret_url(dst),
        dst2_rpc = secret_url(dst2),
        liar_rpc = secret_url(liar_addr),
        gone_rpc = secret_url(gone),
        bridge = [
            token_toml("BTC", "src", b.btc, 8, Some("60000")),
            token_toml("wBTC", "dst", b.wbtc, 8, Some("60000")),
            bridge_toml("wbtc", b.lockbox, b.endpoint),
            pause_toml("pause-bridge", "dst", b.endpoint),
        ]
        .concat(),
        bridge_rules = [
            message_rule_toml("messages", "wbtc", &["pause-bridge", "hook"]),
            backing_rule_toml("backing", b.lockbox, &["pause-bridge", "hook"]),
        ]
        .concat(),
        wbtc = b.wbtc,
        user = account(4),
        hook_port = hook.port(),
    );
    std::fs::write(&config_path, &config).expect("write config");

    let exe = std::env::current_exe().expect("test binary");
    let mut child = Command::new(exe)
        .args([
            "--exact",
            "ops::child_watch_process",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &config_path)
        .env(KEY_ENV, KEYS[1])
        .env("RINGFENCE_TEST_HOOK_SECRET", HMAC)
        .env("RUST_LOG", "trace")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the watch process");
    let out = Arc::new(Mutex::new(String::new()));
    let err = Arc::new(Mutex::new(String::new()));
    let mut readers = Vec::new();
    for (pipe, buf) in [
        (
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            out.clone(),
        ),
        (
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>),
            err.clone(),
        ),
    ] {
        let pipe = pipe.expect("piped");
        readers.push(std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                let mut b = match buf.lock() {
                    Ok(b) => b,
                    Err(p) => p.into_inner(),
                };
                b.push_str(&line);
                b.push('\n');
            }
        }));
    }
    let kinds_seen = |out: &Arc<Mutex<String>>| -> Vec<String> {
        out.lock()
            .expect("out")
            .lines()
            // libtest's `test … ... ` may precede the first line on the same line.
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l[l.find('{')?..]).ok())
            .filter_map(|v| v["kind"].as_str().map(str::to_owned))
            .collect()
    };
    let d0 = b.dst.as_account(0);
    wait_ingested(&db, "dst", d0.get_block_number().await.expect("rpc")).await;
    wait_ingested(
        &db,
        "src",
        b.src.as_account(0).get_block_number().await.expect("rpc"),
    )
    .await;

    // The liar injects a log into a block to come.
    liar.lie(ringfence_quorum::testing::Lie::InjectLog {
        block: d0.get_block_number().await.expect("rpc") + 2,
        address: b.endpoint,
        topics: vec![alloy::primitives::keccak256(
            "Released(bytes32,address,uint256,address)",
        )],
        data: alloy::primitives::Bytes::from(vec![0u8; 96]),
    });
    // A lock by the watched user: outflow-rate's big transfer.
    lock_and_id(&b.src, b.lockbox, b.btc).await;
    // A forged release: message-match, backing, mint-rate and the anomaly; the pause.
    forged_release(&b.dst, b.endpoint, b.wbtc, B256::repeat_byte(0x66)).await;
    // A role grant on the wrapped token: privileged.
    grant(&d0, b.wbtc, "MINTER_ROLE", account(3)).await;

    let want = [
        "outflow-rate",
        "message-match",
        "backing",
        "mint-rate",
        "anomaly",
        "privileged",
        "stale",
        "rpc-disagreement",
    ];
    let start = Instant::now();
    while !want.iter().all(|k| kinds_seen(&out).iter().any(|s| s == k)) {
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "kinds seen: {:?}\nstdout: {}",
            kinds_seen(&out),
            out.lock().expect("out")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The pause was sent with the guardian key and mined; the webhook delivered every alert.
    wait_for(30, || {
        let s = ringfence_store::Store::open(&db).ok()?;
        s.alerts()
            .ok()?
            .iter()
            .any(|a| {
                a.actions
                    .iter()
                    .any(|x| x.kind == "pause" && x.status == ActionStatus::Mined)
            })
            .then_some(())
    })
    .await;
    assert!(b.paused().await);
    tokio::time::sleep(Duration::from_millis(500)).await;

    // The HTTP API over the same store.
    let server = ringfence_server::Server::new(ringfence_server::Config {
        spec: crate::harness::repo().join("examples/ecosystem.toml"),
        guard: Some(config_path.clone()),
        api_token: None,
    })
    .expect("server");
    let app = server.router();
    let mut api = String::new();
    let get = async |path: &str| {
        use tower::ServiceExt as _;
        let resp = app
            .clone()
            .oneshot(
                axum::http::Request::get(path)
                    .body(axum::body::Body::empty())
                    .expect("req"),
            )
            .await
            .expect("infallible");
        let body = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .expect("body");
        String::from_utf8_lossy(&body).into_owned()
    };
    api.push_str(&get("/api/guard").await);
    let trips = get("/api/trips?severity=all&per_page=200").await;
    let v: serde_json::Value = serde_json::from_str(&trips).expect("json");
    for item in v["items"].as_array().expect("items") {
        api.push_str(&get(&format!("/api/trips/{}", item["id"].as_str().expect("id"))).await);
    }
    api.push_str(&trips);
    api.push_str(&get("/healthz").await);

    let _ = child.kill();
    let _ = child.wait();
    for r in readers {
        let _ = r.join();
    }
    let stdout = out.lock().expect("out").clone();
    let stderr = err.lock().expect("err").clone();
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("dir").flatten() {
        let p: PathBuf = entry.path();
        if p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("guard.db"))
        {
            files.push((p.display().to_string(), std::fs::read(&p).expect("read")));
        }
    }
    assert!(files.len() >= 2, "the database and its WAL");
    let hits = hits.lock().expect("hits").clone();
    assert!(
        hits.iter()
            .all(|h| h.path == format!("/services/{HOOK_PATH}"))
    );
    // What the receiver is sent (its own URL aside): headers and bodies.
    let hooks: String = hits
        .iter()
        .map(|h| format!("{:?} {}\n", h.headers, h.body))
        .collect();

    // The test can fail: every output is there, and the logs did see the endpoint (redacted).
    assert!(stderr.len() > 10_000, "trace logs: {} bytes", stderr.len());
    assert!(
        stderr.contains("127.0.0.1:19022/…?apikey=…"),
        "the redacted endpoint in the logs"
    );
    assert!(api.contains("http://127.0.0.1:19023/…?apikey=…"), "{api}");
    assert!(stdout.contains("\"kind\":\"stale\""));
    let stale: serde_json::Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["kind"] == "stale")
        .expect("stale alert");
    assert_eq!(
        stale["evidence"]["rpc"],
        "http://127.0.0.1:19024/…?apikey=…"
    );
    assert!(hits.len() >= 6, "{hooks}");
    // The contradiction names the liar, redacted.
    let disagreement: serde_json::Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["kind"] == "rpc-disagreement")
        .expect("rpc-disagreement alert");
    assert_eq!(
        disagreement["evidence"]["dissenting"][0]["endpoint"],
        format!("http://{liar_addr}/…?apikey=…")
    );

    let key_hex = KEYS[1].trim_start_matches("0x");
    let secrets = [PATH_KEY, QUERY_KEY, HOOK_PATH, HMAC, key_hex];
    let mut outputs: Vec<(String, Vec<u8>)> = vec![
        ("stdout".into(), stdout.into_bytes()),
        ("stderr".into(), stderr.into_bytes()),
        ("webhook requests".into(), hooks.into_bytes()),
        ("HTTP API".into(), api.into_bytes()),
    ];
    outputs.extend(files);
    for (name, bytes) in &outputs {
        for s in secrets {
            let found = bytes
                .windows(s.len())
                .any(|w| w.eq_ignore_ascii_case(s.as_bytes()));
            assert!(!found, "{s} leaked into {name}");
        }
    }
}

/// `WatchOptions` derived `Debug` over the guardian keys; it shows only their names now.
#[test]
fn regression_watch_options_debug_shows_no_key() {
    let mut secrets = std::collections::HashMap::new();
    secrets.insert(KEY_ENV.to_owned(), KEYS[1].into());
    let opts = ringfence_chain::WatchOptions {
        secrets,
        ..Default::default()
    };
    let shown = format!("{opts:?} {opts:#?}");
    assert!(
        shown.contains(KEY_ENV) && shown.contains("[redacted]"),
        "{shown}"
    );
    assert!(!shown.contains(KEYS[1].trim_start_matches("0x")), "{shown}");
}
