//! Normalised events: what ingest decodes from logs and block headers, in a compact, copyable
//! form that the rule engine consumes without allocating.

use alloy::primitives::{Address, B256, U256};
use serde::{Deserialize, Serialize};

use crate::reason::Reason;

/// Index of a chain in [`crate::GuardSpec::chains`].
pub type ChainIdx = u16;
/// Index of a token in [`crate::GuardSpec::tokens`].
pub type TokenIdx = u16;

/// The most event parameters a bridge event can carry for matching.
pub const MAX_FIELDS: usize = 8;

/// The parameters of a bridge event as 32-byte words, in the order of the event's signature
/// (static values as their ABI word, dynamic values as the keccak hash of their encoding).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fields {
    len: u8,
    words: [B256; MAX_FIELDS],
}

impl Fields {
    /// Fields from a slice of words; extra words past [`MAX_FIELDS`] are dropped.
    pub fn new(words: &[B256]) -> Self {
        let mut out = Self {
            len: 0,
            words: [B256::ZERO; MAX_FIELDS],
        };
        for (slot, w) in out.words.iter_mut().zip(words) {
            *slot = *w;
            out.len += 1;
        }
        out
    }

    /// The word of parameter `i`, if the event has it.
    pub fn get(&self, i: usize) -> Option<B256> {
        self.as_slice().get(i).copied()
    }

    /// All words.
    pub fn as_slice(&self) -> &[B256] {
        &self.words[..usize::from(self.len)]
    }
}

/// Which end of a bridge an event belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BridgeSide {
    /// The lock / send on the source chain.
    Source,
    /// The release / execution on the destination chain.
    Destination,
}

/// A privileged change on a watched contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "change")]
pub enum PrivilegedChange {
    /// `RoleGranted(bytes32 role, address account, address sender)`.
    RoleGranted {
        /// The role.
        role: B256,
        /// Who received it.
        account: Address,
    },
    /// `RoleRevoked(bytes32 role, address account, address sender)`.
    RoleRevoked {
        /// The role.
        role: B256,
        /// Who lost it.
        account: Address,
    },
    /// `OwnershipTransferred(address previousOwner, address newOwner)`.
    OwnershipTransferred {
        /// The old owner.
        previous: Address,
        /// The new owner.
        new: Address,
    },
    /// `Upgraded(address implementation)` (ERC-1967).
    Upgraded {
        /// The new implementation.
        implementation: Address,
    },
    /// `AdminChanged(address previousAdmin, address newAdmin)` (ERC-1967).
    AdminChanged {
        /// The new admin.
        new: Address,
    },
    /// A signer-set change: Safe `AddedOwner` / `RemovedOwner` / `ChangedThreshold`, or an extra
    /// event configured on the rule (its index in the rule's `extra_events`, offset by 3).
    SignerSetChanged {
        /// Which signer-set event (0 added, 1 removed, 2 threshold, 3.. configured extras).
        which: u8,
        /// The first parameter of the event as a word (signer address or threshold).
        value: B256,
    },
    /// `Paused(address account)`.
    Paused,
    /// A messaging layer's own configuration event (LayerZero delegate, library or DVN config;
    /// Hyperlane ISM or hook; CCIP pool chain, pool or rate-limiter config; Safe module or guard;
    /// the ringfence verifier's attestor set): see [`crate::LAYER_EVENTS`].
    LayerConfigChanged {
        /// Index of the event in [`crate::LAYER_EVENTS`].
        event: u16,
        /// Words of its leading elementary parameters (zero past the last one).
        args: [B256; crate::layers::LAYER_ARGS],
    },
}

