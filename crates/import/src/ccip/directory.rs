//! The CCIP directory as published: typed, checked, nothing mapped yet. Parsing is pure (text in,
//! [`Directory`] out); every shape error names the file, the JSON path of the entry and the fix.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::json::{self, At};
use crate::{Error, Provenance, Result};

/// The text of one input file and the path it was read from.
#[derive(Clone, Debug)]
pub struct FileText {
    /// The path, as shown in errors.
    pub path: PathBuf,
    /// The whole text.
    pub text: String,
}

impl FileText {
    /// Wraps a file's text.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            text: text.into(),
        }
    }
}

/// The files of a directory snapshot, read but not parsed.
#[derive(Clone, Debug)]
pub struct DirectoryFiles {
    /// `chains.json`.
    pub chains: FileText,
    /// `tokens.json`.
    pub tokens: FileText,
    /// `lanes.json`.
    pub lanes: FileText,
    /// `verifiers.json`, absent in snapshots older than CCIP 2.0.
    pub verifiers: Option<FileText>,
    /// `decom.json`, the decommissioned chains.
    pub decom: Option<FileText>,
    /// `SOURCE.md`, where the snapshot comes from.
    pub source_md: Option<FileText>,
}

/// One CCIP chain (`chains.json`).
#[derive(Clone, Debug, PartialEq)]
pub struct ChainInfo {
    /// The CCIP chain selector (not an EVM chain id).
    pub selector: u64,
    /// The router address, if given.
    pub router: Option<String>,
}

/// How a token pool moves tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PoolType {
    /// Burns on the way out, mints on the way in.
    BurnMint,
    /// Locks on the way out, releases on the way in.
    LockRelease,
    /// Native USDC through Circle's CCTP.
    Usdc,
    /// Listed only as a fee token: no pool.
    FeeTokenOnly,
}

impl PoolType {
    /// The names the directory uses.
    pub const NAMES: [&'static str; 4] = ["burnMint", "lockRelease", "usdc", "feeTokenOnly"];

    /// The name as the directory writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::BurnMint => "burnMint",
            Self::LockRelease => "lockRelease",
            Self::Usdc => "usdc",
            Self::FeeTokenOnly => "feeTokenOnly",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "burnMint" => Self::BurnMint,
            "lockRelease" => Self::LockRelease,
            "usdc" => Self::Usdc,
            "feeTokenOnly" => Self::FeeTokenOnly,
            _ => return None,
        })
    }
}

/// A token on one chain (`tokens.json`, `$[token][chain]`).
#[derive(Clone, Debug, PartialEq)]
pub struct TokenPool {
    /// The symbol on this chain, which may differ from the token's key.
    pub symbol: Option<String>,
    /// The token's name.
    pub name: Option<String>,
    /// ERC-20 (or SPL…) decimals on this chain.
    pub decimals: u32,
    /// How the pool moves tokens.
    pub pool_type: PoolType,
    /// The token contract.
    pub token_address: Option<String>,
    /// The pool contract.
    pub pool_address: Option<String>,
    /// The pool's `typeAndVersion`.
    pub type_and_version: Option<String>,
}

/// One token bucket of a pool.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Limiter {
    /// Whether the pool enforces it.
    pub enabled: bool,
    /// Bucket size, in the chain's smallest token units.
    pub capacity: f64,
    /// Refill per second, in the chain's smallest token units.
    pub rate: f64,
}

/// The limiters of one token's pool towards one remote chain.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TokenLimits {
    /// What the pool accepts from the remote chain (`rateLimiterConfig.in`).
    pub inbound: Option<Limiter>,
    /// What the pool sends to the remote chain (`rateLimiterConfig.out`).
    pub outbound: Option<Limiter>,
}

/// One lane (`lanes.json`, `$[chain][remote]`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lane {
    /// The on-ramp's version (1.5.0, 1.6.0, 2.0.0…).
    pub on_ramp_version: Option<String>,
    /// The tokens it carries, with the limiters of the first chain's pool for them.
    pub tokens: BTreeMap<String, TokenLimits>,
}

