//! One fleet member: a lease loop per chain (ingest that chain while holding its lease, through
//! the watch daemon's own ingest, and append its blocks to the log), and the rule worker (every
//! block of the log through the watch daemon's engine, store and actions, each alert claimed
//! once before it is printed, published or acted on).

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::{self, DeliverPolicy};
use futures_util::StreamExt;
use ringfence_chain::{Actions, Decoder, IngestMsg, IngestStart, Update};
use ringfence_guard::{ActionStatus, AlertRecord, Engine, GuardSpec, Secret, Severity};
use ringfence_store::Store;
use tokio::sync::{mpsc, oneshot};

use crate::bus::{self, Bus, BusOptions};
use crate::claim::{self, Claim, ClaimState, ClaimStep};
use crate::codec::{self, BLOCKS, Body, Envelope, Header, VERSION};
use crate::error::{Result, bus as bus_err};
use crate::lease::{self, Lease, LeaseStep};

/// How a member runs.
#[derive(Debug)]
pub struct MemberOptions {
    /// `nats://HOST:PORT[,…]`.
    pub urls: String,
    /// This member's id (unique in the fleet; a restarted member may reuse its id).
    pub id: String,
    /// This member's SQLite store: its checkpoint, alerts and audit trail.
    pub store: PathBuf,
    /// Stream and bucket settings.
    pub bus: BusOptions,
    /// How long a claim may stay unsent before another member takes it over.
    pub claim_timeout: Duration,
    /// Print each alert this member claimed as a JSON line on stdout.
    pub stdout: bool,
    /// Also send each alert this member claimed here (tests, embedding).
    pub alerts: Option<mpsc::UnboundedSender<AlertRecord>>,
    /// Secrets supplied by an embedding program (see `ringfence_chain::WatchOptions`).
    pub secrets: HashMap<String, Secret>,
    /// Told once the member is on the bus and follows the log.
    pub started: Option<oneshot::Sender<()>>,
}

impl MemberOptions {
    /// Options with the defaults: leases of 3 s, claims retried after 10 s.
    pub fn new(urls: impl Into<String>, id: impl Into<String>, store: PathBuf) -> Self {
        Self {
            urls: urls.into(),
            id: id.into(),
            store,
            bus: BusOptions::default(),
            claim_timeout: Duration::from_secs(10),
            stdout: false,
            alerts: None,
            secrets: HashMap::new(),
            started: None,
        }
    }
}

/// One member of a fleet.
#[derive(Debug)]
pub struct Member {
    spec: Arc<GuardSpec>,
    config: String,
    opts: MemberOptions,
}

/// Tasks aborted when dropped.
struct Tasks(Vec<tokio::task::JoinHandle<()>>);

impl Drop for Tasks {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// An alert this member raised whose claim another member holds.
struct Pending {
    rec: AlertRecord,
    revision: Option<u64>,
    since: Instant,
}

impl Pending {
    fn new(rec: AlertRecord) -> Self {
        Self {
            rec,
            revision: None,
            since: Instant::now(),
        }
    }
}

/// Alerts older than this (by the log's timestamp of their block) are recorded but not claimed:
/// the claim bucket forgets after 7 days, and a member joining late must not act on history.
/// How long the server waits for a member to acknowledge a block before it delivers it again
/// (to this member once restarted): a restart resumes within this.
const ACK_WAIT: Duration = Duration::from_secs(2);

const ACT_WITHIN: Duration = Duration::from_secs(6 * 24 * 3600);

impl Member {
    /// A member for a validated config whose file hashes to `config` ([`codec::config_hash`]).
    pub fn new(spec: Arc<GuardSpec>, config: String, opts: MemberOptions) -> Self {
        Self { spec, config, opts }
    }

    fn emit(&self, bus: &Bus, rec: &AlertRecord) {
        ringfence_chain::print_alert(self.opts.stdout, self.opts.alerts.as_ref(), rec);
        let env = Envelope {
            v: VERSION,
            config: self.config.clone(),
            member: self.opts.id.clone(),
            body: Body::Alert {
                record: Box::new(rec.clone()),
            },
        };
        let (bus, payload) = (bus.clone(), codec::encode(&env));
        tokio::spawn(async move {
            if let Err(e) = bus.publish_alert(payload).await {
                tracing::warn!(error = %e, "alert not published on the bus");
            }
        });
    }

    fn claim(&self, alert: &str, state: ClaimState) -> Claim {
        Claim {
            v: VERSION,
            alert: alert.to_owned(),
            member: self.opts.id.clone(),
            state,
        }
    }

