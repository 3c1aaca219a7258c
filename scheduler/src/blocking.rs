//! The blocking pool: threads for closures that block (file I/O, locks, CPU-heavy work), so that
//! they never hold up a worker.
//!
//! A blocking closure is a future task that completes on its first poll; it is queued here
//! instead of on a worker, so it has the same `JoinHandle` and `JoinError` as any task. Threads are
//! started on demand up to a cap and leave after a while without work (the keep-alive). A closure
//! wakes the thread that went idle last, so that under a light load the same few threads take
//! every closure and the others leave. Shutdown cancels closures that have not started, and
//! waits (up to its timeout) for those that have.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::JoinHandle;
use crate::loom::{AtomicBool, Condvar, Ordering::Relaxed, StdMutex, StdMutexGuard, thread};
use crate::runtime::{Handle, ThreadStart, run_thread_start};
use crate::task::{Header, Schedule, TaskRef};
use crate::worker::Shared;

/// How long an idle thread waits for work before it leaves, unless the runtime's builder says
/// otherwise (`Builder::thread_keep_alive`).
pub(crate) const DEFAULT_KEEP_ALIVE: Duration = Duration::from_secs(10);

thread_local! {
    /// The pool whose thread this is, if any.
    static POOL_THREAD: std::cell::Cell<*const Inner> = const { std::cell::Cell::new(std::ptr::null()) };
}

/// A pool thread's wait for work: a condvar of its own, so that a spawn wakes the thread it
/// chose, not the one the OS would (`notify_one` on a shared condvar wakes the longest waiter on
/// Linux, so idle threads took closures in turn, each restarting its keep-alive: after a burst,
/// a trickle of closures kept every thread of the burst for good; a review of 2026-12-07,
/// `a_trickle_after_a_burst_lets_the_bursts_surplus_threads_leave`).
struct Sleeper {
    wake: Condvar,
    /// Taken off the idle stack and notified, by a spawn or by the shutdown: the thread must
    /// look at the queue and at `shutdown` before it waits again or leaves, timed out or not (a
    /// spawn counted on it and started no thread). Read and written only under the pool's
    /// lock, which orders it; an atomic only so that a `Sleeper` can be shared.
    woken: AtomicBool,
}

struct State {
    queue: VecDeque<TaskRef>,
    /// Idle threads that nothing has woken, the most recently idle last: a spawn takes the
    /// last one (LIFO), so that the threads a light load does not need stay idle and leave
    /// after their keep-alive. A thread is here from the moment it waits until it is woken or
    /// leaves, so no two spawns count on one thread.
    idle: Vec<Arc<Sleeper>>,
    threads: usize,
    shutdown: bool,
    handles: Vec<thread::JoinHandle<()>>,
    next_id: usize,
    /// Every thread's sleeper, those woken and not yet awake too: the models' expiry of the
    /// keep-alive reaches every wait in progress (`expire_keep_alive`).
    #[cfg(actor12_loom)]
    sleepers: Vec<Arc<Sleeper>>,
}

struct Inner {
    state: StdMutex<State>,
    exited: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    name: String,
    /// Each thread's stack (`Builder::thread_stack_size`); `None`: the standard library's.
    stack_size: Option<usize>,
    on_start: Option<ThreadStart>,
    /// Tests: starting a thread fails, as when the OS refuses one.
    #[cfg(test)]
    fail_starts: bool,
}

/// See the module documentation.
#[derive(Clone)]
pub(crate) struct Pool(Arc<Inner>);

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("max_threads", &self.0.max_threads).finish_non_exhaustive()
    }
}

/// A blocking task's runtime, held weakly: the runtime owns the queue the task waits in, so a
/// strong count here would be a cycle until the shutdown drained it.
struct BlockingSchedule(Weak<Shared>);

impl Schedule for BlockingSchedule {
    fn schedule(&self, _task: TaskRef) {
        unreachable!("a blocking task completes on its first poll and is never woken");
    }

    fn release(&self, _task: std::ptr::NonNull<Header>) -> Option<TaskRef> {
        None
    }

    fn bind(&self, _task: TaskRef) -> Result<(), TaskRef> {
        unreachable!("a blocking task completes on its first poll");
    }

