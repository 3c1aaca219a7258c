//! The two-step API: `send_message(..).await` delivers and returns a [`MessageHandle`]; then the
//! caller decides: `reply()`, `timeout(..)`, `forget()`, `try_reply()`, or `forward_to(..)`.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::time::Duration;

use crate::actor::Actor;
use crate::envelope::Envelope;
use crate::error::MessageError;
use crate::handler::Handler;
use crate::link::{Link, Recipient};
use crate::multi::Multi;
use crate::oneshot::{self, TryRecvError};
use crate::weak::WeakLink;

/// A message that can be sent to actor `A` with [`Link::send_message`]: the extension point of
/// the two-step API. Implemented by [`HandlerMessage`], [`EnvelopeMessage`], [`RelayMessage`] and
/// [`RawMessage`].
///
/// An implementation of your own is the example on [`MessageHandle::waiting`]: a message
/// delivered only if there is room for it now.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a message the two-step API can send to `{A}`",
    label = "not a `SendableMessage<{A}>`",
    note = "wrap it: `HandlerMessage::new(m)` for an actor that implements `Handler<M>`, \
            `EnvelopeMessage::new(m)` for an envelope-style actor, `RawMessage(m)` for an \
            `A::Message` itself"
)]
pub trait SendableMessage<A: Actor>: Send + Sized {
    /// What [`MessageHandle::reply`] resolves to.
    type Reply: Send + 'static;

    /// Delivers the message to `to` (waiting for room in a full mailbox, or not, as the type
    /// decides).
    fn send_to(
        self,
        to: Recipient<'_, A>,
    ) -> impl Future<Output = MessageHandle<Self::Reply>> + Send;
}

/// A message that can be sent through a [`WeakLink`]: every [`SendableMessage`]. To a dead or
/// empty target it yields a handle whose [`send_error`](MessageHandle::send_error) says so.
pub trait WeakSendableMessage<A: Actor>: SendableMessage<A> {}

impl<A: Actor, M: SendableMessage<A>> WeakSendableMessage<A> for M {}

/// Handler style: `M` goes to `A`'s [`Handler<M>`]; the reply is the handler's `Reply`.
///
/// # Examples
///
/// Asking several actors at once: every message is delivered first, then the answers are
/// collected, while the actors work side by side.
///
/// ```
/// # use actor12::prelude::*;
/// # use actor12::{Call, MpscChannel, Multi};
/// # struct Counter(u64);
/// # impl Actor for Counter {
/// #     type Message = Multi<Self>;
/// #     type Spec = u64;
/// #     type Channel = MpscChannel<Self::Message>;
/// #     type Cancel = ();
/// #     type State = ();
/// #     fn state(_: &u64) {}
/// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
/// #         std::future::ready(Ok(Counter(ctx.spec)))
/// #     }
/// # }
/// # struct Add(u64);
/// # impl Handler<Add> for Counter {
/// #     type Reply = anyhow::Result<u64>;
/// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
/// #         self.0 += m.0;
/// #         Ok(self.0)
/// #     }
/// # }
/// use actor12::HandlerMessage;
///
/// # actor12::rt::Runtime::new().unwrap().block_on(async {
/// let counters: Vec<_> = (0..3).map(|n| actor12::spawn::<Counter>(n * 10)).collect();
/// let mut handles = Vec::new();
/// for counter in &counters {
///     handles.push(counter.send_message(HandlerMessage::new(Add(1))).await);
/// }
/// let mut totals = Vec::new();
/// for handle in handles {
///     // The outer `Result` is the delivery's, the inner one the handler's reply.
///     totals.push(handle.reply().await.unwrap().unwrap());
/// }
/// assert_eq!(totals, [1, 11, 21]);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct HandlerMessage<M>(pub M);

impl<M> HandlerMessage<M> {
    /// Wraps a message.
    pub fn new(message: M) -> Self {
        HandlerMessage(message)
    }
}

impl<A, M> SendableMessage<A> for HandlerMessage<M>
where
    A: Actor<Message = Multi<A>> + Handler<M>,
    M: Send + 'static,
{
    type Reply = <A as Handler<M>>::Reply;

    async fn send_to(self, to: Recipient<'_, A>) -> MessageHandle<Self::Reply> {
        let (envelope, rx) = to.envelope(self.0);
        match to.send_raw(Multi::new(envelope)).await {
            Ok(()) => MessageHandle::waiting(rx),
            Err(_) => MessageHandle::failed(crate::error::STOPPED),
        }
    }
}

