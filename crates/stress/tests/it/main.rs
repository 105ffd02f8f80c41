//! Behaviour tests for ringfence-stress: properties of the engines.

mod properties;
mod spec;
