//! Action claims: before a member prints, publishes or acts on an alert it writes the alert's
//! id to a key-value bucket with create-if-absent, so of the members that judged the same block
//! exactly one wins. The winner marks the claim `sent` once its transactions are out (or `done`
//! when the alert had nothing to send). A claim still `claimed` after the timeout, as measured
//! by the member watching it (its own monotonic clock, so no two clocks are compared), is taken
//! over with a compare-and-set on the revision it saw: its holder died after claiming and before
//! sending. [`decide`] is that policy.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// How far a claim has got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClaimState {
    /// Claimed; nothing sent yet.
    Claimed,
    /// Its transactions were sent (or failed for good): never retried by another member.
    Sent,
    /// Finished (printed, published; nothing to send).
    Done,
}

/// The value of a claim key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claim {
    /// Wire version.
    pub v: u32,
    /// The alert id.
    pub alert: String,
    /// Holder.
    pub member: String,
    /// How far it got.
    pub state: ClaimState,
}

/// What a member does about an alert it raised, given the claim's current entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimStep {
    /// No claim: create it (create-if-absent).
    Create,
    /// The holder stalled past the timeout: take it over at this revision.
    Take {
        /// The revision seen.
        revision: u64,
    },
    /// Someone is on it (or has finished): keep watching.
    Wait,
    /// Sent or done: nothing left to do.
    Leave,
}

/// The step given the claim's current entry (value and revision), how long this member has
/// seen that same revision, and the timeout. An unreadable value is waited on like a live claim
/// and taken over after the timeout.
pub fn decide(
    current: Option<(Result<Claim, String>, u64)>,
    seen_for: Duration,
    timeout: Duration,
) -> ClaimStep {
    match current {
        None => ClaimStep::Create,
        Some((Ok(c), _)) if c.state != ClaimState::Claimed => ClaimStep::Leave,
        Some((_, revision)) if seen_for >= timeout => ClaimStep::Take { revision },
        Some(_) => ClaimStep::Wait,
    }
}

/// The claim key of an alert: `alert.` and the first 32 hex digits of its id's SHA-256 (ids
/// carry characters keys do not allow).
pub fn key(alert_id: &str) -> String {
    let d = Sha256::digest(alert_id.as_bytes());
    format!("alert.{}", alloy::primitives::hex::encode(&d[..16]))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn claim(state: ClaimState) -> Claim {
        Claim {
            v: 1,
            alert: "a".into(),
            member: "m".into(),
            state,
        }
    }

    const T: Duration = Duration::from_secs(10);

    #[test]
    fn the_table() {
        assert_eq!(decide(None, Duration::ZERO, T), ClaimStep::Create);
        let c = |s| Some((Ok(claim(s)), 4));
        assert_eq!(
            decide(c(ClaimState::Claimed), Duration::from_secs(1), T),
            ClaimStep::Wait
        );
        assert_eq!(
            decide(c(ClaimState::Claimed), T, T),
            ClaimStep::Take { revision: 4 }
        );
        assert_eq!(decide(c(ClaimState::Sent), T * 9, T), ClaimStep::Leave);
        assert_eq!(decide(c(ClaimState::Done), T * 9, T), ClaimStep::Leave);
        assert_eq!(
            decide(Some((Err("x".into()), 2)), T, T),
            ClaimStep::Take { revision: 2 }
        );
    }

    proptest! {
        // A sent or finished claim is never taken over, however long it is watched: a pause is
        // sent by one member.
        #[test]
        fn sent_is_never_retaken(secs in 0u64..1_000_000, sent in any::<bool>()) {
            let s = if sent { ClaimState::Sent } else { ClaimState::Done };
            prop_assert_eq!(decide(Some((Ok(claim(s)), 1)), Duration::from_secs(secs), T), ClaimStep::Leave);
        }

        // A live claim is taken over exactly when it has been seen for the timeout.
        #[test]
        fn taken_over_only_after_the_timeout(ms in 0u64..100_000) {
            let step = decide(Some((Ok(claim(ClaimState::Claimed)), 1)), Duration::from_millis(ms), T);
            prop_assert_eq!(matches!(step, ClaimStep::Take { .. }), ms >= 10_000);
        }

        #[test]
        fn keys_are_valid_and_distinct(a in ".{0,40}", b in ".{0,40}") {
            let (ka, kb) = (key(&a), key(&b));
            prop_assert!(ka.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'.'));
            prop_assert_eq!(ka == kb, a == b);
        }
    }
}
