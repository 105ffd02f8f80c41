//! The watch daemon: one ingest task per chain, one loop that applies blocks to the rule engine
//! in arrival order, commits them to the store, prints alerts and dispatches actions.

use std::collections::{HashSet, VecDeque};
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
use crate::ingest::{BlockMsg, Ingest, KEEP, Msg};
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

    /// Runs until `shutdown` completes.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<()> {
        let (mut daemon, mut rx, mut act_rx, tasks) = Daemon::start(self).await?;
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                Some(u) = act_rx.recv() => match u {
                    Update::Sent(group) => daemon.on_sent(group).await?,
                    Update::Done(group) => daemon.on_done(group).await?,
                },
                msg = rx.recv() => {
                    let Some(msg) = msg else { break };
                    daemon.on_msg(msg).await?;
                }
            }
        }
        for t in tasks.into_iter().chain(daemon.running) {
            t.abort();
        }
        Ok(())
    }
}

/// What the watch loop keeps between two messages: the engine (and, once an endpoint has
/// contradicted a log, its shadow), the store, the actions in flight and the metrics.
struct Daemon {
    spec: Arc<GuardSpec>,
    opts: WatchOptions,
    store: Arc<Mutex<Store>>,
    /// The live rule state.
    engine: Engine,
    /// The state saved with the last snapshot, and the last event sequence number it includes.
    base: Engine,
    base_seq: u64,
    /// Once an endpoint has contradicted a log the quorum confirmed: the engine as it would be
    /// without every contradicted log. A finding the engine makes and the shadow does not rests
    /// on contradicted data and is never acted on.
    shadow: Option<Engine>,
    contested_txs: HashSet<B256>,
    /// Per chain: why the daemon stopped acting on it, while it has.
    halted: Vec<Option<String>>,
    /// Per chain: the last committed block.
    checkpoints: Vec<u64>,
    since_snapshot: u64,
    actions: Actions,
    act_tx: mpsc::UnboundedSender<Update>,
    /// Action tasks still sending or waiting for receipts; a stopped daemon stops them (a
    /// restart resumes what they had not sent).
    running: Vec<tokio::task::JoinHandle<()>>,
    metrics: Arc<Mutex<Metrics>>,
    /// The findings of the block being applied (reused between blocks).
    found: Vec<Alert>,
}

type Channels = (
    Daemon,
    mpsc::Receiver<Msg>,
    mpsc::UnboundedReceiver<Update>,
    Vec<tokio::task::JoinHandle<()>>,
);

