//! What every handler shares: the loaded spec with its reports, the API token, the guard link
//! and the metrics.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use ringfence_exposure::{
    Closure, ExposureReport, LimitsReport, LintReport, check_limits, exposure_report, lint,
};
use ringfence_model::{Diagnostics, Model};

use tokio::sync::broadcast;

use crate::guard::{GuardState, Live};
use crate::metrics::Metrics;

/// One loaded spec and every report over it, computed once per load.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub(crate) model: Model,
    pub(crate) closure: Closure,
    pub(crate) exposure: ExposureReport,
    pub(crate) limits: LimitsReport,
    pub(crate) lint: LintReport,
    /// Unix seconds of the load.
    pub(crate) loaded_at: u64,
    /// 1 for the first load, +1 per successful reload.
    pub(crate) generation: u64,
}

impl Snapshot {
    /// Loads and validates the spec and computes the reports.
    pub(crate) fn load(path: &Path, generation: u64) -> Result<Self, Diagnostics> {
        let model = Model::load(path)?;
        Ok(Self::from_model(model, generation))
    }

    pub(crate) fn from_model(model: Model, generation: u64) -> Self {
        let closure = Closure::compute(&model);
        let exposure = exposure_report(&model, &closure, None);
        let limits = check_limits(&model, &closure);
        let lint = lint(&model);
        Self {
            model,
            closure,
            exposure,
            limits,
            lint,
            loaded_at: unix_now(),
            generation,
        }
    }
}

/// Live events buffered per slow client before it is told it lagged.
const EVENT_BUFFER: usize = 256;

/// Shared state of the server, cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct AppState(pub(crate) Arc<Inner>);

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) spec_path: PathBuf,
    snapshot: RwLock<Arc<Snapshot>>,
    /// The bearer token that state-changing routes require; `None` disables them.
    pub(crate) token: Option<String>,
    pub(crate) guard: Option<GuardState>,
    pub(crate) metrics: Metrics,
    events: broadcast::Sender<Live>,
    /// Turns true when the server shuts down, ending the event streams.
    closing: tokio::sync::watch::Sender<bool>,
}

impl AppState {
    pub(crate) fn new(
        spec_path: PathBuf,
        snapshot: Snapshot,
        token: Option<String>,
        guard: Option<GuardState>,
    ) -> Self {
        Self(Arc::new(Inner {
            spec_path,
            snapshot: RwLock::new(Arc::new(snapshot)),
            token,
            guard,
            metrics: Metrics::default(),
            events: broadcast::channel(EVENT_BUFFER).0,
            closing: tokio::sync::watch::channel(false).0,
        }))
    }

    /// The current snapshot.
    pub(crate) fn snapshot(&self) -> Arc<Snapshot> {
        match self.0.snapshot.read() {
            Ok(s) => s.clone(),
            // A panic while holding the lock cannot leave a half-written Arc behind.
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replaces the snapshot.
    pub(crate) fn replace(&self, snap: Snapshot) {
        let snap = Arc::new(snap);
        match self.0.snapshot.write() {
            Ok(mut s) => *s = snap,
            Err(poisoned) => *poisoned.into_inner() = snap,
        }
    }

    pub(crate) fn guard(&self) -> Option<&GuardState> {
        self.0.guard.as_ref()
    }

    pub(crate) fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// Sends an event to every open `GET /api/events` stream.
    pub(crate) fn publish(&self, ev: Live) {
        if let Live::Alert(rec) = &ev {
            self.0.metrics.alert_streamed(rec.severity);
        }
        // No receiver is not an error: nobody is watching.
        let _ = self.0.events.send(ev);
    }

    /// Ends every event stream (graceful shutdown waits for open connections).
    pub(crate) fn close(&self) {
        self.0.closing.send_replace(true);
    }

    /// Completes when the server shuts down.
    pub(crate) fn closed(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        let mut rx = self.0.closing.subscribe();
        async move {
            let _ = rx.wait_for(|c| *c).await;
        }
    }

    /// A new receiver of live events.
    pub(crate) fn subscribe(&self) -> broadcast::Receiver<Live> {
        self.0.events.subscribe()
    }
}

/// Seconds since the Unix epoch (0 if the clock is before it).
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
