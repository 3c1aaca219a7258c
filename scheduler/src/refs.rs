//! A task's counted reference to its runtime, without an atomic operation on a shared line per
//! spawn and per free.
//!
//! Every task keeps its runtime's [`Shared`] alive: a waker can wake it from any thread at any
//! time, even after the runtime was dropped, and the wake must find the queues (or see them
//! closed). An `Arc` clone per task does that with an atomic add at spawn and an atomic subtract
//! when the task is freed, both on the one cache line of the `Arc`'s count, which every worker
//! writes: in `spawn_many` (one task spawns 100,000 that the other worker steals and finishes)
//! that line moved between the cores twice per task, and a build with the count taken out ran
//! about a quarter faster.
//!
//! So the tasks' references are counted apart from the `Arc`, in [`TaskRefs`], and together they
//! hold *one* strong count of the `Arc` (the tasks' share), taken when the runtime is built:
//!
//! 1. `TaskRefs` starts at `ALIVE`, a base that the runtime's owner holds until it drops the
//!    `Runtime` ([`close`](TaskRefs::close)).
//! 2. A worker takes references [`BATCH`] at a time into its *bank* (a plain `Cell`) with one
//!    atomic add; a task spawned on it takes one from the bank. A task freed on a worker of its
//!    runtime gives its reference to that worker's bank; a bank that grows past two batches gives
//!    one batch back. A worker gives its whole bank back when it leaves its loop.
//! 3. A task freed anywhere else gives its reference back to `TaskRefs` directly.
//! 4. Whoever takes `TaskRefs` to zero releases the tasks' share of the `Arc` (which frees
//!    `Shared` if nothing else holds it). The count never leaves zero: a worker whose take finds
//!    zero (one still running after its runtime was dropped, its bank spent) gives its task a
//!    plain `Arc` clone instead. So the share is released exactly once, after every banked
//!    reference is back.
//!
//! Only a thread that holds its own `Arc` (a worker) takes from the count, as `Arc::clone`
//! requires; gives back are release operations and the last one acquires, as in `Arc`'s drop.
//! Loom model: `loom-tests/tests/scheduler_refs.rs`.

use std::ptr::NonNull;

use std::sync::Arc;

use crate::loom::{AtomicUsize, Ordering::*};
use crate::worker::Shared;

/// The owner's base count (rule 1): far above any number of references.
const ALIVE: usize = 1 << (usize::BITS - 2);

/// References a worker takes into its bank at a time (rule 2).
#[cfg(not(actor12_loom))]
pub(crate) const BATCH: usize = 256;
#[cfg(actor12_loom)]
pub(crate) const BATCH: usize = 1;

/// The tasks' references to their runtime, apart from the `Arc`'s own count.
#[derive(Debug)]
pub(crate) struct TaskRefs(AtomicUsize);

impl TaskRefs {
    pub(crate) fn new() -> TaskRefs {
        TaskRefs(AtomicUsize::new(ALIVE))
    }

    /// Takes `n` references; false once the count has reached zero, which is for good (rule 4).
    /// The caller holds an `Arc` of its own.
    pub(crate) fn take(&self, n: usize) -> bool {
        let mut count = self.0.load(Relaxed);
        loop {
            if count == 0 {
                return false;
            }
            // Relaxed, as in `Arc::clone`: the caller's own reference keeps `Shared` alive.
            match self.0.compare_exchange_weak(count, count + n, Relaxed, Relaxed) {
                Ok(_) => return true,
                Err(now) => count = now,
            }
        }
    }

    /// Gives `n` references back; true if they were the last, and the caller must then release
    /// the tasks' share ([`release_share`]).
    #[must_use]
    pub(crate) fn put(&self, n: usize) -> bool {
        // Release, and acquire by the last one, as in `Arc`'s drop: every use of `Shared` through
        // a reference given back happens before the share is released.
        if self.0.fetch_sub(n, Release) != n {
            return false;
        }
        // The Acquire: an acquire load of the count, not a fence, as `Arc` does under
        // ThreadSanitizer: the same edge (it reads the release sequence the droppers' decrements
        // form), at the cost of a load of a line this thread just wrote, once; and TSan, which
        // ignores fences, sees it (a TSan run reported each last drop as a race with the other
        // droppers' last use).
        self.0.load(Acquire);
        true
    }

    /// The owner gives its base back (rule 1); true if that was the last reference.
    #[must_use]
    pub(crate) fn close(&self) -> bool {
        self.put(ALIVE)
    }
}

/// Takes the tasks' share of `shared` (rule 4's strong count): called once, when it is built.
pub(crate) fn take_share(shared: &Arc<Shared>) {
    // SAFETY: `shared` is a live `Arc`; the count added is released by `release_share`.
    unsafe { Arc::increment_strong_count(Arc::as_ptr(shared)) };
}

