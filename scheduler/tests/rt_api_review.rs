//! The runtime's public API as a user calls it, at its edges: odd `Builder` input, the panics a
//! misuse gets (and their messages), `abort` before a task ever ran, blocking closures across a
//! shutdown, and the timers' corner cases (`timeout` of zero, `sleep_until` in the past,
//! `interval` ticks that come late). From a review of that API on 2026-12-05.
//!
//! A test that could hang without its fix runs under [`within`]: a guard, not a timing claim.

mod support;

use std::sync::mpsc;
use std::time::{Duration, Instant};

use actor12_scheduler::{Handle, Runtime, current_worker, spawn, spawn_blocking, time};
use support::{rt, within};

/// The panic message of `f`, which must panic.
fn panic_message(f: impl FnOnce()) -> String {
    let payload =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).expect_err("it did not panic");
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else {
        payload.downcast_ref::<String>().cloned().unwrap_or_default()
    }
}

#[test]
fn handle_current_outside_any_runtime_says_so() {
    let msg = panic_message(|| drop(Handle::current()));
    assert!(msg.contains("outside an actor12 runtime"), "{msg}");
    assert!(Handle::try_current().is_none());
}

#[test]
fn a_worker_index_out_of_range_is_refused_with_the_count() {
    let rt = rt(2);
    let msg = panic_message(|| drop(rt.handle().spawn_pinned(2, async {})));
    assert_eq!(msg, "spawn_pinned: worker 2 does not exist (the runtime has 2)");
    // The free function, inside one of the runtime's tasks: the task panics with it.
    let err = rt.block_on(rt.spawn(async { drop(actor12_scheduler::spawn_pinned(9, async {})) }));
    let err = err.unwrap_err();
    assert!(err.is_panic());
    assert!(err.to_string().contains("worker 9 does not exist"), "{err}");
}

#[test]
fn zero_workers_is_refused() {
    let msg = panic_message(|| {
        Runtime::builder().worker_threads(0);
    });
    assert!(msg.contains("at least one worker thread"), "{msg}");
}

#[test]
fn a_runtime_with_the_defaults_has_one_worker_per_core() {
    let rt = Runtime::new().unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert_eq!(rt.num_workers(), cores);
    assert_eq!(rt.handle().num_workers(), cores);
    assert_eq!(rt.worker_cores(), vec![None; cores]);
}

#[test]
fn threads_are_named_after_the_builders_name() {
    let rt = Runtime::builder().worker_threads(2).thread_name("probe").build().unwrap();
    let name = |w| {
        rt.block_on(
            rt.handle().spawn_pinned(w, async { std::thread::current().name().map(String::from) }),
        )
        .unwrap()
    };
    assert_eq!(name(0).as_deref(), Some("probe-0"));
    assert_eq!(name(1).as_deref(), Some("probe-1"));
    let blocking =
        rt.block_on(rt.handle().spawn_blocking(|| std::thread::current().name().map(String::from)));
    assert!(blocking.unwrap().unwrap().starts_with("probe-blocking-"));
}

/// What the OS's tools show (Linux keeps 15 bytes of a thread's name): with the default name
/// the workers, and the workers and the blocking threads, are told apart. The default was
/// `actor12-worker`, and every one of them showed as `actor12-worker-` (review of 2026-12-06).
#[cfg(target_os = "linux")]
#[test]
fn the_os_tells_the_default_named_threads_apart() {
    fn os_name() -> String {
        let comm = std::fs::read_to_string("/proc/thread-self/comm").unwrap();
        comm.trim_end().to_owned()
    }
    let rt = rt(2);
    let on = |w| rt.block_on(rt.handle().spawn_pinned(w, async { os_name() })).unwrap();
    let blocking = rt.block_on(rt.handle().spawn_blocking(os_name)).unwrap();
    assert_eq!([on(0), on(1), blocking], ["actor12-0", "actor12-1", "actor12-blockin"]);
}

/// A task aborted before it was ever polled: its future is dropped unpolled, and its handle
/// reports cancelled at once.
#[test]
fn abort_before_the_first_poll_drops_the_future_unpolled() {
    let rt = rt(1);
    // Hold the one worker, so that the task below stays queued.
    let (release, held) = mpsc::channel::<()>();
    let (busy_tx, busy) = mpsc::channel();
    let blocker = rt.spawn(async move {
        busy_tx.send(()).unwrap();
        held.recv().unwrap();
    });
    busy.recv().unwrap();
    let (polled_tx, polled) = mpsc::channel::<()>();
    let task = rt.spawn(async move {
        polled_tx.send(()).unwrap();
    });
    task.abort();
    release.send(()).unwrap();
    rt.block_on(blocker).unwrap();
    assert!(rt.block_on(task).unwrap_err().is_cancelled());
    assert!(polled.recv().is_err(), "the aborted task was polled");
}

