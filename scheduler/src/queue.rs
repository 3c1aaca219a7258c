//! A worker's local run queue: a fixed ring that its owner pushes and pops, and that other
//! workers steal half of.
//!
//! * `tail` is written only by the owner ([`Local`]); stealers read it with acquire.
//! * `head` packs two 32-bit indices, `(steal, real)`. `real` is where the next pop or steal
//!   starts; `steal` trails it while a steal is copying slots `steal..real` out. While
//!   `steal != real` no second stealer may start, and the owner must not overwrite those slots:
//!   its free space is `CAPACITY - (tail - steal)`.
//! * The owner pops with a CAS on `head` (stealers race it), claiming up to `POP_BATCH` tasks
//!   at once: it returns the first and moves the others out of the ring into a private array
//!   that the next pops empty without touching `head`. A stealer claims `n - n/2` tasks by
//!   moving `real` forward with one CAS, copies them into its own ring, then sets `steal = real`.
//!   Tasks in the private array cannot be stolen (at most `POP_BATCH - 1`, all due to run
//!   within the next few polls).
//! * A full ring moves half of itself, plus the new task, to the global queue in one batch, so
//!   that other workers see it.
//!
//! Indices are free-running `u32`s; slots are taken modulo the capacity.

use std::cell::Cell;
use std::mem::MaybeUninit;

use crate::inject::Inject;
use crate::loom::{
    Arc, AtomicU32, AtomicU64, LOCAL_QUEUE_CAPACITY, Ordering::*, POP_BATCH, UnsafeCell,
};
use crate::task::TaskRef;

const CAP: u32 = LOCAL_QUEUE_CAPACITY as u32;
const MASK: u32 = CAP - 1;

struct Inner {
    head: AtomicU64,
    tail: AtomicU32,
    buffer: Box<[UnsafeCell<MaybeUninit<TaskRef>>]>,
}

// SAFETY: slots are handed between threads by the head/tail protocol above; tasks are Send.
unsafe impl Send for Inner {}
// SAFETY: as above.
unsafe impl Sync for Inner {}

fn pack(steal: u32, real: u32) -> u64 {
    (steal as u64) << 32 | real as u64
}

fn unpack(v: u64) -> (u32, u32) {
    ((v >> 32) as u32, v as u32)
}

/// The owner's side. One per queue; it lives on the worker's thread.
pub(crate) struct Local {
    inner: Arc<Inner>,
    /// Tasks claimed by the last `pop`'s CAS and not yet returned: `claimed[next..end]`, oldest
    /// first. The cells also make `Local` not `Sync`: only the owner pushes and pops.
    claimed: [Cell<Option<TaskRef>>; POP_BATCH],
    next: Cell<usize>,
    end: Cell<usize>,
}

/// The stealers' side: any thread.
#[derive(Clone)]
pub(crate) struct Steal(Arc<Inner>);

impl std::fmt::Debug for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local").field("len", &self.inner.len()).finish()
    }
}

impl std::fmt::Debug for Steal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Steal").field("len", &self.0.len()).finish()
    }
}

/// A new empty queue.
pub(crate) fn local() -> (Local, Steal) {
    let buffer = (0..CAP).map(|_| UnsafeCell::new(MaybeUninit::uninit())).collect();
    let inner = Arc::new(Inner { head: AtomicU64::new(0), tail: AtomicU32::new(0), buffer });
    let claimed = std::array::from_fn(|_| Cell::new(None));
    let (next, end) = (Cell::new(0), Cell::new(0));
    (Local { inner: inner.clone(), claimed, next, end }, Steal(inner))
}

impl Inner {
    fn len(&self) -> u32 {
        // Acquire on both: pairs with the owner's release of `tail` and the CAS on `head`. The
        // result is a hint; callers re-check under the real protocol.
        let (_, real) = unpack(self.head.load(Acquire));
        self.tail.load(Acquire).wrapping_sub(real)
    }

    /// # Safety
    ///
    /// The caller owns slot `pos` under the protocol (it claimed it from `head`, or it is the
    /// owner writing at `tail` with free space).
    unsafe fn take(&self, pos: u32) -> TaskRef {
        // SAFETY: per the caller, the slot holds an initialised task nobody else reads.
        self.buffer[(pos & MASK) as usize].with(|p| unsafe { (*p).assume_init_read() })
    }

    /// # Safety
    ///
    /// As for `take`, for a free slot.
    unsafe fn put(&self, pos: u32, task: TaskRef) {
        // SAFETY: per the caller, nobody else touches this slot now.
        self.buffer[(pos & MASK) as usize].with_mut(|p| unsafe { (*p).write(task) });
    }
}

