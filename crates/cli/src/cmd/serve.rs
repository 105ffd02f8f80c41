//! `ringfence serve --spec SPEC [--guard CONFIG] [--addr 127.0.0.1:8080]`: the JSON API and the
//! web dashboard over the same engines as the other commands, and the live guard when a guard
//! config is given.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context as _, anyhow};
use ringfence_server::{Config, Error, Server};

use super::{CmdResult, Failure, Outcome};

/// Arguments of `serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The ecosystem spec: a TOML file, or a directory of *.toml files.
    #[arg(long, value_name = "SPEC")]
    spec: PathBuf,
    /// A guard config: also run the live guard and show its chains and trips.
    #[arg(long, value_name = "CONFIG")]
    guard: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port; the address is printed on stderr).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
}

pub(crate) fn run(args: Args) -> CmdResult {
    let token = std::env::var("RINGFENCE_API_TOKEN").ok();
    let server = Server::new(Config {
        spec: args.spec,
        guard: args.guard,
        api_token: token,
    })
    .map_err(|e| match e {
        Error::Spec(d) => Failure::Input(d),
        other => Failure::Other(anyhow!(other)),
    })?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.addr)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {}: is another server using it? choose another with --addr",
                    args.addr
                )
            })?;
        let local = listener
            .local_addr()
            .context("cannot read the listening address")?;
        eprintln!("ringfence: serving the dashboard on http://{local}/ (Ctrl-C to stop)");
        server
            .serve(listener, shutdown_signal())
            .await
            .map_err(|e| anyhow!(e))
    })?;
    Ok(Outcome::Clean)
}

/// Ctrl-C, or SIGTERM (a service manager or container stopping the server).
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    eprintln!("ringfence: shutting down");
}
