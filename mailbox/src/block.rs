//! A block: a fixed run of message slots, the unit the list links, recycles and frees.
//!
//! Each slot has its own `ready` flag, written by its one producer with a release store: a push
//! is a single read-modify-write (the claim on the state word) plus plain stores. The flags lie
//! together, apart from the values, so a slot is the message's size.

use std::mem::MaybeUninit;
use std::ptr;

use crate::loom::{AtomicBool, AtomicPtr, BLOCK_CAP, Ordering::*, UnsafeCell};

pub(crate) struct Block<T> {
    /// The following block, or null until the producer that claims this block's last slot links
    /// it (before writing that slot).
    next: AtomicPtr<Block<T>>,
    /// Slot `i` is written when `ready[i]` is set. Apart from the values, so that a slot takes
    /// the value's own size: a flag beside an 8-byte value was padded to 8 bytes, doubling it.
    ready: [AtomicBool; BLOCK_CAP],
    slots: [UnsafeCell<MaybeUninit<T>>; BLOCK_CAP],
}

impl<T> Block<T> {
    /// Allocates an empty block, written in place: a block built on the stack and moved into
    /// its box (which debug builds do not elide) is 31 messages large, and a message of a few
    /// KiB overflowed the stack.
    pub(crate) fn alloc() -> *mut Block<T> {
        let mut block = Box::<Block<T>>::new_uninit();
        let p = block.as_mut_ptr();
        // SAFETY: `p` points at the box's memory, sized and aligned for a `Block<T>`; each field
        // is written once, through raw pointers (no reference to uninitialised memory), and
        // `assume_init` comes after every field is written.
        unsafe {
            (&raw mut (*p).next).write(AtomicPtr::new(ptr::null_mut()));
            let ready = (&raw mut (*p).ready).cast::<AtomicBool>();
            let slots = (&raw mut (*p).slots).cast::<UnsafeCell<MaybeUninit<T>>>();
            for i in 0..BLOCK_CAP {
                ready.add(i).write(AtomicBool::new(false));
                slots.add(i).write(UnsafeCell::new(MaybeUninit::uninit()));
            }
            Box::into_raw(block.assume_init())
        }
    }

    /// Frees a block. Values still in it are not dropped.
    ///
    /// # Safety
    /// `block` came from [`Block::alloc`], is not freed yet, and no other thread can reach it.
    pub(crate) unsafe fn free(block: *mut Block<T>) {
        // SAFETY: the caller guarantees a live allocation from `Box::into_raw` nobody else reaches.
        drop(unsafe { Box::from_raw(block) });
    }

    /// The size of one slot: the message's (its ready flag lies apart).
    pub(crate) fn slot_size() -> usize {
        std::mem::size_of::<T>().max(1)
    }

    /// The next block, or null.
    pub(crate) fn next(&self) -> *mut Block<T> {
        // Acquire: pairs with the release in `set_next`.
        self.next.load(Acquire)
    }

    /// Links the block that follows. Called once per life of the block, by the producer that
    /// claimed its last slot, before that producer writes the slot.
    pub(crate) fn set_next(&self, next: *mut Block<T>) {
        // Release: the consumer loads `next` after it acquired the last slot's `ready`, which is
        // stored after this; and a direct acquire of `next` sees the block's reset state.
        self.next.store(next, Release);
    }

    /// Writes the value of slot `offset` and marks it ready.
    ///
    /// # Safety
    /// The caller claimed this slot from the state word and so is its only writer in this life of
    /// the block.
    ///
    /// Forced inline: once a send's poll also spent the cooperative budget, LLVM left this out
    /// of line (callgrind, envelope-style ring, `--quick --workers 1`: 55,788,619 -> 54,174,161
    /// instructions for the run with it inline).
    #[inline(always)]
    pub(crate) unsafe fn write(&self, offset: usize, value: T) {
        // SAFETY: the caller owns the slot; the consumer reads it only after seeing `ready`.
        self.slots[offset].with_mut(|p| unsafe { (*p).write(value) });
        // Release: pairs with the acquire in `take`, publishing the value.
        self.ready[offset].store(true, Release);
    }

    /// Moves the value out of slot `offset` if it is ready: `take` gets a pointer to it and
    /// reads it once (into a value, or by a copy to a place of the caller's).
    ///
    /// # Safety
    /// Only the consumer calls this, at most once per slot per life of the block; `take` reads
    /// the value once, and nothing else reads it.
    #[inline(always)]
    pub(crate) unsafe fn take<R>(
        &self,
        offset: usize,
        take: impl FnOnce(*const T) -> R,
    ) -> Option<R> {
        // Acquire: pairs with the release in `write`.
        if !self.ready[offset].load(Acquire) {
            return None;
        }
        // `ready` says the producer finished writing; the consumer takes each slot once.
        Some(self.slots[offset].with(|p| take(p.cast::<T>())))
    }

    /// True if slot `offset` has been written. A hint: `take` re-checks with acquire.
    pub(crate) fn is_ready(&self, offset: usize) -> bool {
        // Relaxed: only decides whether to call `take`, which acquires.
        self.ready[offset].load(Relaxed)
    }

    /// Drops the value in slot `offset` if it was written and not taken.
    ///
    /// # Safety
    /// Called only while dropping the mailbox, for slots the consumer never took.
    pub(crate) unsafe fn drop_unread(&self, offset: usize) {
        // Relaxed: `&mut` access to the mailbox; no other thread exists.
        if self.ready[offset].load(Relaxed) {
            // SAFETY: written (ready) and never taken (the caller's guarantee).
            self.slots[offset].with_mut(|p| unsafe { (*p).assume_init_drop() });
        }
    }

    /// Empties a consumed block so it can be linked again. The consumer owns it exclusively.
    pub(crate) fn reset(&self) {
        // Relaxed throughout: the block is unreachable by others until the release that hands
        // it over (the spare ring, then `set_next`) publishes it.
        self.next.store(ptr::null_mut(), Relaxed);
        for ready in &self.ready {
            ready.store(false, Relaxed);
        }
    }
}
