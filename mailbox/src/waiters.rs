//! Producers waiting for room in a bounded mailbox, woken one at a time in arrival order.
//!
//! # Protocol
//!
//! A producer that finds the mailbox full registers under the lock (incrementing `count` and
//! setting the state word's WAITING bit), issues a `SeqCst` fence and tries again. The consumer
//! learns of it in one of two ways:
//!
//! * `Mailbox::pop` publishes its new head, issues a `SeqCst` fence and reads `count`. The two
//!   fences form a Dekker pair: either the producer's retry sees the freed slot, or the consumer
//!   sees the registration and wakes the first waiter.
//! * `Mailbox::pop_lazy` (an actor's run) publishes its head and reads `count` without a fence,
//!   so it may miss a registration in flight. The consumer then sees WAITING in the word its next
//!   idle transition swaps (`state.rs`): a run ends with one, or pops again, so a waiter is woken
//!   at the latest when the consumer stops for want of messages or of something else. Where the
//!   bit was set already (a producer woken and not yet in), a registration leaves the word as it
//!   was; the transition's wake-up then takes this lock, which a registration holds through its
//!   retry, so the waiter is either queued by then and woken, or retries after it and sees the
//!   room (`Mailbox::wake_flagged_waiter`).
//!
//! Admission is first come, first served. While anyone is queued or woken and not yet in, the
//! state word's WAITING bit is set and a new push is refused as if the mailbox were full
//! (`Tx::push_within`'s gate): the room a pop makes goes to the waiter it wakes. Only a woken
//! waiter, leaving a slot for each waiter woken with an earlier ticket, or the first in the
//! queue, leaving a slot for each woken one, takes room past the gate: a waiter woken with no
//! room for it (an idle transition's wake-up, for a WAITING bit that stood for one woken
//! already) and run first cannot take an earlier one's room. A woken waiter that still finds no
//! room (a push past the bound took it, or an earlier woken one's slot) goes back into the
//! queue at the place its ticket gives it (tickets are issued in arrival order), so waking
//! order is FIFO; a woken waiter that is dropped, or pushes past the bound instead, passes the
//! wake-up on. Closing wakes everyone; their retries find the mailbox closed and hand their
//! messages back.
//!
//! A queued waiter that may not take room does not try: a pop that missed its registration
//! made room that a woken waiter, or the first in the queue (which tries), is there to take, and
//! whichever of them gets in sends a message whose pop looks at the queue again.
//!
//! The queue is a `VecDeque` that keeps its capacity up to [`KEEP`] waiters, so waiting allocates
//! nothing once the queue has grown to the number of concurrent waiters; past that, a queue
//! drained to a quarter of its capacity shrinks, so that a peak of waiters does not keep its
//! memory for as long as the mailbox lives. It is boxed on the first wait: most mailboxes never
//! have a waiter, and every actor has a mailbox.

use std::collections::VecDeque;
use std::task::Waker;

/// Waiters' room a queue keeps whatever its length (1.5 KiB). Past it, a queue drained to a
/// quarter of its capacity shrinks to twice its length: each shrink copies half as many entries
/// as it frees room for, so linear in the waits, in all.
const KEEP: usize = 64;

use crate::loom::{AtomicUsize, Mutex, Ordering::*, fence};
use crate::state::TailState;

pub(crate) struct Waiters {
    /// Waiters in `queue`. Read without the lock by the consumer, behind a `SeqCst` fence.
    count: AtomicUsize,
    /// `None` until the first wait.
    list: Mutex<Option<Box<List>>>,
}

struct List {
    queue: VecDeque<(u64, Waker)>,
    next_id: u64,
    /// The tickets of waiters taken out of `queue` by a wake-up that have not yet got in, given
    /// up or queued again, sorted: the room they were woken for is theirs, the earliest
    /// ticket's first.
    woken: VecDeque<u64>,
}

impl List {
    /// Shrinks a queue drained to a quarter of its capacity, as [`KEEP`] says, and the woken
    /// tickets' list the same way.
    fn shrink_after_removal(&mut self) {
        let (len, capacity) = (self.queue.len(), self.queue.capacity());
        if capacity > KEEP && len <= capacity / 4 {
            self.queue.shrink_to((2 * len).max(KEEP));
        }
        let (len, capacity) = (self.woken.len(), self.woken.capacity());
        if capacity > KEEP && len <= capacity / 4 {
            self.woken.shrink_to((2 * len).max(KEEP));
        }
    }

    /// Marks ticket `id` as woken.
    fn add_woken(&mut self, id: u64) {
        let at = self.woken.partition_point(|&w| w < id);
        self.woken.insert(at, id);
    }

