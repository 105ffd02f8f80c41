//! Drives the fixtures of `examples/guard/ringfence-guard.toml` on two local anvil chains:
//!
//! ```text
//! cargo run -p ringfence-chain --example guard_demo -- deploy            # fresh chains only
//! cargo run -p ringfence-chain --example guard_demo -- benign
//! cargo run -p ringfence-chain --example guard_demo -- mint-attack       # Resolv
//! cargo run -p ringfence-chain --example guard_demo -- forged-release    # CrossCurve / Nomad
//! ```
//!
//! `SRC_RPC` / `DST_RPC` override http://127.0.0.1:8545 and :8546. Uses anvil's default accounts:
//! 0 deploys and administers, 1 is the guardian, 2 the compromised minter, 3 the relayer, 4 a user.

#![allow(missing_docs)]

use std::path::Path;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol;
use alloy::sol_types::SolValue;

sol! {
    #[sol(rpc)]
    interface IToken {
        function mint(address to, uint256 amount) external;
        function grantRole(bytes32 role, address account) external;
        function approve(address spender, uint256 amount) external returns (bool);
    }
    #[sol(rpc)]
    interface ILockbox {
        function lock(address token, uint256 amount, address recipient) external returns (bytes32 id);
    }
    #[sol(rpc)]
    interface IEndpoint {
        function release(bytes32 id, address token, uint256 amount, address recipient) external;
    }
}

const KEYS: [&str; 5] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
];

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// A receipt's block number as people read it.
fn block(n: Option<u64>) -> String {
    n.map_or_else(|| "(pending)".to_owned(), |n| n.to_string())
}

/// Why a call reverted, in words: the contract's reason string (`require(…, "paused")`) where
/// there is one, else the error itself.
fn reason(e: &alloy::contract::Error) -> String {
    e.as_revert_data()
        .and_then(|data| alloy::sol_types::decode_revert_reason(&data))
        .map_or_else(|| e.to_string(), |r| format!("\"{r}\""))
}

/// Waits up to 15 s for a chain to answer.
async fn wait_for(rpc: &str) -> Res<()> {
    let p = ProviderBuilder::new().connect_http(rpc.parse()?).erased();
    for _ in 0..150 {
        if p.get_chain_id().await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    Err(format!("no chain answers at {rpc}: start anvil first").into())
}

fn signer(i: usize) -> PrivateKeySigner {
    KEYS[i].parse().expect("anvil key")
}

fn at(rpc: &str, i: usize) -> Res<DynProvider> {
    Ok(ProviderBuilder::new()
        .wallet(signer(i))
        .connect_http(rpc.parse()?)
        .erased())
}

fn addr(s: &str) -> Address {
    s.parse().expect("address")
}

fn units(n: u64, d: u8) -> U256 {
    U256::from(n) * U256::from(10u8).pow(U256::from(d))
}

async fn deploy(p: &DynProvider, name: &str, args: Vec<u8>) -> Res<Address> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../../contracts/out/{name}.json"));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let mut code: Vec<u8> =
        alloy::primitives::hex::decode(v["bytecode"].as_str().unwrap_or_default())?;
    code.extend(args);
    let r = p
        .send_transaction(TransactionRequest::default().with_deploy_code(code))
        .await?
        .get_receipt()
        .await?;
    let a = r.contract_address.ok_or("no contract address")?;
    eprintln!("deployed {name} at {a}");
    Ok(a)
}

fn token_args(sym: &str, d: u8) -> Vec<u8> {
    (
        sym.to_owned(),
        sym.to_owned(),
        U256::from(d),
        signer(0).address(),
    )
        .abi_encode_params()
}

/// The two chains and the fixtures' addresses (deterministic: deployed by account 0 on fresh
/// chains).
struct Fixtures {
    src: String,
    dst: String,
    btc: Address,
    lockbox: Address,
    usdx: Address,
    wbtc: Address,
    endpoint: Address,
}

#[tokio::main]
async fn main() -> Res<()> {
    let src = std::env::var("SRC_RPC").unwrap_or_else(|_| "http://127.0.0.1:8545".into());
    let dst = std::env::var("DST_RPC").unwrap_or_else(|_| "http://127.0.0.1:8546".into());
    let (first, second) = (
        addr("0x5FbDB2315678afecb367f032d93F642f64180aa3"),
        addr("0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"),
    );
    // The first two contracts on each chain: BTC and the lockbox on the source, USDX and wBTC
    // on the destination, then its endpoint.
    let f = Fixtures {
        src,
        dst,
        btc: first,
        lockbox: second,
        usdx: first,
        wbtc: second,
        endpoint: addr("0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0"),
    };
    let mode = std::env::args().nth(1).unwrap_or_default();
    match mode.as_str() {
        "deploy" => deploy_fixtures(&f).await,
        "benign" => benign(&f).await,
        "mint-attack" => mint_attack(&f).await,
        "forged-release" => forged_release(&f).await,
        _ => {
            eprintln!("usage: guard_demo deploy | benign | mint-attack | forged-release");
            std::process::exit(2);
        }
    }
}

