//! loom models of the process's fallback timer thread (`scheduler/src/time/mod.rs`,
//! `fire_from_thread`, `Fallback::run`): the one thread that fires the timers no worker will
//! (sleeps polled after their runtime shut down), started on demand, leaving after a second
//! with none.
//!
//! Under loom the thread's clock and park are the shim's (`scheduler/src/loom.rs`,
//! `timer_thread`): time moves only when the thread waits, its `park_timeout` taking the token
//! an unpark left or else letting its whole timeout pass, under one lock, so an unpark comes
//! before the wait or after its timeout. The thread never blocks, and a model joins it.
#![cfg(actor12_loom)]

use std::sync::Arc as StdArc;
use std::task::{Wake, Waker};
use std::time::Duration;

use actor12_scheduler::loom_api::{fallback_elapsed, fallback_join_all, fallback_sleep};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

/// How long the thread waits with no timer before it leaves (`FALLBACK_LINGER`).
const LINGER: Duration = Duration::from_secs(1);

struct Count(Arc<AtomicUsize>);

impl Wake for Count {
    fn wake(self: StdArc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counting() -> (Arc<AtomicUsize>, Waker) {
    let wakes = Arc::new(AtomicUsize::new(0));
    (wakes.clone(), Waker::from(StdArc::new(Count(wakes))))
}

/// A sleep is armed while the thread, its only timer fired, lingers and decides to leave: the
/// sleep is fired, by that thread (it saw the timer under the lock before it decided) or by a
/// new one (the arm found none).
///
/// Planted: the thread clears `Fallback::thread` only after it let the lock go (decided under
/// the lock, cleared under a second one): an arm in between gave its timer to the leaving
/// thread (`the sleep armed as the thread left was not fired: left: 0`).
#[test]
fn a_sleep_armed_as_the_fallback_thread_leaves_is_fired() {
    loom::model(|| {
        let (first, waker) = counting();
        let _first = fallback_sleep(Duration::ZERO, waker);
        let arming = thread::spawn(|| {
            let (second, waker) = counting();
            (second, fallback_sleep(Duration::ZERO, waker))
        });
        let (second, _timer) = arming.join().unwrap();
        fallback_join_all();
        assert_eq!(first.load(SeqCst), 1, "the first sleep was not fired once");
        assert_eq!(second.load(SeqCst), 1, "the sleep armed as the thread left was not fired");
    });
}

/// A sleep due in an hour is dropped just after it was armed: the thread lets it go and leaves
/// a second later, instead of keeping it to its deadline. The model clock checks it: the thread
/// has left one `LINGER` after the drop. (Where the thread's wait let the hour pass before the
/// drop, the sleep was due and may be woken.)
///
/// Planted: `RemoteTimer::cancel` does not unpark the thread (`the thread kept the dropped sleep
/// to its deadline: it left at 3601s, the sleep was dropped at 0ns`).
#[test]
fn a_dropped_sleep_lets_the_fallback_thread_go() {
    loom::model(|| {
        let (wakes, waker) = counting();
        let timer = fallback_sleep(Duration::from_secs(3600), waker);
        timer.cancel();
        let dropped_at = fallback_elapsed();
        fallback_join_all();
        let left_at = fallback_elapsed();
        assert!(
            left_at <= dropped_at + LINGER,
            "the thread kept the dropped sleep to its deadline: it left at {left_at:?}, the \
             sleep was dropped at {dropped_at:?}"
        );
        // Unless the hour passed before the drop (the thread's wait let it pass), the sleep was
        // not due and is not woken; if it was, the drop may still have come before the fire.
        let due = dropped_at >= Duration::from_secs(3600);
        let woken = wakes.load(SeqCst);
        assert!(woken <= usize::from(due), "woken {woken} times, dropped at {dropped_at:?}");
    });
}

/// Records the model clock when woken.
struct WokenAt(loom::sync::Mutex<Option<Duration>>);

impl Wake for WokenAt {
    fn wake(self: StdArc<Self>) {
        *self.0.lock().unwrap() = Some(fallback_elapsed());
    }
}

/// While the thread waits for a sleep due in an hour, another thread arms one due at once: the
/// thread is unparked and fires it then, not an hour later.
///
/// Planted: `fire_from_thread` does not unpark the thread after it queued the timer (`the
/// earlier sleep was fired late: at Some(3600s), armed by 0ns`).
#[test]
fn an_earlier_sleep_armed_while_the_thread_waits_is_fired_on_time() {
    loom::model(|| {
        let (_, waker) = counting();
        let later = fallback_sleep(Duration::from_secs(3600), waker);
        let arming = thread::spawn(|| {
            let woken = StdArc::new(WokenAt(loom::sync::Mutex::new(None)));
            let timer = fallback_sleep(Duration::ZERO, Waker::from(woken.clone()));
            (woken, timer, fallback_elapsed())
        });
        let (woken, _timer, armed_by) = arming.join().unwrap();
        later.cancel();
        fallback_join_all();
        let woken_at = *woken.0.lock().unwrap();
        assert!(woken_at.is_some(), "the earlier sleep was not fired");
        // Armed before the hour passed: the thread took the unpark before it let the hour pass.
        if armed_by < Duration::from_secs(3600) {
            assert!(
                woken_at < Some(Duration::from_secs(3600)),
                "the earlier sleep was fired late: at {woken_at:?}, armed by {armed_by:?}"
            );
        }
    });
}
