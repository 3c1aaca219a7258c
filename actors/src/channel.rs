//! The mailbox as an actor sees it: the `Channel` marker and the receiver in `ActorContext::rx`.

use std::fmt;
use std::future::{Future, poll_fn};
use std::marker::PhantomData;
use std::task::{Context, Poll};

use crate::error::TryRecvError;
use crate::task::{ByValue, CoreRef, RecvStep, Take};

/// The mailbox flavour of an actor (`Actor::Channel`). [`MpscChannel`] is the one there is: the
/// lock-free MPSC mailbox of `actor12-mailbox`, fused with the actor's scheduling.
pub trait ActorChannel: sealed::Sealed {
    /// What the channel carries.
    type Message: Send + 'static;
}

mod sealed {
    pub trait Sealed {}
    impl<T> Sealed for super::MpscChannel<T> {}
}

/// actor12's mailbox: lock-free, multi-producer, single-consumer, bounded by
/// [`Actor::mailbox_capacity`](crate::Actor::mailbox_capacity). Write
/// `type Channel = MpscChannel<Self::Message>;`.
///
/// # Examples
///
/// A mailbox of two: while the actor is busy, two messages wait in it and a third finds it
/// full (`send_raw` and the other sends would wait for room instead).
///
/// ```
/// use actor12::prelude::*;
/// use actor12::oneshot;
///
/// struct Slow(u32);
/// struct Hold(oneshot::Sender<()>, oneshot::Receiver<()>);
/// struct Bump;
///
/// impl Actor for Slow {
///     type Message = Multi<Self>;
///     type Spec = ();
///     type Channel = MpscChannel<Self::Message>;
///     type Cancel = ();
///     type State = ();
///     fn state(_: &()) {}
///     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
///         std::future::ready(Ok(Slow(0)))
///     }
///     fn mailbox_capacity() -> usize {
///         2
///     }
/// }
///
/// impl Handler<Hold> for Slow {
///     type Reply = anyhow::Result<()>;
///     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, msg: Hold) -> Self::Reply {
///         let Hold(started, open) = msg;
///         started.send(()).unwrap();
///         open.await?; // busy until told to go on
///         Ok(())
///     }
/// }
///
/// impl Handler<Bump> for Slow {
///     type Reply = anyhow::Result<u32>;
///     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Bump) -> Self::Reply {
///         self.0 += 1;
///         Ok(self.0)
///     }
/// }
///
/// actor12::rt::Runtime::new().unwrap().block_on(async {
///     let slow = actor12::spawn::<Slow>(());
///     let ((started, is_busy), (open, opened)) = (oneshot::channel(), oneshot::channel());
///     slow.tell_dyn(Hold(started, opened)).await;
///     is_busy.await.unwrap(); // `Hold` is out of the mailbox, being handled
///     assert!(slow.try_send_raw(Multi::tell(Bump)).is_ok());
///     assert!(slow.try_send_raw(Multi::tell(Bump)).is_ok());
///     assert!(slow.try_send_raw(Multi::tell(Bump)).is_err()); // full: handed back
///     open.send(()).unwrap();
///     assert_eq!(slow.ask_dyn(Bump).await.unwrap(), 3);
/// });
/// ```
pub struct MpscChannel<T> {
    _t: PhantomData<fn(T)>,
}

impl<T> fmt::Debug for MpscChannel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MpscChannel")
    }
}

impl<T: Send + 'static> ActorChannel for MpscChannel<T> {
    type Message = T;
}

