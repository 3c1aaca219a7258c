//! The workers: one OS thread each, a local ring, a LIFO slot, a timer wheel, and the run loop.
//!
//! # The run loop
//!
//! Each turn of the loop is a *tick*. A worker takes its next task from, in order: the LIFO slot
//! (the task woken last by this worker), its ring, its queue of pinned tasks, the global queue;
//! every [`GLOBAL_INTERVAL`] ticks it looks at the pinned and global queues first (each of them
//! first on every other such tick), so that none is starved by local work or by the other, and
//! every [`EVENT_INTERVAL`] ticks it fires due timers.
//! After a task runs, the task it put in the LIFO slot runs next, at most [`MAX_LIFO_HOPS`] times
//! in a row; then the LIFO task goes to the back of the ring, so that two tasks waking each other
//! cannot starve the rest. Each of those runs counts as a tick (the chain stops before a tick of
//! the checks above, which the loop makes, the LIFO task to the back of the ring as well).
//!
//! Out of local work, the worker fires timers, then searches (steals half of another ring, or
//! takes a batch from the global queue) if the throttle in `idle.rs` lets it, spins briefly, and
//! finally parks until its next timer or a wake-up (protocol in `idle.rs`).
//!
//! Placement: a task spawned or woken on a worker goes to that worker (the LIFO slot). A task
//! spawned or woken elsewhere goes to the global queue and wakes a sleeping worker. Pinned tasks
//! go to their worker's own queue, which nobody steals from.

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use crate::idle::Idle;
use crate::inject::Inject;
use std::sync::{Condvar, Mutex as StdMutex};

use crate::loom::{AtomicBool, AtomicUsize, Ordering::*, spin_loop};
use crate::park::Parker;
use crate::queue::{self, Local, Steal};
use crate::refs::{BATCH, RuntimeRef, TaskRefs};
use crate::runtime::Handle;
use crate::task::list::OwnedTasks;
use crate::task::{Header, Schedule, TaskRef};
use crate::time::{Clock, Inbox, Wheel};

/// Ticks between two looks at the global and pinned queues before the local ones (Go's and
/// tokio's number).
pub(crate) const GLOBAL_INTERVAL: u32 = 61;
/// Ticks between two timer checks while the worker is busy.
pub(crate) const EVENT_INTERVAL: u32 = 61;
/// Consecutive runs of the LIFO slot's task before it goes to the back of the ring (tokio: 3;
/// the trade-off is in `docs/design/scheduler.md` section 4).
pub(crate) const MAX_LIFO_HOPS: u32 = 16;

/// Ticks from `tick` to the next one on which the loop looks at the timers and the global and
/// pinned queues first (1 to `EVENT_INTERVAL`).
#[inline]
fn ticks_to_check(tick: u64) -> u32 {
    const { assert!(EVENT_INTERVAL == GLOBAL_INTERVAL, "one check tick for both") };
    EVENT_INTERVAL - (tick % u64::from(EVENT_INTERVAL)) as u32
}
/// Queue checks before parking.
const SPINS: u32 = 64;

/// What the other threads know about one worker.
pub(crate) struct Remote {
    pub(crate) steal: Steal,
    pub(crate) parker: Parker,
    /// Tasks pinned to this worker; only it pops them.
    pub(crate) pinned: Inject,
    /// Timers armed or cancelled by other threads for this worker's wheel.
    pub(crate) timers: Inbox,
}

/// Every runtime whose `Shared` is alive, by id ([`Shared::find`]).
static LIVE: StdMutex<Vec<(u64, std::sync::Weak<Shared>)>> = StdMutex::new(Vec::new());

impl Drop for Shared {
    fn drop(&mut self) {
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|(id, _)| *id != self.id);
    }
}

/// State shared by all workers and handles of one runtime.
pub(crate) struct Shared {
    /// This runtime's number, unique in the process (an address can be reused once it is freed).
    pub(crate) id: u64,
    pub(crate) remotes: Box<[Remote]>,
    pub(crate) inject: Inject,
    pub(crate) idle: Idle,
    pub(crate) owned: OwnedTasks,
    /// The tasks' references to this runtime (`refs.rs`).
    pub(crate) task_refs: TaskRefs,
    pub(crate) shutdown: AtomicBool,
    pub(crate) clock: Clock,
    pub(crate) blocking: crate::blocking::Pool,
    next_timer_worker: AtomicUsize,
    /// Workers that have left their run loop, for `shutdown_timeout`.
    exited: StdMutex<usize>,
    exited_cv: Condvar,
    /// Which core each worker got pinned to (`None`: not pinned, or refused).
    pub(crate) cores: StdMutex<Vec<Option<usize>>>,
    /// `Builder::spin_before_park`: how long an idle worker looks for work before it sleeps.
    spin_before_park: std::time::Duration,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("workers", &self.remotes.len())
            .field("inject", &self.inject)
            .field("idle", &self.idle)
            .finish_non_exhaustive()
    }
}

/// The scheduler a spawned future task carries: its runtime, and its worker if pinned.
pub(crate) struct TaskSchedule {
    pub(crate) shared: RuntimeRef,
    pub(crate) pinned: Option<usize>,
}

impl Schedule for TaskSchedule {
    fn schedule(&self, task: TaskRef) {
        self.shared.schedule(task, self.pinned);
    }

