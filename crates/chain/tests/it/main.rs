//! Behaviour tests of the live guard against real anvil chains: the attack patterns (unbacked
//! mint over the window, forged and mismatched bridge releases, a role grant), benign traffic,
//! kill -9 and restart, reorgs, backfill speed, the compiled fixtures being current, and a
//! destination chain read through an RPC quorum with lying endpoints.

mod artifacts;
mod attacks;
mod cancel;
mod crossreorg;
mod ha;
mod harness;
mod layers;
mod ops;
mod quorum;
mod restart;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ringfence_chain::{WatchOptions, Watcher};
use ringfence_guard::AlertRecord;
use tokio::sync::{mpsc, oneshot};

pub(crate) use harness::{KEY_ENV, wait_ingested};

/// A guard on [`harness::bridge_config`] (the source read at `src_rpc`) in a temporary folder,
/// once it has read both chains: the folder, its store and the guard.
pub(crate) async fn guard_bridge(
    b: &harness::Bridge,
    src_rpc: &str,
) -> (tempfile::TempDir, std::path::PathBuf, Guard) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("guard.db");
    let guard = Guard::start(&harness::bridge_config(b, &db, src_rpc));
    b.wait_synced(&db).await;
    (dir, db, guard)
}

/// A guard running in-process.
pub(crate) struct Guard {
    pub(crate) alerts: mpsc::UnboundedReceiver<AlertRecord>,
    /// The chains the daemon has halted on (what the server's `/healthz` reports).
    pub(crate) health: Arc<ringfence_chain::ChainHealth>,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Guard {
    pub(crate) fn start(config: &str) -> Self {
        Self::start_with_key(config, harness::KEYS[1])
    }

    /// A guard whose guardian key (under [`KEY_ENV`]) is `key`.
    pub(crate) fn start_with_key(config: &str, key: &str) -> Self {
        let spec = match ringfence_guard::config::parse(Path::new("test.toml"), config) {
            Ok(s) => Arc::new(s),
            Err(e) => panic!("{e}"),
        };
        let (tx, alerts) = mpsc::unbounded_channel();
        let health = Arc::new(ringfence_chain::ChainHealth::default());
        let mut secrets = std::collections::HashMap::new();
        secrets.insert(KEY_ENV.to_owned(), key.into());
        let opts = WatchOptions {
            metrics: None,
            stdout: false,
            alerts: Some(tx),
            secrets,
            started: None,
            progress: None,
            health: Some(health.clone()),
        };
        let (stop, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            let w = Watcher::new(spec, opts);
            if let Err(e) = w
                .run(async {
                    let _ = rx.await;
                })
                .await
            {
                panic!("watcher failed: {e}");
            }
        });
        Self {
            alerts,
            health,
            stop: Some(stop),
            task,
        }
    }

    /// The next alert, or panic after `secs`.
    pub(crate) async fn next(&mut self, secs: u64) -> AlertRecord {
        match tokio::time::timeout(Duration::from_secs(secs), self.alerts.recv()).await {
            Ok(Some(a)) => a,
            _ => panic!("no alert within {secs} s"),
        }
    }

    /// Asserts nothing is reported for `ms`.
    pub(crate) async fn quiet(&mut self, ms: u64) {
        if let Ok(Some(a)) =
            tokio::time::timeout(Duration::from_millis(ms), self.alerts.recv()).await
        {
            panic!(
                "unexpected alert: {}",
                serde_json::to_string_pretty(&a).unwrap_or_default()
            );
        }
    }

    pub(crate) async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(5), &mut self.task).await;
    }
}
