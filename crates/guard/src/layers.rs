//! The messaging layers' own configuration events, which the `privileged` rule trips on by
//! default: whoever changes a route's verifiers, libraries, ISM, rate limits or signers can
//! forge what the route delivers next (Sandbox OFT, August 2026: `setDelegate`, then himself as
//! the only DVN). Every signature is copied from the layer's contracts; each entry cites the file
//! and commit it was read from.

use alloy::json_abi::Event as AbiEvent;
use alloy::primitives::B256;

use crate::event::PrivilegedChange;

/// A messaging layer (or account system) whose configuration events are known.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Layer {
    /// LayerZero V2: `EndpointV2` (delegate, message libraries) and the ULN 302 send/receive
    /// libraries (DVN and executor configuration).
    LayerzeroV2,
    /// Hyperlane: the `Mailbox` default ISM and hooks, a `MailboxClient`'s own ISM and hook.
    Hyperlane,
    /// Chainlink CCIP token pools: remote chains, remote pools, rate limiters, router, admin.
    Ccip,
    /// Safe accounts: modules, guards, fallback handler (owner and threshold changes are in the
    /// standard set as `signer-set-changed`).
    Safe,
    /// ringfence's own `RingfenceAttestationVerifier`: attestor set and threshold.
    Ringfence,
}

impl Layer {
    /// Every layer, the default of a `privileged` rule's `layers`.
    pub const ALL: [Self; 5] = [
        Self::LayerzeroV2,
        Self::Hyperlane,
        Self::Ccip,
        Self::Safe,
        Self::Ringfence,
    ];

    /// The name used in configs and evidence.
    pub fn name(self) -> &'static str {
        match self {
            Self::LayerzeroV2 => "layerzero-v2",
            Self::Hyperlane => "hyperlane",
            Self::Ccip => "ccip",
            Self::Safe => "safe",
            Self::Ringfence => "ringfence",
        }
    }

    /// The layer with this config name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.name() == name)
    }
}

/// One configuration event of a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LayerEvent {
    /// Its layer.
    pub layer: Layer,
    /// The Solidity declaration (parameter names as in the source; struct parameters as tuples).
    pub signature: &'static str,
    /// Where it is declared: repository, commit and file.
    pub source: &'static str,
}

const LZ_ENDPOINT: &str = "LayerZero-Labs/LayerZero-v2@9c741e7f packages/layerzero-v2/evm/protocol/contracts/interfaces/ILayerZeroEndpointV2.sol";
const LZ_LIBMANAGER: &str = "LayerZero-Labs/LayerZero-v2@9c741e7f packages/layerzero-v2/evm/protocol/contracts/interfaces/IMessageLibManager.sol";
const LZ_ULN: &str = "LayerZero-Labs/LayerZero-v2@9c741e7f packages/layerzero-v2/evm/messagelib/contracts/uln/UlnBase.sol";
const LZ_SENDLIB: &str = "LayerZero-Labs/LayerZero-v2@9c741e7f packages/layerzero-v2/evm/messagelib/contracts/SendLibBase.sol";
const HL_MAILBOX: &str = "hyperlane-xyz/hyperlane-monorepo@f0f8a56c solidity/contracts/Mailbox.sol";
const HL_CLIENT: &str =
    "hyperlane-xyz/hyperlane-monorepo@f0f8a56c solidity/contracts/client/MailboxClient.sol";
const CCIP_POOL: &str = "smartcontractkit/chainlink-ccip@contracts-ccip-v1.6.2 (0e3e0fc5) chains/evm/contracts/pools/TokenPool.sol";
const CCIP_RATE: &str = "smartcontractkit/chainlink-ccip@contracts-ccip-v1.6.2 (0e3e0fc5) chains/evm/contracts/libraries/RateLimiter.sol";
const CCIP_POOL_150: &str =
    "smartcontractkit/ccip@dee09c78 contracts/src/v0.8/ccip/pools/TokenPool.sol (v1.5.0)";
