//! Timers as a user meets them: many sleeps at once against a model, odd durations, wakers that
//! change between polls, sleeps moved between threads and runtimes, and shutdown.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use actor12_scheduler::time::{Sleep, interval, sleep, sleep_until, timeout};

mod support;
use support::{rt, within};

/// Counts its wake-ups and unparks the thread that made it.
struct CountWaker(AtomicUsize, std::thread::Thread);

impl Wake for CountWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
        self.1.unpark();
    }
}

fn count_waker() -> (Arc<CountWaker>, Waker) {
    let c = Arc::new(CountWaker(AtomicUsize::new(0), std::thread::current()));
    (c.clone(), Waker::from(c))
}

/// A small xorshift generator, so that the test is the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Random deadlines (in the past, 1 ns, a few ms, past level 0 of the wheel) on workers, on
/// `block_on` threads and on plain threads, some dropped by a shorter timeout: each sleep that
/// completes does so not before its deadline, each timeout that fires not before its own, and
/// everything completes.
#[test]
fn random_deadlines_on_and_off_the_workers_never_fire_early() {
    let rt = rt(2);
    let h = rt.handle();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let base = Instant::now();
    let mut plan = Vec::new();
    for _ in 0..600 {
        let x = rng.next();
        let offset = match x % 8 {
            0 => -1_000_000i64,                  // 1 ms in the past
            1 => 1,                              // 1 ns
            2 => 0,                              // now
            3 => 70_000_000,                     // 70 ms: filed on level 1, cascaded
            _ => ((x >> 8) % 12_000_000) as i64, // up to 12 ms
        };
        let deadline = if offset < 0 {
            base.checked_sub(Duration::from_nanos(offset.unsigned_abs())).unwrap_or(base)
        } else {
            base + Duration::from_nanos(offset as u64)
        };
        // A quarter is cut short by a timeout of up to 6 ms.
        let cut = (x >> 40).is_multiple_of(4);
        let cut_after = Duration::from_nanos((x >> 20) % 6_000_000);
        plan.push((deadline, cut, cut_after));
    }
    let run = |deadline: Instant, cut: bool, cut_after: Duration| async move {
        if cut {
            let start = Instant::now();
            match timeout(cut_after, sleep_until(deadline)).await {
                Ok(()) => assert!(Instant::now() >= deadline, "a sleep ended early"),
                Err(_) => assert!(start.elapsed() >= cut_after, "a timeout fired early"),
            }
        } else {
            sleep_until(deadline).await;
            assert!(Instant::now() >= deadline, "a sleep ended early");
        }
    };
    let mut tasks = Vec::new();
    let mut threads = Vec::new();
    for (i, &(deadline, cut, cut_after)) in plan.iter().enumerate() {
        match i % 10 {
            0 => {
                let h = h.clone();
                threads.push(std::thread::spawn(move || h.block_on(run(deadline, cut, cut_after))))
            }
            1 => threads.push(std::thread::spawn(move || {
                // A plain thread polling by hand, with a waker of its own.
                let (_, waker) = count_waker();
                let mut cx = Context::from_waker(&waker);
                let mut f = std::pin::pin!(run(deadline, cut, cut_after));
                while f.as_mut().poll(&mut cx).is_pending() {
                    std::thread::park();
                }
            })),
            _ => tasks.push(h.spawn(run(deadline, cut, cut_after))),
        }
    }
    within("random deadlines", move || {
        for t in tasks {
            h.block_on(t).unwrap();
        }
        for t in threads {
            t.join().unwrap();
        }
    });
}

