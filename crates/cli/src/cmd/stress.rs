//! `ringfence stress SPEC`: what a failure does to everything downstream — direct loss, realized
//! loss and disrupted value with their multipliers, every round of contagion; the ranking of every
//! single failure; reverse stress; Monte Carlo over failure probabilities; P5/P50/P95 over the
//! spec's input ranges.

use std::path::PathBuf;

use anyhow::Context as _;
use ringfence_stress::{ClearingModel, Dialect, StressParams, StressRequest, System};

use super::{CmdResult, Format, Outcome, Output, Rows, load};

/// Arguments of `stress`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The ecosystem spec: a TOML file, or a directory of *.toml files.
    spec: PathBuf,
    /// More protocols, from CSV (`id,kind,chain,…`; see the README), added to the spec's.
    #[arg(long, value_name = "CSV")]
    protocols: Option<PathBuf>,
    /// More protocol-to-protocol claims, from CSV (`debtor,creditor,amount_usd`).
    #[arg(long, value_name = "CSV")]
    claims: Option<PathBuf>,
    /// A component that fails (repeatable): any component id, including `org:<name>` and
    /// `hosting:<name>`. Without it, the claims network is cleared as given.
    #[arg(long = "fail", value_name = "ID")]
    fail: Vec<String>,
    /// Clearing model: `en` (Eisenberg–Noe, no default costs) or `rv` (Rogers–Veraart, with
    /// default costs `--alpha`, `--beta`).
    #[arg(long, value_name = "en|rv", default_value = "en", value_parser = parse_clearing)]
    clearing: ClearingModel,
    /// Rogers–Veraart only: share of external assets a defaulting protocol realises, in [0, 1]
    /// (default 1).
    #[arg(long)]
    alpha: Option<f64>,
    /// Rogers–Veraart only: share of claims a defaulting protocol realises, in [0, 1] (default 1).
    #[arg(long)]
    beta: Option<f64>,
    /// DebtRank of each protocol defaulting alone (differential and single-hit).
    #[arg(long)]
    debtrank: bool,
    /// Rank every single-component failure by total damage.
    #[arg(long)]
    rank: bool,
    /// Find the smallest set of components whose joint failure exceeds this loss (USD), among
    /// what a team can act on: keys, verifier sets, operators, orgs, hostings and layers.
    #[arg(long, value_name = "LOSS_USD")]
    reverse: Option<f64>,
    /// Let reverse stress search whole chains too.
    #[arg(long, requires = "reverse")]
    include_chains: bool,
    /// Monte Carlo over one year of failure probabilities: number of draws (1 to 10,000,000).
    #[arg(long = "monte-carlo", value_name = "N")]
    monte_carlo: Option<usize>,
    /// Sample the spec's input ranges (`[[range]]`) this many times (1 to 10,000,000) and report
    /// P5/P50/P95 of every headline figure and a tornado table.
    #[arg(long, value_name = "N")]
    uncertainty: Option<usize>,
    /// Fit the free parameters of a calibration file on its `fit` incident, then run its
    /// `validate` incidents with them, unchanged, and report every target against the model.
    #[arg(long, value_name = "FILE")]
    calibrate: Option<PathBuf>,
    /// Seed of Monte Carlo and uncertainty draws.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    rows: Rows,
    #[command(flatten)]
    output: Output,
}

/// Adds the CSV protocols and claims to the validated spec, row by row with the spec's checks.
fn with_tables(model: &mut ringfence_model::Model, args: &Args) -> Result<(), super::Failure> {
    let read = |path: &PathBuf| {
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let names = (
        args.protocols.as_ref().map(|p| p.display().to_string()),
        args.claims.as_ref().map(|p| p.display().to_string()),
    );
    let texts = (
        args.protocols.as_ref().map(read).transpose()?,
        args.claims.as_ref().map(read).transpose()?,
    );
    fn table<'a>(
        name: &'a Option<String>,
        text: &'a Option<Vec<u8>>,
    ) -> Option<ringfence_stress::columnar::Table<'a>> {
        Some(ringfence_stress::columnar::Table {
            label: name.as_deref()?,
            bytes: text.as_deref()?,
        })
    }
    let (protocols, claims) = ringfence_stress::columnar::add_tables(
        model,
        table(&names.0, &texts.0),
        table(&names.1, &texts.1),
    )
    .map_err(anyhow::Error::from)?;
    tracing::info!(protocols, claims, "tables read");
    Ok(())
}

fn parse_clearing(s: &str) -> Result<ClearingModel, ringfence_stress::RequestError> {
    s.parse()
}

/// The options as the request the server also takes, checked by the same rules.
fn request(args: &Args) -> StressRequest {
    StressRequest {
        fail: args.fail.clone(),
        clearing: args.clearing,
        alpha: args.alpha,
        beta: args.beta,
        rank: args.rank,
        reverse: args.reverse,
        include_chains: args.include_chains,
        monte_carlo: args.monte_carlo,
        uncertainty: args.uncertainty,
        seed: Some(args.seed),
        debtrank: args.debtrank,
    }
}

pub(crate) fn run(args: Args) -> CmdResult {
    let mut model = load(&args.spec)?;
    if args.protocols.is_some() || args.claims.is_some() {
        with_tables(&mut model, &args)?;
    }
    let system = System::new(&model).context("cannot prepare the spec for stress testing")?;
    let req = request(&args);
    if let Some(path) = &args.calibrate {
        let params = StressParams {
            clearing: req
                .clearing_params(Dialect::Cli)
                .map_err(anyhow::Error::from)?,
            ..StressParams::default()
        };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the calibration file {}", path.display()))?;
        let file = ringfence_stress::calibrate::CalibrationFile::from_toml(&text)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        let (report, _) = ringfence_stress::calibrate::calibrate(&model, &file, &params)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        match args.format {
            Format::Json => args.output.json(&report)?,
            Format::Table => args.output.write(&report.to_table())?,
            Format::Html => args.output.write(&report.to_html())?,
        }
        return Ok(Outcome::Clean);
    }
    let scenario = req
        .validate(&model, Dialect::Cli)
        .map_err(anyhow::Error::from)?;
    let total = args.monte_carlo.or(args.uncertainty).unwrap_or(0);
    let bar = indicatif::ProgressBar::new(total as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} draws ({per_sec}, eta {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    if total == 0 {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let mut report = system
        .report(&scenario, &|done| bar.set_position(done as u64))
        .map_err(anyhow::Error::from)?;
    bar.finish_and_clear();
    if args.rows.limit().is_some()
        && report.outcome.protocols.len() > ringfence_stress::report::LIST_EVERY_PROTOCOL_UP_TO
    {
        report.only_touched_protocols();
    }
    match args.format {
        Format::Json => args.output.json(&report)?,
        Format::Table => args.output.write(&report.to_table(args.rows.limit()))?,
        Format::Html => args.output.write(&report.to_html())?,
    }
    Ok(Outcome::Clean)
}
