//! The `scheduler` group: actor12's runtime against tokio's multi-threaded runtime, both with 2
//! workers.
//!
//! Each workload is written once over [`Rt`] and instantiated for both runtimes; the waker-based
//! handoff of `ping_pong` is one type over `std::task::Waker`, so both runtimes run the same code.
//!
//! | workload | one iteration |
//! |---|---|
//! | `spawn_many` | one task spawns 100,000 empty tasks and awaits them all |
//! | `yield_many` | 1,000 tasks each yield 1,000 times |
//! | `chained_spawn` | each task spawns the next, 100,000 deep |
//! | `ping_pong` | two tasks wake each other 100,000 times through a one-slot handoff |
//! | `timer_arm_cancel` | arm and cancel 100,000 timeouts that never fire |

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, mpsc};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use crate::Bench;

/// Tasks of `spawn_many`, depth of `chained_spawn`, round trips of `ping_pong`, timers of
/// `timer_arm_cancel`.
pub const N: u64 = 100_000;
/// Tasks of `yield_many`.
pub const YIELD_TASKS: u64 = 1_000;
/// Yields per task in `yield_many`.
pub const YIELDS: u64 = 1_000;

/// What a workload needs from a runtime.
pub trait Rt: 'static {
    /// The column name in reports.
    const NAME: &'static str;
    /// Runs `f` to completion from the bench thread.
    fn block_on<F: Future + Send + 'static>(f: F) -> F::Output
    where
        F::Output: Send + 'static;
    /// Spawns on the current runtime (called inside it); the returned future awaits the task.
    fn spawn<F: Future<Output = ()> + Send + 'static>(
        f: F,
    ) -> impl Future<Output = ()> + Send + 'static;
    /// Gives the worker to other tasks once.
    fn yield_now() -> impl Future<Output = ()> + Send;
    /// Polls a timeout of one hour around a never-ready future once (arming its timer), then
    /// drops it (cancelling the timer).
    fn arm_and_cancel() -> impl Future<Output = ()> + Send;
}

/// actor12's runtime.
#[derive(Debug)]
pub enum Actor12 {}

/// tokio's multi-threaded runtime.
#[derive(Debug)]
pub enum Tokio {}

fn actor12_rt() -> &'static actor12_scheduler::Runtime {
    static RT: OnceLock<actor12_scheduler::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        actor12_scheduler::Runtime::builder().worker_threads(crate::workers()).build().unwrap()
    })
}

fn tokio_rt() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(crate::workers())
            .enable_time()
            .build()
            .unwrap()
    })
}

/// Polls `f` once with the current task's context, then drops it.
async fn poll_once_then_drop<F: Future>(f: F) {
    let mut f = pin!(f);
    std::future::poll_fn(|cx| {
        assert!(f.as_mut().poll(cx).is_pending());
        Poll::Ready(())
    })
    .await
}

impl Rt for Actor12 {
    const NAME: &'static str = "actor12";

    fn block_on<F: Future + Send + 'static>(f: F) -> F::Output
    where
        F::Output: Send + 'static,
    {
        // Run the workload as a task, so that its spawns take the worker's path.
        let rt = actor12_rt();
        rt.block_on(rt.spawn(f)).unwrap()
    }

    fn spawn<F: Future<Output = ()> + Send + 'static>(
        f: F,
    ) -> impl Future<Output = ()> + Send + 'static {
        let h = actor12_scheduler::spawn(f);
        async move { h.await.unwrap() }
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        actor12_scheduler::yield_now()
    }

    fn arm_and_cancel() -> impl Future<Output = ()> + Send {
        poll_once_then_drop(actor12_scheduler::time::timeout(
            Duration::from_secs(3600),
            std::future::pending::<()>(),
        ))
    }
}

impl Rt for Tokio {
    const NAME: &'static str = "tokio";

    fn block_on<F: Future + Send + 'static>(f: F) -> F::Output
    where
        F::Output: Send + 'static,
    {
        let rt = tokio_rt();
        rt.block_on(rt.spawn(f)).unwrap()
    }

    fn spawn<F: Future<Output = ()> + Send + 'static>(
        f: F,
    ) -> impl Future<Output = ()> + Send + 'static {
        let h = tokio::spawn(f);
        async move { h.await.unwrap() }
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn arm_and_cancel() -> impl Future<Output = ()> + Send {
        poll_once_then_drop(tokio::time::timeout(
            Duration::from_secs(3600),
            std::future::pending::<()>(),
        ))
    }
}

/// `iters` rounds of: one task spawns [`N`] empty tasks and awaits them all.
pub fn spawn_many<R: Rt>(iters: u64) -> Duration {
    R::block_on(async move {
        let start = Instant::now();
        for _ in 0..iters {
            let handles: Vec<_> = (0..N).map(|_| R::spawn(async {})).collect();
            for h in handles {
                h.await;
            }
        }
        start.elapsed()
    })
}

