//! The live guard in the server: the watcher's status, trips and alerts paged out of the store,
//! acknowledgements, and the server-sent event stream of everything live.
//!
//! Every read and write goes through the store crate's API on one connection the server opens
//! once (the watcher has its own); acknowledgements live in the store's `acks` table.
//! Acknowledging a trip records that a person has seen it; it changes nothing on chain.
//! Un-pausing is never offered.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::Uri;
use axum::response::Response;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use ringfence_guard::{AlertRecord, GuardSpec, Severity};
use ringfence_store::{AlertFilter, Store};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use utoipa::{IntoParams, ToSchema};

use crate::api::{json_body, query};
use crate::body::{
    AckReply, Acked, Checkpoint, ErrorBody, GuardChain, GuardDetail, GuardInfo, Named, Pause,
    ReadyEvent, ReloadEvent, TripCounts, TripView, TripsPage,
};
use crate::error::ApiError;
use crate::state::{AppState, unix_now};

/// Most items per page of `GET /api/trips`.
pub(crate) const MAX_PER_PAGE: usize = 200;
/// Longest acknowledgement note, in characters.
pub(crate) const MAX_NOTE: usize = 1_000;

/// What the watcher is doing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "state", rename_all = "lowercase")]
pub(crate) enum WatcherStatus {
    /// Configured, not started (tests, or before `serve`).
    Idle,
    /// Started, setting up (guardian keys, webhooks, RPC connections, replay of the store).
    Starting,
    /// Following the chains.
    Running {
        /// Unix seconds.
        since: u64,
    },
    /// Ended without error (shutdown).
    Stopped,
    /// Ended with an error; the detail is in the server's log.
    Failed {
        /// What to do.
        message: String,
    },
}

/// The guard as the server sees it.
#[derive(Debug)]
pub(crate) struct GuardState {
    pub(crate) spec: Arc<GuardSpec>,
    pub(crate) config_path: PathBuf,
    status: Mutex<WatcherStatus>,
    /// Chains the watcher has halted on (endpoints that disagree), for `/healthz`.
    pub(crate) health: Arc<ringfence_chain::ChainHealth>,
    /// The server's connection to the guard's store, opened on first use.
    store: Arc<Mutex<Option<Store>>>,
}

/// Something that happened, for `GET /api/events`.
#[derive(Clone, Debug)]
pub(crate) enum Live {
    /// A trip or alert from the watcher (again when its pause transaction is sent).
    Alert(Box<AlertRecord>),
    /// A trip was acknowledged.
    Ack(Ack),
    /// The spec was reloaded.
    Reload {
        /// The new generation.
        generation: u64,
    },
}

impl Live {
    fn to_sse(&self) -> SseEvent {
        let (name, data) = match self {
            Self::Alert(rec) => ("alert", serde_json::to_string(rec)),
            Self::Ack(a) => ("ack", serde_json::to_string(a)),
            Self::Reload { generation } => (
                "reload",
                serde_json::to_string(&ReloadEvent {
                    generation: *generation,
                }),
            ),
        };
        SseEvent::default()
            .event(name)
            .data(data.unwrap_or_else(|_| "{}".to_owned()))
    }
}

/// An acknowledgement, as streamed (`ack` events).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = AckEvent)]
pub(crate) struct Ack {
    /// The alert id.
    pub(crate) id: String,
    /// Unix seconds.
    pub(crate) at: u64,
    /// What the person wrote.
    pub(crate) note: String,
}

impl From<ringfence_store::Ack> for Ack {
    fn from(a: ringfence_store::Ack) -> Self {
        Self {
            id: a.id,
            at: a.at,
            note: a.note,
        }
    }
}

impl GuardState {
    /// Loads and validates a guard config.
    pub(crate) fn load(path: &Path) -> crate::Result<Self> {
        let spec = ringfence_guard::config::load(path)?;
        Ok(Self {
            spec: Arc::new(spec),
            config_path: path.to_owned(),
            status: Mutex::new(WatcherStatus::Idle),
            health: Arc::default(),
            store: Arc::new(Mutex::new(None)),
        })
    }

