//! The actor as the scheduled unit.
//!
//! One allocation per actor holds the runtime's task [`Header`], the actor's [`Mailbox`] and its
//! lifecycle future (`init`, the `cycle` loop, `terminate`). There is no waker or channel
//! between the mailbox and the scheduler:
//!
//! * The **run token** is the right to run the actor. Exactly one party holds it at a time: the
//!   mailbox's IDLE bit (the actor is parked), a run queue, or the worker running the actor. The
//!   sender whose push (or the waker whose notification) takes the mailbox out of IDLE gets the
//!   token and schedules the actor (`actor12_mailbox::Push::Schedule`); the worker gives it back
//!   to the mailbox with `try_idle` when the actor has nothing left to do. The token owns one
//!   counted reference to the allocation, so a queued actor can never be freed.
//! * A run polls the lifecycle future with a waker that is the actor itself: waking it sets the
//!   mailbox's NOTIFY bit. When the future is pending, the run asks *why*: waiting for a message
//!   (the receiver found the mailbox empty) -> `try_idle`, which fails if a message arrived;
//!   waiting for something else (a reply, a timer) -> `try_idle_unless_notified`, which ignores
//!   queued messages; out of budget or a message still being written -> requeue.
//! * Once the lifecycle ends (or a handler panics and `crash` has run), the actor never goes idle
//!   again, so nobody can schedule it; the mailbox is closed and drained (askers of the dropped
//!   messages get their error at once), waiters of `Link::wait` are woken, and the token's
//!   reference is dropped.
//! * The runtime's task list (for shutdown) holds a reference too, but not the token: at
//!   shutdown it calls the vtable's `shutdown_listed`, not the `shutdown` of a run-token
//!   holder, and that only *asks* for the token (a notification); whoever holds it tears the
//!   actor down, exactly once.

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, MaybeUninit, offset_of};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use actor12_mailbox::{Mailbox, Pop, Push};
#[cfg(not(actor12_loom))]
use actor12_scheduler::TaskHandle;
use actor12_scheduler::task::{Header, TaskRef, Vtable};

use crate::cancel::{Waiters, wakers};
use crate::loom::{AtomicBool, AtomicUsize, Mutex, Ordering::*, UnsafeCell};
#[cfg(actor12_loom)]
use crate::loom_api::Handle as TaskHandle;

/// Messages one run takes from the mailbox before it lets other actors on the worker go.
const BATCH: u32 = 64;

/// The part of an actor's allocation that does not depend on its lifecycle future's type.
///
/// `repr(C)`, and the order is the layout: the header (read by the worker on every run, and by
/// a sender that schedules the actor), a cache line of fields that change rarely (63 bytes at
/// least, checked below), the mailbox (its first words written by every sender, its last ones
/// by the consumer), and last `run`, which the worker writes on every run. So no line that
/// senders write holds the header, and `run` shares a line with the consumer's own words, not
/// with the senders' or the header.
/// The allocation needs no more than pointer alignment: an over-aligned one would take the
/// system allocator's slow `memalign` path on every spawn.
#[repr(C)]
pub(crate) struct Core<M> {
    /// The run token's header: must stay the first field (pointers to it are pointers to `Core`).
    header: Header,
    pub(crate) handle: TaskHandle,
    /// How many links there are (see [`LinkRef`]); 0 once the last is gone, for good.
    links: AtomicUsize,
    stopped: Stopped,
    /// A `&'static` (see `allocate`), kept as a pointer: a reference would make the struct
    /// require `M: 'static` of every type that names it. Also where the actor's waker's vtable
    /// lies ([`Hooks::waker`]).
    hooks: NonNull<Hooks<M>>,
    pub(crate) mailbox: Mailbox<M>,
    /// Touched only by the run token's holder, on every run.
    run: RunState,
}

// The header's words and the mailbox's first words (written by every sender) are 63 bytes or
// more apart, so no 64-byte cache line holds both.
#[cfg(not(actor12_loom))]
const _: () = assert!(offset_of!(Core<()>, mailbox) >= std::mem::size_of::<Header>() + 63);

// What an actor's core costs it (`docs/design/actors.md` §1.3). The gap between the header and
// the mailbox is exactly 64 bytes now: a word less in it fails the assert above.
#[cfg(not(actor12_loom))]
const _: () = assert!(std::mem::size_of::<Core<()>>() == 264);

// SAFETY: the mailbox moves `M`s between threads (`M: Send`); `run` and the stage are touched
// only by the run token's holder, one thread at a time, with the token's hand-over (a queue push
// and pop, or the mailbox's state word) ordering their accesses; everything else is atomic or
// locked.
unsafe impl<M: Send> Sync for Core<M> {}
// SAFETY: as above.
unsafe impl<M: Send> Send for Core<M> {}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Waiting {
    /// The future is pending on something other than the mailbox: a reply, a timer, a lock.
    Other,
    /// The receiver found the mailbox empty.
    Mailbox,
    /// Out of budget, or a message is still being written: requeue.
    Yield,
}

/// Cells, not a `&mut`: the run loop and the receiver it polls both use them.
struct RunState {
    budget: Cell<u32>,
    waiting: Cell<Waiting>,
}

/// "The actor has stopped", for `Link::wait`: a flag and the wakers waiting for it; and the
/// shutdown's request to stop, in the same word as the flag (a word less in every actor).
struct Stopped {
    done: AtomicBool,
    /// Set by the task list at shutdown before it asks for the run token; a holder that sees it
    /// tears the actor down instead of running it (see `shutdown_listed`).
    kill: AtomicBool,
    waiters: Mutex<StopWaiters>,
}

/// The wakers of `Link::wait`: one (the usual case, `cancel_and_wait`) without an allocation.
///
/// Each waiting future has an entry of its own, under an id unique among the entries, and takes
/// it out when it is dropped: a `wait()` raced with something else and dropped must not keep
/// its waker (and the task that waker keeps alive) until the actor stops. Past the first, the
/// entries are a cancel token's kind ([`Waiters`]): found by binary search, so dropping many
/// waiting futures is not quadratic. Boxed, as few actors ever have two waiting at once: an
/// idle actor is 16 bytes smaller than with them in place (a `Waiters` is five words).
#[derive(Default)]
enum StopWaiters {
    #[default]
    None,
    /// The entry of id 0: made only from `None`, so no other entry is there.
    One(Waker),
    Many(Box<Waiters>),
}

impl StopWaiters {
    /// Adds an entry for `waker`; returns its id.
    fn add(&mut self, waker: &Waker) -> u64 {
        match self {
            StopWaiters::None => {
                *self = StopWaiters::One(waker.clone());
                0
            }
            StopWaiters::One(_) => {
                let StopWaiters::One(first) = std::mem::take(self) else { unreachable!() };
                let mut all = Box::<Waiters>::default();
                all.push(first); // id 0, as it was
                let id = all.push(waker.clone());
                *self = StopWaiters::Many(all);
                id
            }
            StopWaiters::Many(all) => all.push(waker.clone()),
        }
    }

    /// The waker of entry `id`, if it is there.
    fn get_mut(&mut self, id: u64) -> Option<&mut Waker> {
        match self {
            StopWaiters::None => None,
            StopWaiters::One(waker) => (id == 0).then_some(waker),
            StopWaiters::Many(all) => all.find(id),
        }
    }

    /// Takes entry `id` out, if it is there.
    fn remove(&mut self, id: u64) -> Option<Waker> {
        match self {
            StopWaiters::One(_) if id == 0 => {
                let StopWaiters::One(waker) = std::mem::take(self) else { unreachable!() };
                Some(waker)
            }
            StopWaiters::Many(all) => all.remove(id),
            _ => None,
        }
    }

    /// Wakes each waiter. A waker that panics is skipped: the others are still woken, and the
    /// teardown that calls this goes on (the panic hook has reported it).
    fn wake_all(self) {
        let wake = |waker: Waker| drop(catch_unwind(AssertUnwindSafe(|| waker.wake())));
        match self {
            StopWaiters::None => {}
            StopWaiters::One(waker) => wake(waker),
            StopWaiters::Many(mut all) => wakers(all.take()).for_each(wake),
        }
    }
}

#[repr(C)]
struct Task<M, L, F> {
    core: Core<M>,
    /// What the actor's links share (see [`LinkRef`]): dropped in place with the last link.
    /// In a cell because that drop may happen while a worker holds `&Task` to run the actor:
    /// a shared borrow asserts that no byte outside a cell changes while it lives. std's cell,
    /// not the loom shim's: links reach the part by its offset (`part_of`), which needs the
    /// cell to have `L`'s layout, and loom's cell does not.
    link: std::cell::UnsafeCell<ManuallyDrop<L>>,
    /// Through the loom shim, so that the actor models see every access to it.
    stage: UnsafeCell<Stage<F>>,
}

