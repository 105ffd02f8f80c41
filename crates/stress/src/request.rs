//! What a user asks of `ringfence stress` and of `POST /api/stress`, checked in one place.
//!
//! [`StressRequest`] is the scenario as a person states it (component ids, a clearing model and
//! its costs, the analyses wanted); [`StressRequest::validate`] checks it against a model and
//! returns the engine's [`Scenario`]. The CLI and the server both call it, so `--alpha` with
//! Eisenberg–Noe, a Monte Carlo run of zero draws or an unknown component id are refused with the
//! same rule everywhere; only the field names in the message ([`Dialect`]) and the draw bound
//! (a shared server protects itself more than a user's own machine) differ.

use std::fmt;
use std::str::FromStr;

use ringfence_model::Model;
use serde::Deserialize;

use crate::clearing::ClearingParams;
use crate::propagate::StressParams;
use crate::report::Scenario;

/// Clearing model of protocol-to-protocol claims.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClearingModel {
    /// Eisenberg–Noe: no default costs.
    #[default]
    En,
    /// Rogers–Veraart with default costs `alpha`, `beta`.
    Rv,
}

impl ClearingModel {
    /// The name users write: `en` or `rv`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Rv => "rv",
        }
    }
}

impl fmt::Display for ClearingModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ClearingModel {
    type Err = RequestError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Ok(Self::En),
            "rv" => Ok(Self::Rv),
            _ => Err(RequestError::UnknownClearing(s.to_owned())),
        }
    }
}

/// Who is asking: the names of the fields in messages, and how many draws one request may take.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// `POST /api/stress`: JSON field names; a shared server bounds the work of one request.
    Api,
    /// `ringfence stress`: flag names; the user's own machine, bounded by memory only.
    Cli,
}

/// Most Monte Carlo or uncertainty draws one API request may ask for.
pub const MAX_API_DRAWS: usize = 100_000;
/// Most draws one CLI run may ask for: every draw's figures are kept to compute percentiles
/// (8 bytes a draw for Monte Carlo, ~70 for uncertainty), so 10 million draws need up to ~0.7 GB.
pub const MAX_CLI_DRAWS: usize = 10_000_000;
/// Most components one scenario may fail (the API; the CLI takes any number).
pub const MAX_API_FAILED: usize = 1_000;

/// A field of the request, named as its [`Dialect`] names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Field {
    Fail,
    Alpha,
    Beta,
    Reverse,
    IncludeChains,
    MonteCarlo,
    Uncertainty,
}

impl Dialect {
    fn name(self, f: Field) -> &'static str {
        match (self, f) {
            (Self::Api, Field::Fail) => "`fail`",
            (Self::Api, Field::Alpha) => "`alpha`",
            (Self::Api, Field::Beta) => "`beta`",
            (Self::Api, Field::Reverse) => "`reverse`",
            (Self::Api, Field::IncludeChains) => "`include_chains`",
            (Self::Api, Field::MonteCarlo) => "`monte_carlo`",
            (Self::Api, Field::Uncertainty) => "`uncertainty`",
            (Self::Cli, Field::Fail) => "`--fail`",
            (Self::Cli, Field::Alpha) => "`--alpha`",
            (Self::Cli, Field::Beta) => "`--beta`",
            (Self::Cli, Field::Reverse) => "`--reverse`",
            (Self::Cli, Field::IncludeChains) => "`--include-chains`",
            (Self::Cli, Field::MonteCarlo) => "`--monte-carlo`",
            (Self::Cli, Field::Uncertainty) => "`--uncertainty`",
        }
    }

    /// How a user selects Rogers–Veraart.
    fn rv(self) -> &'static str {
        match self {
            Self::Api => "`\"clearing\": \"rv\"`",
            Self::Cli => "`--clearing rv`",
        }
    }

    /// Most draws of one request.
    pub fn max_draws(self) -> usize {
        match self {
            Self::Api => MAX_API_DRAWS,
            Self::Cli => MAX_CLI_DRAWS,
        }
    }

    /// Most components one request may fail.
    pub fn max_failed(self) -> usize {
        match self {
            Self::Api => MAX_API_FAILED,
            Self::Cli => usize::MAX,
        }
    }
}

