//! `ringfence collect`: what a relayer runs before it delivers a message — asks the attestors
//! for their attestations of one message and prints the signatures the verifier contract will
//! accept (recovered under its EIP-712 domain, signers in its set, one per signer, ascending),
//! with the ABI-encoded `(attestation, signatures)` to append to `verify`'s or `deliver`'s
//! selector, and every answer it left out with the reason.

use std::io::Write as _;
use std::time::Duration;

use alloy::primitives::{Address, B256};
use anyhow::Context as _;
use serde_json::json;

use super::{CmdResult, Outcome};

/// Arguments of `collect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The message id (0x and 64 hex digits): the destination message's key.
    #[arg(long, value_parser = message_id)]
    id: B256,
    /// An attestor's base URL (`http://host:port`); repeat or separate with commas.
    #[arg(long = "attestor", value_delimiter = ',', required = true)]
    attestors: Vec<String>,
    /// The verifier contract (`RingfenceAttestationVerifier`) whose domain the signatures are
    /// checked under.
    #[arg(long, value_parser = address)]
    verifier: Address,
    /// The chain id of the verifier's chain (the destination).
    #[arg(long)]
    chain_id: u64,
    /// The verifier's attestor set: a signer outside it is left out (default: any signer).
    #[arg(long = "attestor-set", value_delimiter = ',', value_parser = address)]
    set: Vec<Address>,
    /// Signatures needed (the verifier's threshold): below it the command exits 1.
    #[arg(long, default_value_t = 1)]
    threshold: usize,
    /// Seconds to wait for each attestor.
    #[arg(long, default_value_t = 10)]
    timeout_s: u64,
}

fn message_id(s: &str) -> Result<B256, String> {
    s.trim().parse().map_err(|_| {
        format!("`{s}` is not a message id: write 0x followed by 64 hex digits (32 bytes)")
    })
}

fn address(s: &str) -> Result<Address, String> {
    s.trim()
        .parse()
        .map_err(|_| format!("`{s}` is not an address: write 0x followed by 40 hex digits"))
}

pub(crate) fn run(args: Args) -> CmdResult {
    let domain = ringfence_attest::attestation::domain(args.chain_id, args.verifier);
    let set = (!args.set.is_empty()).then_some(args.set.as_slice());
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let client = reqwest::Client::new();
    let c = rt.block_on(ringfence_attest::collect::collect(
        &client,
        &args.attestors,
        args.id,
        &domain,
        set,
        Duration::from_secs(args.timeout_s),
    ));
    let met = c.meets(args.threshold);
    let out = json!({
        "message_id": c.message_id,
        "threshold": args.threshold,
        "threshold_met": met,
        "attestation": c.attestation,
        "signatures": c.signatures,
        "args": c.args(),
        "not_attested": c.not_attested,
        "rejected": c.rejected,
    });
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "{}",
        serde_json::to_string_pretty(&out).context("JSON")?
    )
    .context("cannot write to stdout")?;
    if !met {
        eprintln!(
            "{} valid signature(s) for {}, {} needed: not enough to deliver",
            c.signatures.len(),
            c.message_id,
            args.threshold
        );
        return Ok(Outcome::Attention);
    }
    Ok(Outcome::Clean)
}
