//! Components: what can fail or be compromised, and their ids.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The kinds of component. Organisations and hosting providers are components too: their ids are
/// `org:<name>` and `hosting:<name>`.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ComponentKind {
    /// A ledger.
    Chain,
    /// A messaging layer or bridge.
    Layer,
    /// A k-of-n verifier gate.
    VerifierSet,
    /// One verifier or signer.
    Operator,
    /// A privileged key.
    Key,
    /// An organisation running operators.
    Org,
    /// A hosting provider.
    Hosting,
}

impl ComponentKind {
    /// Every kind, in report order.
    pub const ALL: [Self; 7] = [
        Self::Chain,
        Self::Layer,
        Self::VerifierSet,
        Self::Operator,
        Self::Key,
        Self::Org,
        Self::Hosting,
    ];

    /// The name as written in a spec and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Chain => "chain",
            Self::Layer => "layer",
            Self::VerifierSet => "verifier_set",
            Self::Operator => "operator",
            Self::Key => "key",
            Self::Org => "org",
            Self::Hosting => "hosting",
        }
    }
}

impl fmt::Display for ComponentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Dense index of a component in [`crate::Model::components`].
pub type ComponentIdx = u32;

/// One component of the ecosystem.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Component {
    /// Its id: the entity id, or `org:<name>` / `hosting:<name>`.
    pub id: String,
    /// Its kind.
    pub kind: ComponentKind,
    /// Probability per year that it fails, where the spec gives one.
    pub failure_probability: Option<f64>,
}

/// The component id of an organisation.
pub fn org_id(name: &str) -> String {
    format!("org:{}", name.strip_prefix("org:").unwrap_or(name))
}

/// The component id of a hosting provider.
pub fn hosting_id(name: &str) -> String {
    format!("hosting:{}", name.strip_prefix("hosting:").unwrap_or(name))
}