    /// Runs until `shutdown` completes.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> Result<()> {
        let spec = self.spec.clone();
        let bus = Bus::connect(&self.opts.urls, &self.opts.id, &self.opts.bus).await?;
        let store = Store::open(&self.opts.store)?;
        let engine = ringfence_chain::restore(&spec, &store)?.engine;
        let actions = Actions::new(spec.clone(), &self.opts.secrets).await?;
        tracing::info!(member = %self.opts.id, config = %self.config, events = engine.events_seen(), "fleet member on the bus");
        let (raised_tx, mut raised_rx) = mpsc::unbounded_channel::<AlertRecord>();
        let leases = self.spawn_leases(&bus, &raised_tx);
        // A member whose store is new (a new host under an old name) reads the log from its
        // start.
        let fresh = spec
            .chains
            .iter()
            .all(|c| store.checkpoint(&c.id).ok().flatten().is_none());
        let mut log = self.follow_log(&bus, fresh).await?;
        if let Some(s) = self.opts.started.take() {
            let _ = s.send(());
        }
        let (act_tx, mut act_rx) = mpsc::unbounded_channel::<Update>();
        // Alerts a previous run of this member left unsent, and alerts others claimed: watched,
        // taken over when their claim stalls.
        let pending = store
            .alerts()?
            .into_iter()
            .filter(|r| !r.retracted && r.actions.iter().any(|a| a.status.unfinished(a.tx)))
            .map(Pending::new)
            .collect();
        let mut s = Session {
            member: self,
            bus,
            store,
            engine,
            actions,
            act_tx,
            running: Vec::new(),
            revisions: HashMap::new(),
            pending,
            found: Vec::new(),
        };
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                Some(rec) = raised_rx.recv() => s.on_raised(rec).await?,
                Some(u) = act_rx.recv() => s.on_update(u).await?,
                _ = tick.tick() => s.retry_claims().await,
                m = log.next() => {
                    let Some(m) = m else { break };
                    match m {
                        Ok(m) => s.on_block_message(m).await?,
                        Err(e) => tracing::warn!(error = %e, "block log: read failed; the consumer resumes"),
                    }
                }
            }
        }
        for t in s.running.drain(..) {
            t.abort();
        }
        // A member that stops on purpose hands its chains over at once instead of after the
        // lease TTL: its lease loops stop first, then the leases it holds are deleted.
        drop(leases);
        s.release_leases().await;
        Ok(())
    }

    /// Ingest: one lease loop per chain.
    fn spawn_leases(&self, bus: &Bus, raised: &mpsc::UnboundedSender<AlertRecord>) -> Tasks {
        let decoder = Arc::new(Decoder::new(&self.spec));
        let mut leases = Vec::new();
        for (i, c) in self.spec.chains.iter().enumerate() {
            let Ok(idx) = u16::try_from(i) else { continue };
            let ctx = Ingester {
                spec: self.spec.clone(),
                decoder: decoder.clone(),
                bus: bus.clone(),
                me: self.opts.id.clone(),
                config: self.config.clone(),
                idx,
                chain: c.id.clone(),
                ttl: self.opts.bus.lease_ttl,
                store: self.opts.store.clone(),
                raised: raised.clone(),
            };
            leases.push(tokio::spawn(ctx.lease_loop()));
        }
        Tasks(leases)
    }

    /// Rules: the whole log, in order, through this member's durable consumer (the server
    /// remembers what it acknowledged, so a restart does not read the log again); the store's
    /// checkpoints say what is judged already, so a redelivery is skipped. A `fresh` member
    /// (no checkpoint in its store) reads the log from its start.
    async fn follow_log(&self, bus: &Bus, fresh: bool) -> Result<consumer::pull::Stream> {
        let durable = consumer_name(&self.opts.id);
        if fresh {
            let _ = bus.stream.delete_consumer(&durable).await;
        }
        let consumer = bus
            .stream
            .get_or_create_consumer(
                &durable,
                consumer::pull::Config {
                    durable_name: Some(durable.clone()),
                    filter_subject: BLOCKS.into(),
                    deliver_policy: DeliverPolicy::All,
                    ack_policy: consumer::AckPolicy::Explicit,
                    // One block in flight: a block is judged only after the one before it. With
                    // more, a member killed with blocks delivered but not acknowledged would,
                    // once restarted, get the blocks after them first (the server holds the
                    // unacknowledged ones back for `ack_wait`), skip them as not following its
                    // checkpoint, and never judge them.
                    max_ack_pending: 1,
                    ack_wait: ACK_WAIT,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| bus_err("create the rule consumer", e))?;
        consumer
            .messages()
            .await
            .map_err(|e| bus_err("follow the block log", e))
    }

    /// Applies one log message to the engine and the store, unless the store's checkpoint says
    /// it is applied already. Returns the alerts this message raised that the store did not
    /// hold yet.
    fn judge(
        &self,
        engine: &mut Engine,
        store: &mut Store,
        env: Envelope,
        found: &mut Vec<ringfence_guard::Alert>,
    ) -> Result<Vec<AlertRecord>> {
        let spec = &self.spec;
        match env.body {
            Body::Observed { chain, events } => {
                if store.checkpoint(&chain)?.is_none() {
                    found.clear();
                    for e in &events {
                        engine.apply(e, found);
                    }
                    found.clear();
                    store.append_events(&chain, &events)?;
                }
                Ok(Vec::new())
            }
            Body::Block {
                chain,
                header,
                events,
            } => {
                let cp = store.checkpoint(&chain)?;
                if cp.is_some_and(|b| header.number <= b.number) {
                    tracing::debug!(chain, block = header.number, "already judged: skipped");
                    return Ok(Vec::new());
                }
                if let Some(b) = cp
                    && (header.number != b.number + 1 || header.parent != b.hash)
                {
                    tracing::warn!(
                        chain,
                        block = header.number,
                        checkpoint = b.number,
                        "block does not follow the checkpoint (a publisher that lost its lease?): skipped"
                    );
                    return Ok(Vec::new());
                }
                found.clear();
                for e in &events {
                    engine.apply(e, found);
                }
                let recs: Vec<AlertRecord> = found.iter().map(|a| a.record(spec)).collect();
                let fresh = store.commit_block(&chain, &header.into(), &events, &recs)?;
                Ok(recs
                    .into_iter()
                    .zip(fresh)
                    .filter_map(|(r, f)| f.then_some(r))
                    .collect())
            }
            Body::Reorg { chain, fork, tip } => {
                let cp = store.checkpoint(&chain)?;
                if cp.is_none_or(|b| b.hash != tip || b.number <= fork.number) {
                    return Ok(Vec::new());
                }
                tracing::warn!(chain, fork = fork.number, "reorg: rolling back");
                let retracted = store.rollback(&chain, &fork.into())?;
                *engine = ringfence_chain::restore(spec, store)?.engine;
                for rec in &retracted {
                    tracing::warn!(alert = %rec.id, "reorg removed the evidence: alert retracted");
                }
                // Retractions are claimed like alerts, under their own claim ([`claim_id`]).
                Ok(retracted
                    .into_iter()
                    .map(|mut r| {
                        r.actions.clear();
                        r
                    })
                    .collect())
            }
            Body::Alert { .. } => Ok(Vec::new()),
        }
    }
}

