//! Real chains for tests: anvil (the workspace's harness, `ringfence_quorum::testing`), the
//! compiled fixtures, funded accounts, the bridge of the attack tests with its steps (lock,
//! release, forged release) and the guard-config fragments they share. The fleet's tests include
//! this file by path.

use std::path::Path;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::TransactionReceipt;
use alloy::sol;
use alloy::sol_types::{SolEvent, SolValue};

pub(crate) use ringfence_quorum::mined;

sol! {
    #[sol(rpc)]
    interface IToken {
        function mint(address to, uint256 amount) external;
        function grantRole(bytes32 role, address account) external;
        function approve(address spender, uint256 amount) external returns (bool);
        function paused() external view returns (bool);
        function totalSupply() external view returns (uint256);
        function balanceOf(address who) external view returns (uint256);
        function pause() external;
    }

    #[sol(rpc)]
    interface ILockbox {
        event Locked(bytes32 indexed id, address token, uint256 amount, address recipient);
        function lock(address token, uint256 amount, address recipient) external returns (bytes32 id);
    }

    #[sol(rpc)]
    interface IEndpoint {
        function release(bytes32 id, address token, uint256 amount, address recipient) external;
        function paused() external view returns (bool);
    }
}

/// The workspace's anvil harness; `Anvil::as_account(i)` signs as development account `i`:
/// 0 deployer / admin, 1 guardian, 2 compromised minter, 3 relayer, 4 user.
pub(crate) use ringfence_quorum::testing::{
    Anvil, DEV_KEYS as KEYS, block_timestamp as block_ts, deploy, dev_account as account, repo,
};

/// The guardian key's name in test configs.
pub(crate) const KEY_ENV: &str = "RINGFENCE_TEST_GUARDIAN_KEY";

/// A chain with `chain_id` on a free port, a block every `block_time` seconds (else automine).
pub(crate) fn anvil(chain_id: u64, block_time: Option<u64>) -> Anvil {
    Anvil::spawn(chain_id, block_time).unwrap_or_else(|e| panic!("anvil: {e}"))
}

pub(crate) async fn deploy_token(
    p: &DynProvider,
    symbol: &str,
    decimals: u8,
    admin: Address,
) -> Address {
    let args = (
        symbol.to_owned(),
        symbol.to_owned(),
        U256::from(decimals),
        admin,
    )
        .abi_encode_params();
    deploy(p, "GuardedToken", args).await
}

/// The pausable USDX of the mint tests: admin account 0, pauser (the guardian) account 1, minter
/// (the key an attacker compromises) account 2.
pub(crate) async fn deploy_guarded_usdx(admin: &DynProvider) -> Address {
    let usdx = deploy_token(admin, "USDX", 18, account(0)).await;
    for (r, who) in [("PAUSER_ROLE", 1), ("MINTER_ROLE", 2)] {
        grant(admin, usdx, r, account(who)).await;
    }
    usdx
}

/// Grants `role` on a GuardedToken and waits for the receipt.
pub(crate) async fn grant(
    admin: &DynProvider,
    token: Address,
    role_name: &str,
    to: Address,
) -> TransactionReceipt {
    mined!(
        IToken::new(token, admin).grantRole(role(role_name), to),
        "grant"
    )
}

pub(crate) fn role(name: &str) -> B256 {
    alloy::primitives::keccak256(name)
}

pub(crate) fn units(n: u64, decimals: u8) -> U256 {
    U256::from(n) * U256::from(10u8).pow(U256::from(decimals))
}

