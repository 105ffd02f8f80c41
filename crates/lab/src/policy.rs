//! The replay policy: the guard's rules and the on-chain limits, written once as shares of what
//! each route puts at risk (supply for mint routes, the locked balance for release routes) so
//! that one policy fits every incident. `examples/policy.toml` is the default and is compiled in.

use std::ops::RangeInclusive;
use std::path::Path;

use ringfence_model::input::TomlInput;
use ringfence_model::{Diagnostic, Diagnostics, SourceFile};
use serde::Deserialize;
use toml::Spanned;
use toml::de::DeValue;

/// The default policy's text (`examples/policy.toml`).
pub const DEFAULT_TEXT: &str = include_str!("../../../examples/policy.toml");

/// The off-chain guard's rules.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct GuardPolicy {
    /// Every destination message must match one source message (id, asset, amount, recipient).
    pub message_match: bool,
    /// Wrapped supply never above what is locked for it.
    pub backing: bool,
    /// Mint-rate window (seconds).
    pub mint_window_s: u64,
    /// Most minted per window, as a share of supply.
    pub mint_max_share_of_supply: f64,
    /// Outflow-rate window (seconds).
    pub outflow_window_s: u64,
    /// Most released per window, as a share of the locked value.
    pub outflow_max_share_of_locked: f64,
    /// The rule kinds whose trips pause the gateway (the generated guard config gives their
    /// rules the `pause` action; a trip of any other rule pauses nothing).
    pub pause_on: Vec<String>,
}

/// The rule kinds a policy's guard generates, each of which may pause.
pub const PAUSING_KINDS: [&str; 5] = [
    "message-match",
    "backing",
    "mint-rate",
    "outflow-rate",
    "privileged",
];

/// The on-chain limits (the third arm).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LimitsPolicy {
    /// Token-bucket capacity as a share of the value at risk.
    pub bucket_capacity_share: f64,
    /// Seconds for an empty bucket to refill to capacity.
    pub bucket_refill_s: u64,
    /// A single transfer above this share of the value at risk waits in the delay queue…
    pub delay_above_share: f64,
    /// …or above this many USD, whichever is lower.
    pub delay_above_usd: f64,
    /// How long a queued transfer waits (seconds).
    pub delay_s: u64,
}

/// ringfence as a required verifier (the `verifier` and `all` arms): k of n attestors, each
/// with its own key and its own set of RPC endpoints per chain.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct VerifierPolicy {
    /// n: attestors in the set.
    pub attestors: usize,
    /// k: signatures a delivery needs.
    pub threshold: usize,
    /// RPC endpoints each attestor reads each chain through…
    pub endpoints: usize,
    /// …of which this many must return the same block, hash and logs.
    pub quorum: usize,
    /// Blocks on top of a source event before an attestor counts it.
    pub confirmations: u64,
    /// The attestor set's timelock on chain (seconds); attestors also refuse for this long
    /// after a change of the set is proposed or executed.
    pub timelock_s: u64,
}

