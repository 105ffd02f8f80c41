//! `ringfence import SOURCE INPUT -o SPEC [--prices FILE]`: turn published data (the Chainlink
//! CCIP directory, L2BEAT discovery files, the Hyperlane registry) into an ecosystem spec that
//! every other command reads; `ringfence import merge SPEC… -o SPEC` joins such specs (the same
//! address on the same chain is the same entity; conflicts are reported, exit 1).
//!
//! The spec goes to `-o` (`-o -` for stdout); what the data gives — counts, skipped entries, and
//! which prices and supplies are missing — goes to stderr. Bad input (an unreadable directory, a
//! malformed file, an unknown pool type, a bad prices file) exits 2 with the file, the entry and
//! the fix.

use std::path::PathBuf;

use anyhow::{Context as _, anyhow};
use ringfence_import::merge::{Input, merge};
use ringfence_import::{Prices, SOURCES, source};

use super::{CmdResult, Failure, Outcome};

/// Arguments of `import`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// What the input is: `ccip-directory` (Chainlink's published CCIP directory), `l2beat`
    /// (L2BEAT discovery files), `hyperlane` (the Hyperlane registry), or `merge` (specs to join).
    #[arg(value_name = "SOURCE", value_parser = clap::builder::PossibleValuesParser::new(SOURCES.iter().map(|s| s.name()).chain(["merge"])))]
    source: String,
    /// The input: for `ccip-directory`, the directory holding chains.json, tokens.json and
    /// lanes.json; for `l2beat`, the directory of `<project>/discovered.json`; for `hyperlane`,
    /// the directory holding `warp_routes/`; for `merge`, two or more spec files, first preferred.
    #[arg(value_name = "INPUT", required = true, num_args = 1..)]
    input: Vec<PathBuf>,
    /// Where to write the spec (TOML); `-` for stdout.
    #[arg(short = 'o', long = "output", value_name = "SPEC")]
    output: PathBuf,
    /// USD prices by symbol and, optionally, supplies by asset id (TOML: `[price_usd]`,
    /// `[supply]`; see the README, section Import real configurations). Without it every value is reported missing.
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> CmdResult {
    if args.source == "merge" {
        return run_merge(&args);
    }
    let [input] = args.input.as_slice() else {
        return Err(Failure::Other(anyhow!(
            "`import {}` takes one INPUT, {} given\n  help: give the one directory to import; to join specs use `ringfence import merge SPEC… -o SPEC`",
            args.source,
            args.input.len()
        )));
    };
    let src = source(&args.source)
        .ok_or_else(|| Failure::Other(anyhow!("unknown import source `{}`", args.source)))?;
    let prices = match &args.prices {
        Some(p) => Prices::load(p).map_err(|e| Failure::Other(anyhow!("{e}")))?,
        None => Prices::none(),
    };
    let import = src
        .import(input, &prices)
        .map_err(|e| Failure::Other(anyhow!("{e}")))?;
    let toml = import
        .to_toml()
        .map_err(|e| Failure::Other(anyhow!("{e}")))?;
    if args.output.as_os_str() == "-" {
        print!("{toml}");
    } else {
        std::fs::write(&args.output, &toml)
            .with_context(|| format!("cannot write {}", args.output.display()))?;
    }
    let mut talk = String::new();
    for f in &import.figures {
        talk.push_str(&format!("{:>8}  {}\n", f.value, f.label));
    }
    for n in &import.notes {
        talk.push_str(&format!("note: {n}\n"));
    }
    talk.push_str(&format!("{}\n", import.missing.summary()));
    if args.output.as_os_str() != "-" {
        talk.push_str(&format!(
            "wrote {} ({} chains, {} operators, {} verifier sets, {} layer(s), {} assets); next: ringfence lint {0}, ringfence exposure {0}\n",
            args.output.display(),
            import.spec.chains.len(),
            import.spec.operators.len(),
            import.spec.verifier_sets.len(),
            import.spec.layers.len(),
            import.spec.assets.len(),
        ));
    }
    eprint!("{talk}");
    Ok(Outcome::Clean)
}

fn write(output: &std::path::Path, text: &str) -> anyhow::Result<()> {
    if output.as_os_str() == "-" {
        print!("{text}");
    } else {
        std::fs::write(output, text)
            .with_context(|| format!("cannot write {}", output.display()))?;
    }
    Ok(())
}

