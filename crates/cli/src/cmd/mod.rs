//! One module per subcommand, and what they share: loading a spec, choosing an output format,
//! writing the result, and turning outcomes into exit codes.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use ringfence_model::{Diagnostics, Model};

pub(crate) mod attest;
pub(crate) mod check;
pub(crate) mod collect;
pub(crate) mod exposure;
pub(crate) mod import;
pub(crate) mod limits;
pub(crate) mod lint;
pub(crate) mod replay;
pub(crate) mod serve;
pub(crate) mod stress;
pub(crate) mod watch;

/// How a command ended.
pub(crate) enum Outcome {
    /// Nothing needs attention.
    Clean,
    /// The result needs attention (breach, severe finding): exit 1.
    Attention,
}

/// Why a command failed: both exit 2.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The user's input has problems, each located.
    Input(Diagnostics),
    /// Anything else (an output file that cannot be written…).
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self::Other(e)
    }
}

impl From<Diagnostics> for Failure {
    fn from(d: Diagnostics) -> Self {
        Self::Input(d)
    }
}

pub(crate) type CmdResult = Result<Outcome, Failure>;

/// Prints a failure and maps the outcome to the process exit code.
pub(crate) fn finish(result: CmdResult) -> ExitCode {
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Attention) => ExitCode::from(1),
        Err(Failure::Input(d)) => {
            eprintln!("{d}");
            ExitCode::from(2)
        }
        Err(Failure::Other(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Loads and validates a spec file or directory.
pub(crate) fn load(path: &Path) -> Result<Model, Failure> {
    let _span = tracing::info_span!("load", path = %path.display()).entered();
    let model = Model::load(path)?;
    tracing::info!(
        assets = model.assets.len(),
        components = model.components.len(),
        "spec loaded"
    );
    Ok(model)
}

/// Output formats of the report commands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Aligned text for people.
    Table,
    /// JSON for programs (the documented contract).
    Json,
    /// One self-contained HTML page.
    Html,
}

/// How many rows the long sections of a text table show. A cut section always says how many rows
/// it left out.
#[derive(Debug, clap::Args)]
pub(crate) struct Rows {
    /// Show at most this many rows in each long section of a table.
    #[arg(long, value_name = "N", default_value_t = ringfence_exposure::render::TOP)]
    limit: usize,
    /// Show every row (overrides --limit).
    #[arg(long)]
    all: bool,
}

impl Rows {
    /// The row cap: `None` for every row.
    pub(crate) fn limit(&self) -> Option<usize> {
        (!self.all).then_some(self.limit)
    }
}

/// Where a report goes: a file, or stdout.
#[derive(Debug, clap::Args)]
pub(crate) struct Output {
    /// Write the report to this file instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub(crate) path: Option<PathBuf>,
}

impl Output {
    /// Writes `text` to the file or stdout.
    pub(crate) fn write(&self, text: &str) -> anyhow::Result<()> {
        match &self.path {
            Some(p) => {
                std::fs::write(p, text).with_context(|| format!("cannot write {}", p.display()))?;
                eprintln!("wrote {}", p.display());
            }
            None => {
                let mut out = std::io::stdout().lock();
                // A closed pipe (`| head`) is not an error worth reporting.
                match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                    Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                        return Err(e).context("cannot write to stdout");
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Writes a value as pretty JSON with a trailing newline.
    pub(crate) fn json(&self, value: &impl serde::Serialize) -> anyhow::Result<()> {
        let mut s = serde_json::to_string_pretty(value).context("cannot encode JSON")?;
        s.push('\n');
        self.write(&s)
    }
}