/// Envelope style: for an actor whose `Message` is `Envelope<T, R>`; the reply is `R`.
///
/// # Examples
///
/// Unlike [`Link::send`], the reply type needs no [`FromError`](crate::FromError): a failure
/// is the handle's [`MessageError`].
///
/// ```
/// # use actor12::prelude::*;
/// # use actor12::{Envelope, MpscChannel};
/// # struct Doubler;
/// # impl Actor for Doubler {
/// #     type Message = Envelope<u64, u64>;
/// #     type Spec = ();
/// #     type Channel = MpscChannel<Self::Message>;
/// #     type Cancel = ();
/// #     type State = ();
/// #     fn state(_: &()) {}
/// #     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
/// #         std::future::ready(Ok(Doubler))
/// #     }
/// #     async fn handle(&mut self, _: Exec<'_, Self>, msg: Self::Message) {
/// #         let n = msg.value;
/// #         let _ = msg.send(n * 2);
/// #     }
/// # }
/// use actor12::{EnvelopeMessage, MessageError};
///
/// # actor12::rt::Runtime::new().unwrap().block_on(async {
/// let doubler = actor12::spawn::<Doubler>(()); // takes `Envelope<u64, u64>`
/// let handle = doubler.send_message(EnvelopeMessage::new(21)).await;
/// assert_eq!(handle.reply().await, Ok(42));
///
/// doubler.cancel_and_wait(()).await;
/// let handle = doubler.send_message(EnvelopeMessage::new(21)).await;
/// assert!(matches!(handle.reply().await, Err(MessageError::SendFailed(_))));
/// # });
/// ```
pub struct EnvelopeMessage<T, R> {
    value: T,
    _reply: PhantomData<fn() -> R>,
}

impl<T, R> EnvelopeMessage<T, R> {
    /// Wraps a request.
    pub fn new(value: T) -> Self {
        EnvelopeMessage { value, _reply: PhantomData }
    }
}

impl<T: fmt::Debug, R> fmt::Debug for EnvelopeMessage<T, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("EnvelopeMessage").field(&self.value).finish()
    }
}

impl<A, T, R> SendableMessage<A> for EnvelopeMessage<T, R>
where
    A: Actor<Message = Envelope<T, R>>,
    T: Send + 'static,
    R: Send + 'static,
{
    type Reply = R;

    async fn send_to(self, to: Recipient<'_, A>) -> MessageHandle<R> {
        let (envelope, rx) = to.envelope(self.value);
        match to.send_raw(envelope).await {
            Ok(()) => MessageHandle::waiting(rx),
            Err(_) => MessageHandle::failed(crate::error::STOPPED),
        }
    }
}

/// Passes an envelope on to a handler-style actor: the answer goes to the envelope's original
/// asker, so this handle's reply is `()` once delivered.
///
/// # Examples
///
/// A request received as an envelope (someone else holds `answer`), handed to the actor that
/// can answer it:
///
/// ```
/// # use actor12::prelude::*;
/// # use actor12::{Call, MpscChannel, Multi};
/// # struct Counter(u64);
/// # impl Actor for Counter {
/// #     type Message = Multi<Self>;
/// #     type Spec = u64;
/// #     type Channel = MpscChannel<Self::Message>;
/// #     type Cancel = ();
/// #     type State = ();
/// #     fn state(_: &u64) {}
/// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
/// #         std::future::ready(Ok(Counter(ctx.spec)))
/// #     }
/// # }
/// # struct Add(u64);
/// # impl Handler<Add> for Counter {
/// #     type Reply = anyhow::Result<u64>;
/// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
/// #         self.0 += m.0;
/// #         Ok(self.0)
/// #     }
/// # }
/// use actor12::{Envelope, RelayMessage};
///
/// # actor12::rt::Runtime::new().unwrap().block_on(async {
/// let counter = actor12::spawn::<Counter>(0);
/// let (request, answer) = Envelope::new(Add(3));
/// let handle = counter.send_message(RelayMessage::new(request)).await;
/// assert!(handle.was_sent());
/// assert_eq!(answer.await.unwrap().unwrap(), 3); // the original asker got the answer
///
/// counter.cancel_and_wait(()).await;
/// let (request, answer) = Envelope::new(Add(3));
/// let handle = counter.send_message(RelayMessage::new(request)).await;
/// assert!(!handle.was_sent());
/// assert!(answer.await.is_err()); // the envelope was dropped: its asker is not left waiting
/// # });
/// ```
#[derive(Debug)]
pub struct RelayMessage<T, R>(pub Envelope<T, R>);

