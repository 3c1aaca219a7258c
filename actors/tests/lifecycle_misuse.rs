//! The lifecycle when user code misbehaves: panics in every hook, `init` refusing or never
//! finishing, a `terminate` that spawns, an actor dropping its own last link, a runtime dropped
//! while actors are mid-init, mid-handler or mid-terminate. Every test checks what a user relies
//! on: askers get errors, `wait()` resolves, `terminate` runs at most once, the actor is dropped
//! once, and the live count returns to where it started.
//!
//! Hangs are detected with bounded waits, never with sleeps standing in for synchronisation.
//! Most of these pass as written (review of 2026-12-03); the ones that failed before their fix
//! say so.

use std::future::Future;
use std::ops::ControlFlow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};

use actor12::cancel::CancelReason;
use actor12::prelude::*;
use actor12::{ActorContext, Call, Multi, Terminate};
use support::{HANG, actor, resolves_within};

mod support;

fn runtime(workers: usize) -> actor12::rt::Runtime {
    actor12::rt::Runtime::builder().worker_threads(workers).build().unwrap()
}

/// Live instances of `A` now.
fn live<A: 'static>() -> usize {
    actor12::count::stats::<A>().live
}

/// Polls `cond` on this thread until it holds, up to [`HANG`] (a guard against a hang).
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let start = std::time::Instant::now();
    while !cond() {
        assert!(start.elapsed() < HANG, "never happened: {what}");
        std::thread::yield_now();
    }
}

/// Counts its drops (and says so on a channel).
#[derive(Clone)]
struct Drops(Arc<AtomicUsize>, mpsc::Sender<()>);

impl Drops {
    fn new() -> (Drops, Arc<AtomicUsize>, mpsc::Receiver<()>) {
        let n = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        (Drops(n.clone(), tx), n, rx)
    }
}

struct DropGuard(Drops);
impl Drop for DropGuard {
    fn drop(&mut self) {
        self.0.0.fetch_add(1, SeqCst);
        let _ = self.0.1.send(());
    }
}

struct Ping;
struct Gate(actor12::oneshot::Receiver<()>, Option<actor12::oneshot::Sender<()>>);

macro_rules! handlers {
    ($name:ident) => {
        impl Handler<Ping> for $name {
            type Reply = anyhow::Result<()>;
            async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Ping) -> Self::Reply {
                Ok(())
            }
        }
        impl Handler<Gate> for $name {
            type Reply = anyhow::Result<()>;
            async fn handle(
                &mut self,
                _: Call<'_, Self, Self::Reply>,
                Gate(g, started): Gate,
            ) -> Self::Reply {
                if let Some(s) = started {
                    let _ = s.send(());
                }
                let _ = g.await;
                Ok(())
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// A panic in the synchronous part of `init`: the spawner sees it; the half-built actor is gone,
// and so are the actors its `init` spawned, as when `init`'s future panics. (Failed before the
// fix: the token of an actor whose init body panicked was never cancelled.)

/// Keeps itself alive (its own link) and its parent's link; says when it is dropped.
struct Orphan {
    _me: Link<Orphan>,
    _parent: Link<SyncInitPanic>,
    _guard: DropGuard,
}
actor!(Orphan, spec = (Link<SyncInitPanic>, Drops), cancel = (), init = |ctx| {
    let (parent, drops) = ctx.spec;
    Orphan { _me: ctx.link, _parent: parent, _guard: DropGuard(drops) }
});

struct SyncInitPanic;
impl Actor for SyncInitPanic {
    type Message = Multi<Self>;
    type Spec = (Drops, Drops);
    type Channel = actor12::MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: actor12::Init<'_, Self>) -> impl actor12::InitFuture<Self> {
        let (spec_drops, child_drops) = ctx.spec;
        let _spec = DropGuard(spec_drops);
        let _child = actor12::spawn::<Orphan>((ctx.link.clone(), child_drops));
        panic!("init panics (expected by the test)");
        #[allow(unreachable_code)]
        std::future::ready(Ok(SyncInitPanic))
    }
}

#[test]
fn a_panic_in_inits_body_stops_the_actors_it_spawned() {
    let rt = runtime(2);
    let (spec_drops, spec_n, _) = Drops::new();
    let (child_drops, child_n, child_dropped) = Drops::new();
    let before = live::<SyncInitPanic>();
    let spawned = rt.block_on(async {
        catch_unwind(AssertUnwindSafe(|| {
            actor12::spawn::<SyncInitPanic>((spec_drops, child_drops))
        }))
        .is_err()
    });
    assert!(spawned, "the panic in init did not reach the spawner");
    assert_eq!(spec_n.load(SeqCst), 1, "the spec was not dropped once");
    assert_eq!(live::<SyncInitPanic>(), before, "the half-built actor is still counted");
    child_dropped
        .recv_timeout(HANG)
        .expect("an actor spawned by init outlived its parent whose init panicked");
    assert_eq!(child_n.load(SeqCst), 1);
}

// ---------------------------------------------------------------------------------------------
// A panic in `init`'s future, in `tick`, in a custom `cycle`, in `terminate`, in the actor's
// `Drop`: the actor stops, `crash` runs once, askers get errors, `wait()` resolves, the background
// tasks are aborted, the live count returns.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Where {
    InitFuture,
    Tick,
    Terminate,
    Drop,
    Cycle,
}

static CRASHES: Mutex<Vec<Where>> = Mutex::new(Vec::new());

struct Panicky {
    at: Where,
    armed: Option<actor12::oneshot::Receiver<()>>,
    terminates: Arc<AtomicUsize>,
    _guard: DropGuard,
}

impl Drop for Panicky {
    fn drop(&mut self) {
        if self.at == Where::Drop {
            panic!("drop panics (expected by the test)");
        }
    }
}

impl Actor for Panicky {
    type Message = Multi<Self>;
    type Spec = (Where, actor12::oneshot::Receiver<()>, Arc<AtomicUsize>, Drops, Drops);
    type Channel = actor12::MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: actor12::Init<'_, Self>) -> impl actor12::InitFuture<Self> {
        let (at, armed, terminates, drops, task_drops) = ctx.spec;
        ctx.tasks.spawn(async move {
            let _task = DropGuard(task_drops);
            std::future::pending::<()>().await;
        });
        async move {
            let armed = if at == Where::InitFuture {
                let _ = armed.await;
                panic!("init's future panics (expected by the test)");
            } else {
                Some(armed)
            };
            Ok(Panicky { at, armed, terminates, _guard: DropGuard(drops) })
        }
    }
    async fn tick(&mut self) -> ControlFlow<()> {
        match self.armed.as_mut() {
            Some(armed) if self.at == Where::Tick => {
                let _ = armed.await;
                panic!("tick panics (expected by the test)");
            }
            _ => std::future::pending().await,
        }
    }
    async fn cycle(&mut self, ctx: &mut ActorContext<Self>) -> ControlFlow<CancelReason<()>, ()> {
        if self.at == Where::Cycle
            && let Some(armed) = self.armed.as_mut()
        {
            let _ = armed.await;
            panic!("cycle panics (expected by the test)");
        }
        default_cycle(self, ctx).await
    }
    async fn terminate(self, _: ActorContext<Self>, _: CancelReason<()>) {
        self.terminates.fetch_add(1, SeqCst);
        if self.at == Where::Terminate {
            panic!("terminate panics (expected by the test)");
        }
    }
    async fn crash(payload: Box<dyn std::any::Any + Send>) {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = [
            ("init's future", Where::InitFuture),
            ("tick", Where::Tick),
            ("terminate", Where::Terminate),
            ("drop", Where::Drop),
            ("cycle", Where::Cycle),
        ]
        .into_iter()
        .find(|(p, _)| msg.starts_with(p))
        .map(|(_, w)| w)
        .expect("an unexpected panic");
        CRASHES.lock().unwrap().push(at);
    }
}
handlers!(Panicky);

