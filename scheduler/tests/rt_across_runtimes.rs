//! A runtime's edges against other threads and other runtimes: a sleep in `block_on` across the
//! runtime's shutdown, a runtime dropped on another runtime's worker, a sleep that outlived its
//! runtime. Each test failed before the fix it guards (a review of the scheduler on
//! 2026-12-01). A hang is detected with a bounded `recv_timeout`, never with a sleep standing in
//! for synchronisation.

use std::future::Future;
use std::pin::Pin;
use std::sync::mpsc;
use std::task::Poll;
use std::time::{Duration, Instant};

use actor12_scheduler::{Runtime, time};

mod support;
use support::rt;

/// Bound for anything that should finish promptly.
const HANG: Duration = Duration::from_secs(5);

/// Sends on drop: tells the test that a future was dropped.
struct OnDrop(Option<mpsc::Sender<()>>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        if let Some(tx) = self.0.take() {
            let _ = tx.send(());
        }
    }
}

/// A sleep armed from `Handle::block_on` (a remote timer, in a worker's inbox or wheel) before
/// the runtime shuts down still ends: the leaving worker wakes it as an orphan and it arms a
/// timer on the fallback timer thread (it hung for ever when the wheel was dropped unfired).
#[test]
fn a_sleep_armed_in_block_on_before_shutdown_still_ends() {
    // The sleep must still be pending when the drop returns. On a machine too busy to drop the
    // runtime within the margin it is not, which tests nothing: again, with a longer one.
    let mut margin = Duration::from_millis(500);
    loop {
        let rt = rt(1);
        let handle = rt.handle();
        let deadline = Instant::now() + margin;
        let (armed_tx, armed_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sleep = Box::pin(time::sleep_until(deadline));
            let mut armed = Some(armed_tx);
            handle.block_on(std::future::poll_fn(|cx| {
                let r = sleep.as_mut().poll(cx);
                if let Some(tx) = armed.take() {
                    // The first poll armed the timer through worker 0's inbox.
                    tx.send(()).unwrap();
                }
                r
            }));
            done_tx.send(()).unwrap();
        });
        armed_rx.recv_timeout(HANG).expect("the sleep was never polled");
        drop(rt);
        let conclusive = Instant::now() < deadline;
        done_rx.recv_timeout(deadline.saturating_duration_since(Instant::now()) + HANG).expect(
            "block_on(sleep) armed before shutdown never returned: its timer was dropped unfired",
        );
        if conclusive {
            break;
        }
        margin *= 2;
    }
}

/// A runtime dropped on a worker of *another* runtime shuts down fully: its pending tasks are
/// cancelled (only a drop on one of its own workers just signals shutdown; before, any worker
/// did, and the tasks and the runtime's shared state leaked).
#[test]
fn a_runtime_dropped_on_another_runtimes_worker_cancels_its_tasks() {
    let outer = rt(1);
    let inner = rt(1);
    let (polled_tx, polled_rx) = mpsc::channel();
    let (dropped_tx, dropped_rx) = mpsc::channel();
    let _join = inner.spawn(async move {
        let _guard = OnDrop(Some(dropped_tx));
        polled_tx.send(()).unwrap();
        std::future::pending::<()>().await;
    });
    // Polled once: it is now in the task list, not in a run queue.
    polled_rx.recv_timeout(HANG).unwrap();
    outer.block_on(outer.spawn(async move { drop(inner) })).unwrap();
    dropped_rx
        .recv_timeout(HANG)
        .expect("the dropped runtime's pending task was never cancelled (its future leaked)");
}

/// A `Sleep` that outlived its runtime cannot touch another runtime's timers. Its registration
/// named the runtime by the address of its shared state, which the next runtime usually reuses,
/// with the same worker and wheel key: polling the stale sleep stole the new entry's waker and
/// dropping it cancelled that entry. Runtimes now have ids that are never reused.
#[test]
fn a_sleep_from_a_dropped_runtime_does_not_cancel_another_runtimes_timer() {
    // B's sleep must still be pending when the stale sleep is polled and dropped. On a machine
    // that stalls longer than it lasts it is not, which tests nothing: again, with a longer one.
    let mut wait = Duration::from_millis(50);
    loop {
        let a = rt(1);
        // In an array: the task returns the sleep itself, not its output.
        let [stale] = a
            .block_on(a.spawn(async {
                let mut s = time::sleep(Duration::from_secs(3600));
                // One poll on worker 0: the first entry of its wheel.
                std::future::poll_fn(|cx| {
                    assert!(Pin::new(&mut s).poll(cx).is_pending());
                    Poll::Ready(())
                })
                .await;
                [s]
            }))
            .unwrap();
        drop(a);

        let b = rt(1);
        let (armed_tx, armed_rx) = mpsc::channel();
        let (fired_tx, fired_rx) = mpsc::channel();
        let _t2 = b.spawn(async move {
            let mut s = time::sleep(wait);
            let mut armed = Some(armed_tx);
            std::future::poll_fn(|cx| {
                let mut r = Pin::new(&mut s).poll(cx);
                // Due at its first poll (a stalled thread), it armed nothing: again, a new one.
                while armed.is_some() && r.is_ready() {
                    s = time::sleep(wait);
                    r = Pin::new(&mut s).poll(cx);
                }
                if let Some(tx) = armed.take() {
                    tx.send(s.deadline()).unwrap();
                }
                r
            })
            .await;
            fired_tx.send(()).unwrap();
        });
        let deadline = armed_rx.recv_timeout(HANG).unwrap();
        // Another task on the same worker polls the stale sleep once and drops it.
        let conclusive = b
            .block_on(b.spawn(async move {
                let mut stale = stale;
                std::future::poll_fn(|cx| {
                    let _ = Pin::new(&mut stale).poll(cx);
                    Poll::Ready(())
                })
                .await;
                drop(stale);
                Instant::now() < deadline
            }))
            .unwrap();
        fired_rx
            .recv_timeout(HANG)
            .expect("a sleep never fired: a stale sleep from a dropped runtime cancelled it");
        if conclusive {
            break;
        }
        wait *= 2;
    }
}

