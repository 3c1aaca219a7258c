//! How an actor stops, at the edges: what its queued askers see while `terminate` or `crash`
//! runs, a `crash` hook that panics, the children of a crashed actor or of one whose `init`
//! spawned them, a token reset and cancelled again, a receiver moved out of its context, weak
//! links to a stopping or stopped actor or waiting on one, and where a `DynLink`'s cancel is
//! recorded, and a `wait()` dropped before the actor stopped.
//!
//! Each test failed before the fix it guards (reviews of the crate on 2026-12-01 and -02).
//! Hangs are detected with bounded waits (a thread blocking on the future, `recv_timeout`),
//! never with sleeps standing in for synchronisation.

mod support;

use std::any::Any;
use std::future::Future;
use std::sync::Mutex;
use std::sync::mpsc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use actor12::cancel::{CancelReason, CancelToken};
use actor12::prelude::*;
use actor12::{ActorContext, ActorReceiver, Call, Multi};
use support::{HANG, actor, resolves_within};

fn runtime(workers: usize) -> actor12::rt::Runtime {
    actor12::rt::Runtime::builder().worker_threads(workers).build().unwrap()
}

/// Handlers every test actor has: `Hold` (awaits a gate), `Boom` (panics), `Ping` (answers).
macro_rules! common_handlers {
    ($name:ident) => {
        impl Handler<Hold> for $name {
            type Reply = anyhow::Result<()>;
            async fn handle(
                &mut self,
                _: Call<'_, Self, Self::Reply>,
                Hold(g): Hold,
            ) -> Self::Reply {
                let _ = g.await;
                Ok(())
            }
        }
        impl Handler<Boom> for $name {
            type Reply = anyhow::Result<()>;
            async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Boom) -> Self::Reply {
                panic!("boom (expected by the test)");
            }
        }
        impl Handler<Ping> for $name {
            type Reply = anyhow::Result<()>;
            async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Ping) -> Self::Reply {
                Ok(())
            }
        }
    };
}

struct Hold(actor12::oneshot::Receiver<()>);
struct Boom;
struct Ping;

fn gate() -> (actor12::oneshot::Sender<()>, Hold) {
    let (tx, rx) = actor12::oneshot::channel();
    (tx, Hold(rx))
}

// With `Terminate::Exit` the mailbox is closed and drained before `terminate` runs: a queued
// asker gets its error at once, however long `terminate` takes.

struct SlowTerminate {
    started: mpsc::Sender<()>,
    gate: Option<actor12::oneshot::Receiver<()>>,
}
actor!(SlowTerminate,
    spec = (mpsc::Sender<()>, Mutex<Option<actor12::oneshot::Receiver<()>>>),
    cancel = (),
    init = |ctx| SlowTerminate { started: ctx.spec.0, gate: ctx.spec.1.into_inner().unwrap() },
    extra = {
        async fn terminate(mut self, _: ActorContext<Self>, _: CancelReason<()>) {
            let _ = self.started.send(());
            if let Some(g) = self.gate.take() {
                let _ = g.await;
            }
        }
    }
);
common_handlers!(SlowTerminate);

/// Says it started, then holds like `Hold`.
struct Entered(actor12::oneshot::Sender<()>, Hold);
impl Handler<Entered> for SlowTerminate {
    type Reply = anyhow::Result<()>;
    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        Entered(on, Hold(g)): Entered,
    ) -> Self::Reply {
        let _ = on.send(());
        let _ = g.await;
        Ok(())
    }
}

#[test]
fn queued_askers_get_their_error_before_terminate_runs() {
    let rt = runtime(2);
    let (started_tx, started) = mpsc::channel();
    let (term_open, term_gate) = actor12::oneshot::channel::<()>();
    let (link, queued) = rt.block_on(async {
        let link = actor12::spawn::<SlowTerminate>((started_tx, Mutex::new(Some(term_gate))));
        let (open, hold) = gate();
        let (entered_tx, entered) = actor12::oneshot::channel();
        let held = link.ask_dyn_async(Entered(entered_tx, hold)).await;
        // Queued behind the held handler.
        let queued = link.ask_dyn_async(Ping).await;
        // The handler runs (so the cancel below cannot overtake it).
        entered.await.unwrap();
        link.cancel(());
        open.send(()).unwrap();
        held.await.unwrap();
        (link, queued)
    });
    started.recv_timeout(HANG).expect("terminate should have started");
    // `terminate` is running (and waiting on its gate). Per the documentation the queued ask was
    // dropped before it, so its asker already has an error.
    let answer = resolves_within(queued);
    let _ = term_open.send(());
    assert!(
        answer.is_some(),
        "the asker of a message queued at cancellation is still waiting while `terminate` runs"
    );
    assert!(answer.unwrap().is_err());
    drop(link);
}

// After a panic the mailbox is closed and drained before the `crash` hook runs: queued askers
// get their error at once, and `alive()` is false, however long the hook takes.

static CRASH_STARTED: Mutex<Option<mpsc::Sender<()>>> = Mutex::new(None);
static CRASH_GATE: Mutex<Option<actor12::oneshot::Receiver<()>>> = Mutex::new(None);

struct SlowCrash;
actor!(
    SlowCrash,
    spec = (),
    cancel = (),
    init = |_ctx| SlowCrash,
    extra = {
        fn crash(_: Box<dyn Any + Send>) -> impl Future<Output = ()> + Send {
            let started = CRASH_STARTED.lock().unwrap().take();
            let gate = CRASH_GATE.lock().unwrap().take();
            async move {
                if let Some(s) = started {
                    let _ = s.send(());
                }
                if let Some(g) = gate {
                    let _ = g.await;
                }
            }
        }
    }
);
common_handlers!(SlowCrash);

#[test]
fn queued_askers_get_their_error_before_the_crash_hook_runs() {
    let rt = runtime(2);
    let (started_tx, started) = mpsc::channel();
    let (crash_open, crash_gate) = actor12::oneshot::channel::<()>();
    *CRASH_STARTED.lock().unwrap() = Some(started_tx);
    *CRASH_GATE.lock().unwrap() = Some(crash_gate);
    let (link, queued) = rt.block_on(async {
        let link = actor12::spawn::<SlowCrash>(());
        let (open, hold) = gate();
        let held = link.ask_dyn_async(hold).await;
        let boom = link.ask_dyn_async(Boom).await;
        let queued = link.ask_dyn_async(Ping).await;
        open.send(()).unwrap();
        held.await.unwrap();
        assert!(boom.await.is_err());
        (link, queued)
    });
    started.recv_timeout(HANG).expect("crash hook should have started");
    let answer = resolves_within(queued);
    let still_alive = link.alive();
    let _ = crash_open.send(());
    assert!(
        answer.is_some(),
        "the asker of a message queued behind a panic is still waiting while `crash` runs"
    );
    assert!(!still_alive, "`alive()` is true while the crash hook runs");
}

// A `crash` hook that panics before it returns its future (a wrong downcast of the payload)
// still ends the actor: queued askers get their error and `Link::wait` resolves.

struct PanickyCrash;
actor!(
    PanickyCrash,
    spec = (),
    cancel = (),
    init = |_ctx| PanickyCrash,
    extra = {
        fn crash(payload: Box<dyn Any + Send>) -> impl Future<Output = ()> + Send {
            // A plausible mistake: the payload of `panic!("literal")` is a `&str`, not a `String`.
            let msg: Box<String> = payload.downcast().expect("crash hook: payload is not a String");
            drop(msg);
            std::future::ready(())
        }
    }
);
common_handlers!(PanickyCrash);

#[test]
fn a_crash_hook_that_panics_still_ends_the_actor() {
    let rt = runtime(2);
    let (link, queued) = rt.block_on(async {
        let link = actor12::spawn::<PanickyCrash>(());
        let (open, hold) = gate();
        let held = link.ask_dyn_async(hold).await;
        let _boom = link.ask_dyn_async(Boom).await;
        let queued = link.ask_dyn_async(Ping).await;
        open.send(()).unwrap();
        held.await.unwrap();
        (link, queued)
    });
    let answer = resolves_within(queued);
    let l2 = link.clone();
    let stopped = resolves_within(async move { l2.wait().await });
    assert!(answer.is_some(), "a queued ask never resolves after the crash hook panicked");
    assert!(stopped.is_some(), "`Link::wait` never resolves after the crash hook panicked");
}

// A crashed actor cancels its token, so the actors it spawned stop, as after a normal stop.

struct Parent;
actor!(Parent, spec = (), cancel = (), init = |_ctx| Parent);
common_handlers!(Parent);

