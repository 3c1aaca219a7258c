//! `WeakLink<A>`: a link that does not keep the actor alive, and may point at nothing.

use std::fmt;
use std::future::Future;
use std::hash::{Hash, Hasher};

use crate::actor::Actor;
use crate::envelope::Envelope;
use crate::error::{ActorError, ActorSendError, FromError};
use crate::handler::Handler;
use crate::link::{BoxFuture, Link, LinkPart, Recipient};
use crate::multi::Multi;
use crate::task::{CoreRef, LinkRef};

/// A non-owning handle to an actor ([`Link::downgrade`]).
///
/// It can start empty ([`new`](Self::new), [`Default`]) and be pointed at an actor later
/// ([`set`](Self::set), [`try_set`](Self::try_set)). Asks to a stopped actor, and to an empty
/// link, resolve at once to [`ActorError::Dead`]; tells and cancels do nothing. An empty link's
/// [`upgrade`](Self::upgrade) returns `None`, as does a stopped actor's once its last strong
/// link is gone. Compared and hashed by identity; all empty links are equal.
///
/// A weak link keeps the actor's allocation, not what is in it: the actor, its state and its
/// messages are dropped when it stops, but the memory they lay in stays allocated until the
/// last weak link goes too. That is a few hundred bytes plus the size of the actor's value and
/// of its handlers' futures, which the allocation holds inline; not the mailbox's blocks, which
/// are freed when the actor stops.
///
/// # Examples
///
/// ```
/// use actor12::prelude::*;
/// use actor12::{Call, MpscChannel, Multi, WeakLink};
///
/// struct Echo;
/// impl Actor for Echo {
///     type Message = Multi<Self>;
///     type Spec = ();
///     type Channel = MpscChannel<Self::Message>;
///     type Cancel = ();
///     type State = ();
///     fn state(_: &()) {}
///     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
///         std::future::ready(Ok(Echo))
///     }
/// }
/// impl Handler<u32> for Echo {
///     type Reply = anyhow::Result<u32>;
///     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, n: u32) -> Self::Reply {
///         Ok(n)
///     }
/// }
///
/// actor12::rt::Runtime::new().unwrap().block_on(async {
///     let echo = actor12::spawn::<Echo>(());
///     let weak: WeakLink<Echo> = echo.downgrade();
///     assert_eq!(weak.ask_dyn(7).await.unwrap(), 7);
///     drop(echo); // the last link: the actor stops
///     assert!(weak.upgrade().is_none());
///     assert!(weak.ask_dyn(8).await.is_err()); // fails at once
/// });
/// ```
pub struct WeakLink<A: Actor> {
    /// The actor's core, or `None` for an empty link.
    inner: Option<CoreRef<A::Message>>,
}

impl<A: Actor> WeakLink<A> {
    /// The actor's identity, or 0 for an empty link.
    fn addr(&self) -> usize {
        self.inner.as_ref().map_or(0, CoreRef::addr)
    }

    /// An empty link. Does not allocate.
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
    /// # use actor12::WeakLink;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let weak: WeakLink<Counter> = WeakLink::new();
    /// assert!(!weak.is_set());
    /// assert!(weak.upgrade().is_none());
    /// assert!(weak.ask_dyn(Get).await.is_err()); // like a link to a stopped actor
    /// # });
    /// ```
    pub fn new() -> Self {
        WeakLink { inner: None }
    }

    /// True if the link was pointed at an actor (even one that has stopped since).
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
    /// # use actor12::WeakLink;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let mut weak = WeakLink::new();
    /// assert!(!weak.is_set());
    /// let counter = actor12::spawn::<Counter>(0);
    /// weak.set(&counter);
    /// assert!(weak.is_set());
    /// drop(counter);
    /// assert!(weak.is_set()); // still set, though the actor is gone
    /// # });
    /// ```
    pub fn is_set(&self) -> bool {
        self.inner.is_some()
    }

