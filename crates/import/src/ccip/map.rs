//! The mapping from a parsed [`Directory`] to a [`Spec`]: pure, deterministic (every map is
//! ordered), and explicit in each entity's `source` about what the directory does not say.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use ringfence_model::spec::{self, AssetKind, RateLimit, Ref, Route, Spec, r};

use super::directory::{Directory, PoolType, TokenPool, Verifier};
use crate::{MissingValues, Prices};

/// The layer id of CCIP.
pub const LAYER: &str = "ccip";
/// The id of the verifier set of chains for which the directory lists no verifier.
pub const DEFAULT_SET: &str = "ccip-default";

/// The operator id of a verifier (by the directory's verifier id).
pub fn operator_id(verifier: &str) -> String {
    format!("ccip-verifier-{verifier}")
}

/// The verifier set id of a chain whose verifiers the directory lists.
pub fn verifier_set_id(chain: &str) -> String {
    format!("ccip-verifiers@{}", chain_name(chain))
}

/// The asset id of a token on a chain.
pub fn asset_id(token: &str, chain: &str) -> String {
    format!("{token}@{}", chain_name(chain))
}

/// The spec's name for a directory chain: the name every importer uses ([`crate::chains`]:
/// `mainnet` → `ethereum`, `ethereum-mainnet-arbitrum-1` → `arbitrum`), or the directory's name
/// when the alias table does not know it.
pub fn chain_name(directory_name: &str) -> String {
    crate::chains::canonical_or_same(directory_name).name
}

/// What the directory says about one burn-and-mint deployment's inbound lanes.
#[derive(Clone, Debug, PartialEq)]
pub struct Inbound {
    /// The asset id.
    pub asset: String,
    /// Remote chains with a lane into this chain that lists the token.
    pub lanes: usize,
    /// Those whose inbound limiter is disabled.
    pub disabled_from: Vec<String>,
    /// Those whose inbound limiter this chain's pool does not publish.
    pub unpublished_from: Vec<String>,
    /// The summed limit `(capacity, refill per second)` in whole tokens, when every lane has one.
    pub rate_limit: Option<(f64, f64)>,
}

impl Inbound {
    /// True when at least one lane can mint without a bound the directory shows.
    pub fn is_unbounded(&self) -> bool {
        self.rate_limit.is_none()
    }
}

/// The figures one directory gives (the README gives the real snapshot's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// Chains in chains.json.
    pub chains: usize,
    /// Of those, listed in decom.json as decommissioned.
    pub decommissioned_chains: usize,
    /// Tokens (keys of tokens.json).
    pub tokens: usize,
    /// Token-chain entries.
    pub token_chain_entries: usize,
    /// Lanes (chain → remote entries of lanes.json).
    pub lanes: usize,
    /// Per-token rate-limiter configurations (lane × token).
    pub lane_token_configs: usize,
    /// Chains of chains.json with verifiers listed.
    pub chains_with_verifiers: usize,
    /// Distinct verifiers (operators).
    pub verifiers: usize,
    /// Assets imported.
    pub assets: usize,
    /// `burnMint` assets.
    pub burn_mint: usize,
    /// `lockRelease` assets.
    pub lock_release: usize,
    /// `usdc` assets.
    pub usdc: usize,
    /// `feeTokenOnly` entries, not assets.
    pub fee_token_only: usize,
    /// burnMint deployments with every inbound lane limited.
    pub burn_mint_bounded: usize,
    /// burnMint deployments with no inbound lane at all.
    pub burn_mint_no_inbound_lane: usize,
    /// burnMint deployments with at least one inbound lane whose limiter is disabled.
    pub burn_mint_limiter_disabled: usize,
    /// burnMint deployments with no disabled lane but at least one whose inbound limiter is not
    /// published.
    pub burn_mint_limiter_unpublished: usize,
    /// burnMint deployments whose every inbound lane has its limiter disabled.
    pub burn_mint_every_lane_disabled: usize,
    /// Distinct tokens among the deployments without a rate limit.
    pub tokens_without_rate_limit: usize,
    /// Inbound (lane, token) limiters disabled on burnMint deployments.
    pub disabled_inbound_lanes: usize,
}

