//! Errors: what a send, an ask or a two-step message can fail with, and how a reply type
//! expresses those failures ([`FromError`]).

use std::fmt;
use std::time::Duration;

use crate::actor::Actor;
use crate::oneshot::RecvError;

/// A message could not be delivered: the actor has stopped. Carries the message back.
///
/// The message is reachable only by value ([`into_inner`](Self::into_inner)), so the error is
/// `Sync` even when the message is not, and can travel inside `anyhow::Error`.
///
/// # Examples
///
/// ```
/// # use actor12::prelude::*;
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
/// actor12::rt::Runtime::new().unwrap().block_on(async {
///     let doubler = actor12::spawn::<Doubler>(()); // takes `Envelope<u64, anyhow::Result<u64>>`
///     doubler.cancel_and_wait(()).await;
///     let (envelope, _reply) = Envelope::new(21);
///     let err = doubler.send_raw(envelope).await.unwrap_err();
///     assert_eq!(err.to_string(), "the actor has stopped: message not delivered");
///     assert_eq!(err.into_inner().value, 21); // the message comes back
/// });
/// ```
pub struct SendError<T> {
    msg: T,
    /// Sent through an empty [`WeakLink`](crate::WeakLink): no actor at all.
    empty: bool,
}

impl<T> SendError<T> {
    pub(crate) fn new(msg: T) -> Self {
        SendError { msg, empty: false }
    }

    /// A message sent through a weak link that points at no actor.
    pub(crate) fn empty_link(msg: T) -> Self {
        SendError { msg, empty: true }
    }

    /// The message that was not delivered.
    pub fn into_inner(self) -> T {
        self.msg
    }
}

// SAFETY: no `&T` can be obtained from a `&SendError<T>` (the field is private and only moved
// out by value), so sharing the error between threads never shares the message.
unsafe impl<T: Send> Sync for SendError<T> {}

impl<T> fmt::Debug for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The message's type, not its value (which need not be `Debug`).
        f.debug_struct("SendError").field("message", &std::any::type_name::<T>()).finish()
    }
}

impl<T> fmt::Display for SendError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.empty {
            "the weak link is empty: message not delivered"
        } else {
            "the actor has stopped: message not delivered"
        })
    }
}

impl<T> std::error::Error for SendError<T> {}

/// The error of pushing `A::Message` into actor `A`'s mailbox (`Link::send_raw`).
pub type ActorSendError<A> = SendError<<A as Actor>::Message>;

/// Why [`ActorReceiver::try_recv`](crate::ActorReceiver::try_recv) returned no message. The
/// variants of tokio's `mpsc::error::TryRecvError`, which `ctx.rx.try_recv()` returned in actor12
/// 0.0.11, so that code matching on them needs only the new path.
///
/// An example is on [`try_recv`](crate::ActorReceiver::try_recv).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// No message is waiting now; one may come later.
    Empty,
    /// The mailbox is closed and every message it accepted has been received (the actor is
    /// stopping), or the receiver was detached from its actor: none will ever come.
    Disconnected,
}

impl fmt::Display for TryRecvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TryRecvError::Empty => "no message waiting in the mailbox",
            TryRecvError::Disconnected => "the mailbox is closed and empty",
        })
    }
}

impl std::error::Error for TryRecvError {}

/// Failures of the actor machinery, as seen by a reply.
///
/// # Examples
///
/// An `anyhow` reply carries it, to tell "the actor is gone" from the handler's own errors. A
/// [`WeakLink`](crate::WeakLink)'s asks say so with [`ActorError::Dead`]; a [`Link`](crate::Link)'s
/// with the send's [`SendError`] (the actor stopped before the request was in its mailbox), as
/// in actor12 0.0.11:
///
/// ```
/// # use actor12::prelude::*;
/// # use actor12::{Call, MpscChannel, Multi};
/// # struct Echo;
/// # impl Actor for Echo {
/// #     type Message = Multi<Self>;
/// #     type Spec = ();
/// #     type Channel = MpscChannel<Self::Message>;
/// #     type Cancel = ();
/// #     type State = ();
/// #     fn state(_: &()) {}
/// #     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
/// #         std::future::ready(Ok(Echo))
/// #     }
/// # }
/// # impl Handler<u32> for Echo {
/// #     type Reply = anyhow::Result<u32>;
/// #     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, n: u32) -> Self::Reply {
/// #         Ok(n)
/// #     }
/// # }
/// use actor12::ActorError;
///
/// # actor12::rt::Runtime::new().unwrap().block_on(async {
/// let echo = actor12::spawn::<Echo>(());
/// let weak = echo.downgrade();
/// echo.cancel_and_wait(()).await;
/// let err = weak.ask_dyn(7).await.unwrap_err();
/// assert_eq!(err.downcast_ref::<ActorError>(), Some(&ActorError::Dead));
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActorError {
    /// A type-erased send failed. actor12 0.0.11's variant, spelled as it was, kept so that
    /// code matching on it compiles; this crate never produces it (a `DynLink::tell_dyn` to a
    /// stopped actor drops the message, as a `tell_dyn` does).
    DynSendError(),
    /// The actor is not running (a [`WeakLink`](crate::WeakLink) to a stopped or unset actor,
    /// or one that stopped while the send waited for room).
    Dead,
    /// [`Call::reply_async`](crate::Call::reply_async) found the reply slot already taken (by
    /// `take_reply` or an earlier `reply_async`): its placeholder. The asker never sees it; a
    /// second `take_reply` panics instead.
    ReplyTaken,
    /// The reply is being produced by a background task (`Call::reply_async`'s placeholder).
    AsyncReply,
}