/// Why a stress request is refused. Every message names the field and says what is allowed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RequestError {
    /// A clearing model other than `en` or `rv`.
    #[error("unknown clearing model `{0}`: use `en` (Eisenberg–Noe) or `rv` (Rogers–Veraart)")]
    UnknownClearing(String),
    /// More failed components than one request may name.
    #[error("{field} names {given} components; at most {max}")]
    TooManyFailed {
        /// The field, as the caller names it.
        field: &'static str,
        /// How many were given.
        given: usize,
        /// The bound.
        max: usize,
    },
    /// Ids that are not components of the model (every one, with a suggestion where one is
    /// close).
    #[error(
        "unknown component{} {}: {}name a chain, layer, verifier_set, operator or key id, or `org:<name>` / `hosting:<name>`",
        if .ids.len() == 1 { "" } else { "s" },
        .ids.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "),
        hints(.ids, .suggestions)
    )]
    UnknownComponents {
        /// The unknown ids, in request order.
        ids: Vec<String>,
        /// The closest known id of each, where one is close.
        suggestions: Vec<Option<String>>,
    },
    /// A draw count of zero or above the bound.
    #[error("{field} must be between 1 and {max} draws, got {given}")]
    Draws {
        /// The field, as the caller names it.
        field: &'static str,
        /// The count given.
        given: usize,
        /// The bound of this caller.
        max: usize,
    },
    /// Monte Carlo and uncertainty asked together.
    #[error("{0} and {1} cannot be combined: run them one at a time")]
    Exclusive(&'static str, &'static str),
    /// A reverse-stress loss that is negative, NaN or infinite.
    #[error("{field} must be a non-negative amount in USD, got {value}")]
    Reverse {
        /// The field, as the caller names it.
        field: &'static str,
        /// The value given.
        value: f64,
    },
    /// `include_chains` without a reverse-stress loss.
    #[error("{0} applies to reverse stress only: give {1} too, or leave it out")]
    IncludeChainsWithoutReverse(&'static str, &'static str),
    /// Default costs with Eisenberg–Noe, which has none.
    #[error("{alpha} and {beta} apply to {rv} only")]
    CostsWithoutRv {
        /// The α field.
        alpha: &'static str,
        /// The β field.
        beta: &'static str,
        /// How Rogers–Veraart is selected.
        rv: &'static str,
    },
    /// Default costs outside `[0, 1]`.
    #[error("{0}")]
    Clearing(#[from] crate::Error),
}

/// "(did you mean `b` for `a`?) " for the ids that have a close match.
fn hints(ids: &[String], suggestions: &[Option<String>]) -> String {
    let close: Vec<String> = ids
        .iter()
        .zip(suggestions)
        .filter_map(|(id, s)| s.as_ref().map(|s| (id, s)))
        .map(|(id, s)| {
            if ids.len() == 1 {
                format!("did you mean `{s}`?")
            } else {
                format!("did you mean `{s}` for `{id}`?")
            }
        })
        .collect();
    if close.is_empty() {
        String::new()
    } else {
        format!("{} otherwise ", close.join(" "))
    }
}

/// A stress scenario as a user states it: the options of `ringfence stress`, the body of
/// `POST /api/stress`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StressRequest {
    /// Components that fail jointly (any component id, `org:<name>`, `hosting:<name>`).
    #[serde(default)]
    pub fail: Vec<String>,
    /// `en` (default) or `rv`.
    #[serde(default)]
    pub clearing: ClearingModel,
    /// Rogers–Veraart α in [0, 1] (default 1); Rogers–Veraart only.
    pub alpha: Option<f64>,
    /// Rogers–Veraart β in [0, 1] (default 1); Rogers–Veraart only.
    pub beta: Option<f64>,
    /// Rank every single-component failure.
    #[serde(default)]
    pub rank: bool,
    /// Smallest set of components whose joint failure exceeds this loss, USD.
    pub reverse: Option<f64>,
    /// Reverse stress searches chains too (default: only keys, verifier sets, operators, orgs,
    /// hostings and layers).
    #[serde(default)]
    pub include_chains: bool,
    /// Monte Carlo draws over one year of failure probabilities.
    pub monte_carlo: Option<usize>,
    /// Draws over the spec's input ranges (the CLI's `--uncertainty`; not part of the API body).
    #[serde(skip)]
    pub uncertainty: Option<usize>,
    /// Seed of the draws (default 1).
    pub seed: Option<u64>,
    /// DebtRank of each protocol defaulting alone.
    #[serde(default)]
    pub debtrank: bool,
}

