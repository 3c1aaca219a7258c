//! `Link<A>`: the handle to a running actor, and `DynLink<M>`, the same with the actor type
//! erased.

use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::actor::Actor;
use crate::cancel::{CancelReason, CancelToken};
use crate::envelope::Envelope;
use crate::error::{ActorSendError, FromError, SendError};
use crate::handler::Handler;
use crate::multi::Multi;
use crate::task::{CoreRef, LinkRef, SendFuture};
use crate::weak::WeakLink;

/// A boxed, sendable future (the type `futures::future::BoxFuture` names).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// `Link::send_raw`'s future. Not an `async fn`: its poll (and the mailbox's) is inlined into the
/// sender's, so the message does not go through the stack on its way into the mailbox.
struct SendRaw<'a, A: Actor> {
    send: SendFuture<'a, A::Message>,
}

impl<A: Actor> Future for SendRaw<'_, A> {
    type Output = Result<(), ActorSendError<A>>;

    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.send).poll(cx).map(|sent| sent.map_err(SendError::new))
    }
}

/// `Link::tell_dyn`'s future, as [`SendRaw`]; a tell to a stopped actor is dropped, with a
/// `debug` event.
struct Tell<'a, A: Actor> {
    send: SendFuture<'a, A::Message>,
}

impl<A: Actor> Future for Tell<'_, A> {
    type Output = ();

    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.send).poll(cx).map(|sent| {
            if sent.is_err() {
                tell_dropped::<A>();
            }
        })
    }
}

/// `Link::relay_dyn`'s future, as [`SendRaw`]; an envelope relayed to a stopped actor is
/// dropped, and its asker gets an error.
///
/// Not an `async fn` for the reason `SendRaw` is not, and because the drop glue of an `async
/// fn`'s future, which awaited a `SendRaw` inside another `async fn`, stayed an out-of-line call
/// after every relay (callgrind, handler-style ring: 13 instructions a hop).
struct Relay<'a, A: Actor> {
    send: SendFuture<'a, A::Message>,
}

impl<A: Actor> Future for Relay<'_, A> {
    type Output = ();

    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // A failed send hands the message back: dropped here, the envelope's reply slot with it.
        Pin::new(&mut self.send).poll(cx).map(drop)
    }
}

/// Says that a tell found its actor stopped (`tell_dyn` and `send_and_forget` have no error to
/// return it in).
#[cold]
pub(crate) fn tell_dropped<A: Actor>() {
    tracing::debug!(actor = std::any::type_name::<A>(), "a tell to a stopped actor was dropped");
}

/// Where a [`SendableMessage`](crate::SendableMessage) delivers: an actor's mailbox, lent by a
/// [`Link`] or a [`WeakLink`] for one send. It does not keep the actor alive: a send through a
/// weak link that waits for room in a full mailbox does not stop the actor from stopping when
/// its last link goes (the send then fails).
///
/// See [`MessageHandle::waiting`](crate::MessageHandle::waiting) for a `SendableMessage` that
/// uses it.
pub struct Recipient<'a, A: Actor> {
    core: &'a CoreRef<A::Message>,
}

impl<A: Actor> Clone for Recipient<'_, A> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<A: Actor> Copy for Recipient<'_, A> {}

impl<A: Actor> fmt::Debug for Recipient<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recipient").field("actor", &std::any::type_name::<A>()).finish()
    }
}

impl<'a, A: Actor> Recipient<'a, A> {
    #[inline]
    pub(crate) fn new(core: &'a CoreRef<A::Message>) -> Self {
        Recipient { core }
    }

