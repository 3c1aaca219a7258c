//! The lock-free list of blocks: producers claim slots and link blocks, the consumer drains and
//! recycles them.
//!
//! # Positions
//!
//! The state word counts *positions*. Block `k` covers positions `k * LAP ..= k * LAP + BLOCK_CAP`:
//! `BLOCK_CAP` slot positions and one *link position*. While the word sits on a link position the
//! next block is being linked, and producers wait (briefly) for it.
//!
//! # Ground rules
//!
//! 1. `Tx::block` is the block holding the word's position. A producer reads the word, then
//!    `block`, then claims the position with a CAS that expects the word unchanged. Positions only
//!    grow, so a successful CAS proves `block` was still the right block; a producer never
//!    dereferences a block before its claim succeeds.
//! 2. The producer that claims a block's last slot links the next one: it takes a spare block (or
//!    allocates one), makes it `Tx::block`, moves the word past the link position, sets the old
//!    block's `next`, and only then writes its slot. Claims are CASes on one word, so link steps
//!    happen one block at a time, in order.
//! 3. The consumer takes slots in order. When it has taken a block's last slot, that block's
//!    `next` is set (rule 2 orders it before the slot's `ready`), and no producer can touch the old
//!    block any more: every slot was written, the linker is done with it, and any producer still
//!    holding a pointer to it will fail its claim (the position has moved on) without
//!    dereferencing it. So the consumer resets it at once and offers it to the spare ring.
//! 4. The spare ring has one writer (the consumer) and one reader at a time (the producer linking
//!    a block; rule 2 orders successive linkers through the state word). It holds a few blocks;
//!    a recycled block that does not fit is freed, so a drained burst gives its memory back. In
//!    steady state nothing is allocated or freed.
//! 5. The very first block is linked by the first producer *before* it claims position 0, and is
//!    recorded in `first` for the consumer and `Drop`. A mailbox that never receives a message
//!    holds no block.
//! 6. A consumer that has taken everything up to the close may free every block at once
//!    (`Rx::release_blocks`: an actor's teardown, while weak links keep its mailbox). No claim
//!    can succeed after the close, so by rule 1 no producer dereferences a block again; `Tx::block`
//!    keeps pointing at the freed block, so that no late producer links a first block (rule 5),
//!    and the consumer's block becomes a dangling marker that `Drop` skips.
//! 7. The producer that links a block, once its slot is written, also looks at how far the
//!    consumer is behind (the count of taken messages it publishes, read relaxed: a stale count
//!    only overstates the distance). At [`BACKLOG`] messages or more ahead of its own, its push
//!    reports [`Push::Backlogged`]: a hint, once a block, that costs no load on any other push.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::ptr;

use crossbeam_utils::Backoff;

use crate::BACKLOG;
use crate::block::Block;
use crate::loom::{AtomicPtr, AtomicUsize, BLOCK_CAP, LAP, Ordering::*, snooze};
use crate::mailbox::Push;
use crate::state::TailState;

/// Bytes between the end of the producers' hot words and the first word the consumer writes per
/// message: with 63 or more, no 64-byte line holds both, wherever the allocation starts.
#[cfg(not(actor12_loom))]
pub(crate) const COLD_GAP: usize = 63;

/// The size of the producers' hot words ([`Hot`]), which start the mailbox.
#[cfg(not(actor12_loom))]
pub(crate) const HOT_BYTES: usize = std::mem::size_of::<Hot<()>>();

/// Spare blocks kept for reuse: a burst of up to about 150 messages beyond the current block is
/// absorbed without allocating; a longer burst's blocks are freed once drained. Five: with
/// `first`, what keeps the consumer's words 63 bytes from the producers' (see `Hot`).
#[cfg(not(actor12_loom))]
const SPARES: usize = 5;
#[cfg(actor12_loom)]
const SPARES: usize = 2;

/// Messages that fit below `pos`: slot positions, not link positions.
#[inline]
pub(crate) fn messages_below(pos: usize) -> usize {
    (pos / LAP) * BLOCK_CAP + (pos % LAP).min(BLOCK_CAP)
}

