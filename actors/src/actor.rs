//! The `Actor` trait, its contexts, and what `spawn` does.

use std::any::Any;
use std::fmt::Debug;
use std::future::Future;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::ops::ControlFlow;
use std::pin::Pin;
use std::ptr;
use std::sync::Arc;
use std::task::{Poll, ready};

use crate::cancel::{CancelReason, CancelToken, Parent};
use crate::channel::{ActorChannel, ActorReceiver};
use crate::handler::Exec;
use crate::link::{Link, LinkPart};
use crate::task::{self, ByValue, CoreRef};
use crate::weak::WeakLink;

/// An actor: state owned by one task, changed only by the messages it handles, one at a time.
///
/// Implement the five associated types, [`state`](Actor::state) and [`init`](Actor::init); the
/// rest has defaults. See the crate documentation for a complete example.
///
/// * `Message`: what the mailbox carries. [`Multi<Self>`](crate::Multi) lets the actor handle
///   any type `M` it implements [`Handler<M>`](crate::Handler) for (handler style);
///   [`Envelope<T, R>`](crate::Envelope) is one request type with a reply (envelope style, handled
///   in [`handle`](Actor::handle)); any type of your own works too (raw style: implement
///   [`ActorMessage`] for it, usually with an empty `impl`, and override `handle`).
/// * `Spec`: what [`spawn`](crate::spawn) takes to build the actor.
/// * `Channel`: the mailbox flavour; write `MpscChannel<Self::Message>`.
/// * `Cancel`: the stop reason carried by the actor's [`CancelToken`].
/// * `State`: a value shared with every [`Link`] (read with [`Link::state`]) without a message.
///
/// # Examples
///
/// The crate documentation's counter uses `()` for `Cancel` and `State`. This one shows its
/// count through its links (`State`), says why it stopped (`Cancel`), and reports in
/// [`terminate`](Actor::terminate):
///
/// ```
/// use std::sync::{Arc, Mutex};
///
/// use actor12::cancel::CancelReason;
/// use actor12::prelude::*;
/// use actor12::{ActorContext, oneshot};
///
/// #[derive(Clone, Debug, Default, PartialEq)]
/// enum Why {
///     #[default]
///     Unlinked, // the default reason: the last link was dropped
///     Done,
/// }
///
/// struct Counter {
///     count: Arc<Mutex<u64>>,
///     report: Option<oneshot::Sender<(u64, Why)>>,
/// }
///
/// impl Actor for Counter {
///     type Message = Multi<Self>;
///     type Spec = (u64, oneshot::Sender<(u64, Why)>); // where to start, whom to report to
///     type Channel = MpscChannel<Self::Message>;
///     type Cancel = Why;
///     type State = Arc<Mutex<u64>>;
///
///     fn state(spec: &Self::Spec) -> Arc<Mutex<u64>> {
///         Arc::new(Mutex::new(spec.0))
///     }
///
///     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
///         let count = ctx.link.state().clone();
///         std::future::ready(Ok(Counter { count, report: Some(ctx.spec.1) }))
///     }
///
///     async fn terminate(mut self, _: ActorContext<Self>, reason: CancelReason<Why>) {
///         let report = (*self.count.lock().unwrap(), reason.into_value());
///         let _ = self.report.take().unwrap().send(report);
///     }
/// }
///
/// struct Bump;
///
/// impl Handler<Bump> for Counter {
///     type Reply = anyhow::Result<()>;
///     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Bump) -> Self::Reply {
///         *self.count.lock().unwrap() += 1;
///         Ok(())
///     }
/// }
///
/// actor12::rt::Runtime::new().unwrap().block_on(async {
///     let (tx, report) = oneshot::channel();
///     let counter = actor12::spawn::<Counter>((5, tx));
///     counter.ask_dyn(Bump).await.unwrap();
///     assert_eq!(*counter.state().lock().unwrap(), 6); // no message needed to read it
///     counter.cancel_and_wait(Why::Done).await;
///     assert_eq!(report.await.unwrap(), (6, Why::Done));
/// });
/// ```
pub trait Actor: Sized + Send + 'static {
    /// What the mailbox carries.
    type Message: ActorMessage<Self>;
    /// What `spawn` takes.
    type Spec: Send;
    /// The mailbox flavour: [`MpscChannel<Self::Message>`](crate::MpscChannel).
    type Channel: ActorChannel<Message = Self::Message>;
    /// The stop reason.
    type Cancel: Clone + Debug + Default + Send + Sync + 'static;
    /// A value readable through every link.
    type State: Send + Sync + 'static;

    /// The tracing span the actor's code runs in: entered whenever its lifecycle is polled, so
    /// around `init`'s future, every `cycle` (with its handlers) and `terminate`; not around
    /// [`crash`](Actor::crash), which runs once the lifecycle is gone. Also in
    /// [`ActorContext::span`]. The default, `Span::none()`, costs an actor one word and a null
    /// check per poll, and enters nothing: a first run made inside `spawn` (see
    /// [`init`](Actor::init)) runs in whatever span the spawner is in, later runs in none.
    fn span(_spec: &Self::Spec) -> tracing::Span {
        tracing::Span::none()
    }

    /// Capacity of the actor's mailbox: senders wait (or `try_send_raw` fails) when it is full.
    /// Waiting senders are given room in the order they started waiting, and a later send waits
    /// behind them (with a capacity over 1, its message may still arrive before that of a
    /// sender given room but not yet run, when there is room for both).
    /// Defaults to 64, as in actor12 0.0.11; `usize::MAX` is unbounded, and 0 is taken as 1.
    /// The actor's own sends to itself never wait: from its own run, where no room could come
    /// while it waited, a send to its full mailbox goes past the bound. A send from a task or
    /// actor on the runtime that finds this actor about 500 messages behind (possible only with
    /// a capacity that large) makes its sender yield at its next send (or other await of the
    /// runtime's futures), so that an actor fed from its own worker gets to run; only the
    /// capacity bounds the queue.
    fn mailbox_capacity() -> usize {
        64
    }

    /// The shared [`State`](Actor::State), built from the spec before `init`, in `spawn`'s
    /// caller (with the `tokio` feature, in the tokio context `init`'s body gets). It is dropped
    /// with the last [`Link`] (which stops the actor), on the thread that drops it, possibly while
    /// the actor's `terminate` still runs on its worker.
    fn state(spec: &Self::Spec) -> Self::State;

    /// What to do with messages still queued when the actor is asked to stop: handle them
    /// ([`Terminate::ProcessAll`]) or drop them, their askers getting an error
    /// ([`Terminate::Exit`], the default). The drain passes each message to
    /// [`handle`](Actor::handle), not to [`cycle`](Actor::cycle): an actor that takes its
    /// messages in a `cycle` of its own and leaves `handle` at its default (which passes the
    /// message to `ActorMessage::handle`, whose default drops it) overrides `handle` too, or,
    /// before its `cycle` breaks, closes the mailbox (`ctx.rx.close()`) and takes the rest with
    /// `ctx.rx.recv().await` until `None`.
    fn termination_strategy(&mut self) -> Terminate {
        Terminate::Exit
    }

    /// Runs once after the actor stopped for `reason`, with its context. The mailbox is closed
    /// by then and the queued messages handled or dropped (see
    /// [`termination_strategy`](Actor::termination_strategy)).
    ///
    /// The actor's token is cancelled with `reason` once `terminate` returns, if nothing
    /// cancelled it before (a stop by [`tick`](Actor::tick)'s `Break` or a custom `cycle`'s):
    /// its children then still run during `terminate` (also when the actor's last link goes
    /// meanwhile, such as its own link kept in `self`), and `ctx.token.cancelled()` awaited
    /// here would wait for good.
    ///
    /// It does not run when the actor ends without stopping: after a panic ([`crash`] runs
    /// instead), or when its runtime shuts down (the [`Runtime`](crate::rt::Runtime) is dropped,
    /// or `shutdown_timeout`) with the actor still alive. Then the actor's state is dropped where
    /// it is, in the middle of a handler if one was running, the queued messages are dropped
    /// (their askers get an error), its token is cancelled with the default reason, and
    /// [`Link::wait`](crate::Link::wait) resolves. Cleanup that must happen then belongs in the
    /// actor's `Drop`.
    ///
    /// [`crash`]: Actor::crash
    fn terminate(
        self,
        _ctx: ActorContext<Self>,
        _reason: CancelReason<Self::Cancel>,
    ) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }

    /// Work that is not a message, raced with the mailbox on every cycle (a periodic flush, a
    /// socket). `Break(reason)` stops the actor. Never resolves by default.
    ///
    /// A tick that is ready often does not starve the mailbox: after a tick that fires, the
    /// next cycle looks at the mailbox first, and each tick counts against the actor's turn on
    /// its worker as a message does.
    ///
    /// Its future is made again for every cycle, that is after every message: keep what must
    /// last across messages in the actor, not in the future. A `sleep(period)` written in the
    /// body starts over with each message and, under a steady stream, never fires; an
    /// [`Interval`](crate::time::Interval) kept in a field and awaited here does.
    ///
    /// The future is dropped as each message arrives, between the message's leaving the mailbox
    /// and its handler: a future whose drop panics there stops the actor as a panicking handler
    /// does, and the message is dropped unhandled (its asker gets an error).
    fn tick(&mut self) -> impl Future<Output = ControlFlow<Self::Cancel>> + Send {
        std::future::pending()
    }

    /// One step of the actor's life: by default the first of cancellation, [`tick`](Actor::tick)
    /// and the next message (handled with [`handle`](Actor::handle)). Override it to run your own
    /// loop with `ctx.rx.recv()`; the override must also watch `ctx.token` (race the receive
    /// with `ctx.token.cancelled()` and return `Break` with its reason), or the actor does not
    /// stop when it is cancelled. (Dropping its last link also closes the mailbox: a loop that
    /// returns `Break` once `recv()` gives `None` stops then, after taking what was queued.)
    ///
    /// The runtime calls `cycle` again as soon as it returns `Continue`, in the same turn on the
    /// worker: the actor's turn ends when a cycle waits (a receive with nothing queued, a
    /// timer, a reply) or, with messages always queued, after a batch of them. A cycle that
    /// never waits (it always has work from a source of its own, and takes no message) holds
    /// its worker until the actor stops, as a future that is never pending does in any
    /// runtime: call [`actor12::rt::yield_now`](crate::rt::yield_now)`().await` in it now and
    /// then (every few dozen units of work) to let the other actors and tasks on the worker
    /// run.
    ///
    /// # Examples
    ///
    /// An own loop, the first of the cancel and the next message. The call to the actor's
    /// `handle` is written `Actor::handle`: an actor with `Handler` impls has two methods of
    /// that name.
    ///
    /// ```
    /// use std::future::{Future, poll_fn};
    /// use std::ops::ControlFlow;
    /// use std::pin::pin;
    /// use std::task::Poll;
    /// use actor12::cancel::CancelReason;
    /// use actor12::prelude::*;
    /// use actor12::{ActorContext, Call, MpscChannel, Multi};
    ///
    /// struct Counter(u64);
    /// struct Add(u64);
    ///
    /// impl Actor for Counter {
    ///     type Message = Multi<Self>;
    ///     type Spec = ();
    ///     type Channel = MpscChannel<Self::Message>;
    ///     type Cancel = ();
    ///     type State = ();
    ///     fn state(_: &()) {}
    ///     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
    ///         std::future::ready(Ok(Counter(0)))
    ///     }
    ///
    ///     async fn cycle(
    ///         &mut self,
    ///         ctx: &mut ActorContext<Self>,
    ///     ) -> ControlFlow<CancelReason<()>> {
    ///         let mut cancelled = pin!(ctx.token.cancelled());
    ///         let next = poll_fn(|cx| match cancelled.as_mut().poll(cx) {
    ///             Poll::Ready(reason) => Poll::Ready(Err(reason)),
    ///             Poll::Pending => ctx.rx.poll_recv(cx).map(Ok),
    ///         });
    ///         match next.await {
    ///             Err(reason) => ControlFlow::Break(reason),
    ///             Ok(None) => ControlFlow::Break(CancelReason::default()), // mailbox closed
    ///             Ok(Some(msg)) => {
    ///                 Actor::handle(self, Exec::new(ctx), msg).await;
    ///                 ControlFlow::Continue(())
    ///             }
    ///         }
    ///     }
    /// }
    ///
    /// impl Handler<Add> for Counter {
    ///     type Reply = anyhow::Result<u64>;
    ///     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Add(n): Add) -> Self::Reply {
    ///         self.0 += n;
    ///         Ok(self.0)
    ///     }
    /// }
    ///
    /// actor12::rt::Runtime::new().unwrap().block_on(async {
    ///     let counter = actor12::spawn::<Counter>(());
    ///     assert_eq!(counter.ask_dyn(Add(2)).await.unwrap(), 2);
    ///     counter.cancel_and_wait(()).await; // the loop sees the cancel
    /// });
    /// ```
    fn cycle(
        &mut self,
        ctx: &mut ActorContext<Self>,
    ) -> impl Future<Output = ControlFlow<CancelReason<Self::Cancel>, ()>> + Send {
        async move {
            // The event lives in this block only: a local still in scope at the handler's await
            // is kept in the future, and re-reading it there stalled a store forward.
            let msg = {
                let mut slot = MaybeUninit::uninit();
                let tick = ManuallyDrop::new(self.tick());
                match (NextEvent::<Self, _> { ctx: &mut *ctx, tick, slot: &mut slot }).await {
                    Event::Cancelled(reason) => return ControlFlow::Break(reason),
                    // A closure, so that the reason's location is this line (`CancelReason::new`
                    // passed as a function recorded one inside `core`).
                    Event::Tick(flow) => return flow.map_break(|value| CancelReason::new(value)),
                    Event::Message(Some(msg)) => {
                        msg.delivered_to_actor();
                        msg
                    }
                    Event::InSlot => {
                        // SAFETY: the poll that returned `InSlot` moved a message into the slot.
                        let msg = unsafe { slot.assume_init_read() };
                        msg.delivered_to_actor();
                        msg
                    }
                    Event::Message(None) => return ControlFlow::Break(CancelReason::default()),
                }
            };
            self.handle(Exec::new(ctx), msg).await;
            ControlFlow::Continue(())
        }
    }

    /// The actor's code panicked: a handler, `init`'s future, `tick`, `cycle` or `terminate`.
    /// The actor is already stopped (its state dropped, its token cancelled with
    /// `Cancel::default()` unless it was cancelled already, queued messages dropped, their
    /// askers answered with an error); this reports the panic. The default logs it with
    /// `tracing` (actor12 0.0.11 exited the process here). A panic in `crash` itself ends the
    /// report and nothing else.
    ///
    /// The stop happens in steps. The panic unwinds first, dropping what the panicking code
    /// held (the handler's future), then the actor's context, which closes the mailbox, then
    /// the actor itself (its `Drop` runs and finds `alive()` false, its token not yet
    /// cancelled); then the token is cancelled, the queued messages are dropped, and this runs.
    /// Reply slots (an ask's, an envelope's) are answered with their error only once the
    /// mailbox is closed, including those the panic dropped as it unwound, so an asker that
    /// gets the error finds the actor no longer `alive()` and its sends failing; anything else
    /// the handler's unwinding drops (a channel of another library it held) goes while the
    /// actor may still look alive. [`Link::wait`](crate::Link::wait) resolves once the stop is
    /// complete.
    fn crash(payload: Box<dyn Any + Send>) -> impl Future<Output = ()> + Send {
        let msg = panic_message(&*payload);
        tracing::error!(actor = std::any::type_name::<Self>(), "actor panicked: {msg}");
        std::future::ready(())
    }

    /// Handles one message. The default dispatches [`Multi`](crate::Multi) messages to their
    /// [`Handler`](crate::Handler); override it for envelope or raw style.
    fn handle<'a>(
        &'a mut self,
        ctx: Exec<'a, Self>,
        msg: Self::Message,
    ) -> impl Future<Output = ()> + Send + 'a {
        msg.handle(self, ctx)
    }

    /// Builds the actor. Runs in `spawn`'s caller. So does the actor's first run (the returned
    /// future and the first cycle, until the actor waits or yields: `tick`, and the handlers of
    /// messages queued by then, one the future sent the actor itself among them) when the
    /// caller is one of the runtime's workers, unless that caller is itself such a first run,
    /// or unwinds, or (with the `tokio` feature) is a worker that has run no actor yet;
    /// otherwise the future runs on a worker later (see [`spawn`](crate::spawn)).
    /// `Err(reason)` stops the actor before it handles anything. If the actor is stopped while
    /// the future waits (its token cancelled, its last link dropped), the future is dropped
    /// unfinished and the actor ends as a refused one does. A panic in `init`'s body (before it
    /// returns its future) reaches `spawn`'s caller; the actor is gone, and the actors `init`
    /// spawned are stopped with it.
    /// A panic in its future stops the actor as a handler's does, inside the spawn too. With
    /// the `tokio` feature its body runs in the tokio context the actor's runs get (the
    /// bridge's, unless the caller is a worker already in one of your own), not in the
    /// caller's: a tokio timer or task it makes does not depend on a runtime the actor may
    /// outlive, such as a `#[tokio::test]`'s.
    fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self>;

    /// Spawns an actor of this type: see [`spawn`](crate::spawn).
    fn spawn(spec: Self::Spec) -> Link<Self> {
        spawn_on::<Self>(spec, crate::runtime::handle())
    }
}