    fn release(&self, task: std::ptr::NonNull<Header>) -> Option<TaskRef> {
        self.shared.owned.remove(task)
    }

    fn bind(&self, task: TaskRef) -> Result<(), TaskRef> {
        self.shared.owned.bind(task)
    }

    /// This thread's worker.
    type Here = Here;

    fn hold_here(&self) -> Option<Here> {
        if self.pinned.is_some() {
            return None;
        }
        crate::context::with_core(|core| match core {
            // The shutdown check is on this thread, so the worker is not past its final drain
            // (which starts only after the same flag stopped its loop here).
            Some(core) if core.is_of(&self.shared) && !self.shared.is_shutdown() => {
                Some(Here(core))
            }
            _ => None,
        })
    }

    fn enter_for_abort(&self) -> Option<crate::context::Entered> {
        if crate::context::with_core(|core| core.is_some_and(|core| core.is_of(&self.shared))) {
            return None;
        }
        Some(crate::context::Entered::new(Handle { shared: self.shared.to_arc() }))
    }

    fn schedule_held(here: Here, task: TaskRef) {
        // SAFETY: `hold_here` made `here` on this thread, from the worker whose loop is below us
        // on this thread's stack, in this same wake.
        unsafe { &*here.0 }.schedule_local(task, None);
    }
}

/// The worker of the current thread, as `TaskSchedule::hold_here` found it.
pub(crate) struct Here(*const Core);

