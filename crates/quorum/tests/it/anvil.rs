//! anvil from the npm package on a free loopback port, killed on drop, and a contract that
//! emits `Sent` logs (the lab's source, from the committed artifacts).

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

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

/// One anvil chain, killed on drop.
pub(crate) struct Anvil {
    child: Child,
    pub(crate) port: u16,
}

impl Anvil {
    pub(crate) fn spawn() -> Self {
        let bin = repo().join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
        assert!(
            bin.exists(),
            "anvil not found at {}: run scripts/setup.sh",
            bin.display()
        );
        let port = std::net::TcpListener::bind(("127.0.0.1", 0))
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(bin)
            .args([
                "--port",
                &port.to_string(),
                "--host",
                "127.0.0.1",
                "--chain-id",
                "31337",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn anvil");
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "anvil did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port }
    }

    pub(crate) fn http(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(crate) fn ws(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    pub(crate) fn deployer(&self) -> DynProvider {
        let key: PrivateKeySigner =
            "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
                .parse()
                .expect("key");
        ProviderBuilder::new()
            .wallet(key)
            .connect_http(self.http().parse().expect("url"))
            .erased()
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
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
