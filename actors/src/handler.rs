//! Handler style: one `Handler<M>` impl per message type an actor accepts.

use std::future::Future;
use std::ops::{Deref, DerefMut};

use crate::actor::{Actor, ActorContext};
use crate::error::{ActorError, ActorSendError, FromError};
use crate::oneshot::{self, RecvError};

/// An actor that handles messages of type `M` and answers each with a `Reply`.
///
/// The actor's `Message` must be [`Multi<Self>`](crate::Multi); send with
/// [`Link::ask_dyn`](crate::Link::ask_dyn), [`tell_dyn`](crate::Link::tell_dyn) or the two-step
/// [`send_message`](crate::Link::send_message) with a [`HandlerMessage`](crate::HandlerMessage).
///
/// `Reply` must be able to express the transport's failures (the actor is dead, the reply was
/// dropped): `anyhow::Result<T>` and `Result<T, MessageError>` can, so an ask never hangs or
/// panics on a dead actor. A `Result<T, MyError>` cannot ([`FromError`](crate::FromError) says
/// why): return `anyhow::Result<Result<T, MyError>>`, or a reply type of your own crate.
///
/// # Examples
///
/// ```
/// use actor12::prelude::*;
/// use actor12::{Call, MpscChannel, Multi};
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
/// }
///
/// impl Handler<Add> for Counter {
///     type Reply = anyhow::Result<u64>;
///     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, msg: Add) -> Self::Reply {
///         self.0 += msg.0;
///         Ok(self.0)
///     }
/// }
///
/// actor12::rt::Runtime::new().unwrap().block_on(async {
///     let counter = actor12::spawn::<Counter>(());
///     assert_eq!(counter.ask_dyn(Add(2)).await.unwrap(), 2);
///     assert_eq!(counter.ask_dyn(Add(3)).await.unwrap(), 5);
/// });
/// ```
pub trait Handler<M>: Actor
where
    M: Send + 'static,
{
    /// The answer; `FromError` turns transport failures into it.
    type Reply: Send
        + 'static
        + FromError<ActorSendError<Self>>
        + FromError<RecvError>
        + FromError<ActorError>;

    /// Handles one `M`. The returned value is the reply, unless the handler took the reply slot
    /// with [`Call::take_reply`] or [`Call::reply_async`].
    fn handle<'a>(
        &'a mut self,
        ctx: Call<'a, Self, Self::Reply>,
        msg: M,
    ) -> impl Future<Output = Self::Reply> + use<'a, M, Self> + Send;
}

/// The context of one handler run: derefs to the actor's [`ActorContext`].
pub struct Exec<'a, A: Actor> {
    pub(crate) ctx: &'a mut ActorContext<A>,
}

impl<A: Actor> std::fmt::Debug for Exec<'_, A> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Exec").field(&self.ctx).finish()
    }
}

impl<'a, A: Actor> Exec<'a, A> {
    /// Wraps the actor's context (for a `cycle` of your own that calls `handle`).
    pub fn new(ctx: &'a mut ActorContext<A>) -> Self {
        Exec { ctx }
    }
}

impl<A: Actor> Deref for Exec<'_, A> {
    type Target = ActorContext<A>;

    fn deref(&self) -> &ActorContext<A> {
        self.ctx
    }
}

impl<A: Actor> DerefMut for Exec<'_, A> {
    fn deref_mut(&mut self) -> &mut ActorContext<A> {
        self.ctx
    }
}

/// The context of a [`Handler`] run: derefs to [`Exec`], and owns the reply slot.
///
/// # Examples
///
/// A handler that answers later, from another message ([`take_reply`](Call::take_reply)), and
/// one that answers from a background task ([`reply_async`](Call::reply_async)):
///
/// ```
/// use actor12::prelude::*;
/// use actor12::{Call, MpscChannel, Multi, oneshot};
///
/// struct Gate(Option<oneshot::Sender<anyhow::Result<u64>>>);
/// struct Wait;
/// struct Open(u64);
/// struct Double(u64);
///
/// impl Actor for Gate {
///     type Message = Multi<Self>;
///     type Spec = ();
///     type Channel = MpscChannel<Self::Message>;
///     type Cancel = ();
///     type State = ();
///     fn state(_: &()) {}
///     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
///         std::future::ready(Ok(Gate(None)))
///     }
/// }
///
/// impl Handler<Wait> for Gate {
///     type Reply = anyhow::Result<u64>;
///     async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, _: Wait) -> Self::Reply {
///         self.0 = Some(ctx.take_reply());
///         Ok(0) // discarded: the slot is taken
///     }
/// }
///
/// impl Handler<Open> for Gate {
///     type Reply = anyhow::Result<()>;
///     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Open(n): Open) -> Self::Reply {
///         if let Some(slot) = self.0.take() {
///             let _ = slot.send(Ok(n));
///         }
///         Ok(())
///     }
/// }
///
/// impl Handler<Double> for Gate {
///     type Reply = anyhow::Result<u64>;
///     async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, d: Double) -> Self::Reply {
///         // The actor goes on with its next message while the task runs.
///         ctx.reply_async(async move { Ok(d.0 * 2) })
///     }
/// }
///
/// actor12::rt::Runtime::new().unwrap().block_on(async {
///     let gate = actor12::spawn::<Gate>(());
///     let waiting = gate.ask_dyn_async(Wait).await; // delivered; its answer comes later
///     assert_eq!(gate.ask_dyn(Double(21)).await.unwrap(), 42);
///     gate.tell_dyn(Open(7)).await;
///     assert_eq!(waiting.await.unwrap(), 7);
/// });
/// ```
pub struct Call<'a, A: Actor, R> {
    pub(crate) reply: &'a mut Option<oneshot::Sender<R>>,
    /// The actor's context.
    pub ctx: Exec<'a, A>,
}

impl<A: Actor, R> std::fmt::Debug for Call<'_, A, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call").field("reply_taken", &self.reply.is_none()).finish_non_exhaustive()
    }
}

impl<'a, A: Actor, R> Deref for Call<'a, A, R> {
    type Target = Exec<'a, A>;

    fn deref(&self) -> &Exec<'a, A> {
        &self.ctx
    }
}

impl<A: Actor, R> DerefMut for Call<'_, A, R> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.ctx
    }
}

impl<A, R> Call<'_, A, R>
where
    A: Actor,
    R: Send + 'static + FromError<ActorError>,
{
    /// Takes the reply slot, to answer later (from another task or message). The handler's
    /// return value is then discarded. Dropping the slot unanswered gives the asker its error
    /// at once (`RecvError`, or `MessageError::RecvFailed` in the two-step API).
    ///
    /// # Panics
    /// If the slot was already taken in this run.
    pub fn take_reply(&mut self) -> oneshot::Sender<R> {
        self.reply.take().expect("the reply slot was already taken in this handler run")
    }

    /// Answers from a background task tied to the actor: `future`'s output is the reply. Returns
    /// a placeholder for the handler to return (it is discarded), or `ActorError::ReplyTaken` if
    /// the slot was already taken.
    pub fn reply_async<F>(&mut self, future: F) -> R
    where
        F: Future<Output = R> + Send + 'static,
    {
        let Some(reply) = self.reply.take() else {
            return R::from_err(ActorError::ReplyTaken);
        };
        self.ctx.spawn(async move {
            let _ = reply.send(future.await);
        });
        R::from_err(ActorError::AsyncReply)
    }
}