impl<T, R> RelayMessage<T, R> {
    /// Wraps an envelope.
    pub fn new(envelope: Envelope<T, R>) -> Self {
        RelayMessage(envelope)
    }
}

impl<A, T, R> SendableMessage<A> for RelayMessage<T, R>
where
    A: Actor<Message = Multi<A>> + Handler<T, Reply = R>,
    T: Send + 'static,
    R: Send + 'static,
{
    type Reply = ();

    async fn send_to(self, to: Recipient<'_, A>) -> MessageHandle<()> {
        match to.send_raw(Multi::new(self.0)).await {
            Ok(()) => MessageHandle::delivered(()),
            Err(_) => MessageHandle::failed(crate::error::STOPPED),
        }
    }
}

/// A raw `A::Message` (see [`Link::send_raw_message`]); the reply is `()` once delivered.
///
/// An example is on [`Link::send_raw_message`], which wraps its message in one.
#[derive(Debug)]
pub struct RawMessage<M>(pub M);

impl<A: Actor> SendableMessage<A> for RawMessage<A::Message> {
    type Reply = ();

    async fn send_to(self, to: Recipient<'_, A>) -> MessageHandle<()> {
        match to.send_raw(self.0).await {
            Ok(()) => MessageHandle::delivered(()),
            Err(_) => MessageHandle::failed(crate::error::STOPPED),
        }
    }
}

/// A delivered (or undeliverable) message, and the reply to come: step two of the two-step
/// API.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use actor12::prelude::*;
/// use actor12::{Call, HandlerMessage, MessageError, MpscChannel, Multi};
///
/// struct Slow;
/// impl Actor for Slow {
///     type Message = Multi<Self>;
///     type Spec = ();
///     type Channel = MpscChannel<Self::Message>;
///     type Cancel = ();
///     type State = ();
///     fn state(_: &()) {}
///     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
///         std::future::ready(Ok(Slow))
///     }
/// }
/// impl Handler<Duration> for Slow {
///     type Reply = anyhow::Result<()>;
///     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, d: Duration) -> Self::Reply {
///         actor12::time::sleep(d).await;
///         Ok(())
///     }
/// }
///
/// actor12::rt::Runtime::new().unwrap().block_on(async {
///     let slow = actor12::spawn::<Slow>(());
///     let handle = slow.send_message(HandlerMessage::new(Duration::from_secs(60))).await;
///     assert!(handle.was_sent());
///     let late = handle.timeout(Duration::from_millis(5)).reply().await;
///     assert!(matches!(late, Err(MessageError::Timeout { .. })));
/// });
/// ```
#[must_use = "the message is delivered already; take the reply, or say `forget()` if you \
              want none"]
pub struct MessageHandle<R> {
    state: State<R>,
    timeout: Option<Duration>,
}

enum State<R> {
    Waiting(oneshot::Receiver<R>),
    Ready(R),
    Failed(String),
    /// The reply can never come (its sender was dropped unanswered), as `try_reply` found.
    Lost,
    Consumed,
}

impl<R> fmt::Debug for MessageHandle<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Waiting(_) => "waiting",
            State::Ready(_) => "ready",
            State::Failed(_) => "failed",
            State::Lost => "lost",
            State::Consumed => "consumed",
        };
        let mut out = f.debug_struct("MessageHandle");
        out.field("state", &state);
        if let State::Failed(why) = &self.state {
            out.field("why", why);
        }
        out.field("timeout", &self.timeout).finish()
    }
}

