//! The mapping from parsed L2BEAT projects to a [`Spec`]: pure, deterministic (every map is
//! ordered), every entity's `source` naming the file, the JSON path and the L2BEAT address it
//! comes from.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use ringfence_model::spec::{self, AssetKind, KeyKind, Ref, Route, Spec, r};

use super::discovered::{Addr, Entry, Gate, Kind, Project};
use crate::chains::{self, address_id, slug};
use crate::{MissingValues, Prices};

/// Figures an L2BEAT import gives (the README gives the shipped snapshot's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// Projects (files) read.
    pub projects: usize,
    /// Entries read, in all files.
    pub entries: usize,
    /// Distinct addresses among them (the same contract in two projects counts once).
    pub addresses: usize,
    /// Multisig keys.
    pub multisigs: usize,
    /// EOA keys (EOAs holding an upgrade, act or interact permission, or flagged by L2BEAT).
    pub eoa_keys: usize,
    /// Of those, EOAs that can upgrade a contract.
    pub eoa_upgraders: usize,
    /// Verifier sets (validator/guardian/operator sets, DVNs, ULN configurations).
    pub verifier_sets: usize,
    /// Operators (signers, validators, DVNs).
    pub operators: usize,
    /// Layers (one per project that shows a verifier set).
    pub layers: usize,
    /// Projects without a verifier set in their discovery file (no layer).
    pub projects_without_verifier_set: usize,
    /// Escrows mapped to assets.
    pub assets: usize,
    /// Of those, with a supply read from the discovery (`poolBalance`).
    pub assets_with_supply: usize,
}

/// A mapped set of projects.
#[derive(Clone, Debug)]
pub struct Mapped {
    /// The spec (not yet validated).
    pub spec: Spec,
    /// What the data gives.
    pub figures: Figures,
    /// Warnings and skipped entries.
    pub notes: Vec<String>,
    /// Missing prices and supplies.
    pub missing: MissingValues,
}

fn num(x: f64) -> toml::Spanned<f64> {
    toml::Spanned::new(0..0, x)
}

fn date(ts: u64) -> String {
    civil(ts / 86_400)
}

/// The civil date (YYYY-MM-DD) of a day count since 1970-01-01 (proleptic Gregorian; Howard
/// Hinnant's algorithm).
pub(crate) fn civil(days: u64) -> String {
    let days = i64::try_from(days).unwrap_or(0);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    format!("{:04}-{m:02}-{d:02}", if m <= 2 { y + 1 } else { y })
}

/// The id of the operator for a signer or validator address.
pub fn signer_id(a: &Addr) -> String {
    address_id("signer", &a.chain, &a.address)
}

/// The layer id of a project: its name, or `<name>-bridge` when the name is also a chain's
/// (`ronin`), since ids are unique across kinds.
pub fn layer_id(project: &str) -> String {
    let s = slug(project);
    if chains::resolve(&s).is_some() {
        format!("{s}-bridge")
    } else {
        s
    }
}

struct Ctx<'a> {
    projects: &'a [Project],
    /// Every address's entry: the one from the newest discovery when several projects reach it.
    by_addr: BTreeMap<&'a Addr, (&'a Project, &'a Entry)>,
    spec: Spec,
    notes: Vec<String>,
    operators: BTreeSet<String>,
    keys: BTreeMap<Addr, Option<String>>,
    sets: BTreeMap<Addr, String>,
    figures: Figures,
}

impl<'a> Ctx<'a> {
    fn cite(&self, p: &Project, e: &Entry, field: Option<&str>) -> String {
        format!(
            "L2BEAT {} {} ({}, {}, discovery {})",
            p.file.display(),
            field.map_or_else(|| e.path(), str::to_owned),
            e.label(),
            e.written,
            date(p.timestamp)
        )
    }