enum Event<C, M> {
    Cancelled(CancelReason<C>),
    Tick(ControlFlow<C>),
    /// The next message (a small one), or `None` if the mailbox is closed.
    Message(Option<M>),
    /// The next message (a large one) is in the cycle's slot.
    InSlot,
}

/// The default `cycle`'s select: the first of cancellation, `tick` and the next message.
///
/// A future of its own rather than a `poll_fn` closure, so that its poll is inlined into the
/// lifecycle's: returned from a call, the event (with the message in it) went through the stack,
/// and reading it back as wider words than it was written with stalled (failed store
/// forwarding) on every message.
struct NextEvent<'a, A: Actor, T> {
    /// The context, for its token and receiver (one pointer rather than one each: the future
    /// waits here, and its size is every actor's).
    ctx: &'a mut ActorContext<A>,
    /// The actor's `tick`, pinned with this future: held here rather than behind a pointer of
    /// its own (a word less in every actor, as above). One with a drop of its own is dropped by
    /// the poll that returns the event, not after it (see [`drop_tick_first`]).
    tick: ManuallyDrop<T>,
    /// Where a large message goes (see [`poll_recv`]).
    slot: &'a mut MaybeUninit<A::Message>,
}

impl<A: Actor, T: Future<Output = ControlFlow<A::Cancel>>> Future for NextEvent<'_, A, T> {
    type Output = Event<A::Cancel, A::Message>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `tick` is pinned with the future (structurally): it is never moved out of it,
        // only dropped in place (`drop_tick_first`, `Drop`); the other fields are pointers, not
        // pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: as above.
        let tick = unsafe { Pin::new_unchecked(&mut *this.tick) };
        let event = ready!(select::<A, T>(this.ctx, tick, this.slot, cx));
        if std::mem::needs_drop::<T>() {
            let in_slot = matches!(event, Event::InSlot);
            // SAFETY: this poll returns the event, so the tick is not polled again.
            unsafe {
                drop_tick_first::<A, T>(&mut this.ctx.rx, &mut this.tick, this.slot, in_slot)
            };
        }
        Poll::Ready(event)
    }
}