    /// Takes ticket `id` (woken) out of the woken ones; returns how many woken tickets are
    /// earlier than it: the slots it leaves to them.
    fn remove_woken(&mut self, id: u64) -> usize {
        let at = self.woken.partition_point(|&w| w < id);
        debug_assert_eq!(self.woken.get(at), Some(&id), "ticket {id} was not woken");
        self.woken.remove(at);
        self.shrink_after_removal();
        at
    }

    /// Where ticket `id` is queued: found by binary search, as the queue is sorted by ticket. A
    /// scan made every re-poll and every give-up cost as much as the waiters ahead of it, and
    /// thousands of senders giving up newest first took time quadratic in their number (40,000:
    /// 214-289 ms against 1.7 ms in arrival order; a review of 2026-12-05).
    fn position(&self, id: u64) -> Option<usize> {
        self.queue.binary_search_by_key(&id, |(i, _)| *i).ok()
    }
}

impl Waiters {
    pub(crate) fn new() -> Self {
        Waiters { count: AtomicUsize::new(0), list: Mutex::new(None) }
    }

    /// Queues the caller (or refreshes its waker), then calls `retry` once if the caller may
    /// take room now: `retry(reserved)` pushes past the admission gate, leaving `reserved`
    /// slots free. `state` is the mailbox's state word, whose WAITING bit says whether anyone
    /// is queued or woken.
    ///
    /// `entry` is the caller's ticket: `None` before it first waited, `Some(id)` after. A caller
    /// whose ticket is no longer queued was woken: it is queued again in its ticket's place (the
    /// queue is sorted by ticket) and tries, leaving a slot for each waiter woken with an earlier
    /// ticket. A caller still queued tries only if it is the first, and leaves a slot for each
    /// woken waiter. If `retry` returns
    /// `Some`, the caller is dequeued and its ticket cleared.
    pub(crate) fn wait<R>(
        &self,
        state: &TailState,
        entry: &mut Option<u64>,
        waker: &Waker,
        retry: impl FnOnce(usize) -> Option<R>,
    ) -> Option<R> {
        // Wakers this call takes out of the list: dropped after the lock (declared before the
        // guard, so dropped after it). A waker's drop is its executor's code, which may drop
        // the actor's last link, whose close takes this lock again: under it, the thread
        // deadlocked on itself (a review of 2026-12-07).
        let mut out_of_lock: [Option<Waker>; 2] = [None, None];
        let mut guard = self.list.lock();
        let list = guard.get_or_insert_with(|| {
            Box::new(List { queue: VecDeque::new(), next_id: 0, woken: VecDeque::new() })
        });
        let queued = entry.and_then(|id| list.position(id));
        let (id, turn) = match (queued, *entry) {
            (Some(at), Some(id)) => {
                let w = &mut list.queue[at].1;
                if !w.will_wake(waker) {
                    out_of_lock[0] = Some(std::mem::replace(w, waker.clone()));
                }
                (id, (at == 0).then_some(list.woken.len()))
            }
            (_, woken) => {
                // Cloned before anything changes: a clone that panics leaves the counts as they
                // were, for the future's drop to settle.
                let waker = waker.clone();
                let (id, earlier_woken) = match woken {
                    Some(id) => {
                        // Woken: queue again in our turn before trying, so that a try that
                        // finds no room leaves us queued. Tickets are handed out in arrival
                        // order and the queue is kept sorted by them, so the place of our old
                        // ticket is our turn, ahead of later arrivals and behind any earlier
                        // waiter that was woken and found no room too.
                        let earlier = list.remove_woken(id);
                        let at = list.queue.partition_point(|(i, _)| *i < id);
                        list.queue.insert(at, (id, waker));
                        (id, Some(earlier))
                    }
                    None => {
                        let id = list.next_id;
                        list.next_id += 1;
                        list.queue.push_back((id, waker));
                        *entry = Some(id);
                        (id, None)
                    }
                };
                // Relaxed: ordered before the retry's reads by the fence below.
                self.count.fetch_add(1, Relaxed);
                state.flag_waiting();
                // A woken waiter leaves a slot to each one woken before it with an earlier
                // ticket: a wake-up with no room for it (an idle transition's, for a WAITING
                // bit that stood for a waiter woken already) made a later waiter, run first
                // (a LIFO slot), take the room an earlier one was woken for, every round (a
                // review of 2026-12-07: one sender overtaken by 137 messages of 4 others).
                let first = list.queue.len() == 1;
                (id, earlier_woken.or_else(|| first.then_some(list.woken.len())))
            }
        };
        // `None`: not our turn. A woken waiter takes room beyond the slots of those woken with
        // earlier tickets; the first in line only room beyond every woken waiter's slot (so
        // that one woken and then forgotten, never polled nor dropped, keeps one slot for good,
        // as a leaked permit does in tokio's channel).
        let reserved = turn?;
        // SeqCst: pairs with the fence in `Mailbox::pop` (see the module documentation).
        fence(SeqCst);
        let done = retry(reserved)?;
        *entry = None;
        out_of_lock[1] = self.dequeue(state, list, id);
        Some(done)
    }

