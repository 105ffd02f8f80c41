//! `ringfence attest CONFIG`: run an attestor. It follows the source and destination chains
//! through an RPC quorum, signs an EIP-712 attestation for every destination message backed by a
//! confirmed source event, serves them at `GET /attestations/{message_id}`, and prints every
//! attestation, refusal and RPC disagreement as a JSON line on stdout (logs go to stderr).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;

use super::{CmdResult, Failure, Outcome};

/// Arguments of `attest`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The attestor config (TOML): `[attestor]`, chains (with several `rpc` endpoints and a
    /// `quorum`) and bridges.
    config: PathBuf,
    /// Validate the config and exit.
    #[arg(long)]
    check: bool,
}

pub(crate) fn run(args: Args) -> CmdResult {
    let cfg = match ringfence_attest::config::load(&args.config) {
        Ok(c) => c,
        Err(ringfence_attest::Error::Invalid(d)) => return Err(Failure::Input(d)),
        Err(e) => return Err(Failure::Other(e.into())),
    };
    if args.check {
        eprintln!(
            "{}: ok — {} route(s), {} chain(s), listening on {}",
            args.config.display(),
            cfg.routes.len(),
            cfg.chains.len(),
            cfg.listen
        );
        return Ok(Outcome::Clean);
    }
    let key = ringfence_attest::AttestorKey::from_env(&cfg.key_env).map_err(anyhow::Error::from)?;
    eprintln!(
        "attestor {} serving on http://{}",
        key.address(),
        cfg.listen
    );
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<serde_json::Value>();
        let printer = tokio::spawn(async move {
            while let Some(line) = rx.recv().await {
                let mut out = std::io::stdout().lock();
                if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                    break;
                }
            }
        });
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("interrupted: stopping");
        };
        let result = ringfence_attest::run::serve(&cfg, key, tx, shutdown).await;
        let _ = printer.await;
        result
    })
    .context("attestor failed")?;
    Ok(Outcome::Clean)
}
