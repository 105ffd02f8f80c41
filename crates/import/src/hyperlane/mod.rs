//! The Hyperlane registry (npm `@hyperlane-xyz/registry`, shipped in `data/hyperlane-registry`):
//! its warp routes as assets routed through the `hyperlane` layer.
//!
//! - each EVM collateral token of a route (`EvmHypCollateral`, lockboxes, cross-collateral
//!   routers…) → an asset of kind `canonical` (`native` for `EvmHypNative`): the escrow, at the
//!   router's address, drained if a forged message releases it;
//! - each EVM synthetic token (`EvmHypSynthetic`, xERC20…) → an asset of kind `wrapped`, minted by
//!   messages, backed by the route's collateral when there is exactly one, with the collateral's
//!   chain as its route's source;
//! - tokens on chains that are not EVM (Sealevel, Cosmos, Starknet…) and standards that are not
//!   warp tokens are skipped with a note; an unknown standard is skipped with a note, never guessed.
//!
//! The registry publishes no route owners, ISMs, rate limits or balances, so routes use the
//! layer's default verifier set — a placeholder until a source that knows it (L2BEAT's Hyperlane
//! discovery) is merged in — and every `source` says so.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ringfence_model::spec::{self, AssetKind, Backing, Route, Spec, r};

use crate::chains::{self, address_id};
use crate::json::{self, At};
use crate::source::validate;
use crate::{Error, Figure, Import, MissingValues, Prices, Provenance, Result, Source};

/// The layer id.
pub const LAYER: &str = "hyperlane";
/// The placeholder verifier set of the layer.
pub const DEFAULT_SET: &str = "hyperlane-default-ism";

/// What a token standard is to the mapping.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Holds the real token in escrow.
    Collateral,
    /// Holds the chain's native coin in escrow.
    Native,
    /// Mints a representation.
    Synthetic,
    /// A token on a chain that is not EVM.
    NotEvm,
    /// Not a warp token ringfence maps (M0 portal, rebalancing bridge, plain native).
    NotWarp,
}

/// The role of a standard; `None` for a standard this ringfence does not know.
pub fn role(standard: &str) -> Option<Role> {
    Some(match standard {
        "EvmHypCollateral"
        | "EvmHypOwnerCollateral"
        | "EvmHypCollateralFiat"
        | "EvmHypRebaseCollateral"
        | "EvmHypXERC20Lockbox"
        | "EvmHypVSXERC20Lockbox"
        | "EvmHypCrossCollateralRouter" => Role::Collateral,
        "EvmHypNative" => Role::Native,
        "EvmHypSynthetic" | "EvmHypSyntheticRebase" | "EvmHypXERC20" | "EvmHypVSXERC20" => {
            Role::Synthetic
        }
        "EvmM0Portal" | "EvmAtomicLocalRebalancingBridge" | "EvmNative" | "CosmosIbc" => {
            Role::NotWarp
        }
        s if [
            "Sealevel", "Cosmos", "Cw", "Starknet", "Aleo", "Radix", "Tron",
        ]
        .iter()
        .any(|p| s.starts_with(p)) =>
        {
            Role::NotEvm
        }
        _ => return None,
    })
}

/// One token of a warp route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// The JSON path.
    pub at: String,
    /// The chain as the registry names it.
    pub chain_name: String,
    /// The canonical chain.
    pub chain: String,
    /// The standard.
    pub standard: String,
    /// Decimals.
    pub decimals: u32,
    /// Symbol.
    pub symbol: String,
    /// The router (`addressOrDenom`), lower case for EVM.
    pub router: String,
    /// The collateral token, if any.
    pub collateral: Option<String>,
    /// Connections: (canonical chain, router).
    pub connections: Vec<(String, String)>,
}

/// One route's config file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WarpRoute {
    /// The file, relative to the registry directory.
    pub file: PathBuf,
    /// The route id (`<SYMBOL>/<name>`).
    pub id: String,
    /// Its tokens.
    pub tokens: Vec<Token>,
}