impl fmt::Display for ActorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ActorError::DynSendError() => "Dynamic send error",
            ActorError::Dead => "Actor is already dead",
            ActorError::ReplyTaken => "Reply taken",
            ActorError::AsyncReply => "Async reply",
        })
    }
}

impl std::error::Error for ActorError {}

/// Why a two-step message ([`MessageHandle`](crate::MessageHandle)) produced no reply.
///
/// # Examples
///
/// ```
/// # use actor12::prelude::*;
/// # use actor12::{Call, MpscChannel, Multi, oneshot};
/// # struct Gate(Vec<oneshot::Sender<anyhow::Result<()>>>);
/// # impl Actor for Gate {
/// #     type Message = Multi<Self>;
/// #     type Spec = ();
/// #     type Channel = MpscChannel<Self::Message>;
/// #     type Cancel = ();
/// #     type State = ();
/// #     fn state(_: &()) {}
/// #     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
/// #         std::future::ready(Ok(Gate(Vec::new())))
/// #     }
/// # }
/// /// Answered later, by whoever opens the gate.
/// struct Wait;
/// # impl Handler<Wait> for Gate {
/// #     type Reply = anyhow::Result<()>;
/// #     async fn handle(&mut self, mut ctx: Call<'_, Self, Self::Reply>, _: Wait) -> Self::Reply {
/// #         self.0.push(ctx.take_reply());
/// #         Ok(())
/// #     }
/// # }
/// use actor12::MessageError;
///
/// # actor12::rt::Runtime::new().unwrap().block_on(async {
/// let gate = actor12::spawn::<Gate>(());
/// // Delivered, but the actor stops before anyone answers.
/// let waiting = gate.send_message(HandlerMessage::new(Wait)).await;
/// gate.cancel_and_wait(()).await;
/// assert!(matches!(waiting.reply().await, Err(MessageError::RecvFailed(_))));
///
/// // Not delivered at all: the actor has stopped.
/// let refused = gate.send_message(HandlerMessage::new(Wait)).await;
/// assert!(matches!(refused.reply().await, Err(MessageError::SendFailed(_))));
/// # });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageError {
    /// The message was not delivered, and is never handled: the actor has stopped, the link is
    /// empty, or, for [`send_with_timeout`](crate::Link::send_with_timeout), its mailbox stayed
    /// full until the deadline. The text says which (from a weak link's 0.0.x ask, converted
    /// from [`ActorError::Dead`], it names both the stop and the empty link).
    SendFailed(String),
    /// The message was delivered but the reply slot was dropped unanswered: the actor stopped
    /// (the message still queued, or its `init` refused to start), its handler panicked, the
    /// runtime shut down mid-handler, or the handler took the slot
    /// ([`Call::take_reply`](crate::Call::take_reply)) and dropped it. A cancel does not cut
    /// a running handler short: its answer still comes. Its
    /// [`source`](std::error::Error::source) is a [`RecvError`], which says the slot was
    /// dropped unanswered, not which of these happened.
    RecvFailed(RecvError),
    /// The deadline passed before the reply came. The message was delivered: the actor may
    /// still handle it (its answer is then dropped).
    Timeout {
        /// The deadline that passed.
        timeout: Duration,
    },
    /// The reply was already taken from this handle.
    AlreadyConsumed,
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageError::SendFailed(why) => write!(f, "message not delivered: {why}"),
            // The why is the source's text: error reporters print the chain, so it shows once.
            MessageError::RecvFailed(_) => f.write_str("the request got no reply"),
            MessageError::Timeout { timeout } => write!(
                f,
                "no reply within {timeout:?} (the message was delivered: the actor may still \
                 handle it)"
            ),
            MessageError::AlreadyConsumed => f.write_str("the reply was already consumed"),
        }
    }
}

