//! The rule engine: routes each normalised event to the rules that care about it, keeps the
//! shared world view (chain heads, token supplies, lockbox balances) and collects findings.

use std::sync::Arc;

use alloy::primitives::{Address, B256, U256, keccak256};
use serde::{Deserialize, Serialize};

use crate::alert::Alert;
use crate::event::{Event, EventKind, TokenIdx};
use crate::rules::RuleState;
use crate::spec::{AnomalyMetric, GuardSpec, RuleKind};

/// The engine's state, serialisable, keyed by config ids so that it survives a restart (and a
/// config edit that leaves a rule unchanged). Taken with the store's checkpoint, it lets a
/// restart replay only the events that follow it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Snapshot {
    /// (block, timestamp) of the latest head, per chain id.
    heads: Vec<(String, (u64, u64))>,
    /// Tracked supply per token id.
    supply: Vec<(String, Option<U256>)>,
    /// Tracked (token id, holder) balances.
    balances: Vec<(String, Address, Option<U256>)>,
    /// Per rule: id, fingerprint of its config, state.
    rules: Vec<(String, String, RuleState)>,
    /// Events applied.
    events: u64,
}

/// A destination event that was matched against a source event a reorg may remove.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matched {
    /// The message-match rule.
    pub rule: u16,
    /// The destination event's transaction.
    pub tx: B256,
    /// Its log index.
    pub log_index: u64,
}

/// A rule's config as a fingerprint: its state is restored only into the same config.
fn fingerprint(spec: &GuardSpec, r: usize) -> String {
    let text = format!(
        "{:?}|{:?}|{:?}",
        spec.rules.get(r).map(|x| &x.kind),
        spec.tokens,
        spec.bridges
    );
    alloy::primitives::hex::encode(&keccak256(text.as_bytes())[..12])
}

/// What every rule may read: the spec, each chain's latest ingested head, supplies, balances.
#[derive(Clone, Debug)]
pub(crate) struct World {
    pub(crate) spec: Arc<GuardSpec>,
    /// (block, timestamp) of the latest head per chain; (0, 0) before the first.
    pub(crate) heads: Vec<(u64, u64)>,
    /// Total supply per token, once observed.
    pub(crate) supply: Vec<Option<U256>>,
    /// Tracked (token, holder) balances, once observed.
    pub(crate) balances: Vec<(TokenIdx, Address, Option<U256>)>,
}

impl World {
    pub(crate) fn balance(&self, token: TokenIdx, holder: Address) -> Option<U256> {
        self.balances
            .iter()
            .find(|(t, h, _)| *t == token && *h == holder)
            .and_then(|x| x.2)
    }

    pub(crate) fn head_ts(&self, chain: u16) -> u64 {
        self.heads.get(usize::from(chain)).map_or(0, |h| h.1)
    }
}

/// The deterministic rule engine. Cheap to clone (for snapshots); feed it events in ingest order
/// with [`Engine::apply`].
#[derive(Clone, Debug)]
pub struct Engine {
    world: World,
    states: Vec<RuleState>,
    token_rules: Vec<Vec<u16>>,
    bridge_rules: Vec<Vec<u16>>,
    head_rules: Vec<Vec<u16>>,
    privileged_rules: Vec<Vec<u16>>,
    events: u64,
}

impl Engine {
    /// A fresh engine for a validated spec.
    pub fn new(spec: Arc<GuardSpec>) -> Self {
        let n_chains = spec.chains.len();
        let mut token_rules = vec![Vec::new(); spec.tokens.len()];
        let mut bridge_rules = vec![Vec::new(); spec.bridges.len()];
        let mut head_rules = vec![Vec::new(); n_chains];
        let mut privileged_rules = vec![Vec::new(); n_chains];
        let mut balances = Vec::new();
        let add = |v: &mut Vec<Vec<u16>>, i: u16, r: u16| {
            if let Some(list) = v.get_mut(usize::from(i))
                && !list.contains(&r)
            {
                list.push(r);
            }
        };
        for (r, rule) in spec.rules.iter().enumerate() {
            let Ok(r) = u16::try_from(r) else { break };
            match &rule.kind {
                RuleKind::MintRate { token, .. } => add(&mut token_rules, *token, r),
                RuleKind::OutflowRate { tokens, .. } => {
                    for t in tokens {
                        add(&mut token_rules, *t, r);
                    }
                }
                RuleKind::MessageMatch { bridge, .. } => {
                    add(&mut bridge_rules, *bridge, r);
                    if let Some(b) = spec.bridges.get(usize::from(*bridge)) {
                        add(&mut head_rules, b.source.chain, r);
                        add(&mut head_rules, b.destination.chain, r);
                    }
                }
                RuleKind::Backing {
                    token,
                    backing_token,
                    holder,
                    ..
                } => {
                    add(&mut token_rules, *token, r);
                    add(&mut token_rules, *backing_token, r);
                    for t in [*token, *backing_token] {
                        if let Some(spec_t) = spec.tokens.get(usize::from(t)) {
                            add(&mut head_rules, spec_t.chain, r);
                        }
                    }
                    if !balances
                        .iter()
                        .any(|(t, h, _)| t == backing_token && h == holder)
                    {
                        balances.push((*backing_token, *holder, None));
                    }
                }
                RuleKind::Privileged { chain, .. } => add(&mut privileged_rules, *chain, r),
                RuleKind::Anomaly { metric, .. } => match metric {
                    AnomalyMetric::Mint { token } => add(&mut token_rules, *token, r),
                    AnomalyMetric::Outflow { tokens, .. } => {
                        for t in tokens {
                            add(&mut token_rules, *t, r);
                        }
                    }
                },
            }
        }
        let states = spec.rules.iter().map(|r| RuleState::new(&r.kind)).collect();
        let world = World {
            heads: vec![(0, 0); n_chains],
            supply: vec![None; spec.tokens.len()],
            balances,
            spec,
        };
        Self {
            world,
            states,
            token_rules,
            bridge_rules,
            head_rules,
            privileged_rules,
            events: 0,
        }
    }