impl Shared {
    /// Builds the shared state and the workers' owner-side queues.
    pub(crate) fn new(
        workers: usize,
        blocking: crate::blocking::Pool,
        spin_before_park: std::time::Duration,
    ) -> (Arc<Shared>, Vec<Local>) {
        let mut locals = Vec::with_capacity(workers);
        let mut remotes = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (local, steal) = queue::local();
            locals.push(local);
            remotes.push(Remote {
                steal,
                parker: Parker::new(),
                pinned: Inject::new(),
                timers: Inbox::new(),
            });
        }
        static NEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let shared = Arc::new(Shared {
            // Relaxed: only uniqueness matters.
            id: NEXT_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            remotes: remotes.into_boxed_slice(),
            inject: Inject::new(),
            idle: Idle::new(workers),
            owned: OwnedTasks::new(),
            task_refs: TaskRefs::new(),
            shutdown: AtomicBool::new(false),
            clock: Clock::new(),
            blocking,
            next_timer_worker: AtomicUsize::new(0),
            exited: StdMutex::new(0),
            exited_cv: Condvar::new(),
            cores: StdMutex::new(vec![None; workers]),
            spin_before_park,
        });
        crate::refs::take_share(&shared);
        LIVE.lock().unwrap_or_else(|e| e.into_inner()).push((shared.id, Arc::downgrade(&shared)));
        (shared, locals)
    }

    /// The runtime with id `id`, if it is still alive (any thread). A lock and a scan: only
    /// for a sleep dropped off its runtime's workers (`time::cancel_local`).
    pub(crate) fn find(id: u64) -> Option<Arc<Shared>> {
        let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        live.iter().find(|(i, _)| *i == id).and_then(|(_, shared)| shared.upgrade())
    }

    pub(crate) fn num_workers(&self) -> usize {
        self.remotes.len()
    }

    #[inline]
    pub(crate) fn is_shutdown(&self) -> bool {
        // Acquire: pairs with the release in `begin_shutdown`.
        self.shutdown.load(Acquire)
    }

    /// Queues a new task (a spawn): as [`schedule`](Self::schedule), except that during
    /// shutdown the task is cancelled here, on the spawner's thread: it was never polled, so it
    /// is in no task list (`task/mod.rs` rule 5) and nothing else would cancel it. Also when
    /// the shutdown begins between this look and the queue's: the queue hands the task back.
    pub(crate) fn schedule_new(&self, task: TaskRef, pinned: Option<usize>) {
        if let Err(task) = self.try_schedule(task, pinned) {
            task.shutdown();
        }
    }

    /// Queues a woken task: on this worker if called on one of ours, else globally (or on its
    /// pinned worker).
    ///
    /// During shutdown the queue's reference is just dropped. A woken future task has returned
    /// `Pending` before (only then does anyone hold its waker), so it is in the task list, which
    /// cancels it; an actor is bound by its crate. Cancelling it here instead would run the
    /// task's destructors on the waker's thread, maybe while the waker's caller holds a lock that
    /// one of them takes.
    pub(crate) fn schedule(&self, task: TaskRef, pinned: Option<usize>) {
        drop(self.try_schedule(task, pinned));
    }

    /// As `schedule`, but hands the reference back once the runtime is shut down.
    ///
    /// The usual case, an unpinned task scheduled on one of this runtime's workers (a message
    /// to an idle actor, a reply, a wake), is inlined into the caller: a look at the shutdown
    /// flag and the thread's worker, and the task goes to that worker's LIFO slot. Everything
    /// else is [`try_schedule_slow`](Self::try_schedule_slow). Out of line, the three calls of
    /// this path (`TaskHandle::try_schedule`, this, `Core::schedule_local`) and their register
    /// saves were about 63 instructions per message sent to an idle actor.
    #[inline]
    pub(crate) fn try_schedule(&self, task: TaskRef, pinned: Option<usize>) -> Result<(), TaskRef> {
        if pinned.is_none() && !self.is_shutdown() {
            let task = crate::context::with_core(|core| match core {
                Some(core) if core.is_of(self) => {
                    core.schedule_lifo(task);
                    None
                }
                _ => Some(task),
            });
            return match task {
                None => Ok(()),
                Some(task) => self.try_schedule_slow(task, pinned),
            };
        }
        self.try_schedule_slow(task, pinned)
    }

    /// Runs a new task's first run here and now if this thread is one of this runtime's workers
    /// that may run it and no such first run is under way on it already; schedules it otherwise
    /// (and whatever the run hands back, to run again). Hands the reference back once the
    /// runtime is shut down, as [`try_schedule`](Self::try_schedule) does.
    ///
    /// The run takes the budget of a run of its own and gives the caller's back after it. One
    /// level only: a task started so that starts another schedules that one, so a chain of
    /// spawns does not grow the stack.
    pub(crate) fn try_start(&self, task: TaskRef, pinned: Option<usize>) -> Result<(), TaskRef> {
        let here = !self.is_shutdown()
            && crate::context::with_core(|core| match core {
                Some(core) if core.is_of(self) && pinned.is_none_or(|w| w == core.index) => {
                    !core.starting.replace(true)
                }
                _ => false,
            });
        if !here {
            return self.try_schedule(task, pinned);
        }
        /// Clears the mark when the run ends, even by unwinding (a task kind's `run` that lets a
        /// panic out).
        struct Started;
        impl Drop for Started {
            fn drop(&mut self) {
                crate::context::with_core(|core| core.map(|c| c.starting.set(false)));
            }
        }
        let started = Started;
        let again = crate::coop::keep(|| task.run());
        drop(started);
        match again {
            Some(task) => self.try_schedule(task, pinned),
            None => Ok(()),
        }
    }

    /// [`try_schedule`](Self::try_schedule) for every case: pinned tasks, other threads,
    /// shutdown.
    #[inline(never)]
    fn try_schedule_slow(&self, task: TaskRef, pinned: Option<usize>) -> Result<(), TaskRef> {
        if self.is_shutdown() {
            return Err(task);
        }
        let task = crate::context::with_core(|core| match core {
            Some(core) if core.is_of(self) => {
                core.schedule_local(task, pinned);
                None
            }
            _ => Some(task),
        });
        let Some(task) = task else { return Ok(()) };
        match pinned {
            Some(w) => {
                self.remotes[w].pinned.push(task);
                self.remotes[w].parker.unpark();
            }
            None => {
                self.inject.push(task);
                self.notify_parked();
            }
        }
        Ok(())
    }

    /// Wakes a sleeping worker to search, if nobody searches (`idle.rs`, rule 3).
    pub(crate) fn notify_parked(&self) {
        if let Some(w) = self.idle.worker_to_notify() {
            self.remotes[w].parker.unpark();
        }
    }

    /// `idle.rs` rule 2: the last searcher found work and stopped searching; if work is left
    /// where a searcher would look (a ring, the global queue), a sleeper searches in its place.
    ///
    /// Only then: a searcher that took the one task there was (a message from outside the
    /// runtime to an idle actor) woke a second worker for nothing, which took a core for its
    /// spins just as the answer's receiver woke; on two cores that made a lone ask from a plain
    /// thread take 60 to 80 us instead of about 13 (`docs/design/scheduler.md`, section 5).
    pub(crate) fn notify_if_work_pending(&self) {
        // The fence first (`Idle::work_left_after_search`), then the global queue first: a
        // share taken from it goes into the taker's ring before its length drops, so this order
        // cannot miss tasks on their way from one to the other.
        // The rings include this worker's own, where what it stole or took waits. (A scan of
        // every ring, on the run path only when the last searcher finds work.)
        //
        // A busy worker's `push_back` only hints (a relaxed look at the searchers, no fence):
        // if it read a searcher still there just as the last one left, neither wakes anyone,
        // and the task waits for that worker's current poll, as `push_back` says. The old
        // unconditional wake here covered that race too.
        let work_left =
            || !self.inject.is_empty() || self.remotes.iter().any(|r| !r.steal.is_empty());
        if self.idle.work_left_after_search(work_left) {
            self.notify_parked();
        }
    }

    /// A worker for a timer armed off the workers.
    pub(crate) fn timer_worker(&self) -> usize {
        // Relaxed: only spreads the load.
        self.next_timer_worker.fetch_add(1, Relaxed) % self.num_workers()
    }

    /// Tells every worker to stop.
    pub(crate) fn begin_shutdown(&self) {
        // Release: pairs with the acquire in `is_shutdown`.
        self.shutdown.store(true, Release);
        for r in self.remotes.iter() {
            r.parker.unpark();
        }
    }

    /// Waits until every worker has left its run loop, or `deadline`. True if all did.
    pub(crate) fn wait_workers(&self, deadline: std::time::Instant) -> bool {
        let mut exited = self.exited.lock().unwrap_or_else(|e| e.into_inner());
        while *exited < self.num_workers() {
            let now = std::time::Instant::now();
            if now >= deadline {
                return false;
            }
            exited = self
                .exited_cv
                .wait_timeout(exited, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// `n` workers whose thread never started: shutdown must not wait for them.
    pub(crate) fn workers_never_started(&self, n: usize) {
        *self.exited.lock().unwrap_or_else(|e| e.into_inner()) += n;
        self.exited_cv.notify_all();
    }

    fn worker_exited(&self) {
        *self.exited.lock().unwrap_or_else(|e| e.into_inner()) += 1;
        self.exited_cv.notify_all();
    }
}

/// A worker's own state; lives on its thread.
pub(crate) struct Core {
    pub(crate) index: usize,
    pub(crate) shared: Arc<Shared>,
    local: Local,
    lifo: Cell<Option<TaskRef>>,
    /// Tasks pinned to this worker and scheduled by it (spawned, woken or yielding here): no
    /// lock, no unpark. Pinned tasks scheduled from elsewhere go to `Remote::pinned`.
    pinned_here: RefCell<std::collections::VecDeque<TaskRef>>,
    pub(crate) wheel: RefCell<Wheel>,
    fired: RefCell<Vec<crate::time::Payload>>,
    /// `maintenance`'s list of removed entries, kept empty between turns for its capacity.
    pub(crate) removed: RefCell<Vec<crate::time::Payload>>,
    /// Ticks so far: 64 bits, so that it never wraps (at 2^32, not a multiple of the check
    /// intervals, one interval between checks came out nearly twice as long).
    tick: Cell<u64>,
    searching: Cell<bool>,
    rng: Cell<u32>,
    /// References to the runtime held for tasks spawned here (`refs.rs`, rule 2).
    bank: Cell<usize>,
    /// A task yielded since the tick `checked_at`, when `round` tasks were queued: see
    /// `yield_round_over`.
    yielded: Cell<bool>,
    /// A task's first run is under way here, inside another's ([`Shared::try_start`]).
    starting: Cell<bool>,
    checked_at: Cell<u64>,
    round: Cell<u32>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core").field("index", &self.index).finish_non_exhaustive()
    }
}

/// Counts the worker out when it leaves its thread, even by a panic.
struct ExitGuard(Arc<Shared>);

impl Drop for ExitGuard {
    fn drop(&mut self) {
        self.0.worker_exited();
    }
}

/// The body of worker thread `index`.
pub(crate) fn run(index: usize, shared: Arc<Shared>, local: Local) {
    let _exit = ExitGuard(shared.clone());
    let core = Core::new(index, shared, local);
    let guard = crate::context::set_core(&core);
    // A panic that escapes the loop comes from code the worker calls but does not own: a task
    // kind's `run` (future tasks catch their own panics), a waker woken by a timer, a destructor.
    // The worker goes on, so that the tasks queued here are still run (or cancelled at
    // shutdown) instead of being dropped with the ring; the panic hook has reported it already.
    while std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| core.run())).is_err() {}
    // Cancel what is queued here while still marked as this worker, so that destructors that
    // wake tasks see the runtime shutting down (`task/mod.rs` rule 5: queued tasks may be in no
    // task list).
    if let Some(task) = core.lifo.take() {
        task.shutdown_queued();
    }
    while let Some(task) = core.local.pop() {
        task.shutdown_queued();
    }
    loop {
        // Not under the borrow: a destructor may schedule a task here.
        let next = core.pinned_here.borrow_mut().pop_front();
        let Some(task) = next else { break };
        task.shutdown_queued();
    }
    // Dropped after the borrow ends: a payload's destructor may drop a `Sleep`, which looks for
    // this wheel.
    let wheel = std::mem::take(&mut *core.wheel.borrow_mut());
    // Timers armed from outside the workers (a sleep in `block_on`) are woken as orphans, so
    // that their sleeps arm a timer on the fallback timer thread instead of waiting for this
    // wheel. The inbox is closed first: a later arm is refused and goes to that thread directly.
    // The wakers of sleeps polled here are woken too: one may be another thread's (a task
    // polling a future it shares with a `block_on` or a task of another runtime), whose owner
    // polls the sleep again and arms it elsewhere; a task of this runtime woken now is not
    // queued (`Shared::schedule`). Dropped unwoken, such a thread waited for ever.
    let orphans = core.shared.remotes[core.index].timers.close();
    for payload in core.fired.take().into_iter().chain(wheel.into_payloads()) {
        match payload {
            crate::time::Payload::Remote(timer) => timer.orphan(),
            waker @ crate::time::Payload::Waker(_) => waker.fire(),
        }
    }
    orphans.into_iter().for_each(|timer| timer.orphan());
    // The worker mark goes before `core`, whose drop gives the bank back (also when unwinding).
    drop(guard);
}

