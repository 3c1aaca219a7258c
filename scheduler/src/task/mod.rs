//! Tasks: the unit a worker schedules, and the low-level API to define new kinds of them.
//!
//! A task is a heap allocation that starts with a [`Header`]: the state word
//! (`state.rs`), a pointer to a [`Vtable`] and the links of the runtime's task list. Run queues,
//! wakers and join handles hold [`TaskRef`]s, one counted reference each, and know nothing else
//! about the task: the vtable says how to run, cancel and free it. A plain future is one
//! implementation (`core.rs`); an actor (mailbox + state, scheduled when a push returns
//! `Push::Schedule`) is meant to be another, with no waker or channel in between.
//!
//! # Rules of the future task (see `state.rs` for the bits)
//!
//! 1. Only the holder of RUNNING touches the future or writes the output. RUNNING is taken by a
//!    worker that pops a notification (`State::transition_to_running`), or by a thread that
//!    cancels an idle task (`State::transition_to_shutdown`).
//! 2. A wake-up enqueues the task only on the idle -> notified edge, with a fresh reference; a
//!    wake during a poll sets NOTIFIED and the poller requeues the task (at the back of its queue,
//!    which is what makes `yield_now` fair).
//! 3. After COMPLETE the output belongs to the join handle if JOIN_INTEREST was set at that
//!    moment, else to the completer. A join handle that goes away before COMPLETE clears
//!    JOIN_INTEREST, and the completer drops the output.
//! 4. The join handle's waker lives in the task, handed between the join handle and the
//!    completer by the JOIN_WAKER bit (`state.rs`): the handle writes the slot only while the
//!    bit is clear, then sets it with a CAS that fails if the task completed; the completer
//!    wakes the stored waker only if the bit was set when it set COMPLETE. So either the
//!    completer wakes the handle, or the handle's CAS sees COMPLETE and reads the output.
//! 5. The runtime's task list holds one reference to every task that has returned `Pending` at
//!    least once, so that shutdown can cancel tasks that nobody will ever wake. A task joins it
//!    lazily, in the poll that first returns `Pending` and before RUNNING is released, and leaves
//!    it when it completes. A task that has never returned `Pending` is queued or running, and
//!    shutdown cancels it where it is queued: most short tasks never touch the list.
//! 6. A task that yields through the fast path (`yield_now` with its own waker) keeps RUNNING
//!    while it waits in the run queue: the poller marks `Header::held` and requeues the task
//!    without touching the state word, and whoever pops the entry polls it without a transition
//!    (checking CANCELLED with a load first). Meanwhile the task looks running to everyone else:
//!    a wake sets NOTIFIED (a spurious poll later), `abort` and shutdown set CANCELLED for the
//!    entry's runner, and queues that drop entries at shutdown run held ones once more to cancel
//!    them (`TaskRef::shutdown_queued`).
//! 7. A wake on one of the task's runtime's workers (the common case: one task wakes another
//!    through a channel) queues an idle task there with RUNNING already taken: the wake's CAS sets
//!    RUNNING instead of NOTIFIED, the waker marks `Header::held`, and the entry is handled as in
//!    rule 6 (the next poll starts without a transition). Only where the scheduler says so
//!    (`Schedule::hold_here`): on a worker of the task's own runtime that is not shutting down,
//!    for a task not pinned elsewhere, so that the entry lands in a queue that the worker drains
//!    with `shutdown_queued`; a check on the same thread as the push, so that the worker cannot
//!    be past that drain.

pub(crate) mod core;
pub(crate) mod join;
pub(crate) mod list;
pub(crate) mod state;
pub(crate) mod waker;

use std::ptr::NonNull;
use std::task::Waker;

use crate::loom::UnsafeCell;
use state::State;

/// The first field of every task allocation.
///
/// Low-level API for the actor runtime; ordinary users want [`spawn`](crate::spawn).
#[repr(C)]
pub struct Header {
    pub(crate) state: State,
    pub(crate) vtable: &'static Vtable,
    /// The worker this task is pinned to, if any: it is then never put where others steal.
    pub(crate) pinned: Option<u32>,
    /// Its slot in the runtime's task list, or `list::NONE`; touched only under that list's
    /// shard lock.
    pub(crate) owned: UnsafeCell<u32>,
    /// The task's queue entry holds RUNNING: the task yielded through the fast path and was
    /// requeued without releasing it (`core.rs`). Touched only by the RUNNING holder: the poller
    /// that sets it, then whoever takes the entry out of its queue. Never set for bare tasks.
    pub(crate) held: UnsafeCell<bool>,
}

// Four words: the list's slot index and `held` share the last one.
#[cfg(not(actor12_loom))]
const _: () = assert!(std::mem::size_of::<Header>() == 32);

