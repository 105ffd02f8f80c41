//! `ringfence stress` through the binary: the CONTAGION.md reference cases as specs, the
//! calibration cases of the example, and the output contract.

use super::{example, fails_with, json, root, run, stderr, stdout};

fn stress_fixture(name: &str) -> String {
    root()
        .join("tests/fixtures/stress")
        .join(name)
        .display()
        .to_string()
}

/// The example calibrated with `examples/calibration.toml`, in `format`; it must succeed.
fn calibrate(format: &str) -> std::process::Output {
    let file = root()
        .join("examples/calibration.toml")
        .display()
        .to_string();
    let o = run(&[
        "stress",
        &example(),
        "--calibrate",
        &file,
        "--format",
        format,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    o
}

/// Clearing payments and default waves of a network cleared as given.
fn clear(name: &str, extra: &[&str]) -> (Vec<f64>, Vec<u64>) {
    let path = stress_fixture(name);
    let mut args = vec!["stress", path.as_str(), "--format", "json"];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["failed"], serde_json::json!([]));
    let protocols = v["protocols"].as_array().cloned().unwrap_or_default();
    let p = protocols
        .iter()
        .map(|x| x["clearing_payment_usd"].as_f64().unwrap_or(f64::NAN))
        .collect();
    let w = protocols
        .iter()
        .map(|x| x["wave"].as_u64().unwrap_or(u64::MAX))
        .collect();
    (p, w)
}

fn close(got: &[f64], want: &[f64], tol: f64) {
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() <= tol, "got {got:?}, want {want:?}");
    }
}

#[test]
fn c1_eisenberg_noe_and_rogers_veraart() {
    let (p, w) = clear("c1a.toml", &[]);
    close(&p, &[1.4732142857, 1.4196428571, 1.5], 1e-9);
    assert_eq!(
        w.iter().map(|&x| x > 0).collect::<Vec<_>>(),
        [true, true, false]
    );
    close(
        &clear(
            "c1a.toml",
            &["--clearing", "rv", "--alpha", "0.5", "--beta", "0.7"],
        )
        .0,
        &[0.50201996, 0.51470494, 0.56538061],
        1e-8,
    );
    close(
        &clear("c1b.toml", &[]).0,
        &[1.46716102, 1.33580508, 1.5],
        1e-8,
    );
    close(
        &clear(
            "c1b.toml",
            &["--clearing", "rv", "--alpha", "0.5", "--beta", "0.7"],
        )
        .0,
        &[0.50809905, 0.49311442, 0.57876436],
        1e-8,
    );
}

#[test]
fn c2_rogers_veraart_example_3_3() {
    let rv = ["--clearing", "rv", "--alpha", "0.5", "--beta", "0.5"];
    close(&clear("c2a.toml", &rv).0, &[2.0, 2.2], 1e-12);
    close(&clear("c2b.toml", &rv).0, &[2.2, 2.2], 1e-12);
}

#[test]
fn c3_circular_network_defaults_in_two_waves() {
    let (p, w) = clear(
        "c3.toml",
        &["--clearing", "rv", "--alpha", "0.5", "--beta", "0.5"],
    );
    let (a, b) = (4.0 / 15.0, 8.0 / 15.0);
    close(&p, &[a, b, a, b, a, b], 1e-12);
    assert_eq!(w, [2, 1, 2, 1, 2, 1]);
}

#[test]
fn c4_six_node_network() {
    let (p, w) = clear("c4.toml", &[]);
    close(&p, &[13.0, 8.0, 13.0, 8.0, 12.0, 9.0], 1e-12);
    assert!(w.iter().all(|&x| x == 0));
    close(
        &clear("c4-shocked.toml", &[]).0,
        &[12.675897, 8.0, 5.86142, 7.870636, 3.75, 8.470636],
        1e-6,
    );
    close(
        &clear(
            "c4-shocked.toml",
            &["--clearing", "rv", "--alpha", "0.9", "--beta", "0.9"],
        )
        .0,
        &[10.417371, 8.0, 4.88907, 6.209523, 3.375, 6.12857],
        1e-6,
    );
}

