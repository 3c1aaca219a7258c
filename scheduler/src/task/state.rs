//! The task state word: lifecycle flags and the reference count in one `AtomicUsize`.
//!
//! ```text
//!  usize bits:  [ reference count | JOIN_WAKER | SHUTDOWN | CANCELLED | JOIN_INTEREST | NOTIFIED | COMPLETE | RUNNING ]
//!                 bits 7..          bit 6        bit 5      bit 4       bit 3           bit 2      bit 1      bit 0
//! ```
//!
//! * **RUNNING**: someone owns the future right now: a worker polling it, or a thread cancelling
//!   it. Only the RUNNING holder touches the future or writes the output.
//! * **COMPLETE**: the output (or the cancellation error) is stored; the future is gone. Terminal.
//! * **NOTIFIED**: a wake-up is pending. While the task is idle, NOTIFIED means that exactly one
//!   reference to the task sits in a run queue; while it runs, NOTIFIED means "poll again", and the
//!   poller reschedules it itself. A wake that finds NOTIFIED already set does nothing: this is the
//!   exactly-once-enqueue rule.
//! * **JOIN_INTEREST**: a `JoinHandle` exists. Whoever clears it or sets COMPLETE second drops the
//!   output (see [`State::transition_to_join_handle_dropped`] and [`State::transition_to_complete`]).
//! * **CANCELLED**: `abort()` or runtime shutdown asked the task to stop. The holder of RUNNING
//!   drops the future instead of polling it again.
//! * **SHUTDOWN**: the runtime called the vtable's `shutdown` for this task already
//!   ([`State::claim_shutdown`]); it does so at most once per task, for every kind of task
//!   (future tasks and bare ones such as actors). `JoinHandle::abort` does not use it.
//! * **JOIN_WAKER**: the join handle's waker is stored in the task, and the handle gives up the
//!   slot to the completer: while it is set, only the completer may use the waker, and only after
//!   COMPLETE (to wake it). While it is clear, the slot is the join handle's, except that after
//!   COMPLETE it is also the handle's to drop. The completer clears it once it has woken the
//!   waker ([`State::unset_waker_after_complete`]); if the handle went away meanwhile, the
//!   completer drops the waker. So storing and waking the join waker costs no lock.
//! * **reference count**: one reference per owner: the runtime's task list, each queued
//!   notification, the `JoinHandle`, each `Waker`. The last one frees the memory.
//!
//! No code outside this file does bit arithmetic on the word: reads return a [`Snapshot`], writes
//! are named transitions.

use crate::loom::{AtomicUsize, Ordering::*};

const RUNNING: usize = 1;
const COMPLETE: usize = 1 << 1;
const NOTIFIED: usize = 1 << 2;
const JOIN_INTEREST: usize = 1 << 3;
const CANCELLED: usize = 1 << 4;
const SHUTDOWN: usize = 1 << 5;
const JOIN_WAKER: usize = 1 << 6;
const REF_ONE: usize = 1 << 7;
const REF_MASK: usize = !(REF_ONE - 1);

/// What a wake sets on an idle task: NOTIFIED for a plain queue entry, RUNNING for an entry that
/// holds it (`task/mod.rs` rule 7).
fn idle_wake_bit(hold: bool) -> usize {
    if hold { RUNNING } else { NOTIFIED }
}

/// A value read from the state word.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    pub(crate) fn has_join_interest(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        (self.0 & REF_MASK) / REF_ONE
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("join_interest", &self.has_join_interest())
            .field("cancelled", &self.is_cancelled())
            .field("join_waker", &self.is_join_waker_set())
            .field("refs", &self.ref_count())
            .finish()
    }
}

/// What [`State::transition_to_running`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToRunning {
    /// The caller now holds RUNNING and polls the future.
    Poll,
    /// The caller now holds RUNNING, but the task was cancelled: drop the future.
    Cancel,
    /// Someone else holds RUNNING, or the task is complete: just drop the notification.
    Skip,
}