/// Releases the tasks' share, after a `put` or `close` returned true.
///
/// # Safety
/// `shared` points to a `Shared` that is owned by an `Arc` and whose `TaskRefs` just reached
/// zero; this is the one release for that. `shared` may be freed by it.
pub(crate) unsafe fn release_share(shared: *const Shared) {
    // SAFETY: the caller guarantees the share is held, and released only here, once.
    unsafe { Arc::decrement_strong_count(shared) };
}

/// A task's reference to its runtime: from its worker's bank, or a plain `Arc` clone.
pub(crate) struct RuntimeRef {
    /// The runtime's shared state, its lowest bit set if the reference came from a bank (the
    /// state is word-aligned, so the bit is free): one word in every task and actor.
    tagged: NonNull<Shared>,
}

/// The tag bit of a banked reference.
const BANKED: usize = 1;
const _: () = assert!(align_of::<Shared>() > BANKED);

// SAFETY: a `RuntimeRef` is a counted shared reference to `Shared`, which is `Sync` and `Send`
// (its fields are atomics and locks), like the `Arc<Shared>` it stands for.
unsafe impl Send for RuntimeRef {}
// SAFETY: as above.
unsafe impl Sync for RuntimeRef {}

impl RuntimeRef {
    /// A reference for a task being spawned on this thread.
    pub(crate) fn new(shared: &Arc<Shared>) -> RuntimeRef {
        // `Arc::as_ptr`, not `&**shared`: a pointer made from the reference may only reach the
        // `Shared`, and the count this one is given to sits before it in the `Arc`'s block
        // (Miri's Stacked Borrows rejected the `Arc::increment_strong_count` on it).
        let ptr = NonNull::new(Arc::as_ptr(shared).cast_mut()).expect("an `Arc`'s pointer");
        // SAFETY: `shared` is a live `Arc`.
        unsafe { RuntimeRef::from_ptr(ptr) }
    }

    /// # Safety
    /// `shared` is owned by an `Arc` and the caller keeps it alive for the call.
    unsafe fn from_ptr(shared: NonNull<Shared>) -> RuntimeRef {
        let ptr = shared.as_ptr().cast_const();
        let banked = crate::context::with_core(|core| match core {
            Some(core) if std::ptr::eq(Arc::as_ptr(&core.shared), ptr) => core.take_ref(),
            _ => false,
        });
        if !banked {
            // SAFETY: the caller keeps the `Arc` alive; `Drop` gives the count back.
            unsafe { Arc::increment_strong_count(ptr) };
        }
        RuntimeRef { tagged: shared.map_addr(|a| a | usize::from(banked)) }
    }

    #[inline]
    fn shared(&self) -> NonNull<Shared> {
        self.tagged.map_addr(|a| {
            std::num::NonZeroUsize::new(a.get() & !BANKED).expect("a pointer to `Shared`")
        })
    }

    fn banked(&self) -> bool {
        self.tagged.addr().get() & BANKED != 0
    }

    /// An `Arc` of the runtime's shared state.
    pub(crate) fn to_arc(&self) -> Arc<Shared> {
        let ptr = self.shared().as_ptr().cast_const();
        // SAFETY: this reference keeps the `Arc`'s allocation alive; the count added is the new
        // `Arc`'s.
        unsafe {
            Arc::increment_strong_count(ptr);
            Arc::from_raw(ptr)
        }
    }
}

impl Clone for RuntimeRef {
    fn clone(&self) -> RuntimeRef {
        // SAFETY: this reference keeps the runtime's `Arc` alive.
        unsafe { RuntimeRef::from_ptr(self.shared()) }
    }
}

impl std::ops::Deref for RuntimeRef {
    type Target = Shared;

    #[inline]
    fn deref(&self) -> &Shared {
        // SAFETY: the reference this holds keeps `Shared` alive.
        unsafe { self.shared().as_ref() }
    }
}

impl Drop for RuntimeRef {
    fn drop(&mut self) {
        let ptr = self.shared().as_ptr().cast_const();
        if !self.banked() {
            // SAFETY: `new` added this count to the `Arc`.
            unsafe { Arc::decrement_strong_count(ptr) };
            return;
        }
        let kept = crate::context::with_core(|core| match core {
            Some(core) if std::ptr::eq(Arc::as_ptr(&core.shared), ptr) => {
                core.return_ref();
                true
            }
            _ => false,
        });
        if !kept && self.task_refs.put(1) {
            // SAFETY: the count just reached zero (rule 4): this is its one release.
            unsafe { release_share(ptr) };
        }
    }
}
