//! Contract review: runtime guarantees of the guide's "The runtime" chapter that no other test
//! checked as written.

use std::sync::mpsc;
use std::time::Duration;

use actor12_scheduler::Runtime;

const HANG: Duration = Duration::from_secs(60);

/// Panics when dropped.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("destructor panic (expected by the test)");
    }
}

/// A task that holds a `PanicsOnDrop` across an await that never ends, on a runtime that is then
/// shut down with `shut_down`: what its `JoinHandle` gives.
fn shut_down_with_a_panicking_destructor(shut_down: impl FnOnce(Runtime)) -> (bool, bool) {
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    let (started_tx, started) = mpsc::channel();
    let task = rt.spawn(async move {
        let _guard = PanicsOnDrop;
        started_tx.send(()).unwrap();
        std::future::pending::<()>().await;
    });
    started.recv_timeout(HANG).expect("the task started");
    shut_down(rt);
    let other = Runtime::builder().worker_threads(1).build().unwrap();
    let err = other.block_on(task).unwrap_err();
    (err.is_panic(), err.is_cancelled())
}

// runtime.md:41-45 "Dropping a runtime shuts it down, ...; `shutdown_timeout(d)` does the same
// ... Either way, a task that has not finished is cancelled: its future is dropped and its
// `JoinHandle` resolves to a `JoinError` whose `is_cancelled()` is true (`is_panic()` if the
// future's destructor panicked)."
#[test]
fn a_task_whose_destructor_panics_at_shutdown_gives_a_panic() {
    let by_drop = shut_down_with_a_panicking_destructor(drop);
    let by_timeout = shut_down_with_a_panicking_destructor(|rt| rt.shutdown_timeout(HANG));
    assert_eq!(by_drop, (true, false), "(is_panic, is_cancelled) after the runtime's drop");
    assert_eq!(by_timeout, (true, false), "(is_panic, is_cancelled) after shutdown_timeout");
}

// runtime.md:41-45, the plain case: a pending task at shutdown is cancelled.
#[test]
fn a_pending_task_at_shutdown_is_cancelled() {
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    let (started_tx, started) = mpsc::channel();
    let task = rt.spawn(async move {
        started_tx.send(()).unwrap();
        std::future::pending::<()>().await;
    });
    started.recv_timeout(HANG).expect("the task started");
    drop(rt);
    let other = Runtime::builder().worker_threads(1).build().unwrap();
    assert!(other.block_on(task).unwrap_err().is_cancelled());
}
