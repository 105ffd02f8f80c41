//! The SQLite store.

use std::path::Path;

use alloy::primitives::B256;
use ringfence_guard::{AlertRecord, Event, Severity};
use rusqlite::{Connection, OptionalExtension, params};

use crate::{Error, Result};

/// How long a statement waits for another connection's lock before giving up.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

const SCHEMA: &str = r#"
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE IF NOT EXISTS blocks (
    chain TEXT NOT NULL,
    number INTEGER NOT NULL,
    hash TEXT NOT NULL,
    parent_hash TEXT NOT NULL,
    timestamp INTEGER NOT NULL,
    PRIMARY KEY (chain, number)
);
CREATE TABLE IF NOT EXISTS checkpoints (
    chain TEXT PRIMARY KEY,
    number INTEGER NOT NULL,
    hash TEXT NOT NULL,
    timestamp INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    chain TEXT NOT NULL,
    block INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_chain_block ON events (chain, block);
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    chain TEXT NOT NULL,
    block INTEGER NOT NULL,
    retracted INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_seq (n INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS engine_snapshot (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    body TEXT NOT NULL
);
"#;

/// Schema changes after the base schema, in order: migration `i` takes `PRAGMA user_version`
/// from `i` to `i + 1`. A store written by a newer ringfence (a higher version) is refused.
const MIGRATIONS: &[&str] = &[
    // 1: the base schema above.
    "",
    // 2: acknowledgements of trips (the server wrote them to its own `server_acks` table).
    r#"
CREATE TABLE IF NOT EXISTS acks (
    id TEXT PRIMARY KEY,
    at INTEGER NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS alerts_seq ON alerts (seq);
"#,
    // 3: the second of two trips sharing an action recorded `same-as:<id>` and no transaction;
    // it now carries the sent action's outcome and hash, and `shared_with` (done in Rust below).
    "",
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// An acknowledgement: a person has seen a trip (it changes nothing on chain).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ack {
    /// The alert id.
    pub id: String,
    /// Unix seconds.
    pub at: u64,
    /// What the person wrote.
    pub note: String,
}

/// Which alerts [`Store::alerts_page`] lists.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlertFilter {
    /// Only this severity (`None`: both).
    pub severity: Option<Severity>,
    /// Include alerts a reorg retracted.
    pub retracted: bool,
}

/// One page of [`Store::alerts_page`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertPage {
    /// The alerts, newest first, each with its acknowledgement.
    pub items: Vec<(AlertRecord, Option<Ack>)>,
    /// How many alerts match the filter in all.
    pub total: u64,
}

/// Counts over the live (not retracted) alerts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlertCounts {
    /// Trips.
    pub trips: u64,
    /// Alerts that are not trips.
    pub alerts: u64,
    /// Trips nobody has acknowledged.
    pub unacked_trips: u64,
}

/// How many recent block hashes are kept per chain for reorg detection.
const KEEP_BLOCKS: u64 = 512;

/// An ingested block header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockRecord {
    /// Number.
    pub number: u64,
    /// Hash.
    pub hash: B256,
    /// Parent hash.
    pub parent_hash: B256,
    /// Timestamp.
    pub timestamp: u64,
}

/// The guard's SQLite database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
}

fn corrupt(table: &'static str, e: impl std::fmt::Display) -> Error {
    Error::Corrupt {
        table,
        message: e.to_string(),
    }
}

