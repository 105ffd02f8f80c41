//! `anomaly`: velocity (minted units, or USD leaving a contract, per time bucket) far above an
//! exponentially weighted baseline learned from earlier buckets: an alert before a static limit
//! is reached. Config: [`RuleKind::Anomaly`].

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{alert, token};
use crate::alert::{Alert, Severity};
use crate::amount::to_f64;
use crate::engine::World;
use crate::event::{Event, EventKind};
use crate::reason::Reason;
use crate::spec::{AnomalyMetric, RuleKind};

/// The open bucket, the baseline and how many buckets it has learned from.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Anomaly {
    bucket: u64,
    current: f64,
    baseline: f64,
    buckets_seen: u32,
    alerted_bucket: Option<u64>,
    started: bool,
}

impl Anomaly {
    pub(super) fn on_event(
        &mut self,
        w: &World,
        r: u16,
        kind: &RuleKind,
        ev: &Event,
        out: &mut Vec<Alert>,
    ) {
        let RuleKind::Anomaly {
            metric,
            bucket_s,
            alpha,
            factor,
            warmup_buckets,
            min_value,
        } = kind
        else {
            return;
        };
        let (value, tok) = match (metric, ev.kind) {
            (
                AnomalyMetric::Mint { token: t },
                EventKind::Mint {
                    token: et, amount, ..
                },
            ) if et == *t => {
                let Some(tok) = token(w, et) else { return };
                (to_f64(amount, tok.decimals), tok)
            }
            (
                AnomalyMetric::Outflow {
                    contract, tokens, ..
                },
                EventKind::Transfer {
                    token: et,
                    from,
                    amount,
                    ..
                }
                | EventKind::Burn {
                    token: et,
                    from,
                    amount,
                },
            ) if from == *contract && tokens.contains(&et) => {
                let Some(tok) = token(w, et) else { return };
                (to_f64(amount, tok.decimals) * tok.price_usd, tok)
            }
            _ => return,
        };
        let bucket = ev.timestamp / bucket_s;
        if !self.started {
            self.started = true;
            self.bucket = bucket;
        } else if bucket > self.bucket {
            // Close the current bucket, then decay over the empty ones in between.
            self.baseline = if self.buckets_seen == 0 {
                self.current
            } else {
                (1.0 - alpha) * self.baseline + alpha * self.current
            };
            let gap = (bucket - self.bucket - 1).min(10_000);
            if gap > 0 {
                self.baseline *= (1.0 - alpha).powi(gap as i32);
            }
            self.buckets_seen = self
                .buckets_seen
                .saturating_add(1)
                .saturating_add(gap as u32);
            self.bucket = bucket;
            self.current = 0.0;
        }
        self.current += value;
        if self.buckets_seen >= *warmup_buckets
            && self.current >= *min_value
            && self.current > factor * self.baseline
            && self.alerted_bucket != Some(bucket)
        {
            self.alerted_bucket = Some(bucket);
            let what = match metric {
                AnomalyMetric::Mint { .. } => "mint",
                AnomalyMetric::Outflow { .. } => "outflow-usd",
            };
            out.push(alert(
                r,
                Severity::Alert,
                Reason::Velocity,
                ev,
                json!({
                    "metric": what,
                    "token": tok.id,
                    "bucket_s": bucket_s,
                    "bucket_value": self.current,
                    "baseline": self.baseline,
                    "factor": factor,
                }),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{addr, engine, ev, run};
    use crate::event::EventKind;
    use alloy::primitives::U256;

    const RULE: &str = r#"[[rule]]
id = "an"
kind = "anomaly"
metric = "mint"
token = "T"
bucket_s = 10
factor = 5
warmup_buckets = 3
min_value = 50"#;

    fn mint(ts: u64, n: u64) -> crate::event::Event {
        ev(
            0,
            ts,
            ts,
            EventKind::Mint {
                token: 0,
                to: addr(9),
                amount: U256::from(n),
                minter: None,
            },
        )
    }

    #[test]
    fn no_alert_while_learning_then_one_per_spiking_bucket() {
        let mut e = engine(RULE);
        // A spike during warm-up is learned, not reported.
        let warm: Vec<_> = [(0, 10), (10, 200), (20, 10), (30, 10)]
            .iter()
            .map(|&(t, n)| mint(t, n))
            .collect();
        assert!(run(&mut e, &warm).is_empty());
        let steady: Vec<_> = (4..30).map(|i| mint(i * 10, 10)).collect();
        assert!(run(&mut e, &steady).is_empty());
        // Under `min_value`, however fast: nothing. 60 is under 5 × the baseline (≈ 13 after
        // the 40): nothing; the bucket reaching 120 alerts, once, located at that mint.
        let a = run(
            &mut e,
            &[mint(300, 40), mint(310, 60), mint(311, 60), mint(312, 60)],
        );
        assert_eq!(a.len(), 1, "{a:?}");
        assert_eq!((a[0].reason.as_str(), a[0].block), ("velocity", 311));
    }
}
