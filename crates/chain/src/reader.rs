//! Reading a chain: the one place that asks an RPC endpoint for block headers, watched logs,
//! transaction senders and contract words. [`ChainReader`] is the seam: ingest only ever talks
//! to a reader, so a reader that asks several endpoints and keeps only what a quorum of them
//! agrees on can replace [`RpcReader`] without touching decoding, the engine or the store.

use std::future::Future;

use alloy::eips::BlockNumberOrTag;
use alloy::network::TransactionResponse;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, Log, TransactionRequest};
use futures_util::future::join_all;
use ringfence_store::BlockRecord;

use crate::error::{Result, rpc};

/// One block as ingest needs it: its header and the watched logs it holds, read consistently
/// (every log carries this header's hash).
#[derive(Clone, Debug, PartialEq)]
pub struct RawBlock {
    /// Number, hash, parent hash, timestamp.
    pub header: BlockRecord,
    /// The logs of the watched (contract, topic 0) pairs, in log-index order.
    pub logs: Vec<Log>,
    /// Transactions of logs in this block that the quorum confirmed but an endpoint
    /// contradicted (a quorum reader only; empty otherwise): nothing they cause is acted on.
    pub contested: Vec<B256>,
    /// What the endpoints contradicted in this block, if anything (a quorum reader only).
    pub contradiction: Option<Contradiction>,
}

/// Endpoints of a quorum that did not all return the same block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contradiction {
    /// The block number.
    pub block: u64,
    /// Endpoints (redacted) that returned the confirmed block (empty when no quorum formed).
    pub agreeing: Vec<String>,
    /// Endpoints (redacted) that returned something else, with how many distinct blocks each
    /// has contradicted so far (every endpoint that answered, with 0, when no quorum formed).
    pub dissenting: Vec<(String, u64)>,
    /// What differed (block hash, parent hash, timestamp, logs, an invalid answer).
    pub differed: Vec<String>,
    /// No quorum formed: nothing from the block is believed.
    pub no_quorum: bool,
    /// Whether to raise an alert for it now (an endpoint that keeps contradicting is reported
    /// once in a while, not for every block).
    pub report: bool,
}

/// What ingest reads from one chain. Implementations must return only data they trust: a
/// quorum reader returns what enough endpoints agree on and an error otherwise.
pub trait ChainReader: Send + Sync + 'static {
    /// The chain's latest block number.
    fn head(&self) -> impl Future<Output = Result<u64>> + Send;

    /// One block's header (reorg walk-back, start-up).
    fn header(&self, number: u64) -> impl Future<Output = Result<BlockRecord>> + Send;

    /// Headers and watched logs of the blocks `from..=to`, oldest first. The answer stops
    /// before the first block whose logs and header disagree (the block changed between the
    /// reads): ingest reads it again.
    fn blocks(&self, from: u64, to: u64) -> impl Future<Output = Result<Vec<RawBlock>>> + Send;

    /// The sender of a transaction (per-minter limits).
    fn sender(&self, tx: B256) -> impl Future<Output = Result<Option<Address>>> + Send;

    /// The first word a view call returns at block `at` (supplies and balances at start-up).
    fn word(&self, to: Address, input: Bytes, at: u64)
    -> impl Future<Output = Result<U256>> + Send;
}

/// A reader through one JSON-RPC endpoint.
#[derive(Clone)]
pub struct RpcReader {
    chain: String,
    provider: DynProvider,
    addresses: Vec<Address>,
    topics: Vec<B256>,
}

impl std::fmt::Debug for RpcReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The provider holds the endpoint URL, which may carry a credential.
        f.debug_struct("RpcReader")
            .field("chain", &self.chain)
            .field("addresses", &self.addresses.len())
            .finish_non_exhaustive()
    }
}

impl RpcReader {
    /// A reader of `chain` (its config id, for errors) that fetches the logs of `addresses`
    /// with topic 0 in `topics`.
    pub fn new(
        chain: impl Into<String>,
        provider: DynProvider,
        addresses: Vec<Address>,
        topics: Vec<B256>,
    ) -> Self {
        Self {
            chain: chain.into(),
            provider,
            addresses,
            topics,
        }
    }
}

impl ChainReader for RpcReader {
    async fn head(&self) -> Result<u64> {
        self.provider
            .get_block_number()
            .await
            .map_err(|e| rpc(&self.chain, e))
    }

    async fn header(&self, n: u64) -> Result<BlockRecord> {
        let b = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(n))
            .await
            .map_err(|e| rpc(&self.chain, e))?
            .ok_or_else(|| rpc(&self.chain, format!("block {n} not found")))?;
        Ok(BlockRecord {
            number: b.header.number,
            hash: b.header.hash,
            parent_hash: b.header.parent_hash,
            timestamp: b.header.timestamp,
        })
    }

    async fn blocks(&self, from: u64, to: u64) -> Result<Vec<RawBlock>> {
        if to < from {
            return Ok(Vec::new());
        }
        let mut logs: std::collections::BTreeMap<u64, Vec<Log>> = Default::default();
        if !self.addresses.is_empty() {
            let filter = Filter::new()
                .address(self.addresses.clone())
                .event_signature(self.topics.clone())
                .from_block(from)
                .to_block(to);
            for log in self
                .provider
                .get_logs(&filter)
                .await
                .map_err(|e| rpc(&self.chain, e))?
            {
                if let Some(n) = log.block_number {
                    logs.entry(n).or_default().push(log);
                }
            }
        }
        let numbers: Vec<u64> = (from..=to).collect();
        let mut out = Vec::with_capacity(numbers.len());
        for chunk in numbers.chunks(64) {
            for h in join_all(chunk.iter().map(|n| self.header(*n))).await {
                let header = h?;
                let mut block_logs = logs.remove(&header.number).unwrap_or_default();
                if block_logs
                    .iter()
                    .any(|l| l.block_hash.is_some_and(|bh| bh != header.hash))
                {
                    return Ok(out);
                }
                block_logs.sort_by_key(|l| l.log_index.unwrap_or(0));
                out.push(RawBlock {
                    header,
                    logs: block_logs,
                    contested: Vec::new(),
                    contradiction: None,
                });
            }
        }
        Ok(out)
    }

    async fn sender(&self, tx: B256) -> Result<Option<Address>> {
        Ok(self
            .provider
            .get_transaction_by_hash(tx)
            .await
            .map_err(|e| rpc(&self.chain, e))?
            .map(|t| t.from()))
    }

    async fn word(&self, to: Address, input: Bytes, at: u64) -> Result<U256> {
        let req = TransactionRequest::default().to(to).input(input.into());
        let out = self
            .provider
            .call(req)
            .block(at.into())
            .await
            .map_err(|e| rpc(&self.chain, e))?;
        U256::try_from_be_slice(out.get(..32).unwrap_or(&[]))
            .ok_or_else(|| rpc(&self.chain, "eth_call returned no word"))
    }
}
