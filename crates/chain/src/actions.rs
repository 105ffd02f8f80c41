//! Actions: pause and cancel transactions signed by a guardian key from the environment, and
//! webhooks (Slack, Discord, or generic JSON signed with HMAC-SHA256) over http or https.
//!
//! The trips of one block are dispatched together: an action two of them share (e.g. a
//! message-match and a backing rule both pausing the bridge; for a cancel, the same argument) is
//! sent once, and both records carry its outcome and transaction hash.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{B256, Bytes};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use hmac::{Hmac, Mac};
use ringfence_guard::{
    ActionKind, ActionStatus, AlertRecord, GuardSpec, RpcUrl, Secret, Severity, WebhookFormat,
};
use tokio::sync::mpsc;

use crate::error::{Error, Result, rpc};

/// Progress of a group of alerts' actions, reported back to the daemon (or a fleet member).
#[derive(Debug)]
pub enum Update {
    /// Every transaction was sent (or failed for good) and every webhook tried once: the alerts
    /// can be printed.
    Sent(Vec<AlertRecord>),
    /// Receipts are in and webhook retries are over.
    Done(Vec<AlertRecord>),
}

/// A webhook endpoint, its client and how it signs.
#[derive(Clone)]
struct Hook {
    client: reqwest::Client,
    url: RpcUrl,
    format: WebhookFormat,
    secret: Option<Secret>,
    retries: u32,
}

/// Signing providers for pause and cancel actions and webhook clients, built once at start.
#[derive(Clone)]
pub struct Actions {
    spec: Arc<GuardSpec>,
    senders: HashMap<String, DynProvider>,
    hooks: HashMap<String, Hook>,
    /// Per action id, the lock of its (chain, key): two trips of one block dispatched at once
    /// would otherwise both read the same pending nonce, and the second send would be refused
    /// as an underpriced replacement.
    send_locks: HashMap<String, Arc<tokio::sync::Mutex<()>>>,
}

fn lookup(secrets: &HashMap<String, Secret>, env: &str, what: &'static str) -> Result<Secret> {
    match secrets.get(env) {
        Some(k) => Ok(k.clone()),
        None => std::env::var(env)
            .map(Secret::from)
            .map_err(|_| Error::Key {
                what,
                env: env.to_owned(),
                problem: "is not set",
            }),
    }
}

/// Certificates of a PEM file (a bundle is fine).
fn pem_certs(path: &std::path::Path, action: &str) -> Result<Vec<reqwest::Certificate>> {
    let bad = |problem: String| Error::Webhook {
        action: action.to_owned(),
        problem,
    };
    let pem =
        std::fs::read(path).map_err(|e| bad(format!("cannot read {}: {e}", path.display())))?;
    reqwest::Certificate::from_pem_bundle(&pem)
        .map_err(|e| bad(format!("{} holds no PEM certificates: {e}", path.display())))
}