    /// [`Link::send_raw`]: pushes a raw `A::Message`, waiting for room; hands it back if the
    /// actor has stopped.
    #[inline]
    pub fn send_raw(
        self,
        message: A::Message,
    ) -> impl Future<Output = Result<(), ActorSendError<A>>> + Send + 'a {
        SendRaw::<A> { send: self.core.send(message) }
    }

    /// [`Link::try_send_raw`]: pushes without waiting; hands the message back if the mailbox is
    /// full, or senders are waiting for room in it, or the actor has stopped.
    #[inline]
    pub fn try_send_raw(
        self,
        message: A::Message,
    ) -> Result<(), actor12_mailbox::TrySendError<A::Message>> {
        self.core.try_send(message)
    }

    /// [`Link::alive`]: true while the actor runs (until its mailbox closes).
    pub fn alive(self) -> bool {
        !self.core.is_closed()
    }

    /// An envelope for a request to this actor, and the receiver of its answer, which knows
    /// who answers it: what a [`SendableMessage`](crate::SendableMessage) that asks should
    /// make its envelope with. Where the actor's `Message` is the envelope itself or a
    /// [`Multi`](crate::Multi), an actor awaiting, in its own run, the answer to a request that
    /// still waits in its own mailbox then panics with a message that says so, as with
    /// `ask_dyn`, instead of hanging. The check cannot see an envelope from [`Envelope::new`],
    /// nor one inside a message type of your own (the runtime cannot tell when such a request
    /// leaves the mailbox): awaiting its answer there hangs.
    ///
    /// See [`MessageHandle::waiting`](crate::MessageHandle::waiting) for a `SendableMessage`
    /// that uses it.
    pub fn envelope<T, R>(self, message: T) -> (Envelope<T, R>, crate::oneshot::Receiver<R>) {
        let (envelope, mut rx) = Envelope::new(message);
        if <A::Message as crate::ActorMessage<A>>::MARKS_DELIVERY {
            rx.answered_by(self.core.addr());
        }
        (envelope, rx)
    }

    /// [`Link::send`]. A plain function returning `send_or`'s future: an `async fn` around it
    /// cost each ask about 17 instructions more for its own state (callgrind, envelope ask).
    pub(crate) fn send<T, R>(self, message: T) -> impl Future<Output = R> + Send + 'a
    where
        A: Actor<Message = Envelope<T, R>>,
        T: Send + 'static,
        R: Send + 'static + FromError<ActorSendError<A>> + FromError<crate::oneshot::RecvError>,
    {
        self.send_or(message, R::from_err)
    }

    /// [`send`](Self::send), with `stopped` making the answer when the actor stops before the
    /// request is in its mailbox ([`WeakLink`](crate::WeakLink)'s is `ActorError::Dead`).
    pub(crate) async fn send_or<T, R>(
        self,
        message: T,
        stopped: impl FnOnce(ActorSendError<A>) -> R,
    ) -> R
    where
        A: Actor<Message = Envelope<T, R>>,
        T: Send + 'static,
        R: Send + 'static + FromError<crate::oneshot::RecvError>,
    {
        let (envelope, rx) = self.envelope(message);
        if let Err(e) = self.send_raw(envelope).await {
            return stopped(e);
        }
        rx.await.unwrap_or_else(R::from_err)
    }
}

