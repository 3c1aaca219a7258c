//! A block: a fixed run of message slots, the unit the list allocates and recycles.
//!
//! Each slot carries its own `ready` flag, written by its one producer with a release store. That
//! keeps a push to a single read-modify-write (the claim on the state word): publishing the value
//! is a plain store, not a `fetch_or` on a shared bitmap.

use std::mem::MaybeUninit;
use std::ptr;

use crate::loom::{AtomicBool, AtomicPtr, AtomicUsize, BLOCK_CAP, Ordering::*, UnsafeCell};

/// `released_at` before a producer has moved `block_tail` past the block.
const NOT_RELEASED: usize = usize::MAX;

pub(crate) struct Block<T> {
    /// The index of slot 0. Written only while the block is owned by one thread (new, or being
    /// recycled by the consumer) and published by the release CAS that links it into the list, so
    /// `Relaxed` accesses suffice.
    start: AtomicUsize,
    /// The following block, or null. Set once per life of the block, by CAS.
    next: AtomicPtr<Block<T>>,
    /// The state word's index as seen by the producer that moved `block_tail` past this block, or
    /// `NOT_RELEASED`. Every producer that may still walk this block claimed an index below it,
    /// so once the consumer has consumed up to it the block can be reused.
    released_at: AtomicUsize,
    slots: [Slot<T>; BLOCK_CAP],
}

struct Slot<T> {
    ready: AtomicBool,
    value: UnsafeCell<MaybeUninit<T>>,
}

impl<T> Block<T> {
    /// Allocates an empty block whose first slot is `start`.
    pub(crate) fn alloc(start: usize) -> *mut Block<T> {
        Box::into_raw(Box::new(Block {
            start: AtomicUsize::new(start),
            next: AtomicPtr::new(ptr::null_mut()),
            released_at: AtomicUsize::new(NOT_RELEASED),
            slots: std::array::from_fn(|_| Slot {
                ready: AtomicBool::new(false),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            }),
        }))
    }

    /// Frees a block. Values still in it are not dropped.
    ///
    /// # Safety
    /// `block` came from [`Block::alloc`], is not freed yet, and no other thread can reach it.
    pub(crate) unsafe fn free(block: *mut Block<T>) {
        // SAFETY: the caller guarantees the pointer is a live allocation from `Box::into_raw` that
        // nobody else can reach.
        drop(unsafe { Box::from_raw(block) });
    }

    pub(crate) fn start(&self) -> usize {
        // Relaxed: see the field's documentation.
        self.start.load(Relaxed)
    }

    /// The next block, or null.
    pub(crate) fn next(&self) -> *mut Block<T> {
        // Acquire: pairs with the release of `try_link`, so the next block's `start` and reset
        // slots are visible.
        self.next.load(Acquire)
    }

    /// Links `block` after this one if nothing is linked yet; otherwise returns what is.
    ///
    /// `block` must be exclusively owned by the caller; it becomes reachable on success.
    pub(crate) fn try_link(&self, block: *mut Block<T>) -> Result<(), *mut Block<T>> {
        // Release on success: publishes `block`'s start and empty slots. Acquire on failure: we
        // go on to read the block someone else linked.
        self.next.compare_exchange(ptr::null_mut(), block, AcqRel, Acquire).map(drop)
    }

    /// Re-targets an exclusively owned block at a new start index.
    pub(crate) fn set_start(&self, start: usize) {
        // Relaxed: the block is owned by this thread; `try_link` publishes the store.
        self.start.store(start, Relaxed);
    }

    /// Writes the value of slot `offset` and marks it ready.
    ///
    /// # Safety
    /// The caller claimed the index `start + offset` from the state word and so is the only
    /// writer of this slot in this life of the block.
    pub(crate) unsafe fn write(&self, offset: usize, value: T) {
        let slot = &self.slots[offset];
        // SAFETY: the caller owns the slot (see above); the consumer reads it only after it sees
        // `ready`, which is stored below.
        slot.value.with_mut(|p| unsafe { (*p).write(value) });
        // Release: pairs with the acquire in `take`, publishing the value.
        slot.ready.store(true, Release);
    }

    /// Moves the value out of slot `offset` if it is ready.
    ///
    /// # Safety
    /// Only the consumer calls this, at most once per slot per life of the block.
    pub(crate) unsafe fn take(&self, offset: usize) -> Option<T> {
        let slot = &self.slots[offset];
        // Acquire: pairs with the release in `write`.
        if !slot.ready.load(Acquire) {
            return None;
        }
        // SAFETY: `ready` says the producer finished writing; the consumer takes each slot once,
        // so the value is initialised and is read exactly once.
        Some(slot.value.with(|p| unsafe { (*p).assume_init_read() }))
    }

    /// Drops the value in slot `offset` if it was written and not taken.
    ///
    /// # Safety
    /// Called only while dropping the mailbox (no other thread exists), for slots the consumer
    /// never took.
    pub(crate) unsafe fn drop_unread(&self, offset: usize) {
        let slot = &self.slots[offset];
        if slot.ready.load(Relaxed) {
            // SAFETY: written (ready) and never taken (the caller's guarantee).
            slot.value.with_mut(|p| unsafe { (*p).assume_init_drop() });
        }
    }

    /// True when every slot has been written.
    pub(crate) fn is_final(&self) -> bool {
        // Relaxed: this only decides whether to try moving `block_tail`; what the consumer reads
        // is guarded by each slot's own acquire.
        self.slots.iter().all(|s| s.ready.load(Relaxed))
    }

    /// Records that `block_tail` moved past this block while the state word's index was
    /// `tail_index`.
    pub(crate) fn release(&self, tail_index: usize) {
        // Release: pairs with the acquire in `is_reclaimable`.
        self.released_at.store(tail_index, Release);
    }

    /// True if the consumer, having consumed every index below `head`, may reuse this block.
    pub(crate) fn is_reclaimable(&self, head: usize) -> bool {
        // Acquire: pairs with `release`.
        let at = self.released_at.load(Acquire);
        at != NOT_RELEASED && at <= head
    }

    /// Empties a reclaimed block so it can be linked again. The consumer owns it exclusively.
    pub(crate) fn reset(&self) {
        // Relaxed throughout: the block is unreachable by others until `try_link` publishes it.
        self.next.store(ptr::null_mut(), Relaxed);
        self.released_at.store(NOT_RELEASED, Relaxed);
        for slot in &self.slots {
            slot.ready.store(false, Relaxed);
        }
    }
}
