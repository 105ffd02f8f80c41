//! The workspace's one anvil harness: the binary of the npm package (`scripts/setup.sh` installs
//! it) on a free loopback port, its old block states in a temporary folder, killed on drop. The
//! tests of every crate and the lab's replays start their chains here.

use std::net::{TcpListener, TcpStream};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, Bytes};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::signers::local::PrivateKeySigner;

/// Where the anvil binary lies below the repository root.
pub const ANVIL_IN_REPO: &str = "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil";

/// anvil's default development keys (public test keys, never give them value), account 0 first.
pub const DEV_KEYS: [&str; 5] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
];

fn dev_signer(i: usize) -> PrivateKeySigner {
    match DEV_KEYS[i].parse() {
        Ok(s) => s,
        Err(e) => unreachable!("DEV_KEYS[{i}] is a valid key: {e}"),
    }
}

/// The address of anvil's development account `i`.
///
/// # Panics
/// When `i` is not below `DEV_KEYS.len()`.
pub fn dev_account(i: usize) -> Address {
    dev_signer(i).address()
}

/// The root of the workspace this crate was built in (where `node_modules` and
/// `contracts/out` are).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// How a chain makes blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mining {
    /// A block per transaction (anvil's automine).
    Auto,
    /// A block every this many seconds (`--block-time`).
    Every(u64),
    /// Blocks only on `evm_mine` (`--no-mining`).
    Manual,
}

/// How to start a chain.
#[derive(Clone, Debug)]
pub struct AnvilOptions {
    /// `--chain-id`.
    pub chain_id: u64,
    /// How it makes blocks.
    pub mining: Mining,
    /// The ports to pick a free one from (spread over the range by process, so parallel test
    /// binaries rarely probe the same one); `None`: any free port the system hands out.
    pub ports: Option<Range<u16>>,
    /// The binary; [`AnvilOptions::new`] sets this workspace's ([`ANVIL_IN_REPO`] below
    /// [`repo`]).
    pub bin: PathBuf,
    /// More arguments for anvil.
    pub args: Vec<String>,
}

impl AnvilOptions {
    /// A chain with `chain_id` making blocks as `mining` says, on any free port, started from
    /// this workspace's binary with no further arguments.
    pub fn new(chain_id: u64, mining: Mining) -> Self {
        Self {
            chain_id,
            mining,
            ports: None,
            bin: repo().join(ANVIL_IN_REPO),
            args: Vec::new(),
        }
    }
}

static NEXT: AtomicU16 = AtomicU16::new(0);

/// A port that is free now: one of `range`, or one the system hands out.
fn free_port(range: Option<&Range<u16>>) -> std::io::Result<u16> {
    let Some(range) = range else {
        return Ok(TcpListener::bind(("127.0.0.1", 0))?.local_addr()?.port());
    };
    let span = range.end.saturating_sub(range.start);
    if span > 0 {
        let span32 = u32::from(span);
        let base = std::process::id() % span32;
        for _ in 0..span {
            let k = u32::from(NEXT.fetch_add(1, Ordering::Relaxed));
            // Below `span`, so the sum stays below `range.end`.
            let offset = u16::try_from((base + k) % span32).unwrap_or(0);
            let port = range.start + offset;
            if TcpListener::bind(("127.0.0.1", port)).is_ok() {
                return Ok(port);
            }
        }
    }
    Err(std::io::Error::new(
        std::io::ErrorKind::AddrInUse,
        format!("no free port in {}-{}", range.start, range.end),
    ))
}

/// Reads anvil's standard output on a thread: sends the port of its `Listening on HOST:PORT`
/// line, then drains the rest (anvil logs every request there, and a full pipe would stop it).
/// The channel closes without a port when anvil exits first.
fn listening_port(out: Option<std::process::ChildStdout>) -> std::sync::mpsc::Receiver<u16> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let Some(out) = out else { return };
        let mut tx = Some(tx);
        for line in std::io::BufRead::lines(std::io::BufReader::new(out)) {
            let Ok(line) = line else { break };
            if let Some(t) = &tx
                && let Some(port) = line
                    .strip_prefix("Listening on ")
                    .and_then(|a| a.trim().rsplit(':').next())
                    .and_then(|p| p.parse::<u16>().ok())
            {
                let _ = t.send(port);
                tx = None;
            }
        }
    });
    rx
}

/// One anvil chain on loopback, killed on drop.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    /// Its port.
    pub port: u16,
    /// `--cache-path`: anvil writes old block states here (150 kB a block) and never deletes
    /// them, so a long run would fill the disk; removed on drop.
    _states: tempfile::TempDir,
}

impl Anvil {
    /// Starts anvil with `chain_id` (and a block every `block_time` seconds, else automine) on
    /// any free port and waits until it accepts connections.
    pub fn spawn(chain_id: u64, block_time: Option<u64>) -> std::io::Result<Self> {
        let mining = block_time.map_or(Mining::Auto, Mining::Every);
        Self::start(&AnvilOptions::new(chain_id, mining))
    }

