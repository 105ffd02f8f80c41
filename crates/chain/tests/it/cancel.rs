//! The `cancel` action against the lab's gateway (contracts/src/LabBridge.sol): a forged delivery
//! above the delay threshold is queued, the guard trips on it, cancels it by the `queueId` of the
//! tripping `Delivered` event and pauses; the cancelled transfer can never be executed, while a
//! benign queued transfer is left alone and paid once its delay has passed.

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::{DynProvider, Provider};
use alloy::sol;
use alloy::sol_types::{SolEvent, SolValue};

use crate::harness::{
    IToken, KEY_ENV, account, anvil, deploy, deploy_token, grant, message_rule_toml, mined,
    pause_toml, receipt, store_and_chains, units,
};
use crate::{Guard, wait_ingested};

sol! {
    #[sol(rpc)]
    interface ILabSource {
        function setRoute(bytes32 asset, address token, bool burn_) external;
        function sendUnlocked(bytes32 id, bytes32 asset, uint256 amount, address recipient) external;
    }

    #[sol(rpc)]
    interface ILabGateway {
        event Delivered(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient, bytes32 queueId, bool queued);
        function setRoute(bytes32 asset, address token, bool mints) external;
        function setGuardian(address account, bool enabled) external;
        function configureDelay(bytes32 asset, uint256 threshold, uint64 delay) external;
        function deliver(bytes32 id, bytes32 asset, uint256 amount, address recipient) external;
        function execute(bytes32 queueId) external;
        function unpause() external;
        function paused() external view returns (bool);
        function queue(bytes32 queueId) external view returns (bytes32 key, address recipient, uint256 amount, uint64 readyAt, uint8 state);
    }
}

const DELAY_S: u64 = 3600;
/// `DelayQueue.State`.
const QUEUED: u8 = 1;
const CANCELLED: u8 = 3;

fn asset() -> B256 {
    keccak256("USDX")
}

/// Delivers a message as the relayer; returns (block, queueId, queued).
async fn deliver(gw: Address, relayer: &DynProvider, id: B256, amount: U256) -> (u64, B256, bool) {
    let r = mined!(
        ILabGateway::new(gw, relayer).deliver(id, asset(), amount, account(4)),
        "deliver"
    );
    assert!(r.status(), "deliver reverted");
    let d = r
        .inner
        .logs()
        .iter()
        .find_map(|l| ILabGateway::Delivered::decode_log(&l.inner).ok())
        .expect("Delivered");
    (r.block_number.expect("block"), d.queueId, d.queued)
}

async fn state(gw: Address, p: &DynProvider, q: B256) -> u8 {
    ILabGateway::new(gw, p)
        .queue(q)
        .call()
        .await
        .expect("queue")
        .state
}