impl Store {
    /// Opens (creating if missing) the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::Io {
                path: dir.to_owned(),
                source,
            })?;
        }
        Self::init(Connection::open(path)?)
    }

    /// An in-memory database (tests, dry runs).
    pub fn open_in_memory() -> Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> Result<Self> {
        // Other connections (the dashboard, a reader polling checkpoints) may hold the file for a
        // moment: wait for them rather than failing the guard with "database is locked".
        conn.busy_timeout(BUSY_TIMEOUT)?;
        // Switching a new file to WAL needs the file to itself and answers "busy" at once, without
        // the busy handler, when another connection opens the same new file at the same moment:
        // retry for as long as the busy timeout.
        let started = std::time::Instant::now();
        loop {
            match conn.execute_batch(SCHEMA) {
                Ok(()) => {
                    let mut store = Self { conn };
                    store.migrate()?;
                    return Ok(store);
                }
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if matches!(
                        e.code,
                        rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                    ) && started.elapsed() < BUSY_TIMEOUT =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Brings the schema to [`SCHEMA_VERSION`], one migration per transaction.
    fn migrate(&mut self) -> Result<()> {
        loop {
            let tx = self.write_transaction()?;
            let v: u32 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if v as usize >= MIGRATIONS.len() {
                if v > SCHEMA_VERSION {
                    return Err(Error::Newer {
                        found: v,
                        supported: SCHEMA_VERSION,
                    });
                }
                return Ok(());
            }
            tx.execute_batch(MIGRATIONS[v as usize])?;
            if v + 1 == 2 {
                // Carry over the acknowledgements the server kept in its own table.
                let legacy: bool = tx.query_row(
                    "SELECT COUNT(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'server_acks'",
                    [],
                    |r| r.get(0),
                )?;
                if legacy {
                    tx.execute_batch(
                        "INSERT OR IGNORE INTO acks (id, at, note) SELECT id, at, note FROM server_acks;
                         DROP TABLE server_acks;",
                    )?;
                }
            }
            if v + 1 == 3 {
                resolve_same_as(&tx)?;
            }
            tx.execute_batch(&format!("PRAGMA user_version = {}", v + 1))?;
            tx.commit()?;
            tracing::debug!(version = v + 1, "store schema migrated");
        }
    }

    /// The schema version of the open store.
    pub fn schema_version(&self) -> Result<u32> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// A write transaction that takes the write lock when it begins. A deferred one that reads
    /// first and writes later cannot wait for a lock another connection (the dashboard, a
    /// reader polling checkpoints) took in between: SQLite fails it at once with "database is
    /// locked" instead of calling the busy handler.
    fn write_transaction(&mut self) -> Result<rusqlite::Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
    }

    /// The last fully ingested block of a chain.
    pub fn checkpoint(&self, chain: &str) -> Result<Option<BlockRecord>> {
        let row = self
            .conn
            .query_row(
                "SELECT c.number, c.hash, COALESCE(b.parent_hash, ''), c.timestamp FROM checkpoints c
                 LEFT JOIN blocks b ON b.chain = c.chain AND b.number = c.number WHERE c.chain = ?1",
                params![chain],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?)),
            )
            .optional()?;
        row.map(|(n, h, p, t)| block_record(n, &h, &p, t))
            .transpose()
    }

    /// The stored hash of block `number` of a chain, if it is recent enough to be kept.
    pub fn block(&self, chain: &str, number: u64) -> Result<Option<BlockRecord>> {
        let row = self
            .conn
            .query_row(
                "SELECT number, hash, parent_hash, timestamp FROM blocks WHERE chain = ?1 AND number = ?2",
                params![chain, number as i64],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?)),
            )
            .optional()?;
        row.map(|(n, h, p, t)| block_record(n, &h, &p, t))
            .transpose()
    }

    /// The most recent `limit` stored blocks of a chain, oldest first.
    pub fn recent_blocks(&self, chain: &str, limit: u64) -> Result<Vec<BlockRecord>> {
        let mut st = self.conn.prepare(
            "SELECT number, hash, parent_hash, timestamp FROM blocks WHERE chain = ?1 ORDER BY number DESC LIMIT ?2",
        )?;
        let rows = st.query_map(params![chain, limit as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (n, h, p, t) = row?;
            out.push(block_record(n, &h, &p, t)?);
        }
        out.reverse();
        Ok(out)
    }

    /// Commits one ingested block atomically: its events, the alerts they raised and the new
    /// checkpoint. Returns, per alert, whether it is new (an alert already stored — e.g. raised
    /// again by a replay after a restart — is left as it is).
    pub fn commit_block(
        &mut self,
        chain: &str,
        block: &BlockRecord,
        events: &[Event],
        alerts: &[AlertRecord],
    ) -> Result<Vec<bool>> {
        let tx = self.write_transaction()?;
        let mut fresh = Vec::with_capacity(alerts.len());
        {
            let mut ins =
                tx.prepare_cached("INSERT INTO events (chain, block, body) VALUES (?1, ?2, ?3)")?;
            for e in events {
                let body = serde_json::to_string(e).map_err(|e| corrupt("events", e))?;
                ins.execute(params![chain, e.block as i64, body])?;
            }
            let mut ins = tx.prepare_cached(
                "INSERT INTO alerts (id, seq, chain, block, retracted, body)
                 VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM alerts), ?2, ?3, 0, ?4)
                 ON CONFLICT(id) DO UPDATE SET retracted = 0, body = json_set(alerts.body, '$.retracted', json('false'))
                 WHERE alerts.retracted = 1",
            )?;
            for a in alerts {
                let body = serde_json::to_string(a).map_err(|e| corrupt("alerts", e))?;
                let before: Option<i64> = tx
                    .query_row(
                        "SELECT retracted FROM alerts WHERE id = ?1",
                        params![a.id],
                        |r| r.get(0),
                    )
                    .optional()?;
                ins.execute(params![a.id, a.chain, a.block as i64, body])?;
                fresh.push(before.is_none());
            }
            tx.execute(
                "INSERT OR REPLACE INTO blocks (chain, number, hash, parent_hash, timestamp) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![chain, block.number as i64, block.hash.to_string(), block.parent_hash.to_string(), block.timestamp as i64],
            )?;
            tx.execute(
                "INSERT OR REPLACE INTO checkpoints (chain, number, hash, timestamp) VALUES (?1, ?2, ?3, ?4)",
                params![chain, block.number as i64, block.hash.to_string(), block.timestamp as i64],
            )?;
            tx.execute(
                "DELETE FROM blocks WHERE chain = ?1 AND number < ?2",
                params![chain, block.number.saturating_sub(KEEP_BLOCKS) as i64],
            )?;
        }
        tx.commit()?;
        Ok(fresh)
    }

    /// Records events that belong to no block (start-up observations of supplies and balances).
    pub fn append_events(&mut self, chain: &str, events: &[Event]) -> Result<()> {
        let tx = self.write_transaction()?;
        {
            let mut ins =
                tx.prepare_cached("INSERT INTO events (chain, block, body) VALUES (?1, ?2, ?3)")?;
            for e in events {
                let body = serde_json::to_string(e).map_err(|e| corrupt("events", e))?;
                ins.execute(params![chain, e.block as i64, body])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Every stored event in ingest order, with the config id of its chain.
    pub fn events(&self) -> Result<Vec<(String, Event)>> {
        let mut st = self
            .conn
            .prepare("SELECT chain, body FROM events ORDER BY seq")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (chain, body) = row?;
            let e: Event = serde_json::from_str(&body).map_err(|e| corrupt("events", e))?;
            out.push((chain, e));
        }
        Ok(out)
    }

    /// Number of stored events.
    pub fn event_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM events", [], |r| r.get::<_, i64>(0))?
            as u64)
    }

    /// Rolls a chain back to `fork` (the last block both branches share): forgets its later
    /// blocks and events, moves the checkpoint, and marks the alerts raised by the removed blocks
    /// retracted. Returns the retracted alerts.
    pub fn rollback(&mut self, chain: &str, fork: &BlockRecord) -> Result<Vec<AlertRecord>> {
        let tx = self.write_transaction()?;
        let mut retracted = Vec::new();
        {
            let mut st = tx.prepare(
                "SELECT body FROM alerts WHERE chain = ?1 AND block > ?2 AND retracted = 0 ORDER BY seq",
            )?;
            let rows = st.query_map(params![chain, fork.number as i64], |r| {
                r.get::<_, String>(0)
            })?;
            for body in rows {
                let mut a: AlertRecord =
                    serde_json::from_str(&body?).map_err(|e| corrupt("alerts", e))?;
                a.retracted = true;
                retracted.push(a);
            }
        }
        for a in &retracted {
            let body = serde_json::to_string(a).map_err(|e| corrupt("alerts", e))?;
            tx.execute(
                "UPDATE alerts SET retracted = 1, body = ?2 WHERE id = ?1",
                params![a.id, body],
            )?;
        }
        tx.execute(
            "DELETE FROM events WHERE chain = ?1 AND block > ?2",
            params![chain, fork.number as i64],
        )?;
        tx.execute(
            "DELETE FROM blocks WHERE chain = ?1 AND number > ?2",
            params![chain, fork.number as i64],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO checkpoints (chain, number, hash, timestamp) VALUES (?1, ?2, ?3, ?4)",
            params![chain, fork.number as i64, fork.hash.to_string(), fork.timestamp as i64],
        )?;
        tx.commit()?;
        Ok(retracted)
    }

    /// Replaces a stored alert's body (action outcomes).
    pub fn update_alert(&self, a: &AlertRecord) -> Result<()> {
        let body = serde_json::to_string(a).map_err(|e| corrupt("alerts", e))?;
        self.conn.execute(
            "UPDATE alerts SET body = ?2 WHERE id = ?1",
            params![a.id, body],
        )?;
        Ok(())
    }

    /// Stores a daemon-level alert (e.g. `stale`) that belongs to no block.
    pub fn insert_alert(&self, a: &AlertRecord) -> Result<bool> {
        let body = serde_json::to_string(a).map_err(|e| corrupt("alerts", e))?;
        let n = self.conn.execute(
            "INSERT OR IGNORE INTO alerts (id, seq, chain, block, retracted, body)
             VALUES (?1, (SELECT COALESCE(MAX(seq), 0) + 1 FROM alerts), ?2, ?3, 0, ?4)",
            params![a.id, a.chain, a.block as i64, body],
        )?;
        Ok(n == 1)
    }

    /// Every stored alert, oldest first.
    pub fn alerts(&self) -> Result<Vec<AlertRecord>> {
        let mut st = self.conn.prepare("SELECT body FROM alerts ORDER BY seq")?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for body in rows {
            out.push(serde_json::from_str(&body?).map_err(|e| corrupt("alerts", e))?);
        }
        Ok(out)
    }

    /// One page of alerts, newest first, each with its acknowledgement, and how many match in
    /// all. `offset` and `limit` count matching alerts.
    pub fn alerts_page(&self, filter: AlertFilter, offset: u64, limit: u64) -> Result<AlertPage> {
        let sev = filter.severity.map(severity_name);
        let cond =
            "(?1 IS NULL OR json_extract(a.body, '$.severity') = ?1) AND (?2 OR a.retracted = 0)";
        let total: i64 = self.conn.query_row(
            &format!("SELECT COUNT(*) FROM alerts a WHERE {cond}"),
            params![sev, filter.retracted],
            |r| r.get(0),
        )?;
        let mut st = self.conn.prepare(&format!(
            "SELECT a.body, k.at, k.note FROM alerts a LEFT JOIN acks k ON k.id = a.id
             WHERE {cond} ORDER BY a.seq DESC LIMIT ?3 OFFSET ?4"
        ))?;
        let rows = st.query_map(
            params![
                sev,
                filter.retracted,
                i64::try_from(limit).unwrap_or(i64::MAX),
                i64::try_from(offset).unwrap_or(i64::MAX)
            ],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                ))
            },
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (body, at, note) = row?;
            let rec: AlertRecord = serde_json::from_str(&body).map_err(|e| corrupt("alerts", e))?;
            let ack = at.map(|at| Ack {
                id: rec.id.clone(),
                at: u64::try_from(at).unwrap_or(0),
                note: note.unwrap_or_default(),
            });
            out.push((rec, ack));
        }
        Ok(AlertPage {
            items: out,
            total: u64::try_from(total).unwrap_or(0),
        })
    }

    /// Trips, alerts and unacknowledged trips among the live alerts.
    pub fn alert_counts(&self) -> Result<AlertCounts> {
        let (trips, alerts, unacked): (i64, i64, i64) = self.conn.query_row(
            "SELECT
                COALESCE(SUM(json_extract(a.body, '$.severity') = 'trip'), 0),
                COALESCE(SUM(json_extract(a.body, '$.severity') != 'trip'), 0),
                COALESCE(SUM(json_extract(a.body, '$.severity') = 'trip' AND k.id IS NULL), 0)
             FROM alerts a LEFT JOIN acks k ON k.id = a.id WHERE a.retracted = 0",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let n = |x: i64| u64::try_from(x).unwrap_or(0);
        Ok(AlertCounts {
            trips: n(trips),
            alerts: n(alerts),
            unacked_trips: n(unacked),
        })
    }

    /// The acknowledgement of an alert, if any.
    pub fn ack_of(&self, id: &str) -> Result<Option<Ack>> {
        let row = self
            .conn
            .query_row(
                "SELECT at, note FROM acks WHERE id = ?1",
                params![id],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
            )
            .optional()?;
        Ok(row.map(|(at, note)| Ack {
            id: id.to_owned(),
            at: u64::try_from(at).unwrap_or(0),
            note,
        }))
    }

    /// Acknowledges an alert at `at` (Unix seconds) with a note. `None` when there is no such
    /// alert; otherwise the acknowledgement and whether it is new (a second acknowledgement
    /// keeps the first).
    pub fn ack(&mut self, id: &str, at: u64, note: &str) -> Result<Option<(Ack, bool)>> {
        let tx = self.write_transaction()?;
        let exists: bool = tx.query_row(
            "SELECT COUNT(*) > 0 FROM alerts WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )?;
        if !exists {
            return Ok(None);
        }
        let n = tx.execute(
            "INSERT OR IGNORE INTO acks (id, at, note) VALUES (?1, ?2, ?3)",
            params![id, i64::try_from(at).unwrap_or(i64::MAX), note],
        )?;
        let (at, note): (i64, String) = tx.query_row(
            "SELECT at, note FROM acks WHERE id = ?1",
            params![id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        tx.commit()?;
        Ok(Some((
            Ack {
                id: id.to_owned(),
                at: u64::try_from(at).unwrap_or(0),
                note,
            },
            n == 1,
        )))
    }

    /// One alert by id.
    pub fn alert(&self, id: &str) -> Result<Option<AlertRecord>> {
        let body: Option<String> = self
            .conn
            .query_row("SELECT body FROM alerts WHERE id = ?1", params![id], |r| {
                r.get(0)
            })
            .optional()?;
        body.map(|b| serde_json::from_str(&b).map_err(|e| corrupt("alerts", e)))
            .transpose()
    }
}

impl Store {
    /// The rule engine's saved state and the last event sequence number it includes.
    pub fn snapshot(&self) -> Result<Option<(u64, String)>> {
        Ok(self
            .conn
            .query_row(
                "SELECT seq, body FROM engine_snapshot WHERE id = 1",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?)),
            )
            .optional()?)
    }

    /// Saves the engine state that includes every event up to `seq`, and deletes those events:
    /// nothing needs them any more (a restart loads the state and replays what follows).
    /// Returns how many events were pruned.
    pub fn save_snapshot(&mut self, seq: u64, body: &str) -> Result<u64> {
        let tx = self.write_transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO engine_snapshot (id, seq, body) VALUES (1, ?1, ?2)",
            params![seq as i64, body],
        )?;
        let n = tx.execute("DELETE FROM events WHERE seq <= ?1", params![seq as i64])?;
        tx.commit()?;
        Ok(n as u64)
    }

    /// Stored events after sequence number `seq`, in ingest order, with their sequence number
    /// and the config id of their chain.
    pub fn events_after(&self, seq: u64) -> Result<Vec<(u64, String, Event)>> {
        let mut st = self
            .conn
            .prepare("SELECT seq, chain, body FROM events WHERE seq > ?1 ORDER BY seq")?;
        let rows = st.query_map(params![seq as i64], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (n, chain, body) = row?;
            let e: Event = serde_json::from_str(&body).map_err(|e| corrupt("events", e))?;
            out.push((n as u64, chain, e));
        }
        Ok(out)
    }

    /// The sequence number of the last event ever stored (0 before the first): the number of
    /// events ingested, pruned or not, unless a reorg removed some.
    pub fn last_event_seq(&self) -> Result<u64> {
        let n: i64 = self.conn.query_row(
            "SELECT MAX(COALESCE((SELECT MAX(seq) FROM events), 0),
                        COALESCE((SELECT seq FROM engine_snapshot WHERE id = 1), 0))",
            [],
            |r| r.get(0),
        )?;
        Ok(n as u64)
    }
}