/// A whole policy.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Policy {
    /// `[guard]`.
    pub guard: GuardPolicy,
    /// `[limits]`.
    pub limits: LimitsPolicy,
    /// `[verifier]`.
    pub verifier: VerifierPolicy,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGuard {
    message_match: bool,
    backing: bool,
    mint_window_s: Spanned<u64>,
    mint_max_share_of_supply: Spanned<f64>,
    outflow_window_s: Spanned<u64>,
    outflow_max_share_of_locked: Spanned<f64>,
    #[serde(default)]
    pause_on: Option<Spanned<Vec<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    bucket_capacity_share: Spanned<f64>,
    bucket_refill_s: Spanned<u64>,
    delay_above_share: Spanned<f64>,
    delay_above_usd: Spanned<f64>,
    delay_s: Spanned<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVerifier {
    attestors: Spanned<u64>,
    threshold: Spanned<u64>,
    endpoints: Spanned<u64>,
    quorum: Spanned<u64>,
    confirmations: Spanned<u64>,
    timelock_s: Spanned<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    guard: RawGuard,
    limits: RawLimits,
    verifier: RawVerifier,
}

impl Default for Policy {
    fn default() -> Self {
        // The compiled-in default is checked by a unit test, so this cannot fail at run time.
        Self::parse(&SourceFile::new("examples/policy.toml", DEFAULT_TEXT)).unwrap_or(Self {
            guard: GuardPolicy {
                message_match: true,
                backing: true,
                mint_window_s: 86_400,
                mint_max_share_of_supply: 0.10,
                outflow_window_s: 86_400,
                outflow_max_share_of_locked: 0.10,
                pause_on: PAUSING_KINDS.iter().map(|k| (*k).to_owned()).collect(),
            },
            limits: LimitsPolicy {
                bucket_capacity_share: 0.05,
                bucket_refill_s: 86_400,
                delay_above_share: 0.01,
                delay_above_usd: 5_000_000.0,
                delay_s: 21_600,
            },
            verifier: VerifierPolicy {
                attestors: 3,
                threshold: 2,
                endpoints: 3,
                quorum: 2,
                confirmations: 2,
                timelock_s: 86_400,
            },
        })
    }
}

impl Policy {
    /// Reads a policy file.
    pub fn load(path: &Path) -> Result<Self, Diagnostics> {
        match std::fs::read_to_string(path) {
            Ok(t) => Self::parse(&SourceFile::new(path, t)),
            Err(e) => Err(Diagnostics(vec![Diagnostic::file(
                path,
                format!("cannot read the policy: {e}"),
                "check the path given to --policy",
            )])),
        }
    }

    /// Parses and validates a policy; every problem located.
    pub fn parse(file: &SourceFile) -> Result<Self, Diagnostics> {
        let mut input = TomlInput::new(file.clone());
        let policy = read_raw(&mut input).map(|raw| {
            let mut c = Checks(&mut input);
            Self {
                guard: c.guard(&raw.guard),
                limits: c.limits(&raw.limits),
                verifier: c.verifier(&raw.verifier),
            }
        });
        input.finish(policy)
    }
}

/// The whole file as written, or `None` with its syntax or shape problems recorded.
fn read_raw(input: &mut TomlInput) -> Option<RawPolicy> {
    let text = input.file.text.clone();
    let (doc, had_errors) = input.document(&text);
    if had_errors {
        // A partial parse would only add confusing follow-on errors.
        return None;
    }
    let whole = Spanned::new(0..text.len(), DeValue::Table(doc));
    input.entry::<RawPolicy>(&whole, "policy", None)
}

/// The checks of a policy's values, each problem recorded on the input.
struct Checks<'i>(&'i mut TomlInput);