const CCIP_POOL_MAIN: &str =
    "smartcontractkit/chainlink-ccip@7ab3fc52 chains/evm/contracts/pools/TokenPool.sol (main)";
const SAFE_MODULES: &str =
    "safe-global/safe-smart-account@v1.5.0 (dc437e8f) contracts/interfaces/IModuleManager.sol";
const SAFE_GUARD: &str =
    "safe-global/safe-smart-account@v1.5.0 (dc437e8f) contracts/interfaces/IGuardManager.sol";
const SAFE_FALLBACK: &str =
    "safe-global/safe-smart-account@v1.5.0 (dc437e8f) contracts/interfaces/IFallbackManager.sol";
const RINGFENCE: &str = "ringfence contracts/src/RingfenceAttestationVerifier.sol";

/// `RateLimiter.Config`: (bool isEnabled, uint128 capacity, uint128 rate).
macro_rules! rl {
    () => {
        "(bool,uint128,uint128)"
    };
}
/// LayerZero `UlnConfig`: (uint64 confirmations, uint8 requiredDVNCount, uint8
/// optionalDVNCount, uint8 optionalDVNThreshold, address[] requiredDVNs, address[] optionalDVNs).
macro_rules! uln {
    () => {
        "(uint64,uint8,uint8,uint8,address[],address[])"
    };
}

const fn ev(layer: Layer, signature: &'static str, source: &'static str) -> LayerEvent {
    LayerEvent {
        layer,
        signature,
        source,
    }
}

