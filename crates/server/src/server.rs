//! Starting the server: load the spec and the guard config, start the watcher, serve.

use std::future::Future;
use std::path::PathBuf;

use axum::Router;
use ringfence_chain::{WatchOptions, Watcher};
use ringfence_guard::AlertRecord;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

use crate::error::{Error, Result};
use crate::guard::{GuardState, Live, WatcherStatus};
use crate::state::{AppState, Snapshot, unix_now};

/// What `ringfence serve` was asked to serve.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The ecosystem spec: a TOML file or a directory of them.
    pub spec: PathBuf,
    /// A guard config: run the live guard and serve its trips.
    pub guard: Option<PathBuf>,
    /// The bearer token of state-changing routes (from `RINGFENCE_API_TOKEN`); `None` or empty
    /// refuses them with 403.
    pub api_token: Option<String>,
}

/// A loaded server, ready to serve.
#[derive(Debug)]
pub struct Server {
    state: AppState,
}

impl Server {
    /// Loads and validates the spec (and the guard config); nothing runs yet.
    pub fn new(config: Config) -> Result<Self> {
        let snapshot = Snapshot::load(&config.spec, 1)?;
        let guard = config.guard.as_deref().map(GuardState::load).transpose()?;
        let token = config.api_token.filter(|t| !t.trim().is_empty());
        if token.is_none() {
            tracing::warn!(
                "RINGFENCE_API_TOKEN is not set: reloading the spec and acknowledging trips are refused"
            );
        }
        Ok(Self {
            state: AppState::new(config.spec, snapshot, token, guard),
        })
    }

    /// The HTTP service (for tests and embedding; [`Server::serve`] uses it).
    pub fn router(&self) -> Router {
        crate::routes::router(self.state.clone())
    }

    /// The chains the live guard has halted on (the watcher keeps it; `/healthz` reports it),
    /// `None` without a guard config.
    pub fn guard_health(&self) -> Option<std::sync::Arc<ringfence_chain::ChainHealth>> {
        self.state.guard().map(|g| g.health.clone())
    }

    /// Streams a trip or alert to every `GET /api/events` client, as the watcher does.
    pub fn publish_alert(&self, rec: AlertRecord) {
        self.state.publish(Live::Alert(Box::new(rec)));
    }

    /// Starts the live guard (if configured) and serves on `listener` until `shutdown`.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let watcher = self.start_watcher(stop_rx);
        let addr = listener.local_addr().ok();
        tracing::info!(addr = ?addr, "serving");
        let state = self.state.clone();
        let shutdown = async move {
            shutdown.await;
            tracing::info!("shutting down");
            state.close();
        };
        let served = axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
            .map_err(|source| Error::Io {
                context: "serving HTTP".into(),
                source,
            });
        let _ = stop_tx.send(true);
        if let Some(t) = watcher {
            // The watcher stops at the next message; never hang the shutdown on it.
            let _ = tokio::time::timeout(std::time::Duration::from_secs(5), async {
                while !t.is_finished() {
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            })
            .await;
        }
        served
    }

    /// Runs the watcher on its own thread and runtime, relaying its alerts to the event stream.
    fn start_watcher(
        &self,
        mut stop: watch::Receiver<bool>,
    ) -> Option<std::thread::JoinHandle<()>> {
        let guard = self.state.guard()?;
        let (tx, mut rx) = mpsc::unbounded_channel::<AlertRecord>();
        let relay = self.state.clone();
        tokio::spawn(async move {
            while let Some(rec) = rx.recv().await {
                relay.publish(Live::Alert(Box::new(rec)));
            }
        });
        let (started_tx, started_rx) = tokio::sync::oneshot::channel();
        let watcher = Watcher::new(
            guard.spec.clone(),
            WatchOptions {
                alerts: Some(tx),
                started: Some(started_tx),
                health: Some(guard.health.clone()),
                ..WatchOptions::default()
            },
        );
        let state = self.state.clone();
        let spawned = std::thread::Builder::new()
            .name("ringfence-guard".into())
            .spawn(move || {
                let Some(g) = state.guard() else { return };
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot start the guard's runtime");
                        g.set_status(failed());
                        return;
                    }
                };
                g.set_status(WatcherStatus::Starting);
                // Running (and ready) once the watcher has its keys, webhooks and chains.
                let running = state.clone();
                let res = rt.block_on(async move {
                    tokio::spawn(async move {
                        if started_rx.await.is_ok()
                            && let Some(g) = running.guard()
                        {
                            g.set_status(WatcherStatus::Running { since: unix_now() });
                        }
                    });
                    watcher
                        .run(async move {
                            let _ = stop.wait_for(|s| *s).await;
                        })
                        .await
                });
                match res {
                    Ok(()) => g.set_status(WatcherStatus::Stopped),
                    Err(e) => {
                        tracing::error!(error = %e, "the live guard stopped");
                        g.set_status(WatcherStatus::Failed {
                            message: format!(
                                "the watcher stopped: {}; fix the guard config, its environment or the chains, and restart",
                                ringfence_guard::secret::scrub_urls(&e.to_string())
                            ),
                        });
                    }
                }
            });
        match spawned {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::error!(error = %e, "cannot start the guard's thread");
                guard.set_status(failed());
                None
            }
        }
    }
}

fn failed() -> WatcherStatus {
    WatcherStatus::Failed {
        message: "the watcher stopped with an error: see the server's log, fix the guard config or the chains, and restart".into(),
    }
}