/// A running member's rule worker: its connection, store, engine, the actions in flight and
/// the claims it holds or watches.
struct Session {
    member: Member,
    bus: Bus,
    store: Store,
    engine: Engine,
    actions: Actions,
    act_tx: mpsc::UnboundedSender<Update>,
    running: Vec<tokio::task::JoinHandle<()>>,
    /// The revision of each claim this member holds.
    revisions: HashMap<String, u64>,
    /// Alerts whose claim another member holds (or that could not be claimed yet).
    pending: Vec<Pending>,
    found: Vec<ringfence_guard::Alert>,
}

impl Session {
    /// Creates the claim of `cid`; with it, the revision written (read back after the settle
    /// time: a claim another member wrote over at the same moment is theirs).
    async fn claim_new(&mut self, cid: &str) -> Option<u64> {
        let key = claim::key(cid);
        let claim = self.member.claim(cid, ClaimState::Claimed);
        let r = bus::create(&self.bus.claims, &key, &claim)
            .await
            .ok()
            .flatten()?;
        bus::still_ours(&self.bus.claims, &key, &self.member.opts.id, bus::SETTLE)
            .await
            .unwrap_or(false)
            .then_some(r)
    }

    /// An alert the ingest raised itself (only the chain's ingesting member sees it stale):
    /// stored, claimed, printed.
    async fn on_raised(&mut self, rec: AlertRecord) -> Result<()> {
        if self.store.insert_alert(&rec)? {
            let cid = claim_id(&rec);
            if let Some(r) = self.claim_new(&cid).await {
                self.revisions.insert(cid, r);
                self.act(vec![rec]).await;
            }
        }
        Ok(())
    }

    async fn on_update(&mut self, u: Update) -> Result<()> {
        match u {
            Update::Sent(group) => {
                for rec in &group {
                    self.store.update_alert(rec)?;
                    // Settled before it is printed: whoever sees the alert may rely on no other
                    // member sending its transactions again.
                    self.settle(&claim_id(rec), ClaimState::Sent).await;
                    self.member.emit(&self.bus, rec);
                }
            }
            Update::Done(group) => {
                for rec in &group {
                    self.store.update_alert(rec)?;
                    for a in &rec.actions {
                        tracing::info!(alert = %rec.id, action = %a.id, status = %a.status, tx = ?a.tx, "action finished");
                    }
                }
            }
        }
        Ok(())
    }