    /// Starts anvil as `options` say and waits until it accepts connections. A port taken
    /// between the choice and anvil's bind (anvil exits, or never listens) is given up for
    /// another, five times at most.
    pub fn start(options: &AnvilOptions) -> std::io::Result<Self> {
        if !options.bin.is_file() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "anvil not found at {}: run scripts/setup.sh",
                    options.bin.display()
                ),
            ));
        }
        let mut last = std::io::Error::other("not started");
        for _ in 0..5 {
            // Without a range anvil picks the port itself (`--port 0`) and says which: no other
            // process can take it between a choice and anvil's bind.
            let silent = options.args.iter().any(|a| a == "--silent");
            let port = match &options.ports {
                None if !silent => 0,
                range => free_port(range.as_ref())?,
            };
            match Self::start_on(options, port) {
                Ok(anvil) => return Ok(anvil),
                Err(e) => {
                    tracing::warn!(port, error = %e, "anvil did not start; retrying on another port");
                    last = e;
                }
            }
        }
        Err(last)
    }

    fn start_on(o: &AnvilOptions, port: u16) -> std::io::Result<Self> {
        let states = tempfile::Builder::new().prefix("anvil-states").tempdir()?;
        let mut cmd = Command::new(&o.bin);
        cmd.arg("--cache-path").arg(states.path()).args([
            "--port",
            &port.to_string(),
            "--host",
            "127.0.0.1",
            "--chain-id",
            &o.chain_id.to_string(),
        ]);
        match o.mining {
            Mining::Auto => {}
            Mining::Every(t) => {
                cmd.args(["--block-time", &t.to_string()]);
            }
            Mining::Manual => {
                cmd.arg("--no-mining");
            }
        }
        // `--silent` (the lab's choice: it has no use for anvil's request log) prints no
        // `Listening on` line: such an anvil is only waited for on its port.
        let silent = o.args.iter().any(|a| a == "--silent");
        let mut child = cmd
            .args(&o.args)
            .stdin(Stdio::null())
            .stdout(if silent {
                Stdio::null()
            } else {
                Stdio::piped()
            })
            .stderr(Stdio::null())
            .spawn()?;
        let listening = (!silent).then(|| listening_port(child.stdout.take()));
        // Owned from here: dropped (killed) on every early return.
        let mut anvil = Self {
            child,
            port,
            _states: states,
        };
        // anvil says `Listening on 127.0.0.1:PORT` once it has bound its port; a port another
        // process holds makes it exit instead, which closes its output.
        match listening.map(|l| l.recv_timeout(Duration::from_secs(20))) {
            None => {}
            Some(Ok(p)) => anvil.port = p,
            Some(Err(_)) => {
                return Err(match anvil.child.try_wait()? {
                    Some(status) => {
                        std::io::Error::other(format!("anvil on port {port} exited with {status}"))
                    }
                    None => std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("anvil did not say where it listens within 20 s (port {port})"),
                    ),
                });
            }
        }
        let port = anvil.port;
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = anvil.child.try_wait()? {
                return Err(std::io::Error::other(format!(
                    "anvil on port {port} exited with {status}"
                )));
            }
            if start.elapsed() > Duration::from_secs(20) {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("anvil did not listen on port {port} within 20 s"),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(anvil)
    }

    /// `http://127.0.0.1:PORT`.
    pub fn http(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// `ws://127.0.0.1:PORT`.
    pub fn ws(&self) -> String {
        format!("ws://127.0.0.1:{}", self.port)
    }

    /// A provider on this chain (over HTTP) signing as development account `i`.
    ///
    /// # Panics
    /// When `i` is not below `DEV_KEYS.len()`.
    pub fn as_account(&self, i: usize) -> DynProvider {
        let url = match self.http().parse() {
            Ok(u) => u,
            Err(e) => unreachable!("a loopback URL parses: {e}"),
        };
        ProviderBuilder::new()
            .wallet(dev_signer(i))
            .connect_http(url)
            .erased()
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends a contract call and waits for its receipt, panicking (with `what`) when it cannot be
/// sent or mined: `mined!(token.mint(to, amount), "mint")`. For tests.
#[macro_export]
macro_rules! mined {
    ($call:expr, $what:expr) => {
        $call
            .send()
            .await
            .expect("send")
            .get_receipt()
            .await
            .expect($what)
    };
}

/// The creation bytecode of a compiled contract of `contracts/out` (`scripts/compile-contracts.sh`).
///
/// # Panics
/// When the artifact is missing or holds no hex bytecode.
pub fn bytecode(name: &str) -> Bytes {
    let path = repo().join(format!("contracts/out/{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run scripts/compile-contracts.sh)", path.display()));
    let v: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    v["bytecode"]
        .as_str()
        .and_then(|h| h.parse().ok())
        .unwrap_or_else(|| panic!("{}: no hex bytecode", path.display()))
}

/// Deploys the compiled contract `name` with the ABI-encoded constructor `args` and returns
/// its address.
///
/// # Panics
/// When the artifact is missing, or the deployment cannot be sent, is not mined or reverts.
pub async fn deploy(p: &DynProvider, name: &str, args: Vec<u8>) -> Address {
    let mut code = bytecode(name).to_vec();
    code.extend(args);
    let tx = TransactionRequest::default().with_deploy_code(code);
    let r = p
        .send_transaction(tx)
        .await
        .expect("deploy")
        .get_receipt()
        .await
        .expect("receipt");
    assert!(r.status(), "deploy {name} reverted");
    r.contract_address.expect("address")
}

/// The timestamp of block `n` of the chain behind `p`.
///
/// # Panics
/// When the endpoint does not answer or has no block `n`.
pub async fn block_timestamp(p: &DynProvider, n: u64) -> u64 {
    p.get_block_by_number(n.into())
        .await
        .expect("rpc")
        .expect("block")
        .header
        .timestamp
}
