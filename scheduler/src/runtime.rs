//! `Runtime`, its `Builder` and `Handle`, and the free functions that find the current runtime.

use std::future::Future;
use std::io;
use std::pin::pin;
use std::ptr::NonNull;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use crate::JoinHandle;
use crate::blocking;
use crate::park::Parker;
use crate::refs::RuntimeRef;
use crate::task::TaskRef;
use crate::worker::{Shared, TaskSchedule};

/// How long `Drop` waits for workers and blocking threads before it leaves them behind.
const DROP_TIMEOUT: Duration = Duration::from_secs(10);

/// A hook run on each thread a runtime starts ([`Builder::on_thread_start`]).
pub(crate) type ThreadStart = Arc<dyn Fn() + Send + Sync>;

/// Runs a thread's start hook, if any. A panicking hook is reported (by the panic hook) and the
/// thread runs anyway: a worker that never starts would strand its tasks and make every
/// shutdown wait its whole timeout, and a blocking thread would strand its closure.
pub(crate) fn run_thread_start(hook: Option<&ThreadStart>) {
    if let Some(f) = hook {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f()));
    }
}

/// A thread of a runtime: its name, and its stack size if the [`Builder`] set one.
pub(crate) fn thread_builder(name: String, stack_size: Option<usize>) -> std::thread::Builder {
    let thread = std::thread::Builder::new().name(name);
    match stack_size {
        Some(size) => thread.stack_size(size),
        None => thread,
    }
}

/// Configures and starts a [`Runtime`].
///
/// # Examples
///
/// ```
/// let rt = actor12_scheduler::Runtime::builder()
///     .worker_threads(2)
///     .thread_name("my-worker")
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
#[derive(Clone)]
pub struct Builder {
    workers: Option<usize>,
    pin: bool,
    name: String,
    stack_size: Option<usize>,
    max_blocking: usize,
    blocking_keep_alive: Duration,
    on_thread_start: Option<ThreadStart>,
    spin_before_park: Duration,
    /// Tests: the spawn of this worker's thread fails.
    #[cfg(test)]
    fail_spawn_at: Option<usize>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("workers", &self.workers)
            .field("pin", &self.pin)
            .field("name", &self.name)
            .field("stack_size", &self.stack_size)
            .field("max_blocking", &self.max_blocking)
            .field("blocking_keep_alive", &self.blocking_keep_alive)
            .field("on_thread_start", &self.on_thread_start.is_some())
            .field("spin_before_park", &self.spin_before_park)
            .finish()
    }
}

impl Builder {
    fn new() -> Builder {
        Builder {
            workers: None,
            pin: false,
            name: "actor12".into(),
            stack_size: None,
            max_blocking: 512,
            blocking_keep_alive: blocking::DEFAULT_KEEP_ALIVE,
            on_thread_start: None,
            spin_before_park: Duration::ZERO,
            #[cfg(test)]
            fail_spawn_at: None,
        }
    }

    /// Runs `f` on each thread the runtime starts, before it runs anything: every worker and
    /// every thread of the blocking pool. For entering another runtime's context (the tokio
    /// bridge does), setting thread-locals, or registering the thread with a profiler. It runs
    /// inside the runtime, as tokio's hook does: [`Handle::current`] is this runtime's, and a
    /// task spawned there runs on it. A hook that panics is reported by the panic hook, and its
    /// thread starts anyway. On a worker's thread it counts as on a worker
    /// ([`on_worker_thread`](crate::on_worker_thread)), so a `block_on` there panics: it would
    /// wait for tasks that the workers it holds up would run.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// static STARTED: AtomicUsize = AtomicUsize::new(0);
    /// let rt = actor12_scheduler::Runtime::builder()
    ///     .worker_threads(2)
    ///     .on_thread_start(|| {
    ///         STARTED.fetch_add(1, Ordering::SeqCst);
    ///     })
    ///     .build()
    ///     .unwrap();
    /// // Every worker has started once the runtime answers on each of them.
    /// for w in 0..2 {
    ///     rt.block_on(rt.handle().spawn_pinned(w, async {})).unwrap();
    /// }
    /// assert_eq!(STARTED.load(Ordering::SeqCst), 2);
    /// ```
    pub fn on_thread_start(&mut self, f: impl Fn() + Send + Sync + 'static) -> &mut Builder {
        self.on_thread_start = Some(Arc::new(f));
        self
    }

