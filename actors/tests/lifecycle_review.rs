//! The lifecycle's promises that other suites leave out (review of 2026-12-04): what `init`'s
//! future may do to its own actor (ask it, wait for its stop, tell it past a full mailbox),
//! `mailbox_capacity`'s edge values, the payload `crash` gets and a `crash` that awaits, the
//! reason `terminate` gets when an actor is cancelled twice, and `ProcessAll` after `tick`
//! breaks. All passed as written.
//!
//! Hangs are detected with bounded waits, never with sleeps standing in for synchronisation.

use std::future::Future;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use actor12::cancel::CancelReason;
use actor12::prelude::*;
use actor12::{ActorContext, Call, Multi, Terminate};
use support::{HANG, actor, resolves_within};

mod support;

fn runtime(workers: usize) -> actor12::rt::Runtime {
    actor12::rt::Runtime::builder().worker_threads(workers).build().unwrap()
}

/// The text of a panic payload.
fn text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

struct Ping;
macro_rules! ping {
    ($name:ident) => {
        impl Handler<Ping> for $name {
            type Reply = anyhow::Result<()>;
            async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Ping) -> Self::Reply {
                Ok(())
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// `init`'s future is the actor's own code (concepts.md, "An actor talking to itself"): awaiting
// the answer to its own ask, or its own stop, panics instead of hanging; a tell into its own
// full mailbox goes past the bound.

/// The panic messages `SelfInInit::crash` saw.
static INIT_CRASHES: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum FromInit {
    Ask,
    Wait,
}

struct SelfInInit;
impl Actor for SelfInInit {
    type Message = Multi<Self>;
    type Spec = FromInit;
    type Channel = actor12::MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &FromInit) {}
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let me = ctx.link.downgrade();
        let what = ctx.spec;
        async move {
            match what {
                FromInit::Ask => drop(me.ask_dyn(Ping).await),
                FromInit::Wait => me.cancel_and_wait(()).await,
            }
            Ok(SelfInInit)
        }
    }
    async fn crash(payload: Box<dyn std::any::Any + Send>) {
        INIT_CRASHES.lock().unwrap().push(text(&*payload));
    }
}
ping!(SelfInInit);

#[test]
fn inits_future_awaiting_its_own_ask_or_stop_panics_instead_of_hanging() {
    let rt = runtime(2);
    for (what, says) in [(FromInit::Ask, "sent itself"), (FromInit::Wait, "its own stop")] {
        let link = rt.block_on(async { actor12::spawn::<SelfInInit>(what) });
        let waiting = link.clone();
        assert!(resolves_within(async move { waiting.wait().await }).is_some(), "{what:?} hung");
        let crashes = INIT_CRASHES.lock().unwrap();
        assert!(crashes.iter().any(|m| m.contains(says)), "{what:?}: crashes {crashes:?}");
    }
}

/// Tells itself five numbered messages from `init`'s future, into a mailbox of one.
struct TellsInInit {
    seen: Arc<Mutex<Vec<u32>>>,
}
struct Numbered(u32);
impl Handler<Numbered> for TellsInInit {
    type Reply = anyhow::Result<()>;
    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        Numbered(n): Numbered,
    ) -> Self::Reply {
        self.seen.lock().unwrap().push(n);
        Ok(())
    }
}
ping!(TellsInInit);
impl Actor for TellsInInit {
    type Message = Multi<Self>;
    type Spec = Arc<Mutex<Vec<u32>>>;
    type Channel = actor12::MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn mailbox_capacity() -> usize {
        1
    }
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
        let me = ctx.link.downgrade();
        let seen = ctx.spec;
        async move {
            for n in 0..5 {
                me.tell_dyn(Numbered(n)).await;
            }
            Ok(TellsInInit { seen })
        }
    }
}

#[test]
fn inits_future_telling_its_own_full_mailbox_goes_past_the_bound_and_loses_nothing() {
    let rt = runtime(2);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let link = rt.block_on(async { actor12::spawn::<TellsInInit>(seen.clone()) });
    let asking = link.clone();
    let answer = resolves_within(async move { asking.ask_dyn(Ping).await });
    assert!(matches!(answer, Some(Ok(()))), "the actor never got past init: {answer:?}");
    assert_eq!(*seen.lock().unwrap(), [0, 1, 2, 3, 4]);
}

