//! `GET /metrics`: Prometheus text exposition of the server, the loaded spec and the guard.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ringfence_exposure::Severity as LintSeverity;
use ringfence_guard::Severity;

use crate::state::AppState;

/// Counters of the server.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    /// `(method, route, status)` → count.
    requests: Mutex<BTreeMap<(String, String, u16), u64>>,
    reloads_ok: AtomicU64,
    reloads_failed: AtomicU64,
    stress_runs: AtomicU64,
    sse_clients: AtomicI64,
    trips_streamed: AtomicU64,
    alerts_streamed: AtomicU64,
}

impl Metrics {
    pub(crate) fn reloaded(&self, ok: bool) {
        let c = if ok {
            &self.reloads_ok
        } else {
            &self.reloads_failed
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn stress_run(&self) {
        self.stress_runs.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn sse_client(&self, delta: i64) {
        self.sse_clients.fetch_add(delta, Ordering::Relaxed);
    }

    pub(crate) fn alert_streamed(&self, severity: Severity) {
        let c = match severity {
            Severity::Trip => &self.trips_streamed,
            Severity::Alert => &self.alerts_streamed,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    fn request(&self, method: &str, route: &str, status: u16) {
        let mut m = match self.requests.lock() {
            Ok(m) => m,
            Err(p) => p.into_inner(),
        };
        *m.entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
    }
}

/// Counts every request by method, matched route (never the raw path) and status.
pub(crate) async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let resp = next.run(req).await;
    state
        .metrics()
        .request(&method, &route, resp.status().as_u16());
    resp
}

/// Escapes a Prometheus label value.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `GET /metrics`.
#[utoipa::path(
    get,
    path = "/metrics",
    summary = "Prometheus metrics: requests, reloads, stress runs, event streams, live trips, spec gauges (value at risk per component, breaches, lint findings).",
    responses((status = 200, description = "Prometheus text exposition 0.0.4.", content_type = "text/plain", body = String))
)]
pub(crate) async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(&state),
    )
        .into_response()
}

pub(crate) fn render(state: &AppState) -> String {
    let m = state.metrics();
    let snap = state.snapshot();
    let mut s = String::new();
    let mut metric = |name: &str, kind: &str, help: &str| {
        let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}");
    };
    metric(
        "ringfence_http_requests_total",
        "counter",
        "HTTP requests by method, route and status.",
    );
    {
        let reqs = match m.requests.lock() {
            Ok(r) => r.clone(),
            Err(p) => p.into_inner().clone(),
        };
        for ((method, route, status), n) in reqs {
            let _ = writeln!(
                s,
                "ringfence_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}",
                label(&method),
                label(&route)
            );
        }
    }
    let count = |a: &AtomicU64| a.load(Ordering::Relaxed).to_string();
    // One sample a row: name (a `_total` is a counter, the rest gauges), help, value.
    #[rustfmt::skip]
    let samples = [
        ("ringfence_spec_reloads_total", "Successful spec reloads.", count(&m.reloads_ok)),
        ("ringfence_spec_reload_failures_total", "Reloads refused because the spec on disk is invalid.", count(&m.reloads_failed)),
        ("ringfence_spec_generation", "Generation of the loaded spec (1 at start, +1 per reload).", snap.generation.to_string()),
        ("ringfence_stress_runs_total", "Stress scenarios run through the API.", count(&m.stress_runs)),
        ("ringfence_sse_clients", "Open server-sent event streams.", m.sse_clients.load(Ordering::Relaxed).to_string()),
        ("ringfence_guard_trips_streamed_total", "Trips the live guard raised since the server started.", count(&m.trips_streamed)),
        ("ringfence_guard_alerts_streamed_total", "Alerts (not trips) the live guard raised since the server started.", count(&m.alerts_streamed)),
        ("ringfence_total_value_usd", "Sum of every asset's value in the loaded spec, USD.", snap.exposure.total_value_usd.to_string()),
        ("ringfence_policy_breaches", "Concentration policy breaches in the loaded spec.", snap.limits.breaches.len().to_string()),
    ];
    for (name, help, v) in samples {
        let kind = if name.ends_with("_total") {
            "counter"
        } else {
            "gauge"
        };
        let _ = writeln!(s, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}");
    }
    let _ = writeln!(
        s,
        "# HELP ringfence_lint_findings Lint findings by severity.\n# TYPE ringfence_lint_findings gauge"
    );
    for sev in [
        LintSeverity::Critical,
        LintSeverity::High,
        LintSeverity::Medium,
        LintSeverity::Low,
    ] {
        let n = snap
            .lint
            .findings
            .iter()
            .filter(|f| f.severity == sev)
            .count();
        let _ = writeln!(
            s,
            "ringfence_lint_findings{{severity=\"{}\"}} {n}",
            sev.as_str()
        );
    }
    let _ = writeln!(
        s,
        "# HELP ringfence_component_value_at_risk_usd Value at risk behind each component, USD.\n# TYPE ringfence_component_value_at_risk_usd gauge"
    );
    for c in &snap.exposure.components {
        let _ = writeln!(
            s,
            "ringfence_component_value_at_risk_usd{{component=\"{}\",kind=\"{}\"}} {}",
            label(&c.id),
            c.kind,
            c.value_at_risk_usd
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
