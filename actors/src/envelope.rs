//! Envelope style: a request and its reply slot, travelling together.

use std::fmt::{self, Debug};
use std::future::Future;

use crate::actor::{Actor, ActorMessage};
use crate::oneshot;

/// A request `value` with the slot its answer goes to (`reply`). An actor whose `Message` is
/// `Envelope<T, R>` answers with `msg.reply.send(answer)` in its
/// [`handle`](crate::Actor::handle); callers use [`Link::send`](crate::Link::send) or the
/// two-step [`EnvelopeMessage`](crate::EnvelopeMessage).
///
/// # Examples
///
/// ```
/// use actor12::Envelope;
///
/// let (envelope, reply) = Envelope::<u32, u32>::new(20);
/// let (value, slot) = envelope.split();
/// slot.send(value + 1).unwrap();
/// # actor12::rt::Runtime::new().unwrap().block_on(async move {
/// assert_eq!(reply.await, Ok(21));
/// # });
/// ```
pub struct Envelope<T, R> {
    /// The request.
    pub value: T,
    /// Where the answer goes.
    pub reply: oneshot::Sender<R>,
}

impl<T: Debug, R> Debug for Envelope<T, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Debug::fmt(&self.value, f)
    }
}

impl<T, R> Envelope<T, R> {
    /// A new envelope and the receiver of its answer.
    pub fn new(value: T) -> (Self, oneshot::Receiver<R>) {
        let (reply, rx) = oneshot::channel();
        (Envelope { value, reply }, rx)
    }

    /// An envelope answering into an existing slot (to pass a request on).
    ///
    /// # Examples
    ///
    /// A request taken apart, its value turned into what another actor takes, and passed on:
    /// that actor answers the original asker.
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::MpscChannel;
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let doubler = actor12::spawn::<Doubler>(()); // takes `Envelope<u64, u64>`
    /// let (request, answer) = Envelope::<&str, u64>::new("21");
    /// let (text, slot) = request.split();
    /// let n: u64 = text.parse().unwrap();
    /// doubler.send_raw(Envelope::relay(n, slot)).await.unwrap();
    /// assert_eq!(answer.await, Ok(42));
    /// # });
    /// ```
    pub fn relay(value: T, reply: oneshot::Sender<R>) -> Self {
        Envelope { value, reply }
    }

    /// Answers; gives the answer back if the asker is gone.
    pub fn send(self, value: R) -> Result<(), R> {
        self.reply.send(value)
    }

    /// The request and its slot, apart.
    pub fn split(self) -> (T, oneshot::Sender<R>) {
        (self.value, self.reply)
    }

    /// The same slot with a transformed request.
    ///
    /// # Examples
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::MpscChannel;
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
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let doubler = actor12::spawn::<Doubler>(()); // takes `Envelope<u64, u64>`
    /// let (request, answer) = Envelope::<&str, u64>::new("21");
    /// let parsed: Envelope<u64, u64> = request.map(|text| text.parse().unwrap());
    /// doubler.send_raw(parsed).await.unwrap();
    /// assert_eq!(answer.await, Ok(42));
    /// # });
    /// ```
    pub fn map<U>(self, func: impl FnOnce(T) -> U) -> Envelope<U, R> {
        Envelope { value: func(self.value), reply: self.reply }
    }

