//! `ringfence collect` against three real attestor HTTP services (the attestor's own router on
//! loopback): two honest, one that signed another amount, and a fourth that is down.

use alloy::primitives::{Address, B256, U256};
use ringfence_attest::AttestorKey;
use ringfence_attest::attestation::{attestation, domain};
use ringfence_attest::store::{Record, Store};

use super::{json, run, stderr};

const KEYS: [&str; 3] = [
    "0x1111111111111111111111111111111111111111111111111111111111111111",
    "0x2222222222222222222222222222222222222222222222222222222222222222",
    "0x3333333333333333333333333333333333333333333333333333333333333333",
];

/// Serves an attestor that signed an attestation of message 7 with `amount` under key `k`.
async fn attestor(k: usize, amount: u64, verifier: Address) -> String {
    let key = AttestorKey::from_hex("T", KEYS[k]).expect("key");
    let a = attestation(
        B256::repeat_byte(1),
        1,
        B256::repeat_byte(2),
        0,
        B256::repeat_byte(7),
        B256::repeat_byte(3),
        U256::from(amount),
        Address::repeat_byte(9),
    );
    let signed = key.sign(&a, &domain(10, verifier)).expect("sign");
    let store = Store::memory().expect("store");
    store
        .insert(&Record {
            route: "lab".into(),
            attestation: a,
            signed,
            block: 1,
            timestamp: 1,
        })
        .expect("insert");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, ringfence_attest::service::router(store)).await;
    });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn collect_keeps_the_signatures_the_verifier_accepts_and_exits_1_below_the_threshold() {
    let verifier = Address::repeat_byte(0xaa);
    let urls = [
        attestor(0, 100, verifier).await,
        attestor(1, 100, verifier).await,
        attestor(2, 5_000_000, verifier).await, // signed another amount
        "http://127.0.0.1:9".to_owned(),        // down
    ];
    let set: Vec<String> = (0..3)
        .map(|k| {
            AttestorKey::from_hex("T", KEYS[k])
                .expect("key")
                .address()
                .to_string()
        })
        .collect();
    let args = |threshold: &str| {
        vec![
            "collect".to_owned(),
            "--id".into(),
            B256::repeat_byte(7).to_string(),
            "--attestor".into(),
            urls.join(","),
            "--verifier".into(),
            verifier.to_string(),
            "--chain-id".into(),
            "10".into(),
            "--attestor-set".into(),
            set.join(","),
            "--threshold".into(),
            threshold.into(),
            "--timeout-s".into(),
            "3".into(),
        ]
    };
    let go = |a: Vec<String>| {
        tokio::task::spawn_blocking(move || run(&a.iter().map(String::as_str).collect::<Vec<_>>()))
    };
    let o = go(args("2")).await.expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["threshold_met"], true);
    assert_eq!(v["attestation"]["amount"], "0x64");
    let mut want = vec![set[0].to_lowercase(), set[1].to_lowercase()];
    want.sort();
    let got: Vec<String> = v["signatures"]
        .as_array()
        .expect("signatures")
        .iter()
        .map(|s| s["signer"].as_str().expect("signer").to_lowercase())
        .collect();
    assert_eq!(got, want, "ascending, the two honest attestors");
    let rejected = v["rejected"].as_array().expect("rejected");
    assert!(
        rejected.iter().any(|r| r["attestor"] == urls[2]
            && r["reason"].as_str().is_some_and(|t| t.contains("differs")))
    );
    assert!(rejected.iter().any(|r| r["attestor"] == urls[3]));
    assert!(v["args"].as_str().is_some_and(|a| a.starts_with("0x")));

    // Three valid signatures are not there: exit 1, and it says why.
    let o = go(args("3")).await.expect("run");
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("2 valid signature(s)"),
        "{}",
        stderr(&o)
    );

    // A malformed id is a usage error.
    let mut bad = args("2");
    bad[2] = "0x1234".into();
    let o = go(bad).await.expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("`0x1234` is not a message id: write 0x followed by 64 hex digits"),
        "{}",
        stderr(&o)
    );
}