impl<M, L, F> Task<M, L, F> {
    /// The lifecycle's stage.
    ///
    /// # Safety
    /// The caller holds the run token (whose hand-over orders the accesses of its holders), and
    /// uses the reference only while it does.
    #[allow(clippy::mut_from_ref, reason = "the run token, not the borrow, makes it exclusive")]
    unsafe fn stage(&self) -> &mut Stage<F> {
        // SAFETY: per the contract, nobody else touches the stage meanwhile.
        self.stage.with_mut(|p| unsafe { &mut *p })
    }
}

/// The running lifecycle, or one of the other stages. Two variants, so that the stage needs no
/// tag of its own: a niche of the lifecycle's (its `Scoped`'s token pointer) tells them apart,
/// and the others fit beside it. Four flat variants took an 8-byte tag once the lifecycle had
/// none left to lend (`actor.rs`, `Lifecycle`).
enum Stage<F> {
    Running(F),
    Other(Other),
}

/// The size of the stage around a lifecycle `F` (a test checks that it is `F`'s).
#[cfg(test)]
pub(crate) fn stage_size<F>() -> usize {
    std::mem::size_of::<Stage<F>>()
}

enum Other {
    /// Allocated, lifecycle not written yet (during `spawn`).
    Empty,
    /// The actor's code panicked; its `crash` hook runs.
    Crashing(Pin<Box<dyn Future<Output = ()> + Send>>),
    Done,
}

/// A counted reference to an actor's core (what links and receivers hold).
pub(crate) struct CoreRef<M> {
    task: TaskRef,
    _message: std::marker::PhantomData<fn(M)>,
}

// SAFETY: a `CoreRef` only gives `&Core<M>`, whose shared API is thread-safe for `M: Send`
// (the mailbox moves messages between threads; everything else is atomic or locked).
unsafe impl<M: Send> Send for CoreRef<M> {}
// SAFETY: as above.
unsafe impl<M: Send> Sync for CoreRef<M> {}

/// A counted reference to an actor's task, whatever its message type: for the runtime the actor
/// runs on ([`handle`](Self::handle)), which lies at one offset in every `Core<M>` (`repr(C)`,
/// and only the header comes before it).
#[cfg(not(actor12_loom))]
pub(crate) struct ActorRef(TaskRef);

#[cfg(not(actor12_loom))]
// SAFETY: `&ActorRef` gives only `&TaskHandle` (`handle`), which is `Sync`; the task reference
// is released only by the owner's drop. (So that `TaskSet`, and the `ActorContext` holding it,
// are `Sync`: a handler may hold `&ctx` across an await, as in actor12 0.0.11.)
unsafe impl Sync for ActorRef {}

// `ActorRef::handle`'s offset: the same whatever the message type.
#[cfg(not(actor12_loom))]
const _: () = assert!(offset_of!(Core<()>, handle) == offset_of!(Core<[u128; 3]>, handle));

#[cfg(not(actor12_loom))]
impl ActorRef {
    /// The runtime the actor runs on.
    pub(crate) fn handle(&self) -> &TaskHandle {
        let at = offset_of!(Core<()>, handle);
        // SAFETY: the reference keeps the task alive, and every task an `ActorRef` points to was
        // made by `allocate`, a `Core<M>` first, whose `handle` is at `at` for any `M` (it
        // follows the header alone); it is never written after `allocate`.
        unsafe { &*self.0.as_ptr().as_ptr().cast::<u8>().add(at).cast::<TaskHandle>() }
    }
}

#[cfg(not(actor12_loom))]
impl<M> CoreRef<M> {
    /// This reference, for [`ActorRef`]'s uses.
    pub(crate) fn erase(self) -> ActorRef {
        ActorRef(self.task)
    }
}

impl<M> Clone for CoreRef<M> {
    fn clone(&self) -> Self {
        CoreRef { task: self.task.clone_ref(), _message: std::marker::PhantomData }
    }
}

impl<M> std::ops::Deref for CoreRef<M> {
    type Target = Core<M>;

    fn deref(&self) -> &Core<M> {
        // SAFETY: the reference keeps the allocation alive; `Core` is `repr(C)` with the header
        // first, so the header pointer is the core pointer.
        unsafe { self.task.as_ptr().cast::<Core<M>>().as_ref() }
    }
}

impl<M> CoreRef<M> {
    /// Identity of the actor (for `Eq`/`Hash` of links).
    pub(crate) fn addr(&self) -> usize {
        self.task.as_ptr().as_ptr() as usize
    }

    /// True if this thread is running this actor now (its run token's holder): the receiver
    /// checks it, so that one moved out of its actor's context cannot consume the mailbox.
    #[cfg(not(actor12_loom))]
    #[inline]
    pub(crate) fn runs_here(&self) -> bool {
        runs_actor(self.addr())
    }

    /// Loom's threads share the OS thread's locals; the models never move a receiver.
    #[cfg(actor12_loom)]
    pub(crate) fn runs_here(&self) -> bool {
        true
    }

    /// [`runs_here`](Self::runs_here) where a `true` changes what happens (a send past the
    /// bound) rather than guards: `false` under loom, as [`runs_actor`].
    pub(crate) fn is_own_run(&self) -> bool {
        runs_actor(self.addr())
    }
}

#[cfg(not(actor12_loom))]
thread_local! {
    /// The actor this thread is running (the address of its header), or 0.
    static RUNNING: Cell<usize> = const { Cell::new(0) };
    /// True while [`DEFERRED`] holds a slot: read at the end of every run, so a flag that needs
    /// no destructor (a cheaper thread-local than the list).
    static ANY_DEFERRED: Cell<bool> = const { Cell::new(false) };
    /// Reply slots dropped unanswered while this thread's actor run unwound from a panic
    /// ([`defer_close`]), closed when the run ends.
    static DEFERRED: std::cell::RefCell<Vec<Deferred>> = const {
        std::cell::RefCell::new(Vec::new())
    };
}

/// A reply slot whose closing waits for the end of the run (see [`defer_close`]).
#[cfg(not(actor12_loom))]
struct Deferred {
    slot: NonNull<()>,
    close: unsafe fn(NonNull<()>),
    /// The actor whose run kept it (its [`RUNNING`] mark): the run that closes it at its end.
    run: usize,
}

/// Called by a reply slot's sender dropped unanswered while this thread panics: if the thread
/// is running an actor, keeps `slot` to be closed (`close(slot)`) when the run ends, and
/// returns true. The panic stops the actor, whose mailbox closes first (`run`): its askers hear
/// of it only then, so an asker that gets the error finds the actor gone (`alive()` false, a
/// send failing) rather than still taking messages. Returns false off an actor's run: close
/// now.
#[cfg(not(actor12_loom))]
pub(crate) fn defer_close(slot: NonNull<()>, close: unsafe fn(NonNull<()>)) -> bool {
    let run = RUNNING.with(Cell::get);
    if run == 0 {
        return false;
    }
    // A `try_with`: a thread being torn down (its locals destroyed) closes at once.
    let run = run & !TEARING_DOWN;
    let kept = DEFERRED.try_with(|d| d.borrow_mut().push(Deferred { slot, close, run })).is_ok();
    if kept {
        ANY_DEFERRED.with(|any| any.set(true));
    }
    kept
}

/// Closes the slots [`defer_close`] kept in the run of the actor at `run`, which is ending: the
/// last ones kept. Those below them were kept by a run this one is nested in (an actor's first
/// run is made inside a spawn from another actor's run), and close when that run ends. Each
/// close may run a waker (user code): one that panics does not stop the others.
#[cfg(not(actor12_loom))]
#[cold]
fn close_deferred(run: usize) {
    let this_runs = |d: &std::cell::RefCell<Vec<Deferred>>| {
        let mut d = d.borrow_mut();
        if d.last().is_some_and(|last| last.run == run) { d.pop() } else { None }
    };
    while let Some(Deferred { slot, close, .. }) = DEFERRED.with(this_runs) {
        // SAFETY: `close` was given with `slot` by its sender, which is gone and left the
        // slot to it.
        let _ = catch_unwind(AssertUnwindSafe(|| unsafe { close(slot) }));
    }
    ANY_DEFERRED.with(|any| any.set(DEFERRED.with(|d| !d.borrow().is_empty())));
}

