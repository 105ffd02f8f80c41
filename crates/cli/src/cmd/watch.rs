//! `ringfence watch CONFIG`: the live guard daemon. Alerts are JSON lines on stdout; logs go to
//! stderr; state (checkpoints, events, alerts) lives in the config's SQLite store.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;

use super::{CmdResult, Failure, Outcome};

/// Arguments of `watch`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The guard config (TOML): chains, tokens, bridges, actions, rules.
    config: PathBuf,
    /// Serve Prometheus metrics on this address, e.g. 127.0.0.1:9464.
    #[arg(long, value_name = "ADDR")]
    metrics: Option<SocketAddr>,
    /// Validate the config and exit.
    #[arg(long)]
    check: bool,
}

pub(crate) fn run(args: Args) -> CmdResult {
    let spec = match ringfence_guard::config::load(&args.config) {
        Ok(s) => Arc::new(s),
        Err(ringfence_guard::Error::Invalid(d)) => {
            eprintln!("{d}");
            return Err(Failure::Other(anyhow::anyhow!(
                "{}: invalid guard config",
                args.config.display()
            )));
        }
        Err(e) => return Err(Failure::Other(e.into())),
    };
    if args.check {
        eprintln!(
            "{}: ok — {} chains, {} tokens, {} bridges, {} actions, {} rules",
            args.config.display(),
            spec.chains.len(),
            spec.tokens.len(),
            spec.bridges.len(),
            spec.actions.len(),
            spec.rules.len()
        );
        return Ok(Outcome::Clean);
    }
    let rt = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let opts = ringfence_chain::WatchOptions {
        metrics: args.metrics,
        stdout: true,
        ..Default::default()
    };
    rt.block_on(async {
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("interrupted: stopping");
        };
        ringfence_chain::Watcher::new(spec, opts)
            .run(shutdown)
            .await
    })
    .context("watch failed")?;
    Ok(Outcome::Clean)
}