impl<A: Actor, T> Drop for NextEvent<'_, A, T> {
    fn drop(&mut self) {
        if std::mem::needs_drop::<T>() && !self.ctx.rx.set_tick_dropped(false) {
            // SAFETY: the tick was not dropped yet (the poll that drops it records so), and is
            // dropped in place, as it is pinned.
            unsafe { ManuallyDrop::drop(&mut self.tick) }
        }
    }
}

/// Drops the tick future before its select returns the event: the user's drop may panic, and
/// a panic in the drop of an awaited future, which comes after its poll returned, loses the
/// value it returned without dropping it: the message, whose asker then waited for ever (test
/// `a_tick_whose_drop_panics_as_a_message_arrives_answers_that_messages_asker`). Here the event
/// is still the poll's, and the unwinding drops it: a message by value as a local, one in
/// `slot` (`in_slot`) through a guard.
///
/// # Safety
///
/// `tick` is not dropped yet and is never used again but by [`NextEvent`]'s drop.
#[inline]
unsafe fn drop_tick_first<A: Actor, T>(
    rx: &mut ActorReceiver<A::Message>,
    tick: &mut ManuallyDrop<T>,
    slot: &mut MaybeUninit<A::Message>,
    in_slot: bool,
) {
    /// Drops the message in the slot if the tick's drop panics.
    struct DropMessage<'a, M>(&'a mut MaybeUninit<M>);

    impl<M> Drop for DropMessage<'_, M> {
        fn drop(&mut self) {
            // SAFETY: made only when the poll moved a message into the slot (`InSlot`), and
            // dropped only while unwinding, before the cycle reads the message.
            unsafe { self.0.assume_init_drop() }
        }
    }

    // First, so that `NextEvent`'s drop, also while this unwinds, leaves the tick alone.
    rx.set_tick_dropped(true);
    let guard = in_slot.then(|| DropMessage(slot));
    // SAFETY: the caller's promise; dropped in place, as it is pinned.
    unsafe { ManuallyDrop::drop(tick) };
    std::mem::forget(guard);
}

/// [`NextEvent`]'s poll.
#[inline(always)]
fn select<A: Actor, T: Future<Output = ControlFlow<A::Cancel>>>(
    ctx: &mut ActorContext<A>,
    mut tick: Pin<&mut T>,
    slot: &mut MaybeUninit<A::Message>,
    cx: &mut std::task::Context<'_>,
) -> Poll<Event<A::Cancel, A::Message>> {
    if let Some(reason) = ctx.token.reason() {
        return Poll::Ready(Event::Cancelled(reason));
    }
    // After a tick the mailbox goes first: a tick that is always ready (a flooded source it
    // drains) would otherwise starve the messages, which actor12 0.0.11's unbiased select let
    // through. Out of line, so that a cycle after a message costs one read here.
    if ctx.rx.ticked() {
        return poll_after_tick::<A, T>(ctx, tick, slot, cx);
    }
    if let Poll::Ready(flow) = tick.as_mut().poll(cx) {
        // A tick takes a unit of the run's budget, as a message does, so that one always ready
        // still lets the other actors on the worker run.
        ctx.rx.note_tick();
        return Poll::Ready(Event::Tick(flow));
    }
    poll_recv::<A>(&mut ctx.rx, slot)
}

/// The default cycle's next message. One larger than two words (see [`large`]) is moved from
/// its mailbox slot straight into `slot` (`InSlot`): returned through the receive's layers (the
/// pop's `Option`, `Pop`, the receive's step, `Poll`, the event), it was copied through the
/// stack at each (callgrind, handler-style fork-join: 34 instructions a message fewer this way;
/// handler-style ping-pong 4.3 ns a round trip faster). A smaller one comes back in the event, in
/// registers: written to the slot and read back, it waited for that store and load
/// (envelope-style ask, 2 ns a round trip slower).
#[inline(always)]
fn poll_recv<A: Actor>(
    rx: &mut ActorReceiver<A::Message>,
    slot: &mut MaybeUninit<A::Message>,
) -> Poll<Event<A::Cancel, A::Message>> {
    if large::<A::Message>() {
        let got = ready!(rx.poll_recv_with(slot)).is_some();
        Poll::Ready(if got { Event::InSlot } else { Event::Message(None) })
    } else {
        rx.poll_recv_with(&mut ByValue).map(Event::Message)
    }
}

/// The default cycle's select after a tick: the mailbox first (a closed one stops the actor, as
/// in any cycle), then the tick again.
#[cold]
#[inline(never)]
fn poll_after_tick<A: Actor, T: Future<Output = ControlFlow<A::Cancel>>>(
    ctx: &mut ActorContext<A>,
    mut tick: Pin<&mut T>,
    slot: &mut MaybeUninit<A::Message>,
    cx: &mut std::task::Context<'_>,
) -> Poll<Event<A::Cancel, A::Message>> {
    ctx.rx.clear_ticked();
    if let Poll::Ready(event) = poll_recv::<A>(&mut ctx.rx, slot) {
        return Poll::Ready(event);
    }
    if ctx.rx.must_yield() {
        return Poll::Pending;
    }
    if let Poll::Ready(flow) = tick.as_mut().poll(cx) {
        ctx.rx.note_tick();
        return Poll::Ready(Event::Tick(flow));
    }
    // The receive polled above says why the run waits.
    Poll::Pending
}

/// Whether the default `cycle` receives an `M` into a slot of its own rather than by value (see
/// [`poll_recv`]): one larger than two words, such as a [`Multi`](crate::Multi) (four).
const fn large<M>() -> bool {
    size_of::<M>() > 2 * size_of::<usize>()
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

/// A message type an actor's default [`handle`](Actor::handle) knows how to run.
///
/// [`Multi`](crate::Multi) dispatches to a [`Handler`](crate::Handler);
/// [`Envelope`](crate::Envelope) and [`NoReply`](crate::NoReply) do nothing by default (the actor
/// overrides `handle`). For a raw message type of your own, an empty impl is enough:
///
/// ```
/// # #![allow(dead_code)]
/// # use actor12::{Actor, ActorMessage};
/// # struct MyActor;
/// enum Command { Start, Stop }
/// impl ActorMessage<MyActor> for Command {}
/// # impl Actor for MyActor {
/// #     type Message = Command;
/// #     type Spec = ();
/// #     type Channel = actor12::MpscChannel<Command>;
/// #     type Cancel = ();
/// #     type State = ();
/// #     fn state(_: &()) {}
/// #     fn init(_: actor12::Init<'_, Self>) -> impl actor12::InitFuture<Self> { std::future::ready(Ok(MyActor)) }
/// # }
/// ```
pub trait ActorMessage<A: Actor>: Send + 'static {
    /// Runs the message against the actor. The default drops it.
    fn handle<'a>(
        self,
        _actor: &'a mut A,
        _ctx: Exec<'a, A>,
    ) -> impl Future<Output = ()> + Send + 'a
    where
        Self: Sized,
    {
        std::future::ready(())
    }

    /// The runtime took the message out of the mailbox for the actor's code: an ask's reply
    /// may come from wherever that code passes it (see `oneshot::Sender::delivered`). Handler
    /// style marks it when its handler starts; envelope style here.
    #[doc(hidden)]
    #[inline(always)]
    fn delivered_to_actor(&self) {}

    /// The actor's own code took the message out of the mailbox (`ActorReceiver::recv`,
    /// `try_recv`, `recv_many`), where the default `cycle` and the stop's drain do not: as
    /// [`delivered_to_actor`](Self::delivered_to_actor), unless the message type marks its
    /// asks another way there (`Multi`, whose handler start marks them for the default `cycle`).
    #[doc(hidden)]
    #[inline(always)]
    fn taken_by_actor_code(&self) {
        self.delivered_to_actor();
    }

    /// Whether the requests this message type carries are marked as they leave the mailbox
    /// (`delivered_to_actor`; for `Multi`, its handler start and `taken_by_actor_code`): only
    /// then may a request name the actor that answers it (`Recipient::envelope`), so that the
    /// actor awaiting the answer in its own run while the request still waits panics instead
    /// of hanging. An envelope inside a message type of the user's own is never marked: named,
    /// it would make that panic come after the request was taken out, too.
    #[doc(hidden)]
    const MARKS_DELIVERY: bool = false;
}

