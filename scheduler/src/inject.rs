//! The global queue (and each worker's queue of pinned tasks): a locked deque with a lock-free
//! length, so that empty checks cost one load.
//!
//! Spawns and wakes from outside the runtime, and local-queue overflow, land here. Once closed
//! (at shutdown) it refuses tasks: they are cancelled at once.

use std::collections::VecDeque;

use crate::loom::{AtomicUsize, Mutex, Ordering::*};
use crate::task::TaskRef;

struct Synced {
    queue: VecDeque<TaskRef>,
    closed: bool,
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
        // Release: pairs with the acquire in `len`, so a worker that sees the length also sees
        // the queue under the lock it is about to take.
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
        self.len.store(s.queue.len(), Release);
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
        self.len.store(s.queue.len(), Release);
        Some(first)
    }

    /// Refuses further tasks and cancels the queued ones (runtime shutdown).
    pub(crate) fn close(&self) {
        let drained: Vec<TaskRef> = {
            let mut s = self.synced.lock();
            s.closed = true;
            self.len.store(0, Release);
            s.queue.drain(..).collect()
        };
        // Outside the lock: cancelling runs destructors, which may wake (and so push) tasks.
        for task in drained {
            task.shutdown_queued();
        }
    }
}
