//! The future task: a [`Header`] followed by the scheduler handle, the future (later its output)
//! and the join handle's waker, in one allocation.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, RawWakerVTable, Waker};

use super::join::JoinError;
use super::state::{Notify, NotifyByVal, Snapshot, ToIdle, ToRunning};
use super::{Header, Schedule, TaskRef, Vtable};
use crate::loom::UnsafeCell;

/// What the task holds: the future, then its output, then nothing.
enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, JoinError>),
    Consumed,
}

#[repr(C)]
pub(crate) struct Cell<F: Future, S> {
    header: Header,
    scheduler: S,
    /// Touched only by the RUNNING holder, or by the output's owner after COMPLETE (rule 3).
    stage: UnsafeCell<Stage<F>>,
    /// In the task list (rule 5). Touched only by the RUNNING holder.
    bound: UnsafeCell<bool>,
    /// The join handle's waker. Who may touch it is decided by JOIN_WAKER (`state.rs`, rule 4).
    join_waker: UnsafeCell<Option<Waker>>,
}

/// Allocates a future task with `refs` references (one per initial owner) and returns a pointer
/// to it. The caller distributes the references: usually the task list, the first notification
/// and the join handle.
pub(crate) fn new_task<F, S>(
    future: F,
    scheduler: S,
    refs: usize,
    pinned: Option<usize>,
) -> NonNull<Header>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    let cell = Box::new(Cell {
        header: Header::new_task(vtable::<F, S>(), refs, pinned),
        scheduler,
        stage: UnsafeCell::new(Stage::Running(future)),
        bound: UnsafeCell::new(false),
        join_waker: UnsafeCell::new(None),
    });
    NonNull::from(Box::leak(cell)).cast()
}

fn vtable<F, S>() -> &'static Vtable
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    &Vtable {
        run: run::<F, S>,
        schedule: schedule::<F, S>,
        shutdown: shutdown::<F, S>,
        shutdown_listed: None,
        dealloc: dealloc::<F, S>,
        try_read_output: try_read_output::<F, S>,
        drop_join_handle: drop_join_handle::<F, S>,
    }
}

/// # Safety
///
/// `ptr` is a live task made by `new_task::<F, S>`.
unsafe fn cell<'a, F: Future, S>(ptr: NonNull<Header>) -> &'a Cell<F, S> {
    // SAFETY: `Cell` is `repr(C)` with the header first, and the caller vouches for the type.
    unsafe { ptr.cast::<Cell<F, S>>().as_ref() }
}