impl Actions {
    /// Builds the signing providers (guardian keys from `secrets`, then the environment) and
    /// webhook clients of every action of `spec`.
    pub async fn new(spec: Arc<GuardSpec>, secrets: &HashMap<String, Secret>) -> Result<Self> {
        let mut senders = HashMap::new();
        let mut hooks = HashMap::new();
        let mut send_locks = HashMap::new();
        let mut key_locks: HashMap<(u16, String), Arc<tokio::sync::Mutex<()>>> = HashMap::new();
        for a in &spec.actions {
            if let Some((chain, _, key_env)) = a.kind.transaction() {
                let key = lookup(secrets, key_env, "guardian key")?;
                let signer =
                    PrivateKeySigner::from_str(key.expose().trim()).map_err(|_| Error::Key {
                        what: "guardian key",
                        env: key_env.to_owned(),
                        problem: "is not a hex private key",
                    })?;
                let c = &spec.chains[usize::from(chain)];
                // Transactions go out through the chain's first endpoint.
                let url = c.rpc.first().ok_or_else(|| rpc(&c.id, "no endpoint"))?;
                let p = ProviderBuilder::new()
                    .wallet(signer)
                    .connect(url.expose())
                    .await
                    .map_err(|e| rpc(&c.id, e))?;
                senders.insert(a.id.clone(), p.erased());
                send_locks.insert(
                    a.id.clone(),
                    key_locks
                        .entry((chain, key_env.to_owned()))
                        .or_default()
                        .clone(),
                );
            }
            if let ActionKind::Webhook {
                url,
                format,
                secret_env,
                ca_file,
                timeout_ms,
                retries,
            } = &a.kind
            {
                let secret = secret_env
                    .as_deref()
                    .map(|e| lookup(secrets, e, "webhook secret"))
                    .transpose()?;
                // The system trust store (rustls-platform-verifier), plus `SSL_CERT_FILE` and the
                // action's `ca_file` for private CAs.
                let mut extra = Vec::new();
                if let Some(f) = std::env::var_os("SSL_CERT_FILE").filter(|f| !f.is_empty()) {
                    extra.extend(pem_certs(std::path::Path::new(&f), &a.id)?);
                }
                if let Some(f) = ca_file {
                    extra.extend(pem_certs(f, &a.id)?);
                }
                let client = reqwest::Client::builder()
                    .timeout(Duration::from_millis(*timeout_ms))
                    .connect_timeout(Duration::from_millis(*timeout_ms))
                    .user_agent(concat!("ringfence/", env!("CARGO_PKG_VERSION")))
                    .tls_certs_merge(extra)
                    .build()
                    .map_err(|e| Error::Webhook {
                        action: a.id.clone(),
                        problem: format!("cannot build the HTTP client: {}", scrub(&e)),
                    })?;
                hooks.insert(
                    a.id.clone(),
                    Hook {
                        client,
                        url: url.clone(),
                        format: *format,
                        secret,
                        retries: *retries,
                    },
                );
            }
        }
        Ok(Self {
            spec,
            senders,
            hooks,
            send_locks,
        })
    }

