//! actor12: actors on a lock-free, work-stealing runtime.
//!
//! An actor owns its state and changes it only by handling messages, one at a time. actor12
//! runs each actor as the scheduled unit of its own runtime ([`rt`]): a message is one atomic
//! read-modify-write into the actor's lock-free mailbox, and the one sender that finds the actor
//! idle puts it on its own worker's run queue (from outside the workers, on the runtime's global
//! queue). No tokio inside; a `tokio` feature bridges to the tokio ecosystem.
//!
//! # A tour
//!
//! ```
//! use actor12::prelude::*;
//!
//! // An actor: its state, and the five associated types.
//! struct Counter {
//!     count: u64,
//! }
//!
//! impl Actor for Counter {
//!     type Message = Multi<Self>; // handler style: any type with a `Handler` impl
//!     type Spec = u64; // what `spawn` takes
//!     type Channel = MpscChannel<Self::Message>;
//!     type Cancel = (); // the stop reason
//!     type State = (); // shared with every link
//!
//!     fn state(_: &u64) {}
//!
//!     fn init(ctx: Init<'_, Self>) -> impl InitFuture<Self> {
//!         std::future::ready(Ok(Counter { count: ctx.spec }))
//!     }
//! }
//!
//! struct Increment;
//! struct Get;
//!
//! impl Handler<Increment> for Counter {
//!     type Reply = anyhow::Result<()>;
//!     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Increment) -> Self::Reply {
//!         self.count += 1;
//!         Ok(())
//!     }
//! }
//!
//! impl Handler<Get> for Counter {
//!     type Reply = anyhow::Result<u64>;
//!     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, _: Get) -> Self::Reply {
//!         Ok(self.count)
//!     }
//! }
//!
//! actor12::rt::Runtime::new().unwrap().block_on(async {
//!     let counter = actor12::spawn::<Counter>(10);
//!     counter.tell_dyn(Increment).await; // fire and forget
//!     assert_eq!(counter.ask_dyn(Get).await.unwrap(), 11); // request/reply
//!
//!     // The two-step API: deliver, then decide what to do with the answer.
//!     let handle = counter.send_message(HandlerMessage::new(Get)).await;
//!     assert_eq!(handle.reply().await.unwrap().unwrap(), 11);
//!
//!     counter.cancel_and_wait(()).await; // or drop the last link
//! });
//! ```
//!
//! * [`Actor`], [`Handler`], [`Multi`], [`Envelope`]: defining actors and messages.
//! * [`Link`], [`WeakLink`], [`DynLink`]: talking to them; [`MessageHandle`] for the two-step
//!   API.
//! * [`cancel`]: hierarchical cancellation; [`count`]: instance counters.
//! * [`rt`], [`time`]: the runtime (workers, pinning, `spawn_pinned`) and timers.
//!
//! The user guide is in the repository's `docs/book/` (an mdBook: installation, a quick start,
//! the two-step API, timeouts, weak links, cancellation, the runtime, migrating from actor12
//! 0.0.11); its Concepts chapter lists the guarantees actors give.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![doc(test(attr(deny(warnings))))]

pub mod cancel;
mod loom;
#[cfg(actor12_loom)]
#[doc(hidden)]
pub mod loom_api;
pub mod oneshot;

#[cfg(not(actor12_loom))]
mod actor;
#[cfg(not(actor12_loom))]
mod channel;
#[cfg(not(actor12_loom))]
pub mod count;
#[cfg(not(actor12_loom))]
mod drop;
#[cfg(not(actor12_loom))]
mod envelope;
#[cfg(not(actor12_loom))]
mod error;
#[cfg(not(actor12_loom))]
mod handler;
#[cfg(not(actor12_loom))]
mod link;
#[cfg(not(actor12_loom))]
mod message;
#[cfg(not(actor12_loom))]
mod multi;
#[cfg(not(actor12_loom))]
mod proxy;
#[cfg(not(actor12_loom))]
mod runtime;
// Also under loom, for the actor task's models (`loom_api`), where the parts only the rest of
// the crate uses go unused.
#[cfg_attr(actor12_loom, allow(dead_code))]
mod task;
#[cfg(not(actor12_loom))]
mod weak;

/// The lock-free MPSC mailbox (see [`actor12_mailbox`]).
#[doc(inline)]
pub use actor12_mailbox as mailbox;
/// The runtime: workers, spawning, blocking pool (see [`actor12_scheduler`]). Documented here
/// too, so that `cargo doc --no-deps` shows it.
#[doc(inline)]
pub use actor12_scheduler as rt;
/// Timers on the runtime's per-worker wheels: `sleep`, `timeout`, `interval`.
#[doc(inline)]
pub use actor12_scheduler::time;