impl Drop for Core {
    fn drop(&mut self) {
        // Tasks freed on this thread from now on give their references straight back (`refs.rs`
        // rule 3).
        let bank = self.bank.replace(0);
        if bank > 0 && self.shared.task_refs.put(bank) {
            // SAFETY: the count reached zero with this bank: its one release. `self.shared` is an
            // `Arc` of its own, so `Shared` stays alive here.
            unsafe { crate::refs::release_share(Arc::as_ptr(&self.shared)) };
        }
    }
}

impl Core {
    fn new(index: usize, shared: Arc<Shared>, local: Local) -> Core {
        Core {
            index,
            wheel: RefCell::new(Wheel::new()),
            shared,
            local,
            lifo: Cell::new(None),
            pinned_here: RefCell::new(std::collections::VecDeque::new()),
            fired: RefCell::new(Vec::new()),
            removed: RefCell::new(Vec::new()),
            tick: Cell::new(0),
            yielded: Cell::new(false),
            starting: Cell::new(false),
            checked_at: Cell::new(0),
            round: Cell::new(1),
            searching: Cell::new(false),
            rng: Cell::new((index as u32).wrapping_mul(0x9E37_79B9).wrapping_add(1)),
            bank: Cell::new(0),
        }
    }

    /// True if this worker belongs to `shared`'s runtime.
    #[inline]
    pub(crate) fn is_of(&self, shared: &Shared) -> bool {
        std::ptr::eq(Arc::as_ptr(&self.shared), shared)
    }

