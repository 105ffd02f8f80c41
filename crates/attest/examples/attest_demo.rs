//! The attestor demo on two local anvil chains (source on 8545 with chain id 1, destination on
//! 8546 with chain id 10), matching `examples/attest/ringfence-attest.toml`:
//!
//! - `deploy`: the lab's source (a token locked by `LabSource`) and, on the destination, a 2-of-3
//!   `RingfenceAttestationVerifier` over the three demo attestor keys and a
//!   `RingfenceAttestedGateway` minting wUSD.
//! - `benign`: a user locks 1,000 USD; the relayer requests the delivery, collects attestations
//!   from the attestors' HTTP services and delivers with two of them.
//! - `forged`: the relayer requests a 10,000,000 wUSD delivery that no source event backs; no
//!   attestor signs it and the delivery reverts.
//!
//! Other ports: `RINGFENCE_DEMO_PORTS=SRC,DST`. Attestor URLs: `RINGFENCE_ATTESTORS` (comma-separated, default the demo's three on
//! 127.0.0.1:9470-9472). The demo keys are public test keys: never give them value.

use std::time::{Duration, Instant};

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolValue;
use ringfence_attest::attestation::route_id;

// The contracts' ABI, shared with the tests.
#[allow(dead_code)]
#[path = "../tests/it/abi.rs"]
mod abi;
use abi::*;

/// Sends a contract call and waits for its receipt; an error when it could not be sent or
/// reverted (`what` names it).
macro_rules! mined {
    ($call:expr, $what:expr) => {{
        let r = $call.send().await?.get_receipt().await?;
        if !r.status() {
            return Err(format!("{} reverted", $what).into());
        }
        r
    }};
}

/// anvil accounts: 0 deployer, 1 relayer, 2 user.
const KEYS: [&str; 3] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
];
/// The demo attestors' public test keys.
const ATTESTORS: [&str; 3] = [
    "0x1111111111111111111111111111111111111111111111111111111111111111",
    "0x2222222222222222222222222222222222222222222222222222222222222222",
    "0x3333333333333333333333333333333333333333333333333333333333333333",
];
const ASSET: B256 = B256::repeat_byte(0xa5);
/// Where `deploy` puts the contracts on fresh chains (deployer nonces 0-2).
const SOURCE: &str = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0";
const GATEWAY: &str = "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512";
const VERIFIER: &str = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const WUSD: &str = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0";

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Source and destination ports: `RINGFENCE_DEMO_PORTS` ("8545,8546" by default).
fn ports() -> (u16, u16) {
    let v = std::env::var("RINGFENCE_DEMO_PORTS").unwrap_or_default();
    let mut it = v.split(',').filter_map(|p| p.trim().parse().ok());
    (it.next().unwrap_or(8545), it.next().unwrap_or(8546))
}

fn provider(dst: bool, i: usize) -> Res<DynProvider> {
    let port = if dst { ports().1 } else { ports().0 };
    let key: PrivateKeySigner = KEYS[i].parse()?;
    Ok(ProviderBuilder::new()
        .wallet(key)
        .connect_http(format!("http://127.0.0.1:{port}").parse()?)
        .erased())
}

fn address(i: usize) -> Res<Address> {
    Ok(KEYS[i].parse::<PrivateKeySigner>()?.address())
}

async fn deploy(p: &DynProvider, name: &str, args: Vec<u8>) -> Res<Address> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../contracts/out/{name}.json"));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let mut code = v["bytecode"]
        .as_str()
        .ok_or("no bytecode")?
        .parse::<Bytes>()?
        .to_vec();
    code.extend(args);
    let r = p
        .send_transaction(TransactionRequest::default().with_deploy_code(code))
        .await?
        .get_receipt()
        .await?;
    Ok(r.contract_address.ok_or("no address")?)
}

async fn deploy_all() -> Res<()> {
    let (src, dst) = (provider(false, 0)?, provider(true, 0)?);
    let token_args = |s: &str| -> Res<Vec<u8>> {
        Ok((s.to_owned(), s.to_owned(), U256::from(18u8), address(0)?).abi_encode_params())
    };
    // Source: USD (nonce 0), a minter grant (1), LabSource (2).
    let usd = deploy(&src, "GuardedToken", token_args("USD")?).await?;
    let t = IToken::new(usd, &src);
    mined!(t.grantRole(keccak256("MINTER_ROLE"), address(0)?), "grant");
    let source = deploy(&src, "LabSource", Vec::new()).await?;
    let s = ISource::new(source, &src);
    mined!(s.setRoute(ASSET, usd, false), "route");
    let big = U256::from(10u64).pow(U256::from(30u64));
    mined!(t.mint(address(2)?, big), "mint");
    let user = provider(false, 2)?;
    mined!(IToken::new(usd, &user).approve(source, big), "approve");
    // Destination: verifier (nonce 0), gateway (1), wUSD (2).
    let attestors: Vec<Address> = ATTESTORS
        .iter()
        .map(|k| k.parse::<PrivateKeySigner>().map(|s| s.address()))
        .collect::<Result<_, _>>()?;
    let args = (attestors.clone(), U256::from(2u64), address(0)?, 3600u64).abi_encode_params();
    let verifier = deploy(&dst, "RingfenceAttestationVerifier", args).await?;
    let args = (verifier, route_id("lab"), U256::from(1u64), address(0)?).abi_encode_params();
    let gateway = deploy(&dst, "RingfenceAttestedGateway", args).await?;
    let wusd = deploy(&dst, "GuardedToken", token_args("wUSD")?).await?;
    let w = IToken::new(wusd, &dst);
    mined!(w.grantRole(keccak256("MINTER_ROLE"), gateway), "grant");
    let g = IGateway::new(gateway, &dst);
    mined!(g.setRoute(ASSET, wusd, true), "route");
    println!(
        "{}",
        serde_json::json!({"source": source, "usd": usd, "verifier": verifier, "gateway": gateway, "wusd": wusd, "attestors": attestors, "threshold": 2})
    );
    Ok(())
}