    /// Points the link at `link`'s actor.
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
    /// # use actor12::WeakLink;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let counter = actor12::spawn::<Counter>(7);
    /// let mut weak = WeakLink::new();
    /// weak.set(&counter);
    /// assert_eq!(weak.ask_dyn(Get).await.unwrap(), 7);
    /// # });
    /// ```
    pub fn set(&mut self, link: &Link<A>) {
        self.inner = Some(link.core().clone());
    }

    /// Points the link at `link`'s actor if it is empty; false (and unchanged) otherwise.
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
    /// # use actor12::WeakLink;
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let (a, b) = (actor12::spawn::<Counter>(1), actor12::spawn::<Counter>(2));
    /// let mut weak = WeakLink::new();
    /// assert!(weak.try_set(&a));
    /// assert!(!weak.try_set(&b)); // already set: unchanged
    /// assert_eq!(weak.ask_dyn(Get).await.unwrap(), 1);
    /// # });
    /// ```
    pub fn try_set(&mut self, link: &Link<A>) -> bool {
        if self.is_set() {
            return false;
        }
        self.set(link);
        true
    }

    /// Empties the link.
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
    /// let mut weak = counter.downgrade();
    /// weak.clear();
    /// assert!(!weak.is_set());
    /// assert!(weak.ask_dyn(Get).await.is_err());
    /// # });
    /// ```
    pub fn clear(&mut self) {
        self.inner = None;
    }

    /// Takes the target out, leaving the link empty.
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
    /// let mut weak = counter.downgrade();
    /// let taken = weak.take();
    /// assert!(!weak.is_set());
    /// assert_eq!(taken.ask_dyn(Get).await.unwrap(), 0);
    /// # });
    /// ```
    pub fn take(&mut self) -> Self {
        std::mem::take(self)
    }

    /// A strong link, if another strong link to the actor still exists. The actor may have
    /// stopped meanwhile (sends through the link then fail at once): [`alive`](Self::alive)
    /// says whether it still runs.
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
    /// assert_eq!(weak.upgrade(), Some(counter.clone()));
    /// drop(counter);
    /// assert_eq!(weak.upgrade(), None); // the last strong link is gone
    /// # });
    /// ```
    pub fn upgrade(&self) -> Option<Link<A>> {
        let core = self.inner.as_ref()?;
        // SAFETY: a weak link's core comes from a `Link<A>`, whose allocation was made for
        // `LinkPart<A>`.
        unsafe { LinkRef::upgrade(core) }.map(|inner| Link { inner })
    }

    /// True while the actor runs and a strong link to it is left: what [`Link::alive`] would
    /// say, without making a link. False for an empty link.
    ///
    /// # Examples
    ///
    /// ```
    /// use actor12::prelude::*;
    ///
    /// struct Idle;
    /// impl Actor for Idle {
    ///     type Message = Multi<Self>;
    ///     type Spec = ();
    ///     type Channel = MpscChannel<Self::Message>;
    ///     type Cancel = ();
    ///     type State = ();
    ///     fn state(_: &()) {}
    ///     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
    ///         std::future::ready(Ok(Idle))
    ///     }
    /// }
    ///
    /// actor12::rt::Runtime::new().unwrap().block_on(async {
    ///     let idle = actor12::spawn::<Idle>(());
    ///     let weak = idle.downgrade();
    ///     assert!(weak.alive());
    ///     idle.cancel_and_wait(()).await;
    ///     assert!(!weak.alive());
    ///     assert!(!WeakLink::<Idle>::new().alive());
    /// });
    /// ```
    pub fn alive(&self) -> bool {
        self.running().is_some()
    }

    /// Asks the actor to stop (nothing if it is gone).
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
    /// counter.downgrade().cancel(());
    /// counter.wait().await;
    /// assert!(!counter.alive());
    /// # });
    /// ```
    #[track_caller]
    pub fn cancel(&self, reason: A::Cancel) {
        if let Some(link) = self.upgrade() {
            link.cancel(reason);
        }
    }