impl<'a, A: Actor<Message = Multi<A>>> Recipient<'a, A> {
    /// [`Link::ask_dyn`] (a plain function, as [`send`](Self::send)).
    pub(crate) fn ask_dyn<T: Send + 'static>(
        self,
        message: T,
    ) -> impl Future<Output = <A as Handler<T>>::Reply> + Send + 'a
    where
        A: Handler<T>,
    {
        self.ask_dyn_or(message, FromError::from_err)
    }

    /// [`ask_dyn`](Self::ask_dyn), with `stopped` making the answer when the actor stops before
    /// the request is in its mailbox ([`WeakLink`](crate::WeakLink)'s is `ActorError::Dead`).
    pub(crate) async fn ask_dyn_or<T: Send + 'static>(
        self,
        message: T,
        stopped: impl FnOnce(ActorSendError<A>) -> <A as Handler<T>>::Reply,
    ) -> <A as Handler<T>>::Reply
    where
        A: Handler<T>,
    {
        let (envelope, rx) = self.envelope(message);
        if let Err(e) = self.send_raw(Multi::new(envelope)).await {
            return stopped(e);
        }
        rx.await.unwrap_or_else(FromError::from_err)
    }

    /// [`Link::ask_dyn_async`] (a plain function, as [`send`](Self::send)).
    pub(crate) fn ask_dyn_async<T: Send + 'static>(
        self,
        message: T,
    ) -> impl Future<Output = BoxFuture<'static, <A as Handler<T>>::Reply>> + Send + 'a
    where
        A: Handler<T>,
    {
        self.ask_dyn_async_or(message, FromError::from_err)
    }

    /// [`ask_dyn_async`](Self::ask_dyn_async), with `stopped` as in
    /// [`ask_dyn_or`](Self::ask_dyn_or).
    pub(crate) async fn ask_dyn_async_or<T: Send + 'static>(
        self,
        message: T,
        stopped: impl FnOnce(ActorSendError<A>) -> <A as Handler<T>>::Reply,
    ) -> BoxFuture<'static, <A as Handler<T>>::Reply>
    where
        A: Handler<T>,
    {
        let (envelope, rx) = self.envelope(message);
        if let Err(e) = self.send_raw(Multi::new(envelope)).await {
            return Box::pin(std::future::ready(stopped(e)));
        }
        Box::pin(async move { rx.await.unwrap_or_else(FromError::from_err) })
    }

    /// [`Link::tell_dyn`].
    #[inline]
    pub(crate) fn tell_dyn<T: Send + 'static>(
        self,
        message: T,
    ) -> impl Future<Output = ()> + Send + 'a
    where
        A: Handler<T>,
    {
        Tell::<A> { send: self.core.send(Multi::tell(message)) }
    }

    /// [`Link::relay_dyn`].
    #[inline]
    pub(crate) fn relay_dyn<T: Send + 'static>(
        self,
        envelope: Envelope<T, <A as Handler<T>>::Reply>,
    ) -> impl Future<Output = ()> + Send + 'a
    where
        A: Handler<T>,
    {
        Relay::<A> { send: self.core.send(Multi::new(envelope)) }
    }
}

/// What every clone of a [`Link`] shares, kept in the actor's allocation. Dropped with the last
/// link, which stops the actor.
pub(crate) struct LinkPart<A: Actor> {
    pub(crate) token: CancelToken<A::Cancel>,
    pub(crate) state: A::State,
}

impl<A: Actor> Drop for LinkPart<A> {
    fn drop(&mut self) {
        self.token.cancel_for_last_link();
    }
}

/// A handle to a running actor: cheap to clone, compared and hashed by identity. The actor lives
/// while a `Link` to it does; dropping the last one stops it with the default reason.
///
/// Sending (all of these fail fast, never hang, once the actor has stopped):
///
/// | call | style | meaning |
/// |---|---|---|
/// | [`ask_dyn`](Link::ask_dyn) | handler | request/reply |
/// | [`ask_dyn_async`](Link::ask_dyn_async) | handler | send now, await the reply later |
/// | [`tell_dyn`](Link::tell_dyn) | handler | fire and forget |
/// | [`relay_dyn`](Link::relay_dyn) | handler | pass an envelope on; the reply goes to its asker |
/// | [`send`](Link::send) | envelope | request/reply |
/// | [`send_raw`](Link::send_raw) | raw | push an `A::Message` |
/// | [`send_message`](Link::send_message) | any | the two-step API: deliver, then decide |
///
/// # Examples
///
/// ```
/// use actor12::prelude::*;
/// use actor12::{Call, MpscChannel, Multi};
///
/// struct Greeter;
/// impl Actor for Greeter {
///     type Message = Multi<Self>;
///     type Spec = ();
///     type Channel = MpscChannel<Self::Message>;
///     type Cancel = ();
///     type State = ();
///     fn state(_: &()) {}
///     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
///         std::future::ready(Ok(Greeter))
///     }
/// }
/// impl Handler<String> for Greeter {
///     type Reply = anyhow::Result<String>;
///     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, name: String) -> Self::Reply {
///         Ok(format!("hello, {name}"))
///     }
/// }
///
/// actor12::rt::Runtime::new().unwrap().block_on(async {
///     let greeter = actor12::spawn::<Greeter>(());
///     assert_eq!(greeter.ask_dyn("ann".to_string()).await.unwrap(), "hello, ann");
///     greeter.cancel_and_wait(()).await;
///     assert!(!greeter.alive());
///     assert!(greeter.ask_dyn("bob".to_string()).await.is_err()); // at once, no hang
/// });
/// ```
pub struct Link<A: Actor> {
    pub(crate) inner: LinkRef<A::Message, LinkPart<A>>,
}

