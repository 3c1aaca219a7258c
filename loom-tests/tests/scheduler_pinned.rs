//! loom models of a worker's two queues of pinned tasks (`scheduler/src/worker.rs`,
//! `Core::pop_pinned`, and `Inject::drain_into` in `scheduler/src/inject.rs`): the queue that
//! other threads push to (a locked deque with a lock-free length hint, then an unpark of the
//! worker's parker) and the worker's own. A pop moves the remote queue's tasks behind the local
//! ones and takes the oldest; a worker that finds neither looks at the hint and parks. At
//! shutdown the remote queue is closed while the worker may still be taking from it.
#![cfg(actor12_loom)]

use actor12_scheduler::loom_api::{PinnedHere, PinnedRemote};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

/// The worker holds task 0 in its own queue (a pinned task scheduled there) while another
/// thread pins tasks 1 and 2 to it. The worker runs 0 first, then requeues it once as 3 (the
/// task yielded), and runs until it has seen all four, parking whenever both queues look
/// empty.
///
/// What it proves: no push is stranded by the hint's fast path or lost by the parker (a lost
/// wake-up leaves the worker parked: loom reports a deadlock); each task comes out once; the
/// remote tasks keep their order; and a task requeued here waits only for the tasks already
/// queued here when it was requeued, never for remote tasks pushed later (the starvation the
/// fairness review of 2026-12-06 found when `pop_pinned` took the remote queue first: with
/// that order task 1 could come before task 0, or after 0's requeue 3).
#[test]
fn remote_pinned_tasks_join_the_back_of_the_local_ones() {
    loom::model(|| {
        let remote = Arc::new(PinnedRemote::default());
        let mut here = PinnedHere::default();
        here.push(0);
        let pusher = {
            let remote = remote.clone();
            thread::spawn(move || {
                remote.push(1);
                remote.push(2);
            })
        };
        let mut seen = Vec::new();
        // How many tasks were queued here ahead of the requeued task 3.
        let mut ahead = None;
        while seen.len() < 4 {
            match here.pop(&remote) {
                Some(task) => {
                    seen.push(task.id());
                    if task.id() == 0 {
                        ahead = Some(here.len());
                        here.push(3);
                    }
                }
                None => {
                    if !here.has_work(&remote) {
                        remote.park();
                    }
                }
            }
        }
        pusher.join().unwrap();
        assert_eq!(seen[0], 0, "a remote task overtook the one queued here first");
        let at = |id: usize| seen.iter().position(|&s| s == id).expect("every task comes out");
        assert!(at(1) < at(2), "the remote tasks out of order: {seen:?}");
        assert_eq!(
            at(3),
            1 + ahead.expect("task 0 ran"),
            "the requeued task waited for remote tasks pushed after it: {seen:?}"
        );
        assert!(!here.has_work(&remote));
    });
}

/// Runtime shutdown: another thread pins two tasks to the worker while the shutdown closes the
/// remote queue and the worker takes one turn and leaves (cancelling what is left in its own
/// queue). Each task is run (here: taken and dropped) or cancelled exactly once, and none is
/// left in the closed queue: a push that lands after the close cancels its task at once, and the
/// close cancels what it finds. A task left behind would leak its allocation, which holds loom
/// objects, and loom reports the leak.
#[test]
fn a_pinned_push_versus_the_queues_close() {
    loom::model(|| {
        let remote = Arc::new(PinnedRemote::default());
        let drops = Arc::new(AtomicUsize::new(0));
        let pusher = {
            let (remote, drops) = (remote.clone(), drops.clone());
            thread::spawn(move || {
                remote.push_counted(1, drops.clone());
                remote.push_counted(2, drops);
            })
        };
        let closer = {
            let remote = remote.clone();
            thread::spawn(move || remote.close())
        };
        let mut here = PinnedHere::default();
        let ran = here.pop(&remote).map(|task| task.id());
        here.shutdown_all();
        pusher.join().unwrap();
        closer.join().unwrap();
        assert!(remote.is_empty(), "a task was left in the closed queue");
        assert!(ran.is_none_or(|id| id == 1), "the remote tasks out of order");
        assert_eq!(drops.load(SeqCst), 2, "a task was dropped twice or never");
    });
}
