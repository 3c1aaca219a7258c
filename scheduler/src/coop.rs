//! The cooperative budget: a task that keeps finding its resources ready still gives its worker
//! back after a while.
//!
//! Each run of a task (a future task's poll; an actor's run, which may handle several messages)
//! starts with [`BUDGET`] units (`TaskRef::run`). The runtime's own leaf futures (join
//! handles, timers) spend one unit each time they are polled, a message's send
//! [`1 / SENDS_PER_UNIT`](SENDS_PER_UNIT) of one, and a send that finds its actor far behind
//! all that is left ([`spend_all`]); with the budget spent they wake the task and
//! return `Pending` instead, so it goes to the back of the run queue. Code that never touches a
//! runtime resource is not limited (it cannot be, without preemption).
//!
//! Polled by another executor (in no task, `block_on` or blocking closure of an actor12
//! runtime: a tokio task, say), the same futures spend that executor's budget instead: tokio's,
//! with the `tokio` feature ([`foreign`]).

use std::cell::Cell;
use std::task::Context;

/// Units per task poll (tokio uses the same number).
pub(crate) const BUDGET: u32 = 128;

/// Sends a unit pays for. A send is far cheaper than a timer's or a join handle's poll, and a
/// sender that yields often stops the batching that makes throughput: a unit a send made
/// envelope-style fork-join twice as slow (its sender yielded every 128 messages, each of its
/// 64 actors then ran for two), so a send spends a 64th: a loop of sends that always find room
/// yields after 8,192.
pub(crate) const SENDS_PER_UNIT: u32 = 64;

/// [`LEFT`] in no task, `block_on` or blocking closure of an actor12 runtime: the future is
/// polled by another executor, whose budget it spends ([`foreign`]).
const OUTSIDE: u32 = u32::MAX;

/// [`LEFT`] in a `block_on` or a blocking closure: no budget. Not [`OUTSIDE`]: a `block_on`
/// inside a tokio task that spent tokio's budget would wait for a wake tokio defers to that
/// task's next turn, which never comes while it blocks.
const UNLIMITED: u32 = u32::MAX - 1;

thread_local! {
    /// What is left, in sends (`SENDS_PER_UNIT` a unit), or [`OUTSIDE`] or [`UNLIMITED`].
    static LEFT: Cell<u32> = const { Cell::new(OUTSIDE) };
}

/// Starts a task poll with a full budget.
pub(crate) fn reset() {
    LEFT.with(|l| l.set(BUDGET * SENDS_PER_UNIT));
}

/// Spends one unit; false (after waking the task) if the budget is spent. Code in a `block_on`
/// or a blocking closure ([`unlimited`]) spends nothing, and code polled by another executor
/// spends its budget ([`foreign`]).
pub(crate) fn proceed(cx: &mut Context<'_>) -> bool {
    spend(cx, SENDS_PER_UNIT)
}

/// [`proceed`] for a message's send: a `SENDS_PER_UNIT`th of a unit.
#[inline(always)]
pub(crate) fn proceed_send(cx: &mut Context<'_>) -> bool {
    spend(cx, 1)
}

#[inline(always)]
fn spend(cx: &mut Context<'_>, cost: u32) -> bool {
    LEFT.with(|l| {
        let left = l.get();
        if left >= UNLIMITED {
            left == UNLIMITED || foreign(cx)
        } else if left < cost {
            refuse(cx);
            false
        } else {
            l.set(left - cost);
            true
        }
    })
}

/// Spends what is left of the budget: the task's next send, or poll of a join handle or timer,
/// gives its worker back. Outside a task, nothing.
pub(crate) fn spend_all() {
    LEFT.with(|l| {
        if l.get() < UNLIMITED {
            l.set(0);
        }
    });
}

/// A leaf future polled by another executor: it spends that executor's budget, one unit a
/// poll; false (the task's wake left to the executor) if it is spent. With the `tokio`
/// feature that is tokio's budget (`tokio::task::coop`), which tokio's own channels and
/// timers spend: a tokio task that looped on actor12 sends that found room, or on replies
/// already answered, never gave its tokio thread back, and the tasks, timers and sockets there
/// waited (a review of 2026-12-07: 12,948 asks in a row on a current-thread runtime). Without
/// the feature, nothing is spent.
#[inline]
pub(crate) fn foreign(cx: &mut Context<'_>) -> bool {
    #[cfg(feature = "tokio")]
    return match tokio::task::coop::poll_proceed(cx) {
        std::task::Poll::Ready(restore) => {
            restore.made_progress();
            true
        }
        std::task::Poll::Pending => false,
    };
    #[cfg(not(feature = "tokio"))]
    {
        let _ = cx;
        true
    }
}

/// [`foreign`] where the caller is polled by another executor; true elsewhere.
#[inline]
pub(crate) fn proceed_foreign(cx: &mut Context<'_>) -> bool {
    LEFT.with(Cell::get) != OUTSIDE || foreign(cx)
}

/// The budget is spent: the task is woken, to run again from the back of the queue.
#[cold]
fn refuse(cx: &mut Context<'_>) {
    if !crate::task::core::try_fast_yield(cx.waker()) {
        cx.waker().wake_by_ref();
    }
}

/// True while a timer's or a join handle's poll would be let through: in a task with a unit
/// left, in a `block_on` or blocking closure, and in another executor's task with its budget
/// left (tokio's, with the `tokio` feature).
pub(crate) fn has_budget() -> bool {
    #[cfg(feature = "tokio")]
    if LEFT.with(Cell::get) == OUTSIDE {
        return tokio::task::coop::has_budget_remaining();
    }
    !spent()
}

/// True if the budget is spent, as far as a timer or a join handle is concerned (never
/// outside a task).
pub(crate) fn spent() -> bool {
    LEFT.with(|l| l.get() < SENDS_PER_UNIT)
}

/// Leaves the budget unlimited, for code polled outside a task (`block_on`, a blocking
/// closure).
pub(crate) fn unlimited() {
    LEFT.with(|l| l.set(UNLIMITED));
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
            assert!(proceed_send(&mut cx), "a plain thread ran out of budget");
        }
        assert_eq!(LEFT.with(Cell::get), UNLIMITED, "unlimited spends nothing");
    }
}