impl<A: Actor> Clone for Link<A> {
    fn clone(&self) -> Self {
        Link { inner: self.inner.clone() }
    }
}

impl<A: Actor> PartialEq for Link<A> {
    fn eq(&self, other: &Self) -> bool {
        self.core().addr() == other.core().addr()
    }
}

impl<A: Actor> Eq for Link<A> {}

impl<A: Actor> Hash for Link<A> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.core().addr().hash(state);
    }
}

impl<A: Actor> fmt::Debug for Link<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Link")
            .field("actor", &std::any::type_name::<A>())
            .field("id", &self.core().addr())
            .field("alive", &self.alive())
            .finish()
    }
}

impl<A: Actor> Link<A> {
    #[inline]
    pub(crate) fn core(&self) -> &CoreRef<A::Message> {
        self.inner.core()
    }

    /// The actor's mailbox, for one send.
    #[inline]
    pub(crate) fn recipient(&self) -> Recipient<'_, A> {
        Recipient::new(self.core())
    }

    #[inline]
    fn part(&self) -> &LinkPart<A> {
        self.inner.part()
    }

    /// True while the actor runs (until its mailbox closes).
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// assert!(counter.alive());
    /// counter.cancel_and_wait(()).await;
    /// assert!(!counter.alive());
    /// # });
    /// ```
    pub fn alive(&self) -> bool {
        !self.core().is_closed()
    }

    /// Resolves once the actor has stopped (at once if it already has). Awaited in the actor's
    /// own handler, where it could never resolve, it panics.
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// counter.cancel(());
    /// counter.wait().await; // resolves once the actor has stopped (`terminate` has run)
    /// assert!(!counter.alive());
    /// # });
    /// ```
    pub fn wait(&self) -> BoxFuture<'_, ()> {
        Box::pin(self.core().stopped())
    }

    /// The actor's shared [`State`](Actor::State).
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::{MpscChannel, Multi};
    /// struct Named;
    /// impl Actor for Named {
    ///     // ...
    /// #     type Message = Multi<Self>;
    /// #     type Spec = String;
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    ///     type State = String; // shared with every link
    ///     fn state(spec: &String) -> String {
    ///         spec.clone()
    ///     }
    /// #     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Named))
    /// #     }
    /// }
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let named = actor12::spawn::<Named>("ann".to_string());
    /// assert_eq!(named.state(), "ann"); // read without a message
    /// # });
    /// ```
    pub fn state(&self) -> &A::State {
        &self.part().state
    }

    /// The actor's cancellation token.
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// let token = counter.token().clone();
    /// assert!(!token.is_cancelled());
    /// counter.cancel(());
    /// assert!(token.is_cancelled());
    /// # });
    /// ```
    pub fn token(&self) -> &CancelToken<A::Cancel> {
        &self.part().token
    }

    /// Asks the actor to stop with `reason`; returns at once.
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// counter.cancel(()); // returns at once
    /// counter.wait().await;
    /// assert!(counter.ask_dyn(Get).await.is_err()); // stopped: an error, at once
    /// # });
    /// ```
    #[track_caller]
    pub fn cancel(&self, reason: A::Cancel) {
        self.part().token.cancel(reason);
    }

    /// Asks the actor to stop and waits until it has. The stop is asked for when this is called
    /// (0.0.11's, an `async fn`, asked at its first poll); the future only waits. Not from the
    /// actor's own handler: the actor stops only once its handler returns, so that wait would
    /// never end; it panics there instead (call `cancel` and return).
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// counter.cancel_and_wait(()).await;
    /// assert!(!counter.alive());
    /// # });
    /// ```
    #[track_caller]
    pub fn cancel_and_wait(&self, reason: A::Cancel) -> impl Future<Output = ()> + Send + '_ {
        self.part().token.cancel(reason);
        self.core().stopped()
    }

    /// A link that does not keep the actor alive.
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// let weak = counter.downgrade();
    /// assert_eq!(weak.ask_dyn(Add(1)).await.unwrap(), 1);
    /// drop(counter); // the last strong link: the actor stops
    /// assert!(weak.upgrade().is_none());
    /// # });
    /// ```
    pub fn downgrade(&self) -> WeakLink<A> {
        WeakLink::from(self)
    }

    /// Pushes a raw `A::Message`, waiting for room; hands it back if the actor has stopped.
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
    /// doubler.send_raw(envelope).await.unwrap();
    /// assert_eq!(reply.await.unwrap().unwrap(), 42);
    /// # });
    /// ```
    pub fn send_raw(
        &self,
        message: A::Message,
    ) -> impl Future<Output = Result<(), ActorSendError<A>>> + Send + '_ {
        self.recipient().send_raw(message)
    }

    /// Pushes a raw `A::Message` without waiting: fails if the mailbox is full, or senders are
    /// waiting for room in it (they go first), or the actor has stopped, handing the message
    /// back. The error holds the message in a public field, so it is `Sync` only if the message
    /// is: for a message that is not (a boxed `FnOnce() + Send`, say), map the error before `?`
    /// puts it into an `anyhow::Error` (`send_raw`'s [`SendError`](crate::SendError) goes in as
    /// it is).
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
    /// let (envelope, reply) = Envelope::new(4);
    /// assert!(doubler.try_send_raw(envelope).is_ok()); // never waits
    /// assert_eq!(reply.await.unwrap().unwrap(), 8);
    ///
    /// doubler.cancel_and_wait(()).await;
    /// let (envelope, _reply) = Envelope::new(5);
    /// assert!(doubler.try_send_raw(envelope).is_err()); // stopped: the message comes back
    /// # });
    /// ```
    pub fn try_send_raw(
        &self,
        message: A::Message,
    ) -> Result<(), actor12_mailbox::TrySendError<A::Message>> {
        self.recipient().try_send_raw(message)
    }

    /// Request/reply, envelope style: for actors whose `Message` is `Envelope<T, R>`.
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
    /// let n: u64 = doubler.send::<u64, anyhow::Result<u64>>(21).await.unwrap();
    /// assert_eq!(n, 42);
    /// # });
    /// ```
    pub async fn send<T, R>(&self, message: T) -> R
    where
        A: Actor<Message = Envelope<T, R>>,
        T: Send + 'static,
        R: Send + 'static + FromError<ActorSendError<A>> + FromError<crate::oneshot::RecvError>,
    {
        self.recipient().send(message).await
    }
}