    /// Number of worker threads (default: one per core, at most 65,534).
    ///
    /// # Panics
    ///
    /// If `n` is zero, or above 65,534 (the most the scheduler counts).
    pub fn worker_threads(&mut self, n: usize) -> &mut Builder {
        assert!(n > 0, "a runtime needs at least one worker thread");
        let max = crate::idle::MAX_WORKERS;
        assert!(n <= max, "a runtime has at most {max} worker threads ({n} asked for)");
        self.workers = Some(n);
        self
    }

    /// Pins worker `i` to core `i` (modulo the number of cores). Where the OS refuses, the worker
    /// runs unpinned; [`Runtime::worker_cores`] reports what happened. The blocking pool's
    /// threads are not pinned: they may run on every core the thread calling `build` may.
    ///
    /// The runtime's threads start with the affinity of the thread calling `build`, and "the
    /// cores" here are that thread's: a runtime built on a pinned thread (in a task of another
    /// pinned runtime, say) runs every worker on that one core, pinned or not.
    pub fn pin_to_cores(&mut self, pin: bool) -> &mut Builder {
        self.pin = pin;
        self
    }

    /// Prefix of the runtime's thread names (default `actor12`): workers are `{name}-{index}`,
    /// blocking-pool threads `{name}-blocking-{n}`. A name with a NUL byte makes
    /// [`build`](Self::build) fail. Linux keeps the first 15 bytes of a thread's name for the
    /// OS's tools (`top -H`, `ps -L`, `perf`, gdb): keep the prefix short enough for the worker
    /// index to show there, as the default does.
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Builder {
        self.name = name.into();
        self
    }

    /// The stack size, in bytes, of each thread the runtime starts: its workers and its
    /// blocking pool's threads (default: the standard library's for a new thread, 2 MiB unless
    /// the `RUST_MIN_STACK` environment variable says otherwise).
    ///
    /// A handler's future lives in its actor's allocation, but each poll runs on its worker's
    /// stack, and a message is moved by value on its way from the mailbox to the handler (and
    /// a reply on its way back): in a debug build, where every layer keeps its own copy, a
    /// message of some tens of KiB can overflow 2 MiB (an idle actor whose message type is 64
    /// KiB does, on its first run). Box large payloads, or give the threads more stack.
    ///
    /// # Examples
    ///
    /// ```
    /// /// Uses four MiB of the stack: more than the default 2 MiB.
    /// fn deep() -> usize {
    ///     let buffer = std::hint::black_box([1u8; 4 << 20]);
    ///     buffer.iter().map(|&b| b as usize).sum()
    /// }
    ///
    /// let rt = actor12_scheduler::Runtime::builder()
    ///     .worker_threads(1)
    ///     .thread_stack_size(32 << 20)
    ///     .build()
    ///     .unwrap();
    /// let sum = rt.block_on(rt.spawn(async { deep() }));
    /// assert_eq!(sum.unwrap(), 4 << 20);
    /// ```
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Builder {
        self.stack_size = Some(bytes);
        self
    }

    /// How long an idle worker keeps looking for work before it sleeps (default: none, beyond a
    /// few microseconds of checks).
    ///
    /// A sleeping worker is woken by a system call, and on a machine whose idle cores doze (a VM's
    /// vCPU above all) it takes microseconds to tens of them to run again: a message from
    /// outside the runtime to an actor whose workers all sleep, an ask from a tokio task for
    /// one, waits that long before its handler starts. A worker that spins instead takes it at
    /// once. The price is a core kept busy (yielding to other threads every few checks) for as
    /// long as the spin lasts after each piece of work: for servers that trade CPU for latency,
    /// and that have a core for each worker. Timers that come due end the spin, as work does;
    /// so does the runtime's shutdown.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = actor12_scheduler::Runtime::builder()
    ///     .worker_threads(1)
    ///     .spin_before_park(Duration::from_millis(2))
    ///     .build()
    ///     .unwrap();
    /// // From outside the runtime: the worker may still be spinning when the task arrives.
    /// assert_eq!(rt.block_on(rt.spawn(async { 40 + 2 })).unwrap(), 42);
    /// ```
    pub fn spin_before_park(&mut self, spin: Duration) -> &mut Builder {
        self.spin_before_park = spin;
        self
    }