/// True if this thread is running the actor whose header is at `addr`.
#[cfg(not(actor12_loom))]
#[inline]
pub(crate) fn runs_actor(addr: usize) -> bool {
    RUNNING.with(|r| r.get()) == addr
}

/// Set in the [`RUNNING`] mark while the run tears its actor down past the release of the
/// mailbox's blocks (a header's address is aligned, so its low bit is free).
const TEARING_DOWN: usize = 1;
const _: () = assert!(std::mem::align_of::<Header>() > TEARING_DOWN);

/// The run of the actor at `addr` on this thread (if it is one) is past the release of its
/// mailbox's blocks: what the teardown runs from here on (the wakers of `wait` and of the
/// askers, user code) is not the actor's run, and its receiver, whose blocks are gone, refuses
/// it. It did not, a review found (2026-12-07): a receiver swapped out of a live actor's context
/// (as `a_live_actors_receiver_cannot_be_used_outside_its_run` does) and used by such a waker
/// popped from a freed block. The run's end still closes the slots it deferred.
#[cfg(not(actor12_loom))]
fn mark_tearing_down(addr: usize) {
    RUNNING.with(|r| {
        if r.get() == addr {
            r.set(addr | TEARING_DOWN);
        }
    });
}

/// Loom's threads share the OS thread's locals, so `RUNNING` means nothing there; the models
/// never send to, or wait for, the actor they run in.
#[cfg(actor12_loom)]
pub(crate) fn runs_actor(_: usize) -> bool {
    false
}

/// Marks this thread as running the actor at `addr` until dropped, then restores the mark and
/// closes the reply slots the run deferred ([`defer_close`]).
struct Running(#[cfg(not(actor12_loom))] usize);

impl Running {
    #[inline]
    fn enter(#[cfg_attr(actor12_loom, allow(unused_variables))] addr: usize) -> Running {
        #[cfg(not(actor12_loom))]
        return Running(RUNNING.with(|r| r.replace(addr)));
        #[cfg(actor12_loom)]
        Running()
    }
}

impl Drop for Running {
    #[inline]
    fn drop(&mut self) {
        #[cfg(not(actor12_loom))]
        {
            let run = RUNNING.with(|r| r.replace(self.0)) & !TEARING_DOWN;
            if ANY_DEFERRED.with(Cell::get) {
                close_deferred(run);
            }
        }
    }
}

impl<M: Send + 'static> CoreRef<M> {
    /// Schedules the actor after a push or notification returned `Push::Schedule`: the caller
    /// now holds the run token and hands it to the runtime.
    pub(crate) fn schedule(&self) {
        // SAFETY: the reference keeps the task alive, and the caller holds its run token.
        unsafe { schedule_at::<M>(self.task.as_ptr()) }
    }

    /// Pushes a message, waiting for room in a bounded mailbox; schedules the actor if it was
    /// idle. Gives the message back if the actor has stopped.
    pub(crate) fn send(&self, msg: M) -> SendFuture<'_, M> {
        SendFuture { core: self, push: self.mailbox.push(msg) }
    }

    /// Pushes a message without waiting; gives it back if the mailbox is full or closed.
    pub(crate) fn try_send(&self, msg: M) -> Result<(), actor12_mailbox::TrySendError<M>> {
        let push = self.mailbox.try_push(msg)?;
        self.pushed(push);
        Ok(())
    }

    /// What a sender does after its push: schedules the actor if the push woke it, gives way if
    /// the actor is far behind.
    #[inline(always)]
    fn pushed(&self, push: Push) {
        match push {
            Push::Schedule => self.schedule(),
            Push::Queued => {}
            Push::Backlogged => self.backlogged(),
        }
    }

    /// The actor is hundreds of messages behind (`docs/design/mailbox.md` section 6): the
    /// sending task's next send (or timer, or join handle) yields, so that the actor, if it
    /// waits on this worker, gets to run and its queue stops growing. Not from the actor's own
    /// run, which would only end early.
    #[cold]
    #[inline(never)]
    fn backlogged(&self) {
        if !self.is_own_run() {
            actor12_scheduler::task::give_way();
        }
    }

    /// True once the actor has stopped and been torn down (what [`stopped`](Self::stopped)
    /// waits for); its mailbox closes earlier, before a drain, `terminate` or `crash`.
    pub(crate) fn has_stopped(&self) -> bool {
        // Acquire: pairs with the release in `Stopped::set`, as `StoppedFuture::poll`.
        self.stopped.done.load(Acquire)
    }

    /// Resolves once the actor has stopped and been torn down. Awaited from the actor's own
    /// run, it panics: the run would wait for its own end.
    pub(crate) fn stopped(&self) -> StoppedFuture<'_> {
        StoppedFuture { stopped: &self.stopped, actor: self.addr(), id: None }
    }

    /// The actor's own waker, owning this reference.
    pub(crate) fn into_waker(self) -> Waker {
        let vtable = self.waker_vtable();
        let ptr = self.task.into_raw();
        // SAFETY: the raw waker owns the reference given up just above; the vtable matches `M`.
        unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr().cast(), vtable)) }
    }
}

impl<M: Send + 'static> Core<M> {
    /// Marks `msg`, just taken out of the mailbox by the actor's own code, as delivered (see
    /// [`Hooks::delivered`]).
    pub(crate) fn mark_delivered(&self, msg: &M) {
        (self.hooks().delivered)(msg);
    }

    fn hooks(&self) -> &'static Hooks<M> {
        // SAFETY: made from a `&'static Hooks<M>` in `allocate`, and never written.
        unsafe { self.hooks.as_ref() }
    }

    /// The vtable of the actor's wakers: one address for all of them (`Waker::will_wake`
    /// compares it), found through `hooks` rather than kept in a word of its own.
    #[inline]
    fn waker_vtable(&self) -> &'static RawWakerVTable {
        &self.hooks().waker
    }

    /// True once the actor has stopped (its mailbox is closed).
    pub(crate) fn is_closed(&self) -> bool {
        self.mailbox.is_closed()
    }
}

/// [`CoreRef::schedule`] for the task at `ptr`: hands the run token, which the caller holds, to
/// the runtime.
///
/// Every task pointer here (the ones that links, wakers, queues and the task list hold) comes
/// from `allocate`'s box and so may reach, and free, the whole allocation; none is made from a
/// borrow of a field.
///
/// # Safety
/// `ptr` is the header of a live `Task` for messages `M`, and the caller holds its run token.
unsafe fn schedule_at<M: Send + 'static>(ptr: NonNull<Header>) {
    // SAFETY: per the contract.
    unsafe { hand_over::<M>(ptr, false) }
}

/// [`schedule_at`], or with `first` the actor's first run: [`TaskHandle::try_start`] runs it at
/// once on one of the runtime's workers. Not while the thread unwinds (a destructor that
/// spawns): no actor's code runs nested in an unwinding run. (Before each run closed only the
/// reply slots it deferred itself, `close_deferred`, the new actor's run ended by closing those
/// the unwinding actor dropped, before that actor's mailbox was closed.)
///
/// [`TaskHandle::try_start`]: actor12_scheduler::TaskHandle::try_start
///
/// # Safety
/// As for [`schedule_at`].
unsafe fn hand_over<M: Send + 'static>(ptr: NonNull<Header>, first: bool) {
    // SAFETY: the run token owns one counted reference (module documentation), and the caller
    // holds the token.
    let token = unsafe { TaskRef::from_raw(ptr) };
    // SAFETY: per the contract.
    let core = unsafe { core_ref::<M>(ptr) };
    let handed = if first && !std::thread::panicking() {
        start_here(&core.handle, token)
    } else {
        core.handle.try_schedule(token)
    };
    if let Err(token) = handed {
        // The runtime is shut down: nobody will run the actor, and the task list may already
        // have asked for the token in vain. Its holder (us) tears the actor down, here.
        // SAFETY: the vtable's `shutdown` expects the run token, which we hold.
        unsafe { (token.header().vtable().shutdown)(token.as_ptr()) };
    }
}

