//! loom models of parking (`scheduler/src/park.rs`) and of the idle/searching protocol
//! (`scheduler/src/idle.rs`): no wake-up is lost.
#![cfg(actor12_loom)]

use actor12_scheduler::loom_api::{GlobalQueue, Idle, LocalQueue, Parker, StealQueue, local_queue};
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
        idle.unpark_self(0, false);
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

/// What the two workers of `searcher_finds_work_while_parking` share.
struct Pool {
    idle: Idle,
    parkers: [Parker; 2],
    steal: [StealQueue; 2],
    global: GlobalQueue,
}

impl Pool {
    /// `Shared::notify_parked` (rule 3).
    fn notify(&self) {
        if let Some(w) = self.idle.worker_to_notify() {
            self.parkers[w].unpark();
        }
    }

    /// `Shared::notify_if_work_pending` (rule 2): after its fence (the runtime's own, in
    /// `Idle::work_left_after_search`), work in a ring or the global queue gets a sleeper
    /// searching.
    fn notify_if_work_pending(&self) {
        let work_left = || !self.global.is_empty() || self.steal.iter().any(|s| !s.is_empty());
        if self.idle.work_left_after_search(work_left) {
            self.notify();
        }
    }
}

/// Worker `me` of two, driving the protocol as `Core::run` does (without timers, pinned tasks,
/// the LIFO slot or the spins before parking). The first task it takes stands for a poll that
/// never returns: the worker keeps it and leaves, so whatever else was queued must be found by
/// the other worker. Returns the task's id, and the ring, which a worker busy in a poll keeps
/// (dropped here, it would take the tasks in it along).
fn worker(pool: &Pool, me: usize, local: LocalQueue, mut searching: bool) -> (usize, LocalQueue) {
    let peer = 1 - me;
    loop {
        // `next_task`: the ring, then a share of the global queue (at most 2: the room a 4-slot
        // ring leaves `pop_global`). Then `steal_work`, if the throttle lets it (rule 1).
        let mut task = local.pop().or_else(|| pool.global.pop_share(2, 2, &local));
        if task.is_none() && (searching || pool.idle.try_transition_to_searching()) {
            searching = true;
            task =
                pool.steal[peer].steal_into(&local).or_else(|| pool.global.pop_share(2, 2, &local));
        }
        if let Some(task) = task {
            // `run_task`: rule 2.
            if searching && pool.idle.transition_from_searching() {
                pool.notify_if_work_pending();
            }
            return (task.id(), local);
        }
        // `park`: rule 4, then `has_work` (the peer's ring only if this worker may search).
        pool.idle.transition_worker_to_parked(me, searching);
        let has_work = !local.is_empty()
            || !pool.global.is_empty()
            || (pool.idle.may_search() && !pool.steal[peer].is_empty());
        if !has_work {
            pool.parkers[me].park();
        }
        // Rule 5: a searcher whose re-check found work in the global queue searches on (the
        // worker loop's own decision).
        searching = pool.idle.wake_up(me, searching, has_work, || !pool.global.is_empty());
    }
}

/// Two workers, one searching (the throttle lets only one of two search), while a thread
/// outside pushes two tasks to the global queue, each followed by rule 3's notification. The
/// notifications may see the searcher and wake nobody; the searcher may then stop searching
/// (park) and find the tasks in its re-check. Each worker keeps the first task it takes (a poll
/// that never returns), so the other task must reach the other worker: a worker asleep while a
/// task waits in the global queue or in the busy worker's ring shows as a deadlock.
///
/// Rule 2 wakes a sleeper only for work left in a ring or the global queue (since 2026-12-07;
/// before, always). Planted, each fails with a deadlock: no fence before the checks (or an
/// `AcqRel` one, in `Idle::work_left_after_search`, which the worker calls too: 2026-12-08), a
/// check of the global queue only, a check of the rings only, and no wake at all.
#[test]
fn searcher_finds_work_while_parking() {
    loom::model(|| {
        let (local0, steal0) = local_queue();
        let (local1, steal1) = local_queue();
        let pool = Arc::new(Pool {
            idle: Idle::new(2),
            parkers: [Parker::default(), Parker::default()],
            steal: [steal0, steal1],
            global: GlobalQueue::new(),
        });
        // Worker 1 searches; worker 0 will be refused while it does.
        assert!(pool.idle.try_transition_to_searching());
        let w0 = {
            let pool = pool.clone();
            thread::spawn(move || worker(&pool, 0, local0, false))
        };
        let w1 = {
            let pool = pool.clone();
            thread::spawn(move || worker(&pool, 1, local1, true))
        };
        for id in 0..2 {
            pool.global.push(id);
            pool.notify();
        }
        let (ran0, _local0) = w0.join().unwrap();
        let (ran1, _local1) = w1.join().unwrap();
        assert_eq!(ran0 + ran1, 1, "each worker took one of the two tasks");
    });
}
