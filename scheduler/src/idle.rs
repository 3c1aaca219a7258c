//! Which workers sleep, how many search for work, and who wakes whom.
//!
//! One word packs `searching` (low 16 bits) and `unparked` (the rest). The sleepers' list is
//! under a lock, taken only on the slow paths (going to sleep, waking someone).
//!
//! # Protocol
//!
//! 1. A worker out of local work may *search* (steal, check the global queue) only while fewer
//!    than half of the workers search ([`Idle::try_transition_to_searching`]).
//! 2. A searcher that finds work leaves the searching state; if it was the last searcher, it
//!    issues a `SeqCst` fence and, if a ring or the global queue still holds work, wakes a
//!    sleeper to search in its place ([`Idle::transition_from_searching`],
//!    `Shared::notify_if_work_pending`). Its fence pairs with rule 3's: a notifier that saw it
//!    searching, and so woke nobody, published its work before that, and the checks see it.
//! 3. Whoever makes work available to other workers in the global queue calls
//!    [`Idle::worker_to_notify`] *after* publishing it: a `SeqCst` fence, then if nobody searches
//!    and someone sleeps, it wakes one sleeper, which starts out searching. A worker's push to
//!    its own ring calls it only if a cheap relaxed look ([`Idle::may_need_wake`]) says a worker
//!    may sleep while nobody searches: that look has no fence, so it may miss a worker going to
//!    sleep at that moment, and the task then waits for its own worker (which is awake, and pops
//!    its ring before it may sleep: delayed, never stranded, unless its running task blocks).
//! 4. A worker going to sleep first registers in the sleepers' list and decrements `unparked`
//!    ([`Idle::transition_worker_to_parked`]), then issues a `SeqCst` fence, then re-checks every
//!    queue. Rules 3 and 4 form a Dekker pair: either the notifier sees the sleeper registered (and
//!    wakes it, or sees a searcher that will re-check), or the sleeper's re-check sees the work. No
//!    wake-up for work in the global queue is lost.
//! 5. A worker that wakes for another reason (timer, a pinned task, shutdown) takes itself out of
//!    the list ([`Idle::unpark_self`]); if it is no longer there, a notifier took it out and it is
//!    now a searcher. A searcher whose re-check found work in the global queue (it did not
//!    sleep) goes back to searching: the notifiers of that work saw it searching and woke
//!    nobody, so it must hand off by rule 2 when it takes the work, or the rest waits until its
//!    poll returns.

use crate::loom::{AtomicUsize, Mutex, Ordering::*, fence};

const SEARCH_MASK: usize = 0xffff;
const UNPARK_ONE: usize = 1 << 16;

/// The most workers a runtime may have: the searching count must fit below [`SEARCH_MASK`].
pub(crate) const MAX_WORKERS: usize = SEARCH_MASK - 1;

pub(crate) struct Idle {
    state: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    num_workers: usize,
}

impl std::fmt::Debug for Idle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.state.load(Relaxed);
        f.debug_struct("Idle")
            .field("searching", &(s & SEARCH_MASK))
            .field("unparked", &(s / UNPARK_ONE))
            .finish()
    }
}

impl Idle {
    pub(crate) fn new(num_workers: usize) -> Idle {
        assert!(num_workers <= MAX_WORKERS);
        Idle {
            state: AtomicUsize::new(num_workers * UNPARK_ONE),
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            num_workers,
        }
    }

    /// Rule 1. The check is racy on purpose: it is a throttle, not a guarantee.
    pub(crate) fn try_transition_to_searching(&self) -> bool {
        // Relaxed: a stale value only lets one more or one fewer worker search.
        let s = self.state.load(Relaxed);
        if 2 * (s & SEARCH_MASK) >= self.num_workers {
            return false;
        }
        // SeqCst: part of the total order that rule 3's load reads.
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// True if a worker that does not search now would be let search (rule 1). For the check
    /// before parking: a worker the throttle refuses must not stay awake for work in other
    /// workers' rings, which the searchers (at least one, since the throttle refuses) cover: the
    /// last of them to park sees no searcher here, and stays awake for that work.
    pub(crate) fn may_search(&self) -> bool {
        // SeqCst: read after the fence of rule 4, in the same total order as the searchers'
        // decrements, so that the last searcher to park sees zero.
        let s = self.state.load(SeqCst);
        2 * (s & SEARCH_MASK) < self.num_workers
    }

    /// Rule 2: true if the caller was the last searcher and must look for work left to wake a
    /// sleeper for (`Shared::notify_if_work_pending`).
    pub(crate) fn transition_from_searching(&self) -> bool {
        // SeqCst: pairs with the load in `worker_to_notify` (rule 3).
        let prev = self.state.fetch_sub(1, SeqCst);
        prev & SEARCH_MASK == 1
    }

    /// Rule 3: the worker to unpark, if any. It is counted as unparked and searching already.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        // SeqCst fence: the Dekker pair with `transition_worker_to_parked`'s fence. Our stores of
        // work come before it; the load of `state` after it.
        fence(SeqCst);
        if !self.should_wake() {
            return None;
        }
        let mut sleepers = self.sleepers.lock();
        if !self.should_wake() {
            return None;
        }
        let worker = sleepers.pop()?;
        // SeqCst: as in `try_transition_to_searching`.
        self.state.fetch_add(UNPARK_ONE + 1, SeqCst);
        Some(worker)
    }