/// [`TaskHandle::try_start`], with what a worker's run has around it: no spawner's token
/// published (`without_parent`), and with the `tokio` feature the tokio context of the thread's
/// actor runs (see `tokio_bridge::threads_context`).
fn start_here(handle: &TaskHandle, token: TaskRef) -> Result<(), TaskRef> {
    #[cfg(all(feature = "tokio", not(actor12_loom)))]
    let Some(context) = crate::runtime::tokio_bridge::threads_context() else {
        return handle.try_schedule(token);
    };
    #[cfg(all(feature = "tokio", not(actor12_loom)))]
    let _entered = context.as_ref().map(tokio::runtime::Handle::enter);
    #[cfg(not(actor12_loom))]
    return crate::actor::without_parent(|| handle.try_start(token));
    #[cfg(actor12_loom)]
    handle.try_start(token)
}

/// The future of [`Core::stopped`].
pub(crate) struct StoppedFuture<'a> {
    stopped: &'a Stopped,
    /// The actor's address, to tell whether it is the one waiting.
    actor: usize,
    /// Our entry in the waiters, once we have one.
    id: Option<u64>,
}

impl Future for StoppedFuture<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let stopped = self.stopped;
        // Acquire: pairs with the release in `Stopped::set`.
        if stopped.done.load(Acquire) {
            return Poll::Ready(());
        }
        assert!(
            !runs_actor(self.actor),
            "an actor waited for its own stop (`cancel_and_wait` or `wait` in its own \
             handler): it stops only once the handler returns, so the wait would never end; \
             `cancel` and return instead"
        );
        let mut waiters = stopped.waiters.lock();
        // Checked again under the lock: `set` stores the flag before it takes the lock.
        if stopped.done.load(Acquire) {
            return Poll::Ready(());
        }
        // Our entry is there until `set` takes them all (and then `done` is seen above).
        match self.id.and_then(|id| waiters.get_mut(id)) {
            Some(waker) => {
                if !waker.will_wake(cx.waker()) {
                    // The old waker is dropped outside the lock: its drop is foreign code, which
                    // may drop another `wait()` of this actor, whose drop takes the lock.
                    let old = std::mem::replace(waker, cx.waker().clone());
                    drop(waiters);
                    drop(old);
                }
            }
            None => {
                let id = waiters.add(cx.waker());
                drop(waiters);
                self.id = Some(id);
            }
        }
        Poll::Pending
    }
}

impl Drop for StoppedFuture<'_> {
    fn drop(&mut self) {
        let Some(id) = self.id else { return };
        // Once `done` is set, `set` has taken (or is taking) every entry, ours included.
        if !self.stopped.done.load(Acquire) {
            // Dropped outside the lock: a waker's drop is foreign code.
            let waker = self.stopped.waiters.lock().remove(id);
            drop(waker);
        }
    }
}

impl Stopped {
    fn set(&self) {
        // Release: pairs with the acquire in `StoppedFuture::poll`.
        self.done.store(true, Release);
        let waiters = std::mem::take(&mut *self.waiters.lock());
        waiters.wake_all();
    }
}

/// How [`Core::poll_recv`] takes a message out of the mailbox: a lazy pop (`pop_lazy`), or, for
/// a large message, one into a place of the caller's (`pop_lazy_into`). A trait rather than a
/// closure: a closure passed down was not inlined (callgrind, envelope-style ping-pong: about 90
/// instructions a round trip more).
pub(crate) trait Take<M> {
    /// What a pop that found a message gives.
    type Out;

    /// # Safety
    /// As for `Mailbox::pop_lazy`.
    unsafe fn pop_lazy(&mut self, mailbox: &Mailbox<M>) -> Pop<Self::Out, ()>;
}

/// The message, returned.
pub(crate) struct ByValue;

impl<M> Take<M> for ByValue {
    type Out = M;

    #[inline(always)]
    unsafe fn pop_lazy(&mut self, mailbox: &Mailbox<M>) -> Pop<M, ()> {
        // SAFETY: the caller's contract.
        unsafe { mailbox.pop_lazy() }
    }
}

impl<M> Take<M> for MaybeUninit<M> {
    type Out = ();

    #[inline(always)]
    unsafe fn pop_lazy(&mut self, mailbox: &Mailbox<M>) -> Pop<(), ()> {
        // SAFETY: the caller's contract.
        unsafe { mailbox.pop_lazy_into(self) }
    }
}

/// What a run found the receiver doing, recorded by [`note_empty`] and friends.
pub(crate) enum RecvStep<M> {
    Message(M),
    Closed,
    Pending,
}

impl<M: Send + 'static> Core<M> {
    /// The consumer side of `ActorReceiver::poll_recv`: a message comes back by value
    /// ([`ByValue`]), or is moved into a place of the caller's (a `MaybeUninit<M>`).
    ///
    /// # Safety
    /// Only the run token's holder may call it (the actor's own task, while it runs).
    #[inline(always)]
    pub(crate) unsafe fn poll_recv<T: Take<M>>(&self, take: &mut T) -> RecvStep<T::Out> {
        let run = &self.run;
        let budget = run.budget.get();
        if budget == 0 {
            run.waiting.set(Waiting::Yield);
            return RecvStep::Pending;
        }
        loop {
            // SAFETY: the run token's holder has the consumer side of the mailbox. Unfenced: a
            // run ends in `try_idle` or `try_idle_unless_notified`, or is queued to pop again.
            match unsafe { take.pop_lazy(&self.mailbox) } {
                Pop::User(msg) => {
                    run.budget.set(budget - 1);
                    return RecvStep::Message(msg);
                }
                Pop::System(()) if self.killed() => return RecvStep::Pending,
                Pop::System(()) => continue,
                Pop::Closed => return RecvStep::Closed,
                Pop::Empty => {
                    run.waiting.set(Waiting::Mailbox);
                    return RecvStep::Pending;
                }
                Pop::Busy => {
                    run.waiting.set(Waiting::Yield);
                    return RecvStep::Pending;
                }
            }
        }
    }

    /// The consumer side of `ActorReceiver::try_recv`: a pop in the middle of the run that
    /// never asks for the run to end. `Pending` means no message is there now.
    ///
    /// It leaves `run.waiting` alone: that records why the lifecycle's poll is pending, and
    /// this call is not what it waits on (the code goes on after it, and whatever it awaits
    /// next says why). A message taken spends a unit of the budget, as `poll_recv`'s does, but
    /// a spent budget refuses nothing here: the next `poll_recv` ends the run instead.
    /// A slot still being written (`Busy`) is no message yet; so that nothing waits on its
    /// producer, it reads as none. No wake-up is lost: the next `poll_recv` finds it `Busy`
    /// and requeues the run, and a run that awaits something else instead goes idle as it
    /// would with any message queued (`try_idle_unless_notified`). Finding nothing, it passes
    /// room its lazy pops freed on to a sender waiting for it, which an idle transition would
    /// otherwise do: a run that only ever polls `try_recv` never makes one.
    ///
    /// # Safety
    /// As for [`poll_recv`](Core::poll_recv).
    #[inline]
    pub(crate) unsafe fn try_recv(&self) -> RecvStep<M> {
        loop {
            // SAFETY: the run token's holder has the consumer side of the mailbox. Unfenced, as
            // in `poll_recv`: the run still ends in an idle transition or is queued to pop
            // again.
            match unsafe { self.mailbox.pop_lazy() } {
                Pop::User(msg) => {
                    let run = &self.run;
                    run.budget.set(run.budget.get().saturating_sub(1));
                    return RecvStep::Message(msg);
                }
                Pop::System(()) if self.killed() => return RecvStep::Pending,
                Pop::System(()) => continue,
                Pop::Closed => return RecvStep::Closed,
                Pop::Empty | Pop::Busy => {
                    // The run may go on polling without an idle transition (a loop of
                    // `try_recv`): a sender that began waiting for room as a lazy pop freed it
                    // must not be missed (`loom-tests` `mailbox_bounded`'s
                    // `waiter_versus_a_consumer_that_only_polls`).
                    // SAFETY: as for `pop_lazy` above.
                    unsafe { self.mailbox.wake_missed_producer() };
                    return RecvStep::Pending;
                }
            }
        }
    }

    /// True while the run's budget lasts (`ActorReceiver::recv_many` takes no more past it).
    ///
    /// # Safety
    /// As for [`poll_recv`](Core::poll_recv).
    pub(crate) unsafe fn has_budget(&self) -> bool {
        self.run.budget.get() > 0
    }
}

