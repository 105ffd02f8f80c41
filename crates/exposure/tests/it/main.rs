//! The semantics of the dependency closure, exposure, limits and lint on hand-computed cases, and
//! their invariants on synthetic ecosystems.

use proptest::prelude::*;
use ringfence_exposure::{Closure, Severity, check_limits, exposure_report, lint};
use ringfence_model::{Model, test_utils::synthetic};

fn model(text: &str) -> Model {
    Model::from_str("case.toml", text).unwrap_or_else(|d| panic!("{d}"))
}

fn dep(m: &Model, c: &Closure, asset: &str, component: &str) -> f64 {
    let a = m.asset(asset).unwrap_or_else(|| panic!("no asset {asset}"));
    let k = m
        .component(component)
        .unwrap_or_else(|| panic!("no component {component}"));
    c.dep(a, k)
}

const SEMANTICS: &str = r#"
[[chain]]
id = "eth"
chain_id = 1

[[operator]]
id = "o1"
org = "A"
hosting = "aws"
[[operator]]
id = "o2"
org = "A"
hosting = "gcp"
[[operator]]
id = "o3"
org = "B"
hosting = "aws"
[[operator]]
id = "o4"
org = "C"
hosting = "gcp"

[[verifier_set]]
id = "V1"
threshold = 2
members = ["o1", "o2", "o3"]
[[verifier_set]]
id = "V2"
threshold = 2
members = ["o3", "o4"]

[[key]]
id = "admin"
kind = "multisig"
threshold = 2
signers = ["o3", "o4"]
[[key]]
id = "kms"
kind = "kms"
hosting = "aws"
[[key]]
id = "ms"
kind = "multisig"
threshold = 2
signers = ["o1", "o2", "o4"]

[[layer]]
id = "L1"
verifier_set = "V1"
admin = "admin"

[[asset]]
id = "X"
chain = "eth"
kind = "wrapped"
price_usd = 2
supply = 50
route = { layer = "L1" }
[[asset]]
id = "Y"
chain = "eth"
kind = "stablecoin"
price_usd = 1
supply = 200
mint_authority = "kms"
[[asset]]
id = "Z"
chain = "eth"
kind = "lst"
price_usd = 1
supply = 400
backing = [{ asset = "X", share = 0.5 }, { asset = "Y", share = 0.25 }]
[[asset]]
id = "W"
chain = "eth"
kind = "stablecoin"
price_usd = 1
supply = 100
mint_authority = "ms"
[[asset]]
id = "R"
chain = "eth"
kind = "wrapped"
price_usd = 1
supply = 100
route = { layer = "L1", verifier_set = "V2" }

[[protocol]]
id = "vault"
kind = "vault"
chain = "eth"
holdings = [{ asset = "X", amount = 10 }, { asset = "Z", amount = 100 }]
"#;

#[test]
fn own_follows_the_route_and_the_threshold_cover() {
    let m = model(SEMANTICS);
    let c = Closure::compute(&m);
    // X: chain, layer, V1, the layer's admin key, and what alone covers 2 of V1's members:
    // org A (o1, o2) and hosting aws (o1, o3); no single operator, not gcp (o2 only).
    for (comp, want) in [
        ("eth", 1.0),
        ("L1", 1.0),
        ("V1", 1.0),
        ("admin", 1.0),
        ("org:A", 1.0),
        ("hosting:aws", 1.0),
        ("o1", 0.0),
        ("hosting:gcp", 0.0),
        ("org:B", 0.0),
        // The admin key's own signers are not part of the asset's dependencies.
        ("o3", 0.0),
        ("V2", 0.0),
    ] {
        assert_eq!(dep(&m, &c, "X", comp), want, "dep(X, {comp})");
    }
}

#[test]
fn a_kms_mint_key_brings_its_cloud() {
    let m = model(SEMANTICS);
    let c = Closure::compute(&m);
    assert_eq!(dep(&m, &c, "Y", "kms"), 1.0);
    assert_eq!(dep(&m, &c, "Y", "hosting:aws"), 1.0);
    assert_eq!(dep(&m, &c, "Y", "L1"), 0.0);
}

