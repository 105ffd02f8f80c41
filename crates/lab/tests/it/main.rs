//! Behaviour tests of the incident lab: the shipped scenarios agree with the corpus and the real
//! Nomad data, the parser never panics, the reference controls on anvil, and real replays.

mod controls;
mod corpus;
mod parser;
mod replays;

pub(crate) use ringfence_quorum::testing::repo;

/// Fails with the setup hint when anvil is missing (CI runs scripts/setup.sh first).
pub(crate) fn require_anvil() {
    if let Err(e) = ringfence_lab::anvil::anvil_bin() {
        panic!("{e}");
    }
}