impl StressRequest {
    /// Checks every option and the component ids against `model`, and returns the scenario the
    /// engine runs. The first problem is reported, except unknown ids, which are all named.
    pub fn validate(&self, model: &Model, dialect: Dialect) -> Result<Scenario, RequestError> {
        let name = |f| dialect.name(f);
        if self.fail.len() > dialect.max_failed() {
            return Err(RequestError::TooManyFailed {
                field: name(Field::Fail),
                given: self.fail.len(),
                max: dialect.max_failed(),
            });
        }
        self.known(model)?;
        for (field, n) in [
            (Field::MonteCarlo, self.monte_carlo),
            (Field::Uncertainty, self.uncertainty),
        ] {
            if let Some(n) = n
                && (n == 0 || n > dialect.max_draws())
            {
                return Err(RequestError::Draws {
                    field: name(field),
                    given: n,
                    max: dialect.max_draws(),
                });
            }
        }
        if self.monte_carlo.is_some() && self.uncertainty.is_some() {
            return Err(RequestError::Exclusive(
                name(Field::MonteCarlo),
                name(Field::Uncertainty),
            ));
        }
        if let Some(x) = self.reverse
            && !(x.is_finite() && x >= 0.0)
        {
            return Err(RequestError::Reverse {
                field: name(Field::Reverse),
                value: x,
            });
        }
        if self.include_chains && self.reverse.is_none() {
            return Err(RequestError::IncludeChainsWithoutReverse(
                name(Field::IncludeChains),
                name(Field::Reverse),
            ));
        }
        Ok(Scenario {
            fail: self.fail.clone(),
            params: StressParams {
                clearing: self.clearing_params(dialect)?,
                ..StressParams::default()
            },
            rank: self.rank,
            reverse: self.reverse,
            monte_carlo: self.monte_carlo,
            seed: self.seed.unwrap_or(1),
            debtrank: self.debtrank,
            include_chains: self.include_chains,
            uncertainty: self.uncertainty,
        })
    }

    /// The clearing parameters: α and β only with Rogers–Veraart, each in `[0, 1]`.
    pub fn clearing_params(&self, dialect: Dialect) -> Result<ClearingParams, RequestError> {
        match self.clearing {
            ClearingModel::En if self.alpha.is_some() || self.beta.is_some() => {
                Err(RequestError::CostsWithoutRv {
                    alpha: dialect.name(Field::Alpha),
                    beta: dialect.name(Field::Beta),
                    rv: dialect.rv(),
                })
            }
            ClearingModel::En => Ok(ClearingParams::eisenberg_noe()),
            ClearingModel::Rv => Ok(ClearingParams::rogers_veraart(
                self.alpha.unwrap_or(1.0),
                self.beta.unwrap_or(1.0),
            )?),
        }
    }