    /// Most threads of the blocking pool (default 512). With that many busy, closures wait in a
    /// queue (see [`spawn_blocking`](crate::spawn_blocking)).
    ///
    /// # Panics
    ///
    /// If `n` is zero: `spawn_blocking` would wait forever.
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Builder {
        assert!(n > 0, "a runtime needs at least one blocking thread");
        self.max_blocking = n;
        self
    }

    /// How long a thread of the blocking pool waits for another closure before it leaves
    /// (default 10 s). A closure spawned once every thread has left starts a new one.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = actor12_scheduler::Runtime::builder()
    ///     .worker_threads(1)
    ///     .thread_keep_alive(Duration::from_secs(60))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rt.block_on(rt.handle().spawn_blocking(|| 40 + 2)).unwrap(), 42);
    /// ```
    pub fn thread_keep_alive(&mut self, keep_alive: Duration) -> &mut Builder {
        self.blocking_keep_alive = keep_alive;
        self
    }

    /// Starts the runtime.
    ///
    /// # Errors
    ///
    /// If a thread cannot be started, or (`InvalidInput`) the
    /// [`thread_name`](Self::thread_name) has a NUL byte, which no thread name may have.
    pub fn build(&self) -> io::Result<Runtime> {
        // Checked before anything starts: `std::thread::Builder::spawn` panics on such a name,
        // which escaped `build` and leaked the runtime's shared state.
        if self.name.contains('\0') {
            let msg = "a runtime's thread name may not contain a NUL byte";
            return Err(io::Error::new(io::ErrorKind::InvalidInput, msg));
        }
        let workers = self
            .workers
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .min(crate::idle::MAX_WORKERS);
        // Blocking threads start on demand, from workers and from any thread that spawns
        // blocking work, with the affinity of the thread that starts them: they get this
        // thread's mask first, or they would share the core of the pinned worker, or of the
        // pinned user thread, that started them (and keep it for every later closure).
        let pool_start = match crate::affinity::Mask::current() {
            Some(mask) => {
                let user = self.on_thread_start.clone();
                let start: ThreadStart = Arc::new(move || {
                    mask.apply();
                    run_thread_start(user.as_ref());
                });
                Some(start)
            }
            None => self.on_thread_start.clone(),
        };
        let pool = blocking::Pool::new(
            self.name.clone(),
            self.stack_size,
            self.max_blocking,
            self.blocking_keep_alive,
            pool_start,
        );
        let (shared, locals) = Shared::new(workers, pool, self.spin_before_park);
        let cores =
            if self.pin { core_affinity::get_core_ids().unwrap_or_default() } else { Vec::new() };
        let mut threads = Vec::with_capacity(workers);
        // Each worker pins itself on its thread; a worker to pin holds a sender until it has
        // tried, so that `build` returns with `worker_cores` final.
        let (pin_tx, pinned) = std::sync::mpsc::channel::<()>();
        for (index, local) in locals.into_iter().enumerate() {
            let s = shared.clone();
            let core = if cores.is_empty() { None } else { Some(cores[index % cores.len()]) };
            let on_start = self.on_thread_start.clone();
            let pin_tx = core.map(|_| pin_tx.clone());
            #[cfg(test)]
            if self.fail_spawn_at == Some(index) {
                return Err(Runtime::abandon(shared, threads, io::Error::other("injected")));
            }
            let thread = thread_builder(format!("{}-{index}", self.name), self.stack_size);
            let spawned = thread.spawn(move || {
                if let Some(core) = core
                    && core_affinity::set_for_current(core)
                {
                    s.cores.lock().unwrap_or_else(|e| e.into_inner())[index] = Some(core.id);
                }
                drop(pin_tx);
                {
                    // The hook runs inside the runtime, as tokio's does: `Handle::current`
                    // and `spawn` there name this runtime.
                    // On a worker's thread already: a `block_on` there panics (the hook's
                    // panic is caught) instead of waiting for a task that only the workers
                    // it holds up could run.
                    let _enter = crate::context::enter(Handle { shared: s.clone() });
                    let _starting = crate::context::worker_starting();
                    run_thread_start(on_start.as_ref());
                }
                crate::worker::run(index, s, local)
            });
            match spawned {
                Ok(t) => threads.push(t),
                Err(e) => return Err(Runtime::abandon(shared, threads, e)),
            }
        }
        drop(pin_tx);
        // Disconnected once every worker to pin has tried (no message is ever sent).
        let _ = pinned.recv();
        Ok(Runtime { shared, threads, done: false })
    }
}