const HELP: &str = "a warp route config is {\"tokens\": [{\"chainName\", \"standard\", \"decimals\", \"symbol\", \"addressOrDenom\", \"connections\"?: [{\"token\": \"<protocol>|<chain>|<address>\"}]}]}";

/// Parses one warp route config. Pure.
pub fn parse_route(file: &Path, id: &str, text: &str) -> Result<WarpRoute> {
    let v = json::parse(file, text)?;
    let root = At::root(file, &v);
    root.object(HELP)?;
    let mut tokens = Vec::new();
    root.req("tokens", HELP, |ts| {
        ts.items(HELP, |_, t| {
            let s = |k: &str| t.req(k, HELP, |x| x.str(HELP).map(str::to_owned));
            let chain_name = s("chainName")?;
            let standard = s("standard")?;
            let decimals = t.req("decimals", HELP, |d| d.u32(HELP))?;
            let symbol = s("symbol")?;
            let evm = standard.starts_with("Evm");
            let chain = match chains::resolve(&chain_name) {
                Some(c) => c.name,
                None => {
                    return Err(t.error(
                        format!("unknown chain `{chain_name}`"),
                        "the chain is not in data/hyperlane-registry/chains.json: copy the registry's chain metadata of the same version (see its SOURCE.md)",
                    ))
                }
            };
            let address = |k: &str, x: At<'_>| -> Result<String> {
                let raw = x.str(HELP)?;
                if !evm {
                    return Ok(raw.to_owned());
                }
                chains::evm_address(raw).ok_or_else(|| {
                    x.error(format!("`{k}` {raw:?} is not an EVM address (0x and 40 hex digits)"), "an EVM warp token's addresses are 0x and 40 hex digits; fix the file or fetch it again (see SOURCE.md)")
                })
            };
            let router = t.req("addressOrDenom", HELP, |x| address("addressOrDenom", x))?;
            let collateral = t.opt("collateralAddressOrDenom", |x| address("collateralAddressOrDenom", x))?;
            let mut connections = Vec::new();
            t.opt("connections", |cs| {
                cs.items(HELP, |_, c| {
                    let tok = c.req("token", HELP, |x| x.str(HELP).map(str::to_owned))?;
                    let parts: Vec<&str> = tok.split('|').collect();
                    let [protocol, chain, addr] = parts.as_slice() else {
                        return Err(c.error(format!("connection {tok:?} is not `<protocol>|<chain>|<address>`"), HELP));
                    };
                    if *protocol == "ethereum" {
                        let ch = chains::resolve(chain).ok_or_else(|| c.error(format!("connection to unknown chain `{chain}`"), HELP))?;
                        if ch.chain_id.is_none() {
                            // The registry writes some connections to non-EVM chains with protocol
                            // `ethereum`; the chain's own protocol decides.
                            return Ok(());
                        }
                        let a = chains::evm_address(addr).ok_or_else(|| c.error(format!("connection address {addr:?} is not an EVM address"), HELP))?;
                        connections.push((ch.name, a));
                    }
                    Ok(())
                })
            })?;
            tokens.push(Token {
                at: t.path(),
                chain_name,
                chain,
                standard,
                decimals,
                symbol,
                router,
                collateral,
                connections,
            });
            Ok(())
        })
    })?;
    Ok(WarpRoute {
        file: file.to_owned(),
        id: id.to_owned(),
        tokens,
    })
}

/// Figures a registry import gives.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Figures {
    /// Route configs read.
    pub routes: usize,
    /// Tokens in them.
    pub tokens: usize,
    /// EVM collateral and native escrows mapped.
    pub collateral: usize,
    /// EVM synthetic tokens mapped.
    pub synthetic: usize,
    /// Tokens on chains that are not EVM, skipped.
    pub not_evm: usize,
    /// Tokens of standards that are not warp tokens or not known, skipped.
    pub other: usize,
    /// Tokens that appear in more than one route (mapped once).
    pub duplicates: usize,
    /// Synthetic tokens backed by exactly one collateral.
    pub backed: usize,
    /// Chains with at least one mapped token.
    pub chains: usize,
}

