//! anvil chains on free loopback ports (the workspace's harness) and the compiled contracts.

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::{DynProvider, Provider};
use alloy::sol_types::SolValue;

pub(crate) use crate::abi::*;

/// Attestor keys (not anvil accounts: attestors hold no funds).
pub(crate) const ATTESTOR_KEYS: [&str; 4] = [
    "0x1111111111111111111111111111111111111111111111111111111111111111",
    "0x2222222222222222222222222222222222222222222222222222222222222222",
    "0x3333333333333333333333333333333333333333333333333333333333333333",
    "0x4444444444444444444444444444444444444444444444444444444444444444",
];

pub(crate) const ASSET: B256 = B256::repeat_byte(0xa5);

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind(("127.0.0.1", 0))
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

pub(crate) use ringfence_quorum::mined;
pub(crate) use ringfence_quorum::testing::{
    Anvil, block_timestamp, deploy, dev_account as account,
};

/// The addresses of the first `n` attestor keys.
pub(crate) fn attestor_addresses(n: usize) -> Vec<Address> {
    ATTESTOR_KEYS[..n]
        .iter()
        .map(|k| {
            ringfence_attest::AttestorKey::from_hex("T", k)
                .expect("key")
                .address()
        })
        .collect()
}

/// The source side: USD (account 0 may mint), the lab's `LabSource` routing [`ASSET`] to it
/// by locking, and account 2 (the user) holding 10^30 USD approved to the source. Returns
/// (USD, the source).
pub(crate) async fn deploy_source(src: &Anvil) -> (Address, Address) {
    let (admin, user) = (src.as_account(0), src.as_account(2));
    let usd = deploy_token(&admin, "USD").await;
    grant_minter(&admin, usd, account(0)).await;
    let source = deploy(&admin, "LabSource", Vec::new()).await;
    let big = U256::from(10u64).pow(U256::from(30u64));
    for r in [
        mined!(
            ISource::new(source, &admin).setRoute(ASSET, usd, false),
            "route"
        ),
        mined!(IToken::new(usd, &admin).mint(account(2), big), "mint"),
        mined!(IToken::new(usd, &user).approve(source, big), "approve"),
    ] {
        assert!(r.status());
    }
    (usd, source)
}

/// The user (account 2) locks `amount` at the source for message `id` to `recipient`.
pub(crate) async fn lock(
    src: &Anvil,
    source: Address,
    id: B256,
    amount: U256,
    recipient: Address,
) -> alloy::rpc::types::TransactionReceipt {
    let r = mined!(
        ISource::new(source, &src.as_account(2)).send(id, ASSET, amount, recipient),
        "lock"
    );
    assert!(r.status(), "lock reverted");
    r
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
    let r = mined!(
        IToken::new(token, p).grantRole(keccak256("MINTER_ROLE"), to),
        "grant"
    );
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
    let r = mined!(
        IGateway::new(gateway, p).setRoute(ASSET, token, true),
        "route"
    );
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
    let r = mined!(
        IGateway::new(gateway, p).request(id, ASSET, amount, to),
        "request"
    );
    assert!(r.status(), "request reverted");
    r.block_number.expect("block")
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

/// Two automining chains (source 1337, destination 1338) with the lab's source contract and a
/// 2-of-3 destination (one-hour timelock) for route `lab`.
pub(crate) struct Lab {
    pub(crate) src: Anvil,
    pub(crate) dst: Anvil,
    pub(crate) source: Address,
    pub(crate) d: Destination,
}

/// Starts and deploys a [`Lab`].
pub(crate) async fn lab() -> Lab {
    let src = Anvil::spawn(1337, None).expect("anvil");
    let dst = Anvil::spawn(1338, None).expect("anvil");
    let (_, source) = deploy_source(&src).await;
    let addrs = attestor_addresses(3);
    let d = deploy_destination(
        &dst.as_account(0),
        &addrs,
        2,
        3600,
        ringfence_attest::attestation::route_id("lab"),
        1337,
    )
    .await;
    Lab {
        src,
        dst,
        source,
        d,
    }
}

/// Mines `n` empty blocks on the chain behind `p`.
pub(crate) async fn mine(p: &DynProvider, n: usize) {
    for _ in 0..n {
        p.raw_request::<_, serde_json::Value>("evm_mine".into(), ())
            .await
            .expect("mine");
    }
}
