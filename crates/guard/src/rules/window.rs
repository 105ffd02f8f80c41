//! A sliding sum over block timestamps.

use std::collections::VecDeque;
use std::ops::{Add, Sub};

/// Sum of the values whose timestamp lies in `(now - window, now]`.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub(crate) struct SlidingSum<T> {
    items: VecDeque<(u64, T)>,
    sum: T,
}

impl<T: Copy + Default + Add<Output = T> + Sub<Output = T>> SlidingSum<T> {
    /// Drops values older than the window ending at `now`.
    fn evict(&mut self, now: u64, window: u64) {
        let cutoff = now.saturating_sub(window);
        while let Some(&(ts, v)) = self.items.front() {
            if ts > cutoff || now < window {
                break;
            }
            self.sum = self.sum - v;
            self.items.pop_front();
        }
        if self.items.is_empty() {
            self.sum = T::default();
        }
    }

    /// Adds a value at `ts` (after evicting for the window ending at `ts`) and returns the sum.
    fn push(&mut self, ts: u64, v: T, window: u64) -> T {
        self.evict(ts, window);
        self.items.push_back((ts, v));
        self.sum = self.sum + v;
        self.sum
    }

    /// Adds a value at `ts` and returns the sum just before it (after evicting for the window
    /// ending at `ts`) and with it: the two sums a window limit's latch compares ([`crossed`]).
    pub(crate) fn step(&mut self, ts: u64, v: T, window: u64) -> (T, T) {
        self.evict(ts, window);
        let before = self.sum;
        (before, self.push(ts, v, window))
    }
}

/// A window limit's latch: whether a trip fires now that the window's sum went from `before`
/// to `total`. A trip fires when the sum is over `limit`, once: the latch holds it until the
/// sum is back at or under the limit (before or after this value).
pub(crate) fn crossed<T: PartialOrd>(latched: &mut bool, before: T, total: T, limit: T) -> bool {
    if before <= limit || total <= limit {
        *latched = false;
    }
    if total > limit && !*latched {
        *latched = true;
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_window() {
        let mut w = SlidingSum::<u64>::default();
        assert_eq!(w.push(100, 5, 10), 5);
        assert_eq!(w.push(105, 5, 10), 10);
        assert_eq!(w.push(110, 1, 10), 6); // 100 is out: (100, 110]
        w.evict(200, 10);
        assert_eq!(w.sum, 0);
    }

    #[test]
    fn a_step_gives_the_sum_before_and_with_the_value_in_its_window() {
        let mut w = SlidingSum::<u64>::default();
        assert_eq!(w.step(100, 5, 10), (0, 5));
        assert_eq!(w.step(105, 4, 10), (5, 9));
        // 100 leaves the window before the sums are taken: (100, 110].
        assert_eq!(w.step(110, 1, 10), (4, 5));
    }

    #[test]
    fn a_limit_trips_once_until_the_sum_is_back_under_it() {
        let mut latched = false;
        assert!(!crossed(&mut latched, 0, 5, 10));
        assert!(crossed(&mut latched, 5, 11, 10));
        assert!(!crossed(&mut latched, 11, 12, 10), "latched");
        assert!(!crossed(&mut latched, 12, 9, 10), "released");
        assert!(crossed(&mut latched, 9, 13, 10));
        // Back under before this value (old values left the window): trips again.
        assert!(crossed(&mut latched, 10, 14, 10));
    }
}