    fn operator(&mut self, a: &Addr, role: &str) -> Ref {
        let id = signer_id(a);
        if self.operators.insert(id.clone()) {
            let what = match self.by_addr.get(a) {
                Some((p, e)) => format!(
                    "{} in L2BEAT {} {}",
                    match e.kind {
                        Kind::Eoa => "an EOA",
                        Kind::Contract => "a contract (its own signers are not followed)",
                    },
                    p.file.display(),
                    e.path()
                ),
                None => "an address the discovery lists but does not describe".to_owned(),
            };
            self.spec.operators.push(spec::Operator {
                id: r(id.clone()),
                org: r(format!("unknown-org:{}", a.address)),
                hosting: r(format!("unknown-hosting:{}", a.address)),
                failure_probability: None,
                source: Some(format!(
                    "{role} {a}: {what}. L2BEAT does not say who holds it nor where: organisation and hosting are \
                     placeholders of its own (no correlation with other signers is implied, which understates it if \
                     several belong to one party)."
                )),
            });
        }
        r(id)
    }

    /// The key for an address that holds a power: a multisig key for a contract with signers,
    /// an eoa key for an EOA; `None` for a contract without signers (a timelock, a governor).
    fn key(&mut self, a: &Addr) -> Option<String> {
        if let Some(k) = self.keys.get(a) {
            return k.clone();
        }
        let (p, e) = *self.by_addr.get(a)?;
        let id = address_id(&slug(e.label()), &a.chain, &a.address);
        let key = match (e.kind, &e.multisig) {
            (Kind::Eoa, _) => {
                let upgrades = e.received.iter().filter(|x| x.kind == "upgrade").count();
                if upgrades > 0 || e.eoa_with_upgrade {
                    self.figures.eoa_upgraders += 1;
                }
                self.figures.eoa_keys += 1;
                Some(spec::Key {
                    id: r(id.clone()),
                    kind: KeyKind::Eoa,
                    hosting: None,
                    threshold: None,
                    signers: Vec::new(),
                    timelock_s: timelock(e),
                    failure_probability: None,
                    source: Some(format!(
                        "{}: an EOA (one private key){}. {}",
                        self.cite(p, e, None),
                        if upgrades > 0 {
                            format!(
                                " that can upgrade {upgrades} contract(s) (receivedPermissions)"
                            )
                        } else {
                            String::new()
                        },
                        powers(e)
                    )),
                })
            }
            (Kind::Contract, Some(g)) => {
                self.figures.multisigs += 1;
                let signers: Vec<Ref> = g
                    .members
                    .iter()
                    .map(|m| self.operator(m, "multisig signer"))
                    .collect();
                Some(spec::Key {
                    id: r(id.clone()),
                    kind: KeyKind::Multisig,
                    hosting: None,
                    threshold: Some(g.threshold),
                    signers,
                    timelock_s: timelock(e),
                    failure_probability: None,
                    source: Some(format!(
                        "{}: {} of {} signers ({}). {}",
                        self.cite(p, e, Some(&g.field)),
                        g.threshold,
                        g.members.len(),
                        g.what,
                        powers(e)
                    )),
                })
            }
            (Kind::Contract, None) => None,
        };
        let out = key.map(|k| {
            self.spec.keys.push(k);
            id
        });
        self.keys.insert(a.clone(), out.clone());
        out
    }

    /// The key behind a holder: itself if it is a key, else (a contract without signers: a
    /// ProxyAdmin, an upgrade beacon controller, a timelock) the key behind its `owner`, up to
    /// four hops. Returns the key and the contracts passed through.
    fn key_behind(&mut self, a: &Addr) -> Option<(String, Vec<Addr>)> {
        let mut path = Vec::new();
        let mut at = a.clone();
        for _ in 0..5 {
            if let Some(k) = self.key(&at) {
                return Some((k, path));
            }
            let (_, e) = *self.by_addr.get(&at)?;
            let next = e.owner.clone().filter(|o| !o.is_zero() && *o != at)?;
            path.push(at);
            at = next;
        }
        None
    }