impl<R: Send + 'static> MessageHandle<R> {
    /// A delivered message whose answer will come through `reply`: what a
    /// [`SendableMessage`] returns once it has pushed its message with the other end.
    ///
    /// The three constructors are for implementations of [`SendableMessage`], the extension
    /// point of the two-step API. Make an ask's envelope with
    /// [`Recipient::envelope`](crate::Recipient::envelope), which tells the reply who answers
    /// it, so that an actor awaiting the answer to its own request in its own run panics
    /// instead of hanging (an envelope from [`Envelope::new`] does not say, nor does one inside
    /// a message type of your own, and such a reply hangs). This one delivers without waiting
    /// for room (a full mailbox fails the send instead):
    ///
    /// ```
    /// use actor12::prelude::*;
    /// use actor12::{Call, MessageError, MessageHandle, Multi, MpscChannel};
    /// use actor12::{Recipient, SendableMessage};
    ///
    /// /// `m`, delivered only if there is room now.
    /// struct NoWait<M>(M);
    ///
    /// impl<A, M> SendableMessage<A> for NoWait<M>
    /// where
    ///     A: Actor<Message = Multi<A>> + Handler<M>,
    ///     M: Send + 'static,
    /// {
    ///     type Reply = <A as Handler<M>>::Reply;
    ///
    ///     async fn send_to(self, to: Recipient<'_, A>) -> MessageHandle<Self::Reply> {
    ///         let (envelope, reply) = to.envelope(self.0);
    ///         match to.try_send_raw(Multi::new(envelope)) {
    ///             Ok(()) => MessageHandle::waiting(reply),
    ///             Err(_) => MessageHandle::failed("no room, or the actor has stopped"),
    ///         }
    ///     }
    /// }
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    ///
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(40);
    /// let handle = counter.send_message(NoWait(Add(2))).await;
    /// assert_eq!(handle.reply().await.unwrap().unwrap(), 42);
    ///
    /// counter.cancel_and_wait(()).await;
    /// let handle = counter.send_message(NoWait(Add(2))).await;
    /// assert!(!handle.was_sent());
    /// assert!(matches!(handle.reply().await, Err(MessageError::SendFailed(_))));
    /// # });
    /// ```
    pub fn waiting(reply: oneshot::Receiver<R>) -> Self {
        MessageHandle { state: State::Waiting(reply), timeout: None }
    }

    /// A delivered message whose answer is already known (a tell: `()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use actor12::MessageHandle;
    ///
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let handle = MessageHandle::delivered(7);
    /// assert!(handle.was_sent());
    /// assert_eq!(handle.reply().await.unwrap(), 7);
    /// # });
    /// ```
    pub fn delivered(reply: R) -> Self {
        MessageHandle { state: State::Ready(reply), timeout: None }
    }

    /// A message that was not delivered: [`send_error`](Self::send_error) gives `why`, and
    /// the reply is [`MessageError::SendFailed`] with it.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor12::{MessageError, MessageHandle};
    ///
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let handle = MessageHandle::<u32>::failed("the actor has stopped");
    /// assert!(!handle.was_sent());
    /// assert_eq!(handle.send_error(), Some("the actor has stopped"));
    /// assert!(matches!(handle.reply().await, Err(MessageError::SendFailed(_))));
    /// # });
    /// ```
    pub fn failed(why: impl Into<String>) -> Self {
        MessageHandle { state: State::Failed(why.into()), timeout: None }
    }

    /// True if the message was delivered to the actor's mailbox.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # use actor12::HandlerMessage;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// assert!(counter.send_message(HandlerMessage::new(Get)).await.was_sent());
    /// counter.cancel_and_wait(()).await;
    /// assert!(!counter.send_message(HandlerMessage::new(Get)).await.was_sent());
    /// # });
    /// ```
    pub fn was_sent(&self) -> bool {
        !matches!(self.state, State::Failed(_))
    }

    /// Why the message was not delivered, if it was not.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # use actor12::HandlerMessage;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// counter.cancel_and_wait(()).await;
    /// let handle = counter.send_message(HandlerMessage::new(Get)).await;
    /// assert_eq!(handle.send_error(), Some("the actor has stopped"));
    /// # });
    /// ```
    pub fn send_error(&self) -> Option<&str> {
        match &self.state {
            State::Failed(why) => Some(why),
            _ => None,
        }
    }

    /// Sets a deadline for [`reply`](Self::reply) and the calls built on it (on actor12's timer
    /// wheel; the deadline counts from when the reply is awaited).
    ///
    /// Awaited on a worker (in an actor or a task), the deadline is an entry in the worker's
    /// timer wheel and allocates nothing; awaited elsewhere (`block_on`, a tokio task) its timer
    /// is one allocation, shared with the worker that fires it. None at all if the reply is
    /// there on the first poll.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # use actor12::HandlerMessage;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// use std::time::Duration;
    ///
    /// let counter = actor12::spawn::<Counter>(3);
    /// let handle = counter.send_message(HandlerMessage::new(Get)).await;
    /// // The deadline applies to `reply` and everything built on it. (A reply that misses it
    /// // resolves to `MessageError::Timeout`: see the type's example.)
    /// assert_eq!(handle.timeout(Duration::from_secs(10)).reply().await.unwrap().unwrap(), 3);
    /// # });
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Drops the reply: the actor still handles the message; its answer is discarded.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # use actor12::HandlerMessage;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// counter.send_message(HandlerMessage::new(Add(1))).await.forget();
    /// assert_eq!(counter.ask_dyn(Get).await.unwrap(), 1); // it was still handled
    /// # });
    /// ```
    pub fn forget(self) {}

    /// The reply if it is already here; never waits.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # use actor12::HandlerMessage;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// use actor12::MessageError;
    ///
    /// let counter = actor12::spawn::<Counter>(5);
    /// let mut handle = counter.send_message(HandlerMessage::new(Get)).await;
    /// let answer = loop {
    ///     match handle.try_reply() {
    ///         Ok(Some(answer)) => break answer.unwrap(),
    ///         Ok(None) => actor12::rt::yield_now().await, // not yet: do something else
    ///         Err(e) => panic!("no answer: {e}"),
    ///     }
    /// };
    /// assert_eq!(answer, 5);
    /// assert_eq!(handle.try_reply().unwrap_err(), MessageError::AlreadyConsumed);
    /// # });
    /// ```
    pub fn try_reply(&mut self) -> Result<Option<R>, MessageError> {
        match std::mem::replace(&mut self.state, State::Consumed) {
            State::Waiting(mut rx) => match rx.try_recv() {
                Ok(value) => Ok(Some(value)),
                Err(TryRecvError::Empty) => {
                    self.state = State::Waiting(rx);
                    Ok(None)
                }
                Err(TryRecvError::Closed) => {
                    // Not `Consumed`: nothing was taken, and every later call says so again.
                    self.state = State::Lost;
                    Err(MessageError::RecvFailed(oneshot::RecvError))
                }
            },
            State::Ready(value) => Ok(Some(value)),
            State::Failed(why) => {
                let err = MessageError::SendFailed(why.clone());
                self.state = State::Failed(why);
                Err(err)
            }
            State::Lost => {
                self.state = State::Lost;
                Err(MessageError::RecvFailed(oneshot::RecvError))
            }
            State::Consumed => Err(MessageError::AlreadyConsumed),
        }
    }

    /// Waits for the reply (up to the [`timeout`](Self::timeout), if one is set). Awaited in the
    /// handler of the actor the message went to, it panics: the message waits in that actor's
    /// mailbox behind the handler, so the reply could never come.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # use actor12::HandlerMessage;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// use actor12::MessageError;
    ///
    /// let counter = actor12::spawn::<Counter>(0);
    /// let handle = counter.send_message(HandlerMessage::new(Add(2))).await;
    /// let reply: Result<anyhow::Result<u64>, MessageError> = handle.reply().await;
    /// assert_eq!(reply.unwrap().unwrap(), 2);
    ///
    /// counter.cancel_and_wait(()).await;
    /// let handle = counter.send_message(HandlerMessage::new(Get)).await;
    /// assert!(matches!(handle.reply().await, Err(MessageError::SendFailed(_))));
    /// # });
    /// ```
    pub async fn reply(self) -> Result<R, MessageError> {
        match self.state {
            State::Waiting(rx) => match self.timeout {
                None => rx.await.map_err(MessageError::RecvFailed),
                Some(timeout) => {
                    crate::runtime::before_timer();
                    match crate::time::timeout(timeout, rx).await {
                        Ok(reply) => reply.map_err(MessageError::RecvFailed),
                        Err(_) => Err(MessageError::Timeout { timeout }),
                    }
                }
            },
            State::Ready(value) => Ok(value),
            State::Failed(why) => Err(MessageError::SendFailed(why)),
            State::Lost => Err(MessageError::RecvFailed(oneshot::RecvError)),
            State::Consumed => Err(MessageError::AlreadyConsumed),
        }
    }

    /// The reply, transformed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # use actor12::HandlerMessage;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(21);
    /// let handle = counter.send_message(HandlerMessage::new(Get)).await;
    /// let doubled = handle.map_reply(|reply| reply.map(|n| n * 2)).await.unwrap();
    /// assert_eq!(doubled.unwrap(), 42);
    /// # });
    /// ```
    pub async fn map_reply<U>(self, f: impl FnOnce(R) -> U) -> Result<U, MessageError> {
        self.reply().await.map(f)
    }

    /// Runs `f` on the outcome (reply or error) and awaits what it returns.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # use actor12::HandlerMessage;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(1);
    /// let handle = counter.send_message(HandlerMessage::new(Get)).await;
    /// let text = handle
    ///     .then(|outcome| async move {
    ///         match outcome {
    ///             Ok(Ok(n)) => format!("got {n}"),
    ///             Ok(Err(e)) => format!("refused: {e}"),
    ///             Err(e) => format!("no answer: {e}"),
    ///         }
    ///     })
    ///     .await;
    /// assert_eq!(text, "got 1");
    /// # });
    /// ```
    pub async fn then<F, Fut>(self, f: F) -> Fut::Output
    where
        F: FnOnce(Result<R, MessageError>) -> Fut,
        Fut: Future,
    {
        f(self.reply().await).await
    }

    /// The reply, with the error transformed.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # use actor12::HandlerMessage;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// counter.cancel_and_wait(()).await;
    /// let handle = counter.send_message(HandlerMessage::new(Get)).await;
    /// let reply: Result<_, String> = handle.map_err(|e| e.to_string()).await;
    /// assert_eq!(reply.unwrap_err(), "message not delivered: the actor has stopped");
    /// # });
    /// ```
    pub async fn map_err<E>(self, f: impl FnOnce(MessageError) -> E) -> Result<R, E> {
        self.reply().await.map_err(f)
    }

    /// Delivers the outcome (reply or error) as a message to another actor, from a background
    /// task; returns at once. `B` handles `Result<R, MessageError>`. The task holds a `Link<B>`
    /// until `B` has handled the outcome, so `B` stays alive until then. The task runs on the
    /// caller's runtime (the one `spawn` would use there: a worker's, or the entered one), which
    /// need not be either actor's; if that runtime shuts down first, the task and the outcome
    /// are dropped with it. If `B` was cancelled
    /// meanwhile, the outcome is dropped as a [`Link::tell_dyn`] to it is, with a `debug`
    /// event: nothing reports it to the caller, who has moved on. The task is one allocation
    /// per call, beside the reply slots (this message's, and the one the task waits on for `B`
    /// to handle the outcome; each reused by its thread) and the outcome's box: it goes as an
    /// ask, whose message is kept inline only up to 16 bytes, and a `Result<_, MessageError>`
    /// is at least 24.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// use actor12::{HandlerMessage, MessageError, oneshot};
    ///
    /// /// Receives the outcome of a request someone else sent, and passes the sum on.
    /// struct Inbox(Option<oneshot::Sender<u64>>);
    /// # impl Actor for Inbox {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = oneshot::Sender<u64>;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &oneshot::Sender<u64>) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Inbox(Some(ctx.spec))))
    /// #     }
    /// # }
    /// type Outcome = Result<anyhow::Result<u64>, MessageError>;
    ///
    /// impl Handler<Outcome> for Inbox {
    ///     type Reply = anyhow::Result<()>;
    ///     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, outcome: Outcome) -> Self::Reply {
    ///         if let Some(tx) = self.0.take() {
    ///             let _ = tx.send(outcome??);
    ///         }
    ///         Ok(())
    ///     }
    /// }
    ///
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let (tx, rx) = oneshot::channel();
    /// let inbox = actor12::spawn::<Inbox>(tx);
    /// let counter = actor12::spawn::<Counter>(41);
    /// // Returns at once; the outcome reaches the inbox as a message.
    /// counter.send_message(HandlerMessage::new(Add(1))).await.forward_to(&inbox);
    /// assert_eq!(rx.await.unwrap(), 42);
    /// # });
    /// ```
    pub fn forward_to<B>(self, link: &Link<B>)
    where
        B: Actor<Message = Multi<B>> + Handler<Result<R, MessageError>>,
    {
        let link = link.clone();
        // `runtime::handle`: the default runtime, if this starts it, gets the tokio bridge.
        drop(crate::runtime::handle().spawn(async move {
            let outcome = self.reply().await;
            // Asked, not told: the link is held until `B` has handled the outcome. A tell let it
            // go once the outcome was queued, and if it was `B`'s last link, `B` stopped with
            // the outcome unhandled in its mailbox (a review of 2026-12-06).
            let handled = link.send_message(HandlerMessage::new(outcome)).await.reply().await;
            if handled.is_err() {
                crate::link::tell_dropped::<B>();
            }
        }));
    }
}