impl<M> Core<M> {
    /// True once a runtime's shutdown has given up on the actor ([`shutdown_listed`]), which
    /// then sends it a system signal: a run that has gone on (its worker was stuck in a handler
    /// past the shutdown's deadline) finds the signal at its next receive, takes no more
    /// messages and ends, which tears the actor down (a receive says `Pending`, the run's
    /// `waiting` left at `Other`). Until 2026-12-07 such a run handled the rest of its batch,
    /// and messages sent after `shutdown_timeout` had returned (a review). Read only when a
    /// signal comes, so the receives pay nothing for it (a load in each cost 1% to 1.5% of
    /// ping-pong's and fan-in's instructions, callgrind).
    #[cold]
    fn killed(&self) -> bool {
        // Relaxed: the signal's pop (acquire) comes after the signal's push (release), which
        // came after this flag's store.
        self.stopped.kill.load(Relaxed)
    }

    /// The default `cycle`'s tick fired: it takes a unit of the run's budget, as a message
    /// does (so an always-ready tick still lets the worker go). A receive polled before the tick
    /// in this cycle no longer says why the run waits.
    ///
    /// # Safety
    /// As for [`poll_recv`](Core::poll_recv).
    pub(crate) unsafe fn note_tick(&self) {
        let run = &self.run;
        run.budget.set(run.budget.get().saturating_sub(1));
        run.waiting.set(Waiting::Other);
    }

    /// True if the last receive asked for the run to end (budget spent, or a message still
    /// being written).
    ///
    /// # Safety
    /// As for [`poll_recv`](Core::poll_recv).
    pub(crate) unsafe fn must_yield(&self) -> bool {
        self.run.waiting.get() == Waiting::Yield
    }
}

/// [`Core::send`]: pushes a message, waiting for room, and schedules the actor if the push
/// woke it. A future of its own (not an `async fn`) so that its poll, with the mailbox's, is
/// inlined into the sender's, and the message is not moved through the stack on the way.
pub(crate) struct SendFuture<'a, M: Send + 'static> {
    core: &'a CoreRef<M>,
    push: actor12_mailbox::PushFuture<'a, M>,
}

impl<M: Send + 'static> Future for SendFuture<'_, M> {
    type Output = Result<(), M>;

    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), M>> {
        // A send's share of the task's cooperative budget: a loop of sends that always find
        // room (an unbounded mailbox, or one another worker drains) kept its worker for good,
        // its timers and the tasks queued there waiting (a review of 2026-12-06). Spent, the
        // send wakes its task and waits its turn.
        if !actor12_scheduler::task::poll_send_budget(cx) {
            return Poll::Pending;
        }
        let push = match Pin::new(&mut self.push).poll(cx) {
            Poll::Ready(Ok(push)) => push,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e.0)),
            Poll::Pending => match self.full() {
                Some(Ok(push)) => push,
                Some(Err(e)) => return Poll::Ready(Err(e.0)),
                None => return Poll::Pending,
            },
        };
        self.core.pushed(push);
        Poll::Ready(Ok(()))
    }
}

impl<M: Send + 'static> SendFuture<'_, M> {
    /// Gives up a send that waits for room: its message back (`None` if it completed).
    pub(crate) fn give_up(&mut self) -> Option<M> {
        self.push.give_up()
    }

    /// The mailbox is full, and this send now waits for room. Unless it comes from the actor's
    /// own run (a handler telling its own actor), where no room can come: the run that would
    /// make it is the one waiting. Such a send goes past the bound instead (`None`: it waits).
    #[cold]
    #[inline(never)]
    fn full(&mut self) -> Option<Result<Push, actor12_mailbox::SendError<M>>> {
        self.core.is_own_run().then(|| self.push.push_past_bound())
    }
}

/// Allocates an actor whose lifecycle future is `F`, with `link` as what its links share.
/// Returns its first link, and `refs` references and `links` links more as spares. The
/// allocation starts with three references and the spare ones: the run token's (the mailbox
/// starts out of IDLE, see [`start`]), the links', and the task list entry's.
pub(crate) fn allocate<M, L, F>(
    handle: TaskHandle,
    capacity: Option<usize>,
    hooks: &'static Hooks<M>,
    link: L,
    refs: usize,
    links: usize,
) -> (LinkRef<M, L>, Spares<M, L>)
where
    M: Send + 'static,
    L: 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let mut mailbox = match capacity {
        Some(n) => Mailbox::bounded(n.max(1)),
        None => Mailbox::unbounded(),
    };
    // The new mailbox is IDLE: take the run token now, so no push can schedule the actor before
    // its lifecycle is written.
    let _ = mailbox.notify_unshared();
    // Written field by field into the allocation: a `Box::new` of the whole task built it on the
    // stack first and copied it (callgrind, `spawn_stop`: a 496-byte `memcpy` per spawn).
    let mut task = Box::<Task<M, L, F>>::new_uninit();
    let at = task.as_mut_ptr();
    // SAFETY: `at` is the new allocation, valid for writes of a `Task<M, L, F>` and aligned;
    // every field is written below, once, before `assume_init`.
    let task = unsafe {
        (&raw mut (*at).core).write(Core {
            header: Header::new_bare(vtable::<M, L, F>(), 3 + refs, None),
            mailbox,
            handle,
            links: AtomicUsize::new(1 + links),
            stopped: Stopped {
                kill: AtomicBool::new(false),
                done: AtomicBool::new(false),
                waiters: Mutex::new(StopWaiters::None),
            },
            run: RunState { budget: Cell::new(BATCH), waiting: Cell::new(Waiting::Other) },
            hooks: NonNull::from(hooks),
        });
        (&raw mut (*at).link).write(std::cell::UnsafeCell::new(ManuallyDrop::new(link)));
        (&raw mut (*at).stage).write(UnsafeCell::new(Stage::Other(Other::Empty)));
        task.assume_init()
    };
    let ptr = NonNull::from(Box::leak(task)).cast::<Header>();
    // SAFETY: one of the three references is the links'.
    let core = CoreRef { task: unsafe { TaskRef::from_raw(ptr) }, _message: PhantomData };
    let spares = Spares { task: ptr, refs, links, _task: PhantomData };
    (LinkRef { core: ManuallyDrop::new(core), _part: PhantomData }, spares)
}

/// References and links to a new actor counted into its allocation by [`allocate`], before
/// anyone held them: each [`take`](Self::take) or [`take_link`](Self::take_link) hands one out
/// without an atomic operation (a spawn makes four, each a locked instruction otherwise, on
/// lines the spawn has just written). Those not taken are released when this is dropped.
pub(crate) struct Spares<M, L> {
    task: NonNull<Header>,
    refs: usize,
    links: usize,
    _task: PhantomData<fn(M, L)>,
}

impl<M, L> Spares<M, L> {
    /// One of the spare references.
    ///
    /// # Panics
    ///
    /// If none is left: `allocate`'s caller asked for fewer than it takes.
    pub(crate) fn take(&mut self) -> CoreRef<M> {
        assert!(self.refs > 0, "more references taken than allocated");
        self.refs -= 1;
        // SAFETY: `allocate` counted this reference into the task, and nobody has taken it.
        CoreRef { task: unsafe { TaskRef::from_raw(self.task) }, _message: PhantomData }
    }

    /// One of the spare links.
    ///
    /// # Panics
    ///
    /// If none is left, as `take`.
    pub(crate) fn take_link(&mut self) -> LinkRef<M, L> {
        assert!(self.links > 0, "more links taken than allocated");
        self.links -= 1;
        // SAFETY: `allocate` counted this link into `links`, and nobody has taken it.
        unsafe { LinkRef::counted(self.task) }
    }
}

impl<M, L> Drop for Spares<M, L> {
    fn drop(&mut self) {
        while self.refs > 0 {
            drop(self.take());
        }
        while self.links > 0 {
            drop(self.take_link());
        }
    }
}

/// A link to an actor: one count in its `links`. All links together hold one reference to the
/// allocation; the last one to go drops the part `L` they share (in place) and releases it.
/// A [`CoreRef`] is the weak counterpart: it keeps the allocation, and [`LinkRef::upgrade`]
/// makes a link from it while any is left.
///
/// The part's offset is `offset_of!(Task<M, L, ()>, link)` whatever the lifecycle's type:
/// `Task` is `repr(C)`, so a field's offset depends only on the fields before it.
pub(crate) struct LinkRef<M, L> {
    /// The links' reference, released by the last link only.
    core: ManuallyDrop<CoreRef<M>>,
    _part: PhantomData<L>,
}

// SAFETY: a link gives `&Core<M>` (thread-safe for `M: Send`, see `CoreRef`) and `&L`, which
// every thread holding a link reads, and which the last link's thread drops.
unsafe impl<M: Send, L: Send + Sync> Send for LinkRef<M, L> {}
// SAFETY: as above.
unsafe impl<M: Send, L: Send + Sync> Sync for LinkRef<M, L> {}

