//! The mailbox state word: the tail index fused with the idle, closed and system bits.
//!
//! One `AtomicUsize` carries everything a producer must learn from its single read-modify-write:
//!
//! ```text
//!  usize bits:  [ index of the next free slot ............ | SYSTEM | CLOSED | IDLE ]
//!                                                             bit 2    bit 1    bit 0
//! ```
//!
//! * **index** counts slots handed out to producers since the mailbox was made. A producer claims
//!   the slot `index` by adding [`ONE`]; the consumer's own position (`head`) trails it. `index ==
//!   head` means every claimed slot has been consumed.
//! * **IDLE** is set by the consumer, and only by the consumer, when it stops running with nothing
//!   left to do ([`TailState::try_idle`]). It is cleared by the one producer whose
//!   [`TailState::claim_schedule`] (or bounded claim, or [`TailState::flag_system`]) observes it
//!   set; that producer, and no other, schedules the consumer. Because the consumer sets IDLE with
//!   a compare-and-swap that expects `index == head`, a message claimed at any time before that
//!   CAS makes it fail: no wake-up is ever lost. A user push clears IDLE before it writes its
//!   slot, while the consumer cannot yet idle again, so the IDLE it clears is always the one its
//!   own message ends.
//! * **CLOSED** is set once, by [`TailState::close`]. A producer whose claim observes it gives its
//!   message back; its claimed index is never written. The index at the moment of closing is kept
//!   beside the word (`close_pos` in the mailbox) so that the consumer knows where the accepted
//!   messages end.
//! * **SYSTEM** says that the system lane may hold a signal. Setting it makes the consumer's idle
//!   CAS fail, exactly as a user message would; the consumer clears it before it looks at the lane
//!   for the last time (see `Mailbox::try_idle`).
//!
//! No code outside this file does bit arithmetic on the word: reads return a [`Snapshot`], writes
//! are named transitions.

use crate::loom::{AtomicUsize, Ordering::*};

/// The consumer is not running and nobody has scheduled it.
const IDLE: usize = 1;
/// No user message is accepted any more.
const CLOSED: usize = 1 << 1;
/// A system signal may be waiting in the system lane.
const SYSTEM: usize = 1 << 2;
/// One slot in the index part of the word.
pub(crate) const ONE: usize = 1 << 3;