    /// Takes a reference to the runtime from the bank for a task spawned here; false if there is
    /// none to take (`refs.rs`, rule 4): the task then clones the `Arc`.
    pub(crate) fn take_ref(&self) -> bool {
        match self.bank.get() {
            0 if self.shared.task_refs.take(BATCH) => self.bank.set(BATCH - 1),
            0 => return false,
            n => self.bank.set(n - 1),
        }
        true
    }

    /// Banks the reference of a task of this runtime freed here, giving a batch back to the
    /// count once the bank holds two.
    pub(crate) fn return_ref(&self) {
        let n = self.bank.get() + 1;
        if n < 2 * BATCH {
            self.bank.set(n);
            return;
        }
        // The bank keeps `BATCH` counted in `task_refs`, so this is never the last reference.
        let last = self.shared.task_refs.put(BATCH);
        debug_assert!(!last, "a worker's bank gave back the last reference");
        self.bank.set(n - BATCH);
    }

    /// Identifies the runtime (`Shared::id`).
    pub(crate) fn shared_id(&self) -> u64 {
        self.shared.id
    }

    pub(crate) fn handle(&self) -> Handle {
        Handle { shared: self.shared.clone() }
    }

    fn run(&self) {
        while !self.shared.is_shutdown() {
            let tick = self.tick.get() + 1;
            self.tick.set(tick);
            if tick.is_multiple_of(u64::from(EVENT_INTERVAL)) {
                self.maintenance();
            } else if self.yield_round_over(tick) {
                self.check_timers_after_yields();
            }
            if let Some(task) = self.next_task(tick) {
                self.run_task(task);
                continue;
            }
            self.maintenance();
            if let Some(task) = self.next_task(tick) {
                self.run_task(task);
                continue;
            }
            if let Some(task) = self.steal_work() {
                self.run_task(task);
                continue;
            }
            self.park();
        }
    }

    /// Schedules a task from this worker (`Shared::schedule`).
    fn schedule_local(&self, task: TaskRef, pinned: Option<usize>) {
        match pinned {
            Some(w) if w == self.index => self.pinned_here.borrow_mut().push_back(task),
            Some(w) => {
                self.shared.remotes[w].pinned.push(task);
                self.shared.remotes[w].parker.unpark();
            }
            None => self.schedule_lifo(task),
        }
    }

    /// Puts an unpinned task scheduled from this worker in the LIFO slot; the one it displaces
    /// goes to the back of the ring.
    #[inline]
    fn schedule_lifo(&self, task: TaskRef) {
        if let Some(prev) = self.lifo.replace(Some(task)) {
            self.push_back(prev);
        }
    }

    /// Puts a task at the back of the ring and lets an idle worker know.
    ///
    /// Only a hint is needed here, not the full handshake of `idle.rs` rule 3: this worker is
    /// awake and pops its own ring before it may sleep, so a missed notification delays the
    /// task but never strands it. So the `SeqCst` fence is paid only when the cheap look says
    /// a worker sleeps and nobody searches.
    fn push_back(&self, task: TaskRef) {
        self.local.push_back_or_overflow(task, &self.shared.inject);
        if self.shared.idle.may_need_wake() {
            self.shared.notify_parked();
        }
    }

    /// A task that yielded: back of the ring, or of its pinned queue.
    ///
    /// Peers are told only if the ring holds more than this task: a lone task that yields is
    /// run by this worker next, and waking a peer to steal it would only move it (and its
    /// timers) to another core, over and over.
    fn requeue(&self, task: TaskRef) {
        // A task that gives the worker up while still runnable has yielded, whatever its way: an
        // actor's run ends so after its batch of 64 messages (or at a `yield_now`, whose wake
        // is its own), which no fast yield sees. Counted, the worker's timers are checked once
        // its queue has had a turn; uncounted, an actor busy with messages of half a
        // millisecond made a sleep beside it 2 to 4 s late (61 runs of up to 64 messages; a
        // review of 2026-12-07).
        self.note_yield();
        match task.header().pinned() {
            Some(w) => self.schedule_local(task, Some(w)),
            None => {
                self.local.push_back_or_overflow(task, &self.shared.inject);
                if self.local.len() > 1 && self.shared.idle.may_need_wake() {
                    self.shared.notify_parked();
                }
            }
        }
    }