/// Rule 7: `ahead` messages were pushed before one that links a block. The count of those
/// taken is read only once the mailbox has had `BACKLOG` messages (never in the loom models,
/// whose pushes are fewer). Out of line and after the slot's write: the other 30 pushes of a
/// block run the code they ran before the check existed, and the consumer never waits for the
/// load. (Inline, before the `Push` was chosen, it cost handler-style ask 8 ns on the 2-vCPU VM
/// for 1.7 instructions: `docs/design/actors.md` section 6.)
#[cold]
#[inline(never)]
fn backlogged(ahead: usize, taken: impl Fn() -> usize) -> bool {
    ahead >= BACKLOG && ahead.saturating_sub(taken()) >= BACKLOG
}

/// Why a push was refused.
pub(crate) enum Refused {
    Full,
    Closed,
}

/// The producers' side. `repr(C)`: `hot` first, then the fields pushes touch rarely, which keep
/// it at least a cache line away from the consumer's fields that follow in [`Mailbox`](crate::Mailbox).
#[repr(C)]
pub(crate) struct Tx<T> {
    hot: Hot<T>,
    /// The first block ever linked, or null. Written once.
    first: AtomicPtr<Block<T>>,
    spares: Spares<T>,
}

/// What every push reads or writes: the consumer writes none of it per message (it touches the
/// state word only when it runs dry), and no cache line holds both these words and the words the
/// consumer writes per message, so pushes do not miss on lines the consumer keeps dirty.
///
/// That is kept by distance, not alignment: the cold fields after `hot` in `Tx` are at least
/// [`COLD_GAP`] bytes long (checked at compile time in `mailbox.rs`). An alignment of 64 would
/// make every actor's allocation over-aligned, and the system allocator serves over-aligned
/// requests through its slow `memalign` path (a fifth of an actor's spawn-and-stop time).
#[repr(C)]
struct Hot<T> {
    state: TailState,
    /// The block holding the state word's position; null before the first message.
    block: AtomicPtr<Block<T>>,
    /// The bound of the user lane, or `usize::MAX`.
    capacity: usize,
}

/// The consumer's side. Lives in an `UnsafeCell`; only the consumer touches it.
pub(crate) struct Rx<T> {
    /// The block holding `pos`, once the consumer has one.
    block: *mut Block<T>,
    /// The next position to consume; never a link position.
    pub(crate) pos: usize,
    /// Messages taken so far.
    pub(crate) taken: usize,
}

impl<T> Tx<T> {
    /// Producers' state for a user lane of at most `capacity` messages (`usize::MAX`: no bound).
    pub(crate) fn new(capacity: usize) -> Self {
        Tx {
            hot: Hot { state: TailState::new(), block: AtomicPtr::new(ptr::null_mut()), capacity },
            first: AtomicPtr::new(ptr::null_mut()),
            spares: Spares::new(),
        }
    }

    /// The state word.
    #[inline]
    pub(crate) fn state(&self) -> &TailState {
        &self.hot.state
    }

    pub(crate) fn state_mut(&mut self) -> &mut TailState {
        &mut self.hot.state
    }

    /// The bound of the user lane, or `usize::MAX`.
    #[inline]
    pub(crate) fn capacity(&self) -> usize {
        self.hot.capacity
    }

    /// Pushes `value` if the user lane has room (`taken` reports how many messages the consumer
    /// has taken; a stale value only makes the check stricter) and no producer is waiting for
    /// room. The [`Push`] says what it means for the consumer.
    #[inline]
    pub(crate) fn push(&self, value: T, taken: impl Fn() -> usize) -> Result<Push, (Refused, T)> {
        let mut value = Some(value);
        self.push_from(&mut value, taken)
            .map_err(|refused| (refused, value.take().expect("a refused push keeps its message")))
    }

    /// [`push`](Self::push) for a producer whose turn it is among those waiting for room
    /// (`Waiters::wait`), leaving `reserved` slots free: refused only for want of room, or once
    /// closed.
    pub(crate) fn push_in_turn(
        &self,
        value: T,
        reserved: usize,
        taken: impl Fn() -> usize,
    ) -> Result<Push, (Refused, T)> {
        let mut value = Some(value);
        // Only a bounded lane has waiters; a bound of zero refuses every push as full.
        let bound = self.hot.capacity.saturating_sub(reserved);
        self.push_within(&mut value, bound, false, taken)
            .map_err(|refused| (refused, value.take().expect("a refused push keeps its message")))
    }

