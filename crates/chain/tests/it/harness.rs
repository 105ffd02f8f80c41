//! Real chains for tests: anvil from the npm package, the compiled fixtures, funded accounts.

use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol;

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

/// anvil's default accounts.
pub(crate) const KEYS: [&str; 5] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", // 0 deployer / admin
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d", // 1 guardian
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a", // 2 compromised minter
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6", // 3 relayer
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a", // 4 user
];

pub(crate) fn account(i: usize) -> Address {
    signer(i).address()
}

fn signer(i: usize) -> PrivateKeySigner {
    KEYS[i].parse().expect("anvil key")
}

pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn anvil_bin() -> PathBuf {
    let p = repo().join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    assert!(
        p.exists(),
        "anvil not found at {}: run scripts/setup.sh",
        p.display()
    );
    p
}

/// One anvil chain on loopback, killed on drop.
pub(crate) struct Anvil {
    child: Child,
    pub(crate) port: u16,
    /// `--cache-path`: anvil never deletes the old states it writes there; removed on drop.
    _states: tempfile::TempDir,
}

impl Anvil {
    /// `block_time` None: mine on demand (automine).
    pub(crate) fn spawn(port: u16, chain_id: u64, block_time: Option<u64>) -> Self {
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
            "port {port} is taken (a leftover anvil?); the guard tests use 18500-18999"
        );
        let states = tempfile::Builder::new()
            .prefix("anvil-states")
            .tempdir()
            .expect("temporary folder");
        let mut cmd = Command::new(anvil_bin());
        cmd.arg("--cache-path").arg(states.path()).args([
            "--port",
            &port.to_string(),
            "--chain-id",
            &chain_id.to_string(),
            "--host",
            "127.0.0.1",
        ]);
        if let Some(t) = block_time {
            cmd.args(["--block-time", &t.to_string()]);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn anvil: run scripts/setup.sh");
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "anvil on port {port} did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            child,
            port,
            _states: states,
        }
    }

    pub(crate) fn http(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub(crate) fn ws(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// A provider signing as anvil account `i`.
    pub(crate) fn as_account(&self, i: usize) -> DynProvider {
        ProviderBuilder::new()
            .wallet(signer(i))
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

/// Bytecode of a compiled fixture from contracts/out.
pub(crate) fn bytecode(name: &str) -> Bytes {
    let path = repo().join(format!("contracts/out/{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: serde_json::Value = serde_json::from_str(&text).expect("artifact json");
    v["bytecode"]
        .as_str()
        .expect("bytecode")
        .parse()
        .expect("hex")
}

pub(crate) async fn deploy(p: &DynProvider, name: &str, args: Vec<u8>) -> Address {
    let mut code = bytecode(name).to_vec();
    code.extend(args);
    let tx = TransactionRequest::default().with_deploy_code(code);
    let pending = p.send_transaction(tx).await.expect("deploy");
    let r = receipt(p, *pending.tx_hash()).await;
    assert!(r.status(), "deploy {name} reverted");
    r.contract_address.expect("address")
}

pub(crate) async fn deploy_token(
    p: &DynProvider,
    symbol: &str,
    decimals: u8,
    admin: Address,
) -> Address {
    use alloy::sol_types::SolValue;
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
) -> alloy::rpc::types::TransactionReceipt {
    IToken::new(token, admin)
        .grantRole(role(role_name), to)
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("grant")
}

pub(crate) fn role(name: &str) -> B256 {
    alloy::primitives::keccak256(name)
}

pub(crate) fn units(n: u64, decimals: u8) -> U256 {
    U256::from(n) * U256::from(10u8).pow(U256::from(decimals))
}

/// Waits for a transaction's receipt by polling.
pub(crate) async fn receipt(p: &DynProvider, tx: B256) -> alloy::rpc::types::TransactionReceipt {
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

pub(crate) async fn block_ts(p: &DynProvider, n: u64) -> u64 {
    p.get_block_by_number(n.into())
        .await
        .expect("rpc")
        .expect("block")
        .header
        .timestamp
}