impl Checks<'_> {
    /// `[guard]`, its windows and shares checked and `pause_on` naming the lab's rule kinds.
    fn guard(&mut self, g: &RawGuard) -> GuardPolicy {
        let pause_on = match &g.pause_on {
            None => PAUSING_KINDS.iter().map(|k| (*k).to_owned()).collect(),
            Some(v) => {
                for k in v.get_ref() {
                    if !PAUSING_KINDS.contains(&k.as_str()) {
                        self.0.err(
                            Some(v.span()),
                            None,
                            format!("`pause_on` names `{k}`, which is not a rule kind of the lab's guard"),
                            "use some of \"message-match\", \"backing\", \"mint-rate\", \"outflow-rate\", \"privileged\"",
                        );
                    }
                }
                v.get_ref().clone()
            }
        };
        GuardPolicy {
            message_match: g.message_match,
            backing: g.backing,
            mint_window_s: self.secs(&g.mint_window_s, "mint_window_s"),
            mint_max_share_of_supply: self
                .share(&g.mint_max_share_of_supply, "mint_max_share_of_supply"),
            outflow_window_s: self.secs(&g.outflow_window_s, "outflow_window_s"),
            outflow_max_share_of_locked: self.share(
                &g.outflow_max_share_of_locked,
                "outflow_max_share_of_locked",
            ),
            pause_on,
        }
    }

    /// `[limits]`: the bucket, and when a single transfer waits.
    fn limits(&mut self, l: &RawLimits) -> LimitsPolicy {
        let usd = *l.delay_above_usd.get_ref();
        if !(usd.is_finite() && usd > 0.0) {
            self.0.err(
                Some(l.delay_above_usd.span()),
                None,
                format!("`delay_above_usd` is {usd}, but must be a positive amount"),
                "give a USD size above which a single transfer waits",
            );
        }
        LimitsPolicy {
            bucket_capacity_share: self.share(&l.bucket_capacity_share, "bucket_capacity_share"),
            bucket_refill_s: self.secs(&l.bucket_refill_s, "bucket_refill_s"),
            delay_above_share: self.share(&l.delay_above_share, "delay_above_share"),
            delay_above_usd: usd,
            delay_s: self.secs(&l.delay_s, "delay_s"),
        }
    }

    /// `[verifier]`: k of n attestors, a quorum of endpoints.
    fn verifier(&mut self, v: &RawVerifier) -> VerifierPolicy {
        let attestors = self.count(
            &v.attestors,
            "attestors",
            1..=16,
            "the lab runs 1 to 16 attestors; 3 is typical",
        );
        let endpoints = self.count(
            &v.endpoints,
            "endpoints",
            1..=8,
            "give each attestor 1 to 8 endpoints per chain",
        );
        VerifierPolicy {
            attestors,
            threshold: self.count(
                &v.threshold,
                "threshold",
                1..=attestors as u64,
                "k must be at least 1 and at most `attestors`",
            ),
            endpoints,
            quorum: self.count(
                &v.quorum,
                "quorum",
                1..=endpoints as u64,
                "the quorum must be at least 1 and at most `endpoints`",
            ),
            confirmations: *v.confirmations.get_ref(),
            timelock_s: self.secs(&v.timelock_s, "timelock_s"),
        }
    }

    /// A share in (0, 1].
    fn share(&mut self, v: &Spanned<f64>, name: &str) -> f64 {
        let x = *v.get_ref();
        if !(x.is_finite() && x > 0.0 && x <= 1.0) {
            self.0.err(
                Some(v.span()),
                None,
                format!("`{name}` is {x}, but must be a share in (0, 1]"),
                "write a share such as 0.05 for 5 %",
            );
        }
        x
    }

    /// A duration of at least one second.
    fn secs(&mut self, v: &Spanned<u64>, name: &str) -> u64 {
        let x = *v.get_ref();
        if x == 0 {
            self.0.err(
                Some(v.span()),
                None,
                format!("`{name}` is 0"),
                "give a duration of at least one second",
            );
        }
        x
    }

    /// A count within `range`.
    fn count(
        &mut self,
        v: &Spanned<u64>,
        name: &str,
        range: RangeInclusive<u64>,
        fix: &str,
    ) -> usize {
        let x = *v.get_ref();
        if !range.contains(&x) {
            self.0.err(
                Some(v.span()),
                None,
                format!(
                    "`{name}` is {x}, but must be between {} and {}",
                    range.start(),
                    range.end()
                ),
                fix,
            );
        }
        usize::try_from(x).unwrap_or(usize::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_policy_parses() {
        let p = Policy::parse(&SourceFile::new("examples/policy.toml", DEFAULT_TEXT))
            .expect("default policy is valid");
        assert!(p.guard.message_match && p.guard.backing);
        assert_eq!(p, Policy::default());
    }

    #[test]
    fn bad_values_are_located() {
        let text =
            DEFAULT_TEXT.replace("bucket_capacity_share = 0.05", "bucket_capacity_share = 5");
        let d = Policy::parse(&SourceFile::new("p.toml", text)).expect_err("share above 1");
        let d0 = &d.0[0];
        assert!(
            d0.line > 0 && d0.message.contains("bucket_capacity_share"),
            "{d}"
        );
        let d = Policy::parse(&SourceFile::new(
            "p.toml",
            "[guard]\nmessage_match = true\n",
        ))
        .expect_err("incomplete");
        assert!(d.to_string().contains("missing field"), "{d}");
        let text = DEFAULT_TEXT.replace(
            "pause_on = [\"message-match\", \"backing\", \"mint-rate\", \"outflow-rate\", \"privileged\"]",
            "pause_on = [\"message-match\", \"velocity\"]",
        );
        assert_ne!(text, DEFAULT_TEXT);
        let d = Policy::parse(&SourceFile::new("p.toml", text)).expect_err("unknown kind");
        assert!(d.to_string().contains("velocity") && d.0[0].line > 0, "{d}");
        let text = DEFAULT_TEXT.replace("bucket_refill_s", "bucket_refil_s");
        assert_ne!(text, DEFAULT_TEXT);
        let d = Policy::parse(&SourceFile::new("p.toml", text)).expect_err("typo");
        assert!(
            d.0[0].line > 0 && d.0[0].help.contains("did you mean `bucket_refill_s`"),
            "{d}"
        );
        let d = Policy::parse(&SourceFile::new("p.toml", "[guard\n")).expect_err("syntax");
        assert!(d.0[0].message.starts_with("invalid TOML"), "{d}");
    }
}
