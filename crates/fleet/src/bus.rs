//! The edge to NATS JetStream: the block-log stream, the lease and claim buckets, and the
//! alert subject. Everything here is a thin call into `async-nats`; the decisions live in
//! [`crate::lease`], [`crate::claim`] and [`crate::codec`].

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, kv, stream};
use async_nats::{HeaderMap, ServerAddr};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::codec::{ALERTS, BLOCKS};
use crate::error::{Error, Result, bus};

/// The block-log stream.
pub const STREAM: &str = "RINGFENCE_BLOCKS";
/// The lease bucket.
pub const LEASES: &str = "ringfence-leases";
/// The claim bucket.
pub const CLAIMS: &str = "ringfence-claims";

/// How a member uses the bus.
#[derive(Clone, Debug)]
pub struct BusOptions {
    /// Replicas of the stream and buckets (at most the number of servers; 3 survives one
    /// node's loss).
    pub replicas: usize,
    /// How long a lease lives unrenewed: the longest a chain goes unguarded after its ingest
    /// member dies (plus one renewal period).
    pub lease_ttl: Duration,
    /// How long the bus set-up may take (a cluster elects its JetStream leader first).
    pub ready_within: Duration,
}

impl Default for BusOptions {
    fn default() -> Self {
        Self {
            replicas: 1,
            lease_ttl: Duration::from_secs(3),
            ready_within: Duration::from_secs(30),
        }
    }
}

/// A connected member's handles.
#[derive(Clone, Debug)]
pub struct Bus {
    /// The core client (alerts).
    pub client: async_nats::Client,
    /// JetStream.
    pub js: jetstream::Context,
    /// The block log.
    pub stream: stream::Stream,
    /// Leases.
    pub leases: kv::Store,
    /// Claims.
    pub claims: kv::Store,
}

/// Parses `nats://HOST:PORT[,…]` into server addresses.
pub fn parse_urls(given: &str) -> Result<Vec<ServerAddr>> {
    let shown = ringfence_guard::secret::scrub_urls(given).into_owned();
    let mut out = Vec::new();
    for part in given.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if !part.starts_with("nats://") && !part.starts_with("tls://") {
            return Err(Error::BadUrl {
                given: shown,
                problem: format!(
                    "`{}` is not a nats:// URL",
                    ringfence_guard::secret::scrub_urls(part)
                ),
            });
        }
        let a: ServerAddr = part.parse().map_err(|e| Error::BadUrl {
            given: shown.clone(),
            problem: ringfence_guard::secret::scrub_urls(&format!("{e}")).into_owned(),
        })?;
        out.push(a);
    }
    if out.is_empty() {
        return Err(Error::BadUrl {
            given: shown,
            problem: "no server given".into(),
        });
    }
    Ok(out)
}

/// Retries `f` until it succeeds or `within` has passed (a fresh cluster answers "JetStream
/// not ready" until it has elected a leader).
async fn ready<T, E: std::fmt::Display, F, Fut>(
    what: &'static str,
    within: Duration,
    f: F,
) -> Result<T>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = std::result::Result<T, E>>,
{
    let t = Instant::now();
    loop {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) if t.elapsed() < within => {
                tracing::debug!(what, error = %e, "bus not ready; retrying");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => return Err(bus(what, e)),
        }
    }
}

