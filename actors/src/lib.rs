//! actor12: actors on a lock-free, work-stealing runtime.
//!
//! Under construction: the actor API arrives after the runtime. Today this crate re-exports the
//! mailbox that every actor will own.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

/// The lock-free MPSC mailbox (see [`actor12_mailbox`]).
pub use actor12_mailbox as mailbox;
