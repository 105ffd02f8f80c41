//! The watch daemon: one ingest task per chain, one loop that applies blocks to the rule engine
//! in arrival order, commits them to the store, prints alerts and dispatches actions.

use std::collections::VecDeque;
use std::future::Future;
use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use alloy::primitives::B256;
use alloy::providers::{Provider, ProviderBuilder};
use futures_util::StreamExt;
use ringfence_guard::{ActionStatus, AlertRecord, Engine, GuardSpec, Secret, Severity, Transport};
use ringfence_store::Store;
use tokio::sync::{Notify, mpsc};

use crate::actions::{Actions, Update};
use crate::decode::Decoder;
use crate::error::{Error, Result, rpc};
use crate::ingest::{Ingest, Msg};
use crate::metrics::{self, Metrics};

/// How the daemon reports.
#[derive(Debug, Default)]
pub struct WatchOptions {
    /// Serve Prometheus metrics here.
    pub metrics: Option<SocketAddr>,
    /// Print each alert as a JSON line on stdout.
    pub stdout: bool,
    /// Also send each printed alert here (tests, embedding).
    pub alerts: Option<mpsc::UnboundedSender<AlertRecord>>,
    /// Secrets supplied by an embedding program, looked up before the environment (name of a
    /// `key_env` → hex private key, of a `secret_env` → webhook signing secret). `Debug` shows
    /// only the names.
    pub secrets: std::collections::HashMap<String, Secret>,
    /// Told once the daemon has its keys, webhooks and chain tasks and follows the chains
    /// (readiness).
    pub started: Option<tokio::sync::oneshot::Sender<()>>,
}

/// The `ringfence watch` daemon.
#[derive(Debug)]
pub struct Watcher {
    spec: Arc<GuardSpec>,
    opts: WatchOptions,
}

impl Watcher {
    /// A daemon for a validated config.
    pub fn new(spec: Arc<GuardSpec>, opts: WatchOptions) -> Self {
        Self { spec, opts }
    }

    fn emit(&self, rec: &AlertRecord) {
        if self.opts.stdout
            && let Ok(line) = serde_json::to_string(rec)
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
        if let Some(tx) = &self.opts.alerts {
            let _ = tx.send(rec.clone());
        }
    }

    /// Rebuilds the engine from every stored event.
    fn replay(&self, store: &Store) -> Result<Engine> {
        let mut engine = Engine::new(self.spec.clone());
        let mut sink = Vec::new();
        for (chain, mut ev) in store.events()? {
            let idx = self
                .spec
                .chain_idx(&chain)
                .ok_or_else(|| Error::ConfigChanged {
                    path: self.spec.store.path.clone(),
                    message: format!("chain `{chain}` is no longer configured"),
                })?;
            ev.chain = idx;
            engine.apply(&ev, &mut sink);
            sink.clear();
        }
        Ok(engine)
    }