/// A sleep armed on a worker, then polled from a plain thread (moved out of its task): its entry
/// leaves that wheel, it is armed on the default runtime, and the plain thread's waker is the
/// one woken at the deadline.
#[test]
fn a_sleep_armed_on_a_worker_then_polled_on_a_plain_thread_wakes_that_thread() {
    let rt = rt(1);
    let (deadline, armed) = rt
        .block_on(rt.spawn(async move {
            let deadline = Instant::now() + Duration::from_millis(20);
            let mut s = sleep_until(deadline);
            let mut cx = Context::from_waker(Waker::noop());
            let pending = Pin::new(&mut s).poll(&mut cx).is_pending();
            // Not the sleep itself: the join handle would await it.
            (deadline, pending.then_some(s))
        }))
        .unwrap();
    let Some(mut s) = armed else { return }; // due already: a machine too slow to check
    within("moved sleep", move || {
        let (count, waker) = count_waker();
        let mut cx = Context::from_waker(&waker);
        let mut first = true;
        while Pin::new(&mut s).poll(&mut cx).is_pending() {
            first = false;
            std::thread::park();
        }
        assert!(Instant::now() >= deadline);
        assert!(first || count.0.load(SeqCst) > 0, "ended without a wake-up");
        drop(rt);
    });
}

/// A sleep polled on a plain thread with one waker, then with another: the last is woken.
#[test]
fn a_sleep_polled_off_the_workers_with_a_new_waker_wakes_the_new_one() {
    let rt = rt(1);
    within("new waker", move || {
        let mut s = Box::pin(sleep(Duration::from_millis(20)));
        let (_, w1) = count_waker();
        let (second, w2) = count_waker();
        // Armed through the runtime's inbox: enter it by polling inside `block_on`.
        let mut poll_with = |w: &Waker| {
            rt.block_on(std::future::poll_fn(|_| {
                Poll::Ready(s.as_mut().poll(&mut Context::from_waker(w)))
            }))
        };
        if poll_with(&w1).is_ready() || poll_with(&w2).is_ready() {
            return; // due already: a machine too slow to check
        }
        while second.0.load(SeqCst) == 0 {
            std::thread::park();
        }
        assert!(poll_with(&w2).is_ready());
    });
}

/// A sleep polled on a worker by one task, then by another (handed over), is woken through the
/// second task.
#[test]
fn a_sleep_handed_between_tasks_on_a_worker_wakes_the_second_task() {
    let rt = rt(1);
    let h = rt.handle();
    let (tx, rx) = std::sync::mpsc::channel::<(Instant, Sleep)>();
    rt.block_on(h.spawn(async move {
        let deadline = Instant::now() + Duration::from_millis(20);
        let mut s = sleep_until(deadline);
        // Polled with a waker nobody waits on (if it is not due already).
        let _ = Pin::new(&mut s).poll(&mut Context::from_waker(Waker::noop()));
        tx.send((deadline, s)).unwrap();
    }))
    .unwrap();
    let (deadline, s) = rx.recv().unwrap();
    within("handed sleep", move || {
        rt.block_on(rt.spawn(s)).unwrap();
        assert!(Instant::now() >= deadline);
    });
}

/// Odd durations on a worker and off: zero, 1 ns, the longest, a deadline long past.
#[test]
fn odd_durations() {
    let rt = rt(1);
    let past = Instant::now().checked_sub(Duration::from_secs(3600));
    let check = move || async move {
        sleep(Duration::ZERO).await;
        sleep(Duration::from_nanos(1)).await;
        if let Some(p) = past {
            sleep_until(p).await;
        }
        assert!(timeout(Duration::ZERO, std::future::pending::<()>()).await.is_err());
        assert!(timeout(Duration::from_nanos(1), std::future::pending::<()>()).await.is_err());
        assert_eq!(timeout(Duration::MAX, async { 3 }).await, Ok(3));
        assert_eq!(timeout(Duration::MAX, actor12_scheduler::yield_now()).await, Ok(()));
        assert!(timeout(Duration::from_millis(2), sleep(Duration::MAX)).await.is_err());
        let mut i = interval(Duration::from_nanos(1));
        let a = i.tick().await;
        let b = i.tick().await;
        let c = i.tick().await;
        assert!(a < b && b < c, "ticks not increasing");
    };
    within("odd durations", move || {
        rt.block_on(check());
        rt.block_on(rt.spawn(check())).unwrap();
    });
}