#[test]
fn d1_differential_and_single_hit_debtrank() {
    let o = run(&[
        "stress",
        &stress_fixture("d1.toml"),
        "--debtrank",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let rows = json(&o)["debtrank"].as_array().cloned().unwrap_or_default();
    let add: Vec<f64> = rows
        .iter()
        .map(|r| r["additional_stress"].as_f64().unwrap_or(f64::NAN))
        .collect();
    close(&add, &[0.9285714286, 0.25, 0.75], 1e-9);
    let single = rows[2]["single_hit_additional_stress"]
        .as_f64()
        .unwrap_or(f64::NAN);
    assert!((single - 0.6642857143).abs() < 1e-9);
    let h_c: Vec<f64> = rows[2]["h"]
        .as_array()
        .map(|h| {
            h.iter()
                .map(|x| x[1].as_f64().unwrap_or(f64::NAN))
                .collect()
        })
        .unwrap_or_default();
    close(&h_c, &[0.5, 1.0, 1.0], 1e-12);
}

#[test]
fn resolv_lands_in_the_press_range() {
    let o = run(&[
        "stress",
        &example(),
        "--fail",
        "resolv-service-role",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
    let direct = f("direct_loss_usd");
    let secondary = f("secondary_damage_usd");
    // Press: ~$24M extracted; ~$514M of liquidations and outflows (value that moved, ~21:1);
    // Fluid bad debt $10–21M. Losses and flows are apart: the realized loss is direct +
    // secondary, the disrupted value is liquidations + withdrawals paid.
    assert!((15e6..40e6).contains(&direct), "direct {direct}");
    assert!((f("realized_loss_usd") - direct - secondary).abs() < 1e-3);
    assert!((f("disrupted_value_usd") - f("liquidations_usd") - f("outflows_usd")).abs() < 1e-3);
    assert!((200e6..1e9).contains(&f("disrupted_value_usd")), "{v}");
    assert!((f("loss_multiplier") - secondary / direct).abs() < 1e-9);
    assert!((f("disruption_multiplier") - f("disrupted_value_usd") / direct).abs() < 1e-9);
    assert_eq!(v["multiplier"], v["loss_multiplier"]);
    let r = &v["realized"];
    let lines: f64 = [
        "depeg_usd",
        "bad_debt_usd",
        "liquidation_penalties_usd",
        "fire_sale_usd",
        "clearing_costs_usd",
    ]
    .iter()
    .map(|k| r[*k].as_f64().unwrap_or(f64::NAN))
    .sum();
    assert!((lines - secondary).abs() < 1e-3, "{r}");
    let fluid = v["protocols"]
        .as_array()
        .and_then(|p| p.iter().find(|x| x["id"] == "fluid-ethereum"))
        .cloned()
        .unwrap_or_default();
    let fluid_bad = fluid["bad_debt_usd"].as_f64().unwrap_or(0.0);
    assert!(
        (10e6..=21e6).contains(&fluid_bad),
        "fluid bad debt {fluid_bad}"
    );
    for field in [
        "failed",
        "liquidations_usd",
        "bad_debt_usd",
        "outflows_usd",
        "rounds",
        "protocols",
    ] {
        assert!(v.get(field).is_some(), "{field}");
    }
    for field in [
        "id",
        "loss_usd",
        "defaulted",
        "clearing_payment_usd",
        "equity_usd",
        "wave",
    ] {
        assert!(fluid.get(field).is_some(), "protocols[].{field}");
    }
}

#[test]
fn kelpdao_direct_loss_is_the_drained_escrow() {
    let o = run(&[
        "stress",
        &example(),
        "--fail",
        "kelp-rseth-dvn",
        "--format",
        "json",
    ]);
    let v = json(&o);
    let direct = v["direct_loss_usd"].as_f64().unwrap_or(0.0);
    // 116,723 rsETH on Unichain (~$292M) and 35,000 on Arbitrum at $2,506.
    assert!(
        (direct - (116_723.0 + 35_000.0) * 2506.0).abs() < 1.0,
        "{direct}"
    );
}

#[test]
fn ranking_reverse_and_monte_carlo_sections() {
    let o = run(&[
        "stress",
        &example(),
        "--rank",
        "--reverse",
        "1000000000",
        "--monte-carlo",
        "20000",
        "--seed",
        "7",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let ranking = v["ranking"].as_array().cloned().unwrap_or_default();
    assert!(ranking.len() > 50);
    let mc = &v["monte_carlo"];
    assert_eq!(mc["draws"], 20000);
    let (var95, var99, es99) = (
        mc["var95_usd"].as_f64(),
        mc["var99_usd"].as_f64(),
        mc["es99_usd"].as_f64(),
    );
    assert!(var95 <= var99 && var99 <= es99, "{mc}");
    assert!(v["reverse"].is_object());
    // Same seed, same answer.
    let again = json(&run(&[
        "stress",
        &example(),
        "--monte-carlo",
        "20000",
        "--seed",
        "7",
        "--format",
        "json",
    ]));
    assert_eq!(again["monte_carlo"], v["monte_carlo"]);
}

#[test]
fn html_has_the_waterfall() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("stress.html");
    let o = run(&[
        "stress",
        &example(),
        "--fail",
        "resolv-service-role",
        "--format",
        "html",
        "-o",
        &out.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(out).expect("written");
    assert!(
        html.contains("<svg") && html.to_lowercase().contains("waterfall"),
        "waterfall picture"
    );
    assert!(stdout(&o).is_empty());
}

/// Regression (first hour): a typo in `--fail` gave no suggestion.
#[test]
fn unknown_component_exits_2_names_it_and_suggests_the_closest() {
    fails_with(
        &["stress", &example(), "--fail", "resolv-servce-role"],
        &[
            "unknown component `resolv-servce-role`",
            "did you mean `resolv-service-role`?",
        ],
    );
}

#[test]
fn uncertainty_reports_ordered_bands_and_a_tornado_deterministically() {
    let args = [
        "stress",
        &example(),
        "--fail",
        "resolv-service-role",
        "--uncertainty",
        "2000",
        "--seed",
        "7",
        "--format",
        "json",
    ];
    let o = run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    let u = &v["uncertainty"];
    assert_eq!(u["draws"], 2000);
    for figure in [
        "direct_loss_usd",
        "realized_loss_usd",
        "secondary_loss_usd",
        "disrupted_value_usd",
        "loss_multiplier",
        "disruption_multiplier",
        "bad_debt_usd",
        "outflows_usd",
    ] {
        let b = &u[figure];
        let (p5, p50, p95) = (
            b["p5"].as_f64().unwrap_or(f64::NAN),
            b["p50"].as_f64().unwrap_or(f64::NAN),
            b["p95"].as_f64().unwrap_or(f64::NAN),
        );
        assert!(p5 <= p50 && p50 <= p95, "{figure}: {b}");
    }
    // The ranges move the figures: the disrupted value is not a point.
    let d = &u["disrupted_value_usd"];
    assert!(d["p95"].as_f64() > d["p5"].as_f64(), "{d}");
    let tornado = u["tornado"].as_array().cloned().unwrap_or_default();
    assert_eq!(tornado.len() as u64, u["inputs"].as_u64().unwrap_or(0));
    assert!(
        tornado
            .windows(2)
            .all(|w| w[0]["swing_usd"].as_f64() >= w[1]["swing_usd"].as_f64())
    );
    assert_eq!(tornado[0]["entity"], "USR", "{}", tornado[0]);
    let again = json(&run(&args));
    assert_eq!(again["uncertainty"], v["uncertainty"]);
    let table = run(&[
        "stress",
        &example(),
        "--fail",
        "resolv-service-role",
        "--uncertainty",
        "200",
    ]);
    assert!(stdout(&table).contains("tornado"), "{}", stdout(&table));
    let both = run(&[
        "stress",
        &example(),
        "--uncertainty",
        "10",
        "--monte-carlo",
        "10",
    ]);
    assert_eq!(both.status.code(), Some(2));
}

#[test]
fn calibrate_on_resolv_then_validate_on_kelpdao_unchanged() {
    let v = json(&calibrate("json"));
    let incidents = v["incidents"].as_array().cloned().unwrap_or_default();
    assert_eq!(incidents.len(), 2, "{v}");
    assert_eq!(incidents[0]["role"], "fit");
    assert_eq!(incidents[1]["role"], "validation");
    // The fit lands every Resolv target in its reported range.
    for t in incidents[0]["targets"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        assert_eq!(t["in_range"], true, "{t}");
    }
    // The validation is reported with its error, whatever it is.
    for t in incidents[1]["targets"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        assert!(
            t["error"].as_f64().is_some() && t["model"].as_f64().is_some(),
            "{t}"
        );
    }
    let depth = v["params"][0]["value"].as_f64().unwrap_or(0.0);
    assert!((2.0e6..3.0e6).contains(&depth), "USR depth {depth}");
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[[param]]\nentities = [\"nope\"]\nfield = \"depth_usd\"\nlow = 1\nhigh = 2\n[fit]\nname = \"x\"\nfail = []\ntarget = []\n").expect("write");
    let bad_arg = bad.display().to_string();
    let args = ["stress", &example(), "--calibrate", &bad_arg];
    fails_with(&args, &["nope"]);
    std::fs::write(
        &bad,
        "[[param]]\nentities = [\"USR\"]\nfield = \"depth_usd\"\nlow = 1\n",
    )
    .expect("write");
    fails_with(&args, &["bad.toml"]);
}

#[test]
fn csv_protocols_and_claims_clear_like_the_toml() {
    let dir = |f: &str| stress_fixture(&format!("csv/{f}"));
    let (p, w) = clear(
        "csv/chain.toml",
        &[
            "--protocols",
            &dir("c1a-protocols.csv"),
            "--claims",
            &dir("c1a-claims.csv"),
        ],
    );
    let (want_p, want_w) = clear("c1a.toml", &[]);
    assert_eq!(p, want_p);
    assert_eq!(w, want_w);
    let tmp = tempfile::tempdir().expect("tempdir");
    let bad = tmp.path().join("claims.csv");
    std::fs::write(&bad, "debtor,creditor,amount_usd\nn0,n1,0.5\nn0,n2,half\n").expect("write");
    let (chain, protocols, claims) = (
        dir("chain.toml"),
        dir("c1a-protocols.csv"),
        bad.display().to_string(),
    );
    let args = [
        "stress",
        &chain,
        "--protocols",
        &protocols,
        "--claims",
        &claims,
    ];
    fails_with(&args, &["claims.csv:3"]);
    std::fs::write(&bad, "debtor,creditor,amount_usd\nn0,nobody,0.5\n").expect("write");
    fails_with(&args, &["nobody"]);
}

#[test]
fn html_shows_the_two_multipliers_the_ranges_and_the_calibration() {
    let o = run(&[
        "stress",
        &example(),
        "--fail",
        "resolv-service-role",
        "--uncertainty",
        "300",
        "--format",
        "html",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = stdout(&o);
    for want in [
        "loss multiplier",
        "disruption multiplier",
        "Realized loss, each dollar once",
        "Disrupted value",
        "P95",
        "Tornado",
    ] {
        assert!(html.contains(want), "{want}");
    }
    let html = stdout(&calibrate("html"));
    assert!(
        html.contains("fit — ") && html.contains("validation — "),
        "{html}"
    );
}

/// Issue 16: the CLI took `--alpha` with Eisenberg–Noe (and ignored it) and any number of Monte
/// Carlo draws; it now applies the server's rules (`ringfence_stress::StressRequest::validate`),
/// naming its own flags.
#[test]
fn regression_the_cli_refuses_what_the_server_refuses() {
    let cases: [(&[&str], &str); 6] = [
        (
            &["--alpha", "0.5"],
            "`--alpha` and `--beta` apply to `--clearing rv` only",
        ),
        (
            &["--clearing", "en", "--beta", "0.5"],
            "apply to `--clearing rv` only",
        ),
        (
            &["--clearing", "rv", "--alpha", "1.5"],
            "alpha must be in [0, 1], got 1.5",
        ),
        (
            &["--monte-carlo", "0"],
            "`--monte-carlo` must be between 1 and 10000000 draws, got 0",
        ),
        (
            &["--monte-carlo", "10000001"],
            "`--monte-carlo` must be between 1 and 10000000 draws",
        ),
        (
            &["--uncertainty", "0"],
            "`--uncertainty` must be between 1 and 10000000 draws, got 0",
        ),
    ];
    for (extra, want) in cases {
        let mut args = vec!["stress", "", "--fail", "resolv-service-role"];
        let spec = example();
        args[1] = &spec;
        args.extend_from_slice(extra);
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(want), "{extra:?}: {}", stderr(&o));
        assert!(stdout(&o).is_empty(), "{extra:?}");
    }
    let o = run(&["stress", &example(), "--clearing", "xx"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown clearing model `xx`: use `en`"),
        "{}",
        stderr(&o)
    );
}
