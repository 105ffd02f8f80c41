//! The attestor daemon: follows each chain block by block through its quorum reader, decodes the
//! routes' source events and destination messages, decides on every pending message, signs and
//! stores what passes, serves it over HTTP, and reports every refusal, RPC disagreement and
//! dissenting endpoint as a JSON value (the CLI prints them as lines on stdout).

use std::collections::{BTreeMap, HashSet};
use std::future::Future;
use std::time::Duration;

use alloy::dyn_abi::EventExt;
use alloy::primitives::{Address, B256, U256};
use alloy::sol_types::{Eip712Domain, SolEvent};
use ringfence_quorum::{LogEntry, LogQuery, Outcome, QuorumReader, should_report};
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedSender;

use crate::attestation::{AttestorKey, domain, route_id};
use crate::config::{AttestorConfig, RouteConfig};
use crate::decide::{self, Context, Decoded, Disagreement, Refusal, RoutePolicy, Verdict};
use crate::error::{Error, Result};
use crate::store::{BlockRead, ChainKey, Record, Store};

alloy::sol! {
    event AttestorSetProposed(address[] attestors, uint256 threshold, uint64 eta);
    event AttestorSetChanged(address[] attestors, uint256 threshold);
}

/// Blocks kept in `Chain::read` and in the store's checkpoint (reorg detection needs the recent
/// ones only).
const KEEP_BLOCKS: usize = 4096;

struct Chain {
    id: String,
    chain_id: u64,
    reader: QuorumReader,
    query: LogQuery,
    next: u64,
    /// Hash and timestamp of the blocks read, by number (recent ones).
    read: BTreeMap<u64, (B256, u64)>,
    halted: Option<Disagreement>,
}

impl Chain {
    fn last_read(&self) -> Option<u64> {
        self.read.last_key_value().map(|(n, _)| *n)
    }

    fn key(&self) -> ChainKey<'_> {
        ChainKey {
            id: &self.id,
            chain_id: self.chain_id,
        }
    }
}

struct Route {
    cfg: RouteConfig,
    policy: RoutePolicy,
    domain: Eip712Domain,
    src: usize,
    dst: usize,
    sources: Vec<Decoded>,
    pending: Vec<Decoded>,
    verifier_changed_at: Option<u64>,
    /// (message id, reason) already reported, so a waiting message is reported once per reason.
    reported: HashSet<(B256, &'static str)>,
}

/// A running attestor's state.
pub struct Attestor {
    key: AttestorKey,
    store: Store,
    chains: Vec<Chain>,
    routes: Vec<Route>,
    /// (chain, block) of contested source events a message waits on: read again next step.
    recheck: std::collections::BTreeSet<(usize, u64)>,
    poll: Duration,
    alerts: UnboundedSender<Value>,
}

impl std::fmt::Debug for Attestor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attestor")
            .field("key", &self.key)
            .field("routes", &self.routes.len())
            .finish()
    }
}

fn decode(
    event: &alloy::json_abi::Event,
    log: &LogEntry,
    block: u64,
    timestamp: u64,
    contested: bool,
) -> Option<Decoded> {
    let d = event
        .decode_log_parts(log.topics.iter().copied(), &log.data)
        .ok()?;
    let (mut idx, mut body) = (d.indexed.into_iter(), d.body.into_iter());
    let fields = event
        .inputs
        .iter()
        .map(|p| {
            let v = if p.indexed { idx.next() } else { body.next() };
            v.map(|v| (p.name.clone(), v))
        })
        .collect::<Option<Vec<_>>>()?;
    Some(Decoded {
        block,
        timestamp,
        tx_hash: log.tx_hash,
        log_index: log.log_index,
        fields,
        contested,
    })
}

