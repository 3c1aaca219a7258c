//! loom models of the blocking pool (`scheduler/src/blocking.rs`): a `std` mutex over the queue
//! and the `idle` / `notified` / `threads` counts, a condvar the idle threads wait on with their
//! keep-alive, another that shutdown waits on for the threads to leave.
//!
//! loom 0.7.2's `Condvar::wait_timeout` never times out. Under loom the pool's condvar is the
//! shim's (`scheduler/src/loom.rs`), whose `expire` ends every wait in progress as timed out:
//! the models call it (`BlockingPool::expire_keep_alive`) from a thread of their own, so loom
//! places "the keep-alive passed" anywhere among the pool's steps. The pool's threads are loom
//! threads running the pool's own loop (`Pool::work`).
#![cfg(actor12_loom)]

use actor12_loom_tests::park_on;
use actor12_scheduler::loom_api::{BlockingCounts, BlockingPool};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

/// After a shutdown that returned true: no thread, no closure, no handle left.
fn assert_all_gone(pool: &BlockingPool) {
    let BlockingCounts { threads, idle, notified, queued, handles } = pool.counts();
    assert_eq!((threads, idle, queued, handles), (0, 0, 0, 0), "left behind after shutdown");
    assert!(notified <= idle, "notified {notified} of {idle} idle threads");
}

/// A thread has run one closure and is idle (or about to be) when a second closure is spawned
/// just as its keep-alive passes: the closure runs, on that thread (woken, or finding it queued
/// when its wait timed out) or on a new one (the first left before the spawn looked).
///
/// Planted: the thread leaves when its wait timed out without looking at the queue (`res.timed_out()
/// && !st.shutdown`): the spawn counted on the idle thread (`notified`) and started none, the
/// closure waited with no thread, and loom reported the spawner's wait as a deadlock.
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
/// each spawn counts on an idle thread no other spawn has claimed (`notified` never exceeds
/// `idle`), or starts a thread (the cap allows two), so that a closure never waits behind
/// another for a thread that was already promised. Then shutdown runs or cancels each.
///
/// Planted: `spawn` counts on idle threads without `notified` (`st.idle > 0`): both closures
/// counted on the one idle thread, which would have run them one after the other, the second
/// spawn starting no thread (`a spawn counted on a thread already claimed: 2 notified of 1
/// idle`).
#[test]
fn a_spawn_does_not_count_on_an_idle_thread_already_claimed() {
    loom::model(|| {
        let pool = BlockingPool::new(2);
        park_on(pool.spawn(|| ())).unwrap();
        let first = pool.spawn(|| 1);
        let second = pool.spawn(|| 2);
        let BlockingCounts { notified, idle, .. } = pool.counts();
        assert!(
            notified <= idle,
            "a spawn counted on a thread already claimed: {notified} notified of {idle} idle"
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
