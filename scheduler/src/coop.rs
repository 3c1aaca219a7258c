//! The cooperative budget: a task that keeps finding its resources ready still gives its worker
//! back after a while.
//!
//! Each run of a task (a future task's poll; an actor's run, which may handle several messages)
//! starts with [`BUDGET`] units (`TaskRef::run`). The runtime's own leaf futures (join
//! handles, timers) spend one unit each time they are polled; with the budget spent they
//! wake the task and return `Pending` instead, so it goes to the back of the run queue. Code that
//! never touches a runtime resource is not limited (it cannot be, without preemption).

use std::cell::Cell;
use std::task::Context;

/// Units per task poll (tokio uses the same number).
pub(crate) const BUDGET: u32 = 128;

thread_local! {
    static LEFT: Cell<u32> = const { Cell::new(u32::MAX) };
}

/// Starts a task poll with a full budget.
pub(crate) fn reset() {
    LEFT.with(|l| l.set(BUDGET));
}

/// Spends one unit; false (after waking the task) if the budget is spent. Code outside a task
/// (`u32::MAX`: see [`unlimited`]) spends nothing.
pub(crate) fn proceed(cx: &mut Context<'_>) -> bool {
    LEFT.with(|l| {
        let left = l.get();
        if left == u32::MAX {
            true
        } else if left == 0 {
            if !crate::task::core::try_fast_yield(cx.waker()) {
                cx.waker().wake_by_ref();
            }
            false
        } else {
            l.set(left - 1);
            true
        }
    })
}

/// Leaves the budget unlimited, for code polled outside a task (`block_on`).
pub(crate) fn unlimited() {
    LEFT.with(|l| l.set(u32::MAX));
}

/// Runs `f`, which runs a task from code that is not itself that task's run (a queue drained at
/// shutdown, on whatever thread drops the runtime; a first run inside the spawn, in the
/// spawner's: `Shared::try_start`), and puts the caller's budget back after it, even if it
/// unwinds.
/// Left at the task's budget, a plain thread's budget was never refilled: once spent, every
/// join handle it polled woke itself and returned `Pending`, for ever.
pub(crate) fn keep<R>(f: impl FnOnce() -> R) -> R {
    /// Puts the budget back, even if `f` unwinds.
    struct Restore(u32);
    impl Drop for Restore {
        fn drop(&mut self) {
            LEFT.with(|l| l.set(self.0));
        }
    }
    let _restore = Restore(LEFT.with(Cell::get));
    f()
}

#[cfg(all(test, not(actor12_loom)))]
mod tests {
    use super::*;

    #[test]
    fn a_task_run_from_a_plain_thread_leaves_its_budget_unlimited() {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        unlimited();
        keep(reset); // what running a task does to the budget
        for _ in 0..10 * BUDGET {
            assert!(proceed(&mut cx), "a plain thread ran out of budget");
        }
        assert_eq!(LEFT.with(Cell::get), u32::MAX, "unlimited spends nothing");
    }
}
