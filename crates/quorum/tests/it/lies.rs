//! A liar among honest endpoints confirms nothing; liars that outnumber the quorum's margin halt
//! the reader; laggards and dead endpoints are not disagreements; URLs never leak.

use alloy::primitives::{Address, B256, Bytes, U256};
use ringfence_quorum::testing::{Lie, LyingProxy};
use ringfence_quorum::{Difference, LogQuery, Outcome, QuorumReader};

use crate::anvil::{Anvil, deploy_source, emit_sent, sent_topic};

fn forged_sent(source: Address, block: u64) -> Lie {
    // A `Sent` of 1,000,000 tokens to the attacker that the source contract never emitted.
    let mut data = vec![0u8; 96];
    data[..32].copy_from_slice(B256::repeat_byte(0xa5).as_slice());
    data[32..64].copy_from_slice(&U256::from(1_000_000u64).to_be_bytes::<32>());
    data[76..96].copy_from_slice(Address::repeat_byte(0xee).as_slice());
    Lie::InjectLog {
        block,
        address: source,
        topics: vec![sent_topic(), B256::repeat_byte(0x66)],
        data: Bytes::from(data),
    }
}

fn query(source: Address) -> LogQuery {
    LogQuery {
        addresses: vec![source],
        topics0: vec![sent_topic()],
    }
}

#[tokio::test]
async fn one_liar_confirms_nothing_and_the_honest_majority_confirms() {
    let anvil = Anvil::spawn(31337, None).expect("anvil");
    let p = anvil.as_account(0);
    let source = deploy_source(&p).await;
    let honest = LyingProxy::start(&anvil.http()).await.expect("proxy");
    let liar = LyingProxy::start(&anvil.http()).await.expect("proxy");
    // Endpoint 0 direct over websocket, 1 an honest proxy, 2 the liar.
    let reader = QuorumReader::new([anvil.ws(), honest.url(), liar.url()], None)
        .expect("reader")
        .report_after(3);
    assert_eq!(reader.quorum(), 2);
    let mut reported = false;
    for (i, lie) in ["inject", "drop", "rehash"].into_iter().enumerate() {
        let block = emit_sent(&p, source, 0x10 + i as u8, 500).await;
        liar.tell_the_truth();
        liar.lie(match lie {
            "inject" => forged_sent(source, block),
            "drop" => Lie::DropLogs { block },
            _ => Lie::OtherHash { block },
        });
        let out = reader.read_block(block, &query(source)).await;
        let Outcome::Confirmed(c) = out else {
            panic!("{lie}: {out:?}")
        };
        assert_eq!(c.logs.len(), 1, "{lie}: only the real Sent");
        assert_eq!(c.logs[0].topics[1], B256::repeat_byte(0x10 + i as u8));
        assert_eq!(c.agreeing, vec![anvil.ws(), honest.url()]);
        assert_eq!(c.dissenting.len(), 1, "{lie}");
        assert_eq!(c.dissenting[0].endpoint, liar.url());
        let expected = match lie {
            "inject" | "drop" => Difference::Logs { count: 1 },
            _ => Difference::Invalid {
                reason: "header does not hash to its block hash".into(),
            },
        };
        assert_eq!(c.differed, vec![expected], "{lie}");
        reported = c.dissenting[0].reported;
        // The header is the real one.
        let real = anvil_header_hash(&anvil, block).await;
        assert_eq!(c.header.hash, real);
    }
    assert!(reported, "three contradictions: the liar is reported");
    let counts = reader.disagreements();
    assert_eq!(counts[2], (liar.url(), 3));
    assert_eq!(counts[0].1 + counts[1].1, 0);
}

async fn anvil_header_hash(anvil: &Anvil, n: u64) -> B256 {
    use alloy::providers::Provider;
    anvil
        .as_account(0)
        .get_block_by_number(n.into())
        .await
        .expect("rpc")
        .expect("block")
        .header
        .hash
}

