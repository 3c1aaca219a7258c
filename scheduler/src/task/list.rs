//! The runtime's task list: one reference to every live task, so that shutdown can cancel the
//! ones nobody will ever wake.
//!
//! Split into shards by address, so that spawns on different workers rarely meet on one lock.
//! Each shard is a slab: a vector of slots, each empty or holding one task's reference, and a
//! stack of the empty slots' indexes for reuse. A task records its slot's index in
//! `Header::owned` (`NONE` when it is in no list): removing it writes its own slot, not the
//! headers of two neighbouring tasks as a linked list would. Those neighbours' lines were cold
//! when a long-lived actor went (its neighbours spawned long before), and the write's miss held
//! up the unlock that follows it. Every slot, index and count is touched only under the shard's
//! lock.

use std::ptr::NonNull;

use super::{Header, TaskRef};
use crate::loom::Mutex;

/// `Header::owned` of a task in no list.
pub(crate) const NONE: u32 = u32::MAX;

/// Capacity a shard keeps whatever its length. Past it, a shard whose tasks fall to a quarter of
/// its capacity is compacted to twice their number, so that a burst of tasks does not hold its
/// slots (12 bytes a task: a slot and a free index) for the runtime's life, as it did in a
/// shard that never empties (a server's long-lived actors lie in every shard). Each compaction
/// moves at most half as many tasks as it frees slots: linear in the removals, in all.
const KEEP: usize = 256;

struct Shard {
    /// For each task in the shard, its reference at the index its header records.
    slots: Vec<Option<NonNull<Header>>>,
    /// Indexes of empty slots (below `slots.len()` until the list is closed).
    free: Vec<u32>,
    closed: bool,
    len: usize,
}

// SAFETY: the raw pointers are task references owned by the list; tasks are Send.
unsafe impl Send for Shard {}

const SHARDS: usize = 16;

/// A shard on cache lines of its own: spawns and frees that meet on no lock should not meet on a
/// line either. 128 bytes: Intel's cores fetch lines in adjacent pairs.
#[repr(align(128))]
struct Padded(Mutex<Shard>);

pub(crate) struct OwnedTasks {
    shards: Box<[Padded]>,
}

impl std::fmt::Debug for OwnedTasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedTasks").finish_non_exhaustive()
    }
}

fn shard_of(ptr: NonNull<Header>) -> usize {
    // Tasks spawned one after another lie a few hundred bytes apart: mixing the address bits
    // from 6 up with those from 12 up spreads them over the shards.
    let a = ptr.as_ptr() as usize;
    (a >> 6 ^ a >> 12) % SHARDS
}

/// The slot index recorded in `ptr`'s header.
///
/// # Safety
///
/// Called under `ptr`'s shard lock, with `ptr` a live task.
unsafe fn index<'a>(ptr: NonNull<Header>) -> &'a mut u32 {
    // SAFETY: the caller holds the shard lock, which guards `owned`.
    unsafe { ptr.as_ref() }.owned.with_mut(|p| unsafe { &mut *p })
}

impl Shard {
    /// Takes the task out of slot `i` (which holds one), marking it as in no list.
    ///
    /// # Safety
    ///
    /// Called under the shard's lock.
    unsafe fn take(&mut self, i: usize) -> TaskRef {
        let ptr = self.slots[i].take().expect("a listed task's slot holds it");
        // SAFETY: under the lock; the slot held the list's reference, so `ptr` is live.
        unsafe { *index(ptr) = NONE };
        self.len -= 1;
        if self.len == 0 {
            self.slots.clear();
            self.free.clear();
            if self.slots.capacity() > KEEP {
                self.slots.shrink_to(KEEP);
                self.free.shrink_to(KEEP);
            }
        } else {
            self.free.push(i as u32);
            if self.slots.capacity() > KEEP && self.len <= self.slots.capacity() / 4 {
                // SAFETY: under the lock (our caller's contract).
                unsafe { self.compact() };
            }
        }
        // SAFETY: the slot held the list's reference, which passes to the caller.
        unsafe { TaskRef::from_raw(ptr) }
    }