/// A work-stealing runtime: one worker thread per core, each with its own run queue and timer
/// wheel, and a pool for blocking calls.
///
/// Dropping it shuts it down: unfinished tasks are dropped (their destructors run) and its
/// threads are joined, waiting at most 10 seconds for them, as
/// [`shutdown_timeout`](Runtime::shutdown_timeout) with that limit; a thread still busy then is
/// left behind. Dropped inside one of its own tasks, it cannot wait for the worker
/// running that task: a thread of its own finishes the shutdown once that task's poll returns.
///
/// # Examples
///
/// ```
/// use actor12_scheduler::Runtime;
/// let rt = Runtime::new().unwrap();
/// let sum = rt.block_on(async {
///     let tasks: Vec<_> = (0..10u64).map(|i| actor12_scheduler::spawn(async move { i * i })).collect();
///     let mut sum = 0;
///     for t in tasks {
///         sum += t.await.unwrap();
///     }
///     sum
/// });
/// assert_eq!(sum, 285);
/// ```
#[derive(Debug)]
pub struct Runtime {
    shared: Arc<Shared>,
    threads: Vec<std::thread::JoinHandle<()>>,
    done: bool,
}

/// A cheap, cloneable reference to a runtime, usable from any thread.
///
/// # Examples
///
/// ```
/// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
/// let handle = rt.handle();
/// let t = std::thread::spawn(move || handle.spawn(async { 3 }));
/// let join = t.join().unwrap();
/// assert_eq!(rt.block_on(join).unwrap(), 3);
/// ```
#[derive(Debug, Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

impl Runtime {
    /// A runtime with one worker per core: per core the calling thread may run on (its
    /// affinity mask, which the runtime's threads start with), all of the machine's unless
    /// the thread was confined to fewer.
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A [`Builder`] to configure one.
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// A handle to this runtime.
    pub fn handle(&self) -> Handle {
        Handle { shared: self.shared.clone() }
    }

    /// Spawns a task on this runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
    /// assert_eq!(rt.block_on(rt.spawn(async { "hi" })).unwrap(), "hi");
    /// ```
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_on(&self.shared, future, None)
    }

    /// Runs `future` to completion on the current thread, which meanwhile counts as inside this
    /// runtime (`spawn`, `Handle::current` and timers use it).
    ///
    /// # Panics
    ///
    /// If called on a worker thread of any actor12 runtime: that would block the worker.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
    /// assert_eq!(rt.block_on(async { 7 }), 7);
    /// ```
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.handle().block_on(future)
    }

    /// Which core each worker was pinned to: `Some(core id)`, or `None` where pinning was not
    /// asked for or the OS refused it.
    pub fn worker_cores(&self) -> Vec<Option<usize>> {
        self.shared.cores.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Number of worker threads.
    pub fn num_workers(&self) -> usize {
        self.shared.num_workers()
    }

    /// Shuts down, waiting at most `timeout` for workers and blocking threads to stop.
    ///
    /// Every task that has not finished is cancelled: its future is dropped, exactly once, and
    /// its `JoinHandle` reports a cancelled [`JoinError`](crate::JoinError) (a panic one if the
    /// future's destructor panicked). A worker stuck in a task that never returns, or a blocking
    /// closure still running at the deadline, is left behind (detached) instead of hanging the
    /// caller; so are the tasks queued on that worker (spawned by the stuck task, or woken onto
    /// its queue): only that worker can reach them, and they are cancelled if it ever returns to
    /// its loop. Stuck means still in a poll at the deadline, however short that poll: with a
    /// deadline of a few milliseconds or zero, a worker merely busy is left behind the same way,
    /// and its tasks (an actor's, say) finish their cancellation a moment after this returns. Called inside one of the runtime's own tasks, it returns at once, and a thread
    /// of its own finishes the shutdown once that task's poll returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
    /// let handle = rt.spawn(std::future::pending::<()>());
    /// rt.shutdown_timeout(Duration::from_secs(1));
    /// assert!(handle.is_finished());
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        let _ = self.shutdown(timeout);
    }

    /// A `build` that failed to start worker `threads.len()`: stops the workers already started
    /// and returns `error`. The workers that never started count as exited, so that shutdown
    /// waits only for the others, which have no task and leave at once.
    fn abandon(
        shared: Arc<Shared>,
        threads: Vec<std::thread::JoinHandle<()>>,
        error: io::Error,
    ) -> io::Error {
        shared.workers_never_started(shared.num_workers() - threads.len());
        let mut rt = Runtime { shared, threads, done: false };
        let all_exited = rt.shutdown(DROP_TIMEOUT);
        debug_assert!(all_exited, "the started workers of a failed build did not stop");
        error
    }

    /// True if every worker left its loop before the deadline (and its thread was joined).
    ///
    /// Called on one of this runtime's own workers (a task dropping or shutting down its own
    /// runtime), it cannot wait for that worker, which returns to its loop only after the task's
    /// poll: a thread of its own does the shutdown then, and this returns false at once.
    fn shutdown(&mut self, timeout: Duration) -> bool {
        if std::mem::replace(&mut self.done, true) {
            return true;
        }
        let threads = std::mem::take(&mut self.threads);
        // Also where the worker is hidden: its loop is below us all the same (test
        // `a_runtime_dropped_on_its_own_hidden_worker_returns_at_once`).
        if crate::context::with_worker_thread(|c| c.is_some_and(|c| c.is_of(&self.shared))) {
            self.shared.begin_shutdown();
            let shared = self.shared.clone();
            let spawned = std::thread::Builder::new()
                .name("actor12-shutdown".into())
                .spawn(move || shut_down(&shared, threads, timeout));
            // Without a thread the workers still leave (the flag is set), but the tasks left in
            // the list and the queues are not cancelled until the process ends.
            let _ = spawned;
            return false;
        }
        shut_down(&self.shared, threads, timeout)
    }

    /// Tasks in the runtime's task list (for tests): unfinished tasks that have waited
    /// (returned `Pending`) at least once, and bound actors. A task spawned and not yet polled,
    /// or in its first poll, is not counted (`docs/design/scheduler.md`, section 2, rule 5).
    #[doc(hidden)]
    pub fn live_tasks(&self) -> usize {
        self.shared.owned.len()
    }
}