impl std::error::Error for MessageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            MessageError::RecvFailed(e) => Some(e),
            _ => None,
        }
    }
}

impl From<RecvError> for MessageError {
    fn from(e: RecvError) -> Self {
        MessageError::RecvFailed(e)
    }
}

/// Turns a transport failure into a reply value, so that an ask on a dead actor resolves to an
/// answer (usually `Err`) instead of hanging or panicking.
///
/// Implemented for `anyhow::Result<T>` (from every error type) and for
/// `Result<T, MessageError>` (from every error that converts into a [`MessageError`]: a dead
/// actor is `SendFailed`, a dropped reply `RecvFailed`). Implement it for a reply type of your
/// own crate (a struct or enum; `Result<T, MyError>` cannot get one, the orphan rule forbids
/// it): or use one of those two, or the two-step API, whose replies need none.
///
/// # Examples
///
/// A reply type that is not a `Result`, with a case for "no answer":
///
/// ```
/// # use actor12::prelude::*;
/// # use actor12::{Call, MpscChannel, Multi};
/// # struct Stock;
/// # impl Actor for Stock {
/// #     type Message = Multi<Self>;
/// #     type Spec = ();
/// #     type Channel = MpscChannel<Self::Message>;
/// #     type Cancel = ();
/// #     type State = ();
/// #     fn state(_: &()) {}
/// #     fn init(_: Init<'_, Self>) -> impl InitFuture<Self> {
/// #         std::future::ready(Ok(Stock))
/// #     }
/// # }
/// use actor12::FromError;
///
/// #[derive(Debug, PartialEq)]
/// enum Level {
///     Known(u32),
///     Unknown, // the stock actor could not answer
/// }
///
/// impl<E> FromError<E> for Level {
///     fn from_err(_: E) -> Self {
///         Level::Unknown
///     }
/// }
///
/// struct Check;
/// impl Handler<Check> for Stock {
///     type Reply = Level;
///     async fn handle(&mut self, _: Call<'_, Self, Level>, _: Check) -> Level {
///         Level::Known(12)
///     }
/// }
///
/// # actor12::rt::Runtime::new().unwrap().block_on(async {
/// let stock = actor12::spawn::<Stock>(());
/// assert_eq!(stock.ask_dyn(Check).await, Level::Known(12));
/// stock.cancel_and_wait(()).await;
/// assert_eq!(stock.ask_dyn(Check).await, Level::Unknown);
/// # });
/// ```
pub trait FromError<E> {
    /// The reply that stands for `err`.
    fn from_err(err: E) -> Self
    where
        Self: Sized;
}

impl<T, E> FromError<E> for anyhow::Result<T>
where
    E: std::error::Error + Send + Sync + 'static,
{
    fn from_err(err: E) -> Self {
        Err(anyhow::Error::new(err))
    }
}

impl<T, E> FromError<E> for Result<T, MessageError>
where
    E: Into<MessageError>,
{
    fn from_err(err: E) -> Self {
        Err(err.into())
    }
}

/// `Dead` is a message not delivered (a weak link's ask, whose `ActorError` cannot say whether
/// the actor stopped or the link was empty: the text names both); `ReplyTaken`, a reply
/// already taken from its slot ([`MessageError::AlreadyConsumed`]); `AsyncReply`,
/// `reply_async`'s placeholder, which no asker sees.
impl From<ActorError> for MessageError {
    fn from(e: ActorError) -> Self {
        match e {
            ActorError::Dead => MessageError::SendFailed(NOT_RUNNING.to_owned()),
            ActorError::DynSendError() => MessageError::SendFailed(STOPPED.to_owned()),
            ActorError::ReplyTaken => MessageError::AlreadyConsumed,
            ActorError::AsyncReply => {
                MessageError::SendFailed("the reply comes from a background task".to_owned())
            }
        }
    }
}

impl<T> From<SendError<T>> for MessageError {
    fn from(e: SendError<T>) -> Self {
        MessageError::SendFailed(if e.empty { EMPTY } else { STOPPED }.to_owned())
    }
}

/// Why a message to a stopped actor was not delivered: [`MessageError::SendFailed`]'s text
/// then reads "message not delivered: the actor has stopped".
pub(crate) const STOPPED: &str = "the actor has stopped";

/// [`STOPPED`] for a message sent through an empty weak link.
pub(crate) const EMPTY: &str = "the weak link is empty";

/// [`ActorError::Dead`] as a [`MessageError::SendFailed`]: a weak link's ask to a stopped actor
/// or through an empty link, which that error does not tell apart.
const NOT_RUNNING: &str = "the actor has stopped, or the weak link is empty";