/// What [`Actor::termination_strategy`] returns.
///
/// # Examples
///
/// A writer that must not lose what was queued before it was asked to stop:
///
/// ```
/// use actor12::{Terminate, oneshot};
/// # use actor12::prelude::*;
/// # use actor12::{Call, MpscChannel, Multi};
/// struct Writer;
/// impl Actor for Writer {
///     fn termination_strategy(&mut self) -> Terminate {
///         Terminate::ProcessAll // the default, `Exit`, would drop the queued writes
///     }
/// #     type Message = Multi<Self>;
/// #     type Spec = ();
/// #     type Channel = MpscChannel<Self::Message>;
/// #     type Cancel = ();
/// #     type State = ();
/// #     fn state(_: &()) {}
/// #     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
/// #         std::future::ready(Ok(Writer))
/// #     }
/// }
/// # struct Hold(oneshot::Receiver<()>);
/// # impl Handler<Hold> for Writer {
/// #     type Reply = anyhow::Result<()>;
/// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, h: Hold) -> Self::Reply {
/// #         Ok(h.0.await?)
/// #     }
/// # }
/// # struct Write(u64);
/// # impl Handler<Write> for Writer {
/// #     type Reply = anyhow::Result<u64>;
/// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, w: Write) -> Self::Reply {
/// #         Ok(w.0)
/// #     }
/// # }
///
/// # actor12::rt::Runtime::new().unwrap().block_on(async {
/// let writer = actor12::spawn::<Writer>(());
/// let (release, held) = oneshot::channel();
/// writer.tell_dyn(Hold(held)).await; // keeps the writer busy
/// let queued = writer.ask_dyn_async(Write(7)).await; // waits behind it
/// writer.cancel(());
/// release.send(()).unwrap();
/// writer.wait().await;
/// assert_eq!(queued.await.unwrap(), 7); // handled before the writer stopped
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Terminate {
    /// Handle every message already queued, with [`Actor::handle`] (not a `cycle` of the
    /// actor's own), then stop.
    ProcessAll,
    /// Stop now; queued messages are dropped and their askers get an error.
    Exit,
}

/// The future [`Actor::init`] returns: builds the actor, or stops it with a reason.
pub trait InitFuture<A: Actor>:
    Future<Output = Result<A, <A as Actor>::Cancel>> + Send + 'static
{
}

impl<A: Actor, F: Future<Output = Result<A, <A as Actor>::Cancel>> + Send + 'static> InitFuture<A>
    for F
{
}

/// What [`Actor::init`] gets.
///
/// # Examples
///
/// An `init` that refuses a bad spec (the actor stops before it handles anything, with the
/// reason given) and starts a background task, which stops with the actor:
///
/// ```
/// use actor12::oneshot;
/// use actor12::prelude::*;
///
/// struct Server;
///
/// impl Actor for Server {
///     type Message = Multi<Self>;
///     type Spec = (u16, oneshot::Sender<u16>);
///     type Channel = MpscChannel<Self::Message>;
///     type Cancel = String;
///     type State = ();
///     fn state(_: &Self::Spec) {}
///
///     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
///         let Init { spec: (port, started), tasks, .. } = ctx;
///         if port == 0 {
///             return std::future::ready(Err("no port given".to_string()));
///         }
///         tasks.spawn(async move {
///             let _ = started.send(port); // a listener's accept loop would go here
///         });
///         std::future::ready(Ok(Server))
///     }
/// }
///
/// actor12::rt::Runtime::new().unwrap().block_on(async {
///     let (started, _) = oneshot::channel();
///     let refused = actor12::spawn::<Server>((0, started));
///     refused.wait().await;
///     assert_eq!(refused.token().reason().unwrap().value(), "no port given");
///
///     let (started, port) = oneshot::channel();
///     let server = actor12::spawn::<Server>((8080, started));
///     assert_eq!(port.await, Ok(8080));
///     server.cancel_and_wait("shutdown".to_string()).await;
/// });
/// ```
pub struct Init<'a, A: Actor> {
    /// The spec given to `spawn`.
    pub spec: A::Spec,
    /// Background tasks tied to the actor: aborted when it stops.
    pub tasks: &'a mut TaskSet,
    /// A link to the actor being built (keep it and the actor keeps itself alive).
    pub link: Link<A>,
    /// The actor's cancellation token.
    pub token: CancelToken<A::Cancel>,
}

impl<A: Actor> Debug for Init<'_, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Init").field("link", &self.link).finish_non_exhaustive()
    }
}

impl<A: Actor> Init<'_, A> {
    /// Spawns a background task tied to the actor: aborted when the actor stops.
    pub fn spawn<F>(&mut self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.tasks.spawn(future);
    }
}

/// The running actor's context: its mailbox receiver, token, background tasks and a link to
/// itself.
///
/// # Examples
///
/// A handler (through [`Call`](crate::Call), which derefs to it) reading what waits in its
/// mailbox, telling itself a message through its weak link, and starting a background task
/// that ends with the actor:
///
/// ```
/// use actor12::oneshot;
/// use actor12::prelude::*;
///
/// struct Worker {
///     seen: Vec<&'static str>,
/// }
///
/// impl Actor for Worker {
///     type Message = Multi<Self>;
///     type Spec = ();
///     type Channel = MpscChannel<Self::Message>;
///     type Cancel = ();
///     type State = ();
///     fn state(_: &()) {}
///     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
///         std::future::ready(Ok(Worker { seen: Vec::new() }))
///     }
/// }
///
/// struct Start(oneshot::Sender<&'static str>);
/// struct Note(&'static str);
/// struct Seen;
///
/// impl Handler<Start> for Worker {
///     type Reply = anyhow::Result<usize>;
///     async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, s: Start) -> Self::Reply {
///         let queued = ctx.rx.len(); // messages waiting behind this one
///         ctx.link.tell_dyn(Note("from myself")).await; // queued behind those
///         ctx.spawn(async move {
///             let _ = s.0.send("from a background task");
///         });
///         Ok(queued)
///     }
/// }
///
/// impl Handler<Note> for Worker {
///     type Reply = anyhow::Result<()>;
///     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, msg: Note) -> Self::Reply {
///         self.seen.push(msg.0);
///         Ok(())
///     }
/// }
///
/// impl Handler<Seen> for Worker {
///     type Reply = anyhow::Result<Vec<&'static str>>;
///     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Seen) -> Self::Reply {
///         Ok(self.seen.clone())
///     }
/// }
///
/// actor12::rt::Runtime::new().unwrap().block_on(async {
///     let worker = actor12::spawn::<Worker>(());
///     let (tx, from_task) = oneshot::channel();
///     assert_eq!(worker.ask_dyn(Start(tx)).await.unwrap(), 0);
///     assert_eq!(from_task.await, Ok("from a background task"));
///     assert_eq!(worker.ask_dyn(Seen).await.unwrap(), ["from myself"]);
/// });
/// ```
pub struct ActorContext<A: Actor> {
    /// The mailbox: `ctx.rx.recv().await` is the next message (`None` once it is closed);
    /// `try_recv` takes one without waiting, `recv_many` several. The default
    /// [`cycle`](Actor::cycle) reads it for you. Only the actor's own run may use it: a
    /// receiver swapped out of its context panics when used anywhere else.
    pub rx: ActorReceiver<A::Message>,
    /// The actor's cancellation token.
    pub token: CancelToken<A::Cancel>,
    /// Background tasks tied to the actor: aborted when it stops.
    pub futures: TaskSet,
    /// The actor's tracing span.
    pub span: tracing::Span,
    /// A weak link to the actor itself.
    pub link: WeakLink<A>,
    /// Where `Multi` messages build their handlers' futures, reused from one to the next.
    pub(crate) handler_buf: crate::multi::FutureBuf,
}

impl<A: Actor> Debug for ActorContext<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActorContext").field("link", &self.link).finish_non_exhaustive()
    }
}

impl<A: Actor> ActorContext<A> {
    /// Spawns a background task tied to the actor: aborted when the actor stops.
    pub fn spawn(&mut self, future: impl Future<Output = ()> + Send + 'static) {
        self.futures.spawn(future);
    }
}

