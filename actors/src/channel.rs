//! The mailbox as an actor sees it: the `Channel` marker and the receiver in `ActorContext::rx`.

use std::fmt;
use std::future::{Future, poll_fn};
use std::marker::PhantomData;
use std::task::{Context, Poll};

use crate::task::{CoreRef, RecvStep};

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
pub struct ActorReceiver<M: Send + 'static> {
    core: CoreRef<M>,
    detached: bool,
    /// The default `cycle`'s last event was a tick: the mailbox goes first in the next one.
    /// Here, not in the core: read on every cycle, it costs no check that this thread runs the
    /// actor.
    ticked: bool,
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
        ActorReceiver { core, detached: false, ticked: false }
    }

    /// The next message; `None` once the mailbox is closed and empty (the actor is stopping).
    ///
    /// A new message wakes the actor itself (its task), not the waker of the context this is
    /// polled with: poll it from the actor's own `cycle`, directly or in a select that polls
    /// every branch with the task's context, not inside a combinator that gives each future a
    /// waker of its own (as `FuturesUnordered` does), where a message would wake nobody.
    ///
    /// The message is out of the mailbox: an ask's answer may come from wherever the actor's
    /// code passes its reply slot, and the actor may await the answer to a request it sent
    /// itself once it has taken that request out.
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

    /// [`poll_recv`](Self::poll_recv) without marking the message delivered: for the callers
    /// that mark it themselves (the default `cycle`, with the actor's type at hand) or need no
    /// mark (the proxy's relay).
    ///
    /// Inlined into the cycle's poll: a message returned from an out-of-line call goes through
    /// the stack, and was read back with wider loads than it was written with (a failed store
    /// forward per message).
    #[inline(always)]
    pub(crate) fn poll_recv_unmarked(&mut self, _cx: &mut Context<'_>) -> Poll<Option<M>> {
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
        // SAFETY: this thread runs the receiver's actor now (checked above), so it holds the
        // run token. Its wake-up comes from the mailbox, not from `_cx`.
        match unsafe { self.core.poll_recv() } {
            RecvStep::Message(msg) => Poll::Ready(Some(msg)),
            RecvStep::Closed => Poll::Ready(None),
            RecvStep::Pending => Poll::Pending,
        }
    }

    /// For the default `cycle`'s bookkeeping of its tick: `None` for a detached receiver, else
    /// the core, checked to be this thread's actor's.
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
    pub fn close(&mut self) {
        if self.core.mailbox.close() == actor12_mailbox::Push::Schedule {
            // Closed from outside its actor's run (a receiver moved out of its context) while
            // the actor was idle: the close took the run token, which goes back to the runtime.
            // The actor runs, finds its mailbox closed and stops.
            self.core.schedule();
        }
    }

    /// True once the mailbox is closed.
    pub fn is_closed(&mut self) -> bool {
        self.core.is_closed()
    }

    /// Messages waiting.
    pub fn len(&self) -> usize {
        self.core.mailbox.len()
    }

    /// True if no message is waiting.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// From now on `recv` returns `None`: the context is about to leave the actor's run.
    pub(crate) fn detach(&mut self) {
        self.detached = true;
    }
}