struct Child;
actor!(Child, spec = (), cancel = (), init = |_ctx| Child);

struct SpawnChild;
impl Handler<SpawnChild> for Parent {
    type Reply = anyhow::Result<Link<Child>>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: SpawnChild) -> Self::Reply {
        Ok(actor12::spawn::<Child>(()))
    }
}

#[test]
fn a_crashed_actor_stops_the_actors_it_spawned() {
    let rt = runtime(2);
    rt.block_on(async {
        // Control: a normal stop cancels the child.
        let parent = actor12::spawn::<Parent>(());
        let child = parent.ask_dyn(SpawnChild).await.unwrap();
        parent.cancel_and_wait(()).await;
        assert!(child.token().is_cancelled(), "control: a stopped parent cancels its child");

        // A crash does not.
        let parent = actor12::spawn::<Parent>(());
        let child = parent.ask_dyn(SpawnChild).await.unwrap();
        assert!(parent.ask_dyn(Boom).await.is_err());
        parent.wait().await; // torn down (the default crash hook is immediate)
        assert!(!parent.alive());
        assert!(
            child.token().is_cancelled(),
            "the child of a crashed actor is not cancelled (and is still alive: {})",
            child.alive()
        );
    });
}

// Actors spawned in the body of `init` (before its future is first polled) are children of the
// new actor, as those spawned in a handler are.

struct InitSpawner;
actor!(InitSpawner, spec = mpsc::Sender<Link<Child>>, cancel = (), init = |ctx| {
    let child = actor12::spawn::<Child>(());
    ctx.spec.send(child).unwrap();
    InitSpawner
});

#[test]
fn an_actor_spawned_in_init_is_a_child_of_the_new_actor() {
    let rt = runtime(2);
    rt.block_on(async {
        let (tx, rx) = mpsc::channel();
        let parent = actor12::spawn::<InitSpawner>(tx);
        let child = rx.recv_timeout(HANG).unwrap();
        parent.cancel_and_wait(()).await;
        assert!(
            child.token().is_cancelled(),
            "an actor spawned in its parent's `init` survives the parent's stop"
        );
    });
}

// `CancelToken::reset` on an actor's token (through `Link::token` or `ctx.token`) does not make
// the actor deaf: a later cancel still wakes and stops it.

struct Resetter;
actor!(Resetter, spec = (), cancel = (), init = |_ctx| Resetter);

struct CancelThenReset;
impl Handler<CancelThenReset> for Resetter {
    type Reply = anyhow::Result<()>;
    async fn handle(
        &mut self,
        ctx: Call<'_, Self, Self::Reply>,
        _: CancelThenReset,
    ) -> Self::Reply {
        // "Stop after this message" ... then change one's mind.
        ctx.ctx.token.cancel(());
        ctx.ctx.token.reset();
        Ok(())
    }
}

#[test]
fn cancel_after_reset_still_stops_the_actor() {
    // One worker: the task that cancels below runs only after the actor's run has ended (the
    // actor is parked idle in its mailbox), so there is no race with the actor's own poll.
    let rt = runtime(1);
    let link = rt.block_on(async {
        let link = actor12::spawn::<Resetter>(());
        link.ask_dyn(CancelThenReset).await.unwrap();
        link
    });
    assert!(link.alive() && !link.token().is_cancelled());
    let l2 = link.clone();
    rt.block_on(async move { actor12::rt::spawn(async move { l2.cancel(()) }).await.unwrap() });
    assert!(link.token().is_cancelled());
    let l3 = link.clone();
    let stopped = resolves_within(async move { l3.wait().await });
    assert!(stopped.is_some(), "an actor whose token was reset never notices a later cancel");
}

// `reset` of a token that is not cancelled does nothing: its children still get a later cancel.
#[test]
fn reset_of_an_uncancelled_token_keeps_its_children() {
    let parent = CancelToken::<u8>::new();
    let child = parent.child();
    parent.reset(); // a no-op on an uncancelled token, one would think
    parent.cancel(1);
    assert!(child.is_cancelled(), "the child was detached by `reset` and missed the cancel");
}

// `ctx.rx` is a public field, and a context can escape through `terminate` (with a detached
// receiver). Swapping that receiver with a live actor's own would let any thread consume the
// live actor's mailbox beside its run: two consumers of a single-consumer queue. The receiver
// checks that this thread runs its actor, so the stolen receiver panics instead, and the message
// stays for its actor. (One worker: the demonstration races with nothing.)

static ESCAPED: Mutex<Option<ActorContext<Thief>>> = Mutex::new(None);
static STOLEN: Mutex<Option<ActorReceiver<Multi<Thief>>>> = Mutex::new(None);

struct Thief;
actor!(
    Thief,
    spec = (),
    cancel = (),
    init = |_ctx| Thief,
    extra = {
        async fn terminate(self, ctx: ActorContext<Self>, _: CancelReason<()>) {
            *ESCAPED.lock().unwrap() = Some(ctx);
        }
    }
);
common_handlers!(Thief);

struct Steal(actor12::oneshot::Receiver<()>);
impl Handler<Steal> for Thief {
    type Reply = anyhow::Result<()>;
    async fn handle(
        &mut self,
        mut ctx: Call<'_, Self, Self::Reply>,
        Steal(g): Steal,
    ) -> Self::Reply {
        let mut escaped = ESCAPED.lock().unwrap().take().expect("the first actor's context");
        std::mem::swap(&mut ctx.ctx.rx, &mut escaped.rx);
        *STOLEN.lock().unwrap() = Some(escaped.rx);
        // Park this actor (waiting on something other than its mailbox) so nothing races below.
        let _ = g.await;
        Ok(())
    }
}

#[test]
fn a_live_actors_receiver_cannot_be_used_outside_its_run() {
    // One worker: the victim's runs and the task below never overlap, so the demonstration
    // itself races with nothing (the harm, a concurrent consumer, needs two workers or a thread).
    let rt = runtime(1);
    let (keep_parked, parked) = actor12::oneshot::channel::<()>();
    let (victim, took_a_message) = rt.block_on(async move {
        let first = actor12::spawn::<Thief>(());
        first.cancel_and_wait(()).await; // its `terminate` leaks its context
        let victim = actor12::spawn::<Thief>(());
        let (open, hold) = gate();
        let held = victim.ask_dyn_async(hold).await;
        let stealing = victim.ask_dyn_async(Steal(parked)).await;
        // Queued behind `Steal`: the victim is alive, parked in `Steal`, and would handle it
        // next.
        victim.tell_dyn(Ping).await;
        open.send(()).unwrap();
        held.await.unwrap();
        drop(stealing);
        // A task that is not the victim, holding the victim's live receiver ('static + Send).
        let took = actor12::rt::spawn(async {
            let mut stolen = STOLEN.lock().unwrap().take().expect("the handler swapped receivers");
            let mut cx = Context::from_waker(Waker::noop());
            let catch = |f: &mut dyn FnMut() -> bool| {
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
            };
            // Every way of taking a message out: each one checks.
            let polled = catch(&mut || matches!(stolen.poll_recv(&mut cx), Poll::Ready(Some(_))));
            let tried = catch(&mut || stolen.try_recv().is_ok());
            let many = catch(&mut || {
                let mut buffer = Vec::new();
                let mut many = std::pin::pin!(stolen.recv_many(&mut buffer, 4));
                matches!(many.as_mut().poll(&mut cx), Poll::Ready(n) if n > 0)
            });
            std::mem::forget(stolen);
            [("poll_recv", polled), ("try_recv", tried), ("recv_many", many)]
        })
        .await
        .unwrap();
        (victim, took)
    });
    assert!(victim.alive());
    std::mem::forget(keep_parked);
    std::mem::forget(victim);
    std::mem::forget(rt);
    for (how, took_a_message) in took_a_message {
        let panic = took_a_message.expect_err(how);
        let message = panic.downcast_ref::<&str>().copied().unwrap_or_default();
        assert!(message.contains("outside its actor's run"), "{how}: {message}");
    }
}

// The same stolen receiver, used by a waker that the victim's own teardown runs (a `wait()`
// waker, woken as the actor stops): that waker runs on the victim's worker, inside its run, after
// the mailbox's blocks are released. The receiver took it for the actor's run and popped from a
// freed block (a review of 2026-12-07: SIGSEGV); it refuses it now.

static SNATCH_ESCAPED: Mutex<Option<ActorContext<Snatcher>>> = Mutex::new(None);
static SNATCHED: Mutex<Option<ActorReceiver<Multi<Snatcher>>>> = Mutex::new(None);