    /// An abort of a closure still queued drops it on the aborting thread: inside the
    /// closure's runtime, as its destructors would find it on a pool thread (`spawn`,
    /// `Handle::current`). A runtime already gone has nothing to enter.
    fn enter_for_abort(&self) -> Option<crate::context::Entered> {
        let shared = self.0.upgrade()?;
        if crate::context::current().is_some_and(|h| Arc::ptr_eq(&h.shared, &shared)) {
            return None;
        }
        Some(crate::context::Entered::new(Handle { shared }))
    }

    type Here = ();
}

/// A closure as a future that completes on its first poll.
struct BlockingTask<F>(Option<F>);

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self.0.take().expect("blocking task polled twice");
        crate::coop::unlimited();
        Poll::Ready(f())
    }
}

impl Pool {
    pub(crate) fn new(
        name: String,
        stack_size: Option<usize>,
        max_threads: usize,
        keep_alive: Duration,
        on_start: Option<ThreadStart>,
    ) -> Pool {
        Pool(Arc::new(Inner {
            state: StdMutex::new(State {
                queue: VecDeque::new(),
                idle: Vec::new(),
                threads: 0,
                shutdown: false,
                handles: Vec::new(),
                next_id: 0,
                #[cfg(actor12_loom)]
                sleepers: Vec::new(),
            }),
            exited: Condvar::new(),
            max_threads,
            keep_alive,
            name,
            stack_size,
            on_start,
            #[cfg(test)]
            fail_starts: false,
        }))
    }

    fn lock(&self) -> StdMutexGuard<'_, State> {
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on a pool thread.
    pub(crate) fn spawn<F, R>(&self, handle: &Handle, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.spawn_with(Arc::downgrade(&handle.shared), f, |pool, id| pool.start_thread(id, handle))
    }