/// A verifier listed for a chain (`verifiers.json`, `$[chain][address]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verifier {
    /// Its address on the chain.
    pub address: String,
    /// The directory's id for it (`chainlink`, `lombard`, `cctp`).
    pub id: String,
    /// Its display name (`Chainlink`), used as the organisation.
    pub name: String,
    /// `committee` or `api`.
    pub kind: String,
    /// `default` for the verifier messages use unless told otherwise.
    pub role: Option<String>,
    /// Its version.
    pub version: Option<String>,
}

/// A parsed, checked CCIP directory snapshot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Directory {
    /// The file names, for citations: chains, tokens, lanes, verifiers, decom.
    pub files: BTreeMap<&'static str, PathBuf>,
    /// Chains by name.
    pub chains: BTreeMap<String, ChainInfo>,
    /// Tokens by key, then chain.
    pub tokens: BTreeMap<String, BTreeMap<String, TokenPool>>,
    /// Lanes by first chain, then second chain.
    pub lanes: BTreeMap<String, BTreeMap<String, Lane>>,
    /// Verifiers by chain, in address order; `None` when the snapshot has no `verifiers.json`.
    pub verifiers: Option<BTreeMap<String, Vec<Verifier>>>,
    /// Decommissioned chains.
    pub decommissioned: BTreeSet<String>,
    /// Where the snapshot comes from.
    pub provenance: Provenance,
}

const CHAINS_HELP: &str = "chains.json maps each chain name to an object with at least `chainSelector` (a string of digits)";
const TOKENS_HELP: &str = "tokens.json maps each token to an object keyed by chain name, each with `decimals` (an integer) and `poolType`";
const LANES_HELP: &str = "lanes.json maps a chain name to an object keyed by the remote chain's name, each with optional `supportedTokens`";
const LIMITER_HELP: &str = "a rate limiter is `{\"capacity\": \"<digits>\", \"isEnabled\": true|false, \"rate\": \"<digits>\"}`";
const VERIFIERS_HELP: &str = "verifiers.json maps each chain name to an object keyed by verifier address, each with `id`, `name` and `type`";

/// Parses a snapshot's files. Pure: no file system.
pub fn parse(files: &DirectoryFiles) -> Result<Directory> {
    let mut dir = Directory {
        provenance: files
            .source_md
            .as_ref()
            .map(|f| Provenance::from_source_md(&f.text))
            .unwrap_or_default(),
        ..Directory::default()
    };
    dir.files.insert("chains", files.chains.path.clone());
    dir.files.insert("tokens", files.tokens.path.clone());
    dir.files.insert("lanes", files.lanes.path.clone());
    dir.chains = parse_chains(&files.chains)?;
    dir.tokens = parse_tokens(&files.tokens)?;
    dir.lanes = parse_lanes(&files.lanes)?;
    if let Some(f) = &files.verifiers {
        dir.files.insert("verifiers", f.path.clone());
        dir.verifiers = Some(parse_verifiers(f)?);
    }
    if let Some(f) = &files.decom {
        dir.files.insert("decom", f.path.clone());
        dir.decommissioned = parse_decom(f)?;
    }
    check_references(&dir, files)?;
    Ok(dir)
}

/// `chains.json`: each chain's selector and router.
fn parse_chains(file: &FileText) -> Result<BTreeMap<String, ChainInfo>> {
    let mut chains = BTreeMap::new();
    let v = json::parse(&file.path, &file.text)?;
    At::root(&file.path, &v).each(CHAINS_HELP, |name, c| {
        let selector = c.req("chainSelector", CHAINS_HELP, |s| {
            s.u64("the chain selector is a string of digits below 2^64")
        })?;
        let router = c
            .opt("router", |r| {
                r.opt("address", |a| {
                    a.str("the router's `address` is a string")
                        .map(str::to_owned)
                })
            })?
            .flatten();
        chains.insert(name.to_owned(), ChainInfo { selector, router });
        Ok(())
    })?;
    Ok(chains)
}

/// `tokens.json`: each token's pool on each chain.
fn parse_tokens(file: &FileText) -> Result<BTreeMap<String, BTreeMap<String, TokenPool>>> {
    two_levels(file, TOKENS_HELP, token_pool)
}

