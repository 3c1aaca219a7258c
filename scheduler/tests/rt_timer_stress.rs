//! Timers under real threads: several runtimes at once, timeouts polled off the workers, sleeps
//! moved between runtimes, tasks aborted from plain threads, runtimes dropped mid-flight. Sizes
//! divide by `ACTOR12_STRESS_DIV`, as in `rt_stress.rs`. A hang is caught by a bounded wait.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, mpsc};
use std::task::Poll;
use std::time::Duration;

use actor12_scheduler::time::{sleep, timeout};
use actor12_scheduler::{Handle, yield_now};

mod support;
use support::{DropCount, rt, size, within};

/// Polls `fut` once in `block_on` of `h` (arming its timer there) and gives it back.
fn poll_once<F: Future + Unpin + Send>(h: &Handle, mut fut: F) -> Result<F::Output, F> {
    let r = h.block_on(std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut fut).poll(cx))));
    match r {
        Poll::Ready(v) => Ok(v),
        Poll::Pending => Err(fut),
    }
}

/// Timeouts and sleeps in `block_on` of three runtimes from six threads: dropped before their
/// deadline, fired, or armed in one runtime and finished in another.
#[test]
fn timeouts_off_the_workers_of_several_runtimes() {
    let rts = [rt(1), rt(2), rt(3)];
    let handles: Vec<Handle> = rts.iter().map(|r| r.handle()).collect();
    let per_thread = size(6_000);
    within("timeouts off the workers", move || {
        let threads: Vec<_> = (0..6)
            .map(|t| {
                let hs = handles.clone();
                std::thread::spawn(move || {
                    for i in 0..per_thread {
                        let a = &hs[(i + t) % 3];
                        let b = &hs[(i + t + 1) % 3];
                        match (i + t) % 8 {
                            0 => {
                                let d = Duration::from_micros((i % 3 * 700) as u64);
                                let r = a.block_on(timeout(d, std::future::pending::<()>()));
                                assert!(r.is_err());
                            }
                            1 => {
                                // Armed in `a`, finished in `b`.
                                let s = Box::pin(sleep(Duration::from_millis(1)));
                                if let Err(s) = poll_once(a, s) {
                                    b.block_on(s);
                                }
                            }
                            2 => {
                                // Armed in `a`, re-polled in `b`, dropped on this thread.
                                let s = Box::pin(sleep(Duration::from_secs(3600)));
                                let s = poll_once(a, s).unwrap_err();
                                drop(poll_once(b, s).unwrap_err());
                            }
                            _ => {
                                let r = a.block_on(timeout(Duration::from_secs(3600), yield_now()));
                                assert_eq!(r, Ok(()));
                            }
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
    });
    drop(rts);
}

/// Tasks asleep on the workers' wheels (short sleeps that may fire, long ones that will not),
/// aborted from plain threads while they fire; some are first moved to another runtime's
/// worker. Every future is dropped once and every task ends.
#[test]
fn sleeping_tasks_aborted_from_plain_threads_across_runtimes() {
    let rts = Arc::new([rt(2), rt(2)]);
    let n = size(4_000);
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    let spawner = {
        let (rts, drops) = (rts.clone(), drops.clone());
        std::thread::spawn(move || {
            for i in 0..n {
                let guard = DropCount(drops.clone());
                let ms = if i % 3 == 0 { 3_600_000 } else { (i % 4) as u64 };
                let other = rts[(i + 1) % 2].handle();
                let task = rts[i % 2].spawn(async move {
                    let _guard = guard;
                    let mut s = Box::pin(sleep(Duration::from_millis(ms)));
                    if i % 5 == 0 {
                        // Filed on this worker, then moved to the other runtime's worker.
                        let first = std::future::poll_fn(|cx| Poll::Ready(s.as_mut().poll(cx)));
                        if first.await.is_pending() {
                            let _ = other.spawn(s).await;
                        }
                    } else {
                        s.await;
                    }
                });
                tx.send(task).unwrap();
            }
        })
    };
    let aborters: Vec<_> = {
        let rx = Arc::new(std::sync::Mutex::new(rx));
        (0..3)
            .map(|_| {
                let rx = rx.clone();
                std::thread::spawn(move || {
                    let mut tasks = Vec::new();
                    loop {
                        let next = rx.lock().unwrap().recv();
                        let Ok(task) = next else { break };
                        for _ in 0..(tasks.len() % 50) {
                            std::thread::yield_now();
                        }
                        task.abort();
                        tasks.push(task);
                    }
                    tasks
                })
            })
            .collect()
    };
    spawner.join().unwrap();
    let tasks: Vec<_> = aborters.into_iter().flat_map(|a| a.join().unwrap()).collect();
    within("aborted tasks ending", move || {
        for t in tasks {
            while !t.is_finished() {
                std::thread::yield_now();
            }
        }
    });
    // The inner tasks (moved sleeps) of aborted outer tasks are not aborted: they end by
    // their deadline or by the runtimes' drop below.
    drop(rts);
    assert_eq!(drops.load(SeqCst), n);
}

/// Threads looping on `block_on(timeout(..))` with a runtime's handle while the runtime is
/// dropped under them: before the drop through the inbox, across it as orphans, after it on
/// threads of their own. Every call ends with the right result.
#[test]
fn timeouts_in_block_on_across_runtime_drops() {
    let rounds = size(40);
    within("timeouts across drops", move || {
        for round in 0..rounds {
            let rt = rt(1 + round % 2);
            let (started_tx, started_rx) = mpsc::channel();
            let threads: Vec<_> = (0..3)
                .map(|t| {
                    let h = rt.handle();
                    let started = started_tx.clone();
                    std::thread::spawn(move || {
                        for i in 0..200 {
                            if i == 20 {
                                let _ = started.send(());
                            }
                            if (i + t) % 4 == 0 {
                                let d = Duration::from_micros((i % 3 * 500) as u64);
                                let r = h.block_on(timeout(d, std::future::pending::<()>()));
                                assert!(r.is_err());
                            } else {
                                let r = h.block_on(timeout(Duration::from_secs(3600), yield_now()));
                                assert_eq!(r, Ok(()));
                            }
                        }
                    })
                })
                .collect();
            for _ in 0..3 {
                started_rx.recv().unwrap();
            }
            drop(rt);
            for t in threads {
                t.join().unwrap();
            }
        }
    });
}

/// Wraps a waker and counts its live clones in `live`.
#[derive(Clone)]
struct Counted {
    inner: std::task::Waker,
    live: Arc<AtomicUsize>,
}

impl Counted {
    fn waker(inner: &std::task::Waker, live: &Arc<AtomicUsize>) -> std::task::Waker {
        live.fetch_add(1, SeqCst);
        std::task::Waker::from(Arc::new(Counted { inner: inner.clone(), live: live.clone() }))
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.live.fetch_sub(1, SeqCst);
    }
}

impl std::task::Wake for Counted {
    fn wake(self: Arc<Self>) {
        self.inner.wake_by_ref();
    }
}

/// Polls `s` with a counted wrapper of the context's waker.
fn poll_counted(
    s: Pin<&mut actor12_scheduler::time::Sleep>,
    cx: &mut std::task::Context<'_>,
    live: &Arc<AtomicUsize>,
) -> Poll<()> {
    let w = Counted::waker(cx.waker(), live);
    s.poll(&mut std::task::Context::from_waker(&w))
}

/// Waits until every counted waker is gone, while the runtimes are alive and idle: a wheel entry
/// or timer that kept one would keep it until its deadline, an hour away.
fn wait_all_dropped(live: &Arc<AtomicUsize>) {
    let live = live.clone();
    within("counted wakers dropped", move || {
        let start = std::time::Instant::now();
        while live.load(SeqCst) != 0 {
            if start.elapsed() > Duration::from_secs(100) {
                panic!("{} wakers kept", live.load(SeqCst));
            }
            std::thread::yield_now();
        }
    });
}

/// Every waker a sleep hands to a wheel or a remote timer is dropped soon after the sleep is,
/// wherever it was polled and dropped: in `block_on` of several runtimes, on workers, moved
/// between runtimes, in tasks aborted from plain threads and from other workers.
#[test]
fn wakers_of_dropped_sleeps_do_not_wait_for_the_deadline() {
    let rts = Arc::new([rt(2), rt(3)]);
    let live = Arc::new(AtomicUsize::new(0));
    let n = size(3_000);
    let hour = Duration::from_secs(3600);
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (rts, live) = (rts.clone(), live.clone());
            std::thread::spawn(move || {
                for i in 0..n {
                    let a = rts[(i + t) % 2].handle();
                    let b = rts[(i + t + 1) % 2].handle();
                    let live2 = live.clone();
                    match (i + t) % 4 {
                        0 => {
                            // In `block_on`: armed through an inbox, dropped here.
                            let mut s = Box::pin(sleep(hour));
                            let mut once = false;
                            a.block_on(std::future::poll_fn(|cx| {
                                assert!(poll_counted(s.as_mut(), cx, &live2).is_pending());
                                if std::mem::replace(&mut once, true) {
                                    return Poll::Ready(());
                                }
                                cx.waker().wake_by_ref();
                                Poll::Pending
                            }));
                        }
                        1 => {
                            // Filed on a worker of `a`, moved to one of `b`, aborted from here.
                            let l = live2.clone();
                            let [s] = a
                                .block_on(a.spawn(async move {
                                    let mut s = Box::pin(sleep(hour));
                                    std::future::poll_fn(|cx| {
                                        let _ = poll_counted(s.as_mut(), cx, &l);
                                        Poll::Ready(())
                                    })
                                    .await;
                                    [s]
                                }))
                                .unwrap();
                            let mut s = s;
                            let task = b.spawn(async move {
                                std::future::poll_fn(|cx| poll_counted(s.as_mut(), cx, &live2))
                                    .await
                            });
                            if i % 3 == 0 {
                                std::thread::yield_now();
                            }
                            task.abort();
                        }
                        2 => {
                            // Asleep on one worker of `a`, aborted on another.
                            let task = a.spawn_pinned(0, async move {
                                let mut s = Box::pin(sleep(hour));
                                std::future::poll_fn(|cx| poll_counted(s.as_mut(), cx, &live2))
                                    .await
                            });
                            let _ = a.block_on(a.spawn_pinned(1, async move { task.abort() }));
                        }
                        _ => {
                            // Asleep on a worker, aborted from here.
                            let task = a.spawn(async move {
                                let mut s = Box::pin(sleep(hour));
                                std::future::poll_fn(|cx| poll_counted(s.as_mut(), cx, &live2))
                                    .await
                            });
                            std::thread::yield_now();
                            task.abort();
                        }
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    wait_all_dropped(&live);
}

/// Sleeps filed in the wheels of short-lived runtimes and dropped on other threads while those
/// runtimes are dropped: the lookup of the runtime by id races the end of its shared state.
#[test]
fn sleeps_dropped_while_their_runtimes_go() {
    let rounds = size(300);
    within("sleeps outliving runtimes", move || {
        let (tx, rx) = mpsc::channel::<Vec<actor12_scheduler::time::Sleep>>();
        let droppers: Vec<_> = {
            let rx = Arc::new(std::sync::Mutex::new(rx));
            (0..2)
                .map(|_| {
                    let rx = rx.clone();
                    std::thread::spawn(move || {
                        loop {
                            let next = rx.lock().unwrap().recv();
                            let Ok(sleeps) = next else { break };
                            drop(sleeps);
                        }
                    })
                })
                .collect()
        };
        for round in 0..rounds {
            let rt = rt(1 + round % 3);
            let [sleeps] = rt
                .block_on(rt.spawn(async {
                    let mut sleeps: Vec<_> =
                        (0..8).map(|i| Box::pin(sleep(Duration::from_secs(60 + i)))).collect();
                    std::future::poll_fn(|cx| {
                        for s in &mut sleeps {
                            assert!(s.as_mut().poll(cx).is_pending());
                        }
                        Poll::Ready(())
                    })
                    .await;
                    [sleeps.into_iter().map(|s| *Pin::into_inner(s)).collect::<Vec<_>>()]
                }))
                .unwrap();
            let (first, rest) = {
                let mut s = sleeps;
                let rest = s.split_off(4);
                (s, rest)
            };
            tx.send(first).unwrap();
            if round % 2 == 0 {
                drop(rt);
                tx.send(rest).unwrap();
            } else {
                tx.send(rest).unwrap();
                drop(rt);
            }
        }
        drop(tx);
        for d in droppers {
            d.join().unwrap();
        }
    });
}
