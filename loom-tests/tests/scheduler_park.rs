//! loom models of parking (`scheduler/src/park.rs`) and of the idle/searching protocol
//! (`scheduler/src/idle.rs`): no wake-up is lost.
#![cfg(actor12_loom)]

use actor12_scheduler::loom_api::{Idle, Parker};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::*};
use loom::thread;

/// `unpark` before or during `park`: the parked thread returns, and sees what was written
/// before the unpark.
#[test]
fn unpark_is_never_lost() {
    loom::model(|| {
        let parker = Arc::new(Parker::default());
        let data = Arc::new(AtomicUsize::new(0));
        let t = {
            let (parker, data) = (parker.clone(), data.clone());
            thread::spawn(move || {
                data.store(1, Relaxed);
                parker.unpark();
            })
        };
        parker.park();
        // Relaxed: the parker's token must carry the happens-before edge.
        assert_eq!(data.load(Relaxed), 1);
        t.join().unwrap();
    });
}

/// A worker going to sleep while another thread publishes work and notifies: either the
/// notifier wakes the worker, or the worker's re-check after registering sees the work. A lost
/// wake-up shows as a deadlock (the worker parks forever).
fn sleeper_vs_notifier(searching: bool) {
    loom::model(move || {
        let idle = Arc::new(Idle::new(2));
        let parker = Arc::new(Parker::default());
        let work = Arc::new(AtomicUsize::new(0));
        if searching {
            assert!(idle.try_transition_to_searching());
        }
        let notifier = {
            let (idle, parker, work) = (idle.clone(), parker.clone(), work.clone());
            thread::spawn(move || {
                // Relaxed: ordered by the protocol's SeqCst fence in `worker_to_notify`.
                work.store(1, Relaxed);
                if let Some(w) = idle.worker_to_notify() {
                    assert_eq!(w, 0);
                    parker.unpark();
                }
            })
        };
        // Worker 0 runs out of work and goes to sleep.
        idle.transition_worker_to_parked(0, searching);
        // Relaxed: ordered by the fence in `transition_worker_to_parked`.
        if work.load(Relaxed) == 0 {
            parker.park();
        }
        idle.unpark_self(0);
        notifier.join().unwrap();
        assert_eq!(idle.num_sleepers(), 0);
    });
}

#[test]
fn sleeper_vs_notifier_idle() {
    sleeper_vs_notifier(false);
}

#[test]
fn sleeper_vs_notifier_last_searcher() {
    sleeper_vs_notifier(true);
}