    /// [`push`](Self::push), taking the message out of `value` only once its slot is claimed;
    /// refused, it leaves it there.
    ///
    /// A message read from where its sender built it after the claim's locked instruction (which
    /// drains the store buffer) is never read back while the stores that wrote it are still
    /// in flight, as a copy staged on the stack before the claim was: with wider loads than the
    /// stores that wrote it, each of those copies stalled on a failed store forward.
    #[inline]
    pub(crate) fn push_from(
        &self,
        value: &mut Option<T>,
        taken: impl Fn() -> usize,
    ) -> Result<Push, Refused> {
        self.push_within(value, self.hot.capacity, true, taken)
    }

    /// [`push`](Self::push) whatever the bound: refused only once closed.
    pub(crate) fn push_past_bound(
        &self,
        value: T,
        taken: impl Fn() -> usize,
    ) -> Result<Push, (Refused, T)> {
        let mut value = Some(value);
        self.push_within(&mut value, usize::MAX, false, taken)
            .map_err(|refused| (refused, value.take().expect("a refused push keeps its message")))
    }

    /// [`push_from`](Self::push_from) with `capacity` for the bound (`usize::MAX`: none), and
    /// refused while producers wait for room if `gated`.
    #[inline(always)]
    fn push_within(
        &self,
        value: &mut Option<T>,
        capacity: usize,
        gated: bool,
        taken: impl Fn() -> usize,
    ) -> Result<Push, Refused> {
        let backoff = Backoff::new();
        let mut state = self.hot.state.load();
        loop {
            if state.is_closed() {
                return Err(Refused::Closed);
            }
            let pos = state.pos();
            let offset = pos % LAP;
            if offset == BLOCK_CAP {
                // Another producer is linking the next block (rule 2); it is a few stores away.
                snooze(&backoff);
                state = self.hot.state.load();
                continue;
            }
            // `state` may be stale (read before a failed claim and a backoff) while `taken` is
            // fresh: the consumer may have taken messages past `pos` since. Saturating, such a
            // word counts as room; its claim then fails and the loop reads the word again.
            if capacity != usize::MAX {
                // Admission goes in arrival order: while producers are waiting for room, or
                // were woken for it and are not in yet, a new push is refused as if there were
                // none (`waiters.rs`). The bit is in the word this claim expects, so a producer
                // that starts waiting meanwhile fails the claim, and the retry sees the bit.
                if gated && state.has_waiters() {
                    return Err(Refused::Full);
                }
                if messages_below(pos).saturating_sub(taken()) >= capacity {
                    return Err(Refused::Full);
                }
            }
            // Acquire: pairs with the release store in the link step (or `first_block`).
            let mut block = self.hot.block.load(Acquire);
            if block.is_null() {
                block = self.first_block();
            }
            match self.hot.state.try_claim(state) {
                Ok(()) => {
                    let links = offset + 1 == BLOCK_CAP;
                    if links {
                        // SAFETY: we claimed the last slot of `block` (rule 1), so we link.
                        unsafe { self.link_next(block) };
                    }
                    let value = value.take().expect("a push is given its message");
                    // SAFETY: the claim makes us the only writer of this slot, and `block` is the
                    // block holding it (rule 1).
                    unsafe { (*block).write(offset, value) };
                    return Ok(if state.is_idle() {
                        Push::Schedule
                    } else if links && backlogged(messages_below(pos), &taken) {
                        Push::Backlogged
                    } else {
                        Push::Queued
                    });
                }
                Err(now) => {
                    state = now;
                    backoff.spin();
                }
            }
        }
    }

    /// Rule 2: makes a new block current, moves past the link position, links it after `block`.
    ///
    /// # Safety
    /// The caller claimed the last slot of `block`, which is live.
    #[cold]
    unsafe fn link_next(&self, block: *mut Block<T>) {
        let next = self.spares.take().unwrap_or_else(Block::alloc);
        // Release: pairs with the acquire load in `push`; the state word's release below carries
        // it to every later claim.
        self.hot.block.store(next, Release);
        self.hot.state.skip_link_position();
        // SAFETY: `block` is live until the consumer takes its last slot, which we have not
        // written yet.
        unsafe { (*block).set_next(next) };
    }

