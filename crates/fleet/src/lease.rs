//! Leases: which member ingests which chain. A lease is a key in a JetStream key-value bucket
//! whose entries expire after the lease TTL (the bucket's max age); its holder renews it well
//! within the TTL with a compare-and-set on the revision it holds, anyone else may create it
//! only once it is absent (expired, or released by a member that stops). [`decide`] is the whole
//! policy; the member's lease loop only carries it out.

use serde::{Deserialize, Serialize};

/// The value of a lease key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// Wire version ([`crate::codec::VERSION`]).
    pub v: u32,
    /// Holder's member id.
    pub member: String,
    /// Holder's config hash.
    pub config: String,
}

/// What a member does about one lease, given the bucket's current entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaseStep {
    /// Absent: try to create it (create-if-absent; another member may win).
    Acquire,
    /// Ours: renew it, compare-and-set on this revision.
    Renew {
        /// The revision we hold.
        revision: u64,
    },
    /// Another member holds it: leave it until it expires.
    HeldBy {
        /// The holder.
        member: String,
    },
}

/// The step for member `me` given the lease's current entry (`None` when absent, deleted or
/// expired; `Some(Err(text))` when the value does not parse — left alone to expire rather than
/// taken, since its writer may be alive).
pub fn decide(me: &str, current: Option<(Result<Lease, String>, u64)>) -> LeaseStep {
    match current {
        None => LeaseStep::Acquire,
        Some((Ok(l), revision)) if l.member == me => LeaseStep::Renew { revision },
        Some((Ok(l), _)) => LeaseStep::HeldBy { member: l.member },
        Some((Err(_), _)) => LeaseStep::HeldBy {
            member: "(unreadable lease value)".into(),
        },
    }
}

/// The lease key of chain `id`'s ingest: `ingest.` and the id as in
/// [`crate::codec::block_subject`] (key-value keys allow `[-/_=.A-Za-z0-9]`).
pub fn ingest_key(id: &str) -> String {
    let subject = crate::codec::block_subject(id);
    let token = subject.trim_start_matches("ringfence.blocks.");
    format!("ingest.{}", token.replace('~', "="))
}

/// How many renewal periods member `me` waits before it first tries to create the absent
/// lease of chain `chain` (0, 1 or 2, from a hash of both): members that start together then
/// spread the chains between them instead of the first one taking all. Every member still tries
/// every absent lease, so a chain is never left unguarded for longer when members die.
pub fn stagger(me: &str, chain: &str) -> u32 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("{me}\n{chain}").as_bytes());
    u32::from(d[0]) % 3
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn lease(m: &str) -> Lease {
        Lease {
            v: 1,
            member: m.into(),
            config: "c".into(),
        }
    }

    #[test]
    fn absent_is_acquired_own_renewed_other_left() {
        assert_eq!(decide("a", None), LeaseStep::Acquire);
        assert_eq!(
            decide("a", Some((Ok(lease("a")), 7))),
            LeaseStep::Renew { revision: 7 }
        );
        assert_eq!(
            decide("a", Some((Ok(lease("b")), 7))),
            LeaseStep::HeldBy { member: "b".into() }
        );
        assert!(matches!(
            decide("a", Some((Err("bad".into()), 7))),
            LeaseStep::HeldBy { .. }
        ));
    }

    #[test]
    fn keys_are_valid_kv_keys() {
        assert_eq!(ingest_key("eth"), "ingest.eth");
        assert_eq!(ingest_key("a.b c"), "ingest.a=2eb=20c");
    }

    proptest! {
        // The stagger is small and the same for the same member and chain.
        #[test]
        fn stagger_is_small_and_stable(me in "[a-z0-9-]{1,12}", chain in "[a-z]{1,8}") {
            let s = stagger(&me, &chain);
            prop_assert!(s < 3);
            prop_assert_eq!(s, stagger(&me, &chain));
        }

        // A lease is renewed only by its holder; nobody but the holder ever renews.
        #[test]
        fn only_the_holder_renews(me in "[a-c]", holder in "[a-c]", rev in any::<u64>()) {
            let step = decide(&me, Some((Ok(lease(&holder)), rev)));
            prop_assert_eq!(matches!(step, LeaseStep::Renew { .. }), me == holder);
        }

        // Keys use only the characters the bucket accepts.
        #[test]
        fn keys_are_always_valid(id in ".{0,20}") {
            let k = ingest_key(&id);
            prop_assert!(k.bytes().all(|b| b.is_ascii_alphanumeric() || b"-/_=.".contains(&b)), "{}", k);
        }
    }
}
