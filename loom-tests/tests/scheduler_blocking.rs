//! loom models of the blocking pool (`scheduler/src/blocking.rs`): a `std` mutex over the queue,
//! the stack of idle threads and the `threads` count; each idle thread waits with its keep-alive
//! on a condvar of its own, which a spawn that takes it off the stack (the top one: the thread
//! idle the shortest time) or the shutdown notifies; shutdown waits on another condvar for the
//! threads to leave.
//!
//! loom 0.7.2's `Condvar::wait_timeout` never times out. Under loom the threads' condvars are
//! the shim's (`scheduler/src/loom.rs`), whose `expire` ends every wait in progress as timed out:
//! the models call `BlockingPool::expire_keep_alive`, which expires every thread's condvar (woken
//! and not yet awake too), from a thread of their own, so loom places "the keep-alive passed"
//! anywhere among the pool's steps. The pool's threads are loom threads running the pool's own
//! loop (`Pool::work`).
#![cfg(actor12_loom)]

use actor12_loom_tests::park_on;
use actor12_scheduler::loom_api::{BlockingCounts, BlockingPool};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

/// After a shutdown that returned true: no thread, no closure, no handle left.
fn assert_all_gone(pool: &BlockingPool) {
    let BlockingCounts { threads, idle, woken, queued, handles } = pool.counts();
    let left = (threads, idle, woken, queued, handles);
    assert_eq!(left, (0, 0, 0, 0, 0), "left behind after shutdown");
}

/// A thread has run one closure and is idle (or about to be) when a second closure is spawned
/// just as its keep-alive passes: the closure runs, on that thread (woken, or finding it queued
/// when its wait timed out) or on a new one (the first left before the spawn looked).
///
/// Planted: the thread leaves when its wait timed out without looking at the queue nor at whether
/// a spawn woke it (`timed_out && !st.shutdown`): the spawn took the idle thread off the stack
/// and started none, the closure waited with no thread, and loom reported the spawner's wait as
/// a deadlock.
#[test]
fn a_spawn_racing_the_keep_alive_expiry_runs() {
    loom::model(|| {
        let pool = BlockingPool::new(1);
        assert_eq!(park_on(pool.spawn(|| 1)).unwrap(), 1);
        let clock = {
            let pool = pool.clone();
            thread::spawn(move || pool.expire_keep_alive())
        };
        assert_eq!(park_on(pool.spawn(|| 2)).unwrap(), 2, "the closure did not run");
        clock.join().unwrap();
        assert!(pool.shutdown());
        assert_all_gone(&pool);
    });
}

/// Shutdown racing a spawn, with no thread yet (`warm` false) or an idle one (true): the
/// closure runs or is cancelled, its join handle completes either way, and the shutdown's wait
/// sees every thread leave (none waits on for work that shutdown will never send).
///
/// Planted: (a) a thread that finds the queue empty waits without looking at `shutdown` first:
/// a thread woken by the spawn, or started by it, waited after shutdown's `notify_all`, and the
/// shutdown waited for it (loom: deadlock); (b) `spawn` does not look at `shutdown`: a closure
/// spawned after the shutdown's drain started a thread the shutdown never joined
/// (`left behind after shutdown`, one handle).
#[test]
fn shutdown_racing_a_spawn_runs_or_cancels_the_closure() {
    for warm in [false, true] {
        loom::model(move || {
            let pool = BlockingPool::new(1);
            if warm {
                park_on(pool.spawn(|| ())).unwrap();
            }
            let ran = Arc::new(AtomicUsize::new(0));
            let spawner = {
                let (pool, ran) = (pool.clone(), ran.clone());
                thread::spawn(move || {
                    let join = pool.spawn(move || {
                        ran.fetch_add(1, SeqCst);
                    });
                    park_on(join)
                })
            };
            assert!(pool.shutdown(), "a thread did not leave");
            let out = spawner.join().unwrap();
            match out {
                Ok(()) => assert_eq!(ran.load(SeqCst), 1),
                Err(e) => {
                    assert!(e.is_cancelled(), "{e:?}");
                    assert_eq!(ran.load(SeqCst), 0, "ran and reported cancelled");
                }
            }
            assert_all_gone(&pool);
        });
    }
}

/// Two closures spawned while one thread is idle (or still finishing the closure before):
/// each spawn takes an idle thread off the stack, where no other spawn can count on it (no
/// thread is both on the stack and woken: `idle + woken` never exceeds `threads`), or starts a
/// thread (the cap allows two), so that a closure never waits behind another for a thread that
/// was already promised. Then shutdown runs or cancels each.
///
/// Planted (since 2026-12-07, when the idle threads became a stack): `spawn` wakes the top idle
/// thread without taking it off the stack (`st.idle.last().cloned()` for `st.idle.pop()`), so
/// that both closures counted on the one idle thread and the second spawn started none. Before
/// the stack, the same bug was a spawn counting on idle threads without the `notified` count
/// of those already claimed (`st.idle > 0`). A version of this model whose first closure waited
/// for the second, so that the plant deadlocked, took 344 s at two preemptions (this one: 0.4 s).
#[test]
fn a_spawn_does_not_count_on_an_idle_thread_already_claimed() {
    loom::model(|| {
        let pool = BlockingPool::new(2);
        park_on(pool.spawn(|| ())).unwrap();
        let first = pool.spawn(|| 1);
        let second = pool.spawn(|| 2);
        let BlockingCounts { threads, idle, woken, .. } = pool.counts();
        assert!(
            idle + woken <= threads,
            "a spawn counted on a thread already claimed: {idle} idle and {woken} woken of \
             {threads} threads"
        );
        assert!(pool.shutdown());
        for (join, n) in [(first, 1), (second, 2)] {
            match park_on(join) {
                Ok(out) => assert_eq!(out, n),
                Err(e) => assert!(e.is_cancelled(), "{e:?}"),
            }
        }
        assert_all_gone(&pool);
    });
}