/// The default cycle's select, for an overridden `cycle` that is otherwise the default.
async fn default_cycle(
    actor: &mut Panicky,
    ctx: &mut ActorContext<Panicky>,
) -> ControlFlow<CancelReason<()>, ()> {
    use std::task::Poll;
    enum Next {
        Stop(CancelReason<()>),
        Msg(Multi<Panicky>),
    }
    let next = {
        let mut cancelled = std::pin::pin!(ctx.token.cancelled());
        let mut tick = std::pin::pin!(actor.tick());
        let rx = &mut ctx.rx;
        std::future::poll_fn(|cx| {
            if let Poll::Ready(r) = cancelled.as_mut().poll(cx) {
                return Poll::Ready(Next::Stop(r));
            }
            if let Poll::Ready(ControlFlow::Break(())) = tick.as_mut().poll(cx) {
                return Poll::Ready(Next::Stop(CancelReason::default()));
            }
            rx.poll_recv(cx).map(|m| m.map_or(Next::Stop(CancelReason::default()), Next::Msg))
        })
        .await
    };
    match next {
        Next::Stop(reason) => ControlFlow::Break(reason),
        Next::Msg(msg) => {
            Actor::handle(actor, actor12::Exec::new(ctx), msg).await;
            ControlFlow::Continue(())
        }
    }
}

fn a_panic_stops_the_actor(at: Where) {
    let rt = runtime(2);
    let (drops, dropped, _) = Drops::new();
    let (task_drops, task_dropped, task_gone) = Drops::new();
    let terminates = Arc::new(AtomicUsize::new(0));
    let (arm, armed) = actor12::oneshot::channel();
    let before = live::<Panicky>();
    let link = rt.block_on(async {
        actor12::spawn::<Panicky>((at, armed, terminates.clone(), drops, task_drops))
    });
    // Queued before the panic: a gate that holds the actor in a handler is not used for the
    // init case, where no handler runs.
    let (release, gate) = actor12::oneshot::channel::<()>();
    let queued = {
        let link = link.clone();
        resolves_within(async move {
            if at == Where::Drop || at == Where::Terminate {
                // These panic on the way out: stop the actor first.
                drop(gate);
                link.cancel(());
                return None;
            }
            let asked = link.ask_dyn_async(Ping).await;
            drop(gate);
            Some(asked)
        })
        .expect("queueing an ask hung")
    };
    drop(release);
    let _ = arm.send(());
    let waiting = link.clone();
    assert!(
        resolves_within(async move { waiting.wait().await }).is_some(),
        "{at:?}: wait() hung after the panic"
    );
    if let Some(queued) = queued {
        let answer = resolves_within(queued).expect("a queued asker hung");
        if at == Where::InitFuture {
            assert!(answer.is_err(), "{at:?}: a queued asker got an answer from no actor");
        }
    }
    eventually("the crash hook ran", || CRASHES.lock().unwrap().contains(&at));
    assert_eq!(CRASHES.lock().unwrap().iter().filter(|w| **w == at).count(), 1);
    task_gone.recv_timeout(HANG).expect("a background task outlived the crashed actor");
    assert_eq!(task_dropped.load(SeqCst), 1);
    let expected_drops = usize::from(at != Where::InitFuture);
    assert_eq!(dropped.load(SeqCst), expected_drops, "{at:?}: the actor was not dropped once");
    assert!(terminates.load(SeqCst) <= 1, "{at:?}: terminate ran twice");
    assert!(!link.alive());
    drop(link);
    eventually("the live count returned", || live::<Panicky>() == before);
}

/// One test for all: they share the actor type, whose live count each checks.
#[test]
fn a_panic_in_inits_future_tick_cycle_terminate_or_drop_stops_the_actor() {
    for at in [Where::InitFuture, Where::Tick, Where::Cycle, Where::Terminate, Where::Drop] {
        a_panic_stops_the_actor(at);
    }
}

// ---------------------------------------------------------------------------------------------
// A panic in `state`, `span` or `mailbox_capacity`: `spawn` panics, nothing is left counted, the
// spec is dropped once.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Hook {
    State,
    Span,
    Capacity,
}

static CAPACITY_PANICS: AtomicUsize = AtomicUsize::new(0);