    /// True if some producer may be waiting. Exact only if the caller has issued a `SeqCst`
    /// fence since it made room; without one it may miss a registration in flight.
    #[inline]
    pub(crate) fn any(&self) -> bool {
        // Relaxed: ordered by the caller's fence, if any.
        self.count.load(Relaxed) != 0
    }

    /// Wakes the first waiter, if any. It counts as woken until it gets in, gives up or queues
    /// again, and the WAITING bit stays set meanwhile.
    pub(crate) fn wake_one(&self) {
        let mut guard = self.list.lock();
        let Some(list) = guard.as_mut() else { return };
        let first = self.take_first(list);
        drop(guard);
        if let Some(waker) = first {
            wake(waker);
        }
    }

    /// Wakes every waiter.
    pub(crate) fn wake_all(&self) {
        let mut guard = self.list.lock();
        let Some(list) = guard.as_mut() else { return };
        let all = std::mem::take(&mut list.queue);
        list.woken.extend(all.iter().map(|(id, _)| *id));
        list.woken.make_contiguous().sort_unstable();
        self.count.store(0, Relaxed);
        drop(guard);
        for (_, waker) in all {
            wake(waker);
        }
    }

    /// A waiting producer gives up, or ends its wait another way (it pushed past the bound). If
    /// it had been woken, its wake-up goes to the next waiter: the first in line may have tried
    /// and found no room only because of the slot kept for this one (at capacity 1, every
    /// slot), and nothing else may wake it (a consumer that went idle meanwhile, with the word
    /// unchanged by that registration, has already looked at the queue).
    pub(crate) fn cancel(&self, state: &TailState, entry: Option<u64>) {
        let Some(id) = entry else { return };
        let mut guard = self.list.lock();
        // A ticket means the list exists: it was made by the wait that issued it.
        let Some(list) = guard.as_mut() else { return };
        if let Some(waker) = self.dequeue(state, list, id) {
            drop(guard);
            drop(waker); // outside the lock: see `wait`
            return;
        }
        list.remove_woken(id);
        let next = self.take_first(list);
        Self::settle(state, list);
        drop(guard);
        if let Some(waker) = next {
            wake(waker);
        }
    }

    /// Takes the first waiter out of the queue as woken; its waker is the caller's to wake, once
    /// the lock is released.
    fn take_first(&self, list: &mut List) -> Option<Waker> {
        let (id, waker) = list.queue.pop_front()?;
        list.shrink_after_removal();
        list.add_woken(id);
        // Relaxed: only a hint for the consumer, which re-checks under the lock.
        self.count.fetch_sub(1, Relaxed);
        Some(waker)
    }

    /// Takes waiter `id` out of the queue, if it is there; its waker is the caller's to drop,
    /// once the lock is released.
    fn dequeue(&self, state: &TailState, list: &mut List, id: u64) -> Option<Waker> {
        let pos = list.position(id)?;
        let (_, waker) = list.queue.remove(pos)?;
        list.shrink_after_removal();
        // Relaxed: as in `take_first`.
        self.count.fetch_sub(1, Relaxed);
        Self::settle(state, list);
        Some(waker)
    }

    /// Clears WAITING once nobody is queued or woken: new pushes may take room again.
    fn settle(state: &TailState, list: &List) {
        if list.queue.is_empty() && list.woken.is_empty() {
            state.clear_waiting();
        }
    }
}

/// Wakes a waiter. Its waker is its executor's code: a panic there is reported by the panic
/// hook and goes no further, so that it neither keeps the other waiters of a close waiting
/// nor unwinds out of the consumer's pop, which would lose the message it took.
fn wake(waker: Waker) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
}

#[cfg(all(test, not(actor12_loom)))]
mod tests {
    /// Every actor's mailbox has a `Waiters`: the queue is not in it until someone waits.
    #[test]
    fn an_empty_waiter_list_is_small() {
        assert!(std::mem::size_of::<super::Waiters>() <= 24);
    }
}
