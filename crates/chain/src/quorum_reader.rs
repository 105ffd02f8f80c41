//! Reading a chain through several endpoints: a [`ChainReader`] over
//! [`ringfence_quorum::QuorumReader`]. A block, its hash and its logs reach ingest only when
//! `quorum` endpoints returned them identically; what the endpoints contradicted travels with the
//! block ([`RawBlock::contradiction`], [`RawBlock::contested`]) so that the daemon can raise
//! `rpc-disagreement` and act on nothing the contradiction touches. When no quorum forms, the
//! reader returns [`Error::NoQuorum`] and ingest stays on that block.

use std::collections::HashMap;
use std::sync::Mutex;

use alloy::network::TransactionResponse;
use alloy::primitives::{Address, B256, Bytes, LogData, U256};
use alloy::providers::Provider;
use alloy::rpc::types::{Log, TransactionRequest};
use futures_util::future::join_all;
use ringfence_quorum::{LogQuery, Outcome, QuorumReader, should_report};
use ringfence_store::BlockRecord;

use crate::error::{Error, Result, rpc};
use crate::reader::{ChainReader, Contradiction, RawBlock};

/// Blocks read at once in a backfill.
const PARALLEL: usize = 16;

/// A reader through a quorum of endpoints.
pub struct QuorumChainReader {
    chain: String,
    reader: QuorumReader,
    query: LogQuery,
    /// Per endpoint (redacted): the last block it contradicted and how many distinct blocks.
    tally: Mutex<HashMap<String, (u64, u64)>>,
}

impl std::fmt::Debug for QuorumChainReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuorumChainReader")
            .field("chain", &self.chain)
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