/// Maps parsed routes. Pure and deterministic.
pub fn map(
    routes: &[WarpRoute],
    provenance: &Provenance,
    prices: &Prices,
) -> (Spec, Figures, Vec<String>, MissingValues) {
    let mut m = Mapper::new(provenance_cite(provenance), prices, routes.len());
    for route in routes {
        m.route(route);
    }
    m.skip_notes();
    m.chains();
    m.placeholders();
    m.finish()
}

/// The state of one registry mapping: the spec built so far and what was counted on the way.
struct Mapper<'a> {
    /// How the registry is cited in every `source`.
    cite: String,
    /// The prices and supplies snapshot.
    prices: &'a Prices,
    /// The spec built so far.
    spec: Spec,
    /// The figures counted so far.
    f: Figures,
    /// Notes for the user.
    notes: Vec<String>,
    /// Which values were not known.
    missing: MissingValues,
    /// Asset ids mapped so far (a token in two routes is mapped once).
    seen: BTreeSet<String>,
    /// Chains with at least one mapped token.
    chains_used: BTreeSet<String>,
    /// Skipped tokens by standard.
    skipped: BTreeMap<String, usize>,
    /// Symbols with no price.
    no_price: BTreeSet<String>,
}

impl<'a> Mapper<'a> {
    /// An empty mapping of `routes` route configs.
    fn new(cite: String, prices: &'a Prices, routes: usize) -> Self {
        Mapper {
            cite,
            prices,
            spec: Spec::default(),
            f: Figures {
                routes,
                ..Figures::default()
            },
            notes: Vec::new(),
            missing: MissingValues::default(),
            seen: BTreeSet::new(),
            chains_used: BTreeSet::new(),
            skipped: BTreeMap::new(),
            no_price: BTreeSet::new(),
        }
    }

    /// Maps every token of one route config.
    fn route(&mut self, route: &WarpRoute) {
        let escrows: Vec<&Token> = route
            .tokens
            .iter()
            .filter(|t| matches!(role(&t.standard), Some(Role::Collateral | Role::Native)))
            .collect();
        for t in &route.tokens {
            self.token(route, &escrows, t);
        }
    }

    /// Maps one token to an asset, or counts why it is skipped.
    fn token(&mut self, route: &WarpRoute, escrows: &[&Token], t: &Token) {
        self.f.tokens += 1;
        let role = match role(&t.standard) {
            Some(r @ (Role::Collateral | Role::Native | Role::Synthetic)) => r,
            Some(Role::NotEvm) => {
                self.f.not_evm += 1;
                *self.skipped.entry(t.standard.clone()).or_default() += 1;
                return;
            }
            Some(Role::NotWarp) | None => {
                self.f.other += 1;
                *self.skipped.entry(t.standard.clone()).or_default() += 1;
                return;
            }
        };
        let id = address_id(&t.symbol, &t.chain, &t.router);
        if !self.seen.insert(id.clone()) {
            self.f.duplicates += 1;
            return;
        }
        self.chains_used.insert(t.chain.clone());
        let here = format!("{} {} ({})", route.file.display(), t.at, self.cite);
        let mut src = format!(
            "Hyperlane warp route {}: {} {} on {} (registry chain `{}`), router {}",
            route.id, t.standard, t.symbol, t.chain, t.chain_name, t.router
        );
        let (kind, backing, source_chain) = self.kind(role, escrows, t, &mut src);
        src.push_str(&format!("; {} connection(s). {here}.", t.connections.len()));
        src.push_str(" The registry publishes no owner, ISM, rate limit or balance for the route: it uses the layer's default verifier set and has no rate limit shown.");
        let (price, supply) = self.value(&id, t, &mut src);
        self.spec.assets.push(spec::Asset {
            id: r(id),
            chain: r(t.chain.clone()),
            kind,
            price_usd: toml::Spanned::new(0..0, price.unwrap_or(0.0)),
            supply: toml::Spanned::new(0..0, supply.unwrap_or(0.0)),
            backing,
            mint_authority: None,
            mint_cap: None,
            route: Some(Route {
                layer: r(LAYER),
                verifier_set: None,
                source: source_chain.map(r),
                rate_limit: None,
            }),
            depth_usd: None,
            source: Some(src),
        });
    }

