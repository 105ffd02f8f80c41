//! The OpenAPI document of `GET /api/openapi.json`, generated: the operations from each handler's
//! `#[utoipa::path]`, the bodies the server shapes from their types ([`crate::body`]), and who
//! may call what from the route table ([`crate::routes::ROUTES`]: every route not declared
//! public gets the bearer scheme and its 401 and 403 answers).
//!
//! The reports the CLI also prints (exposure, limits, lint, stress) and the guard's alert record
//! are types of other crates; their schemas are declared here, beside the document, and the
//! server's tests validate real bodies of every route against the generated document, field by
//! field, so a field added to one of those types and not here fails a test.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use utoipa::openapi::path::Operation;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr, Response, ResponseBuilder};
use utoipa::{Modify, OpenApi, ToSchema};

use crate::dashboard::Files as DashboardFiles;
use crate::routes::{Access, ROUTES};
use crate::{api, body, guard, metrics, stress};

/// The generated document, rendered once.
static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    let mut text = ApiDoc::openapi()
        .to_pretty_json()
        .unwrap_or_else(|e| format!("{{\"error\": \"the OpenAPI document: {e}\"}}"));
    text.push('\n');
    text
});

/// The OpenAPI document served at `/api/openapi.json`, as JSON.
pub fn openapi_json() -> &'static str {
    &DOCUMENT
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ringfence",
        description = "The risk picture of a cross-chain ecosystem and its live guard. `GET /api/exposure`, `/api/limits` and `/api/lint` return the same bodies as `ringfence exposure|limits|lint --format json`; `POST /api/stress` the body of `ringfence stress --format json`. Routes that change state need `Authorization: Bearer <RINGFENCE_API_TOKEN>` (401 without or with another token; 403 when the server has no token). Errors are JSON `{\"error\": \"what is wrong\", \"status\": N}`. Un-pausing is never offered. This document is generated from the server's types and route table."
    ),
    servers((url = "/")),
    paths(
        api::healthz,
        api::readyz,
        metrics::metrics,
        api::openapi,
        api::spec,
        api::exposure,
        api::limits,
        api::lint,
        api::graph,
        api::policies,
        api::reload,
        stress::stress,
        guard::guard,
        guard::trips,
        guard::trip,
        guard::ack,
        guard::events,
    ),
    components(schemas(
        body::ErrorBody,
        body::ReadyEvent,
        body::ReloadEvent,
        guard::Ack,
        AlertDoc
    )),
    modifiers(&DashboardFiles, &TokenRoutes)
)]
pub(crate) struct ApiDoc;

/// Puts the bearer scheme, and the answers of a refused token, on every route the table does
/// not declare public.
struct TokenRoutes;

impl Modify for TokenRoutes {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "The value of RINGFENCE_API_TOKEN in the server's environment.",
                    ))
                    .build(),
            ),
        );
        let error = |what: &str| -> RefOr<Response> {
            RefOr::T(
                ResponseBuilder::new()
                    .description(what)
                    .content(
                        "application/json",
                        utoipa::openapi::ContentBuilder::new()
                            .schema(Some(utoipa::openapi::Ref::from_schema_name("Error")))
                            .build(),
                    )
                    .build(),
            )
        };
        for route in ROUTES.iter().filter(|r| r.access != Access::Public) {
            let Some(op) = operation(&mut doc.paths.paths, route.path, route.method) else {
                continue; // the tests name a route the document lacks
            };
            op.security = Some(vec![SecurityRequirement::new(
                "bearer",
                Vec::<String>::new(),
            )]);
            let responses = &mut op.responses.responses;
            responses.insert(
                "401".into(),
                error("No `Authorization: Bearer` header, or another token."),
            );
            responses.insert(
                "403".into(),
                error(
                    "RINGFENCE_API_TOKEN is not set on the server: state-changing routes are refused.",
                ),
            );
        }
    }
}

fn operation<'a>(
    paths: &'a mut BTreeMap<String, utoipa::openapi::PathItem>,
    path: &str,
    method: &str,
) -> Option<&'a mut Operation> {
    let item = paths.get_mut(path)?;
    match method {
        "GET" => item.get.as_mut(),
        "POST" => item.post.as_mut(),
        _ => None,
    }
}

// ---- Schemas of bodies other crates own -------------------------------------------------------

/// `severity` of a lint finding.
#[derive(ToSchema)]
#[schema(as = LintSeverity)]
#[allow(dead_code)] // a schema, never built
#[schema(rename_all = "lowercase")]
pub(crate) enum LintSeverityDoc {
    Low,
    Medium,
    High,
    Critical,
}