    /// Looks at the claims of the pending alerts again: takes over a claim left unsent for the
    /// claim timeout, or one its holder deleted.
    async fn retry_claims(&mut self) {
        let mut keep = Vec::new();
        let mut mine = Vec::new();
        for mut p in std::mem::take(&mut self.pending) {
            let cid = claim_id(&p.rec);
            let key = claim::key(&cid);
            let cur = match bus::entry::<Claim>(&self.bus.claims, &key).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(error = %e, "claim not readable; retrying");
                    keep.push(p);
                    continue;
                }
            };
            let rev = cur.as_ref().map(|c| c.1);
            if rev != p.revision {
                p.revision = rev;
                p.since = Instant::now();
            }
            let claim = self.member.claim(&cid, ClaimState::Claimed);
            let won = match claim::decide(cur, p.since.elapsed(), self.member.opts.claim_timeout) {
                ClaimStep::Leave => continue,
                ClaimStep::Wait => None,
                ClaimStep::Create => bus::create(&self.bus.claims, &key, &claim)
                    .await
                    .unwrap_or(None),
                ClaimStep::Take { revision } => {
                    let r = bus::update(&self.bus.claims, &key, &claim, revision)
                        .await
                        .unwrap_or(None);
                    if r.is_some() {
                        tracing::warn!(alert = %p.rec.id, stalled_s = p.since.elapsed().as_secs_f64(), "claim stalled unsent: taken over");
                    }
                    r
                }
            };
            match won {
                Some(r)
                    if bus::still_ours(
                        &self.bus.claims,
                        &key,
                        &self.member.opts.id,
                        bus::SETTLE,
                    )
                    .await
                    .unwrap_or(false) =>
                {
                    self.revisions.insert(cid, r);
                    mine.push(p.rec);
                }
                _ => keep.push(p),
            }
        }
        self.pending = keep;
        self.act(mine).await;
    }

    /// One block of the log: judged (or refused), acknowledged, and its new alerts claimed and
    /// acted on.
    async fn on_block_message(&mut self, m: async_nats::jetstream::Message) -> Result<()> {
        let (seq, age) = match m.info() {
            Ok(i) => (
                i.stream_sequence,
                (time_now() - i.published.unix_timestamp()).max(0),
            ),
            Err(_) => (0, 0),
        };
        let member = &self.member;
        let decoded = codec::decode(m.subject.as_str(), &m.payload, &member.config, &member.spec);
        let fresh = match decoded {
            Ok(env) => member.judge(&mut self.engine, &mut self.store, env, &mut self.found)?,
            Err(e) => {
                tracing::error!(seq, "{e}");
                Vec::new()
            }
        };
        // Judged (committed) or refused: the server may forget it for this member.
        if let Err(e) = m.ack().await {
            tracing::debug!(seq, error = %e, "ack lost; the redelivery is skipped");
        }
        self.running.retain(|h| !h.is_finished());
        if fresh.is_empty() {
            return Ok(());
        }
        if u64::try_from(age).unwrap_or(0) > ACT_WITHIN.as_secs() {
            tracing::info!(
                seq,
                alerts = fresh.len(),
                "alerts of a block older than the claim bucket keeps: recorded, not acted on"
            );
            return Ok(());
        }
        self.claim_fresh(fresh).await;
        Ok(())
    }

    /// Claims a block's new alerts and acts on those this member won.
    async fn claim_fresh(&mut self, fresh: Vec<AlertRecord>) {
        let mut won = Vec::new();
        for rec in fresh {
            let cid = claim_id(&rec);
            let key = claim::key(&cid);
            let claim = self.member.claim(&cid, ClaimState::Claimed);
            match bus::create(&self.bus.claims, &key, &claim).await {
                Ok(Some(r)) => won.push((rec, cid, key, r)),
                Ok(None) => self.pending.push(Pending::new(rec)),
                Err(e) => {
                    tracing::warn!(alert = %rec.id, error = %e, "claim failed; retrying");
                    self.pending.push(Pending::new(rec));
                }
            }
        }
        // Read back together, after one settle time: a claim another member wrote over at the
        // same moment is theirs ([`bus::still_ours`]).
        let checks = futures_util::future::join_all(won.iter().map(|(_, _, key, _)| {
            bus::still_ours(&self.bus.claims, key, &self.member.opts.id, bus::SETTLE)
        }))
        .await;
        let mut mine = Vec::new();
        for ((rec, cid, _, r), ours) in won.into_iter().zip(checks) {
            if ours.unwrap_or(false) {
                self.revisions.insert(cid, r);
                mine.push(rec);
            } else {
                tracing::info!(alert = %rec.id, "claim written over by another member at the same moment: theirs");
                self.pending.push(Pending::new(rec));
            }
        }
        self.act(mine).await;
    }

    /// Prints, publishes and acts on alerts this member holds the claims of. Alerts without
    /// actions to run are finished at once; the others are dispatched as one group (one
    /// transaction per shared action), printed when their transactions are sent.
    async fn act(&mut self, mine: Vec<AlertRecord>) {
        let mut group = Vec::new();
        for rec in mine {
            tracing::warn!(rule = %rec.rule, reason = %rec.reason, block = rec.block, member = %&self.member.opts.id, "{}", if rec.severity == Severity::Trip { "TRIP" } else { "alert" });
            if rec
                .actions
                .iter()
                .all(|a| a.status != ActionStatus::Pending)
            {
                self.settle(&claim_id(&rec), ClaimState::Done).await;
                self.member.emit(&self.bus, &rec);
            } else {
                group.push(rec);
            }
        }
        if !group.is_empty() {
            self.running
                .push(self.actions.dispatch(group, self.act_tx.clone()));
        }
    }

    /// Moves this member's claim of `alert` on (compare-and-set on the revision it holds).
    async fn settle(&mut self, alert: &str, state: ClaimState) {
        let Some(rev) = self.revisions.get(alert).copied() else {
            return;
        };
        let claim = self.member.claim(alert, state);
        match bus::update(&self.bus.claims, &claim::key(alert), &claim, rev).await {
            Ok(Some(r)) if state == ClaimState::Claimed => {
                self.revisions.insert(alert.to_owned(), r);
            }
            Ok(Some(_)) => {
                self.revisions.remove(alert);
            }
            Ok(None) => {
                tracing::warn!(
                    alert,
                    "claim was taken over by another member before it settled"
                );
                self.revisions.remove(alert);
            }
            Err(e) => tracing::warn!(alert, error = %e, "claim not settled"),
        }
    }

    /// Deletes the ingest leases this member holds (compare-and-set on the revision it holds,
    /// so a lease already taken over is left alone).
    async fn release_leases(&mut self) {
        for c in &self.member.spec.chains {
            let key = lease::ingest_key(&c.id);
            if let Ok(Some((Ok(l), rev))) = bus::entry::<Lease>(&self.bus.leases, &key).await
                && l.member == self.member.opts.id
            {
                match self
                    .bus
                    .leases
                    .delete_expect_revision(&key, Some(rev))
                    .await
                {
                    Ok(()) => tracing::info!(chain = %c.id, "ingest lease released"),
                    Err(e) => {
                        tracing::warn!(chain = %c.id, error = %e, "ingest lease not released; it expires")
                    }
                }
            }
        }
    }
}