struct Snatcher;
actor!(
    Snatcher,
    spec = (),
    cancel = (),
    init = |_ctx| Snatcher,
    extra = {
        async fn terminate(self, ctx: ActorContext<Self>, _: CancelReason<()>) {
            let mut escaped = SNATCH_ESCAPED.lock().unwrap();
            if escaped.is_none() {
                *escaped = Some(ctx);
            } else {
                // The victim's context, holding the first actor's detached receiver.
                std::mem::forget(ctx);
            }
        }
    }
);

/// Swaps the first actor's detached receiver into the victim's context: the victim's `cycle`
/// then finds its receiver closed and stops.
struct Snatch;
impl Handler<Snatch> for Snatcher {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, _: Snatch) -> Self::Reply {
        let mut escaped = SNATCH_ESCAPED.lock().unwrap().take().expect("the first context");
        std::mem::swap(&mut ctx.ctx.rx, &mut escaped.rx);
        *SNATCHED.lock().unwrap() = Some(escaped.rx);
        Ok(())
    }
}

/// A waker that uses the snatched receiver when woken, and reports whether it was refused.
struct Snoop(Mutex<mpsc::Sender<bool>>);
impl std::task::Wake for Snoop {
    fn wake(self: std::sync::Arc<Self>) {
        let Some(mut stolen) = SNATCHED.lock().unwrap().take() else { return };
        let tried = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _ = stolen.try_recv();
        }));
        std::mem::forget(stolen);
        let _ = self.0.lock().unwrap().send(tried.is_err());
    }
}

#[test]
fn a_receiver_stolen_from_an_actor_is_refused_to_a_waker_its_teardown_runs() {
    let rt = runtime(1);
    let (report, refused) = mpsc::channel();
    let victim = rt.block_on(async {
        let first = actor12::spawn::<Snatcher>(());
        first.cancel_and_wait(()).await; // its `terminate` leaks its context
        actor12::spawn::<Snatcher>(())
    });
    let waker = Waker::from(std::sync::Arc::new(Snoop(Mutex::new(report))));
    let mut stopped = Box::pin(victim.wait());
    assert!(stopped.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
    rt.block_on(async { victim.ask_dyn(Snatch).await.unwrap() });
    let refused = refused.recv_timeout(HANG).expect("the victim stopped and woke its waiter");
    assert!(refused, "the stolen receiver was taken for the run tearing its actor down");
    drop(stopped);
    std::mem::forget(victim);
    std::mem::forget(rt);
}

// A weak link to an actor whose last strong link is gone, while that actor is still stopping:
// `cancel_and_wait` waits for the end, as `Link::cancel_and_wait` does (it used to return at
// once, since no strong link could be made).

#[test]
fn a_weak_cancel_and_wait_waits_for_an_actor_still_stopping() {
    let rt = runtime(2);
    let (started_tx, started) = mpsc::channel();
    let (term_open, term_gate) = actor12::oneshot::channel::<()>();
    let weak = rt.block_on(async {
        let link = actor12::spawn::<SlowTerminate>((started_tx, Mutex::new(Some(term_gate))));
        link.ask_dyn(Ping).await.unwrap();
        link.downgrade() // the last strong link goes here: the actor stops
    });
    started.recv_timeout(HANG).expect("terminate should have started");
    assert!(weak.upgrade().is_none() && weak.is_set(), "no strong link is left");
    // `terminate` waits on its gate: the actor cannot finish stopping before it opens.
    let mut waiting = Box::pin(async move { weak.cancel_and_wait(()).await });
    let mut cx = Context::from_waker(Waker::noop());
    assert!(
        waiting.as_mut().poll(&mut cx).is_pending(),
        "cancel_and_wait returned while the actor was still in `terminate`"
    );
    term_open.send(()).unwrap();
    assert!(resolves_within(waiting).is_some(), "cancel_and_wait hung after the actor stopped");
}

// Requests through a weak link to a stopped actor resolve to `ActorError::Dead`, also while
// strong links to it are left (they used to fail as a send to a closed mailbox instead).

#[test]
fn weak_requests_to_a_stopped_actor_are_dead_while_strong_links_are_left() {
    fn is_dead(result: anyhow::Result<()>) -> bool {
        let error = result.expect_err("a request to a stopped actor succeeded");
        matches!(error.downcast_ref::<actor12::ActorError>(), Some(actor12::ActorError::Dead))
    }
    let rt = runtime(2);
    rt.block_on(async {
        let (started_tx, _started) = mpsc::channel();
        let link = actor12::spawn::<SlowTerminate>((started_tx, Mutex::new(None)));
        let weak = link.downgrade();
        link.cancel_and_wait(()).await;
        assert!(weak.upgrade().is_some(), "the strong link is still here");
        assert!(is_dead(weak.ask_dyn(Ping).await), "ask_dyn");
        assert!(is_dead(weak.ask_dyn_async(Ping).await.await), "ask_dyn_async");
        drop(link);
        assert!(is_dead(weak.ask_dyn(Ping).await), "ask_dyn, no strong link left");
    });
}

// `DynLink::cancel` and `cancel_and_wait` record their caller's location in the reason, as
// `Link::cancel` does (they used to record a line inside actor12).

#[test]
fn a_dyn_link_cancel_records_the_callers_location() {
    let rt = runtime(2);
    rt.block_on(async {
        let (started_tx, _started) = mpsc::channel();
        let link = actor12::spawn::<SlowTerminate>((started_tx, Mutex::new(None)));
        let dynamic: actor12::DynLink<Ping> = link.to_dyn();
        let line = line!() + 1;
        dynamic.cancel_and_wait().await;
        let reason = link.token().reason().expect("cancelled");
        assert_eq!((reason.location().file(), reason.location().line()), (file!(), line));
    });
}

// Stopping an actor stops every actor it spawned: also one of another `Cancel` type (it used to
// get a root token), and one spawned from a background task of the actor or from a
// `reply_async` future (they ran without the actor's token).

/// A child with a `Cancel` type of its own.
struct OtherKind;
actor!(OtherKind, spec = (), cancel = u32, init = |_ctx| OtherKind);

/// Spawns a child of another `Cancel` type in the handler and one in a background task of the
/// actor: answers with both.
struct SpawnEverywhere;
impl Handler<SpawnEverywhere> for Parent {
    type Reply = anyhow::Result<Vec<Link<OtherKind>>>;
    async fn handle(
        &mut self,
        mut ctx: Call<'_, Self, Self::Reply>,
        _: SpawnEverywhere,
    ) -> Self::Reply {
        let in_handler = actor12::spawn::<OtherKind>(());
        let (tx, rx) = actor12::oneshot::channel();
        ctx.spawn(async move {
            let _ = tx.send(actor12::spawn::<OtherKind>(()));
        });
        Ok(vec![in_handler, rx.await?])
    }
}

/// Answers from a `reply_async` future that spawns a child of another `Cancel` type.
struct SpawnInReply;
impl Handler<SpawnInReply> for Parent {
    type Reply = anyhow::Result<Link<OtherKind>>;
    async fn handle(
        &mut self,
        mut ctx: Call<'_, Self, Self::Reply>,
        _: SpawnInReply,
    ) -> Self::Reply {
        ctx.reply_async(async { Ok(actor12::spawn::<OtherKind>(())) })
    }
}

#[test]
fn stopping_an_actor_stops_children_of_any_cancel_type_spawned_anywhere_in_it() {
    let rt = runtime(2);
    rt.block_on(async {
        let parent = actor12::spawn::<Parent>(());
        let mut children = parent.ask_dyn(SpawnEverywhere).await.unwrap();
        children.push(parent.ask_dyn(SpawnInReply).await.unwrap());
        assert!(children.iter().all(|c| !c.token().is_cancelled()));
        let line = line!() + 1;
        parent.cancel_and_wait(()).await;
        for (i, child) in children.iter().enumerate() {
            let reason = child.token().reason().unwrap_or_else(|| panic!("child {i} not stopped"));
            assert_eq!(*reason.value(), 0, "child {i}: its type's default reason");
            assert_eq!(reason.location().line(), line, "child {i}: the parent's cancel");
            child.wait().await;
        }
    });
}

// The same escape, then `close()` on the stolen receiver while its actor is idle: the close took
// the actor out of idle, that is took its run token, and dropped it, so the actor never ran
// again. It now schedules the actor, which sees its mailbox closed and stops. (Statics of its
// own: tests run in parallel.)

static ESCAPED_TOO: Mutex<Option<ActorContext<Closer>>> = Mutex::new(None);
static STOLEN_TOO: Mutex<Option<ActorReceiver<Multi<Closer>>>> = Mutex::new(None);

struct Closer;
actor!(
    Closer,
    spec = (),
    cancel = (),
    init = |_ctx| Closer,
    extra = {
        async fn terminate(self, ctx: ActorContext<Self>, _: CancelReason<()>) {
            *ESCAPED_TOO.lock().unwrap() = Some(ctx);
        }
    }
);

/// Swaps receivers with the escaped context, says so, then waits for its gate.
struct Swap(actor12::oneshot::Sender<()>, Hold);
impl Handler<Swap> for Closer {
    type Reply = anyhow::Result<()>;
    async fn handle(
        &mut self,
        mut ctx: Call<'_, Self, Self::Reply>,
        Swap(swapped, Hold(gate)): Swap,
    ) -> Self::Reply {
        let mut escaped = ESCAPED_TOO.lock().unwrap().take().expect("the first actor's context");
        std::mem::swap(&mut ctx.ctx.rx, &mut escaped.rx);
        *STOLEN_TOO.lock().unwrap() = Some(escaped.rx);
        let _ = swapped.send(());
        let _ = gate.await; // the actor goes idle here
        Ok(())
    }
}

#[test]
fn closing_a_stolen_receiver_of_an_idle_actor_stops_it_instead_of_stranding_it() {
    // One worker: the task below runs only after the victim's run has ended (it is idle).
    let rt = runtime(1);
    let (victim, swapping, open) = rt.block_on(async {
        let first = actor12::spawn::<Closer>(());
        first.cancel_and_wait(()).await; // its `terminate` leaks its context
        let victim = actor12::spawn::<Closer>(());
        let (swapped_tx, swapped) = actor12::oneshot::channel();
        let (open, hold) = gate();
        let swapping = victim.ask_dyn_async(Swap(swapped_tx, hold)).await;
        swapped.await.unwrap();
        actor12::rt::spawn(async { STOLEN_TOO.lock().unwrap().as_mut().unwrap().close() })
            .await
            .unwrap();
        (victim, swapping, open)
    });
    open.send(()).unwrap(); // the handler can finish; the closed mailbox then stops the actor
    assert!(resolves_within(swapping).is_some(), "the actor never ran again after the close");
    let wait = victim.clone();
    assert!(resolves_within(async move { wait.wait().await }).is_some(), "it never stopped");
    assert!(!victim.alive());
}

// A waker that panics when woken must not keep the other waiters of a stopping actor waiting:
// they used to be dropped unwoken, and the rest of the teardown skipped.

/// Panics when woken.
struct PanicWake;
impl std::task::Wake for PanicWake {
    fn wake(self: std::sync::Arc<Self>) {
        panic!("a waker that panics (expected by the test)");
    }
}

#[test]
fn a_panicking_wait_waker_does_not_keep_the_other_waiters_waiting() {
    let rt = runtime(1);
    let actor = rt.block_on(async { actor12::spawn::<Parent>(()) });
    let mut first = actor.wait();
    let panicking = Waker::from(std::sync::Arc::new(PanicWake));
    assert!(first.as_mut().poll(&mut Context::from_waker(&panicking)).is_pending());
    // A second waiter, registered after the first (its first poll is pending: the actor runs).
    let (registered_tx, registered) = mpsc::channel();
    let second = {
        let actor = actor.clone();
        async move {
            let mut wait = actor.wait();
            std::future::poll_fn(|cx| {
                let poll = wait.as_mut().poll(cx);
                let _ = registered_tx.send(());
                poll
            })
            .await
        }
    };
    let (done_tx, done) = mpsc::channel();
    let handle = rt.handle();
    std::thread::spawn(move || {
        handle.block_on(second);
        let _ = done_tx.send(());
    });
    registered.recv_timeout(HANG).expect("the second waiter registered");
    actor.cancel(());
    assert!(done.recv_timeout(HANG).is_ok(), "the second waiter was never woken");
    // The worker goes on too.
    let other = rt.block_on(async { actor12::spawn::<Parent>(()) });
    assert!(resolves_within(async move { other.ask_dyn(Ping).await }).is_some());
}

// An actor stopped while its `init` still waits: `init` is dropped unfinished, and nothing waits
// on the actor forever (`cancel_and_wait`, a queued asker, the last link dropped). Both tests hung
// before `init` was raced with the token (review of 2026-12-02, evening).

/// Says when it is dropped.
struct OnDrop(mpsc::Sender<()>);

impl Drop for OnDrop {
    fn drop(&mut self) {
        let _ = self.0.send(());
    }
}

/// An actor whose `init` never finishes; the `OnDrop` it holds tells when it is dropped.
struct StuckInInit;

impl Actor for StuckInInit {
    type Message = Multi<Self>;
    type Spec = mpsc::Sender<()>;
    type Channel = actor12::MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: actor12::Init<'_, Self>) -> impl actor12::InitFuture<Self> {
        let dropped = OnDrop(ctx.spec);
        async move {
            let _dropped = dropped;
            std::future::pending::<()>().await;
            Ok(StuckInInit)
        }
    }
}
common_handlers!(StuckInInit);

