//! Why an alert was raised: one variant per cause, serialised (and displayed) as the kebab-case
//! name that alert lines, the store, the HTTP API, webhooks and alert ids have always carried.

use serde::{Deserialize, Serialize};

/// The machine-readable cause of an alert or trip.
///
/// Serialised, displayed and hashed into alert ids as [`Reason::as_str`] (e.g.
/// `window-exceeded`): the strings are a stable interface, never renamed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// `mint-rate` / `outflow-rate`: the window's total crossed its limit.
    WindowExceeded,
    /// `mint-rate`: one minter's window total crossed `max_per_minter`.
    MinterWindowExceeded,
    /// `outflow-rate`: one transfer of at least `big_transfer_usd`.
    BigTransfer,
    /// `message-match`: a source event was not released within `timeout_s`.
    SourceUnmatched,
    /// `message-match`: a release with no source event.
    NoSource,
    /// `message-match`: a release whose matched source event a reorg removed.
    SourceReorged,
    /// `message-match`: a second release of one source event.
    Replayed,
    /// `message-match`: a release differing from its source on a compared field.
    Mismatch,
    /// `backing`: supply above the locked backing plus the tolerance.
    Unbacked,
    /// `anomaly`: a bucket far above the learned baseline.
    Velocity,
    /// `privileged`: `RoleGranted`.
    RoleGranted,
    /// `privileged`: `RoleRevoked`.
    RoleRevoked,
    /// `privileged`: `OwnershipTransferred`.
    OwnershipTransferred,
    /// `privileged`: ERC-1967 `Upgraded`.
    Upgraded,
    /// `privileged`: ERC-1967 `AdminChanged`.
    AdminChanged,
    /// `privileged`: a Safe owner or threshold change, or a configured extra signer event.
    SignerSetChanged,
    /// `privileged`: `Paused` (counted only when the rule's `changes` names it).
    Paused,
    /// `privileged`: a messaging layer's own configuration event (the evidence names the layer
    /// and the event).
    LayerConfigChanged,
    /// Daemon: a chain stopped answering or producing blocks.
    Stale,
    /// Daemon: the RPC endpoints of a chain disagree on a block (RPC quorum).
    RpcDisagreement,
}

impl Reason {
    /// Every reason, in declaration order.
    pub const ALL: [Self; 20] = [
        Self::WindowExceeded,
        Self::MinterWindowExceeded,
        Self::BigTransfer,
        Self::SourceUnmatched,
        Self::NoSource,
        Self::SourceReorged,
        Self::Replayed,
        Self::Mismatch,
        Self::Unbacked,
        Self::Velocity,
        Self::RoleGranted,
        Self::RoleRevoked,
        Self::OwnershipTransferred,
        Self::Upgraded,
        Self::AdminChanged,
        Self::SignerSetChanged,
        Self::Paused,
        Self::LayerConfigChanged,
        Self::Stale,
        Self::RpcDisagreement,
    ];

    /// The kebab-case name (as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WindowExceeded => "window-exceeded",
            Self::MinterWindowExceeded => "minter-window-exceeded",
            Self::BigTransfer => "big-transfer",
            Self::SourceUnmatched => "source-unmatched",
            Self::NoSource => "no-source",
            Self::SourceReorged => "source-reorged",
            Self::Replayed => "replayed",
            Self::Mismatch => "mismatch",
            Self::Unbacked => "unbacked",
            Self::Velocity => "velocity",
            Self::RoleGranted => "role-granted",
            Self::RoleRevoked => "role-revoked",
            Self::OwnershipTransferred => "ownership-transferred",
            Self::Upgraded => "upgraded",
            Self::AdminChanged => "admin-changed",
            Self::SignerSetChanged => "signer-set-changed",
            Self::Paused => "paused",
            Self::LayerConfigChanged => "layer-config-changed",
            Self::Stale => "stale",
            Self::RpcDisagreement => "rpc-disagreement",
        }
    }
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Reason {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Reason> for &str {
    fn eq(&self, other: &Reason) -> bool {
        *self == other.as_str()
    }
}

/// What raised an alert: a rule of some kind, or the daemon itself.
///
/// Serialised and displayed as [`AlertKind::as_str`]: the rule kind's config name (`mint-rate`,
/// …) or the daemon alert's name (`stale`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AlertKind {
    /// A `mint-rate` rule.
    MintRate,
    /// An `outflow-rate` rule.
    OutflowRate,
    /// A `message-match` rule.
    MessageMatch,
    /// A `backing` rule.
    Backing,
    /// A `privileged` rule.
    Privileged,
    /// An `anomaly` rule.
    Anomaly,
    /// The daemon: a chain stopped answering or producing blocks.
    Stale,
    /// The daemon: a chain's RPC endpoints disagree.
    RpcDisagreement,
}