/// Background tasks tied to an actor (`Init::tasks`, `ActorContext::futures`): each runs on the
/// actor's runtime, and all are aborted when the set is dropped, that is when the actor stops,
/// after its `terminate` (which they run beside). A task that panics ends alone: the panic hook
/// reports it, and the actor goes on.
///
/// Memory: the set forgets a finished task when it next fills (a prune before it would grow, as
/// [`CancelToken`](crate::cancel::CancelToken)'s list of children does), so after a peak of
/// tasks it keeps about 120 bytes for each until then; a task's future of more than 128 bytes is
/// boxed apart and freed as it finishes.
///
/// # Examples
///
/// A task the actor starts in `init` (a watcher, a flusher) lives exactly as long as the actor:
///
/// ```
/// use actor12::oneshot;
/// # use actor12::prelude::*;
/// # use actor12::{MpscChannel, Multi};
/// struct Watcher;
/// impl Actor for Watcher {
///     type Spec = oneshot::Sender<()>; // dropped when the task ends
///     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
///         let guard = ctx.spec;
///         ctx.tasks.spawn(async move {
///             let _guard = guard;
///             std::future::pending::<()>().await // runs until aborted
///         });
///         assert_eq!(ctx.tasks.len(), 1);
///         std::future::ready(Ok(Watcher))
///     }
/// #     type Message = Multi<Self>;
/// #     type Channel = MpscChannel<Self::Message>;
/// #     type Cancel = ();
/// #     type State = ();
/// #     fn state(_: &oneshot::Sender<()>) {}
/// }
///
/// # actor12::rt::Runtime::new().unwrap().block_on(async {
/// let (guard, task_ended) = oneshot::channel();
/// let watcher = actor12::spawn::<Watcher>(guard);
/// watcher.cancel_and_wait(()).await;
/// assert!(task_ended.await.is_err()); // aborted with the actor: the guard was dropped
/// # });
/// ```
pub struct TaskSet {
    /// The actor, for the runtime it runs on (its core's handle): a reference to its task,
    /// counted in as the task is made (a spare of `allocate`'s), where a reference to the
    /// runtime of the set's own took the worker's bank at the spawn and again at the stop
    /// (callgrind, `peers/spawn_stop`: 36 instructions an actor more). A set moved out of its
    /// actor (with `terminate`'s context) keeps the actor's allocation, as a weak link does, and
    /// through it the runtime, as its own reference did.
    actor: task::ActorRef,
    /// Boxed on the first spawn: every actor's context has a set, and most stay empty.
    #[expect(clippy::box_collection, reason = "an empty set is one word, not three")]
    tasks: Option<Box<Vec<actor12_scheduler::JoinHandle<()>>>>,
}

impl Debug for TaskSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskSet").field("len", &self.len()).finish()
    }
}

impl TaskSet {
    pub(crate) fn new(actor: task::ActorRef) -> TaskSet {
        TaskSet { actor, tasks: None }
    }

    /// Spawns a task into the set. Actors the task spawns are below the actor's token, as
    /// those its handlers spawn are (when it is spawned from the actor's own code).
    pub fn spawn(&mut self, future: impl Future<Output = ()> + Send + 'static) {
        // A finished task's join handle stays in the set until the set next fills (below), and
        // keeps the task's allocation, which is sized for its future: a future of more than
        // `BOXED_ABOVE` bytes goes in a box of its own, freed as it finishes, so that a peak of
        // tasks leaves behind their small task cells, not their futures (50,000 finished tasks
        // of 1 KiB each kept 59,993,200 bytes until the set filled again, 6,102,640 now; a
        // review of 2026-12-07). One allocation more for such a task.
        if std::mem::size_of_val(&future) > BOXED_ABOVE {
            self.spawn_here(Box::pin(future));
        } else {
            self.spawn_here(future);
        }
    }

    fn spawn_here(&mut self, future: impl Future<Output = ()> + Send + 'static) {
        let handle = self.actor.handle();
        let task = match current_parent() {
            Some(parent) => {
                handle.spawn(WithParent { parent, future: std::mem::ManuallyDrop::new(future) })
            }
            None => handle.spawn(future),
        };
        let tasks = self.tasks.get_or_insert_default();
        // Pruned as a token's children are: an actor whose live tasks stay just below the
        // list's capacity does not scan them all on every spawn.
        crate::cancel::push_keeping(tasks, task, |t| !t.is_finished());
    }

    /// Tasks spawned and not yet finished.
    pub fn len(&self) -> usize {
        self.tasks.iter().flat_map(|tasks| tasks.iter()).filter(|t| !t.is_finished()).count()
    }

    /// True if no task is running.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Aborts every task in the set.
    #[inline]
    pub fn abort_all(&mut self) {
        // Most sets never had a task: a look at the `Option`, not an iterator over it (each
        // actor's stop runs this).
        if let Some(tasks) = &mut self.tasks {
            abort_each(tasks);
        }
    }
}

/// The size of a background task's future above which [`TaskSet::spawn`] boxes it.
const BOXED_ABOVE: usize = 128;

#[inline(never)]
fn abort_each(tasks: &mut Vec<actor12_scheduler::JoinHandle<()>>) {
    for task in tasks.drain(..) {
        task.abort();
    }
}

impl Drop for TaskSet {
    fn drop(&mut self) {
        self.abort_all();
    }
}

/// The future of `Actor::init`, whose type the lifecycle's cannot name (it is an opaque type
/// that captures `Init`'s lifetime): stored in place when it is small, as the usual
/// `ready(Ok(actor))` is, else boxed. An allocation less per spawn.
struct InitSlot<A: Actor> {
    /// The future itself, or a pointer to its box.
    data: std::mem::MaybeUninit<[usize; INIT_WORDS]>,
    vtable: &'static InitVtable<A>,
    /// The future may be polled in place: the slot must not move once polled.
    _pinned: std::marker::PhantomPinned,
    /// Neither `Send` nor `Sync` of itself (its words would make it both, whatever they hold):
    /// the `Send` below is the only impl, and `InitFuture`'s bound what it rests on.
    _not_auto: std::marker::PhantomData<*const ()>,
}

/// How to poll and drop what an [`InitSlot`] holds.
struct InitVtable<A: Actor> {
    poll: unsafe fn(*mut (), &mut std::task::Context<'_>) -> Poll<InitResult<A>>,
    drop: unsafe fn(*mut ()),
}

/// What `init` resolves to.
type InitResult<A> = Result<A, <A as Actor>::Cancel>;

/// Words of an `init` future stored in place: `ready(Ok(actor))` for an actor of a word.
const INIT_WORDS: usize = 2;

// SAFETY: the slot holds an `InitFuture`, which is `Send`.
unsafe impl<A: Actor> Send for InitSlot<A> {}

impl<A: Actor> InitSlot<A> {
    fn new<I: InitFuture<A>>(init: I) -> InitSlot<A> {
        let mut data = std::mem::MaybeUninit::<[usize; INIT_WORDS]>::uninit();
        let slot = data.as_mut_ptr().cast::<()>();
        let fits = size_of::<I>() <= size_of::<[usize; INIT_WORDS]>()
            && align_of::<I>() <= align_of::<usize>();
        let vtable = if fits {
            // SAFETY: `I` fits the slot's size and alignment (checked above).
            unsafe { slot.cast::<I>().write(init) };
            const { &InitVtable { poll: poll_init::<A, I>, drop: drop_init::<I> } }
        } else {
            // SAFETY: a pointer fits the slot.
            unsafe { slot.cast::<*mut I>().write(Box::into_raw(Box::new(init))) };
            const { &InitVtable { poll: poll_boxed_init::<A, I>, drop: drop_boxed_init::<I> } }
        };
        InitSlot {
            data,
            vtable,
            _pinned: std::marker::PhantomPinned,
            _not_auto: std::marker::PhantomData,
        }
    }
}

/// # Safety
/// `slot` holds an `I`, pinned (never moved again), not dropped.
unsafe fn poll_init<A: Actor, I: InitFuture<A>>(
    slot: *mut (),
    cx: &mut std::task::Context<'_>,
) -> Poll<Result<A, A::Cancel>> {
    // SAFETY: the caller's contract.
    unsafe { Pin::new_unchecked(&mut *slot.cast::<I>()) }.poll(cx)
}

/// # Safety
/// `slot` holds an `I`, dropped only here, once.
unsafe fn drop_init<I>(slot: *mut ()) {
    // SAFETY: the caller's contract.
    unsafe { slot.cast::<I>().drop_in_place() }
}

/// # Safety
/// `slot` holds a pointer from `Box::into_raw` to an `I`, not yet freed.
unsafe fn poll_boxed_init<A: Actor, I: InitFuture<A>>(
    slot: *mut (),
    cx: &mut std::task::Context<'_>,
) -> Poll<Result<A, A::Cancel>> {
    // SAFETY: the caller's contract; a boxed value never moves.
    unsafe { Pin::new_unchecked(&mut **slot.cast::<*mut I>()) }.poll(cx)
}

/// # Safety
/// `slot` holds a pointer from `Box::into_raw` to an `I`, freed only here, once.
unsafe fn drop_boxed_init<I>(slot: *mut ()) {
    // SAFETY: the caller's contract.
    drop(unsafe { Box::from_raw(*slot.cast::<*mut I>()) })
}

impl<A: Actor> Future for InitSlot<A> {
    type Output = Result<A, A::Cancel>;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<Self::Output> {
        // SAFETY: the slot is pinned (`PhantomPinned`), so its future stays where it is.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: `new` stored the future matching `poll`; it is dropped only by `Drop`.
        unsafe { (this.vtable.poll)(this.data.as_mut_ptr().cast(), cx) }
    }
}

impl<A: Actor> Drop for InitSlot<A> {
    fn drop(&mut self) {
        // SAFETY: `new` stored the future matching `drop`; this is its one drop.
        unsafe { (self.vtable.drop)(self.data.as_mut_ptr().cast()) }
    }
}

/// Spawns an actor on the runtime behind `handle`.
pub(crate) fn spawn_on<A: Actor>(spec: A::Spec, handle: actor12_scheduler::TaskHandle) -> Link<A> {
    spawn_with::<A, _>(spec, handle, scoped_lifecycle::<A>)
}

thread_local! {
    /// The token of the actor whose code runs on this thread (its lifecycle, or a background
    /// task it spawned, is being polled): actors spawned from it get a token below it, so
    /// stopping an actor stops the actors it spawned.
    static PARENT: std::cell::Cell<Option<*const dyn ParentRef>> =
        const { std::cell::Cell::new(None) };
}

/// What `PARENT` points at: an actor's token, or a background task's owned copy of it.
pub(crate) trait ParentRef {
    fn to_owned_parent(&self) -> Arc<dyn Parent>;
}

impl<C: Clone + Send + Sync + 'static> ParentRef for CancelToken<C> {
    fn to_owned_parent(&self) -> Arc<dyn Parent> {
        self.to_parent()
    }
}