    /// Runs `f` on the server's store connection off the async threads (opening it the first
    /// time).
    pub(crate) async fn with_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (cell, path) = (self.store.clone(), self.spec.store.path.clone());
        tokio::task::spawn_blocking(move || {
            let mut guard = match cell.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            if guard.is_none() {
                *guard = Some(Store::open(&path)?);
            }
            match guard.as_mut() {
                Some(store) => f(store),
                None => Err(ApiError::internal("store", "not open")),
            }
        })
        .await
        .map_err(|e| ApiError::internal("store task", e))?
    }

    pub(crate) fn set_status(&self, s: WatcherStatus) {
        match self.status.lock() {
            Ok(mut g) => *g = s,
            Err(p) => *p.into_inner() = s,
        }
    }

    pub(crate) fn watcher_status(&self) -> WatcherStatus {
        match self.status.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

fn view(rec: AlertRecord, ack: Option<&ringfence_store::Ack>) -> TripView {
    let pause = rec
        .actions
        .iter()
        .filter(|a| a.kind == "pause")
        .map(|a| Pause {
            action: a.id.clone(),
            status: a.status.as_str().to_owned(),
            tx: a.tx.map(|t| format!("{t:#x}")),
            error: a.error.clone(),
            shared_with: a.shared_with.clone(),
        })
        .collect();
    TripView {
        record: rec,
        acked: ack.map(|a| Acked {
            at: a.at,
            note: a.note.clone(),
        }),
        pause,
    }
}

/// `GET /api/guard`: the watcher, its chains with their checkpoint and lag, rules and actions.
#[utoipa::path(
    get,
    path = "/api/guard",
    summary = "The live guard: watcher state, chains with their RPC endpoints, quorum, checkpoint and lag (seconds since the last ingested block), rules, actions, counts. `{\"enabled\": false}` without `--guard`.",
    responses((status = 200, description = "Guard.", body = GuardInfo))
)]
pub(crate) async fn guard(State(state): State<AppState>) -> Result<Response, ApiError> {
    let Some(g) = state.guard() else {
        return json_body(&GuardInfo::Off { enabled: false });
    };
    let chain_ids: Vec<String> = g.spec.chains.iter().map(|c| c.id.clone()).collect();
    let (checkpoints, counts) = g
        .with_store(move |store| {
            let cps = chain_ids
                .iter()
                .map(|c| store.checkpoint(c))
                .collect::<Result<Vec<_>, _>>()?;
            Ok((cps, store.alert_counts()?))
        })
        .await?;
    let now = unix_now();
    let chains = g
        .spec
        .chains
        .iter()
        .zip(&checkpoints)
        .map(|(c, cp)| GuardChain {
            id: c.id.clone(),
            endpoint: c.rpc.first().map(ToString::to_string),
            endpoints: c.rpc.iter().map(ToString::to_string).collect(),
            quorum: c.quorum,
            transport: format!("{:?}", c.transport).to_lowercase(),
            confirmations: c.confirmations,
            stale_after_s: c.stale_after_s,
            checkpoint: cp.as_ref().map(|b| Checkpoint {
                number: b.number,
                hash: format!("{:#x}", b.hash),
                timestamp: b.timestamp,
            }),
            lag_s: cp.as_ref().map(|b| now.saturating_sub(b.timestamp)),
        })
        .collect();
    let named = |id: &str, kind: &str| Named {
        id: id.to_owned(),
        kind: kind.to_owned(),
    };
    json_body(&GuardInfo::On {
        enabled: true,
        detail: GuardDetail {
            config: g
                .config_path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned()),
            watcher: g.watcher_status(),
            chains,
            rules: g
                .spec
                .rules
                .iter()
                .map(|r| named(&r.id, r.kind.name()))
                .collect(),
            actions: g
                .spec
                .actions
                .iter()
                .map(|a| named(&a.id, a.kind.name()))
                .collect(),
            counts: TripCounts {
                trips: counts.trips,
                alerts: counts.alerts,
                unacked_trips: counts.unacked_trips,
            },
        },
    })
}