    /// [`spawn`](Self::spawn) for the closure's runtime `runtime`, with `start` starting a pool
    /// thread (the loom models start one that runs [`work`](Self::work) alone).
    pub(crate) fn spawn_with<F, R>(
        &self,
        runtime: Weak<Shared>,
        f: F,
        start: impl FnOnce(&Pool, usize) -> std::io::Result<thread::JoinHandle<()>>,
    ) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        // Two references: the queue's and the join handle's.
        let schedule = BlockingSchedule(runtime);
        let ptr = crate::task::core::new_task(BlockingTask(Some(f)), schedule, 2, None);
        // SAFETY: each of the two references goes to one owner.
        let (join, task) = unsafe { (JoinHandle::new(ptr), TaskRef::from_raw(ptr)) };
        let mut st = self.lock();
        if st.shutdown {
            drop(st);
            task.shutdown();
            return join;
        }
        st.queue.push_back(task);
        if let Some(sleeper) = st.idle.pop() {
            // The thread idle the shortest time. Off the stack, no later spawn counts on it.
            sleeper.woken.store(true, Relaxed);
            drop(st);
            // Outside the lock: the thread may have timed out meanwhile, taken a closure and
            // waited again; this wake is then a spurious one, which its wait sits out.
            sleeper.wake.notify_one();
        } else if st.threads < self.0.max_threads {
            st.threads += 1;
            let id = st.next_id;
            st.next_id += 1;
            match start(self, id) {
                Ok(h) => st.handles.push(h),
                // No thread: an existing one will get to it.
                Err(_) if st.threads > 1 => st.threads -= 1,
                // None at all: nobody would ever run it, and its awaiter would wait for good.
                // As tokio's `spawn_blocking` does, the caller panics; the closure, still last
                // in the queue (no thread has looked since it was pushed), is dropped unrun.
                Err(e) => {
                    st.threads -= 1;
                    let task = st.queue.pop_back().expect("the closure pushed above");
                    drop(st);
                    task.shutdown();
                    drop(join);
                    panic!("`spawn_blocking`: the OS refused a thread to run the closure on: {e}");
                }
            }
        }
        join
    }

    fn start_thread(&self, id: usize, handle: &Handle) -> std::io::Result<thread::JoinHandle<()>> {
        #[cfg(test)]
        if self.0.fail_starts {
            return Err(std::io::Error::other("refused by the test"));
        }
        let (pool, handle) = (self.clone(), handle.clone());
        let name = format!("{}-blocking-{id}", self.0.name);
        #[cfg(not(actor12_loom))]
        let builder = crate::runtime::thread_builder(name, self.0.stack_size);
        #[cfg(actor12_loom)]
        let builder = match self.0.stack_size {
            Some(size) => thread::Builder::new().name(name).stack_size(size),
            None => thread::Builder::new().name(name),
        };
        builder.spawn(move || pool.thread_main(handle))
    }

    fn thread_main(&self, handle: Handle) {
        let _enter = crate::context::enter(handle);
        // Marked the pool's before the hook: a shutdown the hook makes must not wait for this
        // thread (`Pool::shutdown`), which leaves only once the hook has returned.
        POOL_THREAD.with(|p| p.set(Arc::as_ptr(&self.0)));
        // Inside the runtime, as on the workers (`Builder::on_thread_start`).
        run_thread_start(self.0.on_start.as_ref());
        self.work();
    }

    /// A pool thread's loop: runs queued closures, waits for more up to the keep-alive, and
    /// leaves on shutdown or when the keep-alive passes with nothing queued.
    pub(crate) fn work(&self) {
        let me = Arc::new(Sleeper { wake: Condvar::new(), woken: AtomicBool::new(false) });
        let mut st = self.lock();
        #[cfg(actor12_loom)]
        st.sleepers.push(me.clone());
        loop {
            if let Some(task) = st.queue.pop_front() {
                // A burst of closures does not keep its queue's memory for good.
                crate::inject::shrink_after_pop(&mut st.queue);
                drop(st);
                let again = task.run();
                debug_assert!(again.is_none());
                st = self.lock();
                continue;
            }
            if st.shutdown {
                break;
            }
            st.idle.push(me.clone());
            // One keep-alive from now, however many spurious wake-ups come meanwhile: a wake
            // that came too late for its spawn (see `spawn_with`) restarts nothing. `None`: a
            // keep-alive too long for the clock, never reached.
            let deadline = Instant::now().checked_add(self.0.keep_alive);
            let mut timed_out = false;
            while !me.woken.load(Relaxed) && !timed_out {
                let wait = deadline
                    .map_or(self.0.keep_alive, |d| d.saturating_duration_since(Instant::now()));
                let (guard, res) =
                    me.wake.wait_timeout(st, wait).unwrap_or_else(|e| e.into_inner());
                st = guard;
                timed_out = res.timed_out();
            }
            if me.woken.swap(false, Relaxed) {
                // Woken by a spawn that counted on this thread, or by the shutdown, even if the
                // keep-alive passed meanwhile: look at the queue and at `shutdown` again.
                continue;
            }
            // The keep-alive passed and nothing woke this thread: it is still on the stack.
            let at = st.idle.iter().rposition(|s| Arc::ptr_eq(s, &me));
            st.idle.remove(at.expect("an idle thread nothing woke is on the idle stack"));
            if st.queue.is_empty() && !st.shutdown {
                // Leaving for good: drop (detach) this thread's own handle, or the handle of
                // every thread the pool ever started would pile up, each thread unjoined.
                let me = thread::current().id();
                st.handles.retain(|h| h.thread().id() != me);
                break;
            }
        }
        #[cfg(actor12_loom)]
        st.sleepers.retain(|s| !Arc::ptr_eq(s, &me));
        st.threads -= 1;
        drop(st);
        self.0.exited.notify_all();
    }

    /// Cancels queued closures and waits for running ones until `deadline`. True if every
    /// thread left.
    pub(crate) fn shutdown(&self, deadline: Instant) -> bool {
        let (queued, idle): (Vec<TaskRef>, _) = {
            let mut st = self.lock();
            st.shutdown = true;
            let idle = std::mem::take(&mut st.idle);
            for sleeper in &idle {
                sleeper.woken.store(true, Relaxed);
            }
            (st.queue.drain(..).collect(), idle)
        };
        // Every idle thread, off the stack, leaves; those a spawn woke find `shutdown` too.
        for sleeper in idle {
            sleeper.wake.notify_one();
        }
        for task in queued {
            task.shutdown();
        }
        // A closure that shuts its own runtime down runs on one of our threads: do not wait for
        // it, nor join it.
        let on_own_thread = POOL_THREAD.with(|p| std::ptr::eq(p.get(), Arc::as_ptr(&self.0)));
        let mut st = self.lock();
        while st.threads > usize::from(on_own_thread) {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st =
                self.0.exited.wait_timeout(st, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
        let handles = std::mem::take(&mut st.handles);
        drop(st);
        let me = thread::current().id();
        for h in handles {
            if h.thread().id() != me {
                let _ = h.join();
            }
        }
        true
    }
}

#[cfg(all(test, not(actor12_loom)))]
mod tests {
    use super::*;

    /// A closure whose pool could start no thread for it panics its caller, as tokio's does,
    /// and is dropped: it waited in the queue, its awaiter for good, until some later call
    /// started a thread (review of 2026-12-06).
    #[test]
    fn a_closure_no_thread_can_be_started_for_panics_its_caller_and_is_dropped() {
        let rt = crate::Runtime::builder().worker_threads(1).build().unwrap();
        let handle = rt.handle();
        let mut pool = Pool::new("refused".into(), None, 4, DEFAULT_KEEP_ALIVE, None);
        Arc::get_mut(&mut pool.0).expect("not shared yet").fail_starts = true;
        let dropped = Arc::new(std::sync::atomic::AtomicBool::new(false));
        struct SetOnDrop(Arc<std::sync::atomic::AtomicBool>);
        impl Drop for SetOnDrop {
            fn drop(&mut self) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let guard = SetOnDrop(dropped.clone());
        let refused = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            pool.spawn(&handle, move || drop(guard))
        }));
        let message = *refused.expect_err("no thread, no closure").downcast::<String>().unwrap();
        assert!(message.contains("refused by the test"), "{message}");
        assert!(dropped.load(std::sync::atomic::Ordering::SeqCst), "the closure was kept");
        assert!(pool.lock().queue.is_empty() && pool.lock().threads == 0);
        assert!(pool.shutdown(Instant::now() + Duration::from_secs(1)));
    }

    /// A thread that leaves after its keep-alive drops (detaches) its own join handle: the pool
    /// used to keep the handle of every thread it ever started, each thread unjoined.
    #[test]
    fn threads_that_leave_after_their_keep_alive_leave_no_handle_behind() {
        let rt = crate::Runtime::builder().worker_threads(1).build().unwrap();
        let handle = rt.handle();
        let pool = Pool::new("keep-alive".into(), None, 4, Duration::from_millis(1), None);
        for _round in 0..5 {
            // Four closures at once: four threads.
            let all = Arc::new(std::sync::Barrier::new(4));
            let joins: Vec<_> = (0..4)
                .map(|_| {
                    let all = all.clone();
                    pool.spawn(&handle, move || {
                        all.wait();
                    })
                })
                .collect();
            for join in joins {
                rt.block_on(join).unwrap();
            }
            // Each thread leaves after its keep-alive; a guard against a hang, not a timing
            // claim.
            let deadline = Instant::now() + Duration::from_secs(30);
            while pool.lock().threads > 0 {
                assert!(Instant::now() < deadline, "the threads never left");
                std::thread::yield_now();
            }
            assert_eq!(pool.lock().handles.len(), 0, "handles of threads that left are kept");
        }
        assert!(pool.shutdown(Instant::now() + Duration::from_secs(1)));
    }
}

#[cfg(actor12_loom)]
impl Pool {
    /// The keep-alive of every thread waiting now passes (see `crate::loom::Condvar::expire`):
    /// those on the idle stack, and those woken and not yet awake, as a timer would.
    pub(crate) fn expire_keep_alive(&self) {
        let st = self.lock();
        for sleeper in &st.sleepers {
            sleeper.wake.expire(&st);
        }
    }

    /// `(threads, idle, woken, queued, handles)`: `idle` the threads on the idle stack, `woken`
    /// those woken and not yet awake.
    pub(crate) fn counts(&self) -> (usize, usize, usize, usize, usize) {
        let st = self.lock();
        let woken = st.sleepers.iter().filter(|s| s.woken.load(Relaxed)).count();
        (st.threads, st.idle.len(), woken, st.queue.len(), st.handles.len())
    }
}
