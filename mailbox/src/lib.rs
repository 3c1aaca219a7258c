//! The lock-free MPSC mailbox under actor12.
//!
//! A mailbox is a queue made to be an actor's inbox:
//!
//! * **Scheduling is fused into the queue.** The word a push increments also says whether the
//!   consumer is idle, so exactly one push per idle period returns [`Push::Schedule`] and
//!   schedules the consumer, and the consumer's [`try_idle`](Mailbox::try_idle) fails if anything
//!   arrived meanwhile. No wake-up is lost, and none is paid for while the consumer is busy.
//! * **A system lane** for control signals, popped before user messages, not counted against
//!   capacity, usable when the user lane is full or closed.
//! * **Unbounded and bounded flavours.** A bounded mailbox refuses with
//!   [`TrySendError::Full`], or makes an async [`push`](Mailbox::push) wait; waiters are woken
//!   in FIFO order, and closing hands every waiter its message back.
//! * **No allocation per message.** Messages live inline in blocks of 31 slots; consumed blocks
//!   are recycled.
//!
//! [`Mailbox`] is the core that an actor runtime embeds; [`unbounded`], [`bounded`] and
//! [`channel`] wrap it in [`Sender`]/[`Receiver`] handles for use on plain threads or futures.
//!
//! The protocol, with the loom model that covers each rule, is in `docs/design/mailbox.md`.
//!
//! # Examples
//!
//! ```
//! let (tx, mut rx) = actor12_mailbox::unbounded::<String>();
//! let producer = std::thread::spawn(move || {
//!     for i in 0..3 {
//!         tx.try_send(format!("message {i}")).unwrap();
//!     }
//! });
//! let mut got = Vec::new();
//! while let Some(item) = rx.recv() {
//!     got.extend(item.user());
//! }
//! producer.join().unwrap();
//! assert_eq!(got, ["message 0", "message 1", "message 2"]);
//! ```
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![doc(test(attr(deny(warnings))))]

mod block;
mod channel;
mod error;
mod list;
mod loom;
mod mailbox;
mod state;
mod system;
mod waiters;

pub use channel::{Item, Receiver, RecvFuture, SendFuture, Sender, bounded, channel, unbounded};
pub use error::{SendError, TryRecvError, TrySendError};
pub use mailbox::{Mailbox, Pop, Push, PushFuture};

/// Slots per block: the granularity of allocation and recycling.
pub const BLOCK_CAPACITY: usize = loom::BLOCK_CAP;

/// How far behind the consumer is, at least (messages pushed and not yet taken ahead of a push:
/// sixteen blocks' worth, 496; 32 under loom), when the push that links a block reports
/// [`Push::Backlogged`].
pub const BACKLOG: usize = 16 * BLOCK_CAPACITY;
