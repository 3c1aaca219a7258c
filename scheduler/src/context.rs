//! Thread-local context: which worker (if any) this thread is, and which runtime `spawn` and the
//! timers use here.

use std::cell::Cell;

use std::sync::Arc;

use crate::runtime::Handle;
use crate::worker::{Core, Shared};

thread_local! {
    /// The worker running on this thread, while it runs and is not hidden ([`hide_core`]).
    static CORE: Cell<*const Core> = const { Cell::new(std::ptr::null()) };
    /// The worker whose loop runs on this thread, hidden or not.
    static WORKER: Cell<*const Core> = const { Cell::new(std::ptr::null()) };
    /// A worker's thread before its loop starts (its `on_thread_start` hook runs).
    static WORKER_STARTING: Cell<bool> = const { Cell::new(false) };
    /// The runtime entered by `block_on` or a blocking-pool thread: the `Shared` whose `Arc` the
    /// innermost [`EnterGuard`] holds. A pointer, with no destructor, so that the destructors of
    /// other thread-locals may still use the runtime at the thread's exit (a `Handle` here was
    /// dropped before those registered earlier, and reading it there aborted the process).
    static ENTERED: Cell<*const Shared> = const { Cell::new(std::ptr::null()) };
}

/// Runs `f` with this thread's worker, if it is one.
///
/// The thread-local is read on its own, outside `f`: a small access is inlined into the caller
/// as one thread-pointer load, where `LocalKey::with` around all of `f` was left out of line
/// (a call through the key's accessor on every schedule of a message).
#[inline(always)]
pub(crate) fn with_core<R>(f: impl FnOnce(Option<&Core>) -> R) -> R {
    let ptr = CORE.get();
    // SAFETY: `CORE` is set only by `set_core` for the duration of the worker's run loop (and
    // set back by `HiddenCore` within it), which keeps the `Core` alive and on this thread; `f`
    // runs now, on this thread.
    f(unsafe { ptr.as_ref() })
}

/// Marks this thread as `core`'s worker until the guard drops.
pub(crate) fn set_core(core: &Core) -> CoreGuard {
    CORE.with(|c| c.set(core));
    WORKER.set(core);
    CoreGuard(())
}

/// Clears the worker mark.
#[derive(Debug)]
pub(crate) struct CoreGuard(());

impl Drop for CoreGuard {
    fn drop(&mut self) {
        CORE.with(|c| c.set(std::ptr::null()));
        WORKER.set(std::ptr::null());
    }
}

/// Hides this thread's worker, if it is one, until the guard drops (which restores it): for a
/// runtime shut down on a worker of *another* runtime, whose tasks' destructors must find the
/// runtime being shut down (entered), not the worker's.
pub(crate) fn hide_core() -> HiddenCore {
    HiddenCore(CORE.replace(std::ptr::null()))
}

/// Restores the worker [`hide_core`] hid.
#[derive(Debug)]
pub(crate) struct HiddenCore(*const Core);

impl Drop for HiddenCore {
    fn drop(&mut self) {
        // The worker's loop is still below us on this thread's stack (`with_core`'s rule): the
        // guard lives in a call that loop made.
        CORE.with(|c| c.set(self.0));
    }
}

/// Runs `f` with the worker whose loop runs on this thread, also while [`hide_core`] hides it:
/// for what depends on the thread rather than on the runtime its code is in. A `block_on` there
/// would block that worker, and a runtime cannot wait there for its workers to stop, though the
/// destructors of another runtime's tasks (`Entered`) run on it.
pub(crate) fn with_worker_thread<R>(f: impl FnOnce(Option<&Core>) -> R) -> R {
    let ptr = WORKER.get();
    // SAFETY: as in `with_core`: `WORKER` is set by `set_core` for the duration of the worker's
    // run loop, and `HiddenCore` never touches it.
    f(unsafe { ptr.as_ref() })
}

/// True on a worker's thread: its loop runs there (hidden or not), or is about to (the thread's
/// start hook runs).
#[inline]
pub(crate) fn is_worker_thread() -> bool {
    !WORKER.get().is_null() || WORKER_STARTING.get()
}

/// Marks this thread as a worker's about to start its loop, until the guard drops.
pub(crate) fn worker_starting() -> WorkerStarting {
    WORKER_STARTING.set(true);
    WorkerStarting(())
}

/// Clears the mark [`worker_starting`] set.
#[derive(Debug)]
pub(crate) struct WorkerStarting(());

impl Drop for WorkerStarting {
    fn drop(&mut self) {
        WORKER_STARTING.set(false);
    }
}

/// The runtime of this thread: its worker's, or the one entered.
pub(crate) fn current() -> Option<Handle> {
    if let Some(h) = with_core(|c| c.map(|c| c.handle())) {
        return Some(h);
    }
    let shared = ENTERED.get();
    if shared.is_null() {
        return None;
    }
    // SAFETY: the innermost `EnterGuard` on this thread holds an `Arc` of this `Shared` until it
    // puts the pointer before it back (guards are dropped in the reverse order of their making:
    // each lives in a scope of its function); the count taken here is the new `Arc`'s.
    unsafe { Arc::increment_strong_count(shared) };
    // SAFETY: see above.
    Some(Handle { shared: unsafe { Arc::from_raw(shared) } })
}

/// Enters `handle` until the guard drops (restoring what was entered before).
pub(crate) fn enter(handle: Handle) -> EnterGuard {
    let prev = ENTERED.replace(Arc::as_ptr(&handle.shared));
    EnterGuard { prev, _entered: handle }
}

/// Restores the previously entered runtime.
#[derive(Debug)]
pub(crate) struct EnterGuard {
    /// What `ENTERED` held before: kept alive by the guard that entered it, which outlives
    /// this one.
    prev: *const Shared,
    /// Keeps the entered runtime alive while `ENTERED` points at it.
    _entered: Handle,
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        ENTERED.set(self.prev);
    }
}

/// A runtime entered on this thread with its worker, if the thread is another runtime's, hidden:
/// where a task's destructors run off its own workers (`shut_down`, an `abort` from outside).
#[derive(Debug)]
pub(crate) struct Entered {
    // Dropped in this order: the runtime entered before is back before the worker is.
    _enter: EnterGuard,
    _hidden: HiddenCore,
}

impl Entered {
    /// Hides this thread's worker and enters `handle`.
    pub(crate) fn new(handle: Handle) -> Entered {
        let _hidden = hide_core();
        Entered { _enter: enter(handle), _hidden }
    }
}
