//! `ringfence exposure SPEC`: the counterparty exposure report.

use std::path::PathBuf;

use anyhow::anyhow;
use ringfence_exposure::{Closure, check_limits, exposure_report, lint, render};

use super::{CmdResult, Failure, Format, Outcome, Output, Rows, load};

/// Arguments of `exposure`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The ecosystem spec: a TOML file, or a directory of *.toml files.
    spec: PathBuf,
    /// Report for this holder (a protocol id) only: its holdings and every component it is
    /// exposed to.
    #[arg(long, value_name = "ID")]
    holder: Option<String>,
    #[command(flatten)]
    rows: Rows,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(flatten)]
    output: Output,
}

pub(crate) fn run(args: Args) -> CmdResult {
    let model = load(&args.spec)?;
    let holder = match &args.holder {
        None => None,
        Some(h) => Some(model.protocol(h).ok_or_else(|| {
            let known: Vec<&str> = model.protocols.iter().map(|p| p.id.as_str()).collect();
            let hint = ringfence_model::diag::closest(h, &known)
                .map(|k| format!("did you mean `{k}`? "))
                .unwrap_or_default();
            Failure::Other(anyhow!(
                "--holder `{h}` is not a protocol of {}; {hint}the protocols are: {}",
                args.spec.display(),
                known.join(", ")
            ))
        })?),
    };
    let closure = Closure::compute(&model);
    let report = exposure_report(&model, &closure, holder);
    match args.format {
        Format::Json => args.output.json(&report)?,
        Format::Table => args
            .output
            .write(&render::exposure_table(&report, args.rows.limit()))?,
        Format::Html => {
            let limits = check_limits(&model, &closure);
            let lint = lint(&model);
            args.output.write(&render::exposure_html(
                &model,
                &closure,
                &report,
                Some(&lint),
                Some(&limits),
            ))?;
        }
    }
    Ok(Outcome::Clean)
}
