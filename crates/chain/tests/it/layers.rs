//! Issue 12: the `privileged` rule knows the messaging layers' own configuration events. The
//! Sandbox OFT pattern — the attacker first becomes the OApp's delegate on the LayerZero
//! endpoint, then sets himself as the only DVN — must trip at the first step, through the very
//! path `ringfence watch` runs (ingest, decode, engine, store, actions).
//!
//! The endpoint and the ULN are played by a 17-byte log emitter installed with `anvil_setCode`
//! at the real mainnet addresses: it emits `LOG1(topic0 = calldata[0..32], data = the rest)`, so
//! each step is a real transaction whose log is exactly what EndpointV2 / ReceiveUln302 emit,
//! with no contract compiled for the test.

use std::time::Duration;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes, address};
use alloy::providers::Provider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol;
use alloy::sol_types::SolEvent;

use crate::harness::{
    Anvil, IToken, account, anvil, deploy_guarded_usdx, pause_toml, receipt, store_and_chains,
};
use crate::{Guard, wait_ingested};

sol! {
    // As declared in LayerZero-v2 ILayerZeroEndpointV2.sol and uln/UlnBase.sol.
    event DelegateSet(address sender, address delegate);
    struct UlnConfig {
        uint64 confirmations;
        uint8 requiredDVNCount;
        uint8 optionalDVNCount;
        uint8 optionalDVNThreshold;
        address[] requiredDVNs;
        address[] optionalDVNs;
    }
    event UlnConfigSet(address oapp, uint32 eid, UlnConfig config);
}

/// CALLDATACOPY the call data to memory, then LOG1(offset 32, size len-32, topic mload(0)).
const EMITTER: &str = "0x366000600037600051602036036020a100";
/// LayerZero EndpointV2 and ReceiveUln302 on Ethereum mainnet.
const ENDPOINT: Address = address!("0x1a44076050125825900e736c501f859c50fE728c");
const ULN302: Address = address!("0xc02Ab410f0734EFa3F14628780e6e695156024C2");

async fn emit(chain: &Anvil, to: Address, topic0: alloy::primitives::B256, data: Vec<u8>) -> u64 {
    let p = chain.as_account(3);
    let mut input = topic0.to_vec();
    input.extend(data);
    let tx = TransactionRequest::default()
        .with_to(to)
        .with_input(Bytes::from(input))
        .with_gas_limit(100_000);
    let pending = p.send_transaction(tx).await.expect("send");
    let r = receipt(&p, *pending.tx_hash()).await;
    assert!(r.status(), "emitter call reverted");
    assert_eq!(r.inner.logs().len(), 1, "one log per step");
    assert_eq!(r.inner.logs()[0].topics()[0], topic0);
    r.block_number.expect("block")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delegate_change_then_a_dvn_change_trips_at_the_delegate_change() {
    let chain = anvil(32_200, Some(1));
    let admin = chain.as_account(0);
    // The OApp whose route is being taken over; the guardian (account 1) may pause it.
    let oapp = deploy_guarded_usdx(&admin).await;
    for at in [ENDPOINT, ULN302] {
        let _: () = admin
            .raw_request("anvil_setCode".into(), (at, EMITTER))
            .await
            .expect("anvil_setCode");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("guard.db");
    // No `layers` key: every known layer's configuration events count.
    let config = store_and_chains(&db, &[("eth", &chain.http())])
        + &pause_toml("pause-oapp", "eth", oapp)
        + &format!(
            r#"[[rule]]
id = "lz-config"
kind = "privileged"
chain = "eth"
contracts = ["{ENDPOINT}", "{ULN302}"]
actions = ["pause-oapp"]
"#
        );
    let mut guard = Guard::start(&config);
    wait_ingested(&db, "eth", admin.get_block_number().await.expect("rpc")).await;

    // Step 1: the attacker (account 4) becomes the OApp's delegate.
    let attacker = account(4);
    let step1 = emit(
        &chain,
        ENDPOINT,
        DelegateSet::SIGNATURE_HASH,
        DelegateSet {
            sender: oapp,
            delegate: attacker,
        }
        .encode_data(),
    )
    .await;
    let trip = guard.next(15).await;
    assert_eq!(trip.rule, "lz-config");
    assert_eq!(trip.reason, "layer-config-changed");
    assert_eq!(trip.severity, ringfence_guard::Severity::Trip);
    assert_eq!(trip.block, step1, "the trip is located at the first step");
    assert_eq!(trip.evidence["layer"], "layerzero-v2");
    assert_eq!(trip.evidence["event"], "DelegateSet");
    assert_eq!(trip.evidence["signature"], "DelegateSet(address,address)");
    assert_eq!(
        trip.evidence["args"],
        serde_json::json!({ "sender": oapp, "delegate": attacker })
    );
    assert_eq!(trip.evidence["contract"], serde_json::json!(ENDPOINT));

    // The pause runs on that trip: the OApp is paused before the second step.
    let token = IToken::new(oapp, &admin);
    let start = std::time::Instant::now();
    while !token.paused().call().await.expect("call") {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "the OApp was not paused after the delegate change"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Step 2: himself as the only required DVN. Reported too, after the first.
    let step2 = emit(
        &chain,
        ULN302,
        UlnConfigSet::SIGNATURE_HASH,
        UlnConfigSet {
            oapp,
            eid: 30_101,
            config: UlnConfig {
                confirmations: 1,
                requiredDVNCount: 1,
                optionalDVNCount: 0,
                optionalDVNThreshold: 0,
                requiredDVNs: vec![attacker],
                optionalDVNs: vec![],
            },
        }
        .encode_data(),
    )
    .await;
    assert!(step2 > step1);
    let second = loop {
        let a = guard.next(15).await;
        if a.id != trip.id {
            break a;
        }
    };
    assert_eq!(second.block, step2);
    assert_eq!(second.evidence["event"], "UlnConfigSet");
    assert_eq!(
        second.evidence["args"],
        serde_json::json!({ "oapp": oapp, "eid": "30101" })
    );
    guard.stop().await;
}