    /// Runs the unfinished actions of a group of alerts in the background, reporting progress.
    pub fn dispatch(
        &self,
        mut group: Vec<AlertRecord>,
        tx: mpsc::UnboundedSender<Update>,
    ) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            // 1. Transactions, each (action, argument) once per group.
            type Pending = alloy::providers::PendingTransactionBuilder<alloy::network::Ethereum>;
            // (action id, argument) → (record, action) of the send.
            type Key = (String, Option<B256>);
            let mut sent: Vec<(Key, (usize, usize))> = Vec::new();
            let mut receipts: Vec<((usize, usize), Pending)> = Vec::new();
            for r in 0..group.len() {
                for i in 0..group[r].actions.len() {
                    let a = &group[r].actions[i];
                    if !a.status.unfinished(a.tx) {
                        continue;
                    }
                    let key = (a.id.clone(), a.arg);
                    let Some(spec) = this.spec.actions.iter().find(|s| s.id == a.id) else {
                        continue;
                    };
                    if spec.kind.transaction().is_none() {
                        continue;
                    }
                    if let Some((_, lead)) = sent.iter().find(|(k, _)| *k == key) {
                        group[r].actions[i].shared_with = Some(group[lead.0].id.clone());
                        continue;
                    }
                    sent.push((key, (r, i)));
                    if let Some(p) = this.send(&mut group[r], i).await {
                        receipts.push(((r, i), p));
                    }
                }
            }
            copy_shared(&mut group);
            // 2. Webhooks: a first attempt each, so the printed alert says whether it arrived.
            let mut retry = Vec::new();
            for (r, rec) in group.iter_mut().enumerate() {
                for i in 0..rec.actions.len() {
                    let a = &rec.actions[i];
                    if a.status != ActionStatus::Pending {
                        continue;
                    }
                    let Some(hook) = this.hooks.get(&a.id).cloned() else {
                        continue;
                    };
                    if !deliver(&hook, rec, i).await && hook.retries > 0 {
                        // Still to be retried: pending (a restart resumes it), with the error.
                        rec.actions[i].status = ActionStatus::Pending;
                        retry.push((r, i, hook));
                    }
                }
            }
            let _ = tx.send(Update::Sent(group.clone()));
            // 3. Webhook retries with back-off, then receipts.
            for (r, i, hook) in retry {
                for attempt in 1..=hook.retries {
                    tokio::time::sleep(backoff(attempt)).await;
                    // `deliver` records `done`, or `failed` with the error: failed for good
                    // after the last retry.
                    if deliver(&hook, &mut group[r], i).await {
                        break;
                    }
                }
            }
            for ((r, i), ptx) in receipts {
                let a = &mut group[r].actions[i];
                match ptx
                    .with_timeout(Some(Duration::from_secs(60)))
                    .get_receipt()
                    .await
                {
                    Ok(rc) => {
                        a.status = if rc.status() {
                            ActionStatus::Mined
                        } else {
                            ActionStatus::Reverted
                        }
                    }
                    Err(e) => {
                        a.status = ActionStatus::Sent;
                        a.error = Some(scrub(&e));
                    }
                }
            }
            copy_shared(&mut group);
            let _ = tx.send(Update::Done(group));
        })
    }

    /// Sends the transaction of action `i` of `rec`, retrying a failed send; the pending
    /// transaction when it went out.
    async fn send(
        &self,
        rec: &mut AlertRecord,
        i: usize,
    ) -> Option<alloy::providers::PendingTransactionBuilder<alloy::network::Ethereum>> {
        let id = rec.actions[i].id.clone();
        let spec = self.spec.actions.iter().find(|a| a.id == id)?;
        // Calldata: the selector, then a cancel's argument (resolved from the tripping event
        // when the alert was recorded).
        let (contract, data, gas_limit) = match &spec.kind {
            ActionKind::Pause {
                contract,
                selector,
                gas_limit,
                ..
            } => (*contract, selector.to_vec(), *gas_limit),
            ActionKind::Cancel {
                contract,
                selector,
                gas_limit,
                ..
            } => {
                // No argument: the record already says why (failed or skipped).
                let arg = rec.actions[i].arg?;
                let mut data = selector.to_vec();
                data.extend_from_slice(arg.as_slice());
                (*contract, data, *gas_limit)
            }
            ActionKind::Webhook { .. } => return None,
        };
        let p = self.senders.get(&id)?;
        let kind = spec.kind.name();
        let req = TransactionRequest::default()
            .to(contract)
            .input(Bytes::from(data).into())
            .gas_limit(gas_limit);
        let lock = self.send_locks.get(&id).cloned();
        let _held = match &lock {
            Some(l) => Some(l.lock().await),
            None => None,
        };
        let a = &mut rec.actions[i];
        for attempt in 0..5u32 {
            a.attempts = a.attempts.saturating_add(1);
            match p.send_transaction(req.clone()).await {
                Ok(ptx) => {
                    a.status = ActionStatus::Sent;
                    a.tx = Some(*ptx.tx_hash());
                    a.error = None;
                    return Some(ptx);
                }
                Err(e) => {
                    let e = scrub(&e);
                    tracing::warn!(action = %id, kind, attempt, error = %e, "send failed; retrying");
                    a.error = Some(e);
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                }
            }
        }
        a.status = ActionStatus::Failed;
        None
    }
}

/// Records that share a transaction action with an earlier record of the group show its
/// outcome: status, transaction hash and error.
fn copy_shared(group: &mut [AlertRecord]) {
    for r in 0..group.len() {
        for i in 0..group[r].actions.len() {
            let Some(lead_id) = group[r].actions[i].shared_with.clone() else {
                continue;
            };
            let (id, arg) = (group[r].actions[i].id.clone(), group[r].actions[i].arg);
            let lead = group
                .iter()
                .find(|g| g.id == lead_id)
                .and_then(|g| g.actions.iter().find(|a| a.id == id && a.arg == arg))
                .cloned();
            if let Some(l) = lead {
                let a = &mut group[r].actions[i];
                a.status = l.status;
                a.tx = l.tx;
                a.error = l.error;
            }
        }
    }
}