struct HookPanic;
impl Actor for HookPanic {
    type Message = Multi<Self>;
    type Spec = (Hook, DropGuard);
    type Channel = actor12::MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(spec: &Self::Spec) {
        if spec.0 == Hook::State {
            panic!("state panics (expected by the test)");
        }
    }
    fn span(spec: &Self::Spec) -> tracing::Span {
        if spec.0 == Hook::Span {
            panic!("span panics (expected by the test)");
        }
        tracing::Span::none()
    }
    fn mailbox_capacity() -> usize {
        if CAPACITY_PANICS.load(SeqCst) > 0 {
            panic!("mailbox_capacity panics (expected by the test)");
        }
        4
    }
    fn init(_: actor12::Init<'_, Self>) -> impl actor12::InitFuture<Self> {
        std::future::ready(Ok(HookPanic))
    }
}

#[test]
fn a_panic_in_state_span_or_mailbox_capacity_reaches_the_spawner_and_leaves_nothing() {
    let rt = runtime(1);
    for hook in [Hook::State, Hook::Span, Hook::Capacity] {
        let (drops, dropped, _) = Drops::new();
        if hook == Hook::Capacity {
            CAPACITY_PANICS.store(1, SeqCst);
        }
        let before = live::<HookPanic>();
        let total_before = actor12::count::stats::<HookPanic>().total;
        let panicked = rt.block_on(async {
            catch_unwind(AssertUnwindSafe(|| actor12::spawn::<HookPanic>((hook, DropGuard(drops)))))
                .is_err()
        });
        CAPACITY_PANICS.store(0, SeqCst);
        assert!(panicked, "{hook:?}: the panic did not reach the spawner");
        assert_eq!(dropped.load(SeqCst), 1, "{hook:?}: the spec was not dropped once");
        assert_eq!(live::<HookPanic>(), before, "{hook:?}: a half-built actor is still counted");
        let total = actor12::count::stats::<HookPanic>().total;
        assert_eq!(total, total_before, "{hook:?}: a spawn that made no actor was counted");
    }
}

// ---------------------------------------------------------------------------------------------
// `tick` breaking on its first call: `terminate` runs once with the reason, `wait()` resolves.

struct BreakAtOnce {
    terminated: mpsc::Sender<u32>,
}
actor!(BreakAtOnce, spec = mpsc::Sender<u32>, cancel = u32, init = |ctx| BreakAtOnce { terminated: ctx.spec }, extra = {
    async fn tick(&mut self) -> ControlFlow<u32> {
        ControlFlow::Break(9)
    }
    async fn terminate(self, _: ActorContext<Self>, reason: CancelReason<u32>) {
        let _ = self.terminated.send(*reason.value());
    }
});
handlers!(BreakAtOnce);

#[test]
fn a_tick_that_breaks_at_once_terminates_once_with_its_reason() {
    let rt = runtime(2);
    let (tx, rx) = mpsc::channel();
    let before = live::<BreakAtOnce>();
    let link = rt.block_on(async { actor12::spawn::<BreakAtOnce>(tx) });
    assert_eq!(rx.recv_timeout(HANG), Ok(9));
    let waiting = link.clone();
    assert!(resolves_within(async move { waiting.wait().await }).is_some(), "wait() hung");
    let asked = link.clone();
    let answer = resolves_within(async move { asked.ask_dyn(Ping).await }).expect("ask hung");
    assert!(answer.is_err());
    assert_eq!(link.token().reason().map(|r| *r.value()), Some(9));
    drop(link);
    eventually("the live count returned", || live::<BreakAtOnce>() == before);
    // The sender went with the actor: exact, where a window of 50 ms let a late second
    // `terminate` pass (an audit of 2026-12-07).
    let after = rx.recv_timeout(HANG);
    assert_eq!(after, Err(mpsc::RecvTimeoutError::Disconnected), "terminate ran twice");
}

// ---------------------------------------------------------------------------------------------
// An actor that drops its own last strong link from a handler: the handler still answers, the
// actor then stops, `terminate` runs once.

struct SelfHeld {
    me: Option<Link<SelfHeld>>,
    terminated: mpsc::Sender<()>,
    _guard: DropGuard,
}
impl Actor for SelfHeld {
    type Message = Multi<Self>;
    type Spec = (mpsc::Sender<()>, Drops);
    type Channel = actor12::MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: actor12::Init<'_, Self>) -> impl actor12::InitFuture<Self> {
        let (terminated, drops) = ctx.spec;
        std::future::ready(Ok(SelfHeld {
            me: Some(ctx.link),
            terminated,
            _guard: DropGuard(drops),
        }))
    }
    async fn terminate(self, _: ActorContext<Self>, _: CancelReason<()>) {
        let _ = self.terminated.send(());
    }
}
handlers!(SelfHeld);

struct LetGo;
impl Handler<LetGo> for SelfHeld {
    type Reply = anyhow::Result<u32>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: LetGo) -> Self::Reply {
        drop(self.me.take());
        Ok(7)
    }
}

#[test]
fn an_actor_dropping_its_own_last_link_in_a_handler_answers_then_stops() {
    let rt = runtime(2);
    let (tx, terminated) = mpsc::channel();
    let (drops, dropped, gone) = Drops::new();
    let before = live::<SelfHeld>();
    let weak = rt.block_on(async { actor12::spawn::<SelfHeld>((tx, drops)).downgrade() });
    let asking = weak.clone();
    let answer = resolves_within(async move { asking.ask_dyn(LetGo).await }).expect("ask hung");
    assert_eq!(answer.ok(), Some(7), "the handler that let go of the last link did not answer");
    terminated.recv_timeout(HANG).expect("the actor did not stop after its last link went");
    gone.recv_timeout(HANG).expect("the actor was not dropped");
    let after = terminated.recv_timeout(HANG); // the sender went with the actor: exact
    assert_eq!(after, Err(mpsc::RecvTimeoutError::Disconnected), "terminated twice");
    assert_eq!(dropped.load(SeqCst), 1);
    let stopping = weak.clone();
    assert!(resolves_within(async move { stopping.cancel_and_wait(()).await }).is_some());
    eventually("the live count returned", || live::<SelfHeld>() == before);
}

// ---------------------------------------------------------------------------------------------
// Actors spawned inside `terminate` stop with the actor, whether it was cancelled or its `tick`
// broke; none is left running.

