//! `ringfence import SOURCE INPUT -o SPEC [--prices FILE]`: turn published data (today the
//! Chainlink CCIP directory) into an ecosystem spec that every other command reads.
//!
//! The spec goes to `-o` (`-o -` for stdout); what the data gives — counts, skipped entries, and
//! which prices and supplies are missing — goes to stderr. Bad input (an unreadable directory, a
//! malformed file, an unknown pool type, a bad prices file) exits 2 with the file, the entry and
//! the fix.

use std::path::PathBuf;

use anyhow::{Context as _, anyhow};
use ringfence_import::{Prices, SOURCES, source};

use super::{CmdResult, Failure, Outcome};

/// Arguments of `import`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// What the input is: `ccip-directory` (Chainlink's published CCIP directory).
    #[arg(value_name = "SOURCE", value_parser = clap::builder::PossibleValuesParser::new(SOURCES.iter().map(|s| s.name())))]
    source: String,
    /// The input: for `ccip-directory`, the directory holding chains.json, tokens.json and
    /// lanes.json (and verifiers.json, decom.json, SOURCE.md).
    #[arg(value_name = "INPUT")]
    input: PathBuf,
    /// Where to write the spec (TOML); `-` for stdout.
    #[arg(short = 'o', long = "output", value_name = "SPEC")]
    output: PathBuf,
    /// USD prices by symbol and, optionally, supplies by asset id (TOML: `[price_usd]`,
    /// `[supply]`; see the README, section Import real configurations). Without it every value is reported missing.
    #[arg(long, value_name = "FILE")]
    prices: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> CmdResult {
    let src = source(&args.source)
        .ok_or_else(|| Failure::Other(anyhow!("unknown import source `{}`", args.source)))?;
    let prices = match &args.prices {
        Some(p) => Prices::load(p).map_err(|e| Failure::Other(anyhow!("{e}")))?,
        None => Prices::none(),
    };
    let import = src
        .import(&args.input, &prices)
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
            input: fixture(input),
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
}
