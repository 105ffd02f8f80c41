//! Chainlink's published CCIP directory (`chains.json`, `tokens.json`, `lanes.json`,
//! `verifiers.json`, `decom.json`, as in `smartcontractkit/documentation`,
//! `src/config/data/ccip/v1_2_0/mainnet/`) as an ecosystem spec.
//!
//! The mapping (the README has the full table):
//! - each chain → a `chain`, named as every importer names it ([`crate::chains`]: `mainnet` →
//!   `ethereum`) with its EVM chain id from the Hyperlane registry where the alias table knows the
//!   directory's name; otherwise the directory's name and no `chain_id` (it publishes none);
//! - CCIP → the layer `ccip`; each verifier of `verifiers.json` → an operator (org = its name);
//!   each chain that lists verifiers → a verifier set `ccip-verifiers@<chain>`; the verifiers
//!   with role `default` → `ccip-default`, the layer's set, used where none is listed;
//! - each token-chain entry with pool type `burnMint`, `lockRelease` or `usdc` → an asset
//!   `<TOKEN>@<chain>` (`wrapped`, `canonical`, `stablecoin`); `feeTokenOnly` entries are not
//!   assets;
//! - a `burnMint` asset has a route through `ccip`, secured by its chain's verifier set, with a
//!   rate limit only if every lane into its chain that lists the token has its inbound limiter
//!   enabled (the sum of their capacities and refill rates, in whole tokens).
//!
//! `lanes.json` is keyed `[chain][remote]`, and a token's `rateLimiterConfig` there is the
//! configuration of the pool on `chain`: `in` is what it accepts from `remote`, `out` what it
//! sends, in `chain`'s decimals. (The data shows it: reUSD's entry under avalanche-mainnet →
//! tempo-mainnet reads 1.1e24, 18 decimals, and under tempo-mainnet → avalanche-mainnet 1.1e12,
//! 6 decimals — both 1.1 million tokens.)

mod directory;
mod map;

use std::path::Path;

pub use directory::{
    ChainInfo, Directory, DirectoryFiles, FileText, Lane, Limiter, PoolType, TokenLimits,
    TokenPool, Verifier, parse, read,
};
pub use map::{
    DEFAULT_SET, Figures, Inbound, LAYER, Mapped, asset_id, chain_name, map, operator_id,
    verifier_set_id,
};

use crate::source::validate;
use crate::{Figure, Import, Prices, Result, Source};

/// The CCIP directory source (`ringfence import ccip-directory DIR`).
#[derive(Clone, Copy, Debug, Default)]
pub struct CcipDirectory;

/// A CCIP import: the generic [`Import`] and the directory's own figures and inbound lanes.
#[derive(Clone, Debug)]
pub struct CcipImport {
    /// What every source returns.
    pub import: Import,
    /// The figures, typed.
    pub figures: Figures,
    /// The inbound lanes of every burnMint deployment.
    pub inbound: Vec<Inbound>,
}

impl CcipImport {
    /// The burnMint deployments without a rate limit, in id order.
    pub fn unbounded(&self) -> impl Iterator<Item = &Inbound> {
        self.inbound.iter().filter(|i| i.is_unbounded())
    }
}

/// Reads, parses, maps and validates a directory.
pub fn import_dir(dir: &Path, prices: &Prices) -> Result<CcipImport> {
    let files = read(dir)?;
    import_files(&files, &dir.display().to_string(), prices)
}

/// Parses, maps and validates already-read files; `origin` names them in the spec's header.
pub fn import_files(files: &DirectoryFiles, origin: &str, prices: &Prices) -> Result<CcipImport> {
    let dir = parse(files)?;
    let mapped = map(&dir, prices);
    validate(origin, &mapped.spec)?;
    let figures = figures(&mapped.figures);
    let header = header(origin, &dir, &mapped);
    Ok(CcipImport {
        import: Import {
            source: CcipDirectory.name(),
            spec: mapped.spec,
            header,
            figures,
            notes: mapped.notes,
            missing: mapped.missing,
        },
        figures: mapped.figures,
        inbound: mapped.inbound,
    })
}

