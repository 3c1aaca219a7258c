//! The runtime's task list: one reference to every live task, so that shutdown can cancel the
//! ones nobody will ever wake.
//!
//! An intrusive doubly linked list through `Header::owned`, split into shards by address so that
//! spawns on different workers rarely meet on one lock. A node is in a list iff it is the head of
//! its shard or its `prev` is set. Every field is touched only under the shard's lock.

use std::ptr::NonNull;

use super::{Header, TaskRef};
use crate::loom::Mutex;

/// Links of one task; see the module documentation.
#[derive(Debug)]
pub(crate) struct Pointers {
    prev: Option<NonNull<Header>>,
    next: Option<NonNull<Header>>,
}

impl Pointers {
    pub(crate) fn new() -> Pointers {
        Pointers { prev: None, next: None }
    }
}

struct Shard {
    head: Option<NonNull<Header>>,
    closed: bool,
    len: usize,
}

// SAFETY: the raw pointers are task references owned by the list; tasks are Send.
unsafe impl Send for Shard {}

const SHARDS: usize = 16;

pub(crate) struct OwnedTasks {
    shards: Box<[Mutex<Shard>]>,
}

impl std::fmt::Debug for OwnedTasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OwnedTasks").finish_non_exhaustive()
    }
}

fn shard_of(ptr: NonNull<Header>) -> usize {
    // Tasks are at least 64-byte aligned boxes in practice; mix the bits above that.
    let a = ptr.as_ptr() as usize;
    (a >> 6 ^ a >> 12) % SHARDS
}

/// # Safety
///
/// Called under the shard lock, with `ptr` a live task.
unsafe fn links<'a>(ptr: NonNull<Header>) -> &'a mut Pointers {
    // SAFETY: the caller holds the shard lock, which guards `owned`.
    unsafe { ptr.as_ref() }.owned.with_mut(|p| unsafe { &mut *p })
}

impl OwnedTasks {
    pub(crate) fn new() -> OwnedTasks {
        OwnedTasks {
            shards: (0..SHARDS)
                .map(|_| Mutex::new(Shard { head: None, closed: false, len: 0 }))
                .collect(),
        }
    }

    /// Adds a task, taking over `task`'s reference. Fails, giving it back, once the list is
    /// closed: the caller must then cancel the task.
    ///
    /// # Panics
    ///
    /// If the task is in this list already (linking it again would make a cycle).
    pub(crate) fn bind(&self, task: TaskRef) -> Result<(), TaskRef> {
        let ptr = task.as_ptr();
        let mut shard = self.shards[shard_of(ptr)].lock();
        if shard.closed {
            return Err(task);
        }
        // SAFETY: under the lock; `ptr` is live (we hold its reference). A task of this list is
        // in this shard (chosen by address): the head, or a node with `prev` set.
        let linked = shard.head == Some(ptr) || unsafe { links(ptr) }.prev.is_some();
        if linked {
            drop(shard);
            // The list keeps its own reference; this one is the caller's extra.
            drop(task);
            panic!("a task was bound to the runtime's task list twice");
        }
        let ptr = task.into_raw();
        // SAFETY: under the lock; `ptr` is live (we hold its reference) and in no list.
        unsafe {
            let l = links(ptr);
            l.prev = None;
            l.next = shard.head;
            if let Some(old) = shard.head {
                links(old).prev = Some(ptr);
            }
        }
        shard.head = Some(ptr);
        shard.len += 1;
        Ok(())
    }

    /// Removes a task if it is in the list, returning the list's reference.
    pub(crate) fn remove(&self, ptr: NonNull<Header>) -> Option<TaskRef> {
        let mut shard = self.shards[shard_of(ptr)].lock();
        // SAFETY: under the lock; the caller holds a reference, so `ptr` is live.
        unsafe {
            let l = links(ptr);
            if shard.head != Some(ptr) && l.prev.is_none() {
                return None;
            }
            let (prev, next) = (l.prev.take(), l.next.take());
            match prev {
                Some(p) => links(p).next = next,
                None => shard.head = next,
            }
            if let Some(n) = next {
                links(n).prev = prev;
            }
            shard.len -= 1;
            Some(TaskRef::from_raw(ptr))
        }
    }

    /// Closes the list (later binds fail) and cancels every task in it, each exactly once.
    pub(crate) fn close_and_shutdown_all(&self) {
        for shard in self.shards.iter() {
            shard.lock().closed = true;
        }
        for shard in self.shards.iter() {
            loop {
                let task = {
                    let mut s = shard.lock();
                    let Some(head) = s.head else { break };
                    // SAFETY: under the lock; `head` is live (the list holds a reference).
                    unsafe {
                        let l = links(head);
                        let next = l.next.take();
                        if let Some(n) = next {
                            links(n).prev = None;
                        }
                        s.head = next;
                        s.len -= 1;
                        TaskRef::from_raw(head)
                    }
                };
                // Outside the lock: cancelling runs destructors, which may spawn or complete
                // other tasks.
                task.shutdown_listed();
            }
        }
    }

    /// Live tasks (for tests and debugging).
    pub(crate) fn len(&self) -> usize {
        self.shards.iter().map(|s| s.lock().len).sum()
    }
}
