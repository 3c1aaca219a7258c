//! loom: the cooperative budget in an actor's run (`scheduler/src/coop.rs`, `actors/src/task.rs`).
//!
//! A send spends a 64th of a unit of the running task's budget; spent, it wakes the task and is
//! pending (`SendFuture::poll`). In an actor the wake is the actor's own waker, a NOTIFY on its
//! mailbox while the worker holds the run token, and the run ends with the token requeued
//! (`task::budget_spent`) instead of going idle. The models check that this hand-over keeps the
//! run token whole against a message pushed meanwhile and against the runtime's shutdown: the
//! refused send runs again, each actor is torn down exactly once, every message is dropped
//! exactly once, and nothing is left queued or listed (a leaked allocation keeps the model
//! runtime's `Arc`, which loom reports).
//!
//! The budget is a thread-local, which loom's threads share (they run on one OS thread): only
//! the thread that runs the actors spends it here, so the sharing changes nothing.
#![cfg(actor12_loom)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use actor12::loom_api::{Actor, Handle};
use actor12_loom_tests::Tracked;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use loom::thread;

/// Spends the running task's budget, a send's share at a time, until a send is refused (which
/// wakes the task, as `SendFuture` does); ready at its next poll. Thread-local work only: it
/// adds no step to loom's schedules.
struct SpendTheBudget(bool);

impl Future for SpendTheBudget {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        let mut sends = 0u32;
        while actor12_scheduler::task::poll_send_budget(cx) {
            sends += 1;
            // Outside a task the budget is unlimited: a run must have reset it.
            assert!(sends <= 1 << 20, "polled outside a task's run");
        }
        self.0 = true;
        Poll::Pending
    }
}

/// Actor A's first future spends its budget (the refusal wakes A and ends its run with the
/// token requeued), then sends a message to actor B through `SendFuture`, which must not be
/// refused again in the new run. With `shutdown`, the runtime shuts down on another thread
/// meanwhile (the task list asks for both tokens); without, a third thread pushes a message to
/// A while its run ends on the spent budget. `after_the_send_is_made`: the shutdown waits until
/// A's second run has begun (the send is made), so that it races the refused send running
/// again; without it, the shutdown came before that run in every execution loom explored (a
/// review of 2026-12-08 counted the send made in none of 6,726, and none at five preemptions).
fn budget_spent_in_an_actors_run(shutdown: bool, after_the_send_is_made: bool) {
    loom::model(move || {
        let rt = Handle::new();
        let (a_torn, b_torn, dropped) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let b = Actor::<Tracked>::spawn(&rt, Tracked(0, b_torn.clone()));
        // The send was made (its message exists, delivered or handed back), and it succeeded.
        let (made, sent) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        let first = {
            let (b, dropped, made, sent) = (b.clone(), dropped.clone(), made.clone(), sent.clone());
            async move {
                SpendTheBudget(false).await;
                made.store(true, SeqCst);
                if b.send_waiting(Tracked(1, dropped)).await.is_ok() {
                    sent.store(true, SeqCst);
                }
            }
        };
        let a = Actor::<Tracked>::spawn_awaiting(&rt, Tracked(0, a_torn.clone()), (), first);
        let other = if shutdown {
            let (rt, made) = (rt.clone(), made.clone());
            thread::spawn(move || {
                while after_the_send_is_made && !made.load(SeqCst) {
                    thread::yield_now();
                }
                rt.shutdown()
            })
        } else {
            let (a, dropped) = (a.clone(), dropped.clone());
            thread::spawn(move || drop(a.send(Tracked(2, dropped))))
        };
        // Yielding between runs: a run that finds a message still being written (`Pop::Busy`)
        // requeues the actor, and loom must let the writer finish.
        while rt.run_one() {
            thread::yield_now();
        }
        other.join().unwrap();
        // A push that came after the worker found the queue empty scheduled its actor.
        while rt.run_one() {}
        if !shutdown {
            assert!(sent.load(SeqCst), "the send refused by the budget never ran again");
            assert_eq!(rt.queued(), 0);
            assert_eq!(dropped.load(SeqCst), 2, "each actor took its message");
            assert_eq!(a_torn.load(SeqCst) + b_torn.load(SeqCst), 0, "stopped early");
            rt.shutdown();
            while rt.run_one() {}
        }
        assert_eq!(a_torn.load(SeqCst), 1, "A torn down exactly once");
        assert_eq!(b_torn.load(SeqCst), 1, "B torn down exactly once");
        let expected = if shutdown { usize::from(made.load(SeqCst)) } else { 2 };
        assert_eq!(dropped.load(SeqCst), expected, "a message dropped twice or never");
        assert_eq!((rt.queued(), rt.bound()), (0, 0));
        drop((a, b));
    });
}

#[test]
fn a_spent_budget_requeues_the_actor_versus_a_push() {
    budget_spent_in_an_actors_run(false, false);
}

#[test]
fn a_spent_budget_requeues_the_actor_versus_shutdown() {
    budget_spent_in_an_actors_run(true, false);
}

#[test]
fn a_spent_budget_requeues_the_actor_versus_shutdown_after_the_send_is_made() {
    budget_spent_in_an_actors_run(true, true);
}
