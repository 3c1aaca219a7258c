//! Timers as a user meets them: many sleeps at once against a model, odd durations, wakers that
//! change between polls, sleeps moved between threads and runtimes, and shutdown.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Wake, Waker};
use std::time::{Duration, Instant};

use actor12_scheduler::time::sleep_until;

mod support;
use support::rt;

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
