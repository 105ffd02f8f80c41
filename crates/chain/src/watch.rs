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
use ringfence_guard::{
    ActionStatus, Alert, AlertRecord, Engine, GuardSpec, Secret, Severity, Snapshot, Transport,
};
use ringfence_store::Store;
use tokio::sync::{Notify, mpsc};

use crate::actions::{Actions, Update};
use crate::decode::Decoder;
use crate::error::{Error, Result, rpc};
use crate::ingest::{Ingest, KEEP, Msg};
use crate::metrics::{self, Metrics};
use crate::quorum_reader::QuorumChainReader;
use crate::reader::{Contradiction, RpcReader};
use ringfence_quorum::QuorumReader;

/// Committed blocks between two attempts to move the engine snapshot forward.
const SNAPSHOT_EVERY: u64 = 256;

/// A block the daemon has committed (events, alerts, checkpoint), reported to an embedding
/// program (the replay lab, tests) through [`WatchOptions::progress`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Committed {
    /// Chain id from the config.
    pub chain: String,
    /// Block number.
    pub block: u64,
    /// Ids of the new alerts of this block whose actions were dispatched: each is sent on
    /// [`WatchOptions::alerts`] once its transactions are sent. Alerts without actions to run
    /// were sent before this report.
    pub dispatched: Vec<String>,
}

/// The engine a restart begins with.
#[derive(Debug)]
pub struct Restored {
    /// The state saved with the last snapshot (every event up to `base_seq` applied).
    pub base: Engine,
    /// The last event sequence number the base includes.
    pub base_seq: u64,
    /// The base plus the stored events that follow it: the live state.
    pub engine: Engine,
    /// Events replayed on top of the snapshot.
    pub replayed: u64,
}

/// Loads the engine snapshot of `store` (a fresh engine without one) and replays the stored
/// events that follow it. Alerts the replay raises are already stored and are dropped.
pub fn restore(spec: &Arc<GuardSpec>, store: &Store) -> Result<Restored> {
    let (base, base_seq) = match store.snapshot()? {
        Some((seq, body)) => {
            let snap: Snapshot = serde_json::from_str(&body).map_err(|e| Error::ConfigChanged {
                path: spec.store.path.clone(),
                message: format!("the engine snapshot does not load: {e}"),
            })?;
            let (engine, fresh) = Engine::restore(spec.clone(), snap);
            for id in fresh {
                tracing::warn!(rule = %id, "rule changed or added since the snapshot: its state starts empty");
            }
            (engine, seq)
        }
        None => (Engine::new(spec.clone()), 0),
    };
    let (engine, _, replayed) = replay_after(spec, &base, base_seq, store)?;
    Ok(Restored {
        base,
        base_seq,
        engine,
        replayed,
    })
}

/// `base` plus the stored events after `seq`: the engine and the findings of the replay.
fn replay_after(
    spec: &GuardSpec,
    base: &Engine,
    seq: u64,
    store: &Store,
) -> Result<(Engine, Vec<Alert>, u64)> {
    let mut engine = base.clone();
    let mut found = Vec::new();
    let mut n = 0;
    for (_, chain, mut ev) in store.events_after(seq)? {
        ev.chain = spec.chain_idx(&chain).ok_or_else(|| Error::ConfigChanged {
            path: spec.store.path.clone(),
            message: format!("chain `{chain}` is no longer configured"),
        })?;
        engine.apply(&ev, &mut found);
        n += 1;
    }
    Ok((engine, found, n))
}

/// `base` plus the stored events after `seq` except those of the `contested` transactions.
fn replay_filtered(
    spec: &GuardSpec,
    base: &Engine,
    seq: u64,
    store: &Store,
    contested: &std::collections::HashSet<B256>,
) -> Result<Engine> {
    let mut engine = base.clone();
    let mut sink = Vec::new();
    for (_, chain, mut ev) in store.events_after(seq)? {
        if ev.tx != B256::ZERO && contested.contains(&ev.tx) {
            continue;
        }
        ev.chain = spec.chain_idx(&chain).ok_or_else(|| Error::ConfigChanged {
            path: spec.store.path.clone(),
            message: format!("chain `{chain}` is no longer configured"),
        })?;
        engine.apply(&ev, &mut sink);
        sink.clear();
    }
    Ok(engine)
}