/// A value read from the state word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    /// The index of the next slot a producer would claim.
    pub(crate) fn index(self) -> usize {
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
    pub(crate) fn without_system(self) -> Snapshot {
        Snapshot(self.0 & !SYSTEM)
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("index", &self.index())
            .field("idle", &self.is_idle())
            .field("closed", &self.is_closed())
            .field("system", &self.has_system())
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
    /// Acquire: pairs with the release of [`close`](Self::close) (so `close_pos` is visible to a
    /// reader that sees CLOSED) and with the consumer's idle CAS.
    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    /// Reads the word with a read-modify-write that changes nothing.
    ///
    /// Unlike a load, an RMW reads the newest value in the word's modification order. The block
    /// list relies on that when it records which claims may still be walking a released block
    /// (`list::Tx::release_block`). Release: pairs with the acquire of [`claim`](Self::claim), so a
    /// producer whose claim is ordered after this read also sees the `block_tail` move before it.
    pub(crate) fn observe(&self) -> Snapshot {
        Snapshot(self.0.fetch_or(0, AcqRel))
    }

    /// Claims the next slot (unbounded flavour) and returns the word as it was before.
    ///
    /// The caller owns slot `before.index()` unless `before.is_closed()`, in which case it owns
    /// nothing and must give its message back. Acquire: pairs with the release of
    /// [`observe`](Self::observe) in the block list and with the consumer's idle CAS.
    #[inline]
    pub(crate) fn claim(&self) -> Snapshot {
        Snapshot(self.0.fetch_add(ONE, Acquire))
    }

    /// Claims the next slot if fewer than `capacity` slots are in use (bounded flavour).
    ///
    /// `head` gives the consumer's position; a stale (smaller) value only makes this more
    /// conservative. Returns the word as it was before a successful claim, or the word that made
    /// the claim impossible (closed, or full). The same CAS also clears IDLE: if the returned
    /// word `is_idle()`, this call took the mailbox out of idle and the caller must schedule the
    /// consumer, as after a successful [`claim_schedule`](Self::claim_schedule).
    #[inline]
    pub(crate) fn claim_bounded(
        &self,
        capacity: usize,
        head: impl Fn() -> usize,
    ) -> Result<Snapshot, Snapshot> {
        let mut cur = self.0.load(Relaxed);
        loop {
            let snap = Snapshot(cur);
            if snap.is_closed() || snap.index().wrapping_sub(head()) >= capacity {
                // Acquire so that a CLOSED seen here carries `close_pos` with it, as in `load`.
                return Err(Snapshot(self.0.load(Acquire)));
            }
            // AcqRel on success: acquire as in `claim`, release as in `claim_schedule`.
            // Relaxed on failure: we only retry.
            match self.0.compare_exchange_weak(cur, (cur + ONE) & !IDLE, AcqRel, Relaxed) {
                Ok(_) => return Ok(snap),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Clears IDLE; true if this call is the one that cleared it, and so must schedule the
    /// consumer.
    ///
    /// Only called by a producer whose earlier RMW saw IDLE set. AcqRel: acquire pairs with the
    /// consumer's idle CAS, so whoever runs the consumer next sees everything it did before going
    /// idle; release hands what this producer did to the scheduler it is about to use.
    pub(crate) fn claim_schedule(&self) -> bool {
        self.0.fetch_and(!IDLE, AcqRel) & IDLE != 0
    }

    /// Marks the system lane as non-empty and clears IDLE, in one step; true if the consumer was
    /// idle, so that this caller must schedule it.
    ///
    /// AcqRel: release pairs with the acquire of [`clear_system`](Self::clear_system), so a
    /// consumer that clears the bit after this sees the signal pushed before it; acquire and the
    /// IDLE hand-over as in [`claim_schedule`](Self::claim_schedule).
    pub(crate) fn flag_system(&self) -> bool {
        let mut cur = self.0.load(Relaxed);
        loop {
            match self.0.compare_exchange_weak(cur, (cur | SYSTEM) & !IDLE, AcqRel, Relaxed) {
                Ok(before) => return before & IDLE != 0,
                Err(actual) => cur = actual,
            }
        }
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
    /// `expected` was read. Release on success: pairs with the acquire of
    /// [`claim_schedule`](Self::claim_schedule), handing the consumer's state to its next runner.
    pub(crate) fn try_idle(&self, expected: Snapshot) -> Result<(), Snapshot> {
        debug_assert!(!expected.is_idle());
        self.0
            .compare_exchange(expected.0, expected.0 | IDLE, AcqRel, Acquire)
            .map(drop)
            .map_err(Snapshot)
    }

    /// Sets CLOSED and clears IDLE. Returns the word as it was before.
    ///
    /// `before_publish` runs with the index that closing freezes, before the word changes, so that
    /// it can record that index where readers of CLOSED find it. Callers serialise `close`
    /// (the mailbox takes its waiter lock), so the closure runs for the winning attempt only.
    /// Release: pairs with the acquire of [`load`](Self::load) and the claims.
    pub(crate) fn close(&self, before_publish: impl Fn(usize)) -> Snapshot {
        let mut cur = self.0.load(Acquire);
        loop {
            let snap = Snapshot(cur);
            if snap.is_closed() {
                return snap;
            }
            before_publish(snap.index());
            match self.0.compare_exchange(cur, (cur | CLOSED) & !IDLE, AcqRel, Acquire) {
                Ok(_) => return snap,
                Err(actual) => cur = actual,
            }
        }
    }
}
