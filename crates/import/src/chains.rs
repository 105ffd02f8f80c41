//! One chain naming for every importer, so that their outputs merge: a chain is named as the
//! Hyperlane registry names it (`ethereum`, `arbitrum`, `optimism`, `base`, `bsc`…) and carries
//! its EVM chain id from that registry (`data/hyperlane-registry/chains.json`, shipped in the
//! repository and compiled in). The other spellings the sources use — L2BEAT's address prefixes
//! (`eth:`, `arb1:`, `oeth:`), the CCIP directory's names (`mainnet`,
//! `ethereum-mainnet-arbitrum-1`), common short names (`eth`, `ethereum-mainnet`) — are aliases.
//!
//! Also here: EVM address parsing and the ids of entities that live at an address
//! (`<label>@<chain>:<0xaddress>`), which is how [`crate::merge`] knows that two sources describe
//! the same contract or key.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

/// A chain as every importer names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainName {
    /// The canonical name (the Hyperlane registry's).
    pub name: String,
    /// The EVM chain id, for EVM chains.
    pub chain_id: Option<u64>,
}

#[derive(Deserialize)]
struct RegistryChain {
    name: String,
    #[serde(rename = "chainId")]
    chain_id: serde_json::Value,
    protocol: String,
}

struct Table {
    by_name: BTreeMap<String, Option<u64>>,
    by_id: BTreeMap<u64, String>,
}

/// The registry's chain list, embedded at build time. It is data shipped in the repository and
/// checked by this module's tests, so a failure to parse it is a build defect, not bad input.
const REGISTRY: &str = include_str!("../../../data/hyperlane-registry/chains.json");

static TABLE: LazyLock<Table> = LazyLock::new(|| {
    let chains: Vec<RegistryChain> = serde_json::from_str(REGISTRY).unwrap_or_default();
    let mut by_name = BTreeMap::new();
    let mut by_id: BTreeMap<u64, String> = BTreeMap::new();
    for c in chains {
        let id = (c.protocol == "ethereum")
            .then(|| c.chain_id.as_u64())
            .flatten();
        if let Some(id) = id {
            // Several names share an id when one is deprecated: prefer the live name.
            let better = match by_id.get(&id) {
                None => true,
                Some(old) => old.starts_with("deprecated") && !c.name.starts_with("deprecated"),
            };
            if better {
                by_id.insert(id, c.name.clone());
            }
        }
        by_name.insert(c.name, id);
    }
    Table { by_name, by_id }
});

/// Other spellings → the registry's name. L2BEAT address prefixes, CCIP directory names and
/// common short names.
pub const ALIASES: &[(&str, &str)] = &[
    // L2BEAT address prefixes.
    ("eth", "ethereum"),
    ("arb1", "arbitrum"),
    ("oeth", "optimism"),
    ("scr", "scroll"),
    ("zksync2", "zksync"),
    ("matic", "polygon"),
    // Common spellings.
    ("ethereum-mainnet", "ethereum"),
    ("arbitrum-one", "arbitrum"),
    ("op", "optimism"),
    ("op-mainnet", "optimism"),
    ("bnb", "bsc"),
    ("polygon-pos", "polygon"),
    ("avax", "avalanche"),
    ("xdai", "gnosis"),
    // The CCIP directory's names.
    ("mainnet", "ethereum"),
    ("ethereum-mainnet-arbitrum-1", "arbitrum"),
    ("ethereum-mainnet-base-1", "base"),
    ("ethereum-mainnet-optimism-1", "optimism"),
    ("ethereum-mainnet-linea-1", "linea"),
    ("ethereum-mainnet-scroll-1", "scroll"),
    ("ethereum-mainnet-zksync-1", "zksync"),
    ("ethereum-mainnet-mantle-1", "mantle"),
    ("ethereum-mainnet-mode-1", "mode"),
    ("ethereum-mainnet-ink-1", "ink"),
    ("ethereum-mainnet-unichain-1", "unichain"),
    ("ethereum-mainnet-worldchain-1", "worldchain"),
    ("ethereum-mainnet-xlayer-1", "xlayer"),
    ("ethereum-mainnet-zircuit-1", "zircuit"),
    ("ethereum-mainnet-taiko-1", "taiko"),
    ("ethereum-mainnet-hashkey-1", "hashkey"),
    ("ethereum-mainnet-andromeda-1", "metis"),
    ("bsc-mainnet", "bsc"),
    ("binance-smart-chain-mainnet-opbnb-1", "opbnb"),
    ("matic-mainnet", "polygon"),
    ("polygon-mainnet-katana", "katana"),
    ("avalanche-mainnet", "avalanche"),
    ("xdai-mainnet", "gnosis"),
    ("bitcoin-mainnet-bob-1", "bob"),
    ("bitcoin-mainnet-bitlayer-1", "bitlayer"),
    ("bitcoin-mainnet-botanix", "botanix"),
    ("bitcoin-mainnet-bsquared-1", "bsquared"),
    ("bitcoin-merlin-mainnet", "merlin"),
    ("core-mainnet", "coredao"),
    ("cronos-zkevm-mainnet", "cronoszkevm"),
    ("hyperliquid-mainnet", "hyperevm"),
    ("polkadot-mainnet-astar", "astar"),
    ("rootstock-mainnet", "rootstockmainnet"),
    ("zora-mainnet", "zoramainnet"),
    ("solana-mainnet", "solanamainnet"),
];