fn run_merge(args: &Args) -> CmdResult {
    if args.prices.is_some() {
        return Err(Failure::Other(anyhow!(
            "`import merge` takes no --prices\n  help: give --prices to each `ringfence import SOURCE` whose output you merge"
        )));
    }
    let inputs = args
        .input
        .iter()
        .map(|p| Input::load(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Failure::Other(anyhow!("{e}")))?;
    let m = merge(&inputs).map_err(|e| Failure::Other(anyhow!("{e}")))?;
    let toml = m
        .to_toml(&inputs)
        .map_err(|e| Failure::Other(anyhow!("{e}")))?;
    write(&args.output, &toml)?;
    let mut talk = String::new();
    for n in &m.notes {
        talk.push_str(&format!("note: {n}\n"));
    }
    for c in &m.conflicts {
        talk.push_str(&format!("conflict: {c}\n"));
    }
    talk.push_str(&format!(
        "merged {} specs: {} chains, {} operators, {} verifier sets, {} keys, {} layers, {} assets; {} joined, {} conflict(s), {} placeholder(s) dropped\n",
        inputs.len(),
        m.spec.chains.len(),
        m.spec.operators.len(),
        m.spec.verifier_sets.len(),
        m.spec.keys.len(),
        m.spec.layers.len(),
        m.spec.assets.len(),
        m.joined,
        m.conflicts.len(),
        m.dropped.len()
    ));
    eprint!("{talk}");
    Ok(if m.conflicts.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Attention
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures/ccip")
            .join(name)
    }

    fn args(input: &str, output: PathBuf, prices: Option<&str>) -> Args {
        Args {
            source: "ccip-directory".to_owned(),
            input: vec![fixture(input)],
            output,
            prices: prices.map(fixture),
        }
    }

    #[test]
    fn imports_a_directory_into_a_spec_that_loads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("ccip.toml");
        let r = run(args("mapping", out.clone(), Some("mapping/prices.toml")));
        assert!(matches!(r, Ok(Outcome::Clean)));
        let model = ringfence_model::Model::load(&out).unwrap_or_else(|d| panic!("{d}"));
        assert_eq!(model.assets.len(), 9);
    }

    #[test]
    fn bad_input_is_a_failure_that_exits_2_with_the_place_and_the_fix() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (input, prices, want) in [
            ("malformed", None, "lanes.json:13:"),
            ("unknown-pool-type", None, "unknown pool type \"lockMint\""),
            (
                "does-not-exist",
                None,
                "give the directory that holds chains.json",
            ),
            ("mapping", Some("mapping/chains.json"), "not a prices file"),
        ] {
            let out = dir.path().join(format!("{input}.toml"));
            match run(args(input, out.clone(), prices)) {
                Err(Failure::Other(e)) => {
                    let msg = format!("{e:#}");
                    assert!(
                        msg.contains(want) && msg.contains("help: "),
                        "{input}: {msg}"
                    );
                }
                Err(Failure::Input(d)) => panic!("{input}: {d}"),
                Ok(_) => panic!("{input}: accepted"),
            }
            assert!(!out.exists(), "{input}: no spec is written on error");
        }
    }

    fn shared(path: &str) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/fixtures")
            .join(path)
    }

    fn run_with(
        source: &str,
        inputs: &[PathBuf],
        output: PathBuf,
        prices: Option<PathBuf>,
    ) -> CmdResult {
        run(Args {
            source: source.to_owned(),
            input: inputs.to_vec(),
            output,
            prices,
        })
    }

    #[test]
    fn l2beat_and_hyperlane_import_and_merge_with_conflicts_as_attention() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b, m) = (
            dir.path().join("a.toml"),
            dir.path().join("b.toml"),
            dir.path().join("m.toml"),
        );
        let prices = Some(shared("l2beat/mapping/prices.toml"));
        assert!(matches!(
            run_with(
                "l2beat",
                &[shared("l2beat/mapping")],
                a.clone(),
                prices.clone()
            ),
            Ok(Outcome::Clean)
        ));
        assert!(matches!(
            run_with(
                "hyperlane",
                &[shared("hyperlane/mapping")],
                b.clone(),
                prices
            ),
            Ok(Outcome::Clean)
        ));
        // The escrow both describe is routed differently by each: a conflict, so exit 1.
        assert!(matches!(
            run_with("merge", &[a, b], m.clone(), None),
            Ok(Outcome::Attention)
        ));
        let model = ringfence_model::Model::load(&m).unwrap_or_else(|d| panic!("{d}"));
        assert!(
            model
                .asset("USDC@ethereum:0x4000000000000000000000000000000000000004")
                .is_some()
        );
        let text = std::fs::read_to_string(&m).expect("merged");
        assert!(
            text.starts_with("# Merged by `ringfence import merge` from "),
            "{text}"
        );
    }

    #[test]
    fn bad_l2beat_hyperlane_and_merge_input_exits_2_with_the_place_and_the_fix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("o.toml");
        for (source, inputs, prices, want) in [
            (
                "l2beat",
                vec![shared("l2beat/unknown-prefix")],
                None,
                "at $.entries[0].values.owner: unknown chain prefix `moon`",
            ),
            (
                "l2beat",
                vec![shared("l2beat/malformed")],
                None,
                "discovered.json:4:",
            ),
            (
                "hyperlane",
                vec![shared("hyperlane/bad-address")],
                None,
                "is not an EVM address",
            ),
            (
                "l2beat",
                vec![shared("l2beat/mapping"), shared("l2beat/mapping")],
                None,
                "takes one INPUT, 2 given",
            ),
            (
                "merge",
                vec![shared("l2beat/mapping/prices.toml")],
                None,
                "prices.toml",
            ),
            (
                "merge",
                vec![shared("spec/clean.toml")],
                Some(shared("l2beat/mapping/prices.toml")),
                "takes no --prices",
            ),
        ] {
            match run_with(source, &inputs, out.clone(), prices) {
                Err(Failure::Other(e)) => {
                    let msg = format!("{e:#}");
                    assert!(
                        msg.contains(want) && msg.contains("help"),
                        "{source}: {msg}"
                    );
                }
                Err(Failure::Input(d)) => panic!("{source}: {d}"),
                Ok(_) => panic!("{source} {inputs:?}: accepted"),
            }
            assert!(!out.exists(), "{source}: no spec is written on error");
        }
    }
}