/// What [`State::transition_to_idle`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ToIdle {
    /// RUNNING released; nobody woke the task meanwhile.
    Idle,
    /// RUNNING released, but a wake came during the poll: reschedule the task.
    Notified,
    /// RUNNING kept: the task was cancelled during the poll; drop the future now.
    Cancelled,
}

/// What [`State::transition_to_notified`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Notify {
    /// The task was idle: NOTIFIED set and one reference added; the caller must submit that
    /// reference to a run queue.
    Submit,
    /// Already notified, running (the runner will see NOTIFIED) or complete.
    Nothing,
}

/// What [`State::transition_to_notified_by_val`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotifyByVal {
    /// The task was idle: NOTIFIED set; the waker's reference becomes the queue's.
    Submit,
    /// Nothing to queue; the waker's reference was dropped and others remain.
    Nothing,
    /// Nothing to queue, and the waker's reference was the last: free the task.
    Dealloc,
}

/// The state word. See the module documentation for the protocol.
pub(crate) struct State(AtomicUsize);

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.load().fmt(f)
    }
}

impl State {
    /// A new future task: notified (its first queue entry exists), a join handle, `refs`
    /// references.
    pub(crate) fn new_task(refs: usize) -> State {
        State(AtomicUsize::new(NOTIFIED | JOIN_INTEREST | (refs * REF_ONE)))
    }

    /// A bare word with `refs` references and no flags, for other kinds of scheduled units.
    pub(crate) fn new_bare(refs: usize) -> State {
        State(AtomicUsize::new(refs * REF_ONE))
    }

