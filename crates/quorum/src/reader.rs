//! The quorum reader: one provider per endpoint, the same question to all, the agreement rule on
//! the answers.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::Filter;
use futures_util::future::join_all;
use serde::Serialize;
use tokio::sync::Mutex;

use crate::agree::{self, Answer, BlockView, Decision, Difference, Header, LogEntry};
use crate::error::{Error, Result};
use crate::redact::RedactedUrl;

/// The logs to read with each block: any of `addresses` emitting any of `topics0` (empty
/// `topics0`: every event of those contracts; empty `addresses`: no logs, headers only).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LogQuery {
    /// Contracts.
    pub addresses: Vec<Address>,
    /// Event signatures (topic 0).
    pub topics0: Vec<B256>,
}

/// A block the quorum confirmed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Confirmed {
    /// Its header.
    pub header: Header,
    /// The matching logs, by log index.
    pub logs: Vec<LogEntry>,
    /// Endpoints (redacted) that returned exactly this.
    pub agreeing: Vec<String>,
    /// Endpoints (redacted) that returned something else, with their running disagreement count.
    pub dissenting: Vec<Dissent>,
    /// What the dissenters' answers differed in.
    pub differed: Vec<Difference>,
    /// Logs of the confirmed view that at least one endpoint answering the block (with a
    /// self-consistent view) did not return, as (transaction hash, log index): confirmed by the
    /// quorum but contradicted, so a cautious reader acts on nothing they caused.
    pub contested: Vec<(B256, u64)>,
}

/// Each of an endpoint's first contradictions (of distinct blocks) is reported.
pub const REPORT_FIRST: u64 = 3;
/// After that, one contradiction in this many is reported (an endpoint that keeps lying is
/// reported, not every block it lies about).
pub const REPORT_EVERY: u64 = 50;

/// Whether an endpoint's `count`-th contradicted block is worth a line (an alert) to its
/// operator: the watch daemon and the attestor both print by this rule.
pub fn should_report(count: u64) -> bool {
    count >= 1 && (count <= REPORT_FIRST || count.is_multiple_of(REPORT_EVERY))
}

/// An endpoint that contradicted the quorum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Dissent {
    /// The endpoint, redacted.
    pub endpoint: String,
    /// How many blocks it has contradicted the quorum on so far.
    pub disagreements: u64,
    /// Whether it has now contradicted the quorum often enough to be reported.
    pub reported: bool,
}

/// What reading one block through the quorum gave.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Outcome {
    /// At least `quorum` endpoints returned the same header and logs.
    Confirmed(Confirmed),
    /// The endpoints disagree and no view has a quorum: act on nothing from this block.
    Disagreement {
        /// The block number.
        block: u64,
        /// The endpoints (redacted) that answered.
        endpoints: Vec<String>,
        /// What differed.
        differed: Vec<Difference>,
    },
    /// Too few endpoints have the block yet (behind the head, or down): try again later.
    Lagging {
        /// The block number.
        block: u64,
        /// Endpoints that returned it.
        answered: usize,
        /// The quorum needed.
        need: usize,
        /// Endpoints (redacted) not yet at the block.
        behind: Vec<String>,
        /// Endpoints (redacted) that failed.
        down: Vec<String>,
    },
}

struct Endpoint {
    url: RedactedUrl,
    provider: Mutex<Option<DynProvider>>,
    disagreements: AtomicU64,
}

impl Endpoint {
    async fn provider(&self) -> std::result::Result<DynProvider, String> {
        let mut slot = self.provider.lock().await;
        if let Some(p) = slot.as_ref() {
            return Ok(p.clone());
        }
        let p = ProviderBuilder::new()
            .connect(self.url.expose())
            .await
            .map_err(|e| self.url.scrub(&e.to_string()))?
            .erased();
        *slot = Some(p.clone());
        Ok(p)
    }

    /// Drops a (websocket) connection after a failure so that the next call reconnects.
    async fn reset(&self) {
        *self.provider.lock().await = None;
    }
}

/// Reads one EVM chain through several endpoints and trusts only what `quorum` of them return
/// identically. Endpoint URLs are kept secret: every output shows them redacted.
pub struct QuorumReader {
    endpoints: Vec<Endpoint>,
    quorum: usize,
    timeout: Duration,
    report_after: u64,
}

impl fmt::Debug for QuorumReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QuorumReader")
            .field(
                "endpoints",
                &self.endpoints.iter().map(|e| &e.url).collect::<Vec<_>>(),
            )
            .field("quorum", &self.quorum)
            .finish()
    }
}