impl<A: Actor<Message = Multi<A>>> Link<A> {
    /// Request/reply, handler style: sends `message` to `A`'s `Handler<T>` and awaits the reply.
    /// A stopped actor (or one that stops before answering) yields the reply's error value. An
    /// actor asking itself this way from its own handler panics: the message would wait behind
    /// the handler awaiting its answer (see the guide's "An actor talking to itself").
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(1);
    /// assert_eq!(counter.ask_dyn(Add(2)).await.unwrap(), 3);
    /// counter.cancel_and_wait(()).await;
    /// assert!(counter.ask_dyn(Get).await.is_err()); // a stopped actor: an error, at once
    /// # });
    /// ```
    pub fn ask_dyn<T: Send + 'static>(
        &self,
        message: T,
    ) -> impl Future<Output = <A as Handler<T>>::Reply> + Send + '_
    where
        A: Handler<T>,
    {
        // `Recipient::ask_dyn`'s future itself: an `async fn` here that awaited it cost a state
        // machine around it (a dispatch and argument moves per ask).
        self.recipient().ask_dyn(message)
    }

    /// Sends now; the returned future (`'static`, awaitable anywhere) is the reply. It is
    /// boxed: one allocation more than [`ask_dyn`](Link::ask_dyn)'s (which makes none in steady
    /// state, its reply slot being reused, but the message's box if it is over 16 bytes).
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// let reply = counter.ask_dyn_async(Add(5)).await; // sent; the reply is a `'static` future
    /// assert_eq!(reply.await.unwrap(), 5);
    /// # });
    /// ```
    pub async fn ask_dyn_async<T: Send + 'static>(
        &self,
        message: T,
    ) -> BoxFuture<'static, <A as Handler<T>>::Reply>
    where
        A: Handler<T>,
    {
        self.recipient().ask_dyn_async(message).await
    }

    /// Fire and forget: the reply is dropped; a stopped actor drops the message, with a `debug`
    /// event from `tracing`. To find out in code, send with
    /// [`send_message`](Link::send_message) and ask the handle
    /// ([`was_sent`](crate::MessageHandle::was_sent)) before you `forget` it.
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// counter.tell_dyn(Add(5)).await;
    /// assert_eq!(counter.ask_dyn(Get).await.unwrap(), 5); // handled in send order
    /// # });
    /// ```
    pub fn tell_dyn<T: Send + 'static>(&self, message: T) -> impl Future<Output = ()> + Send + '_
    where
        A: Handler<T>,
    {
        self.recipient().tell_dyn(message)
    }

    /// Passes an envelope on: the reply goes to the envelope's original asker.
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// use actor12::Envelope;
    ///
    /// let counter = actor12::spawn::<Counter>(0);
    /// let (envelope, reply) = Envelope::new(Add(3)); // someone else's request: they hold `reply`
    /// counter.relay_dyn(envelope).await;
    /// assert_eq!(reply.await.unwrap().unwrap(), 3);
    /// # });
    /// ```
    pub fn relay_dyn<T: Send + 'static>(
        &self,
        envelope: Envelope<T, <A as Handler<T>>::Reply>,
    ) -> impl Future<Output = ()> + Send + '_
    where
        A: Handler<T>,
    {
        self.recipient().relay_dyn(envelope)
    }

    /// The same actor, seen only as "something that handles `M`".
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// use actor12::DynLink;
    ///
    /// let counter = actor12::spawn::<Counter>(0);
    /// let adder: DynLink<Add> = counter.to_dyn(); // any actor that handles `Add`
    /// adder.tell_dyn(Add(2)).await;
    /// assert_eq!(counter.ask_dyn(Get).await.unwrap(), 2);
    /// # });
    /// ```
    pub fn to_dyn<M: Send + 'static>(&self) -> DynLink<M>
    where
        A: Handler<M>,
    {
        DynLink { link: Arc::new(self.clone()) }
    }
}

