//! Local anvil chains for replays and tests: the binary from the npm package, one free port from
//! the lab's range (19000–19499) per chain, killed on drop.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// The lab's port range (the guard's tests use 18500–18999).
pub const PORTS: std::ops::Range<u16> = 19_000..19_500;

static NEXT: AtomicU16 = AtomicU16::new(0);

/// The repository root: `RINGFENCE_ROOT`, else the nearest ancestor of the current directory
/// holding `node_modules/@foundry-rs`, else this crate's workspace.
pub fn repo_root() -> PathBuf {
    if let Some(r) = std::env::var_os("RINGFENCE_ROOT") {
        return PathBuf::from(r);
    }
    if let Ok(mut d) = std::env::current_dir() {
        loop {
            if d.join("node_modules/@foundry-rs").is_dir() || d.join("contracts/out").is_dir() {
                return d;
            }
            if !d.pop() {
                break;
            }
        }
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The anvil binary, or an error telling to run `scripts/setup.sh`.
pub fn anvil_bin() -> Result<PathBuf> {
    let p = repo_root().join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    if p.is_file() {
        Ok(p)
    } else {
        Err(Error::MissingTool {
            what: "anvil",
            path: p,
        })
    }
}

fn free_port() -> Option<u16> {
    let span = PORTS.end - PORTS.start;
    // Spread processes over the range so parallel test binaries rarely probe the same ports.
    let base = (std::process::id() % u32::from(span)) as u16;
    for _ in 0..span {
        let k = NEXT.fetch_add(1, Ordering::Relaxed);
        let port = PORTS.start + (base + k) % span;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Some(port);
        }
    }
    None
}

/// One anvil chain on loopback, killed on drop.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    /// Its port.
    pub port: u16,
    /// `--cache-path`: anvil writes old block states here (150 kB a block) and never deletes
    /// them, so a long replay would fill the disk; removed on drop.
    _states: tempfile::TempDir,
}

impl Anvil {
    /// Starts a chain with `chain_id`; `automine` false starts it with `--no-mining` (blocks
    /// only on `evm_mine`). Transactions are ordered first come, first served.
    pub fn spawn(chain_id: u64, automine: bool) -> Result<Self> {
        let bin = anvil_bin()?;
        let mut last = String::new();
        for _ in 0..5 {
            let port = free_port().ok_or(Error::Anvil {
                port: 0,
                message: "no free port in 19000-19499".into(),
            })?;
            let states = tempfile::Builder::new()
                .prefix("anvil-states")
                .tempdir()
                .map_err(|e| Error::Anvil {
                    port,
                    message: format!("temporary state folder: {e}"),
                })?;
            let mut cmd = Command::new(&bin);
            cmd.arg("--cache-path")
                .arg(states.path())
                .args([
                    "--port",
                    &port.to_string(),
                    "--host",
                    "127.0.0.1",
                    "--chain-id",
                    &chain_id.to_string(),
                ])
                .args([
                    "--order",
                    "fifo",
                    "--base-fee",
                    "0",
                    "--gas-limit",
                    "3000000000",
                    "--accounts",
                    "10",
                    "--silent",
                ])
                .args(["--timestamp", "1700000000"]);
            if !automine {
                cmd.arg("--no-mining");
            }
            let mut child = cmd
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| Error::Anvil {
                    port,
                    message: format!("{e} (run scripts/setup.sh)"),
                })?;
            let start = Instant::now();
            loop {
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return Ok(Self {
                        child,
                        port,
                        _states: states,
                    });
                }
                if let Ok(Some(status)) = child.try_wait() {
                    last = format!("anvil exited with {status}");
                    break;
                }
                if start.elapsed() > Duration::from_secs(20) {
                    let _ = child.kill();
                    let _ = child.wait();
                    last = "did not listen within 20 s".into();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            tracing::warn!(port, "{last}; retrying on another port");
        }
        Err(Error::Anvil {
            port: 0,
            message: last,
        })
    }

    /// Its HTTP JSON-RPC URL.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
