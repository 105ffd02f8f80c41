//! The shared incident corpus (`corpus.json`): sourced timelines of real exploits. The lab reads
//! it to check that each scenario agrees with its incident (id, date, recorded loss) and to cite
//! its sources; it never writes it.

use std::path::Path;

use ringfence_model::{Diagnostic, Diagnostics};
use serde::Deserialize;

/// One incident of the corpus (the fields the lab uses; the rest is kept as JSON).
#[derive(Clone, Debug, Deserialize)]
pub struct CorpusIncident {
    /// Stable id, e.g. `nomad-2022-08`.
    pub id: String,
    /// Name.
    pub name: String,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Recorded loss in USD.
    pub loss_usd: f64,
    /// UTC time of the first malicious action.
    #[serde(default)]
    pub t0_utc: Option<String>,
    /// Seconds from the first malicious action to the first public detection, where known.
    #[serde(default)]
    pub detection_delay_s: Option<f64>,
    /// The timeline, as written.
    #[serde(default)]
    pub steps: Vec<serde_json::Value>,
    /// Sources of the timeline.
    #[serde(default)]
    pub sources: Vec<String>,
}

/// Reads `corpus.json`.
pub fn load(path: &Path) -> Result<Vec<CorpusIncident>, Diagnostics> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Diagnostics(vec![Diagnostic::file(
            path,
            format!("cannot read the corpus: {e}"),
            "point at the corpus the repository ships: data/incidents/corpus.json",
        )])
    })?;
    serde_json::from_str(&text).map_err(|e| {
        Diagnostics(vec![Diagnostic {
            file: path.to_owned(),
            line: e.line(),
            column: e.column(),
            entity: None,
            message: format!("invalid corpus JSON: {e}"),
            help: "the corpus is a JSON array of incidents with id, name, date and loss_usd"
                .to_owned(),
        }])
    })
}