    /// Runs until `shutdown` completes.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> Result<()> {
        let spec = self.spec.clone();
        let mut store = Store::open(&spec.store.path)?;
        let mut engine = self.replay(&store)?;
        tracing::info!(
            events = engine.events_seen(),
            "engine rebuilt from the store"
        );
        let actions = Actions::new(spec.clone(), &self.opts.secrets).await?;
        let metrics = Arc::new(Mutex::new(Metrics {
            chains: spec.chains.iter().map(|c| c.id.clone()).collect(),
            events: vec![0; spec.chains.len()],
            blocks: vec![0; spec.chains.len()],
            lag: vec![0; spec.chains.len()],
            ..Metrics::default()
        }));
        if let Some(addr) = self.opts.metrics {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| Error::Metrics {
                    addr: addr.to_string(),
                    source,
                })?;
            tokio::spawn(metrics::serve(l, metrics.clone()));
        }
        let (act_tx, mut act_rx) = mpsc::unbounded_channel::<Update>();
        // Actions a previous run decided on but did not finish (killed in between), as one
        // group so that an action two of them share is still sent once.
        let unfinished: Vec<AlertRecord> = store
            .alerts()?
            .into_iter()
            .filter(|rec| !rec.retracted && rec.actions.iter().any(|a| a.status.unfinished(a.tx)))
            .collect();
        if !unfinished.is_empty() {
            tracing::info!(alerts = unfinished.len(), "resuming unfinished actions");
            actions.dispatch(unfinished, act_tx.clone());
        }

        let decoder = Arc::new(Decoder::new(&spec));
        let (tx, mut rx) = mpsc::channel::<Msg>(1024);
        let mut tasks = Vec::new();
        for (i, c) in spec.chains.iter().enumerate() {
            let Ok(idx) = u16::try_from(i) else { continue };
            let provider = ProviderBuilder::new()
                .connect(c.rpc.expose())
                .await
                .map_err(|e| rpc(&c.id, e))?
                .erased();
            let wake = if c.transport == Transport::Ws {
                let n = Arc::new(Notify::new());
                let (p, n2, id) = (provider.clone(), n.clone(), c.id.clone());
                tasks.push(tokio::spawn(async move {
                    match p.subscribe_blocks().await {
                        Ok(sub) => {
                            let mut s = sub.into_stream();
                            while s.next().await.is_some() {
                                n2.notify_one();
                            }
                        }
                        Err(e) => tracing::warn!(chain = %id, error = %e, "newHeads subscription failed; polling"),
                    }
                }));
                Some(n)
            } else {
                None
            };
            let checkpoint = store.checkpoint(&c.id)?;
            let recent: VecDeque<_> = store.recent_blocks(&c.id, 256)?.into();
            let mut observe = Vec::new();
            if checkpoint.is_none() {
                for t in engine.tracked_supplies() {
                    let tok = &spec.tokens[usize::from(t)];
                    if tok.chain == idx {
                        observe.push((usize::from(t), None, tok.address));
                    }
                }
                for (t, holder) in engine.tracked_balances() {
                    let tok = &spec.tokens[usize::from(t)];
                    if tok.chain == idx {
                        observe.push((usize::from(t), Some(holder), tok.address));
                    }
                }
            }
            let needs_minter = (0..spec.tokens.len())
                .map(|t| spec.needs_minter(t as u16))
                .collect();
            let ingest = Ingest {
                chain: idx,
                spec: c.clone(),
                provider,
                decoder: decoder.clone(),
                needs_minter,
                tx: tx.clone(),
                recent,
                next: checkpoint.map(|b| b.number + 1),
                observe,
                wake,
            };
            tasks.push(tokio::spawn(ingest.run()));
        }
        drop(tx);
        if let Some(s) = self.opts.started.take() {
            let _ = s.send(());
        }

        tokio::pin!(shutdown);
        let mut found = Vec::new();
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                Some(u) = act_rx.recv() => match u {
                    Update::Sent(group) => {
                        for rec in &group {
                            store.update_alert(rec)?;
                            self.emit(rec);
                        }
                    }
                    Update::Done(group) => {
                        for rec in &group {
                            // Printed again only when a webhook retry changed the outcome.
                            let before = store.alert(&rec.id)?;
                            store.update_alert(rec)?;
                            let changed = before.is_some_and(|b| {
                                b.actions.iter().zip(&rec.actions).any(|(x, y)| x.kind == "webhook" && x.status != y.status)
                            });
                            if changed {
                                self.emit(rec);
                            }
                            for a in &rec.actions {
                                tracing::info!(alert = %rec.id, action = %a.id, status = %a.status, tx = ?a.tx, "action finished");
                            }
                        }
                    }
                },
                msg = rx.recv() => {
                    let Some(msg) = msg else { break };
                    match msg {
                        Msg::Observed { chain, events } => {
                            for e in &events {
                                engine.apply(e, &mut found);
                            }
                            found.clear();
                            store.append_events(&spec.chains[usize::from(chain)].id, &events)?;
                        }
                        Msg::Block { chain, block, events, seen, head } => {
                            let cid = &spec.chains[usize::from(chain)].id;
                            found.clear();
                            for e in &events {
                                engine.apply(e, &mut found);
                            }
                            let recs: Vec<AlertRecord> = found.iter().map(|a| a.record(&spec)).collect();
                            let fresh = store.commit_block(cid, &block, &events, &recs)?;
                            if let Ok(mut m) = metrics.lock() {
                                let i = usize::from(chain);
                                m.events[i] += events.len() as u64 - 1;
                                m.blocks[i] += 1;
                                m.lag[i] = head.saturating_sub(block.number);
                            }
                            // The block's trips are dispatched as one group: two that share an
                            // action (e.g. message-match and backing both pausing the bridge)
                            // send it once and both show its transaction; a cancel once per
                            // argument (two forged deliveries in one block are two queue ids).
                            let mut group = Vec::new();
                            for (rec, fresh) in recs.into_iter().zip(fresh) {
                                if !fresh {
                                    continue;
                                }
                                let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
                                let latency = (now - block.timestamp as f64).max(0.0);
                                tracing::warn!(rule = %rec.rule, reason = %rec.reason, block = rec.block, latency_s = latency, detect_ms = seen.elapsed().as_millis() as u64, "{}", if rec.severity == Severity::Trip { "TRIP" } else { "alert" });
                                if let Ok(mut m) = metrics.lock() {
                                    if rec.severity == Severity::Trip { m.trips += 1 } else { m.alerts += 1 }
                                    m.latency_sum += latency;
                                    m.latency_count += 1;
                                    m.latency_last = latency;
                                }
                                if rec.actions.iter().all(|a| a.status != ActionStatus::Pending) {
                                    self.emit(&rec);
                                } else {
                                    group.push(rec);
                                }
                            }
                            if !group.is_empty() {
                                actions.dispatch(group, act_tx.clone());
                            }
                        }
                        Msg::Reorg { chain, fork } => {
                            let cid = spec.chains[usize::from(chain)].id.clone();
                            let retracted = store.rollback(&cid, &fork)?;
                            engine = self.replay(&store)?;
                            for rec in retracted {
                                tracing::warn!(alert = %rec.id, "reorg removed the evidence: alert retracted");
                                self.emit(&rec);
                            }
                        }
                        Msg::Stale { chain, error, last } => {
                            let c = &spec.chains[usize::from(chain)];
                            // The endpoint as `scheme://host[:port]`: its path and query carry
                            // hosted providers' API keys.
                            let rec = daemon_alert("stale", &c.id, last, serde_json::json!({ "error": crate::actions::scrub(&error), "rpc": c.rpc.to_string() }));
                            store.insert_alert(&rec)?;
                            self.emit(&rec);
                        }
                        Msg::Live { chain } => {
                            tracing::info!(chain = %spec.chains[usize::from(chain)].id, "chain answering again");
                        }
                    }
                }
            }
        }
        for t in tasks {
            t.abort();
        }
        Ok(())
    }
}

fn daemon_alert(kind: &str, chain: &str, block: u64, evidence: serde_json::Value) -> AlertRecord {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    AlertRecord {
        id: format!("{kind}-{chain}-{now}"),
        rule: kind.to_owned(),
        kind: kind.to_owned(),
        severity: Severity::Alert,
        reason: kind.to_owned(),
        chain: chain.to_owned(),
        block,
        timestamp: now,
        tx: None::<B256>,
        log_index: 0,
        evidence,
        actions: Vec::new(),
        retracted: false,
    }
}
