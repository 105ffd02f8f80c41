//! Actions: pause and cancel transactions signed by a guardian key from the environment, and
//! webhooks.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::Bytes;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;
use ringfence_guard::{ActionKind, AlertRecord, GuardSpec};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::error::{Error, Result, rpc};

/// Progress of one alert's actions, reported back to the daemon.
#[derive(Debug)]
pub(crate) enum Update {
    /// Every action was sent (or failed for good): the alert can be printed.
    Sent(AlertRecord),
    /// Receipts are in.
    Done(AlertRecord),
}

/// Signing providers for pause and cancel actions, built once at start.
#[derive(Clone)]
pub(crate) struct Actions {
    spec: Arc<GuardSpec>,
    senders: HashMap<String, DynProvider>,
    /// Per action id, the lock of its (chain, key): two trips of one block dispatched at once
    /// would otherwise both read the same pending nonce, and the second send would be refused
    /// as an underpriced replacement.
    send_locks: HashMap<String, Arc<tokio::sync::Mutex<()>>>,
}

impl Actions {
    pub(crate) async fn new(
        spec: Arc<GuardSpec>,
        secrets: &HashMap<String, String>,
    ) -> Result<Self> {
        let mut senders = HashMap::new();
        let mut send_locks = HashMap::new();
        let mut key_locks: HashMap<(u16, String), Arc<tokio::sync::Mutex<()>>> = HashMap::new();
        for a in &spec.actions {
            if let Some((chain, _, key_env)) = a.kind.transaction() {
                let key = match secrets.get(key_env) {
                    Some(k) => k.clone(),
                    None => std::env::var(key_env).map_err(|_| Error::Key {
                        env: key_env.to_owned(),
                        problem: "is not set",
                    })?,
                };
                let signer = PrivateKeySigner::from_str(key.trim()).map_err(|_| Error::Key {
                    env: key_env.to_owned(),
                    problem: "is not a hex private key",
                })?;
                let c = &spec.chains[usize::from(chain)];
                let p = ProviderBuilder::new()
                    .wallet(signer)
                    .connect(&c.rpc)
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
        }
        Ok(Self {
            spec,
            senders,
            send_locks,
        })
    }

    /// Runs the pending actions of an alert in the background, reporting progress.
    pub(crate) fn dispatch(
        &self,
        mut rec: AlertRecord,
        tx: mpsc::UnboundedSender<Update>,
    ) -> tokio::task::JoinHandle<()> {
        let this = self.clone();
        tokio::spawn(async move {
            let mut pending: Vec<(
                usize,
                alloy::providers::PendingTransactionBuilder<alloy::network::Ethereum>,
            )> = Vec::new();
            for i in 0..rec.actions.len() {
                if !matches!(
                    rec.actions[i].status.as_str(),
                    "pending" | "failed" | "sent"
                ) {
                    continue;
                }
                let id = rec.actions[i].id.clone();
                let Some(spec) = this.spec.actions.iter().find(|a| a.id == id) else {
                    continue;
                };
                // Calldata of a transaction action: the selector, then a cancel's argument
                // (resolved from the tripping event when the alert was recorded).
                let call = match &spec.kind {
                    ActionKind::Pause {
                        contract,
                        selector,
                        gas_limit,
                        ..
                    } => Some((*contract, selector.to_vec(), *gas_limit)),
                    ActionKind::Cancel {
                        contract,
                        selector,
                        gas_limit,
                        ..
                    } => {
                        let Some(arg) = rec.actions[i].arg else {
                            // No argument: the record already says why (failed or skipped).
                            continue;
                        };
                        let mut data = selector.to_vec();
                        data.extend_from_slice(arg.as_slice());
                        Some((*contract, data, *gas_limit))
                    }
                    ActionKind::Webhook { .. } => None,
                };
                match (&spec.kind, call) {
                    (_, Some((contract, data, gas_limit))) => {
                        let Some(p) = this.senders.get(&id) else {
                            continue;
                        };
                        let kind = spec.kind.name();
                        let req = TransactionRequest::default()
                            .to(contract)
                            .input(Bytes::from(data).into())
                            .gas_limit(gas_limit);
                        let lock = this.send_locks.get(&id).cloned();
                        let _held = match &lock {
                            Some(l) => Some(l.lock().await),
                            None => None,
                        };
                        let mut last_err = None;
                        for attempt in 0..5u32 {
                            match p.send_transaction(req.clone()).await {
                                Ok(ptx) => {
                                    rec.actions[i].status = "sent".into();
                                    rec.actions[i].tx = Some(*ptx.tx_hash());
                                    rec.actions[i].error = None;
                                    pending.push((i, ptx));
                                    last_err = None;
                                    break;
                                }
                                Err(e) => {
                                    tracing::warn!(action = %id, kind, attempt, error = %e, "send failed; retrying");
                                    last_err = Some(e.to_string());
                                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                                }
                            }
                        }
                        if let Some(e) = last_err {
                            rec.actions[i].status = "failed".into();
                            rec.actions[i].error = Some(e);
                        }
                    }
                    (ActionKind::Webhook { url }, None) => {
                        let body = serde_json::json!({
                            "text": format!("ringfence {} `{}` on {} block {}: {}", if rec.severity == ringfence_guard::Severity::Trip { "TRIP" } else { "alert" }, rec.rule, rec.chain, rec.block, rec.reason),
                            "alert": rec,
                        });
                        match post(url, &body.to_string()).await {
                            Ok(()) => rec.actions[i].status = "done".into(),
                            Err(e) => {
                                rec.actions[i].status = "failed".into();
                                rec.actions[i].error = Some(e);
                            }
                        }
                    }
                    (_, None) => {}
                }
            }
            let _ = tx.send(Update::Sent(rec.clone()));
            for (i, ptx) in pending {
                match ptx
                    .with_timeout(Some(Duration::from_secs(60)))
                    .get_receipt()
                    .await
                {
                    Ok(r) => {
                        rec.actions[i].status = if r.status() {
                            "mined".into()
                        } else {
                            "reverted".into()
                        }
                    }
                    Err(e) => {
                        rec.actions[i].status = "sent".into();
                        rec.actions[i].error = Some(e.to_string());
                    }
                }
            }
            let _ = tx.send(Update::Done(rec));
        })
    }
}

/// A minimal HTTP/1.1 POST of a JSON body (plain `http://` only).
async fn post(url: &str, body: &str) -> std::result::Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or("only http:// webhooks are supported")?;
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let addr = if host.contains(':') {
        host.to_owned()
    } else {
        format!("{host}:80")
    };
    let fut = async {
        let mut s = tokio::net::TcpStream::connect(&addr)
            .await
            .map_err(|e| e.to_string())?;
        let req = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; 64];
        let n = s.read(&mut buf).await.map_err(|e| e.to_string())?;
        let head = String::from_utf8_lossy(&buf[..n]);
        if head.starts_with("HTTP/1.1 2") || head.starts_with("HTTP/1.0 2") {
            Ok(())
        } else {
            Err(format!(
                "webhook answered {}",
                head.lines().next().unwrap_or("nothing")
            ))
        }
    };
    tokio::time::timeout(Duration::from_secs(10), fut)
        .await
        .map_err(|_| "webhook timed out".to_owned())?
}
