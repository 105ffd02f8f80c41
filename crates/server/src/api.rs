//! The read API over the loaded spec (the CLI's JSON bodies and what the dashboard draws), the
//! spec reload, liveness and the OpenAPI document.

use std::collections::BTreeMap;

use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use ringfence_exposure::exposure_report;
use ringfence_exposure::limits::scoped_value_at_risk;
use ringfence_model::{ComponentIdx, PolicyTarget};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::body::{
    self, Backing, Counts, ErrorBody, Graph, GraphAsset, GraphComponent, Health, HealthStatus,
    Policies, PolicyGauge, Readiness, SpecSummary, TopShare,
};
use crate::error::ApiError;
use crate::guard::WatcherStatus;
use crate::openapi::{ExposureDoc, LimitsDoc, LintDoc};
use crate::state::{AppState, Snapshot};

/// Pretty JSON with a trailing newline, as the CLI prints it: a report body, field for field in
/// the order its type declares.
pub(crate) fn report_body(value: &impl Serialize) -> Result<Response, ApiError> {
    let mut s =
        serde_json::to_string_pretty(value).map_err(|e| ApiError::internal("encode JSON", e))?;
    s.push('\n');
    Ok(([(header::CONTENT_TYPE, "application/json")], s).into_response())
}

/// A body the server shapes ([`crate::body`]), pretty with a trailing newline, keys sorted.
pub(crate) fn json_body(value: &impl Serialize) -> Result<Response, ApiError> {
    report_body(&body::sorted(value).map_err(|e| ApiError::internal("encode JSON", e))?)
}

/// A small body the server shapes, compact (health and readiness, for probes).
fn compact(code: StatusCode, value: &impl Serialize) -> Response {
    match body::sorted(value) {
        Ok(v) => (code, axum::Json(v)).into_response(),
        Err(e) => ApiError::internal("encode JSON", e).into_response(),
    }
}

/// Parses the query string into `T`, answering 400 with what is wrong.
pub(crate) fn query<T: serde::de::DeserializeOwned>(uri: &Uri) -> Result<T, ApiError> {
    Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| ApiError::BadRequest(format!("bad query string: {}", e.body_text())))
}

/// What is not running among the parts the server was asked to run (empty: all is well).
fn problems(state: &AppState) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(g) = state.guard() {
        match g.watcher_status() {
            WatcherStatus::Running { .. } => {}
            WatcherStatus::Idle | WatcherStatus::Starting => out
                .push("the live guard is starting: it is not following the chains yet".to_owned()),
            WatcherStatus::Stopped => out.push("the live guard has stopped".to_owned()),
            WatcherStatus::Failed { message } => out.push(message),
        }
        for (chain, why) in g.health.halted() {
            out.push(format!(
                "the live guard has halted on chain `{chain}`: {why}"
            ));
        }
    }
    out
}

/// `GET /healthz`: liveness (always 200 while the process answers), with `status` `ok` or
/// `degraded` and the reasons when a part the server was asked to run is not running.
#[utoipa::path(
    get,
    path = "/healthz",
    summary = "Liveness (always 200): `ok`, or `degraded` with the reasons when a part the server was asked to run (the live guard, each chain it follows) is not running.",
    responses((status = 200, description = "Alive.", body = Health))
)]
pub(crate) async fn healthz(State(state): State<AppState>) -> Response {
    let snap = state.snapshot();
    let reasons = problems(&state);
    let body = Health {
        status: if reasons.is_empty() {
            HealthStatus::Ok
        } else {
            HealthStatus::Degraded
        },
        reasons,
        spec_generation: snap.generation,
        guard: state.guard().map(|g| g.watcher_status()),
    };
    compact(StatusCode::OK, &body)
}

/// `GET /readyz`: 200 when every part the server was asked to run is running, otherwise 503
/// with the reasons (for load balancers and orchestrators).
#[utoipa::path(
    get,
    path = "/readyz",
    summary = "Readiness: 200 when every part the server was asked to run is running, 503 with the reasons otherwise.",
    responses(
        (status = 200, description = "Ready.", body = Readiness),
        (status = 503, description = "Not ready.", body = Readiness)
    )
)]
pub(crate) async fn readyz(State(state): State<AppState>) -> Response {
    let reasons = problems(&state);
    let code = if reasons.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Readiness {
        ready: reasons.is_empty(),
        reasons,
    };
    compact(code, &body)
}

/// `GET /api/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    summary = "This document, generated from the server's types and route table.",
    responses((status = 200, description = "OpenAPI 3.1.", content_type = "application/json", body = Object))
)]
pub(crate) async fn openapi() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        crate::openapi::openapi_json(),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExposureQuery {
    holder: Option<String>,
}