    /// Moves the listed tasks to the front of the slots, rewriting the index in each moved
    /// task's header, and gives back the room past twice their number (as [`KEEP`] says).
    ///
    /// # Safety
    ///
    /// Called under the shard's lock.
    unsafe fn compact(&mut self) {
        let mut to = 0;
        for from in 0..self.slots.len() {
            if let Some(ptr) = self.slots[from] {
                if from != to {
                    self.slots[to] = self.slots[from].take();
                    // SAFETY: under the lock; the slot holds the list's reference, so `ptr` is
                    // live.
                    unsafe { *index(ptr) = to as u32 };
                }
                to += 1;
            }
        }
        debug_assert_eq!(to, self.len, "the shard's count matches its slots");
        self.slots.truncate(to);
        self.free.clear();
        let keep = (2 * to).max(KEEP);
        self.slots.shrink_to(keep);
        self.free.shrink_to(keep);
    }
}

impl OwnedTasks {
    pub(crate) fn new() -> OwnedTasks {
        OwnedTasks {
            shards: (0..SHARDS)
                .map(|_| {
                    let shard =
                        Shard { slots: Vec::new(), free: Vec::new(), closed: false, len: 0 };
                    Padded(Mutex::new(shard))
                })
                .collect(),
        }
    }

    /// Adds a task, taking over `task`'s reference. Fails, giving it back, once the list is
    /// closed: the caller must then cancel the task.
    ///
    /// # Panics
    ///
    /// If the task is in this list already (listing it twice would cancel it twice).
    pub(crate) fn bind(&self, task: TaskRef) -> Result<(), TaskRef> {
        let ptr = task.as_ptr();
        let mut shard = self.shards[shard_of(ptr)].0.lock();
        if shard.closed {
            return Err(task);
        }
        // SAFETY: under the lock; `ptr` is live (we hold its reference). A task of this list is
        // in this shard (chosen by address).
        let index = unsafe { index(ptr) };
        if *index != NONE {
            drop(shard);
            // The list keeps its own reference; this one is the caller's extra.
            drop(task);
            panic!("a task was bound to the runtime's task list twice");
        }
        let ptr = Some(task.into_raw());
        let i = match shard.free.pop() {
            Some(i) => {
                shard.slots[i as usize] = ptr;
                i
            }
            None => {
                let i = u32::try_from(shard.slots.len())
                    .ok()
                    .filter(|&i| i != NONE)
                    .expect("more than 4 billion tasks in one shard of the task list");
                shard.slots.push(ptr);
                i
            }
        };
        *index = i;
        shard.len += 1;
        Ok(())
    }

    /// Removes a task if it is in the list, returning the list's reference.
    pub(crate) fn remove(&self, ptr: NonNull<Header>) -> Option<TaskRef> {
        let mut shard = self.shards[shard_of(ptr)].0.lock();
        // SAFETY: under the lock; the caller holds a reference, so `ptr` is live.
        let i = unsafe { *index(ptr) };
        if i == NONE {
            return None;
        }
        // SAFETY: under the lock; a listed task's slot holds it.
        Some(unsafe { shard.take(i as usize) })
    }

    /// Closes the list (later binds fail) and cancels every task in it, each exactly once.
    pub(crate) fn close_and_shutdown_all(&self) {
        for shard in self.shards.iter() {
            shard.0.lock().closed = true;
        }
        for shard in self.shards.iter() {
            loop {
                let task = {
                    let mut s = shard.0.lock();
                    // Empty slots at the end go (binds are refused now, so `free` is not
                    // used again), and the last slot left holds a task.
                    while s.slots.last().is_some_and(Option::is_none) {
                        s.slots.pop();
                    }
                    let Some(i) = s.slots.len().checked_sub(1) else { break };
                    // SAFETY: under the lock; slot `i` holds a task.
                    unsafe { s.take(i) }
                };
                // Outside the lock: cancelling runs destructors, which may spawn or complete
                // other tasks.
                task.shutdown_listed();
            }
        }
    }

    /// Live tasks (for tests and debugging).
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.0.lock().len).sum()
    }
}
