//! The lock-free list of blocks: producers claim and fill slots, the consumer drains and recycles.
//!
//! # Ground rules
//!
//! 1. A producer owns slot `i` once its claim on the state word returned index `i` (and no
//!    CLOSED). It finds the block for `i` by walking from `block_tail`, linking new blocks at the
//!    end when the list is too short, then writes the slot and sets its `ready` flag.
//! 2. `block_tail` only moves forward, and only past a block whose slots are all ready
//!    ([`Block::is_final`]). The producer that moves it reads the state word with an RMW
//!    ([`TailState::observe`]) and records that index in the block ([`Block::release`]). Either
//!    a producer's claim is ordered before that RMW (its index is below the recorded one), or it
//!    is ordered after it and, by acquire/release on the state word, sees the moved
//!    `block_tail` and never enters the block. So every producer that can still touch a released
//!    block holds an index below `released_at`.
//! 3. The consumer reuses a block only when it is released and every index below `released_at`
//!    has been consumed: by then every producer that could touch it has finished (its `ready`
//!    store was the last thing it did there, and the consumer acquired it).
//! 4. Reused blocks are reset by the consumer while no one else can reach them, then linked at
//!    the end of the list with a release CAS. Only when three attempts to link lose races is a
//!    block freed; in steady state nothing is allocated or freed.
//! 5. The very first block is allocated by the first producer (mailboxes that never receive a
//!    message hold no block) and is recorded in `first`, the root the consumer and `Drop` start
//!    from.

use std::ptr;

use crate::block::Block;
use crate::loom::{AtomicPtr, BLOCK_CAP, Ordering::*};
use crate::state::TailState;

/// The producers' side: the state word and the way to the last block.
pub(crate) struct Tx<T> {
    pub(crate) state: TailState,
    /// A block at or before the one holding the next claimed index; null until the first block
    /// is linked.
    block_tail: AtomicPtr<Block<T>>,
    /// The first block ever linked, or null. Written once.
    first: AtomicPtr<Block<T>>,
}

/// The consumer's side. Lives in an `UnsafeCell`; only the consumer touches it.
pub(crate) struct Rx<T> {
    /// The block holding `index`, once the consumer has one.
    head: *mut Block<T>,
    /// The oldest block not yet recycled; blocks from here to `head` are consumed.
    free_head: *mut Block<T>,
    /// The next index to consume.
    pub(crate) index: usize,
    /// The block the consumer last linked at the end of the list, or null: where the next
    /// recycled block most likely goes. Never a recycled block (cleared when that one is).
    last_linked: *mut Block<T>,
}

/// How many empty blocks the list may hold beyond the one producers are filling. Recycled blocks
/// past this are freed, so a burst's memory is returned once it has been drained.
const SPARE_BLOCKS: usize = 4;

/// How far the consumer walks to find the end of the list before it frees a block instead.
const MAX_RECYCLE_HOPS: usize = 8;

fn block_start(index: usize) -> usize {
    index & !(BLOCK_CAP - 1)
}

