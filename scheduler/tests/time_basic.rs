//! Timers: sleeps never end early, timeouts, intervals, cancellation, and timers used from off
//! the workers.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use actor12_scheduler::spawn;
use actor12_scheduler::time::{interval, sleep, sleep_until, timeout};

mod support;
use support::{HANG, rt};

#[test]
fn sleeps_never_end_early() {
    let rt = rt(2);
    rt.block_on(async {
        let tasks: Vec<_> = (0..200u64)
            .map(|i| {
                spawn(async move {
                    let d = Duration::from_micros(i * 97 % 20_000);
                    let start = Instant::now();
                    sleep(d).await;
                    start.elapsed() >= d
                })
            })
            .collect();
        for t in tasks {
            assert!(t.await.unwrap());
        }
    });
}

#[test]
fn sleeps_armed_from_block_on_fire_on_every_worker() {
    // Sleeps polled outside the workers are armed on the workers' wheels in turn: with four
    // workers, each wheel gets some, and every one must fire.
    let rt = rt(4);
    for _ in 0..16 {
        let deadline = Instant::now() + Duration::from_micros(200);
        rt.block_on(sleep_until(deadline));
        assert!(Instant::now() >= deadline);
    }
}

#[test]
fn sleep_until_and_on_block_on_thread() {
    let rt = rt(1);
    let deadline = Instant::now() + Duration::from_millis(3);
    // Polled on the block_on thread: armed through a worker's inbox.
    rt.block_on(sleep_until(deadline));
    assert!(Instant::now() >= deadline);
    // Already due: completes at once.
    rt.block_on(sleep_until(Instant::now() - Duration::from_millis(1)));
}

#[test]
fn timeout_passes_results_and_reports_elapsed() {
    let rt = rt(2);
    rt.block_on(async {
        assert_eq!(timeout(Duration::from_secs(5), async { 3 }).await, Ok(3));
        let start = Instant::now();
        let r = timeout(Duration::from_millis(5), std::future::pending::<()>()).await;
        assert!(r.is_err());
        assert!(start.elapsed() >= Duration::from_millis(5));
        // Inside a task too.
        let r =
            spawn(timeout(Duration::from_millis(2), std::future::pending::<()>())).await.unwrap();
        assert_eq!(r.unwrap_err().to_string(), "deadline has elapsed");
    });
}

#[test]
fn interval_ticks_at_the_period() {
    let rt = rt(1);
    let start = Instant::now();
    let ticks = rt.block_on(spawn(async {
        let mut i = interval(Duration::from_millis(2));
        let mut ticks = Vec::new();
        for _ in 0..5 {
            ticks.push(i.tick().await);
        }
        ticks
    }));
    let ticks = ticks.unwrap();
    assert!(start.elapsed() >= Duration::from_millis(8));
    for w in ticks.windows(2) {
        assert!(w[1] >= w[0] + Duration::from_millis(2));
    }
}

/// Counts its polls; at the first, arms a 2 ms sleep and drops (cancels) it; then waits forever.
struct ArmThenDrop {
    polls: Arc<AtomicUsize>,
}

impl Future for ArmThenDrop {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.polls.fetch_add(1, SeqCst) == 0 {
            // Arms the timer on this worker's wheel if still pending when polled; one already
            // due (a thread stalled between the two calls) arms nothing: again, a new one.
            while Box::pin(sleep(Duration::from_millis(2))).as_mut().poll(cx).is_ready() {}
        }
        Poll::Pending
    }
}

#[test]
fn a_dropped_sleep_never_wakes_its_task() {
    let rt = rt(1);
    let polls = Arc::new(AtomicUsize::new(0));
    let _task = rt.spawn(ArmThenDrop { polls: polls.clone() });
    // Let the cancelled timer's deadline pass by a wide margin, on the same worker, which polls
    // the task above first: this sleep's deadline is taken after that poll. The yield after it
    // lets a wake-up fired in the same batch (a worker waking late) run before the check.
    rt.block_on(rt.spawn(async {
        sleep(Duration::from_millis(30)).await;
        actor12_scheduler::yield_now().await;
    }))
    .unwrap();
    assert_eq!(polls.load(SeqCst), 1);
}