    /// Acquire: pairs with the release of every transition below, so a reader that sees COMPLETE
    /// also sees the output written before it.
    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Acquire))
    }

    fn update<R>(&self, mut f: impl FnMut(usize) -> (Option<usize>, R)) -> R {
        // Acquire, as the CAS's failure: a transition that `f` refuses (the task completed, say)
        // returns on this read alone, and its caller may then take what the last owner wrote.
        let mut cur = self.0.load(Acquire);
        loop {
            let (next, r) = f(cur);
            let Some(next) = next else { return r };
            // AcqRel: every transition hands the future (or output) from one owner to the next;
            // acquire takes what the previous owner wrote, release publishes ours.
            match self.0.compare_exchange_weak(cur, next, AcqRel, Acquire) {
                Ok(_) => return r,
                Err(actual) => cur = actual,
            }
        }
    }

    /// A worker took a queued notification and wants to poll: clear NOTIFIED, set RUNNING.
    pub(crate) fn transition_to_running(&self) -> ToRunning {
        self.update(|cur| {
            if cur & (RUNNING | COMPLETE) != 0 {
                return (None, ToRunning::Skip);
            }
            let next = (cur | RUNNING) & !NOTIFIED;
            let r = if cur & CANCELLED != 0 { ToRunning::Cancel } else { ToRunning::Poll };
            (Some(next), r)
        })
    }

    /// A poll returned `Pending`: release RUNNING unless the task was cancelled meanwhile.
    ///
    /// `yielded`: the task woke itself during the poll without touching the word; NOTIFIED is
    /// set here, in the same CAS. (`run` no longer releases RUNNING on a fast yield at all: it
    /// keeps it in the queue entry, `task/mod.rs` rule 6.)
    ///
    /// On `Idle`, the runner's reference (the one its queue entry held) is dropped in the same
    /// CAS: the caller must forget it. It is never the last one, since a task that returned
    /// `Pending` is in the task list (`task/mod.rs` rule 5), which holds another.
    pub(crate) fn transition_to_idle(&self, yielded: bool) -> ToIdle {
        self.update(|cur| {
            debug_assert!(cur & RUNNING != 0);
            if cur & CANCELLED != 0 {
                return (None, ToIdle::Cancelled);
            }
            if yielded {
                (Some((cur & !RUNNING) | NOTIFIED), ToIdle::Notified)
            } else if cur & NOTIFIED != 0 {
                // The runner's own reference becomes the queued one: NOTIFIED stays set.
                (Some(cur & !RUNNING), ToIdle::Notified)
            } else {
                debug_assert!(cur & REF_MASK >= 2 * REF_ONE, "the runner's reference is the last");
                (Some((cur & !RUNNING) - REF_ONE), ToIdle::Idle)
            }
        })
    }

    /// The RUNNING holder stored the output: set COMPLETE, clear RUNNING. Returns the word before,
    /// whose JOIN_INTEREST says whether a join handle will read the output (else the caller drops
    /// it).
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        // AcqRel: release publishes the output to the join handle's acquire load; acquire pairs
        // with `transition_to_join_handle_dropped`, after which we own the output.
        let prev = Snapshot(self.0.fetch_xor(RUNNING | COMPLETE, AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete());
        prev
    }

    /// A wake-up. Sets NOTIFIED; if the task was idle, also takes a reference for the run queue.
    ///
    /// `hold`: the caller queues the task on its own worker, whose entry then holds RUNNING
    /// (`task/mod.rs` rule 7): an idle task gets RUNNING instead of NOTIFIED, and whoever pops
    /// the entry polls it without a transition.
    pub(crate) fn transition_to_notified(&self, hold: bool) -> Notify {
        self.update(|cur| {
            if cur & (COMPLETE | NOTIFIED) != 0 {
                (None, Notify::Nothing)
            } else if cur & RUNNING != 0 {
                (Some(cur | NOTIFIED), Notify::Nothing)
            } else {
                assert!(cur <= isize::MAX as usize, "task reference count overflow");
                (Some((cur | idle_wake_bit(hold)) + REF_ONE), Notify::Submit)
            }
        })
    }

    /// A wake-up that consumes the waker's reference (`Waker::wake`): one CAS where
    /// `transition_to_notified` plus a reference drop would take two. `hold` as there.
    pub(crate) fn transition_to_notified_by_val(&self, hold: bool) -> NotifyByVal {
        self.update(|cur| {
            debug_assert!(cur & REF_MASK >= REF_ONE);
            if cur & (COMPLETE | NOTIFIED) != 0 {
                let next = cur - REF_ONE;
                let r =
                    if next & REF_MASK == 0 { NotifyByVal::Dealloc } else { NotifyByVal::Nothing };
                (Some(next), r)
            } else if cur & RUNNING != 0 {
                // The runner holds a reference, so ours is not the last.
                (Some((cur | NOTIFIED) - REF_ONE), NotifyByVal::Nothing)
            } else {
                (Some(cur | idle_wake_bit(hold)), NotifyByVal::Submit)
            }
        })
    }

    /// `abort()` or shutdown. Returns true if the caller now holds RUNNING and must drop the
    /// future itself; otherwise CANCELLED is set for the current runner (or the task is done).
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.update(|cur| {
            if cur & COMPLETE != 0 {
                (None, false)
            } else if cur & RUNNING != 0 {
                (Some(cur | CANCELLED), false)
            } else {
                (Some(cur | CANCELLED | RUNNING), true)
            }
        })
    }

    /// The join handle stored its waker in the empty slot and hands it to the completer. Fails
    /// if the task completed meanwhile: the slot is then still the handle's.
    pub(crate) fn set_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|cur| {
            debug_assert!(cur & JOIN_INTEREST != 0 && cur & JOIN_WAKER == 0);
            if cur & COMPLETE != 0 {
                (None, Err(Snapshot(cur)))
            } else {
                (Some(cur | JOIN_WAKER), Ok(()))
            }
        })
    }

    /// The join handle takes the slot back to replace its waker. Fails if the task completed:
    /// the completer then owns the stored waker.
    pub(crate) fn unset_join_waker(&self) -> Result<(), Snapshot> {
        self.update(|cur| {
            // Once COMPLETE is set the completer may have cleared JOIN_WAKER already (rule 4):
            // the bit is the handle's to check only before.
            if cur & COMPLETE != 0 {
                return (None, Err(Snapshot(cur)));
            }
            debug_assert!(cur & JOIN_INTEREST != 0 && cur & JOIN_WAKER != 0);
            (Some(cur & !JOIN_WAKER), Ok(()))
        })
    }

    /// The completer woke the stored join waker and gives the slot back. Returns the word
    /// before: without JOIN_INTEREST, the handle is gone and the completer drops the waker.
    pub(crate) fn unset_waker_after_complete(&self) -> Snapshot {
        // AcqRel: release hands our reads of the slot to the handle that drops it; acquire takes
        // the handle's drop of JOIN_INTEREST, after which the waker is ours.
        let prev = Snapshot(self.0.fetch_and(!JOIN_WAKER, AcqRel));
        debug_assert!(prev.is_complete() && prev.is_join_waker_set());
        prev
    }

    /// The join handle goes away: clears JOIN_INTEREST, and JOIN_WAKER too if the task is not
    /// complete. Returns `(drop_output, drop_waker)`: whether the handle must drop the output
    /// (the task completed while it was interested, rule 3) and the stored waker (the slot is
    /// the handle's: JOIN_WAKER is clear afterwards).
    pub(crate) fn transition_to_join_handle_dropped(&self) -> (bool, bool) {
        self.update(|cur| {
            debug_assert!(cur & JOIN_INTEREST != 0);
            let mut next = cur & !JOIN_INTEREST;
            let complete = cur & COMPLETE != 0;
            if !complete {
                next &= !JOIN_WAKER;
            }
            (Some(next), (complete, next & JOIN_WAKER == 0))
        })
    }

    /// The runtime is about to call the vtable's `shutdown`: true the first time only, so that a
    /// task both queued and in the task list at shutdown is shut down once.
    pub(crate) fn claim_shutdown(&self) -> bool {
        // AcqRel, though nothing needs it: the second claimer returns false and does nothing.
        self.0.fetch_or(SHUTDOWN, AcqRel) & SHUTDOWN == 0
    }

    /// Adds a reference. Relaxed: as in `Arc::clone`, the new reference is derived from an
    /// existing one, which already orders everything it needs.
    pub(crate) fn ref_inc(&self) {
        let prev = self.0.fetch_add(REF_ONE, Relaxed);
        assert!(prev <= isize::MAX as usize, "task reference count overflow");
    }

    /// Drops a reference; true if it was the last, and the caller must free the task.
    ///
    /// AcqRel: release orders this owner's uses before the free; acquire makes the last owner see
    /// every other owner's uses (as `Arc::drop` does with a fence).
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.0.fetch_sub(REF_ONE, AcqRel));
        debug_assert!(prev.ref_count() >= 1);
        prev.ref_count() == 1
    }
}