impl<F: Future, S: Schedule> Cell<F, S> {
    /// Polls the future; the caller holds RUNNING.
    fn poll(&self, cx: &mut Context<'_>) -> Poll<Result<F::Output, JoinError>> {
        // The cell access stays outside `catch_unwind`, so that loom's checks on it are not
        // swallowed; only user code runs inside.
        let res = self.stage.with_mut(|stage| {
            // SAFETY: rule 1: we hold RUNNING, so we have exclusive access to the stage. The
            // future stays in place (the allocation never moves) until dropped.
            match unsafe { &mut *stage } {
                Stage::Running(fut) => {
                    // SAFETY: as above: the future is pinned in the task's allocation.
                    let fut = unsafe { Pin::new_unchecked(fut) };
                    catch_unwind(AssertUnwindSafe(|| fut.poll(cx)))
                }
                _ => unreachable!("a task was polled after it finished"),
            }
        });
        match res {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(out)) => Poll::Ready(Ok(out)),
            Err(panic) => Poll::Ready(Err(JoinError::panic(panic))),
        }
    }

    /// Drops the future and returns the cancellation error, or the panic of its destructor.
    fn cancel(&self) -> JoinError {
        // SAFETY: rule 1: we hold RUNNING.
        let res = self.stage.with_mut(|stage| drop_caught(unsafe { &mut *stage }));
        match res {
            Ok(()) => JoinError::cancelled(),
            Err(panic) => JoinError::panic(panic),
        }
    }

    /// Stores the output, sets COMPLETE, wakes the join handle, leaves the task list. The caller
    /// holds RUNNING; on return it holds nothing but its own reference (if any).
    fn complete(&self, output: Result<F::Output, JoinError>) {
        // SAFETY: rule 1: we hold RUNNING. The stage is `Consumed` (after `cancel`) or holds the
        // finished future, dropped here under the guard.
        let dropped = self.stage.with_mut(|stage| drop_caught(unsafe { &mut *stage }));
        // A future whose destructor panics after it returned `Ready` reports that panic, as one
        // that panics while polled does (and as tokio does); the output is dropped.
        let output = match (output, dropped) {
            (Ok(out), Err(panic)) => {
                let _ = catch_unwind(AssertUnwindSafe(|| drop(out)));
                Err(JoinError::panic(panic))
            }
            (output, _) => output,
        };
        // SAFETY: as above.
        self.stage.with_mut(|stage| unsafe { *stage = Stage::Finished(output) });
        // Leave the task list before COMPLETE is visible, so that whoever sees the task finished
        // (its join handle, `Runtime::live_tasks`) also sees it gone from the list. The list's
        // reference is not the last: our caller holds one.
        // SAFETY: rule 1: we hold RUNNING, and `bound` is only written by its holder.
        if self.bound.with(|b| unsafe { *b })
            && let Some(owned) = self.scheduler.release(NonNull::from(&self.header))
        {
            drop(owned);
        }
        let prev = self.header.state.transition_to_complete();
        if !prev.has_join_interest() {
            // Rule 3: nobody will read the output; it is ours to drop.
            // SAFETY: COMPLETE is set and JOIN_INTEREST was clear: no one else touches it.
            let _ = self.stage.with_mut(|stage| drop_caught(unsafe { &mut *stage }));
        } else if prev.is_join_waker_set() {
            // Rule 4: COMPLETE is set and the handle handed us its waker: wake it, give the slot
            // back, and drop the waker if the handle went away meanwhile.
            self.join_waker.with(|w| {
                // SAFETY: JOIN_WAKER was set when we set COMPLETE: the handle no longer writes
                // the slot until we clear the bit (it may read it, as we do).
                if let Some(w) = unsafe { &*w } {
                    // The waker is the awaiter's code: a panic in it (reported by the panic
                    // hook) must not unwind through the runtime. It used to leave this
                    // completion half done and escape the caller: a blocking-pool thread died
                    // uncounted (the pool, at its thread cap, never ran another closure), and a
                    // runtime's drop panicked and left the rest of its tasks uncancelled.
                    let _ = catch_unwind(AssertUnwindSafe(|| w.wake_by_ref()));
                }
            });
            if !self.header.state.unset_waker_after_complete().has_join_interest() {
                // SAFETY: the handle is gone and JOIN_WAKER is clear: nobody else touches it.
                let w = self.join_waker.with_mut(|w| unsafe { (*w).take() });
                // The waker's destructor is the awaiter's code too: caught as its wake is.
                let _ = catch_unwind(AssertUnwindSafe(|| drop(w)));
            }
        }
    }
}

