//! What a ringfence ecosystem really depends on, and whether that is acceptable.
//!
//! Pure analyses over a validated [`ringfence_model::Model`]: the [dependency closure](closure)
//! (the fraction of each asset's value lost if a component fails), the [exposure report](exposure)
//! (value at risk per component, asset and holder; single points of failure; hidden shared
//! dependencies), [concentration limits](limits) with the smallest rebalancing that clears each
//! breach, and [lint](mod@lint) findings on infrastructure assumptions, each tied to the historical
//! incident it echoes. [`render`] turns the reports into text tables, SARIF and a self-contained
//! HTML page with a picture of the dependency graph.
//!
//! Everything here is deterministic and does no I/O. Values are `f64` US dollars.
//!
//! ```
//! use ringfence_exposure::{Closure, exposure_report};
//! use ringfence_model::Model;
//!
//! // One stablecoin whose only mint key is a single cloud key (Resolv 2026).
//! let model = Model::from_str("eco.toml", r#"
//! [[chain]]
//! id = "eth"
//! [[key]]
//! id = "kms-key"
//! kind = "kms"
//! [[asset]]
//! id = "USR"
//! chain = "eth"
//! kind = "stablecoin"
//! price_usd = 1.0
//! supply = 1000.0
//! mint_authority = "kms-key"
//! "#).expect("valid");
//! let report = exposure_report(&model, &Closure::compute(&model), None);
//! assert!(report.components.iter().any(|c| c.id == "kms-key" && c.value_at_risk_usd == 1000.0));
//! ```

// Every dependency is used by the library (tests and benches have their own).
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod closure;
pub mod exposure;
pub mod limits;
pub mod lint;
pub mod render;

pub use closure::Closure;
pub use exposure::{ExposureReport, report as exposure_report};
pub use limits::{LimitsReport, check as check_limits};
pub use lint::{LintReport, Severity, lint};
