//! Following one chain: poll (or be woken by new-head subscriptions), read headers and watched
//! logs through a [`ChainReader`], check parent hashes, turn each block into engine events with
//! [`block_events`] and hand complete blocks to the daemon.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, Bytes};
use ringfence_guard::{ChainSpec, Event, EventKind};
use ringfence_store::BlockRecord;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::decode::Decoder;
use crate::error::{Error, Result, rpc};
use crate::reader::{ChainReader, Contradiction, RawBlock};

/// The engine events of one block of chain `chain`: every watched log that decodes, in log
/// order, then the block's head event. `senders` gives the sender of the mint transactions
/// whose token has per-minter limits ([`Decoder::minter_txs`] lists them). This is the one
/// function from a block to engine events: `ringfence watch` and the replay lab both reach the
/// engine through it.
pub fn block_events(
    decoder: &Decoder,
    chain: u16,
    block: &RawBlock,
    senders: &HashMap<B256, Address>,
) -> Vec<Event> {
    let h = &block.header;
    let mut events = Vec::with_capacity(block.logs.len() + 1);
    for log in &block.logs {
        let Some(mut kind) = decoder.decode(chain, log) else {
            continue;
        };
        let tx = log.transaction_hash.unwrap_or_default();
        if let EventKind::Mint { minter, .. } = &mut kind
            && let Some(from) = senders.get(&tx)
        {
            *minter = Some(*from);
        }
        events.push(Event {
            chain,
            block: h.number,
            timestamp: h.timestamp,
            tx,
            log_index: log.log_index.unwrap_or(0),
            kind,
        });
    }
    events.push(Event::head(chain, h.number, h.timestamp));
    events
}

/// One complete block as the ingest task hands it over.
#[derive(Debug)]
pub struct BlockMsg {
    /// Chain index.
    pub chain: u16,
    /// The block's header.
    pub block: BlockRecord,
    /// Its engine events ([`block_events`]).
    pub events: Vec<Event>,
    /// When it was read.
    pub seen: Instant,
    /// The chain's head when it was read.
    pub head: u64,
    /// Transactions of logs an endpoint contradicted (quorum chains).
    pub contested: Vec<B256>,
    /// Quorum chains: the daemon answers whether it took the block (`false`: a finding rests
    /// on contradicted data; the chain task stays on the block and reads it again).
    pub verdict: Option<oneshot::Sender<bool>>,
}

/// What a chain's ingest task tells the daemon (or, in a fleet, the member that publishes it
/// on the bus). `chain` is the chain's index in the config.
#[derive(Debug)]
pub enum Msg {
    /// Start-up reads of supplies and balances, before the first block.
    Observed {
        /// Chain index.
        chain: u16,
        /// The observations, as engine events.
        events: Vec<Event>,
    },
    /// One complete block: its watched events, then its head event.
    Block(BlockMsg),
    /// The endpoints of a quorum chain contradicted each other about a block.
    Contradiction {
        /// Chain index.
        chain: u16,
        /// What they disagreed about.
        contradiction: Contradiction,
    },
    /// The chain reorganised: everything after `fork` is gone.
    Reorg {
        /// Chain index.
        chain: u16,
        /// The last block both branches share.
        fork: BlockRecord,
    },
    /// The chain stopped answering or producing blocks.
    Stale {
        /// Chain index.
        chain: u16,
        /// Why (URLs redacted by the receiver).
        error: String,
        /// The last block taken.
        last: u64,
    },
    /// It is answering again.
    Live {
        /// Chain index.
        chain: u16,
    },
}

pub(crate) struct Ingest<R> {
    pub(crate) chain: u16,
    pub(crate) spec: ChainSpec,
    pub(crate) reader: R,
    pub(crate) decoder: Arc<Decoder>,
    pub(crate) tx: mpsc::Sender<Msg>,
    pub(crate) recent: VecDeque<BlockRecord>,
    pub(crate) next: Option<u64>,
    pub(crate) observe: Vec<(usize, Option<Address>, Address)>,
    pub(crate) wake: Option<Arc<Notify>>,
    /// Ask the daemon to confirm each block before moving on (quorum chains).
    pub(crate) confirm: bool,
}

/// Recent block hashes kept per chain: the deepest reorg the guard follows.
pub(crate) const KEEP: usize = 256;

