//! The pure agreement rule: what each endpoint answered for one block → confirmed, disagreement
//! or lagging. No I/O, so it is property-tested on its own.

use std::collections::BTreeSet;
use std::fmt;

use alloy::primitives::{Address, B256, Bytes};
use serde::Serialize;

/// A block header as the quorum compares it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Header {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: B256,
    /// Parent block hash.
    pub parent_hash: B256,
    /// Block timestamp (seconds).
    pub timestamp: u64,
}

/// One log as the quorum compares it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct LogEntry {
    /// Emitting contract.
    pub address: Address,
    /// Topics (topic 0 is the event signature).
    pub topics: Vec<B256>,
    /// Non-indexed data.
    pub data: Bytes,
    /// Transaction hash.
    pub tx_hash: B256,
    /// Index of the log in the block.
    pub log_index: u64,
}

/// What one endpoint said about one block: its header and the logs matching the filter, sorted
/// by log index.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct BlockView {
    /// The header.
    pub header: Header,
    /// The matching logs, by log index.
    pub logs: Vec<LogEntry>,
}

/// One endpoint's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// The block and its logs.
    Block(BlockView),
    /// The endpoint has not reached the block yet (lagging, not lying).
    NotYet,
    /// The endpoint failed (down, timeout, malformed answer); the reason is redacted.
    Failed(String),
    /// The endpoint answered something self-contradictory (a header that does not hash to its
    /// claimed hash, logs of another block): a lie, counted as a disagreement.
    Invalid(String),
}

/// One way two answers for the same block differ.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(tag = "field", rename_all = "kebab-case")]
pub enum Difference {
    /// The block hash.
    Hash,
    /// The parent hash.
    ParentHash,
    /// The timestamp.
    Timestamp,
    /// Logs one side has and the other does not (`count` on the side with more).
    Logs {
        /// How many logs are in one answer and not the other, both ways.
        count: usize,
    },
    /// An answer that contradicts itself.
    Invalid {
        /// Why.
        reason: String,
    },
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Hash => f.write_str("block hash"),
            Self::ParentHash => f.write_str("parent hash"),
            Self::Timestamp => f.write_str("timestamp"),
            Self::Logs { count } => write!(f, "{count} log(s) present in one answer only"),
            Self::Invalid { reason } => write!(f, "invalid answer: {reason}"),
        }
    }
}

/// The differences between two views of one block.
pub fn differences(a: &BlockView, b: &BlockView) -> Vec<Difference> {
    let mut d = Vec::new();
    if a.header.hash != b.header.hash {
        d.push(Difference::Hash);
    }
    if a.header.parent_hash != b.header.parent_hash {
        d.push(Difference::ParentHash);
    }
    if a.header.timestamp != b.header.timestamp {
        d.push(Difference::Timestamp);
    }
    let la: BTreeSet<&LogEntry> = a.logs.iter().collect();
    let lb: BTreeSet<&LogEntry> = b.logs.iter().collect();
    let count = la.symmetric_difference(&lb).count();
    if count > 0 || a.logs.len() != b.logs.len() {
        d.push(Difference::Logs {
            count: count.max(a.logs.len().abs_diff(b.logs.len())),
        });
    }
    d
}

/// The verdict on one block, with endpoints as indexes into the answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Exactly one view was returned by at least `quorum` endpoints.
    Confirmed {
        /// The agreed view.
        view: BlockView,
        /// Endpoints that returned it.
        agreeing: Vec<usize>,
        /// Endpoints that returned something else (a different view, or an invalid answer).
        dissenting: Vec<usize>,
        /// What the dissenters' answers differed in.
        differed: Vec<Difference>,
    },
    /// Answers differ and no single view has a quorum (or two do): nothing may be acted on.
    Disagreement {
        /// Every endpoint that answered (a view or an invalid answer).
        endpoints: Vec<usize>,
        /// What differed.
        differed: Vec<Difference>,
    },
    /// All answers agree, but too few endpoints answered (behind the block, or down).
    Lagging {
        /// Endpoints that returned the (single) view.
        answered: Vec<usize>,
        /// Endpoints not yet at the block.
        behind: Vec<usize>,
        /// Endpoints that failed.
        down: Vec<usize>,
    },
}