impl<T> Tx<T> {
    pub(crate) fn new() -> Self {
        Tx {
            state: TailState::new(),
            block_tail: AtomicPtr::new(ptr::null_mut()),
            first: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Writes `value` into slot `index`.
    ///
    /// # Safety
    /// The caller owns slot `index` (rule 1).
    #[inline]
    pub(crate) unsafe fn write(&self, index: usize, value: T) {
        let block = self.find_block(index);
        // SAFETY: `find_block` returns the live block holding `index` (rules 2-3 keep it from being
        // recycled while we hold a claim below its `released_at`); the caller owns the slot.
        unsafe { (*block).write(index % BLOCK_CAP, value) }
    }

    fn find_block(&self, index: usize) -> *mut Block<T> {
        let start = block_start(index);
        let offset = index % BLOCK_CAP;
        // Acquire: pairs with the release CAS that moved `block_tail`, making the block's fields
        // visible.
        let mut block = self.block_tail.load(Acquire);
        if block.is_null() {
            block = self.first_block();
        }
        // SAFETY: blocks reachable from `block_tail` (or `first`) are live, and cannot be
        // recycled while this producer holds a claim (rules 2-3).
        let tail_start = unsafe { (*block).start() };
        let distance = start.wrapping_sub(tail_start) / BLOCK_CAP;
        // Only a producer whose slot lies further on than its offset tries to move `block_tail`:
        // the ones near the start of a block would mostly find the previous block still filling.
        let mut try_move_tail = distance > offset;
        loop {
            // SAFETY: see above.
            let b = unsafe { &*block };
            if b.start() == start {
                return block;
            }
            debug_assert!(
                start.wrapping_sub(b.start()) < usize::MAX / 2,
                "block list went past a claim"
            );
            let mut next = b.next();
            if next.is_null() {
                next = Self::grow(b);
            }
            if try_move_tail && b.is_final() {
                // Release: pairs with the acquire load above in other producers. Relaxed on
                // failure: someone else moved it, we stop trying.
                match self.block_tail.compare_exchange(block, next, Release, Relaxed) {
                    Ok(_) => b.release(self.state.observe().index()),
                    Err(_) => try_move_tail = false,
                }
            }
            block = next;
        }
    }

    /// The first block, allocating it if this is the first message ever.
    #[cold]
    fn first_block(&self) -> *mut Block<T> {
        // Acquire: pairs with the release CAS below.
        let first = self.first.load(Acquire);
        if !first.is_null() {
            return first;
        }
        let new = Block::alloc(0);
        // AcqRel: release publishes the block, acquire reads a competitor's.
        match self.first.compare_exchange(ptr::null_mut(), new, AcqRel, Acquire) {
            Ok(_) => {
                // Only the winner of `first` writes `block_tail` while it is null; everyone else
                // CASes it from a non-null value, so a plain store cannot lose a move. Release:
                // pairs with the acquire in `find_block`.
                self.block_tail.store(new, Release);
                new
            }
            Err(actual) => {
                // SAFETY: `new` was never published.
                unsafe { Block::free(new) };
                actual
            }
        }
    }

    /// Links a new block after `b` (or after whatever won the race to be there) and returns the
    /// block that follows `b`.
    #[cold]
    fn grow(b: &Block<T>) -> *mut Block<T> {
        let new = Block::<T>::alloc(b.start().wrapping_add(BLOCK_CAP));
        let mut after = match b.try_link(new) {
            Ok(()) => return new,
            Err(actual) => actual,
        };
        let next = after;
        // Someone else grew the list first. Rather than free our block, link it further on:
        // the list will need it soon.
        loop {
            // SAFETY: `after` is linked, so live (rule 2: it is at or after our block).
            let a = unsafe { &*after };
            // SAFETY: `new` is still ours alone.
            unsafe { (*new).set_start(a.start().wrapping_add(BLOCK_CAP)) };
            match a.try_link(new) {
                Ok(()) => return next,
                Err(actual) => after = actual,
            }
        }
    }
}

impl<T> Rx<T> {
    pub(crate) fn new() -> Self {
        Rx {
            head: ptr::null_mut(),
            free_head: ptr::null_mut(),
            index: 0,
            last_linked: ptr::null_mut(),
        }
    }

    /// Takes the value at `self.index` if it has been written, advancing the index.
    ///
    /// # Safety
    /// Only the consumer calls this, with the `Tx` of the same mailbox.
    #[inline]
    pub(crate) unsafe fn pop(&mut self, tx: &Tx<T>) -> Option<T> {
        let start = block_start(self.index);
        // SAFETY: `head` is live while the consumer has not recycled it, and it never recycles
        // `head` itself.
        if self.head.is_null() || unsafe { (*self.head).start() } != start {
            // SAFETY: forwarded from the caller.
            if !unsafe { self.advance(tx, start) } {
                return None;
            }
        }
        // SAFETY: `head` holds `index`; the consumer takes each slot once.
        let value = unsafe { (*self.head).take(self.index % BLOCK_CAP) }?;
        self.index = self.index.wrapping_add(1);
        Some(value)
    }

    /// Moves `head` to the block starting at `start`, recycling what it leaves behind. False if
    /// that block is not linked yet.
    #[cold]
    unsafe fn advance(&mut self, tx: &Tx<T>, start: usize) -> bool {
        if self.head.is_null() {
            // Acquire: pairs with the release CAS in `first_block`.
            let first = tx.first.load(Acquire);
            if first.is_null() {
                return false;
            }
            self.head = first;
            self.free_head = first;
        }
        loop {
            // SAFETY: `head` is live (see `pop`).
            let head = unsafe { &*self.head };
            if head.start() == start {
                break;
            }
            let next = head.next();
            if next.is_null() {
                return false;
            }
            self.head = next;
        }
        // SAFETY: forwarded.
        unsafe { self.reclaim(tx) };
        true
    }

    /// Recycles consumed blocks that no producer can still touch (rule 3).
    unsafe fn reclaim(&mut self, tx: &Tx<T>) {
        while self.free_head != self.head {
            // SAFETY: blocks from `free_head` to `head` are linked and not yet recycled.
            let block = unsafe { &*self.free_head };
            if !block.is_reclaimable(self.index) {
                return;
            }
            let next = block.next();
            let old = self.free_head;
            self.free_head = next;
            if old == self.last_linked {
                self.last_linked = ptr::null_mut();
            }
            block.reset();
            // SAFETY: released and fully consumed, so no producer can reach it (rule 3).
            unsafe { self.recycle(tx, old) };
        }
    }

    /// Links a consumed, reset block at the end of the list, or frees it if the list already
    /// holds enough spare blocks or its end is far away.
    ///
    /// # Safety
    /// `block` is unreachable by anyone else (rule 3).
    unsafe fn recycle(&mut self, tx: &Tx<T>, block: *mut Block<T>) {
        let filling = block_start(tx.state.load().index());
        let mut curr = if self.last_linked.is_null() {
            // Acquire: as in `find_block`. Non-null: a block was released, so it moved.
            tx.block_tail.load(Acquire)
        } else {
            self.last_linked
        };
        for _ in 0..MAX_RECYCLE_HOPS {
            // SAFETY: `curr` is linked and not recycled (`block_tail` never points at a released
            // block; `last_linked` is cleared when its block is recycled), so it is live.
            let c = unsafe { &*curr };
            let ahead = c.start().wrapping_sub(filling) as isize;
            if ahead >= (SPARE_BLOCKS * BLOCK_CAP) as isize {
                break;
            }
            // SAFETY: `block` is ours alone until linked.
            unsafe { (*block).set_start(c.start().wrapping_add(BLOCK_CAP)) };
            match c.try_link(block) {
                Ok(()) => {
                    self.last_linked = block;
                    return;
                }
                Err(next) => curr = next,
            }
        }
        // SAFETY: not linked, so still ours alone.
        unsafe { Block::free(block) };
    }

    /// Drops every written, unread value and frees every block.
    ///
    /// # Safety
    /// Called once, from the mailbox's `Drop`, when no other thread can touch the list.
    pub(crate) unsafe fn drop_all(&mut self, tx: &Tx<T>) {
        let mut block =
            if self.free_head.is_null() { tx.first.load(Relaxed) } else { self.free_head };
        while !block.is_null() {
            // SAFETY: every block is reachable exactly once from the root; we own them all now.
            let b = unsafe { &*block };
            let start = b.start();
            for offset in 0..BLOCK_CAP {
                if start.wrapping_add(offset).wrapping_sub(self.index) < usize::MAX / 2 {
                    // SAFETY: at or past the consumer's index, so never taken.
                    unsafe { b.drop_unread(offset) };
                }
            }
            let next = b.next();
            // SAFETY: reached once, freed once.
            unsafe { Block::free(block) };
            block = next;
        }
    }
}