impl Bus {
    /// Connects as `member` to the servers of `urls` and makes sure the stream and buckets
    /// exist (each member may be the first).
    pub async fn connect(urls: &str, member: &str, opts: &BusOptions) -> Result<Self> {
        let addrs = parse_urls(urls)?;
        let client = async_nats::ConnectOptions::new()
            .name(format!("ringfence {member}"))
            .retry_on_initial_connect()
            .connection_timeout(Duration::from_secs(2))
            .connect(addrs)
            .await
            .map_err(|e| bus("connect", e))?;
        let js = jetstream::new(client.clone());
        let within = opts.ready_within;
        let replicas = opts.replicas.max(1);
        let stream = ready("create the block stream", within, || {
            js.get_or_create_stream(stream::Config {
                name: STREAM.into(),
                subjects: vec![BLOCKS.into()],
                storage: stream::StorageType::File,
                num_replicas: replicas,
                // Blocks are few and small; the log is the fleet's history: kept until an
                // operator sets limits (see the README).
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
        })
        .await?;
        let leases = ready("create the lease bucket", within, || {
            bucket(&js, LEASES, opts.lease_ttl, replicas)
        })
        .await?;
        let claims = ready("create the claim bucket", within, || {
            bucket(&js, CLAIMS, Duration::from_secs(7 * 24 * 3600), replicas)
        })
        .await?;
        Ok(Self {
            client,
            js,
            stream,
            leases,
            claims,
        })
    }

    /// Publishes `payload` on `subject` only if the subject's last message is `expected` (0: it
    /// has none). `Ok(Some(seq))` with the new message's stream sequence; `Ok(None)` when
    /// another member appended first (this one lost the chain's lease).
    pub async fn append(
        &self,
        subject: &str,
        payload: Vec<u8>,
        expected: u64,
    ) -> Result<Option<u64>> {
        let mut h = HeaderMap::new();
        h.insert(
            async_nats::header::NATS_EXPECTED_LAST_SUBJECT_SEQUENCE,
            expected.to_string().as_str(),
        );
        let ack = self
            .js
            .publish_with_headers(subject.to_owned(), h, payload.into())
            .await
            .map_err(|e| bus("publish", e))?;
        match ack.await {
            Ok(a) => Ok(Some(a.sequence)),
            Err(e)
                if e.kind()
                    == async_nats::jetstream::context::PublishErrorKind::WrongLastSequence =>
            {
                Ok(None)
            }
            Err(e) => Err(bus("publish", e)),
        }
    }

    /// The last message of `subject` and its stream sequence, if any.
    pub async fn last(&self, subject: &str) -> Result<Option<(u64, Vec<u8>)>> {
        match self.stream.get_last_raw_message_by_subject(subject).await {
            Ok(m) => Ok(Some((m.sequence, m.payload.to_vec()))),
            Err(e)
                if e.kind()
                    == async_nats::jetstream::stream::LastRawMessageErrorKind::NoMessageFound =>
            {
                Ok(None)
            }
            Err(e) => Err(bus("read the last message", e)),
        }
    }

    /// Publishes an alert (core NATS: subscribers see it live; each member's store keeps it).
    pub async fn publish_alert(&self, payload: Vec<u8>) -> Result<()> {
        self.client
            .publish(ALERTS, payload.into())
            .await
            .map_err(|e| bus("publish an alert", e))
    }
}

/// A key-value bucket with one value per key whose entries expire after `max_age`. Made as
/// the stream `KV_<name>` with the settings `async-nats` gives buckets, because its own
/// `create_key_value` first reads the account info in a form nats-server 2.9 does not answer.
async fn bucket(
    js: &jetstream::Context,
    name: &str,
    max_age: Duration,
    replicas: usize,
) -> std::result::Result<kv::Store, String> {
    js.get_or_create_stream(stream::Config {
        name: format!("KV_{name}"),
        subjects: vec![format!("$KV.{name}.>")],
        max_messages_per_subject: 1,
        max_age,
        storage: stream::StorageType::File,
        allow_rollup: true,
        deny_delete: true,
        allow_direct: true,
        num_replicas: replicas,
        discard: stream::DiscardPolicy::New,
        ..Default::default()
    })
    .await
    .map_err(|e| e.to_string())?;
    js.get_key_value(name).await.map_err(|e| e.to_string())
}

/// A key's current value (parsed, or the parse error) and revision; `None` when absent,
/// deleted or expired.
pub async fn entry<T: DeserializeOwned>(
    store: &kv::Store,
    key: &str,
) -> Result<Option<(std::result::Result<T, String>, u64)>> {
    let e = store
        .entry(key.to_owned())
        .await
        .map_err(|e| bus("read a key", e))?;
    Ok(e.filter(|e| e.operation == kv::Operation::Put).map(|e| {
        (
            serde_json::from_slice::<T>(&e.value).map_err(|err| err.to_string()),
            e.revision,
        )
    }))
}

/// Create-if-absent: `Ok(Some(revision))` when created, `Ok(None)` when it exists.
pub async fn create<T: Serialize>(store: &kv::Store, key: &str, value: &T) -> Result<Option<u64>> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    match store.create(key, body.into()).await {
        Ok(r) => Ok(Some(r)),
        Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(None),
        Err(e) => Err(bus("create a key", e)),
    }
}

/// Compare-and-set: `Ok(Some(revision))` when written, `Ok(None)` when the key moved on.
pub async fn update<T: Serialize>(
    store: &kv::Store,
    key: &str,
    value: &T,
    revision: u64,
) -> Result<Option<u64>> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    match store.update(key, body.into(), revision).await {
        Ok(r) => Ok(Some(r)),
        Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => Ok(None),
        Err(e) => Err(bus("update a key", e)),
    }
}

/// How long a writer waits before reading a claim back ([`still_ours`]).
pub const SETTLE: Duration = Duration::from_millis(100);

/// Reads `key` back from the bucket's stream leader after `settle` and says whether `member`
/// still holds it. nats-server 2.9 (Debian's 2.9.10) can let two compare-and-set writes that
/// expect the same revision both succeed on a replicated bucket when they are proposed at the
/// same moment (the check runs before the proposal, not when it is applied; later releases fix
/// it); the later write is the value that stays, so a writer that reads back another member's
/// value has lost. Measured in this crate's tests: two members taking the same claim at once
/// both got a revision in some runs; after this read-back exactly one goes on.
pub async fn still_ours(
    store: &kv::Store,
    key: &str,
    member: &str,
    settle: Duration,
) -> Result<bool> {
    tokio::time::sleep(settle).await;
    let subject = format!("{}{key}", store.prefix);
    match store.stream.get_last_raw_message_by_subject(&subject).await {
        Ok(m) => Ok(serde_json::from_slice::<serde_json::Value>(&m.payload)
            .ok()
            .is_some_and(|v| v["member"] == member)),
        Err(e)
            if e.kind()
                == async_nats::jetstream::stream::LastRawMessageErrorKind::NoMessageFound =>
        {
            Ok(false)
        }
        Err(e) => Err(bus("read a claim back", e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_refuse_with_the_argument_redacted() {
        assert_eq!(
            parse_urls("nats://127.0.0.1:4222, nats://127.0.0.1:4223")
                .map(|v| v.len())
                .ok(),
            Some(2)
        );
        let e = parse_urls("http://user:pw@host:1/x").expect_err("refused");
        let s = e.to_string();
        assert!(s.contains("not a nats:// URL") && !s.contains("pw"), "{s}");
        assert!(parse_urls(" , ").is_err());
    }
}
