//! `ringfence check SPEC`: validate only.

use std::path::PathBuf;

use super::{CmdResult, Outcome, load};

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The ecosystem spec: a TOML file, or a directory of *.toml files.
    spec: PathBuf,
}

pub(crate) fn run(args: Args) -> CmdResult {
    let m = load(&args.spec)?;
    eprintln!(
        "{}: ok — {} chains, {} layers, {} verifier sets, {} operators, {} keys, {} assets, {} protocols, {} claims, {} policies",
        args.spec.display(),
        m.spec.chains.len(),
        m.layers.len(),
        m.verifier_sets.len(),
        m.operators.len(),
        m.keys.len(),
        m.assets.len(),
        m.protocols.len(),
        m.claims.len(),
        m.policies.len(),
    );
    Ok(Outcome::Clean)
}