    /// Links the first block (rule 5), or returns the one another producer linked.
    #[cold]
    fn first_block(&self) -> *mut Block<T> {
        let new = Block::alloc();
        // AcqRel: release publishes the empty block, acquire reads a competitor's.
        match self.hot.block.compare_exchange(ptr::null_mut(), new, AcqRel, Acquire) {
            Ok(_) => {
                // Release: pairs with the consumer's acquire in `Rx::pop`.
                self.first.store(new, Release);
                new
            }
            Err(actual) => {
                // SAFETY: `new` was never published.
                unsafe { Block::free(new) };
                actual
            }
        }
    }
}

impl<T> Rx<T> {
    pub(crate) fn new() -> Self {
        Rx { block: ptr::null_mut(), pos: 0, taken: 0 }
    }

    /// Takes the value at `pos` if it has been written: `take` gets a pointer to it, and reads
    /// it once (see [`Block::take`]), before the bookkeeping here. A consumer that copies it to a
    /// place of its own thus makes one copy, instead of the value being kept (on the stack, if it
    /// is large) across that bookkeeping and moved again on its way out.
    ///
    /// # Safety
    /// Only the consumer calls this, with the `Tx` of the same mailbox; `take` reads the value
    /// once.
    #[inline(always)]
    pub(crate) unsafe fn pop<R>(
        &mut self,
        tx: &Tx<T>,
        take: impl FnOnce(*const T) -> R,
    ) -> Option<R> {
        if self.block.is_null() {
            // Acquire: pairs with the release in `first_block`.
            self.block = tx.first.load(Acquire);
            if self.block.is_null() {
                return None;
            }
        }
        let offset = self.pos % LAP;
        // `block` holds `pos` and is live (the consumer recycles a block only after leaving it),
        // and each slot is taken once.
        // SAFETY: as just said; `take` reads the value once (the contract).
        let value = unsafe { (*self.block).take(offset, take) }?;
        self.pos += 1;
        if offset + 1 == BLOCK_CAP {
            // SAFETY: rule 3: `next` was linked before the slot we just took was written, and
            // nobody else can touch the finished block.
            unsafe { self.leave_block(tx) };
        }
        // Counted apart from `pos`: the two increments side by side were made one 16-byte load,
        // add and store, and `taken`, which the mailbox stores for `len` next, had to be
        // extracted from it.
        self.taken += 1;
        Some(value)
    }

    /// True if the next `pop` would find a value. Reads only the consumer's current slot, not the
    /// state word the producers contend on, so a consumer can spin on it without slowing them.
    pub(crate) fn next_is_ready(&self, tx: &Tx<T>, ahead: usize) -> bool {
        if self.block == released() {
            // Every block is gone, and so is every message (`release_blocks`' contract).
            return false;
        }
        let block = if self.block.is_null() { tx.first.load(Acquire) } else { self.block };
        // Saturating: any distance, however large, is capped at the block's last slot.
        let offset = (self.pos % LAP).saturating_add(ahead).min(BLOCK_CAP - 1);
        // SAFETY: as in `pop`: the current block (or the first one) is live.
        !block.is_null() && unsafe { (*block).is_ready(offset) }
    }

    /// Moves to the next block and recycles the finished one (rule 3).
    #[cold]
    unsafe fn leave_block(&mut self, tx: &Tx<T>) {
        let old = self.block;
        // SAFETY: the caller's guarantee: `old` is live and finished.
        let old_ref = unsafe { &*old };
        self.block = old_ref.next();
        debug_assert!(!self.block.is_null(), "a finished block has its successor linked");
        self.pos += 1; // the link position
        old_ref.reset();
        if let Err(block) = tx.spares.put(old) {
            // SAFETY: finished and unreachable (rule 3), not in the ring.
            unsafe { Block::free(block) };
        }
    }

    /// Frees every block once the consumer has taken everything up to the close: no producer
    /// can claim a slot any more, so none touches a block again (a producer that read a stale
    /// state word fails its claim before it would; the producers' current block, left pointing
    /// at the freed block, keeps a late producer from linking a first block). A consumer that
    /// never reached a block leaves the blocks to [`drop_all`](Self::drop_all).
    ///
    /// # Safety
    /// Only the consumer calls this, with the `Tx` of the same mailbox, once the list is closed
    /// and it has taken every claimed slot; it pops no more.
    pub(crate) unsafe fn release_blocks(&mut self, tx: &Tx<T>) {
        if self.block.is_null() || self.block == released() {
            return;
        }
        // SAFETY: per the contract, no other thread touches a block or a spare: nothing unread
        // is left, and this frees the blocks from the consumer's on and the spares.
        unsafe { self.drop_all(tx) };
        self.block = released();
    }

