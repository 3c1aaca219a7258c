//! loom: the actor as the scheduled unit (`actors/src/task.rs`) against runtime shutdown.
//!
//! The run token passes between the mailbox's IDLE bit, the run queue and the worker running
//! the actor; at shutdown the task list only *asks* for it. Whatever the interleaving, the actor
//! is torn down exactly once (its lifecycle dropped once), every message is dropped exactly once,
//! and the allocation is freed: a leak would leave the model runtime's `Arc` alive inside it,
//! which loom reports.
#![cfg(actor12_loom)]

use std::future::Future;

use actor12::loom_api::{Actor, Handle};
use actor12_loom_tests::{Tracked, block_on};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::thread;

/// A spawned actor, its lifecycle's drop counter, and a message drop counter.
fn actor(rt: &Handle) -> (Arc<Actor<Tracked>>, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let torn_down = Arc::new(AtomicUsize::new(0));
    let dropped = Arc::new(AtomicUsize::new(0));
    let actor = Actor::spawn(rt, Tracked(0, torn_down.clone()));
    (Arc::new(actor), torn_down, dropped)
}

/// A message sent to an idle actor races the runtime's shutdown (and the worker that would run
/// the actor): the push's schedule fails after shutdown, or the token is queued and cancelled,
/// or the task list gets it from the IDLE bit.
#[test]
fn send_versus_shutdown() {
    loom::model(|| {
        let rt = Handle::new();
        let (actor, torn_down, dropped) = actor(&rt);
        assert!(rt.run_one(), "the first run was queued");
        assert_eq!(rt.queued(), 0, "the actor went idle");

        let sender = {
            let (actor, dropped) = (actor.clone(), dropped.clone());
            thread::spawn(move || drop(actor.send(Tracked(1, dropped))))
        };
        let stopper = {
            let rt = rt.clone();
            thread::spawn(move || rt.shutdown())
        };
        while rt.run_one() {}
        sender.join().unwrap();
        stopper.join().unwrap();

        assert_eq!(torn_down.load(SeqCst), 1, "torn down exactly once");
        assert_eq!(dropped.load(SeqCst), 1, "the message dropped exactly once");
        assert_eq!((rt.queued(), rt.bound()), (0, 0));
    });
}

/// The task list asks for the run token while a worker is running the actor: the worker must
/// not park the actor in its mailbox (where nobody would ask again) but tear it down.
#[test]
fn run_versus_shutdown() {
    loom::model(|| {
        let rt = Handle::new();
        let (actor, torn_down, _) = actor(&rt);
        let worker = {
            let rt = rt.clone();
            thread::spawn(move || while rt.run_one() {})
        };
        rt.shutdown();
        worker.join().unwrap();

        assert_eq!(torn_down.load(SeqCst), 1, "torn down exactly once");
        assert_eq!((rt.queued(), rt.bound()), (0, 0));
        drop(actor);
    });
}

/// The last link closes the mailbox (the actor ends and leaves the task list) while the runtime
/// shuts down (the list cancels its entry): one teardown, the list entry released once.
#[test]
fn close_versus_shutdown() {
    loom::model(|| {
        let rt = Handle::new();
        let (actor, torn_down, _) = actor(&rt);
        assert!(rt.run_one(), "the first run was queued");

        let closer = {
            let actor = actor.clone();
            thread::spawn(move || actor.close())
        };
        let worker = {
            let rt = rt.clone();
            thread::spawn(move || while rt.run_one() {})
        };
        rt.shutdown();
        closer.join().unwrap();
        worker.join().unwrap();

        assert_eq!(torn_down.load(SeqCst), 1, "torn down exactly once");
        assert_eq!((rt.queued(), rt.bound()), (0, 0));
    });
}

/// A weak link upgrades while the last link is dropped on another thread: either the upgrade
/// comes first (and the part lives until the new link goes) or it fails; the part is dropped
/// exactly once, and the allocation is freed once the weak link goes too.
#[test]
fn upgrade_versus_last_link_dropped() {
    loom::model(|| {
        let rt = Handle::new();
        let dropped = Arc::new(AtomicUsize::new(0));
        let actor =
            Actor::<Tracked, Tracked>::spawn_with_part(&rt, (), Tracked(0, dropped.clone()));
        let weak = actor.downgrade();

        let dropper = thread::spawn(move || drop(actor));
        if let Some(link) = weak.upgrade() {
            assert_eq!(link.part().0, 0, "the part is there while a link is");
            assert_eq!(dropped.load(SeqCst), 0, "the part outlives every link");
        }
        dropper.join().unwrap();

        assert_eq!(dropped.load(SeqCst), 1, "the part dropped exactly once");
        assert!(weak.upgrade().is_none(), "no link once the last is gone");
        // Stop the model actor (its lifecycle does not watch its links) and free it.
        rt.shutdown();
        while rt.run_one() {}
        drop(weak);
    });
}

/// The links' part with its bytes in a loom cell, which the part's `Drop` writes: a link's
/// reading of the part and the last link's drop must be ordered (the count's release and the
/// last link's acquire). The part lies in a std cell in the task (its layout), which loom
/// cannot see; this part's own cell lets it check the ordering.
struct Part(loom::cell::UnsafeCell<u32>);

// SAFETY: shared reads while links live, one write in `Drop` after the last: the model checks
// that these are ordered.
unsafe impl Sync for Part {}

