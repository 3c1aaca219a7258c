//! The mailbox state word: the tail position fused with the idle, closed and system bits.
//!
//! One `AtomicUsize` carries everything a producer must learn from its single compare-and-swap:
//!
//! ```text
//!  usize bits:  [ position ... | WAITING | NOTIFY | SYSTEM | CLOSED | IDLE ]
//!                                 bit 4     bit 3    bit 2    bit 1    bit 0
//! ```
//!
//! * **position** counts positions handed out since the mailbox was made: each block has
//!   `BLOCK_CAP` slot positions and one *link position* (see `list.rs`). A producer claims
//!   position `p` with a CAS from `p` to `p + 1` ([`TailState::try_claim`]); the consumer's own
//!   position (`head`) trails it. `position == head` means every claimed slot has been consumed.
//! * **IDLE** is set by the consumer, and only by the consumer, when it stops running with nothing
//!   left to do ([`TailState::try_idle`]). It is cleared by the one producer whose claim (or
//!   [`TailState::flag_system`]) observes it set, in the same CAS; that producer, and no other,
//!   schedules the consumer. Because the consumer sets IDLE with a CAS that expects
//!   `position == head`, a message claimed at any time before that CAS makes it fail: no wake-up
//!   is ever lost.
//! * **CLOSED** is set once, by [`TailState::close`]. Every claim is a CAS that expects a word
//!   without CLOSED, so no claim succeeds after it: the position is frozen, and the consumer
//!   knows where the accepted messages end.
//! * **SYSTEM** says that the system lane may hold a signal. Setting it makes the consumer's idle
//!   CAS fail, exactly as a user message would; the consumer clears it before it looks at the lane
//!   for the last time (see `Mailbox::try_idle`).
//! * **NOTIFY** says that something other than a message wants the consumer to run again: an
//!   actor whose handler awaits a reply or a timer is woken this way ([`TailState::notify`]). It
//!   clears IDLE like a claim does, fails the idle CAS, and is cleared by the consumer alone
//!   ([`TailState::take_notify`]) before it polls whatever was waiting.
//! * **WAITING** says that producers may be queued for room in a bounded mailbox, or were woken
//!   for it and are not in yet; while it is set, a new push is refused as full (admission in
//!   arrival order, `waiters.rs`). A producer sets it when it queues and, under the waiters'
//!   lock, it is cleared once nobody is queued or woken ([`TailState::flag_waiting`],
//!   [`TailState::clear_waiting`]). A consumer that pops without a fence (`Mailbox::pop_lazy`)
//!   learns of waiters from the word its idle transition replaces: the transition is a CAS and
//!   the flag a read-modify-write of this word, so either the producer's flag comes first and
//!   the consumer sees it (in the word the CAS expects, and wakes a producer before the CAS, as
//!   the mailbox is no longer its to touch after), or the consumer's transition comes first and
//!   the producer, acquiring it, sees the room the consumer made before it. A producer that
//!   queues while the bit is already set (another one is woken) leaves the word unchanged; the
//!   waiter lock the consumer's wake-up takes orders the two instead (`Mailbox::try_idle`).
//!
//! No code outside this file does bit arithmetic on the word: reads return a [`Snapshot`], writes
//! are named transitions.

use crate::loom::{AtomicUsize, Ordering::*, with_mut_usize};

/// The consumer is not running and nobody has scheduled it.
const IDLE: usize = 1;
/// No user message is accepted any more.
const CLOSED: usize = 1 << 1;
/// A system signal may be waiting in the system lane.
const SYSTEM: usize = 1 << 2;
/// The consumer was woken for a reason other than a message.
const NOTIFY: usize = 1 << 3;
/// Producers may be waiting for room.
const WAITING: usize = 1 << 4;
/// One position in the word.
const ONE: usize = 1 << 5;

/// A value read from the state word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    /// The position a producer would claim next.
    pub(crate) fn pos(self) -> usize {
        self.0 / ONE
    }

    pub(crate) fn is_idle(self) -> bool {
        self.0 & IDLE != 0
    }

    pub(crate) fn is_closed(self) -> bool {
        self.0 & CLOSED != 0
    }

    pub(crate) fn has_system(self) -> bool {
        self.0 & SYSTEM != 0
    }

    /// The same word with the system bit cleared, as [`TailState::clear_system`] leaves it.
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFY != 0
    }

    pub(crate) fn has_waiters(self) -> bool {
        self.0 & WAITING != 0
    }

    pub(crate) fn without_system(self) -> Snapshot {
        Snapshot(self.0 & !SYSTEM)
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("pos", &self.pos())
            .field("idle", &self.is_idle())
            .field("closed", &self.is_closed())
            .field("system", &self.has_system())
            .field("notify", &self.is_notified())
            .field("waiting", &self.has_waiters())
            .finish()
    }
}

/// The state word. See the module documentation for the protocol.
#[derive(Debug)]
pub(crate) struct TailState(AtomicUsize);

impl TailState {
    /// A new mailbox is idle: it holds nothing and nobody has scheduled its consumer, so the first
    /// message schedules it.
    pub(crate) fn new() -> Self {
        TailState(AtomicUsize::new(IDLE))
    }

