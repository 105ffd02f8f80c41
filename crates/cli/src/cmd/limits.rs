//! `ringfence limits SPEC`: concentration policy breaches and their smallest fix.

use std::path::PathBuf;

use ringfence_exposure::{Closure, check_limits, exposure_report, lint, render};

use super::{CmdResult, Format, Outcome, Output, load};

/// Arguments of `limits`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The ecosystem spec: a TOML file, or a directory of *.toml files.
    spec: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    output: Output,
}

pub(crate) fn run(args: Args) -> CmdResult {
    let model = load(&args.spec)?;
    let closure = Closure::compute(&model);
    let report = check_limits(&model, &closure);
    match args.format {
        Format::Json => args.output.json(&report)?,
        Format::Table => args.output.write(&render::limits_table(&report))?,
        Format::Html => {
            let exposure = exposure_report(&model, &closure, None);
            let lint = lint(&model);
            args.output.write(&render::exposure_html(
                &model,
                &closure,
                &exposure,
                Some(&lint),
                Some(&report),
            ))?;
        }
    }
    Ok(if report.breaches.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Attention
    })
}