/// Abort on an idle task cancels it on the caller's thread: `is_finished` is true as soon as
/// `abort` returns, as the docs promise ("now if it waits for a wake-up").
#[test]
fn abort_of_an_idle_task_finishes_it_before_returning() {
    let rt = rt(1);
    let (tx, rx) = mpsc::channel();
    let task = rt.spawn(async move {
        tx.send(()).unwrap();
        std::future::pending::<()>().await
    });
    rx.recv().unwrap();
    // Polled once; wait until its poll has returned. Being in the task list does not say so:
    // the task joins it before it leaves RUNNING, and an abort landing in between leaves the
    // cancel to the worker, after `abort` has returned. A second task on the runtime's one
    // worker finishes only after the first poll has.
    rt.block_on(rt.spawn(async {})).unwrap();
    assert_eq!(rt.live_tasks(), 1);
    assert!(!task.is_finished());
    task.abort();
    assert!(task.is_finished());
    task.abort();
    assert!(rt.block_on(task).unwrap_err().is_cancelled());
}

#[test]
fn current_worker_is_none_off_the_workers() {
    let rt = rt(2);
    assert_eq!(rt.block_on(async { current_worker() }), None);
    assert_eq!(rt.block_on(spawn_blocking(current_worker)).unwrap(), None);
    let on = rt.block_on(spawn(async { current_worker() })).unwrap();
    assert!(matches!(on, Some(0 | 1)), "{on:?}");
}

/// More blocking closures than the pool has threads: they queue and all run.
#[test]
fn more_blocking_closures_than_threads_all_run() {
    let rt = Runtime::builder().worker_threads(1).max_blocking_threads(2).build().unwrap();
    let handles: Vec<_> = (0..50u32).map(|i| rt.handle().spawn_blocking(move || i * 2)).collect();
    let sum: u32 = handles.into_iter().map(|h| rt.block_on(h).unwrap()).sum();
    assert_eq!(sum, 2 * (0..50).sum::<u32>());
}

/// `shutdown_timeout` leaves a blocking closure that is still running behind at its deadline;
/// the closure's output still reaches its join handle when it returns.
#[test]
fn a_blocking_closure_outliving_its_runtime_still_delivers_its_output() {
    let rt = rt(1);
    let (release, held) = mpsc::channel::<u32>();
    let (started_tx, started) = mpsc::channel();
    let h = rt.handle().spawn_blocking(move || {
        started_tx.send(()).unwrap();
        held.recv().unwrap() + 1
    });
    started.recv().unwrap();
    within("shutdown_timeout with a blocking closure running", move || {
        rt.shutdown_timeout(Duration::from_millis(10))
    });
    assert!(!h.is_finished());
    release.send(41).unwrap();
    let other = rt_other();
    assert_eq!(other.block_on(h).unwrap(), 42);
}

fn rt_other() -> Runtime {
    rt(1)
}

#[test]
fn timeout_of_zero() {
    let rt = rt(1);
    // A ready future wins even against a deadline already past, on a worker and off it.
    assert_eq!(rt.block_on(time::timeout(Duration::ZERO, async { 3 })), Ok(3));
    let on_worker = rt.block_on(spawn(time::timeout(Duration::ZERO, async { 4 })));
    assert_eq!(on_worker.unwrap(), Ok(4));
    // A pending one times out at once.
    let e = rt.block_on(time::timeout(Duration::ZERO, std::future::pending::<()>()));
    assert!(e.is_err());
    let e = within("timeout of zero on a worker", move || {
        rt.block_on(spawn(time::timeout(Duration::ZERO, std::future::pending::<()>())))
    });
    let e = e.unwrap().unwrap_err();
    assert_eq!(e.to_string(), "deadline has elapsed");
    let _: &dyn std::error::Error = &e;
}

#[test]
fn sleep_until_a_past_instant_is_ready_at_once() {
    let rt = rt(1);
    let past = Instant::now().checked_sub(Duration::from_secs(3600)).unwrap_or_else(Instant::now);
    let poll_once = |s: &mut time::Sleep| {
        let waker = std::task::Waker::noop();
        std::pin::Pin::new(s).poll(&mut std::task::Context::from_waker(waker))
    };
    use std::future::Future;
    let mut s = time::sleep_until(past);
    assert!(poll_once(&mut s).is_ready());
    let on_worker =
        rt.block_on(spawn(async move { poll_once(&mut time::sleep_until(past)).is_ready() }));
    assert!(on_worker.unwrap());
    assert_eq!(time::sleep_until(past).deadline(), past);
}