/// Moves the snapshot forward over the stored events that no reorg the guard follows can
/// remove any more (at least [`KEEP`] blocks below their chain's checkpoint), saves it and
/// prunes those events. Returns the new base and its sequence number.
fn advance(
    spec: &GuardSpec,
    mut base: Engine,
    seq: u64,
    checkpoints: &[u64],
    store: &mut Store,
) -> Result<(Engine, u64)> {
    let mut last = seq;
    let mut sink = Vec::new();
    for (n, chain, mut ev) in store.events_after(seq)? {
        let Some(idx) = spec.chain_idx(&chain) else {
            break;
        };
        let top = checkpoints.get(usize::from(idx)).copied().unwrap_or(0);
        if ev.block.saturating_add(KEEP as u64) > top {
            break;
        }
        ev.chain = idx;
        base.apply(&ev, &mut sink);
        sink.clear();
        last = n;
    }
    if last > seq {
        let body = serde_json::to_string(&base.snapshot()).map_err(|e| Error::ConfigChanged {
            path: spec.store.path.clone(),
            message: format!("the engine state does not serialise: {e}"),
        })?;
        let pruned = store.save_snapshot(last, &body)?;
        tracing::debug!(seq = last, pruned, "engine snapshot saved");
    }
    Ok((base, last))
}

/// Runs blocking store work (SQLite) off the async loop.
async fn db<T: Send + 'static>(
    store: &Arc<Mutex<Store>>,
    f: impl FnOnce(&mut Store) -> Result<T> + Send + 'static,
) -> Result<T> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || {
        let mut s = store
            .lock()
            .map_err(|_| Error::Task("the store lock is poisoned".into()))?;
        f(&mut s)
    })
    .await
    .map_err(|e| Error::Task(e.to_string()))?
}

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
    /// Told after each committed block (the replay lab waits on it before mining the next).
    pub progress: Option<mpsc::UnboundedSender<Committed>>,
    /// Where the daemon says which chains it has halted on (the server's `/healthz`).
    pub health: Option<Arc<ChainHealth>>,
}

/// The chains the daemon has stopped acting on, with why: their endpoints disagree and no quorum
/// agrees, or a finding rests on data an endpoint contradicted. Shared with the server, whose
/// `/healthz` reports them as `degraded`.
#[derive(Debug, Default)]
pub struct ChainHealth {
    halted: Mutex<std::collections::BTreeMap<String, String>>,
}