#[test]
fn a_multisig_mint_key_brings_what_covers_its_threshold() {
    let m = model(SEMANTICS);
    let c = Closure::compute(&m);
    // ms: 2 of o1 (A, aws), o2 (A, gcp), o4 (C, gcp): org A and hosting gcp each cover 2.
    assert_eq!(dep(&m, &c, "W", "ms"), 1.0);
    assert_eq!(dep(&m, &c, "W", "org:A"), 1.0);
    assert_eq!(dep(&m, &c, "W", "hosting:gcp"), 1.0);
    assert_eq!(dep(&m, &c, "W", "hosting:aws"), 0.0);
    assert_eq!(dep(&m, &c, "W", "o1"), 0.0);
}

#[test]
fn a_route_override_replaces_the_layer_default() {
    let m = model(SEMANTICS);
    let c = Closure::compute(&m);
    assert_eq!(dep(&m, &c, "R", "V2"), 1.0);
    assert_eq!(dep(&m, &c, "R", "V1"), 0.0);
    assert_eq!(dep(&m, &c, "R", "org:A"), 0.0);
    assert_eq!(dep(&m, &c, "R", "L1"), 1.0);
}

#[test]
fn backing_passes_dependencies_on_in_proportion() {
    let m = model(SEMANTICS);
    let c = Closure::compute(&m);
    // Z = 0.5 X + 0.25 Y (+ 0.25 unbacked): aws is behind both X and Y.
    assert_eq!(dep(&m, &c, "Z", "L1"), 0.5);
    assert_eq!(dep(&m, &c, "Z", "kms"), 0.25);
    assert_eq!(dep(&m, &c, "Z", "hosting:aws"), 0.75);
    assert_eq!(dep(&m, &c, "Z", "eth"), 1.0);
}

#[test]
fn value_at_risk_and_holder_exposure_are_hand_computed() {
    let m = model(SEMANTICS);
    let c = Closure::compute(&m);
    let r = exposure_report(&m, &c, None);
    // X 100, Y 200, Z 400, W 100, R 100.
    assert_eq!(r.total_value_usd, 900.0);
    let var = |id: &str| {
        r.components
            .iter()
            .find(|x| x.id == id)
            .map(|x| x.value_at_risk_usd)
    };
    // aws: X 100 + Y 200 + Z 400 × 0.75 = 600.
    assert_eq!(var("hosting:aws"), Some(600.0));
    // L1: X 100 + R 100 + Z 400 × 0.5 = 400.
    assert_eq!(var("L1"), Some(400.0));
    assert_eq!(var("eth"), Some(900.0));
    assert_eq!(r.components[0].id, "eth", "sorted by value at risk");
    let aws = r
        .components
        .iter()
        .find(|x| x.id == "hosting:aws")
        .map(|x| x.share);
    assert_eq!(aws, Some(600.0 / 900.0));
    // vault: 10 X ($20) + 100 Z ($100): L1 = 20 + 100 × 0.5 = 70; aws = 20 + 75 = 95.
    let h = &r.holders[0];
    assert_eq!(h.value_usd, 120.0);
    assert_eq!(h.exposure_usd.get("L1"), Some(&70.0));
    assert_eq!(h.exposure_usd.get("hosting:aws"), Some(&95.0));
    // Single points of failure: aws destroys X and Y in full (300), not Z.
    let spof = r
        .single_points_of_failure
        .iter()
        .find(|s| s.component == "hosting:aws");
    assert_eq!(
        spof.map(|s| (s.value_usd, s.assets.clone())),
        Some((300.0, vec!["X".to_owned(), "Y".to_owned()]))
    );
}

/// Two verifier sets that look independent — different operators, different organisations,
/// different layers — both fall to one cloud.
const CORRELATED_HOSTING: &str = r#"
[[chain]]
id = "eth"
chain_id = 1
[[chain]]
id = "arb"
chain_id = 42161

[[operator]]
id = "p1"
org = "P"
hosting = "aws"
[[operator]]
id = "p2"
org = "Q"
hosting = "aws"
[[operator]]
id = "p3"
org = "R"
hosting = "gcp"
[[operator]]
id = "q1"
org = "S"
hosting = "aws"
[[operator]]
id = "q2"
org = "T"
hosting = "aws"
[[operator]]
id = "q3"
org = "U"
hosting = "hetzner"