/// The first tick is at once; a tick that comes late comes at once, and the next one is not a
/// burst: missed ticks are skipped (`Interval`'s docs).
#[test]
fn interval_skips_missed_ticks() {
    let rt = rt(1);
    let period = Duration::from_millis(20);
    rt.block_on(spawn(async move {
        // The second tick is due one period after the first only if the first was taken within
        // that period. On a thread stalled longer (a busy machine) the first tick is itself
        // late and the next one is a period after it was taken: again, with a new interval
        // (not for ever: a first tick late every time is a failure).
        let mut tries = 0;
        let (mut ticker, first) = loop {
            tries += 1;
            let start = Instant::now();
            let mut ticker = time::interval(period);
            let first = ticker.tick().await;
            let taken = Instant::now();
            assert!(first <= taken && first >= start);
            if taken < first + period {
                break (ticker, first);
            }
            assert!(
                tries < 50,
                "the first tick came a period late 50 times (last {:?})",
                taken - first
            );
        };
        // Busy for three and a half periods: the ticks at 1, 2 and 3 periods are missed.
        std::thread::sleep(period * 7 / 2);
        let late_at = Instant::now();
        let late = ticker.tick().await;
        assert_eq!(late, first + period, "a late tick reports its scheduled instant");
        let next = ticker.tick().await;
        // Not a burst: one period after the late tick was taken.
        assert!(next >= late_at + period, "missed ticks were burst");
        assert!(Instant::now() >= next);
    }))
    .unwrap();
}

/// More workers than the scheduler can count (its idle state packs the number of searching
/// workers in 16 bits) are refused by `worker_threads`, with the limit in the message. `build`
/// used to allocate every worker's queues (half a gigabyte for 65,536) and then panic with
/// `assertion failed: num_workers < SEARCH_MASK`; `usize::MAX` overflowed a capacity.
#[test]
fn too_many_workers_are_refused_with_the_limit() {
    for n in [1 << 16, usize::MAX] {
        let msg = panic_message(|| drop(Runtime::builder().worker_threads(n).build()));
        assert!(msg.contains("at most 65534 worker threads"), "{msg}");
    }
}