    fn next_task(&self, tick: u64) -> Option<TaskRef> {
        // The global and pinned queues first on these ticks, each first on every other one: a
        // pinned task that keeps yielding refills the pinned queue, and must not starve tasks
        // spawned from outside; tasks that keep coming from outside must not starve a pinned
        // one (they did, when the global queue was always first: a review of 2026-12-06).
        if tick.is_multiple_of(u64::from(GLOBAL_INTERVAL)) {
            let next = if (tick / u64::from(GLOBAL_INTERVAL)).is_multiple_of(2) {
                self.shared.inject.pop().or_else(|| self.pop_pinned())
            } else {
                self.pop_pinned().or_else(|| self.shared.inject.pop())
            };
            if next.is_some() {
                return next;
            }
        }
        if let Some(t) = self.lifo.take() {
            return Some(t);
        }
        if let Some(t) = self.local.pop() {
            return Some(t);
        }
        if let Some(t) = self.pop_pinned() {
            return Some(t);
        }
        self.pop_global()
    }

    /// The next pinned task, in the order they were scheduled: those from other threads (one
    /// look at an atomic when there are none) join the back of the ones scheduled here first.
    /// Taking the other threads' first starved a pinned task that yielded here for as long as
    /// other threads kept the worker's remote queue from emptying (a review of 2026-12-06).
    /// The queue shrinks as the global one does: it kept a burst's capacity for the runtime's
    /// life (792,024 bytes after 100,000 pinned tasks; a review of 2026-12-07).
    fn pop_pinned(&self) -> Option<TaskRef> {
        let mut here = self.pinned_here.borrow_mut();
        self.shared.remotes[self.index].pinned.drain_into(&mut here);
        let next = here.pop_front();
        crate::inject::shrink_after_pop(&mut here);
        next
    }

    /// Takes a fair share of the global queue: one to run, the rest into the ring.
    fn pop_global(&self) -> Option<TaskRef> {
        let inject = &self.shared.inject;
        if inject.is_empty() {
            return None;
        }
        let share = inject.len() / self.shared.num_workers() + 1;
        let half = crate::loom::LOCAL_QUEUE_CAPACITY / 2;
        // Room counted from `steal`, not from `len`: while a stealer copies its claim out, the
        // slots it claimed and those this worker popped since are not free yet. Counted from
        // `len`, a push could find the ring full and overflow into the global queue, whose lock
        // `pop_n` holds: a deadlock of the whole runtime.
        let room = half.saturating_sub(self.local.len() + 1).min(self.local.remaining() as usize);
        let max = share.min(room + 1);
        // The ring has room for `max - 1` more (only stealers act on it meanwhile, and they only
        // free slots), so these pushes never overflow into the global queue.
        inject.pop_n(max, |t| self.local.push_back_or_overflow(t, &self.shared.inject))
    }

    fn run_task(&self, task: TaskRef) {
        if self.searching.replace(false) && self.shared.idle.transition_from_searching() {
            self.shared.notify_if_work_pending();
        }
        // Each hop from the LIFO slot is a tick of its own, so that the checks every
        // `EVENT_INTERVAL` and `GLOBAL_INTERVAL` ticks count polls, not turns of the loop: a turn
        // of 17 polls made a busy worker's timers 17 times as late as those counts say (a review
        // of 2026-12-07). A tick due for them is the loop's, which makes them: the chain stops
        // before it, its next task at the back of the ring as at the cap, behind the tasks
        // queued meanwhile (back in the LIFO slot, where `next_task` read it first after the
        // checks, the next turn began a chain of its own, and a task queued behind two that
        // wake each other waited up to 33 of their polls, not 17: a review of 2026-12-07). At a
        // shutdown the chain stops too, the task back in the LIFO slot: the loop then cancels
        // it, as it must not run once `shutdown_timeout` has given up on this worker.
        let tick = self.tick.get();
        let limit = MAX_LIFO_HOPS.min(ticks_to_check(tick) - 1);
        let mut task = task;
        let mut hops = 0;
        loop {
            if let Some(again) = task.run() {
                // It yielded (or was woken while running): back of the queue.
                self.requeue(again);
            }
            let Some(next) = self.lifo.take() else { break };
            if self.shared.is_shutdown() {
                self.lifo.set(Some(next));
                break;
            }
            if hops == limit {
                // Our own continuation: the back of the ring, without waking a peer for it
                // (tokio does the same); this worker pops it again shortly.
                self.local.push_back_or_overflow(next, &self.shared.inject);
                break;
            }
            hops += 1;
            task = next;
        }
        self.tick.set(tick + u64::from(hops));
    }

    fn random(&self) -> u32 {
        // xorshift32: only spreads the victims.
        let mut x = self.rng.get();
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        self.rng.set(x);
        x
    }

    fn steal_work(&self) -> Option<TaskRef> {
        if !self.searching.get() {
            if !self.shared.idle.try_transition_to_searching() {
                return None;
            }
            self.searching.set(true);
        }
        let n = self.shared.num_workers();
        let start = self.random() as usize % n;
        for i in 0..n {
            let victim = (start + i) % n;
            if victim == self.index {
                continue;
            }
            if let Some(t) = self.shared.remotes[victim].steal.steal_into(&self.local) {
                return Some(t);
            }
        }
        self.pop_global()
    }

    /// Work this worker could run (checked before it sleeps). Other workers' rings count only if
    /// this worker searches or may start to (`Idle::may_search`): otherwise it could only spin,
    /// refused by the throttle, while the searchers are the ones to take that work.
    fn has_work(&self) -> bool {
        self.has_work_here()
            || ((self.searching.get() || self.shared.idle.may_search())
                && self
                    .shared
                    .remotes
                    .iter()
                    .enumerate()
                    .any(|(i, r)| i != self.index && !r.steal.is_empty()))
    }