struct Straggler {
    _me: Link<Straggler>,
    _guard: DropGuard,
}
actor!(
    Straggler,
    spec = Drops,
    cancel = (),
    init = |ctx| Straggler { _me: ctx.link, _guard: DropGuard(ctx.spec) }
);

struct SpawnsInTerminate {
    drops: Drops,
    break_tick: Option<actor12::oneshot::Receiver<()>>,
    /// Resets its token in `terminate`, before it spawns.
    reset: bool,
}
actor!(SpawnsInTerminate, spec = (Drops, Option<actor12::oneshot::Receiver<()>>, bool), cancel = (), init = |ctx| {
    let (drops, break_tick, reset) = ctx.spec;
    SpawnsInTerminate { drops, break_tick, reset }
}, extra = {
    async fn tick(&mut self) -> ControlFlow<()> {
        match self.break_tick.as_mut() {
            Some(rx) => {
                let _ = rx.await;
                ControlFlow::Break(())
            }
            None => std::future::pending().await,
        }
    }
    async fn terminate(self, ctx: ActorContext<Self>, _: CancelReason<()>) {
        if self.reset {
            ctx.token.reset();
        }
        drop(actor12::spawn::<Straggler>(self.drops.clone()));
    }
});

// Stopped by a cancel or by its `tick`, and with its token reset in `terminate` (the cancel
// undone for whoever has not looked, the actors it spawns after that among them).
#[test]
fn actors_spawned_in_terminate_stop_with_the_actor() {
    let rt = runtime(2);
    for (by_tick, reset) in [(false, false), (true, false), (false, true), (true, true)] {
        let (drops, dropped, gone) = Drops::new();
        let (stop, stop_rx) = actor12::oneshot::channel();
        let link = rt.block_on(async {
            actor12::spawn::<SpawnsInTerminate>((drops, by_tick.then_some(stop_rx), reset))
        });
        if by_tick {
            let _ = stop.send(());
        } else {
            link.cancel(());
        }
        let waiting = link.clone();
        assert!(resolves_within(async move { waiting.wait().await }).is_some());
        gone.recv_timeout(HANG).unwrap_or_else(|_| {
            panic!("by_tick={by_tick}, reset={reset}: an actor spawned in terminate lives")
        });
        assert_eq!(dropped.load(SeqCst), 1);
    }
}

// ---------------------------------------------------------------------------------------------
// A background task that panics ends alone; the actor goes on.

struct TaskPanics;
impl Actor for TaskPanics {
    type Message = Multi<Self>;
    type Spec = ();
    type Channel = actor12::MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: actor12::Init<'_, Self>) -> impl actor12::InitFuture<Self> {
        ctx.tasks.spawn(async { panic!("a background task panics (expected by the test)") });
        std::future::ready(Ok(TaskPanics))
    }
}
handlers!(TaskPanics);

struct PanicLater;
impl Handler<PanicLater> for TaskPanics {
    type Reply = anyhow::Result<()>;
    async fn handle(
        &mut self,
        mut call: Call<'_, Self, Self::Reply>,
        _: PanicLater,
    ) -> Self::Reply {
        let (tx, rx) = actor12::oneshot::channel::<()>();
        call.ctx.futures.spawn(async move {
            drop(tx);
            panic!("a context task panics (expected by the test)");
        });
        let _ = rx.await;
        Ok(())
    }
}

#[test]
fn a_panicking_background_task_ends_alone() {
    let rt = runtime(2);
    let link = rt.block_on(async { actor12::spawn::<TaskPanics>(()) });
    let asking = link.clone();
    let answer = resolves_within(async move {
        asking.ask_dyn(PanicLater).await?;
        asking.ask_dyn(Ping).await
    });
    assert!(matches!(answer, Some(Ok(()))), "the actor did not survive its tasks' panics");
    assert!(link.alive());
}

// ---------------------------------------------------------------------------------------------
// A runtime dropped while actors are mid-init, mid-handler and mid-terminate: each actor is
// dropped once (or, mid-init, its `init` future is), `terminate` runs at most once, askers get
// errors, `wait()` resolves, the live count returns.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mid {
    Init,
    Handler,
    Terminate,
}

struct Midway {
    mid: Mid,
    terminates: Arc<AtomicUsize>,
    in_terminate: Option<mpsc::Sender<()>>,
    _guard: DropGuard,
}
impl Actor for Midway {
    type Message = Multi<Self>;
    type Spec = (Mid, Arc<AtomicUsize>, mpsc::Sender<()>, Drops);
    type Channel = actor12::MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: actor12::Init<'_, Self>) -> impl actor12::InitFuture<Self> {
        let (mid, terminates, entered, drops) = ctx.spec;
        let guard = DropGuard(drops);
        async move {
            if mid == Mid::Init {
                let _ = entered.send(());
                let _guard = guard;
                std::future::pending::<()>().await;
                unreachable!()
            }
            Ok(Midway { mid, terminates, in_terminate: Some(entered), _guard: guard })
        }
    }
    async fn terminate(mut self, _: ActorContext<Self>, _: CancelReason<()>) {
        self.terminates.fetch_add(1, SeqCst);
        if self.mid == Mid::Terminate {
            if let Some(entered) = self.in_terminate.take() {
                let _ = entered.send(());
            }
            std::future::pending::<()>().await;
        }
    }
}
handlers!(Midway);