    /// The asset kind, backing and route source of a mapped token, described in `src`.
    fn kind(
        &mut self,
        role: Role,
        escrows: &[&Token],
        t: &Token,
        src: &mut String,
    ) -> (AssetKind, Vec<Backing>, Option<String>) {
        match role {
            Role::Collateral | Role::Native => {
                self.f.collateral += 1;
                if let Some(c) = &t.collateral {
                    src.push_str(&format!(", escrowing token {c}"));
                }
                src.push_str(": the escrow, released by Hyperlane messages");
                (
                    if role == Role::Native {
                        AssetKind::Native
                    } else {
                        AssetKind::Canonical
                    },
                    Vec::new(),
                    None,
                )
            }
            _ => {
                self.f.synthetic += 1;
                src.push_str(": minted by Hyperlane messages");
                match escrows {
                    [e] => {
                        self.f.backed += 1;
                        src.push_str(&format!(
                            ", backed by the route's one escrow on {}",
                            e.chain
                        ));
                        (
                            AssetKind::Wrapped,
                            vec![Backing {
                                asset: r(address_id(&e.symbol, &e.chain, &e.router)),
                                share: toml::Spanned::new(0..0, 1.0),
                            }],
                            Some(e.chain.clone()),
                        )
                    }
                    [] => {
                        src.push_str(", with no EVM escrow in the route (its origin is on a chain ringfence skips, or it is minted natively)");
                        (AssetKind::Wrapped, Vec::new(), None)
                    }
                    many => {
                        src.push_str(&format!(", backed by {} escrows in the route (shares not published, so no backing link)", many.len()));
                        (AssetKind::Wrapped, Vec::new(), None)
                    }
                }
            }
        }
    }

    /// The token's price and supply from the snapshot, counting and describing what is missing.
    fn value(&mut self, id: &str, t: &Token, src: &mut String) -> (Option<f64>, Option<f64>) {
        let price = self.prices.price_usd.get(&t.symbol).copied();
        let supply = self.prices.supply.get(id).copied();
        self.missing.assets += 1;
        match price {
            Some(_) => src.push_str(&format!(
                " Price: {}.",
                self.prices.cite_price(&t.symbol).unwrap_or_default()
            )),
            None => {
                self.missing.without_price += 1;
                self.no_price.insert(t.symbol.clone());
            }
        }
        if supply.is_none() {
            self.missing.without_supply += 1;
        }
        if price.is_none() || supply.is_none() {
            src.push_str(" Value not known (the registry has no balances): the 0 here is a placeholder, not a finding.");
        }
        (price, supply)
    }

    /// Notes on the skipped standards and the duplicated tokens.
    fn skip_notes(&mut self) {
        // A backing link to an escrow that was skipped as a duplicate still resolves (same id).
        for (standard, n) in &self.skipped {
            self.notes.push(format!(
                "{n} token(s) of standard {standard} skipped: {}",
                match role(standard) {
                    Some(Role::NotEvm) => "not on an EVM chain",
                    Some(_) => "not a warp token ringfence maps",
                    None => "a standard this ringfence does not know",
                }
            ));
        }
        if self.f.duplicates > 0 {
            self.notes.push(format!(
                "{} token(s) appear in more than one route config; each is mapped once",
                self.f.duplicates
            ));
        }
    }

    /// One chain per chain with a mapped token.
    fn chains(&mut self) {
        self.f.chains = self.chains_used.len();
        for c in &self.chains_used {
            self.spec.chains.push(spec::Chain {
                id: r(c.clone()),
                chain_id: chains::resolve(c).and_then(|x| x.chain_id),
                block_time_s: None,
                source: Some(format!(
                    "Hyperlane registry chain metadata (data/hyperlane-registry/chains.json, {}).",
                    self.cite
                )),
            });
        }
    }