/// Deploys the tokens, the lockbox and the endpoint, funds the user and grants the roles.
async fn deploy_fixtures(f: &Fixtures) -> Res<()> {
    // The chains may have been started a moment ago (`anvil … &`): wait for them.
    for rpc in [&f.src, &f.dst] {
        wait_for(rpc).await?;
    }
    let s0 = at(&f.src, 0)?;
    let got = [
        deploy(&s0, "GuardedToken", token_args("BTC", 8)).await?,
        deploy(&s0, "Lockbox", vec![]).await?,
    ];
    assert_eq!(got, [f.btc, f.lockbox], "run `deploy` on fresh chains");
    IToken::new(f.btc, &s0)
        .mint(signer(4).address(), units(100, 8))
        .send()
        .await?
        .get_receipt()
        .await?;
    IToken::new(f.btc, &at(&f.src, 4)?)
        .approve(f.lockbox, U256::MAX)
        .send()
        .await?
        .get_receipt()
        .await?;
    let d0 = at(&f.dst, 0)?;
    deploy(&d0, "GuardedToken", token_args("USDX", 18)).await?;
    deploy(&d0, "GuardedToken", token_args("wBTC", 8)).await?;
    deploy(
        &d0,
        "BridgeEndpoint",
        (signer(3).address(), signer(1).address()).abi_encode_params(),
    )
    .await?;
    for (token, role, to) in [
        (f.wbtc, "MINTER_ROLE", f.endpoint),
        (f.usdx, "PAUSER_ROLE", signer(1).address()),
        (f.usdx, "MINTER_ROLE", signer(2).address()),
    ] {
        IToken::new(token, &d0)
            .grantRole(keccak256(role), to)
            .send()
            .await?
            .get_receipt()
            .await?;
    }
    eprintln!(
        "fixtures ready; guardian key: export RINGFENCE_GUARDIAN_KEY={}",
        KEYS[1]
    );
    Ok(())
}

/// A real lock and its release, and a small mint: nothing trips.
async fn benign(f: &Fixtures) -> Res<()> {
    let r = ILockbox::new(f.lockbox, &at(&f.src, 4)?)
        .lock(f.btc, units(1, 8), signer(4).address())
        .send()
        .await?
        .get_receipt()
        .await?;
    let id = r
        .inner
        .logs()
        .iter()
        .find(|l| l.address() == f.lockbox)
        .and_then(|l| l.topics().get(1).copied())
        .ok_or("no Locked log")?;
    eprintln!("locked 1 BTC, id {id}; releasing on the destination in 3 s");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    IEndpoint::new(f.endpoint, &at(&f.dst, 3)?)
        .release(id, f.wbtc, units(1, 8), signer(4).address())
        .send()
        .await?
        .get_receipt()
        .await?;
    IToken::new(f.usdx, &at(&f.dst, 2)?)
        .mint(signer(4).address(), units(1_000, 18))
        .send()
        .await?
        .get_receipt()
        .await?;
    eprintln!("released 1 wBTC and minted 1,000 USDX: nothing should trip");
    Ok(())
}

/// Resolv: the compromised minter mints 50M USDX, then tries 30M more after the guard's pause.
async fn mint_attack(f: &Fixtures) -> Res<()> {
    let minter = at(&f.dst, 2)?;
    let m = IToken::new(f.usdx, &minter);
    let r = m
        .mint(signer(2).address(), units(50_000_000, 18))
        .send()
        .await?
        .get_receipt()
        .await?;
    eprintln!("minted 50M USDX in block {}", block(r.block_number));
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    match m
        .mint(signer(2).address(), units(30_000_000, 18))
        .send()
        .await
    {
        Ok(_) => eprintln!("second mint went through: the guard did not stop it"),
        Err(e) => eprintln!("second mint (30M) reverted: {}", reason(&e)),
    }
    Ok(())
}

/// CrossCurve / Nomad: the relayer releases 50 wBTC that were never locked, then tries again.
async fn forged_release(f: &Fixtures) -> Res<()> {
    let relayer = at(&f.dst, 3)?;
    let e = IEndpoint::new(f.endpoint, &relayer);
    let r = e
        .release(
            B256::repeat_byte(0x66),
            f.wbtc,
            units(50, 8),
            signer(2).address(),
        )
        .send()
        .await?
        .get_receipt()
        .await?;
    eprintln!(
        "released 50 wBTC with no lock in block {}",
        block(r.block_number)
    );
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    match e
        .release(
            B256::repeat_byte(0x67),
            f.wbtc,
            units(50, 8),
            signer(2).address(),
        )
        .send()
        .await
    {
        Ok(_) => eprintln!("second forged release went through: the guard did not stop it"),
        Err(e) => eprintln!("second forged release reverted: {}", reason(&e)),
    }
    Ok(())
}