unsafe fn run<F, S>(task: TaskRef) -> Option<TaskRef>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: this vtable entry is only reachable from tasks made by `new_task::<F, S>`.
    let cell = unsafe { cell::<F, S>(task.as_ptr()) };
    // SAFETY: rule 6: if `held` is set, our entry holds RUNNING and we are the only one to touch
    // it; if it is clear, nobody writes it now (no one else polls the task, rule 2).
    if cell.header.held.with(|h| unsafe { *h }) {
        // SAFETY: as above: we hold RUNNING.
        cell.header.held.with_mut(|h| unsafe { *h = false });
        if cell.header.state.load().is_cancelled() {
            let err = cell.cancel();
            cell.complete(Err(err));
            return None;
        }
    } else {
        match cell.header.state.transition_to_running() {
            ToRunning::Skip => return None,
            ToRunning::Cancel => {
                let err = cell.cancel();
                cell.complete(Err(err));
                return None;
            }
            ToRunning::Poll => {}
        }
    }
    // The waker borrows our reference: it is only cloned (with a new reference) if kept.
    let vtable = super::waker::vtable::<F, S>();
    let waker = std::mem::ManuallyDrop::new(super::waker::waker_ref(task.as_ptr(), vtable));
    let mut cx = Context::from_waker(&waker);
    let _current = CurrentTask::enter(task.as_ptr(), vtable);
    let polled = cell.poll(&mut cx);
    let yielded = _current.yielded();
    match polled {
        Poll::Ready(out) => {
            cell.complete(out);
            None
        }
        Poll::Pending => {
            // Rule 5: join the task list before anyone else can own the task again.
            // SAFETY: rule 1: we hold RUNNING.
            if !cell.bound.with(|b| unsafe { *b }) {
                if let Err(refused) = cell.scheduler.bind(task.clone_ref()) {
                    // The runtime is shutting down: cancel now, while we hold RUNNING.
                    drop(refused);
                    let err = cell.cancel();
                    cell.complete(Err(err));
                    return None;
                }
                // SAFETY: as above.
                cell.bound.with_mut(|b| unsafe { *b = true });
            }
            if yielded {
                // Rule 6: requeued still RUNNING, without an atomic operation; the entry's next
                // runner polls it (or cancels it, if CANCELLED is set by then).
                // SAFETY: rule 1: we hold RUNNING, and hand it to the entry.
                cell.header.held.with_mut(|h| unsafe { *h = true });
                return Some(task);
            }
            // Release RUNNING, or requeue, or cancel. Inline, not a function taking `&Cell`:
            // after a cancel our reference may be the last, and it is dropped on return, which
            // must not happen while a reference to the task is still an argument of the call
            // (a borrow that, for Rust, must stay valid for the whole call).
            match cell.header.state.transition_to_idle(false) {
                ToIdle::Idle => {
                    // The transition dropped our reference already.
                    let _ = task.into_raw();
                    None
                }
                ToIdle::Notified => Some(task),
                ToIdle::Cancelled => {
                    let err = cell.cancel();
                    cell.complete(Err(err));
                    None
                }
            }
        }
    }
}

unsafe fn schedule<F, S>(task: TaskRef)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: as in `run`.
    let cell = unsafe { cell::<F, S>(task.as_ptr()) };
    cell.scheduler.schedule(task);
}

unsafe fn shutdown<F, S>(ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: as in `run`; the caller holds a reference.
    let cell = unsafe { cell::<F, S>(ptr) };
    if cell.header.state.transition_to_shutdown() {
        let _entered = cell.scheduler.enter_for_abort();
        let err = cell.cancel();
        cell.complete(Err(err));
    }
}

unsafe fn dealloc<F, S>(ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // Under loom, the free as a write of the stage and the join waker's slot: a model then sees
    // a last reference dropped without the acquire that orders every other owner's use of them
    // before the free (loom does not see the free itself).
    #[cfg(actor12_loom)]
    {
        // SAFETY: the last reference is ours: nobody else touches the cells.
        let cell = unsafe { cell::<F, S>(ptr) };
        cell.stage.with_mut(|_| ());
        cell.join_waker.with_mut(|_| ());
    }
    // SAFETY: the last reference is gone; the box was made by `new_task::<F, S>`. A panicking
    // destructor here (of a leftover future or output) is caught so the dropping thread survives.
    let boxed = unsafe { Box::from_raw(ptr.cast::<Cell<F, S>>().as_ptr()) };
    let _ = catch_unwind(AssertUnwindSafe(move || drop(boxed)));
}