/// Applies the agreement rule. `quorum` is clamped to at least 1.
///
/// A view is confirmed when at least `quorum` endpoints returned exactly the same header and
/// logs and no other view also reached `quorum`. An endpoint behind the block or down is neither
/// for nor against. Any difference without such a quorum is a disagreement.
pub fn decide(quorum: usize, answers: &[Answer]) -> Decision {
    let quorum = quorum.max(1);
    let mut groups: Vec<(&BlockView, Vec<usize>)> = Vec::new();
    let mut invalid: Vec<(usize, &str)> = Vec::new();
    let (mut behind, mut down) = (Vec::new(), Vec::new());
    for (i, a) in answers.iter().enumerate() {
        match a {
            Answer::Block(v) => match groups.iter_mut().find(|(g, _)| *g == v) {
                Some((_, members)) => members.push(i),
                None => groups.push((v, vec![i])),
            },
            Answer::NotYet => behind.push(i),
            Answer::Failed(_) => down.push(i),
            Answer::Invalid(r) => invalid.push((i, r)),
        }
    }
    let winners: Vec<usize> = (0..groups.len())
        .filter(|&g| groups[g].1.len() >= quorum)
        .collect();
    let differed_from = |base: &BlockView| -> Vec<Difference> {
        let mut d: BTreeSet<Difference> = BTreeSet::new();
        for (v, _) in &groups {
            d.extend(differences(base, v));
        }
        for (_, r) in &invalid {
            d.insert(Difference::Invalid {
                reason: (*r).to_owned(),
            });
        }
        d.into_iter().collect()
    };
    if let [w] = winners[..] {
        let (view, agreeing) = (groups[w].0, groups[w].1.clone());
        let mut dissenting: Vec<usize> = groups
            .iter()
            .enumerate()
            .filter(|(g, _)| *g != w)
            .flat_map(|(_, (_, m))| m.iter().copied())
            .chain(invalid.iter().map(|(i, _)| *i))
            .collect();
        dissenting.sort_unstable();
        return Decision::Confirmed {
            view: view.clone(),
            agreeing,
            differed: differed_from(view),
            dissenting,
        };
    }
    if groups.len() > 1 || !invalid.is_empty() {
        let mut endpoints: Vec<usize> = groups
            .iter()
            .flat_map(|(_, m)| m.iter().copied())
            .chain(invalid.iter().map(|(i, _)| *i))
            .collect();
        endpoints.sort_unstable();
        let differed = match groups.first() {
            Some((base, _)) => differed_from(base),
            None => differed_from_invalid(&invalid),
        };
        return Decision::Disagreement {
            endpoints,
            differed,
        };
    }
    Decision::Lagging {
        answered: groups.first().map(|(_, m)| m.clone()).unwrap_or_default(),
        behind,
        down,
    }
}

fn differed_from_invalid(invalid: &[(usize, &str)]) -> Vec<Difference> {
    let set: BTreeSet<Difference> = invalid
        .iter()
        .map(|(_, r)| Difference::Invalid {
            reason: (*r).to_owned(),
        })
        .collect();
    set.into_iter().collect()
}

/// The logs of `view` (the confirmed one) that a `dissenting` endpoint with a self-consistent
/// view of the block did not return, as (transaction hash, log index), sorted. An invalid answer
/// contests nothing (it is not a view of the block).
pub fn contested(view: &BlockView, answers: &[Answer], dissenting: &[usize]) -> Vec<(B256, u64)> {
    let mut out: BTreeSet<(B256, u64)> = BTreeSet::new();
    for i in dissenting {
        if let Some(Answer::Block(other)) = answers.get(*i) {
            let theirs: BTreeSet<&LogEntry> = other.logs.iter().collect();
            for l in &view.logs {
                if !theirs.contains(l) {
                    out.insert((l.tx_hash, l.log_index));
                }
            }
        }
    }
    out.into_iter().collect()
}