#[cfg(all(test, not(actor12_loom)))]
mod tests {
    use super::*;

    #[test]
    fn lifecycle_of_a_task_that_yields_once() {
        let s = State::new_task(3);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        // A wake while running only sets NOTIFIED.
        assert_eq!(s.transition_to_notified(false), Notify::Nothing);
        assert_eq!(s.transition_to_idle(false), ToIdle::Notified);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        // Going idle drops the runner's reference.
        assert_eq!(s.transition_to_idle(false), ToIdle::Idle);
        assert_eq!(s.load().ref_count(), 2);
        // An idle task is submitted exactly once.
        assert_eq!(s.transition_to_notified(false), Notify::Submit);
        assert_eq!(s.transition_to_notified(false), Notify::Nothing);
        assert_eq!(s.load().ref_count(), 3);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        let prev = s.transition_to_complete();
        assert!(prev.has_join_interest());
        assert_eq!(s.transition_to_notified(false), Notify::Nothing);
        // Complete: the handle drops the output, and the (empty) waker slot is its own.
        assert_eq!(s.transition_to_join_handle_dropped(), (true, true));
    }

    #[test]
    fn the_join_waker_slot_changes_hands_through_the_word() {
        let s = State::new_task(2);
        assert!(s.set_join_waker().is_ok());
        assert!(s.unset_join_waker().is_ok());
        assert!(s.set_join_waker().is_ok());
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        let prev = s.transition_to_complete();
        assert!(prev.is_join_waker_set() && prev.has_join_interest());
        // Complete with the waker handed over: the handle can no longer take it back.
        assert!(s.unset_join_waker().is_err());
        // The handle goes away before the completer is done with the waker: the completer
        // drops it.
        assert_eq!(s.transition_to_join_handle_dropped(), (true, false));
        assert!(!s.unset_waker_after_complete().has_join_interest());
        // Not complete: a dropped handle takes its waker back.
        let t = State::new_task(2);
        assert!(t.set_join_waker().is_ok());
        assert_eq!(t.transition_to_join_handle_dropped(), (false, true));
        assert!(!t.load().is_join_waker_set());
    }