unsafe fn try_read_output<F, S>(ptr: NonNull<Header>, dst: *mut (), waker: &Waker)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: as in `run`; the join handle holds a reference.
    let cell = unsafe { cell::<F, S>(ptr) };
    let dst = dst.cast::<Poll<Result<F::Output, JoinError>>>();
    let snapshot = cell.header.state.load();
    if !snapshot.is_complete() {
        // Rule 4, without a lock: store the waker while JOIN_WAKER is clear, then set it; to
        // replace a stored waker, clear it first. Any of these fails only if the task completed
        // meanwhile: then read the output below.
        let stored = if !snapshot.is_join_waker_set() {
            store_join_waker(cell, waker)
        } else {
            // SAFETY: JOIN_WAKER is set: the completer may read the slot too, but nobody writes
            // it until the bit is cleared.
            let same = cell
                .join_waker
                .with(|w| unsafe { &*w }.as_ref().is_some_and(|w| w.will_wake(waker)));
            if same {
                return;
            }
            cell.header.state.unset_join_waker().and_then(|()| store_join_waker(cell, waker))
        };
        if stored.is_ok() {
            return;
        }
    }
    // SAFETY: COMPLETE is set and we hold JOIN_INTEREST: the output is ours (rule 3).
    let stage =
        cell.stage.with_mut(|stage| unsafe { std::mem::replace(&mut *stage, Stage::Consumed) });
    let Stage::Finished(out) = stage else { panic!("JoinHandle polled after completion") };
    // SAFETY: the caller passes a valid `Poll<Result<F::Output, JoinError>>` slot.
    unsafe { *dst = Poll::Ready(out) };
}

unsafe fn drop_join_handle<F, S>(ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: as in `run`; the join handle gives up its reference at the end.
    let cell = unsafe { cell::<F, S>(ptr) };
    let (drop_output, drop_waker) = cell.header.state.transition_to_join_handle_dropped();
    if drop_output {
        // Rule 3: already complete, so the output is ours to drop.
        // SAFETY: COMPLETE and JOIN_INTEREST held by us: exclusive access.
        let _ = cell.stage.with_mut(|stage| drop_caught(unsafe { &mut *stage }));
    }
    // SAFETY: rule 4: JOIN_WAKER is clear, so the slot is ours.
    let waker = drop_waker.then(|| cell.join_waker.with_mut(|w| unsafe { (*w).take() }));
    // SAFETY: the join handle's reference.
    unsafe { super::drop_ref(ptr) };
    // The awaiter's code, which may panic: after the reference is given back, or the panic
    // leaked the task and, through its runtime reference, the runtime (a review of 2026-12-07).
    drop(waker);
}

/// Stores `waker` in the empty join-waker slot and hands it to the completer (JOIN_WAKER). If
/// the task completed meanwhile, empties the slot again and fails.
fn store_join_waker<F: Future, S>(cell: &Cell<F, S>, waker: &Waker) -> Result<(), Snapshot> {
    // SAFETY: rule 4: JOIN_WAKER is clear and we are the join handle, so the slot is ours.
    let old = cell.join_waker.with_mut(|w| unsafe { (*w).replace(waker.clone()) });
    drop(old);
    cell.header.state.set_join_waker().inspect_err(|_| {
        // SAFETY: as above: the bit is still clear.
        let w = cell.join_waker.with_mut(|w| unsafe { (*w).take() });
        drop(w);
    })
}

/// The future task being polled on this thread: its header and its waker vtable; and whether it
/// asked for a fast yield. Two cells, each written whole: with the one-byte flag inside one wider
/// cell, perf put 15% of `yield_many` on the restore, which read back a word just written in part
/// (most likely a stalled store-to-load forward).
struct Current {
    task: std::cell::Cell<(*const Header, *const RawWakerVTable)>,
    yielded: std::cell::Cell<bool>,
}

thread_local! {
    static CURRENT: Current = const {
        Current {
            task: std::cell::Cell::new((std::ptr::null(), std::ptr::null())),
            yielded: std::cell::Cell::new(false),
        }
    };
}

/// Marks the task being polled, for [`try_fast_yield`]; restores the previous mark on drop
/// (polls nest when a task's poll runs another executor).
struct CurrentTask((*const Header, *const RawWakerVTable), bool);

impl CurrentTask {
    fn enter(ptr: NonNull<Header>, vtable: &'static RawWakerVTable) -> CurrentTask {
        CURRENT
            .with(|c| CurrentTask(c.task.replace((ptr.as_ptr(), vtable)), c.yielded.replace(false)))
    }

