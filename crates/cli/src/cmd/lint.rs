//! `ringfence lint SPEC`: findings on infrastructure assumptions.

use std::path::PathBuf;

use ringfence_exposure::{lint, render};

use super::{CmdResult, Outcome, Output, load};

/// Output formats of `lint`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LintFormat {
    /// Text for people.
    Table,
    /// JSON for programs.
    Json,
    /// SARIF 2.1.0 for code-scanning dashboards.
    Sarif,
}

/// Arguments of `lint`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The ecosystem spec: a TOML file, or a directory of *.toml files.
    spec: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = LintFormat::Table)]
    format: LintFormat,
    #[command(flatten)]
    output: Output,
}

pub(crate) fn run(args: Args) -> CmdResult {
    let model = load(&args.spec)?;
    let report = lint(&model);
    match args.format {
        LintFormat::Json => args.output.json(&report)?,
        LintFormat::Table => args.output.write(&render::lint_table(&report))?,
        LintFormat::Sarif => args.output.json(&render::lint_sarif(
            &report,
            &model,
            &args.spec.display().to_string(),
        ))?,
    }
    Ok(if report.has_high() {
        Outcome::Attention
    } else {
        Outcome::Clean
    })
}
