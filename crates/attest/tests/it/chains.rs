//! anvil chains on free loopback ports and the compiled contracts.

use std::path::{Path, PathBuf};

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol;
use alloy::sol_types::SolValue;

sol! {
    #[sol(rpc)]
    #[derive(Debug)]
    interface IToken {
        function mint(address to, uint256 amount) external;
        function grantRole(bytes32 role, address account) external;
        function approve(address spender, uint256 amount) external returns (bool);
        function balanceOf(address who) external view returns (uint256);
    }

    #[sol(rpc)]
    #[derive(Debug)]
    interface ISource {
        event Sent(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient);
        function setRoute(bytes32 asset, address token, bool burn_) external;
        function send(bytes32 id, bytes32 asset, uint256 amount, address recipient) external;
    }

    #[derive(Debug)]
    struct Attestation {
        bytes32 routeId;
        uint256 srcChainId;
        bytes32 srcTxHash;
        uint256 srcLogIndex;
        bytes32 messageId;
        bytes32 asset;
        uint256 amount;
        address recipient;
    }

    #[sol(rpc)]
    #[derive(Debug)]
    interface IVerifier {
        function digest(Attestation calldata a) external view returns (bytes32);
        function verify(Attestation calldata a, bytes[] calldata signatures) external view returns (bool);
        function proposeAttestorSet(address[] calldata attestors_, uint256 threshold_) external;
        function executeAttestorSet() external;
        function threshold() external view returns (uint256);
        function isAttestor(address a) external view returns (bool);
    }

    #[sol(rpc)]
    #[derive(Debug)]
    interface IGateway {
        event Requested(bytes32 indexed id, bytes32 asset, uint256 amount, address recipient);
        function setRoute(bytes32 asset, address token, bool mints) external;
        function request(bytes32 id, bytes32 asset, uint256 amount, address recipient) external;
        function deliver(Attestation calldata a, bytes[] calldata signatures) external;
        function delivered(bytes32 id) external view returns (bool);
    }
}

/// anvil's default accounts: 0 deployer/admin, 1 relayer, 2 user.
pub(crate) const KEYS: [&str; 3] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
];

/// Attestor keys (not anvil accounts: attestors hold no funds).
pub(crate) const ATTESTOR_KEYS: [&str; 4] = [
    "0x1111111111111111111111111111111111111111111111111111111111111111",
    "0x2222222222222222222222222222222222222222222222222222222222222222",
    "0x3333333333333333333333333333333333333333333333333333333333333333",
    "0x4444444444444444444444444444444444444444444444444444444444444444",
];

pub(crate) const ASSET: B256 = B256::repeat_byte(0xa5);

pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

pub(crate) use ringfence_quorum::testing::Anvil;

/// A provider on `anvil` signing as development account `i`.
pub(crate) fn as_account(anvil: &Anvil, i: usize) -> DynProvider {
    let key: PrivateKeySigner = KEYS[i].parse().expect("key");
    ProviderBuilder::new()
        .wallet(key)
        .connect_http(anvil.http().parse().expect("url"))
        .erased()
}

pub(crate) fn account(i: usize) -> Address {
    KEYS[i].parse::<PrivateKeySigner>().expect("key").address()
}

pub(crate) async fn deploy(p: &DynProvider, name: &str, args: Vec<u8>) -> Address {
    let path = repo().join(format!("contracts/out/{name}.json"));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("artifact")).expect("json");
    let mut code = v["bytecode"]
        .as_str()
        .expect("bytecode")
        .parse::<Bytes>()
        .expect("hex")
        .to_vec();
    code.extend(args);
    let tx = TransactionRequest::default().with_deploy_code(code);
    let r = p
        .send_transaction(tx)
        .await
        .expect("deploy")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(r.status(), "deploy {name} reverted");
    r.contract_address.expect("address")
}

pub(crate) async fn deploy_token(p: &DynProvider, symbol: &str) -> Address {
    let args = (
        symbol.to_owned(),
        symbol.to_owned(),
        U256::from(18u8),
        account(0),
    )
        .abi_encode_params();
    deploy(p, "GuardedToken", args).await
}

pub(crate) async fn grant_minter(p: &DynProvider, token: Address, to: Address) {
    let r = IToken::new(token, p)
        .grantRole(keccak256("MINTER_ROLE"), to)
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("grant");
    assert!(r.status());
}

/// The destination side: a verifier with `attestors` and `k`, and a gateway minting a token.
pub(crate) struct Destination {
    pub(crate) verifier: Address,
    pub(crate) gateway: Address,
    pub(crate) token: Address,
}

pub(crate) async fn deploy_destination(
    p: &DynProvider,
    attestors: &[Address],
    k: u64,
    delay: u64,
    route: B256,
    src_chain_id: u64,
) -> Destination {
    let args = (attestors.to_vec(), U256::from(k), account(0), delay).abi_encode_params();
    let verifier = deploy(p, "RingfenceAttestationVerifier", args).await;
    let args = (verifier, route, U256::from(src_chain_id), account(0)).abi_encode_params();
    let gateway = deploy(p, "RingfenceAttestedGateway", args).await;
    let token = deploy_token(p, "wUSD").await;
    grant_minter(p, token, gateway).await;
    let r = IGateway::new(gateway, p)
        .setRoute(ASSET, token, true)
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("route");
    assert!(r.status());
    Destination {
        verifier,
        gateway,
        token,
    }
}

/// The relayer's request on the destination gateway; returns its block.
pub(crate) async fn request(
    p: &DynProvider,
    gateway: Address,
    id: B256,
    amount: U256,
    to: Address,
) -> u64 {
    let r = IGateway::new(gateway, p)
        .request(id, ASSET, amount, to)
        .send()
        .await
        .expect("send")
        .get_receipt()
        .await
        .expect("request");
    assert!(r.status(), "request reverted");
    r.block_number.expect("block")
}

pub(crate) fn to_sol(a: &ringfence_attest::Attestation) -> Attestation {
    Attestation {
        routeId: a.routeId,
        srcChainId: a.srcChainId,
        srcTxHash: a.srcTxHash,
        srcLogIndex: a.srcLogIndex,
        messageId: a.messageId,
        asset: a.asset,
        amount: a.amount,
        recipient: a.recipient,
    }
}

/// Submits a delivery; `Ok` when mined successfully, `Err(reason)` when it reverts.
pub(crate) async fn deliver(
    p: &DynProvider,
    gateway: Address,
    a: &ringfence_attest::Attestation,
    sigs: Vec<Bytes>,
) -> Result<(), String> {
    let g = IGateway::new(gateway, p);
    let call = g.deliver(to_sol(a), sigs).gas(1_000_000);
    // eth_call first for the revert reason, then the real transaction (fixed gas, no estimate).
    if let Err(e) = call.call().await {
        return Err(e.to_string());
    }
    match call.send().await {
        Err(e) => Err(e.to_string()),
        Ok(pending) => {
            let r = pending.get_receipt().await.map_err(|e| e.to_string())?;
            if r.status() {
                Ok(())
            } else {
                Err("reverted".into())
            }
        }
    }
}