impl Attestor {
    /// Connects to every chain (checking the chain ids the endpoints report) and opens the
    /// store. `alerts` receives one JSON value per attestation, refusal or RPC problem.
    ///
    /// A chain with a checkpoint in the store resumes after its last stored block (a configured
    /// `start_block` is used only when there is none), and the stored logs are ingested again,
    /// so source events read before a restart are known and messages not yet settled are
    /// decided again; settled ones are not reported twice.
    pub async fn new(
        cfg: &AttestorConfig,
        key: AttestorKey,
        alerts: UnboundedSender<Value>,
    ) -> Result<Self> {
        let store = Store::open(&cfg.store)?;
        let mut chains = Vec::new();
        for c in &cfg.chains {
            let err = |message: String| Error::Chain {
                chain: c.id.clone(),
                message,
            };
            let reader = QuorumReader::new(c.rpc.iter().map(|u| u.expose().to_owned()), c.quorum)
                .map_err(|e| err(e.to_string()))?;
            let reported = reader.chain_id().await;
            let chain_id = match (c.chain_id, reported) {
                (Some(want), Some(got)) if want != got => {
                    return Err(err(format!(
                        "the endpoints report chain id {got}, the config says {want}"
                    )));
                }
                (_, Some(got)) => got,
                (_, None) => {
                    return Err(err(format!(
                        "fewer than {} endpoints agree on a chain id (down, or lying)",
                        reader.quorum()
                    )));
                }
            };
            let head = reader
                .head()
                .await
                .ok_or_else(|| err(format!("fewer than {} endpoints answer", reader.quorum())))?;
            let mut query = LogQuery::default();
            for r in &cfg.routes {
                for end in [&r.source, &r.destination] {
                    if end.chain == c.id {
                        query.addresses.push(end.contract);
                        query.topics0.push(end.event.selector());
                    }
                }
                if r.destination.chain == c.id {
                    query.addresses.push(r.verifier);
                    query.topics0.push(AttestorSetProposed::SIGNATURE_HASH);
                    query.topics0.push(AttestorSetChanged::SIGNATURE_HASH);
                }
            }
            query.addresses.sort();
            query.addresses.dedup();
            query.topics0.sort();
            query.topics0.dedup();
            chains.push(Chain {
                id: c.id.clone(),
                chain_id,
                reader,
                query,
                next: c.start_block.unwrap_or(head),
                read: BTreeMap::new(),
                halted: None,
            });
        }
        let idx = |id: &str| chains.iter().position(|c| c.id == id);
        let mut routes = Vec::new();
        for r in &cfg.routes {
            let (Some(src), Some(dst)) = (idx(&r.source.chain), idx(&r.destination.chain)) else {
                continue;
            };
            routes.push(Route {
                policy: RoutePolicy {
                    route_id: route_id(&r.id),
                    src_chain_id: chains[src].chain_id,
                    key: r.key.clone(),
                    match_on: r.match_on.clone(),
                    tolerance: r.tolerance.clone(),
                    asset: r.asset.clone(),
                    amount: r.amount.clone(),
                    recipient: r.recipient.clone(),
                    confirmations: r.confirmations,
                    verifier_timelock_s: r.verifier_timelock_s,
                    max_amount: r.max_amount,
                },
                domain: domain(chains[dst].chain_id, r.verifier),
                cfg: r.clone(),
                src,
                dst,
                sources: Vec::new(),
                pending: Vec::new(),
                verifier_changed_at: None,
                reported: HashSet::new(),
            });
        }
        let mut attestor = Self {
            key,
            store,
            chains,
            routes,
            recheck: std::collections::BTreeSet::new(),
            poll: Duration::from_millis(cfg.poll_ms),
            alerts,
        };
        attestor.restore()?;
        Ok(attestor)
    }

    /// Resumes every chain from its checkpoint in the store (see [`Attestor::new`]).
    fn restore(&mut self) -> Result<()> {
        for c in 0..self.chains.len() {
            let read = self.store.blocks(self.chains[c].key())?;
            let Some(last) = read.last_key_value().map(|(n, _)| *n) else {
                continue;
            };
            let logs = self.store.logs(self.chains[c].key())?;
            tracing::info!(chain = %self.chains[c].id, block = last, logs = logs.len(), "resuming from the checkpoint");
            self.chains[c].read = read;
            self.chains[c].next = last + 1;
            for block in logs.chunk_by(|a, b| a.block == b.block) {
                let (n, ts) = (block[0].block, block[0].timestamp);
                let entries: Vec<(&LogEntry, bool)> =
                    block.iter().map(|l| (&l.log, l.contested)).collect();
                self.ingest(c, n, ts, &entries);
            }
        }
        for ri in 0..self.routes.len() {
            let pending = std::mem::take(&mut self.routes[ri].pending);
            let mut keep = Vec::new();
            for m in pending {
                if !self
                    .store
                    .settled(&self.routes[ri].cfg.id, m.tx_hash, m.log_index)?
                {
                    keep.push(m);
                }
            }
            self.routes[ri].pending = keep;
        }
        Ok(())
    }