    /// Asks the actor to stop and waits until it has: also when its last strong link is gone
    /// and it is still stopping. At once if the link is empty. The stop is asked for when this is
    /// called, not at the first poll. In the actor's own handler (its `ctx.link`), where the
    /// wait could never end, it panics: call `cancel` and return.
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
    /// counter.downgrade().cancel_and_wait(()).await;
    /// assert!(!counter.alive());
    /// # });
    /// ```
    #[track_caller]
    pub fn cancel_and_wait(&self, reason: A::Cancel) -> impl Future<Output = ()> + Send + '_ {
        // With no strong link left the actor is already stopping (the last link cancelled it);
        // the weak link's core still says when it is done.
        if let Some(link) = self.upgrade() {
            link.cancel(reason);
        }
        async move {
            if let Some(core) = &self.inner {
                core.stopped().await;
            }
        }
    }

    /// The actor's mailbox while a strong link is left; `None` for an empty link and once the
    /// last is gone. Not a strong link: a send that waits for room must not keep the actor
    /// alive (it fails once the actor stops instead).
    pub(crate) fn linked(&self) -> Option<Recipient<'_, A>> {
        let core = self.inner.as_ref()?;
        LinkRef::<A::Message, LinkPart<A>>::any(core).then(|| Recipient::new(core))
    }

    /// [`linked`](Self::linked), and `None` once the actor has stopped (its mailbox is closed),
    /// even while strong links are left: a request to it then fails as one to a dropped actor.
    fn running(&self) -> Option<Recipient<'_, A>> {
        self.linked().filter(|to| to.alive())
    }

    /// Envelope-style request/reply; [`ActorError::Dead`] at once if the actor has stopped or
    /// the link is empty, and if the actor stops while the send waits for room.
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
    /// assert_eq!(weak.send::<u64, anyhow::Result<u64>>(2).await.unwrap(), 4);
    /// drop(doubler);
    /// assert!(weak.send::<u64, anyhow::Result<u64>>(2).await.is_err()); // `ActorError::Dead`
    /// # });
    /// ```
    pub async fn send<T, R>(&self, message: T) -> R
    where
        A: Actor<Message = Envelope<T, R>>,
        T: Send + 'static,
        R: Send
            + 'static
            + FromError<ActorSendError<A>>
            + FromError<crate::oneshot::RecvError>
            + FromError<ActorError>,
    {
        match self.running() {
            Some(to) => to.send_or(message, |_| R::from_err(ActorError::Dead)).await,
            None => R::from_err(ActorError::Dead),
        }
    }

    /// Pushes a raw message; hands it back if the actor is gone.
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
    /// let (envelope, reply) = Envelope::new(3);
    /// weak.send_raw(envelope).await.unwrap();
    /// assert_eq!(reply.await.unwrap().unwrap(), 6);
    /// # });
    /// ```
    pub async fn send_raw(&self, message: A::Message) -> Result<(), ActorSendError<A>> {
        match self.linked() {
            Some(to) => to.send_raw(message).await,
            None if self.is_set() => Err(crate::error::SendError::new(message)),
            None => Err(crate::error::SendError::empty_link(message)),
        }
    }

    /// [`Link::try_send_raw`]: pushes a raw message without waiting; hands it back if the
    /// mailbox is full, or as `Closed` if the actor has stopped or the link is empty.
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
    /// use actor12::mailbox::TrySendError;
    ///
    /// let doubler = actor12::spawn::<Doubler>(());
    /// let weak = doubler.downgrade();
    /// let (envelope, reply) = Envelope::new(4);
    /// weak.try_send_raw(envelope).unwrap(); // never waits
    /// assert_eq!(reply.await.unwrap().unwrap(), 8);
    ///
    /// drop(doubler);
    /// let (envelope, _reply) = Envelope::new(5);
    /// assert!(matches!(weak.try_send_raw(envelope), Err(TrySendError::Closed(_))));
    /// # });
    /// ```
    pub fn try_send_raw(
        &self,
        message: A::Message,
    ) -> Result<(), actor12_mailbox::TrySendError<A::Message>> {
        match self.linked() {
            Some(to) => to.try_send_raw(message),
            None => Err(actor12_mailbox::TrySendError::Closed(message)),
        }
    }
}

