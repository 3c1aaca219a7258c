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
//!   at the latest when the consumer stops for want of messages or of something else.
//!
//! A woken waiter that loses the freed slot to another producer goes back into the queue at the
//! place its ticket gives it (tickets are issued in arrival order), so waking order is FIFO; a
//! woken waiter that is dropped passes the wake-up on. Closing wakes everyone; their retries find
//! the mailbox closed and hand their messages back.
//!
//! The queue is a `VecDeque` that keeps its capacity, so waiting allocates nothing once the queue
//! has grown to the number of concurrent waiters. It is boxed on the first wait: most mailboxes
//! never have a waiter, and every actor has a mailbox.

use std::collections::VecDeque;
use std::task::Waker;

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
}

impl Waiters {
    pub(crate) fn new() -> Self {
        Waiters { count: AtomicUsize::new(0), list: Mutex::new(None) }
    }

    /// Queues the caller (or refreshes its waker), then calls `retry` once. `state` is the
    /// mailbox's state word, whose WAITING bit follows whether the queue is empty.
    ///
    /// `entry` is the caller's ticket: `None` before it first waited, `Some(id)` after. A caller
    /// whose ticket is no longer queued was woken, and is requeued in its ticket's place (the
    /// queue is sorted by ticket). If `retry` returns `Some`, the caller is dequeued and its
    /// ticket cleared.
    pub(crate) fn wait<R>(
        &self,
        state: &TailState,
        entry: &mut Option<u64>,
        waker: &Waker,
        retry: impl FnOnce() -> Option<R>,
    ) -> Option<R> {
        let mut guard = self.list.lock();
        let list =
            guard.get_or_insert_with(|| Box::new(List { queue: VecDeque::new(), next_id: 0 }));
        let queued = entry.and_then(|id| list.queue.iter_mut().find(|(i, _)| *i == id));
        match queued {
            Some((_, w)) => {
                if !w.will_wake(waker) {
                    *w = waker.clone();
                }
            }
            None => {
                if let Some(id) = *entry {
                    // Woken, then beaten to the slot: keep our turn. Tickets are handed out in
                    // arrival order and the queue is kept sorted by them, so the place of our
                    // old ticket is our turn, ahead of later arrivals and behind any earlier
                    // waiter that was woken and beaten too (the front would put us before it).
                    let at = list.queue.partition_point(|(i, _)| *i < id);
                    list.queue.insert(at, (id, waker.clone()));
                } else {
                    let id = list.next_id;
                    list.next_id += 1;
                    list.queue.push_back((id, waker.clone()));
                    *entry = Some(id);
                }
                // Relaxed: ordered before the retry's reads by the fence below.
                self.count.fetch_add(1, Relaxed);
                state.flag_waiting();
            }
        }
        // SeqCst: pairs with the fence in `Mailbox::pop` (see the module documentation).
        fence(SeqCst);
        let done = retry()?;
        if let Some(id) = entry.take() {
            self.dequeue(state, list, id);
        }
        Some(done)
    }

    /// True if some producer may be waiting. Exact only if the caller has issued a `SeqCst`
    /// fence since it made room; without one it may miss a registration in flight.
    pub(crate) fn any(&self) -> bool {
        // Relaxed: ordered by the caller's fence, if any.
        self.count.load(Relaxed) != 0
    }

    /// Wakes the first waiter, if any.
    pub(crate) fn wake_one(&self, state: &TailState) {
        let mut guard = self.list.lock();
        let Some(list) = guard.as_mut() else { return };
        let first = list.queue.pop_front();
        if first.is_some() {
            self.count.fetch_sub(1, Relaxed);
            if list.queue.is_empty() {
                state.clear_waiting();
            }
        }
        drop(guard);
        if let Some((_, waker)) = first {
            waker.wake();
        }
    }

    /// Wakes every waiter.
    pub(crate) fn wake_all(&self, state: &TailState) {
        let mut guard = self.list.lock();
        let Some(list) = guard.as_mut() else { return };
        let all = std::mem::take(&mut list.queue);
        if !all.is_empty() {
            self.count.store(0, Relaxed);
            state.clear_waiting();
        }
        drop(guard);
        for (_, waker) in all {
            // A panicking waker must not keep the rest waiting for ever (the panic hook has
            // reported it).
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| waker.wake()));
        }
    }

    /// A producer that was queued finished without needing its turn: leave the queue.
    pub(crate) fn cancel_quietly(&self, state: &TailState, entry: Option<u64>) {
        let Some(id) = entry else { return };
        if let Some(list) = self.list.lock().as_mut() {
            self.dequeue(state, list, id);
        }
    }

    /// A waiting producer gives up. If it had been woken, its wake-up goes to the next waiter.
    pub(crate) fn cancel(&self, state: &TailState, entry: Option<u64>) {
        let Some(id) = entry else { return };
        let mut guard = self.list.lock();
        // A ticket means the list exists: it was made by the wait that issued it.
        let Some(list) = guard.as_mut() else { return };
        if !self.dequeue(state, list, id) {
            drop(guard);
            self.wake_one(state);
        }
    }

    /// Takes ticket `id` out of the queue; false if it was not queued (it had been woken).
    fn dequeue(&self, state: &TailState, list: &mut List, id: u64) -> bool {
        let Some(pos) = list.queue.iter().position(|(i, _)| *i == id) else { return false };
        list.queue.remove(pos);
        // Relaxed: only a hint for the consumer, which re-checks under the lock.
        self.count.fetch_sub(1, Relaxed);
        if list.queue.is_empty() {
            state.clear_waiting();
        }
        true
    }
}

#[cfg(all(test, not(actor12_loom)))]
mod tests {
    /// Every actor's mailbox has a `Waiters`: the queue is not in it until someone waits.
    #[test]
    fn an_empty_waiter_list_is_small() {
        assert!(std::mem::size_of::<super::Waiters>() <= 24);
    }
}
