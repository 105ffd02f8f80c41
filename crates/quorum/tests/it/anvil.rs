//! anvil from the npm package on a free loopback port, killed on drop, and a contract that
//! emits `Sent` logs (the lab's source, from the committed artifacts).

use std::path::{Path, PathBuf};

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol;

sol! {
    #[sol(rpc)]
    interface ILabSource {
        event Sent(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient);
        function setRoute(bytes32 asset, address token, bool burn_) external;
        function sendUnlocked(bytes32 id, bytes32 asset, uint256 amount, address recipient) external;
    }
}

pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) use ringfence_quorum::testing::Anvil;

/// A provider on `anvil` signing as its first development account.
pub(crate) fn deployer(anvil: &Anvil) -> DynProvider {
    let key: PrivateKeySigner =
        "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
            .parse()
            .expect("key");
    ProviderBuilder::new()
        .wallet(key)
        .connect_http(anvil.http().parse().expect("url"))
        .erased()
}

/// Deploys the lab's `LabSource` with one route and returns it.
pub(crate) async fn deploy_source(p: &DynProvider) -> Address {
    let path = repo().join("contracts/out/LabSource.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("artifact")).expect("json");
    let code: alloy::primitives::Bytes = v["bytecode"]
        .as_str()
        .expect("bytecode")
        .parse()
        .expect("hex");
    let tx = TransactionRequest::default().with_deploy_code(code);
    let r = p
        .send_transaction(tx)
        .await
        .expect("deploy")
        .get_receipt()
        .await
        .expect("receipt");
    let addr = r.contract_address.expect("address");
    ILabSource::new(addr, p)
        .setRoute(B256::repeat_byte(0xa5), Address::repeat_byte(1), false)
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("route");
    addr
}

/// Emits a `Sent` and returns its block number.
pub(crate) async fn emit_sent(p: &DynProvider, source: Address, id: u8, amount: u64) -> u64 {
    let r = ILabSource::new(source, p)
        .sendUnlocked(
            B256::repeat_byte(id),
            B256::repeat_byte(0xa5),
            U256::from(amount),
            Address::repeat_byte(7),
        )
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(r.status());
    r.block_number.expect("block")
}

pub(crate) fn sent_topic() -> B256 {
    use alloy::sol_types::SolEvent;
    ILabSource::Sent::SIGNATURE_HASH
}