// Kept long: the queue's life told in order (queue, trip, cancel, the real delivery executes, the forged one never does) on one pair of chains.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_queued_delivery_is_cancelled_and_never_paid() {
    let src = anvil(31_590, Some(1));
    let dst = anvil(31_591, Some(1));
    // Source: the lab's LabSource; `sendUnlocked` emits `Sent` without moving tokens, which is
    // all message matching looks at.
    let s0 = src.as_account(0);
    let source = deploy(&s0, "LabSource", vec![]).await;
    mined!(
        ILabSource::new(source, &s0).setRoute(asset(), Address::repeat_byte(1), false),
        "route"
    );
    // Destination: LabGateway minting USDX, guardian = account 1, relayer = account 3, transfers
    // above 1,000 USDX wait an hour.
    let d0 = dst.as_account(0);
    let usdx = deploy_token(&d0, "USDX", 18, account(0)).await;
    let gw = deploy(
        &d0,
        "LabGateway",
        (account(0), account(3)).abi_encode_params(),
    )
    .await;
    grant(&d0, usdx, "MINTER_ROLE", gw).await;
    let g = ILabGateway::new(gw, &d0);
    for call in [
        g.setRoute(asset(), usdx, true).into_transaction_request(),
        g.setGuardian(account(1), true).into_transaction_request(),
        g.configureDelay(asset(), units(1_000, 18), DELAY_S)
            .into_transaction_request(),
    ] {
        let r = d0
            .send_transaction(call)
            .await
            .expect("send")
            .get_receipt()
            .await
            .expect("setup");
        assert!(r.status(), "gateway setup reverted");
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("guard.db");
    let config = store_and_chains(&db, &[("src", &src.http()), ("dst", &dst.http())])
        + &format!(
            r#"[[bridge]]
id = "lab"
source = {{ chain = "src", contract = "{source}", event = "Sent(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient)" }}
destination = {{ chain = "dst", contract = "{gw}", event = "Delivered(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient, bytes32 queueId, bool queued)" }}
match_on = ["id", "asset", "amount", "recipient"]
[[action]]
id = "cancel-queued"
kind = "cancel"
chain = "dst"
contract = "{gw}"
call = "cancel(bytes32)"
arg = "queueId"
only_if = "queued"
key_env = "{KEY_ENV}"
"#
        )
        + &pause_toml("pause-gateway", "dst", gw)
        + &message_rule_toml("messages", "lab", &["cancel-queued", "pause-gateway"]);
    let mut guard = Guard::start(&config);
    wait_ingested(&db, "dst", d0.get_block_number().await.expect("rpc")).await;
    wait_ingested(&db, "src", s0.get_block_number().await.expect("rpc")).await;

    // A benign large transfer: sent at the source, delivered, queued. Nothing trips.
    let user = src.as_account(4);
    let benign_id = B256::repeat_byte(0x11);
    let r = mined!(
        ILabSource::new(source, &user).sendUnlocked(
            benign_id,
            asset(),
            units(5_000, 18),
            account(4)
        ),
        "sent"
    );
    wait_ingested(&db, "src", r.block_number.expect("block")).await;
    let relayer = dst.as_account(3);
    let (b, benign_q, queued) = deliver(gw, &relayer, benign_id, units(5_000, 18)).await;
    assert!(queued, "5,000 USDX is above the delay threshold");
    wait_ingested(&db, "dst", b + 1).await;
    guard.quiet(1_500).await;
    assert_eq!(state(gw, &d0, benign_q).await, QUEUED);

    // A forged delivery with no `Sent`: queued, then cancelled and paused in the next block.
    let (block, forged_q, queued) =
        deliver(gw, &relayer, B256::repeat_byte(0x66), units(9_000, 18)).await;
    assert!(queued);
    let trip = guard.next(10).await;
    assert_eq!(
        (trip.rule.as_str(), trip.reason.as_str(), trip.block),
        ("messages", "no-source", block)
    );
    let kinds: Vec<(&str, &str)> = trip
        .actions
        .iter()
        .map(|a| (a.kind.as_str(), a.status.as_str()))
        .collect();
    assert_eq!(kinds, [("cancel", "sent"), ("pause", "sent")], "{trip:?}");
    assert_eq!(trip.actions[0].arg, Some(forged_q));
    let cancel = receipt(&d0, trip.actions[0].tx.expect("cancel sent")).await;
    assert!(cancel.status(), "cancel reverted");
    assert_eq!(
        cancel.block_number,
        Some(block + 1),
        "the cancel must be mined in the next block"
    );
    let pause = receipt(&d0, trip.actions[1].tx.expect("pause sent")).await;
    assert!(pause.status());
    assert_eq!(state(gw, &d0, forged_q).await, CANCELLED);
    assert_eq!(
        state(gw, &d0, benign_q).await,
        QUEUED,
        "benign not cancelled"
    );

    // The store holds the outcome; the mined cancel is recorded once receipts are in.
    let start = std::time::Instant::now();
    loop {
        let stored = ringfence_store::Store::open(&db)
            .expect("store")
            .alert(&trip.id)
            .expect("query")
            .expect("stored");
        if stored.actions[0].status == "mined" {
            assert_eq!(stored.actions[0].tx, trip.actions[0].tx);
            assert_eq!(stored.actions[0].arg, Some(forged_q));
            break;
        }
        assert!(start.elapsed().as_secs() < 20, "{stored:?}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // Governance unpauses after the delay: the benign transfer is paid, the forged one never.
    let _: serde_json::Value = d0
        .raw_request("evm_increaseTime".into(), (DELAY_S + 1,))
        .await
        .expect("increaseTime");
    let r = mined!(g.unpause(), "unpause");
    assert!(r.status());
    // From an account of its own: a failed send may leave a cached nonce behind.
    let anyone = dst.as_account(4);
    let err = ILabGateway::new(gw, &anyone)
        .execute(forged_q)
        .send()
        .await
        .expect_err("a cancelled transfer must not execute");
    assert!(err.to_string().contains("not queued"), "{err}");
    let r = mined!(ILabGateway::new(gw, &d0).execute(benign_q), "execute");
    assert!(r.status(), "the benign queued transfer must be paid");
    let paid = IToken::new(usdx, &d0)
        .balanceOf(account(4))
        .call()
        .await
        .expect("balance");
    assert_eq!(paid, units(5_000, 18));
    guard.stop().await;
}