    /// Answers with the output of `fut` (dropped if the asker is gone).
    ///
    /// # Examples
    ///
    /// An answer that comes from an async call, whatever the request:
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::MpscChannel;
    /// struct Store(u64);
    /// impl Store {
    ///     async fn load(&self) -> u64 {
    ///         self.0 // stands for a read from disk
    ///     }
    /// }
    /// impl Actor for Store {
    ///     type Message = Envelope<u64, u64>;
    ///     async fn handle(&mut self, _: Exec<'_, Self>, msg: Self::Message) {
    ///         msg.reply_fut(self.load()).await; // the request is not needed
    ///     }
    /// #     type Spec = ();
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &()) {}
    /// #     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Store(5)))
    /// #     }
    /// }
    ///
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let store = actor12::spawn::<Store>(());
    /// let (request, answer) = Envelope::new(3);
    /// store.send_raw(request).await.unwrap();
    /// assert_eq!(answer.await, Ok(5));
    /// # });
    /// ```
    pub async fn reply_fut<F: Future<Output = R>>(self, fut: F) {
        let value = fut.await;
        let _ = self.reply.send(value);
    }

    /// Answers with the output of `func(value)` (dropped if the asker is gone).
    ///
    /// # Examples
    ///
    /// An answer that is an async function of the request:
    ///
    /// ```
    /// # use actor12::prelude::*;
    /// # use actor12::MpscChannel;
    /// struct Store(u64);
    /// impl Store {
    ///     async fn lookup(&self, key: u64) -> u64 {
    ///         self.0 * key // stands for a read from disk
    ///     }
    /// }
    /// impl Actor for Store {
    ///     type Message = Envelope<u64, u64>;
    ///     async fn handle(&mut self, _: Exec<'_, Self>, msg: Self::Message) {
    ///         msg.reply(|key| self.lookup(key)).await;
    ///     }
    /// #     type Spec = ();
    /// #     type Channel = MpscChannel<Self::Message>;
    /// #     type Cancel = ();
    /// #     type State = ();
    /// #     fn state(_: &()) {}
    /// #     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
    /// #         std::future::ready(Ok(Store(5)))
    /// #     }
    /// }
    ///
    /// # actor12::rt::Runtime::new().unwrap().block_on(async {
    /// let store = actor12::spawn::<Store>(());
    /// let (request, answer) = Envelope::new(3);
    /// store.send_raw(request).await.unwrap();
    /// assert_eq!(answer.await, Ok(15));
    /// # });
    /// ```
    pub async fn reply<F: Future<Output = R>>(self, func: impl FnOnce(T) -> F) {
        let value = func(self.value).await;
        let _ = self.reply.send(value);
    }
}

impl<T, R, A: Actor> ActorMessage<A> for Envelope<T, R>
where
    T: Send + 'static,
    R: Send + 'static,
{
    fn delivered_to_actor(&self) {
        self.reply.delivered();
    }

    const MARKS_DELIVERY: bool = true;
}

/// A message that expects no answer (raw style, for actors that override `handle`).
///
/// # Examples
///
/// A sink that takes values and answers nobody; it reports its total when it stops:
///
/// ```
/// use actor12::{NoReply, Terminate, oneshot};
/// # use actor12::prelude::*;
/// # use actor12::{ActorContext, MpscChannel, cancel::CancelReason};
/// struct Sum(u64, oneshot::Sender<u64>);
/// impl Actor for Sum {
///     type Message = NoReply<u64>;
///     async fn handle(&mut self, _: Exec<'_, Self>, NoReply(n): NoReply<u64>) {
///         self.0 += n;
///     }
/// #     type Spec = oneshot::Sender<u64>;
/// #     type Channel = MpscChannel<Self::Message>;
/// #     type Cancel = ();
/// #     type State = ();
/// #     fn state(_: &oneshot::Sender<u64>) {}
/// #     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
/// #         std::future::ready(Ok(Sum(0, ctx.spec)))
/// #     }
/// #     fn termination_strategy(&mut self) -> Terminate {
/// #         Terminate::ProcessAll
/// #     }
/// #     async fn terminate(self, _: ActorContext<Self>, _: CancelReason<()>) {
/// #         let _ = self.1.send(self.0);
/// #     }
/// }
///
/// # actor12::rt::Runtime::new().unwrap().block_on(async {
/// let (report, total) = oneshot::channel();
/// let sum = actor12::spawn::<Sum>(report);
/// for n in 1..=4 {
///     sum.send_raw(NoReply::new(n)).await.unwrap();
/// }
/// drop(sum); // the last link: the actor handles what is queued, then stops
/// assert_eq!(total.await, Ok(10));
/// # });
/// ```
pub struct NoReply<T>(pub T);

impl<T> NoReply<T> {
    /// Wraps a value.
    pub fn new(value: T) -> Self {
        NoReply(value)
    }
}

impl<T: Debug> Debug for NoReply<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Debug::fmt(&self.0, f)
    }
}

impl<T: Send + 'static, A: Actor> ActorMessage<A> for NoReply<T> {}