impl Daemon {
    /// Restores the engine, starts the metrics endpoint, resumes the actions a previous run
    /// left unfinished and spawns one ingest task per chain.
    async fn start(mut watcher: Watcher) -> Result<Channels> {
        let spec = watcher.spec.clone();
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
            engine,
            replayed,
        } = restored;
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
        let actions = Actions::new(spec.clone(), &watcher.opts.secrets).await?;
        let metrics = Arc::new(Mutex::new(Metrics {
            chains: spec.chains.iter().map(|c| c.id.clone()).collect(),
            events: vec![0; spec.chains.len()],
            blocks: vec![0; spec.chains.len()],
            lag: vec![0; spec.chains.len()],
            ..Metrics::default()
        }));
        if let Some(addr) = watcher.opts.metrics {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| Error::Metrics {
                    addr: addr.to_string(),
                    source,
                })?;
            tokio::spawn(metrics::serve(l, metrics.clone()));
        }
        let (act_tx, act_rx) = mpsc::unbounded_channel::<Update>();
        let mut running = Vec::new();
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
        let (rx, tasks) = spawn_chains(&spec, &store, &engine).await?;
        if let Some(s) = watcher.opts.started.take() {
            let _ = s.send(());
        }
        let daemon = Daemon {
            halted: vec![None; spec.chains.len()],
            spec,
            opts: watcher.opts,
            store,
            engine,
            base,
            base_seq,
            shadow: None,
            contested_txs: HashSet::new(),
            checkpoints,
            since_snapshot: 0,
            actions,
            act_tx,
            running,
            metrics,
            found: Vec::new(),
        };
        Ok((daemon, rx, act_rx, tasks))
    }

    fn emit(&self, rec: &AlertRecord) {
        print_alert(self.opts.stdout, self.opts.alerts.as_ref(), rec);
    }

    /// Stores an alert the daemon raised itself and prints it.
    async fn raise(&self, rec: AlertRecord) -> Result<()> {
        let r = rec.clone();
        db(&self.store, move |s| Ok(s.insert_alert(&r)?)).await?;
        self.emit(&rec);
        Ok(())
    }

    /// Prints the alerts that have nothing left to send and dispatches the others as one group:
    /// two that share an action (e.g. message-match and backing both pausing the bridge) send
    /// it once and both show its transaction; a cancel once per argument (two forged
    /// deliveries in one block are two queue ids). Returns the ids dispatched.
    fn act(&mut self, recs: Vec<AlertRecord>) -> Vec<String> {
        let mut group = Vec::new();
        for rec in recs {
            if rec
                .actions
                .iter()
                .all(|a| a.status != ActionStatus::Pending)
            {
                self.emit(&rec);
            } else {
                group.push(rec);
            }
        }
        let dispatched = group.iter().map(|r| r.id.clone()).collect();
        if !group.is_empty() {
            self.running
                .push(self.actions.dispatch(group, self.act_tx.clone()));
        }
        dispatched
    }

    /// Every transaction of a group was sent: store and print its alerts.
    async fn on_sent(&self, group: Vec<AlertRecord>) -> Result<()> {
        let g = group.clone();
        db(&self.store, move |s| {
            for rec in &g {
                s.update_alert(rec)?;
            }
            Ok(())
        })
        .await?;
        for rec in &group {
            self.emit(rec);
        }
        Ok(())
    }

    /// Receipts are in and webhook retries are over: store, and print again only the alerts
    /// whose webhook outcome a retry changed.
    async fn on_done(&self, group: Vec<AlertRecord>) -> Result<()> {
        let g = group.clone();
        let changed = db(&self.store, move |s| {
            let mut changed = Vec::new();
            for rec in &g {
                let before = s.alert(&rec.id)?;
                s.update_alert(rec)?;
                changed.push(before.is_some_and(|b| {
                    b.actions
                        .iter()
                        .zip(&rec.actions)
                        .any(|(x, y)| x.kind == "webhook" && x.status != y.status)
                }));
            }
            Ok(changed)
        })
        .await?;
        for (rec, changed) in group.iter().zip(changed) {
            if changed {
                self.emit(rec);
            }
            for a in &rec.actions {
                tracing::info!(alert = %rec.id, action = %a.id, status = %a.status, tx = ?a.tx, "action finished");
            }
        }
        Ok(())
    }

    async fn on_msg(&mut self, msg: Msg) -> Result<()> {
        match msg {
            Msg::Observed { chain, events } => self.on_observed(chain, events).await,
            Msg::Block(b) => self.on_block(b).await,
            Msg::Reorg { chain, fork } => self.on_reorg(chain, fork).await,
            Msg::Stale { chain, error, last } => {
                let c = &self.spec.chains[usize::from(chain)];
                // The endpoint as `scheme://host[:port]`: its path and query carry hosted
                // providers' API keys.
                let evidence = serde_json::json!({ "error": crate::actions::scrub(&error), "rpc": endpoints_shown(&c.rpc) });
                self.raise(daemon_alert(
                    ringfence_guard::Reason::Stale,
                    &c.id,
                    last,
                    evidence,
                ))
                .await
            }
            Msg::Contradiction {
                chain,
                contradiction,
            } => self.on_contradiction(chain, contradiction).await,
            Msg::Live { chain } => {
                tracing::info!(chain = %self.spec.chains[usize::from(chain)].id, "chain answering again");
                Ok(())
            }
        }
    }

    /// Start-up reads of supplies and balances: applied and stored, never judged.
    async fn on_observed(&mut self, chain: u16, events: Vec<ringfence_guard::Event>) -> Result<()> {
        for e in &events {
            self.engine.apply(e, &mut self.found);
            if let Some(sh) = &mut self.shadow {
                sh.apply(e, &mut self.found);
            }
        }
        self.found.clear();
        let cid = self.spec.chains[usize::from(chain)].id.clone();
        db(&self.store, move |s| Ok(s.append_events(&cid, &events)?)).await
    }

    /// One block: applied to the engine (and its shadow), held back if a finding rests on
    /// contradicted data, otherwise committed, its alerts printed and their actions dispatched.
    async fn on_block(&mut self, b: BlockMsg) -> Result<()> {
        let BlockMsg {
            chain,
            block,
            events,
            seen,
            head,
            contested,
            verdict,
        } = b;
        let cid = self.spec.chains[usize::from(chain)].id.clone();
        self.found.clear();
        let backup = (self.shadow.is_some() || !contested.is_empty()).then(|| {
            (
                self.engine.clone(),
                self.shadow.clone(),
                self.contested_txs.clone(),
            )
        });
        if !contested.is_empty() && self.shadow.is_none() {
            self.shadow = Some(self.engine.clone());
        }
        self.contested_txs.extend(contested.iter().copied());
        for e in &events {
            self.engine.apply(e, &mut self.found);
        }
        let withheld = self.withhold_contested(&events);
        if !withheld.is_empty() {
            let rules: Vec<String> = withheld.iter().map(|a| a.record(&self.spec).rule).collect();
            let reason = format!(
                "block {}: {} would act on logs an endpoint contradicted ({}); not acting on this chain until the endpoints agree",
                block.number,
                rules.join(", "),
                "rpc-disagreement"
            );
            tracing::warn!(chain = %cid, block = block.number, rules = ?rules, "a finding rests on contradicted data: withheld, chain halted");
            if let Some(v) = verdict {
                // The block is not taken: the chain task reads it again.
                if let Some((e, sh, c)) = backup {
                    self.engine = e;
                    self.shadow = sh;
                    self.contested_txs = c;
                }
                let _ = v.send(false);
                if self.halted[usize::from(chain)].is_none() {
                    self.halt(chain, reason.clone());
                    let evidence = serde_json::json!({
                        "halted": true,
                        "reason": reason,
                        "withheld": rules,
                        "contested_txs": contested,
                    });
                    self.raise(rpc_alert(&cid, block.number, evidence)).await?;
                }
                return Ok(());
            }
            // A chain read through one endpoint cannot be held back; its findings that rest on
            // another chain's contradicted data are dropped instead.
            let evidence = serde_json::json!({
                "halted": false,
                "reason": reason,
                "withheld": rules,
            });
            self.raise(rpc_alert(&cid, block.number, evidence)).await?;
        }
        if let Some(v) = verdict {
            let _ = v.send(true);
        }
        if let Some(why) = self.halted[usize::from(chain)].take() {
            tracing::info!(chain = %cid, block = block.number, was = %why, "the endpoints agree again: acting on this chain again");
            if let Some(h) = &self.opts.health {
                h.resume(&cid);
            }
        }
        self.commit(chain, cid, block, events, seen, head).await
    }

    /// With a shadow engine: takes out of `found` the findings the shadow does not make (they
    /// rest on contradicted logs) and returns them.
    fn withhold_contested(&mut self, events: &[ringfence_guard::Event]) -> Vec<Alert> {
        let Some(sh) = &mut self.shadow else {
            return Vec::new();
        };
        let mut believed = Vec::new();
        for e in events
            .iter()
            .filter(|e| e.tx == B256::ZERO || !self.contested_txs.contains(&e.tx))
        {
            sh.apply(e, &mut believed);
        }
        let ids: HashSet<String> = believed.iter().map(|a| a.id(&self.spec)).collect();
        let (keep, held): (Vec<_>, Vec<_>) = self
            .found
            .drain(..)
            .partition(|a| ids.contains(&a.id(&self.spec)));
        self.found = keep;
        held
    }

    /// Stops acting on `chain` and says so on `/healthz`.
    fn halt(&mut self, chain: u16, reason: String) {
        let cid = &self.spec.chains[usize::from(chain)].id;
        if let Some(h) = &self.opts.health {
            h.halt(cid, reason.clone());
        }
        self.halted[usize::from(chain)] = Some(reason);
    }

    /// Commits a taken block (events, alerts, checkpoint), updates the metrics, prints and
    /// dispatches its new alerts, reports progress and moves the snapshot forward now and then.
    async fn commit(
        &mut self,
        chain: u16,
        cid: String,
        block: ringfence_store::BlockRecord,
        events: Vec<ringfence_guard::Event>,
        seen: std::time::Instant,
        head: u64,
    ) -> Result<()> {
        let recs: Vec<AlertRecord> = self.found.iter().map(|a| a.record(&self.spec)).collect();
        let n_events = events.len() as u64;
        let fresh = {
            let (cid, recs) = (cid.clone(), recs.clone());
            db(&self.store, move |s| {
                Ok(s.commit_block(&cid, &block, &events, &recs)?)
            })
            .await?
        };
        if let Some(c) = self.checkpoints.get_mut(usize::from(chain)) {
            *c = block.number;
        }
        self.running.retain(|h| !h.is_finished());
        if let Ok(mut m) = self.metrics.lock() {
            let i = usize::from(chain);
            m.events[i] += n_events.saturating_sub(1);
            m.blocks[i] += 1;
            m.lag[i] = head.saturating_sub(block.number);
        }
        let mut new = Vec::new();
        for (rec, fresh) in recs.into_iter().zip(fresh) {
            if !fresh {
                continue;
            }
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64());
            let latency = (now - block.timestamp as f64).max(0.0);
            tracing::warn!(rule = %rec.rule, reason = %rec.reason, block = rec.block, latency_s = latency, detect_ms = seen.elapsed().as_millis() as u64, "{}", if rec.severity == Severity::Trip { "TRIP" } else { "alert" });
            if let Ok(mut m) = self.metrics.lock() {
                if rec.severity == Severity::Trip {
                    m.trips += 1
                } else {
                    m.alerts += 1
                }
                m.latency_sum += latency;
                m.latency_count += 1;
                m.latency_last = latency;
            }
            new.push(rec);
        }
        let dispatched = self.act(new);
        if let Some(p) = &self.opts.progress {
            let _ = p.send(Committed {
                chain: cid,
                block: block.number,
                dispatched,
            });
        }
        self.since_snapshot += 1;
        if self.since_snapshot >= SNAPSHOT_EVERY {
            self.since_snapshot = 0;
            let (sp, b, cps) = (
                self.spec.clone(),
                self.base.clone(),
                self.checkpoints.clone(),
            );
            let seq = self.base_seq;
            (self.base, self.base_seq) =
                db(&self.store, move |s| advance(&sp, b, seq, &cps, s)).await?;
        }
        Ok(())
    }

    /// The chain reorganised: roll the store back to `fork`, rebuild the engine (and its
    /// shadow) from the stored events, retract the alerts whose evidence is gone and raise
    /// what the new branch changed — a release whose matched source vanished is judged again.
    async fn on_reorg(&mut self, chain: u16, fork: ringfence_store::BlockRecord) -> Result<()> {
        let cid = self.spec.chains[usize::from(chain)].id.clone();
        if let Some(c) = self.checkpoints.get_mut(usize::from(chain)) {
            *c = fork.number;
        }
        let matched = self.engine.matched_after(chain, fork.number);
        if !matched.is_empty() {
            tracing::warn!(chain = %cid, fork = fork.number, releases = matched.len(), "reorg removed the source of matched releases: judging them again");
        }
        self.base.rejudge(&matched);
        let (sp, b, seq) = (self.spec.clone(), self.base.clone(), self.base_seq);
        let believed = self.shadow.is_some().then(|| self.contested_txs.clone());
        let (retracted, rebuilt, new, rebuilt_shadow) = db(&self.store, move |s| {
            let retracted = s.rollback(&cid, &fork)?;
            let (engine, found, _) = replay_after(&sp, &b, seq, s)?;
            // The shadow again: the same history without contradicted logs (those already
            // folded into the snapshot base stay in it).
            let shadow = match believed {
                Some(c) => Some(replay_filtered(&sp, &b, seq, s, &c)?),
                None => None,
            };
            // Findings of the rebuilt history that were never raised: what the reorg changed
            // (a release whose source vanished).
            let mut new = Vec::new();
            for a in &found {
                let rec = a.record(&sp);
                if s.alert(&rec.id)?.is_none() && s.insert_alert(&rec)? {
                    new.push(rec);
                }
            }
            Ok((retracted, engine, new, shadow))
        })
        .await?;
        self.engine = rebuilt;
        self.shadow = rebuilt_shadow;
        for rec in retracted {
            tracing::warn!(alert = %rec.id, "reorg removed the evidence: alert retracted");
            self.emit(&rec);
        }
        for rec in &new {
            tracing::warn!(rule = %rec.rule, reason = %rec.reason, block = rec.block, "{}", if rec.severity == Severity::Trip { "TRIP after reorg" } else { "alert after reorg" });
        }
        self.act(new);
        Ok(())
    }

    /// The endpoints of a quorum chain contradicted each other: an `rpc-disagreement` alert
    /// naming them (redacted), and a halt when no quorum agrees.
    async fn on_contradiction(&mut self, chain: u16, contradiction: Contradiction) -> Result<()> {
        let c = &self.spec.chains[usize::from(chain)];
        let cid = c.id.clone();
        let Contradiction {
            block,
            agreeing,
            dissenting,
            differed,
            no_quorum,
            ..
        } = contradiction;
        let mut evidence = serde_json::json!({
            "endpoints": c.rpc.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "agreeing": agreeing,
            "dissenting": dissenting.iter().map(|(e, n)| serde_json::json!({ "endpoint": e, "contradicted_blocks": n })).collect::<Vec<_>>(),
            "differed": differed,
            "no_quorum": no_quorum,
            "halted": no_quorum,
        });
        if no_quorum {
            let reason = format!(
                "block {block}: the endpoints disagree and no quorum agrees; not acting on this chain until they do"
            );
            evidence["reason"] = serde_json::Value::String(reason.clone());
            self.halt(chain, reason);
        }
        self.raise(rpc_alert(&cid, block, evidence)).await
    }
}

/// Prints an alert as a JSON line on stdout (with `stdout`) and sends it to `alerts`: how
/// `watch` and a fleet member report an alert they are done with.
pub fn print_alert(
    stdout: bool,
    alerts: Option<&mpsc::UnboundedSender<AlertRecord>>,
    rec: &AlertRecord,
) {
    if stdout && let Ok(line) = serde_json::to_string(rec) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
    if let Some(tx) = alerts {
        let _ = tx.send(rec.clone());
    }
}

/// One ingest task per chain, each starting after its stored checkpoint.
async fn spawn_chains(
    spec: &Arc<GuardSpec>,
    store: &Arc<Mutex<Store>>,
    engine: &Engine,
) -> Result<(mpsc::Receiver<Msg>, Vec<tokio::task::JoinHandle<()>>)> {
    let decoder = Arc::new(Decoder::new(spec));
    let (tx, rx) = mpsc::channel::<Msg>(1024);
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
        tasks.extend(spawn_ingest(spec, &decoder, idx, engine, from, tx.clone()).await?);
    }
    Ok((rx, tasks))
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