// SAFETY: the state word is atomic; `owned` is only accessed under the task list's lock; `held`
// only by the holder of RUNNING, one thread at a time, handed over with the queue entry (whose
// push and pop order the accesses); `pinned` and the vtable are immutable.
unsafe impl Send for Header {}
// SAFETY: as for `Send`.
unsafe impl Sync for Header {}

impl std::fmt::Debug for Header {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Header").field("state", &self.state).finish_non_exhaustive()
    }
}

impl Header {
    /// A header for a scheduled unit that is not a future (an actor): `refs` references, no
    /// flags. The implementation uses the reference count through [`TaskRef`] and keeps its own
    /// scheduling state (for an actor: the mailbox's idle bit).
    ///
    /// `pinned` names the worker it must always run on (see [`spawn_pinned`](crate::spawn_pinned)).
    pub fn new_bare(vtable: &'static Vtable, refs: usize, pinned: Option<usize>) -> Header {
        Header {
            state: State::new_bare(refs),
            vtable,
            pinned: pinned.map(|w| w as u32),
            owned: UnsafeCell::new(list::NONE),
            held: UnsafeCell::new(false),
        }
    }

    pub(crate) fn new_task(vtable: &'static Vtable, refs: usize, pinned: Option<usize>) -> Header {
        Header {
            state: State::new_task(refs),
            vtable,
            pinned: pinned.map(|w| w as u32),
            owned: UnsafeCell::new(list::NONE),
            held: UnsafeCell::new(false),
        }
    }

    /// The task kind's vtable (for a task kind that must call its own `shutdown`).
    pub fn vtable(&self) -> &'static Vtable {
        self.vtable
    }

    /// The worker this task is pinned to, if any.
    #[inline]
    pub fn pinned(&self) -> Option<usize> {
        self.pinned.map(|w| w as usize)
    }
}

/// How a worker drives a kind of task. Every function gets a pointer to the task's [`Header`].
///
/// Low-level API for the actor runtime. The functions are called by the scheduler as follows:
/// `run` by the worker that popped the task (it consumes that reference and may hand one back to
/// be queued again at the back of the run queue), `schedule` by a waker (with a reference to
/// queue), `shutdown` by runtime shutdown at most once per task (a task both queued and in the
/// task list is deduplicated by a header bit; `JoinHandle::abort`, which only future tasks have,
/// may call it again, so it must be idempotent for them), borrowing a reference, and `dealloc`
/// when the last reference goes. A panic escaping `run` is caught by the worker, which goes on
/// with its other tasks; the task itself is then in whatever state the panic left it. `try_read_output` and `drop_join_handle` are called
/// only by `JoinHandle`, which only future tasks have; other kinds may make them unreachable.
#[derive(Debug)]
pub struct Vtable {
    /// Runs the task once. Returns the reference back if the task wants to run again later.
    pub run: unsafe fn(TaskRef) -> Option<TaskRef>,
    /// Puts the task in a run queue (of the runtime it belongs to).
    pub schedule: unsafe fn(TaskRef),
    /// Cancels the task: drops what it holds, so that its destructors run. Called by runtime
    /// shutdown at most once per task.
    pub shutdown: unsafe fn(NonNull<Header>),
    /// What runtime shutdown calls for a task it took out of the task list (the caller keeps
    /// the list's reference), if the kind needs its own: `None` for `shutdown` through the
    /// SHUTDOWN bit, as from a queue. An actor's asks for its run token instead, since the
    /// list, unlike a queue entry, does not hold it.
    pub shutdown_listed: Option<unsafe fn(NonNull<Header>)>,
    /// Frees the allocation. Called once, when the reference count reaches zero.
    pub dealloc: unsafe fn(NonNull<Header>),
    /// Writes `Poll<Result<T, JoinError>>` to the `*mut ()` if complete, else registers the waker.
    pub try_read_output: unsafe fn(NonNull<Header>, *mut (), &Waker),
    /// The join handle is dropped.
    pub drop_join_handle: unsafe fn(NonNull<Header>),
}

/// One counted reference to a task. Dropping it drops the reference.
///
/// Low-level API for the actor runtime.
pub struct TaskRef(NonNull<Header>);

// SAFETY: a task is shared between threads by design: its header is Sync, and the vtable
// functions are written for any thread (the future itself is `Send`).
unsafe impl Send for TaskRef {}

impl std::fmt::Debug for TaskRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("TaskRef").field(&self.0).finish()
    }
}

impl TaskRef {
    /// Adopts one reference.
    ///
    /// # Safety
    ///
    /// `ptr` points to a live task header and the caller owns one of its references, which the
    /// new `TaskRef` takes over.
    pub unsafe fn from_raw(ptr: NonNull<Header>) -> TaskRef {
        TaskRef(ptr)
    }

    /// Gives the reference up without dropping it.
    pub fn into_raw(self) -> NonNull<Header> {
        let ptr = self.0;
        std::mem::forget(self);
        ptr
    }

