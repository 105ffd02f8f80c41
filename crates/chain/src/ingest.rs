//! Following one chain: poll (or be woken by new-head subscriptions), fetch headers and watched
//! logs block by block, check parent hashes, and hand complete blocks to the daemon.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::eips::BlockNumberOrTag;
use alloy::network::TransactionResponse;
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, Log, TransactionRequest};
use futures_util::future::join_all;
use ringfence_guard::{ChainSpec, Event, EventKind};
use ringfence_store::BlockRecord;
use tokio::sync::{Notify, mpsc};

use crate::decode::Decoder;
use crate::error::{Result, rpc};

/// What a chain task tells the daemon.
#[derive(Debug)]
pub(crate) enum Msg {
    /// Start-up reads of supplies and balances, before the first block.
    Observed { chain: u16, events: Vec<Event> },
    /// One complete block: its watched events, then its head event.
    Block {
        chain: u16,
        block: BlockRecord,
        events: Vec<Event>,
        seen: Instant,
        head: u64,
    },
    /// The chain reorganised: everything after `fork` is gone.
    Reorg { chain: u16, fork: BlockRecord },
    /// The chain stopped answering or producing blocks.
    Stale {
        chain: u16,
        error: String,
        last: u64,
    },
    /// It is answering again.
    Live { chain: u16 },
}

pub(crate) struct Ingest {
    pub(crate) chain: u16,
    pub(crate) spec: ChainSpec,
    pub(crate) provider: DynProvider,
    pub(crate) decoder: Arc<Decoder>,
    pub(crate) needs_minter: Vec<bool>,
    pub(crate) tx: mpsc::Sender<Msg>,
    pub(crate) recent: VecDeque<BlockRecord>,
    pub(crate) next: Option<u64>,
    pub(crate) observe: Vec<(usize, Option<Address>, Address)>,
    pub(crate) wake: Option<Arc<Notify>>,
}

const KEEP: usize = 256;