#[test]
fn stopping_an_actor_whose_init_waits_drops_init_and_answers_its_askers() {
    let rt = runtime(2);
    let (dropped_tx, dropped) = mpsc::channel();
    let (link, queued) = rt.block_on(async {
        let link = actor12::spawn::<StuckInInit>(dropped_tx);
        let queued = link.ask_dyn_async(Ping).await;
        (link, queued)
    });
    let stopping = link.clone();
    assert!(
        resolves_within(async move { stopping.cancel_and_wait(()).await }).is_some(),
        "cancel_and_wait hung while the actor's init was pending"
    );
    assert!(!link.alive(), "the actor is still alive after cancel_and_wait");
    dropped.recv_timeout(HANG).expect("the unfinished init was not dropped");
    let answer = resolves_within(queued).expect("the asker queued during init hung");
    assert!(answer.is_err(), "the asker queued during init got an answer from no actor");
}

#[test]
fn dropping_the_last_link_stops_an_actor_whose_init_waits() {
    let rt = runtime(2);
    let (dropped_tx, dropped) = mpsc::channel();
    rt.block_on(async { drop(actor12::spawn::<StuckInInit>(dropped_tx)) });
    dropped.recv_timeout(HANG).expect("the actor outlived its last link while init was pending");
}

// Not a fix, a promise the migrating guide makes: an actor that must outlive the actor that
// starts it (a factory's product) is spawned from a plain runtime task, which carries no actor's
// token (actor12 0.0.11 made every actor a root; here an actor's actors are its children).

/// Spawns a child of another `Cancel` type from a plain task, not as a child.
struct SpawnDetached;
impl Handler<SpawnDetached> for Parent {
    type Reply = anyhow::Result<Link<OtherKind>>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: SpawnDetached) -> Self::Reply {
        Ok(actor12::rt::spawn(async { actor12::spawn::<OtherKind>(()) }).await?)
    }
}

#[test]
fn an_actor_spawned_from_a_plain_task_outlives_the_actor_that_started_it() {
    let rt = runtime(2);
    rt.block_on(async {
        let parent = actor12::spawn::<Parent>(());
        let product = parent.ask_dyn(SpawnDetached).await.unwrap();
        parent.cancel_and_wait(()).await;
        assert!(product.alive(), "stopping the parent stopped an actor spawned from a plain task");
        assert!(!product.token().is_cancelled());
        product.cancel_and_wait(7).await;
    });
}

// A send through a weak link that waits, for room in a full mailbox or for its reply, does not
// keep the actor alive: dropping the last strong link still stops it, and the weak call fails.
// Both used to hold a strong link while they waited, so the actor never stopped and the weak
// call never returned.

/// Room for one message; `UntilCancelled` holds the actor until it is asked to stop.
struct Tight {
    stopped: mpsc::Sender<()>,
}
actor!(Tight, spec = mpsc::Sender<()>, cancel = (), init = |ctx| Tight { stopped: ctx.spec },
    extra = {
        fn mailbox_capacity() -> usize {
            1
        }
        async fn terminate(self, _: ActorContext<Self>, _: CancelReason<()>) {
            let _ = self.stopped.send(());
        }
    }
);
common_handlers!(Tight);