impl ParentRef for Arc<dyn Parent> {
    fn to_owned_parent(&self) -> Arc<dyn Parent> {
        self.clone()
    }
}

/// Runs `f` with `token` published in `PARENT`: actors spawned in it get tokens below `token`.
#[inline]
pub(crate) fn with_parent<R>(token: &(dyn ParentRef + 'static), f: impl FnOnce() -> R) -> R {
    published(Some(token as *const dyn ParentRef), f)
}

/// Runs `f` with no token published in `PARENT`, as a worker runs an actor: an actor's first
/// run made inside its spawn must not take its spawner's token for the parts it runs outside
/// its `Scoped` (its teardown's drops, its `crash`), where actors spawned get a root.
pub(crate) fn without_parent<R>(f: impl FnOnce() -> R) -> R {
    published(None, f)
}

/// Runs `f` with `parent` in `PARENT`, then puts back what was there, even if `f` unwinds.
#[inline]
fn published<R>(parent: Option<*const dyn ParentRef>, f: impl FnOnce() -> R) -> R {
    let prev = PARENT.with(|p| p.replace(parent));
    struct Restore(Option<*const dyn ParentRef>);
    impl Drop for Restore {
        #[inline]
        fn drop(&mut self) {
            PARENT.with(|p| p.set(self.0));
        }
    }
    let _restore = Restore(prev);
    f()
}

/// A token below the current actor's (see [`CancelToken::child_with`]), or a new root.
pub(crate) fn token_for<C: Clone + Default + Send + Sync + 'static>() -> CancelToken<C> {
    PARENT.with(|p| match p.get() {
        // SAFETY: the pointer is set only while `with_parent` runs on this thread, and points at
        // a token that outlives that call.
        Some(parent) => CancelToken::below(unsafe { &*parent }.to_owned_parent()),
        None => CancelToken::new(),
    })
}

/// The current actor's token, owned, for a background task it spawns (see [`WithParent`]).
fn current_parent() -> Option<Arc<dyn Parent>> {
    // SAFETY: as in `token_for`.
    PARENT.with(|p| p.get().map(|parent| unsafe { &*parent }.to_owned_parent()))
}

/// A background task of an actor, polled with the actor's token published in `PARENT`: actors
/// it spawns stop with the actor, as those its handlers spawn do.
struct WithParent<F> {
    parent: Arc<dyn Parent>,
    /// Dropped by `WithParent`'s drop, inside the tokio bridge's context off the workers.
    future: std::mem::ManuallyDrop<F>,
}

impl<F> Drop for WithParent<F> {
    fn drop(&mut self) {
        // A runtime's shutdown drops the task on the thread that drops the runtime, maybe
        // before its actor: its destructors get the context the actor's teardown gets there.
        #[cfg(all(feature = "tokio", not(actor12_loom)))]
        let _tokio = crate::runtime::tokio_bridge::enter_off_workers();
        // SAFETY: dropped once, here, in place (it may be pinned); never used again.
        unsafe { std::mem::ManuallyDrop::drop(&mut self.future) };
    }
}

impl<F: Future> Future for WithParent<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned (never moved out); `parent` is not.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above.
        let future = unsafe { Pin::new_unchecked(&mut *this.future) };
        // As the actor's own runs do (`task::run`): its background tasks may use tokio too.
        #[cfg(all(feature = "tokio", not(actor12_loom)))]
        crate::runtime::tokio_bridge::enter_once();
        with_parent(&this.parent, || future.poll(cx))
    }
}

/// The lifecycle, with its actor's token published in `PARENT` and its span entered while it is
/// polled.
///
/// Dropped, it cancels the token with the default reason unless it is cancelled already, so the
/// actors this one spawned stop with it: a lifecycle that finishes has cancelled the token with
/// the reason it stopped for (unless `terminate` reset it), one dropped unfinished (a handler
/// panicked, or the runtime shut down) has not. The drop comes at once in either case: the
/// worker that saw the lifecycle finish tears the actor down in the same run. Until 2026-12-05
/// a flag told the two apart, 8 bytes in every actor (16 of glibc's chunk for the idle actors of
/// `peers/spawn_stop`: 480 and 544 bytes, not 496 and 560).
struct Scoped<C: Clone + Default + Send + Sync + 'static, F> {
    token: CancelToken<C>,
    /// [`Actor::span`], unless it is disabled (no subscriber wants it, or the default
    /// `Span::none()`): boxed, so that an actor without one carries a word, not a span.
    span: Option<Box<tracing::Span>>,
    future: F,
}

impl<C: Clone + Default + Send + Sync + 'static, F: Future> Future for Scoped<C, F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<F::Output> {
        // SAFETY: `future` is structurally pinned (never moved out); the other fields are not.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        let _entered = this.span.as_deref().map(tracing::Span::enter);
        with_parent(&this.token, || future.poll(cx))
    }
}

impl<C: Clone + Default + Send + Sync + 'static, F> Drop for Scoped<C, F> {
    fn drop(&mut self) {
        // Only a load if the lifecycle cancelled the token as it finished.
        self.token.cancel_in_drop();
        // Nothing is left to wake: a token clone kept by a user keeps the token, not the actor.
        self.token.clear_hook();
    }
}

/// The actor's lifecycle in the `Scoped` that publishes its token and enters its span; `token`
/// is a clone of the actor's own, and `span` of its context's (`None` if disabled), for the
/// `Scoped` to keep.
fn scoped_lifecycle<A: Actor>(
    init: InitSlot<A>,
    ctx: ActorContext<A>,
    count: crate::count::Count<A>,
    token: CancelToken<A::Cancel>,
    span: Option<Box<tracing::Span>>,
) -> Scoped<A::Cancel, impl Future<Output = ()> + Send + 'static> {
    Scoped { token, span, future: lifecycle::<A>(init, ctx, count) }
}

/// What builds an actor's lifecycle future: `scoped_lifecycle`, given the actor's `init`, its
/// context, its live count, and a token and a span for the `Scoped`.
type MakeLifecycle<A, F> = fn(
    InitSlot<A>,
    ActorContext<A>,
    crate::count::Count<A>,
    CancelToken<<A as Actor>::Cancel>,
    Option<Box<tracing::Span>>,
) -> F;

/// `spawn_on`, with the lifecycle future's type `F` inferred from `make` (so the actor's
/// allocation holds it inline and can be made before `init` is called).
fn spawn_with<A: Actor, F>(
    spec: A::Spec,
    handle: actor12_scheduler::TaskHandle,
    make: MakeLifecycle<A, F>,
) -> Link<A>
where
    F: Future<Output = ()> + Send + 'static,
{
    // The user's code here (`mailbox_capacity`, `state`, `span` and `init`'s body) gets the
    // tokio context the actor's runs get, not the spawner's: a tokio timer kept in `State` must
    // not die with a `#[tokio::test]`'s runtime, nor panic for want of one on a plain thread.
    #[cfg(all(feature = "tokio", not(actor12_loom)))]
    let init_context = crate::runtime::tokio_bridge::context_for_init();
    #[cfg(all(feature = "tokio", not(actor12_loom)))]
    let tokio_context = init_context.as_ref().map(tokio::runtime::Handle::enter);
    let capacity = Some(A::mailbox_capacity());
    // The user's code before `init` runs before anything is allocated, or counted: a spawn it
    // panics in makes no actor. That is `state` and `span`, the subscriber's `clone_span` for
    // the `Scoped`'s copy of the span, and the `Cancel` type's `Clone` and `Default` in
    // `token_for`. (The clone came after `init`, out of the guard's reach: a panic there left
    // an actor that never ran nor stopped, its links alive for ever; the count came before
    // `token_for`, and counted a spawn that panicked there. A review of 2026-12-07.)
    let (state, span) = (A::state(&spec), A::span(&spec));
    let scoped_span = (!span.is_disabled()).then(|| Box::new(span.clone()));
    let token = token_for::<A::Cancel>();
    let count = crate::count::Count::<A>::new();
    let [part_token, init_token, scoped_token] = token.clones::<3>();
    let part = LinkPart { token: part_token, state };
    // Spares: references for the actor's waker, its receiver, its weak link to itself and its
    // task set, and a link for `init`.
    let (inner, mut refs) = task::allocate::<A::Message, LinkPart<A>, F>(
        handle,
        capacity,
        const { &task::Hooks::new(crash::<A>, delivered::<A>) },
        part,
        4,
        1,
    );
    let link = Link::<A> { inner };
    let core = link.inner.core();
    let mut tasks = TaskSet::new(refs.take().erase());
    // A panic in the user's `init` propagates to the spawner, as a panic in any called function
    // does; the guard then tears the half-built actor down and stops the actors `init` spawned.
    let guard = AbandonOnUnwind::<A::Message, LinkPart<A>, F, A::Cancel> {
        core,
        token: &token,
        _future: std::marker::PhantomData,
    };
    // Actors spawned by `init`'s body, before its future is first polled, are children too.
    let init = with_parent(&token, || {
        InitSlot::new(A::init(Init {
            spec,
            tasks: &mut tasks,
            link: Link { inner: refs.take_link() },
            token: init_token,
        }))
    });
    // Inside the guard too: the tokio guard's drop panics if `init`'s body left tokio's context
    // unbalanced (a review of 2026-12-07).
    #[cfg(all(feature = "tokio", not(actor12_loom)))]
    drop(tokio_context);
    std::mem::forget(guard);
    let _ = token.register_waker(refs.take().into_waker());
    // The spawner's token moves into the context: dropped here after `start`, its count would be
    // written while the actor may already run on another worker.
    let ctx = ActorContext {
        rx: ActorReceiver::new(refs.take()),
        token,
        futures: tasks,
        span,
        link: WeakLink::from_core(refs.take()),
        handler_buf: crate::multi::FutureBuf::EMPTY,
    };
    // SAFETY: `core` was allocated above for `LinkPart<A>` and `F`, and this is its one start.
    unsafe {
        task::start::<A::Message, LinkPart<A>, F>(
            core,
            make(init, ctx, count, scoped_token, scoped_span),
        )
    };
    link
}