    /// The placeholder validator, default verifier set and the layer.
    fn placeholders(&mut self) {
        let cite = &self.cite;
        let f = &self.f;
        self.spec.operators.push(spec::Operator {
            id: r("hyperlane-validators-unknown"),
            org: r("unknown-org:hyperlane-validators"),
            hosting: r("unknown-hosting:hyperlane-validators"),
            failure_probability: None,
            source: Some(format!("Placeholder: the Hyperlane registry ({cite}) does not publish ISM validators. Merge a source that does (L2BEAT's Hyperlane discovery).")),
        });
        self.spec.verifier_sets.push(spec::VerifierSet {
            id: r(DEFAULT_SET),
            threshold: 1,
            members: vec![r("hyperlane-validators-unknown")],
            source: Some(format!("Placeholder: the Hyperlane registry ({cite}) publishes no ISM for its warp routes; 1 of 1 unknown validator stands for it. Merging L2BEAT's Hyperlane discovery replaces it.")),
        });
        self.spec.layers.push(spec::Layer {
            id: r(LAYER),
            verifier_set: r(DEFAULT_SET),
            admin: None,
            failure_probability: None,
            source: Some(format!(
                "Hyperlane, as its registry lists warp routes ({cite}): {} route configs, {} EVM escrows and {} synthetic tokens mapped. The registry publishes no admin, ISM or failure probability.",
                f.routes, f.collateral, f.synthetic
            )),
        });
    }

    /// The spec, figures, notes and missing values.
    fn finish(mut self) -> (Spec, Figures, Vec<String>, MissingValues) {
        self.missing.symbols_without_price = self.no_price.into_iter().collect();
        (self.spec, self.f, self.notes, self.missing)
    }
}
fn provenance_cite(p: &Provenance) -> String {
    match (&p.repository, &p.date) {
        _ if p.licence.is_some() || p.date.is_some() => format!(
            "npm @hyperlane-xyz/registry{}",
            p.date
                .as_deref()
                .map(|d| format!(", fetched {d}"))
                .unwrap_or_default()
        ),
        _ => "npm @hyperlane-xyz/registry".to_owned(),
    }
}

/// The Hyperlane registry source (`ringfence import hyperlane DIR`).
#[derive(Clone, Copy, Debug, Default)]
pub struct HyperlaneRegistry;

/// Reads every `warp_routes/<SYMBOL>/<name>-config.json` under `dir`, maps and validates.
pub fn import_dir(dir: &Path, prices: &Prices) -> Result<(Import, Figures)> {
    import_dir_as(dir, &dir.display().to_string(), prices)
}

