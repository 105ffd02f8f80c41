//! `POST /api/stress`: a scenario in, the `ringfence stress --format json` body out, with the
//! waterfall of realized loss laid out for the dashboard.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use ringfence_stress::report::Report;
use ringfence_stress::{Dialect, StressRequest, System};

use crate::api::report_body;
use crate::body::{ErrorBody, StressResult};
use crate::error::ApiError;
use crate::openapi::{StressReportDoc, StressRequestDoc};
use crate::state::{AppState, Snapshot};

/// Parses a request body, saying what is wrong with it.
pub(crate) fn parse(body: &[u8]) -> Result<StressRequest, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest(
            "empty body: send a JSON scenario such as {\"fail\": [\"resolv-service-role\"]}".into(),
        ));
    }
    serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("invalid scenario: {e}")))
}

/// Runs the scenario exactly as `ringfence stress` does, after the same checks.
fn run(req: &StressRequest, snap: &Snapshot) -> Result<Report, ApiError> {
    let scenario = req.validate(&snap.model, Dialect::Api)?;
    let system = System::new(&snap.model).map_err(|e| ApiError::Unprocessable(e.to_string()))?;
    system
        .report(&scenario, &|_| {})
        .map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// `POST /api/stress`.
#[utoipa::path(
    post,
    path = "/api/stress",
    summary = "Run a stress scenario (`ringfence stress --format json`, plus `waterfall`: the chart of realized loss laid out as the HTML report draws it).",
    request_body = StressRequestDoc,
    responses(
        (status = 200, description = "The stress report.", body = StressReportDoc),
        (status = 400, description = "What is wrong with the scenario (unknown ids in `unknown`).", body = ErrorBody),
        (status = 422, description = "The spec cannot be stress-tested.", body = ErrorBody)
    )
)]
pub(crate) async fn stress(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let req = parse(&body)?;
    let snap = state.snapshot();
    let report = tokio::task::spawn_blocking(move || run(&req, &snap))
        .await
        .map_err(|e| ApiError::internal("stress task", e))??;
    state.metrics().stress_run();
    let waterfall = ringfence_stress::report::waterfall(&report.outcome);
    report_body(&StressResult { report, waterfall })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ringfence_stress::ClearingModel;

    #[test]
    fn bodies_parse_or_say_what_is_wrong() {
        let ok = parse(br#"{"fail": ["a", "org:b"], "clearing": "rv", "alpha": 0.5}"#);
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
            let e = parse(body).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(e.contains(want), "{:?}: {e}", String::from_utf8_lossy(body));
        }
    }

    proptest::proptest! {
        /// Any bytes: a request, or a 400 that says the body is empty or invalid; never a panic.
        #[test]
        fn any_body_parses_or_is_a_400(body in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            if let Err(e) = parse(&body) {
                proptest::prop_assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST);
                let m = e.to_string();
                proptest::prop_assert!(m.starts_with("invalid scenario") || m.starts_with("empty body"), "{}", m);
            }
        }

        /// A scenario written as JSON parses back to itself.
        #[test]
        fn written_scenarios_parse_back(
            fail in proptest::collection::vec("[a-z:-]{1,12}", 0..4),
            rv in proptest::bool::ANY,
            alpha in proptest::option::of(0.0f64..=1.0),
            monte_carlo in proptest::option::of(0usize..1_000_000),
            seed in proptest::option::of(proptest::num::u64::ANY),
            rank in proptest::bool::ANY,
        ) {
            let body = serde_json::json!({
                "fail": fail,
                "clearing": if rv { "rv" } else { "en" },
                "alpha": alpha,
                "monte_carlo": monte_carlo,
                "seed": seed,
                "rank": rank,
            });
            let want = StressRequest {
                fail,
                clearing: if rv { ClearingModel::Rv } else { ClearingModel::En },
                alpha,
                monte_carlo,
                seed,
                rank,
                ..StressRequest::default()
            };
            proptest::prop_assert_eq!(parse(body.to_string().as_bytes()).ok(), Some(want));
        }
    }
}