/// The shutdown's steps: stop the workers, wait for them until `timeout` from now, cancel the
/// tasks left in the task list and the queues, stop the blocking pool, join the workers. True
/// if every worker left in time.
fn shut_down(
    shared: &Arc<Shared>,
    threads: Vec<std::thread::JoinHandle<()>>,
    timeout: Duration,
) -> bool {
    let deadline = crate::time::after(timeout);
    shared.begin_shutdown();
    let all_exited = shared.wait_workers(deadline);
    // The tasks' destructors run inside this runtime, as those the workers drop do: a task
    // they spawn is cancelled at once instead of starting on another (the default) runtime, or
    // on the runtime whose worker this is (a runtime dropped in another's task), which comes
    // first otherwise.
    let _entered = crate::context::Entered::new(Handle { shared: shared.clone() });
    shared.owned.close_and_shutdown_all();
    shared.inject.close();
    for r in shared.remotes.iter() {
        r.pinned.close();
        // A worker that did not leave in time never takes in the timers armed through its
        // inbox (sleeps polled off the workers): they go to the fallback thread, as a leaving
        // worker's do (a worker that left closed its inbox, found empty here). A `block_on`
        // sleep sent to a worker stuck in a task waited for ever (a review of 2026-12-07).
        // Those it had filed in its own wheel stay with it: only its thread reaches them.
        for timer in r.timers.close() {
            timer.orphan();
        }
    }
    let _ = shared.blocking.shutdown(deadline);
    if all_exited {
        for t in threads {
            let _ = t.join();
        }
    }
    all_exited
}

impl Drop for Runtime {
    fn drop(&mut self) {
        let _ = self.shutdown(DROP_TIMEOUT);
        if self.shared.task_refs.close() {
            // SAFETY: the count reached zero with the owner's base (`refs.rs` rule 4): its one
            // release. `self.shared` is an `Arc` of its own, so `Shared` outlives this.
            unsafe { crate::refs::release_share(Arc::as_ptr(&self.shared)) };
        }
    }
}

/// Wakes a thread blocked in `block_on`.
struct ThreadWaker(Parker);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