#[test]
fn a_timeout_that_does_not_fire_costs_no_wake_up() {
    let rt = rt(1);
    // The inner future needs one wake-up (yield) and then finishes: the timer is armed, then
    // cancelled when `timeout` completes. On a machine too busy to poll the task again within
    // the limit the timer fires first, which tests nothing: again, in a new task (a fired
    // timer's wake-up may reach the task after it, and `timeout` still gives the inner
    // future's output), with a longer limit. Ended before its deadline, it was cancelled
    // unfired.
    let mut limit = Duration::from_millis(2);
    let (polls, deadline) = loop {
        let polls = Arc::new(AtomicUsize::new(0));
        let p = polls.clone();
        let (passed_tx, passed) = std::sync::mpsc::channel();
        let task = rt.spawn(async move {
            let deadline = Instant::now() + limit;
            let ok = timeout(limit, actor12_scheduler::yield_now()).await.is_ok();
            passed_tx.send((ok && Instant::now() < deadline, deadline)).unwrap();
            std::future::poll_fn(move |_| {
                p.fetch_add(1, SeqCst);
                Poll::<()>::Pending
            })
            .await
        });
        let (unfired, deadline) = passed.recv_timeout(HANG).expect("the timeout never completed");
        if unfired {
            break (polls, deadline);
        }
        task.abort();
        limit *= 2;
    };
    // Let the cancelled timer's deadline pass by a wide margin, on the same worker. That
    // deadline was taken after `deadline` and before `deadline` itself passed, so it is below
    // `deadline + limit`. The yield lets a wake-up fired in the same batch run before the check.
    let after = deadline + limit + Duration::from_millis(28);
    rt.block_on(rt.spawn(async move {
        sleep_until(after).await;
        actor12_scheduler::yield_now().await;
    }))
    .unwrap();
    assert_eq!(polls.load(SeqCst), 1);
}

