//! `ringfence stress SPEC`: what a failure does to everything downstream — direct loss, every
//! round of contagion, the multiplier; the ranking of every single failure; reverse stress; Monte
//! Carlo over failure probabilities.

use std::path::PathBuf;

use anyhow::Context as _;
use ringfence_stress::report::{DebtRankRow, Report};
use ringfence_stress::{ClearingParams, StressParams, System};

use super::{CmdResult, Format, Outcome, Output, load};

/// Clearing model for protocol-to-protocol claims.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ClearingModel {
    /// Eisenberg–Noe (no default costs).
    En,
    /// Rogers–Veraart with default costs `--alpha`, `--beta`.
    Rv,
}

/// Arguments of `stress`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The ecosystem spec: a TOML file, or a directory of *.toml files.
    spec: PathBuf,
    /// A component that fails (repeatable): any component id, including `org:<name>` and
    /// `hosting:<name>`. Without it, the claims network is cleared as given.
    #[arg(long = "fail", value_name = "ID")]
    fail: Vec<String>,
    /// Clearing model.
    #[arg(long, value_enum, default_value_t = ClearingModel::En)]
    clearing: ClearingModel,
    /// Rogers–Veraart: share of external assets a defaulting protocol realises.
    #[arg(long, default_value_t = 1.0)]
    alpha: f64,
    /// Rogers–Veraart: share of claims a defaulting protocol realises.
    #[arg(long, default_value_t = 1.0)]
    beta: f64,
    /// DebtRank of each protocol defaulting alone (differential and single-hit).
    #[arg(long)]
    debtrank: bool,
    /// Rank every single-component failure by total damage.
    #[arg(long)]
    rank: bool,
    /// Find the smallest set of components whose joint failure exceeds this loss (USD).
    #[arg(long, value_name = "LOSS_USD")]
    reverse: Option<f64>,
    /// Monte Carlo over one year of failure probabilities: number of draws.
    #[arg(long = "monte-carlo", value_name = "N")]
    monte_carlo: Option<usize>,
    /// Monte Carlo seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    output: Output,
}

pub(crate) fn run(args: Args) -> CmdResult {
    let model = load(&args.spec)?;
    let system = System::new(&model).context("cannot prepare the spec for stress testing")?;
    let clearing = match args.clearing {
        ClearingModel::En => ClearingParams::eisenberg_noe(),
        ClearingModel::Rv => {
            ClearingParams::rogers_veraart(args.alpha, args.beta).map_err(anyhow::Error::from)?
        }
    };
    let params = StressParams {
        clearing,
        ..StressParams::default()
    };
    let failed = system.resolve(&args.fail).map_err(|e| {
        anyhow::anyhow!("{e}: name a chain, layer, verifier_set, operator or key id, or `org:<name>` / `hosting:<name>`")
    })?;
    let outcome = system.run(&failed, &params);
    let ranking = args.rank.then(|| system.rank(&params));
    let reverse = match args.reverse {
        Some(x) if !(x.is_finite() && x >= 0.0) => {
            return Err(anyhow::anyhow!("--reverse must be a non-negative amount in USD").into());
        }
        Some(x) => Some(system.reverse(x, &params)),
        None => None,
    };
    let monte_carlo = args.monte_carlo.map(|n| {
        let bar = indicatif::ProgressBar::new(n as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{bar:40} {pos}/{len} draws ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let mc = system.monte_carlo(n, args.seed, &params, &|done| bar.set_position(done as u64));
        bar.finish_and_clear();
        mc
    });
    let debtrank = if args.debtrank {
        let rows = system
            .debtrank_by_default(&params)
            .map_err(anyhow::Error::from)?;
        let ids: Vec<String> = model.protocols.iter().map(|p| p.id.clone()).collect();
        Some(
            rows.into_iter()
                .map(|(defaulted, h, add, single)| DebtRankRow {
                    defaulted,
                    h: ids.iter().cloned().zip(h).collect(),
                    additional_stress: add,
                    single_hit_additional_stress: single,
                })
                .collect(),
        )
    } else {
        None
    };
    let report = Report {
        outcome,
        clearing: match args.clearing {
            ClearingModel::En => "en".into(),
            ClearingModel::Rv => "rv".into(),
        },
        alpha: clearing.alpha,
        beta: clearing.beta,
        ranking,
        reverse,
        monte_carlo,
        debtrank,
    };
    match args.format {
        Format::Json => args.output.json(&report)?,
        Format::Table => args.output.write(&report.to_table())?,
        Format::Html => args.output.write(&report.to_html())?,
    }
    Ok(Outcome::Clean)
}
