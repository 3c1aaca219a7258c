//! The global queue (and each worker's queue of pinned tasks): a locked deque with a lock-free
//! length, so that empty checks cost one load.
//!
//! Spawns and wakes from outside the runtime, and local-queue overflow, land here. Once closed
//! (at shutdown) it refuses tasks: they are cancelled at once. A queue that a burst made long
//! gives its memory back as it drains (see [`KEEP`]).

use std::collections::VecDeque;

use crate::loom::{AtomicUsize, Mutex, Ordering::*};
use crate::task::TaskRef;

/// Entries of capacity a queue keeps whatever its length: 8 KiB, as much as a worker's ring.
/// Past it, a queue drained to a quarter of its capacity shrinks to twice its length (so that a
/// burst of 100,000 spawns from outside does not leave a megabyte behind it for good); each
/// shrink copies half as many entries as it frees room for: linear in the pops, in all.
const KEEP: usize = 1024;

struct Synced {
    queue: VecDeque<TaskRef>,
    closed: bool,
}

impl Synced {
    /// The queue's length after a pop, shrinking the queue as [`KEEP`] says.
    fn len_after_pop(&mut self) -> usize {
        shrink_after_pop(&mut self.queue);
        self.queue.len()
    }
}

/// Shrinks a queue drained to a quarter of its capacity, as [`KEEP`] says (also the blocking
/// pool's queue of closures and a worker's queue of pinned tasks).
pub(crate) fn shrink_after_pop<T>(queue: &mut VecDeque<T>) {
    if let Some(to) = shrunk_capacity(queue.len(), queue.capacity(), KEEP) {
        queue.shrink_to(to);
    }
}

/// The rule of [`KEEP`] for any collection that keeps `keep` entries of room: the capacity to
/// shrink to, if one of `len` entries in `capacity` should shrink.
pub(crate) fn shrunk_capacity(len: usize, capacity: usize, keep: usize) -> Option<usize> {
    (capacity > keep && len <= capacity / 4).then(|| (2 * len).max(keep))
}

pub(crate) struct Inject {
    synced: Mutex<Synced>,
    /// Written under the lock; read without it as a hint.
    len: AtomicUsize,
}

impl std::fmt::Debug for Inject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inject").field("len", &self.len()).finish()
    }
}

impl Inject {
    pub(crate) fn new() -> Inject {
        Inject {
            synced: Mutex::new(Synced { queue: VecDeque::new(), closed: false }),
            len: AtomicUsize::new(0),
        }
    }

    /// Length hint. SeqCst-free Acquire: the parking protocol orders it with a fence (see
    /// `idle.rs`); it pairs with the release store in `push`.
    pub(crate) fn len(&self) -> usize {
        self.len.load(Acquire)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn push(&self, task: TaskRef) {
        let mut s = self.synced.lock();
        if s.closed {
            drop(s);
            task.shutdown_queued();
            return;
        }
        s.queue.push_back(task);
        // Release, paired with the acquire in `len`; the queue itself is read under the lock,
        // which orders it: the length is the lock-free look of `is_empty` (parking's re-check).
        self.len.store(s.queue.len(), Release);
    }

    pub(crate) fn push_batch(&self, batch: Vec<TaskRef>) {
        let mut s = self.synced.lock();
        if s.closed {
            drop(s);
            for task in batch {
                task.shutdown_queued();
            }
            return;
        }
        s.queue.extend(batch);
        // Release: as in `push`.
        self.len.store(s.queue.len(), Release);
    }

    pub(crate) fn pop(&self) -> Option<TaskRef> {
        if self.is_empty() {
            return None;
        }
        let mut s = self.synced.lock();
        let t = s.queue.pop_front();
        // Release: as in `push`.
        self.len.store(s.len_after_pop(), Release);
        t
    }

    /// Pops up to `max` tasks: the first to run now, the rest handed to `rest`.
    pub(crate) fn pop_n(&self, max: usize, mut rest: impl FnMut(TaskRef)) -> Option<TaskRef> {
        if self.is_empty() {
            return None;
        }
        let mut s = self.synced.lock();
        let first = s.queue.pop_front()?;
        for _ in 1..max {
            match s.queue.pop_front() {
                Some(t) => rest(t),
                None => break,
            }
        }
        // Release: as in `push`.
        self.len.store(s.len_after_pop(), Release);
        Some(first)
    }

    /// Moves every queued task to the back of `to`, oldest first.
    pub(crate) fn drain_into(&self, to: &mut VecDeque<TaskRef>) {
        if self.is_empty() {
            return;
        }
        let mut s = self.synced.lock();
        to.extend(s.queue.drain(..));
        // Release: as in `push`.
        self.len.store(s.len_after_pop(), Release);
    }

    /// Refuses further tasks and cancels the queued ones (runtime shutdown).
    pub(crate) fn close(&self) {
        let drained = {
            let mut s = self.synced.lock();
            s.closed = true;
            self.len.store(0, Release);
            std::mem::take(&mut s.queue)
        };
        // Outside the lock: cancelling runs destructors, which may wake (and so push) tasks.
        for task in drained {
            task.shutdown_queued();
        }
    }
}

#[cfg(all(test, not(actor12_loom)))]
mod tests {
    use super::*;
    use crate::task::bare_task;

    fn capacity(inject: &Inject) -> usize {
        inject.synced.lock().queue.capacity()
    }

    /// Review finding (memory under churn): after a burst of 100,000 spawns from outside, the
    /// queue kept its peak capacity, a megabyte, for as long as the runtime lived.
    #[test]
    fn a_drained_burst_gives_its_memory_back() {
        let inject = Inject::new();
        for _ in 0..100_000 {
            inject.push(bare_task());
        }
        assert!(capacity(&inject) >= 100_000);
        // Half taken one at a time, the rest in a worker's shares: both pops shrink.
        for _ in 0..50_000 {
            drop(inject.pop().expect("queued"));
        }
        assert!(capacity(&inject) >= 50_000, "the queue is still half full");
        while inject.pop_n(128, drop).is_some() {}
        assert_eq!(inject.len(), 0);
        assert!(capacity(&inject) <= KEEP, "capacity {} after the burst", capacity(&inject));
        // Within the kept capacity, nothing shrinks or grows: a steady trickle allocates nothing.
        for _ in 0..KEEP {
            inject.push(bare_task());
        }
        while inject.pop_n(7, drop).is_some() {}
        assert_eq!(capacity(&inject), KEEP);
    }
}
