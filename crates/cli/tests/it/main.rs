//! The `ringfence` binary as a user runs it: outputs, exit codes and error messages.

mod attest;
mod collect;
mod first_hour;
mod repo;
mod stress;

use std::path::PathBuf;
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn fixture(name: &str) -> String {
    root()
        .join("tests/fixtures/spec")
        .join(name)
        .display()
        .to_string()
}

fn example() -> String {
    root().join("examples/ecosystem.toml").display().to_string()
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ringfence"))
        .args(args)
        .output()
        .expect("run ringfence")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `args`, which must exit 2 with each of `want` on stderr; the stderr.
fn fails_with(args: &[&str], want: &[&str]) -> String {
    let o = run(args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{err}");
    for w in want {
        assert!(err.contains(w), "no {w:?} in:\n{err}");
    }
    err
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(o)))
}

#[test]
fn check_accepts_the_example_and_a_directory() {
    let o = run(&["check", &example()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("ok —"));
    let o = run(&["check", &fixture("split")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn bad_input_exits_2_with_every_problem_located() {
    let o = run(&["check", &fixture("bad.toml")]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let path = fixture("bad.toml");
    assert!(
        err.contains(&format!(
            "{path}:8:9: `X`: `chain` refers to unknown chain `ehh`"
        )),
        "{err}"
    );
    assert!(err.contains("did you mean `eth`"), "{err}");
    assert!(
        err.contains(&format!("{path}:11:10: `X`: `supply` is -3")),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{path}:19:1: `Y`: in `[[asset]]`: unknown field `colour`"
        )),
        "{err}"
    );
    assert!(err.contains("3 problems found"), "{err}");
    assert!(stdout(&o).is_empty(), "nothing on stdout on failure");
    // Every report command fails the same way on bad input.
    for cmd in ["exposure", "limits", "lint"] {
        assert_eq!(
            run(&[cmd, &fixture("bad.toml")]).status.code(),
            Some(2),
            "{cmd}"
        );
    }
}

#[test]
fn missing_spec_is_a_clear_error() {
    fails_with(
        &["exposure", "no/such/spec.toml"],
        &["no/such/spec.toml: cannot read the file"],
    );
}

#[test]
fn exposure_json_follows_the_contract() {
    let o = run(&["exposure", &fixture("small.toml"), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v = json(&o);
    assert_eq!(v["total_value_usd"], 1500.0);
    let first = &v["components"][0];
    for field in ["id", "kind", "value_at_risk_usd", "share"] {
        assert!(first.get(field).is_some(), "components[].{field}");
    }
    // hosting:aws opens A1, B1 and the minter of S: 300 + 700 + 500.
    let aws = v["components"]
        .as_array()
        .and_then(|c| c.iter().find(|x| x["id"] == "hosting:aws"))
        .cloned();
    assert_eq!(
        aws.map(|a| a["value_at_risk_usd"].clone()),
        Some(serde_json::json!(1500.0))
    );
    assert_eq!(v["assets"][2]["id"], "S");
    assert_eq!(v["assets"][2]["depends_on"]["La"], 0.5);
    assert_eq!(v["holders"][0]["id"], "vault");
    assert_eq!(v["holders"][0]["exposure_usd"]["Lb"], 50.0);
    assert!(
        v["single_points_of_failure"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    insta::assert_json_snapshot!("exposure_small", v);
}

/// Regression (issue 10 item 8): an unknown field hid the same entity's other errors.
#[test]
fn check_reports_every_problem_of_one_entry() {
    let o = run(&["check", &fixture("four-in-one-entry.toml")]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    for needle in [
        "`chain` refers to unknown chain `ehh`",
        "`supply` is -3",
        "`mint_authority` refers to unknown key `nokey`",
        "unknown field `colour`",
        "4 problems found",
    ] {
        assert!(err.contains(needle), "{needle} missing:\n{err}");
    }
}

#[test]
fn exposure_table_names_the_hidden_shared_dependency() {
    let o = run(&["exposure", &fixture("small.toml")]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    assert!(out.contains("Hidden shared dependencies"), "{out}");
    assert!(
        out.contains(
            "`hosting:aws` alone can open routes on 2 layers that look independent (La, Lb)"
        ),
        "{out}"
    );
}

/// Regression (issue 10 item 5): the finding said "4 assets and $2.15B" while the $2.15B covered
/// six assets. Count and value must describe one set: the component's row in `components`.
#[test]
fn hidden_shared_dependency_count_and_value_describe_one_set() {
    let v = json(&run(&["exposure", &example(), "--format", "json"]));
    let hidden = v["hidden_shared_dependencies"].as_array().expect("array");
    assert!(!hidden.is_empty());
    for h in hidden {
        let c = v["components"]
            .as_array()
            .expect("components")
            .iter()
            .find(|c| c["id"] == h["component"])
            .expect("component row");
        assert_eq!(h["assets"], c["assets"], "{h}");
        assert_eq!(h["value_at_risk_usd"], c["value_at_risk_usd"], "{h}");
        let msg = h["message"].as_str().expect("message");
        assert!(
            msg.contains(&format!("{} assets depend on it", c["assets"])),
            "{msg}"
        );
    }
    let aws = hidden
        .iter()
        .find(|h| h["component"] == "hosting:aws")
        .expect("aws");
    assert_eq!(aws["assets"], 6);
    assert_eq!(aws["routed_assets"], 4);
}

/// Regression (issue 10 item 4): the single-point-of-failure table stopped at 15 rows and left out
/// the Resolv key and the KelpDAO DVN without a word. A cut table says how many rows it hides;
/// `--all` shows them.
#[test]
fn cut_tables_say_what_they_hide_and_all_shows_every_row() {
    let v = json(&run(&["exposure", &example(), "--format", "json"]));
    let spofs = v["single_points_of_failure"]
        .as_array()
        .expect("array")
        .iter()
        .filter(|s| s["kind"] != "chain")
        .count();
    assert!(spofs > 15, "{spofs}");
    let out = stdout(&run(&["exposure", &example()]));
    assert!(
        out.contains(&format!(
            "… and {} more (see --format json, or --all)",
            spofs - 15
        )),
        "{out}"
    );
    let out = stdout(&run(&["exposure", &example(), "--all"]));
    assert!(!out.contains("more (see --format json"), "{out}");
    for id in ["resolv-service-role", "kelp-rseth-dvn"] {
        assert!(out.contains(id), "{id} missing from --all:\n{out}");
    }
    let out = stdout(&run(&["exposure", &example(), "--limit", "3"]));
    assert!(out.contains(&format!("… and {} more", spofs - 3)), "{out}");
}

#[test]
fn exposure_holder_filter_and_unknown_holder() {
    let o = run(&[
        "exposure",
        &fixture("small.toml"),
        "--format",
        "json",
        "--holder",
        "vault",
    ]);
    assert_eq!(json(&o)["holders"].as_array().map(Vec::len), Some(1));
    fails_with(
        &["exposure", &fixture("small.toml"), "--holder", "vaullt"],
        &[
            "--holder `vaullt` is not a protocol",
            "did you mean `vault`?",
        ],
    );
    // Regression (issue 10 item 10): in table mode `--holder` reprinted the whole ecosystem.
    let out = stdout(&run(&[
        "exposure",
        &example(),
        "--holder",
        "fluid-ethereum",
    ]));
    assert!(out.contains("Holder `fluid-ethereum`"), "{out}");
    assert!(!out.contains("Hidden shared dependencies"), "{out}");
    assert!(!out.contains("Worst single points of failure"), "{out}");
    assert!(!out.contains("aave-ethereum"), "{out}");
}

#[test]
fn html_report_is_one_self_contained_file_with_the_graph() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("report.html");
    let o = run(&[
        "exposure",
        &example(),
        "--format",
        "html",
        "-o",
        &out.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let html = std::fs::read_to_string(&out).expect("report written");
    assert!(html.starts_with("<!doctype html>"));
    assert!(html.contains("<svg"), "graph picture");
    assert!(
        html.contains("data-id=\"resolv-service-role\""),
        "components in the graph"
    );
    assert!(html.contains("Hidden shared dependencies"));
    assert!(html.contains("Lint findings") && html.contains("Concentration limits"));
    assert!(
        !html.contains("<script src") && !html.contains("<link "),
        "no external resources"
    );
    assert!(stdout(&o).is_empty());
}

#[test]
fn limits_exit_1_on_breach_with_moves() {
    let o = run(&["limits", &fixture("small.toml"), "--format", "json"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v = json(&o);
    let b = &v["breaches"][0];
    assert_eq!(b["policy"], "layers");
    assert_eq!(b["component"], "Lb");
    assert_eq!(b["max_share"], 0.6);
    // Lb: 700 of 1000 bridged; cap 600 → 100 to La (room 300).
    assert!((b["excess_usd"].as_f64().unwrap_or(0.0) - 100.0).abs() < 1e-9);
    assert_eq!(b["moves"][0]["from"], "Lb");
    assert_eq!(b["moves"][0]["to"], "La");
    let o = run(&["limits", &fixture("clean.toml")]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("No policy is breached"));
}

#[test]
fn lint_formats_and_exit_codes() {
    let o = run(&["lint", &example(), "--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the example has critical findings"
    );
    let v = json(&o);
    let f = v["findings"].as_array().cloned().unwrap_or_default();
    for rule in [
        "single-key-mint",
        "no-mint-cap",
        "weak-verifier-set",
        "correlated-verifiers",
        "no-rate-limit",
        "admin-without-timelock",
    ] {
        assert!(
            f.iter().any(|x| x["rule"] == rule),
            "example triggers {rule}"
        );
    }
    let resolv = f
        .iter()
        .find(|x| x["rule"] == "single-key-mint" && x["entity"] == "USR")
        .cloned()
        .unwrap_or_default();
    assert_eq!(resolv["severity"], "critical");
    assert!(
        resolv["incident"]
            .as_str()
            .is_some_and(|s| s.contains("Resolv"))
    );
    let kelp = f
        .iter()
        .find(|x| x["rule"] == "weak-verifier-set" && x["entity"] == "kelp-rseth-dvn")
        .cloned()
        .unwrap_or_default();
    assert_eq!(kelp["severity"], "critical");

    let o = run(&["lint", &example(), "--format", "sarif"]);
    let s = json(&o);
    assert_eq!(s["version"], "2.1.0");
    assert_eq!(
        s["runs"][0]["results"].as_array().map(Vec::len),
        Some(f.len())
    );
    // Regression (issue 10 item 10): SARIF results carried no line numbers. Each result whose
    // entity the spec declares points at the line of its `id`.
    let results = s["runs"][0]["results"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let kelp = results
        .iter()
        .find(|r| r["locations"][0]["logicalLocations"][0]["name"] == "kelp-rseth-dvn")
        .expect("a kelp-rseth-dvn result");
    let region = &kelp["locations"][0]["physicalLocation"]["region"];
    let line = region["startLine"].as_u64().expect("startLine") as usize;
    let text = std::fs::read_to_string(example()).expect("example");
    let declared = text.lines().nth(line - 1).unwrap_or_default();
    assert!(
        declared.contains("\"kelp-rseth-dvn\""),
        "line {line}: {declared}"
    );
    let located = results
        .iter()
        .filter(|r| !r["locations"][0]["physicalLocation"]["region"].is_null())
        .count();
    assert!(
        located * 10 >= results.len() * 9,
        "{located} of {}",
        results.len()
    );

    let o = run(&["lint", &fixture("clean.toml")]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("No finding."));
}

#[test]
fn the_demo_answers_the_risk_lead() {
    // The shipped example must surface the seeds' cases in dollars.
    let o = run(&["exposure", &example(), "--format", "json"]);
    let v = json(&o);
    let var = |id: &str| {
        v["components"]
            .as_array()
            .and_then(|c| c.iter().find(|x| x["id"] == id))
            .and_then(|x| x["value_at_risk_usd"].as_f64())
            .unwrap_or(0.0)
    };
    // Resolv: USR (102M) and wstUSR (60M × 1.1) fall with one KMS key.
    assert!(
        (var("resolv-service-role") - 168e6).abs() < 1.0,
        "{}",
        var("resolv-service-role")
    );
    // KelpDAO: the 1-of-1 DVN carries both rsETH deployments.
    assert!(var("kelp-rseth-dvn") > 290e6);
    let hidden = v["hidden_shared_dependencies"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        hidden.iter().any(|h| h["component"] == "hosting:aws"),
        "{hidden:?}"
    );
}