#[test]
fn dropping_the_runtime_mid_init_mid_handler_and_mid_terminate_ends_each_actor_once() {
    for mid in [Mid::Init, Mid::Handler, Mid::Terminate] {
        let rt = runtime(2);
        let (drops, dropped, gone) = Drops::new();
        let (entered_tx, entered) = mpsc::channel();
        let terminates = Arc::new(AtomicUsize::new(0));
        let before = live::<Midway>();
        let (link, queued) = rt.block_on(async {
            let link = actor12::spawn::<Midway>((mid, terminates.clone(), entered_tx, drops));
            let mut queued = Vec::new();
            match mid {
                Mid::Init => queued.push(link.ask_dyn_async(Ping).await),
                Mid::Handler => {
                    let (started_tx, started) = actor12::oneshot::channel();
                    let (_never, gate) = actor12::oneshot::channel();
                    queued.push(link.ask_dyn_async(Gate(gate, Some(started_tx))).await);
                    std::mem::forget(_never);
                    started.await.unwrap();
                    queued.push(link.ask_dyn_async(Ping).await);
                }
                Mid::Terminate => link.cancel(()),
            }
            (link, queued)
        });
        if mid != Mid::Handler {
            entered.recv_timeout(HANG).expect("the actor never reached the awaited point");
        }
        let waiting = link.clone();
        let waited = std::thread::spawn(move || {
            resolves_within(async move { waiting.wait().await }).is_some()
        });
        let dropping = std::thread::spawn(move || drop(rt));
        gone.recv_timeout(HANG).unwrap_or_else(|_| panic!("{mid:?}: the actor was not dropped"));
        assert!(waited.join().unwrap(), "{mid:?}: wait() hung after the runtime was dropped");
        for q in queued {
            let answer = resolves_within(q).expect("an asker hung after the runtime was dropped");
            assert!(answer.is_err(), "{mid:?}: an asker got an answer from a dropped actor");
        }
        dropping.join().unwrap();
        assert_eq!(dropped.load(SeqCst), 1, "{mid:?}: not dropped once");
        assert!(terminates.load(SeqCst) <= 1, "{mid:?}: terminate ran twice");
        drop(link);
        eventually("the live count returned", || live::<Midway>() == before);
    }
}

// ---------------------------------------------------------------------------------------------
// An `init` future whose drop panics, dropped while it waits: by a cancel (the lifecycle's move
// out of `Init` drops it) and by a runtime's drop (the lifecycle's own drop, with `Init` still
// there). Either way it is dropped once, the context and the live count go once, `wait()`
// resolves and a queued asker gets its error.

struct InitDropPanics;

/// Drops its guard, then panics.
struct PanicOnDrop(Option<DropGuard>);
impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        drop(self.0.take());
        panic!("an init future's drop panics (expected by the test)");
    }
}

impl Actor for InitDropPanics {
    type Message = Multi<Self>;
    type Spec = Drops;
    type Channel = actor12::MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Drops) {}
    fn init(ctx: actor12::Init<'_, Self>) -> impl actor12::InitFuture<Self> {
        let bomb = PanicOnDrop(Some(DropGuard(ctx.spec)));
        async move {
            let _bomb = bomb;
            std::future::pending::<()>().await;
            unreachable!()
        }
    }
}
handlers!(InitDropPanics);

#[test]
fn an_init_future_whose_drop_panics_ends_its_actor_once() {
    for by_cancel in [true, false] {
        let rt = runtime(2);
        let (drops, dropped, gone) = Drops::new();
        let before = live::<InitDropPanics>();
        let (link, queued) = rt.block_on(async {
            let link = actor12::spawn::<InitDropPanics>(drops);
            let queued = link.ask_dyn_async(Ping).await;
            if by_cancel {
                link.cancel(());
            }
            (link, queued)
        });
        let waiting = link.clone();
        let waited = std::thread::spawn(move || {
            resolves_within(async move { waiting.wait().await }).is_some()
        });
        let dropping = if by_cancel { None } else { Some(std::thread::spawn(move || drop(rt))) };
        gone.recv_timeout(HANG).expect("the init future was not dropped");
        assert!(waited.join().unwrap(), "by cancel {by_cancel}: wait() hung");
        let answer = resolves_within(queued).expect("the asker hung");
        assert!(answer.is_err(), "by cancel {by_cancel}: an answer from an actor never made");
        if let Some(dropping) = dropping {
            dropping.join().unwrap();
        }
        assert_eq!(dropped.load(SeqCst), 1, "by cancel {by_cancel}: not dropped once");
        drop(link);
        eventually("the live count returned", || live::<InitDropPanics>() == before);
    }
}

// ---------------------------------------------------------------------------------------------
// `ProcessAll` with a flood of messages arriving while the actor stops: every ask resolves (an
// answer if it was handled, an error if not), none hangs, and none is handled twice.

struct Drainer {
    handled: Arc<AtomicUsize>,
}
actor!(Drainer, spec = Arc<AtomicUsize>, cancel = (), init = |ctx| Drainer { handled: ctx.spec }, extra = {
    fn mailbox_capacity() -> usize {
        4
    }
    fn termination_strategy(&mut self) -> Terminate {
        Terminate::ProcessAll
    }
});
handlers!(Drainer);

struct Count;
impl Handler<Count> for Drainer {
    type Reply = anyhow::Result<()>;
    async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Count) -> Self::Reply {
        self.handled.fetch_add(1, SeqCst);
        actor12::rt::yield_now().await;
        Ok(())
    }
}

#[test]
fn process_all_under_a_flood_answers_every_ask_once_and_never_hangs() {
    let rt = runtime(2);
    let handled = Arc::new(AtomicUsize::new(0));
    let link = rt.block_on(async { actor12::spawn::<Drainer>(handled.clone()) });
    let oks = Arc::new(AtomicUsize::new(0));
    let senders: Vec<_> = (0..4)
        .map(|_| {
            let link = link.clone();
            let oks = oks.clone();
            std::thread::spawn(move || {
                resolves_within(async move {
                    for _ in 0..2000 {
                        match link.ask_dyn(Count).await {
                            Ok(()) => oks.fetch_add(1, SeqCst),
                            Err(_) => break,
                        };
                    }
                })
                .is_some()
            })
        })
        .collect();
    eventually("some messages were handled", || handled.load(SeqCst) > 100);
    let stopping = link.clone();
    assert!(resolves_within(async move { stopping.cancel_and_wait(()).await }).is_some());
    for s in senders {
        assert!(s.join().unwrap(), "a sender hung while the actor stopped");
    }
    assert_eq!(oks.load(SeqCst), handled.load(SeqCst), "an ask was answered without a handler");
}

// ---------------------------------------------------------------------------------------------
// A runtime dropped while an actor's `init` body runs on a plain thread: the actor never runs,
// but it is dropped once, its background tasks with it, `wait()` resolves, the count returns.