/// Every known configuration event. Safe 1.3.0 declares the module, guard and fallback-handler
/// parameters without `indexed` (1.4 and later index them): the topic 0 is the same and both
/// encodings are decoded.
pub const LAYER_EVENTS: [LayerEvent; 38] = {
    use Layer::{Ccip, Hyperlane, LayerzeroV2 as Lz, Ringfence, Safe};
    [
        ev(
            Lz,
            "DelegateSet(address sender, address delegate)",
            LZ_ENDPOINT,
        ),
        ev(Lz, "LibraryRegistered(address newLib)", LZ_LIBMANAGER),
        ev(
            Lz,
            "DefaultSendLibrarySet(uint32 eid, address newLib)",
            LZ_LIBMANAGER,
        ),
        ev(
            Lz,
            "DefaultReceiveLibrarySet(uint32 eid, address newLib)",
            LZ_LIBMANAGER,
        ),
        ev(
            Lz,
            "DefaultReceiveLibraryTimeoutSet(uint32 eid, address oldLib, uint256 expiry)",
            LZ_LIBMANAGER,
        ),
        ev(
            Lz,
            "SendLibrarySet(address sender, uint32 eid, address newLib)",
            LZ_LIBMANAGER,
        ),
        ev(
            Lz,
            "ReceiveLibrarySet(address receiver, uint32 eid, address newLib)",
            LZ_LIBMANAGER,
        ),
        ev(
            Lz,
            "ReceiveLibraryTimeoutSet(address receiver, uint32 eid, address oldLib, uint256 timeout)",
            LZ_LIBMANAGER,
        ),
        ev(
            Lz,
            concat!("DefaultUlnConfigsSet((uint32,", uln!(), ")[] params)"),
            LZ_ULN,
        ),
        ev(
            Lz,
            concat!(
                "UlnConfigSet(address oapp, uint32 eid, ",
                uln!(),
                " config)"
            ),
            LZ_ULN,
        ),
        ev(
            Lz,
            "DefaultExecutorConfigsSet((uint32,(uint32,address))[] params)",
            LZ_SENDLIB,
        ),
        ev(
            Lz,
            "ExecutorConfigSet(address oapp, uint32 eid, (uint32,address) config)",
            LZ_SENDLIB,
        ),
        ev(Lz, "TreasurySet(address treasury)", LZ_SENDLIB),
        ev(
            Hyperlane,
            "DefaultIsmSet(address indexed module)",
            HL_MAILBOX,
        ),
        ev(
            Hyperlane,
            "DefaultHookSet(address indexed hook)",
            HL_MAILBOX,
        ),
        ev(
            Hyperlane,
            "RequiredHookSet(address indexed hook)",
            HL_MAILBOX,
        ),
        ev(Hyperlane, "IsmSet(address _ism)", HL_CLIENT),
        ev(Hyperlane, "HookSet(address _hook)", HL_CLIENT),
        ev(
            Ccip,
            concat!(
                "ChainAdded(uint64 remoteChainSelector, bytes remoteToken, ",
                rl!(),
                " outboundRateLimiterConfig, ",
                rl!(),
                " inboundRateLimiterConfig)"
            ),
            CCIP_POOL,
        ),
        ev(
            Ccip,
            concat!(
                "ChainConfigured(uint64 remoteChainSelector, ",
                rl!(),
                " outboundRateLimiterConfig, ",
                rl!(),
                " inboundRateLimiterConfig)"
            ),
            CCIP_POOL,
        ),
        ev(Ccip, "ChainRemoved(uint64 remoteChainSelector)", CCIP_POOL),
        ev(
            Ccip,
            "RemotePoolAdded(uint64 indexed remoteChainSelector, bytes remotePoolAddress)",
            CCIP_POOL,
        ),
        ev(
            Ccip,
            "RemotePoolRemoved(uint64 indexed remoteChainSelector, bytes remotePoolAddress)",
            CCIP_POOL,
        ),
        ev(Ccip, "AllowListAdd(address sender)", CCIP_POOL),
        ev(Ccip, "AllowListRemove(address sender)", CCIP_POOL),
        ev(
            Ccip,
            "RouterUpdated(address oldRouter, address newRouter)",
            CCIP_POOL,
        ),
        ev(Ccip, "RateLimitAdminSet(address rateLimitAdmin)", CCIP_POOL),
        ev(
            Ccip,
            concat!("ConfigChanged(", rl!(), " config)"),
            CCIP_RATE,
        ),
        ev(
            Ccip,
            "RemotePoolSet(uint64 indexed remoteChainSelector, bytes previousPoolAddress, bytes remotePoolAddress)",
            CCIP_POOL_150,
        ),
        ev(
            Ccip,
            concat!(
                "RateLimitConfigured(uint64 indexed remoteChainSelector, bool fastFinality, ",
                rl!(),
                " outboundRateLimiterConfig, ",
                rl!(),
                " inboundRateLimiterConfig)"
            ),
            CCIP_POOL_MAIN,
        ),
        ev(
            Ccip,
            "DynamicConfigSet(address router, address rateLimitAdmin, address feeAdmin)",
            CCIP_POOL_MAIN,
        ),
        ev(Safe, "EnabledModule(address indexed module)", SAFE_MODULES),
        ev(Safe, "DisabledModule(address indexed module)", SAFE_MODULES),
        ev(
            Safe,
            "ChangedModuleGuard(address indexed moduleGuard)",
            SAFE_MODULES,
        ),
        ev(Safe, "ChangedGuard(address indexed guard)", SAFE_GUARD),
        ev(
            Safe,
            "ChangedFallbackHandler(address indexed handler)",
            SAFE_FALLBACK,
        ),
        ev(
            Ringfence,
            "AttestorSetProposed(address[] attestors, uint256 threshold, uint64 eta)",
            RINGFENCE,
        ),
        ev(
            Ringfence,
            "AttestorSetChanged(address[] attestors, uint256 threshold)",
            RINGFENCE,
        ),
    ]
};

impl LayerEvent {
    /// The parsed event (its [`AbiEvent::selector`] is the topic 0).
    pub fn abi(&self) -> Option<AbiEvent> {
        AbiEvent::parse(self.signature).ok()
    }

    /// The event's name, e.g. `DelegateSet`.
    pub fn name(&self) -> &'static str {
        self.signature
            .split_once('(')
            .map_or(self.signature, |(n, _)| n)
    }
}

/// The known event at `index` in [`LAYER_EVENTS`].
pub fn layer_event(index: u16) -> Option<&'static LayerEvent> {
    LAYER_EVENTS.get(usize::from(index))
}