    /// A plain read.
    ///
    /// Acquire: pairs with the release of every transition below, in particular the consumer's
    /// idle CAS, [`close`](Self::close) and [`skip_link_position`](Self::skip_link_position).
    #[inline]
    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    /// Claims the position `current.pos()` if the word still equals `current`, clearing IDLE in
    /// the same step. On success, if `current.is_idle()`, this call took the mailbox out of idle
    /// and the caller must schedule the consumer. On failure returns the word as it is now.
    ///
    /// AcqRel on success: acquire pairs with the consumer's idle CAS (whoever runs the consumer
    /// next sees what it did before idling); release hands what this producer did to the
    /// scheduler it may use. Acquire on failure: the caller retries with the new word and must
    /// see the block it names.
    #[inline]
    pub(crate) fn try_claim(&self, current: Snapshot) -> Result<(), Snapshot> {
        self.0
            .compare_exchange_weak(current.0, (current.0 + ONE) & !IDLE, AcqRel, Acquire)
            .map(drop)
            .map_err(Snapshot)
    }

    /// Moves past the link position of a block once the next block is the current one (only the
    /// producer that claimed the block's last slot calls this).
    ///
    /// Release: pairs with the acquire of later claims and loads, which must then see the new
    /// current block.
    pub(crate) fn skip_link_position(&self) {
        self.0.fetch_add(ONE, Release);
    }

    /// Marks the system lane as non-empty and clears IDLE, in one step; true if the consumer was
    /// idle, so that this caller must schedule it.
    ///
    /// AcqRel: release pairs with the acquire of [`clear_system`](Self::clear_system), so a
    /// consumer that clears the bit after this sees the signal pushed before it; acquire and the
    /// IDLE hand-over as in [`try_claim`](Self::try_claim).
    pub(crate) fn flag_system(&self) -> bool {
        self.update(|w| (w | SYSTEM) & !IDLE).is_idle()
    }

    /// Sets NOTIFY and clears IDLE; true if the consumer was idle (the caller schedules it).
    pub(crate) fn notify(&self) -> bool {
        self.update(|w| (w | NOTIFY) & !IDLE).is_idle()
    }

    /// [`notify`](Self::notify) through `&mut`, with no other thread to see the word: a plain
    /// write, no read-modify-write.
    pub(crate) fn notify_unshared(&mut self) -> bool {
        with_mut_usize(&mut self.0, |w| {
            let before = Snapshot(*w);
            *w = (*w | NOTIFY) & !IDLE;
            before.is_idle()
        })
    }

    /// Clears NOTIFY and returns the word as it was before. Consumer only.
    pub(crate) fn take_notify(&self) -> Snapshot {
        Snapshot(self.0.fetch_and(!NOTIFY, AcqRel))
    }

    /// A producer queued for room (under the waiters' lock).
    ///
    /// AcqRel, as every transition, though nothing relies on it (the loom models pass with it
    /// weakened either way): the producer's retry after it sees the head the consumer stored
    /// before an idle transition through the `SeqCst` fence that follows (`waiters.rs`), and a
    /// consumer that sees `WAITING` wakes through the waiters' lock the producer holds here.
    pub(crate) fn flag_waiting(&self) {
        self.0.fetch_or(WAITING, AcqRel);
    }

    /// Nobody is queued or woken for room any more (under the waiters' lock). AcqRel, as every
    /// transition.
    pub(crate) fn clear_waiting(&self) {
        self.0.fetch_and(!WAITING, AcqRel);
    }

    /// Clears the system bit (consumer only) and returns the word as it was before.
    ///
    /// AcqRel: acquire pairs with [`flag_system`](Self::flag_system), see there.
    pub(crate) fn clear_system(&self) -> Snapshot {
        Snapshot(self.0.fetch_and(!SYSTEM, AcqRel))
    }

    /// Sets IDLE if the word still equals `expected` (consumer only).
    ///
    /// Fails, returning the current word, if anything was claimed, closed or flagged since
    /// `expected` was read. Release on success: pairs with the acquire of the next claim, handing
    /// the consumer's state to its next runner.
    #[inline]
    pub(crate) fn try_idle(&self, expected: Snapshot) -> Result<(), Snapshot> {
        debug_assert!(!expected.is_idle());
        self.0
            .compare_exchange(expected.0, expected.0 | IDLE, AcqRel, Acquire)
            .map(drop)
            .map_err(Snapshot)
    }

    /// Sets CLOSED and clears IDLE. Returns the word as it was before.
    ///
    /// AcqRel: release pairs with the acquire of [`load`](Self::load) and of failed claims.
    pub(crate) fn close(&self) -> Snapshot {
        self.update(|w| (w | CLOSED) & !IDLE)
    }

    /// Applies `f` with a CAS loop; returns the word as it was before. AcqRel (see callers).
    fn update(&self, f: impl Fn(usize) -> usize) -> Snapshot {
        let mut cur = self.0.load(Relaxed);
        loop {
            match self.0.compare_exchange_weak(cur, f(cur), AcqRel, Relaxed) {
                Ok(before) => return Snapshot(before),
                Err(actual) => cur = actual,
            }
        }
    }
}