    /// A cheap, racy look: true if a worker may sleep while nobody searches. For callers that
    /// do not need rule 3's guarantee (see `Core::push_back`).
    pub(crate) fn may_need_wake(&self) -> bool {
        // Relaxed: a hint; `worker_to_notify` re-checks after its fence.
        let s = self.state.load(Relaxed);
        s & SEARCH_MASK == 0 && s / UNPARK_ONE < self.num_workers
    }

    fn should_wake(&self) -> bool {
        // SeqCst: rule 3's load, after the fence.
        let s = self.state.load(SeqCst);
        s & SEARCH_MASK == 0 && s / UNPARK_ONE < self.num_workers
    }

    /// Rule 4, first half: registers `worker` as a sleeper. The caller then re-checks the queues
    /// (after the fence done here) before it really parks.
    pub(crate) fn transition_worker_to_parked(&self, worker: usize, searching: bool) {
        let mut sleepers = self.sleepers.lock();
        let dec = UNPARK_ONE + usize::from(searching);
        // SeqCst: part of the order rule 3 reads.
        self.state.fetch_sub(dec, SeqCst);
        sleepers.push(worker);
        drop(sleepers);
        // SeqCst fence: the Dekker pair with `worker_to_notify`; the caller's queue checks come
        // after it.
        fence(SeqCst);
    }

    /// Rule 5: true if `worker` was still registered as a sleeper (and now is not, and searches
    /// if `searching`); false if a notifier already took it out (it is now a searcher).
    pub(crate) fn unpark_self(&self, worker: usize, searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock();
        match sleepers.iter().position(|&w| w == worker) {
            Some(i) => {
                sleepers.swap_remove(i);
                // SeqCst: as in `try_transition_to_searching`.
                self.state.fetch_add(UNPARK_ONE + usize::from(searching), SeqCst);
                true
            }
            None => false,
        }
    }

    /// Rule 5 for a worker back from its re-check (and its park, if the re-check found nothing):
    /// takes it out of the sleepers' list ([`unpark_self`](Self::unpark_self)) and returns
    /// whether it searches from here on. `searched`: it searched before it went to sleep;
    /// `found_work`: its re-check found work, so it did not park; `global_has_work` is asked
    /// only for such a searcher. Shared by the worker loop and its loom model
    /// (`searcher_finds_work_while_parking`), so that the model drives this decision as written.
    pub(crate) fn wake_up(
        &self,
        worker: usize,
        searched: bool,
        found_work: bool,
        global_has_work: impl FnOnce() -> bool,
    ) -> bool {
        let resume = searched && found_work && global_has_work();
        !self.unpark_self(worker, resume) || resume
    }

    /// Rule 2 after the last searcher stopped searching: a `SeqCst` fence, then `work_left`
    /// (whether a ring or the global queue holds work); true if a sleeper should search in its
    /// place. The fence is the Dekker pair with rule 3's in
    /// [`worker_to_notify`](Self::worker_to_notify): a notifier that saw the searcher, and so
    /// woke nobody, published its work before that fence; the transition out of searching came
    /// before this one, so `work_left`, after it, sees that work. Shared by the worker
    /// (`Shared::notify_if_work_pending`) and its loom model
    /// (`searcher_finds_work_while_parking`), so that the model checks this fence, not a copy.
    pub(crate) fn work_left_after_search(&self, work_left: impl FnOnce() -> bool) -> bool {
        fence(SeqCst);
        work_left()
    }

    /// Registered sleepers (a snapshot, for the loom models and tests).
    #[cfg(any(test, actor12_loom))]
    pub(crate) fn num_sleepers(&self) -> usize {
        self.sleepers.lock().len()
    }
}