    /// The header.
    #[inline]
    pub fn header(&self) -> &Header {
        // SAFETY: we hold a reference, so the allocation is live.
        unsafe { self.0.as_ref() }
    }

    /// The raw pointer, still owned by `self`.
    pub fn as_ptr(&self) -> NonNull<Header> {
        self.0
    }

    /// A second reference to the same task.
    pub fn clone_ref(&self) -> TaskRef {
        self.header().state.ref_inc();
        TaskRef(self.0)
    }

    /// Runs the task through its vtable.
    pub(crate) fn run(self) -> Option<TaskRef> {
        // Every kind of task starts its run with a full budget (an actor's run too, which polls
        // no future task of its own: it would otherwise spend what the last task left).
        crate::coop::reset();
        let run = self.header().vtable.run;
        // SAFETY: the vtable belongs to this task, and `run` takes over our reference.
        unsafe { run(self) }
    }

    /// Cancels the task (borrowing this reference), once: the runtime reaches a task both through
    /// a queue and through the task list at shutdown, and the header's SHUTDOWN bit makes the
    /// second call a no-op.
    pub(crate) fn shutdown(&self) {
        if self.header().state.claim_shutdown() {
            // SAFETY: we hold a reference, so the task is live; `shutdown` borrows it.
            unsafe { (self.header().vtable.shutdown)(self.0) }
        }
    }

    /// Cancels a task that runtime shutdown took out of the task list (this is the list's
    /// reference): through the vtable's `shutdown_listed` if the kind has one, else as
    /// [`shutdown`](Self::shutdown).
    pub(crate) fn shutdown_listed(&self) {
        match self.header().vtable.shutdown_listed {
            // SAFETY: we hold a reference, so the task is live; the list calls this once per
            // bind (it removed the entry).
            Some(listed) => unsafe { listed(self.0) },
            None => self.shutdown(),
        }
    }
}

impl TaskRef {
    /// Cancels a task taken out of a run queue that will never run it (a worker leaving at
    /// shutdown, a closed global or pinned queue), and drops the entry's reference.
    ///
    /// An entry of a task that yielded through the fast path holds RUNNING (`Header::held`):
    /// `shutdown` then only sets CANCELLED (it cannot tell the entry from a poller), so the
    /// entry is run once more, and `run` sees CANCELLED and drops the future.
    ///
    /// The entry sets CANCELLED itself before that run: the task list's shutdown, on another
    /// thread (a `shutdown_timeout` that gave up waiting for this worker), may have claimed the
    /// task's shutdown and not yet set CANCELLED. The run then polled the future instead, which
    /// yielded again, and the list found RUNNING and left CANCELLED for a runner that no longer
    /// existed: the future was never cancelled and its join handle never completed (loom model
    /// `a_held_entry_drained_while_the_list_shuts_the_task_down`).
    pub(crate) fn shutdown_queued(self) {
        self.shutdown();
        // SAFETY: a queue entry is the only one that may have set `held` and not cleared it
        // (the task's RUNNING holder), and we own this entry now; if `held` is clear, nobody
        // writes it while we read (no one else can poll the task: rule 2).
        if self.header().held.with(|h| unsafe { *h }) {
            // Held, so RUNNING is set (ours): this only sets CANCELLED, whoever claimed the
            // shutdown.
            let ours = self.header().state.transition_to_shutdown();
            debug_assert!(!ours, "a held entry's task was not RUNNING");
            let again = crate::coop::keep(|| self.run());
            debug_assert!(again.is_none(), "a cancelled task asked to run again");
        }
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        // SAFETY: we own one reference.
        unsafe { drop_ref(self.0) }
    }
}

/// Drops one reference, freeing the task if it was the last.
///
/// # Safety
///
/// The caller owns one reference to the live task at `ptr`, and gives it up.
pub(crate) unsafe fn drop_ref(ptr: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the header live until `ref_dec`.
    let header = unsafe { ptr.as_ref() };
    if header.state.ref_dec() {
        // SAFETY: that was the last reference: nobody else can reach the task.
        unsafe { (header.vtable.dealloc)(ptr) }
    }
}

/// Schedules `task` on the current worker (its LIFO slot) when called on a worker of a runtime,
/// or on `handle`'s global queue otherwise.
///
/// Low-level API for the actor runtime: an actor whose mailbox push returned `Push::Schedule`
/// calls this with a new reference to itself.
///
/// Once the runtime shuts down, the reference is dropped instead of queued: the task is not run
/// again, and it is cancelled (its vtable's `shutdown`) only through the task list, so a task
/// that must be cancelled at shutdown has to be bound
/// ([`TaskHandle::bind_task`](crate::TaskHandle::bind_task)).
pub fn schedule(handle: &crate::Handle, task: TaskRef) {
    let pinned = task.header().pinned();
    handle.shared.schedule(task, pinned);
}