/// Says it started, then waits until the actor is asked to stop.
struct UntilCancelled(actor12::oneshot::Sender<()>);
impl Handler<UntilCancelled> for Tight {
    type Reply = anyhow::Result<()>;
    async fn handle(
        &mut self,
        call: Call<'_, Self, Self::Reply>,
        UntilCancelled(started): UntilCancelled,
    ) -> Self::Reply {
        let _ = started.send(());
        call.ctx.token.cancelled().await;
        Ok(())
    }
}

#[test]
fn a_weak_send_waiting_for_room_does_not_keep_the_actor_alive() {
    let rt = runtime(2);
    let (stopped_tx, stopped) = mpsc::channel();
    let (link, weak) = rt.block_on(async {
        let link = actor12::spawn::<Tight>(stopped_tx);
        let (started_tx, started_rx) = actor12::oneshot::channel();
        link.tell_dyn(UntilCancelled(started_tx)).await;
        started_rx.await.unwrap();
        link.tell_dyn(Ping).await; // the one place in the mailbox
        let weak = link.downgrade();
        (link, weak)
    });
    let mut waiting = Box::pin(async move { weak.send_raw(Multi::tell(Ping)).await.is_ok() });
    let mut cx = Context::from_waker(Waker::noop());
    assert!(waiting.as_mut().poll(&mut cx).is_pending(), "the mailbox should be full");
    drop(link); // the last strong link
    stopped.recv_timeout(HANG).expect("the actor should stop with its last strong link");
    assert_eq!(resolves_within(waiting), Some(false), "the weak send should fail, not hang");
}

#[test]
fn a_weak_ask_waiting_for_its_reply_does_not_keep_the_actor_alive() {
    let rt = runtime(2);
    let (stopped_tx, stopped) = mpsc::channel();
    let link = rt.block_on(async { actor12::spawn::<Tight>(stopped_tx) });
    let weak = link.downgrade();
    let (started_tx, started_rx) = actor12::oneshot::channel();
    let mut asking = Box::pin(async move { weak.ask_dyn(UntilCancelled(started_tx)).await });
    let mut cx = Context::from_waker(Waker::noop());
    assert!(asking.as_mut().poll(&mut cx).is_pending(), "the ask should wait for its reply");
    rt.block_on(started_rx).unwrap();
    drop(link); // the last strong link
    stopped.recv_timeout(HANG).expect("the actor should stop with its last strong link");
    // The handler saw the cancel and answered.
    assert!(resolves_within(asking).expect("the weak ask hung").is_ok());
}

// A send waiting for room whose waker holds the actor's last strong link: polled again with
// another waker, or dropped, it drops that waker, which drops the link, which closes the
// mailbox and wakes the waiting senders. The waker was dropped under the waiting senders' lock,
// which the close takes again: the thread deadlocked on itself, and the actor's worker with it
// (a review of 2026-12-07).

/// A waker that owns a link: its drop may be the actor's last link's.
struct LinkWaker(#[allow(dead_code)] Mutex<Option<Link<Tight>>>);
impl std::task::Wake for LinkWaker {
    fn wake(self: std::sync::Arc<Self>) {}
}

#[test]
fn a_waiting_send_whose_waker_holds_the_last_link_can_change_waker_or_give_up() {
    for give_up in [false, true] {
        let rt = runtime(2);
        let (stopped_tx, stopped) = mpsc::channel();
        let link = rt.block_on(async {
            let link = actor12::spawn::<Tight>(stopped_tx);
            let (started_tx, started_rx) = actor12::oneshot::channel();
            link.tell_dyn(UntilCancelled(started_tx)).await;
            started_rx.await.unwrap();
            link.tell_dyn(Ping).await; // the one place in the mailbox
            link
        });
        let weak = link.downgrade();
        let (done_tx, done) = mpsc::channel();
        std::thread::spawn(move || {
            let mut send = Box::pin(async move { weak.tell_dyn(Ping).await });
            let holder = Waker::from(std::sync::Arc::new(LinkWaker(Mutex::new(Some(link)))));
            assert!(send.as_mut().poll(&mut Context::from_waker(&holder)).is_pending());
            drop(holder); // the waiting senders' copy now holds the last link
            if give_up {
                drop(send);
            } else {
                let _ = send.as_mut().poll(&mut Context::from_waker(Waker::noop()));
            }
            done_tx.send(()).unwrap();
        });
        done.recv_timeout(HANG).expect("the sender deadlocked");
        stopped.recv_timeout(HANG).expect("the actor stops with its last link");
    }
}

// An actor spawned under a cancelled parent starts cancelled; once its token is reset it runs,
// and it must still stop when cancelled again. Its wake-up hook used to be refused at spawn (the
// token was cancelled then), so the later cancel never woke it and `cancel_and_wait` hung.
//
// The child must not run before its token is reset, or it stops at once. A spawn on a worker
// runs the new actor's first run inside the spawn, unless the spawn comes from such a first run
// itself: then the actor is queued. So the parent does it all in its `init`'s future, and is
// spawned from a task on the runtime's one worker.

/// Cancels its own token in its `init`'s future, spawns a child under it there (cancelled from
/// the start), resets the child's token and sends the child out.
struct BearsCancelled;
actor!(BearsCancelled, spec = mpsc::Sender<Link<Tight>>, cancel = (), init_future = |ctx| {
    let (out, token) = (ctx.spec, ctx.token.clone());
    async move {
        token.cancel(());
        let (stopped, _) = mpsc::channel();
        let child = actor12::spawn::<Tight>(stopped);
        assert!(child.token().is_cancelled(), "a child of a cancelled actor starts cancelled");
        child.token().reset();
        out.send(child).expect("the test waits for the child");
        Ok(BearsCancelled)
    }
});

#[test]
fn a_child_born_cancelled_and_reset_stops_when_cancelled_again() {
    let rt = runtime(1);
    let (out, child) = mpsc::channel();
    rt.block_on(rt.spawn(async move { drop(actor12::spawn::<BearsCancelled>(out)) })).unwrap();
    let child = child.recv_timeout(HANG).expect("the parent's init ran");
    rt.block_on(async { child.ask_dyn(Ping).await }).expect("the reset child runs");
    let stopping = {
        let child = child.clone();
        async move { child.cancel_and_wait(()).await }
    };
    assert!(resolves_within(stopping).is_some(), "the child did not stop when cancelled again");
    assert!(!child.alive());
}

// A `Proxy` made inside an actor is that actor's child, as an actor spawned there would be: its
// outer link stops with it. Its relay used to get a root token, so the outer link outlived the
// actor and its askers waited for a `reset` that nobody would make.

struct Host;
actor!(Host, spec = (), cancel = (), init = |_ctx| Host);

/// Makes a proxy of a [`Tight`], starts it, and returns it with its outer link.
struct MakeProxy(mpsc::Sender<()>);
impl Handler<MakeProxy> for Host {
    type Reply = anyhow::Result<(actor12::Proxy<Tight>, Link<Tight>)>;
    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        MakeProxy(stopped): MakeProxy,
    ) -> Self::Reply {
        let (proxy, outer) = actor12::Proxy::<Tight>::new(stopped);
        proxy.init();
        Ok((proxy, outer))
    }
}

#[test]
fn a_proxy_made_inside_an_actor_stops_with_it() {
    let rt = runtime(2);
    let (stopped_tx, stopped) = mpsc::channel();
    let (proxy, outer) = rt.block_on(async {
        let host = actor12::spawn::<Host>(());
        let made = host.ask_dyn(MakeProxy(stopped_tx)).await.unwrap();
        made.1.ask_dyn(Ping).await.expect("the incarnation answers");
        host.cancel_and_wait(()).await;
        made
    });
    stopped.recv_timeout(HANG).expect("the incarnation stops with the host");
    let asking = {
        let outer = outer.clone();
        async move { outer.ask_dyn(Ping).await }
    };
    let answer = resolves_within(asking).expect("the ask waited for a reset");
    assert!(answer.is_err(), "the outer link should have stopped with the host");
    assert!(!outer.alive());
    drop(proxy);
}

// An actor torn down by its runtime's shutdown, idle or in the middle of a handler, finds
// itself stopped in its destructors, as one stopped by a panic does: the mailbox closes before
// the lifecycle, with the actor's state and the handler's future, is dropped. It was dropped
// with the mailbox still open, `alive()` true (found by a review of where user code runs).

/// Records, as it is dropped, whether its actor still looked alive.
struct SeesItself {
    me: actor12::WeakLink<SeesItself>,
    seen: mpsc::Sender<bool>,
}

impl Drop for SeesItself {
    fn drop(&mut self) {
        let _ = self.seen.send(self.me.alive());
    }
}