fn block_record(n: i64, h: &str, p: &str, t: i64) -> Result<BlockRecord> {
    let hash = h.parse().map_err(|e| corrupt("blocks", e))?;
    let parent_hash = if p.is_empty() {
        Default::default()
    } else {
        p.parse().map_err(|e| corrupt("blocks", e))?
    };
    Ok(BlockRecord {
        number: n as u64,
        hash,
        parent_hash,
        timestamp: t as u64,
    })
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Trip => "trip",
        Severity::Alert => "alert",
    }
}

/// Migration 3: every action recorded as `same-as:<lead id>` takes the lead's action outcome
/// (status, transaction hash, error) and names the lead in `shared_with`.
fn resolve_same_as(tx: &rusqlite::Transaction<'_>) -> Result<()> {
    let rows: Vec<(String, String)> = {
        let mut st = tx.prepare("SELECT id, body FROM alerts WHERE body LIKE '%\"same-as:%'")?;
        let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<std::result::Result<_, _>>()?
    };
    for (id, body) in rows {
        let mut v: serde_json::Value =
            serde_json::from_str(&body).map_err(|e| corrupt("alerts", e))?;
        let Some(actions) = v.get_mut("actions").and_then(|a| a.as_array_mut()) else {
            continue;
        };
        for a in actions.iter_mut() {
            let Some(lead) = a
                .get("status")
                .and_then(|s| s.as_str())
                .and_then(|s| s.strip_prefix("same-as:"))
                .map(str::to_owned)
            else {
                continue;
            };
            let lead_body: Option<String> = tx
                .query_row(
                    "SELECT body FROM alerts WHERE id = ?1",
                    params![lead],
                    |r| r.get(0),
                )
                .optional()?;
            let lead_action = lead_body
                .and_then(|b| serde_json::from_str::<serde_json::Value>(&b).ok())
                .and_then(|l| {
                    l.get("actions")?
                        .as_array()?
                        .iter()
                        .find(|x| x.get("id") == a.get("id") && x.get("arg") == a.get("arg"))
                        .cloned()
                });
            if let Some(obj) = a.as_object_mut() {
                match lead_action {
                    Some(l) => {
                        for k in ["status", "tx", "error"] {
                            match l.get(k) {
                                Some(x) => obj.insert(k.to_owned(), x.clone()),
                                None => obj.remove(k),
                            };
                        }
                    }
                    // The lead is gone: resume it as pending (a pause is idempotent).
                    None => {
                        obj.insert("status".into(), "pending".into());
                    }
                }
                obj.insert("shared_with".into(), lead.into());
            }
        }
        let body = serde_json::to_string(&v).map_err(|e| corrupt("alerts", e))?;
        tx.execute(
            "UPDATE alerts SET body = ?2 WHERE id = ?1",
            params![id, body],
        )?;
    }
    Ok(())
}
