//! The shipped scenarios against their sources.

use ringfence_lab::corpus;
use ringfence_lab::{Scenario, StepKind};

use crate::repo;

fn scenarios() -> Vec<Scenario> {
    Scenario::load_dir(&repo().join("incidents")).unwrap_or_else(|d| panic!("{d}"))
}

#[test]
fn nomad_scenario_is_current_with_the_real_events() {
    let fresh = ringfence_lab::nomad::scenario_toml(&repo().join("data/nomad-2022-08"))
        .unwrap_or_else(|d| panic!("{d}"));
    let path = repo().join("incidents/nomad-2022-08.toml");
    if std::env::var_os("RINGFENCE_UPDATE_NOMAD").is_some() {
        std::fs::write(&path, &fresh).expect("write");
    }
    let committed = std::fs::read_to_string(&path).expect("incidents/nomad-2022-08.toml");
    assert!(
        committed == fresh,
        "incidents/nomad-2022-08.toml is stale: rerun this test with RINGFENCE_UPDATE_NOMAD=1"
    );
}

#[test]
fn nomad_replays_all_1175_transfers_with_their_totals() {
    let s = Scenario::load(&repo().join("incidents/nomad-2022-08.toml"))
        .unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(s.steps.len(), 1175);
    let ids: std::collections::BTreeSet<_> = s.steps.iter().filter_map(|x| x.source_id).collect();
    assert_eq!(ids.len(), 26, "the 26 reused (origin, nonce) pairs");
    // Totals per token equal Nomad's own amt_by_token.json, to the base unit.
    for (i, a) in s.assets.iter().enumerate() {
        let total = s
            .steps
            .iter()
            .filter(|x| x.asset == i)
            .fold(alloy::primitives::U256::ZERO, |acc, x| acc + x.amount);
        assert_eq!(total, a.locked, "{}", a.symbol);
    }
    let usd = s.attack_usd();
    assert!(
        (usd - 190e6).abs() / 190e6 < 0.02,
        "replayed face value {usd}"
    );
    assert_eq!(s.steps.last().map(|x| x.block), Some(Some(15_259_772)));
}

#[test]
fn every_corpus_incident_has_a_scenario_that_agrees_with_it() {
    let corpus =
        corpus::load(&repo().join("data/incidents/corpus.json")).unwrap_or_else(|d| panic!("{d}"));
    let scenarios = scenarios();
    assert!(corpus.len() >= 7);
    for c in &corpus {
        let s = scenarios
            .iter()
            .find(|s| s.incident.id == c.id)
            .unwrap_or_else(|| panic!("no scenario for {}", c.id));
        assert_eq!(s.incident.date, c.date, "{}", c.id);
        assert_eq!(s.incident.historical_loss_usd, c.loss_usd, "{}", c.id);
        assert!(
            s.incident.sources.iter().any(|x| x.contains(&c.id)),
            "{} cites the corpus",
            c.id
        );
        assert!(s.incident.sources.len() >= 3, "{} cites its sources", c.id);
        assert!(
            s.steps.iter().any(|x| x.kind == StepKind::Attack),
            "{}",
            c.id
        );
    }
}

#[test]
fn the_default_policy_file_is_the_built_in_one() {
    let p = ringfence_lab::Policy::load(&repo().join("examples/policy.toml"))
        .unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(p, ringfence_lab::Policy::default());
}