/// Tears down an actor whose `init` panicked before its lifecycle was written, and cancels its
/// token: the actors `init` spawned are its children, and stop with it, as they do when `init`'s
/// future panics (a link `init` gave away would otherwise keep the token uncancelled).
struct AbandonOnUnwind<'a, M, L, F, C>
where
    M: Send + 'static,
    L: 'static,
    F: Future<Output = ()> + Send + 'static,
    C: Clone + Default + Send + Sync + 'static,
{
    core: &'a CoreRef<M>,
    token: &'a CancelToken<C>,
    _future: std::marker::PhantomData<fn(L, F)>,
}

impl<M, L, F, C> Drop for AbandonOnUnwind<'_, M, L, F, C>
where
    M: Send + 'static,
    L: 'static,
    F: Future<Output = ()> + Send + 'static,
    C: Clone + Default + Send + Sync + 'static,
{
    fn drop(&mut self) {
        // We run during the unwind of `init`'s panic: the teardown below must run regardless.
        self.token.cancel_in_drop();
        // SAFETY: reached only while unwinding out of `init`, before `start`: we still hold the
        // run token of a core allocated for `L` and `F`.
        unsafe { task::abandon::<M, L, F>(self.core) };
    }
}

/// The lifecycle: `init`'s future, polled in its slot, then [`running`] from the actor it made.
fn lifecycle<A: Actor>(
    init: InitSlot<A>,
    ctx: ActorContext<A>,
    count: crate::count::Count<A>,
) -> impl Future<Output = ()> + Send + 'static {
    Lifecycle::new(init, ctx, count, running::<A>)
}

/// An actor's lifecycle in two phases, not one `async` block: a block would keep `init`'s slot,
/// and a second copy of the live-count guard, in every state of every actor's allocation.
///
/// Two variants and no tag: the running phase's live count lies beside its future, not in it,
/// and its pointer is the niche that tells the phases apart (a coroutine offers none: an enum
/// around the running block took an 8-byte tag). A third variant would need a second niche
/// value, which a pointer has not, so the end of `Init` (`init` refused, the actor stopped
/// while `init` waited, or the running phase being built) is `Init` with its count taken out:
/// its slot and context are gone then too.
enum Lifecycle<A: Actor, R, G> {
    /// `init` runs; `run` (a function item: no bytes) builds the next phase. `slot` and `ctx`
    /// are there while `count` is `Some`, and dropped (by [`start`](Lifecycle::start) or by
    /// the lifecycle's drop) when it is taken.
    Init {
        slot: ManuallyDrop<InitSlot<A>>,
        ctx: ManuallyDrop<ActorContext<A>>,
        count: Option<crate::count::Count<A>>,
        run: G,
    },
    /// The running phase, and the live count, which it holds until the lifecycle is dropped:
    /// in the run that sees the phase finish (its teardown), or as the actor is torn down
    /// unfinished (a panic, a shutdown). Dropped in this order: the future (the context, the
    /// actor), then the count, as when the count was the future's last capture.
    Running { future: R, _count: crate::count::Count<A> },
}

impl<A: Actor, R, G: FnOnce(A, ActorContext<A>) -> R> Lifecycle<A, R, G> {
    fn new(slot: InitSlot<A>, ctx: ActorContext<A>, count: crate::count::Count<A>, run: G) -> Self {
        Lifecycle::Init {
            slot: ManuallyDrop::new(slot),
            ctx: ManuallyDrop::new(ctx),
            count: Some(count),
            run,
        }
    }
}

impl<A: Actor, R, G> Drop for Lifecycle<A, R, G> {
    /// Drops what `Init` holds, if it still does: `init`'s future first (where it lies: it is
    /// pinned), then the context and the count, also when that future's drop panics. A running
    /// phase is dropped by the drop glue, future first, then the count.
    fn drop(&mut self) {
        let Lifecycle::Init { slot, ctx, count, .. } = self else { return };
        // Taken first: from here the lifecycle holds nothing of `Init`'s to drop again.
        let Some(count) = count.take() else { return };
        // SAFETY: the count was there, so the context is too; this is its one drop.
        let rest = (unsafe { ManuallyDrop::take(ctx) }, count);
        // SAFETY: as above, for the slot; dropped in place. A panic drops `rest` on its way.
        unsafe { ManuallyDrop::drop(slot) };
        drop(rest);
    }
}

impl<A, R, G> Future for Lifecycle<A, R, G>
where
    A: Actor,
    R: Future<Output = ()>,
    G: FnOnce(A, ActorContext<A>) -> R,
{
    type Output = ();

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> Poll<()> {
        // SAFETY: `slot` and the running phase are structurally pinned: polled where they lie
        // and dropped there (in `start`, or by the lifecycle's drop); nothing else is pinned.
        let this = unsafe { self.get_unchecked_mut() };
        // Reads the variant through `this`: no new reference to the whole lifecycle, whose
        // retag would count as a read of the context that a running handler may hold a pointer
        // into. (The variant is told by the running phase's count, which nothing points into.)
        if !matches!(this, Lifecycle::Running { .. }) {
            // SAFETY: as above.
            match unsafe { Self::start(this, cx) } {
                Poll::Ready(true) => {}
                Poll::Ready(false) => return Poll::Ready(()),
                Poll::Pending => return Poll::Pending,
            }
        }
        let Lifecycle::Running { future, .. } = this else { unreachable!("started above") };
        // SAFETY: as above.
        unsafe { Pin::new_unchecked(future) }.poll(cx)
    }
}

impl<A, R, G> Lifecycle<A, R, G>
where
    A: Actor,
    G: FnOnce(A, ActorContext<A>) -> R,
{
    /// Polls `init`; once it has made the actor, drops its slot where it lies and moves the rest
    /// into the running phase. `Ready(true)`: the running phase is there to be polled;
    /// `Ready(false)`: the lifecycle is over (`init` refused, or the actor was stopped while
    /// `init` waited). Out of line: it runs only until `init` is done.
    ///
    /// # Safety
    /// `this` is the pinned lifecycle, valid and ours for the call, not in `Running`.
    #[cold]
    #[inline(never)]
    unsafe fn start(this: *mut Self, cx: &mut std::task::Context<'_>) -> Poll<bool> {
        // SAFETY: the caller's contract.
        let made = match unsafe { &mut *this } {
            Lifecycle::Init { count: None, .. } => return Poll::Ready(false),
            Lifecycle::Init { slot, ctx, .. } => {
                // SAFETY: the slot is pinned (see `poll`), and there (the count is).
                match unsafe { Pin::new_unchecked(&mut **slot) }.poll(cx) {
                    Poll::Ready(made) => made.map_err(Some),
                    // Stopped while `init` waits (its token cancelled, or its last link
                    // dropped): `init` is dropped unfinished, as a refused one ends. The token
                    // wakes the actor when it is cancelled.
                    Poll::Pending if ctx.token.is_cancelled() => Err(None),
                    Poll::Pending => return Poll::Pending,
                }
            }
            Lifecycle::Running { .. } => return Poll::Ready(true),
        };
        // SAFETY: as above.
        let Lifecycle::Init { slot, ctx, count, run } = (unsafe { &mut *this }) else {
            unreachable!("matched above")
        };
        // Taken out first: the lifecycle holds nothing of `Init`'s to drop from here, also if
        // the slot's drop below panics (these locals are dropped on the way out then, as at the
        // end of a refused `init`: `run`, the count, the context).
        // SAFETY: the count is there (matched above), so the context is; moved out once. `run`
        // is a function item, read once; what is left of `Init` is overwritten below without a
        // drop, or is the end of `Init`, which the lifecycle's drop leaves alone.
        let mut ctx = unsafe { ManuallyDrop::take(ctx) };
        let count = count.take().expect("`init` was there");
        // SAFETY: as above.
        let run = unsafe { ptr::read(run) };
        if made.is_err() {
            // Closed before what `init` leaves is dropped (its unfinished future, the context),
            // as a panic and a shutdown close it first: their destructors find the actor
            // stopped, and a send from them is refused, not taken and dropped at the teardown
            // (a review of 2026-12-07).
            ctx.rx.close();
        }
        // SAFETY: the slot is dropped where it was polled, once.
        unsafe { ManuallyDrop::drop(slot) };
        match made {
            Ok(actor) => {
                // SAFETY: `this` is valid for writes; what it holds needs no drop (above).
                unsafe {
                    ptr::write(this, Lifecycle::Running { future: run(actor, ctx), _count: count })
                };
                Poll::Ready(true)
            }
            Err(Some(reason)) => {
                tracing::debug!(actor = std::any::type_name::<A>(), ?reason, "init refused");
                ctx.token.cancel(reason);
                Poll::Ready(false)
            }
            Err(None) => {
                tracing::debug!(actor = std::any::type_name::<A>(), "stopped during init");
                Poll::Ready(false)
            }
        }
    }
}