/// What a [`DynLink<M>`] can do with the actor behind it.
///
/// The cancels take their caller's location: the reason records the user's call, not this file.
trait DynamicLink<M>: Send + Sync + 'static {
    fn cancel(&self, at: &'static Location<'static>);
    fn tell_dyn(&self, message: M) -> BoxFuture<'_, ()>;
    fn cancel_and_wait(&self, at: &'static Location<'static>) -> BoxFuture<'_, ()>;
    fn alive(&self) -> bool;
    fn wait(&self) -> BoxFuture<'_, ()>;
    fn addr(&self) -> usize;
    fn as_any(&self) -> &dyn std::any::Any;
}

impl<A, M> DynamicLink<M> for Link<A>
where
    A: Actor<Message = Multi<A>> + Handler<M>,
    M: Send + 'static,
{
    fn cancel(&self, at: &'static Location<'static>) {
        self.part().token.cancel_with_reason(CancelReason::new_with_loc(A::Cancel::default(), at));
    }

    fn tell_dyn(&self, message: M) -> BoxFuture<'_, ()> {
        Box::pin(Link::tell_dyn(self, message))
    }

    fn cancel_and_wait(&self, at: &'static Location<'static>) -> BoxFuture<'_, ()> {
        DynamicLink::cancel(self, at);
        Link::wait(self)
    }

    fn alive(&self) -> bool {
        Link::alive(self)
    }

    fn wait(&self) -> BoxFuture<'_, ()> {
        Link::wait(self)
    }

    fn addr(&self) -> usize {
        self.core().addr()
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A link to any actor that handles `M`, its type erased ([`Link::to_dyn`]).
///
/// # Examples
///
/// Listeners of different types in one list: each only has to handle the message.
///
/// ```
/// # use actor12::prelude::*;
/// # use actor12::{Call, MpscChannel, Multi};
/// # struct Tick(u64);
/// # struct Get;
/// # struct Counter(u64);
/// # impl Actor for Counter {
/// #     type Message = Multi<Self>;
/// #     type Spec = ();
/// #     type Channel = MpscChannel<Self::Message>;
/// #     type Cancel = ();
/// #     type State = ();
/// #     fn state(_: &()) {}
/// #     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
/// #         std::future::ready(Ok(Counter(0)))
/// #     }
/// # }
/// # impl Handler<Tick> for Counter {
/// #     type Reply = anyhow::Result<()>;
/// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, tick: Tick) -> Self::Reply {
/// #         self.0 += 1; let _ = tick;
/// #         Ok(())
/// #     }
/// # }
/// # impl Handler<Get> for Counter {
/// #     type Reply = anyhow::Result<u64>;
/// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
/// #         Ok(self.0)
/// #     }
/// # }
/// # struct Summer(u64);
/// # impl Actor for Summer {
/// #     type Message = Multi<Self>;
/// #     type Spec = ();
/// #     type Channel = MpscChannel<Self::Message>;
/// #     type Cancel = ();
/// #     type State = ();
/// #     fn state(_: &()) {}
/// #     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
/// #         std::future::ready(Ok(Summer(0)))
/// #     }
/// # }
/// # impl Handler<Tick> for Summer {
/// #     type Reply = anyhow::Result<()>;
/// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, tick: Tick) -> Self::Reply {
/// #         self.0 += tick.0;
/// #         Ok(())
/// #     }
/// # }
/// # impl Handler<Get> for Summer {
/// #     type Reply = anyhow::Result<u64>;
/// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
/// #         Ok(self.0)
/// #     }
/// # }
/// use actor12::DynLink;
///
/// # actor12::rt::Runtime::new().unwrap().block_on(async {
/// let counter = actor12::spawn::<Counter>(()); // counts the ticks
/// let summer = actor12::spawn::<Summer>(()); // adds them up
/// let listeners: Vec<DynLink<Tick>> = vec![counter.to_dyn(), summer.to_dyn()];
/// for n in [5, 7] {
///     for listener in &listeners {
///         listener.tell_dyn(Tick(n)).await;
///     }
/// }
/// assert_eq!(counter.ask_dyn(Get).await.unwrap(), 2);
/// assert_eq!(summer.ask_dyn(Get).await.unwrap(), 12);
/// # });
/// ```
pub struct DynLink<M: Send + 'static> {
    link: Arc<dyn DynamicLink<M>>,
}

