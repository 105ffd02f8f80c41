//! The bodies the server shapes itself, typed. Each derives `Serialize` (what is sent) and
//! `ToSchema` (what `GET /api/openapi.json` says), so the document cannot drift from the bytes.
//!
//! They are written through [`sorted`]: their keys come out in alphabetical order, as the
//! `json!` values they replaced did (serde_json's maps are sorted), so no byte a client reads
//! changed when they were typed.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::guard::WatcherStatus;
use crate::openapi::AlertDoc;

/// The value of a typed body with every object's keys sorted.
pub(crate) fn sorted(body: &impl Serialize) -> serde_json::Result<serde_json::Value> {
    serde_json::to_value(body)
}

/// Every error: what is wrong and what to do.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Error)]
pub(crate) struct ErrorBody {
    /// What is wrong and what to do.
    pub(crate) error: String,
    /// The HTTP status, again.
    pub(crate) status: u16,
    /// Unknown component ids (stress).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) unknown: Option<Vec<String>>,
    /// Every problem of an invalid spec, located (reload).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) problems: Option<Vec<String>>,
}

/// `ok`, or `degraded`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(crate) enum HealthStatus {
    /// Every part the server was asked to run is running.
    Ok,
    /// A part is not running: see `reasons`.
    Degraded,
}

/// `GET /healthz`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Health {
    /// `ok`, or `degraded` when a part the server was asked to run is not running.
    pub(crate) status: HealthStatus,
    /// Why it is degraded (empty when ok): the live guard starting, stopped or failed, or
    /// halted on a chain whose RPC endpoints disagree with no quorum.
    pub(crate) reasons: Vec<String>,
    /// Generation of the loaded spec (1 at start, +1 per reload).
    pub(crate) spec_generation: u64,
    /// The live guard's watcher; null without `--guard`.
    pub(crate) guard: Option<WatcherStatus>,
}

/// `GET /readyz`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Readiness {
    /// Every part the server was asked to run is running.
    pub(crate) ready: bool,
    /// What is not (empty when ready).
    pub(crate) reasons: Vec<String>,
}

/// How many entities of each kind the spec has.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Counts {
    pub(crate) chains: usize,
    pub(crate) layers: usize,
    pub(crate) verifier_sets: usize,
    pub(crate) operators: usize,
    pub(crate) keys: usize,
    pub(crate) assets: usize,
    pub(crate) protocols: usize,
    pub(crate) policies: usize,
    /// Every failure-capable component, orgs and hostings included.
    pub(crate) components: usize,
}

/// `GET /api/spec` and `POST /api/reload`: what is loaded.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct SpecSummary {
    /// The spec's file (or directory) name.
    pub(crate) spec: String,
    /// 1 at start, +1 per successful reload.
    pub(crate) generation: u64,
    /// Unix seconds of the load.
    pub(crate) loaded_at: u64,
    /// Sum of every asset's value, USD.
    pub(crate) total_value_usd: f64,
    /// Some asset has no value (the total is a lower bound).
    pub(crate) values_missing: bool,
    pub(crate) counts: Counts,
    /// Concentration policy breaches.
    pub(crate) breaches: usize,
    /// Lint findings.
    pub(crate) findings: usize,
}

/// A share of an asset's backing.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Backing {
    /// The backing asset.
    pub(crate) asset: String,
    /// Its share, in [0, 1].
    pub(crate) share: f64,
}

/// An asset in the dependency graph.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct GraphAsset {
    pub(crate) id: String,
    /// The asset kind as the spec spells it (`native`, `canonical`, `wrapped`, `stablecoin`,
    /// `lst`, `lrt`, `lp`…).
    pub(crate) kind: String,
    /// The component id of its chain.
    pub(crate) chain: String,
    pub(crate) value_usd: f64,
    /// The component id of the layer it is bridged over, if any.
    pub(crate) route: Option<String>,
    /// Components it depends on directly.
    pub(crate) own: Vec<String>,
    pub(crate) backing: Vec<Backing>,
    /// Every component it depends on, directly or through its backing, with the fraction of
    /// its value at risk.
    pub(crate) depends_on: BTreeMap<String, f64>,
}

/// A component with its value at risk.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct GraphComponent {
    pub(crate) id: String,
    /// `chain`, `layer`, `verifier_set`, `operator`, `key`, `org` or `hosting`.
    pub(crate) kind: String,
    pub(crate) value_at_risk_usd: f64,
    /// Share of the total value.
    pub(crate) share: f64,
    /// Yearly failure probability, where the spec gives one.
    pub(crate) failure_probability: Option<f64>,
}

/// `GET /api/graph`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Graph {
    pub(crate) total_value_usd: f64,
    pub(crate) assets: Vec<GraphAsset>,
    pub(crate) components: Vec<GraphComponent>,
    /// The picture, laid out: exactly what the HTML report draws (`ringfence exposure --format
    /// html`); the dashboard only turns it into SVG elements.
    pub(crate) layout: ringfence_report::graph::GraphLayout,
}

/// `POST /api/stress`: the body of `ringfence stress --format json`, and the waterfall of
/// realized loss laid out as the HTML report draws it.
#[derive(Debug, Serialize)]
pub(crate) struct StressResult {
    #[serde(flatten)]
    pub(crate) report: ringfence_stress::report::Report,
    /// The chart the dashboard draws.
    pub(crate) waterfall: ringfence_report::waterfall::Waterfall,
}