/// The canonical chain for a name in any known spelling (case-insensitive): an alias, a registry
/// name, or `<registry name>-mainnet`. `None` when the name is not known.
pub fn resolve(name: &str) -> Option<ChainName> {
    let lower = name.trim().to_ascii_lowercase();
    let t = &*TABLE;
    let target = ALIASES
        .iter()
        .find(|(a, _)| *a == lower)
        .map(|(_, c)| (*c).to_owned())
        .or_else(|| t.by_name.contains_key(&lower).then(|| lower.clone()))
        .or_else(|| {
            lower
                .strip_suffix("-mainnet")
                .filter(|s| t.by_name.contains_key(*s))
                .map(str::to_owned)
        })?;
    let chain_id = t.by_name.get(&target).copied().flatten();
    // A deprecated registry name with a live successor resolves to the successor.
    let name = chain_id
        .and_then(|id| t.by_id.get(&id).cloned())
        .unwrap_or(target);
    Some(ChainName { name, chain_id })
}

/// The canonical chain for an EVM chain id.
pub fn by_chain_id(id: u64) -> Option<ChainName> {
    TABLE.by_id.get(&id).map(|name| ChainName {
        name: name.clone(),
        chain_id: Some(id),
    })
}

/// The canonical name of a chain, or the name itself (lower-cased) when it is not known.
pub fn canonical_or_same(name: &str) -> ChainName {
    resolve(name).unwrap_or_else(|| ChainName {
        name: name.trim().to_ascii_lowercase(),
        chain_id: None,
    })
}

/// An EVM address (`0x` and 40 hex digits, any case) in lower case; `None` otherwise.
pub fn evm_address(s: &str) -> Option<String> {
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    (hex.len() == 40 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| format!("0x{}", hex.to_ascii_lowercase()))
}

/// A label for an id: lower case, runs of anything but letters and digits as one `-`.
pub fn slug(label: &str) -> String {
    let mut out = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        "unnamed".to_owned()
    } else {
        out
    }
}

/// The id of an entity at an address: `<label>@<chain>:<0xaddress>`. Two sources that describe
/// the same address on the same chain give ids with the same suffix, which [`crate::merge`]
/// joins.
pub fn address_id(label: &str, chain: &str, address: &str) -> String {
    format!("{label}@{chain}:{address}")
}

/// The `(chain, address)` an id made by [`address_id`] names, if it is one.
pub fn id_address(id: &str) -> Option<(&str, &str)> {
    let (_, rest) = id.rsplit_once('@')?;
    let (chain, address) = rest.rsplit_once(':')?;
    (evm_address(address).as_deref() == Some(address) && !chain.is_empty())
        .then_some((chain, address))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_embedded_registry_parses_and_is_large() {
        assert!(TABLE.by_name.len() > 200, "{}", TABLE.by_name.len());
        assert_eq!(TABLE.by_id.get(&1).map(String::as_str), Some("ethereum"));
    }

    #[test]
    fn every_source_spelling_of_ethereum_and_arbitrum_is_one_chain() {
        for n in ["eth", "ethereum", "Ethereum", "ethereum-mainnet", "mainnet"] {
            assert_eq!(
                resolve(n),
                Some(ChainName {
                    name: "ethereum".into(),
                    chain_id: Some(1)
                }),
                "{n}"
            );
        }
        for n in ["arb1", "arbitrum", "ethereum-mainnet-arbitrum-1"] {
            assert_eq!(resolve(n).and_then(|c| c.chain_id), Some(42161), "{n}");
        }
        assert_eq!(resolve("oeth").map(|c| c.name), Some("optimism".into()));
        assert_eq!(
            resolve("ronin-mainnet").and_then(|c| c.chain_id),
            Some(2020)
        );
        assert_eq!(resolve("base").and_then(|c| c.chain_id), Some(8453));
        assert_eq!(by_chain_id(10).map(|c| c.name), Some("optimism".into()));
        assert_eq!(resolve("no-such-chain"), None);
    }

    #[test]
    fn every_alias_names_a_registry_chain() {
        for (a, c) in ALIASES {
            assert!(TABLE.by_name.contains_key(*c), "{a} → {c}");
        }
    }

    #[test]
    fn deprecated_names_resolve_to_their_live_successor() {
        assert_eq!(
            resolve("deprecatedmetall2").map(|c| c.name),
            Some("metal".into())
        );
    }

    #[test]
    fn addresses_and_ids() {
        assert_eq!(
            evm_address("0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48").as_deref(),
            Some("0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48")
        );
        for bad in [
            "0x12",
            "A0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
            "0xZZb86991c6218b36c1d19D4a2e9Eb0cE3606eB48",
            "",
        ] {
            assert_eq!(evm_address(bad), None, "{bad}");
        }
        let id = address_id(
            "usdc",
            "ethereum",
            "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48",
        );
        assert_eq!(
            id_address(&id),
            Some(("ethereum", "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48"))
        );
        assert_eq!(id_address("USDC@ethereum"), None);
        assert_eq!(slug("Stargate Multisig 2"), "stargate-multisig-2");
        assert_eq!(slug("--"), "unnamed");
    }

    proptest! {
        #[test]
        fn evm_address_accepts_exactly_forty_hex_digits(s in "(0x)?[0-9a-fA-FgG]{0,44}") {
            let ok = s.len() == 42 && s.starts_with("0x") && s[2..].bytes().all(|b| b.is_ascii_hexdigit());
            prop_assert_eq!(evm_address(&s).is_some(), ok);
        }

        #[test]
        fn address_ids_round_trip(label in "[a-z0-9-]{1,20}", chain in "[a-z0-9]{1,12}", hex in "[0-9a-f]{40}") {
            let a = format!("0x{hex}");
            let id = address_id(&label, &chain, &a);
            prop_assert_eq!(id_address(&id), Some((chain.as_str(), a.as_str())));
        }

        #[test]
        fn resolve_never_panics_and_is_idempotent(s in "\\PC{0,30}") {
            if let Some(c) = resolve(&s) {
                prop_assert_eq!(resolve(&c.name), Some(c));
            }
        }
    }
}