[[verifier_set]]
id = "Va"
threshold = 2
members = ["p1", "p2", "p3"]
[[verifier_set]]
id = "Vb"
threshold = 2
members = ["q1", "q2", "q3"]

[[layer]]
id = "La"
verifier_set = "Va"
[[layer]]
id = "Lb"
verifier_set = "Vb"

[[asset]]
id = "A1"
chain = "arb"
kind = "wrapped"
price_usd = 1
supply = 300
route = { layer = "La", source = "eth" }
[[asset]]
id = "B1"
chain = "arb"
kind = "wrapped"
price_usd = 1
supply = 700
route = { layer = "Lb", source = "eth" }
"#;

#[test]
fn correlated_hosting_is_a_hidden_shared_dependency() {
    let m = model(CORRELATED_HOSTING);
    let c = Closure::compute(&m);
    let r = exposure_report(&m, &c, None);
    assert_eq!(dep(&m, &c, "A1", "hosting:aws"), 1.0);
    assert_eq!(dep(&m, &c, "B1", "hosting:aws"), 1.0);
    assert_eq!(dep(&m, &c, "A1", "La"), 1.0);
    assert_eq!(dep(&m, &c, "A1", "Lb"), 0.0);
    let h = &r.hidden_shared_dependencies;
    assert_eq!(h.len(), 1, "{h:?}");
    assert_eq!(h[0].component, "hosting:aws");
    assert_eq!(h[0].layers, vec!["La", "Lb"]);
    assert_eq!(h[0].value_at_risk_usd, 1000.0);
    assert!(
        h[0].message
            .contains("2 layers that look independent (La, Lb)"),
        "{}",
        h[0].message
    );
    // Lint sees each set's correlation too.
    let l = lint(&m);
    let corr: Vec<&str> = l
        .findings
        .iter()
        .filter(|f| f.rule == "correlated-verifiers")
        .map(|f| f.entity.as_str())
        .collect();
    assert_eq!(corr, vec!["Va", "Vb"]);
}

#[test]
fn limits_find_the_breach_and_the_smallest_rebalancing() {
    let text = format!(
        "{CORRELATED_HOSTING}
[[layer]]
id = \"Lc\"
verifier_set = \"Va\"
[[policy]]
id = \"layers\"
scope = \"ecosystem\"
component_kind = \"layer\"
max_share = 0.4
basis = \"bridged\"
"
    );
    let m = model(&text);
    let c = Closure::compute(&m);
    let r = check_limits(&m, &c);
    // Lb holds 700 of 1000 (70 % > 40 %): 300 must move. Lc has 400 of room, La 100.
    assert_eq!(r.breaches.len(), 1, "{r:?}");
    let b = &r.breaches[0];
    assert_eq!((b.policy.as_str(), b.component.as_str()), ("layers", "Lb"));
    assert!((b.share - 0.7).abs() < 1e-12);
    assert!((b.excess_usd - 300.0).abs() < 1e-9);
    assert_eq!(
        b.moves.len(),
        1,
        "one move to the component with most room: {:?}",
        b.moves
    );
    assert_eq!(b.moves[0].to.as_deref(), Some("Lc"));
    assert!((b.moves[0].amount_usd - 300.0).abs() < 1e-9);
}

#[test]
fn limits_say_when_no_component_has_room() {
    let text = format!(
        "{CORRELATED_HOSTING}
[[policy]]
id = \"aws\"
scope = \"ecosystem\"
component = \"hosting:aws\"
max_share = 0.5
"
    );
    let m = model(&text);
    let c = Closure::compute(&m);
    let r = check_limits(&m, &c);
    let b = &r.breaches[0];
    // aws: 1000 of 1000; cap 500. gcp and hetzner have 500 of room each: 500 to one of them.
    assert!((b.excess_usd - 500.0).abs() < 1e-9);
    let total: f64 = b.moves.iter().map(|m| m.amount_usd).sum();
    assert!((total - 500.0).abs() < 1e-9);
    assert!(b.moves.iter().all(|m| m.to.is_some()));

    let tight = text.replace("max_share = 0.5", "max_share = 0.1");
    let m = model(&tight);
    let r = check_limits(&m, &Closure::compute(&m));
    let b = &r.breaches[0];
    // cap 100: 900 must move; gcp and hetzner take 100 each; 700 has nowhere to go.
    let null: Vec<f64> = b
        .moves
        .iter()
        .filter(|m| m.to.is_none())
        .map(|m| m.amount_usd)
        .collect();
    assert_eq!(null.len(), 1);
    assert!((null[0] - 700.0).abs() < 1e-9, "{:?}", b.moves);
}