impl<M, L> LinkRef<M, L> {
    /// The actor's core, through the links' reference.
    #[inline]
    pub(crate) fn core(&self) -> &CoreRef<M> {
        &self.core
    }

    /// What the links share.
    #[inline]
    pub(crate) fn part(&self) -> &L {
        // SAFETY: the allocation was made by `allocate::<M, L, _>` (a `LinkRef` is made nowhere
        // else, and `upgrade`'s caller promises it), and the part lives while a link does.
        unsafe { &*part_of::<M, L>(self.core.task.as_ptr()) }
    }

    /// A new link to the actor behind `core`, unless its last link is gone.
    ///
    /// # Safety
    /// `core` points into an allocation made by `allocate::<M, L, _>`.
    pub(crate) unsafe fn upgrade(core: &CoreRef<M>) -> Option<Self> {
        let mut links = core.links.load(Relaxed);
        loop {
            if links == 0 {
                return None;
            }
            if links > isize::MAX as usize {
                // Leaked links, as in `clone`: a wrapped count would free the part under live
                // links.
                std::process::abort();
            }
            // Acquire on success, as `Weak::upgrade`, though nothing here needs it: a count above
            // zero means the last link's drop has not run, and links only read the part by `&`.
            match core.links.compare_exchange_weak(links, links + 1, Acquire, Relaxed) {
                // SAFETY: the count just taken is the new link's; it shares the links' reference.
                Ok(_) => return Some(unsafe { Self::counted(core.task.as_ptr()) }),
                Err(now) => links = now,
            }
        }
    }

    /// True while the actor has a link.
    pub(crate) fn any(core: &CoreRef<M>) -> bool {
        core.links.load(Acquire) != 0
    }

    /// A link for a count the caller has just taken.
    ///
    /// # Safety
    /// `task` is the header of an actor allocated for `L`; the caller took one count in its
    /// `links`, and the count was not zero.
    unsafe fn counted(task: NonNull<Header>) -> Self {
        // SAFETY: an alias of the links' reference, which a live link keeps; never dropped on
        // its own (`ManuallyDrop`), only by the last link.
        let alias = unsafe { TaskRef::from_raw(task) };
        LinkRef {
            core: ManuallyDrop::new(CoreRef { task: alias, _message: PhantomData }),
            _part: PhantomData,
        }
    }
}

impl<M, L> Clone for LinkRef<M, L> {
    fn clone(&self) -> Self {
        // Relaxed: the new link comes from one the caller holds, as `Arc::clone`.
        if self.core.links.fetch_add(1, Relaxed) > isize::MAX as usize {
            // Leaked links; a wrapped count would free the part under live links.
            std::process::abort();
        }
        // SAFETY: the count was at least one (ours) and we took one more.
        unsafe { Self::counted(self.core.task.as_ptr()) }
    }
}

impl<M, L> Drop for LinkRef<M, L> {
    fn drop(&mut self) {
        // Release: what this thread did with the part happens before its drop, as `Arc::drop`.
        if self.core.links.fetch_sub(1, Release) != 1 {
            return;
        }
        // The Acquire, by a load of the count rather than a fence, as `TaskRefs::put` says why
        // (actor12-scheduler's `refs.rs`).
        self.core.links.load(Acquire);
        // Releases the links' reference after the part, also when the part's drop panics
        // (the user's `State`): the panic goes on to the dropper, the allocation is not leaked.
        struct LinksRef<'a, M>(&'a mut ManuallyDrop<CoreRef<M>>);
        impl<M> Drop for LinksRef<'_, M> {
            fn drop(&mut self) {
                close_for_last_link(self.0);
                // SAFETY: the last link releases the links' reference, once.
                unsafe { ManuallyDrop::drop(self.0) };
            }
        }
        let release = LinksRef(&mut self.core);
        // SAFETY: the last link: no link is left to read the part, and none can be made (the
        // count stays 0), so nobody else touches it; `allocate::<M, L, _>` made it.
        unsafe { std::ptr::drop_in_place(part_of::<M, L>(release.0.task.as_ptr())) };
        drop(release);
    }
}

/// Closes the mailbox of an actor whose last link is gone (its part's drop has cancelled its
/// token), as dropping the last sender closed actor12 0.0.11's channel: a `cycle` of the user's
/// that receives until `None` ends too, not only one that watches the token. Queued messages
/// stay, for the actor to take or drop as its `termination_strategy` says.
fn close_for_last_link<M>(core: &CoreRef<M>) {
    if core.mailbox.is_closed() {
        return; // stopped already: the common case, with no read-modify-write
    }
    if core.mailbox.close() == actor12_mailbox::Push::Schedule {
        // The actor was idle: the close took its run token, which goes back to the runtime.
        // SAFETY: made from a `&'static Hooks<M>` in `allocate`, never written; the reference
        // keeps the task alive, and we hold its run token.
        unsafe { (core.hooks.as_ref().schedule)(core.task.as_ptr()) };
    }
}

/// The part of the `Task<M, L, _>` whose header is at `ptr`.
fn part_of<M, L>(ptr: NonNull<Header>) -> *mut L {
    // `UnsafeCell<ManuallyDrop<L>>` has `L`'s layout; the offset does not depend on the
    // lifecycle's type (see `LinkRef`).
    let offset = offset_of!(Task<M, L, ()>, link);
    // SAFETY: within the allocation of the task, whose pointer `ptr` is.
    unsafe { ptr.as_ptr().cast::<u8>().add(offset).cast::<L>() }
}

/// Writes the lifecycle, registers the actor with its runtime and schedules its first run.
///
/// # Safety
/// `core` was made by `allocate::<M, L, F>` and `start` is called once, by the party that called
/// `allocate` (it holds the run token until now).
pub(crate) unsafe fn start<M, L, F>(core: &CoreRef<M>, lifecycle: F)
where
    M: Send + 'static,
    L: 'static,
    F: Future<Output = ()> + Send + 'static,
{
    // SAFETY: per the contract, `core` points into a `Task<M, L, F>`.
    let task = unsafe { task_ref::<M, L, F>(core.task.as_ptr()) };
    // SAFETY: we hold the run token: nobody else touches the stage.
    let stage = unsafe { task.stage() };
    debug_assert!(matches!(stage, Stage::Other(Other::Empty)), "an actor started twice");
    // Written over `Empty`, which has nothing to drop: a plain assignment called the stage's
    // drop glue for it.
    // SAFETY: `stage` is valid for writes, and what it overwrites needs no drop.
    unsafe { std::ptr::write(stage, Stage::Running(lifecycle)) };
    // SAFETY: the list's reference was counted in `allocate`.
    let entry = unsafe { TaskRef::from_raw(core.task.as_ptr()) };
    // SAFETY: the actor is in no list yet; the list calls its `shutdown_listed` at most once
    // per bind, and we release it once, in `tear_down`.
    if let Err(entry) = unsafe { task.core.handle.bind_task(entry) } {
        // The runtime is shut down: the actor never runs.
        drop(entry);
        // SAFETY: we hold the run token.
        unsafe { tear_down::<M, L, F>(core.task.as_ptr(), false) };
        // SAFETY: the run token's reference; nobody else will use it (never IDLE again).
        drop(unsafe { TaskRef::from_raw(core.task.as_ptr()) });
        return;
    }
    // The first run: here and now on one of the runtime's workers (`init`'s future and the
    // first cycle run inside the spawn, until the actor waits), else queued.
    // SAFETY: we hold the run token.
    unsafe { hand_over::<M>(core.task.as_ptr(), true) };
}

/// Ends an actor that was allocated but never started (its `init` panicked).
///
/// # Safety
/// `core` was made by `allocate::<M, L, F>` and not started; the caller still holds the run token.
pub(crate) unsafe fn abandon<M, L, F>(core: &CoreRef<M>)
where
    M: Send + 'static,
    L: 'static,
    F: Future<Output = ()> + Send + 'static,
{
    // SAFETY: per the contract; we hold the run token, and the entry was never bound.
    unsafe { tear_down::<M, L, F>(core.task.as_ptr(), false) };
    // SAFETY: the run token's and the unbound entry's references, counted in `allocate`.
    unsafe {
        drop(TaskRef::from_raw(core.task.as_ptr()));
        drop(TaskRef::from_raw(core.task.as_ptr()));
    }
}