/// Waits for a transaction's receipt by polling.
pub(crate) async fn receipt(p: &DynProvider, tx: B256) -> TransactionReceipt {
    let start = Instant::now();
    loop {
        if let Ok(Some(r)) = p.get_transaction_receipt(tx).await {
            return r;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no receipt for {tx}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the guard's store at `db` has ingested `chain` up to `block`.
pub(crate) async fn wait_ingested(db: &Path, chain: &str, block: u64) {
    let start = Instant::now();
    loop {
        if let Ok(s) = ringfence_store::Store::open(db)
            && s.checkpoint(chain)
                .ok()
                .flatten()
                .is_some_and(|c| c.number >= block)
        {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "guard did not ingest {chain} block {block}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A lock-and-release bridge of wBTC between two chains: BTC (8 decimals) and a `Lockbox` on the
/// source, account 4 holding 100 BTC approved to the lockbox; wBTC and a `BridgeEndpoint` (relayer
/// account 3, guardian account 1) minting it on the destination.
pub(crate) struct Bridge {
    pub(crate) src: Anvil,
    pub(crate) dst: Anvil,
    pub(crate) btc: Address,
    pub(crate) lockbox: Address,
    pub(crate) wbtc: Address,
    pub(crate) endpoint: Address,
}

/// The `Locked` event of the source's lockbox, as guard configs name it.
pub(crate) const LOCKED: &str =
    "Locked(bytes32 indexed id, address token, uint256 amount, address recipient)";
/// The `Released` event of the destination's endpoint, as guard configs name it.
pub(crate) const RELEASED: &str =
    "Released(bytes32 indexed id, address token, uint256 amount, address recipient)";

/// Deploys a [`Bridge`] on two fresh chains (a block a second) with these chain ids.
pub(crate) async fn bridge(src_chain_id: u64, dst_chain_id: u64) -> Bridge {
    let src = anvil(src_chain_id, Some(1));
    let dst = anvil(dst_chain_id, Some(1));
    let s0 = src.as_account(0);
    let btc = deploy_token(&s0, "BTC", 8, account(0)).await;
    let lockbox = deploy(&s0, "Lockbox", vec![]).await;
    mined!(
        IToken::new(btc, &s0).mint(account(4), units(100, 8)),
        "mint"
    );
    mined!(
        IToken::new(btc, &src.as_account(4)).approve(lockbox, units(100, 8)),
        "approve"
    );
    let wbtc = deploy_token(&dst.as_account(0), "wBTC", 8, account(0)).await;
    let mut b = Bridge {
        src,
        dst,
        btc,
        lockbox,
        wbtc,
        endpoint: Address::ZERO,
    };
    b.endpoint = b.deploy_endpoint().await;
    b
}

impl Bridge {
    /// Another `BridgeEndpoint` minting wBTC on the destination.
    pub(crate) async fn deploy_endpoint(&self) -> Address {
        let d0 = self.dst.as_account(0);
        let args = (account(3), account(1)).abi_encode_params();
        let endpoint = deploy(&d0, "BridgeEndpoint", args).await;
        grant(&d0, self.wbtc, "MINTER_ROLE", endpoint).await;
        endpoint
    }

    /// Whether the (first) endpoint is paused.
    pub(crate) async fn paused(&self) -> bool {
        IEndpoint::new(self.endpoint, &self.dst.as_account(0))
            .paused()
            .call()
            .await
            .expect("paused()")
    }

    /// Waits until the guard's store at `db` has read both chains up to their heads.
    pub(crate) async fn wait_synced(&self, db: &Path) {
        for (id, chain) in [("dst", &self.dst), ("src", &self.src)] {
            let head = chain.as_account(0).get_block_number().await.expect("rpc");
            wait_ingested(db, id, head).await;
        }
    }
}

/// Account 4 locks 1 BTC in `lockbox` on `src` for itself: the receipt and the lock's id.
pub(crate) async fn lock_and_id(
    src: &Anvil,
    lockbox: Address,
    btc: Address,
) -> (TransactionReceipt, B256) {
    let r = mined!(
        ILockbox::new(lockbox, &src.as_account(4)).lock(btc, units(1, 8), account(4)),
        "lock"
    );
    let id = r
        .inner
        .logs()
        .iter()
        .find_map(|l| ILockbox::Locked::decode_log(&l.inner).ok())
        .expect("Locked log")
        .id;
    (r, id)
}

/// The relayer (account 3) releases `amount` wBTC of message `id` to `recipient` at `endpoint`.
pub(crate) async fn release(
    dst: &Anvil,
    endpoint: Address,
    wbtc: Address,
    id: B256,
    amount: U256,
    recipient: Address,
) -> TransactionReceipt {
    mined!(
        IEndpoint::new(endpoint, &dst.as_account(3)).release(id, wbtc, amount, recipient),
        "release"
    )
}

/// A release with no lock behind it: 50 wBTC of message `id` to the attacker (account 2).
pub(crate) async fn forged_release(
    dst: &Anvil,
    endpoint: Address,
    wbtc: Address,
    id: B256,
) -> TransactionReceipt {
    release(dst, endpoint, wbtc, id, units(50, 8), account(2)).await
}

/// `[store]` at `db` and a `[[chain]]` polled every 100 ms per `(id, rpc)`.
pub(crate) fn store_and_chains(db: &Path, chains: &[(&str, &str)]) -> String {
    let mut s = format!("\n[store]\npath = \"{}\"\n", db.display());
    for (id, rpc) in chains {
        s += &format!("[[chain]]\nid = \"{id}\"\nrpc = \"{rpc}\"\npoll_ms = 100\n");
    }
    s
}

/// A `[[token]]`, priced when `price_usd` is given.
pub(crate) fn token_toml(
    id: &str,
    chain: &str,
    address: Address,
    decimals: u8,
    price_usd: Option<&str>,
) -> String {
    let price = price_usd.map_or(String::new(), |p| format!("price_usd = {p}\n"));
    format!(
        "[[token]]\nid = \"{id}\"\nchain = \"{chain}\"\naddress = \"{address}\"\ndecimals = {decimals}\n{price}"
    )
}

/// An `[[action]]` `id` calling `pause()` on `contract` with the guardian key of [`KEY_ENV`].
pub(crate) fn pause_toml(id: &str, chain: &str, contract: Address) -> String {
    format!(
        "[[action]]\nid = \"{id}\"\nkind = \"pause\"\nchain = \"{chain}\"\ncontract = \"{contract}\"\ncall = \"pause()\"\nkey_env = \"{KEY_ENV}\"\n"
    )
}

/// A `[[bridge]]` `id` from `lockbox` on "src" to `endpoint` on "dst", matched on id, amount and
/// recipient.
pub(crate) fn bridge_toml(id: &str, lockbox: Address, endpoint: Address) -> String {
    format!(
        r#"[[bridge]]
id = "{id}"
source = {{ chain = "src", contract = "{lockbox}", event = "{LOCKED}" }}
destination = {{ chain = "dst", contract = "{endpoint}", event = "{RELEASED}" }}
match_on = ["id", "amount", "recipient"]
"#
    )
}

/// A `message-match` `[[rule]]` `id` on `bridge` (relay delay 3 s) running `actions`.
pub(crate) fn message_rule_toml(id: &str, bridge: &str, actions: &[&str]) -> String {
    format!(
        "[[rule]]\nid = \"{id}\"\nkind = \"message-match\"\nbridge = \"{bridge}\"\nrelay_delay_s = 3\n{}",
        actions_toml(actions)
    )
}

/// A `mint-rate` `[[rule]]` `id` on `token`: at most `max_amount` in `window_s`, running
/// `actions`.
pub(crate) fn mint_rate_toml(
    id: &str,
    token: &str,
    window_s: u64,
    max_amount: &str,
    actions: &[&str],
) -> String {
    format!(
        "[[rule]]\nid = \"{id}\"\nkind = \"mint-rate\"\ntoken = \"{token}\"\nwindow_s = {window_s}\nmax_amount = \"{max_amount}\"\n{}",
        actions_toml(actions)
    )
}

/// A `backing` `[[rule]]` `id`: wBTC backed by the BTC `lockbox` holds (relay delay 3 s),
/// running `actions`.
pub(crate) fn backing_rule_toml(id: &str, lockbox: Address, actions: &[&str]) -> String {
    format!(
        "[[rule]]\nid = \"{id}\"\nkind = \"backing\"\ntoken = \"wBTC\"\nbacking_token = \"BTC\"\nholder = \"{lockbox}\"\nrelay_delay_s = 3\n{}",
        actions_toml(actions)
    )
}

/// `actions = [...]`, or nothing for no action.
fn actions_toml(actions: &[&str]) -> String {
    if actions.is_empty() {
        return String::new();
    }
    let list: Vec<String> = actions.iter().map(|a| format!("\"{a}\"")).collect();
    format!("actions = [{}]\n", list.join(", "))
}

/// The bridge's guard config: both chains (the source read at `src_rpc`), both tokens at
/// $60,000, `wbtc-messages` (message-match, pausing the endpoint) and `wbtc-backing`.
pub(crate) fn bridge_config(b: &Bridge, db: &Path, src_rpc: &str) -> String {
    [
        store_and_chains(db, &[("src", src_rpc), ("dst", &b.dst.http())]),
        token_toml("BTC", "src", b.btc, 8, Some("60000")),
        token_toml("wBTC", "dst", b.wbtc, 8, Some("60000")),
        bridge_toml("wbtc", b.lockbox, b.endpoint),
        pause_toml("pause-bridge", "dst", b.endpoint),
        message_rule_toml("wbtc-messages", "wbtc", &["pause-bridge"]),
        backing_rule_toml("wbtc-backing", b.lockbox, &[]),
    ]
    .concat()
}