/// Which findings `GET /api/trips` lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
enum Which {
    /// Trips only (the default).
    #[default]
    Trip,
    /// Alerts only.
    Alert,
    /// Both.
    All,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
struct TripsQuery {
    /// `trip` (default), `alert` or `all`.
    #[serde(default)]
    #[param(inline, required = false)]
    severity: Which,
    /// From 1 (default 1).
    #[param(minimum = 1)]
    page: Option<usize>,
    /// 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    per_page: Option<usize>,
    /// Include alerts a reorg retracted (default false).
    #[serde(default)]
    #[param(required = false)]
    retracted: bool,
}

/// `GET /api/trips?severity=trip|alert|all&page=1&per_page=50&retracted=false`: newest first.
#[utoipa::path(
    get,
    path = "/api/trips",
    summary = "Trips (and alerts) from the guard's store, newest first, paged.",
    params(TripsQuery),
    responses(
        (status = 200, description = "A page.", body = TripsPage),
        (status = 400, description = "A bad query parameter.", body = ErrorBody),
        (status = 404, description = "The live guard is not running.", body = ErrorBody)
    )
)]
pub(crate) async fn trips(State(state): State<AppState>, uri: Uri) -> Result<Response, ApiError> {
    let q: TripsQuery = query(&uri)?;
    let g = state.guard().ok_or(ApiError::NoGuard)?;
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(50);
    if page == 0 {
        return Err(ApiError::BadRequest("`page` starts at 1".into()));
    }
    if per_page == 0 || per_page > MAX_PER_PAGE {
        return Err(ApiError::BadRequest(format!(
            "`per_page` must be between 1 and {MAX_PER_PAGE}, got {per_page}"
        )));
    }
    let filter = AlertFilter {
        severity: match q.severity {
            Which::Trip => Some(Severity::Trip),
            Which::Alert => Some(Severity::Alert),
            Which::All => None,
        },
        retracted: q.retracted,
    };
    let offset = ((page - 1) as u64).saturating_mul(per_page as u64);
    let page_rows = g
        .with_store(move |store| Ok(store.alerts_page(filter, offset, per_page as u64)?))
        .await?;
    let total = usize::try_from(page_rows.total).unwrap_or(usize::MAX);
    let items = page_rows
        .items
        .into_iter()
        .map(|(a, k)| view(a, k.as_ref()))
        .collect();
    json_body(&TripsPage {
        items,
        total,
        page,
        per_page,
        pages: total.div_ceil(per_page),
    })
}

/// `GET /api/trips/{id}`: one trip or alert with its evidence, actions and acknowledgement.
#[utoipa::path(
    get,
    path = "/api/trips/{id}",
    summary = "One trip or alert with its evidence, actions and pause transaction.",
    params(("id" = String, Path, description = "The trip or alert id.")),
    responses(
        (status = 200, description = "The trip.", body = TripView),
        (status = 404, description = "No such trip, or the live guard is not running.", body = ErrorBody)
    )
)]
pub(crate) async fn trip(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
) -> Result<Response, ApiError> {
    let g = state.guard().ok_or(ApiError::NoGuard)?;
    let (rec, ack) = g
        .with_store(move |store| {
            let rec = store.alert(&id)?.ok_or_else(|| unknown_trip(&id))?;
            let ack = store.ack_of(&id)?;
            Ok((rec, ack))
        })
        .await?;
    json_body(&view(rec, ack.as_ref()))
}

fn unknown_trip(id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "no trip or alert with id `{id}`: list them with GET /api/trips"
    ))
}