/// Sleeps armed on the workers, on `block_on` threads and on plain threads while the runtime
/// shuts down: nothing hangs, every waiting thread ends.
#[test]
fn sleeps_of_every_kind_across_a_shutdown_end() {
    within("shutdown", || {
        let rt = rt(2);
        let h = rt.handle();
        let tasks: Vec<_> = (0..50).map(|i| h.spawn(sleep(Duration::from_millis(i)))).collect();
        let threads: Vec<_> = (0..6u64)
            .map(|i| {
                let h = h.clone();
                std::thread::spawn(move || {
                    let d = Duration::from_millis(2 + i);
                    let start = Instant::now();
                    h.block_on(sleep(d));
                    assert!(start.elapsed() >= d);
                })
            })
            .collect();
        rt.shutdown_timeout(Duration::from_secs(10));
        for t in tasks {
            let _ = h.block_on(t);
        }
        for t in threads {
            t.join().unwrap();
        }
        // After shutdown, sleeps in `Handle::block_on` still end.
        h.block_on(sleep(Duration::from_millis(1)));
    });
}

/// Sleeps awaited at once in `Handle::block_on` after their runtime shut down share one thread
/// that fires them, and each ends no earlier than its deadline. Each had a thread of its own:
/// 500 sleeps, 500 threads (review of 2026-12-06).
#[cfg(all(target_os = "linux", not(miri)))]
#[test]
fn sleeps_after_a_shutdown_share_one_timer_thread() {
    const N: u64 = 500;
    let deadline = |i: u64| Duration::from_millis(1 + i % 50);
    within("sleeps after a shutdown", move || {
        let rt = rt(1);
        let h = rt.handle();
        drop(rt);
        let start = Instant::now();
        let (threads, ends) = h.block_on(async move {
            let mut sleeps: Vec<_> = (0..N).map(|i| Box::pin(sleep(deadline(i)))).collect();
            let mut ends = vec![None; sleeps.len()];
            let mut threads = 0;
            std::future::poll_fn(|cx| {
                for (s, end) in sleeps.iter_mut().zip(&mut ends) {
                    if end.is_none() && s.as_mut().poll(cx).is_ready() {
                        *end = Some(start.elapsed());
                    }
                }
                threads = threads.max(support::timer_threads());
                if ends.iter().all(Option::is_some) { Poll::Ready(()) } else { Poll::Pending }
            })
            .await;
            (threads, ends)
        });
        // One; two where another test's timer thread, lingering, was just leaving as this one
        // started.
        assert!((1..=2).contains(&threads), "{threads} timer threads for {N} sleeps");
        for (i, end) in (0..N).zip(ends) {
            assert!(end.expect("every sleep ended") >= deadline(i), "sleep {i} ended early");
        }
    });
}

/// A task polls a sleep with another waker than its own (as `futures`' `Shared` does with the
/// waker of whoever else awaits it), so the worker's wheel holds a waker of a plain thread. When
/// the runtime shuts down, that waker must be woken, as the wakers of sleeps armed off the
/// workers are: its owner then polls the sleep again, which arms a timer elsewhere. Dropped
/// unwoken, the thread waits for ever.
#[test]
fn a_foreign_waker_in_a_workers_wheel_is_woken_at_shutdown() {
    let rt = rt(1);
    let h = rt.handle();
    let (count, waker) = count_waker();
    let (deadline, armed) = rt
        .block_on(rt.spawn(async move {
            let deadline = Instant::now() + Duration::from_millis(20);
            let mut s = sleep_until(deadline);
            let pending = Pin::new(&mut s).poll(&mut Context::from_waker(&waker)).is_pending();
            // Not the sleep itself: the join handle would await it.
            (deadline, pending.then_some(s))
        }))
        .unwrap();
    let Some(mut s) = armed else { return }; // due already: a machine too slow to check
    rt.shutdown_timeout(Duration::from_secs(10));
    let guard = Instant::now() + Duration::from_secs(10);
    while count.0.load(SeqCst) == 0 {
        assert!(Instant::now() < guard, "the waker in the wheel was dropped unwoken");
        std::thread::park_timeout(Duration::from_millis(10));
    }
    // Woken: polled again (here in `Handle::block_on`, which still runs), the sleep ends.
    h.block_on(&mut s);
    assert!(Instant::now() >= deadline);
}
