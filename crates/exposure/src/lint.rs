//! Lint: findings on infrastructure assumptions, each with a severity, the entity, why it matters
//! and the historical incident it echoes.

use std::collections::BTreeSet;

use ringfence_model::{ComponentKind, Model};
use serde::Serialize;

use crate::closure::shared_carriers;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Low,
    /// Worth fixing.
    Medium,
    /// Fix before relying on it.
    High,
    /// One event away from a total loss.
    Critical,
}

impl Severity {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

/// The lint rules, with what each checks and the incident it echoes.
pub const RULES: &[(&str, &str, &str)] = &[
    (
        "single-key-mint",
        "An asset's mint authority is one key: an eoa, kms or hsm key, or a 1-of-n multisig/mpc.",
        "Resolv USR, 2026-03-22: one AWS KMS key held the mint role and minted 80M unbacked USR ($24M extracted, ~$514M secondary damage)",
    ),
    (
        "no-mint-cap",
        "An asset can be minted by a key with no ceiling per window.",
        "Resolv USR, 2026-03-22: no maximum-mint ceiling; 50M then 30M USR minted 80 minutes apart",
    ),
    (
        "weak-verifier-set",
        "A verifier set has threshold 1, or fewer than 3 distinct organisations among its members.",
        "KelpDAO rsETH, 2026-04-18: a 1-of-1 LayerZero DVN configuration released 116,500 rsETH (~$292M) on a forged message",
    ),
    (
        "correlated-verifiers",
        "One organisation or hosting provider carries at least the threshold of a verifier set or multisig, across more than one member.",
        "Ronin, 2022-03-23: 5 of 9 validator keys signed, 4 of them run by one company (Sky Mavis); $625M",
    ),
    (
        "no-rate-limit",
        "A bridged asset's route has no rate limit, so one forged message can mint or release without bound.",
        "Nomad, 2022-08-01: $190M drained by copy-pasted messages with no rate limit; Wormhole, 2022-02-02: 120,000 wETH minted at once",
    ),
    (
        "admin-without-timelock",
        "A layer's admin key can upgrade or reconfigure it with no timelock.",
        "Nomad, 2022-08-01: an upgrade initialised the trusted root to zero and went live at once",
    ),
];

/// One finding.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// Rule id.
    pub rule: &'static str,
    /// How bad.
    pub severity: Severity,
    /// The entity it is about.
    pub entity: String,
    /// What was found and why it matters.
    pub message: String,
    /// The historical incident it echoes.
    pub incident: &'static str,
}

/// The lint report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LintReport {
    /// Findings, most severe first, then by rule and entity.
    pub findings: Vec<Finding>,
}

impl LintReport {
    /// True when any finding is high or critical.
    pub fn has_high(&self) -> bool {
        self.findings.iter().any(|f| f.severity >= Severity::High)
    }
}

fn incident(rule: &str) -> &'static str {
    RULES.iter().find(|r| r.0 == rule).map_or("", |r| r.2)
}

/// Runs every rule over the model.
pub fn lint(model: &Model) -> LintReport {
    let mut findings = Vec::new();
    let mut push = |rule: &'static str, severity: Severity, entity: &str, message: String| {
        findings.push(Finding {
            rule,
            severity,
            entity: entity.to_owned(),
            message,
            incident: incident(rule),
        });
    };
    lint_assets(model, &mut push);
    lint_verifier_sets(model, &mut push);
    lint_multisig_keys(model, &mut push);
    lint_layer_admins(model, &mut push);
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.rule.cmp(b.rule))
            .then_with(|| a.entity.cmp(&b.entity))
    });
    LintReport { findings }
}

/// The id of key `k`.
fn key_id(model: &Model, k: usize) -> &str {
    model.components[model.keys[k].component as usize]
        .id
        .as_str()
}

