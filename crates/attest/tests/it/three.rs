//! Three attestors with separate keys and separate endpoint sets, 2 of 3 required: one is down,
//! one reads the source chain through a lying proxy. Real messages still get k = 2 valid
//! attestations and execute; a forged one (a log only the liar reports) and a tampered one get
//! none and can never execute.

use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::Provider;
use alloy::sol_types::SolEvent;
use ringfence_attest::AttestorKey;
use ringfence_attest::attestation::route_id;
use ringfence_quorum::testing::{Lie, LyingProxy};
use serde_json::Value;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::chains::*;

pub(crate) struct Running {
    pub(crate) url: String,
    alerts: UnboundedReceiver<Value>,
    seen: Vec<Value>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Running {
    pub(crate) fn drain(&mut self) -> &[Value] {
        while let Ok(v) = self.alerts.try_recv() {
            self.seen.push(v);
        }
        &self.seen
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn start(
    dir: &std::path::Path,
    name: &str,
    key: &str,
    src_rpc: &[String],
    dst_rpc: &[String],
    source: Address,
    d: &Destination,
) -> Running {
    let port = free_port();
    let rpc = |v: &[String]| {
        v.iter()
            .map(|u| format!("\"{u}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text = format!(
        r#"[attestor]
key_env = "RINGFENCE_ATTESTOR_KEY_{upper}"
listen = "127.0.0.1:{port}"
store = "{store}"
routes = ["lab"]
poll_ms = 100
confirmations = {{ src = 2 }}

[[chain]]
id = "src"
chain_id = 1337
rpc = [{src}]

[[chain]]
id = "dst"
chain_id = 1338
rpc = [{dst}]

[[bridge]]
id = "lab"
source = {{ chain = "src", contract = "{source}", event = "Sent(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient)" }}
destination = {{ chain = "dst", contract = "{gateway}", event = "Requested(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient)" }}
match_on = ["id", "asset", "amount", "recipient"]
verifier = "{verifier}"
"#,
        upper = name.to_uppercase(),
        store = dir.join(format!("{name}.db")).display(),
        src = rpc(src_rpc),
        dst = rpc(dst_rpc),
        gateway = d.gateway,
        verifier = d.verifier,
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, &text).expect("write config");
    let cfg = ringfence_attest::config::load(&path).expect("valid config");
    let key = AttestorKey::from_hex(&cfg.key_env, key).expect("key");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let r = ringfence_attest::run::serve(&cfg, key, tx, async {
            let _ = stopped.await;
        })
        .await;
        if let Err(e) = r {
            panic!("attestor stopped: {e}");
        }
    });
    let running = Running {
        url: format!("http://127.0.0.1:{port}"),
        alerts: rx,
        seen: Vec::new(),
        stop: Some(stop),
    };
    until_serving(&running).await;
    running
}

/// Waits until the attestor serves HTTP: it has connected and taken its starting blocks, so what
/// a test sends after `start` returns is read.
async fn until_serving(a: &Running) {
    let t = Instant::now();
    while reqwest::get(format!("{}/attestations/{}", a.url, B256::ZERO))
        .await
        .is_err()
    {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the attestor did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn get(url: &str, id: B256) -> Option<Value> {
    let r = reqwest::get(format!("{url}/attestations/{id}"))
        .await
        .ok()?;
    if r.status() != 200 {
        return None;
    }
    r.json().await.ok()
}

pub(crate) fn sent_log(id: B256, amount: U256, to: Address) -> (Vec<B256>, Bytes) {
    let mut data = Vec::with_capacity(96);
    data.extend_from_slice(ASSET.as_slice());
    data.extend_from_slice(&amount.to_be_bytes::<32>());
    data.extend_from_slice(to.into_word().as_slice());
    (vec![ISource::Sent::SIGNATURE_HASH, id], Bytes::from(data))
}

// Kept long: three attestors, real and forged messages and a fourth attestor behind two liars on one set of chains; the steps share the chains and the attestors' state.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_three_attest_real_messages_and_none_attest_a_forged_one() {
    let src = Anvil::spawn(1337, Some(1)).expect("anvil");
    let dst = Anvil::spawn(1338, Some(1)).expect("anvil");
    let src_admin = src.as_account(0);
    let (dst_admin, relayer) = (dst.as_account(0), dst.as_account(1));

    // Source: a token the user locks in the lab's source contract.
    let (_, source) = deploy_source(&src).await;

    // Destination: 2-of-3 verifier and the attested gateway.
    let keys = [ATTESTOR_KEYS[0], ATTESTOR_KEYS[1], ATTESTOR_KEYS[2]];
    let d = deploy_destination(
        &dst_admin,
        &attestor_addresses(3),
        2,
        3600,
        route_id("lab"),
        1337,
    )
    .await;

    // Attestor A reads the source over two honest transports; B is down (never started);
    // C reads it through a liar, an honest proxy and the node itself.
    let liar = LyingProxy::start(&src.http()).await.expect("proxy");
    let honest = LyingProxy::start(&src.http()).await.expect("proxy");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut a = start(
        dir.path(),
        "a",
        keys[0],
        &[src.http(), src.ws()],
        &[dst.http()],
        source,
        &d,
    )
    .await;
    let mut c = start(
        dir.path(),
        "c",
        keys[2],
        &[liar.url(), honest.url(), src.http()],
        &[dst.ws()],
        source,
        &d,
    )
    .await;
    // D (a fourth attestor, outside the set) reads the source through two liars telling
    // different lies and one honest node: no quorum, so it must halt and say so.
    let liar2 = LyingProxy::start(&src.http()).await.expect("proxy");
    let mut dd = start(
        dir.path(),
        "d",
        ATTESTOR_KEYS[3],
        &[liar.url(), liar2.url(), src.http()],
        &[dst.http()],
        source,
        &d,
    )
    .await;

    // The forged message: the liar reports a `Sent` that never happened, and a relayer asks the
    // gateway to pay it.
    let forged_id = B256::repeat_byte(0xf0);
    let attacker = Address::repeat_byte(0xee);
    let loot = U256::from(10u64).pow(U256::from(26u64));
    let head = src_admin.get_block_number().await.expect("head");
    for b in head..head + 6 {
        liar2.lie(Lie::OtherHash { block: b });
        let (topics, data) = sent_log(forged_id, loot, attacker);
        liar.lie(Lie::InjectLog {
            block: b,
            address: source,
            topics,
            data,
        });
    }

    // Real messages: locked on the source, requested on the destination.
    let recipient = Address::repeat_byte(0x77);
    let mut real = Vec::new();
    for (i, amount) in [1_000u64, 250_000].into_iter().enumerate() {
        let id = B256::with_last_byte(i as u8 + 1);
        let amount = U256::from(amount) * U256::from(10u64).pow(U256::from(18u64));
        lock(&src, source, id, amount, recipient).await;
        request(&relayer, d.gateway, id, amount, recipient).await;
        real.push((id, amount));
    }
    // A tampered message: 5 tokens locked, 5,000,000 requested.
    let tampered = B256::with_last_byte(9);
    let five = U256::from(5u64) * U256::from(10u64).pow(U256::from(18u64));
    lock(&src, source, tampered, five, recipient).await;
    request(
        &relayer,
        d.gateway,
        tampered,
        five * U256::from(1_000_000u64),
        recipient,
    )
    .await;
    request(&relayer, d.gateway, forged_id, loot, attacker).await;

    // Wait for both live attestors to attest the real messages and settle the others.
    let start_wait = Instant::now();
    let settled = |r: &mut Running, id: B256| {
        r.drain().iter().any(|l| {
            l["message_id"].as_str() == Some(&id.to_string())
                && (l["kind"] == "attested" || l["kind"] == "refused")
        })
    };
    loop {
        let ids = real.iter().map(|(i, _)| *i).chain([tampered, forged_id]);
        let done =
            ids.clone().all(|i| settled(&mut a, i)) && ids.clone().all(|i| settled(&mut c, i));
        if done {
            break;
        }
        assert!(
            start_wait.elapsed() < Duration::from_secs(60),
            "attestors did not settle: a={:#?} c={:#?}",
            a.drain(),
            c.drain()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Real messages: a relayer gathers the attestations over HTTP (B is down) with the library's
    // collector, which keeps two valid signatures in the contract's order, and the delivery
    // executes with exactly those.
    let dom = ringfence_attest::attestation::domain(1338, d.verifier);
    let set = attestor_addresses(3);
    let urls = [
        a.url.clone(),
        "http://127.0.0.1:9".to_owned(),
        c.url.clone(),
    ];
    let client = reqwest::Client::new();
    for (id, amount) in &real {
        let got = ringfence_attest::collect::collect(
            &client,
            &urls,
            *id,
            &dom,
            Some(&set),
            Duration::from_secs(3),
        )
        .await;
        assert!(got.meets(2), "{got:#?}");
        assert_eq!(got.signatures.len(), 2);
        let att = got.attestation.clone().expect("attestation");
        assert_eq!(att.amount, *amount);
        deliver(
            &relayer,
            d.gateway,
            &att,
            got.signatures.iter().map(|s| s.signature.clone()).collect(),
        )
        .await
        .expect("k = 2 attestations execute");
    }
    let paid = IToken::new(d.token, &dst_admin)
        .balanceOf(recipient)
        .call()
        .await
        .expect("balance");
    assert_eq!(paid, real.iter().map(|(_, a)| *a).sum::<U256>());

    // The forged and the tampered messages: no attestation anywhere, refusals with reasons.
    for (id, reason) in [(forged_id, "no-source-event"), (tampered, "mismatch")] {
        let got = ringfence_attest::collect::collect(
            &client,
            &urls,
            id,
            &dom,
            Some(&set),
            Duration::from_secs(3),
        )
        .await;
        assert!(
            got.signatures.is_empty() && got.args().is_none(),
            "{got:#?}"
        );
        for (name, r) in [("a", &mut a), ("c", &mut c)] {
            assert!(get(&r.url, id).await.is_none(), "{name} attested {id}");
            let refused = r.drain().iter().any(|l| {
                l["kind"] == "refused"
                    && l["message_id"].as_str() == Some(&id.to_string())
                    && l["refusal"]["reason"] == reason
            });
            assert!(
                refused,
                "{name}: no {reason} refusal for {id}: {:#?}",
                r.seen
            );
        }
    }
    // C saw the liar contradict its quorum and reported it.
    let dissent: Vec<&Value> = c
        .drain()
        .iter()
        .filter(|l| l["kind"] == "rpc-dissent")
        .collect();
    assert!(!dissent.is_empty(), "{:#?}", c.seen);
    assert!(dissent.iter().all(|l| l["endpoint"] == liar.url()));
    assert!(dissent.iter().any(|l| l["reported"] == true));
    // D, with the liars in the majority, halted: it says so and attests nothing.
    let lines = dd.drain().to_vec();
    let halted = lines
        .iter()
        .find(|l| l["kind"] == "rpc-disagreement")
        .unwrap_or_else(|| panic!("no rpc-disagreement from d: {lines:#?}"));
    assert_eq!(halted["chain"], "src");
    assert_eq!(halted["endpoints"].as_array().map(Vec::len), Some(3));
    assert!(lines.iter().all(|l| l["kind"] != "attested"), "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l["refusal"]["reason"] == "rpc-disagreement"),
        "{lines:#?}"
    );
    for (id, _) in &real {
        assert!(get(&dd.url, *id).await.is_none());
    }

    // Whatever an attacker signs, the forged message cannot execute with these attestors.
    let forged = ringfence_attest::attestation::attestation(
        route_id("lab"),
        1337,
        B256::repeat_byte(0xab),
        0,
        forged_id,
        ASSET,
        loot,
        attacker,
    );
    let e = deliver(&relayer, d.gateway, &forged, Vec::new())
        .await
        .expect_err("forged");
    assert!(e.contains("too few attestations"), "{e}");

    // The delay a legitimate transfer pays: blocks from the source event to the attestation.
    let delays: Vec<u64> = [&mut a, &mut c]
        .into_iter()
        .flat_map(|r| r.drain().to_vec())
        .filter(|l| l["kind"] == "attested")
        .filter_map(|l| l["delay_blocks"].as_u64())
        .collect();
    assert_eq!(delays.len(), 4);
    assert!(
        delays.iter().all(|d| *d >= 2),
        "confirmations = 2: {delays:?}"
    );
    eprintln!(
        "DELAY blocks from source event to attestation (confirmations = 2, 1 s blocks): {delays:?}"
    );
}