    /// The attestor's address.
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// The store (for the HTTP service).
    pub fn store(&self) -> Store {
        self.store.clone()
    }

    fn alert(&self, v: Value) {
        let _ = self.alerts.send(v);
    }

    /// Follows the chains until `shutdown` resolves.
    pub async fn run(mut self, shutdown: impl Future<Output = ()>) -> Result<()> {
        tracing::info!(attestor = %self.key.address(), routes = self.routes.len(), "attestor running");
        tokio::pin!(shutdown);
        loop {
            self.step().await?;
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                () = tokio::time::sleep(self.poll) => {}
            }
        }
    }

    /// Reads every chain up to its quorum head, reads again the blocks of the contested source
    /// events messages wait on, then decides on every pending message.
    pub async fn step(&mut self) -> Result<()> {
        for c in 0..self.chains.len() {
            self.follow(c).await?;
        }
        for (c, n) in std::mem::take(&mut self.recheck) {
            self.reread_contested(c, n).await?;
        }
        self.decide_all()
    }

    /// Reads block `n` of chain `c` again through the quorum: a source event no endpoint
    /// contradicts any more (a lagging or faulty node that has caught up, a liar taken out of
    /// the set) is uncontested, in the store and for the decisions. Only blocks a waiting
    /// message needs are read again, so a liar's junk costs nothing. A block whose hash changed
    /// is left to the reorg check of the blocks after it.
    async fn reread_contested(&mut self, c: usize, n: u64) -> Result<()> {
        let Some(&(hash, _)) = self.chains[c].read.get(&n) else {
            return Ok(());
        };
        let Outcome::Confirmed(b) = self.chains[c]
            .reader
            .read_block(n, &self.chains[c].query)
            .await
        else {
            return Ok(());
        };
        if b.header.hash != hash {
            return Ok(());
        }
        let mut cleared = Vec::new();
        for r in self.routes.iter_mut().filter(|r| r.src == c) {
            for e in r.sources.iter_mut().filter(|e| e.block == n && e.contested) {
                if !b.contested.contains(&(e.tx_hash, e.log_index)) {
                    e.contested = false;
                    cleared.push(json!({"tx": e.tx_hash, "log_index": e.log_index}));
                }
            }
        }
        if !cleared.is_empty() {
            self.store
                .set_contested(self.chains[c].key(), n, &b.contested)?;
            self.alert(json!({
                "kind": "rpc-uncontested", "chain": self.chains[c].id, "block": n,
                "logs": cleared,
                "action": "read again: no endpoint contradicts these any more",
            }));
        }
        Ok(())
    }

    async fn follow(&mut self, c: usize) -> Result<()> {
        let Some(head) = self.chains[c].reader.head().await else {
            return Ok(());
        };
        while self.chains[c].next <= head {
            let n = self.chains[c].next;
            let out = self.chains[c]
                .reader
                .read_block(n, &self.chains[c].query)
                .await;
            match out {
                Outcome::Confirmed(b) => {
                    let prev = n.checked_sub(1).and_then(|p| self.chains[c].read.get(&p));
                    if let Some((prev_hash, _)) = prev
                        && *prev_hash != b.header.parent_hash
                    {
                        // A reorg: forget the previous block and what was read in it, and read
                        // it again (walking back one block per mismatch to the fork point).
                        let back = n - 1;
                        self.alert(json!({
                            "kind": "reorg", "chain": self.chains[c].id, "block": back,
                            "action": "re-reading; events of the replaced blocks are forgotten",
                        }));
                        self.store.forget_block(self.chains[c].key(), back)?;
                        self.chains[c].read.remove(&back);
                        self.chains[c].next = back;
                        for r in &mut self.routes {
                            if r.src == c {
                                r.sources.retain(|e| e.block < back);
                            }
                            if r.dst == c {
                                r.pending.retain(|m| m.block < back);
                            }
                        }
                        continue;
                    }
                    // One line per endpoint for its first contradicted blocks, then one in
                    // `REPORT_EVERY` (the watch daemon's rule): a liar is reported, not every
                    // block it lies about.
                    for d in b
                        .dissenting
                        .iter()
                        .filter(|d| should_report(d.disagreements))
                    {
                        self.alert(json!({
                            "kind": "rpc-dissent", "chain": self.chains[c].id, "block": n,
                            "endpoint": d.endpoint, "disagreements": d.disagreements,
                            "reported": d.reported, "differed": b.differed,
                        }));
                    }
                    if !b.contested.is_empty()
                        && b.dissenting.iter().any(|d| should_report(d.disagreements))
                    {
                        self.alert(json!({
                            "kind": "rpc-contested", "chain": self.chains[c].id, "block": n,
                            "logs": b.contested.iter().map(|(tx, i)| json!({"tx": tx, "log_index": i})).collect::<Vec<_>>(),
                            "dissenting": b.dissenting.iter().map(|d| &d.endpoint).collect::<Vec<_>>(),
                            "action": "confirmed by the quorum but contradicted: no contested source event is attested",
                        }));
                    }
                    let ts = b.header.timestamp;
                    let read = BlockRead {
                        number: n,
                        hash: b.header.hash,
                        timestamp: ts,
                        logs: &b.logs,
                        contested: &b.contested,
                    };
                    self.store
                        .record_block(self.chains[c].key(), &read, KEEP_BLOCKS)?;
                    let flagged: Vec<(&LogEntry, bool)> =
                        b.logs.iter().map(|l| (l, read.is_contested(l))).collect();
                    self.ingest(c, n, ts, &flagged);
                    let ch = &mut self.chains[c];
                    if ch.halted.take().is_some() {
                        tracing::info!(chain = %ch.id, block = n, "quorum restored");
                    }
                    ch.read.insert(n, (b.header.hash, ts));
                    while ch.read.len() > KEEP_BLOCKS {
                        ch.read.pop_first();
                    }
                    ch.next = n + 1;
                }
                Outcome::Disagreement {
                    block,
                    endpoints,
                    differed,
                } => {
                    let d = Disagreement {
                        chain: self.chains[c].id.clone(),
                        block,
                        endpoints,
                        differed: differed.iter().map(ToString::to_string).collect(),
                    };
                    if self.chains[c].halted.as_ref() != Some(&d) {
                        self.alert(json!({
                            "kind": "rpc-disagreement", "chain": d.chain, "block": block,
                            "endpoints": d.endpoints, "differed": differed,
                            "action": "halted: nothing from this chain is attested until a quorum agrees",
                        }));
                    }
                    self.chains[c].halted = Some(d);
                    return Ok(());
                }
                Outcome::Lagging { .. } => return Ok(()),
            }
        }
        Ok(())
    }

    /// Ingests the logs of a confirmed block, each with its contested flag.
    fn ingest(&mut self, c: usize, block: u64, ts: u64, logs: &[(&LogEntry, bool)]) {
        for (log, contested) in logs {
            let topic0 = log.topics.first().copied().unwrap_or_default();
            for r in &mut self.routes {
                if r.src == c
                    && log.address == r.cfg.source.contract
                    && topic0 == r.cfg.source.event.selector()
                    && let Some(d) = decode(&r.cfg.source.event, log, block, ts, *contested)
                {
                    r.sources.push(d);
                }
                if r.dst == c
                    && log.address == r.cfg.destination.contract
                    && topic0 == r.cfg.destination.event.selector()
                    && let Some(d) = decode(&r.cfg.destination.event, log, block, ts, *contested)
                {
                    r.pending.push(d);
                }
                if r.dst == c
                    && log.address == r.cfg.verifier
                    && (topic0 == AttestorSetProposed::SIGNATURE_HASH
                        || topic0 == AttestorSetChanged::SIGNATURE_HASH)
                {
                    r.verifier_changed_at = Some(ts);
                }
            }
        }
    }

    fn decide_all(&mut self) -> Result<()> {
        for ri in 0..self.routes.len() {
            let pending = std::mem::take(&mut self.routes[ri].pending);
            let mut keep = Vec::new();
            for msg in pending {
                if self.decide_one(ri, &msg)? {
                    let r = &self.routes[ri];
                    self.store.settle(
                        &r.cfg.id,
                        self.chains[r.dst].key(),
                        msg.block,
                        msg.tx_hash,
                        msg.log_index,
                    )?;
                } else {
                    keep.push(msg);
                }
            }
            self.routes[ri].pending = keep;
        }
        Ok(())
    }

    /// Decides on one message; `Ok(true)` when it is settled (attested or finally refused).
    fn decide_one(&mut self, ri: usize, msg: &Decoded) -> Result<bool> {
        let r = &self.routes[ri];
        let (src, dst) = (&self.chains[r.src], &self.chains[r.dst]);
        let id = msg
            .field(&r.policy.key)
            .and_then(|v| v.as_fixed_bytes())
            .filter(|(_, n)| *n == 32)
            .map(|(w, _)| B256::from_slice(w));
        let source_head = src.last_read();
        let read_until = source_head
            .and_then(|h| h.checked_sub(r.policy.confirmations))
            .and_then(|b| src.read.range(..=b).next_back().map(|(_, (_, t))| *t));
        let now = dst.read.last_key_value().map_or(0, |(_, (_, t))| *t);
        let window = r.policy.max_amount.map_or(Ok(U256::ZERO), |(_, w)| {
            self.store.attested_since(&r.cfg.id, now.saturating_sub(w))
        })?;
        let cx = Context {
            sources: &r.sources,
            source_head,
            source_read_until: read_until,
            source_disagreement: src.halted.clone(),
            already_attested: match id {
                Some(id) => self.store.attested(id)?,
                None => false,
            },
            verifier_changed_at: r.verifier_changed_at,
            now,
            attested_in_window: window,
        };
        match decide::decide(&r.policy, msg, &cx) {
            Verdict::Attest(a) => {
                let signed = self.key.sign(&a, &r.domain)?;
                let source = r
                    .sources
                    .iter()
                    .find(|s| s.tx_hash == a.srcTxHash && U256::from(s.log_index) == a.srcLogIndex);
                let source_block = source.map_or(0, |s| s.block);
                let record = Record {
                    route: r.cfg.id.clone(),
                    attestation: (*a).clone(),
                    signed: signed.clone(),
                    block: msg.block,
                    timestamp: msg.timestamp,
                };
                if self.store.insert(&record)? {
                    let line = json!({
                        "kind": "attested", "route": r.cfg.id, "message_id": a.messageId,
                        "attestor": signed.signer, "signature": signed.signature,
                        "amount": a.amount.to_string(), "recipient": a.recipient,
                        "source_chain": src.id, "source_tx": a.srcTxHash, "source_block": source_block,
                        "source_head": source_head, "delay_blocks": source_head.map(|h| h.saturating_sub(source_block)),
                        "destination_block": msg.block,
                    });
                    self.alert(line);
                }
                Ok(true)
            }
            Verdict::Refuse(why) => {
                if let Refusal::ContestedSource { tx_hash, log_index } = &why {
                    let r = &self.routes[ri];
                    if let Some(e) = r
                        .sources
                        .iter()
                        .find(|e| e.tx_hash == *tx_hash && e.log_index == *log_index)
                    {
                        self.recheck.insert((r.src, e.block));
                    }
                }
                let name = why.name();
                let settled = why.is_final();
                let key = (id.unwrap_or_default(), name);
                if self.routes[ri].reported.insert(key) {
                    let r = &self.routes[ri];
                    self.alert(json!({
                        "kind": if settled { "refused" } else { "waiting" },
                        "route": r.cfg.id, "message_id": id, "chain": self.chains[r.dst].id,
                        "block": msg.block, "tx": msg.tx_hash, "log_index": msg.log_index,
                        "refusal": why,
                    }));
                }
                Ok(settled)
            }
        }
    }
}

/// Runs an attestor with its HTTP service on `cfg.listen` until `shutdown` resolves.
pub async fn serve(
    cfg: &AttestorConfig,
    key: AttestorKey,
    alerts: UnboundedSender<Value>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let attestor = Attestor::new(cfg, key, alerts).await?;
    let listener = tokio::net::TcpListener::bind(cfg.listen).await?;
    let app = crate::service::router(attestor.store());
    let (tx, rx) = tokio::sync::watch::channel(false);
    let mut http_rx = rx.clone();
    let http = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = http_rx.changed().await;
            })
            .await
    });
    let mut stop_rx = rx;
    let stop = async move {
        let _ = stop_rx.changed().await;
    };
    tokio::spawn(async move {
        shutdown.await;
        let _ = tx.send(true);
    });
    let result = attestor.run(stop).await;
    let _ = http.await;
    result
}