/// The highest block that at least `quorum` endpoints report having (the `quorum`-th highest
/// head), or `None` when fewer than `quorum` endpoints answered.
pub fn quorum_head(quorum: usize, heads: &[Option<u64>]) -> Option<u64> {
    let mut h: Vec<u64> = heads.iter().flatten().copied().collect();
    h.sort_unstable_by(|a, b| b.cmp(a));
    h.get(quorum.max(1) - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A view as an endpoint's answer is built: logs sorted by log index (two answers with the
    /// same logs in another order would be different views with no difference to name).
    fn view(hash: u8, logs: &[u8]) -> BlockView {
        let mut logs = logs.to_vec();
        logs.sort_unstable();
        BlockView {
            header: Header {
                number: 7,
                hash: B256::repeat_byte(hash),
                parent_hash: B256::repeat_byte(1),
                timestamp: 100,
            },
            logs: logs
                .iter()
                .map(|&l| LogEntry {
                    address: Address::repeat_byte(9),
                    topics: vec![B256::repeat_byte(l)],
                    data: Bytes::new(),
                    tx_hash: B256::repeat_byte(l),
                    log_index: u64::from(l),
                })
                .collect(),
        }
    }

    #[test]
    fn table() {
        let honest = Answer::Block(view(2, &[1]));
        let injected = Answer::Block(view(2, &[1, 5]));
        let dropped = Answer::Block(view(2, &[]));
        let rehashed = Answer::Block(view(3, &[1]));
        // One liar of three: the honest majority confirms, the liar is the dissenter.
        for lie in [&injected, &dropped, &rehashed] {
            let d = decide(2, &[honest.clone(), lie.clone(), honest.clone()]);
            let Decision::Confirmed {
                view: v,
                agreeing,
                dissenting,
                ..
            } = d
            else {
                panic!("{d:?}")
            };
            assert_eq!(v, view(2, &[1]));
            assert_eq!((agreeing, dissenting), (vec![0, 2], vec![1]));
        }
        // Two different liars and one honest: no quorum, disagreement.
        let d = decide(2, &[honest.clone(), injected.clone(), dropped.clone()]);
        assert!(
            matches!(d, Decision::Disagreement { ref endpoints, .. } if endpoints == &[0, 1, 2]),
            "{d:?}"
        );
        // One honest, one lagging, one down: lagging, not a disagreement.
        let d = decide(
            2,
            &[honest.clone(), Answer::NotYet, Answer::Failed("x".into())],
        );
        assert_eq!(
            d,
            Decision::Lagging {
                answered: vec![0],
                behind: vec![1],
                down: vec![2]
            }
        );
        // One honest and one liar, the third down: disagreement, never the liar's view.
        let d = decide(2, &[honest.clone(), injected, Answer::Failed("x".into())]);
        assert!(matches!(d, Decision::Disagreement { .. }), "{d:?}");
        // quorum 1 with two different views: both reach quorum, so it is a disagreement.
        let d = decide(1, &[honest, rehashed]);
        assert!(matches!(d, Decision::Disagreement { .. }), "{d:?}");
        assert_eq!(
            differences(&view(2, &[1]), &view(3, &[1, 4])),
            vec![Difference::Hash, Difference::Logs { count: 1 }]
        );
    }

    #[test]
    fn contested_logs_are_those_a_dissenting_view_lacks() {
        let confirmed = view(2, &[1, 2]);
        let answers = [
            Answer::Block(confirmed.clone()),
            Answer::Block(view(2, &[1])),
            Answer::Block(confirmed.clone()),
            Answer::Invalid("bad hash".into()),
            Answer::Block(view(2, &[1, 2, 3])),
        ];
        let got = contested(&confirmed, &answers, &[1, 3, 4]);
        assert_eq!(got, vec![(B256::repeat_byte(2), 2)]);
        assert!(contested(&confirmed, &answers, &[3, 4]).is_empty());
    }

    #[test]
    fn heads() {
        assert_eq!(quorum_head(2, &[Some(10), None, Some(8)]), Some(8));
        assert_eq!(quorum_head(2, &[Some(10), None, None]), None);
        assert_eq!(quorum_head(1, &[Some(10), Some(12)]), Some(12));
    }

    fn answer() -> impl Strategy<Value = Answer> {
        prop_oneof![
            4 => (0u8..3, proptest::collection::vec(0u8..4, 0..3)).prop_map(|(h, l)| Answer::Block(view(h, &l))),
            1 => Just(Answer::NotYet),
            1 => Just(Answer::Failed("down".into())),
            1 => Just(Answer::Invalid("bad hash".into())),
        ]
    }

    proptest! {
        /// A confirmed view was returned by at least `quorum` endpoints, by no dissenter, and no
        /// other view had a quorum; a view held by fewer than `quorum` is never confirmed.
        #[test]
        fn confirmed_only_with_quorum(q in 1usize..5, answers in proptest::collection::vec(answer(), 0..7)) {
            match decide(q, &answers) {
                Decision::Confirmed { view, agreeing, dissenting, .. } => {
                    prop_assert!(agreeing.len() >= q);
                    for i in &agreeing {
                        prop_assert_eq!(&answers[*i], &Answer::Block(view.clone()));
                    }
                    for i in &dissenting {
                        prop_assert_ne!(&answers[*i], &Answer::Block(view.clone()));
                        prop_assert!(!matches!(answers[*i], Answer::NotYet | Answer::Failed(_)));
                    }
                    let others = answers.iter().filter_map(|a| match a { Answer::Block(v) if *v != view => Some(v), _ => None });
                    for o in others {
                        let n = answers.iter().filter(|a| **a == Answer::Block(o.clone())).count();
                        prop_assert!(n < q);
                    }
                }
                Decision::Disagreement { endpoints, differed } => {
                    prop_assert!(!differed.is_empty());
                    prop_assert!(endpoints.iter().all(|i| matches!(answers[*i], Answer::Block(_) | Answer::Invalid(_))));
                }
                Decision::Lagging { answered, .. } => {
                    prop_assert!(answered.len() < q);
                    prop_assert!(!answers.iter().any(|a| matches!(a, Answer::Invalid(_))));
                }
            }
        }

        /// Lagging or failing endpoints never turn a confirmation into a disagreement, and the
        /// order of the endpoints does not change the confirmed view.
        #[test]
        fn laggards_are_neutral(q in 1usize..4, honest in 1usize..5, lag in 0usize..3, down in 0usize..3) {
            let v = view(2, &[1, 2]);
            let mut answers = vec![Answer::Block(v.clone()); honest];
            answers.extend(std::iter::repeat_n(Answer::NotYet, lag));
            answers.extend(std::iter::repeat_n(Answer::Failed("x".into()), down));
            let d = decide(q, &answers);
            if honest >= q {
                let ok = matches!(d, Decision::Confirmed { ref view, .. } if *view == v);
                prop_assert!(ok, "{:?}", d);
            } else {
                let ok = matches!(d, Decision::Lagging { .. });
                prop_assert!(ok, "{:?}", d);
            }
            answers.reverse();
            let r = decide(q, &answers);
            prop_assert_eq!(matches!(r, Decision::Confirmed { .. }), honest >= q);
        }
    }
}
