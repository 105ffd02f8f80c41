//! The library calls `ringfence stress DIR/chain.toml --protocols DIR/protocols.csv --claims
//! DIR/claims.csv --format json -o OUT` makes, in the same order, timed stage by stage: so the
//! path users run can be measured in a release build of this crate alone (the CLI's release build
//! takes ~16 min on a 2-core machine: SQLite and aws-lc).
//!
//! ```sh
//! python3 scripts/stress-peer.py generate /tmp/net
//! cargo run --release -p ringfence-stress --example stress_tables -- /tmp/net /tmp/out.json [--all]
//! ```
//!
//! Prints the time of each stage and the checksum the peer prints (`scripts/stress-peer.py clear`).

use std::process::ExitCode;
use std::time::Instant;

use ringfence_model::Model;
use ringfence_stress::columnar::{self, Table};
use ringfence_stress::report::{LIST_EVERY_PROTOCOL_UP_TO, Scenario};
use ringfence_stress::{StressParams, System};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: stress_tables DIR OUT.json [--all]");
        return ExitCode::from(2);
    };
    let all = args.iter().any(|a| a == "--all");
    match run(std::path::Path::new(dir), out, all) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(dir: &std::path::Path, out: &str, all: bool) -> Result<(), Box<dyn std::error::Error>> {
    let t0 = Instant::now();
    let mut model = Model::load(&dir.join("chain.toml"))?;
    let t1 = Instant::now();
    let p = std::fs::read(dir.join("protocols.csv"))?;
    let c = std::fs::read(dir.join("claims.csv"))?;
    let t2 = Instant::now();
    // What `columnar::add_tables` does, a table at a time to time each.
    columnar::add_protocols(
        &mut model,
        Table {
            label: "protocols.csv",
            bytes: &p,
        },
    )?;
    let tp = Instant::now();
    columnar::add_claims(
        &mut model,
        Table {
            label: "claims.csv",
            bytes: &c,
        },
    )?;
    let t3 = Instant::now();
    let system = System::new(&model)?;
    let t4 = Instant::now();
    let scenario = Scenario {
        params: StressParams::default(),
        seed: 1,
        ..Scenario::default()
    };
    let mut report = system.report(&scenario, &|_| {})?;
    if !all && report.outcome.protocols.len() > LIST_EVERY_PROTOCOL_UP_TO {
        report.only_touched_protocols();
    }
    let t5 = Instant::now();
    // What the CLI's `Output::json` does.
    let mut s = serde_json::to_string_pretty(&report)?;
    s.push('\n');
    std::fs::write(out, &s)?;
    let t6 = Instant::now();
    let ms = |a: Instant, b: Instant| (b - a).as_secs_f64() * 1e3;
    let o = &report.outcome;
    let defaults = o.protocols.iter().filter(|p| p.defaulted).count();
    let waves = o.protocols.iter().map(|p| p.wave).max().unwrap_or(0);
    let paid: f64 = o
        .protocols
        .iter()
        .map(|p| p.clearing_payment_usd)
        .sum::<f64>()
        + o.protocols_left_out.map_or(0.0, |l| l.clearing_payment_usd);
    eprintln!(
        "spec {:.1} ms · read files {:.1} ms · protocols {:.1} ms · claims {:.1} ms · system {:.1} ms · \
         stress {:.1} ms · \
         json {:.1} ms ({:.1} MB) · total {:.1} ms · waves {waves} · defaults {defaults} · \
         sum of payments {paid:.6}",
        ms(t0, t1),
        ms(t1, t2),
        ms(t2, tp),
        ms(tp, t3),
        ms(t3, t4),
        ms(t4, t5),
        ms(t5, t6),
        s.len() as f64 / 1e6,
        ms(t0, t6),
    );
    Ok(())
}
