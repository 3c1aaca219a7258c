//! The blocking pool.

use std::sync::{Arc, Barrier};
use std::time::Duration;

use actor12_scheduler::{Handle, JoinHandle, Runtime, spawn_blocking};

mod support;

#[test]
fn blocking_closures_return_and_panic_like_tasks() {
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    rt.block_on(async {
        assert_eq!(spawn_blocking(|| 40 + 2).await.unwrap(), 42);
        assert!(spawn_blocking(|| panic!("blocking panic")).await.unwrap_err().is_panic());
        // Inside the pool, the runtime is current.
        let h = spawn_blocking(|| Handle::current().spawn(async { 5 })).await.unwrap();
        assert_eq!(h.await.unwrap(), 5);
    });
}

#[test]
fn the_thread_start_hook_runs_on_blocking_threads_too() {
    thread_local! {
        static STARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }
    let rt = Runtime::builder()
        .worker_threads(1)
        .max_blocking_threads(2)
        .on_thread_start(|| STARTED.set(true))
        .build()
        .unwrap();
    rt.block_on(async {
        assert!(actor12_scheduler::spawn(async { STARTED.get() }).await.unwrap());
        assert!(spawn_blocking(|| STARTED.get()).await.unwrap());
    });
    // The hook ran on those threads only.
    assert!(!STARTED.get());
}

#[test]
#[should_panic(expected = "at least one blocking thread")]
fn a_pool_of_no_threads_is_refused() {
    Runtime::builder().max_blocking_threads(0);
}

#[test]
fn blocking_closures_run_beside_each_other_and_the_workers() {
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    let n = 8;
    let barrier = Arc::new(Barrier::new(n));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let b = barrier.clone();
            rt.handle().spawn_blocking(move || b.wait().is_leader())
        })
        .collect();
    // The worker still runs tasks while all pool threads block.
    assert_eq!(rt.block_on(rt.spawn(async { 1 })).unwrap(), 1);
    let leaders = handles.into_iter().map(|h| rt.block_on(h).unwrap()).filter(|&l| l).count();
    assert_eq!(leaders, 1);
}

/// Keeps `rt`'s only pool thread (`max_blocking_threads(1)`) busy until the sender is dropped;
/// returns once the closure runs, so that the next closure waits in the queue.
fn occupy_the_pool(rt: &Runtime) -> (std::sync::mpsc::Sender<()>, JoinHandle<i32>) {
    let (release, blocked) = std::sync::mpsc::channel::<()>();
    let (started_tx, started) = std::sync::mpsc::channel();
    let running = rt.handle().spawn_blocking(move || {
        started_tx.send(()).unwrap();
        let _ = blocked.recv();
        1
    });
    started.recv().unwrap();
    (release, running)
}

#[test]
fn shutdown_cancels_queued_blocking_closures() {
    let rt = Runtime::builder().worker_threads(1).max_blocking_threads(1).build().unwrap();
    let (tx, running) = occupy_the_pool(&rt);
    // The only pool thread is busy: this one waits in the queue.
    let queued = rt.handle().spawn_blocking(|| 2);
    // The running closure is still blocked: shutdown cancels the queued one and leaves the
    // running one behind when its timeout passes.
    rt.shutdown_timeout(Duration::from_millis(50));
    assert!(queued.is_finished());
    drop(tx);
    let rt2 = Runtime::builder().worker_threads(1).build().unwrap();
    assert_eq!(rt2.block_on(running).unwrap(), 1);
    assert!(rt2.block_on(queued).unwrap_err().is_cancelled());
}

#[test]
fn closures_spawned_together_do_not_share_one_idle_thread() {
    let rt = Runtime::builder().worker_threads(1).build().unwrap();
    for round in 0..20 {
        // Let a pool thread finish and go idle (it usually has by the time A and B arrive).
        rt.block_on(spawn_blocking(|| ())).unwrap();
        // A waits for B. Had both been handed to one idle thread, A would hold it until its
        // wait ran out, and B would not run beside it.
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let a =
            rt.handle().spawn_blocking(move || rx.recv_timeout(Duration::from_secs(10)).is_ok());
        let b = rt.handle().spawn_blocking(move || tx.send(()).unwrap());
        assert!(rt.block_on(a).unwrap(), "round {round}: B never ran while A waited for it");
        rt.block_on(b).unwrap();
    }
}

/// Sends the name of the thread a task spawned by its destructor runs on.
struct SpawnsWhenDropped(std::sync::mpsc::Sender<String>);

impl Drop for SpawnsWhenDropped {
    fn drop(&mut self) {
        let _ = Handle::current(); // panics outside a runtime
        let tx = self.0.clone();
        drop(actor12_scheduler::spawn(async move {
            let _ = tx.send(std::thread::current().name().unwrap_or("unnamed").to_string());
        }));
    }
}