    /// Drops every written, unread value and frees every block.
    ///
    /// # Safety
    /// Called once, from the mailbox's `Drop`, when no other thread can touch the list (or from
    /// [`release_blocks`](Self::release_blocks)).
    pub(crate) unsafe fn drop_all(&mut self, tx: &Tx<T>) {
        if self.block == released() {
            return; // freed by `release_blocks`
        }
        let (mut block, mut from) = if self.block.is_null() {
            (tx.first.load(Relaxed), 0)
        } else {
            (self.block, self.pos % LAP)
        };
        // A value whose destructor panics does not leak the others or the blocks: as `Vec` does,
        // the rest are still dropped, and the first panic goes on once all are.
        let mut panic = None;
        while !block.is_null() {
            // SAFETY: we own every block now; each is reached once.
            let b = unsafe { &*block };
            // A message with no drop glue leaves nothing to drop, and its slots need no look:
            // the look at each slot's ready flag, 31 a block, was 91 instructions a block freed
            // (callgrind, `peers/spawn_stop`, whose idle actors each had a `u64`).
            let slots = if std::mem::needs_drop::<T>() { from..BLOCK_CAP } else { 0..0 };
            for offset in slots {
                // SAFETY: at or past the consumer's position, so never taken.
                let dropped = catch_unwind(AssertUnwindSafe(|| unsafe { b.drop_unread(offset) }));
                if let Err(payload) = dropped {
                    panic.get_or_insert(payload);
                }
            }
            let next = b.next();
            // SAFETY: reached once, freed once.
            unsafe { Block::free(block) };
            block = next;
            from = 0;
        }
        while let Some(spare) = tx.spares.take() {
            // SAFETY: spares are reset blocks nobody else can reach.
            unsafe { Block::free(spare) };
        }
        if let Some(payload) = panic {
            resume_unwind(payload);
        }
    }
}

/// The consumer's block once [`Rx::release_blocks`] freed them all: never an allocation.
fn released<T>() -> *mut Block<T> {
    ptr::dangling_mut()
}

/// Where the word will be once a pending link step finishes.
pub(crate) fn after_link(pos: usize) -> usize {
    if pos % LAP == BLOCK_CAP { pos + 1 } else { pos }
}

/// A small ring of reset blocks: the consumer puts, the producer linking a block takes (rule 4).
struct Spares<T> {
    slots: [AtomicPtr<Block<T>>; SPARES],
    /// Blocks taken so far; written by the taker.
    head: AtomicUsize,
    /// Blocks put so far; written by the consumer.
    tail: AtomicUsize,
}

impl<T> Spares<T> {
    fn new() -> Self {
        Spares {
            slots: std::array::from_fn(|_| AtomicPtr::new(ptr::null_mut())),
            head: AtomicUsize::new(0),
            tail: AtomicUsize::new(0),
        }
    }

    /// Consumer only: keeps `block` if there is room, else gives it back.
    fn put(&self, block: *mut Block<T>) -> Result<(), *mut Block<T>> {
        // Relaxed: only the consumer writes `tail`.
        let tail = self.tail.load(Relaxed);
        // Acquire: pairs with the taker's release, so its read of the slot is done.
        if tail - self.head.load(Acquire) == SPARES {
            return Err(block);
        }
        // Relaxed: published by the release on `tail`.
        self.slots[tail % SPARES].store(block, Relaxed);
        // Release: pairs with the taker's acquire, publishing the slot and the reset block.
        self.tail.store(tail + 1, Release);
        Ok(())
    }

    /// The linking producer (one at a time, rule 4), or `Drop`: a spare block if there is one.
    fn take(&self) -> Option<*mut Block<T>> {
        // Acquire: the previous taker's release (ordered before us through the state word, but
        // a plain acquire here keeps the ring self-contained).
        let head = self.head.load(Acquire);
        // Acquire: pairs with the consumer's release in `put`.
        if head == self.tail.load(Acquire) {
            return None;
        }
        // Relaxed: ordered by the acquire of `tail`.
        let block = self.slots[head % SPARES].load(Relaxed);
        // Release: pairs with the consumer's acquire in `put`.
        self.head.store(head + 1, Release);
        Some(block)
    }
}
