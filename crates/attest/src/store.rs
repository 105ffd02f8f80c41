//! The attestor's memory in SQLite: every attestation it signed, keyed by message id, so that it
//! never signs a message twice (across restarts too), and serves what it signed; and its chain
//! checkpoint (the blocks read, the logs ingested from them, the messages already settled), so a
//! restart resumes where it stopped instead of at the head.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use alloy::primitives::{Address, B256, Bytes, U256};
use ringfence_quorum::LogEntry;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::attestation::{Attestation, Signed};
use crate::error::Result;

/// One stored attestation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Record {
    /// The route's config id.
    pub route: String,
    /// The attestation.
    pub attestation: Attestation,
    /// The signature.
    pub signed: Signed,
    /// Destination block of the message.
    pub block: u64,
    /// Destination timestamp of the message.
    pub timestamp: u64,
}

/// A handle on the store (cheap to clone; one connection behind a mutex).
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Store")
    }
}

fn b256(s: &str) -> B256 {
    s.parse().unwrap_or_default()
}

impl Store {
    /// Opens (creating if missing) the store at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        Self::init(Connection::open(path)?)
    }

    /// An in-memory store (tests).
    pub fn memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // WAL with full sync: every commit (an attestation, a block of the checkpoint) is on disk
        // when it returns, at one fsync instead of the rollback journal's several (a block of the
        // checkpoint costs well under a millisecond instead of ~10 ms).
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
            PRAGMA synchronous = FULL;
            CREATE TABLE IF NOT EXISTS attestation (
                message_id TEXT PRIMARY KEY,
                route TEXT NOT NULL,
                route_id TEXT NOT NULL,
                src_chain_id TEXT NOT NULL,
                src_tx_hash TEXT NOT NULL,
                src_log_index TEXT NOT NULL,
                asset TEXT NOT NULL,
                amount TEXT NOT NULL,
                recipient TEXT NOT NULL,
                signer TEXT NOT NULL,
                signature TEXT NOT NULL,
                block INTEGER NOT NULL,
                timestamp INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS chain_block (
                chain TEXT NOT NULL,
                chain_id INTEGER NOT NULL,
                number INTEGER NOT NULL,
                hash BLOB NOT NULL,
                timestamp INTEGER NOT NULL,
                PRIMARY KEY (chain, chain_id, number)
            );
            CREATE TABLE IF NOT EXISTS chain_log (
                chain TEXT NOT NULL,
                chain_id INTEGER NOT NULL,
                block INTEGER NOT NULL,
                log_index INTEGER NOT NULL,
                timestamp INTEGER NOT NULL,
                address BLOB NOT NULL,
                topics BLOB NOT NULL,
                data BLOB NOT NULL,
                tx_hash BLOB NOT NULL,
                contested INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (chain, chain_id, block, log_index)
            );
            CREATE TABLE IF NOT EXISTS settled (
                route TEXT NOT NULL,
                tx_hash BLOB NOT NULL,
                log_index INTEGER NOT NULL,
                chain TEXT NOT NULL,
                chain_id INTEGER NOT NULL,
                block INTEGER NOT NULL,
                PRIMARY KEY (route, tx_hash, log_index)
            );",
        )?;
        // A store written before logs carried their `contested` flag: add it (those logs were
        // read without the check, so they count as uncontested, as they did then).
        let has_contested: bool = conn.query_row(
            "SELECT COUNT(*) FROM pragma_table_info('chain_log') WHERE name = 'contested'",
            [],
            |r| r.get::<_, i64>(0).map(|n| n > 0),
        )?;
        if !has_contested {
            conn.execute_batch(
                "ALTER TABLE chain_log ADD COLUMN contested INTEGER NOT NULL DEFAULT 0",
            )?;
        }
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `r` unless its message was attested before; returns whether it was inserted. The
    /// message id is the primary key, so a second attestation of one message is impossible.
    pub fn insert(&self, r: &Record) -> Result<bool> {
        let a = &r.attestation;
        let n = self.conn().execute(
            "INSERT OR IGNORE INTO attestation VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
            params![
                a.messageId.to_string(),
                r.route,
                a.routeId.to_string(),
                a.srcChainId.to_string(),
                a.srcTxHash.to_string(),
                a.srcLogIndex.to_string(),
                a.asset.to_string(),
                a.amount.to_string(),
                a.recipient.to_string(),
                r.signed.signer.to_string(),
                r.signed.signature.to_string(),
                r.block as i64,
                r.timestamp as i64,
            ],
        )?;
        Ok(n == 1)
    }

    /// Whether `message_id` was attested.
    pub fn attested(&self, message_id: B256) -> Result<bool> {
        Ok(self.get(message_id)?.is_some())
    }

    /// The attestation of `message_id`, if any.
    pub fn get(&self, message_id: B256) -> Result<Option<Record>> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT route, route_id, src_chain_id, src_tx_hash, src_log_index, asset, amount,
                        recipient, signer, signature, block, timestamp
                 FROM attestation WHERE message_id = ?1",
                params![message_id.to_string()],
                |row| {
                    let s = |i: usize| row.get::<_, String>(i);
                    Ok((
                        s(0)?,
                        [
                            s(1)?,
                            s(2)?,
                            s(3)?,
                            s(4)?,
                            s(5)?,
                            s(6)?,
                            s(7)?,
                            s(8)?,
                            s(9)?,
                        ],
                        row.get::<_, i64>(10)?,
                        row.get::<_, i64>(11)?,
                    ))
                },
            )
            .optional()?;
        Ok(row.map(|(route, f, block, ts)| {
            let u = |s: &str| s.parse::<U256>().unwrap_or_default();
            Record {
                route,
                attestation: Attestation {
                    routeId: b256(&f[0]),
                    srcChainId: u(&f[1]),
                    srcTxHash: b256(&f[2]),
                    srcLogIndex: u(&f[3]),
                    messageId: message_id,
                    asset: b256(&f[4]),
                    amount: u(&f[5]),
                    recipient: f[6].parse::<Address>().unwrap_or_default(),
                },
                signed: Signed {
                    signer: f[7].parse::<Address>().unwrap_or_default(),
                    signature: f[8].parse::<Bytes>().unwrap_or_default(),
                },
                block: block as u64,
                timestamp: ts as u64,
            }
        }))
    }

    /// The amount attested on `route` for messages with timestamps in `(since, ..]`.
    pub fn attested_since(&self, route: &str, since: u64) -> Result<U256> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT amount FROM attestation WHERE route = ?1 AND timestamp > ?2")?;
        let rows = stmt.query_map(params![route, since as i64], |r| r.get::<_, String>(0))?;
        let mut sum = U256::ZERO;
        for a in rows {
            sum = sum.saturating_add(a?.parse::<U256>().unwrap_or_default());
        }
        Ok(sum)
    }

    /// Records a block of `chain` (its hash and timestamp) and the logs ingested from it, with
    /// their `contested` flags, in one transaction, replacing what was stored for that number;
    /// then keeps only the chain's last `keep` blocks (the logs stay: they are what a restart
    /// re-ingests).
    pub fn record_block(
        &self,
        chain: ChainKey<'_>,
        block: &BlockRead<'_>,
        keep: usize,
    ) -> Result<()> {
        let BlockRead {
            number,
            hash,
            timestamp,
            logs,
            contested: _,
        } = *block;
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let (id, cid, n) = (chain.id, chain.chain_id as i64, number as i64);
        tx.execute(
            "DELETE FROM chain_log WHERE chain = ?1 AND chain_id = ?2 AND block = ?3",
            params![id, cid, n],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO chain_block VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, cid, n, hash.as_slice(), timestamp as i64],
        )?;
        for log in logs {
            let topics: Vec<u8> = log.topics.iter().flat_map(|t| t.0).collect();
            tx.execute(
                "INSERT OR REPLACE INTO chain_log
                   (chain, chain_id, block, log_index, timestamp, address, topics, data, tx_hash,
                    contested)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    id,
                    cid,
                    n,
                    log.log_index as i64,
                    timestamp as i64,
                    log.address.as_slice(),
                    topics,
                    log.data.as_ref(),
                    log.tx_hash.as_slice(),
                    block.is_contested(log),
                ],
            )?;
        }
        tx.execute(
            "DELETE FROM chain_block WHERE chain = ?1 AND chain_id = ?2 AND number NOT IN
               (SELECT number FROM chain_block WHERE chain = ?1 AND chain_id = ?2
                ORDER BY number DESC LIMIT ?3)",
            params![id, cid, keep as i64],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Forgets block `number` of `chain` (a reorg replaced it): the block, the logs read from
    /// it and the settlements of messages in it, in one transaction.
    pub fn forget_block(&self, chain: ChainKey<'_>, number: u64) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let p = params![chain.id, chain.chain_id as i64, number as i64];
        tx.execute(
            "DELETE FROM chain_block WHERE chain = ?1 AND chain_id = ?2 AND number = ?3",
            p,
        )?;
        tx.execute(
            "DELETE FROM chain_log WHERE chain = ?1 AND chain_id = ?2 AND block = ?3",
            p,
        )?;
        tx.execute(
            "DELETE FROM settled WHERE chain = ?1 AND chain_id = ?2 AND block = ?3",
            p,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The stored blocks of `chain`: hash and timestamp by number.
    pub fn blocks(&self, chain: ChainKey<'_>) -> Result<BTreeMap<u64, (B256, u64)>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT number, hash, timestamp FROM chain_block WHERE chain = ?1 AND chain_id = ?2",
        )?;
        let rows = stmt.query_map(params![chain.id, chain.chain_id as i64], |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                (word(r, 1)?, r.get::<_, i64>(2)? as u64),
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The stored logs of `chain` in block and log order, each with its block number and
    /// timestamp.
    pub fn logs(&self, chain: ChainKey<'_>) -> Result<Vec<StoredLog>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT block, timestamp, log_index, address, topics, data, tx_hash, contested
             FROM chain_log
             WHERE chain = ?1 AND chain_id = ?2 ORDER BY block, log_index",
        )?;
        let rows = stmt.query_map(params![chain.id, chain.chain_id as i64], |r| {
            let address = blob(r, 3)?;
            let topics = blob(r, 4)?;
            if address.len() != 20 || topics.len() % 32 != 0 {
                return Err(corrupt(3, "an address of 20 bytes and topics of 32"));
            }
            Ok(StoredLog {
                block: r.get::<_, i64>(0)? as u64,
                timestamp: r.get::<_, i64>(1)? as u64,
                log: LogEntry {
                    address: Address::from_slice(&address),
                    topics: topics.chunks_exact(32).map(B256::from_slice).collect(),
                    data: Bytes::from(blob(r, 5)?),
                    tx_hash: word(r, 6)?,
                    log_index: r.get::<_, i64>(2)? as u64,
                },
                contested: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Sets the contested flags of block `number`'s stored logs to what a new read of the block
    /// gave: exactly the logs in `contested` are contested.
    pub fn set_contested(
        &self,
        chain: ChainKey<'_>,
        number: u64,
        contested: &[(B256, u64)],
    ) -> Result<()> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let (id, cid, n) = (chain.id, chain.chain_id as i64, number as i64);
        tx.execute(
            "UPDATE chain_log SET contested = 0 WHERE chain = ?1 AND chain_id = ?2 AND block = ?3",
            params![id, cid, n],
        )?;
        for (hash, index) in contested {
            tx.execute(
                "UPDATE chain_log SET contested = 1 WHERE chain = ?1 AND chain_id = ?2 AND block = ?3
                   AND log_index = ?4 AND tx_hash = ?5",
                params![id, cid, n, *index as i64, hash.as_slice()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Records that the message logged at (`tx_hash`, `log_index`) in block `block` of `chain`
    /// is settled on `route` (attested or finally refused).
    pub fn settle(
        &self,
        route: &str,
        chain: ChainKey<'_>,
        block: u64,
        tx_hash: B256,
        log_index: u64,
    ) -> Result<()> {
        self.conn().execute(
            "INSERT OR IGNORE INTO settled VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                route,
                tx_hash.as_slice(),
                log_index as i64,
                chain.id,
                chain.chain_id as i64,
                block as i64,
            ],
        )?;
        Ok(())
    }

    /// Whether the message logged at (`tx_hash`, `log_index`) is settled on `route`.
    pub fn settled(&self, route: &str, tx_hash: B256, log_index: u64) -> Result<bool> {
        Ok(self
            .conn()
            .query_row(
                "SELECT 1 FROM settled WHERE route = ?1 AND tx_hash = ?2 AND log_index = ?3",
                params![route, tx_hash.as_slice(), log_index as i64],
                |_| Ok(()),
            )
            .optional()?
            .is_some())
    }
}

/// A chain as the checkpoint names it: its config id and the chain id its endpoints reported
/// (a checkpoint is only resumed on the chain it was read from).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainKey<'a> {
    /// The chain's config id.
    pub id: &'a str,
    /// The chain id.
    pub chain_id: u64,
}

/// A block the quorum confirmed, as the checkpoint records it.
#[derive(Clone, Copy, Debug)]
pub struct BlockRead<'a> {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// Block timestamp.
    pub timestamp: u64,
    /// The logs ingested from it.
    pub logs: &'a [LogEntry],
    /// The logs (transaction hash, log index) an endpoint with a self-consistent view of the
    /// block did not return ([`ringfence_quorum::Confirmed::contested`]).
    pub contested: &'a [(B256, u64)],
}

impl BlockRead<'_> {
    /// Whether `log` is one of the block's contested logs.
    pub fn is_contested(&self, log: &LogEntry) -> bool {
        self.contested.contains(&(log.tx_hash, log.log_index))
    }
}

/// A log of the checkpoint, with the block it was read in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredLog {
    /// Block number.
    pub block: u64,
    /// Block timestamp.
    pub timestamp: u64,
    /// The log.
    pub log: LogEntry,
    /// Whether an endpoint contradicted it (see [`BlockRead::contested`]).
    pub contested: bool,
}

fn corrupt(i: usize, want: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        i,
        rusqlite::types::Type::Blob,
        format!("corrupt checkpoint: want {want}").into(),
    )
}

fn blob(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Vec<u8>> {
    r.get::<_, Vec<u8>>(i)
}

fn word(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<B256> {
    let b = blob(r, i)?;
    if b.len() != 32 {
        return Err(corrupt(i, "32 bytes"));
    }
    Ok(B256::from_slice(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attestation::attestation;

    #[test]
    fn one_attestation_per_message_and_exact_amounts() {
        let s = Store::memory().expect("store");
        let big = U256::MAX - U256::from(1u64);
        let a = attestation(
            B256::repeat_byte(1),
            1,
            B256::repeat_byte(2),
            3,
            B256::repeat_byte(4),
            B256::repeat_byte(5),
            big,
            Address::repeat_byte(6),
        );
        let r = Record {
            route: "lab".into(),
            attestation: a.clone(),
            signed: Signed {
                signer: Address::repeat_byte(7),
                signature: Bytes::from(vec![1u8; 65]),
            },
            block: 9,
            timestamp: 100,
        };
        assert!(s.insert(&r).expect("insert"));
        let mut again = r.clone();
        again.attestation.amount = U256::from(1u64);
        assert!(!s.insert(&again).expect("insert"), "never twice");
        assert_eq!(s.get(a.messageId).expect("get"), Some(r));
        assert!(s.attested(a.messageId).expect("q"));
        assert!(!s.attested(B256::ZERO).expect("q"));
        assert_eq!(s.attested_since("lab", 99).expect("sum"), big);
        assert_eq!(s.attested_since("lab", 100).expect("sum"), U256::ZERO);
    }

    fn log(i: u8) -> LogEntry {
        LogEntry {
            address: Address::repeat_byte(i),
            topics: vec![B256::repeat_byte(i), B256::repeat_byte(i + 1)],
            data: Bytes::from(vec![i; 3 * i as usize]),
            tx_hash: B256::repeat_byte(0x80 + i),
            log_index: u64::from(i),
        }
    }

    fn read<'a>(
        number: u64,
        hash: B256,
        timestamp: u64,
        logs: &'a [LogEntry],
        contested: &'a [(B256, u64)],
    ) -> BlockRead<'a> {
        BlockRead {
            number,
            hash,
            timestamp,
            logs,
            contested,
        }
    }

    #[test]
    fn checkpoint_round_trip_prune_and_reorg_forget() {
        let s = Store::memory().expect("store");
        let src = ChainKey {
            id: "src",
            chain_id: 1,
        };
        let other = ChainKey {
            id: "src",
            chain_id: 2,
        };
        let h = |n: u64| B256::with_last_byte(n as u8);
        // Logs written out of index order come back in block/log order; a block without logs
        // is a block too.
        s.record_block(src, &read(10, h(10), 100, &[log(2), log(1)], &[]), 3)
            .expect("record");
        s.record_block(src, &read(11, h(11), 112, &[], &[]), 3)
            .expect("record");
        s.record_block(src, &read(12, h(12), 124, &[log(0)], &[]), 3)
            .expect("record");
        s.record_block(other, &read(12, h(99), 1, &[log(5)], &[]), 3)
            .expect("record");
        let blocks = s.blocks(src).expect("blocks");
        assert_eq!(
            blocks.into_iter().collect::<Vec<_>>(),
            vec![(10, (h(10), 100)), (11, (h(11), 112)), (12, (h(12), 124))]
        );
        let logs = s.logs(src).expect("logs");
        let at = |l: &StoredLog| (l.block, l.timestamp, l.log.clone());
        let numbers =
            |s: &Store| -> Vec<u64> { s.blocks(src).expect("blocks").keys().copied().collect() };
        assert_eq!(
            logs.iter().map(at).collect::<Vec<_>>(),
            vec![(10, 100, log(1)), (10, 100, log(2)), (12, 124, log(0))]
        );

        // Pruned to the last `keep` blocks; their logs stay.
        s.record_block(src, &read(13, h(13), 136, &[], &[]), 3)
            .expect("record");
        assert_eq!(numbers(&s), vec![11, 12, 13]);
        assert_eq!(s.logs(src).expect("logs").len(), 3);

        // Settled messages, per route.
        s.settle("lab", src, 12, log(0).tx_hash, 0).expect("settle");
        assert!(s.settled("lab", log(0).tx_hash, 0).expect("q"));
        assert!(!s.settled("other", log(0).tx_hash, 0).expect("q"));
        assert!(!s.settled("lab", log(0).tx_hash, 1).expect("q"));

        // A reorg forgets block 12: its hash, its logs, its settlements; not the other chain's.
        s.forget_block(src, 12).expect("forget");
        assert_eq!(numbers(&s), vec![11, 13]);
        assert_eq!(
            s.logs(src)
                .expect("logs")
                .iter()
                .map(at)
                .collect::<Vec<_>>(),
            vec![(10, 100, log(1)), (10, 100, log(2))]
        );
        assert!(!s.settled("lab", log(0).tx_hash, 0).expect("q"));
        assert_eq!(s.blocks(other).expect("blocks").len(), 1);
        assert_eq!(s.logs(other).expect("logs").len(), 1);

        // Re-reading a block replaces what was stored for it.
        s.record_block(src, &read(12, h(42), 125, &[log(3)], &[]), 3)
            .expect("record");
        assert_eq!(s.blocks(src).expect("blocks").get(&12), Some(&(h(42), 125)));
        assert_eq!(
            s.logs(src).expect("logs").last().map(at),
            Some((12, 125, log(3)))
        );
    }

    #[test]
    fn the_checkpoint_survives_reopening_the_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.db");
        let src = ChainKey {
            id: "src",
            chain_id: 1,
        };
        {
            let s = Store::open(&path).expect("store");
            let contested = [(log(2).tx_hash, log(2).log_index)];
            s.record_block(
                src,
                &read(7, B256::repeat_byte(7), 70, &[log(1), log(2)], &contested),
                4096,
            )
            .expect("record");
            s.settle("lab", src, 7, log(1).tx_hash, 1).expect("settle");
        }
        let s = Store::open(&path).expect("reopen");
        assert_eq!(s.blocks(src).expect("blocks").len(), 1);
        let logs = s.logs(src).expect("logs");
        assert_eq!(logs[0].log, log(1));
        assert_eq!(
            logs.iter().map(|l| l.contested).collect::<Vec<_>>(),
            vec![false, true],
            "the contested flag survives a restart"
        );
        assert!(s.settled("lab", log(1).tx_hash, 1).expect("q"));
    }

    #[test]
    fn a_checkpoint_written_before_the_contested_flag_opens_with_its_logs_uncontested() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("old.db");
        {
            let c = Connection::open(&path).expect("sqlite");
            c.execute_batch(
                "CREATE TABLE chain_log (
                    chain TEXT NOT NULL, chain_id INTEGER NOT NULL, block INTEGER NOT NULL,
                    log_index INTEGER NOT NULL, timestamp INTEGER NOT NULL, address BLOB NOT NULL,
                    topics BLOB NOT NULL, data BLOB NOT NULL, tx_hash BLOB NOT NULL,
                    PRIMARY KEY (chain, chain_id, block, log_index));",
            )
            .expect("old schema");
            let l = log(1);
            let topics: Vec<u8> = l.topics.iter().flat_map(|t| t.0).collect();
            c.execute(
                "INSERT INTO chain_log VALUES ('src', 1, 7, 1, 70, ?1, ?2, ?3, ?4)",
                params![
                    l.address.as_slice(),
                    topics,
                    l.data.as_ref(),
                    l.tx_hash.as_slice()
                ],
            )
            .expect("old row");
        }
        let s = Store::open(&path).expect("opens and adds the column");
        let src = ChainKey {
            id: "src",
            chain_id: 1,
        };
        let logs = s.logs(src).expect("logs");
        assert_eq!(logs.len(), 1);
        assert_eq!(logs[0].log, log(1));
        assert!(!logs[0].contested);
        s.record_block(
            src,
            &read(
                8,
                B256::repeat_byte(8),
                80,
                &[log(2)],
                &[(log(2).tx_hash, 2)],
            ),
            16,
        )
        .expect("a new block records its flag");
        assert!(s.logs(src).expect("logs")[1].contested);
        // A new read of block 8 that no endpoint contradicts clears the flag; of block 7, that
        // contests its log, sets it.
        s.set_contested(src, 8, &[]).expect("clear");
        s.set_contested(src, 7, &[(log(1).tx_hash, 1)])
            .expect("set");
        let flags: Vec<bool> = s
            .logs(src)
            .expect("logs")
            .iter()
            .map(|l| l.contested)
            .collect();
        assert_eq!(flags, vec![true, false]);
    }
}