impl Figures {
    /// burnMint deployments that get no rate limit (disabled or unpublished inbound limiter):
    /// what `lint` reports as `no-rate-limit`.
    pub fn burn_mint_without_rate_limit(&self) -> usize {
        self.burn_mint_limiter_disabled + self.burn_mint_limiter_unpublished
    }
}

/// A mapped directory.
#[derive(Clone, Debug)]
pub struct Mapped {
    /// The spec (not yet validated).
    pub spec: Spec,
    /// What the directory gives.
    pub figures: Figures,
    /// Inbound lanes of every burnMint deployment, in asset order.
    pub inbound: Vec<Inbound>,
    /// Warnings.
    pub notes: Vec<String>,
    /// Missing prices and supplies.
    pub missing: MissingValues,
}

fn num(x: f64) -> toml::Spanned<f64> {
    toml::Spanned::new(0..0, x)
}

fn short(address: &str) -> String {
    if address.len() > 14 && address.is_ascii() {
        format!("{}…{}", &address[..8], &address[address.len() - 4..])
    } else {
        address.to_owned()
    }
}

fn fmt_amount(x: f64) -> String {
    if x == 0.0 {
        "0".to_owned()
    } else if x >= 1e15 {
        format!("{x:e}")
    } else {
        let s = format!("{x:.6}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// Maps a directory; `prices` fills prices and supplies where known. The steps run in the
/// order of the spec's sections: verifiers, chains, lanes (checked), assets, the layer.
pub fn map(dir: &Directory, prices: &Prices) -> Mapped {
    let mut notes = Vec::new();
    let mut cx = Cx {
        dir,
        cite: dir.provenance.short(),
        listed: BTreeMap::new(),
    };
    cx.listed = cx.listed_verifiers(&mut notes);
    let mut spec = Spec::default();
    let mut t = Tally {
        figures: cx.counts(),
        ..Tally::default()
    };

    let by_id = verifiers_by_id(&cx.listed);
    cx.verifier_operators(&by_id, &mut spec, &mut notes);
    t.figures.verifiers = by_id.len();
    t.figures.chains_with_verifiers = cx.listed.len();
    cx.verifier_sets(&by_id, &mut spec);
    cx.chains(&mut spec);
    cx.check_lanes(&mut notes);

    for (token, per_chain) in &dir.tokens {
        let homes: Vec<&str> = per_chain
            .iter()
            .filter(|(_, e)| e.pool_type == PoolType::LockRelease)
            .map(|(c, _)| c.as_str())
            .collect();
        for (chain, e) in per_chain {
            if let Some(asset) = cx.asset(token, chain, e, &homes, prices, &mut t) {
                spec.assets.push(asset);
            }
        }
    }
    let mut figures = t.figures;
    figures.assets = spec.assets.len();
    figures.tokens_without_rate_limit = t.unbounded_tokens.len();
    let mut missing = t.missing;
    missing.symbols_without_price = t.symbols_without_price.into_iter().collect();
    missing.unused = unused_prices(dir, prices, &spec);
    for u in &missing.unused {
        notes.push(format!(
            "{}: {u} matches no imported token or asset",
            prices.citation().unwrap_or_default()
        ));
    }
    // The layer, last so that its source can summarise.
    spec.layers.push(cx.layer(&figures, &missing));

    Mapped {
        spec,
        figures,
        inbound: t.inbound,
        notes,
        missing,
    }
}

/// The directory being mapped, how its files are cited, and the chains it lists verifiers for.
struct Cx<'a> {
    dir: &'a Directory,
    cite: String,
    listed: BTreeMap<&'a str, &'a [Verifier]>,
}

/// What the asset step counts and gathers beside the assets themselves.
#[derive(Default)]
struct Tally {
    figures: Figures,
    missing: MissingValues,
    symbols_without_price: BTreeSet<String>,
    inbound: Vec<Inbound>,
    unbounded_tokens: BTreeSet<String>,
}

/// Every use of each verifier id: (chain, entry).
type ById<'a> = BTreeMap<&'a str, Vec<(&'a str, &'a Verifier)>>;

fn verifiers_by_id<'a>(listed: &BTreeMap<&'a str, &'a [Verifier]>) -> ById<'a> {
    let mut by_id: ById<'a> = BTreeMap::new();
    for (chain, list) in listed {
        for v in *list {
            by_id.entry(v.id.as_str()).or_default().push((chain, v));
        }
    }
    by_id
}

/// Price and supply keys that match no imported token or asset.
fn unused_prices(dir: &Directory, prices: &Prices, spec: &Spec) -> Vec<String> {
    let imported: BTreeSet<&str> = spec
        .assets
        .iter()
        .map(|a| a.id.get_ref().as_str())
        .collect();
    prices
        .price_usd
        .keys()
        .filter(|k| !dir.tokens.contains_key(*k))
        .map(|k| format!("[price_usd] {k:?}"))
        .chain(
            prices
                .supply
                .keys()
                .filter(|k| !imported.contains(k.as_str()))
                .map(|k| format!("[supply] {k:?}")),
        )
        .collect()
}

impl<'a> Cx<'a> {
    /// The file name a directory key was read from, for citations.
    fn file(&self, k: &str) -> String {
        self.dir
            .files
            .get(k)
            .and_then(|p| p.file_name())
            .map_or_else(|| format!("{k}.json"), |n| n.to_string_lossy().into_owned())
    }

    /// The figures that are plain counts of the directory.
    fn counts(&self) -> Figures {
        let dir = self.dir;
        Figures {
            chains: dir.chains.len(),
            decommissioned_chains: dir
                .chains
                .keys()
                .filter(|c| dir.decommissioned.contains(*c))
                .count(),
            tokens: dir.tokens.len(),
            token_chain_entries: dir.tokens.values().map(BTreeMap::len).sum(),
            lanes: dir.lanes.values().map(BTreeMap::len).sum(),
            lane_token_configs: dir
                .lanes
                .values()
                .flat_map(BTreeMap::values)
                .map(|l| l.tokens.len())
                .sum(),
            ..Figures::default()
        }
    }

    /// The chains of chains.json with a non-empty verifier list.
    fn listed_verifiers(&self, notes: &mut Vec<String>) -> BTreeMap<&'a str, &'a [Verifier]> {
        let dir = self.dir;
        match &dir.verifiers {
            Some(v) => v
                .iter()
                .filter_map(|(chain, list)| {
                    if dir.chains.contains_key(chain) {
                        Some((chain.as_str(), list.as_slice()))
                    } else {
                        notes.push(format!(
                            "{}: verifiers are listed for `{chain}`, which chains.json does not have; skipped",
                            self.file("verifiers")
                        ));
                        None
                    }
                })
                .filter(|(_, list)| !list.is_empty())
                .collect(),
            None => {
                notes.push("the directory has no verifiers.json: every route uses the CCIP default verifier set, whose members are not known".to_owned());
                BTreeMap::new()
            }
        }
    }

    /// One operator per verifier id.
    fn verifier_operators(&self, by_id: &ById<'_>, spec: &mut Spec, notes: &mut Vec<String>) {
        let cite = &self.cite;
        for (id, uses) in by_id {
            let first = uses[0].1;
            let chains: BTreeSet<&str> = uses.iter().map(|(c, _)| *c).collect();
            let addresses: BTreeSet<String> = uses.iter().map(|(_, v)| short(&v.address)).collect();
            let names: BTreeSet<&str> = uses.iter().map(|(_, v)| v.name.as_str()).collect();
            if names.len() > 1 {
                notes.push(format!(
                    "{}: verifier `{id}` has several names ({}); the organisation is named `{}`",
                    self.file("verifiers"),
                    names.iter().copied().collect::<Vec<_>>().join(", "),
                    first.name
                ));
            }
            spec.operators.push(spec::Operator {
                id: r(operator_id(id)),
                org: r(first.name.clone()),
                hosting: r(format!("undisclosed-{id}")),
                failure_probability: None,
                source: Some(format!(
                    "CCIP verifier `{id}` ({}, type {}{}{}) listed in {} ({cite}) for {} chain(s) at {}. \
                     The directory does not publish who runs it — a committee's members, their hosting, any internal threshold — \
                     so it is one operator with organisation `{}` (the verifier's name); hosting `undisclosed-{id}` is a placeholder \
                     of its own, implying no shared cloud.",
                    first.name,
                    first.kind,
                    first.role.as_deref().map(|r| format!(", role {r}")).unwrap_or_default(),
                    first.version.as_deref().map(|v| format!(", version {v}")).unwrap_or_default(),
                    self.file("verifiers"),
                    chains.len(),
                    addresses.into_iter().collect::<Vec<_>>().join(", "),
                    first.name,
                )),
            });
        }
    }

    /// The default set (the verifiers with role `default`) and one set per listed chain.
    fn verifier_sets(&self, by_id: &ById<'_>, spec: &mut Spec) {
        let listed = &self.listed;
        let cite = &self.cite;
        let defaults: BTreeSet<&str> = by_id
            .iter()
            .filter(|(_, uses)| {
                uses.iter()
                    .any(|(_, v)| v.role.as_deref() == Some("default"))
            })
            .map(|(id, _)| *id)
            .collect();
        let default_members: Vec<Ref> = if defaults.is_empty() {
            spec.operators.push(spec::Operator {
                id: r("ccip-verifier-unlisted"),
                org: r("unlisted CCIP verifier"),
                hosting: r("undisclosed-unlisted"),
                failure_probability: None,
                source: Some(format!(
                    "Placeholder: {} lists no verifier with role `default`, so who secures CCIP routes into chains without listed verifiers is not known ({cite}).",
                    self.file("verifiers")
                )),
            });
            vec![r("ccip-verifier-unlisted")]
        } else {
            defaults.iter().map(|id| r(operator_id(id))).collect()
        };
        spec.verifier_sets.push(spec::VerifierSet {
            id: r(DEFAULT_SET),
            threshold: 1,
            members: default_members,
            source: Some(format!(
                "The CCIP default verifier: the verifier(s) with role `default` in {} ({cite}: {}). Used for routes into the {} chain(s) \
                 for which the directory lists no verifier. The directory does not say how many signatures it needs: threshold 1 of the \
                 listed verifiers is an assumption, the conservative one.",
                self.file("verifiers"),
                if defaults.is_empty() { "none".to_owned() } else { defaults.iter().copied().collect::<Vec<_>>().join(", ") },
                self.dir.chains.len() - listed.len(),
            )),
        });
        for (chain, list) in listed {
            let mut ids: Vec<&str> = list.iter().map(|v| v.id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            let described: Vec<String> = list
                .iter()
                .map(|v| format!("{} ({}, {})", v.name, v.kind, short(&v.address)))
                .collect();
            spec.verifier_sets.push(spec::VerifierSet {
                id: r(verifier_set_id(chain)),
                threshold: 1,
                members: ids.iter().map(|id| r(operator_id(id))).collect(),
                source: Some(format!(
                    "{} $[{chain:?}] ({cite}): {}. The directory does not say how many of them must attest a message, nor which tokens \
                     require which: threshold 1 (any one listed verifier suffices) is assumed — the conservative reading. Lanes whose \
                     on-ramp predates CCIP 2.0 are secured by the CCIP DON, which the directory does not list per chain.",
                    self.file("verifiers"),
                    described.join(", ")
                )),
            });
        }
    }

    /// One spec chain per directory chain.
    fn chains(&self, spec: &mut Spec) {
        let (dir, cite, listed) = (self.dir, &self.cite, &self.listed);
        for (name, info) in &dir.chains {
            let known = crate::chains::resolve(name);
            let mut s = format!(
                "{} $[{name:?}] ({cite}): CCIP chain selector {}{}. {}",
                self.file("chains"),
                info.selector,
                info.router
                    .as_deref()
                    .map(|a| format!(", router {a}"))
                    .unwrap_or_default(),
                match known.as_ref().and_then(|k| k.chain_id.map(|id| (k, id))) {
                    Some((k, id)) => format!(
                        "The directory publishes no EVM chain id (the selector is CCIP's own); `{name}` is `{}` in ringfence's alias table, EVM chain id {id} from the Hyperlane registry (data/hyperlane-registry/chains.json).",
                        k.name
                    ),
                    None => "The directory publishes no EVM chain id (the selector is CCIP's own) and ringfence's alias table does not know this name, so `chain_id` is left out.".to_owned(),
                }
            );
            if listed.contains_key(name.as_str()) {
                let _ = write!(s, " Verifiers: {}.", verifier_set_id(name));
            } else {
                let _ = write!(
                    s,
                    " No verifier listed in {}: routes into it use {DEFAULT_SET}.",
                    self.file("verifiers")
                );
            }
            if dir.decommissioned.contains(name) {
                let _ = write!(s, " Listed as decommissioned in {}.", self.file("decom"));
            }
            spec.chains.push(spec::Chain {
                id: r(chain_name(name)),
                chain_id: known.and_then(|k| k.chain_id),
                block_time_s: None,
                source: Some(s),
            });
        }
    }

    /// Lanes that name unknown chains or tokens are reported, not mapped.
    fn check_lanes(&self, notes: &mut Vec<String>) {
        let dir = self.dir;
        for (from, remotes) in &dir.lanes {
            for (to, lane) in remotes {
                for chain in [from, to] {
                    if !dir.chains.contains_key(chain) {
                        notes.push(format!("{}: lane {from} → {to} names `{chain}`, which chains.json does not have; its limits are not used", self.file("lanes")));
                    }
                }
                for token in lane.tokens.keys() {
                    if !dir.tokens.get(token).is_some_and(|t| t.contains_key(from)) {
                        notes.push(format!(
                            "{}: lane {from} → {to} lists `{token}`, which tokens.json does not list on {from}; its limits are not used",
                            self.file("lanes")
                        ));
                    }
                }
            }
        }
    }

    /// The asset of one token-chain entry (none for a fee token), with its route and the
    /// source sentence that says where each value came from.
    fn asset(
        &self,
        token: &str,
        chain: &str,
        e: &TokenPool,
        homes: &[&str],
        prices: &Prices,
        acc: &mut Tally,
    ) -> Option<spec::Asset> {
        let kind = asset_kind(e.pool_type, &mut acc.figures)?;
        let id = asset_id(token, chain);
        let mut s = self.describe_pool(token, chain, e);
        let route = match e.pool_type {
            PoolType::BurnMint => {
                let (route, inbound) = self.burn_mint_route(token, chain, e, homes, acc, &mut s);
                acc.inbound.push(Inbound {
                    asset: id.clone(),
                    ..inbound
                });
                Some(route)
            }
            PoolType::LockRelease => {
                s.push_str(" Its pool locks and releases: CCIP failure drains the lockbox, which the directory does not size; no route.");
                None
            }
            _ => {
                s.push_str(
                    " Native USDC: minted by Circle's CCTP, not by a CCIP pool; no CCIP route.",
                );
                None
            }
        };
        let price = prices.price_usd.get(token).copied();
        let supply = prices.supply.get(&id).copied();
        describe_value(&mut s, prices, token, price, supply);
        tally_value(acc, token, price, supply);
        Some(spec::Asset {
            id: r(id),
            chain: r(chain_name(chain)),
            kind,
            price_usd: num(price.unwrap_or(0.0)),
            supply: num(supply.unwrap_or(0.0)),
            backing: Vec::new(),
            mint_authority: None,
            mint_cap: None,
            route,
            depth_usd: None,
            source: Some(s),
        })
    }

    /// The first sentence of an asset's source: the pool, its token and decimals.
    fn describe_pool(&self, token: &str, chain: &str, e: &TokenPool) -> String {
        format!(
            "{} $[{token:?}][{chain:?}] ({}): {} pool{}{}, token {}, {} decimals{}.",
            self.file("tokens"),
            self.cite,
            e.pool_type.as_str(),
            e.pool_address
                .as_deref()
                .map(|a| format!(" {a}"))
                .unwrap_or_default(),
            e.type_and_version
                .as_deref()
                .map(|v| format!(" ({v})"))
                .unwrap_or_default(),
            e.token_address.as_deref().unwrap_or("address not given"),
            e.decimals,
            e.symbol
                .as_deref()
                .filter(|s| *s != token)
                .map(|s| format!(", symbol on this chain {s:?}"))
                .unwrap_or_default(),
        )
    }

    /// The CCIP route of a burnMint deployment and its inbound lanes: its verifier set, source
    /// chain and the tightest inbound rate limit, described in `s` and tallied in `acc`.
    fn burn_mint_route(
        &self,
        token: &str,
        chain: &str,
        e: &TokenPool,
        homes: &[&str],
        acc: &mut Tally,
        s: &mut String,
    ) -> (Route, Inbound) {
        let inbound = inbound_lanes(self.dir, token, chain, e.decimals);
        let home = match homes {
            [h] if *h != chain => Some(*h),
            _ => None,
        };
        let vs = self
            .listed
            .contains_key(chain)
            .then(|| verifier_set_id(chain));
        let _ = write!(
            s,
            " Minted on arrival through CCIP, secured by {}{}.",
            vs.as_deref().unwrap_or(DEFAULT_SET),
            home.map(|h| format!("; source chain {h} (the token's only lockRelease pool)"))
                .unwrap_or_default()
        );
        self.describe_inbound(s, token, chain, e.decimals, &inbound);
        tally_inbound(&inbound, &mut acc.figures);
        if inbound.is_unbounded() {
            acc.unbounded_tokens.insert(token.to_owned());
        }
        let route = Route {
            layer: r(LAYER),
            verifier_set: vs.map(r),
            source: home.map(|h| r(chain_name(h))),
            rate_limit: inbound.rate_limit.map(|(c, rate)| RateLimit {
                capacity: num(c),
                refill_per_s: num(rate),
            }),
        };
        (route, inbound)
    }

    /// What the inbound lanes of a burnMint deployment say about its rate limit.
    fn describe_inbound(
        &self,
        s: &mut String,
        token: &str,
        chain: &str,
        decimals: u32,
        inbound: &Inbound,
    ) {
        let _ = write!(
            s,
            " Inbound lanes (this chain's pool limits, {} $[{chain:?}][remote].supportedTokens[{token:?}].rateLimiterConfig.in): {}",
            self.file("lanes"),
            inbound.lanes
        );
        match inbound.rate_limit {
            Some((c, rate)) if inbound.lanes == 0 => {
                let _ = write!(
                    s,
                    " — no lane lists this token into this chain, so the directory shows no way to mint it: rate limit {c}/{rate} (nothing)."
                );
            }
            Some((c, rate)) => {
                let _ = write!(
                    s,
                    ", every limiter enabled: rate limit = their sum, capacity {} tokens, refill {} tokens/s (converted with {decimals} decimals).",
                    fmt_amount(c),
                    fmt_amount(rate),
                );
            }
            None => {
                if !inbound.disabled_from.is_empty() {
                    let _ = write!(
                        s,
                        ", limiter disabled on {} (from {})",
                        inbound.disabled_from.len(),
                        inbound.disabled_from.join(", ")
                    );
                }
                if !inbound.unpublished_from.is_empty() {
                    let _ = write!(
                        s,
                        "{} limiter not published for {} (from {})",
                        if inbound.disabled_from.is_empty() {
                            ","
                        } else {
                            ";"
                        },
                        inbound.unpublished_from.len(),
                        inbound.unpublished_from.join(", ")
                    );
                }
                s.push_str(": no rate limit — a mint path without a bound.");
            }
        }
    }

    /// The CCIP layer, whose source summarises the directory.
    fn layer(&self, figures: &Figures, missing: &MissingValues) -> spec::Layer {
        spec::Layer {
            id: r(LAYER),
            verifier_set: r(DEFAULT_SET),
            admin: None,
            failure_probability: None,
            source: Some(format!(
                "Chainlink CCIP as published in its directory ({}; {}): {} chains, {} lanes, {} tokens in {} token-chain entries. \
                 The directory publishes no admin key, upgrade timelock or failure probability for the protocol, so none is set. {}",
                self.dir
                    .files
                    .keys()
                    .map(|k| self.file(k))
                    .collect::<Vec<_>>()
                    .join(", "),
                self.dir.provenance.cite(),
                figures.chains,
                figures.lanes,
                figures.tokens,
                figures.token_chain_entries,
                missing.summary()
            )),
        }
    }
}

/// The asset kind of a pool type, counted in `figures`; `None` for a fee token (no asset).
fn asset_kind(pool_type: PoolType, figures: &mut Figures) -> Option<AssetKind> {
    Some(match pool_type {
        PoolType::BurnMint => {
            figures.burn_mint += 1;
            AssetKind::Wrapped
        }
        PoolType::LockRelease => {
            figures.lock_release += 1;
            AssetKind::Canonical
        }
        PoolType::Usdc => {
            figures.usdc += 1;
            AssetKind::Stablecoin
        }
        PoolType::FeeTokenOnly => {
            figures.fee_token_only += 1;
            return None;
        }
    })
}

/// Counts an asset's missing price and supply.
fn tally_value(acc: &mut Tally, token: &str, price: Option<f64>, supply: Option<f64>) {
    acc.missing.assets += 1;
    if price.is_none() {
        acc.missing.without_price += 1;
        acc.symbols_without_price.insert(token.to_owned());
    }
    if supply.is_none() {
        acc.missing.without_supply += 1;
    }
}

/// Counts a burnMint deployment in the rate-limit figures.
fn tally_inbound(inbound: &Inbound, figures: &mut Figures) {
    if inbound.is_unbounded() {
        figures.disabled_inbound_lanes += inbound.disabled_from.len();
        if inbound.disabled_from.len() == inbound.lanes {
            figures.burn_mint_every_lane_disabled += 1;
        }
        if inbound.disabled_from.is_empty() {
            figures.burn_mint_limiter_unpublished += 1;
        } else {
            figures.burn_mint_limiter_disabled += 1;
        }
    } else if inbound.lanes == 0 {
        figures.burn_mint_no_inbound_lane += 1;
    } else {
        figures.burn_mint_bounded += 1;
    }
}

/// Where an asset's price and supply came from, or that they are not known.
fn describe_value(
    s: &mut String,
    prices: &Prices,
    token: &str,
    price: Option<f64>,
    supply: Option<f64>,
) {
    let cited = prices.citation().unwrap_or_else(|| "--prices".to_owned());
    if price.is_some() && supply.is_some() {
        let _ = write!(s, " Price and supply from {cited}.");
        return;
    }
    if price.is_some() {
        let _ = write!(
            s,
            " Price from {}.",
            prices.cite_price(token).unwrap_or_else(|| cited.clone())
        );
    }
    let _ = write!(
        s,
        " Value not known: {}{}{} — not in the directory{}; the 0 here is a placeholder, not a finding.",
        if price.is_none() { "price" } else { "" },
        if price.is_none() && supply.is_none() {
            " and "
        } else {
            ""
        },
        if supply.is_none() { "supply" } else { "" },
        if prices.file.is_some() {
            format!(" nor in {cited}")
        } else {
            ", and no --prices file was given".to_owned()
        },
    );
}

/// The lanes into `chain` that list `token`, and the limit they add up to. A lane S → chain
/// counts when either side lists the token; its inbound limiter is the one this chain's pool
/// publishes for S (`lanes[chain][S]…in`), in this chain's decimals.
fn inbound_lanes(dir: &Directory, token: &str, chain: &str, decimals: u32) -> Inbound {
    let own = dir.lanes.get(chain);
    let mut remotes: BTreeSet<&str> = own
        .into_iter()
        .flatten()
        .filter(|(_, l)| l.tokens.contains_key(token))
        .map(|(s, _)| s.as_str())
        .collect();
    remotes.extend(
        dir.lanes
            .iter()
            .filter(|(_, to)| to.get(chain).is_some_and(|l| l.tokens.contains_key(token)))
            .map(|(s, _)| s.as_str()),
    );
    remotes.remove(chain);
    let scale = 10f64.powi(i32::try_from(decimals).unwrap_or(i32::MAX));
    let (mut capacity, mut rate) = (0.0, 0.0);
    let mut disabled_from = Vec::new();
    let mut unpublished_from = Vec::new();
    for s in &remotes {
        match own
            .and_then(|o| o.get(*s))
            .and_then(|l| l.tokens.get(token))
            .and_then(|t| t.inbound)
        {
            Some(l) if l.enabled => {
                capacity += l.capacity / scale;
                rate += l.rate / scale;
            }
            Some(_) => disabled_from.push((*s).to_owned()),
            None => unpublished_from.push((*s).to_owned()),
        }
    }
    let bounded = disabled_from.is_empty() && unpublished_from.is_empty();
    Inbound {
        asset: String::new(),
        lanes: remotes.len(),
        disabled_from,
        unpublished_from,
        rate_limit: bounded.then_some((capacity, rate)),
    }
}