impl<A: Actor> Link<A> {
    /// Step one of the two-step API: delivers `message` and returns the handle of its reply.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # use actor12::HandlerMessage;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// let handle = counter.send_message(HandlerMessage::new(Add(2))).await; // step one: delivered
    /// assert_eq!(handle.reply().await.unwrap().unwrap(), 2); // step two: the answer
    /// # });
    /// ```
    pub async fn send_message<M: SendableMessage<A>>(&self, message: M) -> MessageHandle<M::Reply> {
        message.send_to(self.recipient()).await
    }

    /// Both steps: delivers and waits for the reply.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # use actor12::HandlerMessage;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(40);
    /// let n = counter.send_and_reply(HandlerMessage::new(Add(2))).await.unwrap().unwrap();
    /// assert_eq!(n, 42);
    /// # });
    /// ```
    pub async fn send_and_reply<M: SendableMessage<A>>(
        &self,
        message: M,
    ) -> Result<M::Reply, MessageError> {
        self.send_message(message).await.reply().await
    }

    /// Delivers and discards the reply.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # use actor12::HandlerMessage;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// counter.send_and_forget(HandlerMessage::new(Add(2))).await;
    /// assert_eq!(counter.send_and_reply(HandlerMessage::new(Get)).await.unwrap().unwrap(), 2);
    /// # });
    /// ```
    pub async fn send_and_forget<M: SendableMessage<A>>(&self, message: M) {
        let handle = self.send_message(message).await;
        if !handle.was_sent() {
            crate::link::tell_dropped::<A>(); // nothing to return the error in, as `tell_dyn`
        }
        handle.forget();
    }