/// `GET /api/exposure[?holder=ID]`: the body of `ringfence exposure --format json [--holder ID]`.
#[utoipa::path(
    get,
    path = "/api/exposure",
    summary = "The exposure report (`ringfence exposure --format json`).",
    params(("holder" = Option<String>, Query, description = "Only this protocol in the holders section (`--holder`).")),
    responses(
        (status = 200, description = "Exposure.", body = ExposureDoc),
        (status = 400, description = "An unknown holder or query parameter.", body = ErrorBody)
    )
)]
pub(crate) async fn exposure(
    State(state): State<AppState>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let q: ExposureQuery = query(&uri)?;
    let snap = state.snapshot();
    match q.holder {
        None => report_body(&snap.exposure),
        Some(h) => {
            let idx = snap.model.protocol(&h).ok_or_else(|| {
                let known: Vec<&str> = snap.model.protocols.iter().map(|p| p.id.as_str()).collect();
                ApiError::BadRequest(format!(
                    "holder `{h}` is not a protocol of the spec; the protocols are: {}",
                    known.join(", ")
                ))
            })?;
            report_body(&exposure_report(&snap.model, &snap.closure, Some(idx)))
        }
    }
}

/// A `GET` route of the read API: the handler's name, the route, its summary, the answer's
/// description and schema, and the body it answers, computed from the server's state.
macro_rules! get_route {
    ($name:ident, $path:literal, $summary:literal, $description:literal, $doc:ty, |$state:ident| $body:expr) => {
        #[doc = concat!("`GET ", $path, "`: ", $summary)]
        #[utoipa::path(get, path = $path, summary = $summary, responses((status = 200, description = $description, body = $doc)))]
        pub(crate) async fn $name(State($state): State<AppState>) -> Result<Response, ApiError> {
            $body
        }
    };
}

// The reports exactly as the CLI prints them with `--format json`.
#[rustfmt::skip]
get_route!(limits, "/api/limits", "Concentration policy breaches and their smallest fix (`ringfence limits --format json`).", "Limits.", LimitsDoc, |state| report_body(&state.snapshot().limits));
#[rustfmt::skip]
get_route!(lint, "/api/lint", "Findings on infrastructure assumptions (`ringfence lint --format json`).", "Lint.", LintDoc, |state| report_body(&state.snapshot().lint));

#[rustfmt::skip]
get_route!(spec, "/api/spec", "What is loaded: file, generation, counts, totals.", "Summary.", SpecSummary, |state| json_body(&spec_summary(&state, &state.snapshot())));