/// Back-off before retry `attempt` (1-based): 0.5 s, 1 s, 2 s, … capped at 30 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(500u64.saturating_mul(1 << attempt.saturating_sub(1).min(6)))
        .min(Duration::from_secs(30))
}

/// An error's text with every URL in it redacted (RPC libraries print the full URL).
pub(crate) fn scrub(e: &impl std::fmt::Display) -> String {
    ringfence_guard::secret::scrub_urls(&e.to_string()).into_owned()
}

/// The one-line summary webhooks carry.
fn summary(rec: &AlertRecord) -> String {
    let sev = if rec.severity == Severity::Trip {
        "TRIP"
    } else {
        "alert"
    };
    format!(
        "ringfence {sev} `{}` on {} block {}: {}",
        rec.rule, rec.chain, rec.block, rec.reason
    )
}

/// The body of a webhook in its format.
pub(crate) fn webhook_body(format: WebhookFormat, rec: &AlertRecord) -> String {
    let v = match format {
        WebhookFormat::Slack => serde_json::json!({ "text": summary(rec) }),
        WebhookFormat::Discord => {
            let mut s = summary(rec);
            if s.chars().count() > 2000 {
                s = s.chars().take(1999).collect::<String>() + "…";
            }
            serde_json::json!({ "content": s })
        }
        WebhookFormat::Json => serde_json::json!({ "text": summary(rec), "alert": rec }),
    };
    v.to_string()
}

/// `X-Ringfence-Signature`: `sha256=` and the hex HMAC-SHA256, under the secret, of
/// `"{timestamp}.{body}"` (the timestamp is `X-Ringfence-Timestamp`, Unix seconds).
pub fn signature(secret: &[u8], timestamp: u64, body: &str) -> String {
    // HMAC accepts keys of any length.
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!(
        "sha256={}",
        alloy::primitives::hex::encode(mac.finalize().into_bytes())
    )
}

/// One delivery attempt of webhook action `i` of `rec`; records the outcome on the action.
async fn deliver(hook: &Hook, rec: &mut AlertRecord, i: usize) -> bool {
    // The body shows the alert as it is now, its other actions' outcomes included.
    let body = webhook_body(hook.format, rec);
    let mut req = hook
        .client
        .post(hook.url.expose())
        .header(reqwest::header::CONTENT_TYPE, "application/json");
    if let Some(secret) = &hook.secret {
        let ts = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        req = req.header("X-Ringfence-Timestamp", ts.to_string()).header(
            "X-Ringfence-Signature",
            signature(secret.expose().as_bytes(), ts, &body),
        );
    }
    let outcome = match req.body(body).send().await {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("{} answered {}", hook.url, r.status())),
        Err(e) => Err(format!("{}: {}", hook.url, scrub(&error_chain(&e)))),
    };
    let a = &mut rec.actions[i];
    a.attempts = a.attempts.saturating_add(1);
    match outcome {
        Ok(()) => {
            a.status = ActionStatus::Done;
            a.error = None;
            true
        }
        Err(e) => {
            tracing::warn!(action = %a.id, attempt = a.attempts, error = %e, "webhook delivery failed");
            a.status = ActionStatus::Failed;
            a.error = Some(e);
            false
        }
    }
}

/// An error with its causes (reqwest's own message is only "error sending request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_dot_body() {
        // RFC 4231 test case 2 shape: key "Jefe"; message built as "{ts}.{body}".
        let s = signature(b"Jefe", 0, "what do ya want for nothing?");
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"Jefe").expect("key");
        mac.update(b"0.what do ya want for nothing?");
        let want = alloy::primitives::hex::encode(mac.finalize().into_bytes());
        assert_eq!(s, format!("sha256={want}"));
        // And the RFC's own vector for the bare message.
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(b"Jefe").expect("key");
        mac.update(b"what do ya want for nothing?");
        assert_eq!(
            alloy::primitives::hex::encode(mac.finalize().into_bytes()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(500));
        assert_eq!(backoff(2), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(2));
        assert_eq!(backoff(20), Duration::from_secs(30));
    }
}
