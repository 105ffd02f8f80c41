//! `ringfence replay`: replays historical incidents on local anvil chains in six arms — no
//! controls, the off-chain guard, on-chain limits, both, ringfence as a required verifier, all —
//! and reports the loss each prevents.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use ringfence_lab::benign::{self, TrafficShape};
use ringfence_lab::report::{self, ReplayReport, Summary};
use ringfence_lab::{Policy, ReplayOptions, Scenario, StepKind};

use super::{CmdResult, Failure, Outcome, Output};

/// Output formats of `replay`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ReplayFormat {
    /// A Markdown table and the summary.
    Table,
    /// JSON (one report for a scenario; `{ replays, summary }` for several).
    Json,
}

/// Arguments of `replay`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// A scenario file (TOML).
    #[arg(required_unless_present_any = ["all", "benign", "synthetic"], conflicts_with = "all")]
    scenario: Option<PathBuf>,
    /// Replay every `*.toml` scenario in this directory.
    #[arg(long, value_name = "DIR")]
    all: Option<PathBuf>,
    /// Also replay DAYS of generated benign traffic and report false trips.
    #[arg(long, value_name = "DAYS")]
    benign: Option<u32>,
    /// Also replay N synthetic message-path attacks nobody has seen (seeded by --seed): random
    /// classes, sizes, splits, timing, poisoned RPCs and admin steps.
    #[arg(long, value_name = "N")]
    synthetic: Option<usize>,
    /// Seed of the benign traffic and the synthetic attacks.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Run only these arms (comma-separated; `no-controls`, the baseline, always runs):
    /// no-controls, guard, limits, guard-and-limits, verifier, all.
    #[arg(long, value_delimiter = ',', value_parser = parse_arm)]
    arms: Vec<ringfence_lab::runner::Arm>,
    /// The replay policy (default: the built-in examples/policy.toml).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReplayFormat::Json)]
    format: ReplayFormat,
    #[command(flatten)]
    output: Output,
}

fn parse_arm(s: &str) -> Result<ringfence_lab::runner::Arm, String> {
    let names: Vec<&str> = ringfence_lab::runner::ARMS
        .iter()
        .map(|a| a.name())
        .collect();
    ringfence_lab::runner::ARMS
        .into_iter()
        .find(|a| a.name() == s)
        .ok_or_else(|| format!("unknown arm `{s}`: the arms are {}", names.join(", ")))
}

pub(crate) fn run(args: Args) -> CmdResult {
    let policy = match &args.policy {
        Some(p) => Policy::load(p)?,
        None => Policy::default(),
    };
    let mut scenarios: Vec<Scenario> = Vec::new();
    if let Some(p) = &args.scenario {
        scenarios.push(Scenario::load(p)?);
    }
    if let Some(d) = &args.all {
        scenarios.extend(Scenario::load_dir(d)?);
    }
    if let Some(n) = args.synthetic {
        scenarios.extend(ringfence_lab::synthetic::generate(n, args.seed));
    }
    if let Some(days) = args.benign {
        if days == 0 || days > 365 {
            return Err(anyhow::anyhow!("--benign takes 1 to 365 days").into());
        }
        scenarios.extend(benign::generate(days, args.seed, &TrafficShape::default()));
    }
    let benign_steps: usize = scenarios
        .iter()
        .map(|s| {
            s.steps
                .iter()
                .filter(|x| x.kind == StepKind::Benign)
                .count()
        })
        .sum();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix:>34} {msg:16} {bar:30} {pos}/{len} blocks ({elapsed})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut reports: Vec<ReplayReport> = Vec::new();
    let n = scenarios.len();
    for (k, s) in scenarios.iter().enumerate() {
        bar.set_prefix(format!("[{}/{n}] {}", k + 1, s.incident.id));
        let b = bar.clone();
        let progress: ringfence_lab::runner::Progress = Arc::new(move |arm, done, total| {
            b.set_message(
                ringfence_lab::runner::ARMS
                    .get(arm)
                    .map_or("", |a| a.name())
                    .to_owned(),
            );
            b.set_length(total);
            b.set_position(done);
        });
        let opts = ReplayOptions {
            policy: policy.clone(),
            progress: Some(progress),
            arms: args.arms.clone(),
        };
        let r = rt
            .block_on(ringfence_lab::replay(s, &opts))
            .map_err(|e| match e {
                ringfence_lab::Error::Input(d) => Failure::Input(d),
                other => Failure::Other(
                    anyhow::Error::new(other)
                        .context(format!("replay of {} failed", s.incident.id)),
                ),
            })?;
        tracing::info!(incident = %r.incident, prevented = r.prevented_share, "replayed");
        reports.push(r);
    }
    bar.finish_and_clear();
    let summary = Summary::of(&reports, benign_steps);
    let single = scenarios.len() == 1;
    match args.format {
        ReplayFormat::Json if single => args.output.json(&reports[0])?,
        ReplayFormat::Json => args
            .output
            .json(&serde_json::json!({ "replays": reports, "summary": summary }))?,
        ReplayFormat::Table => {
            let mut text = report::table(&reports);
            text.push('\n');
            text.push_str(&report::summary_text(&summary));
            args.output.write(&text)?;
        }
    }
    Ok(if summary.false_trips > 0 {
        Outcome::Attention
    } else {
        Outcome::Clean
    })
}
