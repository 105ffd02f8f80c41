//! L2BEAT's `discovered.json` as published: typed, checked, nothing mapped yet. Parsing is pure
//! (text in, [`Project`] out) and reads only the fields the mapping uses (see `data/l2beat/FORMAT.md`);
//! a field it uses that has the wrong shape, or an address in a form it does not know, is an
//! error naming the file, the JSON path and the fix. An entry of a type other than `Contract` or
//! `EOA` is skipped with a note, never guessed.

use std::path::{Path, PathBuf};

use crate::Result;
use crate::chains;
use crate::json::{self, At};

/// An address on a chain, as every importer names them: canonical chain, lower-case address.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Addr {
    /// The canonical chain name ([`crate::chains`]).
    pub chain: String,
    /// `0x` and 40 lower-case hex digits.
    pub address: String,
}

impl Addr {
    /// True for the zero address (L2BEAT's "none").
    pub fn is_zero(&self) -> bool {
        self.address.bytes().skip(2).all(|b| b == b'0')
    }
}

impl std::fmt::Display for Addr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.chain, self.address)
    }
}

/// What kind of address an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A contract.
    Contract,
    /// An externally owned account.
    Eoa,
}

/// A k-of-n gate read from an entry: a multisig's signers or a verifier set's members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Gate {
    /// The members.
    pub members: Vec<Addr>,
    /// How many must sign.
    pub threshold: u32,
    /// The JSON path of the fields it was read from.
    pub field: String,
    /// What it is, for source text (`Gnosis Safe $members/$threshold`, `guardian set`…).
    pub what: &'static str,
}

/// A LayerZero DVN's own quorum.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dvn {
    /// Signatures it needs.
    pub quorum: u32,
    /// Signers it has.
    pub signer_size: u32,
    /// The signers, when the discovery lists them all.
    pub signers: Vec<Addr>,
    /// The JSON path.
    pub field: String,
}

/// A LayerZero ULN configuration (`getUlnConfig`): which DVNs must verify a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uln {
    /// Every one of these must verify.
    pub required: Vec<Addr>,
    /// `optional_threshold` of these must verify too.
    pub optional: Vec<Addr>,
    /// How many optional DVNs must verify.
    pub optional_threshold: u32,
    /// Block confirmations before verifying.
    pub confirmations: u64,
    /// The JSON path.
    pub field: String,
}

/// A permission an entry holds (`receivedPermissions`): L2BEAT's resolved end holder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Permission {
    /// `upgrade`, `act`, `interact`, … (unknown kinds kept as opaque labels).
    pub kind: String,
    /// The contract the power is over.
    pub from: Addr,
    /// The field or role granting it.
    pub role: Option<String>,
    /// Seconds of delay on the path (the permission's and every hop's).
    pub delay_s: u64,
    /// The JSON path.
    pub field: String,
}

impl Permission {
    /// True for a power over the contract itself: an upgrade, or its `owner` role.
    pub fn at_is_admin(&self) -> bool {
        self.kind == "upgrade"
            || (self.kind == "interact" && self.role.as_deref() == Some(".owner"))
    }
}

/// One entry of `entries`.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Its index in `entries`, for `$.entries[i]`.
    pub index: usize,
    /// Contract or EOA.
    pub kind: Kind,
    /// Where it is.
    pub at: Addr,
    /// The address as written (`eth:0x…`, checksummed).
    pub written: String,
    /// L2BEAT's name for it.
    pub name: Option<String>,
    /// The discovery template (`GnosisSafe`, `layerzero/DVN`, …).
    pub template: Option<String>,
    /// L2BEAT's description.
    pub description: Option<String>,
    /// Multisig signers and threshold (`$members`/`$threshold`, `signerAccounts`/`signerThreshold`,
    /// `getOwners`/`required`).
    pub multisig: Option<Gate>,
    /// A verifier set (`validators`/`threshold`, `guardianSet`, `getBridgeOperators`/`getThreshold`,
    /// `oracleAddresses`/`minConfirmations`, `validatorList`/`requiredSignatures`, `updater`, `mpc`).
    pub verifier: Option<Gate>,
    /// A LayerZero DVN's quorum.
    pub dvn: Option<Dvn>,
    /// A LayerZero ULN configuration.
    pub uln: Option<Uln>,
    /// `$admin`.
    pub admin: Option<Addr>,
    /// `owner`.
    pub owner: Option<Addr>,
    /// `interchainSecurityModule` (Hyperlane).
    pub ism: Option<Addr>,
    /// The escrowed token (`wrappedToken`, else `token`).
    pub token: Option<Addr>,
    /// `poolBalance`, in the token's smallest units.
    pub pool_balance: Option<f64>,
    /// A timelock or delay field and its value in seconds.
    pub delay: Option<(String, u64)>,
    /// `$immutable`.
    pub immutable: bool,
    /// `receivedPermissions`.
    pub received: Vec<Permission>,
    /// `eoaWithUpgradePermissions`.
    pub eoa_with_upgrade: bool,
    /// `controlsMajorityOfUpgradePermissions`.
    pub controls_majority: bool,
}