/// As [`import_dir`], naming the directory `origin` in the spec's header.
pub fn import_dir_as(dir: &Path, origin: &str, prices: &Prices) -> Result<(Import, Figures)> {
    let help = "give the directory that holds warp_routes/<SYMBOL>/<name>-config.json (e.g. data/hyperlane-registry)";
    let wr = dir.join("warp_routes");
    let read_dir = |p: &Path| {
        std::fs::read_dir(p).map_err(|source| Error::Read {
            file: p.to_owned(),
            source,
            help: help.to_owned(),
        })
    };
    let mut files = Vec::new();
    for sym in read_dir(&wr)? {
        let sym = sym
            .map_err(|source| Error::Read {
                file: wr.clone(),
                source,
                help: help.to_owned(),
            })?
            .path();
        if !sym.is_dir() {
            continue;
        }
        for f in read_dir(&sym)? {
            let f = f
                .map_err(|source| Error::Read {
                    file: sym.clone(),
                    source,
                    help: help.to_owned(),
                })?
                .path();
            if f.to_string_lossy().ends_with("-config.json") {
                files.push(f);
            }
        }
    }
    files.sort();
    let mut routes = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(&f).map_err(|source| Error::Read {
            file: f.clone(),
            source,
            help: "the file must be UTF-8 JSON".to_owned(),
        })?;
        let rel = f
            .strip_prefix(dir)
            .map_or_else(|_| f.clone(), |p| Path::new("hyperlane-registry").join(p));
        let id = f
            .strip_prefix(&wr)
            .map(|p| {
                p.to_string_lossy()
                    .trim_end_matches("-config.json")
                    .to_owned()
            })
            .unwrap_or_default();
        let mut route = parse_route(&f, &id, &text)?;
        route.file = rel;
        routes.push(route);
    }
    let provenance = Provenance::read_in(dir);
    let (spec, f, notes, missing) = map(&routes, &provenance, prices);
    validate(origin, &spec)?;
    let fig = Figure::new;
    let figures = vec![
        fig("routes", "warp route configs", f.routes),
        fig("tokens", "tokens in them", f.tokens),
        fig(
            "collateral",
            "EVM escrows (collateral, native) mapped",
            f.collateral,
        ),
        fig("synthetic", "EVM synthetic tokens mapped", f.synthetic),
        fig(
            "backed",
            "  of which backed by the route's one escrow",
            f.backed,
        ),
        fig(
            "not_evm",
            "tokens on chains that are not EVM (skipped)",
            f.not_evm,
        ),
        fig("other", "tokens of other standards (skipped)", f.other),
        fig(
            "duplicates",
            "tokens listed in more than one route (mapped once)",
            f.duplicates,
        ),
        fig("chains", "chains with a mapped token", f.chains),
    ];
    let header = vec![
        format!("Imported by `ringfence import hyperlane` from {origin}:"),
        "Hyperlane registry (npm @hyperlane-xyz/registry 26.1.0, MIT): warp route configs and chain ids.".to_owned(),
        format!("{} routes, {} tokens: {} EVM escrows and {} synthetic tokens mapped; {} non-EVM and {} other tokens skipped.", f.routes, f.tokens, f.collateral, f.synthetic, f.not_evm, f.other),
        "The registry publishes no owners, ISMs, rate limits or balances: routes use the placeholder set `hyperlane-default-ism` until L2BEAT's Hyperlane discovery is merged in.".to_owned(),
        missing.summary(),
    ];
    Ok((
        Import {
            source: HyperlaneRegistry.name(),
            spec,
            header,
            figures,
            notes,
            missing,
        },
        f,
    ))
}

