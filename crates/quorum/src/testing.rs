//! A real lying JSON-RPC proxy for tests: an HTTP server on 127.0.0.1 that forwards every call to
//! an honest node and rewrites the answers as told — the poisoned RPC node of the KelpDAO
//! exploit. Shared with other crates' tests through the `test-utils` feature, with the one anvil
//! harness of the workspace ([`Anvil`]: a real chain on loopback, killed on drop).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use alloy::primitives::{Address, B256, Bytes, keccak256};
use axum::body::Bytes as Body;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

mod anvil;
pub use anvil::{
    ANVIL_IN_REPO, Anvil, AnvilOptions, DEV_KEYS, Mining, block_timestamp, bytecode, deploy,
    dev_account, repo,
};

/// One lie the proxy tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lie {
    /// `eth_getLogs` over a range covering `block` also returns this log, which never happened
    /// (it carries the block's real hash, so it looks like part of the block).
    InjectLog {
        /// The block the forged log claims to be in.
        block: u64,
        /// The emitting contract.
        address: Address,
        /// Its topics.
        topics: Vec<B256>,
        /// Its data.
        data: Bytes,
    },
    /// `eth_getLogs` omits every log of `block`.
    DropLogs {
        /// The block.
        block: u64,
    },
    /// `eth_getBlockByNumber(block)` and the logs of `block` carry another block hash.
    OtherHash {
        /// The block.
        block: u64,
    },
    /// Every call fails with HTTP 503 (a node knocked out by a DDoS).
    Down,
}

#[derive(Clone)]
struct Shared {
    upstream: String,
    client: reqwest::Client,
    lies: Arc<Mutex<Vec<Lie>>>,
}

/// The proxy; it stops when dropped.
pub struct LyingProxy {
    addr: SocketAddr,
    lies: Arc<Mutex<Vec<Lie>>>,
    task: tokio::task::JoinHandle<()>,
}

impl LyingProxy {
    /// Starts a proxy on a free loopback port in front of `upstream` (an http URL), honest until
    /// told to lie.
    pub async fn start(upstream: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let lies = Arc::new(Mutex::new(Vec::new()));
        let shared = Shared {
            upstream: upstream.to_owned(),
            client: reqwest::Client::new(),
            lies: lies.clone(),
        };
        let app = axum::Router::new()
            .fallback(axum::routing::post(handle))
            .with_state(shared);
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "lying proxy stopped");
            }
        });
        Ok(Self { addr, lies, task })
    }

    /// The proxy's URL (`http://127.0.0.1:PORT`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Adds a lie.
    pub fn lie(&self, lie: Lie) {
        self.lies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(lie);
    }

    /// Forgets every lie.
    pub fn tell_the_truth(&self) {
        self.lies
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

impl Drop for LyingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(State(s): State<Shared>, body: Body) -> Response {
    let lies = s
        .lies
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    if lies.contains(&Lie::Down) {
        return (StatusCode::SERVICE_UNAVAILABLE, "down").into_response();
    }
    let upstream = match s
        .client
        .post(&s.upstream)
        .header(header::CONTENT_TYPE, "application/json")
        .body(body.clone())
        .send()
        .await
    {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = upstream.status();
    let bytes = match upstream.bytes().await {
        Ok(b) => b,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let (Ok(req), Ok(mut resp)) = (
        serde_json::from_slice::<Value>(&body),
        serde_json::from_slice::<Value>(&bytes),
    ) else {
        return (status, bytes).into_response();
    };
    if !lies.is_empty() {
        match (&req, &mut resp) {
            (Value::Array(reqs), Value::Array(resps)) => {
                for r in resps.iter_mut() {
                    if let Some(q) = reqs.iter().find(|q| q.get("id") == r.get("id")) {
                        rewrite(&s, &lies, q, r).await;
                    }
                }
            }
            (q, r) => rewrite(&s, &lies, q, r).await,
        }
    }
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        resp.to_string(),
    )
        .into_response()
}

fn hex_u64(v: Option<&Value>) -> Option<u64> {
    let s = v?.as_str()?;
    u64::from_str_radix(s.strip_prefix("0x")?, 16).ok()
}

fn fake_hash(real: &str) -> String {
    keccak256(real.as_bytes()).to_string()
}

async fn real_hash(s: &Shared, block: u64) -> Option<String> {
    let body = json!({"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":[format!("{block:#x}"), false]});
    let v: Value = s
        .client
        .post(&s.upstream)
        .json(&body)
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    Some(v.get("result")?.get("hash")?.as_str()?.to_owned())
}

async fn rewrite(s: &Shared, lies: &[Lie], req: &Value, resp: &mut Value) {
    let method = req.get("method").and_then(Value::as_str).unwrap_or("");
    let params = req.get("params");
    match method {
        "eth_getBlockByNumber" => {
            let n = hex_u64(params.and_then(|p| p.get(0)));
            for lie in lies {
                if let (Lie::OtherHash { block }, Some(n)) = (lie, n)
                    && *block == n
                    && let Some(h) = resp.get_mut("result").and_then(|r| r.get_mut("hash"))
                    && let Some(real) = h.as_str().map(str::to_owned)
                {
                    *h = Value::String(fake_hash(&real));
                }
            }
        }
        "eth_getLogs" => {
            let filter = params.and_then(|p| p.get(0));
            let from = hex_u64(filter.and_then(|f| f.get("fromBlock")));
            let to = hex_u64(filter.and_then(|f| f.get("toBlock")));
            let wanted: Vec<String> = match filter.and_then(|f| f.get("address")) {
                Some(Value::String(a)) => vec![a.to_lowercase()],
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_lowercase)
                    .collect(),
                _ => Vec::new(),
            };
            let Some(Value::Array(logs)) = resp.get_mut("result") else {
                return;
            };
            let in_range = |b: u64| from.is_none_or(|f| f <= b) && to.is_none_or(|t| b <= t);
            let block_of = |l: &Value| hex_u64(l.get("blockNumber"));
            for (i, lie) in lies.iter().enumerate() {
                match lie {
                    Lie::InjectLog {
                        block,
                        address,
                        topics,
                        data,
                    } if in_range(*block)
                        && (wanted.is_empty()
                            || wanted.contains(&address.to_string().to_lowercase())) =>
                    {
                        let Some(hash) = real_hash(s, *block).await else {
                            continue;
                        };
                        logs.push(json!({
                            "address": address.to_string(),
                            "topics": topics.iter().map(ToString::to_string).collect::<Vec<_>>(),
                            "data": data.to_string(),
                            "blockNumber": format!("{block:#x}"),
                            "blockHash": hash,
                            "transactionHash": keccak256(format!("forged {block} {i}")).to_string(),
                            "transactionIndex": "0x0",
                            "logIndex": format!("{:#x}", 0x400 + i),
                            "removed": false,
                        }));
                    }
                    Lie::DropLogs { block } => logs.retain(|l| block_of(l) != Some(*block)),
                    Lie::OtherHash { block } => {
                        for l in logs.iter_mut().filter(|l| block_of(l) == Some(*block)) {
                            if let Some(h) = l.get_mut("blockHash")
                                && let Some(real) = h.as_str().map(str::to_owned)
                            {
                                *h = Value::String(fake_hash(&real));
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        _ => {}
    }
}
