//! Local anvil chains for replays and tests: the workspace's one anvil harness
//! ([`ringfence_quorum::testing::Anvil`]) with the lab's settings — the binary found from the
//! repository root, a free port from the lab's range (19000–19499), transactions first come first
//! served, no base fee, a fixed genesis time.

use std::path::{Path, PathBuf};

pub use ringfence_quorum::testing::Anvil;
use ringfence_quorum::testing::{ANVIL_IN_REPO, AnvilOptions, Mining};

use crate::error::{Error, Result};

/// The lab's port range (the other crates' tests take any port the system hands out).
pub const PORTS: std::ops::Range<u16> = 19_000..19_500;

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
    let p = repo_root().join(ANVIL_IN_REPO);
    if p.is_file() {
        Ok(p)
    } else {
        Err(Error::MissingTool {
            what: "anvil",
            path: p,
        })
    }
}

/// Starts a lab chain with `chain_id`; `automine` false starts it with `--no-mining` (blocks
/// only on `evm_mine`). Transactions are ordered first come, first served.
pub fn spawn(chain_id: u64, automine: bool) -> Result<Anvil> {
    let mut options = AnvilOptions::new(
        chain_id,
        if automine {
            Mining::Auto
        } else {
            Mining::Manual
        },
    );
    options.bin = anvil_bin()?;
    options.ports = Some(PORTS);
    options.args = [
        "--order",
        "fifo",
        "--base-fee",
        "0",
        "--gas-limit",
        "3000000000",
        "--accounts",
        "10",
        "--silent",
        "--timestamp",
        "1700000000",
    ]
    .map(String::from)
    .to_vec();
    Anvil::start(&options).map_err(|e| Error::Anvil {
        port: 0,
        message: e.to_string(),
    })
}
