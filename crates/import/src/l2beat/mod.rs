//! L2BEAT discovery outputs (`<project>/discovered.json`, as in `l2beat/l2beat`,
//! `packages/config/src/projects/`) as an ecosystem spec. `data/l2beat/FORMAT.md` describes the
//! files; the README has the mapping table.
//!
//! - Gnosis Safes and other multisigs (`$members`/`$threshold`, `signerAccounts`/`signerThreshold`,
//!   `getOwners`/`required`) → `key` (multisig), signers → operators;
//! - EOAs that hold an upgrade, act or interact permission → `key` (eoa);
//! - validator, guardian, operator and oracle sets, single updaters and MPC keys, LayerZero DVNs and
//!   ULN configurations → `verifier_set`;
//! - each project that shows a verifier set → a `layer` (id = the project's name), admin = the
//!   holder of most upgrade permissions over its contracts, with the delay on its paths as timelock;
//! - escrows ("Escrow for X", Stargate pools) → assets routed through the project's layer, supply
//!   from `poolBalance` where the discovery reads it.
//!
//! Every id of something at an address is `<label>@<chain>:<0xaddress>`, and every `source`
//! names the file, the JSON path and the L2BEAT address.

mod discovered;
mod map;

use std::path::{Path, PathBuf};

pub use discovered::{Addr, Dvn, Entry, Gate, Kind, Permission, Project, Uln, parse};
pub use map::{Figures, Mapped, layer_id, map, signer_id};

use crate::source::validate;
use crate::{Error, Figure, Import, Prices, Provenance, Result, Source};

/// The L2BEAT source (`ringfence import l2beat DIR`).
#[derive(Clone, Copy, Debug, Default)]
pub struct L2beat;

/// The `discovered.json` files under `dir` (one level of project folders), in path order.
pub fn files(dir: &Path) -> Result<Vec<PathBuf>> {
    let read = |p: &Path| {
        std::fs::read_dir(p).map_err(|source| Error::Read {
            file: p.to_owned(),
            source,
            help: "give the directory that holds one folder per project, each with a discovered.json (e.g. data/l2beat)".to_owned(),
        })
    };
    let mut out = Vec::new();
    for entry in read(dir)? {
        let entry = entry.map_err(|source| Error::Read {
            file: dir.to_owned(),
            source,
            help: "check the directory's permissions".to_owned(),
        })?;
        let f = entry.path().join("discovered.json");
        if f.is_file() {
            out.push(f);
        }
    }
    out.sort();
    if out.is_empty() {
        return Err(Error::Invalid {
            file: dir.to_owned(),
            at: "the directory".to_owned(),
            message: "no <project>/discovered.json under it".to_owned(),
            help: "give the directory that holds one folder per project, each with a discovered.json (e.g. data/l2beat)".to_owned(),
        });
    }
    Ok(out)
}

/// Reads, parses, maps and validates every project under `dir`.
pub fn import_dir(dir: &Path, prices: &Prices) -> Result<(Import, Figures)> {
    import_dir_as(dir, &dir.display().to_string(), prices)
}

/// As [`import_dir`], naming the directory `origin` in the spec's header.
pub fn import_dir_as(dir: &Path, origin: &str, prices: &Prices) -> Result<(Import, Figures)> {
    let mut projects = Vec::new();
    for f in files(dir)? {
        let text = std::fs::read_to_string(&f).map_err(|source| Error::Read {
            file: f.clone(),
            source,
            help: "the file must be UTF-8 JSON; fetch it again from its source (see SOURCE.md)"
                .to_owned(),
        })?;
        let shown = f
            .strip_prefix(dir)
            .map_or_else(|_| f.clone(), |p| Path::new("l2beat").join(p));
        let mut p = parse(&f, &text)?;
        p.file = shown;
        projects.push(p);
    }
    import_projects(&projects, origin, &Provenance::read_in(dir), prices)
}

/// Maps and validates parsed projects; `origin` names them in the header.
pub fn import_projects(
    projects: &[Project],
    origin: &str,
    provenance: &Provenance,
    prices: &Prices,
) -> Result<(Import, Figures)> {
    let mapped = map(projects, prices);
    validate(origin, &mapped.spec)?;
    let f = &mapped.figures;
    let fig = Figure::new;
    let figures = vec![
        fig("projects", "projects (discovered.json files)", f.projects),
        fig("entries", "entries", f.entries),
        fig("addresses", "distinct addresses", f.addresses),
        fig("multisigs", "multisig keys", f.multisigs),
        fig("eoa_keys", "EOA keys (holding a permission)", f.eoa_keys),
        fig(
            "eoa_upgraders",
            "  of which can upgrade a contract",
            f.eoa_upgraders,
        ),
        fig(
            "verifier_sets",
            "verifier sets (validators, guardians, DVNs, ULN configs)",
            f.verifier_sets,
        ),
        fig(
            "operators",
            "operators (signers, validators, DVNs)",
            f.operators,
        ),
        fig("layers", "layers (projects with a verifier set)", f.layers),
        fig(
            "projects_without_verifier_set",
            "projects without a verifier set in discovery (no layer)",
            f.projects_without_verifier_set,
        ),
        fig("assets", "escrows mapped to assets", f.assets),
        fig(
            "assets_with_supply",
            "  of which with a supply read on chain (poolBalance)",
            f.assets_with_supply,
        ),
    ];
    let dates: Vec<String> = projects
        .iter()
        .map(|p| format!("{} {}", p.name, map_date(p.timestamp)))
        .collect();
    let header = vec![
        format!("Imported by `ringfence import l2beat` from {origin}:"),
        format!(
            "L2BEAT discovery outputs ({}{}); discovery dates: {}.",
            provenance.repository.as_deref().unwrap_or("l2beat/l2beat"),
            provenance.licence.as_deref().map(|l| format!(", licence {l}")).unwrap_or_default(),
            dates.join(", ")
        ),
        format!(
            "{} projects, {} addresses: {} multisig keys, {} EOA keys ({} can upgrade a contract), {} verifier sets, {} layers, {} escrows as assets.",
            f.projects, f.addresses, f.multisigs, f.eoa_keys, f.eoa_upgraders, f.verifier_sets, f.layers, f.assets
        ),
        "Every entity's `source` names the file, the JSON path and the L2BEAT address it comes from.".to_owned(),
        mapped.missing.summary(),
    ];
    Ok((
        Import {
            source: L2beat.name(),
            spec: mapped.spec,
            header,
            figures,
            notes: mapped.notes,
            missing: mapped.missing,
        },
        mapped.figures,
    ))
}

fn map_date(ts: u64) -> String {
    let days = ts / 86_400;
    // Reuse the mapping's civil-date conversion through a tiny shim to keep one algorithm.
    map::civil(days)
}

impl Source for L2beat {
    fn name(&self) -> &'static str {
        "l2beat"
    }

    fn describe(&self) -> &'static str {
        "L2BEAT discovery outputs: a directory with one folder per project, each holding a discovered.json (e.g. data/l2beat)"
    }

    fn import(&self, input: &Path, prices: &Prices) -> Result<Import> {
        import_dir(input, prices).map(|(i, _)| i)
    }
}