#[cfg(not(actor12_loom))]
pub use crate::{
    actor::{Actor, ActorContext, ActorMessage, Init, InitFuture, TaskSet, Terminate},
    channel::{ActorChannel, ActorReceiver, MpscChannel},
    drop::DropHandle,
    envelope::{Envelope, NoReply},
    error::{ActorError, ActorSendError, FromError, MessageError, SendError, TryRecvError},
    handler::{Call, Exec, Handler},
    link::{BoxFuture, DynLink, Link, Recipient},
    message::{
        EnvelopeMessage, HandlerMessage, MessageHandle, RawMessage, RelayMessage, SendableMessage,
        WeakSendableMessage,
    },
    multi::Multi,
    proxy::Proxy,
    weak::WeakLink,
};
#[cfg(all(not(actor12_loom), feature = "tokio"))]
pub use runtime::tokio_bridge;

/// What most actor code imports: `use actor12::prelude::*;`: the traits, both message styles
/// (`Multi`, `Envelope`, `Call`, `MpscChannel`), the links and the two-step message wrappers.
///
/// # Examples
///
/// An actor, and calls to it through both links and both steps, with nothing else imported:
///
/// ```
/// use actor12::prelude::*;
///
/// struct Counter(u64);
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
/// struct Add(u64);
/// impl Handler<Add> for Counter {
///     type Reply = anyhow::Result<u64>;
///     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, Add(n): Add) -> Self::Reply {
///         self.0 += n;
///         Ok(self.0)
///     }
/// }
///
/// actor12::rt::Runtime::new().unwrap().block_on(async {
///     let counter: Link<Counter> = actor12::spawn(());
///     let weak: WeakLink<Counter> = counter.downgrade();
///     assert_eq!(counter.ask_dyn(Add(2)).await.unwrap(), 2);
///     let handle = weak.send_message(HandlerMessage::new(Add(3))).await;
///     assert_eq!(handle.reply().await.unwrap().unwrap(), 5);
/// });
/// ```
#[cfg(not(actor12_loom))]
pub mod prelude {
    pub use crate::actor::{Actor, Init, InitFuture};
    pub use crate::channel::MpscChannel;
    pub use crate::envelope::Envelope;
    pub use crate::handler::{Call, Exec, Handler};
    pub use crate::link::Link;
    pub use crate::message::{EnvelopeMessage, HandlerMessage};
    pub use crate::multi::Multi;
    pub use crate::weak::WeakLink;
}

/// Spawns an actor and returns the link that keeps it alive.
///
/// Works from anywhere: inside an actor or a task (same runtime), inside
/// [`Runtime::block_on`](rt::Runtime::block_on), inside a tokio task or `#[tokio::test]`, or from a
/// plain thread. Outside an actor12 runtime it uses the process-wide default runtime, started on
/// first use with one worker per core.
///
/// `A::init` runs here, in the caller. Called on one of the runtime's workers (in an actor or a
/// task), the spawn then makes the actor's first run too: the future `init` returns, and the
/// actor's first cycle, run here until the actor waits (for a message, a reply, a timer) or
/// yields, so the actor starts on the core that has just written its memory, without a trip
/// through a run queue. The caller waits for that run: long or blocking work in `init`
/// belongs in [`spawn_blocking`](rt::spawn_blocking) or a task of the actor's, and a lock that
/// the first run takes (in `init`'s future, `tick`, or the handler of a message queued by then,
/// such as one `init`'s future sent the actor itself) must not be held across the spawn: that
/// run is on the caller's thread, and would wait for that lock for ever. A spawn made inside
/// such a first run (from `init`'s future, or a handler there) queues its actor, as does a
/// spawn from any other thread or from a destructor while the thread unwinds, and the first
/// run happens on a worker later: first runs do not nest (a spawn in `init`'s body, before it
/// returns its future, is not inside a first run, and makes its actor's first run at once).
/// (With the `tokio` feature, `A::init` runs in the tokio context [`Actor::init`] says, and
/// that first run in the one the actor's runs on that worker get, not in a scoped one of the
/// caller's; a worker that has run no actor yet queues the new one.)
///
/// # Examples
///
/// ```
/// use actor12::prelude::*;
///
/// struct Greeter;
/// struct Greet(&'static str);
///
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
///
/// impl Handler<Greet> for Greeter {
///     type Reply = anyhow::Result<String>;
///     async fn handle(&mut self, _: Call<'_, Self, Self::Reply>, msg: Greet) -> Self::Reply {
///         Ok(format!("hello, {}", msg.0))
///     }
/// }
///
/// // No runtime here: the actor goes to the process-wide default one.
/// let greeter = actor12::spawn::<Greeter>(());
/// let answer = actor12::rt::Handle::current_or_default().block_on(greeter.ask_dyn(Greet("you")));
/// assert_eq!(answer.unwrap(), "hello, you");
///
/// // Inside a runtime: on that runtime.
/// actor12::rt::Runtime::new().unwrap().block_on(async {
///     let greeter = actor12::spawn::<Greeter>(());
///     assert_eq!(greeter.ask_dyn(Greet("me")).await.unwrap(), "hello, me");
/// });
/// ```
#[cfg(not(actor12_loom))]
pub fn spawn<A: Actor>(spec: A::Spec) -> Link<A> {
    A::spawn(spec)
}

/// The README's code listings, compiled and run as doctests so they cannot rot.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