impl ChainHealth {
    /// Each halted chain (config id) with the reason.
    pub fn halted(&self) -> Vec<(String, String)> {
        self.lock()
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Records that the daemon stopped acting on `chain`, and why.
    pub fn halt(&self, chain: &str, reason: impl Into<String>) {
        self.lock().insert(chain.to_owned(), reason.into());
    }

    /// Records that the daemon acts on `chain` again.
    pub fn resume(&self, chain: &str) {
        self.lock().remove(chain);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::BTreeMap<String, String>> {
        match self.halted.lock() {
            Ok(h) => h,
            Err(p) => p.into_inner(),
        }
    }
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

    /// Runs until `shutdown` completes.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> Result<()> {
        let spec = self.spec.clone();
        let (store, restored) = {
            let path = spec.store.path.clone();
            let spec = spec.clone();
            tokio::task::spawn_blocking(move || -> Result<_> {
                let store = Store::open(&path)?;
                let r = restore(&spec, &store)?;
                Ok((store, r))
            })
            .await
            .map_err(|e| Error::Task(e.to_string()))??
        };
        let Restored {
            base,
            base_seq,
            mut engine,
            replayed,
        } = restored;
        let (mut base, mut base_seq) = (base, base_seq);
        tracing::info!(
            events = engine.events_seen(),
            replayed,
            "engine restored from the snapshot and the events after it"
        );
        let mut checkpoints = Vec::with_capacity(spec.chains.len());
        for c in &spec.chains {
            checkpoints.push(store.checkpoint(&c.id)?.map_or(0, |b| b.number));
        }
        let store = Arc::new(Mutex::new(store));
        let mut since_snapshot = 0u64;
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
        // Action tasks still sending or waiting for receipts; a stopped daemon stops them (a
        // restart resumes what they had not sent).
        let mut running: Vec<tokio::task::JoinHandle<()>> = Vec::new();
        // Actions a previous run decided on but did not finish (killed in between), as one
        // group so that an action two of them share is still sent once.
        let unfinished: Vec<AlertRecord> = db(&store, |s| Ok(s.alerts()?))
            .await?
            .into_iter()
            .filter(|rec| !rec.retracted && rec.actions.iter().any(|a| a.status.unfinished(a.tx)))
            .collect();
        if !unfinished.is_empty() {
            tracing::info!(alerts = unfinished.len(), "resuming unfinished actions");
            running.push(actions.dispatch(unfinished, act_tx.clone()));
        }

        let decoder = Arc::new(Decoder::new(&spec));
        let (tx, mut rx) = mpsc::channel::<Msg>(1024);
        let mut tasks = Vec::new();
        for (i, c) in spec.chains.iter().enumerate() {
            let Ok(idx) = u16::try_from(i) else { continue };
            let (checkpoint, recent) = {
                let s = store
                    .lock()
                    .map_err(|_| Error::Task("the store lock is poisoned".into()))?;
                (s.checkpoint(&c.id)?, s.recent_blocks(&c.id, KEEP as u64)?)
            };
            let from = IngestStart {
                next: checkpoint.map(|b| b.number + 1),
                recent,
            };
            tasks.extend(spawn_ingest(&spec, &decoder, idx, &engine, from, tx.clone()).await?);
        }
        drop(tx);
        if let Some(s) = self.opts.started.take() {
            let _ = s.send(());
        }

        tokio::pin!(shutdown);
        let mut found = Vec::new();
        // Once an endpoint has contradicted a log the quorum confirmed: the engine as it would
        // be without every contradicted log. A finding the engine makes and the shadow does not
        // rests on contradicted data and is never acted on.
        let mut shadow: Option<Engine> = None;
        let mut contested_txs: std::collections::HashSet<B256> = Default::default();
        let mut halted: Vec<Option<String>> = vec![None; spec.chains.len()];
        let health = self.opts.health.clone();
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                Some(u) = act_rx.recv() => match u {
                    Update::Sent(group) => {
                        let g = group.clone();
                        db(&store, move |s| {
                            for rec in &g {
                                s.update_alert(rec)?;
                            }
                            Ok(())
                        }).await?;
                        for rec in &group {
                            self.emit(rec);
                        }
                    }
                    Update::Done(group) => {
                        let g = group.clone();
                        // Printed again only when a webhook retry changed the outcome.
                        let changed = db(&store, move |s| {
                            let mut changed = Vec::new();
                            for rec in &g {
                                let before = s.alert(&rec.id)?;
                                s.update_alert(rec)?;
                                changed.push(before.is_some_and(|b| {
                                    b.actions.iter().zip(&rec.actions).any(|(x, y)| x.kind == "webhook" && x.status != y.status)
                                }));
                            }
                            Ok(changed)
                        }).await?;
                        for (rec, changed) in group.iter().zip(changed) {
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
                                if let Some(sh) = &mut shadow {
                                    sh.apply(e, &mut found);
                                }
                            }
                            found.clear();
                            let cid = spec.chains[usize::from(chain)].id.clone();
                            db(&store, move |s| Ok(s.append_events(&cid, &events)?)).await?;
                        }
                        Msg::Block { chain, block, events, seen, head, contested, verdict } => {
                            let cid = spec.chains[usize::from(chain)].id.clone();
                            found.clear();
                            let backup = (shadow.is_some() || !contested.is_empty()).then(|| (engine.clone(), shadow.clone(), contested_txs.clone()));
                            if !contested.is_empty() && shadow.is_none() {
                                shadow = Some(engine.clone());
                            }
                            contested_txs.extend(contested.iter().copied());
                            for e in &events {
                                engine.apply(e, &mut found);
                            }
                            let mut withheld = Vec::new();
                            if let Some(sh) = &mut shadow {
                                let mut believed = Vec::new();
                                for e in events.iter().filter(|e| e.tx == B256::ZERO || !contested_txs.contains(&e.tx)) {
                                    sh.apply(e, &mut believed);
                                }
                                let ids: std::collections::HashSet<String> = believed.iter().map(|a| a.id(&spec)).collect();
                                let (keep, held): (Vec<_>, Vec<_>) = found.drain(..).partition(|a| ids.contains(&a.id(&spec)));
                                found = keep;
                                withheld = held;
                            }
                            if !withheld.is_empty() {
                                let rules: Vec<String> = withheld.iter().map(|a| a.record(&spec).rule).collect();
                                let reason = format!("block {}: {} would act on logs an endpoint contradicted ({}); not acting on this chain until the endpoints agree", block.number, rules.join(", "), "rpc-disagreement");
                                tracing::warn!(chain = %cid, block = block.number, rules = ?rules, "a finding rests on contradicted data: withheld, chain halted");
                                if let Some(v) = verdict {
                                    // The block is not taken: the chain task reads it again.
                                    if let Some((e, sh, c)) = backup {
                                        engine = e;
                                        shadow = sh;
                                        contested_txs = c;
                                    }
                                    let _ = v.send(false);
                                    if halted[usize::from(chain)].is_none() {
                                        halted[usize::from(chain)] = Some(reason.clone());
                                        if let Some(h) = &health {
                                            h.halt(&cid, reason.clone());
                                        }
                                        let rec = rpc_alert(&cid, block.number, serde_json::json!({
                                            "halted": true,
                                            "reason": reason,
                                            "withheld": rules,
                                            "contested_txs": contested,
                                        }));
                                        let r = rec.clone();
                                        db(&store, move |s| Ok(s.insert_alert(&r)?)).await?;
                                        self.emit(&rec);
                                    }
                                    continue;
                                }
                                // A chain read through one endpoint cannot be held back; its
                                // findings that rest on another chain's contradicted data are
                                // dropped instead.
                                let rec = rpc_alert(&cid, block.number, serde_json::json!({
                                    "halted": false,
                                    "reason": reason,
                                    "withheld": rules,
                                }));
                                let r = rec.clone();
                                db(&store, move |s| Ok(s.insert_alert(&r)?)).await?;
                                self.emit(&rec);
                            }
                            if let Some(v) = verdict {
                                let _ = v.send(true);
                            }
                            if let Some(why) = halted[usize::from(chain)].take() {
                                tracing::info!(chain = %cid, block = block.number, was = %why, "the endpoints agree again: acting on this chain again");
                                if let Some(h) = &health {
                                    h.resume(&cid);
                                }
                            }
                            let recs: Vec<AlertRecord> = found.iter().map(|a| a.record(&spec)).collect();
                            let n_events = events.len() as u64;
                            let fresh = {
                                let (cid, recs) = (cid.clone(), recs.clone());
                                db(&store, move |s| Ok(s.commit_block(&cid, &block, &events, &recs)?)).await?
                            };
                            if let Some(c) = checkpoints.get_mut(usize::from(chain)) {
                                *c = block.number;
                            }
                            let mut dispatched = Vec::new();
                            running.retain(|h| !h.is_finished());
                            if let Ok(mut m) = metrics.lock() {
                                let i = usize::from(chain);
                                m.events[i] += n_events.saturating_sub(1);
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
                                    dispatched.push(rec.id.clone());
                                    group.push(rec);
                                }
                            }
                            if !group.is_empty() {
                                running.push(actions.dispatch(group, act_tx.clone()));
                            }
                            if let Some(p) = &self.opts.progress {
                                let _ = p.send(Committed { chain: cid, block: block.number, dispatched });
                            }
                            since_snapshot += 1;
                            if since_snapshot >= SNAPSHOT_EVERY {
                                since_snapshot = 0;
                                let (sp, b, cps) = (spec.clone(), base.clone(), checkpoints.clone());
                                (base, base_seq) = db(&store, move |s| advance(&sp, b, base_seq, &cps, s)).await?;
                            }
                        }
                        Msg::Reorg { chain, fork } => {
                            let cid = spec.chains[usize::from(chain)].id.clone();
                            if let Some(c) = checkpoints.get_mut(usize::from(chain)) {
                                *c = fork.number;
                            }
                            // Releases matched against a source event the reorg removes are
                            // judged again on the new branch.
                            let matched = engine.matched_after(chain, fork.number);
                            if !matched.is_empty() {
                                tracing::warn!(chain = %cid, fork = fork.number, releases = matched.len(), "reorg removed the source of matched releases: judging them again");
                            }
                            base.rejudge(&matched);
                            let (sp, b) = (spec.clone(), base.clone());
                            let believed = shadow.is_some().then(|| contested_txs.clone());
                            let (retracted, rebuilt, new, rebuilt_shadow) = db(&store, move |s| {
                                let retracted = s.rollback(&cid, &fork)?;
                                let (engine, found, _) = replay_after(&sp, &b, base_seq, s)?;
                                // The shadow again: the same history without contradicted logs
                                // (those already folded into the snapshot base stay in it).
                                let shadow = match believed {
                                    Some(c) => Some(replay_filtered(&sp, &b, base_seq, s, &c)?),
                                    None => None,
                                };
                                // Findings of the rebuilt history that were never raised: what
                                // the reorg changed (a release whose source vanished).
                                let mut new = Vec::new();
                                for a in &found {
                                    let rec = a.record(&sp);
                                    if s.alert(&rec.id)?.is_none() && s.insert_alert(&rec)? {
                                        new.push(rec);
                                    }
                                }
                                Ok((retracted, engine, new, shadow))
                            }).await?;
                            engine = rebuilt;
                            shadow = rebuilt_shadow;
                            for rec in retracted {
                                tracing::warn!(alert = %rec.id, "reorg removed the evidence: alert retracted");
                                self.emit(&rec);
                            }
                            let mut group = Vec::new();
                            for rec in new {
                                tracing::warn!(rule = %rec.rule, reason = %rec.reason, block = rec.block, "{}", if rec.severity == Severity::Trip { "TRIP after reorg" } else { "alert after reorg" });
                                if rec.actions.iter().all(|a| a.status != ActionStatus::Pending) {
                                    self.emit(&rec);
                                } else {
                                    group.push(rec);
                                }
                            }
                            if !group.is_empty() {
                                running.push(actions.dispatch(group, act_tx.clone()));
                            }
                        }
                        Msg::Stale { chain, error, last } => {
                            let c = &spec.chains[usize::from(chain)];
                            // The endpoint as `scheme://host[:port]`: its path and query carry
                            // hosted providers' API keys.
                            let rec = daemon_alert(ringfence_guard::Reason::Stale, &c.id, last, serde_json::json!({ "error": crate::actions::scrub(&error), "rpc": endpoints_shown(&c.rpc) }));
                            let r = rec.clone();
                            db(&store, move |s| Ok(s.insert_alert(&r)?)).await?;
                            self.emit(&rec);
                        }
                        Msg::Contradiction { chain, contradiction } => {
                            let cid = spec.chains[usize::from(chain)].id.clone();
                            let Contradiction { block, agreeing, dissenting, differed, no_quorum, .. } = contradiction;
                            let mut evidence = serde_json::json!({
                                "endpoints": spec.chains[usize::from(chain)].rpc.iter().map(ToString::to_string).collect::<Vec<_>>(),
                                "agreeing": agreeing,
                                "dissenting": dissenting.iter().map(|(e, n)| serde_json::json!({ "endpoint": e, "contradicted_blocks": n })).collect::<Vec<_>>(),
                                "differed": differed,
                                "no_quorum": no_quorum,
                                "halted": no_quorum,
                            });
                            if no_quorum {
                                let reason = format!("block {block}: the endpoints disagree and no quorum agrees; not acting on this chain until they do");
                                evidence["reason"] = serde_json::Value::String(reason.clone());
                                halted[usize::from(chain)] = Some(reason.clone());
                                if let Some(h) = &health {
                                    h.halt(&cid, reason);
                                }
                            }
                            let rec = rpc_alert(&cid, block, evidence);
                            let r = rec.clone();
                            db(&store, move |s| Ok(s.insert_alert(&r)?)).await?;
                            self.emit(&rec);
                        }
                        Msg::Live { chain } => {
                            tracing::info!(chain = %spec.chains[usize::from(chain)].id, "chain answering again");
                        }
                    }
                }
            }
        }
        for t in tasks.into_iter().chain(running) {
            t.abort();
        }
        Ok(())
    }
}