/// How many leading parameters a [`PrivilegedChange::LayerConfigChanged`] keeps.
pub const LAYER_ARGS: usize = 3;

/// The change a log of known event `index` (matched on its topic 0) makes: the event and the
/// words of its leading elementary parameters (see [`head_words`]).
pub fn layer_change(index: u16, topics: &[B256], data: &[u8]) -> PrivilegedChange {
    let mut args = [B256::ZERO; LAYER_ARGS];
    if let Some(ev) = layer_event(index).and_then(LayerEvent::abi) {
        for (slot, w) in args.iter_mut().zip(head_words(&ev, topics, data)) {
            *slot = w;
        }
    }
    PrivilegedChange::LayerConfigChanged { event: index, args }
}

/// The words of an event's leading elementary parameters (address, integers, bool, `bytesN`),
/// in declaration order, up to the first struct, array, `bytes` or `string`. An indexed
/// parameter is read from the next topic, or from the data when the log has no topic left (and a
/// non-indexed one the other way round): a contract version that declared it the other way
/// (Safe 1.3.0 against 1.4) emits the same topic 0 with the value elsewhere. Missing words end
/// the list; nothing here fails.
pub fn head_words(ev: &AbiEvent, topics: &[B256], data: &[u8]) -> Vec<B256> {
    let mut topics = topics.iter().skip(usize::from(!ev.anonymous));
    let mut data = data.chunks_exact(32).map(B256::from_slice);
    let mut out = Vec::new();
    for p in &ev.inputs {
        let elementary = !p.ty.contains('[')
            && !p.ty.starts_with('(')
            && !p.ty.starts_with("tuple")
            && p.ty != "bytes"
            && p.ty != "string";
        if !elementary {
            break;
        }
        // Either encoding of the same topic 0: a parameter declared the other way round is
        // where the other encoding puts it.
        let w = if p.indexed {
            topics.next().copied().or_else(|| data.next())
        } else {
            data.next().or_else(|| topics.next().copied())
        };
        match w {
            Some(w) => out.push(w),
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{Address, U256, keccak256};
    use proptest::prelude::*;

    /// Each entry's canonical signature (types only, structs as tuples) as the layer's source
    /// declares it: the table's parameter types are checked against this list, and each topic 0
    /// against the keccak of it.
    const CANONICAL: [&str; 38] = [
        "DelegateSet(address,address)",
        "LibraryRegistered(address)",
        "DefaultSendLibrarySet(uint32,address)",
        "DefaultReceiveLibrarySet(uint32,address)",
        "DefaultReceiveLibraryTimeoutSet(uint32,address,uint256)",
        "SendLibrarySet(address,uint32,address)",
        "ReceiveLibrarySet(address,uint32,address)",
        "ReceiveLibraryTimeoutSet(address,uint32,address,uint256)",
        "DefaultUlnConfigsSet((uint32,(uint64,uint8,uint8,uint8,address[],address[]))[])",
        "UlnConfigSet(address,uint32,(uint64,uint8,uint8,uint8,address[],address[]))",
        "DefaultExecutorConfigsSet((uint32,(uint32,address))[])",
        "ExecutorConfigSet(address,uint32,(uint32,address))",
        "TreasurySet(address)",
        "DefaultIsmSet(address)",
        "DefaultHookSet(address)",
        "RequiredHookSet(address)",
        "IsmSet(address)",
        "HookSet(address)",
        "ChainAdded(uint64,bytes,(bool,uint128,uint128),(bool,uint128,uint128))",
        "ChainConfigured(uint64,(bool,uint128,uint128),(bool,uint128,uint128))",
        "ChainRemoved(uint64)",
        "RemotePoolAdded(uint64,bytes)",
        "RemotePoolRemoved(uint64,bytes)",
        "AllowListAdd(address)",
        "AllowListRemove(address)",
        "RouterUpdated(address,address)",
        "RateLimitAdminSet(address)",
        "ConfigChanged((bool,uint128,uint128))",
        "RemotePoolSet(uint64,bytes,bytes)",
        "RateLimitConfigured(uint64,bool,(bool,uint128,uint128),(bool,uint128,uint128))",
        "DynamicConfigSet(address,address,address)",
        "EnabledModule(address)",
        "DisabledModule(address)",
        "ChangedModuleGuard(address)",
        "ChangedGuard(address)",
        "ChangedFallbackHandler(address)",
        "AttestorSetProposed(address[],uint256,uint64)",
        "AttestorSetChanged(address[],uint256)",
    ];

    #[test]
    fn every_signature_parses_to_the_sources_canonical_form_and_its_keccak() {
        for (e, canonical) in LAYER_EVENTS.iter().zip(CANONICAL) {
            let abi = e.abi().unwrap_or_else(|| panic!("{} parses", e.signature));
            assert_eq!(abi.signature(), canonical);
            assert_eq!(
                abi.selector(),
                keccak256(canonical.as_bytes()),
                "{canonical}"
            );
            assert_eq!(e.name(), abi.name);
            assert!(!e.source.is_empty());
        }
    }

    /// Topic 0 values as they appear in public sources independent of this table: the deployed
    /// LayerZero EndpointV2 bytecode (`PUSH32` before `LOG`), abigen bindings of ReceiveUln302 and
    /// Hyperlane's Mailbox, compiled CCIP token pools, and Safe log indexers.
    #[test]
    fn topics_match_values_seen_in_the_wild() {
        let pinned = [
            (
                "DelegateSet",
                "0x6ee10e9ed4d6ce9742703a498707862f4b00f1396a87195eb93267b3d7983981",
            ),
            (
                "LibraryRegistered",
                "0x6b374d56679ca9463f27c85c6311e2bb7fde69bf201d3da39d53f10bd9d78af5",
            ),
            (
                "DefaultReceiveLibraryTimeoutSet",
                "0x55b28633cdb29709386f555dfc54418592ad475ce7a65a78ac5928af60ffb8f8",
            ),
            (
                "UlnConfigSet",
                "0x82118522aa536ac0e96cc5c689407ae42b89d592aa133890a01f1509842f5081",
            ),
            (
                "DefaultUlnConfigsSet",
                "0xaaf3aaa0c11056e86ac56eb653e25b005ca1a7d4dcd21ba24647f7ab63f3b560",
            ),
            (
                "DefaultIsmSet",
                "0xa76ad0adbf45318f8633aa0210f711273d50fbb6fef76ed95bbae97082c75daa",
            ),
            (
                "DefaultHookSet",
                "0x65a63e5066ee2fcdf9d32a7f1bf7ce71c76066f19d0609dddccd334ab87237d7",
            ),
            (
                "ChainConfigured",
                "0x0350d63aa5f270e01729d00d627eeb8f3429772b1818c016c66a588a864f912b",
            ),
            (
                "EnabledModule",
                "0xecdf3a3effea5783a3c4c2140e677577666428d44ed9d474a0b3a4c9943f8440",
            ),
            (
                "DisabledModule",
                "0xaab4fa2b463f581b2b32cb3b7e3b704b9ce37cc209b5fb4d77e593ace4054276",
            ),
            (
                "ChangedGuard",
                "0x1151116914515bc0891ff9047a6cb32cf902546f83066499bcf8ba33d2353fa2",
            ),
        ];
        for (name, topic) in pinned {
            let e = LAYER_EVENTS
                .iter()
                .find(|e| e.name() == name)
                .unwrap_or_else(|| panic!("{name} is in the table"));
            let abi = e.abi().unwrap_or_else(|| panic!("{name} parses"));
            assert_eq!(abi.selector().to_string(), topic, "{name}");
        }
    }

    #[test]
    fn topics_are_unique_and_never_a_standard_privileged_event() {
        let standard: Vec<B256> = crate::PRIVILEGED_EVENTS
            .iter()
            .filter_map(|(_, s)| AbiEvent::parse(s).ok())
            .map(|e| e.selector())
            .collect();
        let mut seen = Vec::new();
        for e in LAYER_EVENTS {
            let t = e.abi().map(|a| a.selector()).unwrap_or_default();
            assert!(!seen.contains(&t), "{} twice", e.signature);
            assert!(
                !standard.contains(&t),
                "{} is a standard event",
                e.signature
            );
            seen.push(t);
        }
        for l in Layer::ALL {
            assert_eq!(Layer::from_name(l.name()), Some(l));
            assert!(
                LAYER_EVENTS.iter().any(|e| e.layer == l),
                "{l:?} has events"
            );
        }
        assert_eq!(Layer::from_name("layerzero"), None);
    }

    fn word_of(a: Address) -> B256 {
        a.into_word()
    }

    #[test]
    fn leading_parameters_are_read_from_topics_or_data_whichever_holds_them() {
        let (sender, delegate) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let i = |name: &str| {
            LAYER_EVENTS
                .iter()
                .position(|e| e.name() == name)
                .and_then(|i| u16::try_from(i).ok())
                .unwrap_or(u16::MAX)
        };
        // DelegateSet(address sender, address delegate): both in the data.
        let ds = i("DelegateSet");
        let topic = layer_event(ds)
            .and_then(LayerEvent::abi)
            .map(|a| a.selector());
        let topics = [topic.unwrap_or_default()];
        let data = [word_of(sender).0, word_of(delegate).0].concat();
        assert_eq!(
            layer_change(ds, &topics, &data),
            PrivilegedChange::LayerConfigChanged {
                event: ds,
                args: [word_of(sender), word_of(delegate), B256::ZERO]
            }
        );
        // UlnConfigSet(address oapp, uint32 eid, UlnConfig config): oapp and eid, not the
        // struct's offset.
        let uln = i("UlnConfigSet");
        let eid = B256::from(U256::from(30101u32));
        let data = [word_of(sender).0, eid.0, B256::from(U256::from(96)).0].concat();
        let PrivilegedChange::LayerConfigChanged { args, .. } = layer_change(uln, &topics, &data)
        else {
            panic!()
        };
        assert_eq!(args, [word_of(sender), eid, B256::ZERO]);
        // Safe 1.4 `EnabledModule(address indexed module)` and 1.3 `EnabledModule(address
        // module)`: same topic 0, the module in a topic or in the data.
        let em = i("EnabledModule");
        let module = word_of(Address::repeat_byte(7));
        let t0 = layer_event(em)
            .and_then(LayerEvent::abi)
            .map(|a| a.selector())
            .unwrap_or_default();
        let v14 = layer_change(em, &[t0, module], &[]);
        let v13 = layer_change(em, &[t0], &module.0);
        assert_eq!(v14, v13);
        assert_eq!(
            v14,
            PrivilegedChange::LayerConfigChanged {
                event: em,
                args: [module, B256::ZERO, B256::ZERO]
            }
        );
        // An unknown index still reports a change (ingest matched its topic 0), with no args.
        assert_eq!(
            layer_change(u16::MAX, &[], &[]),
            PrivilegedChange::LayerConfigChanged {
                event: u16::MAX,
                args: [B256::ZERO; LAYER_ARGS]
            }
        );
    }

    proptest! {
        /// Whatever a log holds, reading it never fails and returns at most one word per
        /// parameter, each a word the log carries.
        #[test]
        fn head_words_never_fails_and_only_returns_words_of_the_log(
            which in 0usize..LAYER_EVENTS.len(),
            topics in proptest::collection::vec(any::<[u8; 32]>(), 0..4),
            data in proptest::collection::vec(any::<u8>(), 0..200),
        ) {
            let abi = LAYER_EVENTS[which].abi().expect("parses");
            let topics: Vec<B256> = topics.into_iter().map(B256::from).collect();
            let words = head_words(&abi, &topics, &data);
            prop_assert!(words.len() <= abi.inputs.len());
            for w in &words {
                let in_topics = topics.iter().skip(1).any(|t| t == w);
                let in_data = data.chunks_exact(32).any(|c| c == w.as_slice());
                prop_assert!(in_topics || in_data);
            }
        }
    }
}