struct InitAcrossShutdown {
    _guard: DropGuard,
}
actor!(InitAcrossShutdown, spec = (Drops, Drops, mpsc::Sender<()>, mpsc::Receiver<()>), cancel = (), init = |ctx| {
    let (drops, task_drops, entered, proceed) = ctx.spec;
    let task = DropGuard(task_drops);
    ctx.tasks.spawn(async move {
        let _task = task;
        std::future::pending::<()>().await;
    });
    let _ = entered.send(());
    let _ = proceed.recv_timeout(HANG);
    InitAcrossShutdown { _guard: DropGuard(drops) }
});
handlers!(InitAcrossShutdown);

#[test]
fn an_actor_whose_init_body_runs_across_a_runtime_drop_ends_once() {
    let rt = runtime(1);
    let handle = rt.handle();
    let (drops, dropped, gone) = Drops::new();
    let (task_drops, task_dropped, task_gone) = Drops::new();
    let (entered_tx, entered) = mpsc::channel();
    let (proceed, proceed_rx) = mpsc::channel();
    let before = live::<InitAcrossShutdown>();
    let spawner = std::thread::spawn(move || {
        handle.block_on(async move {
            let link =
                actor12::spawn::<InitAcrossShutdown>((drops, task_drops, entered_tx, proceed_rx));
            let answer = link.ask_dyn(Ping).await;
            (link, answer)
        })
    });
    entered.recv_timeout(HANG).expect("init never ran");
    drop(rt);
    proceed.send(()).unwrap();
    let (link, answer) = spawner.join().unwrap();
    assert!(answer.is_err(), "an actor of a dropped runtime answered");
    gone.recv_timeout(HANG).expect("the actor was not dropped");
    task_gone.recv_timeout(HANG).expect("its background task was not dropped");
    let waiting = link.clone();
    assert!(resolves_within(async move { waiting.wait().await }).is_some(), "wait() hung");
    assert_eq!((dropped.load(SeqCst), task_dropped.load(SeqCst)), (1, 1));
    drop(link);
    eventually("the live count returned", || live::<InitAcrossShutdown>() == before);
}

// ---------------------------------------------------------------------------------------------
// An actor whose `Drop` panics while a runtime drop tears it down: the other actors are still
// dropped, the drop of the runtime returns, every `wait()` resolves.

struct LoudDrop {
    loud: bool,
    _guard: DropGuard,
}
impl Drop for LoudDrop {
    fn drop(&mut self) {
        if self.loud {
            panic!("drop at shutdown panics (expected by the test)");
        }
    }
}
actor!(
    LoudDrop,
    spec = (bool, Drops),
    cancel = (),
    init = |ctx| {
        let (loud, drops) = ctx.spec;
        LoudDrop { loud, _guard: DropGuard(drops) }
    }
);
handlers!(LoudDrop);

#[test]
fn a_panicking_drop_at_shutdown_does_not_stop_the_teardown_of_the_others() {
    let rt = runtime(2);
    let (drops, dropped, _) = Drops::new();
    let before = live::<LoudDrop>();
    let links = rt.block_on(async {
        let links: Vec<_> =
            (0..8).map(|i| actor12::spawn::<LoudDrop>((i % 2 == 0, drops.clone()))).collect();
        for l in &links {
            l.ask_dyn(Ping).await.unwrap();
        }
        links
    });
    let dropping = std::thread::spawn(move || drop(rt));
    eventually("the runtime drop returned", || dropping.is_finished());
    dropping.join().expect("dropping the runtime panicked");
    assert_eq!(dropped.load(SeqCst), 8, "not every actor was dropped once");
    for l in links {
        assert!(resolves_within(async move { l.wait().await }).is_some(), "wait() hung");
    }
    eventually("the live count returned", || live::<LoudDrop>() == before);
}

// ---------------------------------------------------------------------------------------------
// A `tick` that is always ready (a flooded source it drains) does not starve the mailbox, nor
// the other actors on its worker: actor12 0.0.11 raced the two without a bias.

struct Busy {
    ticks: Arc<AtomicUsize>,
}
actor!(Busy, spec = Arc<AtomicUsize>, cancel = (), init = |ctx| Busy { ticks: ctx.spec }, extra = {
    fn tick(&mut self) -> impl Future<Output = ControlFlow<()>> + Send {
        self.ticks.fetch_add(1, SeqCst);
        std::future::ready(ControlFlow::Continue(()))
    }
});
handlers!(Busy);

#[test]
fn an_always_ready_tick_leaves_room_for_messages_and_other_actors() {
    let rt = runtime(1);
    let ticks = Arc::new(AtomicUsize::new(0));
    let (busy, other) = rt.block_on(async {
        (actor12::spawn::<Busy>(ticks.clone()), actor12::spawn::<TaskPanics>(()))
    });
    eventually("the tick ran", || ticks.load(SeqCst) > 0);
    let asking = busy.clone();
    let answer = resolves_within(async move { asking.ask_dyn(Ping).await });
    assert!(matches!(answer, Some(Ok(()))), "a busy tick starved the actor's mailbox");
    let asking = other.clone();
    let answer = resolves_within(async move { asking.ask_dyn(Ping).await });
    assert!(matches!(answer, Some(Ok(()))), "a busy tick starved another actor on its worker");
    let stopping = busy.clone();
    assert!(resolves_within(async move { stopping.cancel_and_wait(()).await }).is_some());
}

/// Closes the actor's mailbox from inside.
struct CloseMailbox;
impl Handler<CloseMailbox> for Busy {
    type Reply = anyhow::Result<()>;
    async fn handle(
        &mut self,
        mut call: Call<'_, Self, Self::Reply>,
        _: CloseMailbox,
    ) -> Self::Reply {
        call.ctx.rx.close();
        Ok(())
    }
}

/// An always-ready tick still lets the actor see its mailbox closed, and stop, as an actor
/// without a tick does.
#[test]
fn an_always_ready_tick_does_not_keep_an_actor_with_a_closed_mailbox_running() {
    let rt = runtime(1);
    let busy = rt.block_on(async { actor12::spawn::<Busy>(Arc::new(AtomicUsize::new(0))) });
    let asking = busy.clone();
    let answer = resolves_within(async move { asking.ask_dyn(CloseMailbox).await });
    assert!(matches!(answer, Some(Ok(()))));
    let waiting = busy.clone();
    assert!(resolves_within(async move { waiting.wait().await }).is_some(), "it ran on");
}