/// The `stale` alert of chain `chain` (index `idx`), as single-process `watch` raises it: the
/// chain stopped answering or producing blocks. Its id names the member (only the member
/// ingesting the chain sees it) and the moment. The endpoints show as `scheme://host[:port]`.
fn stale_alert(
    spec: &GuardSpec,
    idx: u16,
    chain: &str,
    member: &str,
    error: &str,
    last: u64,
) -> AlertRecord {
    let reason = ringfence_guard::Reason::Stale;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let rpc: Vec<String> = spec
        .chains
        .get(usize::from(idx))
        .map(|c| c.rpc.iter().map(ToString::to_string).collect())
        .unwrap_or_default();
    AlertRecord {
        id: format!("{}-{chain}-{member}-{}", reason.as_str(), now.as_millis()),
        rule: reason.as_str().to_owned(),
        kind: reason.kind(),
        severity: Severity::Alert,
        reason,
        chain: chain.to_owned(),
        block: last,
        timestamp: now.as_secs(),
        tx: None,
        log_index: 0,
        evidence: serde_json::json!({
            "error": ringfence_guard::secret::scrub_urls(error),
            "rpc": rpc,
            "member": member,
        }),
        actions: Vec::new(),
        retracted: false,
    }
}

/// The durable consumer of member `id`: `member-` and the id, characters a consumer name may
/// not hold written as `_`.
fn consumer_name(id: &str) -> String {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("member-{safe}")
}

/// What an alert's claim is named by: its id, marked for a retraction (a reorg removed its
/// evidence), which is printed and published once too.
fn claim_id(rec: &AlertRecord) -> String {
    if rec.retracted {
        format!("{}#retracted", rec.id)
    } else {
        rec.id.clone()
    }
}

fn time_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// One chain's ingest side of a member.
struct Ingester {
    spec: Arc<GuardSpec>,
    decoder: Arc<Decoder>,
    bus: Bus,
    me: String,
    config: String,
    idx: u16,
    chain: String,
    ttl: Duration,
    /// The member's store: the recent block hashes a takeover checks reorgs against.
    store: PathBuf,
    /// Alerts the ingest raises itself (`stale`), judged nowhere else: to the member's loop.
    raised: mpsc::UnboundedSender<AlertRecord>,
}

impl Ingester {
    /// Holds the chain's lease while it can and ingests the chain meanwhile.
    async fn lease_loop(self) {
        let key = lease::ingest_key(&self.chain);
        let period = self.ttl / 3;
        let value = Lease {
            v: VERSION,
            member: self.me.clone(),
            config: self.config.clone(),
        };
        let mut wait = lease::stagger(&self.me, &self.chain);
        let mut held: Option<(u64, Instant)> = None;
        let mut publisher: Option<Tasks> = None;
        let mut absent_since: Option<Instant> = None;
        loop {
            let cur = match bus::entry::<Lease>(&self.bus.leases, &key).await {
                Ok(c) => c,
                Err(e) => {
                    tracing::warn!(chain = %self.chain, error = %e, "lease not readable");
                    tokio::time::sleep(period).await;
                    continue;
                }
            };
            let step = lease::decide(&self.me, cur);
            let got = match step {
                LeaseStep::Acquire => {
                    let since = *absent_since.get_or_insert_with(Instant::now);
                    if wait > 0 {
                        wait -= 1;
                        None
                    } else {
                        match bus::create(&self.bus.leases, &key, &value).await {
                            Ok(Some(r)) => {
                                tracing::info!(chain = %self.chain, member = %self.me, absent_ms = since.elapsed().as_millis() as u64, "ingest lease acquired");
                                Some(r)
                            }
                            _ => None,
                        }
                    }
                }
                LeaseStep::Renew { revision } => {
                    absent_since = None;
                    bus::update(&self.bus.leases, &key, &value, revision)
                        .await
                        .unwrap_or(None)
                }
                LeaseStep::HeldBy { member } => {
                    absent_since = None;
                    wait = 0;
                    if held.is_some() {
                        tracing::warn!(chain = %self.chain, holder = %member, "ingest lease lost");
                    }
                    None
                }
            };
            match got {
                Some(r) => {
                    held = Some((r, Instant::now()));
                    if publisher
                        .as_ref()
                        .is_none_or(|t| t.0.iter().all(|h| h.is_finished()))
                    {
                        let ing = self.clone_ctx();
                        publisher = Some(Tasks(vec![tokio::spawn(ing.publish())]));
                    }
                }
                None => {
                    // Not ours (or the renewal failed): stop ingesting at once.
                    if held.take().is_some() || publisher.is_some() {
                        publisher = None;
                    }
                }
            }
            tokio::time::sleep(period).await;
        }
    }