impl QuorumReader {
    /// A reader over `endpoints` (http(s) or ws(s) URLs) needing `quorum` identical answers
    /// (`None`: a majority, `n / 2 + 1`).
    pub fn new<I, S>(endpoints: I, quorum: Option<usize>) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let urls: Vec<String> = endpoints.into_iter().map(Into::into).collect();
        let wanted = quorum.map(|q| i64::try_from(q).unwrap_or(i64::MAX));
        let checked = crate::endpoints::check_endpoints(&urls, wanted).map_err(|problems| {
            Error::Endpoints {
                problems: problems
                    .into_iter()
                    .map(|p| format!("{} ({})", p.message, p.fix))
                    .collect(),
            }
        })?;
        let quorum = checked.quorum;
        let endpoints: Vec<Endpoint> = checked
            .urls
            .into_iter()
            .map(|url| Endpoint {
                url,
                provider: Mutex::new(None),
                disagreements: AtomicU64::new(0),
            })
            .collect();
        Ok(Self {
            endpoints,
            quorum,
            timeout: Duration::from_secs(5),
            report_after: 3,
        })
    }

    /// Per-call timeout for each endpoint (default 5 s); a slow endpoint counts as down.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// After how many contradicted blocks an endpoint is reported (default 3).
    pub fn report_after(mut self, n: u64) -> Self {
        self.report_after = n.max(1);
        self
    }

    /// The quorum.
    pub fn quorum(&self) -> usize {
        self.quorum
    }

    /// The endpoints, redacted.
    pub fn endpoints(&self) -> Vec<String> {
        self.endpoints.iter().map(|e| e.url.to_string()).collect()
    }

    /// Each endpoint (redacted) with how many blocks it has contradicted the quorum on.
    pub fn disagreements(&self) -> Vec<(String, u64)> {
        self.endpoints
            .iter()
            .map(|e| (e.url.to_string(), e.disagreements.load(Ordering::Relaxed)))
            .collect()
    }

    /// The highest block that at least `quorum` endpoints have (`None`: fewer answered).
    pub async fn head(&self) -> Option<u64> {
        let heads = join_all(self.endpoints.iter().map(|e| async move {
            let p = e.provider().await.ok()?;
            match tokio::time::timeout(self.timeout, p.get_block_number()).await {
                Ok(Ok(h)) => Some(h),
                _ => {
                    e.reset().await;
                    None
                }
            }
        }))
        .await;
        agree::quorum_head(self.quorum, &heads)
    }

    /// The chain id `quorum` endpoints agree on (`None`: no such agreement).
    pub async fn chain_id(&self) -> Option<u64> {
        let ids = join_all(self.endpoints.iter().map(|e| async move {
            let p = e.provider().await.ok()?;
            tokio::time::timeout(self.timeout, p.get_chain_id())
                .await
                .ok()?
                .ok()
        }))
        .await;
        let mut counts: Vec<(u64, usize)> = Vec::new();
        for id in ids.into_iter().flatten() {
            match counts.iter_mut().find(|(i, _)| *i == id) {
                Some((_, n)) => *n += 1,
                None => counts.push((id, 1)),
            }
        }
        let agreed: Vec<u64> = counts
            .iter()
            .filter(|(_, n)| *n >= self.quorum)
            .map(|(i, _)| *i)
            .collect();
        match agreed[..] {
            [id] => Some(id),
            _ => None,
        }
    }

    /// Asks every endpoint the same question (`ask` gets each endpoint's provider) and returns
    /// the answer at least `quorum` of them gave identically, or why there is none (endpoints
    /// redacted). For the calls a block view does not cover: a transaction's sender, a view
    /// call's result.
    pub async fn agreed<T, F, Fut>(&self, ask: F) -> std::result::Result<T, String>
    where
        T: PartialEq + Clone,
        F: Fn(DynProvider) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, String>>,
    {
        let answers = join_all(self.endpoints.iter().map(|e| {
            let ask = &ask;
            async move {
                let p = e.provider().await?;
                match tokio::time::timeout(self.timeout, ask(p)).await {
                    Ok(Ok(v)) => Ok(v),
                    Ok(Err(why)) => {
                        e.reset().await;
                        Err(e.url.scrub(&why))
                    }
                    Err(_) => {
                        e.reset().await;
                        Err(format!("{}: timed out", e.url))
                    }
                }
            }
        }))
        .await;
        let mut groups: Vec<(&T, usize)> = Vec::new();
        let mut failed = 0usize;
        for a in &answers {
            match a {
                Ok(v) => match groups.iter_mut().find(|(g, _)| *g == v) {
                    Some((_, n)) => *n += 1,
                    None => groups.push((v, 1)),
                },
                Err(_) => failed += 1,
            }
        }
        let winners: Vec<&T> = groups
            .iter()
            .filter(|(_, n)| *n >= self.quorum)
            .map(|(v, _)| *v)
            .collect();
        match winners[..] {
            [v] => Ok(v.clone()),
            _ => Err(format!(
                "no {} of {} endpoints agree ({} different answers, {failed} failed)",
                self.quorum,
                self.endpoints.len(),
                groups.len()
            )),
        }
    }

    /// Reads block `n` and its logs matching `query` from every endpoint and applies the
    /// agreement rule.
    pub async fn read_block(&self, n: u64, query: &LogQuery) -> Outcome {
        let answers = join_all(self.endpoints.iter().map(|e| self.ask(e, n, query))).await;
        let name = |i: &usize| self.endpoints[*i].url.to_string();
        match agree::decide(self.quorum, &answers) {
            Decision::Confirmed {
                view,
                agreeing,
                dissenting,
                differed,
            } => {
                let contested = agree::contested(&view, &answers, &dissenting);
                let dissenting = dissenting
                    .iter()
                    .map(|i| {
                        let e = &self.endpoints[*i];
                        let count = e.disagreements.fetch_add(1, Ordering::Relaxed) + 1;
                        let reported = count >= self.report_after;
                        tracing::warn!(endpoint = %e.url, block = n, disagreements = count, reported, "endpoint contradicted the quorum");
                        Dissent {
                            endpoint: e.url.to_string(),
                            disagreements: count,
                            reported,
                        }
                    })
                    .collect();
                Outcome::Confirmed(Confirmed {
                    contested,
                    header: view.header,
                    logs: view.logs,
                    agreeing: agreeing.iter().map(name).collect(),
                    dissenting,
                    differed,
                })
            }
            Decision::Disagreement {
                endpoints,
                differed,
            } => {
                tracing::warn!(block = n, ?differed, "rpc disagreement: no quorum");
                Outcome::Disagreement {
                    block: n,
                    endpoints: endpoints.iter().map(name).collect(),
                    differed,
                }
            }
            Decision::Lagging {
                answered,
                behind,
                down,
            } => Outcome::Lagging {
                block: n,
                answered: answered.len(),
                need: self.quorum,
                behind: behind.iter().map(name).collect(),
                down: down.iter().map(name).collect(),
            },
        }
    }

    async fn ask(&self, e: &Endpoint, n: u64, query: &LogQuery) -> Answer {
        let answer = match tokio::time::timeout(self.timeout, fetch(e, n, query)).await {
            Ok(a) => a,
            Err(_) => Answer::Failed(format!("{}: timed out", e.url)),
        };
        if matches!(answer, Answer::Failed(_)) {
            e.reset().await;
        }
        answer
    }
}