actor!(SeesItself, spec = mpsc::Sender<bool>, cancel = (),
    init = |ctx| SeesItself { me: ctx.link.downgrade(), seen: ctx.spec });
common_handlers!(SeesItself);

/// A panic in a handler: the unwinding drops the actor, after its context, whose receiver
/// closes the mailbox first. It was dropped with the mailbox open, `alive()` true.
#[test]
fn a_panicking_actor_is_stopped_in_its_destructor() {
    support::quiet_booms();
    for workers in [1, 2] {
        let rt = runtime(workers);
        let (seen_tx, seen) = mpsc::channel();
        let actor = rt.block_on(async {
            let actor = actor12::spawn::<SeesItself>(seen_tx);
            assert!(actor.ask_dyn(Boom).await.is_err());
            actor
        });
        let alive = seen.recv_timeout(HANG).expect("the actor was not dropped");
        assert!(!alive, "alive() in the actor's drop on a panic ({workers} workers)");
        assert!(!actor.alive());
    }
}

#[test]
fn an_actor_torn_down_by_a_shutdown_is_stopped_in_its_destructors() {
    for mid_handler in [false, true] {
        let rt = runtime(1);
        let (seen_tx, seen) = mpsc::channel();
        let (_open, gate) = actor12::oneshot::channel();
        let actor = rt.block_on(async {
            let actor = actor12::spawn::<SeesItself>(seen_tx);
            actor.ask_dyn(Ping).await.expect("the actor answers");
            if mid_handler {
                // Held by a handler that waits for good (or still queued when the drop comes).
                actor.send_message(HandlerMessage::new(Hold(gate))).await.forget();
            }
            actor
        });
        drop(rt);
        let alive = seen.recv_timeout(HANG).expect("the actor was not dropped");
        assert!(!alive, "alive() in the actor's drop at shutdown (mid-handler: {mid_handler})");
        assert!(!actor.alive());
    }
}

// A `Proxy` whose relay runs on one runtime and its incarnation on another: dropping the
// relay's runtime drops the relay unfinished, which now cancels the outer link's token, below
// which the incarnation was spawned, so the incarnation stops too. It ran on for as long as the
// proxy was kept (found by a review of several runtimes in one process).

#[test]
fn a_proxy_whose_relays_runtime_is_dropped_stops_its_incarnation_on_another_runtime() {
    for started in [false, true] {
        let relays = runtime(1);
        let incarnations = runtime(2);
        let (stopped_tx, stopped) = mpsc::channel();
        let (proxy, outer) = relays.block_on(async { actor12::Proxy::<Tight>::new(stopped_tx) });
        incarnations.block_on(async { proxy.init() });
        if started {
            // The relay has run and waits for the next message.
            let asker = outer.clone();
            let answer = resolves_within(async move { asker.ask_dyn(Ping).await });
            answer.expect("the ask hung").expect("the incarnation answers");
        }
        drop(relays);
        assert!(outer.token().is_cancelled(), "the outer link's token (started: {started})");
        stopped.recv_timeout(HANG).expect("the incarnation ran on without its relay");
        assert!(!proxy.current().expect("the last incarnation").alive());
        drop(proxy);
    }
}

// A `Proxy`'s relay passes each message on to the current incarnation. The one it holds when
// that incarnation stops (the incarnation's mailbox was full) goes to the next incarnation, as
// the messages still queued do; it used to be dropped, and its asker got an error.

#[test]
fn a_message_the_proxy_holds_when_its_incarnation_stops_goes_to_the_next() {
    let rt = runtime(2);
    let (stopped_tx, _stopped) = mpsc::channel();
    let (proxy, outer) = actor12::Proxy::<Tight>::new(stopped_tx);
    proxy.init();
    // The incarnation is busy until it is cancelled, with its one place taken.
    let (started_tx, started_rx) = actor12::oneshot::channel();
    rt.block_on(async {
        outer.tell_dyn(UntilCancelled(started_tx)).await;
        started_rx.await.unwrap();
        outer.tell_dyn(Ping).await;
    });
    // Step one of the two-step API returns once the ask is in the outer mailbox.
    let held = rt.block_on(outer.send_message(actor12::HandlerMessage::new(Ping)));
    // That mailbox also has one place: once it takes another message, the relay has taken the
    // ask out of it, and holds it (the incarnation has no room).
    let deadline = std::time::Instant::now() + HANG;
    while outer.try_send_raw(Multi::tell(Ping)).is_err() {
        assert!(std::time::Instant::now() < deadline, "the relay never took the ask");
        std::thread::yield_now();
    }
    rt.block_on(proxy.shutdown());
    proxy.reset();
    let answer = rt.block_on(held.reply());
    assert!(matches!(answer, Ok(Ok(()))), "the held ask was dropped: {answer:?}");
}

// Waiting for a proxy's outer link to stop waits for its incarnation to stop too: it used to
// return once the relay had stopped, with the incarnation still in `terminate`.

/// Takes a while in `terminate`, then says so in the log.
struct SlowStop {
    log: std::sync::Arc<Mutex<Vec<&'static str>>>,
}
actor!(SlowStop,
    spec = std::sync::Arc<Mutex<Vec<&'static str>>>,
    cancel = (),
    init = |ctx| SlowStop { log: ctx.spec },
    extra = {
        async fn terminate(self, _: ActorContext<Self>, _: CancelReason<()>) {
            // Not synchronisation: it leaves a wait that returns too early the time to do so.
            actor12::time::sleep(Duration::from_millis(50)).await;
            self.log.lock().unwrap().push("incarnation stopped");
        }
    }
);
common_handlers!(SlowStop);

#[test]
fn cancel_and_wait_on_a_proxy_waits_for_its_incarnation() {
    let rt = runtime(2);
    let log = std::sync::Arc::new(Mutex::new(Vec::new()));
    let (proxy, outer) = actor12::Proxy::<SlowStop>::new(log.clone());
    proxy.init();
    rt.block_on(async {
        outer.ask_dyn(Ping).await.unwrap();
        outer.cancel_and_wait(()).await;
    });
    log.lock().unwrap().push("outer stopped");
    assert_eq!(*log.lock().unwrap(), ["incarnation stopped", "outer stopped"]);
}

// The same after dropping the `Proxy`, which stops both too: the outer link's `wait` returned
// once the relay had stopped, with the incarnation still in `terminate` (the proxy's drop took
// the incarnation away from the relay, which then had nothing to wait for).

#[test]
fn waiting_on_a_proxys_outer_link_after_dropping_the_proxy_waits_for_its_incarnation() {
    let rt = runtime(2);
    let log = std::sync::Arc::new(Mutex::new(Vec::new()));
    let (proxy, outer) = actor12::Proxy::<SlowStop>::new(log.clone());
    proxy.init();
    rt.block_on(async {
        outer.ask_dyn(Ping).await.unwrap();
        drop(proxy);
        outer.wait().await;
    });
    log.lock().unwrap().push("outer stopped");
    assert_eq!(*log.lock().unwrap(), ["incarnation stopped", "outer stopped"]);
    assert!(!outer.alive());
}

// A `wait()` future dropped before the actor stopped (raced with a reply or a timeout, then
// dropped) kept its waker until the actor stopped: with a new task per request, every such
// task's waker, and the task it keeps alive, piled up for the actor's whole life (review of
// 2026-12-03).

/// Says when it is woken; its `Arc`'s count says whether anybody still holds it.
#[derive(Default)]
struct TellWake(Mutex<Option<mpsc::Sender<()>>>);
impl std::task::Wake for TellWake {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        if let Some(tx) = &*self.0.lock().unwrap() {
            let _ = tx.send(());
        }
    }
}