impl Source for HyperlaneRegistry {
    fn name(&self) -> &'static str {
        "hyperlane"
    }

    fn describe(&self) -> &'static str {
        "the Hyperlane registry: a directory holding warp_routes/<SYMBOL>/<name>-config.json (e.g. data/hyperlane-registry)"
    }

    fn import(&self, input: &Path, prices: &Prices) -> Result<Import> {
        import_dir(input, prices).map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ROUTE: &str = r#"{"tokens": [
      {"chainName": "bsc", "standard": "EvmHypSynthetic", "decimals": 18, "symbol": "NEX", "addressOrDenom": "0x365DE036A1F7dcCb621530d517133521debB2013",
       "connections": [{"token": "ethereum|ethereum|0xb71183f48F7f7789D40551149bE28a51f9A97F9A"}]},
      {"chainName": "ethereum", "standard": "EvmHypCollateral", "decimals": 18, "symbol": "NEX", "addressOrDenom": "0xb71183f48F7f7789D40551149bE28a51f9A97F9A",
       "collateralAddressOrDenom": "0xf57D49646621F563b0B905aFc8336923AC569Ec5", "connections": [{"token": "ethereum|bsc|0x365DE036A1F7dcCb621530d517133521debB2013"}]},
      {"chainName": "solanamainnet", "standard": "SealevelHypSynthetic", "decimals": 9, "symbol": "NEX", "addressOrDenom": "So11111111111111111111111111111111111111112"},
      {"chainName": "ethereum", "standard": "EvmHypFuture", "decimals": 18, "symbol": "NEX", "addressOrDenom": "0xb71183f48F7f7789D40551149bE28a51f9A97F9B"}
    ]}"#;

    #[test]
    fn collateral_and_synthetic_map_with_backing_and_the_rest_is_noted() {
        let route = parse_route(Path::new("NEX/bsc-config.json"), "NEX/bsc", ROUTE).expect("valid");
        let (spec, f, notes, missing) = map(&[route], &Provenance::default(), &Prices::none());
        assert_eq!(
            (f.collateral, f.synthetic, f.backed, f.not_evm, f.other),
            (1, 1, 1, 1, 1)
        );
        let syn = spec
            .assets
            .iter()
            .find(|a| a.chain.get_ref() == "bsc")
            .expect("synthetic");
        assert_eq!(
            syn.id.get_ref(),
            "NEX@bsc:0x365de036a1f7dccb621530d517133521debb2013"
        );
        assert_eq!(syn.kind, AssetKind::Wrapped);
        assert_eq!(
            syn.backing[0].asset.get_ref(),
            "NEX@ethereum:0xb71183f48f7f7789d40551149be28a51f9a97f9a"
        );
        assert_eq!(
            syn.route
                .as_ref()
                .and_then(|r| r.source.as_ref())
                .map(|s| s.get_ref().as_str()),
            Some("ethereum")
        );
        assert!(
            notes
                .iter()
                .any(|n| n.contains("EvmHypFuture") && n.contains("does not know")),
            "{notes:?}"
        );
        assert_eq!(missing.without_price, 2);
        ringfence_model::Model::from_spec("t", spec).expect("valid spec");
    }

    #[test]
    fn bad_input_names_file_path_and_fix() {
        for (text, want) in [
            ("{}", "at $: missing field `tokens`"),
            (
                r#"{"tokens": [{"chainName": "nowhere", "standard": "EvmHypSynthetic", "decimals": 18, "symbol": "X", "addressOrDenom": "0x365DE036A1F7dcCb621530d517133521debB2013"}]}"#,
                "at $.tokens[0]: unknown chain `nowhere`",
            ),
            (
                r#"{"tokens": [{"chainName": "bsc", "standard": "EvmHypSynthetic", "decimals": 18, "symbol": "X", "addressOrDenom": "0x36"}]}"#,
                "at $.tokens[0].addressOrDenom: `addressOrDenom` \"0x36\" is not an EVM address",
            ),
            (
                r#"{"tokens": [{"chainName": "bsc", "standard": "EvmHypSynthetic", "symbol": "X", "addressOrDenom": "0x365DE036A1F7dcCb621530d517133521debB2013"}]}"#,
                "missing field `decimals`",
            ),
            (
                r#"{"tokens": [{"chainName": "bsc", "standard": "EvmHypSynthetic", "decimals": 18, "symbol": "X", "addressOrDenom": "0x365DE036A1F7dcCb621530d517133521debB2013", "connections": [{"token": "a|b"}]}]}"#,
                "at $.tokens[0].connections[0]: connection \"a|b\" is not",
            ),
        ] {
            let e = parse_route(Path::new("r.json"), "r", text)
                .expect_err(text)
                .to_string();
            assert!(e.contains(want) && e.contains("help: "), "{text}\n{e}");
        }
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(s in "\\PC{0,200}") {
            let _ = parse_route(Path::new("x.json"), "x", &s);
        }

        /// Any well-formed EVM token parses, and its router is kept in lower case.
        #[test]
        fn well_formed_tokens_parse(hex in "[0-9a-fA-F]{40}", dec in 0u32..40, std in prop::sample::select(vec!["EvmHypCollateral", "EvmHypSynthetic", "EvmHypNative", "EvmHypXERC20"])) {
            let text = format!(r#"{{"tokens": [{{"chainName": "ethereum", "standard": "{std}", "decimals": {dec}, "symbol": "T", "addressOrDenom": "0x{hex}"}}]}}"#);
            let r = parse_route(Path::new("x.json"), "x", &text).expect("valid");
            prop_assert_eq!(&r.tokens[0].router, &format!("0x{}", hex.to_ascii_lowercase()));
        }
    }
}
