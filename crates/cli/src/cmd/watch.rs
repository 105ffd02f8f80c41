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
    /// Run as one member of a fleet on this NATS JetStream bus (`nats://HOST:PORT[,…]`):
    /// chains are ingested by whichever member holds their lease, every member judges every
    /// block, each alert is acted on by one member (README "Fleet: `watch --bus`").
    #[arg(long, value_name = "URLS", env = "RINGFENCE_BUS")]
    bus: Option<String>,
    /// With --bus: this member's id, unique in the fleet (default: host name and process id).
    #[arg(long, value_name = "ID", requires = "bus")]
    member: Option<String>,
    /// With --bus: this member's own SQLite store (default: the config's store path). Members
    /// on one host share the config, not the store.
    #[arg(long, value_name = "PATH", requires = "bus")]
    store: Option<PathBuf>,
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
    if let Some(urls) = args.bus {
        return fleet(&rt, spec, &args.config, urls, args.member, args.store);
    }
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

/// `watch --bus`: one fleet member.
fn fleet(
    rt: &tokio::runtime::Runtime,
    spec: Arc<ringfence_guard::GuardSpec>,
    config: &std::path::Path,
    urls: String,
    member: Option<String>,
    store: Option<PathBuf>,
) -> CmdResult {
    let bytes =
        std::fs::read(config).with_context(|| format!("cannot read {}", config.display()))?;
    let hash = ringfence_fleet::config_hash(&bytes);
    let id = member.unwrap_or_else(|| {
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "member".into());
        format!("{host}-{}", std::process::id())
    });
    let store = store.unwrap_or_else(|| spec.store.path.clone());
    let mut opts = ringfence_fleet::MemberOptions::new(urls, id, store);
    opts.stdout = true;
    // Three servers or more: three replicas, so the log survives a node's loss.
    opts.bus.replicas = opts
        .urls
        .split(',')
        .filter(|u| !u.trim().is_empty())
        .count()
        .min(3);
    if let Err(e) = ringfence_fleet::bus::parse_urls(&opts.urls) {
        eprintln!("{e}");
        return Err(Failure::Other(anyhow::anyhow!("bad --bus")));
    }
    rt.block_on(async {
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("interrupted: stopping");
        };
        ringfence_fleet::Member::new(spec, hash, opts)
            .run(shutdown)
            .await
    })
    .context("watch --bus failed")?;
    Ok(Outcome::Clean)
}