// ---------------------------------------------------------------------------------------------
// `mailbox_capacity`: 0 is taken as 1, `usize::MAX` (and anything that large) is unbounded.

/// Raw style: holds the actor in its handler until the gate opens, or nothing.
enum Raw {
    Hold(Option<mpsc::Sender<()>>, Option<actor12::oneshot::Receiver<()>>),
    Nothing,
}

macro_rules! sized {
    ($name:ident, $capacity:expr) => {
        struct $name;
        impl actor12::ActorMessage<$name> for Raw {}
        impl Actor for $name {
            type Message = Raw;
            type Spec = ();
            type Channel = actor12::MpscChannel<Self::Message>;
            type Cancel = ();
            type State = ();
            fn state(_: &()) {}
            fn mailbox_capacity() -> usize {
                $capacity
            }
            fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
                std::future::ready(Ok($name))
            }
            async fn handle(&mut self, _: actor12::Exec<'_, Self>, mut msg: Raw) {
                if let Raw::Hold(started, gate) = &mut msg {
                    let _ = started.take().expect("held once").send(());
                    let _ = gate.take().expect("held once").await;
                }
            }
        }
    };
}
sized!(Zero, 0);
sized!(Max, usize::MAX);
sized!(NearMax, usize::MAX - 1);

/// How many messages `try_send_raw` queues (up to 1,000) while the actor is held in a handler.
fn room<A: Actor<Message = Raw, Spec = ()>>(rt: &actor12::rt::Runtime) -> usize {
    let link = rt.block_on(async { actor12::spawn::<A>(()) });
    let (started_tx, started) = mpsc::channel();
    let (open, gate) = actor12::oneshot::channel::<()>();
    let hold = Raw::Hold(Some(started_tx), Some(gate));
    rt.block_on(async { assert!(link.send_raw(hold).await.is_ok()) });
    started.recv_timeout(HANG).expect("the handler never started");
    let mut queued = 0;
    while queued < 1000 && link.try_send_raw(Raw::Nothing).is_ok() {
        queued += 1;
    }
    drop(open);
    queued
}

#[test]
fn a_mailbox_capacity_of_zero_is_one_and_of_usize_max_is_unbounded() {
    let rt = runtime(2);
    assert_eq!(room::<Zero>(&rt), 1);
    assert_eq!(room::<Max>(&rt), 1000);
    assert_eq!(room::<NearMax>(&rt), 1000);
}

// ---------------------------------------------------------------------------------------------
// `crash` gets the handler's own payload, once; one that awaits (a reply, a timer) runs to its
// end, and `wait()` resolves only then.

static PAYLOADS: Mutex<Vec<u32>> = Mutex::new(Vec::new());

struct PanicsWith;
struct Throw(u32);
impl Handler<Throw> for PanicsWith {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Throw(n): Throw) -> Self::Reply {
        std::panic::panic_any(n)
    }
}
actor!(
    PanicsWith,
    spec = (),
    cancel = (),
    init = |_ctx| PanicsWith,
    extra = {
        async fn crash(payload: Box<dyn std::any::Any + Send>) {
            let n = *payload.downcast::<u32>().expect("the handler's payload, as it was thrown");
            PAYLOADS.lock().unwrap().push(n);
        }
    }
);

#[test]
fn crash_gets_the_handlers_own_payload_once() {
    let rt = runtime(2);
    let link = rt.block_on(async { actor12::spawn::<PanicsWith>(()) });
    let asking = link.clone();
    let answer = resolves_within(async move {
        let answer = asking.ask_dyn(Throw(42)).await;
        asking.wait().await;
        answer
    });
    assert!(matches!(answer, Some(Err(_))), "the asker of a panicking handler: {answer:?}");
    assert_eq!(*PAYLOADS.lock().unwrap(), [42]);
}

/// What the awaiting `crash` reports, and the gate it awaits.
static CRASH_STEPS: Mutex<Option<mpsc::Sender<u32>>> = Mutex::new(None);
static CRASH_GATE: Mutex<Option<actor12::oneshot::Receiver<()>>> = Mutex::new(None);
/// Set by the awaiting `crash` as it ends.
static CRASH_DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

