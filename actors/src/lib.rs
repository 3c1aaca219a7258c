//! actor12: actors on a lock-free, work-stealing runtime.
//!
//! Under construction: the actor API (`Actor`, `Link`, the two-step `send_message`) arrives on
//! top of the runtime. Already here are the pieces it is built from: the runtime ([`rt`],
//! [`time`]), the [`mailbox`] every actor owns, the [`oneshot`] reply slot every ask uses, and
//! hierarchical [`cancel`]lation.
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![doc(test(attr(deny(warnings))))]

pub mod cancel;
mod loom;
pub mod oneshot;

/// The lock-free MPSC mailbox (see [`actor12_mailbox`]).
pub use actor12_mailbox as mailbox;
/// The runtime: workers, spawning, blocking pool (see [`actor12_scheduler`]).
pub use actor12_scheduler as rt;
/// Timers on the runtime's per-worker wheels: `sleep`, `timeout`, `interval`.
pub use actor12_scheduler::time;

/// The README's code listings, compiled and run as doctests so they cannot rot.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