    fn verifier_set(&mut self, a: &Addr) -> Option<String> {
        if let Some(s) = self.sets.get(a) {
            return Some(s.clone());
        }
        let (p, e) = *self.by_addr.get(a)?;
        let id = address_id(&slug(e.label()), &a.chain, &a.address);
        let (members, threshold, source) = if let Some(g) = &e.verifier {
            let m: Vec<Ref> = g
                .members
                .iter()
                .map(|m| self.operator(m, "verifier"))
                .collect();
            (
                m,
                g.threshold,
                format!(
                    "{}: {} of {} ({})",
                    self.cite(p, e, Some(&g.field)),
                    g.threshold,
                    g.members.len(),
                    g.what
                ),
            )
        } else if let Some(d) = &e.dvn {
            let listed = d.signers.len() == d.signer_size as usize;
            let m: Vec<Ref> = if listed {
                d.signers
                    .iter()
                    .map(|s| self.operator(s, "DVN signer"))
                    .collect()
            } else {
                (1..=d.signer_size)
                    .map(|i| {
                        let id = format!("{}/signer-{i}", address_id(&slug(e.label()), &a.chain, &a.address));
                        if self.operators.insert(id.clone()) {
                            self.spec.operators.push(spec::Operator {
                                id: r(id.clone()),
                                org: r(e.label().to_owned()),
                                hosting: r(format!("unknown-hosting:{id}")),
                                failure_probability: None,
                                source: Some(format!(
                                    "{}: signer {i} of {} — the discovery gives the DVN's signer count, not its signers; \
                                     organisation = the DVN's operator as L2BEAT names it.",
                                    self.cite(p, e, Some(&d.field)),
                                    d.signer_size
                                )),
                            });
                        }
                        r(id)
                    })
                    .collect()
            };
            (
                m,
                d.quorum,
                format!(
                    "{}: DVN quorum {} of {} signers{}",
                    self.cite(p, e, Some(&d.field)),
                    d.quorum,
                    d.signer_size,
                    if listed { "" } else { " (signers not listed)" }
                ),
            )
        } else if let Some(u) = &e.uln {
            let m: Vec<Ref> = u
                .required
                .iter()
                .chain(&u.optional)
                .map(|d| self.dvn_operator(d))
                .collect();
            let k = u32::try_from(u.required.len())
                .unwrap_or(u32::MAX)
                .saturating_add(u.optional_threshold);
            (
                m,
                k,
                format!(
                    "{}: every one of {} required DVN(s) and {} of {} optional must verify ({} confirmations); each DVN is one operator here, its own quorum is its verifier set",
                    self.cite(p, e, Some(&u.field)),
                    u.required.len(),
                    u.optional_threshold,
                    u.optional.len(),
                    u.confirmations
                ),
            )
        } else {
            return None;
        };
        if threshold == 0 || threshold as usize > members.len() {
            self.notes.push(format!(
                "{} {}: threshold {threshold} of {} members cannot be a verifier set; skipped",
                p.file.display(),
                e.path(),
                members.len()
            ));
            return None;
        }
        self.figures.verifier_sets += 1;
        self.spec.verifier_sets.push(spec::VerifierSet {
            id: r(id.clone()),
            threshold,
            members,
            source: Some(format!("{source}.")),
        });
        self.sets.insert(a.clone(), id.clone());
        Some(id)
    }

    fn dvn_operator(&mut self, d: &Addr) -> Ref {
        let (label, cite) = match self.by_addr.get(d) {
            Some((p, e)) => (
                e.label().to_owned(),
                format!(
                    "{}{}",
                    self.cite(p, e, None),
                    e.dvn
                        .as_ref()
                        .map(|q| format!(": quorum {} of {} signers", q.quorum, q.signer_size))
                        .unwrap_or_default()
                ),
            ),
            None => (
                "dvn".to_owned(),
                "a DVN the discovery lists but does not describe".to_owned(),
            ),
        };
        let id = address_id(&format!("{}-operator", slug(&label)), &d.chain, &d.address);
        if self.operators.insert(id.clone()) {
            self.spec.operators.push(spec::Operator {
                id: r(id.clone()),
                org: r(label.clone()),
                hosting: r(format!("unknown-hosting:{}", d.address)),
                failure_probability: None,
                source: Some(format!(
                    "The DVN {d} as one verifier of a LayerZero ULN configuration: {cite}. Organisation = its name in L2BEAT; hosting not published."
                )),
            });
        }
        r(id)
    }
}

