//! What a new user meets in the first hour (issue 10): the stress ranking and reverse stress, as
//! the demo shows them (a typo'd component is in `stress.rs`, beside the unknown one).

use crate::{example, run, stderr, stdout};

/// Regression: `--rank` printed an all-$0 "network as given" scenario first, and the demo's
/// `| head -40` cut the ranking and dropped the Monte Carlo line.
#[test]
fn ranking_alone_shows_the_ranking_its_cut_and_the_monte_carlo_line() {
    let o = run(&[
        "stress",
        &example(),
        "--rank",
        "--monte-carlo",
        "2000",
        "--seed",
        "1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains("the network as given"), "{out}");
    assert!(out.contains("Disrupted is value that moved"), "{out}");
    let rows = out
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|w| w.parse::<usize>().is_ok())
        })
        .count();
    assert_eq!(rows, 15, "{out}");
    assert!(out.contains("… and 222 more, "), "{out}");
    assert!(out.contains("of which cause no loss"), "{out}");
    assert!(out.contains("monte carlo: 2000 draws (seed 1)"), "{out}");
    let all = stdout(&run(&["stress", &example(), "--rank", "--all"]));
    assert!(!all.contains("… and"), "{all}");
}

/// Regression: `--reverse` answered "ethereum" for every loss; a team acts on keys, verifier sets,
/// operators, orgs, hostings and layers, and asks for chains explicitly.
#[test]
fn reverse_stress_searches_actionable_components_unless_asked_for_chains() {
    let out = stdout(&run(&["stress", &example(), "--reverse", "5e9"]));
    assert!(out.contains("[wbtc-custody]"), "{out}");
    assert!(out.contains("--include-chains adds chains"), "{out}");
    let out = stdout(&run(&[
        "stress",
        &example(),
        "--reverse",
        "5e9",
        "--include-chains",
    ]));
    assert!(out.contains("[ethereum]"), "{out}");
}

/// Regression: the protocol table's payment and equity columns were unexplained.
#[test]
fn the_scenario_table_explains_its_columns() {
    let out = stdout(&run(&[
        "stress",
        &example(),
        "--fail",
        "resolv-service-role",
    ]));
    assert!(out.contains("payment: what it pays its creditors"), "{out}");
    assert!(
        out.contains("equity: its assets less its liabilities"),
        "{out}"
    );
}

/// Regression: `ringfence --help` opened with "The `ringfence` command-line tool."
#[test]
fn help_opens_with_what_the_tool_does() {
    let out = stdout(&run(&["--help"]));
    let first = out.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("Measure and contain cross-chain DeFi"),
        "{first}"
    );
}

/// Regression: the HTML report's stress chart had no axis, labels or legend, unlike the
/// dashboard's. It is now the same chart: a value axis, a label on every bar, a legend and the
/// multiplier.
#[test]
fn the_html_stress_chart_has_an_axis_labels_and_a_legend() {
    let o = run(&[
        "stress",
        &example(),
        "--fail",
        "resolv-service-role",
        "--format",
        "html",
    ]);
    let html = stdout(&o);
    let svg = html
        .split("aria-label=\"waterfall of losses by round\"")
        .nth(1)
        .and_then(|rest| rest.split("</svg>").next())
        .expect("the waterfall svg");
    for needle in [
        ">$0</text>",
        ">round 0</text>",
        ">total</text>",
        ">direct</text>",
        ">bad debt</text>",
        ">fire-sale losses</text>",
        "loss multiplier ",
    ] {
        assert!(svg.contains(needle), "{needle} missing from the chart");
    }
}