fn vtable<M: Send + 'static, L: 'static, F: Future<Output = ()> + Send + 'static>()
-> &'static Vtable {
    &Vtable {
        run: run::<M, L, F>,
        schedule: schedule_token::<M>,
        shutdown: shutdown::<M, L, F>,
        shutdown_listed: Some(shutdown_listed::<M, L, F>),
        dealloc: dealloc::<M, L, F>,
        try_read_output: no_join_handle,
        drop_join_handle: no_join_handle_drop,
    }
}

/// # Safety
/// `ptr` is the header of a live `Task<M, L, F>`.
unsafe fn task_ref<'a, M, L, F>(ptr: NonNull<Header>) -> &'a Task<M, L, F> {
    // SAFETY: `Task` and `Core` are `repr(C)` with the header first.
    unsafe { ptr.cast::<Task<M, L, F>>().as_ref() }
}

/// # Safety
/// `ptr` is the header of a live `Core<M>`.
unsafe fn core_ref<'a, M>(ptr: NonNull<Header>) -> &'a Core<M> {
    // SAFETY: `Core` is `repr(C)` with the header first.
    unsafe { ptr.cast::<Core<M>>().as_ref() }
}

/// The vtable's `run`: the caller hands over the run token.
unsafe fn run<M: Send + 'static, L: 'static, F: Future<Output = ()> + Send + 'static>(
    token: TaskRef,
) -> Option<TaskRef> {
    // SAFETY: the run token points at a live `Task<M, L, F>` (it owns a reference).
    let task = unsafe { task_ref::<M, L, F>(token.as_ptr()) };
    let core = &task.core;
    let run = &core.run;
    #[cfg(all(feature = "tokio", not(actor12_loom)))]
    crate::runtime::tokio_bridge::enter_once();
    // SAFETY: the run token's holder has exclusive use of the stage.
    let stage = unsafe { task.stage() };
    // A borrowed waker: it owns no reference of its own, so it is never dropped.
    // SAFETY: the vtable matches `M`, and the run token keeps the task alive during the run.
    let waker = ManuallyDrop::new(unsafe {
        Waker::from_raw(RawWaker::new(token.as_ptr().as_ptr().cast(), core.waker_vtable()))
    });
    let mut cx = Context::from_waker(&waker);
    let _running = Running::enter(token.as_ptr().as_ptr() as usize);
    run.budget.set(BATCH);
    // Polls without a message (a handler woken by a reply, a timer, its own `yield_now`) count
    // against the same batch, so a chatty future cannot keep the worker.
    let mut polls = 0;
    loop {
        polls += 1;
        // SAFETY: we hold the run token (the consumer side).
        unsafe { core.mailbox.take_notified() };
        // Relaxed: ordered after `take_notified`'s acquire. A notification from
        // `shutdown_listed` that failed our last `try_idle` was released after its store.
        if core.stopped.kill.load(Relaxed) {
            // A queued entry of an actor torn down already (see the match below) has nothing
            // left to tear down.
            if !matches!(stage, Stage::Other(Other::Done | Other::Empty)) {
                // SAFETY: we hold the run token.
                unsafe { tear_down::<M, L, F>(token.as_ptr(), true) };
            }
            return None;
        }
        run.waiting.set(Waiting::Other);
        let done = match stage {
            Stage::Running(future) => {
                // SAFETY: the future lives in the task's allocation, which never moves.
                let future = unsafe { Pin::new_unchecked(future) };
                match catch_unwind(AssertUnwindSafe(|| future.poll(&mut cx))) {
                    Ok(Poll::Ready(())) => true,
                    Ok(Poll::Pending) => false,
                    Err(panic) => {
                        // The actor stops at once: its mailbox is closed, its lifecycle (with
                        // its state) is dropped, which cancels its token (`Scoped`), and the
                        // mailbox is drained, so queued askers get their error before `crash`
                        // runs. The close comes first: the lifecycle's drop answers askers
                        // (the handler's reply slot), who must find the actor gone. Reply
                        // slots the unwinding dropped are closed when this run ends
                        // (`defer_close`). A panicking destructor is reported the same way as
                        // the handler's panic.
                        let _ = core.mailbox.close();
                        let _ =
                            catch_unwind(AssertUnwindSafe(|| *stage = Stage::Other(Other::Empty)));
                        // SAFETY: we hold the run token.
                        unsafe { drain(core) };
                        match catch_unwind(AssertUnwindSafe(|| (core.hooks().crash)(panic))) {
                            Ok(crash) => {
                                *stage = Stage::Other(Other::Crashing(crash));
                                continue;
                            }
                            // `crash` panicked before it made its future: nobody is left to
                            // report to.
                            Err(_) => true,
                        }
                    }
                }
            }
            Stage::Other(Other::Crashing(future)) => {
                // A panic inside `crash` itself ends it: there is nobody left to report to.
                catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(&mut cx)))
                    .map_or(true, |p| p.is_ready())
            }
            // Torn down by a shutdown while this entry was queued: the token's reference goes.
            // Only a run's first pass can find it (a later one follows a poll that did not end
            // the actor), and what that pass did before is harmless on a torn-down actor: it
            // took a NOTIFY left in its closed mailbox and set the thread's mark, which the
            // guard restores. Checked here rather than before the loop, the stage's tag is
            // decoded once per pass, not twice per run.
            Stage::Other(Other::Done | Other::Empty) => return None,
        };
        if done {
            // SAFETY: we hold the run token.
            unsafe { tear_down::<M, L, F>(token.as_ptr(), true) };
            return None; // drops the token's reference
        }
        let idle = match run.waiting.get() {
            // SAFETY: we hold the run token (the consumer side).
            Waiting::Mailbox => unsafe { Mailbox::try_idle(&core.mailbox) },
            // SAFETY: as above.
            Waiting::Other => unsafe { Mailbox::try_idle_unless_notified(&core.mailbox) },
            Waiting::Yield => return Some(token),
        };
        if idle {
            // The token's reference is parked in the IDLE bit.
            let _ = token.into_raw();
            return None;
        }
        // A spent cooperative budget refuses the next poll too (its refusal woke the actor).
        if run.budget.get() == 0 || polls >= BATCH || actor12_scheduler::task::budget_spent() {
            return Some(token);
        }
    }
}

/// How an actor type reports a panic: `Actor::crash`, boxed.
pub(crate) type CrashFn = fn(Box<dyn Any + Send>) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// What the actor type behind a [`Core`] does at two points of its life, and its wakers'
/// vtable: one pointer to a per-type constant, so that an actor's allocation holds one word for
/// the three. Made by [`Hooks::new`], in a `const` (the caller's `&'static`).
pub(crate) struct Hooks<M> {
    /// The actor's code panicked: `Actor::crash`, boxed.
    pub(crate) crash: CrashFn,
    /// The actor's own code took `msg` out of the mailbox (`ActorReceiver::recv`):
    /// `ActorMessage::taken_by_actor_code`.
    pub(crate) delivered: fn(&M),
    /// [`CoreRef::schedule`] for code that does not know `M: Send + 'static` (the last link's
    /// drop).
    schedule: unsafe fn(NonNull<Header>),
    /// The vtable of the actor's own wakers. It used to be a word of every actor's core (8
    /// bytes an actor); reached through `hooks` it costs the same one load.
    waker: RawWakerVTable,
}

impl<M: Send + 'static> Hooks<M> {
    pub(crate) const fn new(crash: CrashFn, delivered: fn(&M)) -> Hooks<M> {
        let waker = RawWakerVTable::new(
            waker_clone::<M>,
            waker_wake::<M>,
            waker_wake_by_ref::<M>,
            waker_drop,
        );
        Hooks { crash, delivered, schedule: schedule_at::<M>, waker }
    }
}

/// [`Hooks::delivered`] for a task whose messages need no mark.
pub(crate) fn unmarked<M>(_: &M) {}

