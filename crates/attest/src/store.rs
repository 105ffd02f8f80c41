//! The attestor's memory in SQLite: every attestation it signed, keyed by message id, so that it
//! never signs a message twice (across restarts too), and serves what it signed.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use alloy::primitives::{Address, B256, Bytes, U256};
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
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS attestation (
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
            );",
        )?;
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
}