impl Drop for Part {
    fn drop(&mut self) {
        // SAFETY: the last link drops the part, once.
        self.0.with_mut(|p| unsafe { *p = 0 });
    }
}

#[test]
fn a_read_of_the_part_versus_the_last_links_drop() {
    loom::model(|| {
        let rt = Handle::new();
        let actor =
            Actor::<u8, Part>::spawn_with_part(&rt, (), Part(loom::cell::UnsafeCell::new(7)));
        let other = actor.clone();
        let reader = thread::spawn(move || {
            // SAFETY: a link is held: the part is alive and only read.
            assert_eq!(other.part().0.with(|p| unsafe { *p }), 7);
            drop(other);
        });
        drop(actor);
        reader.join().unwrap();
        rt.shutdown();
        while rt.run_one() {}
    });
}

/// Set from another thread; wakes the waker its waiter left (the actor's own).
struct Signal {
    set: AtomicBool,
    waker: loom::sync::Mutex<Option<std::task::Waker>>,
}

impl Signal {
    fn notify(&self) {
        self.set.store(true, SeqCst);
        let waker = self.waker.lock().unwrap().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }
}

/// Ready once the signal is set; sets `seen` then. Keeps a clone of the polling waker.
struct WaitSignal(Arc<Signal>, Arc<AtomicBool>);

impl std::future::Future for WaitSignal {
    type Output = ();
    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if !self.0.set.load(SeqCst) {
            *self.0.waker.lock().unwrap() = Some(cx.waker().clone());
            if !self.0.set.load(SeqCst) {
                return std::task::Poll::Pending;
            }
        }
        self.1.store(true, SeqCst);
        std::task::Poll::Ready(())
    }
}

/// An actor whose lifecycle waits on something other than its mailbox (a reply, a timer),
/// woken through its own waker from another thread, optionally while the runtime shuts down.
/// The wake-up is never lost (the worker below would spin for ever: loom reports it), the actor
/// is torn down once, and its waker's reference is given back (a leak would keep the model
/// runtime's `Arc` alive, which loom reports).
fn woken_by_its_own_waker(with_shutdown: bool) {
    loom::model(move || {
        let rt = Handle::new();
        let torn_down = Arc::new(AtomicUsize::new(0));
        let seen = Arc::new(AtomicBool::new(false));
        let signal =
            Arc::new(Signal { set: AtomicBool::new(false), waker: loom::sync::Mutex::new(None) });
        let wait = WaitSignal(signal.clone(), seen.clone());
        let actor = Actor::<u8>::spawn_awaiting(&rt, Tracked(0, torn_down.clone()), (), wait);
        let notifier = thread::spawn(move || signal.notify());
        let stopper = with_shutdown.then(|| {
            let rt = rt.clone();
            thread::spawn(move || rt.shutdown())
        });
        // A worker: runs what is queued until the actor has seen the signal or was torn down.
        while !seen.load(SeqCst) && torn_down.load(SeqCst) == 0 {
            if !rt.run_one() {
                thread::yield_now();
            }
        }
        notifier.join().unwrap();
        if let Some(stopper) = stopper {
            stopper.join().unwrap();
        }
        drop(actor);
        rt.shutdown();
        while rt.run_one() {}
        assert_eq!(torn_down.load(SeqCst), 1, "torn down exactly once");
        assert_eq!((rt.queued(), rt.bound()), (0, 0));
    });
}

#[test]
fn an_actor_waiting_on_something_else_is_woken_by_its_own_waker() {
    woken_by_its_own_waker(false);
}

#[test]
fn its_own_waker_versus_shutdown() {
    woken_by_its_own_waker(true);
}

/// `Link::wait` (the actor's `stopped` flag and its waiters) racing the actor's stop on a
/// worker: a waiter that registers while the teardown sets the flag and takes the waiters is
/// woken, or sees the flag. Another waiter gives up meanwhile (polled once, then dropped, as a
/// `wait()` that lost a `select`): its entry leaves the list or goes with the stop, and the
/// first waiter's entry stays. A lost wake-up leaves the waiter waiting for ever: loom reports
/// it.
#[test]
fn a_wait_versus_the_actors_stop() {
    loom::model(|| {
        let rt = Handle::new();
        let (actor, torn_down, _) = actor(&rt);
        assert!(rt.run_one(), "the first run was queued");

        let worker = {
            let (rt, actor) = (rt.clone(), actor.clone());
            thread::spawn(move || {
                actor.close();
                while rt.run_one() {}
            })
        };
        let polled = Arc::new(AtomicBool::new(false));
        let quitter = {
            let (actor, polled) = (actor.clone(), polled.clone());
            thread::spawn(move || {
                let mut wait = actor.stopped();
                let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
                let _ = std::pin::Pin::new(&mut wait).poll(&mut cx);
                polled.store(true, SeqCst);
            })
        };
        // The quitter's entry goes in first (unless the stop came first), so that the waiter's
        // is the newer one when the quitter's drop takes its own out.
        while !polled.load(SeqCst) {
            thread::yield_now();
        }
        block_on(actor.stopped());
        assert_eq!(torn_down.load(SeqCst), 1, "resolved only once the actor is torn down");
        worker.join().unwrap();
        quitter.join().unwrap();
        assert_eq!((rt.queued(), rt.bound()), (0, 0));
    });
}