    /// The spec the engine runs.
    pub fn spec(&self) -> &Arc<GuardSpec> {
        &self.world.spec
    }

    /// Events applied so far.
    pub fn events_seen(&self) -> u64 {
        self.events
    }

    /// The latest ingested head (block, timestamp) of a chain.
    pub fn head(&self, chain: u16) -> (u64, u64) {
        self.world
            .heads
            .get(usize::from(chain))
            .copied()
            .unwrap_or((0, 0))
    }

    /// Total supply of a token as tracked (observed, plus mints, minus burns).
    pub fn supply(&self, token: TokenIdx) -> Option<U256> {
        self.world.supply.get(usize::from(token)).copied().flatten()
    }

    /// (token, holder) pairs whose balance backing rules need observed at start.
    pub fn tracked_balances(&self) -> Vec<(TokenIdx, Address)> {
        self.world
            .balances
            .iter()
            .map(|(t, h, _)| (*t, *h))
            .collect()
    }

    /// Tokens whose supply some rule needs observed at start.
    pub fn tracked_supplies(&self) -> Vec<TokenIdx> {
        let mut out = Vec::new();
        for r in &self.world.spec.rules {
            match &r.kind {
                RuleKind::MintRate {
                    token,
                    max_share_ppm: Some(_),
                    ..
                } => out.push(*token),
                RuleKind::Backing { token, .. } => out.push(*token),
                _ => {}
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// The engine's state, to persist with the checkpoint.
    pub fn snapshot(&self) -> Snapshot {
        let spec = &self.world.spec;
        Snapshot {
            heads: spec
                .chains
                .iter()
                .zip(&self.world.heads)
                .map(|(c, h)| (c.id.clone(), *h))
                .collect(),
            supply: spec
                .tokens
                .iter()
                .zip(&self.world.supply)
                .map(|(t, s)| (t.id.clone(), *s))
                .collect(),
            balances: self
                .world
                .balances
                .iter()
                .filter_map(|(t, h, v)| {
                    spec.tokens
                        .get(usize::from(*t))
                        .map(|tok| (tok.id.clone(), *h, *v))
                })
                .collect(),
            rules: spec
                .rules
                .iter()
                .zip(&self.states)
                .enumerate()
                .map(|(i, (r, s))| (r.id.clone(), fingerprint(spec, i), s.clone()))
                .collect(),
            events: self.events,
        }
    }

    /// An engine for `spec` in the state of `snap`. A rule whose config changed since the
    /// snapshot (or that is new) starts fresh; its id is returned so the caller can say so.
    pub fn restore(spec: Arc<GuardSpec>, snap: Snapshot) -> (Self, Vec<String>) {
        let mut e = Self::new(spec.clone());
        for (id, h) in snap.heads {
            if let Some(i) = spec.chain_idx(&id)
                && let Some(slot) = e.world.heads.get_mut(usize::from(i))
            {
                *slot = h;
            }
        }
        for (id, v) in snap.supply {
            if let Some(i) = spec.token_idx(&id)
                && let Some(slot) = e.world.supply.get_mut(usize::from(i))
            {
                *slot = v;
            }
        }
        for (id, holder, v) in snap.balances {
            if let Some(t) = spec.token_idx(&id) {
                for b in e.world.balances.iter_mut() {
                    if b.0 == t && b.1 == holder {
                        b.2 = v;
                    }
                }
            }
        }
        let mut fresh = Vec::new();
        let mut saved: std::collections::HashMap<String, (String, RuleState)> = snap
            .rules
            .into_iter()
            .map(|(id, f, s)| (id, (f, s)))
            .collect();
        for (i, r) in spec.rules.iter().enumerate() {
            match saved.remove(&r.id) {
                Some((f, s)) if f == fingerprint(&spec, i) => {
                    if let Some(slot) = e.states.get_mut(i) {
                        *slot = s;
                    }
                }
                _ => fresh.push(r.id.clone()),
            }
        }
        e.events = snap.events;
        (e, fresh)
    }

    /// Destination events matched against a source event on `chain` after block `fork`: the
    /// ones a reorg of `chain` back to `fork` leaves without their source.
    pub fn matched_after(&self, chain: u16, fork: u64) -> Vec<Matched> {
        let mut out = Vec::new();
        for (r, (rule, state)) in self.world.spec.rules.iter().zip(&self.states).enumerate() {
            let (RuleKind::MessageMatch { bridge, .. }, RuleState::MessageMatch(s)) =
                (&rule.kind, state)
            else {
                continue;
            };
            if self
                .world
                .spec
                .bridges
                .get(usize::from(*bridge))
                .is_none_or(|b| b.source.chain != chain)
            {
                continue;
            }
            let Ok(rule) = u16::try_from(r) else { continue };
            out.extend(
                s.matched_after(fork)
                    .into_iter()
                    .map(|(tx, log_index)| Matched {
                        rule,
                        tx,
                        log_index,
                    }),
            );
        }
        out
    }

    /// Marks destination events to be judged again when they are next applied (after a
    /// reorg removed their source): a release still without its source is a `source-reorged`
    /// trip.
    pub fn rejudge(&mut self, matched: &[Matched]) {
        for m in matched {
            if let Some(RuleState::MessageMatch(s)) = self.states.get_mut(usize::from(m.rule)) {
                s.rejudge(&[(m.tx, m.log_index)]);
            }
        }
    }

    /// Source records the message-match rules hold (bounded by their timeouts).
    pub fn sources_held(&self) -> usize {
        self.states
            .iter()
            .map(|s| match s {
                RuleState::MessageMatch(m) => m.sources_held(),
                _ => 0,
            })
            .sum()
    }

    /// Applies one event; findings are appended to `out`.
    pub fn apply(&mut self, ev: &Event, out: &mut Vec<Alert>) {
        self.events += 1;
        let w = &mut self.world;
        match ev.kind {
            EventKind::Head => {
                if let Some(h) = w.heads.get_mut(usize::from(ev.chain)) {
                    *h = (ev.block, ev.timestamp);
                }
                if let Some(rules) = self.head_rules.get(usize::from(ev.chain)) {
                    for &r in rules {
                        if let Some(s) = self.states.get_mut(usize::from(r)) {
                            s.on_head(&self.world, r, ev, out);
                        }
                    }
                }
                return;
            }
            EventKind::Mint {
                token, to, amount, ..
            } => move_units(w, token, None, Some(to), amount),
            EventKind::Burn {
                token,
                from,
                amount,
            } => move_units(w, token, Some(from), None, amount),
            EventKind::Transfer {
                token,
                from,
                to,
                amount,
            } => move_units(w, token, Some(from), Some(to), amount),
            EventKind::SupplyObserved { token, supply } => {
                if let Some(s) = w.supply.get_mut(usize::from(token)) {
                    *s = Some(supply);
                }
            }
            EventKind::BalanceObserved {
                token,
                holder,
                balance,
            } => {
                for b in w.balances.iter_mut() {
                    if b.0 == token && b.1 == holder {
                        b.2 = Some(balance);
                    }
                }
            }
            EventKind::Bridge { bridge, .. } => {
                if let Some(rules) = self.bridge_rules.get(usize::from(bridge)) {
                    for &r in rules {
                        if let Some(s) = self.states.get_mut(usize::from(r)) {
                            s.on_event(&self.world, r, ev, out);
                        }
                    }
                }
                return;
            }
            EventKind::Privileged { .. } => {
                if let Some(rules) = self.privileged_rules.get(usize::from(ev.chain)) {
                    for &r in rules {
                        if let Some(s) = self.states.get_mut(usize::from(r)) {
                            s.on_event(&self.world, r, ev, out);
                        }
                    }
                }
                return;
            }
        }
        let token = match ev.kind {
            EventKind::Mint { token, .. }
            | EventKind::Burn { token, .. }
            | EventKind::Transfer { token, .. }
            | EventKind::SupplyObserved { token, .. }
            | EventKind::BalanceObserved { token, .. } => token,
            _ => return,
        };
        if let Some(rules) = self.token_rules.get(usize::from(token)) {
            for &r in rules {
                if let Some(s) = self.states.get_mut(usize::from(r)) {
                    s.on_event(&self.world, r, ev, out);
                }
            }
        }
    }
}

/// Moves `amount` of `token` from `from` to `to` in the tracked balances (the sender debited
/// first); a mint (no `from`) raises the observed supply, a burn (no `to`) lowers it.
fn move_units(
    w: &mut World,
    token: TokenIdx,
    from: Option<Address>,
    to: Option<Address>,
    amount: U256,
) {
    let supply = w.supply.get_mut(usize::from(token));
    if let Some(Some(s)) = supply {
        match (from, to) {
            (None, Some(_)) => *s = s.saturating_add(amount),
            (Some(_), None) => *s = s.saturating_sub(amount),
            _ => {}
        }
    }
    for b in w.balances.iter_mut().filter(|b| b.0 == token) {
        if let Some(x) = &mut b.2 {
            if Some(b.1) == from {
                *x = x.saturating_sub(amount);
            }
            if Some(b.1) == to {
                *x = x.saturating_add(amount);
            }
        }
    }
}