struct SlowCrash;
impl Handler<Throw> for SlowCrash {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Throw) -> Self::Reply {
        panic!("a handler panics (expected by the test)")
    }
}
actor!(
    SlowCrash,
    spec = (),
    cancel = (),
    init = |_ctx| SlowCrash,
    extra = {
        async fn crash(_: Box<dyn std::any::Any + Send>) {
            let steps = CRASH_STEPS.lock().unwrap().clone().expect("set by the test");
            let _ = steps.send(1);
            let gate = CRASH_GATE.lock().unwrap().take().expect("set by the test");
            let _ = gate.await;
            actor12::time::sleep(Duration::from_millis(1)).await;
            CRASH_DONE.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = steps.send(2);
        }
    }
);

#[test]
fn a_crash_hook_that_awaits_runs_to_its_end_before_wait_resolves() {
    let rt = runtime(1);
    let (steps_tx, steps) = mpsc::channel();
    let (open, gate) = actor12::oneshot::channel();
    *CRASH_STEPS.lock().unwrap() = Some(steps_tx);
    *CRASH_GATE.lock().unwrap() = Some(gate);
    let link = rt.block_on(async { actor12::spawn::<SlowCrash>(()) });
    let asking = link.clone();
    assert!(resolves_within(async move { asking.ask_dyn(Throw(0)).await.is_err() }).unwrap());
    assert_eq!(steps.recv_timeout(HANG), Ok(1), "crash did not start");
    // `crash` is held at its gate: `wait()` must not be ready. A poll, not a window of time (an
    // audit of 2026-12-07: a 50 ms window let a `wait()` that resolved before `crash` ended
    // pass 4 times in 80 on a loaded machine).
    let mut early = link.wait();
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(early.as_mut().poll(&mut cx).is_pending(), "wait() before crash ended");
    let (waited_tx, waited) = mpsc::channel();
    let waiting = link.clone();
    std::thread::spawn(move || {
        let resolved = resolves_within(async move { waiting.wait().await }).is_some();
        let _ = waited_tx.send(resolved && CRASH_DONE.load(std::sync::atomic::Ordering::SeqCst));
    });
    open.send(()).unwrap();
    assert_eq!(steps.recv_timeout(HANG), Ok(2), "crash did not run to its end");
    assert_eq!(waited.recv_timeout(HANG), Ok(true), "wait() hung, or resolved before crash ended");
    drop(early);
}

// ---------------------------------------------------------------------------------------------
// Cancelled twice: `terminate` gets the first reason, and the token keeps it.

static REASONS: Mutex<Vec<(u32, Option<u32>)>> = Mutex::new(Vec::new());

struct TwiceCancelled;
actor!(
    TwiceCancelled,
    spec = (),
    cancel = u32,
    init = |_ctx| TwiceCancelled,
    extra = {
        async fn terminate(self, ctx: ActorContext<Self>, reason: CancelReason<u32>) {
            let token = ctx.token.reason().map(|r| r.into_value());
            REASONS.lock().unwrap().push((reason.into_value(), token));
        }
    }
);
ping!(TwiceCancelled);

#[test]
fn terminate_gets_the_first_of_two_cancels() {
    let rt = runtime(2);
    let link = rt.block_on(async { actor12::spawn::<TwiceCancelled>(()) });
    let stopping = link.clone();
    resolves_within(async move {
        stopping.ask_dyn(Ping).await.unwrap();
        stopping.cancel(1);
        stopping.cancel(2);
        stopping.wait().await;
    })
    .expect("the actor did not stop");
    assert_eq!(*REASONS.lock().unwrap(), [(1, Some(1))]);
    assert_eq!(link.token().reason().map(|r| r.into_value()), Some(1));
}

// ---------------------------------------------------------------------------------------------
// `ProcessAll` handles what was queued when `tick` breaks, as when the actor is cancelled.

