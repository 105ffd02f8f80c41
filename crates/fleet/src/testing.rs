//! Test helpers (feature `test-utils`): real `nats-server` processes on loopback — one
//! JetStream node, or a three-node JetStream cluster — each with its own temporary store
//! directory, on free ports from the OS, killed on drop. The binary is `RINGFENCE_NATS_SERVER`
//! or `nats-server` on `PATH` (`scripts/setup-nats.sh` installs Debian's, pinned). And the
//! guard spec the fleet's tests and benchmarks run their blocks against ([`mint_rate_spec`]).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `nats-server` binary to run.
pub fn server_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("RINGFENCE_NATS_SERVER") {
        return PathBuf::from(p);
    }
    for dir in ["/usr/sbin", "/usr/bin", "/usr/local/bin"] {
        let p = PathBuf::from(dir).join("nats-server");
        if p.exists() {
            return p;
        }
    }
    PathBuf::from("nats-server")
}

fn free_port() -> std::io::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

struct Node {
    name: String,
    port: u16,
    cluster_port: u16,
    child: Option<Child>,
}

/// A running set of nats-server nodes (one, or a cluster of three).
pub struct Nats {
    nodes: Vec<Node>,
    dir: tempfile::TempDir,
}

impl std::fmt::Debug for Nats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Nats").field("urls", &self.urls()).finish()
    }
}

impl Nats {
    /// One JetStream node.
    pub fn single() -> std::io::Result<Self> {
        Self::start(1)
    }

    /// A three-node JetStream cluster.
    pub fn cluster() -> std::io::Result<Self> {
        Self::start(3)
    }

    fn start(n: usize) -> std::io::Result<Self> {
        let dir = tempfile::tempdir()?;
        let mut nodes = Vec::new();
        for i in 0..n {
            nodes.push(Node {
                name: format!("n{i}"),
                port: free_port()?,
                cluster_port: free_port()?,
                child: None,
            });
        }
        let mut this = Self { nodes, dir };
        for i in 0..n {
            this.spawn(i)?;
        }
        for i in 0..n {
            this.wait_listening(i)?;
        }
        Ok(this)
    }

    fn spawn(&mut self, i: usize) -> std::io::Result<()> {
        let routes: Vec<String> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, n)| format!("nats://127.0.0.1:{}", n.cluster_port))
            .collect();
        let node = &self.nodes[i];
        let store = self.dir.path().join(&node.name);
        std::fs::create_dir_all(&store)?;
        let mut cmd = Command::new(server_binary());
        cmd.args(["-a", "127.0.0.1", "-p", &node.port.to_string()])
            .args(["-n", &node.name, "-js", "-sd"])
            .arg(&store)
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if self.nodes.len() > 1 {
            cmd.args(["--cluster_name", "ringfence-test"])
                .args([
                    "--cluster",
                    &format!("nats://127.0.0.1:{}", node.cluster_port),
                ])
                .args(["--routes", &routes.join(",")]);
        }
        let child = cmd.spawn().map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!(
                    "cannot start {}: {e} (run scripts/setup-nats.sh)",
                    server_binary().display()
                ),
            )
        })?;
        self.nodes[i].child = Some(child);
        Ok(())
    }

    fn wait_listening(&self, i: usize) -> std::io::Result<()> {
        let port = self.nodes[i].port;
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if t.elapsed() > Duration::from_secs(10) {
                return Err(std::io::Error::other(format!(
                    "nats-server {} did not listen on {port} within 10 s",
                    self.nodes[i].name
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Every node's client URL, comma-separated: a `--bus` argument.
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("nats://127.0.0.1:{}", n.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `kill -9` of node `i`.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts node `i` again on its ports and store (after [`Nats::kill`]).
    pub fn restart(&mut self, i: usize) -> std::io::Result<()> {
        self.kill(i);
        self.spawn(i)?;
        self.wait_listening(i)
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}

/// A guard spec for tests and benchmarks: one chain `c` (an RPC nobody answers), a token `T` with
/// `decimals`, and a mint-rate rule `mr` allowing `max_amount` of it an hour.
///
/// # Panics
/// When `max_amount` makes the text an invalid config.
pub fn mint_rate_spec(
    decimals: u8,
    max_amount: &str,
) -> std::sync::Arc<ringfence_guard::GuardSpec> {
    let text = format!(
        r#"
[store]
path = "test.db"
[[chain]]
id = "c"
rpc = "http://127.0.0.1:1"
[[token]]
id = "T"
chain = "c"
address = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
decimals = {decimals}
[[rule]]
id = "mr"
kind = "mint-rate"
token = "T"
window_s = 3600
max_amount = "{max_amount}"
"#
    );
    match ringfence_guard::config::parse(std::path::Path::new("test.toml"), &text) {
        Ok(s) => std::sync::Arc::new(s),
        Err(e) => panic!("the mint-rate test spec: {e}"),
    }
}