#[tokio::test]
async fn liars_in_the_majority_halt_the_reader() {
    let anvil = Anvil::spawn(31337, None).expect("anvil");
    let p = anvil.as_account(0);
    let source = deploy_source(&p).await;
    let block = emit_sent(&p, source, 0x21, 500).await;
    let a = LyingProxy::start(&anvil.http()).await.expect("proxy");
    let b = LyingProxy::start(&anvil.http()).await.expect("proxy");
    // Two liars telling different lies: no view has a quorum of 2.
    a.lie(forged_sent(source, block));
    b.lie(Lie::DropLogs { block });
    let reader = QuorumReader::new([anvil.http(), a.url(), b.url()], None).expect("reader");
    let out = reader.read_block(block, &query(source)).await;
    let Outcome::Disagreement {
        block: at,
        endpoints,
        differed,
    } = out
    else {
        panic!("{out:?}")
    };
    assert_eq!(at, block);
    assert_eq!(endpoints.len(), 3);
    assert!(differed.contains(&Difference::Logs { count: 1 }));

    // Two colluding liars telling the same lie, with a unanimous quorum (3 of 3): halt.
    b.tell_the_truth();
    b.lie(forged_sent(source, block));
    let strict = QuorumReader::new([anvil.http(), a.url(), b.url()], Some(3)).expect("reader");
    let out = strict.read_block(block, &query(source)).await;
    assert!(matches!(out, Outcome::Disagreement { .. }), "{out:?}");

    // The limit, pinned so that the README's claim stays true: with a 2-of-3 quorum, two
    // endpoints telling the same lie are indistinguishable from the truth and are believed.
    let out = reader.read_block(block, &query(source)).await;
    let Outcome::Confirmed(c) = out else {
        panic!("{out:?}")
    };
    assert_eq!(
        c.logs.len(),
        2,
        "the colluding majority's forged log is believed"
    );
    assert_eq!(c.dissenting[0].endpoint, anvil.http());
}

#[tokio::test]
async fn laggards_and_dead_endpoints_are_not_disagreements() {
    let anvil = Anvil::spawn(31337, None).expect("anvil");
    let p = anvil.as_account(0);
    let source = deploy_source(&p).await;
    let block = emit_sent(&p, source, 0x31, 500).await;
    let down = LyingProxy::start(&anvil.http()).await.expect("proxy");
    down.lie(Lie::Down);
    let secret = "http://operator:pa55w0rdXYZ@127.0.0.1:1/v2/APIKEY0123456789";
    let reader = QuorumReader::new([anvil.http(), down.url(), secret.to_owned()], None)
        .expect("reader")
        .with_timeout(std::time::Duration::from_secs(2));
    // One endpoint answers, one is down (503), one is unreachable: lagging, not a disagreement.
    let out = reader.read_block(block, &query(source)).await;
    let Outcome::Lagging {
        answered,
        need,
        down: dead,
        ..
    } = &out
    else {
        panic!("{out:?}")
    };
    assert_eq!((*answered, *need), (1, 2));
    assert_eq!(dead.len(), 2);
    // A block no endpoint has yet: lagging.
    down.tell_the_truth();
    let out2 = reader.read_block(block + 100, &query(source)).await;
    assert!(
        matches!(out2, Outcome::Lagging { answered: 0, .. }),
        "{out2:?}"
    );
    // The quorum head is the highest block two endpoints have.
    assert_eq!(reader.head().await, Some(block));
    // No secret in any output.
    let printed = format!(
        "{out:?} {out2:?} {reader:?} {} {:?}",
        serde_json::to_string(&out).expect("json"),
        reader.disagreements()
    );
    for s in ["pa55w0rdXYZ", "APIKEY0123456789", "operator"] {
        assert!(!printed.contains(s), "{s} leaked: {printed}");
    }
    assert!(printed.contains("http://127.0.0.1:1/…"));
    assert_eq!(reader.quorum(), 2);
}