/// A thread name with a NUL byte cannot name a thread: `build` returns an `InvalidInput` error.
/// It used to panic inside `std::thread::Builder::spawn` ("thread name may not contain interior
/// null bytes"), out of a `build` that returns `io::Result`, leaking the runtime's state.
#[test]
fn a_thread_name_with_a_nul_byte_is_an_error() {
    let err = Runtime::builder().worker_threads(1).thread_name("bad\0name").build().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

/// Tells, when dropped, how many workers the current runtime has, and spawns a task that waits
/// for ever (the spawn must be cancelled, as the runtime shuts down) holding `spawned`.
struct SpawnsWhenDropped {
    workers_here: mpsc::Sender<Option<usize>>,
    spawned: mpsc::Sender<()>,
}

impl Drop for SpawnsWhenDropped {
    fn drop(&mut self) {
        let _ = self.workers_here.send(Handle::try_current().map(|h| h.num_workers()));
        let spawned = self.spawned.clone();
        drop(spawn(async move {
            let _spawned = spawned;
            std::future::pending::<()>().await
        }));
    }
}

/// A runtime dropped in a task of *another* runtime cancels its tasks inside itself, as it does
/// from a plain thread: their destructors see it as the current runtime, and a task they spawn
/// is cancelled at once. On the other runtime's worker, they saw that runtime instead, and a
/// task they spawned started there and lived on (here: waited for ever, never dropped).
#[test]
fn a_runtime_dropped_on_another_runtimes_worker_keeps_its_destructors_spawns() {
    let outer = rt(1);
    let inner = rt(2);
    let (polled_tx, polled) = mpsc::channel();
    let (workers_tx, workers_here) = mpsc::channel();
    let (spawned_tx, spawned) = mpsc::channel::<()>();
    let guard = SpawnsWhenDropped { workers_here: workers_tx, spawned: spawned_tx };
    let _join = inner.spawn(async move {
        let _guard = guard;
        polled_tx.send(()).unwrap();
        std::future::pending::<()>().await;
    });
    // Polled once: it is now in the task list, which the shutdown cancels.
    polled.recv().unwrap();
    outer.block_on(outer.spawn(async move { drop(inner) })).unwrap();
    assert_eq!(workers_here.recv().unwrap(), Some(2), "the destructor ran in another runtime");
    // The spawn was cancelled at once, on the dropping thread: every sender is gone.
    assert_eq!(
        spawned.try_recv(),
        Err(mpsc::TryRecvError::Disconnected),
        "the destructor's task was not cancelled"
    );
}

/// `abort` on blocking closures: one still queued (the pool's one thread is busy) never runs
/// and reports cancelled; one already running runs to its end and gives its output (the abort
/// came too late to stop it, as for a task whose current poll returns `Ready`).
#[test]
fn abort_of_blocking_closures_queued_and_running() {
    let rt = Runtime::builder().worker_threads(1).max_blocking_threads(1).build().unwrap();
    let (release, held) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel();
    let running = rt.handle().spawn_blocking(move || {
        started_tx.send(()).unwrap();
        held.recv().unwrap();
        7
    });
    started.recv().unwrap();
    let (ran_tx, ran) = mpsc::channel::<()>();
    let queued = rt.handle().spawn_blocking(move || ran_tx.send(()).unwrap());
    queued.abort();
    running.abort();
    release.send(()).unwrap();
    assert_eq!(rt.block_on(running).unwrap(), 7);
    assert!(rt.block_on(queued).unwrap_err().is_cancelled());
    assert!(ran.recv().is_err(), "the aborted closure ran");
}

/// A start hook that waits on its runtime (`block_on` of a task, for per-thread setup) ran
/// before its worker counted as one: every worker waited in its hook for a task that only a
/// worker could run, `build` returned `Ok`, and the runtime never ran anything (review of
/// 2026-12-06). On a worker's thread the hook now counts as on a worker, so the `block_on`
/// panics, the panic is caught, and the worker starts; on a blocking thread it may block.
#[test]
fn a_start_hook_that_waits_on_its_runtime_does_not_hold_the_workers_up() {
    let (seen_tx, seen) = mpsc::channel::<(bool, bool)>();
    let seen_tx = std::sync::Mutex::new(seen_tx);
    let answer = within("a runtime whose start hook calls `block_on`", move || {
        let rt = Runtime::builder()
            .worker_threads(2)
            .on_thread_start(move || {
                let on_worker = actor12_scheduler::on_worker_thread();
                let _ = seen_tx.lock().unwrap().send((on_worker, false));
                let handle = Handle::current();
                let waited = handle.block_on(handle.spawn(async { 1 }));
                let _ = seen_tx.lock().unwrap().send((on_worker, waited.ok() == Some(1)));
            })
            .build()
            .unwrap();
        let answer = rt.block_on(rt.spawn(async { 2 })).unwrap();
        rt.block_on(async { spawn_blocking(|| ()).await }).unwrap();
        answer
    });
    assert_eq!(answer, 2);
    let mut seen: Vec<_> = seen.try_iter().collect();
    seen.sort_unstable();
    // Two workers' hooks stopped at their `block_on`; the blocking thread's went through.
    assert_eq!(seen, [(false, false), (false, true), (true, false), (true, false)]);
}

#[test]
fn the_thread_start_hook_runs_inside_its_runtime() {
    // Each start records the worker count of the runtime `Handle::current` names (0: none).
    let (seen_tx, seen) = mpsc::channel::<usize>();
    let seen_tx = std::sync::Mutex::new(seen_tx);
    let rt = Runtime::builder()
        .worker_threads(3)
        .on_thread_start(move || {
            let workers = Handle::try_current().map_or(0, |h| h.num_workers());
            let _ = seen_tx.lock().unwrap().send(workers);
        })
        .build()
        .unwrap();
    // The workers have all started once each has run a task; one blocking thread starts too.
    for w in 0..3 {
        rt.block_on(rt.handle().spawn_pinned(w, async {})).unwrap();
    }
    rt.block_on(async { spawn_blocking(|| ()).await }).unwrap();
    drop(rt);
    let mut starts: Vec<usize> = seen.try_iter().collect();
    starts.sort_unstable();
    assert_eq!(starts, [3, 3, 3, 3], "a hook ran outside its runtime (0) or not at all");
}

/// `Builder::thread_stack_size` reaches the workers and the blocking pool's threads: each uses
/// 4 MiB of stack, more than the default 2 MiB (without it the process would abort on a stack
/// overflow).
#[test]
fn thread_stack_size_gives_workers_and_blocking_threads_their_stack() {
    fn deep() -> usize {
        let buffer = std::hint::black_box([1u8; 4 << 20]);
        buffer.iter().map(|&b| b as usize).sum()
    }
    let rt = actor12_scheduler::Runtime::builder()
        .worker_threads(1)
        .thread_stack_size(32 << 20)
        .build()
        .unwrap();
    assert_eq!(rt.block_on(rt.spawn(async { deep() })).unwrap(), 4 << 20);
    assert_eq!(rt.block_on(rt.handle().spawn_blocking(deep)).unwrap(), 4 << 20);
}
