//! loom model of a timer armed off its wheel's worker (`scheduler/src/time/mod.rs`,
//! `RemoteTimer`): the wheel firing (or orphaning it) races the sleep being dropped or polled
//! again with another waker.
#![cfg(actor12_loom)]

use std::task::{Wake, Waker};

use actor12_scheduler::loom_api::RemoteTimer;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

struct Count(loom::sync::Arc<AtomicUsize>);

impl Wake for Count {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// Fire vs cancel: the timer is one-shot, so the waker is used at most once even if the wheel
/// delivers the entry twice, and it is never leaked.
#[test]
fn fire_vs_cancel() {
    loom::model(|| {
        let wakes = loom::sync::Arc::new(AtomicUsize::new(0));
        let counter = std::sync::Arc::new(Count(wakes.clone()));
        let timer = RemoteTimer::new(Waker::from(counter.clone()));
        let wheel = {
            let timer = timer.clone();
            thread::spawn(move || {
                timer.fire();
                timer.fire();
            })
        };
        timer.cancel();
        let after_cancel = wakes.load(SeqCst);
        wheel.join().unwrap();
        let total = wakes.load(SeqCst);
        assert!(total <= 1, "woken twice");
        drop(timer);
        // Every clone of the waker is gone: none leaked in the timer.
        assert_eq!(std::sync::Arc::strong_count(&counter), 1);
        // Fired or not, no wake-up happens after the cancel unless the fire had already taken
        // the waker (then it wakes at most once, which `total <= 1` covers).
        assert!(after_cancel <= total);
    });
}

/// Cancel first, then fire (sequential): no wake-up at all.
#[test]
fn cancel_then_fire_never_wakes() {
    loom::model(|| {
        let wakes = loom::sync::Arc::new(AtomicUsize::new(0));
        let timer = RemoteTimer::new(Waker::from(std::sync::Arc::new(Count(wakes.clone()))));
        timer.cancel();
        let wheel = {
            let timer = timer.clone();
            thread::spawn(move || timer.fire())
        };
        wheel.join().unwrap();
        assert_eq!(wakes.load(SeqCst), 0);
    });
}

/// Timers armed from another thread while the worker drains its inbox: each ends up in the
/// wheel, or the worker's cheap check still reports it. A stranded request would never fire.
#[test]
fn remote_arm_vs_drain() {
    use actor12_scheduler::loom_api::{TimerInbox, TimerWheel};
    loom::model(|| {
        let inbox = loom::sync::Arc::new(TimerInbox::new());
        let wakes = loom::sync::Arc::new(AtomicUsize::new(0));
        let arming = {
            let (inbox, wakes) = (inbox.clone(), wakes.clone());
            thread::spawn(move || {
                for when in [5, 6] {
                    let waker = Waker::from(std::sync::Arc::new(Count(wakes.clone())));
                    drop(inbox.arm(when, waker));
                }
            })
        };
        let mut wheel = TimerWheel::default();
        if inbox.has_messages() {
            inbox.drain_into(&mut wheel);
        }
        arming.join().unwrap();
        // The worker's next turn: it drains only if its check says so.
        if wheel.len() < 2 {
            assert!(inbox.has_messages(), "an armed timer was stranded in the inbox");
            inbox.drain_into(&mut wheel);
        }
        assert_eq!(wheel.len(), 2);
        assert_eq!(wheel.fire_until(10), 2);
        assert_eq!(wakes.load(SeqCst), 2);
    });
}

/// A timer armed from another thread and dropped there at once, while the worker drains its
/// inbox: whether the worker filed it before the cancel (the cancel then sends its key back) or
/// after (the worker sees it cancelled), no entry is left in the wheel and nobody is woken.
/// Before, the entry stayed until its deadline.
#[test]
fn remote_cancel_vs_drain() {
    use actor12_scheduler::loom_api::{TimerInbox, TimerWheel};
    loom::model(|| {
        let inbox = loom::sync::Arc::new(TimerInbox::new());
        let wakes = loom::sync::Arc::new(AtomicUsize::new(0));
        let counter = std::sync::Arc::new(Count(wakes.clone()));
        let sleeper = {
            let (inbox, counter) = (inbox.clone(), counter.clone());
            thread::spawn(move || {
                let timer = inbox.arm(5, Waker::from(counter));
                inbox.cancel(&timer);
            })
        };
        let mut wheel = TimerWheel::default();
        if inbox.has_messages() {
            inbox.drain_into(&mut wheel);
        }
        sleeper.join().unwrap();
        // The worker's next turn.
        if inbox.has_messages() {
            inbox.drain_into(&mut wheel);
        }
        assert!(!inbox.has_messages());
        assert!(wheel.is_empty(), "a cancelled timer stayed in the wheel");
        assert_eq!(wheel.fire_until(10), 0);
        assert_eq!(wakes.load(SeqCst), 0);
        // Every clone of the waker is gone.
        assert_eq!(std::sync::Arc::strong_count(&counter), 1);
    });
}

/// The wheel fires (or its worker leaves and orphans the timer) while the sleep, polled again off
/// the workers just before its deadline, hands the timer another task's waker: that waker is
/// woken, whichever comes first. A waker stored after the fire took the old one used to be
/// woken by nobody.
#[test]
fn fire_or_orphan_vs_repoll_with_another_waker() {
    for orphan in [false, true] {
        loom::model(move || {
            let (first, latest) = (
                loom::sync::Arc::new(AtomicUsize::new(0)),
                loom::sync::Arc::new(AtomicUsize::new(0)),
            );
            let timer = RemoteTimer::new(Waker::from(std::sync::Arc::new(Count(first.clone()))));
            let wheel = {
                let timer = timer.clone();
                thread::spawn(move || if orphan { timer.orphan() } else { timer.fire() })
            };
            timer.repoll(&Waker::from(std::sync::Arc::new(Count(latest.clone()))));
            wheel.join().unwrap();
            assert_eq!(latest.load(SeqCst), 1, "the latest waker was not woken");
            assert!(first.load(SeqCst) <= 1);
        });
    }
}

/// A sleep polled off the workers arms its timer through a worker's inbox while that worker
/// leaves its loop (runtime shutdown): the worker may take the timer into its wheel first, and
/// then closes its inbox and orphans every timer it holds, in the wheel or still in the inbox.
/// The arm either is refused (the sleep then gives the timer to the fallback thread) or its
/// timer is orphaned, which wakes the sleep exactly once: an accepted timer that nobody
/// orphaned would leave its sleep waiting for a wheel that is gone.
#[test]
fn remote_arm_vs_the_workers_exit() {
    use actor12_scheduler::loom_api::{TimerInbox, TimerWheel};
    loom::model(|| {
        let inbox = loom::sync::Arc::new(TimerInbox::new());
        let wakes = loom::sync::Arc::new(AtomicUsize::new(0));
        let counter = std::sync::Arc::new(Count(wakes.clone()));
        let sleeper = {
            let (inbox, counter) = (inbox.clone(), counter.clone());
            thread::spawn(move || inbox.try_arm(5, Waker::from(counter)).is_some())
        };
        // The worker's last turn, then its exit.
        let mut wheel = TimerWheel::default();
        if inbox.has_messages() {
            inbox.drain_into(&mut wheel);
        }
        inbox.close_and_orphan();
        wheel.orphan_all();
        let armed = sleeper.join().unwrap();
        assert_eq!(
            wakes.load(SeqCst),
            usize::from(armed),
            "an accepted timer was not orphaned once, or a refused one woke its sleep"
        );
        assert_eq!(std::sync::Arc::strong_count(&counter), 1, "a waker clone was kept");
    });
}