async fn fetch(e: &Endpoint, n: u64, query: &LogQuery) -> Answer {
    let p = match e.provider().await {
        Ok(p) => p,
        Err(why) => return Answer::Failed(why),
    };
    let block = match p.get_block_by_number(BlockNumberOrTag::Number(n)).await {
        Ok(Some(b)) => b,
        Ok(None) => return Answer::NotYet,
        Err(err) => return Answer::Failed(e.url.scrub(&err.to_string())),
    };
    let h = &block.header;
    if h.number != n {
        return Answer::Invalid(format!("asked for block {n}, got {}", h.number));
    }
    if h.inner.hash_slow() != h.hash {
        return Answer::Invalid("header does not hash to its block hash".into());
    }
    let header = Header {
        number: n,
        hash: h.hash,
        parent_hash: h.parent_hash,
        timestamp: h.timestamp,
    };
    let mut logs = Vec::new();
    if !query.addresses.is_empty() {
        let mut filter = Filter::new()
            .address(query.addresses.clone())
            .from_block(n)
            .to_block(n);
        if !query.topics0.is_empty() {
            filter = filter.event_signature(query.topics0.clone());
        }
        let got = match p.get_logs(&filter).await {
            Ok(l) => l,
            Err(err) => return Answer::Failed(e.url.scrub(&err.to_string())),
        };
        for l in got {
            if l.block_number != Some(n) || l.block_hash != Some(header.hash) {
                // Asked by number: a log of another block (or a reorg between the two calls).
                return Answer::Invalid(format!("a log of another block in the answer for {n}"));
            }
            let (Some(tx_hash), Some(log_index)) = (l.transaction_hash, l.log_index) else {
                return Answer::Invalid("a log without transaction hash or index".into());
            };
            logs.push(LogEntry {
                address: l.inner.address,
                topics: l.inner.data.topics().to_vec(),
                data: l.inner.data.data.clone(),
                tx_hash,
                log_index,
            });
        }
        logs.sort_by_key(|l| l.log_index);
    }
    Answer::Block(BlockView { header, logs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_first_contradictions_then_one_in_every_n_are_reported() {
        let reported: Vec<u64> = (0..=200).filter(|c| should_report(*c)).collect();
        assert_eq!(reported, vec![1, 2, 3, 50, 100, 150, 200]);
    }

    proptest! {
        /// However long an endpoint keeps lying, at most `REPORT_FIRST + n / REPORT_EVERY`
        /// of its `n` contradictions are reported, and the first always is.
        #[test]
        fn reports_are_bounded(n in 1u64..100_000) {
            let k = (1..=n).filter(|c| should_report(*c)).count() as u64;
            prop_assert!(should_report(1));
            prop_assert!(k <= REPORT_FIRST + n / REPORT_EVERY);
        }
    }
}