impl PrivilegedChange {
    /// The kebab-case name used in configs and evidence.
    pub fn name(&self) -> &'static str {
        match self {
            Self::RoleGranted { .. } => "role-granted",
            Self::RoleRevoked { .. } => "role-revoked",
            Self::OwnershipTransferred { .. } => "ownership-transferred",
            Self::Upgraded { .. } => "upgraded",
            Self::AdminChanged { .. } => "admin-changed",
            Self::SignerSetChanged { .. } => "signer-set-changed",
            Self::Paused => "paused",
            Self::LayerConfigChanged { .. } => "layer-config-changed",
        }
    }

    /// The reason an alert about this change carries.
    pub fn reason(&self) -> Reason {
        match self {
            Self::RoleGranted { .. } => Reason::RoleGranted,
            Self::RoleRevoked { .. } => Reason::RoleRevoked,
            Self::OwnershipTransferred { .. } => Reason::OwnershipTransferred,
            Self::Upgraded { .. } => Reason::Upgraded,
            Self::AdminChanged { .. } => Reason::AdminChanged,
            Self::SignerSetChanged { .. } => Reason::SignerSetChanged,
            Self::Paused => Reason::Paused,
            Self::LayerConfigChanged { .. } => Reason::LayerConfigChanged,
        }
    }
}

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "type")]
pub enum EventKind {
    /// A new block on the chain was fully ingested (all its logs were delivered before this).
    Head,
    /// ERC-20 `Transfer` from the zero address.
    Mint {
        /// The token.
        token: TokenIdx,
        /// Recipient.
        to: Address,
        /// Base units.
        amount: U256,
        /// The transaction sender, when ingest resolved it (per-minter limits need it).
        minter: Option<Address>,
    },
    /// ERC-20 `Transfer` to the zero address.
    Burn {
        /// The token.
        token: TokenIdx,
        /// Holder burnt from.
        from: Address,
        /// Base units.
        amount: U256,
    },
    /// Any other ERC-20 `Transfer`.
    Transfer {
        /// The token.
        token: TokenIdx,
        /// Sender.
        from: Address,
        /// Recipient.
        to: Address,
        /// Base units.
        amount: U256,
    },
    /// A configured bridge event.
    Bridge {
        /// Index in [`crate::GuardSpec::bridges`].
        bridge: u16,
        /// Source or destination.
        side: BridgeSide,
        /// The event's parameters as words.
        fields: Fields,
    },
    /// A privileged change on a contract.
    Privileged {
        /// The contract that emitted it.
        contract: Address,
        /// What changed.
        change: PrivilegedChange,
    },
    /// A token's total supply read from chain (at start, or to resynchronise).
    SupplyObserved {
        /// The token.
        token: TokenIdx,
        /// Base units.
        supply: U256,
    },
    /// A holder's token balance read from chain (backing rules' lockboxes).
    BalanceObserved {
        /// The token.
        token: TokenIdx,
        /// The holder.
        holder: Address,
        /// Base units.
        balance: U256,
    },
}

/// One normalised event, located on its chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The chain it was seen on.
    pub chain: ChainIdx,
    /// Block number.
    pub block: u64,
    /// Block timestamp (seconds); all windows use it.
    pub timestamp: u64,
    /// Transaction hash (zero for heads and observations).
    pub tx: B256,
    /// Log index within the block (0 for heads and observations).
    pub log_index: u64,
    /// What happened.
    pub kind: EventKind,
}

impl Event {
    /// A head event for `chain` at `block` / `timestamp`.
    pub fn head(chain: ChainIdx, block: u64, timestamp: u64) -> Self {
        Self {
            chain,
            block,
            timestamp,
            tx: B256::ZERO,
            log_index: 0,
            kind: EventKind::Head,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::PrivilegedChange;
    use alloy::primitives::{Address, B256};

    #[test]
    fn a_change_reports_the_reason_of_its_config_name() {
        let a = Address::repeat_byte(1);
        let all = [
            PrivilegedChange::RoleGranted {
                role: B256::ZERO,
                account: a,
            },
            PrivilegedChange::RoleRevoked {
                role: B256::ZERO,
                account: a,
            },
            PrivilegedChange::OwnershipTransferred {
                previous: a,
                new: a,
            },
            PrivilegedChange::Upgraded { implementation: a },
            PrivilegedChange::AdminChanged { new: a },
            PrivilegedChange::SignerSetChanged {
                which: 0,
                value: B256::ZERO,
            },
            PrivilegedChange::Paused,
            PrivilegedChange::LayerConfigChanged {
                event: 0,
                args: [B256::ZERO; 3],
            },
        ];
        for c in all {
            assert_eq!(c.reason().as_str(), c.name(), "{c:?}");
        }
    }
}
