//! Attestor tests on anvil.