// ---------------------------------------------------------------------------------------------
// A panic in `init`'s body, when the cancel that then stops what `init` made panics too (the
// user's `Clone` of a reason, for a child token): the guard that tears the half-built actor down
// cancelled its token during the unwind, and the second panic aborted the process instead of
// reaching the spawner. (Failed before the fix: the test's process aborted.)

/// Set by `init` just before it panics: from then on, `CloneBomb`'s second clone panics.
static BOMB_ARMED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static BOMB_CLONES: AtomicUsize = AtomicUsize::new(0);

#[derive(Debug, Default)]
struct CloneBomb;

impl Clone for CloneBomb {
    fn clone(&self) -> Self {
        // The first clone is the actor's own token's copy, the second its child's.
        if BOMB_ARMED.load(SeqCst) {
            let n = BOMB_CLONES.fetch_add(1, SeqCst);
            assert!(n == 0, "a reason's clone panicked (expected by the test)");
        }
        CloneBomb
    }
}

/// Spawned with `true`, its `init` panics once it has made a child token and given its link
/// away (as to an actor `init` spawned: the link keeps the token from being cancelled by the
/// last link's drop); with `false`, it only makes the child token.
struct CloneBombHolder;
impl Actor for CloneBombHolder {
    type Message = Multi<Self>;
    type Spec = bool;
    type Channel = actor12::MpscChannel<Self::Message>;
    type Cancel = CloneBomb;
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: actor12::Init<'_, Self>) -> impl actor12::InitFuture<Self> {
        // The cancel's walk clones the reason for this child.
        std::mem::forget(ctx.token.child());
        if ctx.spec {
            std::mem::forget(ctx.link);
            BOMB_ARMED.store(true, SeqCst);
            panic!("init panics (expected by the test)");
        }
        std::future::ready(Ok(CloneBombHolder))
    }
}

/// Set in the process the test below starts: there it runs the scenario itself.
const CHILD_ENV: &str = "ACTOR12_LIFECYCLE_MISUSE_CHILD";

#[test]
fn a_panic_in_init_whose_cancel_panics_too_reaches_the_spawner() {
    if std::env::var_os(CHILD_ENV).is_some() {
        let rt = runtime(1);
        let caught = rt.block_on(async {
            catch_unwind(AssertUnwindSafe(|| actor12::spawn::<CloneBombHolder>(true))).is_err()
        });
        BOMB_ARMED.store(false, SeqCst);
        assert!(caught, "the panic in init did not reach the spawner");
        assert_eq!(BOMB_CLONES.load(SeqCst), 2, "the guard's cancel did not reach the child");
        return;
    }
    passes_in_a_process_of_its_own("a_panic_in_init_whose_cancel_panics_too_reaches_the_spawner");
}