    fn yielded(&self) -> bool {
        CURRENT.with(|c| c.yielded.get())
    }
}

impl Drop for CurrentTask {
    fn drop(&mut self) {
        CURRENT.with(|c| {
            c.task.set(self.0);
            c.yielded.set(self.1);
        });
    }
}

/// `yield_now` without a wake-up: if `waker` is the waker of the task being polled on this
/// thread, record the yield; `run` then requeues the task still holding RUNNING (rule 6), with
/// no atomic operation. False otherwise: the caller wakes `waker` as usual.
pub(crate) fn try_fast_yield(waker: &Waker) -> bool {
    CURRENT.with(|c| {
        let (ptr, vtable) = c.task.get();
        let own = !ptr.is_null()
            && waker.data() == ptr as *const ()
            && std::ptr::eq(waker.vtable(), vtable);
        if own {
            c.yielded.set(true);
            // The worker checks its timers before the task runs again.
            crate::context::with_core(|core| core.map(crate::worker::Core::note_yield));
        }
        own
    })
}

/// Drops the stage where it lies and leaves `Consumed` there, catching a panicking destructor so
/// that it cannot unwind through the runtime.
///
/// In place: the future is pinned in the stage, and `Pin` promises it is dropped where it was
/// polled (a future in an intrusive list, such as a timer entry, unlinks itself by its own
/// address). If the destructor panics, the assignment still leaves `Consumed`.
fn drop_caught<F: Future>(stage: &mut Stage<F>) -> Result<(), Panic> {
    catch_unwind(AssertUnwindSafe(|| *stage = Stage::Consumed))
}

/// Wakes a task: queues it if it was idle. `by_val`: the waker's own reference is consumed (it
/// becomes the queue's if the task was idle); otherwise the queue takes a new one.
///
/// On one of the task's runtime's workers, the task is queued there holding RUNNING (rule 7):
/// its next poll then starts without a state transition.
///
/// # Safety
///
/// `ptr` is a live task made by `new_task::<F, S>`, and the caller holds a reference to it (and
/// gives it up if `by_val`).
pub(crate) unsafe fn wake<F, S>(ptr: NonNull<Header>, by_val: bool)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
    S: Schedule,
{
    // SAFETY: the caller's reference keeps the task live until it is handed on or dropped below.
    let cell = unsafe { cell::<F, S>(ptr) };
    let here = cell.scheduler.hold_here();
    let state = &cell.header.state;
    let idle = if by_val {
        match state.transition_to_notified_by_val(here.is_some()) {
            NotifyByVal::Submit => true,
            NotifyByVal::Nothing => false,
            NotifyByVal::Dealloc => {
                // SAFETY: that was the last reference: nobody else can reach the task.
                unsafe { dealloc::<F, S>(ptr) };
                return;
            }
        }
    } else {
        state.transition_to_notified(here.is_some()) == Notify::Submit
    };
    if !idle {
        return;
    }
    // SAFETY: the transition handed the waker's reference to the queue, or took a new one.
    let task = unsafe { TaskRef::from_raw(ptr) };
    match here {
        Some(here) => {
            // SAFETY: the wake's transition gave us RUNNING, which we hand to the entry (rule 7).
            cell.header.held.with_mut(|h| unsafe { *h = true });
            // Into this worker's LIFO slot, which only this thread pops: the task cannot be
            // run, nor freed, before this call returns.
            S::schedule_held(here, task);
        }
        None if by_val => {
            // The waker's reference goes to a queue that other workers pop: the task may be
            // run, completed and freed before `schedule` returns, while its scheduler (a field
            // of the task) is still borrowed by that call. A reference of our own keeps the
            // task alive until then.
            let keep = task.clone_ref();
            cell.scheduler.schedule(task);
            drop(keep);
        }
        // The waker still holds its reference.
        None => cell.scheduler.schedule(task),
    }
}

/// The payload of a caught panic, as `JoinError` keeps it.
pub(crate) type Panic = Box<dyn Any + Send + 'static>;