#[test]
fn a_dropped_wait_future_lets_go_of_its_waker() {
    use std::sync::Arc;
    let rt = runtime(1);
    let actor = rt.block_on(async { actor12::spawn::<Parent>(()) });
    let pending_with = |waker: &Arc<TellWake>| {
        let mut wait = actor.wait();
        let waker = Waker::from(waker.clone());
        assert!(wait.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
        wait
    };
    // Two waiters that stay, with dropped ones before, between and after them.
    let dropped: Vec<Arc<TellWake>> = (0..30).map(|_| Arc::default()).collect();
    let (woken_tx, woken) = mpsc::channel();
    let kept: Vec<Arc<TellWake>> =
        (0..2).map(|_| Arc::new(TellWake(Mutex::new(Some(woken_tx.clone()))))).collect();
    let mut waits = Vec::new();
    for (i, waker) in dropped.iter().enumerate() {
        drop(pending_with(waker));
        if i % 15 == 0 {
            waits.push(pending_with(&kept[i / 15]));
        }
    }
    for waker in &dropped {
        assert_eq!(Arc::strong_count(waker), 1, "a dropped `wait()` still holds its waker");
    }
    actor.cancel(());
    for _ in &kept {
        woken.recv_timeout(HANG).expect("a waiting `wait()` was not woken");
    }
    drop(waits);
}

/// A waker that owns a future, as a simple executor's task does; waking it does nothing here.
struct OwnsAFuture(
    #[allow(dead_code, reason = "only dropped")] Mutex<actor12::BoxFuture<'static, ()>>,
);

impl std::task::Wake for OwnsAFuture {
    fn wake(self: std::sync::Arc<Self>) {}
}

#[test]
fn a_wait_polled_again_drops_its_old_waker_outside_the_lock() {
    // The new waker replaced the old one under the actor's lock of `wait()` entries: the old
    // one's drop (foreign code) dropped another `wait()` of the same actor, whose drop takes
    // that lock, and the thread deadlocked.
    let rt = runtime(1);
    let actor = rt.block_on(async { actor12::spawn::<Parent>(()) });
    let (first_link, second_link) = (actor.clone(), actor.clone());
    let (done_tx, done) = mpsc::channel();
    std::thread::spawn(move || {
        let plain = Waker::noop();
        let mut second: actor12::BoxFuture<'static, ()> =
            Box::pin(async move { second_link.wait().await });
        assert!(second.as_mut().poll(&mut Context::from_waker(plain)).is_pending());
        let owner = Waker::from(std::sync::Arc::new(OwnsAFuture(Mutex::new(second))));
        let mut first = Box::pin(async move { first_link.wait().await });
        assert!(first.as_mut().poll(&mut Context::from_waker(&owner)).is_pending());
        drop(owner); // the entry's copy now owns the second `wait()`
        assert!(first.as_mut().poll(&mut Context::from_waker(plain)).is_pending());
        let _ = done_tx.send(());
    });
    if done.recv_timeout(HANG).is_err() {
        // The stuck thread holds the lock, which the runtime's teardown would wait for.
        std::mem::forget((rt, actor));
        panic!("the second poll of `wait()` deadlocked");
    }
}

// An actor that stops itself (`tick`'s `Break`) cancels its token with that reason once
// `terminate` returns, and its children run until then: also when its last link goes during
// `terminate`. That drop used to cancel the token at once with the default reason: with the
// actor's own link, kept in itself and dropped with it in `terminate`, every time.

struct SelfStopper {
    _me: Option<Link<SelfStopper>>,
    child: Option<Link<Idle>>,
    started: mpsc::Sender<()>,
    gate: Option<actor12::oneshot::Receiver<()>>,
    fired: bool,
}
/// (keep its own link, says `terminate` started, the gate `terminate` waits on, where its
/// token and its child's go)
type SelfStopperSpec = (
    bool,
    mpsc::Sender<()>,
    Mutex<Option<actor12::oneshot::Receiver<()>>>,
    mpsc::Sender<(CancelToken<u32>, CancelToken<()>)>,
);
actor!(
    SelfStopper,
    spec = SelfStopperSpec,
    cancel = u32,
    init = |ctx| {
        let (keep, started, gate, out) = ctx.spec;
        let child = actor12::spawn::<Idle>(());
        out.send((ctx.token.clone(), child.token().clone())).unwrap();
        SelfStopper {
            _me: keep.then_some(ctx.link),
            child: Some(child),
            started,
            gate: gate.into_inner().unwrap(),
            fired: false,
        }
    },
    extra = {
        async fn tick(&mut self) -> std::ops::ControlFlow<u32> {
            if self.fired {
                std::future::pending::<()>().await;
            }
            self.fired = true;
            std::ops::ControlFlow::Break(5)
        }
        async fn terminate(mut self, _: ActorContext<Self>, _: CancelReason<u32>) {
            let _ = self.started.send(());
            if let Some(gate) = self.gate.take() {
                let _ = gate.await;
            }
            drop(self.child.take());
        }
    }
);

struct Idle;
actor!(Idle, spec = (), cancel = (), init = |_ctx| Idle);

/// Spawns a [`SelfStopper`]; returns its link (`None` if it keeps its own), the tokens, the
/// `terminate` started signal and the gate's key.
#[allow(clippy::type_complexity, reason = "a test's plumbing, used twice")]
fn self_stopper(
    rt: &actor12::rt::Runtime,
    keep: bool,
) -> (
    Option<Link<SelfStopper>>,
    CancelToken<u32>,
    CancelToken<()>,
    mpsc::Receiver<()>,
    actor12::oneshot::Sender<()>,
) {
    let (started_tx, started) = mpsc::channel();
    let (open, gate) = actor12::oneshot::channel();
    let (out, tokens) = mpsc::channel();
    let spec = (keep, started_tx, Mutex::new(Some(gate)), out);
    let link = rt.block_on(async { actor12::spawn::<SelfStopper>(spec) });
    let (token, child) = tokens.recv_timeout(HANG).unwrap();
    (if keep { None } else { Some(link) }, token, child, started, open)
}

#[test]
fn a_self_stop_cancels_with_its_reason_also_when_the_actor_keeps_its_own_link() {
    let rt = runtime(2);
    for keep in [false, true] {
        let (link, token, child, started, open) = self_stopper(&rt, keep);
        started.recv_timeout(HANG).expect("terminate started");
        assert!(!child.is_cancelled(), "keeps its own link: {keep}");
        let _ = open.send(());
        let reason = resolves_within(async move { *token.cancelled().await.value() });
        assert_eq!(reason, Some(5), "keeps its own link: {keep}");
        assert_eq!(child.reason().map(|r| *r.value()), Some(()));
        drop(link);
    }
}

/// Stops itself from `tick` with reason 7 once `fire` resolves; `ProcessAll` if the spec says
/// so. Its `Stall` says it started and waits for its gate; its `Carry` holds a link to it.
struct TickStopper {
    fire: Option<actor12::oneshot::Receiver<()>>,
    process_all: bool,
}
struct Stall(actor12::oneshot::Sender<()>, actor12::oneshot::Receiver<()>);
struct Carry(#[allow(dead_code, reason = "held, to be dropped")] Link<TickStopper>);

impl Actor for TickStopper {
    type Message = Multi<Self>;
    type Spec = (actor12::oneshot::Receiver<()>, bool);
    type Channel = MpscChannel<Self::Message>;
    type Cancel = u32;
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let (fire, process_all) = ctx.spec;
        std::future::ready(Ok(TickStopper { fire: Some(fire), process_all }))
    }
    fn termination_strategy(&mut self) -> actor12::Terminate {
        if self.process_all { actor12::Terminate::ProcessAll } else { actor12::Terminate::Exit }
    }
    async fn tick(&mut self) -> std::ops::ControlFlow<u32> {
        match &mut self.fire {
            Some(fire) => {
                let _ = fire.await;
                self.fire = None;
                std::ops::ControlFlow::Break(7)
            }
            None => std::future::pending().await,
        }
    }
}

impl Handler<Stall> for TickStopper {
    type Reply = anyhow::Result<()>;
    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        Stall(started, gate): Stall,
    ) -> Self::Reply {
        let _ = started.send(());
        let _ = gate.await;
        Ok(())
    }
}

impl Handler<Carry> for TickStopper {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Carry) -> Self::Reply {
        Ok(())
    }
}

/// Tells `actor` a `Stall` and waits until its handler runs; returns the key to its gate.
async fn held(actor: &Link<TickStopper>) -> actor12::oneshot::Sender<()> {
    let (started_tx, started) = actor12::oneshot::channel();
    let (open, gate) = actor12::oneshot::channel();
    actor.tell_dyn(Stall(started_tx, gate)).await;
    started.await.unwrap();
    open
}

// A self-stop's reason reaches the token also when the last link goes while the queue is
// drained: dropped with a queued message (`Exit`) or while the drain handles one
// (`ProcessAll`). The token was told of the stop only after the drain, and that drop cancelled
// it at once with the default reason (a review of 2026-12-07).
#[test]
fn a_self_stop_keeps_its_reason_when_a_queued_message_holds_the_last_link() {
    let reason = resolves_within(async {
        let (fire, fired) = actor12::oneshot::channel();
        let actor = actor12::spawn::<TickStopper>((fired, false));
        let token = actor.token().clone();
        let open = held(&actor).await;
        actor.tell_dyn(Carry(actor.clone())).await;
        drop(actor);
        fire.send(()).unwrap();
        open.send(()).unwrap(); // `tick` breaks; `Exit` drops `Carry`, and the last link
        *token.cancelled().await.value()
    });
    assert_eq!(reason, Some(7), "the token's reason is not the tick's");
}

