//! Helpers shared by the runtime's integration tests.
#![allow(dead_code, unreachable_pub)]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use actor12_scheduler::Runtime;

pub fn rt(workers: usize) -> Runtime {
    Runtime::builder().worker_threads(workers).build().unwrap()
}

/// `n` divided by `ACTOR12_STRESS_DIV` (1 if unset), and at least 4: CI runs the stress tests
/// small under valgrind and Miri.
pub fn size(n: usize) -> usize {
    let div: usize =
        std::env::var("ACTOR12_STRESS_DIV").ok().and_then(|v| v.parse().ok()).unwrap_or(1);
    (n / div.max(1)).max(4)
}

/// How long [`within`] waits before it takes `f` for hung: a guard against a hang, never a
/// timing assertion, so generous for a loaded 2-core machine; Miri interprets the program
/// hundreds of times slower than it runs.
pub const HANG: Duration = Duration::from_secs(if cfg!(miri) { 600 } else { 120 });

/// Runs `f` on a thread of its own and fails if it has not returned within [`HANG`].
pub fn within<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(HANG).unwrap_or_else(|_| panic!("{what}: hung"))
}

/// Counts drops of the future that owns it.
pub struct DropCount(pub Arc<AtomicUsize>);

impl Drop for DropCount {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Threads of this process named `actor12-timer` (the fallback timer thread), as `/proc` lists
/// them (Miri's interpreted threads are not there).
#[cfg(target_os = "linux")]
pub fn timer_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim_end() == "actor12-timer")
        .count()
}
