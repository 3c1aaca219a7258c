//! Stress tests with real threads. Sizes divide by `ACTOR12_STRESS_DIV` (default 1), so CI can
//! run the same binary under valgrind at small sizes:
//!
//! ```text
//! cargo test -p actor12-scheduler --test rt_stress --no-run
//! ACTOR12_STRESS_DIV=200 valgrind --error-exitcode=1 target/debug/deps/rt_stress-*
//! ```

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Poll, Waker};
use std::time::Duration;

use actor12_scheduler::{spawn, yield_now};

mod support;
use support::{DropCount, rt, size};

#[test]
fn tasks_spawned_from_many_threads_each_run_once() {
    let total = size(1_000_000);
    let threads = 4;
    let rt = rt(2);
    let seen: Arc<Vec<AtomicU8>> = Arc::new((0..total).map(|_| AtomicU8::new(0)).collect());
    let done = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    let tx = Arc::new(Mutex::new(tx));
    let spawners: Vec<_> = (0..threads)
        .map(|t| {
            let (h, seen, done, tx) = (rt.handle(), seen.clone(), done.clone(), tx.clone());
            std::thread::spawn(move || {
                let mut id = t;
                while id < total {
                    let (seen, done, tx) = (seen.clone(), done.clone(), tx.clone());
                    let task = async move {
                        seen[id].fetch_add(1, SeqCst);
                        if done.fetch_add(1, SeqCst) + 1 == total {
                            tx.lock().unwrap().send(()).unwrap();
                        }
                    };
                    if id % 2 == 0 {
                        // From outside: through the global queue.
                        drop(h.spawn(task));
                    } else {
                        // From inside a task on a worker: through that worker's queues.
                        drop(h.spawn(async move { drop(spawn(task)) }));
                    }
                    id += threads;
                }
            })
        })
        .collect();
    for s in spawners {
        s.join().unwrap();
    }
    rx.recv().unwrap();
    assert!(seen.iter().all(|s| s.load(SeqCst) == 1));
}

/// A one-slot signal between tasks, over `std::task::Waker`.
#[derive(Default)]
struct Signal {
    set: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl Signal {
    fn notify(&self) {
        self.set.store(true, SeqCst);
        let w = self.waker.lock().unwrap().take();
        if let Some(w) = w {
            w.wake();
        }
    }

    fn wait(&self) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            if self.set.swap(false, SeqCst) {
                return Poll::Ready(());
            }
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            if self.set.swap(false, SeqCst) { Poll::Ready(()) } else { Poll::Pending }
        })
    }
}

#[test]
fn tasks_waking_each_other_across_workers() {
    let rt = rt(2);
    let rings = 4;
    let ring_len = 8;
    let laps = size(2_000);
    let hops = Arc::new(AtomicUsize::new(0));
    let mut joins = Vec::new();
    for r in 0..rings {
        let signals: Arc<Vec<Signal>> =
            Arc::new((0..ring_len).map(|_| Signal::default()).collect());
        for i in 0..ring_len {
            let (signals, hops) = (signals.clone(), hops.clone());
            // Pin half the members of odd rings so that wakes must cross workers.
            let fut = async move {
                for _ in 0..laps {
                    signals[i].wait().await;
                    hops.fetch_add(1, SeqCst);
                    signals[(i + 1) % ring_len].notify();
                }
            };
            joins.push(if r % 2 == 1 {
                rt.handle().spawn_pinned(i % 2, fut)
            } else {
                rt.spawn(fut)
            });
        }
        signals[0].notify();
    }
    for j in joins {
        rt.block_on(j).unwrap();
    }
    assert_eq!(hops.load(SeqCst), rings * ring_len * laps);
}

#[test]
fn abort_storm_drops_each_task_once() {
    let rt = rt(2);
    let n = size(50_000);
    let drops = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let g = DropCount(drops.clone());
            rt.spawn(async move {
                let _g = g;
                match i % 3 {
                    0 => std::future::pending::<()>().await,
                    1 => loop {
                        yield_now().await
                    },
                    _ => yield_now().await,
                }
            })
        })
        .collect();
    let handles = Arc::new(handles);
    let aborters: Vec<_> = (0..2)
        .map(|t| {
            let handles = handles.clone();
            std::thread::spawn(move || {
                // Both threads abort every task, in opposite orders.
                for k in 0..handles.len() {
                    let i = if t == 0 { k } else { handles.len() - 1 - k };
                    handles[i].abort();
                }
            })
        })
        .collect();
    for a in aborters {
        a.join().unwrap();
    }
    let handles = Arc::try_unwrap(handles).unwrap();
    let mut cancelled = 0;
    for h in handles {
        match rt.block_on(h) {
            Ok(()) => {}
            Err(e) => {
                assert!(e.is_cancelled());
                cancelled += 1;
            }
        }
    }
    assert!(cancelled >= 2 * n / 3);
    assert_eq!(drops.load(SeqCst), n);
    assert_eq!(rt.live_tasks(), 0);
}

#[test]
fn shutdown_while_busy_drops_everything_once() {
    let rt = rt(2);
    let created = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let target = size(20_000);

    fn tree(
        created: Arc<AtomicUsize>,
        drops: Arc<AtomicUsize>,
        depth: u32,
    ) -> impl Future<Output = ()> + Send {
        created.fetch_add(1, SeqCst);
        let g = DropCount(drops.clone());
        async move {
            let _g = g;
            loop {
                if depth < 12 {
                    drop(spawn(tree(created.clone(), drops.clone(), depth + 1)));
                }
                yield_now().await;
            }
        }
    }
    for _ in 0..4 {
        drop(rt.spawn(tree(created.clone(), drops.clone(), 0)));
    }
    while created.load(SeqCst) < target {
        std::thread::yield_now();
    }
    rt.shutdown_timeout(Duration::from_secs(30));
    assert_eq!(drops.load(SeqCst), created.load(SeqCst));
}

/// Timeouts polled off the workers from several threads at once, each armed through a worker's
/// inbox and then dropped (its future finished first) or fired (its future never finishes),
/// racing the workers that file, fire and remove them. Every one ends with the right result,
/// and each sleep's waker and timer are freed (valgrind's leak check in CI).
#[test]
fn timeouts_off_the_workers_from_many_threads() {
    use actor12_scheduler::time::timeout;
    let rt = rt(2);
    let per_thread = size(20_000);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let h = rt.handle();
            std::thread::spawn(move || {
                for i in 0..per_thread {
                    if (i + t) % 64 == 0 {
                        // Fires: 0-1 ms, on a future that never finishes.
                        let d = Duration::from_micros((i % 2 * 1000) as u64);
                        let r = h.block_on(timeout(d, std::future::pending::<()>()));
                        assert!(r.is_err(), "a pending future's timeout did not fire");
                    } else {
                        // Dropped: the future finishes after one pending poll, which armed
                        // the timer.
                        let r = h.block_on(timeout(Duration::from_secs(3600), yield_now()));
                        assert_eq!(r, Ok(()));
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}