/// The import's figures, as `ringfence import` prints them.
fn figures(f: &Figures) -> Vec<Figure> {
    let fig = Figure::new;
    vec![
        fig("chains", "chains", f.chains),
        fig(
            "decommissioned_chains",
            "of which listed as decommissioned",
            f.decommissioned_chains,
        ),
        fig("tokens", "tokens", f.tokens),
        fig(
            "token_chain_entries",
            "token-chain entries",
            f.token_chain_entries,
        ),
        fig("lanes", "lanes", f.lanes),
        fig(
            "lane_token_configs",
            "per-token rate-limiter configurations on lanes",
            f.lane_token_configs,
        ),
        fig(
            "chains_with_verifiers",
            "chains with verifiers listed",
            f.chains_with_verifiers,
        ),
        fig("verifiers", "distinct verifiers (operators)", f.verifiers),
        fig(
            "assets",
            "assets (burnMint + lockRelease + usdc entries)",
            f.assets,
        ),
        fig(
            "burn_mint",
            "burnMint deployments (wrapped, minted through CCIP)",
            f.burn_mint,
        ),
        fig(
            "lock_release",
            "lockRelease deployments (canonical)",
            f.lock_release,
        ),
        fig("usdc", "usdc deployments (stablecoin, CCTP)", f.usdc),
        fig(
            "fee_token_only",
            "feeTokenOnly entries (not assets)",
            f.fee_token_only,
        ),
        fig(
            "burn_mint_bounded",
            "burnMint deployments with every inbound lane rate-limited",
            f.burn_mint_bounded,
        ),
        fig(
            "burn_mint_without_rate_limit",
            "burnMint deployments that can be minted through at least one lane without a rate limit",
            f.burn_mint_without_rate_limit(),
        ),
        fig(
            "burn_mint_limiter_disabled",
            "  of which with an inbound limiter disabled",
            f.burn_mint_limiter_disabled,
        ),
        fig(
            "burn_mint_every_lane_disabled",
            "  of which with the limiter disabled on every inbound lane",
            f.burn_mint_every_lane_disabled,
        ),
        fig(
            "burn_mint_limiter_unpublished",
            "  of which with an inbound limiter not published",
            f.burn_mint_limiter_unpublished,
        ),
        fig(
            "disabled_inbound_lanes",
            "  inbound lane limiters disabled on them",
            f.disabled_inbound_lanes,
        ),
        fig(
            "tokens_without_rate_limit",
            "  distinct tokens among them",
            f.tokens_without_rate_limit,
        ),
        fig(
            "burn_mint_no_inbound_lane",
            "burnMint deployments with no inbound lane listed",
            f.burn_mint_no_inbound_lane,
        ),
    ]
}

/// The spec's header: where it comes from and what it holds.
fn header(origin: &str, dir: &Directory, mapped: &Mapped) -> Vec<String> {
    let f = &mapped.figures;
    let mut header = vec![
    format!("Imported by `ringfence import ccip-directory` from {origin}:"),
    format!(
        "Chainlink CCIP directory, {}{}.",
        dir.provenance.cite(),
        dir.provenance.licence.as_deref().map(|l| format!(", licence {l}")).unwrap_or_default()
    ),
    format!("Files: {}.", dir.files.values().filter_map(|p| p.file_name()).map(|n| n.to_string_lossy()).collect::<Vec<_>>().join(", ")),
    format!(
        "{} chains, {} tokens in {} token-chain entries, {} lanes; {} assets, of which {} burnMint; {} burnMint deployments can be \
         minted through at least one lane without a rate limit.",
        f.chains,
        f.tokens,
        f.token_chain_entries,
        f.lanes,
        f.assets,
        f.burn_mint,
        f.burn_mint_without_rate_limit()
    ),
    "Every entity's `source` says where its figures come from and what the directory does not say.".to_owned(),
    ];
    header.push(mapped.missing.summary());
    header
}

impl Source for CcipDirectory {
    fn name(&self) -> &'static str {
        "ccip-directory"
    }

    fn describe(&self) -> &'static str {
        "Chainlink's published CCIP directory: a directory holding chains.json, tokens.json, lanes.json (and verifiers.json, decom.json, SOURCE.md)"
    }

    fn import(&self, input: &Path, prices: &Prices) -> Result<Import> {
        import_dir(input, prices).map(|c| c.import)
    }
}
