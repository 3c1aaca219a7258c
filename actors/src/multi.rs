//! `Multi<A>`: a type-erased message for handler-style actors, one allocation each.
//!
//! `Multi::new` boxes the envelope together with room for the future that will handle it: the
//! box holds `Slot::Start(message, reply slot)` and, once the actor takes the message, the handler's future
//! in place (`Slot::Running`). So handling a `Multi` message allocates nothing beyond the one box.
//! The future's type is named through a function pointer (`run::<A, M>`) whose arguments are raw
//! pointers to the actor and its context, valid for the duration of the `handle` call that
//! polls it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::actor::{Actor, ActorContext, ActorMessage};
use crate::envelope::Envelope;
use crate::handler::{Call, Exec, Handler};
use crate::oneshot;

/// A message for any [`Handler`] the actor implements: the `Message` type of handler-style
/// actors. Built by [`Link::ask_dyn`](crate::Link::ask_dyn) and friends.
pub struct Multi<A: Actor> {
    handler: Pin<Box<dyn Erased<A>>>,
}

// SAFETY: the boxed handler is only ever reached through `Pin<&mut>` (when the actor handles
// the message) or moved; no `&Multi` gives access to it, so sharing a `&Multi` shares nothing.
unsafe impl<A: Actor> Sync for Multi<A> {}

impl<A: Actor> std::fmt::Debug for Multi<A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Multi")
    }
}

impl<A: Actor> Multi<A> {
    /// Wraps an envelope for `A`'s `Handler<M>`.
    pub fn new<M: Send + 'static>(envelope: Envelope<M, <A as Handler<M>>::Reply>) -> Self
    where
        A: Handler<M>,
    {
        let (msg, reply) = envelope.split();
        Multi { handler: Box::pin(new_slot::<A, M, _>(msg, Some(reply), run::<A, M>)) }
    }

    /// A message for `A`'s `Handler<M>` whose reply nobody waits for (what
    /// [`Link::tell_dyn`](crate::Link::tell_dyn) sends): one allocation, no reply slot.
    pub fn tell<M: Send + 'static>(message: M) -> Self
    where
        A: Handler<M>,
    {
        Multi { handler: Box::pin(new_slot::<A, M, _>(message, None, run::<A, M>)) }
    }
}

impl<A: Actor> ActorMessage<A> for Multi<A> {
    fn handle<'a>(
        self,
        actor: &'a mut A,
        ctx: Exec<'a, A>,
    ) -> impl Future<Output = ()> + Send + 'a {
        Handling { handler: self.handler, actor, ctx: ctx.ctx }
    }
}

/// The future of handling one `Multi` message.
struct Handling<'a, A: Actor> {
    handler: Pin<Box<dyn Erased<A>>>,
    actor: &'a mut A,
    ctx: &'a mut ActorContext<A>,
}

impl<A: Actor> Future for Handling<'_, A> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let (actor, ctx) = (Raw(&raw mut *this.actor), Raw(&raw mut *this.ctx));
        // SAFETY: both pointers come from the exclusive borrows this future holds for 'a, and the
        // handler's future only lives inside `this.handler`, which this future owns: it is
        // dropped (or finished) before those borrows end.
        unsafe { this.handler.as_mut().poll_handle(actor, ctx, cx) }
    }
}

/// A raw pointer that may cross threads with the future holding it (see `Handling::poll`).
struct Raw<T>(*mut T);

// SAFETY: a `Raw` stands for an exclusive borrow of a `T: Send`, which may be sent.
unsafe impl<T: Send> Send for Raw<T> {}

trait Erased<A: Actor>: Send {
    /// # Safety
    /// `actor` and `ctx` are valid and exclusively usable for the duration of this call, and of
    /// every later call on the same slot.
    unsafe fn poll_handle(
        self: Pin<&mut Self>,
        actor: Raw<A>,
        ctx: Raw<ActorContext<A>>,
        cx: &mut Context<'_>,
    ) -> Poll<()>;
}

type Reply<A, M> = <A as Handler<M>>::Reply;
type RunFn<A, M, Fut> =
    fn(Raw<A>, Raw<ActorContext<A>>, M, Option<oneshot::Sender<Reply<A, M>>>) -> Fut;

/// The boxed part of a `Multi`: the envelope, then the handler's future in its place.
struct Typed<A: Handler<M>, M: Send + 'static, Fut> {
    run: RunFn<A, M, Fut>,
    slot: Slot<M, Reply<A, M>, Fut>,
}

enum Slot<M, R, Fut> {
    Start(M, Option<oneshot::Sender<R>>),
    Running(Fut),
    Done,
}

fn new_slot<A, M, Fut>(
    msg: M,
    reply: Option<oneshot::Sender<Reply<A, M>>>,
    run: RunFn<A, M, Fut>,
) -> Typed<A, M, Fut>
where
    A: Handler<M>,
    M: Send + 'static,
{
    Typed { run, slot: Slot::Start(msg, reply) }
}

impl<A, M, Fut> Erased<A> for Typed<A, M, Fut>
where
    A: Handler<M>,
    M: Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    unsafe fn poll_handle(
        self: Pin<&mut Self>,
        actor: Raw<A>,
        ctx: Raw<ActorContext<A>>,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        // SAFETY: the slot is structurally pinned: `Running(fut)` is never moved out, only
        // replaced by `Done` in place (which drops it there).
        let this = unsafe { self.get_unchecked_mut() };
        if let Slot::Start(..) = this.slot {
            let Slot::Start(msg, reply) = std::mem::replace(&mut this.slot, Slot::Done) else {
                unreachable!()
            };
            this.slot = Slot::Running((this.run)(actor, ctx, msg, reply));
        }
        let Slot::Running(fut) = &mut this.slot else { return Poll::Ready(()) };
        // SAFETY: pinned in the box, see above.
        let poll = unsafe { Pin::new_unchecked(fut) }.poll(cx);
        if poll.is_ready() {
            this.slot = Slot::Done;
        }
        poll
    }
}

/// Runs `A`'s `Handler<M>` for one message and delivers the reply, unless the handler took the
/// slot.
async fn run<A: Handler<M>, M: Send + 'static>(
    actor: Raw<A>,
    ctx: Raw<ActorContext<A>>,
    msg: M,
    reply: Option<oneshot::Sender<Reply<A, M>>>,
) {
    // SAFETY: `Erased::poll_handle`'s contract: exclusive and valid while this future lives
    // (it lives inside the `Handling` future that holds the borrows).
    let (actor, ctx) = unsafe { (&mut *actor.0, &mut *ctx.0) };
    // A tell has no slot; a detached sender lets `take_reply` work the same (and allocates
    // nothing).
    let mut slot = Some(reply.unwrap_or_else(oneshot::Sender::detached));
    let value =
        <A as Handler<M>>::handle(actor, Call { reply: &mut slot, ctx: Exec::new(ctx) }, msg).await;
    if let Some(reply) = slot {
        let _ = reply.send(value);
    }
}
