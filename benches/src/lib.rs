//! Workloads shared by the criterion benches and the `actor12-bench` comparison binary.
//!
//! Every benchmark is a [`Bench`]: one workload run on one implementation, timed by a plain
//! function of the number of iterations. Criterion calls that function from `iter_custom`; the
//! comparison binary calls it round after round, interleaving the implementations, and reports
//! medians and ratios to actor12. The scenarios are defined in `benches/README.md`.
//!
//! A new group plugs in as a module with a `benches()` list, chained into [`all`]; neither the
//! binary nor the report changes. The [`peers`] group, actor workloads compared across actor
//! frameworks, has a registry of its own (a run there also measures memory, and its ratios are
//! to the best peer); the binary runs it beside the others.

pub mod bench;
pub mod mailbox;
pub mod peers;
pub mod report;
pub mod scheduler;

pub use bench::{BASELINE, Bench, median};

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

static WORKERS: AtomicUsize = AtomicUsize::new(2);

/// Worker threads of every multi-threaded runtime the benchmarks build (actor12's, tokio's, and
/// so ractor's and kameo's; actix runs on its own single thread): 2, the project machine's cores,
/// unless [`set_workers`] changed it.
pub fn workers() -> usize {
    WORKERS.load(Relaxed)
}

/// CPU time (user + system) this process has used so far, from `/proc/self/stat`, in clock
/// ticks of 10 ms (Linux only).
pub fn process_cpu() -> std::time::Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("Linux /proc");
    // The fields after the command name, which is in parentheses and may contain spaces.
    let fields: Vec<&str> =
        stat.rsplit_once(')').expect("stat format").1.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    std::time::Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux
}

/// Sets [`workers`] (the binary's `--workers`), before any benchmark runs.
///
/// # Panics
/// If `n` is 0.
pub fn set_workers(n: usize) {
    assert!(n > 0, "a runtime needs at least one worker");
    WORKERS.store(n, Relaxed);
}

/// Every benchmark the comparison binary knows, group by group, in report order.
pub fn all() -> Vec<Bench> {
    mailbox::benches().into_iter().chain(scheduler::benches()).collect()
}
