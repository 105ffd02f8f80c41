//! `POST /api/stress`: a scenario in, the `ringfence stress --format json` body out.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use ringfence_stress::report::{Report, Scenario};
use ringfence_stress::{ClearingParams, StressParams, System};
use serde::Deserialize;

use crate::api::json_body;
use crate::error::ApiError;
use crate::state::{AppState, Snapshot};

/// Most Monte Carlo draws one request may ask for.
pub(crate) const MAX_DRAWS: usize = 100_000;
/// Most components one scenario may fail.
pub(crate) const MAX_FAILED: usize = 1_000;

/// Clearing model for protocol-to-protocol claims.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClearingModel {
    /// Eisenberg–Noe.
    #[default]
    En,
    /// Rogers–Veraart with default costs `alpha`, `beta`.
    Rv,
}

/// A stress scenario, the options of `ringfence stress` as JSON.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StressRequest {
    /// Components that fail jointly (any component id, `org:<name>`, `hosting:<name>`).
    #[serde(default)]
    pub fail: Vec<String>,
    /// `en` (default) or `rv`.
    #[serde(default)]
    pub clearing: ClearingModel,
    /// Rogers–Veraart α in [0, 1] (default 1).
    pub alpha: Option<f64>,
    /// Rogers–Veraart β in [0, 1] (default 1).
    pub beta: Option<f64>,
    /// Rank every single-component failure.
    #[serde(default)]
    pub rank: bool,
    /// Smallest set of components whose joint failure exceeds this loss, USD.
    pub reverse: Option<f64>,
    /// Monte Carlo draws (at most 100,000).
    pub monte_carlo: Option<usize>,
    /// Monte Carlo seed (default 1).
    pub seed: Option<u64>,
    /// DebtRank of each protocol defaulting alone.
    #[serde(default)]
    pub debtrank: bool,
    /// Reverse stress searches chains too (default: only keys, verifier sets, operators, orgs,
    /// hostings and layers).
    #[serde(default)]
    pub include_chains: bool,
}

impl StressRequest {
    /// Parses a request body, saying what is wrong with it.
    pub fn parse(body: &[u8]) -> Result<Self, ApiError> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::BadRequest(
                "empty body: send a JSON scenario such as {\"fail\": [\"resolv-service-role\"]}"
                    .into(),
            ));
        }
        serde_json::from_slice(body)
            .map_err(|e| ApiError::BadRequest(format!("invalid scenario: {e}")))
    }

    /// Checks ranges and ids against the model, naming every unknown component.
    fn validate(&self, snap: &Snapshot) -> Result<StressParams, ApiError> {
        if self.fail.len() > MAX_FAILED {
            return Err(ApiError::BadRequest(format!(
                "`fail` names {} components; at most {MAX_FAILED}",
                self.fail.len()
            )));
        }
        let unknown: Vec<String> = self
            .fail
            .iter()
            .filter(|id| snap.model.component(id).is_none())
            .cloned()
            .collect();
        if !unknown.is_empty() {
            return Err(ApiError::UnknownComponents(unknown));
        }
        if let Some(n) = self.monte_carlo
            && (n == 0 || n > MAX_DRAWS)
        {
            return Err(ApiError::BadRequest(format!(
                "`monte_carlo` must be between 1 and {MAX_DRAWS} draws, got {n}"
            )));
        }
        if let Some(x) = self.reverse
            && !(x.is_finite() && x >= 0.0)
        {
            return Err(ApiError::BadRequest(
                "`reverse` must be a non-negative amount in USD".into(),
            ));
        }
        let clearing = match self.clearing {
            ClearingModel::En => {
                if self.alpha.is_some() || self.beta.is_some() {
                    return Err(ApiError::BadRequest(
                        "`alpha` and `beta` apply to `\"clearing\": \"rv\"` only".into(),
                    ));
                }
                ClearingParams::eisenberg_noe()
            }
            ClearingModel::Rv => {
                ClearingParams::rogers_veraart(self.alpha.unwrap_or(1.0), self.beta.unwrap_or(1.0))
                    .map_err(|e| ApiError::BadRequest(e.to_string()))?
            }
        };
        Ok(StressParams {
            clearing,
            ..StressParams::default()
        })
    }

    /// Runs the scenario exactly as `ringfence stress` does.
    fn run(&self, snap: &Snapshot) -> Result<Report, ApiError> {
        let params = self.validate(snap)?;
        let system =
            System::new(&snap.model).map_err(|e| ApiError::Unprocessable(e.to_string()))?;
        let scenario = Scenario {
            fail: self.fail.clone(),
            params,
            rank: self.rank,
            reverse: self.reverse,
            monte_carlo: self.monte_carlo,
            seed: self.seed.unwrap_or(1),
            debtrank: self.debtrank,
            include_chains: self.include_chains,
            uncertainty: None,
        };
        system
            .report(&scenario, &|_| {})
            .map_err(|e| ApiError::BadRequest(e.to_string()))
    }
}

/// `POST /api/stress`.
pub(crate) async fn stress(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req = StressRequest::parse(&body)?;
    let snap = state.snapshot();
    let report = tokio::task::spawn_blocking(move || req.run(&snap))
        .await
        .map_err(|e| ApiError::internal("stress task", e))??;
    state.metrics().stress_run();
    json_body(&report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_parse_or_say_what_is_wrong() {
        let ok =
            StressRequest::parse(br#"{"fail": ["a", "org:b"], "clearing": "rv", "alpha": 0.5}"#);
        assert_eq!(
            ok.ok(),
            Some(StressRequest {
                fail: vec!["a".into(), "org:b".into()],
                clearing: ClearingModel::Rv,
                alpha: Some(0.5),
                ..StressRequest::default()
            })
        );
        let cases: [(&[u8], &str); 5] = [
            (b"", "empty body"),
            (b"{", "invalid scenario: EOF"),
            (br#"{"fial": []}"#, "unknown field `fial`"),
            (
                br#"{"fail": "a"}"#,
                "invalid type: string \"a\", expected a sequence",
            ),
            (br#"{"clearing": "xx"}"#, "unknown variant `xx`"),
        ];
        for (body, want) in cases {
            let e = StressRequest::parse(body)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(e.contains(want), "{:?}: {e}", String::from_utf8_lossy(body));
        }
    }
}