/// Ends the actor: drops what is left of its lifecycle, closes and drains the mailbox, wakes
/// `wait`ers, leaves the task list. Runs once, by the run token's holder.
///
/// # Safety
/// `ptr` is the header of a live `Task<M, L, F>`, and the caller holds its run token.
unsafe fn tear_down<M: Send + 'static, L: 'static, F: Future<Output = ()> + Send + 'static>(
    ptr: NonNull<Header>,
    release: bool,
) {
    // SAFETY: per the contract.
    let task = unsafe { task_ref::<M, L, F>(ptr) };
    let core = &task.core;
    // SAFETY: the run token's holder has exclusive use of the stage.
    let stage = unsafe { task.stage() };
    // Closed first, as after a panic (`run`): what the lifecycle's drop runs (the actor's and
    // its handler's destructors, an asker's reply slot) finds the actor stopped, not alive and
    // taking messages (a shutdown, or an `init` that refused, dropped it with the mailbox open).
    // Most lifecycles that end closed it themselves (`running`): a load then, no second
    // read-modify-write of the senders' word. Nobody reopens a closed mailbox.
    if !core.mailbox.is_closed() {
        let _ = core.mailbox.close();
    }
    let _ = catch_unwind(AssertUnwindSafe(|| *stage = Stage::Other(Other::Done)));
    // Most lifecycles that end drained it too: then a look at the state word and `head` (exact
    // for the consumer, which we are; a closed mailbox takes nothing more) instead of a call
    // whose pop finds it closed. The signals go with the system lane's close below either way.
    // SAFETY: as above.
    if core.mailbox.is_empty() || unsafe { drain(core) } {
        #[cfg(not(actor12_loom))]
        mark_tearing_down(ptr.as_ptr() as usize);
        // A weak link, or a reference held meanwhile, keeps the core: not the blocks a burst
        // left (up to six of 31 messages). SAFETY: as above; closed, and every message taken.
        unsafe { core.mailbox.release_blocks() };
    }
    // SAFETY: as above.
    unsafe { core.mailbox.close_system() };
    core.stopped.set();
    if release {
        // SAFETY: the actor was bound once in `start`; this is its one release.
        let entry = unsafe { core.handle.release_task(ptr) };
        drop(entry);
    }
}

/// Drops every message in the closed mailbox: their askers get their error now. True if it
/// found the mailbox closed (always, after a close).
///
/// # Safety
/// The caller holds the run token, and has closed the mailbox.
unsafe fn drain<M: Send + 'static>(core: &Core<M>) -> bool {
    loop {
        // SAFETY: we hold the run token (the consumer side).
        match unsafe { core.mailbox.pop() } {
            Pop::User(msg) => {
                // Dropping a message drops its reply slot: its asker gets an error now.
                let _ = catch_unwind(AssertUnwindSafe(|| drop(msg)));
            }
            Pop::System(()) => {}
            // A producer claimed a slot before the close and is still writing it.
            Pop::Busy => crate::loom::yield_now(),
            Pop::Empty => return false,
            Pop::Closed => return true,
        }
    }
}

unsafe fn schedule_token<M: Send + 'static>(token: TaskRef) {
    // SAFETY: the scheduler calls this with the run token of a live `Core<M>`.
    unsafe { schedule_at::<M>(token.into_raw()) }
}

/// The vtable's `shutdown`, reached only with the run token (a queue being drained, or a
/// schedule after the runtime shut down).
unsafe fn shutdown<M: Send + 'static, L: 'static, F: Future<Output = ()> + Send + 'static>(
    ptr: NonNull<Header>,
) {
    // SAFETY: the caller holds the run token of a live task.
    let task = unsafe { task_ref::<M, L, F>(ptr) };
    // SAFETY: as above.
    if !matches!(unsafe { task.stage() }, Stage::Other(Other::Done)) {
        #[cfg(all(feature = "tokio", not(actor12_loom)))]
        let _tokio = crate::runtime::tokio_bridge::enter_off_workers();
        // SAFETY: as above.
        unsafe { tear_down::<M, L, F>(ptr, true) };
    }
}

unsafe fn dealloc<M, L, F>(ptr: NonNull<Header>) {
    // Under loom, the free as a write of the stage: a model then sees a last reference dropped
    // without the acquire that orders every other owner's use of it before the free (loom does
    // not see the free itself).
    // SAFETY: the last reference is ours: nobody else touches the stage.
    #[cfg(actor12_loom)]
    unsafe { task_ref::<M, L, F>(ptr) }.stage.with_mut(|_| ());
    // SAFETY: the last reference is gone; the allocation was made by `allocate::<M, L, F>`, and
    // `ptr` comes from its box (see `schedule_at`).
    drop(unsafe { Box::from_raw(ptr.cast::<Task<M, L, F>>().as_ptr()) });
}

/// Runtime shutdown took the actor out of the task list: ask for the run token; if the actor
/// was idle we get it and tear it down here. Otherwise its holder does: a queue being drained at
/// shutdown cancels it, a schedule refused after shutdown tears it down, and a worker running it
/// sees `kill` (our notification fails its `try_idle`, so it goes round its loop once more and
/// looks).
unsafe fn shutdown_listed<
    M: Send + 'static,
    L: 'static,
    F: Future<Output = ()> + Send + 'static,
>(
    ptr: NonNull<Header>,
) {
    // SAFETY: `ptr` is the header of a live `Task<M, L, F>` (the caller holds the list's
    // reference).
    let core = unsafe { core_ref::<M>(ptr) };
    // Relaxed: the signal's push and the notification's read-modify-write below release it
    // (see the loads in `run` and `killed`).
    core.stopped.kill.store(true, Relaxed);
    // A signal, for a run under way that goes on receiving (`Core::killed`); the notification,
    // for a run that ends without another receive. Either takes the run token from an idle
    // actor (the signal first): we then tear it down here.
    let push = match core.mailbox.push_system(()) {
        Ok(Push::Schedule) => Push::Schedule,
        _ => core.mailbox.notify(),
    };
    if push == Push::Schedule {
        // SAFETY: we hold the run token now.
        let token = unsafe { TaskRef::from_raw(ptr) };
        // SAFETY: as above. The list has already removed the actor: no release.
        let task = unsafe { task_ref::<M, L, F>(ptr) };
        // SAFETY: as above.
        if !matches!(unsafe { task.stage() }, Stage::Other(Other::Done)) {
            #[cfg(all(feature = "tokio", not(actor12_loom)))]
            let _tokio = crate::runtime::tokio_bridge::enter_off_workers();
            // SAFETY: we hold the run token.
            unsafe { tear_down::<M, L, F>(ptr, false) };
        }
        drop(token);
    }
}

unsafe fn no_join_handle(_: NonNull<Header>, _: *mut (), _: &Waker) {
    unreachable!("actors have no join handle")
}

unsafe fn no_join_handle_drop(_: NonNull<Header>) {
    unreachable!("actors have no join handle")
}

/// A waker for the task at `ptr`, with a reference of its own.
///
/// # Safety
/// `ptr` is the header of a live `Task` for messages `M`, and the caller holds a reference.
unsafe fn waker_at<M: Send + 'static>(ptr: NonNull<Header>) -> Waker {
    // SAFETY: the caller holds a reference, so the count is at least one.
    let extra = ManuallyDrop::new(unsafe { TaskRef::from_raw(ptr) }).clone_ref();
    // SAFETY: per the contract.
    let vtable = unsafe { core_ref::<M>(ptr) }.waker_vtable();
    // SAFETY: the raw waker owns the reference just taken; the vtable matches `M`.
    unsafe { Waker::from_raw(RawWaker::new(extra.into_raw().as_ptr().cast(), vtable)) }
}

unsafe fn waker_clone<M: Send + 'static>(data: *const ()) -> RawWaker {
    // SAFETY: a waker's data is the non-null header pointer of the task it holds a reference to.
    let ptr = unsafe { NonNull::new_unchecked(data.cast_mut().cast()) };
    // SAFETY: that task is a live `Task` for messages `M`, and the waker holds a reference.
    let waker = ManuallyDrop::new(unsafe { waker_at::<M>(ptr) });
    RawWaker::new(waker.data(), waker.vtable())
}

unsafe fn waker_wake<M: Send + 'static>(data: *const ()) {
    // SAFETY: as for `waker_clone`; this consumes the waker's reference.
    unsafe {
        waker_wake_by_ref::<M>(data);
        waker_drop(data);
    }
}

unsafe fn waker_wake_by_ref<M: Send + 'static>(data: *const ()) {
    // SAFETY: a waker's data is the non-null header pointer of the task it holds a reference to.
    let ptr = unsafe { NonNull::new_unchecked(data.cast_mut().cast()) };
    // SAFETY: that task is a live `Core<M>` while the waker holds its reference.
    if unsafe { core_ref::<M>(ptr) }.mailbox.notify() == Push::Schedule {
        // SAFETY: the notification handed us the run token.
        unsafe { schedule_at::<M>(ptr) };
    }
}

unsafe fn waker_drop(data: *const ()) {
    // SAFETY: the waker owns one reference to the header at `data`.
    drop(unsafe { TaskRef::from_raw(NonNull::new_unchecked(data.cast_mut().cast())) });
}