    /// Every id of `fail` that is not a component, with the closest known id of each.
    fn known(&self, model: &Model) -> Result<(), RequestError> {
        let ids: Vec<String> = self
            .fail
            .iter()
            .filter(|id| model.component(id).is_none())
            .cloned()
            .collect();
        if ids.is_empty() {
            return Ok(());
        }
        let known: Vec<&str> = model.components.iter().map(|c| c.id.as_str()).collect();
        let suggestions = ids
            .iter()
            .map(|id| ringfence_model::diag::closest(id, &known).map(str::to_owned))
            .collect();
        Err(RequestError::UnknownComponents { ids, suggestions })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SPEC: &str = concat!(
        include_str!("../tests/it/minter.toml"),
        r#"
[[asset]]
id = "X"
chain = "ethereum"
kind = "stablecoin"
price_usd = 1
supply = 100000000
mint_authority = "minter"
"#
    );

    fn model() -> Model {
        match Model::from_str("request.toml", SPEC) {
            Ok(m) => m,
            Err(d) => panic!("the test spec does not validate:\n{d}"),
        }
    }

    fn refused(req: &StressRequest, dialect: Dialect) -> String {
        req.validate(&model(), dialect)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn clearing_models_parse_by_name() {
        assert_eq!("en".parse::<ClearingModel>(), Ok(ClearingModel::En));
        assert_eq!(" RV ".parse::<ClearingModel>(), Ok(ClearingModel::Rv));
        let e = "xx".parse::<ClearingModel>().err().map(|e| e.to_string());
        assert!(e.is_some_and(|e| e.contains("use `en`")));
        for m in [ClearingModel::En, ClearingModel::Rv] {
            assert_eq!(m.to_string().parse::<ClearingModel>(), Ok(m));
        }
    }

    #[test]
    fn a_valid_request_becomes_the_scenario() {
        let req = StressRequest {
            fail: vec!["minter".into(), "hosting:aws".into()],
            clearing: ClearingModel::Rv,
            alpha: Some(0.5),
            reverse: Some(1e6),
            include_chains: true,
            monte_carlo: Some(10),
            ..StressRequest::default()
        };
        let s = req.validate(&model(), Dialect::Api).expect("valid");
        assert_eq!(s.fail, req.fail);
        assert_eq!(s.params.clearing.alpha, 0.5);
        assert_eq!(s.params.clearing.beta, 1.0);
        assert_eq!(s.seed, 1);
        assert_eq!(
            (s.monte_carlo, s.reverse, s.include_chains),
            (Some(10), Some(1e6), true)
        );
    }

    /// The rules, in both dialects: each refusal names the field as that caller spells it.
    #[test]
    fn table_of_refusals() {
        let rv_costs = |c: ClearingModel, a: Option<f64>, b: Option<f64>| StressRequest {
            clearing: c,
            alpha: a,
            beta: b,
            ..StressRequest::default()
        };
        let draws = |mc: Option<usize>, u: Option<usize>| StressRequest {
            monte_carlo: mc,
            uncertainty: u,
            ..StressRequest::default()
        };
        let cases: Vec<(StressRequest, &str, &str)> = vec![
            (
                rv_costs(ClearingModel::En, Some(0.5), None),
                "`alpha` and `beta` apply to `\"clearing\": \"rv\"` only",
                "`--alpha` and `--beta` apply to `--clearing rv` only",
            ),
            (
                rv_costs(ClearingModel::En, None, Some(0.5)),
                "apply to `\"clearing\": \"rv\"` only",
                "apply to `--clearing rv` only",
            ),
            (
                rv_costs(ClearingModel::Rv, Some(2.0), None),
                "alpha must be in [0, 1], got 2",
                "alpha must be in [0, 1], got 2",
            ),
            (
                rv_costs(ClearingModel::Rv, None, Some(f64::NAN)),
                "beta must be in [0, 1]",
                "beta must be in [0, 1]",
            ),
            (
                draws(Some(0), None),
                "`monte_carlo` must be between 1 and 100000 draws, got 0",
                "`--monte-carlo` must be between 1 and 10000000 draws, got 0",
            ),
            (
                draws(None, Some(0)),
                "`uncertainty` must be between 1",
                "`--uncertainty` must be between 1 and 10000000 draws, got 0",
            ),
            (
                draws(Some(10_000_001), None),
                "`monte_carlo` must be between 1 and 100000",
                "`--monte-carlo` must be between 1 and 10000000 draws, got 10000001",
            ),
            (
                draws(Some(5), Some(5)),
                "`monte_carlo` and `uncertainty` cannot be combined",
                "`--monte-carlo` and `--uncertainty` cannot be combined",
            ),
            (
                StressRequest {
                    reverse: Some(-1.0),
                    ..StressRequest::default()
                },
                "`reverse` must be a non-negative amount in USD, got -1",
                "`--reverse` must be a non-negative amount in USD, got -1",
            ),
            (
                StressRequest {
                    include_chains: true,
                    ..StressRequest::default()
                },
                "`include_chains` applies to reverse stress only: give `reverse` too",
                "`--include-chains` applies to reverse stress only: give `--reverse` too",
            ),
            (
                StressRequest {
                    fail: vec!["mintr".into(), "minter".into(), "org:nobody".into()],
                    ..StressRequest::default()
                },
                "unknown components `mintr`, `org:nobody`: did you mean `minter` for `mintr`? otherwise name a chain",
                "unknown components `mintr`, `org:nobody`",
            ),
        ];
        for (req, api, cli) in &cases {
            let got = refused(req, Dialect::Api);
            assert!(got.contains(api), "{req:?} (API): {got}");
            let got = refused(req, Dialect::Cli);
            assert!(got.contains(cli), "{req:?} (CLI): {got}");
        }
        // Only the API bounds the number of failed components.
        let many = StressRequest {
            fail: vec!["minter".into(); MAX_API_FAILED + 1],
            ..StressRequest::default()
        };
        assert!(refused(&many, Dialect::Api).contains("at most 1000"));
        assert!(many.validate(&model(), Dialect::Cli).is_ok());
    }

    #[test]
    fn one_unknown_id_gets_its_suggestion_alone() {
        let req = StressRequest {
            fail: vec!["mintr".into()],
            ..StressRequest::default()
        };
        let e = refused(&req, Dialect::Cli);
        assert!(
            e.starts_with("unknown component `mintr`: did you mean `minter`? otherwise name"),
            "{e}"
        );
        let e = req.validate(&model(), Dialect::Api).err();
        assert!(matches!(
            e,
            Some(RequestError::UnknownComponents { ref ids, ref suggestions })
                if ids == &["mintr"] && suggestions == &[Some("minter".to_owned())]
        ));
    }

    proptest! {
        /// Draw counts are accepted exactly inside the caller's bound.
        #[test]
        fn draws_are_accepted_exactly_in_range(n in 0usize..20_000_000, api in any::<bool>()) {
            let dialect = if api { Dialect::Api } else { Dialect::Cli };
            let req = StressRequest { monte_carlo: Some(n), ..StressRequest::default() };
            let ok = req.validate(&model(), dialect).is_ok();
            prop_assert_eq!(ok, (1..=dialect.max_draws()).contains(&n));
        }

        /// α and β are accepted exactly in [0, 1] with Rogers–Veraart, never with Eisenberg–Noe.
        #[test]
        fn costs_are_accepted_exactly_with_rv_in_the_unit_interval(
            a in prop::option::of(-0.5f64..1.5),
            b in prop::option::of(-0.5f64..1.5),
            rv in any::<bool>(),
        ) {
            let req = StressRequest {
                clearing: if rv { ClearingModel::Rv } else { ClearingModel::En },
                alpha: a,
                beta: b,
                ..StressRequest::default()
            };
            let unit = |x: Option<f64>| x.is_none_or(|x| (0.0..=1.0).contains(&x));
            let want = if rv { unit(a) && unit(b) } else { a.is_none() && b.is_none() };
            prop_assert_eq!(req.clearing_params(Dialect::Api).is_ok(), want);
        }

        /// Any parsed clearing name round-trips; anything else is refused, never a panic.
        #[test]
        fn clearing_names_parse_or_are_refused(s in ".{0,6}") {
            match s.parse::<ClearingModel>() {
                Ok(m) => prop_assert_eq!(m.as_str(), s.trim().to_ascii_lowercase()),
                Err(e) => prop_assert!(e.to_string().contains("use `en`")),
            }
        }
    }
}