/// A component's value at risk.
#[derive(ToSchema)]
#[schema(as = ComponentExposure)]
#[allow(dead_code)]
pub(crate) struct ComponentExposureDoc {
    id: String,
    /// `chain`, `layer`, `verifier_set`, `operator`, `key`, `org` or `hosting`.
    kind: String,
    value_at_risk_usd: f64,
    /// Share of the total value.
    share: f64,
    /// Assets that depend on it.
    assets: usize,
}

/// What an asset depends on.
#[derive(ToSchema)]
#[schema(as = AssetExposure)]
#[allow(dead_code)]
pub(crate) struct AssetExposureDoc {
    id: String,
    value_usd: f64,
    /// Component id → fraction of the value at risk.
    depends_on: BTreeMap<String, f64>,
}

/// A holder's exposure.
#[derive(ToSchema)]
#[schema(as = HolderExposure)]
#[allow(dead_code)]
pub(crate) struct HolderExposureDoc {
    id: String,
    value_usd: f64,
    /// Component id → USD at risk.
    exposure_usd: BTreeMap<String, f64>,
}

/// A component whose failure alone takes an asset down.
#[derive(ToSchema)]
#[schema(as = SinglePointOfFailure)]
#[allow(dead_code)]
pub(crate) struct SinglePointOfFailureDoc {
    component: String,
    kind: String,
    value_usd: f64,
    assets: Vec<String>,
}

/// A component several layers share without saying so.
#[derive(ToSchema)]
#[schema(as = HiddenSharedDependency)]
#[allow(dead_code)]
pub(crate) struct HiddenSharedDependencyDoc {
    component: String,
    kind: String,
    layers: Vec<String>,
    assets: usize,
    routed_assets: usize,
    value_at_risk_usd: f64,
    message: String,
}

/// `ringfence exposure --format json`.
#[derive(ToSchema)]
#[schema(as = Exposure)]
#[allow(dead_code)]
pub(crate) struct ExposureDoc {
    total_value_usd: f64,
    values_missing: bool,
    assets_without_value: usize,
    components: Vec<ComponentExposureDoc>,
    assets: Vec<AssetExposureDoc>,
    holders: Vec<HolderExposureDoc>,
    /// The `holder` asked for, if any.
    holder: Option<String>,
    single_points_of_failure: Vec<SinglePointOfFailureDoc>,
    hidden_shared_dependencies: Vec<HiddenSharedDependencyDoc>,
}

/// A move of value that would end a breach.
#[derive(ToSchema)]
#[schema(as = Move)]
#[allow(dead_code)]
pub(crate) struct MoveDoc {
    from: String,
    to: Option<String>,
    amount_usd: f64,
}

/// A concentration policy breach and its smallest fix.
#[derive(ToSchema)]
#[schema(as = Breach)]
#[allow(dead_code)]
pub(crate) struct BreachDoc {
    policy: String,
    component: String,
    share: f64,
    max_share: f64,
    excess_usd: f64,
    moves: Vec<MoveDoc>,
}

/// `ringfence limits --format json`.
#[derive(ToSchema)]
#[schema(as = Limits)]
#[allow(dead_code)]
pub(crate) struct LimitsDoc {
    breaches: Vec<BreachDoc>,
}

/// A lint finding.
#[derive(ToSchema)]
#[schema(as = Finding)]
#[allow(dead_code)]
pub(crate) struct FindingDoc {
    rule: String,
    severity: LintSeverityDoc,
    entity: String,
    message: String,
    /// The incident the rule comes from.
    incident: String,
}

/// `ringfence lint --format json`.
#[derive(ToSchema)]
#[schema(as = Lint)]
#[allow(dead_code)]
pub(crate) struct LintDoc {
    findings: Vec<FindingDoc>,
}

/// A clearing model.
#[derive(ToSchema)]
#[schema(as = ClearingModel, rename_all = "lowercase")]
#[allow(dead_code)]
pub(crate) enum ClearingDoc {
    /// Eisenberg–Noe (the default).
    En,
    /// Rogers–Veraart with default costs `alpha`, `beta`.
    Rv,
}