struct Drains {
    handled: Arc<AtomicUsize>,
    stop: Option<actor12::oneshot::Receiver<()>>,
}
struct HoldUntil(mpsc::Sender<()>, actor12::oneshot::Receiver<()>);
impl Handler<HoldUntil> for Drains {
    type Reply = anyhow::Result<()>;
    async fn handle(
        &mut self,
        _: Call<'_, Self, Self::Reply>,
        HoldUntil(started, gate): HoldUntil,
    ) -> Self::Reply {
        let _ = started.send(());
        let _ = gate.await;
        Ok(())
    }
}
struct Work;
impl Handler<Work> for Drains {
    type Reply = anyhow::Result<usize>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Work) -> Self::Reply {
        Ok(self.handled.fetch_add(1, SeqCst) + 1)
    }
}
actor!(Drains, spec = (Arc<AtomicUsize>, actor12::oneshot::Receiver<()>), cancel = (), init = |ctx| {
    Drains { handled: ctx.spec.0, stop: Some(ctx.spec.1) }
}, extra = {
    fn termination_strategy(&mut self) -> Terminate {
        Terminate::ProcessAll
    }
    fn tick(&mut self) -> impl Future<Output = ControlFlow<()>> + Send {
        let stop = self.stop.as_mut();
        async move {
            match stop {
                Some(stop) => {
                    let _ = stop.await;
                    ControlFlow::Break(())
                }
                None => std::future::pending().await,
            }
        }
    }
});

#[test]
fn process_all_handles_what_was_queued_when_tick_breaks() {
    let rt = runtime(2);
    let handled = Arc::new(AtomicUsize::new(0));
    let (stop, stop_rx) = actor12::oneshot::channel();
    let link = rt.block_on(async { actor12::spawn::<Drains>((handled.clone(), stop_rx)) });
    let (started_tx, started) = mpsc::channel();
    let (open, gate) = actor12::oneshot::channel();
    let queued = rt.block_on(async {
        link.tell_dyn(HoldUntil(started_tx, gate)).await;
        started.recv_timeout(HANG).expect("the handler never started");
        (link.ask_dyn_async(Work).await, link.ask_dyn_async(Work).await)
    });
    // The tick fires once the handler returns: the two asks are still queued.
    stop.send(()).unwrap();
    open.send(()).unwrap();
    let answers = resolves_within(async move { (queued.0.await.ok(), queued.1.await.ok()) });
    assert_eq!(answers, Some((Some(1), Some(2))), "ProcessAll dropped what was queued");
    let waiting = link.clone();
    assert!(resolves_within(async move { waiting.wait().await }).is_some(), "it did not stop");
}

// ---------------------------------------------------------------------------------------------
// A `cycle` that never waits holds its worker (the `cycle` docs): one that always has work
// yields now and then with `actor12::rt::yield_now()`, and the other actors on its worker run.

/// Watches its token, as `cycle`'s docs ask, and otherwise always has work, one unit a cycle;
/// yields every 64 units, as the docs tell such a cycle to.
struct Spinner {
    spins: Arc<AtomicUsize>,
}
actor!(Spinner, spec = Arc<AtomicUsize>, cancel = (), init = |ctx| Spinner { spins: ctx.spec },
extra = {
    async fn cycle(&mut self, ctx: &mut ActorContext<Self>) -> ControlFlow<CancelReason<()>, ()> {
        if let Some(reason) = ctx.token.reason() {
            return ControlFlow::Break(reason);
        }
        if self.spins.fetch_add(1, SeqCst) % 64 == 63 {
            actor12::rt::yield_now().await;
        }
        ControlFlow::Continue(())
    }
});

struct Bystander;
actor!(Bystander, spec = (), cancel = (), init = |_ctx| Bystander);
ping!(Bystander);

#[test]
fn an_always_ready_cycle_that_yields_leaves_its_worker_to_the_others() {
    let rt = runtime(1);
    let spins = Arc::new(AtomicUsize::new(0));
    let (spinner, other) = rt.block_on(async {
        (actor12::spawn::<Spinner>(spins.clone()), actor12::spawn::<Bystander>(()))
    });
    // The spinner is spinning (it has yielded at least once) before the ask is sent.
    let start = std::time::Instant::now();
    while spins.load(SeqCst) < 128 {
        assert!(start.elapsed() < HANG, "the spinner never ran");
        std::thread::yield_now();
    }
    let asking = other.clone();
    let answer = resolves_within(async move { asking.ask_dyn(Ping).await });
    spinner.cancel(());
    assert!(matches!(answer, Some(Ok(()))), "the spinning actor starved the other one");
    let waiting = spinner.clone();
    assert!(resolves_within(async move { waiting.wait().await }).is_some(), "it did not stop");
}