impl Local {
    /// Tasks in the queue (a snapshot), claimed ones included.
    pub(crate) fn len(&self) -> usize {
        self.inner.len() as usize + self.claimed_len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn claimed_len(&self) -> usize {
        self.end.get() - self.next.get()
    }

    /// Room left for `push_back` without overflow.
    pub(crate) fn remaining(&self) -> u32 {
        let (steal, _) = unpack(self.inner.head.load(Acquire));
        // Relaxed: only this thread writes `tail`.
        CAP - self.inner.tail.load(Relaxed).wrapping_sub(steal)
    }

    /// Pushes at the back; a full ring moves half of itself and `task` to `inject`.
    ///
    /// The push into a ring with room is inlined into the caller; the rest is out of line (as a
    /// call, the whole of it was about 40 instructions a push, most of them the call's register
    /// saves: callgrind, `peers/spawn_stop`, whose spawns and wakes each push one).
    #[inline]
    pub(crate) fn push_back_or_overflow(&self, task: TaskRef, inject: &Inject) {
        if let Err(task) = self.try_push_back(task) {
            self.push_back_slow(task, inject);
        }
    }

    /// Pushes at the back if the ring has room; hands `task` back otherwise.
    #[inline]
    fn try_push_back(&self, task: TaskRef) -> Result<(), TaskRef> {
        // Acquire: pairs with the stealer's release of `steal`, after which it no longer reads
        // the slots it freed.
        let (steal, _) = unpack(self.inner.head.load(Acquire));
        // Relaxed: only this thread writes `tail`.
        let tail = self.inner.tail.load(Relaxed);
        if tail.wrapping_sub(steal) >= CAP {
            return Err(task);
        }
        // SAFETY: slot `tail` is free: it is outside `steal..tail`, and only the owner writes at
        // the tail.
        unsafe { self.inner.put(tail, task) };
        // Release: pairs with the acquire of `tail` in `pop` and `steal_into`, publishing the
        // slot.
        self.inner.tail.store(tail.wrapping_add(1), Release);
        Ok(())
    }

    /// The ring was full at a look: overflow, or push after all if a stealer made room.
    #[cold]
    #[inline(never)]
    fn push_back_slow(&self, mut task: TaskRef, inject: &Inject) {
        loop {
            // Acquire: as in `try_push_back`.
            let (steal, real) = unpack(self.inner.head.load(Acquire));
            // Relaxed: only this thread writes `tail`.
            let tail = self.inner.tail.load(Relaxed);
            if tail.wrapping_sub(steal) < CAP {
                // A stealer made room since the last look.
                match self.try_push_back(task) {
                    Ok(()) => return,
                    Err(t) => task = t,
                }
                continue;
            }
            if steal != real {
                // A stealer is making room right now; do not wait for it.
                inject.push(task);
                return;
            }
            match self.push_overflow(task, real, tail, inject) {
                Ok(()) => return,
                // A stealer or... took tasks meanwhile; there is room now.
                Err(t) => task = t,
            }
        }
    }

    fn push_overflow(
        &self,
        task: TaskRef,
        head: u32,
        tail: u32,
        inject: &Inject,
    ) -> Result<(), TaskRef> {
        let half = CAP / 2;
        debug_assert_eq!(tail.wrapping_sub(head), CAP);
        // Claim the oldest half. AcqRel on success: acquire so the slots' writes are ours (we
        // wrote them, but stealers may have copied neighbours), release to order the claim before
        // we reuse the slots. Relaxed on failure: we only retry.
        let prev = pack(head, head);
        let next = pack(head.wrapping_add(half), head.wrapping_add(half));
        if self.inner.head.compare_exchange(prev, next, AcqRel, Relaxed).is_err() {
            return Err(task);
        }
        let mut batch = Vec::with_capacity(half as usize + 1);
        for i in 0..half {
            // SAFETY: the CAS gave us slots `head..head + half`.
            batch.push(unsafe { self.inner.take(head.wrapping_add(i)) });
        }
        batch.push(task);
        inject.push_batch(batch);
        Ok(())
    }

    /// Pops from the front: the tasks an earlier pop claimed first (they are older than
    /// anything in the ring), then a new claim of up to `POP_BATCH` from the ring.
    pub(crate) fn pop(&self) -> Option<TaskRef> {
        let next = self.next.get();
        if next < self.end.get() {
            self.next.set(next + 1);
            return self.claimed[next].take();
        }
        // Acquire: pairs with the CASes of stealers (and our own release of `tail` is program
        // order).
        let mut head = self.inner.head.load(Acquire);
        let (first, n) = loop {
            let (steal, real) = unpack(head);
            // Relaxed: only this thread writes `tail`.
            let avail = self.inner.tail.load(Relaxed).wrapping_sub(real);
            if avail == 0 {
                return None;
            }
            let n = avail.min(POP_BATCH as u32);
            let next_real = real.wrapping_add(n);
            let next =
                if steal == real { pack(next_real, next_real) } else { pack(steal, next_real) };
            // AcqRel: we race stealers for slots `real..real + n`; acquire pairs with their CAS,
            // release publishes that the slots are taken. Acquire on failure: we retry with a
            // fresh value.
            match self.inner.head.compare_exchange(head, next, AcqRel, Acquire) {
                Ok(_) => break (real, n),
                Err(actual) => head = actual,
            }
        };
        // Out of the ring at once: once `steal` has moved past them, our own pushes may reuse
        // these slots.
        for i in 1..n {
            // SAFETY: the CAS moved `real` past `first + i`: the slot is ours.
            let task = unsafe { self.inner.take(first.wrapping_add(i)) };
            self.claimed[i as usize].set(Some(task));
        }
        self.next.set(1);
        self.end.set(n as usize);
        // SAFETY: as above, for `first`.
        Some(unsafe { self.inner.take(first) })
    }
}

impl Steal {
    pub(crate) fn is_empty(&self) -> bool {
        self.0.len() == 0
    }