    /// [`has_work`](Self::has_work) but for the other workers' rings: what this worker's own
    /// queues, the global queue and its timer inbox hold.
    fn has_work_here(&self) -> bool {
        let me = &self.shared.remotes[self.index];
        !self.local.is_empty()
            || !self.shared.inject.is_empty()
            || !me.pinned.is_empty()
            || !self.pinned_here.borrow().is_empty()
            || me.timers.has_messages()
    }

    /// A task of this worker yields (`yield_now`, or its cooperative budget is spent).
    pub(crate) fn note_yield(&self) {
        self.yielded.set(true);
    }

    /// True once a task yielded since the last check after yields and every task queued then
    /// has had a turn since: the timers are checked before the yielder runs again. A busy
    /// worker checks them only every `EVENT_INTERVAL` ticks otherwise, which tasks that compute
    /// for a millisecond between yields stretch to 61 ms; this bounds it to a turn of the
    /// queue, as tokio's deferred yields do.
    #[inline]
    fn yield_round_over(&self, tick: u64) -> bool {
        self.yielded.get() && tick - self.checked_at.get() >= u64::from(self.round.get())
    }

    /// `maintenance` for [`yield_round_over`](Self::yield_round_over), if any timer is armed
    /// (a loop of yields with none reads no clock); then a new turn is counted from this tick.
    /// The other checks leave the count alone: `maintenance` before parking reads no queue
    /// length, and a check between only makes the next one come early.
    fn check_timers_after_yields(&self) {
        if self.wheel.borrow().len() > 0 || self.shared.remotes[self.index].timers.has_messages() {
            self.maintenance();
        }
        self.yielded.set(false);
        self.checked_at.set(self.tick.get());
        self.round.set(self.local.len() as u32 + 1);
    }

    /// Fires due timers and takes in timers armed by other threads.
    pub(crate) fn maintenance(&self) {
        let me = &self.shared.remotes[self.index];
        let now = self.shared.clock.now_tick();
        // Taken out, not borrowed: the payloads are dropped below, outside every borrow.
        let mut removed = self.removed.take();
        {
            let mut wheel = self.wheel.borrow_mut();
            let mut fired = self.fired.borrow_mut();
            if me.timers.has_messages() {
                me.timers.drain_into(&mut wheel, &mut fired, &mut removed);
            }
            wheel.poll(now, &mut fired);
        }
        // Outside the borrows, as the wakes below: a destructor may drop a `Sleep`.
        removed.clear();
        crate::time::keep_modest(&mut removed);
        *self.removed.borrow_mut() = removed;
        // Wake outside the borrows: a waker may drop a `Sleep`, which touches the wheel.
        loop {
            let next = self.fired.borrow_mut().pop();
            match next {
                Some(p) => p.fire(),
                None => break,
            }
        }
        crate::time::keep_modest(&mut self.fired.borrow_mut());
    }

    fn park(&self) {
        for i in 0..SPINS {
            if self.has_work() || self.shared.is_shutdown() {
                return;
            }
            if i % 16 == 15 {
                std::thread::yield_now();
            } else {
                spin_loop();
            }
        }
        let spin = self.shared.spin_before_park;
        if !spin.is_zero() && self.spin_on(spin) {
            // As after a park (`sleep`): the wheel's clock lags by the whole spin, and a sleep
            // already due is ready at once only within `NEAR_TICKS` of that clock.
            self.maintenance();
            return;
        }
        self.sleep();
    }

    /// `Builder::spin_before_park`: goes on looking for work, as the spins above do, for `spin`
    /// or until the worker's next timer is due, whichever comes first; true if work came (or
    /// the shutdown). At the end, `sleep` parks with nothing left to wait for a due timer, and
    /// fires it. The other workers' rings are looked at every 16 checks, with the clock, where
    /// the thread also yields: a spin that may last long reads the lines their owners write
    /// 16 times less often. No task runs meanwhile, so the wheel's next deadline stays; a timer
    /// armed from another thread comes as a message, which is work.
    #[cold]
    #[inline(never)]
    fn spin_on(&self, spin: std::time::Duration) -> bool {
        let next = self.wheel.borrow().next_deadline();
        let left = next.map_or(spin, |tick| spin.min(self.shared.clock.until(tick)));
        // `None`: a spin longer than `Instant` can count, for as long as nothing comes.
        let end = std::time::Instant::now().checked_add(left);
        loop {
            for _ in 0..15 {
                if self.has_work_here() || self.shared.is_shutdown() {
                    return true;
                }
                spin_loop();
            }
            if self.has_work() {
                return true;
            }
            if end.is_some_and(|end| std::time::Instant::now() >= end) {
                return false;
            }
            std::thread::yield_now();
        }
    }

