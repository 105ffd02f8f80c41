//! Behaviour tests for ringfence-stress: properties of the engines.

mod accounting;
mod ecosystems;
mod properties;
mod spec;
mod tables;