impl Entry {
    /// `$.entries[i]`.
    pub fn path(&self) -> String {
        format!("$.entries[{}]", self.index)
    }

    /// Its name, or what it is.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(match self.kind {
            Kind::Contract => "contract",
            Kind::Eoa => "eoa",
        })
    }
}

/// One project's `discovered.json`.
#[derive(Clone, Debug, PartialEq)]
pub struct Project {
    /// The project's name (`name`), e.g. `layerzero`.
    pub name: String,
    /// The file, as shown in errors and sources (relative to the imported directory).
    pub file: PathBuf,
    /// Unix seconds of the discovery run.
    pub timestamp: u64,
    /// The entries it maps.
    pub entries: Vec<Entry>,
    /// Entries skipped, with why.
    pub notes: Vec<String>,
}

const TOP_HELP: &str = "a discovered.json is an object with `name` (string), `timestamp` (Unix seconds) and `entries` (an array); see data/l2beat/FORMAT.md";
const ENTRY_HELP: &str = "each entry has `type` (\"Contract\" or \"EOA\") and `address` (\"<chain prefix>:0x…\"); see data/l2beat/FORMAT.md";
const ADDR_HELP: &str = "an L2BEAT address is \"<chain prefix>:0x<40 hex digits>\", e.g. \"eth:0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48\"; a prefix ringfence does not know needs an alias in crates/import/src/chains.rs";
const GATE_HELP: &str = "a member list is an array of L2BEAT addresses and a threshold a non-negative integer (see data/l2beat/FORMAT.md, Multisigs and Verifier sets)";
const PERM_HELP: &str = "a received permission is {\"permission\": \"<kind>\", \"from\": \"<address>\", \"role\"?: \"…\", \"delay\"?: <seconds>, \"via\"?: [{\"address\": …, \"delay\"?: <seconds>}]}";

/// Reads an address written as `<prefix>:0x…`.
pub(crate) fn addr(at: At<'_>) -> Result<Addr> {
    let s = at.str(ADDR_HELP)?;
    let (prefix, a) = s.split_once(':').ok_or_else(|| {
        at.error(
            format!("{s:?} is not an L2BEAT address (no chain prefix)"),
            ADDR_HELP,
        )
    })?;
    let chain = chains::resolve(prefix).ok_or_else(|| {
        at.error(
            format!("unknown chain prefix `{prefix}` in {s:?}"),
            ADDR_HELP,
        )
    })?;
    let address = chains::evm_address(a).ok_or_else(|| {
        at.error(
            format!("{s:?} is not an EVM address (0x and 40 hex digits)"),
            ADDR_HELP,
        )
    })?;
    Ok(Addr {
        chain: chain.name,
        address,
    })
}

fn addrs(at: At<'_>) -> Result<Vec<Addr>> {
    let mut out = Vec::new();
    at.items(GATE_HELP, |_, a| {
        out.push(addr(a)?);
        Ok(())
    })?;
    Ok(out)
}

fn gate(
    values: At<'_>,
    members: &str,
    threshold: &str,
    what: &'static str,
) -> Result<Option<Gate>> {
    let Some((field, m)) = values.opt(members, |m| Ok((m.path(), addrs(m)?)))? else {
        return Ok(None);
    };
    let Some(t) = values.opt(threshold, |t| t.u32(GATE_HELP))? else {
        return Ok(None);
    };
    Ok(Some(Gate {
        members: m,
        threshold: t,
        field,
        what,
    }))
}

fn single(values: At<'_>, field: &str, what: &'static str) -> Result<Option<Gate>> {
    // Only an address-shaped string is a single signer; other types are another field.
    if !values
        .value()
        .get(field)
        .is_some_and(serde_json::Value::is_string)
    {
        return Ok(None);
    }
    Ok(values.opt(field, addr)?.map(|a| Gate {
        members: vec![a],
        threshold: 1,
        field: format!("{}.{field}", values.path()),
        what,
    }))
}