    #[test]
    fn wake_by_value_reuses_or_drops_the_wakers_reference() {
        let s = State::new_task(2);
        // Queued (NOTIFIED): a wake by value just drops its reference.
        s.ref_inc();
        assert_eq!(s.transition_to_notified_by_val(false), NotifyByVal::Nothing);
        assert_eq!(s.load().ref_count(), 2);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_idle(false), ToIdle::Idle);
        assert_eq!(s.load().ref_count(), 1);
        // Idle: the waker's reference becomes the queue's.
        s.ref_inc();
        assert_eq!(s.transition_to_notified_by_val(false), NotifyByVal::Submit);
        assert_eq!(s.load().ref_count(), 2);
        // The last reference, on a complete task: free it.
        let done = State::new_bare(1);
        done.ref_inc();
        assert!(!done.ref_dec());
        let c = State::new_task(1);
        assert_eq!(c.transition_to_running(), ToRunning::Poll);
        c.transition_to_complete();
        assert_eq!(c.transition_to_notified_by_val(false), NotifyByVal::Dealloc);
    }

    #[test]
    fn a_holding_wake_takes_running_for_the_entry() {
        let s = State::new_task(2);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_idle(false), ToIdle::Idle);
        // Idle: RUNNING (not NOTIFIED) and a reference for the entry.
        assert_eq!(s.transition_to_notified(true), Notify::Submit);
        let w = s.load();
        assert!(w.is_running() && !w.is_notified());
        assert_eq!(w.ref_count(), 2);
        // Held: a second wake only asks for another poll, like a wake during a poll.
        s.ref_inc();
        assert_eq!(s.transition_to_notified_by_val(true), NotifyByVal::Nothing);
        assert!(s.load().is_notified());
        assert_eq!(s.load().ref_count(), 2);
        // The entry's runner polls without a transition, then releases RUNNING as usual.
        assert_eq!(s.transition_to_idle(false), ToIdle::Notified);
    }

    #[test]
    fn a_fast_yield_sets_notified_in_the_idle_transition() {
        let s = State::new_task(2);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert_eq!(s.transition_to_idle(true), ToIdle::Notified);
        assert!(s.load().is_notified() && !s.load().is_running());
        // Queued already: a wake now adds nothing.
        assert_eq!(s.transition_to_notified(false), Notify::Nothing);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
    }

    #[test]
    fn abort_of_an_idle_task_takes_running() {
        let s = State::new_task(3);
        assert!(s.transition_to_shutdown());
        // The queued notification then finds the task owned by the canceller.
        assert_eq!(s.transition_to_running(), ToRunning::Skip);
        s.transition_to_complete();
        assert!(!s.transition_to_shutdown());
    }

    #[test]
    fn abort_while_running_is_seen_by_the_runner() {
        let s = State::new_task(3);
        assert_eq!(s.transition_to_running(), ToRunning::Poll);
        assert!(!s.transition_to_shutdown());
        assert_eq!(s.transition_to_idle(false), ToIdle::Cancelled);
    }

    #[test]
    fn shutdown_is_claimed_once_and_leaves_the_other_bits() {
        let s = State::new_bare(2);
        assert!(s.claim_shutdown());
        assert!(!s.claim_shutdown());
        assert_eq!(s.load().ref_count(), 2);
        let t = State::new_task(2);
        assert!(t.claim_shutdown());
        assert!(t.transition_to_shutdown());
        assert_eq!(t.load().ref_count(), 2);
    }

    #[test]
    fn references() {
        let s = State::new_bare(1);
        s.ref_inc();
        assert!(!s.ref_dec());
        assert!(s.ref_dec());
    }
}