impl Handle {
    /// The runtime of the current thread: the worker's, or the one entered by `block_on`.
    ///
    /// # Panics
    ///
    /// Outside any runtime; see [`try_current`](Self::try_current).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = actor12_scheduler::Runtime::builder().worker_threads(1).build().unwrap();
    /// rt.block_on(async {
    ///     let h = actor12_scheduler::Handle::current();
    ///     assert_eq!(h.spawn(async { 1 }).await.unwrap(), 1);
    /// });
    /// ```
    pub fn current() -> Handle {
        Handle::try_current().expect("`Handle::current` called outside an actor12 runtime")
    }

    /// The runtime of the current thread, if any.
    pub fn try_current() -> Option<Handle> {
        crate::context::current()
    }

    /// Spawns a task on this runtime, from any thread.
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_on(&self.shared, future, None)
    }

    /// Spawns a task that runs only on worker `worker` and is never stolen.
    ///
    /// # Panics
    ///
    /// If `worker` is not below the number of workers.
    pub fn spawn_pinned<F>(&self, worker: usize, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let n = self.shared.num_workers();
        assert!(worker < n, "spawn_pinned: worker {worker} does not exist (the runtime has {n})");
        spawn_on(&self.shared, future, Some(worker))
    }

    /// Runs `f` on this runtime's blocking pool.
    ///
    /// # Panics
    ///
    /// As [`spawn_blocking`](crate::spawn_blocking): if no thread can be started for `f`.
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.shared.blocking.spawn(self, f)
    }

    /// As [`Runtime::block_on`].
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        assert!(
            !crate::on_worker_thread(),
            "`block_on` called on a worker thread of an actor12 runtime: it would block the worker \
             and could deadlock it. Use `.await`, or `spawn_blocking` for blocking work."
        );
        let _enter = crate::context::enter(self.clone());
        let waker_state = Arc::new(ThreadWaker(Parker::new()));
        let waker = Waker::from(waker_state.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        // The caller's budget comes back after: a tokio task's, where the runtime's futures
        // spend tokio's budget again (`coop::foreign`).
        crate::coop::keep(|| {
            loop {
                crate::coop::unlimited();
                if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
                    return v;
                }
                waker_state.0.park(None);
            }
        })
    }

    /// Number of worker threads.
    pub fn num_workers(&self) -> usize {
        self.shared.num_workers()
    }

    /// The current runtime (inside one of its tasks, or inside its `block_on`), else the
    /// process-wide default runtime, started on first use with one worker per core (see
    /// [`configure_default`](crate::configure_default)): per core the thread that first uses
    /// it may run on, as [`Runtime::new`].
    pub fn current_or_default() -> Handle {
        current_or_default()
    }

    /// A [`TaskHandle`] to this runtime.
    #[doc(hidden)]
    pub fn task_handle(&self) -> TaskHandle {
        TaskHandle(RuntimeRef::new(&self.shared))
    }
}

/// Low-level API for the actor runtime: the reference to its runtime that an actor keeps, with
/// the calls the actor's scheduling needs. Made and dropped on one of the runtime's workers it
/// costs no atomic operation on the runtime's shared count (it comes from the worker's bank,
/// as a spawned task's does; `docs/design/scheduler.md` section 6); elsewhere it is an `Arc`
/// clone.
#[doc(hidden)]
#[derive(Clone)]
pub struct TaskHandle(RuntimeRef);

impl std::fmt::Debug for TaskHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskHandle").field("shared", &*self.0).finish()
    }
}

impl TaskHandle {
    /// As [`Handle::current_or_default`].
    pub fn current_or_default() -> TaskHandle {
        TaskHandle::try_current().unwrap_or_else(|| Handle::current_or_default().task_handle())
    }

    /// As [`Handle::try_current`].
    pub fn try_current() -> Option<TaskHandle> {
        let here = crate::context::with_core(|c| c.map(|c| TaskHandle(RuntimeRef::new(&c.shared))));
        here.or_else(|| Handle::try_current().map(|h| h.task_handle()))
    }

    /// A [`Handle`] to the same runtime.
    pub fn handle(&self) -> Handle {
        Handle { shared: self.0.to_arc() }
    }