#[test]
fn many_timers_across_workers_all_fire() {
    let rt = rt(2);
    let fired = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let tasks: Vec<_> = (0..5000u64)
            .map(|i| {
                let fired = fired.clone();
                spawn(async move {
                    // Half of them are cancelled by a timeout that fires first.
                    if i % 2 == 0 {
                        sleep(Duration::from_millis(i % 15)).await;
                        fired.fetch_add(1, SeqCst);
                    } else {
                        let r =
                            timeout(Duration::from_millis(i % 7), sleep(Duration::from_secs(60)))
                                .await;
                        assert!(r.is_err());
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(fired.load(SeqCst), 2500);
}

#[test]
fn sleep_outside_any_runtime_uses_the_default_one() {
    struct ThreadWaker(std::thread::Thread);
    impl std::task::Wake for ThreadWaker {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    // A plain thread with no runtime entered, polling by hand: the sleep is armed on the
    // process-wide default runtime, whose worker wakes this thread.
    let start = Instant::now();
    let waker = std::task::Waker::from(Arc::new(ThreadWaker(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut s = Box::pin(sleep(Duration::from_millis(2)));
    while s.as_mut().poll(&mut cx).is_pending() {
        std::thread::park();
    }
    assert!(start.elapsed() >= Duration::from_millis(2));
}

#[test]
fn a_far_deadline_is_armed_without_harm() {
    let rt = rt(1);
    // On a worker, so that the sleep is filed in that worker's wheel.
    let on_worker = rt.spawn(async {
        // Move the wheel's clock past zero, then arm a 30-year sleep beside a short timeout.
        sleep(Duration::from_millis(2)).await;
        let far = timeout(Duration::from_millis(5), sleep(Duration::MAX)).await;
        assert!(far.is_err(), "a 30-year sleep finished early");
        // The worker still serves timers.
        sleep(Duration::from_millis(1)).await;
    });
    rt.block_on(on_worker).unwrap();
}

/// A sleep longer than `u64::MAX` milliseconds, which `Instant` still holds: its tick used to be
/// computed in wrapping `u64` milliseconds (a panic in debug builds; in release the tick wrapped
/// to a near one, and the sleep ended after a few hundred milliseconds).
#[test]
fn a_sleep_beyond_u64_milliseconds_neither_panics_nor_ends_early() {
    let rt = rt(1);
    let far = Duration::from_secs(u64::MAX / 1000 + 1);
    let on_worker = rt.spawn(async move {
        sleep(Duration::from_millis(1)).await; // the wheel's clock past zero
        timeout(Duration::from_millis(50), sleep(far)).await
    });
    assert!(rt.block_on(on_worker).unwrap().is_err(), "the sleep ended");
    // Off the workers too (the timer is armed from this thread).
    assert!(rt.block_on(timeout(Duration::from_millis(20), sleep(far))).is_err());
}

/// An interval whose period `Instant` cannot add (`Duration::MAX`): the first tick comes at once,
/// the second never (it used to panic adding the period).
#[test]
fn an_interval_with_the_longest_period_ticks_once() {
    let rt = rt(1);
    rt.block_on(async {
        let mut ticks = interval(Duration::MAX);
        ticks.tick().await;
        assert!(timeout(Duration::from_millis(20), ticks.tick()).await.is_err());
    });
}

/// A shutdown timeout of `Duration::MAX` means no limit (it used to panic adding it to now).
#[test]
fn the_longest_shutdown_timeout_does_not_panic() {
    let rt = rt(2);
    rt.block_on(async { sleep(Duration::from_millis(1)).await });
    rt.shutdown_timeout(Duration::MAX);
}

#[test]
fn due_timers_are_ready_at_once_on_a_worker_that_slept_a_long_time() {
    let rt = rt(1);
    // Wake the worker once so that it runs, then let it park with an empty wheel: its clock
    // stands still meanwhile, far more than the 64 ticks within which a due sleep is looked up
    // on the real clock.
    rt.block_on(rt.spawn(async {})).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let ready = rt.block_on(rt.spawn(async {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        let zero = std::pin::pin!(sleep(Duration::ZERO)).poll(&mut cx).is_ready();
        let past =
            std::pin::pin!(sleep_until(Instant::now() - Duration::from_millis(1))).poll(&mut cx);
        let timed_out = std::pin::pin!(timeout(Duration::ZERO, std::future::pending::<()>()))
            .poll(&mut cx)
            .is_ready();
        (zero, past.is_ready(), timed_out)
    }));
    assert_eq!(ready.unwrap(), (true, true, true), "(sleep(0), a past deadline, timeout(0))");
}

/// Tasks that each compute for `POLL` and yield, on one worker, and a task that sleeps 1 ms
/// again and again: each sleep ends within a turn or two of the queue after its deadline,
/// counted in the busy tasks' polls.
#[test]
fn a_worker_whose_tasks_keep_yielding_checks_its_timers_every_turn_of_its_queue() {
    // It checked them every 61 polls only: with polls of a millisecond, a 1 ms sleep took 60.
    const TASKS: usize = 4;
    const POLL: Duration = Duration::from_micros(100);
    let rt = rt(1);
    let polls = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let busy: Vec<_> = (0..TASKS)
        .map(|_| {
            let (polls, stop) = (polls.clone(), stop.clone());
            rt.spawn(async move {
                while !stop.load(SeqCst) {
                    polls.fetch_add(1, SeqCst);
                    let start = Instant::now();
                    while start.elapsed() < POLL {}
                    actor12_scheduler::yield_now().await;
                }
            })
        })
        .collect();
    let counted = polls.clone();
    let per_sleep = rt
        .block_on(rt.spawn(async move {
            let mut per_sleep = Vec::new();
            for _ in 0..10 {
                let before = counted.load(SeqCst);
                sleep(Duration::from_millis(1)).await;
                per_sleep.push(counted.load(SeqCst) - before);
            }
            per_sleep
        }))
        .unwrap();
    stop.store(true, SeqCst);
    for task in busy {
        rt.block_on(task).unwrap();
    }
    // A 1 ms sleep ends at a timer tick at most 2 ms away (`sleep`'s rounding): at most 20
    // polls of 100 us (slower polls make fewer), then at most a turn of the queue. The first
    // sleep may start before the busy tasks run at all.
    assert!(per_sleep[1..].iter().all(|&n| n <= 20 + 2 * (TASKS + 1)), "{per_sleep:?}");
}

/// Two tasks that wake each other, computing for `POLL` a poll: each wake puts the other in
/// the worker's LIFO slot.
struct Rally {
    turn: AtomicUsize,
    wakers: std::sync::Mutex<[Option<std::task::Waker>; 2]>,
    polls: AtomicUsize,
    stop: std::sync::atomic::AtomicBool,
}

impl Rally {
    /// Player `me` (0 or 1): on its turn it computes, hands the turn over and wakes the other.
    fn player(self: Arc<Self>, me: usize, poll: Duration) -> impl Future<Output = ()> {
        std::future::poll_fn(move |cx| {
            if self.stop.load(SeqCst) {
                return Poll::Ready(());
            }
            let mut wakers = self.wakers.lock().unwrap();
            wakers[me] = Some(cx.waker().clone());
            if self.turn.load(SeqCst) == me {
                self.polls.fetch_add(1, SeqCst);
                let start = Instant::now();
                while start.elapsed() < poll {}
                self.turn.store(1 - me, SeqCst);
                if let Some(other) = wakers[1 - me].take() {
                    drop(wakers);
                    other.wake();
                }
            }
            Poll::Pending
        })
    }

    fn finish(&self) {
        self.stop.store(true, SeqCst);
        for waker in self.wakers.lock().unwrap().iter_mut().filter_map(Option::take) {
            waker.wake();
        }
    }
}

/// Two tasks that wake each other on one worker, computing for `POLL` a poll, and a task that
/// sleeps 1 ms again and again: each sleep ends within about 61 of their polls after its
/// deadline (the worker checks its timers every 61 ticks, and each of the polls it runs one
/// after another from its LIFO slot is a tick).
#[test]
fn a_worker_whose_tasks_keep_waking_each_other_checks_its_timers_every_61_polls() {
    // A turn of the worker's loop ran up to 17 of their polls (the LIFO slot's chain) and
    // counted one tick: a 1 ms sleep waited about 1,020 polls (a review of 2026-12-07).
    const POLL: Duration = Duration::from_micros(100);
    let rt = rt(1);
    let rally = Arc::new(Rally {
        turn: AtomicUsize::new(0),
        wakers: std::sync::Mutex::new([None, None]),
        polls: AtomicUsize::new(0),
        stop: std::sync::atomic::AtomicBool::new(false),
    });
    let players: Vec<_> = (0..2).map(|me| rt.spawn(rally.clone().player(me, POLL))).collect();
    let counted = rally.clone();
    let per_sleep = rt
        .block_on(rt.spawn(async move {
            let mut per_sleep = Vec::new();
            for _ in 0..10 {
                let before = counted.polls.load(SeqCst);
                sleep(Duration::from_millis(1)).await;
                per_sleep.push(counted.polls.load(SeqCst) - before);
            }
            per_sleep
        }))
        .unwrap();
    rally.finish();
    for player in players {
        rt.block_on(player).unwrap();
    }
    // A 1 ms sleep ends at a timer tick at most 2 ms away (`sleep`'s rounding): at most 20
    // polls of 100 us (slower polls make fewer), then at most 61 until the worker's next check,
    // and a few for the sleeper's own turn. The first sleep may start before the rally does.
    assert!(per_sleep[1..].iter().all(|&n| n <= 20 + 61 + 4), "{per_sleep:?}");
}

/// `spin_before_park` for an hour: the worker never sleeps during the test unless a timer is
/// due, so everything it does between tasks comes from the spin's own checks. A sleep armed on
/// the worker fires, and one armed from outside; tasks sent from outside run; and the runtime's
/// drop returns at once. Were any of them left to the end of the spin, the test would wait for
/// the hour (and `within`'s guard would fail it), or the drop for its timeout (10 s).
#[test]
fn a_worker_spinning_before_it_parks_fires_its_timers_takes_work_and_shuts_down() {
    support::within("a spinning worker", || {
        let rt = actor12_scheduler::Runtime::builder()
            .worker_threads(1)
            .spin_before_park(Duration::from_secs(3600))
            .build()
            .unwrap();
        let slept = rt.block_on(rt.spawn(async {
            sleep(Duration::from_millis(5)).await;
            7
        }));
        assert_eq!(slept.unwrap(), 7);
        rt.block_on(sleep(Duration::from_millis(5)));
        for i in 0..100 {
            assert_eq!(rt.block_on(rt.spawn(async move { i })).unwrap(), i);
        }
        let dropping = Instant::now();
        drop(rt);
        // Not a timing claim: a worker that ignored the shutdown would hold the drop for its
        // whole timeout.
        assert!(dropping.elapsed() < Duration::from_secs(5), "the drop waited for the spin");
    });
}

/// Sleeps armed off the workers (a `block_on`) go to the workers in turn, through their
/// inboxes: one of two lands on a worker stuck in a task. `shutdown_timeout` gives up on that
/// worker, which never takes its inbox in, and the sleep waited for ever; it now goes to the
/// fallback thread with the rest (a review of 2026-12-07). Not in `time_review`, whose count of
/// fallback timer threads this test's lingering one could push past its bound under valgrind.
#[test]
fn a_sleep_armed_through_a_stuck_workers_inbox_ends_after_the_shutdown() {
    let rt = rt(2);
    let h = rt.handle();
    let (unstick, stuck) = std::sync::mpsc::channel::<()>();
    let (started_tx, started) = std::sync::mpsc::channel();
    let _stuck = h.spawn_pinned(1, async move {
        started_tx.send(()).unwrap();
        let _ = stuck.recv(); // blocks worker 1 until the test ends
    });
    started.recv().unwrap();
    let (armed_tx, armed) = std::sync::mpsc::channel();
    let sleeper = h.clone();
    let sleeps = std::thread::spawn(move || {
        sleeper.block_on(async move {
            // Each polled once, so armed, one through each worker's inbox. The second ends
            // later: polled again when the first ends, it must wait for its timer (a sleep
            // polled past its deadline ends without one).
            let mut a = Box::pin(sleep(Duration::from_millis(20)));
            let mut b = Box::pin(sleep(Duration::from_millis(300)));
            std::future::poll_fn(|cx| {
                assert!(a.as_mut().poll(cx).is_pending() && b.as_mut().poll(cx).is_pending());
                Poll::Ready(())
            })
            .await;
            armed_tx.send(()).unwrap();
            a.await;
            b.await;
        })
    });
    armed.recv().unwrap();
    rt.shutdown_timeout(Duration::from_millis(100)); // gives up on worker 1
    support::within("the sleeps after the shutdown", move || sleeps.join().unwrap());
    drop(unstick);
}

/// A timeout around a future that spends the task's whole budget on every poll (here, a loop
/// over due sleeps) still fires: its deadline is looked at past the budget, as tokio's is. It
/// was refused with the budget, run after run, and never fired (a review of 2026-12-07). A
/// loop of timeouts that elapse at once still yields: another task on the only worker runs.
#[test]
fn a_timeout_fires_around_a_future_that_spends_the_whole_budget() {
    let rt = rt(1);
    let (tx, fired) = std::sync::mpsc::channel();
    let _task = rt.spawn(async move {
        let busy = async {
            loop {
                sleep(Duration::ZERO).await;
            }
        };
        let _ = tx.send(timeout(Duration::from_millis(20), busy).await.is_err());
    });
    assert_eq!(fired.recv_timeout(HANG), Ok(true), "the 20 ms timeout never fired");

    let other_ran = Arc::new(AtomicUsize::new(0));
    let ran = other_ran.clone();
    let looping = rt.spawn(async move {
        while ran.load(SeqCst) == 0 {
            let _ = timeout(Duration::ZERO, std::future::pending::<()>()).await;
        }
    });
    let _other = rt.spawn(async move { other_ran.fetch_add(1, SeqCst) });
    support::within("the loop of timeouts", move || rt.block_on(looping).unwrap());
}
