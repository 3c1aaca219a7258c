//! actor12's runtime: a work-stealing, thread-per-core scheduler with a timer wheel per worker.
//!
//! * **Workers.** One OS thread per core (optionally pinned), each with a 1024-slot ring that
//!   idle workers steal half of, a LIFO slot for the task it woke last, and a timer wheel.
//!   Tasks spawned or woken on a worker start on it (idle workers may steal them, but not the
//!   one in its LIFO slot); pinned tasks never leave theirs.
//! * **Idle costs nothing.** Workers with nothing to do park; a spawn or wake from any thread
//!   unparks one, paying a syscall only if it really sleeps.
//! * **Tasks** have one state word (lifecycle, wake-up and reference count together), so a wake
//!   is one compare-and-swap, and a task is queued at most once however often it is woken. The
//!   same header can carry other kinds of scheduled units ([`task`]): actors run on it directly.
//! * **Timers** live in a hierarchical wheel per worker (6 levels x 64 slots, 1 ms): arming and
//!   cancelling are O(1) and lock-free on the worker.
//!
//! The protocols, and the loom models that check them, are described in
//! `docs/design/scheduler.md` and `docs/design/timer-wheel.md`.
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use actor12_scheduler::{Runtime, spawn, time};
//!
//! let rt = Runtime::builder().worker_threads(2).build().unwrap();
//! let out = rt.block_on(async {
//!     let a = spawn(async {
//!         time::sleep(Duration::from_millis(1)).await;
//!         20
//!     });
//!     let b = spawn(async { 22 });
//!     a.await.unwrap() + b.await.unwrap()
//! });
//! assert_eq!(out, 42);
//! ```
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![doc(test(attr(deny(warnings))))]

mod affinity;
mod blocking;
mod context;
mod coop;
mod idle;
mod inject;
mod loom;
mod park;
mod queue;
mod refs;
mod runtime;
pub mod task;
pub mod time;
mod worker;

#[cfg(actor12_loom)]
#[doc(hidden)]
pub mod loom_api;

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use runtime::{Builder, Handle, Runtime, TaskHandle, configure_default};
pub use task::join::{JoinError, JoinHandle};

/// Spawns a task on the current runtime: the worker's when called in a task, the one entered by
/// `block_on` otherwise, and outside any runtime a process-wide default runtime (one worker per
/// core, started on first use).
///
/// A task spawned on a worker starts on that worker; idle workers steal it if it waits, except
/// the last one the caller spawned or woke in its current poll: that one waits in the worker's
/// LIFO slot, which is not stolen, until the poll returns; so do the tasks (up to seven) that the
/// worker took from its queue together with the running one, to run after it. Nor is any other
/// task sure to be stolen: the look that decides whether to wake a parked worker for it is a
/// cheap hint, without the fence that would make it exact, and may miss that worker going to
/// sleep (then the task waits for its own worker). A task that spawns and then blocks or
/// computes for long holds the new tasks up (and deadlocks if it blocks waiting for one):
/// `.await` it, or put the long work in [`spawn_blocking`].
///
/// # Examples
///
/// ```
/// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
/// let n = rt.block_on(async { actor12_scheduler::spawn(async { 5 }).await.unwrap() });
/// assert_eq!(n, 5);
/// ```
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // On a worker: spawn through its runtime without cloning a handle first (the task takes the
    // one reference it keeps).
    let mut future = Some(future);
    if let Some(join) = context::with_core(|core| {
        core.map(|c| runtime::spawn_on(&c.shared, future.take().expect("taken once"), None))
    }) {
        return join;
    }
    let future = future.expect("not spawned on a worker");
    runtime::current_or_default().spawn(future)
}

/// Spawns a task that runs only on worker `worker` of the current runtime (see [`spawn`]) and
/// is never stolen.
///
/// # Panics
///
/// If the runtime has no worker `worker`.
///
/// # Examples
///
/// ```
/// let rt = actor12_scheduler::Runtime::builder().worker_threads(2).build().unwrap();
/// let on = rt.block_on(async {
///     actor12_scheduler::spawn_pinned(1, async { actor12_scheduler::current_worker() }).await.unwrap()
/// });
/// assert_eq!(on, Some(1));
/// ```
pub fn spawn_pinned<F>(worker: usize, future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    runtime::current_or_default().spawn_pinned(worker, future)
}

/// Runs a blocking closure on the current runtime's blocking pool (see [`spawn`] for which
/// runtime), keeping the workers free. With every thread of the pool busy
/// ([`Builder::max_blocking_threads`]), the closure waits in a queue for one: a closure that
/// waits (`Handle::block_on`) for another closure, or for a task that awaits one, can deadlock
/// a full pool.
///
/// # Panics
///
/// If the pool has no thread and the OS refuses to start one (the closure is dropped unrun), as
/// tokio's `spawn_blocking` does.
///
/// # Examples
///
/// ```
/// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
/// let n = rt.block_on(async {
///     actor12_scheduler::spawn_blocking(|| std::thread::sleep(std::time::Duration::from_millis(1)))
///         .await
///         .unwrap();
///     3
/// });
/// assert_eq!(n, 3);
/// ```
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    runtime::current_or_default().spawn_blocking(f)
}

/// The index of the worker running the caller, or `None` off the workers.
///
/// # Examples
///
/// ```
/// assert_eq!(actor12_scheduler::current_worker(), None);
/// ```
pub fn current_worker() -> Option<usize> {
    context::with_core(|core| core.map(|c| c.index))
}

/// True on a worker thread of any actor12 runtime: where blocking the thread (`block_on`, a
/// blocking receive) would block that worker's other tasks, and can deadlock them.
///
/// Unlike [`current_worker`], also true while the worker runs the destructors of another
/// runtime's tasks (that runtime dropped, or one of its tasks aborted, in the worker's task):
/// code there runs inside the other runtime, on this runtime's worker all the same; and in the
/// [`on_thread_start`](Builder::on_thread_start) hook on a worker's thread, before the worker
/// runs anything.
///
/// # Examples
///
/// ```
/// assert!(!actor12_scheduler::on_worker_thread());
/// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
/// assert!(rt.block_on(rt.spawn(async { actor12_scheduler::on_worker_thread() })).unwrap());
/// ```
#[inline]
pub fn on_worker_thread() -> bool {
    context::is_worker_thread()
}

/// Gives the worker to other tasks once: the task goes to the back of its worker's queue.
///
/// # Examples
///
/// ```
/// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
/// rt.block_on(async {
///     for _ in 0..3 {
///         actor12_scheduler::yield_now().await;
///     }
/// });
/// ```
pub async fn yield_now() {
    YieldNow(false).await
}

struct YieldNow(bool);

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        if !task::core::try_fast_yield(cx.waker()) {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}