    /// `park` after the spins: registers as a sleeper, re-checks, and sleeps if nothing came.
    fn sleep(&self) {
        let searching = self.searching.replace(false);
        self.shared.idle.transition_worker_to_parked(self.index, searching);
        // `idle.rs` rule 4: registered and fenced; now re-check everything.
        let slept = !(self.has_work() || self.shared.is_shutdown());
        if slept {
            let timeout =
                self.wheel.borrow().next_deadline().map(|when| self.shared.clock.until(when));
            self.shared.remotes[self.index].parker.park(timeout);
            if self.shared.is_shutdown() {
                return;
            }
        }
        // Rule 5. A searcher whose re-check found work in the global queue searches on, so that
        // taking it hands off by rule 2: that work's notifiers saw it searching and woke nobody.
        // (Work in a peer's ring was pushed by a busy worker; resuming for it too made fork-join
        // slower and less even: `docs/design/scheduler.md`, section 5, rule 5.)
        let searches = self
            .shared
            .idle
            .wake_up(self.index, searching, !slept, || !self.shared.inject.is_empty());
        self.searching.set(searches);
        if slept {
            // Bring the wheel's clock up to date (and fire what came due): after a long park
            // it lags by the whole sleep, and a sleep that is already due (`sleep(ZERO)`) is
            // ready at once only within `NEAR_TICKS` of that clock.
            self.maintenance();
        }
    }
}

#[cfg(all(test, not(actor12_loom)))]
mod tests {
    use super::*;
    use crate::task::bare_task;

    /// A blocking pool of one thread for a bare `Shared`.
    fn pool() -> crate::blocking::Pool {
        crate::blocking::Pool::new("t".into(), None, 1, crate::blocking::DEFAULT_KEEP_ALIVE, None)
    }

    /// A worker takes a share of the global queue while a stealer, preempted after its claim,
    /// still holds half of its ring. The share used to be sized by the ring's length, the
    /// first push found the ring full and overflowed into the global queue, whose lock
    /// `pop_global` held: the worker, and then every thread that touched the queue, hung.
    #[test]
    fn taking_from_the_global_queue_during_a_steal_does_not_deadlock() {
        let (done_tx, done) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let (shared, mut locals) = Shared::new(2, pool(), std::time::Duration::ZERO);
            let core = Core::new(0, shared.clone(), locals.remove(0));
            for _ in 0..crate::loom::LOCAL_QUEUE_CAPACITY {
                core.local.push_back_or_overflow(bare_task(), &shared.inject);
            }
            assert_eq!(shared.inject.len(), 0, "the ring took them all");
            // Worker 1 claims half of worker 0's ring and stalls before copying it out.
            let claimed = shared.remotes[0].steal.claim_and_stall();
            assert_eq!(claimed as usize, crate::loom::LOCAL_QUEUE_CAPACITY / 2);
            // Worker 0 runs the other half, then tasks arrive from outside.
            while let Some(t) = core.local.pop() {
                drop(t);
            }
            for _ in 0..100 {
                shared.inject.push(bare_task());
            }
            let got = core.pop_global().is_some();
            let _ = done_tx.send(got);
            // The stalled claim's tasks are never copied out: leak them with the queues.
            std::mem::forget(core);
            std::mem::forget(shared);
        });
        // A guard against the hang this test is about, not a timing claim.
        let got = done.recv_timeout(std::time::Duration::from_secs(60)).expect("deadlocked");
        assert!(got, "a task from the global queue");
    }

    /// Review finding 5: a worker that the searching throttle refuses does not count other
    /// workers' rings as its work, so it parks instead of spinning while the searchers take it.
    #[test]
    fn a_worker_refused_by_the_throttle_ignores_peer_rings() {
        let (shared, mut locals) = Shared::new(3, pool(), std::time::Duration::ZERO);
        locals[0].push_back_or_overflow(bare_task(), &shared.inject);
        let core = Core::new(1, shared.clone(), locals.remove(1));
        assert!(shared.idle.try_transition_to_searching());
        // One searcher of three workers: worker 1 may still search, so worker 0's ring counts.
        assert!(core.has_work());
        assert!(shared.idle.try_transition_to_searching());
        // Two searchers: worker 1 would be refused; they take worker 0's ring.
        assert!(!core.has_work());
        drop(locals[0].pop());
    }

    /// Review of the idle protocol: worker 0 sleeps, worker 1 searches, and two tasks come from
    /// outside; their notifications see the searcher and wake nobody. Worker 1, which looked
    /// before they came, then goes to sleep, finds them in its re-check and takes both (one to
    /// run, one into its ring). It used to come back from that re-check as a non-searcher, so
    /// taking them handed nothing off: worker 0 slept on while the second task waited for the
    /// first's poll to return (loom model `searcher_finds_work_while_parking`).
    #[test]
    fn a_searcher_that_finds_work_as_it_parks_wakes_a_sleeper_for_the_rest() {
        let (shared, mut locals) = Shared::new(2, pool(), std::time::Duration::ZERO);
        let core = Core::new(1, shared.clone(), locals.remove(1));
        shared.idle.transition_worker_to_parked(0, false);
        assert!(shared.idle.try_transition_to_searching());
        core.searching.set(true);
        for _ in 0..2 {
            shared.inject.push(bare_task());
            shared.notify_parked();
        }
        assert_eq!(shared.idle.num_sleepers(), 1, "the searcher covers the tasks");
        core.sleep();
        let task = core.next_task(1).expect("the re-check found the tasks");
        assert_eq!(core.local.len(), 1, "the second task waits in worker 1's ring");
        core.run_task(task);
        assert_eq!(shared.idle.num_sleepers(), 0, "worker 0 is woken to steal the second task");
    }
}
