//! The registry entry: one workload on one implementation, and how to time it.

use std::time::Duration;

/// The implementation every other one is compared with.
pub const BASELINE: &str = "actor12";

/// One benchmark: a workload run on one implementation.
///
/// `run(iters)` performs `iters` iterations of the workload and returns the time they took, with
/// setup (making channels, spawning threads) and correctness checks left out. That is exactly
/// criterion's `iter_custom` contract, and the comparison binary divides the same duration by
/// the messages moved.
#[derive(Debug, Clone, Copy)]
pub struct Bench {
    /// The group: a criterion benchmark group, and one file pair under `docs/benchmarks/`.
    pub group: &'static str,
    /// The scenario, as `benches/README.md` defines it.
    pub workload: &'static str,
    /// The implementation: [`BASELINE`] or a peer.
    pub imp: &'static str,
    /// Messages one iteration moves: 1 where an iteration is a single operation.
    pub messages_per_iter: u64,
    /// Iterations one run of the comparison binary times.
    pub iters_per_run: u64,
    /// Performs `iters` iterations; returns the time they took.
    pub run: fn(u64) -> Duration,
}

impl Bench {
    /// `group/workload/impl`, the name used in progress lines and filters.
    pub fn id(&self) -> String {
        format!("{}/{}/{}", self.group, self.workload, self.imp)
    }

    /// `group/workload`, a row of the report.
    pub fn row(&self) -> String {
        format!("{}/{}", self.group, self.workload)
    }

    /// Times one run of `iters` iterations; returns nanoseconds per message.
    pub fn ns_per_message(&self, iters: u64) -> f64 {
        let elapsed = (self.run)(iters);
        elapsed.as_nanos() as f64 / (iters * self.messages_per_iter) as f64
    }
}

/// The median of `samples` (the mean of the middle two for an even count); NaN if empty.
///
/// # Examples
///
/// ```
/// assert_eq!(actor12_benches::median(&[3.0, 1.0, 2.0]), 2.0);
/// assert_eq!(actor12_benches::median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
/// ```
pub fn median(samples: &[f64]) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len().is_multiple_of(2) { (sorted[mid - 1] + sorted[mid]) / 2.0 } else { sorted[mid] }
}