/// The body of `POST /api/stress`: the options of `ringfence stress` (see
/// `ringfence_stress::StressRequest`, which both validate with).
#[derive(ToSchema)]
#[schema(as = StressRequest, example = json!({"fail": ["resolv-service-role"]}))]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
pub(crate) struct StressRequestDoc {
    /// Components that fail jointly: any component id, `org:<name>`, `hosting:<name>`. Unknown
    /// ids are a 400 that names them.
    #[schema(max_items = 1000, required = false)]
    fail: Vec<String>,
    /// `en` (Eisenberg–Noe, default) or `rv` (Rogers–Veraart).
    #[schema(required = false)]
    clearing: ClearingDoc,
    /// Rogers–Veraart only (default 1).
    #[schema(minimum = 0, maximum = 1)]
    alpha: Option<f64>,
    /// Rogers–Veraart only (default 1).
    #[schema(minimum = 0, maximum = 1)]
    beta: Option<f64>,
    /// Rank every single-component failure.
    #[schema(default = false, required = false)]
    rank: bool,
    /// Smallest failure whose total damage exceeds this, USD.
    #[schema(minimum = 0)]
    reverse: Option<f64>,
    /// Reverse stress searches chains too (only with `reverse`).
    #[schema(default = false, required = false)]
    include_chains: bool,
    /// Monte Carlo draws over one year of failure probabilities.
    #[schema(minimum = 1, maximum = 100000)]
    monte_carlo: Option<usize>,
    /// Seed of the draws.
    #[schema(default = 1)]
    seed: Option<u64>,
    /// DebtRank of each protocol defaulting alone.
    #[schema(default = false, required = false)]
    debtrank: bool,
}

/// `POST /api/stress`: the body of `ringfence stress --format json` (see the README's stress
/// sections) and the laid-out waterfall.
#[derive(ToSchema)]
#[schema(as = StressReport)]
#[allow(dead_code)]
pub(crate) struct StressReportDoc {
    failed: Vec<String>,
    direct_loss_usd: f64,
    realized_loss_usd: f64,
    /// Realized losses by kind.
    realized: serde_json::Value,
    disrupted_value_usd: f64,
    loss_multiplier: Option<f64>,
    disruption_multiplier: Option<f64>,
    secondary_damage_usd: f64,
    multiplier: Option<f64>,
    liquidations_usd: f64,
    bad_debt_usd: f64,
    outflows_usd: f64,
    withdrawals_blocked_usd: f64,
    forced_sales_usd: f64,
    default_costs_usd: f64,
    holding_losses_usd: f64,
    claim_losses_usd: f64,
    /// Every round of contagion.
    rounds: Vec<serde_json::Value>,
    /// Per protocol: all of them, or in a long report only those the scenario touched.
    protocols: Vec<serde_json::Value>,
    /// In a long report (over 1,000 protocols), the untouched protocols left out of
    /// `protocols`, counted and summed; absent when every protocol is listed.
    protocols_left_out: Option<serde_json::Value>,
    /// Per asset.
    assets: Vec<serde_json::Value>,
    converged: bool,
    /// `en` or `rv`.
    clearing: String,
    alpha: f64,
    beta: f64,
    /// With `rank`.
    ranking: Option<Vec<serde_json::Value>>,
    /// With `reverse`.
    reverse: Option<serde_json::Value>,
    /// With `monte_carlo`.
    monte_carlo: Option<serde_json::Value>,
    /// With `debtrank`.
    debtrank: Option<Vec<serde_json::Value>>,
    /// With the CLI's `--uncertainty`.
    uncertainty: Option<serde_json::Value>,
    /// The waterfall of realized loss, laid out as the HTML report draws it (not in the CLI's
    /// JSON).
    waterfall: ringfence_report::waterfall::Waterfall,
}

/// An action the guard took on a finding.
#[derive(ToSchema)]
#[schema(as = ActionRecord)]
#[allow(dead_code)]
pub(crate) struct ActionRecordDoc {
    id: String,
    kind: String,
    /// `pending`, `sent`, `mined`, `reverted`, `failed`, `done` or `skipped`.
    status: String,
    /// 0x-hex, once sent.
    tx: Option<String>,
    /// 0x-hex argument of the call, if any.
    arg: Option<String>,
    error: Option<String>,
    /// The trip whose transaction this one shares.
    shared_with: Option<String>,
    /// Sends tried (absent when 0).
    #[schema(required = false)]
    attempts: u32,
}

/// `severity` of a finding of the guard.
#[derive(ToSchema)]
#[schema(as = GuardSeverity)]
#[allow(dead_code)]
#[schema(rename_all = "lowercase")]
pub(crate) enum GuardSeverityDoc {
    Trip,
    Alert,
}

/// A trip or alert as the guard stores it (`ringfence_guard::AlertRecord`).
#[derive(ToSchema)]
#[schema(as = Alert)]
#[allow(dead_code)]
pub(crate) struct AlertDoc {
    id: String,
    rule: String,
    /// The rule kind that raised it (`mint-rate`, `backing`…).
    kind: String,
    severity: GuardSeverityDoc,
    /// Why, as a stable code (`window-exceeded`…).
    reason: String,
    chain: String,
    block: u64,
    /// Unix seconds of the block.
    timestamp: u64,
    /// 0x-hex of the transaction, if one caused it.
    tx: Option<String>,
    log_index: u64,
    /// What the rule saw (amounts are decimal strings of exact integers).
    evidence: serde_json::Value,
    actions: Vec<ActionRecordDoc>,
    /// A reorg removed its block.
    retracted: bool,
}