impl AlertKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 8] = [
        Self::MintRate,
        Self::OutflowRate,
        Self::MessageMatch,
        Self::Backing,
        Self::Privileged,
        Self::Anomaly,
        Self::Stale,
        Self::RpcDisagreement,
    ];

    /// The kebab-case name (as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MintRate => "mint-rate",
            Self::OutflowRate => "outflow-rate",
            Self::MessageMatch => "message-match",
            Self::Backing => "backing",
            Self::Privileged => "privileged",
            Self::Anomaly => "anomaly",
            Self::Stale => "stale",
            Self::RpcDisagreement => "rpc-disagreement",
        }
    }
}

impl Reason {
    /// The kind of what raises this reason (`window-exceeded` comes from both rate rules: the
    /// mint rule is named; records take the kind from their rule).
    pub fn kind(self) -> AlertKind {
        match self {
            Self::WindowExceeded | Self::MinterWindowExceeded => AlertKind::MintRate,
            Self::BigTransfer => AlertKind::OutflowRate,
            Self::SourceUnmatched
            | Self::NoSource
            | Self::SourceReorged
            | Self::Replayed
            | Self::Mismatch => AlertKind::MessageMatch,
            Self::Unbacked => AlertKind::Backing,
            Self::Velocity => AlertKind::Anomaly,
            Self::RoleGranted
            | Self::RoleRevoked
            | Self::OwnershipTransferred
            | Self::Upgraded
            | Self::AdminChanged
            | Self::SignerSetChanged
            | Self::Paused
            | Self::LayerConfigChanged => AlertKind::Privileged,
            Self::Stale => AlertKind::Stale,
            Self::RpcDisagreement => AlertKind::RpcDisagreement,
        }
    }
}

impl std::fmt::Display for AlertKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for AlertKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::Reason;

    #[test]
    fn serde_display_and_as_str_agree_on_every_reason() {
        for r in Reason::ALL {
            let json = serde_json::to_value(r).expect("serialises");
            assert_eq!(json, serde_json::json!(r.as_str()), "{r:?}");
            assert_eq!(r.to_string(), r.as_str());
            let back: Reason = serde_json::from_value(json).expect("deserialises");
            assert_eq!(back, r);
        }
        let mut names: Vec<_> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Reason::ALL.len(), "names are unique");
    }

    #[test]
    fn alert_kinds_serialise_as_their_names_and_daemon_reasons_are_their_own_kind() {
        for k in super::AlertKind::ALL {
            let json = serde_json::to_value(k).expect("serialises");
            assert_eq!(json, serde_json::json!(k.as_str()));
            assert_eq!(k.to_string(), k.as_str());
            let back: super::AlertKind = serde_json::from_value(json).expect("deserialises");
            assert_eq!(back, k);
        }
        assert_eq!(Reason::Stale.kind().as_str(), Reason::Stale.as_str());
        assert_eq!(
            Reason::RpcDisagreement.kind().as_str(),
            Reason::RpcDisagreement.as_str()
        );
    }

    #[test]
    fn unknown_names_are_refused() {
        assert!(serde_json::from_str::<Reason>("\"same-as:abc\"").is_err());
        assert!(serde_json::from_str::<Reason>("\"Window-Exceeded\"").is_err());
    }
}