impl<A: Actor<Message = Multi<A>>> WeakLink<A> {
    /// [`Link::ask_dyn`]; [`ActorError::Dead`] at once if the actor has stopped or the link is
    /// empty, and if the actor stops while the send waits for room (a [`Link`]'s ask says
    /// that with the send's [`SendError`](crate::SendError) instead).
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
    /// drop(counter);
    /// assert!(weak.ask_dyn(Get).await.is_err()); // at once
    /// # });
    /// ```
    pub async fn ask_dyn<T: Send + 'static>(&self, message: T) -> <A as Handler<T>>::Reply
    where
        A: Handler<T>,
    {
        match self.running() {
            Some(to) => to.ask_dyn_or(message, |_| FromError::from_err(ActorError::Dead)).await,
            None => FromError::from_err(ActorError::Dead),
        }
    }

    /// [`Link::ask_dyn_async`]; a ready [`ActorError::Dead`] if the actor has stopped or the
    /// link is empty, or stops while the send waits for room.
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
    /// let reply = counter.downgrade().ask_dyn_async(Add(1)).await;
    /// assert_eq!(reply.await.unwrap(), 1);
    /// # });
    /// ```
    pub async fn ask_dyn_async<T: Send + 'static>(
        &self,
        message: T,
    ) -> BoxFuture<'static, <A as Handler<T>>::Reply>
    where
        A: Handler<T>,
    {
        match self.running() {
            Some(to) => {
                to.ask_dyn_async_or(message, |_| FromError::from_err(ActorError::Dead)).await
            }
            None => {
                let reply: <A as Handler<T>>::Reply = FromError::from_err(ActorError::Dead);
                Box::pin(std::future::ready(reply))
            }
        }
    }

    /// [`Link::tell_dyn`]; nothing but a `debug` event if the actor is gone.
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
    /// counter.downgrade().tell_dyn(Add(1)).await;
    /// assert_eq!(counter.ask_dyn(Get).await.unwrap(), 1);
    /// # });
    /// ```
    pub async fn tell_dyn<T: Send + 'static>(&self, message: T)
    where
        A: Handler<T>,
    {
        match self.linked() {
            Some(to) => to.tell_dyn(message).await,
            None => crate::link::tell_dropped::<A>(),
        }
    }

    /// [`Link::relay_dyn`]; if the actor is gone the envelope is dropped and its asker gets an
    /// error at once.
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
    /// let weak = counter.downgrade();
    /// let (envelope, reply) = Envelope::new(Add(3));
    /// weak.relay_dyn(envelope).await;
    /// assert_eq!(reply.await.unwrap().unwrap(), 3);
    ///
    /// drop(counter);
    /// let (envelope, reply) = Envelope::new(Add(3));
    /// weak.relay_dyn(envelope).await; // dropped: its asker gets an error at once
    /// assert!(reply.await.is_err());
    /// # });
    /// ```
    pub async fn relay_dyn<T: Send + 'static>(
        &self,
        envelope: Envelope<T, <A as Handler<T>>::Reply>,
    ) where
        A: Handler<T>,
    {
        if let Some(to) = self.linked() {
            to.relay_dyn(envelope).await;
        }
    }
}

impl<A: Actor> Default for WeakLink<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: Actor> Clone for WeakLink<A> {
    fn clone(&self) -> Self {
        WeakLink { inner: self.inner.clone() }
    }
}

impl<A: Actor> From<&Link<A>> for WeakLink<A> {
    fn from(link: &Link<A>) -> Self {
        WeakLink::from_core(link.core().clone())
    }
}

impl<A: Actor> WeakLink<A> {
    /// A weak link holding `core`, a reference to the actor's allocation.
    pub(crate) fn from_core(core: CoreRef<A::Message>) -> Self {
        WeakLink { inner: Some(core) }
    }
}

impl<A: Actor> PartialEq for WeakLink<A> {
    fn eq(&self, other: &Self) -> bool {
        self.addr() == other.addr()
    }
}

impl<A: Actor> Eq for WeakLink<A> {}

impl<A: Actor> Hash for WeakLink<A> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.addr().hash(state);
    }
}

impl<A: Actor> fmt::Debug for WeakLink<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakLink")
            .field("set", &self.is_set())
            .field("alive", &self.alive())
            .finish()
    }
}