    /// Both steps under one deadline: delivery (which waits for room in a full mailbox) and the
    /// reply. If it passes before delivery, [`MessageError::SendFailed`] (the mailbox stayed
    /// full): the message is dropped, never handled; after delivery, [`MessageError::Timeout`]:
    /// the actor may still handle it. The deadline runs from the future's first
    /// poll, not from this call (as for any `async fn`). It allocates as
    /// [`MessageHandle::timeout`]'s does: nothing on a worker, one timer elsewhere (and a
    /// second one before it, for the delivery, if the mailbox is full and it waits for room).
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # use actor12::HandlerMessage;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// use std::time::Duration;
    ///
    /// let counter = actor12::spawn::<Counter>(1);
    /// let reply = counter.send_with_timeout(HandlerMessage::new(Get), Duration::from_secs(10)).await;
    /// assert_eq!(reply.unwrap().unwrap(), 1);
    /// # });
    /// ```
    pub async fn send_with_timeout<M: SendableMessage<A>>(
        &self,
        message: M,
        timeout: Duration,
    ) -> Result<M::Reply, MessageError> {
        within(timeout, self.send_message(message)).await
    }

    /// Step one for a raw `A::Message`: the handle's reply is `()` once delivered.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Envelope, MpscChannel};
    /// # struct Doubler;
    /// # impl Actor for Doubler {
    /// #     type Message = Envelope<u64, anyhow::Result<u64>>;
    /// #     type Spec = ();
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &()) {}
    /// #     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Doubler))
    /// #     }
    /// #     async fn handle(&mut self, _: Exec<'_, Self>, msg: Self::Message) {
    /// #         let _ = msg.reply.send(Ok(msg.value * 2));
    /// #     }
    /// # }
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let doubler = actor12::spawn::<Doubler>(());
    /// let (envelope, reply) = Envelope::new(21);
    /// let handle = doubler.send_raw_message(envelope).await;
    /// assert!(handle.was_sent());
    /// assert_eq!(reply.await.unwrap().unwrap(), 42);
    /// # });
    /// ```
    pub async fn send_raw_message(&self, message: A::Message) -> MessageHandle<()> {
        self.send_message(RawMessage(message)).await
    }
}