/// Spends a message send's share of the running task's cooperative budget (a 64th of the
/// unit the runtime's join handles and timers spend each time they are polled): `false` once
/// it is spent, after waking the task, which the caller then leaves by returning `Pending`.
/// In a `block_on` or a blocking closure, always `true`; polled by another executor, it spends
/// that executor's budget as [`poll_foreign_budget`] does (tokio's, with the `tokio` feature;
/// else `true`).
///
/// Low-level API for the actor runtime: a send that finds room every time (an unbounded
/// mailbox, or a bounded one that another worker drains) would otherwise let a loop of sends
/// keep its worker for good, its timers and the other tasks there waiting.
#[inline(always)]
pub fn poll_send_budget(cx: &mut std::task::Context<'_>) -> bool {
    crate::coop::proceed_send(cx)
}

/// For a future polled by another executor (in no task, `block_on` or blocking closure of an
/// actor12 runtime: a tokio task, say): spends one unit of that executor's cooperative budget,
/// and is false (the task's wake left to the executor) if it is spent. With the `tokio`
/// feature that is tokio's budget, which the runtime's own leaf futures (join handles, timers,
/// sends through [`poll_send_budget`]) spend there too; without it, and elsewhere, true.
///
/// Low-level API for the actor runtime: a reply awaited in a tokio task spends tokio's budget,
/// as tokio's own channels do, so that a loop of asks answered at once gives its tokio thread
/// back.
#[inline(always)]
pub fn poll_foreign_budget(cx: &mut std::task::Context<'_>) -> bool {
    crate::coop::proceed_foreign(cx)
}

/// Spends the rest of the running task's cooperative budget: its next send, or poll of a join
/// handle or timer, wakes it and returns `Pending`, so it waits its turn behind the tasks
/// queued on its worker; an actor's run ends after the message it is handling. Outside a task,
/// nothing.
///
/// Low-level API for the actor runtime: a sender told that the actor it feeds is far behind
/// (`actor12_mailbox::Push::Backlogged`) gives way, so that an actor fed by a task on its own
/// worker catches up instead of its unbounded mailbox growing for as long as the task sends.
pub fn give_way() {
    crate::coop::spend_all()
}

/// Whether the running task's cooperative budget is spent: a kind of task whose run polls
/// again after a wake during the run (an actor's) ends the run instead, since whatever spent
/// the budget refuses the next poll too.
pub fn budget_spent() -> bool {
    crate::coop::spent()
}

/// Where a task goes when it is woken, and how it leaves the runtime's task list.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// Queues a notified task.
    fn schedule(&self, task: TaskRef);
    /// Removes the task from the task list, returning the list's reference if it was there.
    fn release(&self, task: NonNull<Header>) -> Option<TaskRef>;
    /// Adds the task to the task list, taking over `task` (a reference for the list). Fails,
    /// giving it back, once the runtime shuts down.
    fn bind(&self, task: TaskRef) -> Result<(), TaskRef>;

    /// Where [`schedule_held`](Self::schedule_held) would queue a task woken on this thread.
    type Here;

    /// Enters the task's runtime on this thread for an abort that drops the future here, unless
    /// this thread is one of its workers: the future's destructors then find the task's runtime
    /// (`spawn`, `Handle::current`), as those a worker or the shutdown runs do.
    fn enter_for_abort(&self) -> Option<crate::context::Entered> {
        None
    }

    /// Asked by a wake before it changes the task's state: `Some` if a task woken on this
    /// thread now can be queued here with its entry holding RUNNING (rule 7), in a queue whose
    /// owner, at shutdown, runs held entries once more to cancel them
    /// ([`TaskRef::shutdown_queued`]) instead of dropping them.
    fn hold_here(&self) -> Option<Self::Here> {
        None
    }

    /// Queues `task`, whose entry holds RUNNING, where `hold_here` said (same thread, same
    /// wake).
    fn schedule_held(here: Self::Here, task: TaskRef) {
        let _ = (here, task);
        unreachable!("`hold_here` said no")
    }
}

/// For unit tests: a task of an empty future that belongs to no scheduler.
#[cfg(all(test, not(actor12_loom)))]
pub(crate) fn bare_task() -> TaskRef {
    struct NoSchedule;

    impl Schedule for NoSchedule {
        fn schedule(&self, _: TaskRef) {}
        fn release(&self, _: NonNull<Header>) -> Option<TaskRef> {
            None
        }
        fn bind(&self, task: TaskRef) -> Result<(), TaskRef> {
            Err(task)
        }
        type Here = ();
    }

    let ptr = core::new_task(async {}, NoSchedule, 1, None);
    // SAFETY: the task's one reference.
    unsafe { TaskRef::from_raw(ptr) }
}