fn opt_addr(values: At<'_>, field: &str) -> Result<Option<Addr>> {
    if !values
        .value()
        .get(field)
        .is_some_and(serde_json::Value::is_string)
    {
        return Ok(None);
    }
    values.opt(field, addr)
}

/// Reads an entry's `values`: its gates, DVN and ULN settings, addresses and delay.
fn parse_values(values: At<'_>, e: &mut Entry) -> Result<()> {
    e.multisig = multisig(values)?;
    e.verifier = verifier(values)?;
    if e.template.as_deref().is_some_and(|t| t.ends_with("/DVN")) {
        e.dvn = dvn(values)?;
    }
    e.uln = uln(values)?;
    e.admin = opt_addr(values, "$admin")?;
    e.owner = opt_addr(values, "owner")?;
    e.ism = opt_addr(values, "interchainSecurityModule")?;
    e.token = match opt_addr(values, "wrappedToken")? {
        Some(t) => Some(t),
        None => opt_addr(values, "token")?,
    };
    e.pool_balance = values.opt("poolBalance", |b| {
        b.amount("poolBalance is a non-negative integer (a number or a string of digits)")
    })?;
    e.delay = delay(values)?;
    e.immutable = values
        .opt("$immutable", |b| b.bool("$immutable is true or false"))?
        .unwrap_or(false);
    Ok(())
}

/// The multisig gate, from the first of the known member/threshold field pairs present.
fn multisig(values: At<'_>) -> Result<Option<Gate>> {
    Ok(
        match gate(
            values,
            "$members",
            "$threshold",
            "multisig $members/$threshold",
        )? {
            Some(g) => Some(g),
            None => match gate(
                values,
                "signerAccounts",
                "signerThreshold",
                "multisig signerAccounts/signerThreshold",
            )? {
                Some(g) => Some(g),
                None => gate(
                    values,
                    "getOwners",
                    "required",
                    "multisig getOwners/required",
                )?,
            },
        },
    )
}

/// The verifier gate, from the first of the known verifier shapes present.
fn verifier(values: At<'_>) -> Result<Option<Gate>> {
    let mut verifier = gate(values, "validators", "threshold", "validators/threshold")?;
    if verifier.is_none() {
        verifier = guardian_set(values)?;
    }
    if verifier.is_none() {
        verifier = bridge_operators(values)?;
    }
    if verifier.is_none() {
        verifier = gate(
            values,
            "oracleAddresses",
            "minConfirmations",
            "oracles (oracleAddresses/minConfirmations)",
        )?;
    }
    if verifier.is_none() {
        verifier = gate(
            values,
            "validatorList",
            "requiredSignatures",
            "validators (validatorList/requiredSignatures)",
        )?;
    }
    if verifier.is_none() {
        verifier = single(values, "updater", "single updater (updater)")?;
    }
    if verifier.is_none() {
        verifier = single(values, "mpc", "single MPC key (mpc)")?;
    }
    Ok(verifier)
}

/// Wormhole's guardian set and quorum.
fn guardian_set(values: At<'_>) -> Result<Option<Gate>> {
    values.opt("guardianSet", |g| {
        let keys = g.req("keys", GATE_HELP, addrs)?;
        let quorum = match values.opt("currentQuorumHardcoded", |q| q.u32(GATE_HELP))? {
            Some(q) => q,
            // Wormhole's rule when the hard-coded quorum is not read: 2/3 of the set, plus one.
            None => u32::try_from(keys.len() * 2 / 3 + 1).unwrap_or(u32::MAX),
        };
        Ok(Gate {
            members: keys,
            threshold: quorum,
            field: format!("{}.keys", g.path()),
            what: "guardian set (guardianSet.keys, currentQuorumHardcoded)",
        })
    })
}