/// The body of an acknowledgement (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = AckRequest)]
struct AckBody {
    /// What the person saw or did, at most 1,000 characters.
    #[serde(default)]
    #[schema(max_length = 1000, required = false)]
    note: String,
}

/// `POST /api/trips/{id}/ack` (bearer token): records that a person has seen the trip.
#[utoipa::path(
    post,
    path = "/api/trips/{id}/ack",
    summary = "Acknowledge a trip (records that a person has seen it; changes nothing on chain). Idempotent.",
    params(("id" = String, Path, description = "The trip or alert id.")),
    request_body(content = Option<AckBody>, description = "Optional: no body acknowledges without a note."),
    responses(
        (status = 200, description = "Acknowledged (`new` is false when it already was).", body = AckReply),
        (status = 400, description = "A bad body.", body = ErrorBody),
        (status = 404, description = "No such trip, or the live guard is not running.", body = ErrorBody)
    )
)]
pub(crate) async fn ack(
    State(state): State<AppState>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let g = state.guard().ok_or(ApiError::NoGuard)?;
    let body: AckBody = if body.iter().all(u8::is_ascii_whitespace) {
        AckBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            ApiError::BadRequest(format!(
                "invalid body: {e}; send {{\"note\": \"…\"}} or nothing"
            ))
        })?
    };
    if body.note.chars().count() > MAX_NOTE {
        return Err(ApiError::BadRequest(format!(
            "`note` is longer than {MAX_NOTE} characters"
        )));
    }
    let at = unix_now();
    let (ack, fresh) = g
        .with_store(move |store| {
            store
                .ack(&id, at, &body.note)?
                .ok_or_else(|| unknown_trip(&id))
        })
        .await?;
    let ack = Ack::from(ack);
    if fresh {
        tracing::info!(alert = %ack.id, "trip acknowledged");
        state.publish(Live::Ack(ack.clone()));
    }
    json_body(&AckReply {
        id: ack.id,
        acked: Acked {
            at: ack.at,
            note: ack.note,
        },
        new: fresh,
    })
}

/// Counts the open event streams while it lives.
struct Client(AppState);

impl Drop for Client {
    fn drop(&mut self) {
        self.0.metrics().sse_client(-1);
    }
}

/// `GET /api/events`: server-sent events — `ready` once, then `alert` (trips and alerts as the
/// watcher raises them, again when a pause transaction is sent), `ack` and `reload`.
#[utoipa::path(
    get,
    path = "/api/events",
    summary = "Server-sent events: `ready` once (`{guard, generation}`), then `alert` (a trip or alert as the guard raises it, again when its pause transaction is sent; an `Alert`), `ack` (`{id, at, note}`), `reload` (`{generation}`), and `lagged` (how many events a slow client missed).",
    responses((status = 200, description = "An event stream.", content_type = "text/event-stream", body = String))
)]
pub(crate) async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = state.subscribe();
    state.metrics().sse_client(1);
    let ready = ReadyEvent {
        generation: state.snapshot().generation,
        guard: state.guard().is_some(),
    };
    let ready = SseEvent::default()
        .event("ready")
        .data(serde_json::to_string(&ready).unwrap_or_else(|_| "{}".to_owned()));
    let closed = state.closed();
    let client = Client(state);
    let live = futures_util::stream::unfold((rx, client), |(mut rx, client)| async move {
        match rx.recv().await {
            Ok(ev) => Some((Ok(ev.to_sse()), (rx, client))),
            Err(broadcast::error::RecvError::Lagged(n)) => {
                let ev = SseEvent::default().event("lagged").data(n.to_string());
                Some((Ok(ev), (rx, client)))
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    });
    let live = futures_util::StreamExt::take_until(live, closed);
    let stream =
        futures_util::StreamExt::chain(futures_util::stream::once(async { Ok(ready) }), live);
    Sse::new(stream).keep_alive(KeepAlive::default())
}