impl<A: Actor> WeakLink<A> {
    /// [`Link::send_message`]; to a dead or empty target the handle reports the send error.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # use actor12::HandlerMessage;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// let weak = counter.downgrade();
    /// let handle = weak.send_message(HandlerMessage::new(Add(1))).await;
    /// assert_eq!(handle.reply().await.unwrap().unwrap(), 1);
    ///
    /// drop(counter);
    /// let handle = weak.send_message(HandlerMessage::new(Get)).await;
    /// assert!(!handle.was_sent());
    /// # });
    /// ```
    pub async fn send_message<M: WeakSendableMessage<A>>(
        &self,
        message: M,
    ) -> MessageHandle<M::Reply> {
        match self.linked() {
            Some(to) => message.send_to(to).await,
            None if self.is_set() => MessageHandle::failed(crate::error::STOPPED),
            None => MessageHandle::failed(crate::error::EMPTY),
        }
    }

    /// [`Link::send_and_reply`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # use actor12::HandlerMessage;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(1);
    /// let weak = counter.downgrade();
    /// assert_eq!(weak.send_and_reply(HandlerMessage::new(Get)).await.unwrap().unwrap(), 1);
    /// drop(counter);
    /// assert!(weak.send_and_reply(HandlerMessage::new(Get)).await.is_err()); // at once
    /// # });
    /// ```
    pub async fn send_and_reply<M: WeakSendableMessage<A>>(
        &self,
        message: M,
    ) -> Result<M::Reply, MessageError> {
        self.send_message(message).await.reply().await
    }