    fn clone_ctx(&self) -> Self {
        Self {
            spec: self.spec.clone(),
            decoder: self.decoder.clone(),
            bus: self.bus.clone(),
            me: self.me.clone(),
            config: self.config.clone(),
            idx: self.idx,
            chain: self.chain.clone(),
            ttl: self.ttl,
            store: self.store.clone(),
            raised: self.raised.clone(),
        }
    }

    /// The blocks a takeover checks parent hashes and reorgs against: those this member's own
    /// store took from the log below `last` (it judged them), then `last`. Without them a
    /// reorg right after a takeover could not find its fork.
    fn recent(&self, last: Header) -> Vec<ringfence_store::BlockRecord> {
        let mut recent: Vec<ringfence_store::BlockRecord> = Store::open(&self.store)
            .and_then(|s| s.recent_blocks(&self.chain, 256))
            .map(|v| v.into_iter().filter(|b| b.number < last.number).collect())
            .unwrap_or_default();
        recent.push(last.into());
        recent
    }

    /// Where the chain's log ends: the last sequence number, the last block logged and where
    /// the ingest continues. `None` when the log cannot be read.
    async fn resume_point(&self, subject: &str) -> Option<(u64, Option<Header>, IngestStart)> {
        let last = match self.bus.last(subject).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(chain = %self.chain, error = %e, "cannot read the chain's log");
                return None;
            }
        };
        let Some((seq, body)) = last else {
            return Some((0, None, IngestStart::default()));
        };
        Some(
            match codec::decode(subject, &body, &self.config, &self.spec) {
                Ok(env) => match env.body {
                    Body::Block { header, .. } | Body::Reorg { fork: header, .. } => (
                        seq,
                        Some(header),
                        IngestStart {
                            next: Some(header.number + 1),
                            recent: self.recent(header),
                        },
                    ),
                    _ => (seq, None, IngestStart::default()),
                },
                Err(e) => {
                    // Refused (another version or config, truncated): continue after it from the
                    // blocks this member judged; blocks logged twice are skipped by every member.
                    tracing::error!(chain = %self.chain, "the chain's last logged message is refused; continuing from this member's own checkpoint: {e}");
                    let (next, recent) = match Store::open(&self.store).and_then(|s| {
                        Ok((
                            s.checkpoint(&self.chain)?,
                            s.recent_blocks(&self.chain, 256)?,
                        ))
                    }) {
                        Ok((Some(cp), recent)) => (Some(cp.number + 1), recent),
                        _ => (None, Vec::new()),
                    };
                    (
                        seq,
                        recent.last().map(|b| Header::from(*b)),
                        IngestStart { next, recent },
                    )
                }
            },
        )
    }

    /// What the log records of one ingest message, with the block's verdict channel (quorum
    /// chains). `None` for what is not logged: a stale chain (raised to the member's loop), a
    /// contradiction, a chain answering again.
    fn log_body(
        &self,
        msg: IngestMsg,
        tip: Option<Header>,
    ) -> Option<(Body, Option<oneshot::Sender<bool>>)> {
        let chain = self.chain.clone();
        match msg {
            IngestMsg::Observed { events, .. } => Some((Body::Observed { chain, events }, None)),
            IngestMsg::Block(b) => Some((
                Body::Block {
                    chain,
                    header: Header::from(b.block),
                    events: b.events,
                },
                b.verdict,
            )),
            IngestMsg::Reorg { fork, .. } => Some((
                Body::Reorg {
                    chain,
                    fork: fork.into(),
                    tip: tip.map(|h| h.hash).unwrap_or_default(),
                },
                None,
            )),
            IngestMsg::Stale { error, last, .. } => {
                tracing::warn!(chain = %self.chain, last, error = %ringfence_guard::secret::scrub_urls(&error), "chain stale");
                let _ = self.raised.send(stale_alert(
                    &self.spec,
                    self.idx,
                    &self.chain,
                    &self.me,
                    &error,
                    last,
                ));
                None
            }
            IngestMsg::Contradiction { contradiction, .. } => {
                tracing::warn!(chain = %self.chain, block = contradiction.block, "endpoints contradict each other");
                None
            }
            IngestMsg::Live { .. } => None,
        }
    }

    /// Appends one message after sequence `expected`, retrying with back-off while the bus
    /// fails. Returns the new sequence, or `None` when another member appended first.
    async fn append(&self, subject: &str, payload: Vec<u8>, expected: u64) -> Option<u64> {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.bus.append(subject, payload.clone(), expected).await {
                Ok(Some(seq)) => return Some(seq),
                Ok(None) => return None,
                Err(e) => {
                    tracing::warn!(chain = %self.chain, error = %e, "append failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
            }
        }
    }

    /// Continues the chain's log after its last message, through the watch daemon's ingest.
    /// Returns when another member appended (it lost the lease) or the ingest stopped.
    async fn publish(self) {
        let subject = codec::block_subject(&self.chain);
        let Some((mut expected, mut tip, start)) = self.resume_point(&subject).await else {
            return;
        };
        let (tx, mut rx) = mpsc::channel(1024);
        let engine = Engine::new(self.spec.clone());
        let spawned =
            ringfence_chain::spawn_ingest(&self.spec, &self.decoder, self.idx, &engine, start, tx)
                .await;
        let _tasks = match spawned {
            Ok(t) => Tasks(t),
            Err(e) => {
                tracing::warn!(chain = %self.chain, error = %e, "ingest did not start");
                return;
            }
        };
        tracing::info!(chain = %self.chain, member = %self.me, after = tip.map(|h| h.number), "ingesting");
        while let Some(msg) = rx.recv().await {
            let Some((body, verdict)) = self.log_body(msg, tip) else {
                continue;
            };
            let next_tip = match &body {
                Body::Block { header, .. } => Some(*header),
                Body::Reorg { fork, .. } => Some(*fork),
                _ => tip,
            };
            let env = Envelope {
                v: VERSION,
                config: self.config.clone(),
                member: self.me.clone(),
                body,
            };
            let Some(seq) = self.append(&subject, codec::encode(&env), expected).await else {
                tracing::warn!(chain = %self.chain, member = %self.me, "another member appended to this chain's log: stopping its ingest");
                return;
            };
            expected = seq;
            tip = next_tip;
            if let Some(v) = verdict {
                let _ = v.send(true);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use alloy::primitives::{Address, B256, U256};
    use proptest::prelude::*;
    use ringfence_guard::{Event, EventKind};

    use super::*;

    fn spec() -> Arc<GuardSpec> {
        crate::testing::mint_rate_spec(0, "100")
    }

    fn hash(n: u64, fork: u8) -> B256 {
        let mut h = B256::from(U256::from(n));
        h.0[0] = fork;
        h
    }

    /// Block `n` of branch `fork` (its parent on the same branch), minting `amount`.
    fn block(n: u64, fork: u8, amount: u64) -> Envelope {
        let ts = 1_700_000_000 + n;
        let mut events = Vec::new();
        if amount > 0 {
            events.push(Event {
                chain: 0,
                block: n,
                timestamp: ts,
                tx: hash(n, fork),
                log_index: 0,
                kind: EventKind::Mint {
                    token: 0,
                    to: Address::repeat_byte(1),
                    amount: U256::from(amount),
                    minter: None,
                },
            });
        }
        events.push(Event::head(0, n, ts));
        // Branches fork after block 11.
        let parent_fork = if n > 12 { fork } else { 0 };
        Envelope {
            v: VERSION,
            config: "h".into(),
            member: "m".into(),
            body: Body::Block {
                chain: "c".into(),
                header: Header {
                    number: n,
                    hash: hash(n, fork),
                    parent: hash(n - 1, parent_fork),
                    timestamp: ts,
                },
                events,
            },
        }
    }

    fn reorg(fork: u64, tip: B256) -> Envelope {
        Envelope {
            v: VERSION,
            config: "h".into(),
            member: "m".into(),
            body: Body::Reorg {
                chain: "c".into(),
                fork: Header {
                    number: fork,
                    hash: hash(fork, 0),
                    parent: hash(fork - 1, 0),
                    timestamp: 1_700_000_000 + fork,
                },
                tip,
            },
        }
    }

    fn member() -> Member {
        Member::new(
            spec(),
            "h".into(),
            MemberOptions::new("nats://127.0.0.1:1", "m", "t.db".into()),
        )
    }

    /// Judges `log` in order; the ids of the alerts raised, and the final store.
    fn judge_all(
        m: &Member,
        store: &mut Store,
        engine: &mut Engine,
        log: &[Envelope],
    ) -> Vec<String> {
        let mut found = Vec::new();
        let mut ids = Vec::new();
        for env in log {
            let fresh = m
                .judge(engine, store, env.clone(), &mut found)
                .expect("judged");
            ids.extend(fresh.into_iter().map(|r| claim_id(&r)));
        }
        ids
    }

    /// The log of blocks 1..=n on branch 0, one of them over the limit.
    fn log(n: u64, attack: u64) -> Vec<Envelope> {
        (1..=n)
            .map(|b| block(b, 0, if b == attack { 500 } else { 1 }))
            .collect()
    }

    #[test]
    fn a_replayed_log_raises_nothing_again() {
        let m = member();
        let mut store = Store::open_in_memory().expect("store");
        let mut engine = Engine::new(m.spec.clone());
        let first = judge_all(&m, &mut store, &mut engine, &log(8, 5));
        assert_eq!(first.len(), 1, "{first:?}");
        // The member restarts: its engine from its store, the whole log again.
        let mut engine = ringfence_chain::restore(&m.spec, &store)
            .expect("restore")
            .engine;
        let again = judge_all(&m, &mut store, &mut engine, &log(8, 5));
        assert!(again.is_empty(), "{again:?}");
        assert_eq!(
            store.checkpoint("c").expect("cp").map(|b| b.number),
            Some(8)
        );
    }

    #[test]
    fn a_block_that_does_not_follow_the_checkpoint_is_skipped() {
        let m = member();
        let mut store = Store::open_in_memory().expect("store");
        let mut engine = Engine::new(m.spec.clone());
        judge_all(&m, &mut store, &mut engine, &log(3, 0));
        // A gap (block 5 after 3), and a block 4 of another branch: neither applied.
        let ids = judge_all(
            &m,
            &mut store,
            &mut engine,
            &[block(5, 0, 500), block(14, 9, 500)],
        );
        assert!(ids.is_empty());
        assert_eq!(
            store.checkpoint("c").expect("cp").map(|b| b.number),
            Some(3)
        );
    }

    #[test]
    fn a_reorg_marker_is_applied_once_and_retracts() {
        let m = member();
        let mut store = Store::open_in_memory().expect("store");
        let mut engine = Engine::new(m.spec.clone());
        // Blocks 1..=12 on branch 0 with the attack in 12; a reorg back to 11; 12' benign.
        let mut l = log(12, 12);
        l.push(reorg(11, hash(12, 0)));
        l.push(block(12, 1, 1));
        let ids = judge_all(&m, &mut store, &mut engine, &l);
        assert_eq!(ids.len(), 2, "the trip, then its retraction: {ids:?}");
        assert!(ids[1].ends_with("#retracted") && ids[1].starts_with(&ids[0]));
        assert_eq!(
            store.checkpoint("c").expect("cp").map(|b| b.hash),
            Some(hash(12, 1))
        );
        // The same log again (a restart): the stale marker no longer matches the checkpoint.
        let mut engine = ringfence_chain::restore(&m.spec, &store)
            .expect("restore")
            .engine;
        let again = judge_all(&m, &mut store, &mut engine, &l);
        assert!(again.is_empty(), "{again:?}");
        assert_eq!(
            store.checkpoint("c").expect("cp").map(|b| b.hash),
            Some(hash(12, 1))
        );
    }

    #[test]
    fn a_stale_alert_shows_no_credential() {
        let text = r#"
[store]
path = "t.db"
[[chain]]
id = "c"
rpc = "https://eth.example/v2/SECRETKEY123"
[[token]]
id = "T"
chain = "c"
address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
decimals = 0
"#;
        let spec = match ringfence_guard::config::parse(std::path::Path::new("t.toml"), text) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        };
        let rec = stale_alert(
            &spec,
            0,
            "c",
            "m1",
            "error sending request for url (https://eth.example/v2/SECRETKEY123)",
            41,
        );
        let json = serde_json::to_string(&rec).expect("json");
        assert!(!json.contains("SECRETKEY123"), "{json}");
        assert_eq!((rec.rule.as_str(), rec.block), ("stale", 41));
        assert!(rec.id.starts_with("stale-c-m1-"), "{}", rec.id);
        assert_eq!(rec.evidence["member"], "m1");
    }

    proptest! {
        // However often any message of the log is delivered again after it (an append retried
        // after a lost acknowledgement, a publisher that lost its lease, a takeover that
        // re-reads from an older checkpoint), the alerts are those of the log delivered once.
        #[test]
        fn redeliveries_never_judge_twice(
            n in 2u64..20, attack in 1u64..20,
            dups in proptest::collection::vec((0usize..20, 0usize..20), 0..12),
        ) {
            let m = member();
            let once = {
                let mut store = Store::open_in_memory().expect("store");
                let mut engine = Engine::new(m.spec.clone());
                judge_all(&m, &mut store, &mut engine, &log(n, attack))
            };
            let base = log(n, attack);
            let mut noisy = base.clone();
            for (at, which) in dups {
                let dup = base[which % base.len()].clone();
                let first = noisy.iter().position(|e| *e == dup).unwrap_or(0);
                noisy.insert(at.clamp(first + 1, noisy.len()), dup);
            }
            let mut store = Store::open_in_memory().expect("store");
            let mut engine = Engine::new(m.spec.clone());
            let got = judge_all(&m, &mut store, &mut engine, &noisy);
            prop_assert_eq!(got, once);
        }
    }
}