/// Bridge operators with a num/denom threshold (a fraction of them).
fn bridge_operators(values: At<'_>) -> Result<Option<Gate>> {
    if let Some(ops) = values.opt("getBridgeOperators", addrs)?
        && let Some((num, denom)) = values
            .opt("getThreshold", |t| {
                let num = t.opt("num", |n| n.u64(GATE_HELP))?;
                let denom = t.opt("denom", |n| n.u64(GATE_HELP))?;
                Ok(num.zip(denom))
            })?
            .flatten()
    {
        if denom == 0 || num > denom {
            return Err(values.error(
                format!("getThreshold {num}/{denom} is not a fraction of at most 1"),
                GATE_HELP,
            ));
        }
        let n = ops.len() as u128;
        let k = (n * u128::from(num)).div_ceil(u128::from(denom));
        return Ok(Some(Gate {
            members: ops,
            threshold: u32::try_from(k).unwrap_or(u32::MAX),
            field: format!("{}.getBridgeOperators", values.path()),
            what: "bridge operators (getBridgeOperators, getThreshold num/denom of them)",
        }));
    }
    Ok(None)
}

/// A LayerZero DVN's quorum and signers, when both quorum and signer size are read.
fn dvn(values: At<'_>) -> Result<Option<Dvn>> {
    Ok(
        match (
            values.opt("quorum", |q| q.u32(GATE_HELP))?,
            values.opt("signerSize", |q| q.u32(GATE_HELP))?,
        ) {
            (Some(quorum), Some(signer_size)) => Some(Dvn {
                quorum,
                signer_size,
                signers: values.opt("getSigners", addrs)?.unwrap_or_default(),
                field: format!("{}.quorum", values.path()),
            }),
            _ => None,
        },
    )
}

/// A LayerZero ULN config: required and optional DVNs.
fn uln(values: At<'_>) -> Result<Option<Uln>> {
    values.opt("getUlnConfig", |u| {
        const H: &str = "getUlnConfig is {\"confirmations\", \"requiredDVNs\": [addresses], \"optionalDVNs\": [addresses], \"optionalDVNThreshold\"}";
        Ok(Uln {
            required: u.req("requiredDVNs", H, addrs)?,
            optional: u.opt("optionalDVNs", addrs)?.unwrap_or_default(),
            optional_threshold: u.opt("optionalDVNThreshold", |t| t.u32(H))?.unwrap_or(0),
            confirmations: u.opt("confirmations", |t| t.u64(H))?.unwrap_or(0),
            field: u.path(),
        })
    })
}

/// The first timelock delay field present, with its name.
fn delay(values: At<'_>) -> Result<Option<(String, u64)>> {
    for f in [
        "getMinDelay",
        "minimumTimeLockDelay",
        "recoveryTimelock",
        "delayPeriod",
    ] {
        if let Some(d) = values.opt(f, |d| d.u64("a delay is a whole number of seconds"))? {
            return Ok(Some((f.to_owned(), d)));
        }
    }
    Ok(None)
}

fn permissions(at: At<'_>, out: &mut Vec<Permission>) -> Result<()> {
    at.items(PERM_HELP, |_, p| {
        let kind = p.req("permission", PERM_HELP, |k| {
            k.str(PERM_HELP).map(str::to_owned)
        })?;
        let from = p.req("from", PERM_HELP, addr)?;
        let role = p.opt("role", |r| r.str(PERM_HELP).map(str::to_owned))?;
        let mut delay_s = p.opt("delay", |d| d.u64(PERM_HELP))?.unwrap_or(0);
        p.opt("via", |v| {
            v.items(PERM_HELP, |_, hop| {
                delay_s =
                    delay_s.saturating_add(hop.opt("delay", |d| d.u64(PERM_HELP))?.unwrap_or(0));
                Ok(())
            })
        })?;
        out.push(Permission {
            kind,
            from,
            role,
            delay_s,
            field: p.path(),
        });
        Ok(())
    })
}