    /// As [`Handle::spawn`].
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_with_ref(self.0.clone(), future, None)
    }

    /// Low-level API for the actor runtime: registers a task in the runtime's task list, so that
    /// shutdown calls its vtable's `shutdown` (once). `task` is the list's reference; it is given
    /// back if the runtime is shutting down, and the caller must then cancel the task itself.
    ///
    /// # Safety
    ///
    /// * The task is in no task list: not bound to this runtime already (checked: binding a task
    ///   twice to the same runtime panics), nor to another runtime (not checked).
    /// * It stays in the list until [`release_task`](Self::release_task) on a handle to this runtime (or
    ///   shutdown) takes it out; the list's reference keeps it alive meanwhile.
    /// * Its header's `owned` links are not touched by anything but this runtime's task list.
    pub unsafe fn bind_task(&self, task: TaskRef) -> Result<(), TaskRef> {
        self.0.owned.bind(task)
    }

    /// Low-level API for the actor runtime: removes a task from the task list (when it finishes),
    /// returning the list's reference, or `None` if it is not in the list (never bound, or already
    /// taken out by shutdown).
    ///
    /// # Safety
    ///
    /// * `task` points to a live task header: the caller holds a reference to it for the whole
    ///   call.
    /// * The task is not bound to another runtime's task list (its links would be read as this
    ///   list's and corrupt both).
    pub unsafe fn release_task(
        &self,
        task: std::ptr::NonNull<crate::task::Header>,
    ) -> Option<TaskRef> {
        self.0.owned.remove(task)
    }

    /// As [`task::schedule`](crate::task::schedule), but once the runtime shuts down the
    /// reference is handed back instead of dropped: for a task kind whose queued reference
    /// carries a duty (an actor's run token: its holder must tear the actor down, as nobody
    /// else can).
    #[inline]
    pub fn try_schedule(&self, task: TaskRef) -> Result<(), TaskRef> {
        let pinned = task.header().pinned();
        self.0.try_schedule(task, pinned)
    }

    /// Starts a new task that carries a duty, as an actor's run token does: runs its first run
    /// at once, on the caller's thread, if that is one of this runtime's workers that may run it
    /// (any, or the one it is pinned to) and no task started this way is running its first run
    /// there already; schedules it otherwise, as [`try_schedule`](Self::try_schedule) does, and
    /// hands the reference back once the runtime is shut down. A run that ends wanting to run
    /// again (it yielded, or spent its budget) is scheduled.
    ///
    /// Its first run then costs no queue, no steal and no wake-up, and runs on the core that has
    /// just written the task's memory; but the caller waits for it, and a panic that escapes
    /// the run (a task kind lets none of the task's own code's out) reaches the caller. actor12
    /// starts actors so.
    pub fn try_start(&self, task: TaskRef) -> Result<(), TaskRef> {
        let pinned = task.header().pinned();
        self.0.try_start(task, pinned)
    }
}

pub(crate) fn spawn_on<F>(
    shared: &Arc<Shared>,
    future: F,
    pinned: Option<usize>,
) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_with_ref(RuntimeRef::new(shared), future, pinned)
}

/// Spawns a task that keeps `runtime` as its reference to its runtime.
fn spawn_with_ref<F>(runtime: RuntimeRef, future: F, pinned: Option<usize>) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let shared = NonNull::from(&*runtime);
    // Two references: the first notification's and the join handle's. The task joins the task
    // list only if it ever returns `Pending` (`task/mod.rs` rule 5).
    let sched = TaskSchedule { shared: runtime, pinned };
    let ptr = crate::task::core::new_task(future, sched, 2, pinned);
    // SAFETY: each of the two references goes to exactly one owner.
    let (join, notified) = unsafe { (JoinHandle::new(ptr), TaskRef::from_raw(ptr)) };
    // SAFETY: the join handle keeps the task alive, and with it its reference to the runtime.
    unsafe { shared.as_ref() }.schedule_new(notified, pinned);
    join
}

static DEFAULT: OnceLock<Runtime> = OnceLock::new();
type Configure = Box<dyn Fn(&mut Builder) + Send + Sync>;
static CONFIGURE: OnceLock<Configure> = OnceLock::new();