/// [`ActorMessage::delivered_to_actor`] on a message (if any) as it is taken out of the mailbox.
#[inline(always)]
fn marked_delivered<A: Actor>(msg: Option<A::Message>) -> Option<A::Message> {
    if let Some(msg) = &msg {
        msg.delivered_to_actor();
    }
    msg
}

/// The actor's run after `init`: the `cycle` loop, then the drain and `terminate`.
///
/// Not an `async fn`: those store their arguments apart from the locals they move into (see the
/// test below), and an actor's allocation would hold its context twice.
#[allow(clippy::manual_async_fn, reason = "an async fn would store the context twice")]
fn running<A: Actor>(
    mut actor: A,
    mut ctx: ActorContext<A>,
) -> impl Future<Output = ()> + Send + 'static {
    async move {
        // `ctx` is named first, so the block captures it first, and a panic unwinding out of a
        // handler drops it before the actor: its receiver closes the mailbox as it goes (see
        // `ActorReceiver`'s drop), so the actor's `Drop` finds itself stopped, as in any other
        // stop (test `a_panicking_actor_is_stopped_in_its_destructor`). The block's captures
        // are dropped in the order they were captured.
        let _ = &ctx;
        let reason = loop {
            if let ControlFlow::Break(reason) = actor.cycle(&mut ctx).await {
                break reason;
            }
        };
        // Children of this actor's token stop with it, with its reason. An actor stopped by a
        // cancel of its token has had its children cancelled with it; one that stopped by itself
        // (`tick`, its own `cycle`, a closed mailbox) cancels its token after `terminate`, and
        // tells the token so now: the drop of its last link from here on (by a queued message
        // that holds it, dropped or handled below, or by the actor in `terminate`) leaves the
        // cancel to it. (Told after the drain, a link dropped in it cancelled the token with the
        // default reason and stopped the children early: a review of 2026-12-07. A token reset
        // during `terminate` is cancelled again by the `Scoped`.)
        let stopped_by_itself = !ctx.token.is_cancelled();
        if stopped_by_itself {
            ctx.token.stop_under_way();
        }
        // The mailbox closes before `terminate`: the actor is stopped.
        ctx.rx.close();
        // What was queued is handled (`ProcessAll`) or dropped, its askers getting their error
        // now (`Exit`). Each message is marked delivered in the poll that takes it out: marked
        // in this block, on the message held here, every handler-style actor took 8 bytes more;
        // passed through a function that marked it, envelope-style ping-pong took about 120
        // instructions more per round trip (callgrind).
        let process_all = actor.termination_strategy() == Terminate::ProcessAll;
        // A `loop`, not `while let Some(msg) = ...await`: that scrutinee lives to the end of the
        // body, across the handler's await, so the future kept a second message's room apart
        // from `cycle`'s (test `the_running_phase_holds_room_for_one_message`). Not entered
        // when nothing is queued (most stops): its poll that finds the mailbox closed and empty
        // was about 50 instructions, against a look at the state word and `head`.
        if !ctx.rx.is_drained() {
            loop {
                let next = std::future::poll_fn(|cx| {
                    ctx.rx.poll_recv_unmarked(cx).map(marked_delivered::<A>)
                });
                let Some(msg) = next.await else { break };
                if process_all {
                    actor.handle(Exec::new(&mut ctx), msg).await;
                } else {
                    drop_queued(msg);
                }
            }
        }
        ctx.rx.detach();
        // A clone, to cancel the token once `terminate` has taken the context.
        let token = stopped_by_itself.then(|| ctx.token.clone());
        actor.terminate(ctx, reason.clone()).await;
        if let Some(token) = token {
            token.cancel_with_reason(reason);
        }
    }
}

/// Drops a message the stopping actor does not handle (`Terminate::Exit`). A panic of its
/// destructor is dropped here, as when the teardown drops what is still queued: it is not the
/// actor's code, and must not skip the actor's `terminate` for a `crash`.
fn drop_queued<M>(msg: M) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(msg)));
}

/// [`ActorMessage::taken_by_actor_code`], as a function of the message alone.
fn delivered<A: Actor>(msg: &A::Message) {
    msg.taken_by_actor_code();
}

fn crash<A: Actor>(payload: Box<dyn Any + Send>) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(A::crash(payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An actor of messages `M`, which never handles one.
    struct Idle<M>(std::marker::PhantomData<M>);
    impl<M: crate::ActorMessage<Idle<M>>> Actor for Idle<M> {
        type Message = M;
        type Spec = ();
        type Channel = crate::MpscChannel<Self::Message>;
        type Cancel = ();
        type State = ();
        fn state(_: &()) {}
        fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
            std::future::ready(Ok(Idle(std::marker::PhantomData)))
        }
    }

    /// No message at all.
    enum Nothing {}
    impl crate::ActorMessage<Idle<Nothing>> for Nothing {}

    /// A 256-byte message.
    struct Wide(#[allow(dead_code, reason = "only its size matters")] [u64; 32]);
    impl crate::ActorMessage<Idle<Wide>> for Wide {}

    /// The size of the future `make` returns (as `future_size`, with the `Scoped`'s token).
    fn size_of_scoped<A: Actor, F>(_: MakeLifecycle<A, F>) -> usize {
        std::mem::size_of::<F>()
    }

    /// The size of the future `make` returns.
    fn future_size<A: Actor, F>(
        _: fn(InitSlot<A>, ActorContext<A>, crate::count::Count<A>) -> F,
    ) -> usize {
        std::mem::size_of::<F>()
    }

    /// An `async fn` keeps its arguments and the locals they are moved into apart, so the
    /// context would be stored twice in every actor's allocation (120 bytes more per idle actor).
    #[test]
    fn the_lifecycle_holds_the_context_once() {
        let ctx = std::mem::size_of::<ActorContext<Idle<Nothing>>>();
        let args = ctx + std::mem::size_of::<InitSlot<Idle<Nothing>>>();
        // Whatever the future holds beyond its arguments, a second context would not fit in it.
        let size = future_size(lifecycle::<Idle<Nothing>>);
        assert!(size - args < ctx, "lifecycle future: {size} bytes, arguments: {args}");
        let size = size_of_scoped(scoped_lifecycle::<Idle<Nothing>>);
        assert!(size - args < ctx, "scoped lifecycle future: {size} bytes, arguments: {args}");
    }

    /// The running phase keeps room for one message: the one its `cycle` is handling, or the one
    /// the drain after it is. The drain's message was kept apart from every other await's future
    /// (a `while let`'s scrutinee lives to the end of its body, across the handler's await), so
    /// every actor held room for two, 16 to 32 bytes more for the benchmarks' actors.
    #[test]
    fn the_running_phase_holds_room_for_one_message() {
        let msg = std::mem::size_of::<Wide>();
        let ctx = std::mem::size_of::<ActorContext<Idle<Wide>>>();
        let size = future_size(lifecycle::<Idle<Wide>>);
        assert!(
            size < ctx + 2 * msg,
            "lifecycle future: {size} bytes, context {ctx}, message {msg}"
        );
    }

    /// The size of the future `make` returns.
    fn running_size<A: Actor, F>(_: fn(A, ActorContext<A>) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// Neither the lifecycle nor the task's stage around it has a tag: the lifecycle is its
    /// running block and the live count beside it, the stage its `Scoped` (8 bytes an actor
    /// each, when they had one; `docs/design/actors.md` §1.3).
    #[test]
    fn the_lifecycle_and_its_stage_carry_no_tag() {
        let count = std::mem::size_of::<crate::count::Count<Idle<Nothing>>>();
        let block = running_size(running::<Idle<Nothing>>);
        assert_eq!(future_size(lifecycle::<Idle<Nothing>>), block + count);
        let wide = running_size(running::<Idle<Wide>>);
        assert_eq!(future_size(lifecycle::<Idle<Wide>>), wide + count);
        assert!(stage_is_untagged(scoped_lifecycle::<Idle<Nothing>>));
        assert!(stage_is_untagged(scoped_lifecycle::<Idle<Wide>>));
    }

    fn stage_is_untagged<A: Actor, F>(_: MakeLifecycle<A, F>) -> bool {
        task::stage_size::<F>() == std::mem::size_of::<F>()
    }
}
