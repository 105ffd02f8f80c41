//! `ringfence`: measure and contain cross-chain infrastructure risk.
//!
//! One subcommand per question a risk team asks (see `ringfence --help`); each lives in its own
//! module under `cmd/`. Results go to stdout (a table, JSON, HTML or SARIF), talk and diagnostics
//! to stderr, so `ringfence … --format json | jq` always works.
//!
//! Exit codes: 0 — done, nothing to report; 1 — done, and the result needs attention (a policy
//! breach, a high or critical lint finding); 2 — bad input or usage (every problem is printed
//! with its file, line, entity and fix).

// Every dependency is used by the binary (tests and benches have their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// Measure and contain cross-chain DeFi infrastructure risk: which messaging layers, verifiers
/// and keys your assets really depend on, and what breaks when one fails.
#[derive(Debug, Parser)]
#[command(name = "ringfence", version, propagate_version = true)]
struct Cli {
    /// Log more (repeat for more detail); logs go to stderr. `RUST_LOG` overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

/// Each variant's command lives in `cmd/<name>.rs`.
#[derive(Debug, Subcommand)]
enum Command {
    /// Validate an ecosystem spec; print every problem with its location and fix.
    Check(cmd::check::Args),
    /// Which layers, verifiers, orgs, clouds and keys each asset and holder depends on.
    Exposure(cmd::exposure::Args),
    /// Concentration policy breaches and the smallest rebalancing that clears them.
    Limits(cmd::limits::Args),
    /// Dangerous infrastructure assumptions, each tied to the incident it echoes.
    Lint(cmd::lint::Args),
    /// Turn published data into a spec (`ringfence import ccip-directory|l2beat|hyperlane DIR -o SPEC`) or join specs (`ringfence import merge SPEC… -o SPEC`).
    Import(cmd::import::Args),
    /// What a failure does downstream: direct loss, contagion rounds, multiplier, ranking,
    /// reverse stress, Monte Carlo.
    Stress(cmd::stress::Args),
    /// Replay historical exploits on local anvil chains in six arms — no controls, the guard,
    /// on-chain limits, both, ringfence as a required verifier, all — the loss each prevents,
    /// the first trip, false trips and refusals on benign traffic.
    Replay(cmd::replay::Args),
    /// The JSON API and the web dashboard (and the live guard with `--guard`).
    Serve(cmd::serve::Args),
    /// Follow live EVM chains and trip circuit breakers (alerts, pause transactions) in the
    /// exploit's first block.
    Watch(cmd::watch::Args),
    /// Sign EIP-712 attestations only for messages whose source event a quorum of RPC
    /// endpoints confirmed: ringfence as a required verifier (k of n attestors).
    Attest(cmd::attest::Args),
    /// Gather, for one message, the attestors' signatures the verifier contract will accept (in
    /// its order), with the ABI-encoded arguments of `verify`/`deliver`: what a relayer sends.
    Collect(cmd::collect::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The replay lab runs the watch daemon and the attestors on its chains: their trips and the
    // lying endpoints they catch are the result (in the report), not warnings to print per
    // event, unless asked for with -v.
    let quiet_daemon = matches!(cli.command, Command::Replay(_));
    init_tracing(cli.verbose, quiet_daemon);
    let result = match cli.command {
        Command::Check(a) => cmd::check::run(a),
        Command::Exposure(a) => cmd::exposure::run(a),
        Command::Limits(a) => cmd::limits::run(a),
        Command::Lint(a) => cmd::lint::run(a),
        Command::Import(a) => cmd::import::run(a),
        Command::Stress(a) => cmd::stress::run(a),
        Command::Replay(a) => cmd::replay::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Watch(a) => cmd::watch::run(a),
        Command::Attest(a) => cmd::attest::run(a),
        Command::Collect(a) => cmd::collect::run(a),
    };
    cmd::finish(result)
}

fn init_tracing(verbose: u8, quiet_daemon: bool) {
    let default = match verbose {
        0 if quiet_daemon => "warn,ringfence_chain::watch=error,ringfence_quorum=error",
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    // RPC libraries log the full endpoint (API key included) in their spans: redact every URL.
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| ringfence_guard::secret::ScrubWriter(std::io::stderr()))
        .with_target(false)
        .init();
    // A panic message never shows a credential either.
    std::panic::set_hook(Box::new(|info| {
        let msg = ringfence_guard::secret::scrub_urls(&info.to_string()).into_owned();
        eprintln!("{msg}");
    }));
}