    /// [`Link::send_and_forget`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # use actor12::HandlerMessage;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// counter.downgrade().send_and_forget(HandlerMessage::new(Add(3))).await;
    /// assert_eq!(counter.ask_dyn(Get).await.unwrap(), 3);
    /// # });
    /// ```
    pub async fn send_and_forget<M: WeakSendableMessage<A>>(&self, message: M) {
        let handle = self.send_message(message).await;
        if !handle.was_sent() {
            crate::link::tell_dropped::<A>(); // nothing to return the error in, as `tell_dyn`
        }
        handle.forget();
    }

    /// [`Link::send_with_timeout`]: both steps under one deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Call, MpscChannel, Multi};
    /// # struct Counter(u64);
    /// # impl Actor for Counter {
    /// #     type Message = Multi<Self>;
    /// #     type Spec = u64;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &u64) {}
    /// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Counter(ctx.spec)))
    /// #     }
    /// # }
    /// # struct Add(u64);
    /// # impl Handler<Add> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, m: Add) -> Self::Reply {
    /// #         self.0 += m.0;
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # struct Get;
    /// # impl Handler<Get> for Counter {
    /// #     type Reply = anyhow::Result<u64>;
    /// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
    /// #         Ok(self.0)
    /// #     }
    /// # }
    /// # use actor12::HandlerMessage;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// use std::time::Duration;
    ///
    /// let counter = actor12::spawn::<Counter>(2);
    /// let weak = counter.downgrade();
    /// let reply = weak.send_with_timeout(HandlerMessage::new(Get), Duration::from_secs(10)).await;
    /// assert_eq!(reply.unwrap().unwrap(), 2);
    /// # });
    /// ```
    pub async fn send_with_timeout<M: WeakSendableMessage<A>>(
        &self,
        message: M,
        timeout: Duration,
    ) -> Result<M::Reply, MessageError> {
        within(timeout, self.send_message(message)).await
    }

    /// [`Link::send_raw_message`].
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{Envelope, MpscChannel};
    /// # struct Doubler;
    /// # impl Actor for Doubler {
    /// #     type Message = Envelope<u64, anyhow::Result<u64>>;
    /// #     type Spec = ();
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &()) {}
    /// #     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Doubler))
    /// #     }
    /// #     async fn handle(&mut self, _: Exec<'_, Self>, msg: Self::Message) {
    /// #         let _ = msg.reply.send(Ok(msg.value * 2));
    /// #     }
    /// # }
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let doubler = actor12::spawn::<Doubler>(());
    /// let weak = doubler.downgrade();
    /// let (envelope, reply) = Envelope::new(5);
    /// assert!(weak.send_raw_message(envelope).await.was_sent());
    /// assert_eq!(reply.await.unwrap().unwrap(), 10);
    /// drop(doubler);
    /// let (envelope, _reply) = Envelope::new(5);
    /// assert!(!weak.send_raw_message(envelope).await.was_sent());
    /// # });
    /// ```
    pub async fn send_raw_message(&self, message: A::Message) -> MessageHandle<()> {
        self.send_message(RawMessage(message)).await
    }
}

/// `send_with_timeout`'s two steps under one deadline of `timeout` from now.
async fn within<R: Send + 'static>(
    timeout: Duration,
    send: impl Future<Output = MessageHandle<R>>,
) -> Result<R, MessageError> {
    let start = std::time::Instant::now();
    // The timer is armed only if delivery has to wait for room; the default runtime's tokio
    // bridge (`before_timer`) is set up either way, as any call that may arm one does.
    crate::runtime::before_timer();
    let Ok(handle) = crate::time::timeout(timeout, send).await else {
        let why = format!("the actor's mailbox stayed full for {timeout:?}");
        return Err(MessageError::SendFailed(why));
    };
    let left = timeout.saturating_sub(start.elapsed());
    handle.timeout(left).reply().await.map_err(|e| match e {
        MessageError::Timeout { .. } => MessageError::Timeout { timeout },
        e => e,
    })
}
