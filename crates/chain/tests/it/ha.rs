//! High availability: two guards on the same config and chain, each with its own guardian key
//! and store, as two hosts would run them.

use alloy::primitives::{Address, B256, keccak256};
use alloy::providers::Provider;
use alloy::sol;
use alloy::sol_types::SolValue;

use crate::harness::{
    KEYS, account, anvil, deploy, deploy_token, grant, mint_rate_toml, pause_toml, receipt,
    store_and_chains, token_toml, units,
};
use crate::{Guard, wait_ingested};

sol! {
    #[sol(rpc)]
    interface IGateway {
        function setRoute(bytes32 asset, address token, bool mints) external;
        function setGuardian(address account, bool enabled) external;
        function deliver(bytes32 id, bytes32 asset, uint256 amount, address recipient) external;
        function paused() external view returns (bool);
    }
}

fn config(db: &std::path::Path, rpc: &str, usdx: Address, gateway: Address) -> String {
    [
        store_and_chains(db, &[("dst", rpc)]),
        token_toml("USDX", "dst", usdx, 18, None),
        pause_toml("pause-gateway", "dst", gateway),
        mint_rate_toml(
            "usdx-mint-rate",
            "USDX",
            3600,
            "1000000",
            &["pause-gateway"],
        ),
    ]
    .concat()
}

/// Two guards on one config: the same trip with the same id in both stores, one pause from each
/// guardian (never more), both mined without reverting (`pause()` is idempotent), the gateway
/// paused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_guards_on_one_config_agree_and_pause_once_each() {
    let chain = anvil(19_320, Some(1));
    let admin = chain.as_account(0);
    let usdx = deploy_token(&admin, "USDX", 18, account(0)).await;
    let gateway = deploy(
        &admin,
        "LabGateway",
        (account(0), account(3)).abi_encode_params(),
    )
    .await;
    grant(&admin, usdx, "MINTER_ROLE", gateway).await;
    let gw = IGateway::new(gateway, &admin);
    let asset = keccak256("USDX");
    let r = gw.setRoute(asset, usdx, true).send().await.expect("send");
    assert!(receipt(&admin, *r.tx_hash()).await.status());
    // Guardian A is anvil account 1, guardian B account 2: one key per host.
    for g in [1, 2] {
        let r = gw.setGuardian(account(g), true).send().await.expect("send");
        assert!(receipt(&admin, *r.tx_hash()).await.status());
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let (db_a, db_b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    let mut a = Guard::start_with_key(&config(&db_a, &chain.http(), usdx, gateway), KEYS[1]);
    let mut b = Guard::start_with_key(&config(&db_b, &chain.ws(), usdx, gateway), KEYS[2]);
    let head = admin.get_block_number().await.expect("rpc");
    wait_ingested(&db_a, "dst", head).await;
    wait_ingested(&db_b, "dst", head).await;

    let relayer = chain.as_account(3);
    let r = IGateway::new(gateway, &relayer)
        .deliver(
            B256::repeat_byte(0x77),
            asset,
            units(5_000_000, 18),
            account(4),
        )
        .send()
        .await
        .expect("send");
    let mint = receipt(&relayer, *r.tx_hash()).await;
    assert!(mint.status());
    let (ta, tb) = (a.next(15).await, b.next(15).await);
    assert_eq!(ta.id, tb.id, "both guards name the trip alike");
    assert_eq!(
        (ta.reason.as_str(), ta.tx),
        ("window-exceeded", Some(mint.transaction_hash))
    );
    for t in [&ta, &tb] {
        let p = receipt(&admin, t.actions[0].tx.expect("pause sent")).await;
        assert!(p.status(), "the second pause is a no-op, not a revert");
    }
    assert!(gw.paused().call().await.expect("call"));
    // A few more blocks: nothing new from either, and one pause per guardian in all.
    let later = admin.get_block_number().await.expect("rpc") + 3;
    wait_ingested(&db_a, "dst", later).await;
    wait_ingested(&db_b, "dst", later).await;
    a.quiet(500).await;
    b.quiet(500).await;
    for g in [1, 2] {
        assert_eq!(
            admin.get_transaction_count(account(g)).await.expect("rpc"),
            1,
            "guardian {g} sent exactly one transaction"
        );
    }
    let ids = |db: &std::path::Path| -> Vec<String> {
        let s = ringfence_store::Store::open(db).expect("store");
        s.alerts()
            .expect("alerts")
            .into_iter()
            .map(|x| x.id)
            .collect()
    };
    assert_eq!(
        ids(&db_a),
        ids(&db_b),
        "the two stores hold the same alerts"
    );
    a.stop().await;
    b.stop().await;
}
