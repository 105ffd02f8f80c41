//! Behaviour tests for ringfence-stress: properties of the engines.

mod accounting;
mod properties;
mod spec;