fn timelock(e: &Entry) -> Option<u64> {
    let ups: Vec<u64> = e
        .received
        .iter()
        .filter(|p| p.kind == "upgrade")
        .map(|p| p.delay_s)
        .collect();
    (!ups.is_empty() && ups.iter().all(|d| *d > 0)).then(|| ups.iter().copied().min().unwrap_or(0))
}

fn powers(e: &Entry) -> String {
    if e.received.is_empty() {
        return "L2BEAT lists no permission it holds.".to_owned();
    }
    let mut by: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &e.received {
        *by.entry(p.kind.as_str()).or_default() += 1;
    }
    let delays: BTreeSet<u64> = e.received.iter().map(|p| p.delay_s).collect();
    format!(
        "Permissions (receivedPermissions): {}; delay on them: {}.",
        by.iter()
            .map(|(k, n)| format!("{k} ×{n}"))
            .collect::<Vec<_>>()
            .join(", "),
        if delays.iter().all(|d| *d == 0) {
            "none".to_owned()
        } else {
            delays
                .iter()
                .map(|d| format!("{d} s"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    )
}

/// Symbol of an escrowed token: the prices file's `[token]` table, the chain's native coin, the
/// description ("Escrow for USDC …"), or a Stargate pool's name.
fn symbol(e: &Entry, prices: &Prices) -> Option<(String, Option<u32>, String)> {
    if let Some(t) = &e.token {
        if t.is_zero() {
            return Some((
                "ETH".to_owned(),
                Some(18),
                "native coin (token address 0x0; ETH on the chains this snapshot covers)"
                    .to_owned(),
            ));
        }
        if let Some(tok) = prices.token(&t.chain, &t.address) {
            return Some((
                tok.symbol.clone(),
                Some(tok.decimals),
                format!(
                    "token {t}: {} ({} decimals) per {}",
                    tok.symbol, tok.decimals, tok.source
                ),
            ));
        }
    }
    let d = e.description.as_deref()?;
    let sym = d
        .strip_prefix("Escrow for ")?
        .split_whitespace()
        .next()
        .filter(|s| !s.is_empty())?;
    Some((
        sym.to_owned(),
        None,
        format!("symbol from L2BEAT's description {d:?}"),
    ))
}

fn is_escrow(e: &Entry) -> bool {
    e.description
        .as_deref()
        .is_some_and(|d| d.starts_with("Escrow for "))
        || e.template
            .as_deref()
            .is_some_and(|t| t.starts_with("stargate/StargatePool") || t.ends_with("/OFTAdapter"))
}

/// Maps projects; `prices` names tokens and fills prices where known. Steps: index every
/// address once, every key and verifier set, one layer per project with its escrows as assets,
/// then the chains.
pub fn map(projects: &[Project], prices: &Prices) -> Mapped {
    let mut notes = Vec::new();
    let (by_addr, entries, duplicates) = index_entries(projects, &mut notes);
    if duplicates > 0 {
        notes.push(format!(
            "{duplicates} entries describe an address another project's file also reaches; each address is mapped once, from the newest discovery"
        ));
    }
    let mut cx = Ctx {
        projects,
        by_addr,
        spec: Spec::default(),
        notes,
        operators: BTreeSet::new(),
        keys: BTreeMap::new(),
        sets: BTreeMap::new(),
        figures: Figures {
            projects: projects.len(),
            entries,
            ..Figures::default()
        },
    };
    cx.figures.addresses = cx.by_addr.len();
    cx.keys_and_sets();

    let mut values = Values::default();
    for p in cx.projects {
        let Some((layer, admin)) = cx.layer(p) else {
            continue;
        };
        for e in p.entries.iter().filter(|e| is_escrow(e)) {
            if cx.by_addr.get(&e.at).is_some_and(|(q, _)| q.name != p.name) {
                continue; // mapped from the newer project that also reaches it
            }
            if let Some(asset) = cx.escrow_asset(p, e, &layer, admin.as_ref(), prices, &mut values)
            {
                cx.spec.assets.push(asset);
            }
        }
    }
    let mut missing = values.missing;
    missing.symbols_without_price = values.symbols_without_price.into_iter().collect();
    cx.chains();
    cx.figures.operators = cx.spec.operators.len();
    Mapped {
        spec: cx.spec,
        figures: cx.figures,
        notes: cx.notes,
        missing,
    }
}

/// Missing values gathered over the escrows.
#[derive(Default)]
struct Values {
    missing: MissingValues,
    symbols_without_price: BTreeSet<String>,
}

/// Every address's entry, the newest discovery's when several projects reach it; the number of
/// entries, and of those that repeat an address.
fn index_entries<'a>(
    projects: &'a [Project],
    notes: &mut Vec<String>,
) -> (BTreeMap<&'a Addr, (&'a Project, &'a Entry)>, usize, usize) {
    let mut by_addr: BTreeMap<&Addr, (&Project, &Entry)> = BTreeMap::new();
    let mut entries = 0;
    let mut duplicates = 0;
    for p in projects {
        notes.extend(p.notes.iter().cloned());
        for e in &p.entries {
            entries += 1;
            match by_addr.get(&e.at) {
                Some((q, _)) => {
                    duplicates += 1;
                    if p.timestamp > q.timestamp {
                        by_addr.insert(&e.at, (p, e));
                    }
                }
                None => {
                    by_addr.insert(&e.at, (p, e));
                }
            }
        }
    }
    (by_addr, entries, duplicates)
}

impl Ctx<'_> {
    /// Every key and verifier set the discovery shows, in address order.
    fn keys_and_sets(&mut self) {
        let addrs: Vec<Addr> = self.by_addr.keys().map(|a| (*a).clone()).collect();
        for a in &addrs {
            let Some((_, e)) = self.by_addr.get(a).copied() else {
                continue;
            };
            let holds = e
                .received
                .iter()
                .any(|p| matches!(p.kind.as_str(), "upgrade" | "act"));
            if e.multisig.is_some() || (e.kind == Kind::Eoa && (holds || e.eoa_with_upgrade)) {
                self.key(a);
            }
            if e.verifier.is_some() || e.dvn.is_some() || e.uln.is_some() {
                self.verifier_set(a);
            }
        }
    }

    /// The layer of a project that shows a verifier set: its id and admin key. The verifier
    /// set is a ULN configuration (the receive side first), else the largest
    /// validator/guardian/operator set in the file.
    fn layer(&mut self, p: &Project) -> Option<(String, Option<String>)> {
        let cx = self;
        let layer = layer_id(&p.name);
        let uln = p
            .entries
            .iter()
            .filter(|e| e.uln.is_some())
            .max_by_key(|e| (e.label().contains("Receive"), std::cmp::Reverse(e.index)));
        let gate = p
            .entries
            .iter()
            .filter(|e| e.verifier.is_some())
            .max_by_key(|e| {
                (
                    e.verifier.as_ref().map_or(0, |g: &Gate| g.members.len()),
                    std::cmp::Reverse(e.index),
                )
            });
        let Some(vs_entry) = uln.or(gate) else {
            cx.figures.projects_without_verifier_set += 1;
            cx.notes.push(format!(
                "{}: no verifier set (validators, guardians, DVNs, oracles, updater) in this discovery file, so `{}` is not mapped as a layer and its escrows get no route; its keys are imported",
                p.file.display(),
                p.name
            ));
            return None;
        };
        let vs = cx.verifier_set(&vs_entry.at)?;
        let chosen = cx.layer_admin(p, vs_entry);
        let admin = chosen.as_ref().and_then(|(a, _)| cx.key_behind(a));
        let mut s = format!(
            "L2BEAT {} ({}, discovery {}, {} entries). Default verifier set: {vs} ({} {}).",
            p.file.display(),
            p.name,
            date(p.timestamp),
            p.entries.len(),
            vs_entry.label(),
            vs_entry.path()
        );
        match (&chosen, &admin) {
            (Some((a, why)), Some((k, via))) => {
                let _ = write!(s, " Admin: {k}: {why} (receivedPermissions of {a}");
                if !via.is_empty() {
                    let _ = write!(s, ", followed through `owner` of {}", via.iter().map(ToString::to_string).collect::<Vec<_>>().join(" → "));
                }
                s.push_str(").");
            }
            (Some((a, why)), None) => {
                let _ = write!(s, " {a}: {why}, but it is a contract whose signers the discovery does not show: no admin key is set.");
            }
            (None, _) => s.push_str(" No upgrade or owner permission over its verifier set or contracts is listed: no admin key."),
        }
        let admin = admin.map(|(k, _)| k);
        s.push_str(" No failure probability is published.");
        cx.figures.layers += 1;
        cx.spec.layers.push(spec::Layer {
            id: r(layer.clone()),
            verifier_set: r(vs.clone()),
            admin: admin.clone().map(r),
            failure_probability: None,
            source: Some(s),
        });

        Some((layer, admin))
    }

    /// The layer admin: whoever can upgrade the verifier-set contract, else its owner (who can
    /// reconfigure verification), else the holder of most upgrade permissions over the
    /// project's contracts (a holder without signers is followed through its `owner` later).
    /// The holder and why it was chosen.
    fn layer_admin(&self, p: &Project, vs_entry: &Entry) -> Option<(Addr, String)> {
        let cx = self;
        let own: BTreeSet<&Addr> = p.entries.iter().map(|e| &e.at).collect();
        let mut upgraders: BTreeMap<Addr, usize> = BTreeMap::new();
        let mut over_set: Option<(Addr, String)> = None;
        for q in cx.projects {
            for e in &q.entries {
                for perm in &e.received {
                    if perm.kind == "upgrade" && own.contains(&perm.from) {
                        *upgraders.entry(e.at.clone()).or_default() += 1;
                    }
                    if perm.from == vs_entry.at
                        && perm.at_is_admin()
                        && over_set.as_ref().is_none_or(|(_, k)| k != "upgrade")
                    {
                        over_set = Some((e.at.clone(), perm.kind.clone()));
                    }
                }
            }
        }
        over_set
            .map(|(a, k)| {
                let why = if k == "upgrade" {
                    format!("it can upgrade the verifier-set contract {}", vs_entry.at)
                } else {
                    format!("it owns the verifier-set contract {} (can reconfigure verification)", vs_entry.at)
                };
                (a, why)
            })
            .or_else(|| {
                upgraders
                    .iter()
                    .max_by_key(|(a, n)| (**n, std::cmp::Reverse((*a).clone())))
                    .map(|(a, n)| (a.clone(), format!("it holds the most upgrade permissions ({n}) over this project's contracts")))
            })
    }

    /// The asset of one escrow: its token, the key that can release what it holds, its
    /// verifier set when it has its own, and where its supply and price come from.
    fn escrow_asset(
        &mut self,
        p: &Project,
        e: &Entry,
        layer: &str,
        admin: Option<&String>,
        prices: &Prices,
        values: &mut Values,
    ) -> Option<spec::Asset> {
        let cx = self;
        let Some((sym, decimals, sym_src)) = symbol(e, prices) else {
            cx.notes.push(format!(
                "{} {}: escrow {} holds a token ringfence cannot name ({}); skipped — name it in the prices file's [token] table",
                p.file.display(),
                e.path(),
                e.written,
                e.token.as_ref().map_or_else(|| "no token field".to_owned(), ToString::to_string)
            ));
            return None;
        };
        let id = address_id(&sym, &e.at.chain, &e.at.address);
        let (upgrader, by_owner) = cx.escrow_upgrader(e);
        let escrow_admin = upgrader
            .as_ref()
            .and_then(|u| cx.key_behind(u))
            .map(|(k, _)| k);
        // The layer admin already counts for every route; only a different key is a
        // dependency of its own.
        let mint_authority = escrow_admin.clone().filter(|k| Some(k) != admin);
        let ism = e
            .ism
            .as_ref()
            .filter(|i| !i.is_zero())
            .and_then(|i| cx.verifier_set(i));
        let mut src = format!(
            "{}: escrow of {sym} ({sym_src}), locked on {} and released by `{layer}` messages",
            cx.cite(p, e, None),
            e.at.chain
        );
        describe_escrow_ism(&mut src, e.ism.as_ref(), ism.is_some());
        describe_escrow_admin(
            &mut src,
            e,
            upgrader.as_ref(),
            escrow_admin.as_ref(),
            mint_authority.is_none(),
            by_owner,
        );
        let supply = cx.escrow_supply(e, (&sym, decimals, &id), prices, &mut src);
        let price = escrow_price(&sym, supply.is_some(), prices, values, &mut src);
        cx.figures.assets += 1;
        src.push('.');
        Some(spec::Asset {
            id: r(id),
            chain: r(e.at.chain.clone()),
            kind: if sym == "ETH" {
                AssetKind::Native
            } else {
                AssetKind::Canonical
            },
            price_usd: num(price.unwrap_or(0.0)),
            supply: num(supply.unwrap_or(0.0)),
            backing: Vec::new(),
            mint_authority: mint_authority.map(r),
            mint_cap: None,
            route: Some(Route {
                layer: r(layer),
                verifier_set: ism.map(r),
                source: None,
                rate_limit: None,
            }),
            depth_usd: None,
            source: Some(src),
        })
    }

    /// Who can release what an escrow holds: the lowest address with an upgrade permission
    /// over it, else (for an OFT adapter) its owner; and whether it is that owner.
    fn escrow_upgrader(&self, e: &Entry) -> (Option<Addr>, bool) {
        let upgrader = self
            .projects
            .iter()
            .flat_map(|q| &q.entries)
            .filter(|h| {
                h.received
                    .iter()
                    .any(|x| x.kind == "upgrade" && x.from == e.at)
            })
            .map(|h| h.at.clone())
            .min();
        // An OFT adapter's owner sets its peers and security (DVN) settings: for the route
        // it is an admin as strong as an upgrade key (KelpDAO 2026 was a 1-of-1 DVN setting).
        let oft_owner = e
            .template
            .as_deref()
            .is_some_and(|t| t.ends_with("/OFTAdapter"))
            .then(|| e.owner.clone())
            .flatten();
        let by_owner = upgrader.is_none() && oft_owner.is_some();
        (upgrader.or(oft_owner), by_owner)
    }

    /// An escrow's supply: its pool balance read on chain when its decimals are known, else
    /// the prices file's figure for `id`; `token` is (symbol, decimals, asset id).
    fn escrow_supply(
        &mut self,
        e: &Entry,
        token: (&str, Option<u32>, &str),
        prices: &Prices,
        src: &mut String,
    ) -> Option<f64> {
        let (sym, decimals, id) = token;
        match (e.pool_balance, decimals) {
            (Some(b), Some(d)) => {
                let s = b / 10f64.powi(i32::try_from(d).unwrap_or(0));
                let _ = write!(
                    src,
                    ". Supply = poolBalance {b:e} / 10^{d} = {s:.2} {sym}, read on chain at the discovery"
                );
                self.figures.assets_with_supply += 1;
                Some(s)
            }
            (Some(_), None) => {
                src.push_str(". poolBalance is read but the token's decimals are not known (add it to the prices file's [token] table)");
                None
            }
            _ => prices.supply.get(id).copied(),
        }
    }

    /// Every chain an entity lives on.
    fn chains(&mut self) {
        let mut seen: BTreeSet<String> = self.by_addr.keys().map(|a| a.chain.clone()).collect();
        seen.extend(self.spec.assets.iter().map(|a| a.chain.get_ref().clone()));
        for c in seen {
            let id = chains::resolve(&c).and_then(|x| x.chain_id);
            self.spec.chains.push(spec::Chain {
                id: r(c.clone()),
                chain_id: id,
                block_time_s: None,
                source: Some(
                    "A chain the L2BEAT discovery files read (their address prefix); chain id from the Hyperlane registry (data/hyperlane-registry/chains.json).".to_owned()
                ),
            });
        }
    }
}

/// Describes an escrow's own interchainSecurityModule (`described`: the discovery knows it).
fn describe_escrow_ism(src: &mut String, ism: Option<&Addr>, described: bool) {
    if let Some(i) = ism {
        if i.is_zero() {
            src.push_str(
                "; interchainSecurityModule 0x0: the mailbox's default ISM, the layer's set",
            );
        } else if described {
            let _ = write!(src, "; its own interchainSecurityModule {i}");
        } else {
            let _ = write!(
                src,
                "; its own interchainSecurityModule {i}, which the discovery does not describe: the layer's set is used"
            );
        }
    }
}

/// Describes who can release what an escrow holds: its upgrader, the key behind it, and
/// whether that key is the layer's admin.
fn describe_escrow_admin(
    src: &mut String,
    e: &Entry,
    upgrader: Option<&Addr>,
    escrow_admin: Option<&String>,
    layer_admin: bool,
    by_owner: bool,
) {
    match (upgrader, escrow_admin) {
        (Some(u), Some(k)) if layer_admin => {
            let _ = write!(src, ". Upgradable through {u} by {k}, the layer's admin");
        }
        (Some(u), Some(k)) => {
            let _ = write!(
                src,
                ". mint_authority = {k}, {} — not the layer's admin; the spec has no per-route admin field, so this key stands here",
                if by_owner {
                    format!(
                        "the adapter's `owner` ({u}), who sets its peers and LayerZero security (DVN) settings and so can have a forged message release what it holds"
                    )
                } else {
                    format!(
                        "the key that can upgrade the escrow (through {u}) and so release what it holds"
                    )
                }
            );
        }
        (Some(u), None) => {
            let _ = write!(
                src,
                ". Upgradable by {u}, a contract without signers in the discovery"
            );
        }
        (None, _) => {
            if e.immutable {
                src.push_str(". Not upgradable ($immutable)");
            }
        }
    }
}

/// An escrow token's price from the prices file, counting what is missing (`has_supply`: its
/// supply is known).
fn escrow_price(
    sym: &str,
    has_supply: bool,
    prices: &Prices,
    values: &mut Values,
    src: &mut String,
) -> Option<f64> {
    let price = prices.price_usd.get(sym).copied();
    match price {
        Some(_) => {
            let _ = write!(
                src,
                ". Price: {}",
                prices.cite_price(sym).unwrap_or_default()
            );
        }
        None => {
            values.symbols_without_price.insert(sym.to_owned());
            src.push_str(". Price not known (not in the discovery, nor in the prices file)");
        }
    }
    if !has_supply {
        src.push_str("; supply not known: the 0 here is a placeholder, not a finding");
        values.missing.without_supply += 1;
    }
    if price.is_none() {
        values.missing.without_price += 1;
    }
    values.missing.assets += 1;
    price
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_from_unix_seconds() {
        assert_eq!(date(0), "1970-01-01");
        assert_eq!(date(1_758_803_380), "2025-09-25");
        assert_eq!(date(1_786_352_489), "2026-08-10");
    }
}