/// The receiving end of an actor's mailbox (`ActorContext::rx`). Only the actor itself can use
/// it: the runtime guarantees that one actor runs on one worker at a time, and this receiver is
/// how that actor reads its mailbox.
///
/// Examples: [`try_recv`](Self::try_recv) and [`recv_many`](Self::recv_many) take what waits in
/// the mailbox in a `cycle` of your own, and [`Actor::cycle`](crate::Actor::cycle) has an own
/// receive loop with [`recv`](Self::recv).
pub struct ActorReceiver<M: Send + 'static> {
    core: CoreRef<M>,
    detached: bool,
    /// The default `cycle`'s last event was a tick: the mailbox goes first in the next one.
    /// Here, not in the core: read on every cycle, it costs no check that this thread runs the
    /// actor.
    ticked: bool,
    /// The default `cycle`'s tick future was dropped by the select that returned its event,
    /// not yet by the select's own drop (see `NextEvent` in `actor.rs`).
    tick_dropped: bool,
}

impl<M: Send + 'static> fmt::Debug for ActorReceiver<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ActorReceiver")
            .field("len", &self.core.mailbox.len())
            .field("closed", &self.core.is_closed())
            .finish()
    }
}

impl<M: Send + 'static> ActorReceiver<M> {
    pub(crate) fn new(core: CoreRef<M>) -> Self {
        ActorReceiver { core, detached: false, ticked: false, tick_dropped: false }
    }

    /// The next message; `None` once the mailbox is closed and empty (the actor is stopping, or
    /// its last link was dropped).
    ///
    /// A new message wakes the actor itself (its task), not the waker of the context this is
    /// polled with: poll it from the actor's own `cycle`, directly or in a select that polls
    /// every branch with the task's context, not inside a combinator that gives each future a
    /// waker of its own (as `FuturesUnordered` does), where a message would wake nobody.
    ///
    /// The message is out of the mailbox: an ask's answer may come from wherever the actor's
    /// code passes its reply slot, and the actor may await the answer to a request it sent
    /// itself once it has taken that request out (the self-ask check of
    /// [`Recipient::envelope`](crate::Recipient::envelope) then lets it).
    pub fn recv(&mut self) -> impl Future<Output = Option<M>> + Send + '_ {
        poll_fn(|cx| self.poll_recv(cx))
    }

    /// Polls for the next message (see [`recv`](Self::recv)).
    #[inline(always)]
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<M>> {
        let polled = self.poll_recv_unmarked(cx);
        if let Poll::Ready(Some(msg)) = &polled {
            self.core.mark_delivered(msg);
        }
        polled
    }

    /// Takes the next message if one is waiting, without waiting for one: as tokio's
    /// `mpsc::Receiver::try_recv`, which `ctx.rx` was in actor12 0.0.11.
    /// [`TryRecvError::Empty`] if no message is waiting now;
    /// [`TryRecvError::Disconnected`] once the mailbox is closed and every message it accepted
    /// has been received (the actor is stopping), and for a detached receiver (a context that
    /// left the actor through `terminate`).
    ///
    /// It never ends the actor's run and never registers a wake-up: a message that arrives
    /// after it returned `Empty` wakes the actor only if the actor then awaits
    /// [`recv`](Self::recv) (or [`recv_many`](Self::recv_many), or polls
    /// [`poll_recv`](Self::poll_recv)). So drain with `try_recv` and then await `recv`, not
    /// something else, when the actor should go on with its mailbox.
    ///
    /// A message whose send has claimed its place but not finished writing it (a few
    /// instructions on another thread) is not there yet, nor are the messages queued behind
    /// it: `try_recv` returns `Empty` for them rather than wait for that sender (tokio's
    /// `try_recv` blocks the thread until it is done; here that would be an actor12 worker),
    /// and [`len`](Self::len) may count them meanwhile. The next `recv` takes them in order.
    ///
    /// Each message taken counts against the batch of messages the actor's run may take before
    /// the worker moves on to other actors, as one from `recv` does, but a spent batch does
    /// not make `try_recv` refuse one: the next `recv` lets the others run first. A loop of
    /// `try_recv` itself never lets the worker go; it ends when the mailbox is empty.
    ///
    /// The message is out of the mailbox, as with `recv`: an ask's answer may come from
    /// wherever the actor's code passes its reply slot. Panics if used outside its actor's run
    /// (a live actor's receiver moved out of `ctx.rx`), as `poll_recv` does.
    ///
    /// # Examples
    ///
    /// A raw-style actor that waits for one message, then takes those already waiting behind
    /// it as one batch:
    ///
    /// ```
    /// use std::future::{Future, poll_fn};
    /// use std::ops::ControlFlow;
    /// use std::pin::pin;
    /// use std::task::Poll;
    ///
    /// use actor12::cancel::CancelReason;
    /// use actor12::prelude::*;
    /// use actor12::{ActorContext, ActorMessage, TryRecvError, oneshot};
    ///
    /// enum Msg {
    ///     Add(u64),
    ///     Total(oneshot::Sender<u64>),
    /// }
    /// impl ActorMessage<Summer> for Msg {}
    ///
    /// struct Summer(u64);
    ///
    /// impl Actor for Summer {
    ///     type Message = Msg;
    ///     type Spec = ();
    ///     type Channel = MpscChannel<Msg>;
    ///     type Cancel = ();
    ///     type State = ();
    ///     fn state(_: &()) {}
    ///     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
    ///         std::future::ready(Ok(Summer(0)))
    ///     }
    ///
    ///     async fn cycle(
    ///         &mut self,
    ///         ctx: &mut ActorContext<Self>,
    ///     ) -> ControlFlow<CancelReason<()>> {
    ///         let mut cancelled = pin!(ctx.token.cancelled());
    ///         let first = poll_fn(|cx| match cancelled.as_mut().poll(cx) {
    ///             Poll::Ready(reason) => Poll::Ready(Err(reason)),
    ///             Poll::Pending => ctx.rx.poll_recv(cx).map(Ok),
    ///         });
    ///         let mut batch = match first.await {
    ///             Err(reason) => return ControlFlow::Break(reason),
    ///             Ok(None) => return ControlFlow::Break(CancelReason::default()), // closed
    ///             Ok(Some(msg)) => vec![msg],
    ///         };
    ///         loop {
    ///             match ctx.rx.try_recv() {
    ///                 Ok(msg) => batch.push(msg),
    ///                 // The next cycle's `poll_recv` waits for more, or sees the close.
    ///                 Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
    ///             }
    ///         }
    ///         for msg in batch {
    ///             match msg {
    ///                 Msg::Add(n) => self.0 += n,
    ///                 Msg::Total(reply) => {
    ///                     let _ = reply.send(self.0);
    ///                 }
    ///             }
    ///         }
    ///         ControlFlow::Continue(())
    ///     }
    /// }
    ///
    /// actor12::rt::Runtime::new().unwrap().block_on(async {
    ///     let summer = actor12::spawn::<Summer>(());
    ///     for n in 1..=3 {
    ///         summer.send_raw(Msg::Add(n)).await.ok().unwrap();
    ///     }
    ///     let (tx, total) = oneshot::channel();
    ///     summer.send_raw(Msg::Total(tx)).await.ok().unwrap();
    ///     assert_eq!(total.await.unwrap(), 6);
    ///     summer.cancel_and_wait(()).await;
    /// });
    /// ```
    pub fn try_recv(&mut self) -> Result<M, TryRecvError> {
        let Some(core) = self.own_core() else { return Err(TryRecvError::Disconnected) };
        // SAFETY: this thread runs the receiver's actor (checked by `own_core`), so it holds
        // the run token.
        match unsafe { core.try_recv() } {
            RecvStep::Message(msg) => {
                core.mark_delivered(&msg);
                Ok(msg)
            }
            RecvStep::Closed => Err(TryRecvError::Disconnected),
            RecvStep::Pending => Err(TryRecvError::Empty),
        }
    }

    /// Waits for at least one message, then appends to `buffer` those waiting, up to `limit`
    /// in all: as tokio's `mpsc::Receiver::recv_many`. Resolves to how many it appended: 0
    /// only if `limit` is 0 (at once) or the mailbox is closed and empty (the actor is
    /// stopping), or for a detached receiver.
    ///
    /// The wait is [`recv`](Self::recv)'s, with its wake-up and its rule about the context it
    /// is polled with; the messages after the first are taken as
    /// [`try_recv`](Self::try_recv) takes them, in order, until none is waiting. It takes at
    /// most what is left of the batch of messages (64) the actor's run may take before the
    /// worker moves on to other actors, so it may append fewer than are waiting; the
    /// next call takes the rest, after the other actors on the worker had their turn if the
    /// batch is spent. Cancel safe, as `recv`: a poll that takes messages is the one that
    /// returns them, so a dropped `recv_many` took none.
    ///
    /// `buffer` is only appended to: what it held stays, and it grows as needed.
    ///
    /// # Examples
    ///
    /// A raw-style actor handling its messages in batches of up to 16:
    ///
    /// ```
    /// use std::future::{Future, poll_fn};
    /// use std::ops::ControlFlow;
    /// use std::pin::pin;
    /// use std::task::Poll;
    ///
    /// use actor12::cancel::CancelReason;
    /// use actor12::prelude::*;
    /// use actor12::{ActorContext, ActorMessage, oneshot};
    ///
    /// enum Msg {
    ///     Add(u64),
    ///     Total(oneshot::Sender<u64>),
    /// }
    /// impl ActorMessage<Summer> for Msg {}
    ///
    /// struct Summer {
    ///     total: u64,
    ///     batch: Vec<Msg>,
    /// }
    ///
    /// impl Actor for Summer {
    ///     type Message = Msg;
    ///     type Spec = ();
    ///     type Channel = MpscChannel<Msg>;
    ///     type Cancel = ();
    ///     type State = ();
    ///     fn state(_: &()) {}
    ///     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
    ///         std::future::ready(Ok(Summer { total: 0, batch: Vec::new() }))
    ///     }
    ///
    ///     async fn cycle(
    ///         &mut self,
    ///         ctx: &mut ActorContext<Self>,
    ///     ) -> ControlFlow<CancelReason<()>> {
    ///         let taken = {
    ///             let mut cancelled = pin!(ctx.token.cancelled());
    ///             let mut many = pin!(ctx.rx.recv_many(&mut self.batch, 16));
    ///             poll_fn(|cx| match cancelled.as_mut().poll(cx) {
    ///                 Poll::Ready(reason) => Poll::Ready(Err(reason)),
    ///                 Poll::Pending => many.as_mut().poll(cx).map(Ok),
    ///             })
    ///             .await
    ///         };
    ///         match taken {
    ///             Err(reason) => return ControlFlow::Break(reason),
    ///             Ok(0) => return ControlFlow::Break(CancelReason::default()), // closed
    ///             Ok(_) => {}
    ///         }
    ///         for msg in self.batch.drain(..) {
    ///             match msg {
    ///                 Msg::Add(n) => self.total += n,
    ///                 Msg::Total(reply) => {
    ///                     let _ = reply.send(self.total);
    ///                 }
    ///             }
    ///         }
    ///         ControlFlow::Continue(())
    ///     }
    /// }
    ///
    /// actor12::rt::Runtime::new().unwrap().block_on(async {
    ///     let summer = actor12::spawn::<Summer>(());
    ///     for n in 1..=40 {
    ///         summer.send_raw(Msg::Add(n)).await.ok().unwrap();
    ///     }
    ///     let (tx, total) = oneshot::channel();
    ///     summer.send_raw(Msg::Total(tx)).await.ok().unwrap();
    ///     assert_eq!(total.await.unwrap(), 820);
    ///     summer.cancel_and_wait(()).await;
    /// });
    /// ```
    pub fn recv_many<'a>(
        &'a mut self,
        buffer: &'a mut Vec<M>,
        limit: usize,
    ) -> impl Future<Output = usize> + Send + 'a {
        poll_fn(move |cx| self.poll_recv_many(cx, buffer, limit))
    }

    /// Polls for [`recv_many`](Self::recv_many): `Ready(n)` with `n` messages appended to
    /// `buffer` (0 only once the mailbox is closed and drained, for a `limit` of 0, or for a
    /// detached receiver), or `Pending`: the next message wakes the actor itself, not `cx`'s
    /// waker (see [`recv`](Self::recv)). For a `cycle` that polls the mailbox beside something
    /// else, as tokio's `Receiver::poll_recv_many`.
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<M>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        match self.poll_recv(cx) {
            Poll::Ready(Some(msg)) => buffer.push(msg),
            Poll::Ready(None) => return Poll::Ready(0),
            Poll::Pending => return Poll::Pending,
        }
        // A message came: the receiver is not detached, and this thread runs its actor (which
        // `poll_recv` checked), so it holds the run token.
        let core = &self.core;
        let mut taken = 1;
        // SAFETY: this thread holds the run token (above).
        while taken < limit && unsafe { core.has_budget() } {
            // SAFETY: as for `has_budget`.
            match unsafe { core.try_recv() } {
                RecvStep::Message(msg) => {
                    core.mark_delivered(&msg);
                    buffer.push(msg);
                    taken += 1;
                }
                // The next call finds the close, or waits.
                RecvStep::Closed | RecvStep::Pending => break,
            }
        }
        Poll::Ready(taken)
    }

    /// [`poll_recv`](Self::poll_recv) without marking the message delivered: for the callers
    /// that mark it themselves (the lifecycle's drain of a stopped actor's mailbox, and the
    /// default `cycle` through [`poll_recv_with`](Self::poll_recv_with), with the actor's type at
    /// hand) or need no mark (the proxy's relay).
    ///
    /// Inlined into its caller's poll: a message returned from an out-of-line call goes through
    /// the stack, and was read back with wider loads than it was written with (a failed store
    /// forward per message).
    #[inline(always)]
    pub(crate) fn poll_recv_unmarked(&mut self, _cx: &mut Context<'_>) -> Poll<Option<M>> {
        self.poll_recv_with(&mut ByValue)
    }

    /// [`poll_recv_unmarked`](Self::poll_recv_unmarked), taking the message as `take` says: by
    /// value, or moved from its mailbox slot straight into a `MaybeUninit<M>` of the caller's
    /// (`Ready(Some(()))` says it is there; see `Mailbox::pop_lazy_into`).
    #[inline(always)]
    pub(crate) fn poll_recv_with<T: Take<M>>(&mut self, take: &mut T) -> Poll<Option<T::Out>> {
        if self.detached {
            return Poll::Ready(None);
        }
        // A receiver can be moved out of a context only by swapping it with another one (a
        // context that escaped through `terminate` holds a detached receiver); the check makes
        // that a panic instead of a second consumer of a live actor's mailbox.
        assert!(
            self.core.runs_here(),
            "an actor's receiver was polled outside its actor's run (moved out of `ctx.rx`?)"
        );
        // This thread runs the receiver's actor now (checked above), so it holds the run token.
        // The receive's wake-up comes from the mailbox, not from a waker.
        // SAFETY: the run token's holder receives, as just said.
        match unsafe { self.core.poll_recv(take) } {
            RecvStep::Message(msg) => Poll::Ready(Some(msg)),
            RecvStep::Closed => Poll::Ready(None),
            RecvStep::Pending => Poll::Pending,
        }
    }

    /// For `try_recv` and the default `cycle`'s bookkeeping of its tick: `None` for a detached
    /// receiver, else the core, checked to be this thread's actor's.
    fn own_core(&self) -> Option<&CoreRef<M>> {
        if self.detached {
            return None;
        }
        assert!(
            self.core.runs_here(),
            "an actor's receiver was polled outside its actor's run (moved out of `ctx.rx`?)"
        );
        Some(&self.core)
    }

    /// True if the default `cycle`'s last event was a tick.
    #[inline(always)]
    pub(crate) fn ticked(&self) -> bool {
        self.ticked
    }

    pub(crate) fn clear_ticked(&mut self) {
        self.ticked = false;
    }

    /// Records whether the default `cycle`'s tick future has been dropped already; returns
    /// what was recorded before.
    pub(crate) fn set_tick_dropped(&mut self, dropped: bool) -> bool {
        std::mem::replace(&mut self.tick_dropped, dropped)
    }

    /// The default `cycle`'s tick fired: the mailbox goes first in the next cycle, and the tick
    /// takes a unit of the run's budget (see `Core::note_tick`).
    #[inline(never)]
    pub(crate) fn note_tick(&mut self) {
        self.ticked = true;
        if let Some(core) = self.own_core() {
            // SAFETY: this thread runs the receiver's actor (checked), so it holds the run
            // token.
            unsafe { core.note_tick() }
        }
    }

    /// True if the last `poll_recv` returned `Pending` to end the run.
    pub(crate) fn must_yield(&mut self) -> bool {
        // SAFETY: as in `note_tick`.
        self.own_core().is_some_and(|core| unsafe { core.must_yield() })
    }

    /// Stops accepting messages: later sends fail; those already queued can still be received.
    /// To its links the actor is stopped from then on: `alive()` is false, and a send's error
    /// says the actor has stopped, while it still runs to drain the queue.
    pub fn close(&mut self) {
        if self.core.mailbox.close() == actor12_mailbox::Push::Schedule {
            // Closed from outside its actor's run (a receiver moved out of its context) while
            // the actor was idle: the close took the run token, which goes back to the runtime.
            // The actor runs, finds its mailbox closed and stops.
            self.core.schedule();
        }
    }

    /// True once the mailbox is closed.
    pub fn is_closed(&self) -> bool {
        self.core.is_closed()
    }

    /// Messages waiting.
    pub fn len(&self) -> usize {
        self.core.mailbox.len()
    }

    /// The mailbox's bound ([`Actor::mailbox_capacity`](crate::Actor::mailbox_capacity);
    /// `usize::MAX` for an unbounded one), as tokio's `Receiver::max_capacity`.
    pub fn max_capacity(&self) -> usize {
        self.core.mailbox.capacity().unwrap_or(usize::MAX)
    }

    /// Room left below the bound: [`max_capacity`](Self::max_capacity) less
    /// [`len`](Self::len), 0 when the actor's own sends went past the bound, as tokio's
    /// `Receiver::capacity`. Senders waiting for room take it first.
    pub fn capacity(&self) -> usize {
        self.max_capacity().saturating_sub(self.len())
    }

    /// True if no message is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if a receive now would return `None` without taking anything: the receiver is
    /// detached, or the mailbox is closed with no message left in it (none can come). For the
    /// lifecycle's drain after `close`, which then polls nothing. Exact there: this thread
    /// runs the actor, the only consumer (checked, as a receive checks it).
    pub(crate) fn is_drained(&mut self) -> bool {
        self.own_core().is_none_or(|core| core.is_closed() && core.mailbox.is_empty())
    }

    /// From now on `recv` returns `None`: the context is about to leave the actor's run.
    pub(crate) fn detach(&mut self) {
        self.detached = true;
    }
}

impl<M: Send + 'static> Drop for ActorReceiver<M> {
    /// Dropped by a panic unwinding out of its own actor's run (a handler's), the receiver closes
    /// the mailbox: what the unwinding drops after it, the actor itself among them (`running` in
    /// `actor.rs`), finds the actor stopped. The run's end would close it a moment later anyway.
    fn drop(&mut self) {
        if std::thread::panicking() && !self.detached && self.core.runs_here() {
            let _ = self.core.mailbox.close();
        }
    }
}