#[test]
fn an_abort_of_a_queued_closure_drops_it_inside_its_runtime() {
    // It was dropped on the aborting thread with no runtime entered: `Handle::current` panicked
    // in its destructor (the abort gave a panic, not a cancel), and a task spawned there
    // started the process-wide default runtime.
    let rt = Runtime::builder()
        .worker_threads(1)
        .max_blocking_threads(1)
        .thread_name("rt-own")
        .build()
        .unwrap();
    let (release, running) = occupy_the_pool(&rt);
    // The only pool thread is busy: this closure waits in the queue.
    let (tx, ran_on) = std::sync::mpsc::channel();
    let guard = SpawnsWhenDropped(tx);
    let queued = rt.handle().spawn_blocking(move || drop(guard));
    queued.abort();
    let err = rt.block_on(queued).unwrap_err();
    assert!(err.is_cancelled(), "{err:?}");
    let thread = ran_on.recv_timeout(Duration::from_secs(120)).unwrap();
    assert!(thread.starts_with("rt-own"), "the destructor's task ran on {thread}");
    drop(release);
    assert_eq!(rt.block_on(running).unwrap(), 1);
}

/// A runtime shut down in its own blocking thread's start hook does not wait for that thread,
/// as anywhere else on the thread: the hook ran before the thread was marked the pool's, and the
/// shutdown waited its whole timeout for it (a review of 2026-12-07; an hour here).
#[test]
fn a_runtime_shut_down_in_its_blocking_threads_start_hook_does_not_wait_for_it() {
    static RUNTIME: std::sync::Mutex<Option<Runtime>> = std::sync::Mutex::new(None);
    static DONE: std::sync::Mutex<Option<std::sync::mpsc::Sender<()>>> =
        std::sync::Mutex::new(None);
    let (done_tx, done) = std::sync::mpsc::channel();
    *DONE.lock().unwrap() = Some(done_tx);
    let rt = Runtime::builder()
        .worker_threads(1)
        .on_thread_start(|| {
            if actor12_scheduler::on_worker_thread() {
                return;
            }
            let rt = RUNTIME.lock().unwrap().take();
            if let Some(rt) = rt {
                rt.shutdown_timeout(Duration::from_secs(3600));
                let _ = DONE.lock().unwrap().take().unwrap().send(());
            }
        })
        .build()
        .unwrap();
    let handle = rt.handle();
    *RUNTIME.lock().unwrap() = Some(rt);
    let closure = handle.spawn_blocking(|| 1); // starts the pool's first thread
    assert!(done.recv_timeout(support::HANG).is_ok(), "the shutdown waited for its own thread");
    drop(closure);
}

/// Threads of this process whose name starts with `prefix`, as `/proc` lists them (a thread's
/// name there is cut to 15 bytes).
#[cfg(target_os = "linux")]
fn threads_named(prefix: &str) -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with(prefix))
        .count()
}

/// After a burst that started 32 threads, a trickle of closures, one at a time, lets the
/// threads it does not need leave after their keep-alive. The pool woke its longest idle thread
/// (`Condvar::notify_one`), so the trickle ran on each thread in turn and restarted each one's
/// keep-alive: all 32 stayed for as long as the trickle lasted, where one would do (a review
/// of 2026-12-07; with the default 512 threads and 10 s keep-alive, a burst of file I/O then
/// ~50 closures a second kept 512 threads). Here the keep-alive is 200 ms and a closure comes
/// every 2 ms, so that in turn each thread got one every 64 ms.
#[test]
#[cfg(target_os = "linux")]
fn a_trickle_after_a_burst_lets_the_bursts_surplus_threads_leave() {
    // 14 bytes, so that `/proc` keeps the whole prefix of "lifo-blocking-31".
    const PREFIX: &str = "lifo-blocking-";
    const BURST: usize = 32;
    let rt = Runtime::builder()
        .worker_threads(1)
        .thread_name("lifo")
        .thread_keep_alive(Duration::from_millis(200))
        .build()
        .unwrap();
    // The burst: 32 closures that each wait for all the others, so 32 threads.
    let barrier = Arc::new(Barrier::new(BURST + 1));
    let joins: Vec<_> = (0..BURST)
        .map(|_| {
            let b = barrier.clone();
            rt.handle().spawn_blocking(move || {
                b.wait();
            })
        })
        .collect();
    barrier.wait();
    assert_eq!(threads_named(PREFIX), BURST);
    for join in joins {
        rt.block_on(join).unwrap();
    }
    // The trickle: for at least five keep-alives, then until the surplus has left, up to 5 s
    // (the code before the fix kept all 32 for good).
    let start = std::time::Instant::now();
    let mut left = threads_named(PREFIX);
    while start.elapsed() < Duration::from_secs(1)
        || (left > 4 && start.elapsed() < Duration::from_secs(5))
    {
        rt.block_on(rt.handle().spawn_blocking(|| ())).unwrap();
        std::thread::sleep(Duration::from_millis(2)); // the load's pace
        left = threads_named(PREFIX);
    }
    assert!(left <= 4, "{left} of the burst's {BURST} threads stayed for a trickle");
}