/// `iters` rounds of: [`YIELD_TASKS`] tasks each yield [`YIELDS`] times.
pub fn yield_many<R: Rt>(iters: u64) -> Duration {
    R::block_on(async move {
        let start = Instant::now();
        for _ in 0..iters {
            let handles: Vec<_> = (0..YIELD_TASKS)
                .map(|_| {
                    R::spawn(async {
                        for _ in 0..YIELDS {
                            R::yield_now().await;
                        }
                    })
                })
                .collect();
            for h in handles {
                h.await;
            }
        }
        start.elapsed()
    })
}

// Not an `async fn`: it spawns itself, and a recursive `async fn` has an opaque type the
// compiler cannot prove `Send`.
#[allow(clippy::manual_async_fn)]
fn chain<R: Rt>(
    left: u64,
    done: mpsc::SyncSender<()>,
) -> impl Future<Output = ()> + Send + 'static {
    async move {
        if left == 0 {
            done.send(()).unwrap();
        } else {
            drop(R::spawn(chain::<R>(left - 1, done)));
        }
    }
}

/// `iters` rounds of: each task spawns the next, [`N`] deep; the last one signals the bench
/// thread.
pub fn chained_spawn<R: Rt>(iters: u64) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let (tx, rx) = mpsc::sync_channel(1);
        let start = Instant::now();
        R::block_on(async move { drop(R::spawn(chain::<R>(N, tx))) });
        rx.recv().unwrap();
        total += start.elapsed();
    }
    total
}

/// A one-slot handoff between two tasks, written once over `std::task::Waker`: `turn` says whose
/// move it is; each side parks its waker in its own slot.
#[derive(Debug, Default)]
struct Handoff {
    turn: AtomicUsize,
    wakers: [Mutex<Option<Waker>>; 2],
}

impl Handoff {
    /// Waits until it is `me`'s turn.
    fn wait(&self, me: usize) -> impl Future<Output = ()> + '_ {
        std::future::poll_fn(move |cx| {
            // Acquire: pairs with the release in `pass`.
            if self.turn.load(Ordering::Acquire) == me {
                return Poll::Ready(());
            }
            {
                let mut slot = self.wakers[me].lock().unwrap();
                if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *slot = Some(cx.waker().clone());
                }
            }
            if self.turn.load(Ordering::Acquire) == me { Poll::Ready(()) } else { Poll::Pending }
        })
    }

    /// Gives the turn to the other side and wakes it.
    fn pass(&self, me: usize) {
        let other = 1 - me;
        // Release: pairs with the acquire in `wait`.
        self.turn.store(other, Ordering::Release);
        let w = self.wakers[other].lock().unwrap().take();
        if let Some(w) = w {
            w.wake();
        }
    }
}

/// `iters` rounds of: two tasks pass the turn back and forth [`N`] times (each round trip is two
/// wake-ups).
pub fn ping_pong<R: Rt>(iters: u64) -> Duration {
    R::block_on(async move {
        let start = Instant::now();
        for _ in 0..iters {
            let h = Arc::new(Handoff::default());
            let players: Vec<_> = (0..2)
                .map(|me| {
                    let h = h.clone();
                    R::spawn(async move {
                        for _ in 0..N {
                            h.wait(me).await;
                            h.pass(me);
                        }
                    })
                })
                .collect();
            for p in players {
                p.await;
            }
        }
        start.elapsed()
    })
}

/// Timers armed between two yields in `timer_arm_cancel`: under both runtimes' cooperative
/// budget (128 per task poll), so that every poll really arms its timer instead of finding the
/// budget spent.
const ARMS_PER_YIELD: u64 = 100;

/// `iters` rounds of: arm and cancel [`N`] timeouts that never fire.
pub fn timer_arm_cancel<R: Rt>(iters: u64) -> Duration {
    R::block_on(async move {
        let start = Instant::now();
        for i in 0..iters * N {
            R::arm_and_cancel().await;
            if i % ARMS_PER_YIELD == ARMS_PER_YIELD - 1 {
                R::yield_now().await;
            }
        }
        start.elapsed()
    })
}

/// A scheduler benchmark: one timed iteration per run (each moves `ops` operations).
fn bench(workload: &'static str, imp: &'static str, ops: u64, run: fn(u64) -> Duration) -> Bench {
    Bench { group: "scheduler", workload, imp, messages_per_iter: ops, iters_per_run: 1, run }
}

fn for_rt<R: Rt>() -> Vec<Bench> {
    vec![
        bench("spawn_many", R::NAME, N, spawn_many::<R>),
        bench("yield_many", R::NAME, YIELD_TASKS * YIELDS, yield_many::<R>),
        bench("chained_spawn", R::NAME, N, chained_spawn::<R>),
        bench("ping_pong", R::NAME, N, ping_pong::<R>),
        bench("timer_arm_cancel", R::NAME, N, timer_arm_cancel::<R>),
    ]
}

/// Every benchmark of the group, actor12 then tokio for each workload.
pub fn benches() -> Vec<Bench> {
    let (a, t) = (for_rt::<Actor12>(), for_rt::<Tokio>());
    a.into_iter().zip(t).flat_map(|(a, t)| [a, t]).collect()
}