impl Ingest {
    pub(crate) async fn run(mut self) {
        let poll = Duration::from_millis(self.spec.poll_ms);
        let stale_after = Duration::from_secs(self.spec.stale_after_s);
        let mut backoff = poll;
        let mut last_progress = Instant::now();
        let mut stale = false;
        loop {
            let step = if self.next.is_none() {
                self.init().await.map(|_| true)
            } else {
                self.step().await
            };
            match step {
                Ok(progressed) => {
                    backoff = poll;
                    if progressed {
                        last_progress = Instant::now();
                        if stale {
                            stale = false;
                            let _ = self.tx.send(Msg::Live { chain: self.chain }).await;
                        }
                        continue;
                    }
                    if !stale && last_progress.elapsed() > stale_after {
                        stale = true;
                        let error = format!("no new block for {} s", stale_after.as_secs());
                        let _ = self
                            .tx
                            .send(Msg::Stale {
                                chain: self.chain,
                                error,
                                last: self.last(),
                            })
                            .await;
                    }
                    match &self.wake {
                        Some(n) => {
                            let _ = tokio::time::timeout(
                                poll.max(Duration::from_secs(1)),
                                n.notified(),
                            )
                            .await;
                        }
                        None => tokio::time::sleep(poll).await,
                    }
                }
                Err(e) => {
                    tracing::warn!(chain = %self.spec.id, error = %e, "rpc failed; retrying");
                    if !stale && last_progress.elapsed() > stale_after {
                        stale = true;
                        let _ = self
                            .tx
                            .send(Msg::Stale {
                                chain: self.chain,
                                error: e.to_string(),
                                last: self.last(),
                            })
                            .await;
                    }
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
            if self.tx.is_closed() {
                return;
            }
        }
    }

    fn last(&self) -> u64 {
        self.recent.back().map_or(0, |b| b.number)
    }

    /// First start without a checkpoint: begin at `start_block` or the current head, and read
    /// the supplies and balances the rules need as of the block before.
    async fn init(&mut self) -> Result<()> {
        let id = self.spec.id.clone();
        let head = self
            .provider
            .get_block_number()
            .await
            .map_err(|e| rpc(&id, e))?;
        let start = self
            .spec
            .start_block
            .unwrap_or(head.saturating_sub(self.spec.confirmations) + 1);
        let at = start.saturating_sub(1);
        let mut events = Vec::new();
        let ts = self.header(at).await?.timestamp;
        for (token, holder, address) in &self.observe {
            let mut input = Vec::with_capacity(36);
            match holder {
                None => input.extend_from_slice(&[0x18, 0x16, 0x0d, 0xdd]),
                Some(h) => {
                    input.extend_from_slice(&[0x70, 0xa0, 0x82, 0x31]);
                    input.extend_from_slice(h.into_word().as_slice());
                }
            }
            let req = TransactionRequest::default()
                .to(*address)
                .input(Bytes::from(input).into());
            let out = self
                .provider
                .call(req)
                .block(at.into())
                .await
                .map_err(|e| rpc(&id, e))?;
            let value = alloy::primitives::U256::try_from_be_slice(out.get(..32).unwrap_or(&[]))
                .ok_or_else(|| rpc(&id, "eth_call returned no word"))?;
            let token = u16::try_from(*token).unwrap_or(u16::MAX);
            let kind = match holder {
                None => EventKind::SupplyObserved {
                    token,
                    supply: value,
                },
                Some(h) => EventKind::BalanceObserved {
                    token,
                    holder: *h,
                    balance: value,
                },
            };
            events.push(Event {
                chain: self.chain,
                block: at,
                timestamp: ts,
                tx: B256::ZERO,
                log_index: 0,
                kind,
            });
        }
        let _ = self
            .tx
            .send(Msg::Observed {
                chain: self.chain,
                events,
            })
            .await;
        self.next = Some(start);
        Ok(())
    }

    async fn header(&self, n: u64) -> Result<BlockRecord> {
        let b = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(n))
            .await
            .map_err(|e| rpc(&self.spec.id, e))?
            .ok_or_else(|| rpc(&self.spec.id, format!("block {n} not found")))?;
        Ok(BlockRecord {
            number: b.header.number,
            hash: b.header.hash,
            parent_hash: b.header.parent_hash,
            timestamp: b.header.timestamp,
        })
    }

    /// Ingests the next range of blocks; `Ok(false)` when there was nothing new.
    async fn step(&mut self) -> Result<bool> {
        let id = self.spec.id.clone();
        let Some(next) = self.next else {
            return Ok(false);
        };
        let head = self
            .provider
            .get_block_number()
            .await
            .map_err(|e| rpc(&id, e))?;
        let target = head.saturating_sub(self.spec.confirmations);
        if next > target {
            return Ok(false);
        }
        let end = target.min(next + self.spec.max_block_range - 1);
        let mut logs: BTreeMap<u64, Vec<Log>> = BTreeMap::new();
        if let Some(f) = self
            .decoder
            .filter(self.chain)
            .filter(|f| !f.addresses.is_empty())
        {
            let filter = Filter::new()
                .address(f.addresses.clone())
                .event_signature(f.topics.clone())
                .from_block(next)
                .to_block(end);
            for log in self
                .provider
                .get_logs(&filter)
                .await
                .map_err(|e| rpc(&id, e))?
            {
                if let Some(n) = log.block_number {
                    logs.entry(n).or_default().push(log);
                }
            }
        }
        let mut headers = Vec::with_capacity((end - next + 1) as usize);
        let numbers: Vec<u64> = (next..=end).collect();
        for chunk in numbers.chunks(64) {
            for h in join_all(chunk.iter().map(|n| self.header(*n))).await {
                headers.push(h?);
            }
        }
        let seen = Instant::now();
        for h in headers {
            if let Some(prev) = self.recent.back()
                && h.parent_hash != prev.hash
            {
                self.reorg().await?;
                return Ok(true);
            }
            let block_logs = logs.remove(&h.number).unwrap_or_default();
            if block_logs
                .iter()
                .any(|l| l.block_hash.is_some_and(|bh| bh != h.hash))
            {
                // The block changed between the two reads: read it again.
                return Ok(true);
            }
            let mut events = Vec::with_capacity(block_logs.len() + 1);
            for log in &block_logs {
                let Some(mut kind) = self.decoder.decode(self.chain, log) else {
                    continue;
                };
                let tx = log.transaction_hash.unwrap_or_default();
                if let EventKind::Mint { token, minter, .. } = &mut kind
                    && self
                        .needs_minter
                        .get(usize::from(*token))
                        .copied()
                        .unwrap_or(false)
                {
                    *minter = self
                        .provider
                        .get_transaction_by_hash(tx)
                        .await
                        .map_err(|e| rpc(&id, e))?
                        .map(|t| t.from());
                }
                events.push(Event {
                    chain: self.chain,
                    block: h.number,
                    timestamp: h.timestamp,
                    tx,
                    log_index: log.log_index.unwrap_or(0),
                    kind,
                });
            }
            events.push(Event::head(self.chain, h.number, h.timestamp));
            if self
                .tx
                .send(Msg::Block {
                    chain: self.chain,
                    block: h,
                    events,
                    seen,
                    head,
                })
                .await
                .is_err()
            {
                return Ok(false);
            }
            self.recent.push_back(h);
            if self.recent.len() > KEEP {
                self.recent.pop_front();
            }
            self.next = Some(h.number + 1);
        }
        Ok(true)
    }

    /// Finds the last block both branches share and tells the daemon to roll back to it.
    async fn reorg(&mut self) -> Result<()> {
        while let Some(b) = self.recent.back().copied() {
            let now = self.header(b.number).await?;
            if now.hash == b.hash {
                tracing::warn!(chain = %self.spec.id, fork = b.number, "reorg: rolling back");
                self.next = Some(b.number + 1);
                let _ = self
                    .tx
                    .send(Msg::Reorg {
                        chain: self.chain,
                        fork: b,
                    })
                    .await;
                return Ok(());
            }
            self.recent.pop_back();
        }
        Err(rpc(
            &self.spec.id,
            "reorg deeper than the kept block hashes",
        ))
    }
}