/// Where a chain's ingest task starts: after the last block taken (none: first start, at the
/// chain's `start_block` or head, with the start-up reads of supplies and balances) and the
/// recent block hashes it checks parents against (oldest first).
#[derive(Clone, Debug, Default)]
pub struct IngestStart {
    /// The next block to read; `None` on a first start.
    pub next: Option<u64>,
    /// Recent blocks already taken, oldest first (the deepest reorg followed is 256 blocks).
    pub recent: Vec<ringfence_store::BlockRecord>,
}

/// Starts the ingest of chain `idx` of `spec`: the task that follows it (through one endpoint
/// or the quorum, as `watch` does) and hands each message to `tx` — the watch daemon's loop, or
/// a fleet member's bus publisher. `engine` says which supplies and balances a first start
/// reads. Returns the spawned tasks (abort them to stop).
pub async fn spawn_ingest(
    spec: &Arc<GuardSpec>,
    decoder: &Arc<Decoder>,
    idx: u16,
    engine: &Engine,
    from: IngestStart,
    tx: mpsc::Sender<Msg>,
) -> Result<Vec<tokio::task::JoinHandle<()>>> {
    let mut tasks = Vec::new();
    let Some(c) = spec.chains.get(usize::from(idx)) else {
        return Err(Error::Task(format!("no chain {idx} in the config")));
    };
    let checkpoint = from.next;
    let recent = from.recent;
    // One endpoint: read it directly, as always. Several: through the quorum, polled
    // (one endpoint's new-head subscription would let it pace the others).
    let provider = match &c.rpc[..] {
        [one] => Some(
            ProviderBuilder::new()
                .connect(one.expose())
                .await
                .map_err(|e| rpc(&c.id, e))?
                .erased(),
        ),
        _ => None,
    };
    let (addresses, topics) = decoder.watched(idx);
    let wake = if let Some(provider) = provider.as_ref().filter(|_| c.transport == Transport::Ws) {
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
                Err(e) => {
                    tracing::warn!(chain = %id, error = %e, "newHeads subscription failed; polling")
                }
            }
        }));
        Some(n)
    } else {
        None
    };
    let recent: VecDeque<_> = recent.into();
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
    let ingest = Ingest {
        chain: idx,
        spec: c.clone(),
        reader: (),
        decoder: decoder.clone(),
        tx: tx.clone(),
        recent,
        next: checkpoint,
        observe,
        wake,
        confirm: c.rpc.len() > 1,
    };
    if let Some(provider) = provider {
        let reader = RpcReader::new(c.id.clone(), provider, addresses, topics);
        tasks.push(tokio::spawn(ingest.with_reader(reader).run()));
    } else {
        let reader = QuorumReader::new(c.rpc.iter().map(|u| u.expose().to_owned()), Some(c.quorum))
            .map_err(|e| rpc(&c.id, e))?;
        let reader = QuorumChainReader::new(c.id.clone(), reader, addresses, topics);
        tasks.push(tokio::spawn(ingest.with_reader(reader).run()));
    }
    Ok(tasks)
}

/// A chain's endpoints as alerts show them: one redacted URL, or the redacted list.
fn endpoints_shown(rpc: &[ringfence_guard::RpcUrl]) -> serde_json::Value {
    match rpc {
        [one] => serde_json::Value::String(one.to_string()),
        many => many.iter().map(ToString::to_string).collect(),
    }
}

/// An `rpc-disagreement` alert: an id unique per chain, block and moment (one block may be
/// reported twice: contradicted, then held).
fn rpc_alert(chain: &str, block: u64, evidence: serde_json::Value) -> AlertRecord {
    let mut rec = daemon_alert(
        ringfence_guard::Reason::RpcDisagreement,
        chain,
        block,
        evidence,
    );
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    rec.id = format!("rpc-disagreement-{chain}-{block}-{nanos}");
    rec
}

fn daemon_alert(
    reason: ringfence_guard::Reason,
    chain: &str,
    block: u64,
    evidence: serde_json::Value,
) -> AlertRecord {
    let kind = reason.as_str();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    AlertRecord {
        id: format!("{kind}-{chain}-{now}"),
        rule: kind.to_owned(),
        kind: reason.kind(),
        severity: Severity::Alert,
        reason,
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