/// An `on_thread_start` hook that panics does not keep its worker from running: the panic is
/// reported and the worker starts anyway (before, the thread died, the one worker's tasks never
/// ran, and shutdown waited its whole timeout).
#[test]
fn a_panicking_thread_start_hook_still_starts_the_worker() {
    let rt = Runtime::builder()
        .worker_threads(1)
        .on_thread_start(|| panic!("on_thread_start (expected by the test)"))
        .build()
        .unwrap();
    let handle = rt.handle();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(handle.block_on(handle.spawn(async { 7 })));
    });
    let answer = rx.recv_timeout(HANG).expect("the worker never ran the task");
    assert_eq!(answer.unwrap(), 7);
}

/// Runs its closure when dropped.
struct Guard<F: FnOnce()>(Option<F>);

impl<F: FnOnce()> Drop for Guard<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

/// A runtime shut down where its own worker is hidden (a destructor that another runtime's
/// shutdown runs on that worker) hands the shutdown to a thread of its own and returns at once,
/// as it does on its own worker. It waited its whole timeout for the very thread it ran on: with
/// a plain drop 10 s, and the worker left unjoined (found by a review of several runtimes in
/// one process).
#[test]
fn a_runtime_shut_down_on_its_own_hidden_worker_returns_at_once() {
    let a = rt(1);
    let b = rt(1);
    let a_handle = a.handle();
    let (polled_tx, polled_rx) = mpsc::channel();
    // A task of B owns A: B's shutdown drops it, and A with it, on the thread that drops B.
    let _owner = b.spawn(async move {
        let _guard = Guard(Some(move || a.shutdown_timeout(Duration::from_secs(3600))));
        polled_tx.send(()).unwrap();
        std::future::pending::<()>().await;
    });
    polled_rx.recv_timeout(HANG).unwrap();
    let (done_tx, done_rx) = mpsc::channel();
    // A's worker drops B.
    let _dropper = a_handle.spawn(async move {
        drop(b);
        done_tx.send(()).unwrap();
    });
    done_rx.recv_timeout(HANG).expect("A's shutdown waited for its own worker");
}

/// What a destructor of one runtime's task sees when another runtime's task on its worker drops
/// that runtime (`abort`: aborts the task instead): `on_worker_thread()`, `current_worker()`,
/// and whether `block_on` panicked.
fn seen_by_a_destructor_on_another_runtimes_worker(abort: bool) -> (bool, Option<usize>, bool) {
    let outer = rt(1);
    let inner = rt(1);
    let inner_handle = inner.handle();
    let (polled_tx, polled_rx) = mpsc::channel();
    let (seen_tx, seen_rx) = mpsc::channel();
    let task = inner.spawn(async move {
        let _guard = Guard(Some(move || {
            let block_on = std::panic::AssertUnwindSafe(|| inner_handle.block_on(async {}));
            let panicked = std::panic::catch_unwind(block_on).is_err();
            let seen = (actor12_scheduler::on_worker_thread(), actor12_scheduler::current_worker());
            seen_tx.send((seen.0, seen.1, panicked)).unwrap();
        }));
        polled_tx.send(()).unwrap();
        std::future::pending::<()>().await;
    });
    polled_rx.recv_timeout(HANG).unwrap();
    // The message above is sent from inside the first poll: an abort or a shutdown landing
    // before that poll returns leaves the drop to the inner worker (correctly, as tokio does). A
    // second task on the inner runtime's one worker finishes only after the first poll has
    // returned: then the task waits in the task list, and is dropped by the drop or the abort
    // itself.
    inner.block_on(inner.spawn(async {})).unwrap();
    outer
        .block_on(outer.spawn(async move {
            if abort {
                task.abort();
            } else {
                drop(inner);
            }
        }))
        .unwrap();
    seen_rx.recv_timeout(HANG).expect("the destructor did not run")
}

/// Code that another runtime's shutdown or abort runs on a worker is inside that runtime
/// (`current_worker()` is `None`), but blocking there blocks the worker all the same:
/// `on_worker_thread()` says so, and `block_on` panics there. It ran, and hung for good where
/// the future needed that worker (found by the review above).
#[test]
fn a_destructor_run_on_another_runtimes_worker_is_on_a_worker_thread() {
    for abort in [false, true] {
        let seen = seen_by_a_destructor_on_another_runtimes_worker(abort);
        assert_eq!(seen, (true, None, true), "abort: {abort}");
    }
}