fn attestor_urls() -> Vec<String> {
    std::env::var("RINGFENCE_ATTESTORS")
        .unwrap_or_else(|_| {
            "http://127.0.0.1:9470,http://127.0.0.1:9471,http://127.0.0.1:9472".into()
        })
        .split(',')
        .map(|s| s.trim().to_owned())
        .collect()
}

/// Polls the attestors for `id` until `need` signatures the verifier accepts are gathered
/// (`ringfence_attest::collect`, what `ringfence collect` runs) or `wait` passes.
async fn collect(
    id: B256,
    need: usize,
    wait: Duration,
) -> Res<(Option<Attestation>, Vec<(Address, Bytes)>)> {
    let start = Instant::now();
    let client = reqwest::Client::new();
    let domain = ringfence_attest::attestation::domain(10, VERIFIER.parse()?);
    let set: Vec<Address> = ATTESTORS
        .iter()
        .map(|k| ringfence_attest::AttestorKey::from_hex("demo", k).map(|k| k.address()))
        .collect::<Result<_, _>>()?;
    loop {
        let got = ringfence_attest::collect::collect(
            &client,
            &attestor_urls(),
            id,
            &domain,
            Some(&set),
            Duration::from_secs(3),
        )
        .await;
        if got.meets(need) || start.elapsed() > wait {
            let sigs = got
                .signatures
                .into_iter()
                .map(|s| (s.signer, s.signature))
                .collect();
            return Ok((got.attestation.as_ref().map(to_sol), sigs));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn transfer(forged: bool) -> Res<()> {
    let relayer = provider(true, 1)?;
    let gateway: Address = GATEWAY.parse()?;
    let recipient = Address::repeat_byte(0x77);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_nanos();
    let id = keccak256(format!("demo {nanos}"));
    let tokens = if forged { 10_000_000u64 } else { 1_000 };
    let amount = U256::from(tokens) * U256::from(10u64).pow(U256::from(18u64));
    let mut source_block = None;
    if !forged {
        let user = provider(false, 2)?;
        let r = mined!(
            ISource::new(SOURCE.parse()?, &user).send(id, ASSET, amount, recipient),
            "lock"
        );
        source_block = r.block_number;
    }
    let g = IGateway::new(gateway, &relayer);
    mined!(g.request(id, ASSET, amount, recipient), "request");
    let started = Instant::now();
    let wait = Duration::from_secs(if forged { 15 } else { 60 });
    let (att, sigs) = collect(id, 2, wait).await?;
    let signers: Vec<Address> = sigs.iter().map(|(a, _)| *a).collect();
    let a = att.unwrap_or(Attestation {
        routeId: route_id("lab"),
        srcChainId: U256::from(1u64),
        srcTxHash: B256::ZERO,
        srcLogIndex: U256::ZERO,
        messageId: id,
        asset: ASSET,
        amount,
        recipient,
    });
    let call = g
        .deliver(a, sigs.into_iter().map(|(_, s)| s).collect())
        .gas(1_000_000);
    let outcome = match call.call().await {
        Err(e) => format!("reverted: {e}"),
        Ok(_) => {
            let r = call.send().await?.get_receipt().await?;
            if r.status() {
                "delivered".to_owned()
            } else {
                "reverted".to_owned()
            }
        }
    };
    let bal = IToken::new(WUSD.parse()?, &relayer)
        .balanceOf(recipient)
        .call()
        .await?;
    println!(
        "{}",
        serde_json::json!({
            "message_id": id, "forged": forged, "amount": amount.to_string(), "source_block": source_block,
            "attestors_signed": signers, "seconds_to_attestations": started.elapsed().as_secs_f64(),
            "delivery": outcome, "recipient_balance": bal.to_string(),
        })
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Res<()> {
    match std::env::args().nth(1).as_deref() {
        Some("deploy") => deploy_all().await,
        Some("benign") => transfer(false).await,
        Some("forged") => transfer(true).await,
        _ => Err("usage: attest_demo deploy | benign | forged".into()),
    }
}