fn spec_summary(state: &AppState, snap: &Snapshot) -> SpecSummary {
    let m = &snap.model;
    let name = state.0.spec_path.file_name().map_or_else(
        || state.0.spec_path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    SpecSummary {
        spec: name,
        generation: snap.generation,
        loaded_at: snap.loaded_at,
        total_value_usd: snap.exposure.total_value_usd,
        values_missing: snap.exposure.values_missing,
        counts: Counts {
            chains: m.chains.len(),
            layers: m.layers.len(),
            verifier_sets: m.verifier_sets.len(),
            operators: m.operators.len(),
            keys: m.keys.len(),
            assets: m.assets.len(),
            protocols: m.protocols.len(),
            policies: m.policies.len(),
            components: m.components.len(),
        },
        breaches: snap.limits.breaches.len(),
        findings: snap.lint.findings.len(),
    }
}

// The dependency graph: assets, the components they depend on directly (`own`) and through
// their backing (`depends_on`, with fractions), every component's value at risk, and the picture.
#[rustfmt::skip]
get_route!(graph, "/api/graph", "The dependency graph: assets with their direct (`own`) and full (`depends_on`, fractions) dependencies and backing; components with value at risk; and the picture laid out (`layout`), as the HTML report draws it.", "Graph.", Graph, |state| json_body(&graph_body(&state.snapshot())));

pub(crate) fn graph_body(snap: &Snapshot) -> Graph {
    let m = &snap.model;
    let cid = |c: ComponentIdx| m.components[c as usize].id.clone();
    let assets = m
        .assets
        .iter()
        .enumerate()
        .map(|(a, asset)| GraphAsset {
            id: asset.id.clone(),
            kind: name_of(&asset.kind),
            chain: cid(m.chains[asset.chain]),
            value_usd: asset.value_usd,
            route: asset
                .route
                .as_ref()
                .map(|r| cid(m.layers[r.layer].component)),
            own: snap.closure.own[a].iter().map(|&c| cid(c)).collect(),
            backing: asset
                .backing
                .iter()
                .map(|&(b, share)| Backing {
                    asset: m.assets[b].id.clone(),
                    share,
                })
                .collect(),
            depends_on: snap.closure.dep[a]
                .iter()
                .map(|&(c, f)| (cid(c), f))
                .collect::<BTreeMap<_, _>>(),
        })
        .collect();
    let components = snap
        .exposure
        .components
        .iter()
        .map(|c| GraphComponent {
            id: c.id.clone(),
            kind: name_of(&c.kind),
            value_at_risk_usd: c.value_at_risk_usd,
            share: c.share,
            failure_probability: m
                .component(&c.id)
                .and_then(|i| m.components[i as usize].failure_probability),
        })
        .collect();
    Graph {
        total_value_usd: snap.exposure.total_value_usd,
        assets,
        components,
        layout: ringfence_exposure::render::graph_layout(
            &snap.model,
            &snap.closure,
            &snap.exposure,
        ),
    }
}

/// The name a spec enum serialises to (`stablecoin`, `key`, `value`…).
fn name_of(v: &impl Serialize) -> String {
    match serde_json::to_value(v) {
        Ok(Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

#[rustfmt::skip]
get_route!(policies, "/api/policies", "Every policy with the largest shares it limits (concentration gauges).", "Policies.", Policies, |state| json_body(&policies_body(&state.snapshot())));

const GAUGE_TOP: usize = 5;

pub(crate) fn policies_body(snap: &Snapshot) -> Policies {
    let m = &snap.model;
    let policies = m
        .policies
        .iter()
        .map(|p| {
            let (var, total) = scoped_value_at_risk(m, &snap.closure, p.scope, p.basis);
            let limited: Vec<ComponentIdx> = match p.target {
                PolicyTarget::Kind(k) => (0..m.components.len())
                    .filter(|&c| m.components[c].kind == k)
                    .filter_map(|c| ComponentIdx::try_from(c).ok())
                    .collect(),
                PolicyTarget::Component(c) => vec![c],
            };
            let mut top: Vec<(ComponentIdx, f64)> = limited
                .iter()
                .map(|&c| (c, var.get(c as usize).copied().unwrap_or(0.0)))
                .filter(|&(_, v)| v > 0.0)
                .collect();
            top.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            top.truncate(GAUGE_TOP);
            let share = |v: f64| if total > 0.0 { v / total } else { 0.0 };
            PolicyGauge {
                id: p.id.clone(),
                scope: p
                    .scope
                    .map_or("ecosystem", |s| m.protocols[s].id.as_str())
                    .to_owned(),
                target: match p.target {
                    PolicyTarget::Kind(k) => body::PolicyTarget::Kind {
                        component_kind: name_of(&k),
                    },
                    PolicyTarget::Component(c) => body::PolicyTarget::Component {
                        component: m.components[c as usize].id.clone(),
                    },
                },
                basis: name_of(&p.basis),
                max_share: p.max_share,
                total_usd: total,
                breached: snap.limits.breaches.iter().any(|b| b.policy == p.id),
                top: top
                    .iter()
                    .map(|&(c, v)| TopShare {
                        component: m.components[c as usize].id.clone(),
                        value_at_risk_usd: v,
                        share: share(v),
                    })
                    .collect(),
            }
        })
        .collect();
    Policies { policies }
}

/// `POST /api/reload`: re-reads the spec. An invalid spec is refused (422, every problem listed)
/// and the previous one stays served.
#[utoipa::path(
    post,
    path = "/api/reload",
    summary = "Re-read the spec from disk. An invalid spec is refused (422, every problem listed) and the previous one stays served.",
    responses(
        (status = 200, description = "Reloaded.", body = SpecSummary),
        (status = 422, description = "The spec on disk is invalid: `problems` lists every one.", body = ErrorBody)
    )
)]
pub(crate) async fn reload(State(state): State<AppState>) -> Result<Response, ApiError> {
    let path = state.0.spec_path.clone();
    let generation = state.snapshot().generation + 1;
    let loaded = tokio::task::spawn_blocking(move || Snapshot::load(&path, generation))
        .await
        .map_err(|e| ApiError::internal("reload task", e))?;
    match loaded {
        Ok(snap) => {
            tracing::info!(generation, "spec reloaded");
            state.replace(snap);
            state.metrics().reloaded(true);
            state.publish(crate::guard::Live::Reload { generation });
            let snap = state.snapshot();
            Ok((StatusCode::OK, json_body(&spec_summary(&state, &snap))?).into_response())
        }
        Err(d) => {
            tracing::warn!(problems = d.len(), "reload refused: the spec is invalid");
            state.metrics().reloaded(false);
            Err(ApiError::InvalidSpec(d))
        }
    }
}

/// Any unknown path: 404 in JSON.
/// A known path asked with a method it does not take: a JSON error naming the methods it does
/// (regression: `GET /api/stress` answered an empty 405).
pub(crate) async fn method_not_allowed(method: axum::http::Method, uri: Uri) -> ApiError {
    let path = uri.path();
    let same = |template: &str| {
        let (t, p): (Vec<_>, Vec<_>) = (template.split('/').collect(), path.split('/').collect());
        t.len() == p.len()
            && t.iter()
                .zip(&p)
                .all(|(t, p)| t == p || (t.starts_with('{') && t.ends_with('}')))
    };
    let allowed: Vec<&'static str> = crate::routes::ROUTES
        .iter()
        .filter(|r| same(r.path))
        .map(|r| r.method)
        .collect();
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: path.to_owned(),
        allowed,
    }
}

pub(crate) async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound(format!(
        "no route {}: see /api/openapi.json for the API",
        uri.path()
    ))
}