/// Per asset: a single-key mint, a mint authority without a cap, a route without a rate limit.
fn lint_assets(model: &Model, push: &mut impl FnMut(&'static str, Severity, &str, String)) {
    let comp = |c: u32| &model.components[c as usize];
    let key_id = |k: usize| key_id(model, k);
    for a in &model.assets {
        if let Some(k) = a.mint_authority {
            let key = &model.keys[k];
            let single = key.kind.is_single() || key.threshold <= 1;
            if single {
                let how = if key.kind.is_single() {
                    format!(
                        "a single {} key{}",
                        key.kind.as_str(),
                        key.hosting
                            .map_or(String::new(), |h| format!(" held in {}", comp(h).id))
                    )
                } else {
                    format!("a 1-of-{} {}", key.signers.len(), key.kind.as_str())
                };
                push(
                    "single-key-mint",
                    Severity::Critical,
                    &a.id,
                    format!(
                        "`{}` ({}) can be minted by `{}`, {}: one compromised credential mints without limit of signers",
                        a.id,
                        crate::render::usd(a.value_usd),
                        key_id(k),
                        how
                    ),
                );
            }
            if a.mint_cap.is_none() {
                push(
                    "no-mint-cap",
                    if single {
                        Severity::High
                    } else {
                        Severity::Medium
                    },
                    &a.id,
                    format!(
                        "`{}` has no `mint_cap`: its mint authority `{}` can mint any amount in one window",
                        a.id,
                        key_id(k)
                    ),
                );
            }
        }
        if let Some(route) = a.route.as_ref().filter(|r| r.rate_limit.is_none()) {
            let layer = comp(model.layers[route.layer].component).id.as_str();
            push(
                "no-rate-limit",
                Severity::High,
                &a.id,
                format!(
                    "`{}` is bridged through `{layer}` with no rate limit: a forged or replayed message can mint or release without bound",
                    a.id
                ),
            );
        }
    }
}

/// Per verifier set: a weak threshold or too few organisations, and members that share a carrier.
fn lint_verifier_sets(model: &Model, push: &mut impl FnMut(&'static str, Severity, &str, String)) {
    let comp = |c: u32| &model.components[c as usize];
    let users = users(model);
    for (vi, v) in model.verifier_sets.iter().enumerate() {
        let id = comp(v.component).id.as_str();
        let orgs: BTreeSet<u32> = v.members.iter().map(|&m| model.operators[m].org).collect();
        let users = used_by(&users[vi]);
        if v.threshold <= 1 {
            push(
                "weak-verifier-set",
                Severity::Critical,
                id,
                format!(
                    "`{id}` is {}-of-{}: one operator can forge any message{}",
                    v.threshold,
                    v.members.len(),
                    users
                ),
            );
        } else if orgs.len() < 3 {
            push(
                "weak-verifier-set",
                Severity::High,
                id,
                format!(
                    "`{id}` has members from only {} organisation{}: fewer than 3 independent parties verify{}",
                    orgs.len(),
                    if orgs.len() == 1 { "" } else { "s" },
                    users
                ),
            );
        }
        correlated(model, id, "verifier set", &v.members, v.threshold, push);
    }
}

/// Per multisig or MPC key: signers that share a carrier.
fn lint_multisig_keys(model: &Model, push: &mut impl FnMut(&'static str, Severity, &str, String)) {
    let comp = |c: u32| &model.components[c as usize];
    for k in &model.keys {
        if !k.kind.is_single() {
            let id = comp(k.component).id.as_str();
            correlated(model, id, k.kind.as_str(), &k.signers, k.threshold, push);
        }
    }
}

/// Per layer: an admin key without a timelock.
fn lint_layer_admins(model: &Model, push: &mut impl FnMut(&'static str, Severity, &str, String)) {
    let comp = |c: u32| &model.components[c as usize];
    let key_id = |k: usize| key_id(model, k);
    for l in &model.layers {
        if let Some(admin) = l.admin {
            let key = &model.keys[admin];
            if key.timelock_s.unwrap_or(0) == 0 {
                let layer = comp(l.component).id.as_str();
                let sev = if key.kind.is_single() || key.threshold <= 1 {
                    Severity::High
                } else {
                    Severity::Medium
                };
                push(
                    "admin-without-timelock",
                    sev,
                    layer,
                    format!(
                        "`{layer}` can be upgraded or reconfigured by `{}` ({}) with no timelock: a bad or malicious change takes effect at once",
                        key_id(admin),
                        key.kind.as_str()
                    ),
                );
            }
        }
    }
}

/// Who uses each verifier set: the layers it is the default of, and how many routes name it.
fn users(model: &Model) -> Vec<(Vec<&str>, usize)> {
    let mut out: Vec<(Vec<&str>, usize)> = vec![(Vec::new(), 0); model.verifier_sets.len()];
    for l in &model.layers {
        out[l.verifier_set]
            .0
            .push(model.components[l.component as usize].id.as_str());
    }
    for a in &model.assets {
        if let Some(r) = &a.route {
            out[r.verifier_set].1 += 1;
        }
    }
    out
}

fn used_by((layers, routes): &(Vec<&str>, usize)) -> String {
    let routes = match routes {
        0 => String::new(),
        1 => "1 route uses it".to_owned(),
        n => format!("{n} routes use it"),
    };
    match (layers.is_empty(), routes.is_empty()) {
        (true, true) => String::new(),
        (false, true) => format!(" (default of {})", layers.join(", ")),
        (true, false) => format!(" ({routes})"),
        (false, false) => format!(" (default of {}; {routes})", layers.join(", ")),
    }
}

fn correlated(
    model: &Model,
    id: &str,
    what: &str,
    members: &[usize],
    threshold: u32,
    push: &mut impl FnMut(&'static str, Severity, &str, String),
) {
    for (c, n) in shared_carriers(model, members) {
        if n >= threshold as usize && n > 1 {
            let carrier = &model.components[c as usize];
            let noun = if carrier.kind == ComponentKind::Org {
                "organisation"
            } else {
                "hosting provider"
            };
            push(
                "correlated-verifiers",
                Severity::High,
                id,
                format!(
                    "{noun} `{}` carries {n} of the {} members of {what} `{id}` (threshold {threshold}): compromising it alone meets the threshold",
                    carrier.id,
                    members.len()
                ),
            );
        }
    }
}