/// Parses one `discovered.json`; `file` names it in errors and sources. Pure: no file system.
pub fn parse(file: &Path, text: &str) -> Result<Project> {
    let v = json::parse(file, text)?;
    let root = At::root(file, &v);
    root.object(TOP_HELP)?;
    let name = root.req("name", TOP_HELP, |n| n.str(TOP_HELP).map(str::to_owned))?;
    let timestamp = root.req("timestamp", TOP_HELP, |t| t.u64(TOP_HELP))?;
    let mut entries = Vec::new();
    let mut notes = Vec::new();
    root.req("entries", TOP_HELP, |es| {
        es.items(TOP_HELP, |index, e| {
            let ty = e.req("type", ENTRY_HELP, |t| t.str(ENTRY_HELP).map(str::to_owned))?;
            let kind = match ty.as_str() {
                "Contract" => Kind::Contract,
                "EOA" => Kind::Eoa,
                other => {
                    notes.push(format!(
                        "{}: {}: entry type {other:?} is not one ringfence maps (Contract, EOA); skipped",
                        file.display(),
                        e.path()
                    ));
                    return Ok(());
                }
            };
            let written = e.req("address", ENTRY_HELP, |a| a.str(ENTRY_HELP).map(str::to_owned))?;
            let at = e.req("address", ENTRY_HELP, addr)?;
            let text = |k: &str| e.opt(k, |s| s.str(ENTRY_HELP).map(str::to_owned));
            let mut entry = Entry {
                index,
                kind,
                at,
                written,
                name: text("name")?,
                template: text("template")?,
                description: text("description")?,
                multisig: None,
                verifier: None,
                dvn: None,
                uln: None,
                admin: None,
                owner: None,
                ism: None,
                token: None,
                pool_balance: None,
                delay: None,
                immutable: false,
                received: Vec::new(),
                eoa_with_upgrade: e
                    .opt("eoaWithUpgradePermissions", |b| b.bool(ENTRY_HELP))?
                    .unwrap_or(false),
                controls_majority: e
                    .opt("controlsMajorityOfUpgradePermissions", |b| b.bool(ENTRY_HELP))?
                    .unwrap_or(false),
            };
            e.opt("values", |vals| {
                vals.object("`values` is an object of the fields read on chain")?;
                parse_values(vals, &mut entry)
            })?;
            e.opt("receivedPermissions", |p| permissions(p, &mut entry.received))?;
            entries.push(entry);
            Ok(())
        })
    })?;
    Ok(Project {
        name,
        file: file.to_owned(),
        timestamp,
        entries,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SAFE: &str = r#"{"name": "p", "timestamp": 1700000000, "entries": [
      {"type": "Contract", "address": "eth:0x562Dfaac27A84be6C96273F5c9594DA1681C0DA7", "name": "Hyperlane Multisig",
       "values": {"$members": ["eth:0xD5c0D17cCb9071D27a4F7eD8255F59989b9aee0d", "eth:0x3b548E88BA3259A6f45DEeA91449cdda5cF164b3"], "$threshold": 2}},
      {"type": "EOA", "address": "eth:0xD5c0D17cCb9071D27a4F7eD8255F59989b9aee0d",
       "receivedPermissions": [{"permission": "upgrade", "from": "eth:0xc005dc82818d67AF737725bD4bf75435d065D239", "role": "admin", "delay": 10, "via": [{"address": "eth:0x75EE15Ee1B4A75Fa3e2fDF5DF3253c25599cc659", "delay": 5}]}]},
      {"type": "Reference", "address": "eth:0x0000000000000000000000000000000000000001"}
    ]}"#;

    #[test]
    fn reads_gates_permissions_and_skips_unknown_types_with_a_note() {
        let p = parse(Path::new("p/discovered.json"), SAFE).expect("valid");
        assert_eq!(p.entries.len(), 2);
        let g = p.entries[0].multisig.as_ref().expect("a multisig");
        assert_eq!((g.members.len(), g.threshold), (2, 2));
        assert_eq!(g.members[0].chain, "ethereum");
        assert_eq!(g.field, "$.entries[0].values[\"$members\"]");
        let perm = &p.entries[1].received[0];
        assert_eq!((perm.kind.as_str(), perm.delay_s), ("upgrade", 15));
        assert_eq!(perm.field, "$.entries[1].receivedPermissions[0]");
        assert!(
            p.notes[0].contains("$.entries[2]") && p.notes[0].contains("\"Reference\""),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn bad_input_names_file_path_and_fix() {
        for (text, want) in [
            (
                "{\"name\": \"p\", \"timestamp\": 1}",
                "p.json: at $: missing field `entries`",
            ),
            ("[1]", "p.json: at $: expected an object, found an array"),
            (
                "{\"name\": \"p\", \"timestamp\": 1, \"entries\": [{\"type\": \"EOA\"}]}",
                "at $.entries[0]: missing field `address`",
            ),
            (
                "{\"name\": \"p\", \"timestamp\": 1, \"entries\": [{\"type\": \"EOA\", \"address\": \"zz:0x562Dfaac27A84be6C96273F5c9594DA1681C0DA7\"}]}",
                "at $.entries[0].address: unknown chain prefix `zz`",
            ),
            (
                "{\"name\": \"p\", \"timestamp\": 1, \"entries\": [{\"type\": \"EOA\", \"address\": \"eth:0x56\"}]}",
                "is not an EVM address",
            ),
            (
                "{\"name\": \"p\", \"timestamp\": 1, \"entries\": [{\"type\": \"Contract\", \"address\": \"eth:0x562Dfaac27A84be6C96273F5c9594DA1681C0DA7\", \"values\": {\"$members\": [\"eth:0x562Dfaac27A84be6C96273F5c9594DA1681C0DA7\"], \"$threshold\": \"x\"}}]}",
                "at $.entries[0].values[\"$threshold\"]: expected a non-negative integer",
            ),
            (
                "{\"name\": \"p\", \"timestamp\": 1, \"entries\": [{\"type\": \"Contract\", \"address\": \"eth:0x562Dfaac27A84be6C96273F5c9594DA1681C0DA7\", \"values\": {\"guardianSet\": {\"keys\": [\"0x12\"]}}}]}",
                "at $.entries[0].values.guardianSet.keys[0]: \"0x12\" is not an L2BEAT address",
            ),
            ("{\"name\": \"p\", ", "p.json:1:"),
        ] {
            let e = parse(Path::new("p.json"), text)
                .expect_err(text)
                .to_string();
            assert!(e.contains(want), "{text}\n{e}");
            assert!(e.contains("help: "), "{e}");
        }
    }

    #[test]
    fn bridge_operator_threshold_is_the_fraction_rounded_up() {
        let text = r#"{"name": "r", "timestamp": 1, "entries": [{"type": "Contract", "address": "eth:0x562Dfaac27A84be6C96273F5c9594DA1681C0DA7",
          "values": {"getBridgeOperators": ["eth:0x562Dfaac27A84be6C96273F5c9594DA1681C0DA7", "eth:0xD5c0D17cCb9071D27a4F7eD8255F59989b9aee0d", "eth:0x3b548E88BA3259A6f45DEeA91449cdda5cF164b3"], "getThreshold": {"num": 7, "denom": 10}}}]}"#;
        let p = parse(Path::new("r.json"), text).expect("valid");
        assert_eq!(p.entries[0].verifier.as_ref().map(|g| g.threshold), Some(3));
    }

    proptest! {
        /// Whatever the text, parsing returns a project or a located error: never a panic.
        #[test]
        fn never_panics_on_arbitrary_text(s in "\\PC{0,200}") {
            let _ = parse(Path::new("x.json"), &s);
        }

        /// Any entry with a well-formed address on a known chain parses; its address is kept
        /// in lower case on the canonical chain.
        #[test]
        fn addresses_on_known_prefixes_parse(prefix in prop::sample::select(vec!["eth", "arb1", "oeth", "base"]), hex in "[0-9a-fA-F]{40}", threshold in 0u32..50) {
            let text = format!(r#"{{"name": "x", "timestamp": 1, "entries": [{{"type": "Contract", "address": "{prefix}:0x{hex}", "values": {{"$members": ["{prefix}:0x{hex}"], "$threshold": {threshold}}}}}]}}"#);
            let p = parse(Path::new("x.json"), &text).expect("valid");
            prop_assert_eq!(&p.entries[0].at.address, &format!("0x{}", hex.to_ascii_lowercase()));
            prop_assert_eq!(p.entries[0].multisig.as_ref().map(|g| g.threshold), Some(threshold));
        }

        /// A JSON value of the wrong type in any gate field is an error at that field's path.
        #[test]
        fn wrong_types_in_gate_fields_are_located(field in prop::sample::select(vec!["$members", "validators", "oracleAddresses", "signerAccounts"]), bad in prop::sample::select(vec!["1", "\"x\"", "{}", "[1]"])) {
            let thr = match field { "$members" => "$threshold", "validators" => "threshold", "oracleAddresses" => "minConfirmations", _ => "signerThreshold" };
            let text = format!(r#"{{"name": "x", "timestamp": 1, "entries": [{{"type": "Contract", "address": "eth:0x562Dfaac27A84be6C96273F5c9594DA1681C0DA7", "values": {{"{field}": {bad}, "{thr}": 1}}}}]}}"#);
            let e = parse(Path::new("x.json"), &text).expect_err("bad").to_string();
            let at = if field.starts_with('$') { format!("$.entries[0].values[\"{field}\"]") } else { format!("$.entries[0].values.{field}") };
            prop_assert!(e.contains(&at), "{}", e);
        }
    }
}