#[test]
fn protocol_scoped_policy_uses_its_holdings() {
    let text = format!(
        "{SEMANTICS}
[[policy]]
id = \"vault-aws\"
scope = \"vault\"
component = \"hosting:aws\"
max_share = 0.5
"
    );
    let m = model(&text);
    let r = check_limits(&m, &Closure::compute(&m));
    // vault: aws exposure 95 of 120.
    let b = &r.breaches[0];
    assert!((b.share - 95.0 / 120.0).abs() < 1e-12);
    assert!((b.excess_usd - 35.0).abs() < 1e-9);
}

#[test]
fn lint_rules_fire_on_what_they_describe() {
    let text = format!(
        "{SEMANTICS}
[[verifier_set]]
id = \"solo\"
threshold = 1
members = [\"o4\"]
[[layer]]
id = \"L2\"
verifier_set = \"solo\"
admin = \"kms\"
"
    );
    let m = model(&text);
    let l = lint(&m);
    let has = |rule: &str, entity: &str, sev: Severity| {
        l.findings.iter().any(|f| {
            f.rule == rule && f.entity == entity && f.severity == sev && !f.incident.is_empty()
        })
    };
    assert!(has("single-key-mint", "Y", Severity::Critical), "{l:#?}");
    assert!(has("no-mint-cap", "Y", Severity::High));
    assert!(has("no-mint-cap", "W", Severity::Medium));
    assert!(
        !l.findings
            .iter()
            .any(|f| f.rule == "single-key-mint" && f.entity == "W"),
        "2-of-3 is not single"
    );
    assert!(has("weak-verifier-set", "solo", Severity::Critical));
    assert!(
        has("weak-verifier-set", "V2", Severity::High),
        "V2 has 2 orgs"
    );
    assert!(
        has("weak-verifier-set", "V1", Severity::High),
        "V1 has 2 orgs (A, B)"
    );
    assert!(
        has("correlated-verifiers", "V1", Severity::High),
        "org A carries 2 of V1 at threshold 2"
    );
    assert!(has("correlated-verifiers", "ms", Severity::High));
    assert!(has("no-rate-limit", "X", Severity::High));
    assert!(has("admin-without-timelock", "L1", Severity::Medium));
    assert!(has("admin-without-timelock", "L2", Severity::High));
    assert!(l.has_high());
    // Most severe first.
    assert!(
        l.findings
            .windows(2)
            .all(|w| w[0].severity >= w[1].severity)
    );
}

#[test]
fn rate_limit_mint_cap_and_timelock_clear_their_findings() {
    let text = SEMANTICS
        .replace(
            "route = { layer = \"L1\" }",
            "route = { layer = \"L1\", rate_limit = { capacity = 10, refill_per_s = 0.1 } }",
        )
        .replace(
            "mint_authority = \"kms\"",
            "mint_authority = \"kms\"\nmint_cap = { amount = 10, window_s = 3600 }",
        )
        .replace(
            "threshold = 2\nsigners = [\"o3\", \"o4\"]",
            "threshold = 2\nsigners = [\"o3\", \"o4\"]\ntimelock_s = 86400",
        );
    let m = model(&text);
    let l = lint(&m);
    assert!(
        !l.findings
            .iter()
            .any(|f| f.entity == "X" && f.rule == "no-rate-limit")
    );
    assert!(
        !l.findings
            .iter()
            .any(|f| f.entity == "Y" && f.rule == "no-mint-cap")
    );
    assert!(
        !l.findings
            .iter()
            .any(|f| f.rule == "admin-without-timelock")
    );
}

/// Regression: the graph picture drew its components in `HashMap` order, so the same model gave
/// a different HTML report on every run.
#[test]
fn graph_svg_is_the_same_on_every_render() {
    let m = Model::from_spec("synthetic", synthetic(60, 7)).expect("valid");
    let c = Closure::compute(&m);
    let r = exposure_report(&m, &c, None);
    let first = ringfence_exposure::render::graph_svg(&m, &c, &r);
    assert!(
        first.matches("class=\"component\"").count() > 10,
        "enough components to shuffle"
    );
    for _ in 0..5 {
        assert_eq!(ringfence_exposure::render::graph_svg(&m, &c, &r), first);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

    /// Fractions stay in (0, 1]; shares never exceed 1; every asset depends fully on its own
    /// chain, so value at risk over chains adds up to at least the total.
    #[test]
    fn closure_invariants(n in 1usize..400, seed in 0u64..10_000) {
        let m = Model::from_spec("synthetic", synthetic(n, seed)).expect("valid");
        let c = Closure::compute(&m);
        for deps in &c.dep {
            for &(_, f) in deps {
                prop_assert!(f > 0.0 && f <= 1.0);
            }
        }
        let r = exposure_report(&m, &c, None);
        for comp in &r.components {
            prop_assert!(comp.share <= 1.0 + 1e-9, "{} {}", comp.id, comp.share);
        }
        for (a, asset) in m.assets.iter().enumerate() {
            prop_assert_eq!(c.dep(a, m.chains[asset.chain]), 1.0);
        }
        let chains: f64 = r.components.iter().filter(|x| x.kind == ringfence_model::ComponentKind::Chain).map(|x| x.value_at_risk_usd).sum();
        prop_assert!(chains >= r.total_value_usd * (1.0 - 1e-9));
    }

    /// Each breach's moves add up to its excess, and no move overfills a target.
    #[test]
    fn limit_moves_add_up(n in 1usize..300, seed in 0u64..10_000) {
        let m = Model::from_spec("synthetic", synthetic(n, seed)).expect("valid");
        let c = Closure::compute(&m);
        for b in check_limits(&m, &c).breaches {
            prop_assert!(b.share > b.max_share);
            let sum: f64 = b.moves.iter().map(|mv| mv.amount_usd).sum();
            prop_assert!((sum - b.excess_usd).abs() <= 1e-6 * b.excess_usd.max(1.0));
            prop_assert!(b.moves.iter().all(|mv| mv.amount_usd > 0.0));
        }
    }
}

/// The dependency graph of the example spec as laid out once (issue 16): what the HTML report
/// writes as SVG and what `GET /api/graph` gives the dashboard to draw. One line per column,
/// node and edge, so that a change of the picture shows as a readable diff.
#[test]
fn graph_layout_of_the_example_is_pinned() {
    use std::fmt::Write as _;
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/ecosystem.toml");
    let m = Model::load(&path).unwrap_or_else(|d| panic!("{d}"));
    let c = Closure::compute(&m);
    let r = exposure_report(&m, &c, None);
    let g = ringfence_exposure::render::graph_layout(&m, &c, &r);
    let mut s = format!("size {} x {}; note {:?}\n", g.width, g.height, g.note);
    for col in &g.columns {
        let t = &col.title;
        let _ = writeln!(
            s,
            "column {} {:?} at {} {}",
            col.kind, t.text, t.at.x, t.at.y
        );
    }
    for n in g.assets.iter().chain(&g.components) {
        let _ = writeln!(
            s,
            "{} {} at {} {} r {} {} label {:?} at {} ({}) frac {} ({}) hit {} {} {} {} title {:?}",
            n.kind,
            n.id,
            n.x,
            n.y,
            n.r,
            n.fill,
            n.label.text,
            n.label.at.x,
            n.label.at.anchor,
            n.frac.x,
            n.frac.anchor,
            n.hit.x,
            n.hit.y,
            n.hit.width,
            n.hit.height,
            n.title
        );
    }
    for e in &g.edges {
        let _ = writeln!(s, "edge {} -> {}: {}", e.asset, e.component, e.d);
    }
    insta::assert_snapshot!("example_graph_layout", s);
    // The HTML report draws exactly this layout.
    let html = ringfence_exposure::render::exposure_html(&m, &c, &r, None, None);
    assert!(html.contains(&g.svg()));
}