/// Sets how the process-wide default runtime (the one `spawn` uses outside any runtime) is
/// built. Must be called before its first use; returns false if it is too late (the default
/// runtime exists, or another configuration was set first).
///
/// The default runtime is built by the thread that first uses it, as [`Runtime::new`] would be
/// there: first used on a thread pinned to one core, it has one worker, on that core. A
/// program that pins its threads sets the worker count here (`worker_threads`), or uses the
/// default runtime first from a thread that may run anywhere.
///
/// # Examples
///
/// ```
/// // Before anything spawned on the default runtime:
/// assert!(actor12_scheduler::configure_default(|b| {
///     b.thread_name("app-worker");
/// }));
/// let name = actor12_scheduler::Handle::current_or_default()
///     .block_on(actor12_scheduler::spawn(async { std::thread::current().name().map(String::from) }))
///     .unwrap();
/// assert!(name.unwrap().starts_with("app-worker"));
/// ```
pub fn configure_default(f: impl Fn(&mut Builder) + Send + Sync + 'static) -> bool {
    // The default runtime's start takes the slot (with no configuration, if none was set), so
    // a configuration set here is either applied by that start or refused. Checking whether the
    // runtime existed was racy: a start under way did not count yet, and a configuration set
    // meanwhile was accepted and never applied.
    CONFIGURE.set(Box::new(f)).is_ok()
}

/// The current runtime, or the process-wide default one (started on first use).
pub(crate) fn current_or_default() -> Handle {
    Handle::try_current().unwrap_or_else(|| {
        DEFAULT
            .get_or_init(|| {
                let mut builder = Runtime::builder();
                CONFIGURE.get_or_init(|| Box::new(|_| {}))(&mut builder);
                builder.build().expect("failed to start the default actor12 runtime")
            })
            .handle()
    })
}

#[cfg(all(test, not(actor12_loom)))]
mod tests {
    use super::*;

    /// Review finding 4: a `build` whose thread spawn fails after some workers started stops
    /// those workers without waiting for the ones that never started (before, it waited the
    /// whole drop timeout, and `abandon`'s assertion fails after it).
    #[test]
    fn a_failed_build_stops_the_started_workers_without_waiting_for_the_others() {
        let mut b = Builder::new();
        b.worker_threads(3);
        b.fail_spawn_at = Some(2);
        let err = b.build().unwrap_err();
        assert_eq!(err.to_string(), "injected");
    }

    /// Spawns `n` tasks from a worker (so that they take their runtime references from its
    /// bank, `refs.rs`) and returns their join handles, every task finished.
    fn finished_tasks_spawned_on_a_worker(rt: &Runtime, n: usize) -> Vec<JoinHandle<usize>> {
        rt.block_on(rt.spawn(async move {
            let tasks: Vec<_> = (0..n).map(|i| crate::spawn(async move { i })).collect();
            for t in &tasks {
                while !t.is_finished() {
                    crate::yield_now().await;
                }
            }
            tasks
        }))
        .unwrap()
    }

    /// `refs.rs` rule 4: the runtime's shared state is freed once the runtime is dropped and the
    /// last task is freed, and not before: tasks whose references came from a worker's bank keep
    /// it alive after the runtime and its workers are gone.
    #[test]
    fn the_last_task_freed_after_the_runtime_frees_its_shared_state() {
        let rt = Builder::new().worker_threads(2).build().unwrap();
        let shared = Arc::downgrade(&rt.shared);
        // More than two banks' worth, so that banks refill and give batches back.
        let tasks = finished_tasks_spawned_on_a_worker(&rt, 3 * crate::refs::BATCH + 7);
        drop(rt);
        assert!(shared.upgrade().is_some(), "freed while tasks still hold references");
        let mut tasks = tasks.into_iter();
        let last = tasks.next().unwrap();
        drop(tasks);
        assert!(shared.upgrade().is_some(), "freed while a task still holds a reference");
        drop(last);
        assert!(shared.upgrade().is_none(), "the last task's reference did not free it");
    }

    /// Rule 4 the other way: with every task freed on the workers, their banks come back when
    /// the workers leave, and dropping the runtime frees its shared state (nothing leaks).
    #[test]
    fn a_runtime_whose_tasks_are_all_freed_is_freed_when_dropped() {
        let rt = Builder::new().worker_threads(2).build().unwrap();
        let shared = Arc::downgrade(&rt.shared);
        let n = 3 * crate::refs::BATCH + 7;
        let sum = rt.block_on(rt.spawn(async move {
            let mut sum = 0;
            for t in (0..n).map(|i| crate::spawn(async move { i })).collect::<Vec<_>>() {
                sum += t.await.unwrap();
            }
            sum
        }));
        assert_eq!(sum.unwrap(), n * (n - 1) / 2);
        drop(rt);
        assert!(shared.upgrade().is_none(), "a reference to the runtime leaked");
    }
}