    /// Steals half of this queue into `dst` (the caller's own queue) and returns one of the
    /// stolen tasks to run now.
    pub(crate) fn steal_into(&self, dst: &Local) -> Option<TaskRef> {
        // Only steal into a queue that has room for a whole half.
        if dst.remaining() < CAP / 2 {
            return None;
        }
        // Relaxed: only the thread that owns `dst` (us) writes its tail.
        let dst_tail = dst.inner.tail.load(Relaxed);
        let mut n = self.steal_into2(dst, dst_tail);
        if n == 0 {
            return None;
        }
        n -= 1;
        // The last stolen task is returned, the others are published in `dst`.
        // SAFETY: we wrote slot `dst_tail + n` just now and it is not yet published.
        let ret = unsafe { dst.inner.take(dst_tail.wrapping_add(n)) };
        if n > 0 {
            // Release: pairs with the acquire of `tail` by pops and steals of `dst`.
            dst.inner.tail.store(dst_tail.wrapping_add(n), Release);
        }
        Some(ret)
    }

    fn steal_into2(&self, dst: &Local, dst_tail: u32) -> u32 {
        // Acquire: pairs with the owner's and other stealers' CASes on `head`.
        let mut prev = self.0.head.load(Acquire);
        let (first, n) = loop {
            let (steal, real) = unpack(prev);
            if steal != real {
                // Another stealer is busy with this queue.
                return 0;
            }
            // Acquire: pairs with the owner's release of `tail`, so the slots are written.
            let tail = self.0.tail.load(Acquire);
            let avail = tail.wrapping_sub(real);
            let n = avail - avail / 2;
            if n == 0 {
                return 0;
            }
            let next = pack(steal, real.wrapping_add(n));
            // AcqRel: claims slots `real..real + n` against the owner's pop (acquire: their
            // contents; release: our claim). Acquire on failure: we retry.
            match self.0.head.compare_exchange(prev, next, AcqRel, Acquire) {
                Ok(_) => break (real, n),
                Err(actual) => prev = actual,
            }
        };
        for i in 0..n {
            // SAFETY: the CAS gave us slots `first..first + n` of the source; the destination
            // slots from `dst_tail` are free (checked in `steal_into`) and only we write there.
            unsafe {
                let task = self.0.take(first.wrapping_add(i));
                dst.inner.put(dst_tail.wrapping_add(i), task);
            }
        }
        // Done copying: close the steal window, `steal = real`. The owner may have popped
        // meanwhile (moving `real`), so retry.
        let mut prev = self.0.head.load(Acquire);
        loop {
            let (_, real) = unpack(prev);
            // AcqRel: release pairs with the owner's acquire in `push_back_or_overflow`: we no
            // longer read the freed slots.
            match self.0.head.compare_exchange(prev, pack(real, real), AcqRel, Acquire) {
                Ok(_) => return n,
                Err(actual) => prev = actual,
            }
        }
    }
}

#[cfg(all(test, not(actor12_loom)))]
impl Steal {
    /// A stealer preempted right after its claim: the claim CAS of `steal_into` and nothing
    /// after it, so `steal != real` from then on.
    pub(crate) fn claim_and_stall(&self) -> u32 {
        let prev = self.0.head.load(Acquire);
        let (steal, real) = unpack(prev);
        assert_eq!(steal, real, "no steal in flight");
        let avail = self.0.tail.load(Acquire).wrapping_sub(real);
        let n = avail - avail / 2;
        let next = pack(steal, real.wrapping_add(n));
        self.0.head.compare_exchange(prev, next, AcqRel, Acquire).expect("no race in the test");
        n
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        // The owner drains what is left (runtime shutdown): drop each notification's reference.
        while let Some(task) = self.pop() {
            drop(task);
        }
    }
}