/// Runs this binary's test `name` in a process of its own, with [`CHILD_ENV`] set (there the test
/// runs its scenario), and fails unless it passes: an abort would take the whole binary down.
fn passes_in_a_process_of_its_own(name: &str) {
    let exe = std::env::current_exe().expect("the test binary's path");
    let out = std::process::Command::new(exe)
        .args([name, "--exact", "--test-threads=1"])
        .env(CHILD_ENV, "1")
        .output()
        .expect("failed to run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "the scenario failed ({}):\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

// ---------------------------------------------------------------------------------------------
// The last link dropped by an unwind (a panic in the code that holds it), when the cancel that
// then stops the actor panics too (the user's `Clone` of a reason, for a child token): the
// second panic, in the link's destructor, aborted the process. (Failed before the fix: the
// test's process aborted.)

#[test]
fn a_panic_while_holding_the_last_link_whose_cancel_panics_too_unwinds_as_usual() {
    if std::env::var_os(CHILD_ENV).is_some() {
        let rt = runtime(1);
        let caught = rt.block_on(async {
            let link = actor12::spawn::<CloneBombHolder>(false);
            catch_unwind(AssertUnwindSafe(move || {
                let _last = link;
                BOMB_ARMED.store(true, SeqCst);
                panic!("a panic while holding the last link (expected by the test)");
            }))
            .is_err()
        });
        BOMB_ARMED.store(false, SeqCst);
        assert!(caught, "the panic did not unwind to its `catch_unwind`");
        assert!(BOMB_CLONES.load(SeqCst) >= 2, "the cancel did not reach the child");
        return;
    }
    passes_in_a_process_of_its_own(
        "a_panic_while_holding_the_last_link_whose_cancel_panics_too_unwinds_as_usual",
    );
}

// ---------------------------------------------------------------------------------------------
// A queued message whose destructor panics, dropped as the actor stops (`Terminate::Exit`): the
// actor still runs `terminate`, and `crash` does not run (the panic is not the actor's code, and
// the teardown after a crash drops such a message the same way). (Failed before the fix:
// `terminate` was skipped and `crash` reported the message's panic.)

/// Raw style: holds the actor in its handler until the gate opens, or panics when dropped.
enum Queued {
    Hold(Option<mpsc::Sender<()>>, Option<actor12::oneshot::Receiver<()>>),
    DropBomb,
}
impl Drop for Queued {
    fn drop(&mut self) {
        if matches!(self, Queued::DropBomb) {
            panic!("a queued message's drop panics (expected by the test)");
        }
    }
}
impl actor12::ActorMessage<ExitsWithBomb> for Queued {}

static BOMB_CRASHES: AtomicUsize = AtomicUsize::new(0);

struct ExitsWithBomb {
    terminated: mpsc::Sender<()>,
}
impl Actor for ExitsWithBomb {
    type Message = Queued;
    type Spec = mpsc::Sender<()>;
    type Channel = actor12::MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: actor12::Init<'_, Self>) -> impl actor12::InitFuture<Self> {
        std::future::ready(Ok(ExitsWithBomb { terminated: ctx.spec }))
    }
    async fn handle(&mut self, _: actor12::Exec<'_, Self>, mut msg: Queued) {
        if let Queued::Hold(started, gate) = &mut msg {
            if let Some(started) = started.take() {
                let _ = started.send(());
            }
            if let Some(gate) = gate.take() {
                let _ = gate.await;
            }
        }
    }
    async fn terminate(self, _: ActorContext<Self>, _: CancelReason<()>) {
        let _ = self.terminated.send(());
    }
    async fn crash(_: Box<dyn std::any::Any + Send>) {
        BOMB_CRASHES.fetch_add(1, SeqCst);
    }
}

#[test]
fn a_queued_message_whose_drop_panics_does_not_skip_terminate() {
    let rt = runtime(2);
    let (terminated_tx, terminated) = mpsc::channel();
    let before = live::<ExitsWithBomb>();
    let link = rt.block_on(async { actor12::spawn::<ExitsWithBomb>(terminated_tx) });
    let (started_tx, started) = mpsc::channel();
    let (open, gate) = actor12::oneshot::channel();
    rt.block_on(async {
        let hold = Queued::Hold(Some(started_tx), Some(gate));
        assert!(link.send_raw(hold).await.is_ok());
        started.recv_timeout(HANG).expect("the handler never started");
        // Queued behind the handler, then dropped by the stop.
        assert!(link.send_raw(Queued::DropBomb).await.is_ok());
        link.cancel(());
        drop(open);
    });
    let waiting = link.clone();
    assert!(resolves_within(async move { waiting.wait().await }).is_some(), "wait() hung");
    assert_eq!(terminated.try_recv(), Ok(()), "terminate did not run");
    assert_eq!(BOMB_CRASHES.load(SeqCst), 0, "crash ran for a message's drop");
    drop(link);
    eventually("the live count returned", || live::<ExitsWithBomb>() == before);
}

// ---------------------------------------------------------------------------------------------
// User code around `init` that runs outside its body and future: the tracing subscriber's
// `clone_span`, and the destructors of what an `init` that never finished leaves.

/// A subscriber that wants every span and panics when one is cloned.
struct PanicsOnClone;

impl tracing::Subscriber for PanicsOnClone {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, _: &tracing::Event<'_>) {}
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
    fn clone_span(&self, _: &tracing::span::Id) -> tracing::span::Id {
        panic!("clone_span panics (expected by the test)");
    }
}

/// An actor with a span of its own, whose `init` gives its link away.
struct Spanned;

impl Actor for Spanned {
    type Message = Multi<Self>;
    type Spec = mpsc::Sender<Link<Spanned>>;
    type Channel = actor12::MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn span(_: &Self::Spec) -> tracing::Span {
        tracing::info_span!("spanned")
    }
    fn init(ctx: actor12::Init<'_, Self>) -> impl actor12::InitFuture<Self> {
        let _ = ctx.spec.send(ctx.link.clone());
        std::future::ready(Ok(Spanned))
    }
}

#[test]
fn a_spawn_whose_span_clone_panics_makes_no_actor() {
    // The `Scoped`'s copy of the span was cloned after `init`'s body, out of the guard that
    // tears a half-built actor down: the panic left an actor that never ran nor stopped, and
    // the link `init` gave away stayed alive for ever (a review of 2026-12-07).
    let rt = runtime(2);
    let (links, given) = mpsc::channel();
    let (live_before, total_before) = (live::<Spanned>(), actor12::count::stats::<Spanned>().total);
    let spawned = rt.block_on(async {
        tracing::subscriber::with_default(PanicsOnClone, || {
            catch_unwind(AssertUnwindSafe(|| actor12::spawn::<Spanned>(links))).is_err()
        })
    });
    assert!(spawned, "the subscriber's panic did not reach the spawner");
    if let Ok(link) = given.try_recv() {
        assert!(!link.alive(), "init gave away a link to an actor that never stops");
    }
    assert_eq!(live::<Spanned>(), live_before, "a half-built actor is counted live");
    let total = actor12::count::stats::<Spanned>().total;
    assert_eq!(total, total_before, "a spawn that made no actor is counted");
}

/// Reports, as it is dropped, whether its actor was still alive then, and whether a tell sent
/// to it from there was taken.
struct Probe(WeakLink<WaitsInInit>, mpsc::Sender<(bool, bool)>);

impl Drop for Probe {
    fn drop(&mut self) {
        let alive = self.0.alive();
        let taken =
            self.0.upgrade().is_some_and(|link| link.try_send_raw(Multi::tell(Ping)).is_ok());
        let _ = self.1.send((alive, taken));
    }
}

/// An actor whose `init` future holds a [`Probe`] and never finishes.
struct WaitsInInit;

impl Actor for WaitsInInit {
    type Message = Multi<Self>;
    type Spec = mpsc::Sender<(bool, bool)>;
    type Channel = actor12::MpscChannel<Self::Message>;
    type Cancel = ();
    type State = ();
    fn state(_: &Self::Spec) {}
    fn init(ctx: actor12::Init<'_, Self>) -> impl actor12::InitFuture<Self> {
        let probe = Probe(ctx.link.downgrade(), ctx.spec);
        async move {
            let _probe = probe;
            std::future::pending::<()>().await;
            Ok(WaitsInInit)
        }
    }
}

handlers!(WaitsInInit);

#[test]
fn an_init_stopped_while_it_waits_is_dropped_with_its_actor_stopped() {
    // Its future was dropped while the mailbox was still open: its destructors found the actor
    // alive, and a tell from them was taken, then dropped at the teardown (a review of
    // 2026-12-07). A panic or a shutdown closes the mailbox first.
    let rt = runtime(2);
    let (probe_tx, probed) = mpsc::channel();
    let link = rt.block_on(async { actor12::spawn::<WaitsInInit>(probe_tx) });
    link.cancel(());
    let (alive, taken) = probed.recv_timeout(HANG).expect("init's future was never dropped");
    assert!(!alive, "init's future was dropped while its actor still looked alive");
    assert!(!taken, "a tell from init's dropped future was taken");
    assert!(resolves_within(async move { link.wait().await }).is_some(), "wait() hung");
}