impl<M: Send + 'static> Clone for DynLink<M> {
    fn clone(&self) -> Self {
        DynLink { link: self.link.clone() }
    }
}

impl<M: Send + 'static> fmt::Debug for DynLink<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DynLink").field("message", &std::any::type_name::<M>()).finish()
    }
}

/// Links to the same actor are equal, whatever their message type was erased from (as
/// [`Link`]s are).
impl<M: Send + 'static> PartialEq for DynLink<M> {
    fn eq(&self, other: &Self) -> bool {
        self.link.addr() == other.link.addr()
    }
}

impl<M: Send + 'static> Eq for DynLink<M> {}

impl<M: Send + 'static> Hash for DynLink<M> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.link.addr().hash(state);
    }
}

impl<M: Send + 'static> DynLink<M> {
    /// True while the actor runs ([`Link::alive`]). A `DynLink` is a strong link: held in a
    /// list of listeners, it keeps its actor running as a [`Link`] would, until the actor is
    /// cancelled or stops by itself.
    ///
    /// # Examples
    ///
    /// A list of listeners that forgets those that stopped:
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let mut listeners = vec![
    ///     actor12::spawn::<Counter>(0).to_dyn::<Add>(),
    ///     actor12::spawn::<Counter>(0).to_dyn::<Add>(),
    /// ];
    /// listeners[0].cancel_and_wait().await;
    /// listeners.retain(|l| l.alive());
    /// assert_eq!(listeners.len(), 1);
    /// # });
    /// ```
    pub fn alive(&self) -> bool {
        self.link.alive()
    }

    /// Resolves once the actor has stopped ([`Link::wait`]; at once if it already has).
    /// Awaited in the actor's own handler, where it could never resolve, it panics.
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// let adder = counter.to_dyn::<Add>();
    /// counter.cancel(());
    /// adder.wait().await;
    /// assert!(!adder.alive());
    /// # });
    /// ```
    pub fn wait(&self) -> BoxFuture<'_, ()> {
        self.link.wait()
    }

    /// True if the actor behind this link is an `A`.
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let adder = actor12::spawn::<Counter>(0).to_dyn::<Add>();
    /// assert!(adder.is::<Counter>());
    /// # });
    /// ```
    pub fn is<A: Actor<Message = Multi<A>> + Handler<M>>(&self) -> bool {
        self.link.as_any().is::<Link<A>>()
    }

    /// The typed link, if the actor is an `A`.
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// let adder = counter.to_dyn::<Add>();
    /// assert_eq!(adder.try_to::<Counter>(), Some(counter));
    /// # });
    /// ```
    pub fn try_to<A: Actor<Message = Multi<A>> + Handler<M>>(&self) -> Option<Link<A>> {
        self.link.as_any().downcast_ref::<Link<A>>().cloned()
    }

    /// The typed link.
    ///
    /// # Panics
    /// If the actor is not an `A` (check with [`is`](Self::is), or use
    /// [`try_to`](Self::try_to)).
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// let adder = counter.to_dyn::<Add>();
    /// assert_eq!(adder.to::<Counter>(), counter);
    /// # });
    /// ```
    #[track_caller]
    pub fn to<A: Actor<Message = Multi<A>> + Handler<M>>(&self) -> Link<A> {
        match self.try_to() {
            Some(link) => link,
            None => panic!("DynLink::to: the actor is not a {}", std::any::type_name::<A>()),
        }
    }

    /// Asks the actor to stop with its default reason.
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// counter.to_dyn::<Add>().cancel();
    /// counter.wait().await;
    /// # });
    /// ```
    #[track_caller]
    pub fn cancel(&self) {
        self.link.cancel(Location::caller());
    }

    /// Fire and forget. The returned future is boxed, and holds the message until it is
    /// polled: one allocation per tell, which [`Link::tell_dyn`] does not make (and the
    /// message's box if it is over 24 bytes, as there).
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// counter.to_dyn::<Add>().tell_dyn(Add(4)).await;
    /// assert_eq!(counter.ask_dyn(Get).await.unwrap(), 4);
    /// # });
    /// ```
    pub fn tell_dyn(&self, message: M) -> BoxFuture<'_, ()> {
        self.link.tell_dyn(message)
    }

    /// Asks the actor to stop and waits until it has. The stop is asked for when this is called
    /// (as in actor12 0.0.11); the future only waits. Not from the actor's own
    /// handler: the actor stops only once its handler returns, so that wait would never end; it
    /// panics there instead (call `cancel` and return).
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(0);
    /// counter.to_dyn::<Add>().cancel_and_wait().await;
    /// assert!(!counter.alive());
    /// # });
    /// ```
    #[track_caller]
    pub fn cancel_and_wait(&self) -> BoxFuture<'_, ()> {
        self.link.cancel_and_wait(Location::caller())
    }
}