/// A file that is an object of objects, `{"a": {"b": entry}}`, each entry read with `entry`.
fn two_levels<T>(
    file: &FileText,
    help: &str,
    mut entry: impl FnMut(At<'_>) -> Result<T>,
) -> Result<BTreeMap<String, BTreeMap<String, T>>> {
    let mut out = BTreeMap::new();
    let v = json::parse(&file.path, &file.text)?;
    At::root(&file.path, &v).each(help, |outer, o| {
        let mut inner = BTreeMap::new();
        o.each(help, |key, e| {
            inner.insert(key.to_owned(), entry(e)?);
            Ok(())
        })?;
        out.insert(outer.to_owned(), inner);
        Ok(())
    })?;
    Ok(out)
}

/// One token's pool on one chain (an entry of `tokens.json`).
fn token_pool(e: At<'_>) -> Result<TokenPool> {
    let pool_type = e.req("poolType", TOKENS_HELP, |p| {
        let s = p.str("`poolType` is a string")?;
        PoolType::parse(s).ok_or_else(|| {
            p.error(
                format!("unknown pool type {s:?}"),
                format!(
                    "the known pool types are {}; this directory is newer than this ringfence — update ringfence, or remove the entry to import the rest",
                    PoolType::NAMES.join(", ")
                ),
            )
        })
    })?;
    let decimals = e.req("decimals", TOKENS_HELP, |d| {
        let n = d.u64("`decimals` is a whole number")?;
        u32::try_from(n).ok().filter(|n| *n <= 77).ok_or_else(|| {
            d.error(
                format!("{n} decimals is out of range"),
                "token decimals lie between 0 and 77 (uint256)",
            )
        })
    })?;
    let s = |key: &str| {
        e.opt(key, |x| {
            x.str(&format!("`{key}` is a string")).map(str::to_owned)
        })
    };
    Ok(TokenPool {
        symbol: s("symbol")?,
        name: s("name")?,
        decimals,
        pool_type,
        token_address: s("tokenAddress")?,
        pool_address: s("poolAddress")?,
        type_and_version: s("typeAndVersion")?,
    })
}

/// `lanes.json`: each lane's on-ramp version and per-token rate limits.
fn parse_lanes(file: &FileText) -> Result<BTreeMap<String, BTreeMap<String, Lane>>> {
    two_levels(file, LANES_HELP, parse_lane)
}

/// One lane (an entry of `lanes.json`).
fn parse_lane(lane: At<'_>) -> Result<Lane> {
    let on_ramp_version = lane
        .opt("onRamp", |r| {
            r.opt("version", |v| {
                v.str("`onRamp.version` is a string").map(str::to_owned)
            })
        })?
        .flatten();
    let mut tokens = BTreeMap::new();
    lane.opt("supportedTokens", |st| {
        st.each(LANES_HELP, |token, cfg| {
            let limits = cfg
                .opt("rateLimiterConfig", |rl| {
                    Ok(TokenLimits {
                        inbound: rl.opt("in", limiter)?,
                        outbound: rl.opt("out", limiter)?,
                    })
                })?
                .unwrap_or_default();
            tokens.insert(token.to_owned(), limits);
            Ok(())
        })
    })?;
    Ok(Lane {
        on_ramp_version,
        tokens,
    })
}

/// `verifiers.json`: each chain's verifiers, in address order.
fn parse_verifiers(f: &FileText) -> Result<BTreeMap<String, Vec<Verifier>>> {
    let v = json::parse(&f.path, &f.text)?;
    let mut all = BTreeMap::new();
    At::root(&f.path, &v).each(VERIFIERS_HELP, |chain, c| {
        let mut list = Vec::new();
        c.each(VERIFIERS_HELP, |address, e| {
            list.push(verifier(address, e)?);
            Ok(())
        })?;
        all.insert(chain.to_owned(), list);
        Ok(())
    })?;
    Ok(all)
}

/// One verifier (an entry of `verifiers.json`), at `address`.
fn verifier(address: &str, e: At<'_>) -> Result<Verifier> {
    let s = |key: &str| {
        e.req(key, VERIFIERS_HELP, |x| {
            x.str(&format!("`{key}` is a string")).map(str::to_owned)
        })
    };
    let o = |key: &str| {
        e.opt(key, |x| {
            x.str(&format!("`{key}` is a string")).map(str::to_owned)
        })
    };
    let id = s("id")?;
    if id.trim().is_empty() {
        return Err(e.error(
            "the verifier's `id` is empty",
            "give each verifier a non-empty `id`",
        ));
    }
    Ok(Verifier {
        address: address.to_owned(),
        name: o("name")?
            .filter(|n| !n.trim().is_empty())
            .unwrap_or_else(|| id.clone()),
        id,
        kind: s("type")?,
        role: o("role")?,
        version: o("version")?,
    })
}

/// `decom.json`: the decommissioned chains.
fn parse_decom(f: &FileText) -> Result<BTreeSet<String>> {
    let mut decommissioned = BTreeSet::new();
    let v = json::parse(&f.path, &f.text)?;
    At::root(&f.path, &v).each(
        "decom.json maps each decommissioned chain name to an object",
        |name, _| {
            decommissioned.insert(name.to_owned());
            Ok(())
        },
    )?;
    Ok(decommissioned)
}

fn limiter(at: At<'_>) -> Result<Limiter> {
    Ok(Limiter {
        enabled: at.req("isEnabled", LIMITER_HELP, |b| b.bool(LIMITER_HELP))?,
        capacity: at.req("capacity", LIMITER_HELP, |c| c.amount(LIMITER_HELP))?,
        rate: at.req("rate", LIMITER_HELP, |r| r.amount(LIMITER_HELP))?,
    })
}

/// Every token entry must be on a known chain: an asset on an unknown chain cannot be placed.
fn check_references(dir: &Directory, files: &DirectoryFiles) -> Result<()> {
    for (token, per_chain) in &dir.tokens {
        for chain in per_chain.keys() {
            if !dir.chains.contains_key(chain) {
                return Err(Error::Invalid {
                    file: files.tokens.path.clone(),
                    at: format!("$[{}][{}]", quote(token), quote(chain)),
                    message: format!(
                        "token `{token}` is listed on chain `{chain}`, which chains.json does not have"
                    ),
                    help: format!(
                        "add `{chain}` to chains.json, or remove this entry; the files must come from the same snapshot"
                    ),
                });
            }
        }
    }
    Ok(())
}

fn quote(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// Reads a snapshot's files from a directory (the only I/O of this source).
pub fn read(dir: &Path) -> Result<DirectoryFiles> {
    if !dir.is_dir() {
        return Err(Error::Read {
            file: dir.to_owned(),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                if dir.exists() { "not a directory" } else { "no such directory" },
            ),
            help: "give the directory that holds chains.json, tokens.json and lanes.json (e.g. data/ccip-directory)".to_owned(),
        });
    }
    let required = |name: &str| {
        read_text(&dir.join(name), true)
            .and_then(|f| f.ok_or_else(|| unreachable_missing(dir, name)))
    };
    Ok(DirectoryFiles {
        chains: required("chains.json")?,
        tokens: required("tokens.json")?,
        lanes: required("lanes.json")?,
        verifiers: read_text(&dir.join("verifiers.json"), false)?,
        decom: read_text(&dir.join("decom.json"), false)?,
        source_md: read_text(&dir.join("SOURCE.md"), false)?,
    })
}

fn unreachable_missing(dir: &Path, name: &str) -> Error {
    Error::Read {
        file: dir.join(name),
        source: std::io::Error::new(std::io::ErrorKind::NotFound, "missing"),
        help: "the CCIP directory needs chains.json, tokens.json and lanes.json".to_owned(),
    }
}

/// Reads a file as UTF-8; a missing optional file is `None`.
fn read_text(path: &Path, required: bool) -> Result<Option<FileText>> {
    match std::fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => Ok(Some(FileText::new(path, text))),
            Err(e) => Err(Error::Syntax {
                file: path.to_owned(),
                line: 0,
                column: 0,
                message: format!(
                    "not UTF-8 text (bad byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
                help: "the file is damaged: fetch it again from its source (see SOURCE.md)"
                    .to_owned(),
            }),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(None),
        Err(source) => Err(Error::Read {
            file: path.to_owned(),
            source,
            help: if required {
                "the CCIP directory needs chains.json, tokens.json and lanes.json side by side; check the directory given".to_owned()
            } else {
                "check the file's permissions, or remove it".to_owned()
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(chains: &str, tokens: &str, lanes: &str) -> DirectoryFiles {
        DirectoryFiles {
            chains: FileText::new("chains.json", chains),
            tokens: FileText::new("tokens.json", tokens),
            lanes: FileText::new("lanes.json", lanes),
            verifiers: None,
            decom: None,
            source_md: None,
        }
    }

    const CHAINS: &str =
        r#"{"a": {"chainSelector": "1", "router": {"address": "0xr"}}, "b": {"chainSelector": 2}}"#;

    #[test]
    fn parses_the_shapes_the_directory_uses() {
        let d = parse(&files(
            CHAINS,
            r#"{"T": {"a": {"decimals": 18, "poolType": "burnMint", "symbol": "T"}}}"#,
            r#"{"a": {"b": {"onRamp": {"version": "1.6.0"}, "supportedTokens": {"T": {"rateLimiterConfig": {"in": {"capacity": "10", "isEnabled": true, "rate": "1"}}}}}}}"#,
        ))
        .expect("valid");
        assert_eq!(d.chains["a"].router.as_deref(), Some("0xr"));
        assert_eq!(d.chains["b"].selector, 2);
        assert_eq!(d.tokens["T"]["a"].pool_type, PoolType::BurnMint);
        let lim = d.lanes["a"]["b"].tokens["T"];
        assert_eq!(
            lim.inbound,
            Some(Limiter {
                enabled: true,
                capacity: 10.0,
                rate: 1.0
            })
        );
        assert_eq!(lim.outbound, None);
    }

    #[test]
    fn each_shape_error_names_file_path_and_fix() {
        let ok_t = r#"{"T": {"a": {"decimals": 18, "poolType": "burnMint"}}}"#;
        for (c, t, l, want) in [
            (
                "[]",
                ok_t,
                "{}",
                "chains.json: at $: expected an object, found an array",
            ),
            (
                r#"{"a": {}}"#,
                ok_t,
                "{}",
                "chains.json: at $.a: missing field `chainSelector`",
            ),
            (
                CHAINS,
                r#"{"T": {"a": {"decimals": 18, "poolType": "mintBurn"}}}"#,
                "{}",
                "tokens.json: at $.T.a.poolType: unknown pool type \"mintBurn\"",
            ),
            (
                CHAINS,
                r#"{"T": {"a": {"decimals": "18", "poolType": "burnMint"}}}"#,
                "{}",
                "",
            ),
            (
                CHAINS,
                r#"{"T": {"a": {"decimals": 300, "poolType": "burnMint"}}}"#,
                "{}",
                "tokens.json: at $.T.a.decimals: 300 decimals is out of range",
            ),
            (
                CHAINS,
                r#"{"T": {"z": {"decimals": 1, "poolType": "burnMint"}}}"#,
                "{}",
                "tokens.json: at $[\"T\"][\"z\"]: token `T` is listed on chain `z`",
            ),
            (
                CHAINS,
                ok_t,
                r#"{"a": {"b": {"supportedTokens": {"T": {"rateLimiterConfig": {"in": {"capacity": "-5", "isEnabled": true, "rate": "1"}}}}}}}"#,
                "lanes.json: at $.a.b.supportedTokens.T.rateLimiterConfig.in.capacity: expected a non-negative integer",
            ),
            (
                CHAINS,
                ok_t,
                r#"{"a": {"b": {"supportedTokens": {"T": {"rateLimiterConfig": {"in": {"capacity": "5", "isEnabled": "yes", "rate": "1"}}}}}}}"#,
                "lanes.json: at $.a.b.supportedTokens.T.rateLimiterConfig.in.isEnabled: expected true or false, found a string",
            ),
            (
                CHAINS,
                ok_t,
                "{\"a\": ",
                "lanes.json:1:6: not valid JSON: EOF while parsing a value\n",
            ),
        ] {
            match parse(&files(c, t, l)) {
                Ok(_) if want.is_empty() => {}
                Ok(_) => panic!("accepted, expected {want}"),
                Err(e) => {
                    let e = e.to_string();
                    assert!(
                        !want.is_empty() && e.starts_with(want),
                        "want {want:?}, got {e}"
                    );
                    assert!(e.contains("\n  help: "), "{e}");
                }
            }
        }
    }
}