impl Ingest<()> {
    /// The same task over `reader`.
    pub(crate) fn with_reader<R: ChainReader>(self, reader: R) -> Ingest<R> {
        Ingest {
            chain: self.chain,
            spec: self.spec,
            reader,
            decoder: self.decoder,
            tx: self.tx,
            recent: self.recent,
            next: self.next,
            observe: self.observe,
            wake: self.wake,
            confirm: self.confirm,
        }
    }
}

impl<R: ChainReader> Ingest<R> {
    pub(crate) async fn run(mut self) {
        let poll = Duration::from_millis(self.spec.poll_ms);
        let stale_after = Duration::from_secs(self.spec.stale_after_s);
        let mut backoff = poll;
        let mut last_progress = Instant::now();
        let mut stale = false;
        let mut reported_no_quorum = None;
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
                Err(Error::NoQuorum { contradiction, .. }) => {
                    // Nothing from the block is believed; it is reported once, then read
                    // again every poll until a quorum agrees.
                    if reported_no_quorum != Some(contradiction.block) {
                        reported_no_quorum = Some(contradiction.block);
                        tracing::warn!(chain = %self.spec.id, block = contradiction.block, "endpoints disagree and no quorum agrees: halted on this block");
                        let _ = self
                            .tx
                            .send(Msg::Contradiction {
                                chain: self.chain,
                                contradiction: *contradiction,
                            })
                            .await;
                    }
                    tokio::time::sleep(poll).await;
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
        let head = self.reader.head().await?;
        let start = self
            .spec
            .start_block
            .unwrap_or(head.saturating_sub(self.spec.confirmations) + 1);
        let at = start.saturating_sub(1);
        let mut events = Vec::new();
        let ts = self.reader.header(at).await?.timestamp;
        for (token, holder, address) in &self.observe {
            let mut input = Vec::with_capacity(36);
            match holder {
                None => input.extend_from_slice(&[0x18, 0x16, 0x0d, 0xdd]),
                Some(h) => {
                    input.extend_from_slice(&[0x70, 0xa0, 0x82, 0x31]);
                    input.extend_from_slice(h.into_word().as_slice());
                }
            }
            let value = self.reader.word(*address, Bytes::from(input), at).await?;
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

    /// Ingests the next range of blocks; `Ok(false)` when there was nothing new.
    async fn step(&mut self) -> Result<bool> {
        let Some(next) = self.next else {
            return Ok(false);
        };
        let head = self.reader.head().await?;
        let target = head.saturating_sub(self.spec.confirmations);
        if next > target {
            return Ok(false);
        }
        let end = target.min(next + self.spec.max_block_range - 1);
        let blocks = self.reader.blocks(next, end).await?;
        let seen = Instant::now();
        for raw in blocks {
            let h = raw.header;
            if let Some(prev) = self.recent.back()
                && h.parent_hash != prev.hash
            {
                self.reorg().await?;
                return Ok(true);
            }
            let mut senders = HashMap::new();
            for tx in self.decoder.minter_txs(self.chain, &raw.logs) {
                if let Some(from) = self.reader.sender(tx).await? {
                    senders.insert(tx, from);
                }
            }
            if let Some(c) = raw.contradiction.clone().filter(|c| c.report) {
                let _ = self
                    .tx
                    .send(Msg::Contradiction {
                        chain: self.chain,
                        contradiction: c,
                    })
                    .await;
            }
            let events = block_events(&self.decoder, self.chain, &raw, &senders);
            let (verdict, answer) = if self.confirm {
                let (tx, rx) = oneshot::channel();
                (Some(tx), Some(rx))
            } else {
                (None, None)
            };
            if self
                .tx
                .send(Msg::Block(BlockMsg {
                    chain: self.chain,
                    block: h,
                    events,
                    seen,
                    head,
                    contested: raw.contested,
                    verdict,
                }))
                .await
                .is_err()
            {
                return Ok(false);
            }
            if let Some(rx) = answer
                && rx.await != Ok(true)
            {
                // Held: read the block again after a poll.
                return Ok(false);
            }
            self.recent.push_back(h);
            if self.recent.len() > KEEP {
                self.recent.pop_front();
            }
            self.next = Some(h.number + 1);
        }
        // An empty answer means the first block changed between reads: read it again at once.
        Ok(true)
    }

    /// Finds the last block both branches share and tells the daemon to roll back to it.
    async fn reorg(&mut self) -> Result<()> {
        while let Some(b) = self.recent.back().copied() {
            let now = self.reader.header(b.number).await?;
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

#[cfg(test)]
mod tests {
    use alloy::primitives::{LogData, U256, keccak256};
    use alloy::rpc::types::Log;
    use proptest::prelude::*;
    use ringfence_guard::GuardSpec;

    use super::*;

    const TOKEN: &str = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

    fn spec() -> GuardSpec {
        let text = format!(
            r#"
[store]
path = "t.db"
[[chain]]
id = "c"
rpc = "http://127.0.0.1:1"
[[token]]
id = "T"
chain = "c"
address = "{TOKEN}"
decimals = 6
[[rule]]
id = "mr"
kind = "mint-rate"
token = "T"
window_s = 60
max_amount = "1"
max_per_minter = "1"
"#
        );
        match ringfence_guard::config::parse(std::path::Path::new("t.toml"), &text) {
            Ok(s) => s,
            Err(e) => panic!("{e}"),
        }
    }

    fn log(address: Address, topics: Vec<B256>, data: Vec<u8>, tx: B256, index: u64) -> Log {
        Log {
            inner: alloy::primitives::Log {
                address,
                data: LogData::new_unchecked(topics, data.into()),
            },
            transaction_hash: Some(tx),
            log_index: Some(index),
            ..Log::default()
        }
    }

    fn header(number: u64, timestamp: u64) -> BlockRecord {
        BlockRecord {
            number,
            hash: B256::repeat_byte(1),
            parent_hash: B256::ZERO,
            timestamp,
        }
    }

    #[test]
    fn a_block_becomes_its_decoded_logs_then_its_head() {
        let spec = spec();
        let d = Decoder::new(&spec);
        let token: Address = TOKEN.parse().expect("address");
        let transfer = keccak256("Transfer(address,address,uint256)");
        let to = Address::repeat_byte(9);
        let mint = log(
            token,
            vec![transfer, B256::ZERO, to.into_word()],
            U256::from(5u8).to_be_bytes::<32>().to_vec(),
            B256::repeat_byte(7),
            3,
        );
        let other = log(
            Address::repeat_byte(2),
            vec![transfer],
            vec![],
            B256::repeat_byte(8),
            4,
        );
        let block = RawBlock {
            header: header(10, 1_000),
            logs: vec![mint.clone(), other],
            contested: Vec::new(),
            contradiction: None,
        };
        assert_eq!(d.minter_txs(0, &block.logs), vec![B256::repeat_byte(7)]);
        let mut senders = HashMap::new();
        senders.insert(B256::repeat_byte(7), Address::repeat_byte(4));
        let ev = block_events(&d, 0, &block, &senders);
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert_eq!(
            ev[0].kind,
            EventKind::Mint {
                token: 0,
                to,
                amount: U256::from(5u8),
                minter: Some(Address::repeat_byte(4)),
            }
        );
        assert_eq!(
            (ev[0].block, ev[0].timestamp, ev[0].log_index),
            (10, 1_000, 3)
        );
        assert_eq!(ev[1], Event::head(0, 10, 1_000));
    }

    proptest! {
        /// Whatever the logs hold, decoding never panics and a block always yields at most one
        /// event per log, then exactly one head, all located at the block.
        #[test]
        fn block_events_never_panic_and_end_with_the_head(
            logs in prop::collection::vec(
                (any::<bool>(), prop::collection::vec(any::<[u8; 32]>(), 0..5), prop::collection::vec(any::<u8>(), 0..100)),
                0..8,
            ),
            number in 0u64..1_000_000,
            ts in 0u64..4_000_000_000,
        ) {
            let spec = spec();
            let d = Decoder::new(&spec);
            let token: Address = TOKEN.parse().expect("address");
            let transfer = keccak256("Transfer(address,address,uint256)");
            let logs: Vec<Log> = logs
                .into_iter()
                .enumerate()
                .map(|(i, (ours, topics, data))| {
                    let mut topics: Vec<B256> = topics.into_iter().map(B256::from).collect();
                    if ours && !topics.is_empty() {
                        topics[0] = transfer;
                    }
                    log(if ours { token } else { Address::ZERO }, topics, data, B256::ZERO, i as u64)
                })
                .collect();
            let block = RawBlock { header: header(number, ts), logs, contested: Vec::new(), contradiction: None };
            let _ = d.minter_txs(0, &block.logs);
            let ev = block_events(&d, 0, &block, &HashMap::new());
            prop_assert!(ev.len() <= block.logs.len() + 1);
            prop_assert_eq!(ev.last().copied(), Some(Event::head(0, number, ts)));
            prop_assert!(ev.iter().all(|e| e.block == number && e.timestamp == ts && e.chain == 0));
        }
    }
}