/// What a policy limits: every component of a kind, or one component.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum PolicyTarget {
    /// Every component of this kind.
    Kind {
        /// The kind.
        component_kind: String,
    },
    /// One component.
    Component {
        /// Its id.
        component: String,
    },
}

/// A component's share under a policy.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TopShare {
    pub(crate) component: String,
    pub(crate) value_at_risk_usd: f64,
    pub(crate) share: f64,
}

/// A policy with the largest shares it limits.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct PolicyGauge {
    pub(crate) id: String,
    /// `ecosystem` or the protocol it is scoped to.
    pub(crate) scope: String,
    pub(crate) target: PolicyTarget,
    /// Which assets the shares are of: `all`, or only `bridged` ones.
    pub(crate) basis: String,
    pub(crate) max_share: f64,
    /// The total the shares are of, USD.
    pub(crate) total_usd: f64,
    pub(crate) breached: bool,
    /// The largest shares, at most 5, largest first.
    pub(crate) top: Vec<TopShare>,
}

/// `GET /api/policies`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Policies {
    pub(crate) policies: Vec<PolicyGauge>,
}

/// The last block the guard ingested on a chain.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Checkpoint {
    pub(crate) number: u64,
    /// 0x-hex.
    pub(crate) hash: String,
    /// Unix seconds.
    pub(crate) timestamp: u64,
}

/// A chain the guard follows.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct GuardChain {
    pub(crate) id: String,
    /// The first RPC endpoint (credentials masked).
    pub(crate) endpoint: Option<String>,
    /// Every RPC endpoint (credentials masked).
    pub(crate) endpoints: Vec<String>,
    /// How many endpoints must agree on a block before the guard acts on it.
    pub(crate) quorum: usize,
    /// `http` or `ws`.
    pub(crate) transport: String,
    pub(crate) confirmations: u64,
    /// Seconds without a new block before the chain counts as stale.
    pub(crate) stale_after_s: u64,
    pub(crate) checkpoint: Option<Checkpoint>,
    /// Seconds since the checkpoint's block.
    pub(crate) lag_s: Option<u64>,
}

/// A rule or an action of the guard config.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Named {
    pub(crate) id: String,
    pub(crate) kind: String,
}

/// Findings in the guard's store.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TripCounts {
    pub(crate) trips: u64,
    /// Alerts that are not trips.
    pub(crate) alerts: u64,
    /// Trips nobody has acknowledged.
    pub(crate) unacked_trips: u64,
}

/// The live guard, when the server runs one.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct GuardDetail {
    /// The guard config's file name.
    pub(crate) config: Option<String>,
    pub(crate) watcher: WatcherStatus,
    pub(crate) chains: Vec<GuardChain>,
    pub(crate) rules: Vec<Named>,
    pub(crate) actions: Vec<Named>,
    pub(crate) counts: TripCounts,
}

/// `GET /api/guard`: `{"enabled": false}` without `--guard`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(untagged)]
pub(crate) enum GuardInfo {
    /// The server runs no guard.
    Off {
        /// False.
        enabled: bool,
    },
    /// The server runs the live guard.
    On {
        /// True.
        enabled: bool,
        /// What it follows and what it found.
        #[serde(flatten)]
        detail: GuardDetail,
    },
}

/// When and why a person acknowledged a trip.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Acked {
    /// Unix seconds.
    pub(crate) at: u64,
    pub(crate) note: String,
}

/// A pause transaction of a trip.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Pause {
    /// The action id.
    pub(crate) action: String,
    /// `pending`, `sent`, `mined`, `reverted`, `failed`, `done` or `skipped`.
    pub(crate) status: String,
    /// 0x-hex, once sent.
    pub(crate) tx: Option<String>,
    pub(crate) error: Option<String>,
    /// The trip whose transaction this one shares (one pause per block and contract).
    pub(crate) shared_with: Option<String>,
}

/// A trip or alert as the guard stored it, with its acknowledgement and pause transactions.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Trip)]
pub(crate) struct TripView {
    #[serde(flatten)]
    #[schema(inline, value_type = AlertDoc)]
    pub(crate) record: ringfence_guard::AlertRecord,
    /// Null until acknowledged.
    pub(crate) acked: Option<Acked>,
    pub(crate) pause: Vec<Pause>,
}

/// `GET /api/trips`: one page, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TripsPage {
    pub(crate) items: Vec<TripView>,
    pub(crate) total: usize,
    pub(crate) page: usize,
    pub(crate) per_page: usize,
    pub(crate) pages: usize,
}

/// `POST /api/trips/{id}/ack`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AckReply {
    pub(crate) id: String,
    pub(crate) acked: Acked,
    /// False when it already was acknowledged (the first note stays).
    pub(crate) new: bool,
}

/// The `ready` event of `GET /api/events`, sent once when a client connects.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReadyEvent {
    /// Generation of the loaded spec.
    pub(crate) generation: u64,
    /// Whether the server runs the live guard.
    pub(crate) guard: bool,
}

/// The `reload` event of `GET /api/events`.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct ReloadEvent {
    /// The new generation of the spec.
    pub(crate) generation: u64,
}