impl QuorumChainReader {
    /// A reader of `chain` (its config id) over `reader`, fetching the logs of `addresses` with
    /// topic 0 in `topics`.
    pub fn new(
        chain: impl Into<String>,
        reader: QuorumReader,
        addresses: Vec<Address>,
        topics: Vec<B256>,
    ) -> Self {
        Self {
            chain: chain.into(),
            reader,
            query: LogQuery {
                addresses,
                topics0: topics,
            },
            tally: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a contradiction of `block` by `endpoint` (re-reads of one block count once) and
    /// returns the distinct count and whether it is to be reported now.
    fn tally(&self, endpoint: &str, block: u64) -> (u64, bool) {
        let mut t = match self.tally.lock() {
            Ok(t) => t,
            Err(p) => p.into_inner(),
        };
        let e = t.entry(endpoint.to_owned()).or_insert((u64::MAX, 0));
        if e.0 == block {
            return (e.1, false);
        }
        *e = (block, e.1 + 1);
        (e.1, should_report(e.1))
    }

    async fn read(&self, n: u64, query: &LogQuery) -> Result<Read> {
        Ok(match self.reader.read_block(n, query).await {
            Outcome::Confirmed(c) => {
                let header = BlockRecord {
                    number: c.header.number,
                    hash: c.header.hash,
                    parent_hash: c.header.parent_hash,
                    timestamp: c.header.timestamp,
                };
                let logs = c
                    .logs
                    .iter()
                    .map(|l| Log {
                        inner: alloy::primitives::Log {
                            address: l.address,
                            data: LogData::new_unchecked(l.topics.clone(), l.data.clone()),
                        },
                        block_hash: Some(header.hash),
                        block_number: Some(header.number),
                        block_timestamp: Some(header.timestamp),
                        transaction_hash: Some(l.tx_hash),
                        transaction_index: None,
                        log_index: Some(l.log_index),
                        removed: false,
                    })
                    .collect();
                let mut dissenting = Vec::new();
                let mut report = false;
                for d in &c.dissenting {
                    let (count, now) = self.tally(&d.endpoint, n);
                    report |= now;
                    dissenting.push((d.endpoint.clone(), count));
                }
                let contradiction = (!c.dissenting.is_empty()).then(|| Contradiction {
                    block: n,
                    agreeing: c.agreeing.clone(),
                    dissenting,
                    differed: c.differed.iter().map(ToString::to_string).collect(),
                    no_quorum: false,
                    report,
                });
                Read::Block(RawBlock {
                    header,
                    logs,
                    contested: c.contested.iter().map(|(tx, _)| *tx).collect(),
                    contradiction,
                })
            }
            Outcome::Disagreement {
                block,
                endpoints,
                differed,
            } => Read::NoQuorum(Contradiction {
                block,
                agreeing: Vec::new(),
                dissenting: endpoints.into_iter().map(|e| (e, 0)).collect(),
                differed: differed.iter().map(ToString::to_string).collect(),
                no_quorum: true,
                report: true,
            }),
            Outcome::Lagging {
                block,
                answered,
                need,
                down,
                ..
            } => Read::Lagging(format!(
                "block {block}: {answered} of the {need} endpoints needed have it ({} down)",
                down.len()
            )),
        })
    }

    fn no_quorum(&self, c: Contradiction) -> Error {
        Error::NoQuorum {
            chain: self.chain.clone(),
            contradiction: Box::new(c),
        }
    }
}

enum Read {
    Block(RawBlock),
    NoQuorum(Contradiction),
    Lagging(String),
}

impl ChainReader for QuorumChainReader {
    async fn head(&self) -> Result<u64> {
        self.reader.head().await.ok_or_else(|| {
            rpc(
                &self.chain,
                format!("fewer than {} endpoints answer", self.reader.quorum()),
            )
        })
    }

    async fn header(&self, n: u64) -> Result<BlockRecord> {
        match self.read(n, &LogQuery::default()).await? {
            Read::Block(b) => Ok(b.header),
            Read::NoQuorum(c) => Err(self.no_quorum(c)),
            Read::Lagging(why) => Err(rpc(&self.chain, why)),
        }
    }

    async fn blocks(&self, from: u64, to: u64) -> Result<Vec<RawBlock>> {
        let mut out = Vec::new();
        if to < from {
            return Ok(out);
        }
        let numbers: Vec<u64> = (from..=to).collect();
        for chunk in numbers.chunks(PARALLEL) {
            let reads = join_all(chunk.iter().map(|n| self.read(*n, &self.query))).await;
            for r in reads {
                match r? {
                    Read::Block(b) => out.push(b),
                    // Ingest what came before; the next read starts at this block.
                    Read::NoQuorum(c) if out.is_empty() => return Err(self.no_quorum(c)),
                    Read::Lagging(why) if out.is_empty() => {
                        tracing::debug!(chain = %self.chain, %why, "waiting for the quorum");
                        return Ok(out);
                    }
                    Read::NoQuorum(_) | Read::Lagging(_) => return Ok(out),
                }
            }
        }
        Ok(out)
    }

    async fn sender(&self, tx: B256) -> Result<Option<Address>> {
        self.reader
            .agreed(|p| async move {
                p.get_transaction_by_hash(tx)
                    .await
                    .map(|t| t.map(|t| t.from()))
                    .map_err(|e| e.to_string())
            })
            .await
            .map_err(|why| rpc(&self.chain, format!("sender of {tx}: {why}")))
    }

    async fn word(&self, to: Address, input: Bytes, at: u64) -> Result<U256> {
        self.reader
            .agreed(|p| {
                let input = input.clone();
                async move {
                    let req = TransactionRequest::default().to(to).input(input.into());
                    let out = p
                        .call(req)
                        .block(at.into())
                        .await
                        .map_err(|e| e.to_string())?;
                    U256::try_from_be_slice(out.get(..32).unwrap_or(&[]))
                        .ok_or_else(|| "eth_call returned no word".to_owned())
                }
            })
            .await
            .map_err(|why| rpc(&self.chain, format!("eth_call at block {at}: {why}")))
    }
}