#[test]
fn a_self_stop_keeps_its_reason_when_the_last_link_goes_during_the_drain() {
    let reason = resolves_within(async {
        let (fire, fired) = actor12::oneshot::channel();
        let actor = actor12::spawn::<TickStopper>((fired, true));
        let token = actor.token().clone();
        let first = held(&actor).await;
        let (started_tx, started) = actor12::oneshot::channel();
        let (second, gate) = actor12::oneshot::channel();
        actor.tell_dyn(Stall(started_tx, gate)).await; // queued: the drain handles it
        fire.send(()).unwrap();
        first.send(()).unwrap();
        started.await.unwrap(); // the drain is in the second `Stall`
        drop(actor);
        second.send(()).unwrap();
        *token.cancelled().await.value()
    });
    assert_eq!(reason, Some(7), "the token's reason is not the tick's");
}

#[test]
fn children_still_run_during_terminate_when_the_last_link_goes_then() {
    let rt = runtime(2);
    let (link, token, child, started, open) = self_stopper(&rt, false);
    started.recv_timeout(HANG).expect("terminate started");
    drop(link); // the last link, while `terminate` waits
    assert!(!child.is_cancelled(), "the child was cancelled while terminate still ran");
    assert!(!token.is_cancelled(), "the token was cancelled while terminate still ran");
    let _ = open.send(());
    let reason = resolves_within(async move { *token.cancelled().await.value() });
    assert_eq!(reason, Some(5));
}

// The same stop, with `ctx.link` emptied or pointed at another actor by the actor's own code
// (`WeakLink` is the user's to change): the token still gets the actor's reason, and the other
// actor is left alone. A first version of the fix above kept `ctx.link.upgrade()` across
// `terminate` and cancelled that link's token: the reason was lost, or the other actor stopped.

struct Relinker {
    /// `Some(..)`: stop at once, first pointing `ctx.link` at the inner link (`None`: emptying
    /// it).
    stop: Option<Option<Link<Relinker>>>,
}
actor!(Relinker,
    spec = (Mutex<Option<Option<Link<Relinker>>>>, mpsc::Sender<CancelToken<u32>>),
    cancel = u32,
    init = |ctx| {
        let (stop, out) = ctx.spec;
        out.send(ctx.token.clone()).unwrap();
        Relinker { stop: stop.into_inner().unwrap() }
    },
    extra = {
        async fn cycle(
            &mut self,
            ctx: &mut ActorContext<Self>,
        ) -> std::ops::ControlFlow<CancelReason<u32>> {
            match self.stop.take() {
                None => std::future::pending().await,
                Some(None) => ctx.link = actor12::WeakLink::new(),
                Some(Some(other)) => ctx.link.set(&other),
            }
            std::ops::ControlFlow::Break(CancelReason::new(5u32))
        }
    }
);

fn relinker(
    rt: &actor12::rt::Runtime,
    stop: Option<Option<Link<Relinker>>>,
) -> (Link<Relinker>, CancelToken<u32>) {
    let (out, tokens) = mpsc::channel();
    let link = rt.block_on(async move { actor12::spawn::<Relinker>((Mutex::new(stop), out)) });
    (link, tokens.recv_timeout(HANG).unwrap())
}

#[test]
fn a_self_stop_keeps_its_reason_when_the_actor_emptied_its_ctx_link() {
    let rt = runtime(2);
    let (_link, token) = relinker(&rt, Some(None));
    let reason = resolves_within(async move { *token.cancelled().await.value() });
    assert_eq!(reason, Some(5), "the stop reason was replaced by the default");
}

#[test]
fn a_self_stop_leaves_the_actor_its_ctx_link_was_pointed_at_alone() {
    let rt = runtime(2);
    let (other, other_token) = relinker(&rt, None);
    let (_link, token) = relinker(&rt, Some(Some(other.clone())));
    let reason = resolves_within(async move { *token.cancelled().await.value() });
    assert_eq!(reason, Some(5));
    assert!(other.alive() && !other_token.is_cancelled(), "the other actor was stopped");
}

// A `cycle` of the user's that receives until `None` and never looks at its token stops once its
// last link is dropped, after taking what was queued, as with actor12 0.0.11 (dropping the last
// sender closed its channel); it ran for good, its `terminate` never called (a review of
// 2026-12-07).
struct Drainer(mpsc::Sender<&'static str>);
struct Note;

impl Actor for Drainer {
    type Message = Multi<Self>;
    type Spec = mpsc::Sender<&'static str>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Drainer(ctx.spec)))
    }
    async fn cycle(
        &mut self,
        ctx: &mut ActorContext<Self>,
    ) -> std::ops::ControlFlow<CancelReason<()>> {
        match ctx.rx.recv().await {
            Some(msg) => {
                Actor::handle(self, actor12::Exec::new(ctx), msg).await;
                std::ops::ControlFlow::Continue(())
            }
            None => std::ops::ControlFlow::Break(CancelReason::default()),
        }
    }
    async fn terminate(self, _: ActorContext<Self>, _: CancelReason<()>) {
        let _ = self.0.send("terminated");
    }
}

impl Handler<Note> for Drainer {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Note) -> Self::Reply {
        let _ = self.0.send("note");
        Ok(())
    }
}

#[test]
fn a_cycle_receiving_until_none_stops_when_the_last_link_is_dropped() {
    let rt = runtime(2);
    let (events, seen) = mpsc::channel();
    let weak = rt.block_on(async move {
        let link = actor12::spawn::<Drainer>(events);
        link.tell_dyn(Note).await;
        link.tell_dyn(Note).await;
        link.downgrade()
    }); // the last link is dropped here
    // Its cancel is lost on this actor, which ignores its token: only the close can end it.
    assert!(resolves_within(async move { weak.cancel_and_wait(()).await }).is_some());
    let events: Vec<_> = seen.try_iter().collect();
    assert_eq!(events, ["note", "note", "terminated"]);
}

// An actor whose handler holds its worker past a runtime's shutdown deadline takes no more
// messages once the handler returns: it is torn down, its queued askers get their error. It
// went on with the rest of its batch, and with messages sent after `shutdown_timeout` returned
// (a review of 2026-12-07).
struct Stuck(std::sync::Arc<std::sync::atomic::AtomicUsize>);
struct Block(mpsc::Sender<()>, mpsc::Receiver<()>);
struct Work;

impl Actor for Stuck {
    type Message = Multi<Self>;
    type Spec = std::sync::Arc<std::sync::atomic::AtomicUsize>;
    type Channel = MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        std::future::ready(Ok(Stuck(ctx.spec)))
    }
}

impl Handler<Block> for Stuck {
    type Reply = anyhow::Result<()>;
    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        Block(entered, gate): Block,
    ) -> Self::Reply {
        entered.send(()).unwrap();
        let _ = gate.recv(); // blocks the worker (on purpose) until the test opens the gate
        Ok(())
    }
}

impl Handler<Work> for Stuck {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Work) -> Self::Reply {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

#[test]
fn an_actor_left_running_by_a_shutdown_takes_no_more_messages() {
    let stuck_rt = runtime(1);
    let asking = runtime(1);
    let handled = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let link = stuck_rt.block_on(async { actor12::spawn::<Stuck>(handled.clone()) });
    let (entered_tx, entered) = mpsc::channel();
    let (open, gate) = mpsc::channel();
    let blocked = asking.block_on(link.send_message(HandlerMessage::new(Block(entered_tx, gate))));
    entered.recv().unwrap();
    let queued: Vec<_> =
        (0..3).map(|_| asking.block_on(link.send_message(HandlerMessage::new(Work)))).collect();
    stuck_rt.shutdown_timeout(Duration::from_millis(50)); // gives up on the stuck worker
    let late = asking.block_on(link.send_message(HandlerMessage::new(Work)));
    open.send(()).unwrap();
    for handle in queued.into_iter().chain([late]) {
        let reply = resolves_within(handle.reply()).expect("an ask hung");
        assert!(reply.is_err(), "a message was handled after the shutdown");
    }
    let _ = asking.block_on(blocked.reply());
    assert_eq!(handled.load(std::sync::atomic::Ordering::SeqCst), 0);
}
